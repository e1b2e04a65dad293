/* config.c - reads the INI file with inih, keeping line numbers, and applies
 * ${VAR} / ${VAR:-default} substitution to every value. */
#include "config.h"

#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void config_error(sh_config *c, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->nerrors == c->caperrors) {
        c->caperrors = c->caperrors ? c->caperrors * 2 : 16;
        c->errors = realloc(c->errors, c->caperrors * sizeof(char *));
    }
    size_t n = strlen(c->file) + strlen(msg) + 32;
    char *e = malloc(n);
    snprintf(e, n, "%s:%d: %s", c->file, line, msg);
    c->errors[c->nerrors++] = e;
}

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

/* Reader state: counts lines so the handler knows where it is. */
struct reader {
    sh_config *c;
    const char *text; /* string input */
    FILE *f;          /* or file input */
    int line;
    cfg_section *cur;
};

static cfg_section *add_section(sh_config *c, const char *title, int line)
{
    if (c->nsecs == c->capsecs) {
        c->capsecs = c->capsecs ? c->capsecs * 2 : 8;
        c->secs = realloc(c->secs, c->capsecs * sizeof(cfg_section));
    }
    cfg_section *s = &c->secs[c->nsecs++];
    memset(s, 0, sizeof *s);
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
        config_error(c, line,
                     "unknown section [%s] (expected [streamhost], [kafka], [source.NAME], [transform.NAME] or [sink.NAME])",
                     title);
    } else if (s->name) {
        int ok = s->name[0] != '\0';
        for (const char *p = s->name; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
                ok = 0;
        if (!ok)
            config_error(c, line,
                         "bad component name '%s' in [%s] (use letters, digits, '_' and '-')",
                         s->name, title);
    }
    /* duplicates: the same title, or the same NAME under two kinds */
    for (size_t i = 0; i + 1 < c->nsecs; i++) {
        cfg_section *o = &c->secs[i];
        if (strcmp(o->title, title) == 0)
            config_error(c, line, "duplicate section [%s] (first at line %d)", title, o->line);
        else if (s->name && o->name && strcmp(o->name, s->name) == 0 &&
                 s->kind != SEC_UNKNOWN && o->kind != SEC_UNKNOWN)
            config_error(c, line, "duplicate component name '%s' (also [%s] at line %d)",
                         s->name, o->title, o->line);
    }
    return s;
}

static char *reader_fn(char *str, int num, void *stream)
{
    struct reader *r = stream;
    char *got;
    if (r->f) {
        got = fgets(str, num, r->f);
    } else {
        if (!*r->text)
            return NULL;
        const char *nl = strchr(r->text, '\n');
        size_t n = nl ? (size_t)(nl - r->text + 1) : strlen(r->text);
        if (n > (size_t)num - 1)
            n = (size_t)num - 1;
        memcpy(str, r->text, n);
        str[n] = '\0';
        r->text += n;
        got = str;
    }
    if (!got)
        return NULL;
    r->line++;
    size_t len = strlen(str);
    if (len == (size_t)num - 1 && str[len - 1] != '\n') {
        config_error(r->c, r->line, "line longer than %d characters; shorten the value or use ${VAR}",
                     num - 2);
        /* swallow the rest of the over-long line */
        if (r->f) {
            int ch;
            while ((ch = fgetc(r->f)) != EOF && ch != '\n')
                ;
        } else {
            const char *nl = strchr(r->text, '\n');
            r->text = nl ? nl + 1 : r->text + strlen(r->text);
        }
        str[0] = '\0';
        return str;
    }
    /* Section headers: track them here, so that empty sections and
     * duplicate sections get their own line numbers. */
    const char *p = str;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '[') {
        const char *end = strchr(p, ']');
        if (end) {
            char title[256];
            size_t n = (size_t)(end - p - 1);
            if (n >= sizeof title)
                n = sizeof title - 1;
            memcpy(title, p + 1, n);
            title[n] = '\0';
            char *t = title, *e = title + strlen(title);
            while (*t == ' ')
                t++;
            while (e > t && e[-1] == ' ')
                *--e = '\0';
            r->cur = add_section(r->c, t, r->line);
        }
    }
    return got;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct reader *r = user;
    sh_config *c = r->c;
    if (!r->cur || strcmp(r->cur->title, section) != 0) {
        config_error(c, r->line, "key '%s' outside of any section", name);
        return 1;
    }
    cfg_section *s = r->cur;
    for (size_t i = 0; i < s->nkv; i++)
        if (strcmp(s->kvs[i].key, name) == 0) {
            config_error(c, r->line, "duplicate key '%s' in [%s] (first at line %d)", name,
                         s->title, s->kvs[i].line);
            return 1;
        }
    char err[512];
    char *v = config_substitute(value, err, sizeof err);
    if (!v) {
        config_error(c, r->line, "%s: %s", name, err);
        v = strdup("");
    }
    if (s->nkv == s->capkv) {
        s->capkv = s->capkv ? s->capkv * 2 : 8;
        s->kvs = realloc(s->kvs, s->capkv * sizeof(cfg_kv));
    }
    s->kvs[s->nkv++] = (cfg_kv){.key = strdup(name), .value = v, .line = r->line};
    return 1;
}

static sh_config *parse(const char *name, FILE *f, const char *text)
{
    sh_config *c = calloc(1, sizeof *c);
    c->file = strdup(name);
    struct reader r = {.c = c, .f = f, .text = text};
    int rc = ini_parse_stream(reader_fn, &r, handler, &r);
    if (rc > 0)
        config_error(c, rc, "syntax error (expected 'key = value', '[section]' or a ';' comment)");
    return c;
}

sh_config *config_load(const char *file, char *err, size_t errlen)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read config: %m", file);
        return NULL;
    }
    sh_config *c = parse(file, f, NULL);
    fclose(f);
    return c;
}

sh_config *config_load_string(const char *name, const char *text)
{
    return parse(name, NULL, text);
}

void config_free(sh_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nsecs; i++) {
        cfg_section *s = &c->secs[i];
        for (size_t k = 0; k < s->nkv; k++) {
            free(s->kvs[k].key);
            free(s->kvs[k].value);
        }
        free(s->kvs);
        free(s->title);
        free(s->name);
    }
    for (size_t i = 0; i < c->nerrors; i++)
        free(c->errors[i]);
    free(c->errors);
    free(c->secs);
    free(c->file);
    free(c);
}

cfg_section *config_section(sh_config *c, sec_kind kind, const char *name)
{
    for (size_t i = 0; i < c->nsecs; i++) {
        cfg_section *s = &c->secs[i];
        if (s->kind == kind && ((!name && !s->name) || (name && s->name && strcmp(s->name, name) == 0)))
            return s;
    }
    return NULL;
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
