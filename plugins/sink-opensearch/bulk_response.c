/* bulk_response.c - what OpenSearch said about each document of a _bulk.
 *
 * A _bulk answers 200 even when documents fail; the truth is per item:
 *   {"errors":true,"items":[{"index":{"status":201}},
 *     {"index":{"status":400,"error":{"type":"mapper_parsing_exception",
 *                                      "reason":"failed to parse ..."}}}]}
 * Items come in request order.  Requests ask for filter_path so the cluster
 * sends only errors, status and error type/reason.
 *
 * Every answer is parsed in full, never pattern-matched: an answer counts a
 * document as indexed only through an item of its own (exactly one item per
 * document, the "index" action, a 2xx status).  A missing, extra or
 * unreadable part makes the whole answer, or that one item, a retry. */
#include "opensearch_sink.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int os_item_verdict(int status)
{
    if (status >= 200 && status < 300)
        return OS_ITEM_OK;
    /* 429: the node's write queue is full; 5xx: a shard or node had trouble.
     * Both pass; everything else (400 mapping conflicts, 404 with
     * auto-create off, 409) will fail the same way on every resend. */
    if (status == 429 || status >= 500)
        return OS_ITEM_RETRY;
    return OS_ITEM_REJECT;
}

/* An action name from the answer, printable and short, for a reason line. */
static void excerpt_key(const char *k, char *out, size_t outlen)
{
    size_t o = 0;
    for (; *k && o + 1 < outlen; k++)
        out[o++] = ((unsigned char)*k >= 0x20 && (unsigned char)*k < 0x7f) ? *k : '?';
    out[o] = '\0';
}

/* ---- the fast path: a full parse of the common answer ------------------
 *
 * Nearly every answer is the filtered all-success one, compact, exactly
 *   {"errors":false,"items":[{"index":{"status":201}},...]}
 * (byte for byte what OpenSearch 2.19 sends for our filter_path).  A
 * jansson tree for it costs about 0.8 us per document (5000 items: 4 ms of
 * the pipeline thread per request, tests/bench_bulk_response.c); this
 * recognizer reads every byte of that one shape in about 2 ns per document.  It is a parser of a strict subset of
 * JSON, never a pattern match: it accepts only an answer whose every byte it
 * has read, with exactly ndocs items, each the "index" action with a 2xx
 * status; anything else, however close, returns -1 and goes to the full
 * parse below, which decides.  The fuzzer (tests/fuzz/fuzz_bulk_response.c)
 * checks that whatever this accepts, the full parse reads the same way. */
static int lit(const char **p, const char *end, const char *s, size_t n)
{
    if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
        return 0;
    *p += n;
    return 1;
}
#define LIT(s) lit(&p, end, s, sizeof s - 1)

static long fast_all_ok(const char *body, size_t len, size_t ndocs)
{
    const char *p = body, *end = body + len;
    if (!body || ndocs == 0 || !LIT("{\"errors\":false,\"items\":["))
        return -1;
    for (size_t i = 0; i < ndocs; i++) {
        if (i && !LIT(","))
            return -1;
        if (!LIT("{\"index\":{\"status\":2") || end - p < 4 || p[0] < '0' || p[0] > '9' ||
            p[1] < '0' || p[1] > '9' || p[2] != '}' || p[3] != '}')
            return -1;
        p += 4;
    }
    if (!LIT("]}"))
        return -1;
    /* JSON's whitespace only (what jansson skips after the value) */
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p == end ? (long)ndocs : -1;
}
#undef LIT

/* ---- the full parse ------------------------------------------------------ */

/* Reads item i: {"index":{"status":NNN,...}} and nothing else.  Returns its
 * status, or 0 with *why set when the item does not answer our action. */
