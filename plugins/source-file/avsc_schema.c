/* avsc_schema.c - parses an Avro record schema with jansson.
 *
 * Only what JSON-lines events need: primitive field types, written as
 * "long", {"type": "long", "logicalType": ...} or a union with "null"
 * (["string", "null"] or ["null", "string"]), and field defaults. */
#include "avsc_schema.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int failf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Primitive type from "long" or {"type": "long", ...}; 0 and *is_null when
 * it is "null"; -1 when unsupported. */
static int primitive(json_t *t, uint32_t *type, int *int32, int *is_null)
{
    if (json_is_object(t))
        t = json_object_get(t, "type");
    const char *s = json_string_value(t);
    *is_null = 0;
    *int32 = 0;
    if (!s)
        return -1;
    if (strcmp(s, "null") == 0)
        *is_null = 1;
    else if (strcmp(s, "string") == 0)
        *type = SH_STRING;
    else if (strcmp(s, "long") == 0)
        *type = SH_INT;
    else if (strcmp(s, "int") == 0) {
        *type = SH_INT;
        *int32 = 1;
    } else if (strcmp(s, "boolean") == 0)
        *type = SH_BOOL;
    else if (strcmp(s, "double") == 0 || strcmp(s, "float") == 0)
        *type = SH_DOUBLE;
    else
        return -1;
    return 0;
}

/* Fills f->type/int32/nullable from the field's "type". */
static int field_type(json_t *t, avsc_field *f)
{
    int is_null;
    if (!json_is_array(t)) {
        if (primitive(t, &f->type, &f->int32, &is_null) != 0 || is_null)
            return -1;
        return 0;
    }
    size_t n = json_array_size(t), values = 0, nulls = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t type;
        int int32;
        if (primitive(json_array_get(t, i), &type, &int32, &is_null) != 0)
            return -1;
        if (is_null) {
            nulls++;
        } else {
            values++;
            f->type = type;
            f->int32 = int32;
        }
    }
    if (values != 1 || nulls > 1)
        return -1;
    f->nullable = nulls == 1;
    return 0;
}

/* Converts the field's "default" to a value; -1 when it does not match. */
static int field_default(json_t *d, avsc_field *f)
{
    f->has_default = 1;
    if (json_is_null(d)) {
        f->def = sh_v_null();
        return f->nullable ? 0 : -1;
    }
    switch (f->type) {
    case SH_INT:
        if (!json_is_integer(d))
            return -1;
        f->def = sh_v_int(json_integer_value(d));
        return 0;
    case SH_DOUBLE:
        if (!json_is_number(d))
            return -1;
        f->def.type = SH_DOUBLE;
        f->def.u.d = json_number_value(d);
        return 0;
    case SH_BOOL:
        if (!json_is_boolean(d))
            return -1;
        f->def.type = SH_BOOL;
        f->def.u.b = json_is_true(d);
        return 0;
    default: {
        if (!json_is_string(d))
            return -1;
        size_t len = json_string_length(d);
        char *copy = malloc(len + 1);
        if (!copy)
            return -1;
        memcpy(copy, json_string_value(d), len + 1);
        f->def = sh_v_str(copy, len);
        return 0;
    }
    }
}

static int parse_fields(const char *path, json_t *fields, avsc_schema *s, char *err,
                        size_t errlen)
{
    size_t n = json_array_size(fields);
    if (n == 0)
        return failf(err, errlen, "%s: the record has no fields", path);
    s->fields = calloc(n, sizeof *s->fields);
    s->sh_fields = calloc(n, sizeof *s->sh_fields);
    if (!s->fields || !s->sh_fields)
        return failf(err, errlen, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) {
        json_t *jf = json_array_get(fields, i);
        const char *name = json_string_value(json_object_get(jf, "name"));
        if (!name || !*name)
            return failf(err, errlen, "%s: field %zu has no \"name\"", path, i + 1);
        if (avsc_find(s, name) >= 0)
            return failf(err, errlen, "%s: field '%s' is declared twice", path, name);
        avsc_field *f = &s->fields[i];
        if (!(f->name = strdup(name)))
            return failf(err, errlen, "%s: out of memory", path);
        f->name_len = strlen(name);
        f->plain_name = 1;
        for (const unsigned char *c = (const unsigned char *)name; *c; c++)
            if (*c < 0x20 || *c == '"' || *c == '\\')
                f->plain_name = 0;
        s->n++;
        json_t *type = json_object_get(jf, "type");
        if (field_type(type, f) != 0) {
            char *text = type ? json_dumps(type, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            failf(err, errlen,
                  "%s: field '%s': type %s is not supported; use string, long, int, "
                  "boolean, double or float, alone or in a union with \"null\"",
                  path, name, text ? text : "(missing)");
            free(text);
            return -1;
        }
        json_t *def = json_object_get(jf, "default");
        if (def && field_default(def, f) != 0)
            return failf(err, errlen, "%s: field '%s': the default does not match its type",
                         path, name);
        s->sh_fields[i] = (sh_field){f->name, f->type};
    }
    return 0;
}

int avsc_load(const char *path, avsc_schema *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (je.line <= 0) /* cannot read it; the text names the file */
            return failf(err, errlen, "%s", je.text);
        return failf(err, errlen, "%s:%d:%d: not valid JSON: %s", path, je.line, je.column,
                     je.text);
    }
    int rc = 0;
    const char *type = json_string_value(json_object_get(root, "type"));
    json_t *fields = json_object_get(root, "fields");
    if (!type || strcmp(type, "record") != 0 || !json_is_array(fields))
        rc = failf(err, errlen,
                   "%s: not an Avro record schema (expected {\"type\": \"record\", "
                   "\"fields\": [...]})",
                   path);
    else
        rc = parse_fields(path, fields, s, err, errlen);
    json_decref(root);
    if (rc != 0)
        avsc_free(s);
    return rc;
}

void avsc_free(avsc_schema *s)
{
    for (uint32_t i = 0; s->fields && i < s->n; i++) {
        free(s->fields[i].name);
        if (s->fields[i].has_default && s->fields[i].def.type == SH_STRING)
            free((void *)s->fields[i].def.u.s.ptr);
    }
    free(s->fields);
    free(s->sh_fields);
    memset(s, 0, sizeof *s);
}

int avsc_find(const avsc_schema *s, const char *name)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}
