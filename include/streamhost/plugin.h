/*
 * streamhost/plugin.h - the one header a streamhost plugin includes.
 *
 * A plugin is a shared object (.so) that exports one function,
 * `streamhost_plugin_entry`, returning a static descriptor (struct sh_plugin).
 * The host checks the descriptor's ABI version and struct sizes, validates the
 * user's INI section against the plugin's declared config keys, and then drives
 * the plugin through its callbacks.  Everything the plugin needs from the host
 * (logging, emitting records, metrics, clocks, config values) comes through the
 * services table (struct sh_host) handed to init(), so a plugin never links
 * against the host binary and builds out of tree with only this header:
 *
 *     cc $(pkg-config --cflags streamhost) -shared -fPIC -o my.so my.c
 *
 * Compatibility rule (tested by tests/abi/: a plugin built against the frozen
 * ABI 1.0 header loads and runs in every later host):
 *   - sh_plugin and sh_host only grow at the end and carry their own size.
 *     The loader accepts a descriptor of at least SH_PLUGIN_SIZE_1_0 bytes and
 *     reads a later member only when the descriptor's size covers it; a
 *     plugin calls a service added after ABI 1.0 only when SH_HOST_HAS says
 *     its host has it.
 *   - sh_record, sh_value, sh_str, sh_strlist, sh_field, sh_schema and
 *     sh_config_key are frozen for an ABI version: they travel in arrays (a
 *     batch of records, a list of keys), so the element size is part of the
 *     contract and a grown element would shift every element after the first.
 *     The loader refuses a descriptor whose record_size or value_size differ.
 *   - SH_ABI_VERSION changes only when a frozen struct or an existing member
 *     changes; the loader then refuses plugins built for another version.
 *
 * Threading: the host calls every callback of a pipeline from one thread, one
 * call at a time.  A plugin may run its own threads (e.g. for I/O) but must only
 * call host services from inside a callback.
 *
 * Callbacks by kind (R: required, the loader refuses the plugin without it;
 * O: optional, NULL means "nothing to do"; -: never called for that kind).
 * "1.1" marks members added after ABI 1.0 (read only when the descriptor's
 * size covers them).
 *
 *   callback      source  transform  sink   may return
 *   ---------------------------------------------------------------------
 *   validate 1.1    O        O        O     OK | FATAL
 *   init            R        R        R     OK | FATAL
 *   start           O        O        O     OK | FATAL
 *   poll            R        -        -     OK | DONE | RETRY | FATAL
 *   process         -        R        R     OK | RETRY | FATAL
 *   watermark       -        O        -     OK | FATAL
 *   tick            O        O        O     OK | FATAL
 *   flush           -        -        O     OK | PENDING | FATAL
 *   acked, busy     -        -        O     (values, not codes)
 *   stop, destroy   O        O        O     (void)
 *
 *   The delivery and replay part, all optional (see "delivery protocol"
 *   and "replay" at the members): a component that implements none of it
 *   still gets at-least-once delivery when it keeps no state across calls.
 *   positions, commit 1.1                  sources that own input positions
 *   held, settled, needed_from,            stateful transforms
 *     replay_fence, slot_settled 1.1
 *   slot_assigned, slot_revoked 1.1        stateful transforms in a group
 *   exchange_recv, exchanges 1.1           transforms with an exchange
 *   input_settled 1.1                      sources that end where their
 *                                          input is once the others are done
 *
 * Return codes, one meaning each:
 *   SH_OK       done; go on.
 *   SH_RETRY    transient failure and nothing was applied (process: no
 *               record of the batch took effect; poll: nothing emitted):
 *               the host calls again, with the same batch for process(),
 *               after a backoff.  Never return it after applying input:
 *               what was applied would be applied twice.
 *   SH_PENDING  flush() only: accepted, still in flight; the host calls
 *               flush() again (ABI 1.0 plugins returned SH_RETRY here,
 *               which the host still reads as SH_PENDING).
 *   SH_DONE     poll() only: a finite input is fully emitted.
 *   SH_FATAL    permanent failure: the host stops the pipeline (exit 1)
 *               and commits nothing past what was delivered.  Log why
 *               first, in one line naming the place and the fix.
 *   Any other value is a plugin bug; the host stops with exit 1.
 *
 * Lifecycle, in the order the host drives one run:
 *   1. validate() of every instance (also all that `streamhost check` does);
 *   2. init() of every instance, in config order; then start() of each;
 *   3. the run loop: poll() the sources (not while a sink is busy()); once
 *      the sources without input_settled() are done and the sinks flushed,
 *      input_settled() of the others (a bounded Kafka source); every
 *      emit() runs process() downstream synchronously, and watermarks follow
 *      (watermark()); tick() about every 100 ms (sinks write out on their
 *      own schedule there and report it through acked()); at each commit
 *      interval acked(), held() and positions() decide what commit() may
 *      make the restart point; slot_assigned()/slot_revoked() around a
 *      rebalance, before which the host calls flush(final = 0);
 *   4. at the end of finite input (every poll() gave SH_DONE): watermark
 *      INT64_MAX through the graph, so every window fires; on a stop
 *      request: nothing fires, open state is re-read on the next start;
 *   5. flush(final = 1) until SH_OK or shutdown.timeout, a last commit(),
 *      then stop() of every instance and destroy() in reverse config order.
 *   After SH_FATAL from any callback the host skips to 5 without commits.
 */
