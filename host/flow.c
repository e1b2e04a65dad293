/* flow.c - records and watermarks along the edges of a running pipeline:
 * emit() delivers a batch to every consumer synchronously (retrying
 * SH_RETRY with backoff), watermarks propagate as the minimum over a
 * component's inputs, input slots are registered, and sinks are ticked and
 * flushed.  Every return code a callback gives is checked here (flow_rc).
 * The run loop and the lifecycle that drive it are in pipeline.c. */
#include "flow.h"

#include "clock.h"
#include "log.h"
#include "watchdog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sleeps `ms`, waking early when a stop is requested. */
void flow_sleep_unless_stopped(pipeline *pl, int64_t ms)
{
    for (int64_t left = ms; left > 0 && !pl->stop_requested; left -= 20)
        sh_sleep_ms(left < 20 ? left : 20);
}

/* "source.NAME" etc., as the user wrote the section. */
const char *instance_title(const instance *in)
{
    return in->sec && in->sec->title ? in->sec->title : in->name;
}

/* A return code the callback may not give (77, or SH_DONE from anything but
 * poll) is the plugin's bug: treating it as success spins or loses records,
 * so it is fatal, with a line naming the component, the callback and the
 * code. */
sh_rc flow_rc(instance *in, const char *cb, sh_rc rc, int done_ok)
{
    int v = (int)rc;
    if (v == SH_OK || v == SH_RETRY || v == SH_FATAL || (v == SH_DONE && done_ok))
        return rc;
    if (v == SH_PENDING && strcmp(cb, "flush") == 0)
        return rc;
    if (in->m_errors)
        in->m_errors->counter++;
    if (!in->pl->failed)
        sh_log(SH_LOG_ERROR, NULL,
               "%s: %s() returned %d, which is not a return code it may give (SH_OK, SH_RETRY, SH_FATAL%s); "
               "stopping the pipeline (fatal) without committing past this point",
               instance_title(in), cb, v, done_ok ? ", SH_DONE" : strcmp(cb, "flush") == 0 ? ", SH_PENDING" : "");
    in->pl->failed = 1;
    return SH_FATAL;
}

int32_t pipeline_slot(pipeline *pl, instance *owner, const char *stream, int32_t partition)
{
    for (size_t i = 0; i < pl->nslots; i++)
        if (pl->slots[i].partition == partition && strcmp(pl->slots[i].stream, stream) == 0)
            return (int32_t)i;
    if (pl->nslots == pl->capslots) {
        pl->capslots = pl->capslots ? pl->capslots * 2 : 16;
        pl->slots = realloc(pl->slots, pl->capslots * sizeof(slot_info));
    }
    pl->slots[pl->nslots] = (slot_info){.stream = strdup(stream), .partition = partition, .owner = owner};
    return (int32_t)pl->nslots++;
}

