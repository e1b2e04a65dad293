/* main.c - the streamhost command line. */
#include "cfgvalue.h"
#include "config.h"
#include "exchange.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/* SIGINT/SIGTERM: the first asks the pipeline to stop (the run loop, the
 * retry loops and the watchdog, host/watchdog.h, see the flag); a second
 * one exits at once. */
static pipeline *volatile running;
static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
    (void)sig;
    if (++signals_seen > 1) {
        static const char msg[] = "\nsecond signal: exiting now without flushing\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(EXIT_RUNTIME);
    }
    if (running)
        running->stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: streamhost [--log-level LEVEL] COMMAND ...\n"
            "\n"
            "commands:\n"
            "  run CONFIG                 run the pipeline described in CONFIG (INI)\n"
            "  check CONFIG               validate CONFIG and its plugins; print every problem as FILE:LINE\n"
            "  plugins                    list the plugins found (name, kind, version, file)\n"
            "  plugins describe NAME      document every config key of plugin NAME\n"
            "                             (NAME may be kind-qualified: sink.file; 'streamhost' for [streamhost])\n"
            "\n"
            "options:\n"
            "  --log-level LEVEL          error, warn, info (default) or debug; overrides log.level\n"
            "  -q, --quiet                same as --log-level warn\n"
            "  --version                  print the version and ABI version\n"
            "  -h, --help                 this text\n"
            "\n"
            "exit codes: 0 ok, 1 runtime failure, 2 usage or config error\n"
            "environment: STREAMHOST_PLUGIN_PATH (colon-separated plugin directories)\n");
}

static void print_errors(sh_config *cfg)
{
    for (size_t i = 0; i < cfg->nerrors; i++)
        fprintf(stderr, "%s\n", cfg->errors[i]);
    if (cfg->nerrors)
        fprintf(stderr, "%zu problem%s in %s\n", cfg->nerrors, cfg->nerrors == 1 ? "" : "s", cfg->file);
}

static int load_config(const char *path, sh_config **cfgp, pipeline **plp)
{
    char err[1024];
    sh_config *cfg = config_load(path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return EXIT_USAGE;
    }
    pipeline *pl = pipeline_build(cfg, path);
    if (!pl) {
        print_errors(cfg);
        config_free(cfg);
        return EXIT_USAGE;
    }
    *cfgp = cfg;
    *plp = pl;
    return 0;
}

static int cmd_check(const char *path)
{
    sh_config *cfg;
    pipeline *pl;
    int rc = load_config(path, &cfg, &pl);
    if (rc)
        return rc;
    printf("%s: ok (%zu components)\n", path, pl->ninsts);
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        printf("  %-9s %-12s plugin %-10s %s\n", kind_name(in->kind), in->name, in->p->name, in->lp.path);
    }
    exchange_describe(pl, stdout);
    pipeline_free(pl);
    config_free(cfg);
    return 0;
}

static int cmd_run(const char *path, int level_forced)
{
    sh_config *cfg;
    pipeline *pl;
    int saved = sh_log_threshold;
    int rc = load_config(path, &cfg, &pl);
    if (rc)
        return rc;
    if (level_forced)
        sh_log_threshold = saved;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    running = pl;
    if (signals_seen) /* arrived while loading: running was not set yet */
        pl->stop_requested = 1;
    rc = pipeline_run(pl);
    running = NULL;
    pipeline_free(pl);
    config_free(cfg);
    metrics_free_all();
    return rc;
}

static void list_one(void *arg, const loaded_plugin *lp)
{
    (void)arg;
    printf("%-12s %-10s %-8s %s\n", lp->p->name, kind_name((int)lp->p->kind), lp->p->version ? lp->p->version : "-",
           lp->path);
}

static void list_bad(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "warning: %s\n", msg);
}

static void describe_keys(const sh_config_key *keys)
{
    for (const sh_config_key *k = keys; k && k->name; k++) {
        char name[96];
        snprintf(name, sizeof name, "%s%s", k->name, k->type == SH_CFG_PREFIX ? "*" : "");
        printf("  %-24s %-9s %-10s %s\n", name, k->type == SH_CFG_PREFIX ? "any" : sh_cfg_type_name(k->type),
               k->required ? "(required)" : k->default_value ? k->default_value : "-", k->doc ? k->doc : "");
    }
}

struct describe_arg {
    const char *name;
    int kind;
    int found;
};

