/* Config parsing, ${VAR} substitution, typed values, and validation of a
 * whole pipeline: every mistake a user can make gives one FILE:LINE line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgvalue.h"
#include "config.h"
#include "pipeline.h"

/* Builds a pipeline from text; returns it (or NULL) and leaves *cfgp set. */
static pipeline *build(const char *text, sh_config **cfgp)
{
    setenv("STREAMHOST_PLUGIN_PATH", TEST_PLUGIN_DIR, 1);
    sh_config *cfg = config_load_string("test.ini", text);
    *cfgp = cfg;
    if (cfg->nerrors)
        return NULL;
    return pipeline_build(cfg, "test.ini");
}

/* True when some error equals "test.ini:LINE: ..." and contains `needle`. */
static int has_error(sh_config *cfg, int line, const char *needle)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "test.ini:%d: ", line);
    for (size_t i = 0; i < cfg->nerrors; i++)
        if (strncmp(cfg->errors[i], prefix, strlen(prefix)) == 0 && strstr(cfg->errors[i], needle))
            return 1;
    for (size_t i = 0; i < cfg->nerrors; i++)
        fprintf(stderr, "  got: %s\n", cfg->errors[i]);
    fprintf(stderr, "  wanted %s...%s\n", prefix, needle);
    return 0;
}

static const char *GOOD =
    "[streamhost]\n"
    "commit.interval = 2s\n"
    "[source.nums]\n"
    "plugin = seq\n"
    "count = 10\n"
    "[transform.pass]\n"
    "plugin = passthru\n"
    "inputs = nums\n"
    "name = x\n"
    "[sink.out]\n"
    "plugin = counter\n"
    "inputs = pass, pass.side\n";

static void test_good_config_builds(void **st)
{
    (void)st;
    sh_config *cfg;
    pipeline *pl = build(GOOD, &cfg);
    assert_non_null(pl);
    assert_int_equal(cfg->nerrors, 0);
    assert_int_equal(pl->ninsts, 3);
    /* topological order: source, transform, sink */
    assert_string_equal(pl->insts[0]->name, "nums");
    assert_string_equal(pl->insts[1]->name, "pass");
    assert_string_equal(pl->insts[2]->name, "out");
    assert_int_equal(pl->insts[2]->ninputs, 2);
    assert_int_equal(pl->insts[2]->inputs[1].port, 1); /* pass.side */
    assert_int_equal(pl->commit_interval_ms, 2000);
    /* defaults are filled */
    assert_string_equal(inst_cfg(pl->insts[1], "gap", NULL), "1s");
    pipeline_free(pl);
    config_free(cfg);
}

static void test_substitution(void **st)
{
    (void)st;
    char err[256];
    setenv("SH_T_A", "alpha", 1);
    setenv("SH_T_EMPTY", "", 1);
    unsetenv("SH_T_UNSET");
    char *v = config_substitute("x${SH_T_A}y", err, sizeof err);
    assert_string_equal(v, "xalphay");
    free(v);
    v = config_substitute("${SH_T_UNSET:-http://localhost:9200}", err, sizeof err);
    assert_string_equal(v, "http://localhost:9200");
    free(v);
    v = config_substitute("${SH_T_EMPTY:-d}", err, sizeof err);
    assert_string_equal(v, "d");
    free(v);
    v = config_substitute("${SH_T_EMPTY}", err, sizeof err);
    assert_string_equal(v, "");
    free(v);
    v = config_substitute("cost $$5", err, sizeof err);
    assert_string_equal(v, "cost $5");
    free(v);
    assert_null(config_substitute("${SH_T_UNSET}", err, sizeof err));
    assert_non_null(strstr(err, "${SH_T_UNSET} is not set"));
    assert_null(config_substitute("${SH_T_A", err, sizeof err));
    assert_null(config_substitute("${1BAD}", err, sizeof err));
}

