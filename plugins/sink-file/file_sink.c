/* file_sink.c - the "file" sink plugin: every record as one JSON line
 * (doc_line.h), written through a large buffer.  A record counts as
 * delivered (acked) once a flush has written it out (and fsync'd it when
 * fsync = true), so the host commits source offsets only behind output that
 * is really in the file. */
#include "doc_line.h"
#include "file_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const sh_config_key file_sink_config_keys[] = {
    {"path", SH_CFG_STRING, "-", 0, "file to write JSON lines to; - = standard output"},
    {"append", SH_CFG_BOOL, "false", 0, "true: add to the end of the file; false: truncate it at start"},
    {"fsync", SH_CFG_BOOL, "false", 0,
     "true: fsync on every flush, so acked output survives a machine crash, not only a process crash"},
    {"buffer.size", SH_CFG_SIZE, "1MiB", 0,
     "output is buffered; when this much is pending, it is written before the next batch"},
    {"flush.interval", SH_CFG_DURATION, "1s", 0,
     "flush (write, fsync, ack) at least this often; 0ms = only when the host asks or the buffer fills"},
    {NULL, 0, NULL, 0, NULL}};

static void sink_destroy(void *state)
{
    file_sink *fs = state;
    if (!fs)
        return;
    if (fs->own_fd)
        close(fs->fd);
    sh_buf_free(&fs->out);
    free(fs);
}

/* Can `path` be opened for writing at start?  Checked before anything
 * starts, so that `streamhost check` refuses a file `run` could not open:
 * its directory must exist and be writable, and it must not be a directory
 * (or, when it exists, must be writable).  Logs one line when not. */
static int path_writable(const sh_host *host, sh_ctx *ctx, const char *path)
{
    struct stat st;
    const char *where = host->cfg_where(ctx, "path");
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            host->log(ctx, SH_LOG_ERROR, "%s: path: '%s' is a directory; name a file in it", where, path);
            return 0;
        }
        if (access(path, W_OK) != 0) {
            host->log(ctx, SH_LOG_ERROR, "%s: path: cannot write '%s': %s", where, path, strerror(errno));
            return 0;
        }
        return 1;
    }
    char *copy = strdup(path);
    if (!copy)
        return 1; /* start() will tell */
    const char *dir = dirname(copy);
    int ok = 1;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        host->log(ctx, SH_LOG_ERROR, "%s: path: the directory '%s' of '%s' does not exist; create it or fix path",
                  where, dir, path);
        ok = 0;
    } else if (access(dir, W_OK | X_OK) != 0) {
        host->log(ctx, SH_LOG_ERROR, "%s: path: cannot create '%s' in '%s': %s", where, path, dir,
                  strerror(errno));
        ok = 0;
    }
    free(copy);
    return ok;
}

/* The config values, checked: the one place for these rules, used by
 * validate() (`streamhost check`) and init(). */
static sh_rc read_config(const sh_host *host, sh_ctx *ctx, file_sink *fs)
{
    fs->path = host->cfg_str(ctx, "path");
    fs->append = (int)host->cfg_int(ctx, "append");
    fs->fsync = (int)host->cfg_int(ctx, "fsync");
    fs->buffer_size = (size_t)host->cfg_int(ctx, "buffer.size");
    fs->flush_interval = host->cfg_int(ctx, "flush.interval");
    if (!fs->path || !*fs->path) {
        host->log(ctx, SH_LOG_ERROR, "%s: path: must name a file, or - for standard output",
                  host->cfg_where(ctx, "path"));
        return SH_FATAL;
    }
    if (strcmp(fs->path, "-") != 0 && !path_writable(host, ctx, fs->path))
        return SH_FATAL;
    return SH_OK;
}

static sh_rc sink_validate(const sh_host *host, sh_ctx *ctx)
{
    file_sink fs;
    memset(&fs, 0, sizeof fs);
    return read_config(host, ctx, &fs);
}

static sh_rc sink_init(const sh_host *host, sh_ctx *ctx, void **state)
{
    file_sink *fs = calloc(1, sizeof *fs);
    if (!fs)
        return SH_FATAL;
    fs->host = host;
    fs->ctx = ctx;
    fs->fd = -1;
    if (read_config(host, ctx, fs) != SH_OK) {
        sink_destroy(fs);
        return SH_FATAL;
    }
    fs->records_total = host->counter(ctx, "records_written_total", "records written to the file");
    fs->bytes_total = host->counter(ctx, "written_bytes_total", "bytes written to the file");
    *state = fs;
    return SH_OK;
}

/* Appending after a crash: the last run may have died mid-line.  Start on a
 * fresh line so that the torn line stays alone and every new document is
 * whole. */
static void end_on_newline(file_sink *fs)
{
    char last;
    int rfd = open(fs->path, O_RDONLY | O_CLOEXEC);
    if (rfd < 0)
        return;
    off_t size = lseek(rfd, 0, SEEK_END);
    if (size > 0 && pread(rfd, &last, 1, size - 1) == 1 && last != '\n') {
        fs->host->log(fs->ctx, SH_LOG_WARN, "%s ends with an incomplete line (an earlier run stopped mid-write); "
                      "appending from a new line", fs->path);
        if (write(fs->fd, "\n", 1) != 1)
            fs->host->log(fs->ctx, SH_LOG_WARN, "%s: cannot write: %s", fs->path, strerror(errno));
    }
    close(rfd);
}

