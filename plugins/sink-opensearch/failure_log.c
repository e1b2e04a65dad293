/* failure_log.c - telling the operator about failures without flooding
 * the log: at most one failure line every FAIL_LOG_EVERY_MS (a change from an
 * outage to a configuration error is reported at once) and one recovery line
 * after failures were reported.  Each failure is one clause naming the cause
 * and the fix (os_failure_why).  Lines name the redacted url, never a
 * credential: text from the server or curl goes through os_redact_secrets. */
#include "opensearch_sink.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define FAIL_LOG_EVERY_MS 30000

os_fail_kind os_failure_kind(CURLcode cc, long status)
{
    if (cc != CURLE_OK) {
        if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
            cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_CONNECT_ERROR)
            return OS_FAIL_REFUSED; /* TLS: the server or its certificate is not the one configured */
        return cc == CURLE_UNSUPPORTED_PROTOCOL ? OS_FAIL_CONFIG : OS_FAIL_OUTAGE;
    }
    if (status == 401 || status == 403)
        return OS_FAIL_REFUSED;
    return status >= 400 && status < 500 && status != 408 && status != 429 ? OS_FAIL_CONFIG : OS_FAIL_OUTAGE;
}

/* "user 'x'" / "the AWS access key AKID..." / "requests without credentials" */
static void identity(const os_config *c, char *out, size_t n)
{
    if (c->auth == OS_AUTH_BASIC)
        snprintf(out, n, "user '%s'", c->username ? c->username : "");
    else if (c->auth == OS_AUTH_SIGV4)
        snprintf(out, n, "AWS access key %s", c->aws_access_key ? c->aws_access_key : "");
    else
        snprintf(out, n, "requests without credentials (auth = none)");
}

void os_failure_why(const os_sink *s, const os_request *rq, CURLcode cc, long status, char *out,
                    size_t outlen)
{
    const os_config *c = &s->cfg;
    if (cc != CURLE_OK) {
        const char *e = rq->errbuf[0] ? rq->errbuf : curl_easy_strerror(cc);
        char ca[300];
        if (c->tls_ca_file)
            snprintf(ca, sizeof ca, "tls.ca_file '%s'", c->tls_ca_file);
        else
            snprintf(ca, sizeof ca, "the system's CA store (tls.ca_file not set)");
        if (cc == CURLE_PEER_FAILED_VERIFICATION && strstr(e, "host name"))
            snprintf(out, outlen,
                     "TLS: the server's certificate does not name the host %s of url (%s); "
                     "write a host name the certificate names in url, or give the server a "
                     "certificate for this one",
                     c->host_header, e);
        else if (cc == CURLE_PEER_FAILED_VERIFICATION)
            snprintf(out, outlen,
                     "TLS: the server's certificate is not signed by a CA in %s (%s); set "
                     "tls.ca_file to the PEM file of the CA that signed it",
                     ca, e);
        else if (cc == CURLE_SSL_CACERT_BADFILE)
            snprintf(out, outlen, "TLS: no usable CA certificate in %s (%s); give a PEM file", ca,
                     e);
        else if (cc == CURLE_SSL_CONNECT_ERROR)
            snprintf(out, outlen, "TLS handshake with %s failed (%s); check that url's port serves https",
                     c->host_header, e);
        else if ((cc == CURLE_GOT_NOTHING || cc == CURLE_RECV_ERROR) &&
                 strncmp(c->base_url, "http://", 7) == 0)
            snprintf(out, outlen, "%s; if the server expects https, write https:// in url", e);
        else
            snprintf(out, outlen, "%s", e);
        os_redact_secrets(c, out, outlen);
        return;
    }
    char sum[300], who[200];
    os_error_summary(rq->resp.data, rq->resp.len, sum, sizeof sum);
    identity(c, who, sizeof who);
    switch (status) {
    case 401:
        if (c->auth == OS_AUTH_BASIC && c->password_env)
            snprintf(out, outlen,
                     "HTTP 401 %s: authentication failed for %s; check username and the password "
                     "in environment variable %s (password_env)",
                     sum, who, c->password_env);
        else if (c->auth == OS_AUTH_BASIC)
            snprintf(out, outlen,
                     "HTTP 401 %s: authentication failed for %s; check the credentials in url", sum,
                     who);
        else if (c->auth == OS_AUTH_SIGV4)
            snprintf(out, outlen,
                     "HTTP 401 %s: the signature of %s was refused; check AWS_ACCESS_KEY_ID, "
                     "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, aws.region and aws.service",
                     sum, who);
        else
            snprintf(out, outlen,
                     "HTTP 401 %s: the cluster requires authentication; set auth = basic "
                     "(username, password_env) or auth = aws_sigv4",
                     sum);
        break;
    case 403:
        snprintf(out, outlen,
                 "HTTP 403 %s: %s lacks a permission; grant its role the permission named above "
                 "on the indices %s* (the sink's README lists what it needs)",
                 sum, who, c->index_prefix);
        break;
    case 404: snprintf(out, outlen, "HTTP 404 %s; check url (host and path prefix)", sum); break;
    case 400: snprintf(out, outlen, "HTTP 400 %s; OpenSearch refused the request itself", sum); break;
    default: snprintf(out, outlen, "HTTP %ld %s", status, sum); break;
    }
    os_redact_secrets(c, out, outlen);
}

