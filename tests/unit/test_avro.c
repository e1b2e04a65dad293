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

#include <avro.h>

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


/* --- writer -> reader plans ---------------------------------------------- */

/* Encodes with avro-c a datum of `schema_json` whose fields are set by
 * `set(value, arg)`; returns the body length in buf. */
typedef void (*setter)(avro_value_t *rec, void *arg);
static size_t avro_c_encode(const char *schema_json, setter set, void *arg, char *buf, size_t cap)
{
    avro_schema_t s;
    assert_int_equal(avro_schema_from_json_length(schema_json, strlen(schema_json), &s), 0);
    avro_value_iface_t *iface = avro_generic_class_from_schema(s);
    avro_value_t v;
    avro_generic_value_new(iface, &v);
    set(&v, arg);
    avro_writer_t w = avro_writer_memory(buf, (int64_t)cap);
    assert_int_equal(avro_value_write(w, &v), 0);
    size_t n = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(s);
    return n;
}

static void set_str(avro_value_t *rec, const char *name, const char *val)
{
    avro_value_t f, b;
    assert_int_equal(avro_value_get_by_name(rec, name, &f, NULL), 0);
    if (avro_value_get_type(&f) == AVRO_UNION) {
        avro_schema_t us = avro_value_get_schema(&f);
        int disc = avro_typeof(avro_schema_union_branch(us, 0)) == AVRO_NULL ? 1 : 0;
        if (!val)
            disc = 1 - disc;
        avro_value_set_branch(&f, disc, &b);
        if (!val) {
            avro_value_set_null(&b);
            return;
        }
        f = b;
    }
    if (avro_value_get_type(&f) == AVRO_BYTES)
        avro_value_set_bytes(&f, (void *)val, strlen(val));
    else
        avro_value_set_string(&f, val);
}

static void set_num(avro_value_t *rec, const char *name, int64_t x)
{
    avro_value_t f;
    if (avro_value_get_by_name(rec, name, &f, NULL) != 0)
        return;
    switch (avro_value_get_type(&f)) {
    case AVRO_INT32: avro_value_set_int(&f, (int32_t)x); break;
    case AVRO_INT64: avro_value_set_long(&f, x); break;
    case AVRO_FLOAT: avro_value_set_float(&f, (float)x); break;
    case AVRO_DOUBLE: avro_value_set_double(&f, (double)x); break;
    default: fail_msg("field %s is not a number", name);
    }
}

/* The click event of event() as any writer schema with ClickEvent's names. */
static void set_click(avro_value_t *rec, void *arg)
{
    (void)arg;
    avro_value_t f;
    set_str(rec, "ip", "66.249.1.17");
    set_num(rec, "eventtimestamp", 1700000000123);
    if (avro_value_get_by_name(rec, "devicetype", &f, NULL) == 0)
        set_str(rec, "devicetype", "mobile");
    set_str(rec, "event_type", "home_page");
    set_str(rec, "product_type", NULL);
    set_num(rec, "userid", 1042);
    set_num(rec, "globalseq", 7);
    set_num(rec, "prevglobalseq", 5);
    if (avro_value_get_by_name(rec, "referrer", &f, NULL) == 0)
        set_str(rec, "referrer", "search");
    if (avro_value_get_by_name(rec, "tags", &f, NULL) == 0) { /* an array of records, skipped */
        avro_value_t item, x;
        for (int i = 0; i < 3; i++) {
            avro_value_append(&f, &item, NULL);
            avro_value_get_by_index(&item, 0, &x, NULL);
            avro_value_set_string(&x, "t");
            avro_value_get_by_index(&item, 1, &x, NULL);
            avro_value_set_long(&x, i);
        }
    }
    if (avro_value_get_by_name(rec, "attrs", &f, NULL) == 0) { /* a map, skipped */
        avro_value_t e;
        avro_value_add(&f, "a", &e, NULL, NULL);
        avro_value_set_double(&e, 1.5);
    }
}

