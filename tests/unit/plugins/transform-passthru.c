/* A test transform ("passthru") declaring one key of every config type;
 * forwards records unchanged.  Used by the host's unit tests. */
#include "streamhost/plugin.h"
#include <stdlib.h>

static const sh_config_key keys[] = {
    {"name", SH_CFG_STRING, NULL, 1, "a required string"},
    {"count", SH_CFG_INT, "3", 0, "an int"},
    {"enabled", SH_CFG_BOOL, "true", 0, "a bool"},
    {"gap", SH_CFG_DURATION, "1s", 0, "a duration"},
    {"buffer", SH_CFG_SIZE, "5MiB", 0, "a size"},
    {"fields", SH_CFG_LIST, "a, b", 0, "a list"},
    {"ratio", SH_CFG_DOUBLE, "0.5", 0, "a double"},
    {"extra.", SH_CFG_PREFIX, NULL, 0, "passthrough"},
    {NULL, 0, NULL, 0, NULL}};
static const char *const outs[] = {"side", NULL};

struct st { const sh_host *h; sh_ctx *ctx; };

static sh_rc init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct st *s = calloc(1, sizeof *s);
    s->h = h;
    s->ctx = ctx;
    *state = s;
    return SH_OK;
}
static sh_rc process(void *state, uint32_t input, const sh_record *r, size_t n)
{
    struct st *s = state;
    (void)input;
    return s->h->emit(s->ctx, 0, r, n);
}
static void destroy(void *state) { free(state); }

static const sh_plugin desc = {SH_PLUGIN_MAGIC, .name = "passthru", .version = "0.0.1", .kind = SH_TRANSFORM,
                               .description = "test transform", .config = keys, .outputs = outs, .init = init,
                               .process = process, .destroy = destroy};
SH_PLUGIN_EXPORT(desc)
