/* settings.c - see settings.h. */
#include "settings.h"

#include <string.h>

const sh_config_key sh_host_config[] = {
    {"plugin.path", SH_CFG_LIST, NULL, 0,
     "extra plugin directories (relative to the config file), searched first"},
    {"log.level", SH_CFG_STRING, "info", 0, "error, warn, info or debug"},
    {"commit.interval", SH_CFG_DURATION, "5s", 0,
     "how often source offsets are committed (only behind durable output)"},
    {"shutdown.timeout", SH_CFG_DURATION, "30s", 0,
     "on SIGINT/SIGTERM, how long to wait for sinks to flush before giving up"},
    {"batch.size", SH_CFG_INT, "10000", 0, "records per source poll (batch)"},
    {"rate.limit", SH_CFG_INT, "0", 0,
     "at most this many source records per second over all sources (0: unlimited), e.g. for throttled backfills"},
    {"progress", SH_CFG_STRING, "auto", 0,
     "live progress: auto (line on a terminal, log lines otherwise), on, off"},
    {"progress.interval", SH_CFG_DURATION, "10s", 0,
     "interval of progress log lines when not on a terminal"},
    {"metrics.port", SH_CFG_INT, "0", 0,
     "port of the /metrics and /health HTTP endpoint on 127.0.0.1 (0: off)"},
    {"metrics.address", SH_CFG_STRING, "127.0.0.1", 0, "address /metrics listens on"},
    {"metrics.auth.user", SH_CFG_STRING, NULL, 0,
     "user name of HTTP basic auth on /metrics and /health (/health/live stays open for probes); the password "
     "comes from the variable metrics.auth.password_env names"},
    {"metrics.auth.password_env", SH_CFG_STRING, "STREAMHOST_METRICS_PASSWORD", 0,
     "environment variable holding the basic-auth password of metrics.auth.user"},
    {"metrics.tls.cert", SH_CFG_STRING, NULL, 0, "PEM certificate (chain) to serve /metrics over HTTPS; with metrics.tls.key"},
    {"metrics.tls.key", SH_CFG_STRING, NULL, 0, "PEM private key of metrics.tls.cert"},
    {"dead_letter.topic", SH_CFG_STRING, "streamhost-dlq", 0,
     "Kafka topic for records that cannot be processed or delivered"},
    {"dead_letter.file", SH_CFG_STRING, NULL, 0,
     "write dead letters as JSON lines to this file instead of Kafka (default when no Kafka is configured: dead-letters.jsonl)"},
    {"dead_letter.on_error", SH_CFG_STRING, "fail", 0,
     "when a dead letter cannot be written (file cannot be opened, disk full, Kafka delivery failed): fail (refuse to start, or stop with exit 1 and commit nothing past it) or log (log it, count it in dead_letters_lost_total, go on)"},
    {NULL, 0, NULL, 0, NULL}};

const char *inst_cfg(instance *in, const char *key, const sh_config_key **decl)
{
    const sh_config_key *d = NULL;
    for (const sh_config_key *k = in->p ? in->p->config : NULL; k && k->name; k++) {
        if (k->type == SH_CFG_PREFIX ? strncmp(key, k->name, strlen(k->name)) == 0
                                     : strcmp(key, k->name) == 0) {
            d = k;
            break;
        }
    }
    if (decl)
        *decl = d;
    const char *v = in->sec ? config_get(in->sec, key) : NULL;
    if (v)
        return v;
    return d ? d->default_value : NULL;
}

const char *host_setting(pipeline *pl, const char *key)
{
    static const sh_plugin host_desc = {.name = "streamhost", .config = sh_host_config};
    instance tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.p = &host_desc;
    tmp.sec = pl->cfg ? config_section(pl->cfg, SEC_HOST, NULL) : NULL;
    return inst_cfg(&tmp, key, NULL);
}
