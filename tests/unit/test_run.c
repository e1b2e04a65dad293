/* The run loop: records flow through the DAG to the end of a finite input,
 * SH_RETRY is retried, SH_FATAL stops the run with exit code 1; emitting
 * outside the running pipeline is refused; undefined return codes are
 * fatal; every callback is bounded at shutdown (the stuck-plugin cases run
 * the real binary, since the watchdog ends the process). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "pipeline_build.h"

static int run_text(const char *text)
{
    setenv("STREAMHOST_PLUGIN_PATH", TEST_PLUGIN_DIR, 1);
    sh_config *cfg = config_load_string("test.ini", text);
    assert_int_equal(cfg->nerrors, 0);
    pipeline *pl = pipeline_build(cfg, "test.ini");
    for (size_t i = 0; !pl && i < cfg->nerrors; i++)
        fprintf(stderr, "%s\n", cfg->errors[i]);
    assert_non_null(pl);
    int rc = pipeline_run(pl);
    pipeline_free(pl);
    config_free(cfg);
    metrics_free_all();
    return rc;
}

/* stderr while run_text_log has it redirected (-1 otherwise). */
static int saved_stderr = -1;

static int restore_stderr(void **st)
{
    (void)st;
    if (saved_stderr >= 0) { /* the test crashed or failed mid-run */
        fflush(stderr);
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        saved_stderr = -1;
    }
    return 0;
}

/* run_text with the host's stderr captured into `log` (and echoed). */
static int run_text_log(const char *text, char *log, size_t loglen)
{
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    dup2(fileno(tmp), STDERR_FILENO);
    int rc = run_text(text);
    restore_stderr(NULL);
    rewind(tmp);
    size_t n = fread(log, 1, loglen - 1, tmp);
    log[n] = '\0';
    fclose(tmp);
    fputs(log, stderr);
    return rc;
}

static long read_count(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long n = -1;
    assert_int_equal(fscanf(f, "%ld", &n), 1);
    fclose(f);
    remove(path);
    return n;
}

#define TEMPLATE "[streamhost]\nbatch.size = 7\nprogress = off\n"                       \
                              "[source.nums]\nplugin = seq\ncount = 1000\n"                                  \
                              "[transform.pass]\nplugin = passthru\ninputs = nums\nname = p\n"            \
                              "[sink.out]\nplugin = counter\ninputs = pass\nout = run-test-count.txt\n%s\n"

static void test_finite_run_delivers_everything(void **st)
{
    (void)st;
    char text[1024];
    snprintf(text, sizeof text, TEMPLATE, "");
    assert_int_equal(run_text(text), 0);
    assert_int_equal(read_count("run-test-count.txt"), 1000);
}

static void test_retry_then_success(void **st)
{
    (void)st;
    char text[1024];
    snprintf(text, sizeof text, TEMPLATE, "retry_first = 2");
    assert_int_equal(run_text(text), 0);
    assert_int_equal(read_count("run-test-count.txt"), 1000);
}

/* tests/abi/transform-abi1.c is built against the frozen ABI 1.0 header: its
 * descriptor is smaller than today's, and it must still load and run. */
static void test_abi_1_0_plugin_runs(void **st)
{
    (void)st;
    const char *text = "[streamhost]\nbatch.size = 7\nprogress = off\n"
                       "[source.nums]\nplugin = seq\ncount = 1000\n"
                       "[transform.old]\nplugin = abi1\ninputs = nums\n"
                       "[sink.out]\nplugin = counter\ninputs = old\nout = run-test-abi1.txt\n";
    assert_int_equal(run_text(text), 0);
    FILE *f = fopen("run-test-abi1.txt", "r");
    assert_non_null(f);
    long n = -1, sum = -1;
    assert_int_equal(fscanf(f, "%ld %ld", &n, &sum), 2);
    fclose(f);
    remove("run-test-abi1.txt");
    assert_int_equal(n, 1000);
    assert_int_equal(sum, 999 * 1000); /* 2 * (0 + ... + 999): the old plugin did its work */
}

static void test_fatal_stops_with_exit_1(void **st)
{
    (void)st;
    char text[1024];
    snprintf(text, sizeof text, TEMPLATE, "fail_after = 500");
    assert_int_equal(run_text(text), 1);
    long n = read_count("run-test-count.txt");
    assert_true(n <= 500);
}

/* --- F: emitting only while the pipeline runs -------------------------- */

