/* Config parsing, ${VAR} substitution, typed values, and validation of a
 * whole pipeline: every mistake a user can make gives one FILE:LINE line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfgvalue.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "pipeline_build.h"
#include "settings.h"

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

/* Same, with the shipped plugins (their validate callbacks) on the path too. */
static pipeline *build_real(const char *text, sh_config **cfgp)
{
    setenv("STREAMHOST_PLUGIN_PATH", TEST_PLUGIN_DIR ":" TEST_BIN_DIR "/plugins", 1);
    sh_config *cfg = config_load_string("test.ini", text);
    *cfgp = cfg;
    if (cfg->nerrors)
        return NULL;
    return pipeline_build(cfg, "test.ini");
}

/* As `streamhost check` does: build even when parsing found problems. */
static void build_anyway(sh_config *cfg)
{
    setenv("STREAMHOST_PLUGIN_PATH", TEST_PLUGIN_DIR, 1);
    pipeline *pl = pipeline_build(cfg, "test.ini");
    assert_null(pl);
}

static void dump_errors(sh_config *cfg)
{
    for (size_t i = 0; i < cfg->nerrors; i++)
        fprintf(stderr, "  got: %s\n", cfg->errors[i]);
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


/* --- issue 11 C: plugins' validate() runs in pipeline_build, so `check`
 * refuses what `run` would; one FILE:LINE line per bad value ---------------- */

/* A clickstream pipeline with one line replaced per test. */
static const char *pipeline_text(char *buf, size_t len, const char *source_extra, const char *session_extra,
                                 const char *where, const char *tumble_extra, const char *path)
{
    snprintf(buf, len,
             "[source.clicks]\n"           /* 1 */
             "plugin = clickgen\n"         /* 2 */
             "%s\n"                        /* 3 */
             "[transform.sessions]\n"      /* 4 */
             "plugin = session\n"          /* 5 */
             "inputs = clicks\n"           /* 6 */
             "%s\n"                        /* 7 */
             "[transform.checkouts]\n"     /* 8 */
             "plugin = filter\n"           /* 9 */
             "inputs = sessions\n"         /* 10 */
             "where = %s\n"                /* 11 */
             "[transform.counts]\n"        /* 12 */
             "plugin = tumble\n"           /* 13 */
             "inputs = sessions\n"         /* 14 */
             "%s\n"                        /* 15 */
             "[sink.out]\n"                /* 16 */
             "plugin = file\n"             /* 17 */
             "inputs = checkouts, counts\n" /* 18 */
             "path = %s\n",                /* 19 */
             source_extra, session_extra, where, tumble_extra, path);
    return buf;
}

static void test_shipped_pipeline_validates(void **st)
{
    (void)st;
    char text[2048];
    sh_config *cfg;
    pipeline *pl = build_real(pipeline_text(text, sizeof text, "max_events = 10", "gap = 1s",
                                            "orderCheckoutEventCount != 0", "size = 10s", "-"),
                              &cfg);
    if (!pl)
        dump_errors(cfg);
    assert_non_null(pl);
    pipeline_free(pl);
    config_free(cfg);
}

static void test_validate_refuses_what_run_refuses(void **st)
{
    (void)st;
    char text[2048];
    sh_config *cfg;
    pipeline *pl = build_real(pipeline_text(text, sizeof text, "users = 0", "gap = 0", "eventCount ~ 1",
                                            "size = 0", "/nonexistent-dir/out.jsonl"),
                              &cfg);
    assert_null(pl);
    assert_true(has_error(cfg, 3, "users: must be between 1 and 10000000"));
    assert_true(has_error(cfg, 7, "gap must be at least 1ms"));
    assert_true(has_error(cfg, 11, "where = 'eventCount ~ 1': expected an operator"));
    assert_true(has_error(cfg, 15, "size must be at least 1ms"));
    assert_true(has_error(cfg, 19, "path: the directory '/nonexistent-dir' of '/nonexistent-dir/out.jsonl' does not exist"));
    assert_int_equal(cfg->nerrors, 5); /* one line each, nothing more */
    config_free(cfg);
}

static void test_validate_sees_only_well_typed_sections(void **st)
{
    (void)st;
    char text[2048];
    sh_config *cfg;
    /* `gap = soon` is a type error: the session's own check must not add
     * "gap must be at least 1ms" for the same line */
    pipeline *pl = build_real(pipeline_text(text, sizeof text, "", "gap = soon", "eventCount > 0",
                                            "", "-"),
                              &cfg);
    assert_null(pl);
    assert_true(has_error(cfg, 7, "gap: 'soon' is not a duration"));
    assert_int_equal(cfg->nerrors, 1);
    config_free(cfg);
}

static void test_sink_path_checks(void **st)
{
    (void)st;
    char text[2048];
    sh_config *cfg;
    pipeline *pl = build_real(pipeline_text(text, sizeof text, "", "", "eventCount > 0", "", "/tmp"), &cfg);
    assert_null(pl);
    assert_true(has_error(cfg, 19, "path: '/tmp' is a directory"));
    config_free(cfg);
}

/* --- issue 11 C and E: [streamhost] values are checked at build time ------- */

static void host_section(const char *lines, sh_config **cfgp)
{
    char text[1024];
    snprintf(text, sizeof text, "[streamhost]\n%s\n%s", lines, GOOD + strlen("[streamhost]\ncommit.interval = 2s\n"));
    pipeline *pl = build(text, cfgp);
    if (pl) {
        pipeline_free(pl);
        return;
    }
}

static void test_host_values_in_range(void **st)
{
    (void)st;
    sh_config *cfg;
    host_section("metrics.port = 70000", &cfg); /* used to wrap to 4464 */
    assert_true(has_error(cfg, 2, "metrics.port: 70000 is not a port; use 1 to 65535, or 0 for no metrics endpoint"));
    assert_int_equal(cfg->nerrors, 1);
    config_free(cfg);
    host_section("metrics.port = -1", &cfg); /* used to turn metrics off */
    assert_true(has_error(cfg, 2, "metrics.port: -1 is not a port"));
    config_free(cfg);
    host_section("metrics.port = http", &cfg); /* a type error, once */
    assert_true(has_error(cfg, 2, "metrics.port: 'http' is not an integer"));
    assert_int_equal(cfg->nerrors, 1);
    config_free(cfg);
    host_section("metrics.address = not-an-ip", &cfg);
    assert_true(has_error(cfg, 2, "metrics.address: 'not-an-ip' is not an IPv4 address"));
    config_free(cfg);
    host_section("rate.limit = -5", &cfg);
    assert_true(has_error(cfg, 2, "rate.limit: -5 is negative"));
    config_free(cfg);
    host_section("batch.size = lots", &cfg); /* no range error on top of the type error */
    assert_int_equal(cfg->nerrors, 1);
    config_free(cfg);
    const char *fine[] = {"metrics.port = 0", "metrics.port = 65535\nmetrics.address = 0.0.0.0",
                          "rate.limit = 0"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        host_section(fine[i], &cfg);
        if (cfg->nerrors)
            dump_errors(cfg);
        assert_int_equal(cfg->nerrors, 0);
        config_free(cfg);
    }
}

/* --- issue 11 D: N repeated sections, N-1 lines, linear time ---------------- */

static void test_repeated_sections_one_line_each(void **st)
{
    (void)st;
    const size_t n = 3000;
    size_t cap = n * 40 + 64, o = 0;
    char *text = malloc(cap);
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(text + o, cap - o, "[source.x]\nplugin = seq\n");
    o += (size_t)snprintf(text + o, cap - o, "[sink.x]\n");
    sh_config *cfg = config_load_string("test.ini", text);
    free(text);
    assert_int_equal(cfg->nerrors, n); /* n-1 repeated titles + one name under another kind */
    assert_true(has_error(cfg, 3, "duplicate section [source.x] (first at line 1)"));
    assert_true(has_error(cfg, (int)(2 * n - 1), "duplicate section [source.x] (first at line 1)"));
    assert_true(has_error(cfg, (int)(2 * n + 1), "duplicate component name 'x' (also [source.x] at line 1)"));
    build_anyway(cfg); /* no further line per duplicate from the build */
    if (cfg->nerrors != n + 2)
        dump_errors(cfg);
    assert_int_equal(cfg->nerrors, n + 2); /* + "feeds nothing", "no [sink.NAME] section" */
    config_free(cfg);
}

/* --- the syntax: indentation, headers, comments, quotes -------------------- */

static void test_syntax_rules(void **st)
{
    (void)st;
    sh_config *cfg = config_load_string("test.ini",
                                        "[source.a]\n"                 /* 1 */
                                        "plugin = seq\n"               /* 2 */
                                        "    count = 5\n"              /* 3: indentation means nothing */
                                        "\tk1 = a ;comment\n"           /* 4 */
                                        "k2 = a;b\n"                   /* 5: no blank before ';' */
                                        "k3 = x #comment\n"            /* 6 */
                                        "k4 = x#1\n"                   /* 7 */
                                        "k5 = \"a ;b #c\"   ; comment\n" /* 8 */
                                        "k6 = \"say \\\"hi\\\" \\\\ \"\n" /* 9 */
                                        "k7 = ; only a comment\n"      /* 10 */
                                        "[ sink.b ] ; trailing comment\n" /* 11 */
                                        "k8 = \"${SH_T_Q:-d ;x}\"\n"   /* 12 */
                                        "k9 = C:\\dir\\x\r\n");         /* 13: CRLF */
    if (cfg->nerrors)
        dump_errors(cfg);
    assert_int_equal(cfg->nerrors, 0);
    cfg_section *a = config_section(cfg, SEC_SOURCE, "a");
    assert_non_null(a);
    assert_string_equal(config_get(a, "count"), "5");
    assert_string_equal(config_get(a, "k1"), "a");
    assert_string_equal(config_get(a, "k2"), "a;b");
    assert_string_equal(config_get(a, "k3"), "x");
    assert_string_equal(config_get(a, "k4"), "x#1");
    assert_string_equal(config_get(a, "k5"), "a ;b #c");
    assert_string_equal(config_get(a, "k6"), "say \"hi\" \\ ");
    assert_string_equal(config_get(a, "k7"), "");
    cfg_section *b = config_section(cfg, SEC_SINK, "b");
    assert_non_null(b);
    assert_int_equal(b->line, 11);
    assert_string_equal(config_get(b, "k8"), "d ;x");
    assert_string_equal(config_get(b, "k9"), "C:\\dir\\x");
    config_free(cfg);
}

/* Each broken line: exactly one line, and the lines after it stay right. */
static void test_broken_lines_one_error_each(void **st)
{
    (void)st;
    sh_config *cfg = config_load_string("test.ini",
                                        "[source.a]\n"        /* 1 */
                                        "plugin = seq\n"      /* 2 */
                                        "  more text\n"       /* 3: a would-be continuation */
                                        "[sink.b\n"           /* 4: unclosed, still opens [sink.b] */
                                        "plugin = counter\n"  /* 5 */
                                        "inputs = a\n"        /* 6 */
                                        "[transform.c] x\n"   /* 7 */
                                        "plugin = passthru\n" /* 8 */
                                        "k = \"open\n"        /* 9 */
                                        "k2 = \"a\" b\n"      /* 10 */
                                        " = 1\n"              /* 11 */
                                        "[nonsense\n");       /* 12 */
    assert_true(has_error(cfg, 3, "an indented line does not continue the value above"));
    assert_true(has_error(cfg, 4, "unclosed '[' in a section header: write [sink.b]"));
    assert_true(has_error(cfg, 7, "unexpected text after [transform.c]"));
    assert_true(has_error(cfg, 9, "no closing '\"'"));
    assert_true(has_error(cfg, 10, "unexpected text after the closing '\"'"));
    assert_true(has_error(cfg, 11, "no key before '='"));
    assert_true(has_error(cfg, 12, "unclosed '['"));
    if (cfg->nerrors != 7)
        dump_errors(cfg);
    assert_int_equal(cfg->nerrors, 7);
    cfg_section *b = config_section(cfg, SEC_SINK, "b");
    assert_non_null(b);
    assert_string_equal(config_get(b, "plugin"), "counter");
    assert_null(config_get(config_section(cfg, SEC_SOURCE, "a"), "inputs"));
    config_free(cfg);
}

/* Long lines and long names are kept whole (inih cut them at 200 / 50). */
static void test_long_lines_and_names(void **st)
{
    (void)st;
    char key[101], val[5001], text[6000];
    memset(key, 'k', 100);
    key[100] = '\0';
    memset(val, 'v', 5000);
    val[5000] = '\0';
    snprintf(text, sizeof text, "[source.a]\n%s = %s\n", key, val);
    sh_config *cfg = config_load_string("test.ini", text);
    assert_int_equal(cfg->nerrors, 0);
    assert_string_equal(config_get(config_section(cfg, SEC_SOURCE, "a"), key), val);
    config_free(cfg);
}

/* --- an unset ${VAR}: its line only, no follow-on complaints --------------- */

static void test_unset_variable_reported_once(void **st)
{
    (void)st;
    unsetenv("SH_T_UNSET");
    sh_config *cfg = config_load_string("test.ini",
                                        "[streamhost]\n"                 /* 1 */
                                        "batch.size = ${SH_T_UNSET}\n"   /* 2 */
                                        "[source.nums]\n"                /* 3 */
                                        "plugin = seq\n"                 /* 4 */
                                        "[transform.pass]\n"             /* 5 */
                                        "plugin = passthru\n"            /* 6 */
                                        "inputs = nums\n"                /* 7 */
                                        "name = ${SH_T_UNSET}\n"         /* 8: required */
                                        "gap = ${SH_T_UNSET}\n"          /* 9 */
                                        "[transform.other]\n"            /* 10 */
                                        "plugin = ${SH_T_UNSET}\n"       /* 11 */
                                        "inputs = nums\n"                /* 12 */
                                        "[sink.out]\n"                   /* 13 */
                                        "plugin = counter\n"             /* 14 */
                                        "inputs = ${SH_T_UNSET}\n");     /* 15 */
    assert_int_equal(cfg->nerrors, 5);
    build_anyway(cfg);
    if (cfg->nerrors != 5)
        dump_errors(cfg);
    assert_int_equal(cfg->nerrors, 5);
    for (int line = 2; line <= 15; line++)
        if (line == 2 || line == 8 || line == 9 || line == 11 || line == 15)
            assert_true(has_error(cfg, line, "${SH_T_UNSET} is not set and has no default"));
    config_free(cfg);
}

/* --- what config_load reads ------------------------------------------------- */

static void test_config_file_limits(void **st)
{
    (void)st;
    char err[1024];
    err[0] = '\0';
    assert_null(config_load("/dev/zero", err, sizeof err)); /* used to read forever */
    assert_non_null(strstr(err, "/dev/zero: cannot read config: it is a character device, not a file"));
    assert_null(config_load("/tmp", err, sizeof err));
    assert_non_null(strstr(err, "it is a directory"));
    assert_null(config_load("/nonexistent/x.ini", err, sizeof err));
    assert_non_null(strstr(err, "No such file"));

    char path[] = "/tmp/sh-cfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char *big = malloc(SH_CONFIG_MAX_BYTES + 1);
    memset(big, ';', SH_CONFIG_MAX_BYTES + 1);
    assert_int_equal(write(fd, big, SH_CONFIG_MAX_BYTES + 1), SH_CONFIG_MAX_BYTES + 1);
    free(big);
    assert_null(config_load(path, err, sizeof err));
    assert_non_null(strstr(err, "larger than 1048576 bytes (1 MiB)"));
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, "[kafka]\nx = 1\0\n", 15, 0), 15);
    assert_null(config_load(path, err, sizeof err));
    assert_non_null(strstr(err, "line 2 holds a NUL byte"));
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, "\xEF\xBB\xBF[kafka]\nx = 1\n", 17, 0), 17); /* a BOM is fine */
    sh_config *cfg = config_load(path, err, sizeof err);
    assert_non_null(cfg);
    assert_int_equal(cfg->nerrors, 0);
    assert_string_equal(config_get(config_section(cfg, SEC_KAFKA, NULL), "x"), "1");
    config_free(cfg);
    close(fd);
    unlink(path);

    /* a pipe is read (`streamhost check <(envsubst < x.ini)`) */
    char fifo[64];
    snprintf(fifo, sizeof fifo, "/tmp/sh-cfg-fifo-%d", (int)getpid());
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t child = fork();
    if (child == 0) {
        int w = open(fifo, O_WRONLY);
        ssize_t n = write(w, "[kafka]\ny = 2\n", 14);
        _exit(n == 14 ? 0 : 1);
    }
    cfg = config_load(fifo, err, sizeof err);
    int status = 0;
    waitpid(child, &status, 0);
    unlink(fifo);
    assert_non_null(cfg);
    assert_string_equal(config_get(config_section(cfg, SEC_KAFKA, NULL), "y"), "2");
    config_free(cfg);
}

