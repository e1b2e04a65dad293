/* test_file_sink.c - the JSON-lines file sink: document shape (the worked
 * example's line exactly), every value type, _id omission, truncate vs
 * append, buffering, and acked() only behind flushed output. */
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

#include "doc_line.h"
#include "file_sink.h"
#include "testhost.h"

const sh_plugin *streamhost_plugin_entry(uint32_t);

static const sh_plugin *plugin(void)
{
    return streamhost_plugin_entry(SH_ABI_VERSION);
}

/* --- records ----------------------------------------------------------- */

static const sh_field detail_fields[] = {
    {"userId", SH_INT},          {"eventCount", SH_INT},
    {"orderCheckoutEventCount", SH_INT}, {"deptList", SH_STRLIST},
    {"eventKey", SH_INT},        {"windowBeginTime", SH_INT},
    {"windowEndTime", SH_INT}};
static const sh_schema detail_schema = {"user_session_details", 7, detail_fields};

/* A session record of §7; `dept` is one department. */
static sh_record session(sh_value *v, sh_str *dept, const char *id, int64_t user)
{
    *dept = (sh_str){"laptops", 7};
    v[0] = sh_v_int(user);
    v[1] = sh_v_int(4);
    v[2] = sh_v_int(4);
    v[3].type = SH_STRLIST;
    v[3].u.l = (sh_strlist){dept, 1};
    v[4] = sh_v_int(1);
    v[5] = sh_v_int(1000);
    v[6] = sh_v_int(3600);
    return (sh_record){.schema = &detail_schema, .time = 3599, .key = {"", 0},
                       .id = {id, strlen(id)}, .values = v, .slot = SH_NO_SLOT};
}

static const char SESSION_LINE[] =
    "{\"_index\":\"user_session_details\",\"_id\":\"1001-1000\",\"_source\":{\"userId\":1001,"
    "\"eventCount\":4,\"orderCheckoutEventCount\":4,\"deptList\":[\"laptops\"],\"eventKey\":1,"
    "\"windowBeginTime\":1000,\"windowEndTime\":3600}}\n";

/* --- files ------------------------------------------------------------- */

static char out_path[64];

static int make_path(void **st)
{
    (void)st;
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(out_path, sizeof out_path, "%s/sh-sink-XXXXXX", dir);
    int fd = mkstemp(out_path);
    assert_true(fd >= 0);
    close(fd);
    return 0;
}

static int remove_path(void **st)
{
    (void)st;
    unlink(out_path);
    return 0;
}

static char *slurp(const char *path)
{
    static char text[65536];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static testhost *open_sink(const char *extra1, const char *extra2)
{
    static char path_kv[100];
    snprintf(path_kv, sizeof path_kv, "path=%s", out_path);
    const char *kv[] = {path_kv, extra1, extra2, NULL};
    testhost *th = th_new(plugin(), kv);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_OK);
    return th;
}

/* --- tests ------------------------------------------------------------- */

static void test_worked_example_line(void **st)
{
    (void)st;
    sh_value v[7];
    sh_str dept;
    sh_record r = session(v, &dept, "1001-1000", 1001);
    sh_buf b = {0};
    doc_line_render(&b, &r);
    assert_string_equal(b.data, SESSION_LINE);
    sh_buf_free(&b);
}

static void test_every_value_type(void **st)
{
    (void)st;
    static const sh_field fields[] = {
        {"i", SH_INT},       {"neg", SH_INT},    {"d", SH_DOUBLE},  {"half", SH_DOUBLE},
        {"nan", SH_DOUBLE},  {"t", SH_BOOL},     {"f", SH_BOOL},    {"n", SH_STRING},
        {"s", SH_STRING},    {"empty", SH_STRING}, {"l0", SH_STRLIST}, {"l2", SH_STRLIST}};
    static const sh_schema schema = {"every\"type", 12, fields};
    static const char esc[] = "q\"b\\n\nt\tc\x01u\xc3\xa9";
    sh_str items[2] = {{"cameras", 7}, {"a\"b", 3}};
    sh_value v[12];
    v[0] = sh_v_int(INT64_MAX);
    v[1] = sh_v_int(-42);
    v[2].type = SH_DOUBLE;
    v[2].u.d = 0.1;
    v[3].type = SH_DOUBLE;
    v[3].u.d = 2.5;
    v[4].type = SH_DOUBLE;
    v[4].u.d = NAN;
    v[5].type = SH_BOOL;
    v[5].u.b = 1;
    v[6].type = SH_BOOL;
    v[6].u.b = 0;
    v[7] = sh_v_null();
    v[8] = sh_v_str(esc, sizeof esc - 1);
    v[9] = sh_v_str("", 0);
    v[10].type = SH_STRLIST;
    v[10].u.l = (sh_strlist){NULL, 0};
    v[11].type = SH_STRLIST;
    v[11].u.l = (sh_strlist){items, 2};
    sh_record r = {.schema = &schema, .values = v, .slot = SH_NO_SLOT};
    sh_buf b = {0};
    doc_line_render(&b, &r); /* empty id: no "_id" */
    assert_string_equal(
        b.data,
        "{\"_index\":\"every\\\"type\",\"_source\":{\"i\":9223372036854775807,\"neg\":-42,"
        "\"d\":0.10000000000000001,\"half\":2.5,\"nan\":null,\"t\":true,\"f\":false,"
        "\"n\":null,\"s\":\"q\\\"b\\\\n\\nt\\tc\\u0001u\xc3\xa9\",\"empty\":\"\","
        "\"l0\":[],\"l2\":[\"cameras\",\"a\\\"b\"]}}\n");
    sh_buf_free(&b);
}