static int item_status(json_t *item, json_t **res, char *why, size_t whylen)
{
    *res = NULL;
    if (!json_is_object(item) || json_object_size(item) != 1) {
        snprintf(why, whylen, "item is not an object with one action");
        return 0;
    }
    void *it = json_object_iter(item);
    const char *action = json_object_iter_key(it);
    if (strcmp(action, "index") != 0) {
        char a[40];
        excerpt_key(action, a, sizeof a);
        snprintf(why, whylen, "item answers action '%s', the request sent 'index'", a);
        return 0;
    }
    json_t *r = json_object_iter_value(it);
    json_t *st = json_object_get(r, "status");
    /* an index action ends in 2xx, 4xx or 5xx; 1xx/3xx mean a broken answer */
    json_int_t v = json_is_integer(st) ? json_integer_value(st) : 0;
    if (!json_is_object(r) || v < 200 || v > 599 || (v >= 300 && v < 400)) {
        snprintf(why, whylen, "item has no HTTP status of an index action");
        return 0;
    }
    *res = r;
    return (int)v;
}

long os_bulk_response_parse_full(const char *body, size_t len, size_t ndocs, os_item_fn fn,
                                 void *arg, char *err, size_t errlen)
{
    json_error_t jerr;
    /* strict: no duplicate keys (which status would count?), nothing after
     * the value, no NUL in strings */
    json_t *root = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!root || !json_is_object(root)) {
        snprintf(err, errlen, "response is not JSON: %s",
                 root ? "not an object" : body ? jerr.text : "empty");
        json_decref(root);
        return -1;
    }
    json_t *errors = json_object_get(root, "errors");
    json_t *items = json_object_get(root, "items");
    if (!json_is_boolean(errors)) {
        snprintf(err, errlen, "response has no \"errors\" flag: not a _bulk response");
        json_decref(root);
        return -1;
    }
    /* "errors":false is a claim; only an item per document proves it (the
     * request asks for items.*.status, so a real answer always has them) */
    if (!json_is_array(items) || json_array_size(items) != ndocs) {
        if (json_is_array(items))
            snprintf(err, errlen, "response has %zu items for %zu documents",
                     json_array_size(items), ndocs);
        else
            snprintf(err, errlen, "response has no items for %zu documents", ndocs);
        json_decref(root);
        return -1;
    }
    long ok = 0;
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        json_t *res;
        char why[120];
        int status = item_status(item, &res, why, sizeof why);
        if (status && os_item_verdict(status) == OS_ITEM_OK) {
            ok++;
            continue;
        }
        if (!status) {
            /* an item we cannot read: resending it is safe (ids make the
             * write idempotent), counting it as indexed is not */
            fn(arg, i, 500, "unreadable_item", why);
            continue;
        }
        json_t *e = json_object_get(res, "error");
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *reason = json_string_value(json_object_get(e, "reason"));
        if (!type && json_is_string(e))
            type = json_string_value(e);
        fn(arg, i, status, type ? type : "unknown", reason ? reason : "");
    }
    json_decref(root);
    return ok;
}

long os_bulk_response_parse(const char *body, size_t len, size_t ndocs, os_item_fn fn,
                            void *arg, char *err, size_t errlen)
{
    long ok = fast_all_ok(body, len, ndocs);
    if (ok >= 0)
        return ok;
    return os_bulk_response_parse_full(body, len, ndocs, fn, arg, err, errlen);
}

/* Copies printable bytes only, so a proxy's HTML page cannot break a log line. */
static void excerpt(const char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    out[o] = '\0';
}

void os_error_summary(const char *body, size_t len, char *out, size_t outlen)
{
    if (!outlen)
        return;
    out[0] = '\0';
    if (!body || !len) {
        snprintf(out, outlen, "(empty body)");
        return;
    }
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *e = root ? json_object_get(root, "error") : NULL;
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *reason = json_string_value(json_object_get(e, "reason"));
    if (type) {
        /* both from the peer: printable only, or they could forge log lines */
        char t[100], r[300];
        excerpt(type, strlen(type), t, sizeof t);
        excerpt(reason ? reason : "", reason ? strlen(reason) : 0, r, sizeof r);
        snprintf(out, outlen, "%s: %s", t, r);
    } else if (json_is_string(e)) {
        excerpt(json_string_value(e), strlen(json_string_value(e)), out, outlen);
    } else if (root && json_is_string(json_object_get(root, "message"))) {
        /* AWS front ends answer {"message": "..."} */
        const char *m = json_string_value(json_object_get(root, "message"));
        excerpt(m, strlen(m), out, outlen);
    } else {
        excerpt(body, len < 200 ? len : 200, out, outlen);
    }
    json_decref(root);
}
