/* libFuzzer target: message framing (Confluent / Glue / zlib / bare) and the
 * Avro decoder, on arbitrary bytes: with the reader's own schema, and with a
 * writer -> reader plan that skips complex fields (arrays, maps, records,
 * fixed), resolves unions per branch, promotes numbers, maps enum symbols
 * and fills a default. */
#include "avro_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char WRITER[] =
    "{\"type\":\"record\",\"name\":\"ClickEvent\",\"fields\":["
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"T\",\"fields\":["
    "{\"name\":\"k\",\"type\":\"string\"},{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"bytes\"]}}]}}},"
    "{\"name\":\"ip\",\"type\":[\"null\",\"bytes\",\"string\"]},"
    "{\"name\":\"eventtimestamp\",\"type\":\"int\"},"
    "{\"name\":\"devicetype\",\"type\":\"string\"},"
    "{\"name\":\"h\",\"type\":{\"type\":\"fixed\",\"name\":\"H\",\"size\":4}},"
    "{\"name\":\"event_type\",\"type\":[\"null\",\"string\",\"long\"]},"
    "{\"name\":\"product_type\",\"type\":\"string\"},"
    "{\"name\":\"userid\",\"type\":\"int\"},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}},"
    "{\"name\":\"globalseq\",\"type\":[\"int\",\"long\"]}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static avro_codec *c;
    static avro_plan *plan;
    static arena a;
    char err[512];
    if (!c && !(c = avro_codec_new("conf/ClickEvent.avsc", "clickstream", err, sizeof err))) {
        fprintf(stderr, "%s (run from the repository root)\n", err);
        abort();
    }
    if (!plan && !(plan = avro_plan_new(c, WRITER, strlen(WRITER), err, sizeof err))) {
        fprintf(stderr, "fuzz_avro: writer schema refused: %s\n", err);
        abort();
    }
    sh_value v[16];
    for (int f = FRAMING_AUTO; f <= FRAMING_BARE; f++) {
        arena_reset(&a);
        avro_codec_decode(c, (framing_t)f, data, size, v, &a, err, sizeof err);
    }
    arena_reset(&a);
    avro_plan_decode(plan, data, size, v, &a, err, sizeof err);
    return 0;
}
