/* json_scan.c - see json_scan.h.
 *
 * HAND-WRITTEN JSON SCANNER, ON PURPOSE.  The project parses JSON with
 * jansson everywhere else; this file is the exception because it is the hot
 * path of a file replay: building a jansson tree per line (mallocs, a hash
 * table, strtoll, frees) cost about 2.6 us an event, some 90% of the replay
 * thread in perf.  Here one bounds-checked pass walks the object, matches
 * keys against the schema's field names, decodes the declared fields in
 * place (strings straight into the batch arena) and skips the rest.
 *
 * The contract, checked by tests/fuzz/fuzz_jsonl.c against jansson on
 * arbitrary input and by plugins/source-file/tests/test_json_scan.c:
 *   - JS_OK only for a line that jr_decode_jansson() accepts, with the very
 *     same values (strings byte for byte, doubles bit for bit);
 *   - JS_INVALID only for a line it rejects;
 *   - JS_UNSURE for what is left to it: an escaped key (jansson compares keys
 *     decoded), more than MAX_KEYS unknown keys in one object, nesting deeper
 *     than MAX_DEPTH, a decimal number longer than NUM_MAX, a strtod that
 *     stops short (a locale whose decimal point is not '.'), a NUL byte
 *     right after a number or literal (see token_end), an arena that cannot
 *     grow.
 * jansson's rules reproduced here (jansson 2.14, JSON_REJECT_DUPLICATES |
 * JSON_ALLOW_NUL | JSON_DECODE_ANY): whitespace is space, tab, CR, LF; only
 * whitespace may follow the value; strings refuse raw bytes below 0x20, bad
 * escapes, unpaired surrogates (\uD800-\uDBFF must be followed by
 * \uDC00-\uDFFF; a lone \uDC00-\uDFFF is an error) and invalid UTF-8
 * (overlong forms, surrogates, above U+10FFFF); \u0000 is allowed; numbers
 * follow the JSON grammar (no leading zeros, digits after '.' and 'e'),
 * integers must fit int64 (strtoll's ERANGE), reals must not overflow to
 * infinity (underflow is fine); duplicate keys are refused at every depth. */
#include "json_scan.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define UNSET UINT32_MAX /* vals[i].type of a field not met yet */
#define MAX_DEPTH 64     /* jansson allows 2048; deeper than this is left to it */
#define MAX_KEYS 32      /* unknown keys remembered per object, for duplicates */
#define NUM_MAX 64       /* longest real number handed to strtod from a copy */

typedef const unsigned char *ptr;

/* What a byte is inside a string. */
enum { C_PLAIN = 0, C_QUOTE, C_ESC, C_CTRL, C_HIGH };
static const unsigned char str_class[256] = {
    [0x00 ... 0x1f] = C_CTRL, ['"'] = C_QUOTE, ['\\'] = C_ESC, [0x80 ... 0xff] = C_HIGH,
};

static inline int is_digit(unsigned c)
{
    return c - '0' < 10u;
}

