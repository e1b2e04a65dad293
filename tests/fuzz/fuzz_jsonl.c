/* libFuzzer target: the file source's JSON-lines record decoder. */
#include "json_record.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static avsc_schema s;
    static int loaded;
    char why[512];
    if (!loaded) {
        if (avsc_load("conf/ClickEvent.avsc", &s, why, sizeof why) != 0) {
            fprintf(stderr, "%s (run from the repository root)\n", why);
            abort();
        }
        loaded = 1;
    }
    sh_value v[16];
    str_arena a;
    str_arena_init(&a, 4096);
    jr_decode(&s, (const char *)data, size, v, &a, why, sizeof why);
    str_arena_free(&a);
    return 0;
}
