/* msk_iam.c - Amazon MSK IAM authentication for the host's Kafka clients
 * (msk_iam.h, docs/msk-iam.md).
 *
 * The token is what aws-msk-iam-sasl-signer-python (and Amazon's Java, Go
 * and JS signers) build: botocore's SigV4QueryAuth presigns
 *   GET https://kafka.REGION.amazonaws.com/?Action=kafka-cluster%3AConnect
 * for service kafka-cluster, X-Amz-Expires=900, only `host` signed; then a
 * User-Agent parameter is appended unsigned, and the whole URL is
 * base64url-encoded without padding.  Its expiry is the signing second +
 * 900 s.  The SigV4 itself is include/streamhost/sigv4.h's (shared with the
 * OpenSearch sink); tests/integration/msk_iam_tokens.sh compares our tokens
 * byte for byte with the Python signer's.
 *
 * librdkafka asks for a token through the refresh callback: first when the
 * client starts, then 80% through each token's life.  The callback runs on
 * librdkafka's background thread (rd_kafka_sasl_background_callbacks_enable,
 * called from an on_thread_start interceptor when the client's main thread
 * starts): a client gets its first token before anyone polls it, which the
 * host's metadata requests right after rd_kafka_new need. */
#define _GNU_SOURCE
#include "msk_iam.h"
#include "clock.h"
#include "log.h"

#include <streamhost/sigv4.h>

#include <ctype.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef SH_VERSION
#define SH_VERSION "0"
#endif

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long tokens_set;
static int announced;         /* the INFO line at the first client */

long msk_iam_tokens_set(void)
{
    pthread_mutex_lock(&mu);
    long n = tokens_set;
    pthread_mutex_unlock(&mu);
    return n;
}

/* ---- credentials ------------------------------------------------------- */

static char *dup_wipeable(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void wipe_free(char *s)
{
    if (s) {
        volatile char *p = s;
        while (*p)
            *p++ = 0;
        free(s);
    }
}

void msk_iam_creds_clear(msk_iam_creds *c)
{
    wipe_free(c->access_key);
    wipe_free(c->secret_key);
    wipe_free(c->session_token);
    memset(c, 0, sizeof *c);
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    *e = '\0';
    return s;
}

/* Profile `profile` of an INI credentials file as botocore reads one:
 * "[name]" sections, "key = value" (or "key: value"), keys case-insensitive,
 * values trimmed, whole-line comments (# ;), no inline comments.
 * 1 found (the keys it had are set), 0 no such profile, -1 unreadable. */
static int read_profile(const char *path, const char *profile, char **ak, char **sk, char **tok)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[8192];
    int in = 0, found = 0;
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *end = strrchr(s, ']');
            if (end) {
                *end = '\0';
                in = strcmp(trim(s + 1), profile) == 0;
                found |= in;
            }
            continue;
        }
        if (!in)
            continue;
        size_t kl = strcspn(s, "=:");
        if (!s[kl])
            continue;
        char *v = trim(s + kl + 1);
        s[kl] = '\0';
        char *k = trim(s);
        char **dst = strcasecmp(k, "aws_access_key_id") == 0       ? ak
                     : strcasecmp(k, "aws_secret_access_key") == 0 ? sk
                     : strcasecmp(k, "aws_session_token") == 0     ? tok
                     : strcasecmp(k, "aws_security_token") == 0 && !*tok ? tok
                                                                   : NULL;
        if (dst && *v) {
            wipe_free(*dst);
            *dst = strdup(v);
        }
    }
    /* the buffer held a line of the file */
    volatile char *p = line;
    for (size_t i = 0; i < sizeof line; i++)
        p[i] = 0;
    fclose(f);
    return found;
}