static inline ptr skip_ws(ptr p, ptr e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static inline uint64_t load8(ptr p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* The high bit set in (at least) the lowest byte of v that is not C_PLAIN,
 * and none when every byte is plain (the borrows of the subtractions only
 * reach bytes above a special one). */
static inline uint64_t special8(uint64_t v)
{
    uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');
    return (((q - ONES) & ~q) | ((b - ONES) & ~b) | (v - ONES * 0x20) | v) & HIGHS;
}

/* The first byte in [p, e) that is not C_PLAIN, or e. */
static inline ptr skip_plain(ptr p, ptr e)
{
    while (e - p >= 8) {
        uint64_t t = special8(load8(p));
        if (t) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + (__builtin_ctzll(t) >> 3);
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < e && str_class[*p] == C_PLAIN)
        p++;
    return p;
}

/* a[0..n) == b[0..n), for short keys (no call into libc) */
static inline int same(ptr a, const char *b, size_t n)
{
    for (; n >= 8; n -= 8, a += 8, b += 8)
        if (load8(a) != load8((ptr)b))
            return 0;
    for (; n; n--)
        if (*a++ != (unsigned char)*b++)
            return 0;
    return 1;
}

/* The four hex digits at p as a number, or -1. */
static int hex4(ptr p, ptr e)
{
    if (e - p < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], lc = c | 0x20;
        int d;
        if (is_digit(c))
            d = (int)(c - '0');
        else if (lc >= 'a' && lc <= 'f')
            d = (int)(lc - 'a' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), or 0: no
 * continuation byte first, no overlong form, no surrogate, nothing above
 * U+10FFFF (jansson's utf8_check_first/utf8_check_full). */
static int utf8_len(ptr p, ptr e)
{
    unsigned c = p[0];
    ptrdiff_t room = e - p;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return room >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (room < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))
            return 0;
        return 3;
    }
    if (c < 0xF5) {
        if (room < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

/* *pp is just after an opening quote.  On success *pp is just after the
 * closing one and *escaped says whether the contents hold a backslash. */
static int scan_string(ptr *pp, ptr e, int *escaped)
{
    ptr p = *pp;
    int esc = 0;
    for (;;) {
        p = skip_plain(p, e);
        if (p >= e)
            return JS_INVALID; /* no closing quote */
        switch (str_class[*p]) {
        case C_QUOTE:
            *pp = p + 1;
            *escaped = esc;
            return JS_OK;
        case C_CTRL:
            return JS_INVALID;
        case C_HIGH: {
            int n = utf8_len(p, e);
            if (!n)
                return JS_INVALID;
            p += n;
            break;
        }
        default: /* C_ESC */
            esc = 1;
            if (e - p < 2)
                return JS_INVALID;
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                break;
            case 'u': {
                int v = hex4(p + 2, e);
                if (v < 0 || (v >= 0xDC00 && v <= 0xDFFF))
                    return JS_INVALID;
                p += 6;
                if (v >= 0xD800 && v <= 0xDBFF) { /* must be a pair */
                    if (e - p < 2 || p[0] != '\\' || p[1] != 'u')
                        return JS_INVALID;
                    int lo = hex4(p + 2, e);
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return JS_INVALID;
                    p += 6;
                }
                break;
            }
            default:
                return JS_INVALID;
            }
        }
    }
}

/* Decodes the contents [p, e) of a string scan_string accepted into out
 * (room for e - p bytes: no escape grows); returns the length. */
static size_t unescape(ptr p, ptr e, char *out)
{
    char *o = out;
    while (p < e) {
        if (*p != '\\') {
            *o++ = (char)*p++;
            continue;
        }
        unsigned c = p[1];
        p += 2;
        switch (c) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            uint32_t v = (uint32_t)hex4(p, e);
            p += 4;
            if (v >= 0xD800 && v <= 0xDBFF) {
                v = 0x10000 + ((v - 0xD800) << 10) + ((uint32_t)hex4(p + 2, e) - 0xDC00);
                p += 6;
            }
            if (v < 0x80) {
                *o++ = (char)v;
            } else if (v < 0x800) {
                *o++ = (char)(0xC0 | v >> 6);
                *o++ = (char)(0x80 | (v & 0x3F));
            } else if (v < 0x10000) {
                *o++ = (char)(0xE0 | v >> 12);
                *o++ = (char)(0x80 | (v >> 6 & 0x3F));
                *o++ = (char)(0x80 | (v & 0x3F));
            } else {
                *o++ = (char)(0xF0 | v >> 18);
                *o++ = (char)(0x80 | (v >> 12 & 0x3F));
                *o++ = (char)(0x80 | (v >> 6 & 0x3F));
                *o++ = (char)(0x80 | (v & 0x3F));
            }
            break;
        }
        default: /* '"', '\\', '/' */
            *o++ = (char)c;
        }
    }
    return (size_t)(o - out);
}

/* After a number or a literal, the byte jansson looked at to find its end:
 * jansson drops a NUL byte there (stream_unget leaves its one-character
 * buffer looking empty), so "1\0," reads as "1,".  Rare and odd: left to it. */
static inline int token_end(ptr p, ptr e)
{
    return p < e && *p == '\0' ? JS_UNSURE : JS_OK;
}

typedef struct num {
    int is_int;
    int64_t i;
    double d;
} num;

/* The number at *pp (the caller saw a '-' or a digit there). */
static int scan_number(ptr *pp, ptr e, num *n)
{
    ptr s = *pp, p = s;
    int neg = *p == '-';
    p += neg;
    ptr d = p;
    uint64_t u = 0; /* the first 19 digits: they cannot wrap */
    if (p < e && *p == '0')
        p++;
    else
        for (; p < e && is_digit(*p); p++)
            if (p - d < 19)
                u = u * 10 + (uint64_t)(*p - '0');
    if (p == d || (p < e && is_digit(*p)))
        return JS_INVALID; /* "-" alone, or a leading zero */
    if (p >= e || (*p != '.' && (*p | 0x20) != 'e')) {
        if (p - d > 19)
            return JS_INVALID; /* beyond int64: strtoll's ERANGE */
        if (u > (uint64_t)INT64_MAX + (uint64_t)neg)
            return JS_INVALID;
        n->is_int = 1;
        n->i = !neg ? (int64_t)u : u == 0 ? 0 : -(int64_t)(u - 1) - 1;
        *pp = p;
        return token_end(p, e);
    }
    if (*p == '.') {
        ptr f = ++p;
        while (p < e && is_digit(*p))
            p++;
        if (p == f)
            return JS_INVALID;
    }
    if (p < e && (*p | 0x20) == 'e') {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        ptr x = p;
        while (p < e && is_digit(*p))
            p++;
        if (p == x)
            return JS_INVALID;
    }
    size_t len = (size_t)(p - s);
    if (len >= NUM_MAX)
        return JS_UNSURE;
    char buf[NUM_MAX], *end;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + len)
        return JS_UNSURE;
    if ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE)
        return JS_INVALID; /* jansson: "real number overflow" */
    n->is_int = 0;
    n->d = v;
    *pp = p;
    return token_end(p, e);
}

