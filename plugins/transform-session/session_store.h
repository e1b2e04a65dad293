/* session_store.h - the open sessions: a hash index keyed by the session key
 * plus a timer that says which sessions fire next.
 *
 * Memory is the point of this layout (about 60 bytes per open session, also
 * while it grows):
 *   - entries (56 bytes) live in fixed chunks of SS_CHUNK entries that never
 *     move, so an entry's index is stable for its whole life and growing
 *     never copies entries; a chunk whose entries are all gone is given back;
 *   - the hash index is linear hashing over those indices: one 4-byte chain
 *     head per bucket, at most one entry per bucket on average, in segments;
 *     it grows (and shrinks) one bucket split (merge) at a time, so there is
 *     never an old and a new copy of it;
 *   - the timer is a ring of time buckets (SS_TICK_MS wide) whose lists run
 *     through the entries (4 bytes each).  It is lazy: a session stays in
 *     the bucket of the end it had when it was filed; extending it touches
 *     nothing, and when the watermark reaches that bucket the session is
 *     filed again at its new end.  Due sessions of one bucket are sorted, so
 *     they come out in exact (end, key) order.
 *
 * Usually a key has one open session.  Out-of-order input can leave several
 * disjoint sessions of one key open at once; they sit in the same hash
 * chain (in insertion order) and every one of them carries the `multi`
 * flag, so the common lookup stops at the first match.
 *
 * Rare data lives in an "ext" record: departments with ids >= 64, input
 * positions in slots other than the session's own, and the end of a
 * session that has one (`span` then is unused). */
#ifndef SESSION_STORE_H
#define SESSION_STORE_H

#include <stddef.h>
#include <stdint.h>

#define SS_NONE UINT32_MAX
#define SS_IDX_BITS 28
#define SS_HNIL ((1u << SS_IDX_BITS) - 1) /* end of a hash chain */
#define SS_MAX_SESSIONS (SS_HNIL - 1)

#define SS_CHUNK_BITS 12 /* entries per chunk: 4096 x 56 B = 224 KiB */
#define SS_CHUNK (1u << SS_CHUNK_BITS)

/* entry states */
enum { SS_FREE, SS_LIVE, SS_READY, SS_ZOMBIE };

typedef struct ss_sess {
    int64_t key;
    int64_t start;       /* first event time */
    int64_t min_offset;  /* lowest input offset of its events in `slot` */
    uint64_t depts;      /* bit i = department id i; index of the ext record
                            instead when `ext` is set */
    uint32_t span;       /* end - start (end: last event + gap), unless ext */
    uint32_t count;      /* eventCount */
    uint32_t checkout;   /* orderCheckoutEventCount */
    int32_t slot;        /* input slot of its first event */
    uint32_t hnext : SS_IDX_BITS; /* hash chain (free list when SS_FREE) */
    uint32_t state : 2;  /* SS_LIVE: open, in a timer list; SS_READY: open,
                            picked as due by ss_due; SS_ZOMBIE: deleted, still
                            in a timer list */
    uint32_t multi : 1;  /* other open sessions share this key */
    uint32_t ext : 1;    /* `depts` is an index into ss_store.ext */
    uint32_t tnext;      /* timer list */
} ss_sess;

/* A (slot, lowest offset) pair held by a session besides its own slot. */
typedef struct ss_hold {
    int32_t slot;
    int64_t offset;
} ss_hold;

/* Rare per-session data; reused through a free list, arrays kept. */
typedef struct ss_ext {
    int64_t end;    /* the session's end */
    uint64_t *bits; /* department bitset, all ids */
    uint32_t nwords, capwords;
    ss_hold *holds;
    uint32_t nholds, capholds;
    uint32_t next_free;
} ss_ext;

typedef struct ss_chunk {
    ss_sess *e;     /* NULL when given back */
    uint32_t used;  /* entries handed out from the front at least once */
    uint32_t live;  /* entries not free */
    uint32_t free;  /* free list (through hnext), SS_NONE if empty */
} ss_chunk;

