/* What the sink says when a request fails (os_failure_why): one clause with
 * the cause and the fix for a wrong password, a refused permission, an
 * unknown CA and a host name mismatch; and secrets a server or curl echoes
 * back are redacted (os_redact_secrets) before anything is logged. */
#include "sink_fixture.h"

static void fixture(os_sink *s, os_request *rq)
{
    memset(s, 0, sizeof *s);
    memset(rq, 0, sizeof *rq);
    s->cfg.auth = OS_AUTH_BASIC;
    s->cfg.username = "writer";
    s->cfg.password = "hunter2-secret";
    s->cfg.basic_b64 = "d3JpdGVyOmh1bnRlcjItc2VjcmV0"; /* writer:hunter2-secret */
    s->cfg.password_env = "OPENSEARCH_PASSWORD";
    s->cfg.host_header = "127.0.0.1:9250";
    s->cfg.base_url = "https://127.0.0.1:9250";
    s->cfg.index_prefix = "prod-";
    s->cfg.tls_ca_file = "/etc/streamhost/ca.pem";
}

static void set_body(os_request *rq, const char *body)
{
    rq->resp.len = 0;
    sh_buf_puts(&rq->resp, body);
}

static void http_401_names_the_user_and_the_variable(void **st)
{
    (void)st;
    os_sink s;
    os_request rq;
    fixture(&s, &rq);
    set_body(&rq, "Unauthorized");
    char why[512];
    os_failure_why(&s, &rq, CURLE_OK, 401, why, sizeof why);
    assert_string_equal(why, "HTTP 401 Unauthorized: authentication failed for user 'writer'; "
                             "check username and the password in environment variable "
                             "OPENSEARCH_PASSWORD (password_env)");
    assert_int_equal(os_failure_kind(CURLE_OK, 401), OS_FAIL_REFUSED);
    /* credentials from the url */
    s.cfg.password_env = NULL;
    os_failure_why(&s, &rq, CURLE_OK, 401, why, sizeof why);
    assert_non_null(strstr(why, "check the credentials in url"));
    /* SigV4 and no auth */
    s.cfg.auth = OS_AUTH_SIGV4;
    s.cfg.aws_access_key = "AKIDEXAMPLE";
    os_failure_why(&s, &rq, CURLE_OK, 401, why, sizeof why);
    assert_non_null(strstr(why, "the signature of AWS access key AKIDEXAMPLE was refused"));
    s.cfg.auth = OS_AUTH_NONE;
    os_failure_why(&s, &rq, CURLE_OK, 401, why, sizeof why);
    assert_non_null(strstr(why, "the cluster requires authentication; set auth = basic"));
    sh_buf_free(&rq.resp);
}

static void http_403_names_the_permission_and_the_user(void **st)
{
    (void)st;
    os_sink s;
    os_request rq;
    fixture(&s, &rq);
    set_body(&rq, "{\"error\":{\"type\":\"security_exception\",\"reason\":\"no permissions for "
                  "[indices:data/write/bulk] and User [name=writer]\"},\"status\":403}");
    char why[512];
    os_failure_why(&s, &rq, CURLE_OK, 403, why, sizeof why);
    assert_string_equal(why, "HTTP 403 security_exception: no permissions for "
                             "[indices:data/write/bulk] and User [name=writer]: user 'writer' "
                             "lacks a permission; grant its role the permission named above on "
                             "the indices prod-* (the sink's README lists what it needs)");
    assert_int_equal(os_failure_kind(CURLE_OK, 403), OS_FAIL_REFUSED);
    assert_int_equal(os_failure_kind(CURLE_OK, 404), OS_FAIL_CONFIG);
    assert_int_equal(os_failure_kind(CURLE_OK, 400), OS_FAIL_CONFIG);
    assert_int_equal(os_failure_kind(CURLE_OK, 408), OS_FAIL_OUTAGE);
    assert_int_equal(os_failure_kind(CURLE_OK, 503), OS_FAIL_OUTAGE);
    assert_int_equal(os_failure_kind(CURLE_OK, 429), OS_FAIL_OUTAGE);
    sh_buf_free(&rq.resp);
}