static int literal(ptr *pp, ptr e, const char *word, size_t n)
{
    if ((size_t)(e - *pp) < n || memcmp(*pp, word, n) != 0)
        return JS_INVALID;
    *pp += n;
    return token_end(*pp, e);
}

/* A field's value at *pp, by its declared type; anything else is
 * JS_INVALID (jansson's path rejects the line, if not for a syntax error
 * then for the type). */
static int decode_field(const avsc_field *f, ptr *pp, ptr e, sh_value *v, str_arena *arena)
{
    ptr p = *pp;
    if (p >= e)
        return JS_INVALID;
    if (*p == 'n') {
        if (!f->nullable)
            return JS_INVALID; /* null, or not even that */
        *v = sh_v_null();
        return literal(pp, e, "null", 4);
    }
    switch (f->type) {
    case SH_INT:
    case SH_DOUBLE: {
        if (*p != '-' && !is_digit(*p))
            return JS_INVALID;
        num n;
        int rc = scan_number(pp, e, &n);
        if (rc != JS_OK)
            return rc;
        if (f->type == SH_DOUBLE) {
            v->type = SH_DOUBLE;
            v->u.d = n.is_int ? (double)n.i : n.d;
            return JS_OK;
        }
        if (!n.is_int || (f->int32 && (n.i < INT32_MIN || n.i > INT32_MAX)))
            return JS_INVALID;
        *v = sh_v_int(n.i);
        return JS_OK;
    }
    case SH_BOOL:
        v->type = SH_BOOL;
        v->u.b = *p == 't';
        return *p == 't' ? literal(pp, e, "true", 4)
               : *p == 'f' ? literal(pp, e, "false", 5)
                           : JS_INVALID;
    default: {
        if (*p != '"')
            return JS_INVALID;
        ptr start = p + 1;
        int esc;
        *pp = start;
        int rc = scan_string(pp, e, &esc);
        if (rc != JS_OK)
            return rc;
        size_t raw = (size_t)(*pp - 1 - start), len = raw;
        char *out = esc ? str_arena_alloc(arena, raw)
                        : str_arena_copy(arena, (const char *)start, raw);
        if (!out)
            return JS_UNSURE;
        if (esc)
            len = unescape(start, start + raw, out);
        *v = sh_v_str(out, len);
        return JS_OK;
    }
    }
}

typedef struct key_span {
    ptr p;
    size_t n;
} key_span;

/* Notes an unknown key of one object: JS_INVALID when it is there twice. */
static int remember_key(key_span *keys, size_t *nkeys, ptr k, size_t n)
{
    for (size_t i = 0; i < *nkeys; i++)
        if (keys[i].n == n && memcmp(keys[i].p, k, n) == 0)
            return JS_INVALID;
    if (*nkeys == MAX_KEYS)
        return JS_UNSURE;
    keys[(*nkeys)++] = (key_span){k, n};
    return JS_OK;
}

/* The declared field called k[0..n), trying `next` (keys tend to come in
 * schema order) before the others; -1 for an unknown key. */
static int find_field(const avsc_schema *s, ptr k, size_t n, uint32_t next)
{
    if (next < s->n && s->fields[next].name_len == n && same(k, s->fields[next].name, n))
        return (int)next;
    for (uint32_t i = 0; i < s->n; i++)
        if (s->fields[i].name_len == n && same(k, s->fields[i].name, n))
            return (int)i;
    return -1;
}

/* With p just after a key's opening quote: whether the key is the field
 * `next`, spelled byte for byte (then *pp is after its closing quote).  The
 * name holds no quote, backslash or control byte, so its quote must close
 * the string. */
