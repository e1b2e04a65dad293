/* user_heap.h - the users in flight, as a (4-ary) min-heap by next event time.
 *
 * The generator always emits the earliest pending event of all users, so
 * event times come out in non-decreasing order.  Ties break on the user's
 * start number, which is unique: the order is total, hence deterministic. */
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

typedef struct user_heap {
    click_user *items;
    size_t n, cap;
} user_heap;

/* Allocates room for `cap` users; returns 0 or -1 (out of memory). */
int user_heap_init(user_heap *h, size_t cap);
void user_heap_free(user_heap *h);
/* Adds a user (the heap never holds more than its capacity). */
void user_heap_push(user_heap *h, const click_user *u);
/* The user with the earliest pending event (n > 0). */
static inline click_user *user_heap_top(user_heap *h)
{
    return &h->items[0];
}
/* Restores order after the top's next_time grew or the top was replaced. */
void user_heap_top_changed(user_heap *h);
/* Removes the top. */
void user_heap_pop(user_heap *h);
#endif
