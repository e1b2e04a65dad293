/* batch_queue.c - batches' life cycle: a small pool of reusable batches,
 * the byte accounting behind back-pressure, and the queue of sealed batches
 * waiting to be sent. */
#include "opensearch_sink.h"

#include <stdlib.h>

/* Reused batches keep their buffers (up to batch.max_bytes plus the gzip
 * copy each): enough for the steady cycle, few enough to stay small. */
#define SPARE_BATCHES_MAX 4

void os_batch_account(os_sink *s, os_batch *b)
{
    size_t now = b->body.len + (b->gz_valid ? b->gz.len : 0) + b->ndocs * sizeof(os_doc);
    s->live_bytes = s->live_bytes + now - b->accounted;
    b->accounted = now;
}

os_batch *os_batch_get(os_sink *s)
{
    os_batch *b = s->spare;
    if (b) {
        s->spare = b->next;
        s->nspare--;
        os_batch_reset(b);
        return b;
    }
    return calloc(1, sizeof *b);
}

void os_batch_release(os_sink *s, os_batch *b)
{
    s->live_bytes -= b->accounted;
    b->accounted = 0;
    if (s->nspare >= SPARE_BATCHES_MAX) {
        os_batch_free(b);
        return;
    }
    os_batch_reset(b);
    b->next = s->spare;
    s->spare = b;
    s->nspare++;
}

void os_queue_push(os_queue *q, os_batch *b)
{
    b->next = NULL;
    if (q->tail)
        q->tail->next = b;
    else
        q->head = b;
    q->tail = b;
    q->n++;
}

/* Retries and split halves go first: they hold the oldest documents, which
 * are what keeps acked() from advancing. */
void os_queue_push_front(os_queue *q, os_batch *b)
{
    b->next = q->head;
    q->head = b;
    if (!q->tail)
        q->tail = b;
    q->n++;
}

void os_seal_open(os_sink *s)
{
    os_batch *b = s->open;
    if (!b || b->ndocs == 0)
        return;
    s->open = NULL;
    b->not_before = 0;
    os_queue_push(&s->pending, b);
}
