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

/* The writer of one pipeline (pl->deadletter). */
struct deadletter {
    rd_kafka_t *rk;
    rd_kafka_topic_t *topic;
    /* The file output.  Written with one write(2) per dead letter on an
     * O_APPEND descriptor, not stdio: a failed write is seen by the call that
     * made it (stdio would report ENOSPC at some later fflush, for a
     * different record, and keep the unwritten bytes buffered), and
     * concurrent writers of one file do not interleave inside a line. */
    int fd;
    char *file_path;
    int created;          /* this run created the file: remove it if unused */
    dev_t dev;
    ino_t ino;
    uint64_t written;     /* dead letters written to the file */
    int unsynced;         /* written since the last fdatasync */
    /* dead_letter.on_error */
    int log_only;         /* log: a lost dead letter is logged and counted */
    volatile int broken;  /* fail: the writer failed; nothing more is committed */
    uint64_t lost;        /* log: dead letters lost so far */
    pipeline *pl;
};

/* The writer's state, created on first use (fd -1: nothing open). */
static struct deadletter *dl_of(pipeline *pl)
{
    if (!pl->deadletter) {
        pl->deadletter = calloc(1, sizeof *pl->deadletter);
        if (pl->deadletter) {
            pl->deadletter->fd = -1;
            pl->deadletter->pl = pl;
        }
    }
    return pl->deadletter;
}

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
    struct deadletter *d = dl_of(pl);
    if (!d)
        return SH_FATAL;
    if (!d->log_only) {
        if (!d->broken)
            sh_log(SH_LOG_ERROR, who,
                   "%s; stopping the run so that no record is lost (exit 1, nothing committed past "
                   "it; dead_letter.on_error = log in [streamhost] would go on without them)",
                   msg);
        d->broken = 1;
        pl->failed = 1; /* also when the caller ignores our answer */
        return SH_FATAL;
    }
    d->lost++;
    metrics_get("host", "dead_letters_lost_total",
                "dead letters that could not be written (dead_letter.on_error = log)", 0, NULL)
        ->counter++;
    if (d->lost == 1 || d->lost % 1000 == 0)
        sh_log(SH_LOG_ERROR, who, "%s; dead letter lost (dead_letter.on_error = log; %llu lost so far)", msg,
               (unsigned long long)d->lost);
    return SH_OK;
}

static void dlq_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct deadletter *d = m->_private; /* the message's opaque */
    if (m->err && d) /* fail mode: broken, so the next put and flush fail */
        writer_failed(d->pl, NULL, "dead-letter topic: delivery failed: %s", rd_kafka_err2str(m->err));
    else if (!m->err)
        kafka_security_passed("kafka"); /* delivered: a pending failure has passed */
}

/* Opens (creating) the dead-letter file for appending; -1 with errno. */
static int open_file(struct deadletter *d)
{
    struct stat st;
    int existed = stat(d->file_path, &st) == 0;
    int fd = open(d->file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) == 0) {
        d->dev = st.st_dev;
        d->ino = st.st_ino;
        d->created = !existed && S_ISREG(st.st_mode);
    }
    d->fd = fd;
    return 0;
}

