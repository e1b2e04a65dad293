/* file_source.c - the "file" source plugin: records from a JSON-lines file,
 * typed by an Avro schema (.avsc), in file order, finishing at end of file.
 * Lines that cannot become records (malformed, or with an event time the
 * guards refuse) are logged, counted and dead-lettered with their line
 * number and byte offset; the run goes on.  A dead letter the host cannot
 * take stops the run (SH_FATAL): no line is ever lost with a log line only. */
#include "file_source.h"
#include "json_record.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEAD_LETTER_HEAD 65536

const sh_config_key file_source_config_keys[] = {
    {"path", SH_CFG_STRING, NULL, 1, "JSON-lines file to read, one object per line; - = standard input"},
    {"schema.file", SH_CFG_STRING, "conf/ClickEvent.avsc", 0,
     "Avro schema (.avsc) of the records: field names, types, nullability, defaults"},
    {"stream", SH_CFG_STRING, "clickstream", 0, "stream (schema) name of the records"},
    {"time.field", SH_CFG_STRING, "eventtimestamp", 0,
     "long/int field holding the event time in epoch ms; empty = time 0"},
    {"key.field", SH_CFG_STRING, "userid", 0,
     "field whose value, as text, is the record key; empty = no key"},
    {"line.max_size", SH_CFG_SIZE, "16MiB", 0,
     "longest accepted line; longer ones are reported as malformed and skipped"},
    {"timestamp.max_future", SH_CFG_DURATION, "1d", 0,
     "event times further than this ahead of the wall clock go to the dead-letter output "
     "(bad_timestamp), so one bad clock cannot make every later event late; 0 = no limit"},
    {"state.file", SH_CFG_STRING, NULL, 0,
     "file that keeps the committed read position (line and replay fences), so that a restart, "
     "also after a crash, resumes after what was delivered instead of reading from line 1; "
     "delete it to read from the start; unset = every run reads the whole file"},
    {"timestamp.max_past", SH_CFG_DURATION, "0", 0,
     "event times further than this behind the wall clock go to the dead-letter output "
     "(bad_timestamp); 0 = no limit (replays of old files need none)"},
    {NULL, 0, NULL, 0, NULL}};

static void file_destroy(void *state)
{
    file_source *fs = state;
    if (!fs)
        return;
    if (fs->own_fd)
        close(fs->fd);
    lr_free(&fs->reader);
    file_position_free(&fs->committed);
    avsc_free(&fs->avsc);
    str_arena_free(&fs->arena);
    free(fs->recs);
    free(fs->vals);
    free(fs->stream_name);
    free(fs);
}

/* Index of the field named by config `key`, -1 when the value is empty, or
 * -2 (logged) when the schema lacks it or, for a time field, it is not an
 * integer. */
static int resolve_field(file_source *fs, const char *key, const char *schema_file,
                         int must_be_int)
{
    const char *name = fs->host->cfg_str(fs->ctx, key);
    if (!name || !*name)
        return -1;
    int i = avsc_find(&fs->avsc, name);
    if (i < 0) {
        fs->host->log(fs->ctx, SH_LOG_ERROR,
                      "%s: %s: '%s' is not a field of %s; name one of its fields",
                      fs->host->cfg_where(fs->ctx, key), key, name, schema_file);
        return -2;
    }
    if (must_be_int && fs->avsc.fields[i].type != SH_INT) {
        fs->host->log(fs->ctx, SH_LOG_ERROR,
                      "%s: %s: field '%s' of %s is not a long or int; name the epoch-ms field",
                      fs->host->cfg_where(fs->ctx, key), key, name, schema_file);
        return -2;
    }
    return i;
}

