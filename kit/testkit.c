/* testkit.c - see include/streamhost/testkit.h: a plugin under test in a
 * real pipeline of the host, driven callback by callback.
 *
 *   [KIND.NAME]      the plugin under test (registered with the loader)
 *   plugin = NAME
 *   ...              the test's keys, line 2 on
 *   [source.th_feed] upstream of a transform or sink: the kit's feed
 *   [sink.th_out]    the kit's capture sink, inputs = every output of NAME
 *   [streamhost]     progress off, no metrics server, dead letters to a
 *                    temporary file
 *
 * What the kit adds to the host is observation only: a capture sink that
 * deep-copies what reaches it, and a wrapper around dead_letter() that
 * counts what the host's writer accepted. */
#include "streamhost/testkit.h"

#include "../host/config.h"
#include "../host/cfgvalue.h"
#include "../host/clock.h"
#include "../host/deadletter.h"
#include "../host/flow.h"
#include "../host/loader.h"
#include "../host/log.h"
#include "../host/metrics.h"
#include "../host/pipeline.h"
#include "../host/watchdog.h"
#include "../host/pipeline_build.h"
#include "../host/services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct testhost {
    sh_host host; /* writable copy of the host's services */
    const sh_plugin *p;
    char name[64], feed_name[32], out_name[32]; /* unique while alive: metrics are per name */
    sh_config *cfg;
    pipeline *pl;
    instance *in, *feed, *out;
    char dl_path[96];
    th_rec *recs;
    size_t nrecs, caprecs;
    size_t ndead;
    char dead_reason[512];
    void **pool; /* th_scratch blocks */
    size_t npool, cappool;
    int started;
};

static size_t alive;          /* testhosts not yet freed */
static unsigned serial;       /* names the instances of each testhost apart */
#define TH_MAX_LIVE 64
static testhost *live[TH_MAX_LIVE];

/* Another live testhost of the same plugin (its instance holds the name). */
static int name_taken(const char *name)
{
    for (size_t i = 0; i < TH_MAX_LIVE; i++)
        if (live[i] && strcmp(live[i]->name, name) == 0)
            return 1;
    return 0;
}
static testhost *binding;     /* the testhost whose capture sink is in init() */

