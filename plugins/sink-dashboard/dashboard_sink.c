/* dashboard_sink.c - the "dashboard" sink plugin: the reference
 * application's five charts as a live web page, served by the pipeline
 * itself (no OpenSearch needed).  It keeps the most recent windows of the
 * documents it receives in memory (dash_store.h) and serves the page, the
 * chart library and the data from its own HTTP server (dash_server.h).
 *
 * A view, not storage: every record counts as delivered when process()
 * returns, so the dashboard never holds back the host's commits; its memory
 * starts empty at every start. */
#include "dashboard_sink.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const sh_config_key dashboard_config_keys[] = {
    {"address", SH_CFG_STRING, "127.0.0.1", 0,
     "address the page is served on (IPv4 or IPv6); 0.0.0.0 or :: = every interface"},
    {"port", SH_CFG_INT, "8050", 0, "TCP port of the page; 0 = any free port (the start line says which)"},
    {"windows", SH_CFG_INT, "360", 0,
     "windows kept in memory, the most recent by end time (360 x 10 s = 1 hour); older ones are dropped"},
    {"window", SH_CFG_DURATION, "10s", 0,
     "window of the session documents' checkout chart: set it to the tumble transform's size"},
    {"departments.max", SH_CFG_INT, "64", 0,
     "distinct department names kept; records naming further ones are ignored (counted)"},
    {"departments.top", SH_CFG_INT, "5", 0,
     "the department chart shows the N departments with the highest average count, as the reference's "
     "terms aggregation; 0 = all"},
    {"refresh", SH_CFG_DURATION, "2s", 0, "how often the page asks for new data"},
    {NULL, 0, NULL, 0, NULL}};

/* Limits that keep a typo from taking the machine's memory. */
#define MAX_WINDOWS 100000
#define MAX_DEPTS 10000

static sh_rc read_config(const sh_host *host, sh_ctx *ctx, dashboard_cfg *c)
{
    int ok = 1;
    c->address = host->cfg_str(ctx, "address");
    c->port = host->cfg_int(ctx, "port");
    c->windows = host->cfg_int(ctx, "windows");
    c->window_ms = host->cfg_int(ctx, "window");
    c->depts_max = host->cfg_int(ctx, "departments.max");
    c->depts_top = host->cfg_int(ctx, "departments.top");
    c->refresh_ms = host->cfg_int(ctx, "refresh");
    unsigned char addr[sizeof(struct in6_addr)];
    if (!c->address || (inet_pton(AF_INET, c->address, addr) != 1 && inet_pton(AF_INET6, c->address, addr) != 1)) {
        host->log(ctx, SH_LOG_ERROR, "%s: address: '%s' is not an IPv4 or IPv6 address; use e.g. 127.0.0.1",
                  host->cfg_where(ctx, "address"), c->address ? c->address : "");
        ok = 0;
    }
    if (c->port < 0 || c->port > 65535) {
        host->log(ctx, SH_LOG_ERROR, "%s: port: %lld is not a TCP port; use 1..65535, or 0 for any free port",
                  host->cfg_where(ctx, "port"), (long long)c->port);
        ok = 0;
    }
    if (c->windows < 1 || c->windows > MAX_WINDOWS) {
        host->log(ctx, SH_LOG_ERROR, "%s: windows: %lld is out of range; keep 1..%d windows",
                  host->cfg_where(ctx, "windows"), (long long)c->windows, MAX_WINDOWS);
        ok = 0;
    }
    if (c->window_ms < 1) {
        host->log(ctx, SH_LOG_ERROR, "%s: window: must be at least 1ms; set it to the tumble transform's size",
                  host->cfg_where(ctx, "window"));
        ok = 0;
    }
    if (c->depts_max < 1 || c->depts_max > MAX_DEPTS) {
        host->log(ctx, SH_LOG_ERROR, "%s: departments.max: %lld is out of range; use 1..%d",
                  host->cfg_where(ctx, "departments.max"), (long long)c->depts_max, MAX_DEPTS);
        ok = 0;
    }
    if (c->depts_top < 0 || c->depts_top > MAX_DEPTS) {
        host->log(ctx, SH_LOG_ERROR, "%s: departments.top: %lld is out of range; use 0 (all) .. %d",
                  host->cfg_where(ctx, "departments.top"), (long long)c->depts_top, MAX_DEPTS);
        ok = 0;
    }
    if (c->refresh_ms < 100 || c->refresh_ms > 3600000) {
        host->log(ctx, SH_LOG_ERROR, "%s: refresh: must be between 100ms and 1h",
                  host->cfg_where(ctx, "refresh"));
        ok = 0;
    }
    return ok ? SH_OK : SH_FATAL;
}

static sh_rc sink_validate(const sh_host *host, sh_ctx *ctx)
{
    dashboard_cfg c;
    return read_config(host, ctx, &c);
}

static void sink_destroy(void *state)
{
    dashboard_sink *ds = state;
    if (!ds)
        return;
    dash_server_stop(ds->server);
    ds->server = NULL;
    if (ds->have_mutex)
        pthread_mutex_destroy(&ds->mu);
    dash_store_free(&ds->store);
    free(ds);
}

