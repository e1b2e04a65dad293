/* cfgvalue.h - parsing of typed config values (durations, sizes, bools, ints).
 * Shared by the host's config validation and the plugin test host. */
#ifndef SH_CFGVALUE_H
#define SH_CFGVALUE_H
#include <stdint.h>
#include <stddef.h>

/* Each returns 0 and stores the value, or -1 and writes a short reason
 * ("expected a duration like 500ms, 1s, 10s, 5m") into err. */
int sh_parse_int(const char *s, int64_t *out, char *err, size_t errlen);
int sh_parse_bool(const char *s, int64_t *out, char *err, size_t errlen);
int sh_parse_duration_ms(const char *s, int64_t *out, char *err, size_t errlen);
int sh_parse_size(const char *s, int64_t *out, char *err, size_t errlen);
int sh_parse_double(const char *s, double *out, char *err, size_t errlen);

/* Validate `value` against sh_cfg_type `type`; 0 ok, -1 with reason. */
int sh_check_value(uint32_t type, const char *value, char *err, size_t errlen);

/* Numeric value of a validated INT/BOOL/DURATION/SIZE value (0 on NULL). */
int64_t sh_value_int(uint32_t type, const char *value);

/* Split a comma-separated list into trimmed, non-empty items.  Returns a
 * malloc'd NULL-terminated array whose strings live in the same block (one
 * free()); *count gets the number of items. */
char **sh_split_list(const char *s, size_t *count);

/* Name of a config type for messages and docs ("duration"). */
const char *sh_cfg_type_name(uint32_t type);
#endif
