/* kafka_dump BOOTSTRAP TOPIC: prints every message of TOPIC (from the
 * beginning to the end offsets seen at start) as one JSON line with its
 * partition, offset, key, value length and headers.  For tests that check
 * dead-letter topics. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_str(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: kafka_dump BOOTSTRAP TOPIC\n");
        return 2;
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "kafka_dump: %s\n", err);
        return 1;
    }
    const rd_kafka_metadata_t *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, argv[2], NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "kafka_dump: no topic %s\n", argv[2]);
        return 1;
    }
    int np = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    for (int p = 0; p < np; p++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(rk, argv[2], p, &lo, &hi, 10000) || hi <= lo)
            continue;
        rd_kafka_consume_start(rkt, p, lo);
        for (int64_t got = lo; got < hi;) {
            rd_kafka_message_t *m = rd_kafka_consume(rkt, p, 5000);
            if (!m) {
                fprintf(stderr, "kafka_dump: timeout on partition %d\n", p);
                return 1;
            }
            if (!m->err) {
                printf("{\"partition\":%d,\"offset\":%lld,\"key\":", p, (long long)m->offset);
                if (m->key)
                    json_str(m->key, m->key_len);
                else
                    printf("null");
                printf(",\"value_len\":%zu,\"headers\":{", m->len);
                rd_kafka_headers_t *h = NULL;
                if (rd_kafka_message_headers(m, &h) == 0) {
                    const char *name;
                    const void *v;
                    size_t vs;
                    for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &v, &vs) == 0; i++) {
                        if (i)
                            putchar(',');
                        json_str(name, strlen(name));
                        putchar(':');
                        json_str(v ? v : "", v ? vs : 0);
                    }
                }
                printf("}}\n");
                got = m->offset + 1;
            } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                got = hi;
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_consume_stop(rkt, p);
    }
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return 0;
}