static sh_rc sink_start(void *state)
{
    file_sink *fs = state;
    if (strcmp(fs->path, "-") == 0) {
        fflush(stdout); /* whatever stdio holds goes before our lines */
        fs->fd = STDOUT_FILENO;
    } else {
        int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (fs->append ? O_APPEND : O_TRUNC);
        fs->fd = open(fs->path, flags, 0644);
        if (fs->fd < 0) {
            fs->host->log(fs->ctx, SH_LOG_ERROR, "%s: path: cannot open '%s' for writing: %s",
                          fs->host->cfg_where(fs->ctx, "path"), fs->path, strerror(errno));
            return SH_FATAL;
        }
        fs->own_fd = 1;
        if (fs->append)
            end_on_newline(fs);
    }
    fs->last_flush_ms = fs->host->now_ms(fs->ctx);
    return SH_OK;
}

/* Writes out the whole buffer.  SH_RETRY when the descriptor would block
 * (what was written stays written; the rest goes next time). */
static sh_rc drain(file_sink *fs)
{
    while (fs->written < fs->out.len) {
        ssize_t n = write(fs->fd, fs->out.data + fs->written, fs->out.len - fs->written);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return SH_RETRY;
            fs->host->log(fs->ctx, SH_LOG_ERROR, "%s: write failed: %s", fs->path, strerror(errno));
            return SH_FATAL;
        }
        fs->written += (size_t)n;
        *fs->bytes_total += (uint64_t)n;
        fs->unsynced = 1;
    }
    fs->out.len = fs->written = 0;
    return SH_OK;
}

static sh_rc sink_process(void *state, uint32_t input, const sh_record *recs, size_t n)
{
    file_sink *fs = state;
    /* Write a full buffer out before taking the batch, so that a failure
     * leaves the batch unapplied (SH_RETRY contract). */
    if (fs->out.len >= fs->buffer_size) {
        sh_rc rc = drain(fs);
        if (rc != SH_OK)
            return rc;
    }
    size_t before = fs->out.len;
    for (size_t i = 0; i < n; i++)
        doc_line_render(&fs->out, &recs[i]);
    if (fs->out.oom) { /* undo the partial batch; try again later */
        fs->out.oom = 0;
        fs->out.len = before;
        fs->host->log(fs->ctx, SH_LOG_WARN, "out of memory buffering %zu records; retrying", n);
        return SH_RETRY;
    }
    fs->received += n;
    *fs->records_total += n;
    return SH_OK;
}

static sh_rc sink_flush(void *state, int final)
{
    file_sink *fs = state;
    uint64_t upto = fs->received;
    sh_rc rc = drain(fs);
    if (rc != SH_OK)
        return rc;
    if (fs->fsync && fs->unsynced) {
        /* pipes and terminals cannot be synced; their data is delivered */
        if (fsync(fs->fd) != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP) {
            fs->host->log(fs->ctx, SH_LOG_ERROR, "%s: fsync failed: %s", fs->path, strerror(errno));
            return SH_FATAL;
        }
        fs->unsynced = 0;
    }
    fs->flushed = upto;
    fs->last_flush_ms = fs->host->now_ms(fs->ctx);
    return SH_OK;
}

static sh_rc sink_tick(void *state, int64_t now_ms)
{
    file_sink *fs = state;
    if (!fs->flush_interval || fs->flushed == fs->received ||
        now_ms - fs->last_flush_ms < fs->flush_interval)
        return SH_OK;
    sh_rc rc = sink_flush(fs, 0);
    return rc == SH_RETRY ? SH_OK : rc; /* the next tick tries again */
}

static uint64_t sink_acked(void *state)
{
    return ((file_sink *)state)->flushed;
}

static void sink_stop(void *state)
{
    file_sink *fs = state;
    /* The host flushes before stopping; this only catches a stop without
     * one, so that no rendered line is silently dropped. */
    if (fs->fd >= 0 && fs->out.len > fs->written)
        drain(fs);
    if (fs->own_fd)
        close(fs->fd);
    fs->own_fd = 0;
    fs->fd = -1;
}

static const sh_plugin file_sink_plugin = {
    SH_PLUGIN_MAGIC,
    .name = "file",
    .version = "1.0.0",
    .kind = SH_SINK,
    .description = "writes records as JSON lines {\"_index\",\"_id\",\"_source\"} to a file or stdout",
    .config = file_sink_config_keys,
    .init = sink_init,
    .start = sink_start,
    .process = sink_process,
    .tick = sink_tick,
    .flush = sink_flush,
    .acked = sink_acked,
    .stop = sink_stop,
    .destroy = sink_destroy,
    .validate = sink_validate,
};

SH_PLUGIN_EXPORT(file_sink_plugin)