/* --- one message, one line: control characters are escaped ----------------- */

static void test_control_characters_escaped(void **st)
{
    (void)st;
    /* config errors: an environment value with a newline cannot forge a line */
    setenv("SH_T_NL", "1s\nFORGED: all good", 1);
    sh_config *cfg = config_load_string("test.ini",
                                        "[source.nums]\nplugin = seq\n"
                                        "[transform.x]\nplugin = passthru\ninputs = nums\nname = x\n"
                                        "gap = ${SH_T_NL}\n"
                                        "[sink.out]\nplugin = counter\ninputs = x\n");
    build_anyway(cfg);
    int found = 0;
    for (size_t i = 0; i < cfg->nerrors; i++) {
        assert_null(strchr(cfg->errors[i], '\n'));
        found |= strstr(cfg->errors[i], "1s\\nFORGED: all good") != NULL;
    }
    if (!found)
        dump_errors(cfg);
    assert_true(found);
    config_free(cfg);
    unsetenv("SH_T_NL");

    /* log lines */
    char path[] = "/tmp/sh-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    sh_log(SH_LOG_ERROR, "comp\nX", "value '%s' done", "a\nINFO forged\r\t\x1b[2J");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[512] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "ERROR [comp\\nX] value 'a\\nINFO forged\\r\\t\\x1b[2J' done\n"));
    assert_int_equal(strchr(buf, '\n') - buf, n - 1); /* exactly one line */

    char esc[16];
    assert_int_equal(sh_log_escape(esc, sizeof esc, "ab\ncd"), 6);
    assert_string_equal(esc, "ab\\ncd");
    assert_int_equal(sh_log_escape(esc, 4, "\x01\x02"), 0); /* never a half escape */
    assert_string_equal(esc, "");
}

/* --- several files: an overlay over a base (docs/configuration.md) ---------- */

/* Loads base.ini + over.ini (+ third.ini when `third`), as `run a b c` does. */
static sh_config *load_files(const char *base, const char *over, const char *third)
{
    const char *names[] = {"base.ini", "over.ini", "third.ini"};
    const char *texts[] = {base, over, third};
    return config_load_strings(names, texts, third ? 3 : 2);
}

/* True when some error starts with "FILE:LINE: " and contains `needle`. */
static int has_error_at(sh_config *cfg, const char *file, int line, const char *needle)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s:%d: ", file, line);
    for (size_t i = 0; i < cfg->nerrors; i++)
        if (strncmp(cfg->errors[i], prefix, strlen(prefix)) == 0 && strstr(cfg->errors[i], needle))
            return 1;
    dump_errors(cfg);
    fprintf(stderr, "  wanted %s...%s\n", prefix, needle);
    return 0;
}

