/* End-to-end delivery behaviour against a scripted HTTP responder on
 * 127.0.0.1: templates first, gzip bulks, item errors, whole-request
 * failures, 413 splits, out-of-order completion, back-pressure, retry
 * limits, flush interval, and authentication headers. */
#include "sink_fixture.h"
#include "http_stub.h"

#include <openssl/sha.h>
#include <time.h>

/* Drives the sink (tick) until cond holds; fails the test after ms. */
#define WAIT_FOR(th, cond, ms)                                                  \
    do {                                                                        \
        for (int w_ = 0; w_ < (ms) && !(cond); w_++) {                          \
            fx_tick(th);                                                        \
            usleep(1000);                                                       \
        }                                                                       \
        assert_true(cond);                                                      \
    } while (0)

static char url_kv[64];

static const char *stub_url(http_stub *st)
{
    snprintf(url_kv, sizeof url_kv, "url=http://127.0.0.1:%d", st->port);
    return url_kv;
}

static int is_bulk(const stub_req *r)
{
    return strcmp(r->method, "POST") == 0 && strncmp(r->path, "/_bulk?filter_path=", 19) == 0;
}

static int body_has(const stub_req *r, const char *id)
{
    char needle[64];
    snprintf(needle, sizeof needle, "\"_id\":\"%s\"", id);
    return strstr(r->body, needle) != NULL;
}

static void templates_then_gzip_bulk(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    testhost *th = fx_sink((const char *[]){stub_url(hs), "index_prefix=t-", NULL});
    fx_feed(th, 0, 10);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 4);
    for (size_t i = 0; i < 3; i++) {
        const stub_req *r = stub_req_at(hs, i);
        assert_string_equal(r->method, "PUT");
        assert_non_null(strstr(r->path, "/_index_template/streamhost-t-"));
        assert_non_null(strstr(r->body, "\"mappings\":{\"properties\":"));
    }
    const stub_req *b = stub_req_at(hs, 3);
    assert_true(is_bulk(b));
    assert_true(b->gzipped);
    char v[128];
    stub_header(b, "Content-Type", v, sizeof v);
    assert_string_equal(v, "application/x-ndjson");
    assert_int_equal(stub_bulk_docs(b->body, b->body_len), 10);
    assert_memory_equal(b->body, "{\"index\":{\"_index\":\"t-user_session_counts\",\"_id\":\"c0\"}}\n{\"userSessionCount\":0,", 73);
    assert_int_equal(fx_acked(th), 10);
    assert_int_equal(th_counter(th, "bulk_requests_total"), 1);
    assert_int_equal(th_counter(th, "documents_indexed_total"), 10);
    assert_int_equal(th_counter(th, "request_duration_seconds"), 4); /* a histogram: its count */
    assert_int_equal(th_gauge(th, "buffered_documents"), 0);
    assert_int_equal(th_gauge(th, "buffered_bytes"), 0);
    assert_int_equal(th_gauge(th, "in_flight_bytes"), 0);
    th_free(th);
    stub_stop(hs);
}

static void template_failures(void **st)
{
    (void)st;
    /* unavailable: retried, and documents wait for it */
    http_stub *hs = stub_start();
    stub_script(hs, 503, "{\"error\":{\"type\":\"cluster_block_exception\",\"reason\":\"starting\"}}", 0);
    testhost *th = fx_sink((const char *[]){stub_url(hs), "retry.initial=1ms", "retry.max=5ms", NULL});
    fx_feed(th, 0, 3);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 5);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(stub_req_at(hs, i)->method, "PUT");
    assert_true(is_bulk(stub_req_at(hs, 4)));
    th_free(th);
    stub_stop(hs);

    /* forbidden: given up on, documents still go */
    hs = stub_start();
    stub_script(hs, 403, "{\"error\":{\"type\":\"security_exception\",\"reason\":\"no permissions\"}}", 0);
    th = fx_sink((const char *[]){stub_url(hs), "retry.initial=1ms", "retry.max=5ms", NULL});
    fx_feed(th, 0, 3);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 4);
    assert_true(is_bulk(stub_req_at(hs, 3)));
    assert_int_equal(fx_acked(th), 3);
    th_free(th);
    stub_stop(hs);

    /* a bounded retry budget bounds the wait for templates too */
    hs = stub_start();
    for (int i = 0; i < 6; i++)
        stub_script(hs, 503, "{}", 0);
    th = fx_sink((const char *[]){stub_url(hs), "retry.initial=1ms", "retry.max=5ms",
                                  "retry.max_attempts=1", NULL});
    fx_feed(th, 0, 2);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 7); /* 3 templates x 2 attempts, then the bulk */
    assert_true(is_bulk(stub_req_at(hs, 6)));
    assert_int_equal(fx_acked(th), 2);
    th_free(th);
    stub_stop(hs);
}