static const char V1_HEAD[] = "{\"type\":\"record\",\"name\":\"ClickEvent\",\"namespace\":\"tutorial.buildon.aws.streaming.avro\","
                              "\"fields\":[";

/* Decodes the event written with `fields` (a writer schema's field list)
 * through a plan; returns the plan's error (NULL when it was built) and
 * fills v on success. */
static const char *plan_decode(const char *fields, sh_value *v, char *reason, size_t rlen)
{
    static char err[512];
    char json[4096], buf[1024];
    snprintf(json, sizeof json, "%s%s]}", V1_HEAD, fields);
    avro_plan *p = avro_plan_new(codec, json, strlen(json), err, sizeof err);
    if (!p)
        return err;
    size_t n = avro_c_encode(json, set_click, NULL, buf, sizeof buf);
    arena a = {0};
    int rc = avro_plan_decode(p, (unsigned char *)buf, n, v, &a, reason, rlen);
    if (rc == 0) { /* every field but prevglobalseq (it may be its default): the caller checks it */
        sh_value last = v[7];
        v[7] = sh_v_int(5);
        check_decoded(v);
        v[7] = last;
    }
    avro_plan_free(p);
    arena_free(&a);
    return rc == 0 ? NULL : "decode failed";
}

#define F_IP "{\"name\":\"ip\",\"type\":\"string\"}"
#define F_TS "{\"name\":\"eventtimestamp\",\"type\":\"long\"}"
#define F_DEV "{\"name\":\"devicetype\",\"type\":\"string\"}"
#define F_ET "{\"name\":\"event_type\",\"type\":[\"string\",\"null\"]}"
#define F_PT "{\"name\":\"product_type\",\"type\":[\"string\",\"null\"]}"
#define F_UID "{\"name\":\"userid\",\"type\":\"int\"}"
#define F_GS "{\"name\":\"globalseq\",\"type\":\"long\"}"
#define F_PGS "{\"name\":\"prevglobalseq\",\"type\":\"long\",\"default\":0}"

static void test_plan_evolution(void **st)
{
    (void)st;
    sh_value v[8];
    char reason[512] = "";
    /* the writer is the reader */
    assert_null(plan_decode(F_IP "," F_TS "," F_DEV "," F_ET "," F_PT "," F_UID "," F_GS "," F_PGS, v, reason,
                            sizeof reason));
    assert_int_equal(v[7].u.i, 5);
    /* v2: an added optional field (skipped) */
    assert_null(plan_decode(F_IP "," F_TS "," F_DEV "," F_ET "," F_PT "," F_UID "," F_GS "," F_PGS
                            ",{\"name\":\"referrer\",\"type\":[\"null\",\"string\"],\"default\":null}",
                            v, reason, sizeof reason));
    /* a writer without the optional prevglobalseq: its default */
    assert_null(plan_decode(F_IP "," F_TS "," F_DEV "," F_ET "," F_PT "," F_UID "," F_GS, v, reason, sizeof reason));
    assert_int_equal(v[7].type, SH_INT);
    assert_int_equal(v[7].u.i, 0);
    /* fields in another order, complex fields the reader lacks, promotions
     * (int -> long, bytes -> string), a union writer for a plain reader field */
    assert_null(plan_decode("{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"Tag\","
                            "\"fields\":[{\"name\":\"k\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"long\"}]}}},"
                            F_UID "," F_GS ",{\"name\":\"eventtimestamp\",\"type\":\"long\"},"
                            "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":\"double\"}},"
                            "{\"name\":\"ip\",\"type\":[\"null\",\"bytes\"]}," F_DEV "," F_PT "," F_ET "," F_PGS,
                            v, reason, sizeof reason));
    /* a removed field without a default */
    const char *e = plan_decode(F_IP "," F_TS "," F_ET "," F_PT "," F_UID "," F_GS "," F_PGS, v, reason, sizeof reason);
    assert_non_null(e);
    assert_non_null(strstr(e, "'devicetype' is not in the writer's schema and has no default"));
    /* a type change */
    e = plan_decode(F_IP ",{\"name\":\"eventtimestamp\",\"type\":\"string\"}," F_DEV "," F_ET "," F_PT "," F_UID "," F_GS,
                    v, reason, sizeof reason);
    assert_non_null(e);
    assert_non_null(strstr(e, "field 'eventtimestamp': the writer's string cannot be read as the reader's long"));
    /* no demotion: long -> int */
    e = plan_decode(F_IP "," F_TS "," F_DEV "," F_ET "," F_PT ",{\"name\":\"userid\",\"type\":\"long\"}," F_GS, v, reason,
                    sizeof reason);
    assert_non_null(e);
    assert_non_null(strstr(e, "field 'userid'"));
    /* a writer union with no readable branch */
    e = plan_decode(F_IP "," F_TS "," F_DEV "," F_ET "," F_PT ",{\"name\":\"userid\",\"type\":[\"null\",\"string\"]}," F_GS,
                    v, reason, sizeof reason);
    assert_non_null(e);
    assert_non_null(strstr(e, "no branch of the writer's union"));
    /* not a record */
    char err[256];
    assert_null(avro_plan_new(codec, "\"string\"", 8, err, sizeof err));
    assert_null(avro_plan_new(codec, "{bad", 4, err, sizeof err));
}

