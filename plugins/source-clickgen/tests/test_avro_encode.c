/* test_avro_encode.c - the host's hand-written Avro encoder (avro_codec_encode,
 * the generator's hot path into the Kafka sink) gives byte for byte what
 * avro-c gives (avro_codec_encode_reference): on clickgen's own events with
 * schema.version 1 and 2, each written with the v1 and the v2 schema, in
 * every framing; and on random records of random schemas (every supported
 * type, unions with null first or second, nulls, missing and extra fields,
 * boundary integers, NaN and infinities, strings with NUL bytes and longer
 * than avro-c's scratch).  Records that do not fit are refused by both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_codec.h"
#include "clickgen.h"
#include "testhost.h"

const sh_plugin *streamhost_plugin_entry(uint32_t);

static const unsigned char UUID1[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
static const framing_t framings[] = {FRAMING_BARE, FRAMING_CONFLUENT, FRAMING_GLUE, FRAMING_GLUE};

static uint64_t compared; /* records compared, over all tests (printed) */

/* Encodes r both ways in every framing; both must agree on success and, on
 * success, on every byte.  Returns 0 when both encoded it. */
static int compare_encoders(avro_codec *c, const sh_record *r)
{
    int ok = -1;
    for (size_t f = 0; f < sizeof framings / sizeof framings[0]; f++) {
        int zlib = f == 3;
        sh_buf a = {0}, b = {0};
        char ea[256] = "", eb[256] = "";
        int32_t id = (int32_t)(0x81020304u + (uint32_t)f); /* a negative id: the header is unsigned */
        int ra = avro_codec_encode(c, framings[f], id, UUID1, zlib, r, &a, ea, sizeof ea);
        int rb = avro_codec_encode_reference(c, framings[f], id, UUID1, zlib, r, &b, eb, sizeof eb);
        if (ra != rb)
            fail_msg("hand-written %d (%s), avro-c %d (%s)", ra, ea, rb, eb);
        if (ra == 0) {
            if (a.len != b.len)
                fail_msg("framing %zu: %zu bytes, avro-c %zu", f, a.len, b.len);
            assert_memory_equal(a.data, b.data, a.len);
            compared++;
            ok = 0;
        } else {
            assert_string_equal(ea, eb); /* the same reason */
        }
        sh_buf_free(&a);
        sh_buf_free(&b);
    }
    return ok;
}

/* --- clickgen's events ------------------------------------------------------ */

static void clickgen_events(const char *version, const char *seed, const char *users)
{
    char kv_users[64], kv_seed[64], kv_version[64];
    snprintf(kv_users, sizeof kv_users, "users=%s", users);
    snprintf(kv_seed, sizeof kv_seed, "seed=%s", seed);
    snprintf(kv_version, sizeof kv_version, "schema.version=%s", version);
    const char *kv[] = {kv_users, kv_seed, kv_version, "start_time=1700000000000", "max_events=8000", NULL};
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), kv);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_OK);
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    for (int i = 0; i < 1000; i++) {
        sh_rc rc = p->poll(th_state(th), 997, 0);
        if (rc == SH_DONE)
            break;
        assert_int_equal(rc, SH_OK);
    }
    assert_int_equal(th_count(th), 8000);
    char err[512];
    avro_codec *v1 = avro_codec_new("conf/ClickEvent.avsc", "clickstream", err, sizeof err);
    avro_codec *v2 = avro_codec_new("conf/ClickEvent-v2.avsc", "clickstream", err, sizeof err);
    assert_non_null(v1);
    assert_non_null(v2);
    for (size_t i = 0; i < th_count(th); i++) {
        const th_rec *t = th_get(th, i);
        sh_record r = {.schema = t->schema, .time = t->time, .key = {t->key, strlen(t->key)}, .values = t->values};
        assert_int_equal(compare_encoders(v1, &r), 0);
        assert_int_equal(compare_encoders(v2, &r), 0);
    }
    avro_codec_free(v1);
    avro_codec_free(v2);
    th_clear(th);
    th_free(th);
}

