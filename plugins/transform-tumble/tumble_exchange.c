/* tumble_exchange.c - the 10 s aggregates in two steps through Kafka, so
 * that any number of processes in one consumer group write exactly the
 * documents of one (README, "Scaling out").
 *
 * Step 1, in the process that owns a source partition q: when the watermark
 * passes a window, the window's *partial* for q (session count, checkout
 * count, department counts) goes to the exchange topic, keyed by the window
 * (so all partials of a window meet in one exchange partition).  Windows
 * without sessions in q send nothing; instead, every time the watermark
 * enters a new window, a *marker* goes to every exchange partition: "q's
 * partials are complete up to time T".  A marker follows the partials it
 * covers in the same exchange partition, written by the same producer, so
 * whoever reads the marker has read those partials.
 *
 * Step 2, in the process that owns the window's exchange partition: a
 * window is complete once every source partition's marker has passed its
 * end; its documents are the sum of its partials.  A replayed or doubly
 * owned partial has the same (window, q) and the same content, and replaces
 * the one held.  The merge's state is rebuilt, after a rebalance or a
 * crash, from the exchange's committed offset, which lies before the first
 * partial of every window not yet emitted (held()); windows that were
 * emitted before are fenced (mfence) so that a late duplicate partial of an
 * emitted window cannot emit it again with only part of its input.
 *
 * Wire format (little-endian, versioned by the second byte):
 *   partial: 'P' 1 start:i64 q:i32 sessions:u64 with:u64 n:u32 {count:u32 len:u16 name}*n
 *   marker:  'M' 1 n:u32 {q:i32 progress:i64}*n */
#include "tumble.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- encoding ------------------------------------------------------------ */

