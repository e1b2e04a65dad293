/* streamhost/testkit.h - unit-test a plugin in the real host, without the
 * host's source: link libstreamhost-kit (`pkg-config --cflags --libs
 * streamhost-kit`), which is the host itself (its config reader, loader,
 * pipeline, services, metrics and dead-letter writer) plus this harness.
 *
 * th_new() builds a real pipeline around one instance of the plugin under
 * test: its section [KIND.NAME] from "key=value" strings (read by the
 * host's config reader as the file "test.ini", the section at line 1 and
 * key i at line i + 2, so cfg_where() names "test.ini:N"), a feed source
 * upstream of a transform or sink, and a capture sink on every output.
 * Declared keys, types, defaults and required keys are checked as
 * `streamhost run` checks them; the plugin's validate() is left to the test
 * (call it with th_host()/th_ctx()) and its init() runs in th_init().
 * Everything the plugin asks of the host goes to the host's own services
 * (a writable copy of the table, th_host(), so that a test can wrap one):
 * emit() reaches the capture sink through the pipeline, counters and
 * gauges are the host's metrics, dead letters go through the host's
 * dead-letter writer (to a temporary file).  The test drives the callbacks
 * (th_process, th_watermark, th_tick, or the descriptor's own members with
 * th_state()) and asserts on what was emitted (deep copies), watermarks,
 * metrics and dead letters.
 *
 * Log lines at WARN and ERROR go to stderr (all levels with TH_VERBOSE=1). */
#ifndef STREAMHOST_TESTKIT_H
#define STREAMHOST_TESTKIT_H
#include "streamhost/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct th_rec {
    uint32_t port;
    const sh_schema *schema;
    int64_t time;
    char *key, *id;
    int32_t slot;
    int64_t offset;
    sh_value *values; /* deep copies: strings and lists owned by the test host */
    int64_t wm_at_emit; /* the plugin's output watermark when it emitted this */
} th_rec;

typedef struct testhost testhost;

/* kv: NULL-terminated "key=value" strings.  Returns NULL (and prints the
 * host's error lines) when a key is not declared, a value fails its
 * declared type or a required key lacks. */
testhost *th_new(const sh_plugin *p, const char *const *kv);
/* Calls p->init (and start if present); returns its result. */
sh_rc th_init(testhost *th);
void *th_state(testhost *th);
const sh_host *th_host(testhost *th);
sh_ctx *th_ctx(testhost *th);
/* Drives the plugin. */
sh_rc th_process(testhost *th, uint32_t input, const sh_record *recs, size_t n);
sh_rc th_watermark(testhost *th, int64_t wm);
/* Records emitted so far, in order. */
size_t th_count(testhost *th);
const th_rec *th_get(testhost *th, size_t i);
void th_clear(testhost *th);
/* Field accessors by name on an emitted record (fail the test if absent). */
int64_t th_int(const th_rec *r, const char *field);
const char *th_str(const th_rec *r, const char *field); /* NUL-terminated copy */
int th_is_null(const th_rec *r, const char *field);
/* Comma-joined string list ("a,b"), "" for empty. */
const char *th_list(const th_rec *r, const char *field);
/* Last output watermark (INT64_MIN if none), counter value by name (0 if
 * never registered; a histogram's observation count), number of dead
 * letters and the last reason. */
int64_t th_last_watermark(testhost *th);
uint64_t th_counter(testhost *th, const char *name);
int64_t th_gauge(testhost *th, const char *name);
/* Sum of a histogram's observations (0 if never registered). */
double th_histogram_sum(testhost *th, const char *name);
size_t th_dead_letters(testhost *th);
const char *th_last_dead_reason(testhost *th);
/* Sets the clock the plugin sees through now_ms and mono_ms (default: the
 * real clocks; 0 returns to them).  One clock for every testhost alive. */
void th_set_now(testhost *th, int64_t now_ms);
/* Slots that upstream_slots() reports (default: none): registered in the
 * pipeline for the feed source, as a Kafka source registers its
 * partitions, and assigned. */
void th_set_upstream_slots(testhost *th, const int32_t *slots, size_t n);
/* emit_watermark() calls that went below an earlier one (the promise that
 * watermarks never go back), and all emit_watermark() calls. */
size_t th_watermark_regressions(testhost *th);
size_t th_watermark_calls(testhost *th);
/* Calls the plugin's tick (SH_OK when it has none). */
sh_rc th_tick(testhost *th, int64_t now_ms);

/* Property tests: a seed from $SH_PROPTEST_SEED, or a fresh one, printed
 * with `name` so that a failing run can be repeated; $SH_PROPTEST_ITERS
 * overrides `dflt` rounds. */
uint64_t th_seed(const char *name);
int th_rounds(int dflt);
/* splitmix64: the next pseudo-random number of *state. */
uint64_t th_rand(uint64_t *state);
/* Uniform in [0, n) (n > 0). */
uint64_t th_below(uint64_t *state, uint64_t n);

/* Random inputs for property tests.  A time: mostly near `base` (either
 * side, so input comes out of order), sometimes anywhere, INT64_MIN,
 * INT64_MAX or next to them. */
int64_t th_rand_time(uint64_t *state, int64_t base);
/* An event time for property tests: wild (th_rand_time) or tame, within
 * +-30 s of `base` (which is what makes windows merge, fire and go late). */
int64_t th_event_time(uint64_t *state, int64_t base, int wild);
/* A duration as config writes it ("500ms", "1s", "2d") in ms, parsed as the
 * host parses it. */
int64_t th_duration_ms(const char *text);
/* Scratch memory that lives until th_scratch_reset or th_free (records
 * fed to the plugin point into it). */
void *th_scratch(testhost *th, size_t n);
void th_scratch_reset(testhost *th);
/* A random UTF-8 text in scratch memory: "" , one of `pool` (when npool),
 * or random bytes of every class: quotes, backslashes, control bytes, NUL,
 * multibyte characters; up to a few hundred bytes. */
sh_str th_rand_text(testhost *th, uint64_t *state, const char *const *pool, size_t npool);

/* Calls destroy and frees everything. */
void th_free(testhost *th);

#ifdef __cplusplus
}
#endif
#endif
