/* bench_bulk_response.c - cost per document of reading a _bulk answer.
 *
 * Not a test (timings never are): build and run by hand, from the repo root:
 *   cc -O2 -Iinclude -Iplugins/sink-opensearch -o /tmp/bench_bulk \
 *      plugins/sink-opensearch/tests/bench_bulk_response.c \
 *      plugins/sink-opensearch/bulk_response.c -ljansson && /tmp/bench_bulk
 * Prints ns per document for the filtered all-success answer (the common
 * case), the same answer through the full jansson parse, an unfiltered
 * answer (what a cluster ignoring filter_path sends) and one with errors. */
#include "opensearch_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NDOCS 5000

static void ignore(void *arg, size_t i, int status, const char *type, const char *reason)
{
    (void)i, (void)status, (void)type, (void)reason;
    (*(size_t *)arg)++;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef long (*parse_fn)(const char *, size_t, size_t, os_item_fn, void *, char *, size_t);

static void run(const char *what, parse_fn fn, const char *body, size_t len)
{
    char err[256];
    size_t calls = 0;
    long ok = 0;
    int reps = 200;
    double t0 = now_ns();
    for (int r = 0; r < reps; r++)
        ok = fn(body, len, NDOCS, ignore, &calls, err, sizeof err);
    double t = (now_ns() - t0) / reps / NDOCS;
    printf("%-44s %8.1f ns/doc  (%zu bytes, %ld ok, %zu others per answer)\n", what, t, len, ok,
           calls / (size_t)reps);
}

int main(void)
{
    sh_buf ok = {0}, full = {0}, mixed = {0};
    sh_buf_puts(&ok, "{\"errors\":false,\"items\":[");
    sh_buf_puts(&full, "{\"took\":30,\"errors\":false,\"items\":[");
    sh_buf_puts(&mixed, "{\"errors\":true,\"items\":[");
    for (int i = 0; i < NDOCS; i++) {
        const char *sep = i ? "," : "";
        sh_buf_puts(&ok, sep);
        sh_buf_puts(&ok, "{\"index\":{\"status\":201}}");
        sh_buf_puts(&full, sep);
        char item[400];
        snprintf(item, sizeof item,
                 "{\"index\":{\"_index\":\"user_session_counts\",\"_id\":\"c%d\",\"_version\":1,"
                 "\"result\":\"created\",\"_shards\":{\"total\":2,\"successful\":1,\"failed\":0},"
                 "\"_seq_no\":%d,\"_primary_term\":1,\"status\":201}}",
                 i, i);
        sh_buf_puts(&full, item);
        sh_buf_puts(&mixed, sep);
        sh_buf_puts(&mixed, i % 10 ? "{\"index\":{\"status\":201}}"
                                   : "{\"index\":{\"status\":400,\"error\":{\"type\":"
                                     "\"mapper_parsing_exception\",\"reason\":\"failed to parse\"}}}");
    }
    sh_buf_puts(&ok, "]}");
    sh_buf_puts(&full, "]}");
    sh_buf_puts(&mixed, "]}");
    run("filtered all-success (os_bulk_response_parse)", os_bulk_response_parse, ok.data, ok.len);
#ifndef BENCH_OLD
    run("filtered all-success (full jansson parse)", os_bulk_response_parse_full, ok.data, ok.len);
#endif
    run("unfiltered all-success", os_bulk_response_parse, full.data, full.len);
    run("filtered, 10% item errors", os_bulk_response_parse, mixed.data, mixed.len);
    sh_buf_free(&ok);
    sh_buf_free(&full);
    sh_buf_free(&mixed);
    return 0;
}
