/* kafka.c - shared Kafka client configuration and the embedded broker. */
#define _GNU_SOURCE /* strcasestr */
#include "kafka.h"
#include "clock.h"
#include "cfgvalue.h"
#include "http_metrics.h"
#include "log.h"
#include "msk_iam.h"

#include <librdkafka/rdkafka_mock.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static rd_kafka_t *mock_rk;               /* owns the embedded cluster */
static rd_kafka_mock_cluster_t *mock;
static char *mock_bootstraps;
static char **mock_topics;
static size_t nmock_topics;

/* --- security failures (docs/security.md) -------------------------------
 * TLS, SASL and ACL refusals reach us three ways: librdkafka's error
 * callback, its log lines (from its own threads) and consumer or delivery
 * errors.  Whichever comes first is logged, once, as one line naming the
 * component and the cause; a definite refusal (wrong password, a
 * certificate not accepted, a missing ACL) fails the run at once, any other
 * (a TLS handshake that broke off) once kafka.auth.timeout has passed. */
static pthread_mutex_t sec_mu = PTHREAD_MUTEX_INITIALIZER;
static pipeline *sec_pl;                  /* the process's pipeline */
static int64_t auth_timeout_ms = 30000;   /* [kafka] auth.timeout */
static int sec_reported, sec_failed;      /* the one line is out; the run failed */
static int64_t sec_since;                 /* first failure that may pass (monotonic ms) */
static char sec_cause[768];
static char sec_x509[128]; /* OpenSSL's reason for the last certificate refused */

/* 0: not a security failure; 1: one that may pass; 2: a definite refusal. */
static int sec_classify(rd_kafka_resp_err_t err, const char *text, const char **what, const char **hint)
{
    const char *t = text ? text : "";
    switch (err) {
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
        *what = "not authorized";
        *hint = "the user lacks an ACL for it: grant it, or use a user that has one";
        return 2;
    default:
        break;
    }
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || strstr(t, "SASL authentication error") ||
        strstr(t, "SASL authentication failed")) {
        *what = "authentication failed";
        *hint = "check sasl.username, sasl.password and sasl.mechanism";
        return strstr(t, "Disconnected") || strstr(t, "timed out") ? 1 : 2;
    }
    if (err == RD_KAFKA_RESP_ERR__SSL || strstr(t, "SSL handshake failed") || strstr(t, "certificate verify failed") ||
        strstr(t, "verification callback failed") || (err == RD_KAFKA_RESP_ERR__TRANSPORT && strstr(t, "SSL"))) {
        if (strstr(t, "certificate verify failed") || strstr(t, "broker certificate could not be verified") ||
            strstr(t, "verification callback failed")) {
            *what = "TLS: the broker's certificate was not accepted";
            if (strcasestr(t, "hostname") || strcasestr(t, "mismatch") || strcasestr(sec_x509, "mismatch"))
                *hint = "its names (SAN) do not include the host in bootstrap.servers: connect by a name the "
                        "certificate holds";
            else
                *hint = "it is not signed by the CA in ssl.ca.location (or the system's CAs): set ssl.ca.location to "
                        "the CA that signed it";
            return 2;
        }
        *what = "TLS handshake failed";
        *hint = "is the listener SASL_SSL/SSL? check security.protocol and the ssl.* settings";
        return 1;
    }
    if (strstr(t, "in state SSL_HANDSHAKE")) {
        *what = "TLS handshake failed";
        *hint = "is the listener SASL_SSL/SSL? check security.protocol and the ssl.* settings";
        return 1;
    }
    if (strstr(t, "in state AUTH_")) {
        *what = "authentication failed";
        *hint = "check sasl.username, sasl.password and sasl.mechanism";
        return 1;
    }
    return 0;
}

/* Called by librdkafka for each certificate of the broker's chain after
 * OpenSSL checked it: changes nothing, keeps OpenSSL's reason for a refusal
 * ("Hostname mismatch", "unable to get local issuer certificate") for the
 * message. */
static int cert_verify_cb(rd_kafka_t *rk, const char *broker_name, int32_t broker_id, int *x509_error, int depth,
                          const char *buf, size_t size, char *errstr, size_t errstr_size, void *opaque)
{
    (void)rk, (void)broker_id, (void)depth, (void)buf, (void)size, (void)opaque;
    if (*x509_error == 0)
        return 1;
    const char *why = X509_verify_cert_error_string(*x509_error);
    pthread_mutex_lock(&sec_mu);
    snprintf(sec_x509, sizeof sec_x509, "%s", why);
    pthread_mutex_unlock(&sec_mu);
    snprintf(errstr, errstr_size, "%s: %s", broker_name, why);
    return 0;
}

