/* test_file_source.c - the JSON-lines file source: the worked example, null
 * unions and defaults, every malformed-line variant (reported with FILE:LINE,
 * run continues), Avro schema errors, batching, pipes and long lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_source.h"
#include "testhost.h"

const sh_plugin *streamhost_plugin_entry(uint32_t);

static const char CLICK_AVSC[] =
    "{\"type\":\"record\",\"name\":\"ClickEvent\",\"fields\":["
    "{\"name\":\"ip\",\"type\":\"string\"},"
    "{\"name\":\"eventtimestamp\",\"type\":\"long\"},"
    "{\"name\":\"devicetype\",\"type\":\"string\"},"
    "{\"name\":\"event_type\",\"type\":[\"string\",\"null\"]},"
    "{\"name\":\"product_type\",\"type\":[\"string\",\"null\"]},"
    "{\"name\":\"userid\",\"type\":\"int\"},"
    "{\"name\":\"globalseq\",\"type\":\"long\"},"
    "{\"name\":\"prevglobalseq\",\"type\":\"long\",\"default\":0}]}";

/* Frees a test host.  Emitted records point at the plugin's schema, which
 * the plugin builds at init and frees in destroy, so they go first. */
static void finish(testhost *th)
{
    if (th)
        th_clear(th);
    th_free(th);
}

/* --- helpers ----------------------------------------------------------- */

/* Temporary files, removed by cleanup(). */
static char tmp_paths[16][64];
static int ntmp;

static const char *write_tmp(const char *content)
{
    char *p = tmp_paths[ntmp++];
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(p, 64, "%s/sh-file-XXXXXX", dir);
    int fd = mkstemp(p);
    assert_true(fd >= 0);
    size_t n = strlen(content);
    assert_int_equal(write(fd, content, n), (ssize_t)n);
    close(fd);
    return p;
}

static int cleanup(void **st)
{
    (void)st;
    for (int i = 0; i < ntmp; i++)
        unlink(tmp_paths[i]);
    ntmp = 0;
    return 0;
}

/* The example file sits in tests/data beside this source file. */
static const char *example_path(void)
{
    static char path[512];
    const char *slash = strrchr(__FILE__, '/');
    int dirlen = slash ? (int)(slash - __FILE__) : 1;
    snprintf(path, sizeof path, "%.*s/data/example.jsonl", dirlen, slash ? __FILE__ : ".");
    return path;
}

/* stderr captured into a buffer, to check what was logged. */
static int saved_stderr = -1;
static char log_path[64];

static void capture_begin(void)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(log_path, sizeof log_path, "%s/sh-log-XXXXXX", dir);
    int fd = mkstemp(log_path);
    assert_true(fd >= 0);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
}

static char *capture_end(void)
{
    static char text[16384];
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    FILE *f = fopen(log_path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    unlink(log_path);
    fputs(text, stderr); /* keep it visible in the test log */
    return text;
}

static testhost *open_source(const char *const *kv)
{
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), kv);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_OK);
    return th;
}

static sh_rc poll_once(testhost *th, size_t max, int timeout_ms)
{
    return streamhost_plugin_entry(SH_ABI_VERSION)->poll(th_state(th), max, timeout_ms);
}

static void run_to_done(testhost *th, size_t max)
{
    for (int i = 0; i < 10000; i++) {
        sh_rc rc = poll_once(th, max, 0);
        if (rc == SH_DONE)
            return;
        assert_int_equal(rc, SH_OK);
    }
    fail_msg("source did not finish");
}

static char kv_buf[8][512];
static const char *kv(int i, const char *key, const char *value)
{
    snprintf(kv_buf[i], sizeof kv_buf[i], "%.100s=%.400s", key, value);
    return kv_buf[i];
}

/* --- tests ------------------------------------------------------------- */

