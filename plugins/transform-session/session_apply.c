/* session_apply.c - one event meets the open sessions of its key, with the
 * merge rules of Flink's EventTimeSessionWindows (docs/semantics.md section 4):
 * the event's window [t, t + gap) merges with every open session it overlaps
 * or touches; existing sessions merged by it add their counts and unite
 * their departments (the reference AggregateFunction.merge), and only then
 * is the event itself aggregated into the result. */
#include "session.h"

#include <stdlib.h>

static int ss_touches(const ss_store *S, const ss_sess *s, int64_t start,
                      int64_t end)
{
    return s->start <= end && start <= ss_end(S, s);
}

/* Aggregate one event into its session, in arrival order. */
static int ss_aggregate(ss_state *st, ss_sess *s, const sh_record *r,
                        const ss_fields *f)
{
    const sh_value *pt = &r->values[f->pos[SS_IN_PRODUCT_TYPE]];
    if (pt->type == SH_STRING && pt->u.s.len > 0 && !sh_str_eq(pt->u.s, "N/A")) {
        uint32_t id = sh_intern_id(&st->depts, pt->u.s.ptr, pt->u.s.len);
        if (id == SH_INTERN_OOM || ss_sess_add_dept(&st->store, s, id) != 0)
            return -1;
        s->count++;
    }
    const sh_value *et = &r->values[f->pos[SS_IN_EVENT_TYPE]];
    if (et->type == SH_STRING && sh_str_eq(et->u.s, "order_checkout"))
        s->checkout = s->count; /* a later checkout overwrites */
    return ss_sess_hold(&st->store, s, r->slot, r->offset);
}

/* Rare (out-of-order input): the event bridges `nhit` >= 2 open sessions.
 * Builds the merged session outside the table, removes the parts, inserts
 * the result.  Returns its index or SS_NONE when memory ran out. */
static uint32_t ss_merge(ss_state *st, int64_t key, int64_t start, int64_t end,
                         size_t nhit)
{
    ss_store *S = &st->store;
    if (nhit > st->capmerge) {
        uint32_t *m = realloc(st->merge_parts, nhit * 2 * sizeof *m);
        if (!m)
            return SS_NONE;
        st->merge_parts = m;
        st->capmerge = nhit * 2;
    }
    ss_sess merged = {0};
    size_t k = 0;
    for (uint32_t i = ss_first(S, key); i != SS_NONE; i = ss_next(S, key, i)) {
        const ss_sess *s = ss_at(S, i);
        if (!ss_touches(S, s, start, end))
            continue;
        st->merge_parts[k++] = i;
        if (k == 1) {
            merged = *s; /* takes over its ext record, if any */
            continue;
        }
        merged.count += s->count;
        merged.checkout += s->checkout;
        int64_t ms = merged.start < s->start ? merged.start : s->start;
        int64_t me = ss_end(S, &merged), se = ss_end(S, s);
        if (ss_set_window(S, &merged, ms, me > se ? me : se) != 0 ||
            ss_sess_absorb(S, &merged, s) != 0)
            return SS_NONE;
    }
    int64_t me = ss_end(S, &merged);
    if (ss_set_window(S, &merged, start < merged.start ? start : merged.start,
                      end > me ? end : me) != 0)
        return SS_NONE;
    for (size_t j = 0; j < k; j++)
        ss_del(S, st->merge_parts[j]); /* indices stay valid */
    return ss_add(S, &merged);
}

sh_rc ss_apply(ss_state *st, const sh_record *r, const ss_fields *f,
               int64_t key, int *late)
{
    ss_store *S = &st->store;
    int64_t start = r->time;
    int64_t end = start > INT64_MAX - st->cfg.gap ? INT64_MAX : start + st->cfg.gap;
    *late = 0;

    uint32_t hit = SS_NONE;
    ss_sess *s = NULL;
    size_t nhit = 0;
    for (uint32_t i = ss_first(S, key); i != SS_NONE;) {
        ss_sess *o = ss_at(S, i);
        if (ss_touches(S, o, start, end) && nhit++ == 0) {
            hit = i;
            s = o;
        }
        i = o->multi ? ss_next(S, key, i) : SS_NONE;
    }

    if (nhit == 0) {
        /* Open sessions always end after the watermark (they fire as soon
         * as it passes), so only a session of its own can be late. */
        if (end - 1 <= st->wm) {
            *late = 1;
            return SH_OK;
        }
        ss_sess n = {.key = key, .min_offset = r->offset, .slot = r->slot};
        hit = ss_set_window(S, &n, start, end) == 0 ? ss_add(S, &n) : SS_NONE;
    } else if (nhit == 1) {
        int64_t se = ss_end(S, s);
        /* the timer entry is refreshed lazily */
        if ((start < s->start || end > se) &&
            ss_set_window(S, s, start < s->start ? start : s->start, end > se ? end : se) != 0)
            hit = SS_NONE;
    } else {
        hit = ss_merge(st, key, start, end, nhit);
    }
    if (hit != SS_NONE && nhit != 1)
        s = ss_at(S, hit);
    if (hit == SS_NONE || ss_aggregate(st, s, r, f) != 0) {
        st->host->log(st->ctx, SH_LOG_ERROR,
                      "out of memory with %u open sessions", S->n);
        return SH_FATAL;
    }
    return SH_OK;
}
