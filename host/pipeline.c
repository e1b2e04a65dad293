/* pipeline.c - the run loop: polls sources in batches, routes records
 * through the DAG synchronously, propagates watermarks, ticks components,
 * applies back-pressure, and commits source offsets only behind what every
 * component has made durable (see "Delivery" in the README). */
#include "deadletter.h"
#include "exchange.h"
#include "http_metrics.h"
#include "kafka.h"
#include "log.h"
#include "pipeline.h"
#include "clock.h"
#include "progress.h"
#include "watchdog.h"
#include "commits.h"
#include "services.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Sleeps `ms`, waking early when a stop is requested. */
static void sleep_unless_stopped(pipeline *pl, int64_t ms)
{
    for (int64_t left = ms; left > 0 && !pl->stop_requested; left -= 20)
        sh_sleep_ms(left < 20 ? left : 20);
}

void pipeline_request_stop(pipeline *pl) { pl->stop_requested = 1; }

/* "source.NAME" etc., as the user wrote the section. */
static const char *title(const instance *in)
{
    return in->sec && in->sec->title ? in->sec->title : in->name;
}

/* A return code the callback may not give (77, or SH_DONE from anything but
 * poll) is the plugin's bug: treating it as success spins or loses records,
 * so it is fatal, with a line naming the component, the callback and the
 * code. */
static sh_rc defined_rc(instance *in, const char *cb, sh_rc rc, int done_ok)
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
               title(in), cb, v, done_ok ? ", SH_DONE" : strcmp(cb, "flush") == 0 ? ", SH_PENDING" : "");
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
        sh_rc rc = defined_rc(to, "process", WD_CALL(to, "process", to->p->process(to->state, input, recs, n)), 0);
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
                       title(to), attempt + 1);
            to->pl->failed = 1;
            return SH_FATAL;
        }
        if (attempt == 0 || attempt % 20 == 0)
            sh_log(SH_LOG_WARN, to->name, "process() asked to retry (attempt %d); retrying in %lld ms",
                   attempt + 1, (long long)backoff);
        sleep_unless_stopped(to->pl, backoff);
        if (to->p->tick && !to->pl->stop_requested) {
            sh_rc trc = defined_rc(to, "tick", WD_CALL(to, "tick", to->p->tick(to->state, sh_host_services.now_ms(NULL))), 0);
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
                           ? defined_rc(to, "watermark", WD_CALL(to, "watermark", to->p->watermark(to->state, iw)), 0)
                           : pipeline_watermark(to, iw);
            if (rc == SH_FATAL || to->pl->failed) {
                to->pl->failed = 1;
                return SH_FATAL;
            }
        }
    return SH_OK;
}

/* --- lifecycle ------------------------------------------------------------ */

static int init_all(pipeline *pl)
{
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        in->m_in = metrics_get(in->name, "records_in_total", "records received", 0, NULL);
        in->m_out = metrics_get(in->name, "records_out_total", "records emitted", 0, NULL);
        in->m_errors = metrics_get(in->name, "errors_total", "failed or retried calls", 0, NULL);
        sh_rc rc = WD_CALL(in, "init", in->p->init(pl->host ? pl->host : &sh_host_services, in, &in->state));
        if (rc != SH_OK) {
            defined_rc(in, "init", rc, 0);
            sh_log(SH_LOG_ERROR, in->name, "init failed (see above); fix [%s] in %s", in->sec->title,
                   config_file_of(pl->cfg, in->sec->line));
            return -1;
        }
        in->initialised = 1;
        if (pl->failed)
            return -1; /* init() read an undeclared config key (services.c said which) */
    }
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        sh_rc rc = in->p->start ? WD_CALL(in, "start", in->p->start(in->state)) : SH_OK;
        if (rc != SH_OK) {
            defined_rc(in, "start", rc, 0);
            sh_log(SH_LOG_ERROR, in->name, "start failed (see above)");
            return -1;
        }
        in->started = 1;
    }
    return 0;
}

static int any_sink_busy(pipeline *pl)
{
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        if (in->kind == SH_SINK && in->p->busy && WD_CALL(in, "busy", in->p->busy(in->state)))
            return 1;
    }
    return 0;
}

static void tick_all(pipeline *pl)
{
    int64_t now = sh_host_services.now_ms(NULL);
    for (size_t i = 0; i < pl->ninsts && !pl->failed; i++) {
        instance *in = pl->insts[i];
        if (in->p->tick && defined_rc(in, "tick", WD_CALL(in, "tick", in->p->tick(in->state, now)), 0) == SH_FATAL) {
            if (!pl->failed)
                sh_log(SH_LOG_ERROR, in->name, "tick failed (fatal)");
            pl->failed = 1;
        }
    }
}

