/*
 * streamhost/sigv4.h - AWS Signature Version 4, header-only.
 *
 * One implementation for everything in streamhost that talks to AWS: the
 * OpenSearch sink signs its requests with sh_sigv4_sign (Authorization
 * header), and the host can presign a URL with sh_sigv4_presign (query-string
 * signature, as botocore's SigV4QueryAuth does; MSK IAM's OAUTHBEARER token
 * is such a URL for GET /?Action=kafka-cluster%3AConnect, X-Amz-Expires=900).
 * Depends on libc and OpenSSL's libcrypto only (SHA-256, HMAC); every
 * function is static inline, so including it is all a user needs.
 *
 * The four steps of the AWS spec:
 *   1. canonical request: method, URI, sorted query, sorted lower-case
 *      headers, signed header names, hex SHA-256 of the payload;
 *   2. string to sign: algorithm, x-amz-date, scope, hex SHA-256 of (1);
 *   3. signing key: HMAC chain "AWS4"+secret -> date -> region -> service ->
 *      "aws4_request";
 *   4. the hex HMAC of (2) under (3), in an Authorization header or as the
 *      X-Amz-Signature query parameter.
 * Checked against AWS's published Signature V4 test suite (the OpenSearch
 * sink's unit tests) and against botocore's SigV4Auth and SigV4QueryAuth on
 * real requests (tests/integration/sigv4_botocore.sh).
 */
#ifndef STREAMHOST_SIGV4_H
#define STREAMHOST_SIGV4_H

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A header to sign (any case; it is lower-cased for signing). */
typedef struct sh_sigv4_header {
    const char *name;
    const char *value;
} sh_sigv4_header;

/** A request to sign with an Authorization header. */
typedef struct sh_sigv4_request {
    const char *method;
    const char *path;            /**< as sent on the request line ("/_bulk") */
    const char *query;           /**< as sent, without '?', or NULL */
    const sh_sigv4_header *headers; /**< headers to sign besides x-amz-*: host at least */
    size_t nheaders;
    const void *body;            /**< the body exactly as sent (compressed if it is) */
    size_t body_len;
    const char *amz_date;        /**< "20150830T123600Z" (sh_sigv4_amz_date) */
    const char *region, *service;
    const char *access_key, *secret_key;
    const char *session_token;   /**< NULL or "" when none; signed as x-amz-security-token */
    int sign_content_sha256;     /**< add and sign x-amz-content-sha256 (aoss needs it) */
} sh_sigv4_request;

/** What to send: the Authorization header's value, and the payload hash
 *  (the x-amz-content-sha256 value). */
typedef struct sh_sigv4_result {
    char authorization[512];
    char payload_sha256[65];
} sh_sigv4_result;

/** A URL to presign (query-string authentication). */
typedef struct sh_sigv4_presign_request {
    const char *method;        /**< "GET" */
    const char *host;          /**< the Host header: host[:port] ("kafka.us-east-1.amazonaws.com") */
    const char *path;          /**< "/" when NULL or "" */
    const char *query;         /**< the request's own parameters, without '?', or NULL
                                    ("Action=kafka-cluster%3AConnect") */
    long expires_s;            /**< X-Amz-Expires, 1..604800 (MSK IAM: 900) */
    const char *amz_date;
    const char *region, *service; /**< MSK IAM: the cluster's region, "kafka-cluster" */
    const char *access_key, *secret_key;
    const char *session_token; /**< NULL or "": sent (and signed) as X-Amz-Security-Token */
} sh_sigv4_presign_request;

/* ---- internals ----------------------------------------------------------- */

typedef struct sh_sigv4__buf {
    char *data;
    size_t len, cap;
    int oom;
} sh_sigv4__buf;

static inline void sh_sigv4__add(sh_sigv4__buf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = (char *)realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void sh_sigv4__puts(sh_sigv4__buf *b, const char *s)
{
    sh_sigv4__add(b, s, strlen(s));
}

static inline void sh_sigv4__putc(sh_sigv4__buf *b, char c)
{
    sh_sigv4__add(b, &c, 1);
}

/* Frees b, wiping it first (it may hold a session token). */
static inline void sh_sigv4__free(sh_sigv4__buf *b)
{
    if (b->data) {
        volatile char *p = b->data;
        for (size_t i = 0; i < b->cap; i++)
            p[i] = 0;
        free(b->data);
    }
    memset(b, 0, sizeof *b);
}

/* Hands b's string to the caller (*out, malloc'd) or frees it. */
static inline void sh_sigv4__give(sh_sigv4__buf *b, char **out)
{
    if (out) {
        *out = b->data ? b->data : strdup("");
        memset(b, 0, sizeof *b);
    }
}

static inline void sh_sigv4__hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static inline void sh_sigv4__sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)(data ? data : ""), len, md);
    sh_sigv4__hex(md, sizeof md, out);
}

