/* Avro framings: Confluent, Glue, Glue+zlib and bare round-trip through the
 * encoder and decoder; every malformed variant is refused with its reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_codec.h"

static avro_codec *codec;
static const unsigned char UUID1[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

static int setup(void **st)
{
    (void)st;
    char err[512];
    codec = avro_codec_new("conf/ClickEvent.avsc", "clickstream", err, sizeof err);
    if (!codec)
        fprintf(stderr, "%s\n", err);
    return codec ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    avro_codec_free(codec);
    return 0;
}

/* One click event with a null product_type. */
static sh_record event(sh_value *v)
{
    const sh_schema *s = avro_codec_schema(codec);
    v[0] = sh_v_str("66.249.1.17", 11);
    v[1] = sh_v_int(1700000000123);
    v[2] = sh_v_str("mobile", 6);
    v[3] = sh_v_str("home_page", 9);
    v[4] = sh_v_null();
    v[5] = sh_v_int(1042);
    v[6] = sh_v_int(7);
    v[7] = sh_v_int(5);
    return (sh_record){.schema = s, .time = 1700000000123, .values = v};
}

static void encode(framing_t f, int zlib, sh_buf *out)
{
    sh_value v[8];
    sh_record r = event(v);
    char err[256];
    assert_int_equal(avro_codec_encode(codec, f, 42, UUID1, zlib, &r, out, err, sizeof err), 0);
}

static void check_decoded(const sh_value *v)
{
    assert_int_equal(v[0].type, SH_STRING);
    assert_int_equal(v[0].u.s.len, 11);
    assert_memory_equal(v[0].u.s.ptr, "66.249.1.17", 11);
    assert_int_equal(v[1].u.i, 1700000000123);
    assert_memory_equal(v[3].u.s.ptr, "home_page", 9);
    assert_int_equal(v[4].type, SH_NULL);
    assert_int_equal(v[5].u.i, 1042);
    assert_int_equal(v[6].u.i, 7);
    assert_int_equal(v[7].u.i, 5);
}

static int decode(framing_t f, const void *buf, size_t len, sh_value *v, char *reason)
{
    arena a = {0};
    int rc = avro_codec_decode(codec, f, buf, len, v, &a, reason, 256);
    if (rc == 0)
        check_decoded(v);
    arena_free(&a);
    return rc;
}

static void test_roundtrip_each_framing(void **st)
{
    (void)st;
    struct { framing_t enc; int zlib; unsigned char first; } cases[] = {
        {FRAMING_CONFLUENT, 0, 0x00}, {FRAMING_GLUE, 0, 0x03}, {FRAMING_GLUE, 1, 0x03}, {FRAMING_BARE, 0, 0x16}};
    for (size_t i = 0; i < 4; i++) {
        sh_buf b = {0};
        sh_value v[8];
        char reason[256];
        encode(cases[i].enc, cases[i].zlib, &b);
        assert_int_equal((unsigned char)b.data[0], cases[i].first);
        assert_int_equal(decode(FRAMING_AUTO, b.data, b.len, v, reason), 0);
        assert_int_equal(decode(cases[i].enc, b.data, b.len, v, reason), 0);
        sh_buf_free(&b);
    }
}

static void expect_reason(framing_t f, const void *buf, size_t len, const char *kind)
{
    sh_value v[8];
    char reason[256] = "";
    assert_int_equal(decode(f, buf, len, v, reason), -1);
    if (strncmp(reason, kind, strlen(kind)) != 0)
        fail_msg("wanted reason %s, got '%s'", kind, reason);
}