/* Flushes sinks until all report durable, or the deadline passes: the
 * watchdog's shutdown deadline once armed (so the flush and the watchdog
 * agree on when time is up), else timeout_ms from now. */
int flush_sinks(pipeline *pl, int final, int64_t timeout_ms)
{
    int64_t deadline = watchdog_deadline();
    if (deadline == INT64_MAX)
        deadline = sh_mono_ms() + timeout_ms;
    for (;;) {
        int pending = 0;
        for (size_t i = 0; i < pl->ninsts; i++) {
            instance *in = pl->insts[i];
            if (in->kind != SH_SINK || !in->p->flush)
                continue;
            sh_rc rc = defined_rc(in, "flush", WD_CALL(in, "flush", in->p->flush(in->state, final)), 0);
            if (rc == SH_PENDING || rc == SH_RETRY) /* SH_RETRY: the ABI 1.0 spelling */
                pending = 1;
            else if (rc == SH_FATAL) {
                if (!pl->failed)
                    sh_log(SH_LOG_ERROR, in->name, "flush failed (fatal)");
                pl->failed = 1;
                return -1;
            }
        }
        if (!pending)
            return 0;
        if (pl->failed)
            return -1;
        if (sh_mono_ms() >= deadline) {
            LOG_ERROR("sinks did not finish flushing within %lld ms; uncommitted input will be re-read on the next start",
                      (long long)timeout_ms);
            return -1;
        }
        tick_all(pl);
        sh_sleep_ms(10);
    }
}

/* While draining exchanges: let the sinks progress, commit what they acked. */
static void drain_commit(pipeline *pl)
{
    tick_all(pl);
    commits_take(pl);
    commits_ready(pl);
}

/* End of a finite run with exchanges: make this process's own output
 * durable and committed, leave the source groups (so that the processes
 * still running rebalance without waiting for this one), then merge what
 * this process can: its exchange partitions read to their end.  What is
 * not complete here is merged by the partitions' next owner. */
static void finish_exchanges(pipeline *pl)
{
    if (flush_sinks(pl, 0, pl->shutdown_timeout_ms) != 0 || exchange_flush(pl, (int)pl->shutdown_timeout_ms) != 0)
        return;
    commits_take(pl);
    commits_ready(pl);
    for (size_t i = 0; i < pl->ninsts && !pl->failed; i++) {
        instance *in = pl->insts[i];
        if (in->kind == SH_SOURCE && in->started && !in->stopped && in->p->stop) {
            WD_CALL_VOID(in, "stop", in->p->stop(in->state));
            in->stopped = 1;
        }
    }
    if (!pl->failed && exchange_drain(pl, pl->shutdown_timeout_ms, drain_commit) != 0 && !pl->failed)
        LOG_WARN("exchange not read to its end; unmerged windows stay uncommitted for the next owner");
}

int pipeline_start(pipeline *pl)
{
    return deadletter_open(pl) != 0 || init_all(pl) != 0 ? -1 : 0;
}

