/*
 * streamhost/plugin_util.h - small pieces of code that plugins share.
 *
 * Header-only (every function is static inline), so it adds nothing to the
 * ABI: a plugin compiles its own copy, and the host never sees these types.
 * It needs only plugin.h and the C library.  What is here:
 *
 *   sh_intern       strings interned to small dense ids (0, 1, 2, ...), e.g.
 *                   department names, so that per-window or per-session
 *                   state holds ids (or bits) instead of strings;
 *   sh_field_cache  field positions of the input records, resolved once per
 *                   schema pointer (records carry their schema) and checked
 *                   for type, with one error line naming the config key;
 *   sh_recqueue     records held back during one process() call (e.g. late
 *                   ones) and emitted together on an output port before it
 *                   returns;
 *   sh_cfg_name     a config string that must not be empty (a field or an
 *                   index name), with the one-line error when it is;
 *   sh_cfg_at_least a numeric config value with a lower bound, likewise;
 *   SH_VALIDATE_WITH a validate() callback from the function that reads and
 *                   checks the config for init() too (one place for the
 *                   rules), SH_INIT_STATE the start of init() with it, and
 *                   sh_state_new, init()'s zeroed state.
 *
 * None of them is thread-safe; plugins call them from their callbacks, which
 * the host runs one at a time.
 */
#ifndef STREAMHOST_PLUGIN_UTIL_H
#define STREAMHOST_PLUGIN_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "streamhost/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* sh_intern: strings to dense ids                                           */
/* ------------------------------------------------------------------------ */

/** 64-bit FNV-1a of `n` bytes (not for untrusted keys in large tables: it
 *  is not seeded; interned sets here are small, e.g. 8 departments). */
