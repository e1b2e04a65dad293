/* libFuzzer target: the OpenSearch sink's reading of network answers
 * (plugins/sink-opensearch/bulk_response.c, retry_backoff.c) on arbitrary
 * bytes.
 *
 * Input: the first byte picks the number of documents the request had
 * (1 + byte % 16, so a seed starting with '1' is an answer for 2 documents);
 * the rest is the HTTP body.  When that byte has its high bit set, each
 * further byte instead picks a token of a _bulk answer (TOKENS below), so
 * the fuzzer explores near-misses of the fast path's shape ("took":01,
 * a 2010 status, a missing comma) far more densely than with raw bytes;
 * tests/fuzz/corpus/bulk_response/tok-* are seeds of that form.  Besides
 * crashes and sanitizer reports, it
 * checks what delivery relies on, and aborts when one fails:
 *   - the answer accounts for every document exactly once: either -1 (the
 *     whole request is retried) with no item reported, or ok + items
 *     reported == documents, items in increasing order, each a non-success
 *     with a type and a reason;
 *   - the fast path is a parser, not a shortcut: os_bulk_response_parse
 *     (fast path, then the full parse) reads every input exactly as the full
 *     jansson parse alone does;
 *   - the error summary of any body is one printable, terminated line;
 *   - a Retry-After value of any bytes waits -1 (ignored) or 0..60 s. */
#include "opensearch_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct walk {
    size_t ndocs, n;
    size_t index[16];
    int status[16];
} walk;

static void on_item(void *arg, size_t index, int status, const char *type, const char *reason)
{
    walk *w = arg;
    if (index >= w->ndocs || (w->n && index <= w->index[w->n - 1]) || w->n >= 16 ||
        os_item_verdict(status) == OS_ITEM_OK || !type || !reason) {
        fprintf(stderr, "bad item report: index %zu of %zu (after %zu), status %d\n", index,
                w->ndocs, w->n, status);
        abort();
    }
    w->index[w->n] = index;
    w->status[w->n] = status;
    w->n++;
}

static void check_accounting(long ok, const walk *w, const char *which)
{
    if (ok < 0 ? w->n != 0 : (size_t)ok + w->n != w->ndocs) {
        fprintf(stderr, "%s: returned %ld with %zu item reports for %zu documents\n", which, ok,
                w->n, w->ndocs);
        abort();
    }
}

/* Token mode: byte i of the input (after the first) is TOKENS[byte % N].
 * Keep the order: the tok-* seeds are written against these indices. */
static const char *const TOKENS[] = {
    "{", "}", "[", "]", ",", ":", "\"took\":", "\"errors\":", "false", "true",
    "\"items\":", "{\"index\":{\"status\":", "}}", "201", "200", "0", "1", "2", "9", " ",
    "\n", "\"index\"", "\"status\"", "{\"create\":{\"status\":201}}",
    "{\"index\":{\"status\":201}}", "\"x\"", "null", "-", ".", "e", "\"",
    "{\"index\":{\"status\":400,\"error\":{\"type\":\"t\",\"reason\":\"r\"}}}",
};
#define NTOKENS (sizeof TOKENS / sizeof *TOKENS)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t ndocs = 1 + (data[0] & 0x7f) % 16;
    /* a copy of exactly the body's bytes, so reading past it is caught */
    size_t len = 0;
    char *body;
    if (data[0] & 0x80) {
        size_t cap = 1;
        for (size_t i = 1; i < size; i++)
            cap += strlen(TOKENS[data[i] % NTOKENS]);
        body = malloc(cap);
        if (!body)
            return 0;
        for (size_t i = 1; i < size; i++) {
            const char *t = TOKENS[data[i] % NTOKENS];
            memcpy(body + len, t, strlen(t));
            len += strlen(t);
        }
    } else {
        len = size - 1;
        body = malloc(len ? len : 1);
        if (!body)
            return 0;
        memcpy(body, data + 1, len);
    }

    char err[256];
    walk a = {.ndocs = ndocs}, b = {.ndocs = ndocs};
    long fast = os_bulk_response_parse(body, len, ndocs, on_item, &a, err, sizeof err);
    check_accounting(fast, &a, "os_bulk_response_parse");
    long full = os_bulk_response_parse_full(body, len, ndocs, on_item, &b, err, sizeof err);
    check_accounting(full, &b, "os_bulk_response_parse_full");
    if (fast != full || a.n != b.n || memcmp(a.index, b.index, a.n * sizeof a.index[0]) != 0 ||
        memcmp(a.status, b.status, a.n * sizeof a.status[0]) != 0) {
        fprintf(stderr, "fast path and full parse disagree: %ld/%zu vs %ld/%zu\n", fast, a.n,
                full, b.n);
        abort();
    }

    char sum[300];
    os_error_summary(body, len, sum, sizeof sum);
    size_t sl = strnlen(sum, sizeof sum);
    if (sl == sizeof sum)
        abort();
    for (size_t i = 0; i < sl; i++)
        if ((unsigned char)sum[i] < 0x20 || (unsigned char)sum[i] == 0x7f)
            abort();

    int64_t ra = os_retry_after_ms(body, len, (int64_t)1700000000000);
    if (ra < -1 || ra > OS_RETRY_AFTER_MAX_MS)
        abort();
    free(body);
    return 0;
}
