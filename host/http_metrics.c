/* http_metrics.c - the operator's window into a running host. */
#include "http_metrics.h"
#include "log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static struct MHD_Daemon *daemon_;
static pipeline *pl_;
static volatile int ready_;

void http_metrics_set_ready(int ready) { ready_ = ready; }

static void esc_label(sh_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sh_buf_putc(b, '\\');
        if (*s == '\n') {
            sh_buf_puts(b, "\\n");
            continue;
        }
        sh_buf_putc(b, *s);
    }
}

static void line(sh_buf *b, const char *name, const char *component, const char *label, double v, int is_int,
                 int64_t iv)
{
    sh_buf_puts(b, "streamhost_");
    sh_buf_puts(b, name);
    sh_buf_puts(b, "{component=\"");
    esc_label(b, component);
    sh_buf_putc(b, '"');
    if (label) {
        sh_buf_putc(b, ',');
        sh_buf_puts(b, label);
    }
    sh_buf_puts(b, "} ");
    if (is_int) {
        sh_buf_int(b, iv);
    } else {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.3f", v);
        sh_buf_puts(b, tmp);
    }
    sh_buf_putc(b, '\n');
}

void http_metrics_render(pipeline *pl, sh_buf *b)
{
    /* plugin and host counters, grouped by name for HELP/TYPE */
    metrics_lock();
    size_t n = metrics_count();
    for (size_t i = 0; i < n; i++) {
        metric *m = metrics_at(i);
        int first = 1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(metrics_at(j)->name, m->name) == 0)
                first = 0;
        if (!first)
            continue;
        sh_buf_puts(b, "# HELP streamhost_");
        sh_buf_puts(b, m->name);
        sh_buf_putc(b, ' ');
        sh_buf_puts(b, m->help);
        sh_buf_puts(b, "\n# TYPE streamhost_");
        sh_buf_puts(b, m->name);
        sh_buf_puts(b, m->gauge ? " gauge\n" : " counter\n");
        for (size_t j = i; j < n; j++) {
            metric *o = metrics_at(j);
            if (strcmp(o->name, m->name) != 0)
                continue;
            int64_t v = o->gauge ? __atomic_load_n(&o->value, __ATOMIC_RELAXED)
                                 : (int64_t)__atomic_load_n(&o->counter, __ATOMIC_RELAXED);
            line(b, o->name, o->component, o->label, 0, 1, v);
        }
    }
    metrics_unlock();
    if (!pl)
        return;
    /* watermarks of every component, and their lag behind the wall clock */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    sh_buf_puts(b, "# HELP streamhost_watermark_ms output event-time watermark of the component (ms since the epoch)\n"
                   "# TYPE streamhost_watermark_ms gauge\n");
    for (size_t i = 0; i < pl->ninsts; i++) {
        int64_t wm = __atomic_load_n(&pl->insts[i]->out_wm, __ATOMIC_RELAXED);
        if (wm > INT64_MIN && wm < INT64_MAX)
            line(b, "watermark_ms", pl->insts[i]->name, NULL, 0, 1, wm);
    }
    sh_buf_puts(b, "# HELP streamhost_watermark_lag_seconds wall clock minus the component's watermark\n"
                   "# TYPE streamhost_watermark_lag_seconds gauge\n");
    for (size_t i = 0; i < pl->ninsts; i++) {
        int64_t wm = __atomic_load_n(&pl->insts[i]->out_wm, __ATOMIC_RELAXED);
        if (wm > INT64_MIN && wm < INT64_MAX)
            line(b, "watermark_lag_seconds", pl->insts[i]->name, NULL, (double)(now - wm) / 1000.0, 0, 0);
    }
    sh_buf_puts(b, "# HELP streamhost_up 1 while the pipeline runs\n# TYPE streamhost_up gauge\n");
    line(b, "up", "host", NULL, 0, 1, ready_);
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned code, const char *type, const char *body,
                               size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return respond(c, 405, "text/plain", "GET only\n", 9);
    if (strcmp(url, "/metrics") == 0) {
        sh_buf b = {0};
        http_metrics_render(pl_, &b);
        enum MHD_Result r = respond(c, 200, "text/plain; version=0.0.4", b.data ? b.data : "", b.len);
        sh_buf_free(&b);
        return r;
    }
    if (strcmp(url, "/health/live") == 0)
        return respond(c, 200, "application/json", "{\"status\":\"live\"}\n", 18);
    if (strcmp(url, "/health") == 0 || strcmp(url, "/health/ready") == 0) {
        if (ready_)
            return respond(c, 200, "application/json", "{\"status\":\"ready\"}\n", 19);
        return respond(c, 503, "application/json", "{\"status\":\"not ready\"}\n", 23);
    }
    return respond(c, 404, "text/plain", "not found: try /metrics, /health, /health/live, /health/ready\n", 62);
}

int http_metrics_start(pipeline *pl, const char *address)
{
    if (pl->metrics_port <= 0)
        return 0;
    pl_ = pl;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)pl->metrics_port);
    if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) {
        LOG_ERROR("metrics.address '%s' is not an IPv4 address", address);
        return -1;
    }
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)pl->metrics_port, NULL,
                               NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_CONNECTION_LIMIT, 32u,
                               MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!daemon_) {
        LOG_ERROR("cannot serve /metrics on %s:%lld (port in use?); change metrics.port in [streamhost]", address,
                  (long long)pl->metrics_port);
        return -1;
    }
    LOG_INFO("metrics on http://%s:%lld/metrics, health on /health", address, (long long)pl->metrics_port);
    return 0;
}

void http_metrics_stop(void)
{
    if (daemon_) {
        MHD_stop_daemon(daemon_);
        daemon_ = NULL;
    }
    ready_ = 0;
    pl_ = NULL;
}
