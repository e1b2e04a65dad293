/* pacer.h - token bucket that holds the generator to `rate` events per
 * second of wall time.  The bucket holds at most 100 ms worth of events (at
 * least one), so a slow consumer cannot cause a long burst afterwards. */
#ifndef CLICKGEN_PACER_H
#define CLICKGEN_PACER_H
#include <stddef.h>
#include <stdint.h>

typedef struct pacer {
    double tokens;   /* events that may be sent now */
    double burst;    /* bucket size */
    double per_ms;   /* refill: events per millisecond */
    int64_t last_ms; /* monotonic time of the last refill */
} pacer;

void pacer_init(pacer *p, int64_t rate_per_s, int64_t now_ms);
/* Refills for the time elapsed and returns how many events may go now. */
size_t pacer_available(pacer *p, int64_t now_ms);
void pacer_spend(pacer *p, size_t n);
/* Milliseconds until one event may go (>= 1 when none may go now). */
int64_t pacer_wait_ms(const pacer *p);
#endif
