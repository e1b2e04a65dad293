/* kafka_source.c - the built-in Kafka source: a consumer-group member that
 * turns messages into records (kafka_decode.c: framings, schemas, checks),
 * sends undecodable ones to the dead-letter output, pauses a partition
 * while the schema registry cannot answer, and commits offsets only when
 * the pipeline says they are durable (plugin.h: positions, commit). */
#include "kafka.h"
#include "kafka_decode.h"
#include "log.h"
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const sh_config_key ks_config[] = {
    {"topic", SH_CFG_LIST, NULL, 1, "topic(s) to consume"},
    {"group", SH_CFG_STRING, "streamhost", 0, "consumer group id (same id in several processes splits the partitions)"},
    {"offset.reset", SH_CFG_STRING, "earliest", 0, "where to start without a committed offset: earliest or latest"},
    {"bounded", SH_CFG_BOOL, "false", 0,
     "read up to the end offsets seen at start, then finish (every window fires, output is flushed and committed)"},
    {"format", SH_CFG_STRING, "avro", 0, "value format: avro"},
    {"schema.file", SH_CFG_STRING, NULL, 0,
     "the reader's Avro schema (.avsc) of the values (default: conf/ClickEvent.avsc; with schema.registry.url, the "
     "latest version of `subject` at start)"},
    {"stream", SH_CFG_STRING, NULL, 0, "stream name of the records (default: the first topic)"},
    REGISTRY_CONFIG_KEYS,
    {"subject", SH_CFG_STRING, NULL, 0,
     "registry subject whose latest version is the reader's schema when schema.file is not set (default: TOPIC-value)"},
    {"schema.registry.retry.max", SH_CFG_DURATION, "10s", 0,
     "registry unavailable: the partition pauses and retries with a backoff doubling up to this"},
    {"glue.schemas.dir", SH_CFG_STRING, NULL, 0,
     "directory of writer schemas for Glue framing, one UUID.avsc per schema version (default: every Glue message "
     "is read with schema.file)"},
    {"framing", SH_CFG_LIST, "auto", 0,
     "accepted framings, told apart by the first byte: confluent (0x00), glue (0x03), bare; auto = all three. "
     "Without bare, any other first byte is a bad_magic dead letter"},
    {"confluent.schema.ids", SH_CFG_LIST, NULL, 0, "accepted Confluent schema ids (default: any)"},
    {"glue.schema.versions", SH_CFG_LIST, NULL, 0, "accepted Glue schema version UUIDs (default: any)"},
    {"time.field", SH_CFG_STRING, "eventtimestamp", 0,
     "integer field holding the event time in ms (empty: the Kafka message timestamp)"},
    {"require.key", SH_CFG_BOOL, "true", 0, "messages without a key go to the dead-letter output"},
    {"max.message.bytes", SH_CFG_SIZE, "1MiB", 0, "larger values go to the dead-letter output"},
    {"timestamp.max_future", SH_CFG_DURATION, "1d", 0,
     "event times further than this ahead of the wall clock (or negative) go to the dead-letter output, so one bad clock cannot drag the watermark forward"},
    {"kafka.", SH_CFG_PREFIX, NULL, 0, "any librdkafka consumer property, e.g. kafka.fetch.max.bytes"},
    {NULL, 0, NULL, 0, NULL}};

struct part {
    metric *m_lag, *m_committed; /* per-partition gauges */
    rd_kafka_queue_t *pq;        /* its own fetch queue while assigned */
    int32_t slot;
    int64_t next;  /* next offset to read (last emitted + 1), -1 unknown */
    int64_t start; /* offset the assignment starts at, -1 unknown (librdkafka's reset) */
    int64_t end;   /* bounded mode: end offset seen at assignment */
    int64_t committed;
    char *last_meta; /* metadata of its last commit */
    int reached;   /* bounded mode: end reached */
    int assigned;
    int held;         /* registry unavailable: paused at `next`, retried at retry_at */
    int32_t held_id;  /* the schema id it waits for */
    int64_t retry_at, backoff;
};

struct ks {
    const sh_host *h;
    sh_ctx *ctx;
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    kafka_decoder *dec; /* messages to records (kafka_decode.c) */
    int bounded;
    int from_latest; /* offset.reset = latest */
    char **topics;
    size_t ntopics;
    struct part **parts; /* per topic, per partition */
    int32_t *nparts;
    int had_assignment;
    int closing; /* consumer_close() in progress */
    unsigned rebalances; /* rebalance callbacks so far */