/* "streamhost.NAME#consumer-1" -> NAME (client.id set by kafka_conf_new). */
static void sec_who(const rd_kafka_t *rk, char *out, size_t n)
{
    const char *name = rk ? rd_kafka_name(rk) : "kafka";
    if (strncmp(name, "streamhost.", 11) == 0) {
        size_t l = strcspn(name + 11, "#");
        snprintf(out, n, "%.*s", (int)l, name + 11);
    } else {
        snprintf(out, n, "kafka"); /* dead letters, exchange: the [kafka] section's client */
    }
}

#define SEC_BLOCKED "kafka security failure"

static void sec_fail_locked(void)
{
    sec_failed = 1;
    if (sec_pl)
        sec_pl->failed = 1; /* the run loop stops; commits stop with it (commits.c) */
    http_metrics_set_blocked(SEC_BLOCKED);
}

int kafka_security_error(const char *who, rd_kafka_t *rk, rd_kafka_resp_err_t err, const char *errstr)
{
    const char *what = NULL, *hint = NULL;
    int kind = sec_classify(err, errstr, &what, &hint);
    if (!kind)
        return 0;
    char name[128];
    if (who)
        snprintf(name, sizeof name, "%s", who);
    else
        sec_who(rk, name, sizeof name);
    const char *text = errstr ? errstr : rd_kafka_err2str(err);
    if (strncmp(text, "[thrd:", 6) == 0 && strstr(text, "]: ")) /* librdkafka's log prefix */
        text = strstr(text, "]: ") + 3;
    pthread_mutex_lock(&sec_mu);
    int64_t now = sh_mono_ms();
    http_metrics_set_blocked(SEC_BLOCKED);
    if (!sec_reported) {
        sec_reported = 1;
        if (*sec_x509 && strstr(text, "certificate verify failed") && !strstr(text, sec_x509))
            snprintf(sec_cause, sizeof sec_cause, "Kafka %s: %s: %s (%s)", what, text, sec_x509, hint);
        else
            snprintf(sec_cause, sizeof sec_cause, "Kafka %s: %s (%s)", what, text, hint);
        if (kind == 2)
            sh_log(SH_LOG_ERROR, name, "%s; stopping", sec_cause);
        else
            sh_log(SH_LOG_ERROR, name, "%s; stopping unless it passes within kafka.auth.timeout (%lld ms)", sec_cause,
                   (long long)auth_timeout_ms);
    }
    if (kind == 1 && !sec_since)
        __atomic_store_n(&sec_since, now, __ATOMIC_RELAXED);
    if (!sec_failed && (kind == 2 || now - sec_since >= auth_timeout_ms)) {
        if (kind == 1)
            sh_log(SH_LOG_ERROR, name, "Kafka security failure still there after kafka.auth.timeout (%lld ms); stopping",
                   (long long)auth_timeout_ms);
        sec_fail_locked();
    }
    pthread_mutex_unlock(&sec_mu);
    return 1;
}

int kafka_delivery_security_error(rd_kafka_t *rk, const rd_kafka_message_t *m)
{
    const char *what, *hint;
    if (!sec_classify(m->err, NULL, &what, &hint))
        return 0;
    char why[512];
    snprintf(why, sizeof why, "delivery to %s failed: %s", m->rkt ? rd_kafka_topic_name(m->rkt) : "?",
             rd_kafka_err2str(m->err));
    return kafka_security_error(NULL, rk, m->err, why);
}

void kafka_security_passed(const char *who)
{
    if (!__atomic_load_n(&sec_since, __ATOMIC_RELAXED)) /* the hot path: nothing pending */
        return;
    pthread_mutex_lock(&sec_mu);
    if (sec_since && !sec_failed) {
        sh_log(SH_LOG_INFO, who, "Kafka connection works again; the security failure above has passed");
        __atomic_store_n(&sec_since, 0, __ATOMIC_RELAXED);
        sec_reported = 0; /* a new failure is reported again */
        *sec_x509 = 0;
        http_metrics_set_blocked(NULL);
    }
    pthread_mutex_unlock(&sec_mu);
}

void kafka_security_tick(void)
{
    if (!__atomic_load_n(&sec_since, __ATOMIC_RELAXED))
        return;
    pthread_mutex_lock(&sec_mu);
    if (sec_since && !sec_failed && sh_mono_ms() - sec_since >= auth_timeout_ms) {
        sh_log(SH_LOG_ERROR, "kafka", "Kafka security failure still there after kafka.auth.timeout (%lld ms); stopping",
               (long long)auth_timeout_ms);
        sec_fail_locked();
    }
    pthread_mutex_unlock(&sec_mu);
}

