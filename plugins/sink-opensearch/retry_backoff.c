/* retry_backoff.c - how long to wait before resending.
 *
 * Exponential backoff with "full jitter" (a uniformly random wait between 0
 * and the exponential cap): many sinks retrying against one recovering
 * cluster spread out instead of arriving in waves. */
#include "opensearch_sink.h"

uint64_t os_rand64(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

int64_t os_backoff_ms(uint32_t attempt, int64_t initial_ms, int64_t max_ms, uint64_t *rng)
{
    if (attempt == 0)
        return 0;
    int64_t cap = initial_ms;
    for (uint32_t i = 1; i < attempt && cap < max_ms; i++)
        cap = cap > max_ms / 2 ? max_ms : cap * 2;
    if (cap > max_ms)
        cap = max_ms;
    if (cap <= 0)
        return 0;
    return (int64_t)(os_rand64(rng) % (uint64_t)(cap + 1));
}
