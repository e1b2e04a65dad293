/* test_session.c - the session transform against docs/semantics.md sections 3, 4
 * and 7: merging, aggregates, watermarks, late data, held offsets, outputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "click_input.h"
#include "session.h"

#define END INT64_MAX

static void check_sess(const th_rec *r, int64_t user, int64_t count, int64_t checkout,
                       const char *depts, int64_t begin, int64_t end)
{
    assert_non_null(r);
    assert_int_equal(r->port, 0);
    assert_string_equal(r->schema->name, "user_session_details");
    assert_int_equal(th_int(r, "userId"), user);
    assert_int_equal(th_int(r, "eventCount"), count);
    assert_int_equal(th_int(r, "orderCheckoutEventCount"), checkout);
    assert_string_equal(th_list(r, "deptList"), depts);
    assert_int_equal(th_int(r, "eventKey"), 1);
    assert_int_equal(th_int(r, "windowBeginTime"), begin);
    assert_int_equal(th_int(r, "windowEndTime"), end);
    assert_int_equal(r->time, end - 1);
}

/* docs/semantics.md section 7, in arrival order. */
static const ci_event worked_example[] = {
    {1000, 1001, "home_page", "N/A", 0, 0},
    {1200, 1001, "product_catalog", "N/A", 0, 1},
    {1500, 1001, "product_detail", "laptops", 0, 2},
    {1800, 1001, "add_to_cart", "laptops", 0, 3},
    {2100, 1001, "order", "laptops", 0, 4},
    {2400, 1001, "order_checkout", "laptops", 0, 5},
    {2600, 1001, "", "", 0, 6},
    {5000, 3003, "home_page", "N/A", 0, 7},
    {5900, 3003, "product_catalog", "N/A", 0, 8},
    {7000, 3003, "product_detail", "soundbars", 0, 9},
    {8000, 3003, "add_to_cart", "soundbars", 0, 10},
    {8500, 3003, "order", "soundbars", 0, 11},
    {9000, 3003, "order_checkout", "soundbars", 0, 12},
    {9500, 2002, "home_page", "N/A", 0, 13},
    {9800, 2002, "product_catalog", "N/A", 0, 14},
    {9999, 3003, "", "", 0, 15},
    {10100, 2002, "product_detail", "cameras", 0, 16},
    {10300, 2002, "add_to_cart", "cameras", 0, 17},
    {10500, 2002, "remove_from_cart", "cameras", 0, 18},
    {10700, 2002, "product_detail", "laptops", 0, 19},
    {10900, 2002, "", "", 0, 20},
};

static void test_worked_example(void **unused)
{
    testhost *th = ci_session(NULL);
    assert_non_null(th);
    assert_int_equal(ci_feed_each(th, worked_example, 21), SH_OK);
    assert_int_equal(th_count(th), 0); /* watermark still far behind */
    assert_int_equal(th_gauge(th, "open_sessions"), 4);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 4);
    check_sess(th_get(th, 0), 1001, 4, 4, "laptops", 1000, 3600);
    check_sess(th_get(th, 1), 3003, 0, 0, "", 5000, 6900);
    check_sess(th_get(th, 2), 3003, 4, 4, "soundbars", 7000, 10999);
    check_sess(th_get(th, 3), 2002, 4, 0, "cameras,laptops", 9500, 11900);
    assert_int_equal(th_last_watermark(th), END);
    assert_int_equal(th_counter(th, "keyed_events_total"), 21);
    assert_int_equal(th_counter(th, "sessions_emitted_total"), 4);
    assert_int_equal(th_counter(th, "late_events_total"), 0);
    assert_int_equal(th_gauge(th, "open_sessions"), 0);
    ci_free(th);
}