static void test_acked_only_after_flush(void **st)
{
    (void)st;
    testhost *th = open_sink("flush.interval=0ms", NULL);
    void *s = th_state(th);
    sh_value v[7];
    sh_str dept;
    sh_record recs[3];
    for (int i = 0; i < 3; i++)
        recs[i] = session(v, &dept, "1001-1000", 1001);
    assert_int_equal(th_process(th, 0, recs, 3), SH_OK);
    assert_int_equal(plugin()->acked(s), 0);
    assert_string_equal(slurp(out_path), ""); /* still buffered */
    assert_int_equal(plugin()->flush(s, 0), SH_OK);
    assert_int_equal(plugin()->acked(s), 3);
    char expect[4096] = "";
    for (int i = 0; i < 3; i++)
        strcat(expect, SESSION_LINE);
    assert_string_equal(slurp(out_path), expect);
    assert_int_equal(th_process(th, 0, recs, 2), SH_OK);
    assert_int_equal(plugin()->acked(s), 3);
    assert_int_equal(plugin()->tick(s, INT64_MAX / 2), SH_OK); /* no interval: no flush */
    assert_int_equal(plugin()->acked(s), 3);
    assert_int_equal(plugin()->flush(s, 1), SH_OK);
    assert_int_equal(plugin()->acked(s), 5);
    assert_int_equal(th_counter(th, "records_written_total"), 5);
    assert_int_equal(th_counter(th, "written_bytes_total"), 5 * strlen(SESSION_LINE));
    th_free(th);
}

static void test_truncate_and_append(void **st)
{
    (void)st;
    sh_value v[7];
    sh_str dept;
    sh_record r = session(v, &dept, "", 1001);
    const char *no_id =
        "{\"_index\":\"user_session_details\",\"_source\":{\"userId\":1001,\"eventCount\":4,"
        "\"orderCheckoutEventCount\":4,\"deptList\":[\"laptops\"],\"eventKey\":1,"
        "\"windowBeginTime\":1000,\"windowEndTime\":3600}}\n";
    char expect[2048];

    put_file(out_path, "old line\n");
    testhost *th = open_sink(NULL, NULL); /* append = false: truncated at start */
    assert_string_equal(slurp(out_path), "");
    assert_int_equal(th_process(th, 0, &r, 1), SH_OK);
    assert_int_equal(plugin()->flush(th_state(th), 1), SH_OK);
    assert_string_equal(slurp(out_path), no_id);
    th_free(th);

    th = open_sink("append=true", "fsync=true");
    assert_int_equal(th_process(th, 0, &r, 1), SH_OK);
    assert_int_equal(plugin()->flush(th_state(th), 1), SH_OK);
    snprintf(expect, sizeof expect, "%s%s", no_id, no_id);
    assert_string_equal(slurp(out_path), expect);
    th_free(th);
}

static void test_full_buffer_is_written_but_not_acked(void **st)
{
    (void)st;
    testhost *th = open_sink("buffer.size=100", "flush.interval=0ms");
    void *s = th_state(th);
    sh_value v[7];
    sh_str dept;
    sh_record r = session(v, &dept, "1001-1000", 1001);
    assert_int_equal(th_process(th, 0, &r, 1), SH_OK); /* 200 bytes pending */
    assert_int_equal(th_process(th, 0, &r, 1), SH_OK); /* first written first */
    assert_string_equal(slurp(out_path), SESSION_LINE);
    assert_int_equal(plugin()->acked(s), 0); /* written is not flushed */
    assert_int_equal(plugin()->flush(s, 0), SH_OK);
    assert_int_equal(plugin()->acked(s), 2);
    th_free(th);
}