static int is_next_key(const avsc_schema *s, uint32_t next, ptr *pp, ptr e)
{
    if (next >= s->n)
        return 0;
    const avsc_field *f = &s->fields[next];
    ptr p = *pp;
    if (!f->plain_name || (size_t)(e - p) <= f->name_len || p[f->name_len] != '"' ||
        !same(p, f->name, f->name_len))
        return 0;
    *pp = p + f->name_len + 1;
    return 1;
}

static int skip_value(ptr *pp, ptr e, int depth);

/* The members of an object, *pp just after its '{', up to and past its '}'.
 * With a schema (the record itself) the declared fields are decoded into
 * vals; every other value is checked and skipped. */
static int scan_members(ptr *pp, ptr e, int depth, const avsc_schema *s, sh_value *vals,
                        str_arena *arena)
{
    key_span keys[MAX_KEYS];
    size_t nkeys = 0;
    uint32_t next = 0;
    ptr p = skip_ws(*pp, e);
    if (p < e && *p == '}') {
        *pp = p + 1;
        return JS_OK;
    }
    for (;;) {
        if (p >= e || *p != '"')
            return JS_INVALID;
        ptr k = ++p;
        int f = -1, esc, rc;
        size_t kn = 0;
        if (s && is_next_key(s, next, &p, e)) {
            f = (int)next;
        } else {
            if ((rc = scan_string(&p, e, &esc)) != JS_OK)
                return rc;
            if (esc)
                return JS_UNSURE;
            kn = (size_t)(p - 1 - k);
            f = s ? find_field(s, k, kn, next) : -1;
        }
        p = skip_ws(p, e);
        if (p >= e || *p != ':')
            return JS_INVALID;
        p = skip_ws(p + 1, e);
        if (f >= 0) {
            if (vals[f].type != UNSET)
                return JS_INVALID; /* duplicate key */
            rc = decode_field(&s->fields[f], &p, e, &vals[f], arena);
            next = (uint32_t)f + 1;
        } else {
            rc = remember_key(keys, &nkeys, k, kn);
            if (rc == JS_OK)
                rc = skip_value(&p, e, depth);
        }
        if (rc != JS_OK)
            return rc;
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
        } else if (p < e && *p == '}') {
            *pp = p + 1;
            return JS_OK;
        } else {
            return JS_INVALID;
        }
    }
}

static int skip_elements(ptr *pp, ptr e, int depth)
{
    ptr p = skip_ws(*pp, e);
    if (p < e && *p == ']') {
        *pp = p + 1;
        return JS_OK;
    }
    for (;;) {
        int rc = skip_value(&p, e, depth);
        if (rc != JS_OK)
            return rc;
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
        } else if (p < e && *p == ']') {
            *pp = p + 1;
            return JS_OK;
        } else {
            return JS_INVALID;
        }
    }
}

/* Checks and skips any value at *pp, inside `depth` containers. */
static int skip_value(ptr *pp, ptr e, int depth)
{
    ptr p = *pp;
    if (p >= e)
        return JS_INVALID;
    int esc;
    num n;
    switch (*p) {
    case '"':
        *pp = p + 1;
        return scan_string(pp, e, &esc);
    case '{':
    case '[':
        if (depth >= MAX_DEPTH)
            return JS_UNSURE;
        *pp = p + 1;
        return *p == '{' ? scan_members(pp, e, depth + 1, NULL, NULL, NULL)
                         : skip_elements(pp, e, depth + 1);
    case 't': return literal(pp, e, "true", 4);
    case 'f': return literal(pp, e, "false", 5);
    case 'n': return literal(pp, e, "null", 4);
    default:
        if (*p != '-' && !is_digit(*p))
            return JS_INVALID;
        return scan_number(pp, e, &n);
    }
}

int js_decode(const avsc_schema *s, const char *line, size_t len, sh_value *vals,
              str_arena *arena)
{
    ptr p = (ptr)line, e = p + len;
    for (uint32_t i = 0; i < s->n; i++)
        vals[i].type = UNSET;
    p = skip_ws(p, e);
    if (p >= e || *p != '{')
        return JS_INVALID; /* not JSON, or not an object */
    p++;
    int rc = scan_members(&p, e, 1, s, vals, arena);
    if (rc != JS_OK)
        return rc;
    if (skip_ws(p, e) != e)
        return JS_INVALID; /* something after the object */
    for (uint32_t i = 0; i < s->n; i++) {
        const avsc_field *f = &s->fields[i];
        if (vals[i].type != UNSET)
            continue;
        if (f->has_default)
            vals[i] = f->def;
        else if (f->nullable)
            vals[i] = sh_v_null();
        else
            return JS_INVALID; /* missing field */
    }
    return JS_OK;
}
