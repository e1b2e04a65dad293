/* ownership.c - which input slots this process owns, and the replay fences
 * that travel with each slot's committed offset.
 *
 * A slot (a Kafka partition, say) can move between the processes of a
 * consumer group.  Its committed offset lies before every record still held
 * in open state (held()), so the next owner re-reads from there; records
 * re-read that way also rebuild results that were final and delivered
 * before.  The fence of a transform for a slot says below which event time
 * its results from that slot were final at the committed snapshot; it is
 * committed with the slot's offset ("sh2 NAME=FENCE ...") and handed to the
 * transform when the slot is assigned again, here or in another process. */
#include "exchange.h"
#include "log.h"
#include "watchdog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The lowest input time any transform fed (directly, or through stateless
 * transforms) by `x` would need delivered again to rebuild its state. */
static int64_t needed_downstream(instance *x, int depth)
{
    int64_t m = INT64_MAX;
    for (size_t p = 0; p < x->nports && depth < 64; p++)
        for (size_t e = 0; e < x->ports[p].nedges; e++) {
            instance *c = x->ports[p].edges[e].to;
            if (c->kind == SH_SINK)
                continue; /* sinks: everything before the snapshot is acknowledged */
            int64_t v = c->p->needed_from ? c->p->needed_from(c->state) : needed_downstream(c, depth + 1);
            if (v < m)
                m = v;
        }
    return m;
}

static int64_t *fence_of(instance *x, int32_t slot)
{
    if (slot < 0)
        return NULL;
    if ((size_t)slot >= x->nslot_fences) {
        size_t n = x->nslot_fences ? x->nslot_fences : 8;
        while (n <= (size_t)slot)
            n *= 2;
        int64_t *a = realloc(x->slot_fences, n * sizeof *a);
        if (!a)
            return NULL;
        for (size_t i = x->nslot_fences; i < n; i++)
            a[i] = INT64_MIN;
        x->slot_fences = a;
        x->nslot_fences = n;
    }
    return &x->slot_fences[slot];
}

void pipeline_slot_fences(pipeline *pl, int32_t slot, char *out, size_t outlen)
{
    size_t o = (size_t)snprintf(out, outlen, "sh2");
    for (size_t i = 0; i < pl->ninsts && o < outlen; i++) {
        instance *x = pl->insts[i];
        if (x->kind != SH_TRANSFORM || !x->state || !(x->p->settled || x->p->slot_settled))
            continue;
        int64_t f = x->p->slot_settled ? x->p->slot_settled(x->state, slot) : x->p->settled(x->state);
        int64_t need = needed_downstream(x, 0);
        if (need < f)
            f = need;
        /* Never below the fence the slot was assigned with: what was final
         * then stays final, while this process's own watermark starts again
         * from the bottom as it re-reads. */
        int64_t *start = fence_of(x, slot);
        if (start && *start > f)
            f = *start;
        if (x->fence > f && !x->p->slot_assigned)
            f = x->fence;
        o += (size_t)snprintf(out + o, outlen - o, " %s=%lld", x->name, (long long)f);
    }
    if (o >= outlen) /* too many transforms for the metadata: no fences (safe: nothing dropped) */
        snprintf(out, outlen, "sh2");
}

/* Fence of transform `name` in committed metadata, or INT64_MIN. */
static int64_t meta_fence(const char *meta, size_t len, const char *name)
{
    if (!meta || len < 3 || (strncmp(meta, "sh1", 3) != 0 && strncmp(meta, "sh2", 3) != 0))
        return INT64_MIN;
    char buf[4096];
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, meta, len);
    buf[len] = '\0';
    size_t nl = strlen(name);
    for (const char *p = strchr(buf, ' '); p; p = strchr(p + 1, ' '))
        if (strncmp(p + 1, name, nl) == 0 && p[1 + nl] == '=')
            return strtoll(p + 2 + nl, NULL, 10);
    return INT64_MIN;
}

int pipeline_feeds(const instance *src, const instance *in)
{
    if (src == in)
        return 1;
    for (size_t i = 0; i < in->ninputs; i++)
        if (pipeline_feeds(src, in->inputs[i].from))
            return 1;
    return 0;
}

void pipeline_slot_assigned(instance *src, int32_t slot, const char *meta, size_t len)
{
    pipeline *pl = src->pl;
    if (slot < 0 || (size_t)slot >= pl->nslots)
        return;
    src->assigns = 1;
    pl->slots[slot].assigned = 1;
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *x = pl->insts[i];
        if (x->kind != SH_TRANSFORM || !x->state || !pipeline_feeds(src, x))
            continue;
        int64_t f = meta_fence(meta, len, x->name);
        int64_t *start = fence_of(x, slot);
        if (start)
            *start = f;
        if (x->p->slot_assigned) {
            WD_CALL_VOID(x, "slot_assigned", x->p->slot_assigned(x->state, slot, f));
        } else if (f > INT64_MIN && x->p->replay_fence && !x->fenced_once) {
            /* ABI 1.0 transforms: one fence for all, from the first slot */
            x->fenced_once = 1;
            x->fence = f;
            x->p->replay_fence(x->state, f);
        }
    }
}

/* Watermarks of everything fed by `x` back to "nothing seen yet". */
static void reset_watermarks(instance *x)
{
    x->out_wm = INT64_MIN;
    for (size_t p = 0; p < x->nports; p++)
        for (size_t e = 0; e < x->ports[p].nedges; e++) {
            instance *to = x->ports[p].edges[e].to;
            to->inputs[x->ports[p].edges[e].input].wm = INT64_MIN;
            to->in_wm = INT64_MIN;
            reset_watermarks(to);
        }
}

void pipeline_slot_revoked(instance *src, int32_t slot)
{
    pipeline *pl = src->pl;
    if (slot < 0 || (size_t)slot >= pl->nslots || !pl->slots[slot].assigned)
        return;
    /* what the slot delivered is committed already (commits_slot_revoked) */
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *x = pl->insts[i];
        if (x->kind == SH_TRANSFORM && x->state && x->p->slot_revoked && pipeline_feeds(src, x))
            WD_CALL_VOID(x, "slot_revoked", x->p->slot_revoked(x->state, slot));
    }
    int64_t *start = NULL;
    for (size_t i = 0; i < pl->ninsts; i++)
        if ((start = fence_of(pl->insts[i], slot)) != NULL)
            *start = INT64_MIN;
    pl->slots[slot].assigned = 0;
    /* The source holds nothing now (an eager rebalance revokes everything):
     * the event time downstream starts again from the bottom, as at a
     * restart, so that the partitions it gets next are judged by their own
     * re-read data and not by a watermark other partitions pushed ahead. */
    for (size_t s = 0; s < pl->nslots; s++)
        if (pl->slots[s].owner == src && pl->slots[s].assigned)
            return;
    reset_watermarks(src);
}