/* "FILE:LINE" of key `key` in [title]. */
static const char *where_of(sh_config *cfg, const char *title, const char *key, char *buf, size_t len)
{
    for (size_t i = 0; i < cfg->nsecs; i++)
        if (strcmp(cfg->secs[i].title, title) == 0) {
            cfg_kv *kv = key ? config_kv(&cfg->secs[i], key) : NULL;
            if (key && !kv)
                return "(unset)";
            return config_where(cfg, kv ? kv->line : cfg->secs[i].line, buf, len);
        }
    return "(no section)";
}

static cfg_section *titled(sh_config *cfg, const char *title)
{
    for (size_t i = 0; i < cfg->nsecs; i++)
        if (strcmp(cfg->secs[i].title, title) == 0)
            return &cfg->secs[i];
    return NULL;
}

/* a literal, so that tests can append sections to it */
#define BASE \
    "[streamhost]\n"          /* 1 */ \
    "commit.interval = 2s\n"  /* 2 */ \
    "batch.size = 100\n"      /* 3 */ \
    "[source.nums]\n"         /* 4 */ \
    "plugin = seq\n"          /* 5 */ \
    "count = 10\n"            /* 6 */ \
    "[transform.pass]\n"      /* 7 */ \
    "plugin = passthru\n"     /* 8 */ \
    "inputs = nums\n"         /* 9 */ \
    "name = x\n"              /* 10 */ \
    "count = 4\n"             /* 11 */ \
    "[sink.out]\n"            /* 12 */ \
    "plugin = counter\n"      /* 13 */ \
    "inputs = pass\n"         /* 14 */ \
    "fail_after = 1000\n"     /* 15 */ \
    "retry_first = 0\n"        /* 16 */

