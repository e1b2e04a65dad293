/* http_metrics.c - the operator's window into a running host.
 *
 * /health is what orchestrators probe to decide whether to restart the
 * process, so no client may starve it (issue 11: 40 slow or idle
 * connections used to take every slot of a 32-connection select loop).
 * libmicrohttpd runs with epoll in one internal thread: slow clients cost a
 * slot and a file descriptor each, never a thread or a wait, and
 *   - a connection limit well above any scraper's needs (METRICS_MAX_CONNS,
 *     lowered to a quarter of RLIMIT_NOFILE so a flood of connections cannot
 *     take the descriptors Kafka and the dead-letter file need),
 *   - a per-address limit of half of that, so one misbehaving host cannot
 *     take the slots of the others (the probe, Prometheus),
 *   - an inactivity timeout (METRICS_IDLE_TIMEOUT_S) that frees the slots of
 *     idle and stalled clients: a real client sends its request at once.
 * MHD's own error lines go through the host's log (see mhd_log). */
#include "http_metrics.h"
#include "clock.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define METRICS_MAX_CONNS 256u
#define METRICS_IDLE_TIMEOUT_S 5u
#define METRICS_LOG_EVERY_S 10

static struct MHD_Daemon *daemon_;
static pipeline *pl_;
static volatile int ready_;

void http_metrics_set_ready(int ready) { ready_ = ready; }
static const char *volatile blocked_; /* http_metrics_set_blocked */
void http_metrics_set_blocked(const char *what) { blocked_ = what; }

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

/* HELP text: backslash and line feed escaped (the text format's rule). */
static void esc_help(sh_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            sh_buf_puts(b, "\\\\");
        else if (*s == '\n')
            sh_buf_puts(b, "\\n");
        else
            sh_buf_putc(b, *s);
    }
}

/* "streamhost_" + name, with any character a metric name cannot hold
 * ([a-zA-Z0-9_:]) as '_': a plugin's odd name cannot break the scrape. */
static void put_name(sh_buf *b, const char *name, const char *suffix)
{
    sh_buf_puts(b, "streamhost_");
    for (const char *p = name; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
        sh_buf_putc(b, ok ? c : '_');
    }
    if (suffix)
        sh_buf_puts(b, suffix);
}

/* The shortest text that reads back as v: le="0.1", not 0.10000000000000001
 * (a selector like {le="0.1"} must match what a client library writes). */
static void shortest(char *tmp, size_t size, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, size, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            return;
    }
}

static void put_double(sh_buf *b, double v)
{
    char tmp[40];
    if (v != v)
        snprintf(tmp, sizeof tmp, "NaN");
    else if (v == HUGE_VAL)
        snprintf(tmp, sizeof tmp, "+Inf");
    else if (v == -HUGE_VAL)
        snprintf(tmp, sizeof tmp, "-Inf");
    else
        shortest(tmp, sizeof tmp, v);
    sh_buf_puts(b, tmp);
}

static void family(sh_buf *b, const char *name, const char *type, const char *help)
{
    sh_buf_puts(b, "# HELP ");
    put_name(b, name, NULL);
    sh_buf_putc(b, ' ');
    esc_help(b, help);
    sh_buf_puts(b, "\n# TYPE ");
    put_name(b, name, NULL);
    sh_buf_putc(b, ' ');
    sh_buf_puts(b, type);
    sh_buf_putc(b, '\n');
}

/* NAME[SUFFIX]{component="...",LABEL,le="..."} */
static void sample_head(sh_buf *b, const char *name, const char *suffix, const char *component, const char *label,
                        const char *le)
{
    put_name(b, name, suffix);
    sh_buf_puts(b, "{component=\"");
    esc_label(b, component);
    sh_buf_putc(b, '"');
    if (label) {
        sh_buf_putc(b, ',');
        sh_buf_puts(b, label);
    }
    if (le) {
        sh_buf_puts(b, ",le=\"");
        sh_buf_puts(b, le);
        sh_buf_putc(b, '"');
    }
    sh_buf_puts(b, "} ");
}

