/* clickgen.c - the "clickgen" source plugin: synthetic ClickEvents that
 * follow the reference producer's journey model (docs/semantics.md §2).  This file
 * holds the plugin callbacks; the simulation is in clickgen_events.c. */
#include "clickgen.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const sh_field click_fields[CF_COUNT] = {
    [CF_IP] = {"ip", SH_STRING},
    [CF_EVENTTIMESTAMP] = {"eventtimestamp", SH_INT},
    [CF_DEVICETYPE] = {"devicetype", SH_STRING},
    [CF_EVENT_TYPE] = {"event_type", SH_STRING},
    [CF_PRODUCT_TYPE] = {"product_type", SH_STRING},
    [CF_USERID] = {"userid", SH_INT},
    [CF_GLOBALSEQ] = {"globalseq", SH_INT},
    [CF_PREVGLOBALSEQ] = {"prevglobalseq", SH_INT},
    [CF_REFERRER] = {"referrer", SH_STRING},
};

static void clickgen_destroy(void *state)
{
    clickgen *g = state;
    if (!g)
        return;
    user_heap_free(&g->users);
    free(g->thread_last_seq);
    free(g->recs);
    free(g->vals);
    free(g->text);
    free(g->stream_name);
    free(g);
}

/* A seed for `seed = 0`: mixes both clocks and the pid, kept positive so
 * that the logged value can be pasted back into the config. */
static int64_t seed_from_clock(const clickgen *g)
{
    uint64_t x = (uint64_t)g->host->now_ms(g->ctx) ^
                 ((uint64_t)g->host->mono_ms(g->ctx) << 21) ^
                 ((uint64_t)getpid() << 42) ^ (uint64_t)(uintptr_t)g;
    int64_t seed = (int64_t)(prng_splitmix64(&x) >> 1);
    return seed ? seed : 1;
}

/* `streamhost check`: the same checks init() makes (clickgen_read_config,
 * the one place for them). */
static sh_rc clickgen_validate(const sh_host *host, sh_ctx *ctx)
{
    clickgen_config cfg;
    return clickgen_read_config(host, ctx, &cfg);
}

static sh_rc clickgen_init(const sh_host *host, sh_ctx *ctx, void **state)
{
    clickgen_config cfg;
    if (clickgen_read_config(host, ctx, &cfg) != SH_OK)
        return SH_FATAL;
    clickgen *g = calloc(1, sizeof *g);
    if (!g)
        return SH_FATAL;
    g->host = host;
    g->ctx = ctx;
    g->cfg = cfg;
    g->stream_name = strdup(cfg.stream);
    g->thread_last_seq = calloc((size_t)cfg.threads, sizeof *g->thread_last_seq);
    if (!g->stream_name || !g->thread_last_seq ||
        user_heap_init(&g->users, (size_t)cfg.users) != 0) {
        host->log(ctx, SH_LOG_ERROR, "out of memory for %lld users", (long long)cfg.users);
        clickgen_destroy(g);
        return SH_FATAL;
    }
    memcpy(g->fields, click_fields, sizeof g->fields);
    /* schema.version 1 leaves out the fields v2 added (values keep the stride) */
    g->schema = (sh_schema){g->stream_name, cfg.schema_version == 2 ? CF_COUNT : CF_REFERRER, g->fields};
    g->events_total = host->counter(ctx, "events_total", "click events generated");
    g->users_started_total = host->counter(ctx, "users_started_total", "user journeys started");

    int64_t seed = cfg.seed;
    if (seed == 0) {
        seed = seed_from_clock(g);
        host->log(ctx, SH_LOG_INFO, "seed = %lld (set it in the config to repeat this run)",
                  (long long)seed);
    }
    prng_seed(&g->rng, (uint64_t)seed);
    *state = g;
    return SH_OK;
}

/* clock = wall with a rate below what the users would click: say what that
 * does to the data (each user's clicks spread out; event time stays the
 * wall clock because events are stamped when sent). */
