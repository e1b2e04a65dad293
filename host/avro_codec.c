/* avro_codec.c - Avro decoding/encoding.  avro-c parses the schemas (and
 * encodes in avro_codec_encode_reference, the tests' yardstick).  Encoding
 * is hand-written (see "encoding" below), and so is decoding: bounds-checked,
 * driven by a plan built once per writer schema (writer -> reader
 * resolution, see avro_codec.h); the reader's own schema has a plan too
 * (the identity). */
#include "avro_codec.h"

#include <avro.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum fkind { FK_STRING, FK_LONG, FK_INT, FK_DOUBLE, FK_FLOAT, FK_BOOL, FK_ENUM };
static const char *const fkind_name[] = {"string", "long", "int", "double", "float", "boolean", "enum"};

struct afield {
    enum fkind kind;
    int nullable;     /* union of null and kind */
    int null_branch;  /* discriminant of "null" in the union */
    int value_branch; /* discriminant of the value */
    avro_schema_t vtype; /* the value's type (the union's non-null branch) */
    char **syms;      /* FK_ENUM: the reader's symbols */
    size_t nsyms;
    char **aliases;
    size_t naliases;
    int has_default;
    sh_value dflt;
    char *dflt_str;
};

struct enc_map {
    const sh_schema *schema; /* record schema this map was resolved for */
    int *pos;                /* avro field i -> record field position or -1 */
};

struct avro_codec {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;
    avro_writer_t writer;
    char *wbuf;
    size_t wcap;
    sh_schema sh;
    sh_field *fields;
    struct afield *af;
    char **names;
    size_t nnames;
    char *stream;
    int64_t *ids;
    size_t nids;
    unsigned char (*uuids)[16];
    size_t nuuids;
    unsigned char *zbuf; /* inflate/deflate scratch */
    size_t zcap;
    struct enc_map enc[4];
    sh_buf ebuf; /* avro_codec_encode: the body before zlib (Glue) */
    avro_plan *self;
};

/* Writer kinds of a plan step. */
enum wkind {
    W_NULL, W_BOOL, W_INT, W_LONG, W_FLOAT, W_DOUBLE, W_STRING, W_BYTES, W_ENUM, W_UNION, W_BAD,
    /* a writer field the reader lacks: W_SKIP walks any type; the others
     * skip one primitive without the walk (most added fields are those) */
    W_SKIP, W_SKIPNULL, W_SKIPVAR, W_SKIPLEN, W_SKIPFIX, W_SKIPBOOL
};

struct op {
    uint8_t wk;        /* writer's type */
    uint8_t rk;        /* reader's kind (enum fkind) */
    int32_t pos;       /* reader field position (W_SKIP: 0, unused) */
    const char *name;  /* reader field name, for messages */
    uint32_t nb;       /* W_UNION: writer branches, each resolved on its own */
    struct op *br;
    int32_t *emap;     /* W_ENUM: writer symbol -> reader symbol, -1 none */
    char **wsyms;      /* W_ENUM: the writer's symbols (for messages) */
    uint32_t nsym;
    char **rsyms;      /* W_ENUM: the reader's symbols */
    avro_schema_t ws;  /* W_SKIP: the writer type to skip */
    char *msg;         /* W_BAD: why a value of this branch cannot be read */
};

struct avro_plan {
    avro_codec *c;
    avro_schema_t ws;
    struct op *ops;
    uint32_t nops;
    uint32_t *fill; /* reader positions the writer lacks: their defaults */
    uint32_t nfill;
};

int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* fast path: 8 ASCII bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

int uuid_parse(const char *s, unsigned char out[16])
{
    size_t o = 0;
    for (size_t i = 0; s[i] && o < 16;) {
        if (s[i] == '-') {
            i++;
            continue;
        }
        if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]))
            return -1;
        char hex[3] = {s[i], s[i + 1], 0};
        out[o++] = (unsigned char)strtoul(hex, NULL, 16);
        i += 2;
    }
    return o == 16 ? 0 : -1;
}

int framing_parse(const char *s, framing_t *out)
{
    if (!strcmp(s, "auto")) *out = FRAMING_AUTO;
    else if (!strcmp(s, "confluent")) *out = FRAMING_CONFLUENT;
    else if (!strcmp(s, "glue")) *out = FRAMING_GLUE;
    else if (!strcmp(s, "bare")) *out = FRAMING_BARE;
    else return -1;
    return 0;
}


static int map_type(avro_schema_t t, enum fkind *k)
{
    switch (avro_typeof(t)) {
    case AVRO_STRING: *k = FK_STRING; return 0;
    case AVRO_INT64: *k = FK_LONG; return 0;
    case AVRO_INT32: *k = FK_INT; return 0;
    case AVRO_DOUBLE: *k = FK_DOUBLE; return 0;
    case AVRO_FLOAT: *k = FK_FLOAT; return 0;
    case AVRO_BOOLEAN: *k = FK_BOOL; return 0;
    case AVRO_ENUM: *k = FK_ENUM; return 0;
    default: return -1;
    }
}

static uint32_t sh_type_of(enum fkind k)
{
    switch (k) {
    case FK_STRING:
    case FK_ENUM: return SH_STRING;
    case FK_DOUBLE:
    case FK_FLOAT: return SH_DOUBLE;
    case FK_BOOL: return SH_BOOL;
    default: return SH_INT;
    }
}

static avro_schema_t deref(avro_schema_t t)
{
    for (int i = 0; i < 64 && t && avro_typeof(t) == AVRO_LINK; i++)
        t = avro_schema_link_target(t);
    return t;
}

static int find_sym(char **syms, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(syms[i]) == len && memcmp(syms[i], s, len) == 0)
            return (int)i;
    return -1;
}