void os_note_failure(os_sink *s, const char *subject, CURLcode cc, long status, const char *what)
{
    int64_t now = s->host->mono_ms(s->ctx);
    os_fail_kind kind = os_failure_kind(cc, status);
    int config_problem = kind != OS_FAIL_OUTAGE;
    int refusal = kind == OS_FAIL_REFUSED;
    s->failures_since_ok++;
    if (refusal && !s->refused_since)
        s->refused_since = now;
    if (refusal && s->cfg.auth_timeout_ms && now - s->refused_since >= s->cfg.auth_timeout_ms && !s->fatal) {
        char line[1024];
        snprintf(line, sizeof line,
                 "%s at %s still refused after auth.timeout (%lld ms): %s; stopping (exit 1): the %" PRIu64
                 " documents held are not committed and are read again after a restart",
                 subject, s->cfg.url_redacted, (long long)s->cfg.auth_timeout_ms, what, s->live_docs);
        os_redact_secrets(&s->cfg, line, sizeof line);
        s->host->log(s->ctx, SH_LOG_ERROR, "%s", line);
        s->fatal = 1;
        return;
    }
    /* a change of kind (outage -> refused credentials) is reported at once */
    if (s->fail_logged && now - s->last_fail_log_ms < FAIL_LOG_EVERY_MS &&
        config_problem == s->fail_logged_config)
        return;
    s->last_fail_log_ms = now;
    s->fail_logged = 1;
    s->fail_logged_config = config_problem;
    snprintf(s->fail_logged_why, sizeof s->fail_logged_why, "%s", what);
    char line[1024];
    snprintf(line, sizeof line,
             "%s at %s failed: %s (%" PRIu64 " failed in a row; retrying with backoff; "
             "%" PRIu64 " documents held)",
             subject, s->cfg.url_redacted, what, s->failures_since_ok, s->live_docs);
    os_redact_secrets(&s->cfg, line, sizeof line);
    s->host->log(s->ctx, config_problem ? SH_LOG_ERROR : SH_LOG_WARN, "%s", line);
}

void os_note_success(os_sink *s)
{
    if (s->fail_logged && s->host->mono_ms(s->ctx) - s->last_fail_log_ms >= 1000) {
        s->host->log(s->ctx, SH_LOG_INFO,
                     "OpenSearch at %s accepts requests again after %" PRIu64 " failed ones",
                     s->cfg.url_redacted, s->failures_since_ok);
        s->fail_logged = 0;
        s->fail_logged_why[0] = '\0';
    }
    s->failures_since_ok = 0;
    s->refused_since = 0;
}
