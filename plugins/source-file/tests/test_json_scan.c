/* test_json_scan.c - the fast path of the JSON-lines decoder (json_scan.c)
 * held to jansson's path, case by case: every line is decoded by both, and
 * the scanner's verdict (JS_OK, JS_INVALID, or JS_UNSURE: left to jansson)
 * is the one expected, with jansson agreeing: same values when accepted,
 * rejected when the scanner rejects; jr_decode gives jansson's reason.
 * Escapes, surrogate pairs, bad UTF-8, numbers at the range edges,
 * exponents, nested values skipped, every truncation of valid lines,
 * whitespace, duplicate keys, types, defaults; then the plugin replaying
 * such lines through the test kit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_source.h"
#include "json_record.h"
#include "json_scan.h"
#include "testhost.h"

const sh_plugin *streamhost_plugin_entry(uint32_t);

/* every type, all optional: {} is a record */
static const char TYPES_AVSC[] =
    "{\"type\":\"record\",\"name\":\"T\",\"fields\":["
    "{\"name\":\"d\",\"type\":[\"null\",\"double\"]},"
    "{\"name\":\"b\",\"type\":[\"boolean\",\"null\"]},"
    "{\"name\":\"s\",\"type\":\"string\",\"default\":\"none\"},"
    "{\"name\":\"n\",\"type\":[\"null\",\"long\"],\"default\":null},"
    "{\"name\":\"i\",\"type\":[\"null\",\"int\"]},"
    "{\"name\":\"q\\\"k\",\"type\":[\"null\",\"string\"]}]}";

/* click: conf/ClickEvent.avsc (the tests run from the repository root) */
static avsc_schema click, types;

static void load_schema(const char *text, avsc_schema *s)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[128], why[512];
    snprintf(path, sizeof path, "%s/sh-scan-XXXXXX", dir);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    int rc = avsc_load(path, s, why, sizeof why);
    unlink(path);
    if (rc != 0)
        fail_msg("%s", why);
}

static int setup(void **st)
{
    (void)st;
    char why[512];
    if (avsc_load("conf/ClickEvent.avsc", &click, why, sizeof why) != 0)
        fail_msg("%s", why);
    load_schema(TYPES_AVSC, &types);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    avsc_free(&click);
    avsc_free(&types);
    return 0;
}

static const char *const verdict_name[] = {"JS_OK", "JS_INVALID", "JS_UNSURE"};

/* The last line's values, as the scanner decoded them (for the tests that
 * look at them); the arena is reset at every check. */
static sh_value got[16];
static str_arena arena;

/* Decodes line[0..len) with both paths and checks the contract; returns
 * jansson's reason when it rejects ("" when it accepts). */
static const char *check_n(const avsc_schema *s, const char *line, size_t len, int expect)
{
    static char why[512];
    char why2[512];
    sh_value slow[16], both[16];
    str_arena_reset(&arena);
    int f = js_decode(s, line, len, got, &arena);
    int j = jr_decode_jansson(s, line, len, slow, &arena, why, sizeof why);
    if (f != expect)
        fail_msg("'%.*s': scanner says %s, expected %s (jansson: %s)", (int)len, line,
                 verdict_name[f], verdict_name[expect], j == JR_OK ? "accepts" : why);
    if (f == JS_OK && j != JR_OK)
        fail_msg("'%.*s': the scanner accepts, jansson rejects: %s", (int)len, line, why);
    if (f == JS_INVALID && j == JR_OK)
        fail_msg("'%.*s': the scanner rejects, jansson accepts", (int)len, line);
    for (uint32_t i = 0; f == JS_OK && i < s->n; i++) {
        const sh_value *a = &got[i], *b = &slow[i];
        int same = a->type == b->type;
        if (same && a->type == SH_STRING)
            same = a->u.s.len == b->u.s.len && memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
        else if (same && a->type == SH_DOUBLE)
            same = memcmp(&a->u.d, &b->u.d, sizeof a->u.d) == 0;
        else if (same && a->type == SH_INT)
            same = a->u.i == b->u.i;
        else if (same && a->type == SH_BOOL)
            same = a->u.b == b->u.b;
        if (!same)
            fail_msg("'%.*s': field '%s' differs from jansson's", (int)len, line, s->fields[i].name);
    }
    int r = jr_decode(s, line, len, both, &arena, why2, sizeof why2);
    assert_int_equal(r, j);
    if (j != JR_OK) {
        assert_string_equal(why2, why);
        return why;
    }
    return "";
}

