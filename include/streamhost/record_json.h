/*
 * streamhost/record_json.h - render records as JSON documents.
 *
 * Header-only helpers for sink plugins that write JSON (the file sink, the
 * OpenSearch bulk sink, third-party sinks): a growable byte buffer and a
 * writer for one record's fields as a JSON object, in schema order.
 *
 * Why hand-written instead of jansson: this runs once per output document on
 * the hot path; building a jansson tree per record costs several mallocs per
 * field, while appending to a reused buffer costs none.
 */
#ifndef STREAMHOST_RECORD_JSON_H
#define STREAMHOST_RECORD_JSON_H

#include "streamhost/plugin.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A growable byte buffer.  Zero-initialise; free with sh_buf_free. */
typedef struct sh_buf {
    char *data;
    size_t len, cap;
    int oom; /**< set when an allocation failed; content then truncated */
} sh_buf;

/** Make room for `extra` more bytes; returns 0, or -1 (and sets oom). */
static inline int sh_buf_reserve(sh_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = (char *)realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

/** Append `n` bytes. */
static inline void sh_buf_add(sh_buf *b, const void *p, size_t n)
{
    if (sh_buf_reserve(b, n) == 0) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
    }
}

/** Append a NUL-terminated string. */
static inline void sh_buf_puts(sh_buf *b, const char *s)
{
    sh_buf_add(b, s, strlen(s));
}

/** Append one character. */
static inline void sh_buf_putc(sh_buf *b, char c)
{
    sh_buf_add(b, &c, 1);
}

/** Append a decimal integer. */
static inline void sh_buf_int(sh_buf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    sh_buf_add(b, tmp, (size_t)n);
}

/** Release the buffer's memory. */
static inline void sh_buf_free(sh_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/** Append `s` as a JSON string literal (quotes included), escaping quotes,
 *  backslashes and control characters.  Bytes >= 0x80 pass through (input
 *  strings are UTF-8). */
static inline void sh_json_str(sh_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (sh_buf_reserve(b, n + 2) != 0)
        return;
    b->data[b->len++] = '"';
    size_t run = 0; /* start of the pending run of plain bytes */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sh_buf_add(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t en = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            en = 6;
        }
        sh_buf_add(b, esc, en);
    }
    sh_buf_add(b, s + run, n - run);
    sh_buf_putc(b, '"');
}

/** Append one value as JSON. */
static inline void sh_json_value(sh_buf *b, const sh_value *v)
{
    char tmp[32];
    switch (v->type) {
    case SH_INT: sh_buf_int(b, v->u.i); break;
    case SH_DOUBLE:
        if (isfinite(v->u.d)) {
            int n = snprintf(tmp, sizeof tmp, "%.17g", v->u.d);
            sh_buf_add(b, tmp, (size_t)n);
        } else {
            sh_buf_puts(b, "null"); /* JSON has no NaN/Infinity */
        }
        break;
    case SH_STRING: sh_json_str(b, v->u.s.ptr, v->u.s.len); break;
    case SH_BOOL: sh_buf_puts(b, v->u.b ? "true" : "false"); break;
    case SH_STRLIST:
        sh_buf_putc(b, '[');
        for (uint32_t i = 0; i < v->u.l.n; i++) {
            if (i)
                sh_buf_putc(b, ',');
            sh_json_str(b, v->u.l.items[i].ptr, v->u.l.items[i].len);
        }
        sh_buf_putc(b, ']');
        break;
    default: sh_buf_puts(b, "null"); break;
    }
}

/** Append the record's fields as one JSON object, in schema order:
 *  {"userId":1001,"deptList":["laptops"],...}. */
static inline void sh_json_record(sh_buf *b, const sh_record *r)
{
    const sh_schema *s = r->schema;
    sh_buf_putc(b, '{');
    for (uint32_t i = 0; i < s->nfields; i++) {
        if (i)
            sh_buf_putc(b, ',');
        sh_json_str(b, s->fields[i].name, strlen(s->fields[i].name));
        sh_buf_putc(b, ':');
        sh_json_value(b, &r->values[i]);
    }
    sh_buf_putc(b, '}');
}

#ifdef __cplusplus
}
#endif
#endif /* STREAMHOST_RECORD_JSON_H */
