/* kafka_sink.c - the built-in Kafka sink: encodes records as Avro (with a
 * Confluent, Glue or bare framing) and produces them keyed like the Java
 * producers (murmur2), idempotently.  Reports, through acked(), the prefix
 * of records whose delivery Kafka confirmed. */
#include "avro_codec.h"
#include "kafka.h"
#include "log.h"
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sh_config_key kk_config[] = {
    {"topic", SH_CFG_STRING, NULL, 1, "topic to write"},
    {"format", SH_CFG_STRING, "avro", 0, "value format: avro"},
    {"schema.file", SH_CFG_STRING, "conf/ClickEvent.avsc", 0, "Avro schema (.avsc) of the values"},
    {"framing", SH_CFG_STRING, "confluent", 0, "confluent, glue or bare"},
    {"schema.id", SH_CFG_INT, "1", 0,
     "Confluent schema id written in each message (with schema.registry.url: the id the registry gives schema.file)"},
    REGISTRY_CONFIG_KEYS,
    {"subject", SH_CFG_STRING, NULL, 0, "registry subject of the schema (default: TOPIC-value, the TopicNameStrategy)"},
    {"auto.register", SH_CFG_BOOL, "true", 0,
     "register schema.file under the subject at start; false: only look it up, and refuse to start if it is not "
     "registered"},
    {"glue.schema.version", SH_CFG_STRING, "00000000-0000-0000-0000-000000000001", 0,
     "Glue schema version UUID written in each message"},
    {"glue.compression", SH_CFG_STRING, "none", 0, "Glue body compression: none or zlib"},
    {"key.field", SH_CFG_STRING, NULL, 0, "field whose value (as text) is the message key (default: the record key)"},
    {"timestamp", SH_CFG_STRING, "now", 0,
     "Kafka message timestamp: now (produce time, as the Java producer does) or event (the record's event time; "
     "beware of topic retention with old simulated times)"},
    {"resume.field", SH_CFG_STRING, NULL, 0,
     "strictly increasing integer field of a deterministic source (e.g. globalseq): at start, skip records whose value is "
     "not above the last one already in their partition, so a restarted generator writes no event twice"},
    {"kafka.", SH_CFG_PREFIX, NULL, 0,
     "any librdkafka producer property, e.g. kafka.linger.ms, kafka.compression.type"},
    {NULL, 0, NULL, 0, NULL}};

/* Delivery accounting: one bit per record in flight, in a ring. */
#define RING_BITS 21
#define RING (1u << RING_BITS)

struct kk {
    const sh_host *h;
    sh_ctx *ctx;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    avro_codec *codec;
    framing_t framing;
    int32_t schema_id;
    unsigned char uuid[16];
    int zlib;
    const char *key_field;
    const sh_schema *key_schema;
    int key_pos;
    int event_ts; /* timestamp = event */
    uint64_t sent, acked;
    uint8_t *done; /* RING bits */
    int failed;
    sh_buf buf;
    uint64_t *m_delivered, *m_failed, *m_skipped;
    /* resume.field: last value already in each partition */
    const char *resume_field;
    const sh_schema *resume_schema;
    int resume_pos;
    int64_t *resume_last;
    int32_t resume_parts;
};