static const char *check(const avsc_schema *s, const char *line, int expect)
{
    return check_n(s, line, strlen(line), expect);
}

/* a literal with NUL bytes in it, all of it */
#define check_lit(s, lit, expect) check_n(s, lit, sizeof lit - 1, expect)
#define OK(s, line) check(s, line, JS_OK)
#define BAD(s, line) check(s, line, JS_INVALID)
#define UNSURE(s, line) check(s, line, JS_UNSURE)

static void expect_str(const sh_value *v, const char *bytes, size_t n)
{
    assert_int_equal(v->type, SH_STRING);
    assert_int_equal(v->u.s.len, n);
    assert_memory_equal(v->u.s.ptr, bytes, n);
}

/* the scanner's value is the string literal's bytes (NULs included) */
#define EXPECT_STR(v, lit) expect_str(&(v), lit, sizeof lit - 1)
#define S_OF(json) "{\"s\":\"" json "\"}"

static void test_string_escapes(void **st)
{
    (void)st;
    OK(&types, S_OF("plain"));
    EXPECT_STR(got[2], "plain");
    OK(&types, S_OF("\\\" \\\\ \\/ \\b \\f \\n \\r \\t"));
    EXPECT_STR(got[2], "\" \\ / \b \f \n \r \t");
    OK(&types, S_OF("\\u0041\\u00e9\\u00E9\\u20ac\\uFFFF"));
    EXPECT_STR(got[2], "A\xc3\xa9\xc3\xa9\xe2\x82\xac\xef\xbf\xbf");
    OK(&types, S_OF("a\\u0000b")); /* NUL is allowed (JSON_ALLOW_NUL) */
    EXPECT_STR(got[2], "a\0b");
    OK(&types, S_OF(""));
    EXPECT_STR(got[2], "");
    OK(&types, S_OF("\x7f ~")); /* DEL is not a control character to jansson */
    /* a long string, escapes past the first 8-byte chunks */
    OK(&types, S_OF("0123456789abcdefghijklmnopqrstuvwxyz\\n0123456789"));
    EXPECT_STR(got[2], "0123456789abcdefghijklmnopqrstuvwxyz\n0123456789");
    BAD(&types, S_OF("\\x"));
    BAD(&types, S_OF("\\'"));
    BAD(&types, S_OF("\\U0041"));
    BAD(&types, S_OF("\\u12"));
    BAD(&types, S_OF("\\u12G4"));
    BAD(&types, "{\"s\":\"\\");
    BAD(&types, "{\"s\":\"\\u00");
    BAD(&types, S_OF("tab\there")); /* raw control characters */
    BAD(&types, S_OF("nl\nhere"));
    BAD(&types, S_OF("\x01"));
    BAD(&types, S_OF("\x1f"));
    assert_non_null(strstr(BAD(&types, S_OF("\x01")), "control character"));
    BAD(&types, "{\"s\":\"no closing quote}");
    BAD(&types, "{\"s\":'single'}");
    /* the same checks in values that are skipped */
    OK(&types, "{\"x\":\"\\u00e9\\uD83D\\uDE00\\n\"}");
    BAD(&types, "{\"x\":\"\\q\"}");
    BAD(&types, "{\"x\":\"\\uD800\"}");
    BAD(&types, "{\"x\":[\"\x01\"]}");
}

static void test_surrogate_pairs(void **st)
{
    (void)st;
    OK(&types, S_OF("\\uD83D\\uDE00"));
    EXPECT_STR(got[2], "\xf0\x9f\x98\x80");
    OK(&types, S_OF("\\ud800\\udc00")); /* U+10000, lower-case hex */
    EXPECT_STR(got[2], "\xf0\x90\x80\x80");
    OK(&types, S_OF("\\uDBFF\\uDFFF")); /* U+10FFFF */
    EXPECT_STR(got[2], "\xf4\x8f\xbf\xbf");
    OK(&types, S_OF("x\\uD834\\uDD1Ey"));
    EXPECT_STR(got[2], "x\xf0\x9d\x84\x9ey");
    BAD(&types, S_OF("\\uD800"));        /* high alone */
    BAD(&types, S_OF("\\uD800x"));       /* high, then a character */
    BAD(&types, S_OF("\\uD800\\n"));     /* high, then another escape */
    BAD(&types, S_OF("\\uD800\\u0041")); /* high, then no low */
    BAD(&types, S_OF("\\uD800\\uD800")); /* high, high */
    BAD(&types, S_OF("\\uDC00"));        /* low alone */
    BAD(&types, S_OF("\\uDFFF\\uD800")); /* reversed */
    BAD(&types, S_OF("\\uD800\\uDC0"));  /* low cut short */
    assert_non_null(strstr(BAD(&types, S_OF("\\uDC00")), "invalid Unicode"));
}

