/* sink_config.c - the sink's declared config keys and their checking.
 *
 * The host has already checked each value's type against the table below;
 * here go the checks that need more than a type (ranges, combinations,
 * secrets from the environment).  Every mistake a user can make ends in one
 * line naming the key's place and the fix. */
#include "opensearch_sink.h"

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

#define BAD(key, ...)                                                           \
    do {                                                                        \
        host->log(ctx, SH_LOG_ERROR, "%s: " key ": " __VA_ARGS__);              \
        return -1;                                                              \
    } while (0)

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
static int load_url(os_config *c, const sh_host *host, sh_ctx *ctx, const char *url)
{
    const char *where = host->cfg_where(ctx, "url");
    char red[512];
    os_redact_url(url, red, sizeof red);
    c->url_redacted = strdup(red);

    CURLU *u = curl_url();
    if (!u)
        return -1;
    int rc = -1;
    char *scheme = NULL, *hostname = NULL, *port = NULL, *path = NULL, *query = NULL,
         *user = NULL, *pass = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
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
        goto out;
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
        goto out;
    if (default_port)
        snprintf(c->host_header, hl, "%s", hostname);
    else
        snprintf(c->host_header, hl, "%s:%s", hostname, port);
    snprintf(c->base_url, bl, "%s://%s%s%s%s", scheme, hostname, port ? ":" : "",
             port ? port : "", c->base_path);
    rc = 0;
out:
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
    return rc;
}

static int load_auth(os_config *c, const sh_host *host, sh_ctx *ctx)
{
    const char *auth = host->cfg_str(ctx, "auth");
    if (strcmp(auth, "none") == 0)
        c->auth = OS_AUTH_NONE;
    else if (strcmp(auth, "basic") == 0)
        c->auth = OS_AUTH_BASIC;
    else if (strcmp(auth, "aws_sigv4") == 0)
        c->auth = OS_AUTH_SIGV4;
    else
        BAD("auth", "'%s' is not one of none, basic, aws_sigv4", host->cfg_where(ctx, "auth"),
            auth);
    return 0;
}

/* Secrets come from the environment, never from the config file. */
static int load_credentials(os_config *c, const sh_host *host, sh_ctx *ctx)
{
    if (c->auth == OS_AUTH_BASIC && !c->password) {
        const char *user = host->cfg_str(ctx, "username");
        const char *env = host->cfg_str(ctx, "password_env");
        if (!user || !*user)
            BAD("username", "auth = basic needs a username", host->cfg_where(ctx, "username"));
        if (!env || !*env)
            BAD("password_env", "name the environment variable that holds the password",
                host->cfg_where(ctx, "password_env"));
        const char *pw = getenv(env);
        if (!pw)
            BAD("password_env",
                "auth = basic reads the password from environment variable %s, which is not set",
                host->cfg_where(ctx, "password_env"), env);
        c->username = strdup(user);
        c->password = strdup(pw);
    }
    if (c->auth == OS_AUTH_SIGV4) {
        const char *region = host->cfg_str(ctx, "aws.region");
        const char *svc = host->cfg_str(ctx, "aws.service");
        if (!region || !*region)
            BAD("aws.region", "auth = aws_sigv4 needs the domain's region, e.g. us-east-1",
                host->cfg_where(ctx, "aws.region"));
        if (strcmp(svc, "es") != 0 && strcmp(svc, "aoss") != 0)
            BAD("aws.service",
                "'%s' is not es (OpenSearch Service domains) or aoss (Serverless collections)",
                host->cfg_where(ctx, "aws.service"), svc);
        const char *ak = getenv("AWS_ACCESS_KEY_ID");
        const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
        const char *tok = getenv("AWS_SESSION_TOKEN");
        if (!ak || !*ak || !sk || !*sk)
            BAD("auth",
                "auth = aws_sigv4 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
                "environment (and AWS_SESSION_TOKEN for temporary credentials)",
                host->cfg_where(ctx, "auth"));
        c->aws_region = region;
        c->aws_service = svc;
        c->aws_access_key = strdup(ak);
        c->aws_secret_key = strdup(sk);
        c->aws_session_token = (tok && *tok) ? strdup(tok) : NULL;
    }
    return 0;
}