/* Record identity: key, deterministic id, input position of its events. */
static void test_ids_and_positions(void **unused)
{
    testhost *th = ci_session(NULL);
    assert_int_equal(ci_feed(th, worked_example, 21), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    const th_rec *r = th_get(th, 2);
    assert_string_equal(r->key, "3003");
    assert_string_equal(r->id, "3003-7000");
    assert_int_equal(r->slot, 0);
    assert_int_equal(r->offset, 9);
    assert_string_equal(th_get(th, 0)->id, "1001-1000");
    assert_int_equal(th_get(th, 0)->offset, 0);
    ci_free(th);
}

/* A gap of exactly `gap` still touches; one more millisecond splits. */
static void test_gap_touch_rule(void **unused)
{
    testhost *th = ci_session(NULL);
    const ci_event ev[] = {
        {0, 1, "product_detail", "laptops", 0, 0},
        {1000, 1, "product_detail", "cameras", 0, 1}, /* touches [0,1000) */
        {0, 2, "product_detail", "laptops", 0, 2},
        {1001, 2, "product_detail", "cameras", 0, 3}, /* 1 ms too far */
    };
    assert_int_equal(ci_feed(th, ev, 4), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 3);
    check_sess(th_get(th, 0), 2, 1, 0, "laptops", 0, 1000);
    check_sess(th_get(th, 1), 1, 2, 0, "cameras,laptops", 0, 2000);
    check_sess(th_get(th, 2), 2, 1, 0, "cameras", 1001, 2001);
    ci_free(th);
}

/* A custom gap applies the same touch rule. */
static void test_custom_gap(void **unused)
{
    const char *kv[] = {"gap=250ms", NULL};
    testhost *th = ci_session(kv);
    const ci_event ev[] = {
        {0, 1, "x", "a", 0, 0}, {250, 1, "x", "b", 0, 1}, {501, 1, "x", "c", 0, 2}};
    assert_int_equal(ci_feed(th, ev, 3), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 2);
    check_sess(th_get(th, 0), 1, 2, 0, "a,b", 0, 500);
    check_sess(th_get(th, 1), 1, 1, 0, "c", 501, 751);
    ci_free(th);
}

/* Windows longer than 2^32 ms (the store keeps their end aside): extended,
 * bridged and fired like any other, in (end, userId) order. */
static void test_long_windows(void **unused)
{
    const char *kv[] = {"gap=60d", "out_of_orderness=1000d", NULL};
    const int64_t D = 86400000; /* 1 day */
    testhost *th = ci_session(kv);
    const ci_event ev[] = {
        {0, 1, "x", "a", 0, 0},       {10 * D, 1, "x", "b", 0, 1}, /* one session */
        {200 * D, 1, "x", "c", 0, 2}, {300 * D, 1, "x", "d", 0, 3}, /* two more */
        {250 * D, 1, "x", "e", 0, 4}, /* bridges them */
        {5, 2, "x", "f", 0, 5},
    };
    assert_int_equal(ci_feed(th, ev, 6), SH_OK);
    assert_int_equal(th_gauge(th, "open_sessions"), 3);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 3);
    check_sess(th_get(th, 0), 2, 1, 0, "f", 5, 5 + 60 * D);
    check_sess(th_get(th, 1), 1, 2, 0, "a,b", 0, 70 * D);
    check_sess(th_get(th, 2), 1, 3, 0, "c,d,e", 200 * D, 360 * D);
    ci_free(th);
}

/* Out of order: two disjoint sessions of one key, then an event bridging
 * them.  Counts add up (checkout too, as the reference merge does), then
 * the bridging event is aggregated. */
static void test_out_of_order_bridge(void **unused)
{
    testhost *th = ci_session(NULL);
    const ci_event ev[] = {
        {0, 7, "product_detail", "laptops", 0, 10},
        {2000, 7, "order_checkout", "cameras", 0, 11}, /* separate: count 1, checkout 1 */
        {10000, 8, "order_checkout", "soundbars", 0, 12},
        {8500, 8, "order_checkout", "cameras", 0, 13}, /* separate, earlier */
    };
    assert_int_equal(ci_feed(th, ev, 4), SH_OK);
    assert_int_equal(th_gauge(th, "open_sessions"), 4);
    const ci_event bridge[] = {
        {1000, 7, "product_detail", "ear phones", 0, 14}, /* [1000,2000) touches both */
        {9500, 8, "order_checkout", "AirPods", 0, 15},     /* [9500,10500) touches both */
    };
    assert_int_equal(ci_feed(th, bridge, 2), SH_OK);
    assert_int_equal(th_gauge(th, "open_sessions"), 2);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 2);
    /* 7: merged count 1+1, checkout 0+1, then +1 event */
    check_sess(th_get(th, 0), 7, 3, 1, "cameras,ear phones,laptops", 0, 3000);
    assert_int_equal(th_get(th, 0)->offset, 10);
    /* 8: merged count 2, checkout 1+1 = 2, then a checkout at count 3 */
    check_sess(th_get(th, 1), 8, 3, 3, "AirPods,cameras,soundbars", 8500, 11000);
    assert_int_equal(th_get(th, 1)->offset, 12);
    ci_free(th);
}

