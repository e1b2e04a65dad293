/* sink_config.c - the sink's declared config keys and their checking.
 *
 * The host has already checked each value's type against the table below;
 * here go the checks that need more than a type (ranges, combinations,
 * secrets from the environment).  Every mistake a user can make ends in one
 * line naming the key's place and the fix. */
#include "opensearch_sink.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const sh_config_key os_config_keys[] = {
    {"url", SH_CFG_STRING, "http://localhost:9200", 0,
     "OpenSearch base URL (http or https, optional path prefix); put no credentials in it"},
    {"index_prefix", SH_CFG_STRING, "", 0,
     "prepended to every index name (the record's stream name), e.g. \"prod-\""},
    {"batch.max_docs", SH_CFG_INT, "5000", 0, "most documents in one _bulk request"},
    {"batch.max_bytes", SH_CFG_SIZE, "5MiB", 0,
     "most uncompressed bytes in one _bulk request (a larger single document goes alone)"},
    {"flush_interval", SH_CFG_DURATION, "1s", 0,
     "send a partly filled batch once its oldest document has waited this long"},
    {"max_in_flight", SH_CFG_INT, "4", 0, "concurrent _bulk requests"},
    {"compress", SH_CFG_STRING, "gzip", 0,
     "request body encoding: gzip (about 8x fewer bytes for JSON) or none"},
    {"retry.initial", SH_CFG_DURATION, "100ms", 0,
     "backoff before the first retry; doubles per attempt, with full jitter"},
    {"retry.max", SH_CFG_DURATION, "30s", 0, "longest backoff between retries"},
    {"retry.max_attempts", SH_CFG_INT, "0", 0,
     "retries of a document before it goes to the dead-letter output; 0 = retry forever"},
    {"auth.timeout", SH_CFG_DURATION, "30s", 0,
     "how long refused credentials, permissions or certificates (401, 403, TLS) may go on before the run stops "
     "with exit 1, nothing committed past them; 0 = retry until stopped"},
    {"buffer.max_bytes", SH_CFG_SIZE, "64MiB", 0,
     "buffered plus in-flight bytes above which the sink pauses the sources (back-pressure)"},
    {"templates", SH_CFG_BOOL, "true", 0,
     "install index templates (the reference mappings) for the three clickstream indices at start"},
    {"timeout", SH_CFG_DURATION, "30s", 0, "timeout of one HTTP request"},
    {"tls.ca_file", SH_CFG_STRING, NULL, 0,
     "PEM file of CA certificates to trust for https (default: the system store)"},
    {"tls.verify", SH_CFG_BOOL, "true", 0,
     "verify the server certificate and host name; false only for tests"},
    {"auth", SH_CFG_STRING, "none", 0, "none, basic or aws_sigv4"},
    {"username", SH_CFG_STRING, NULL, 0, "user name for auth = basic"},
    {"password_env", SH_CFG_STRING, "OPENSEARCH_PASSWORD", 0,
     "NAME of the environment variable holding the password for auth = basic"},
    {"aws.region", SH_CFG_STRING, NULL, 0,
     "AWS region for auth = aws_sigv4 (credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)"},
    {"aws.service", SH_CFG_STRING, "es", 0,
     "SigV4 service name: es (Amazon OpenSearch Service) or aoss (Serverless)"},
    {NULL, 0, NULL, 0, NULL}};

/* Every check of a value lives below, once: init() (os_config_load) and
 * validate() (os_config_validate, what `streamhost check` runs) both go
 * through config_read, so check refuses exactly what run refuses.  Each
 * mistake is one line naming FILE:LINE, the key and the fix, and reading
 * goes on after a mistake so that one pass reports all of them. */
typedef struct reader {
    const sh_host *host;
    sh_ctx *ctx;
    int bad;  /* mistakes reported so far */
    int warn; /* also log warnings (init does; validate leaves them to it) */
} reader;

#define BAD(key, ...)                                                           \
    do {                                                                        \
        rd->host->log(rd->ctx, SH_LOG_ERROR, "%s: " key ": " __VA_ARGS__);      \
        rd->bad++;                                                              \
    } while (0)
#define WHERE(key) rd->host->cfg_where(rd->ctx, key)

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = 0;
    free(s);
}

