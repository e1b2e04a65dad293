/* AWS Signature Version 4 against AWS's published test suite
 * (aws-sig-v4-test-suite: credentials AKIDEXAMPLE, 20150830T123600Z,
 * us-east-1, service "service").  Expected canonical requests, strings to
 * sign and Authorization values are copied from the suite's .creq, .sts and
 * .authz files, not computed here. */
#include "sink_fixture.h"

#define AK "AKIDEXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define DATE "20150830T123600Z"
#define SCOPE "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct vector {
    const char *name, *method, *path, *query, *body;
    const char *content_type; /* signed when not NULL */
    const char *token;
    const char *creq, *sts, *authz; /* creq/sts NULL: suite gives only authz */
} vector;

static const vector vectors[] = {
    {"get-vanilla", "GET", "/", NULL, "", NULL, NULL,
     "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" EMPTY_SHA,
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
     "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=host;x-amz-date, "
     "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"post-vanilla", "POST", "/", NULL, "", NULL, NULL,
     "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" EMPTY_SHA,
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
     "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=host;x-amz-date, "
     "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {"get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1", "", NULL, NULL,
     "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
     "host;x-amz-date\n" EMPTY_SHA,
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
     "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=host;x-amz-date, "
     "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
    {"get-vanilla-query-order-key", "GET", "/", "Param1=value2&Param1=Value1", "", NULL, NULL,
     "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
     "host;x-amz-date\n" EMPTY_SHA,
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
     "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=host;x-amz-date, "
     "Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"},
    {"post-x-www-form-urlencoded", "POST", "/", NULL, "Param1=value1",
     "application/x-www-form-urlencoded", NULL,
     "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
     "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
     "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
     "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=content-type;host;x-amz-date, "
     "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
    {"post-sts-header-before", "POST", "/", NULL, "", NULL,
     "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSP"
     "fIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7"
     "WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8"
     "FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
     NULL, NULL,
     "AWS4-HMAC-SHA256 " SCOPE ", SignedHeaders=host;x-amz-date;x-amz-security-token, "
     "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"},
};

static void published_vectors(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const vector *v = &vectors[i];
        sigv4_header hs[2] = {{"Host", "example.amazonaws.com"}, {"Content-Type", v->content_type}};
        size_t nh = v->content_type ? 2 : 1;
        sigv4_request rq = {.method = v->method, .path = v->path, .query = v->query,
                            .headers = hs, .nheaders = nh, .body = v->body,
                            .body_len = strlen(v->body), .amz_date = DATE,
                            .region = "us-east-1", .service = "service", .access_key = AK,
                            .secret_key = SK, .session_token = v->token};
        sigv4_result res;
        sh_buf creq = {0}, sts = {0};
        print_message("vector %s\n", v->name);
        assert_int_equal(sigv4_sign(&rq, &res, &creq, &sts), 0);
        if (v->creq)
            assert_string_equal(creq.data, v->creq);
        if (v->sts)
            assert_string_equal(sts.data, v->sts);
        assert_string_equal(res.authorization, v->authz);
        sh_buf_free(&creq);
        sh_buf_free(&sts);
    }
}

/* What the sink signs for OpenSearch: host, x-amz-content-sha256 (required
 * by aoss), x-amz-date, and the filter_path query as sent. */
static void opensearch_request_shape(void **st)
{
    (void)st;
    sigv4_header h = {"host", "search-x.us-east-1.es.amazonaws.com"};
    const char *body = "{\"index\":{}}\n{}\n";
    sigv4_request rq = {.method = "POST", .path = "/_bulk",
                        .query = "filter_path=errors%2Citems.%2A.status",
                        .headers = &h, .nheaders = 1, .body = body, .body_len = strlen(body),
                        .amz_date = DATE, .region = "us-east-1", .service = "aoss",
                        .access_key = AK, .secret_key = SK, .sign_content_sha256 = 1};
    sigv4_result res;
    sh_buf creq = {0};
    assert_int_equal(sigv4_sign(&rq, &res, &creq, NULL), 0);
    assert_non_null(strstr(creq.data, "\n/_bulk\nfilter_path=errors%2Citems.%2A.status\n"));
    assert_non_null(strstr(creq.data, "x-amz-content-sha256:"));
    assert_non_null(strstr(res.authorization, "/us-east-1/aoss/aws4_request, SignedHeaders="
                                              "host;x-amz-content-sha256;x-amz-date, Signature="));
    /* the query's raw form (commas, asterisks) canonicalises the same */
    sigv4_result res2;
    rq.query = "filter_path=errors,items.*.status";
    assert_int_equal(sigv4_sign(&rq, &res2, NULL, NULL), 0);
    assert_string_equal(res.authorization, res2.authorization);
    assert_string_equal(res.payload_sha256,
                        res2.payload_sha256);
    sh_buf_free(&creq);
    /* a broken escape is refused, not signed wrongly */
    rq.query = "a=%zz";
    assert_int_equal(sigv4_sign(&rq, &res2, NULL, NULL), -1);
}

static void amz_date_format(void **st)
{
    (void)st;
    char d[17];
    sigv4_amz_date(1440938160000LL, d);
    assert_string_equal(d, DATE);
}

/* include/streamhost/sigv4.h's presigning (the host's MSK IAM tokens):
 * the expected query string is botocore 1.44.8's SigV4QueryAuth output for
 * the same request and clock (tests/integration/sigv4_botocore.sh compares
 * more cases with botocore itself). */
static void presign_known_answer(void **st)
{
    (void)st;
    char date[17];
    sh_sigv4_amz_date(1764597600000LL, date);
    sh_sigv4_presign_request rq = {
        .method = "GET", .host = "kafka.us-east-1.amazonaws.com", .path = "/",
        .query = "Action=kafka-cluster%3AConnect", .expires_s = 900, .amz_date = date,
        .region = "us-east-1", .service = "kafka-cluster", .access_key = "AKIDSTREAMHOSTTEST",
        .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY/streamhost+test"};
    char *q = sh_sigv4_presign(&rq);
    assert_non_null(q);
    assert_string_equal(
        q, "Action=kafka-cluster%3AConnect&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
           "AKIDSTREAMHOSTTEST%2F20251201%2Fus-east-1%2Fkafka-cluster%2Faws4_request&X-Amz-Date="
           "20251201T140000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature="
           "5842c0e90a681ccfc5499945b08e694ee46b1839d8b258de0a813f318619dffe");
    free(q);
    /* the same with a raw ':' in the query */
    rq.query = "Action=kafka-cluster:Connect";
    q = sh_sigv4_presign(&rq);
    assert_non_null(q);
    assert_non_null(strstr(q, "Signature=5842c0e90a681ccfc5499945b08e694ee46b1839d8b258de0a813f318619dffe"));
    free(q);
    /* refusals: no expiry, too long an expiry, a broken escape, a bad date */
    rq.expires_s = 0;
    assert_null(sh_sigv4_presign(&rq));
    rq.expires_s = 604801;
    assert_null(sh_sigv4_presign(&rq));
    rq.expires_s = 900;
    rq.query = "a=%zz";
    assert_null(sh_sigv4_presign(&rq));
    rq.query = NULL;
    rq.amz_date = "2025";
    assert_null(sh_sigv4_presign(&rq));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(published_vectors),
        cmocka_unit_test(opensearch_request_shape),
        cmocka_unit_test(amz_date_format),
        cmocka_unit_test(presign_known_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
