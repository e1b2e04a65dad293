/* kafka_put BOOTSTRAP TOPIC: produces one message per stdin line
 * "KEY_HEX VALUE_HEX" (a key of "-" means no key), in order, keyed like the
 * Java clients.  For tests that need exact bytes on a topic. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t unhex(const char *h, unsigned char *out)
{
    size_t n = 0;
    for (; h[0] && h[1] && h[0] != ' ' && h[0] != '\n'; h += 2) {
        char b[3] = {h[0], h[1], 0};
        out[n++] = (unsigned char)strtoul(b, NULL, 16);
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: kafka_put BOOTSTRAP TOPIC < lines\n");
        return 2;
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err);
    rd_kafka_conf_set(conf, "partitioner", "murmur2_random", err, sizeof err);
    rd_kafka_conf_set(conf, "message.max.bytes", "10000000", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafka_put: %s\n", err);
        return 1;
    }
    static char line[8 << 20];
    static unsigned char key[1 << 16], val[4 << 20];
    int n = 0;
    while (fgets(line, sizeof line, stdin)) {
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        size_t kl = line[0] == '-' ? 0 : unhex(line, key);
        size_t vl = unhex(sp + 1, val);
        rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]),
                                                  RD_KAFKA_V_KEY(kl ? key : NULL, kl),
                                                  RD_KAFKA_V_VALUE(vl ? val : NULL, vl),
                                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e) {
            fprintf(stderr, "kafka_put: %s\n", rd_kafka_err2str(e));
            return 1;
        }
        n++;
    }
    if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "kafka_put: flush timed out\n");
        return 1;
    }
    rd_kafka_destroy(rk);
    fprintf(stderr, "kafka_put: %d message(s) to %s\n", n, argv[2]);
    return 0;
}
