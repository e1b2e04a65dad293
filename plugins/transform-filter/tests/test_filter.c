/* test_filter.c - the filter transform: parsing `where`, every operator and
 * value type, null handling, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "filter_expr.h"
#include "testhost.h"

const sh_plugin *streamhost_plugin_entry(uint32_t);

enum { F_I, F_D, F_S, F_B, F_L, NF };
static const sh_field fields[NF] = {
    {"i", SH_INT}, {"d", SH_DOUBLE}, {"s", SH_STRING}, {"b", SH_BOOL}, {"l", SH_STRLIST}};
static const sh_schema schema = {"things", NF, fields};

/* Rows: i, d, s, b (the list is always null). */
typedef struct row {
    int64_t i;
    double d;
    const char *s;
    int b;
    int null_all;
} row;

static const row rows[] = {
    {-5, -0.5, "apple", 0, 0},
    {0, 0.0, "", 1, 0},
    {3, 2.5, "banana", 1, 0},
    {10, 10.0, "Banana", 0, 0},
    {0, 0, NULL, 0, 1}, /* every field null */
};
#define NROWS (sizeof rows / sizeof rows[0])

/* Runs the filter on all rows; returns a bitmask of the rows passed. */
static unsigned run(const char *where)
{
    char kv[256];
    snprintf(kv, sizeof kv, "where=%s", where);
    const char *cfg[] = {kv, NULL};
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), cfg);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_OK);
    sh_value vals[NROWS][NF];
    sh_record recs[NROWS];
    for (size_t r = 0; r < NROWS; r++) {
        const row *w = &rows[r];
        if (w->null_all) {
            for (int f = 0; f < NF; f++)
                vals[r][f] = sh_v_null();
        } else {
            vals[r][F_I] = sh_v_int(w->i);
            vals[r][F_D].type = SH_DOUBLE;
            vals[r][F_D].u.d = w->d;
            vals[r][F_S] = sh_v_str(w->s, strlen(w->s));
            vals[r][F_B].type = SH_BOOL;
            vals[r][F_B].u.b = w->b;
            vals[r][F_L] = sh_v_null();
        }
        recs[r] = (sh_record){.schema = &schema, .time = (int64_t)r, .values = vals[r],
                              .slot = 0, .offset = (int64_t)r};
    }
    assert_int_equal(th_process(th, 0, recs, NROWS), SH_OK);
    unsigned mask = 0;
    for (size_t k = 0; k < th_count(th); k++)
        mask |= 1u << th_get(th, k)->offset;
    assert_int_equal(th_counter(th, "records_dropped_total"), NROWS - th_count(th));
    th_free(th);
    return mask;
}

#define R(n) (1u << (n))

static void test_int_operators(void **unused)
{
    assert_int_equal(run("i == 0"), R(1));
    assert_int_equal(run("i != 0"), R(0) | R(2) | R(3) | R(4));
    assert_int_equal(run("i < 3"), R(0) | R(1));
    assert_int_equal(run("i <= 3"), R(0) | R(1) | R(2));
    assert_int_equal(run("i > 3"), R(3));
    assert_int_equal(run("i >= 3"), R(2) | R(3));
    assert_int_equal(run("i>-5"), R(1) | R(2) | R(3));
    assert_int_equal(run("i >= 2.5"), R(2) | R(3)); /* int field, double value */
}

static void test_double_operators(void **unused)
{
    assert_int_equal(run("d == 2.5"), R(2));
    assert_int_equal(run("d != 10"), R(0) | R(1) | R(2) | R(4));
    assert_int_equal(run("d < 0"), R(0));
    assert_int_equal(run("d <= 0"), R(0) | R(1));
    assert_int_equal(run("d > 2.5"), R(3));
    assert_int_equal(run("d >= 1e1"), R(3));
}

