/* http_metrics.h - /metrics (Prometheus text format) and /health on a
 * loopback port, served by libmicrohttpd in its own thread. */
#ifndef SH_HTTP_METRICS_H
#define SH_HTTP_METRICS_H
#include "instance.h"
#include "streamhost/record_json.h"

/* Starts the server on pl->metrics_port (0: does nothing).  -1 on failure. */
int http_metrics_start(pipeline *pl, const char *address);
/* Readiness: 1 once the pipeline runs, 0 while starting or stopping. */
void http_metrics_set_ready(int ready);
/* A dependency that blocks the run (a Kafka security failure pending):
 * /health/ready answers 503 naming it while set, whatever set_ready says;
 * NULL clears it.  `what` must stay valid (a string literal). */
void http_metrics_set_blocked(const char *what);
void http_metrics_stop(void);
/* Renders every metric into buf (tests use it directly). */
void http_metrics_render(pipeline *pl, sh_buf *out);
#endif
