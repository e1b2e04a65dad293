/* dash_store.c - see dash_store.h.  A few hundred windows at most, so a
 * sorted array with binary search and memmove is all the structure needed:
 * documents arrive roughly in window order, and an insert in the middle
 * moves at most max_windows small structs. */
#include "dash_store.h"

#include <stdlib.h>
#include <string.h>

int dash_store_init(dash_store *s, int64_t window_ms, uint32_t max_windows, uint32_t max_depts)
{
    memset(s, 0, sizeof *s);
    s->window_ms = window_ms > 0 ? window_ms : 10000;
    s->max_windows = max_windows ? max_windows : 1;
    s->max_depts = max_depts;
    s->w = calloc(s->max_windows, sizeof *s->w);
    s->names = max_depts ? calloc(max_depts, sizeof *s->names) : NULL;
    if (!s->w || (max_depts && !s->names)) {
        dash_store_free(s);
        return -1;
    }
    return 0;
}

void dash_store_free(dash_store *s)
{
    for (uint32_t i = 0; i < s->nw; i++)
        free(s->w[i].depts);
    free(s->w);
    for (uint32_t i = 0; i < s->nnames; i++)
        free(s->names[i]);
    free(s->names);
    memset(s, 0, sizeof *s);
}

/* Position of field `name` if it has `type`, else -1. */
static int field_of(const sh_schema *sc, const char *name, uint32_t type)
{
    int i = sh_schema_field(sc, name);
    return i >= 0 && sc->fields[i].type == type ? i : -1;
}

static void classify(dash_schema *d, const sh_schema *sc)
{
    memset(d, 0, sizeof *d);
    d->schema = sc;
    d->kind = DASH_UNKNOWN;
    if (!sc || !sc->fields)
        return;
    d->f_end = field_of(sc, "windowEndTime", SH_INT);
    d->f_begin = field_of(sc, "windowBeginTime", SH_INT);
    if (d->f_end < 0)
        return;
    d->f_count = field_of(sc, "userSessionCount", SH_INT);
    d->f_with = field_of(sc, "userSessionCountWithOrderCheckout", SH_INT);
    d->f_percent = field_of(sc, "percentSessionswithBuy", SH_INT);
    d->f_name = field_of(sc, "departmentName", SH_STRING);
    d->f_dcount = field_of(sc, "departmentCount", SH_INT);
    d->f_checkout = field_of(sc, "orderCheckoutEventCount", SH_INT);
    if (d->f_count >= 0 && d->f_with >= 0 && d->f_percent >= 0)
        d->kind = DASH_COUNTS;
    else if (d->f_name >= 0 && d->f_dcount >= 0)
        d->kind = DASH_DEPTS;
    else if (d->f_checkout >= 0)
        d->kind = DASH_SESSIONS;
}

const dash_schema *dash_store_schema(dash_store *s, const sh_schema *schema, int *is_new)
{
    *is_new = 0;
    for (uint32_t i = 0; i < s->nschemas; i++)
        if (s->schemas[i].schema == schema)
            return &s->schemas[i];
    *is_new = 1;
    if (s->nschemas == DASH_MAX_SCHEMAS) { /* more schemas than any pipeline has: no caching */
        classify(&s->uncached, schema);
        return &s->uncached;
    }
    dash_schema *d = &s->schemas[s->nschemas++];
    classify(d, schema);
    return d;
}

int dash_window_end(int64_t session_end, int64_t size, int64_t *end)
{
    if (size <= 0 || session_end == INT64_MIN)
        return -1;
    int64_t t = session_end - 1;
    int64_t m = t % size;
    if (m < 0)
        m += size;
    int64_t start;
    if (__builtin_sub_overflow(t, m, &start) || __builtin_add_overflow(start, size, end))
        return -1;
    return 0;
}

/* The value of field `f` of `r` when it is an INT; 0 (ignore) otherwise. */
static int int_at(const sh_record *r, int f, int64_t *out)
{
    if (f < 0 || (uint32_t)f >= r->schema->nfields || !r->values)
        return 0;
    const sh_value *v = &r->values[f];
    if (v->type != SH_INT)
        return 0;
    *out = v->u.i;
    return 1;
}

