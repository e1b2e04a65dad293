/* registry.c - Confluent Schema Registry REST client (libcurl + jansson).
 * See registry.h. */
#include "registry.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cached {
    int32_t id;
    reg_rc rc; /* REG_OK or REG_NOT_FOUND */
    char *schema;
};

struct registry {
    char **urls;
    size_t nurls, cur; /* cur: the URL tried first (the last one that answered) */
    char *userinfo, *ca;
    long timeout_ms;
    CURL *curl;
    struct cached *cache;
    size_t ncache, capcache;
    char *body;
    size_t blen, bcap;
};

char *registry_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = 0, cap = 8192;
    char *s = malloc(cap);
    for (;;) {
        if (cap - n < 4096)
            s = realloc(s, cap *= 2);
        size_t k = fread(s + n, 1, cap - n - 1, f);
        if (k == 0)
            break;
        n += k;
    }
    int e = ferror(f);
    fclose(f);
    if (e) {
        free(s);
        errno = EIO;
        return NULL;
    }
    s[n] = '\0';
    if (len)
        *len = n;
    return s;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    registry *r = ud;
    size_t n = sz * nm;
    if (r->blen + n + 1 > r->bcap) {
        if (r->blen + n + 1 > (16u << 20))
            return 0; /* no schema is 16 MiB */
        while (r->blen + n + 1 > r->bcap)
            r->bcap = r->bcap ? r->bcap * 2 : 8192;
        r->body = realloc(r->body, r->bcap);
    }
    memcpy(r->body + r->blen, p, n);
    r->blen += n;
    r->body[r->blen] = '\0';
    return n;
}

registry *registry_new(const char *const *urls, size_t nurls, const char *userinfo, const char *ca_file,
                       long timeout_ms, char *err, size_t errlen)
{
    static int curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "cannot initialise libcurl");
            return NULL;
        }
        curl_ready = 1;
    }
    if (nurls == 0) {
        snprintf(err, errlen, "no registry URL");
        return NULL;
    }
    for (size_t i = 0; i < nurls; i++)
        if (strncmp(urls[i], "http://", 7) && strncmp(urls[i], "https://", 8)) {
            snprintf(err, errlen, "registry URL '%s' does not start with http:// or https://", urls[i]);
            return NULL;
        }
    if (userinfo && *userinfo && !strchr(userinfo, ':')) {
        snprintf(err, errlen, "basic auth user info must be USER:PASSWORD");
        return NULL;
    }
    registry *r = calloc(1, sizeof *r);
    r->urls = calloc(nurls, sizeof(char *));
    r->nurls = nurls;
    for (size_t i = 0; i < nurls; i++) {
        size_t n = strlen(urls[i]);
        while (n > 0 && urls[i][n - 1] == '/')
            n--;
        r->urls[i] = strndup(urls[i], n);
    }
    r->userinfo = userinfo && *userinfo ? strdup(userinfo) : NULL;
    r->ca = ca_file && *ca_file ? strdup(ca_file) : NULL;
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    r->curl = curl_easy_init();
    return r;
}

void registry_free(registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nurls; i++)
        free(r->urls[i]);
    for (size_t i = 0; i < r->ncache; i++)
        free(r->cache[i].schema);
    free(r->cache);
    free(r->urls);
    free(r->userinfo);
    free(r->ca);
    free(r->body);
    if (r->curl)
        curl_easy_cleanup(r->curl);
    free(r);
}

const char *registry_url(const registry *r) { return r->urls[r->cur]; }

registry *registry_from_config(const sh_host *h, sh_ctx *ctx, char *err, size_t errlen)
{
    const char *const *urls;
    size_t n = h->cfg_list(ctx, "schema.registry.url", &urls);
    *err = '\0';
    if (n == 0)
        return NULL;
    char e[512];
    registry *r = registry_new(urls, n, h->cfg_str(ctx, "schema.registry.basic.auth.user.info"),
                               h->cfg_str(ctx, "schema.registry.ssl.ca.location"),
                               (long)h->cfg_int(ctx, "schema.registry.timeout"), e, sizeof e);
    if (!r)
        snprintf(err, errlen, "%s: %s", h->cfg_where(ctx, strstr(e, "auth") ? "schema.registry.basic.auth.user.info"
                                                                          : "schema.registry.url"),
                 e);
    return r;
}

