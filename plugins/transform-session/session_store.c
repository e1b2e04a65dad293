/* session_store.c - hash table of open sessions and their firing heap.
 * Hand-written on purpose: this is the per-event hot path, and a generic
 * container would cost a pointer chase and an allocation per session. */
#include "session_store.h"

#include <stdlib.h>
#include <string.h>

#define SS_MIN_CAP 256u
#define SS_MAX_CAP (1u << 29) /* keeps n below 2^29 heap positions */

/* Grow past 80% full; shrink when below 1/8 (hysteresis avoids flapping). */
static int ss_over_full(uint32_t n, uint32_t cap) { return (uint64_t)n * 5 > (uint64_t)cap * 4; }
static uint32_t ss_heap_cap_for(uint32_t cap) { return (uint32_t)((uint64_t)cap * 4 / 5) + 1; }

/* splitmix64 finaliser: user ids are small consecutive integers, which a
 * plain mask would cluster. */
static inline uint32_t ss_home(const ss_store *st, int64_t key)
{
    uint64_t x = (uint64_t)key;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (uint32_t)x & (st->cap - 1);
}

/* --- heap ----------------------------------------------------------------- */

static inline int ss_heap_less(const ss_store *st, const ss_heap_ent *a,
                               const ss_heap_ent *b)
{
    if (a->end != b->end)
        return a->end < b->end;
    return st->tab[a->idx].key < st->tab[b->idx].key;
}

static inline void ss_heap_put(ss_store *st, uint32_t pos, ss_heap_ent e)
{
    st->heap[pos] = e;
    st->tab[e.idx].heap_pos = pos;
}

static void ss_sift_up(ss_store *st, uint32_t pos)
{
    ss_heap_ent e = st->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!ss_heap_less(st, &e, &st->heap[parent]))
            break;
        ss_heap_put(st, pos, st->heap[parent]);
        pos = parent;
    }
    ss_heap_put(st, pos, e);
}

static void ss_sift_down(ss_store *st, uint32_t pos)
{
    ss_heap_ent e = st->heap[pos];
    for (;;) {
        uint32_t c = 2 * pos + 1;
        if (c >= st->n)
            break;
        if (c + 1 < st->n && ss_heap_less(st, &st->heap[c + 1], &st->heap[c]))
            c++;
        if (!ss_heap_less(st, &st->heap[c], &e))
            break;
        ss_heap_put(st, pos, st->heap[c]);
        pos = c;
    }
    ss_heap_put(st, pos, e);
}

/* --- table ---------------------------------------------------------------- */

static uint32_t ss_place(ss_store *st, const ss_sess *s)
{
    uint32_t mask = st->cap - 1, i = ss_home(st, s->key);
    while (st->tab[i].used)
        i = (i + 1) & mask;
    st->tab[i] = *s;
    return i;
}

/* Move every entry into a table of `cap` slots; heap entries follow. */
static int ss_rehash(ss_store *st, uint32_t cap)
{
    ss_sess *old = st->tab;
    uint32_t oldcap = st->cap;
    ss_sess *tab = calloc(cap, sizeof *tab);
    if (!tab)
        return -1;
    uint32_t hcap = ss_heap_cap_for(cap);
    if (hcap != st->heap_cap) {
        ss_heap_ent *h = realloc(st->heap, (size_t)hcap * sizeof *h);
        if (!h) {
            free(tab);
            return -1;
        }
        st->heap = h;
        st->heap_cap = hcap;
    }
    st->tab = tab;
    st->cap = cap;
    for (uint32_t i = 0; i < oldcap; i++) {
        if (!old[i].used)
            continue;
        uint32_t j = ss_place(st, &old[i]);
        st->heap[tab[j].heap_pos].idx = j;
    }
    free(old);
    return 0;
}

int ss_store_init(ss_store *st)
{
    memset(st, 0, sizeof *st);
    st->free_ext = SS_NONE;
    st->cap = SS_MIN_CAP;
    st->tab = calloc(st->cap, sizeof *st->tab);
    st->heap_cap = ss_heap_cap_for(st->cap);
    st->heap = malloc((size_t)st->heap_cap * sizeof *st->heap);
    return st->tab && st->heap ? 0 : -1;
}

