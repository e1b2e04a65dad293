/* retry_backoff.c - how long to wait before resending.
 *
 * Exponential backoff with "full jitter" (a uniformly random wait between 0
 * and the exponential cap): many sinks retrying against one recovering
 * cluster spread out instead of arriving in waves. */
#include "opensearch_sink.h"

#include <string.h>
#include <time.h>

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

/* Retry-After: a cluster (or the proxy in front of it) that answers 503 or
 * 429 may say how long to stay away; resending sooner only adds load where
 * there is too much already.  The value is a floor under the backoff, never
 * more than OS_RETRY_AFTER_MAX_MS, so a bad value cannot stall the pipeline
 * for hours.  Parsed strictly: digits only, or a date (every HTTP-date form
 * starts with a day name) read by curl_getdate, libcurl's HTTP date parser. */
int64_t os_retry_after_ms(const char *v, size_t len, int64_t now_ms)
{
    while (len && (*v == ' ' || *v == '\t'))
        v++, len--;
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r' ||
                   v[len - 1] == '\n'))
        len--;
    if (!len)
        return -1;
    if (*v >= '0' && *v <= '9') {
        int64_t secs = 0;
        for (size_t i = 0; i < len; i++) {
            if (v[i] < '0' || v[i] > '9')
                return -1;
            if (secs <= OS_RETRY_AFTER_MAX_MS / 1000)
                secs = secs * 10 + (v[i] - '0');
        }
        return secs * 1000 > OS_RETRY_AFTER_MAX_MS ? OS_RETRY_AFTER_MAX_MS : secs * 1000;
    }
    if (!((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z')) || len >= 64)
        return -1;
    char date[64];
    memcpy(date, v, len);
    date[len] = '\0';
    time_t t = curl_getdate(date, NULL);
    if (t == (time_t)-1)
        return -1;
    /* compare in seconds first: a date in the year 99999999 is a valid
     * time_t whose milliseconds overflow (found by fuzz_bulk_response) */
    int64_t now_s = now_ms / 1000;
    if ((int64_t)t > now_s + OS_RETRY_AFTER_MAX_MS / 1000 + 1)
        return OS_RETRY_AFTER_MAX_MS;
    if ((int64_t)t < now_s - 1)
        return 0;
    int64_t ms = (int64_t)t * 1000 - now_ms;
    return ms < 0 ? 0 : ms > OS_RETRY_AFTER_MAX_MS ? OS_RETRY_AFTER_MAX_MS : ms;
}

int64_t os_retry_after_hold(os_sink *s, const os_request *rq, long status)
{
    if ((status != 429 && status != 503) || rq->retry_after_ms < 0)
        return 0;
    int64_t until = s->host->mono_ms(s->ctx) + rq->retry_after_ms;
    if (until > s->hold_until)
        s->hold_until = until;
    return until;
}
