/* click_input.h - builds ClickEvent-shaped input records for the session
 * plugin's tests (header-only, included by each test file). */
#ifndef CLICK_INPUT_H
#define CLICK_INPUT_H

#include "testhost.h"

#include <stdlib.h>
#include <string.h>

const sh_plugin *streamhost_plugin_entry(uint32_t);

enum { CI_IP, CI_TS, CI_DEVICE, CI_EVENT_TYPE, CI_PRODUCT_TYPE, CI_USERID, CI_NFIELDS };

static const sh_field ci_fields[CI_NFIELDS] = {
    {"ip", SH_STRING},         {"eventtimestamp", SH_INT}, {"devicetype", SH_STRING},
    {"event_type", SH_STRING}, {"product_type", SH_STRING}, {"userid", SH_INT},
};
static const sh_schema ci_schema = {"clickstream", CI_NFIELDS, ci_fields};

/* One input event; et/pt NULL mean a null value, user CI_NULL_KEY a null
 * userid. */
typedef struct ci_event {
    int64_t t;
    int64_t user;
    const char *et, *pt;
    int32_t slot;
    int64_t offset;
} ci_event;
#define CI_NULL_KEY INT64_MIN

static inline sh_value ci_str(const char *s)
{
    return s ? sh_v_str(s, strlen(s)) : sh_v_null();
}

/* Feed events as one batch through th_process. */
static inline sh_rc ci_feed(testhost *th, const ci_event *ev, size_t n)
{
    sh_record *recs = calloc(n ? n : 1, sizeof *recs);
    sh_value *vals = calloc(n ? n * CI_NFIELDS : 1, sizeof *vals);
    for (size_t i = 0; i < n; i++) {
        sh_value *v = vals + i * CI_NFIELDS;
        v[CI_IP] = ci_str("66.249.1.17");
        v[CI_TS] = sh_v_int(ev[i].t);
        v[CI_DEVICE] = ci_str("mobile");
        v[CI_EVENT_TYPE] = ci_str(ev[i].et);
        v[CI_PRODUCT_TYPE] = ci_str(ev[i].pt);
        v[CI_USERID] = ev[i].user == CI_NULL_KEY ? sh_v_null() : sh_v_int(ev[i].user);
        recs[i] = (sh_record){.schema = &ci_schema, .time = ev[i].t,
                              .values = v, .slot = ev[i].slot, .offset = ev[i].offset};
    }
    sh_rc rc = th_process(th, 0, recs, n);
    free(vals);
    free(recs);
    return rc;
}

/* Feed events one call each (the watermark is recomputed after each). */
static inline sh_rc ci_feed_each(testhost *th, const ci_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sh_rc rc = ci_feed(th, &ev[i], 1);
        if (rc != SH_OK)
            return rc;
    }
    return SH_OK;
}

/* A started session plugin with the default config plus `kv`. */
static inline testhost *ci_session(const char *const *kv)
{
    testhost *th = th_new(streamhost_plugin_entry(SH_ABI_VERSION), kv);
    if (!th)
        return NULL;
    th_set_now(th, 1000000);
    if (th_init(th) != SH_OK) {
        th_free(th);
        return NULL;
    }
    return th;
}

/* th_free destroys the plugin before freeing the captured records, which
 * point at the plugin's output schema: drop the records first. */
static inline void ci_free(testhost *th)
{
    if (th)
        th_clear(th);
    th_free(th);
}

#endif