static void test_utf8(void **st)
{
    (void)st;
    OK(&types, S_OF("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\x80 \xdf\xbf \xef\xbf\xbf \xf4\x8f\xbf\xbf"));
    EXPECT_STR(got[2], "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\x80 \xdf\xbf \xef\xbf\xbf \xf4\x8f\xbf\xbf");
    OK(&types, S_OF("\xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xf0\x90\x80\x80")); /* just inside */
    static const char *const bad[] = {
        "\x80",             /* a continuation byte first */
        "\xbf",
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\x80",     /* overlong, 3 bytes */
        "\xe0\x9f\xbf",
        "\xf0\x80\x80\x80", /* overlong, 4 bytes */
        "\xf0\x8f\xbf\xbf",
        "\xed\xa0\x80",     /* a surrogate, U+D800 */
        "\xed\xbf\xbf",     /* U+DFFF */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf5\x80\x80\x80",
        "\xff",
        "\xfe",
        "\xc3",             /* cut short before the quote */
        "\xe2\x82",
        "\xf0\x9f\x98",
        "\xc3\x28",         /* continuation missing */
        "\xe2\x28\xa1",
        "\xf0\x9f\x28\x80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"s\":\"a%sb\"}", bad[i]);
        BAD(&types, line);
        snprintf(line, sizeof line, "{\"x\":\"%s\"}", bad[i]); /* skipped value */
        BAD(&types, line);
        snprintf(line, sizeof line, "{\"s\":\"%s", bad[i]); /* at the very end */
        BAD(&types, line);
    }
    BAD(&types, "{\"s\":\"x\"}\xc3\xa9"); /* outside strings, any byte >= 0x80 */
    BAD(&types, "\xef\xbb\xbf{}");          /* a byte-order mark is not JSON */
}

