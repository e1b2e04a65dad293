/* clickgen.h - internals of the click generator source, shared by its files
 * and its unit tests. */
#ifndef CLICKGEN_H
#define CLICKGEN_H
#include "pacer.h"
#include "prng.h"
#include "user_heap.h"
#include "streamhost/plugin.h"

/* Output fields, in ClickEvent.avsc order. */
enum clickgen_field {
    CF_IP,
    CF_EVENTTIMESTAMP,
    CF_DEVICETYPE,
    CF_EVENT_TYPE,
    CF_PRODUCT_TYPE,
    CF_USERID,
    CF_GLOBALSEQ,
    CF_PREVGLOBALSEQ,
    CF_REFERRER, /* schema.version = 2 only (conf/ClickEvent-v2.avsc) */
    CF_COUNT
};

/* User ids: the n-th user (1-based) takes a random id in block n, i.e. in
 * [n*1000, n*1000+999].  Block numbers wrap after CLICKGEN_ID_BLOCKS so that
 * every id stays a positive int32 (2147482 * 1000 + 999 < 2^31). */
#define CLICKGEN_ID_BLOCK 1000
#define CLICKGEN_ID_BLOCKS 2147482

/* Bounds that keep memory and arithmetic sane. */
#define CLICKGEN_MAX_USERS 10000000
#define CLICKGEN_MAX_THREADS 1024

/* Validated config values. */
typedef struct clickgen_config {
    const char *stream;
    int64_t users, threads;
    int64_t think_min, think_max, user_pause; /* ms */
    int64_t seed;                             /* 0: random */
    int wall_clock;
    int64_t start_time; /* epoch ms; 0: wall clock at start */
    int64_t rate;       /* events/s; 0: unpaced */
    int64_t max_events, max_users, duration;
    int64_t schema_version; /* 1: ClickEvent.avsc's fields; 2: + referrer (ClickEvent-v2.avsc) */
} clickgen_config;

/* Text of one record that the batch must own: its key and its ip. */
typedef struct clickgen_text {
    char key[12]; /* userid, decimal */
    char ip[16];  /* 66.249.1.x */
} clickgen_text;

typedef struct clickgen {
    const sh_host *host;
    sh_ctx *ctx;
    clickgen_config cfg;
    char *stream_name;
    sh_field fields[CF_COUNT];
    sh_schema schema;

    prng rng;
    user_heap users;
    int64_t *thread_last_seq; /* per thread: last globalseq sent (0: none) */
    int64_t globalseq;        /* last globalseq sent, producer-wide */
    uint64_t users_started;
    uint64_t events_sent;
    int64_t base_time; /* event time of the start, epoch ms */
    int64_t end_time;  /* events at or after this are not sent */
    int64_t last_sent; /* wall clock: latest stamp so far (stamps never go back) */
    pacer pace;
    int done;
    int heap_only; /* tests: keep the users in the heap form (no calendar) */

    /* Batch storage, reused by every poll. */
    sh_record *recs;
    sh_value *vals;
    clickgen_text *text;
    size_t batch_cap;

    uint64_t *events_total;
    uint64_t *users_started_total;
} clickgen;

extern const sh_config_key clickgen_config_keys[];

/* Reads and checks the config; logs one line per mistake. */
sh_rc clickgen_read_config(const sh_host *host, sh_ctx *ctx, clickgen_config *cfg);

/* Sets up the first users at base time `base`. */
void clickgen_begin(clickgen *g, int64_t base);

/* True when no event will come any more (limits reached or no users). */
int clickgen_finished(const clickgen *g);

/* Writes up to `room` events scheduled at or before ready_until into the
 * batch storage (which must hold `room`); returns how many.  `sent_at` is the
 * wall clock for clock = wall: an event scheduled earlier (a rate below what
 * the users would click) is stamped sent_at, and its user's next click is
 * scheduled from there, so event time never falls behind the wall clock.
 * INT64_MIN (clock = simulated): events carry their scheduled time. */
size_t clickgen_fill(clickgen *g, size_t room, int64_t ready_until, int64_t sent_at);
#endif
