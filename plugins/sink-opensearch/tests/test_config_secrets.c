#define _GNU_SOURCE /* memmem */
/* Config mistakes end in one clear line; credentials never reach a log line. */
#include "sink_fixture.h"
#include "http_stub.h"

#include <fcntl.h>

/* ---- stderr capture (the test host logs there) -------------------------- */

static int saved_stderr = -1;
static char capture_path[64];

static void capture_begin(void)
{
    snprintf(capture_path, sizeof capture_path, "/tmp/sh-os-test-%d.log", (int)getpid());
    fflush(stderr);
    saved_stderr = dup(2);
    int fd = open(capture_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    dup2(fd, 2);
    close(fd);
}

/* Returns what was logged since capture_begin (caller frees). */
static char *capture_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    FILE *f = fopen(capture_path, "r");
    char *buf = calloc(1, 1 << 20);
    size_t n = f ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    unlink(capture_path);
    fputs(buf, stderr); /* keep it visible in the test log */
    return buf;
}

/* validate() alone, as `streamhost check` calls it: no init, no state. */
static sh_rc run_validate(const char *const *kv, char **log)
{
    const sh_plugin *p = fx_plugin();
    assert_true(SH_PLUGIN_HAS(p, validate));
    assert_non_null(p->validate);
    testhost *th = th_new(p, kv);
    assert_non_null(th);
    capture_begin();
    sh_rc rc = p->validate(th_host(th), th_ctx(th));
    *log = capture_end();
    th_free(th);
    return rc;
}

/* The plugin's own lines of a log, without the host's timestamps and its
 * "init failed (see above)" line: what validate and init both say. */
static char *plugin_lines(const char *log)
{
    char *out = calloc(1, strlen(log) + 1);
    size_t o = 0;
    for (const char *line = log; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        const char *from = memchr(line, '[', len); /* "... LEVEL [component] message" */
        if (from && !memmem(line, len, "init failed (see above)", 23)) {
            memcpy(out + o, from, len - (size_t)(from - line));
            o += len - (size_t)(from - line);
            out[o++] = '\n';
        }
        line += len + (eol != NULL);
    }
    return out;
}

/* init must fail, and its one line must name the key and say `want`; and
 * validate (what check runs) must refuse it with the very same line. */
static void expect_config_error(const char *const *kv, const char *key, const char *want)
{
    testhost *th = th_new(fx_plugin(), kv);
    assert_non_null(th);
    capture_begin();
    sh_rc rc = th_init(th);
    char *log = capture_end();
    assert_int_equal(rc, SH_FATAL);
    assert_non_null(strstr(log, "test.ini:"));
    assert_non_null(strstr(log, key));
    assert_non_null(strstr(log, want));
    th_free(th);
    char *vlog;
    assert_int_equal(run_validate(kv, &vlog), SH_FATAL);
    char *vl = plugin_lines(vlog), *il = plugin_lines(log);
    if (strcmp(vl, il) != 0)
        fail_msg("validate logged\n%s\ninit logged\n%s", vl, il);
    free(vl);
    free(il);
    free(vlog);
    free(log);
}