static void test_numbers(void **st)
{
    (void)st;
    OK(&types, "{\"i\":2147483647,\"n\":9223372036854775807}");
    assert_int_equal(got[4].u.i, INT32_MAX);
    assert_true(got[3].u.i == INT64_MAX);
    OK(&types, "{\"i\":-2147483648,\"n\":-9223372036854775808}");
    assert_int_equal(got[4].u.i, INT32_MIN);
    assert_true(got[3].u.i == INT64_MIN);
    OK(&types, "{\"i\":0,\"n\":-0}");
    assert_true(got[3].type == SH_INT && got[3].u.i == 0);
    assert_non_null(strstr(BAD(&types, "{\"i\":2147483648}"), "does not fit an Avro int"));
    BAD(&types, "{\"i\":-2147483649}");
    assert_non_null(strstr(BAD(&types, "{\"n\":9223372036854775808}"), "too big integer"));
    assert_non_null(strstr(BAD(&types, "{\"n\":-9223372036854775809}"), "too big negative integer"));
    BAD(&types, "{\"n\":99999999999999999999}");
    BAD(&types, "{\"n\":12345678901234567890123}");
    BAD(&types, "{\"x\":9223372036854775808}"); /* also when skipped */
    OK(&types, "{\"x\":-9223372036854775808}");
    /* the grammar */
    BAD(&types, "{\"n\":01}");
    BAD(&types, "{\"n\":-01}");
    BAD(&types, "{\"n\":00}");
    BAD(&types, "{\"n\":-}");
    BAD(&types, "{\"n\":+1}");
    BAD(&types, "{\"n\":- 1}");
    BAD(&types, "{\"d\":.5}");
    BAD(&types, "{\"d\":1.}");
    BAD(&types, "{\"d\":1.e5}");
    BAD(&types, "{\"d\":1e}");
    BAD(&types, "{\"d\":1e+}");
    BAD(&types, "{\"d\":1E-}");
    BAD(&types, "{\"d\":0x10}");
    BAD(&types, "{\"d\":1.5.5}");
    BAD(&types, "{\"d\":1e5e5}");
    BAD(&types, "{\"d\":NaN}");
    BAD(&types, "{\"d\":Infinity}");
    BAD(&types, "{\"d\":-Infinity}");
    BAD(&types, "{\"n\":1a}");
    /* a long is an integer: no fraction, no exponent */
    assert_non_null(strstr(BAD(&types, "{\"n\":1.0}"), "must be a long (integer), not a decimal number"));
    BAD(&types, "{\"n\":1e3}");
    BAD(&types, "{\"i\":1E0}");
    /* doubles: exponent forms, integers, signed zero, the edges */
    static const struct {
        const char *text;
        double value;
    } reals[] = {
        {"1.5", 1.5}, {"-0.25", -0.25}, {"1e5", 1e5}, {"1E5", 1e5}, {"1e+5", 1e5},
        {"1E-5", 1e-5}, {"0.1e-2", 0.001}, {"12.5e3", 12500}, {"0e0", 0}, {"-0.0", -0.0},
        {"-0", 0.0}, {"3", 3}, {"-7", -7}, {"9007199254740993", 9007199254740992.0},
        {"1.7976931348623157e308", 1.7976931348623157e308}, {"4.9e-324", 4.9e-324},
        {"1e-400", 0.0}, /* underflow is fine */
        {"123456789012345678", 123456789012345678.0},
    };
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "{\"d\":%s}", reals[i].text);
        OK(&types, line);
        assert_int_equal(got[0].type, SH_DOUBLE);
        if (got[0].u.d != reals[i].value)
            fail_msg("%s: %.17g", reals[i].text, got[0].u.d);
    }
    OK(&types, "{\"d\":-0.0}");
    assert_true(signbit(got[0].u.d));
    OK(&types, "{\"d\":-0}"); /* an integer: jansson's value is +0.0 */
    assert_false(signbit(got[0].u.d));
    assert_non_null(strstr(BAD(&types, "{\"d\":1e309}"), "real number overflow"));
    BAD(&types, "{\"d\":-1.8e308}");
    BAD(&types, "{\"x\":[1e999]}"); /* also when skipped */
    BAD(&types, "{\"d\":123456789012345678901}"); /* an integer token: beyond int64 */
    /* longer than the scanner copies for strtod: jansson decides */
    UNSURE(&types, "{\"d\":0.1000000000000000000000000000000000000000000000000000000000000001}");
    UNSURE(&types, "{\"d\":1e99999999999999999999999999999999999999999999999999999999999999}");
}

static void test_literals_and_types(void **st)
{
    (void)st;
    OK(&types, "{\"b\":true}");
    assert_true(got[1].type == SH_BOOL && got[1].u.b == 1);
    OK(&types, "{\"b\":false}");
    assert_true(got[1].type == SH_BOOL && got[1].u.b == 0);
    OK(&types, "{\"b\":null,\"d\":null,\"i\":null,\"n\":null}");
    for (int i = 0; i < 6; i++)
        assert_int_equal(got[i].type, i == 2 ? SH_STRING : SH_NULL);
    BAD(&types, "{\"b\":tru}");
    BAD(&types, "{\"b\":truex}");
    BAD(&types, "{\"b\":True}");
    BAD(&types, "{\"b\":nul}");
    BAD(&types, "{\"b\":nulls}");
    BAD(&types, "{\"b\":1}");
    BAD(&types, "{\"b\":\"true\"}");
    BAD(&types, "{\"d\":true}");
    BAD(&types, "{\"d\":\"1\"}");
    BAD(&types, "{\"s\":1}");
    BAD(&types, "{\"s\":null}"); /* not nullable, though it has a default */
    BAD(&types, "{\"s\":[]}");
    BAD(&types, "{\"s\":{}}");
    BAD(&types, "{\"i\":false}");
    BAD(&types, "{\"x\":tru}");
    BAD(&types, "{\"x\":undefined}");
    /* the reasons are jansson's, as before */
    assert_string_equal(BAD(&click, "{\"ip\":null,\"eventtimestamp\":1,\"devicetype\":\"d\",\"userid\":1,\"globalseq\":1}"),
                        "field 'ip' is null but not nullable");
    assert_string_equal(BAD(&click, "{\"ip\":\"i\",\"eventtimestamp\":1,\"devicetype\":\"d\",\"userid\":\"1\",\"globalseq\":1}"),
                        "field 'userid' must be an int, not a string");
    assert_string_equal(BAD(&click, "{\"eventtimestamp\":1,\"devicetype\":\"d\",\"userid\":1,\"globalseq\":1}"),
                        "missing field 'ip'");
    assert_string_equal(BAD(&click, "[1,2]"), "not a JSON object but an array");
    assert_string_equal(BAD(&click, "42"), "not a JSON object but an integer");
    assert_string_equal(BAD(&click, "\"s\""), "not a JSON object but a string");
    assert_string_equal(BAD(&click, "null"), "not a JSON object but null");
    /* defaults and nulls for absent fields */
    OK(&types, "{}");
    assert_int_equal(got[0].type, SH_NULL);
    EXPECT_STR(got[2], "none");
    assert_int_equal(got[3].type, SH_NULL);
    OK(&click, "{\"ip\":\"i\",\"eventtimestamp\":5,\"devicetype\":\"d\",\"userid\":7,\"globalseq\":1}");
    assert_int_equal(got[3].type, SH_NULL);
    assert_int_equal(got[4].type, SH_NULL);
    assert_true(got[7].type == SH_INT && got[7].u.i == 0);
}