static void put_u(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static unsigned char *xroom(tb_state *st, size_t need)
{
    if (need > st->xcap) {
        size_t cap = st->xcap ? st->xcap : 1024;
        while (cap < need)
            cap *= 2;
        unsigned char *b = realloc(st->xbuf, cap);
        if (!b)
            return NULL;
        st->xbuf = b;
        st->xcap = cap;
    }
    return st->xbuf;
}

/* Partition number of a source slot, or -1. */
static int32_t src_partition(const tb_state *st, int32_t slot)
{
    int32_t part = -1;
    if (st->host->slot_info(st->ctx, slot, NULL, &part) != 0)
        return -1;
    return part;
}

/* --- per-slot bookkeeping ---------------------------------------------- */

static int is_exchange_slot(const tb_state *st, int32_t slot)
{
    return st->ex_n && slot >= st->ex_first && slot < st->ex_first + (int32_t)st->ex_n;
}

static int grow_src(tb_state *st, int32_t slot)
{
    if (slot < 0)
        return -1;
    if ((size_t)slot < st->nsrc)
        return 0;
    size_t n = st->nsrc ? st->nsrc : 16;
    while (n <= (size_t)slot)
        n *= 2;
    int64_t *f = realloc(st->src_fence, n * sizeof *f);
    if (!f)
        return -1;
    st->src_fence = f;
    uint8_t *a = realloc(st->src_assigned, n);
    if (!a)
        return -1;
    st->src_assigned = a;
    for (size_t i = st->nsrc; i < n; i++) {
        f[i] = INT64_MIN;
        a[i] = 0;
    }
    st->nsrc = n;
    return 0;
}

int64_t tb_src_fence(const tb_state *st, int32_t slot)
{
    if (slot >= 0 && (size_t)slot < st->nsrc && st->src_fence[slot] != INT64_MIN)
        return st->src_fence[slot];
    return st->fence;
}

/* --- start ---------------------------------------------------------------- */

sh_rc tb_exchange_start(tb_state *st)
{
    if (st->cfg.exchange == TB_EX_LOCAL)
        return SH_OK;
    int32_t first = -1;
    uint32_t src_n = 0, n = 0;
    if (SH_HOST_HAS(st->host, exchange_open) && SH_HOST_HAS(st->host, slot_info))
        n = st->host->exchange_open(st->ctx, "partials", &first, &src_n);
    if (n == 0) {
        if (first == -2)
            return SH_FATAL; /* the host said why */
        if (st->cfg.exchange == TB_EX_KAFKA) {
            st->host->log(st->ctx, SH_LOG_ERROR,
                          "%s: exchange = kafka needs exactly one upstream Kafka source with one topic; set exchange = local "
                          "(one process only) or auto",
                          st->host->cfg_where(st->ctx, "exchange"));
            return SH_FATAL;
        }
        return SH_OK; /* auto: no Kafka upstream, so one process computes everything here */
    }
    st->ex_n = n;
    st->src_n = src_n;
    st->ex_first = first;
    st->progress = malloc((size_t)n * src_n * sizeof *st->progress);
    st->mfence = malloc(n * sizeof *st->mfence);
    if (!st->progress || !st->mfence) {
        st->host->log(st->ctx, SH_LOG_ERROR, "out of memory");
        return SH_FATAL;
    }
    for (size_t i = 0; i < (size_t)n * src_n; i++)
        st->progress[i] = INT64_MIN;
    for (uint32_t x = 0; x < n; x++)
        st->mfence[x] = INT64_MIN;
    st->marker_window = INT64_MIN;
    st->partials_sent = st->host->counter(st->ctx, "partials_written_total", "window partials written to the exchange");
    st->partials_merged = st->host->counter(st->ctx, "partials_merged_total", "window partials read and merged");
    st->markers_sent = st->host->counter(st->ctx, "partial_markers_written_total",
                                         "completeness markers written to the exchange");
    st->waiting_gauge = st->host->gauge(st->ctx, "windows_waiting", "windows waiting in the merge for source partitions");
    st->waiting_parts_gauge = st->host->gauge(st->ctx, "oldest_window_waiting_partitions",
                                              "source partitions the oldest waiting window still waits for");
    return SH_OK;
}

/* --- step 1: partials and markers ------------------------------------------ */

sh_rc tb_exchange_partial(tb_state *st, const tb_window *w)
{
    int32_t q = src_partition(st, w->slot);
    if (q < 0 || (uint32_t)q >= st->src_n) {
        st->host->log(st->ctx, SH_LOG_ERROR, "a session from slot %d is not from the source topic's partitions (0..%u)",
                      (int)w->slot, st->src_n ? st->src_n - 1 : 0);
        return SH_FATAL;
    }
    size_t nd = 0, need = 2 + 8 + 4 + 8 + 8 + 4;
    for (uint32_t id = 0; id < w->ndepts; id++)
        if (w->dept_counts[id]) {
            nd++;
            need += 4 + 2 + sh_intern_name(&st->names, id).len;
        }
    unsigned char *b = xroom(st, need);
    if (!b) {
        st->host->log(st->ctx, SH_LOG_ERROR, "out of memory");
        return SH_FATAL;
    }
    size_t o = 0;
    b[o++] = 'P';
    b[o++] = 1;
    put_u(b + o, (uint64_t)w->start, 8), o += 8;
    put_u(b + o, (uint64_t)(uint32_t)q, 4), o += 4;
    put_u(b + o, w->sessions, 8), o += 8;
    put_u(b + o, w->with_checkout, 8), o += 8;
    put_u(b + o, nd, 4), o += 4;
    for (uint32_t id = 0; id < w->ndepts; id++) {
        if (!w->dept_counts[id])
            continue;
        sh_str nm = sh_intern_name(&st->names, id);
        size_t len = nm.len > 65535 ? 65535 : nm.len;
        put_u(b + o, w->dept_counts[id], 4), o += 4;
        put_u(b + o, len, 2), o += 2;
        memcpy(b + o, nm.ptr, len);
        o += len;
    }
    char key[24];
    int kl = snprintf(key, sizeof key, "%" PRId64, w->start);
    st->host->log(st->ctx, SH_LOG_DEBUG, "partial %lld q=%d sessions=%llu", (long long)w->start, q, (unsigned long long)w->sessions);
    (*st->partials_sent)++;
    return st->host->exchange_send(st->ctx, -1, key, (size_t)kl, b, o);
}

sh_rc tb_exchange_markers(tb_state *st)
{
    if (!st->ex_n || st->wm == INT64_MIN)
        return SH_OK;
    int64_t win = st->wm == INT64_MAX ? INT64_MAX : tb_window_start(st->wm, st->cfg.size);
    if (win == st->marker_window)
        return SH_OK; /* one round of markers per window the watermark enters */
    size_t n = 0;
    for (size_t s = 0; s < st->nsrc; s++)
        n += st->src_assigned[s];
    if (n == 0)
        return SH_OK;
    unsigned char *b = xroom(st, 2 + 4 + n * 12);
    if (!b) {
        st->host->log(st->ctx, SH_LOG_ERROR, "out of memory");
        return SH_FATAL;
    }
    size_t o = 0;
    b[o++] = 'M';
    b[o++] = 1;
    put_u(b + o, n, 4), o += 4;
    for (size_t s = 0; s < st->nsrc; s++) {
        if (!st->src_assigned[s])
            continue;
        int32_t q = src_partition(st, (int32_t)s);
        put_u(b + o, (uint64_t)(uint32_t)q, 4), o += 4;
        put_u(b + o, (uint64_t)st->wm, 8), o += 8;
    }
    st->host->log(st->ctx, SH_LOG_DEBUG, "marker wm=%lld for %zu partition(s)", (long long)st->wm, n);
    for (uint32_t x = 0; x < st->ex_n; x++) {
        sh_rc rc = st->host->exchange_send(st->ctx, (int32_t)x, "m", 1, b, o);
        if (rc != SH_OK)
            return rc;
        (*st->markers_sent)++;
    }
    st->marker_window = win;
    return SH_OK;
}

/* --- step 2: the merge ------------------------------------------------------ */

static void partial_clear(tb_partial *p)
{
    free(p->dc);
    memset(p, 0, sizeof *p);
}

static void mwin_free(tb_state *st, tb_mwin *m)
{
    for (uint32_t q = 0; q < st->src_n; q++)
        partial_clear(&m->parts[q]);
    free(m->parts);
}

static tb_mwin *mwin_get(tb_state *st, int64_t start, uint32_t x)
{
    size_t i = st->nmw;
    while (i > 0 && st->mw[i - 1].start > start)
        i--;
    if (i > 0 && st->mw[i - 1].start == start)
        return &st->mw[i - 1];
    if (st->nmw == st->capmw) {
        size_t cap = st->capmw ? st->capmw * 2 : 16;
        tb_mwin *a = realloc(st->mw, cap * sizeof *a);
        if (!a)
            return NULL;
        st->mw = a;
        st->capmw = cap;
    }
    tb_partial *parts = calloc(st->src_n, sizeof *parts);
    if (!parts)
        return NULL;
    memmove(&st->mw[i + 1], &st->mw[i], (st->nmw - i) * sizeof *st->mw);
    st->nmw++;
    st->mw[i] = (tb_mwin){.start = start, .x = x, .min_offset = INT64_MAX, .parts = parts};
    return &st->mw[i];
}

/* Source partitions window `m` still waits for. */
static uint32_t missing(const tb_state *st, const tb_mwin *m)
{
    int64_t last = tb_window_last(st, m->start);
    uint32_t n = 0;
    for (uint32_t q = 0; q < st->src_n; q++)
        n += st->progress[(size_t)m->x * st->src_n + q] < last;
    return n;
}

static sh_rc emit_merged(tb_state *st, const tb_mwin *m)
{
    tb_window w = {.start = m->start, .slot = -1};
    w.ndepts = sh_intern_count(&st->names);
    w.dept_counts = w.ndepts ? calloc(w.ndepts, sizeof *w.dept_counts) : NULL;
    if (w.ndepts && !w.dept_counts) {
        st->host->log(st->ctx, SH_LOG_ERROR, "out of memory");
        return SH_FATAL;
    }
    for (uint32_t q = 0; q < st->src_n; q++) {
        const tb_partial *p = &m->parts[q];
        if (!p->present)
            continue;
        w.sessions += p->sessions;
        w.with_checkout += p->with_checkout;
        for (uint32_t k = 0; k < p->ndc; k++)
            if (p->dc[k].id < w.ndepts)
                w.dept_counts[p->dc[k].id] += p->dc[k].count;
    }
    sh_rc rc = w.sessions ? tb_window_emit(st, &w) : SH_OK; /* windows without sessions produce nothing */
    free(w.dept_counts);
    return rc;
}

/* Emits and drops every complete window of exchange partition x. */
static sh_rc merge_complete(tb_state *st, uint32_t x)
{
    sh_rc rc = SH_OK;
    size_t keep = 0;
    for (size_t i = 0; i < st->nmw; i++) {
        tb_mwin *m = &st->mw[i];
        if (m->x == x && rc == SH_OK && missing(st, m) == 0) {
            st->host->log(st->ctx, SH_LOG_DEBUG, "merged %lld x=%u", (long long)m->start, x);
            rc = emit_merged(st, m);
            mwin_free(st, m);
            continue;
        }
        st->mw[keep++] = *m;
    }
    st->nmw = keep;
    *st->waiting_gauge = (int64_t)st->nmw;
    *st->waiting_parts_gauge = st->nmw ? (int64_t)missing(st, &st->mw[0]) : 0;
    if (rc != SH_OK)
        return rc;
    return tb_output_flush(st);
}

static sh_rc bad_message(tb_state *st, const sh_exchange_msg *m, const char *what)
{
    const char *topic = "?";
    int32_t part = -1;
    if (st->host->slot_info(st->ctx, m->slot, &topic, &part) != 0)
        topic = "?";
    st->host->log(st->ctx, SH_LOG_ERROR,
                  "exchange topic %s partition %d offset %" PRId64 ": not a partial of this tumble (%s); another writer "
                  "shares the topic or it is corrupt; stopping (exit 1) so that no window is wrong; delete the topic "
                  "with every process of the group stopped",
                  topic, (int)part, m->offset, what);
    return SH_FATAL;
}

static sh_rc recv_partial(tb_state *st, uint32_t x, const sh_exchange_msg *m)
{
    const unsigned char *b = (const unsigned char *)m->value.ptr;
    size_t len = m->value.len, o = 2;
    if (len < 2 + 8 + 4 + 8 + 8 + 4)
        return bad_message(st, m, "truncated partial");
    int64_t start = (int64_t)get_u(b + o, 8);
    o += 8;
    uint32_t q = (uint32_t)get_u(b + o, 4);
    o += 4;
    uint64_t sessions = get_u(b + o, 8);
    o += 8;
    uint64_t with = get_u(b + o, 8);
    o += 8;
    uint32_t nd = (uint32_t)get_u(b + o, 4);
    o += 4;
    if (q >= st->src_n)
        return bad_message(st, m, "source partition out of range");
    if (nd > (len - o) / 6)
        return bad_message(st, m, "department count out of range");
    int64_t last = tb_window_last(st, start);
    if (last < st->mfence[x]) {
        st->host->log(st->ctx, SH_LOG_DEBUG, "partial %lld q=%u x=%u off=%lld: fenced (%lld)", (long long)start, q, x,
                      (long long)m->offset, (long long)st->mfence[x]);
        (*st->replayed)++; /* emitted before the restart */
        return SH_OK;
    }
    uint32_t all = 1;
    for (uint32_t k = 0; k < st->src_n && all; k++)
        all = st->progress[(size_t)x * st->src_n + k] >= last;
    if (all) {
        st->host->log(st->ctx, SH_LOG_DEBUG, "partial %lld q=%u x=%u off=%lld: window already complete", (long long)start,
                      q, x, (long long)m->offset);
        (*st->replayed)++; /* a duplicate of a window already emitted here */
        return SH_OK;
    }
    tb_dc *dc = nd ? malloc(nd * sizeof *dc) : NULL;
    if (nd && !dc)
        return SH_FATAL;
    for (uint32_t k = 0; k < nd; k++) {
        if (len - o < 6) {
            free(dc);
            return bad_message(st, m, "truncated department");
        }
        uint32_t count = (uint32_t)get_u(b + o, 4);
        size_t nl = (size_t)get_u(b + o + 4, 2);
        o += 6;
        if (len - o < nl) {
            free(dc);
            return bad_message(st, m, "truncated department name");
        }
        uint32_t id = sh_intern_id(&st->names, (const char *)b + o, nl);
        o += nl;
        if (id == SH_INTERN_OOM) {
            free(dc);
            return SH_FATAL;
        }
        dc[k] = (tb_dc){id, count};
    }
    tb_mwin *w = mwin_get(st, start, x);
    if (!w) {
        free(dc);
        return SH_FATAL;
    }
    st->host->log(st->ctx, SH_LOG_DEBUG, "recv partial %lld q=%u x=%u off=%lld", (long long)start, q, x, (long long)m->offset);
    tb_partial *p = &w->parts[q];
    partial_clear(p); /* same (window, partition), same content: keep one */
    *p = (tb_partial){.present = 1, .sessions = sessions, .with_checkout = with, .dc = dc, .ndc = nd};
    if (m->offset < w->min_offset)
        w->min_offset = m->offset;
    (*st->partials_merged)++;
    return SH_OK;
}

static sh_rc recv_marker(tb_state *st, uint32_t x, const sh_exchange_msg *m)
{
    const unsigned char *b = (const unsigned char *)m->value.ptr;
    size_t len = m->value.len;
    if (len < 6)
        return bad_message(st, m, "truncated marker");
    uint32_t n = (uint32_t)get_u(b + 2, 4);
    if (n > (len - 6) / 12)
        return bad_message(st, m, "marker count out of range");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t q = (uint32_t)get_u(b + 6 + 12 * i, 4);
        int64_t progress = (int64_t)get_u(b + 10 + 12 * i, 8);
        if (q >= st->src_n)
            return bad_message(st, m, "source partition out of range");
        int64_t *cur = &st->progress[(size_t)x * st->src_n + q];
        if (progress > *cur)
            *cur = progress;
    }
    return merge_complete(st, x);
}

