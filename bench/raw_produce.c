/* raw_produce.c - the produce ceiling: a plain librdkafka producer writing
 * N messages of a fixed value size with decimal keys of a fixed length, with
 * the host Kafka sink's defaults (murmur2_random partitioner, idempotence,
 * linger.ms 20, batch.num.messages 10000, queue.buffering.max.messages
 * 500000; each overridable with -X) and RD_KAFKA_MSG_F_COPY as the sink does.
 * Values are fixed pseudo-random bytes and keys come from a fixed seed, so
 * every run writes the same messages.
 *
 *   raw_produce -b HOST:PORT -t TOPIC -n COUNT -s VALUE_BYTES -k KEY_BYTES
 *               [-u USERS] [-X key=value]...
 *
 * Prints one line: messages, delivered, failed, run_s (first produce call ->
 * every delivery report received), wall_s. */
#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t delivered, failed;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "raw_produce: %s: %s\n", what, why);
    exit(1);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err)
        failed++;
    else
        delivered++;
}

/* splitmix64: a fixed, portable sequence */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    const char *brokers = NULL, *topic = NULL;
    uint64_t count = 0, users = 20000;
    size_t vsize = 0, ksize = 0;
    char err[512];
    double t0 = now_s();
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    static const char *defaults[][2] = {{"partitioner", "murmur2_random"}, {"enable.idempotence", "true"},
                                        {"linger.ms", "20"}, {"batch.num.messages", "10000"},
                                        {"queue.buffering.max.messages", "500000"}};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (rd_kafka_conf_set(conf, defaults[i][0], defaults[i][1], err, sizeof err))
            die(defaults[i][0], err);
    int opt;
    while ((opt = getopt(argc, argv, "b:t:n:s:k:u:X:")) != -1) {
        switch (opt) {
        case 'b': brokers = optarg; break;
        case 't': topic = optarg; break;
        case 'n': count = strtoull(optarg, NULL, 10); break;
        case 's': vsize = (size_t)strtoul(optarg, NULL, 10); break;
        case 'k': ksize = (size_t)strtoul(optarg, NULL, 10); break;
        case 'u': users = strtoull(optarg, NULL, 10); break;
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
            fprintf(stderr, "usage: raw_produce -b HOST:PORT -t TOPIC -n COUNT -s VALUE_BYTES -k KEY_BYTES "
                            "[-u USERS] [-X key=value]...\n");
            return 2;
        }
    }
    if (!brokers || !topic || count == 0 || vsize == 0 || ksize == 0 || ksize > 19 || users == 0)
        die("usage", "-b, -t, -n > 0, -s > 0 and -k 1..19 are required");
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err))
        die("bootstrap.servers", err);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        die("rd_kafka_new", err);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);

    uint64_t seed = 42;
    char *value = malloc(vsize);
    for (size_t i = 0; i < vsize; i++)
        value[i] = (char)(next_rand(&seed) & 0x7f);
    char key[24];
    double t_start = now_s();
    for (uint64_t i = 0; i < count; i++) {
        /* a user id like clickgen's, zero-padded to the measured key length */
        uint64_t id = (next_rand(&seed) % users + 1) * 1000 + next_rand(&seed) % 1000;
        snprintf(key, sizeof key, "%0*llu", (int)ksize, (unsigned long long)id);
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_VALUE(value, vsize),
                                                      RD_KAFKA_V_KEY(key + strlen(key) - ksize, ksize),
                                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (!e)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                die("produce", rd_kafka_err2str(e));
            rd_kafka_poll(rk, 10);
        }
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    while (delivered + failed < count)
        rd_kafka_flush(rk, 1000);
    double t_end = now_s();
    printf("messages=%llu delivered=%llu failed=%llu run_s=%.3f wall_s=%.3f\n", (unsigned long long)count,
           (unsigned long long)delivered, (unsigned long long)failed, t_end - t_start, t_end - t0);
    free(value);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return failed ? 1 : 0;
}