static void test_nested_values_are_skipped(void **st)
{
    (void)st;
    OK(&types, "{\"x\":{\"a\":[1,-2.5e3,{\"b\":null,\"c\":[true,false,\"s\"]}],\"d\":{}},"
               "\"y\":[],\"z\":[[[]]],\"s\":\"after\"}");
    EXPECT_STR(got[2], "after");
    OK(&types, "{ \"x\" : [ 1 , { } , [ ] , \"\" ] , \"s\" : \"w\" }");
    BAD(&types, "{\"x\":[1,]}");
    BAD(&types, "{\"x\":[,1]}");
    BAD(&types, "{\"x\":[1 2]}");
    BAD(&types, "{\"x\":{\"a\"}}");
    BAD(&types, "{\"x\":{\"a\":}}");
    BAD(&types, "{\"x\":{\"a\":1,}}");
    BAD(&types, "{\"x\":{1:1}}");
    BAD(&types, "{\"x\":[1}");
    BAD(&types, "{\"x\":{\"a\":1]}");
    BAD(&types, "{\"x\":[");
    /* nesting: 63 containers under the record are scanned, deeper ones are
     * left to jansson (which allows 2048) */
    char line[600];
    for (int depth = 60; depth <= 70; depth++) {
        for (int objects = 0; objects < 2; objects++) {
            int n = snprintf(line, sizeof line, "{\"x\":");
            for (int i = 0; i < depth; i++)
                n += snprintf(line + n, sizeof line - (size_t)n, "%s", objects && i % 2 ? "{\"a\":" : "[");
            line[n++] = '0';
            for (int i = depth - 1; i >= 0; i--)
                line[n++] = objects && i % 2 ? '}' : ']';
            snprintf(line + n, sizeof line - (size_t)n, "}");
            check(&types, line, depth <= 63 ? JS_OK : JS_UNSURE);
        }
    }
}

static void test_duplicate_keys(void **st)
{
    (void)st;
    /* declared fields, unknown keys, nested objects: refused at every depth */
    assert_non_null(strstr(BAD(&types, "{\"s\":\"a\",\"s\":\"b\"}"), "duplicate object key"));
    BAD(&types, "{\"s\":\"a\",\"b\":true,\"s\":\"a\"}");
    BAD(&types, "{\"x\":1,\"x\":1}");
    BAD(&types, "{\"x\":1,\"y\":2,\"x\":3}");
    BAD(&types, "{\"x\":{\"a\":1,\"a\":2}}");
    BAD(&types, "{\"x\":[{\"a\":1},{\"b\":1,\"b\":1}]}");
    OK(&types, "{\"x\":{\"a\":1},\"y\":{\"a\":1}}"); /* not the same object */
    OK(&types, "{\"x\":1,\"X\":1,\"xx\":1,\"\":1}");
    BAD(&types, "{\"\":1,\"\":2}");
    /* keys with escapes are left to jansson: it compares them decoded */
    UNSURE(&types, "{\"\\u0073\":\"esc\"}");
    UNSURE(&types, "{\"s\":\"a\",\"\\u0073\":\"b\"}");
    UNSURE(&types, "{\"x\":{\"a\":1,\"\\u0061\":2}}");
    UNSURE(&types, "{\"q\\\"k\":\"quoted\"}"); /* the field whose name has a quote */
    /* the scanner remembers 32 unknown keys an object */
    char line[1024] = "{";
    for (int i = 0; i < 33; i++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s\"k%d\":%d", i ? "," : "", i, i);
    strcat(line, "}");
    UNSURE(&types, line);
    line[0] = '\0';
    strcat(line, "{");
    for (int i = 0; i < 32; i++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s\"k%d\":%d", i ? "," : "", i, i);
    strcat(line, ",\"s\":\"z\"}");
    OK(&types, line);
    EXPECT_STR(got[2], "z");
}