static void test_tick_flushes_after_interval(void **st)
{
    (void)st;
    testhost *th = open_sink("flush.interval=2s", NULL);
    th_set_now(th, 1000);
    void *s = th_state(th);
    assert_int_equal(plugin()->flush(s, 0), SH_OK); /* last flush at 1000 */
    sh_value v[7];
    sh_str dept;
    sh_record r = session(v, &dept, "1001-1000", 1001);
    assert_int_equal(th_process(th, 0, &r, 1), SH_OK);
    assert_int_equal(plugin()->tick(s, 2999), SH_OK);
    assert_int_equal(plugin()->acked(s), 0);
    assert_int_equal(plugin()->tick(s, 3000), SH_OK);
    assert_int_equal(plugin()->acked(s), 1);
    assert_string_equal(slurp(out_path), SESSION_LINE);
    th_free(th);
}

static void test_stop_without_flush_keeps_lines(void **st)
{
    (void)st;
    testhost *th = open_sink(NULL, NULL);
    sh_value v[7];
    sh_str dept;
    sh_record r = session(v, &dept, "1001-1000", 1001);
    assert_int_equal(th_process(th, 0, &r, 1), SH_OK);
    plugin()->stop(th_state(th));
    assert_string_equal(slurp(out_path), SESSION_LINE);
    th_free(th);
}

static void test_stdout_pipe_with_fsync(void **st)
{
    (void)st;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[1]);
    const char *kv[] = {"fsync=true", NULL}; /* path defaults to - */
    testhost *th = th_new(plugin(), kv);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_OK);
    sh_value v[7];
    sh_str dept;
    sh_record r = session(v, &dept, "1001-1000", 1001);
    assert_int_equal(th_process(th, 0, &r, 1), SH_OK);
    /* a pipe cannot be fsync'd: its data counts as delivered once written */
    assert_int_equal(plugin()->flush(th_state(th), 1), SH_OK);
    assert_int_equal(plugin()->acked(th_state(th)), 1);
    th_free(th);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    char text[1024];
    ssize_t n = read(fds[0], text, sizeof text - 1);
    close(fds[0]);
    assert_true(n > 0);
    text[n] = '\0';
    assert_string_equal(text, SESSION_LINE);
}

static void test_open_failure(void **st)
{
    (void)st;
    const char *kv[] = {"path=no/such/dir/out.jsonl", NULL};
    testhost *th = th_new(plugin(), kv);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_FATAL);
    th_free(th);
    const char *empty[] = {"path=", NULL};
    th = th_new(plugin(), empty);
    assert_int_equal(th_init(th), SH_FATAL);
    th_free(th);
}

/* validate() (`streamhost check`) refuses a path `run` could not open,
 * without creating anything. */
static void test_validate(void **st)
{
    (void)st;
    const sh_plugin *p = plugin();
    assert_non_null(p->validate);
    char in_tmp[96];
    snprintf(in_tmp, sizeof in_tmp, "path=/tmp/sh-sink-validate-%d.jsonl", (int)getpid());
    static const char *const bad[][2] = {{"path=no/such/dir/out.jsonl", NULL}, {"path=", NULL},
                                         {"path=/tmp", NULL}, {"path=/proc/version", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (i == 3 && geteuid() == 0)
            continue; /* root may write anything */
        testhost *th = th_new(p, bad[i]);
        assert_non_null(th);
        if (p->validate(th_host(th), th_ctx(th)) != SH_FATAL)
            fail_msg("%s passed validate", bad[i][0]);
        th_free(th);
    }
    const char *good[][2] = {{"path=-", NULL}, {in_tmp, NULL}, {"path=out-validate.jsonl", NULL}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        testhost *th = th_new(p, good[i]);
        assert_int_equal(p->validate(th_host(th), th_ctx(th)), SH_OK);
        th_free(th);
    }
    assert_int_equal(access(in_tmp + 5, F_OK), -1); /* nothing created */
}

static void test_descriptor(void **st)
{
    (void)st;
    assert_string_equal(plugin()->name, "file");
    assert_int_equal(plugin()->kind, SH_SINK);
    assert_non_null(plugin()->acked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_worked_example_line),
        cmocka_unit_test(test_every_value_type),
        cmocka_unit_test_setup_teardown(test_acked_only_after_flush, make_path, remove_path),
        cmocka_unit_test_setup_teardown(test_truncate_and_append, make_path, remove_path),
        cmocka_unit_test_setup_teardown(test_full_buffer_is_written_but_not_acked, make_path,
                                        remove_path),
        cmocka_unit_test_setup_teardown(test_tick_flushes_after_interval, make_path, remove_path),
        cmocka_unit_test_setup_teardown(test_stop_without_flush_keeps_lines, make_path,
                                        remove_path),
        cmocka_unit_test(test_stdout_pipe_with_fsync),
        cmocka_unit_test(test_open_failure),
        cmocka_unit_test(test_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
