/* avro_codec.h - Avro values <-> records, with the three framings of the
 * clickstream topic: Confluent Schema Registry (0x00 + 4-byte schema id),
 * AWS Glue Schema Registry (0x03, compression byte, 16-byte schema version
 * UUID, optionally zlib-deflated body) and bare Avro binary. */
#ifndef SH_AVRO_CODEC_H
#define SH_AVRO_CODEC_H
#include "arena.h"
#include "streamhost/plugin.h"
#include "streamhost/record_json.h"

typedef enum { FRAMING_AUTO, FRAMING_CONFLUENT, FRAMING_GLUE, FRAMING_BARE } framing_t;

typedef struct avro_codec avro_codec;

/* Loads an .avsc record schema (the reader's schema).  `stream` names the
 * sh_schema.  NULL with a message naming the file on failure (unsupported
 * field types included).  Fields: string, long, int, double, float, boolean,
 * enum (its symbol, as a string), or a union of null and one of them;
 * defaults and aliases are kept for writer -> reader resolution. */
avro_codec *avro_codec_new(const char *avsc_path, const char *stream, char *err, size_t errlen);
/* The same from schema text; `what` names it in messages (a file, "schema id 7"). */
avro_codec *avro_codec_new_json(const char *json, size_t len, const char *what, const char *stream, char *err,
                                size_t errlen);
void avro_codec_free(avro_codec *c);
const sh_schema *avro_codec_schema(const avro_codec *c);
int framing_parse(const char *s, framing_t *out);

/* Accept only these Confluent schema ids / Glue schema version UUIDs (none
 * set: any).  UUIDs in canonical text form. */
void avro_codec_allow_ids(avro_codec *c, const int64_t *ids, size_t n);
int avro_codec_allow_uuids(avro_codec *c, const char *const *uuids, size_t n, char *err, size_t errlen);

/* Decodes one message into values[schema->nfields]; strings are copied into
 * `a`.  Returns 0, or -1 with reason "kind: detail" (kind is one of
 * empty_value, short_message, bad_magic, unknown_schema_id,
 * unknown_schema_version, bad_compression, bad_zlib, bad_avro, bad_utf8). */
int avro_codec_decode(avro_codec *c, framing_t framing, const void *buf, size_t len, sh_value *values,
                      arena *a, char *reason, size_t rlen);

/* Encodes a record (fields matched by name, resolved once per schema) with
 * the given framing into `out` (cleared first).  Returns 0 or -1 with a
 * reason.  glue_zlib: deflate the body (Glue framing only).  Hand-written
 * (see avro_codec.c); every write is preceded by a reservation of its size. */
int avro_codec_encode(avro_codec *c, framing_t framing, int32_t schema_id, const unsigned char uuid[16],
                      int glue_zlib, const sh_record *r, sh_buf *out, char *err, size_t errlen);
/* The same through avro-c's generic values (the encoder before the
 * hand-written one): the reference that tests compare avro_codec_encode
 * with, byte for byte.  Not for the hot path. */
int avro_codec_encode_reference(avro_codec *c, framing_t framing, int32_t schema_id, const unsigned char uuid[16],
                                int glue_zlib, const sh_record *r, sh_buf *out, char *err, size_t errlen);

/* A decoding plan from one writer schema to the codec's reader schema, per
 * the Avro specification's schema resolution: fields matched by name (or a
 * reader field's aliases), writer fields the reader lacks skipped, reader
 * fields the writer lacks filled from their defaults, promotions int ->
 * long -> float -> double and bytes -> string, unions resolved per branch,
 * enums by symbol.  Built once per writer schema; the decoder then runs the
 * plan with every length checked against the bytes left.  NULL with the
 * reason (one line, no kind prefix) when the schemas cannot be resolved, or
 * the writer's text is not an Avro record schema.  A plan holds on to its
 * codec: free plans first. */
typedef struct avro_plan avro_plan;
avro_plan *avro_plan_new(avro_codec *reader, const char *writer_json, size_t len, char *err, size_t errlen);
void avro_plan_free(avro_plan *p);
/* The plan for the reader's own schema (owned by the codec). */
const avro_plan *avro_codec_self_plan(const avro_codec *c);

/* A message's framing, told apart (FRAMING_AUTO) or checked, and its body
 * (Glue zlib bodies inflated into the codec's scratch buffer).  The allowed
 * ids / UUIDs are checked.  0, or -1 with a reason as avro_codec_decode. */
typedef struct {
    framing_t framing;
    int32_t id;              /* confluent */
    unsigned char uuid[16];  /* glue */
    const unsigned char *body;
    size_t blen;
} avro_frame;
int avro_codec_frame(avro_codec *c, framing_t framing, const void *buf, size_t len, avro_frame *f, char *reason,
                     size_t rlen);
/* Decodes a body written with plan's writer schema into the reader's
 * values[schema->nfields].  0, or -1 with "kind: detail" (bad_avro,
 * bad_utf8, or incompatible_schema for a value the reader cannot take: a
 * null for a non-null field, an enum symbol the reader lacks). */
int avro_plan_decode(const avro_plan *p, const unsigned char *body, size_t blen, sh_value *values, arena *a,
                     char *reason, size_t rlen);

/* UTF-8 validity (hand-written: it runs for every string of every message). */
int utf8_valid(const unsigned char *s, size_t n);
/* Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"; 0 ok. */
int uuid_parse(const char *s, unsigned char out[16]);
#endif
