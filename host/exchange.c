/* exchange.c - see exchange.h.  One exchange per transform that opens one:
 * an idempotent producer and a consumer (group = the topic's name) of the
 * topic "<group>.<instance>.<name>", which has as many partitions as the
 * upstream Kafka topic.  Its partitions are slots like a source's: their
 * offsets are committed behind the sinks' acknowledgements, with the replay
 * fences of the owner in the commit metadata, and a rebalance of the
 * exchange group moves the owner's merge state the way a rebalance of the
 * source group moves its windows. */
#include "exchange.h"
#include "clock.h"
#include "commits.h"
#include "flow.h"
#include "kafka.h"
#include "log.h"
#include "ownership.h"
#include "settings.h"
#include "watchdog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The upstream Kafka topic and group of `in` (kafka_source.c). */
int kafka_source_topic(instance *src, const char **topic, const char **group);
extern const sh_plugin sh_builtin_kafka_source;

struct xpart {
    int assigned;
    int64_t next;  /* next offset to read (last delivered + 1), -1 unknown */
    int64_t start; /* committed offset at assignment, -1 none */
};

struct exchange {
    instance *owner;
    char *topic;
    uint32_t n, src_n;
    int32_t first_slot;
    rd_kafka_t *prod, *cons;
    rd_kafka_topic_t *rkt;
    rd_kafka_queue_t *q;
    uint64_t sent, acked;
    int failed;
    int had_assignment;
    int64_t last_check; /* mono ms of the last check that the topic is there */
    int64_t opened_ms;  /* mono ms when the consumer started */
    int known;          /* read from, or found by a check with its partitions: the topic was there */
    struct xpart *parts;
    rd_kafka_message_t **msgs;
    sh_exchange_msg *xm;
    size_t cap;
    uint64_t *m_sent, *m_read;
};

/* One line, once: "exchange topic T: what (detail)"; stops the pipeline. */
static void fail(struct exchange *x, const char *what, const char *detail)
{
    if (!x->failed)
        sh_log(SH_LOG_ERROR, x->owner->name, "exchange topic %s: %s (%s)", x->topic, what, detail);
    x->failed = 1;
    x->owner->pl->failed = 1;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct exchange *x = opaque;
    if (m->err) {
        fail(x, "a partial result could not be written; stopping so that no window is wrong or lost",
             rd_kafka_err2str(m->err));
        return;
    }
    x->acked++;
    kafka_security_passed("kafka");
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct exchange *x = opaque;
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
        rd_kafka_resp_err_t e = rd_kafka_committed(rk, c, 10000);
        for (int i = 0; i < parts->cnt; i++) {
            int32_t p = parts->elems[i].partition;
            if (p < 0 || (uint32_t)p >= x->n)
                continue;
            const rd_kafka_topic_partition_t *tp = e ? NULL : &c->elems[i];
            x->parts[p].assigned = 1;
            x->parts[p].next = -1;
            x->parts[p].start = tp && tp->offset >= 0 ? tp->offset : -1;
            pipeline_slot_assigned(x->owner, x->first_slot + p, tp ? tp->metadata : NULL,
                                   tp ? tp->metadata_size : 0);
        }
        if (e)
            sh_log(SH_LOG_WARN, x->owner->name, "exchange %s: cannot read committed offsets: %s", x->topic,
                   rd_kafka_err2str(e));
        rd_kafka_topic_partition_list_destroy(c);
        x->had_assignment = 1;
        sh_log(SH_LOG_INFO, x->owner->name, "exchange %s: assigned %d partition(s)", x->topic, parts->cnt);
        if (coop)
            rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
    } else {
        for (int i = 0; i < parts->cnt; i++) {
            int32_t p = parts->elems[i].partition;
            if (p < 0 || (uint32_t)p >= x->n || !x->parts[p].assigned)
                continue;
            commits_slot_revoked(x->owner, x->first_slot + p);
            x->parts[p].assigned = 0;
            x->parts[p].next = -1;
        }
        sh_log(SH_LOG_INFO, x->owner->name, "exchange %s: revoked %d partition(s)", x->topic, parts->cnt);
        if (coop)
            rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
    }
}

