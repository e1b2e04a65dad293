/* test_property.c - random batches through the filter transform (issue
 * 11, property tests).  Each round runs six instances, one per operator,
 * with the same random literal on the same random batches, and checks:
 *   - no crash, no sanitizer report (`make test SANITIZE=1`);
 *   - nothing lost or invented: each instance emits exactly the records
 *     its expression holds for, unchanged and in order, and counts them;
 *   - the operators agree with each other (!= is the negation of ==;
 *     <= is < or ==; at most one of <, ==, > holds; a null value equals
 *     only null and has no order; NaN is unordered) and, where the meaning
 *     is plain (integers, doubles, strings bytewise, booleans), with an
 *     independent oracle;
 *   - a literal the field's type cannot be compared with, or a field the
 *     records lack, is refused (SH_FATAL), as are orderings on null/bools.
 * The seed is printed; SH_PROPTEST_SEED=N repeats a run,
 * SH_PROPTEST_ITERS=N sets the rounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "filter_expr.h"
#include "testhost.h"

const sh_plugin *streamhost_plugin_entry(uint32_t);

enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, NOPS };
static const char *const op_text[NOPS] = {"==", "!=", "<", "<=", ">", ">="};

/* The literal of a round, as text and as what it means. */
typedef struct literal {
    char text[160];
    fx_lit kind;
    int64_t i;
    double d;
    char s[64];
    size_t slen;
    int b;
} literal;

static const char *const words[] = {"laptops", "", "a\"b", "x\\y", "N/A", "zz"};

static void make_literal(literal *l, uint64_t *rng)
{
    static const int64_t ints[] = {0, 1, -1, 7, INT64_MAX, INT64_MIN, 1000};
    static const char *const doubles[] = {"1.5", "-0.0", "1e300", "-2.25", "0.1", "4503599627370497.0"};
    memset(l, 0, sizeof *l);
    switch (th_below(rng, 5)) {
    case 0:
        l->kind = FX_INT;
        l->i = th_below(rng, 4) ? ints[th_below(rng, 7)] : (int64_t)th_rand(rng);
        snprintf(l->text, sizeof l->text, "%lld", (long long)l->i);
        break;
    case 1: {
        l->kind = FX_DOUBLE;
        const char *d = doubles[th_below(rng, 6)];
        snprintf(l->text, sizeof l->text, "%s", d);
        l->d = strtod(d, NULL);
        break;
    }
    case 2: { /* quoted; the quote and the backslash escaped */
        l->kind = FX_STRING;
        const char *w = words[th_below(rng, 6)];
        char q = th_below(rng, 2) ? '"' : '\'';
        size_t o = 0;
        l->text[o++] = q;
        for (const char *p = w; *p; p++) {
            if (*p == q || *p == '\\')
                l->text[o++] = '\\';
            l->text[o++] = *p;
        }
        l->text[o++] = q;
        l->text[o] = '\0';
        l->slen = strlen(w);
        memcpy(l->s, w, l->slen);
        break;
    }
    case 3:
        l->kind = FX_BOOL;
        l->b = (int)th_below(rng, 2);
        snprintf(l->text, sizeof l->text, "%s", l->b ? "true" : "false");
        break;
    default:
        l->kind = FX_NULL;
        snprintf(l->text, sizeof l->text, "null");
    }
}

/* May a field of `type` be compared with the literal (the plugin's rule)? */
static int compatible(const literal *l, uint32_t type)
{
    switch (l->kind) {
    case FX_INT:
    case FX_DOUBLE: return type == SH_INT || type == SH_DOUBLE;
    case FX_STRING: return type == SH_STRING;
    case FX_BOOL: return type == SH_BOOL;
    default: return 1;
    }
}