static void test_overlay_overrides_and_adds(void **st)
{
    (void)st;
    char w[256];
    sh_config *cfg = load_files(BASE,
                                "\n"                      /* 1 */
                                "[streamhost]\n"          /* 2 */
                                "batch.size = 7\n"        /* 3: overrides */
                                "progress = off\n"        /* 4: adds a key */
                                "[transform.pass]\n"      /* 5: same plugin (none named): keys merge */
                                "count = 9\n"             /* 6 */
                                "[sink.more]\n"           /* 7: adds a section */
                                "plugin = counter\n"      /* 8 */
                                "inputs = pass.side\n",   /* 9 */
                                NULL);
    assert_int_equal(cfg->nerrors, 0);
    assert_int_equal(cfg->nfiles, 2);
    cfg_section *hs = config_section(cfg, SEC_HOST, NULL);
    assert_string_equal(config_get(hs, "batch.size"), "7");
    assert_string_equal(config_get(hs, "commit.interval"), "2s"); /* kept */
    assert_string_equal(config_get(hs, "progress"), "off");
    assert_string_equal(where_of(cfg, "streamhost", "batch.size", w, sizeof w), "over.ini:3");
    assert_string_equal(where_of(cfg, "streamhost", "commit.interval", w, sizeof w), "base.ini:2");
    assert_string_equal(where_of(cfg, "streamhost", NULL, w, sizeof w), "base.ini:1"); /* defined there */
    cfg_section *pass = config_component(cfg, "pass");
    assert_string_equal(config_get(pass, "count"), "9");
    assert_string_equal(config_get(pass, "name"), "x");
    assert_string_equal(config_get(pass, "plugin"), "passthru");
    assert_string_equal(where_of(cfg, "transform.pass", "count", w, sizeof w), "over.ini:6");
    assert_string_equal(where_of(cfg, "sink.more", "inputs", w, sizeof w), "over.ini:9");
    assert_non_null(config_component(cfg, "more"));
    /* and it is one pipeline */
    setenv("STREAMHOST_PLUGIN_PATH", TEST_PLUGIN_DIR, 1);
    pipeline *pl = pipeline_build(cfg, "base.ini");
    assert_non_null(pl);
    assert_int_equal(pl->ninsts, 4);
    assert_int_equal(pl->batch_size, 7);
    pipeline_free(pl);
    config_free(cfg);
}

