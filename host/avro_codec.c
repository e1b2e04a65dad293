/* avro_codec.c - Avro decoding/encoding with avro-c's generic values.
 * The schema is resolved once: each Avro field maps to a record position and
 * a kind; per message we only walk the generic value. */
#include "avro_codec.h"

#include <avro.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum fkind { FK_STRING, FK_LONG, FK_INT, FK_DOUBLE, FK_FLOAT, FK_BOOL };

struct afield {
    enum fkind kind;
    int nullable;     /* union of null and kind */
    int null_branch;  /* discriminant of "null" in the union */
    int value_branch; /* discriminant of the value */
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
    default: return -1;
    }
}

static uint32_t sh_type_of(enum fkind k)
{
    switch (k) {
    case FK_STRING: return SH_STRING;
    case FK_DOUBLE:
    case FK_FLOAT: return SH_DOUBLE;
    case FK_BOOL: return SH_BOOL;
    default: return SH_INT;
    }
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
    avro_codec *c = calloc(1, sizeof *c);
    if (avro_schema_from_json_length(json, len, &c->schema) != 0) {
        snprintf(err, errlen, "%s: not a valid Avro schema: %s", path, avro_strerror());
        free(json);
        free(c);
        return NULL;
    }
    free(json);
    if (avro_typeof(c->schema) != AVRO_RECORD) {
        snprintf(err, errlen, "%s: the Avro schema must be a record", path);
        avro_codec_free(c);
        return NULL;
    }
    size_t nf = avro_schema_record_size(c->schema);
    c->fields = calloc(nf ? nf : 1, sizeof(sh_field));
    c->af = calloc(nf ? nf : 1, sizeof(struct afield));
    c->names = calloc(nf ? nf : 1, sizeof(char *));
    c->nnames = nf;
    for (size_t i = 0; i < nf; i++) {
        const char *name = avro_schema_record_field_name(c->schema, (int)i);
        avro_schema_t ft = avro_schema_record_field_get_by_index(c->schema, (int)i);
        struct afield *a = &c->af[i];
        c->names[i] = strdup(name);
        if (avro_typeof(ft) == AVRO_UNION) {
            size_t nb = avro_schema_union_size(ft);
            int ok = nb == 2;
            a->nullable = 1;
            a->null_branch = a->value_branch = -1;
            for (size_t b = 0; ok && b < nb; b++) {
                avro_schema_t bt = avro_schema_union_branch(ft, (int)b);
                if (avro_typeof(bt) == AVRO_NULL)
                    a->null_branch = (int)b;
                else if (map_type(bt, &a->kind) == 0)
                    a->value_branch = (int)b;
            }
            if (!ok || a->null_branch < 0 || a->value_branch < 0) {
                snprintf(err, errlen, "%s: field '%s': only unions of null and one primitive type are supported",
                         path, name);
                avro_codec_free(c);
                return NULL;
            }
        } else if (map_type(ft, &a->kind) != 0) {
            snprintf(err, errlen,
                     "%s: field '%s': type not supported (use string, long, int, double, float, boolean, or a union with null)",
                     path, name);
            avro_codec_free(c);
            return NULL;
        }
        c->fields[i].name = c->names[i];
        c->fields[i].type = sh_type_of(a->kind);
    }
    c->stream = strdup(stream);
    c->sh.name = c->stream;
    c->sh.nfields = (uint32_t)nf;
    c->sh.fields = c->fields;
    c->iface = avro_generic_class_from_schema(c->schema);
    avro_generic_value_new(c->iface, &c->value);
    c->wcap = 4096;
    c->wbuf = malloc(c->wcap);
    c->writer = avro_writer_memory(c->wbuf, (int64_t)c->wcap);
    return c;
}

void avro_codec_free(avro_codec *c)
{
    if (!c)
        return;
    if (c->iface) {
        avro_value_decref(&c->value);
        avro_value_iface_decref(c->iface);
    }
    if (c->writer)
        avro_writer_free(c->writer);
    avro_schema_decref(c->schema);
    for (size_t i = 0; c->names && i < c->nnames; i++)
        free(c->names[i]);
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
    free(c);
}

const sh_schema *avro_codec_schema(const avro_codec *c) { return &c->sh; }

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

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(reason, rlen, __VA_ARGS__);                                                       \
        return -1;                                                                                 \
    } while (0)

/* Inflates a zlib body into c->zbuf; bounded at 64 MiB. */
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

