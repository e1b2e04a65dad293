/* file_source.h - internals of the JSON-lines file source, for its files and
 * unit tests. */
#ifndef FILE_SOURCE_H
#define FILE_SOURCE_H
#include "avsc_schema.h"
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

    int fd;
    int own_fd; /* opened by us (not stdin): close it */
    line_reader reader;
    int32_t slot;
    int done;

    /* Batch storage, reused by every poll. */
    sh_record *recs;
    sh_value *vals;
    size_t batch_cap;
    str_arena arena;

    uint64_t *records_total;
    uint64_t *malformed_total;
} file_source;

extern const sh_config_key file_source_config_keys[];
#endif
