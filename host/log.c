/* log.c - leveled one-line logging to stderr, with UTC timestamps. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

int sh_log_threshold = SH_LOG_INFO;
void (*sh_log_before_write)(void);
int (*sh_log_capture)(void *arg, int level, const char *who, const char *msg);
void *sh_log_capture_arg;

void sh_log_set_level(int level) { sh_log_threshold = level; }

int sh_log_parse_level(const char *s)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    if (strcasecmp(s, "warning") == 0)
        return SH_LOG_WARN;
    return -1;
}

size_t sh_log_escape(char *dst, size_t dstlen, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!dstlen)
        return 0;
    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        char esc[5];
        size_t n = 0;
        if (*p >= 0x20 && *p != 0x7f) {
            esc[n++] = (char)*p;
        } else {
            esc[n++] = '\\';
            if (*p == '\n')
                esc[n++] = 'n';
            else if (*p == '\r')
                esc[n++] = 'r';
            else if (*p == '\t')
                esc[n++] = 't';
            else {
                esc[n++] = 'x';
                esc[n++] = hex[*p >> 4];
                esc[n++] = hex[*p & 15];
            }
        }
        if (o + n >= dstlen)
            break;
        memcpy(dst + o, esc, n);
        o += n;
    }
    dst[o] = '\0';
    return o;
}

void sh_logv(int level, const char *who, const char *fmt, va_list ap)
{
    static const char *tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    char msg[4096];
    if (sh_log_capture) {
        va_list cp;
        va_copy(cp, ap);
        vsnprintf(msg, sizeof msg, fmt, cp);
        va_end(cp);
        if (sh_log_capture(sh_log_capture_arg, level, who, msg))
            return;
    }
    if (level > sh_log_threshold)
        return;
    if (level < 0 || level > 3)
        level = SH_LOG_ERROR;
    char line[4096 + 128];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char name[128];
    if (who)
        sh_log_escape(name, sizeof name, who);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s %s%s%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), tags[level],
                     who ? "[" : "", who ? name : "", who ? "] " : "");
    if (n < 0 || (size_t)n >= sizeof line)
        n = 0;
    vsnprintf(msg, sizeof msg, fmt, ap);
    sh_log_escape(line + n, sizeof line - (size_t)n, msg);
    if (sh_log_before_write)
        sh_log_before_write();
    fprintf(stderr, "%s\n", line);
}

void sh_log(int level, const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sh_logv(level, who, fmt, ap);
    va_end(ap);
}
