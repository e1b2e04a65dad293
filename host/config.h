/* config.h - the INI files: sections, keys, where each came from, ${VAR}
 * substitution, and the list of problems found, each as "FILE:LINE: message".
 * The syntax rules are at the top of config.c; docs/configuration.md has the
 * rules for several files (an overlay over a base). */
#ifndef SH_CONFIG_H
#define SH_CONFIG_H
#include <stddef.h>
#include <stdio.h>

/* A config file larger than this is refused (and /dev/zero ends). */
#define SH_CONFIG_MAX_BYTES (1024 * 1024)
/* The most files one config may be merged from. */
#define SH_CONFIG_MAX_FILES 64

/* Positions.  Every `line` below is a position: the line number in the
 * concatenation of the config's files, as if they were `cat`ed (each file
 * gets one spare line at its end).  With one file it is the line number.
 * config_error() and config_where() turn a position into "FILE:LINE". */

typedef struct cfg_kv {
    char *key;
    char *value; /* after substitution */
    char *raw;   /* as written (unquoted, comment cut), before substitution */
    int line;    /* position */
    int used;    /* claimed by a schema during validation */
    int secret;  /* the value came from the environment under a secret-looking name */
} cfg_kv;

typedef enum { SEC_HOST, SEC_KAFKA, SEC_SOURCE, SEC_TRANSFORM, SEC_SINK, SEC_UNKNOWN } sec_kind;

typedef struct cfg_section {
    char *title;    /* as written: "source.clicks" */
    sec_kind kind;
    char *name;     /* "clicks" (NULL for [kafka]/[streamhost]) */
    int line;       /* position of the header (of the file that replaced the section, if one did) */
    int dup;        /* repeats an earlier title or component name (reported) */
    cfg_kv *kvs;
    size_t nkv, capkv;
    /* Keys whose ${VAR} substitution failed (reported): not in kvs, so they
     * read as unset, but nothing else may complain about them. */
    cfg_kv *failed;
    size_t nfailed, capfailed;
    /* Replaced whole by a later file because its plugin changed: the earlier
     * header's position and plugin (for `streamhost config`); 0/NULL if not. */
    int replaced_line;
    char *replaced_plugin;
} cfg_section;

struct cfg_index; /* hash tables: titles, component names, keys (config.c) */

typedef struct sh_config {
    char *file;     /* the first file: messages about the config as a whole */
    char **files;   /* every file, in the order given (later ones win) */
    int *starts;    /* nfiles + 1 entries: positions of file i are starts[i]+1 .. starts[i+1] */
    size_t nfiles;
    cfg_section *secs;
    size_t nsecs, capsecs;
    char **errors; /* "FILE:LINE: message" */
    int *errpos;   /* position of each error (sorting at load) */
    size_t nerrors, caperrors;
    char **notes;  /* sections removed by `plugin = none`, for `streamhost config` */
    size_t nnotes;
    struct cfg_index *index;
} sh_config;

/* Parses `file` (a regular file or a pipe, at most SH_CONFIG_MAX_BYTES).
 * Returns NULL only when it cannot be read (one line in err); otherwise a
 * config whose `errors` lists every problem found so far. */
sh_config *config_load(const char *file, char *err, size_t errlen);
/* Several files, merged in order (docs/configuration.md): a later file adds
 * sections and overrides keys of earlier ones; a component section whose
 * `plugin` changes is replaced whole (its `inputs` stay unless it sets them);
 * `plugin = none` removes a section.  ${VAR} substitution applies to the
 * merged result, so a value a later file replaces is never expanded. */
sh_config *config_load_files(const char *const *files, size_t n, char *err, size_t errlen);
/* Same from strings (tests); `name` is used in messages. */
sh_config *config_load_string(const char *name, const char *text);
sh_config *config_load_strings(const char *const *names, const char *const *texts, size_t n);
void config_free(sh_config *c);

/* Adds "FILE:LINE: fmt" to c->errors for position `line` (control characters
 * escaped). */
void config_error(sh_config *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adds `text` as it is (it already starts with "FILE:LINE: "). */
void config_error_text(sh_config *c, const char *text);

/* The file and the line in it of a position; "FILE:LINE" into buf. */
const char *config_file_of(const sh_config *c, int pos);
int config_line_of(const sh_config *c, int pos);
const char *config_where(const sh_config *c, int pos, char *buf, size_t len);
/* True when `msg` starts with "FILE:LINE" for one of c's files. */
int config_located(const sh_config *c, const char *msg);
/* "a.ini + b.ini": the files, for messages about the whole config. */
const char *config_label(const sh_config *c, char *buf, size_t len);

cfg_section *config_section(sh_config *c, sec_kind kind, const char *name);
/* The first section defining component NAME ([source.NAME], ...), or NULL. */
cfg_section *config_component(sh_config *c, const char *name);
cfg_kv *config_kv(cfg_section *s, const char *key);
const char *config_get(cfg_section *s, const char *key); /* NULL if unset */
/* The entry of `key` if its ${VAR} substitution failed, else NULL. */
cfg_kv *config_failed(cfg_section *s, const char *key);

/* ${VAR} / ${VAR:-default} substitution of one value; returns malloc'd text,
 * or NULL with a message in err.  *from_secret (if not NULL) is set when a
 * variable taken from the environment, or `key`, looks secret. */
char *config_substitute(const char *in, char *err, size_t errlen);
char *config_substitute_key(const char *key, const char *in, int *from_secret, char *err, size_t errlen);
/* True when a key or variable name looks like it holds a secret: it contains
 * password, passwd, secret, token or credential, or the word key (between
 * '.', '_', '-' or the ends): AWS_SECRET_ACCESS_KEY, ssl.key.password. */
int config_name_secret(const char *name);
/* Logs a warning for each key that holds a literal secret (a password,
 * token, ...; not ${VAR}) in a file that group or others may read; returns
 * how many. */
int config_warn_exposed_secrets(const sh_config *c);

/* Writes the merged config as INI that reads back the same, each section
 * and key with a "; from FILE:LINE" comment; values from the environment
 * under secret-looking names as <redacted>.  0, or -1 on a write error. */
int config_print(const sh_config *c, FILE *out);

const char *sec_kind_name(sec_kind k);
#endif