static void test_malformed(void **st)
{
    (void)st;
    sh_buf b = {0};
    encode(FRAMING_CONFLUENT, 0, &b);
    expect_reason(FRAMING_AUTO, "", 0, "empty_value");
    expect_reason(FRAMING_CONFLUENT, b.data, 3, "short_message");
    expect_reason(FRAMING_AUTO, b.data, b.len - 3, "bad_avro");      /* truncated Avro */
    expect_reason(FRAMING_CONFLUENT, "\x07zzzzzz", 7, "bad_magic");
    /* unknown schema id */
    int64_t ok_ids[] = {1};
    avro_codec_allow_ids(codec, ok_ids, 1);
    expect_reason(FRAMING_AUTO, b.data, b.len, "unknown_schema_id");
    avro_codec_allow_ids(codec, NULL, 0);
    /* trailing garbage after a complete record */
    sh_buf_add(&b, "xx", 2);
    expect_reason(FRAMING_AUTO, b.data, b.len, "bad_avro");
    sh_buf_free(&b);

    sh_buf g = {0};
    encode(FRAMING_GLUE, 1, &g);
    expect_reason(FRAMING_GLUE, g.data, 10, "short_message");
    g.data[1] = 0x09;
    expect_reason(FRAMING_AUTO, g.data, g.len, "bad_compression");
    g.data[1] = 0x05;
    g.data[20] ^= 0x55; /* corrupt the deflate stream */
    expect_reason(FRAMING_AUTO, g.data, g.len, "bad_zlib");
    g.data[20] ^= 0x55;
    expect_reason(FRAMING_AUTO, g.data, g.len - 4, "bad_zlib"); /* truncated */
    const char *allowed[] = {"00000000-0000-0000-0000-000000000009"};
    char err[128];
    assert_int_equal(avro_codec_allow_uuids(codec, allowed, 1, err, sizeof err), 0);
    expect_reason(FRAMING_AUTO, g.data, g.len, "unknown_schema_version");
    assert_int_equal(avro_codec_allow_uuids(codec, NULL, 0, err, sizeof err), 0);
    sh_buf_free(&g);

    /* bad UTF-8 in the ip string: bare framing, first field length 2 */
    sh_buf u = {0};
    encode(FRAMING_BARE, 0, &u);
    unsigned char bad[64];
    memcpy(bad, u.data, u.len);
    bad[1] = 0xC3; /* lead byte followed by '6' (0x36): invalid continuation */
    expect_reason(FRAMING_BARE, bad, u.len, "bad_utf8");
    sh_buf_free(&u);
}

/* Fuzzer find: a Glue message decoded as bare Avro starts with a negative
 * string length (0x03); avro-c allocated it blindly.  Must be a clean error. */
static void test_fuzz_regression_negative_length(void **st)
{
    (void)st;
    FILE *f = fopen("tests/fuzz/regressions/avro/glue-read-as-bare-negative-string-length", "rb");
    assert_non_null(f);
    unsigned char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    expect_reason(FRAMING_BARE, buf, n, "bad_avro");
    unsigned char huge[] = {0xfe, 0xff, 0xff, 0xff, 0x0f, 'a'}; /* length 2^31-1, 1 byte present */
    expect_reason(FRAMING_BARE, huge, sizeof huge, "bad_avro");
}

/* Issue 11 K: a long is at most 10 varint bytes, and the 10th holds only
 * bit 63 (0x00 or 0x01).  A 10th byte above 1 overflows 64 bits: such an
 * eventtimestamp decoded as INT64_MIN.  It is a bad_avro dead letter, named
 * for what it is; the largest real values still decode. */
static size_t with_timestamp(const unsigned char *ts, size_t tslen, unsigned char *out)
{
    sh_buf u = {0};
    encode(FRAMING_BARE, 0, &u);
    /* bare body: ip (1-byte length 0x16 + 11 bytes), then eventtimestamp */
    const unsigned char *p = (const unsigned char *)u.data;
    assert_int_equal(p[0], 0x16);
    size_t old = 0;
    while (p[12 + old] & 0x80)
        old++;
    old++;
    memcpy(out, p, 12);
    memcpy(out + 12, ts, tslen);
    memcpy(out + 12 + tslen, p + 12 + old, u.len - 12 - old);
    size_t n = u.len - old + tslen;
    sh_buf_free(&u);
    return n;
}

