/* acked() accounting: the contiguous prefix under out-of-order completion,
 * and the retry backoff's bounds. */
#include "sink_fixture.h"

static void prefix_waits_for_the_oldest(void **st)
{
    (void)st;
    ack_ledger l = {0};
    uint64_t seq;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(ack_ledger_push(&l, &seq), 0);
        assert_int_equal(seq, (uint64_t)i);
    }
    /* a later batch completes first */
    for (uint64_t s = 5; s < 10; s++)
        ack_ledger_done(&l, s);
    assert_int_equal(ack_ledger_acked(&l), 0);
    ack_ledger_done(&l, 1);
    ack_ledger_done(&l, 2);
    assert_int_equal(ack_ledger_acked(&l), 0);
    ack_ledger_done(&l, 0);
    assert_int_equal(ack_ledger_acked(&l), 3);
    ack_ledger_done(&l, 4);
    assert_int_equal(ack_ledger_acked(&l), 3);
    ack_ledger_done(&l, 3);
    assert_int_equal(ack_ledger_acked(&l), 10);
    assert_int_equal(ack_ledger_pending(&l), 0);
    /* completing twice or out of range changes nothing */
    ack_ledger_done(&l, 3);
    ack_ledger_done(&l, 99);
    assert_int_equal(ack_ledger_acked(&l), 10);
    ack_ledger_free(&l);
}

/* Random completion order against a plain array model, across ring growth
 * and the whole-word fast path. */
static void matches_a_model_under_shuffles(void **st)
{
    (void)st;
    enum { N = 20000 };
    ack_ledger l = {0};
    static unsigned char done[N];
    memset(done, 0, sizeof done);
    uint64_t rng = 12345;
    uint64_t *order = malloc(N * sizeof *order);
    size_t issued = 0, completed = 0;
    uint64_t seq;
    while (completed < N) {
        /* issue a burst, then complete a random subset of the outstanding */
        size_t burst = 1 + os_rand64(&rng) % 3000;
        for (size_t i = 0; i < burst && issued < N; i++) {
            assert_int_equal(ack_ledger_push(&l, &seq), 0);
            assert_int_equal(seq, issued);
            order[issued] = issued;
            issued++;
        }
        for (size_t i = completed; i < issued; i++) {
            size_t j = i + os_rand64(&rng) % (issued - i);
            uint64_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        size_t take = completed + (issued - completed) * (1 + os_rand64(&rng) % 4) / 4;
        for (; completed < take; completed++) {
            ack_ledger_done(&l, order[completed]);
            done[order[completed]] = 1;
            uint64_t prefix = 0;
            while (prefix < N && done[prefix])
                prefix++;
            if (completed % 97 == 0 || completed + 1 == take)
                assert_int_equal(ack_ledger_acked(&l), prefix);
        }
    }
    assert_int_equal(ack_ledger_acked(&l), N);
    free(order);
    ack_ledger_free(&l);
}

static void backoff_stays_within_full_jitter_bounds(void **st)
{
    (void)st;
    uint64_t rng = 7;
    assert_int_equal(os_backoff_ms(0, 100, 30000, &rng), 0);
    for (uint32_t attempt = 1; attempt < 40; attempt++) {
        int64_t cap = 100;
        for (uint32_t i = 1; i < attempt && cap < 30000; i++)
            cap *= 2;
        if (cap > 30000)
            cap = 30000;
        int64_t lo = INT64_MAX, hi = 0;
        for (int k = 0; k < 2000; k++) {
            int64_t d = os_backoff_ms(attempt, 100, 30000, &rng);
            assert_true(d >= 0 && d <= cap);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        /* full jitter: the whole range is used, not just values near the cap */
        assert_true(lo < cap / 10 + 1);
        assert_true(hi > cap - cap / 10 - 1);
    }
    /* huge attempt numbers neither overflow nor exceed the cap */
    for (int k = 0; k < 100; k++)
        assert_true(os_backoff_ms(4000000000u, 100, 30000, &rng) <= 30000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prefix_waits_for_the_oldest),
        cmocka_unit_test(matches_a_model_under_shuffles),
        cmocka_unit_test(backoff_stays_within_full_jitter_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