static inline uint64_t sh_fnv1a(const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/** Returned by sh_intern_id when memory ran out. */
#define SH_INTERN_OOM UINT32_MAX

/** Interned strings: ids are assigned 0, 1, 2, ... in order of first sight
 *  and never change; each name is copied once and kept until
 *  sh_intern_free.  Zero-initialised (or sh_intern_init) is empty. */
typedef struct sh_intern {
    uint32_t *slots;  /**< open addressing: id + 1, 0 = empty; at most half full */
    uint32_t cap;     /**< slots, a power of two */
    sh_str *names;    /**< by id; each ptr malloc'd */
    uint64_t *hashes; /**< by id */
    uint32_t n, capn; /**< names in use and allocated */
} sh_intern;

static inline void sh_intern_init(sh_intern *t) { memset(t, 0, sizeof *t); }

static inline void sh_intern_free(sh_intern *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free((void *)t->names[i].ptr);
    free(t->names);
    free(t->hashes);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/** Number of ids handed out so far (ids are 0 .. count - 1). */
static inline uint32_t sh_intern_count(const sh_intern *t) { return t->n; }

/** The name of `id` (valid until sh_intern_free). */
static inline sh_str sh_intern_name(const sh_intern *t, uint32_t id) { return t->names[id]; }

static inline void sh_intern_put_(sh_intern *t, uint32_t id)
{
    uint32_t mask = t->cap - 1, i = (uint32_t)t->hashes[id] & mask;
    while (t->slots[i])
        i = (i + 1) & mask;
    t->slots[i] = id + 1;
}

static inline int sh_intern_grow_(sh_intern *t)
{
    uint32_t capn = t->capn ? t->capn * 2 : 16;
    sh_str *names = (sh_str *)realloc(t->names, capn * sizeof *names);
    if (!names)
        return -1;
    t->names = names;
    uint64_t *hashes = (uint64_t *)realloc(t->hashes, capn * sizeof *hashes);
    if (!hashes)
        return -1;
    t->hashes = hashes;
    uint32_t *slots = (uint32_t *)calloc((size_t)capn * 2, sizeof *slots);
    if (!slots)
        return -1;
    free(t->slots);
    t->slots = slots;
    t->cap = capn * 2;
    t->capn = capn;
    for (uint32_t id = 0; id < t->n; id++)
        sh_intern_put_(t, id);
    return 0;
}

/** The id of the `len` bytes at `p` (copied and added when new), or
 *  SH_INTERN_OOM. */
static inline uint32_t sh_intern_id(sh_intern *t, const char *p, size_t len)
{
    uint64_t h = sh_fnv1a(p, len);
    if (t->cap) {
        uint32_t mask = t->cap - 1;
        for (uint32_t i = (uint32_t)h & mask; t->slots[i]; i = (i + 1) & mask) {
            uint32_t id = t->slots[i] - 1;
            if (t->hashes[id] == h && t->names[id].len == len &&
                (len == 0 || memcmp(t->names[id].ptr, p, len) == 0))
                return id;
        }
    }
    if (t->n == t->capn && sh_intern_grow_(t) != 0)
        return SH_INTERN_OOM;
    char *copy = (char *)malloc(len ? len : 1);
    if (!copy)
        return SH_INTERN_OOM;
    if (len)
        memcpy(copy, p, len);
    uint32_t id = t->n++;
    t->names[id] = (sh_str){copy, len};
    t->hashes[id] = h;
    sh_intern_put_(t, id);
    return id;
}

/* ------------------------------------------------------------------------ */
/* sh_field_cache: input field positions per schema                          */
/* ------------------------------------------------------------------------ */

/** Most fields one cache entry resolves. */
#define SH_FIELD_CACHE_MAX 8

/** One field a plugin reads from its input: the config key that names it
 *  (for error messages), the configured field name and the type it must
 *  have. */
typedef struct sh_field_want {
    const char *cfg_key;
    const char *name;
    uint32_t type; /**< sh_type */
} sh_field_want;

/** Resolved positions for one schema: pos[i] is the position of want[i]. */
typedef struct sh_field_pos {
    const sh_schema *schema;
    int pos[SH_FIELD_CACHE_MAX];
} sh_field_pos;

/** A cache of sh_field_pos by schema pointer.  Schemas are few (one per
 *  upstream output) and live as long as their plugin, so the cache never
 *  evicts.  Zero-initialised is empty; free with sh_field_cache_free. */
typedef struct sh_field_cache {
    sh_field_pos *e;
    size_t n, cap;
    size_t last; /**< index of the entry returned last (most batches repeat it) */
} sh_field_cache;

static inline void sh_field_cache_free(sh_field_cache *c)
{
    free(c->e);
    memset(c, 0, sizeof *c);
}

/** Positions of `want[0..nwant)` in records of `schema`, resolved on first
 *  sight of the schema (sh_resolve_field: a missing field or a wrong type
 *  logs one line naming the config key and the fix).  NULL when a field
 *  does not resolve or memory ran out (logged): return SH_FATAL. */
static inline const sh_field_pos *sh_field_cache_get(sh_field_cache *c, const sh_host *host, sh_ctx *ctx,
                                                     const sh_schema *schema, const sh_field_want *want,
                                                     size_t nwant)
{
    if (c->n && c->e[c->last].schema == schema)
        return &c->e[c->last];
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].schema == schema)
            return &c->e[c->last = i];
    if (nwant > SH_FIELD_CACHE_MAX) {
        host->log(ctx, SH_LOG_ERROR, "plugin bug: %zu fields asked of sh_field_cache (at most %d)", nwant,
                  SH_FIELD_CACHE_MAX);
        return NULL;
    }
    sh_field_pos f;
    memset(&f, 0, sizeof f);
    f.schema = schema;
    for (size_t i = 0; i < nwant; i++) {
        f.pos[i] = sh_resolve_field(host, ctx, schema, want[i].cfg_key, want[i].name, want[i].type);
        if (f.pos[i] < 0)
            return NULL;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        sh_field_pos *e = (sh_field_pos *)realloc(c->e, cap * sizeof *e);
        if (!e) {
            host->log(ctx, SH_LOG_ERROR, "out of memory caching field positions");
            return NULL;
        }
        c->e = e;
        c->cap = cap;
    }
    c->e[c->n] = f;
    c->last = c->n++;
    return &c->e[c->last];
}

/* ------------------------------------------------------------------------ */
/* sh_recqueue: records held back within one call                            */
/* ------------------------------------------------------------------------ */

/** Records copied by value (their values and strings still belong to the
 *  emitter: valid only during the process() call that delivered them), to
 *  be emitted before that call returns.  Zero-initialised is empty. */
typedef struct sh_recqueue {
    sh_record *recs;
    size_t n, cap;
} sh_recqueue;

