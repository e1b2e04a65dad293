/* redact.c - keep credentials out of log lines.
 *
 * URLs are the one place a secret can slip into a message (userinfo such as
 * https://user:secret@host).  Every URL this plugin logs goes through here. */
#include "opensearch_sink.h"

#include <string.h>

void os_redact_url(const char *url, char *out, size_t outlen)
{
    if (!outlen)
        return;
    if (!url)
        url = "";
    /* userinfo is what lies between "//" and the last '@' before the path */
    const char *auth = strstr(url, "//");
    const char *start = auth ? auth + 2 : url;
    const char *end = start + strcspn(start, "/?#");
    const char *at = NULL;
    for (const char *p = start; p < end; p++)
        if (*p == '@')
            at = p;
    size_t o = 0;
#define PUT(ptr, n)                                                             \
    do {                                                                        \
        size_t k_ = (n);                                                        \
        if (k_ > outlen - 1 - o)                                                \
            k_ = outlen - 1 - o;                                                \
        memcpy(out + o, (ptr), k_);                                             \
        o += k_;                                                                \
    } while (0)
    if (!at) {
        PUT(url, strlen(url));
    } else {
        PUT(url, (size_t)(start - url));
        PUT("***", 3);
        PUT(at, strlen(at));
    }
#undef PUT
    out[o] = '\0';
}
