/* testhost.c - see testhost.h. */
#include "testhost.h"
#include "cfgvalue.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TH_MAX_KV 64
#define TH_MAX_METRICS 64

struct metric { char name[96]; uint64_t c; int64_t g; double sum; };

struct sh_ctx { testhost *th; };

struct testhost {
    sh_host host;
    struct sh_ctx ctx;
    const sh_plugin *p;
    void *state;
    char *keys[TH_MAX_KV], *vals[TH_MAX_KV];
    size_t nkv;
    char **lists[TH_MAX_KV];
    th_rec *recs;
    size_t nrecs, caprecs;
    int64_t wm;
    struct metric metrics[TH_MAX_METRICS];
    size_t nmetrics;
    size_t ndead;
    char dead_reason[256];
    int64_t now;
    char where[64];
    char scratch[4096];
    int32_t up[64];
    size_t nup;
    size_t wm_regressions, wm_calls;
    void **pool; /* th_scratch blocks */
    size_t npool, cappool;
};

static void th_log(sh_ctx *ctx, int level, const char *fmt, ...)
{
    if (level > SH_LOG_WARN && !getenv("TH_VERBOSE"))
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%s] ", ctx->th->p->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static char *dupn(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static sh_rc th_emit(sh_ctx *ctx, uint32_t port, const sh_record *recs, size_t n)
{
    testhost *th = ctx->th;
    for (size_t i = 0; i < n; i++) {
        if (th->nrecs == th->caprecs) {
            th->caprecs = th->caprecs ? th->caprecs * 2 : 64;
            th->recs = realloc(th->recs, th->caprecs * sizeof(th_rec));
        }
        th_rec *r = &th->recs[th->nrecs++];
        const sh_record *s = &recs[i];
        r->port = port;
        r->schema = s->schema;
        r->time = s->time;
        r->key = dupn(s->key.ptr, s->key.len);
        r->id = dupn(s->id.ptr, s->id.len);
        r->slot = s->slot;
        r->offset = s->offset;
        r->wm_at_emit = th->wm;
        uint32_t nf = s->schema->nfields;
        r->values = calloc(nf ? nf : 1, sizeof(sh_value));
        for (uint32_t f = 0; f < nf; f++) {
            sh_value v = s->values[f];
            if (v.type == SH_STRING) {
                v.u.s.ptr = dupn(v.u.s.ptr, v.u.s.len);
            } else if (v.type == SH_STRLIST) {
                sh_str *items = calloc(v.u.l.n ? v.u.l.n : 1, sizeof(sh_str));
                for (uint32_t k = 0; k < v.u.l.n; k++) {
                    items[k].ptr = dupn(v.u.l.items[k].ptr, v.u.l.items[k].len);
                    items[k].len = v.u.l.items[k].len;
                }
                v.u.l.items = items;
            }
            r->values[f] = v;
        }
    }
    return SH_OK;
}

static sh_rc th_emit_wm(sh_ctx *ctx, int64_t wm)
{
    testhost *th = ctx->th;
    if (th->wm_calls++ && wm < th->wm)
        th->wm_regressions++;
    th->wm = wm;
    return SH_OK;
}