static void log_rate_below_users(const clickgen *g)
{
    const clickgen_config *c = &g->cfg;
    double think = (double)(c->think_min + c->think_max) / 2.0;
    if (!c->wall_clock || !c->rate || think < 1.0)
        return;
    double natural = (double)c->users * 1000.0 / think;
    if (natural <= (double)c->rate)
        return;
    g->host->log(g->ctx, SH_LOG_INFO,
                 "users = %lld would click about %.0f times a second, more than rate = %lld: "
                 "events are stamped when sent, so each user's clicks come about %.0f ms apart "
                 "instead of %.0f ms (fewer users keep the think times)",
                 (long long)c->users, natural, (long long)c->rate,
                 (double)c->users * 1000.0 / (double)c->rate, think);
}

static sh_rc clickgen_start(void *state)
{
    clickgen *g = state;
    int64_t now = g->host->now_ms(g->ctx);
    int64_t base = (!g->cfg.wall_clock && g->cfg.start_time) ? g->cfg.start_time : now;
    clickgen_begin(g, base);
    pacer_init(&g->pace, g->cfg.rate, g->host->mono_ms(g->ctx));
    log_rate_below_users(g);
    return SH_OK;
}

/* Grows the batch storage to hold `max` records (only when max grows). */
static int reserve_batch(clickgen *g, size_t max)
{
    if (max <= g->batch_cap)
        return 0;
    sh_record *recs = realloc(g->recs, max * sizeof *recs);
    if (recs)
        g->recs = recs;
    sh_value *vals = realloc(g->vals, max * CF_COUNT * sizeof *vals);
    if (vals)
        g->vals = vals;
    clickgen_text *text = realloc(g->text, max * sizeof *text);
    if (text)
        g->text = text;
    if (!recs || !vals || !text)
        return -1;
    g->batch_cap = max;
    return 0;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static sh_rc clickgen_poll(void *state, size_t max, int timeout_ms)
{
    clickgen *g = state;
    const sh_host *h = g->host;
    if (g->done || clickgen_finished(g)) {
        g->done = 1;
        return SH_DONE;
    }
    if (max == 0)
        return SH_OK;
    if (reserve_batch(g, max) != 0) {
        h->log(g->ctx, SH_LOG_ERROR, "out of memory for a batch of %zu events", max);
        return SH_RETRY;
    }
    /* Sleep time is summed from what we asked for, not read from the clock,
     * so a stopped clock (tests) cannot keep us here past timeout_ms. */
    int64_t slept = 0;
    for (;;) {
        size_t room = max;
        int64_t wait = 0;
        if (g->cfg.rate) {
            size_t tokens = pacer_available(&g->pace, h->mono_ms(g->ctx));
            if (tokens < room)
                room = tokens;
            if (!room)
                wait = pacer_wait_ms(&g->pace);
        }
        int64_t ready_until = INT64_MAX;
        if (g->cfg.wall_clock) {
            ready_until = h->now_ms(g->ctx);
            int64_t next = user_heap_top(&g->users)->next_time;
            if (next > ready_until && next - ready_until > wait)
                wait = next - ready_until;
        }
        if (wait == 0) {
            size_t n = clickgen_fill(g, room, ready_until,
                                     g->cfg.wall_clock ? ready_until : INT64_MIN);
            if (g->cfg.rate)
                pacer_spend(&g->pace, n);
            sh_rc rc = n ? h->emit(g->ctx, 0, g->recs, n) : SH_OK;
            *g->events_total += n;
            if (rc != SH_OK)
                return rc;
            if (clickgen_finished(g)) {
                g->done = 1;
                return SH_DONE;
            }
            return SH_OK;
        }
        int64_t left = (int64_t)timeout_ms - slept;
        if (left <= 0)
            return SH_OK;
        int64_t nap = wait < left ? wait : left;
        sleep_ms(nap);
        slept += nap;
    }
}

static const sh_plugin clickgen_plugin = {
    SH_PLUGIN_MAGIC,
    .name = "clickgen",
    .version = "1.1.0",
    .kind = SH_SOURCE,
    .description = "synthetic click events: users browsing a shop, as the reference producer",
    .config = clickgen_config_keys,
    .init = clickgen_init,
    .start = clickgen_start,
    .poll = clickgen_poll,
    .destroy = clickgen_destroy,
    .validate = clickgen_validate,
};

SH_PLUGIN_EXPORT(clickgen_plugin)
