/* session_slots.c - partition ownership (several processes in one consumer
 * group): per-slot replay fences, and dropping a revoked slot's sessions.
 * Users are keyed to partitions, so a session's events all come from its
 * own slot and the slot's next owner rebuilds it from the committed
 * offset. */
#include "session.h"

#include <stdlib.h>

int64_t ss_fence_of(const ss_state *st, int32_t slot)
{
    if (slot >= 0 && (size_t)slot < st->nslot_fence && st->slot_fence[slot] != INT64_MIN)
        return st->slot_fence[slot];
    return st->fence;
}

void ss_slot_assigned(void *state, int32_t slot, int64_t fence)
{
    ss_state *st = state;
    if (slot < 0)
        return;
    if ((size_t)slot >= st->nslot_fence) {
        size_t n = st->nslot_fence ? st->nslot_fence : 8;
        while (n <= (size_t)slot)
            n *= 2;
        int64_t *a = realloc(st->slot_fence, n * sizeof *a);
        if (!a)
            return; /* no fence: rebuilt sessions are written again, complete or not (logged by the caller's count) */
        for (size_t i = st->nslot_fence; i < n; i++)
            a[i] = INT64_MIN;
        st->slot_fence = a;
        st->nslot_fence = n;
    }
    st->slot_fence[slot] = fence;
    st->nassigned++;
    if (fence != INT64_MIN)
        st->host->log(st->ctx, SH_LOG_INFO, "replay: sessions of slot %d ending before %lld were delivered before; "
                      "rebuilt copies of them are dropped", (int)slot, (long long)fence);
}

void ss_slot_revoked(void *state, int32_t slot)
{
    ss_state *st = state;
    ss_store *S = &st->store;
    uint64_t dropped = 0;
    for (uint32_t i = 0, end = ss_index_end(S); i < end; i++) {
        if (!ss_open(S, i) || ss_at(S, i)->slot != slot)
            continue;
        ss_sess_release(S, ss_at(S, i));
        ss_del(S, i); /* nothing else moves */
        dropped++;
    }
    ss_clock_forget(&st->clock, slot);
    if (slot >= 0 && (size_t)slot < st->nslot_fence)
        st->slot_fence[slot] = INT64_MIN;
    if (st->nassigned > 0)
        st->nassigned--;
    if (st->nassigned == 0) { /* nothing left: event time starts again, as at a restart */
        st->wm = st->host_wm = INT64_MIN;
        *st->wm_gauge = st->wm;
        ss_rewind(S);
    }
    ss_purge(S);
    *st->open_gauge = S->n;
    st->host->log(st->ctx, SH_LOG_INFO, "slot %d revoked: dropped %llu open session(s); its next owner rebuilds them",
                  (int)slot, (unsigned long long)dropped);
}