/* An out-of-order event that only extends the start of a session. */
static void test_out_of_order_extend_start(void **unused)
{
    testhost *th = ci_session(NULL);
    const ci_event ev[] = {
        {5000, 1, "order_checkout", "laptops", 0, 3},
        {4200, 1, "product_detail", "laptops", 0, 4},
        {3500, 1, "product_detail", "cameras", 0, 5},
    };
    assert_int_equal(ci_feed_each(th, ev, 3), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 1);
    /* arrival order: checkout saw count 1 */
    check_sess(th_get(th, 0), 1, 3, 1, "cameras,laptops", 3500, 6000);
    ci_free(th);
}

/* Three sessions of one key open at once; an event bridging two of them
 * leaves the third alone. */
static void test_three_open_sessions(void **unused)
{
    testhost *th = ci_session(NULL);
    const ci_event ev[] = {
        {10000, 3, "x", "a", 0, 0}, {5000, 3, "x", "b", 0, 1}, {7000, 3, "x", "c", 0, 2},
        {12000, 4, "x", "d", 0, 3}, {6000, 3, "x", "e", 0, 4}, /* bridges 5000 and 7000 */
    };
    assert_int_equal(ci_feed(th, ev, 5), SH_OK);
    assert_int_equal(th_gauge(th, "open_sessions"), 3);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 3);
    check_sess(th_get(th, 0), 3, 3, 0, "b,c,e", 5000, 8000);
    check_sess(th_get(th, 1), 3, 1, 0, "a", 10000, 11000);
    check_sess(th_get(th, 2), 4, 1, 0, "d", 12000, 13000);
    ci_free(th);
}

/* A second checkout overwrites with the count at that moment. */
static void test_two_checkouts(void **unused)
{
    testhost *th = ci_session(NULL);
    const ci_event ev[] = {
        {0, 1, "product_detail", "laptops", 0, 0},
        {100, 1, "order_checkout", "laptops", 0, 1},   /* checkout = 2 */
        {200, 1, "product_detail", "cameras", 0, 2},
        {300, 1, "add_to_cart", "cameras", 0, 3},
        {400, 1, "order_checkout", "cameras", 0, 4},   /* checkout = 5 */
        {500, 1, "product_detail", "soundbars", 0, 5}, /* count 6 */
    };
    assert_int_equal(ci_feed(th, ev, 6), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    check_sess(th_get(th, 0), 1, 6, 5, "cameras,laptops,soundbars", 0, 1500);
    ci_free(th);
}

/* Null, "" and N/A product types never count; a null event type is no
 * checkout; a checkout without product sets the current count. */
static void test_null_and_empty_types(void **unused)
{
    testhost *th = ci_session(NULL);
    const ci_event ev[] = {
        {0, 1, NULL, "laptops", 0, 0},         /* counts */
        {100, 1, "order_checkout", NULL, 0, 1}, /* checkout = 1 */
        {200, 1, NULL, NULL, 0, 2},
        {300, 1, "product_detail", "", 0, 3},
        {400, 1, "product_detail", "N/A", 0, 4},
        {500, 1, "product_detail", "n/a", 0, 5}, /* case matters: counts */
    };
    assert_int_equal(ci_feed(th, ev, 6), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    check_sess(th_get(th, 0), 1, 2, 1, "laptops,n/a", 0, 1500);
    ci_free(th);
}

/* A record without a key value goes to the dead letters, nothing else. */
static void test_null_key(void **unused)
{
    testhost *th = ci_session(NULL);
    ci_event ev[] = {{0, 1, "x", "a", 0, 0}, {0, CI_NULL_KEY, "x", "b", 0, 1}};
    assert_int_equal(ci_feed(th, ev, 2), SH_OK);
    assert_int_equal(th_dead_letters(th), 1);
    assert_non_null(strstr(th_last_dead_reason(th), "null_key"));
    assert_int_equal(th_counter(th, "null_keys_total"), 1);
    assert_int_equal(th_counter(th, "keyed_events_total"), 1);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 1);
    ci_free(th);
}

/* Late: a session of its own that would already have fired is not applied,
 * is counted and leaves unchanged on the "late" port.  An event whose own
 * window is behind the watermark but that joins an open session is fine. */
static void test_late_event(void **unused)
{
    testhost *th = ci_session(NULL);
    const ci_event ev[] = {
        {100000, 1, "product_detail", "laptops", 0, 0}, /* wm = 79999 */
        {79500, 2, "product_detail", "cameras", 0, 1},  /* [79500,80500) open */
    };
    assert_int_equal(ci_feed(th, ev, 2), SH_OK);
    assert_int_equal(th_last_watermark(th), 79999);
    assert_int_equal(th_count(th), 0);
    const ci_event late[] = {
        {50000, 3, "order_checkout", "soundbars", 0, 2}, /* ends 50999 <= wm */
        {78600, 2, "order_checkout", "laptops", 0, 3},   /* own end 79599 <= wm, joins 2 */
        {78999, 4, "x", "y", 0, 4},                      /* end - 1 = 79998: late */
        {79000, 5, "x", "y", 0, 5},                      /* end - 1 = 79999: late */
        {79001, 6, "x", "y", 0, 6},                      /* end - 1 = 80000: open */
    };
    assert_int_equal(ci_feed(th, late, 5), SH_OK);
    assert_int_equal(th_counter(th, "late_events_total"), 3);
    assert_int_equal(th_count(th), 3);
    const th_rec *r = th_get(th, 0);
    assert_int_equal(r->port, 1);
    assert_ptr_equal(r->schema, &ci_schema);
    assert_int_equal(r->time, 50000);
    assert_int_equal(th_int(r, "userid"), 3);
    assert_string_equal(th_str(r, "event_type"), "order_checkout");
    assert_int_equal(r->offset, 2);
    assert_int_equal(th_int(th_get(th, 1), "userid"), 4);
    assert_int_equal(th_int(th_get(th, 2), "userid"), 5);
    th_clear(th);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 3);
    check_sess(th_get(th, 0), 6, 1, 0, "y", 79001, 80001);
    check_sess(th_get(th, 1), 2, 2, 2, "cameras,laptops", 78600, 80500);
    check_sess(th_get(th, 2), 1, 1, 0, "laptops", 100000, 101000);
    ci_free(th);
}

