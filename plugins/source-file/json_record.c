/* json_record.c - checks a JSON object against the schema and turns it into
 * values: every declared field must be present with its type, except unions
 * with "null" (null or absent) and fields with a default (absent).  Unknown
 * keys are ignored so that producers may add fields. */
#include "json_record.h"
#include "json_scan.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>

static int why_f(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int why_f(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return JR_MALFORMED;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a decimal number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static const char *wanted(const avsc_field *f)
{
    switch (f->type) {
    case SH_INT: return f->int32 ? "an int" : "a long (integer)";
    case SH_DOUBLE: return "a number";
    case SH_BOOL: return "a boolean";
    default: return "a string";
    }
}

/* One present, non-null value. */
static int decode_value(const avsc_field *f, json_t *j, sh_value *v, str_arena *arena,
                        char *why, size_t whylen)
{
    switch (f->type) {
    case SH_INT:
        if (!json_is_integer(j))
            break;
        v->type = SH_INT;
        v->u.i = json_integer_value(j);
        if (f->int32 && (v->u.i < INT32_MIN || v->u.i > INT32_MAX))
            return why_f(why, whylen, "field '%s': %lld does not fit an Avro int", f->name,
                         (long long)v->u.i);
        return JR_OK;
    case SH_DOUBLE:
        if (!json_is_number(j))
            break;
        v->type = SH_DOUBLE;
        v->u.d = json_number_value(j);
        return JR_OK;
    case SH_BOOL:
        if (!json_is_boolean(j))
            break;
        v->type = SH_BOOL;
        v->u.b = json_is_true(j);
        return JR_OK;
    default: {
        if (!json_is_string(j))
            break;
        size_t len = json_string_length(j);
        const char *copy = str_arena_copy(arena, json_string_value(j), len);
        if (!copy)
            return JR_NOMEM;
        *v = sh_v_str(copy, len);
        return JR_OK;
    }
    }
    return why_f(why, whylen, "field '%s' must be %s, not %s", f->name, wanted(f),
                 json_type_name(j));
}

static int decode_object(const avsc_schema *s, json_t *obj, sh_value *vals,
                         str_arena *arena, char *why, size_t whylen)
{
    for (uint32_t i = 0; i < s->n; i++) {
        const avsc_field *f = &s->fields[i];
        json_t *j = json_object_get(obj, f->name);
        if (!j) {
            if (f->has_default)
                vals[i] = f->def;
            else if (f->nullable)
                vals[i] = sh_v_null();
            else
                return why_f(why, whylen, "missing field '%s'", f->name);
        } else if (json_is_null(j)) {
            if (!f->nullable)
                return why_f(why, whylen, "field '%s' is null but not nullable", f->name);
            vals[i] = sh_v_null();
        } else {
            int rc = decode_value(f, j, &vals[i], arena, why, whylen);
            if (rc != JR_OK)
                return rc;
        }
    }
    return JR_OK;
}

int jr_decode_jansson(const avsc_schema *s, const char *line, size_t len, sh_value *vals,
                      str_arena *arena, char *why, size_t whylen)
{
    json_error_t je;
    /* a tree per line (a few mallocs): the slow path, for lines the scanner
     * refuses or leaves alone; its verdict and reason are the ones reported */
    json_t *obj = json_loadb(line, len,
                             JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
    if (!obj)
        return why_f(why, whylen, "invalid JSON at column %d: %s", je.column, je.text);
    int rc;
    if (!json_is_object(obj))
        rc = why_f(why, whylen, "not a JSON object but %s", json_type_name(obj));
    else
        rc = decode_object(s, obj, vals, arena, why, whylen);
    json_decref(obj);
    return rc;
}

int jr_decode(const avsc_schema *s, const char *line, size_t len, sh_value *vals,
              str_arena *arena, char *why, size_t whylen)
{
    /* json_scan.c accepts exactly what jansson accepts, with the same values,
     * in one pass; a line it refuses or is unsure of goes to jansson, for the
     * verdict and the reason (rare: bad lines, escaped keys, ...) */
    if (js_decode(s, line, len, vals, arena) == JS_OK)
        return JR_OK;
    return jr_decode_jansson(s, line, len, vals, arena, why, whylen);
}