/* A null in a writer union for a reader field that is not nullable fails
 * that message only, as incompatible_schema. */
static void set_null_ip(avro_value_t *rec, void *arg)
{
    set_click(rec, arg);
    set_str(rec, "ip", NULL);
}

static void test_plan_union_branch_at_runtime(void **st)
{
    (void)st;
    char json[2048], err[256], reason[256], buf[512];
    snprintf(json, sizeof json, "%s{\"name\":\"ip\",\"type\":[\"null\",\"string\"]}," F_TS "," F_DEV "," F_ET "," F_PT
             "," F_UID "," F_GS "," F_PGS "]}", V1_HEAD);
    avro_plan *p = avro_plan_new(codec, json, strlen(json), err, sizeof err);
    assert_non_null(p);
    size_t n = avro_c_encode(json, set_null_ip, NULL, buf, sizeof buf);
    sh_value v[8];
    arena a = {0};
    assert_int_equal(avro_plan_decode(p, (unsigned char *)buf, n, v, &a, reason, sizeof reason), -1);
    assert_non_null(strstr(reason, "incompatible_schema: field 'ip'"));
    n = avro_c_encode(json, set_click, NULL, buf, sizeof buf);
    assert_int_equal(avro_plan_decode(p, (unsigned char *)buf, n, v, &a, reason, sizeof reason), 0);
    check_decoded(v);
    /* truncated and corrupt bodies of a plan with skips: refused, never read past the end */
    avro_plan_free(p);
    arena_free(&a);
}

/* Aliases, defaults of each type, enums by symbol. */
static void set_enum_rec(avro_value_t *rec, void *arg)
{
    avro_value_t f;
    avro_value_get_by_name(rec, "old_name", &f, NULL);
    avro_value_set_int(&f, 99);
    avro_value_get_by_name(rec, "color", &f, NULL);
    avro_value_set_enum(&f, *(int *)arg);
}

