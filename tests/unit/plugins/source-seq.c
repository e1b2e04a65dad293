/* A test source ("seq") emitting `count` records {n: INT} in batches, with
 * event time n, then SH_DONE. */
#include "streamhost/plugin.h"
#include <stdlib.h>

static const sh_config_key keys[] = {{"count", SH_CFG_INT, "100", 0, "records to emit"},
                                     {NULL, 0, NULL, 0, NULL}};
static const sh_field fields[] = {{"n", SH_INT}};
static const sh_schema schema = {"seq", 1, fields};

struct st { const sh_host *h; sh_ctx *ctx; int64_t next, count; sh_record *recs; sh_value *vals; size_t cap; };

static sh_rc init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct st *s = calloc(1, sizeof *s);
    s->h = h;
    s->ctx = ctx;
    s->count = h->cfg_int(ctx, "count");
    *state = s;
    return SH_OK;
}
static sh_rc poll_(void *state, size_t max, int timeout_ms)
{
    struct st *s = state;
    (void)timeout_ms;
    if (max > s->cap) {
        s->cap = max;
        s->recs = realloc(s->recs, max * sizeof *s->recs);
        s->vals = realloc(s->vals, max * sizeof *s->vals);
    }
    size_t n = 0;
    while (n < max && s->next < s->count) {
        s->vals[n] = sh_v_int(s->next);
        s->recs[n] = (sh_record){.schema = &schema, .time = s->next, .values = &s->vals[n], .slot = SH_NO_SLOT};
        n++;
        s->next++;
    }
    sh_rc rc = s->h->emit(s->ctx, 0, s->recs, n);
    if (rc != SH_OK)
        return rc;
    return s->next >= s->count ? SH_DONE : SH_OK;
}
static void destroy(void *state)
{
    struct st *s = state;
    free(s->recs);
    free(s->vals);
    free(s);
}
static const sh_plugin desc = {SH_PLUGIN_MAGIC, .name = "seq", .version = "0.0.1", .kind = SH_SOURCE,
                               .description = "test source", .config = keys, .init = init, .poll = poll_,
                               .destroy = destroy};
SH_PLUGIN_EXPORT(desc)