int pipeline_run(pipeline *pl)
{
    watchdog_start(pl); /* stopped by pipeline_free, after the last destroy() */
    if (http_metrics_start(pl, pl->metrics_address) != 0 || deadletter_open(pl) != 0 || init_all(pl) != 0) {
        pl->failed = 1;
        watchdog_arm("the fatal error");
        http_metrics_stop();
        return 1;
    }
    watchdog_set_running(1); /* plugins may emit from here on (services.c) */
    http_metrics_set_ready(1);
    progress_start(pl);
    pl->running = 1;
    int64_t now = sh_mono_ms();
    int64_t next_tick = now + pl->tick_ms, next_commit = now + pl->commit_interval_ms;
    size_t nsources = 0;
    for (size_t i = 0; i < pl->ninsts; i++)
        nsources += pl->insts[i]->kind == SH_SOURCE;
    int all_done = 0;
    int64_t rate_start = sh_mono_ms();
    uint64_t rate_count = 0;
    size_t batch = (size_t)pl->batch_size;
    if (pl->rate_limit > 0 && (size_t)(pl->rate_limit / 20) < batch)
        batch = pl->rate_limit / 20 > 0 ? (size_t)(pl->rate_limit / 20) : 1; /* ~50 ms of records per poll */
    LOG_INFO("pipeline running: %zu components; Ctrl-C stops it cleanly", pl->ninsts);

    while (!pl->stop_requested && !pl->failed) {
        int busy = any_sink_busy(pl);
        size_t active = 0;
        for (size_t i = 0; i < pl->ninsts && !busy; i++) {
            instance *in = pl->insts[i];
            if (in->kind != SH_SOURCE || in->done)
                continue;
            active++;
        }
        if (!busy) {
            for (size_t i = 0; i < pl->ninsts && !pl->failed && !pl->stop_requested; i++) {
                instance *in = pl->insts[i];
                if (in->kind != SH_SOURCE || in->done)
                    continue;
                /* several live sources: don't let one block the others */
                int timeout = active > 1 ? 0 : (int)pl->tick_ms;
                uint64_t before = in->m_out->counter;
                sh_rc rc = defined_rc(in, "poll", WD_CALL(in, "poll", in->p->poll(in->state, batch, timeout)), 1);
                rate_count += in->m_out->counter - before;
                if (rc == SH_DONE) {
                    in->done = 1;
                    sh_log(SH_LOG_INFO, in->name, "input finished");
                } else if (rc == SH_FATAL) {
                    if (!pl->failed)
                        sh_log(SH_LOG_ERROR, in->name, "poll failed (fatal); stopping");
                    pl->failed = 1;
                } else if (rc == SH_RETRY) {
                    sleep_unless_stopped(pl, 50);
                }
            }
        } else {
            sh_sleep_ms(5);
        }
        /* exchanges (internal topics): deliver what other processes wrote */
        if (pl->nexchanges && !pl->failed && exchange_poll(pl, batch) < 0)
            pl->failed = 1;
        if (pl->rate_limit > 0) { /* throttle: sleep off what ran ahead of the rate */
            int64_t ahead = (int64_t)(rate_count * 1000 / (uint64_t)pl->rate_limit) - (sh_mono_ms() - rate_start);
            if (ahead > 0)
                sh_sleep_ms(ahead > 100 ? 100 : ahead);
        }
        size_t done = 0;
        for (size_t i = 0; i < pl->ninsts; i++)
            done += pl->insts[i]->kind == SH_SOURCE && pl->insts[i]->done;
        if (done == nsources) {
            all_done = 1;
            break;
        }
        now = sh_mono_ms();
        if (now >= next_tick) {
            tick_all(pl);
            progress_update(pl, 0);
            next_tick = now + pl->tick_ms;
        }
        if (now >= next_commit) {
            commits_take(pl);
            next_commit = now + pl->commit_interval_ms;
        }
        commits_ready(pl);
    }

    http_metrics_set_ready(0);
    /* From here on everything is bounded by shutdown.timeout (watchdog.h). */
    if (pl->stop_requested)
        watchdog_arm("the stop request");
    else if (pl->failed)
        watchdog_arm("the fatal error");
    int rc = 0;
    if (pl->failed) {
        rc = 1;
    } else {
        if (all_done) {
            /* finite input: every window may fire now */
            LOG_INFO("all sources finished; firing open windows and flushing");
            for (size_t i = 0; i < pl->ninsts && !pl->failed; i++)
                if (pl->insts[i]->kind == SH_SOURCE)
                    pipeline_watermark(pl->insts[i], INT64_MAX);
            if (pl->nexchanges && !pl->failed)
                finish_exchanges(pl);
        } else {
            LOG_INFO("stop requested; flushing sinks (open windows are re-read from Kafka on the next start)");
        }
        watchdog_arm("the final flush began");
        if (pl->failed || flush_sinks(pl, 1, pl->shutdown_timeout_ms) != 0 ||
            exchange_flush(pl, (int)pl->shutdown_timeout_ms) != 0) {
            rc = 1;
        } else {
            commits_take(pl);
            commits_ready(pl);
        }
    }
    pl->running = 0;
    commits_free(pl);
    progress_update(pl, 1);
    progress_summary(pl);
    http_metrics_stop();
    return rc;
}

void pipeline_free(pipeline *pl)
{
    if (!pl)
        return;
    watchdog_arm("the end of the run");
    watchdog_set_running(0);
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        if (in->started && !in->stopped && in->p->stop)
            WD_CALL_VOID(in, "stop", in->p->stop(in->state));
    }
    exchange_close_all(pl); /* leaves the exchange groups while the owners still exist */
    commits_free(pl);
    for (size_t i = pl->ninsts; i-- > 0;) {
        instance *in = pl->insts[i];
        if (in->state && in->p->destroy)
            WD_CALL_VOID(in, "destroy", in->p->destroy(in->state));
    }
    watchdog_stop();
    deadletter_close(pl);
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        for (size_t p = 0; p < in->nports; p++) {
            free(in->ports[p].name);
            free(in->ports[p].edges);
        }
        free(in->ports);
        free(in->inputs);
        for (size_t l = 0; l < in->nlists; l++)
            free(in->lists[l]);
        free(in->lists);
        free(in->slot_fences);
        loader_unload(&in->lp);
        free(in);
    }
    free(pl->insts);
    for (size_t s = 0; s < pl->nslots; s++)
        free(pl->slots[s].stream);
    free(pl->slots);
    loader_free_dirs(pl->dirs);
    kafka_shutdown();
    free(pl);
}
