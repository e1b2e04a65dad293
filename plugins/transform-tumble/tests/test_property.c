/* test_property.c - random batches through the tumble transform (issue
 * 11, property tests), checked against invariants rather than exact
 * outputs:
 *   - no crash, no sanitizer report (`make test SANITIZE=1`);
 *   - nothing lost: every session is counted in exactly one window's
 *     userSessionCount or goes to the `late` output; checkouts and
 *     department memberships (a name listed twice counts once) add up the
 *     same way;
 *   - watermarks never go back, no window is emitted at or behind a
 *     watermark already emitted, windows come out in start order, once;
 *   - every document is well formed: epoch-aligned window of `size`
 *     (saturated at the ends of time), percent = floor(with * 100 / count),
 *     departments sorted and counted at most once per session;
 *   - nothing is held once the final watermark has fired everything.
 * Input: random schemas (extra fields of every type, now and then one the
 * plugin must refuse), nulls, wrong-typed values, empty, duplicate and odd
 * department names, times from INT64_MIN to INT64_MAX and out of order,
 * random slots and host watermarks.  The seed is printed;
 * SH_PROPTEST_SEED=N repeats a run, SH_PROPTEST_ITERS=N sets the rounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "testhost.h"
#include "tumble.h"

const sh_plugin *streamhost_plugin_entry(uint32_t);

static const char *const depts[] = {"laptops", "cameras", "soundbars", "tv", "phones", "", "a-b", "z"};

typedef struct in_schema {
    sh_field fields[5];
    sh_schema schema;
    int checkout, list;
    int bad;
} in_schema;

static void make_schema(in_schema *s, uint64_t *rng, int bad)
{
    static const char *const extra_names[] = {"userId", "eventCount", "windowEndTime"};
    uint32_t n = 2 + (uint32_t)th_below(rng, 4);
    int pos[5] = {0, 1, 2, 3, 4};
    for (int i = (int)n - 1; i > 0; i--) {
        int j = (int)th_below(rng, (uint64_t)i + 1), t = pos[i];
        pos[i] = pos[j];
        pos[j] = t;
    }
    s->checkout = pos[0];
    s->list = pos[1];
    s->fields[s->checkout] = (sh_field){"orderCheckoutEventCount", SH_INT};
    s->fields[s->list] = (sh_field){"deptList", SH_STRLIST};
    for (uint32_t i = 2; i < n; i++)
        s->fields[pos[i]] = (sh_field){extra_names[i - 2], (uint32_t)th_below(rng, 6)};
    s->bad = bad;
    if (bad == 1)
        s->fields[s->checkout].type = SH_DOUBLE;
    else if (bad == 2)
        s->fields[s->list].name = "departments";
    s->schema = (sh_schema){"user_session_details", n, s->fields};
}

static sh_value rand_list(testhost *th, uint64_t *rng)
{
    sh_value v;
    uint32_t k = th_below(rng, 8) == 0 ? (uint32_t)th_below(rng, 100) : (uint32_t)th_below(rng, 5);
    sh_str *items = th_scratch(th, (k ? k : 1) * sizeof *items);
    for (uint32_t i = 0; i < k; i++) {
        if (i && th_below(rng, 5) == 0)
            items[i] = items[th_below(rng, i)]; /* listed twice */
        else if (th_below(rng, 6) == 0) { /* many distinct names */
            char *d = th_scratch(th, 16);
            items[i] = (sh_str){d, (size_t)snprintf(d, 16, "d%u", (unsigned)th_below(rng, 300))};
        } else
            items[i] = th_rand_text(th, rng, depts, sizeof depts / sizeof depts[0]);
    }
    v.type = SH_STRLIST;
    v.u.l = (sh_strlist){items, k};
    return v;
}

static sh_value rand_value(testhost *th, uint64_t *rng, uint32_t type)
{
    sh_value v = sh_v_null();
    if (th_below(rng, 10) == 0)
        return v;
    if (th_below(rng, 50) == 0)
        type = (uint32_t)th_below(rng, 6); /* a sender that breaks its own schema */
    switch (type) {
    case SH_INT: v = sh_v_int(th_below(rng, 2) ? (int64_t)th_below(rng, 3) : (int64_t)th_rand(rng)); break;
    case SH_DOUBLE: v.type = SH_DOUBLE; v.u.d = (double)(int64_t)th_rand(rng) / 3.0; break;
    case SH_STRING: {
        sh_str s = th_rand_text(th, rng, depts, 0);
        v = sh_v_str(s.ptr, s.len);
        break;
    }
    case SH_BOOL: v.type = SH_BOOL; v.u.b = (int)th_below(rng, 2); break;
    case SH_STRLIST: v = rand_list(th, rng); break;
    default: break;
    }
    return v;
}

