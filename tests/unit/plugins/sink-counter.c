/* A test sink ("counter") that counts records and fails on demand:
 * `fail_after = N` returns SH_FATAL on the batch that passes N records,
 * `retry_first = N` returns SH_RETRY for the first N calls. */
#include "streamhost/plugin.h"
#include <stdio.h>
#include <stdlib.h>

static const sh_config_key keys[] = {
    {"fail_after", SH_CFG_INT, "0", 0, "fail fatally after this many records (0: never)"},
    {"retry_first", SH_CFG_INT, "0", 0, "ask for a retry on the first N calls"},
    {"out", SH_CFG_STRING, NULL, 0, "file to write the final count (and the sum of the first INT field) to"},
    {NULL, 0, NULL, 0, NULL}};

struct st { const sh_host *h; sh_ctx *ctx; int64_t n, fail_after, retries, sum; };

static sh_rc init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct st *s = calloc(1, sizeof *s);
    s->h = h;
    s->ctx = ctx;
    s->fail_after = h->cfg_int(ctx, "fail_after");
    s->retries = h->cfg_int(ctx, "retry_first");
    *state = s;
    return SH_OK;
}
static sh_rc process(void *state, uint32_t input, const sh_record *r, size_t n)
{
    struct st *s = state;
    (void)input;
    if (s->retries > 0) {
        s->retries--;
        return SH_RETRY;
    }
    if (s->fail_after && s->n + (int64_t)n > s->fail_after)
        return SH_FATAL;
    s->n += (int64_t)n;
    for (size_t i = 0; i < n; i++)
        if (r[i].schema->nfields && r[i].values[0].type == SH_INT)
            s->sum += r[i].values[0].u.i;
    return SH_OK;
}
static void destroy(void *state)
{
    struct st *s = state;
    const char *out = s->h->cfg_str(s->ctx, "out");
    if (out) {
        FILE *f = fopen(out, "w");
        if (f) {
            fprintf(f, "%lld %lld\n", (long long)s->n, (long long)s->sum);
            fclose(f);
        }
    }
    free(s);
}
static const sh_plugin desc = {SH_PLUGIN_MAGIC, .name = "counter", .version = "0.0.1", .kind = SH_SINK,
                               .description = "test sink", .config = keys, .init = init, .process = process,
                               .destroy = destroy};
SH_PLUGIN_EXPORT(desc)
