/* flow.h - records and watermarks along the edges of a running pipeline
 * (flow.c). */
#ifndef SH_FLOW_H
#define SH_FLOW_H
#include "instance.h"

/* Records and watermarks from `from` to everything wired to it. */
sh_rc pipeline_emit(instance *from, uint32_t port, const sh_record *recs, size_t n);
sh_rc pipeline_watermark(instance *from, int64_t wm);
/* The slot of (stream, partition), registered by `owner` when new. */
int32_t pipeline_slot(pipeline *pl, instance *owner, const char *stream, int32_t partition);
/* Flushes sinks until all report durable or the deadline passes (the
 * watchdog's once armed): 0, or -1 (logged). */
int flush_sinks(pipeline *pl, int final, int64_t timeout_ms);
/* One round: flush(final) of every sink; 0 all durable, 1 some still in
 * flight, -1 a sink failed (logged; the pipeline failed). */
int flush_sinks_once(pipeline *pl, int final);
/* tick() of every instance that has one. */
void flow_tick_all(pipeline *pl);

/* `rc` as returned by callback `cb` of `in`, checked: a code the callback
 * may not give (SH_DONE from anything but poll, SH_PENDING from anything
 * but flush, 77) is the plugin's bug, fatal, logged with the component, the
 * callback and the code. */
sh_rc flow_rc(instance *in, const char *cb, sh_rc rc, int done_ok);
/* "source.NAME" etc., as the user wrote the section. */
const char *instance_title(const instance *in);
/* Sleeps `ms`, waking early when a stop is requested. */
void flow_sleep_unless_stopped(pipeline *pl, int64_t ms);
#endif