static void test_overlay_replaces_section_when_plugin_changes(void **st)
{
    (void)st;
    char w[256];
    /* counter's keys (fail_after, retry_first) do not reach clockgap, which
     * would refuse them as unknown; the inputs (wiring) stay */
    sh_config *cfg = load_files(BASE,
                                "[sink.out]\n"            /* 1 */
                                "plugin = clockgap\n"     /* 2 */
                                "out = /dev/null\n",      /* 3 */
                                NULL);
    assert_int_equal(cfg->nerrors, 0);
    cfg_section *out = config_component(cfg, "out");
    assert_int_equal(out->nkv, 3);
    assert_string_equal(config_get(out, "plugin"), "clockgap");
    assert_string_equal(config_get(out, "inputs"), "pass");
    assert_null(config_get(out, "fail_after"));
    assert_null(config_get(out, "retry_first"));
    assert_string_equal(where_of(cfg, "sink.out", NULL, w, sizeof w), "over.ini:1");
    assert_string_equal(where_of(cfg, "sink.out", "inputs", w, sizeof w), "base.ini:14");
    assert_string_equal(out->replaced_plugin, "counter");
    assert_string_equal(config_where(cfg, out->replaced_line, w, sizeof w), "base.ini:12");
    setenv("STREAMHOST_PLUGIN_PATH", TEST_PLUGIN_DIR, 1);
    pipeline *pl = pipeline_build(cfg, "base.ini");
    if (!pl)
        dump_errors(cfg);
    assert_non_null(pl);
    pipeline_free(pl);
    config_free(cfg);

    /* an overlay that sets inputs rewires the replaced section too */
    cfg = load_files(BASE, "[sink.out]\nplugin = clockgap\ninputs = pass.side\nout = /dev/null\n", NULL);
    assert_int_equal(cfg->nerrors, 0);
    assert_string_equal(config_get(config_component(cfg, "out"), "inputs"), "pass.side");
    assert_string_equal(where_of(cfg, "sink.out", "inputs", w, sizeof w), "over.ini:3");
    config_free(cfg);

    /* naming the same plugin again merges key by key */
    cfg = load_files(BASE, "[sink.out]\nplugin = counter\nretry_first = 2\n", NULL);
    assert_int_equal(cfg->nerrors, 0);
    out = config_component(cfg, "out");
    assert_string_equal(config_get(out, "fail_after"), "1000");
    assert_string_equal(config_get(out, "retry_first"), "2");
    assert_null(out->replaced_plugin);
    assert_string_equal(where_of(cfg, "sink.out", NULL, w, sizeof w), "base.ini:12");
    config_free(cfg);

    /* ${VAR} in the plugin counts by its value: the same plugin */
    setenv("SH_T_PLUGIN", "counter", 1);
    cfg = load_files(BASE, "[sink.out]\nplugin = ${SH_T_PLUGIN}\nretry_first = 2\n", NULL);
    assert_int_equal(cfg->nerrors, 0);
    assert_string_equal(config_get(config_component(cfg, "out"), "fail_after"), "1000");
    config_free(cfg);
}

static void test_overlay_substitutes_only_what_survives(void **st)
{
    (void)st;
    unsetenv("SH_T_UNSET");
    /* the base's url needs a variable that dev never sets: replaced whole,
     * it is never expanded, so it is no error */
    const char *base = "[sink.out]\n"
                       "plugin = counter\n"
                       "inputs = pass\n"
                       "out = ${SH_T_UNSET}\n"
                       "[streamhost]\n"
                       "dead_letter.topic = ${SH_T_UNSET}\n";
    sh_config *cfg = load_files(base, "[sink.out]\nplugin = clockgap\nout = /dev/null\n"
                                      "[streamhost]\ndead_letter.topic = dlq\n", NULL);
    assert_int_equal(cfg->nerrors, 0);
    config_free(cfg);
    /* a variable an overlay leaves in place is reported at its own line */
    cfg = load_files(base, "[sink.out]\nplugin = counter\n\nfail_after = ${SH_T_UNSET}\n", NULL);
    assert_int_equal(cfg->nerrors, 3);
    assert_true(has_error_at(cfg, "base.ini", 4, "${SH_T_UNSET} is not set"));
    assert_true(has_error_at(cfg, "base.ini", 6, "${SH_T_UNSET} is not set"));
    assert_true(has_error_at(cfg, "over.ini", 4, "fail_after: variable ${SH_T_UNSET} is not set"));
    /* in file order */
    assert_non_null(strstr(cfg->errors[0], "base.ini:4:"));
    assert_non_null(strstr(cfg->errors[2], "over.ini:4:"));
    assert_null(config_get(config_component(cfg, "out"), "fail_after"));
    assert_non_null(config_failed(config_component(cfg, "out"), "fail_after"));
    config_free(cfg);
}