/* A reader field's "default" (JSON) as a value of its type: 0, or -1. */
static int parse_default(struct afield *a, json_t *d)
{
    if (json_is_null(d)) {
        if (!a->nullable)
            return -1;
        a->dflt = sh_v_null();
        return 0;
    }
    switch (a->kind) {
    case FK_STRING:
    case FK_ENUM:
        if (!json_is_string(d))
            return -1;
        if (a->kind == FK_ENUM && find_sym(a->syms, a->nsyms, json_string_value(d), json_string_length(d)) < 0)
            return -1;
        a->dflt_str = strndup(json_string_value(d), json_string_length(d));
        a->dflt = sh_v_str(a->dflt_str, json_string_length(d));
        return 0;
    case FK_LONG:
    case FK_INT:
        if (!json_is_integer(d) ||
            (a->kind == FK_INT && (json_integer_value(d) < INT32_MIN || json_integer_value(d) > INT32_MAX)))
            return -1;
        a->dflt = sh_v_int(json_integer_value(d));
        return 0;
    case FK_DOUBLE:
    case FK_FLOAT:
        if (!json_is_number(d))
            return -1;
        a->dflt.type = SH_DOUBLE;
        a->dflt.u.d = a->kind == FK_FLOAT ? (double)(float)json_number_value(d) : json_number_value(d);
        return 0;
    case FK_BOOL:
        if (!json_is_boolean(d))
            return -1;
        a->dflt.type = SH_BOOL;
        a->dflt.u.b = json_is_true(d);
        return 0;
    }
    return -1;
}

static avro_plan *plan_build(avro_codec *c, avro_schema_t ws, char *err, size_t errlen);

avro_codec *avro_codec_new_json(const char *json, size_t len, const char *path, const char *stream, char *err,
                                size_t errlen)
{
    avro_codec *c = calloc(1, sizeof *c);
    if (avro_schema_from_json_length(json, len, &c->schema) != 0) {
        snprintf(err, errlen, "%s: not a valid Avro schema: %s", path, avro_strerror());
        free(c);
        return NULL;
    }
    if (avro_typeof(c->schema) != AVRO_RECORD) {
        snprintf(err, errlen, "%s: the Avro schema must be a record", path);
        avro_codec_free(c);
        return NULL;
    }
    json_t *jroot = json_loadb(json, len, 0, NULL); /* defaults and aliases: avro-c keeps neither */
    json_t *jfields = json_object_get(jroot, "fields");
    size_t nf = avro_schema_record_size(c->schema);
    c->fields = calloc(nf ? nf : 1, sizeof(sh_field));
    c->af = calloc(nf ? nf : 1, sizeof(struct afield));
    c->names = calloc(nf ? nf : 1, sizeof(char *));
    c->nnames = nf;
    for (size_t i = 0; i < nf; i++) {
        const char *name = avro_schema_record_field_name(c->schema, (int)i);
        avro_schema_t ft = deref(avro_schema_record_field_get_by_index(c->schema, (int)i));
        struct afield *a = &c->af[i];
        c->names[i] = strdup(name);
        a->vtype = ft;
        if (avro_typeof(ft) == AVRO_UNION) {
            size_t nb = avro_schema_union_size(ft);
            int ok = nb == 2;
            a->nullable = 1;
            a->null_branch = a->value_branch = -1;
            for (size_t b = 0; ok && b < nb; b++) {
                avro_schema_t bt = deref(avro_schema_union_branch(ft, (int)b));
                if (avro_typeof(bt) == AVRO_NULL)
                    a->null_branch = (int)b;
                else if (map_type(bt, &a->kind) == 0) {
                    a->value_branch = (int)b;
                    a->vtype = bt;
                }
            }
            if (!ok || a->null_branch < 0 || a->value_branch < 0) {
                snprintf(err, errlen, "%s: field '%s': only unions of null and one primitive type are supported",
                         path, name);
                json_decref(jroot);
                avro_codec_free(c);
                return NULL;
            }
        } else if (map_type(ft, &a->kind) != 0) {
            snprintf(err, errlen,
                     "%s: field '%s': type not supported (use string, long, int, double, float, boolean, enum, or a union with null)",
                     path, name);
            json_decref(jroot);
            avro_codec_free(c);
            return NULL;
        }
        if (a->kind == FK_ENUM) {
            a->nsyms = (size_t)avro_schema_enum_number_of_symbols(a->vtype);
            a->syms = calloc(a->nsyms ? a->nsyms : 1, sizeof(char *));
            for (size_t k = 0; k < a->nsyms; k++)
                a->syms[k] = strdup(avro_schema_enum_get(a->vtype, (int)k));
        }
        json_t *jf = NULL;
        for (size_t k = 0; k < json_array_size(jfields); k++) {
            json_t *x = json_array_get(jfields, k);
            const char *xn = json_string_value(json_object_get(x, "name"));
            if (xn && strcmp(xn, name) == 0)
                jf = x;
        }
        json_t *al = json_object_get(jf, "aliases"), *d = json_object_get(jf, "default");
        a->naliases = json_array_size(al);
        a->aliases = calloc(a->naliases ? a->naliases : 1, sizeof(char *));
        for (size_t k = 0; k < a->naliases; k++) {
            const char *s = json_string_value(json_array_get(al, k));
            a->aliases[k] = strdup(s ? s : "");
        }
        if (d) {
            if (parse_default(a, d) != 0) {
                snprintf(err, errlen, "%s: field '%s': its default does not match its type (%s%s)", path, name,
                         a->nullable ? "null or " : "", fkind_name[a->kind]);
                json_decref(jroot);
                avro_codec_free(c);
                return NULL;
            }
            a->has_default = 1;
        }
        c->fields[i].name = c->names[i];
        c->fields[i].type = sh_type_of(a->kind);
    }
    json_decref(jroot);
    c->stream = strdup(stream);
    c->sh.name = c->stream;
    c->sh.nfields = (uint32_t)nf;
    c->sh.fields = c->fields;
    c->iface = avro_generic_class_from_schema(c->schema);
    avro_generic_value_new(c->iface, &c->value);
    c->wcap = 4096;
    c->wbuf = malloc(c->wcap);
    c->writer = avro_writer_memory(c->wbuf, (int64_t)c->wcap);
    char perr[512];
    if (!(c->self = plan_build(c, c->schema, perr, sizeof perr))) {
        snprintf(err, errlen, "%s: %s", path, perr);
        avro_codec_free(c);
        return NULL;
    }
    return c;
}

