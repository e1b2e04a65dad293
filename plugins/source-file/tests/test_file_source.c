/* test_file_source.c - the JSON-lines file source: the worked example, null
 * unions and defaults, every malformed-line variant (reported with FILE:LINE,
 * run continues), Avro schema errors, batching, pipes and long lines; event
 * time guards (negative, timestamp.max_future, timestamp.max_past); dead
 * letters with line number and byte offset, and refused dead letters
 * stopping the source; a leading UTF-8 byte-order mark; validate(). */
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
    assert_int_equal(th_counter(th, "records_read_total"), 21);
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
    /* the last bad line is line 2 + 3 * 9 = 29, after 28 lines: GOOD(100), then
     * nine (bad, blank "   ", GOOD(200)) triples */
    size_t byte = strlen(GOOD(100)) + 1;
    for (size_t i = 0; i + 1 < nbad; i++)
        byte += strlen(bad[i].line) + 1 + 4 + strlen(GOOD(200)) + 1;
    char last[256];
    snprintf(last, sizeof last,
             "malformed_json: line 29 (byte %zu): invalid JSON at column 14: "
             "duplicate object key near '\"ip\"'",
             byte);
    assert_string_equal(th_last_dead_reason(th), last);
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
    assert_string_equal(th_last_dead_reason(th), "malformed_json: line 1 (byte 0): time field 't' is null");
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
    /* line 4 starts after GOOD(1), the 299-byte line and GOOD(2), each with "\n" */
    char expect[128];
    snprintf(expect, sizeof expect,
             "malformed_json: line 4 (byte %zu): line longer than line.max_size (200 bytes)",
             2 * strlen(GOOD(1)) + 299 + 3);
    assert_string_equal(th_last_dead_reason(th), expect);
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

/* --- dead letters as the host sees them ---------------------------------
 * The test host counts dead letters but drops their origin and always says
 * SH_OK; these tests patch its services table (before init, so the plugin
 * sees the patched one) to record every dead letter with its origin and to
 * refuse them on demand, as a failing dead-letter writer does. */

#define DL_MAX 16
static struct {
    size_t n;           /* dead letters offered */
    size_t refuse_from; /* 1-based: refuse this one and every later one; 0: never */
    char reason[DL_MAX][700];
    char payload[DL_MAX][256];
    int32_t slot[DL_MAX];
    int64_t offset[DL_MAX];
    int had_origin[DL_MAX];
} dl;
static sh_rc (*th_dead_letter)(sh_ctx *, const void *, size_t, const char *, const sh_record *);

static sh_rc recording_dead_letter(sh_ctx *ctx, const void *payload, size_t len, const char *reason,
                                   const sh_record *origin)
{
    size_t i = dl.n++;
    if (i < DL_MAX) {
        snprintf(dl.reason[i], sizeof dl.reason[i], "%s", reason);
        snprintf(dl.payload[i], sizeof dl.payload[i], "%.*s", (int)(len < 255 ? len : 255),
                 (const char *)payload);
        dl.had_origin[i] = origin != NULL;
        dl.slot[i] = origin ? origin->slot : SH_NO_SLOT;
        dl.offset[i] = origin ? origin->offset : -1;
    }
    if (dl.refuse_from && dl.n >= dl.refuse_from)
        return SH_FATAL;
    return th_dead_letter(ctx, payload, len, reason, origin);
}

static testhost *open_source_dl(const char *const *c, size_t refuse_from)
{
    memset(&dl, 0, sizeof dl);
    dl.refuse_from = refuse_from;
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), c);
    assert_non_null(th);
    sh_host *h = (sh_host *)th_host(th); /* the test host's own, writable table */
    th_dead_letter = h->dead_letter;
    h->dead_letter = recording_dead_letter;
    assert_int_equal(th_init(th), SH_OK);
    return th;
}

#define NOW 1700000000000LL /* the wall clock these tests set: 2023-11-14 */
#define DAY 86400000LL
#define AT(ts) "{\"ip\":\"i\",\"eventtimestamp\":" ts ",\"devicetype\":\"d\",\"userid\":1,\"globalseq\":1}"