sh_rc tb_exchange_recv(void *state, const sh_exchange_msg *msgs, size_t n)
{
    tb_state *st = state;
    for (size_t i = 0; i < n; i++) {
        const sh_exchange_msg *m = &msgs[i];
        if (!is_exchange_slot(st, m->slot))
            return bad_message(st, m, "not from this tumble's exchange");
        uint32_t x = (uint32_t)(m->slot - st->ex_first);
        if (m->value.len < 2 || m->value.ptr[1] != 1)
            return bad_message(st, m, "unknown version");
        sh_rc rc;
        if (m->value.ptr[0] == 'P')
            rc = recv_partial(st, x, m);
        else if (m->value.ptr[0] == 'M')
            rc = recv_marker(st, x, m);
        else
            rc = bad_message(st, m, "unknown kind");
        if (rc != SH_OK)
            return rc;
    }
    return SH_OK;
}

/* --- delivery protocol ------------------------------------------------------ */

void tb_exchange_held(const tb_state *st, int64_t *min_offset, size_t nslots)
{
    for (size_t i = 0; i < st->nmw; i++) {
        size_t s = (size_t)st->ex_first + st->mw[i].x;
        if (s < nslots && st->mw[i].min_offset < min_offset[s])
            min_offset[s] = st->mw[i].min_offset;
    }
}