static void test_varint_overflow(void **st)
{
    (void)st;
    unsigned char msg[128];
    sh_value v[8];
    char reason[256];
    arena a = {0};
    const unsigned char over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    size_t n = with_timestamp(over, sizeof over, msg);
    assert_int_equal(avro_codec_decode(codec, FRAMING_BARE, msg, n, v, &a, reason, sizeof reason), -1);
    assert_string_equal(reason, "bad_avro: number in field 'eventtimestamp' overflows 64 bits");
    const unsigned char two[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02};
    n = with_timestamp(two, sizeof two, msg);
    assert_int_equal(avro_codec_decode(codec, FRAMING_BARE, msg, n, v, &a, reason, sizeof reason), -1);
    assert_string_equal(reason, "bad_avro: number in field 'eventtimestamp' overflows 64 bits");
    /* 11 bytes: longer than any long */
    const unsigned char eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00};
    n = with_timestamp(eleven, sizeof eleven, msg);
    assert_int_equal(avro_codec_decode(codec, FRAMING_BARE, msg, n, v, &a, reason, sizeof reason), -1);
    assert_string_equal(reason, "bad_avro: number in field 'eventtimestamp' overflows 64 bits");
    /* the extremes are real longs: zigzag 2^64-1 is INT64_MIN, 2^64-2 INT64_MAX */
    const unsigned char min[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    n = with_timestamp(min, sizeof min, msg);
    assert_int_equal(avro_codec_decode(codec, FRAMING_BARE, msg, n, v, &a, reason, sizeof reason), 0);
    assert_true(v[1].u.i == INT64_MIN);
    const unsigned char max[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    n = with_timestamp(max, sizeof max, msg);
    assert_int_equal(avro_codec_decode(codec, FRAMING_BARE, msg, n, v, &a, reason, sizeof reason), 0);
    assert_true(v[1].u.i == INT64_MAX);
    /* a truncated one still says so */
    n = with_timestamp(two, 5, msg);
    assert_int_equal(avro_codec_decode(codec, FRAMING_BARE, msg, 17, v, &a, reason, sizeof reason), -1);
    /* and a string length or union index can overflow as well */
    unsigned char bad_len[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    assert_int_equal(avro_codec_decode(codec, FRAMING_BARE, bad_len, 12, v, &a, reason, sizeof reason), -1);
    assert_string_equal(reason, "bad_avro: string length of field 'ip' overflows 64 bits");
    arena_free(&a);
}

static void test_utf8(void **st)
{
    (void)st;
    assert_true(utf8_valid((const unsigned char *)"plain ascii text here", 21));
    assert_true(utf8_valid((const unsigned char *)"caf\xc3\xa9", 5));
    assert_true(utf8_valid((const unsigned char *)"\xf0\x9f\x98\x80", 4));
    assert_false(utf8_valid((const unsigned char *)"\xc3", 1));
    assert_false(utf8_valid((const unsigned char *)"\xc0\xaf", 2));       /* overlong */
    assert_false(utf8_valid((const unsigned char *)"\xed\xa0\x80", 3));   /* surrogate */
    assert_false(utf8_valid((const unsigned char *)"\xff", 1));
}

static void test_bad_schema_files(void **st)
{
    (void)st;
    char err[512];
    assert_null(avro_codec_new("no/such.avsc", "x", err, sizeof err));
    assert_non_null(strstr(err, "no/such.avsc: cannot read Avro schema"));
    FILE *f = fopen("test-bad.avsc", "w");
    fputs("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"int\"}}]}",
          f);
    fclose(f);
    assert_null(avro_codec_new("test-bad.avsc", "x", err, sizeof err));
    assert_non_null(strstr(err, "field 'a': type not supported"));
    f = fopen("test-bad.avsc", "w");
    fputs("{not json", f);
    fclose(f);
    assert_null(avro_codec_new("test-bad.avsc", "x", err, sizeof err));
    assert_non_null(strstr(err, "not a valid Avro schema"));
    remove("test-bad.avsc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_each_framing),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_fuzz_regression_negative_length),
        cmocka_unit_test(test_varint_overflow),
        cmocka_unit_test(test_bad_schema_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