static void test_plan_aliases_defaults_enums(void **st)
{
    (void)st;
    const char *reader = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                         "{\"name\":\"n\",\"type\":\"long\",\"aliases\":[\"old_name\"]},"
                         "{\"name\":\"color\",\"type\":{\"type\":\"enum\",\"name\":\"Color\",\"symbols\":[\"RED\",\"GREEN\",\"BLUE\"]}},"
                         "{\"name\":\"s\",\"type\":\"string\",\"default\":\"dflt\"},"
                         "{\"name\":\"d\",\"type\":\"double\",\"default\":2.5},"
                         "{\"name\":\"b\",\"type\":\"boolean\",\"default\":true},"
                         "{\"name\":\"o\",\"type\":[\"null\",\"int\"],\"default\":null},"
                         "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E2\",\"symbols\":[\"X\",\"Y\"]},\"default\":\"Y\"}]}";
    const char *writer = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                         "{\"name\":\"color\",\"type\":{\"type\":\"enum\",\"name\":\"Color\",\"symbols\":[\"BLUE\",\"PINK\",\"RED\"]}},"
                         "{\"name\":\"old_name\",\"type\":\"int\"}]}";
    char err[512], reason[256], buf[256];
    avro_codec *rc = avro_codec_new_json(reader, strlen(reader), "reader", "s", err, sizeof err);
    if (!rc)
        fail_msg("%s", err);
    avro_plan *p = avro_plan_new(rc, writer, strlen(writer), err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    sh_value v[7];
    arena a = {0};
    int sym = 0; /* BLUE */
    size_t n = avro_c_encode(writer, set_enum_rec, &sym, buf, sizeof buf);
    assert_int_equal(avro_plan_decode(p, (unsigned char *)buf, n, v, &a, reason, sizeof reason), 0);
    assert_int_equal(v[0].type, SH_INT);
    assert_int_equal(v[0].u.i, 99);
    assert_int_equal(v[1].type, SH_STRING);
    assert_memory_equal(v[1].u.s.ptr, "BLUE", 4);
    assert_memory_equal(v[2].u.s.ptr, "dflt", 4);
    assert_true(v[3].type == SH_DOUBLE && v[3].u.d == 2.5);
    assert_true(v[4].type == SH_BOOL && v[4].u.b);
    assert_int_equal(v[5].type, SH_NULL);
    assert_memory_equal(v[6].u.s.ptr, "Y", 1);
    sym = 1; /* PINK: not a reader symbol */
    n = avro_c_encode(writer, set_enum_rec, &sym, buf, sizeof buf);
    assert_int_equal(avro_plan_decode(p, (unsigned char *)buf, n, v, &a, reason, sizeof reason), -1);
    assert_non_null(strstr(reason, "incompatible_schema: field 'color': the writer's symbol 'PINK'"));
    avro_plan_free(p);
    /* an enum of another name */
    const char *w2 = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"n\",\"type\":\"long\"},"
                     "{\"name\":\"color\",\"type\":{\"type\":\"enum\",\"name\":\"Hue\",\"symbols\":[\"RED\"]}}]}";
    assert_null(avro_plan_new(rc, w2, strlen(w2), err, sizeof err));
    assert_non_null(strstr(err, "enum Hue is not the reader's enum Color"));
    avro_codec_free(rc);
    arena_free(&a);
    /* a default that does not match its type is refused when the reader is loaded */
    const char *bad = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"n\",\"type\":\"long\",\"default\":\"x\"}]}";
    assert_null(avro_codec_new_json(bad, strlen(bad), "bad.avsc", "s", err, sizeof err));
    assert_non_null(strstr(err, "bad.avsc: field 'n': its default does not match its type"));
}

/* --- randomized: the plan against avro-c's own schema resolution ---------- */

/* schema texts are built in fixed buffers far larger than they grow */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static uint64_t rs;
static uint32_t rnd(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs % n);
}

static const char *const PRIMS[] = {"string", "long", "int", "double", "float", "boolean"};
static int nnamed;

/* A random type the reader could hold (primitive or enum, maybe nullable). */
static void reader_type(char *out, size_t n, int *kind, int *nullable)
{
    *kind = (int)rnd(7);
    *nullable = (int)rnd(3) == 0;
    char base[256];
    if (*kind == 6)
        snprintf(base, sizeof base, "{\"type\":\"enum\",\"name\":\"En%d\",\"symbols\":[\"A\",\"B\",\"C\"]}", nnamed++);
    else
        snprintf(base, sizeof base, "\"%s\"", PRIMS[*kind]);
    if (*nullable)
        snprintf(out, n, rnd(2) ? "[\"null\",%s]" : "[%s,\"null\"]", base);
    else
        snprintf(out, n, "%s", base);
}

