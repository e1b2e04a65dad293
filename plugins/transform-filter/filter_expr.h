/* filter_expr.h - the `where` expression of the filter transform:
 * FIELD OP VALUE, parsed once at init and evaluated per record. */
#ifndef FILTER_EXPR_H
#define FILTER_EXPR_H

#include "streamhost/plugin.h"

typedef enum fx_op { FX_EQ, FX_NE, FX_LT, FX_LE, FX_GT, FX_GE } fx_op;
typedef enum fx_lit { FX_INT, FX_DOUBLE, FX_STRING, FX_BOOL, FX_NULL } fx_lit;

typedef struct fx_expr {
    char *field; /* malloc'd */
    fx_op op;
    fx_lit lit;
    int64_t i;
    double d;
    int b;
    char *s; /* malloc'd, unescaped */
    size_t slen;
} fx_expr;

/* Parse `text`; 0, or -1 with a reason in err (nothing to free then). */
int fx_parse(const char *text, fx_expr *out, char *err, size_t errlen);
void fx_free(fx_expr *e);

/* Can a field of declared type `type` be compared with the literal?  0, or
 * -1 with a reason in err. */
int fx_check_type(const fx_expr *e, uint32_t type, char *err, size_t errlen);

/* Does value `v` satisfy the expression?  A null value equals only null:
 * `!= x` is true for it and every ordering is false.  `!=` is always the
 * negation of `==`. */
int fx_match(const fx_expr *e, const sh_value *v);

#endif
