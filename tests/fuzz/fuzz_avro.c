/* libFuzzer target: message framing (Confluent / Glue / zlib / bare) and the
 * Avro decoder, on arbitrary bytes. */
#include "avro_codec.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static avro_codec *c;
    static arena a;
    char err[512];
    if (!c && !(c = avro_codec_new("conf/ClickEvent.avsc", "clickstream", err, sizeof err))) {
        fprintf(stderr, "%s (run from the repository root)\n", err);
        abort();
    }
    sh_value v[16];
    for (int f = FRAMING_AUTO; f <= FRAMING_BARE; f++) {
        arena_reset(&a);
        avro_codec_decode(c, (framing_t)f, data, size, v, &a, err, sizeof err);
    }
    return 0;
}