static void item_errors_retry_and_dead_letter(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    stub_script(hs, 200,
                "{\"took\":5,\"errors\":true,\"items\":["
                "{\"index\":{\"status\":201}},"
                "{\"index\":{\"status\":429,\"error\":{\"type\":\"es_rejected_execution_exception\",\"reason\":\"queue full\"}}},"
                "{\"index\":{\"status\":400,\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"failed to parse field [userSessionCount]\"}}},"
                "{\"index\":{\"status\":201}}]}",
                0);
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", "retry.initial=1ms",
                                            "retry.max=5ms", NULL});
    fx_feed(th, 0, 4);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 2);
    const stub_req *retry = stub_req_at(hs, 1);
    assert_int_equal(stub_bulk_docs(retry->body, retry->body_len), 1);
    assert_true(body_has(retry, "c1"));
    assert_int_equal(fx_ndead, 1);
    assert_string_equal(fx_deads[0].reason,
                        "opensearch_rejected: 400 mapper_parsing_exception: failed to parse field [userSessionCount]");
    /* the document with its destination: index and id (issue 11) */
    assert_string_equal(fx_deads[0].payload,
                        "{\"_index\":\"user_session_counts\",\"_id\":\"c2\",\"_source\":"
                        "{\"userSessionCount\":2,\"userSessionCountWithOrderCheckout\":1,"
                        "\"percentSessionswithBuy\":50,\"windowBeginTime\":20000,\"windowEndTime\":30000}}");
    assert_int_equal(fx_deads[0].slot, 0); /* where it came from */
    assert_int_equal(fx_deads[0].offset, 2);
    assert_int_equal(fx_acked(th), 4);
    assert_int_equal(th_counter(th, "documents_indexed_total"), 3);
    assert_int_equal(th_counter(th, "documents_rejected_total"), 1);
    assert_int_equal(th_counter(th, "retries_total"), 1);
    assert_int_equal(th_dead_letters(th), 1);
    th_free(th);
    stub_stop(hs);
    fx_dead_reset();
}

/* A record without an id: the dead letter names the index (with the
 * prefix) and has no _id, like the action line that was sent. */
static void dead_letter_without_id_names_the_index(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    stub_script(hs, 200, "{\"errors\":true,\"items\":[{\"index\":{\"status\":400,\"error\":"
                         "{\"type\":\"mapper_parsing_exception\",\"reason\":\"bad\"}}}]}", 0);
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", "index_prefix=p-", NULL});
    fx_rec f;
    fx_make(&f, 1);
    f.r.id.ptr = NULL;
    f.r.id.len = 0;
    assert_int_equal(th_process(th, 0, &f.r, 1), SH_OK);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(fx_ndead, 1);
    assert_string_equal(fx_deads[0].payload,
                        "{\"_index\":\"p-user_session_counts\",\"_source\":{\"userSessionCount\":1,"
                        "\"userSessionCountWithOrderCheckout\":0,\"percentSessionswithBuy\":50,"
                        "\"windowBeginTime\":10000,\"windowEndTime\":20000}}");
    th_free(th);
    stub_stop(hs);
    fx_dead_reset();
}

static void whole_request_failures_are_retried(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    /* connection closed without an answer (first, on a fresh connection:
     * curl itself silently resends once on a reused one that died) */
    stub_script(hs, 0, NULL, 0);
    stub_script(hs, 503, "{\"error\":{\"type\":\"unavailable\",\"reason\":\"x\"}}", 0);
    stub_script(hs, 429, "{\"error\":{\"type\":\"too_many_requests\",\"reason\":\"x\"}}", 0);
    stub_script(hs, 401, "{\"error\":{\"type\":\"security_exception\",\"reason\":\"bad credentials\"}}", 0);
    stub_script(hs, 200, "<html>proxy says ok</html>", 0); /* not a bulk answer */
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", "retry.initial=1ms",
                                            "retry.max=5ms", NULL});
    fx_feed(th, 0, 2);
    assert_int_equal(fx_flush_final(th, 20000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 6);
    for (size_t i = 1; i < 6; i++) /* the very same documents each time */
        assert_string_equal(stub_req_at(hs, i)->body, stub_req_at(hs, 0)->body);
    assert_int_equal(fx_acked(th), 2);
    assert_int_equal(th_counter(th, "request_failures_total"), 5);
    assert_int_equal(th_counter(th, "retries_total"), 5);
    assert_int_equal(th_counter(th, "documents_indexed_total"), 2);
    assert_int_equal(fx_ndead, 0);
    th_free(th);
    stub_stop(hs);
}