/* One request against the URLs in turn.  Returns the HTTP status of the URL
 * that answered definitively (2xx/4xx but 408/429), or -1 when none did;
 * the answer is in r->body. */
static long request(registry *r, const char *path, const char *post, char *err, size_t errlen)
{
    long last = -1;
    char lasterr[CURL_ERROR_SIZE + 64] = "";
    for (size_t k = 0; k < r->nurls; k++) {
        size_t u = (r->cur + k) % r->nurls;
        char url[4096];
        snprintf(url, sizeof url, "%s%s", r->urls[u], path);
        CURL *c = r->curl;
        curl_easy_reset(c);
        char cerr[CURL_ERROR_SIZE] = "";
        struct curl_slist *hd = NULL;
        hd = curl_slist_append(hd, "Accept: application/vnd.schemaregistry.v1+json, application/json");
        if (post)
            hd = curl_slist_append(hd, "Content-Type: application/vnd.schemaregistry.v1+json");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms < 2000 ? r->timeout_ms : 2000L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        if (r->userinfo) {
            curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(c, CURLOPT_USERPWD, r->userinfo);
        }
        if (r->ca)
            curl_easy_setopt(c, CURLOPT_CAINFO, r->ca);
        if (post) {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
        }
        r->blen = 0;
        if (r->body)
            r->body[0] = '\0';
        CURLcode cc = curl_easy_perform(c);
        curl_slist_free_all(hd);
        long status = 0;
        if (cc == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (cc != CURLE_OK) {
            snprintf(lasterr, sizeof lasterr, "%s: %s", r->urls[u], *cerr ? cerr : curl_easy_strerror(cc));
            if (cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_PEER_FAILED_VERIFICATION) {
                snprintf(err, errlen, "%s (check schema.registry.ssl.ca.location)", lasterr);
                return 0; /* a configuration problem, not an outage */
            }
            continue;
        }
        if (status >= 500 || status == 408 || status == 429) {
            snprintf(lasterr, sizeof lasterr, "%s answered HTTP %ld", r->urls[u], status);
            last = -1;
            continue;
        }
        r->cur = u;
        return status;
    }
    snprintf(err, errlen, "registry unavailable: %s", lasterr);
    return last;
}

static const char *answer_message(registry *r)
{
    static char msg[256];
    json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
    const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
    snprintf(msg, sizeof msg, "%s", m ? m : (r->body && *r->body ? r->body : "no message"));
    json_decref(j);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    return msg;
}

static reg_rc classify(registry *r, long status, const char *what, char *err, size_t errlen)
{
    if (status < 0)
        return REG_UNAVAILABLE;
    if (status == 0)
        return REG_REFUSED; /* err already set */
    if (status == 404) {
        snprintf(err, errlen, "%s: not found in the registry at %s (%s)", what, r->urls[r->cur], answer_message(r));
        return REG_NOT_FOUND;
    }
    if (status < 200 || status >= 300) {
        snprintf(err, errlen, "%s: the registry at %s answered HTTP %ld: %s%s", what, r->urls[r->cur], status,
                 answer_message(r),
                 status == 401 || status == 403 ? " (check schema.registry.basic.auth.user.info)" : "");
        return REG_REFUSED;
    }
    return REG_OK;
}

static json_t *parse_answer(registry *r, const char *what, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_loads(r->body ? r->body : "", 0, &je);
    if (!j || !json_is_object(j)) {
        snprintf(err, errlen, "%s: the registry at %s answered with no JSON object", what, r->urls[r->cur]);
        json_decref(j);
        return NULL;
    }
    return j;
}

reg_rc registry_schema_by_id(registry *r, int32_t id, const char **schema, char *err, size_t errlen)
{
    for (size_t i = 0; i < r->ncache; i++)
        if (r->cache[i].id == id) {
            *schema = r->cache[i].schema;
            if (r->cache[i].rc != REG_OK)
                snprintf(err, errlen, "schema id %d: not found in the registry", (int)id);
            return r->cache[i].rc;
        }
    char path[64], what[64];
    snprintf(path, sizeof path, "/schemas/ids/%d", (int)id);
    snprintf(what, sizeof what, "schema id %d", (int)id);
    reg_rc rc = classify(r, request(r, path, NULL, err, errlen), what, err, errlen);
    if (rc != REG_OK && rc != REG_NOT_FOUND)
        return rc;
    char *text = NULL;
    if (rc == REG_OK) {
        json_t *j = parse_answer(r, what, err, errlen);
        if (!j)
            return REG_REFUSED;
        json_t *st = json_object_get(j, "schemaType");
        if (st && json_is_string(st) && strcmp(json_string_value(st), "AVRO") != 0) {
            snprintf(err, errlen, "%s is a %s schema, not Avro", what, json_string_value(st));
            json_decref(j);
            return REG_REFUSED;
        }
        const char *s = json_string_value(json_object_get(j, "schema"));
        if (!s) {
            snprintf(err, errlen, "%s: the registry's answer has no \"schema\"", what);
            json_decref(j);
            return REG_REFUSED;
        }
        text = strdup(s);
        json_decref(j);
    }
    if (r->ncache == r->capcache)
        r->cache = realloc(r->cache, (r->capcache = r->capcache ? r->capcache * 2 : 16) * sizeof *r->cache);
    r->cache[r->ncache++] = (struct cached){.id = id, .rc = rc, .schema = text};
    *schema = text;
    return rc;
}

static char *subject_path(registry *r, const char *subject, const char *suffix)
{
    char *esc = curl_easy_escape(r->curl, subject, 0);
    size_t n = strlen(esc) + strlen(suffix) + 16;
    char *p = malloc(n);
    snprintf(p, n, "/subjects/%s%s", esc, suffix);
    curl_free(esc);
    return p;
}

static reg_rc post_schema(registry *r, const char *subject, const char *schema, const char *suffix, int32_t *id,
                          char *err, size_t errlen)
{
    json_t *req = json_pack("{s:s}", "schema", schema);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    char *path = subject_path(r, subject, suffix);
    char what[512];
    snprintf(what, sizeof what, "subject '%s'", subject);
    reg_rc rc = classify(r, request(r, path, body, err, errlen), what, err, errlen);
    free(path);
    free(body);
    if (rc != REG_OK)
        return rc;
    json_t *j = parse_answer(r, what, err, errlen);
    if (!j)
        return REG_REFUSED;
    json_t *ji = json_object_get(j, "id");
    if (!json_is_integer(ji) || json_integer_value(ji) < 0 || json_integer_value(ji) > INT32_MAX) {
        snprintf(err, errlen, "%s: the registry's answer has no schema id", what);
        json_decref(j);
        return REG_REFUSED;
    }
    *id = (int32_t)json_integer_value(ji);
    json_decref(j);
    return REG_OK;
}

reg_rc registry_register(registry *r, const char *subject, const char *schema, int32_t *id, char *err,
                         size_t errlen)
{
    return post_schema(r, subject, schema, "/versions", id, err, errlen);
}

reg_rc registry_lookup(registry *r, const char *subject, const char *schema, int32_t *id, char *err, size_t errlen)
{
    return post_schema(r, subject, schema, "", id, err, errlen);
}

reg_rc registry_latest(registry *r, const char *subject, int32_t *id, char **schema, char *err, size_t errlen)
{
    char *path = subject_path(r, subject, "/versions/latest");
    char what[512];
    snprintf(what, sizeof what, "subject '%s'", subject);
    reg_rc rc = classify(r, request(r, path, NULL, err, errlen), what, err, errlen);
    free(path);
    if (rc != REG_OK)
        return rc;
    json_t *j = parse_answer(r, what, err, errlen);
    if (!j)
        return REG_REFUSED;
    json_t *ji = json_object_get(j, "id");
    const char *s = json_string_value(json_object_get(j, "schema"));
    if (!json_is_integer(ji) || !s) {
        snprintf(err, errlen, "%s: the registry's answer has no id or schema", what);
        json_decref(j);
        return REG_REFUSED;
    }
    *id = (int32_t)json_integer_value(ji);
    *schema = strdup(s);
    json_decref(j);
    return REG_OK;
}
