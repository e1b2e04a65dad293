/* test_tumble.c - the tumble transform against docs/semantics.md sections 5-7. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "streamhost/record_json.h"
#include "testhost.h"
#include "tumble.h"

const sh_plugin *streamhost_plugin_entry(uint32_t);

#define END INT64_MAX

/* Session records as the session plugin emits them. */
static const sh_field sess_fields[] = {
    {"userId", SH_INT},          {"eventCount", SH_INT},      {"orderCheckoutEventCount", SH_INT},
    {"deptList", SH_STRLIST},    {"eventKey", SH_INT},        {"windowBeginTime", SH_INT},
    {"windowEndTime", SH_INT},
};
static const sh_schema sess_schema = {"user_session_details", 7, sess_fields};

typedef struct in_sess {
    int64_t t;          /* record time = end - 1 */
    int64_t checkout;   /* INT64_MIN: null */
    const char *depts;  /* comma-separated, NULL: null list */
    int32_t slot;
    int64_t offset;
} in_sess;

static sh_rc feed(testhost *th, const in_sess *s, size_t n)
{
    sh_record *recs = calloc(n, sizeof *recs);
    sh_value *vals = calloc(n * 7, sizeof *vals);
    sh_str *items = calloc(n * 32, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        sh_value *v = vals + i * 7;
        v[0] = sh_v_int((int64_t)i);
        v[1] = sh_v_int(1);
        v[2] = s[i].checkout == INT64_MIN ? sh_v_null() : sh_v_int(s[i].checkout);
        if (s[i].depts) {
            sh_str *it = items + i * 32;
            uint32_t k = 0;
            for (const char *p = s[i].depts; *p;) {
                const char *e = strchr(p, ',');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                it[k++] = (sh_str){p, len};
                p += len + (e ? 1 : 0);
            }
            v[3].type = SH_STRLIST;
            v[3].u.l = (sh_strlist){it, k};
        } else {
            v[3] = sh_v_null();
        }
        v[4] = sh_v_int(1);
        v[5] = sh_v_int(s[i].t - 999);
        v[6] = sh_v_int(s[i].t + 1);
        recs[i] = (sh_record){.schema = &sess_schema, .time = s[i].t, .values = v,
                              .slot = s[i].slot, .offset = s[i].offset};
    }
    sh_rc rc = th_process(th, 0, recs, n);
    free(items);
    free(vals);
    free(recs);
    return rc;
}

static testhost *tumble(const char *const *kv)
{
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), kv);
    if (th && th_init(th) != SH_OK) {
        th_free(th);
        return NULL;
    }
    return th;
}

/* th_free destroys the plugin before the captured records that point at its
 * schemas: drop the records first. */
static void done(testhost *th)
{
    th_clear(th);
    th_free(th);
}

static sh_buf doc_buf;

/* "index {json}" of an emitted record, as docs/semantics.md writes documents. */
static const char *doc(const th_rec *r)
{
    sh_record rec = {.schema = r->schema, .values = r->values};
    doc_buf.len = 0;
    sh_buf_puts(&doc_buf, r->schema->name);
    sh_buf_putc(&doc_buf, ' ');
    sh_json_record(&doc_buf, &rec);
    return doc_buf.data;
}