static sh_value rand_value(testhost *th, uint64_t *rng, uint32_t type, const literal *l)
{
    static const double specials[] = {0.0, -0.0, 1.5, -2.25, 1e300, -1e300, 0.1, 4503599627370497.0};
    sh_value v = sh_v_null();
    if (th_below(rng, 8) == 0)
        return v;
    if (th_below(rng, 50) == 0)
        type = (uint32_t)th_below(rng, 6); /* a sender that breaks its own schema */
    switch (type) {
    case SH_INT:
        v = sh_v_int((int64_t)th_rand(rng));
        if (th_below(rng, 3) == 0) { /* at the literal or next to it */
            int64_t d = (int64_t)th_below(rng, 3) - 1;
            v.u.i = (d > 0 && l->i == INT64_MAX) || (d < 0 && l->i == INT64_MIN) ? l->i : l->i + d;
        }
        if (th_below(rng, 10) == 0)
            v.u.i = th_below(rng, 2) ? INT64_MAX : INT64_MIN;
        break;
    case SH_DOUBLE: {
        v.type = SH_DOUBLE;
        uint64_t k = th_below(rng, 10);
        v.u.d = k == 0 ? NAN : k == 1 ? INFINITY : k == 2 ? -INFINITY : k == 3 ? l->d
              : k < 7 ? specials[th_below(rng, 8)] : (double)(int64_t)th_rand(rng) / 1024.0;
        break;
    }
    case SH_STRING:
        if (th_below(rng, 3) == 0) {
            v = sh_v_str(l->s, l->slen);
        } else {
            sh_str s = th_rand_text(th, rng, words, sizeof words / sizeof words[0]);
            v = sh_v_str(s.ptr, s.len);
        }
        break;
    case SH_BOOL:
        v.type = SH_BOOL;
        v.u.b = th_below(rng, 4) == 0 ? 2 + (int)th_below(rng, 5) : (int)th_below(rng, 2); /* any nonzero is true */
        break;
    case SH_STRLIST:
        v.type = SH_STRLIST;
        v.u.l = (sh_strlist){NULL, 0};
        break;
    default: break;
    }
    return v;
}

static int cmp3(int c) { return (c > 0) - (c < 0); }

/* What `v OP literal` must be where the meaning is plain: -1 unknown,
 * else 0/1 for each op via the comparison c (-1, 0, 1; 2 unordered). */
static int oracle_cmp(const sh_value *v, const literal *l)
{
    if (v->type == SH_NULL)
        return l->kind == FX_NULL ? 0 : 2;
    if (l->kind == FX_NULL)
        return 2; /* not null: only != holds */
    if (v->type == SH_INT && l->kind == FX_INT)
        return (v->u.i > l->i) - (v->u.i < l->i);
    if (v->type == SH_DOUBLE && l->kind == FX_DOUBLE)
        return isnan(v->u.d) ? 2 : (v->u.d > l->d) - (v->u.d < l->d);
    if (v->type == SH_STRING && l->kind == FX_STRING) {
        size_t n = v->u.s.len < l->slen ? v->u.s.len : l->slen;
        int c = n ? memcmp(v->u.s.ptr, l->s, n) : 0;
        return c ? cmp3(c) : cmp3((v->u.s.len > l->slen) - (v->u.s.len < l->slen));
    }
    if (v->type == SH_BOOL && l->kind == FX_BOOL)
        return (v->u.b != 0) == (l->b != 0) ? 0 : 2; /* equal or not; no order */
    if (v->type == SH_STRLIST || (v->type == SH_STRING) != (l->kind == FX_STRING) ||
        (v->type == SH_BOOL) != (l->kind == FX_BOOL))
        return 2; /* incomparable values are equal to nothing */
    return -1;
}

static int holds(int op, int c)
{
    if (c == 2)
        return op == OP_NE;
    switch (op) {
    case OP_EQ: return c == 0;
    case OP_NE: return c != 0;
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    default: return c >= 0;
    }
}

static struct {
    uint64_t records, matched, refused, oracle;
} seen;