static void test_clickgen_v1(void **st)
{
    (void)st;
    clickgen_events("1", "42", "20000");
    clickgen_events("1", "7", "3");
}

static void test_clickgen_v2(void **st)
{
    (void)st;
    clickgen_events("2", "42", "20000");
    clickgen_events("2", "123456789", "50");
}

/* --- random schemas and records ------------------------------------------------ */

static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint64_t rnd(void)
{
    return prng_splitmix64(&rng);
}
static uint64_t below(uint64_t n)
{
    return rnd() % n;
}

enum { K_STRING, K_LONG, K_INT, K_DOUBLE, K_FLOAT, K_BOOL, K_ENUM, K_KINDS };
static const char *const kind_json[K_KINDS] = {
    "\"string\"", "\"long\"", "\"int\"", "\"double\"", "\"float\"", "\"boolean\"", NULL};

#define MAXF 12
typedef struct {
    int n;
    int kind[MAXF];
    int nullable[MAXF];
    char name[MAXF][12];
} rschema;

static char *schema_json(const rschema *s)
{
    size_t cap = 8192;
    char *j = malloc(cap);
    size_t o = (size_t)snprintf(j, cap, "{\"type\":\"record\",\"name\":\"R\",\"fields\":[");
    for (int i = 0; i < s->n; i++) {
        char t[256];
        if (s->kind[i] == K_ENUM)
            snprintf(t, sizeof t, "{\"type\":\"enum\",\"name\":\"E%d\",\"symbols\":[\"A\",\"BB\",\"C\",\"dd\",\"e\"]}", i);
        else
            snprintf(t, sizeof t, "%s", kind_json[s->kind[i]]);
        char u[300];
        if (s->nullable[i] == 1)
            snprintf(u, sizeof u, "[\"null\",%s]", t);
        else if (s->nullable[i] == 2)
            snprintf(u, sizeof u, "[%s,\"null\"]", t);
        else
            snprintf(u, sizeof u, "%s", t);
        o += (size_t)snprintf(j + o, cap - o, "%s{\"name\":\"%s\",\"type\":%s}", i ? "," : "", s->name[i], u);
    }
    snprintf(j + o, cap - o, "]}");
    return j;
}

static double special_double(void)
{
    static const double d[] = {0.0, -0.0, 1.0, -1.5, 1e308, -1e-308, 5e-324, 3.4028235e38, 1e39};
    switch (below(4)) {
    case 0: return d[below(sizeof d / sizeof d[0])];
    case 1: return below(2) ? INFINITY : -INFINITY;
    case 2: return NAN;
    default: {
        uint64_t bits = rnd();
        double x;
        memcpy(&x, &bits, 8);
        return x;
    }
    }
}

static int64_t special_int(void)
{
    static const int64_t v[] = {0, 1, -1, 63, 64, -64, -65, 127, 128, INT32_MAX, INT32_MIN,
                                (int64_t)INT32_MAX + 1, (int64_t)INT32_MIN - 1, INT64_MAX, INT64_MIN};
    switch (below(3)) {
    case 0: return v[below(sizeof v / sizeof v[0])];
    case 1: return (int64_t)rnd() >> below(64);
    default: return (int64_t)(int32_t)rnd() >> below(32);
    }
}

/* A value for a field of kind k: usually one that fits, sometimes not. */
static sh_value random_value(int k, char *sbuf, size_t scap)
{
    if (below(16) == 0)
        return sh_v_null(); /* refused when not nullable */
    int wrong = below(64) == 0;
    sh_value v = {0};
    switch (wrong ? (int)below(K_KINDS) : k) {
    case K_STRING:
    case K_ENUM:
        if (k == K_ENUM && !wrong && below(8)) {
            static const char *const syms[] = {"A", "BB", "C", "dd", "e"};
            const char *s = syms[below(5)];
            return sh_v_str(s, strlen(s));
        } else {
            size_t n = below(4) == 0 ? 400 + below(800) : below(30);
            if (n > scap)
                n = scap;
            for (size_t i = 0; i < n; i++)
                sbuf[i] = (char)(below(5) == 0 ? 0 : rnd());
            return sh_v_str(sbuf, n);
        }
    case K_LONG:
    case K_INT: return sh_v_int(k == K_INT && below(3) ? (int64_t)(int32_t)special_int() : special_int());
    case K_DOUBLE:
    case K_FLOAT:
        if (below(4) == 0)
            return sh_v_int(special_int());
        v.type = SH_DOUBLE;
        v.u.d = special_double();
        return v;
    default:
        v.type = SH_BOOL;
        v.u.b = (int)below(2);
        return v;
    }
}