/* Splits the url into the parts requests need; rejects what cannot work. */
static void read_url(os_config *c, reader *rd, const char *url)
{
    const sh_host *host = rd->host;
    sh_ctx *ctx = rd->ctx;
    const char *where = WHERE("url");
    char red[512];
    os_redact_url(url ? url : "", red, sizeof red);
    c->url_redacted = strdup(red);

    CURLU *u = curl_url();
    if (!u || !c->url_redacted) {
        host->log(ctx, SH_LOG_ERROR, "out of memory reading url");
        rd->bad++;
        curl_url_cleanup(u);
        return;
    }
    int ok = 0;
    char *scheme = NULL, *hostname = NULL, *port = NULL, *path = NULL, *query = NULL,
         *user = NULL, *pass = NULL;
    if (!url || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        host->log(ctx, SH_LOG_ERROR,
                  "%s: url: '%s' is not a URL; write it like http://localhost:9200", where, red);
        goto out;
    }
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &hostname, 0);
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    curl_url_get(u, CURLUPART_USER, &user, 0);
    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
    if (!scheme || (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
        host->log(ctx, SH_LOG_ERROR, "%s: url: '%s' must start with http:// or https://", where,
                  red);
        goto out;
    }
    if (!hostname || !*hostname) {
        host->log(ctx, SH_LOG_ERROR, "%s: url: '%s' names no host; write it like "
                  "http://localhost:9200", where, red);
        goto out;
    }
    if (query) {
        host->log(ctx, SH_LOG_ERROR,
                  "%s: url: '%s' has a query string; give only scheme, host, port and path",
                  where, red);
        goto out;
    }
    if (user || pass) {
        if (c->auth != OS_AUTH_NONE) {
            host->log(ctx, SH_LOG_ERROR,
                      "%s: url: '%s' carries credentials while auth is set; remove them from url",
                      where, red);
            goto out;
        }
        /* curl's own convention: userinfo means basic auth.  Honour it, but
         * the secret then sits in the config file; say so once. */
        c->auth = OS_AUTH_BASIC;
        c->username = dup_or_null(user ? user : "");
        c->password = dup_or_null(pass ? pass : "");
        if (rd->warn)
            host->log(ctx, SH_LOG_WARN,
                      "%s: url: credentials in the url are used for basic auth; prefer username "
                      "and password_env so the password stays out of the config",
                      where);
    }
    size_t plen = path ? strlen(path) : 0;
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    c->base_path = malloc(plen + 1);
    if (!c->base_path)
        goto oom;
    if (plen)
        memcpy(c->base_path, path, plen);
    c->base_path[plen] = '\0';

    /* The Host header curl sends: the port only when not the scheme's
     * default.  SigV4 signs this exact value, and we send it explicitly. */
    int https = strcasecmp(scheme, "https") == 0;
    int default_port = !port || (https && strcmp(port, "443") == 0) ||
                       (!https && strcmp(port, "80") == 0);
    size_t hl = strlen(hostname) + (port ? strlen(port) : 0) + 2;
    c->host_header = malloc(hl);
    size_t bl = strlen(scheme) + hl + plen + 8;
    c->base_url = malloc(bl);
    if (!c->host_header || !c->base_url)
        goto oom;
    if (default_port)
        snprintf(c->host_header, hl, "%s", hostname);
    else
        snprintf(c->host_header, hl, "%s:%s", hostname, port);
    snprintf(c->base_url, bl, "%s://%s%s%s%s", scheme, hostname, port ? ":" : "",
             port ? port : "", c->base_path);
    ok = 1;
    goto out;
oom:
    host->log(ctx, SH_LOG_ERROR, "out of memory reading url");
out:
    if (!ok)
        rd->bad++;
    curl_free(scheme);
    curl_free(hostname);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(user);
    if (pass) {
        memset(pass, 0, strlen(pass));
        curl_free(pass);
    }
    curl_url_cleanup(u);
}

/* The Basic header value, kept only to redact it from what a server echoes. */
static char *basic_b64(os_config *c)
{
    size_t ul = strlen(c->username), pl = strlen(c->password), n = ul + 1 + pl;
    char *plain = malloc(n + 1);
    c->basic_b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (!plain || !c->basic_b64) {
        free(plain);
        return NULL;
    }
    memcpy(plain, c->username, ul);
    plain[ul] = ':';
    memcpy(plain + ul + 1, c->password, pl);
    EVP_EncodeBlock((unsigned char *)c->basic_b64, (const unsigned char *)plain, (int)n);
    memset(plain, 0, n);
    free(plain);
    return c->basic_b64;
}

