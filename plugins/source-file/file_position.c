/* file_position.c - see file_position.h.  The state file is text, one
 * "key value" per line, so that an operator can read it (and delete it to
 * start over):
 *
 *   # streamhost file source: committed read position of INPUT
 *   # delete this file to read INPUT from the start again
 *   version 1
 *   file DEV:INO
 *   line N                      (the next line to read, from 1)
 *   meta TEXT                   (the rest of the line, may be empty)
 */
#include "file_position.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void file_position_free(file_position *pos)
{
    free(pos->meta);
    pos->meta = NULL;
}

int file_position_load(const char *path, file_position *pos, char *err, size_t errlen)
{
    memset(pos, 0, sizeof *pos);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[8192];
    int version = 0, have_file = 0, have_offset = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n')
            line[--n] = 0;
        else if (!feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long; delete the file to read the input from the start",
                     path, lineno);
            goto bad;
        }
        if (!n || line[0] == '#')
            continue;
        char *val = strchr(line, ' ');
        const char *v = val ? val + 1 : "";
        if (val)
            *val = 0;
        unsigned long long a, b;
        long long o;
        char tail;
        if (strcmp(line, "version") == 0 && sscanf(v, "%d%c", &version, &tail) == 1) {
            continue;
        } else if (strcmp(line, "file") == 0 && sscanf(v, "%llu:%llu%c", &a, &b, &tail) == 2) {
            pos->dev = a;
            pos->ino = b;
            have_file = 1;
        } else if (strcmp(line, "line") == 0 && sscanf(v, "%lld%c", &o, &tail) == 1 && o >= 1) {
            pos->line = o;
            have_offset = 1;
        } else if (strcmp(line, "meta") == 0) {
            free(pos->meta);
            if (!(pos->meta = strdup(v))) {
                snprintf(err, errlen, "out of memory reading %s", path);
                goto bad;
            }
        } else {
            snprintf(err, errlen, "%s:%d: '%s' is not a line of a file source state file; delete the file to "
                     "read the input from the start", path, lineno, line);
            goto bad;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        goto bad;
    }
    if (version != 1 || !have_file || !have_offset) {
        snprintf(err, errlen, "%s is not a version 1 file source state file (%s missing); delete it to read "
                 "the input from the start", path, version != 1 ? "version 1" : !have_file ? "file" : "line");
        goto bad;
    }
    fclose(f);
    if (!pos->meta && !(pos->meta = strdup(""))) {
        snprintf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    return 0;
bad:
    fclose(f);
    file_position_free(pos);
    return -1;
}

int file_position_save(const char *path, const char *input, const file_position *pos, char *err,
                       size_t errlen)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 8), *dir = strdup(path);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(tmp, n + 8, "%s.tmp", path);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    /* meta is the host's fences text: one line, no newline in it */
    const char *meta = pos->meta ? pos->meta : "";
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    fprintf(f, "# streamhost file source: committed read position of %s\n"
               "# delete this file to read it from the start again\n"
               "version 1\nfile %" PRIu64 ":%" PRIu64 "\nline %" PRId64 "\nmeta %.*s\n",
            input, pos->dev, pos->ino, pos->line, (int)strcspn(meta, "\n"), meta);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        fclose(f);
        goto out;
    }
    if (fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the rename itself durable */
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
out:
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    free(dir);
    return rc;
}

int64_t file_position_line_start(int fd, int64_t line)
{
    char buf[1 << 16];
    int64_t need = line - 1, at = 0;
    while (need > 0) {
        ssize_t n = pread(fd, buf, sizeof buf, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        const char *p = buf, *end = buf + n;
        while (need > 0 && (p = memchr(p, '\n', (size_t)(end - p)))) {
            p++;
            need--;
        }
        at += need ? n : p - buf;
    }
    return at;
}
