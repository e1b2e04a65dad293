/* http_requests.c - concurrent HTTP requests through libcurl's multi
 * interface, driven from the host's callbacks without blocking.
 *
 * A fixed set of request slots (max_in_flight easy handles) is reused for
 * every request, so connections stay alive in the multi handle's cache and
 * nothing is allocated per request except curl's header list.  The host
 * thread calls os_http_perform() (through delivery.c) from process(), tick(),
 * busy() and flush(), and hands each finished request back to its caller;
 * curl_multi_perform() only moves bytes that are ready, so no callback ever
 * waits on the network, except flush(final) which may wait a bounded time. */
#include "opensearch_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef SH_VERSION
#define SH_VERSION "dev"
#endif

/* Only the fields the sink acts on: errors, and per item its status and
 * error type and reason.  A 5000-document success answer shrinks from about
 * 1 MiB to 100 KiB.  Encoded as sent, so SigV4 signs what goes out. */
#define BULK_QUERY "filter_path=errors%2Citems.%2A.status%2Citems.%2A.error.type%2Citems.%2A.error.reason"

/* A response larger than this is not a _bulk answer we asked for. */
#define MAX_RESPONSE_BYTES ((size_t)64 << 20)

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    os_request *rq = arg;
    size_t len = size * n;
    if (rq->resp.len + len > MAX_RESPONSE_BYTES)
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    sh_buf_add(&rq->resp, p, len);
    return rq->resp.oom ? 0 : len;
}

/* Headers: only Retry-After matters (to 429 and 503, see delivery.c). */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    os_request *rq = arg;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        rq->retry_after_ms = -1; /* a new response's status line */
    } else if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        rq->retry_after_ms = os_retry_after_ms(p + 12, len - 12,
                                               (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    }
    return len;
}

static int setup_handle(os_sink *s, os_request *rq)
{
    const os_config *c = &s->cfg;
    CURL *e = curl_easy_init();
    if (!e)
        return -1;
    rq->easy = e;
    rq->template_idx = -1;
    curl_easy_setopt(e, CURLOPT_PRIVATE, rq);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, rq);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, rq);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, rq->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(c->timeout_ms < 10000 ? c->timeout_ms : 10000));
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* responses gzip'd when offered */
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "streamhost-sink-opensearch/" SH_VERSION);
    /* Redirects would carry credentials to wherever they point. */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    if (c->tls_ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->tls_ca_file);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
    if (c->auth == OS_AUTH_BASIC) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, c->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, c->password);
    }
    return 0;
}

int os_http_init(os_sink *s)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    s->multi = curl_multi_init();
    if (!s->multi)
        return -1;
    s->nreqs = s->cfg.max_in_flight;
    s->reqs = calloc(s->nreqs, sizeof *s->reqs);
    if (!s->reqs)
        return -1;
    for (size_t i = 0; i < s->nreqs; i++)
        if (setup_handle(s, &s->reqs[i]) != 0)
            return -1;
    return 0;
}

void os_http_free(os_sink *s)
{
    for (size_t i = 0; s->reqs && i < s->nreqs; i++) {
        os_request *rq = &s->reqs[i];
        if (rq->busy && s->multi)
            curl_multi_remove_handle(s->multi, rq->easy);
        if (rq->easy)
            curl_easy_cleanup(rq->easy);
        curl_slist_free_all(rq->headers);
        sh_buf_free(&rq->resp);
        os_batch_free(rq->batch);
    }
    free(s->reqs);
    s->reqs = NULL;
    if (s->multi)
        curl_multi_cleanup(s->multi);
    s->multi = NULL;
    curl_global_cleanup();
}

static os_request *free_slot(os_sink *s)
{
    for (size_t i = 0; i < s->nreqs; i++)
        if (!s->reqs[i].busy)
            return &s->reqs[i];
    return NULL;
}

static struct curl_slist *add_header(struct curl_slist *l, int *ok, const char *name,
                                     const char *value)
{
    char line[1024];
    snprintf(line, sizeof line, "%s: %s", name, value);
    struct curl_slist *n = curl_slist_append(l, line);
    if (!n) {
        *ok = 0;
        return l;
    }
    return n;
}

