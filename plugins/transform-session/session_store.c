/* session_store.c - open sessions: entries in fixed chunks, a linear-hashing
 * index over them and a lazy timer ring (layout and reasons: session_store.h).
 * Hand-written on purpose: this is the per-event hot path, and a generic
 * container would cost a pointer chase and an allocation per session. */
#include "session_store.h"

#include <stdlib.h>
#include <string.h>

#define SS_SEG_BITS 12 /* chain heads per index segment: 16 KiB */
#define SS_SEG (1u << SS_SEG_BITS)
#define SS_MIN_BUCKETS 256u /* a power of two, at most SS_SEG */
#define SS_MAX_BUCKETS (1u << 30)
#define SS_MAX_CHUNKS ((SS_HNIL >> SS_CHUNK_BITS) - 1) /* every index < SS_HNIL */
#define SS_TICK_BITS 6  /* timer bucket: 64 ms of event time */
#define SS_RING_BITS 12 /* 4096 buckets, 262 s of event time per turn */
#define SS_RING (1u << SS_RING_BITS)
#define SS_READY_KEEP 65536u /* a drained sort buffer larger than this is freed */

/* splitmix64 finaliser: user ids are small consecutive integers, which a
 * plain mask would cluster. */
static inline uint32_t ss_hash(int64_t key)
{
    uint64_t x = (uint64_t)key;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (uint32_t)x;
}

/* --- entries ---------------------------------------------------------------- */

static uint32_t ss_alloc(ss_store *st)
{
    uint32_t c = st->hint;
    while (c < st->nchunks && st->chunks[c].live == SS_CHUNK)
        c++;
    if (c == st->nchunks) {
        if (c >= SS_MAX_CHUNKS)
            return SS_NONE;
        if (c == st->capchunks) {
            uint32_t cap = st->capchunks ? st->capchunks * 2 : 16;
            ss_chunk *a = realloc(st->chunks, (size_t)cap * sizeof *a);
            if (!a)
                return SS_NONE;
            st->chunks = a;
            st->capchunks = cap;
        }
        st->chunks[c] = (ss_chunk){.e = NULL, .free = SS_NONE};
        st->nchunks++;
    }
    ss_chunk *ch = &st->chunks[c];
    if (!ch->e) {
        ch->e = st->spare ? st->spare : malloc((size_t)SS_CHUNK * sizeof *ch->e);
        st->spare = NULL;
        if (!ch->e)
            return SS_NONE;
        ch->used = ch->live = 0;
        ch->free = SS_NONE;
    }
    uint32_t i;
    if (ch->free != SS_NONE) {
        i = ch->free;
        ch->free = ch->e[i].hnext == SS_HNIL ? SS_NONE : ch->e[i].hnext;
    } else {
        i = ch->used++;
    }
    ch->live++;
    st->hint = c;
    return c << SS_CHUNK_BITS | i;
}

/* Give an entry back; a chunk left empty goes too (one is kept as spare). */
static void ss_release(ss_store *st, uint32_t idx)
{
    uint32_t c = idx >> SS_CHUNK_BITS, i = idx & (SS_CHUNK - 1);
    ss_chunk *ch = &st->chunks[c];
    ch->e[i].state = SS_FREE;
    if (--ch->live == 0) {
        if (!st->spare)
            st->spare = ch->e;
        else
            free(ch->e);
        ch->e = NULL;
        ch->used = 0;
        ch->free = SS_NONE;
    } else {
        ch->e[i].hnext = ch->free == SS_NONE ? SS_HNIL : ch->free;
        ch->free = i;
    }
    if (c < st->hint)
        st->hint = c;
}

/* --- hash index: linear hashing ------------------------------------------------ */

static inline uint32_t *ss_head(const ss_store *st, uint32_t b)
{
    return &st->segs[b >> SS_SEG_BITS][b & (SS_SEG - 1)];
}

static inline uint32_t ss_bucket(const ss_store *st, uint32_t h)
{
    uint32_t b = h & st->low;
    return b < st->split ? h & (2 * st->low + 1) : b;
}

static uint32_t *ss_new_seg(void)
{
    uint32_t *s = malloc(SS_SEG * sizeof *s);
    if (s)
        for (uint32_t i = 0; i < SS_SEG; i++)
            s[i] = SS_HNIL;
    return s;
}

