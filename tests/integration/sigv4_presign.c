/* sigv4_presign.c - presigns a few URLs with include/streamhost/sigv4.h and
 * prints one line per URL for sigv4_botocore.py's `presign` check:
 *   METHOD HOST PATH QUERY EXPIRES AMZDATE REGION SERVICE TOKEN|- PRESIGNED_QUERY
 * Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; the session
 * token of the token cases from SIGV4_TEST_TOKEN.  Built and run by
 * tests/integration/sigv4_botocore.sh:
 *   cc -Iinclude -o sigv4_presign tests/integration/sigv4_presign.c -lcrypto */
#include "streamhost/sigv4.h"

#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
    const char *tok = getenv("SIGV4_TEST_TOKEN");
    if (!ak || !sk || !tok) {
        fprintf(stderr, "sigv4_presign: set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, SIGV4_TEST_TOKEN\n");
        return 2;
    }
    char date[17];
    sh_sigv4_amz_date(1764597600000LL, date); /* 2025-12-01T14:00:00Z */
    struct {
        const char *method, *host, *path, *query, *region, *service;
        long expires;
        int token;
    } cases[] = {
        /* MSK IAM's kafka-cluster:Connect, as the host will presign it */
        {"GET", "kafka.us-east-1.amazonaws.com", "/", "Action=kafka-cluster%3AConnect", "us-east-1",
         "kafka-cluster", 900, 0},
        {"GET", "kafka.eu-west-1.amazonaws.com", "/", "Action=kafka-cluster%3AConnect", "eu-west-1",
         "kafka-cluster", 900, 1},
        /* a raw ':' is re-encoded; several parameters keep their order */
        {"GET", "kafka.ap-south-1.amazonaws.com", "/", "Action=kafka-cluster:Connect", "ap-south-1",
         "kafka-cluster", 900, 1},
        {"GET", "iam.amazonaws.com", "/", "Version=2010-05-08&Action=ListUsers", "us-east-1", "iam",
         3600, 0},
        {"GET", "search-x.eu-west-1.es.amazonaws.com:8443", "/my%20index/_doc/1", NULL, "eu-west-1",
         "es", 60, 1},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sh_sigv4_presign_request rq = {
            .method = cases[i].method, .host = cases[i].host, .path = cases[i].path,
            .query = cases[i].query, .expires_s = cases[i].expires, .amz_date = date,
            .region = cases[i].region, .service = cases[i].service, .access_key = ak,
            .secret_key = sk, .session_token = cases[i].token ? tok : NULL};
        char *q = sh_sigv4_presign(&rq);
        if (!q) {
            fprintf(stderr, "sigv4_presign: case %zu failed\n", i);
            rc = 1;
            continue;
        }
        printf("%s %s %s %s %ld %s %s %s %s %s\n", rq.method, rq.host, rq.path,
               rq.query ? rq.query : "-", rq.expires_s, date, rq.region, rq.service,
               cases[i].token ? tok : "-", q);
        free(q);
    }
    /* refusals */
    sh_sigv4_presign_request bad = {.method = "GET", .host = "h", .expires_s = 0, .amz_date = date,
                                    .region = "r", .service = "s", .access_key = ak,
                                    .secret_key = sk};
    if (sh_sigv4_presign(&bad)) {
        fprintf(stderr, "sigv4_presign: X-Amz-Expires 0 was accepted\n");
        rc = 1;
    }
    bad.expires_s = 900;
    bad.query = "a=%zz";
    if (sh_sigv4_presign(&bad)) {
        fprintf(stderr, "sigv4_presign: a broken escape was accepted\n");
        rc = 1;
    }
    return rc;
}
