/* services.c - the host-services table (sh_host) every plugin receives. */
#include "cfgvalue.h"
#include "clock.h"
#include "commits.h"
#include "deadletter.h"
#include "exchange.h"
#include "flow.h"
#include "log.h"
#include "ownership.h"
#include "settings.h"
#include "watchdog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void svc_log(sh_ctx *ctx, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sh_logv(level, ctx->name, fmt, ap);
    va_end(ap);
}

/* Records and watermarks may flow only while the pipeline runs: emitting
 * from init() or start() would reach components not initialised yet (a
 * crash in the plugin downstream), from stop() or destroy() ones already
 * gone.  Refused with SH_FATAL, and the run fails even if the plugin
 * ignores the result. */
static int may_emit(sh_ctx *ctx, const char *what)
{
    if (watchdog_is_running())
        return 1;
    const instance *owner;
    const char *cb = watchdog_current(&owner);
    char from[160] = "";
    if (cb && owner == ctx)
        snprintf(from, sizeof from, " from %s()", cb);
    else if (cb && owner)
        snprintf(from, sizeof from, " during %s's %s()", owner->sec ? owner->sec->title : owner->name, cb);
    sh_log(SH_LOG_ERROR, NULL,
           "%s: %s() called%s while the pipeline is not running; emitting is allowed only from the poll, "
           "process, watermark, tick and flush callbacks (returning SH_FATAL)",
           ctx->sec ? ctx->sec->title : ctx->name, what, from);
    ctx->pl->failed = 1;
    return 0;
}

static sh_rc svc_emit(sh_ctx *ctx, uint32_t port, const sh_record *recs, size_t n)
{
    if (!may_emit(ctx, "emit"))
        return SH_FATAL;
    return pipeline_emit(ctx, port, recs, n);
}

static sh_rc svc_emit_watermark(sh_ctx *ctx, int64_t wm)
{
    if (!may_emit(ctx, "emit_watermark"))
        return SH_FATAL;
    return pipeline_watermark(ctx, wm);
}

static uint64_t *svc_counter(sh_ctx *ctx, const char *name, const char *help)
{
    return &metrics_get(ctx->name, name, help, 0, NULL)->counter;
}

static int64_t *svc_gauge(sh_ctx *ctx, const char *name, const char *help)
{
    return &metrics_get(ctx->name, name, help, 1, NULL)->value;
}

/* sh_histogram is the registry's metric (host/metrics.h). */
static sh_histogram *svc_histogram(sh_ctx *ctx, const char *name, const char *help, const double *bounds, size_t n)
{
    return (sh_histogram *)metrics_histogram(ctx->name, name, help, bounds, n, NULL);
}

static void svc_observe(sh_ctx *ctx, sh_histogram *h, double v)
{
    (void)ctx;
    metrics_observe((metric *)h, v);
}

static int64_t svc_now(sh_ctx *ctx)
{
    (void)ctx;
    return sh_plugin_now_ms();
}

static int64_t svc_mono(sh_ctx *ctx)
{
    (void)ctx;
    return sh_plugin_mono_ms();
}

/* A plugin reads only the keys its table (sh_plugin.config) declares, plus
 * the host's `plugin` and `inputs`.  Any other key would read as unset
 * (NULL, 0) without a word, so that `check` could never see it set, nor
 * `plugins describe` document it: a bug in the plugin.  It is one error line
 * naming the section, the plugin and the key, and the run fails: in `check`
 * (validate) it is a config error, exit 2; in init() the pipeline does not
 * start (pipeline.c); later, the pipeline stops. */
static const char *declared_cfg(sh_ctx *ctx, const char *key, const sh_config_key **declp)
{
    const sh_config_key *d = NULL;
    const char *v = inst_cfg(ctx, key, &d);
    if (declp)
        *declp = d;
    if (d || (key && (strcmp(key, "plugin") == 0 || strcmp(key, "inputs") == 0)))
        return v;
    if (!ctx->pl->failed) {
        char where[512];
        const char *title = ctx->sec ? ctx->sec->title : ctx->name;
        const char *plugin = ctx->p && ctx->p->name ? ctx->p->name : "?";
        sh_log(SH_LOG_ERROR, NULL,
               "%s: [%s]: the %s plugin reads config key '%s', which its key table does not declare "
               "(a bug in the plugin: add the key to its sh_plugin.config; `streamhost plugins describe %s` lists "
               "what it declares)",
               config_where(ctx->pl->cfg, ctx->sec ? ctx->sec->line : 0, where, sizeof where), title, plugin,
               key ? key : "(null)", plugin);
    }
    ctx->pl->failed = 1;
    return NULL;
}

static const char *svc_cfg_str(sh_ctx *ctx, const char *key)
{
    return declared_cfg(ctx, key, NULL);
}

static int64_t svc_cfg_int(sh_ctx *ctx, const char *key)
{
    const sh_config_key *d = NULL;
    const char *v = declared_cfg(ctx, key, &d);
    return sh_value_int(d ? d->type : SH_CFG_INT, v);
}