/* Sessions fire as the watermark passes their last millisecond, in
 * (windowEndTime, userId) order, before the watermark is forwarded. */
static void test_fires_on_watermark(void **unused)
{
    testhost *th = ci_session(NULL);
    const ci_event ev[] = {
        {0, 9, "x", "a", 0, 0}, {0, 3, "x", "a", 0, 1}, {500, 5, "x", "a", 0, 2},
        {20999, 1, "x", "a", 0, 3}, /* wm = 998: nothing ends by 999 */
    };
    assert_int_equal(ci_feed(th, ev, 4), SH_OK);
    assert_int_equal(th_count(th), 0);
    assert_int_equal(th_last_watermark(th), 998);
    const ci_event ev2[] = {{21000, 1, "x", "a", 0, 4}}; /* wm = 999 */
    assert_int_equal(ci_feed(th, ev2, 1), SH_OK);
    assert_int_equal(th_count(th), 2);
    assert_int_equal(th_int(th_get(th, 0), "userId"), 3);
    assert_int_equal(th_int(th_get(th, 1), "userId"), 9);
    assert_int_equal(th_last_watermark(th), 999);
    assert_int_equal(th_gauge(th, "open_sessions"), 2);
    /* a host watermark behind ours changes nothing */
    assert_int_equal(th_watermark(th, 10), SH_OK);
    assert_int_equal(th_last_watermark(th), 999);
    assert_int_equal(th_count(th), 2);
    /* a host watermark ahead fires what it passes */
    assert_int_equal(th_watermark(th, 1499), SH_OK);
    assert_int_equal(th_count(th), 3);
    assert_int_equal(th_int(th_get(th, 2), "userId"), 5);
    assert_int_equal(th_last_watermark(th), 1499);
    ci_free(th);
}

