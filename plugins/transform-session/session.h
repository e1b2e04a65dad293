/* session.h - internals of the session transform shared by its files and
 * its unit tests.  See README.md for what the plugin computes. */
#ifndef SESSION_H
#define SESSION_H

#include "streamhost/plugin.h"
#include "streamhost/record_json.h"

#include "streamhost/plugin_util.h"
#include "session_ext.h"
#include "slot_clock.h"

/* Output fields, in document order (docs/semantics.md section 4). */
enum {
    SS_F_USER_ID,
    SS_F_EVENT_COUNT,
    SS_F_CHECKOUT_COUNT,
    SS_F_DEPT_LIST,
    SS_F_EVENT_KEY,
    SS_F_BEGIN,
    SS_F_END,
    SS_NFIELDS
};

/* Records emitted per host->emit call. */
#define SS_OUT_BATCH 256

/* Field positions of one input schema, resolved once (sh_field_cache):
 * pos[SS_IN_KEY] etc. */
enum { SS_IN_KEY, SS_IN_EVENT_TYPE, SS_IN_PRODUCT_TYPE, SS_IN_N };
typedef sh_field_pos ss_fields;

/* Reused buffers for output records. */
typedef struct ss_output {
    sh_record recs[SS_OUT_BATCH];
    sh_value vals[SS_OUT_BATCH][SS_NFIELDS];
    char text[SS_OUT_BATCH][72]; /* key "<userId>" at 0, id at SS_ID_AT */
    size_t n;
    sh_str *items; /* department names of the batch's deptLists */
    size_t nitems, capitems;
} ss_output;
#define SS_ID_AT 24

/* The section's config values, as read and checked once. */
typedef struct ss_values {
    int64_t gap, out_of_orderness, idleness;
    const char *key_field, *event_type_field, *product_type_field, *index;
} ss_values;

typedef struct ss_state {
    const sh_host *host;
    sh_ctx *ctx;
    ss_values cfg; /* the section's values, checked (session_plugin.c) */
    sh_schema out_schema;

    ss_store store;
    sh_intern depts; /* department names -> ids: a session keeps them as bits */
    ss_clock clock;
    ss_output out;

    int64_t wm;      /* operator watermark: sessions with end - 1 <= wm fired */
    int64_t host_wm; /* highest watermark the host handed to watermark() */
    int64_t fence;   /* replay: sessions with end - 1 < fence were delivered before */
    int64_t *slot_fence; /* per slot, when assigned with one (else `fence`) */
    size_t nslot_fence;
    uint32_t nassigned;  /* slots assigned through slot_assigned() */

    sh_field_want want[SS_IN_N]; /* the input fields it reads (from the config) */
    sh_field_cache fields;       /* their positions per input schema */
    sh_recqueue late;      /* late records of the current batch (shallow copies) */
    uint32_t *merge_parts; /* scratch for the rare multi-session merge */
    size_t capmerge;
    sh_buf dead; /* JSON rendering of a dead-lettered record */

    uint64_t *events_in, *sessions_out, *late_events, *null_keys, *replayed;
    int64_t *open_gauge, *wm_gauge;
    int64_t wm_shown; /* *wm_gauge: the host exports the output watermark itself */
} ss_state;

/* session_output.c */
void ss_output_free(ss_output *o);
/* Queue the session as an output record (emits when the batch is full). */
sh_rc ss_output_add(ss_state *st, const ss_sess *s);
/* Emit what is queued. */
sh_rc ss_output_flush(ss_state *st);
extern const sh_field ss_out_fields[SS_NFIELDS];

/* session_apply.c: apply one event (key already read) to the open sessions.
 * Sets *late when the event is too late to apply. */
sh_rc ss_apply(ss_state *st, const sh_record *r, const ss_fields *f,
               int64_t key, int *late);

/* session_slots.c: partition ownership */
int64_t ss_fence_of(const ss_state *st, int32_t slot);
void ss_slot_assigned(void *state, int32_t slot, int64_t fence);
void ss_slot_revoked(void *state, int32_t slot);

#endif