/* Creates `topic` with `n` partitions unless it exists with n partitions. */
static int ensure_topic(pipeline *pl, rd_kafka_t *rk, const char *topic, int n, char *err, size_t errlen)
{
    /* the embedded cluster would create it on the first metadata request,
     * with its default partition count: create it first */
    if (kafka_is_embedded(pl) && kafka_create_embedded_topic(pl, topic, n) != 0) {
        snprintf(err, errlen, "cannot create %s in the embedded broker", topic);
        return -1;
    }
    int have = kafka_topic_partitions(rk, topic, err, errlen);
    if (have == -2)
        return -1;
    if (have > 0) {
        if (have != n) {
            snprintf(err, errlen,
                     "exchange topic %s has %d partitions, the source topic %d; delete it (no process of the group running) so that it is created again",
                     topic, have, n);
            return -1;
        }
        return 0;
    }
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, n, -1, err, errlen);
    if (!nt)
        return -1;
    /* Partials are needed until merged and committed: a week covers long
     * outages; compaction would not help (keys repeat per window). */
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "delete");
    rd_kafka_NewTopic_set_config(nt, "retention.ms", "604800000");
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    int rc = -1;
    if (!ev) {
        snprintf(err, errlen, "creating exchange topic %s timed out", topic);
    } else if (rd_kafka_event_error(ev)) {
        snprintf(err, errlen, "cannot create exchange topic %s: %s", topic, rd_kafka_event_error_string(ev));
    } else {
        size_t cnt = 0;
        const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
        rd_kafka_resp_err_t e = cnt ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            rc = 0;
            sh_log(SH_LOG_INFO, NULL, "created exchange topic %s (%d partitions, retention 7 days)", topic, n);
        } else {
            snprintf(err, errlen, "cannot create exchange topic %s: %s", topic, rd_kafka_topic_result_error_string(res[0]));
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    if (rc == 0) /* wait until the metadata shows it, so the consumer does not miss it */
        for (int i = 0; i < 50 && kafka_topic_partitions(rk, topic, err, errlen) != n; i++)
            ;
    return rc;
}

/* The Kafka source upstream of `in`, when there is exactly one. */
static instance *kafka_upstream(instance *in, int *count)
{
    instance *found = NULL;
    for (size_t i = 0; i < in->ninputs; i++) {
        instance *u = in->inputs[i].from;
        instance *f = NULL;
        if (u->kind == SH_SOURCE) {
            if (u->p == &sh_builtin_kafka_source) {
                f = u;
                (*count)++;
            }
        } else {
            f = kafka_upstream(u, count);
        }
        if (f)
            found = f;
    }
    return found;
}

static int declared(const instance *in, const char *name)
{
    for (size_t i = 0; in->p->exchanges && in->p->exchanges[i]; i++)
        if (strcmp(in->p->exchanges[i], name) == 0)
            return 1;
    return 0;
}

/* Group and topic of a Kafka source from its config (before init). */
static void source_names(instance *src, const char **group, const char **topic)
{
    cfg_section *ks = config_section(src->pl->cfg, SEC_KAFKA, NULL);
    const char *g = config_get(src->sec, "kafka.group.id");
    if (!g && ks)
        g = config_get(ks, "group.id");
    *group = g ? g : inst_cfg(src, "group", NULL);
    *topic = inst_cfg(src, "topic", NULL);
}

