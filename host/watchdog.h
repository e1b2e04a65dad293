/* watchdog.h - every callback the host makes is bounded at shutdown.
 *
 * The run loop brackets each plugin callback with watchdog_enter/leave, so
 * the watchdog knows which component and callback the loop is in and since
 * when.  The watchdog is armed by the first stop request (SIGINT/SIGTERM),
 * by the start of a finite run's final flush, or by the end of the run
 * (fatal error included), whichever comes first; from then on the host has
 * shutdown.timeout to finish.  The host's own loops (retries, the final
 * flush) stop at that deadline by themselves; a callback that is still
 * running WD_GRACE_MS after it (or after its own start, for stop()/destroy()
 * called past the deadline) is stuck in the plugin: the watchdog thread logs
 * one line naming the component and the callback and exits 1 at once.
 * Nothing is committed on that exit, so offsets never pass what the sinks
 * acknowledged.
 *
 * One pipeline runs at a time per process (the host runs one; tests run
 * them one after another), so the state is process-wide. */
#ifndef SH_WATCHDOG_H
#define SH_WATCHDOG_H
#include "instance.h"

/* How long a callback may still run after the deadline: long enough for a
 * well-behaved call that is near its own timeout (a final flush() waits
 * about a second per call), short enough to keep the bound tight. */
#define WD_GRACE_MS 1000

/* Starts the watchdog thread for `pl` (before init) and stops it (after
 * the last destroy); stop is a no-op when it is not running. */
int watchdog_start(pipeline *pl);
void watchdog_stop(void);

/* Arms the watchdog: the deadline is now + pl->shutdown_timeout_ms.
 * `why` ("the stop request", ...) names the cause in the exit line; only the
 * first call counts. */
void watchdog_arm(const char *why);
/* The shutdown deadline (monotonic ms), INT64_MAX while not armed. */
int64_t watchdog_deadline(void);

/* Whether the pipeline runs: from the end of init_all (every component
 * initialised and started) to the first stop() call.  Only then may
 * plugins emit (services.c refuses it otherwise). */
void watchdog_set_running(int running);
int watchdog_is_running(void);

/* Bracket a callback `cb` ("poll", "flush", ...) of instance `in`.  Calls
 * nest (a poll emits into a process, ...). */
void watchdog_enter(const instance *in, const char *cb);
void watchdog_leave(void);
/* The innermost callback in progress, or NULL outside every callback; sets
 * *owner to the instance it was made on. */
const char *watchdog_current(const instance **owner);

/* Call expression `call` (a callback of `in` named `cb`) under the
 * watchdog's eye; the value is the callback's result. */
#define WD_CALL(in, cb, call)                                                 \
    __extension__({                                                           \
        watchdog_enter((in), (cb));                                           \
        __typeof__(call) wd_result_ = (call);                                 \
        watchdog_leave();                                                     \
        wd_result_;                                                           \
    })
#define WD_CALL_VOID(in, cb, call)                                            \
    do {                                                                      \
        watchdog_enter((in), (cb));                                           \
        call;                                                                 \
        watchdog_leave();                                                     \
    } while (0)
#endif
