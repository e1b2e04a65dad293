/* A test source ("stuck") that misbehaves on demand, for the run loop's
 * shutdown tests: it emits `count` records {n: INT} (event time n), then
 * does what `then` says:
 *   done   return SH_DONE (a finite input)
 *   idle   wait timeout_ms and return SH_OK with nothing (a live input)
 *   block  never return from poll() (a stuck read; signals do not end it)
 *   rc     return the integer `rc` (e.g. 77, not a defined sh_rc)
 * It logs "stuck: <then>" once when it gets there. */
#include "streamhost/plugin.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const sh_config_key keys[] = {{"count", SH_CFG_INT, "10", 0, "records to emit first"},
                                     {"then", SH_CFG_STRING, "done", 0, "done, idle, block or rc"},
                                     {"rc", SH_CFG_INT, "77", 0, "return code for then = rc"},
                                     {NULL, 0, NULL, 0, NULL}};
static const sh_field fields[] = {{"n", SH_INT}};
static const sh_schema schema = {"stuck", 1, fields};

struct st {
    const sh_host *h;
    sh_ctx *ctx;
    int64_t next, count, rc;
    const char *then;
    int said;
};

static sh_rc init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct st *s = calloc(1, sizeof *s);
    s->h = h;
    s->ctx = ctx;
    s->count = h->cfg_int(ctx, "count");
    s->then = h->cfg_str(ctx, "then");
    s->rc = h->cfg_int(ctx, "rc");
    *state = s;
    return SH_OK;
}

static sh_rc poll_(void *state, size_t max, int timeout_ms)
{
    struct st *s = state;
    if (s->next < s->count) {
        sh_value v[64];
        sh_record r[64];
        size_t n = 0;
        while (n < max && n < 64 && s->next < s->count) {
            v[n] = sh_v_int(s->next);
            r[n] = (sh_record){.schema = &schema, .time = s->next, .values = &v[n], .slot = SH_NO_SLOT};
            n++;
            s->next++;
        }
        return s->h->emit(s->ctx, 0, r, n);
    }
    if (!s->said++)
        s->h->log(s->ctx, SH_LOG_WARN, "stuck: %s", s->then);
    if (strcmp(s->then, "block") == 0)
        for (;;)
            pause(); /* returns after each signal handler; stays stuck */
    if (strcmp(s->then, "idle") == 0) {
        struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return SH_OK;
    }
    if (strcmp(s->then, "rc") == 0)
        return (sh_rc)s->rc;
    return SH_DONE;
}

static void destroy(void *state) { free(state); }

static const sh_plugin desc = {SH_PLUGIN_MAGIC, .name = "stuck", .version = "0.0.1", .kind = SH_SOURCE,
                               .description = "test source that gets stuck on demand", .config = keys,
                               .init = init, .poll = poll_, .destroy = destroy};
SH_PLUGIN_EXPORT(desc)
