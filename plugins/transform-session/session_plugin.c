/* session_plugin.c - the "session" transform: per-key event-time session
 * windows (docs/semantics.md sections 3 and 4).  This file holds the descriptor,
 * config and the callbacks; the work is in session_apply.c (merging),
 * session_store.c (state), slot_clock.c (watermarks), session_output.c. */
#include "session.h"

#include <stddef.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sh_config_key ss_config[] = {
    {"key", SH_CFG_STRING, "userid", 0,
     "INT field whose value keys the sessions (one session stream per value)"},
    {"gap", SH_CFG_DURATION, "1s", 0,
     "each event opens [t, t+gap); windows of one key that overlap or touch merge"},
    {"out_of_orderness", SH_CFG_DURATION, "20s", 0,
     "watermark of a slot = its highest event time - this - 1ms"},
    {"idleness", SH_CFG_DURATION, "1m", 0,
     "a slot without records for this long stops holding the watermark back (0s: never)"},
    {"index", SH_CFG_STRING, "user_session_details", 0,
     "stream name of the session records (the index a document sink writes)"},
    {"event_type_field", SH_CFG_STRING, "event_type", 0,
     "STRING field with the event type; order_checkout records the checkout count"},
    {"product_type_field", SH_CFG_STRING, "product_type", 0,
     "STRING field with the product category; empty, N/A and null are not counted"},
    {NULL, 0, NULL, 0, NULL}};

static const char *const ss_outputs[] = {"late", NULL};

#define SS_PORT_LATE 1

/* --- input schemas -------------------------------------------------------- */


/* --- firing ----------------------------------------------------------------- */

/* Emit every session due at st->wm in (end, key) order, then the watermark. */
static sh_rc ss_fire(ss_state *st)
{
    ss_store *S = &st->store;
    for (;;) {
        int oom;
        uint32_t idx = ss_due(S, st->wm, &oom);
        if (oom) {
            st->host->log(st->ctx, SH_LOG_ERROR, "out of memory firing sessions (%u open)", S->n);
            return SH_FATAL;
        }
        if (idx == SS_NONE)
            break;
        ss_sess *s = ss_at(S, idx);
        if (ss_end(S, s) - 1 >= ss_fence_of(st, s->slot)) {
            sh_rc rc = ss_output_add(st, s);
            if (rc != SH_OK)
                return rc;
        } else {
            (*st->replayed)++; /* rebuilt from re-read input; delivered before the restart */
        }
        ss_sess_release(S, s);
        ss_del(S, idx);
    }
    *st->open_gauge = S->n;
    sh_rc rc = ss_output_flush(st);
    if (rc != SH_OK)
        return rc;
    return st->host->emit_watermark(st->ctx, st->wm);
}

/* Recompute the operator watermark; when it advanced, fire and forward. */
static sh_rc ss_advance(ss_state *st, int64_t now)
{
    int64_t wm = INT64_MIN;
    /* partitions assigned upstream but silent so far hold the watermark back */
    if (SH_HOST_HAS(st->host, upstream_slots)) {
        int32_t slots[256];
        size_t n = st->host->upstream_slots(st->ctx, slots, 256);
        for (size_t i = 0; i < n && i < 256; i++)
            if (ss_clock_announce(&st->clock, slots[i], now) != 0) {
                /* not SH_RETRY: process() has applied its batch by now */
                st->host->log(st->ctx, SH_LOG_ERROR, "out of memory tracking slot %d", (int)slots[i]);
                return SH_FATAL;
            }
    }
    (void)ss_clock_watermark(&st->clock, st->cfg.out_of_orderness, st->cfg.idleness,
                             now, &wm);
    if (st->host_wm > wm)
        wm = st->host_wm;
    if (wm <= st->wm)
        return SH_OK; /* never goes backwards */
    st->wm = wm;
    *st->wm_gauge = wm;
    return ss_fire(st);
}

/* --- records that are not applied ---------------------------------------- */

