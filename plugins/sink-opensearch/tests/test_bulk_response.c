/* Reading _bulk responses: which items are done, retried, rejected. */
#include "sink_fixture.h"

typedef struct seen {
    size_t n;
    size_t index[16];
    int status[16];
    char what[16][200];
} seen;

static void collect(void *arg, size_t index, int status, const char *type, const char *reason)
{
    seen *s = arg;
    s->index[s->n] = index;
    s->status[s->n] = status;
    snprintf(s->what[s->n], sizeof s->what[0], "%s: %s", type, reason);
    s->n++;
}

static long parse(const char *body, size_t ndocs, seen *s)
{
    char err[256];
    memset(s, 0, sizeof *s);
    return os_bulk_response_parse(body, strlen(body), ndocs, collect, s, err, sizeof err);
}

static void verdict_by_status(void **st)
{
    (void)st;
    assert_int_equal(os_item_verdict(200), OS_ITEM_OK);
    assert_int_equal(os_item_verdict(201), OS_ITEM_OK);
    assert_int_equal(os_item_verdict(429), OS_ITEM_RETRY);
    assert_int_equal(os_item_verdict(500), OS_ITEM_RETRY);
    assert_int_equal(os_item_verdict(503), OS_ITEM_RETRY);
    assert_int_equal(os_item_verdict(400), OS_ITEM_REJECT);
    assert_int_equal(os_item_verdict(404), OS_ITEM_REJECT);
    assert_int_equal(os_item_verdict(409), OS_ITEM_REJECT);
}

static void mixed_items(void **st)
{
    (void)st;
    const char *body =
        "{\"took\":3,\"errors\":true,\"items\":["
        "{\"index\":{\"_index\":\"a\",\"_id\":\"1\",\"status\":201}},"
        "{\"index\":{\"status\":429,\"error\":{\"type\":\"es_rejected_execution_exception\","
        "\"reason\":\"rejected execution of coordinating operation\"}}},"
        "{\"index\":{\"status\":400,\"error\":{\"type\":\"mapper_parsing_exception\","
        "\"reason\":\"failed to parse field [userId] of type [long]\"}}},"
        "{\"index\":{\"status\":200}},"
        "{\"index\":{\"status\":503,\"error\":{\"type\":\"unavailable_shards_exception\","
        "\"reason\":\"primary shard is not active\"}}}]}";
    seen s;
    assert_int_equal(parse(body, 5, &s), 2);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.index[0], 1);
    assert_int_equal(s.status[0], 429);
    assert_int_equal(os_item_verdict(s.status[0]), OS_ITEM_RETRY);
    assert_int_equal(s.index[1], 2);
    assert_int_equal(s.status[1], 400);
    assert_string_equal(s.what[1], "mapper_parsing_exception: failed to parse field [userId] of type [long]");
    assert_int_equal(s.index[2], 4);
    assert_int_equal(os_item_verdict(s.status[2]), OS_ITEM_RETRY);
}

static void all_ok_fast_path_and_filtered(void **st)
{
    (void)st;
    seen s;
    assert_int_equal(parse("{\"took\":3,\"errors\":false,\"items\":[{\"index\":{\"status\":201}}]}", 1, &s), 1);
    /* filter_path form, with items reduced to status */
    assert_int_equal(parse("{\"errors\":false,\"items\":[{\"index\":{\"status\":201}},{\"index\":{\"status\":200}}]}", 2, &s), 2);
    /* "items" before "errors": no fast path, full parse */
    assert_int_equal(parse("{\"items\":[{\"index\":{\"status\":201}}],\"errors\":false}", 1, &s), 1);
    /* unfiltered answers (a cluster or proxy ignoring filter_path), spaces, a trailing newline */
    assert_int_equal(parse("{\"took\":7,\"errors\":false,\"items\":[{\"index\":{\"_index\":\"a\","
                           "\"_id\":\"1\",\"_version\":2,\"result\":\"updated\",\"status\":200}}]}\n", 1, &s), 1);
    assert_int_equal(parse(" { \"errors\" : false , \"items\" : [ {\"index\":{\"status\":201}} ] } ", 1, &s), 1);
}

