/* test_property.c - random batches through the session transform (issue
 * 11, property tests), checked against the host's invariants rather than
 * exact outputs:
 *   - no crash, no sanitizer report (`make test SANITIZE=1`);
 *   - nothing lost: every event with a key is in an emitted session's
 *     counts or on the `late` output, every event without one is a dead
 *     letter (counted events: product type a non-empty string but N/A);
 *   - watermarks never go back, and no session is emitted at or behind a
 *     watermark already emitted; sessions come out in (end, userId) order;
 *   - every session is well formed (window, id, key, sorted departments,
 *     checkouts <= events) and nothing is held after the final watermark.
 * Input: random schemas (field order, extra fields of every type, now and
 * then a schema the plugin must refuse), nulls, values of the wrong type,
 * empty and odd strings, times anywhere from INT64_MIN to INT64_MAX and
 * out of order, random slots, host watermarks, ticks and upstream slots.
 * The seed is printed; SH_PROPTEST_SEED=N repeats a run,
 * SH_PROPTEST_ITERS=N changes the number of rounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "testhost.h"

const sh_plugin *streamhost_plugin_entry(uint32_t);

static const char *const depts[] = {"laptops", "cameras", "soundbars", "tv", "phones", "N/A", "", "a,b", "z"};

/* One input schema: userid, event_type, product_type at random positions
 * among up to three extra fields; `bad` breaks one of the three. */
typedef struct in_schema {
    sh_field fields[6];
    sh_schema schema;
    int key, et, pt; /* positions */
    int bad;
} in_schema;

static void make_schema(in_schema *s, uint64_t *rng, int bad)
{
    static const char *const extra_names[] = {"ip", "eventtimestamp", "devicetype"};
    uint32_t n = 3 + (uint32_t)th_below(rng, 4);
    int pos[6] = {0, 1, 2, 3, 4, 5};
    for (int i = (int)n - 1; i > 0; i--) { /* shuffle */
        int j = (int)th_below(rng, (uint64_t)i + 1), t = pos[i];
        pos[i] = pos[j];
        pos[j] = t;
    }
    s->key = pos[0];
    s->et = pos[1];
    s->pt = pos[2];
    s->fields[s->key] = (sh_field){"userid", SH_INT};
    s->fields[s->et] = (sh_field){"event_type", SH_STRING};
    s->fields[s->pt] = (sh_field){"product_type", SH_STRING};
    for (uint32_t i = 3; i < n; i++)
        s->fields[pos[i]] = (sh_field){extra_names[i - 3], (uint32_t)th_below(rng, 6)};
    s->bad = bad;
    if (bad == 1)
        s->fields[s->key].type = SH_STRING; /* a key the plugin cannot use */
    else if (bad == 2)
        s->fields[s->pt].name = "category"; /* a missing field */
    s->schema = (sh_schema){"clickstream", n, s->fields};
}

static sh_value rand_value(testhost *th, uint64_t *rng, uint32_t type)
{
    sh_value v = sh_v_null();
    if (th_below(rng, 10) == 0)
        return v; /* null is allowed for every declared type */
    if (th_below(rng, 50) == 0)
        type = (uint32_t)th_below(rng, 6); /* a sender that breaks its own schema */
    switch (type) {
    case SH_INT: v = sh_v_int((int64_t)th_rand(rng)); break;
    case SH_DOUBLE: v.type = SH_DOUBLE; v.u.d = (double)(int64_t)th_rand(rng) / 7.0; break;
    case SH_STRING: {
        sh_str s = th_rand_text(th, rng, depts, 0);
        v = sh_v_str(s.ptr, s.len);
        break;
    }
    case SH_BOOL: v.type = SH_BOOL; v.u.b = (int)th_below(rng, 2); break;
    case SH_STRLIST: {
        uint32_t k = (uint32_t)th_below(rng, 4);
        sh_str *items = th_scratch(th, (k ? k : 1) * sizeof *items);
        for (uint32_t i = 0; i < k; i++)
            items[i] = th_rand_text(th, rng, depts, sizeof depts / sizeof depts[0]);
        v.type = SH_STRLIST;
        v.u.l = (sh_strlist){items, k};
        break;
    }
    default: break;
    }
    return v;
}