    int fatal;   /* a rebalance could not be followed safely */
    int ends_final; /* bounded: end offsets sampled after same-process producers finished */
    int settled;    /* bounded: the host said the input has settled (input_settled) */
    char *group;     /* consumer group id */
    rd_kafka_message_t **msgs;
    sh_record *recs;
    sh_value *vals;
    size_t cap;
    arena arena;
    uint64_t *m_msgs, *m_bad;
    int64_t retry_max;
    int64_t *m_paused;
    int64_t *m_lag;
    int64_t *m_assigned, *m_partitions; /* this process's share of the partitions */
};

static struct part *part_of(struct ks *s, const char *topic, int32_t partition)
{
    for (size_t t = 0; t < s->ntopics; t++) {
        if (strcmp(s->topics[t], topic) != 0)
            continue;
        if (partition >= s->nparts[t]) {
            int32_t n = partition + 1;
            s->parts[t] = realloc(s->parts[t], (size_t)n * sizeof(struct part));
            for (int32_t p = s->nparts[t]; p < n; p++) {
                char label[512];
                snprintf(label, sizeof label, "topic=\"%s\",partition=\"%d\"", topic, p);
                s->parts[t][p] = (struct part){
                    .slot = s->h->slot(s->ctx, topic, p), .next = -1, .start = -1, .end = -1, .committed = -1,
                    .m_lag = metrics_get(s->ctx->name, "partition_lag", "messages behind the end of the partition", 1,
                                         label),
                    .m_committed = metrics_get(s->ctx->name, "committed_offset",
                                               "last committed offset (next to read after a restart)", 1, label)};
            }
            s->nparts[t] = n;
        }
        return &s->parts[t][partition];
    }
    return NULL;
}

/* Hands each assigned partition's committed metadata (the replay fences of
 * the snapshot its offset was committed at, by this or another process) to
 * the host before any of its records is emitted, and sets its start offset
 * in `parts` to the committed one (librdkafka would fetch it once more). */
static void announce_assigned(struct ks *s, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    if (s->closing)
        return; /* leaving the group: nothing more is read */
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int attempt = 0; attempt < 3; attempt++)
        if ((e = rd_kafka_committed(rk, c, 10000)) == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
    if (e) {
        /* Without the committed replay fences, results rebuilt from re-read
         * input would be written with part of their input: stop instead. */
        s->h->log(s->ctx, SH_LOG_ERROR,
                  "cannot read the committed offsets of the assigned partitions (%s, 3 tries of 10 s); stopping without "
                  "reading them (exit 1); check that the group coordinator is reachable", rd_kafka_err2str(e));
        s->fatal = 1;
        rd_kafka_topic_partition_list_destroy(c);
        return;
    }
    int logged = 0;
    for (int i = 0; i < c->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &c->elems[i];
        struct part *p = part_of(s, tp->topic, tp->partition);
        if (!p)
            continue;
        const char *meta = !e && tp->offset >= 0 && tp->metadata && tp->metadata_size >= 3 ? tp->metadata : NULL;
        if (meta && !logged++)
            s->h->log(s->ctx, SH_LOG_INFO, "resuming from committed offsets (replay fences of %s[%d]: %.*s)", tp->topic,
                      (int)tp->partition, (int)tp->metadata_size, meta);
        if (meta)
            s->h->log(s->ctx, SH_LOG_DEBUG, "%s[%d]: resuming from committed offset %lld (%.*s)", tp->topic,
                      (int)tp->partition, (long long)tp->offset, (int)tp->metadata_size, meta);
        s->h->slot_assigned(s->ctx, p->slot, meta, meta ? tp->metadata_size : 0);
        if (tp->offset >= 0)
            parts->elems[i].offset = tp->offset;
    }
    rd_kafka_topic_partition_list_destroy(c);
}

