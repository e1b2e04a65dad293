/* tumble_output.c - the window documents (docs/semantics.md section 5), built in
 * buffers reused across calls and emitted in batches. */
#include "tumble.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const sh_field tb_counts_fields[TB_C_NFIELDS] = {
    [TB_C_COUNT] = {"userSessionCount", SH_INT},
    [TB_C_WITH_CHECKOUT] = {"userSessionCountWithOrderCheckout", SH_INT},
    [TB_C_PERCENT] = {"percentSessionswithBuy", SH_INT},
    [TB_C_BEGIN] = {"windowBeginTime", SH_INT},
    [TB_C_END] = {"windowEndTime", SH_INT},
};

const sh_field tb_depts_fields[TB_D_NFIELDS] = {
    [TB_D_NAME] = {"departmentName", SH_STRING},
    [TB_D_COUNT] = {"departmentCount", SH_INT},
    [TB_D_BEGIN] = {"windowBeginTime", SH_INT},
    [TB_D_END] = {"windowEndTime", SH_INT},
};

void tb_output_free(tb_output *o)
{
    free(o->text);
    o->text = NULL;
    o->text_len = o->text_cap = 0;
}

sh_rc tb_output_flush(tb_state *st)
{
    tb_output *o = &st->out;
    if (!o->n)
        return SH_OK;
    sh_rc rc = st->host->emit(st->ctx, 0, o->recs, o->n);
    o->n = 0;
    o->text_len = 0;
    return rc;
}

/* Room for `need` bytes of id text; flushes first rather than moving text
 * that queued records point into. */
static sh_rc tb_text_room(tb_state *st, size_t need)
{
    tb_output *o = &st->out;
    if (o->n == TB_OUT_BATCH || o->text_len + need > o->text_cap) {
        sh_rc rc = tb_output_flush(st);
        if (rc != SH_OK)
            return rc;
    }
    if (need > o->text_cap) {
        size_t cap = o->text_cap ? o->text_cap : 16384;
        while (cap < need)
            cap *= 2;
        char *t = realloc(o->text, cap);
        if (!t) {
            st->host->log(st->ctx, SH_LOG_ERROR, "out of memory for document ids");
            return SH_FATAL;
        }
        o->text = t;
        o->text_cap = cap;
    }
    return SH_OK;
}

/* windowEndTime, saturating for windows at the very end of time */
static int64_t tb_end(const tb_state *st, const tb_window *w)
{
    int64_t last = tb_window_last(st, w->start);
    return last == INT64_MAX ? INT64_MAX : last + 1;
}

static sh_record *tb_next(tb_state *st, const sh_schema *schema, const tb_window *w,
                          size_t id_at, size_t id_len)
{
    tb_output *o = &st->out;
    size_t i = o->n++;
    sh_str id = {o->text + id_at, id_len};
    o->recs[i] = (sh_record){
        .schema = schema,
        .time = tb_window_last(st, w->start),
        .key = id,
        .id = id,
        .values = o->vals[i],
        .slot = SH_NO_SLOT, /* derived from many slots */
        .offset = 0,
    };
    return &o->recs[i];
}

sh_rc tb_output_counts(tb_state *st, const tb_window *w)
{
    sh_rc rc = tb_text_room(st, 24);
    if (rc != SH_OK)
        return rc;
    tb_output *o = &st->out;
    size_t at = o->text_len;
    int len = snprintf(o->text + at, 24, "%" PRId64, w->start);
    o->text_len += (size_t)len;
    sh_value *v = o->vals[o->n];
    int64_t pct = w->sessions ? (int64_t)(w->with_checkout * 100 / w->sessions) : 0;
    v[TB_C_COUNT] = sh_v_int((int64_t)w->sessions);
    v[TB_C_WITH_CHECKOUT] = sh_v_int((int64_t)w->with_checkout);
    v[TB_C_PERCENT] = sh_v_int(pct); /* floor: integer division */
    v[TB_C_BEGIN] = sh_v_int(w->start);
    v[TB_C_END] = sh_v_int(tb_end(st, w));
    tb_next(st, &st->counts_schema, w, at, (size_t)len);
    (*st->counts_out)++;
    return o->n == TB_OUT_BATCH ? tb_output_flush(st) : SH_OK;
}

sh_rc tb_output_dept(tb_state *st, const tb_window *w, sh_str name, uint32_t count)
{
    sh_rc rc = tb_text_room(st, name.len + 24);
    if (rc != SH_OK)
        return rc;
    tb_output *o = &st->out;
    size_t at = o->text_len;
    if (name.len)
        memcpy(o->text + at, name.ptr, name.len);
    int len = snprintf(o->text + at + name.len, 24, "-%" PRId64, w->start);
    size_t id_len = name.len + (size_t)len;
    o->text_len += id_len;
    sh_value *v = o->vals[o->n];
    v[TB_D_NAME] = sh_v_str(name.ptr, name.len);
    v[TB_D_COUNT] = sh_v_int(count);
    v[TB_D_BEGIN] = sh_v_int(w->start);
    v[TB_D_END] = sh_v_int(tb_end(st, w));
    tb_next(st, &st->depts_schema, w, at, id_len);
    (*st->departments_out)++;
    return o->n == TB_OUT_BATCH ? tb_output_flush(st) : SH_OK;
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
            st->sorted[n++] = (tb_dept_count){sh_intern_name(&st->names, id), w->dept_counts[id]};
    if (n > 1)
        qsort(st->sorted, n, sizeof *st->sorted, tb_dept_cmp);
    for (size_t i = 0; i < n; i++) {
        rc = tb_output_dept(st, w, st->sorted[i].name, st->sorted[i].count);
        if (rc != SH_OK)
            return rc;
    }
    return SH_OK;
}