/* Issue 11 A: one event far ahead (10 days, or INT64_MAX) dragged the
 * watermark forward and made every later event late; negative times were
 * accepted.  Now they are dead letters and the rest flows. */
static void test_far_future_and_negative_times_are_dead_letters(void **st)
{
    (void)st;
    const char *schema = write_tmp(CLICK_AVSC);
    char content[2048];
    snprintf(content, sizeof content,
             "%s\n" AT("9223372036854775807") "\n" AT("%lld") "\n" AT("-5") "\n%s\n" AT("%lld") "\n",
             AT("1000"), NOW + 10 * DAY, AT("2000"), NOW + 23 * 3600000LL);
    const char *data = write_tmp(content);
    const char *c[] = {kv(0, "path", data), kv(1, "schema.file", schema), NULL};
    testhost *th = open_source_dl(c, 0);
    th_set_now(th, NOW);
    capture_begin();
    run_to_done(th, 100);
    char *log = capture_end();

    /* old replay data (time 1000) and 23 h ahead pass: max_future is 1d, max_past off */
    assert_int_equal(th_count(th), 3);
    assert_int_equal(th_get(th, 0)->time, 1000);
    assert_int_equal(th_get(th, 1)->time, 2000);
    assert_int_equal(th_get(th, 1)->offset, 5);
    assert_int_equal(th_get(th, 2)->time, NOW + 23 * 3600000LL);
    assert_int_equal(dl.n, 3);
    assert_int_equal(th_counter(th, "bad_timestamps_total"), 3);
    assert_int_equal(th_counter(th, "malformed_lines_total"), 0);
    for (size_t i = 0; i < 3; i++) {
        assert_true(strncmp(dl.reason[i], "bad_timestamp: ", 15) == 0);
        assert_int_equal(dl.offset[i], (int64_t)i + 2); /* lines 2, 3, 4 */
    }
    char expect[512];
    snprintf(expect, sizeof expect,
             "bad_timestamp: line 2 (byte %zu): event time 9223372036854775807 is more than "
             "timestamp.max_future (1d) ahead of the wall clock (%lld)",
             strlen(AT("1000")) + 1, NOW);
    assert_string_equal(dl.reason[0], expect);
    assert_non_null(strstr(dl.reason[1], "is more than timestamp.max_future (1d) ahead"));
    assert_non_null(strstr(dl.reason[2], "): event time -5 is negative"));
    assert_string_equal(dl.payload[2], AT("-5"));
    snprintf(expect, sizeof expect, "%s:4: event time -5 is negative", data);
    if (!strstr(log, expect))
        fail_msg("log lacks '%s'", expect);
    finish(th);
}

static void test_max_future_and_max_past_limits(void **st)
{
    (void)st;
    const char *schema = write_tmp(CLICK_AVSC);
    char content[2048];
    snprintf(content, sizeof content, AT("%lld") "\n" AT("%lld") "\n" AT("%lld") "\n" AT("%lld") "\n",
             NOW - 8 * DAY, NOW - 6 * DAY, NOW + 10 * DAY, NOW - 7 * DAY);
    const char *data = write_tmp(content);

    /* max_past = 7d: 8 days back is refused, 6 and exactly 7 days back pass;
     * max_future = 0: no limit ahead */
    const char *c[] = {kv(0, "path", data), kv(1, "schema.file", schema), "timestamp.max_past=7d",
                       "timestamp.max_future=0", NULL};
    testhost *th = open_source_dl(c, 0);
    th_set_now(th, NOW);
    run_to_done(th, 100);
    assert_int_equal(th_count(th), 3);
    assert_int_equal(th_get(th, 0)->time, NOW - 6 * DAY);
    assert_int_equal(th_get(th, 1)->time, NOW + 10 * DAY);
    assert_int_equal(th_get(th, 2)->time, NOW - 7 * DAY);
    assert_int_equal(dl.n, 1);
    char expect[512];
    snprintf(expect, sizeof expect,
             "bad_timestamp: line 1 (byte 0): event time %lld is more than timestamp.max_past (7d) "
             "behind the wall clock (%lld)",
             NOW - 8 * DAY, NOW);
    assert_string_equal(dl.reason[0], expect);
    finish(th);

    /* a max_future so large that now + max_future overflows means no limit */
    const char *d[] = {kv(0, "path", data), kv(1, "schema.file", schema),
                       "timestamp.max_future=106751991167d", NULL};
    th = open_source_dl(d, 0);
    th_set_now(th, NOW);
    run_to_done(th, 100);
    assert_int_equal(th_count(th), 4);
    finish(th);

    /* the guard reads the wall clock of each poll, not the one at start */
    const char *e[] = {kv(0, "path", data), kv(1, "schema.file", schema), NULL};
    th = open_source_dl(e, 0);
    th_set_now(th, NOW + 9 * DAY + 1);
    run_to_done(th, 100);
    assert_int_equal(th_count(th), 4);
    finish(th);
}