/** Append a copy of `*r`; 0, or -1 when memory ran out. */
static inline int sh_recqueue_push(sh_recqueue *q, const sh_record *r)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        sh_record *a = (sh_record *)realloc(q->recs, cap * sizeof *a);
        if (!a)
            return -1;
        q->recs = a;
        q->cap = cap;
    }
    q->recs[q->n++] = *r;
    return 0;
}

/** Emit what is queued on output `port` and empty the queue (also when the
 *  emit fails).  SH_OK when there was nothing to emit. */
static inline sh_rc sh_recqueue_emit(sh_recqueue *q, const sh_host *host, sh_ctx *ctx, uint32_t port)
{
    if (!q->n)
        return SH_OK;
    sh_rc rc = host->emit(ctx, port, q->recs, q->n);
    q->n = 0;
    return rc;
}

static inline void sh_recqueue_free(sh_recqueue *q)
{
    free(q->recs);
    memset(q, 0, sizeof *q);
}

/* ------------------------------------------------------------------------ */
/* Config values                                                             */
/* ------------------------------------------------------------------------ */

/** The value of string key `key`, which must not be empty (a field name, an
 *  index name).  NULL after logging "FILE:LINE: KEY is empty; give a name
 *  (or drop the line for the default)". */
static inline const char *sh_cfg_name(const sh_host *host, sh_ctx *ctx, const char *key)
{
    const char *v = host->cfg_str(ctx, key);
    if (!v || !*v) {
        host->log(ctx, SH_LOG_ERROR, "%s: %s is empty; give a name (or drop the line for the default)",
                  host->cfg_where(ctx, key), key);
        return NULL;
    }
    return v;
}

/** Nonzero when INT/DURATION/SIZE key `key` is at least `min`; else 0 after
 *  logging "FILE:LINE: KEY must be at least MIN_TEXT (e.g. EXAMPLE)". */
static inline int sh_cfg_at_least(const sh_host *host, sh_ctx *ctx, const char *key, int64_t min,
                                  const char *min_text, const char *example)
{
    if (host->cfg_int(ctx, key) >= min)
        return 1;
    host->log(ctx, SH_LOG_ERROR, "%s: %s must be at least %s (e.g. %s)", host->cfg_where(ctx, key), key, min_text,
              example);
    return 0;
}

/** Defines `static sh_rc NAME(const sh_host *, sh_ctx *)`, a validate()
 *  callback that runs `READ(host, ctx, &values)` on a scratch VALUES_T: the
 *  same function init() calls, so `streamhost check` and `run` apply the
 *  same rules. */
#define SH_VALIDATE_WITH(NAME, VALUES_T, READ)                                \
    static sh_rc NAME(const sh_host *host, sh_ctx *ctx)                       \
    {                                                                         \
        VALUES_T values_;                                                     \
        return READ(host, ctx, &values_);                                     \
    }

/** The usual start of an init(host, ctx, state) whose state type STATE_T
 *  has members host, ctx and cfg (a VALUES_T): reads and checks the config
 *  with READ (the function validate() uses, SH_VALIDATE_WITH), allocates the
 *  zeroed state as `st` and fills those three members; returns SH_FATAL
 *  from init when the config is refused or memory runs out. */
#define SH_INIT_STATE(STATE_T, st, VALUES_T, READ)                            \
    VALUES_T st##_cfg_;                                                       \
    if (READ(host, ctx, &st##_cfg_) != SH_OK)                                 \
        return SH_FATAL;                                                      \
    STATE_T *st = (STATE_T *)sh_state_new(host, ctx, sizeof(STATE_T));        \
    if (!st)                                                                  \
        return SH_FATAL;                                                      \
    st->host = host;                                                          \
    st->ctx = ctx;                                                            \
    st->cfg = st##_cfg_

/** `size` zeroed bytes for an instance's state, or NULL after logging "out
 *  of memory" (return SH_FATAL). */
static inline void *sh_state_new(const sh_host *host, sh_ctx *ctx, size_t size)
{
    void *p = calloc(1, size);
    if (!p)
        host->log(ctx, SH_LOG_ERROR, "out of memory");
    return p;
}

#ifdef __cplusplus
}
#endif
#endif /* STREAMHOST_PLUGIN_UTIL_H */
