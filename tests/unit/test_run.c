/* The run loop: records flow through the DAG to the end of a finite input,
 * SH_RETRY is retried, SH_FATAL stops the run with exit code 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"

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

int main(void)
{
    sh_log_set_level(SH_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finite_run_delivers_everything),
        cmocka_unit_test(test_retry_then_success),
        cmocka_unit_test(test_fatal_stops_with_exit_1),
        cmocka_unit_test(test_abi_1_0_plugin_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
