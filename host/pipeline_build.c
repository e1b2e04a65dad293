/* pipeline_build.c - from a parsed config to a wired, validated DAG: loads
 * each section's plugin, checks every key against the plugin's declared
 * config, resolves `inputs`, and orders the components topologically.
 * Every problem becomes one "FILE:LINE: message" in cfg->errors. */
#include "pipeline_build.h"
#include "cfgvalue.h"
#include "kafka.h"
#include "log.h"
#include "pipeline.h"
#include "services.h"
#include "settings.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const base_keys[] = {"plugin", "inputs", NULL};

/* Levenshtein distance, for "did you mean" hints on misspelt keys. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 99;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c)
                c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c)
                c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

/* Checks one section's keys against a declared schema. */

/* Nothing but blanks (and, in a list, commas): `topic =` with ${TOPIC}
 * empty, for instance. */
static int blank_value(const char *v, int list)
{
    for (; v && *v; v++)
        if (!(*v == ' ' || *v == '\t' || (list && *v == ',')))
            return 0;
    return 1;
}

static void check_keys(sh_config *cfg, cfg_section *sec, const sh_config_key *schema,
                       const char *what, int allow_base)
{
    for (size_t i = 0; i < sec->nkv; i++) {
        cfg_kv *kv = &sec->kvs[i];
        if (allow_base) {
            int base = 0;
            for (size_t b = 0; base_keys[b]; b++)
                base |= strcmp(kv->key, base_keys[b]) == 0;
            if (base)
                continue;
        }
        const sh_config_key *d = NULL;
        for (const sh_config_key *k = schema; k && k->name; k++)
            if (k->type == SH_CFG_PREFIX ? strncmp(kv->key, k->name, strlen(k->name)) == 0
                                         : strcmp(kv->key, k->name) == 0) {
                d = k;
                break;
            }
        if (!d) {
            const char *best = NULL;
            size_t bestd = 3;
            size_t klen = strlen(kv->key);
            for (const sh_config_key *k = schema; k && k->name; k++) {
                size_t nlen = strlen(k->name);
                if ((klen > nlen ? klen - nlen : nlen - klen) >= bestd)
                    continue; /* cannot be closer: skip the O(n*m) distance */
                size_t dist = edit_distance(kv->key, k->name);
                if (dist < bestd) {
                    bestd = dist;
                    best = k->name;
                }
            }
            if (best)
                config_error(cfg, kv->line, "unknown key '%s' in [%s] (did you mean '%s'? see `streamhost plugins describe %s`)",
                             kv->key, sec->title, best, what);
            else
                config_error(cfg, kv->line, "unknown key '%s' in [%s] (see `streamhost plugins describe %s`)",
                             kv->key, sec->title, what);
            continue;
        }
        kv->used = 1;
        char err[256];
        if (d->required && d->type != SH_CFG_PREFIX && blank_value(kv->value, d->type == SH_CFG_LIST))
            config_error(cfg, kv->line, "[%s] %s is empty, but required (%s): give it a value", sec->title, kv->key,
                         d->doc ? d->doc : sh_cfg_type_name(d->type));
        else if (sh_check_value(d->type, kv->value, err, sizeof err) != 0)
            config_error(cfg, kv->line, "%s: %s", kv->key, err);
    }
    for (const sh_config_key *k = schema; k && k->name; k++)
        if (k->required && k->type != SH_CFG_PREFIX && !config_get(sec, k->name) &&
            !config_failed(sec, k->name)) /* an unset ${VAR}: reported once already */
            config_error(cfg, sec->line, "[%s] is missing required key '%s' (%s)", sec->title,
                         k->name, k->doc ? k->doc : sh_cfg_type_name(k->type));
}

/* The instance of component `name` (by_sec: instance per section index),
 * through the config's name index: linear in the number of inputs. */
static instance *find_inst(pipeline *pl, instance *const *by_sec, const char *name)
{
    cfg_section *s = config_component(pl->cfg, name);
    return s ? by_sec[s - pl->cfg->secs] : NULL;
}

static void add_edge(instance *from, uint32_t port, instance *to, uint32_t input)
{
    struct port *p = &from->ports[port];
    p->edges = realloc(p->edges, (p->nedges + 1) * sizeof(struct edge));
    p->edges[p->nedges++] = (struct edge){.to = to, .input = input};
}

