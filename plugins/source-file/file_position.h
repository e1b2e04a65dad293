/* file_position.h - the file source's committed read position, kept in a
 * small state file (`state.file`), so that a restart resumes after what the
 * pipeline has made durable instead of reading the file from the start:
 * what Kafka Connect keeps in its offset storage for a file connector.
 *
 * The host hands the position to commit() once every record before it has
 * been delivered (sessions still open hold it back: it is the start of the
 * oldest line whose effect is not yet durable), with the replay fences of
 * the transforms downstream as metadata; both are written atomically (a
 * temporary file, fsync, rename, fsync of the directory).  The file is tied
 * to the input by device and inode, so a state file left from another input
 * is refused rather than applied to it. */
#ifndef FILE_POSITION_H
#define FILE_POSITION_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct file_position {
    uint64_t dev, ino; /* identity of the input file */
    int64_t line;      /* number (from 1) of the next line to read: records'
                          offsets are line numbers, like Kafka offsets */
    char *meta;        /* host metadata (replay fences), malloc'd, may be "" */
} file_position;

/* Reads `path` into *pos.  1 when there is none (first run), 0 when read,
 * -1 with a one-line reason in `err` when it cannot be read or parsed. */
int file_position_load(const char *path, file_position *pos, char *err, size_t errlen);

/* Writes *pos to `path` atomically.  0, or -1 with a reason in `err`. */
int file_position_save(const char *path, const char *input, const file_position *pos, char *err,
                       size_t errlen);

/* Byte offset where line `line` (from 1) of fd starts: after line - 1
 * newlines (read with pread; the file offset is left alone).  -1 on a read
 * error or when the file has fewer lines.  Memchr speed: a restart scans
 * the part of the file it skips once. */
int64_t file_position_line_start(int fd, int64_t line);

void file_position_free(file_position *pos);
#endif