avro_codec *avro_codec_new(const char *path, const char *stream, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read Avro schema: %m", path);
        return NULL;
    }
    char *json = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap)
            json = realloc(json, cap = cap ? cap * 2 : 8192);
        size_t n = fread(json + len, 1, cap - len - 1, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    json[len] = '\0';
    avro_codec *c = avro_codec_new_json(json, len, path, stream, err, errlen);
    free(json);
    return c;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void avro_codec_free(avro_codec *c)
{
    if (!c)
        return;
    avro_plan_free(c->self);
    if (c->iface) {
        avro_value_decref(&c->value);
        avro_value_iface_decref(c->iface);
    }
    if (c->writer)
        avro_writer_free(c->writer);
    avro_schema_decref(c->schema);
    for (size_t i = 0; c->names && i < c->nnames; i++) {
        free(c->names[i]);
        free_strs(c->af[i].syms, c->af[i].nsyms);
        free_strs(c->af[i].aliases, c->af[i].naliases);
        free(c->af[i].dflt_str);
    }
    for (size_t i = 0; i < 4; i++)
        free(c->enc[i].pos);
    free(c->names);
    free(c->fields);
    free(c->af);
    free(c->stream);
    free(c->ids);
    free(c->uuids);
    free(c->zbuf);
    free(c->wbuf);
    sh_buf_free(&c->ebuf);
    free(c);
}

const sh_schema *avro_codec_schema(const avro_codec *c) { return &c->sh; }
const avro_plan *avro_codec_self_plan(const avro_codec *c) { return c->self; }

void avro_codec_allow_ids(avro_codec *c, const int64_t *ids, size_t n)
{
    free(c->ids);
    c->ids = n ? malloc(n * sizeof(int64_t)) : NULL;
    if (n)
        memcpy(c->ids, ids, n * sizeof(int64_t));
    c->nids = n;
}

int avro_codec_allow_uuids(avro_codec *c, const char *const *uuids, size_t n, char *err, size_t errlen)
{
    free(c->uuids);
    c->uuids = n ? malloc(n * 16) : NULL;
    c->nuuids = n;
    for (size_t i = 0; i < n; i++)
        if (uuid_parse(uuids[i], c->uuids[i]) != 0) {
            snprintf(err, errlen, "'%s' is not a UUID (8-4-4-4-12 hex digits, e.g. 00000000-0000-0000-0000-000000000001)", uuids[i]);
            return -1;
        }
    return 0;
}

/* --- plans -------------------------------------------------------------- */

static void op_clear(struct op *o)
{
    for (uint32_t b = 0; b < o->nb; b++)
        op_clear(&o->br[b]);
    free(o->br);
    free(o->emap);
    free(o->msg);
}

void avro_plan_free(avro_plan *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; i < p->nops; i++)
        op_clear(&p->ops[i]);
    free(p->ops);
    free(p->fill);
    avro_schema_decref(p->ws);
    free(p);
}

static const char *wtype_name(avro_schema_t w)
{
    const char *n = avro_schema_type_name(w);
    return n ? n : "?";
}

/* One non-union writer type against the reader field: 0, or -1 and why. */
static int resolve_one(const struct afield *rf, avro_schema_t w, struct op *op, char *why, size_t wl)
{
    enum fkind k = rf->kind;
    op->rk = (uint8_t)k;
    switch (avro_typeof(w)) {
    case AVRO_NULL:
        if (!rf->nullable)
            break;
        op->wk = W_NULL;
        return 0;
    case AVRO_BOOLEAN:
        if (k != FK_BOOL)
            break;
        op->wk = W_BOOL;
        return 0;
    case AVRO_INT32:
        if (k != FK_INT && k != FK_LONG && k != FK_FLOAT && k != FK_DOUBLE)
            break;
        op->wk = W_INT;
        return 0;
    case AVRO_INT64:
        if (k != FK_LONG && k != FK_FLOAT && k != FK_DOUBLE)
            break;
        op->wk = W_LONG;
        return 0;
    case AVRO_FLOAT:
        if (k != FK_FLOAT && k != FK_DOUBLE)
            break;
        op->wk = W_FLOAT;
        return 0;
    case AVRO_DOUBLE:
        if (k != FK_DOUBLE)
            break;
        op->wk = W_DOUBLE;
        return 0;
    case AVRO_STRING:
    case AVRO_BYTES:
        if (k != FK_STRING)
            break;
        op->wk = avro_typeof(w) == AVRO_STRING ? W_STRING : W_BYTES;
        return 0;
    case AVRO_ENUM: {
        if (k != FK_ENUM)
            break;
        if (strcmp(avro_schema_name(w), avro_schema_name(rf->vtype)) != 0) {
            snprintf(why, wl, "the writer's enum %s is not the reader's enum %s", avro_schema_name(w),
                     avro_schema_name(rf->vtype));
            return -1;
        }
        op->wk = W_ENUM;
        op->nsym = (uint32_t)avro_schema_enum_number_of_symbols(w);
        op->emap = calloc(op->nsym ? op->nsym : 1, sizeof(int32_t));
        int any = 0;
        for (uint32_t s = 0; s < op->nsym; s++) {
            const char *sym = avro_schema_enum_get(w, (int)s);
            op->emap[s] = find_sym(rf->syms, rf->nsyms, sym, strlen(sym));
            any |= op->emap[s] >= 0;
        }
        op->rsyms = rf->syms;
        op->ws = w;
        (void)any; /* symbols the reader lacks fail per message (the Avro spec: an error when read) */
        return 0;
    }
    default:
        break;
    }
    snprintf(why, wl, "the writer's %s cannot be read as the reader's %s%s", wtype_name(w),
             rf->nullable ? "nullable " : "", fkind_name[k]);
    return -1;
}

static int resolve_field(const struct afield *rf, avro_schema_t w, struct op *op, char *why, size_t wl)
{
    w = deref(w);
    if (avro_typeof(w) != AVRO_UNION)
        return resolve_one(rf, w, op, why, wl);
    op->wk = W_UNION;
    op->rk = (uint8_t)rf->kind;
    op->nb = (uint32_t)avro_schema_union_size(w);
    op->br = calloc(op->nb ? op->nb : 1, sizeof(struct op));
    int ok = 0;
    char first[256] = "";
    for (uint32_t b = 0; b < op->nb; b++) {
        struct op *bo = &op->br[b];
        bo->pos = op->pos;
        bo->name = op->name;
        char bwhy[256];
        if (resolve_one(rf, deref(avro_schema_union_branch(w, (int)b)), bo, bwhy, sizeof bwhy) == 0) {
            ok = 1;
            continue;
        }
        if (!*first)
            snprintf(first, sizeof first, "%s", bwhy);
        op_clear(bo);
        memset(bo, 0, sizeof *bo);
        bo->pos = op->pos;
        bo->name = op->name;
        bo->wk = W_BAD;
        bo->msg = strdup(bwhy);
    }
    if (!ok) {
        snprintf(why, wl, "no branch of the writer's union can be read: %s", first);
        return -1;
    }
    return 0;
}