/* Marks record `seq` delivered and advances the acknowledged prefix. */
static void mark_done(struct kk *s, uint64_t seq)
{
    s->done[(seq % RING) / 8] |= (uint8_t)(1u << (seq % 8));
    while (s->acked < s->sent && (s->done[(s->acked % RING) / 8] & (1u << (s->acked % 8)))) {
        s->done[(s->acked % RING) / 8] &= (uint8_t) ~(1u << (s->acked % 8));
        s->acked++;
    }
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct kk *s = opaque;
    uint64_t seq = (uint64_t)(uintptr_t)m->_private;
    if (m->err) {
        s->failed = 1;
        (*s->m_failed)++;
        if (kafka_delivery_security_error(rk, m)) /* ACLs, TLS, SASL: one line for all of them */
            return;
        s->h->log(s->ctx, SH_LOG_ERROR, "delivery to %s failed: %s; stopping so that no record is lost",
                  rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        return;
    }
    (*s->m_delivered)++;
    kafka_security_passed(s->ctx->name); /* delivered: a pending failure has passed */
    mark_done(s, seq);
}

static void kk_subject(const sh_host *h, sh_ctx *ctx, char *out, size_t n)
{
    const char *su = h->cfg_str(ctx, "subject");
    if (su && *su)
        snprintf(out, n, "%s", su);
    else
        snprintf(out, n, "%s-value", h->cfg_str(ctx, "topic"));
}

/* schema.registry.url with Confluent framing: the schema id of schema.file,
 * registered under the subject (auto.register) or looked up.  0, or -1 with
 * the log line written; *not_registered when the registry said it is not
 * there. */
static int kk_schema_id(const sh_host *h, sh_ctx *ctx, registry *reg, int32_t *id, int *not_registered, int say)
{
    char subject[1024], err[1024];
    kk_subject(h, ctx, subject, sizeof subject);
    const char *sf = h->cfg_str(ctx, "schema.file");
    char *text = registry_read_file(sf, NULL);
    *not_registered = 0;
    if (!text) {
        h->log(ctx, SH_LOG_ERROR, "%s: cannot read %s: %s", h->cfg_where(ctx, "schema.file"), sf, strerror(errno));
        return -1;
    }
    int reg_it = (int)h->cfg_int(ctx, "auto.register");
    reg_rc rc = reg_it ? registry_register(reg, subject, text, id, err, sizeof err)
                       : registry_lookup(reg, subject, text, id, err, sizeof err);
    free(text);
    if (rc == REG_OK) {
        if (say)
            h->log(ctx, SH_LOG_INFO, "schema %s is %s under subject '%s' as schema id %d", sf,
                   reg_it ? "registered" : "found", subject, (int)*id);
        return 0;
    }
    *not_registered = rc == REG_NOT_FOUND;
    if (!reg_it && rc == REG_NOT_FOUND)
        h->log(ctx, SH_LOG_ERROR, "%s: auto.register = false and %s is not registered under subject '%s' at %s; "
               "register it, or set auto.register = true", h->cfg_where(ctx, "auto.register"), sf, subject,
               registry_url(reg));
    else
        h->log(ctx, SH_LOG_ERROR, "%s: cannot %s %s under subject '%s': %s", h->cfg_where(ctx, "schema.registry.url"),
               reg_it ? "register" : "look up", sf, subject, err);
    return -1;
}

/* auto.register = false: a schema the registry does not have is a config
 * error (exit 2 before anything starts, `check` says it too). */
static sh_rc kk_validate(const sh_host *h, sh_ctx *ctx)
{
    const char *const *urls;
    if (h->cfg_int(ctx, "auto.register") || h->cfg_list(ctx, "schema.registry.url", &urls) == 0 ||
        strcmp(h->cfg_str(ctx, "framing"), "confluent") != 0)
        return SH_OK;
    char err[1024];
    registry *reg = registry_from_config(h, ctx, err, sizeof err);
    if (!reg) {
        h->log(ctx, SH_LOG_ERROR, "%s", err);
        return SH_FATAL;
    }
    int32_t id;
    int missing;
    int rc = kk_schema_id(h, ctx, reg, &id, &missing, 0);
    registry_free(reg);
    return rc == 0 || !missing ? SH_OK : SH_FATAL; /* unreachable: init says so (exit 1) */
}

static sh_rc kk_init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct kk *s = calloc(1, sizeof *s);
    *state = s;
    s->h = h;
    s->ctx = ctx;
    char err[1024];
    if (strcmp(h->cfg_str(ctx, "format"), "avro") != 0) {
        h->log(ctx, SH_LOG_ERROR, "%s: format '%s' is not supported (use avro)", h->cfg_where(ctx, "format"),
               h->cfg_str(ctx, "format"));
        return SH_FATAL;
    }
    if (framing_parse(h->cfg_str(ctx, "framing"), &s->framing) != 0 || s->framing == FRAMING_AUTO) {
        h->log(ctx, SH_LOG_ERROR, "%s: framing '%s' is not one of confluent, glue, bare", h->cfg_where(ctx, "framing"),
               h->cfg_str(ctx, "framing"));
        return SH_FATAL;
    }
    s->schema_id = (int32_t)h->cfg_int(ctx, "schema.id");
    if (uuid_parse(h->cfg_str(ctx, "glue.schema.version"), s->uuid) != 0) {
        h->log(ctx, SH_LOG_ERROR, "%s: glue.schema.version is not a UUID", h->cfg_where(ctx, "glue.schema.version"));
        return SH_FATAL;
    }
    const char *gc = h->cfg_str(ctx, "glue.compression");
    if (strcmp(gc, "none") && strcmp(gc, "zlib")) {
        h->log(ctx, SH_LOG_ERROR, "%s: glue.compression '%s' is not none or zlib", h->cfg_where(ctx, "glue.compression"), gc);
        return SH_FATAL;
    }
    s->zlib = strcmp(gc, "zlib") == 0;
    registry *reg = registry_from_config(h, ctx, err, sizeof err);
    if (!reg && *err) {
        h->log(ctx, SH_LOG_ERROR, "%s", err);
        return SH_FATAL;
    }
    if (reg && s->framing != FRAMING_CONFLUENT)
        h->log(ctx, SH_LOG_WARN, "%s: schema.registry.url is used with framing = confluent only",
               h->cfg_where(ctx, "schema.registry.url"));
    if (reg && s->framing == FRAMING_CONFLUENT) {
        int missing;
        int rc = kk_schema_id(h, ctx, reg, &s->schema_id, &missing, 1);
        registry_free(reg);
        if (rc != 0)
            return SH_FATAL;
    } else {
        registry_free(reg);
    }
    s->codec = avro_codec_new(h->cfg_str(ctx, "schema.file"), h->cfg_str(ctx, "topic"), err, sizeof err);
    if (!s->codec) {
        h->log(ctx, SH_LOG_ERROR, "%s: %s", h->cfg_where(ctx, "schema.file"), err);
        return SH_FATAL;
    }
    const char *ts = h->cfg_str(ctx, "timestamp");
    if (strcmp(ts, "now") && strcmp(ts, "event")) {
        h->log(ctx, SH_LOG_ERROR, "%s: timestamp '%s' is not now or event", h->cfg_where(ctx, "timestamp"), ts);
        return SH_FATAL;
    }
    s->event_ts = strcmp(ts, "event") == 0;
    s->key_field = h->cfg_str(ctx, "key.field");
    s->resume_field = h->cfg_str(ctx, "resume.field");
    if (s->resume_field && !*s->resume_field)
        s->resume_field = NULL;
    s->done = calloc(RING / 8, 1);
    rd_kafka_conf_t *conf = kafka_conf_new(ctx->pl, ctx, err, sizeof err);
    if (!conf) {
        h->log(ctx, SH_LOG_ERROR, "%s", err);
        return SH_FATAL;
    }
    /* our defaults, unless [kafka] or kafka.* set them */
    static const char *defaults[][2] = {{"partitioner", "murmur2_random"}, {"enable.idempotence", "true"},
                                        {"linger.ms", "20"}, {"batch.num.messages", "10000"},
                                        {"queue.buffering.max.messages", "500000"}};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        int user = 0;
        char key[128];
        snprintf(key, sizeof key, "kafka.%s", defaults[i][0]);
        cfg_section *ksec = config_section(ctx->pl->cfg, SEC_KAFKA, NULL);
        user = (ksec && config_get(ksec, defaults[i][0])) || config_get(ctx->sec, key);
        if (!user)
            rd_kafka_conf_set(conf, defaults[i][0], defaults[i][1], NULL, 0);
    }
    rd_kafka_conf_set_opaque(conf, s);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!s->rk) {
        h->log(ctx, SH_LOG_ERROR, "cannot create Kafka producer: %s", err);
        return SH_FATAL;
    }
    s->m_delivered = h->counter(ctx, "messages_delivered_total", "messages Kafka acknowledged");
    s->m_failed = h->counter(ctx, "delivery_failures_total", "messages Kafka refused");
    s->m_skipped = h->counter(ctx, "resume_skipped_total", "records skipped because the topic already held them (resume.field)");
    return SH_OK;
}