/* A due session of the bucket being fired, in firing order. */
typedef struct ss_ready {
    int64_t end, key;
    uint32_t idx;
} ss_ready;

typedef struct ss_store {
    /* entries */
    ss_chunk *chunks;
    uint32_t nchunks, capchunks;
    uint32_t hint;       /* no chunk below it has room */
    ss_sess *spare;      /* one emptied chunk kept for reuse */
    uint32_t n;          /* open sessions (SS_LIVE and SS_READY) */
    /* hash index: linear hashing */
    uint32_t **segs;     /* chain heads, SS_SEG per segment */
    uint32_t nsegs, capsegs;
    uint32_t cap;        /* buckets */
    uint32_t low;        /* buckets below `split` use hash & (2 * low + 1) */
    uint32_t split;
    /* timer */
    uint32_t *ring;      /* list heads by bucket number mod SS_RING */
    uint32_t nlisted;    /* entries in the ring's lists */
    uint64_t cur;        /* buckets before it were fired; <= bucket of the watermark */
    uint32_t idle;       /* buckets walked since one had due sessions */
    ss_ready *ready;
    uint32_t nready, rpos, capready;
    /* rare data */
    ss_ext *ext;
    uint32_t next_ext, cap_ext, free_ext;
} ss_store;

static inline ss_sess *ss_at(const ss_store *st, uint32_t idx)
{
    return &st->chunks[idx >> SS_CHUNK_BITS].e[idx & (SS_CHUNK - 1)];
}

/* The session's end (exclusive: last event time + gap). */
static inline int64_t ss_end(const ss_store *st, const ss_sess *s)
{
    return s->ext ? st->ext[s->depts].end : (int64_t)((uint64_t)s->start + s->span);
}

/* All int functions return 0, or -1 when memory ran out (the store stays
 * consistent). */
int ss_store_init(ss_store *st);
void ss_store_free(ss_store *st);

/* First / next open session of `key` in insertion order, or SS_NONE.
 * ss_next only makes sense for entries with `multi` set. */
uint32_t ss_first(const ss_store *st, int64_t key);
uint32_t ss_next(const ss_store *st, int64_t key, uint32_t idx);

/* Insert a copy of `s` (its window set with ss_set_window; hnext, state,
 * multi and tnext are ignored).  Returns its index, or SS_NONE on out of
 * memory. */
uint32_t ss_add(ss_store *st, const ss_sess *s);

/* Remove the open session at `idx`.  Its ext record, if any, is NOT
 * released (the caller may have moved it elsewhere).  Other indices stay
 * valid. */
void ss_del(ss_store *st, uint32_t idx);

/* The next due open session (end - 1 <= wm) in (end, key) order, or SS_NONE
 * when none is due.  The caller deletes each one it gets before asking for
 * the next.  `wm` never goes back between calls, except after ss_rewind.
 * -1 in *oom (else 0) when memory for the sort ran out. */
uint32_t ss_due(ss_store *st, int64_t wm, int *oom);

/* The watermark went back (a restart of event time): fire from the
 * beginning again. */
void ss_rewind(ss_store *st);

/* Give back now the entries of deleted sessions that wait in the timer
 * (else they go when the watermark reaches them).  O(open sessions). */
void ss_purge(ss_store *st);

/* Index bound for scans: every entry index is below it; ss_open(st, i)
 * says whether i is an open session.  Deleting while scanning is fine
 * (nothing moves). */
static inline uint32_t ss_index_end(const ss_store *st) { return st->nchunks << SS_CHUNK_BITS; }
static inline int ss_open(const ss_store *st, uint32_t idx)
{
    const ss_chunk *c = &st->chunks[idx >> SS_CHUNK_BITS];
    if (!c->e || (idx & (SS_CHUNK - 1)) >= c->used)
        return 0;
    uint32_t s = c->e[idx & (SS_CHUNK - 1)].state;
    return s == SS_LIVE || s == SS_READY;
}

/* Bytes held by entries, index, timer and ext records (for tests, docs). */
size_t ss_store_bytes(const ss_store *st);

#endif