/* Issue 11 H: 200 answers that do not account for every document (no
 * items, an empty list, too few, an item for another action, a truncated
 * body) index nothing: the whole request is sent again, and the documents
 * count as indexed only once an answer names each one. */
static void answers_without_every_item_are_retried(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    stub_script(hs, 200, "{\"errors\":false}", 0);
    stub_script(hs, 200, "{\"errors\":false,\"items\":[]}", 0);
    stub_script(hs, 200, "{\"took\":2,\"errors\":false,\"items\":[]}", 0);
    stub_script(hs, 200, "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}}]}", 0);
    stub_script(hs, 200, "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}},"
                         "{\"index\":{\"status\":201}},{\"index\":{\"status\":201}}", 0);
    /* per item: two indexed, one answered for another action (retried alone) */
    stub_script(hs, 200, "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}},"
                         "{\"delete\":{\"status\":200}},{\"index\":{\"status\":201}}]}", 0);
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", "retry.initial=1ms",
                                            "retry.max=5ms", NULL});
    fx_feed(th, 0, 3);
    for (int i = 0; i < 5; i++) { /* nothing counts while the answers say nothing */
        WAIT_FOR(th, stub_nreqs(hs) > (size_t)i, 5000);
        assert_int_equal(th_counter(th, "documents_indexed_total"), 0);
        assert_int_equal(fx_acked(th), 0);
    }
    assert_int_equal(fx_flush_final(th, 20000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 7);
    for (size_t i = 1; i < 6; i++)
        assert_string_equal(stub_req_at(hs, i)->body, stub_req_at(hs, 0)->body);
    const stub_req *last = stub_req_at(hs, 6);
    assert_int_equal(stub_bulk_docs(last->body, last->body_len), 1);
    assert_true(body_has(last, "c1"));
    assert_int_equal(fx_acked(th), 3);
    assert_int_equal(th_counter(th, "documents_indexed_total"), 3);
    assert_int_equal(th_counter(th, "request_failures_total"), 5);
    assert_int_equal(fx_ndead, 0);
    th_free(th);
    stub_stop(hs);

    /* with a retry budget, such answers end as dead letters, never as indexed */
    hs = stub_start();
    for (int i = 0; i < 3; i++)
        stub_script(hs, 200, "{\"errors\":false}", 0);
    th = fx_sink((const char *[]){stub_url(hs), "templates=false", "retry.initial=1ms",
                                  "retry.max=5ms", "retry.max_attempts=2", NULL});
    fx_feed(th, 0, 2);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 3);
    assert_int_equal(fx_ndead, 2);
    assert_non_null(strstr(fx_deads[0].reason, "opensearch_undeliverable: gave up after 3 attempts: "));
    assert_non_null(strstr(fx_deads[0].reason, "items"));
    assert_int_equal(th_counter(th, "documents_indexed_total"), 0);
    assert_int_equal(fx_acked(th), 2);
    th_free(th);
    stub_stop(hs);
    fx_dead_reset();
}

static int64_t mono_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Retry-After on 503 and 429 (seconds or an HTTP date) is a floor under the
 * backoff, for every request to the cluster, capped at 60 s. */
