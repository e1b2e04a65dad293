/* session_ext.h - the rare parts of a session (session_ext.c): more than 64
 * departments, events from more than one input slot, a window longer than
 * 2^32 ms.  Above the store (session_store.h), which only holds the ext
 * records' array and reads a moved end (ss_end). */
#ifndef SESSION_EXT_H
#define SESSION_EXT_H

#include "session_store.h"

/* Set the window of `s` (in the store or a copy outside it) to [start, end),
 * start < end; moves the end into an ext record when the span does not fit
 * 32 bits. */
int ss_set_window_ext(ss_store *st, ss_sess *s, int64_t start, int64_t end);
static inline int ss_set_window(ss_store *st, ss_sess *s, int64_t start, int64_t end)
{
    uint64_t span = (uint64_t)end - (uint64_t)start; /* end > start: exact */
    if (!s->ext && span <= UINT32_MAX) {
        s->start = start;
        s->span = (uint32_t)span;
        return 0;
    }
    return ss_set_window_ext(st, s, start, end);
}

/* Move the session's data into an ext record (no-op when it has one). */
int ss_to_ext(ss_store *st, ss_sess *s);
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
/* Give the session's ext record back to the free list (for a session about
 * to be deleted: its end is lost). */
void ss_sess_release(ss_store *st, ss_sess *s);

#endif