/* docs/semantics.md section 7: the four sessions, then the end of input. */
static void test_worked_example(void **unused)
{
    testhost *th = tumble(NULL);
    assert_non_null(th);
    const in_sess s[] = {
        {3599, 4, "laptops", 0, 0},
        {6899, 0, "", 0, 7},
        {10998, 4, "soundbars", 0, 9},
        {11899, 0, "cameras,laptops", 0, 13},
    };
    assert_int_equal(feed(th, s, 4), SH_OK);
    assert_int_equal(th_count(th), 0);
    assert_int_equal(th_watermark(th, END), SH_OK);
    static const char *want[] = {
        "user_session_counts {\"userSessionCount\":2,\"userSessionCountWithOrderCheckout\":1,\"percentSessionswithBuy\":50,\"windowBeginTime\":0,\"windowEndTime\":10000}",
        "departments_count {\"departmentName\":\"laptops\",\"departmentCount\":1,\"windowBeginTime\":0,\"windowEndTime\":10000}",
        "user_session_counts {\"userSessionCount\":2,\"userSessionCountWithOrderCheckout\":1,\"percentSessionswithBuy\":50,\"windowBeginTime\":10000,\"windowEndTime\":20000}",
        "departments_count {\"departmentName\":\"cameras\",\"departmentCount\":1,\"windowBeginTime\":10000,\"windowEndTime\":20000}",
        "departments_count {\"departmentName\":\"laptops\",\"departmentCount\":1,\"windowBeginTime\":10000,\"windowEndTime\":20000}",
        "departments_count {\"departmentName\":\"soundbars\",\"departmentCount\":1,\"windowBeginTime\":10000,\"windowEndTime\":20000}",
    };
    assert_int_equal(th_count(th), 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(doc(th_get(th, i)), want[i]);
    assert_int_equal(th_last_watermark(th), END);
    assert_int_equal(th_counter(th, "sessions_received_total"), 4);
    assert_int_equal(th_counter(th, "count_documents_emitted_total"), 2);
    assert_int_equal(th_counter(th, "department_documents_emitted_total"), 4);
    assert_int_equal(th_gauge(th, "open_windows"), 0);
    done(th);
}

/* Ids, keys, times and positions of the documents. */
static void test_identity(void **unused)
{
    testhost *th = tumble(NULL);
    const in_sess s[] = {{12345, 1, "video games", 2, 5}};
    assert_int_equal(feed(th, s, 1), SH_OK);
    assert_int_equal(th_watermark(th, 19999), SH_OK);
    assert_int_equal(th_count(th), 2);
    const th_rec *c = th_get(th, 0), *d = th_get(th, 1);
    assert_string_equal(c->id, "10000");
    assert_string_equal(c->key, "10000");
    assert_int_equal(c->time, 19999);
    assert_int_equal(c->slot, SH_NO_SLOT);
    assert_string_equal(d->id, "video games-10000");
    assert_string_equal(th_str(d, "departmentName"), "video games");
    assert_int_equal(d->time, 19999);
    done(th);
}

/* A session counts in the window holding its record time (end - 1). */
static void test_window_boundaries(void **unused)
{
    testhost *th = tumble(NULL);
    const in_sess s[] = {
        {9999, 0, "", 0, 0}, {10000, 0, "", 0, 1}, {0, 0, "", 0, 2},
        {-1, 0, "", 0, 3},   /* before the epoch: floor */
    };
    assert_int_equal(feed(th, s, 4), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 3);
    assert_int_equal(th_int(th_get(th, 0), "windowBeginTime"), -10000);
    assert_int_equal(th_int(th_get(th, 0), "windowEndTime"), 0);
    assert_int_equal(th_int(th_get(th, 0), "userSessionCount"), 1);
    assert_int_equal(th_int(th_get(th, 1), "windowBeginTime"), 0);
    assert_int_equal(th_int(th_get(th, 1), "userSessionCount"), 2);
    assert_int_equal(th_int(th_get(th, 2), "windowBeginTime"), 10000);
    assert_int_equal(th_int(th_get(th, 2), "userSessionCount"), 1);
    assert_int_equal(th_int(th_get(th, 2), "percentSessionswithBuy"), 0);
    assert_int_equal(tb_window_start(-10000, 10000), -10000);
    assert_int_equal(tb_window_start(-10001, 10000), -20000);
    assert_int_equal(tb_window_start(INT64_MIN, 10000), INT64_MIN);
    assert_int_equal(tb_window_start(INT64_MAX, 10000), INT64_MAX - INT64_MAX % 10000);
    done(th);
}

/* Windows fire when the watermark reaches end - 1, in start order, before
 * the watermark is forwarded; windows without sessions produce nothing. */
static void test_firing_and_empty_windows(void **unused)
{
    testhost *th = tumble(NULL);
    const in_sess s[] = {{35000, 1, "a", 0, 0}, {5000, 1, "a", 0, 1}};
    assert_int_equal(feed(th, s, 2), SH_OK);
    assert_int_equal(th_watermark(th, 9998), SH_OK);
    assert_int_equal(th_count(th), 0);
    assert_int_equal(th_last_watermark(th), 9998);
    assert_int_equal(th_watermark(th, 9999), SH_OK);
    assert_int_equal(th_count(th), 2); /* counts + department */
    assert_int_equal(th_int(th_get(th, 0), "windowBeginTime"), 0);
    assert_int_equal(th_gauge(th, "open_windows"), 1);
    assert_int_equal(th_watermark(th, 39998), SH_OK); /* 10000..29999: empty */
    assert_int_equal(th_count(th), 2);
    assert_int_equal(th_watermark(th, 5), SH_OK); /* backwards: ignored */
    assert_int_equal(th_last_watermark(th), 39998);
    assert_int_equal(th_watermark(th, 39999), SH_OK);
    assert_int_equal(th_count(th), 4);
    assert_int_equal(th_int(th_get(th, 2), "windowBeginTime"), 30000);
    done(th);
}

/* percentSessionswithBuy is floor(with * 100 / count). */
static void test_percent_floor(void **unused)
{
    testhost *th = tumble(NULL);
    const in_sess s[] = {
        {1, 3, "", 0, 0},     {2, 0, "", 0, 0},  {3, 0, "", 0, 0},          /* 1/3 */
        {10001, 1, "", 0, 0}, {10002, 2, "", 0, 0}, {10003, INT64_MIN, "", 0, 0}, /* 2/3 */
        {20001, -1, NULL, 0, 0},                                             /* 1/1 */
    };
    assert_int_equal(feed(th, s, 7), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 3);
    assert_int_equal(th_int(th_get(th, 0), "percentSessionswithBuy"), 33);
    assert_int_equal(th_int(th_get(th, 1), "userSessionCountWithOrderCheckout"), 2);
    assert_int_equal(th_int(th_get(th, 1), "percentSessionswithBuy"), 66);
    assert_int_equal(th_int(th_get(th, 2), "percentSessionswithBuy"), 100);
    done(th);
}

/* A department counts sessions: once per session, all sessions. */
static void test_department_counts(void **unused)
{
    testhost *th = tumble(NULL);
    const in_sess s[] = {
        {1, 0, "laptops,cameras", 0, 0}, {2, 5, "laptops", 0, 0},
        {3, 0, "laptops,laptops", 0, 0}, {4, 0, "b,a,B", 0, 0},
    };
    assert_int_equal(feed(th, s, 4), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 6);
    const char *names[] = {"B", "a", "b", "cameras", "laptops"};
    const int64_t counts[] = {1, 1, 1, 1, 3};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(th_str(th_get(th, 1 + i), "departmentName"), names[i]);
        assert_int_equal(th_int(th_get(th, 1 + i), "departmentCount"), counts[i]);
    }
    done(th);
}