static void retry_after_is_honoured(void **st)
{
    (void)st;
    /* seconds, on 503: the failed batch and one that came later both wait */
    http_stub *hs = stub_start();
    stub_script_headers(hs, 503, "{\"error\":{\"type\":\"x\",\"reason\":\"busy\"}}",
                        "Retry-After: 1\r\n");
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", "retry.initial=1ms",
                                            "retry.max=5ms", "batch.max_docs=2", NULL});
    fx_feed(th, 0, 2);
    WAIT_FOR(th, th_counter(th, "request_failures_total") == 1, 5000);
    int64_t answered = mono_now_ms();
    fx_feed(th, 2, 2);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 3);
    assert_true(stub_req_at(hs, 1)->at_ms - answered >= 900);
    assert_true(stub_req_at(hs, 2)->at_ms - answered >= 900);
    assert_true(stub_req_at(hs, 1)->at_ms - stub_req_at(hs, 0)->at_ms < 5000);
    assert_int_equal(fx_acked(th), 4);
    th_free(th);
    stub_stop(hs);

    /* an HTTP date, on 429 (dates have whole seconds: 2 s ahead waits 1-2 s) */
    hs = stub_start();
    char date_hdr[96];
    time_t when = time(NULL) + 2;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(date_hdr, sizeof date_hdr, "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    stub_script_headers(hs, 429, "{}", date_hdr);
    th = fx_sink((const char *[]){stub_url(hs), "templates=false", "retry.initial=1ms",
                                  "retry.max=5ms", NULL});
    fx_feed(th, 0, 1);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 2);
    assert_true(stub_req_at(hs, 1)->at_ms - stub_req_at(hs, 0)->at_ms >= 900);
    th_free(th);
    stub_stop(hs);

    /* index template requests wait too */
    hs = stub_start();
    stub_script_headers(hs, 503, "{}", "Retry-After: 1\r\n");
    th = fx_sink((const char *[]){stub_url(hs), "retry.initial=1ms", "retry.max=5ms",
                                  "max_in_flight=1", NULL});
    fx_feed(th, 0, 1);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 5); /* template 1 twice, 2, 3, the bulk */
    assert_true(stub_req_at(hs, 1)->at_ms - stub_req_at(hs, 0)->at_ms >= 900);
    th_free(th);
    stub_stop(hs);

    /* capped at 60 s; a value that is neither is ignored (plain backoff) */
    hs = stub_start();
    stub_script_headers(hs, 503, "{}", "Retry-After: 86400\r\n");
    th = fx_sink((const char *[]){stub_url(hs), "templates=false", "retry.initial=1ms",
                                  "retry.max=5ms", NULL});
    fx_feed(th, 0, 1);
    WAIT_FOR(th, th_counter(th, "request_failures_total") == 1, 5000);
    os_sink *s = fx_state(th);
    int64_t hold = s->hold_until - th_host(th)->mono_ms(th_ctx(th));
    assert_true(hold > 59000 && hold <= 60000);
    assert_true(s->pending.head && s->pending.head->not_before - s->hold_until <= 5);
    th_free(th);
    stub_stop(hs);

    hs = stub_start();
    stub_script_headers(hs, 503, "{}", "Retry-After: soon\r\n");
    stub_script_headers(hs, 503, "{}", "Retry-After: -3\r\n");
    th = fx_sink((const char *[]){stub_url(hs), "templates=false", "retry.initial=1ms",
                                  "retry.max=5ms", NULL});
    fx_feed(th, 0, 1);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 3);
    assert_true(stub_req_at(hs, 2)->at_ms - stub_req_at(hs, 0)->at_ms < 800);
    th_free(th);
    stub_stop(hs);
}

static void retry_after_values(void **st)
{
    (void)st;
    int64_t now = (int64_t)1445412480 * 1000; /* Wed, 21 Oct 2015 07:28:00 GMT */
    assert_int_equal(os_retry_after_ms("3", 1, now), 3000);
    assert_int_equal(os_retry_after_ms(" 3 \r\n", 5, now), 3000);
    assert_int_equal(os_retry_after_ms("0", 1, now), 0);
    assert_int_equal(os_retry_after_ms("120", 3, now), 60000);
    assert_int_equal(os_retry_after_ms("99999999999999999999999", 23, now), 60000);
    const char *d = "Wed, 21 Oct 2015 07:28:05 GMT";
    assert_int_equal(os_retry_after_ms(d, strlen(d), now), 5000);
    d = "Wednesday, 21-Oct-15 07:28:10 GMT"; /* RFC 850, obsolete but allowed */
    assert_int_equal(os_retry_after_ms(d, strlen(d), now), 10000);
    d = "Wed, 21 Oct 2015 07:27:00 GMT"; /* in the past: now */
    assert_int_equal(os_retry_after_ms(d, strlen(d), now), 0);
    d = "Wed, 21 Oct 999999999 07:28:00 GMT"; /* a far year: capped, no overflow (a fuzzer find) */
    assert_int_equal(os_retry_after_ms(d, strlen(d), now), 60000);
    assert_int_equal(os_retry_after_ms("", 0, now), -1);
    assert_int_equal(os_retry_after_ms("soon", 4, now), -1);
    assert_int_equal(os_retry_after_ms("-3", 2, now), -1);
    assert_int_equal(os_retry_after_ms("1.5", 3, now), -1);
    assert_int_equal(os_retry_after_ms("3 4", 3, now), -1);
}