static void test_overlay_errors_name_their_file(void **st)
{
    (void)st;
    unsetenv("SH_T_UNSET");
    sh_config *cfg = load_files(BASE,
                                "[transform.pass]\n"            /* 1 */
                                "cuont = 3\n"                   /* 2: unknown key */
                                "gap = soon\n"                  /* 3: bad value */
                                "gap = 1s\n"                    /* 4: duplicate in this file */
                                "ratio = ${SH_T_UNSET}\n"       /* 5: unset variable */
                                "what is this\n"                /* 6: syntax */
                                "[sink.out]\n"                  /* 7 */
                                "inputs = nowhere\n",           /* 8: unknown input */
                                NULL);
    assert_true(has_error_at(cfg, "over.ini", 4, "duplicate key 'gap' in [transform.pass] (first at line 3)"));
    assert_true(has_error_at(cfg, "over.ini", 5, "ratio: variable ${SH_T_UNSET} is not set"));
    assert_true(has_error_at(cfg, "over.ini", 6, "syntax error"));
    build_anyway(cfg);
    assert_true(has_error_at(cfg, "over.ini", 2, "unknown key 'cuont' in [transform.pass] (did you mean 'count'?"));
    assert_true(has_error_at(cfg, "over.ini", 3, "gap: 'soon' is not a duration"));
    assert_true(has_error_at(cfg, "over.ini", 8, "input 'nowhere' names no component"));
    assert_true(has_error_at(cfg, "base.ini", 7, "[transform.pass] feeds nothing")); /* the overlay rewired out */
    assert_int_equal(cfg->nerrors, 7);
    config_free(cfg);

    /* a plugin's own check (validate, through cfg_where) names the overlay's line */
    const char *base = "[source.clicks]\nplugin = clickgen\nmax_events = 10\n"
                       "[sink.out]\nplugin = file\ninputs = clicks\npath = -\n";
    cfg = load_files(base, "; dev\n[sink.out]\npath = /nonexistent-dir/out.jsonl\n", NULL);
    setenv("STREAMHOST_PLUGIN_PATH", TEST_PLUGIN_DIR ":" TEST_BIN_DIR "/plugins", 1);
    assert_null(pipeline_build(cfg, "base.ini"));
    assert_true(has_error_at(cfg, "over.ini", 3, "path: the directory '/nonexistent-dir'"));
    assert_int_equal(cfg->nerrors, 1);
    config_free(cfg);

    /* and a [kafka] property */
    cfg = load_files("[kafka]\nbootstrap.servers = localhost:9092\n[source.nums]\nplugin = seq\n"
                     "[sink.out]\nplugin = counter\ninputs = nums\n",
                     "[kafka]\nno.such.property = 1\n", NULL);
    setenv("STREAMHOST_PLUGIN_PATH", TEST_PLUGIN_DIR, 1);
    assert_null(pipeline_build(cfg, "base.ini"));
    assert_true(has_error_at(cfg, "over.ini", 2, "no.such.property"));
    config_free(cfg);
}

static void test_overlay_removes_with_plugin_none(void **st)
{
    (void)st;
    char w[256];
    sh_config *cfg = load_files(BASE "[sink.extra]\nplugin = counter\ninputs = nums\n",
                                "[sink.extra]\nplugin = none\n", NULL);
    assert_int_equal(cfg->nerrors, 0);
    assert_null(config_component(cfg, "extra"));
    assert_null(titled(cfg, "sink.extra"));
    assert_int_equal(cfg->nnotes, 1);
    assert_non_null(strstr(cfg->notes[0], "[sink.extra] of base.ini:17 removed by over.ini:2"));
    /* the name is free again for a later file, under any kind */
    config_free(cfg);
    cfg = load_files(BASE "[sink.extra]\nplugin = counter\ninputs = nums\n", "[sink.extra]\nplugin = none\n",
                     "[transform.extra]\nplugin = passthru\ninputs = nums\nname = y\n");
    assert_int_equal(cfg->nerrors, 0);
    assert_string_equal(where_of(cfg, "transform.extra", "name", w, sizeof w), "third.ini:4");
    config_free(cfg);

    /* removing what is not there is a mistake (a misspelt title), and so are
     * keys beside plugin = none */
    cfg = load_files(BASE, "[sink.ou]\nplugin = none\n[transform.pass]\nplugin = none\nname = z\n", NULL);
    assert_true(has_error_at(cfg, "over.ini", 2, "plugin = none removes [sink.ou] of an earlier file, but no earlier file defines [sink.ou]"));
    assert_true(has_error_at(cfg, "over.ini", 5, "'name' in [transform.pass]: a section with plugin = none is removed"));
    assert_int_equal(cfg->nerrors, 2);
    config_free(cfg);
}

static void test_overlay_component_names_stay_unique(void **st)
{
    (void)st;
    sh_config *cfg = load_files(BASE, "\n[source.out]\nplugin = seq\n", NULL);
    assert_true(has_error_at(cfg, "over.ini", 2,
                             "duplicate component name 'out' (also [sink.out] at base.ini:12): a later file changes a component under its own title, [sink.out]"));
    assert_int_equal(cfg->nerrors, 1);
    assert_string_equal(config_component(cfg, "out")->title, "sink.out");
    config_free(cfg);
}

static void test_positions_across_files(void **st)
{
    (void)st;
    char w[256];
    /* an empty file and a file without a final newline in between */
    sh_config *cfg = load_files("[source.a]\nplugin = seq\n", "", "[source.a]\n\n\ncount = 3");
    assert_int_equal(cfg->nerrors, 0);
    assert_int_equal(cfg->nfiles, 3);
    assert_string_equal(where_of(cfg, "source.a", "plugin", w, sizeof w), "base.ini:2");
    assert_string_equal(where_of(cfg, "source.a", "count", w, sizeof w), "third.ini:4");
    for (int pos = 1; pos <= 3; pos++)
        assert_string_equal(config_file_of(cfg, pos), "base.ini");
    assert_string_equal(config_file_of(cfg, 0), "base.ini");
    assert_int_equal(config_line_of(cfg, 0), 0);
    char label[128];
    assert_string_equal(config_label(cfg, label, sizeof label), "base.ini + over.ini + third.ini");
    assert_true(config_located(cfg, "third.ini:4: count: bad"));
    assert_true(config_located(cfg, "over.ini:1: x"));
    assert_false(config_located(cfg, "other.ini:1: x"));
    assert_false(config_located(cfg, "base.ini: x"));
    config_error(cfg, cfg->starts[2] + 1, "here");
    assert_true(has_error_at(cfg, "third.ini", 1, "here"));
    config_free(cfg);
}

