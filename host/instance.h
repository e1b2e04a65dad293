/* instance.h - the types of a pipeline: component instances (what plugins
 * see as the opaque sh_ctx), their edges and ports, input slots, and the
 * pipeline that holds them.  Data only; building is pipeline_build.h,
 * running pipeline.h, config access settings.h. */
#ifndef SH_INSTANCE_H
#define SH_INSTANCE_H
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
    const char *metrics_user, *metrics_password_env, *metrics_cert, *metrics_key; /* auth and TLS of /metrics */
    struct commit_state *commits; /* snapshots waiting for acknowledgement */
    struct exchange **exchanges;   /* every transform's exchange (exchange.c) */
    size_t nexchanges;
    int running;                   /* inside pipeline_run's loop: revocations may commit */
    int inputs_settled;            /* input_settled() of the bounded sources called */
    volatile int stop_requested;
    int failed;
    int quiet;
    const sh_host *host; /* the services table handed to init(); NULL: sh_host_services
                            (the test kit hands out a writable copy) */
    struct deadletter *deadletter; /* its dead-letter writer (deadletter.c) */
    const struct commit_participant *participant; /* besides the instances, in every
                            snapshot (the exchange; commits.h), or NULL */
};

extern const struct builtin_ext *const sh_builtin_exts[];
#endif