static sh_rc sink_init(const sh_host *host, sh_ctx *ctx, void **state)
{
    dashboard_sink *ds = calloc(1, sizeof *ds);
    if (!ds)
        return SH_FATAL;
    *state = ds;
    ds->host = host;
    ds->ctx = ctx;
    if (read_config(host, ctx, &ds->cfg) != SH_OK)
        return SH_FATAL;
    if (pthread_mutex_init(&ds->mu, NULL) != 0)
        return SH_FATAL;
    ds->have_mutex = 1;
    if (dash_store_init(&ds->store, ds->cfg.window_ms, (uint32_t)ds->cfg.windows, (uint32_t)ds->cfg.depts_max) != 0) {
        host->log(ctx, SH_LOG_ERROR, "out of memory for %lld windows; lower windows (%s)",
                  (long long)ds->cfg.windows, host->cfg_where(ctx, "windows"));
        return SH_FATAL;
    }
    ds->records_total = host->counter(ctx, "records_total", "records received");
    ds->ignored_total = host->counter(ctx, "records_ignored_total",
                                      "records that are not dashboard documents, or have null or out-of-range values");
    ds->windows_gauge = host->gauge(ctx, "windows", "windows held in memory");
    return SH_OK;
}

/* The data JSON, for the server thread. */
static int render_data(void *arg, uint64_t known, int have_known, sh_buf *b, uint64_t *version)
{
    dashboard_sink *ds = arg;
    pthread_mutex_lock(&ds->mu);
    *version = ds->store.version;
    if (have_known && known == ds->store.version) {
        pthread_mutex_unlock(&ds->mu);
        return 0;
    }
    char extra[192];
    snprintf(extra, sizeof extra, "\"refreshMs\":%lld,\"departmentsTop\":%lld,\"departmentsDropped\":%llu",
             (long long)ds->cfg.refresh_ms, (long long)ds->cfg.depts_top,
             (unsigned long long)ds->store.dropped_depts);
    dash_store_json(&ds->store, b, extra);
    pthread_mutex_unlock(&ds->mu);
    return 1;
}

/* "http://ADDRESS:PORT/", with brackets around an IPv6 address. */
static void url_of(const char *address, int port, char *out, size_t n)
{
    if (strchr(address, ':'))
        snprintf(out, n, "http://[%s]:%d/", address, port);
    else
        snprintf(out, n, "http://%s:%d/", address, port);
}

static sh_rc sink_start(void *state)
{
    dashboard_sink *ds = state;
    char err[256];
    int bound = 0;
    ds->server = dash_server_start(ds->cfg.address, (int)ds->cfg.port, render_data, ds, &bound, err, sizeof err);
    if (!ds->server) {
        const char *key = strstr(err, "address") ? "address" : "port";
        ds->host->log(ds->ctx, SH_LOG_ERROR,
                      "%s: [sink.%s] %s: cannot serve the dashboard on %s:%lld: %s; set %s to a free port "
                      "(0: any free port) or stop what holds it",
                      ds->host->cfg_where(ds->ctx, "port"), ds->host->instance_name(ds->ctx), key, ds->cfg.address,
                      (long long)ds->cfg.port, err, key);
        return SH_FATAL;
    }
    ds->port = bound;
    char url[128];
    url_of(ds->cfg.address, bound, url, sizeof url);
    ds->host->log(ds->ctx, SH_LOG_INFO, "dashboard on %s", url);
    return SH_OK;
}

static sh_rc sink_process(void *state, uint32_t input, const sh_record *recs, size_t n)
{
    dashboard_sink *ds = state;
    const sh_schema *fresh[4];
    size_t nfresh = 0;
    uint64_t ignored = 0;
    pthread_mutex_lock(&ds->mu);
    for (size_t i = 0; i < n; i++) {
        int is_new = 0;
        if (recs[i].schema) {
            const dash_schema *d = dash_store_schema(&ds->store, recs[i].schema, &is_new);
            if (is_new && d->kind == DASH_UNKNOWN && nfresh < sizeof fresh / sizeof fresh[0])
                fresh[nfresh++] = recs[i].schema;
        }
        if (!dash_store_add(&ds->store, &recs[i]))
            ignored++;
    }
    int64_t nw = ds->store.nw;
    pthread_mutex_unlock(&ds->mu);
    *ds->records_total += n;
    *ds->ignored_total += ignored;
    *ds->windows_gauge = nw;
    for (size_t i = 0; i < nfresh; i++)
        ds->host->log(ds->ctx, SH_LOG_WARN,
                      "records of stream '%s' are not dashboard documents (a window's counts, department "
                      "counts or sessions with orderCheckoutEventCount, each with windowEndTime); ignoring "
                      "them: wire only the session and tumble outputs to this sink",
                      fresh[i]->name ? fresh[i]->name : "?");
    return SH_OK;
}

static sh_rc sink_flush(void *state, int final)
{
    (void)state;
    (void)final;
    return SH_OK; /* nothing buffered: the page reads memory */
}

static void sink_stop(void *state)
{
    dashboard_sink *ds = state;
    dash_server_stop(ds->server);
    ds->server = NULL;
}

static const sh_plugin dashboard_plugin = {
    SH_PLUGIN_MAGIC,
    .name = "dashboard",
    .version = "1.0.0",
    .kind = SH_SINK,
    .description = "a live web page with the clickstream charts (session counts, checkouts, departments per window)",
    .config = dashboard_config_keys,
    .init = sink_init,
    .start = sink_start,
    .process = sink_process,
    .flush = sink_flush,
    .stop = sink_stop,
    .destroy = sink_destroy,
    .validate = sink_validate,
};

SH_PLUGIN_EXPORT(dashboard_plugin)
