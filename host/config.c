/* config.c - reads INI files, keeping where every value came from, merges
 * several files into one config, and applies ${VAR} / ${VAR:-default}
 * substitution to every value of the result.
 *
 * The syntax, one construct per line (README "Configuration"):
 *   - a blank line, or a comment: first non-blank character ';' or '#';
 *   - `[TITLE]`: a section; blanks around TITLE are ignored; a comment may
 *     follow;
 *   - `KEY = VALUE`: blanks around KEY and VALUE are ignored.
 *   Leading blanks (indentation) mean nothing, and a value never continues on
 *   the next line.  In an unquoted VALUE, a ';' or '#' that follows a blank
 *   or a tab starts a comment; anywhere else it is part of the value
 *   (`a;b`, `x#1`).  A VALUE that starts with '"' ends at the next '"': inside,
 *   ';' and '#' are plain characters and \" and \\ stand for " and \; only
 *   blanks or a comment may follow it.  Substitution applies afterwards, so a
 *   variable's value is never cut or unquoted.
 *   Every line causes at most one error, and a broken line does not make the
 *   lines after it wrong: an unclosed `[sink.out` still opens [sink.out].
 *
 * Several files (docs/configuration.md): each is parsed on its own (its
 * duplicates are its own mistakes), then merged into the files before it:
 * a new section is added; a section of the same title has its keys
 * overridden one by one; a component section whose `plugin` changes is
 * replaced whole (only its `inputs`, the wiring, stay unless the file sets
 * them), so no key of the old plugin reaches the new one; `plugin = none`
 * removes the section.  Substitution runs once on the merged result, so a
 * `${VAR}` in a value that a later file replaced (an OpenSearch url in the
 * base when dev writes to a file) needs no variable.
 *
 * Positions: a key's or section's `line` is its line number in the files
 * concatenated (config.h), so the rest of the host passes one int around and
 * config_error() still names FILE:LINE.
 *
 * Hand-written rather than with inih (DESIGN.md's pick), because inih's
 * fixed rules were the problem: an indented line continued the previous
 * value (so an indented key became "duplicate key"), keys after a bad
 * section header were filed under the section before it, lines were capped
 * at 200 bytes and names silently cut at 50, and every " ;" cut a value with
 * no way to write one.  The grammar is small enough to own.
 *
 * Titles, component names and keys are found through hash tables, so a file
 * of N repeated sections costs O(N) time and N-1 error lines. */
#include "config.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char *sec_kind_name(sec_kind k)
{
    switch (k) {
    case SEC_HOST: return "streamhost";
    case SEC_KAFKA: return "kafka";
    case SEC_SOURCE: return "source";
    case SEC_TRANSFORM: return "transform";
    case SEC_SINK: return "sink";
    default: return "?";
    }
}

/* --- positions ------------------------------------------------------------- */