static int countable(const sh_value *pt)
{
    return pt->type == SH_STRING && pt->u.s.len > 0 && !sh_str_eq(pt->u.s, "N/A");
}

static int str_cmp(sh_str a, sh_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* Totals of what a round fed. */
typedef struct fed {
    uint64_t records, keyed, counted;
} fed;

/* One record for schema `s` at time t. */
static void make_event(testhost *th, uint64_t *rng, const in_schema *s, int64_t t, const int64_t *users,
                       size_t nusers, sh_record *r, fed *f)
{
    sh_value *v = th_scratch(th, s->schema.nfields * sizeof *v);
    for (uint32_t i = 0; i < s->schema.nfields; i++)
        v[i] = rand_value(th, rng, s->fields[i].type);
    uint64_t k = th_below(rng, 100);
    if (k < 3)
        v[s->key] = sh_v_null();
    else if (k < 4)
        v[s->key] = sh_v_str("1001", 4); /* not an INT: a dead letter like null */
    else
        v[s->key] = sh_v_int(users[th_below(rng, nusers)]);
    k = th_below(rng, 100);
    if (k < 25)
        v[s->et] = sh_v_str("order_checkout", 14);
    else if (k < 35)
        v[s->et] = sh_v_null();
    k = th_below(rng, 100);
    if (k < 60) {
        const char *d = depts[th_below(rng, sizeof depts / sizeof depts[0])];
        v[s->pt] = sh_v_str(d, strlen(d));
    } else if (k < 70) { /* > 64 distinct departments: the plugin's ext records */
        char *d = th_scratch(th, 16);
        int n = snprintf(d, 16, "dept%u", (unsigned)th_below(rng, 90));
        v[s->pt] = sh_v_str(d, (size_t)n);
    } else if (k < 75) {
        v[s->pt] = sh_v_int(7); /* wrong type: not counted */
    }
    static const int32_t slots[] = {SH_NO_SLOT, 0, 1, 2, 3, 70000, -5};
    *r = (sh_record){.schema = &s->schema, .time = t, .values = v,
                     .slot = slots[th_below(rng, sizeof slots / sizeof slots[0])],
                     .offset = (int64_t)th_below(rng, 1u << 20)};
    f->records++;
    if (v[s->key].type == SH_INT) {
        f->keyed++;
        f->counted += (uint64_t)countable(&v[s->pt]);
    }
}


/* Checks every emitted record against the invariants; returns the number
 * of counted events it accounts for. */
static uint64_t check_output(testhost *th, int64_t gap)
{
    uint64_t counted = 0, late = 0, sessions = 0;
    int64_t prev_end = INT64_MIN, prev_user = INT64_MIN;
    for (size_t i = 0; i < th_count(th); i++) {
        const th_rec *r = th_get(th, i);
        if (r->port == 1) { /* a late event, unchanged */
            late++;
            int pt = sh_schema_field(r->schema, "product_type");
            assert_true(pt >= 0);
            counted += (uint64_t)countable(&r->values[pt]);
            int64_t end = r->time > INT64_MAX - gap ? INT64_MAX : r->time + gap;
            assert_true(end - 1 <= r->wm_at_emit); /* its own window had passed */
            continue;
        }
        assert_int_equal(r->port, 0);
        sessions++;
        const sh_value *v = r->values;
        int64_t user = v[SS_F_USER_ID].u.i, count = v[SS_F_EVENT_COUNT].u.i;
        int64_t checkout = v[SS_F_CHECKOUT_COUNT].u.i;
        int64_t begin = v[SS_F_BEGIN].u.i, end = v[SS_F_END].u.i;
        assert_true(count >= 0);
        assert_true(checkout >= 0 && checkout <= count);
        assert_int_equal(v[SS_F_EVENT_KEY].u.i, 1);
        counted += (uint64_t)count;
        assert_true(begin < end || (begin == end && end == INT64_MAX)); /* saturated at the end of time */
        assert_true(end == INT64_MAX || (uint64_t)end - (uint64_t)begin >= (uint64_t)gap);
        assert_int_equal(r->time, end - 1);
        assert_true(r->time > r->wm_at_emit); /* not behind an emitted watermark */
        assert_true(end > prev_end || (end == prev_end && user > prev_user)); /* (end, userId) order */
        prev_end = end;
        prev_user = user;
        char key[32], id[64];
        snprintf(key, sizeof key, "%lld", (long long)user);
        snprintf(id, sizeof id, "%lld-%lld", (long long)user, (long long)begin);
        assert_string_equal(r->key, key);
        assert_string_equal(r->id, id);
        const sh_strlist *l = &v[SS_F_DEPT_LIST].u.l;
        assert_int_equal(v[SS_F_DEPT_LIST].type, SH_STRLIST);
        assert_true(l->n <= count);
        for (uint32_t k = 0; k < l->n; k++) {
            assert_true(l->items[k].len > 0 && !sh_str_eq(l->items[k], "N/A"));
            if (k)
                assert_true(str_cmp(l->items[k - 1], l->items[k]) < 0); /* sorted, distinct */
        }
    }
    assert_int_equal(late, th_counter(th, "late_events_total"));
    assert_int_equal(sessions, th_counter(th, "sessions_emitted_total"));
    return counted;
}

/* What the rounds covered, printed at the end (a property test that never
 * reaches a case proves nothing about it). */
static struct {
    uint64_t events, sessions, late, dead, refused, early; /* early: sessions fired before the end */
} seen;

static void one_round(uint64_t *rng)
{
    static const char *const gaps[] = {"1ms", "7ms", "1s", "30s", "106751991167d"};
    static const char *const ooos[] = {"0ms", "1ms", "20s", "106751991167d"};
    static const char *const idles[] = {"0s", "50ms", "1m"};
    const char *gap = gaps[th_below(rng, 5)];
    char kv_gap[32], kv_ooo[40], kv_idle[32];
    snprintf(kv_gap, sizeof kv_gap, "gap=%s", gap);
    snprintf(kv_ooo, sizeof kv_ooo, "out_of_orderness=%s", ooos[th_below(rng, 4)]);
    snprintf(kv_idle, sizeof kv_idle, "idleness=%s", idles[th_below(rng, 3)]);
    const char *kv[] = {kv_gap, kv_ooo, kv_idle, NULL};
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), kv);
    assert_non_null(th);
    int64_t now = 1000000;
    th_set_now(th, now);
    if (th_below(rng, 4) == 0) {
        static const int32_t up[] = {0, 1, 2, 3};
        th_set_upstream_slots(th, up, 1 + th_below(rng, 4));
    }
    assert_int_equal(th_init(th), SH_OK);

    in_schema schemas[2];
    make_schema(&schemas[0], rng, 0);
    make_schema(&schemas[1], rng, th_below(rng, 20) == 0 ? 1 + (int)th_below(rng, 2) : 0);
    int64_t users[8];
    size_t nusers = 1 + th_below(rng, 8);
    for (size_t i = 0; i < nusers; i++)
        users[i] = th_below(rng, 10) == 0 ? (int64_t)th_rand(rng) : 1000 + (int64_t)i;
    static const int64_t bases[] = {0, 1600000000000, -1000000000000, INT64_MAX - 100000, INT64_MIN + 100000};
    int64_t base = bases[th_below(rng, 5)], host_wm = INT64_MIN;
    fed f = {0};
    int refused = 0, wild = th_below(rng, 3) == 0;
    size_t nbatches = 1 + th_below(rng, 12);
    for (size_t b = 0; b < nbatches && !refused; b++) {
        size_t n = th_below(rng, 6) == 0 ? 0 : th_below(rng, 200);
        sh_record *recs = th_scratch(th, (n ? n : 1) * sizeof *recs);
        const in_schema *s = &schemas[th_below(rng, 4) == 0];
        for (size_t i = 0; i < n; i++) {
            if (th_below(rng, 3) == 0) /* time moves on, with jitter both ways */
                base = th_event_time(rng, base, wild && th_below(rng, 10) == 0);
            make_event(th, rng, s, th_event_time(rng, base, wild), users, nusers, &recs[i], &f);
        }
        sh_rc rc = th_process(th, 0, recs, n);
        if (s->bad && n) {
            assert_int_equal(rc, SH_FATAL); /* a one-line error names the key to fix */
            refused = 1;
            seen.refused++;
            break;
        }
        assert_int_equal(rc, SH_OK);
        if (th_below(rng, 3) == 0) { /* the host's input watermark: only ever up */
            int64_t w = th_event_time(rng, base, wild);
            w = w < INT64_MIN + 20000 ? INT64_MIN : w - 20000;
            if (w > host_wm) {
                host_wm = w;
                assert_int_equal(th_watermark(th, w), SH_OK);
            }
        }
        if (th_below(rng, 4) == 0) { /* the host asks what is held (a commit) */
            int64_t held[4] = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
            streamhost_plugin_entry(SH_ABI_VERSION)->held(th_state(th), held, 1 + th_below(rng, 4));
            for (int i = 0; i < 4; i++)
                assert_true(held[i] == INT64_MAX || (held[i] >= 0 && held[i] < (1 << 20))); /* a fed offset */
        }
        if (th_below(rng, 3) == 0) {
            now += (int64_t)th_below(rng, 100000);
            th_set_now(th, now);
            assert_int_equal(th_tick(th, now), SH_OK);
        }
        th_scratch_reset(th); /* records are only valid during the call */
    }
    if (!refused) {
        seen.early += th_counter(th, "sessions_emitted_total");
        assert_int_equal(th_watermark(th, INT64_MAX), SH_OK); /* end of a finite input */
        assert_int_equal(th_last_watermark(th), INT64_MAX);
        assert_int_equal(th_gauge(th, "open_sessions"), 0);
        assert_int_equal(check_output(th, th_duration_ms(gap)), f.counted);
        assert_int_equal(th_counter(th, "keyed_events_total"), f.keyed);
        assert_int_equal(th_dead_letters(th), f.records - f.keyed);
        assert_int_equal(th_counter(th, "null_keys_total"), f.records - f.keyed);
        int64_t held[8];
        for (int i = 0; i < 8; i++)
            held[i] = INT64_MAX;
        streamhost_plugin_entry(SH_ABI_VERSION)->held(th_state(th), held, 8);
        for (int i = 0; i < 8; i++)
            assert_true(held[i] == INT64_MAX); /* nothing open, nothing held */
        seen.events += f.records;
        seen.sessions += th_counter(th, "sessions_emitted_total");
        seen.late += th_counter(th, "late_events_total");
        seen.dead += th_dead_letters(th);
    }
    assert_int_equal(th_watermark_regressions(th), 0);
    th_clear(th); /* records point at the plugin's output schema */
    th_free(th);
}

static void test_random_batches(void **unused)
{
    (void)unused;
    uint64_t rng = th_seed("session property");
    int rounds = th_rounds(150);
    for (int i = 0; i < rounds; i++)
        one_round(&rng);
    fprintf(stderr, "session property: %d rounds, %llu events, %llu sessions (%llu before the final watermark), "
            "%llu late, %llu dead letters, %llu refused schemas\n", rounds, (unsigned long long)seen.events,
            (unsigned long long)seen.sessions, (unsigned long long)seen.early, (unsigned long long)seen.late,
            (unsigned long long)seen.dead, (unsigned long long)seen.refused);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
