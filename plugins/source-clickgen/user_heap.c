/* user_heap.c - the users in flight by (next_time, number): a 4-ary heap,
 * or a calendar of one bucket per millisecond (see user_heap.h).
 *
 * Heap: 4-ary rather than binary (four children share two cache lines and
 * the tree is half as deep), the child picked without branches, the moving
 * user held aside and written once where it lands.
 * Calendar: bucket `t & mask` holds, as a list through next[], the users
 * whose time is t, for t in (cur, cur + mask]; the users of cur itself are
 * in run[], sorted by number.  Since the order is total, both forms give
 * the same sequence: the generated events of a seed do not depend on it. */
#include "user_heap.h"

#include <stdlib.h>
#include <string.h>

#define ARITY 4
#define NONE UINT32_MAX
/* The longest ring: 2^16 ms (a minute of think time); longer delays keep the heap. */
#define MAX_BUCKETS (1u << 16)

/* (next_time, number) as one unsigned 128-bit key, so that the sift can
 * pick the earliest child without branches (which child wins is a coin
 * toss: branches on it mispredict at every level). */
typedef unsigned __int128 heap_key;
static inline heap_key key_of(const click_user *u)
{
    return ((heap_key)((uint64_t)u->next_time ^ 0x8000000000000000u) << 64) | u->number;
}

static void sift_down(click_user *it, size_t n, size_t i)
{
    click_user x = it[i];
    heap_key kx = key_of(&x);
    for (;;) {
        size_t c = ARITY * i + 1, m;
        heap_key km;
        if (c + ARITY <= n) {
            /* a full family: a tournament of two pairs, with selects */
            heap_key k0 = key_of(&it[c]), k1 = key_of(&it[c + 1]);
            heap_key k2 = key_of(&it[c + 2]), k3 = key_of(&it[c + 3]);
            size_t a = k1 < k0 ? c + 1 : c, b = k3 < k2 ? c + 3 : c + 2;
            heap_key ka = k1 < k0 ? k1 : k0, kb = k3 < k2 ? k3 : k2;
            m = kb < ka ? b : a;
            km = kb < ka ? kb : ka;
        } else {
            if (c >= n)
                break;
            m = c;
            km = key_of(&it[c]);
            for (size_t k = c + 1; k < n; k++) {
                heap_key kk = key_of(&it[k]);
                if (kk < km) {
                    m = k;
                    km = kk;
                }
            }
        }
        if (!(km < kx))
            break;
        it[i] = it[m];
        i = m;
    }
    it[i] = x;
}

static void heap_push(user_heap *h, const click_user *u)
{
    click_user *it = h->items;
    size_t i = h->n++;
    heap_key ku = key_of(u);
    while (i > 0) {
        size_t p = (i - 1) / ARITY;
        if (!(ku < key_of(&it[p])))
            break;
        it[i] = it[p];
        i = p;
    }
    it[i] = *u;
}

int user_heap_init(user_heap *h, size_t cap)
{
    memset(h, 0, sizeof *h);
    h->items = calloc(cap ? cap : 1, sizeof *h->items);
    h->cap = cap;
    return h->items ? 0 : -1;
}

static void calendar_free(user_heap *h)
{
    free(h->head);
    free(h->next);
    free(h->run);
    free(h->scratch);
    free(h->free_slots);
    h->head = h->next = h->free_slots = NULL;
    h->run = h->scratch = NULL;
    h->mask = 0;
    h->run_at = h->run_n = h->run_cap = h->nfree = h->used = 0;
}

void user_heap_free(user_heap *h)
{
    calendar_free(h);
    free(h->items);
    h->items = NULL;
    h->n = h->cap = 0;
}

/* Back to the heap form, in place (a time fell outside the ring; clickgen
 * never makes one, this keeps the order right if it ever did): the queued
 * users packed to the front of items[], then heapified. */
static void to_heap(user_heap *h)
{
    for (size_t k = 0; k < h->nfree; k++)
        h->next[h->free_slots[k]] = NONE - 1; /* mark the free slots */
    size_t n = 0;
    for (size_t s = 0; s < h->used; s++)
        if (h->next[s] != NONE - 1)
            h->items[n++] = h->items[s];
    calendar_free(h);
    h->n = n;
    for (size_t i = n / ARITY + 1; i-- > 0;)
        if (i < n)
            sift_down(h->items, n, i);
}

static int run_reserve(user_heap *h, size_t need)
{
    if (need <= h->run_cap)
        return 0;
    size_t cap = h->run_cap * 2;
    while (cap < need)
        cap *= 2;
    user_run *r = realloc(h->run, cap * sizeof *r);
    if (r)
        h->run = r;
    user_run *s = realloc(h->scratch, cap * sizeof *s);
    if (s)
        h->scratch = s;
    if (!r || !s)
        return -1;
    h->run_cap = cap;
    return 0;
}

/* Sorts run[0, n) by number: insertion sort of runs of 8, then merges. */
static void run_sort(user_heap *h, size_t n)
{
    user_run *a = h->run, *b = h->scratch;
    for (size_t lo = 0; lo < n; lo += 8) {
        size_t hi = lo + 8 < n ? lo + 8 : n;
        for (size_t i = lo + 1; i < hi; i++) {
            user_run x = a[i];
            size_t j = i;
            while (j > lo && a[j - 1].number > x.number) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
    }
    for (size_t w = 8; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                b[k++] = a[j].number < a[i].number ? a[j++] : a[i++];
            while (i < mid)
                b[k++] = a[i++];
            while (j < hi)
                b[k++] = a[j++];
        }
        user_run *t = a;
        a = b;
        b = t;
    }
    if (a != h->run) { /* the sorted copy is in scratch: swap the buffers */
        h->scratch = h->run;
        h->run = a;
    }
}

