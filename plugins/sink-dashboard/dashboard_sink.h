/* dashboard_sink.h - internals of the dashboard sink, for its unit tests. */
#ifndef DASHBOARD_SINK_H
#define DASHBOARD_SINK_H
#include "dash_server.h"
#include "dash_store.h"

#include <pthread.h>

typedef struct dashboard_cfg {
    const char *address;
    int64_t port, windows, window_ms, depts_max, depts_top, refresh_ms;
} dashboard_cfg;

typedef struct dashboard_sink {
    const sh_host *host;
    sh_ctx *ctx;
    dashboard_cfg cfg;
    pthread_mutex_t mu; /* guards store: process() writes, the server thread reads */
    int have_mutex;
    dash_store store;
    dash_server *server;
    int port; /* the port it listens on (cfg.port, or the one picked for 0) */

    uint64_t *records_total;
    uint64_t *ignored_total;
    int64_t *windows_gauge;
} dashboard_sink;

extern const sh_config_key dashboard_config_keys[];
#endif
