/* watchdog.c - see watchdog.h.  A thread that wakes every 50 ms, arms
 * itself when it sees the stop request, and ends the process when a plugin
 * callback outlives the shutdown deadline.  The callback stack is guarded by
 * a mutex: the run loop takes it twice per callback (a few times per batch,
 * uncontended), the watchdog 20 times a second. */
#include "watchdog.h"
#include "clock.h"
#include "log.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define WD_MAX_DEPTH 128 /* nested calls (DAG depth); deeper ones are counted, not named */
#define WD_PERIOD_MS 50

struct wd_frame {
    const instance *in;
    const char *cb;
    int64_t since;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int running, quit;
    pipeline *pl;
    int armed;
    int64_t deadline;
    const char *why;
    int pipeline_running;
    struct wd_frame stack[WD_MAX_DEPTH];
    size_t depth;
} wd = {.mu = PTHREAD_MUTEX_INITIALIZER, .deadline = INT64_MAX};

static void arm_locked(const char *why, int64_t now)
{
    if (wd.armed || !wd.pl)
        return;
    int64_t t = wd.pl->shutdown_timeout_ms > 0 ? wd.pl->shutdown_timeout_ms : 0;
    wd.armed = 1;
    wd.why = why;
    wd.deadline = t > INT64_MAX - now ? INT64_MAX : now + t;
}

static void fmt_ms(char *buf, size_t n, int64_t ms)
{
    if (ms % 1000 == 0)
        snprintf(buf, n, "%llds", (long long)(ms / 1000));
    else
        snprintf(buf, n, "%lldms", (long long)ms);
}

/* The callback on top of the stack is stuck: say which, and exit 1 without
 * returning to the run loop (which would be blocked in it anyway).  Holds
 * the lock, so the run loop cannot go on to commit anything meanwhile. */
__attribute__((noreturn)) static void fire(const struct wd_frame *f, int64_t now)
{
    char limit[32];
    fmt_ms(limit, sizeof limit, wd.pl->shutdown_timeout_ms);
    const instance *in = f->in;
    sh_log(SH_LOG_ERROR, NULL,
           "%s: %s() did not return within shutdown.timeout (%s) after %s (running for %.1fs); "
           "exiting 1 without committing past what was delivered",
           in->sec && in->sec->title ? in->sec->title : in->name, f->cb, limit, wd.why,
           (double)(now - f->since) / 1000.0);
    _exit(1);
}

static void *wd_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wd.mu);
    while (!wd.quit) {
        int64_t now = sh_mono_ms();
        if (!wd.armed && __atomic_load_n(&wd.pl->stop_requested, __ATOMIC_RELAXED))
            arm_locked("the stop request", now);
        if (wd.armed && wd.depth > 0) {
            const struct wd_frame *f = &wd.stack[(wd.depth < WD_MAX_DEPTH ? wd.depth : WD_MAX_DEPTH) - 1];
            int64_t from = f->since > wd.deadline ? f->since : wd.deadline;
            if (from <= INT64_MAX - WD_GRACE_MS && now >= from + WD_GRACE_MS)
                fire(f, now);
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += WD_PERIOD_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&wd.cv, &wd.mu, &ts);
    }
    pthread_mutex_unlock(&wd.mu);
    return NULL;
}

int watchdog_start(pipeline *pl)
{
    watchdog_stop();
    pthread_mutex_lock(&wd.mu);
    wd.pl = pl;
    wd.armed = 0;
    wd.deadline = INT64_MAX;
    wd.why = NULL;
    wd.depth = 0;
    wd.quit = 0;
    wd.pipeline_running = 0;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wd.cv, &ca);
    pthread_condattr_destroy(&ca);
    /* signals go to the run loop's thread, where they interrupt what it waits in */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&wd.thread, NULL, wd_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    wd.running = rc == 0;
    if (rc != 0)
        pthread_cond_destroy(&wd.cv);
    pthread_mutex_unlock(&wd.mu);
    if (rc != 0)
        LOG_WARN("cannot start the shutdown watchdog thread; a stuck plugin will not be stopped by shutdown.timeout");
    return rc == 0 ? 0 : -1;
}

void watchdog_stop(void)
{
    pthread_mutex_lock(&wd.mu);
    int running = wd.running;
    wd.quit = 1;
    if (running)
        pthread_cond_signal(&wd.cv);
    pthread_mutex_unlock(&wd.mu);
    if (!running)
        return;
    pthread_join(wd.thread, NULL);
    pthread_mutex_lock(&wd.mu);
    pthread_cond_destroy(&wd.cv);
    wd.running = 0;
    wd.pl = NULL;
    wd.armed = 0;
    wd.deadline = INT64_MAX;
    wd.pipeline_running = 0;
    pthread_mutex_unlock(&wd.mu);
}

void watchdog_arm(const char *why)
{
    pthread_mutex_lock(&wd.mu);
    arm_locked(why, sh_mono_ms());
    pthread_mutex_unlock(&wd.mu);
}

int64_t watchdog_deadline(void)
{
    pthread_mutex_lock(&wd.mu);
    int64_t d = wd.armed ? wd.deadline : INT64_MAX;
    pthread_mutex_unlock(&wd.mu);
    return d;
}

void watchdog_set_running(int running)
{
    pthread_mutex_lock(&wd.mu);
    wd.pipeline_running = running;
    pthread_mutex_unlock(&wd.mu);
}

int watchdog_is_running(void)
{
    pthread_mutex_lock(&wd.mu);
    int r = wd.pipeline_running;
    pthread_mutex_unlock(&wd.mu);
    return r;
}

void watchdog_enter(const instance *in, const char *cb)
{
    int64_t now = sh_mono_ms();
    pthread_mutex_lock(&wd.mu);
    if (wd.depth < WD_MAX_DEPTH)
        wd.stack[wd.depth] = (struct wd_frame){in, cb, now};
    wd.depth++;
    pthread_mutex_unlock(&wd.mu);
}

void watchdog_leave(void)
{
    pthread_mutex_lock(&wd.mu);
    if (wd.depth > 0)
        wd.depth--;
    pthread_mutex_unlock(&wd.mu);
}

const char *watchdog_current(const instance **owner)
{
    const char *cb = NULL;
    *owner = NULL;
    pthread_mutex_lock(&wd.mu);
    if (wd.depth > 0 && wd.depth <= WD_MAX_DEPTH) {
        *owner = wd.stack[wd.depth - 1].in;
        cb = wd.stack[wd.depth - 1].cb;
    } else if (wd.depth > WD_MAX_DEPTH) {
        cb = "?"; /* too deep to name: let it pass rather than refuse a good call */
    }
    pthread_mutex_unlock(&wd.mu);
    return cb;
}
