/* libFuzzer target: the INI parser, the merge of several files, ${VAR}
 * substitution and validation, as `streamhost check a.ini b.ini ...` runs
 * them (the build runs even when parsing found problems, so that every
 * problem is reported), and `streamhost config`'s output: for a config
 * without problems it must read back as the same config.
 *
 * A form feed (\f) in the input starts the next file (at most 4). */
#include "config.h"
#include "log.h"
#include "pipeline.h"
#include "pipeline_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILES 4

/* `streamhost config` output of `cfg` read back: same sections, keys and
 * values (a redacted secret reads "<redacted>"), and no problem. */
static void check_round_trip(sh_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return;
    if (config_print(cfg, m) != 0)
        abort();
    fclose(m);
    sh_config *again = config_load_string("merged.ini", text);
    if (!again || again->nerrors || again->nsecs != cfg->nsecs)
        abort();
    for (size_t i = 0; i < cfg->nsecs; i++) {
        cfg_section *a = &cfg->secs[i], *b = &again->secs[i];
        if (strcmp(a->title, b->title) || a->nkv != b->nkv)
            abort();
        for (size_t k = 0; k < a->nkv; k++) {
            if (strcmp(a->kvs[k].key, b->kvs[k].key))
                abort();
            const char *want = a->kvs[k].secret ? "<redacted>" : a->kvs[k].value;
            if (strcmp(want, b->kvs[k].value) && strcmp(a->kvs[k].key, "plugin.path"))
                abort();
        }
    }
    config_free(again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_log_set_level(-1);
    setenv("FUZZ_SET", "value", 1);
    setenv("FUZZ_NEWLINE", "a\nb", 1);
    setenv("FUZZ_PASSWORD", "hunter2", 1);
    if (size > SH_CONFIG_MAX_BYTES)
        return 0; /* config_load refuses such files */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0'; /* config_load refuses NUL bytes; the parser stops at the first */
    const char *names[MAX_FILES] = {"fuzz.ini", "fuzz-2.ini", "fuzz-3.ini", "fuzz-4.ini"};
    const char *texts[MAX_FILES];
    size_t n = 0;
    for (char *p = text; n < MAX_FILES;) {
        texts[n++] = p;
        char *ff = strchr(p, '\f');
        if (!ff || n == MAX_FILES)
            break;
        *ff = '\0';
        p = ff + 1;
    }
    sh_config *cfg = config_load_strings(names, texts, n);
    if (cfg) {
        if (cfg->nerrors == 0)
            check_round_trip(cfg);
        pipeline *pl = pipeline_build(cfg, "fuzz.ini");
        pipeline_free(pl);
        for (size_t i = 0; i < cfg->nerrors; i++)
            if (strchr(cfg->errors[i], '\n'))
                abort(); /* one problem, one line */
    }
    config_free(cfg);
    free(text);
    return 0;
}
