/* exchange.h - internal Kafka topics through which the processes of one
 * consumer group hand partial results to each other (sh_host.exchange_open):
 * the host creates the topic, produces to it idempotently, consumes it in a
 * group of its own, and takes its offsets and its unacknowledged messages
 * into the pipeline's commits like any other input and output. */
#ifndef SH_EXCHANGE_H
#define SH_EXCHANGE_H
#include "instance.h"
#include <stdio.h>

/* sh_host.exchange_open / exchange_send for instance `in`. */
uint32_t exchange_open(instance *in, const char *name, int32_t *first_slot, uint32_t *source_partitions);
sh_rc exchange_send(instance *in, int32_t partition, const void *key, size_t klen, const void *val, size_t vlen);

/* Run loop: serve delivery reports and deliver what was read to the owners'
 * exchange_recv.  Returns the number of messages delivered, -1 on a fatal
 * error (logged; pl->failed set). */
long exchange_poll(pipeline *pl, size_t max);
/* Messages sent so far / acknowledged by the broker, over all exchanges. */
uint64_t exchange_sent(pipeline *pl);
uint64_t exchange_acked(pipeline *pl);
/* Waits up to timeout_ms for every sent message to be acknowledged: 0, or
 * -1 (timeout or failure). */
int exchange_flush(pipeline *pl, int timeout_ms);
/* Bounded runs: reads every assigned exchange partition up to its end offset
 * (after this process's own messages were acknowledged), delivering to the
 * owners, until what it owns is merged and final and every other partition
 * is committed to its end by its owner; calls commit() every 200 ms so that
 * the other processes see this one's progress.  0, or -1 on timeout or
 * failure. */
int exchange_drain(pipeline *pl, int64_t timeout_ms, void (*commit)(pipeline *pl));
/* Snapshot/commit support, as a source's positions()/commit(). */
void exchange_positions(pipeline *pl, int64_t *pos, size_t nslots);
void exchange_commit(pipeline *pl, const int64_t *offsets, const char *const *meta, size_t nslots);
/* `streamhost check`: one line per internal topic a run would create. */
void exchange_describe(pipeline *pl, FILE *out);
/* Leaves the exchange groups and frees everything. */
void exchange_close_all(pipeline *pl);
#endif
