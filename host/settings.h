/* settings.h - reading config values: a component's declared keys after
 * defaults, and the [streamhost] section's (settings.c).  The one place that
 * knows how a key's value, its declaration and its default combine. */
#ifndef SH_SETTINGS_H
#define SH_SETTINGS_H
#include "instance.h"

/* The [streamhost] section's declared keys (also printed by --help). */
extern const sh_config_key sh_host_config[];

/* Value of a declared key of `in` after defaults (NULL when unset); *decl
 * (may be NULL) gets the key's declaration, NULL when undeclared. */
const char *inst_cfg(instance *in, const char *key, const sh_config_key **decl);

/* Value of [streamhost] key `key` of the pipeline's config, or its default. */
const char *host_setting(pipeline *pl, const char *key);
#endif