/* Resolves `inputs = a, b.late` of one instance. */
static void wire_inputs(pipeline *pl, instance *const *by_sec, instance *in)
{
    cfg_kv *kv = config_kv(in->sec, "inputs");
    if (!kv && config_failed(in->sec, "inputs"))
        return; /* an unset ${VAR}: reported once already */
    if (in->kind == SH_SOURCE) {
        if (kv)
            config_error(pl->cfg, kv->line, "[%s]: a source takes no 'inputs'", in->sec->title);
        return;
    }
    if (!kv || !*kv->value) {
        config_error(pl->cfg, kv ? kv->line : in->sec->line,
                     "[%s] needs 'inputs = NAME[, NAME...]' naming the sources or transforms it reads",
                     in->sec->title);
        return;
    }
    size_t n = 0;
    char **items = sh_split_list(kv->value, &n);
    in->inputs = calloc(n ? n : 1, sizeof(struct input));
    for (size_t i = 0; i < n; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s", items[i]);
        char *dot = strchr(name, '.');
        const char *portname = "";
        if (dot) {
            *dot = '\0';
            portname = dot + 1;
        }
        instance *from = find_inst(pl, by_sec, name);
        if (!from) {
            config_error(pl->cfg, kv->line, "[%s]: input '%s' names no component (define [source.%s] or [transform.%s])",
                         in->sec->title, items[i], name, name);
            continue;
        }
        if (from == in) {
            config_error(pl->cfg, kv->line, "[%s]: a component cannot read its own output", in->sec->title);
            continue;
        }
        if (from->kind == SH_SINK) {
            config_error(pl->cfg, kv->line, "[%s]: input '%s' is a sink; sinks have no output", in->sec->title,
                         items[i]);
            continue;
        }
        if (!from->p) { /* its plugin failed to load (reported): no ports known */
            in->inputs[in->ninputs++] = (struct input){.from = from, .port = 0, .wm = INT64_MIN};
            continue;
        }
        uint32_t port = UINT32_MAX;
        for (uint32_t p = 0; p < from->nports; p++)
            if (strcmp(from->ports[p].name, portname) == 0)
                port = p;
        if (port == UINT32_MAX) {
            char list[512] = "";
            size_t o = 0;
            for (uint32_t p = 1; p < from->nports && o < sizeof list; p++)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s.%s", p > 1 ? ", " : "",
                                      name, from->ports[p].name);
            config_error(pl->cfg, kv->line, "[%s]: '%s' has no output '%s' (outputs: %s%s%s)",
                         in->sec->title, name, portname, name, o ? ", " : "", list);
            continue;
        }
        for (size_t j = 0; j < in->ninputs; j++)
            if (in->inputs[j].from == from && in->inputs[j].port == port)
                config_error(pl->cfg, kv->line, "[%s]: input '%s' listed twice", in->sec->title, items[i]);
        in->inputs[in->ninputs] = (struct input){.from = from, .port = port, .wm = INT64_MIN};
        add_edge(from, port, in, (uint32_t)in->ninputs);
        in->ninputs++;
    }
    free(items);
}

/* Kahn's algorithm; reports a cycle naming its members. */
static void order_dag(pipeline *pl)
{
    size_t n = pl->ninsts;
    size_t *indeg = calloc(n ? n : 1, sizeof(size_t));
    instance **order = calloc(n ? n : 1, sizeof(instance *));
    for (size_t i = 0; i < n; i++)
        pl->insts[i]->topo = (int)i;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < pl->insts[i]->ninputs; k++)
            indeg[i] += pl->insts[i]->inputs[k].from->p != NULL; /* edges exist only then */
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < n; i++)
        if (indeg[i] == 0)
            order[tail++] = pl->insts[i];
    while (head < tail) {
        instance *in = order[head++];
        for (size_t p = 0; p < in->nports; p++)
            for (size_t e = 0; e < in->ports[p].nedges; e++) {
                instance *to = in->ports[p].edges[e].to;
                if (--indeg[to->topo] == 0)
                    order[tail++] = to;
            }
    }
    if (tail < n) {
        char members[1024] = "";
        size_t o = 0;
        int line = 0;
        for (size_t i = 0; i < n; i++)
            if (indeg[i] > 0 && o < sizeof members) {
                cfg_kv *kv = config_kv(pl->insts[i]->sec, "inputs");
                if (!line && kv)
                    line = kv->line;
                o += (size_t)snprintf(members + o, sizeof members - o, "%s%s", o ? ", " : "",
                                      pl->insts[i]->name);
            }
        config_error(pl->cfg, line, "the inputs form a cycle through: %s (a pipeline must be a DAG)", members);
    } else {
        if (n)
            memcpy(pl->insts, order, n * sizeof(instance *));
        for (size_t i = 0; i < n; i++)
            pl->insts[i]->topo = (int)i;
    }
    free(order);
    free(indeg);
}