/* How to skip a writer field of type w (pos 0: skips write nothing). */
static void skip_op(avro_schema_t w, struct op *op, const char *name, int depth)
{
    op->pos = 0;
    op->name = name;
    op->ws = w;
    switch (avro_typeof(w)) {
    case AVRO_NULL: op->wk = W_SKIPNULL; return;
    case AVRO_BOOLEAN: op->wk = W_SKIPBOOL; return;
    case AVRO_INT32:
    case AVRO_INT64:
    case AVRO_ENUM: op->wk = W_SKIPVAR; return;
    case AVRO_STRING:
    case AVRO_BYTES: op->wk = W_SKIPLEN; return;
    case AVRO_FLOAT: op->wk = W_SKIPFIX; op->nsym = 4; return;
    case AVRO_DOUBLE: op->wk = W_SKIPFIX; op->nsym = 8; return;
    case AVRO_FIXED:
        op->wk = W_SKIPFIX;
        op->nsym = (uint32_t)avro_schema_fixed_size(w);
        return;
    case AVRO_UNION:
        if (depth == 0) {
            op->wk = W_UNION;
            op->nb = (uint32_t)avro_schema_union_size(w);
            op->br = calloc(op->nb ? op->nb : 1, sizeof(struct op));
            for (uint32_t b = 0; b < op->nb; b++)
                skip_op(deref(avro_schema_union_branch(w, (int)b)), &op->br[b], name, 1);
            return;
        }
        op->wk = W_SKIP; /* a union directly in a union is not valid Avro anyway */
        return;
    default: op->wk = W_SKIP; return;
    }
}

static avro_plan *plan_build(avro_codec *c, avro_schema_t ws, char *err, size_t errlen)
{
    ws = deref(ws);
    if (!ws || avro_typeof(ws) != AVRO_RECORD) {
        snprintf(err, errlen, "the writer's schema is not a record");
        return NULL;
    }
    avro_plan *p = calloc(1, sizeof *p);
    p->c = c;
    p->ws = avro_schema_incref(ws);
    size_t nw = avro_schema_record_size(ws);
    p->nops = (uint32_t)nw;
    p->ops = calloc(nw ? nw : 1, sizeof(struct op));
    uint32_t nf = c->sh.nfields;
    char *seen = calloc(nf ? nf : 1, 1);
    p->fill = calloc(nf ? nf : 1, sizeof(uint32_t));
    for (size_t j = 0; j < nw; j++) {
        const char *wn = avro_schema_record_field_name(ws, (int)j);
        avro_schema_t wt = avro_schema_record_field_get_by_index(ws, (int)j);
        struct op *op = &p->ops[j];
        int r = -1;
        for (uint32_t i = 0; i < nf && r < 0; i++) {
            if (strcmp(c->names[i], wn) == 0)
                r = (int)i;
            for (size_t k = 0; r < 0 && k < c->af[i].naliases; k++)
                if (strcmp(c->af[i].aliases[k], wn) == 0)
                    r = (int)i;
        }
        if (r < 0 || seen[r]) {
            skip_op(deref(wt), op, wn, 0);
            continue;
        }
        seen[r] = 1;
        op->pos = r;
        op->name = c->names[r];
        char why[300];
        if (resolve_field(&c->af[r], wt, op, why, sizeof why) != 0) {
            snprintf(err, errlen, "field '%s': %s", c->names[r], why);
            free(seen);
            avro_plan_free(p);
            return NULL;
        }
    }
    for (uint32_t i = 0; i < nf; i++) {
        if (seen[i])
            continue;
        if (!c->af[i].has_default) {
            snprintf(err, errlen, "the reader's field '%s' is not in the writer's schema and has no default",
                     c->names[i]);
            free(seen);
            avro_plan_free(p);
            return NULL;
        }
        p->fill[p->nfill++] = i;
    }
    free(seen);
    return p;
}

avro_plan *avro_plan_new(avro_codec *c, const char *json, size_t len, char *err, size_t errlen)
{
    avro_schema_t ws;
    if (avro_schema_from_json_length(json, len, &ws) != 0) {
        snprintf(err, errlen, "not a valid Avro schema: %s", avro_strerror());
        return NULL;
    }
    avro_plan *p = plan_build(c, ws, err, errlen);
    avro_schema_decref(ws);
    return p;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(reason, rlen, __VA_ARGS__);                                                       \
        return -1;                                                                                 \
    } while (0)

static int inflate_body(avro_codec *c, const unsigned char *in, size_t n, size_t *outlen, char *reason,
                        size_t rlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        FAIL("bad_zlib: cannot initialise zlib");
    zs.next_in = (unsigned char *)in;
    zs.avail_in = (uInt)n;
    size_t used = 0;
    int rc;
    do {
        if (c->zcap - used < 4096) {
            size_t ncap = c->zcap ? c->zcap * 2 : 16384;
            if (ncap > (64u << 20)) {
                inflateEnd(&zs);
                FAIL("bad_zlib: inflated body larger than 64 MiB");
            }
            c->zbuf = realloc(c->zbuf, ncap);
            c->zcap = ncap;
        }
        zs.next_out = c->zbuf + used;
        zs.avail_out = (uInt)(c->zcap - used);
        rc = inflate(&zs, Z_NO_FLUSH);
        used = c->zcap - zs.avail_out;
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&zs);
            FAIL("bad_zlib: %s", zs.msg ? zs.msg : "corrupt or truncated zlib data");
        }
        if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
            inflateEnd(&zs);
            FAIL("bad_zlib: truncated zlib data");
        }
    } while (rc != Z_STREAM_END);
    inflateEnd(&zs);
    *outlen = used;
    return 0;
}

/* Avro long: zigzag varint, at most 10 bytes.  The 10th byte carries only
 * bit 63, so it must be 0 or 1: anything more (or an 11th byte) overflows 64
 * bits and is corrupt, not a number.  Returns 0, VARINT_TRUNCATED when the
 * bytes end first, VARINT_OVERFLOW when it does not fit a long. */