/* A random type for a field the reader lacks (anything avro-c writes). */
static void extra_type(char *out, size_t n, int depth)
{
    switch (depth > 2 ? rnd(6) : rnd(11)) {
    case 0: snprintf(out, n, "\"null\""); break;
    case 1: snprintf(out, n, "\"bytes\""); break;
    case 2: snprintf(out, n, "\"%s\"", PRIMS[rnd(6)]); break;
    case 3: snprintf(out, n, "{\"type\":\"fixed\",\"name\":\"Fx%d\",\"size\":%u}", nnamed++, rnd(5) + 1); break;
    case 4: snprintf(out, n, "{\"type\":\"enum\",\"name\":\"Ex%d\",\"symbols\":[\"P\",\"Q\"]}", nnamed++); break;
    case 5: snprintf(out, n, "[\"null\",\"%s\"]", PRIMS[rnd(6)]); break;
    case 6:
    case 7: {
        char it[1024];
        extra_type(it, sizeof it, depth + 1);
        snprintf(out, n, "{\"type\":\"%s\",\"%s\":%s}", rnd(2) ? "array" : "map", "items", it);
        if (strstr(out, "\"map\""))
            snprintf(out, n, "{\"type\":\"map\",\"values\":%s}", it);
        break;
    }
    default: {
        char a[1024], b[1024];
        extra_type(a, sizeof a, depth + 1);
        extra_type(b, sizeof b, depth + 1);
        snprintf(out, n, "{\"type\":\"record\",\"name\":\"Rx%d\",\"fields\":[{\"name\":\"a\",\"type\":%s},{\"name\":\"b\",\"type\":%s}]}",
                 nnamed++, a, b);
    }
    }
}

/* A writer type for a reader field: mostly the same, sometimes promoted,
 * changed, or made a union. */
static void writer_type(char *out, size_t n, const char *rtype, int kind)
{
    static const char *const promo[][3] = {{"bytes", NULL, NULL}, {"int", NULL, NULL}, {NULL, NULL, NULL},
                                           {"int", "long", "float"}, {"int", "long", NULL}, {NULL, NULL, NULL}};
    char base[512];
    uint32_t r = rnd(10);
    if (kind == 6 || r < 4) {
        snprintf(out, n, "%s", rtype);
        return;
    }
    if (r < 7 && promo[kind][0]) {
        int k = 0;
        while (k < 2 && promo[kind][k + 1] && rnd(2))
            k++;
        snprintf(base, sizeof base, "\"%s\"", promo[kind][k]);
    } else {
        snprintf(base, sizeof base, "\"%s\"", PRIMS[rnd(6)]);
    }
    if (strcmp(base, "\"bytes\"") == 0)
        snprintf(base, sizeof base, "\"string\""); /* avro-c resolves bytes -> string differently: left out */
    switch (rnd(3)) {
    case 0: snprintf(out, n, "%s", base); break;
    case 1: snprintf(out, n, "[\"null\",%s]", base); break;
    default: snprintf(out, n, "[%s,\"%s\"]", base, PRIMS[rnd(6)]); break;
    }
    if (strchr(out, '[') && strstr(out + 1, base) != strrchr(out, '"') - strlen(base) + 1) {
        /* fine either way; duplicates are caught below */
    }
    {
        /* a union may not repeat a type: fall back to the plain type */
        char *a = strchr(out, '"'), tmp[64];
        if (out[0] == '[' && a) {
            char *e = strchr(a + 1, '"');
            snprintf(tmp, sizeof tmp, "%.*s", (int)(e - a + 1), a);
            if (strstr(e + 1, tmp))
                snprintf(out, n, "%s", base);
        }
    }
}