const char *kafka_security_pending(void)
{
    pthread_mutex_lock(&sec_mu);
    const char *c = sec_since && !sec_failed ? sec_cause : NULL;
    pthread_mutex_unlock(&sec_mu);
    return c;
}

const char *kafka_security_cause(void)
{
    pthread_mutex_lock(&sec_mu);
    const char *c = sec_failed ? sec_cause : NULL;
    pthread_mutex_unlock(&sec_mu);
    return c;
}

void kafka_print_version(FILE *f)
{
    char feat[512] = "?";
    size_t n = sizeof feat;
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_get(c, "builtin.features", feat, &n) != RD_KAFKA_CONF_OK)
        snprintf(feat, sizeof feat, "?");
    rd_kafka_conf_destroy(c);
    fprintf(f, "librdkafka %s (%s)%s\n", rd_kafka_version_str(), feat,
            (unsigned)rd_kafka_version() < KAFKA_SCRAM_MIN_VERSION ? "; no SCRAM with Kafka >= 3.9: build with make RDKAFKA=wheel" : "");
}

/* Generic client errors: what librdkafka logs when there is no error
 * callback, and the same line as before, unless it is a security failure. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    if (kafka_security_error(NULL, rk, (rd_kafka_resp_err_t)err, reason))
        return;
    sh_log(SH_LOG_ERROR, "kafka:ERROR", "%s: %s", rd_kafka_name(rk), reason);
}

void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    int l = level <= 3 ? SH_LOG_ERROR : level <= 4 ? SH_LOG_WARN : level <= 6 ? SH_LOG_INFO : SH_LOG_DEBUG;
    char who[64];
    snprintf(who, sizeof who, "kafka:%s", fac);
    /* librdkafka's own lines about a security failure: reported once, by us */
    if (level <= 4 && kafka_security_error(NULL, (rd_kafka_t *)rk, RD_KAFKA_RESP_ERR_NO_ERROR, buf))
        l = SH_LOG_DEBUG;
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
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    /* Up to 10 s, in slices, so that a security failure (logged from
     * librdkafka's threads) ends the wait at once; while one that may pass
     * is pending, until kafka.auth.timeout has decided it. */
    int64_t start = sh_mono_ms();
    int stopped = 0; /* a stop request (SIGTERM) while a failure is pending ends the wait */
    while (!kafka_security_cause() && !stopped) {
        e = rd_kafka_metadata(rk, 0, t, &md, 1000);
        if (e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) /* as a failed connection: no broker answered */
            e = RD_KAFKA_RESP_ERR__TRANSPORT;
        if (e != RD_KAFKA_RESP_ERR__TIMED_OUT && e != RD_KAFKA_RESP_ERR__TRANSPORT)
            break;
        pthread_mutex_lock(&sec_mu);
        int pending = sec_since != 0;
        int64_t limit = pending && auth_timeout_ms + 2000 > 10000 ? auth_timeout_ms + 2000 : 10000;
        pthread_mutex_unlock(&sec_mu);
        if ((e == RD_KAFKA_RESP_ERR__TRANSPORT && !pending) || sh_mono_ms() - start >= limit)
            break;
        stopped = pending && sec_pl && sec_pl->stop_requested;
        if (e == RD_KAFKA_RESP_ERR__TRANSPORT)
            sh_sleep_ms(200);
    }
    /* however the wait ended, a stop while a failure is pending says so */
    const char *pending_cause = e && sec_pl && sec_pl->stop_requested ? kafka_security_pending() : NULL;
    if (e && pending_cause) {
        snprintf(err, errlen,
                 "cannot read metadata of %s: stopped while the Kafka security failure above was unresolved (%s); exit 1",
                 topic, pending_cause);
        n = -2;
    } else if (e && kafka_security_cause()) {
        snprintf(err, errlen, "cannot read metadata of %s: stopped by the Kafka security failure above", topic);
        n = -2;
    } else if (e) {
        snprintf(err, errlen, "cannot read metadata of %s: %s", topic, rd_kafka_err2str(e));
        n = -2;
    } else if (md->topic_cnt == 1 && !md->topics[0].err) {
        n = md->topics[0].partition_cnt;
    } else if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
        char why[512];
        snprintf(why, sizeof why, "topic %s: %s", topic, rd_kafka_err2str(md->topics[0].err));
        kafka_security_error(NULL, rk, md->topics[0].err, why);
        snprintf(err, errlen, "cannot read metadata of %s: stopped by the Kafka security failure above", topic);
        n = -2;
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
    /* Our default, below what [kafka] sets: librdkafka waits
     * reconnect.backoff.ms (100 ms) before its first connection to a broker
     * it learned from the bootstrap's metadata, about half of the start-up
     * to the first record (bench/RESULTS.md); it still doubles per failed
     * attempt up to reconnect.backoff.max.ms (10 s). */
    rd_kafka_conf_set(conf, "reconnect.backoff.ms", "10", NULL, 0);
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_ssl_cert_verify_cb(conf, cert_verify_cb);
    sec_pl = pl;
    if (in && in->name) { /* names the component in security failures (sec_who) */
        char id[256];
        snprintf(id, sizeof id, "streamhost.%s", in->name);
        rd_kafka_conf_set(conf, "client.id", id, NULL, 0);
    }
    cfg_section *ks = config_section(pl->cfg, SEC_KAFKA, NULL);
    const sh_config *file = pl->cfg; /* names FILE:LINE of each property */
    for (size_t i = 0; ks && i < ks->nkv; i++) {
        cfg_kv *kv = &ks->kvs[i];
        if (strcmp(kv->key, KAFKA_EMBEDDED_PARTITIONS) == 0 || msk_iam_own_key(kv->key, kv->value))
            continue; /* (MSK IAM's keys: msk_iam_conf below) */
        if (strcmp(kv->key, KAFKA_AUTH_TIMEOUT) == 0) {
            int64_t ms;
            if (sh_parse_duration_ms(kv->value, &ms, NULL, 0) == 0 && ms > 0)
                auth_timeout_ms = ms;
            continue;
        }
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
        if (strncmp(kv->key, "kafka.", 6) != 0 || msk_iam_own_key(kv->key + 6, kv->value))
            continue;
        if (strcmp(kv->key + 6, KAFKA_AUTH_TIMEOUT) == 0) {
            int64_t ms;
            if (sh_parse_duration_ms(kv->value, &ms, NULL, 0) == 0 && ms > 0)
                auth_timeout_ms = ms;
            continue;
        }
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
    /* sasl.mechanism = AWS_MSK_IAM: OAUTHBEARER tokens (docs/msk-iam.md) */
    if (msk_iam_conf(pl->cfg, in ? in->sec : NULL, conf, err, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

/* Host keys and librdkafka properties the host checks itself: 1 when `key`
 * (without "kafka.") was handled here. */
static int validate_own(pipeline *pl, const char *sec, const char *key, const char *value, int line)
{
    char e[256];
    if (msk_iam_own_key(key, value)) /* checked by msk_iam_validate */
        return 1;
    if (strcmp(key, KAFKA_AUTH_TIMEOUT) == 0) {
        int64_t ms;
        if (sh_parse_duration_ms(value, &ms, e, sizeof e) != 0 || ms <= 0)
            config_error(pl->cfg, line, "[%s] %s = %s: expected a duration like 5s or 30s (how long a Kafka client "
                         "may go on failing TLS or authentication before the run ends)", sec, key, value);
        return 1;
    }
    if ((strcmp(key, "sasl.mechanism") == 0 || strcmp(key, "sasl.mechanisms") == 0) &&
        strncasecmp(value, "SCRAM-", 6) == 0 && (unsigned)rd_kafka_version() < KAFKA_SCRAM_MIN_VERSION)
        config_error(pl->cfg, line,
                     "[%s] %s = %s: this streamhost runs librdkafka %s, whose SCRAM Kafka >= 3.9 rejects (it sends its "
                     "nonce twice; fixed in 2.6.1): build with `make RDKAFKA=wheel` (librdkafka 2.16 from PyPI; "
                     "docs/security.md)", sec, key, value, rd_kafka_version_str());
    return 0;
}

void kafka_validate(pipeline *pl)
{
    /* Check property names and values without starting anything. */
    cfg_section *ks = config_section(pl->cfg, SEC_KAFKA, NULL);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[512];
    sec_pl = pl;
    for (size_t i = 0; ks && i < ks->nkv; i++) {
        cfg_kv *kv = &ks->kvs[i];
        if (validate_own(pl, "kafka", kv->key, kv->value, kv->line))
            continue;
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
            if (validate_own(pl, in->sec->title, kv->key + 6, kv->value, kv->line))
                continue;
            if (rd_kafka_conf_set(conf, kv->key + 6, kv->value, e, sizeof e) != RD_KAFKA_CONF_OK)
                config_error(pl->cfg, kv->line, "[%s] %s (see librdkafka's CONFIGURATION.md)", in->sec->title, e);
        }
    }
    rd_kafka_conf_destroy(conf);
    msk_iam_validate(pl); /* MSK IAM: region, credentials (docs/msk-iam.md) */
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
