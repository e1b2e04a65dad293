/* tumble_plugin.c - the "tumble" transform: epoch-aligned tumbling windows
 * over session records (docs/semantics.md section 5).  Descriptor, config and
 * callbacks; windows live in tumble_windows.c, documents in tumble_output.c. */
#include "tumble.h"

#include <stdlib.h>
#include <string.h>

static const sh_config_key tb_config[] = {
    {"size", SH_CFG_DURATION, "10s", 0,
     "window length; windows are aligned to the epoch and a session counts in "
     "the window holding its end - 1"},
    {"counts_index", SH_CFG_STRING, "user_session_counts", 0,
     "stream name of the per-window session counts"},
    {"departments_index", SH_CFG_STRING, "departments_count", 0,
     "stream name of the per-window department counts"},
    {"checkout_field", SH_CFG_STRING, "orderCheckoutEventCount", 0,
     "INT field of the input; non-zero marks a session with a checkout"},
    {"departments_field", SH_CFG_STRING, "deptList", 0,
     "STRLIST field of the input with the session's departments"},
    {"exchange", SH_CFG_STRING, "auto", 0,
     "kafka: aggregate in two steps through the internal topic <group>.<name>.partials, so that any number of "
     "processes in one consumer group write the documents of one; local: in this process only; auto: kafka when the "
     "input comes from one Kafka topic, else local"},
    {NULL, 0, NULL, 0, NULL}};

static const char *const tb_outputs[] = {"late", NULL};
static const char *const tb_exchanges[] = {"partials", NULL};

#define TB_PORT_LATE 1


static sh_rc tb_process(void *state, uint32_t input, const sh_record *recs, size_t n)
{
    tb_state *st = state;
    for (size_t i = 0; i < n; i++) {
        const sh_record *r = &recs[i];
        const tb_fields *f = sh_field_cache_get(&st->fields, st->host, st->ctx, r->schema, st->want, TB_IN_N);
        if (!f)
            return SH_FATAL;
        (*st->sessions_in)++;
        int64_t start = tb_window_start(r->time, st->cfg.size);
        int bad;
        if (tb_window_last(st, start) <= st->wm)
            bad = sh_recqueue_push(&st->late, r); /* its window already fired */
        else
            bad = tb_window_add(st, start, r, f);
        if (bad) {
            st->host->log(st->ctx, SH_LOG_ERROR, "out of memory with %zu open windows",
                          st->nwin);
            return SH_FATAL;
        }
    }
    (*st->late_sessions) += st->late.n;
    return sh_recqueue_emit(&st->late, st->host, st->ctx, TB_PORT_LATE);
}

/* The input watermark advanced: fire complete windows, then forward it. */
static sh_rc tb_watermark(void *state, int64_t wm)
{
    tb_state *st = state;
    if (wm <= st->wm)
        return SH_OK;
    st->wm = wm;
    *st->wm_gauge = wm;
    sh_rc rc = tb_windows_fire(st);
    if (rc == SH_OK)
        rc = tb_exchange_markers(st);
    if (rc != SH_OK)
        return rc;
    /* exchange mode: merged windows may come out later, older than this */
    return st->host->emit_watermark(st->ctx, wm);
}

static void tb_held(void *state, int64_t *min_offset, size_t nslots)
{
    const tb_state *st = state;
    for (size_t i = 0; i < st->nwin; i++) {
        const tb_window *w = &st->windows[i];
        for (uint32_t s = 0; s < w->nheld && s < nslots; s++)
            if (w->held[s] < min_offset[s])
                min_offset[s] = w->held[s];
    }
    tb_exchange_held(st, min_offset, nslots);
}

static void tb_destroy(void *state)
{
    tb_state *st = state;
    if (!st)
        return;
    tb_windows_free(st);
    tb_exchange_free(st);
    sh_intern_free(&st->names);
    free(st->name_stamp);
    tb_output_free(&st->out);
    sh_field_cache_free(&st->fields);
    sh_recqueue_free(&st->late);
    free(st->sorted);
    free(st);
}

/* The config values (tb_values, tumble.h), checked: the one place for
 * these rules, used by validate() (`streamhost check`) and init().  Logs one
 * line per bad value. */

