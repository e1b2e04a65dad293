/* upper.c - a third-party transform built out of tree against the installed
 * header only:
 *     cc $(pkg-config --cflags streamhost) -shared -fPIC -o upper.so upper.c
 * It upper-cases one string field (config `field`) of every record. */
#include <streamhost/plugin.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const sh_config_key keys[] = {
    {"field", SH_CFG_STRING, NULL, 1, "string field to upper-case"},
    {NULL, 0, NULL, 0, NULL}};

struct upper {
    const sh_host *h;
    sh_ctx *ctx;
    const char *field;
    const sh_schema *schema; /* cached resolution */
    int pos;
    uint64_t *changed;
    sh_record *recs;
    sh_value *vals;
    char *text;
    size_t cap_recs, cap_vals, cap_text;
};

static sh_rc init(const sh_host *h, sh_ctx *ctx, void **state)
{
    struct upper *u = calloc(1, sizeof *u);
    u->h = h;
    u->ctx = ctx;
    u->field = h->cfg_str(ctx, "field");
    u->changed = h->counter(ctx, "fields_changed_total", "values upper-cased");
    *state = u;
    return SH_OK;
}

static sh_rc process(void *state, uint32_t input, const sh_record *in, size_t n)
{
    struct upper *u = state;
    (void)input;
    size_t nv = 0, nt = 0;
    for (size_t i = 0; i < n; i++) {
        nv += in[i].schema->nfields;
        int p = sh_schema_field(in[i].schema, u->field);
        if (p >= 0 && in[i].values[p].type == SH_STRING)
            nt += in[i].values[p].u.s.len;
    }
    if (n > u->cap_recs) u->recs = realloc(u->recs, (u->cap_recs = n) * sizeof *u->recs);
    if (nv > u->cap_vals) u->vals = realloc(u->vals, (u->cap_vals = nv) * sizeof *u->vals);
    if (nt + 1 > u->cap_text) u->text = realloc(u->text, u->cap_text = nt + 1);
    size_t ov = 0, ot = 0;
    for (size_t i = 0; i < n; i++) {
        const sh_record *r = &in[i];
        if (r->schema != u->schema) {
            u->schema = r->schema;
            u->pos = sh_schema_field(r->schema, u->field);
        }
        u->recs[i] = *r;
        u->recs[i].values = &u->vals[ov];
        memcpy(&u->vals[ov], r->values, r->schema->nfields * sizeof(sh_value));
        if (u->pos >= 0 && r->values[u->pos].type == SH_STRING) {
            sh_str s = r->values[u->pos].u.s;
            for (size_t k = 0; k < s.len; k++)
                u->text[ot + k] = (char)toupper((unsigned char)s.ptr[k]);
            u->vals[ov + (size_t)u->pos] = sh_v_str(u->text + ot, s.len);
            ot += s.len;
            (*u->changed)++;
        }
        ov += r->schema->nfields;
    }
    return u->h->emit(u->ctx, 0, u->recs, n);
}

static void destroy(void *state)
{
    struct upper *u = state;
    free(u->recs);
    free(u->vals);
    free(u->text);
    free(u);
}

static const sh_plugin upper_plugin = {
    SH_PLUGIN_MAGIC,
    .name = "upper",
    .version = "1.0.0",
    .kind = SH_TRANSFORM,
    .description = "upper-cases one string field (out-of-tree example)",
    .config = keys,
    .init = init,
    .process = process,
    .destroy = destroy,
};
SH_PLUGIN_EXPORT(upper_plugin)