/* Split bucket `split` into itself and a new last bucket (chain order kept). */
static int ss_split(ss_store *st)
{
    uint32_t nb = st->cap;
    if (nb >> SS_SEG_BITS == st->nsegs) {
        if (st->nsegs == st->capsegs) {
            uint32_t cap = st->capsegs * 2;
            uint32_t **a = realloc(st->segs, (size_t)cap * sizeof *a);
            if (!a)
                return -1;
            st->segs = a;
            st->capsegs = cap;
        }
        if (!(st->segs[st->nsegs] = ss_new_seg()))
            return -1;
        st->nsegs++;
    }
    uint32_t from = st->split, mask = 2 * st->low + 1;
    uint32_t keep = SS_HNIL, keep_tail = SS_HNIL, move = SS_HNIL, move_tail = SS_HNIL;
    for (uint32_t i = *ss_head(st, from); i != SS_HNIL;) {
        ss_sess *s = ss_at(st, i);
        uint32_t next = s->hnext;
        s->hnext = SS_HNIL;
        if ((ss_hash(s->key) & mask) == from) {
            if (keep == SS_HNIL)
                keep = i;
            else
                ss_at(st, keep_tail)->hnext = i;
            keep_tail = i;
        } else {
            if (move == SS_HNIL)
                move = i;
            else
                ss_at(st, move_tail)->hnext = i;
            move_tail = i;
        }
        i = next;
    }
    *ss_head(st, from) = keep;
    *ss_head(st, nb) = move;
    st->cap++;
    if (++st->split == st->low + 1) {
        st->low = mask;
        st->split = 0;
    }
    return 0;
}

/* Merge the last bucket back into its buddy. */
static void ss_unsplit(ss_store *st)
{
    if (st->split == 0) {
        st->low >>= 1;
        st->split = st->low + 1;
    }
    st->split--;
    uint32_t to = st->split, from = st->cap - 1;
    uint32_t moved = *ss_head(st, from);
    *ss_head(st, from) = SS_HNIL;
    if (moved != SS_HNIL) {
        uint32_t *h = ss_head(st, to);
        if (*h == SS_HNIL) {
            *h = moved;
        } else {
            uint32_t i = *h;
            while (ss_at(st, i)->hnext != SS_HNIL)
                i = ss_at(st, i)->hnext;
            ss_at(st, i)->hnext = moved;
        }
    }
    st->cap--;
    if ((from & (SS_SEG - 1)) == 0) {
        free(st->segs[--st->nsegs]);
        st->segs[st->nsegs] = NULL;
    }
}

uint32_t ss_first(const ss_store *st, int64_t key)
{
    for (uint32_t i = *ss_head(st, ss_bucket(st, ss_hash(key))); i != SS_HNIL;) {
        const ss_sess *s = ss_at(st, i);
        if (s->key == key)
            return i;
        i = s->hnext;
    }
    return SS_NONE;
}

uint32_t ss_next(const ss_store *st, int64_t key, uint32_t idx)
{
    for (uint32_t i = ss_at(st, idx)->hnext; i != SS_HNIL;) {
        const ss_sess *s = ss_at(st, i);
        if (s->key == key)
            return i;
        i = s->hnext;
    }
    return SS_NONE;
}

/* --- timer ---------------------------------------------------------------------- */

/* Bucket number of event time t (monotone in t, also for negative times). */
static inline uint64_t ss_tick(int64_t t) { return ((uint64_t)t ^ (1ull << 63)) >> SS_TICK_BITS; }

static void ss_file(ss_store *st, uint32_t idx, int64_t end)
{
    uint32_t r = (uint32_t)ss_tick(end - 1) & (SS_RING - 1);
    ss_sess *s = ss_at(st, idx);
    s->tnext = st->ring[r];
    s->state = SS_LIVE;
    st->ring[r] = idx;
    st->nlisted++;
}

static inline void ss_unlink(ss_store *st, uint32_t r, uint32_t prev, uint32_t next)
{
    if (prev == SS_NONE)
        st->ring[r] = next;
    else
        ss_at(st, prev)->tnext = next;
    st->nlisted--;
}

/* Entry i of list r (after prev) is a deleted session: unlink and free it.
 * Returns whether it was one. */
static inline int ss_reap(ss_store *st, uint32_t r, uint32_t prev, uint32_t i, uint32_t next)
{
    if (ss_at(st, i)->state != SS_ZOMBIE)
        return 0;
    ss_unlink(st, r, prev, next);
    ss_release(st, i);
    return 1;
}

/* Walk every timer list: drop deleted entries, file every entry in the
 * bucket of its end, and move the cursor up to the first bucket anything
 * waits in (never past `target`). */
static void ss_sweep(ss_store *st, uint64_t target)
{
    uint64_t min = UINT64_MAX;
    for (uint32_t r = 0; r < SS_RING; r++) {
        uint32_t prev = SS_NONE;
        for (uint32_t i = st->ring[r]; i != SS_NONE;) {
            ss_sess *s = ss_at(st, i);
            uint32_t next = s->tnext;
            if (!ss_reap(st, r, prev, i, next)) {
                int64_t end = ss_end(st, s);
                uint64_t t = ss_tick(end - 1);
                if (t < min)
                    min = t;
                if ((t & (SS_RING - 1)) != r) {
                    /* filed at an earlier end: file it where it ends, so
                     * that no bucket it may wait in lies before `min` */
                    ss_unlink(st, r, prev, next);
                    ss_file(st, i, end);
                } else {
                    prev = i;
                }
            }
            i = next;
        }
    }
    if (min > st->cur)
        st->cur = min < target ? min : target;
}