static sh_rc tb_read_config(const sh_host *host, sh_ctx *ctx, tb_values *c)
{
    c->size = host->cfg_int(ctx, "size");
    c->checkout_field = sh_cfg_name(host, ctx, "checkout_field");
    c->departments_field = sh_cfg_name(host, ctx, "departments_field");
    c->counts_index = sh_cfg_name(host, ctx, "counts_index");
    c->departments_index = sh_cfg_name(host, ctx, "departments_index");
    int ok = c->checkout_field && c->departments_field && c->counts_index && c->departments_index;
    const char *ex = host->cfg_str(ctx, "exchange");
    c->exchange = !ex || !strcmp(ex, "auto") ? TB_EX_AUTO : !strcmp(ex, "kafka") ? TB_EX_KAFKA
                  : !strcmp(ex, "local") ? TB_EX_LOCAL : -1;
    if (c->exchange < 0) {
        host->log(ctx, SH_LOG_ERROR, "%s: exchange '%s' is not auto, kafka or local", host->cfg_where(ctx, "exchange"), ex);
        ok = 0;
    }
    ok &= sh_cfg_at_least(host, ctx, "size", 1, "1ms", "size = 10s");
    return ok ? SH_OK : SH_FATAL;
}

SH_VALIDATE_WITH(tb_validate, tb_values, tb_read_config)

static sh_rc tb_init(const sh_host *host, sh_ctx *ctx, void **state)
{
    SH_INIT_STATE(tb_state, st, tb_values, tb_read_config);
    st->want[TB_IN_CHECKOUT] = (sh_field_want){"checkout_field", st->cfg.checkout_field, SH_INT};
    st->want[TB_IN_DEPTS] = (sh_field_want){"departments_field", st->cfg.departments_field, SH_STRLIST};
    const char *counts = st->cfg.counts_index;
    const char *depts = st->cfg.departments_index;
    st->counts_schema = (sh_schema){counts, TB_C_NFIELDS, tb_counts_fields};
    st->depts_schema = (sh_schema){depts, TB_D_NFIELDS, tb_depts_fields};
    st->wm = INT64_MIN;
    st->fence = INT64_MIN;
    st->sessions_in = host->counter(ctx, "sessions_received_total", "session records received");
    st->counts_out = host->counter(ctx, "count_documents_emitted_total", "window count documents emitted (user_session_counts)");
    st->departments_out = host->counter(ctx, "department_documents_emitted_total",
                                        "department count documents emitted (departments_count)");
    st->late_sessions = host->counter(ctx, "late_sessions_total",
                                      "sessions for already fired windows, sent to the late output");
    st->open_gauge = host->gauge(ctx, "open_windows", "windows waiting for the watermark");
    st->wm_gauge = &st->wm_shown; /* exported by the host: watermark_seconds */
    st->replayed = host->counter(ctx, "replayed_windows_dropped_total",
                                 "windows rebuilt from re-read input after a restart, delivered before it");
    *state = st;
    return SH_OK;
}

/* --- replay ---------------------------------------------------------- */

static int64_t tb_settled(void *state)
{
    const tb_state *st = state;
    return st->wm == INT64_MIN || st->wm == INT64_MAX ? st->wm : st->wm + 1;
}

/* Sessions from this time on would land in windows that have not fired. */
static int64_t tb_needed_from(void *state)
{
    const tb_state *st = state;
    if (st->nwin)
        return st->windows[0].start;
    if (st->wm == INT64_MIN || st->wm == INT64_MAX)
        return st->wm;
    return tb_window_start(st->wm + 1, st->cfg.size);
}

static void tb_replay_fence(void *state, int64_t fence)
{
    tb_state *st = state;
    st->fence = fence;
    st->host->log(st->ctx, SH_LOG_INFO, "replay: windows ending before %lld were delivered before the restart",
                  (long long)fence);
}

static sh_rc tb_start(void *state)
{
    return tb_exchange_start(state);
}

static const sh_plugin tb_plugin = {
    SH_PLUGIN_MAGIC,
    .name = "tumble",
    .version = "1.0.0",
    .kind = SH_TRANSFORM,
    .description = "epoch-aligned tumbling windows over sessions: session counts, "
                   "checkout share and department counts",
    .config = tb_config,
    .outputs = tb_outputs,
    .init = tb_init,
    .process = tb_process,
    .watermark = tb_watermark,
    .held = tb_held,
    .destroy = tb_destroy,
    .settled = tb_settled,
    .needed_from = tb_needed_from,
    .replay_fence = tb_replay_fence,
    .start = tb_start,
    .exchange_recv = tb_exchange_recv,
    .slot_assigned = tb_slot_assigned,
    .slot_revoked = tb_slot_revoked,
    .slot_settled = tb_slot_settled,
    .exchanges = tb_exchanges,
    .validate = tb_validate,
};

SH_PLUGIN_EXPORT(tb_plugin)