static void too_large_splits_in_halves(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    stub_script(hs, 413, "", 0);
    stub_script(hs, 413, "", 0); /* the first half is still too large */
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", NULL});
    fx_feed(th, 0, 5);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    /* 5 -> 2 + 3, and whichever half arrived first is split again */
    assert_int_equal(stub_nreqs(hs), 5);
    size_t docs[5];
    for (size_t i = 0; i < 5; i++)
        docs[i] = stub_bulk_docs(stub_req_at(hs, i)->body, stub_req_at(hs, i)->body_len);
    assert_int_equal(docs[0], 5);
    assert_true(docs[1] == 2 || docs[1] == 3); /* the second 413 hit one half */
    /* the other three, in any order: the other half and the split one's halves */
    size_t want[3] = {5 - docs[1], docs[1] / 2, docs[1] - docs[1] / 2}, got[3] = {docs[2], docs[3], docs[4]};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++) {
            if (want[j] < want[i]) { size_t t = want[i]; want[i] = want[j]; want[j] = t; }
            if (got[j] < got[i]) { size_t t = got[i]; got[i] = got[j]; got[j] = t; }
        }
    assert_memory_equal(want, got, sizeof want);
    assert_int_equal(fx_acked(th), 5);
    assert_int_equal(th_counter(th, "documents_indexed_total"), 5);
    assert_int_equal(fx_ndead, 0);
    th_free(th);
    stub_stop(hs);

    /* a single document too large for the cluster: dead letter */
    hs = stub_start();
    stub_script(hs, 413, "", 0);
    th = fx_sink((const char *[]){stub_url(hs), "templates=false", NULL});
    fx_feed(th, 0, 1);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(fx_ndead, 1);
    assert_non_null(strstr(fx_deads[0].reason, "opensearch_rejected: 413 request_too_large"));
    assert_int_equal(fx_acked(th), 1);
    th_free(th);
    stub_stop(hs);
    fx_dead_reset();
}

static void acked_is_a_prefix_under_out_of_order_completion(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    stub_script(hs, 200, NULL, 1500); /* the first request answers late */
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", "batch.max_docs=2",
                                            "max_in_flight=2", NULL});
    fx_feed(th, 0, 2); /* full batch: sent at once */
    WAIT_FOR(th, stub_nreqs(hs) == 1, 5000);
    fx_feed(th, 2, 2);
    WAIT_FOR(th, th_counter(th, "documents_indexed_total") == 2, 5000);
    assert_true(body_has(stub_req_at(hs, 1), "c2")); /* the later batch finished first */
    assert_int_equal(fx_acked(th), 0);
    WAIT_FOR(th, th_counter(th, "documents_indexed_total") == 4, 5000);
    assert_int_equal(fx_acked(th), 4);
    th_free(th);
    stub_stop(hs);
}

static void back_pressure_until_drained(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    for (int i = 0; i < 6; i++)
        stub_script(hs, 503, "{}", 0);
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", "batch.max_bytes=1KiB",
                                            "buffer.max_bytes=2KiB", "retry.initial=20ms",
                                            "retry.max=40ms", NULL});
    assert_false(fx_busy(th));
    fx_feed(th, 0, 30); /* about 5 KiB */
    assert_true(fx_busy(th));
    assert_int_equal(th_gauge(th, "buffered_documents"), 30);
    assert_true(th_gauge(th, "buffered_bytes") > 2048);
    assert_int_equal(fx_acked(th), 0);
    WAIT_FOR(th, !fx_busy(th), 10000);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(fx_acked(th), 30);
    assert_false(fx_busy(th));
    assert_int_equal(th_gauge(th, "buffered_bytes"), 0);
    th_free(th);
    stub_stop(hs);
}

