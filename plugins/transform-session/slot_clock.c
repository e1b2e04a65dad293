/* slot_clock.c - see slot_clock.h. */
#include "slot_clock.h"
#include "streamhost/plugin.h"

#include <stdlib.h>
#include <string.h>

/* Slots come from sh_host.slot(): small dense integers.  Anything else is
 * folded into the SH_NO_SLOT entry rather than allocating a huge array. */
#define SS_CLOCK_MAX_SLOTS 65536

void ss_clock_init(ss_clock *c) { memset(c, 0, sizeof *c); }

void ss_clock_free(ss_clock *c)
{
    free(c->slots);
    memset(c, 0, sizeof *c);
}

static ss_slot_time *slot_entry(ss_clock *c, int32_t slot)
{
    size_t i = (slot >= 0 && slot < SS_CLOCK_MAX_SLOTS) ? (size_t)slot + 1 : 0;
    if (i >= c->n) {
        size_t n = c->n ? c->n : 4;
        while (n <= i)
            n *= 2;
        ss_slot_time *s = realloc(c->slots, n * sizeof *s);
        if (!s)
            return NULL;
        for (size_t k = c->n; k < n; k++)
            s[k] = (ss_slot_time){.max_ts = INT64_MIN, .last_ms = INT64_MIN};
        c->slots = s;
        c->n = n;
    }
    return &c->slots[i];
}

int ss_clock_announce(ss_clock *c, int32_t slot, int64_t now_ms)
{
    ss_slot_time *t = slot_entry(c, slot);
    if (!t)
        return -1;
    if (t->last_ms == INT64_MIN)
        t->last_ms = now_ms; /* known, no event time yet: holds the minimum */
    return 0;
}

int ss_clock_observe(ss_clock *c, int32_t slot, int64_t ts, int64_t now_ms)
{
    ss_slot_time *t = slot_entry(c, slot);
    if (!t)
        return -1;
    if (ts > t->max_ts)
        t->max_ts = ts;
    t->last_ms = now_ms;
    return 0;
}

int ss_clock_watermark(const ss_clock *c, int64_t out_of_orderness,
                       int64_t idleness, int64_t now_ms, int64_t *wm)
{
    int any = 0;
    int64_t min = INT64_MAX;
    for (size_t i = 0; i < c->n; i++) {
        const ss_slot_time *t = &c->slots[i];
        if (t->last_ms == INT64_MIN)
            continue;
        if (idleness > 0 && now_ms - t->last_ms >= idleness)
            continue;
        /* max_ts - out_of_orderness - 1, saturating at INT64_MIN */
        int64_t w = t->max_ts < INT64_MIN + out_of_orderness + 1
                        ? INT64_MIN
                        : t->max_ts - out_of_orderness - 1;
        if (w < min)
            min = w;
        any = 1;
    }
    if (any)
        *wm = min;
    return any;
}

void ss_clock_forget(ss_clock *c, int32_t slot)
{
    size_t i = (slot >= 0 && slot < SS_CLOCK_MAX_SLOTS) ? (size_t)slot + 1 : 0;
    if (i < c->n)
        c->slots[i] = (ss_slot_time){.max_ts = INT64_MIN, .last_ms = INT64_MIN};
}
