/* The sink against a real OpenSearch, through the test host: templates with
 * the reference mappings, documents indexed with their ids, and a document
 * whose field type conflicts with the mapping dead-lettered with
 * OpenSearch's own reason.  Runs only when SH_TEST_OPENSEARCH_URL is set
 * (e.g. http://127.0.0.1:9200 after scripts/opensearch.sh start); skipped
 * otherwise, so plain `make unit-test` needs no cluster. */
#include "sink_fixture.h"

#include <curl/curl.h>

static char prefix[64];

static size_t keep(char *p, size_t size, size_t n, void *arg)
{
    sh_buf_add(arg, p, size * n);
    return size * n;
}

/* method url -> body (caller frees with sh_buf_free) and HTTP status */
static long call(const char *method, const char *base, const char *path, sh_buf *out)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
    long status = 0;
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    return status;
}

static void cleanup(const char *base)
{
    char path[256];
    sh_buf b = {0};
    snprintf(path, sizeof path, "/%s*", prefix);
    call("DELETE", base, path, &b);
    for (int i = 0; i < OS_NTEMPLATES; i++) {
        snprintf(path, sizeof path, "/_index_template/streamhost-%s%s", prefix, os_template_index[i]);
        call("DELETE", base, path, &b);
    }
    sh_buf_free(&b);
}

static void indexes_and_dead_letters_conflicts(void **st)
{
    (void)st;
    const char *base = getenv("SH_TEST_OPENSEARCH_URL");
    if (!base || !*base)
        skip();
    snprintf(prefix, sizeof prefix, "unit-%d-", (int)getpid());
    cleanup(base);
    char url[300], pfx[100];
    snprintf(url, sizeof url, "url=%s", base);
    snprintf(pfx, sizeof pfx, "index_prefix=%s", prefix);
    testhost *th = fx_sink((const char *[]){url, pfx, NULL});

    fx_feed(th, 0, 3);
    /* same index, but userSessionCount is a string the integer mapping refuses */
    static const sh_field bad_fields[] = {{"userSessionCount", SH_STRING}, {"windowEndTime", SH_INT}};
    static const sh_schema bad_schema = {"user_session_counts", 2, bad_fields};
    sh_value v[2] = {sh_v_str("lots", 4), sh_v_int(10000)};
    sh_record bad = {.schema = &bad_schema, .id = {"bad-1", 5}, .values = v, .slot = 0, .offset = 3};
    assert_int_equal(th_process(th, 0, &bad, 1), SH_OK);

    assert_int_equal(fx_flush_final(th, 60000), SH_OK);
    assert_int_equal(fx_acked(th), 4);
    assert_int_equal(th_counter(th, "documents_indexed_total"), 3);
    assert_int_equal(fx_ndead, 1);
    print_message("dead letter: %s\n", fx_deads[0].reason);
    assert_non_null(strstr(fx_deads[0].reason, "opensearch_rejected: 400 mapper_parsing_exception: "
                                               "failed to parse field [userSessionCount] of type [integer]"));
    char want[256];
    snprintf(want, sizeof want,
             "{\"_index\":\"%suser_session_counts\",\"_id\":\"bad-1\",\"_source\":"
             "{\"userSessionCount\":\"lots\",\"windowEndTime\":10000}}",
             prefix);
    assert_string_equal(fx_deads[0].payload, want);

    sh_buf b = {0};
    char path[256];
    snprintf(path, sizeof path, "/%suser_session_counts/_refresh", prefix);
    call("POST", base, path, &b);
    b.len = 0;
    snprintf(path, sizeof path, "/%suser_session_counts/_doc/c2", prefix);
    assert_int_equal(call("GET", base, path, &b), 200);
    assert_non_null(strstr(b.data, "\"_source\":{\"userSessionCount\":2,"));
    b.len = 0;
    snprintf(path, sizeof path, "/%suser_session_counts/_mapping", prefix);
    assert_int_equal(call("GET", base, path, &b), 200);
    assert_non_null(strstr(b.data, "\"windowEndTime\":{\"type\":\"date\"}"));
    assert_non_null(strstr(b.data, "\"percentSessionswithBuy\":{\"type\":\"double\"}"));
    sh_buf_free(&b);
    th_free(th);
    fx_dead_reset();
    cleanup(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(indexes_and_dead_letters_conflicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