/* The window ending at `end`, created when missing; NULL when the store is
 * full and `end` is older than every window kept. */
static dash_window *window_at(dash_store *s, int64_t end)
{
    uint32_t lo = 0, hi = s->nw;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->w[mid].end < end)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->nw && s->w[lo].end == end)
        return &s->w[lo];
    if (s->nw == s->max_windows) {
        if (lo == 0) { /* older than everything kept */
            s->dropped_old++;
            return NULL;
        }
        free(s->w[0].depts); /* evict the oldest */
        memmove(&s->w[0], &s->w[1], (size_t)(lo - 1) * sizeof *s->w);
        lo--;
    } else {
        memmove(&s->w[lo + 1], &s->w[lo], (size_t)(s->nw - lo) * sizeof *s->w);
        s->nw++;
    }
    dash_window *w = &s->w[lo];
    memset(w, 0, sizeof *w);
    w->end = end;
    w->begin = end > INT64_MIN + s->window_ms ? end - s->window_ms : end;
    return w;
}

/* Id of department `name`, interned on first sight; -1 when the table is
 * full or the name is too long. */
static int64_t dept_id(dash_store *s, sh_str name)
{
    if (name.len > DASH_NAME_MAX || (name.len && !name.ptr))
        return -1;
    for (uint32_t i = 0; i < s->nnames; i++)
        if (strlen(s->names[i]) == name.len && memcmp(s->names[i], name.ptr, name.len) == 0)
            return i;
    if (s->nnames == s->max_depts)
        return -1;
    /* A NUL inside the name would cut it: keep such names apart by refusing them. */
    if (name.len && memchr(name.ptr, '\0', name.len))
        return -1;
    char *copy = malloc(name.len + 1);
    if (!copy)
        return -1;
    if (name.len)
        memcpy(copy, name.ptr, name.len);
    copy[name.len] = '\0';
    s->names[s->nnames] = copy;
    return s->nnames++;
}

static int add_counts(dash_store *s, const dash_schema *d, const sh_record *r)
{
    int64_t end, n, with, pct, begin;
    if (!int_at(r, d->f_end, &end) || !int_at(r, d->f_count, &n) || !int_at(r, d->f_with, &with) ||
        !int_at(r, d->f_percent, &pct))
        return 0;
    dash_window *w = window_at(s, end);
    if (!w)
        return 0;
    if (int_at(r, d->f_begin, &begin))
        w->begin = begin;
    /* a replayed document overwrites, as it does in an index */
    w->has_counts = 1;
    w->sessions = n;
    w->with_checkout = with;
    w->percent = pct;
    return 1;
}

static int add_dept(dash_store *s, const dash_schema *d, const sh_record *r)
{
    int64_t end, count;
    if (!int_at(r, d->f_end, &end) || !int_at(r, d->f_dcount, &count))
        return 0;
    const sh_value *nv = &r->values[d->f_name];
    if (nv->type != SH_STRING)
        return 0;
    int64_t id = dept_id(s, nv->u.s);
    if (id < 0) {
        s->dropped_depts++;
        return 0;
    }
    dash_window *w = window_at(s, end);
    if (!w)
        return 0;
    for (uint32_t i = 0; i < w->ndepts; i++)
        if (w->depts[i].id == (uint32_t)id) {
            w->depts[i].count = count; /* overwrite, as an index does */
            return 1;
        }
    if (w->ndepts == w->capdepts) {
        uint32_t cap = w->capdepts ? w->capdepts * 2 : 8;
        dash_dept *p = realloc(w->depts, cap * sizeof *p);
        if (!p)
            return 0;
        w->depts = p;
        w->capdepts = cap;
    }
    w->depts[w->ndepts++] = (dash_dept){(uint32_t)id, count};
    return 1;
}