/* The process's share: assigned partitions, and how many the topics have. */
static void count_partitions(struct ks *s)
{
    int64_t assigned = 0, total = 0;
    for (size_t t = 0; t < s->ntopics; t++) {
        for (int32_t p = 0; p < s->nparts[t]; p++)
            assigned += s->parts[t][p].assigned;
        char err[256];
        int n = kafka_topic_partitions(s->rk, s->topics[t], err, sizeof err);
        if (n > 0)
            total += n;
    }
    *s->m_assigned = assigned;
    if (total)
        *s->m_partitions = total;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque)
{
    struct ks *s = opaque;
    s->rebalances++;
    /* The default assignor is eager (roundrobin): a rebalance revokes every
     * partition, each revocation commits what is durable and drops its
     * state, and the new assignment is read again from the committed
     * offsets, exactly as after a restart.  An incremental (cooperative)
     * rebalance would keep the partitions that stay, but a partition that
     * moves in is then behind the watermark the others pushed ahead (the
     * watermark is the minimum over the process's partitions, as Flink's),
     * and its re-read events would count as late.  Kafka Streams can keep
     * them because its event time is per partition; ours is per process. */
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        announce_assigned(s, rk, parts);
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &parts->elems[i];
            struct part *p = part_of(s, tp->topic, tp->partition);
            if (!p)
                continue;
            p->assigned = 1;
            p->reached = 0;
            p->held = 0;
            p->start = tp->offset;
            if (!s->bounded && tp->offset >= 0)
                continue;
            /* Without a committed offset, start at the low or high watermark
             * given here: left to librdkafka, the offset.reset path costs
             * about 100 ms (an offset query on a backoff timer) per
             * assignment (bench/RESULTS.md, start-up). */
            int64_t lo = 0, hi = 0;
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi, 10000);
            if (e) {
                s->h->log(s->ctx, s->bounded ? SH_LOG_ERROR : SH_LOG_WARN, "cannot read the offsets of %s[%d]: %s",
                          tp->topic, tp->partition, rd_kafka_err2str(e));
                hi = -1;
            } else if (tp->offset < 0)
                tp->offset = s->from_latest ? hi : lo; /* else librdkafka resets as auto.offset.reset says */
            p->start = tp->offset;
            if (s->bounded) {
                p->end = hi;
                if (hi >= 0 && hi <= lo)
                    p->reached = 1;
            }
        }
        s->had_assignment = 1;
        kafka_security_passed(s->ctx->name); /* the group coordinator let us in */
        s->h->log(s->ctx, SH_LOG_INFO, "assigned %d partition(s)", parts->cnt);
        if (coop)
            rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        /* a partition paused for the registry before a rebalance starts afresh */
        rd_kafka_resume_partitions(rk, parts);
        count_partitions(s); /* once per rebalance, not in the run loop */
        /* One queue per partition, read round-robin in small slices (see
         * ks_poll): from the shared consumer queue, partitions would arrive
         * one fetch chunk at a time, tens of seconds of event time apart,
         * and the watermark (the minimum over partitions) would hold every
         * session open until the slowest partition's chunk came. */
        for (int i = 0; i < parts->cnt; i++) {
            struct part *p = part_of(s, parts->elems[i].topic, parts->elems[i].partition);
            if (p && !p->pq) {
                p->pq = rd_kafka_queue_get_partition(rk, parts->elems[i].topic, parts->elems[i].partition);
                if (p->pq)
                    rd_kafka_queue_forward(p->pq, NULL);
            }
        }
    } else {
        for (int i = 0; i < parts->cnt; i++) {
            struct part *p = part_of(s, parts->elems[i].topic, parts->elems[i].partition);
            if (p && p->assigned) /* commits what is durable, then downstream drops its state */
                s->h->slot_revoked(s->ctx, p->slot);
            if (p) {
                p->assigned = 0;
                p->next = -1;
                p->start = -1;
                p->held = 0;
                if (p->pq) { /* what it fetched ahead is read again by the next owner */
                    rd_kafka_message_t *stale[256];
                    ssize_t k;
                    while ((k = rd_kafka_consume_batch_queue(p->pq, 0, stale, 256)) > 0)
                        for (ssize_t j = 0; j < k; j++)
                            rd_kafka_message_destroy(stale[j]);
                    rd_kafka_queue_destroy(p->pq);
                    p->pq = NULL;
                }
            }
        }
        /* an eager rebalance: the next assignment follows; until it does,
         * holding no partition does not mean a bounded input is finished */
        s->had_assignment = 0;
        s->h->log(s->ctx, SH_LOG_INFO, "revoked %d partition(s)", parts->cnt);
        if (coop)
            rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
    }
}