#ifndef STREAMHOST_PLUGIN_H
#define STREAMHOST_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** ABI version of this header.  The loader refuses a plugin whose descriptor
 *  carries another value. */
#define SH_ABI_VERSION 1u

/** Name of the function every plugin exports (see SH_PLUGIN_EXPORT). */
#define SH_ENTRY_SYMBOL "streamhost_plugin_entry"

/* ------------------------------------------------------------------------ */
/* Return codes                                                              */
/* ------------------------------------------------------------------------ */

/** What a callback tells the host. */
typedef enum sh_rc {
    SH_OK = 0,    /**< done; go on */
    SH_RETRY = 1, /**< transient failure: nothing was applied; the host calls
                       again with the same arguments after a backoff (poll,
                       process; see the table at the top for each callback) */
    SH_FATAL = 2, /**< permanent failure: the host stops the pipeline (exit 1)
                       and commits no offset past what was handled */
    SH_DONE = 3,  /**< sources only: the input is finite and fully emitted */
    SH_PENDING = 4 /**< flush only (ABI 1.1): still in flight, call again */
} sh_rc;

/** Plugin kinds; a config section [source.X] needs a SH_SOURCE plugin, etc. */
typedef enum sh_kind { SH_SOURCE = 1, SH_TRANSFORM = 2, SH_SINK = 3 } sh_kind;

/** Log levels for sh_host.log. */
typedef enum sh_log_level {
    SH_LOG_ERROR = 0,
    SH_LOG_WARN = 1,
    SH_LOG_INFO = 2,
    SH_LOG_DEBUG = 3
} sh_log_level;

/* ------------------------------------------------------------------------ */
/* Records                                                                   */
/* ------------------------------------------------------------------------ */

/** Field value types. */
typedef enum sh_type {
    SH_NULL = 0,   /**< no value */
    SH_INT = 1,    /**< int64_t in u.i */
    SH_DOUBLE = 2, /**< double in u.d */
    SH_STRING = 3, /**< sh_str in u.s (UTF-8, not NUL-terminated) */
    SH_BOOL = 4,   /**< 0/1 in u.b */
    SH_STRLIST = 5 /**< sh_strlist in u.l */
} sh_type;

/** A string slice: pointer and length, not NUL-terminated.  Owned by whoever
 *  emitted the record; valid only during the call that delivers it. */
typedef struct sh_str {
    const char *ptr;
    size_t len;
} sh_str;

/** A list of strings (e.g. deptList). */
typedef struct sh_strlist {
    const sh_str *items;
    uint32_t n;
} sh_strlist;

/** One typed field value.  `type` may be SH_NULL for any declared type. */
typedef struct sh_value {
    uint32_t type; /**< sh_type */
    union {
        int64_t i;
        double d;
        sh_str s;
        int b;
        sh_strlist l;
    } u;
} sh_value;

/** One declared field of a schema. */
typedef struct sh_field {
    const char *name; /**< field name, as written in documents */
    uint32_t type;    /**< sh_type of non-null values */
} sh_field;

