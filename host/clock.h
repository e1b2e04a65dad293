/* clock.h - the host's one clock helper: milliseconds on the monotonic clock
 * (intervals, deadlines) and on the wall clock (event time, lag), and a
 * sleep.  Plugins read time through sh_host.now_ms/mono_ms instead, which
 * the test kit can fix (services.c). */
#ifndef SH_CLOCK_H
#define SH_CLOCK_H
#include <errno.h>
#include <stdint.h>
#include <time.h>

static inline int64_t sh_clock_ms_(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic milliseconds: for intervals and timeouts. */
static inline int64_t sh_mono_ms(void) { return sh_clock_ms_(CLOCK_MONOTONIC); }

/* Wall-clock milliseconds since the epoch. */
static inline int64_t sh_wall_ms(void) { return sh_clock_ms_(CLOCK_REALTIME); }

/* Monotonic seconds, with sub-millisecond resolution (rates). */
static inline double sh_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The test kit's fixed clock (th_set_now; clock.c): 0, the default, is the
 * real clock. */
extern int64_t sh_test_clock_ms;

/* Time as plugins see it (sh_host.now_ms and tick()'s argument). */
static inline int64_t sh_plugin_now_ms(void) { return sh_test_clock_ms ? sh_test_clock_ms : sh_wall_ms(); }
static inline int64_t sh_plugin_mono_ms(void) { return sh_test_clock_ms ? sh_test_clock_ms : sh_mono_ms(); }

/* Sleeps `ms` milliseconds (all of them: a signal does not end it early). */
static inline void sh_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
#endif
