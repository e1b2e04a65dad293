/* tumble_windows.c - the open tumbling windows, aligned to the epoch
 * (docs/semantics.md section 5).  Windows are few (the watermark trails the data
 * by tens of seconds), so a sorted array is the right structure. */
#include "tumble.h"

#include <stdlib.h>
#include <string.h>

/* The window starting at `start` (of source slot `slot` in exchange mode,
 * -1 otherwise), created in (start, slot) order when missing. */
static tb_window *tb_window_get(tb_state *st, int64_t start, int32_t slot)
{
    size_t i = st->nwin;
    while (i > 0 && (st->windows[i - 1].start > start ||
                     (st->windows[i - 1].start == start && st->windows[i - 1].slot > slot))) /* new data: near the end */
        i--;
    if (i > 0 && st->windows[i - 1].start == start && st->windows[i - 1].slot == slot)
        return &st->windows[i - 1];
    if (st->nwin == st->capwin) {
        size_t cap = st->capwin ? st->capwin * 2 : 8;
        tb_window *w = realloc(st->windows, cap * sizeof *w);
        if (!w)
            return NULL;
        st->windows = w;
        st->capwin = cap;
    }
    memmove(&st->windows[i + 1], &st->windows[i], (st->nwin - i) * sizeof *st->windows);
    st->nwin++;
    memset(&st->windows[i], 0, sizeof st->windows[i]);
    st->windows[i].start = start;
    st->windows[i].slot = slot;
    *st->open_gauge = (int64_t)st->nwin;
    return &st->windows[i];
}

/* Grow a uint32/int64 array indexed by id to hold index `i`. */
static int tb_grow_counts(tb_window *w, uint32_t i)
{
    if (i < w->ndepts)
        return 0;
    uint32_t n = w->ndepts ? w->ndepts : 16;
    while (n <= i)
        n *= 2;
    uint32_t *c = realloc(w->dept_counts, n * sizeof *c);
    if (!c)
        return -1;
    memset(c + w->ndepts, 0, (n - w->ndepts) * sizeof *c);
    w->dept_counts = c;
    w->ndepts = n;
    return 0;
}

/* Room in st->name_stamp for id `i` (new entries 0: no session yet). */
static int tb_grow_stamps(tb_state *st, uint32_t i)
{
    if (i < st->capstamp)
        return 0;
    uint32_t n = st->capstamp ? st->capstamp : 16;
    while (n <= i)
        n *= 2;
    uint64_t *s = realloc(st->name_stamp, n * sizeof *s);
    if (!s)
        return -1;
    memset(s + st->capstamp, 0, (n - st->capstamp) * sizeof *s);
    st->name_stamp = s;
    st->capstamp = n;
    return 0;
}

static int tb_hold(tb_window *w, int32_t slot, int64_t offset)
{
    if (slot < 0)
        return 0; /* not tied to a source position */
    uint32_t s = (uint32_t)slot;
    if (s >= w->nheld) {
        uint32_t n = w->nheld ? w->nheld : 4;
        while (n <= s)
            n *= 2;
        int64_t *h = realloc(w->held, n * sizeof *h);
        if (!h)
            return -1;
        for (uint32_t k = w->nheld; k < n; k++)
            h[k] = INT64_MAX;
        w->held = h;
        w->nheld = n;
    }
    if (offset < w->held[s])
        w->held[s] = offset;
    return 0;
}

int tb_window_add(tb_state *st, int64_t start, const sh_record *r,
                  const tb_fields *f)
{
    tb_window *w = tb_window_get(st, start, st->ex_n ? r->slot : -1);
    if (!w)
        return -1;
    w->sessions++;
    const sh_value *c = &r->values[f->pos[TB_IN_CHECKOUT]];
    if (c->type == SH_INT && c->u.i != 0)
        w->with_checkout++;
    const sh_value *d = &r->values[f->pos[TB_IN_DEPTS]];
    uint64_t seq = ++st->session_seq;
    for (uint32_t k = 0; d->type == SH_STRLIST && k < d->u.l.n; k++) {
        uint32_t id = sh_intern_id(&st->names, d->u.l.items[k].ptr, d->u.l.items[k].len);
        if (id == SH_INTERN_OOM || tb_grow_counts(w, id) != 0 || tb_grow_stamps(st, id) != 0)
            return -1;
        if (st->name_stamp[id] == seq)
            continue; /* a name listed twice counts once per session */
        st->name_stamp[id] = seq;
        w->dept_counts[id]++;
    }
    return tb_hold(w, r->slot, r->offset);
}

void tb_window_release(tb_window *w)
{
    free(w->dept_counts);
    free(w->held);
}

void tb_windows_shift(tb_state *st, size_t n)
{
    if (n) {
        memmove(st->windows, st->windows + n, (st->nwin - n) * sizeof *st->windows);
        st->nwin -= n;
    }
    *st->open_gauge = (int64_t)st->nwin;
}

void tb_windows_free(tb_state *st)
{
    for (size_t i = 0; i < st->nwin; i++)
        tb_window_release(&st->windows[i]);
    free(st->windows);
    st->windows = NULL;
    st->nwin = st->capwin = 0;
}