enum { VARINT_TRUNCATED = -1, VARINT_OVERFLOW = -2 };
static int read_varint(const unsigned char **p, const unsigned char *end, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end)
            return VARINT_TRUNCATED;
        unsigned char b = *(*p)++;
        if (shift == 63 && b > 1)
            return VARINT_OVERFLOW;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return VARINT_OVERFLOW; /* unreachable: the 10th byte has no continuation */
}


int avro_codec_frame(avro_codec *c, framing_t framing, const void *buf, size_t len, avro_frame *f, char *reason,
                     size_t rlen)
{
    const unsigned char *p = buf;
    if (len == 0 || !p)
        FAIL("empty_value: the message has no value");
    if (framing == FRAMING_AUTO)
        framing = p[0] == 0x00 ? FRAMING_CONFLUENT : p[0] == 0x03 ? FRAMING_GLUE : FRAMING_BARE;
    f->framing = framing;
    f->id = -1;
    f->body = p;
    f->blen = len;
    if (framing == FRAMING_CONFLUENT) {
        if (p[0] != 0x00)
            FAIL("bad_magic: first byte 0x%02x, Confluent framing starts with 0x00", p[0]);
        if (len < 5)
            FAIL("short_message: %zu bytes, Confluent framing needs 5 before the Avro body", len);
        int64_t id = ((int64_t)p[1] << 24) | (p[2] << 16) | (p[3] << 8) | p[4];
        if (c->nids) {
            int ok = 0;
            for (size_t i = 0; i < c->nids; i++)
                ok |= c->ids[i] == id;
            if (!ok)
                FAIL("unknown_schema_id: schema id %lld is not in confluent.schema.ids", (long long)id);
        }
        f->id = (int32_t)id;
        f->body = p + 5;
        f->blen = len - 5;
    } else if (framing == FRAMING_GLUE) {
        if (p[0] != 0x03)
            FAIL("bad_magic: first byte 0x%02x, Glue framing starts with 0x03", p[0]);
        if (len < 18)
            FAIL("short_message: %zu bytes, Glue framing needs 18 before the Avro body", len);
        if (p[1] != 0x00 && p[1] != 0x05)
            FAIL("bad_compression: Glue compression byte 0x%02x (0x00 none, 0x05 zlib)", p[1]);
        if (c->nuuids) {
            int ok = 0;
            for (size_t i = 0; i < c->nuuids; i++)
                ok |= memcmp(c->uuids[i], p + 2, 16) == 0;
            if (!ok)
                FAIL("unknown_schema_version: Glue schema version not in glue.schema.versions");
        }
        memcpy(f->uuid, p + 2, 16);
        f->body = p + 18;
        f->blen = len - 18;
        if (p[1] == 0x05) {
            size_t ol;
            if (inflate_body(c, f->body, f->blen, &ol, reason, rlen) != 0)
                return -1;
            f->body = c->zbuf;
            f->blen = ol;
        }
    }
    return 0;
}

int avro_codec_decode(avro_codec *c, framing_t framing, const void *buf, size_t len, sh_value *values,
                      arena *a, char *reason, size_t rlen)
{
    avro_frame f;
    if (avro_codec_frame(c, framing, buf, len, &f, reason, rlen) != 0)
        return -1;
    return avro_plan_decode(c->self, f.body, f.blen, values, a, reason, rlen);
}

/* Skips one value of writer type w (a field the reader lacks).  Every
 * length is checked against the bytes left; nesting is bounded. */
static int skip_value(avro_schema_t w, const unsigned char **q, const unsigned char *end, int depth)
{
    int64_t n;
    w = deref(w);
    if (!w || depth > 32)
        return -1;
    switch (avro_typeof(w)) {
    case AVRO_NULL: return 0;
    case AVRO_BOOLEAN:
        if (*q >= end || **q > 1)
            return -1;
        (*q)++;
        return 0;
    case AVRO_INT32:
    case AVRO_INT64:
    case AVRO_ENUM: return read_varint(q, end, &n) == 0 ? 0 : -1;
    case AVRO_FLOAT:
    case AVRO_DOUBLE: {
        size_t wd = avro_typeof(w) == AVRO_FLOAT ? 4 : 8;
        if ((size_t)(end - *q) < wd)
            return -1;
        *q += wd;
        return 0;
    }
    case AVRO_STRING:
    case AVRO_BYTES:
        if (read_varint(q, end, &n) != 0 || n < 0 || n > end - *q)
            return -1;
        *q += n;
        return 0;
    case AVRO_FIXED: {
        int64_t sz = avro_schema_fixed_size(w);
        if (sz < 0 || sz > end - *q)
            return -1;
        *q += sz;
        return 0;
    }
    case AVRO_UNION: {
        if (read_varint(q, end, &n) != 0 || n < 0 || n >= (int64_t)avro_schema_union_size(w))
            return -1;
        return skip_value(avro_schema_union_branch(w, (int)n), q, end, depth + 1);
    }
    case AVRO_RECORD: {
        size_t nf = avro_schema_record_size(w);
        for (size_t i = 0; i < nf; i++)
            if (skip_value(avro_schema_record_field_get_by_index(w, (int)i), q, end, depth + 1) != 0)
                return -1;
        return 0;
    }
    case AVRO_ARRAY:
    case AVRO_MAP: {
        avro_schema_t it = avro_typeof(w) == AVRO_ARRAY ? avro_schema_array_items(w) : avro_schema_map_values(w);
        int null_items = avro_typeof(deref(it)) == AVRO_NULL && avro_typeof(w) == AVRO_ARRAY;
        for (;;) {
            if (read_varint(q, end, &n) != 0)
                return -1;
            if (n == 0)
                return 0;
            if (n < 0) {
                int64_t bytes;
                if (n == INT64_MIN || read_varint(q, end, &bytes) != 0 || bytes < 0 || bytes > end - *q)
                    return -1;
                *q += bytes; /* the block's size is given: skip it whole */
                continue;
            }
            if (null_items)
                continue; /* items of no bytes */
            if (n > end - *q)
                return -1; /* every item takes at least one byte */
            for (int64_t i = 0; i < n; i++) {
                if (avro_typeof(w) == AVRO_MAP) {
                    int64_t kl;
                    if (read_varint(q, end, &kl) != 0 || kl < 0 || kl > end - *q)
                        return -1;
                    *q += kl;
                }
                if (skip_value(it, q, end, depth + 1) != 0)
                    return -1;
            }
        }
    }
    default: return -1;
    }
}

