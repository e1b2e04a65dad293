/* test_file_position.c - the file source's state file: written and read
 * back, refused when damaged, and lines found by number. */
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

#include "file_position.h"

static char dir[64];

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/fpos-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_saved_position_reads_back(void **st)
{
    (void)st;
    char err[600];
    const char *p = path_of("state");
    file_position pos = {.dev = 64769, .ino = 1234567, .line = 73223, .meta = "sh2 sessions=1700000000000 counts=-1"};
    assert_int_equal(file_position_save(p, "events.jsonl", &pos, err, sizeof err), 0);
    file_position back;
    assert_int_equal(file_position_load(p, &back, err, sizeof err), 0);
    assert_int_equal(back.dev, 64769);
    assert_int_equal(back.ino, 1234567);
    assert_int_equal(back.line, 73223);
    assert_string_equal(back.meta, pos.meta);
    file_position_free(&back);
    /* no temporary left behind */
    assert_int_equal(access(path_of("state.tmp"), F_OK), -1);
}

static void test_missing_state_is_a_first_run(void **st)
{
    (void)st;
    char err[600];
    file_position pos;
    assert_int_equal(file_position_load(path_of("none"), &pos, err, sizeof err), 1);
}

static void test_damaged_state_is_refused_with_the_fix(void **st)
{
    (void)st;
    char err[600];
    file_position pos;
    const char *p = path_of("bad");
    write_file(p, "version 1\nfile 1:2\nline banana\n");
    assert_int_equal(file_position_load(p, &pos, err, sizeof err), -1);
    assert_non_null(strstr(err, ":3: 'line' is not a line of a file source state file; delete the file"));
    write_file(p, "version 1\nfile 1:2\n");
    assert_int_equal(file_position_load(p, &pos, err, sizeof err), -1);
    assert_non_null(strstr(err, "(line missing); delete it to read the input from the start"));
    write_file(p, "version 2\nfile 1:2\nline 3\n");
    assert_int_equal(file_position_load(p, &pos, err, sizeof err), -1);
    assert_non_null(strstr(err, "is not a version 1 file source state file"));
    write_file(p, "# a comment\nversion 1\nfile 1:2\nline 3\n"); /* meta may be missing: "" */
    assert_int_equal(file_position_load(p, &pos, err, sizeof err), 0);
    assert_string_equal(pos.meta, "");
    file_position_free(&pos);
}

static void test_line_start_counts_newlines(void **st)
{
    (void)st;
    const char *p = path_of("lines");
    write_file(p, "a\nbb\n\nccc\nlast");
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(file_position_line_start(fd, 1), 0);
    assert_int_equal(file_position_line_start(fd, 2), 2);
    assert_int_equal(file_position_line_start(fd, 3), 5);
    assert_int_equal(file_position_line_start(fd, 4), 6);
    assert_int_equal(file_position_line_start(fd, 5), 10); /* "last", without a newline */
    assert_int_equal(file_position_line_start(fd, 6), -1); /* past the end */
    close(fd);
    /* across the 64 KiB read buffer */
    FILE *f = fopen(p, "w");
    for (int i = 0; i < 30000; i++)
        fputs("0123456789\n", f);
    fclose(f);
    fd = open(p, O_RDONLY);
    assert_int_equal(file_position_line_start(fd, 29999), 29998 * 11);
    assert_int_equal(file_position_line_start(fd, 30001), 30000 * 11); /* just after the last line */
    assert_int_equal(file_position_line_start(fd, 30002), -1);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_saved_position_reads_back),
        cmocka_unit_test(test_missing_state_is_a_first_run),
        cmocka_unit_test(test_damaged_state_is_refused_with_the_fix),
        cmocka_unit_test(test_line_start_counts_newlines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