static void read_auth(os_config *c, reader *rd)
{
    const char *auth = rd->host->cfg_str(rd->ctx, "auth");
    if (!auth || strcmp(auth, "none") == 0)
        c->auth = OS_AUTH_NONE;
    else if (strcmp(auth, "basic") == 0)
        c->auth = OS_AUTH_BASIC;
    else if (strcmp(auth, "aws_sigv4") == 0)
        c->auth = OS_AUTH_SIGV4;
    else
        BAD("auth", "'%s' is not one of none, basic, aws_sigv4", WHERE("auth"), auth);
}

/* Secrets come from the environment, never from the config file. */
static void read_credentials(os_config *c, reader *rd)
{
    const sh_host *host = rd->host;
    sh_ctx *ctx = rd->ctx;
    if (c->auth == OS_AUTH_BASIC && !c->password) {
        const char *user = host->cfg_str(ctx, "username");
        const char *env = host->cfg_str(ctx, "password_env");
        const char *pw = env && *env ? getenv(env) : NULL;
        if (!user || !*user)
            BAD("username", "auth = basic needs a username", WHERE("username"));
        if (!env || !*env)
            BAD("password_env", "name the environment variable that holds the password",
                WHERE("password_env"));
        else if (!pw)
            BAD("password_env",
                "auth = basic reads the password from environment variable %s, which is not set",
                WHERE("password_env"), env);
        if (user && *user && pw) {
            c->username = strdup(user);
            c->password = strdup(pw);
            c->password_env = env;
        }
    }
    if (c->auth == OS_AUTH_SIGV4) {
        const char *region = host->cfg_str(ctx, "aws.region");
        const char *svc = host->cfg_str(ctx, "aws.service");
        if (!region || !*region)
            BAD("aws.region", "auth = aws_sigv4 needs the domain's region, e.g. us-east-1",
                WHERE("aws.region"));
        if (!svc || (strcmp(svc, "es") != 0 && strcmp(svc, "aoss") != 0))
            BAD("aws.service",
                "'%s' is not es (OpenSearch Service domains) or aoss (Serverless collections)",
                WHERE("aws.service"), svc ? svc : "");
        const char *ak = getenv("AWS_ACCESS_KEY_ID");
        const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
        const char *tok = getenv("AWS_SESSION_TOKEN");
        if (!ak || !*ak || !sk || !*sk) {
            BAD("auth",
                "auth = aws_sigv4 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
                "environment (and AWS_SESSION_TOKEN for temporary credentials)",
                WHERE("auth"));
            return;
        }
        c->aws_region = region;
        c->aws_service = svc;
        c->aws_access_key = strdup(ak);
        c->aws_secret_key = strdup(sk);
        c->aws_session_token = (tok && *tok) ? strdup(tok) : NULL;
    }
}

static void read_limits(os_config *c, reader *rd)
{
    const sh_host *host = rd->host;
    sh_ctx *ctx = rd->ctx;
    int64_t docs = host->cfg_int(ctx, "batch.max_docs");
    int64_t bytes = host->cfg_int(ctx, "batch.max_bytes");
    int64_t flight = host->cfg_int(ctx, "max_in_flight");
    int64_t buffer = host->cfg_int(ctx, "buffer.max_bytes");
    int64_t attempts = host->cfg_int(ctx, "retry.max_attempts");
    c->flush_interval_ms = host->cfg_int(ctx, "flush_interval");
    c->retry_initial_ms = host->cfg_int(ctx, "retry.initial");
    c->retry_max_ms = host->cfg_int(ctx, "retry.max");
    c->timeout_ms = host->cfg_int(ctx, "timeout");
    c->auth_timeout_ms = host->cfg_int(ctx, "auth.timeout");

    if (docs < 1 || docs > 1000000)
        BAD("batch.max_docs", "%lld is out of range; use 1..1000000 (e.g. 5000)",
            WHERE("batch.max_docs"), (long long)docs);
    /* Offsets inside a batch are 32-bit; the cluster refuses far less. */
    int bytes_ok = bytes >= 1024 && bytes <= (int64_t)1 << 30;
    if (!bytes_ok)
        BAD("batch.max_bytes", "%lld is out of range; use 1KiB..1GiB (e.g. 5MiB)",
            WHERE("batch.max_bytes"), (long long)bytes);
    if (flight < 1 || flight > 64)
        BAD("max_in_flight", "%lld is out of range; use 1..64", WHERE("max_in_flight"),
            (long long)flight);
    if (bytes_ok && buffer < bytes)
        BAD("buffer.max_bytes", "must be at least batch.max_bytes (%lld bytes)",
            WHERE("buffer.max_bytes"), (long long)bytes);
    if (attempts < 0 || attempts > 1000000)
        BAD("retry.max_attempts", "%lld is out of range; use 0 (forever) or a count",
            WHERE("retry.max_attempts"), (long long)attempts);
    if (c->flush_interval_ms < 1)
        BAD("flush_interval", "must be at least 1ms", WHERE("flush_interval"));
    if (c->retry_initial_ms < 1)
        BAD("retry.initial", "must be at least 1ms", WHERE("retry.initial"));
    else if (c->retry_max_ms < c->retry_initial_ms)
        BAD("retry.max", "must not be shorter than retry.initial", WHERE("retry.max"));
    if (c->auth_timeout_ms < 0)
        BAD("auth.timeout", "must not be negative; 0 retries until stopped", WHERE("auth.timeout"));
    if (c->timeout_ms < 100)
        BAD("timeout", "must be at least 100ms", WHERE("timeout"));
    c->batch_max_docs = (size_t)docs;
    c->batch_max_bytes = (size_t)bytes;
    c->max_in_flight = (size_t)flight;
    c->buffer_max_bytes = (uint64_t)buffer;
    c->retry_max_attempts = (uint32_t)attempts;
}

