/* MSK IAM (host/msk_iam.c, docs/msk-iam.md): the credentials chain (the
 * environment beats the shared credentials file; AWS_PROFILE picks the
 * profile; a missing file or profile is one line without secrets), the
 * region from a broker's host name, the token for fixed inputs (the value
 * aws-msk-iam-sasl-signer-python gives for them, see msk_iam_tokens.sh),
 * the start checks, and that a client gets its first token from the
 * background thread without being polled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "msk_iam.h"

static char dir[64];
static char credfile[128];

static void clear_env(void)
{
    const char *vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                          "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_REGION", "AWS_DEFAULT_REGION"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
    setenv("HOME", dir, 1); /* no ~/.aws/credentials there */
}

static int setup(void **st)
{
    (void)st;
    snprintf(dir, sizeof dir, "/tmp/test_msk_iam.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(credfile, sizeof credfile, "%s/credentials", dir);
    FILE *f = fopen(credfile, "w");
    assert_non_null(f);
    fputs("# written by the AWS CLI\n"
          "[default]\n"
          "aws_access_key_id = AKIDDEFAULT\n"
          "aws_secret_access_key = default/secret\n"
          "\n"
          "[msk]\n"
          "; a comment\n"
          "AWS_ACCESS_KEY_ID=AKIDMSK  \n"
          "aws_secret_access_key: msk/secret\n"
          "aws_session_token = msk/token==\n"
          "\n"
          "[half]\n"
          "aws_access_key_id = AKIDHALF\n",
          f);
    fclose(f);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    unlink(credfile);
    rmdir(dir);
    return 0;
}

static void test_env_beats_file(void **st)
{
    (void)st;
    clear_env();
    setenv("AWS_SHARED_CREDENTIALS_FILE", credfile, 1);
    setenv("AWS_PROFILE", "msk", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env/secret", 1);
    msk_iam_creds c;
    char err[1024];
    assert_int_equal(msk_iam_credentials(&c, err, sizeof err), 0);
    assert_string_equal(c.access_key, "AKIDENV");
    assert_string_equal(c.secret_key, "env/secret");
    assert_null(c.session_token); /* the file's token is not mixed in */
    assert_non_null(strstr(c.source, "environment"));
    msk_iam_creds_clear(&c);
    setenv("AWS_SESSION_TOKEN", "env/token", 1);
    assert_int_equal(msk_iam_credentials(&c, err, sizeof err), 0);
    assert_string_equal(c.session_token, "env/token");
    msk_iam_creds_clear(&c);
    /* half a pair in the environment is an error, not a fall-back to the file */
    unsetenv("AWS_SECRET_ACCESS_KEY");
    assert_int_equal(msk_iam_credentials(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "AWS_ACCESS_KEY_ID is set in the environment but AWS_SECRET_ACCESS_KEY is not"));
    assert_null(strstr(err, "env/token"));
}

static void test_profiles(void **st)
{
    (void)st;
    clear_env();
    setenv("AWS_SHARED_CREDENTIALS_FILE", credfile, 1);
    msk_iam_creds c;
    char err[1024];
    assert_int_equal(msk_iam_credentials(&c, err, sizeof err), 0);
    assert_string_equal(c.access_key, "AKIDDEFAULT");
    assert_string_equal(c.secret_key, "default/secret");
    assert_null(c.session_token);
    assert_non_null(strstr(c.source, "profile 'default' in "));
    msk_iam_creds_clear(&c);

    setenv("AWS_PROFILE", "msk", 1); /* keys in any case, ':' too, values trimmed */
    assert_int_equal(msk_iam_credentials(&c, err, sizeof err), 0);
    assert_string_equal(c.access_key, "AKIDMSK");
    assert_string_equal(c.secret_key, "msk/secret");
    assert_string_equal(c.session_token, "msk/token==");
    msk_iam_creds_clear(&c);

    setenv("AWS_PROFILE", "half", 1);
    assert_int_equal(msk_iam_credentials(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "profile 'half' in "));
    assert_non_null(strstr(err, "lacks aws_secret_access_key"));

    setenv("AWS_PROFILE", "nope", 1);
    assert_int_equal(msk_iam_credentials(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "AWS_PROFILE = nope"));
    assert_non_null(strstr(err, "has no such profile"));
    assert_null(strstr(err, "secret/"));
}

static void test_missing_file(void **st)
{
    (void)st;
    clear_env();
    msk_iam_creds c;
    char err[1024], want[256];
    /* the default file under HOME, which does not exist */
    assert_int_equal(msk_iam_credentials(&c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s/.aws/credentials, which cannot be read", dir);
    assert_non_null(strstr(err, "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"));
    assert_non_null(strstr(err, want));
    /* ~ in AWS_SHARED_CREDENTIALS_FILE is HOME */
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere", 1);
    assert_int_equal(msk_iam_credentials(&c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s/elsewhere", dir);
    assert_non_null(strstr(err, want));
}

static void test_region_from_bootstrap(void **st)
{
    (void)st;
    char r[64];
    assert_int_equal(msk_iam_region_from_bootstrap("b-1.demo.abc123.c2.kafka.us-east-1.amazonaws.com:9098", r,
                                                   sizeof r), 0);
    assert_string_equal(r, "us-east-1");
    assert_int_equal(msk_iam_region_from_bootstrap(
                         "localhost:9092, B-2.Demo.X1.C3.Kafka.EU-West-3.amazonaws.com:9098", r, sizeof r), 0);
    assert_string_equal(r, "eu-west-3");
    assert_int_equal(msk_iam_region_from_bootstrap("boot-x1.c1.kafka-serverless.ap-south-1.amazonaws.com:9098", r,
                                                   sizeof r), 0);
    assert_string_equal(r, "ap-south-1");
    assert_int_equal(msk_iam_region_from_bootstrap("SASL_SSL://b-1.c.x.kafka.cn-north-1.amazonaws.com.cn:9098", r,
                                                   sizeof r), 0);
    assert_string_equal(r, "cn-north-1");
    assert_int_equal(msk_iam_region_from_bootstrap("localhost:9098", r, sizeof r), -1);
    assert_int_equal(msk_iam_region_from_bootstrap("kafka.example.com:9098", r, sizeof r), -1);
    assert_int_equal(msk_iam_region_from_bootstrap("b-1.x.kafka.us-east-1.amazonaws.com.evil.org", r, sizeof r), -1);
    assert_int_equal(msk_iam_region_from_bootstrap(NULL, r, sizeof r), -1);
}

/* The reference signer's token for these inputs (msk_iam_tokens.py with
 * AWS_ACCESS_KEY_ID=AKIDSTREAMHOSTMSK, the secret below, us-east-1 at
 * 1764600000), and its expiry. */
static void test_token_golden(void **st)
{
    (void)st;
    msk_iam_creds c = {.access_key = "AKIDSTREAMHOSTMSK", .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY/msk+test"};
    int64_t exp = 0;
    char *tok = msk_iam_token("us-east-1", &c, 1764600000123LL, "aws-msk-iam-sasl-signer-python/1.0.2", &exp);
    assert_non_null(tok);
    assert_string_equal(
        tok,
        "aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlgtQW16LUFsZ29y"
        "aXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QUtJRFNUUkVBTUhPU1RNU0slMkYyMDI1MTIwMSUyRnVzLWVhc3QtMSUy"
        "RmthZmthLWNsdXN0ZXIlMkZhd3M0X3JlcXVlc3QmWC1BbXotRGF0ZT0yMDI1MTIwMVQxNDQwMDBaJlgtQW16LUV4cGlyZXM9OTAwJlgtQW16"
        "LVNpZ25lZEhlYWRlcnM9aG9zdCZYLUFtei1TaWduYXR1cmU9YWVhN2I2YmRkNDlmODM2ZWZjMjEwY2MwODY1MTkwY2ZlNDkzZTViNDA2OTZh"
        "OTNhZDExNmVkMTUyOTRlMjhlNSZVc2VyLUFnZW50PWF3cy1tc2staWFtLXNhc2wtc2lnbmVyLXB5dGhvbiUyRjEuMC4y");
    assert_int_equal(exp, 1764600900000LL);
    free(tok);
    /* base64url: no '+', '/' or '=' */
    tok = msk_iam_token("us-east-1", &c, 1764600000000LL, NULL, NULL);
    assert_non_null(tok);
    assert_null(strpbrk(tok, "+/="));
    free(tok);
    assert_null(msk_iam_token("us east", &c, 0, NULL, NULL));
}

static void test_own_keys(void **st)
{
    (void)st;
    assert_true(msk_iam_own_key("sasl.mechanism", "AWS_MSK_IAM"));
    assert_true(msk_iam_own_key("sasl.mechanisms", "aws_msk_iam"));
    assert_true(msk_iam_own_key("aws.msk.iam", "true"));
    assert_true(msk_iam_own_key("aws.region", "us-east-1"));
    assert_false(msk_iam_own_key("sasl.mechanism", "SCRAM-SHA-512"));
    assert_false(msk_iam_own_key("security.protocol", "SASL_SSL"));
}

static sh_config *cfg_of(const char *text)
{
    sh_config *c = config_load_string("t.ini", text);
    assert_non_null(c);
    assert_int_equal(c->nerrors, 0);
    return c;
}

static void test_validate(void **st)
{
    (void)st;
    clear_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env/secret", 1);
    sh_config *c = cfg_of("[kafka]\nbootstrap.servers = b-1.x.y.kafka.us-east-2.amazonaws.com:9098\n"
                          "sasl.mechanism = AWS_MSK_IAM\n");
    msk_iam_validate_client(c, NULL);
    assert_int_equal(c->nerrors, 0);
    config_free(c);
    /* no region */
    c = cfg_of("[kafka]\nbootstrap.servers = localhost:9098\naws.msk.iam = yes\n");
    msk_iam_validate_client(c, NULL);
    assert_int_equal(c->nerrors, 1);
    assert_non_null(strstr(c->errors[0], "t.ini:3: [kafka] aws.msk.iam = yes: MSK IAM needs the cluster's AWS region"));
    config_free(c);
    /* AWS_DEFAULT_REGION gives one; aws.region beats it, and is checked */
    setenv("AWS_DEFAULT_REGION", "eu-north-1", 1);
    c = cfg_of("[kafka]\nbootstrap.servers = localhost:9098\naws.msk.iam = yes\naws.region = EU WEST\n");
    msk_iam_validate_client(c, NULL);
    assert_int_equal(c->nerrors, 1);
    assert_non_null(strstr(c->errors[0], "t.ini:4: [kafka] aws.region = EU WEST: not an AWS region"));
    config_free(c);
    /* a component's own keys; a contradicting mechanism */
    c = cfg_of("[kafka]\nbootstrap.servers = localhost:9098\n\n[source.in]\nplugin = kafka\n"
               "kafka.aws.msk.iam = true\nkafka.sasl.mechanism = PLAIN\n");
    cfg_section *comp = config_component(c, "in");
    msk_iam_validate_client(c, comp);
    assert_int_equal(c->nerrors, 1);
    assert_non_null(strstr(c->errors[0], "t.ini:7: [source.in] kafka.sasl.mechanism = PLAIN contradicts "
                                         "[source.in] kafka.aws.msk.iam = true"));
    config_free(c);
    /* off: nothing checked */
    clear_env();
    c = cfg_of("[kafka]\nbootstrap.servers = localhost:9098\naws.msk.iam = false\n");
    msk_iam_validate_client(c, NULL);
    assert_int_equal(c->nerrors, 0);
    config_free(c);
}

static char last_error[1024];
static int last_err;
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk, (void)opaque;
    last_err = err;
    snprintf(last_error, sizeof last_error, "%s", reason);
}

/* A producer and a consumer built with msk_iam_conf get a token from the
 * refresh callback on librdkafka's background thread, though nobody polls
 * them (the broker address has no listener: only the token matters). */
static void test_token_without_polling(void **st)
{
    (void)st;
    clear_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env/secret", 1);
    sh_config *c = cfg_of("[kafka]\nbootstrap.servers = 127.0.0.1:1\nsasl.mechanism = AWS_MSK_IAM\n"
                          "aws.region = us-east-1\nsecurity.protocol = SASL_PLAINTEXT\n");
    rd_kafka_type_t types[] = {RD_KAFKA_PRODUCER, RD_KAFKA_CONSUMER};
    for (int i = 0; i < 2; i++) {
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", NULL, 0);
        rd_kafka_conf_set(conf, "security.protocol", "SASL_PLAINTEXT", NULL, 0);
        rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
        if (types[i] == RD_KAFKA_CONSUMER)
            rd_kafka_conf_set(conf, "group.id", "test-msk-iam", NULL, 0);
        assert_int_equal(msk_iam_conf(c, NULL, conf, err, sizeof err), 0);
        char v[64];
        size_t n = sizeof v;
        assert_int_equal(rd_kafka_conf_get(conf, "sasl.mechanisms", v, &n), RD_KAFKA_CONF_OK);
        assert_string_equal(v, "OAUTHBEARER");
        long before = msk_iam_tokens_set();
        rd_kafka_t *rk = rd_kafka_new(types[i], conf, err, sizeof err);
        assert_non_null(rk);
        for (int t = 0; t < 200 && msk_iam_tokens_set() == before; t++)
            sh_sleep_ms(50);
        assert_int_equal(msk_iam_tokens_set(), before + 1);
        rd_kafka_destroy(rk);
    }
    /* credentials gone at a refresh: librdkafka reports the reason as an
     * authentication error (kafka.c logs it as the run's one line) */
    clear_env();
    {
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", NULL, 0);
        rd_kafka_conf_set(conf, "security.protocol", "SASL_PLAINTEXT", NULL, 0);
        rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
        rd_kafka_conf_set_error_cb(conf, error_cb);
        assert_int_equal(msk_iam_conf(c, NULL, conf, err, sizeof err), 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        assert_non_null(rk);
        last_error[0] = '\0';
        for (int t = 0; t < 100 && !strstr(last_error, "MSK IAM"); t++)
            rd_kafka_poll(rk, 100);
        assert_non_null(strstr(last_error, "Failed to acquire SASL OAUTHBEARER token: MSK IAM: no AWS credentials"));
        assert_int_equal(last_err, RD_KAFKA_RESP_ERR__AUTHENTICATION);
        rd_kafka_destroy(rk);
    }
    /* security.protocol defaults to SASL_SSL */
    config_free(c);
    c = cfg_of("[kafka]\nsasl.mechanism = AWS_MSK_IAM\naws.region = us-east-1\n");
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512], v[64];
    size_t n = sizeof v;
    assert_int_equal(msk_iam_conf(c, NULL, conf, err, sizeof err), 0);
    assert_int_equal(rd_kafka_conf_get(conf, "security.protocol", v, &n), RD_KAFKA_CONF_OK);
    assert_string_equal(v, "sasl_ssl");
    rd_kafka_conf_destroy(conf);
    config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_beats_file),      cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_missing_file),        cmocka_unit_test(test_region_from_bootstrap),
        cmocka_unit_test(test_token_golden),        cmocka_unit_test(test_own_keys),
        cmocka_unit_test(test_validate),            cmocka_unit_test(test_token_without_polling),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
