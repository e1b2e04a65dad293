/* filter_expr.c - parsing and evaluating `where = FIELD OP VALUE`. */
#include "filter_expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *fx_skip(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

__attribute__((format(printf, 3, 4)))
static int fx_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Reads an operator at p; returns its length, 0 if none. */
static size_t fx_read_op(const char *p, fx_op *op)
{
    static const struct { const char *s; fx_op op; } ops[] = {
        {"==", FX_EQ}, {"!=", FX_NE}, {"<=", FX_LE}, {">=", FX_GE},
        {"<", FX_LT},  {">", FX_GT},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].s);
        if (strncmp(p, ops[i].s, n) == 0) {
            *op = ops[i].op;
            return n;
        }
    }
    return 0;
}

/* A quoted string ('...' or "..."), backslash escapes the quote and itself. */
static int fx_read_string(const char *p, fx_expr *e, char *err, size_t errlen)
{
    char q = *p++;
    size_t cap = strlen(p) + 1;
    e->s = malloc(cap);
    if (!e->s)
        return fx_fail(err, errlen, "%s", "out of memory");
    size_t n = 0;
    for (;; p++) {
        if (!*p) {
            free(e->s);
            e->s = NULL;
            return fx_fail(err, errlen, "the string has no closing %s", q == '"' ? "\"" : "'");
        }
        if (*p == q)
            break;
        if (*p == '\\' && (p[1] == q || p[1] == '\\'))
            p++;
        e->s[n++] = *p;
    }
    e->s[n] = '\0';
    e->slen = n;
    if (*fx_skip(p + 1)) {
        free(e->s);
        e->s = NULL;
        return fx_fail(err, errlen, "unexpected '%s' after the string", fx_skip(p + 1));
    }
    e->lit = FX_STRING;
    return 0;
}

static int fx_read_value(const char *p, fx_expr *e, char *err, size_t errlen)
{
    if (*p == '"' || *p == '\'')
        return fx_read_string(p, e, err, errlen);
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    char tok[128];
    if (n == 0)
        return fx_fail(err, errlen, "%s", "the value is missing");
    if (n >= sizeof tok)
        return fx_fail(err, errlen, "%s", "the value is too long (quote strings)");
    memcpy(tok, p, n);
    tok[n] = '\0';
    if (strcmp(tok, "true") == 0 || strcmp(tok, "false") == 0) {
        e->lit = FX_BOOL;
        e->b = tok[0] == 't';
        return 0;
    }
    if (strcmp(tok, "null") == 0) {
        e->lit = FX_NULL;
        return 0;
    }
    char *end;
    errno = 0;
    long long i = strtoll(tok, &end, 10);
    if (*end == '\0' && errno == 0) {
        e->lit = FX_INT;
        e->i = i;
        return 0;
    }
    errno = 0;
    double d = strtod(tok, &end);
    if (*end == '\0' && errno == 0 && isfinite(d) && end != tok) {
        e->lit = FX_DOUBLE;
        e->d = d;
        return 0;
    }
    return fx_fail(err, errlen,
                   "cannot read the value '%s': expected a number, a quoted "
                   "string, true, false or null", tok);
}

int fx_parse(const char *text, fx_expr *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *p = fx_skip(text ? text : "");
    const char *f = p;
    while (*p && *p != ' ' && *p != '\t' && !strchr("=!<>", *p))
        p++;
    if (p == f)
        return fx_fail(err, errlen, "%s", "the field name is missing");
    size_t flen = (size_t)(p - f);
    p = fx_skip(p);
    size_t oplen = fx_read_op(p, &out->op);
    if (!oplen)
        return fx_fail(err, errlen, "%s", "expected an operator (== != < <= > >=) after the field");
    p = fx_skip(p + oplen);
    if (fx_read_value(p, out, err, errlen) != 0)
        return -1;
    if ((out->lit == FX_NULL || out->lit == FX_BOOL) && out->op != FX_EQ && out->op != FX_NE) {
        fx_free(out);
        return fx_fail(err, errlen, "%s can only be compared with == or !=",
                       out->lit == FX_NULL ? "null" : "true/false");
    }
    out->field = malloc(flen + 1);
    if (!out->field) {
        fx_free(out);
        return fx_fail(err, errlen, "%s", "out of memory");
    }
    memcpy(out->field, f, flen);
    out->field[flen] = '\0';
    return 0;
}

void fx_free(fx_expr *e)
{
    free(e->field);
    free(e->s);
    e->field = e->s = NULL;
}

int fx_check_type(const fx_expr *e, uint32_t type, char *err, size_t errlen)
{
    int ok;
    switch (e->lit) {
    case FX_INT:
    case FX_DOUBLE: ok = type == SH_INT || type == SH_DOUBLE; break;
    case FX_STRING: ok = type == SH_STRING; break;
    case FX_BOOL: ok = type == SH_BOOL; break;
    default: ok = 1; break; /* null: any type */
    }
    if (ok)
        return 0;
    static const char *with[] = {
        [SH_NULL] = "null", [SH_INT] = "a number", [SH_DOUBLE] = "a number",
        [SH_STRING] = "a quoted string or null", [SH_BOOL] = "true, false or null",
        [SH_STRLIST] = "null only"};
    static const char *is[] = {
        [SH_NULL] = "NULL", [SH_INT] = "INT", [SH_DOUBLE] = "DOUBLE",
        [SH_STRING] = "STRING", [SH_BOOL] = "BOOL", [SH_STRLIST] = "STRLIST"};
    int known = type <= SH_STRLIST;
    snprintf(err, errlen, "field '%s' is %s: compare it with %s", e->field,
             known ? is[type] : "of unknown type", known ? with[type] : "null");
    return -1;
}

/* -1, 0, 1 as a <, ==, > b; 2 when unordered (NaN). */
static int fx_cmp_double(double a, double b)
{
    if (a < b)
        return -1;
    if (a > b)
        return 1;
    return a == b ? 0 : 2;
}

static int fx_cmp_str(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return (an > bn) - (an < bn);
}

static int fx_holds(fx_op op, int c)
{
    if (c == 2) /* unordered or incomparable */
        return op == FX_NE;
    switch (op) {
    case FX_EQ: return c == 0;
    case FX_NE: return c != 0;
    case FX_LT: return c < 0;
    case FX_LE: return c <= 0;
    case FX_GT: return c > 0;
    case FX_GE: return c >= 0;
    }
    return 0;
}

int fx_match(const fx_expr *e, const sh_value *v)
{
    if (e->lit == FX_NULL)
        return (v->type == SH_NULL) == (e->op == FX_EQ);
    int c = 2;
    switch (v->type) {
    case SH_INT:
        if (e->lit == FX_INT)
            c = (v->u.i > e->i) - (v->u.i < e->i);
        else if (e->lit == FX_DOUBLE)
            c = fx_cmp_double((double)v->u.i, e->d);
        break;
    case SH_DOUBLE:
        if (e->lit == FX_INT || e->lit == FX_DOUBLE)
            c = fx_cmp_double(v->u.d, e->lit == FX_INT ? (double)e->i : e->d);
        break;
    case SH_STRING:
        if (e->lit == FX_STRING)
            c = fx_cmp_str(v->u.s.ptr, v->u.s.len, e->s, e->slen);
        break;
    case SH_BOOL:
        if (e->lit == FX_BOOL)
            c = (v->u.b != 0) == (e->b != 0) ? 0 : 1;
        break;
    default: /* null, lists: equal to nothing but null */
        break;
    }
    return fx_holds(e->op, c);
}
