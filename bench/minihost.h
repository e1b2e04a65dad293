/* minihost.h - the smallest host that runs real plugin .so files in-process
 * for the processing benchmarks: no copies, no config file, no Kafka.
 *
 * emit() calls the downstream process() directly (as the real host does),
 * watermarks are forwarded along single-input edges, counters and gauges
 * live in a fixed table, config values come from "key=value" strings with
 * the plugin's declared defaults (parsed by host/cfgvalue.c, as the host
 * does).  Unlike tests/support/testhost.c it keeps nothing it is given. */
#ifndef BENCH_MINIHOST_H
#define BENCH_MINIHOST_H
#include "streamhost/plugin.h"

typedef struct sh_ctx mh_inst;

/* Called with every batch an instance emits on port 0 (before the edges). */
typedef void (*mh_tap_fn)(void *arg, const sh_record *recs, size_t n);

/* Loads PLUGIN_DIR/<file>.so and creates an instance with `kv` (NULL-ended
 * "key=value" strings, copied).  Exits with a message on any failure. */
mh_inst *mh_load(const char *plugin_dir, const char *file, const char *name, const char *const *kv);
/* Calls init and start; exits on failure. */
void mh_init(mh_inst *in);
/* Wires output `port` of `from` to input `input` of `to`. */
void mh_connect(mh_inst *from, uint32_t port, mh_inst *to, uint32_t input);
void mh_tap(mh_inst *in, mh_tap_fn fn, void *arg);
/* Slots upstream_slots() reports to every instance: 0..n-1. */
void mh_set_slots(int32_t n);

const sh_plugin *mh_plugin(mh_inst *in);
void *mh_state(mh_inst *in);
/* Emits records as if `from` had produced them (from a source instance). */
sh_rc mh_emit(mh_inst *from, const sh_record *recs, size_t n);
sh_rc mh_watermark(mh_inst *from, int64_t wm);
/* Ticks every instance that has tick(). */
sh_rc mh_tick_all(void);
/* Value of a counter or gauge of an instance (0 when never registered). */
uint64_t mh_counter(mh_inst *in, const char *name);
int64_t mh_gauge(mh_inst *in, const char *name);
/* stop + destroy every instance, dlclose. */
void mh_free_all(void);
#endif
