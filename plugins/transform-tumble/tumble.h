/* tumble.h - internals of the tumble transform shared by its files and its
 * unit tests.  See README.md for what the plugin computes. */
#ifndef TUMBLE_H
#define TUMBLE_H

#include "streamhost/plugin.h"
#include "streamhost/plugin_util.h"

/* Output fields of the counts stream (docs/semantics.md section 5). */
enum {
    TB_C_COUNT,
    TB_C_WITH_CHECKOUT,
    TB_C_PERCENT,
    TB_C_BEGIN,
    TB_C_END,
    TB_C_NFIELDS
};
/* Output fields of the departments stream. */
enum { TB_D_NAME, TB_D_COUNT, TB_D_BEGIN, TB_D_END, TB_D_NFIELDS };

#define TB_OUT_BATCH 256


/* One open 10-second (by default) window. */
typedef struct tb_window {
    int64_t start;
    int32_t slot;          /* exchange mode: the source slot of this partial; -1 */
    uint64_t sessions, with_checkout;
    uint32_t *dept_counts; /* by department id */
    uint32_t ndepts;
    int64_t *held;         /* by slot: lowest input offset, INT64_MAX none */
    uint32_t nheld;
} tb_window;

/* Field positions of one input schema, resolved once (sh_field_cache):
 * pos[TB_IN_CHECKOUT], pos[TB_IN_DEPTS]. */
enum { TB_IN_CHECKOUT, TB_IN_DEPTS, TB_IN_N };
typedef sh_field_pos tb_fields;

/* A department of a fired window, for sorting by name. */
typedef struct tb_dept_count {
    sh_str name;
    uint32_t count;
} tb_dept_count;

typedef struct tb_output {
    sh_record recs[TB_OUT_BATCH];
    sh_value vals[TB_OUT_BATCH][TB_C_NFIELDS];
    size_t n;
    char *text; /* ids of the batch; never moved while records point in */
    size_t text_len, text_cap;
} tb_output;

/* Exchange mode (tumble_exchange.c): one source partition's part of a
 * window, as read from the exchange topic. */
typedef struct tb_dc {
    uint32_t id, count; /* department id (st->names), sessions listing it */
} tb_dc;
typedef struct tb_partial {
    int present;
    uint64_t sessions, with_checkout;
    tb_dc *dc;
    uint32_t ndc;
} tb_partial;
/* A window waiting in the merge for every source partition. */
typedef struct tb_mwin {
    int64_t start;
    uint32_t x;         /* exchange partition it is read from */
    int64_t min_offset; /* lowest exchange offset of its partials */
    tb_partial *parts;  /* by source partition, src_n of them */
} tb_mwin;

/* The section's config values, as read and checked once; exchange is
 * TB_EX_AUTO, TB_EX_KAFKA or TB_EX_LOCAL. */
typedef struct tb_values {
    int64_t size;
    const char *checkout_field, *departments_field, *counts_index, *departments_index;
    int exchange;
} tb_values;