static void test_whitespace_and_trailing_garbage(void **st)
{
    (void)st;
    OK(&types, " \t\r\n{ \t\r\n\"s\" \t\r\n: \t\r\n\"w\" \t\r\n, \"b\" : true } \t\r\n");
    EXPECT_STR(got[2], "w");
    OK(&types, "{}");
    OK(&types, "{ }");
    BAD(&types, "");
    BAD(&types, "   ");
    BAD(&types, "{");
    BAD(&types, "}");
    BAD(&types, "{} x");
    BAD(&types, "{}{}");
    BAD(&types, "{},");
    BAD(&types, "{}\f"); /* form feed, vertical tab, NUL: not JSON whitespace */
    BAD(&types, "{\v}");
    check_lit(&types, "{}\0", JS_INVALID);
    check_lit(&types, "{\"s\":\"a\0b\"}", JS_INVALID);
    check_lit(&types, "{\0}", JS_INVALID);
    check_lit(&types, "{\"s\"\0:\"a\"}", JS_INVALID);
    /* jansson drops one NUL right after a number or a literal (its lookahead
     * byte): "1\0," reads as "1,"; the scanner leaves that to it */
    check_lit(&types, "{\"n\":10\0,\"b\":true\0}", JS_UNSURE);
    check_lit(&types, "{\"x\":[null\0,false\0,-0\0,1.5e3\0]}", JS_UNSURE);
    check_lit(&types, "{\"n\":10\0\0}", JS_UNSURE);
    check_lit(&types, "{\"d\":null\0}", JS_UNSURE); /* a declared field (fuzz finding) */
    check_lit(&types, "{\"b\":false\0}", JS_UNSURE);
    check_lit(&types, "{\"d\":-1.5\0,\"i\":3\0}", JS_UNSURE);
    BAD(&types, "{,}");
    BAD(&types, "{\"s\":\"a\",}");
    BAD(&types, "{\"s\" \"a\"}");
    BAD(&types, "{\"s\":\"a\" \"b\":true}");
    BAD(&types, "{s:\"a\"}");
}

/* Every proper prefix of a valid line is refused, by both. */
static void test_truncation_at_every_byte(void **st)
{
    (void)st;
    static const char *const lines[] = {
        "{\"ip\":\"66.249.1.233\",\"eventtimestamp\":1700000000000,\"devicetype\":\"computer\","
        "\"event_type\":\"home_page\",\"product_type\":\"N/A\",\"userid\":960505,"
        "\"globalseq\":1,\"prevglobalseq\":0}",
        "{\"ip\":\"a\\\"b\\u00e9\\uD83D\\uDE00\\n\xc3\xa9\",\"eventtimestamp\":-9223372036854775808,"
        "\"devicetype\":\"t\",\"event_type\":null,\"userid\":-2147483648,\"globalseq\":3,"
        "\"extra\":[1.5e-3,{\"y\":[true,false,null,\"\xe2\x82\xac\"]}],\"prevglobalseq\":2} ",
    };
    for (size_t l = 0; l < 2; l++) {
        size_t len = strlen(lines[l]);
        check_n(&click, lines[l], len, JS_OK);
        for (size_t cut = 0; cut < len - (l == 1); cut++) {
            /* on the heap, exactly cut bytes: ASan sees any read past them */
            char *copy = malloc(cut ? cut : 1);
            assert_non_null(copy);
            memcpy(copy, lines[l], cut);
            check_n(&click, copy, cut, JS_INVALID);
            free(copy);
        }
    }
}

/* The plugin over such lines: records as before, bad lines dead-lettered
 * with jansson's reasons. */