static int ss_ready_cmp(const ss_ready *a, const ss_ready *b)
{
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return (a->key > b->key) - (a->key < b->key);
}

static int ss_ready_qcmp(const void *a, const void *b) { return ss_ready_cmp(a, b); }

/* Take the due sessions of bucket `b` out of its list into `ready`; file the
 * ones that grew into a later bucket again.  -1 when memory ran out. */
static int ss_collect(ss_store *st, uint64_t b, int64_t wm)
{
    uint32_t r = (uint32_t)b & (SS_RING - 1), prev = SS_NONE;
    for (uint32_t i = st->ring[r]; i != SS_NONE;) {
        ss_sess *s = ss_at(st, i);
        uint32_t next = s->tnext;
        if (ss_reap(st, r, prev, i, next)) {
            i = next;
            continue;
        }
        int64_t end = ss_end(st, s);
        uint64_t t = ss_tick(end - 1);
        if (t <= b && end - 1 <= wm) {
            if (st->nready == st->capready) {
                uint32_t cap = st->capready ? st->capready * 2 : 64;
                ss_ready *a = realloc(st->ready, (size_t)cap * sizeof *a);
                if (!a)
                    return -1;
                st->ready = a;
                st->capready = cap;
            }
            st->ready[st->nready++] = (ss_ready){.end = end, .key = s->key, .idx = i};
            ss_unlink(st, r, prev, next);
            s->state = SS_READY;
        } else if (t > b && (t & (SS_RING - 1)) != r) {
            ss_unlink(st, r, prev, next); /* it grew since it was filed */
            ss_file(st, i, end);
        } else {
            prev = i; /* not due yet, or a later turn of the ring */
        }
        i = next;
    }
    return 0;
}

/* Fill `ready` with the due sessions of the first bucket that has any, in
 * firing order.  1 when it did, 0 when nothing is due, -1 out of memory. */
static int ss_fill(ss_store *st, int64_t wm)
{
    uint64_t target = ss_tick(wm);
    if (st->cur > target)
        return 0;
    for (;;) {
        if (st->nlisted == 0) {
            st->cur = target;
            st->idle = 0;
            return 0;
        }
        if (st->idle >= SS_RING && target - st->cur >= SS_RING) {
            /* a whole turn of the ring found nothing due, and a long way
             * to go: skip to where sessions are */
            ss_sweep(st, target);
            st->idle = 0;
        }
        if (ss_collect(st, st->cur, wm) != 0)
            return -1;
        if (st->nready) {
            if (st->nready > 16) {
                qsort(st->ready, st->nready, sizeof *st->ready, ss_ready_qcmp);
            } else {
                for (uint32_t i = 1; i < st->nready; i++) {
                    ss_ready x = st->ready[i];
                    uint32_t j = i;
                    for (; j > 0 && ss_ready_cmp(&st->ready[j - 1], &x) > 0; j--)
                        st->ready[j] = st->ready[j - 1];
                    st->ready[j] = x;
                }
            }
            st->idle = 0;
            return 1;
        }
        if (st->cur == target)
            return 0;
        st->cur++;
        st->idle++;
    }
}

uint32_t ss_due(ss_store *st, int64_t wm, int *oom)
{
    *oom = 0;
    for (;;) {
        while (st->rpos < st->nready) {
            ss_ready r = st->ready[st->rpos++];
            if (r.idx == SS_NONE)
                continue; /* deleted meanwhile */
            int64_t end = ss_end(st, ss_at(st, r.idx));
            if (end == r.end)
                return r.idx;
            ss_file(st, r.idx, end); /* grew meanwhile (after a failed emit): wait again */
        }
        st->nready = st->rpos = 0;
        if (st->capready > SS_READY_KEEP) {
            free(st->ready);
            st->ready = NULL;
            st->capready = 0;
        }
        int rc = ss_fill(st, wm);
        if (rc <= 0) {
            *oom = rc < 0;
            return SS_NONE;
        }
    }
}

void ss_rewind(ss_store *st)
{
    for (uint32_t k = st->rpos; k < st->nready; k++)
        if (st->ready[k].idx != SS_NONE)
            ss_file(st, st->ready[k].idx, ss_end(st, ss_at(st, st->ready[k].idx)));
    st->nready = st->rpos = 0;
    st->cur = 0;
    st->idle = 0;
}

void ss_purge(ss_store *st) { ss_sweep(st, st->cur); /* the cursor stays */ }

/* --- store ---------------------------------------------------------------------- */

