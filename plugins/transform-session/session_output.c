/* session_output.c - turns fired sessions into records (docs/semantics.md
 * section 4) and emits them in batches from buffers reused across calls. */
#include "session.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

const sh_field ss_out_fields[SS_NFIELDS] = {
    [SS_F_USER_ID] = {"userId", SH_INT},
    [SS_F_EVENT_COUNT] = {"eventCount", SH_INT},
    [SS_F_CHECKOUT_COUNT] = {"orderCheckoutEventCount", SH_INT},
    [SS_F_DEPT_LIST] = {"deptList", SH_STRLIST},
    [SS_F_EVENT_KEY] = {"eventKey", SH_INT},
    [SS_F_BEGIN] = {"windowBeginTime", SH_INT},
    [SS_F_END] = {"windowEndTime", SH_INT},
};

void ss_output_free(ss_output *o)
{
    free(o->items);
    o->items = NULL;
    o->capitems = o->nitems = 0;
}

/* Bytewise order, shorter first on a common prefix (like strcmp). */
static int ss_name_cmp(const sh_str *a, const sh_str *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->ptr, b->ptr, n) : 0;
    if (c)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

static int ss_name_qcmp(const void *a, const void *b) { return ss_name_cmp(a, b); }

static void ss_sort_names(sh_str *v, size_t n)
{
    if (n > 16) {
        qsort(v, n, sizeof *v, ss_name_qcmp);
        return;
    }
    for (size_t i = 1; i < n; i++) { /* a session has a handful */
        sh_str x = v[i];
        size_t j = i;
        for (; j > 0 && ss_name_cmp(&v[j - 1], &x) > 0; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

sh_rc ss_output_flush(ss_state *st)
{
    ss_output *o = &st->out;
    if (!o->n)
        return SH_OK;
    sh_rc rc = st->host->emit(st->ctx, 0, o->recs, o->n);
    *st->sessions_out += o->n;
    o->n = 0;
    o->nitems = 0;
    return rc;
}

sh_rc ss_output_add(ss_state *st, const ss_sess *s)
{
    ss_output *o = &st->out;
    uint32_t nwords;
    const uint64_t *words = ss_sess_dept_words(&st->store, s, &nwords);
    size_t k = 0;
    for (uint32_t w = 0; w < nwords; w++)
        k += (size_t)__builtin_popcountll(words[w]);
    /* never move `items` while queued records point into it */
    if (o->nitems + k > o->capitems) {
        sh_rc rc = ss_output_flush(st);
        if (rc != SH_OK)
            return rc;
        if (k > o->capitems) {
            size_t cap = o->capitems ? o->capitems : 1024;
            while (cap < k)
                cap *= 2;
            sh_str *items = realloc(o->items, cap * sizeof *items);
            if (!items) {
                st->host->log(st->ctx, SH_LOG_ERROR, "out of memory for a deptList of %zu names", k);
                return SH_FATAL;
            }
            o->items = items;
            o->capitems = cap;
        }
    }
    sh_str *items = o->items + o->nitems;
    size_t m = 0;
    for (uint32_t w = 0; w < nwords; w++)
        for (uint64_t bits = words[w]; bits; bits &= bits - 1)
            items[m++] = sh_intern_name(&st->depts, w * 64 + (uint32_t)__builtin_ctzll(bits));
    ss_sort_names(items, m);
    o->nitems += m;

    int64_t end = ss_end(&st->store, s);
    size_t i = o->n++;
    sh_value *v = o->vals[i];
    v[SS_F_USER_ID] = sh_v_int(s->key);
    v[SS_F_EVENT_COUNT] = sh_v_int(s->count);
    v[SS_F_CHECKOUT_COUNT] = sh_v_int(s->checkout);
    v[SS_F_DEPT_LIST].type = SH_STRLIST;
    v[SS_F_DEPT_LIST].u.l = (sh_strlist){.items = items, .n = (uint32_t)m};
    v[SS_F_EVENT_KEY] = sh_v_int(1);
    v[SS_F_BEGIN] = sh_v_int(s->start);
    v[SS_F_END] = sh_v_int(end);
    char *key = o->text[i], *id = o->text[i] + SS_ID_AT;
    int kl = snprintf(key, SS_ID_AT, "%" PRId64, s->key);
    int il = snprintf(id, sizeof o->text[i] - SS_ID_AT, "%" PRId64 "-%" PRId64, s->key, s->start);
    o->recs[i] = (sh_record){
        .schema = &st->out_schema,
        .time = end - 1,
        .key = {key, (size_t)kl},
        .id = {id, (size_t)il},
        .values = v,
        .slot = s->slot,
        .offset = s->min_offset,
    };
    return o->n == SS_OUT_BATCH ? ss_output_flush(st) : SH_OK;
}