int64_t tb_slot_settled(void *state, int32_t slot)
{
    const tb_state *st = state;
    if (!is_exchange_slot(st, slot))
        return st->wm == INT64_MIN || st->wm == INT64_MAX ? st->wm : st->wm + 1;
    uint32_t x = (uint32_t)(slot - st->ex_first);
    int64_t lo = INT64_MAX;
    for (uint32_t q = 0; q < st->src_n; q++)
        if (st->progress[(size_t)x * st->src_n + q] < lo)
            lo = st->progress[(size_t)x * st->src_n + q];
    /* windows with last <= lo were complete and emitted */
    int64_t f = lo == INT64_MIN || lo == INT64_MAX ? lo : lo + 1;
    return f > st->mfence[x] ? f : st->mfence[x];
}

void tb_slot_assigned(void *state, int32_t slot, int64_t fence)
{
    tb_state *st = state;
    if (!st->ex_n) { /* local mode: one fence for everything, as before */
        if (fence != INT64_MIN && st->fence == INT64_MIN) {
            st->fence = fence;
            st->host->log(st->ctx, SH_LOG_INFO, "replay: windows ending before %" PRId64 " were delivered before the restart",
                          fence);
        }
        return;
    }
    if (is_exchange_slot(st, slot)) {
        st->mfence[slot - st->ex_first] = fence;
        return;
    }
    if (grow_src(st, slot) != 0)
        return;
    st->src_assigned[slot] = 1;
    st->src_fence[slot] = fence;
    st->marker_window = INT64_MIN; /* announce the new partition's progress at the next watermark */
}

