/* deadletter.h - where records go that cannot be processed or delivered:
 * a Kafka topic (with headers saying why and where from) or a JSON-lines
 * file.  Nothing is dropped silently. */
#ifndef SH_DEADLETTER_H
#define SH_DEADLETTER_H
#include "pipeline.h"

int deadletter_open(pipeline *pl);
/* Copies the payload; reason "kind: detail" (kind becomes the metric label). */
sh_rc deadletter_put(pipeline *pl, instance *from, const void *payload, size_t len,
                     const char *reason, int32_t slot, int64_t offset);
/* Waits until every dead letter so far is durable; 0 ok, -1 timeout. */
int deadletter_flush(pipeline *pl, int timeout_ms);
void deadletter_close(pipeline *pl);
#endif