#define RUDE "[streamhost]\nprogress = off\n"                                       \
             "[source.nums]\nplugin = seq\ncount = 100\n"                           \
             "[transform.early]\nplugin = rude\ninputs = nums\n%s\n"               \
             "[transform.next]\nplugin = rude\ninputs = early\n"                    \
             "[sink.out]\nplugin = counter\ninputs = next\nout = run-test-rude.txt\n"

/* Before the fix, the record (or watermark) emitted from early's init()
 * reached next's process() (or watermark()) before next's init: SIGSEGV. */
static void check_refused(const char *keys, const char *line)
{
    char text[1024], log[8192];
    snprintf(text, sizeof text, RUDE, keys);
    assert_int_equal(run_text_log(text, log, sizeof log), 1);
    if (!strstr(log, line))
        fail_msg("expected '%s' in the log", line);
    assert_non_null(strstr(log, "emitting is allowed only from the poll, process, watermark, tick and flush callbacks"));
    remove("run-test-rude.txt");
}

static void test_emit_from_init_is_refused(void **st)
{
    (void)st;
    check_refused("emit_in = init", "transform.early: emit() called from init() while the pipeline is not running");
}

static void test_emit_watermark_from_init_is_refused(void **st)
{
    (void)st;
    check_refused("emit_in = init\nemit_what = watermark",
                  "transform.early: emit_watermark() called from init() while the pipeline is not running");
}

/* start() runs before the pipeline does too: downstream components may not
 * have started (before the fix the record went through, rc 0). */
static void test_emit_from_start_is_refused(void **st)
{
    (void)st;
    check_refused("emit_in = start", "transform.early: emit() called from start() while the pipeline is not running");
}

/* The same plugins, behaving: every record arrives. */
static void test_rude_plugins_behaving_deliver(void **st)
{
    (void)st;
    char text[1024];
    snprintf(text, sizeof text, RUDE, "");
    assert_int_equal(run_text(text), 0);
    assert_int_equal(read_count("run-test-rude.txt"), 100);
}

/* --- G: undefined return codes; bounded shutdown (the real binary) ------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int file_has(const char *path, const char *s)
{
    char buf[65536];
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, s) != NULL;
}

typedef struct bin_run {
    int status;      /* exit code, or -1 when it had to be killed */
    int64_t exit_ms; /* from the (first) signal, or from the start, to the exit */
    char log[64];    /* path of its stderr */
} bin_run;

/* Runs `streamhost run` on `text`.  With nsig > 0, waits for `marker` in its
 * stderr, then sends SIGTERM nsig times 100 ms apart.  Kills it (status -1)
 * when it is still running `limit_ms` after that. */
static void run_bin(const char *name, const char *text, const char *marker, int nsig, int64_t limit_ms,
                    bin_run *r)
{
    char ini[64];
    snprintf(ini, sizeof ini, "run-test-%s.ini", name);
    snprintf(r->log, sizeof r->log, "run-test-%s.log", name);
    FILE *f = fopen(ini, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    setenv("STREAMHOST_PLUGIN_PATH", TEST_PLUGIN_DIR, 1);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, STDERR_FILENO);
        dup2(fd, STDOUT_FILENO);
        execl(TEST_BIN_DIR "/streamhost", "streamhost", "run", ini, (char *)NULL);
        _exit(127);
    }
    int64_t t0 = now_ms();
    if (nsig > 0) {
        while (!file_has(r->log, marker) && now_ms() - t0 < 20000 && waitpid(pid, NULL, WNOHANG) == 0)
            sleep_ms(20);
        if (!file_has(r->log, marker)) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("%s: '%s' never appeared in %s", name, marker, r->log);
        }
        sleep_ms(100); /* let it get into the stuck call */
        t0 = now_ms();
        for (int i = 0; i < nsig; i++) {
            if (i)
                sleep_ms(100);
            kill(pid, SIGTERM);
        }
    }
    int st = 0;
    r->status = -1;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
        if (now_ms() - t0 > limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        sleep_ms(20);
    }
    r->exit_ms = now_ms() - t0;
    fprintf(stderr, "%s: exit %d after %lld ms\n", name, r->status, (long long)r->exit_ms);
    remove(ini);
}

static void expect_line(const bin_run *r, const char *line)
{
    if (!file_has(r->log, line)) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "cat %s >&2", r->log);
        if (system(cmd) != 0)
            fprintf(stderr, "(cannot show %s)\n", r->log);
        fail_msg("expected in %s: %s", r->log, line);
    }
}