static inline int sh_sigv4__hmac(const void *key, size_t klen, const void *msg, size_t mlen,
                                 unsigned char out[32])
{
    unsigned int olen = 32;
    return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &olen) ? 0
                                                                                           : -1;
}

/* RFC 3986 percent-encoding with upper-case hex, as SigV4 requires. */
static inline void sh_sigv4__uri_encode(sh_sigv4__buf *b, const char *s, size_t n, int keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
            sh_sigv4__putc(b, (char)c);
        } else {
            char e[3] = {'%', digits[c >> 4], digits[c & 15]};
            sh_sigv4__add(b, e, 3);
        }
    }
}

static inline int sh_sigv4__hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into out (room for n bytes); -1 on a broken escape. */
static inline int sh_sigv4__uri_decode(const char *s, size_t n, char *out, size_t *outn)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n)
                return -1;
            int h = sh_sigv4__hexval(s[i + 1]), l = sh_sigv4__hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    *outn = o;
    return 0;
}

typedef struct sh_sigv4__param {
    char *key, *value; /* canonically encoded */
} sh_sigv4__param;

static inline int sh_sigv4__param_cmp(const void *a, const void *b)
{
    const sh_sigv4__param *x = (const sh_sigv4__param *)a, *y = (const sh_sigv4__param *)b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Splits query at '&' and '=', each name and value decoded and re-encoded
 * canonically, into *ps (in the query's order).  Returns the count, or -1 on
 * a broken escape or out of memory. */
static inline long sh_sigv4__params(const char *query, sh_sigv4__param **out)
{
    *out = NULL;
    if (!query || !*query)
        return 0;
    size_t n = 1;
    for (const char *p = query; *p; p++)
        n += *p == '&';
    sh_sigv4__param *ps = (sh_sigv4__param *)calloc(n, sizeof *ps);
    char *tmp = (char *)malloc(strlen(query) + 1);
    size_t np = 0;
    int ok = ps && tmp;
    for (const char *p = query; ok && *p;) {
        size_t len = strcspn(p, "&");
        if (len) {
            const char *eq = (const char *)memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            const char *v = eq ? eq + 1 : p + len;
            size_t vlen = eq ? len - klen - 1 : 0, dn;
            sh_sigv4__buf k = {0}, val = {0};
            if (sh_sigv4__uri_decode(p, klen, tmp, &dn) != 0) {
                ok = 0;
                break;
            }
            sh_sigv4__uri_encode(&k, tmp, dn, 0);
            if (sh_sigv4__uri_decode(v, vlen, tmp, &dn) != 0) {
                sh_sigv4__free(&k);
                ok = 0;
                break;
            }
            sh_sigv4__uri_encode(&val, tmp, dn, 0);
            sh_sigv4__add(&k, "", 0);
            sh_sigv4__add(&val, "", 0);
            ps[np].key = k.data ? k.data : strdup("");
            ps[np].value = val.data ? val.data : strdup("");
            np++;
            if (k.oom || val.oom || !ps[np - 1].key || !ps[np - 1].value)
                ok = 0;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    free(tmp);
    if (!ok) {
        for (size_t i = 0; ps && i < np; i++) {
            free(ps[i].key);
            free(ps[i].value);
        }
        free(ps);
        return -1;
    }
    *out = ps;
    return (long)np;
}

static inline void sh_sigv4__wipe_str(char *s)
{
    if (s) {
        volatile char *p = s;
        while (*p)
            *p++ = 0;
        free(s);
    }
}

static inline void sh_sigv4__params_free(sh_sigv4__param *ps, long n)
{
    for (long i = 0; ps && i < n; i++) {
        sh_sigv4__wipe_str(ps[i].key);
        sh_sigv4__wipe_str(ps[i].value);
    }
    free(ps);
}

/* The canonical query string: parameters sorted by name then value. */
static inline int sh_sigv4__canonical_query(sh_sigv4__buf *out, const char *query)
{
    sh_sigv4__param *ps;
    long np = sh_sigv4__params(query, &ps);
    if (np < 0)
        return -1;
    if (np > 1)
        qsort(ps, (size_t)np, sizeof *ps, sh_sigv4__param_cmp);
    for (long i = 0; i < np; i++) {
        if (i)
            sh_sigv4__putc(out, '&');
        sh_sigv4__puts(out, ps[i].key);
        sh_sigv4__putc(out, '=');
        sh_sigv4__puts(out, ps[i].value);
    }
    sh_sigv4__params_free(ps, np);
    return 0;
}

typedef struct sh_sigv4__hdr {
    char *name;        /* lower-case */
    const char *value; /* trimmed on output */
} sh_sigv4__hdr;

static inline int sh_sigv4__hdr_cmp(const void *a, const void *b)
{
    return strcmp(((const sh_sigv4__hdr *)a)->name, ((const sh_sigv4__hdr *)b)->name);
}

/* "name:value\n" with the value trimmed and inner runs of spaces collapsed. */
static inline void sh_sigv4__put_header(sh_sigv4__buf *b, const sh_sigv4__hdr *h)
{
    sh_sigv4__puts(b, h->name);
    sh_sigv4__putc(b, ':');
    const char *v = h->value ? h->value : "";
    while (*v == ' ' || *v == '\t')
        v++;
    const char *end = v + strlen(v);
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    int space = 0;
    for (const char *p = v; p < end; p++) {
        if (*p == ' ' || *p == '\t') {
            space = 1;
            continue;
        }
        if (space)
            sh_sigv4__putc(b, ' ');
        space = 0;
        sh_sigv4__putc(b, *p);
    }
    sh_sigv4__putc(b, '\n');
}

/* Steps 1-4 over headers hs[0..k) (names lower-cased here, sorted here) and
 * an already canonical query: the hex signature into sighex, the signed
 * header names into signed_names; creq/sts (optional) get copies. */
static inline int sh_sigv4__signature(const char *method, const char *path, const char *canon_query,
                                      sh_sigv4__hdr *hs, size_t k, const char *payload_hash,
                                      const char *amz_date, const char *region,
                                      const char *service, const char *secret_key,
                                      char sighex[65], sh_sigv4__buf *signed_names,
                                      char **creq_out, char **sts_out)
{
    sh_sigv4__buf creq = {0}, sts = {0};
    int rc = -1;
    if (!amz_date || strlen(amz_date) != 16 || !region || !service || !secret_key)
        return -1;
    for (size_t i = 0; i < k; i++) {
        if (!hs[i].name)
            return -1;
        for (char *p = hs[i].name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    }
    qsort(hs, k, sizeof *hs, sh_sigv4__hdr_cmp);

    /* 1. canonical request */
    sh_sigv4__puts(&creq, method);
    sh_sigv4__putc(&creq, '\n');
    const char *p = path && *path ? path : "/";
    sh_sigv4__uri_encode(&creq, p, strlen(p), 1);
    sh_sigv4__putc(&creq, '\n');
    sh_sigv4__puts(&creq, canon_query ? canon_query : "");
    sh_sigv4__putc(&creq, '\n');
    for (size_t i = 0; i < k; i++) {
        sh_sigv4__put_header(&creq, &hs[i]);
        if (i)
            sh_sigv4__putc(signed_names, ';');
        sh_sigv4__puts(signed_names, hs[i].name);
    }
    sh_sigv4__putc(&creq, '\n');
    sh_sigv4__add(&creq, signed_names->data ? signed_names->data : "", signed_names->len);
    sh_sigv4__putc(&creq, '\n');
    sh_sigv4__puts(&creq, payload_hash);
    if (creq.oom || signed_names->oom)
        goto out;

    /* 2. string to sign */
    char date[9];
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    char creq_hash[65];
    sh_sigv4__sha256_hex(creq.data, creq.len, creq_hash);
    sh_sigv4__puts(&sts, "AWS4-HMAC-SHA256\n");
    sh_sigv4__puts(&sts, amz_date);
    sh_sigv4__putc(&sts, '\n');
    sh_sigv4__puts(&sts, date);
    sh_sigv4__putc(&sts, '/');
    sh_sigv4__puts(&sts, region);
    sh_sigv4__putc(&sts, '/');
    sh_sigv4__puts(&sts, service);
    sh_sigv4__puts(&sts, "/aws4_request\n");
    sh_sigv4__puts(&sts, creq_hash);
    if (sts.oom)
        goto out;

    /* 3. signing key */
    {
        size_t sl = strlen(secret_key);
        char *kbuf = (char *)malloc(sl + 5);
        if (!kbuf)
            goto out;
        memcpy(kbuf, "AWS4", 4);
        memcpy(kbuf + 4, secret_key, sl + 1);
        unsigned char kd[32], kr[32], ks[32], kk[32], sig[32];
        int hr = sh_sigv4__hmac(kbuf, sl + 4, date, 8, kd) |
                 sh_sigv4__hmac(kd, 32, region, strlen(region), kr) |
                 sh_sigv4__hmac(kr, 32, service, strlen(service), ks) |
                 sh_sigv4__hmac(ks, 32, "aws4_request", 12, kk) |
                 sh_sigv4__hmac(kk, 32, sts.data, sts.len, sig);
        memset(kbuf, 0, sl + 4);
        free(kbuf);
        memset(kd, 0, sizeof kd);
        memset(kr, 0, sizeof kr);
        memset(ks, 0, sizeof ks);
        memset(kk, 0, sizeof kk);
        if (hr != 0)
            goto out;
        /* 4. the signature */
        sh_sigv4__hex(sig, 32, sighex);
    }
    sh_sigv4__give(&creq, creq_out);
    sh_sigv4__give(&sts, sts_out);
    rc = 0;
out:
    sh_sigv4__free(&creq);
    sh_sigv4__free(&sts);
    return rc;
}

/* ---- the API ------------------------------------------------------------- */

/** Formats epoch milliseconds as the x-amz-date value ("20150830T123600Z"). */
static inline void sh_sigv4_amz_date(int64_t epoch_ms, char out[17])
{
    time_t t = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/** Signs rq: out gets the Authorization value and the payload hash.  Send
 *  the signed headers exactly: X-Amz-Date = rq->amz_date, and when asked
 *  X-Amz-Content-Sha256 = out->payload_sha256, X-Amz-Security-Token.  When
 *  creq/sts are not NULL they receive (malloc'd) the canonical request and
 *  the string to sign.  Returns 0, or -1 on a malformed query or out of
 *  memory. */
static inline int sh_sigv4_sign(const sh_sigv4_request *rq, sh_sigv4_result *out, char **creq,
                                char **sts)
{
    sh_sigv4__sha256_hex(rq->body, rq->body_len, out->payload_sha256);
    int token = rq->session_token && *rq->session_token;
    sh_sigv4__hdr *hs = (sh_sigv4__hdr *)calloc(rq->nheaders + 3, sizeof *hs);
    sh_sigv4__buf q = {0}, names = {0};
    int rc = -1;
    size_t k = 0;
    if (!hs)
        return -1;
    for (size_t i = 0; i < rq->nheaders; i++, k++) {
        hs[k].name = strdup(rq->headers[i].name);
        hs[k].value = rq->headers[i].value;
    }
    hs[k].name = strdup("x-amz-date");
    hs[k++].value = rq->amz_date;
    if (rq->sign_content_sha256) {
        hs[k].name = strdup("x-amz-content-sha256");
        hs[k++].value = out->payload_sha256;
    }
    if (token) {
        hs[k].name = strdup("x-amz-security-token");
        hs[k++].value = rq->session_token;
    }
    char sighex[65], date[9];
    if (sh_sigv4__canonical_query(&q, rq->query) != 0 || q.oom)
        goto out;
    if (sh_sigv4__signature(rq->method, rq->path, q.data, hs, k, out->payload_sha256,
                            rq->amz_date, rq->region, rq->service, rq->secret_key, sighex, &names,
                            creq, sts) != 0)
        goto out;
    memcpy(date, rq->amz_date, 8);
    date[8] = '\0';
    {
        int n = snprintf(out->authorization, sizeof out->authorization,
                         "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
                         "SignedHeaders=%s, Signature=%s",
                         rq->access_key, date, rq->region, rq->service, names.data, sighex);
        if (n < 0 || (size_t)n >= sizeof out->authorization)
            goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; i < k; i++)
        free(hs[i].name);
    free(hs);
    sh_sigv4__free(&q);
    sh_sigv4__free(&names);
    return rc;
}

/** Presigns a request in its query string, as botocore's SigV4QueryAuth
 *  does: returns (malloc'd; free it) the query string to send after '?',
 *  byte for byte botocore's order: the request's own parameters (each
 *  re-encoded), then X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
 *  X-Amz-Expires, X-Amz-SignedHeaders=host, X-Amz-Security-Token (with a
 *  session token) and X-Amz-Signature.  Only host is signed and the payload
 *  is the empty body's hash.  NULL on a malformed query, an expiry out of
 *  1..604800 s, or out of memory.
 *
 *  MSK IAM (the host's OAUTHBEARER token): method "GET", host
 *  "kafka.<region>.amazonaws.com", path "/", query
 *  "Action=kafka-cluster%3AConnect", expires_s 900, service "kafka-cluster";
 *  the token is then base64url (no padding) of
 *  "https://<host>/?<this>&User-Agent=<agent>" (the User-Agent parameter is
 *  added after signing, unsigned, as Amazon's signer libraries do). */
static inline char *sh_sigv4_presign(const sh_sigv4_presign_request *rq)
{
    if (!rq->method || !rq->host || !rq->access_key || !rq->amz_date ||
        strlen(rq->amz_date) != 16 || !rq->region || !rq->service || rq->expires_s < 1 ||
        rq->expires_s > 604800)
        return NULL;
    sh_sigv4__param *ps = NULL;
    long np = sh_sigv4__params(rq->query, &ps);
    if (np < 0)
        return NULL;
    sh_sigv4__buf qs = {0}, canon = {0}, names = {0};
    char *result = NULL;
    char date[9], expires[24], sighex[65], empty_hash[65];
    memcpy(date, rq->amz_date, 8);
    date[8] = '\0';
    snprintf(expires, sizeof expires, "%ld", rq->expires_s);
    sh_sigv4__sha256_hex("", 0, empty_hash);
    /* the request's own parameters, in their order */
    for (long i = 0; i < np; i++) {
        sh_sigv4__puts(&qs, ps[i].key);
        sh_sigv4__putc(&qs, '=');
        sh_sigv4__puts(&qs, ps[i].value);
        sh_sigv4__putc(&qs, '&');
    }
    /* then the authentication parameters (values encoded, names are plain) */
    const char *tok = rq->session_token && *rq->session_token ? rq->session_token : NULL;
    sh_sigv4__puts(&qs, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
    sh_sigv4__uri_encode(&qs, rq->access_key, strlen(rq->access_key), 0);
    sh_sigv4__puts(&qs, "%2F");
    sh_sigv4__puts(&qs, date);
    sh_sigv4__puts(&qs, "%2F");
    sh_sigv4__uri_encode(&qs, rq->region, strlen(rq->region), 0);
    sh_sigv4__puts(&qs, "%2F");
    sh_sigv4__uri_encode(&qs, rq->service, strlen(rq->service), 0);
    sh_sigv4__puts(&qs, "%2Faws4_request&X-Amz-Date=");
    sh_sigv4__puts(&qs, rq->amz_date);
    sh_sigv4__puts(&qs, "&X-Amz-Expires=");
    sh_sigv4__puts(&qs, expires);
    sh_sigv4__puts(&qs, "&X-Amz-SignedHeaders=host");
    if (tok) {
        sh_sigv4__puts(&qs, "&X-Amz-Security-Token=");
        sh_sigv4__uri_encode(&qs, tok, strlen(tok), 0);
    }
    sh_sigv4__hdr h = {strdup("host"), rq->host};
    if (qs.oom || !h.name || sh_sigv4__canonical_query(&canon, qs.data) != 0 || canon.oom)
        goto out;
    if (sh_sigv4__signature(rq->method, rq->path, canon.data, &h, 1, empty_hash, rq->amz_date,
                            rq->region, rq->service, rq->secret_key, sighex, &names, NULL,
                            NULL) != 0)
        goto out;
    sh_sigv4__puts(&qs, "&X-Amz-Signature=");
    sh_sigv4__puts(&qs, sighex);
    if (qs.oom)
        goto out;
    sh_sigv4__give(&qs, &result);
out:
    free(h.name);
    sh_sigv4__params_free(ps, np);
    sh_sigv4__free(&qs);
    sh_sigv4__free(&canon);
    sh_sigv4__free(&names);
    return result;
}

#ifdef __cplusplus
}
#endif

#endif
