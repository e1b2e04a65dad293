/* config.h - the INI file: sections, keys, line numbers, ${VAR} substitution,
 * and the list of problems found, each as "FILE:LINE: message".  The syntax
 * rules are at the top of config.c. */
#ifndef SH_CONFIG_H
#define SH_CONFIG_H
#include <stddef.h>

/* A config file larger than this is refused (and /dev/zero ends). */
#define SH_CONFIG_MAX_BYTES (1024 * 1024)

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
    int dup;        /* repeats an earlier title or component name (reported) */
    cfg_kv *kvs;
    size_t nkv, capkv;
    /* Keys whose ${VAR} substitution failed (reported): not in kvs, so they
     * read as unset, but nothing else may complain about them. */
    cfg_kv *failed;
    size_t nfailed, capfailed;
} cfg_section;

struct cfg_index; /* hash tables: titles, component names, keys (config.c) */

typedef struct sh_config {
    char *file;
    cfg_section *secs;
    size_t nsecs, capsecs;
    char **errors; /* "FILE:LINE: message" */
    size_t nerrors, caperrors;
    struct cfg_index *index;
} sh_config;

/* Parses `file` (a regular file or a pipe, at most SH_CONFIG_MAX_BYTES).
 * Returns NULL only when it cannot be read (one line in err); otherwise a
 * config whose `errors` lists every problem found so far. */
sh_config *config_load(const char *file, char *err, size_t errlen);
/* Same from a string (tests); `name` is used in messages. */
sh_config *config_load_string(const char *name, const char *text);
void config_free(sh_config *c);

/* Adds "FILE:LINE: fmt" to c->errors (control characters escaped). */
void config_error(sh_config *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds `text` as it is (it already starts with "FILE:LINE: "). */
void config_error_text(sh_config *c, const char *text);

cfg_section *config_section(sh_config *c, sec_kind kind, const char *name);
/* The first section defining component NAME ([source.NAME], ...), or NULL. */
cfg_section *config_component(sh_config *c, const char *name);
cfg_kv *config_kv(cfg_section *s, const char *key);
const char *config_get(cfg_section *s, const char *key); /* NULL if unset */
/* The entry of `key` if its ${VAR} substitution failed, else NULL. */
cfg_kv *config_failed(cfg_section *s, const char *key);

/* ${VAR} / ${VAR:-default} substitution of one value; returns malloc'd text,
 * or NULL with a message in err. */
char *config_substitute(const char *in, char *err, size_t errlen);

const char *sec_kind_name(sec_kind k);
#endif