/* resume.field: read the last message of every partition of the topic and
 * remember the field's value there. */
static sh_rc resume_scan(struct kk *s, const char *topic)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(s->rk, 0, s->rkt, &md, 10000);
    rd_kafka_resp_err_t te = !e && md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!e && te == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        rd_kafka_metadata_destroy(md);
        s->h->log(s->ctx, SH_LOG_INFO, "resume: topic %s does not exist yet; nothing to skip", topic);
        return SH_OK;
    }
    if (e || md->topic_cnt != 1 || te) {
        s->h->log(s->ctx, SH_LOG_ERROR, "resume: cannot read the partitions of %s: %s", topic,
                  rd_kafka_err2str(e ? e : te ? te : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
        if (md)
            rd_kafka_metadata_destroy(md);
        return SH_FATAL;
    }
    s->resume_parts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    s->resume_last = calloc((size_t)s->resume_parts, sizeof(int64_t));
    char err[512];
    rd_kafka_conf_t *conf = kafka_conf_new(s->ctx->pl, NULL, err, sizeof err);
    if (!conf) {
        s->h->log(s->ctx, SH_LOG_ERROR, "resume: %s", err);
        return SH_FATAL;
    }
    /* the simple (group-less) consumer API: read one message per partition */
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", NULL, 0);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!c) {
        s->h->log(s->ctx, SH_LOG_ERROR, "resume: cannot create a consumer: %s", err);
        return SH_FATAL;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(c, topic, NULL);
    const sh_schema *sch = avro_codec_schema(s->codec);
    int pos = sh_schema_field(sch, s->resume_field);
    arena a = {0};
    sh_value vals[64];
    sh_rc rc = SH_OK;
    int any = 0;
    int8_t *started = calloc((size_t)s->resume_parts, 1);
    for (int32_t p = 0; p < s->resume_parts && rc == SH_OK; p++) { /* start all fetches first */
        int64_t lo = 0, hi = 0;
        s->resume_last[p] = INT64_MIN;
        if (rd_kafka_query_watermark_offsets(c, topic, p, &lo, &hi, 10000) != 0) {
            s->h->log(s->ctx, SH_LOG_ERROR, "resume: cannot read the end offset of %s[%d]", topic, p);
            rc = SH_FATAL;
        } else if (hi > lo) {
            rd_kafka_consume_start(rkt, p, hi - 1);
            started[p] = 1;
        }
    }
    for (int32_t p = 0; p < s->resume_parts && rc == SH_OK; p++) {
        if (!started[p])
            continue;
        rd_kafka_message_t *m = NULL;
        for (int tries = 0; tries < 100 && !m; tries++) {
            m = rd_kafka_consume(rkt, p, 100);
            if (m && m->err) {
                rd_kafka_message_destroy(m);
                m = NULL;
            }
        }
        char reason[256];
        arena_reset(&a);
        if (!m) {
            s->h->log(s->ctx, SH_LOG_ERROR, "resume: could not read the last message of %s[%d]", topic, p);
            rc = SH_FATAL;
        } else if (sch->nfields <= 64 && pos >= 0 &&
                   avro_codec_decode(s->codec, FRAMING_AUTO, m->payload, m->len, vals, &a, reason, sizeof reason) == 0 &&
                   vals[pos].type == SH_INT) {
            s->resume_last[p] = vals[pos].u.i;
            any++;
        } else {
            s->h->log(s->ctx, SH_LOG_WARN, "resume: the last message of %s[%d] has no readable %s; not skipping there",
                      topic, p, s->resume_field);
        }
        if (m)
            rd_kafka_message_destroy(m);
    }
    for (int32_t p = 0; p < s->resume_parts; p++)
        if (started[p])
            rd_kafka_consume_stop(rkt, p);
    free(started);
    arena_free(&a);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(c);
    if (rc == SH_OK)
        s->h->log(s->ctx, SH_LOG_INFO,
                  "resume: %d of %d partition(s) of %s already hold data; records up to their last %s are skipped", any,
                  s->resume_parts, topic, s->resume_field);
    return rc;
}

static sh_rc kk_start(void *st)
{
    struct kk *s = st;
    const char *topic = s->h->cfg_str(s->ctx, "topic");
    kafka_ensure_topic(s->ctx->pl, topic);
    s->rkt = rd_kafka_topic_new(s->rk, topic, NULL);
    if (!s->rkt)
        return SH_FATAL;
    return s->resume_field ? resume_scan(s, topic) : SH_OK;
}

/* resume.field: is this record already in its partition? */
static int already_written(struct kk *s, const sh_record *r, const char *key, size_t klen)
{
    if (r->schema != s->resume_schema) {
        s->resume_schema = r->schema;
        s->resume_pos = sh_schema_field(r->schema, s->resume_field);
    }
    if (s->resume_pos < 0 || r->values[s->resume_pos].type != SH_INT || !s->resume_parts)
        return 0;
    int32_t p = rd_kafka_msg_partitioner_murmur2_random(s->rkt, key, klen, s->resume_parts, NULL, NULL);
    return p >= 0 && p < s->resume_parts && r->values[s->resume_pos].u.i <= s->resume_last[p];
}

/* The decimal text of v at buf (room for 20 characters); returns its
 * length.  By hand: snprintf for every message key was about 7% of the
 * generator's samples (bench/produce.ini). */
static size_t key_decimal(char *buf, int64_t v)
{
    char tmp[20];
    size_t n = 0, o = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[o++] = '-';
    while (n)
        buf[o++] = tmp[--n];
    return o;
}

static sh_rc kk_process(void *st, uint32_t input, const sh_record *recs, size_t n)
{
    struct kk *s = st;
    char err[512], keybuf[32];
    if (s->failed)
        return SH_FATAL;
    for (size_t i = 0; i < n; i++) {
        const sh_record *r = &recs[i];
        if (avro_codec_encode(s->codec, s->framing, s->schema_id, s->uuid, s->zlib, r, &s->buf, err, sizeof err)) {
            /* a record that does not fit the schema is a pipeline bug, not bad input */
            s->h->log(s->ctx, SH_LOG_ERROR, "record of stream '%s' does not fit %s: %s", r->schema->name,
                      s->h->cfg_str(s->ctx, "schema.file"), err);
            return SH_FATAL;
        }
        const char *key = r->key.ptr;
        size_t klen = r->key.len;
        if (s->key_field) {
            if (r->schema != s->key_schema) {
                s->key_schema = r->schema;
                s->key_pos = sh_schema_field(r->schema, s->key_field);
            }
            if (s->key_pos >= 0) {
                const sh_value *v = &r->values[s->key_pos];
                if (v->type == SH_INT) {
                    klen = key_decimal(keybuf, v->u.i);
                    key = keybuf;
                } else if (v->type == SH_STRING) {
                    key = v->u.s.ptr;
                    klen = v->u.s.len;
                }
            }
        }
        if (s->resume_field && already_written(s, r, key, klen)) {
            (*s->m_skipped)++;
            mark_done(s, s->sent++); /* durable already: acknowledged at once */
            continue;
        }
        /* never more records in flight than the delivery ring can track */
        while (s->sent - s->acked >= RING - 1 && !s->failed)
            rd_kafka_poll(s->rk, 10);
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                s->rk, RD_KAFKA_V_RKT(s->rkt), RD_KAFKA_V_VALUE(s->buf.data, s->buf.len),
                RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_TIMESTAMP(s->event_ts && r->time > 0 ? r->time : 0), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)s->sent),
                RD_KAFKA_V_END);
            if (!e)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                s->h->log(s->ctx, SH_LOG_ERROR, "cannot produce: %s", rd_kafka_err2str(e));
                return SH_FATAL;
            }
            rd_kafka_poll(s->rk, 10); /* back-pressure: wait for the queue to drain */
            if (s->failed)
                return SH_FATAL;
        }
        s->sent++;
    }
    rd_kafka_poll(s->rk, 0);
    return SH_OK;
}