static void test_worked_example(void **st)
{
    (void)st;
    const char *schema = write_tmp(CLICK_AVSC);
    const char *c[] = {kv(0, "path", example_path()), kv(1, "schema.file", schema), NULL};
    testhost *th = open_source(c);
    run_to_done(th, 5);
    assert_int_equal(th_count(th), 21);
    static const int64_t times[21] = {1000, 1200, 1500, 1800, 2100, 2400, 2600,
                                      5000, 5900, 7000, 8000, 8500, 9000, 9500,
                                      9800, 9999, 10100, 10300, 10500, 10700, 10900};
    static const int64_t users[21] = {1001, 1001, 1001, 1001, 1001, 1001, 1001,
                                      3003, 3003, 3003, 3003, 3003, 3003, 2002,
                                      2002, 3003, 2002, 2002, 2002, 2002, 2002};
    for (size_t i = 0; i < 21; i++) {
        const th_rec *r = th_get(th, i);
        assert_int_equal(r->time, times[i]);
        assert_int_equal(th_int(r, "eventtimestamp"), times[i]);
        assert_int_equal(th_int(r, "userid"), users[i]);
        char key[16];
        snprintf(key, sizeof key, "%lld", (long long)users[i]);
        assert_string_equal(r->key, key);
        assert_string_equal(r->id, "");
        assert_int_equal(r->offset, (int64_t)i + 1); /* line number */
        assert_int_equal(r->slot, 0);
        assert_int_equal(th_int(r, "globalseq"), (int64_t)i + 1);
        assert_string_equal(r->schema->name, "clickstream");
    }
    assert_string_equal(th_str(th_get(th, 2), "product_type"), "laptops");
    assert_string_equal(th_str(th_get(th, 6), "event_type"), "");
    assert_string_equal(th_str(th_get(th, 18), "event_type"), "remove_from_cart");
    assert_int_equal(th_counter(th, "records_total"), 21);
    assert_int_equal(th_counter(th, "malformed_lines_total"), 0);
    assert_int_equal(poll_once(th, 5, 0), SH_DONE); /* stays done */
    finish(th);
}

static void test_default_schema_file_and_keys(void **st)
{
    (void)st;
    /* schema.file defaults to conf/ClickEvent.avsc (run from the repo root) */
    const char *c[] = {kv(0, "path", example_path()), "key.field=ip", "stream=clicks", NULL};
    testhost *th = open_source(c);
    run_to_done(th, 100);
    assert_int_equal(th_count(th), 21);
    assert_string_equal(th_get(th, 0)->key, "66.249.1.17");
    assert_string_equal(th_get(th, 0)->schema->name, "clicks");
    finish(th);

    const char *schema = write_tmp(CLICK_AVSC);
    const char *d[] = {kv(0, "path", example_path()), kv(1, "schema.file", schema),
                       "key.field=", "time.field=", NULL};
    th = open_source(d);
    run_to_done(th, 100);
    assert_string_equal(th_get(th, 3)->key, "");
    assert_int_equal(th_get(th, 3)->time, 0);
    finish(th);
}

static void test_null_unions_and_defaults(void **st)
{
    (void)st;
    const char *schema = write_tmp(CLICK_AVSC);
    const char *data = write_tmp(
        /* explicit nulls */
        "{\"ip\":\"1.2.3.4\",\"eventtimestamp\":5,\"devicetype\":\"tablet\","
        "\"event_type\":null,\"product_type\":null,\"userid\":7,\"globalseq\":1,"
        "\"prevglobalseq\":0}\n"
        /* absent unions, absent defaulted field, an unknown extra key */
        "{\"ip\":\"1.2.3.4\",\"eventtimestamp\":6,\"devicetype\":\"tablet\","
        "\"userid\":7,\"globalseq\":2,\"extra\":[1,2,{\"x\":null}]}\r\n"
        /* escapes and non-ASCII survive; no final newline */
        "{\"ip\":\"a\\\"b\\u00e9\\n\",\"eventtimestamp\":7,\"devicetype\":\"t\","
        "\"event_type\":\"x\",\"product_type\":\"\",\"userid\":-7,\"globalseq\":3,"
        "\"prevglobalseq\":2}");
    const char *c[] = {kv(0, "path", data), kv(1, "schema.file", schema), NULL};
    testhost *th = open_source(c);
    run_to_done(th, 100);
    assert_int_equal(th_count(th), 3);
    const th_rec *a = th_get(th, 0), *b = th_get(th, 1), *d = th_get(th, 2);
    assert_true(th_is_null(a, "event_type"));
    assert_true(th_is_null(a, "product_type"));
    assert_true(th_is_null(b, "event_type"));
    assert_true(th_is_null(b, "product_type"));
    assert_int_equal(th_int(b, "prevglobalseq"), 0);
    assert_string_equal(th_str(d, "ip"), "a\"b\xc3\xa9\n");
    assert_string_equal(th_str(d, "product_type"), "");
    assert_string_equal(d->key, "-7");
    assert_int_equal(th_dead_letters(th), 0);
    finish(th);
}