/* Issue 11 H: "errors":false is a claim, the items are the proof.  Every
 * answer without exactly one readable item per document is refused, so the
 * whole request is retried instead of counting unseen documents as indexed. */
static void errors_false_without_items_is_no_success(void **st)
{
    (void)st;
    seen s;
    assert_int_equal(parse("{\"errors\":false}", 3, &s), -1);
    assert_int_equal(parse("{\"errors\":false,\"items\":[]}", 3, &s), -1);
    assert_int_equal(parse("{\"took\":1,\"errors\":false,\"items\":[]}", 1, &s), -1);
    assert_int_equal(parse("{\"errors\":false,\"items\":null}", 1, &s), -1);
    assert_int_equal(parse("{\"errors\":false,\"items\":{}}", 1, &s), -1);
    /* too few, too many */
    const char *two = "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}},{\"index\":{\"status\":201}}]}";
    assert_int_equal(parse(two, 3, &s), -1);
    assert_int_equal(parse(two, 1, &s), -1);
    assert_int_equal(parse(two, 2, &s), 2);
    /* truncated anywhere: never a success */
    for (size_t cut = 0; cut < strlen(two); cut++) {
        char err[256];
        memset(&s, 0, sizeof s);
        assert_int_equal(os_bulk_response_parse(two, cut, 2, collect, &s, err, sizeof err), -1);
    }
    /* trailing garbage, a second document, duplicate keys */
    assert_int_equal(parse("{\"errors\":false,\"items\":[{\"index\":{\"status\":201}}]}x", 1, &s), -1);
    assert_int_equal(parse("{\"errors\":false,\"items\":[{\"index\":{\"status\":201}}]}{}", 1, &s), -1);
    assert_int_equal(parse("{\"errors\":false,\"items\":[],\"items\":[{\"index\":{\"status\":201}}]}", 1, &s), -1);
    /* the flag itself is required, as a boolean */
    assert_int_equal(parse("{\"items\":[{\"index\":{\"status\":201}}]}", 1, &s), -1);
    assert_int_equal(parse("{\"errors\":\"false\",\"items\":[{\"index\":{\"status\":201}}]}", 1, &s), -1);
    assert_int_equal(s.n, 0);
}

/* An item that does not say "index" (the only action sent) with a status
 * is not a success for that document: it is retried (status 500). */
static void items_must_answer_the_index_action(void **st)
{
    (void)st;
    seen s;
    const char *body =
        "{\"errors\":false,\"items\":["
        "{\"create\":{\"status\":201}},"               /* wrong action */
        "{\"index\":{\"status\":201},\"x\":{}},"        /* a second member */
        "{\"index\":{\"status\":\"201\"}},"             /* status not a number */
        "{\"index\":{\"status\":99999}},"              /* not an HTTP status */
        "{\"index\":{\"status\":201.0}},"              /* not an integer */
        "{\"index\":{\"status\":201,\"status\":400}},"  /* ambiguous */
        "{},"
        "{\"index\":[]},"
        "{\"index\":{\"status\":201}}]}";
    /* duplicate keys make the whole answer unreadable */
    assert_int_equal(parse(body, 9, &s), -1);
    const char *body2 =
        "{\"errors\":false,\"items\":["
        "{\"create\":{\"status\":201}},"
        "{\"index\":{\"status\":201},\"x\":{}},"
        "{\"index\":{\"status\":\"201\"}},"
        "{\"index\":{\"status\":99999}},"
        "{\"index\":{\"status\":201.0}},"
        "{\"index\":{\"status\":302}},"
        "{},"
        "{\"index\":[]},"
        "{\"index\":{\"status\":201}}]}";
    assert_int_equal(parse(body2, 9, &s), 1);
    assert_int_equal(s.n, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(s.index[i], i);
        assert_int_equal(os_item_verdict(s.status[i]), OS_ITEM_RETRY);
        assert_non_null(strstr(s.what[i], "unreadable_item"));
    }
    assert_non_null(strstr(s.what[0], "create"));
}

/* The fast path is a full parse of a JSON subset: whatever it accepts, the
 * jansson parse reads the same way, and what it cannot read goes there. */