static char *dupn(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* --- the capture sink and the feed source ---------------------------------- */

static sh_rc cap_init(const sh_host *h, sh_ctx *ctx, void **state)
{
    (void)h;
    (void)ctx;
    *state = binding;
    return SH_OK;
}

static sh_rc cap_process(void *state, uint32_t input, const sh_record *recs, size_t n)
{
    testhost *th = state;
    for (size_t i = 0; i < n; i++) {
        if (th->nrecs == th->caprecs) {
            th->caprecs = th->caprecs ? th->caprecs * 2 : 64;
            th->recs = realloc(th->recs, th->caprecs * sizeof(th_rec));
        }
        th_rec *r = &th->recs[th->nrecs++];
        const sh_record *s = &recs[i];
        r->port = input; /* the capture sink reads output i of the plugin as input i */
        r->schema = s->schema;
        r->time = s->time;
        r->key = dupn(s->key.ptr, s->key.len);
        r->id = dupn(s->id.ptr, s->id.len);
        r->slot = s->slot;
        r->offset = s->offset;
        r->wm_at_emit = th->in->out_wm;
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

static const sh_plugin capture_plugin = {
    SH_PLUGIN_MAGIC,
    .name = "th-capture",
    .version = "1.0.0",
    .kind = SH_SINK,
    .description = "test kit: keeps copies of what reaches it",
    .init = cap_init,
    .process = cap_process,
};

static sh_rc feed_init(const sh_host *h, sh_ctx *ctx, void **state)
{
    (void)h;
    (void)ctx;
    *state = binding;
    return SH_OK;
}

static sh_rc feed_poll(void *state, size_t max, int timeout_ms)
{
    (void)state;
    (void)max;
    (void)timeout_ms;
    return SH_OK; /* the test hands records to the plugin itself */
}

static const sh_plugin feed_plugin = {
    SH_PLUGIN_MAGIC,
    .name = "th-feed",
    .version = "1.0.0",
    .kind = SH_SOURCE,
    .description = "test kit: the source upstream of a transform or sink under test",
    .init = feed_init,
    .poll = feed_poll,
};

/* --- dead letters: the host's writer, counted -------------------------------- */

static sh_rc kit_dead_letter(sh_ctx *ctx, const void *payload, size_t len, const char *reason,
                             const sh_record *origin)
{
    sh_rc rc = sh_host_services.dead_letter(ctx, payload, len, reason, origin);
    testhost *th = ctx->pl->host ? (testhost *)ctx->pl->host : NULL; /* host is the first member */
    if (rc == SH_OK && th) {
        th->ndead++;
        snprintf(th->dead_reason, sizeof th->dead_reason, "%s", reason);
    }
    return rc;
}

/* --- building ----------------------------------------------------------------- */

static const char *kind_word(uint32_t kind)
{
    return kind == SH_SOURCE ? "source" : kind == SH_TRANSFORM ? "transform" : "sink";
}

/* "key = \"value\"": quoted, so ';' and '#' stay in the value as the test
 * wrote it. */
static void put_kv(FILE *f, const char *kv, size_t keylen)
{
    fprintf(f, "%.*s = \"", (int)keylen, kv);
    for (const char *v = kv + keylen + 1; *v; v++) {
        if (*v == '"' || *v == '\\')
            fputc('\\', f);
        fputc(*v, f);
    }
    fputs("\"\n", f);
}

testhost *th_new(const sh_plugin *p, const char *const *kv)
{
    testhost *th = calloc(1, sizeof *th);
    th->p = p;
    th->host = sh_host_services;
    th->host.dead_letter = kit_dead_letter;
    serial++;
    snprintf(th->name, sizeof th->name, "%s", p->name);
    if (name_taken(th->name)) /* two instances of one plugin: keep their metrics apart */
        snprintf(th->name, sizeof th->name, "%s-%u", p->name, serial);
    for (size_t i = 0; i < TH_MAX_LIVE; i++)
        if (!live[i]) {
            live[i] = th;
            break;
        }
    snprintf(th->feed_name, sizeof th->feed_name, "th_feed_%u", serial);
    snprintf(th->out_name, sizeof th->out_name, "th_out_%u", serial);
    snprintf(th->dl_path, sizeof th->dl_path, "%s/th-dead-%d-%p.jsonl",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(), (void *)th);
    alive++;
    if (!getenv("TH_VERBOSE"))
        sh_log_set_level(SH_LOG_WARN);
    if (loader_register(p) != 0 || loader_register(&capture_plugin) != 0 || loader_register(&feed_plugin) != 0) {
        fprintf(stderr, "testkit: too many plugins registered\n");
        th_free(th);
        return NULL;
    }

    char *text = NULL;
    size_t textlen = 0;
    FILE *f = open_memstream(&text, &textlen);
    int ok = 1;
    /* the section at line 1 and the test's key i at line i + 2 ("test.ini:N") */
    fprintf(f, "[%s.%s]\n", kind_word(p->kind), th->name);
    for (size_t i = 0; kv && kv[i]; i++) {
        const char *eq = strchr(kv[i], '=');
        if (!eq || eq == kv[i]) {
            fprintf(stderr, "testkit: '%s' is not key=value\n", kv[i]);
            ok = 0;
            fputs("\n", f);
            continue;
        }
        put_kv(f, kv[i], (size_t)(eq - kv[i]));
    }
    fprintf(f, "plugin = %s\n", p->name);
    if (p->kind != SH_SOURCE)
        fprintf(f, "inputs = %s\n[source.%s]\nplugin = th-feed\n", th->feed_name, th->feed_name);
    if (p->kind != SH_SINK) {
        fprintf(f, "[sink.%s]\nplugin = th-capture\ninputs = %s", th->out_name, th->name);
        for (size_t o = 0; p->outputs && p->outputs[o]; o++)
            fprintf(f, ", %s.%s", th->name, p->outputs[o]);
        fputc('\n', f);
    }
    fprintf(f, "[streamhost]\nprogress = off\nmetrics.port = 0\ndead_letter.file = \"%s\"\n", th->dl_path);
    fclose(f);
    if (!ok) {
        free(text);
        th_free(th);
        return NULL;
    }
    th->cfg = config_load_string("test.ini", text);
    free(text);
    if (th->cfg && th->cfg->nerrors == 0)
        th->pl = pipeline_build_with(th->cfg, "test.ini", 0);
    if (!th->pl) {
        for (size_t i = 0; th->cfg && i < th->cfg->nerrors; i++)
            fprintf(stderr, "%s\n", th->cfg->errors[i]);
        th_free(th);
        return NULL;
    }
    th->pl->host = &th->host;
    for (size_t i = 0; i < th->pl->ninsts; i++) {
        instance *in = th->pl->insts[i];
        if (strcmp(in->name, th->name) == 0)
            th->in = in;
        else if (strcmp(in->name, th->feed_name) == 0)
            th->feed = in;
        else
            th->out = in;
    }
    return th;
}

sh_rc th_init(testhost *th)
{
    binding = th;
    int rc = pipeline_start(th->pl);
    binding = NULL;
    th->started = 1;
    watchdog_set_running(1); /* plugins may emit from here on, as in a run */
    return rc == 0 ? SH_OK : SH_FATAL;
}

void *th_state(testhost *th) { return th->in->state; }
const sh_host *th_host(testhost *th) { return &th->host; }
sh_ctx *th_ctx(testhost *th) { return th->in; }

sh_rc th_process(testhost *th, uint32_t input, const sh_record *recs, size_t n)
{
    return th->p->process(th->in->state, input, recs, n);
}

sh_rc th_watermark(testhost *th, int64_t wm)
{
    if (th->p->watermark)
        return th->p->watermark(th->in->state, wm);
    return pipeline_watermark(th->in, wm); /* forwarded, as the host does */
}

sh_rc th_tick(testhost *th, int64_t now_ms)
{
    return th->p->tick ? th->p->tick(th->in->state, now_ms) : SH_OK;
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
        fprintf(stderr, "testkit: record of '%s' has no field '%s'\n", r->schema->name, name);
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
    for (uint32_t k = 0; v->type == SH_STRLIST && k < v->u.l.n && o < sizeof buf; k++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%.*s", k ? "," : "", (int)v->u.l.items[k].len,
                              v->u.l.items[k].ptr);
    return buf;
}

/* --- what the host saw ----------------------------------------------------------- */

int64_t th_last_watermark(testhost *th) { return th->in->out_wm; }
size_t th_watermark_regressions(testhost *th) { return th->in->wm_regressions; }
size_t th_watermark_calls(testhost *th) { return th->in->wm_calls; }

static metric *find_metric(testhost *th, const char *name)
{
    metric *found = NULL;
    metrics_lock();
    for (size_t i = 0, n = metrics_count(); i < n && !found; i++) {
        metric *m = metrics_at(i);
        if (strcmp(m->component, th->name) == 0 && strcmp(m->name, name) == 0)
            found = m;
    }
    metrics_unlock();
    return found;
}

uint64_t th_counter(testhost *th, const char *name)
{
    metric *m = find_metric(th, name);
    return m ? m->counter : 0;
}

int64_t th_gauge(testhost *th, const char *name)
{
    metric *m = find_metric(th, name);
    return m ? m->value : 0;
}

double th_histogram_sum(testhost *th, const char *name)
{
    metric *m = find_metric(th, name);
    return m && m->histogram ? m->sum : 0;
}

size_t th_dead_letters(testhost *th) { return th->ndead; }
const char *th_last_dead_reason(testhost *th) { return th->dead_reason; }

void th_set_now(testhost *th, int64_t now_ms)
{
    (void)th;
    sh_test_clock_ms = now_ms;
}

void th_set_upstream_slots(testhost *th, const int32_t *slots, size_t n)
{
    pipeline *pl = th->pl;
    if (!th->feed)
        return;
    th->feed->assigns = 1; /* only assigned slots count, as for a Kafka consumer */
    for (size_t s = 0; s < pl->nslots; s++)
        pl->slots[s].assigned = 0;
    char stream[32];
    for (size_t i = 0; i < n; i++) {
        if (slots[i] < 0)
            continue;
        while (pl->nslots <= (size_t)slots[i]) {
            snprintf(stream, sizeof stream, "th-%zu", pl->nslots);
            pipeline_slot(pl, th->feed, stream, 0);
        }
        pl->slots[slots[i]].assigned = 1;
    }
}

/* --- property tests ---------------------------------------------------------------- */

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

uint64_t th_below(uint64_t *state, uint64_t n) { return th_rand(state) % n; }

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

int64_t th_event_time(uint64_t *st, int64_t base, int wild)
{
    if (wild)
        return th_rand_time(st, base);
    int64_t d = (int64_t)th_below(st, 60001) - 30000;
    if ((d > 0 && base > INT64_MAX - d) || (d < 0 && base < INT64_MIN - d))
        return base;
    return base + d;
}

int64_t th_duration_ms(const char *text) { return sh_value_int(SH_CFG_DURATION, text); }

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
    if (th->pl)
        pipeline_free(th->pl); /* stop, then destroy of every instance, as after a run */
    if (th->cfg)
        config_free(th->cfg);
    unlink(th->dl_path);
    free(th->recs);
    th_scratch_reset(th);
    free(th->pool);
    alive--;
    for (size_t i = 0; i < TH_MAX_LIVE; i++)
        if (live[i] == th)
            live[i] = NULL;
    metrics_free_component(th->name); /* the next testhost of this plugin counts from 0 */
    metrics_free_component(th->feed_name);
    metrics_free_component(th->out_name);
    if (alive == 0) { /* nothing points into the registry any more */
        metrics_free_all();
        sh_test_clock_ms = 0;
        watchdog_set_running(0);
    } else {
        watchdog_set_running(1); /* pipeline_free ended "the run" for every testhost */
    }
    free(th);
}