/* Calls process() on one consumer, retrying SH_RETRY with backoff. */
static sh_rc deliver(instance *to, uint32_t input, const sh_record *recs, size_t n)
{
    int64_t backoff = 50;
    for (int attempt = 0;; attempt++) {
        sh_rc rc = flow_rc(to, "process", WD_CALL(to, "process", to->p->process(to->state, input, recs, n)), 0);
        if (rc == SH_OK) {
            to->m_in->counter += n;
            if (to->kind == SH_SINK)
                to->received += n;
            return SH_OK;
        }
        if (rc != SH_RETRY) {
            to->m_errors->counter++;
            if (!to->pl->failed) /* log where it started, not every caller up the DAG */
                sh_log(SH_LOG_ERROR, to->name,
                       "process() failed (fatal); stopping the pipeline without committing past this batch");
            to->pl->failed = 1;
            return SH_FATAL;
        }
        to->m_errors->counter++;
        /* A stop request ends the retries (as Kafka Connect does): the batch
         * stays undelivered, so nothing is committed from here on and the
         * next start reads it again; exit 1 says the stop was not clean. */
        if (to->pl->stop_requested) {
            if (!to->pl->failed)
                sh_log(SH_LOG_ERROR, NULL,
                       "%s: process() still asks to retry (attempt %d) and a stop was requested: giving up; "
                       "the batch stays uncommitted and is read again on the next start (exit 1)",
                       instance_title(to), attempt + 1);
            to->pl->failed = 1;
            return SH_FATAL;
        }
        if (attempt == 0 || attempt % 20 == 0)
            sh_log(SH_LOG_WARN, to->name, "process() asked to retry (attempt %d); retrying in %lld ms",
                   attempt + 1, (long long)backoff);
        flow_sleep_unless_stopped(to->pl, backoff);
        if (to->p->tick && !to->pl->stop_requested) {
            sh_rc trc = flow_rc(to, "tick", WD_CALL(to, "tick", to->p->tick(to->state, sh_plugin_now_ms())), 0);
            if (trc == SH_FATAL) {
                if (!to->pl->failed)
                    sh_log(SH_LOG_ERROR, to->name, "tick failed (fatal)");
                to->pl->failed = 1;
                return SH_FATAL;
            }
        }
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
}

sh_rc pipeline_emit(instance *from, uint32_t port, const sh_record *recs, size_t n)
{
    if (n == 0)
        return SH_OK;
    if (port >= from->nports) {
        sh_log(SH_LOG_ERROR, from->name, "emit() to output %u, but the plugin declares %zu outputs", port,
               from->nports ? from->nports - 1 : 0);
        from->pl->failed = 1;
        return SH_FATAL;
    }
    from->m_out->counter += n;
    struct port *p = &from->ports[port];
    for (size_t e = 0; e < p->nedges; e++)
        if (deliver(p->edges[e].to, p->edges[e].input, recs, n) != SH_OK)
            return SH_FATAL;
    return from->pl->failed ? SH_FATAL : SH_OK;
}

/* Input watermark of `in`: the minimum over its inputs. */
static int64_t input_wm(instance *in)
{
    int64_t wm = INT64_MAX;
    for (size_t i = 0; i < in->ninputs; i++)
        if (in->inputs[i].wm < wm)
            wm = in->inputs[i].wm;
    return in->ninputs ? wm : INT64_MIN;
}

sh_rc pipeline_watermark(instance *from, int64_t wm)
{
    if (from->wm_calls++ && wm < from->out_wm)
        from->wm_regressions++; /* a broken promise: ignored, but counted */
    if (wm <= from->out_wm)
        return SH_OK;
    from->out_wm = wm;
    for (size_t p = 0; p < from->nports; p++)
        for (size_t e = 0; e < from->ports[p].nedges; e++) {
            struct edge *ed = &from->ports[p].edges[e];
            instance *to = ed->to;
            to->inputs[ed->input].wm = wm;
            int64_t iw = input_wm(to);
            if (iw <= to->in_wm)
                continue;
            to->in_wm = iw;
            if (to->kind == SH_SINK)
                continue;
            sh_rc rc = to->p->watermark
                           ? flow_rc(to, "watermark", WD_CALL(to, "watermark", to->p->watermark(to->state, iw)), 0)
                           : pipeline_watermark(to, iw);
            if (rc == SH_FATAL || to->pl->failed) {
                to->pl->failed = 1;
                return SH_FATAL;
            }
        }
    return SH_OK;
}

void flow_tick_all(pipeline *pl)
{
    int64_t now = sh_plugin_now_ms();
    for (size_t i = 0; i < pl->ninsts && !pl->failed; i++) {
        instance *in = pl->insts[i];
        if (in->p->tick && flow_rc(in, "tick", WD_CALL(in, "tick", in->p->tick(in->state, now)), 0) == SH_FATAL) {
            if (!pl->failed)
                sh_log(SH_LOG_ERROR, in->name, "tick failed (fatal)");
            pl->failed = 1;
        }
    }
}

/* Flushes sinks until all report durable, or the deadline passes: the
 * watchdog's shutdown deadline once armed (so the flush and the watchdog
 * agree on when time is up), else timeout_ms from now. */
int flush_sinks_once(pipeline *pl, int final)
{
    int pending = 0;
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        if (in->kind != SH_SINK || !in->p->flush)
            continue;
        sh_rc rc = flow_rc(in, "flush", WD_CALL(in, "flush", in->p->flush(in->state, final)), 0);
        if (rc == SH_PENDING || rc == SH_RETRY) /* SH_RETRY: the ABI 1.0 spelling */
            pending = 1;
        else if (rc == SH_FATAL) {
            if (!pl->failed)
                sh_log(SH_LOG_ERROR, in->name, "flush failed (fatal)");
            pl->failed = 1;
            return -1;
        }
    }
    return pl->failed ? -1 : pending;
}

int flush_sinks(pipeline *pl, int final, int64_t timeout_ms)
{
    int64_t deadline = watchdog_deadline();
    if (deadline == INT64_MAX)
        deadline = sh_mono_ms() + timeout_ms;
    for (;;) {
        int pending = flush_sinks_once(pl, final);
        if (pending < 0)
            return -1;
        if (!pending)
            return 0;
        if (sh_mono_ms() >= deadline) {
            LOG_ERROR("sinks did not finish flushing within %lld ms; uncommitted input will be re-read on the next start",
                      (long long)timeout_ms);
            return -1;
        }
        flow_tick_all(pl);
        sh_sleep_ms(10);
    }
}