static sh_rc ks_init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct ks *s = calloc(1, sizeof *s);
    *state = s;
    s->h = h;
    s->ctx = ctx;
    char err[1024];
    const char *const *topics;
    s->ntopics = h->cfg_list(ctx, "topic", &topics);
    s->topics = calloc(s->ntopics, sizeof(char *));
    for (size_t i = 0; i < s->ntopics; i++)
        s->topics[i] = strdup(topics[i]);
    s->parts = calloc(s->ntopics, sizeof(struct part *));
    s->nparts = calloc(s->ntopics, sizeof(int32_t));
    s->dec = kafka_decoder_new(h, ctx, s->topics[0]);
    if (!s->dec)
        return SH_FATAL;
    s->retry_max = h->cfg_int(ctx, "schema.registry.retry.max");
    s->bounded = (int)h->cfg_int(ctx, "bounded");
    const char *reset = h->cfg_str(ctx, "offset.reset");
    if (strcmp(reset, "earliest") && strcmp(reset, "latest")) {
        h->log(ctx, SH_LOG_ERROR, "%s: offset.reset '%s' is not earliest or latest", h->cfg_where(ctx, "offset.reset"),
               reset);
        return SH_FATAL;
    }
    s->from_latest = strcmp(reset, "latest") == 0;
    rd_kafka_conf_t *conf = kafka_conf_new(ctx->pl, ctx, err, sizeof err);
    if (!conf) {
        h->log(ctx, SH_LOG_ERROR, "%s", err);
        return SH_FATAL;
    }
    /* our defaults, unless the user set them */
    char probe[512];
    size_t psz = sizeof probe;
    if (rd_kafka_conf_get(conf, "group.id", probe, &psz) != RD_KAFKA_CONF_OK || !*probe)
        rd_kafka_conf_set(conf, "group.id", h->cfg_str(ctx, "group"), NULL, 0);
    psz = sizeof probe;
    s->group = strdup(rd_kafka_conf_get(conf, "group.id", probe, &psz) == RD_KAFKA_CONF_OK ? probe : "streamhost");
    rd_kafka_conf_set(conf, "auto.offset.reset", reset, NULL, 0);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0); /* we commit behind durable output */
    rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", NULL, 0);
    rd_kafka_conf_set(conf, "enable.partition.eof", s->bounded ? "true" : "false", NULL, 0);
    psz = sizeof probe;
    if (rd_kafka_conf_get(conf, "partition.assignment.strategy", probe, &psz) != RD_KAFKA_CONF_OK ||
        strcmp(probe, "range,roundrobin") == 0) /* librdkafka's default: not set by the user */
        rd_kafka_conf_set(conf, "partition.assignment.strategy", "roundrobin", NULL, 0);
    else if (strstr(probe, "cooperative"))
        h->log(ctx, SH_LOG_WARN,
               "partition.assignment.strategy = %s: with several processes in the group, a partition that moves in is "
               "read behind this process's watermark and its events can count as late; the default (roundrobin) "
               "re-reads every partition from its commit at each rebalance instead", probe);
    /* Fetch defaults, unless [kafka] or kafka.* set them.  librdkafka 2.0
     * (Debian 12) stops fetching when its pre-fetch queue reaches
     * queued.min.messages and looks again only up to 1 s later: with the
     * default 100000 a pipeline slower than the broker idles ~90% of the
     * time (bench/RESULTS.md: 0.25M vs 1.8M events/s).  There a queue of
     * about one second of input avoids it, at up to
     * queued.max.messages.kbytes of memory per partition (about 430 bytes
     * per queued message).  From 2.3 on, fetch.queue.backoff.ms makes the
     * wait short, and a small queue keeps the speed at a fraction of the
     * memory (bench/RESULTS.md, the backlog row). */
    static const char *fetch_defaults_2_0[][2] = {{"queued.min.messages", "1000000"},
                                                  {"queued.max.messages.kbytes", "262144"},
                                                  {"fetch.wait.max.ms", "100"},
                                                  {"max.partition.fetch.bytes", "4194304"}};
    static const char *fetch_defaults_2_3[][2] = {{"queued.min.messages", "20000"},
                                                  {"queued.max.messages.kbytes", "8192"},
                                                  {"fetch.queue.backoff.ms", "5"},
                                                  {"fetch.wait.max.ms", "100"},
                                                  {"max.partition.fetch.bytes", "1048576"}};
    int new_fetch = (unsigned)rd_kafka_version() >= 0x020300ffu;
    const char *(*fetch_defaults)[2] = new_fetch ? fetch_defaults_2_3 : fetch_defaults_2_0;
    size_t nfetch_defaults = new_fetch ? sizeof fetch_defaults_2_3 / sizeof fetch_defaults_2_3[0]
                                       : sizeof fetch_defaults_2_0 / sizeof fetch_defaults_2_0[0];
    cfg_section *ksec = config_section(ctx->pl->cfg, SEC_KAFKA, NULL);
    for (size_t i = 0; i < nfetch_defaults; i++) {
        char key[128];
        snprintf(key, sizeof key, "kafka.%s", fetch_defaults[i][0]);
        if (!(ksec && config_get(ksec, fetch_defaults[i][0])) && !config_get(ctx->sec, key))
            rd_kafka_conf_set(conf, fetch_defaults[i][0], fetch_defaults[i][1], NULL, 0);
    }
    rd_kafka_conf_set_opaque(conf, s);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!s->rk) {
        h->log(ctx, SH_LOG_ERROR, "cannot create Kafka consumer: %s", err);
        return SH_FATAL;
    }
    rd_kafka_poll_set_consumer(s->rk);
    s->q = rd_kafka_queue_get_consumer(s->rk);
    s->m_msgs = h->counter(ctx, "messages_consumed_total", "Kafka messages consumed");
    s->m_bad = h->counter(ctx, "decode_errors_total", "messages that could not be decoded");
    s->m_paused = h->gauge(ctx, "registry_paused_partitions",
                           "partitions paused because the schema registry is unavailable (retried with backoff)");
    s->m_lag = h->gauge(ctx, "consumer_lag", "messages behind the end of the assigned partitions");
    s->m_assigned = h->gauge(ctx, "assigned_partitions", "partitions of the topic(s) this process reads");
    s->m_partitions = h->gauge(ctx, "topic_partitions", "partitions of the topic(s), over all processes of the group");
    return SH_OK;
}

