/* progress.c - what an operator watching a terminal sees: one line,
 * refreshed in place, with rates per source and sink, open sessions and
 * the watermark; plain log lines when stderr is not a terminal. */
#include "progress.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int tty;
static int line_shown;
static double t0, last_t, last_log;
#define MAXC 64
static uint64_t last_count[MAXC];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

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
    t0 = last_t = last_log = now_s();
    memset(last_count, 0, sizeof last_count);
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

/* One segment per source (records out) and sink (records in):
 * "generator 50000 (91.0k/s)". */
void progress_update(pipeline *pl, int final)
{
    if (pl->progress == 0)
        return;
    double t = now_s();
    if (!final && t - last_t < (tty ? 0.5 : 1.0))
        return;
    double dt = t - last_t > 0 ? t - last_t : 1;
    char line[1024];
    size_t o = (size_t)snprintf(line, sizeof line, "%6.1fs", t - t0);
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
    }
    int64_t open = metrics_gauge_sum(NULL, "open_sessions");
    uint64_t late = metrics_sum(NULL, "late_events_total");
    uint64_t dead = metrics_sum(NULL, "dead_letters_total");
    int64_t lag = metrics_gauge_sum(NULL, "consumer_lag");
    if (o < sizeof line)
        snprintf(line + o, sizeof line - o, " | lag %lld | open sessions %lld | late %llu | dead letters %llu",
                 (long long)lag, (long long)open, (unsigned long long)late, (unsigned long long)dead);
    if (tty) {
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
    double el = now_s() - t0;
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
