/* cfgvalue.c - typed config values: the units users write in INI files. */
#include "cfgvalue.h"
#include "streamhost/plugin.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errlen, const char *msg, const char *s)
{
    snprintf(err, errlen, "'%s' is not %s", s, msg);
    return -1;
}

int sh_parse_int(const char *s, int64_t *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno)
        return fail(err, errlen, "an integer (e.g. 42)", s);
    *out = v;
    return 0;
}

int sh_parse_double(const char *s, double *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno)
        return fail(err, errlen, "a number (e.g. 0.5)", s);
    *out = v;
    return 0;
}

int sh_parse_bool(const char *s, int64_t *out, char *err, size_t errlen)
{
    static const char *yes[] = {"true", "yes", "on", "1"};
    static const char *no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) { *out = 1; return 0; }
        if (strcasecmp(s, no[i]) == 0) { *out = 0; return 0; }
    }
    return fail(err, errlen, "a boolean (true/false, yes/no, on/off, 1/0)", s);
}

/* Parses "<number><unit>" where unit is looked up in `units`. */
struct unit { const char *name; int64_t mult; };

static int parse_units(const char *s, const struct unit *units, int64_t *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    while (*end == ' ')
        end++;
    for (const struct unit *u = units; u->name; u++) {
        if (strcmp(end, u->name) == 0) {
            if (v > (unsigned long long)(INT64_MAX / u->mult))
                return -1;
            *out = (int64_t)v * u->mult;
            return 0;
        }
    }
    return -1;
}

int sh_parse_duration_ms(const char *s, int64_t *out, char *err, size_t errlen)
{
    static const struct unit units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"min", 60000},
        {"h", 3600000}, {"d", 86400000}, {NULL, 0}};
    if (strcmp(s, "0") == 0) { /* zero needs no unit */
        *out = 0;
        return 0;
    }
    if (parse_units(s, units, out) != 0)
        return fail(err, errlen, "a duration (e.g. 500ms, 1s, 10s, 5m, 1h)", s);
    return 0;
}

int sh_parse_size(const char *s, int64_t *out, char *err, size_t errlen)
{
    static const struct unit units[] = {
        {"", 1}, {"B", 1}, {"KiB", 1024}, {"MiB", 1048576},
        {"GiB", 1073741824LL}, {"KB", 1000}, {"MB", 1000000},
        {"GB", 1000000000LL}, {"k", 1024}, {"K", 1024}, {"M", 1048576},
        {"G", 1073741824LL}, {NULL, 0}};
    if (parse_units(s, units, out) != 0)
        return fail(err, errlen, "a size (e.g. 512, 64KiB, 5MiB, 1GiB)", s);
    return 0;
}

int sh_check_value(uint32_t type, const char *v, char *err, size_t errlen)
{
    int64_t i;
    double d;
    switch (type) {
    case SH_CFG_INT: return sh_parse_int(v, &i, err, errlen);
    case SH_CFG_BOOL: return sh_parse_bool(v, &i, err, errlen);
    case SH_CFG_DURATION: return sh_parse_duration_ms(v, &i, err, errlen);
    case SH_CFG_SIZE: return sh_parse_size(v, &i, err, errlen);
    case SH_CFG_DOUBLE: return sh_parse_double(v, &d, err, errlen);
    default: return 0;
    }
}

int64_t sh_value_int(uint32_t type, const char *v)
{
    int64_t i = 0;
    char err[128];
    if (!v)
        return 0;
    switch (type) {
    case SH_CFG_BOOL: sh_parse_bool(v, &i, err, sizeof err); break;
    case SH_CFG_DURATION: sh_parse_duration_ms(v, &i, err, sizeof err); break;
    case SH_CFG_SIZE: sh_parse_size(v, &i, err, sizeof err); break;
    default: sh_parse_int(v, &i, err, sizeof err); break;
    }
    return i;
}

char **sh_split_list(const char *s, size_t *count)
{
    size_t len = s ? strlen(s) : 0, n = 0, cap = 1;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ',')
            cap++;
    char **arr = malloc((cap + 1) * sizeof(char *) + len + 1);
    if (!arr)
        return NULL;
    char *buf = (char *)(arr + cap + 1);
    if (len)
        memcpy(buf, s, len);
    buf[len] = '\0';
    char *p = buf;
    while (p && *p) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        while (isspace((unsigned char)*p))
            p++;
        char *e = p + strlen(p);
        while (e > p && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (*p)
            arr[n++] = p;
        p = comma ? comma + 1 : NULL;
    }
    arr[n] = NULL;
    *count = n;
    return arr;
}

const char *sh_cfg_type_name(uint32_t type)
{
    switch (type) {
    case SH_CFG_STRING: return "string";
    case SH_CFG_INT: return "int";
    case SH_CFG_BOOL: return "bool";
    case SH_CFG_DURATION: return "duration";
    case SH_CFG_SIZE: return "size";
    case SH_CFG_LIST: return "list";
    case SH_CFG_DOUBLE: return "double";
    case SH_CFG_PREFIX: return "prefix";
    default: return "?";
    }
}