/* read_varint with the one-byte case (union indexes, short lengths, small
 * numbers) inline: most varints of a message. */
static inline int varint(const unsigned char **p, const unsigned char *end, int64_t *out)
{
    if (*p < end && !(**p & 0x80)) {
        unsigned b = *(*p)++;
        *out = (int64_t)(b >> 1) ^ -(int64_t)(b & 1);
        return 0;
    }
    return read_varint(p, end, out);
}

/* The hand-written decoder.  Why not avro_value_read: it is the hot path
 * (one call per message), and avro-c allocates a string's declared length
 * before checking that the bytes exist, so a corrupt length turns into a
 * huge or negative allocation.  Here every length is checked against the
 * bytes left first. */
int avro_plan_decode(const avro_plan *pl, const unsigned char *body, size_t blen, sh_value *values, arena *a,
                     char *reason, size_t rlen)
{
    const avro_codec *c = pl->c;
    const unsigned char *q = body, *end = body + blen;
    for (uint32_t i = 0; i < pl->nops; i++) {
        const struct op *op = &pl->ops[i];
        sh_value *out = &values[op->pos];
        if (op->wk == W_UNION) {
            int64_t br;
            int vr = varint(&q, end, &br);
            if (vr == VARINT_OVERFLOW)
                FAIL("bad_avro: union index of field '%s' overflows 64 bits", op->name);
            if (vr != 0)
                FAIL("bad_avro: truncated union index of field '%s'", op->name);
            if (br < 0 || br >= (int64_t)op->nb)
                FAIL("bad_avro: union index %lld out of range in field '%s'", (long long)br, op->name);
            op = &op->br[br];
        }
        switch (op->wk) {
        case W_NULL: *out = sh_v_null(); break;
        case W_STRING:
        case W_BYTES: {
            int64_t n;
            int vr = varint(&q, end, &n);
            if (vr == VARINT_OVERFLOW)
                FAIL("bad_avro: string length of field '%s' overflows 64 bits", op->name);
            if (vr != 0)
                FAIL("bad_avro: truncated string length of field '%s'", op->name);
            if (n < 0 || n > end - q)
                FAIL("bad_avro: string length %lld of field '%s' exceeds the message", (long long)n, op->name);
            if (!utf8_valid(q, (size_t)n))
                FAIL("bad_utf8: field '%s' is not valid UTF-8", op->name);
            char *copy = arena_copy(a, (const char *)q, (size_t)n);
            if (!copy)
                FAIL("bad_avro: out of memory");
            *out = sh_v_str(copy, (size_t)n);
            q += n;
            break;
        }
        case W_LONG:
        case W_INT: {
            int64_t x;
            int vr = varint(&q, end, &x);
            if (vr == VARINT_OVERFLOW)
                FAIL("bad_avro: number in field '%s' overflows 64 bits", op->name);
            if (vr != 0)
                FAIL("bad_avro: truncated number in field '%s'", op->name);
            if (op->wk == W_INT && (x < INT32_MIN || x > INT32_MAX))
                FAIL("bad_avro: int field '%s' out of 32-bit range", op->name);
            if (op->rk == FK_LONG || op->rk == FK_INT) {
                *out = sh_v_int(x);
            } else {
                out->type = SH_DOUBLE;
                out->u.d = op->rk == FK_FLOAT ? (double)(float)x : (double)x;
            }
            break;
        }
        case W_DOUBLE:
        case W_FLOAT: {
            size_t w = op->wk == W_DOUBLE ? 8 : 4;
            if ((size_t)(end - q) < w)
                FAIL("bad_avro: truncated %s in field '%s'", w == 8 ? "double" : "float", op->name);
            out->type = SH_DOUBLE;
            if (w == 8) {
                uint64_t bits = 0;
                for (int k = 7; k >= 0; k--)
                    bits = (bits << 8) | q[k];
                memcpy(&out->u.d, &bits, 8);
            } else {
                uint32_t bits = 0;
                float fl;
                for (int k = 3; k >= 0; k--)
                    bits = (bits << 8) | q[k];
                memcpy(&fl, &bits, 4);
                out->u.d = fl;
            }
            q += w;
            break;
        }
        case W_BOOL:
            if (q >= end || *q > 1)
                FAIL("bad_avro: bad boolean in field '%s'", op->name);
            out->type = SH_BOOL;
            out->u.b = *q++;
            break;
        case W_ENUM: {
            int64_t x;
            if (varint(&q, end, &x) != 0)
                FAIL("bad_avro: bad enum index in field '%s'", op->name);
            if (x < 0 || x >= (int64_t)op->nsym)
                FAIL("bad_avro: enum index %lld out of range in field '%s'", (long long)x, op->name);
            if (op->emap[x] < 0)
                FAIL("incompatible_schema: field '%s': the writer's symbol '%s' is not in the reader's enum", op->name,
                     avro_schema_enum_get(op->ws, (int)x));
            const char *sym = op->rsyms[op->emap[x]];
            *out = sh_v_str(sym, strlen(sym));
            break;
        }
        case W_SKIP:
            if (skip_value(op->ws, &q, end, 0) != 0)
                FAIL("bad_avro: truncated or corrupt value of the writer's field '%s'", op->name);
            break;
        case W_SKIPNULL: break;
        case W_SKIPVAR: {
            int64_t x;
            if (varint(&q, end, &x) != 0)
                FAIL("bad_avro: truncated or corrupt value of the writer's field '%s'", op->name);
            break;
        }
        case W_SKIPLEN: {
            int64_t n;
            if (varint(&q, end, &n) != 0 || n < 0 || n > end - q)
                FAIL("bad_avro: truncated or corrupt value of the writer's field '%s'", op->name);
            q += n;
            break;
        }
        case W_SKIPFIX:
            if ((size_t)(end - q) < op->nsym)
                FAIL("bad_avro: truncated or corrupt value of the writer's field '%s'", op->name);
            q += op->nsym;
            break;
        case W_SKIPBOOL:
            if (q >= end || *q > 1)
                FAIL("bad_avro: truncated or corrupt value of the writer's field '%s'", op->name);
            q++;
            break;
        case W_BAD:
        default: FAIL("incompatible_schema: field '%s': %s", op->name, op->msg ? op->msg : "unreadable value");
        }
    }
    if (q != end)
        FAIL("bad_avro: %zu trailing bytes after the record (wrong schema?)", (size_t)(end - q));
    for (uint32_t k = 0; k < pl->nfill; k++)
        values[pl->fill[k]] = c->af[pl->fill[k]].dflt;
    return 0;
}
#undef FAIL

