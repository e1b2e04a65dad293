/* json_record.h - one JSON line into a record's values, by the schema. */
#ifndef FILE_JSON_RECORD_H
#define FILE_JSON_RECORD_H
#include "avsc_schema.h"
#include "str_arena.h"

enum { JR_OK = 0, JR_MALFORMED = -1, JR_NOMEM = -2 };

/* Decodes `line` (one JSON object) into vals[0..s->n), copying strings into
 * `arena`.  JR_MALFORMED with a short reason in `why` ("missing field
 * 'userid'"). */
int jr_decode(const avsc_schema *s, const char *line, size_t len, sh_value *vals,
              str_arena *arena, char *why, size_t whylen);
/* The same through jansson alone (jr_decode's slow path; the reference the
 * tests and the fuzzer hold the fast path to). */
int jr_decode_jansson(const avsc_schema *s, const char *line, size_t len, sh_value *vals,
                      str_arena *arena, char *why, size_t whylen);
#endif