static void test_undefined_variable_has_line(void **st)
{
    (void)st;
    unsetenv("SH_T_UNSET");
    sh_config *cfg = config_load_string("test.ini", "[kafka]\n\nbootstrap.servers = ${SH_T_UNSET}\n");
    assert_int_equal(cfg->nerrors, 1);
    assert_true(has_error(cfg, 3, "${SH_T_UNSET} is not set and has no default"));
    config_free(cfg);
}

static void test_values(void **st)
{
    (void)st;
    char err[256];
    int64_t v;
    assert_int_equal(sh_parse_duration_ms("500ms", &v, err, sizeof err), 0);
    assert_int_equal(v, 500);
    assert_int_equal(sh_parse_duration_ms("1s", &v, err, sizeof err), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(sh_parse_duration_ms("10s", &v, err, sizeof err), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(sh_parse_duration_ms("5m", &v, err, sizeof err), 0);
    assert_int_equal(v, 300000);
    assert_int_equal(sh_parse_duration_ms("1h", &v, err, sizeof err), 0);
    assert_int_equal(v, 3600000);
    assert_int_equal(sh_parse_duration_ms("10", &v, err, sizeof err), -1);
    assert_int_equal(sh_parse_duration_ms("1x", &v, err, sizeof err), -1);
    assert_int_equal(sh_parse_duration_ms("-1s", &v, err, sizeof err), -1);
    assert_int_equal(sh_parse_size("5MiB", &v, err, sizeof err), 0);
    assert_int_equal(v, 5 * 1048576);
    assert_int_equal(sh_parse_size("64KiB", &v, err, sizeof err), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(sh_parse_size("1MB", &v, err, sizeof err), 0);
    assert_int_equal(v, 1000000);
    assert_int_equal(sh_parse_size("512", &v, err, sizeof err), 0);
    assert_int_equal(v, 512);
    assert_int_equal(sh_parse_size("5 parsecs", &v, err, sizeof err), -1);
    assert_int_equal(sh_parse_bool("yes", &v, err, sizeof err), 0);
    assert_int_equal(v, 1);
    assert_int_equal(sh_parse_bool("off", &v, err, sizeof err), 0);
    assert_int_equal(v, 0);
    assert_int_equal(sh_parse_bool("maybe", &v, err, sizeof err), -1);
    assert_int_equal(sh_parse_int("12x", &v, err, sizeof err), -1);
    size_t n;
    char **items = sh_split_list(" a , b,,c ", &n);
    assert_int_equal(n, 3);
    assert_string_equal(items[0], "a");
    assert_string_equal(items[2], "c");
    free(items);
}

static void test_parse_errors(void **st)
{
    (void)st;
    sh_config *cfg = config_load_string("test.ini",
                                        "[source.a]\n"        /* 1 */
                                        "plugin = seq\n"      /* 2 */
                                        "plugin = seq\n"      /* 3: duplicate key */
                                        "[source.a]\n"        /* 4: duplicate section */
                                        "[sink.a]\n"          /* 5: duplicate name */
                                        "[bogus]\n"           /* 6: unknown section */
                                        "this line is bad\n"  /* 7: syntax */
                                        "[source.b c]\n");    /* 8: bad name */
    assert_true(has_error(cfg, 3, "duplicate key 'plugin'"));
    assert_true(has_error(cfg, 4, "duplicate section [source.a]"));
    assert_true(has_error(cfg, 5, "duplicate component name 'a'"));
    assert_true(has_error(cfg, 6, "unknown section [bogus]"));
    assert_true(has_error(cfg, 7, "syntax error"));
    assert_true(has_error(cfg, 8, "bad component name"));
    config_free(cfg);
}

/* Every validation mistake at once: each reported with its line. */
static void test_validation_reports_every_problem(void **st)
{
    (void)st;
    sh_config *cfg;
    pipeline *pl = build("[streamhost]\n"                 /* 1 */
                         "commit.interval = soon\n"       /* 2: bad duration */
                         "[source.nums]\n"                /* 3 */
                         "plugin = seq\n"                 /* 4 */
                         "count = many\n"                 /* 5: bad int */
                         "inputs = pass\n"                /* 6: source with inputs */
                         "[transform.pass]\n"             /* 7: missing required 'name' */
                         "plugin = passthru\n"            /* 8 */
                         "inputs = nums, ghost, pass2.nope\n" /* 9: unknown input, unknown port */
                         "gapp = 1s\n"                    /* 10: unknown key (did you mean gap) */
                         "enabled = perhaps\n"            /* 11: bad bool */
                         "buffer = 5 parsecs\n"           /* 12: bad size */
                         "[transform.pass2]\n"            /* 13 */
                         "plugin = passthru\n"            /* 14 */
                         "inputs = pass\n"                /* 15 */
                         "name = y\n"                     /* 16 */
                         "[sink.out]\n"                   /* 17 */
                         "plugin = nosuchplugin\n"        /* 18: unknown plugin */
                         "inputs = pass2\n"               /* 19 */
                         "[sink.out2]\n"                  /* 20: missing plugin */
                         "inputs = out\n",                /* 21: input is a sink */
                         &cfg);
    assert_null(pl);
    assert_true(has_error(cfg, 2, "commit.interval: 'soon' is not a duration"));
    assert_true(has_error(cfg, 5, "count: 'many' is not an integer"));
    assert_true(has_error(cfg, 6, "a source takes no 'inputs'"));
    assert_true(has_error(cfg, 7, "missing required key 'name'"));
    assert_true(has_error(cfg, 9, "input 'ghost' names no component"));
    assert_true(has_error(cfg, 9, "'pass2' has no output 'nope'"));
    assert_true(has_error(cfg, 10, "unknown key 'gapp' in [transform.pass] (did you mean 'gap'?"));
    assert_true(has_error(cfg, 11, "enabled: 'perhaps' is not a boolean"));
    assert_true(has_error(cfg, 12, "buffer: '5 parsecs' is not a size"));
    assert_true(has_error(cfg, 18, "plugin 'nosuchplugin' not found"));
    assert_true(has_error(cfg, 20, "needs 'plugin = NAME'"));
    assert_true(has_error(cfg, 21, "input 'out' is a sink"));
    config_free(cfg);
}

static void test_cycle_and_dangling(void **st)
{
    (void)st;
    sh_config *cfg;
    pipeline *pl = build("[source.nums]\n"       /* 1 */
                         "plugin = seq\n"        /* 2 */
                         "[transform.a]\n"       /* 3 */
                         "plugin = passthru\n"   /* 4 */
                         "name = a\n"            /* 5 */
                         "inputs = nums, b\n"    /* 6 */
                         "[transform.b]\n"       /* 7 */
                         "plugin = passthru\n"   /* 8 */
                         "name = b\n"            /* 9 */
                         "inputs = a\n"          /* 10 */
                         "[transform.lonely]\n"  /* 11: feeds nothing */
                         "plugin = passthru\n"
                         "name = c\n"
                         "inputs = nums\n"
                         "[sink.out]\n"
                         "plugin = counter\n"
                         "inputs = b\n",
                         &cfg);
    assert_null(pl);
    assert_true(has_error(cfg, 6, "cycle through: a, b"));
    assert_true(has_error(cfg, 11, "[transform.lonely] feeds nothing"));
    config_free(cfg);
}

static void test_missing_source_and_sink(void **st)
{
    (void)st;
    sh_config *cfg;
    assert_null(build("[kafka]\nbootstrap.servers = embedded\n", &cfg));
    assert_true(has_error(cfg, 1, "no components"));
    config_free(cfg);
}

static void test_kafka_properties_checked(void **st)
{
    (void)st;
    sh_config *cfg;
    char text[1024];
    snprintf(text, sizeof text, "[kafka]\nbootstrap.servers = embedded\nno.such.property = 1\n%s", GOOD);
    assert_null(build(text, &cfg));
    assert_true(has_error(cfg, 3, "No such configuration property"));
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_config_builds),
        cmocka_unit_test(test_substitution),
        cmocka_unit_test(test_undefined_variable_has_line),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_validation_reports_every_problem),
        cmocka_unit_test(test_cycle_and_dangling),
        cmocka_unit_test(test_missing_source_and_sink),
        cmocka_unit_test(test_kafka_properties_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