static void done_with(bin_run *r)
{
    if (!getenv("KEEP_RUN_LOGS"))
        remove(r->log);
    remove("run-test-bin.txt");
}

#define BIN "[streamhost]\nprogress = off\nshutdown.timeout = %s\n"                            \
            "[source.nums]\nplugin = stuck\ncount = 50\n%s\n"                                 \
            "[sink.out]\nplugin = counter\ninputs = nums\nout = run-test-bin.txt\n%s\n"

static void bin_text(char *text, size_t n, const char *timeout, const char *src, const char *sink)
{
    snprintf(text, n, BIN, timeout, src, sink);
}

/* poll() returning 77 was taken for SH_OK: the loop spun forever at full
 * CPU.  Now: fatal, exit 1, one line naming the component, the callback
 * and the code. */
static void test_poll_undefined_code_is_fatal(void **st)
{
    (void)st;
    char text[1024];
    bin_run r;
    bin_text(text, sizeof text, "30s", "then = rc\nrc = 77", "");
    run_bin("poll77", text, NULL, 0, 10000, &r);
    assert_int_equal(r.status, 1);
    expect_line(&r, "source.nums: poll() returned 77, which is not a return code it may give");
    done_with(&r);
}

static void test_process_and_flush_undefined_codes_are_fatal(void **st)
{
    (void)st;
    char text[1024];
    bin_run r;
    bin_text(text, sizeof text, "30s", "", "process_rc = 77");
    run_bin("process77", text, NULL, 0, 10000, &r);
    assert_int_equal(r.status, 1);
    expect_line(&r, "sink.out: process() returned 77, which is not a return code it may give");
    done_with(&r);
    bin_text(text, sizeof text, "30s", "", "flush = rc\nflush_rc = 3"); /* SH_DONE: sources' poll only */
    run_bin("flush3", text, NULL, 0, 10000, &r);
    assert_int_equal(r.status, 1);
    expect_line(&r, "sink.out: flush() returned 3, which is not a return code it may give");
    done_with(&r);
}

/* SH_PENDING (ABI 1.1) is flush()'s "still in flight": the host calls again
 * until shutdown.timeout, then exits 1 without committing; from process()
 * it is a bug like any undefined code. */
static void test_flush_pending_is_waited_for_and_bounded(void **st)
{
    (void)st;
    char text[1024];
    bin_run r;
    bin_text(text, sizeof text, "1s", "", "flush = rc\nflush_rc = 4");
    run_bin("flush4", text, NULL, 0, 10000, &r);
    assert_int_equal(r.status, 1);
    expect_line(&r, "sinks did not finish flushing within 1000 ms");
    assert_false(file_has(r.log, "not a return code"));
    done_with(&r);
    bin_text(text, sizeof text, "30s", "", "process_rc = 4");
    run_bin("process4", text, NULL, 0, 10000, &r);
    assert_int_equal(r.status, 1);
    expect_line(&r, "sink.out: process() returned 4, which is not a return code it may give");
    done_with(&r);
}

/* A sink asking to retry forever: SIGTERM was ignored until a second one.
 * Now the retry loop gives up on the first stop request (the batch stays
 * uncommitted), well before shutdown.timeout, with exit 1. */
static void test_sigterm_ends_endless_retry(void **st)
{
    (void)st;
    char text[1024];
    bin_run r;
    bin_text(text, sizeof text, "30s", "then = idle", "retry_forever = true");
    run_bin("retry", text, "process() asked to retry", 1, 10000, &r);
    assert_int_equal(r.status, 1);
    assert_true(r.exit_ms < 5000);
    expect_line(&r, "sink.out: process() still asks to retry (attempt");
    expect_line(&r, "a stop was requested: giving up; the batch stays uncommitted");
    assert_false(file_has(r.log, "second signal"));
    done_with(&r);
}

/* flush() that never returns: the final flush ignored shutdown.timeout and
 * the process hung.  Now the watchdog names it and exits 1. */
static void test_blocking_flush_bounded_by_shutdown_timeout(void **st)
{
    (void)st;
    char text[1024];
    bin_run r;
    bin_text(text, sizeof text, "1s", "then = idle", "flush = block");
    run_bin("flushblock", text, "stuck: idle", 1, 10000, &r);
    assert_int_equal(r.status, 1);
    assert_true(r.exit_ms >= 1000);
    assert_true(r.exit_ms < 5000);
    expect_line(&r, "sink.out: flush() did not return within shutdown.timeout (1s) after the stop request "
                    "(running for ");
    expect_line(&r, "exiting 1 without committing past what was delivered");
    done_with(&r);
}

