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
#include "flow.h"
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

void pipeline_request_stop(pipeline *pl) { pl->stop_requested = 1; }

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
            flow_rc(in, "init", rc, 0);
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
            flow_rc(in, "start", rc, 0);
            sh_log(SH_LOG_ERROR, in->name, "start failed (see above)");
            return -1;
        }
        in->started = 1;
    }
    return 0;
}

/* Bounded runs (plugin.h, input_settled): once every source without the
 * callback has finished and the sinks have flushed what they produced, the
 * sources with it fix where their input ends.  Once per run. */
static void settle_inputs(pipeline *pl)
{
    if (pl->inputs_settled)
        return;
    int waiting = 0;
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        if (in->kind != SH_SOURCE)
            continue;
        if (in->p->input_settled)
            waiting = 1;
        else if (!in->done)
            return;
    }
    pl->inputs_settled = 1;
    if (!waiting)
        return;
    if (flush_sinks(pl, 0, pl->shutdown_timeout_ms) != 0)
        LOG_WARN("bounded sources: the sinks did not flush what this process produced in time; its end may be missed");
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        if (in->kind == SH_SOURCE && in->p->input_settled && in->state)
            WD_CALL_VOID(in, "input_settled", in->p->input_settled(in->state));
    }
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

/* While draining exchanges: let the sinks progress, commit what they acked. */
static void drain_commit(pipeline *pl)
{
    flow_tick_all(pl);
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
    /* The end of the input waits for the sinks as the run waits during an
     * outage (back-pressure rides it out): as long as they need, until a stop
     * is requested; the exchange's last windows are merged only after. */
    int64_t note_at = sh_mono_ms() + 10000;
    int pending;
    while ((pending = flush_sinks_once(pl, 0)) > 0 && !pl->stop_requested) {
        if (sh_mono_ms() >= note_at) {
            LOG_WARN("end of the input: waiting for the sinks to make their output durable before the last windows "
                     "are merged (Ctrl-C stops; the rest is read again on the next start)");
            note_at = sh_mono_ms() + 30000;
        }
        flow_tick_all(pl);
        sh_sleep_ms(10);
    }
    if (pending != 0 || exchange_flush(pl, (int)pl->shutdown_timeout_ms) != 0) {
        if (!pl->failed && !pl->stop_requested)
            LOG_ERROR("the exchange could not be written out at the end of the input; its last windows are not merged "
                      "here (exit 1; they are read again on the next start)");
        if (!pl->stop_requested)
            pl->failed = 1;
        return;
    }
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
        settle_inputs(pl);
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
                sh_rc rc = flow_rc(in, "poll", WD_CALL(in, "poll", in->p->poll(in->state, batch, timeout)), 1);
                rate_count += in->m_out->counter - before;
                if (rc == SH_DONE) {
                    in->done = 1;
                    sh_log(SH_LOG_INFO, in->name, "input finished");
                } else if (rc == SH_FATAL) {
                    if (!pl->failed)
                        sh_log(SH_LOG_ERROR, in->name, "poll failed (fatal); stopping");
                    pl->failed = 1;
                } else if (rc == SH_RETRY) {
                    flow_sleep_unless_stopped(pl, 50);
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
            kafka_security_tick();
            flow_tick_all(pl);
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
    /* A stop while a Kafka client has not yet got through (a failure that
     * may pass, within kafka.auth.timeout) is not a clean run either. */
    const char *sec_pending = pl->failed ? NULL : kafka_security_pending();
    if (sec_pending)
        LOG_ERROR("stopped while the Kafka security failure above was unresolved (%s); exit 1", sec_pending);
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
    if (sec_pending)
        rc = 1;
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
