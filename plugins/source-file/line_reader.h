/* line_reader.h - splits a file descriptor into lines, without blocking
 * longer than asked on pipes and terminals.
 *
 * Why not stdio getline(): on a pipe it blocks until a whole line arrives,
 * and poll(2) cannot see data already sitting in a FILE buffer, so a source's
 * poll() could not honour its timeout. */
#ifndef FILE_LINE_READER_H
#define FILE_LINE_READER_H
#include <stddef.h>
#include <stdint.h>

typedef struct line_reader {
    int fd;
    int wait_for_data; /* pipe, tty, socket: poll(2) before reading */
    char *buf;
    size_t cap, start, end; /* unread bytes are buf[start..end) */
    uint64_t base;          /* input byte offset of buf[0] */
    size_t max_line;        /* longer lines are reported as too long */
    int eof;
    int skipping; /* discarding the rest of a too-long line */
    uint64_t line_no;
} line_reader;

/* One line, without its "\n" or "\r\n"; valid until the next lr_next. */
typedef struct lr_line {
    const char *ptr;
    size_t len;
    uint64_t no;  /* 1-based line number */
    uint64_t off; /* byte offset of its first byte in the input (after a
                     leading byte-order mark, which is skipped) */
    int too_long; /* ptr/len hold only the first max_line bytes */
} lr_line;

enum lr_result { LR_LINE, LR_AGAIN, LR_EOF, LR_ERROR };

/* Reads from fd (not owned: the caller closes it).  A UTF-8 byte-order mark
 * (EF BB BF) at the very start of the input is dropped: editors on Windows
 * write one, and it is not part of the first JSON value. */
void lr_init(line_reader *r, int fd, size_t max_line);
/* The next line.  May wait up to *wait_ms for data on a pipe; the time is
 * spent only once (*wait_ms becomes 0), so a batch of calls never waits
 * longer than the first one asked.  LR_AGAIN: no full line yet.
 * LR_ERROR: read failed, errno says why. */
int lr_next(line_reader *r, lr_line *out, int *wait_ms);
void lr_free(line_reader *r);
/* Before the first lr_next: the caller has positioned fd at byte `off`,
 * where line `line_no + 1` starts (a resumed read). */
void lr_start_at(line_reader *r, uint64_t off, uint64_t line_no);
#endif
