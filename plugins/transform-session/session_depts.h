/* session_depts.h - department (product type) names interned to small ids,
 * so a session stores its department set as bits instead of strings.
 * Names are kept for the plugin's lifetime: memory grows with the number of
 * distinct product types seen (8 in the reference data). */
#ifndef SESSION_DEPTS_H
#define SESSION_DEPTS_H

#include <stddef.h>
#include <stdint.h>

#include "streamhost/plugin.h"

#define SS_DEPT_OOM UINT32_MAX

typedef struct ss_depts {
    uint32_t *slots;   /* open addressing: id + 1, 0 = empty */
    uint32_t cap;      /* power of two */
    sh_str *names;     /* by id; each ptr malloc'd */
    uint64_t *hashes;  /* by id */
    uint32_t n, capn;
} ss_depts;

void ss_depts_init(ss_depts *d);
void ss_depts_free(ss_depts *d);
/* Id of `name` (added when new), or SS_DEPT_OOM. */
uint32_t ss_dept_intern(ss_depts *d, const char *name, size_t len);
/* Name of id (valid for the plugin's lifetime). */
static inline sh_str ss_dept_name(const ss_depts *d, uint32_t id) { return d->names[id]; }

#endif
