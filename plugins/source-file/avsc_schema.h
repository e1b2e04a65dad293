/* avsc_schema.h - the subset of Avro schemas (.avsc) the file source reads:
 * one record of primitive fields, each optionally a union with "null". */
#ifndef FILE_AVSC_SCHEMA_H
#define FILE_AVSC_SCHEMA_H
#include "streamhost/plugin.h"

#include <stddef.h>

typedef struct avsc_field {
    char *name;
    size_t name_len;  /* strlen(name) */
    int plain_name;   /* no byte of it needs escaping in JSON (no '"', '\\' or
                         control byte): a key can be matched byte for byte */
    uint32_t type;    /* SH_INT, SH_DOUBLE, SH_STRING or SH_BOOL */
    int int32;        /* Avro "int": values must fit 32 bits */
    int nullable;     /* a union with "null" */
    int has_default;  /* "default" given: used when the key is absent */
    sh_value def;     /* the default (strings owned by the schema) */
} avsc_field;

typedef struct avsc_schema {
    avsc_field *fields;
    sh_field *sh_fields; /* same order; names point into fields */
    uint32_t n;
} avsc_schema;

/* Loads `path`.  Returns 0, or -1 with a one-line reason in err (naming the
 * file, and the line or field at fault). */
int avsc_load(const char *path, avsc_schema *out, char *err, size_t errlen);
void avsc_free(avsc_schema *s);
/* Position of the field called `name`, or -1. */
int avsc_find(const avsc_schema *s, const char *name);
#endif
