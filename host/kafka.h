/* kafka.h - client configuration shared by every Kafka component: the
 * [kafka] section plus a component's `kafka.` keys pass straight to
 * librdkafka; `bootstrap.servers = embedded` starts librdkafka's in-process
 * mock cluster once per process. */
#ifndef SH_KAFKA_H
#define SH_KAFKA_H
#include "pipeline.h"
#include <librdkafka/rdkafka.h>

/* Keys of [kafka] that are the host's, not librdkafka's. */
#define KAFKA_EMBEDDED_PARTITIONS "embedded.partitions"

/* New client config: [kafka] keys, then `in`'s "kafka."-prefixed keys (in may
 * be NULL).  Resolves "embedded".  NULL with a "FILE:LINE: ..." message. */
rd_kafka_conf_t *kafka_conf_new(pipeline *pl, instance *in, char *err, size_t errlen);
/* Nonzero when the config has a [kafka] section or a Kafka component. */
int kafka_configured(pipeline *pl);
/* Nonzero when bootstrap.servers is "embedded". */
int kafka_is_embedded(pipeline *pl);
/* With the embedded cluster: create `topic` (embedded.partitions) if new. */
void kafka_ensure_topic(pipeline *pl, const char *topic);
/* Partition count of `topic` (a metadata request through `rk`, which must not
 * create it): -1 when it does not exist, -2 (with err) when the broker did
 * not answer. */
int kafka_topic_partitions(rd_kafka_t *rk, const char *topic, char *err, size_t errlen);
/* With the embedded cluster: create `topic` with `partitions`; 0 or -1. */
int kafka_create_embedded_topic(pipeline *pl, const char *topic, int partitions);
/* Checks every librdkafka property in the config (config errors). */
void kafka_validate(pipeline *pl);
/* Tears down the embedded cluster. */
void kafka_shutdown(void);
/* Logs librdkafka's own log lines through the host logger. */
void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);
#endif