/* Prints `cfg` (config_print) into a string. */
static char *printed(sh_config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(config_print(cfg, m), 0);
    fclose(m);
    return buf;
}

static void test_config_print_reads_back(void **st)
{
    (void)st;
    setenv("SH_T_DOLLARS", "a$b ${NOT_A_VAR}", 1);
    setenv("SH_T_SECRET_TOKEN", "hunter2", 1);
    setenv("SH_T_PLAIN", "visible", 1);
    setenv("SH_T_NL", "two\nlines", 1);
    setenv("SH_T_SEMI", "; not a comment", 1);
    sh_config *cfg = load_files(BASE,
                                "[transform.pass]\n"                         /* 1 */
                                "name = \"  padded ;# \\\"quoted\\\" \"\n"   /* 2 */
                                "extra.dollars = ${SH_T_DOLLARS}\n"          /* 3 */
                                "extra.password = ${SH_T_PLAIN}\n"           /* 4: secret-looking key */
                                "extra.auth = ${SH_T_SECRET_TOKEN}\n"        /* 5: secret-looking variable */
                                "extra.pw_default = ${SH_T_UNSET_PW:-lit}\n" /* 6: the default is in the file */
                                "extra.path = a;b x#1 \\n\n"                 /* 7 */
                                "extra.nl = ${SH_T_NL}\n"                    /* 8 */
                                "extra.empty =\n"                            /* 9 */
                                "extra.semi = ${SH_T_SEMI}\n"                /* 10: would read as a comment */
                                "[sink.out]\nplugin = clockgap\nout = /dev/null\n",
                                NULL);
    assert_int_equal(cfg->nerrors, 0);
    char *text = printed(cfg);
    assert_non_null(strstr(text, "; streamhost config base.ini + over.ini\n"));
    assert_non_null(strstr(text, "extra.password = <redacted>"));
    assert_non_null(strstr(text, "extra.auth = <redacted>"));
    assert_null(strstr(text, "hunter2"));
    assert_null(strstr(text, "visible"));
    assert_non_null(strstr(text, "extra.pw_default = lit "));
    assert_non_null(strstr(text, "; from over.ini:3\n"));
    assert_non_null(strstr(text, "[sink.out]"));
    assert_non_null(strstr(text, "; from over.ini:11, replacing plugin = counter of base.ini:12 whole\n"));
    assert_non_null(strstr(text, "extra.nl = ${SH_T_NL}")); /* kept as written */
    assert_null(strstr(text, "fail_after"));

    /* read back: the same sections, keys and values (but the redacted) */
    sh_config *again = config_load_string("merged.ini", text);
    if (again->nerrors)
        dump_errors(again);
    assert_int_equal(again->nerrors, 0);
    assert_int_equal(again->nsecs, cfg->nsecs);
    for (size_t i = 0; i < cfg->nsecs; i++) {
        cfg_section *a = &cfg->secs[i], *b = &again->secs[i];
        assert_string_equal(a->title, b->title);
        assert_int_equal(a->nkv, b->nkv);
        for (size_t k = 0; k < a->nkv; k++) {
            assert_string_equal(a->kvs[k].key, b->kvs[k].key);
            if (!a->kvs[k].secret)
                assert_string_equal(a->kvs[k].value, b->kvs[k].value);
            else
                assert_string_equal(b->kvs[k].value, "<redacted>");
        }
    }
    assert_string_equal(config_get(config_component(again, "pass"), "name"), "  padded ;# \"quoted\" ");
    assert_string_equal(config_get(config_component(again, "pass"), "extra.dollars"), "a$b ${NOT_A_VAR}");
    assert_string_equal(config_get(config_component(again, "pass"), "extra.semi"), "; not a comment");
    /* printing the re-read config prints the same settings */
    free(text);
    config_free(again);
    config_free(cfg);
}

static void test_secret_names(void **st)
{
    (void)st;
    assert_true(config_name_secret("password"));
    assert_true(config_name_secret("sasl.password"));
    assert_true(config_name_secret("OPENSEARCH_PASSWORD"));
    assert_true(config_name_secret("AWS_SECRET_ACCESS_KEY"));
    assert_true(config_name_secret("AWS_SESSION_TOKEN"));
    assert_true(config_name_secret("ssl.key.password"));
    assert_true(config_name_secret("ssl.key.pem"));
    assert_true(config_name_secret("API_KEY"));
    assert_true(config_name_secret("sasl.oauthbearer.client.secret"));
    assert_false(config_name_secret("monkey"));
    assert_false(config_name_secret("keyboard"));
    assert_false(config_name_secret("url"));
    assert_false(config_name_secret("OPENSEARCH_URL"));
    assert_false(config_name_secret("bootstrap.servers"));
    int secret = -1;
    char err[256];
    setenv("SH_T_PLAIN", "visible", 1);
    unsetenv("SH_T_UNSET_PW");
    char *v = config_substitute_key("url", "${SH_T_PLAIN}", &secret, err, sizeof err);
    assert_false(secret);
    free(v);
    v = config_substitute_key("sasl.password", "${SH_T_PLAIN}", &secret, err, sizeof err);
    assert_true(secret);
    free(v);
    v = config_substitute_key("sasl.password", "${SH_T_UNSET_PW:-x}", &secret, err, sizeof err);
    assert_false(secret); /* the default is written in the file */
    free(v);
    v = config_substitute_key("sasl.password", "literal", &secret, err, sizeof err);
    assert_false(secret);
    free(v);
}

