/* process_bench.c - processing alone, and the state it holds: the real
 * plugin .so files driven by bench/minihost.c over records held in memory,
 * so neither Kafka nor Avro nor the generator is in the measured time.
 *
 *   process_bench throughput PLUGIN_DIR BENCH_PLUGIN_DIR EVENTS USERS SEED START_TIME
 *       Generates EVENTS click events with the clickgen plugin (simulated
 *       clock) into memory, then times session -> filter (checkouts) ->
 *       tumble -> null over them, in batches of 10000 with a tick every
 *       100 ms as the host does, ending with the +infinity watermark.
 *
 *   process_bench state PLUGIN_DIR BENCH_PLUGIN_DIR SESSIONS SEED START_TIME
 *       Generates one event for each of SESSIONS users, all within 19 s of
 *       event time (think_min = think_max = 19s: nobody clicks twice, and
 *       the 20 s out-of-orderness keeps every session open), feeds them to
 *       session -> null and reports the resident memory the open sessions
 *       added, read from /proc/self/status before and after.
 *
 * Records get a slot like the Kafka source would give them (murmur2 of the
 * key, 4 partitions) and per-slot offsets, so the session plugin's per-slot
 * watermarks and offset tracking do their real work.  Prints one line of
 * key=value pairs. */
#include "minihost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 10000
#define PARTITIONS 4
#define KEY_CAP 16

/* --- events in memory --------------------------------------------------- */