static void sample_int(sh_buf *b, const char *name, const char *component, const char *label, int64_t v)
{
    sample_head(b, name, NULL, component, label, NULL);
    sh_buf_int(b, v);
    sh_buf_putc(b, '\n');
}

static void sample_double(sh_buf *b, const char *name, const char *component, const char *label, double v)
{
    sample_head(b, name, NULL, component, label, NULL);
    put_double(b, v);
    sh_buf_putc(b, '\n');
}

/* Cumulative buckets, then _sum and _count.  The count is the +Inf bucket
 * as read here, so a scrape during an observation stays consistent. */
static void histogram_samples(sh_buf *b, metric *h)
{
    uint64_t cum = 0;
    char le[40];
    for (size_t i = 0; i <= h->nbounds; i++) {
        cum += __atomic_load_n(&h->buckets[i], __ATOMIC_RELAXED);
        if (i < h->nbounds)
            shortest(le, sizeof le, h->bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        sample_head(b, h->name, "_bucket", h->component, h->label, le);
        sh_buf_int(b, (int64_t)cum);
        sh_buf_putc(b, '\n');
    }
    double sum;
    __atomic_load(&h->sum, &sum, __ATOMIC_RELAXED);
    sample_head(b, h->name, "_sum", h->component, h->label, NULL);
    put_double(b, sum);
    sh_buf_putc(b, '\n');
    sample_head(b, h->name, "_count", h->component, h->label, NULL);
    sh_buf_int(b, (int64_t)cum);
    sh_buf_putc(b, '\n');
}

/* Families the renderer derives from the pipeline itself; a registered
 * metric of one of these names is left out rather than exported twice. */
static const char *const derived[] = {"watermark_seconds", "watermark_lag_seconds", "up", NULL};

static int is_derived(const char *name)
{
    for (size_t i = 0; derived[i]; i++)
        if (strcmp(derived[i], name) == 0)
            return 1;
    return 0;
}

void http_metrics_render(pipeline *pl, sh_buf *b)
{
    /* registered counters, gauges and histograms: one HELP and TYPE per
     * name, then every component's samples of it */
    metrics_lock();
    size_t n = metrics_count();
    for (size_t i = 0; i < n; i++) {
        metric *m = metrics_at(i);
        int first = !is_derived(m->name);
        for (size_t j = 0; j < i && first; j++)
            if (strcmp(metrics_at(j)->name, m->name) == 0)
                first = 0;
        if (!first)
            continue;
        family(b, m->name, m->histogram ? "histogram" : m->gauge ? "gauge" : "counter", m->help);
        for (size_t j = i; j < n; j++) {
            metric *o = metrics_at(j);
            if (strcmp(o->name, m->name) != 0 || o->histogram != m->histogram || o->gauge != m->gauge)
                continue; /* another kind under the same name: the first one's kind wins */
            if (o->histogram)
                histogram_samples(b, o);
            else if (o->gauge)
                sample_int(b, o->name, o->component, o->label, __atomic_load_n(&o->value, __ATOMIC_RELAXED));
            else
                sample_int(b, o->name, o->component, o->label,
                           (int64_t)__atomic_load_n(&o->counter, __ATOMIC_RELAXED));
        }
    }
    metrics_unlock();
    if (pl) {
        /* watermarks of every component, and their lag behind the wall clock */
        int64_t now = sh_wall_ms();
        family(b, "watermark_seconds", "gauge",
               "output event-time watermark of the component: no record at or before it is emitted any more "
               "(seconds since the epoch)");
        for (size_t i = 0; i < pl->ninsts; i++) {
            int64_t wm = __atomic_load_n(&pl->insts[i]->out_wm, __ATOMIC_RELAXED);
            if (wm > INT64_MIN && wm < INT64_MAX)
                sample_double(b, "watermark_seconds", pl->insts[i]->name, NULL, (double)wm / 1000.0);
        }
        family(b, "watermark_lag_seconds", "gauge", "wall clock minus the component's watermark (seconds)");
        for (size_t i = 0; i < pl->ninsts; i++) {
            int64_t wm = __atomic_load_n(&pl->insts[i]->out_wm, __ATOMIC_RELAXED);
            if (wm > INT64_MIN && wm < INT64_MAX)
                sample_double(b, "watermark_lag_seconds", pl->insts[i]->name, NULL, (double)(now - wm) / 1000.0);
        }
    }
    family(b, "up", "gauge", "1 while the pipeline runs, 0 while it starts or stops");
    sample_int(b, "up", "host", NULL, pl ? ready_ : 0);
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

/* Basic auth (metrics.auth.user): the user and password, compared in time
 * independent of where they differ.  NULL user: no auth. */
static char *auth_user_, *auth_password_;

static int same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la; i++)
        d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return d == 0;
}

