/* metrics.h - the host's registry of counters and gauges, per component.
 * Plugins get stable pointers into it (sh_host.counter/gauge); the progress
 * line, the summary and /metrics read it. */
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
    uint64_t counter;
    int64_t value;
} metric;

/* Finds or creates; the returned metric never moves. */
metric *metrics_get(const char *component, const char *name, const char *help,
                    int gauge, const char *label);
size_t metrics_count(void);
metric *metrics_at(size_t i);
/* Sum of counter (or gauge) `name` over components (any if component NULL). */
uint64_t metrics_sum(const char *component, const char *name);
int64_t metrics_gauge_sum(const char *component, const char *name);
void metrics_free_all(void);
/* Held while iterating from another thread (/metrics). */
void metrics_lock(void);
void metrics_unlock(void);
#endif
