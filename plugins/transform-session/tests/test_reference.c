/* test_reference.c - randomized end-to-end check of session -> filter ->
 * tumble against straightforward reference implementations.
 *
 * Generates click journeys as docs/semantics.md section 2 describes (hundreds of
 * users, interleaved, think times including exactly 1000 and 1001 ms, users
 * coming back after short pauses), keys them onto 2-4 slots, and disorders
 * each slot's arrival order by up to 0, 3 or 20 seconds.  Within that bound
 * nothing is ever late (an event's own window always ends after the
 * watermark), so:
 *
 *  - session boundaries, eventCount and deptList must equal reference A:
 *    sort each user's events by time, split where the next event starts
 *    more than `gap` after the previous one, aggregate;
 *  - orderCheckoutEventCount depends on arrival order when a session's
 *    events arrive out of time order (the checkout records the count at the
 *    moment it arrives; sessions merged by a bridging event add their
 *    checkout counts, as the reference AggregateFunction.merge does).  It
 *    must equal reference B, a naive arrival-order simulation with plain
 *    arrays; and for every session whose events did arrive in time order,
 *    B must equal A's "count up to the last checkout" (checked too);
 *  - the details stream is the sessions with a checkout;
 *  - the tumble documents must equal a bucketing of the reference sessions
 *    by end - 1.
 *
 * The tumble plugin is compiled into this binary by including its sources
 * (one plugin per test binary is what the build links), with its entry
 * function renamed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "click_input.h"

#define streamhost_plugin_entry tumble_plugin_entry
#include "../../transform-tumble/tumble_output.c"
#include "../../transform-tumble/tumble_plugin.c"
#include "../../transform-tumble/tumble_windows.c"
#include "../../transform-tumble/tumble_exchange.c"
#include "../../transform-tumble/tumble_fire.c"
#undef streamhost_plugin_entry

#define GAP 1000
#define WINDOW 10000
#define NPRODUCTS 8
#define MAX_OPEN 64 /* reference B: open sessions per user, far above need */

static const char *const products[NPRODUCTS] = {
    "cell phones", "laptops", "ear phones", "soundbars",
    "cd players",  "AirPods", "video games", "cameras"};

/* --- random numbers (xorshift64*) ---------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}
static int64_t rnd_in(int64_t lo, int64_t hi) /* inclusive */
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* --- generated input ------------------------------------------------------ */

typedef struct gen_event {
    int64_t t, user;
    const char *et, *pt;
    int32_t slot;
    int64_t offset;
    int64_t arrival; /* sort key of the slot's arrival order */
    int u;           /* user index */
} gen_event;

typedef struct gen {
    gen_event *ev;
    size_t n, cap;
    int nusers, nslots;
    int64_t base_user;
} gen;

static void gen_push(gen *g, int u, int64_t t, const char *et, const char *pt)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 4096;
        g->ev = realloc(g->ev, g->cap * sizeof *g->ev);
    }
    int64_t user = g->base_user + u * 7;
    g->ev[g->n++] = (gen_event){.t = t, .user = user, .et = et, .pt = pt,
                                .slot = (int32_t)(user % g->nslots), .u = u};
}

/* Think time: mostly the reference's 50-550 ms, sometimes right at the gap. */
static int64_t think(void)
{
    int r = (int)rnd_in(0, 99);
    if (r < 82)
        return rnd_in(50, 550);
    if (r < 87)
        return GAP;     /* touches: same session */
    if (r < 92)
        return GAP + 1; /* one ms too far: new session */
    if (r < 95)
        return GAP - 1;
    return rnd_in(GAP + 2, 4000);
}

static const char *pick(const char *const *opts, int n) { return opts[rnd_in(0, n - 1)]; }

/* One journey, the random walk of docs/semantics.md section 2.  Returns the time
 * of its last event. */