static int config_read(os_config *c, const sh_host *host, sh_ctx *ctx, int warn)
{
    reader r = {host, ctx, 0, warn}, *rd = &r;
    memset(c, 0, sizeof *c);
    read_auth(c, rd);
    read_limits(c, rd);
    const char *compress = host->cfg_str(ctx, "compress");
    if (compress && strcmp(compress, "gzip") == 0)
        c->gzip = 1;
    else if (!compress || strcmp(compress, "none") != 0)
        BAD("compress", "'%s' is not gzip or none", WHERE("compress"), compress ? compress : "");

    const char *prefix = host->cfg_str(ctx, "index_prefix");
    c->index_prefix = prefix ? prefix : "";
    for (const char *p = c->index_prefix; *p; p++)
        if ((*p >= 'A' && *p <= 'Z') || strchr("\\/*?\"<>| ,#:", *p)) {
            BAD("index_prefix",
                "'%s' cannot start an index name (lowercase, no spaces or \\/*?\"<>|,#:)",
                WHERE("index_prefix"), c->index_prefix);
            break;
        }

    c->templates = (int)host->cfg_int(ctx, "templates");
    c->tls_verify = (int)host->cfg_int(ctx, "tls.verify");
    c->tls_ca_file = host->cfg_str(ctx, "tls.ca_file");
    if (c->tls_ca_file && !*c->tls_ca_file)
        c->tls_ca_file = NULL;
    if (c->tls_ca_file) {
        FILE *f = fopen(c->tls_ca_file, "r");
        if (!f)
            BAD("tls.ca_file", "cannot read '%s'; give a readable PEM file", WHERE("tls.ca_file"),
                c->tls_ca_file);
        else
            fclose(f);
    }
    read_url(c, rd, host->cfg_str(ctx, "url"));
    read_credentials(c, rd);
    if (c->auth == OS_AUTH_BASIC && c->username && c->password && !basic_b64(c)) {
        host->log(ctx, SH_LOG_ERROR, "out of memory reading the credentials");
        rd->bad++;
    }
    if (warn && !rd->bad) {
        if (c->auth == OS_AUTH_SIGV4 && strncmp(c->base_url, "https://", 8) != 0)
            host->log(ctx, SH_LOG_WARN, "%s: url: aws_sigv4 over plain http; AWS endpoints need https",
                      WHERE("url"));
        if (!c->tls_verify)
            host->log(ctx, SH_LOG_WARN,
                      "%s: tls.verify = false: the server's identity is not checked; never in "
                      "production",
                      WHERE("tls.verify"));
    }
    return rd->bad ? -1 : 0;
}

int os_config_load(os_config *c, const sh_host *host, sh_ctx *ctx)
{
    return config_read(c, host, ctx, 1);
}

sh_rc os_config_validate(const sh_host *host, sh_ctx *ctx)
{
    os_config c;
    int rc = config_read(&c, host, ctx, 0);
    os_config_free(&c);
    return rc == 0 ? SH_OK : SH_FATAL;
}

void os_config_free(os_config *c)
{
    free(c->base_url);
    free(c->url_redacted);
    free(c->host_header);
    free(c->base_path);
    free(c->username);
    wipe_free(c->password);
    wipe_free(c->basic_b64);
    wipe_free(c->aws_access_key);
    wipe_free(c->aws_secret_key);
    wipe_free(c->aws_session_token);
    memset(c, 0, sizeof *c);
}
