/* delivery.c - what happens to a batch from sealing to resolution.
 *
 * Every document ends exactly one way: indexed (2xx item), or handed to the
 * host's dead-letter output (rejected item, single document too large, or
 * retry.max_attempts exhausted).  Until then its bytes stay in a batch:
 *
 *   connection error, 429, 5xx, other 4xx  -> whole batch again after backoff
 *                                             (not before Retry-After on 429/503)
 *   413 Request Entity Too Large           -> split in halves, resent now
 *   200 with item errors                   -> 429/5xx items again after
 *                                             backoff, others dead-lettered
 *
 * Whole-request 4xx (400, 401, 403, 404) are retried too, like Logstash does:
 * they come from configuration (credentials, permissions, url) that an
 * operator can fix while the sink waits and back-pressure holds the sources,
 * whereas dead-lettering on them would divert every document at once.  They
 * are logged as errors with the likely fix. */
#include "opensearch_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- resolving documents ------------------------------------------------ */

static void resolve(os_sink *s, const os_doc *d)
{
    ack_ledger_done(&s->ledger, d->seq);
    s->live_docs--;
}

/* The dead letter's payload: the document with where it was going, in the
 * {"_index","_id","_source"} form of the file sink's lines (and of a GET of
 * the document), so a reader sees which index and id failed and can resend
 * it as is.  Built from the action line this sink rendered itself:
 *   {"index":{"_index":"i","_id":"x"}}\n  ->  {"_index":"i","_id":"x","_source":<source>}
 * Without memory for it, the bare source still goes (better than stopping). */
static const char *dead_letter_payload(os_sink *s, const os_batch *b, const os_doc *d,
                                       size_t *len)
{
    size_t slen;
    const char *src = os_doc_source(b, d, &slen);
    static const char head[] = "{\"index\":";
    const char *action = b->body.data + d->off;
    if (d->action_len < sizeof head - 1 + 4 || memcmp(action, head, sizeof head - 1) != 0) {
        *len = slen;
        return src;
    }
    s->dead.len = 0;
    sh_buf_add(&s->dead, action + sizeof head - 1, d->action_len - (sizeof head - 1) - 3);
    sh_buf_puts(&s->dead, ",\"_source\":");
    sh_buf_add(&s->dead, src, slen);
    sh_buf_putc(&s->dead, '}');
    if (s->dead.oom) {
        s->dead.oom = 0;
        *len = slen;
        return src;
    }
    *len = s->dead.len;
    return s->dead.data;
}

/* Hands one document to the dead-letter output.  If the host cannot take
 * it, the document stays unresolved (never acknowledged) and the pipeline
 * stops, so the source re-reads it after restart. */
static void dead_letter_doc(os_sink *s, const os_batch *b, const os_doc *d, const char *reason)
{
    size_t len;
    const char *src = dead_letter_payload(s, b, d, &len);
    /* provenance only: the record's values are long gone */
    sh_record origin;
    memset(&origin, 0, sizeof origin);
    origin.schema = d->schema;
    origin.time = d->time;
    origin.slot = d->slot;
    origin.offset = d->offset;
    if (s->host->dead_letter(s->ctx, src, len, reason, &origin) != SH_OK) {
        if (!s->fatal)
            s->host->log(s->ctx, SH_LOG_ERROR,
                         "the dead-letter output refused a document (%s); stopping so that "
                         "nothing is lost",
                         reason);
        s->fatal = 1;
        return;
    }
    (*s->m.docs_rejected)++;
    resolve(s, d);
}

void os_dead_letter_batch(os_sink *s, os_batch *b, const char *reason)
{
    for (size_t i = 0; i < b->ndocs; i++)
        dead_letter_doc(s, b, &b->docs[i], reason);
}

/* ---- retries ------------------------------------------------------------- */

/* Schedules b again after backoff (and not before `earliest`, monotonic ms:
 * Retry-After), or dead-letters it when attempts run out. */