static void test_other_types(void **st)
{
    (void)st;
    const char *schema = write_tmp(
        "{\"type\":\"record\",\"name\":\"T\",\"fields\":["
        "{\"name\":\"t\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
        "{\"name\":\"d\",\"type\":\"double\"},"
        "{\"name\":\"f\",\"type\":[\"null\",\"float\"]},"
        "{\"name\":\"b\",\"type\":\"boolean\"},"
        "{\"name\":\"s\",\"type\":{\"type\":\"string\",\"avro.java.string\":\"String\"},"
        "\"default\":\"none\"},"
        "{\"name\":\"n\",\"type\":[\"null\",\"long\"],\"default\":null}]}");
    const char *data = write_tmp("{\"t\":10,\"d\":1.5,\"f\":2,\"b\":true}\n"
                                 "{\"t\":11,\"d\":-3,\"f\":null,\"b\":false,\"s\":\"x\",\"n\":4}\n");
    const char *c[] = {kv(0, "path", data), kv(1, "schema.file", schema), "time.field=t",
                       "key.field=b", NULL};
    testhost *th = open_source(c);
    run_to_done(th, 100);
    assert_int_equal(th_count(th), 2);
    const th_rec *a = th_get(th, 0), *b = th_get(th, 1);
    assert_int_equal(a->time, 10);
    assert_string_equal(a->key, "true");
    assert_int_equal(a->values[1].type, SH_DOUBLE);
    assert_true(a->values[1].u.d == 1.5);
    assert_true(a->values[2].type == SH_DOUBLE && a->values[2].u.d == 2.0);
    assert_true(a->values[3].type == SH_BOOL && a->values[3].u.b == 1);
    assert_string_equal(th_str(a, "s"), "none");
    assert_true(th_is_null(a, "n"));
    assert_true(b->values[1].u.d == -3.0);
    assert_true(th_is_null(b, "f"));
    assert_string_equal(b->key, "false");
    assert_string_equal(th_str(b, "s"), "x");
    assert_int_equal(th_int(b, "n"), 4);
    finish(th);
}

#define GOOD(ts) "{\"ip\":\"i\",\"eventtimestamp\":" #ts ",\"devicetype\":\"d\",\"userid\":1,\"globalseq\":1}"

static void test_malformed_lines_are_reported_and_skipped(void **st)
{
    (void)st;
    const char *schema = write_tmp(CLICK_AVSC);
    static const struct {
        const char *line, *why;
    } bad[] = {
        {"{\"ip\": \"i\",", "invalid JSON"},
        {"[1,2]", "not a JSON object but an array"},
        {"42", "not a JSON object but an integer"},
        {"{\"eventtimestamp\":1,\"devicetype\":\"d\",\"userid\":1,\"globalseq\":1}",
         "missing field 'ip'"},
        {"{\"ip\":\"i\",\"eventtimestamp\":1,\"devicetype\":\"d\",\"userid\":\"1\",\"globalseq\":1}",
         "field 'userid' must be an int, not a string"},
        {"{\"ip\":null,\"eventtimestamp\":1,\"devicetype\":\"d\",\"userid\":1,\"globalseq\":1}",
         "field 'ip' is null but not nullable"},
        {"{\"ip\":\"i\",\"eventtimestamp\":1.5,\"devicetype\":\"d\",\"userid\":1,\"globalseq\":1}",
         "field 'eventtimestamp' must be a long (integer), not a decimal number"},
        {"{\"ip\":\"i\",\"eventtimestamp\":1,\"devicetype\":\"d\",\"userid\":4294967296,\"globalseq\":1}",
         "field 'userid': 4294967296 does not fit an Avro int"},
        {"{\"ip\":\"i\",\"eventtimestamp\":1,\"devicetype\":\"d\",\"userid\":1,\"globalseq\":1,"
         "\"event_type\":5}",
         "field 'event_type' must be a string, not an integer"},
        {"{\"ip\":\"i\",\"ip\":\"j\",\"eventtimestamp\":1,\"devicetype\":\"d\",\"userid\":1,"
         "\"globalseq\":1}",
         "invalid JSON"},
    };
    const size_t nbad = sizeof bad / sizeof bad[0];
    /* line 1 good, then each bad line followed by a blank line and a good one */
    char content[8192] = GOOD(100) "\n";
    for (size_t i = 0; i < nbad; i++) {
        strcat(content, bad[i].line);
        strcat(content, "\n   \n" GOOD(200) "\n");
    }
    const char *data = write_tmp(content);
    const char *c[] = {kv(0, "path", data), kv(1, "schema.file", schema), NULL};
    testhost *th = open_source(c);
    capture_begin();
    run_to_done(th, 7);
    char *log = capture_end();

    assert_int_equal(th_count(th), 1 + nbad);
    assert_int_equal(th_counter(th, "malformed_lines_total"), nbad);
    assert_int_equal(th_dead_letters(th), nbad);
    assert_string_equal(th_last_dead_reason(th), "malformed_json: invalid JSON at column 14: "
                                                 "duplicate object key near '\"ip\"'");
    for (size_t i = 0; i < nbad; i++) {
        /* bad line i is line 2 + 3i; the good line after it is 4 + 3i */
        char expect[512];
        snprintf(expect, sizeof expect, "%s:%zu: %s", data, 2 + 3 * i, bad[i].why);
        if (!strstr(log, expect))
            fail_msg("log lacks '%s'", expect);
        assert_int_equal(th_get(th, 1 + i)->offset, (int64_t)(4 + 3 * i));
    }
    finish(th);
}