/* Line of [streamhost] key `key` for messages (the section's when unset). */
static int host_line(cfg_section *hs, const char *key)
{
    cfg_kv *kv = hs ? config_kv(hs, key) : NULL;
    return kv ? kv->line : hs ? hs->line : 1;
}

/* True when `key` holds a value of its declared type (or is unset): range
 * checks apply only then, a type error is reported by check_keys. */
static int host_typed(cfg_section *hs, const char *key, uint32_t type)
{
    const char *v = hs ? config_get(hs, key) : NULL;
    char err[256];
    return !v || sh_check_value(type, v, err, sizeof err) == 0;
}

/* The [streamhost] values: read once, and checked here, at build time, so
 * that `check` refuses every value `run` would (the one place per key). */
static void host_settings(pipeline *pl, cfg_section *hs)
{
    instance tmp = {0};
    static const sh_plugin host_desc = {.name = "streamhost", .config = sh_host_config};
    tmp.p = &host_desc;
    tmp.sec = hs;
    pl->commit_interval_ms = sh_value_int(SH_CFG_DURATION, inst_cfg(&tmp, "commit.interval", NULL));
    pl->shutdown_timeout_ms = sh_value_int(SH_CFG_DURATION, inst_cfg(&tmp, "shutdown.timeout", NULL));
    pl->batch_size = sh_value_int(SH_CFG_INT, inst_cfg(&tmp, "batch.size", NULL));
    pl->rate_limit = sh_value_int(SH_CFG_INT, inst_cfg(&tmp, "rate.limit", NULL));
    pl->metrics_port = sh_value_int(SH_CFG_INT, inst_cfg(&tmp, "metrics.port", NULL));
    pl->dead_letter_topic = inst_cfg(&tmp, "dead_letter.topic", NULL);
    pl->dead_letter_file = inst_cfg(&tmp, "dead_letter.file", NULL);
    const char *dl_on_error = inst_cfg(&tmp, "dead_letter.on_error", NULL); /* read by deadletter.c */
    if (strcmp(dl_on_error, "fail") && strcmp(dl_on_error, "log"))
        config_error(pl->cfg, config_kv(hs, "dead_letter.on_error")->line,
                     "dead_letter.on_error: '%s' is not fail or log", dl_on_error);
    pl->metrics_address = inst_cfg(&tmp, "metrics.address", NULL);
    pl->metrics_user = inst_cfg(&tmp, "metrics.auth.user", NULL);
    pl->metrics_password_env = inst_cfg(&tmp, "metrics.auth.password_env", NULL);
    pl->metrics_cert = inst_cfg(&tmp, "metrics.tls.cert", NULL);
    pl->metrics_key = inst_cfg(&tmp, "metrics.tls.key", NULL);
    pl->progress_interval_s = (double)sh_value_int(SH_CFG_DURATION, inst_cfg(&tmp, "progress.interval", NULL)) / 1000.0;
    const char *prog = inst_cfg(&tmp, "progress", NULL);
    pl->progress = strcmp(prog, "off") == 0 ? 0 : strcmp(prog, "on") == 0 ? 2 : 1;
    const char *lvl = inst_cfg(&tmp, "log.level", NULL);
    int l = sh_log_parse_level(lvl);
    cfg_kv *kv = hs ? config_kv(hs, "log.level") : NULL;
    if (l < 0)
        config_error(pl->cfg, host_line(hs, "log.level"), "log.level: '%s' is not one of error, warn, info, debug", lvl);
    else if (kv)
        sh_log_set_level(l);
    if (strcmp(prog, "auto") && strcmp(prog, "on") && strcmp(prog, "off"))
        config_error(pl->cfg, host_line(hs, "progress"), "progress: '%s' is not one of auto, on, off", prog);
    if (host_typed(hs, "batch.size", SH_CFG_INT) && (pl->batch_size < 1 || pl->batch_size > 1000000))
        config_error(pl->cfg, host_line(hs, "batch.size"), "batch.size: must be between 1 and 1000000");
    if (host_typed(hs, "rate.limit", SH_CFG_INT) && pl->rate_limit < 0)
        config_error(pl->cfg, host_line(hs, "rate.limit"),
                     "rate.limit: %lld is negative; give records per second, or 0 for no limit",
                     (long long)pl->rate_limit);
    /* 0 is the documented "off"; anything else must be a TCP port (a cast
     * to uint16_t used to wrap 70000 to 4464, and -1 meant off) */
    if (host_typed(hs, "metrics.port", SH_CFG_INT) && (pl->metrics_port < 0 || pl->metrics_port > 65535))
        config_error(pl->cfg, host_line(hs, "metrics.port"),
                     "metrics.port: %lld is not a port; use 1 to 65535, or 0 for no metrics endpoint",
                     (long long)pl->metrics_port);
    struct in_addr addr;
    if (pl->metrics_user && *pl->metrics_user &&
        !(pl->metrics_password_env && *pl->metrics_password_env && getenv(pl->metrics_password_env) &&
          *getenv(pl->metrics_password_env)))
        config_error(pl->cfg, host_line(hs, "metrics.auth.user"),
                     "metrics.auth.user: its password comes from the environment variable %s, which is not set; "
                     "export it, or set metrics.auth.password_env to the variable that holds it",
                     pl->metrics_password_env && *pl->metrics_password_env ? pl->metrics_password_env : "(none)");
    if (!pl->metrics_cert != !pl->metrics_key)
        config_error(pl->cfg, host_line(hs, pl->metrics_cert ? "metrics.tls.cert" : "metrics.tls.key"),
                     "metrics.tls.cert and metrics.tls.key go together: set both for HTTPS, or neither");
    if (!pl->metrics_address || inet_pton(AF_INET, pl->metrics_address, &addr) != 1)
        config_error(pl->cfg, host_line(hs, "metrics.address"),
                     "metrics.address: '%s' is not an IPv4 address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)",
                     pl->metrics_address ? pl->metrics_address : "");
    if (pl->dead_letter_topic && !*pl->dead_letter_topic)
        config_error(pl->cfg, host_line(hs, "dead_letter.topic"),
                     "dead_letter.topic: is empty; name a Kafka topic (or drop the line for streamhost-dlq)");
    if (pl->dead_letter_file && !*pl->dead_letter_file)
        config_error(pl->cfg, host_line(hs, "dead_letter.file"),
                     "dead_letter.file: is empty; name a file (or drop the line)");
    if (pl->commit_interval_ms < 10)
        pl->commit_interval_ms = 10;
}

