/* kafka_decode.h - one Kafka message to one record, for the built-in Kafka
 * source: its size and key, its framing (told by the first byte), its
 * writer's schema (a Confluent id from the schema registry, a Glue UUID from
 * glue.schemas.dir) and the plan from it to the reader's schema, the Avro
 * body, the event time and its guards.  Each message ends as a record, a
 * dead letter with a reason, or "hold" while the registry cannot answer
 * (kafka_decode.c).  The consumer itself is kafka_source.c. */
#ifndef SH_KAFKA_DECODE_H
#define SH_KAFKA_DECODE_H
#include "arena.h"
#include "streamhost/plugin.h"

#include <librdkafka/rdkafka.h>

typedef struct kafka_decoder kafka_decoder;

/* Reads the source section's decoding keys (format, framing, schema.file,
 * stream, the schema registry, glue.schemas.dir, confluent.schema.ids,
 * glue.schema.versions, time.field, require.key, max.message.bytes,
 * timestamp.max_future); NULL after one line naming the key and the fix.
 * `first_topic` names the stream and the default subject. */
kafka_decoder *kafka_decoder_new(const sh_host *h, sh_ctx *ctx, const char *first_topic);
void kafka_decoder_free(kafka_decoder *d);

/* The records' schema (the reader's). */
const sh_schema *kafka_decoder_schema(const kafka_decoder *d);

typedef enum { KD_RECORD, KD_DEAD, KD_HOLD } kd_result;

/* Message `m` (without error) at wall-clock time `now`: KD_RECORD with
 * vals[schema->nfields] (strings copied into `a`) and *time; KD_DEAD with
 * the dead-letter reason ("kind: detail"); KD_HOLD with *hold_id and why
 * (the registry is unavailable: nothing is decided about the message). */
kd_result kafka_decode(kafka_decoder *d, const rd_kafka_message_t *m, int64_t now, sh_value *vals, arena *a,
                       int64_t *time, int32_t *hold_id, char *reason, size_t rlen);

/* Asks the registry about schema id `id` again (a held partition's retry):
 * 1 once it answered (found or not: the plan or the reason is kept), 0 while
 * it is unavailable (err says why). */
int kafka_decoder_ask(kafka_decoder *d, int32_t id, char *err, size_t errlen);
#endif