/* More documents than one output batch, over several windows. */
static void test_many_departments(void **unused)
{
    testhost *th = tumble(NULL);
    enum { N = 600 };
    static char names[N][8];
    in_sess s[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "d%03d", N - 1 - i);
        s[i] = (in_sess){(i % 2) * 10000, 0, names[i], 0, i};
    }
    assert_int_equal(feed(th, s, N), SH_OK);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), N + 2);
    assert_string_equal(th_get(th, 0)->schema->name, "user_session_counts");
    assert_int_equal(th_int(th_get(th, 0), "userSessionCount"), N / 2);
    for (int i = 1; i < N / 2; i++) {
        const char *a = th_str(th_get(th, (size_t)i), "departmentName");
        const char *b = th_str(th_get(th, (size_t)i + 1), "departmentName");
        assert_true(strcmp(a, b) < 0);
    }
    assert_string_equal(th_get(th, N / 2 + 1)->schema->name, "user_session_counts");
    assert_int_equal(th_int(th_get(th, N / 2 + 1), "windowBeginTime"), 10000);
    done(th);
}

/* A session for a window that already fired goes to the late port. */
static void test_late_session(void **unused)
{
    testhost *th = tumble(NULL);
    assert_int_equal(th_watermark(th, 19999), SH_OK);
    const in_sess s[] = {{15000, 1, "a", 0, 4}, {19999, 1, "a", 0, 5}, {20000, 1, "a", 0, 6}};
    assert_int_equal(feed(th, s, 3), SH_OK);
    assert_int_equal(th_counter(th, "late_sessions_total"), 2);
    assert_int_equal(th_count(th), 2);
    assert_int_equal(th_get(th, 0)->port, 1);
    assert_ptr_equal(th_get(th, 0)->schema, &sess_schema);
    assert_int_equal(th_get(th, 0)->time, 15000);
    assert_int_equal(th_get(th, 1)->offset, 5);
    assert_int_equal(th_watermark(th, END), SH_OK);
    assert_int_equal(th_count(th), 4);
    assert_int_equal(th_int(th_get(th, 2), "windowBeginTime"), 20000);
    done(th);
}

