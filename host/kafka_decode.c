/* kafka_decode.c - see kafka_decode.h.  The hot path is kafka_decode():
 * framing and checks inline, the writer's plan from a one-entry cache, then
 * the bounds-checked decoder of avro_codec.c driven by the plan. */
#include "kafka_decode.h"

#include "avro_codec.h"
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A writer schema seen in messages: its decoding plan, or why its messages
 * are dead letters (reason). */
struct wplan {
    int glue;
    int32_t id;
    unsigned char uuid[16];
    avro_plan *plan;
    char *reason;
};

struct kafka_decoder {
    const sh_host *h;
    sh_ctx *ctx;
    avro_codec *codec;
    int allow_confluent, allow_glue, allow_bare;
    int require_key, time_field;
    int64_t max_bytes, max_future;
    registry *reg;
    const avro_plan *self_plan; /* the reader's schema: bare messages, or no registry */
    char *glue_dir;
    struct wplan *wp;
    size_t nwp, capwp;
    struct wplan *last_wp; /* the hot path's one-entry cache */
};

kafka_decoder *kafka_decoder_new(const sh_host *h, sh_ctx *ctx, const char *first_topic)
{
    kafka_decoder *d = calloc(1, sizeof *d);
    if (!d) {
        h->log(ctx, SH_LOG_ERROR, "out of memory");
        return NULL;
    }
    d->h = h;
    d->ctx = ctx;
    char err[1024];
    if (strcmp(h->cfg_str(ctx, "format"), "avro") != 0) {
        h->log(ctx, SH_LOG_ERROR, "%s: format '%s' is not supported (use avro)", h->cfg_where(ctx, "format"),
               h->cfg_str(ctx, "format"));
        goto fail;
    }
    const char *const *fr;
    size_t nfr = h->cfg_list(ctx, "framing", &fr);
    for (size_t i = 0; i < nfr; i++) {
        framing_t f;
        if (framing_parse(fr[i], &f) != 0) {
            h->log(ctx, SH_LOG_ERROR, "%s: framing '%s' is not one of auto, confluent, glue, bare",
                   h->cfg_where(ctx, "framing"), fr[i]);
            goto fail;
        }
        d->allow_confluent |= f == FRAMING_AUTO || f == FRAMING_CONFLUENT;
        d->allow_glue |= f == FRAMING_AUTO || f == FRAMING_GLUE;
        d->allow_bare |= f == FRAMING_AUTO || f == FRAMING_BARE;
    }
    const char *stream = h->cfg_str(ctx, "stream");
    d->reg = registry_from_config(h, ctx, err, sizeof err);
    if (!d->reg && *err) {
        h->log(ctx, SH_LOG_ERROR, "%s", err);
        goto fail;
    }
    const char *gd = h->cfg_str(ctx, "glue.schemas.dir");
    d->glue_dir = gd && *gd ? strdup(gd) : NULL;
    const char *sf = h->cfg_str(ctx, "schema.file");
    if (sf && *sf) {
        d->codec = avro_codec_new(sf, stream ? stream : first_topic, err, sizeof err);
    } else if (d->reg) {
        /* the reader's schema: the subject's latest version, once, at start */
        char subj[1024], *json = NULL, what[1200];
        const char *su = h->cfg_str(ctx, "subject");
        snprintf(subj, sizeof subj, "%s", su && *su ? su : first_topic);
        if (!(su && *su))
            snprintf(subj + strlen(subj), sizeof subj - strlen(subj), "-value");
        int32_t id;
        reg_rc rc = registry_latest(d->reg, subj, &id, &json, err, sizeof err);
        if (rc != REG_OK) {
            h->log(ctx, SH_LOG_ERROR, "%s: no reader schema: %s (set schema.file, or register the schema)",
                   h->cfg_where(ctx, "schema.registry.url"), err);
            goto fail;
        }
        snprintf(what, sizeof what, "subject '%s' (latest version, schema id %d)", subj, (int)id);
        d->codec = avro_codec_new_json(json, strlen(json), what, stream ? stream : first_topic, err, sizeof err);
        free(json);
        if (d->codec)
            h->log(ctx, SH_LOG_INFO, "reader schema: %s", what);
    } else {
        sf = "conf/ClickEvent.avsc";
        d->codec = avro_codec_new(sf, stream ? stream : first_topic, err, sizeof err);
    }
    if (!d->codec) {
        h->log(ctx, SH_LOG_ERROR, "%s: %s", h->cfg_where(ctx, sf ? "schema.file" : "schema.registry.url"), err);
        goto fail;
    }
    const char *const *items;
    size_t n = h->cfg_list(ctx, "confluent.schema.ids", &items);
    int64_t ids[64];
    for (size_t i = 0; i < n && i < 64; i++)
        ids[i] = strtoll(items[i], NULL, 10);
    avro_codec_allow_ids(d->codec, ids, n < 64 ? n : 64);
    n = h->cfg_list(ctx, "glue.schema.versions", &items);
    if (avro_codec_allow_uuids(d->codec, items, n, err, sizeof err) != 0) {
        h->log(ctx, SH_LOG_ERROR, "%s: %s", h->cfg_where(ctx, "glue.schema.versions"), err);
        goto fail;
    }
    d->self_plan = avro_codec_self_plan(d->codec);
    const char *tf = h->cfg_str(ctx, "time.field");
    d->time_field = -1;
    if (tf && *tf) {
        d->time_field = sh_schema_field(avro_codec_schema(d->codec), tf);
        if (d->time_field < 0 || avro_codec_schema(d->codec)->fields[d->time_field].type != SH_INT) {
            h->log(ctx, SH_LOG_ERROR, "%s: time.field '%s' is not an integer field of %s", h->cfg_where(ctx, "time.field"),
                   tf, sf ? sf : "the reader's schema");
            goto fail;
        }
    }
    d->require_key = (int)h->cfg_int(ctx, "require.key");
    d->max_bytes = h->cfg_int(ctx, "max.message.bytes");
    d->max_future = h->cfg_int(ctx, "timestamp.max_future");
    return d;
fail:
    kafka_decoder_free(d);
    return NULL;
}