/* Issue 11 B: a dead letter the host cannot take must stop the run; the file
 * source ignored the answer and went on. */
static void test_refused_dead_letter_stops_the_source(void **st)
{
    (void)st;
    const char *schema = write_tmp(CLICK_AVSC);
    const char *data = write_tmp(AT("1") "\n{broken\n" AT("2") "\n" AT("-1") "\n" AT("3") "\n");
    const char *c[] = {kv(0, "path", data), kv(1, "schema.file", schema), NULL};

    /* a malformed line: poll fails, and nothing of that batch was emitted */
    testhost *th = open_source_dl(c, 1);
    capture_begin();
    sh_rc rc = poll_once(th, 100, 0);
    char *log = capture_end();
    assert_int_equal(rc, SH_FATAL);
    assert_int_equal(th_count(th), 0);
    assert_int_equal(dl.n, 1);
    char expect[256];
    snprintf(expect, sizeof expect, "%s:2: the dead-letter output did not take this line; stopping", data);
    if (!strstr(log, expect))
        fail_msg("log lacks '%s'", expect);
    finish(th);

    /* batches before the refused line were delivered; the bad timestamp on
     * line 4 is refused in the second poll */
    th = open_source_dl(c, 2);
    assert_int_equal(poll_once(th, 3, 0), SH_OK);
    assert_int_equal(th_count(th), 2);
    assert_int_equal(poll_once(th, 3, 0), SH_FATAL);
    assert_int_equal(th_count(th), 2);
    assert_int_equal(dl.n, 2);
    assert_true(strncmp(dl.reason[1], "bad_timestamp: line 4 ", 22) == 0);
    finish(th);
}

/* Dead letters say where the line was: origin (path, partition 0, offset =
 * line number, the records' own position space) and "line N (byte B)" in
 * the reason, B counting "\r\n" endings and blank lines. */
static void test_dead_letters_carry_line_and_byte_offset(void **st)
{
    (void)st;
    const char *schema = write_tmp(CLICK_AVSC);
    const char *data = write_tmp(AT("1") "\r\n\r\n  \n[1]\r\n" AT("2") "\nnope");
    const char *c[] = {kv(0, "path", data), kv(1, "schema.file", schema), NULL};
    testhost *th = open_source_dl(c, 0);
    run_to_done(th, 2);
    assert_int_equal(th_count(th), 2);
    assert_int_equal(dl.n, 2);
    size_t good = strlen(AT("1"));
    char expect[256];
    snprintf(expect, sizeof expect, "malformed_json: line 4 (byte %zu): not a JSON object but an array",
             good + 2 + 2 + 3);
    assert_string_equal(dl.reason[0], expect);
    assert_string_equal(dl.payload[0], "[1]");
    assert_true(dl.had_origin[0]);
    assert_int_equal(dl.slot[0], 0);
    assert_int_equal(dl.offset[0], 4);
    snprintf(expect, sizeof expect, "malformed_json: line 6 (byte %zu): invalid JSON",
             good + 2 + 2 + 3 + 5 + good + 1);
    assert_true(strncmp(dl.reason[1], expect, strlen(expect)) == 0);
    assert_int_equal(dl.offset[1], 6);
    finish(th);
}

/* A UTF-8 byte-order mark at the start of the file is skipped (it made the
 * first event a dead letter); anywhere else it is still a malformed line. */
