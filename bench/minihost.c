/* minihost.c - see minihost.h. */
#include "minihost.h"
#include "cfgvalue.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MH_MAX_INST 16
#define MH_MAX_KV 32
#define MH_MAX_PORTS 4
#define MH_MAX_EDGES 4
#define MH_MAX_METRICS 256

struct edge {
    mh_inst *to;
    uint32_t input;
};

struct sh_ctx {
    void *dl;
    const sh_plugin *p;
    void *state;
    char *name;
    char *keys[MH_MAX_KV], *vals[MH_MAX_KV];
    size_t nkv;
    char **lists[MH_MAX_KV];
    struct edge out[MH_MAX_PORTS][MH_MAX_EDGES];
    size_t nout[MH_MAX_PORTS];
    int64_t out_wm;
    mh_tap_fn tap;
    void *tap_arg;
    char where[160];
};

struct metric {
    mh_inst *in;
    const char *name;
    uint64_t c;
    int64_t g;
};

static mh_inst *insts[MH_MAX_INST];
static size_t ninsts;
static struct metric metrics[MH_MAX_METRICS];
static size_t nmetrics;
static int32_t nslots;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("minihost: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* --- services ----------------------------------------------------------- */

static void mh_log(sh_ctx *ctx, int level, const char *fmt, ...)
{
    if (level > SH_LOG_WARN && !getenv("MH_VERBOSE"))
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%s] ", ctx->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static sh_rc svc_emit(sh_ctx *ctx, uint32_t port, const sh_record *recs, size_t n)
{
    if (port >= MH_MAX_PORTS)
        return SH_FATAL;
    if (port == 0 && ctx->tap)
        ctx->tap(ctx->tap_arg, recs, n);
    for (size_t e = 0; e < ctx->nout[port]; e++) {
        mh_inst *to = ctx->out[port][e].to;
        sh_rc rc = to->p->process(to->state, ctx->out[port][e].input, recs, n);
        if (rc != SH_OK)
            return SH_FATAL; /* a benchmark never retries */
    }
    return SH_OK;
}

/* Every transform here has one input, so its input watermark is what its
 * upstream emits; sinks take no watermarks. */
static sh_rc svc_emit_watermark(sh_ctx *ctx, int64_t wm)
{
    if (wm <= ctx->out_wm)
        return SH_OK;
    ctx->out_wm = wm;
    for (size_t p = 0; p < MH_MAX_PORTS; p++)
        for (size_t e = 0; e < ctx->nout[p]; e++) {
            mh_inst *to = ctx->out[p][e].to;
            if (to->p->kind == SH_SINK)
                continue;
            sh_rc rc = to->p->watermark ? to->p->watermark(to->state, wm) : svc_emit_watermark(to, wm);
            if (rc != SH_OK)
                return SH_FATAL;
        }
    return SH_OK;
}

static struct metric *metric_of(sh_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < nmetrics; i++)
        if (metrics[i].in == ctx && strcmp(metrics[i].name, name) == 0)
            return &metrics[i];
    if (nmetrics == MH_MAX_METRICS)
        die("too many metrics");
    metrics[nmetrics] = (struct metric){.in = ctx, .name = name};
    return &metrics[nmetrics++];
}

static uint64_t *svc_counter(sh_ctx *ctx, const char *name, const char *help)
{
    (void)help;
    return &metric_of(ctx, name)->c;
}

static int64_t *svc_gauge(sh_ctx *ctx, const char *name, const char *help)
{
    (void)help;
    return &metric_of(ctx, name)->g;
}

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t svc_now(sh_ctx *ctx)
{
    (void)ctx;
    return clock_ms(CLOCK_REALTIME);
}

static int64_t svc_mono(sh_ctx *ctx)
{
    (void)ctx;
    return clock_ms(CLOCK_MONOTONIC);
}

static const sh_config_key *decl(sh_ctx *ctx, const char *key, size_t *pos)
{
    size_t i = 0;
    for (const sh_config_key *k = ctx->p->config; k && k->name; k++, i++)
        if (strcmp(k->name, key) == 0) {
            if (pos)
                *pos = i;
            return k;
        }
    return NULL;
}

