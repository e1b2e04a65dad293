/* The progress line's account of why no window has closed yet
 * (progress_wait_text): what the host can know from a watermark, the wall
 * clock, when records first came in and how fast the watermark moves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "progress.h"

#define NOW 1700000000000LL

static const char *text(int64_t wm, int64_t first_in, double speed, int from_sources)
{
    static char buf[256];
    progress_wait_text(buf, sizeof buf, "sessions", wm, NOW, first_in, speed, from_sources);
    return buf;
}

/* quickstart.ini 8 s after the first events: a 20 s bound, 12 s to go */
static void test_live_countdown(void **st)
{
    (void)st;
    assert_string_equal(text(NOW - 20000, NOW - 8000, 1.0, 1),
                        "sessions: waiting for the watermark (20.0 s behind the wall clock) to pass the "
                        "first events: 12 s to go");
    /* the watermark a little slow or fast (batches): still the wall clock */
    assert_string_equal(text(NOW - 20000, NOW - 8000, 0.9, 1),
                        "sessions: waiting for the watermark (20.0 s behind the wall clock) to pass the "
                        "first events: 13 s to go");
    /* never "0 s to go" while waiting */
    assert_non_null(strstr(text(NOW - 20000, NOW - 19900, 1.0, 1), ": 1 s to go"));
}

static void test_before_a_watermark(void **st)
{
    (void)st;
    assert_string_equal(text(INT64_MIN, 0, 0, 1), "sessions: no records yet");
    assert_string_equal(text(INT64_MIN, NOW - 100, 0, 1),
                        "sessions: waiting for a watermark (none yet: no window can close)");
    /* not fed by sources and nothing in: nothing to say */
    assert_string_equal(text(INT64_MIN, 0, 0, 0), "");
    /* finite input drained: +infinity closes everything */
    assert_string_equal(text(INT64_MAX, NOW - 100, 1.0, 1), "");
}

/* first second of a watermark: its speed is not known, so no countdown */
static void test_speed_unknown(void **st)
{
    (void)st;
    assert_string_equal(text(NOW - 20100, NOW - 500, 0, 1),
                        "sessions: waiting for the watermark (20.1 s behind the wall clock)");
}

/* the watermark passed the first events: windows close as it passes their ends */
static void test_past_the_first_events(void **st)
{
    (void)st;
    assert_string_equal(text(NOW - 20000, NOW - 25000, 1.0, 1),
                        "sessions: waiting for the watermark (20.0 s behind the wall clock) to pass the end "
                        "of a window");
}

/* No countdown when event time does not follow the wall clock: the
 * simulated clock (watermark ahead of it, or moving 4.5x), a replay of old
 * data, or records that come from another windowed transform. */
static void test_no_countdown_unless_live(void **st)
{
    (void)st;
    assert_string_equal(text(NOW - 5500, NOW - 1000, 4.5, 1),
                        "sessions: waiting for the watermark (5.5 s behind the wall clock) to pass the end of "
                        "a window");
    assert_string_equal(text(NOW + 300000, NOW - 1000, 4.5, 1),
                        "sessions: waiting for the watermark (5.0 min ahead of the wall clock) to pass the end "
                        "of a window");
    assert_string_equal(text(NOW - 3 * 3600 * 1000LL, NOW - 1000, 1.0, 1),
                        "sessions: waiting for the watermark (3.0 h behind the wall clock) to pass the end of a "
                        "window");
    assert_string_equal(text(NOW - 400LL * 86400 * 1000, NOW - 1000, 1.0, 1),
                        "sessions: waiting for the watermark (400 d behind the wall clock) to pass the end of a "
                        "window");
    assert_string_equal(text(NOW - 20000, NOW - 8000, 1.0, 0),
                        "sessions: waiting for the watermark (20.0 s behind the wall clock) to pass the end of a "
                        "window");
}

static void test_small_buffer(void **st)
{
    (void)st;
    char buf[16];
    progress_wait_text(buf, sizeof buf, "sessions", NOW - 20000, NOW, NOW - 8000, 1.0, 1);
    assert_string_equal(buf, "sessions: waiti");
    progress_wait_text(buf, 0, "sessions", NOW - 20000, NOW, NOW - 8000, 1.0, 1); /* no write */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_countdown),       cmocka_unit_test(test_before_a_watermark),
        cmocka_unit_test(test_speed_unknown),        cmocka_unit_test(test_past_the_first_events),
        cmocka_unit_test(test_no_countdown_unless_live), cmocka_unit_test(test_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
