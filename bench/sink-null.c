/* sink-null.c - the benchmarks' discarding sink (`plugin = null`).
 *
 * Counts the records it receives and drops them, so a benchmark measures the
 * pipeline in front of it and nothing else.  With `stamp.file` set it writes,
 * when the pipeline stops, one line "FIRST_NS LAST_NS COUNT": the wall clock
 * (CLOCK_REALTIME, ns) of the first and the last record received and how many
 * were received.  bench/run.sh uses the first stamp for the start-up time
 * (process start -> first record).
 *
 * Built by bench/run.sh (not by the Makefile) into $BUILD/bench/plugins/. */
#include <streamhost/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const sh_config_key null_config[] = {
    {"stamp.file", SH_CFG_STRING, NULL, 0,
     "write \"FIRST_NS LAST_NS COUNT\" (wall clock of the first and last record, records) here at stop"},
    {NULL, 0, NULL, 0, NULL}};

struct null_sink {
    const sh_host *h;
    sh_ctx *ctx;
    const char *stamp_file;
    uint64_t *records; /* host counter: records received */
    uint64_t count;
    int64_t first_ns, last_ns;
};

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static sh_rc null_init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct null_sink *s = calloc(1, sizeof *s);
    if (!s)
        return SH_FATAL;
    *state = s;
    s->h = h;
    s->ctx = ctx;
    s->stamp_file = h->cfg_str(ctx, "stamp.file");
    s->records = h->counter(ctx, "records_total", "records received and discarded");
    return SH_OK;
}

static sh_rc null_process(void *state, uint32_t input, const sh_record *recs, size_t n)
{
    struct null_sink *s = state;
    (void)input;
    (void)recs;
    if (n == 0)
        return SH_OK;
    if (s->stamp_file) { /* one clock read per batch, not per record */
        int64_t t = wall_ns();
        if (s->count == 0)
            s->first_ns = t;
        s->last_ns = t;
    }
    s->count += n;
    *s->records += n;
    return SH_OK;
}

static void null_stop(void *state)
{
    struct null_sink *s = state;
    if (!s->stamp_file)
        return;
    FILE *f = fopen(s->stamp_file, "w");
    if (!f) {
        s->h->log(s->ctx, SH_LOG_ERROR, "%s: cannot write %s", s->h->cfg_where(s->ctx, "stamp.file"),
                  s->stamp_file);
        return;
    }
    fprintf(f, "%lld %lld %llu\n", (long long)s->first_ns, (long long)s->last_ns, (unsigned long long)s->count);
    fclose(f);
}

static const sh_plugin null_desc = {
    SH_PLUGIN_MAGIC,
    .name = "null",
    .version = "1.0.0",
    .kind = SH_SINK,
    .description = "counts records and discards them (benchmarks)",
    .config = null_config,
    .init = null_init,
    .process = null_process,
    .stop = null_stop,
    .destroy = free,
};
SH_PLUGIN_EXPORT(null_desc)
