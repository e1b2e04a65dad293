/* session_store.h - the open sessions: a hash table keyed by the session key
 * plus a min-heap that says which session fires next.
 *
 * Memory is the point of this layout: one 56-byte entry per open session in
 * an open-addressing table (linear probing, backward-shift deletion, power of
 * two capacity, at most 80% full) and one 16-byte heap entry per session.
 *
 * Usually a key has one open session.  Out-of-order input can leave several
 * disjoint sessions of one key open at once; they are stored as duplicate
 * keys in the same table and every one of them carries the `multi` flag, so
 * the common lookup stops at the first match.
 *
 * The heap is indexed (every session knows its heap position) and lazy: a
 * heap entry's end is a lower bound of the session's end.  Extending a
 * session does not touch the heap; when the entry reaches the top, ss_due()
 * refreshes it.  Because the top is only trusted once it is exact, sessions
 * come out in exact (end, key) order.
 *
 * Rare data lives in an "ext" record: departments with ids >= 64 and input
 * positions in slots other than the session's own. */
#ifndef SESSION_STORE_H
#define SESSION_STORE_H

#include <stddef.h>
#include <stdint.h>

#define SS_NONE UINT32_MAX
#define SS_MAX_HEAP_POS ((1u << 29) - 1)

typedef struct ss_sess {
    int64_t key;
    int64_t start, end;  /* [start, end): first event time, last + gap */
    int64_t min_offset;  /* lowest input offset of its events in `slot` */
    uint64_t depts;      /* bit i = department id i; index of the ext record
                            instead when `ext` is set */
    int32_t slot;        /* input slot of its first event */
    uint32_t count;      /* eventCount */
    uint32_t checkout;   /* orderCheckoutEventCount */
    uint32_t heap_pos : 29;
    uint32_t used : 1;   /* table slot occupied */
    uint32_t multi : 1;  /* other open sessions share this key */
    uint32_t ext : 1;    /* `depts` is an index into ss_store.ext */
} ss_sess;

/* A (slot, lowest offset) pair held by a session besides its own slot. */
typedef struct ss_hold {
    int32_t slot;
    int64_t offset;
} ss_hold;

/* Rare per-session data; reused through a free list, arrays kept. */
typedef struct ss_ext {
    uint64_t *bits; /* department bitset, all ids */
    uint32_t nwords, capwords;
    ss_hold *holds;
    uint32_t nholds, capholds;
    uint32_t next_free;
} ss_ext;

typedef struct ss_heap_ent {
    int64_t end;  /* lower bound of the session's end */
    uint32_t idx; /* table index of the session */
} ss_heap_ent;

typedef struct ss_store {
    ss_sess *tab;
    uint32_t cap; /* power of two */
    uint32_t n;   /* open sessions = heap entries */
    ss_heap_ent *heap;
    uint32_t heap_cap;
    ss_ext *ext;
    uint32_t next_ext, cap_ext, free_ext;
} ss_store;

/* All return 0, or -1 when memory ran out (the store stays consistent). */
int ss_store_init(ss_store *st);
void ss_store_free(ss_store *st);

/* First / next entry of `key` in probe order, or SS_NONE.  ss_next only
 * makes sense for entries with `multi` set. */
uint32_t ss_first(const ss_store *st, int64_t key);
uint32_t ss_next(const ss_store *st, int64_t key, uint32_t idx);

/* Insert a copy of `s` (its heap_pos/used/multi are ignored) and give it a
 * heap entry.  Returns its table index, or SS_NONE on out of memory. */
uint32_t ss_add(ss_store *st, const ss_sess *s);

/* Remove the entry at `idx` from table and heap.  Its ext record, if any,
 * is NOT released (the caller may have moved it elsewhere). */
void ss_del(ss_store *st, uint32_t idx);

/* The open session with the smallest (end, key) if it is due, i.e.
 * end - 1 <= wm; SS_NONE otherwise. */
uint32_t ss_due(ss_store *st, int64_t wm);

/* Bytes held by table, heap and ext records (for tests and docs). */
size_t ss_store_bytes(const ss_store *st);

/* --- per-session rare data (session_ext.c) --- */

/* Add department `id` to the session's set. */
int ss_sess_add_dept(ss_store *st, ss_sess *s, uint32_t id);
/* Record that the session holds input position (slot, offset). */
int ss_sess_hold(ss_store *st, ss_sess *s, int32_t slot, int64_t offset);
/* Merge src's departments and held positions into dst (a copy outside the
 * table is fine) and release src's ext record. */
int ss_sess_absorb(ss_store *st, ss_sess *dst, const ss_sess *src);
/* The session's department bitset as words. */
const uint64_t *ss_sess_dept_words(const ss_store *st, const ss_sess *s,
                                   uint32_t *nwords);
/* Extra held positions (slots other than s->slot). */
const ss_hold *ss_sess_holds(const ss_store *st, const ss_sess *s,
                             uint32_t *n);
/* Give the session's ext record back to the free list. */
void ss_sess_release(ss_store *st, ss_sess *s);

#endif