typedef struct tb_state {
    const sh_host *host;
    sh_ctx *ctx;
    tb_values cfg; /* the section's values, checked (tumble_plugin.c) */
    sh_schema counts_schema, depts_schema;

    tb_window *windows; /* open windows by ascending start */
    size_t nwin, capwin;
    sh_intern names;        /* department names -> ids */
    uint64_t *name_stamp;   /* by id: last session that counted it (dedupe) */
    uint32_t capstamp;
    uint64_t session_seq;   /* numbers input sessions for name_stamp */
    int64_t wm;           /* windows with end - 1 <= wm have fired */
    int64_t fence;        /* replay: windows with end - 1 < fence were delivered before */

    sh_field_want want[TB_IN_N]; /* the input fields it reads (from the config) */
    sh_field_cache fields;       /* their positions per input schema */
    sh_recqueue late;      /* late sessions of the current batch (shallow copies) */
    tb_dept_count *sorted; /* scratch for firing */
    size_t capsorted;
    tb_output out;

    /* exchange mode: partials per (window, source partition) through Kafka */
    uint32_t ex_n, src_n;   /* exchange partitions (0: local mode), source partitions */
    int32_t ex_first;       /* slot of exchange partition 0 */
    int64_t *src_fence;     /* by slot: fence of a source slot (INT64_MIN none) */
    uint8_t *src_assigned;  /* by slot */
    size_t nsrc;
    int64_t marker_window;  /* window start of the watermark at the last markers */
    tb_mwin *mw;            /* waiting windows, by start */
    size_t nmw, capmw;
    int64_t *progress;      /* [x * src_n + q]: windows of partition q with last <= it are complete */
    int64_t *mfence;        /* by exchange partition: windows with last < it were emitted */
    unsigned char *xbuf;
    size_t xcap;
    uint64_t *partials_sent, *partials_merged, *markers_sent;
    int64_t *waiting_gauge, *waiting_parts_gauge;

    uint64_t *sessions_in, *counts_out, *departments_out, *late_sessions, *replayed;
    int64_t *open_gauge, *wm_gauge;
    int64_t wm_shown; /* *wm_gauge: the host exports the output watermark itself */
} tb_state;

extern const sh_field tb_counts_fields[TB_C_NFIELDS];
extern const sh_field tb_depts_fields[TB_D_NFIELDS];

/* Start of the epoch-aligned window of `size` ms holding time `t`. */
static inline int64_t tb_window_start(int64_t t, int64_t size)
{
    int64_t mod = t % size;
    if (mod < 0)
        mod += size; /* floor, also before 1970 */
    if (t < INT64_MIN + mod)
        return INT64_MIN; /* the first window of time is cut short */
    return t - mod;
}

/* Last millisecond of the window starting at `start` (end - 1). */
static inline int64_t tb_window_last(const tb_state *st, int64_t start)
{
    return start > INT64_MAX - (st->cfg.size - 1) ? INT64_MAX : start + (st->cfg.size - 1);
}

/* The files below form layers, each using only those above it:
 * windows (the open windows as data) <- output (documents of a window)
 * <- exchange (partials between processes) <- fire (what happens to a
 * window when the watermark passes it) <- plugin (the callbacks). */

/* tumble_windows.c */
/* Count one session record into its window (created when new). 0, or -1
 * when memory ran out. */
int tb_window_add(tb_state *st, int64_t start, const sh_record *r,
                  const tb_fields *f);
void tb_window_release(tb_window *w);
/* Drop windows [0, n) (released by the caller) from the front. */
void tb_windows_shift(tb_state *st, size_t n);
void tb_windows_free(tb_state *st);

#define TB_EX_AUTO 0
#define TB_EX_KAFKA 1
#define TB_EX_LOCAL 2

/* tumble_fire.c */
/* Emit every window whose last millisecond is <= st->wm, in start order:
 * locally, or as this process's partial to the exchange. */
sh_rc tb_windows_fire(tb_state *st);

/* tumble_exchange.c */
sh_rc tb_exchange_start(tb_state *st);
int64_t tb_src_fence(const tb_state *st, int32_t slot);
sh_rc tb_exchange_partial(tb_state *st, const tb_window *w);
sh_rc tb_exchange_markers(tb_state *st);
sh_rc tb_exchange_recv(void *state, const sh_exchange_msg *msgs, size_t n);
void tb_exchange_held(const tb_state *st, int64_t *min_offset, size_t nslots);
int64_t tb_slot_settled(void *state, int32_t slot);
void tb_slot_assigned(void *state, int32_t slot, int64_t fence);
void tb_slot_revoked(void *state, int32_t slot);
void tb_exchange_free(tb_state *st);

/* tumble_output.c */
/* Emit one window's documents: its counts, then its departments by name. */
sh_rc tb_window_emit(tb_state *st, const tb_window *w);
sh_rc tb_output_counts(tb_state *st, const tb_window *w);
sh_rc tb_output_dept(tb_state *st, const tb_window *w, sh_str name, uint32_t count);
sh_rc tb_output_flush(tb_state *st);
void tb_output_free(tb_output *o);

#endif