void kafka_decoder_free(kafka_decoder *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nwp; i++) {
        avro_plan_free(d->wp[i].plan);
        free(d->wp[i].reason);
    }
    free(d->wp);
    avro_codec_free(d->codec);
    registry_free(d->reg);
    free(d->glue_dir);
    free(d);
}

const sh_schema *kafka_decoder_schema(const kafka_decoder *d) { return avro_codec_schema(d->codec); }

/* The writer schema of a Confluent id (from the registry) or a Glue UUID
 * (from glue.schemas.dir): its plan, built once, or the reason its messages
 * are dead letters.  NULL when the registry is unavailable (err says why):
 * nothing is decided, the caller holds the message. */
static struct wplan *writer_plan(kafka_decoder *d, int glue, int32_t id, const unsigned char *uuid, char *err,
                                 size_t errlen)
{
    for (size_t i = 0; i < d->nwp; i++) {
        struct wplan *w = &d->wp[i];
        if (w->glue == glue && (glue ? memcmp(w->uuid, uuid, 16) == 0 : w->id == id))
            return w;
    }
    char what[128], why[6144], *text = NULL;
    const char *json = NULL;
    struct wplan nw = {.glue = glue, .id = id};
    if (glue) {
        memcpy(nw.uuid, uuid, 16);
        snprintf(what, sizeof what,
                 "Glue schema version %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", uuid[0],
                 uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9], uuid[10], uuid[11],
                 uuid[12], uuid[13], uuid[14], uuid[15]);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.avsc", d->glue_dir, what + strlen("Glue schema version "));
        if (!(text = registry_read_file(path, NULL)))
            snprintf(why, sizeof why, "unknown_schema: %s: no schema file %s (%s)", what, path, strerror(errno));
        json = text;
    } else {
        snprintf(what, sizeof what, "schema id %d", (int)id);
        reg_rc rc = registry_schema_by_id(d->reg, id, &json, err, errlen);
        if (rc == REG_UNAVAILABLE)
            return NULL;
        if (rc != REG_OK) {
            snprintf(why, sizeof why, "unknown_schema: %s", err);
            json = NULL;
        }
    }
    if (json) {
        char perr[768];
        nw.plan = avro_plan_new(d->codec, json, strlen(json), perr, sizeof perr);
        if (!nw.plan)
            snprintf(why, sizeof why, "incompatible_schema: %s cannot be read with the reader's schema: %s", what, perr);
    }
    free(text);
    if (nw.plan)
        d->h->log(d->ctx, SH_LOG_INFO, "%s: decoding plan built", what);
    else {
        nw.reason = strdup(why);
        d->h->log(d->ctx, SH_LOG_WARN, "%s; its messages go to the dead-letter output", why);
    }
    if (d->nwp == d->capwp) {
        d->capwp = d->capwp ? d->capwp * 2 : 8;
        d->wp = realloc(d->wp, d->capwp * sizeof *d->wp);
        d->last_wp = NULL; /* pointers into the old array */
    }
    d->wp[d->nwp] = nw;
    return &d->wp[d->nwp++];
}

