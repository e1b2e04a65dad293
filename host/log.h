/* log.h - the host's logger: one line per message on stderr.  Control
 * characters in a message (a newline in an environment value, say) are
 * written escaped, so one message is always exactly one line. */
#ifndef SH_LOG_H
#define SH_LOG_H
#include "streamhost/plugin.h"
#include <stdarg.h>
#include <stddef.h>

extern int sh_log_threshold;          /* messages above this level are dropped */
void sh_log_set_level(int level);
int sh_log_parse_level(const char *s); /* -1 when unknown */
/* who: component name or NULL for the host itself */
void sh_logv(int level, const char *who, const char *fmt, va_list ap);
void sh_log(int level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define LOG_ERROR(...) sh_log(SH_LOG_ERROR, NULL, __VA_ARGS__)
#define LOG_WARN(...) sh_log(SH_LOG_WARN, NULL, __VA_ARGS__)
#define LOG_INFO(...) sh_log(SH_LOG_INFO, NULL, __VA_ARGS__)
#define LOG_DEBUG(...) sh_log(SH_LOG_DEBUG, NULL, __VA_ARGS__)
/* Called before a log line is written (e.g. to clear a live progress line). */
extern void (*sh_log_before_write)(void);

/* While set, every message (before the level filter and escaping) is first
 * offered to this function; when it returns nonzero the message is taken
 * and not written.  pipeline_build uses it to turn what a plugin's
 * validate() logs into config errors. */
extern int (*sh_log_capture)(void *arg, int level, const char *who, const char *msg);
extern void *sh_log_capture_arg;

/* Copies `src` into `dst` (always NUL-terminated, cut to fit) with control
 * characters written as \n, \r, \t or \xHH; returns the length written. */
size_t sh_log_escape(char *dst, size_t dstlen, const char *src);
#endif