static sh_rc ss_dead_null_key(ss_state *st, const sh_record *r)
{
    char reason[160];
    snprintf(reason, sizeof reason, "null_key: field '%s' is null", st->cfg.key_field);
    st->dead.len = 0;
    sh_json_record(&st->dead, r);
    (*st->null_keys)++;
    return st->host->dead_letter(st->ctx, st->dead.data ? st->dead.data : "",
                                 st->dead.len, reason, r);
}

/* --- callbacks ------------------------------------------------------------ */

static sh_rc ss_process(void *state, uint32_t input, const sh_record *recs,
                        size_t n)
{
    ss_state *st = state;
    int64_t now = st->host->mono_ms(st->ctx);
    for (size_t i = 0; i < n; i++) {
        const sh_record *r = &recs[i];
        const ss_fields *f = sh_field_cache_get(&st->fields, st->host, st->ctx, r->schema, st->want, SS_IN_N);
        if (!f)
            return SH_FATAL;
        const sh_value *kv = &r->values[f->pos[SS_IN_KEY]];
        if (kv->type != SH_INT) {
            sh_rc rc = ss_dead_null_key(st, r);
            if (rc != SH_OK)
                return rc;
            continue;
        }
        (*st->events_in)++;
        int late;
        if (ss_clock_observe(&st->clock, r->slot, r->time, now) != 0) {
            st->host->log(st->ctx, SH_LOG_ERROR, "out of memory tracking slot %d", (int)r->slot);
            return SH_FATAL;
        }
        sh_rc rc = ss_apply(st, r, f, kv->u.i, &late);
        if (rc != SH_OK)
            return rc;
        if (late && sh_recqueue_push(&st->late, r) != 0) {
            st->host->log(st->ctx, SH_LOG_ERROR, "out of memory queueing late records");
            return SH_FATAL;
        }
    }
    *st->open_gauge = st->store.n;
    (*st->late_events) += st->late.n;
    sh_rc rc = sh_recqueue_emit(&st->late, st->host, st->ctx, SS_PORT_LATE);
    if (rc != SH_OK)
        return rc;
    return ss_advance(st, now);
}

static sh_rc ss_watermark(void *state, int64_t wm)
{
    ss_state *st = state;
    if (wm > st->host_wm)
        st->host_wm = wm;
    return ss_advance(st, st->host->mono_ms(st->ctx));
}

static sh_rc ss_tick(void *state, int64_t now_ms)
{
    ss_state *st = state;
    (void)now_ms; /* idleness is measured on the monotonic clock */
    return ss_advance(st, st->host->mono_ms(st->ctx));
}

static void ss_lower(int64_t *min_offset, size_t nslots, int32_t slot, int64_t off)
{
    if (slot >= 0 && (size_t)slot < nslots && off < min_offset[slot])
        min_offset[slot] = off;
}

static void ss_held(void *state, int64_t *min_offset, size_t nslots)
{
    const ss_state *st = state;
    const ss_store *S = &st->store;
    for (uint32_t i = 0, end = ss_index_end(S); i < end; i++) {
        if (!ss_open(S, i))
            continue;
        const ss_sess *s = ss_at(S, i);
        ss_lower(min_offset, nslots, s->slot, s->min_offset);
        uint32_t nh;
        const ss_hold *h = ss_sess_holds(S, s, &nh);
        for (uint32_t k = 0; k < nh; k++)
            ss_lower(min_offset, nslots, h[k].slot, h[k].offset);
    }
}

static void ss_destroy(void *state)
{
    ss_state *st = state;
    if (!st)
        return;
    ss_store_free(&st->store);
    sh_intern_free(&st->depts);
    ss_clock_free(&st->clock);
    ss_output_free(&st->out);
    sh_buf_free(&st->dead);
    sh_field_cache_free(&st->fields);
    sh_recqueue_free(&st->late);
    free(st->merge_parts);
    free(st->slot_fence);
    free(st);
}

/* The config values (ss_values, session.h), checked: the one place for
 * these rules, used by validate() (`streamhost check`) and init().  Logs one
 * line per bad value. */

