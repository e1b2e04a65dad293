/* tumble_windows.c - the open tumbling windows, aligned to the epoch
 * (SEMANTICS.md section 5).  Windows are few (the watermark trails the data
 * by tens of seconds), so a sorted array is the right structure. */
#include "tumble.h"

#include <stdlib.h>
#include <string.h>

int64_t tb_window_start(int64_t t, int64_t size)
{
    int64_t mod = t % size;
    if (mod < 0)
        mod += size; /* floor, also before 1970 */
    if (t < INT64_MIN + mod)
        return INT64_MIN; /* the first window of time is cut short */
    return t - mod;
}

int64_t tb_window_last(const tb_state *st, int64_t start)
{
    return start > INT64_MAX - (st->size - 1) ? INT64_MAX : start + (st->size - 1);
}

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
    const sh_value *c = &r->values[f->checkout];
    if (c->type == SH_INT && c->u.i != 0)
        w->with_checkout++;
    const sh_value *d = &r->values[f->depts];
    uint64_t seq = ++st->session_seq;
    for (uint32_t k = 0; d->type == SH_STRLIST && k < d->u.l.n; k++) {
        uint32_t id = tb_name_intern(&st->names, d->u.l.items[k].ptr, d->u.l.items[k].len);
        if (id == TB_NAME_OOM || tb_grow_counts(w, id) != 0)
            return -1;
        if (st->names.stamp[id] == seq)
            continue; /* a name listed twice counts once per session */
        st->names.stamp[id] = seq;
        w->dept_counts[id]++;
    }
    return tb_hold(w, r->slot, r->offset);
}

static int tb_dept_cmp(const void *a, const void *b)
{
    const sh_str *x = &((const tb_dept_count *)a)->name;
    const sh_str *y = &((const tb_dept_count *)b)->name;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->ptr, y->ptr, n) : 0;
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* Emit one window: its counts document, then its departments by name. */
sh_rc tb_window_emit(tb_state *st, const tb_window *w)
{
    sh_rc rc = tb_output_counts(st, w);
    if (rc != SH_OK)
        return rc;
    if (w->ndepts > st->capsorted) {
        tb_dept_count *s = realloc(st->sorted, w->ndepts * sizeof *s);
        if (!s) {
            st->host->log(st->ctx, SH_LOG_ERROR, "out of memory sorting departments");
            return SH_FATAL;
        }
        st->sorted = s;
        st->capsorted = w->ndepts;
    }
    size_t n = 0;
    for (uint32_t id = 0; id < w->ndepts; id++)
        if (w->dept_counts[id])
            st->sorted[n++] = (tb_dept_count){st->names.names[id], w->dept_counts[id]};
    if (n > 1)
        qsort(st->sorted, n, sizeof *st->sorted, tb_dept_cmp);
    for (size_t i = 0; i < n; i++) {
        rc = tb_output_dept(st, w, st->sorted[i].name, st->sorted[i].count);
        if (rc != SH_OK)
            return rc;
    }
    return SH_OK;
}

void tb_window_release(tb_window *w)
{
    free(w->dept_counts);
    free(w->held);
}

sh_rc tb_windows_fire(tb_state *st)
{
    size_t done = 0;
    sh_rc rc = SH_OK;
    while (done < st->nwin && tb_window_last(st, st->windows[done].start) <= st->wm) {
        const tb_window *w = &st->windows[done];
        int64_t fence = st->ex_n ? tb_src_fence(st, w->slot) : st->fence;
        if (tb_window_last(st, w->start) < fence)
            (*st->replayed)++; /* rebuilt after a restart; delivered before it */
        else if (st->ex_n)
            rc = tb_exchange_partial(st, w); /* this slot's part goes to the merge */
        else
            rc = tb_window_emit(st, w);
        tb_window_release(&st->windows[done]);
        done++;
        if (rc != SH_OK)
            break;
    }
    if (done) {
        memmove(st->windows, st->windows + done, (st->nwin - done) * sizeof *st->windows);
        st->nwin -= done;
    }
    *st->open_gauge = (int64_t)st->nwin;
    if (rc != SH_OK)
        return rc;
    return tb_output_flush(st);
}

void tb_windows_free(tb_state *st)
{
    for (size_t i = 0; i < st->nwin; i++)
        tb_window_release(&st->windows[i]);
    free(st->windows);
    st->windows = NULL;
    st->nwin = st->capwin = 0;
}
