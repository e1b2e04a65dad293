/* user_heap.h - the users in flight, as a priority queue by next event time.
 *
 * The generator always emits the earliest pending event of all users, so
 * event times come out in non-decreasing order.  Ties break on the user's
 * start number, which is unique: the order is total, hence deterministic,
 * and the same whichever of the two forms below holds the users.
 *
 * Heap form: a 4-ary min-heap (any times).
 * Calendar form (user_heap_calendar): one bucket per millisecond over a ring
 * longer than the longest delay from the top's time to a re-scheduled time;
 * the bucket of the top's millisecond is sorted by start number when the top
 * reaches it.  O(1) per event instead of a sift through the heap (which,
 * even 4-ary, was the generator's largest cost: cache misses at every
 * level of a 20000-user heap).  It needs every time that enters the queue
 * to be within [top time, top time + max_delay]; a time outside (which
 * clickgen does not make) turns the queue back into the heap form, with the
 * same order. */
#ifndef CLICKGEN_USER_HEAP_H
#define CLICKGEN_USER_HEAP_H
#include "journey.h"
#include <stddef.h>
#include <stdint.h>

/* One user's journey in flight, with its pending (not yet emitted) event. */
typedef struct click_user {
    int64_t next_time; /* event time of the pending event, epoch ms */
    uint64_t number;   /* 1-based start number: tie-break and id block */
    int32_t id;        /* userid */
    uint16_t thread;   /* simulated producer thread */
    journey_step step; /* the pending event */
    uint8_t device;    /* index into journey_device_name, fixed per journey */
    uint8_t ip_octet;  /* last octet of 66.249.1.x, fixed per journey */
} click_user;

/* Calendar form: a user of the current millisecond, by start number. */
typedef struct user_run {
    uint64_t number;
    uint32_t slot;
} user_run;

typedef struct user_heap {
    click_user *items; /* heap form: the heap; calendar form: users by slot */
    size_t n, cap;     /* users queued, room */
    /* calendar form (mask != 0) */
    uint64_t mask;     /* buckets - 1 (a power of two, minus one) */
    int64_t cur;       /* the current millisecond: every queued time is in [cur, cur + mask] */
    uint32_t *head;    /* per bucket: first slot of its list, UINT32_MAX: none */
    uint32_t *next;    /* per slot: the next slot in its bucket's list */
    user_run *run;     /* the users of millisecond cur, by number, from run_at */
    size_t run_at, run_n, run_cap;
    user_run *scratch; /* merge sort buffer (run_cap) */
    uint32_t *free_slots; /* slots of popped users */
    size_t nfree, used;
} user_heap;

/* Allocates room for `cap` users (heap form); returns 0 or -1 (out of memory). */
int user_heap_init(user_heap *h, size_t cap);
void user_heap_free(user_heap *h);
/* Turns the heap (n > 0) into the calendar form, for a queue where every
 * time that enters is at most max_delay after the top's, and every queued
 * one is now.  Returns 0, or -1 (delay too long for the ring, a queued
 * time too far, or out of memory): the queue stays a heap, which orders the
 * same, only slower. */
int user_heap_calendar(user_heap *h, int64_t max_delay);
/* Adds a user (the queue never holds more than its capacity). */
void user_heap_push(user_heap *h, const click_user *u);
/* The user with the earliest pending event (n > 0). */
static inline click_user *user_heap_top(const user_heap *h)
{
    return h->mask ? &h->items[h->run[h->run_at].slot] : &h->items[0];
}
/* Restores order after the top's next_time grew or the top was replaced. */
void user_heap_top_changed(user_heap *h);
/* Removes the top. */
void user_heap_pop(user_heap *h);
#endif
