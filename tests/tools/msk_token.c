/* msk_token - prints the MSK IAM token the host would send (host/msk_iam.c),
 * for a fixed clock, so that tests/integration/msk_iam_tokens.sh can compare
 * it with aws-msk-iam-sasl-signer-python's.
 *
 *   msk_token REGION EPOCH_SECONDS [USER_AGENT]
 *
 * Credentials come from the host's chain (environment, then the shared
 * credentials file and AWS_PROFILE), as at run time.  Prints
 * "TOKEN EXPIRY_MS" on one line; exit 1 with the host's one-line reason when
 * there are no credentials.  USER_AGENT replaces the host's own
 * ("streamhost/VERSION"). */
#include "msk_iam.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: msk_token REGION EPOCH_SECONDS [USER_AGENT]\n");
        return 2;
    }
    msk_iam_creds c;
    char err[1024];
    if (msk_iam_credentials(&c, err, sizeof err) != 0) {
        fprintf(stderr, "msk_token: %s\n", err);
        return 1;
    }
    int64_t expiry = 0;
    char *tok = msk_iam_token(argv[1], &c, strtoll(argv[2], NULL, 10) * 1000, argc > 3 ? argv[3] : NULL, &expiry);
    msk_iam_creds_clear(&c);
    if (!tok) {
        fprintf(stderr, "msk_token: cannot build a token for region %s\n", argv[1]);
        return 1;
    }
    printf("%s %lld\n", tok, (long long)expiry);
    free(tok);
    return 0;
}