static void test_null_time_is_malformed(void **st)
{
    (void)st;
    const char *schema = write_tmp("{\"type\":\"record\",\"name\":\"T\",\"fields\":["
                                   "{\"name\":\"t\",\"type\":[\"null\",\"long\"]}]}");
    const char *data = write_tmp("{\"t\":null}\n{\"t\":3}\n");
    const char *c[] = {kv(0, "path", data), kv(1, "schema.file", schema), "time.field=t",
                       "key.field=", NULL};
    testhost *th = open_source(c);
    run_to_done(th, 10);
    assert_int_equal(th_count(th), 1);
    assert_string_equal(th_last_dead_reason(th), "malformed_json: time field 't' is null");
    finish(th);
}

static void test_long_lines_are_cut_and_skipped(void **st)
{
    (void)st;
    const char *schema = write_tmp(CLICK_AVSC);
    char content[4096];
    char longline[300];
    memset(longline, 'x', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    snprintf(content, sizeof content, "%s\n%s\n%s\n%s", GOOD(1), longline, GOOD(2), longline);
    const char *data = write_tmp(content);
    const char *c[] = {kv(0, "path", data), kv(1, "schema.file", schema),
                       "line.max_size=200", NULL};
    testhost *th = open_source(c);
    run_to_done(th, 3);
    assert_int_equal(th_count(th), 2);
    assert_int_equal(th_get(th, 1)->offset, 3);
    assert_int_equal(th_counter(th, "malformed_lines_total"), 2);
    assert_string_equal(th_last_dead_reason(th),
                        "malformed_json: line longer than line.max_size (200 bytes)");
    finish(th);
}

static void test_stdin_pipe_never_blocks(void **st)
{
    (void)st;
    const char *schema = write_tmp(CLICK_AVSC);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    int saved_stdin = dup(STDIN_FILENO);
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    const char *c[] = {"path=-", kv(1, "schema.file", schema), NULL};
    testhost *th = open_source(c);

    const char *part = "{\"ip\":\"i\",\"eventtimestamp\":1,";
    assert_int_equal(write(fds[1], part, strlen(part)), (ssize_t)strlen(part));
    assert_int_equal(poll_once(th, 10, 20), SH_OK); /* half a line: nothing yet */
    assert_int_equal(th_count(th), 0);
    const char *rest = "\"devicetype\":\"d\",\"userid\":1,\"globalseq\":1}\n";
    assert_int_equal(write(fds[1], rest, strlen(rest)), (ssize_t)strlen(rest));
    assert_int_equal(poll_once(th, 10, 20), SH_OK);
    assert_int_equal(th_count(th), 1);
    close(fds[1]);
    assert_int_equal(poll_once(th, 10, 20), SH_DONE);
    finish(th);
    dup2(saved_stdin, STDIN_FILENO);
    close(saved_stdin);
}

/* Init must fail, and the log must contain `expect`. */
static void expect_init_error(const char *const *c, const char *expect)
{
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), c);
    assert_non_null(th);
    capture_begin();
    sh_rc rc = th_init(th);
    char *log = capture_end();
    assert_int_equal(rc, SH_FATAL);
    if (!strstr(log, expect))
        fail_msg("log lacks '%s'", expect);
    finish(th);
}

