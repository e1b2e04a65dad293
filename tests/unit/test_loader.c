/* The loader: good plugins by name and by path, and every way a plugin file
 * can be wrong, each refused with one clear line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

static char **dirs(void)
{
    setenv("STREAMHOST_PLUGIN_PATH", TEST_PLUGIN_DIR, 1);
    return loader_search_dirs(NULL, ".");
}

static void test_by_name_with_kind_prefix(void **st)
{
    (void)st;
    char **d = dirs();
    loaded_plugin lp;
    char err[1024];
    assert_int_equal(loader_load("passthru", SH_TRANSFORM, d, &lp, err, sizeof err), 0);
    assert_string_equal(lp.p->name, "passthru");
    assert_non_null(strstr(lp.path, "transform-passthru.so"));
    loader_unload(&lp);
    loader_free_dirs(d);
}

static void test_by_path(void **st)
{
    (void)st;
    loaded_plugin lp;
    char err[1024];
    assert_int_equal(loader_load(TEST_PLUGIN_DIR "/sink-counter.so", SH_SINK, NULL, &lp, err, sizeof err), 0);
    assert_string_equal(lp.p->name, "counter");
    loader_unload(&lp);
}

/* The compatibility rule: a descriptor built against the frozen ABI 1.0
 * header is smaller than today's; it loads, and members added since read as
 * NULL through the host's copy. */
static void test_abi_1_0_descriptor_loads(void **st)
{
    (void)st;
    loaded_plugin lp;
    char err[1024];
    assert_int_equal(loader_load(TEST_PLUGIN_DIR "/transform-abi1.so", SH_TRANSFORM, NULL, &lp, err, sizeof err), 0);
    assert_string_equal(lp.p->name, "abi1");
    assert_int_equal(lp.p->size, SH_PLUGIN_SIZE_1_0);
    assert_true(lp.p->size < sizeof(sh_plugin));
    assert_false(SH_PLUGIN_HAS(lp.p, validate));
    assert_null(lp.p->validate);
    loader_unload(&lp);
}

/* A descriptor smaller than ABI 1.0's is refused. */
static void test_descriptor_too_small(void **st)
{
    (void)st;
    sh_plugin p = {SH_PLUGIN_MAGIC, .name = "tiny", .kind = SH_SINK};
    p.size = (uint32_t)SH_PLUGIN_SIZE_1_0 - 8;
    char err[1024];
    assert_int_equal(loader_check(&p, "tiny.so", err, sizeof err), -1);
    assert_non_null(strstr(err, "tiny.so: plugin struct sizes"));
}

static void test_builtin(void **st)
{
    (void)st;
    loaded_plugin lp;
    char err[1024];
    assert_int_equal(loader_load("kafka", SH_SOURCE, NULL, &lp, err, sizeof err), 0);
    assert_int_equal(lp.p->kind, SH_SOURCE);
    assert_string_equal(lp.path, "(built-in)");
    loader_unload(&lp);
}

static void test_missing_file(void **st)
{
    (void)st;
    loaded_plugin lp;
    char err[1024];
    assert_int_equal(loader_load("./no/such/plugin.so", SH_SINK, NULL, &lp, err, sizeof err), -1);
    assert_non_null(strstr(err, "./no/such/plugin.so: plugin file not found"));
    char **d = dirs();
    assert_int_equal(loader_load("nosuch", SH_SINK, d, &lp, err, sizeof err), -1);
    assert_non_null(strstr(err, "plugin 'nosuch' not found"));
    assert_non_null(strstr(err, TEST_PLUGIN_DIR));
    assert_null(strchr(err, '\n'));
    loader_free_dirs(d);
}

static void test_no_entry_symbol(void **st)
{
    (void)st;
    loaded_plugin lp;
    char err[1024];
    assert_int_equal(loader_load(TEST_PLUGIN_DIR "/noentry.so", 0, NULL, &lp, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a streamhost plugin (no 'streamhost_plugin_entry' symbol"));
}

static void test_wrong_abi(void **st)
{
    (void)st;
    loaded_plugin lp;
    char err[1024];
    assert_int_equal(loader_load(TEST_PLUGIN_DIR "/sink-wrongabi.so", SH_SINK, NULL, &lp, err, sizeof err), -1);
    assert_non_null(strstr(err, "sink-wrongabi.so: plugin built for streamhost ABI 999, this host speaks ABI 1"));
}

static void test_not_an_elf(void **st)
{
    (void)st;
    const char *path = "build-test-bogus.so";
    FILE *f = fopen(path, "w");
    fputs("this is not a shared object\n", f);
    fclose(f);
    loaded_plugin lp;
    char err[1024];
    assert_int_equal(loader_load(path, SH_SINK, NULL, &lp, err, sizeof err), -1);
    assert_non_null(strstr(err, "build-test-bogus.so: cannot load plugin:"));
    remove(path);
}

static void test_kind_mismatch(void **st)
{
    (void)st;
    loaded_plugin lp;
    char err[1024];
    assert_int_equal(loader_load(TEST_PLUGIN_DIR "/sink-counter.so", SH_SOURCE, NULL, &lp, err, sizeof err), -1);
    assert_non_null(strstr(err, "is a sink, not a source"));
}

static int count;
static void each(void *arg, const loaded_plugin *lp)
{
    (void)arg;
    (void)lp;
    count++;
}
static int bad;
static void each_bad(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
    bad++;
}

static void test_each_lists_good_and_reports_bad(void **st)
{
    (void)st;
    char **d = dirs();
    count = bad = 0;
    loader_each(d, each, each_bad, NULL);
    assert_true(count >= 2 + 3); /* two built-ins, three good test plugins */
    assert_true(bad >= 2);       /* noentry, wrongabi */
    loader_free_dirs(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_name_with_kind_prefix), cmocka_unit_test(test_by_path),
        cmocka_unit_test(test_builtin),
        cmocka_unit_test(test_abi_1_0_descriptor_loads),
        cmocka_unit_test(test_descriptor_too_small),                  cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_no_entry_symbol),          cmocka_unit_test(test_wrong_abi),
        cmocka_unit_test(test_not_an_elf),               cmocka_unit_test(test_kind_mismatch),
        cmocka_unit_test(test_each_lists_good_and_reports_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