/* 1 when the request may see /metrics and /health. */
static int authorized(struct MHD_Connection *c)
{
    if (!auth_user_)
        return 1;
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(c, &pass);
    int ok = user && pass && same_secret(user, auth_user_) && same_secret(pass, auth_password_);
    if (pass) {
        memset(pass, 0, strlen(pass));
        MHD_free(pass);
    }
    if (user)
        MHD_free(user);
    return ok;
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
    if (strcmp(url, "/health/live") != 0 && !authorized(c)) { /* liveness stays open for probes */
        static const char body[] = "authentication required\n";
        struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret = MHD_queue_basic_auth_fail_response(c, "streamhost", r);
        MHD_destroy_response(r);
        return ret;
    }
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
        const char *blocked = blocked_;
        if (ready_ && blocked) {
            char body[256];
            int n = snprintf(body, sizeof body, "{\"status\":\"not ready\",\"blocked_by\":\"%s\"}\n", blocked);
            return respond(c, 503, "application/json", body, (size_t)n);
        }
        if (ready_ && metrics_gauge_sum(NULL, "registry_paused_partitions") > 0) /* the Kafka source waits */
            return respond(c, 200, "application/json",
                           "{\"status\":\"ready\",\"schema_registry\":\"unavailable\"}\n", 51);
        if (ready_)
            return respond(c, 200, "application/json", "{\"status\":\"ready\"}\n", 19);
        return respond(c, 503, "application/json", "{\"status\":\"not ready\"}\n", 23);
    }
    return respond(c, 404, "text/plain", "not found: try /metrics, /health, /health/live, /health/ready\n", 62);
}

/* MHD's diagnostics.  A limit reached is the operator's business, as a
 * warning at most every METRICS_LOG_EVERY_S (a flood must not become a log
 * flood); the rest (a TCP probe that closes without a request, a client that
 * stalls) is everyday noise, at debug level. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static time_t last;
    static unsigned long dropped;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t len = strlen(msg);
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        msg[--len] = '\0';
    if (!strstr(msg, "limit")) {
        LOG_DEBUG("metrics server: %s", msg);
        return;
    }
    time_t now = time(NULL);
    pthread_mutex_lock(&mu);
    if (last && now - last < METRICS_LOG_EVERY_S) {
        dropped++;
        pthread_mutex_unlock(&mu);
        return;
    }
    unsigned long n = dropped;
    dropped = 0;
    last = now;
    pthread_mutex_unlock(&mu);
    if (n)
        LOG_WARN("metrics server: %s (and %lu more in the last %d s)", msg, n, METRICS_LOG_EVERY_S);
    else
        LOG_WARN("metrics server: %s", msg);
}

/* The whole PEM file `path` (config key `key` names it), NUL-terminated, or
 * NULL after one line. */