int avro_codec_decode(avro_codec *c, framing_t framing, const void *buf, size_t len, sh_value *values,
                      arena *a, char *reason, size_t rlen)
{
    const unsigned char *p = buf;
    if (len == 0 || !p)
        FAIL("empty_value: the message has no value");
    if (framing == FRAMING_AUTO)
        framing = p[0] == 0x00 ? FRAMING_CONFLUENT : p[0] == 0x03 ? FRAMING_GLUE : FRAMING_BARE;
    const unsigned char *body = p;
    size_t blen = len;
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
        body = p + 5;
        blen = len - 5;
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
        body = p + 18;
        blen = len - 18;
        if (p[1] == 0x05) {
            size_t ol;
            if (inflate_body(c, body, blen, &ol, reason, rlen) != 0)
                return -1;
            body = c->zbuf;
            blen = ol;
        }
    }
    /* Hand-written decoder for flat records of primitives (the schemas
     * avro_codec_new accepts).  Why not avro_value_read: it is the hot path
     * (one call per message), and avro-c allocates a string's declared length
     * before checking that the bytes exist, so a corrupt length turns into a
     * huge or negative allocation.  Here every length is checked against the
     * bytes left first.  avro-c still parses the schema and encodes. */
    const unsigned char *q = body, *end = body + blen;
    for (uint32_t i = 0; i < c->sh.nfields; i++) {
        const struct afield *af = &c->af[i];
        if (af->nullable) {
            int64_t br;
            int vr = read_varint(&q, end, &br);
            if (vr == VARINT_OVERFLOW)
                FAIL("bad_avro: union index of field '%s' overflows 64 bits", c->names[i]);
            if (vr != 0)
                FAIL("bad_avro: truncated union index of field '%s'", c->names[i]);
            if (br == af->null_branch) {
                values[i] = sh_v_null();
                continue;
            }
            if (br != af->value_branch)
                FAIL("bad_avro: union index %lld out of range in field '%s'", (long long)br, c->names[i]);
        }
        switch (af->kind) {
        case FK_STRING: {
            int64_t n;
            int vr = read_varint(&q, end, &n);
            if (vr == VARINT_OVERFLOW)
                FAIL("bad_avro: string length of field '%s' overflows 64 bits", c->names[i]);
            if (vr != 0)
                FAIL("bad_avro: truncated string length of field '%s'", c->names[i]);
            if (n < 0 || n > end - q)
                FAIL("bad_avro: string length %lld of field '%s' exceeds the message", (long long)n, c->names[i]);
            if (!utf8_valid(q, (size_t)n))
                FAIL("bad_utf8: field '%s' is not valid UTF-8", c->names[i]);
            char *copy = arena_copy(a, (const char *)q, (size_t)n);
            if (!copy)
                FAIL("bad_avro: out of memory");
            values[i] = sh_v_str(copy, (size_t)n);
            q += n;
            break;
        }
        case FK_LONG:
        case FK_INT: {
            int64_t x;
            int vr = read_varint(&q, end, &x);
            if (vr == VARINT_OVERFLOW)
                FAIL("bad_avro: number in field '%s' overflows 64 bits", c->names[i]);
            if (vr != 0)
                FAIL("bad_avro: truncated number in field '%s'", c->names[i]);
            if (af->kind == FK_INT && (x < INT32_MIN || x > INT32_MAX))
                FAIL("bad_avro: int field '%s' out of 32-bit range", c->names[i]);
            values[i] = sh_v_int(x);
            break;
        }
        case FK_DOUBLE:
        case FK_FLOAT: {
            size_t w = af->kind == FK_DOUBLE ? 8 : 4;
            if ((size_t)(end - q) < w)
                FAIL("bad_avro: truncated %s in field '%s'", w == 8 ? "double" : "float", c->names[i]);
            values[i].type = SH_DOUBLE;
            if (w == 8) {
                uint64_t bits = 0;
                for (int k = 7; k >= 0; k--)
                    bits = (bits << 8) | q[k];
                memcpy(&values[i].u.d, &bits, 8);
            } else {
                uint32_t bits = 0;
                float fl;
                for (int k = 3; k >= 0; k--)
                    bits = (bits << 8) | q[k];
                memcpy(&fl, &bits, 4);
                values[i].u.d = fl;
            }
            q += w;
            break;
        }
        case FK_BOOL:
            if (q >= end || *q > 1)
                FAIL("bad_avro: bad boolean in field '%s'", c->names[i]);
            values[i].type = SH_BOOL;
            values[i].u.b = *q++;
            break;
        }
    }
    if (q != end)
        FAIL("bad_avro: %zu trailing bytes after the record (wrong schema?)", (size_t)(end - q));
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

int avro_codec_encode(avro_codec *c, framing_t framing, int32_t schema_id, const unsigned char uuid[16],
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
    if (framing == FRAMING_GLUE) {
        unsigned char hdr[18];
        hdr[0] = 0x03;
        hdr[1] = glue_zlib ? 0x05 : 0x00;
        memcpy(hdr + 2, uuid, 16);
        sh_buf_add(out, hdr, 18);
        if (glue_zlib) {
            uLongf zl = compressBound(blen);
            if (sh_buf_reserve(out, zl) != 0 ||
                compress((Bytef *)out->data + out->len, &zl, (const Bytef *)c->wbuf, blen) != Z_OK) {
                snprintf(err, errlen, "zlib compression failed");
                return -1;
            }
            out->len += zl;
            return 0;
        }
    } else if (framing == FRAMING_CONFLUENT) {
        unsigned char hdr[5] = {0x00, (unsigned char)(schema_id >> 24), (unsigned char)(schema_id >> 16),
                                (unsigned char)(schema_id >> 8), (unsigned char)schema_id};
        sh_buf_add(out, hdr, 5);
    }
    sh_buf_add(out, c->wbuf, blen);
    return 0;
}
