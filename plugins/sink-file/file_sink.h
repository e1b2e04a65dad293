/* file_sink.h - internals of the JSON-lines file sink, for its unit tests. */
#ifndef FILE_SINK_H
#define FILE_SINK_H
#include "streamhost/record_json.h"

typedef struct file_sink {
    const sh_host *host;
    sh_ctx *ctx;
    const char *path; /* "-" is stdout */
    int append, fsync;
    size_t buffer_size;
    int64_t flush_interval; /* ms; 0: only on host flush or full buffer */

    int fd;
    int own_fd;     /* opened by us: close it */
    sh_buf out;     /* rendered lines not yet written */
    size_t written; /* bytes of `out` already written (partial write) */
    int unsynced;   /* bytes written since the last fsync */
    uint64_t received; /* records accepted by process() */
    uint64_t flushed;  /* records covered by the last successful flush */
    int64_t last_flush_ms;

    uint64_t *records_total;
    uint64_t *bytes_total;
} file_sink;

extern const sh_config_key file_sink_config_keys[];
#endif