/* Random values for everything in a writer datum. */
static void fill_random(avro_value_t *v)
{
    avro_value_t c;
    char s[16];
    switch (avro_value_get_type(v)) {
    case AVRO_NULL: avro_value_set_null(v); break;
    case AVRO_BOOLEAN: avro_value_set_boolean(v, (int)rnd(2)); break;
    case AVRO_INT32: avro_value_set_int(v, (int32_t)(rnd(2000001) - 1000000)); break;
    case AVRO_INT64: avro_value_set_long(v, ((int64_t)rnd(1u << 30) << 20) - ((int64_t)1 << 49)); break;
    case AVRO_FLOAT: avro_value_set_float(v, (float)rnd(100000) / 7.0f); break;
    case AVRO_DOUBLE: avro_value_set_double(v, (double)rnd(1000000) / 3.0); break;
    case AVRO_STRING:
    case AVRO_BYTES: {
        size_t n = rnd(9);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)('a' + rnd(26));
        s[n] = 0;
        if (avro_value_get_type(v) == AVRO_STRING)
            avro_value_set_string_len(v, s, n + 1);
        else
            avro_value_set_bytes(v, s, n);
        break;
    }
    case AVRO_FIXED: {
        avro_schema_t fs = avro_value_get_schema(v);
        size_t n = (size_t)avro_schema_fixed_size(fs);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)rnd(256);
        avro_value_set_fixed(v, s, n);
        break;
    }
    case AVRO_ENUM: {
        avro_schema_t es = avro_value_get_schema(v);
        avro_value_set_enum(v, (int)rnd((uint32_t)avro_schema_enum_number_of_symbols(es)));
        break;
    }
    case AVRO_UNION: {
        avro_schema_t us = avro_value_get_schema(v);
        avro_value_set_branch(v, (int)rnd((uint32_t)avro_schema_union_size(us)), &c);
        fill_random(&c);
        break;
    }
    case AVRO_RECORD: {
        size_t n;
        avro_value_get_size(v, &n);
        for (size_t i = 0; i < n; i++) {
            avro_value_get_by_index(v, i, &c, NULL);
            fill_random(&c);
        }
        break;
    }
    case AVRO_ARRAY: {
        uint32_t n = rnd(4);
        for (uint32_t i = 0; i < n; i++) {
            avro_value_append(v, &c, NULL);
            fill_random(&c);
        }
        break;
    }
    case AVRO_MAP: {
        uint32_t n = rnd(3);
        for (uint32_t i = 0; i < n; i++) {
            char key[8];
            snprintf(key, sizeof key, "k%u", i);
            avro_value_add(v, key, &c, NULL, NULL);
            fill_random(&c);
        }
        break;
    }
    default: break;
    }
}

/* Our value against avro-c's resolved reader value. */
static void same_value(const sh_value *mine, avro_value_t *theirs, const char *ctx)
{
    avro_value_t b = *theirs;
    if (avro_value_get_type(&b) == AVRO_UNION) {
        avro_value_get_current_branch(theirs, &b);
    }
    switch (avro_value_get_type(&b)) {
    case AVRO_NULL:
        if (mine->type != SH_NULL)
            fail_msg("%s: expected null", ctx);
        break;
    case AVRO_STRING: {
        const char *p;
        size_t n;
        avro_value_get_string(&b, &p, &n);
        if (mine->type != SH_STRING || mine->u.s.len != n - 1 || memcmp(mine->u.s.ptr, p, n - 1) != 0)
            fail_msg("%s: string differs", ctx);
        break;
    }
    case AVRO_INT64:
    case AVRO_INT32: {
        int64_t x = 0;
        int32_t y;
        if (avro_value_get_type(&b) == AVRO_INT64)
            avro_value_get_long(&b, &x);
        else {
            avro_value_get_int(&b, &y);
            x = y;
        }
        if (mine->type != SH_INT || mine->u.i != x)
            fail_msg("%s: integer differs (%lld vs %lld)", ctx, (long long)mine->u.i, (long long)x);
        break;
    }
    case AVRO_FLOAT: {
        float f;
        avro_value_get_float(&b, &f);
        if (mine->type != SH_DOUBLE || (float)mine->u.d != f)
            fail_msg("%s: float differs (%g vs %g)", ctx, mine->u.d, (double)f);
        break;
    }
    case AVRO_DOUBLE: {
        double d;
        avro_value_get_double(&b, &d);
        if (mine->type != SH_DOUBLE || mine->u.d != d)
            fail_msg("%s: double differs (%.17g vs %.17g)", ctx, mine->u.d, d);
        break;
    }
    case AVRO_BOOLEAN: {
        int x;
        avro_value_get_boolean(&b, &x);
        if (mine->type != SH_BOOL || !mine->u.b != !x)
            fail_msg("%s: boolean differs", ctx);
        break;
    }
    case AVRO_ENUM: {
        int x;
        avro_value_get_enum(&b, &x);
        const char *sym = avro_schema_enum_get(avro_value_get_schema(&b), x);
        if (mine->type != SH_STRING || mine->u.s.len != strlen(sym) || memcmp(mine->u.s.ptr, sym, strlen(sym)))
            fail_msg("%s: enum differs", ctx);
        break;
    }
    default: fail_msg("%s: unexpected reader type", ctx);
    }
}