static size_t file_index(const sh_config *c, int pos)
{
    size_t lo = 0, hi = c->nfiles; /* the last i with starts[i] < pos */
    if (!c->nfiles)
        return 0;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (c->starts[mid] < pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

const char *config_file_of(const sh_config *c, int pos)
{
    return c->nfiles ? c->files[file_index(c, pos)] : c->file;
}

int config_line_of(const sh_config *c, int pos)
{
    if (!c->nfiles || pos <= 0)
        return pos < 0 ? 0 : pos;
    return pos - c->starts[file_index(c, pos)];
}

const char *config_where(const sh_config *c, int pos, char *buf, size_t len)
{
    snprintf(buf, len, "%s:%d", config_file_of(c, pos), config_line_of(c, pos));
    return buf;
}

int config_located(const sh_config *c, const char *msg)
{
    for (size_t i = 0; i < c->nfiles; i++) {
        size_t fl = strlen(c->files[i]);
        if (strncmp(msg, c->files[i], fl) == 0 && msg[fl] == ':' && isdigit((unsigned char)msg[fl + 1]))
            return 1;
    }
    return 0;
}

const char *config_label(const sh_config *c, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < c->nfiles && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " + " : "", c->files[i]);
    if (!c->nfiles)
        snprintf(buf, len, "%s", c->file);
    return buf;
}

/* --- errors ---------------------------------------------------------------- */

static void push_error(sh_config *c, const char *raw, int pos)
{
    size_t n = strlen(raw);
    char *e = malloc(n * 4 + 1); /* worst case: every byte as \xHH */
    if (!e)
        return;
    sh_log_escape(e, n * 4 + 1, raw);
    if (c->nerrors == c->caperrors) {
        size_t cap = c->caperrors ? c->caperrors * 2 : 16;
        char **a = realloc(c->errors, cap * sizeof(char *));
        if (!a) {
            free(e);
            return;
        }
        c->errors = a;
        int *p = realloc(c->errpos, cap * sizeof(int));
        if (!p) {
            free(e);
            return;
        }
        c->errpos = p;
        c->caperrors = cap;
    }
    c->errpos[c->nerrors] = pos;
    c->errors[c->nerrors++] = e;
}

void config_error(sh_config *c, int line, const char *fmt, ...)
{
    char msg[1024], where[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *file = config_file_of(c, line);
    snprintf(where, sizeof where, ":%d: ", config_line_of(c, line));
    size_t n = strlen(file) + strlen(where) + strlen(msg) + 1;
    char *raw = malloc(n);
    if (!raw)
        return;
    snprintf(raw, n, "%s%s%s", file, where, msg);
    push_error(c, raw, line);
    free(raw);
}

void config_error_text(sh_config *c, const char *text)
{
    push_error(c, text, INT_MAX);
}

/* --- ${VAR} substitution ----------------------------------------------------- */

/* Is `word` (length n) one of the words of `name`, between '.', '_', '-' or
 * the ends, case-insensitively? */
static int has_word(const char *name, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = name; *p; p++) {
        if (strncasecmp(p, word, n) != 0)
            continue;
        int before = p == name || strchr("._-", p[-1]);
        int after = p[n] == '\0' || strchr("._-", p[n]);
        if (before && after)
            return 1;
    }
    return 0;
}

int config_name_secret(const char *name)
{
    static const char *const parts[] = {"password", "passwd", "secret", "token", "credential", NULL};
    char low[256];
    size_t n = strlen(name);
    if (n >= sizeof low)
        n = sizeof low - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    low[n] = '\0';
    for (size_t i = 0; parts[i]; i++)
        if (strstr(low, parts[i]))
            return 1;
    return has_word(low, "key") || has_word(low, "apikey") || has_word(low, "pass");
}

static int config_contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

/* A key whose value is a secret itself (not the name of a variable or a
 * file holding one): password, token, secret, credential, user.info. */
static int literal_secret_key(const char *key)
{
    static const char *const parts[] = {"password", "passwd", "secret", "token", "credential", "user.info", NULL};
    static const char *const not_values[] = {"_env", ".env", "_file", ".file", ".location", "_path", ".path", NULL};
    size_t n = strlen(key);
    for (size_t i = 0; not_values[i]; i++) {
        size_t l = strlen(not_values[i]);
        if (n >= l && strcmp(key + n - l, not_values[i]) == 0)
            return 0;
    }
    for (size_t i = 0; parts[i]; i++)
        if (config_contains_nocase(key, parts[i]))
            return 1;
    return 0;
}

int config_warn_exposed_secrets(const sh_config *c)
{
    int warned = 0;
    for (size_t i = 0; i < c->nsecs; i++) {
        const cfg_section *sec = &c->secs[i];
        for (size_t k = 0; k < sec->nkv; k++) {
            const cfg_kv *kv = &sec->kvs[k];
            if (!literal_secret_key(kv->key) || !kv->raw || !*kv->raw || strstr(kv->raw, "${"))
                continue;
            const char *file = config_file_of(c, kv->line);
            struct stat st;
            if (!file || stat(file, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & (S_IRGRP | S_IROTH)))
                continue;
            char where[4200];
            config_where(c, kv->line, where, sizeof where);
            LOG_WARN("%s: %s holds a literal secret and %s is readable by others (mode %03o); take it from the "
                     "environment (%s = ${VARIABLE}) or chmod 600 %s",
                     where, kv->key, file, (unsigned)(st.st_mode & 0777), kv->key, file);
            warned++;
        }
    }
    return warned;
}

char *config_substitute_key(const char *key, const char *in, int *from_secret, char *err, size_t errlen)
{
    size_t cap = strlen(in) + 64, len = 0;
    char *out = malloc(cap);
    int secret = 0;
    if (!out) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
#define PUT(p, n)                                                              \
    do {                                                                       \
        size_t n_ = (n);                                                       \
        while (len + n_ + 1 > cap) {                                           \
            char *bigger_ = realloc(out, cap *= 2);                            \
            if (!bigger_) {                                                    \
                free(out);                                                     \
                snprintf(err, errlen, "out of memory");                        \
                return NULL;                                                   \
            }                                                                  \
            out = bigger_;                                                     \
        }                                                                      \
        memcpy(out + len, (p), n_);                                            \
        len += n_;                                                             \
    } while (0)
    for (const char *p = in; *p;) {
        if (p[0] == '$' && p[1] == '$') { /* "$$" is a literal "$" */
            PUT("$", 1);
            p += 2;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            PUT(p, 1);
            p++;
            continue;
        }
        const char *close = strchr(p + 2, '}');
        if (!close) {
            snprintf(err, errlen, "unterminated '${' in value (write '$$' for a literal '$')");
            free(out);
            return NULL;
        }
        char name[256];
        const char *body = p + 2;
        const char *dflt = NULL;
        size_t nlen = (size_t)(close - body);
        const char *sep = strstr(body, ":-");
        if (sep && sep < close) {
            nlen = (size_t)(sep - body);
            dflt = sep + 2;
        }
        if (nlen == 0 || nlen >= sizeof name) {
            snprintf(err, errlen, "bad variable reference '%.*s'", (int)(close - p + 1), p);
            free(out);
            return NULL;
        }
        memcpy(name, body, nlen);
        name[nlen] = '\0';
        for (size_t i = 0; i < nlen; i++) {
            char ch = name[i];
            if (!(ch == '_' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (i > 0 && ch >= '0' && ch <= '9'))) {
                snprintf(err, errlen, "bad variable name '%s' in '${...}'", name);
                free(out);
                return NULL;
            }
        }
        const char *val = getenv(name);
        if (val && *val == '\0' && dflt)
            val = NULL; /* ${VAR:-d}: empty counts as unset, as in the shell */
        if (val) {
            PUT(val, strlen(val));
            secret |= config_name_secret(name) || (key && config_name_secret(key));
        } else if (dflt)
            PUT(dflt, (size_t)(close - dflt));
        else {
            snprintf(err, errlen,
                     "variable ${%s} is not set and has no default (export %s=..., or write ${%s:-default})",
                     name, name, name);
            free(out);
            return NULL;
        }
        p = close + 1;
    }
    out[len] = '\0';
#undef PUT
    if (from_secret)
        *from_secret = secret;
    return out;
}

char *config_substitute(const char *in, char *err, size_t errlen)
{
    return config_substitute_key(NULL, in, NULL, err, errlen);
}

/* --- hash index: titles, component names, keys per section ------------------ */

#define TAG_TITLE UINT32_MAX       /* string: section title -> section index */
#define TAG_NAME (UINT32_MAX - 1)  /* component NAME -> section index */
                                   /* tag = section index: key -> its line */
struct cfg_entry {
    const char *s; /* owned by the section or kv */
    uint32_t tag;
    int val;
};

struct cfg_index {
    struct cfg_entry *tab;
    size_t cap, n; /* cap: a power of two */
};

static uint64_t hash_of(uint32_t tag, const char *s)
{
    uint64_t h = 1469598103934665603ULL ^ tag;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static struct cfg_entry *index_slot(struct cfg_index *x, uint32_t tag, const char *s)
{
    size_t mask = x->cap - 1;
    for (size_t i = (size_t)hash_of(tag, s) & mask;; i = (i + 1) & mask) {
        struct cfg_entry *e = &x->tab[i];
        if (!e->s || (e->tag == tag && strcmp(e->s, s) == 0))
            return e;
    }
}

static const struct cfg_entry *index_find(const struct cfg_index *x, uint32_t tag, const char *s)
{
    if (!x || !x->cap)
        return NULL;
    struct cfg_entry *e = index_slot((struct cfg_index *)x, tag, s);
    return e->s ? e : NULL;
}

/* Adds (tag, s) -> val unless present. */
static void index_add(struct cfg_index *x, uint32_t tag, const char *s, int val)
{
    if ((x->n + 1) * 2 > x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        struct cfg_entry *tab = calloc(cap, sizeof *tab);
        if (!tab) {
            if (x->n + 1 >= x->cap)
                return; /* no room left: the entry is not indexed */
            goto insert;
        }
        struct cfg_index bigger = {tab, cap, 0};
        for (size_t i = 0; i < x->cap; i++)
            if (x->tab[i].s) {
                *index_slot(&bigger, x->tab[i].tag, x->tab[i].s) = x->tab[i];
                bigger.n++;
            }
        free(x->tab);
        *x = bigger;
    }
insert:;
    struct cfg_entry *e = index_slot(x, tag, s);
    if (!e->s) {
        *e = (struct cfg_entry){s, tag, val};
        x->n++;
    }
}

static int is_component(const cfg_section *s)
{
    return s->kind == SEC_SOURCE || s->kind == SEC_TRANSFORM || s->kind == SEC_SINK;
}

/* Rebuilds the index of titles and names (a merge moves and frees sections
 * and keys; the keys' entries serve only the parse of one file). */
static void reindex(sh_config *c)
{
    free(c->index->tab);
    memset(c->index, 0, sizeof *c->index);
    for (size_t i = 0; i < c->nsecs; i++) {
        cfg_section *s = &c->secs[i];
        if (s->dup)
            continue;
        index_add(c->index, TAG_TITLE, s->title, (int)i);
        if (s->name && s->kind != SEC_UNKNOWN)
            index_add(c->index, TAG_NAME, s->name, (int)i);
    }
}

/* --- the line parser ---------------------------------------------------------- */

struct reader {
    sh_config *c;
    int line;
    long cur; /* index of the current section, -1 before the first */
};

static char *skip_blanks(char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

/* Cuts an inline comment: ';' or '#' right after a blank or tab.  The byte
 * before `s` must be readable (it is, inside a line). */
static void cut_comment(char *s)
{
    for (char *q = s; *q; q++)
        if ((*q == ';' || *q == '#') && (q[-1] == ' ' || q[-1] == '\t')) {
            *q = '\0';
            break;
        }
    trim_end(s);
}

/* `quiet`: the header line already has its error; report nothing more. */
static void add_section(struct reader *r, const char *title, int quiet)
{
    sh_config *c = r->c;
    int line = r->line;
    if (c->nsecs == c->capsecs) {
        size_t cap = c->capsecs ? c->capsecs * 2 : 8;
        cfg_section *a = realloc(c->secs, cap * sizeof(cfg_section));
        if (!a)
            return;
        c->secs = a;
        c->capsecs = cap;
    }
    size_t idx = c->nsecs++;
    cfg_section *s = &c->secs[idx];
    memset(s, 0, sizeof *s);
    r->cur = (long)idx;
    s->title = strdup(title);
    s->line = line;
    const char *dot = strchr(title, '.');
    size_t plen = dot ? (size_t)(dot - title) : strlen(title);
    s->kind = SEC_UNKNOWN;
    if (!dot && strcmp(title, "kafka") == 0)
        s->kind = SEC_KAFKA;
    else if (!dot && strcmp(title, "streamhost") == 0)
        s->kind = SEC_HOST;
    else if (dot && plen == 6 && strncmp(title, "source", 6) == 0)
        s->kind = SEC_SOURCE;
    else if (dot && plen == 9 && strncmp(title, "transform", 9) == 0)
        s->kind = SEC_TRANSFORM;
    else if (dot && plen == 4 && strncmp(title, "sink", 4) == 0)
        s->kind = SEC_SINK;
    if (dot)
        s->name = strdup(dot + 1);
    if (s->kind == SEC_UNKNOWN) {
        if (!quiet)
            config_error(c, line,
                         "unknown section [%s] (expected [streamhost], [kafka], [source.NAME], [transform.NAME] or [sink.NAME])",
                         title);
    } else if (s->name) {
        int ok = s->name[0] != '\0';
        for (const char *p = s->name; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
                ok = 0;
        if (!ok && !quiet)
            config_error(c, line, "bad component name '%s' in [%s] (use letters, digits, '_' and '-')",
                         s->name, title);
    }
    /* duplicates: the same title, or the same NAME under two kinds; each
     * repeat is reported once, against the first section */
    const struct cfg_entry *first = index_find(c->index, TAG_TITLE, s->title);
    int named = s->name && s->kind != SEC_UNKNOWN;
    const struct cfg_entry *same_name = named ? index_find(c->index, TAG_NAME, s->name) : NULL;
    if (first) {
        s->dup = 1;
        config_error(c, line, "duplicate section [%s] (first at line %d)", title, c->secs[first->val].line);
    } else if (same_name) {
        s->dup = 1;
        const cfg_section *o = &c->secs[same_name->val];
        config_error(c, line, "duplicate component name '%s' (also [%s] at line %d)", s->name, o->title,
                     o->line);
    }
    index_add(c->index, TAG_TITLE, s->title, (int)idx);
    if (named)
        index_add(c->index, TAG_NAME, s->name, (int)idx);
}

/* `s` points at '['. */
static void parse_header(struct reader *r, char *s)
{
    char *title = s + 1;
    char *close = strchr(title, ']');
    if (!close) {
        cut_comment(title);
        char *t = skip_blanks(title);
        config_error(r->c, r->line, "unclosed '[' in a section header: write [%s]", t);
        add_section(r, t, 1);
        return;
    }
    *close = '\0';
    char *rest = skip_blanks(close + 1);
    int bad = *rest && *rest != ';' && *rest != '#';
    trim_end(title);
    title = skip_blanks(title);
    if (bad)
        config_error(r->c, r->line, "unexpected text after [%s] (only a comment may follow a section header)",
                     title);
    add_section(r, title, bad);
}

/* Unquotes or cuts the value in place; -1 when it is malformed (reported). */
static int parse_value(struct reader *r, char *v, char **out)
{
    v = skip_blanks(v);
    if (*v != '"') {
        cut_comment(v);
        *out = v;
        return 0;
    }
    char *w = v, *q = v + 1;
    for (;; q++) {
        if (!*q) {
            config_error(r->c, r->line, "the quoted value has no closing '\"' (write \\\" for a quote inside it)");
            return -1;
        }
        if (*q == '"')
            break;
        if (*q == '\\' && (q[1] == '"' || q[1] == '\\'))
            q++;
        *w++ = *q;
    }
    *w = '\0';
    char *rest = skip_blanks(q + 1);
    if (*rest && *rest != ';' && *rest != '#') {
        config_error(r->c, r->line, "unexpected text after the closing '\"' (only a comment may follow)");
        return -1;
    }
    *out = v;
    return 0;
}

static int grow_kvs(cfg_kv **arr, size_t *n, size_t *cap)
{
    if (*n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 8;
    cfg_kv *a = realloc(*arr, c * sizeof(cfg_kv));
    if (!a)
        return -1;
    *arr = a;
    *cap = c;
    return 0;
}

static void add_key(struct reader *r, const char *key, const char *raw)
{
    sh_config *c = r->c;
    if (r->cur < 0) {
        config_error(c, r->line, "key '%s' outside of any section (put it under a [section] header)", key);
        return;
    }
    cfg_section *s = &c->secs[r->cur];
    const struct cfg_entry *first = index_find(c->index, (uint32_t)r->cur, key);
    if (first) {
        config_error(c, r->line, "duplicate key '%s' in [%s] (first at line %d)", key, s->title, first->val);
        return;
    }
    /* substituted once the files are merged (resolve) */
    char *k = strdup(key), *v = strdup(raw);
    if (!k || !v || grow_kvs(&s->kvs, &s->nkv, &s->capkv) != 0) {
        free(k);
        free(v);
        return;
    }
    s->kvs[s->nkv++] = (cfg_kv){.key = k, .raw = v, .line = r->line};
    index_add(c->index, (uint32_t)r->cur, k, r->line);
}

static void parse_line(struct reader *r, char *line)
{
    char *s = skip_blanks(line);
    int indented = s != line;
    if (!*s || *s == ';' || *s == '#')
        return;
    if (*s == '[') {
        parse_header(r, s);
        return;
    }
    char *eq = strchr(s, '=');
    if (!eq) {
        if (indented)
            config_error(r->c, r->line,
                         "syntax error: expected 'key = value' (an indented line does not continue the value above; write each value on one line)");
        else
            config_error(r->c, r->line, "syntax error (expected 'key = value', '[section]' or a ';' or '#' comment)");
        return;
    }
    *eq = '\0';
    trim_end(s);
    if (!*s) {
        config_error(r->c, r->line, "syntax error: no key before '='");
        return;
    }
    char *value;
    if (parse_value(r, eq + 1, &value) != 0)
        return;
    add_key(r, s, value);
}

/* Parses `text` (NUL-terminated, modified in place) into a config of one
 * file whose values are not substituted yet. */
static sh_config *parse(const char *name, char *text)
{
    sh_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->file = strdup(name);
    c->files = calloc(1, sizeof(char *));
    c->starts = calloc(2, sizeof(int));
    c->index = calloc(1, sizeof *c->index);
    if (!c->file || !c->files || !c->starts || !c->index || !(c->files[0] = strdup(name))) {
        config_free(c);
        return NULL;
    }
    c->nfiles = 1;
    c->starts[1] = INT_MAX; /* until the line count is known */
    struct reader r = {.c = c, .cur = -1};
    char *p = text;
    if (strncmp(p, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
        p += 3;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        r.line++;
        size_t n = strlen(p);
        if (n && p[n - 1] == '\r')
            p[n - 1] = '\0';
        parse_line(&r, p);
        if (!nl)
            break;
        p = nl + 1;
    }
    c->starts[1] = r.line + 1; /* one spare position after the last line */
    return c;
}

/* --- merging files ------------------------------------------------------------- */

static void free_kv(cfg_kv *kv)
{
    free(kv->key);
    free(kv->value);
    free(kv->raw);
    memset(kv, 0, sizeof *kv);
}

static void free_kvs(cfg_kv *kvs, size_t n)
{
    for (size_t k = 0; k < n; k++)
        free_kv(&kvs[k]);
    free(kvs);
}

static void free_section(cfg_section *s)
{
    free_kvs(s->kvs, s->nkv);
    free_kvs(s->failed, s->nfailed);
    free(s->title);
    free(s->name);
    free(s->replaced_plugin);
    memset(s, 0, sizeof *s);
}

/* The value of a `plugin` key for comparisons before substitution has run:
 * substituted, or as written when that fails (it is reported later). */
static char *plugin_of(const cfg_kv *kv)
{
    char err[256];
    if (!kv)
        return NULL;
    char *v = config_substitute(kv->raw, err, sizeof err);
    return v ? v : strdup(kv->raw);
}

static int push_kv(cfg_section *s, cfg_kv *kv)
{
    if (grow_kvs(&s->kvs, &s->nkv, &s->capkv) != 0) {
        free_kv(kv);
        return -1;
    }
    s->kvs[s->nkv++] = *kv;
    memset(kv, 0, sizeof *kv);
    return 0;
}

static void push_note(sh_config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void push_note(sh_config *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **a = realloc(c->notes, (c->nnotes + 1) * sizeof(char *));
    if (!a)
        return;
    c->notes = a;
    if ((c->notes[c->nnotes] = strdup(buf)))
        c->nnotes++;
}

/* Merges `o` (one file, parsed, not substituted) into `b`; frees `o`. */
static void merge(sh_config *b, sh_config *o)
{
    int off = b->starts[b->nfiles];
    reindex(b); /* drops the entries of keys, which the merge frees */
    /* its files and positions */
    char **files = realloc(b->files, (b->nfiles + o->nfiles) * sizeof(char *));
    int *starts = files ? realloc(b->starts, (b->nfiles + o->nfiles + 1) * sizeof(int)) : NULL;
    if (files)
        b->files = files;
    if (!files || !starts) {
        config_free(o);
        return;
    }
    b->starts = starts;
    for (size_t i = 0; i < o->nfiles; i++) {
        b->files[b->nfiles + i] = o->files[i];
        o->files[i] = NULL;
        b->starts[b->nfiles + i + 1] = off + o->starts[i + 1];
    }
    b->nfiles += o->nfiles;
    /* its parse errors, as they are */
    for (size_t i = 0; i < o->nerrors; i++)
        push_error(b, o->errors[i], o->errpos[i] == INT_MAX ? INT_MAX : o->errpos[i] + off);
    char where[512], where2[512];
    size_t nbase = b->nsecs;
    char *gone = calloc(nbase ? nbase : 1, 1); /* base sections removed by plugin = none */
    if (!gone) {
        config_free(o);
        return;
    }
    for (size_t i = 0; i < o->nsecs; i++) {
        cfg_section *os = &o->secs[i];
        if (os->dup)
            continue; /* reported in its own file */
        os->line += off;
        for (size_t k = 0; k < os->nkv; k++)
            os->kvs[k].line += off;
        const struct cfg_entry *t = index_find(b->index, TAG_TITLE, os->title);
        cfg_section *bs = t && !(t->val < (int)nbase && gone[t->val]) ? &b->secs[t->val] : NULL;
        cfg_kv *opk = is_component(os) ? config_kv(os, "plugin") : NULL;
        char *oplugin = plugin_of(opk);
        if (oplugin && strcmp(oplugin, "none") == 0) {
            if (!bs)
                config_error(b, opk->line,
                             "plugin = none removes [%s] of an earlier file, but no earlier file defines [%s] (check the title)",
                             os->title, os->title);
            else {
                push_note(b, "[%s] of %s removed by %s (plugin = none)", bs->title,
                          config_where(b, bs->line, where, sizeof where),
                          config_where(b, opk->line, where2, sizeof where2));
                gone[t->val] = 1;
            }
            for (size_t k = 0; k < os->nkv; k++)
                if (&os->kvs[k] != opk) {
                    config_error(b, os->kvs[k].line,
                                 "'%s' in [%s]: a section with plugin = none is removed, so its other keys do nothing (delete them)",
                                 os->kvs[k].key, os->title);
                    break;
                }
            free(oplugin);
            continue;
        }
        if (!bs) {
            const struct cfg_entry *nm =
                os->name && os->kind != SEC_UNKNOWN ? index_find(b->index, TAG_NAME, os->name) : NULL;
            if (nm && !(nm->val < (int)nbase && gone[nm->val])) {
                const cfg_section *other = &b->secs[nm->val];
                config_error(b, os->line,
                             "duplicate component name '%s' (also [%s] at %s): a later file changes a component under its own title, [%s]",
                             os->name, other->title, config_where(b, other->line, where, sizeof where), other->title);
                free(oplugin);
                continue;
            }
            if (b->nsecs == b->capsecs) {
                size_t cap = b->capsecs ? b->capsecs * 2 : 8;
                cfg_section *a = realloc(b->secs, cap * sizeof(cfg_section));
                if (!a) {
                    free(oplugin);
                    continue;
                }
                b->secs = a;
                b->capsecs = cap;
            }
            size_t idx = b->nsecs++;
            b->secs[idx] = *os;
            memset(os, 0, sizeof *os);
            cfg_section *ns = &b->secs[idx];
            index_add(b->index, TAG_TITLE, ns->title, (int)idx);
            if (ns->name && ns->kind != SEC_UNKNOWN)
                index_add(b->index, TAG_NAME, ns->name, (int)idx);
            free(oplugin);
            continue;
        }
        cfg_kv *bpk = is_component(bs) ? config_kv(bs, "plugin") : NULL;
        char *bplugin = plugin_of(bpk);
        if (opk && (!bplugin || strcmp(bplugin, oplugin) != 0)) {
            /* another plugin: the section is replaced whole, but its wiring */
            cfg_kv *inputs = config_kv(os, "inputs") ? NULL : config_kv(bs, "inputs");
            cfg_kv keep = {0};
            if (inputs) {
                keep = *inputs;
                memset(inputs, 0, sizeof *inputs);
            }
            free_kvs(bs->kvs, bs->nkv);
            bs->kvs = NULL;
            bs->nkv = bs->capkv = 0;
            free(bs->replaced_plugin);
            bs->replaced_plugin = bplugin ? bplugin : strdup("(none)");
            bplugin = NULL;
            bs->replaced_line = bs->line;
            bs->line = os->line;
            for (size_t k = 0; k < os->nkv; k++) {
                int is_plugin = &os->kvs[k] == opk;
                push_kv(bs, &os->kvs[k]);
                if (is_plugin && keep.key)
                    push_kv(bs, &keep); /* plugin, then inputs, as usually written */
            }
            if (keep.key)
                push_kv(bs, &keep);
        } else {
            for (size_t k = 0; k < os->nkv; k++) {
                cfg_kv *bk = config_kv(bs, os->kvs[k].key);
                if (bk) {
                    free_kv(bk);
                    *bk = os->kvs[k];
                    memset(&os->kvs[k], 0, sizeof os->kvs[k]);
                } else
                    push_kv(bs, &os->kvs[k]);
            }
        }
        free(bplugin);
        free(oplugin);
    }
    /* drop what was removed, then index the result afresh */
    size_t w = 0;
    for (size_t i = 0; i < b->nsecs; i++) {
        if (i < nbase && gone[i]) {
            free_section(&b->secs[i]);
            continue;
        }
        if (w != i)
            b->secs[w] = b->secs[i];
        w++;
    }
    b->nsecs = w;
    free(gone);
    reindex(b);
    config_free(o);
}

/* Substitutes every value of the merged config; a failure is one error on
 * its line and the key then reads as unset (config_failed).  Then orders the
 * errors by position, file by file. */
static int by_position(const void *x, const void *y)
{
    const int *a = x, *b = y; /* {position, index} */
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

static void resolve(sh_config *c)
{
    for (size_t i = 0; i < c->nsecs; i++) {
        cfg_section *s = &c->secs[i];
        size_t w = 0;
        for (size_t k = 0; k < s->nkv; k++) {
            cfg_kv kv = s->kvs[k];
            char err[512];
            if (!kv.value)
                kv.value = config_substitute_key(kv.key, kv.raw, &kv.secret, err, sizeof err);
            if (kv.value) {
                s->kvs[w++] = kv;
                continue;
            }
            config_error(c, kv.line, "%s: %s", kv.key, err);
            if (grow_kvs(&s->failed, &s->nfailed, &s->capfailed) != 0) {
                free_kv(&kv);
                continue;
            }
            s->failed[s->nfailed++] = kv;
        }
        s->nkv = w;
    }
    int (*order)[2] = c->nerrors ? malloc(c->nerrors * sizeof *order) : NULL;
    char **sorted = c->nerrors ? malloc(c->nerrors * sizeof(char *)) : NULL;
    if (order && sorted) {
        for (size_t i = 0; i < c->nerrors; i++) {
            order[i][0] = c->errpos[i];
            order[i][1] = (int)i;
        }
        qsort(order, c->nerrors, sizeof *order, by_position);
        for (size_t i = 0; i < c->nerrors; i++)
            sorted[i] = c->errors[order[i][1]];
        for (size_t i = 0; i < c->nerrors; i++) {
            c->errors[i] = sorted[i];
            c->errpos[i] = order[i][0];
        }
    }
    free(order);
    free(sorted);
}

/* --- loading --------------------------------------------------------------------- */

static void load_error(char *err, size_t errlen, const char *file, const char *why)
{
    char raw[1024];
    snprintf(raw, sizeof raw, "%s: cannot read config: %s", file, why);
    sh_log_escape(err, errlen, raw);
}

/* Reads and parses one file (not substituted yet); NULL with err if it
 * cannot be read. */
static sh_config *load_one(const char *file, char *err, size_t errlen)
{
    char why[256];
    struct stat st;
    if (stat(file, &st) != 0) {
        load_error(err, errlen, file, strerror(errno));
        return NULL;
    }
    /* A pipe is fine (`check <(envsubst < x.ini)`); a device is not: it may
     * never end (/dev/zero) or wait for a terminal. */
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        load_error(err, errlen, file,
                   S_ISDIR(st.st_mode)    ? "it is a directory, not a file"
                   : S_ISCHR(st.st_mode)  ? "it is a character device, not a file"
                   : S_ISBLK(st.st_mode)  ? "it is a block device, not a file"
                   : S_ISSOCK(st.st_mode) ? "it is a socket, not a file"
                                          : "it is not a regular file");
        return NULL;
    }
    snprintf(why, sizeof why, "larger than %d bytes (1 MiB), the most a config may have; is it the right file?",
             SH_CONFIG_MAX_BYTES);
    if (S_ISREG(st.st_mode) && st.st_size > SH_CONFIG_MAX_BYTES) {
        load_error(err, errlen, file, why);
        return NULL;
    }
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        load_error(err, errlen, file, strerror(errno));
        return NULL;
    }
    char *buf = malloc(SH_CONFIG_MAX_BYTES + 2);
    if (!buf) {
        close(fd);
        load_error(err, errlen, file, "out of memory");
        return NULL;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, SH_CONFIG_MAX_BYTES + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            load_error(err, errlen, file, strerror(errno));
            close(fd);
            free(buf);
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > SH_CONFIG_MAX_BYTES) {
            load_error(err, errlen, file, why);
            close(fd);
            free(buf);
            return NULL;
        }
    }
    close(fd);
    buf[len] = '\0';
    const char *nul = memchr(buf, '\0', len);
    if (nul) {
        int line = 1;
        for (const char *p = buf; p < nul; p++)
            line += *p == '\n';
        snprintf(why, sizeof why, "line %d holds a NUL byte; a config is text (is it the right file?)", line);
        load_error(err, errlen, file, why);
        free(buf);
        return NULL;
    }
    sh_config *c = parse(file, buf);
    free(buf);
    if (!c)
        load_error(err, errlen, file, "out of memory");
    return c;
}

sh_config *config_load_files(const char *const *files, size_t n, char *err, size_t errlen)
{
    sh_config *c = NULL;
    if (n == 0 || n > SH_CONFIG_MAX_FILES) {
        snprintf(err, errlen, "%zu config files: give 1 to %d", n, SH_CONFIG_MAX_FILES);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        sh_config *one = load_one(files[i], err, errlen);
        if (!one) {
            config_free(c);
            return NULL;
        }
        if (!c)
            c = one;
        else
            merge(c, one);
    }
    resolve(c);
    return c;
}

sh_config *config_load(const char *file, char *err, size_t errlen)
{
    return config_load_files(&file, 1, err, errlen);
}

sh_config *config_load_strings(const char *const *names, const char *const *texts, size_t n)
{
    sh_config *c = NULL;
    for (size_t i = 0; i < n; i++) {
        char *copy = strdup(texts[i]);
        sh_config *one = copy ? parse(names[i], copy) : NULL;
        free(copy);
        if (!one) {
            config_free(c);
            return NULL;
        }
        if (!c)
            c = one;
        else
            merge(c, one);
    }
    if (c)
        resolve(c);
    return c;
}

sh_config *config_load_string(const char *name, const char *text)
{
    return config_load_strings(&name, &text, 1);
}

void config_free(sh_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nsecs; i++)
        free_section(&c->secs[i]);
    for (size_t i = 0; i < c->nerrors; i++)
        free(c->errors[i]);
    for (size_t i = 0; i < c->nfiles; i++)
        free(c->files[i]);
    for (size_t i = 0; i < c->nnotes; i++)
        free(c->notes[i]);
    if (c->index)
        free(c->index->tab);
    free(c->index);
    free(c->errors);
    free(c->errpos);
    free(c->notes);
    free(c->files);
    free(c->starts);
    free(c->secs);
    free(c->file);
    free(c);
}

/* --- lookups ------------------------------------------------------------------- */

cfg_section *config_section(sh_config *c, sec_kind kind, const char *name)
{
    if (name) {
        cfg_section *s = config_component(c, name);
        return s && s->kind == kind ? s : NULL;
    }
    for (size_t i = 0; i < c->nsecs; i++) {
        cfg_section *s = &c->secs[i];
        if (s->kind == kind && !s->name)
            return s;
    }
    return NULL;
}

cfg_section *config_component(sh_config *c, const char *name)
{
    const struct cfg_entry *e = index_find(c->index, TAG_NAME, name);
    return e ? &c->secs[e->val] : NULL;
}

cfg_kv *config_kv(cfg_section *s, const char *key)
{
    for (size_t i = 0; s && i < s->nkv; i++)
        if (s->kvs[i].key && strcmp(s->kvs[i].key, key) == 0)
            return &s->kvs[i];
    return NULL;
}

const char *config_get(cfg_section *s, const char *key)
{
    cfg_kv *kv = config_kv(s, key);
    return kv ? kv->value : NULL;
}

cfg_kv *config_failed(cfg_section *s, const char *key)
{
    for (size_t i = 0; s && i < s->nfailed; i++)
        if (strcmp(s->failed[i].key, key) == 0)
            return &s->failed[i];
    return NULL;
}

/* --- printing the merged config -------------------------------------------------- */

/* Writes `v` so that the reader gives back `v`: `$` doubled (substitution
 * runs again on reading) unless `literal`, quoted when blanks at an end, a
 * leading quote, ; or #, or a ` ;`/` #` would otherwise change it. */
static void put_value(FILE *out, const char *v, int literal)
{
    size_t n = strlen(v);
    int quote = n && (v[0] == ' ' || v[0] == '\t' || v[0] == '"' || v[0] == ';' || v[0] == '#' ||
                      v[n - 1] == ' ' || v[n - 1] == '\t'); /* after "= ", a ; or # would start a comment */
    for (size_t i = 1; i < n && !quote; i++)
        quote = (v[i] == ';' || v[i] == '#') && (v[i - 1] == ' ' || v[i - 1] == '\t');
    if (quote)
        fputc('"', out);
    for (const char *p = v; *p; p++) {
        if (quote && (*p == '"' || *p == '\\'))
            fputc('\\', out);
        if (*p == '$' && !literal)
            fputc('$', out);
        fputc(*p, out);
    }
    if (quote)
        fputc('"', out);
}

static int has_line_break(const char *v)
{
    return strchr(v, '\n') || strchr(v, '\r');
}

/* Pads to the comment column after `used` characters. */
static void pad(FILE *out, long used)
{
    for (long i = used; i < 40; i++)
        fputc(' ', out);
    fputs("  ", out);
}

/* A file name in a comment: escaped, so that it stays on one line. */
static const char *esc(const char *s, char *buf, size_t len)
{
    sh_log_escape(buf, len, s);
    return buf;
}

/* [streamhost] plugin.path is relative to the file that sets it: written
 * relative to where the merged config is read (the working directory). */
static void put_plugin_path(FILE *out, const sh_config *c, const cfg_kv *kv)
{
    const char *file = config_file_of(c, kv->line);
    const char *slash = strrchr(file, '/');
    int dirlen = slash ? (int)(slash - file) : 0;
    char *copy = strdup(kv->value);
    if (!copy)
        return;
    int first = 1;
    for (char *item = strtok(copy, ","); item; item = strtok(NULL, ",")) {
        while (*item == ' ' || *item == '\t')
            item++;
        if (!*item)
            continue;
        char buf[4096];
        if (dirlen && item[0] != '/')
            snprintf(buf, sizeof buf, "%.*s/%s", dirlen, file, item);
        else
            snprintf(buf, sizeof buf, "%s", item);
        if (!first)
            fputs(", ", out);
        put_value(out, buf, 0);
        first = 0;
    }
    free(copy);
}

int config_print(const sh_config *c, FILE *out)
{
    char where[1100], buf[1024], label[4096];
    fprintf(out, "; streamhost config %s\n", esc(config_label(c, label, sizeof label), buf, sizeof buf));
    fprintf(out, "; the merged config: values after ${VAR} substitution (a literal $ written $$), each\n"
                 "; with the FILE:LINE it came from; values from the environment under secret-looking\n"
                 "; names read <redacted>.  Reads back as the same config: streamhost check FILE\n");
    for (size_t i = 0; i < c->nsecs; i++) {
        const cfg_section *s = &c->secs[i];
        if (s->dup)
            continue;
        long n = fprintf(out, "\n[%s]", s->title);
        pad(out, n - 1);
        fprintf(out, "; from %s", esc(config_where(c, s->line, where, sizeof where), buf, sizeof buf));
        if (s->replaced_plugin)
            fprintf(out, ", replacing plugin = %s of %s whole", s->replaced_plugin,
                    esc(config_where(c, s->replaced_line, where, sizeof where), buf, sizeof buf));
        fputc('\n', out);
        for (size_t k = 0; k < s->nkv; k++) {
            const cfg_kv *kv = &s->kvs[k];
            char *line = NULL;
            size_t len = 0;
            FILE *m = open_memstream(&line, &len);
            if (!m)
                return -1;
            fprintf(m, "%s = ", kv->key);
            const char *note = "";
            if (kv->secret) {
                fputs("<redacted>", m);
                note = " (from the environment, not shown)";
            } else if (has_line_break(kv->value)) {
                put_value(m, kv->raw, 1); /* as written: a value cannot hold a line break */
                note = " (as written: its value holds a line break)";
            } else if (s->kind == SEC_HOST && strcmp(kv->key, "plugin.path") == 0)
                put_plugin_path(m, c, kv);
            else
                put_value(m, kv->value, 0);
            fclose(m);
            fputs(line ? line : "", out);
            pad(out, (long)len);
            free(line);
            fprintf(out, "; from %s%s\n", esc(config_where(c, kv->line, where, sizeof where), buf, sizeof buf),
                    note);
        }
    }
    for (size_t i = 0; i < c->nnotes; i++)
        fprintf(out, "\n; %s", esc(c->notes[i], buf, sizeof buf));
    if (c->nnotes)
        fputc('\n', out);
    fflush(out);
    return ferror(out) ? -1 : 0;
}