static struct metric *metric(testhost *th, const char *name)
{
    for (size_t i = 0; i < th->nmetrics; i++)
        if (strcmp(th->metrics[i].name, name) == 0)
            return &th->metrics[i];
    if (th->nmetrics == TH_MAX_METRICS)
        abort();
    struct metric *m = &th->metrics[th->nmetrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    return m;
}

static uint64_t *th_counter_fn(sh_ctx *ctx, const char *name, const char *help)
{
    (void)help;
    return &metric(ctx->th, name)->c;
}

static int64_t *th_gauge_fn(sh_ctx *ctx, const char *name, const char *help)
{
    (void)help;
    return &metric(ctx->th, name)->g;
}

/* Histograms: c counts the observations, sum adds them up (no buckets). */
static sh_histogram *th_histogram_fn(sh_ctx *ctx, const char *name, const char *help, const double *bounds,
                                     size_t n)
{
    (void)help;
    for (size_t i = 1; i < n; i++)
        if (!(bounds[i] > bounds[i - 1]))
            return NULL;
    return (sh_histogram *)metric(ctx->th, name);
}

static void th_observe_fn(sh_ctx *ctx, sh_histogram *h, double v)
{
    (void)ctx;
    if (!h)
        return;
    struct metric *m = (struct metric *)h;
    m->c++;
    m->sum += v;
}

static int64_t real_ms(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t th_now(sh_ctx *ctx)
{
    return ctx->th->now ? ctx->th->now : real_ms(CLOCK_REALTIME);
}

static int64_t th_mono(sh_ctx *ctx)
{
    return ctx->th->now ? ctx->th->now : real_ms(CLOCK_MONOTONIC);
}

static const sh_config_key *decl(testhost *th, const char *key)
{
    for (const sh_config_key *k = th->p->config; k && k->name; k++) {
        if (k->type == SH_CFG_PREFIX ? strncmp(key, k->name, strlen(k->name)) == 0
                                     : strcmp(key, k->name) == 0)
            return k;
    }
    return NULL;
}

static const char *raw(testhost *th, const char *key, size_t *idx)
{
    for (size_t i = 0; i < th->nkv; i++)
        if (strcmp(th->keys[i], key) == 0) {
            if (idx)
                *idx = i;
            return th->vals[i];
        }
    const sh_config_key *k = decl(th, key);
    return k ? k->default_value : NULL;
}

static const char *th_cfg_str(sh_ctx *ctx, const char *key)
{
    return raw(ctx->th, key, NULL);
}

static int64_t th_cfg_int(sh_ctx *ctx, const char *key)
{
    const sh_config_key *k = decl(ctx->th, key);
    return sh_value_int(k ? k->type : SH_CFG_INT, raw(ctx->th, key, NULL));
}

static double th_cfg_double(sh_ctx *ctx, const char *key)
{
    const char *v = raw(ctx->th, key, NULL);
    return v ? strtod(v, NULL) : 0.0;
}

static size_t th_cfg_list(sh_ctx *ctx, const char *key, const char *const **items)
{
    testhost *th = ctx->th;
    size_t n = 0;
    const char *v = raw(th, key, NULL);
    /* cache split lists in a slot per declared-key position */
    size_t slot = 0;
    for (const sh_config_key *k = th->p->config; k && k->name; k++, slot++)
        if (strcmp(k->name, key) == 0)
            break;
    if (slot >= TH_MAX_KV)
        abort();
    free(th->lists[slot]);
    th->lists[slot] = sh_split_list(v ? v : "", &n);
    *items = (const char *const *)th->lists[slot];
    return n;
}

static void th_cfg_each(sh_ctx *ctx, const char *prefix,
                        void (*fn)(void *, const char *, const char *), void *arg)
{
    testhost *th = ctx->th;
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < th->nkv; i++)
        if (strncmp(th->keys[i], prefix, pl) == 0)
            fn(arg, th->keys[i] + pl, th->vals[i]);
}

static const char *th_cfg_where(sh_ctx *ctx, const char *key)
{
    testhost *th = ctx->th;
    size_t idx = 0;
    if (raw(th, key, &idx) && idx < th->nkv)
        snprintf(th->where, sizeof th->where, "test.ini:%zu", idx + 2);
    else
        snprintf(th->where, sizeof th->where, "test.ini:1");
    return th->where;
}

static const char *th_name(sh_ctx *ctx)
{
    return ctx->th->p->name;
}

static int32_t th_slot(sh_ctx *ctx, const char *stream, int32_t partition)
{
    (void)ctx;
    (void)stream;
    return partition;
}

static sh_rc th_dead(sh_ctx *ctx, const void *payload, size_t len,
                     const char *reason, const sh_record *origin)
{
    (void)payload;
    (void)len;
    (void)origin;
    ctx->th->ndead++;
    snprintf(ctx->th->dead_reason, sizeof ctx->th->dead_reason, "%s", reason);
    return SH_OK;
}

static size_t th_upstream_slots(sh_ctx *ctx, int32_t *slots, size_t max)
{
    testhost *th = ctx->th;
    for (size_t i = 0; i < th->nup && i < max; i++)
        slots[i] = th->up[i];
    return th->nup;
}

void th_set_upstream_slots(testhost *th, const int32_t *slots, size_t n)
{
    th->nup = n < 64 ? n : 64;
    for (size_t i = 0; i < th->nup; i++)
        th->up[i] = slots[i];
}

testhost *th_new(const sh_plugin *p, const char *const *kv)
{
    testhost *th = calloc(1, sizeof *th);
    th->p = p;
    th->ctx.th = th;
    th->wm = INT64_MIN;
    th->host = (sh_host){
        .size = sizeof(sh_host), .abi_version = SH_ABI_VERSION,
        .log = th_log, .emit = th_emit, .emit_watermark = th_emit_wm,
        .counter = th_counter_fn, .gauge = th_gauge_fn, .now_ms = th_now,
        .mono_ms = th_mono, .cfg_str = th_cfg_str, .cfg_int = th_cfg_int,
        .cfg_double = th_cfg_double, .cfg_list = th_cfg_list,
        .cfg_each = th_cfg_each, .cfg_where = th_cfg_where,
        .instance_name = th_name, .slot = th_slot, .dead_letter = th_dead,
        .upstream_slots = th_upstream_slots,
        .histogram = th_histogram_fn, .observe = th_observe_fn};
    int ok = 1;
    for (size_t i = 0; kv && kv[i]; i++) {
        const char *eq = strchr(kv[i], '=');
        if (!eq || th->nkv == TH_MAX_KV) {
            fprintf(stderr, "testhost: bad kv '%s'\n", kv[i]);
            ok = 0;
            continue;
        }
        th->keys[th->nkv] = dupn(kv[i], (size_t)(eq - kv[i]));
        th->vals[th->nkv] = strdup(eq + 1);
        const sh_config_key *k = decl(th, th->keys[th->nkv]);
        char err[256];
        if (!k) {
            fprintf(stderr, "testhost: unknown key '%s'\n", th->keys[th->nkv]);
            ok = 0;
        } else if (sh_check_value(k->type, th->vals[th->nkv], err, sizeof err)) {
            fprintf(stderr, "testhost: %s: %s\n", th->keys[th->nkv], err);
            ok = 0;
        }
        th->nkv++;
    }
    for (const sh_config_key *k = p->config; k && k->name; k++)
        if (k->required && !raw(th, k->name, NULL)) {
            fprintf(stderr, "testhost: missing required key '%s'\n", k->name);
            ok = 0;
        }
    if (!ok) {
        th_free(th);
        return NULL;
    }
    return th;
}

sh_rc th_init(testhost *th)
{
    sh_rc rc = th->p->init(&th->host, &th->ctx, &th->state);
    if (rc == SH_OK && th->p->start)
        rc = th->p->start(th->state);
    return rc;
}

void *th_state(testhost *th) { return th->state; }
const sh_host *th_host(testhost *th) { return &th->host; }
sh_ctx *th_ctx(testhost *th) { return &th->ctx; }

sh_rc th_process(testhost *th, uint32_t input, const sh_record *recs, size_t n)
{
    return th->p->process(th->state, input, recs, n);
}

sh_rc th_watermark(testhost *th, int64_t wm)
{
    if (th->p->watermark)
        return th->p->watermark(th->state, wm);
    th->wm = wm;
    return SH_OK;
}

size_t th_count(testhost *th) { return th->nrecs; }
const th_rec *th_get(testhost *th, size_t i) { return i < th->nrecs ? &th->recs[i] : NULL; }

static void free_rec(th_rec *r)
{
    for (uint32_t f = 0; f < r->schema->nfields; f++) {
        sh_value *v = &r->values[f];
        if (v->type == SH_STRING)
            free((void *)v->u.s.ptr);
        else if (v->type == SH_STRLIST) {
            for (uint32_t k = 0; k < v->u.l.n; k++)
                free((void *)v->u.l.items[k].ptr);
            free((void *)v->u.l.items);
        }
    }
    free(r->values);
    free(r->key);
    free(r->id);
}

void th_clear(testhost *th)
{
    for (size_t i = 0; i < th->nrecs; i++)
        free_rec(&th->recs[i]);
    th->nrecs = 0;
}

static const sh_value *field(const th_rec *r, const char *name)
{
    int i = sh_schema_field(r->schema, name);
    if (i < 0) {
        fprintf(stderr, "testhost: record of '%s' has no field '%s'\n", r->schema->name, name);
        abort();
    }
    return &r->values[i];
}

int64_t th_int(const th_rec *r, const char *name) { return field(r, name)->u.i; }
int th_is_null(const th_rec *r, const char *name) { return field(r, name)->type == SH_NULL; }

const char *th_str(const th_rec *r, const char *name)
{
    const sh_value *v = field(r, name);
    return v->type == SH_STRING ? v->u.s.ptr : NULL; /* copies are NUL-terminated */
}

const char *th_list(const th_rec *r, const char *name)
{
    static char buf[1024];
    const sh_value *v = field(r, name);
    size_t o = 0;
    buf[0] = '\0';
    for (uint32_t k = 0; v->type == SH_STRLIST && k < v->u.l.n; k++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%.*s", k ? "," : "",
                              (int)v->u.l.items[k].len, v->u.l.items[k].ptr);
    return buf;
}

int64_t th_last_watermark(testhost *th) { return th->wm; }

uint64_t th_counter(testhost *th, const char *name)
{
    for (size_t i = 0; i < th->nmetrics; i++)
        if (strcmp(th->metrics[i].name, name) == 0)
            return th->metrics[i].c;
    return 0;
}

double th_histogram_sum(testhost *th, const char *name)
{
    for (size_t i = 0; i < th->nmetrics; i++)
        if (strcmp(th->metrics[i].name, name) == 0)
            return th->metrics[i].sum;
    return 0;
}

int64_t th_gauge(testhost *th, const char *name)
{
    for (size_t i = 0; i < th->nmetrics; i++)
        if (strcmp(th->metrics[i].name, name) == 0)
            return th->metrics[i].g;
    return 0;
}

size_t th_dead_letters(testhost *th) { return th->ndead; }
const char *th_last_dead_reason(testhost *th) { return th->dead_reason; }
void th_set_now(testhost *th, int64_t now_ms) { th->now = now_ms; }

size_t th_watermark_regressions(testhost *th) { return th->wm_regressions; }
size_t th_watermark_calls(testhost *th) { return th->wm_calls; }

sh_rc th_tick(testhost *th, int64_t now_ms)
{
    return th->p->tick ? th->p->tick(th->state, now_ms) : SH_OK;
}

uint64_t th_seed(const char *name)
{
    const char *env = getenv("SH_PROPTEST_SEED");
    uint64_t seed;
    if (env && *env) {
        seed = strtoull(env, NULL, 0);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
    }
    fprintf(stderr, "%s: seed %llu (repeat with SH_PROPTEST_SEED=%llu)\n", name, (unsigned long long)seed,
            (unsigned long long)seed);
    return seed;
}

int th_rounds(int dflt)
{
    const char *env = getenv("SH_PROPTEST_ITERS");
    int n = env && *env ? atoi(env) : 0;
    return n > 0 ? n : dflt;
}

uint64_t th_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t th_below(uint64_t *state, uint64_t n)
{
    return th_rand(state) % n;
}

int64_t th_rand_time(uint64_t *st, int64_t base)
{
    static const int64_t edges[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, 0, -1, 1};
    uint64_t k = th_below(st, 100);
    if (k < 3)
        return edges[th_below(st, sizeof edges / sizeof edges[0])];
    if (k < 6)
        return (int64_t)th_rand(st);
    int64_t d = (int64_t)th_below(st, 60001) - 30000; /* +-30 s around base */
    if ((d > 0 && base > INT64_MAX - d) || (d < 0 && base < INT64_MIN - d))
        return base;
    return base + d;
}

void *th_scratch(testhost *th, size_t n)
{
    if (th->npool == th->cappool) {
        th->cappool = th->cappool ? th->cappool * 2 : 64;
        th->pool = realloc(th->pool, th->cappool * sizeof *th->pool);
    }
    void *p = calloc(1, n ? n : 1);
    th->pool[th->npool++] = p;
    return p;
}

void th_scratch_reset(testhost *th)
{
    for (size_t i = 0; i < th->npool; i++)
        free(th->pool[i]);
    th->npool = 0;
}

sh_str th_rand_text(testhost *th, uint64_t *st, const char *const *pool, size_t npool)
{
    static const char *const pieces[] = {"\"", "\\", "\n", "\t", "\x01", "\x1f", "\x7f", "a", "Z", "9", " ",
                                         "{", "}", ",", ":", "-", "\xc3\xa9", "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80", "N/A"};
    uint64_t k = th_below(st, 10);
    if (k == 0)
        return (sh_str){"", 0};
    if (npool && k < 7) {
        const char *p = pool[th_below(st, npool)];
        return (sh_str){p, strlen(p)};
    }
    size_t n = th_below(st, 8) == 0 ? (size_t)th_below(st, 400) : (size_t)th_below(st, 12);
    char *buf = th_scratch(th, n * 4 + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (th_below(st, 16) == 0) {
            buf[len++] = '\0'; /* strings are (pointer, length): NUL is a byte like any other */
            continue;
        }
        const char *p = pieces[th_below(st, sizeof pieces / sizeof pieces[0])];
        size_t pl = strlen(p);
        memcpy(buf + len, p, pl);
        len += pl;
    }
    return (sh_str){buf, len};
}

void th_free(testhost *th)
{
    if (!th)
        return;
    th_clear(th); /* before destroy: records point at schemas the plugin may own */
    if (th->state && th->p->destroy)
        th->p->destroy(th->state);
    free(th->recs);
    for (size_t i = 0; i < th->nkv; i++) {
        free(th->keys[i]);
        free(th->vals[i]);
    }
    for (size_t i = 0; i < TH_MAX_KV; i++)
        free(th->lists[i]);
    th_scratch_reset(th);
    free(th->pool);
    free(th);
}
