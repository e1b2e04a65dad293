/* commits.c - source positions are committed only behind what every
 * component has made durable (see "Delivery" in the README).
 *
 * A snapshot records, per slot, the lowest position still needed (the
 * sources' positions, lowered by every transform's held()), the replay
 * fences to commit with it, and how much each sink and each exchange had
 * received.  It is committed once the sinks have acknowledged and the
 * exchange messages have been written; newer snapshots supersede older
 * ones. */
#include "commits.h"
#include "deadletter.h"
#include "flow.h"
#include "log.h"
#include "ownership.h"
#include "watchdog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pending_commit {
    int64_t *offsets;
    char **meta;        /* per slot: replay fences of this snapshot */
    size_t nslots;
    uint64_t *received; /* per instance (sinks only) */
    uint64_t exchanged; /* exchange messages sent */
    struct pending_commit *next;
};

struct commit_state {
    struct pending_commit *head, *tail;
    size_t depth;
};

static struct commit_state *state_of(pipeline *pl)
{
    if (!pl->commits)
        pl->commits = calloc(1, sizeof *pl->commits);
    return pl->commits;
}

static void free_pc(struct pending_commit *pc)
{
    for (size_t s = 0; s < pc->nslots; s++)
        free(pc->meta[s]);
    free(pc->meta);
    free(pc->offsets);
    free(pc->received);
    free(pc);
}

static struct pending_commit *snapshot(pipeline *pl)
{
    if (pl->nslots == 0)
        return NULL;
    struct pending_commit *pc = calloc(1, sizeof *pc);
    pc->nslots = pl->nslots;
    pc->offsets = malloc(pl->nslots * sizeof(int64_t));
    for (size_t s = 0; s < pl->nslots; s++)
        pc->offsets[s] = INT64_MAX;
    pc->received = calloc(pl->ninsts, sizeof(uint64_t));
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        if (in->kind == SH_SOURCE && in->p->positions && in->state)
            WD_CALL_VOID(in, "positions", in->p->positions(in->state, pc->offsets, pl->nslots));
    }
    const commit_participant *x = pl->participant;
    if (x)
        x->positions(pl, pc->offsets, pl->nslots);
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        if (in->p->held && in->state)
            WD_CALL_VOID(in, "held", in->p->held(in->state, pc->offsets, pl->nslots));
        pc->received[i] = in->received;
    }
    pc->exchanged = x ? x->sent(pl) : 0;
    pc->meta = calloc(pl->nslots, sizeof(char *));
    char buf[2048];
    for (size_t s = 0; s < pl->nslots; s++) {
        if (pc->offsets[s] == INT64_MAX)
            continue;
        pipeline_slot_fences(pl, (int32_t)s, buf, sizeof buf);
        pc->meta[s] = strdup(buf);
    }
    return pc;
}

static int acknowledged(pipeline *pl, struct pending_commit *pc)
{
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        if (in->kind == SH_SINK && in->p->acked && in->p->acked(in->state) < pc->received[i])
            return 0;
    }
    return !pl->participant || pl->participant->acked(pl) >= pc->exchanged;
}

static void do_commit(pipeline *pl, const struct pending_commit *pc)
{
    if (deadletter_flush(pl, 10000) != 0) {
        LOG_WARN("dead letters not yet durable; offsets not committed this time");
        return;
    }
    const char *const *meta = (const char *const *)pc->meta;
    for (size_t i = 0; i < pl->ninsts; i++) {
        instance *in = pl->insts[i];
        if (in->kind == SH_SOURCE && in->p->commit && in->state)
            WD_CALL_VOID(in, "commit", in->p->commit(in->state, pc->offsets, meta, pc->nslots));
    }
    if (pl->participant)
        pl->participant->commit(pl, pc->offsets, meta, pc->nslots);
}

void commits_ready(pipeline *pl)
{
    struct commit_state *cs = state_of(pl);
    struct pending_commit *ready = NULL;
    while (cs->head && acknowledged(pl, cs->head)) {
        struct pending_commit *pc = cs->head;
        cs->head = pc->next;
        if (!cs->head)
            cs->tail = NULL;
        cs->depth--;
        if (ready)
            free_pc(ready);
        ready = pc;
    }
    if (ready) {
        if (!pl->failed)
            do_commit(pl, ready);
        free_pc(ready);
    }
}

void commits_take(pipeline *pl)
{
    struct commit_state *cs = state_of(pl);
    struct pending_commit *pc = snapshot(pl);
    if (!pc)
        return;
    if (cs->depth >= 64) { /* sinks far behind: keep the newest snapshots */
        struct pending_commit *old = cs->head;
        cs->head = old->next;
        free_pc(old);
        cs->depth--;
    }
    if (cs->tail)
        cs->tail->next = pc;
    else
        cs->head = pc;
    cs->tail = pc;
    cs->depth++;
}

void commits_free(pipeline *pl)
{
    struct commit_state *cs = pl->commits;
    if (!cs)
        return;
    while (cs->head) {
        struct pending_commit *pc = cs->head;
        cs->head = pc->next;
        free_pc(pc);
    }
    free(cs);
    pl->commits = NULL;
}

void pipeline_forget_slot(pipeline *pl, int32_t slot)
{
    struct commit_state *cs = state_of(pl);
    for (struct pending_commit *pc = cs->head; pc; pc = pc->next)
        if (slot >= 0 && (size_t)slot < pc->nslots)
            pc->offsets[slot] = INT64_MAX;
}

int pipeline_commit_now(pipeline *pl)
{
    if (flush_sinks(pl, 0, pl->shutdown_timeout_ms) != 0 ||
        (pl->participant && pl->participant->flush(pl, (int)pl->shutdown_timeout_ms) != 0))
        return -1;
    commits_take(pl);
    commits_ready(pl);
    return 0;
}

void commits_slot_revoked(instance *src, int32_t slot)
{
    pipeline *pl = src->pl;
    if (slot < 0 || (size_t)slot >= pl->nslots || !pl->slots[slot].assigned)
        return;
    if (pl->running && !pl->failed && pipeline_commit_now(pl) != 0)
        sh_log(SH_LOG_WARN, src->name,
               "slot %d (%s[%d]) revoked before all its output was durable; the next owner re-reads it from the last commit",
               (int)slot, pl->slots[slot].stream, (int)pl->slots[slot].partition);
    pipeline_forget_slot(pl, slot);
    pipeline_slot_revoked(src, slot);
}