void exchange_describe(pipeline *pl, FILE *out)
{
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        if (in->kind != SH_TRANSFORM || !in->p->exchanges || !in->p->exchanges[0])
            continue;
        int count = 0;
        instance *src = kafka_upstream(in, &count);
        const char *group = NULL, *topic = NULL;
        if (src && count == 1)
            source_names(src, &group, &topic);
        if (!src || count != 1 || !topic || strchr(topic, ',')) {
            fprintf(out, "  %-9s %-12s no exchange: its input is not one Kafka topic, so it aggregates in this process only\n",
                    "exchange", in->name);
            continue;
        }
        for (size_t e = 0; in->p->exchanges[e]; e++)
            fprintf(out,
                    "  %-9s %-12s internal topic %s.%s.%s (created at start if missing, with the partition count of %s, "
                    "cleanup.policy=delete, retention 7 days; read by consumer group %s.%s.%s) unless [%s] sets exchange = local\n",
                    "exchange", in->name, group, in->name, in->p->exchanges[e], topic, group, in->name,
                    in->p->exchanges[e], in->sec->title);
    }
}

/* What commits.c sees of the exchanges (defined at the end of the file). */
static const commit_participant exchange_participant;

uint32_t exchange_open(instance *in, const char *name, int32_t *first_slot, uint32_t *source_partitions)
{
    pipeline *pl = in->pl;
    *first_slot = -1;
    *source_partitions = 0;
    if (!declared(in, name)) {
        sh_log(SH_LOG_ERROR, in->name, "exchange_open('%s'): the plugin does not declare that exchange in sh_plugin.exchanges", name);
        *first_slot = -2;
        return 0;
    }
    int count = 0;
    instance *src = kafka_upstream(in, &count);
    const char *topic = NULL, *group = NULL;
    if (!src || count != 1 || kafka_source_topic(src, &topic, &group) != 0)
        return 0;
    *first_slot = -2;
    char err[1024] = "";
    struct exchange *x = calloc(1, sizeof *x);
    x->owner = in;
    size_t tl = strlen(group) + strlen(in->name) + strlen(name) + 3;
    x->topic = malloc(tl);
    snprintf(x->topic, tl, "%s.%s.%s", group, in->name, name);
    pl->exchanges = realloc(pl->exchanges, (pl->nexchanges + 1) * sizeof *pl->exchanges);
    pl->exchanges[pl->nexchanges++] = x;
    pl->participant = &exchange_participant; /* its offsets and deliveries join every snapshot */
    in->exchange = x;

    rd_kafka_conf_t *conf = kafka_conf_new(pl, NULL, err, sizeof err);
    if (!conf)
        goto fail;
    static const char *pdefaults[][2] = {{"partitioner", "murmur2_random"}, {"enable.idempotence", "true"},
                                         {"linger.ms", "5"}, {"allow.auto.create.topics", "false"}};
    for (size_t i = 0; i < sizeof pdefaults / sizeof pdefaults[0]; i++)
        rd_kafka_conf_set(conf, pdefaults[i][0], pdefaults[i][1], NULL, 0);
    rd_kafka_conf_set_opaque(conf, x);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    x->prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!x->prod)
        goto fail;
    kafka_ensure_topic(pl, topic);
    int n = kafka_topic_partitions(x->prod, topic, err, sizeof err);
    if (n < 1) {
        if (n == -1)
            snprintf(err, sizeof err, "source topic %s does not exist yet; create it before starting the analytics", topic);
        goto fail;
    }
    if (ensure_topic(pl, x->prod, x->topic, n, err, sizeof err) != 0)
        goto fail;
    x->n = x->src_n = (uint32_t)n;
    x->parts = calloc(x->n, sizeof *x->parts);
    x->rkt = rd_kafka_topic_new(x->prod, x->topic, NULL);
    x->first_slot = pipeline_slot(pl, in, x->topic, 0);
    for (uint32_t p = 1; p < x->n; p++)
        pipeline_slot(pl, in, x->topic, (int32_t)p);

    /* the consumer takes the source's kafka.* keys too (session timeouts,
     * security), then the exchange's own settings */
    conf = kafka_conf_new(pl, src, err, sizeof err);
    if (!conf)
        goto fail;
    rd_kafka_conf_set(conf, "group.id", x->topic, NULL, 0);
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", NULL, 0);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
    rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", NULL, 0);
    /* eager, like the source: librdkafka 2.0's incremental rebalances were
     * seen to skip messages of partitions that stayed assigned */
    rd_kafka_conf_set(conf, "partition.assignment.strategy", "roundrobin", NULL, 0);
    rd_kafka_conf_set(conf, "allow.auto.create.topics", "false", NULL, 0);
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "20", NULL, 0);
    rd_kafka_conf_set_opaque(conf, x);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    x->cons = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!x->cons)
        goto fail;
    rd_kafka_poll_set_consumer(x->cons);
    x->q = rd_kafka_queue_get_consumer(x->cons);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, x->topic, RD_KAFKA_PARTITION_UA);
    x->opened_ms = sh_mono_ms();
    rd_kafka_resp_err_t e = rd_kafka_subscribe(x->cons, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(err, sizeof err, "cannot subscribe to %s: %s", x->topic, rd_kafka_err2str(e));
        goto fail;
    }
    char label[512];
    snprintf(label, sizeof label, "topic=\"%s\"", x->topic);
    x->m_sent = &metrics_get(in->name, "exchange_messages_sent_total", "messages written to the exchange topic", 0, label)->counter;
    x->m_read = &metrics_get(in->name, "exchange_messages_read_total", "messages read from the exchange topic", 0, label)->counter;
    sh_log(SH_LOG_INFO, in->name, "exchange through topic %s (%u partitions, consumer group %s)", x->topic, x->n, x->topic);
    *first_slot = x->first_slot;
    *source_partitions = x->src_n;
    return x->n;