/* The watermark is the minimum over slots, ignoring idle ones. */
static void test_watermark_slots_and_idleness(void **unused)
{
    testhost *th = ci_session(NULL);
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    const ci_event ev[] = {
        {100000, 1, "x", "a", 0, 0}, /* slot 0: 79999 */
        {30000, 2, "x", "a", 1, 0},  /* slot 1: 9999 */
        {15000, 3, "x", "a", 1, 1},
    };
    assert_int_equal(ci_feed(th, ev, 3), SH_OK);
    assert_int_equal(th_last_watermark(th), 9999);
    /* slot 1 silent for 59.999 s: still holds the watermark back */
    th_set_now(th, 1000000 + 59999);
    assert_int_equal(p->tick(th_state(th), 0), SH_OK);
    assert_int_equal(th_last_watermark(th), 9999);
    assert_int_equal(th_count(th), 0);
    /* slot 1 idle for a minute: slot 0 alone decides */
    const ci_event keep0[] = {{100001, 1, "x", "a", 0, 1}};
    assert_int_equal(ci_feed(th, keep0, 1), SH_OK);
    th_set_now(th, 1000000 + 60000);
    assert_int_equal(p->tick(th_state(th), 0), SH_OK);
    assert_int_equal(th_last_watermark(th), 80000);
    assert_int_equal(th_count(th), 2);
    /* slot 1 wakes up behind: the watermark does not go back, its old
     * session is late */
    const ci_event wake[] = {{31000, 4, "x", "a", 1, 2}};
    assert_int_equal(ci_feed(th, wake, 1), SH_OK);
    assert_int_equal(th_last_watermark(th), 80000);
    assert_int_equal(th_counter(th, "late_events_total"), 1);
    ci_free(th);
}

/* An assigned partition that has not delivered yet (announced through
 * upstream_slots) holds the watermark back, so its backlog is not late when
 * it arrives after another partition's newer events. */
static void test_silent_upstream_slot_holds_watermark(void **unused)
{
    (void)unused;
    testhost *th = ci_session(NULL);
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    int32_t up[] = {0, 1};
    th_set_upstream_slots(th, up, 2);
    th_set_now(th, 1000000);
    const ci_event ev0[] = {{100000, 1, "x", "a", 0, 0}}; /* slot 0 far ahead */
    assert_int_equal(ci_feed(th, ev0, 1), SH_OK);
    assert_true(th_last_watermark(th) < 0); /* slot 1 silent: no progress */
    const ci_event ev1[] = {{30000, 2, "home_page", "N/A", 1, 0}}; /* slot 1's backlog */
    assert_int_equal(ci_feed(th, ev1, 1), SH_OK);
    assert_int_equal(th_counter(th, "late_events_total"), 0);
    assert_int_equal(th_last_watermark(th), 9999);
    /* a slot that stays silent for the idleness time stops holding it back */
    testhost *th2 = ci_session(NULL);
    th_set_upstream_slots(th2, up, 2);
    th_set_now(th2, 1000000);
    assert_int_equal(ci_feed(th2, ev0, 1), SH_OK);
    assert_true(th_last_watermark(th2) < 0);
    th_set_now(th2, 1000000 + 60000);
    const ci_event ev0b[] = {{100001, 1, "x", "a", 0, 1}};
    assert_int_equal(ci_feed(th2, ev0b, 1), SH_OK);
    assert_int_equal(p->tick(th_state(th2), 0), SH_OK);
    assert_int_equal(th_last_watermark(th2), 80000);
    ci_free(th);
    ci_free(th2);
}

/* idleness = 0 disables idleness; SH_NO_SLOT is a slot of its own. */
static void test_no_idleness_and_no_slot(void **unused)
{
    const char *kv[] = {"idleness=0ms", "out_of_orderness=0ms", NULL};
    testhost *th = ci_session(kv);
    assert_non_null(th);
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    const ci_event ev[] = {{5000, 1, "x", "a", SH_NO_SLOT, 0}, {2000, 2, "x", "a", 3, 0}};
    assert_int_equal(ci_feed(th, ev, 2), SH_OK);
    assert_int_equal(th_last_watermark(th), 1999);
    th_set_now(th, 1000000 + 3600000);
    assert_int_equal(p->tick(th_state(th), 0), SH_OK);
    assert_int_equal(th_last_watermark(th), 1999);
    ci_free(th);
}

