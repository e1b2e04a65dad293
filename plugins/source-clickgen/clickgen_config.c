/* clickgen_config.c - the generator's config keys and their checks. */
#include "clickgen.h"

#include <string.h>

const sh_config_key clickgen_config_keys[] = {
    {"stream", SH_CFG_STRING, "clickstream", 0,
     "stream (schema) name of the events; Kafka sinks use it as the topic"},
    {"users", SH_CFG_INT, "1000", 0, "number of users browsing at the same time (1 to 10000000)"},
    {"threads", SH_CFG_INT, "2", 0,
     "simulated producer threads, 1 to 1024 (users round-robin; each its own prevglobalseq chain)"},
    {"think_min", SH_CFG_DURATION, "50ms", 0, "shortest event-time gap between one user's events"},
    {"think_max", SH_CFG_DURATION, "550ms", 0, "longest event-time gap between one user's events"},
    {"user_pause", SH_CFG_DURATION, "500ms", 0,
     "event time from a journey's end event to the first event of the user replacing it"},
    {"seed", SH_CFG_INT, "0", 0,
     "random seed; 0 picks one from the clock (logged); same seed and start_time, same events"},
    {"clock", SH_CFG_STRING, "simulated", 0,
     "simulated: event time advances as fast as events are made; wall: events are sent when their time comes, stamped with the wall clock when sent"},
    {"start_time", SH_CFG_INT, "0", 0,
     "simulated clock: event time of the start, epoch ms; 0 = wall clock at start"},
    {"rate", SH_CFG_INT, "0", 0, "events per second of wall time; 0 = as fast as possible"},
    {"max_events", SH_CFG_INT, "0", 0, "stop after this many events; 0 = unlimited"},
    {"max_users", SH_CFG_INT, "0", 0,
     "start no user after this many; open journeys finish, then stop; 0 = unlimited"},
    {"duration", SH_CFG_DURATION, "0ms", 0,
     "stop at this much event time after the start; 0ms = unlimited"},
    {"schema.version", SH_CFG_INT, "1", 0,
     "1: the fields of conf/ClickEvent.avsc; 2: also referrer (conf/ClickEvent-v2.avsc: an optional field with a "
     "default, to show schema evolution)"},
    {NULL, 0, NULL, 0, NULL}};

/* Logs "WHERE: KEY ..." and says whether the check failed. */
static int bad(const sh_host *h, sh_ctx *ctx, int failed, const char *key, const char *fix)
{
    if (failed)
        h->log(ctx, SH_LOG_ERROR, "%s: %s: %s", h->cfg_where(ctx, key), key, fix);
    return failed;
}

sh_rc clickgen_read_config(const sh_host *h, sh_ctx *ctx, clickgen_config *c)
{
    memset(c, 0, sizeof *c);
    c->stream = h->cfg_str(ctx, "stream");
    c->users = h->cfg_int(ctx, "users");
    c->threads = h->cfg_int(ctx, "threads");
    c->think_min = h->cfg_int(ctx, "think_min");
    c->think_max = h->cfg_int(ctx, "think_max");
    c->user_pause = h->cfg_int(ctx, "user_pause");
    c->seed = h->cfg_int(ctx, "seed");
    c->start_time = h->cfg_int(ctx, "start_time");
    c->rate = h->cfg_int(ctx, "rate");
    c->max_events = h->cfg_int(ctx, "max_events");
    c->max_users = h->cfg_int(ctx, "max_users");
    c->duration = h->cfg_int(ctx, "duration");
    c->schema_version = h->cfg_int(ctx, "schema.version");
    const char *clock = h->cfg_str(ctx, "clock");

    int errors = 0;
    errors += bad(h, ctx, !c->stream || !*c->stream, "stream", "must not be empty");
    errors += bad(h, ctx, c->users < 1 || c->users > CLICKGEN_MAX_USERS, "users",
                  "must be between 1 and 10000000");
    errors += bad(h, ctx, c->threads < 1 || c->threads > CLICKGEN_MAX_THREADS, "threads",
                  "must be between 1 and 1024");
    errors += bad(h, ctx, c->think_max < c->think_min, "think_max",
                  "must not be less than think_min");
    errors += bad(h, ctx, !clock || (strcmp(clock, "simulated") && strcmp(clock, "wall")),
                  "clock", "must be 'simulated' or 'wall'");
    c->wall_clock = clock && strcmp(clock, "wall") == 0;
    errors += bad(h, ctx, c->start_time < 0, "start_time",
                  "must be epoch milliseconds (>= 0), or 0 for the wall clock");
    errors += bad(h, ctx, c->wall_clock && c->start_time != 0, "start_time",
                  "only applies to clock = simulated; remove it or set clock = simulated");
    errors += bad(h, ctx, c->rate < 0, "rate", "must be >= 0 (0 = as fast as possible)");
    errors += bad(h, ctx, c->max_events < 0, "max_events", "must be >= 0 (0 = unlimited)");
    errors += bad(h, ctx, c->max_users < 0, "max_users", "must be >= 0 (0 = unlimited)");
    errors += bad(h, ctx, c->schema_version != 1 && c->schema_version != 2, "schema.version",
                  "must be 1 (conf/ClickEvent.avsc) or 2 (conf/ClickEvent-v2.avsc)");
    return errors ? SH_FATAL : SH_OK;
}