static void tls_failures_name_the_fix(void **st)
{
    (void)st;
    os_sink s;
    os_request rq;
    fixture(&s, &rq);
    char why[512];
    snprintf(rq.errbuf, sizeof rq.errbuf, "SSL certificate problem: unable to get local issuer certificate");
    os_failure_why(&s, &rq, CURLE_PEER_FAILED_VERIFICATION, 0, why, sizeof why);
    assert_string_equal(why, "TLS: the server's certificate is not signed by a CA in tls.ca_file "
                             "'/etc/streamhost/ca.pem' (SSL certificate problem: unable to get "
                             "local issuer certificate); set tls.ca_file to the PEM file of the CA "
                             "that signed it");
    s.cfg.tls_ca_file = NULL;
    os_failure_why(&s, &rq, CURLE_PEER_FAILED_VERIFICATION, 0, why, sizeof why);
    assert_non_null(strstr(why, "a CA in the system's CA store (tls.ca_file not set)"));
    snprintf(rq.errbuf, sizeof rq.errbuf,
             "SSL: no alternative certificate subject name matches target host name '127.0.0.1'");
    os_failure_why(&s, &rq, CURLE_PEER_FAILED_VERIFICATION, 0, why, sizeof why);
    assert_non_null(strstr(why, "TLS: the server's certificate does not name the host "
                                "127.0.0.1:9250 of url (SSL: no alternative"));
    assert_int_equal(os_failure_kind(CURLE_PEER_FAILED_VERIFICATION, 0), OS_FAIL_REFUSED);
    assert_int_equal(os_failure_kind(CURLE_SSL_CONNECT_ERROR, 0), OS_FAIL_REFUSED);
    assert_int_equal(os_failure_kind(CURLE_UNSUPPORTED_PROTOCOL, 0), OS_FAIL_CONFIG);
    assert_int_equal(os_failure_kind(CURLE_COULDNT_CONNECT, 0), OS_FAIL_OUTAGE);
    assert_int_equal(os_failure_kind(CURLE_OPERATION_TIMEDOUT, 0), OS_FAIL_OUTAGE);
    /* an outage stays as curl says it */
    snprintf(rq.errbuf, sizeof rq.errbuf, "Failed to connect to 127.0.0.1 port 9250");
    os_failure_why(&s, &rq, CURLE_COULDNT_CONNECT, 0, why, sizeof why);
    assert_string_equal(why, "Failed to connect to 127.0.0.1 port 9250");
}

static void echoed_secrets_are_redacted(void **st)
{
    (void)st;
    os_sink s;
    os_request rq;
    fixture(&s, &rq);
    /* a proxy that echoes the request's Authorization header and the password */
    set_body(&rq, "{\"error\":{\"type\":\"proxy_error\",\"reason\":\"bad Authorization: Basic "
                  "d3JpdGVyOmh1bnRlcjItc2VjcmV0 (password hunter2-secret)\"}}");
    char why[512];
    os_failure_why(&s, &rq, CURLE_OK, 502, why, sizeof why);
    assert_null(strstr(why, "hunter2-secret"));
    assert_null(strstr(why, "d3JpdGVyOmh1bnRlcjItc2VjcmV0"));
    assert_non_null(strstr(why, "Basic <redacted> (password <redacted>)"));
    sh_buf_free(&rq.resp);

    /* AWS secrets; several occurrences; a buffer too small for the marks */
    os_config c;
    memset(&c, 0, sizeof c);
    c.aws_secret_key = "wJalrXUtnFEMI/K7MDENG";
    c.aws_session_token = "IQoJtoken==";
    char buf[64] = "k=wJalrXUtnFEMI/K7MDENG t=IQoJtoken== k=wJalrXUtnFEMI/K7MDENG";
    os_redact_secrets(&c, buf, sizeof buf);
    assert_string_equal(buf, "k=<redacted> t=<redacted> k=<redacted>");
    char small[16] = "ab";
    strcpy(small, "x=IQoJtoken==");
    os_redact_secrets(&c, small, sizeof small);
    assert_string_equal(small, "x=<redacted>");
    char tight[8];
    strcpy(tight, "IQoJtok");
    c.aws_session_token = "IQoJtok";
    os_redact_secrets(&c, tight, sizeof tight);
    assert_string_equal(tight, "<redact"); /* truncated, never the secret, never an overflow */
    /* nothing to redact: unchanged; no secrets configured: unchanged */
    char plain[32] = "nothing secret here";
    os_redact_secrets(&c, plain, sizeof plain);
    assert_string_equal(plain, "nothing secret here");
    memset(&c, 0, sizeof c);
    os_redact_secrets(&c, plain, sizeof plain);
    assert_string_equal(plain, "nothing secret here");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_401_names_the_user_and_the_variable),
        cmocka_unit_test(http_403_names_the_permission_and_the_user),
        cmocka_unit_test(tls_failures_name_the_fix),
        cmocka_unit_test(echoed_secrets_are_redacted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