int deadletter_open(pipeline *pl)
{
    struct deadletter *d = dl_of(pl);
    if (!d)
        return -1;
    d->log_only = strcmp(host_setting(pl, "dead_letter.on_error"), "log") == 0;
    d->broken = 0;
    d->lost = 0;
    if (pl->dead_letter_file || !kafka_configured(pl)) {
        d->file_path = strdup(pl->dead_letter_file ? pl->dead_letter_file : "dead-letters.jsonl");
        if (!d->file_path)
            return -1;
        /* Opened now, so that a path that cannot work refuses the start
         * instead of losing the first bad record; an unused file this run
         * created is removed at close. */
        if (open_file(d) != 0) {
            if (!d->log_only) {
                LOG_ERROR("dead-letter file %s: cannot open for appending: %s; create its directory or "
                          "fix its permissions, or set dead_letter.file in [streamhost]",
                          d->file_path, strerror(errno));
                return -1;
            }
            LOG_WARN("dead-letter file %s: cannot open for appending: %s; dead letters will be lost "
                     "(dead_letter.on_error = log)",
                     d->file_path, strerror(errno));
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
    d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!d->rk) {
        LOG_ERROR("dead-letter producer: %s", err);
        return -1;
    }
    kafka_ensure_topic(pl, pl->dead_letter_topic);
    d->topic = rd_kafka_topic_new(d->rk, pl->dead_letter_topic, NULL);
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
    struct deadletter *d = dl_of(pl);
    if (!d) {
        pl->failed = 1;
        return SH_FATAL;
    }
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
    if (d->broken) { /* fail mode: the run is stopping; take nothing more */
        pl->failed = 1;
        return SH_FATAL;
    }
    const char *stream = "";
    int32_t part = -1;
    if (slot >= 0 && (size_t)slot < pl->nslots) {
        stream = pl->slots[slot].stream;
        part = pl->slots[slot].partition;
    }
    if (d->rk) {
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
                d->rk, RD_KAFKA_V_RKT(d->topic), RD_KAFKA_V_VALUE((void *)payload, len),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
            if (!e)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || attempt > 1000) {
                rd_kafka_headers_destroy(h);
                return writer_failed(pl, from, "dead-letter topic %s: cannot produce: %s", pl->dead_letter_topic,
                                     rd_kafka_err2str(e));
            }
            rd_kafka_poll(d->rk, 10);
        }
        rd_kafka_poll(d->rk, 0);
        return SH_OK;
    }
    struct stat st;
    if (d->fd >= 0 && (stat(d->file_path, &st) != 0 || st.st_dev != d->dev || st.st_ino != d->ino)) {
        /* removed or rotated since we opened it (e.g. by another process of
         * the group that created it and found it unused): writing to the
         * old inode would lose the record, so open the path again */
        close(d->fd);
        d->fd = -1;
    }
    if (d->fd < 0 && open_file(d) != 0) /* also log mode after a failed open: it may work now */
        return writer_failed(pl, from, "dead-letter file %s: cannot open for appending: %s", d->file_path,
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
    int rc = b.oom ? (errno = ENOMEM, -1) : write_all(d->fd, b.data, b.len);
    int err = errno;
    sh_buf_free(&b);
    if (rc != 0)
        return writer_failed(pl, from, "dead-letter file %s: cannot write: %s", d->file_path, strerror(err));
    if (d->written++ == 0)
        LOG_WARN("dead letters are written to %s", d->file_path);
    d->unsynced = 1;
    return SH_OK;
}

int deadletter_flush(pipeline *pl, int timeout_ms)
{
    struct deadletter *d = pl->deadletter;
    if (!d)
        return 0; /* never opened: nothing written */
    if (d->broken)
        return -1; /* a dead letter was lost: never commit past it */
    if (d->rk) {
        if (rd_kafka_flush(d->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return -1;
    } else if (d->fd >= 0 && d->unsynced) {
        /* offsets are about to be committed past these records */
        if (fdatasync(d->fd) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP) {
            if (writer_failed(pl, NULL, "dead-letter file %s: fdatasync failed: %s", d->file_path,
                              strerror(errno)) != SH_OK)
                return -1;
        }
        d->unsynced = 0;
    }
    return d->broken ? -1 : 0;
}

void deadletter_close(pipeline *pl)
{
    struct deadletter *d = pl->deadletter;
    if (!d)
        return;
    if (d->rk) {
        rd_kafka_flush(d->rk, 10000);
        rd_kafka_topic_destroy(d->topic);
        rd_kafka_destroy(d->rk);
        d->rk = NULL;
        d->topic = NULL;
    }
    if (d->fd >= 0) {
        struct stat st;
        /* the empty file this run created, if nobody else wrote to it meanwhile */
        if (d->created && d->written == 0 && stat(d->file_path, &st) == 0 && st.st_dev == d->dev &&
            st.st_ino == d->ino && st.st_size == 0)
            unlink(d->file_path);
        close(d->fd);
        d->fd = -1;
    }
    d->created = 0;
    d->written = 0;
    d->unsynced = 0;
    free(d->file_path);
    free(d);
    pl->deadletter = NULL;
}