/* Moves bucket cur's list into run[] (empty before), sorted.  0 or -1. */
static int load_run(user_heap *h)
{
    uint32_t *hd = &h->head[(uint64_t)h->cur & h->mask];
    size_t n = 0;
    for (uint32_t s = *hd; s != NONE; s = h->next[s]) {
        if (run_reserve(h, n + 1) != 0)
            return -1;
        h->run[n].number = h->items[s].number;
        h->run[n].slot = s;
        n++;
    }
    *hd = NONE;
    run_sort(h, n);
    h->run_at = 0;
    h->run_n = n;
    return 0;
}

/* Queues slot s (calendar form) at its time.  0, or -1: it cannot be
 * (outside the ring, or out of memory), and the caller goes to the heap. */
static int cal_insert(user_heap *h, uint32_t s)
{
    int64_t t = h->items[s].next_time;
    if (t < h->cur || (uint64_t)t - (uint64_t)h->cur > h->mask)
        return -1;
    if (t > h->cur) {
        uint32_t *hd = &h->head[(uint64_t)t & h->mask];
        h->next[s] = *hd;
        *hd = s;
        return 0;
    }
    /* the current millisecond: into run[] by number (a new user, the
     * common case here, has the highest number: found from the end) */
    if (h->run_n == h->run_cap && h->run_at > 0) {
        memmove(h->run, h->run + h->run_at, (h->run_n - h->run_at) * sizeof *h->run);
        h->run_n -= h->run_at;
        h->run_at = 0;
    }
    if (run_reserve(h, h->run_n + 1) != 0)
        return -1;
    uint64_t num = h->items[s].number;
    size_t j = h->run_n;
    while (j > h->run_at && h->run[j - 1].number > num) {
        h->run[j] = h->run[j - 1];
        j--;
    }
    h->run[j] = (user_run){num, s};
    h->run_n++;
    h->next[s] = NONE; /* queued (not a free slot) */
    return 0;
}

/* After the top left run[]: the next millisecond that has users, if run[]
 * is used up.  0, or -1 (out of memory: go to the heap). */
static int settle(user_heap *h)
{
    for (uint64_t steps = 0; h->run_at == h->run_n && h->n; steps++) {
        if (steps > h->mask)
            return -1; /* cannot be: every queued time is within the ring */
        h->cur++;
        if (h->head[(uint64_t)h->cur & h->mask] != NONE && load_run(h) != 0)
            return -1;
    }
    return 0;
}

int user_heap_calendar(user_heap *h, int64_t max_delay)
{
    if (h->mask || !h->n || max_delay < 0 || max_delay >= MAX_BUCKETS)
        return -1;
    size_t buckets = 2; /* mask 0 means the heap form */
    while (buckets <= (size_t)max_delay)
        buckets *= 2;
    int64_t first = h->items[0].next_time; /* the heap's top: the earliest */
    for (size_t s = 0; s < h->n; s++)
        if ((uint64_t)h->items[s].next_time - (uint64_t)first >= buckets)
            return -1;
    size_t cap = h->cap ? h->cap : 1;
    h->head = malloc(buckets * sizeof *h->head);
    h->next = malloc(cap * sizeof *h->next);
    h->free_slots = malloc(cap * sizeof *h->free_slots);
    h->run_cap = 64;
    h->run = malloc(h->run_cap * sizeof *h->run);
    h->scratch = malloc(h->run_cap * sizeof *h->scratch);
    if (!h->head || !h->next || !h->free_slots || !h->run || !h->scratch) {
        calendar_free(h);
        return -1;
    }
    memset(h->head, 0xff, buckets * sizeof *h->head);
    h->mask = buckets - 1;
    h->cur = first;
    h->used = h->n; /* slot = the user's place in the heap array */
    for (size_t s = 0; s < h->n; s++)
        if (cal_insert(h, (uint32_t)s) != 0) {
            to_heap(h);
            return -1;
        }
    return 0;
}

void user_heap_push(user_heap *h, const click_user *u)
{
    if (h->n == h->cap)
        return; /* callers never exceed the configured user count */
    if (!h->mask) {
        heap_push(h, u);
        return;
    }
    uint32_t s = h->nfree ? h->free_slots[--h->nfree] : (uint32_t)h->used++;
    h->items[s] = *u;
    h->n++;
    if (cal_insert(h, s) != 0 || settle(h) != 0) {
        to_heap(h); /* s is among the queued users */
        return;
    }
}

void user_heap_top_changed(user_heap *h)
{
    if (!h->mask) {
        sift_down(h->items, h->n, 0);
        return;
    }
    uint32_t s = h->run[h->run_at++].slot;
    if (cal_insert(h, s) != 0 || settle(h) != 0) {
        h->next[s] = NONE; /* still queued */
        to_heap(h);
    }
}

void user_heap_pop(user_heap *h)
{
    if (!h->mask) {
        if (--h->n > 0) {
            h->items[0] = h->items[h->n];
            sift_down(h->items, h->n, 0);
        }
        return;
    }
    h->free_slots[h->nfree++] = h->run[h->run_at++].slot;
    h->n--;
    if (settle(h) != 0)
        to_heap(h);
}