static void test_plan_random_against_avro_c(void **st)
{
    (void)st;
    rs = 0x9e3779b97f4a7c15ULL;
    int resolvable = 0, unresolvable = 0, decoded = 0, refused = 0;
    for (int round = 0; round < 400; round++) {
        char reader[8192], writer[16384], rtypes[8][512];
        int kinds[8], nulls[8];
        int nf = 1 + (int)rnd(6);
        int o = snprintf(reader, sizeof reader, "{\"type\":\"record\",\"name\":\"R\",\"fields\":[");
        for (int i = 0; i < nf; i++) {
            reader_type(rtypes[i], sizeof rtypes[i], &kinds[i], &nulls[i]);
            o += snprintf(reader + o, sizeof reader - (size_t)o, "%s{\"name\":\"f%d\",\"type\":%s}", i ? "," : "", i,
                          rtypes[i]);
        }
        snprintf(reader + o, sizeof reader - (size_t)o, "]}");
        /* writer: the reader's fields (maybe changed or dropped) and extras, shuffled */
        char items[16][2048];
        int ni = 0, dropped = 0;
        for (int i = 0; i < nf; i++) {
            if (rnd(20) == 0) {
                dropped = 1; /* no default: cannot resolve */
                continue;
            }
            char wt[1024];
            writer_type(wt, sizeof wt, rtypes[i], kinds[i]);
            snprintf(items[ni++], sizeof items[0], "{\"name\":\"f%d\",\"type\":%s}", i, wt);
        }
        int nx = (int)rnd(4);
        for (int i = 0; i < nx; i++) {
            char xt[1800];
            extra_type(xt, sizeof xt, 0);
            snprintf(items[ni++], sizeof items[0], "{\"name\":\"x%d\",\"type\":%s}", i, xt);
        }
        for (int i = ni - 1; i > 0; i--) {
            int j = (int)rnd((uint32_t)i + 1);
            char tmp[2048];
            memcpy(tmp, items[i], sizeof tmp);
            memcpy(items[i], items[j], sizeof tmp);
            memcpy(items[j], tmp, sizeof tmp);
        }
        o = snprintf(writer, sizeof writer, "{\"type\":\"record\",\"name\":\"R\",\"fields\":[");
        for (int i = 0; i < ni; i++)
            o += snprintf(writer + o, sizeof writer - (size_t)o, "%s%s", i ? "," : "", items[i]);
        snprintf(writer + o, sizeof writer - (size_t)o, "]}");

        char err[512], ctx[64];
        avro_codec *rc = avro_codec_new_json(reader, strlen(reader), "reader", "s", err, sizeof err);
        if (!rc)
            fail_msg("round %d: reader refused: %s\n%s", round, err, reader);
        avro_schema_t rsch, wsch;
        assert_int_equal(avro_schema_from_json_length(reader, strlen(reader), &rsch), 0);
        if (avro_schema_from_json_length(writer, strlen(writer), &wsch) != 0)
            fail_msg("round %d: writer refused by avro-c: %s\n%s", round, avro_strerror(), writer);
        avro_plan *p = avro_plan_new(rc, writer, strlen(writer), err, sizeof err);
        /* avro-c 1.11 crashes on its error path when a reader field is
         * missing and a writer field is a union (reader {f1: string, f2:
         * boolean}, writer {f1: [float, string]}): not asked then */
        avro_value_iface_t *res = dropped ? NULL : avro_resolved_writer_new(wsch, rsch);
        if (!p != !res)
            fail_msg("round %d: plan %s, avro-c %s (%s)\nreader %s\nwriter %s", round, p ? "built" : "refused",
                     res ? "resolves" : "refuses", p ? avro_strerror() : err, reader, writer);
        if (!p) {
            unresolvable++;
        } else {
            resolvable++;
            avro_value_iface_t *wi = avro_generic_class_from_schema(wsch), *ri = avro_generic_class_from_schema(rsch);
            for (int d = 0; d < 10; d++) {
                avro_value_t wv, rv, resolved;
                avro_generic_value_new(wi, &wv);
                fill_random(&wv);
                char buf[8192];
                avro_writer_t w = avro_writer_memory(buf, sizeof buf);
                assert_int_equal(avro_value_write(w, &wv), 0);
                size_t n = (size_t)avro_writer_tell(w);
                avro_writer_free(w);
                avro_generic_value_new(ri, &rv);
                avro_resolved_writer_new_value(res, &resolved);
                avro_resolved_writer_set_dest(&resolved, &rv);
                avro_reader_t rd = avro_reader_memory(buf, (int64_t)n);
                int theirs = avro_value_read(rd, &resolved);
                avro_reader_free(rd);
                sh_value v[8];
                arena a = {0};
                char reason[512];
                int mine = avro_plan_decode(p, (unsigned char *)buf, n, v, &a, reason, sizeof reason);
                if ((mine == 0) != (theirs == 0))
                    fail_msg("round %d datum %d: mine %s (%s), avro-c %s\nreader %s\nwriter %s", round, d,
                             mine ? "failed" : "ok", mine ? reason : "", theirs ? "failed" : "ok", reader, writer);
                if (mine == 0) {
                    decoded++;
                    for (int i = 0; i < nf; i++) {
                        avro_value_t f;
                        avro_value_get_by_index(&rv, (size_t)i, &f, NULL);
                        snprintf(ctx, sizeof ctx, "round %d datum %d field f%d", round, d, i);
                        same_value(&v[i], &f, ctx);
                    }
                } else {
                    refused++;
                    assert_non_null(strstr(reason, "incompatible_schema"));
                }
                arena_free(&a);
                avro_value_decref(&resolved);
                avro_value_decref(&rv);
                avro_value_decref(&wv);
                /* every cut of the body is refused without reading past it */
                if (d == 0)
                    for (size_t cut = 0; cut < n; cut++) {
                        unsigned char *copy = malloc(cut ? cut : 1);
                        memcpy(copy, buf, cut);
                        arena b = {0};
                        assert_int_equal(avro_plan_decode(p, copy, cut, v, &b, reason, sizeof reason), -1);
                        arena_free(&b);
                        free(copy);
                    }
            }
            avro_value_iface_decref(wi);
            avro_value_iface_decref(ri);
        }
        if (res)
            avro_value_iface_decref(res);
        avro_plan_free(p);
        avro_codec_free(rc);
        avro_schema_decref(rsch);
        avro_schema_decref(wsch);
    }
    printf("plans: %d resolvable, %d not; data: %d decoded, %d refused (both agree)\n", resolvable, unresolvable,
           decoded, refused);
    assert_true(resolvable > 100 && unresolvable > 20 && refused > 10);
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
        cmocka_unit_test(test_plan_evolution),
        cmocka_unit_test(test_plan_union_branch_at_runtime),
        cmocka_unit_test(test_plan_aliases_defaults_enums),
        cmocka_unit_test(test_plan_random_against_avro_c),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
