/* sink_plugin.c - the "opensearch" sink: records to OpenSearch _bulk.
 *
 * The callbacks below only move data between the host and the delivery
 * machinery (delivery.c, http_requests.c); each one also advances the
 * in-flight HTTP requests without blocking, so responses are handled
 * whichever callback the host happens to call: process() under load, busy()
 * while it holds the sources back, tick() when idle, flush() at the end. */
#include "opensearch_sink.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void register_metrics(os_sink *s)
{
    const sh_host *h = s->host;
    sh_ctx *c = s->ctx;
    s->m.bulk_requests = h->counter(c, "bulk_requests_total", "_bulk requests sent");
    s->m.docs_indexed =
        h->counter(c, "documents_indexed_total", "documents OpenSearch indexed");
    s->m.docs_rejected = h->counter(
        c, "documents_rejected_total",
        "documents sent to the dead-letter output (rejected by OpenSearch, or retries exhausted)");
    s->m.retries = h->counter(c, "retries_total", "bulk requests scheduled again after a failure");
    s->m.request_failures = h->counter(
        c, "request_failures_total",
        "requests that failed as a whole (connection, timeout, non-2xx, unreadable response)");
    static const double secs[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    if (SH_HOST_HAS(h, histogram) && SH_HOST_HAS(h, observe))
        s->m.request_seconds = h->histogram(c, "request_duration_seconds",
                                            "time from sending a request (template or _bulk) to its answer, any outcome",
                                            secs, sizeof secs / sizeof secs[0]);
    s->m.in_flight_bytes = h->gauge(c, "in_flight_bytes", "request body bytes on the wire now");
    s->m.buffered_docs =
        h->gauge(c, "buffered_documents", "documents received and not yet indexed or dead-lettered");
    s->m.buffered_bytes = h->gauge(c, "buffered_bytes",
                                   "bytes held for those documents (limit: buffer.max_bytes)");
}

static void sink_destroy(void *state);

static sh_rc sink_init(const sh_host *host, sh_ctx *ctx, void **state)
{
    os_sink *s = calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return SH_FATAL;
    s->host = host;
    s->ctx = ctx;
    register_metrics(s);
    if (os_config_load(&s->cfg, host, ctx) != 0)
        goto fail;
    s->renderer.index_prefix = s->cfg.index_prefix;
    s->rng = (uint64_t)host->mono_ms(ctx) * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid() ^
             (uint64_t)(uintptr_t)s;
    if (s->cfg.gzip) {
        if (os_gzip_init(&s->z) != 0) {
            host->log(ctx, SH_LOG_ERROR, "cannot initialise gzip compression (out of memory)");
            goto fail;
        }
        s->z_ready = 1;
    }
    if (os_http_init(s) != 0) {
        host->log(ctx, SH_LOG_ERROR, "cannot initialise libcurl (out of memory?)");
        goto fail;
    }
    s->templates_ready = !s->cfg.templates;
    for (int i = 0; i < OS_NTEMPLATES; i++) {
        if (!s->cfg.templates)
            s->templates[i].state = OS_TPL_DONE;
        else if (os_template_build(&s->templates[i], i, s->cfg.index_prefix) != 0)
            goto fail;
    }
    *state = s;
    return SH_OK;
fail:
    sink_destroy(s);
    return SH_FATAL;
}

/* Does not wait for OpenSearch: when it is not up yet (containers starting
 * in any order), templates and documents wait and retry, back-pressure holds
 * the sources, and the log says why.  Failing the start would turn a slow
 * dependency into a crash loop. */
static sh_rc sink_start(void *state)
{
    os_sink *s = state;
    static const char *const auth_names[] = {"none", "basic", "aws_sigv4"};
    s->host->log(s->ctx, SH_LOG_INFO,
                 "writing to %s (auth %s, %s bodies, up to %zu requests in flight, "
                 "batches of %zu documents or %zu bytes)",
                 s->cfg.url_redacted, auth_names[s->cfg.auth], s->cfg.gzip ? "gzip" : "plain",
                 s->cfg.max_in_flight, s->cfg.batch_max_docs, s->cfg.batch_max_bytes);
    os_pump(s);
    return SH_OK;
}

static sh_rc accept_record(os_sink *s, const sh_record *r, int64_t now)
{
    if (!s->open) {
        s->open = os_batch_get(s);
        if (!s->open)
            return SH_FATAL;
        s->open->opened_ms = now;
    }
    os_batch *b = s->open;
    uint64_t seq;
    if (ack_ledger_push(&s->ledger, &seq) != 0 || os_render_doc(&s->renderer, b, r, seq) != 0) {
        s->host->log(s->ctx, SH_LOG_ERROR, "out of memory buffering documents");
        return SH_FATAL;
    }
    s->live_docs++;
    os_batch_account(s, b);
    /* Over the byte limit: the new document starts the next batch (a single
     * document larger than the limit still goes, alone). */
    if (b->ndocs > 1 && b->body.len > s->cfg.batch_max_bytes) {
        os_batch *nb = os_batch_get(s);
        const os_doc *last = &b->docs[b->ndocs - 1];
        if (!nb || os_batch_copy_doc(nb, b, last) != 0) {
            s->host->log(s->ctx, SH_LOG_ERROR, "out of memory buffering documents");
            return SH_FATAL;
        }
        b->body.len = last->off;
        b->ndocs--;
        os_batch_account(s, b);
        os_batch_account(s, nb);
        nb->opened_ms = now;
        os_seal_open(s);
        s->open = b = nb;
    }
    if (b->ndocs >= s->cfg.batch_max_docs || b->body.len >= s->cfg.batch_max_bytes)
        os_seal_open(s);
    return SH_OK;
}

static sh_rc sink_process(void *state, uint32_t input, const sh_record *recs, size_t n)
{
    os_sink *s = state;
    (void)input;
    if (s->fatal)
        return SH_FATAL;
    int64_t now = s->host->mono_ms(s->ctx);
    for (size_t i = 0; i < n; i++)
        if (accept_record(s, &recs[i], now) != SH_OK)
            return SH_FATAL;
    os_pump(s);
    return s->fatal ? SH_FATAL : SH_OK;
}

static sh_rc sink_tick(void *state, int64_t now_ms)
{
    os_sink *s = state;
    (void)now_ms; /* intervals use the monotonic clock */
    os_pump(s);
    if (s->open && s->open->ndocs &&
        s->host->mono_ms(s->ctx) - s->open->opened_ms >= s->cfg.flush_interval_ms) {
        os_seal_open(s);
        os_pump(s);
    }
    return s->fatal ? SH_FATAL : SH_OK;
}

/* Earliest moment something queued may be sent, for flush(final)'s wait. */
static int64_t next_due(os_sink *s, int64_t now)
{
    int64_t due = INT64_MAX;
    for (os_batch *b = s->pending.head; b; b = b->next)
        if (b->not_before < due)
            due = b->not_before;
    for (int i = 0; !s->templates_ready && i < OS_NTEMPLATES; i++)
        if (s->templates[i].state == OS_TPL_WAITING && s->templates[i].not_before < due)
            due = s->templates[i].not_before;
    if (due < s->hold_until)
        due = s->hold_until;
    return due < now ? now : due;
}

/* Non-final: seal and send, never wait.  Final (shutdown): wait up to about
 * a second per call for responses and due retries; the host calls again
 * while SH_PENDING comes back, and stays in control of the overall deadline. */
static sh_rc sink_flush(void *state, int final)
{
    os_sink *s = state;
    os_seal_open(s);
    os_pump(s);
    if (final) {
        int64_t start = s->host->mono_ms(s->ctx), now = start;
        while (!s->fatal && ack_ledger_pending(&s->ledger) && now - start < 1000) {
            int64_t wait = 100;
            if (!s->in_flight) {
                int64_t due = next_due(s, now) - now;
                wait = due < wait ? due : wait;
            }
            os_run_requests(s, wait > 0 ? (int)wait : 1);
            os_pump(s);
            now = s->host->mono_ms(s->ctx);
        }
    }
    if (s->fatal)
        return SH_FATAL;
    return ack_ledger_pending(&s->ledger) ? SH_PENDING : SH_OK;
}

static uint64_t sink_acked(void *state)
{
    return ack_ledger_acked(&((os_sink *)state)->ledger);
}

static int sink_busy(void *state)
{
    os_sink *s = state;
    os_pump(s);
    return s->live_bytes > s->cfg.buffer_max_bytes;
}

static void sink_stop(void *state)
{
    os_sink *s = state;
    uint64_t pending = ack_ledger_pending(&s->ledger);
    if (pending)
        s->host->log(s->ctx, SH_LOG_WARN,
                     "stopping with %" PRIu64 " documents not yet in OpenSearch; their source "
                     "offsets were not committed, so they are read again after a restart",
                     pending);
}

static void free_queue(os_batch *b)
{
    while (b) {
        os_batch *next = b->next;
        os_batch_free(b);
        b = next;
    }
}

static void sink_destroy(void *state)
{
    os_sink *s = state;
    if (!s)
        return;
    if (s->multi)
        os_http_free(s);
    os_batch_free(s->open);
    free_queue(s->pending.head);
    free_queue(s->spare);
    ack_ledger_free(&s->ledger);
    os_renderer_free(&s->renderer);
    for (int i = 0; i < OS_NTEMPLATES; i++) {
        free(s->templates[i].path);
        sh_buf_free(&s->templates[i].body);
    }
    if (s->z_ready)
        deflateEnd(&s->z);
    sh_buf_free(&s->url);
    sh_buf_free(&s->dead);
    os_config_free(&s->cfg);
    free(s);
}

static const sh_plugin opensearch_sink = {
    SH_PLUGIN_MAGIC,
    .name = "opensearch",
    .version = "1.0.0",
    .kind = SH_SINK,
    .description = "indexes records into OpenSearch with concurrent, compressed _bulk requests; "
                   "retries, back-pressure, dead letters, SigV4",
    .config = os_config_keys,
    .init = sink_init,
    .start = sink_start,
    .process = sink_process,
    .tick = sink_tick,
    .flush = sink_flush,
    .acked = sink_acked,
    .busy = sink_busy,
    .stop = sink_stop,
    .destroy = sink_destroy,
    .validate = os_config_validate,
};

SH_PLUGIN_EXPORT(opensearch_sink)
