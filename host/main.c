/* main.c - the streamhost command line. */
#include "cfgvalue.h"
#include "config.h"
#include "exchange.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "pipeline_build.h"
#include "scaffold.h"
#include "settings.h"

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
            "  run CONFIG [OVERLAY...]    run the pipeline described in CONFIG (INI), with each OVERLAY\n"
            "                             merged over it in order\n"
            "  check CONFIG [OVERLAY...]  validate the merged config and its plugins; print every problem\n"
            "                             as FILE:LINE of the file it is in\n"
            "  config CONFIG [OVERLAY...] print the merged config, each key with the FILE:LINE it came from\n"
            "                             (reads back as the same config; secrets from the environment redacted)\n"
            "  plugins                    list the plugins found (name, kind, version, file)\n"
            "  plugins describe NAME      document every config key of plugin NAME\n"
            "                             (NAME may be kind-qualified: sink.file; 'streamhost' for [streamhost])\n"
            "  new KIND NAME              write a plugin folder NAME/ (source, test, README, Makefile) that\n"
            "                             builds out of tree with the installed header and test kit\n"
            "\n"
            "overlays: a later file adds sections and overrides keys of earlier ones; a section whose\n"
            "  plugin changes is replaced whole (but its inputs); plugin = none removes a section\n"
            "  (docs/configuration.md). Example: streamhost run conf/clickstream.ini conf/env/dev.ini\n"
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
    char label[4096];
    for (size_t i = 0; i < cfg->nerrors; i++)
        fprintf(stderr, "%s\n", cfg->errors[i]);
    if (cfg->nerrors)
        fprintf(stderr, "%zu problem%s in %s\n", cfg->nerrors, cfg->nerrors == 1 ? "" : "s",
                config_label(cfg, label, sizeof label));
}

/* Reads and merges the files; NULL (after printing why) if one cannot be
 * read. */
static sh_config *read_config(char **paths, size_t n)
{
    char err[1024];
    sh_config *cfg = config_load_files((const char *const *)paths, n, err, sizeof err);
    if (!cfg)
        fprintf(stderr, "%s\n", err);
    else
        config_warn_exposed_secrets(cfg);
    return cfg;
}

static int load_config(char **paths, size_t n, sh_config **cfgp, pipeline **plp)
{
    sh_config *cfg = read_config(paths, n);
    if (!cfg)
        return EXIT_USAGE;
    /* plugin.path is relative to the file that sets it */
    cfg_section *hs = config_section(cfg, SEC_HOST, NULL);
    cfg_kv *pp = hs ? config_kv(hs, "plugin.path") : NULL;
    pipeline *pl = pipeline_build(cfg, pp ? config_file_of(cfg, pp->line) : paths[0]);
    if (!pl) {
        print_errors(cfg);
        config_free(cfg);
        return EXIT_USAGE;
    }
    *cfgp = cfg;
    *plp = pl;
    return 0;
}

static int cmd_check(char **paths, size_t n)
{
    sh_config *cfg;
    pipeline *pl;
    char label[4096];
    int rc = load_config(paths, n, &cfg, &pl);
    if (rc)
        return rc;
    printf("%s: ok (%zu components)\n", config_label(cfg, label, sizeof label), pl->ninsts);
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        printf("  %-9s %-12s plugin %-10s %s\n", kind_name(in->kind), in->name, in->p->name, in->lp.path);
    }
    exchange_describe(pl, stdout);
    pipeline_free(pl);
    config_free(cfg);
    return 0;
}

/* `streamhost config FILES...`: the merged result, without loading plugins
 * (`check` validates it). */
static int cmd_config(char **paths, size_t n)
{
    sh_config *cfg = read_config(paths, n);
    if (!cfg)
        return EXIT_USAGE;
    if (cfg->nerrors) {
        print_errors(cfg);
        config_free(cfg);
        return EXIT_USAGE;
    }
    int rc = config_print(cfg, stdout) == 0 ? 0 : EXIT_RUNTIME;
    if (rc)
        fprintf(stderr, "streamhost config: cannot write the output\n");
    config_free(cfg);
    return rc;
}

static int cmd_run(char **paths, size_t n, int level_forced)
{
    sh_config *cfg;
    pipeline *pl;
    int saved = sh_log_threshold;
    int rc = load_config(paths, n, &cfg, &pl);
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
            kafka_print_version(stdout); /* librdkafka in use (docs/security.md) */
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
    if (!strcmp(cmd, "run") || !strcmp(cmd, "check") || !strcmp(cmd, "config")) {
        size_t n = (size_t)(argc - i);
        if (n < 1 || n > SH_CONFIG_MAX_FILES) {
            fprintf(stderr, "usage: streamhost %s CONFIG [OVERLAY...] (at most %d files; see --help)\n", cmd,
                    SH_CONFIG_MAX_FILES);
            return EXIT_USAGE;
        }
        for (int a = i; a < argc; a++)
            if (argv[a][0] == '-' && argv[a][1]) {
                fprintf(stderr, "streamhost %s: '%s' is not a config file (options go before the command: see --help)\n",
                        cmd, argv[a]);
                return EXIT_USAGE;
            }
        if (!strcmp(cmd, "run"))
            return cmd_run(argv + i, n, level_forced);
        return !strcmp(cmd, "check") ? cmd_check(argv + i, n) : cmd_config(argv + i, n);
    }
    if (!strcmp(cmd, "plugins"))
        return cmd_plugins(argc - i, argv + i);
    if (!strcmp(cmd, "new"))
        return scaffold_new(argc - i, argv + i);
    fprintf(stderr, "streamhost: unknown command '%s' (see --help)\n", cmd);
    return EXIT_USAGE;
}
