/* config.h - the INI file: sections, keys, line numbers, ${VAR} substitution,
 * and the list of problems found, each as "FILE:LINE: message". */
#ifndef SH_CONFIG_H
#define SH_CONFIG_H
#include <stddef.h>

typedef struct cfg_kv {
    char *key;
    char *value; /* after substitution */
    int line;
    int used;    /* claimed by a schema during validation */
} cfg_kv;

typedef enum { SEC_HOST, SEC_KAFKA, SEC_SOURCE, SEC_TRANSFORM, SEC_SINK, SEC_UNKNOWN } sec_kind;

typedef struct cfg_section {
    char *title;    /* as written: "source.clicks" */
    sec_kind kind;
    char *name;     /* "clicks" (NULL for [kafka]/[streamhost]) */
    int line;
    cfg_kv *kvs;
    size_t nkv, capkv;
} cfg_section;

typedef struct sh_config {
    char *file;
    cfg_section *secs;
    size_t nsecs, capsecs;
    char **errors; /* "FILE:LINE: message" */
    size_t nerrors, caperrors;
} sh_config;

/* Parses `file`.  Returns NULL only when the file cannot be read (message in
 * err); otherwise a config whose `errors` lists every problem found so far. */
sh_config *config_load(const char *file, char *err, size_t errlen);
/* Same from a string (tests); `name` is used in messages. */
sh_config *config_load_string(const char *name, const char *text);
void config_free(sh_config *c);

/* Adds "FILE:LINE: fmt" to c->errors. */
void config_error(sh_config *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

cfg_section *config_section(sh_config *c, sec_kind kind, const char *name);
cfg_kv *config_kv(cfg_section *s, const char *key);
const char *config_get(cfg_section *s, const char *key); /* NULL if unset */

/* ${VAR} / ${VAR:-default} substitution of one value; returns malloc'd text,
 * or NULL with a message in err.  `getenv_fn` may be NULL (use getenv). */
char *config_substitute(const char *in, char *err, size_t errlen);

const char *sec_kind_name(sec_kind k);
#endif