static sh_rc ss_read_config(const sh_host *host, sh_ctx *ctx, ss_values *c)
{
    c->gap = host->cfg_int(ctx, "gap");
    c->out_of_orderness = host->cfg_int(ctx, "out_of_orderness");
    c->idleness = host->cfg_int(ctx, "idleness");
    c->key_field = sh_cfg_name(host, ctx, "key");
    c->event_type_field = sh_cfg_name(host, ctx, "event_type_field");
    c->product_type_field = sh_cfg_name(host, ctx, "product_type_field");
    c->index = sh_cfg_name(host, ctx, "index");
    int ok = c->key_field && c->event_type_field && c->product_type_field && c->index;
    ok &= sh_cfg_at_least(host, ctx, "gap", 1, "1ms", "gap = 1s");
    return ok ? SH_OK : SH_FATAL;
}

SH_VALIDATE_WITH(ss_validate, ss_values, ss_read_config)

static sh_rc ss_init(const sh_host *host, sh_ctx *ctx, void **state)
{
    SH_INIT_STATE(ss_state, st, ss_values, ss_read_config);
    st->want[SS_IN_KEY] = (sh_field_want){"key", st->cfg.key_field, SH_INT};
    st->want[SS_IN_EVENT_TYPE] = (sh_field_want){"event_type_field", st->cfg.event_type_field, SH_STRING};
    st->want[SS_IN_PRODUCT_TYPE] = (sh_field_want){"product_type_field", st->cfg.product_type_field, SH_STRING};
    const char *index = st->cfg.index;
    st->out_schema = (sh_schema){.name = index, .nfields = SS_NFIELDS,
                                 .fields = ss_out_fields};
    st->wm = st->host_wm = INT64_MIN;
    st->fence = INT64_MIN;
    sh_intern_init(&st->depts);
    ss_clock_init(&st->clock);
    if (ss_store_init(&st->store) != 0) {
        host->log(ctx, SH_LOG_ERROR, "out of memory");
        ss_destroy(st);
        return SH_FATAL;
    }
    st->events_in = host->counter(ctx, "keyed_events_total", "events received with a key (the rest: null_keys_total)");
    st->sessions_out = host->counter(ctx, "sessions_emitted_total", "sessions emitted on the default output");
    st->late_events = host->counter(ctx, "late_events_total",
                                    "events too late for their session, sent to the late output");
    st->null_keys = host->counter(ctx, "null_keys_total",
                                  "events without a key value, sent to the dead-letter output");
    st->replayed = host->counter(ctx, "replayed_sessions_dropped_total",
                                 "sessions rebuilt from re-read input after a restart, delivered before it");
    st->open_gauge = host->gauge(ctx, "open_sessions", "sessions waiting for the watermark");
    st->wm_gauge = &st->wm_shown; /* exported by the host: watermark_seconds */
    *state = st;
    return SH_OK;
}

/* --- replay ---------------------------------------------------------- */

static int64_t ss_settled(void *state)
{
    const ss_state *st = state;
    /* sessions with end - 1 <= wm have fired; late events never reopen them */
    return st->wm == INT64_MIN || st->wm == INT64_MAX ? st->wm : st->wm + 1;
}

static void ss_replay_fence(void *state, int64_t fence)
{
    ss_state *st = state;
    st->fence = fence;
    st->host->log(st->ctx, SH_LOG_INFO, "replay: sessions ending before %lld were delivered before the restart; "
                  "rebuilt copies of them are dropped", (long long)fence);
}

static const sh_plugin ss_plugin = {
    SH_PLUGIN_MAGIC,
    .name = "session",
    .version = "1.0.0",
    .kind = SH_TRANSFORM,
    .description = "per-key event-time session windows with Flink's merge, "
                   "watermark and late-data rules",
    .config = ss_config,
    .outputs = ss_outputs,
    .init = ss_init,
    .process = ss_process,
    .watermark = ss_watermark,
    .tick = ss_tick,
    .held = ss_held,
    .destroy = ss_destroy,
    .settled = ss_settled,
    .replay_fence = ss_replay_fence,
    .slot_assigned = ss_slot_assigned,
    .slot_revoked = ss_slot_revoked,
    .validate = ss_validate,
};

SH_PLUGIN_EXPORT(ss_plugin)