static void one_round(uint64_t *rng)
{
    literal lit;
    make_literal(&lit, rng);
    uint32_t type = (uint32_t)th_below(rng, 6);
    while (th_below(rng, 4) != 0 && !compatible(&lit, type)) /* mostly a field it can be compared with */
        type = (uint32_t)th_below(rng, 6);
    int missing = th_below(rng, 25) == 0;
    /* schema: the field among up to three others */
    sh_field fields[4];
    uint32_t nf = 1 + (uint32_t)th_below(rng, 4), at = (uint32_t)th_below(rng, nf);
    static const char *const others[] = {"userId", "eventCount", "deptList"};
    for (uint32_t i = 0, o = 0; i < nf; i++)
        fields[i] = i == at ? (sh_field){missing ? "other" : "f", type}
                            : (sh_field){others[o++], (uint32_t)th_below(rng, 6)};
    sh_schema schema = {"s", nf, fields};

    testhost *th[NOPS];
    int valid[NOPS];
    char where[256];
    for (int op = 0; op < NOPS; op++) {
        snprintf(where, sizeof where, "where=%sf%s%s%s%s", th_below(rng, 2) ? " " : "", th_below(rng, 2) ? " " : "",
                 op_text[op], th_below(rng, 2) ? "  " : "", lit.text);
        const char *kv[] = {where, NULL};
        th[op] = th_new(streamhost_plugin_entry(SH_ABI_VERSION), kv);
        assert_non_null(th[op]);
        sh_rc rc = th_init(th[op]);
        /* null and true/false have no order: refused at init */
        int orderless = (lit.kind == FX_NULL || lit.kind == FX_BOOL) && op != OP_EQ && op != OP_NE;
        assert_int_equal(rc, orderless ? SH_FATAL : SH_OK);
        valid[op] = rc == SH_OK;
        if (!valid[op]) {
            th_free(th[op]);
            th[op] = NULL;
        }
    }
    int ok_schema = !missing && compatible(&lit, type);
    uint64_t fed = 0;
    size_t nbatches = 1 + th_below(rng, 6);
    testhost *pool = th[OP_EQ]; /* owns the batch's scratch memory */
    for (size_t b = 0; b < nbatches; b++) {
        size_t n = th_below(rng, 5) == 0 ? 0 : 1 + th_below(rng, 150);
        sh_record *recs = th_scratch(pool, (n ? n : 1) * sizeof *recs);
        for (size_t i = 0; i < n; i++) {
            sh_value *v = th_scratch(pool, nf * sizeof *v);
            for (uint32_t k = 0; k < nf; k++)
                v[k] = rand_value(pool, rng, fields[k].type, &lit);
            recs[i] = (sh_record){.schema = &schema, .time = th_rand_time(rng, 0), .values = v,
                                  .slot = SH_NO_SLOT, .offset = (int64_t)(fed + i)};
        }
        size_t before[NOPS];
        for (int op = 0; op < NOPS; op++) {
            if (!valid[op])
                continue;
            before[op] = th_count(th[op]);
            sh_rc rc = th_process(th[op], 0, recs, n);
            assert_int_equal(rc, ok_schema || n == 0 ? SH_OK : SH_FATAL);
        }
        if (!ok_schema && n) {
            seen.refused++;
            break;
        }
        /* per record: what each instance did */
        size_t next[NOPS];
        for (int op = 0; op < NOPS; op++)
            next[op] = valid[op] ? before[op] : 0;
        for (size_t i = 0; i < n; i++) {
            int m[NOPS];
            for (int op = 0; op < NOPS; op++) {
                m[op] = -1;
                if (!valid[op])
                    continue;
                const th_rec *r = th_get(th[op], next[op]);
                m[op] = r && r->offset == recs[i].offset;
                if (m[op]) { /* passed on unchanged */
                    assert_int_equal(r->time, recs[i].time);
                    assert_ptr_equal(r->schema, &schema);
                    assert_int_equal(r->port, 0);
                    next[op]++;
                }
            }
            const sh_value *v = &recs[i].values[at];
            assert_int_equal(m[OP_EQ], !m[OP_NE]);
            if (valid[OP_LT]) {
                assert_int_equal(m[OP_LE], m[OP_LT] || m[OP_EQ]);
                assert_int_equal(m[OP_GE], m[OP_GT] || m[OP_EQ]);
                assert_true(m[OP_LT] + m[OP_EQ] + m[OP_GT] <= 1);
            }
            if (v->type == SH_NULL)
                assert_int_equal(m[OP_EQ], lit.kind == FX_NULL);
            int c = oracle_cmp(v, &lit);
            if (c != -1) {
                seen.oracle++;
                for (int op = 0; op < NOPS; op++)
                    if (valid[op] && m[op] != holds(op, c))
                        fail_msg("'%s %s' on a %s value: got %d, expected %d", op_text[op], lit.text,
                                 sh_type_name(v->type), m[op], holds(op, c));
            }
            seen.matched += (uint64_t)m[OP_EQ];
        }
        for (int op = 0; op < NOPS; op++)
            if (valid[op])
                assert_int_equal(next[op], th_count(th[op])); /* nothing emitted but the matches */
        fed += n;
        th_scratch_reset(pool);
    }
    for (int op = 0; op < NOPS; op++) {
        if (!valid[op])
            continue;
        if (ok_schema) {
            assert_int_equal(th_counter(th[op], "records_dropped_total"), fed - th_count(th[op]));
        }
        assert_int_equal(th_watermark_calls(th[op]), 0); /* stateless: the host forwards watermarks */
        th_free(th[op]);
    }
    seen.records += fed;
}

static void test_random_batches(void **unused)
{
    (void)unused;
    uint64_t rng = th_seed("filter property");
    int rounds = th_rounds(300);
    for (int i = 0; i < rounds; i++)
        one_round(&rng);
    fprintf(stderr, "filter property: %d rounds, %llu records x 6 operators, %llu equal, %llu checked by the oracle, "
            "%llu refused schemas\n", rounds, (unsigned long long)seen.records, (unsigned long long)seen.matched,
            (unsigned long long)seen.oracle, (unsigned long long)seen.refused);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