/* The same at the end of a finite input, with no signal at all: the final
 * flush is bounded too. */
static void test_blocking_final_flush_of_finite_run(void **st)
{
    (void)st;
    char text[1024];
    bin_run r;
    bin_text(text, sizeof text, "1s", "then = done", "flush = block");
    run_bin("finalflush", text, NULL, 0, 10000, &r);
    assert_int_equal(r.status, 1);
    expect_line(&r, "sink.out: flush() did not return within shutdown.timeout (1s) after the final flush began");
    done_with(&r);
}

/* poll() that never returns made SIGTERM useless. */
static void test_blocking_poll_bounded_by_shutdown_timeout(void **st)
{
    (void)st;
    char text[1024];
    bin_run r;
    bin_text(text, sizeof text, "1s", "then = block", "");
    run_bin("pollblock", text, "stuck: block", 1, 10000, &r);
    assert_int_equal(r.status, 1);
    assert_true(r.exit_ms >= 1000);
    assert_true(r.exit_ms < 5000);
    expect_line(&r, "source.nums: poll() did not return within shutdown.timeout (1s) after the stop request");
    done_with(&r);
}

/* A sink stuck in process(): the same bound, naming the innermost call. */
static void test_blocking_process_bounded_by_shutdown_timeout(void **st)
{
    (void)st;
    char text[1024];
    bin_run r;
    bin_text(text, sizeof text, "1s", "then = idle", "block_process = true");
    run_bin("processblock", text, "stuck: process", 1, 10000, &r);
    assert_int_equal(r.status, 1);
    expect_line(&r, "sink.out: process() did not return within shutdown.timeout (1s) after the stop request");
    done_with(&r);
}

/* A second signal still exits at once, stuck plugin or not. */
static void test_second_signal_exits_at_once(void **st)
{
    (void)st;
    char text[1024];
    bin_run r;
    bin_text(text, sizeof text, "30s", "then = block", "");
    run_bin("twice", text, "stuck: block", 2, 10000, &r);
    assert_int_equal(r.status, 1);
    assert_true(r.exit_ms < 2000);
    expect_line(&r, "second signal: exiting now without flushing");
    done_with(&r);
}

/* A well-behaved live pipeline still stops cleanly (exit 0) on SIGTERM,
 * at once, with everything delivered. */
static void test_sigterm_clean_stop(void **st)
{
    (void)st;
    char text[1024];
    bin_run r;
    bin_text(text, sizeof text, "30s", "then = idle", "");
    run_bin("clean", text, "stuck: idle", 1, 10000, &r);
    assert_int_equal(r.status, 0);
    assert_true(r.exit_ms < 2000);
    assert_false(file_has(r.log, "did not return"));
    assert_int_equal(read_count("run-test-bin.txt"), 50);
    done_with(&r);
}

int main(void)
{
    sh_log_set_level(SH_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finite_run_delivers_everything),
        cmocka_unit_test(test_retry_then_success),
        cmocka_unit_test(test_fatal_stops_with_exit_1),
        cmocka_unit_test(test_abi_1_0_plugin_runs),
        cmocka_unit_test_teardown(test_emit_from_init_is_refused, restore_stderr),
        cmocka_unit_test_teardown(test_emit_watermark_from_init_is_refused, restore_stderr),
        cmocka_unit_test_teardown(test_emit_from_start_is_refused, restore_stderr),
        cmocka_unit_test(test_rude_plugins_behaving_deliver),
        cmocka_unit_test(test_poll_undefined_code_is_fatal),
        cmocka_unit_test(test_process_and_flush_undefined_codes_are_fatal),
        cmocka_unit_test(test_flush_pending_is_waited_for_and_bounded),
        cmocka_unit_test(test_sigterm_ends_endless_retry),
        cmocka_unit_test(test_blocking_flush_bounded_by_shutdown_timeout),
        cmocka_unit_test(test_blocking_final_flush_of_finite_run),
        cmocka_unit_test(test_blocking_poll_bounded_by_shutdown_timeout),
        cmocka_unit_test(test_blocking_process_bounded_by_shutdown_timeout),
        cmocka_unit_test(test_second_signal_exits_at_once),
        cmocka_unit_test(test_sigterm_clean_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