static void describe_one(void *arg, const loaded_plugin *lp)
{
    struct describe_arg *d = arg;
    const sh_plugin *p = lp->p;
    char full[128];
    snprintf(full, sizeof full, "%s-%s", kind_name((int)p->kind), p->name);
    if (strcmp(d->name, p->name) != 0 && strcmp(d->name, full) != 0)
        return;
    if (d->kind && (int)p->kind != d->kind)
        return;
    if (d->found++)
        printf("\n");
    printf("%s (%s plugin, version %s)\n  %s\n  file: %s\n", p->name, kind_name((int)p->kind),
           p->version ? p->version : "-", p->description ? p->description : "", lp->path);
    printf("  config section: [%s.NAME]; common keys: plugin = %s%s\n", kind_name((int)p->kind), p->name,
           p->kind == SH_SOURCE ? "" : ", inputs = NAME[, NAME.OUTPUT...]");
    if (p->outputs && p->outputs[0]) {
        printf("  named outputs:");
        for (size_t i = 0; p->outputs[i]; i++)
            printf(" NAME.%s", p->outputs[i]);
        printf("\n");
    }
    printf("\n  %-24s %-9s %-10s %s\n", "KEY", "TYPE", "DEFAULT", "DESCRIPTION");
    describe_keys(p->config);
}

static int cmd_plugins(int argc, char **argv)
{
    char **dirs = loader_search_dirs(NULL, ".");
    int rc = 0;
    if (argc == 0) {
        printf("%-12s %-10s %-8s %s\n", "NAME", "KIND", "VERSION", "FILE");
        loader_each(dirs, list_one, list_bad, NULL);
    } else if (strcmp(argv[0], "describe") == 0 && argc == 2) {
        struct describe_arg d = {.name = argv[1]};
        const char *dot = strchr(argv[1], '.');
        char kind[16] = "";
        if (dot && (size_t)(dot - argv[1]) < sizeof kind) {
            memcpy(kind, argv[1], (size_t)(dot - argv[1]));
            for (int k = SH_SOURCE; k <= SH_SINK; k++)
                if (strcmp(kind, kind_name(k)) == 0) {
                    d.kind = k;
                    d.name = dot + 1;
                }
        }
        if (strcmp(d.name, "streamhost") == 0) {
            printf("[streamhost] (host settings)\n\n  %-24s %-9s %-10s %s\n", "KEY", "TYPE", "DEFAULT", "DESCRIPTION");
            describe_keys(sh_host_config);
            printf("\n[kafka]: any librdkafka property (bootstrap.servers = embedded starts the in-process broker;\n"
                   "  embedded.partitions = N sets its partitions per topic, default 4)\n");
        } else {
            loader_each(dirs, describe_one, list_bad, &d);
            if (!d.found) {
                fprintf(stderr, "no plugin named '%s' (run `streamhost plugins` for the list)\n", argv[1]);
                rc = EXIT_USAGE;
            }
        }
    } else {
        usage(stderr);
        rc = EXIT_USAGE;
    }
    loader_free_dirs(dirs);
    return rc;
}

int main(int argc, char **argv)
{
    int i = 1, level_forced = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--version")) {
            printf("streamhost %s (plugin ABI %u)\n", SH_VERSION, SH_ABI_VERSION);
            return 0;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            sh_log_set_level(SH_LOG_WARN);
            level_forced = 1;
        } else if (!strcmp(a, "--log-level") || !strncmp(a, "--log-level=", 12)) {
            const char *v = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : "");
            int l = sh_log_parse_level(v);
            if (l < 0) {
                fprintf(stderr, "streamhost: --log-level '%s' is not one of error, warn, info, debug\n", v);
                return EXIT_USAGE;
            }
            sh_log_set_level(l);
            level_forced = 1;
        } else {
            fprintf(stderr, "streamhost: unknown option '%s' (see --help)\n", a);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[i++];
    if (!strcmp(cmd, "run") || !strcmp(cmd, "check")) {
        if (argc - i != 1) {
            fprintf(stderr, "usage: streamhost %s CONFIG\n", cmd);
            return EXIT_USAGE;
        }
        return !strcmp(cmd, "run") ? cmd_run(argv[i], level_forced) : cmd_check(argv[i]);
    }
    if (!strcmp(cmd, "plugins"))
        return cmd_plugins(argc - i, argv + i);
    fprintf(stderr, "streamhost: unknown command '%s' (see --help)\n", cmd);
    return EXIT_USAGE;
}