static int str_cmp(sh_str a, sh_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* Distinct names in a STRLIST value (0 for anything else). */
static uint64_t distinct(const sh_value *v)
{
    if (v->type != SH_STRLIST)
        return 0;
    uint64_t d = 0;
    for (uint32_t i = 0; i < v->u.l.n; i++) {
        uint32_t j = 0;
        while (j < i && str_cmp(v->u.l.items[j], v->u.l.items[i]) != 0)
            j++;
        d += j == i;
    }
    return d;
}

static int with_checkout(const sh_value *v) { return v->type == SH_INT && v->u.i != 0; }

typedef struct totals {
    uint64_t sessions, checkouts, memberships;
} totals;



/* Checks every emitted record; returns the totals the output accounts for
 * (windows plus late sessions). */
static totals check_output(testhost *th, int64_t size)
{
    totals t = {0};
    uint64_t late = 0, counts_docs = 0, dept_docs = 0;
    int have_window = 0;
    int64_t begin = 0, prev_begin = INT64_MIN, count = 0;
    sh_str prev_name = {NULL, 0};
    for (size_t i = 0; i < th_count(th); i++) {
        const th_rec *r = th_get(th, i);
        if (r->port == 1) { /* a late session, unchanged */
            late++;
            int c = sh_schema_field(r->schema, "orderCheckoutEventCount");
            int l = sh_schema_field(r->schema, "deptList");
            assert_true(c >= 0 && l >= 0);
            t.sessions++;
            t.checkouts += (uint64_t)with_checkout(&r->values[c]);
            t.memberships += distinct(&r->values[l]);
            int64_t start = tb_window_start(r->time, size);
            int64_t last = start > INT64_MAX - (size - 1) ? INT64_MAX : start + (size - 1);
            assert_true(last <= r->wm_at_emit); /* its window had fired */
            continue;
        }
        assert_int_equal(r->port, 0);
        assert_true(r->time > r->wm_at_emit);
        const sh_value *v = r->values;
        if (strcmp(r->schema->name, "user_session_counts") == 0) {
            counts_docs++;
            begin = v[TB_C_BEGIN].u.i;
            count = v[TB_C_COUNT].u.i;
            int64_t with = v[TB_C_WITH_CHECKOUT].u.i, end = v[TB_C_END].u.i;
            assert_true(!have_window || begin > prev_begin); /* start order, each window once */
            have_window = 1;
            prev_begin = begin;
            prev_name = (sh_str){NULL, 0};
            assert_true(count >= 1);
            assert_true(with >= 0 && with <= count);
            assert_int_equal(v[TB_C_PERCENT].u.i, with * 100 / count);
            assert_true(begin == INT64_MIN || begin % size == 0); /* epoch-aligned */
            int64_t last = begin > INT64_MAX - (size - 1) ? INT64_MAX : begin + (size - 1);
            assert_int_equal(r->time, last);
            assert_int_equal(end, last == INT64_MAX ? INT64_MAX : last + 1);
            assert_true(begin == INT64_MIN || end == INT64_MAX || (uint64_t)end - (uint64_t)begin == (uint64_t)size);
            char id[32];
            snprintf(id, sizeof id, "%lld", (long long)begin);
            assert_string_equal(r->id, id);
            t.sessions += (uint64_t)count;
            t.checkouts += (uint64_t)with;
        } else {
            assert_string_equal(r->schema->name, "departments_count");
            dept_docs++;
            assert_true(have_window);
            assert_int_equal(v[TB_D_BEGIN].u.i, begin); /* right after its window's counts */
            int64_t dc = v[TB_D_COUNT].u.i;
            assert_true(dc >= 1 && dc <= count);
            sh_str name = v[TB_D_NAME].u.s;
            assert_int_equal(v[TB_D_NAME].type, SH_STRING);
            if (prev_name.ptr)
                assert_true(str_cmp(prev_name, name) < 0); /* sorted, distinct */
            prev_name = name;
            assert_int_equal(r->time, begin > INT64_MAX - (size - 1) ? INT64_MAX : begin + (size - 1));
            t.memberships += (uint64_t)dc;
        }
    }
    assert_int_equal(late, th_counter(th, "late_sessions_total"));
    assert_int_equal(counts_docs, th_counter(th, "count_documents_emitted_total"));
    assert_int_equal(dept_docs, th_counter(th, "department_documents_emitted_total"));
    return t;
}

static struct {
    uint64_t sessions, windows, late, refused, early;
} seen;

static void one_round(uint64_t *rng)
{
    static const char *const sizes[] = {"1ms", "7ms", "10s", "106751991167d"};
    const char *size = sizes[th_below(rng, 4)];
    char kv_size[32];
    snprintf(kv_size, sizeof kv_size, "size=%s", size);
    const char *kv[] = {kv_size, NULL};
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), kv);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_OK);

    in_schema schemas[2];
    make_schema(&schemas[0], rng, 0);
    make_schema(&schemas[1], rng, th_below(rng, 20) == 0 ? 1 + (int)th_below(rng, 2) : 0);
    static const int64_t bases[] = {0, 1600000000000, -1000000000000, INT64_MAX - 100000, INT64_MIN + 100000};
    int64_t base = bases[th_below(rng, 5)], host_wm = INT64_MIN;
    int wild = th_below(rng, 3) == 0, refused = 0;
    totals fed = {0};
    size_t nbatches = 1 + th_below(rng, 12);
    for (size_t b = 0; b < nbatches; b++) {
        size_t n = th_below(rng, 6) == 0 ? 0 : th_below(rng, 200);
        sh_record *recs = th_scratch(th, (n ? n : 1) * sizeof *recs);
        const in_schema *s = &schemas[th_below(rng, 4) == 0];
        for (size_t i = 0; i < n; i++) {
            if (th_below(rng, 3) == 0)
                base = th_event_time(rng, base, wild && th_below(rng, 10) == 0);
            sh_value *v = th_scratch(th, s->schema.nfields * sizeof *v);
            for (uint32_t k = 0; k < s->schema.nfields; k++)
                v[k] = rand_value(th, rng, s->fields[k].type);
            static const int32_t slots[] = {SH_NO_SLOT, 0, 1, 2, 3, 100};
            recs[i] = (sh_record){.schema = &s->schema, .time = th_event_time(rng, base, wild), .values = v,
                                  .slot = slots[th_below(rng, sizeof slots / sizeof slots[0])],
                                  .offset = (int64_t)th_below(rng, 1u << 20)};
            fed.sessions++;
            fed.checkouts += (uint64_t)with_checkout(&v[s->checkout]);
            fed.memberships += distinct(&v[s->list]);
        }
        sh_rc rc = th_process(th, 0, recs, n);
        if (s->bad && n) {
            assert_int_equal(rc, SH_FATAL);
            refused = 1;
            seen.refused++;
            break;
        }
        assert_int_equal(rc, SH_OK);
        if (th_below(rng, 2) == 0) {
            int64_t w = th_event_time(rng, base, wild);
            w = w < INT64_MIN + 5000 ? INT64_MIN : w - 5000;
            if (w > host_wm) {
                host_wm = w;
                assert_int_equal(th_watermark(th, w), SH_OK);
            }
        }
        th_scratch_reset(th);
    }
    if (!refused) {
        seen.early += th_counter(th, "count_documents_emitted_total");
        assert_int_equal(th_watermark(th, INT64_MAX), SH_OK);
        assert_int_equal(th_last_watermark(th), INT64_MAX);
        assert_int_equal(th_gauge(th, "open_windows"), 0);
        totals out = check_output(th, th_duration_ms(size));
        assert_int_equal(out.sessions, fed.sessions);
        assert_int_equal(out.checkouts, fed.checkouts);
        assert_int_equal(out.memberships, fed.memberships);
        assert_int_equal(th_counter(th, "sessions_received_total"), fed.sessions);
        int64_t held[128];
        for (int i = 0; i < 128; i++)
            held[i] = INT64_MAX;
        streamhost_plugin_entry(SH_ABI_VERSION)->held(th_state(th), held, 128);
        for (int i = 0; i < 128; i++)
            assert_true(held[i] == INT64_MAX);
        seen.sessions += fed.sessions;
        seen.windows += th_counter(th, "count_documents_emitted_total");
        seen.late += th_counter(th, "late_sessions_total");
    }
    assert_int_equal(th_watermark_regressions(th), 0);
    th_clear(th);
    th_free(th);
}

static void test_random_batches(void **unused)
{
    (void)unused;
    uint64_t rng = th_seed("tumble property");
    int rounds = th_rounds(150);
    for (int i = 0; i < rounds; i++)
        one_round(&rng);
    fprintf(stderr, "tumble property: %d rounds, %llu sessions, %llu windows (%llu before the final watermark), "
            "%llu late, %llu refused schemas\n", rounds, (unsigned long long)seen.sessions,
            (unsigned long long)seen.windows, (unsigned long long)seen.early, (unsigned long long)seen.late,
            (unsigned long long)seen.refused);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
