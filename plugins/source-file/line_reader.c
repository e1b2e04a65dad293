/* line_reader.c - see line_reader.h. */
#include "line_reader.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LR_FIRST_CAP 65536

void lr_init(line_reader *r, int fd, size_t max_line)
{
    struct stat st;
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->max_line = max_line ? max_line : 1;
    r->wait_for_data = fstat(fd, &st) != 0 || !S_ISREG(st.st_mode);
}

void lr_start_at(line_reader *r, uint64_t off, uint64_t line_no)
{
    r->base = off;
    r->line_no = line_no;
}

void lr_free(line_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

static void emit(line_reader *r, lr_line *out, const char *p, size_t len, int too_long)
{
    if (!too_long && len && p[len - 1] == '\r')
        len--;
    out->off = r->base + (uint64_t)(p - r->buf);
    if (r->line_no == 0 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        len -= 3;
        out->off += 3;
    }
    out->ptr = p;
    out->len = len;
    out->no = ++r->line_no;
    out->too_long = too_long;
}

/* Makes room at the end of the buffer: compacts, then grows up to the line
 * limit.  Returns 0 when there is room, 1 when a line fills the limit. */
static int make_room(line_reader *r)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->base += r->start;
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end < r->cap)
        return 0;
    if (r->cap >= r->max_line)
        return 1;
    size_t cap = r->cap ? r->cap * 2 : LR_FIRST_CAP;
    if (cap > r->max_line)
        cap = r->max_line;
    char *p = realloc(r->buf, cap);
    if (!p)
        return -1;
    r->buf = p;
    r->cap = cap;
    return 0;
}

int lr_next(line_reader *r, lr_line *out, int *wait_ms)
{
    for (;;) {
        char *nl = r->end > r->start ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
        if (nl) {
            char *line = r->buf + r->start;
            r->start = (size_t)(nl - r->buf) + 1;
            if (r->skipping) { /* tail of a line already reported */
                r->skipping = 0;
                continue;
            }
            emit(r, out, line, (size_t)(nl - line), 0);
            return LR_LINE;
        }
        if (r->eof) {
            if (r->end > r->start && !r->skipping) { /* last line, no "\n" */
                char *line = r->buf + r->start;
                size_t len = r->end - r->start;
                r->start = r->end;
                emit(r, out, line, len, 0);
                return LR_LINE;
            }
            r->start = r->end;
            return LR_EOF;
        }
        if (r->skipping)
            r->start = r->end; /* drop what we have of the too-long line */
        int full = make_room(r);
        if (full < 0) {
            errno = ENOMEM;
            return LR_ERROR;
        }
        if (full) { /* report the first max_line bytes, skip to the next "\n" */
            r->skipping = 1;
            r->start = r->end;
            emit(r, out, r->buf, r->end, 1);
            return LR_LINE;
        }
        if (r->wait_for_data) {
            struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
            int ready = poll(&pfd, 1, *wait_ms);
            *wait_ms = 0;
            if (ready < 0 && errno != EINTR)
                return LR_ERROR;
            if (ready <= 0)
                return LR_AGAIN;
        }
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return LR_AGAIN;
            return LR_ERROR;
        }
        if (n == 0)
            r->eof = 1;
        r->end += (size_t)n;
    }
}