static void fast_path_agrees_with_full_parse(void **st)
{
    (void)st;
    const char *bodies[] = {
        "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}},{\"index\":{\"status\":200}}]}",
        "{\"took\":0,\"errors\":false,\"items\":[{\"index\":{\"status\":201}},{\"index\":{\"status\":299}}]}",
        "{\"took\":01,\"errors\":false,\"items\":[{\"index\":{\"status\":201}},{\"index\":{\"status\":201}}]}",
        "{\"took\":123456789012345678901234567890,\"errors\":false,\"items\":[{\"index\":{\"status\":201}},{\"index\":{\"status\":201}}]}",
        "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}},{\"index\":{\"status\":2010}}]}",
        "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}},{\"index\":{\"status\":429}}]}",
        "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}},{\"index\":{\"status\":201}}]}\r\n",
        "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}},{\"index\":{\"status\":201}}]}\v",
        "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}}]}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        seen a, b;
        char err[256];
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        long fa = os_bulk_response_parse(bodies[i], strlen(bodies[i]), 2, collect, &a, err, sizeof err);
        long fb = os_bulk_response_parse_full(bodies[i], strlen(bodies[i]), 2, collect, &b, err, sizeof err);
        if (fa != fb || a.n != b.n)
            fail_msg("body %zu: fast %ld/%zu, full %ld/%zu", i, fa, a.n, fb, b.n);
    }
}

static void refuses_what_is_not_a_bulk_answer(void **st)
{
    (void)st;
    seen s;
    assert_int_equal(parse("<html>bad gateway</html>", 1, &s), -1);
    assert_int_equal(parse("{\"acknowledged\":true}", 1, &s), -1);
    /* item count must match the request */
    assert_int_equal(parse("{\"errors\":true,\"items\":[{\"index\":{\"status\":201}}]}", 2, &s), -1);
    assert_int_equal(s.n, 0);
}

static void unreadable_item_is_retried_not_dropped(void **st)
{
    (void)st;
    seen s;
    assert_int_equal(parse("{\"errors\":true,\"items\":[{\"index\":{}},42]}", 2, &s), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(os_item_verdict(s.status[0]), OS_ITEM_RETRY);
    assert_int_equal(os_item_verdict(s.status[1]), OS_ITEM_RETRY);
}

static void error_summaries(void **st)
{
    (void)st;
    char out[200];
    const char *auth = "{\"error\":{\"root_cause\":[],\"type\":\"security_exception\","
                       "\"reason\":\"missing authentication credentials\"},\"status\":401}";
    os_error_summary(auth, strlen(auth), out, sizeof out);
    assert_string_equal(out, "security_exception: missing authentication credentials");
    const char *aws = "{\"message\":\"The security token included in the request is invalid.\"}";
    os_error_summary(aws, strlen(aws), out, sizeof out);
    assert_string_equal(out, "The security token included in the request is invalid.");
    const char *html = "<html>\r\n<b>502</b></html>";
    os_error_summary(html, strlen(html), out, sizeof out);
    assert_string_equal(out, "<html>  <b>502</b></html>");
    os_error_summary(NULL, 0, out, sizeof out);
    assert_string_equal(out, "(empty body)");
    /* what the peer says is made printable: no forged log lines */
    const char *forged = "{\"error\":{\"type\":\"x\\nERROR fake line\",\"reason\":\"r\\r\\n\"}}";
    os_error_summary(forged, strlen(forged), out, sizeof out);
    assert_string_equal(out, "x ERROR fake line: r  ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verdict_by_status),
        cmocka_unit_test(mixed_items),
        cmocka_unit_test(all_ok_fast_path_and_filtered),
        cmocka_unit_test(refuses_what_is_not_a_bulk_answer),
        cmocka_unit_test(errors_false_without_items_is_no_success),
        cmocka_unit_test(items_must_answer_the_index_action),
        cmocka_unit_test(fast_path_agrees_with_full_parse),
        cmocka_unit_test(unreadable_item_is_retried_not_dropped),
        cmocka_unit_test(error_summaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