static void config_mistakes(void **st)
{
    (void)st;
    unsetenv("SH_TEST_NO_SUCH_VAR");
    expect_config_error((const char *[]){"auth=basic", NULL}, "username", "needs a username");
    expect_config_error((const char *[]){"auth=basic", "username=u", "password_env=SH_TEST_NO_SUCH_VAR", NULL},
                        "password_env", "SH_TEST_NO_SUCH_VAR");
    expect_config_error((const char *[]){"auth=kerberos", NULL}, "auth", "none, basic, aws_sigv4");
    expect_config_error((const char *[]){"auth=aws_sigv4", NULL}, "aws.region", "region");
    expect_config_error((const char *[]){"compress=brotli", NULL}, "compress", "gzip or none");
    expect_config_error((const char *[]){"url=ftp://example.com", NULL}, "url", "http:// or https://");
    expect_config_error((const char *[]){"url=http://h:9200/?pretty", NULL}, "url", "query string");
    expect_config_error((const char *[]){"buffer.max_bytes=1MiB", NULL}, "buffer.max_bytes",
                        "at least batch.max_bytes");
    expect_config_error((const char *[]){"max_in_flight=0", NULL}, "max_in_flight", "1..64");
    expect_config_error((const char *[]){"index_prefix=Prod-", NULL}, "index_prefix", "lowercase");
    expect_config_error((const char *[]){"retry.initial=1s", "retry.max=10ms", NULL}, "retry.max",
                        "retry.initial");
    expect_config_error((const char *[]){"tls.ca_file=/nonexistent/ca.pem", NULL}, "tls.ca_file",
                        "cannot read");
    expect_config_error((const char *[]){"batch.max_docs=0", NULL}, "batch.max_docs", "1..1000000");
    expect_config_error((const char *[]){"batch.max_bytes=100", NULL}, "batch.max_bytes", "1KiB..1GiB");
    expect_config_error((const char *[]){"retry.max_attempts=-1", NULL}, "retry.max_attempts",
                        "out of range");
    expect_config_error((const char *[]){"flush_interval=0", NULL}, "flush_interval", "at least 1ms");
    expect_config_error((const char *[]){"retry.initial=0", NULL}, "retry.initial", "at least 1ms");
    expect_config_error((const char *[]){"timeout=10ms", NULL}, "timeout", "at least 100ms");
    expect_config_error((const char *[]){"url=not a url", NULL}, "url", "is not a URL");
    expect_config_error((const char *[]){"url=http://", NULL}, "url", "http://localhost:9200");
}

/* Issue 11: `streamhost check` refuses what `run` refuses.  validate()
 * reports every mistake of the section in one pass (one line each, FILE:LINE
 * first), accepts a good section silently, and keeps nothing. */
static void validate_reports_every_mistake(void **st)
{
    (void)st;
    char *log;
    assert_int_equal(run_validate((const char *[]){"batch.max_docs=0", "max_in_flight=65",
                                                   "compress=zstd", "url=ftp://h", "auth=basic",
                                                   NULL},
                                  &log),
                     SH_FATAL);
    const char *want[] = {"batch.max_docs: 0 is out of range", "max_in_flight: 65 is out of range",
                          "compress: 'zstd' is not gzip or none", "url: 'ftp://h' must start with",
                          "username: auth = basic needs a username"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(log, want[i]))
            fail_msg("missing '%s' in\n%s", want[i], log);
    size_t lines = 0;
    for (const char *p = log; (p = strstr(p, "test.ini:")); p++)
        lines++;
    assert_true(lines >= 5);
    free(log);

    /* a good section: OK and silent, warnings are init's to give */
    assert_int_equal(run_validate((const char *[]){"url=https://search.example.com:9200/os",
                                                   "tls.verify=false", "index_prefix=prod-", NULL},
                                  &log),
                     SH_OK);
    assert_string_equal(log, "");
    free(log);
    /* secrets from the environment are checked too, and never logged */
    setenv("SH_TEST_OS_PASSWORD", "validate-secret-never-logged", 1);
    assert_int_equal(run_validate((const char *[]){"auth=basic", "username=u",
                                                   "password_env=SH_TEST_OS_PASSWORD", NULL},
                                  &log),
                     SH_OK);
    assert_null(strstr(log, "validate-secret-never-logged"));
    free(log);
}

static void aws_service_and_credentials(void **st)
{
    (void)st;
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    expect_config_error((const char *[]){"auth=aws_sigv4", "aws.region=eu-west-1", NULL}, "auth",
                        "AWS_ACCESS_KEY_ID");
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-never-logged", 1);
    expect_config_error((const char *[]){"auth=aws_sigv4", "aws.region=eu-west-1", "aws.service=s3", NULL},
                        "aws.service", "es (OpenSearch Service domains) or aoss");
}