/* held(): the lowest offset per slot still needed by open sessions. */
static void test_held_offsets(void **unused)
{
    testhost *th = ci_session(NULL);
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    const ci_event ev[] = {
        {1000, 1, "x", "a", 0, 40}, {1500, 1, "x", "a", 0, 41},
        {1200, 2, "x", "a", 1, 7},  {1300, 2, "x", "a", 2, 3}, /* one session, two slots */
        {9000, 3, "x", "a", 0, 42},
    };
    assert_int_equal(ci_feed(th, ev, 5), SH_OK);
    int64_t min[4] = {INT64_MAX, INT64_MAX, INT64_MAX, 100};
    p->held(th_state(th), min, 3); /* slot 3 is beyond nslots: untouched */
    assert_int_equal(min[0], 40);
    assert_int_equal(min[1], 7);
    assert_int_equal(min[2], 3);
    assert_int_equal(min[3], 100);
    /* once sessions 1 and 2 fired, only session 3 holds slot 0 */
    assert_int_equal(th_watermark(th, 2499), SH_OK);
    assert_int_equal(th_count(th), 2);
    assert_int_equal(th_int(th_get(th, 0), "userId"), 2); /* ends first */
    assert_int_equal(th_get(th, 0)->slot, 1); /* slot of its first event */
    assert_int_equal(th_get(th, 0)->offset, 7);
    int64_t min2[3] = {INT64_MAX, INT64_MAX, INT64_MAX};
    p->held(th_state(th), min2, 3);
    assert_int_equal(min2[0], 42);
    assert_int_equal(min2[1], INT64_MAX);
    assert_int_equal(min2[2], INT64_MAX);
    ci_free(th);
}

/* More than 64 departments: no data lost, list sorted, merges keep them. */
static void test_many_departments(void **unused)
{
    testhost *th = ci_session(NULL);
    enum { N = 150 };
    static char names[N][16];
    ci_event ev[N + 1];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "dept%03d", N - 1 - i);
        /* user 1: every department, one session; user 2: two halves joined
         * later by a bridging event */
        ev[i] = (ci_event){i < N / 2 ? 0 : 2000, 2, "x", names[i], 0, i};
    }
    assert_int_equal(ci_feed(th, ev, N), SH_OK);
    for (int i = 0; i < N; i++)
        ev[i] = (ci_event){i, 1, "x", names[i], 0, i};
    ev[N] = (ci_event){N, 1, "x", names[0], 0, N}; /* repeat: still one */
    assert_int_equal(ci_feed(th, ev, N + 1), SH_OK);
    const ci_event bridge[] = {{1000, 2, "x", "N/A", 0, 999}};
    assert_int_equal(ci_feed(th, bridge, 1), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 2);
    char want[N * 8 + 1];
    size_t o = 0;
    for (int i = 0; i < N; i++)
        o += (size_t)snprintf(want + o, sizeof want - o, "%sdept%03d", i ? "," : "", i);
    const th_rec *u1 = th_get(th, 0), *u2 = th_get(th, 1);
    assert_int_equal(th_int(u1, "userId"), 1);
    assert_int_equal(th_int(u1, "eventCount"), N + 1);
    assert_int_equal(th_int(u2, "userId"), 2);
    assert_int_equal(th_int(u2, "eventCount"), N);
    assert_int_equal(th_int(u2, "windowBeginTime"), 0);
    /* th_list has a 1 KiB buffer: compare the lists item by item */
    int f = sh_schema_field(u1->schema, "deptList");
    for (int u = 0; u < 2; u++) {
        const sh_strlist *l = &(u ? u2 : u1)->values[f].u.l;
        assert_int_equal(l->n, N);
        for (int i = 0; i < N; i++) {
            char name[16];
            snprintf(name, sizeof name, "dept%03d", i);
            assert_int_equal(l->items[i].len, strlen(name));
            assert_memory_equal(l->items[i].ptr, name, strlen(name));
        }
    }
    ci_free(th);
}

