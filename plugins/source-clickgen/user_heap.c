/* user_heap.c - 4-ary min-heap of click_user by (next_time, number).
 *
 * 4-ary rather than binary: the generator replaces the top once per event
 * and sifts it down, and the binary heap's sift_down was the generator's
 * largest cost (10.5% of bench/produce.ini's samples).  Four children share
 * two cache lines and the tree is half as deep; the moving user is held
 * aside and written once where it lands (no swaps).  The order is total
 * (start numbers are unique), so the events come out in exactly the order
 * of the binary heap: the generated sequence of a seed is unchanged. */
#include "user_heap.h"

#include <stdlib.h>

#define ARITY 4

static inline int earlier(const click_user *a, const click_user *b)
{
    if (a->next_time != b->next_time)
        return a->next_time < b->next_time;
    return a->number < b->number;
}

/* (next_time, number) as one unsigned 128-bit key, so that the sift can
 * pick the earliest child without branches (which child wins is a coin
 * toss: branches on it mispredict at every level). */
typedef unsigned __int128 heap_key;
static inline heap_key key_of(const click_user *u)
{
    return ((heap_key)((uint64_t)u->next_time ^ 0x8000000000000000u) << 64) | u->number;
}

static void sift_down(user_heap *h, size_t i)
{
    click_user *it = h->items;
    size_t n = h->n;
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

int user_heap_init(user_heap *h, size_t cap)
{
    h->items = calloc(cap ? cap : 1, sizeof *h->items);
    h->n = 0;
    h->cap = cap;
    return h->items ? 0 : -1;
}

void user_heap_free(user_heap *h)
{
    free(h->items);
    h->items = NULL;
    h->n = h->cap = 0;
}

void user_heap_push(user_heap *h, const click_user *u)
{
    if (h->n == h->cap)
        return; /* callers never exceed the configured user count */
    click_user *it = h->items;
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / ARITY;
        if (!earlier(u, &it[p]))
            break;
        it[i] = it[p];
        i = p;
    }
    it[i] = *u;
}

void user_heap_top_changed(user_heap *h)
{
    sift_down(h, 0);
}

void user_heap_pop(user_heap *h)
{
    if (--h->n > 0) {
        h->items[0] = h->items[h->n];
        sift_down(h, 0);
    }
}