/* While a plugin's validate() runs, its error lines become config errors:
 * "FILE:LINE: ..." as they are, anything else under the section's line. */
struct validate_capture {
    sh_config *cfg;
    instance *in;
    size_t errors;
};

static int capture_validate(void *arg, int level, const char *who, const char *msg)
{
    struct validate_capture *v = arg;
    (void)who;
    if (level != SH_LOG_ERROR)
        return 0; /* warnings and notes are logged as usual */
    if (config_located(v->cfg, msg)) /* "FILE:LINE: ..." of any of the config's files */
        config_error_text(v->cfg, msg);
    else
        config_error(v->cfg, v->in->sec->line, "[%s]: %s", v->in->sec->title, msg);
    v->errors++;
    return 1;
}

/* Runs the plugin's own value checks (sh_plugin.validate): `check` and `run`
 * both come through here, so a value `run` refuses is refused by `check`,
 * with exit 2, before anything starts. */
static void validate_instance(pipeline *pl, instance *in)
{
    if (!in->p->validate)
        return;
    struct validate_capture v = {.cfg = pl->cfg, .in = in};
    int (*saved)(void *, int, const char *, const char *) = sh_log_capture;
    void *saved_arg = sh_log_capture_arg;
    sh_log_capture = capture_validate;
    sh_log_capture_arg = &v;
    sh_rc rc = in->p->validate(pl->host ? pl->host : &sh_host_services, in);
    sh_log_capture = saved;
    sh_log_capture_arg = saved_arg;
    if (rc != SH_OK && v.errors == 0)
        config_error(pl->cfg, in->sec->line, "[%s]: the %s plugin refused this section's values without saying why",
                     in->sec->title, in->p->name);
}

pipeline *pipeline_build(sh_config *cfg, const char *config_path)
{
    return pipeline_build_with(cfg, config_path, 1);
}

