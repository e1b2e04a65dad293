/* filter_plugin.c - the "filter" transform: passes on the records for which
 * `where = FIELD OP VALUE` holds, unchanged.  The default pipeline uses it to
 * send only sessions with a checkout to the details index:
 *     [transform.checkouts]
 *     plugin = filter
 *     inputs = sessions
 *     where = orderCheckoutEventCount != 0 */
#include "filter_expr.h"

#include <stdio.h>
#include <stdlib.h>

static const sh_config_key fl_config[] = {
    {"where", SH_CFG_STRING, NULL, 1,
     "FIELD OP VALUE, OP one of == != < <= > >=, VALUE a number, a quoted "
     "string, true, false or null (e.g. orderCheckoutEventCount != 0)"},
    {NULL, 0, NULL, 0, NULL}};

/* Position of the field in one input schema, resolved once. */
typedef struct fl_field {
    const sh_schema *schema;
    int index;
} fl_field;

typedef struct fl_state {
    const sh_host *host;
    sh_ctx *ctx;
    fx_expr expr;
    fl_field *fields;
    size_t nfields, capfields;
    const fl_field *last;
    sh_record *pass; /* matching records of the current batch */
    size_t cappass;
    uint64_t *records_dropped; /* in and out are the host's records_in/out_total */
} fl_state;

static const fl_field *fl_field_for(fl_state *st, const sh_schema *schema)
{
    if (st->last && st->last->schema == schema)
        return st->last;
    for (size_t i = 0; i < st->nfields; i++)
        if (st->fields[i].schema == schema)
            return st->last = &st->fields[i];
    int idx = sh_schema_field(schema, st->expr.field);
    char err[256];
    if (idx < 0) {
        char names[512] = "";
        size_t o = 0;
        for (uint32_t i = 0; i < schema->nfields && o < sizeof names; i++)
            o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "", schema->fields[i].name);
        st->host->log(st->ctx, SH_LOG_ERROR,
                      "%s: where: records of stream '%s' have no field '%s' (its fields: %s); fix where",
                      st->host->cfg_where(st->ctx, "where"), schema->name, st->expr.field, names);
        return NULL;
    }
    if (fx_check_type(&st->expr, schema->fields[idx].type, err, sizeof err) != 0) {
        st->host->log(st->ctx, SH_LOG_ERROR, "%s: where: %s (stream '%s')",
                      st->host->cfg_where(st->ctx, "where"), err, schema->name);
        return NULL;
    }
    if (st->nfields == st->capfields) {
        size_t cap = st->capfields ? st->capfields * 2 : 4;
        fl_field *a = realloc(st->fields, cap * sizeof *a);
        if (!a)
            return NULL;
        st->fields = a;
        st->capfields = cap;
    }
    st->fields[st->nfields] = (fl_field){schema, idx};
    return st->last = &st->fields[st->nfields++];
}

static sh_rc fl_process(void *state, uint32_t input, const sh_record *recs, size_t n)
{
    fl_state *st = state;
    if (n > st->cappass) {
        sh_record *a = realloc(st->pass, n * sizeof *a);
        if (!a) {
            st->host->log(st->ctx, SH_LOG_ERROR, "out of memory for a batch of %zu", n);
            return SH_FATAL;
        }
        st->pass = a;
        st->cappass = n;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const fl_field *f = fl_field_for(st, recs[i].schema);
        if (!f)
            return SH_FATAL;
        if (fx_match(&st->expr, &recs[i].values[f->index]))
            st->pass[k++] = recs[i]; /* shallow: values stay the sender's */
    }
    *st->records_dropped += n - k;
    return k ? st->host->emit(st->ctx, 0, st->pass, k) : SH_OK;
}

static void fl_destroy(void *state)
{
    fl_state *st = state;
    if (!st)
        return;
    fx_free(&st->expr);
    free(st->fields);
    free(st->pass);
    free(st);
}

/* Parses `where`: the one place for its rules, used by validate()
 * (`streamhost check`) and init().  Logs one line when it is malformed.
 * Whether FIELD exists is known only from the records (an input's schema is
 * not declared before records flow): see fl_field_for. */
static sh_rc fl_read_config(const sh_host *host, sh_ctx *ctx, fx_expr *expr)
{
    const char *where = host->cfg_str(ctx, "where");
    char err[256];
    if (fx_parse(where, expr, err, sizeof err) != 0) {
        host->log(ctx, SH_LOG_ERROR,
                  "%s: where = '%s': %s; write FIELD OP VALUE, e.g. "
                  "where = orderCheckoutEventCount != 0",
                  host->cfg_where(ctx, "where"), where ? where : "", err);
        return SH_FATAL;
    }
    return SH_OK;
}

static sh_rc fl_validate(const sh_host *host, sh_ctx *ctx)
{
    fx_expr expr;
    sh_rc rc = fl_read_config(host, ctx, &expr);
    if (rc == SH_OK)
        fx_free(&expr);
    return rc;
}

static sh_rc fl_init(const sh_host *host, sh_ctx *ctx, void **state)
{
    fl_state *st = calloc(1, sizeof *st);
    if (!st) {
        host->log(ctx, SH_LOG_ERROR, "out of memory");
        return SH_FATAL;
    }
    st->host = host;
    st->ctx = ctx;
    if (fl_read_config(host, ctx, &st->expr) != SH_OK) {
        free(st);
        return SH_FATAL;
    }
    st->records_dropped = host->counter(ctx, "records_dropped_total", "records that did not match `where` (not passed on)");
    *state = st;
    return SH_OK;
}

static const sh_plugin fl_plugin = {
    SH_PLUGIN_MAGIC,
    .name = "filter",
    .version = "1.0.0",
    .kind = SH_TRANSFORM,
    .description = "passes on the records for which FIELD OP VALUE holds",
    .config = fl_config,
    .init = fl_init,
    .process = fl_process,
    .destroy = fl_destroy,
    .validate = fl_validate,
};

SH_PLUGIN_EXPORT(fl_plugin)
