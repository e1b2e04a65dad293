/* pipeline.h - running a built pipeline: the run loop, records and
 * watermarks along the edges, input slots, flushing the sinks
 * (pipeline.c).  The types are in instance.h. */
#ifndef SH_PIPELINE_H
#define SH_PIPELINE_H
#include "instance.h"

/* Runs until the sources are done or stop is requested; returns the exit
 * code (0 ok, 1 runtime failure). */
int pipeline_run(pipeline *pl);
void pipeline_request_stop(pipeline *pl);
/* What pipeline_run does before its loop: opens the dead-letter output and
 * runs every instance's init() and start(); 0, or -1 (logged).  For the
 * test kit, which then drives the callbacks itself. */
int pipeline_start(pipeline *pl);
void pipeline_free(pipeline *pl);

/* Records and watermarks from `from` to everything wired to it (services.c,
 * the exchange). */
sh_rc pipeline_emit(instance *from, uint32_t port, const sh_record *recs, size_t n);
sh_rc pipeline_watermark(instance *from, int64_t wm);
/* The slot of (stream, partition), registered by `owner` when new. */
int32_t pipeline_slot(pipeline *pl, instance *owner, const char *stream, int32_t partition);
/* Flushes sinks until all report durable or the deadline passes: 0, or -1
 * (logged). */
int flush_sinks(pipeline *pl, int final, int64_t timeout_ms);
#endif