fail:
    sh_log(SH_LOG_ERROR, in->name, "exchange topic %s: %s", x->topic, err);
    return 0;
}

sh_rc exchange_send(instance *in, int32_t partition, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct exchange *x = in->exchange;
    if (!x || !x->prod || x->failed)
        return SH_FATAL;
    if (partition >= (int32_t)x->n)
        return SH_FATAL;
    for (int tries = 0;; tries++) {
        if (rd_kafka_produce(x->rkt, partition < 0 ? RD_KAFKA_PARTITION_UA : partition, RD_KAFKA_MSG_F_COPY,
                             (void *)val, vlen, key, klen, NULL) == 0)
            break;
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries > 3000) {
            fail(x, "cannot queue a message", rd_kafka_err2str(e));
            return SH_FATAL;
        }
        rd_kafka_poll(x->prod, 10);
    }
    x->sent++;
    (*x->m_sent)++;
    return SH_OK;
}

static int missing_topic(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
           e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
}

/* Missing right after it was created is metadata still on its way (seen 0.1 s
 * after the create, on a broker just started; the fetcher and the 2 s check
 * both meet it): the topic is gone only once it was known to be there, or
 * after 30 s. */
static int surely_gone(const struct exchange *x)
{
    return x->known || sh_mono_ms() - x->opened_ms > 30000;
}