static sh_rc kk_tick(void *st, int64_t now)
{
    struct kk *s = st;
    (void)now;
    rd_kafka_poll(s->rk, 0);
    return s->failed ? SH_FATAL : SH_OK;
}

static sh_rc kk_flush(void *st, int final)
{
    struct kk *s = st;
    (void)final;
    rd_kafka_flush(s->rk, 100);
    if (s->failed)
        return SH_FATAL;
    return s->acked == s->sent ? SH_OK : SH_RETRY;
}

static uint64_t kk_acked(void *st)
{
    struct kk *s = st;
    rd_kafka_poll(s->rk, 0);
    return s->acked;
}

static int kk_busy(void *st)
{
    struct kk *s = st;
    return rd_kafka_outq_len(s->rk) > 400000;
}

static void kk_destroy(void *st)
{
    struct kk *s = st;
    if (s->rk) {
        rd_kafka_flush(s->rk, 5000);
        if (s->rkt)
            rd_kafka_topic_destroy(s->rkt);
        rd_kafka_destroy(s->rk);
    }
    avro_codec_free(s->codec);
    sh_buf_free(&s->buf);
    free(s->done);
    free(s->resume_last);
    free(s);
}

const sh_plugin sh_builtin_kafka_sink = {
    SH_PLUGIN_MAGIC,
    .name = "kafka",
    .version = SH_VERSION,
    .kind = SH_SINK,
    .description = "produces records to a Kafka topic as Avro, keyed, idempotent (built in)",
    .config = kk_config,
    .init = kk_init,
    .validate = kk_validate,
    .start = kk_start,
    .process = kk_process,
    .tick = kk_tick,
    .flush = kk_flush,
    .acked = kk_acked,
    .busy = kk_busy,
    .destroy = kk_destroy,
};