int kafka_decoder_ask(kafka_decoder *d, int32_t id, char *err, size_t errlen)
{
    return writer_plan(d, 0, id, NULL, err, errlen) != NULL;
}

kd_result kafka_decode(kafka_decoder *d, const rd_kafka_message_t *m, int64_t now, sh_value *vals, arena *a,
                       int64_t *time, int32_t *hold_id, char *reason, size_t rlen)
{
    if ((int64_t)m->len > d->max_bytes) {
        snprintf(reason, rlen, "oversized: %zu bytes > max.message.bytes", m->len);
        return KD_DEAD;
    }
    if (d->require_key && (!m->key || m->key_len == 0)) {
        snprintf(reason, rlen, "%s", "null_key: the message has no key (producers key click events by userid)");
        return KD_DEAD;
    }
    framing_t fr = FRAMING_BARE;
    const unsigned char *first = m->payload;
    if (m->len && first[0] == 0x00 && d->allow_confluent)
        fr = FRAMING_CONFLUENT;
    else if (m->len && first[0] == 0x03 && d->allow_glue)
        fr = FRAMING_GLUE;
    else if (m->len && !d->allow_bare) {
        snprintf(reason, rlen, "bad_magic: first byte 0x%02x is not an accepted framing (%s%s%s)",
                 first[0], d->allow_confluent ? "confluent 0x00 " : "", d->allow_glue ? "glue 0x03 " : "",
                 d->allow_bare ? "bare" : "");
        return KD_DEAD;
    }
    avro_frame f;
    if (avro_codec_frame(d->codec, fr, m->payload, m->len, &f, reason, rlen))
        return KD_DEAD;
    const avro_plan *plan = d->self_plan;
    if ((f.framing == FRAMING_CONFLUENT && d->reg) || (f.framing == FRAMING_GLUE && d->glue_dir)) {
        int glue = f.framing == FRAMING_GLUE;
        struct wplan *w = d->last_wp;
        if (!w || w->glue != glue || (glue ? memcmp(w->uuid, f.uuid, 16) != 0 : w->id != f.id)) {
            char err[1024];
            if (!(w = writer_plan(d, glue, f.id, f.uuid, err, sizeof err))) {
                *hold_id = f.id;
                snprintf(reason, rlen, "%s", err);
                return KD_HOLD;
            }
            d->last_wp = w;
        }
        if (!w->plan) {
            snprintf(reason, rlen, "%s", w->reason);
            return KD_DEAD;
        }
        plan = w->plan;
    }
    if (avro_plan_decode(plan, f.body, f.blen, vals, a, reason, rlen))
        return KD_DEAD;
    if (d->time_field >= 0) {
        if (vals[d->time_field].type != SH_INT) {
            snprintf(reason, rlen, "%s", "bad_timestamp: the time field is null");
            return KD_DEAD;
        }
        *time = vals[d->time_field].u.i;
    } else {
        *time = rd_kafka_message_timestamp(m, NULL);
    }
    if (*time < 0 || (d->max_future > 0 && *time > now + d->max_future)) {
        snprintf(reason, rlen,
                 "bad_timestamp: event time %lld is negative or more than timestamp.max_future ahead of the clock",
                 (long long)*time);
        return KD_DEAD;
    }
    return KD_RECORD;
}