static int64_t gen_journey(gen *g, int u, int64_t t)
{
    const char *et = "home_page", *pt = "N/A";
    for (;;) {
        gen_push(g, u, t, et, pt);
        if (!*et)
            return t;
        const char *next;
        if (!strcmp(et, "home_page")) {
            next = "product_catalog";
        } else if (!strcmp(et, "product_catalog")) {
            static const char *const o[] = {"home_page", "product_detail"};
            next = pick(o, 2);
        } else if (!strcmp(et, "product_detail")) {
            static const char *const o[] = {"product_catalog", "add_to_cart"};
            next = pick(o, 2);
        } else if (!strcmp(et, "add_to_cart")) {
            static const char *const o[] = {"product_catalog", "remove_from_cart", "order"};
            next = pick(o, 3);
        } else if (!strcmp(et, "order")) {
            static const char *const o[] = {"order_checkout", "remove_from_cart", "product_catalog"};
            next = pick(o, 3);
        } else if (!strcmp(et, "order_checkout")) {
            next = "";
        } else { /* remove_from_cart */
            static const char *const o[] = {"", "product_detail", "product_catalog"};
            next = pick(o, 3);
        }
        if (!*next)
            pt = "";
        else if (!strcmp(next, "home_page") || !strcmp(next, "product_catalog"))
            pt = "N/A";
        else if (!strcmp(next, "product_detail"))
            pt = products[rnd_in(0, NPRODUCTS - 1)];
        /* add_to_cart, remove_from_cart, order, order_checkout keep pt */
        et = next;
        t += think();
    }
}

static int cmp_arrival(const void *a, const void *b)
{
    const gen_event *x = a, *y = b;
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    if (x->arrival != y->arrival)
        return x->arrival < y->arrival ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->user > y->user) - (x->user < y->user);
}

/* Builds the arrival sequence: per slot ordered by time + jitter, slots
 * interleaved in random chunks.  Returns a malloc'd array of n events. */
static gen_event *gen_arrivals(gen *g, const int64_t *jitter)
{
    for (size_t i = 0; i < g->n; i++) {
        int64_t j = jitter[g->ev[i].slot];
        g->ev[i].arrival = g->ev[i].t + (j ? rnd_in(0, j) : 0);
    }
    qsort(g->ev, g->n, sizeof *g->ev, cmp_arrival);
    size_t *pos = calloc((size_t)g->nslots + 1, sizeof *pos); /* slot starts */
    for (size_t i = 0; i < g->n; i++)
        pos[g->ev[i].slot + 1]++;
    for (int s = 0; s < g->nslots; s++)
        pos[s + 1] += pos[s];
    size_t *cur = calloc((size_t)g->nslots, sizeof *cur);
    for (int s = 0; s < g->nslots; s++)
        cur[s] = pos[s];
    for (size_t i = 0; i < g->n; i++) /* Kafka offsets: arrival index in slot */
        g->ev[i].offset = (int64_t)(i - pos[g->ev[i].slot]);
    gen_event *out = malloc(g->n * sizeof *out);
    size_t k = 0;
    while (k < g->n) {
        int s = (int)rnd_in(0, g->nslots - 1);
        size_t chunk = (size_t)rnd_in(1, 60);
        while (chunk-- && cur[s] < pos[s + 1])
            out[k++] = g->ev[cur[s]++];
    }
    free(pos);
    free(cur);
    return out;
}

/* --- reference sessions ---------------------------------------------------- */

typedef struct ref_sess {
    int64_t user, start, end;
    uint32_t count, checkout;
    unsigned depts;      /* bit per product index */
    int in_time_order;   /* B: every event arrived later in time, no merge */
    int64_t last_t;
    uint32_t checkout_sorted; /* A's checkout, filled when matched */
} ref_sess;

typedef struct ref_list {
    ref_sess *s;
    size_t n, cap;
} ref_list;

static void ref_push(ref_list *l, ref_sess s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->s = realloc(l->s, l->cap * sizeof *l->s);
    }
    l->s[l->n++] = s;
}

static int product_index(const char *pt)
{
    for (int i = 0; i < NPRODUCTS; i++)
        if (!strcmp(pt, products[i]))
            return i;
    return -1;
}

static void aggregate(ref_sess *s, const gen_event *e)
{
    int p = product_index(e->pt);
    if (p >= 0) {
        s->count++;
        s->depts |= 1u << p;
    }
    if (!strcmp(e->et, "order_checkout"))
        s->checkout = s->count;
}

static int cmp_user_time(const void *a, const void *b)
{
    const gen_event *x = a, *y = b;
    if (x->u != y->u)
        return x->u - y->u;
    return (x->t > y->t) - (x->t < y->t);
}

/* Reference A: sort by (user, time), split on gaps > GAP. */
static ref_list reference_sorted(const gen *g)
{
    gen_event *ev = malloc(g->n * sizeof *ev);
    memcpy(ev, g->ev, g->n * sizeof *ev);
    qsort(ev, g->n, sizeof *ev, cmp_user_time);
    ref_list out = {0};
    for (size_t i = 0; i < g->n;) {
        ref_sess s = {.user = ev[i].user, .start = ev[i].t};
        size_t j = i;
        do {
            aggregate(&s, &ev[j]);
            j++;
        } while (j < g->n && ev[j].u == ev[i].u && ev[j].t - ev[j - 1].t <= GAP);
        s.end = ev[j - 1].t + GAP;
        ref_push(&out, s);
        i = j;
    }
    free(ev);
    return out;
}