static int *enc_positions(avro_codec *c, const sh_schema *s)
{
    for (size_t i = 0; i < 4; i++)
        if (c->enc[i].schema == s)
            return c->enc[i].pos;
    free(c->enc[3].pos); /* evict the least recently added */
    memmove(&c->enc[1], &c->enc[0], 3 * sizeof(struct enc_map));
    struct enc_map *m = &c->enc[0];
    m->schema = s;
    m->pos = malloc((c->sh.nfields ? c->sh.nfields : 1) * sizeof(int));
    for (uint32_t i = 0; i < c->sh.nfields; i++)
        m->pos[i] = sh_schema_field(s, c->names[i]);
    return m->pos;
}

/* --- encoding -------------------------------------------------------------
 *
 * avro_codec_encode is hand-written, like the decoder: going through avro-c's
 * generic values (avro_value_set_* per field, avro_value_sizeof, then
 * avro_value_write) took about a fifth of the generator's samples
 * (clickgen -> Kafka sink, bench/produce.ini: libavro 19%, plus the copy of
 * every string into a NUL-terminated scratch).  It writes the Avro binary
 * encoding straight into the output buffer, reserving room before every
 * write (the bounds check), and gives the same bytes as avro-c for every
 * value avro-c accepts: avro_codec_encode_reference keeps the avro-c path,
 * and plugins/source-clickgen/tests/test_avro_encode.c compares the two on
 * random records of random schemas and on clickgen's events (schema.version
 * 1 and 2).  The one deliberate difference: a boolean is written as 0 or 1
 * from any nonzero int, where avro-c writes the int's low byte (2 -> 0x02,
 * which is not Avro; 256 -> 0x00, false). */

/* The framing header: 0, or -1 out of memory. */
static int put_header(sh_buf *out, framing_t framing, int32_t schema_id, const unsigned char uuid[16], int glue_zlib)
{
    if (framing == FRAMING_GLUE) {
        if (sh_buf_reserve(out, 18) != 0)
            return -1;
        unsigned char *h = (unsigned char *)out->data + out->len;
        h[0] = 0x03;
        h[1] = glue_zlib ? 0x05 : 0x00;
        memcpy(h + 2, uuid, 16);
        out->len += 18;
    } else if (framing == FRAMING_CONFLUENT) {
        if (sh_buf_reserve(out, 5) != 0)
            return -1;
        unsigned char *h = (unsigned char *)out->data + out->len;
        h[0] = 0x00;
        h[1] = (unsigned char)((uint32_t)schema_id >> 24);
        h[2] = (unsigned char)((uint32_t)schema_id >> 16);
        h[3] = (unsigned char)((uint32_t)schema_id >> 8);
        h[4] = (unsigned char)schema_id;
        out->len += 5;
    }
    return 0;
}

/* Glue with zlib: the deflated body after the header already in `out`. */
static int put_deflated(sh_buf *out, const unsigned char *body, size_t blen, char *err, size_t errlen)
{
    uLongf zl = compressBound(blen);
    if (sh_buf_reserve(out, zl) != 0 || compress((Bytef *)out->data + out->len, &zl, body, blen) != Z_OK) {
        snprintf(err, errlen, "zlib compression failed");
        return -1;
    }
    out->len += zl;
    return 0;
}

/* Longest zig-zag varint of an int64: 10 bytes. */
#define VARINT_MAX 10

/* Writes v as a zig-zag varint at p (VARINT_MAX bytes of room); returns the
 * end.  For an int32 this is also Avro's int encoding (same value). */
static inline unsigned char *put_varint(unsigned char *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z >= 0x80) {
        *p++ = (unsigned char)(z | 0x80);
        z >>= 7;
    }
    *p++ = (unsigned char)z;
    return p;
}

static inline unsigned char *put_le(unsigned char *p, uint64_t bits, int n)
{
    for (int k = 0; k < n; k++)
        p[k] = (unsigned char)(bits >> (8 * k));
    return p + n;
}

/* Appends the Avro body of r (fields at pos) to dst: 0, or -1 with err. */
static int encode_body(const avro_codec *c, const int *pos, const sh_record *r, sh_buf *dst, char *err,
                       size_t errlen)
{
    for (uint32_t i = 0; i < c->sh.nfields; i++) {
        const struct afield *af = &c->af[i];
        const sh_value *sv = pos[i] >= 0 ? &r->values[pos[i]] : NULL;
        /* room for a union branch and any fixed-size value; strings add theirs */
        size_t room = 2 * VARINT_MAX;
        if (sv && sv->type == SH_STRING && af->kind == FK_STRING)
            room += sv->u.s.len;
        if (sh_buf_reserve(dst, room) != 0) {
            snprintf(err, errlen, "out of memory for an encoded record");
            return -1;
        }
        unsigned char *p = (unsigned char *)dst->data + dst->len;
        if (!sv || sv->type == SH_NULL) {
            if (!af->nullable) {
                snprintf(err, errlen, "field '%s' is %s but not nullable in the Avro schema", c->names[i],
                         sv ? "null" : "missing");
                return -1;
            }
            p = put_varint(p, af->null_branch);
            dst->len = (size_t)((char *)p - dst->data);
            continue;
        }
        if (af->nullable)
            p = put_varint(p, af->value_branch);
        switch (af->kind) {
        case FK_STRING:
            if (sv->type != SH_STRING)
                goto type_error;
            p = put_varint(p, (int64_t)sv->u.s.len);
            if (sv->u.s.len)
                memcpy(p, sv->u.s.ptr, sv->u.s.len);
            p += sv->u.s.len;
            break;
        case FK_LONG:
            if (sv->type != SH_INT)
                goto type_error;
            p = put_varint(p, sv->u.i);
            break;
        case FK_INT:
            if (sv->type != SH_INT || sv->u.i < INT32_MIN || sv->u.i > INT32_MAX)
                goto type_error;
            p = put_varint(p, sv->u.i);
            break;
        case FK_DOUBLE:
        case FK_FLOAT: {
            if (sv->type != SH_DOUBLE && sv->type != SH_INT)
                goto type_error;
            double d = sv->type == SH_DOUBLE ? sv->u.d : (double)sv->u.i;
            if (af->kind == FK_FLOAT) {
                float f = (float)d;
                uint32_t bits;
                memcpy(&bits, &f, 4);
                p = put_le(p, bits, 4);
            } else {
                uint64_t bits;
                memcpy(&bits, &d, 8);
                p = put_le(p, bits, 8);
            }
            break;
        }
        case FK_BOOL:
            if (sv->type != SH_BOOL)
                goto type_error;
            *p++ = sv->u.b ? 1 : 0;
            break;
        case FK_ENUM: {
            int k = sv->type == SH_STRING ? find_sym(af->syms, af->nsyms, sv->u.s.ptr, sv->u.s.len) : -1;
            if (k < 0)
                goto type_error;
            p = put_varint(p, k);
            break;
        }
        }
        dst->len = (size_t)((char *)p - dst->data);
        continue;
    type_error:
        snprintf(err, errlen, "field '%s' has a value that does not fit its Avro type", c->names[i]);
        return -1;
    }
    return 0;
}