static sh_rc ks_start(void *st)
{
    struct ks *s = st;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)s->ntopics);
    for (size_t i = 0; i < s->ntopics; i++) {
        kafka_ensure_topic(s->ctx->pl, s->topics[i]);
        rd_kafka_topic_partition_list_add(l, s->topics[i], RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t e = rd_kafka_subscribe(s->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        s->h->log(s->ctx, SH_LOG_ERROR, "cannot subscribe: %s", rd_kafka_err2str(e));
        return SH_FATAL;
    }
    return SH_OK;
}

/* Bounded mode: the end offsets are those once the host says the input has
 * settled (input_settled: every other source of this process finished and
 * the sinks flushed, as in the quickstart's generator -> Kafka -> analytics),
 * or the source would stop before reading its input. */
static void sample_ends(struct ks *s)
{
    for (size_t t = 0; t < s->ntopics; t++)
        for (int32_t p = 0; p < s->nparts[t]; p++) {
            struct part *pt = &s->parts[t][p];
            int64_t lo = 0, hi = -1;
            if (!pt->assigned)
                continue;
            if (rd_kafka_query_watermark_offsets(s->rk, s->topics[t], p, &lo, &hi, 10000) == 0) {
                pt->end = hi;
                /* nothing read yet: where it starts (its end of partition
                 * may have come before this sample) */
                int64_t at = pt->next >= 0 ? pt->next : pt->start;
                pt->reached = hi <= lo || (at >= 0 && at >= hi);
            }
        }
    s->ends_final = 1;
}

static int bounded_done(struct ks *s)
{
    if (!s->had_assignment || !s->ends_final)
        return 0;
    for (size_t t = 0; t < s->ntopics; t++)
        for (int32_t p = 0; p < s->nparts[t]; p++) {
            struct part *pt = &s->parts[t][p];
            if (pt->assigned && !pt->reached)
                return 0;
        }
    return 1;
}

static rd_kafka_topic_partition_list_t *one_partition(const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
    return l;
}

static void count_held(struct ks *s)
{
    int64_t n = 0;
    for (size_t t = 0; t < s->ntopics; t++)
        for (int32_t p = 0; p < s->nparts[t]; p++)
            n += s->parts[t][p].assigned && s->parts[t][p].held;
    *s->m_paused = n;
}

/* The registry cannot be asked about schema id `id` of the message at
 * `offset`: pause the partition there and rewind it, so that this message
 * and the ones after it are read again once the registry answers.  Nothing
 * is emitted, dead-lettered or committed past it meanwhile. */
static void hold(struct ks *s, struct part *p, const char *topic, int32_t partition, int64_t offset, int32_t id,
                 const char *why)
{
    p->held = 1;
    p->held_id = id;
    p->next = offset;
    p->reached = 0;
    p->backoff = 500;
    p->retry_at = s->h->mono_ms(s->ctx) + p->backoff;
    rd_kafka_topic_partition_list_t *l = one_partition(topic, partition, offset);
    rd_kafka_pause_partitions(s->rk, l);
    rd_kafka_error_t *e = rd_kafka_seek_partitions(s->rk, l, 10000);
    if (e || l->elems[0].err) {
        s->h->log(s->ctx, SH_LOG_ERROR, "%s[%d]: cannot rewind to offset %lld while the registry is unavailable: %s; "
                  "stopping (exit 1) so that no message is skipped", topic, (int)partition, (long long)offset,
                  e ? rd_kafka_error_string(e) : rd_kafka_err2str(l->elems[0].err));
        s->fatal = 1;
    }
    if (e)
        rd_kafka_error_destroy(e);
    rd_kafka_topic_partition_list_destroy(l);
    s->h->log(s->ctx, SH_LOG_WARN, "%s[%d] paused at offset %lld: %s; retrying with backoff (nothing is skipped)",
              topic, (int)partition, (long long)offset, why);
    count_held(s);
}

/* Held partitions whose time has come ask the registry again; the ones it
 * answers (found or not) resume where they paused. */
static void retry_held(struct ks *s)
{
    int64_t now = s->h->mono_ms(s->ctx);
    int failed = 0; /* one unanswered request per round: a registry that hangs costs one timeout, not one per partition */
    for (size_t t = 0; t < s->ntopics; t++)
        for (int32_t pi = 0; pi < s->nparts[t]; pi++) {
            struct part *p = &s->parts[t][pi];
            if (!p->assigned || !p->held || now < p->retry_at)
                continue;
            char err[1024] = "not asked again in this round";
            if (failed || !kafka_decoder_ask(s->dec, p->held_id, err, sizeof err)) {
                failed = 1;
                p->backoff = p->backoff * 2 > s->retry_max ? s->retry_max : p->backoff * 2;
                if (p->backoff < 100)
                    p->backoff = 100;
                p->retry_at = s->h->mono_ms(s->ctx) + p->backoff;
                s->h->log(s->ctx, SH_LOG_DEBUG, "%s[%d]: %s; next try in %lld ms", s->topics[t], (int)pi, err,
                          (long long)p->backoff);
                continue;
            }
            p->held = 0;
            rd_kafka_topic_partition_list_t *l = one_partition(s->topics[t], pi, p->next);
            rd_kafka_resume_partitions(s->rk, l);
            rd_kafka_topic_partition_list_destroy(l);
            s->h->log(s->ctx, SH_LOG_INFO, "%s[%d]: the registry answers again; resuming at offset %lld", s->topics[t],
                      (int)pi, (long long)p->next);
            count_held(s);
        }
}

static void dead(struct ks *s, const rd_kafka_message_t *m, struct part *p, const char *reason)
{
    sh_record origin = {.slot = p ? p->slot : SH_NO_SLOT, .offset = m->offset};
    (*s->m_bad)++;
    s->h->dead_letter(s->ctx, m->payload, m->len, reason, &origin);
}

/* Up to `max` messages: consumer-queue events first (rebalances, errors,
 * messages fetched before a partition's queue was detached), then the
 * partitions' own queues round-robin, a slice of each per turn, so that
 * partitions advance together.  Waits up to timeout_ms only when nothing is
 * ready. */
/* Up to `max` messages from the consumer queue, one call per message.
 * Rebalance callbacks run inside these calls; a message returned by the
 * call that ran one was fetched under the new assignment (librdkafka drops
 * outdated ones as it serves them), but messages a batch call had gathered
 * before the callback would come back with it, from partitions that were
 * just revoked and are read again from their commits: those are dropped. */
static ssize_t take_main(struct ks *s, rd_kafka_message_t **out, size_t max, int timeout_ms)
{
    size_t got = 0;
    while (got < max) {
        unsigned seq = s->rebalances;
        ssize_t k = rd_kafka_consume_batch_queue(s->q, got ? 0 : timeout_ms, out + got, 1);
        if (k < 0)
            return got ? (ssize_t)got : k;
        if (s->rebalances != seq) {
            for (size_t i = 0; i < got; i++)
                rd_kafka_message_destroy(out[i]);
            if (k > 0)
                out[0] = out[got];
            got = 0;
        }
        if (k == 0)
            break;
        got++;
    }
    return (ssize_t)got;
}

static ssize_t take(struct ks *s, size_t max, int timeout_ms)
{
    int64_t deadline = s->h->mono_ms(s->ctx) + timeout_ms;
    for (;;) {
        ssize_t n = take_main(s, s->msgs, max, 0);
        if (n < 0)
            return n;
        size_t got = (size_t)n, nq = 0;
        for (size_t t = 0; t < s->ntopics; t++)
            for (int32_t p = 0; p < s->nparts[t]; p++)
                nq += s->parts[t][p].pq != NULL;
        size_t slice = nq ? max / nq / 4 : max;
        if (slice < 64)
            slice = 64;
        for (int progress = 1; progress && got < max;) {
            progress = 0;
            for (size_t t = 0; t < s->ntopics && got < max; t++)
                for (int32_t p = 0; p < s->nparts[t] && got < max; p++) {
                    rd_kafka_queue_t *pq = s->parts[t][p].pq;
                    if (!pq)
                        continue;
                    size_t want = max - got < slice ? max - got : slice;
                    ssize_t k = rd_kafka_consume_batch_queue(pq, 0, s->msgs + got, want);
                    if (k > 0) {
                        got += (size_t)k;
                        progress = 1;
                    }
                }
        }
        if (got > 0 || s->h->mono_ms(s->ctx) >= deadline)
            return (ssize_t)got;
        /* nothing ready: wait a little on the consumer queue (events) */
        n = take_main(s, s->msgs, max, 5);
        if (n != 0)
            return n;
    }
}

static void ks_input_settled(void *st)
{
    ((struct ks *)st)->settled = 1; /* the ends are sampled at the next poll with an assignment */
}

static sh_rc ks_poll(void *st, size_t max, int timeout_ms)
{
    struct ks *s = st;
    if (s->fatal)
        return SH_FATAL;
    if (s->bounded && !s->ends_final && s->had_assignment && s->settled)
        sample_ends(s);
    if (s->bounded && bounded_done(s))
        return SH_DONE;
    if (*s->m_paused)
        retry_held(s);
    if (max > s->cap) {
        s->cap = max;
        s->msgs = realloc(s->msgs, max * sizeof *s->msgs);
        s->recs = realloc(s->recs, max * sizeof *s->recs);
        s->vals = realloc(s->vals, max * kafka_decoder_schema(s->dec)->nfields * sizeof *s->vals);
    }
    ssize_t n = take(s, max, timeout_ms);
    if (s->fatal) {
        for (ssize_t i = 0; i < n; i++)
            rd_kafka_message_destroy(s->msgs[i]);
        return SH_FATAL;
    }
    if (n < 0) {
        s->h->log(s->ctx, SH_LOG_WARN, "consume failed: %s", rd_kafka_err2str(rd_kafka_last_error()));
        return SH_RETRY;
    }
    const sh_schema *schema = kafka_decoder_schema(s->dec);
    uint32_t nf = schema->nfields;
    size_t nrec = 0;
    int64_t now = s->h->now_ms(s->ctx);
    char reason[512];
    arena_reset(&s->arena);
    const rd_kafka_topic_t *last_rkt = NULL;
    int32_t last_partition = -1;
    struct part *last_part = NULL;
    int through = 0; /* a message or an end of partition: the broker served us */
    for (ssize_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = s->msgs[i];
        struct part *p = NULL;
        if (m->rkt == last_rkt && m->partition == last_partition) {
            p = last_part; /* batches come in runs of one partition: skip the name lookup */
        } else if (m->rkt) {
            p = part_of(s, rd_kafka_topic_name(m->rkt), m->partition);
            last_rkt = m->rkt;
            last_partition = m->partition;
            last_part = p;
        }
        if (m->err) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                through = 1;
                if (p && !p->held && s->bounded && p->end >= 0 && m->offset >= p->end)
                    p->reached = 1;
            } else if (!kafka_security_error(NULL, s->rk, m->err, rd_kafka_message_errstr(m))) { /* ACLs, TLS, SASL */
                s->h->log(s->ctx, SH_LOG_WARN, "%s", rd_kafka_message_errstr(m));
            }
            continue;
        }
        through = 1;
        if (p && p->held)
            continue; /* after a message held for the registry: read again after the rewind */
        (*s->m_msgs)++;
        if (!p || !p->assigned)
            continue; /* fetched before its partition was revoked: the next owner reads it */
        if (p->next >= 0 && m->offset != p->next)
            s->h->log(s->ctx, SH_LOG_DEBUG, "%s[%d]: offset %lld after %lld", rd_kafka_topic_name(m->rkt),
                      (int)m->partition, (long long)m->offset, (long long)p->next - 1);
        p->next = m->offset + 1;
        if (s->bounded && p->end >= 0 && p->next >= p->end)
            p->reached = 1;
        sh_value *vals = &s->vals[nrec * nf];
        int64_t t;
        int32_t hold_id;
        kd_result kr = kafka_decode(s->dec, m, now, vals, &s->arena, &t, &hold_id, reason, sizeof reason);
        if (kr == KD_HOLD) {
            (*s->m_msgs)--; /* counted again when it is read again */
            hold(s, p, rd_kafka_topic_name(m->rkt), m->partition, m->offset, hold_id, reason);
            continue;
        }
        if (kr == KD_DEAD) {
            dead(s, m, p, reason);
            continue;
        }
        sh_record *r = &s->recs[nrec++];
        r->schema = schema;
        r->time = t;
        r->key.ptr = m->key ? arena_copy(&s->arena, m->key, m->key_len) : "";
        r->key.len = m->key ? m->key_len : 0;
        r->id.ptr = "";
        r->id.len = 0;
        r->values = vals;
        r->slot = p->slot;
        r->offset = m->offset;
    }
    for (ssize_t i = 0; i < n; i++)
        rd_kafka_message_destroy(s->msgs[i]);
    if (through)
        kafka_security_passed(s->ctx->name);
    sh_rc rc = s->h->emit(s->ctx, 0, s->recs, nrec);
    if (rc != SH_OK)
        return rc;
    if (s->bounded && bounded_done(s))
        return SH_DONE;
    return SH_OK;
}