/* held(): per slot, the lowest offset of sessions in open windows. */
static void test_held(void **unused)
{
    testhost *th = tumble(NULL);
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    const in_sess s[] = {
        {1000, 0, "", 0, 50}, {2000, 0, "", 0, 40}, {3000, 0, "", 2, 9},
        {11000, 0, "", 0, 60}, {12000, 0, "", SH_NO_SLOT, 1},
    };
    assert_int_equal(feed(th, s, 5), SH_OK);
    int64_t min[3] = {INT64_MAX, INT64_MAX, INT64_MAX};
    p->held(th_state(th), min, 3);
    assert_int_equal(min[0], 40);
    assert_int_equal(min[1], INT64_MAX);
    assert_int_equal(min[2], 9);
    assert_int_equal(th_watermark(th, 9999), SH_OK);
    int64_t min2[2] = {INT64_MAX, 3};
    p->held(th_state(th), min2, 2);
    assert_int_equal(min2[0], 60);
    assert_int_equal(min2[1], 3);
    done(th);
}

/* Config: names and size; mistakes fail init or the first record. */
static void test_config(void **unused)
{
    const char *kv[] = {"size=1m", "counts_index=c", "departments_index=d",
                        "checkout_field=orderCheckoutEventCount", NULL};
    testhost *th = tumble(kv);
    assert_non_null(th);
    const in_sess s[] = {{59999, 1, "x", 0, 0}};
    assert_int_equal(feed(th, s, 1), SH_OK);
    assert_int_equal(th_watermark(th, 59999), SH_OK);
    assert_int_equal(th_count(th), 2);
    assert_string_equal(th_get(th, 0)->schema->name, "c");
    assert_int_equal(th_int(th_get(th, 0), "windowEndTime"), 60000);
    assert_string_equal(th_get(th, 1)->schema->name, "d");
    done(th);

    const char *zero[] = {"size=0s", NULL};
    th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), zero);
    assert_int_equal(th_init(th), SH_FATAL);
    th_free(th);
    const char *missing[] = {"checkout_field=nope", NULL};
    th = tumble(missing);
    assert_int_equal(feed(th, s, 1), SH_FATAL);
    done(th);
    const char *wrong[] = {"departments_field=userId", NULL};
    th = tumble(wrong);
    assert_int_equal(feed(th, s, 1), SH_FATAL);
    done(th);
}

/* validate() (`streamhost check`) refuses what init refuses. */
static void test_validate(void **unused)
{
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    assert_non_null(p->validate);
    static const char *const bad[][2] = {{"size=0", NULL}, {"size=0s", NULL}, {"counts_index=", NULL},
                                         {"departments_index=", NULL}, {"checkout_field=", NULL},
                                         {"departments_field=", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        testhost *th = th_new(p, bad[i]);
        assert_non_null(th);
        assert_int_equal(p->validate(th_host(th), th_ctx(th)), SH_FATAL);
        th_free(th);
    }
    const char *good[] = {"size=1ms", NULL};
    testhost *th = th_new(p, good);
    assert_int_equal(p->validate(th_host(th), th_ctx(th)), SH_OK);
    th_free(th);
}

static void test_descriptor(void **unused)
{
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    assert_string_equal(p->name, "tumble");
    assert_int_equal(p->kind, SH_TRANSFORM);
    assert_string_equal(p->outputs[0], "late");
    assert_null(p->outputs[1]);
    assert_non_null(p->watermark);
    assert_non_null(p->held);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_window_boundaries),
        cmocka_unit_test(test_firing_and_empty_windows),
        cmocka_unit_test(test_percent_floor),
        cmocka_unit_test(test_department_counts),
        cmocka_unit_test(test_many_departments),
        cmocka_unit_test(test_late_session),
        cmocka_unit_test(test_held),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_descriptor),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sh_buf_free(&doc_buf);
    return rc;
}
