/* libFuzzer target: the INI parser, ${VAR} substitution and validation,
 * as `streamhost check` runs them (the build runs even when parsing found
 * problems, so that every problem is reported). */
#include "config.h"
#include "log.h"
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_log_set_level(-1);
    setenv("FUZZ_SET", "value", 1);
    setenv("FUZZ_NEWLINE", "a\nb", 1);
    if (size > SH_CONFIG_MAX_BYTES)
        return 0; /* config_load refuses such files */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0'; /* config_load refuses NUL bytes; the parser stops at the first */
    sh_config *cfg = config_load_string("fuzz.ini", text);
    if (cfg) {
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
