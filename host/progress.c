/* progress.c - what an operator watching a terminal sees: one line,
 * refreshed in place, with rates per source and sink, open sessions and,
 * until the first window closes, what the pipeline waits for (see
 * progress_wait_text); plain log lines when stderr is not a terminal. */
#include "progress.h"
#include "clock.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int tty;
static int line_shown;
static double t0, last_t, last_log;
#define MAXC 64
static uint64_t last_count[MAXC];
static int64_t first_in[MAXC]; /* wall ms when the component's first record came in; 0: not yet */
/* Watermark speed per component: a sample (watermark, wall ms) at least 1 s
 * old, and the speed measured from the previous one (0: unknown). */
static int64_t wm_sample[MAXC], wm_sample_at[MAXC];
static double wm_speed[MAXC];

static void clear_line(void)
{
    if (line_shown) {
        fputs("\r\033[K", stderr);
        line_shown = 0;
    }
}

void progress_start(pipeline *pl)
{
    tty = pl->progress == 2 || (pl->progress == 1 && isatty(STDERR_FILENO));
    if (pl->progress == 0)
        tty = 0;
    t0 = last_t = last_log = sh_mono_s();
    memset(last_count, 0, sizeof last_count);
    memset(first_in, 0, sizeof first_in);
    memset(wm_sample_at, 0, sizeof wm_sample_at);
    memset(wm_speed, 0, sizeof wm_speed);
    if (tty)
        sh_log_before_write = clear_line;
}

static void fmt_rate(char *buf, size_t n, double r)
{
    if (r >= 1e6)
        snprintf(buf, n, "%.2fM/s", r / 1e6);
    else if (r >= 1e3)
        snprintf(buf, n, "%.1fk/s", r / 1e3);
    else
        snprintf(buf, n, "%.0f/s", r);
}

/* "20.0 s", "12.5 min", "3.2 h", "4.0 d" */
static void fmt_span(char *buf, size_t n, int64_t ms)
{
    double s = (double)ms / 1000.0;
    if (s < 120)
        snprintf(buf, n, "%.1f s", s);
    else if (s < 7200)
        snprintf(buf, n, "%.1f min", s / 60);
    else if (s < 172800)
        snprintf(buf, n, "%.1f h", s / 3600);
    else
        snprintf(buf, n, "%.0f d", s / 86400);
}

void progress_wait_text(char *buf, size_t n, const char *name, int64_t wm, int64_t now_ms,
                        int64_t first_in_ms, double wm_per_s, int from_sources)
{
    if (n == 0)
        return;
    buf[0] = 0;
    if (wm == INT64_MAX)
        return;
    if (!first_in_ms) {
        if (from_sources)
            snprintf(buf, n, "%s: no records yet", name);
        return;
    }
    if (wm == INT64_MIN) {
        snprintf(buf, n, "%s: waiting for a watermark (none yet: no window can close)", name);
        return;
    }
    char span[32];
    int64_t behind = now_ms - wm;
    fmt_span(span, sizeof span, behind >= 0 ? behind : -behind);
    const char *side = behind >= 0 ? "behind" : "ahead of";
    /* Live input: event time follows the wall clock, so the first records'
     * event time is about when they came in, and the watermark gets there
     * at wall-clock speed. */
    int live = from_sources && behind >= 0 && behind <= 10 * 60 * 1000 && wm_per_s > 0.8 &&
               wm_per_s < 1.25;
    if (live && first_in_ms > wm) {
        double to_go = (double)(first_in_ms - wm) / wm_per_s / 1000.0;
        snprintf(buf, n,
                 "%s: waiting for the watermark (%s %s the wall clock) to pass the first events: %.0f s to go",
                 name, span, side, to_go < 1 ? 1.0 : to_go);
        return;
    }
    if (wm_per_s == 0 && from_sources) /* not measured yet (its first second): no guess */
        snprintf(buf, n, "%s: waiting for the watermark (%s %s the wall clock)", name, span, side);
    else
        snprintf(buf, n, "%s: waiting for the watermark (%s %s the wall clock) to pass the end of a window",
                 name, span, side);
}

/* Are the records of `in` straight from sources (through transforms that
 * keep no windows)?  Then their event times are what the sources stamped. */
static int fed_by_sources(const instance *in, int depth)
{
    if (depth > 16 || in->ninputs == 0)
        return 0;
    for (size_t i = 0; i < in->ninputs; i++) {
        const instance *from = in->inputs[i].from;
        if (!from || (from->kind != SH_SOURCE && (!from->p || from->p->watermark || !fed_by_sources(from, depth + 1))))
            return 0;
    }
    return 1;
}

/* The first windowed transform (in DAG order) that has records but has
 * emitted none: no window of it has closed yet. */
static void wait_segment(pipeline *pl, char *buf, size_t n)
{
    buf[0] = 0;
    for (size_t i = 0; i < pl->ninsts && i < MAXC; i++) {
        instance *in = pl->insts[i];
        if (in->kind != SH_TRANSFORM || !in->p || !in->p->watermark || !in->m_out || in->m_out->counter > 0)
            continue;
        progress_wait_text(buf, n, in->name, in->out_wm, sh_wall_ms(), first_in[i], wm_speed[i],
                           fed_by_sources(in, 0));
        if (buf[0])
            return;
    }
}

