/* A test sink ("counter") that counts records and fails on demand:
 * `fail_after = N` returns SH_FATAL on the batch that passes N records,
 * `retry_first = N` returns SH_RETRY for the first N calls,
 * `retry_forever = true` returns SH_RETRY from every process() call,
 * `block_process = true` never returns from process(),
 * `process_rc = N` makes process() return N (e.g. 77, not a defined sh_rc),
 * `flush = ok|block|retry|rc` makes flush() succeed, never return, ask to
 * be called again forever, or return `flush_rc`. */
#include "streamhost/plugin.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const sh_config_key keys[] = {
    {"fail_after", SH_CFG_INT, "0", 0, "fail fatally after this many records (0: never)"},
    {"retry_first", SH_CFG_INT, "0", 0, "ask for a retry on the first N calls"},
    {"retry_forever", SH_CFG_BOOL, "false", 0, "ask for a retry on every call"},
    {"block_process", SH_CFG_BOOL, "false", 0, "never return from process()"},
    {"process_rc", SH_CFG_INT, "0", 0, "return this code from process() (0: behave)"},
    {"flush", SH_CFG_STRING, "ok", 0, "flush(): ok, block (never returns), retry (forever) or rc"},
    {"flush_rc", SH_CFG_INT, "77", 0, "return code of flush() for flush = rc"},
    {"out", SH_CFG_STRING, NULL, 0, "file to write the final count (and the sum of the first INT field) to"},
    {NULL, 0, NULL, 0, NULL}};

struct st {
    const sh_host *h;
    sh_ctx *ctx;
    int64_t n, fail_after, retries, sum, retry_forever, block_process, process_rc, flush_rc;
    const char *flush;
};

static sh_rc init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct st *s = calloc(1, sizeof *s);
    s->h = h;
    s->ctx = ctx;
    s->fail_after = h->cfg_int(ctx, "fail_after");
    s->retries = h->cfg_int(ctx, "retry_first");
    s->retry_forever = h->cfg_int(ctx, "retry_forever");
    s->block_process = h->cfg_int(ctx, "block_process");
    s->process_rc = h->cfg_int(ctx, "process_rc");
    s->flush = h->cfg_str(ctx, "flush");
    s->flush_rc = h->cfg_int(ctx, "flush_rc");
    *state = s;
    return SH_OK;
}
static sh_rc process(void *state, uint32_t input, const sh_record *r, size_t n)
{
    struct st *s = state;
    (void)input;
    if (s->block_process) {
        s->h->log(s->ctx, SH_LOG_WARN, "stuck: process");
        for (;;)
            pause();
    }
    if (s->process_rc)
        return (sh_rc)s->process_rc;
    if (s->retry_forever)
        return SH_RETRY;
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
static sh_rc flush(void *state, int final)
{
    struct st *s = state;
    (void)final;
    if (strcmp(s->flush, "block") == 0) {
        s->h->log(s->ctx, SH_LOG_WARN, "stuck: flush");
        for (;;)
            pause();
    }
    if (strcmp(s->flush, "retry") == 0)
        return SH_RETRY;
    if (strcmp(s->flush, "rc") == 0)
        return (sh_rc)s->flush_rc;
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
                               .flush = flush, .destroy = destroy};
SH_PLUGIN_EXPORT(desc)
