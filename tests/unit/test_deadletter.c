/* test_deadletter.c - the dead-letter file writer and its own failures
 * (issue 11 B): a file that cannot be opened refuses the start, a write that
 * fails (a full disk: /dev/full) is SH_FATAL and fails the pipeline so that
 * nothing is committed past it, unless dead_letter.on_error = log, which
 * counts the loss and goes on; a clean run leaves no empty file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "deadletter.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "pipeline_build.h"

/* A pipeline with only what the dead-letter writer reads: [streamhost]
 * settings and one slot. */
typedef struct {
    sh_config *cfg;
    pipeline pl;
    slot_info slot;
    char stream[32];
} fixture;

static fixture *fixture_new(const char *file, const char *on_error)
{
    fixture *f = calloc(1, sizeof *f);
    char text[512];
    snprintf(text, sizeof text, "[streamhost]\ndead_letter.file = %s\n%s%s\n", file,
             on_error ? "dead_letter.on_error = " : "", on_error ? on_error : "");
    f->cfg = config_load_string("test.ini", text);
    assert_int_equal(f->cfg->nerrors, 0);
    f->pl.cfg = f->cfg;
    f->pl.dead_letter_file = file;
    snprintf(f->stream, sizeof f->stream, "data.jsonl");
    f->slot = (slot_info){.stream = f->stream, .partition = 0};
    f->pl.slots = &f->slot;
    f->pl.nslots = 1;
    return f;
}

static void fixture_free(fixture *f)
{
    deadletter_close(&f->pl);
    config_free(f->cfg);
    metrics_free_all();
    free(f);
}

static uint64_t lost(void) { return metrics_sum("host", "dead_letters_lost_total"); }

static char dir[64];

static int make_dir(void **st)
{
    (void)st;
    const char *t = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/sh-dlq-XXXXXX", t);
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int remove_dir(void **st)
{
    (void)st;
    char path[128];
    snprintf(path, sizeof path, "%s/dead.jsonl", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}

static void test_written_with_origin_and_no_empty_file(void **st)
{
    (void)st;
    char path[128];
    snprintf(path, sizeof path, "%s/dead.jsonl", dir);

    /* a run without dead letters leaves no file behind */
    fixture *f = fixture_new(path, NULL);
    assert_int_equal(deadletter_open(&f->pl), 0);
    assert_int_equal(deadletter_flush(&f->pl, 100), 0);
    fixture_free(f);
    assert_int_not_equal(access(path, F_OK), 0);

    f = fixture_new(path, NULL);
    assert_int_equal(deadletter_open(&f->pl), 0);
    assert_int_equal(deadletter_put(&f->pl, NULL, "{bad", 4, "malformed_json: line 7 (byte 120): x", 0, 7),
                     SH_OK);
    assert_int_equal(deadletter_flush(&f->pl, 100), 0);
    assert_int_equal(f->pl.failed, 0);
    fixture_free(f);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char line[1024] = "";
    assert_non_null(fgets(line, sizeof line, in));
    fclose(in);
    assert_non_null(strstr(line, "\"reason\":\"malformed_json: line 7 (byte 120): x\","
                                 "\"source\":{\"stream\":\"data.jsonl\",\"partition\":0,\"offset\":7},"
                                 "\"payload_base64\":\"e2JhZA==\"}"));

    /* removed (or rotated) while open: the next dead letter goes to the path
     * again, not to the unlinked file */
    f = fixture_new(path, NULL);
    assert_int_equal(deadletter_open(&f->pl), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(deadletter_put(&f->pl, NULL, "z", 1, "malformed_json: z", 0, 9), SH_OK);
    fixture_free(f);
    in = fopen(path, "r");
    assert_non_null(in);
    assert_non_null(fgets(line, sizeof line, in));
    fclose(in);
    assert_non_null(strstr(line, "\"offset\":9}"));

    /* a file that existed before is kept, even when this run adds nothing */
    f = fixture_new(path, NULL);
    assert_int_equal(deadletter_open(&f->pl), 0);
    fixture_free(f);
    assert_int_equal(access(path, F_OK), 0);
}

static void test_unopenable_file_refuses_the_start(void **st)
{
    (void)st;
    char path[128];
    snprintf(path, sizeof path, "%s/no/such/dir/dead.jsonl", dir);
    fixture *f = fixture_new(path, NULL);
    assert_int_equal(deadletter_open(&f->pl), -1);
    fixture_free(f);

    /* on_error = log: starts, and each dead letter is lost, counted, SH_OK */
    f = fixture_new(path, "log");
    assert_int_equal(deadletter_open(&f->pl), 0);
    assert_int_equal(deadletter_put(&f->pl, NULL, "x", 1, "malformed_json: x", 0, 1), SH_OK);
    assert_int_equal(deadletter_put(&f->pl, NULL, "y", 1, "malformed_json: y", 0, 2), SH_OK);
    assert_int_equal(lost(), 2);
    assert_int_equal(f->pl.failed, 0);
    assert_int_equal(deadletter_flush(&f->pl, 100), 0);
    fixture_free(f);
}

static void test_full_disk_is_fatal(void **st)
{
    (void)st;
    fixture *f = fixture_new("/dev/full", NULL);
    assert_int_equal(deadletter_open(&f->pl), 0);
    assert_int_equal(deadletter_put(&f->pl, NULL, "x", 1, "malformed_json: x", 0, 1), SH_FATAL);
    assert_int_equal(f->pl.failed, 1); /* even if the caller ignored the answer */
    f->pl.failed = 0;
    /* and it stays broken: no later dead letter and no commit get through */
    assert_int_equal(deadletter_put(&f->pl, NULL, "y", 1, "malformed_json: y", 0, 2), SH_FATAL);
    assert_int_equal(f->pl.failed, 1);
    assert_int_equal(deadletter_flush(&f->pl, 100), -1);
    assert_int_equal(lost(), 0);
    fixture_free(f);
    assert_int_equal(access("/dev/full", F_OK), 0); /* not "cleaned up" */

    f = fixture_new("/dev/full", "log");
    assert_int_equal(deadletter_open(&f->pl), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(deadletter_put(&f->pl, NULL, "x", 1, "malformed_json: x", 0, i), SH_OK);
    assert_int_equal(lost(), 3);
    assert_int_equal(f->pl.failed, 0);
    assert_int_equal(deadletter_flush(&f->pl, 100), 0);
    fixture_free(f);
}

/* `check` and `run` refuse a value that is neither fail nor log, FILE:LINE */
static void test_on_error_value_is_checked(void **st)
{
    (void)st;
    sh_config *cfg = config_load_string("test.ini", "[streamhost]\nprogress = off\ndead_letter.on_error = maybe\n");
    pipeline *pl = pipeline_build(cfg, "test.ini");
    assert_null(pl);
    int found = 0;
    for (size_t i = 0; i < cfg->nerrors; i++)
        found |= strstr(cfg->errors[i], "test.ini:3: dead_letter.on_error: 'maybe' is not fail or log") != NULL;
    assert_true(found);
    config_free(cfg);
    metrics_free_all();
}

int main(void)
{
    sh_log_set_level(SH_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_with_origin_and_no_empty_file),
        cmocka_unit_test(test_unopenable_file_refuses_the_start),
        cmocka_unit_test(test_full_disk_is_fatal),
        cmocka_unit_test(test_on_error_value_is_checked),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
