/* libFuzzer target: the file source's JSON-lines record decoder, and a
 * differential check of its fast path (json_scan.c) against jansson's.
 *
 * For every input and two schemas (conf/ClickEvent.avsc, and
 * tests/fuzz/jsonl_types.avsc with every type, mostly optional): when the
 * scanner accepts, jansson must accept with the same values (strings byte for
 * byte, doubles bit for bit); when the scanner rejects, jansson must reject;
 * when it is unsure, nothing is asserted.  jr_decode (fast path, then
 * jansson) must give jansson's verdict and reason. */
#include "json_record.h"
#include "json_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load(const char *path, avsc_schema *s)
{
    char why[512];
    if (avsc_load(path, s, why, sizeof why) != 0) {
        fprintf(stderr, "%s (run from the repository root)\n", why);
        abort();
    }
}

static int same_value(const sh_value *a, const sh_value *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case SH_NULL: return 1;
    case SH_INT: return a->u.i == b->u.i;
    case SH_DOUBLE: return memcmp(&a->u.d, &b->u.d, sizeof a->u.d) == 0;
    case SH_BOOL: return a->u.b == b->u.b;
    case SH_STRING:
        return a->u.s.len == b->u.s.len && memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
    default: return 0;
    }
}

static void differ(const char *what, const avsc_schema *s, const uint8_t *data, size_t size)
{
    fprintf(stderr, "json_scan and jansson differ (%s, schema with %u fields) on %zu bytes: '%.*s'\n",
            what, s->n, size, (int)size, (const char *)data);
    abort();
}

static void check(const avsc_schema *s, const uint8_t *data, size_t size)
{
    sh_value fast[16], slow[16], both[16];
    char why[512], why2[512];
    str_arena a;
    str_arena_init(&a, 4096);
    const char *line = (const char *)data;
    int f = js_decode(s, line, size, fast, &a);
    int j = jr_decode_jansson(s, line, size, slow, &a, why, sizeof why);
    if (f == JS_OK && j != JR_OK)
        differ("the scanner accepts, jansson rejects", s, data, size);
    if (f == JS_INVALID && j == JR_OK)
        differ("the scanner rejects, jansson accepts", s, data, size);
    if (f == JS_OK)
        for (uint32_t i = 0; i < s->n; i++)
            if (!same_value(&fast[i], &slow[i])) {
                fprintf(stderr, "field '%s': ", s->fields[i].name);
                differ("different values", s, data, size);
            }
    int r = jr_decode(s, line, size, both, &a, why2, sizeof why2);
    if (r != j || (j != JR_OK && strcmp(why, why2) != 0))
        differ("jr_decode is not jansson's verdict", s, data, size);
    str_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static avsc_schema click, types;
    static int loaded;
    if (!loaded) {
        load("conf/ClickEvent.avsc", &click);
        load("tests/fuzz/jsonl_types.avsc", &types);
        if (click.n > 16 || types.n > 16)
            abort();
        loaded = 1;
    }
    check(&click, data, size);
    check(&types, data, size);
    return 0;
}