int ss_store_init(ss_store *st)
{
    memset(st, 0, sizeof *st);
    st->free_ext = SS_NONE;
    st->cap = SS_MIN_BUCKETS;
    st->low = SS_MIN_BUCKETS - 1;
    st->capsegs = 4;
    st->segs = calloc(st->capsegs, sizeof *st->segs);
    st->ring = malloc(SS_RING * sizeof *st->ring);
    if (!st->segs || !st->ring || !(st->segs[0] = ss_new_seg()))
        return -1;
    st->nsegs = 1;
    for (uint32_t r = 0; r < SS_RING; r++)
        st->ring[r] = SS_NONE;
    return 0;
}

void ss_store_free(ss_store *st)
{
    for (uint32_t i = 0; i < st->next_ext; i++) {
        free(st->ext[i].bits);
        free(st->ext[i].holds);
    }
    free(st->ext);
    for (uint32_t c = 0; c < st->nchunks; c++)
        free(st->chunks[c].e);
    free(st->chunks);
    free(st->spare);
    for (uint32_t k = 0; k < st->nsegs; k++)
        free(st->segs[k]);
    free(st->segs);
    free(st->ring);
    free(st->ready);
    memset(st, 0, sizeof *st);
}

uint32_t ss_add(ss_store *st, const ss_sess *s)
{
    if (st->n >= SS_MAX_SESSIONS)
        return SS_NONE;
    uint32_t idx = ss_alloc(st);
    if (idx == SS_NONE)
        return SS_NONE;
    ss_sess *e = ss_at(st, idx);
    *e = *s;
    e->hnext = SS_HNIL;
    e->multi = 0;
    /* append to its chain: sessions of one key stay in insertion order */
    uint32_t *head = ss_head(st, ss_bucket(st, ss_hash(s->key)));
    uint32_t last = SS_HNIL;
    for (uint32_t i = *head; i != SS_HNIL; i = ss_at(st, i)->hnext) {
        ss_sess *o = ss_at(st, i);
        if (o->key == s->key)
            o->multi = e->multi = 1; /* a second disjoint session of this key */
        last = i;
    }
    if (last == SS_HNIL)
        *head = idx;
    else
        ss_at(st, last)->hnext = idx;
    st->n++;
    ss_file(st, idx, ss_end(st, e));
    while (st->n > st->cap && st->cap < SS_MAX_BUCKETS && ss_split(st) == 0)
        ; /* at most one entry per bucket on average; on failure stay fuller */
    return idx;
}

void ss_del(ss_store *st, uint32_t idx)
{
    ss_sess *s = ss_at(st, idx);
    int64_t key = s->key;
    int was_multi = s->multi;
    uint32_t *head = ss_head(st, ss_bucket(st, ss_hash(key)));
    if (*head == idx) {
        *head = s->hnext;
    } else {
        uint32_t i = *head;
        while (ss_at(st, i)->hnext != idx)
            i = ss_at(st, i)->hnext;
        ss_at(st, i)->hnext = s->hnext;
    }
    st->n--;
    if (s->state == SS_READY) {
        /* normally the one ss_due just returned */
        if (st->rpos && st->ready[st->rpos - 1].idx == idx)
            st->ready[st->rpos - 1].idx = SS_NONE;
        else
            for (uint32_t k = st->rpos; k < st->nready; k++)
                if (st->ready[k].idx == idx)
                    st->ready[k].idx = SS_NONE;
        ss_release(st, idx);
    } else {
        s->state = SS_ZOMBIE; /* its timer list lets go of it */
    }
    if (was_multi) {
        uint32_t first = ss_first(st, key);
        if (first != SS_NONE && ss_next(st, key, first) == SS_NONE)
            ss_at(st, first)->multi = 0;
    }
    while (st->cap > SS_MIN_BUCKETS && (uint64_t)st->n * 4 < st->cap)
        ss_unsplit(st);
}

size_t ss_store_bytes(const ss_store *st)
{
    size_t b = (size_t)st->capchunks * sizeof(ss_chunk) +
               (size_t)st->capsegs * sizeof(uint32_t *) +
               (size_t)st->nsegs * SS_SEG * sizeof(uint32_t) +
               SS_RING * sizeof(uint32_t) +
               (size_t)st->capready * sizeof(ss_ready) +
               (size_t)st->cap_ext * sizeof(ss_ext);
    for (uint32_t c = 0; c < st->nchunks; c++)
        if (st->chunks[c].e)
            b += SS_CHUNK * sizeof(ss_sess);
    if (st->spare)
        b += SS_CHUNK * sizeof(ss_sess);
    for (uint32_t i = 0; i < st->next_ext; i++)
        b += st->ext[i].capwords * sizeof(uint64_t) +
             st->ext[i].capholds * sizeof(ss_hold);
    return b;
}