/* Reference B: arrival order, per user a plain array of open sessions; an
 * event merges every session it touches (sums), then aggregates. */
static ref_list reference_arrival(const gen *g, const gen_event *arr)
{
    ref_sess(*open)[MAX_OPEN] = calloc((size_t)g->nusers, sizeof *open);
    int *nopen = calloc((size_t)g->nusers, sizeof *nopen);
    for (size_t i = 0; i < g->n; i++) {
        const gen_event *e = &arr[i];
        ref_sess *os = open[e->u];
        int64_t start = e->t, end = e->t + GAP;
        ref_sess m = {.user = e->user, .start = start, .end = end,
                      .in_time_order = 1, .last_t = INT64_MIN};
        int hits = 0;
        for (int k = 0; k < nopen[e->u];) {
            ref_sess *s = &os[k];
            if (s->start <= end && start <= s->end) {
                if (hits++ == 0) {
                    m = *s;
                } else {
                    m.count += s->count;
                    m.checkout += s->checkout;
                    m.depts |= s->depts;
                    m.start = s->start < m.start ? s->start : m.start;
                    m.end = s->end > m.end ? s->end : m.end;
                    m.in_time_order = 0;
                    m.last_t = s->last_t > m.last_t ? s->last_t : m.last_t;
                }
                os[k] = os[--nopen[e->u]];
            } else {
                k++;
            }
        }
        m.start = start < m.start ? start : m.start;
        m.end = end > m.end ? end : m.end;
        if (e->t < m.last_t)
            m.in_time_order = 0;
        m.last_t = e->t > m.last_t ? e->t : m.last_t;
        aggregate(&m, e);
        assert_true(nopen[e->u] < MAX_OPEN);
        os[nopen[e->u]++] = m;
    }
    ref_list out = {0};
    for (int u = 0; u < g->nusers; u++)
        for (int k = 0; k < nopen[u]; k++)
            ref_push(&out, open[u][k]);
    free(open);
    free(nopen);
    return out;
}

static int cmp_end_user(const void *a, const void *b)
{
    const ref_sess *x = a, *y = b;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return (x->start > y->start) - (x->start < y->start);
}

/* Sorted, comma-joined department names of a bitmask. */
static const char *dept_names(unsigned mask, char *buf, size_t len)
{
    static const int by_name[NPRODUCTS] = {5, 7, 4, 0, 2, 1, 3, 6}; /* bytewise */
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < NPRODUCTS; i++)
        if (mask & (1u << by_name[i]))
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "", products[by_name[i]]);
    return buf;
}

/* --- the pipeline under test ------------------------------------------------- */

typedef struct pipeline {
    testhost *sess, *tumb;
    size_t forwarded;
    int64_t tumb_wm;
} pipeline;

/* Hand the session plugin's new output to tumble, then its watermark. */
static void pump(pipeline *p)
{
    size_t n = th_count(p->sess);
    sh_record *recs = calloc(n - p->forwarded + 1, sizeof *recs);
    size_t k = 0;
    for (size_t i = p->forwarded; i < n; i++) {
        const th_rec *r = th_get(p->sess, i);
        assert_int_equal(r->port, 0); /* nothing late in this regime */
        recs[k++] = (sh_record){.schema = r->schema, .time = r->time,
                                .key = {r->key, strlen(r->key)},
                                .id = {r->id, strlen(r->id)},
                                .values = r->values, .slot = r->slot, .offset = r->offset};
    }
    if (k)
        assert_int_equal(th_process(p->tumb, 0, recs, k), SH_OK);
    free(recs);
    p->forwarded = n;
    int64_t wm = th_last_watermark(p->sess);
    if (wm > p->tumb_wm) {
        assert_int_equal(th_watermark(p->tumb, wm), SH_OK);
        p->tumb_wm = wm;
    }
}

static void feed_batch(pipeline *p, const gen_event *ev, size_t n)
{
    ci_event *ce = malloc(n * sizeof *ce);
    for (size_t i = 0; i < n; i++)
        ce[i] = (ci_event){ev[i].t, ev[i].user, ev[i].et, ev[i].pt, ev[i].slot, ev[i].offset};
    assert_int_equal(ci_feed(p->sess, ce, n), SH_OK);
    free(ce);
    pump(p);
}