/* deptList is sorted bytewise: upper case before lower, prefix first. */
static void test_dept_list_sorted(void **unused)
{
    testhost *th = ci_session(NULL);
    const ci_event ev[] = {
        {0, 1, "x", "video games", 0, 0}, {1, 1, "x", "b", 0, 1},
        {2, 1, "x", "ab", 0, 2},          {3, 1, "x", "a", 0, 3},
        {4, 1, "x", "AirPods", 0, 4},     {5, 1, "x", "b", 0, 5},
    };
    assert_int_equal(ci_feed(th, ev, 6), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    check_sess(th_get(th, 0), 1, 6, 0, "AirPods,a,ab,b,video games", 0, 1005);
    ci_free(th);
}

/* Partitions that move away: a revoked slot's sessions are dropped (many,
 * across several chunks of the store); with no slot left event time starts
 * again, and sessions far behind the old watermark fire on the new one. */
static void test_slot_revoked(void **unused)
{
    testhost *th = ci_session(NULL);
    ss_state *st = th_state(th);
    ss_slot_assigned(st, 0, INT64_MIN);
    ss_slot_assigned(st, 1, INT64_MIN);
    enum { N = 10000 };
    ci_event *ev = calloc(N + 4, sizeof *ev);
    ev[0] = (ci_event){100000, 9, "x", "a", 1, 0}; /* watermark 79999 */
    ev[1] = (ci_event){90000, 1, "x", "a", 0, 1};
    ev[2] = (ci_event){95000, 2, "x", "a", 1, 2};
    ev[3] = (ci_event){91000, 3, "x", "a", 0, 3};
    for (int i = 0; i < N; i++)
        ev[4 + i] = (ci_event){90000 + i % 5000, 100 + i, "x", "b", 0, 4 + i};
    assert_int_equal(ci_feed(th, ev, N + 4), SH_OK);
    assert_int_equal(th_count(th), 0);
    assert_int_equal(th_gauge(th, "open_sessions"), N + 4);
    ss_slot_revoked(st, 0);
    assert_int_equal(th_gauge(th, "open_sessions"), 2);
    ss_slot_revoked(st, 1);
    assert_int_equal(th_gauge(th, "open_sessions"), 0);
    ss_slot_assigned(st, 0, INT64_MIN);
    const ci_event again[] = {{85000, 6, "x", "c", 0, 7}, {1000, 5, "x", "d", 0, 8}};
    assert_int_equal(ci_feed(th, again, 2), SH_OK); /* watermark 64999 */
    assert_int_equal(th_count(th), 1);
    check_sess(th_get(th, 0), 5, 1, 0, "d", 1000, 2000);
    assert_int_equal(th_gauge(th, "open_sessions"), 1);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 2);
    check_sess(th_get(th, 1), 6, 1, 0, "c", 85000, 86000);
    free(ev);
    ci_free(th);
}

/* Many keys, one event each, times spread: growth, shrink, exact order. */
static void test_table_growth(void **unused)
{
    const char *kv[] = {"out_of_orderness=1d", NULL}; /* fire only on demand */
    testhost *th = ci_session(kv);
    enum { N = 100000 };
    ci_event *ev = calloc(N, sizeof *ev);
    for (int i = 0; i < N; i++) /* userid scrambled; ends collide in tens */
        ev[i] = (ci_event){(int64_t)(i / 10) * 2000, ((int64_t)i * 7919) % N, "x",
                           "a", i % 4, i};
    assert_int_equal(ci_feed(th, ev, N), SH_OK);
    assert_int_equal(th_gauge(th, "open_sessions"), N);
    ss_state *st = th_state(th);
    double per = (double)ss_store_bytes(&st->store) / N;
    printf("# %d open sessions: %.0f bytes each in the store\n", N, per);
    assert_true(per < 64);
    /* fire half through the watermark, the rest at the end */
    assert_int_equal(th_watermark(th, (int64_t)(N / 20) * 2000 + 999), SH_OK);
    assert_int_equal(th_count(th), N / 2 + 10);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), N);
    assert_int_equal(st->store.n, 0);
    assert_true(st->store.cap <= 4096); /* shrank back */
    printf("# no open session: %zu bytes in the store\n", ss_store_bytes(&st->store));
    assert_true(ss_store_bytes(&st->store) < 512 * 1024); /* entries given back */
    unsigned char *seen = calloc(N, 1);
    for (size_t i = 0; i < N; i++) {
        const th_rec *r = th_get(th, i);
        int64_t user = th_int(r, "userId");
        assert_false(seen[user]);
        seen[user] = 1;
        if (i) {
            const th_rec *q = th_get(th, i - 1);
            int64_t e0 = th_int(q, "windowEndTime"), e1 = th_int(r, "windowEndTime");
            assert_true(e0 < e1 || (e0 == e1 && th_int(q, "userId") < user));
        }
    }
    free(seen);
    free(ev);
    ci_free(th);
}

