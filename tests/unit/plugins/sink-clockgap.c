/* A test sink ("clockgap") that measures how far each record's event time is
 * from the wall clock when the record arrives: now_ms() - time, as min and
 * max over the run.  `out` gets "COUNT MIN_GAP MAX_GAP FIRST_TIME LAST_TIME"
 * (ms) at the end.  tests/integration/clickgen_wall_time.sh uses it. */
#include "streamhost/plugin.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const sh_config_key keys[] = {
    {"out", SH_CFG_STRING, NULL, 1, "file to write COUNT MIN_GAP MAX_GAP FIRST_TIME LAST_TIME to"},
    {NULL, 0, NULL, 0, NULL}};

struct st {
    const sh_host *h;
    sh_ctx *ctx;
    int64_t n, min_gap, max_gap, first, last;
};

static sh_rc init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct st *s = calloc(1, sizeof *s);
    if (!s)
        return SH_FATAL;
    s->h = h;
    s->ctx = ctx;
    s->min_gap = INT64_MAX;
    s->max_gap = INT64_MIN;
    *state = s;
    return SH_OK;
}

static sh_rc process(void *state, uint32_t input, const sh_record *r, size_t n)
{
    struct st *s = state;
    (void)input;
    int64_t now = s->h->now_ms(s->ctx);
    for (size_t i = 0; i < n; i++) {
        int64_t gap = now - r[i].time;
        if (gap < s->min_gap)
            s->min_gap = gap;
        if (gap > s->max_gap)
            s->max_gap = gap;
        if (s->n++ == 0)
            s->first = r[i].time;
        s->last = r[i].time;
    }
    return SH_OK;
}

static void destroy(void *state)
{
    struct st *s = state;
    FILE *f = fopen(s->h->cfg_str(s->ctx, "out"), "w");
    if (f) {
        fprintf(f, "%lld %lld %lld %lld %lld\n", (long long)s->n, (long long)s->min_gap,
                (long long)s->max_gap, (long long)s->first, (long long)s->last);
        fclose(f);
    }
    free(s);
}

static const sh_plugin desc = {SH_PLUGIN_MAGIC, .name = "clockgap", .version = "0.0.1",
                               .kind = SH_SINK, .description = "test sink: event time vs wall clock",
                               .config = keys, .init = init, .process = process,
                               .destroy = destroy};
SH_PLUGIN_EXPORT(desc)