static void retry_later(os_sink *s, os_batch *b, const char *why, int64_t earliest)
{
    b->attempts++;
    uint32_t max = s->cfg.retry_max_attempts;
    if (max && b->attempts > max) {
        char reason[512];
        snprintf(reason, sizeof reason, "opensearch_undeliverable: gave up after %u attempts: %s",
                 b->attempts, why);
        os_dead_letter_batch(s, b, reason);
        os_batch_release(s, b);
        return;
    }
    (*s->m.retries)++;
    b->not_before = s->host->mono_ms(s->ctx) +
                    os_backoff_ms(b->attempts, s->cfg.retry_initial_ms, s->cfg.retry_max_ms, &s->rng);
    if (b->not_before < earliest)
        b->not_before = earliest;
    os_queue_push_front(&s->pending, b);
}

static void fail_request(os_sink *s, os_batch *b, CURLcode cc, long status, const char *why,
                         int64_t earliest)
{
    (*s->m.request_failures)++;
    os_note_failure(s, "bulk request", cc, status, why);
    retry_later(s, b, why, earliest);
}

/* ---- per-item results ----------------------------------------------------- */

typedef struct item_walk {
    os_sink *s;
    os_batch *b;
    os_batch *retry; /* the 429/5xx items, built lazily */
    size_t cursor;   /* items before it are handled */
    size_t nretry;
    char first_retry_why[160];
    int oom;
} item_walk;

static void indexed_until(item_walk *w, size_t end)
{
    for (; w->cursor < end; w->cursor++) {
        resolve(w->s, &w->b->docs[w->cursor]);
        (*w->s->m.docs_indexed)++;
    }
}

static void on_item(void *arg, size_t i, int status, const char *type, const char *reason)
{
    item_walk *w = arg;
    indexed_until(w, i);
    w->cursor = i + 1;
    const os_doc *d = &w->b->docs[i];
    if (os_item_verdict(status) == OS_ITEM_RETRY) {
        if (!w->retry)
            w->retry = os_batch_get(w->s);
        if (!w->retry || os_batch_copy_doc(w->retry, w->b, d) != 0) {
            w->oom = 1;
            return;
        }
        if (!w->nretry++)
            snprintf(w->first_retry_why, sizeof w->first_retry_why, "item %d %s: %s", status,
                     type, reason);
        return;
    }
    char why[640];
    snprintf(why, sizeof why, "opensearch_rejected: %d %s: %s", status, type, reason);
    os_redact_secrets(&w->s->cfg, why, sizeof why);
    dead_letter_doc(w->s, w->b, d, why);
}

static void complete_items(os_sink *s, os_request *rq, os_batch *b)
{
    char err[256];
    item_walk w = {.s = s, .b = b};
    long ok = os_bulk_response_parse(rq->resp.data, rq->resp.len, b->ndocs, on_item, &w, err,
                                      sizeof err);
    if (ok < 0) {
        fail_request(s, b, CURLE_OK, 0, err, 0); /* answered, but not a bulk response: as an outage */
        return;
    }
    indexed_until(&w, b->ndocs);
    if (ok > 0)
        os_note_success(s);
    if (w.oom) {
        s->host->log(s->ctx, SH_LOG_ERROR, "out of memory keeping documents for retry");
        s->fatal = 1;
    }
    if (w.retry) {
        w.retry->attempts = b->attempts;
        os_batch_account(s, w.retry);
        os_note_failure(s, "bulk request (some documents)", CURLE_OK, 429, w.first_retry_why);
        retry_later(s, w.retry, w.first_retry_why, 0);
    }
    os_batch_release(s, b);
}

/* ---- 413: halve until it fits ------------------------------------------- */

static void split_batch(os_sink *s, os_batch *b)
{
    (*s->m.request_failures)++;
    if (b->ndocs == 1) {
        char why[256];
        snprintf(why, sizeof why,
                 "opensearch_rejected: 413 request_too_large: a document of %u bytes is larger "
                 "than the cluster accepts (http.max_content_length)",
                 b->docs[0].len);
        os_dead_letter_batch(s, b, why);
        os_batch_release(s, b);
        return;
    }
    if (!s->warned_413) {
        s->warned_413 = 1;
        s->host->log(s->ctx, SH_LOG_WARN,
                     "a bulk request of %zu bytes was too large for the cluster (413); sending it "
                     "in halves. Lower batch.max_bytes below the cluster's http.max_content_length",
                     b->body.len);
    }
    size_t half = b->ndocs / 2;
    os_batch *first = os_batch_get(s), *second = os_batch_get(s);
    int ok = first && second;
    for (size_t i = 0; ok && i < b->ndocs; i++)
        ok = os_batch_copy_doc(i < half ? first : second, b, &b->docs[i]) == 0;
    if (!ok) {
        /* keep the documents: resend the whole batch later instead */
        if (first)
            os_batch_release(s, first);
        if (second)
            os_batch_release(s, second);
        retry_later(s, b, "413, and no memory to split the batch", 0);
        return;
    }
    first->attempts = second->attempts = b->attempts;
    os_batch_account(s, first);
    os_batch_account(s, second);
    os_batch_release(s, b);
    os_queue_push_front(&s->pending, second);
    os_queue_push_front(&s->pending, first);
}