static long poll_one(struct exchange *x, size_t max, int timeout_ms)
{
    rd_kafka_poll(x->prod, 0);
    if (x->failed)
        return -1;
    if (max > x->cap) {
        x->cap = max;
        x->msgs = realloc(x->msgs, max * sizeof *x->msgs);
        x->xm = realloc(x->xm, max * sizeof *x->xm);
    }
    ssize_t n = rd_kafka_consume_batch_queue(x->q, timeout_ms, x->msgs, max);
    if (n <= 0)
        return 0;
    size_t k = 0;
    for (ssize_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = x->msgs[i];
        if (m->err) {
            /* a missing topic: see surely_gone */
            if (m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
                fail(x, "cannot be read: its ACLs forbid reading it; allow this principal to read it",
                     rd_kafka_err2str(m->err));
            else if (missing_topic(m->err) && surely_gone(x))
                fail(x, "cannot be read: it was deleted; recreate it only with every process of the group stopped",
                     rd_kafka_err2str(m->err));
            else if (missing_topic(m->err))
                sh_log(SH_LOG_DEBUG, x->owner->name, "exchange %s: %s (metadata not there yet; retrying)", x->topic,
                       rd_kafka_message_errstr(m));
            else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                sh_log(SH_LOG_WARN, x->owner->name, "exchange %s: %s", x->topic, rd_kafka_message_errstr(m));
            continue;
        }
        x->known = 1;
        int32_t p = m->partition;
        if (p < 0 || (uint32_t)p >= x->n || !x->parts[p].assigned) {
            sh_log(SH_LOG_DEBUG, x->owner->name, "exchange %s[%d] offset %lld: not assigned, skipped", x->topic, (int)p,
                   (long long)m->offset);
            continue; /* fetched before a revocation */
        }
        /* The exchange is written only by idempotent, non-transactional
         * producers: its offsets have no gaps, and a gap means messages this
         * merge never saw, so a window could be emitted without them. */
        int64_t expect = x->parts[p].next >= 0 ? x->parts[p].next : x->parts[p].start;
        if (expect >= 0 && m->offset != expect) {
            char detail[96];
            snprintf(detail, sizeof detail, "partition %d: offset %lld read where %lld was due", (int)p,
                     (long long)m->offset, (long long)expect);
            fail(x, "messages were skipped while reading it; stopping (exit 1) so that no window misses its input",
                 detail);
            break;
        }
        x->parts[p].next = m->offset + 1;
        x->xm[k++] = (sh_exchange_msg){.key = {m->key ? m->key : "", m->key ? m->key_len : 0},
                                        .value = {m->payload ? m->payload : "", m->len},
                                        .slot = x->first_slot + p,
                                        .offset = m->offset};
    }
    sh_rc rc = SH_OK;
    if (k && !x->failed) {
        *x->m_read += k;
        rc = x->owner->p->exchange_recv
                 ? WD_CALL(x->owner, "exchange_recv", x->owner->p->exchange_recv(x->owner->state, x->xm, k))
                 : SH_FATAL;
        if (rc != SH_OK) {
            sh_log(SH_LOG_ERROR, x->owner->name, "exchange_recv() failed (fatal); stopping");
            x->owner->pl->failed = 1;
        }
    }
    for (ssize_t i = 0; i < n; i++)
        rd_kafka_message_destroy(x->msgs[i]);
    return x->failed || rc != SH_OK ? -1 : (long)k;
}


/* Every 2 s: the topic still exists with its partition count.  A deleted
 * topic would otherwise show only as deliveries timing out minutes later
 * (or as a topic the broker re-creates with its default partitions). */
static int still_there(struct exchange *x)
{
    int64_t now = sh_mono_ms();
    if (now - x->last_check < 2000)
        return 1;
    x->last_check = now;
    char err[512] = "";
    int n = kafka_topic_partitions(x->prod, x->topic, err, sizeof err);
    if (n == -2)
        return 1; /* the broker is unreachable: librdkafka rides it out */
    if (n == (int)x->n) {
        x->known = 1;
        return 1;
    }
    if (n < 0 && !surely_gone(x)) {
        sh_log(SH_LOG_DEBUG, x->owner->name, "exchange %s: not in the metadata yet (just created); checking again",
               x->topic);
        return 1;
    }
    char detail[64];
    if (n < 0)
        snprintf(detail, sizeof detail, "it does not exist");
    else
        snprintf(detail, sizeof detail, "it has %d partitions, not %u", n, x->n);
    fail(x, "the topic was deleted or re-created while this process used it; stopping (exit 1) so that no window is "
            "wrong; start again with every process of the group stopped and the topic deleted",
         detail);
    return 0;
}

long exchange_poll(pipeline *pl, size_t max)
{
    long total = 0;
    for (size_t i = 0; i < pl->nexchanges; i++) {
        struct exchange *x = pl->exchanges[i];
        if (!x->cons)
            continue;
        if (!still_there(x))
            return -1;
        long k = poll_one(x, max, 0);
        if (k < 0)
            return -1;
        total += k;
    }
    return total;
}

uint64_t exchange_sent(pipeline *pl)
{
    uint64_t n = 0;
    for (size_t i = 0; i < pl->nexchanges; i++)
        n += pl->exchanges[i]->sent;
    return n;
}

uint64_t exchange_acked(pipeline *pl)
{
    uint64_t n = 0;
    for (size_t i = 0; i < pl->nexchanges; i++)
        n += pl->exchanges[i]->acked;
    return n;
}

int exchange_flush(pipeline *pl, int timeout_ms)
{
    for (size_t i = 0; i < pl->nexchanges; i++) {
        struct exchange *x = pl->exchanges[i];
        if (x->prod)
            rd_kafka_flush(x->prod, timeout_ms);
        if (x->failed || x->acked < x->sent)
            return -1;
    }
    return 0;
}


/* Does the owner still hold windows read from its exchange partitions
 * (held() below INT64_MAX there)?  A finished process keeps merging until
 * the processes still running have sent what those windows wait for, so
 * that the last one to finish does not leave windows behind. */
static int merging(struct exchange *x)
{
    pipeline *pl = x->owner->pl;
    if (!x->owner->p->held || !x->owner->state)
        return 0;
    int64_t *off = malloc(pl->nslots * sizeof *off);
    if (!off)
        return 0;
    for (size_t s = 0; s < pl->nslots; s++)
        off[s] = INT64_MAX;
    x->owner->p->held(x->owner->state, off, pl->nslots);
    int held = 0;
    for (uint32_t p = 0; p < x->n && !held; p++)
        held = (size_t)x->first_slot + p < pl->nslots && off[x->first_slot + p] != INT64_MAX;
    free(off);
    return held;
}

/* Has every exchange partition this process owns seen the end of every
 * source partition (the owner's slot_settled() is INT64_MAX)?  Until then
 * windows can still arrive that only this process would merge. */
static int final(struct exchange *x)
{
    if (!x->owner->p->slot_settled || !x->owner->state)
        return 1;
    for (uint32_t p = 0; p < x->n; p++)
        if (x->parts[p].assigned && x->owner->p->slot_settled(x->owner->state, x->first_slot + (int32_t)p) != INT64_MAX)
            return 0;
    return 1;
}

/* Are the partitions other processes own (or nobody owns, mid-rebalance)
 * committed up to their end, i.e. merged completely by someone?  A finished
 * process may leave only then: a partition revoked from a process that
 * left holds windows that only a member still in the group can merge. */
static int others_committed(struct exchange *x)
{
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_new((int)x->n);
    for (uint32_t p = 0; p < x->n; p++)
        if (!x->parts[p].assigned)
            rd_kafka_topic_partition_list_add(c, x->topic, (int32_t)p);
    int ok = 1;
    if (c->cnt && rd_kafka_committed(x->cons, c, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        ok = 0;
    for (int i = 0; ok && i < c->cnt; i++) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(x->cons, x->topic, c->elems[i].partition, &lo, &hi, 5000) != 0)
            ok = 0;
        else
            ok = hi <= lo || c->elems[i].offset >= hi;
    }
    rd_kafka_topic_partition_list_destroy(c);
    return ok;
}

/* Is everything this process owns read to its end, merged and final? */
static int own_done(struct exchange *x)
{
    if (!x->had_assignment)
        return 0;
    for (uint32_t p = 0; p < x->n; p++) {
        if (!x->parts[p].assigned)
            continue;
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(x->cons, x->topic, (int32_t)p, &lo, &hi, 5000) != 0)
            return 0;
        int64_t at = x->parts[p].next >= 0 ? x->parts[p].next : x->parts[p].start >= 0 ? x->parts[p].start : lo;
        if (at < hi)
            return 0;
    }
    return !merging(x) && final(x);
}