static int load_limits(os_config *c, const sh_host *host, sh_ctx *ctx)
{
    int64_t docs = host->cfg_int(ctx, "batch.max_docs");
    int64_t bytes = host->cfg_int(ctx, "batch.max_bytes");
    int64_t flight = host->cfg_int(ctx, "max_in_flight");
    int64_t buffer = host->cfg_int(ctx, "buffer.max_bytes");
    int64_t attempts = host->cfg_int(ctx, "retry.max_attempts");
    c->flush_interval_ms = host->cfg_int(ctx, "flush_interval");
    c->retry_initial_ms = host->cfg_int(ctx, "retry.initial");
    c->retry_max_ms = host->cfg_int(ctx, "retry.max");
    c->timeout_ms = host->cfg_int(ctx, "timeout");

    if (docs < 1 || docs > 1000000)
        BAD("batch.max_docs", "%lld is out of range; use 1..1000000 (e.g. 5000)",
            host->cfg_where(ctx, "batch.max_docs"), (long long)docs);
    /* Offsets inside a batch are 32-bit; the cluster refuses far less. */
    if (bytes < 1024 || bytes > (int64_t)1 << 30)
        BAD("batch.max_bytes", "%lld is out of range; use 1KiB..1GiB (e.g. 5MiB)",
            host->cfg_where(ctx, "batch.max_bytes"), (long long)bytes);
    if (flight < 1 || flight > 64)
        BAD("max_in_flight", "%lld is out of range; use 1..64", host->cfg_where(ctx, "max_in_flight"),
            (long long)flight);
    if (buffer < bytes)
        BAD("buffer.max_bytes", "must be at least batch.max_bytes (%lld bytes)",
            host->cfg_where(ctx, "buffer.max_bytes"), (long long)bytes);
    if (attempts < 0 || attempts > 1000000)
        BAD("retry.max_attempts", "%lld is out of range; use 0 (forever) or a count",
            host->cfg_where(ctx, "retry.max_attempts"), (long long)attempts);
    if (c->flush_interval_ms < 1)
        BAD("flush_interval", "must be at least 1ms", host->cfg_where(ctx, "flush_interval"));
    if (c->retry_initial_ms < 1)
        BAD("retry.initial", "must be at least 1ms", host->cfg_where(ctx, "retry.initial"));
    if (c->retry_max_ms < c->retry_initial_ms)
        BAD("retry.max", "must not be shorter than retry.initial", host->cfg_where(ctx, "retry.max"));
    if (c->timeout_ms < 100)
        BAD("timeout", "must be at least 100ms", host->cfg_where(ctx, "timeout"));
    c->batch_max_docs = (size_t)docs;
    c->batch_max_bytes = (size_t)bytes;
    c->max_in_flight = (size_t)flight;
    c->buffer_max_bytes = (uint64_t)buffer;
    c->retry_max_attempts = (uint32_t)attempts;
    return 0;
}

int os_config_load(os_config *c, const sh_host *host, sh_ctx *ctx)
{
    memset(c, 0, sizeof *c);
    if (load_auth(c, host, ctx) != 0 || load_limits(c, host, ctx) != 0)
        return -1;
    const char *compress = host->cfg_str(ctx, "compress");
    if (strcmp(compress, "gzip") == 0)
        c->gzip = 1;
    else if (strcmp(compress, "none") != 0)
        BAD("compress", "'%s' is not gzip or none", host->cfg_where(ctx, "compress"), compress);

    const char *prefix = host->cfg_str(ctx, "index_prefix");
    c->index_prefix = prefix ? prefix : "";
    for (const char *p = c->index_prefix; *p; p++)
        if ((*p >= 'A' && *p <= 'Z') || strchr("\\/*?\"<>| ,#:", *p))
            BAD("index_prefix",
                "'%s' cannot start an index name (lowercase, no spaces or \\/*?\"<>|,#:)",
                host->cfg_where(ctx, "index_prefix"), c->index_prefix);

    c->templates = (int)host->cfg_int(ctx, "templates");
    c->tls_verify = (int)host->cfg_int(ctx, "tls.verify");
    c->tls_ca_file = host->cfg_str(ctx, "tls.ca_file");
    if (c->tls_ca_file && !*c->tls_ca_file)
        c->tls_ca_file = NULL;
    if (c->tls_ca_file) {
        FILE *f = fopen(c->tls_ca_file, "r");
        if (!f)
            BAD("tls.ca_file", "cannot read '%s'; give a readable PEM file",
                host->cfg_where(ctx, "tls.ca_file"), c->tls_ca_file);
        fclose(f);
    }
    if (load_url(c, host, ctx, host->cfg_str(ctx, "url")) != 0)
        return -1;
    if (load_credentials(c, host, ctx) != 0)
        return -1;
    if (c->auth == OS_AUTH_SIGV4 && strncmp(c->base_url, "https://", 8) != 0)
        host->log(ctx, SH_LOG_WARN,
                  "%s: url: aws_sigv4 over plain http; AWS endpoints need https",
                  host->cfg_where(ctx, "url"));
    if (!c->tls_verify)
        host->log(ctx, SH_LOG_WARN,
                  "%s: tls.verify = false: the server's identity is not checked; never in production",
                  host->cfg_where(ctx, "tls.verify"));
    return 0;
}

void os_config_free(os_config *c)
{
    free(c->base_url);
    free(c->url_redacted);
    free(c->host_header);
    free(c->base_path);
    free(c->username);
    wipe_free(c->password);
    wipe_free(c->aws_access_key);
    wipe_free(c->aws_secret_key);
    wipe_free(c->aws_session_token);
    memset(c, 0, sizeof *c);
}