/* Builds headers (signing when configured) and hands the request to curl. */
static int start(os_sink *s, os_request *rq, const char *method, const char *rel_path,
                 const char *query, const char *content_type, const void *body, size_t len,
                 int gzipped)
{
    const os_config *c = &s->cfg;
    int ok = 1;
    struct curl_slist *h = NULL;
    h = add_header(h, &ok, "Content-Type", content_type);
    if (gzipped)
        h = add_header(h, &ok, "Content-Encoding", "gzip");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    if (!h)
        return -1;

    s->url.len = 0;
    sh_buf_puts(&s->url, c->base_path);
    sh_buf_puts(&s->url, rel_path);
    if (c->auth == OS_AUTH_SIGV4) {
        char date[17];
        sigv4_amz_date(s->host->now_ms(s->ctx), date);
        sigv4_header hosth = {"host", c->host_header};
        sigv4_request sr = {
            .method = method, .path = s->url.data, .query = query, .headers = &hosth,
            .nheaders = 1, .body = body, .body_len = len, .amz_date = date,
            .region = c->aws_region, .service = c->aws_service,
            .access_key = c->aws_access_key, .secret_key = c->aws_secret_key,
            .session_token = c->aws_session_token, .sign_content_sha256 = 1};
        sigv4_result res;
        if (sigv4_sign(&sr, &res, NULL, NULL) != 0) {
            curl_slist_free_all(h);
            return -1;
        }
        h = add_header(h, &ok, "Host", c->host_header);
        h = add_header(h, &ok, "X-Amz-Date", date);
        h = add_header(h, &ok, "X-Amz-Content-Sha256", res.payload_sha256);
        if (c->aws_session_token) {
            /* tokens run to about 1 KiB: too long for add_header's line */
            size_t n = strlen(c->aws_session_token) + 32;
            char *line = malloc(n);
            struct curl_slist *nh = NULL;
            if (line) {
                snprintf(line, n, "X-Amz-Security-Token: %s", c->aws_session_token);
                nh = curl_slist_append(h, line);
                memset(line, 0, n);
                free(line);
            }
            if (nh)
                h = nh;
            else
                ok = 0;
        }
        h = add_header(h, &ok, "Authorization", res.authorization);
        memset(&res, 0, sizeof res);
    }
    if (!ok) {
        curl_slist_free_all(h);
        return -1;
    }

    s->url.len = 0;
    sh_buf_puts(&s->url, c->base_url);
    sh_buf_puts(&s->url, rel_path);
    if (query) {
        sh_buf_putc(&s->url, '?');
        sh_buf_puts(&s->url, query);
    }
    if (s->url.oom) {
        s->url.oom = 0;
        curl_slist_free_all(h);
        return -1;
    }
    CURL *e = rq->easy;
    curl_easy_setopt(e, CURLOPT_URL, s->url.data);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") == 0 ? NULL : method);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    rq->errbuf[0] = '\0';
    rq->retry_after_ms = -1;
    rq->resp.len = 0;
    rq->resp.oom = 0;
    if (curl_multi_add_handle(s->multi, e) != CURLM_OK) {
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(h);
        return -1;
    }
    curl_slist_free_all(rq->headers);
    rq->headers = h;
    rq->busy = 1;
    rq->sent_bytes = len;
    rq->started_ms = s->host->mono_ms(s->ctx);
    s->in_flight++;
    *s->m.in_flight_bytes += (int64_t)len;
    return 0;
}

int os_http_start_bulk(os_sink *s, os_batch *b)
{
    os_request *rq = free_slot(s);
    if (!rq)
        return -1;
    const void *body = b->body.data;
    size_t len = b->body.len;
    int gz = 0;
    if (s->cfg.gzip && os_gzip_batch(&s->z, b) == 0) {
        body = b->gz.data;
        len = b->gz.len;
        gz = 1;
    }
    if (start(s, rq, "POST", "/_bulk", BULK_QUERY, "application/x-ndjson", body, len, gz) != 0)
        return -1;
    rq->batch = b;
    rq->template_idx = -1;
    (*s->m.bulk_requests)++;
    return 0;
}

int os_http_start_template(os_sink *s, int idx)
{
    os_request *rq = free_slot(s);
    if (!rq)
        return -1;
    os_template *t = &s->templates[idx];
    if (start(s, rq, "PUT", t->path, NULL, "application/json", t->body.data, t->body.len, 0) != 0)
        return -1;
    rq->batch = NULL;
    rq->template_idx = idx;
    return 0;
}

void os_http_perform(os_sink *s, int wait_ms)
{
    int running = 0;
    if (wait_ms > 0)
        curl_multi_poll(s->multi, NULL, 0, wait_ms, NULL);
    curl_multi_perform(s->multi, &running);
}

os_request *os_http_finished(os_sink *s, CURLcode *cc, long *status)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        os_request *rq = NULL;
        *cc = msg->data.result;
        *status = 0;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&rq);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
        curl_multi_remove_handle(s->multi, e);
        rq->busy = 0;
        s->in_flight--;
        *s->m.in_flight_bytes -= (int64_t)rq->sent_bytes;
        int64_t took = s->host->mono_ms(s->ctx) - rq->started_ms;
        if (s->m.request_seconds)
            s->host->observe(s->ctx, s->m.request_seconds, (double)(took > 0 ? took : 0) / 1000.0);
        return rq;
    }
    return NULL;
}
