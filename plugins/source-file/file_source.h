/* file_source.h - internals of the JSON-lines file source, for its files and
 * unit tests. */
#ifndef FILE_SOURCE_H
#define FILE_SOURCE_H
#include "avsc_schema.h"
#include "file_position.h"
#include "line_reader.h"
#include "str_arena.h"
#include "streamhost/plugin.h"

typedef struct file_source {
    const sh_host *host;
    sh_ctx *ctx;
    const char *path;     /* as configured; "-" is stdin */
    const char *log_name; /* path, or "<stdin>", for FILE:LINE messages */
    avsc_schema avsc;
    sh_schema schema;
    char *stream_name;
    int time_field; /* index, or -1: record.time = 0 */
    int key_field;  /* index, or -1: empty key */
    size_t max_line;
    /* Event-time guards (0: no limit), and their config text for reasons. */
    int64_t max_future, max_past;
    const char *max_future_text, *max_past_text;

    int fd;
    int own_fd; /* opened by us (not stdin): close it */
    line_reader reader;
    int32_t slot;
    int done;

    /* Committed position (state.file; NULL: every run reads from line 1). */
    const char *state_path;
    file_position committed; /* what the state file says (line 0: nothing yet) */
    int commit_failing;      /* a save failed; logged once until one succeeds */

    /* Batch storage, reused by every poll. */
    sh_record *recs;
    sh_value *vals;
    size_t batch_cap;
    str_arena arena;

    uint64_t *records_total;
    uint64_t *malformed_total;
    uint64_t *bad_time_total;
} file_source;

extern const sh_config_key file_source_config_keys[];

/* Checks every config value of an instance and resolves it into `fs` (loads
 * the schema, finds the time and key fields); logs each problem on one line
 * with its config location.  The plugin's validate() and init() both call
 * it, so `streamhost check` refuses exactly what `run` refuses.  Returns the
 * number of problems. */
int file_source_configure(const sh_host *host, sh_ctx *ctx, file_source *fs);

/* Why a record time cannot be accepted at wall-clock time `now` (into why,
 * returns 1), or 0 when it is fine: negative, further ahead than
 * timestamp.max_future or further back than timestamp.max_past. */
int file_source_bad_time(const file_source *fs, int64_t t, int64_t now, char *why, size_t len);
#endif