static void test_plugin_replays_through_the_scanner(void **st)
{
    (void)st;
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char data[128];
    snprintf(data, sizeof data, "%s/sh-scan-data-XXXXXX", dir);
    static const char lines[] =
        "{\"ip\":\"\\u00e9\\uD83D\\uDE00\",\"eventtimestamp\":10,\"devicetype\":\"d\",\"userid\":-5,"
        "\"globalseq\":1,\"x\":{\"y\":[1,2]}}\n"
        "{\"ip\":\"i\",\"eventtimestamp\":11,\"devicetype\":\"d\",\"userid\":2147483648,\"globalseq\":2}\n"
        "{\"\\u0069p\":\"esc\",\"eventtimestamp\":12,\"devicetype\":\"d\",\"userid\":7,\"globalseq\":3}\n"
        "{\"ip\":\"i\",\"eventtimestamp\":13,\"devicetype\":\"d\",\"userid\":8,\"globalseq\":4} x\n";
    int fd = mkstemp(data);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, lines, strlen(lines)), (ssize_t)strlen(lines));
    close(fd);
    char kv_path[200];
    snprintf(kv_path, sizeof kv_path, "path=%s", data);
    const char *c[] = {kv_path, "schema.file=conf/ClickEvent.avsc", NULL};
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), c);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_OK);
    sh_rc rc;
    for (int i = 0; i < 100 && (rc = streamhost_plugin_entry(SH_ABI_VERSION)->poll(th_state(th), 100, 0)) == SH_OK; i++)
        ;
    assert_int_equal(rc, SH_DONE);
    assert_int_equal(th_count(th), 2);
    assert_string_equal(th_str(th_get(th, 0), "ip"), "\xc3\xa9\xf0\x9f\x98\x80");
    assert_string_equal(th_get(th, 0)->key, "-5");
    assert_string_equal(th_str(th_get(th, 1), "ip"), "esc"); /* an escaped key: jansson's path */
    assert_string_equal(th_get(th, 1)->key, "7");
    assert_int_equal(th_dead_letters(th), 2);
    const char *last = strstr(lines, "{\"ip\":\"i\",\"eventtimestamp\":13");
    char expect[700], why[512];
    sh_value v[8];
    assert_int_equal(jr_decode_jansson(&click, last, strlen(last) - 1, v, &arena, why, sizeof why),
                     JR_MALFORMED);
    assert_non_null(strstr(why, "end of file expected"));
    snprintf(expect, sizeof expect, "malformed_json: line 4 (byte %zu): %s", (size_t)(last - lines), why);
    assert_string_equal(th_last_dead_reason(th), expect);
    th_clear(th);
    th_free(th);
    unlink(data);
}

/* Integer keys are written by hand now, not by snprintf: the edges. */
static void test_integer_keys(void **st)
{
    (void)st;
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char data[128], kv_path[200];
    snprintf(data, sizeof data, "%s/sh-scan-keys-XXXXXX", dir);
    static const char *const seqs[] = {"0", "7", "-1", "10", "-10", "9223372036854775807",
                                       "-9223372036854775808", "1000000"};
    char lines[2048] = "";
    for (size_t i = 0; i < 8; i++)
        snprintf(lines + strlen(lines), sizeof lines - strlen(lines),
                 "{\"ip\":\"i\",\"eventtimestamp\":1,\"devicetype\":\"d\",\"userid\":1,"
                 "\"globalseq\":%s}\n", seqs[i]);
    int fd = mkstemp(data);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, lines, strlen(lines)), (ssize_t)strlen(lines));
    close(fd);
    snprintf(kv_path, sizeof kv_path, "path=%s", data);
    const char *c[] = {kv_path, "schema.file=conf/ClickEvent.avsc", "key.field=globalseq", NULL};
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), c);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_OK);
    assert_int_equal(streamhost_plugin_entry(SH_ABI_VERSION)->poll(th_state(th), 100, 0), SH_DONE);
    assert_int_equal(th_count(th), 8);
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(th_get(th, i)->key, seqs[i]);
    th_clear(th);
    th_free(th);
    unlink(data);
}

int main(void)
{
    str_arena_init(&arena, 4096);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_surrogate_pairs),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_literals_and_types),
        cmocka_unit_test(test_nested_values_are_skipped),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_whitespace_and_trailing_garbage),
        cmocka_unit_test(test_truncation_at_every_byte),
        cmocka_unit_test(test_plugin_replays_through_the_scanner),
        cmocka_unit_test(test_integer_keys),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    str_arena_free(&arena);
    return rc;
}