static void retry_limit_dead_letters(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    for (int i = 0; i < 3; i++)
        stub_script(hs, 503, "{\"error\":{\"type\":\"unavailable_shards_exception\",\"reason\":\"no shard\"}}", 0);
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", "retry.max_attempts=2",
                                            "retry.initial=1ms", "retry.max=5ms", NULL});
    fx_feed(th, 0, 2);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    assert_int_equal(stub_nreqs(hs), 3);
    assert_int_equal(fx_ndead, 2);
    assert_string_equal(fx_deads[0].reason,
                        "opensearch_undeliverable: gave up after 3 attempts: HTTP 503 "
                        "unavailable_shards_exception: no shard");
    assert_int_equal(fx_acked(th), 2);
    assert_int_equal(th_counter(th, "documents_rejected_total"), 2);
    th_free(th);
    stub_stop(hs);
    fx_dead_reset();
}

static void flush_interval_sends_partial_batches(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", "flush_interval=300ms", NULL});
    fx_feed(th, 0, 3);
    fx_tick(th);
    usleep(20000);
    fx_tick(th);
    assert_int_equal(stub_nreqs(hs), 0); /* still collecting */
    WAIT_FOR(th, fx_acked(th) == 3, 5000);
    assert_int_equal(stub_nreqs(hs), 1);
    th_free(th);
    stub_stop(hs);
}

static void non_final_flush_never_waits(void **st)
{
    (void)st;
    char url[64];
    snprintf(url, sizeof url, "url=http://127.0.0.1:%d", stub_dead_port());
    testhost *th = fx_sink((const char *[]){url, "templates=false", NULL});
    fx_feed(th, 0, 3);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 20; i++)
        assert_int_equal(fx_plugin()->flush(th_state(th), 0), SH_PENDING);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    assert_true(ms < 500);
    assert_int_equal(fx_acked(th), 0);
    th_free(th);
}

static void basic_auth_header(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    setenv("SH_TEST_PW", "pw", 1);
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", "auth=basic",
                                            "username=shipper", "password_env=SH_TEST_PW",
                                            "compress=none", NULL});
    fx_feed(th, 0, 1);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    char v[128];
    stub_header(stub_req_at(hs, 0), "Authorization", v, sizeof v);
    assert_string_equal(v, "Basic c2hpcHBlcjpwdw=="); /* base64("shipper:pw") */
    assert_false(stub_req_at(hs, 0)->gzipped);
    th_free(th);
    stub_stop(hs);
}

static void sigv4_headers_verify(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
    setenv("AWS_SESSION_TOKEN", "session-token", 1);
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", "auth=aws_sigv4",
                                            "aws.region=eu-west-1", "aws.service=aoss", NULL});
    fx_feed(th, 0, 3);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    const stub_req *r = stub_req_at(hs, 0);
    char date[64], sha[80], auth[600], token[64], hosth[64];
    stub_header(r, "X-Amz-Date", date, sizeof date);
    stub_header(r, "X-Amz-Content-Sha256", sha, sizeof sha);
    stub_header(r, "Authorization", auth, sizeof auth);
    stub_header(r, "X-Amz-Security-Token", token, sizeof token);
    stub_header(r, "Host", hosth, sizeof hosth);
    assert_string_equal(token, "session-token");
    snprintf(url_kv, sizeof url_kv, "127.0.0.1:%d", hs->port);
    assert_string_equal(hosth, url_kv);
    /* the payload hash covers the bytes on the wire (gzip) */
    unsigned char md[32];
    SHA256((const unsigned char *)r->raw_body, r->raw_len, md);
    char mdhex[65];
    for (int i = 0; i < 32; i++)
        snprintf(mdhex + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(sha, mdhex);
    /* re-sign what arrived: the signature must match */
    const char *q = strchr(r->path, '?');
    char path[64];
    snprintf(path, sizeof path, "%.*s", (int)(q - r->path), r->path);
    sigv4_header h = {"host", hosth};
    sigv4_request rq = {.method = "POST", .path = path, .query = q + 1, .headers = &h,
                        .nheaders = 1, .body = r->raw_body, .body_len = r->raw_len,
                        .amz_date = date, .region = "eu-west-1", .service = "aoss",
                        .access_key = "AKIDEXAMPLE",
                        .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                        .session_token = "session-token", .sign_content_sha256 = 1};
    sigv4_result res;
    assert_int_equal(sigv4_sign(&rq, &res, NULL, NULL), 0);
    assert_string_equal(auth, res.authorization);
    assert_non_null(strstr(auth, "/eu-west-1/aoss/aws4_request, SignedHeaders=host;"
                                 "x-amz-content-sha256;x-amz-date;x-amz-security-token, "));
    unsetenv("AWS_SESSION_TOKEN");
    th_free(th);
    stub_stop(hs);
}

