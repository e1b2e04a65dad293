/* libFuzzer target: the INI parser, ${VAR} substitution and validation. */
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
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    sh_config *cfg = config_load_string("fuzz.ini", text);
    if (cfg->nerrors == 0) {
        pipeline *pl = pipeline_build(cfg, "fuzz.ini");
        pipeline_free(pl);
    }
    config_free(cfg);
    free(text);
    return 0;
}
