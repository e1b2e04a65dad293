/* http_stub.h - a scripted HTTP/1.1 responder on 127.0.0.1 for the sink's
 * tests (header-only: the build compiles only tests/test_*.c as mains).
 *
 * One thread accepts; each connection gets its own thread, so concurrent
 * requests can complete out of order (a scripted delay holds one back).
 * Responses are taken from the script in request arrival order; when the
 * script is used up, _bulk gets an all-success answer with one item per
 * document and anything else gets {"acknowledged":true}.  Every request is
 * recorded (method, path, headers, body gunzipped). */
#ifndef SH_HTTP_STUB_H
#define SH_HTTP_STUB_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define STUB_MAX_SCRIPT 64
#define STUB_MAX_REQS 256
#define STUB_MAX_CONNS 64

typedef struct stub_resp {
    int status;       /* HTTP status; 0 = close the connection without answering */
    const char *body; /* NULL: the automatic answer for this request */
    int delay_ms;     /* wait this long before answering */
    const char *headers; /* extra header lines, each ending in "\r\n", or NULL */
} stub_resp;

typedef struct stub_req {
    char method[16];
    char path[1024];
    char *headers; /* raw header block, "Name: value\r\n" lines */
    char *body;    /* decoded (gunzipped when Content-Encoding: gzip) */
    size_t body_len;
    char *raw_body; /* as received */
    size_t raw_len;
    int gzipped;
    int64_t at_ms; /* CLOCK_MONOTONIC ms when the request had fully arrived */
} stub_req;

typedef struct http_stub {
    int listen_fd;
    int port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    stub_resp script[STUB_MAX_SCRIPT];
    size_t nscript, next_resp;
    stub_req reqs[STUB_MAX_REQS];
    size_t nreqs;
    pthread_t conns[STUB_MAX_CONNS];
    int conn_fds[STUB_MAX_CONNS];
    size_t nconns;
    volatile int stopping;
} http_stub;

typedef struct stub_conn_arg {
    http_stub *st;
    int fd;
} stub_conn_arg;

/* strcasestr without needing _GNU_SOURCE before every include */
static inline const char *stub_find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

static inline char *stub_gunzip(const char *in, size_t len, size_t *outlen)
{
    size_t cap = len * 4 + 1024, n = 0;
    char *out = malloc(cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    inflateInit2(&z, 15 + 32);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    int rc;
    do {
        if (n + 1 >= cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        z.next_out = (Bytef *)out + n;
        z.avail_out = (uInt)(cap - n - 1);
        rc = inflate(&z, Z_NO_FLUSH);
        n = cap - 1 - z.avail_out;
    } while (rc == Z_OK);
    inflateEnd(&z);
    out[n] = '\0';
    *outlen = n;
    return out;
}

/* Number of documents (action lines) in an NDJSON _bulk body. */
static inline size_t stub_bulk_docs(const char *body, size_t len)
{
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += body[i] == '\n';
    return lines / 2;
}

static inline char *stub_auto_body(const stub_req *r)
{
    if (strncmp(r->path, "/_bulk", 6) != 0 && !strstr(r->path, "/_bulk"))
        return strdup("{\"acknowledged\":true}");
    size_t n = stub_bulk_docs(r->body, r->body_len);
    size_t cap = 64 + n * 32;
    char *b = malloc(cap);
    size_t o = (size_t)snprintf(b, cap, "{\"took\":1,\"errors\":false,\"items\":[");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(b + o, cap - o, "%s{\"index\":{\"status\":201}}", i ? "," : "");
    snprintf(b + o, cap - o, "]}");
    return b;
}

static inline int stub_read_more(int fd, char **buf, size_t *len, size_t *cap)
{
    if (*len + 4096 > *cap) {
        *cap = (*cap + 4096) * 2;
        *buf = realloc(*buf, *cap);
    }
    ssize_t k = recv(fd, *buf + *len, *cap - *len - 1, 0);
    if (k <= 0)
        return -1;
    *len += (size_t)k;
    (*buf)[*len] = '\0';
    return 0;
}

static inline void stub_send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

static inline void *stub_conn_main(void *arg)
{
    stub_conn_arg a = *(stub_conn_arg *)arg;
    free(arg);
    http_stub *st = a.st;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        char *end;
        while (!(end = buf ? strstr(buf, "\r\n\r\n") : NULL))
            if (stub_read_more(a.fd, &buf, &len, &cap) != 0)
                goto out;
        size_t hdr_len = (size_t)(end - buf) + 4;
        size_t clen = 0;
        const char *cl = stub_find_ci(buf, "\r\nContent-Length:");
        if (cl && cl < end)
            clen = strtoul(cl + 17, NULL, 10);
        while (len < hdr_len + clen)
            if (stub_read_more(a.fd, &buf, &len, &cap) != 0)
                goto out;
        stub_req r;
        memset(&r, 0, sizeof r);
        struct timespec now_ts;
        clock_gettime(CLOCK_MONOTONIC, &now_ts);
        r.at_ms = (int64_t)now_ts.tv_sec * 1000 + now_ts.tv_nsec / 1000000;
        sscanf(buf, "%15s %1023s", r.method, r.path);
        const char *line_end = strstr(buf, "\r\n");
        size_t hl = (size_t)(end - line_end);
        r.headers = malloc(hl + 3);
        memcpy(r.headers, line_end + 2, hl);
        r.headers[hl] = '\0';
        r.raw_body = malloc(clen + 1);
        memcpy(r.raw_body, buf + hdr_len, clen);
        r.raw_body[clen] = '\0';
        r.raw_len = clen;
        const char *ce = stub_find_ci(r.headers, "Content-Encoding: gzip");
        if (ce) {
            r.gzipped = 1;
            r.body = stub_gunzip(r.raw_body, clen, &r.body_len);
        } else {
            r.body = malloc(clen + 1);
            memcpy(r.body, r.raw_body, clen + 1);
            r.body_len = clen;
        }
        memmove(buf, buf + hdr_len + clen, len - hdr_len - clen);
        len -= hdr_len + clen;
        buf[len] = '\0';

        pthread_mutex_lock(&st->mu);
        stub_resp resp = {200, NULL, 0, NULL};
        if (st->next_resp < st->nscript)
            resp = st->script[st->next_resp++];
        char *auto_body = resp.body ? NULL : stub_auto_body(&r);
        if (st->nreqs < STUB_MAX_REQS)
            st->reqs[st->nreqs++] = r;
        else {
            free(r.headers);
            free(r.body);
            free(r.raw_body);
        }
        pthread_mutex_unlock(&st->mu);

        if (resp.delay_ms)
            usleep((useconds_t)resp.delay_ms * 1000);
        if (resp.status == 0) {
            free(auto_body);
            goto out;
        }
        const char *body = resp.body ? resp.body : auto_body;
        char head[1024];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 %d Scripted\r\nContent-Type: application/json\r\n"
                         "%sContent-Length: %zu\r\n\r\n",
                         resp.status, resp.headers ? resp.headers : "", strlen(body));
        stub_send_all(a.fd, head, (size_t)n);
        stub_send_all(a.fd, body, strlen(body));
        free(auto_body);
    }
out:
    free(buf);
    shutdown(a.fd, SHUT_RDWR);
    return NULL;
}

