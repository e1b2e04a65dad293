/* registry.h - a client of the Confluent Schema Registry REST API (served by
 * Confluent, Apicurio's /apis/ccompat/v7, Karapace and Redpanda): schemas by
 * id (cached for the life of the process: an id's schema never changes),
 * registering and looking up a subject's schema, a subject's latest version.
 * Several base URLs fail over in order; basic auth and a CA file for TLS.
 * Not thread-safe: one client per component. */
#ifndef SH_REGISTRY_H
#define SH_REGISTRY_H
#include <stddef.h>
#include <stdint.h>

#include "streamhost/plugin.h"

typedef struct registry registry;

typedef enum {
    REG_OK = 0,
    REG_NOT_FOUND = 1,   /* the registry answered: no such id / subject / schema under the subject */
    REG_UNAVAILABLE = 2, /* no URL answered, or only with 5xx / 408 / 429: try again later */
    REG_REFUSED = 3      /* any other answer (401, 403, 409 incompatible, 422 invalid schema, bad JSON) */
} reg_rc;

/* The config keys every component with a registry declares (spliced into its
 * key table by REGISTRY_CONFIG_KEYS). */
#define REGISTRY_CONFIG_KEYS                                                                                      \
    {"schema.registry.url", SH_CFG_LIST, NULL, 0,                                                                 \
     "schema registry base URL(s), tried in order (Confluent API; Apicurio: http://HOST:PORT/apis/ccompat/v7)"}, \
        {"schema.registry.basic.auth.user.info", SH_CFG_STRING, NULL, 0,                                          \
         "USER:PASSWORD for the registry's basic auth; keep it in the environment: ${REGISTRY_AUTH}"},            \
        {"schema.registry.ssl.ca.location", SH_CFG_STRING, NULL, 0,                                               \
         "CA certificate file (PEM) to verify an https registry (default: the system's CAs)"},                    \
        {"schema.registry.timeout", SH_CFG_DURATION, "5s", 0, "timeout of one registry request"}

/* From the component's keys; NULL when schema.registry.url is not set (no
 * error).  On a bad value: NULL and *err set (one line naming the key). */
registry *registry_from_config(const sh_host *h, sh_ctx *ctx, char *err, size_t errlen);

registry *registry_new(const char *const *urls, size_t nurls, const char *userinfo, const char *ca_file,
                       long timeout_ms, char *err, size_t errlen);
void registry_free(registry *r);

/* GET /schemas/ids/{id}: *schema points into the cache (valid while r
 * lives).  Answers for an id, found or not found, are cached; unavailable
 * is not. */
reg_rc registry_schema_by_id(registry *r, int32_t id, const char **schema, char *err, size_t errlen);
/* POST /subjects/{subject}/versions: registers (or finds) the schema. */
reg_rc registry_register(registry *r, const char *subject, const char *schema, int32_t *id, char *err,
                         size_t errlen);
/* POST /subjects/{subject}: the id of this schema if registered under subject. */
reg_rc registry_lookup(registry *r, const char *subject, const char *schema, int32_t *id, char *err, size_t errlen);
/* GET /subjects/{subject}/versions/latest: *schema is malloc'd. */
reg_rc registry_latest(registry *r, const char *subject, int32_t *id, char **schema, char *err, size_t errlen);
/* The URL that answered last (for messages). */
const char *registry_url(const registry *r);

/* Reads a whole (small) file; malloc'd, NUL-terminated; NULL with errno. */
char *registry_read_file(const char *path, size_t *len);
#endif
