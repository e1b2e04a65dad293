/* topics.c - create or delete the benchmark topics with librdkafka's admin
 * API (no JVM start per topic).  Topics are created with retention.ms = -1:
 * the generator's simulated clock starts at a fixed instant in the past, and
 * the broker would otherwise delete segments whose newest timestamp is older
 * than its retention (7 days) a few minutes after they were written.
 *
 *   topics -b HOST:PORT create PARTITIONS NAME...
 *   topics -b HOST:PORT delete NAME...
 *
 * Exits 0 when every topic was created (or existed) / deleted (or was
 * absent). */
#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(const char *what, const char *why)
{
    fprintf(stderr, "topics: %s: %s\n", what, why);
    exit(1);
}

int main(int argc, char **argv)
{
    const char *brokers = NULL;
    char err[512];
    int opt;
    while ((opt = getopt(argc, argv, "b:")) != -1) {
        if (opt != 'b')
            die("usage", "topics -b HOST:PORT create PARTITIONS NAME... | delete NAME...");
        brokers = optarg;
    }
    int create = optind < argc && strcmp(argv[optind], "create") == 0;
    int del = optind < argc && strcmp(argv[optind], "delete") == 0;
    int first = optind + (create ? 2 : 1);
    if (!brokers || (!create && !del) || first >= argc)
        die("usage", "topics -b HOST:PORT create PARTITIONS NAME... | delete NAME...");
    int partitions = create ? atoi(argv[optind + 1]) : 0;
    if (create && partitions < 1)
        die("PARTITIONS", "must be a positive number");
    size_t n = (size_t)(argc - first);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err))
        die("bootstrap.servers", err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        die("rd_kafka_new", err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ANY);
    rd_kafka_AdminOptions_set_operation_timeout(o, 30000, err, sizeof err);
    rd_kafka_AdminOptions_set_request_timeout(o, 30000, err, sizeof err);
    rd_kafka_NewTopic_t **nt = calloc(n, sizeof *nt);
    rd_kafka_DeleteTopic_t **dt = calloc(n, sizeof *dt);
    for (size_t i = 0; i < n; i++) {
        if (create) {
            nt[i] = rd_kafka_NewTopic_new(argv[first + i], partitions, 1, err, sizeof err);
            if (!nt[i] || rd_kafka_NewTopic_set_config(nt[i], "retention.ms", "-1"))
                die(argv[first + i], err);
        } else {
            dt[i] = rd_kafka_DeleteTopic_new(argv[first + i]);
        }
    }
    if (create)
        rd_kafka_CreateTopics(rk, nt, n, o, q);
    else
        rd_kafka_DeleteTopics(rk, dt, n, o, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
    if (!ev)
        die("admin request", "no answer within 60 s");
    if (rd_kafka_event_error(ev))
        die("admin request", rd_kafka_event_error_string(ev));
    const rd_kafka_topic_result_t **res;
    size_t nres = 0;
    if (create)
        res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &nres);
    else
        res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &nres);
    int failed = 0;
    for (size_t i = 0; i < nres; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        if (e && !(create && e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) &&
            !(del && e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)) {
            fprintf(stderr, "topics: %s: %s\n", rd_kafka_topic_result_name(res[i]),
                    rd_kafka_topic_result_error_string(res[i]));
            failed = 1;
        }
    }
    rd_kafka_event_destroy(ev);
    for (size_t i = 0; i < n; i++) {
        if (nt[i])
            rd_kafka_NewTopic_destroy(nt[i]);
        if (dt[i])
            rd_kafka_DeleteTopic_destroy(dt[i]);
    }
    free(nt);
    free(dt);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return failed;
}