struct events {
    sh_record *recs;
    sh_value *vals;
    char *keys; /* KEY_CAP bytes per event */
    size_t n, cap;
    uint32_t nf;
    int64_t next_offset[PARTITIONS];
    /* interned string values: few distinct ones (ips, pages, products) */
    char **strs;
    size_t *lens;
    size_t nstrs, capstrs;
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "process_bench: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

static const char *intern(struct events *ev, const char *p, size_t len)
{
    for (size_t i = 0; i < ev->nstrs; i++) /* linear: a few hundred entries */
        if (ev->lens[i] == len && memcmp(ev->strs[i], p, len) == 0)
            return ev->strs[i];
    if (ev->nstrs == ev->capstrs) {
        ev->capstrs = ev->capstrs ? ev->capstrs * 2 : 256;
        ev->strs = realloc(ev->strs, ev->capstrs * sizeof *ev->strs);
        ev->lens = realloc(ev->lens, ev->capstrs * sizeof *ev->lens);
        if (!ev->strs || !ev->lens)
            exit(1);
    }
    char *s = xmalloc(len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    ev->strs[ev->nstrs] = s;
    ev->lens[ev->nstrs++] = len;
    return s;
}

/* Kafka's murmur2 (the Java client's default partitioner). */
static uint32_t murmur2(const void *key, size_t len)
{
    const uint32_t m = 0x5bd1e995;
    const int r = 24;
    uint32_t h = 0x9747b28c ^ (uint32_t)len;
    const unsigned char *d = key;
    while (len >= 4) {
        uint32_t k = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
        d += 4;
        len -= 4;
    }
    switch (len) {
    case 3: h ^= (uint32_t)d[2] << 16; /* fall through */
    case 2: h ^= (uint32_t)d[1] << 8;  /* fall through */
    case 1: h ^= d[0]; h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

/* Tap on the generator: keep a copy of every event (done before timing). */
static void keep(void *arg, const sh_record *recs, size_t n)
{
    struct events *ev = arg;
    for (size_t i = 0; i < n && ev->n < ev->cap; i++) {
        const sh_record *s = &recs[i];
        if (s->schema->nfields != ev->nf) {
            fprintf(stderr, "process_bench: events of %u fields, expected %u (ClickEvent)\n", s->schema->nfields,
                    ev->nf);
            exit(1);
        }
        size_t at = ev->n++;
        sh_value *v = &ev->vals[at * ev->nf];
        memcpy(v, s->values, ev->nf * sizeof *v);
        for (uint32_t f = 0; f < ev->nf; f++)
            if (v[f].type == SH_STRING)
                v[f].u.s.ptr = intern(ev, v[f].u.s.ptr, v[f].u.s.len);
        char *k = &ev->keys[at * KEY_CAP];
        size_t kl = s->key.len < KEY_CAP ? s->key.len : KEY_CAP;
        memcpy(k, s->key.ptr, kl);
        int32_t part = (int32_t)((murmur2(k, kl) & 0x7fffffff) % PARTITIONS);
        ev->recs[at] = (sh_record){.schema = s->schema, .time = s->time, .key = {k, kl}, .id = {"", 0},
                                   .values = v, .slot = part, .offset = ev->next_offset[part]++};
    }
}

static void generate(struct events *ev, const char *plugin_dir, size_t count, const char *const *kv)
{
    memset(ev, 0, sizeof *ev);
    ev->cap = count;
    ev->nf = 8; /* ClickEvent; checked below */
    ev->recs = xmalloc(count * sizeof *ev->recs);
    ev->vals = xmalloc(count * 8 * sizeof *ev->vals);
    ev->keys = xmalloc(count * KEY_CAP);
    mh_inst *gen = mh_load(plugin_dir, "source-clickgen", "generator", kv);
    mh_init(gen);
    mh_tap(gen, keep, ev);
    sh_rc rc = SH_OK;
    while (ev->n < count && rc == SH_OK)
        rc = mh_plugin(gen)->poll(mh_state(gen), BATCH, 0);
    if (ev->n != count) {
        fprintf(stderr, "process_bench: the generator gave %zu events, wanted %zu\n", ev->n, count);
        exit(1);
    }
    mh_tap(gen, NULL, NULL);
}

static void events_free(struct events *ev)
{
    for (size_t i = 0; i < ev->nstrs; i++)
        free(ev->strs[i]);
    free(ev->strs);
    free(ev->lens);
    free(ev->recs);
    free(ev->vals);
    free(ev->keys);
}

/* --- measuring -------------------------------------------------------------- */

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* VmRSS or VmHWM of this process, in bytes. */
static long long proc_status_bytes(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kb = -1;
    size_t fl = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':')
            kb = atoll(line + fl + 1);
    if (f)
        fclose(f);
    return kb * 1024;
}

/* Start VmHWM afresh (Linux >= 4.0), so it shows the peak of what follows
 * and not of the generation before. */
static void reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

/* The source instance records are emitted from: a clickgen never polled
 * (any loaded source would do; it only carries the edges). */
static mh_inst *feeder(const char *plugin_dir)
{
    static const char *const kv[] = {"seed=1", "start_time=1", NULL};
    mh_inst *f = mh_load(plugin_dir, "source-clickgen", "feed", kv);
    mh_init(f);
    return f;
}

static int feed(mh_inst *from, const struct events *ev)
{
    double next_tick = clock_s(CLOCK_MONOTONIC) + 0.1;
    for (size_t i = 0; i < ev->n; i += BATCH) {
        size_t n = ev->n - i < BATCH ? ev->n - i : BATCH;
        if (mh_emit(from, &ev->recs[i], n) != SH_OK)
            return -1;
        double now = clock_s(CLOCK_MONOTONIC);
        if (now >= next_tick) {
            if (mh_tick_all() != SH_OK)
                return -1;
            next_tick = now + 0.1;
        }
    }
    return 0;
}

static int throughput(const char *pdir, const char *bdir, size_t count, const char *users, const char *seed,
                      const char *start)
{
    char u[64], s[64], t[64], m[64];
    snprintf(u, sizeof u, "users=%s", users);
    snprintf(s, sizeof s, "seed=%s", seed);
    snprintf(t, sizeof t, "start_time=%s", start);
    snprintf(m, sizeof m, "max_events=%zu", count);
    const char *const gen_kv[] = {u, s, t, m, "clock=simulated", "rate=0", NULL};
    struct events ev;
    generate(&ev, pdir, count, gen_kv);
    mh_set_slots(PARTITIONS);

    static const char *const where[] = {"where=orderCheckoutEventCount != 0", NULL};
    mh_inst *src = feeder(pdir);
    mh_inst *sess = mh_load(pdir, "transform-session", "sessions", NULL);
    mh_inst *chk = mh_load(pdir, "transform-filter", "checkouts", where);
    mh_inst *tum = mh_load(pdir, "transform-tumble", "counts", NULL);
    mh_inst *out = mh_load(bdir, "sink-null", "null", NULL);
    mh_init(sess);
    mh_init(chk);
    mh_init(tum);
    mh_init(out);
    mh_connect(src, 0, sess, 0);
    mh_connect(sess, 0, chk, 0);
    mh_connect(sess, 0, tum, 0);
    mh_connect(chk, 0, out, 0);
    mh_connect(tum, 0, out, 1);

    double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (feed(src, &ev) != 0 || mh_watermark(src, INT64_MAX) != SH_OK) {
        fprintf(stderr, "process_bench: the pipeline failed\n");
        exit(1);
    }
    double wall = clock_s(CLOCK_MONOTONIC) - w0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    printf("events=%zu wall_s=%.3f cpu_s=%.3f events_per_s=%.0f events_per_cpu_s=%.0f sessions=%llu "
           "late=%llu docs=%llu\n",
           ev.n, wall, cpu, (double)ev.n / wall, (double)ev.n / cpu,
           (unsigned long long)mh_counter(sess, "sessions_emitted_total"),
           (unsigned long long)mh_counter(sess, "late_events_total"),
           (unsigned long long)mh_counter(out, "records_total"));
    mh_free_all();
    events_free(&ev);
    return 0;
}

static int state(const char *pdir, const char *bdir, size_t sessions, const char *seed, const char *start)
{
    char u[64], s[64], t[64], m[64];
    snprintf(u, sizeof u, "users=%zu", sessions);
    snprintf(s, sizeof s, "seed=%s", seed);
    snprintf(t, sizeof t, "start_time=%s", start);
    snprintf(m, sizeof m, "max_events=%zu", sessions);
    const char *const gen_kv[] = {u, s, t, m, "clock=simulated", "rate=0", "think_min=19s", "think_max=19s", NULL};
    struct events ev;
    generate(&ev, pdir, sessions, gen_kv);
    mh_set_slots(PARTITIONS);

    mh_inst *src = feeder(pdir);
    mh_inst *sess = mh_load(pdir, "transform-session", "sessions", NULL);
    mh_inst *out = mh_load(bdir, "sink-null", "null", NULL);
    mh_init(sess);
    mh_init(out);
    mh_connect(src, 0, sess, 0);
    mh_connect(sess, 0, out, 0);
    reset_peak_rss();
    long long before = proc_status_bytes("VmRSS");
    if (feed(src, &ev) != 0) {
        fprintf(stderr, "process_bench: the pipeline failed\n");
        exit(1);
    }
    long long after = proc_status_bytes("VmRSS"), hwm = proc_status_bytes("VmHWM");
    int64_t open = mh_gauge(sess, "open_sessions");
    uint64_t fired = mh_counter(sess, "sessions_emitted_total"), late = mh_counter(sess, "late_events_total");
    printf("events=%zu open_sessions=%lld fired=%llu late=%llu rss_before=%lld rss_after=%lld vmhwm=%lld "
           "bytes_per_session=%.1f\n",
           ev.n, (long long)open, (unsigned long long)fired, (unsigned long long)late, before, after, hwm,
           open > 0 ? (double)(after - before) / (double)open : 0.0);
    mh_free_all();
    events_free(&ev);
    return open == (int64_t)sessions && fired == 0 ? 0 : 3;
}

int main(int argc, char **argv)
{
    if (argc == 8 && strcmp(argv[1], "throughput") == 0)
        return throughput(argv[2], argv[3], strtoull(argv[4], NULL, 10), argv[5], argv[6], argv[7]);
    if (argc == 7 && strcmp(argv[1], "state") == 0)
        return state(argv[2], argv[3], strtoull(argv[4], NULL, 10), argv[5], argv[6]);
    fprintf(stderr, "usage: process_bench throughput PLUGIN_DIR BENCH_PLUGIN_DIR EVENTS USERS SEED START_TIME\n"
                    "       process_bench state PLUGIN_DIR BENCH_PLUGIN_DIR SESSIONS SEED START_TIME\n");
    return 2;
}