static void test_string_operators(void **unused)
{
    assert_int_equal(run("s == 'banana'"), R(2));
    assert_int_equal(run("s == \"\""), R(1));
    assert_int_equal(run("s != \"banana\""), R(0) | R(1) | R(3) | R(4));
    assert_int_equal(run("s < 'b'"), R(0) | R(1) | R(3)); /* bytewise: 'B' < 'a' */
    assert_int_equal(run("s <= 'apple'"), R(0) | R(1) | R(3));
    assert_int_equal(run("s > 'apple'"), R(2));
    assert_int_equal(run("s >= 'ban'"), R(2));
}

static void test_bool_and_null(void **unused)
{
    assert_int_equal(run("b == true"), R(1) | R(2));
    assert_int_equal(run("b != true"), R(0) | R(3) | R(4));
    assert_int_equal(run("b == false"), R(0) | R(3));
    assert_int_equal(run("i == null"), R(4));
    assert_int_equal(run("s != null"), R(0) | R(1) | R(2) | R(3));
    assert_int_equal(run("l == null"), 0x1f); /* lists compare with null only */
    assert_int_equal(run("l != null"), 0);
    /* a null value: != anything but null, no ordering */
    assert_int_equal(run("i < 100") & R(4), 0);
    assert_int_equal(run("i >= -100") & R(4), 0);
    assert_int_equal(run("i != 100") & R(4), R(4));
}

static void test_passes_unchanged(void **unused)
{
    const char *cfg[] = {"where=orderCheckoutEventCount != 0", NULL};
    static const sh_field f[] = {{"userId", SH_INT}, {"orderCheckoutEventCount", SH_INT}};
    static const sh_schema s = {"user_session_details", 2, f};
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), cfg);
    assert_int_equal(th_init(th), SH_OK);
    sh_value v[3][2] = {{sh_v_int(1), sh_v_int(4)}, {sh_v_int(2), sh_v_int(0)},
                        {sh_v_int(3), sh_v_int(1)}};
    sh_record r[3];
    for (int i = 0; i < 3; i++)
        r[i] = (sh_record){.schema = &s, .time = 100 + i, .key = {"k", 1}, .id = {"id", 2},
                           .values = v[i], .slot = 2, .offset = 40 + i};
    assert_int_equal(th_process(th, 0, r, 3), SH_OK);
    assert_int_equal(th_count(th), 2);
    const th_rec *a = th_get(th, 0), *b = th_get(th, 1);
    assert_ptr_equal(a->schema, &s);
    assert_int_equal(a->port, 0);
    assert_int_equal(a->time, 100);
    assert_string_equal(a->key, "k");
    assert_string_equal(a->id, "id");
    assert_int_equal(a->slot, 2);
    assert_int_equal(a->offset, 40);
    assert_int_equal(th_int(a, "userId"), 1);
    assert_int_equal(th_int(b, "userId"), 3);
    /* an empty batch and a batch with no match emit nothing */
    assert_int_equal(th_process(th, 0, r, 0), SH_OK);
    assert_int_equal(th_process(th, 0, &r[1], 1), SH_OK);
    assert_int_equal(th_count(th), 2);
    th_free(th);
}

static void test_parse(void **unused)
{
    fx_expr e;
    char err[256];
    assert_int_equal(fx_parse("  a.b_c   <=   -12  ", &e, err, sizeof err), 0);
    assert_string_equal(e.field, "a.b_c");
    assert_int_equal(e.op, FX_LE);
    assert_int_equal(e.lit, FX_INT);
    assert_int_equal(e.i, -12);
    fx_free(&e);
    assert_int_equal(fx_parse("x=='it\\'s \\\\ ok' ", &e, err, sizeof err), 0);
    assert_int_equal(e.lit, FX_STRING);
    assert_string_equal(e.s, "it's \\ ok");
    fx_free(&e);
    assert_int_equal(fx_parse("x != 'a == b'", &e, err, sizeof err), 0);
    assert_string_equal(e.s, "a == b");
    fx_free(&e);
    assert_int_equal(fx_parse("x > 1.5e3", &e, err, sizeof err), 0);
    assert_int_equal(e.lit, FX_DOUBLE);
    assert_true(e.d == 1500.0);
    fx_free(&e);
    assert_int_equal(fx_parse("x > 99999999999999999999", &e, err, sizeof err), 0);
    assert_int_equal(e.lit, FX_DOUBLE); /* beyond int64: compared as double */
    fx_free(&e);
}