static const char *svc_cfg_str(sh_ctx *ctx, const char *key)
{
    for (size_t i = 0; i < ctx->nkv; i++)
        if (strcmp(ctx->keys[i], key) == 0)
            return ctx->vals[i];
    const sh_config_key *k = decl(ctx, key, NULL);
    return k ? k->default_value : NULL;
}

static int64_t svc_cfg_int(sh_ctx *ctx, const char *key)
{
    const sh_config_key *k = decl(ctx, key, NULL);
    return sh_value_int(k ? k->type : SH_CFG_INT, svc_cfg_str(ctx, key));
}

static double svc_cfg_double(sh_ctx *ctx, const char *key)
{
    const char *v = svc_cfg_str(ctx, key);
    return v ? strtod(v, NULL) : 0.0;
}

static size_t svc_cfg_list(sh_ctx *ctx, const char *key, const char *const **items)
{
    size_t pos = 0, n = 0;
    if (!decl(ctx, key, &pos) || pos >= MH_MAX_KV)
        die("%s: list key '%s' is not declared", ctx->name, key);
    free(ctx->lists[pos]);
    const char *v = svc_cfg_str(ctx, key);
    ctx->lists[pos] = sh_split_list(v ? v : "", &n);
    *items = (const char *const *)ctx->lists[pos];
    return n;
}

static void svc_cfg_each(sh_ctx *ctx, const char *prefix, void (*fn)(void *, const char *, const char *),
                         void *arg)
{
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < ctx->nkv; i++)
        if (strncmp(ctx->keys[i], prefix, pl) == 0)
            fn(arg, ctx->keys[i] + pl, ctx->vals[i]);
}

static const char *svc_cfg_where(sh_ctx *ctx, const char *key)
{
    snprintf(ctx->where, sizeof ctx->where, "bench:%s.%s", ctx->name, key);
    return ctx->where;
}

static const char *svc_instance_name(sh_ctx *ctx) { return ctx->name; }

static int32_t svc_slot(sh_ctx *ctx, const char *stream, int32_t partition)
{
    (void)ctx;
    (void)stream;
    return partition;
}

static sh_rc svc_dead_letter(sh_ctx *ctx, const void *payload, size_t len, const char *reason,
                             const sh_record *origin)
{
    (void)payload;
    (void)len;
    (void)origin;
    (*svc_counter(ctx, "bench_dead_letters", NULL))++;
    mh_log(ctx, SH_LOG_WARN, "dead letter: %s", reason);
    return SH_OK;
}

static size_t svc_upstream_slots(sh_ctx *ctx, int32_t *slots, size_t max)
{
    (void)ctx;
    for (int32_t i = 0; i < nslots && (size_t)i < max; i++)
        slots[i] = i;
    return (size_t)nslots;
}

static const sh_host services = {
    .size = sizeof(sh_host),
    .abi_version = SH_ABI_VERSION,
    .log = mh_log,
    .emit = svc_emit,
    .emit_watermark = svc_emit_watermark,
    .counter = svc_counter,
    .gauge = svc_gauge,
    .now_ms = svc_now,
    .mono_ms = svc_mono,
    .cfg_str = svc_cfg_str,
    .cfg_int = svc_cfg_int,
    .cfg_double = svc_cfg_double,
    .cfg_list = svc_cfg_list,
    .cfg_each = svc_cfg_each,
    .cfg_where = svc_cfg_where,
    .instance_name = svc_instance_name,
    .slot = svc_slot,
    .dead_letter = svc_dead_letter,
    .upstream_slots = svc_upstream_slots,
};

/* --- instances ------------------------------------------------------------ */

