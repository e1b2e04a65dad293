/* slot_clock.h - event-time watermark per input slot (Kafka partition),
 * combined as Flink combines per-partition watermarks: each slot's
 * watermark is its highest event time - out_of_orderness - 1; the operator's
 * is the minimum over slots that are not idle.  SH_NO_SLOT counts as a slot
 * of its own.  A slot is known from its first record on, or earlier when
 * announced (an assigned Kafka partition that has not delivered yet): it
 * then holds the watermark back, as a Flink split without data does, until
 * it delivers or counts as idle. */
#ifndef SLOT_CLOCK_H
#define SLOT_CLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct ss_slot_time {
    int64_t max_ts;  /* highest event time seen */
    int64_t last_ms; /* monotonic ms of its last record; INT64_MIN = unseen */
} ss_slot_time;

typedef struct ss_clock {
    ss_slot_time *slots; /* index slot + 1 */
    size_t n;
} ss_clock;

void ss_clock_init(ss_clock *c);
void ss_clock_free(ss_clock *c);
/* A record of `slot` with event time `ts` arrived at `now_ms`.  0, or -1 when
 * memory ran out. */
int ss_clock_observe(ss_clock *c, int32_t slot, int64_t ts, int64_t now_ms);
/* `slot` exists upstream (sh_host.upstream_slots): unless already known, it
 * counts from now on, with no event time yet.  0, or -1 out of memory. */
int ss_clock_announce(ss_clock *c, int32_t slot, int64_t now_ms);
/* `slot` left this process: it no longer holds the watermark. */
void ss_clock_forget(ss_clock *c, int32_t slot);
/* Minimum watermark over the slots heard from within `idleness` ms of
 * `now_ms` (idleness 0: never idle).  Returns 0 and leaves *wm alone when
 * every slot is idle or none was seen. */
int ss_clock_watermark(const ss_clock *c, int64_t out_of_orderness,
                       int64_t idleness, int64_t now_ms, int64_t *wm);
#endif