pipeline *pipeline_build_with(sh_config *cfg, const char *config_path, int validate)
{
    pipeline *pl = calloc(1, sizeof *pl);
    pl->cfg = cfg;
    pl->tick_ms = 100;
    cfg_section *hs = config_section(cfg, SEC_HOST, NULL);
    if (hs)
        check_keys(cfg, hs, sh_host_config, "streamhost", 0);
    host_settings(pl, hs);

    char *pathcopy = strdup(config_path);
    pl->dirs = loader_search_dirs(hs ? config_get(hs, "plugin.path") : NULL, dirname(pathcopy));
    free(pathcopy);

    instance **by_sec = calloc(cfg->nsecs ? cfg->nsecs : 1, sizeof *by_sec);
    int inputs_unknown = 0; /* some `inputs` is an unset ${VAR} */
    for (size_t i = 0; i < cfg->nsecs; i++) {
        cfg_section *sec = &cfg->secs[i];
        if (sec->kind != SEC_SOURCE && sec->kind != SEC_TRANSFORM && sec->kind != SEC_SINK)
            continue;
        if (!sec->name || !*sec->name || sec->dup)
            continue; /* a repeated name was reported by the parser */
        instance *in = calloc(1, sizeof *in);
        in->pl = pl;
        in->sec = sec;
        in->name = sec->name;
        in->kind = sec->kind == SEC_SOURCE ? SH_SOURCE : sec->kind == SEC_TRANSFORM ? SH_TRANSFORM : SH_SINK;
        in->in_wm = in->out_wm = in->fence = INT64_MIN;
        pl->insts = realloc(pl->insts, (pl->ninsts + 1) * sizeof(instance *));
        pl->insts[pl->ninsts++] = in;
        by_sec[i] = in;
        inputs_unknown |= config_failed(sec, "inputs") != NULL;
        cfg_kv *pkv = config_kv(sec, "plugin");
        if (!pkv && config_failed(sec, "plugin"))
            continue; /* an unset ${VAR}: reported once already */
        if (!pkv || !*pkv->value) {
            config_error(cfg, sec->line, "[%s] needs 'plugin = NAME' (see `streamhost plugins`)", sec->title);
            continue;
        }
        char err[2048];
        if (loader_load(pkv->value, in->kind, pl->dirs, &in->lp, err, sizeof err) != 0) {
            config_error(cfg, pkv->line, "%s", err);
            continue;
        }
        in->p = in->lp.p;
        for (size_t e = 0; sh_builtin_exts[e]; e++)
            if (sh_builtin_exts[e]->plugin == in->p)
                in->ext = sh_builtin_exts[e];
        size_t before = cfg->nerrors;
        check_keys(cfg, sec, in->p->config, in->p->name, 1);
        /* the plugin's own checks see only values of the declared types */
        if (validate && cfg->nerrors == before && sec->nfailed == 0)
            validate_instance(pl, in);
        size_t nout = 0;
        while (in->p->outputs && in->p->outputs[nout])
            nout++;
        in->nports = in->kind == SH_SINK ? 0 : nout + 1;
        in->ports = calloc(in->nports ? in->nports : 1, sizeof(struct port));
        for (size_t p = 0; p < in->nports; p++)
            in->ports[p].name = strdup(p == 0 ? "" : in->p->outputs[p - 1]);
    }
    if (pl->ninsts == 0 && cfg->nerrors == 0)
        config_error(cfg, 1, "no components: define at least one [source.NAME] and one [sink.NAME]");
    for (size_t i = 0; i < pl->ninsts; i++)
        wire_inputs(pl, by_sec, pl->insts[i]);
    free(by_sec);
    int have_source = 0, have_sink = 0;
    char *referenced = calloc(pl->ninsts ? pl->ninsts : 1, 1);
    for (size_t i = 0; i < pl->ninsts; i++)
        pl->insts[i]->topo = (int)i; /* order_dag renumbers */
    for (size_t j = 0; j < pl->ninsts; j++)
        for (size_t k = 0; k < pl->insts[j]->ninputs; k++)
            if (pl->insts[j]->inputs[k].port == 0)
                referenced[pl->insts[j]->inputs[k].from->topo] = 1;
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        have_source |= in->kind == SH_SOURCE;
        have_sink |= in->kind == SH_SINK;
        if (in->p && in->kind != SH_SINK && !referenced[i] && !inputs_unknown)
            config_error(cfg, in->sec->line, "[%s] feeds nothing: name '%s' in the inputs of a transform or sink",
                         in->sec->title, in->name);
    }
    free(referenced);
    if (pl->ninsts && !have_source)
        config_error(cfg, 1, "no [source.NAME] section: a pipeline needs a source");
    if (pl->ninsts && !have_sink)
        config_error(cfg, 1, "no [sink.NAME] section: a pipeline needs a sink");
    order_dag(pl);
    kafka_validate(pl);
    if (cfg->nerrors) {
        pipeline_free(pl);
        return NULL;
    }
    return pl;
}
