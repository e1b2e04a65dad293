/* dash_server.c - see dash_server.h.
 *
 * Live updates are polling with ETags, not Server-Sent Events: the data
 * changes at most once per closed window (every few seconds), so a push
 * channel buys no visible latency, while it would hold one connection slot
 * per open tab for ever (MHD would have to suspend and resume connections
 * across threads), break behind proxies that buffer, and need reconnection
 * logic in the page.  A poll whose data has not changed costs one 304 with
 * no body.
 *
 * Limits as in the metrics server (host/http_metrics.c): a connection limit,
 * a per-address limit, and an idle timeout that frees the slots of clients
 * that stall. */
#include "dash_server.h"
#include "web_assets.h" /* generated at build time by embed_web.sh */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DASH_MAX_CONNS 64u
#define DASH_MAX_CONNS_PER_IP 32u
#define DASH_IDLE_TIMEOUT_S 30u /* a tab polls every few seconds on a kept-alive connection */

struct dash_server {
    struct MHD_Daemon *daemon;
    dash_data_fn data_fn;
    void *arg;
    char boot[24]; /* part of every ETag, so a restarted process never answers 304 to an old page */
};

size_t dash_asset_count(void) { return DASH_NASSETS; }

int dash_asset_find(const char *path, const char **type, const unsigned char **data, size_t *len)
{
    if (!path)
        return -1;
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (size_t i = 0; i < DASH_NASSETS; i++)
        if (strcmp(dash_assets[i].path, path) == 0) {
            *type = dash_assets[i].type;
            *data = dash_assets[i].data;
            *len = dash_assets[i].len;
            return 0;
        }
    return -1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, const void *body,
                            size_t len, enum MHD_ResponseMemoryMode mode, const char *cache, const char *etag)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (!r)
        return MHD_NO;
    if (type)
        MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", cache);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
    if (etag)
        MHD_add_response_header(r, "ETag", etag);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned code, const char *msg)
{
    return reply(c, code, "text/plain; charset=utf-8", msg, strlen(msg), MHD_RESPMEM_PERSISTENT, "no-store", NULL);
}

/* /api/windows: the data, or 304 when If-None-Match names the current version. */
static enum MHD_Result data(dash_server *s, struct MHD_Connection *c)
{
    uint64_t known = 0;
    int have_known = 0;
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    size_t bl = strlen(s->boot);
    /* our ETags are "BOOT-VERSION" */
    if (inm && inm[0] == '"' && strncmp(inm + 1, s->boot, bl) == 0 && inm[1 + bl] == '-') {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(inm + 2 + bl, &end, 10);
        if (!errno && end != inm + 2 + bl && end[0] == '"' && end[1] == '\0') {
            known = v;
            have_known = 1;
        }
    }
    sh_buf b = {0};
    uint64_t version = 0;
    int rendered = s->data_fn(s->arg, known, have_known, &b, &version);
    char etag[64];
    snprintf(etag, sizeof etag, "\"%s-%" PRIu64 "\"", s->boot, rendered ? version : known);
    enum MHD_Result r;
    if (!rendered)
        r = reply(c, MHD_HTTP_NOT_MODIFIED, NULL, "", 0, MHD_RESPMEM_PERSISTENT, "no-cache", etag);
    else if (b.oom)
        r = text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory rendering the data; try again\n");
    else
        r = reply(c, MHD_HTTP_OK, "application/json", b.data ? b.data : "{}", b.data ? b.len : 2,
                 MHD_RESPMEM_MUST_COPY, "no-cache", etag);
    sh_buf_free(&b);
    return r;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)con_cls;
    dash_server *s = cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        if (*upload_size) { /* swallow any body, then answer */
            *upload_size = 0;
            return MHD_YES;
        }
        return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
    }
    if (strcmp(url, "/api/windows") == 0)
        return data(s, c);
    const char *type;
    const unsigned char *body;
    size_t len;
    if (dash_asset_find(url, &type, &body, &len) == 0)
        return reply(c, MHD_HTTP_OK, type, body, len, MHD_RESPMEM_PERSISTENT, "no-cache", NULL);
    return text(c, MHD_HTTP_NOT_FOUND, "not found: the dashboard is at /, its data at /api/windows\n");
}

/* MHD's diagnostics (a client that closes early, a limit reached) come from
 * its own thread, where host services must not be called; they are
 * everyday noise for a dashboard and are dropped. */
static void mhd_quiet(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)fmt;
    (void)ap;
}

/* A listening socket on address:port, or -1 with the reason in err. */
static int listen_on(const char *address, int port, int *v6, int *bound_port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, address, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        sl = sizeof *a4;
        *v6 = 0;
    } else if (inet_pton(AF_INET6, address, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        sl = sizeof *a6;
        *v6 = 1;
    } else {
        snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", address);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* restart right after a stop */
    if (*v6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 64) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *bound_port = ntohs(ss.ss_family == AF_INET6 ? a6->sin6_port : a4->sin_port);
    else
        *bound_port = port;
    return fd;
}

dash_server *dash_server_start(const char *address, int port, dash_data_fn data_fn, void *arg, int *bound_port,
                               char *err, size_t errlen)
{
    int v6 = 0;
    int fd = listen_on(address, port, &v6, bound_port, err, errlen);
    if (fd < 0)
        return NULL;
    dash_server *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->data_fn = data_fn;
    s->arg = arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(s->boot, sizeof s->boot, "%llx", (unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)(ts.tv_nsec / 1000000));
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_quiet, NULL,
                                 MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, DASH_MAX_CONNS,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, DASH_MAX_CONNS_PER_IP,
                                 MHD_OPTION_CONNECTION_TIMEOUT, DASH_IDLE_TIMEOUT_S, MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "libmicrohttpd could not start its server thread");
        close(fd);
        free(s);
        return NULL;
    }
    return s;
}

void dash_server_stop(dash_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon); /* closes the listening socket too */
    free(s);
}