static void url_parts_and_redaction(void **st)
{
    (void)st;
    char out[128];
    os_redact_url("https://admin:s3cret@search.example.com:9200/x", out, sizeof out);
    assert_string_equal(out, "https://***@search.example.com:9200/x");
    os_redact_url("http://localhost:9200", out, sizeof out);
    assert_string_equal(out, "http://localhost:9200");
    os_redact_url("http://user@host/path@x", out, sizeof out); /* '@' in the path stays */
    assert_string_equal(out, "http://***@host/path@x");
    os_redact_url("http://a:b@c@host", out, sizeof out); /* the last '@' ends userinfo */
    assert_string_equal(out, "http://***@host");
    os_redact_url("https://u:p@h", out, 10); /* truncation still terminates */
    assert_int_equal(strlen(out), 9);
    assert_null(strstr(out, "p@"));

    testhost *th = fx_sink((const char *[]){"url=https://search.example.com/os/", "templates=false", NULL});
    os_sink *s = fx_state(th);
    assert_string_equal(s->cfg.base_url, "https://search.example.com/os");
    assert_string_equal(s->cfg.base_path, "/os");
    assert_string_equal(s->cfg.host_header, "search.example.com");
    th_free(th);
    th = fx_sink((const char *[]){"url=http://127.0.0.1:9200", "templates=false", NULL});
    s = fx_state(th);
    assert_string_equal(s->cfg.base_url, "http://127.0.0.1:9200");
    assert_string_equal(s->cfg.base_path, "");
    assert_string_equal(s->cfg.host_header, "127.0.0.1:9200");
    th_free(th);
}

/* Drives a sink that cannot reach its cluster long enough to log failures. */
static char *failing_run_log(const char *const *kv)
{
    capture_begin();
    testhost *th = fx_sink(kv);
    fx_feed(th, 0, 5);
    fx_plugin()->flush(th_state(th), 0);
    for (int i = 0; i < 50; i++) { /* refused at once: a few ticks log it */
        fx_tick(th);
        usleep(1000);
    }
    fx_plugin()->stop(th_state(th));
    th_free(th);
    fx_dead_reset();
    return capture_end();
}

static void secrets_stay_out_of_logs(void **st)
{
    (void)st;
    setenv("TH_VERBOSE", "1", 1); /* capture INFO and DEBUG lines too */
    char url[128];
    int port = stub_dead_port();

    setenv("SH_TEST_OS_PASSWORD", "basic-secret-never-logged", 1);
    snprintf(url, sizeof url, "url=http://127.0.0.1:%d", port);
    char *log = failing_run_log((const char *[]){url, "auth=basic", "username=shipper",
                                                 "password_env=SH_TEST_OS_PASSWORD",
                                                 "retry.initial=1ms", "retry.max=5ms", NULL});
    assert_non_null(strstr(log, "failed: ")); /* the failure was logged ... */
    assert_null(strstr(log, "basic-secret-never-logged")); /* ... without the secret */
    free(log);

    snprintf(url, sizeof url, "url=http://shipper:url-secret-never-logged@127.0.0.1:%d", port);
    log = failing_run_log((const char *[]){url, "templates=false", "retry.initial=1ms",
                                           "retry.max=5ms", NULL});
    assert_non_null(strstr(log, "bulk request at http://***@127.0.0.1"));
    assert_null(strstr(log, "url-secret-never-logged"));
    free(log);

    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-never-logged", 1);
    setenv("AWS_SESSION_TOKEN", "aws-token-never-logged", 1);
    snprintf(url, sizeof url, "url=http://127.0.0.1:%d", port);
    log = failing_run_log((const char *[]){url, "auth=aws_sigv4", "aws.region=us-east-1",
                                           "retry.initial=1ms", "retry.max=5ms", NULL});
    assert_non_null(strstr(log, "failed: "));
    assert_null(strstr(log, "aws-secret-never-logged"));
    assert_null(strstr(log, "aws-token-never-logged"));
    free(log);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("TH_VERBOSE");
}

/* With credentials in the url and an explicit auth: refuse, and the refusal
 * itself must not echo the password. */
static void conflicting_credentials_refused_quietly(void **st)
{
    (void)st;
    setenv("SH_TEST_OS_PASSWORD", "x", 1);
    testhost *th = th_new(fx_plugin(), (const char *[]){"url=http://u:pw-in-url@localhost:9200",
                                                        "auth=basic", "username=u",
                                                        "password_env=SH_TEST_OS_PASSWORD", NULL});
    capture_begin();
    sh_rc rc = th_init(th);
    char *log = capture_end();
    assert_int_equal(rc, SH_FATAL);
    assert_non_null(strstr(log, "remove them from url"));
    assert_null(strstr(log, "pw-in-url"));
    free(log);
    th_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_mistakes),
        cmocka_unit_test(validate_reports_every_mistake),
        cmocka_unit_test(aws_service_and_credentials),
        cmocka_unit_test(url_parts_and_redaction),
        cmocka_unit_test(secrets_stay_out_of_logs),
        cmocka_unit_test(conflicting_credentials_refused_quietly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
