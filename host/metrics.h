/* metrics.h - the host's registry of counters, gauges and histograms, per
 * component.  Plugins get stable pointers into it (sh_host.counter/gauge/
 * histogram); the progress line, the summary and /metrics read it.  Names
 * follow the Prometheus rules (docs/metrics.md): base units (seconds,
 * bytes) in the name, `_total` on counters, one name per quantity, what
 * varies (component, partition, reason) in labels. */
#ifndef SH_METRICS_H
#define SH_METRICS_H
#include <stdint.h>
#include <stddef.h>

typedef struct metric {
    char *component; /* instance name, or "host" */
    char *name;      /* e.g. "late_events_total" */
    char *help;
    char *label;     /* extra label "reason=\"bad_avro\"" or NULL */
    int gauge;
    uint64_t counter; /* histograms: the observation count */
    int64_t value;
    /* histograms (histogram != 0): nbounds finite upper bounds, ascending;
     * buckets[i] counts observations in (bounds[i-1], bounds[i]],
     * buckets[nbounds] those above the last bound (not cumulative) */
    int histogram;
    size_t nbounds;
    double *bounds;
    uint64_t *buckets;
    double sum;
} metric;

/* Finds or creates; the returned metric never moves. */
metric *metrics_get(const char *component, const char *name, const char *help,
                    int gauge, const char *label);
/* A histogram with `n` ascending finite bounds (copied); the bounds of the
 * first registration count.  NULL when the bounds are not ascending. */
metric *metrics_histogram(const char *component, const char *name, const char *help, const double *bounds,
                          size_t n, const char *label);
/* One observation; one writer thread per histogram (the pipeline's), read
 * by /metrics without a lock. */
void metrics_observe(metric *h, double v);
size_t metrics_count(void);
metric *metrics_at(size_t i);
/* Sum of counter (or gauge) `name` over components (any if component NULL). */
uint64_t metrics_sum(const char *component, const char *name);
int64_t metrics_gauge_sum(const char *component, const char *name);
void metrics_free_all(void);
/* Frees every metric of `component` (the test kit, when one instance goes
 * and others stay); pointers to them become invalid. */
void metrics_free_component(const char *component);
/* Held while iterating from another thread (/metrics). */
void metrics_lock(void);
void metrics_unlock(void);
#endif
