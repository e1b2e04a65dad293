/* A test transform ("undeclared") that reads a config key its key table does
 * not declare, from validate() (when = validate), init() (when = init) or
 * process() (when = process): the host must refuse that with one line naming
 * the section, the plugin and the key (issue 12). */
#include "streamhost/plugin.h"
#include <stdlib.h>
#include <string.h>

static const sh_config_key keys[] = {
    {"when", SH_CFG_STRING, "never", 0, "where to read the undeclared key: never, validate, init or process"},
    {NULL, 0, NULL, 0, NULL}};

struct st { const sh_host *h; sh_ctx *ctx; int in_process; };

static int reads_here(const sh_host *h, sh_ctx *ctx, const char *where)
{
    const char *w = h->cfg_str(ctx, "when");
    return w && strcmp(w, where) == 0;
}

static sh_rc validate(const sh_host *h, sh_ctx *ctx)
{
    if (reads_here(h, ctx, "validate"))
        (void)h->cfg_str(ctx, "not_declared");
    return SH_OK;
}

static sh_rc init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct st *s = calloc(1, sizeof *s);
    s->h = h;
    s->ctx = ctx;
    if (reads_here(h, ctx, "init"))
        (void)h->cfg_int(ctx, "undeclared_int");
    s->in_process = reads_here(h, ctx, "process");
    *state = s;
    return SH_OK;
}
static sh_rc process(void *state, uint32_t input, const sh_record *r, size_t n)
{
    struct st *s = state;
    (void)input;
    if (s->in_process) {
        const char *const *items;
        (void)s->h->cfg_list(s->ctx, "late_list", &items);
    }
    return s->h->emit(s->ctx, 0, r, n);
}
static void destroy(void *state) { free(state); }

static const sh_plugin desc = {SH_PLUGIN_MAGIC, .name = "undeclared", .version = "0.0.1", .kind = SH_TRANSFORM,
                               .description = "test transform reading an undeclared key", .config = keys,
                               .init = init, .process = process, .destroy = destroy, .validate = validate};
SH_PLUGIN_EXPORT(desc)
