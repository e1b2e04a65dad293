/* bulk_response.c - what OpenSearch said about each document of a _bulk.
 *
 * A _bulk answers 200 even when documents fail; the truth is per item:
 *   {"errors":true,"items":[{"index":{"status":201}},
 *     {"index":{"status":400,"error":{"type":"mapper_parsing_exception",
 *                                      "reason":"failed to parse ..."}}}]}
 * Items come in request order.  Requests ask for filter_path so the cluster
 * sends only errors, status and error type/reason. */
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

/* "errors":false near the start means every item succeeded; skipping the
 * parse of thousands of items is the common case's fast path.  Only the
 * top-level key can appear before "items", so the prefix test is exact. */
static int quick_all_ok(const char *body, size_t len)
{
    static const char key[] = "\"errors\":false";
    size_t n = len < 64 ? len : 64;
    if (n == 0 || body[0] != '{')
        return 0;
    const char *items = NULL;
    for (size_t i = 0; i + 7 <= n; i++)
        if (memcmp(body + i, "\"items\"", 7) == 0) {
            items = body + i;
            break;
        }
    for (size_t i = 0; i + sizeof key - 1 <= n; i++)
        if (memcmp(body + i, key, sizeof key - 1) == 0)
            return !items || body + i < items;
    return 0;
}

long os_bulk_response_parse(const char *body, size_t len, size_t ndocs, os_item_fn fn,
                            void *arg, char *err, size_t errlen)
{
    if (quick_all_ok(body, len))
        return (long)ndocs;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!root || !json_is_object(root)) {
        snprintf(err, errlen, "response is not JSON: %s", root ? "not an object" : jerr.text);
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
    if (json_is_false(errors) && !json_is_array(items)) {
        json_decref(root); /* filtered response without items: all fine */
        return (long)ndocs;
    }
    if (!json_is_array(items) || json_array_size(items) != ndocs) {
        snprintf(err, errlen, "response has %zu items for %zu documents",
                 json_is_array(items) ? json_array_size(items) : (size_t)0, ndocs);
        json_decref(root);
        return -1;
    }
    long ok = 0;
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        /* {"index":{...}}: the single member's value holds the result */
        json_t *res = json_is_object(item) ? json_object_iter_value(json_object_iter(item)) : NULL;
        json_t *st = res ? json_object_get(res, "status") : NULL;
        int status = json_is_integer(st) ? (int)json_integer_value(st) : 0;
        if (os_item_verdict(status) == OS_ITEM_OK) {
            ok++;
            continue;
        }
        json_t *e = json_object_get(res, "error");
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *reason = json_string_value(json_object_get(e, "reason"));
        if (!type && json_is_string(e))
            type = json_string_value(e);
        if (status == 0) {
            /* an item we cannot read: resending it is safe (ids make the
             * write idempotent), dropping it is not */
            status = 500;
            type = "unreadable_item";
        }
        fn(arg, i, status, type ? type : "unknown", reason ? reason : "");
    }
    json_decref(root);
    return ok;
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
        char r[300];
        excerpt(reason ? reason : "", reason ? strlen(reason) : 0, r, sizeof r);
        snprintf(out, outlen, "%s: %s", type, r);
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