static void test_random_schemas(void **st)
{
    (void)st;
    static char sbuf[MAXF][1200];
    uint64_t encoded = 0, refused = 0;
    for (int round = 0; round < 200; round++) {
        rschema s = {.n = 1 + (int)below(MAXF)};
        for (int i = 0; i < s.n; i++) {
            s.kind[i] = (int)below(K_KINDS);
            s.nullable[i] = (int)below(3);
            snprintf(s.name[i], sizeof s.name[i], "f%d", i);
        }
        char *json = schema_json(&s);
        char err[512];
        avro_codec *c = avro_codec_new_json(json, strlen(json), "random schema", "r", err, sizeof err);
        if (!c)
            fail_msg("%s: %s", json, err);
        /* the records' schema: the codec's fields shuffled, one extra, sometimes one left out */
        sh_field rf[MAXF + 1];
        int map[MAXF + 1];
        int nr = 0;
        int drop = below(4) == 0 ? (int)below((uint64_t)s.n) : -1;
        for (int i = 0; i < s.n; i++)
            if (i != drop)
                map[nr++] = i;
        for (int i = nr - 1; i > 0; i--) {
            int k = (int)below((uint64_t)i + 1), t = map[i];
            map[i] = map[k];
            map[k] = t;
        }
        const sh_schema *cs = avro_codec_schema(c);
        for (int i = 0; i < nr; i++)
            rf[i] = cs->fields[map[i]];
        rf[nr] = (sh_field){"extra", SH_STRING};
        map[nr] = -1;
        sh_schema rs = {"r", (uint32_t)nr + 1, rf};
        for (int k = 0; k < 150; k++) {
            sh_value vals[MAXF + 1];
            for (int i = 0; i < nr; i++)
                vals[i] = random_value(s.kind[map[i]], sbuf[i], sizeof sbuf[i]);
            vals[nr] = sh_v_str("ignored", 7);
            sh_record r = {.schema = &rs, .values = vals};
            if (compare_encoders(c, &r) == 0)
                encoded++;
            else
                refused++;
        }
        avro_codec_free(c);
        free(json);
    }
    print_message("random schemas: %llu records encoded identically, %llu refused by both; %llu comparisons in all\n",
                  (unsigned long long)encoded, (unsigned long long)refused, (unsigned long long)compared);
    assert_true(encoded > 8000);
    assert_true(refused > 1000);
}

/* The one documented difference: any nonzero int is true (avro-c would write
 * its low byte). */
static void test_bool_nonzero_is_one(void **st)
{
    (void)st;
    const char *json = "{\"type\":\"record\",\"name\":\"B\",\"fields\":[{\"name\":\"b\",\"type\":\"boolean\"}]}";
    char err[256];
    avro_codec *c = avro_codec_new_json(json, strlen(json), "bool", "b", err, sizeof err);
    assert_non_null(c);
    sh_value v = {.type = SH_BOOL, .u.b = 2};
    sh_record r = {.schema = avro_codec_schema(c), .values = &v};
    sh_buf out = {0};
    assert_int_equal(avro_codec_encode(c, FRAMING_BARE, 0, UUID1, 0, &r, &out, err, sizeof err), 0);
    assert_int_equal(out.len, 1);
    assert_int_equal((unsigned char)out.data[0], 1);
    sh_buf_free(&out);
    avro_codec_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clickgen_v1),
        cmocka_unit_test(test_clickgen_v2),
        cmocka_unit_test(test_random_schemas),
        cmocka_unit_test(test_bool_nonzero_is_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
