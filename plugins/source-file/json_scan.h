/* json_scan.h - the fast path of jr_decode: one pass over a JSON line,
 * specialised on the record schema, with no tree and no allocation but the
 * batch arena's copies of strings. */
#ifndef FILE_JSON_SCAN_H
#define FILE_JSON_SCAN_H
#include "avsc_schema.h"
#include "str_arena.h"

enum {
    JS_OK = 0,      /* vals[0..s->n) hold the record, as jansson's path gives it */
    JS_INVALID = 1, /* the line is not valid JSON or does not match the schema:
                       jansson's path rejects it too (and says why) */
    JS_UNSURE = 2   /* something the scanner leaves to jansson (an escaped key,
                       a very long number, deep nesting, ...): no verdict */
};

/* Decodes `line` into vals[0..s->n) like jr_decode (same acceptance, same
 * values), copying strings into `arena`.  Never gives a reason: on
 * JS_INVALID or JS_UNSURE the caller asks jansson's path, whose verdict and
 * message are the ones reported.  vals is clobbered in every case. */
int js_decode(const avsc_schema *s, const char *line, size_t len, sh_value *vals,
              str_arena *arena);
#endif