int exchange_drain(pipeline *pl, int64_t timeout_ms, void (*commit)(pipeline *pl))
{
    int64_t deadline = sh_mono_ms() + timeout_ms;
    if (exchange_flush(pl, (int)timeout_ms) != 0)
        return -1;
    for (size_t i = 0; i < pl->nexchanges; i++) {
        struct exchange *x = pl->exchanges[i];
        if (!x->cons)
            continue;
        int64_t next_check = 0;
        for (;;) {
            if (sh_mono_ms() > deadline || pl->stop_requested > 1) {
                sh_log(SH_LOG_WARN, x->owner->name,
                       "exchange %s: not merged to its end within %lld ms (a process of the group stopped before "
                       "sending its last partials?); what is not merged here is merged by the partitions' next owner",
                       x->topic, (long long)timeout_ms);
                return -1;
            }
            if (!still_there(x) || poll_one(x, 10000, 20) < 0)
                return -1;
            if (sh_mono_ms() < next_check)
                continue;
            next_check = sh_mono_ms() + 200;
            /* commit what is merged, so that the others see it as done */
            commit(pl);
            if (pl->failed)
                return -1;
            if (own_done(x) && others_committed(x))
                break;
        }
    }
    return 0;
}

void exchange_positions(pipeline *pl, int64_t *pos, size_t nslots)
{
    for (size_t i = 0; i < pl->nexchanges; i++) {
        struct exchange *x = pl->exchanges[i];
        for (uint32_t p = 0; p < x->n; p++) {
            size_t s = (size_t)x->first_slot + p;
            if (x->parts[p].assigned && x->parts[p].next >= 0 && s < nslots && x->parts[p].next < pos[s])
                pos[s] = x->parts[p].next;
        }
    }
}

