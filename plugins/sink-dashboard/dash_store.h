/* dash_store.h - the dashboard's memory: the most recent windows of the
 * clickstream documents, bounded, and their JSON form for the page.
 *
 * Three kinds of records are understood, recognised by their fields (not by
 * their stream names, which are configurable upstream):
 *   counts       userSessionCount, userSessionCountWithOrderCheckout,
 *                percentSessionswithBuy, windowEndTime (INT)
 *                (transform-tumble's counts_index, user_session_counts)
 *   departments  departmentName (STRING), departmentCount, windowEndTime (INT)
 *                (transform-tumble's departments_index, departments_count)
 *   sessions     orderCheckoutEventCount, windowEndTime (INT)
 *                (transform-session's records, user_session_details)
 * Every other record, and a record with a null or out-of-range value where
 * a number is needed, is ignored and counted; nothing here can fail on input.
 *
 * Not thread-safe by itself: the plugin holds a mutex around every call (the
 * pipeline thread adds, the HTTP thread renders). */
#ifndef DASH_STORE_H
#define DASH_STORE_H
#include "streamhost/record_json.h"

/* What a record is to the dashboard. */
enum dash_kind { DASH_UNKNOWN = 0, DASH_COUNTS, DASH_DEPTS, DASH_SESSIONS };

/* Field positions of one schema, resolved once per schema pointer. */
typedef struct dash_schema {
    const sh_schema *schema;
    int kind;
    int f_count, f_with, f_percent; /* counts */
    int f_name, f_dcount;           /* departments */
    int f_checkout;                 /* sessions */
    int f_begin, f_end;             /* windowBeginTime (-1 when absent), windowEndTime */
} dash_schema;

typedef struct dash_dept {
    uint32_t id; /* index into dash_store.names */
    int64_t count;
} dash_dept;

/* One window, keyed by its end (ms). */
typedef struct dash_window {
    int64_t end;
    int64_t begin;                          /* from the counts document, else end - window */
    int has_counts;
    int64_t sessions, with_checkout, percent; /* the counts document, when has_counts */
    int64_t checkout_sum, checkout_n;       /* session documents that ended in the window */
    dash_dept *depts;
    uint32_t ndepts, capdepts;
} dash_window;

#define DASH_MAX_SCHEMAS 32
#define DASH_NAME_MAX 200 /* longest department name kept, bytes */

typedef struct dash_store {
    int64_t window_ms;   /* bucket size of session documents (the tumble size) */
    uint32_t max_windows;
    uint32_t max_depts;  /* distinct department names kept */

    dash_window *w;      /* sorted by end, ascending; at most max_windows */
    uint32_t nw;

    char **names;        /* interned department names, NUL-terminated */
    uint32_t nnames;

    dash_schema schemas[DASH_MAX_SCHEMAS];
    uint32_t nschemas;
    dash_schema uncached; /* the last schema seen once the cache is full */

    uint64_t version;    /* bumped on every change the page can see */
    uint64_t records, ignored, dropped_old, dropped_depts;
    int warned_unknown, warned_names, warned_size;
} dash_store;

/* Zeroes `s` and sets its limits; returns 0, or -1 when out of memory. */
int dash_store_init(dash_store *s, int64_t window_ms, uint32_t max_windows, uint32_t max_depts);
void dash_store_free(dash_store *s);

/* What `schema` is to the dashboard (cached per pointer).  Sets *is_new when
 * the schema was seen for the first time, so the caller can log once. */
const dash_schema *dash_store_schema(dash_store *s, const sh_schema *schema, int *is_new);

/* Adds one record.  Returns 1 when it changed what the page shows, 0 when it
 * was ignored (unknown kind, null or out-of-range values, too old for a full
 * store, a department name beyond max_depts). */
int dash_store_add(dash_store *s, const sh_record *r);

/* Renders the whole store as one JSON object (see README.md, "The data"),
 * with `extra` (a JSON object body without braces, or NULL) first. */
void dash_store_json(const dash_store *s, sh_buf *b, const char *extra);

/* The end of the window of length `size` (epoch-aligned, floored, so times
 * before 1970 work) in which a session with windowEndTime `session_end`
 * counts: the one holding session_end - 1, as transform-tumble assigns it.
 * Returns 0, or -1 when that end does not fit in an int64. */
int dash_window_end(int64_t session_end, int64_t size, int64_t *end);
#endif