/* The shipped environment files over conf/clickstream.ini: each builds with
 * the real plugins, and dev swaps the OpenSearch sink for a file sink. */
static void test_shipped_environments(void **st)
{
    (void)st;
    char err[512];
    setenv("STREAMHOST_PLUGIN_PATH", TEST_BIN_DIR "/plugins", 1);
    setenv("OUTPUT", "/dev/null", 1);
    setenv("KAFKA_BOOTSTRAP", "127.0.0.1:9092", 1);
    setenv("OPENSEARCH_URL", "https://search-x.eu-west-1.es.amazonaws.com", 1);
    setenv("AWS_REGION", "eu-west-1", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG", 1);
    const char *envs[] = {"conf/env/dev.ini", "conf/env/local.ini", "conf/env/aws.ini"};
    for (size_t e = 0; e < 3; e++) {
        const char *files[] = {"conf/clickstream.ini", envs[e]};
        sh_config *cfg = config_load_files(files, 2, err, sizeof err);
        assert_non_null(cfg);
        pipeline *pl = pipeline_build(cfg, files[0]);
        if (!pl)
            dump_errors(cfg);
        assert_non_null(pl);
        cfg_section *s = config_component(cfg, "search");
        assert_string_equal(config_get(s, "inputs"), "checkouts, counts");
        if (e == 0) {
            assert_string_equal(config_get(s, "plugin"), "file");
            assert_null(config_get(s, "url"));
        } else
            assert_string_equal(config_get(s, "plugin"), "opensearch");
        if (e == 2)
            assert_string_equal(config_get(s, "auth"), "aws_sigv4");
        pipeline_free(pl);
        config_free(cfg);
    }
    unsetenv("OUTPUT");
    unsetenv("KAFKA_BOOTSTRAP");
    unsetenv("OPENSEARCH_URL");
    unsetenv("AWS_REGION");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
}

static void test_too_many_or_missing_files(void **st)
{
    (void)st;
    char err[512];
    const char *files[] = {"conf/clickstream.ini", "/nonexistent/dev.ini"};
    assert_null(config_load_files(files, 2, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/dev.ini: cannot read config"));
    assert_null(config_load_files(files, 0, err, sizeof err));
}

/* --- issue 12: a plugin reads only the keys it declares ---------------------- */

static const char *undeclared_text(char *buf, size_t len, const char *when)
{
    snprintf(buf, len,
             "[streamhost]\nprogress = off\ndead_letter.file = /dev/null\n"
             "[source.nums]\nplugin = seq\ncount = 5\n"
             "[transform.odd]\n"      /* 7 */
             "plugin = undeclared\n"
             "inputs = nums\n"
             "when = %s\n"
             "[sink.out]\nplugin = counter\ninputs = odd\n",
             when);
    return buf;
}

static void test_undeclared_key_is_an_error(void **st)
{
    (void)st;
    char text[1024];
    sh_config *cfg;
    /* check (validate): a config error at the section, naming plugin and key */
    pipeline *pl = build(undeclared_text(text, sizeof text, "validate"), &cfg);
    assert_null(pl);
    assert_true(has_error(cfg, 7, "[transform.odd]: the undeclared plugin reads config key 'not_declared', which its key table does not declare"));
    assert_int_equal(cfg->nerrors, 1);
    config_free(cfg);
    /* run: init() reads one; the pipeline does not start (exit 1) */
    const char *when[] = {"init", "process"};
    for (size_t i = 0; i < 2; i++) {
        pl = build(undeclared_text(text, sizeof text, when[i]), &cfg);
        assert_non_null(pl);
        assert_int_not_equal(pipeline_run(pl), 0);
        assert_true(pl->failed);
        pipeline_free(pl);
        config_free(cfg);
        metrics_free_all();
    }
    /* reading what it declares (and the host's plugin, inputs) is fine */
    pl = build(undeclared_text(text, sizeof text, "never"), &cfg);
    assert_non_null(pl);
    assert_int_equal(pipeline_run(pl), 0);
    pipeline_free(pl);
    config_free(cfg);
    metrics_free_all();
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
        cmocka_unit_test(test_shipped_pipeline_validates),
        cmocka_unit_test(test_validate_refuses_what_run_refuses),
        cmocka_unit_test(test_validate_sees_only_well_typed_sections),
        cmocka_unit_test(test_sink_path_checks),
        cmocka_unit_test(test_host_values_in_range),
        cmocka_unit_test(test_repeated_sections_one_line_each),
        cmocka_unit_test(test_syntax_rules),
        cmocka_unit_test(test_broken_lines_one_error_each),
        cmocka_unit_test(test_long_lines_and_names),
        cmocka_unit_test(test_unset_variable_reported_once),
        cmocka_unit_test(test_config_file_limits),
        cmocka_unit_test(test_control_characters_escaped),
        cmocka_unit_test(test_overlay_overrides_and_adds),
        cmocka_unit_test(test_overlay_replaces_section_when_plugin_changes),
        cmocka_unit_test(test_overlay_substitutes_only_what_survives),
        cmocka_unit_test(test_overlay_errors_name_their_file),
        cmocka_unit_test(test_overlay_removes_with_plugin_none),
        cmocka_unit_test(test_overlay_component_names_stay_unique),
        cmocka_unit_test(test_positions_across_files),
        cmocka_unit_test(test_config_print_reads_back),
        cmocka_unit_test(test_secret_names),
        cmocka_unit_test(test_shipped_environments),
        cmocka_unit_test(test_too_many_or_missing_files),
        cmocka_unit_test(test_undeclared_key_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
