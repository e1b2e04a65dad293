/* msk_iam.h - Amazon MSK IAM authentication (docs/msk-iam.md): with
 * `[kafka] sasl.mechanism = AWS_MSK_IAM` (or `aws.msk.iam = true`) every
 * Kafka client the host makes authenticates with SASL/OAUTHBEARER tokens
 * built as Amazon's MSK IAM signer libraries build them: a SigV4-presigned
 * GET https://kafka.REGION.amazonaws.com/?Action=kafka-cluster%3AConnect
 * (include/streamhost/sigv4.h), base64url without padding, valid 900 s and
 * refreshed by librdkafka's token refresh callback before it expires. */
#ifndef SH_MSK_IAM_H
#define SH_MSK_IAM_H
#include "config.h"
#include "instance.h"
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

/* The mechanism name that turns it on (sasl.mechanism's value). */
#define MSK_IAM_MECHANISM "AWS_MSK_IAM"
/* The alternative switch, and the region key, in [kafka] (or a component's
 * kafka.-prefixed keys). */
#define MSK_IAM_KEY "aws.msk.iam"
#define MSK_IAM_REGION_KEY "aws.region"
/* The token's validity (X-Amz-Expires), as the reference signers use. */
#define MSK_IAM_EXPIRES_S 900

/* AWS credentials (the strings are the caller's to clear). */
typedef struct msk_iam_creds {
    char *access_key, *secret_key, *session_token; /* session_token NULL when none */
    char source[600]; /* "the environment" / "profile 'x' in FILE" (no secrets) */
} msk_iam_creds;

/* The credentials chain: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+
 * AWS_SESSION_TOKEN) from the environment; else profile AWS_PROFILE
 * ("default") of the shared credentials file AWS_SHARED_CREDENTIALS_FILE
 * (~/.aws/credentials).  0, or -1 with one line in err (never a secret). */
int msk_iam_credentials(msk_iam_creds *out, char *err, size_t errlen);
/* Wipes and frees the strings. */
void msk_iam_creds_clear(msk_iam_creds *c);

/* The region named by an MSK broker's host name
 * ("b-1.c.x.c2.kafka.us-east-1.amazonaws.com:9098", also kafka-serverless
 * and several comma-separated servers: the first that names one) into out;
 * 0, or -1 when none does. */
int msk_iam_region_from_bootstrap(const char *bootstrap, char *out, size_t n);

/* The token for `region` signed at epoch_ms with `c`, and (if expiry_ms is
 * not NULL) when it expires (epoch ms: the signing second + 900 s).
 * user_agent is appended unsigned as the User-Agent parameter (NULL:
 * "streamhost/VERSION").  malloc'd (wipe and free it), NULL on failure. */
char *msk_iam_token(const char *region, const msk_iam_creds *c, int64_t epoch_ms, const char *user_agent,
                    int64_t *expiry_ms);

/* 1 when `key` = `value` (a [kafka] key, or a component's key without
 * "kafka.") is MSK IAM's and is not to be given to librdkafka. */
int msk_iam_own_key(const char *key, const char *value);

/* For the client of component `comp` (NULL: a [kafka]-level client): when
 * MSK IAM is on, sets sasl.mechanisms=OAUTHBEARER, security.protocol =
 * SASL_SSL unless set, and the token refresh callback (served on
 * librdkafka's background thread, so a client gets its first token without
 * being polled).  0, or -1 with a message in err. */
int msk_iam_conf(sh_config *cfg, cfg_section *comp, rd_kafka_conf_t *conf, char *err, size_t errlen);

/* Start checks (config errors, exit 2): a bad aws.msk.iam value, a
 * conflicting mechanism or protocol, no region, no credentials. */
void msk_iam_validate(pipeline *pl);
/* The same for one client's config (tests). */
void msk_iam_validate_client(sh_config *cfg, cfg_section *comp);

/* How many tokens have been handed to librdkafka (tests). */
long msk_iam_tokens_set(void);
#endif
