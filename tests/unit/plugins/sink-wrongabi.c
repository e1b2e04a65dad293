/* A plugin built for a future ABI: the loader must refuse it. */
#include "streamhost/plugin.h"
static sh_rc init(const sh_host *h, sh_ctx *c, void **s) { (void)h; (void)c; *s = 0; return SH_OK; }
static sh_rc process(void *s, uint32_t i, const sh_record *r, size_t n) { (void)s; (void)i; (void)r; (void)n; return SH_OK; }
static const sh_plugin desc = {.abi_version = 999, .size = sizeof(sh_plugin), .record_size = sizeof(sh_record),
                               .value_size = sizeof(sh_value), .name = "wrongabi", .kind = SH_SINK,
                               .init = init, .process = process};
SH_PLUGIN_EXPORT(desc)