int file_source_configure(const sh_host *host, sh_ctx *ctx, file_source *fs)
{
    fs->host = host;
    fs->ctx = ctx;
    fs->path = host->cfg_str(ctx, "path");
    const char *schema_file = host->cfg_str(ctx, "schema.file");
    const char *stream = host->cfg_str(ctx, "stream");
    fs->max_line = (size_t)host->cfg_int(ctx, "line.max_size");
    fs->max_future = host->cfg_int(ctx, "timestamp.max_future");
    fs->max_past = host->cfg_int(ctx, "timestamp.max_past");
    fs->max_future_text = host->cfg_str(ctx, "timestamp.max_future");
    fs->max_past_text = host->cfg_str(ctx, "timestamp.max_past");
    fs->state_path = host->cfg_str(ctx, "state.file");
    if (fs->state_path && !*fs->state_path)
        fs->state_path = NULL;
    fs->time_field = fs->key_field = -1;
    int errors = 0;
    if (!fs->path || !*fs->path) {
        host->log(ctx, SH_LOG_ERROR, "%s: path: must name a file, or - for standard input",
                  host->cfg_where(ctx, "path"));
        errors++;
    }
    if (fs->state_path && fs->path && strcmp(fs->path, "-") == 0) {
        host->log(ctx, SH_LOG_ERROR, "%s: state.file: standard input has no position to resume from; "
                  "read a regular file or remove state.file", host->cfg_where(ctx, "state.file"));
        errors++;
    }
    if (!stream || !*stream) {
        host->log(ctx, SH_LOG_ERROR, "%s: stream: must not be empty",
                  host->cfg_where(ctx, "stream"));
        errors++;
    }
    if (fs->max_line < 16) {
        host->log(ctx, SH_LOG_ERROR, "%s: line.max_size: must be at least 16 bytes",
                  host->cfg_where(ctx, "line.max_size"));
        errors++;
    }
    char err[512];
    if (!schema_file || !*schema_file) {
        host->log(ctx, SH_LOG_ERROR, "%s: schema.file: must name an Avro schema (.avsc)",
                  host->cfg_where(ctx, "schema.file"));
        errors++;
    } else if (avsc_load(schema_file, &fs->avsc, err, sizeof err) != 0) {
        host->log(ctx, SH_LOG_ERROR, "%s: schema.file: %s",
                  host->cfg_where(ctx, "schema.file"), err);
        errors++;
    } else {
        fs->time_field = resolve_field(fs, "time.field", schema_file, 1);
        fs->key_field = resolve_field(fs, "key.field", schema_file, 0);
        errors += (fs->time_field == -2) + (fs->key_field == -2);
        if (fs->time_field == -1 && fs->max_past > 0) {
            /* every record would have time 0, older than any limit */
            host->log(ctx, SH_LOG_ERROR,
                      "%s: timestamp.max_past: needs a time.field (without one every record has "
                      "time 0); set time.field or remove timestamp.max_past",
                      host->cfg_where(ctx, "timestamp.max_past"));
            errors++;
        }
    }
    return errors;
}

/* The plugin's validate callback: the same checks as init, no state kept. */
static sh_rc file_validate(const sh_host *host, sh_ctx *ctx)
{
    file_source *fs = calloc(1, sizeof *fs);
    if (!fs)
        return SH_FATAL;
    fs->fd = -1;
    int errors = file_source_configure(host, ctx, fs);
    file_destroy(fs);
    return errors ? SH_FATAL : SH_OK;
}

static sh_rc file_init(const sh_host *host, sh_ctx *ctx, void **state)
{
    file_source *fs = calloc(1, sizeof *fs);
    if (!fs)
        return SH_FATAL;
    fs->fd = -1;
    str_arena_init(&fs->arena, 65536);
    int errors = file_source_configure(host, ctx, fs);
    const char *stream = host->cfg_str(ctx, "stream");
    fs->log_name = errors ? NULL : strcmp(fs->path, "-") == 0 ? "<stdin>" : fs->path;
    if (errors || !(fs->stream_name = strdup(stream))) {
        file_destroy(fs);
        return SH_FATAL;
    }
    fs->schema = (sh_schema){fs->stream_name, fs->avsc.n, fs->avsc.sh_fields};
    fs->records_total = host->counter(ctx, "records_read_total", "records read from the file");
    fs->malformed_total = host->counter(ctx, "malformed_lines_total",
                                        "lines skipped: not JSON or not matching the schema");
    fs->bad_time_total = host->counter(ctx, "bad_timestamps_total",
                                       "lines skipped: event time negative or beyond "
                                       "timestamp.max_future / timestamp.max_past");
    *state = fs;
    return SH_OK;
}

