/* deadletter.c - the dead-letter output (see deadletter.h for the rules on
 * the writer's own failures). */
#include "deadletter.h"
#include "kafka.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "streamhost/record_json.h"
#include "settings.h"

static rd_kafka_t *dlq_rk;
static rd_kafka_topic_t *dlq_topic;

/* The file output.  Written with one write(2) per dead letter on an
 * O_APPEND descriptor, not stdio: a failed write is seen by the call that
 * made it (stdio would report ENOSPC at some later fflush, for a different
 * record, and keep the unwritten bytes buffered), and concurrent writers of
 * one file do not interleave inside a line. */
static int dlq_fd = -1;
static char *dlq_file_path;
static int dlq_created;        /* this run created the file: remove it if unused */
static dev_t dlq_dev;
static ino_t dlq_ino;
static uint64_t dlq_written;   /* dead letters written to the file */
static int dlq_unsynced;       /* written since the last fdatasync */

/* dead_letter.on_error */
static int dlq_log_only;       /* log: a lost dead letter is logged and counted */
static volatile int dlq_broken; /* fail: the writer failed; nothing more is committed */
static uint64_t dlq_lost;      /* log: dead letters lost so far */
static pipeline *dlq_pl;


/* A dead letter could not be kept.  fail: the pipeline stops (exit 1) and
 * commits nothing more; log: it is counted and the run goes on. */
static sh_rc writer_failed(pipeline *pl, instance *from, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sh_rc writer_failed(pipeline *pl, instance *from, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *who = from ? from->name : NULL;
    if (!dlq_log_only) {
        if (!dlq_broken)
            sh_log(SH_LOG_ERROR, who,
                   "%s; stopping the run so that no record is lost (exit 1, nothing committed past "
                   "it; dead_letter.on_error = log in [streamhost] would go on without them)",
                   msg);
        dlq_broken = 1;
        if (pl)
            pl->failed = 1; /* also when the caller ignores our answer */
        return SH_FATAL;
    }
    dlq_lost++;
    metrics_get("host", "dead_letters_lost_total",
                "dead letters that could not be written (dead_letter.on_error = log)", 0, NULL)
        ->counter++;
    if (dlq_lost == 1 || dlq_lost % 1000 == 0)
        sh_log(SH_LOG_ERROR, who, "%s; dead letter lost (dead_letter.on_error = log; %llu lost so far)", msg,
               (unsigned long long)dlq_lost);
    return SH_OK;
}

static void dlq_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) /* fail mode: dlq_broken, so the next put and flush fail */
        writer_failed(dlq_pl, NULL, "dead-letter topic: delivery failed: %s", rd_kafka_err2str(m->err));
}

/* Opens (creating) the dead-letter file for appending; -1 with errno. */
static int open_file(void)
{
    struct stat st;
    int existed = stat(dlq_file_path, &st) == 0;
    int fd = open(dlq_file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) == 0) {
        dlq_dev = st.st_dev;
        dlq_ino = st.st_ino;
        dlq_created = !existed && S_ISREG(st.st_mode);
    }
    dlq_fd = fd;
    return 0;
}

int deadletter_open(pipeline *pl)
{
    dlq_pl = pl;
    dlq_log_only = strcmp(host_setting(pl, "dead_letter.on_error"), "log") == 0;
    dlq_broken = 0;
    dlq_lost = 0;
    if (pl->dead_letter_file || !kafka_configured(pl)) {
        dlq_file_path = strdup(pl->dead_letter_file ? pl->dead_letter_file : "dead-letters.jsonl");
        if (!dlq_file_path)
            return -1;
        /* Opened now, so that a path that cannot work refuses the start
         * instead of losing the first bad record; an unused file this run
         * created is removed at close. */
        if (open_file() != 0) {
            if (!dlq_log_only) {
                LOG_ERROR("dead-letter file %s: cannot open for appending: %s; create its directory or "
                          "fix its permissions, or set dead_letter.file in [streamhost]",
                          dlq_file_path, strerror(errno));
                return -1;
            }
            LOG_WARN("dead-letter file %s: cannot open for appending: %s; dead letters will be lost "
                     "(dead_letter.on_error = log)",
                     dlq_file_path, strerror(errno));
        }
        return 0;
    }
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

/* Writes all of buf; 0, or -1 with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
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
    if (dlq_broken) { /* fail mode: the run is stopping; take nothing more */
        pl->failed = 1;
        return SH_FATAL;
    }
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
                rd_kafka_headers_destroy(h);
                return writer_failed(pl, from, "dead-letter topic %s: cannot produce: %s", pl->dead_letter_topic,
                                     rd_kafka_err2str(e));
            }
            rd_kafka_poll(dlq_rk, 10);
        }
        rd_kafka_poll(dlq_rk, 0);
        return SH_OK;
    }
    struct stat st;
    if (dlq_fd >= 0 && (stat(dlq_file_path, &st) != 0 || st.st_dev != dlq_dev || st.st_ino != dlq_ino)) {
        /* removed or rotated since we opened it (e.g. by another process of
         * the group that created it and found it unused): writing to the
         * old inode would lose the record, so open the path again */
        close(dlq_fd);
        dlq_fd = -1;
    }
    if (dlq_fd < 0 && open_file() != 0) /* also log mode after a failed open: it may work now */
        return writer_failed(pl, from, "dead-letter file %s: cannot open for appending: %s", dlq_file_path,
                             strerror(errno));
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
    int rc = b.oom ? (errno = ENOMEM, -1) : write_all(dlq_fd, b.data, b.len);
    int err = errno;
    sh_buf_free(&b);
    if (rc != 0)
        return writer_failed(pl, from, "dead-letter file %s: cannot write: %s", dlq_file_path, strerror(err));
    if (dlq_written++ == 0)
        LOG_WARN("dead letters are written to %s", dlq_file_path);
    dlq_unsynced = 1;
    return SH_OK;
}

int deadletter_flush(pipeline *pl, int timeout_ms)
{
    (void)pl;
    if (dlq_broken)
        return -1; /* a dead letter was lost: never commit past it */
    if (dlq_rk) {
        if (rd_kafka_flush(dlq_rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return -1;
    } else if (dlq_fd >= 0 && dlq_unsynced) {
        /* offsets are about to be committed past these records */
        if (fdatasync(dlq_fd) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP) {
            if (writer_failed(pl, NULL, "dead-letter file %s: fdatasync failed: %s", dlq_file_path,
                              strerror(errno)) != SH_OK)
                return -1;
        }
        dlq_unsynced = 0;
    }
    return dlq_broken ? -1 : 0;
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
    if (dlq_fd >= 0) {
        struct stat st;
        /* the empty file this run created, if nobody else wrote to it meanwhile */
        if (dlq_created && dlq_written == 0 && stat(dlq_file_path, &st) == 0 && st.st_dev == dlq_dev &&
            st.st_ino == dlq_ino && st.st_size == 0)
            unlink(dlq_file_path);
        close(dlq_fd);
        dlq_fd = -1;
    }
    dlq_created = 0;
    dlq_written = 0;
    dlq_unsynced = 0;
    dlq_pl = NULL;
    free(dlq_file_path);
    dlq_file_path = NULL;
}
