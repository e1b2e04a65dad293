/* pipeline.h - component instances wired as a DAG, and the run loop. */
#ifndef SH_PIPELINE_H
#define SH_PIPELINE_H
#include "config.h"
#include "loader.h"
#include "metrics.h"
#include "streamhost/plugin.h"

typedef struct pipeline pipeline;
typedef struct sh_ctx instance;

struct edge {
    instance *to;
    uint32_t input; /* index into to->inputs */
};

struct port {
    char *name; /* "" for the default output */
    struct edge *edges;
    size_t nedges;
};

struct input {
    instance *from;
    uint32_t port;
    int64_t wm; /* last watermark received through this input */
};

/* One component instance: [source.NAME], [transform.NAME] or [sink.NAME].
 * Plugins see it as the opaque sh_ctx. */
struct sh_ctx {
    pipeline *pl;
    cfg_section *sec;
    loaded_plugin lp;
    const sh_plugin *p;
    void *state;
    const char *name;
    int kind;
    int initialised, started, stopped;
    struct input *inputs;
    size_t ninputs;
    struct port *ports;
    size_t nports;
    int64_t in_wm, out_wm;
    uint64_t wm_calls, wm_regressions; /* emit_watermark() calls; those below an earlier one */
    int done;            /* sources: SH_DONE seen */
    uint64_t received;   /* sinks: records accepted by process() */
    metric *m_in, *m_out, *m_errors;
    char ***lists;       /* cfg_list results, freed at the end */
    size_t nlists;
    char where[512];
    int topo;            /* position in topological order */
    int64_t fence;       /* replay fence handed over at (re)start, INT64_MIN if none */
    int64_t *slot_fences; /* per slot: fence the slot was assigned with (INT64_MIN none) */
    size_t nslot_fences;
    int fenced_once;     /* replay_fence() called (plugins without slot_assigned) */
    int assigns;         /* sources: has called slot_assigned (slots count only while assigned) */
    struct exchange *exchange; /* transforms: its exchange topic, or NULL */
    /* host-internal extension of built-in plugins (NULL for .so plugins) */
    const struct builtin_ext *ext;
};

/* Built-in plugins that belong to the host's Kafka client (used to tell
 * Kafka components apart; positions and commits go through the ABI). */
struct builtin_ext {
    const sh_plugin *plugin;
};

typedef struct slot_info {
    char *stream;
    int32_t partition;
    instance *owner;
    int assigned; /* owner->assigns: currently assigned to this process */
} slot_info;

struct pipeline {
    sh_config *cfg;
    char **dirs;
    instance **insts; /* in topological order once wired */
    size_t ninsts;
    slot_info *slots;
    size_t nslots, capslots;
    /* [streamhost] settings */
    int64_t commit_interval_ms, shutdown_timeout_ms, batch_size, tick_ms, rate_limit;
    int progress;          /* 0 off, 1 auto, 2 on */
    double progress_interval_s;
    int64_t metrics_port;
    const char *dead_letter_topic, *dead_letter_file, *metrics_address;
    struct commit_state *commits; /* snapshots waiting for acknowledgement */
    struct exchange **exchanges;   /* every transform's exchange (exchange.c) */
    size_t nexchanges;
    int running;                   /* inside pipeline_run's loop: revocations may commit */
    volatile int stop_requested;
    int failed;
    int quiet;
    const sh_host *host; /* the services table handed to init(); NULL: sh_host_services
                            (the test kit hands out a writable copy) */
};

extern const sh_host sh_host_services;
/* Nonzero: what sh_host_services' now_ms and mono_ms return (the test kit's
 * th_set_now); 0, the default: the real clocks. */
extern int64_t sh_test_clock_ms;
extern const struct builtin_ext *const sh_builtin_exts[];

/* Builds the pipeline from a parsed config: loads plugins, validates every
 * section against its schema, wires inputs and orders the DAG.  Problems are
 * appended to cfg->errors; returns NULL when there are any. */
pipeline *pipeline_build(sh_config *cfg, const char *config_path);
/* The same; validate = 0 leaves out the plugins' validate() callbacks (the
 * test kit: its th_new checks what the host checks, and a test calls
 * validate() or init() itself to see the plugin's own refusals). */
pipeline *pipeline_build_with(sh_config *cfg, const char *config_path, int validate);
/* Runs until the sources are done or stop is requested; returns the exit
 * code (0 ok, 1 runtime failure). */
int pipeline_run(pipeline *pl);
void pipeline_request_stop(pipeline *pl);
/* What pipeline_run does before its loop: opens the dead-letter output and
 * runs every instance's init() and start(); 0, or -1 (logged).  For the
 * test kit, which then drives the callbacks itself. */
int pipeline_start(pipeline *pl);
void pipeline_free(pipeline *pl);

/* The [streamhost] section's declared keys (also printed by --help). */
extern const sh_config_key sh_host_config[];

/* Internal helpers shared with services.c and the built-ins. */
sh_rc pipeline_emit(instance *from, uint32_t port, const sh_record *recs, size_t n);
sh_rc pipeline_watermark(instance *from, int64_t wm);
int32_t pipeline_slot(pipeline *pl, instance *owner, const char *stream, int32_t partition);
/* Replay fences (ownership.c): at a snapshot, "sh2 NAME=FENCE ..." for one
 * slot, every transform with settled()/slot_settled() (written to `out`);
 * when a slot is assigned, hands each transform its fence for the slot
 * from such a string (committed metadata; "sh1" of older hosts too). */
void pipeline_slot_fences(pipeline *pl, int32_t slot, char *out, size_t outlen);
void pipeline_slot_assigned(instance *src, int32_t slot, const char *meta, size_t len);
void pipeline_slot_revoked(instance *src, int32_t slot);
/* Is `src` upstream of `in`, or `in` itself? */
int pipeline_feeds(const instance *src, const instance *in);
/* Makes everything received so far durable and commits it (bounded by
 * shutdown.timeout); used when partitions are revoked.  0 ok, -1 not all. */
int pipeline_commit_now(pipeline *pl);
/* Forgets `slot` in every snapshot waiting for acknowledgement. */
void pipeline_forget_slot(pipeline *pl, int32_t slot);
/* Commits (commits.c): take a snapshot now; commit the newest acknowledged
 * one; free what is pending. */
void commits_take(pipeline *pl);
void commits_ready(pipeline *pl);
void commits_free(pipeline *pl);
/* Flushes sinks until all report durable or the deadline passes (pipeline.c):
 * 0, or -1 (logged). */
int flush_sinks(pipeline *pl, int final, int64_t timeout_ms);
/* Value of a declared key after defaults (NULL when unset). */
const char *inst_cfg(instance *in, const char *key, const sh_config_key **decl);
#endif
