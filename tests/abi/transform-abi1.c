/* A transform built against the frozen ABI 1.0 header (tests/abi/1.0), not
 * against include/: the host must load it and run it although its
 * descriptor is smaller than today's.  It doubles an INT field ("n" by
 * default) and counts what it saw, using the services ABI 1.0 had. */
#include "streamhost/plugin.h"
#include <stdlib.h>

static const sh_config_key keys[] = {
    {"field", SH_CFG_STRING, "n", 0, "INT field to double"},
    {NULL, 0, NULL, 0, NULL}};

struct st {
    const sh_host *h;
    sh_ctx *ctx;
    uint64_t *seen;
    sh_value *vals;
    sh_record *recs;
    size_t cap;
};

static sh_rc init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct st *s = calloc(1, sizeof *s);
    if (!s)
        return SH_FATAL;
    s->h = h;
    s->ctx = ctx;
    s->seen = h->counter(ctx, "abi1_records_total", "records seen by the ABI 1.0 plugin");
    *state = s;
    return SH_OK;
}

static sh_rc process(void *state, uint32_t input, const sh_record *r, size_t n)
{
    struct st *s = state;
    (void)input;
    if (n > s->cap) {
        s->cap = n;
        s->recs = realloc(s->recs, n * sizeof *s->recs);
        s->vals = realloc(s->vals, n * 8 * sizeof *s->vals);
    }
    const char *field = s->h->cfg_str(s->ctx, "field");
    for (size_t i = 0; i < n; i++) {
        s->recs[i] = r[i];
        uint32_t nf = r[i].schema->nfields < 8 ? r[i].schema->nfields : 8;
        for (uint32_t f = 0; f < nf; f++) {
            s->vals[i * 8 + f] = r[i].values[f];
            if (strcmp(r[i].schema->fields[f].name, field) == 0 && r[i].values[f].type == SH_INT)
                s->vals[i * 8 + f].u.i *= 2;
        }
        s->recs[i].values = &s->vals[i * 8];
    }
    *s->seen += n;
    return s->h->emit(s->ctx, 0, s->recs, n);
}

static void destroy(void *state)
{
    struct st *s = state;
    if (!s)
        return;
    free(s->recs);
    free(s->vals);
    free(s);
}

static const sh_plugin desc = {SH_PLUGIN_MAGIC, .name = "abi1", .version = "1.0.0", .kind = SH_TRANSFORM,
                               .description = "built against the frozen ABI 1.0 header", .config = keys,
                               .init = init, .process = process, .destroy = destroy};
SH_PLUGIN_EXPORT(desc)