static void test_schema_errors(void **st)
{
    (void)st;
    char expect[256];
    const char *data = example_path();

    const char *notjson = write_tmp("{\"type\":\"record\",\n  \"fields\": [,]}");
    const char *a[] = {kv(0, "path", data), kv(1, "schema.file", notjson), NULL};
    snprintf(expect, sizeof expect, "test.ini:3: schema.file: %s:2:", notjson);
    expect_init_error(a, expect);

    const char *notrecord = write_tmp("{\"type\":\"enum\",\"symbols\":[\"A\"]}");
    const char *b[] = {kv(0, "path", data), kv(1, "schema.file", notrecord), NULL};
    expect_init_error(b, "not an Avro record schema");

    const char *array = write_tmp("{\"type\":\"record\",\"fields\":[{\"name\":\"x\","
                                  "\"type\":{\"type\":\"array\",\"items\":\"int\"}}]}");
    const char *c[] = {kv(0, "path", data), kv(1, "schema.file", array), NULL};
    expect_init_error(c, "field 'x': type {\"type\":\"array\",\"items\":\"int\"} is not supported");

    const char *union3 = write_tmp("{\"type\":\"record\",\"fields\":[{\"name\":\"x\","
                                   "\"type\":[\"null\",\"int\",\"string\"]}]}");
    const char *d[] = {kv(0, "path", data), kv(1, "schema.file", union3), NULL};
    expect_init_error(d, "field 'x': type [\"null\",\"int\",\"string\"] is not supported");

    const char *baddef = write_tmp("{\"type\":\"record\",\"fields\":[{\"name\":\"x\","
                                   "\"type\":\"long\",\"default\":\"zero\"}]}");
    const char *e[] = {kv(0, "path", data), kv(1, "schema.file", baddef), NULL};
    expect_init_error(e, "field 'x': the default does not match its type");

    const char *noname = write_tmp("{\"type\":\"record\",\"fields\":[{\"type\":\"long\"}]}");
    const char *f[] = {kv(0, "path", data), kv(1, "schema.file", noname), NULL};
    expect_init_error(f, "field 1 has no \"name\"");

    const char *g[] = {kv(0, "path", data), "schema.file=no/such/file.avsc", NULL};
    expect_init_error(g, "schema.file: unable to open no/such/file.avsc");

    const char *schema = write_tmp(CLICK_AVSC);
    const char *h[] = {kv(0, "path", data), kv(1, "schema.file", schema), "time.field=ip", NULL};
    expect_init_error(h, "time.field: field 'ip' of");
    const char *i[] = {kv(0, "path", data), kv(1, "schema.file", schema), "key.field=nope", NULL};
    expect_init_error(i, "key.field: 'nope' is not a field of");
    const char *j[] = {"path=no/such/data.jsonl", kv(1, "schema.file", schema), NULL};
    expect_init_error(j, "path: cannot open 'no/such/data.jsonl'");
}

static void test_arena_keeps_strings_in_place(void **st)
{
    (void)st;
    str_arena a;
    str_arena_init(&a, 16);
    const char *copies[100];
    char text[100][8];
    for (int round = 0; round < 2; round++) {
        str_arena_reset(&a);
        for (int i = 0; i < 100; i++) {
            snprintf(text[i], sizeof text[i], "s%d-%d", round, i);
            copies[i] = str_arena_copy(&a, text[i], strlen(text[i]));
        }
        const char *big = str_arena_copy(&a, "a string longer than a block", 28);
        assert_memory_equal(big, "a string longer than a block", 28);
        for (int i = 0; i < 100; i++) /* earlier copies did not move */
            assert_memory_equal(copies[i], text[i], strlen(text[i]));
    }
    str_arena_free(&a);
}

static void test_descriptor(void **st)
{
    (void)st;
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    assert_string_equal(p->name, "file");
    assert_int_equal(p->kind, SH_SOURCE);
    /* path is required */
    const char *none[] = {NULL};
    testhost *th = th_new(p, none);
    assert_null(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_descriptor, cleanup),
        cmocka_unit_test(test_arena_keeps_strings_in_place),
        cmocka_unit_test_teardown(test_worked_example, cleanup),
        cmocka_unit_test_teardown(test_default_schema_file_and_keys, cleanup),
        cmocka_unit_test_teardown(test_null_unions_and_defaults, cleanup),
        cmocka_unit_test_teardown(test_other_types, cleanup),
        cmocka_unit_test_teardown(test_malformed_lines_are_reported_and_skipped, cleanup),
        cmocka_unit_test_teardown(test_null_time_is_malformed, cleanup),
        cmocka_unit_test_teardown(test_long_lines_are_cut_and_skipped, cleanup),
        cmocka_unit_test_teardown(test_stdin_pipe_never_blocks, cleanup),
        cmocka_unit_test_teardown(test_schema_errors, cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