/* --- comparing ----------------------------------------------------------------- */

static void compare_sessions(pipeline *p, const ref_list *ref, uint64_t seed)
{
    char want[256];
    assert_int_equal(th_count(p->sess), ref->n);
    size_t details = 0, want_details = 0;
    for (size_t i = 0; i < ref->n; i++) {
        const ref_sess *s = &ref->s[i];
        const th_rec *r = th_get(p->sess, i);
        dept_names(s->depts, want, sizeof want);
        if (th_int(r, "userId") != s->user || th_int(r, "windowBeginTime") != s->start ||
            th_int(r, "windowEndTime") != s->end || th_int(r, "eventCount") != s->count ||
            th_int(r, "orderCheckoutEventCount") != s->checkout ||
            strcmp(th_list(r, "deptList"), want) != 0)
            fail_msg("seed %llu session %zu: got user %lld [%lld,%lld) count %lld checkout "
                     "%lld {%s}; want user %lld [%lld,%lld) count %u checkout %u {%s}",
                     (unsigned long long)seed, i, (long long)th_int(r, "userId"),
                     (long long)th_int(r, "windowBeginTime"), (long long)th_int(r, "windowEndTime"),
                     (long long)th_int(r, "eventCount"), (long long)th_int(r, "orderCheckoutEventCount"),
                     th_list(r, "deptList"), (long long)s->user, (long long)s->start,
                     (long long)s->end, s->count, s->checkout, want);
        char id[64];
        snprintf(id, sizeof id, "%lld-%lld", (long long)s->user, (long long)s->start);
        assert_string_equal(r->id, id);
        assert_int_equal(r->time, s->end - 1);
        /* the filter of the default pipeline: orderCheckoutEventCount != 0 */
        details += th_int(r, "orderCheckoutEventCount") != 0;
        want_details += s->checkout != 0;
    }
    assert_int_equal(details, want_details);
}

typedef struct ref_window {
    int64_t start;
    uint64_t count, with;
    uint32_t dept[NPRODUCTS];
} ref_window;

static void compare_windows(pipeline *p, const ref_list *ref, uint64_t seed)
{
    /* ref is sorted by end, so windows come out in start order */
    ref_window *w = calloc(ref->n + 1, sizeof *w);
    size_t nw = 0;
    for (size_t i = 0; i < ref->n; i++) {
        int64_t t = ref->s[i].end - 1;
        int64_t start = t - ((t % WINDOW) + WINDOW) % WINDOW;
        if (!nw || w[nw - 1].start != start)
            w[nw++].start = start;
        ref_window *x = &w[nw - 1];
        x->count++;
        x->with += ref->s[i].checkout != 0;
        for (int d = 0; d < NPRODUCTS; d++)
            x->dept[d] += (ref->s[i].depts >> d) & 1;
    }
    static const int by_name[NPRODUCTS] = {5, 7, 4, 0, 2, 1, 3, 6};
    size_t k = 0;
    for (size_t i = 0; i < nw; i++) {
        const th_rec *r = th_get(p->tumb, k++);
        assert_non_null(r);
        assert_string_equal(r->schema->name, "user_session_counts");
        if (th_int(r, "windowBeginTime") != w[i].start ||
            th_int(r, "userSessionCount") != (int64_t)w[i].count ||
            th_int(r, "userSessionCountWithOrderCheckout") != (int64_t)w[i].with)
            fail_msg("seed %llu window %lld: got %lld sessions, %lld with checkout at %lld",
                     (unsigned long long)seed, (long long)w[i].start,
                     (long long)th_int(r, "userSessionCount"),
                     (long long)th_int(r, "userSessionCountWithOrderCheckout"),
                     (long long)th_int(r, "windowBeginTime"));
        assert_int_equal(th_int(r, "percentSessionswithBuy"), (int64_t)(w[i].with * 100 / w[i].count));
        assert_int_equal(th_int(r, "windowEndTime"), w[i].start + WINDOW);
        for (int j = 0; j < NPRODUCTS; j++) {
            int d = by_name[j];
            if (!w[i].dept[d])
                continue;
            r = th_get(p->tumb, k++);
            assert_non_null(r);
            assert_string_equal(r->schema->name, "departments_count");
            assert_string_equal(th_str(r, "departmentName"), products[d]);
            assert_int_equal(th_int(r, "departmentCount"), w[i].dept[d]);
            assert_int_equal(th_int(r, "windowBeginTime"), w[i].start);
        }
    }
    assert_int_equal(th_count(p->tumb), k);
    free(w);
}