/* Issue 13: refused credentials are retried for auth.timeout, then the run
 * stops (SH_FATAL): documents kept (not acknowledged, not dead-lettered);
 * a success in between starts the count again. */
static void refusals_stop_after_auth_timeout(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    static const char refused[] = "{\"error\":{\"type\":\"security_exception\",\"reason\":\"bad credentials\"}}";
    for (int i = 0; i < 60; i++)
        stub_script(hs, i % 2 ? 403 : 401, refused, 0);
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", "retry.initial=20ms", "retry.max=20ms",
                                            "auth.timeout=150ms", NULL});
    fx_feed(th, 0, 2);
    assert_int_equal(fx_flush_final(th, 10000), SH_FATAL);
    assert_true(stub_nreqs(hs) >= 2);  /* retried meanwhile */
    assert_true(stub_nreqs(hs) < 60);  /* and stopped, not retried for ever (at most ~150/20 + 1 here) */
    assert_int_equal(fx_acked(th), 0); /* kept: read again after a restart */
    assert_int_equal(fx_ndead, 0);
    assert_int_equal(th_counter(th, "documents_indexed_total"), 0);
    th_free(th);
    stub_stop(hs);

    /* successes between refusals: the timeout counts from the next refusal,
     * so refusals spread over more than auth.timeout do not stop the run */
    hs = stub_start();
    for (int i = 0; i < 4; i++) {
        stub_script(hs, 401, refused, 60);
        stub_script(hs, 200, "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}}]}", 60);
    }
    th = fx_sink((const char *[]){stub_url(hs), "templates=false", "retry.initial=1ms", "retry.max=2ms",
                                  "auth.timeout=200ms", "batch.max_docs=1", "max_in_flight=1", NULL});
    struct timespec ts0, ts1;
    clock_gettime(CLOCK_MONOTONIC, &ts0);
    fx_feed(th, 0, 4);
    assert_int_equal(fx_flush_final(th, 10000), SH_OK);
    clock_gettime(CLOCK_MONOTONIC, &ts1);
    assert_true((ts1.tv_sec - ts0.tv_sec) * 1000 + (ts1.tv_nsec - ts0.tv_nsec) / 1000000 >= 400); /* > auth.timeout */
    assert_int_equal(fx_acked(th), 4);
    th_free(th);
    stub_stop(hs);
}

static void refused_dead_letter_stops_the_pipeline(void **st)
{
    (void)st;
    http_stub *hs = stub_start();
    stub_script(hs, 200, "{\"errors\":true,\"items\":[{\"index\":{\"status\":400,\"error\":{\"type\":\"x\",\"reason\":\"y\"}}}]}", 0);
    testhost *th = fx_sink((const char *[]){stub_url(hs), "templates=false", NULL});
    fx_dead_rc = SH_FATAL;
    fx_feed(th, 0, 1);
    assert_int_equal(fx_flush_final(th, 10000), SH_FATAL);
    assert_int_equal(fx_acked(th), 0); /* not acknowledged: re-read after restart */
    fx_rec f;
    fx_make(&f, 9);
    assert_int_equal(th_process(th, 0, &f.r, 1), SH_FATAL);
    th_free(th);
    stub_stop(hs);
    fx_dead_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(templates_then_gzip_bulk),
        cmocka_unit_test(template_failures),
        cmocka_unit_test(item_errors_retry_and_dead_letter),
        cmocka_unit_test(dead_letter_without_id_names_the_index),
        cmocka_unit_test(whole_request_failures_are_retried),
        cmocka_unit_test(answers_without_every_item_are_retried),
        cmocka_unit_test(retry_after_is_honoured),
        cmocka_unit_test(retry_after_values),
        cmocka_unit_test(too_large_splits_in_halves),
        cmocka_unit_test(acked_is_a_prefix_under_out_of_order_completion),
        cmocka_unit_test(back_pressure_until_drained),
        cmocka_unit_test(retry_limit_dead_letters),
        cmocka_unit_test(flush_interval_sends_partial_batches),
        cmocka_unit_test(non_final_flush_never_waits),
        cmocka_unit_test(basic_auth_header),
        cmocka_unit_test(sigv4_headers_verify),
        cmocka_unit_test(refused_dead_letter_stops_the_pipeline),
        cmocka_unit_test(refusals_stop_after_auth_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