static int add_session(dash_store *s, const dash_schema *d, const sh_record *r)
{
    int64_t sess_end, checkout, end;
    if (!int_at(r, d->f_end, &sess_end) || !int_at(r, d->f_checkout, &checkout) ||
        dash_window_end(sess_end, s->window_ms, &end) != 0)
        return 0;
    dash_window *w = window_at(s, end);
    if (!w)
        return 0;
    int64_t sum;
    if (__builtin_add_overflow(w->checkout_sum, checkout, &sum))
        return 0;
    w->checkout_sum = sum;
    w->checkout_n++;
    return 1;
}

int dash_store_add(dash_store *s, const sh_record *r)
{
    int is_new;
    s->records++;
    if (!r || !r->schema) {
        s->ignored++;
        return 0;
    }
    const dash_schema *d = dash_store_schema(s, r->schema, &is_new);
    int ok = 0;
    if (r->values) {
        switch (d->kind) {
        case DASH_COUNTS: ok = add_counts(s, d, r); break;
        case DASH_DEPTS: ok = add_dept(s, d, r); break;
        case DASH_SESSIONS: ok = add_session(s, d, r); break;
        default: break;
        }
    }
    if (ok)
        s->version++;
    else
        s->ignored++;
    return ok;
}

void dash_store_json(const dash_store *s, sh_buf *b, const char *extra)
{
    sh_buf_putc(b, '{');
    if (extra && *extra) {
        sh_buf_puts(b, extra);
        sh_buf_putc(b, ',');
    }
    sh_buf_puts(b, "\"version\":");
    sh_buf_int(b, (int64_t)s->version);
    sh_buf_puts(b, ",\"windowMs\":");
    sh_buf_int(b, s->window_ms);
    sh_buf_puts(b, ",\"maxWindows\":");
    sh_buf_int(b, s->max_windows);
    sh_buf_puts(b, ",\"records\":");
    sh_buf_int(b, (int64_t)s->records);
    sh_buf_puts(b, ",\"ignored\":");
    sh_buf_int(b, (int64_t)s->ignored);
    sh_buf_puts(b, ",\"departments\":[");
    for (uint32_t i = 0; i < s->nnames; i++) {
        if (i)
            sh_buf_putc(b, ',');
        sh_json_str(b, s->names[i], strlen(s->names[i]));
    }
    sh_buf_puts(b, "],\"windows\":[");
    for (uint32_t i = 0; i < s->nw; i++) {
        const dash_window *w = &s->w[i];
        if (i)
            sh_buf_putc(b, ',');
        sh_buf_puts(b, "{\"end\":");
        sh_buf_int(b, w->end);
        sh_buf_puts(b, ",\"begin\":");
        sh_buf_int(b, w->begin);
        sh_buf_puts(b, ",\"counts\":");
        if (w->has_counts) {
            sh_buf_puts(b, "{\"sessions\":");
            sh_buf_int(b, w->sessions);
            sh_buf_puts(b, ",\"withCheckout\":");
            sh_buf_int(b, w->with_checkout);
            sh_buf_puts(b, ",\"percent\":");
            sh_buf_int(b, w->percent);
            sh_buf_putc(b, '}');
        } else {
            sh_buf_puts(b, "null");
        }
        sh_buf_puts(b, ",\"checkout\":");
        if (w->checkout_n) {
            sh_buf_puts(b, "{\"sum\":");
            sh_buf_int(b, w->checkout_sum);
            sh_buf_puts(b, ",\"sessions\":");
            sh_buf_int(b, w->checkout_n);
            sh_buf_putc(b, '}');
        } else {
            sh_buf_puts(b, "null");
        }
        sh_buf_puts(b, ",\"departments\":[");
        for (uint32_t j = 0; j < w->ndepts; j++) {
            if (j)
                sh_buf_putc(b, ',');
            sh_buf_putc(b, '[');
            sh_buf_int(b, w->depts[j].id);
            sh_buf_putc(b, ',');
            sh_buf_int(b, w->depts[j].count);
            sh_buf_putc(b, ']');
        }
        sh_buf_puts(b, "]}");
    }
    sh_buf_puts(b, "]}");
}