int avro_codec_encode(avro_codec *c, framing_t framing, int32_t schema_id, const unsigned char uuid[16],
                      int glue_zlib, const sh_record *r, sh_buf *out, char *err, size_t errlen)
{
    const int *pos = enc_positions(c, r->schema);
    out->len = 0;
    if (put_header(out, framing, schema_id, uuid, glue_zlib) != 0) {
        snprintf(err, errlen, "out of memory for an encoded record");
        return -1;
    }
    if (framing != FRAMING_GLUE || !glue_zlib) {
        if (encode_body(c, pos, r, out, err, errlen) != 0)
            return -1;
        out->data[out->len] = '\0'; /* as sh_buf_add leaves it */
        return 0;
    }
    c->ebuf.len = 0;
    if (encode_body(c, pos, r, &c->ebuf, err, errlen) != 0)
        return -1;
    return put_deflated(out, (const unsigned char *)c->ebuf.data, c->ebuf.len, err, errlen);
}

int avro_codec_encode_reference(avro_codec *c, framing_t framing, int32_t schema_id, const unsigned char uuid[16],
                                int glue_zlib, const sh_record *r, sh_buf *out, char *err, size_t errlen)
{
    int *pos = enc_positions(c, r->schema);
    avro_value_reset(&c->value);
    char tmp[512];
    for (uint32_t i = 0; i < c->sh.nfields; i++) {
        avro_value_t f, v;
        avro_value_get_by_index(&c->value, i, &f, NULL);
        const struct afield *af = &c->af[i];
        const sh_value *sv = pos[i] >= 0 ? &r->values[pos[i]] : NULL;
        if (!sv || sv->type == SH_NULL) {
            if (!af->nullable) {
                snprintf(err, errlen, "field '%s' is %s but not nullable in the Avro schema", c->names[i],
                         sv ? "null" : "missing");
                return -1;
            }
            avro_value_set_branch(&f, af->null_branch, &v);
            avro_value_set_null(&v);
            continue;
        }
        if (af->nullable)
            avro_value_set_branch(&f, af->value_branch, &v);
        else
            v = f;
        switch (af->kind) {
        case FK_STRING: {
            if (sv->type != SH_STRING)
                goto type_error;
            size_t n = sv->u.s.len;
            char *s = n < sizeof tmp ? tmp : malloc(n + 1);
            memcpy(s, sv->u.s.ptr, n);
            s[n] = '\0';
            avro_value_set_string_len(&v, s, n + 1);
            if (s != tmp)
                free(s);
            break;
        }
        case FK_LONG:
            if (sv->type != SH_INT)
                goto type_error;
            avro_value_set_long(&v, sv->u.i);
            break;
        case FK_INT:
            if (sv->type != SH_INT || sv->u.i < INT32_MIN || sv->u.i > INT32_MAX)
                goto type_error;
            avro_value_set_int(&v, (int32_t)sv->u.i);
            break;
        case FK_DOUBLE:
        case FK_FLOAT: {
            double d = sv->type == SH_DOUBLE ? sv->u.d : sv->type == SH_INT ? (double)sv->u.i : 0;
            if (sv->type != SH_DOUBLE && sv->type != SH_INT)
                goto type_error;
            if (af->kind == FK_FLOAT)
                avro_value_set_float(&v, (float)d);
            else
                avro_value_set_double(&v, d);
            break;
        }
        case FK_BOOL:
            if (sv->type != SH_BOOL)
                goto type_error;
            avro_value_set_boolean(&v, sv->u.b);
            break;
        case FK_ENUM: {
            int k = sv->type == SH_STRING ? find_sym(af->syms, af->nsyms, sv->u.s.ptr, sv->u.s.len) : -1;
            if (k < 0)
                goto type_error;
            avro_value_set_enum(&v, k);
            break;
        }
        }
        continue;
    type_error:
        snprintf(err, errlen, "field '%s' has a value that does not fit its Avro type", c->names[i]);
        return -1;
    }
    size_t need;
    if (avro_value_sizeof(&c->value, &need) != 0) {
        snprintf(err, errlen, "cannot size the Avro record: %s", avro_strerror());
        return -1;
    }
    if (need > c->wcap) {
        while (c->wcap < need)
            c->wcap *= 2;
        c->wbuf = realloc(c->wbuf, c->wcap);
    }
    avro_writer_memory_set_dest(c->writer, c->wbuf, (int64_t)c->wcap);
    if (avro_value_write(c->writer, &c->value) != 0) {
        snprintf(err, errlen, "cannot encode the Avro record: %s", avro_strerror());
        return -1;
    }
    size_t blen = (size_t)avro_writer_tell(c->writer);
    out->len = 0;
    if (put_header(out, framing, schema_id, uuid, glue_zlib) != 0)
        goto oom;
    if (framing == FRAMING_GLUE && glue_zlib)
        return put_deflated(out, (const unsigned char *)c->wbuf, blen, err, errlen);
    if (sh_buf_reserve(out, blen) != 0)
        goto oom;
    sh_buf_add(out, c->wbuf, blen);
    return 0;
oom:
    snprintf(err, errlen, "out of memory for an encoded record");
    return -1;
}