static inline void *stub_accept_main(void *arg)
{
    http_stub *st = arg;
    while (!st->stopping) {
        struct pollfd p = {st->listen_fd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(st->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&st->mu);
        if (st->nconns == STUB_MAX_CONNS) {
            pthread_mutex_unlock(&st->mu);
            close(fd);
            continue;
        }
        stub_conn_arg *a = malloc(sizeof *a);
        a->st = st;
        a->fd = fd;
        st->conn_fds[st->nconns] = fd;
        pthread_create(&st->conns[st->nconns], NULL, stub_conn_main, a);
        st->nconns++;
        pthread_mutex_unlock(&st->mu);
    }
    return NULL;
}

/* Starts the stub on an ephemeral port of 127.0.0.1. */
static inline http_stub *stub_start(void)
{
    http_stub *st = calloc(1, sizeof *st);
    pthread_mutex_init(&st->mu, NULL);
    st->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(st->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(st->listen_fd, (struct sockaddr *)&sa, sizeof sa);
    socklen_t sl = sizeof sa;
    getsockname(st->listen_fd, (struct sockaddr *)&sa, &sl);
    st->port = ntohs(sa.sin_port);
    listen(st->listen_fd, 16);
    pthread_create(&st->acceptor, NULL, stub_accept_main, st);
    return st;
}

/* Appends responses to the script (before the requests they answer). */
static inline void stub_script(http_stub *st, int status, const char *body, int delay_ms)
{
    pthread_mutex_lock(&st->mu);
    if (st->nscript < STUB_MAX_SCRIPT)
        st->script[st->nscript++] = (stub_resp){status, body, delay_ms, NULL};
    pthread_mutex_unlock(&st->mu);
}

/* The same with extra header lines ("Retry-After: 1\r\n"). */
static inline void stub_script_headers(http_stub *st, int status, const char *body,
                                       const char *headers)
{
    pthread_mutex_lock(&st->mu);
    if (st->nscript < STUB_MAX_SCRIPT)
        st->script[st->nscript++] = (stub_resp){status, body, 0, headers};
    pthread_mutex_unlock(&st->mu);
}

static inline size_t stub_nreqs(http_stub *st)
{
    pthread_mutex_lock(&st->mu);
    size_t n = st->nreqs;
    pthread_mutex_unlock(&st->mu);
    return n;
}

/* Request i (valid after stub_nreqs() > i; entries never move). */
static inline const stub_req *stub_req_at(http_stub *st, size_t i)
{
    return &st->reqs[i];
}

/* Value of header `name` in request r into out ("" when absent). */
static inline void stub_header(const stub_req *r, const char *name, char *out, size_t outlen)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *e = strstr(p, "\r\n");
        size_t ll = e ? (size_t)(e - p) : strlen(p);
        if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = ll - (size_t)(v - p);
            if (vl >= outlen)
                vl = outlen - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return;
        }
        if (!e)
            break;
        p = e + 2;
    }
}

static inline void stub_stop(http_stub *st)
{
    st->stopping = 1;
    pthread_join(st->acceptor, NULL);
    close(st->listen_fd);
    pthread_mutex_lock(&st->mu);
    size_t n = st->nconns;
    for (size_t i = 0; i < n; i++)
        shutdown(st->conn_fds[i], SHUT_RDWR);
    pthread_mutex_unlock(&st->mu);
    for (size_t i = 0; i < n; i++) {
        pthread_join(st->conns[i], NULL);
        close(st->conn_fds[i]);
    }
    for (size_t i = 0; i < st->nreqs; i++) {
        free(st->reqs[i].headers);
        free(st->reqs[i].body);
        free(st->reqs[i].raw_body);
    }
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* A port on 127.0.0.1 where nothing listens (bound, then released). */
static inline int stub_dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    return ntohs(sa.sin_port);
}

#endif
