/* A test transform ("rude") that forwards records and watermarks (it has
 * a watermark callback, so a watermark reaching it before its init would
 * touch its state) and, on demand, emits where no plugin may:
 * `emit_in = init|start|stop|destroy` emits one record (or, with
 * `emit_what = watermark`, the watermark 5) from that callback. */
#include "streamhost/plugin.h"
#include <stdlib.h>
#include <string.h>

static const sh_config_key keys[] = {
    {"emit_in", SH_CFG_STRING, "none", 0, "none, init, start, stop or destroy"},
    {"emit_what", SH_CFG_STRING, "records", 0, "records or watermark"},
    {NULL, 0, NULL, 0, NULL}};
static const sh_field fields[] = {{"n", SH_INT}};
static const sh_schema schema = {"rude", 1, fields};

struct st {
    const sh_host *h;
    sh_ctx *ctx;
    const char *emit_in;
    int watermark;
    uint64_t forwarded;
};

/* Emits from callback `where` when configured to; returns what emit said. */
static sh_rc rude(struct st *s, const char *where)
{
    if (strcmp(s->emit_in, where) != 0)
        return SH_OK;
    if (s->watermark)
        return s->h->emit_watermark(s->ctx, 5);
    sh_value v = sh_v_int(42);
    sh_record r = {.schema = &schema, .time = 42, .values = &v, .slot = SH_NO_SLOT};
    return s->h->emit(s->ctx, 0, &r, 1);
}

static sh_rc init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct st *s = calloc(1, sizeof *s);
    s->h = h;
    s->ctx = ctx;
    s->emit_in = h->cfg_str(ctx, "emit_in");
    s->watermark = strcmp(h->cfg_str(ctx, "emit_what"), "watermark") == 0;
    *state = s;
    return rude(s, "init");
}
static sh_rc start(void *state) { return rude(state, "start"); }
static sh_rc process(void *state, uint32_t input, const sh_record *r, size_t n)
{
    struct st *s = state;
    (void)input;
    s->forwarded += n;
    return s->h->emit(s->ctx, 0, r, n);
}
static sh_rc watermark(void *state, int64_t wm)
{
    struct st *s = state;
    return s->h->emit_watermark(s->ctx, wm);
}
static void stop(void *state) { (void)rude(state, "stop"); }
static void destroy(void *state)
{
    (void)rude(state, "destroy");
    free(state);
}

static const sh_plugin desc = {SH_PLUGIN_MAGIC, .name = "rude", .version = "0.0.1", .kind = SH_TRANSFORM,
                               .description = "test transform that emits from the wrong callbacks",
                               .config = keys, .init = init, .start = start, .process = process,
                               .watermark = watermark, .stop = stop, .destroy = destroy};
SH_PLUGIN_EXPORT(desc)
