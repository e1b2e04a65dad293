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
    int initialised, started;
    struct input *inputs;
    size_t ninputs;
    struct port *ports;
    size_t nports;
    int64_t in_wm, out_wm;
    int done;            /* sources: SH_DONE seen */
    uint64_t received;   /* sinks: records accepted by process() */
    metric *m_in, *m_out, *m_errors;
    char ***lists;       /* cfg_list results, freed at the end */
    size_t nlists;
    char where[512];
    int topo;            /* position in topological order */
    int64_t fence;       /* replay fence handed over at (re)start, INT64_MIN if none */
    /* host-internal extension of built-in plugins (NULL for .so plugins) */
    const struct builtin_ext *ext;
};

/* Extra entry points only built-in plugins have (positions and commits). */
struct builtin_ext {
    const sh_plugin *plugin;
    /* set pos[slot] = next input offset to read, for every slot it owns */
    void (*positions)(void *state, int64_t *pos, size_t nslots);
    /* commit offsets (next offset to read) for the slots it owns, with the
     * snapshot's replay fences as commit metadata (see pipeline_fences) */
    void (*commit)(void *state, const int64_t *offsets, size_t nslots, const char *meta);
};

typedef struct slot_info {
    char *stream;
    int32_t partition;
    instance *owner;
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
    volatile int stop_requested;
    int failed;
    int quiet;
};

extern const sh_host sh_host_services;
extern const struct builtin_ext *const sh_builtin_exts[];

/* Builds the pipeline from a parsed config: loads plugins, validates every
 * section against its schema, wires inputs and orders the DAG.  Problems are
 * appended to cfg->errors; returns NULL when there are any. */
pipeline *pipeline_build(sh_config *cfg, const char *config_path);
/* Runs until the sources are done or stop is requested; returns the exit
 * code (0 ok, 1 runtime failure). */
int pipeline_run(pipeline *pl);
void pipeline_request_stop(pipeline *pl);
void pipeline_free(pipeline *pl);

/* The [streamhost] section's declared keys (also printed by --help). */
extern const sh_config_key sh_host_config[];

/* Internal helpers shared with services.c and the built-ins. */
sh_rc pipeline_emit(instance *from, uint32_t port, const sh_record *recs, size_t n);
sh_rc pipeline_watermark(instance *from, int64_t wm);
int32_t pipeline_slot(pipeline *pl, instance *owner, const char *stream, int32_t partition);
/* Replay fences: at a snapshot, "sh1 NAME=FENCE ..." for every transform
 * with settled() (written to `out`); after a restart, hands each transform
 * its fence from such a string (committed metadata).  See plugin.h. */
void pipeline_fences(pipeline *pl, char *out, size_t outlen);
void pipeline_apply_fences(pipeline *pl, const char *meta);
/* Value of a declared key after defaults (NULL when unset). */
const char *inst_cfg(instance *in, const char *key, const sh_config_key **decl);
#endif