static void ks_positions(void *st, int64_t *pos, size_t nslots)
{
    struct ks *s = st;
    for (size_t t = 0; t < s->ntopics; t++)
        for (int32_t p = 0; p < s->nparts[t]; p++) {
            struct part *pt = &s->parts[t][p];
            if (pt->assigned && pt->next >= 0 && (size_t)pt->slot < nslots && pt->next < pos[pt->slot])
                pos[pt->slot] = pt->next;
        }
}

static void ks_commit(void *st, const int64_t *off, const char *const *meta, size_t nslots)
{
    struct ks *s = st;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t t = 0; t < s->ntopics; t++)
        for (int32_t p = 0; p < s->nparts[t]; p++) {
            struct part *pt = &s->parts[t][p];
            if (!pt->assigned || (size_t)pt->slot >= nslots)
                continue;
            int64_t o = off[pt->slot];
            const char *m = meta && meta[pt->slot] ? meta[pt->slot] : "";
            if (o == INT64_MAX || o < 0 || (o == pt->committed && pt->last_meta && strcmp(m, pt->last_meta) == 0))
                continue;
            pt->m_committed->value = o;
            rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, s->topics[t], p);
            tp->offset = o;
            /* the replay fences travel with the offsets, atomically */
            tp->metadata = strdup(m);
            tp->metadata_size = strlen(m);
            pt->committed = o;
            free(pt->last_meta);
            pt->last_meta = strdup(m);
        }
    if (l->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_commit(s->rk, l, 0);
        if (e)
            s->h->log(s->ctx, SH_LOG_WARN, "offset commit failed: %s (retried at the next commit)", rd_kafka_err2str(e));
        else
            s->h->log(s->ctx, SH_LOG_DEBUG, "committed %d partition offset(s)", l->cnt);
        if (e)
            for (int i = 0; i < l->cnt; i++) {
                struct part *pt = part_of(s, l->elems[i].topic, l->elems[i].partition);
                if (pt)
                    pt->committed = -1;
            }
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* The exchange (exchange.c) needs the topic and group of this source. */
int kafka_source_topic(instance *src, const char **topic, const char **group)
{
    struct ks *s = src->state;
    if (!s || s->ntopics != 1)
        return -1;
    *topic = s->topics[0];
    *group = s->group;
    return 0;
}

static sh_rc ks_tick(void *st, int64_t now)
{
    struct ks *s = st;
    (void)now;
    int64_t lag = 0;
    for (size_t t = 0; t < s->ntopics; t++)
        for (int32_t p = 0; p < s->nparts[t]; p++) {
            struct part *pt = &s->parts[t][p];
            int64_t lo, hi;
            if (pt->assigned && rd_kafka_get_watermark_offsets(s->rk, s->topics[t], p, &lo, &hi) == 0 && pt->next >= 0) {
                int64_t l = hi > pt->next ? hi - pt->next : 0;
                pt->m_lag->value = l;
                lag += l;
            }
        }
    *s->m_lag = lag;
    return SH_OK;
}

static void ks_stop(void *st)
{
    struct ks *s = st;
    if (s->rk && !s->closing) {
        s->closing = 1;
        rd_kafka_consumer_close(s->rk);
    }
}

static void ks_destroy(void *st)
{
    struct ks *s = st;
    for (size_t t = 0; t < s->ntopics; t++) /* queue handles before the client */
        for (int32_t p = 0; p < s->nparts[t]; p++)
            if (s->parts[t][p].pq)
                rd_kafka_queue_destroy(s->parts[t][p].pq);
    if (s->q)
        rd_kafka_queue_destroy(s->q);
    if (s->rk)
        rd_kafka_destroy(s->rk);
    kafka_decoder_free(s->dec);
    free(s->group);
    for (size_t t = 0; t < s->ntopics; t++) {
        for (int32_t p = 0; p < s->nparts[t]; p++)
            free(s->parts[t][p].last_meta);
        free(s->topics[t]);
        free(s->parts[t]);
    }
    free(s->topics);
    free(s->parts);
    free(s->nparts);
    free(s->msgs);
    free(s->recs);
    free(s->vals);
    arena_free(&s->arena);
    free(s);
}

const sh_plugin sh_builtin_kafka_source = {
    SH_PLUGIN_MAGIC,
    .name = "kafka",
    .version = SH_VERSION,
    .kind = SH_SOURCE,
    .description = "consumes Avro records from Kafka topics (built in)",
    .config = ks_config,
    .init = ks_init,
    .start = ks_start,
    .poll = ks_poll,
    .tick = ks_tick,
    .stop = ks_stop,
    .destroy = ks_destroy,
    .positions = ks_positions,
    .commit = ks_commit,
    .input_settled = ks_input_settled,
};

const struct builtin_ext sh_builtin_kafka_source_ext = {
    .plugin = &sh_builtin_kafka_source,
};
