/* redact.c - keep credentials out of log lines and dead letters.
 *
 * The plugin never formats a secret into a message itself; two ways remain
 * for one to slip in: a URL's userinfo (https://user:secret@host; every URL
 * this plugin logs goes through os_redact_url), and text that comes from
 * outside (an error body a server or a proxy echoes back, say with the
 * Authorization header, or curl's error text), which goes through
 * os_redact_secrets before it is logged or put into a dead letter's reason. */
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

/* Replaces every occurrence of secret (when it is not empty) in buf. */
static void redact_one(char *buf, size_t bufsize, const char *secret)
{
    static const char mark[] = "<redacted>";
    size_t sl = secret ? strlen(secret) : 0;
    if (!sl || !bufsize)
        return;
    char *p = buf;
    while ((p = strstr(p, secret))) {
        size_t tail = strlen(p + sl);
        size_t room = bufsize - 1 - (size_t)(p - buf); /* bytes from p to the last usable */
        size_t ml = sizeof mark - 1 < room ? sizeof mark - 1 : room;
        size_t keep = tail < room - ml ? tail : room - ml;
        memmove(p + ml, p + sl, keep);
        memcpy(p, mark, ml);
        p[ml + keep] = '\0';
        p += ml;
    }
}

void os_redact_secrets(const os_config *c, char *buf, size_t bufsize)
{
    if (!c || !buf || !bufsize)
        return;
    redact_one(buf, bufsize, c->password);
    redact_one(buf, bufsize, c->basic_b64);
    redact_one(buf, bufsize, c->aws_secret_key);
    redact_one(buf, bufsize, c->aws_session_token);
}