/* ---- completion ----------------------------------------------------------- */

void os_delivery_complete(os_sink *s, os_request *rq, CURLcode cc, long status)
{
    if (rq->template_idx >= 0) {
        os_template_complete(s, rq, cc, status);
        rq->template_idx = -1;
        return;
    }
    os_batch *b = rq->batch;
    rq->batch = NULL;
    if (!b)
        return;
    os_batch_account(s, b);
    char why[480];
    if (cc != CURLE_OK) {
        os_failure_why(s, rq, cc, 0, why, sizeof why);
        fail_request(s, b, cc, 0, why, 0);
    } else if (status == 413) {
        split_batch(s, b);
    } else if (status >= 200 && status < 300) {
        complete_items(s, rq, b);
    } else {
        char cause[400];
        os_failure_why(s, rq, cc, status, cause, sizeof cause);
        int64_t earliest = os_retry_after_hold(s, rq, status);
        if (earliest)
            snprintf(why, sizeof why, "%s; waiting %.1f s as the cluster asked (Retry-After)",
                     cause, (double)rq->retry_after_ms / 1000.0);
        else
            snprintf(why, sizeof why, "%s", cause);
        fail_request(s, b, cc, status, why, earliest);
    }
}

/* ---- dispatch ----------------------------------------------------------- */

void os_dispatch(os_sink *s)
{
    int64_t now = s->host->mono_ms(s->ctx);
    if (now < s->hold_until)
        return; /* the cluster asked for a pause (Retry-After) */
    if (!s->templates_ready) {
        for (int i = 0; i < OS_NTEMPLATES && s->in_flight < s->nreqs; i++) {
            os_template *t = &s->templates[i];
            if (t->state == OS_TPL_WAITING && t->not_before <= now &&
                os_http_start_template(s, i) == 0)
                t->state = OS_TPL_IN_FLIGHT;
        }
        if (!os_templates_settled(s))
            return;
        s->templates_ready = 1;
        s->host->log(s->ctx, SH_LOG_INFO, "index templates for %s* in place; sending documents",
                     s->cfg.index_prefix);
    }
    os_batch *prev = NULL, *b = s->pending.head;
    while (b && s->in_flight < s->nreqs) {
        os_batch *next = b->next;
        if (b->not_before > now) {
            prev = b;
            b = next;
            continue;
        }
        /* unlink b */
        if (prev)
            prev->next = next;
        else
            s->pending.head = next;
        if (s->pending.tail == b)
            s->pending.tail = prev;
        s->pending.n--;
        b->next = NULL;
        if (os_http_start_bulk(s, b) != 0) {
            /* no memory for headers or compression: try again next time */
            if (prev) {
                b->next = prev->next;
                prev->next = b;
                if (s->pending.tail == prev)
                    s->pending.tail = b;
                s->pending.n++;
            } else {
                os_queue_push_front(&s->pending, b);
            }
            break;
        }
        os_batch_account(s, b); /* the gzip copy now counts too */
        b = next;
    }
}

void os_run_requests(os_sink *s, int wait_ms)
{
    os_http_perform(s, wait_ms);
    os_request *rq;
    CURLcode cc;
    long status;
    while ((rq = os_http_finished(s, &cc, &status)))
        os_delivery_complete(s, rq, cc, status);
}

void os_pump(os_sink *s)
{
    os_run_requests(s, 0);
    size_t before = s->in_flight;
    os_dispatch(s);
    if (s->in_flight > before)
        os_run_requests(s, 0);
    *s->m.buffered_docs = (int64_t)s->live_docs;
    *s->m.buffered_bytes = (int64_t)s->live_bytes;
}
