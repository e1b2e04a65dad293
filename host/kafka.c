/* kafka.c - shared Kafka client configuration and the embedded broker. */
#include "kafka.h"
#include "log.h"

#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rd_kafka_t *mock_rk;               /* owns the embedded cluster */
static rd_kafka_mock_cluster_t *mock;
static char *mock_bootstraps;
static char **mock_topics;
static size_t nmock_topics;

void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    int l = level <= 3 ? SH_LOG_ERROR : level <= 4 ? SH_LOG_WARN : level <= 6 ? SH_LOG_INFO : SH_LOG_DEBUG;
    char who[64];
    snprintf(who, sizeof who, "kafka:%s", fac);
    sh_log(l, who, "%s", buf);
}

int kafka_configured(pipeline *pl)
{
    if (config_section(pl->cfg, SEC_KAFKA, NULL))
        return 1;
    for (size_t i = 0; i < pl->ninsts; i++)
        if (pl->insts[i]->ext)
            return 1;
    return 0;
}

static const char *bootstrap_value(pipeline *pl)
{
    cfg_section *ks = config_section(pl->cfg, SEC_KAFKA, NULL);
    const char *v = ks ? config_get(ks, "bootstrap.servers") : NULL;
    return v ? v : "localhost:9092";
}

int kafka_is_embedded(pipeline *pl)
{
    return strcmp(bootstrap_value(pl), "embedded") == 0;
}

static int embedded_partitions(pipeline *pl)
{
    cfg_section *ks = config_section(pl->cfg, SEC_KAFKA, NULL);
    const char *v = ks ? config_get(ks, KAFKA_EMBEDDED_PARTITIONS) : NULL;
    int n = v ? atoi(v) : 4;
    return n > 0 ? n : 4;
}

static const char *embedded_start(char *err, size_t errlen)
{
    if (mock_bootstraps)
        return mock_bootstraps;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_conf_set(conf, "log_level", "3", NULL, 0); /* it only hosts the cluster: no "no bootstrap" notice */
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (!mock_rk)
        return NULL;
    mock = rd_kafka_mock_cluster_new(mock_rk, 1);
    if (!mock) {
        snprintf(err, errlen, "cannot start the embedded Kafka broker");
        return NULL;
    }
    mock_bootstraps = strdup(rd_kafka_mock_cluster_bootstraps(mock));
    LOG_INFO("embedded Kafka broker (librdkafka mock cluster, in memory, no persistence) at %s",
             mock_bootstraps);
    return mock_bootstraps;
}

void kafka_ensure_topic(pipeline *pl, const char *topic)
{
    if (!mock || !kafka_is_embedded(pl))
        return;
    for (size_t i = 0; i < nmock_topics; i++)
        if (strcmp(mock_topics[i], topic) == 0)
            return;
    rd_kafka_mock_topic_create(mock, topic, embedded_partitions(pl), 1);
    mock_topics = realloc(mock_topics, (nmock_topics + 1) * sizeof(char *));
    mock_topics[nmock_topics++] = strdup(topic);
}

int kafka_topic_partitions(rd_kafka_t *rk, const char *topic, char *err, size_t errlen)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, 10000);
    if (e) {
        snprintf(err, errlen, "cannot read metadata of %s: %s", topic, rd_kafka_err2str(e));
        n = -2;
    } else if (md->topic_cnt == 1 && !md->topics[0].err) {
        n = md->topics[0].partition_cnt;
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return n;
}

int kafka_create_embedded_topic(pipeline *pl, const char *topic, int partitions)
{
    (void)pl;
    if (!mock)
        return -1;
    for (size_t i = 0; i < nmock_topics; i++)
        if (strcmp(mock_topics[i], topic) == 0)
            return 0;
    if (rd_kafka_mock_topic_create(mock, topic, partitions, 1) != 0)
        return -1;
    mock_topics = realloc(mock_topics, (nmock_topics + 1) * sizeof(char *));
    mock_topics[nmock_topics++] = strdup(topic);
    return 0;
}

static int set_prop(rd_kafka_conf_t *conf, const char *k, const char *v, const sh_config *cfg, int line,
                    char *err, size_t errlen)
{
    char e[512], where[512];
    if (rd_kafka_conf_set(conf, k, v, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "%s: %s", config_where(cfg, line, where, sizeof where), e);
        return -1;
    }
    return 0;
}