static void test_leading_utf8_bom_is_skipped(void **st)
{
    (void)st;
    const char *schema = write_tmp(CLICK_AVSC);
    const char *data = write_tmp("\xEF\xBB\xBF" AT("1") "\n\xEF\xBB\xBF" AT("2") "\n" AT("3") "\n");
    const char *c[] = {kv(0, "path", data), kv(1, "schema.file", schema), NULL};
    testhost *th = open_source_dl(c, 0);
    run_to_done(th, 100);
    assert_int_equal(th_count(th), 2);
    assert_int_equal(th_get(th, 0)->time, 1);
    assert_int_equal(th_get(th, 0)->offset, 1);
    assert_int_equal(th_get(th, 1)->time, 3);
    assert_int_equal(dl.n, 1);
    char expect[64];
    snprintf(expect, sizeof expect, "malformed_json: line 2 (byte %zu): ", 3 + strlen(AT("1")) + 1);
    assert_true(strncmp(dl.reason[0], expect, strlen(expect)) == 0);
    finish(th);

    /* a file that is only a BOM has no records and no dead letters; a BOM
     * alone on line 1 of a pipe is skipped too */
    const char *bom_only = write_tmp("\xEF\xBB\xBF\n" AT("4"));
    const char *d[] = {kv(0, "path", bom_only), kv(1, "schema.file", schema), NULL};
    th = open_source_dl(d, 0);
    run_to_done(th, 100);
    assert_int_equal(th_count(th), 1);
    assert_int_equal(th_get(th, 0)->offset, 2);
    assert_int_equal(dl.n, 0);
    finish(th);
}

/* validate() refuses every value init() refuses, without keeping state, so
 * that `streamhost check` and `run` agree. */
static void test_validate_refuses_what_init_refuses(void **st)
{
    (void)st;
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    assert_true(SH_PLUGIN_HAS(p, validate));
    assert_non_null(p->validate);
    const char *schema = write_tmp(CLICK_AVSC);
    static const struct {
        const char *k1, *k2, *expect;
    } bad[] = {
        {"line.max_size=15", NULL, "test.ini:4: line.max_size: must be at least 16 bytes"},
        {"schema.file=no/such.avsc", NULL, "test.ini:3: schema.file: unable to open no/such.avsc"},
        {"stream=", NULL, "test.ini:4: stream: must not be empty"},
        {"time.field=ip", NULL, "time.field: field 'ip' of"},
        {"key.field=nope", NULL, "key.field: 'nope' is not a field of"},
        {"time.field=", "timestamp.max_past=1d", "test.ini:5: timestamp.max_past: needs a time.field"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int own_schema = strncmp(bad[i].k1, "schema.file=", 12) == 0; /* first one set wins */
        const char *c[] = {kv(0, "path", example_path()),
                           own_schema ? bad[i].k1 : kv(1, "schema.file", schema),
                           own_schema ? NULL : bad[i].k1, bad[i].k2, NULL};
        testhost *th = th_new(p, c);
        assert_non_null(th);
        capture_begin();
        sh_rc v = p->validate(th_host(th), th_ctx(th));
        char *log = capture_end();
        assert_int_equal(v, SH_FATAL);
        if (!strstr(log, bad[i].expect))
            fail_msg("validate log lacks '%s'", bad[i].expect);
        finish(th);
        expect_init_error(c, bad[i].expect); /* and init refuses the same */
    }
    const char *good[] = {kv(0, "path", example_path()), kv(1, "schema.file", schema),
                          "timestamp.max_past=30d", "timestamp.max_future=0", NULL};
    testhost *th = th_new(p, good);
    assert_int_equal(p->validate(th_host(th), th_ctx(th)), SH_OK);
    finish(th);
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
        cmocka_unit_test_teardown(test_far_future_and_negative_times_are_dead_letters, cleanup),
        cmocka_unit_test_teardown(test_max_future_and_max_past_limits, cleanup),
        cmocka_unit_test_teardown(test_refused_dead_letter_stops_the_source, cleanup),
        cmocka_unit_test_teardown(test_dead_letters_carry_line_and_byte_offset, cleanup),
        cmocka_unit_test_teardown(test_leading_utf8_bom_is_skipped, cleanup),
        cmocka_unit_test_teardown(test_validate_refuses_what_init_refuses, cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