static double svc_cfg_double(sh_ctx *ctx, const char *key)
{
    const char *v = declared_cfg(ctx, key, NULL);
    return v ? strtod(v, NULL) : 0.0;
}

static size_t svc_cfg_list(sh_ctx *ctx, const char *key, const char *const **items)
{
    size_t n = 0;
    const char *v = declared_cfg(ctx, key, NULL);
    char **arr = sh_split_list(v ? v : "", &n);
    ctx->lists = realloc(ctx->lists, (ctx->nlists + 1) * sizeof(char **));
    ctx->lists[ctx->nlists++] = arr;
    *items = (const char *const *)arr;
    return n;
}

static void svc_cfg_each(sh_ctx *ctx, const char *prefix,
                         void (*fn)(void *, const char *, const char *), void *arg)
{
    size_t pl = strlen(prefix);
    for (size_t i = 0; ctx->sec && i < ctx->sec->nkv; i++)
        if (strncmp(ctx->sec->kvs[i].key, prefix, pl) == 0)
            fn(arg, ctx->sec->kvs[i].key + pl, ctx->sec->kvs[i].value);
}

static const char *svc_cfg_where(sh_ctx *ctx, const char *key)
{
    cfg_kv *kv = ctx->sec ? config_kv(ctx->sec, key) : NULL;
    config_where(ctx->pl->cfg, kv ? kv->line : (ctx->sec ? ctx->sec->line : 0), ctx->where, sizeof ctx->where);
    return ctx->where;
}

static const char *svc_instance_name(sh_ctx *ctx) { return ctx->name; }

static int32_t svc_slot(sh_ctx *ctx, const char *stream, int32_t partition)
{
    return pipeline_slot(ctx->pl, ctx, stream, partition);
}

static sh_rc svc_dead_letter(sh_ctx *ctx, const void *payload, size_t len,
                             const char *reason, const sh_record *origin)
{
    return deadletter_put(ctx->pl, ctx, payload, len, reason,
                          origin ? origin->slot : SH_NO_SLOT, origin ? origin->offset : -1);
}

static size_t svc_upstream_slots(sh_ctx *ctx, int32_t *slots, size_t max)
{
    size_t n = 0;
    pipeline *pl = ctx->pl;
    for (size_t s = 0; s < pl->nslots; s++)
        if (pl->slots[s].owner && pipeline_feeds(pl->slots[s].owner, ctx) &&
            (!pl->slots[s].owner->assigns || pl->slots[s].assigned)) { /* only slots this process owns */
            if (n < max)
                slots[n] = (int32_t)s;
            n++;
        }
    return n;
}

static void svc_slot_assigned(sh_ctx *ctx, int32_t slot, const char *meta, size_t len)
{
    pipeline_slot_assigned(ctx, slot, meta, len);
}

static void svc_slot_revoked(sh_ctx *ctx, int32_t slot)
{
    commits_slot_revoked(ctx, slot);
}

static int svc_slot_info(sh_ctx *ctx, int32_t slot, const char **stream, int32_t *partition)
{
    pipeline *pl = ctx->pl;
    if (slot < 0 || (size_t)slot >= pl->nslots)
        return -1;
    if (stream)
        *stream = pl->slots[slot].stream;
    if (partition)
        *partition = pl->slots[slot].partition;
    return 0;
}

static uint32_t svc_exchange_open(sh_ctx *ctx, const char *name, int32_t *first_slot, uint32_t *source_partitions)
{
    return exchange_open(ctx, name, first_slot, source_partitions);
}

static sh_rc svc_exchange_send(sh_ctx *ctx, int32_t partition, const void *key, size_t klen, const void *val,
                               size_t vlen)
{
    return exchange_send(ctx, partition, key, klen, val, vlen);
}

const sh_host sh_host_services = {
    .size = sizeof(sh_host),
    .abi_version = SH_ABI_VERSION,
    .log = svc_log,
    .emit = svc_emit,
    .emit_watermark = svc_emit_watermark,
    .counter = svc_counter,
    .gauge = svc_gauge,
    .now_ms = svc_now,
    .mono_ms = svc_mono,
    .cfg_str = svc_cfg_str,
    .cfg_int = svc_cfg_int,
    .cfg_double = svc_cfg_double,
    .cfg_list = svc_cfg_list,
    .cfg_each = svc_cfg_each,
    .cfg_where = svc_cfg_where,
    .instance_name = svc_instance_name,
    .slot = svc_slot,
    .dead_letter = svc_dead_letter,
    .upstream_slots = svc_upstream_slots,
    .slot_assigned = svc_slot_assigned,
    .slot_revoked = svc_slot_revoked,
    .slot_info = svc_slot_info,
    .exchange_open = svc_exchange_open,
    .exchange_send = svc_exchange_send,
    .histogram = svc_histogram,
    .observe = svc_observe,
};