struct each_arg {
    rd_kafka_conf_t *conf;
    instance *in;
    char *err;
    size_t errlen;
    int failed;
};

rd_kafka_conf_t *kafka_conf_new(pipeline *pl, instance *in, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    cfg_section *ks = config_section(pl->cfg, SEC_KAFKA, NULL);
    const sh_config *file = pl->cfg; /* names FILE:LINE of each property */
    for (size_t i = 0; ks && i < ks->nkv; i++) {
        cfg_kv *kv = &ks->kvs[i];
        if (strcmp(kv->key, KAFKA_EMBEDDED_PARTITIONS) == 0)
            continue;
        const char *v = kv->value;
        if (strcmp(kv->key, "bootstrap.servers") == 0 && strcmp(v, "embedded") == 0) {
            v = embedded_start(err, errlen);
            if (!v) {
                rd_kafka_conf_destroy(conf);
                return NULL;
            }
        }
        if (set_prop(conf, kv->key, v, file, kv->line, err, errlen) != 0) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    if (!ks || !config_get(ks, "bootstrap.servers"))
        rd_kafka_conf_set(conf, "bootstrap.servers", "localhost:9092", NULL, 0);
    for (size_t i = 0; in && in->sec && i < in->sec->nkv; i++) {
        cfg_kv *kv = &in->sec->kvs[i];
        if (strncmp(kv->key, "kafka.", 6) != 0)
            continue;
        const char *v = kv->value;
        if (strcmp(kv->key + 6, "bootstrap.servers") == 0 && strcmp(v, "embedded") == 0) {
            v = embedded_start(err, errlen);
            if (!v) {
                rd_kafka_conf_destroy(conf);
                return NULL;
            }
        }
        if (set_prop(conf, kv->key + 6, v, file, kv->line, err, errlen) != 0) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    return conf;
}

void kafka_validate(pipeline *pl)
{
    /* Check property names and values without starting anything. */
    cfg_section *ks = config_section(pl->cfg, SEC_KAFKA, NULL);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[512];
    for (size_t i = 0; ks && i < ks->nkv; i++) {
        cfg_kv *kv = &ks->kvs[i];
        if (strcmp(kv->key, KAFKA_EMBEDDED_PARTITIONS) == 0) {
            int n = atoi(kv->value);
            if (n < 1 || n > 1000)
                config_error(pl->cfg, kv->line, "%s: must be an integer 1..1000", kv->key);
            continue;
        }
        if (strcmp(kv->key, "bootstrap.servers") == 0 && strcmp(kv->value, "embedded") == 0)
            continue;
        if (rd_kafka_conf_set(conf, kv->key, kv->value, e, sizeof e) != RD_KAFKA_CONF_OK)
            config_error(pl->cfg, kv->line, "[kafka] %s (see librdkafka's CONFIGURATION.md)", e);
    }
    for (size_t n = 0; n < pl->ninsts; n++) {
        instance *in = pl->insts[n];
        for (size_t i = 0; in->ext && i < in->sec->nkv; i++) {
            cfg_kv *kv = &in->sec->kvs[i];
            if (strncmp(kv->key, "kafka.", 6) != 0 ||
                (strcmp(kv->key + 6, "bootstrap.servers") == 0 && strcmp(kv->value, "embedded") == 0))
                continue;
            if (rd_kafka_conf_set(conf, kv->key + 6, kv->value, e, sizeof e) != RD_KAFKA_CONF_OK)
                config_error(pl->cfg, kv->line, "[%s] %s (see librdkafka's CONFIGURATION.md)", in->sec->title, e);
        }
    }
    rd_kafka_conf_destroy(conf);
}

void kafka_shutdown(void)
{
    if (mock) {
        rd_kafka_mock_cluster_destroy(mock);
        mock = NULL;
    }
    if (mock_rk) {
        rd_kafka_destroy(mock_rk);
        mock_rk = NULL;
    }
    free(mock_bootstraps);
    mock_bootstraps = NULL;
    for (size_t i = 0; i < nmock_topics; i++)
        free(mock_topics[i]);
    free(mock_topics);
    mock_topics = NULL;
    nmock_topics = 0;
}