int msk_iam_credentials(msk_iam_creds *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *ak = env_nonempty("AWS_ACCESS_KEY_ID"), *sk = env_nonempty("AWS_SECRET_ACCESS_KEY");
    if (ak || sk) {
        if (!ak || !sk) {
            snprintf(err, errlen, "%s is set in the environment but %s is not: set both (or neither, to use "
                     "~/.aws/credentials)", ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                     ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
            return -1;
        }
        const char *tok = env_nonempty("AWS_SESSION_TOKEN");
        if (!tok)
            tok = env_nonempty("AWS_SECURITY_TOKEN");
        out->access_key = dup_wipeable(ak);
        out->secret_key = dup_wipeable(sk);
        out->session_token = dup_wipeable(tok);
        snprintf(out->source, sizeof out->source, "the environment (AWS_ACCESS_KEY_ID%s)",
                 tok ? ", AWS_SESSION_TOKEN" : "");
        return 0;
    }
    char path[512];
    const char *file = env_nonempty("AWS_SHARED_CREDENTIALS_FILE");
    const char *home = getenv("HOME");
    if (!file) {
        snprintf(path, sizeof path, "%s/.aws/credentials", home ? home : "");
    } else if (file[0] == '~' && file[1] == '/') {
        snprintf(path, sizeof path, "%s%s", home ? home : "", file + 1);
    } else {
        snprintf(path, sizeof path, "%s", file);
    }
    const char *profile_env = env_nonempty("AWS_PROFILE");
    const char *profile = profile_env ? profile_env : "default";
    char *fak = NULL, *fsk = NULL, *ftok = NULL;
    int r = read_profile(path, profile, &fak, &fsk, &ftok);
    if (r == 1 && fak && fsk) {
        out->access_key = fak;
        out->secret_key = fsk;
        out->session_token = ftok;
        snprintf(out->source, sizeof out->source, "profile '%s' in %s", profile, path);
        return 0;
    }
    int had_ak = fak != NULL;
    wipe_free(fak);
    wipe_free(fsk);
    wipe_free(ftok);
    if (r == 1)
        snprintf(err, errlen, "profile '%s' in %s lacks %s: add it (or set AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY)", profile, path, had_ak ? "aws_secret_access_key" : "aws_access_key_id");
    else if (profile_env)
        snprintf(err, errlen, "no AWS credentials: AWS_PROFILE = %s, but %s %s: add [%s] with aws_access_key_id "
                 "and aws_secret_access_key there, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                 profile, path, r == 0 ? "has no such profile" : "cannot be read", profile);
    else
        snprintf(err, errlen, "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
                 "AWS_SESSION_TOKEN for temporary ones), or add [default] with aws_access_key_id and "
                 "aws_secret_access_key to %s%s (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE pick another)",
                 path, r < 0 ? ", which cannot be read" : "");
    return -1;
}

/* ---- region ------------------------------------------------------------ */

static int region_ok(const char *r)
{
    if (!r || !*r || strlen(r) > 40)
        return 0;
    for (const char *p = r; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-'))
            return 0;
    return 1;
}

int msk_iam_region_from_bootstrap(const char *bootstrap, char *out, size_t n)
{
    if (!bootstrap)
        return -1;
    const char *p = bootstrap;
    while (*p) {
        size_t len = strcspn(p, ",");
        char host[512];
        snprintf(host, sizeof host, "%.*s", (int)(len < sizeof host ? len : sizeof host - 1), p);
        char *h = trim(host);
        char *scheme = strstr(h, "://"); /* "SASL_SSL://b-1..." */
        if (scheme)
            h = scheme + 3;
        h[strcspn(h, ":/")] = '\0';
        for (char *c = h; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        /* ...kafka.REGION.amazonaws.com or ...kafka-serverless.REGION.amazonaws.com(.cn) */
        const char *labels[] = {".kafka.", ".kafka-serverless."};
        for (size_t i = 0; i < 2; i++) {
            char *k = strstr(h, labels[i]);
            while (k) {
                char *r = k + strlen(labels[i]);
                char *dot = strchr(r, '.');
                if (dot && (strcmp(dot, ".amazonaws.com") == 0 || strcmp(dot, ".amazonaws.com.cn") == 0)) {
                    *dot = '\0';
                    if (region_ok(r) && strlen(r) < n) {
                        snprintf(out, n, "%s", r);
                        return 0;
                    }
                    break;
                }
                k = strstr(k + 1, labels[i]);
            }
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return -1;
}

/* ---- the token ---------------------------------------------------------- */

char *msk_iam_token(const char *region, const msk_iam_creds *c, int64_t epoch_ms, const char *user_agent,
                    int64_t *expiry_ms)
{
    if (!region_ok(region) || !c || !c->access_key || !c->secret_key)
        return NULL;
    char host[128], amz_date[17];
    snprintf(host, sizeof host, "kafka.%s.amazonaws.com", region);
    sh_sigv4_amz_date(epoch_ms, amz_date);
    sh_sigv4_presign_request rq = {
        .method = "GET",
        .host = host,
        .path = "/",
        .query = "Action=kafka-cluster%3AConnect",
        .expires_s = MSK_IAM_EXPIRES_S,
        .amz_date = amz_date,
        .region = region,
        .service = "kafka-cluster",
        .access_key = c->access_key,
        .secret_key = c->secret_key,
        .session_token = c->session_token,
    };
    char *q = sh_sigv4_presign(&rq);
    if (!q)
        return NULL;
    /* the URL as the signer's prepared request has it; User-Agent is
     * urlencode()d as Python does (quote_plus: '/' is %2F) */
    sh_sigv4__buf url = {0};
    sh_sigv4__puts(&url, "https://");
    sh_sigv4__puts(&url, host);
    sh_sigv4__puts(&url, "/?");
    sh_sigv4__puts(&url, q);
    sh_sigv4__puts(&url, "&User-Agent=");
    const char *ua = user_agent ? user_agent : "streamhost/" SH_VERSION;
    sh_sigv4__uri_encode(&url, ua, strlen(ua), 0);
    sh_sigv4__wipe_str(q);
    if (url.oom || !url.data) {
        sh_sigv4__free(&url);
        return NULL;
    }
    /* base64url, no padding */
    size_t cap = 4 * ((url.len + 2) / 3) + 1;
    char *tok = malloc(cap);
    if (!tok) {
        sh_sigv4__free(&url);
        return NULL;
    }
    int n = EVP_EncodeBlock((unsigned char *)tok, (const unsigned char *)url.data, (int)url.len);
    sh_sigv4__free(&url);
    while (n > 0 && tok[n - 1] == '=')
        n--;
    tok[n] = '\0';
    for (char *p = tok; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    if (expiry_ms)
        *expiry_ms = (epoch_ms / 1000 + MSK_IAM_EXPIRES_S) * 1000;
    return tok;
}

/* ---- configuration ------------------------------------------------------ */

/* The client's value of `key`: the component's "kafka.KEY", else [kafka]'s. */
static cfg_kv *client_kv(sh_config *cfg, cfg_section *comp, const char *key)
{
    if (comp) {
        char k[128];
        snprintf(k, sizeof k, "kafka.%s", key);
        cfg_kv *kv = config_kv(comp, k);
        if (kv)
            return kv;
    }
    cfg_section *ks = config_section(cfg, SEC_KAFKA, NULL);
    return ks ? config_kv(ks, key) : NULL;
}

static int truthy(const char *v, int *out)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1"))
        return *out = 1, 0;
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcmp(v, "0"))
        return *out = 0, 0;
    return -1;
}

static int is_mechanism_key(const char *key)
{
    return strcmp(key, "sasl.mechanism") == 0 || strcmp(key, "sasl.mechanisms") == 0;
}

int msk_iam_own_key(const char *key, const char *value)
{
    if (strcmp(key, MSK_IAM_KEY) == 0 || strcmp(key, MSK_IAM_REGION_KEY) == 0)
        return 1;
    return is_mechanism_key(key) && value && strcasecmp(value, MSK_IAM_MECHANISM) == 0;
}

/* The mechanism entry in force (sasl.mechanism or its alias). */
static cfg_kv *mechanism_kv(sh_config *cfg, cfg_section *comp)
{
    cfg_kv *kv = client_kv(cfg, comp, "sasl.mechanism");
    return kv ? kv : client_kv(cfg, comp, "sasl.mechanisms");
}

/* 1 when MSK IAM is on for this client; *why gets the entry that turned it on. */
static int enabled(sh_config *cfg, cfg_section *comp, cfg_kv **why)
{
    cfg_kv *m = mechanism_kv(cfg, comp);
    if (m && strcasecmp(m->value, MSK_IAM_MECHANISM) == 0) {
        *why = m;
        return 1;
    }
    cfg_kv *b = client_kv(cfg, comp, MSK_IAM_KEY);
    int on = 0;
    if (b && truthy(b->value, &on) == 0 && on) {
        *why = b;
        return 1;
    }
    return 0;
}

/* The region and how it was found; 0 or -1. */
static int resolve_region(sh_config *cfg, cfg_section *comp, char *out, size_t n, char *how, size_t hn)
{
    cfg_kv *r = client_kv(cfg, comp, MSK_IAM_REGION_KEY);
    const char *v;
    if (r) {
        snprintf(out, n, "%s", r->value);
        snprintf(how, hn, "aws.region");
        return region_ok(out) ? 0 : -1;
    }
    if ((v = env_nonempty("AWS_REGION")) || (v = env_nonempty("AWS_DEFAULT_REGION"))) {
        snprintf(out, n, "%s", v);
        snprintf(how, hn, "%s", env_nonempty("AWS_REGION") ? "AWS_REGION" : "AWS_DEFAULT_REGION");
        return region_ok(out) ? 0 : -1;
    }
    cfg_kv *bs = client_kv(cfg, comp, "bootstrap.servers");
    snprintf(how, hn, "bootstrap.servers");
    return msk_iam_region_from_bootstrap(bs ? bs->value : NULL, out, n);
}

/* librdkafka turns this into an authentication error ("Failed to acquire
 * SASL OAUTHBEARER token: WHY") through the client's error callback, where
 * kafka.c logs it as the run's one line and stops the run. */
static void refresh_failed(rd_kafka_t *rk, const char *why)
{
    char text[800];
    snprintf(text, sizeof text, "MSK IAM: %s", why);
    rd_kafka_oauthbearer_set_token_failure(rk, text);
}

/* librdkafka's token refresh callback; `region` is sasl.oauthbearer.config. */
static void refresh_cb(rd_kafka_t *rk, const char *region, void *opaque)
{
    (void)opaque;
    msk_iam_creds c;
    char err[768], e2[512];
    if (msk_iam_credentials(&c, err, sizeof err) != 0) {
        refresh_failed(rk, err);
        return;
    }
    int64_t expiry = 0;
    char *tok = msk_iam_token(region, &c, sh_wall_ms(), NULL, &expiry);
    msk_iam_creds_clear(&c);
    if (!tok) {
        refresh_failed(rk, "cannot sign the kafka-cluster:Connect request (out of memory?)");
        return;
    }
    rd_kafka_resp_err_t e = rd_kafka_oauthbearer_set_token(rk, tok, expiry, "aws-msk-iam", NULL, 0, e2, sizeof e2);
    wipe_free(tok);
    if (e) {
        snprintf(err, sizeof err, "librdkafka refused the token: %s", rd_kafka_err2str(e));
        refresh_failed(rk, err);
        return;
    }
    pthread_mutex_lock(&mu);
    tokens_set++;
    pthread_mutex_unlock(&mu);
    sh_log(SH_LOG_DEBUG, "kafka", "MSK IAM: new token for %s (region %s), valid for %d s", rd_kafka_name(rk),
           region, MSK_IAM_EXPIRES_S);
}

static rd_kafka_resp_err_t on_thread_start(rd_kafka_t *rk, rd_kafka_thread_type_t type, const char *name,
                                           void *ic_opaque)
{
    (void)name, (void)ic_opaque;
    if (type != RD_KAFKA_THREAD_MAIN)
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    /* From here on the SASL queue is served by the background thread. */
    rd_kafka_error_t *e = rd_kafka_sasl_background_callbacks_enable(rk);
    if (e) {
        sh_log(SH_LOG_ERROR, "kafka", "MSK IAM: %s: cannot serve token refreshes in the background: %s",
               rd_kafka_name(rk), rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf, void *ic_opaque, char *errstr,
                                  size_t errstr_size)
{
    (void)conf, (void)ic_opaque, (void)errstr, (void)errstr_size;
    return rd_kafka_interceptor_add_on_thread_start(rk, "streamhost.msk_iam", on_thread_start, NULL);
}

int msk_iam_conf(sh_config *cfg, cfg_section *comp, rd_kafka_conf_t *conf, char *err, size_t errlen)
{
    cfg_kv *why;
    if (!enabled(cfg, comp, &why))
        return 0;
    char region[64], how[64], where[512], e[512];
    if (resolve_region(cfg, comp, region, sizeof region, how, sizeof how) != 0) {
        snprintf(err, errlen, "%s: MSK IAM: no AWS region (set aws.region, AWS_REGION or AWS_DEFAULT_REGION)",
                 config_where(cfg, why->line, where, sizeof where));
        return -1;
    }
    cfg_kv *proto = client_kv(cfg, comp, "security.protocol");
    if (rd_kafka_conf_set(conf, "sasl.mechanisms", "OAUTHBEARER", e, sizeof e) != RD_KAFKA_CONF_OK ||
        (!proto && rd_kafka_conf_set(conf, "security.protocol", "SASL_SSL", e, sizeof e) != RD_KAFKA_CONF_OK) ||
        rd_kafka_conf_set(conf, "sasl.oauthbearer.config", region, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "%s: MSK IAM: %s (this librdkafka has no SASL/OAUTHBEARER?)",
                 config_where(cfg, why->line, where, sizeof where), e);
        return -1;
    }
    rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, refresh_cb);
    rd_kafka_conf_enable_sasl_queue(conf, 1);
    rd_kafka_resp_err_t ie = rd_kafka_conf_interceptor_add_on_new(conf, "streamhost.msk_iam", on_new, NULL);
    if (ie && ie != RD_KAFKA_RESP_ERR__CONFLICT) {
        snprintf(err, errlen, "%s: MSK IAM: %s", config_where(cfg, why->line, where, sizeof where),
                 rd_kafka_err2str(ie));
        return -1;
    }
    pthread_mutex_lock(&mu);
    int first = !announced;
    announced = 1;
    pthread_mutex_unlock(&mu);
    if (first) {
        msk_iam_creds c;
        char ce[768];
        if (msk_iam_credentials(&c, ce, sizeof ce) == 0) {
            sh_log(SH_LOG_INFO, "kafka", "MSK IAM: OAUTHBEARER tokens for region %s (from %s), credentials from %s",
                   region, how, c.source);
            msk_iam_creds_clear(&c);
        }
    }
    return 0;
}

/* ---- start checks ------------------------------------------------------ */

#define MAX_SEEN 16
typedef struct seen {
    char *msg[MAX_SEEN];
    size_t n;
} seen;

static void report(sh_config *cfg, seen *s, int line, const char *msg)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->msg[i], msg) == 0)
            return;
    if (s && s->n < MAX_SEEN)
        s->msg[s->n++] = strdup(msg);
    config_error(cfg, line, "%s", msg);
}

/* "[kafka] KEY = VALUE" or "[source.x] kafka.KEY = VALUE": where kv is. */
static const char *entry(cfg_section *comp, const cfg_kv *kv, char *buf, size_t n)
{
    if (comp && kv >= comp->kvs && kv < comp->kvs + comp->nkv)
        snprintf(buf, n, "[%s] %s = %s", comp->title, kv->key, kv->value);
    else
        snprintf(buf, n, "[kafka] %s = %s", kv->key, kv->value);
    return buf;
}

static void validate(sh_config *cfg, cfg_section *comp, seen *s)
{
    char msg[1200], at[300], at2[300];
    cfg_kv *b = client_kv(cfg, comp, MSK_IAM_KEY);
    int on = 0;
    if (b && truthy(b->value, &on) != 0) {
        snprintf(msg, sizeof msg, "%s: expected true or false (true: authenticate with MSK IAM)",
                 entry(comp, b, at, sizeof at));
        report(cfg, s, b->line, msg);
    }
    cfg_kv *why;
    if (!enabled(cfg, comp, &why))
        return;
    cfg_kv *m = mechanism_kv(cfg, comp);
    if (m && strcasecmp(m->value, MSK_IAM_MECHANISM) != 0 && strcasecmp(m->value, "OAUTHBEARER") != 0) {
        snprintf(msg, sizeof msg, "%s contradicts %s: MSK IAM is its own mechanism; remove one of them",
                 entry(comp, m, at, sizeof at), entry(comp, why, at2, sizeof at2));
        report(cfg, s, m->line, msg);
    }
    cfg_kv *proto = client_kv(cfg, comp, "security.protocol");
    if (proto && strcasecmp(proto->value, "SASL_SSL") != 0 && strcasecmp(proto->value, "SASL_PLAINTEXT") != 0) {
        snprintf(msg, sizeof msg, "%s: MSK IAM is SASL; use SASL_SSL (MSK's IAM listener, port 9098) or leave "
                 "it unset", entry(comp, proto, at, sizeof at));
        report(cfg, s, proto->line, msg);
    }
    char region[64], how[64];
    if (resolve_region(cfg, comp, region, sizeof region, how, sizeof how) != 0) {
        cfg_kv *r = client_kv(cfg, comp, MSK_IAM_REGION_KEY);
        if (r)
            snprintf(msg, sizeof msg, "%s: not an AWS region (e.g. us-east-1)", entry(comp, r, at, sizeof at));
        else if (strcmp(how, "bootstrap.servers") == 0)
            snprintf(msg, sizeof msg, "%s: MSK IAM needs the cluster's AWS region: set aws.region (e.g. "
                     "us-east-1) or AWS_REGION; the bootstrap host names none (b-1.NAME.ID.c2.kafka.REGION."
                     "amazonaws.com)", entry(comp, why, at, sizeof at));
        else
            snprintf(msg, sizeof msg, "%s: MSK IAM: %s = %s is not an AWS region (e.g. us-east-1)",
                     entry(comp, why, at, sizeof at), how, region);
        report(cfg, s, r ? r->line : why->line, msg);
    }
    msk_iam_creds c;
    char ce[768];
    if (msk_iam_credentials(&c, ce, sizeof ce) != 0) {
        snprintf(msg, sizeof msg, "%s: MSK IAM: %s", entry(comp, why, at, sizeof at), ce);
        report(cfg, s, why->line, msg);
    } else {
        msk_iam_creds_clear(&c);
    }
}

void msk_iam_validate_client(sh_config *cfg, cfg_section *comp)
{
    validate(cfg, comp, NULL);
}

void msk_iam_validate(pipeline *pl)
{
    seen s = {{0}, 0};
    if (config_section(pl->cfg, SEC_KAFKA, NULL))
        validate(pl->cfg, NULL, &s);
    for (size_t i = 0; i < pl->ninsts; i++)
        if (pl->insts[i]->ext)
            validate(pl->cfg, pl->insts[i]->sec, &s);
    for (size_t i = 0; i < s.n; i++)
        free(s.msg[i]);
}