/* Config mistakes fail init; a schema without the fields fails process. */
static void test_config_errors(void **unused)
{
    const char *zero_gap[] = {"gap=0ms", NULL};
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), zero_gap);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_FATAL);
    ci_free(th);
    const char *empty_key[] = {"key=", NULL};
    th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), empty_key);
    assert_int_equal(th_init(th), SH_FATAL);
    ci_free(th);

    const char *bad_field[] = {"key=user", NULL};
    th = ci_session(bad_field);
    assert_non_null(th);
    const ci_event ev[] = {{0, 1, "x", "a", 0, 0}};
    assert_int_equal(ci_feed(th, ev, 1), SH_FATAL);
    ci_free(th);
    const char *wrong_type[] = {"key=devicetype", NULL};
    th = ci_session(wrong_type);
    assert_int_equal(ci_feed(th, ev, 1), SH_FATAL);
    ci_free(th);
    const char *et_int[] = {"event_type_field=eventtimestamp", NULL};
    th = ci_session(et_int);
    assert_int_equal(ci_feed(th, ev, 1), SH_FATAL);
    ci_free(th);
}

/* validate() (`streamhost check`) refuses what init refuses, and starts
 * nothing. */
static void test_validate(void **unused)
{
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    assert_non_null(p->validate);
    static const char *const bad[][2] = {{"gap=0", NULL}, {"gap=0ms", NULL}, {"key=", NULL},
                                         {"index=", NULL}, {"event_type_field=", NULL},
                                         {"product_type_field=", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        testhost *th = th_new(p, bad[i]);
        assert_non_null(th);
        assert_int_equal(p->validate(th_host(th), th_ctx(th)), SH_FATAL);
        assert_null(th_state(th));
        th_free(th);
    }
    const char *good[] = {"gap=1ms", "idleness=0s", NULL};
    testhost *th = th_new(p, good);
    assert_int_equal(p->validate(th_host(th), th_ctx(th)), SH_OK);
    th_free(th);
}

/* Other field names and output index come from the config. */
static void test_config_names(void **unused)
{
    static const sh_field f[] = {{"u", SH_INT}, {"e", SH_STRING}, {"p", SH_STRING}};
    static const sh_schema s = {"other", 3, f};
    const char *kv[] = {"key=u", "event_type_field=e", "product_type_field=p",
                        "index=my_sessions", NULL};
    testhost *th = ci_session(kv);
    assert_non_null(th);
    sh_value v[3] = {sh_v_int(5), sh_v_str("order_checkout", 14), sh_v_str("z", 1)};
    sh_record r = {.schema = &s, .time = 77, .values = v, .slot = 0, .offset = 1};
    assert_int_equal(th_process(th, 0, &r, 1), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    const th_rec *o = th_get(th, 0);
    assert_string_equal(o->schema->name, "my_sessions");
    assert_int_equal(th_int(o, "orderCheckoutEventCount"), 1);
    assert_string_equal(o->id, "5-77");
    ci_free(th);
}

/* The descriptor: outputs, config table, callbacks. */
static void test_descriptor(void **unused)
{
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    assert_string_equal(p->name, "session");
    assert_int_equal(p->kind, SH_TRANSFORM);
    assert_string_equal(p->outputs[0], "late");
    assert_null(p->outputs[1]);
    assert_non_null(p->watermark);
    assert_non_null(p->held);
    assert_non_null(p->tick);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_ids_and_positions),
        cmocka_unit_test(test_gap_touch_rule),
        cmocka_unit_test(test_custom_gap),
        cmocka_unit_test(test_long_windows),
        cmocka_unit_test(test_out_of_order_bridge),
        cmocka_unit_test(test_out_of_order_extend_start),
        cmocka_unit_test(test_three_open_sessions),
        cmocka_unit_test(test_two_checkouts),
        cmocka_unit_test(test_null_and_empty_types),
        cmocka_unit_test(test_null_key),
        cmocka_unit_test(test_late_event),
        cmocka_unit_test(test_fires_on_watermark),
        cmocka_unit_test(test_watermark_slots_and_idleness),
        cmocka_unit_test(test_silent_upstream_slot_holds_watermark),
        cmocka_unit_test(test_no_idleness_and_no_slot),
        cmocka_unit_test(test_held_offsets),
        cmocka_unit_test(test_many_departments),
        cmocka_unit_test(test_dept_list_sorted),
        cmocka_unit_test(test_slot_revoked),
        cmocka_unit_test(test_table_growth),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_config_names),
        cmocka_unit_test(test_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