void exchange_commit(pipeline *pl, const int64_t *offsets, const char *const *meta, size_t nslots)
{
    for (size_t i = 0; i < pl->nexchanges; i++) {
        struct exchange *x = pl->exchanges[i];
        if (!x->cons)
            continue;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)x->n);
        for (uint32_t p = 0; p < x->n; p++) {
            size_t s = (size_t)x->first_slot + p;
            if (!x->parts[p].assigned || s >= nslots || offsets[s] == INT64_MAX || offsets[s] < 0)
                continue;
            rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, x->topic, (int32_t)p);
            tp->offset = offsets[s];
            tp->metadata = strdup(meta && meta[s] ? meta[s] : "");
            tp->metadata_size = strlen(tp->metadata);
        }
        if (l->cnt) {
            rd_kafka_resp_err_t e = rd_kafka_commit(x->cons, l, 0);
            if (e)
                sh_log(SH_LOG_WARN, x->owner->name, "exchange %s: offset commit failed: %s (retried at the next commit)",
                       x->topic, rd_kafka_err2str(e));
        }
        rd_kafka_topic_partition_list_destroy(l);
    }
}

void exchange_close_all(pipeline *pl)
{
    for (size_t i = 0; i < pl->nexchanges; i++) {
        struct exchange *x = pl->exchanges[i];
        /* After a failure of the topic itself (deleted, say) leaving the
         * group properly can block; nothing is committed from a failed run
         * anyway, so the consumer just goes.  The watchdog bounds the rest. */
        int broken = x->failed || pl->failed;
        watchdog_enter(x->owner, "exchange close");
        if (x->cons && !broken)
            rd_kafka_consumer_close(x->cons);
        if (x->q)
            rd_kafka_queue_destroy(x->q);
        if (x->cons)
            rd_kafka_destroy_flags(x->cons, broken ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE : 0);
        if (x->rkt)
            rd_kafka_topic_destroy(x->rkt);
        if (x->prod) {
            /* after a failure nothing more is delivered: what is queued would
             * only wait for message.timeout.ms (to a deleted topic, forever) */
            if (x->failed || pl->failed)
                rd_kafka_purge(x->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            rd_kafka_flush(x->prod, 1000);
            rd_kafka_destroy(x->prod);
        }
        watchdog_leave();
        if (x->owner)
            x->owner->exchange = NULL;
        free(x->topic);
        free(x->parts);
        free(x->msgs);
        free(x->xm);
        free(x);
    }
    free(pl->exchanges);
    pl->exchanges = NULL;
    pl->nexchanges = 0;
}

static const commit_participant exchange_participant = {
    .positions = exchange_positions,
    .sent = exchange_sent,
    .acked = exchange_acked,
    .flush = exchange_flush,
    .commit = exchange_commit,
};
