/* avro_decode - the Kafka source's Avro decoding alone, in memory, one
 * thread: N click events encoded once, then decoded PASSES times (the best
 * pass counts), in each of the ways the source decodes:
 *   self       bare Avro with the reader's own schema (no registry; the
 *              only way before writer -> reader plans)
 *   plan_v1    Confluent framing, writer = the reader's schema from the
 *              registry: a plan that maps field by field
 *   plan_v2    writer v2 (conf/ClickEvent-v2.avsc): one field more, skipped
 *   plan_drop  writer without prevglobalseq: its default filled in
 * Built with -DBEFORE against the codec of an older commit, only `self`
 * exists (the baseline).  Prints "KEY=ns_per_msg" and "KEY_rate=msg_per_s",
 * per second of the thread's CPU time.
 *
 *   avro_decode N PASSES   (from the repository root: reads conf/) */
#include "avro_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: a busy machine slows the wall clock, not this */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#ifndef BEFORE
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strdup(buf);
}
#endif

struct msgs {
    sh_buf *m;
    size_t n;
};

static void encode_all(avro_codec *c, framing_t fr, int32_t id, size_t n, struct msgs *out)
{
    static const char *dev[] = {"mobile", "computer", "tablet"};
    static const char *ev[] = {"home_page", "product_page", "add_to_cart", "order_checkout"};
    static const char *ref[] = {"direct", "search", "social"};
    sh_field f[9] = {{"ip", SH_STRING},        {"eventtimestamp", SH_INT}, {"devicetype", SH_STRING},
                     {"event_type", SH_STRING}, {"product_type", SH_STRING}, {"userid", SH_INT},
                     {"globalseq", SH_INT},     {"prevglobalseq", SH_INT},   {"referrer", SH_STRING}};
    sh_schema s = {"clickstream", 9, f};
    out->m = calloc(n, sizeof(sh_buf));
    out->n = n;
    unsigned char uuid[16] = {0};
    char ip[32], err[256];
    for (size_t i = 0; i < n; i++) {
        sh_value v[9];
        int len = snprintf(ip, sizeof ip, "66.249.1.%u", (unsigned)(i * 7919 % 250));
        v[0] = sh_v_str(ip, (size_t)len);
        v[1] = sh_v_int(1700000000000 + (int64_t)i * 3);
        v[2] = sh_v_str(dev[i % 3], strlen(dev[i % 3]));
        v[3] = sh_v_str(ev[i % 4], strlen(ev[i % 4]));
        v[4] = i % 5 ? sh_v_str("N/A", 3) : sh_v_null();
        v[5] = sh_v_int((int64_t)(i * 2654435761u % 20000));
        v[6] = sh_v_int((int64_t)i + 1);
        v[7] = sh_v_int((int64_t)i);
        v[8] = sh_v_str(ref[i % 3], strlen(ref[i % 3]));
        sh_record r = {.schema = &s, .values = v};
        if (avro_codec_encode(c, fr, id, uuid, 0, &r, &out->m[i], err, sizeof err) != 0) {
            fprintf(stderr, "encode: %s\n", err);
            exit(1);
        }
    }
}

/* ns per message of one pass */
static double pass(avro_codec *c, const void *plan, const struct msgs *ms)
{
    static sh_value vals[16];
    static arena a;
    char reason[256];
    double t0 = now_s();
    for (size_t i = 0; i < ms->n; i++) {
        if ((i & 1023) == 0)
            arena_reset(&a); /* as the source: once per batch */
        int rc;
#ifdef BEFORE
        (void)plan;
        rc = avro_codec_decode(c, FRAMING_BARE, ms->m[i].data, ms->m[i].len, vals, &a, reason, sizeof reason);
#else
        if (!plan) {
            rc = avro_codec_decode(c, FRAMING_BARE, ms->m[i].data, ms->m[i].len, vals, &a, reason, sizeof reason);
        } else {
            avro_frame f;
            rc = avro_codec_frame(c, FRAMING_CONFLUENT, ms->m[i].data, ms->m[i].len, &f, reason, sizeof reason);
            if (rc == 0)
                rc = avro_plan_decode(plan, f.body, f.blen, vals, &a, reason, sizeof reason);
        }
#endif
        if (rc != 0) {
            fprintf(stderr, "decode: %s\n", reason);
            exit(1);
        }
    }
    return (now_s() - t0) * 1e9 / (double)ms->n;
}

static void report(const char *key, double ns)
{
    printf("%s=%.1f %s_rate=%.0f\n", key, ns, key, 1e9 / ns);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
    int passes = argc > 2 ? atoi(argv[2]) : 5;
    char err[512];
    avro_codec *c = avro_codec_new("conf/ClickEvent.avsc", "clickstream", err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct msgs ms[4];
    const void *plans[4] = {NULL, NULL, NULL, NULL};
    const char *keys[4] = {"self", "plan_v1", "plan_v2", "plan_drop"};
    avro_codec *wc[4] = {NULL, NULL, NULL, NULL};
    int nm = 1;
    encode_all(c, FRAMING_BARE, 0, n, &ms[0]);
#ifndef BEFORE
    char *v1 = slurp("conf/ClickEvent.avsc"), *v2 = slurp("conf/ClickEvent-v2.avsc");
    /* v1 without prevglobalseq, as text */
    const char *drop = "{\"type\":\"record\",\"name\":\"ClickEvent\",\"fields\":[{\"name\":\"ip\",\"type\":\"string\"},"
                       "{\"name\":\"eventtimestamp\",\"type\":\"long\"},{\"name\":\"devicetype\",\"type\":\"string\"},"
                       "{\"name\":\"event_type\",\"type\":[\"string\",\"null\"]},{\"name\":\"product_type\",\"type\":[\"string\",\"null\"]},"
                       "{\"name\":\"userid\",\"type\":\"int\"},{\"name\":\"globalseq\",\"type\":\"long\"}]}";
    const char *texts[3] = {v1, v2, drop};
    for (int k = 0; k < 3; k++, nm++) {
        wc[nm] = avro_codec_new_json(texts[k], strlen(texts[k]), keys[nm], "clickstream", err, sizeof err);
        plans[nm] = wc[nm] ? avro_plan_new(c, texts[k], strlen(texts[k]), err, sizeof err) : NULL;
        if (!plans[nm]) {
            fprintf(stderr, "%s: %s\n", keys[nm], err);
            return 1;
        }
        encode_all(wc[nm], FRAMING_CONFLUENT, k + 1, n, &ms[nm]);
    }
    free(v1);
    free(v2);
#endif
    /* the ways take turns, so that a busy machine slows them alike; best pass counts */
    double best[4] = {1e30, 1e30, 1e30, 1e30};
    for (int p = 0; p < passes; p++)
        for (int k = 0; k < nm; k++) {
            double ns = pass(c, plans[k], &ms[k]);
            if (ns < best[k])
                best[k] = ns;
        }
    for (int k = 0; k < nm; k++) {
        report(keys[k], best[k]);
        for (size_t i = 0; i < n; i++)
            sh_buf_free(&ms[k].m[i]);
        free(ms[k].m);
#ifndef BEFORE
        avro_plan_free((avro_plan *)plans[k]);
#endif
        avro_codec_free(wc[k]);
    }
    avro_codec_free(c);
    return 0;
}
