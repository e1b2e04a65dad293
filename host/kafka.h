/* kafka.h - client configuration shared by every Kafka component: the
 * [kafka] section plus a component's `kafka.` keys pass straight to
 * librdkafka; `bootstrap.servers = embedded` starts librdkafka's in-process
 * mock cluster once per process. */
#ifndef SH_KAFKA_H
#define SH_KAFKA_H
#include "instance.h"
#include <librdkafka/rdkafka.h>
#include <stdio.h>

/* Keys of [kafka] that are the host's, not librdkafka's (a component's
 * kafka.auth.timeout too). */
#define KAFKA_EMBEDDED_PARTITIONS "embedded.partitions"
/* How long a Kafka client may go on failing its TLS handshake or
 * authentication for a cause that may pass, before the run ends (default
 * 30 s); definite refusals end it at once (docs/security.md). */
#define KAFKA_AUTH_TIMEOUT "auth.timeout"
/* The oldest librdkafka whose SCRAM a current Kafka accepts (librdkafka
 * issue 4895: 2.0.2 sends its client nonce twice). */
#define KAFKA_SCRAM_MIN_VERSION 0x020601ffu

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
/* `streamhost --version`: "librdkafka VERSION (FEATURES)". */
void kafka_print_version(FILE *f);
/* A security failure of a Kafka client (TLS, SASL, ACLs): when `err` is one
 * (errstr: librdkafka's text), logs ONE line naming `who` (a component name,
 * or NULL: the client's own name) and the cause, marks /health/ready not
 * ready and, for a definite refusal (or once kafka.auth.timeout has passed
 * since the first), fails the run (the pipeline stops with exit 1, nothing
 * committed past it).  Returns 1 when `err` was such a failure (the caller
 * logs nothing more), else 0.  Thread-safe. */
int kafka_security_error(const char *who, rd_kafka_t *rk, rd_kafka_resp_err_t err, const char *errstr);
/* kafka_security_error() for a failed delivery report ("delivery to TOPIC
 * failed: ..."): 1 when it was a security failure (reported), else 0. */
int kafka_delivery_security_error(rd_kafka_t *rk, const rd_kafka_message_t *m);
/* The run failed for a security cause: its text (for error messages of
 * callers that saw a consequence, such as a metadata timeout), else NULL. */
const char *kafka_security_cause(void);
/* A Kafka client of `who` (a component name) got through (a message
 * consumed, delivered, a partition assigned): a failure that may pass, if
 * one is pending, has passed; /health/ready is ready again.  Cheap when
 * nothing is pending (one relaxed load). */
void kafka_security_passed(const char *who);
/* From the run loop: fails the run once a pending failure has lasted
 * kafka.auth.timeout, even if librdkafka reports nothing more. */
void kafka_security_tick(void);
/* The cause of a failure that may pass and is still pending, else NULL: a
 * run stopped meanwhile exits 1 (the service never worked). */
const char *kafka_security_pending(void);
/* Logs librdkafka's own log lines through the host logger. */
void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);
#endif