mh_inst *mh_load(const char *plugin_dir, const char *file, const char *name, const char *const *kv)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.so", plugin_dir, file);
    if (ninsts == MH_MAX_INST)
        die("too many instances");
    mh_inst *in = calloc(1, sizeof *in);
    in->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!in->dl)
        die("%s", dlerror());
    sh_entry_fn entry = (sh_entry_fn)dlsym(in->dl, SH_ENTRY_SYMBOL);
    if (!entry)
        die("%s: no %s", path, SH_ENTRY_SYMBOL);
    in->p = entry(SH_ABI_VERSION);
    if (!in->p || in->p->abi_version != SH_ABI_VERSION || in->p->record_size != sizeof(sh_record) ||
        in->p->value_size != sizeof(sh_value))
        die("%s: built for another ABI", path);
    in->name = strdup(name);
    in->out_wm = INT64_MIN;
    for (size_t i = 0; kv && kv[i]; i++) {
        const char *eq = strchr(kv[i], '=');
        if (!eq || in->nkv == MH_MAX_KV)
            die("%s: bad config '%s'", name, kv[i]);
        in->keys[in->nkv] = strndup(kv[i], (size_t)(eq - kv[i]));
        in->vals[in->nkv] = strdup(eq + 1);
        char err[256];
        const sh_config_key *k = decl(in, in->keys[in->nkv], NULL);
        if (!k)
            die("%s: unknown key '%s'", name, in->keys[in->nkv]);
        if (sh_check_value(k->type, in->vals[in->nkv], err, sizeof err) != 0)
            die("%s: %s: %s", name, in->keys[in->nkv], err);
        in->nkv++;
    }
    insts[ninsts++] = in;
    return in;
}

void mh_init(mh_inst *in)
{
    if (in->p->init(&services, in, &in->state) != SH_OK)
        die("%s: init failed", in->name);
    if (in->p->start && in->p->start(in->state) != SH_OK)
        die("%s: start failed", in->name);
}

void mh_connect(mh_inst *from, uint32_t port, mh_inst *to, uint32_t input)
{
    if (port >= MH_MAX_PORTS || from->nout[port] == MH_MAX_EDGES)
        die("%s: too many edges", from->name);
    from->out[port][from->nout[port]++] = (struct edge){to, input};
}

void mh_tap(mh_inst *in, mh_tap_fn fn, void *arg)
{
    in->tap = fn;
    in->tap_arg = arg;
}

void mh_set_slots(int32_t n) { nslots = n; }
const sh_plugin *mh_plugin(mh_inst *in) { return in->p; }
void *mh_state(mh_inst *in) { return in->state; }
sh_rc mh_emit(mh_inst *from, const sh_record *recs, size_t n) { return svc_emit(from, 0, recs, n); }
sh_rc mh_watermark(mh_inst *from, int64_t wm) { return svc_emit_watermark(from, wm); }

sh_rc mh_tick_all(void)
{
    int64_t now = svc_now(NULL);
    for (size_t i = 0; i < ninsts; i++)
        if (insts[i]->state && insts[i]->p->tick && insts[i]->p->tick(insts[i]->state, now) == SH_FATAL)
            return SH_FATAL;
    return SH_OK;
}

uint64_t mh_counter(mh_inst *in, const char *name)
{
    for (size_t i = 0; i < nmetrics; i++)
        if (metrics[i].in == in && strcmp(metrics[i].name, name) == 0)
            return metrics[i].c;
    return 0;
}

int64_t mh_gauge(mh_inst *in, const char *name)
{
    for (size_t i = 0; i < nmetrics; i++)
        if (metrics[i].in == in && strcmp(metrics[i].name, name) == 0)
            return metrics[i].g;
    return 0;
}

void mh_free_all(void)
{
    for (size_t i = 0; i < ninsts; i++)
        if (insts[i]->state && insts[i]->p->stop)
            insts[i]->p->stop(insts[i]->state);
    for (size_t i = ninsts; i-- > 0;) {
        mh_inst *in = insts[i];
        if (in->state && in->p->destroy)
            in->p->destroy(in->state);
        for (size_t k = 0; k < in->nkv; k++) {
            free(in->keys[k]);
            free(in->vals[k]);
        }
        for (size_t k = 0; k < MH_MAX_KV; k++)
            free(in->lists[k]);
        dlclose(in->dl);
        free(in->name);
        free(in);
    }
    ninsts = 0;
    nmetrics = 0;
}
