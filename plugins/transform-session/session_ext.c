/* session_ext.c - the rare parts of a session: more than 64 departments,
 * events from more than one input slot, and a window longer than 2^32 ms.  A session moves its data into an
 * ext record the first time it needs one; records are recycled through a
 * free list with their arrays kept, so steady state allocates nothing. */
#include "session_ext.h"

#include <stdlib.h>
#include <string.h>

static uint32_t ss_ext_new(ss_store *st)
{
    uint32_t i;
    if (st->free_ext != SS_NONE) {
        i = st->free_ext;
        st->free_ext = st->ext[i].next_free;
    } else {
        if (st->next_ext == st->cap_ext) {
            uint32_t cap = st->cap_ext ? st->cap_ext * 2 : 16;
            ss_ext *e = realloc(st->ext, (size_t)cap * sizeof *e);
            if (!e)
                return SS_NONE;
            st->ext = e;
            st->cap_ext = cap;
        }
        i = st->next_ext++;
        memset(&st->ext[i], 0, sizeof st->ext[i]);
    }
    st->ext[i].nwords = 0;
    st->ext[i].nholds = 0;
    st->ext[i].next_free = SS_NONE;
    return i;
}

static int ss_ext_words(ss_ext *e, uint32_t nwords)
{
    if (nwords > e->capwords) {
        uint32_t cap = e->capwords ? e->capwords : 2;
        while (cap < nwords)
            cap *= 2;
        uint64_t *b = realloc(e->bits, (size_t)cap * sizeof *b);
        if (!b)
            return -1;
        e->bits = b;
        e->capwords = cap;
    }
    if (nwords > e->nwords) {
        memset(e->bits + e->nwords, 0, (nwords - e->nwords) * sizeof *e->bits);
        e->nwords = nwords;
    }
    return 0;
}

/* Move the inline department mask and the end into a fresh ext record. */
int ss_to_ext(ss_store *st, ss_sess *s)
{
    if (s->ext)
        return 0;
    int64_t end = ss_end(st, s);
    uint32_t i = ss_ext_new(st);
    if (i == SS_NONE || ss_ext_words(&st->ext[i], 1) != 0)
        return -1;
    st->ext[i].bits[0] = s->depts;
    st->ext[i].end = end;
    s->depts = i;
    s->ext = 1;
    return 0;
}

/* A window too long for the inline 32-bit length: its end moves to the ext record. */
int ss_set_window_ext(ss_store *st, ss_sess *s, int64_t start, int64_t end)
{
    if (ss_to_ext(st, s) != 0)
        return -1;
    s->start = start;
    st->ext[s->depts].end = end;
    return 0;
}

int ss_sess_add_dept(ss_store *st, ss_sess *s, uint32_t id)
{
    if (!s->ext && id < 64) {
        s->depts |= 1ull << id;
        return 0;
    }
    if (ss_to_ext(st, s) != 0)
        return -1;
    ss_ext *e = &st->ext[s->depts];
    if (ss_ext_words(e, id / 64 + 1) != 0)
        return -1;
    e->bits[id / 64] |= 1ull << (id % 64);
    return 0;
}

int ss_sess_hold(ss_store *st, ss_sess *s, int32_t slot, int64_t offset)
{
    if (slot == s->slot) {
        if (offset < s->min_offset)
            s->min_offset = offset;
        return 0;
    }
    if (ss_to_ext(st, s) != 0)
        return -1;
    ss_ext *e = &st->ext[s->depts];
    for (uint32_t i = 0; i < e->nholds; i++) {
        if (e->holds[i].slot == slot) {
            if (offset < e->holds[i].offset)
                e->holds[i].offset = offset;
            return 0;
        }
    }
    if (e->nholds == e->capholds) {
        uint32_t cap = e->capholds ? e->capholds * 2 : 2;
        ss_hold *h = realloc(e->holds, (size_t)cap * sizeof *h);
        if (!h)
            return -1;
        e->holds = h;
        e->capholds = cap;
    }
    e->holds[e->nholds++] = (ss_hold){.slot = slot, .offset = offset};
    return 0;
}

int ss_sess_absorb(ss_store *st, ss_sess *dst, const ss_sess *src)
{
    if (ss_sess_hold(st, dst, src->slot, src->min_offset) != 0)
        return -1;
    if (!src->ext) {
        if (!dst->ext)
            dst->depts |= src->depts;
        else
            st->ext[dst->depts].bits[0] |= src->depts;
        return 0;
    }
    /* convert dst first: it may move st->ext, so take pointers after */
    if (ss_to_ext(st, dst) != 0)
        return -1;
    uint32_t si = (uint32_t)src->depts;
    ss_ext *d = &st->ext[dst->depts];
    if (ss_ext_words(d, st->ext[si].nwords) != 0)
        return -1;
    for (uint32_t w = 0; w < st->ext[si].nwords; w++)
        d->bits[w] |= st->ext[si].bits[w];
    for (uint32_t h = 0; h < st->ext[si].nholds; h++) {
        ss_hold hold = st->ext[si].holds[h];
        if (ss_sess_hold(st, dst, hold.slot, hold.offset) != 0)
            return -1;
    }
    st->ext[si].next_free = st->free_ext;
    st->free_ext = si;
    return 0;
}

const uint64_t *ss_sess_dept_words(const ss_store *st, const ss_sess *s,
                                   uint32_t *nwords)
{
    if (!s->ext) {
        *nwords = 1;
        return &s->depts;
    }
    *nwords = st->ext[s->depts].nwords;
    return st->ext[s->depts].bits;
}

const ss_hold *ss_sess_holds(const ss_store *st, const ss_sess *s, uint32_t *n)
{
    if (!s->ext) {
        *n = 0;
        return NULL;
    }
    *n = st->ext[s->depts].nholds;
    return st->ext[s->depts].holds;
}

void ss_sess_release(ss_store *st, ss_sess *s)
{
    if (!s->ext)
        return;
    uint32_t i = (uint32_t)s->depts;
    st->ext[i].next_free = st->free_ext;
    st->free_ext = i;
    s->ext = 0;
    s->depts = 0;
}
