/* deadletter.c - the dead-letter output. */
#include "deadletter.h"
#include "kafka.h"
#include "log.h"

#include <librdkafka/rdkafka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "streamhost/record_json.h"

static rd_kafka_t *dlq_rk;
static rd_kafka_topic_t *dlq_topic;
static FILE *dlq_file;
static char *dlq_file_path;
static volatile int dlq_failed;

static void dlq_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        dlq_failed = 1;
        LOG_ERROR("dead-letter topic write failed: %s", rd_kafka_err2str(m->err));
    }
}

static int open_file(const char *path)
{
    dlq_file_path = strdup(path);
    return 0; /* opened on first use, so a clean run leaves no empty file */
}

int deadletter_open(pipeline *pl)
{
    if (pl->dead_letter_file || !kafka_configured(pl))
        return open_file(pl->dead_letter_file ? pl->dead_letter_file : "dead-letters.jsonl");
    char err[512];
    rd_kafka_conf_t *conf = kafka_conf_new(pl, NULL, err, sizeof err);
    if (!conf) {
        LOG_ERROR("dead-letter producer: %s", err);
        return -1;
    }
    rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "50", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(conf, dlq_dr);
    dlq_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!dlq_rk) {
        LOG_ERROR("dead-letter producer: %s", err);
        return -1;
    }
    kafka_ensure_topic(pl, pl->dead_letter_topic);
    dlq_topic = rd_kafka_topic_new(dlq_rk, pl->dead_letter_topic, NULL);
    return 0;
}

sh_rc deadletter_put(pipeline *pl, instance *from, const void *payload, size_t len,
                     const char *reason, int32_t slot, int64_t offset)
{
    char kind[64];
    size_t kl = strcspn(reason, ":");
    if (kl >= sizeof kind)
        kl = sizeof kind - 1;
    memcpy(kind, reason, kl);
    kind[kl] = '\0';
    char label[96];
    snprintf(label, sizeof label, "reason=\"%s\"", kind);
    metrics_get(from ? from->name : "host", "dead_letters_total", "records sent to the dead-letter output", 0,
                label)->counter++;
    const char *stream = "";
    int32_t part = -1;
    if (slot >= 0 && (size_t)slot < pl->nslots) {
        stream = pl->slots[slot].stream;
        part = pl->slots[slot].partition;
    }
    if (dlq_rk) {
        char pbuf[16], obuf[24];
        snprintf(pbuf, sizeof pbuf, "%d", part);
        snprintf(obuf, sizeof obuf, "%lld", (long long)offset);
        rd_kafka_headers_t *h = rd_kafka_headers_new(5);
        rd_kafka_header_add(h, "streamhost.reason", -1, reason, -1);
        rd_kafka_header_add(h, "streamhost.component", -1, from ? from->name : "host", -1);
        rd_kafka_header_add(h, "streamhost.source.topic", -1, stream, -1);
        rd_kafka_header_add(h, "streamhost.source.partition", -1, pbuf, -1);
        rd_kafka_header_add(h, "streamhost.source.offset", -1, obuf, -1);
        for (int attempt = 0;; attempt++) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                dlq_rk, RD_KAFKA_V_RKT(dlq_topic), RD_KAFKA_V_VALUE((void *)payload, len),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
            if (!e)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || attempt > 1000) {
                LOG_ERROR("dead-letter topic: cannot produce: %s", rd_kafka_err2str(e));
                rd_kafka_headers_destroy(h);
                return SH_FATAL;
            }
            rd_kafka_poll(dlq_rk, 10);
        }
        rd_kafka_poll(dlq_rk, 0);
        return SH_OK;
    }
    if (!dlq_file) {
        dlq_file = fopen(dlq_file_path, "a");
        if (!dlq_file) {
            LOG_ERROR("dead-letter file %s: cannot open: %m; set dead_letter.file in [streamhost]",
                      dlq_file_path);
            return SH_FATAL;
        }
        LOG_WARN("dead letters are written to %s", dlq_file_path);
    }
    sh_buf b = {0};
    sh_buf_puts(&b, "{\"time\":");
    sh_buf_int(&b, (int64_t)time(NULL) * 1000);
    sh_buf_puts(&b, ",\"component\":");
    const char *fname = from ? from->name : "host";
    sh_json_str(&b, fname, strlen(fname));
    sh_buf_puts(&b, ",\"reason\":");
    sh_json_str(&b, reason, strlen(reason));
    sh_buf_puts(&b, ",\"source\":{\"stream\":");
    sh_json_str(&b, stream, strlen(stream));
    sh_buf_puts(&b, ",\"partition\":");
    sh_buf_int(&b, part);
    sh_buf_puts(&b, ",\"offset\":");
    sh_buf_int(&b, offset);
    sh_buf_puts(&b, "},\"payload_base64\":\"");
    size_t enc = 4 * ((len + 2) / 3) + 1;
    if (sh_buf_reserve(&b, enc) == 0) {
        int n = EVP_EncodeBlock((unsigned char *)b.data + b.len, payload, (int)len);
        b.len += (size_t)n;
    }
    sh_buf_puts(&b, "\"}\n");
    size_t w = fwrite(b.data, 1, b.len, dlq_file);
    sh_buf_free(&b);
    return w ? SH_OK : SH_FATAL;
}

int deadletter_flush(pipeline *pl, int timeout_ms)
{
    (void)pl;
    if (dlq_rk) {
        if (rd_kafka_flush(dlq_rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR || dlq_failed)
            return -1;
    } else if (dlq_file) {
        if (fflush(dlq_file) != 0)
            return -1;
    }
    return 0;
}

void deadletter_close(pipeline *pl)
{
    (void)pl;
    if (dlq_rk) {
        rd_kafka_flush(dlq_rk, 10000);
        rd_kafka_topic_destroy(dlq_topic);
        rd_kafka_destroy(dlq_rk);
        dlq_rk = NULL;
        dlq_topic = NULL;
    }
    if (dlq_file) {
        fclose(dlq_file);
        dlq_file = NULL;
    }
    free(dlq_file_path);
    dlq_file_path = NULL;
}