static char *read_pem(const char *path, const char *key)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    if (f) {
        buf = malloc(1 << 20);
        len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
        fclose(f);
    }
    if (buf)
        buf[len] = '\0';
    if (!buf || len == 0 || !strstr(buf, "-----BEGIN ")) {
        LOG_ERROR("%s: cannot read a PEM file from %s%s%s; give the path of a PEM file", key, path,
                  f ? "" : ": ", f ? "" : strerror(errno));
        free(buf);
        return NULL;
    }
    return buf;
}

static unsigned connection_limit(void)
{
    struct rlimit rl;
    unsigned limit = METRICS_MAX_CONNS;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 4 < limit)
        limit = rl.rlim_cur / 4 < 16 ? 16 : (unsigned)(rl.rlim_cur / 4);
    return limit;
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
    unsigned limit = connection_limit();
    free(auth_user_);
    free(auth_password_);
    auth_user_ = auth_password_ = NULL;
    if (pl->metrics_user && *pl->metrics_user) { /* checked at build: the variable is set */
        const char *pw = pl->metrics_password_env ? getenv(pl->metrics_password_env) : NULL;
        auth_user_ = strdup(pl->metrics_user);
        auth_password_ = strdup(pw ? pw : "");
    } else if (sa.sin_addr.s_addr != htonl(INADDR_LOOPBACK) && (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
        LOG_WARN("metrics.address %s: /metrics and /health are open to anyone who can reach this address; set "
                 "metrics.auth.user (password from %s) and metrics.tls.cert/metrics.tls.key, or keep 127.0.0.1",
                 address, pl->metrics_password_env ? pl->metrics_password_env : "STREAMHOST_METRICS_PASSWORD");
    }
    char *cert = NULL, *key = NULL;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (pl->metrics_cert && pl->metrics_key) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            LOG_ERROR("metrics.tls.cert: this libmicrohttpd has no TLS; serve /metrics over plain HTTP on 127.0.0.1 "
                      "behind a TLS proxy instead");
            return -1;
        }
        if (!(cert = read_pem(pl->metrics_cert, "metrics.tls.cert")) || !(key = read_pem(pl->metrics_key, "metrics.tls.key"))) {
            free(cert);
            return -1;
        }
        flags |= MHD_USE_TLS;
    }
    if (cert)
        daemon_ = MHD_start_daemon(flags, (uint16_t)pl->metrics_port, NULL, NULL, handler, NULL,
                                   MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                                   MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, limit / 2,
                                   MHD_OPTION_CONNECTION_TIMEOUT, METRICS_IDLE_TIMEOUT_S, MHD_OPTION_HTTPS_MEM_KEY,
                                   key, MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_END);
    else
        daemon_ = MHD_start_daemon(flags, (uint16_t)pl->metrics_port, NULL, NULL, handler, NULL,
                                   MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &sa,
                                   MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, limit / 2,
                                   MHD_OPTION_CONNECTION_TIMEOUT, METRICS_IDLE_TIMEOUT_S, MHD_OPTION_END);
    if (key) { /* MHD keeps its own parsed copy */
        memset(key, 0, strlen(key));
        free(key);
    }
    free(cert);
    if (!daemon_) {
        LOG_ERROR("cannot serve /metrics on %s:%lld (port in use%s?); change metrics.port in [streamhost]", address,
                  (long long)pl->metrics_port, pl->metrics_cert ? ", or metrics.tls.cert/metrics.tls.key not a matching PEM pair" : "");
        return -1;
    }
    LOG_INFO("metrics on %s://%s:%lld/metrics, health on /health%s", pl->metrics_cert ? "https" : "http", address,
             (long long)pl->metrics_port, auth_user_ ? " (basic auth)" : "");
    return 0;
}

void http_metrics_stop(void)
{
    if (daemon_) {
        MHD_stop_daemon(daemon_);
        daemon_ = NULL;
    }
    if (auth_password_)
        memset(auth_password_, 0, strlen(auth_password_));
    free(auth_user_);
    free(auth_password_);
    auth_user_ = auth_password_ = NULL;
    ready_ = 0;
    pl_ = NULL;
}