/* With state.file: read the committed position and start there.  A state
 * file of another input (device and inode differ), or one past the end of
 * the input, is refused: applying it would skip lines that were never read. */
static sh_rc resume(file_source *fs)
{
    const sh_host *h = fs->host;
    char err[600];
    struct stat st;
    if (fstat(fs->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        h->log(fs->ctx, SH_LOG_ERROR, "%s: state.file: '%s' is not a regular file, so it has no position to "
               "resume from; remove state.file", h->cfg_where(fs->ctx, "state.file"), fs->path);
        return SH_FATAL;
    }
    int rc = file_position_load(fs->state_path, &fs->committed, err, sizeof err);
    if (rc < 0) {
        h->log(fs->ctx, SH_LOG_ERROR, "%s: state.file: %s", h->cfg_where(fs->ctx, "state.file"), err);
        return SH_FATAL;
    }
    if (rc == 1) { /* first run: from line 1; the first commit creates it */
        fs->committed = (file_position){.dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino, .line = 0};
        h->log(fs->ctx, SH_LOG_INFO, "no committed position in %s yet: reading %s from line 1", fs->state_path,
               fs->path);
        return SH_OK;
    }
    if (fs->committed.dev != (uint64_t)st.st_dev || fs->committed.ino != (uint64_t)st.st_ino) {
        h->log(fs->ctx, SH_LOG_ERROR, "%s: state.file: %s holds the position of another file than %s (device "
               "and inode differ: replaced or rotated?); delete it to read %s from the start",
               h->cfg_where(fs->ctx, "state.file"), fs->state_path, fs->path, fs->path);
        return SH_FATAL;
    }
    int64_t off = file_position_line_start(fs->fd, fs->committed.line);
    if (off < 0) {
        h->log(fs->ctx, SH_LOG_ERROR, "%s: state.file: %s says to resume at line %" PRId64 ", but %s is shorter "
               "(truncated?); delete the state file to read it from the start",
               h->cfg_where(fs->ctx, "state.file"), fs->state_path, fs->committed.line, fs->path);
        return SH_FATAL;
    }
    if (lseek(fs->fd, off, SEEK_SET) != off) {
        h->log(fs->ctx, SH_LOG_ERROR, "%s: cannot seek to byte %" PRId64 ": %s", fs->path, off, strerror(errno));
        return SH_FATAL;
    }
    lr_start_at(&fs->reader, (uint64_t)off, (uint64_t)(fs->committed.line - 1));
    /* the replay fences committed with the position: what the transforms
     * downstream delivered before, and must not emit again when rebuilt */
    if (SH_HOST_HAS(h, slot_assigned))
        h->slot_assigned(fs->ctx, fs->slot, fs->committed.meta, strlen(fs->committed.meta));
    h->log(fs->ctx, SH_LOG_INFO, "resuming %s at line %" PRId64 " (byte %" PRId64 "), committed in %s", fs->path,
           fs->committed.line, off, fs->state_path);
    return SH_OK;
}

static sh_rc file_start(void *state)
{
    file_source *fs = state;
    if (strcmp(fs->path, "-") == 0) {
        fs->fd = STDIN_FILENO;
    } else if ((fs->fd = open(fs->path, O_RDONLY | O_CLOEXEC)) < 0) {
        fs->host->log(fs->ctx, SH_LOG_ERROR, "%s: path: cannot open '%s': %s; check the path",
                      fs->host->cfg_where(fs->ctx, "path"), fs->path, strerror(errno));
        return SH_FATAL;
    } else {
        fs->own_fd = 1;
    }
    lr_init(&fs->reader, fs->fd, fs->max_line);
    fs->slot = fs->host->slot(fs->ctx, fs->path, 0);
    return fs->state_path ? resume(fs) : SH_OK;
}

static int reserve_batch(file_source *fs, size_t max)
{
    if (max <= fs->batch_cap)
        return 0;
    sh_record *recs = realloc(fs->recs, max * sizeof *recs);
    if (recs)
        fs->recs = recs;
    sh_value *vals = realloc(fs->vals, max * (fs->avsc.n ? fs->avsc.n : 1) * sizeof *vals);
    if (vals)
        fs->vals = vals;
    if (!recs || !vals)
        return -1;
    fs->batch_cap = max;
    return 0;
}

static int blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

/* The key field's value as text, copied into the batch arena. */
static int render_key(file_source *fs, const sh_value *v, sh_str *key)
{
    char tmp[40];
    int n = 0;
    switch (v->type) {
    case SH_STRING: *key = v->u.s; return 0; /* already in the arena */
    case SH_INT: { /* by hand: snprintf was a tenth of a replay's time */
        uint64_t u = v->u.i < 0 ? 0 - (uint64_t)v->u.i : (uint64_t)v->u.i;
        char *p = tmp + sizeof tmp;
        do
            *--p = (char)('0' + u % 10);
        while (u /= 10);
        if (v->u.i < 0)
            *--p = '-';
        n = (int)(tmp + sizeof tmp - p);
        memmove(tmp, p, (size_t)n);
        break;
    }
    case SH_DOUBLE: n = snprintf(tmp, sizeof tmp, "%.17g", v->u.d); break;
    case SH_BOOL: n = snprintf(tmp, sizeof tmp, "%s", v->u.b ? "true" : "false"); break;
    default: *key = (sh_str){"", 0}; return 0;
    }
    const char *p = str_arena_copy(&fs->arena, tmp, (size_t)n);
    if (!p)
        return -1;
    *key = (sh_str){p, (size_t)n};
    return 0;
}

int file_source_bad_time(const file_source *fs, int64_t t, int64_t now, char *why, size_t len)
{
    if (t < 0) {
        snprintf(why, len, "event time %" PRId64 " is negative", t);
        return 1;
    }
    /* saturating: a huge max_future means no limit, not an overflow */
    if (fs->max_future > 0 && now <= INT64_MAX - fs->max_future && t > now + fs->max_future) {
        snprintf(why, len,
                 "event time %" PRId64 " is more than timestamp.max_future (%s) ahead of the "
                 "wall clock (%" PRId64 ")",
                 t, fs->max_future_text, now);
        return 1;
    }
    if (fs->max_past > 0 && t < now - fs->max_past) {
        snprintf(why, len,
                 "event time %" PRId64 " is more than timestamp.max_past (%s) behind the wall "
                 "clock (%" PRId64 ")",
                 t, fs->max_past_text, now);
        return 1;
    }
    return 0;
}

/* Hands a line that cannot become a record to the dead-letter output, with
 * reason "KIND: line N (byte B): why" and an origin at (path, 0, line N), the
 * position space of the records themselves; logs it as FILE:LINE: why.
 * Returns the host's answer: anything but SH_OK means the line could not be
 * kept, and the caller must stop (SH_FATAL) rather than lose it. */
static sh_rc dead(file_source *fs, const lr_line *line, const char *kind, const char *why)
{
    char reason[700];
    fs->host->log(fs->ctx, SH_LOG_WARN, "%s:%" PRIu64 ": %s", fs->log_name, line->no, why);
    snprintf(reason, sizeof reason, "%s: line %" PRIu64 " (byte %" PRIu64 "): %s", kind, line->no,
             line->off, why);
    /* the head of an overlong line is enough to recognise it */
    size_t len = line->too_long && line->len > DEAD_LETTER_HEAD ? DEAD_LETTER_HEAD : line->len;
    sh_record origin = {.schema = &fs->schema, .slot = fs->slot, .offset = (int64_t)line->no};
    sh_rc rc = fs->host->dead_letter(fs->ctx, line->ptr, len, reason, &origin);
    if (rc != SH_OK)
        fs->host->log(fs->ctx, SH_LOG_ERROR,
                      "%s:%" PRIu64 ": the dead-letter output did not take this line; stopping so "
                      "that it is not lost",
                      fs->log_name, line->no);
    return rc;
}

enum { LINE_SKIPPED = 0, LINE_RECORD = 1, LINE_NOMEM = -1, LINE_FATAL = -2 };

static int malformed(file_source *fs, const lr_line *line, const char *why)
{
    (*fs->malformed_total)++;
    return dead(fs, line, "malformed_json", why) == SH_OK ? LINE_SKIPPED : LINE_FATAL;
}

/* Decodes one line into record `r`: LINE_RECORD, LINE_SKIPPED (malformed or
 * refused, and dead-lettered), LINE_NOMEM, or LINE_FATAL (the dead letter
 * was refused). */
static int decode_line(file_source *fs, const lr_line *line, sh_record *r, sh_value *vals,
                       int64_t now)
{
    char why[512];
    if (line->too_long) {
        snprintf(why, sizeof why, "line longer than line.max_size (%zu bytes)", fs->max_line);
        return malformed(fs, line, why);
    }
    int rc = jr_decode(&fs->avsc, line->ptr, line->len, vals, &fs->arena, why, sizeof why);
    if (rc == JR_NOMEM)
        return LINE_NOMEM;
    if (rc == JR_OK && fs->time_field >= 0 && vals[fs->time_field].type == SH_NULL) {
        snprintf(why, sizeof why, "time field '%s' is null", fs->avsc.fields[fs->time_field].name);
        rc = JR_MALFORMED;
    }
    if (rc != JR_OK)
        return malformed(fs, line, why);
    r->time = fs->time_field >= 0 ? vals[fs->time_field].u.i : 0;
    if (fs->time_field >= 0 && file_source_bad_time(fs, r->time, now, why, sizeof why)) {
        (*fs->bad_time_total)++;
        return dead(fs, line, "bad_timestamp", why) == SH_OK ? LINE_SKIPPED : LINE_FATAL;
    }
    r->schema = &fs->schema;
    r->key = (sh_str){"", 0};
    if (fs->key_field >= 0 && render_key(fs, &vals[fs->key_field], &r->key) != 0)
        return LINE_NOMEM;
    r->id = (sh_str){"", 0};
    r->values = vals;
    r->slot = fs->slot;
    r->offset = (int64_t)line->no;
    return LINE_RECORD;
}

static sh_rc file_poll(void *state, size_t max, int timeout_ms)
{
    file_source *fs = state;
    if (fs->done)
        return SH_DONE;
    if (max == 0)
        return SH_OK;
    if (reserve_batch(fs, max) != 0) {
        fs->host->log(fs->ctx, SH_LOG_ERROR, "out of memory for a batch of %zu records", max);
        return SH_RETRY;
    }
    str_arena_reset(&fs->arena);
    int64_t now = fs->host->now_ms(fs->ctx);
    size_t n = 0;
    int wait = timeout_ms, result = LR_LINE;
    /* Every line, good, bad or blank, counts toward `max`, so that a poll
     * stays short even on a file full of bad lines. */
    for (size_t lines = 0; lines < max; lines++) {
        lr_line line;
        result = lr_next(&fs->reader, &line, &wait);
        if (result != LR_LINE)
            break;
        if (!line.too_long && blank(line.ptr, line.len))
            continue;
        int ok = decode_line(fs, &line, &fs->recs[n], &fs->vals[n * fs->avsc.n], now);
        if (ok == LINE_NOMEM) {
            fs->host->log(fs->ctx, SH_LOG_ERROR, "%s:%" PRIu64 ": out of memory", fs->log_name,
                          line.no);
            return SH_FATAL;
        }
        if (ok == LINE_FATAL) /* nothing of this batch is emitted: the run stops here */
            return SH_FATAL;
        n += (size_t)ok;
    }
    sh_rc rc = n ? fs->host->emit(fs->ctx, 0, fs->recs, n) : SH_OK;
    *fs->records_total += n;
    if (rc != SH_OK)
        return rc;
    if (result == LR_ERROR) {
        fs->host->log(fs->ctx, SH_LOG_ERROR, "%s: read failed after line %llu: %s", fs->log_name,
                      (unsigned long long)fs->reader.line_no, strerror(errno));
        return SH_FATAL;
    }
    if (result == LR_EOF) {
        fs->done = 1;
        return SH_DONE;
    }
    return SH_OK;
}

/* Delivery protocol (plugin.h): the next line to read is the position. */
static void file_positions(void *state, int64_t *pos, size_t nslots)
{
    file_source *fs = state;
    int64_t next = (int64_t)fs->reader.line_no + 1;
    if (fs->state_path && fs->slot >= 0 && (size_t)fs->slot < nslots && next < pos[fs->slot])
        pos[fs->slot] = next;
}

static void file_commit(void *state, const int64_t *offsets, const char *const *meta, size_t nslots)
{
    file_source *fs = state;
    if (!fs->state_path || fs->slot < 0 || (size_t)fs->slot >= nslots || offsets[fs->slot] == INT64_MAX)
        return;
    const char *m = meta && meta[fs->slot] ? meta[fs->slot] : "";
    if (offsets[fs->slot] == fs->committed.line && fs->committed.meta && strcmp(m, fs->committed.meta) == 0)
        return; /* nothing new */
    file_position next = fs->committed;
    next.line = offsets[fs->slot];
    next.meta = (char *)m;
    char err[600];
    if (file_position_save(fs->state_path, fs->path, &next, err, sizeof err) != 0) {
        /* not a loss: a restart re-reads from the previous position */
        if (!fs->commit_failing)
            fs->host->log(fs->ctx, SH_LOG_WARN, "%s: position not saved (%s); a restart reads again from line "
                          "%" PRId64, fs->host->cfg_where(fs->ctx, "state.file"), err,
                          fs->committed.line > 0 ? fs->committed.line : 1);
        fs->commit_failing = 1;
        return;
    }
    if (fs->commit_failing)
        fs->host->log(fs->ctx, SH_LOG_INFO, "%s: position saved again", fs->state_path);
    fs->commit_failing = 0;
    char *copy = strdup(m);
    if (copy) {
        free(fs->committed.meta);
        fs->committed.meta = copy;
        fs->committed.line = next.line;
    }
}

static void file_stop(void *state)
{
    file_source *fs = state;
    if (fs->own_fd)
        close(fs->fd);
    fs->own_fd = 0;
    fs->fd = -1;
}

static const sh_plugin file_source_plugin = {
    SH_PLUGIN_MAGIC,
    .name = "file",
    .version = "1.0.0",
    .kind = SH_SOURCE,
    .description = "records from a JSON-lines file typed by an Avro schema; ends at end of file",
    .config = file_source_config_keys,
    .init = file_init,
    .start = file_start,
    .poll = file_poll,
    .stop = file_stop,
    .destroy = file_destroy,
    .validate = file_validate,
    .positions = file_positions,
    .commit = file_commit,
};

SH_PLUGIN_EXPORT(file_source_plugin)