/* A and B must agree on everything but the checkout of sessions whose
 * events arrived out of time order. */
static void compare_references(ref_list *a, ref_list *b, size_t *ordered, size_t *disordered)
{
    assert_int_equal(a->n, b->n);
    qsort(a->s, a->n, sizeof *a->s, cmp_end_user);
    qsort(b->s, b->n, sizeof *b->s, cmp_end_user);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->s[i].user, b->s[i].user);
        assert_int_equal(a->s[i].start, b->s[i].start);
        assert_int_equal(a->s[i].end, b->s[i].end);
        assert_int_equal(a->s[i].count, b->s[i].count);
        assert_int_equal(a->s[i].depts, b->s[i].depts);
        if (b->s[i].in_time_order) {
            assert_int_equal(a->s[i].checkout, b->s[i].checkout);
            ++*ordered;
        } else {
            ++*disordered;
        }
    }
}

typedef struct run_stats {
    size_t events, sessions, ordered, disordered, merges_seen;
} run_stats;

static void run_seed(uint64_t seed, int nslots, const int64_t *jitter, run_stats *stats)
{
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    gen g = {.nusers = 300, .nslots = nslots, .base_user = 1000};
    for (int u = 0; u < g.nusers; u++) {
        int64_t t = rnd_in(0, 90000);
        int journeys = (int)rnd_in(1, 3);
        for (int j = 0; j < journeys; j++)
            t = gen_journey(&g, u, t) + rnd_in(50, 2500); /* may continue the session */
    }
    gen_event *arr = gen_arrivals(&g, jitter);
    ref_list a = reference_sorted(&g);
    ref_list b = reference_arrival(&g, arr);
    size_t ordered = 0, disordered = 0;
    compare_references(&a, &b, &ordered, &disordered);

    pipeline p = {.sess = ci_session(NULL), .tumb = NULL, .tumb_wm = INT64_MIN};
    p.tumb = th_new(tumble_plugin_entry(SH_ABI_VERSION), NULL);
    assert_non_null(p.sess);
    assert_int_equal(th_init(p.tumb), SH_OK);
    for (size_t i = 0; i < g.n;) {
        size_t n = (size_t)rnd_in(1, 300);
        if (n > g.n - i)
            n = g.n - i;
        feed_batch(&p, arr + i, n);
        i += n;
    }
    assert_int_equal(th_watermark(p.sess, INT64_MAX), SH_OK);
    pump(&p);
    assert_int_equal(th_counter(p.sess, "late_events_total"), 0);
    assert_int_equal(th_counter(p.tumb, "late_sessions_total"), 0);
    assert_int_equal(th_gauge(p.sess, "open_sessions"), 0);
    compare_sessions(&p, &b, seed);
    compare_windows(&p, &b, seed);

    stats->events += g.n;
    stats->sessions += b.n;
    stats->ordered += ordered;
    stats->disordered += disordered;
    ci_free(p.sess);
    ci_free(p.tumb);
    free(a.s);
    free(b.s);
    free(arr);
    free(g.ev);
}

/* Slots with in-order arrival only: every checkout equals reference A. */
static void test_in_order(void **unused)
{
    run_stats st = {0};
    const int64_t jitter[4] = {0, 0, 0, 0};
    for (uint64_t seed = 1; seed <= 10; seed++)
        run_seed(seed, 2 + (int)(seed % 3), jitter, &st);
    printf("# in order: %zu events, %zu sessions\n", st.events, st.sessions);
    assert_int_equal(st.disordered, 0);
    assert_true(st.sessions > 1000);
}

/* Slots disordered by up to 3 s and 20 s: merges of open sessions. */
static void test_out_of_order(void **unused)
{
    run_stats st = {0};
    for (uint64_t seed = 100; seed < 120; seed++) {
        int64_t jitter[4];
        for (int s = 0; s < 4; s++) {
            static const int64_t modes[] = {0, 3000, 20000};
            jitter[s] = modes[(seed + (uint64_t)s) % 3];
        }
        run_seed(seed, 2 + (int)(seed % 3), jitter, &st);
    }
    printf("# out of order: %zu events, %zu sessions, %zu arrived in time order, "
           "%zu did not\n", st.events, st.sessions, st.ordered, st.disordered);
    assert_true(st.disordered > 100); /* the merge paths were exercised */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_out_of_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
