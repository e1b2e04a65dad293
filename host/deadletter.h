/* deadletter.h - where records go that cannot be processed or delivered:
 * a Kafka topic (with headers saying why and where from) or a JSON-lines
 * file.  Nothing is dropped silently.
 *
 * The writer's own failures follow [streamhost] dead_letter.on_error:
 *   fail (default)  a dead-letter file that cannot be opened refuses the
 *                   start (deadletter_open returns -1, one line naming the
 *                   path); a dead letter that cannot be written or flushed
 *                   (ENOSPC, EIO, a Kafka delivery failure) makes
 *                   deadletter_put return SH_FATAL and marks the pipeline
 *                   failed, so the run stops with exit 1 and commits nothing
 *                   past it, even when the caller ignores the result;
 *   log             such failures are logged (the first, then every 1000th),
 *                   counted in host dead_letters_lost_total, and the run
 *                   goes on: an explicit choice to lose those records. */
#ifndef SH_DEADLETTER_H
#define SH_DEADLETTER_H
#include "instance.h"

/* Opens the output named by the pipeline's [streamhost] settings.  0 ok, -1
 * when the run must not start (logged). */
int deadletter_open(pipeline *pl);
/* Copies the payload; reason "kind: detail" (kind becomes the metric label).
 * SH_OK once the record is written (file: handed to the kernel; Kafka:
 * queued, durable at deadletter_flush), SH_FATAL per dead_letter.on_error. */
sh_rc deadletter_put(pipeline *pl, instance *from, const void *payload, size_t len,
                     const char *reason, int32_t slot, int64_t offset);
/* Waits until every dead letter so far is durable; 0 ok, -1 timeout or a
 * failed write (the caller then commits nothing). */
int deadletter_flush(pipeline *pl, int timeout_ms);
/* Closes the output; removes a dead-letter file that this run created and
 * never wrote to, so a clean run leaves no empty file. */
void deadletter_close(pipeline *pl);
#endif
