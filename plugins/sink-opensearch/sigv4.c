/* sigv4.c - AWS Signature Version 4 for Amazon OpenSearch Service (es) and
 * OpenSearch Serverless (aoss).
 *
 * The four steps of the AWS spec, with OpenSSL's libcrypto for SHA-256 and
 * HMAC:
 *   1. canonical request: method, URI, sorted query, sorted lower-case
 *      headers, signed header names, hex SHA-256 of the payload;
 *   2. string to sign: algorithm, x-amz-date, scope, hex SHA-256 of (1);
 *   3. signing key: HMAC chain "AWS4"+secret -> date -> region -> service ->
 *      "aws4_request";
 *   4. Authorization header with the hex HMAC of (2) under (3).
 * Checked against AWS's published Signature V4 test suite in the unit tests. */
#include "opensearch_sink.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)(data ? data : ""), len, md);
    hex(md, sizeof md, out);
}

static int hmac(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
    unsigned int olen = 32;
    return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &olen)
               ? 0
               : -1;
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

/* RFC 3986 percent-encoding with upper-case hex, as SigV4 requires. */
static void uri_encode(sh_buf *b, const char *s, size_t n, int keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            sh_buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', digits[c >> 4], digits[c & 15]};
            sh_buf_add(b, e, 3);
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into out (which has room for n bytes). */
static int uri_decode(const char *s, size_t n, char *out, size_t *outn)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
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

typedef struct qparam {
    char *key, *value; /* encoded */
} qparam;

static int qparam_cmp(const void *a, const void *b)
{
    const qparam *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Each name and value decoded, re-encoded canonically, sorted by name then
 * value, joined with '&'. */
static int canonical_query(sh_buf *out, const char *query)
{
    if (!query || !*query)
        return 0;
    size_t n = 1;
    for (const char *p = query; *p; p++)
        n += *p == '&';
    qparam *ps = calloc(n, sizeof *ps);
    char *tmp = malloc(strlen(query) + 1);
    int rc = -1;
    size_t np = 0;
    if (!ps || !tmp)
        goto out;
    for (const char *p = query; *p;) {
        size_t len = strcspn(p, "&");
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            const char *v = eq ? eq + 1 : p + len;
            size_t vlen = eq ? len - klen - 1 : 0;
            sh_buf k = {0}, val = {0};
            size_t dn;
            if (uri_decode(p, klen, tmp, &dn) != 0)
                goto out;
            uri_encode(&k, tmp, dn, 0);
            if (uri_decode(v, vlen, tmp, &dn) != 0) {
                sh_buf_free(&k);
                goto out;
            }
            uri_encode(&val, tmp, dn, 0);
            sh_buf_add(&k, "", 0);
            sh_buf_add(&val, "", 0);
            ps[np].key = k.data ? k.data : strdup("");
            ps[np].value = val.data ? val.data : strdup("");
            np++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    qsort(ps, np, sizeof *ps, qparam_cmp);
    for (size_t i = 0; i < np; i++) {
        if (i)
            sh_buf_putc(out, '&');
        sh_buf_puts(out, ps[i].key);
        sh_buf_putc(out, '=');
        sh_buf_puts(out, ps[i].value);
    }
    rc = 0;
out:
    for (size_t i = 0; ps && i < np; i++) {
        free(ps[i].key);
        free(ps[i].value);
    }
    free(ps);
    free(tmp);
    return rc;
}

typedef struct chdr {
    char *name;        /* lower-case */
    const char *value; /* trimmed on output */
} chdr;

static int chdr_cmp(const void *a, const void *b)
{
    return strcmp(((const chdr *)a)->name, ((const chdr *)b)->name);
}

/* "name:value\n" with the value trimmed and inner runs of spaces collapsed. */
static void put_header(sh_buf *b, const chdr *h)
{
    sh_buf_puts(b, h->name);
    sh_buf_putc(b, ':');
    const char *v = h->value;
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
            sh_buf_putc(b, ' ');
        space = 0;
        sh_buf_putc(b, *p);
    }
    sh_buf_putc(b, '\n');
}

void sigv4_amz_date(int64_t epoch_ms, char out[17])
{
    time_t t = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int sigv4_sign(const sigv4_request *rq, sigv4_result *out, sh_buf *creq_out, sh_buf *sts_out)
{
    sha256_hex(rq->body, rq->body_len, out->payload_sha256);
    int token = rq->session_token && *rq->session_token;
    size_t nh = rq->nheaders + 3;
    chdr *hs = calloc(nh, sizeof *hs);
    sh_buf creq = {0}, sts = {0}, signed_names = {0};
    int rc = -1;
    if (!hs)
        return -1;
    size_t k = 0;
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
    for (size_t i = 0; i < k; i++) {
        if (!hs[i].name)
            goto out;
        for (char *p = hs[i].name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    }
    qsort(hs, k, sizeof *hs, chdr_cmp);

    /* 1. canonical request */
    sh_buf_puts(&creq, rq->method);
    sh_buf_putc(&creq, '\n');
    const char *path = rq->path && *rq->path ? rq->path : "/";
    uri_encode(&creq, path, strlen(path), 1);
    sh_buf_putc(&creq, '\n');
    if (canonical_query(&creq, rq->query) != 0)
        goto out;
    sh_buf_putc(&creq, '\n');
    for (size_t i = 0; i < k; i++) {
        put_header(&creq, &hs[i]);
        if (i)
            sh_buf_putc(&signed_names, ';');
        sh_buf_puts(&signed_names, hs[i].name);
    }
    sh_buf_putc(&creq, '\n');
    sh_buf_add(&creq, signed_names.data, signed_names.len);
    sh_buf_putc(&creq, '\n');
    sh_buf_puts(&creq, out->payload_sha256);
    if (creq.oom || signed_names.oom)
        goto out;

    /* 2. string to sign */
    char date[9];
    memcpy(date, rq->amz_date, 8);
    date[8] = '\0';
    char creq_hash[65];
    sha256_hex(creq.data, creq.len, creq_hash);
    sh_buf_puts(&sts, "AWS4-HMAC-SHA256\n");
    sh_buf_puts(&sts, rq->amz_date);
    sh_buf_putc(&sts, '\n');
    sh_buf_puts(&sts, date);
    sh_buf_putc(&sts, '/');
    sh_buf_puts(&sts, rq->region);
    sh_buf_putc(&sts, '/');
    sh_buf_puts(&sts, rq->service);
    sh_buf_puts(&sts, "/aws4_request\n");
    sh_buf_puts(&sts, creq_hash);
    if (sts.oom)
        goto out;

    /* 3. signing key */
    size_t sl = strlen(rq->secret_key);
    char *kbuf = malloc(sl + 5);
    if (!kbuf)
        goto out;
    memcpy(kbuf, "AWS4", 4);
    memcpy(kbuf + 4, rq->secret_key, sl + 1);
    unsigned char kd[32], kr[32], ks[32], kk[32], sig[32];
    int hr = hmac(kbuf, sl + 4, date, 8, kd) | hmac(kd, 32, rq->region, strlen(rq->region), kr) |
             hmac(kr, 32, rq->service, strlen(rq->service), ks) |
             hmac(ks, 32, "aws4_request", 12, kk) | hmac(kk, 32, sts.data, sts.len, sig);
    memset(kbuf, 0, sl + 4);
    free(kbuf);
    if (hr != 0)
        goto out;

    /* 4. Authorization */
    char sighex[65];
    hex(sig, 32, sighex);
    int n = snprintf(out->authorization, sizeof out->authorization,
                     "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
                     "Signature=%s",
                     rq->access_key, date, rq->region, rq->service, signed_names.data, sighex);
    if (n < 0 || (size_t)n >= sizeof out->authorization)
        goto out;
    memset(kd, 0, sizeof kd);
    memset(kr, 0, sizeof kr);
    memset(ks, 0, sizeof ks);
    memset(kk, 0, sizeof kk);
    if (creq_out)
        sh_buf_add(creq_out, creq.data, creq.len);
    if (sts_out)
        sh_buf_add(sts_out, sts.data, sts.len);
    rc = 0;
out:
    for (size_t i = 0; i < k; i++)
        free(hs[i].name);
    free(hs);
    sh_buf_free(&creq);
    sh_buf_free(&sts);
    sh_buf_free(&signed_names);
    return rc;
}
