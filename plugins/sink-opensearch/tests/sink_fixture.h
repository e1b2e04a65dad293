/* sink_fixture.h - shared helpers of the sink's tests: test records, an
 * instance under the test host, dead-letter capture, driving the sink until
 * its requests are answered. */
#ifndef SH_SINK_FIXTURE_H
#define SH_SINK_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opensearch_sink.h"
#include "testhost.h"

const sh_plugin *streamhost_plugin_entry(uint32_t host_abi);

static const sh_field fx_counts_fields[] = {
    {"userSessionCount", SH_INT},
    {"userSessionCountWithOrderCheckout", SH_INT},
    {"percentSessionswithBuy", SH_INT},
    {"windowBeginTime", SH_INT},
    {"windowEndTime", SH_INT}};
static const sh_schema fx_counts_schema = {"user_session_counts", 5, fx_counts_fields};

/* A user_session_counts record whose id and values derive from i. */
typedef struct fx_rec {
    sh_record r;
    sh_value v[5];
    char id[32];
} fx_rec;

static inline void fx_make(fx_rec *f, int i)
{
    memset(f, 0, sizeof *f);
    snprintf(f->id, sizeof f->id, "c%d", i);
    f->v[0] = sh_v_int(i);
    f->v[1] = sh_v_int(i / 2);
    f->v[2] = sh_v_int(50);
    f->v[3] = sh_v_int((int64_t)i * 10000);
    f->v[4] = sh_v_int((int64_t)i * 10000 + 10000);
    f->r.schema = &fx_counts_schema;
    f->r.time = (int64_t)i * 10000 + 9999;
    f->r.id.ptr = f->id;
    f->r.id.len = strlen(f->id);
    f->r.values = f->v;
    f->r.slot = 0;
    f->r.offset = i;
}

/* Feeds records from..from+n-1 in one process() call. */
static inline void fx_feed(testhost *th, int from, int n)
{
    fx_rec *fr = calloc((size_t)n, sizeof *fr);
    sh_record *recs = calloc((size_t)n, sizeof *recs);
    for (int i = 0; i < n; i++) {
        fx_make(&fr[i], from + i);
        recs[i] = fr[i].r;
    }
    assert_int_equal(th_process(th, 0, recs, (size_t)n), SH_OK);
    free(recs);
    free(fr);
}

/* ---- dead letters with their payloads ---------------------------------- */

typedef struct fx_dead {
    char *payload;
    char reason[700];
    int32_t slot;
    int64_t offset;
} fx_dead;

static fx_dead fx_deads[256];
static size_t fx_ndead;
static sh_host fx_host_copy;
static sh_rc (*fx_orig_dead)(sh_ctx *, const void *, size_t, const char *, const sh_record *);
static sh_rc fx_dead_rc = SH_OK;

static inline sh_rc fx_capture_dead(sh_ctx *ctx, const void *payload, size_t len, const char *reason,
                             const sh_record *origin)
{
    if (fx_dead_rc != SH_OK)
        return fx_dead_rc;
    if (fx_ndead < 256) {
        fx_dead *d = &fx_deads[fx_ndead++];
        d->payload = malloc(len + 1);
        memcpy(d->payload, payload, len);
        d->payload[len] = '\0';
        snprintf(d->reason, sizeof d->reason, "%s", reason);
        d->slot = origin ? origin->slot : SH_NO_SLOT;
        d->offset = origin ? origin->offset : -1;
    }
    return fx_orig_dead(ctx, payload, len, reason, origin);
}

static inline void fx_dead_reset(void)
{
    for (size_t i = 0; i < fx_ndead; i++)
        free(fx_deads[i].payload);
    fx_ndead = 0;
    fx_dead_rc = SH_OK;
}

/* Routes the sink's dead letters through fx_capture_dead. */
static inline void fx_hook_dead_letters(testhost *th)
{
    os_sink *s = th_state(th);
    fx_host_copy = *s->host;
    fx_orig_dead = fx_host_copy.dead_letter;
    fx_host_copy.dead_letter = fx_capture_dead;
    s->host = &fx_host_copy;
    fx_dead_reset();
}

/* ---- instances ------------------------------------------------------------ */

static inline const sh_plugin *fx_plugin(void)
{
    return streamhost_plugin_entry(SH_ABI_VERSION);
}

/* A started sink with the given "key=value" config (NULL-terminated). */
static inline testhost *fx_sink(const char *const *kv)
{
    testhost *th = th_new(fx_plugin(), kv);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_OK);
    fx_hook_dead_letters(th);
    return th;
}

static inline os_sink *fx_state(testhost *th)
{
    return th_state(th);
}

static inline sh_rc fx_flush_final(testhost *th, int max_ms)
{
    sh_rc rc = SH_PENDING;
    for (int waited = 0; waited < max_ms && rc == SH_PENDING; waited += 1000)
        rc = fx_plugin()->flush(th_state(th), 1);
    return rc;
}

static inline void fx_tick(testhost *th)
{
    fx_plugin()->tick(th_state(th), 0);
}

static inline uint64_t fx_acked(testhost *th)
{
    return fx_plugin()->acked(th_state(th));
}

static inline int fx_busy(testhost *th)
{
    return fx_plugin()->busy(th_state(th));
}

#endif