static void test_parse_errors(void **unused)
{
    static const struct { const char *text, *reason; } bad[] = {
        {"", "field name is missing"},
        {"   ", "field name is missing"},
        {"== 1", "field name is missing"},
        {"a", "expected an operator"},
        {"a = 1", "expected an operator"},
        {"a =< 1", "expected an operator"},
        {"a ==", "value is missing"},
        {"a == abc", "cannot read the value 'abc'"},
        {"a == 1 2", "cannot read the value '1 2'"},
        {"a == nan", "cannot read the value"},
        {"a == 'open", "no closing '"},
        {"a == \"open", "no closing \""},
        {"a == 'x' y", "unexpected 'y'"},
        {"a < null", "null can only be compared with == or !="},
        {"a >= true", "true/false can only be compared"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_expr e;
        char err[256] = "";
        if (fx_parse(bad[i].text, &e, err, sizeof err) == 0)
            fail_msg("'%s' parsed", bad[i].text);
        if (!strstr(err, bad[i].reason))
            fail_msg("'%s': got '%s', want '%s'", bad[i].text, err, bad[i].reason);
    }
}

/* A bad expression fails init; a field that is absent or of the wrong type
 * fails the first record of that schema. */
static void test_plugin_errors(void **unused)
{
    const char *bad[] = {"where=i ~ 3", NULL};
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), bad);
    assert_int_equal(th_init(th), SH_FATAL);
    th_free(th);
    assert_null(th_new(streamhost_plugin_entry(SH_ABI_VERSION), NULL)); /* required */

    sh_value v[NF] = {sh_v_int(1), sh_v_null(), sh_v_str("x", 1), sh_v_null(), sh_v_null()};
    sh_record r = {.schema = &schema, .values = v};
    const char *wrong[][2] = {{"where=nope == 1", NULL}, {"where=s == 1", NULL},
                              {"where=i == 'x'", NULL},  {"where=b == 1", NULL},
                              {"where=l == 'x'", NULL},  {"where=i == true", NULL}};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), wrong[i]);
        assert_int_equal(th_init(th), SH_OK);
        assert_int_equal(th_process(th, 0, &r, 1), SH_FATAL);
        th_free(th);
    }
}

/* validate() (`streamhost check`) refuses a malformed `where`.  Whether
 * FIELD exists is known only from the records (test_plugin_errors). */
static void test_validate(void **unused)
{
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    assert_non_null(p->validate);
    static const char *const bad[][2] = {{"where=i ~ 3", NULL}, {"where=i == 'x", NULL}, {"where=i < null", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        testhost *th = th_new(p, bad[i]);
        assert_non_null(th);
        assert_int_equal(p->validate(th_host(th), th_ctx(th)), SH_FATAL);
        th_free(th);
    }
    /* an empty `where` (a required key) is refused by the host's config
     * check before the plugin sees it */
    static const char *const empty[] = {"where=", NULL};
    assert_null(th_new(p, empty));
    const char *good[] = {"where=s == 'a;b'", NULL};
    testhost *th = th_new(p, good);
    assert_int_equal(p->validate(th_host(th), th_ctx(th)), SH_OK);
    th_free(th);
}

static void test_descriptor(void **unused)
{
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    assert_string_equal(p->name, "filter");
    assert_int_equal(p->kind, SH_TRANSFORM);
    assert_null(p->watermark); /* the host forwards watermarks */
    assert_null(p->outputs);
    assert_string_equal(p->config[0].name, "where");
    assert_true(p->config[0].required);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_operators),
        cmocka_unit_test(test_double_operators),
        cmocka_unit_test(test_string_operators),
        cmocka_unit_test(test_bool_and_null),
        cmocka_unit_test(test_passes_unchanged),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_plugin_errors),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
