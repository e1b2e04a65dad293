/* raw_consume.c - the consume ceiling: a plain librdkafka consumer-group
 * member that reads a topic from the beginning to the end offsets seen at
 * assignment and discards every message.  It does what the host's Kafka
 * source does around the decoding (subscribe with a fresh group, query the
 * end offsets in the rebalance callback, rd_kafka_consume_batch_queue with
 * the same batch size and the same -X properties) and nothing else.
 *
 *   raw_consume -b HOST:PORT -t TOPIC [-g GROUP] [-n BATCH] [-w NS] [-X key=value]...
 *
 * -w NS busy-waits NS nanoseconds per message, to see how librdkafka's
 * fetching behaves for a consumer that does work per message (as the host
 * does) rather than none.
 *
 * Prints one line of key=value pairs:
 *   messages, value_bytes, key_bytes (totals), assign_s (start -> first
 *   assignment), run_s (assignment -> last message), wall_s, librdkafka
 *   (the library's runtime version). */
#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXP 1024

static int64_t end_off[MAXP];  /* end offset seen at assignment, -1 unknown */
static int reached[MAXP];
static int assigned[MAXP];
static int had_assignment;
static double t_assign;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "raw_consume: %s: %s\n", what, why);
    exit(1);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque)
{
    (void)opaque;
    if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, NULL);
        return;
    }
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        int64_t lo = 0, hi = -1;
        if (p < 0 || p >= MAXP)
            die("partition", "more partitions than this tool tracks");
        if (rd_kafka_query_watermark_offsets(rk, parts->elems[i].topic, p, &lo, &hi, 10000))
            die("query_watermark_offsets", "failed");
        assigned[p] = 1;
        end_off[p] = hi;
        reached[p] = hi <= lo;
    }
    if (!had_assignment)
        t_assign = now_s();
    had_assignment = 1;
    rd_kafka_assign(rk, parts);
}

/* Busy-waits `ns` nanoseconds (a stand-in for per-message work). */
static void busy_wait(int64_t ns)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do
        clock_gettime(CLOCK_MONOTONIC, &b);
    while ((int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec) < ns);
}

static int all_reached(void)
{
    if (!had_assignment)
        return 0;
    for (int p = 0; p < MAXP; p++)
        if (assigned[p] && !reached[p])
            return 0;
    return 1;
}

int main(int argc, char **argv)
{
    const char *brokers = NULL, *topic = NULL;
    char group[128];
    size_t batch = 10000;
    int64_t work_ns = 0;
    char err[512];
    snprintf(group, sizeof group, "raw-consume-%ld-%d", (long)time(NULL), (int)getpid());
    double t0 = now_s();
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int opt;
    while ((opt = getopt(argc, argv, "b:t:g:n:w:X:")) != -1) {
        switch (opt) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'g': snprintf(group, sizeof group, "%s", optarg); break;
        case 'n': batch = (size_t)strtoul(optarg, NULL, 10); break;
        case 'w': work_ns = strtoll(optarg, NULL, 10); break;
        case 'X': {
            char *eq = strchr(optarg, '=');
            if (!eq)
                die(optarg, "expected -X key=value");
            *eq = '\0';
            if (rd_kafka_conf_set(conf, optarg, eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK)
                die(optarg, err);
            break;
        }
        default:
            fprintf(stderr, "usage: raw_consume -b HOST:PORT -t TOPIC [-g GROUP] [-n BATCH] [-w NS] [-X key=value]...\n");
            return 2;
        }
    }
    if (!brokers || !topic || batch == 0)
        die("usage", "-b and -t are required, -n > 0");
    static const char *fixed[][2] = {{"enable.auto.commit", "false"}, {"enable.auto.offset.store", "false"},
                                     {"auto.offset.reset", "earliest"}, {"enable.partition.eof", "true"}};
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) ||
        rd_kafka_conf_set(conf, "group.id", group, err, sizeof err))
        die("conf", err);
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (rd_kafka_conf_set(conf, fixed[i][0], fixed[i][1], err, sizeof err))
            die(fixed[i][0], err);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        die("rd_kafka_new", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk, sub))
        die("subscribe", topic);
    rd_kafka_topic_partition_list_destroy(sub);

    rd_kafka_message_t **msgs = malloc(batch * sizeof *msgs);
    uint64_t n = 0, vbytes = 0, kbytes = 0;
    double t_last = 0;
    while (!all_reached()) {
        ssize_t got = rd_kafka_consume_batch_queue(q, 100, msgs, batch);
        if (got < 0)
            die("consume", rd_kafka_err2str(rd_kafka_last_error()));
        for (ssize_t i = 0; i < got; i++) {
            rd_kafka_message_t *m = msgs[i];
            int32_t p = m->partition;
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (p >= 0 && p < MAXP && m->offset >= end_off[p])
                    reached[p] = 1;
            } else if (m->err) {
                fprintf(stderr, "raw_consume: %s\n", rd_kafka_message_errstr(m));
            } else {
                n++;
                vbytes += m->len;
                kbytes += m->key_len;
                if (p >= 0 && p < MAXP && m->offset + 1 >= end_off[p])
                    reached[p] = 1;
            }
            rd_kafka_message_destroy(m);
        }
        if (got > 0 && work_ns > 0)
            busy_wait(work_ns * got);
        if (got > 0)
            t_last = now_s();
    }
    double t_end = now_s();
    if (t_last == 0)
        t_last = t_end;
    printf("messages=%llu value_bytes=%llu key_bytes=%llu assign_s=%.3f run_s=%.3f wall_s=%.3f librdkafka=%s\n",
           (unsigned long long)n, (unsigned long long)vbytes, (unsigned long long)kbytes, t_assign - t0,
           t_last - t_assign, t_end - t0, rd_kafka_version_str());
    free(msgs);
    rd_kafka_consumer_close(rk);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return 0;
}