/* Per tick: when records first came in, and how fast watermarks move. */
static void observe(pipeline *pl)
{
    int64_t now = sh_wall_ms();
    for (size_t i = 0; i < pl->ninsts && i < MAXC; i++) {
        instance *in = pl->insts[i];
        if (!first_in[i] && in->m_in && in->m_in->counter > 0)
            first_in[i] = now;
        int64_t wm = in->out_wm;
        if (wm == INT64_MIN || wm == INT64_MAX) {
            wm_sample_at[i] = 0;
            continue;
        }
        if (!wm_sample_at[i]) {
            wm_sample[i] = wm;
            wm_sample_at[i] = now;
        } else if (now - wm_sample_at[i] >= 1000) {
            wm_speed[i] = (double)(wm - wm_sample[i]) / (double)(now - wm_sample_at[i]);
            wm_sample[i] = wm;
            wm_sample_at[i] = now;
        }
    }
}

/* Columns of the terminal on stderr (0: unknown). */
static size_t term_columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0;
}

/* One segment per source (records out) and sink (records in):
 * "generator 50000 (91.0k/s)"; first, while no window has closed yet, what
 * the pipeline waits for. */
void progress_update(pipeline *pl, int final)
{
    if (pl->progress == 0)
        return;
    observe(pl);
    double t = sh_mono_s();
    if (!final && t - last_t < (tty ? 0.5 : 1.0))
        return;
    double dt = t - last_t > 0 ? t - last_t : 1;
    char line[1024], wait[256];
    size_t o = (size_t)snprintf(line, sizeof line, "%6.1fs", t - t0);
    wait_segment(pl, wait, sizeof wait);
    if (wait[0] && !final)
        o += (size_t)snprintf(line + o, sizeof line - o, " | %s", wait);
    for (size_t i = 0; i < pl->ninsts && i < MAXC; i++) {
        instance *in = pl->insts[i];
        if (in->kind == SH_TRANSFORM || !in->m_in)
            continue;
        uint64_t c = in->kind == SH_SOURCE ? in->m_out->counter : in->m_in->counter;
        char rate[32];
        fmt_rate(rate, sizeof rate, (double)(c - last_count[i]) / dt);
        last_count[i] = c;
        if (o < sizeof line)
            o += (size_t)snprintf(line + o, sizeof line - o, " | %s %llu (%s)", in->name, (unsigned long long)c,
                                  rate);
        int64_t total = in->kind == SH_SOURCE ? metrics_gauge_sum(in->name, "topic_partitions") : 0;
        if (total > 0 && o < sizeof line) /* several processes in a group: this one's share */
            o += (size_t)snprintf(line + o, sizeof line - o, " [%lld/%lld partitions]",
                                  (long long)metrics_gauge_sum(in->name, "assigned_partitions"), (long long)total);
    }
    int64_t open = metrics_gauge_sum(NULL, "open_sessions");
    uint64_t late = metrics_sum(NULL, "late_events_total");
    uint64_t dead = metrics_sum(NULL, "dead_letters_total");
    int64_t lag = metrics_gauge_sum(NULL, "consumer_lag");
    int64_t paused = metrics_gauge_sum(NULL, "registry_paused_partitions");
    if (paused > 0 && o < sizeof line) /* the Kafka source waits for the schema registry */
        o += (size_t)snprintf(line + o, sizeof line - o, " | schema registry unavailable: %lld partition(s) paused",
                              (long long)paused);
    if (o < sizeof line)
        snprintf(line + o, sizeof line - o, " | lag %lld | open sessions %lld | late %llu | dead letters %llu",
                 (long long)lag, (long long)open, (unsigned long long)late, (unsigned long long)dead);
    if (tty) {
        /* a line longer than the terminal would wrap, and \r rewrites only its last row */
        size_t cols = term_columns();
        if (cols > 1 && strlen(line) > cols - 1)
            line[cols - 1] = 0;
        fprintf(stderr, "\r\033[K%s", line);
        fflush(stderr);
        line_shown = 1;
    } else if (t - last_log >= pl->progress_interval_s || final) {
        if (!final)
            sh_log(SH_LOG_INFO, NULL, "progress: %s", line);
        last_log = t;
    }
    last_t = t;
}

void progress_summary(pipeline *pl)
{
    clear_line();
    sh_log_before_write = NULL;
    double el = sh_mono_s() - t0;
    LOG_INFO("summary after %.1f s:", el);
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        if (!in->m_in)
            continue;
        LOG_INFO("  %-10s %-10s in %-12llu out %-12llu errors %llu", kind_name(in->kind), in->name,
                 (unsigned long long)in->m_in->counter, (unsigned long long)in->m_out->counter,
                 (unsigned long long)in->m_errors->counter);
    }
    for (size_t i = 0; i < metrics_count(); i++) {
        metric *m = metrics_at(i);
        if (strcmp(m->name, "records_in_total") == 0 || strcmp(m->name, "records_out_total") == 0 ||
            strcmp(m->name, "errors_total") == 0 || (!m->gauge && m->counter == 0))
            continue;
        if (m->gauge)
            continue;
        LOG_INFO("  %s %s%s%s = %llu", m->component, m->name, m->label ? " " : "", m->label ? m->label : "",
                 (unsigned long long)m->counter);
    }
}
