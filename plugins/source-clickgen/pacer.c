/* pacer.c - see pacer.h. */
#include "pacer.h"

#include <math.h>

void pacer_init(pacer *p, int64_t rate_per_s, int64_t now_ms)
{
    p->per_ms = (double)rate_per_s / 1000.0;
    p->burst = p->per_ms * 100.0;
    if (p->burst < 1.0)
        p->burst = 1.0;
    p->tokens = 1.0; /* the first event goes at once, the rest at the rate */
    p->last_ms = now_ms;
}

size_t pacer_available(pacer *p, int64_t now_ms)
{
    if (now_ms > p->last_ms) {
        p->tokens += (double)(now_ms - p->last_ms) * p->per_ms;
        if (p->tokens > p->burst)
            p->tokens = p->burst;
        p->last_ms = now_ms;
    }
    return p->tokens >= 1.0 ? (size_t)p->tokens : 0;
}

void pacer_spend(pacer *p, size_t n)
{
    p->tokens -= (double)n;
}

int64_t pacer_wait_ms(const pacer *p)
{
    if (p->tokens >= 1.0)
        return 0;
    int64_t ms = (int64_t)ceil((1.0 - p->tokens) / p->per_ms);
    return ms < 1 ? 1 : ms;
}