void tb_slot_revoked(void *state, int32_t slot)
{
    tb_state *st = state;
    if (!st->ex_n) {
        /* local mode: windows mix every slot, so none can be kept; the
         * Kafka source's eager rebalance re-reads every partition from its
         * committed offset, which lies before every open window */
        tb_windows_free(st);
        *st->open_gauge = 0;
        st->wm = INT64_MIN;
        st->fence = INT64_MIN; /* the next assignment brings the fence of the new commit */
        return;
    }
    if (is_exchange_slot(st, slot)) {
        uint32_t x = (uint32_t)(slot - st->ex_first);
        size_t keep = 0;
        for (size_t i = 0; i < st->nmw; i++) {
            if (st->mw[i].x == x)
                st->host->log(st->ctx, SH_LOG_DEBUG, "drop %lld x=%u missing %u", (long long)st->mw[i].start, x, missing(st, &st->mw[i]));
            if (st->mw[i].x == x)
                mwin_free(st, &st->mw[i]);
            else
                st->mw[keep++] = st->mw[i];
        }
        st->nmw = keep;
        for (uint32_t q = 0; q < st->src_n; q++)
            st->progress[(size_t)x * st->src_n + q] = INT64_MIN;
        st->mfence[x] = INT64_MIN;
        *st->waiting_gauge = (int64_t)st->nmw;
        return;
    }
    size_t keep = 0;
    for (size_t i = 0; i < st->nwin; i++) {
        if (st->windows[i].slot == slot)
            tb_window_release(&st->windows[i]);
        else
            st->windows[keep++] = st->windows[i];
    }
    st->nwin = keep;
    *st->open_gauge = (int64_t)st->nwin;
    if (slot >= 0 && (size_t)slot < st->nsrc) {
        st->src_assigned[slot] = 0;
        st->src_fence[slot] = INT64_MIN;
    }
    size_t left = 0;
    for (size_t s = 0; s < st->nsrc; s++)
        left += st->src_assigned[s];
    if (!left) { /* nothing left: event time starts again, as at a restart */
        st->wm = INT64_MIN;
        st->marker_window = INT64_MIN;
    }
}

void tb_exchange_free(tb_state *st)
{
    for (size_t i = 0; i < st->nmw; i++)
        mwin_free(st, &st->mw[i]);
    free(st->mw);
    free(st->progress);
    free(st->mfence);
    free(st->src_fence);
    free(st->src_assigned);
    free(st->xbuf);
}
