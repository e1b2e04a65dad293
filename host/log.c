/* log.c - leveled one-line logging to stderr, with UTC timestamps. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

int sh_log_threshold = SH_LOG_INFO;
void (*sh_log_before_write)(void);

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

void sh_logv(int level, const char *who, const char *fmt, va_list ap)
{
    static const char *tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    if (level > sh_log_threshold)
        return;
    if (level < 0 || level > 3)
        level = SH_LOG_ERROR;
    char line[4096];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s %s%s%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), tags[level],
                     who ? "[" : "", who ? who : "", who ? "] " : "");
    if (n < 0 || (size_t)n >= sizeof line)
        n = 0;
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
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
