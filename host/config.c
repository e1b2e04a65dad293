/* config.c - reads the INI file, keeping line numbers, and applies
 * ${VAR} / ${VAR:-default} substitution to every value.
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

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* --- errors ---------------------------------------------------------------- */

static void push_error(sh_config *c, const char *raw)
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
        c->caperrors = cap;
    }
    c->errors[c->nerrors++] = e;
}

void config_error(sh_config *c, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(c->file) + strlen(msg) + 32;
    char *raw = malloc(n);
    if (!raw)
        return;
    snprintf(raw, n, "%s:%d: %s", c->file, line, msg);
    push_error(c, raw);
    free(raw);
}

void config_error_text(sh_config *c, const char *text)
{
    push_error(c, text);
}

/* --- ${VAR} substitution ----------------------------------------------------- */

char *config_substitute(const char *in, char *err, size_t errlen)
{
    size_t cap = strlen(in) + 64, len = 0;
    char *out = malloc(cap);
#define PUT(p, n)                                                              \
    do {                                                                       \
        size_t n_ = (n);                                                       \
        while (len + n_ + 1 > cap)                                             \
            out = realloc(out, cap *= 2);                                      \
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
        if (val)
            PUT(val, strlen(val));
        else if (dflt)
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
    return out;
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
    char err[512];
    char *v = config_substitute(raw, err, sizeof err);
    char *k = strdup(key);
    if (!k) {
        free(v);
        return;
    }
    if (!v) { /* reported once here; the key then reads as unset */
        config_error(c, r->line, "%s: %s", key, err);
        if (grow_kvs(&s->failed, &s->nfailed, &s->capfailed) != 0) {
            free(k);
            return;
        }
        s->failed[s->nfailed++] = (cfg_kv){.key = k, .value = NULL, .line = r->line};
    } else {
        if (grow_kvs(&s->kvs, &s->nkv, &s->capkv) != 0) {
            free(k);
            free(v);
            return;
        }
        s->kvs[s->nkv++] = (cfg_kv){.key = k, .value = v, .line = r->line};
    }
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

/* Parses `text` (NUL-terminated, modified in place). */
static sh_config *parse(const char *name, char *text)
{
    sh_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->file = strdup(name);
    c->index = calloc(1, sizeof *c->index);
    if (!c->file || !c->index) {
        config_free(c);
        return NULL;
    }
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
    return c;
}

static void load_error(char *err, size_t errlen, const char *file, const char *why)
{
    char raw[1024];
    snprintf(raw, sizeof raw, "%s: cannot read config: %s", file, why);
    sh_log_escape(err, errlen, raw);
}

sh_config *config_load(const char *file, char *err, size_t errlen)
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

sh_config *config_load_string(const char *name, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return NULL;
    sh_config *c = parse(name, copy);
    free(copy);
    return c;
}

static void free_kvs(cfg_kv *kvs, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        free(kvs[k].key);
        free(kvs[k].value);
    }
    free(kvs);
}

void config_free(sh_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nsecs; i++) {
        cfg_section *s = &c->secs[i];
        free_kvs(s->kvs, s->nkv);
        free_kvs(s->failed, s->nfailed);
        free(s->title);
        free(s->name);
    }
    for (size_t i = 0; i < c->nerrors; i++)
        free(c->errors[i]);
    if (c->index)
        free(c->index->tab);
    free(c->index);
    free(c->errors);
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
        if (strcmp(s->kvs[i].key, key) == 0)
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