/** A record schema.  Plugins declare their output schemas as static data; a
 *  schema pointer stays valid for the plugin's lifetime, so consumers resolve
 *  field positions once per schema (sh_schema_field) and cache them by
 *  pointer, instead of looking fields up by name per record.
 *  `name` is the stream name: document sinks use it as the index name. */
typedef struct sh_schema {
    const char *name;
    uint32_t nfields;
    const sh_field *fields;
} sh_schema;

/** Position of field `name` in `s`, or -1. */
static inline int sh_schema_field(const sh_schema *s, const char *name)
{
    for (uint32_t i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

/** Input position "none" (record not tied to a source offset). */
#define SH_NO_SLOT (-1)

/** One record.  Records travel in arrays (batches); the arrays, values and
 *  strings belong to the emitter and are valid only during the call that
 *  delivers them: copy what you keep. */
typedef struct sh_record {
    const sh_schema *schema; /**< field layout and stream name */
    int64_t time;            /**< event time, ms since the epoch */
    sh_str key;              /**< partitioning key (may be empty) */
    sh_str id;               /**< document id (may be empty: sink decides) */
    const sh_value *values;  /**< schema->nfields values */
    int32_t slot;   /**< input position: host slot of the source partition the
                         record derives from, or SH_NO_SLOT */
    int64_t offset; /**< input position: lowest source offset in that slot the
                         record derives from (Kafka offset for Kafka input) */
} sh_record;

/* ------------------------------------------------------------------------ */
/* Config schema                                                             */
/* ------------------------------------------------------------------------ */

/** Config value types.  The host checks values against them before start. */
typedef enum sh_cfg_type {
    SH_CFG_STRING = 0,
    SH_CFG_INT = 1,      /**< decimal integer, optional sign */
    SH_CFG_BOOL = 2,     /**< true/false, yes/no, on/off, 1/0 */
    SH_CFG_DURATION = 3, /**< 500ms, 1s, 10s, 5m, 1h, 2d; read back in ms */
    SH_CFG_SIZE = 4,     /**< 512, 64KiB, 5MiB, 1GiB, 1KB, 1MB; read in bytes */
    SH_CFG_LIST = 5,     /**< comma-separated strings, blanks trimmed */
    SH_CFG_DOUBLE = 6,   /**< decimal floating point */
    SH_CFG_PREFIX = 7    /**< `name` is a prefix such as "kafka."; any key
                              starting with it is accepted as a string and can
                              be listed with sh_host.cfg_each */
} sh_cfg_type;

/** One declared config key.  Arrays of these end with an entry whose name is
 *  NULL. */
typedef struct sh_config_key {
    const char *name;          /**< key as written in the INI section */
    uint32_t type;             /**< sh_cfg_type */
    const char *default_value; /**< text form, or NULL for none */
    int required;              /**< nonzero: the section must set it */
    const char *doc;           /**< one line for `streamhost plugins describe` */
} sh_config_key;

/* ------------------------------------------------------------------------ */
/* Host services                                                             */
/* ------------------------------------------------------------------------ */

/** Opaque per-instance handle the host passes to every service call. */
typedef struct sh_ctx sh_ctx;

/** Opaque histogram owned by the host (sh_host.histogram, ABI 1.1). */
typedef struct sh_histogram sh_histogram;

/** The host-services table, handed to init() and valid until destroy(). */
typedef struct sh_host {
    uint32_t size;        /**< sizeof(sh_host) of the host: check before using
                               a member added after ABI 1 */
    uint32_t abi_version; /**< SH_ABI_VERSION of the host */

    /** Log one line (no trailing newline needed), prefixed by the host with
     *  the level and the instance name.  Never log secrets. */
    void (*log)(sh_ctx *ctx, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /** Deliver `n` records to everything wired to output `port` of this
     *  instance (port 0 is the default output; named ports are declared in
     *  sh_plugin.outputs, port i+1 for outputs[i]).  Synchronous: when it
     *  returns the records have been processed downstream and may be freed.
     *  Returns SH_OK, or SH_FATAL if a downstream component failed (return
     *  it from your callback). */
    sh_rc (*emit)(sh_ctx *ctx, uint32_t port, const sh_record *recs, size_t n);

    /** Advance this instance's output event-time watermark (ms): a promise
     *  that no record with time <= wm will be emitted any more.  Transforms
     *  that do not implement sh_plugin.watermark have their input watermark
     *  forwarded automatically. */
    sh_rc (*emit_watermark)(sh_ctx *ctx, int64_t wm);

    /** A monotonically increasing counter, exported as a metric labelled with
     *  the instance (e.g. name "late_events_total").  Returns a stable pointer
     *  the plugin increments directly; same name, same pointer. */
    uint64_t *(*counter)(sh_ctx *ctx, const char *name, const char *help);

    /** A gauge (value that goes up and down), same rules as counter(). */
    int64_t *(*gauge)(sh_ctx *ctx, const char *name, const char *help);

    /** Wall-clock time, ms since the epoch. */
    int64_t (*now_ms)(sh_ctx *ctx);

    /** Monotonic time in ms, for intervals and timeouts. */
    int64_t (*mono_ms)(sh_ctx *ctx);

    /** Config value of `key` after ${VAR} substitution, or its declared
     *  default, or NULL.  The string lives as long as the instance. */
    const char *(*cfg_str)(sh_ctx *ctx, const char *key);

    /** Integer value of an INT, BOOL (0/1), DURATION (ms) or SIZE (bytes)
     *  key, or of its default; 0 when unset.  Already validated. */
    int64_t (*cfg_int)(sh_ctx *ctx, const char *key);

    /** Value of a DOUBLE key, or of its default; 0 when unset. */
    double (*cfg_double)(sh_ctx *ctx, const char *key);

    /** Items of a LIST key (or its default): returns the count and sets
     *  *items to an array of NUL-terminated strings owned by the host. */
    size_t (*cfg_list)(sh_ctx *ctx, const char *key, const char *const **items);

    /** Calls fn for every key of this section that starts with `prefix`
     *  (declared as SH_CFG_PREFIX), with the rest of the key and its value. */
    void (*cfg_each)(sh_ctx *ctx, const char *prefix,
                     void (*fn)(void *arg, const char *key, const char *value),
                     void *arg);

    /** "FILE:LINE" of `key` in the user's config (or of the section when the
     *  key is not set), for error messages about values. */
    const char *(*cfg_where)(sh_ctx *ctx, const char *key);

    /** Name of this instance (the NAME of [kind.NAME]). */
    const char *(*instance_name)(sh_ctx *ctx);

    /** Register an input position space for sources: returns the slot for
     *  (stream, partition), the same value for the same pair.  Records carry
     *  the slot so the host can tell which source offsets are durable. */
    int32_t (*slot)(sh_ctx *ctx, const char *stream, int32_t partition);

    /** Hand a payload that cannot be processed or delivered to the host's
     *  dead-letter output (a Kafka topic or a file, per config) with a
     *  one-line reason; `origin` may be NULL.  It is counted per reason
     *  (reason up to the first ':' is the metric label).  Returns SH_OK once
     *  the host took ownership of a copy. */
    sh_rc (*dead_letter)(sh_ctx *ctx, const void *payload, size_t len,
                         const char *reason, const sh_record *origin);

    /** Input slots (see slot()) registered so far by the sources upstream
     *  of this instance: writes up to `max` of them to `slots` and returns
     *  how many there are.  A transform that derives watermarks per slot
     *  uses it to hold its watermark back for a slot (e.g. an assigned Kafka
     *  partition) that has not delivered any record yet, as Flink does for
     *  a split without data, until that slot counts as idle. */
    size_t (*upstream_slots)(sh_ctx *ctx, int32_t *slots, size_t max);

    /* ---- end of the ABI 1.0 services table.  Check SH_HOST_HAS before
     * calling a member below: a host older than the plugin lacks it. ---- */

    /** Sources whose input is handed out to the processes of a group (Kafka
     *  consumer groups; Kafka Connect's open()): `slot` now belongs to this
     *  process.  `meta` (`meta_len` bytes, not NUL-terminated; NULL when
     *  none) is the metadata last committed with the slot's offset, i.e. what
     *  this host once handed to sh_plugin.commit for it: the host takes every
     *  downstream transform's replay fence for the slot from it.  Call it
     *  before the first record of the slot is emitted.  Once a source has
     *  called it, upstream_slots() lists that source's slots only while they
     *  are assigned. */
    void (*slot_assigned)(sh_ctx *ctx, int32_t slot, const char *meta, size_t meta_len);

    /** Sources: `slot` is being taken away from this process (a rebalance;
     *  Kafka Connect's close()).  When it returns, everything received from
     *  the slot so far is either durable and committed (the host flushes the
     *  sinks, bounded by shutdown.timeout, and calls sh_plugin.commit) or
     *  will be re-read by the next owner, and every transform downstream has
     *  dropped its state for the slot (sh_plugin.slot_revoked).  Emit nothing
     *  more from the slot afterwards. */
    void (*slot_revoked)(sh_ctx *ctx, int32_t slot);

    /** Stream and partition a slot was registered with (slot()): 0, or -1
     *  for an unknown slot.  `*stream` lives as long as the pipeline. */
    int (*slot_info)(sh_ctx *ctx, int32_t slot, const char **stream, int32_t *partition);

    /** Transforms: open this instance's exchange `name`, an internal Kafka
     *  topic through which the processes of one consumer group hand partial
     *  results to each other, the way Kafka Streams repartitions.  The host
     *  creates the topic ("<group>.<instance>.<name>", as many partitions as
     *  the upstream Kafka topic), produces to it (exchange_send) and
     *  consumes it in a group of its own, delivering what it reads to
     *  sh_plugin.exchange_recv; offsets of the exchange are committed behind
     *  the sinks' acknowledgements like any input.  Returns the number of
     *  exchange partitions, whose slots are *first_slot .. *first_slot + n - 1
     *  (partition i at *first_slot + i), and sets *source_partitions to the
     *  upstream topic's partition count.  Returns 0 with *first_slot = -1
     *  when there is no exchange to be had (no single upstream Kafka topic:
     *  compute locally), and 0 with *first_slot = -2 after logging why when
     *  the exchange could not be set up (return SH_FATAL).  Call it from
     *  start(). */
    uint32_t (*exchange_open)(sh_ctx *ctx, const char *name, int32_t *first_slot,
                              uint32_t *source_partitions);

    /** Transforms: append one message to exchange partition `partition`
     *  (0 .. n-1; -1: by the key's murmur2 hash, as Java clients place it).
     *  Asynchronous: the host commits no input offset of a snapshot taken
     *  after this call until the broker has acknowledged the message.
     *  SH_OK, or SH_FATAL when the exchange cannot take it. */
    sh_rc (*exchange_send)(sh_ctx *ctx, int32_t partition, const void *key, size_t key_len,
                           const void *value, size_t value_len);

    /** A histogram, exported in the Prometheus form NAME_bucket{le=...},
     *  NAME_sum and NAME_count, labelled with the instance.  `upper_bounds`
     *  (`n` of them, ascending, finite) are the buckets' upper bounds in the
     *  metric's unit (name it for the unit: "request_duration_seconds"); the
     *  host copies them and adds +Inf.  Same name, same histogram (the
     *  bounds of the first call count).  NULL when the bounds are not
     *  ascending or out of memory.  Since ABI 1.1: check SH_HOST_HAS(h,
     *  histogram) and SH_HOST_HAS(h, observe); an older host has neither. */
    sh_histogram *(*histogram)(sh_ctx *ctx, const char *name, const char *help,
                               const double *upper_bounds, size_t n);

    /** Count one observation `value` (in the histogram's unit) in `h`
     *  (from histogram(); NULL is ignored).  Call it from a callback, like
     *  every service; cheap (no lock, no allocation). */
    void (*observe)(sh_ctx *ctx, sh_histogram *h, double value);
} sh_host;

/** One message read from an exchange (sh_host.exchange_open).  Frozen
 *  since ABI 1.1 (it travels in arrays).  Key and value are valid only
 *  during the exchange_recv call. */
typedef struct sh_exchange_msg {
    sh_str key;
    sh_str value;
    int32_t slot;   /**< slot of the exchange partition it was read from */
    int64_t offset; /**< its offset there: records derived from it carry
                         slot and offset like records from a source */
} sh_exchange_msg;

/* ------------------------------------------------------------------------ */
/* The plugin descriptor                                                     */
/* ------------------------------------------------------------------------ */

/** What a plugin is and what it does.  Return a pointer to a static instance
 *  from the entry function.  Callbacks a plugin does not need may be NULL. */
typedef struct sh_plugin {
    /* --- compatibility block, checked by the loader (PG_MODULE_MAGIC) --- */
    uint32_t abi_version; /**< SH_ABI_VERSION */
    uint32_t size;        /**< sizeof(sh_plugin) */
    uint32_t record_size; /**< sizeof(sh_record) */
    uint32_t value_size;  /**< sizeof(sh_value) */

    /* --- identity --- */
    const char *name;        /**< short name used in config: "session" */
    const char *version;     /**< plugin version, e.g. "1.0.0" */
    uint32_t kind;           /**< sh_kind */
    const char *description; /**< one line */

    /** Declared config keys, ending with {NULL}.  The host rejects any other
     *  key in the section (except `plugin`, `inputs`), fills defaults, and
     *  prints these as documentation. */
    const sh_config_key *config;

    /** Named outputs besides the default one, NULL-terminated, or NULL.
     *  Config wires them as `inputs = NAME.OUTPUT`. */
    const char *const *outputs;

    /** Create the instance.  Read config through host->cfg_*; report bad
     *  values with host->cfg_where() and return SH_FATAL.  Store `host` and
     *  `ctx`; they stay valid until destroy.  When init fails after setting
     *  *state, the host still calls destroy(*state) to free it. */
    sh_rc (*init)(const sh_host *host, sh_ctx *ctx, void **state);

    /** Start I/O (connect, open files).  Called after every instance of the
     *  pipeline has been initialised. */
    sh_rc (*start)(void *state);

    /** Sources: emit up to `max` records through host->emit.  Return SH_OK
     *  (also when nothing was ready), SH_DONE when a finite input is
     *  exhausted, SH_RETRY or SH_FATAL.  Must not block for long: at most
     *  `timeout_ms`. */
    sh_rc (*poll)(void *state, size_t max, int timeout_ms);

    /** Transforms and sinks: handle a batch that arrived on input `input`
     *  (index into the section's `inputs` list).  Transforms emit results
     *  through host->emit.  On SH_RETRY nothing may have been applied. */
    sh_rc (*process)(void *state, uint32_t input, const sh_record *recs,
                     size_t n);

    /** Transforms: the input watermark advanced to `wm` (ms; INT64_MAX at the
     *  end of a finite input: fire everything).  Emit what is complete, then
     *  call host->emit_watermark. */
    sh_rc (*watermark)(void *state, int64_t wm);

    /** Called about every 100 ms of processing time with the wall clock (ms),
     *  for periodic work: idleness, sink flush intervals, retries. */
    sh_rc (*tick)(void *state, int64_t now_ms);

    /** Sinks: push buffered output now.  `final` is nonzero at shutdown.
     *  Return SH_OK when everything received so far is durable, SH_PENDING
     *  while some is still in flight (the host calls again), SH_FATAL.
     *  (SH_RETRY, what ABI 1.0 plugins return here, means SH_PENDING.) */
    sh_rc (*flush)(void *state, int final);

    /** Stateful transforms: lower min_offset[slot] to the lowest input
     *  offset (sh_record.offset) of any record whose effect is still held in
     *  open state, for every slot < nslots.  The host commits source offsets
     *  only below what every component still holds. */
    void (*held)(void *state, int64_t *min_offset, size_t nslots);

    /** Sinks: how many records, counted in the order process() received
     *  them, are durably delivered (a contiguous prefix).  NULL means a
     *  record is durable when process() returns SH_OK. */
    uint64_t (*acked)(void *state);

    /** Sinks: nonzero while the sink holds as much as it may; the host stops
     *  polling sources (back-pressure) until it returns 0. */
    int (*busy)(void *state);

    /** Stop I/O; no more records will arrive. */
    void (*stop)(void *state);

    /** Free the instance (also after a failed init that set *state). */
    void (*destroy)(void *state);

    /* --- replay: recovery from committed offsets without checkpoints ---
     * After a crash the host re-reads input from the committed offsets, which
     * lie before every event still held in open state (see held()).  Events
     * re-read that way also rebuild, partially, windows that had already
     * fired and been delivered; these three callbacks let the host tell each
     * transform which of its outputs were final at the committed snapshot,
     * so that it drops those instead of emitting partial duplicates.  All
     * three are optional; stateless transforms implement none. */

    /** Event time below which every record this instance has emitted, or
     *  will emit, is final (typically its output watermark + 1). */
    int64_t (*settled)(void *state);

    /** The lowest input record time this instance would need delivered
     *  again to rebuild its open state (typically the start of its oldest
     *  open window, or where the next window would start). */
    int64_t (*needed_from)(void *state);

    /** Before the first record after a restart: do not emit output records
     *  with time < `fence`; they were final and delivered before the
     *  restart.  The host derives the fence from settled() of this instance
     *  and needed_from() of the transforms it feeds, at the committed
     *  snapshot. */
    void (*replay_fence)(void *state, int64_t fence);

    /* ---- end of the ABI 1.0 descriptor (SH_PLUGIN_SIZE_1_0).  Members
     * below were added later; the host reads each only when the plugin's
     * `size` covers it (SH_PLUGIN_HAS), so plugins built before they existed
     * keep loading and see them as NULL. ---- */

    /** Optional, all kinds: check this instance's config values without
     *  starting anything (`streamhost check` calls it; `run` calls it right
     *  before init).  Read values through host->cfg_*, report each bad value
     *  on one line with host->cfg_where() and the fix, and return SH_FATAL
     *  when any is bad.  No state: init() must still check what it relies on,
     *  ideally by calling the same function. */
    sh_rc (*validate)(const sh_host *host, sh_ctx *ctx);

    /* --- delivery protocol, sources (optional; Kafka Connect's
     * SourceTask.commit).  A source that implements both takes part in
     * at-least-once delivery: the host commits only positions whose effects
     * every component downstream has made durable. --- */

    /** Sources: lower pos[slot] to the next input position to read (the
     *  position after the last record emitted) for every slot it owns. */
    void (*positions)(void *state, int64_t *pos, size_t nslots);

    /** Sources: make `offsets[slot]` (a position from positions(), or lower)
     *  the committed restart point of every slot it owns whose offset is not
     *  INT64_MAX, together with `meta[slot]` (NUL-terminated, opaque to the
     *  source: hand it back to slot_assigned when the slot is assigned
     *  again, or keep it beside the offset). */
    void (*commit)(void *state, const int64_t *offsets, const char *const *meta, size_t nslots);

    /* --- partition ownership, stateful transforms (optional) --- */

    /** `slot` was assigned to this process (see sh_host.slot_assigned);
     *  `fence` is this instance's replay fence for the slot (do not emit
     *  results of that slot with time < fence: they were delivered before),
     *  or INT64_MIN when there is none.  Transforms without it get the
     *  first fence through replay_fence() instead. */
    void (*slot_assigned)(void *state, int32_t slot, int64_t fence);

    /** `slot` was taken away from this process: drop every piece of state
     *  derived from it (open windows, watermark trackers) and emit nothing
     *  more for it.  Called after its durable part was committed.  When a
     *  source has no slot left (the host's Kafka source rebalances eagerly:
     *  every partition is revoked, then the new assignment is read again
     *  from its committed offsets, as after a restart), the host's
     *  watermarks downstream start again from INT64_MIN: reset yours once
     *  you hold no slot, so that the partitions assigned next are judged by
     *  their own re-read data. */
    void (*slot_revoked)(void *state, int32_t slot);

    /** Like settled(), for the records derived from one slot; when NULL the
     *  host uses settled() for every slot. */
    int64_t (*slot_settled)(void *state, int32_t slot);

    /** Transforms with an exchange: messages read from it, in offset order
     *  per exchange partition.  Emit results through host->emit as usual.
     *  SH_OK or SH_FATAL (nothing is retried: apply them or fail). */
    sh_rc (*exchange_recv)(void *state, const sh_exchange_msg *msgs, size_t n);

    /** Transforms: names of the exchanges it may open (NULL-terminated, or
     *  NULL), so that `streamhost check` can say which internal topics a
     *  run will create; exchange_open() refuses any other name. */
    const char *const *exchanges;

    /* --- bounded runs, sources (optional) --- */

    /** Sources whose finite input ends where the input is "now" (a Kafka
     *  topic read with bounded = true: the end offsets at the start): the
     *  host calls it once per run, when every other source of the process
     *  without this callback has finished (SH_DONE) and the sinks have
     *  flushed what those produced, so that a pipeline writing the input it
     *  reads (generator -> Kafka -> analytics in one process) does not stop
     *  before its input is there.  Fix the end positions then; give SH_DONE
     *  only after it.  With no other source it comes right at the start. */
    void (*input_settled)(void *state);
} sh_plugin;

/** Size of the descriptor as ABI 1.0 released it: the loader accepts any
 *  descriptor at least this large (and refuses smaller ones). */
#define SH_PLUGIN_SIZE_1_0 (offsetof(sh_plugin, replay_fence) + sizeof(void (*)(void *, int64_t)))

/** True when a descriptor of `p->size` bytes includes `member` (a plugin
 *  built against an older header has a smaller descriptor).  The host copies
 *  every descriptor into a zeroed full-size one, so inside the host a member
 *  the plugin predates reads as NULL; the macro is for code that looks at a
 *  descriptor directly. */
#define SH_PLUGIN_HAS(p, member)                                              \
    ((p)->size >= offsetof(sh_plugin, member) + sizeof((p)->member))

/** True when the host-services table `h` (of `h->size` bytes) has `member`
 *  and it is set: a plugin built against a newer header than its host's
 *  checks this before calling a service added after ABI 1.0. */
#define SH_HOST_HAS(h, member)                                                \
    ((h)->size >= offsetof(sh_host, member) + sizeof((h)->member) && (h)->member != NULL)

/** The entry function every plugin exports.  `host_abi` is the host's
 *  SH_ABI_VERSION; return the descriptor (the host does the checking). */
typedef const sh_plugin *(*sh_entry_fn)(uint32_t host_abi);

/** Fill the compatibility block of a descriptor. */
#define SH_PLUGIN_MAGIC                                                       \
    .abi_version = SH_ABI_VERSION, .size = sizeof(sh_plugin),                 \
    .record_size = sizeof(sh_record), .value_size = sizeof(sh_value)

/** Export `desc` (a static sh_plugin) as this .so's plugin. */
#define SH_PLUGIN_EXPORT(desc)                                                \
    __attribute__((visibility("default"))) const sh_plugin                   \
        *streamhost_plugin_entry(uint32_t host_abi);                          \
    __attribute__((visibility("default"))) const sh_plugin                   \
        *streamhost_plugin_entry(uint32_t host_abi)                           \
    {                                                                         \
        (void)host_abi;                                                       \
        return &(desc);                                                       \
    }

/** Convenience constructors for values. */
static inline sh_value sh_v_int(int64_t i)
{
    sh_value v;
    v.type = SH_INT;
    v.u.i = i;
    return v;
}
static inline sh_value sh_v_str(const char *p, size_t n)
{
    sh_value v;
    v.type = SH_STRING;
    v.u.s.ptr = p;
    v.u.s.len = n;
    return v;
}
static inline sh_value sh_v_null(void)
{
    sh_value v;
    memset(&v, 0, sizeof v);
    v.type = SH_NULL;
    return v;
}
/** Name of a field type for messages ("INT", "STRING", ...). */
static inline const char *sh_type_name(uint32_t t)
{
    static const char *const names[] = {"NULL", "INT", "DOUBLE", "STRING", "BOOL", "STRLIST"};
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/** Position of the field named `name` (the value of config key `cfg_key`) in
 *  records of `s`, checked to have `type`.  On a mismatch, logs one line
 *  naming the config location and the fix, and returns -1.  Call it once
 *  per schema pointer and cache the result. */
static inline int sh_resolve_field(const sh_host *host, sh_ctx *ctx, const sh_schema *s, const char *cfg_key,
                                   const char *name, uint32_t type)
{
    int i = sh_schema_field(s, name);
    if (i < 0) {
        host->log(ctx, SH_LOG_ERROR, "%s: records of stream '%s' have no field '%s'; set %s to one of its fields",
                  host->cfg_where(ctx, cfg_key), s->name, name, cfg_key);
        return -1;
    }
    if (s->fields[i].type != type) {
        host->log(ctx, SH_LOG_ERROR, "%s: field '%s' of stream '%s' is %s, not %s; set %s to a field of type %s",
                  host->cfg_where(ctx, cfg_key), name, s->name, sh_type_name(s->fields[i].type),
                  sh_type_name(type), cfg_key, sh_type_name(type));
        return -1;
    }
    return i;
}

/** True when `v` is a string equal to the NUL-terminated `lit`. */
static inline int sh_str_eq(sh_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

#ifdef __cplusplus
}
#endif
#endif /* STREAMHOST_PLUGIN_H */