void ss_store_free(ss_store *st)
{
    for (uint32_t i = 0; i < st->next_ext; i++) {
        free(st->ext[i].bits);
        free(st->ext[i].holds);
    }
    free(st->ext);
    free(st->heap);
    free(st->tab);
    memset(st, 0, sizeof *st);
}

uint32_t ss_first(const ss_store *st, int64_t key)
{
    uint32_t mask = st->cap - 1;
    for (uint32_t i = ss_home(st, key);; i = (i + 1) & mask) {
        if (!st->tab[i].used)
            return SS_NONE;
        if (st->tab[i].key == key)
            return i;
    }
}

uint32_t ss_next(const ss_store *st, int64_t key, uint32_t idx)
{
    uint32_t mask = st->cap - 1;
    for (uint32_t i = (idx + 1) & mask;; i = (i + 1) & mask) {
        if (!st->tab[i].used)
            return SS_NONE;
        if (st->tab[i].key == key)
            return i;
    }
}

uint32_t ss_add(ss_store *st, const ss_sess *s)
{
    if (ss_over_full(st->n + 1, st->cap)) {
        if (st->cap >= SS_MAX_CAP || ss_rehash(st, st->cap * 2) != 0)
            return SS_NONE;
    }
    ss_sess e = *s;
    e.used = 1;
    e.multi = 0;
    uint32_t other = ss_first(st, s->key);
    if (other != SS_NONE) {
        /* a second disjoint session of this key: flag them all */
        e.multi = 1;
        for (uint32_t i = other; i != SS_NONE; i = ss_next(st, s->key, i))
            st->tab[i].multi = 1;
    }
    uint32_t idx = ss_place(st, &e);
    uint32_t pos = st->n++;
    ss_heap_put(st, pos, (ss_heap_ent){.end = e.end, .idx = idx});
    ss_sift_up(st, pos);
    return idx;
}

/* Backward-shift deletion: pull later entries of the probe run into the
 * hole so that lookups never need tombstones. */
static void ss_tab_remove(ss_store *st, uint32_t i)
{
    uint32_t mask = st->cap - 1;
    for (uint32_t j = (i + 1) & mask; st->tab[j].used; j = (j + 1) & mask) {
        uint32_t h = ss_home(st, st->tab[j].key);
        /* movable iff the hole lies between its home and where it sits */
        if (((j - h) & mask) >= ((j - i) & mask)) {
            st->tab[i] = st->tab[j];
            st->heap[st->tab[i].heap_pos].idx = i;
            i = j;
        }
    }
    memset(&st->tab[i], 0, sizeof st->tab[i]);
}

void ss_del(ss_store *st, uint32_t idx)
{
    int64_t key = st->tab[idx].key;
    int was_multi = st->tab[idx].multi;
    uint32_t pos = st->tab[idx].heap_pos;
    st->n--;
    ss_tab_remove(st, idx);
    if (pos < st->n) {
        /* the last heap entry fills the gap, then finds its place */
        ss_heap_ent last = st->heap[st->n];
        ss_heap_put(st, pos, last);
        ss_sift_up(st, pos);
        ss_sift_down(st, st->tab[last.idx].heap_pos);
    }
    if (was_multi) {
        uint32_t first = ss_first(st, key);
        if (first != SS_NONE && ss_next(st, key, first) == SS_NONE)
            st->tab[first].multi = 0;
    }
    if (st->cap > SS_MIN_CAP && (uint64_t)st->n * 8 < st->cap)
        (void)ss_rehash(st, st->cap / 2); /* on failure just stay large */
}

uint32_t ss_due(ss_store *st, int64_t wm)
{
    while (st->n) {
        ss_heap_ent *top = &st->heap[0];
        const ss_sess *s = &st->tab[top->idx];
        if (top->end != s->end) {
            top->end = s->end; /* the session grew since it was pushed */
            ss_sift_down(st, 0);
            continue;
        }
        return s->end - 1 <= wm ? top->idx : SS_NONE;
    }
    return SS_NONE;
}

size_t ss_store_bytes(const ss_store *st)
{
    size_t b = (size_t)st->cap * sizeof(ss_sess) +
               (size_t)st->heap_cap * sizeof(ss_heap_ent) +
               (size_t)st->cap_ext * sizeof(ss_ext);
    for (uint32_t i = 0; i < st->next_ext; i++)
        b += st->ext[i].capwords * sizeof(uint64_t) +
             st->ext[i].capholds * sizeof(ss_hold);
    return b;
}
