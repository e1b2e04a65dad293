/* commits.h - snapshots of input positions, committed once the sinks have
 * acknowledged everything before them (commits.c). */
#ifndef SH_COMMITS_H
#define SH_COMMITS_H
#include "instance.h"

/* Something besides the instances whose input positions and output
 * acknowledgements a snapshot covers: the exchange (its consumer's offsets,
 * its producer's deliveries), which registers itself in pl->participant
 * when it opens, so this file needs nothing of it but these. */
typedef struct commit_participant {
    /* lower pos[slot] to the next position to read, for the slots it reads */
    void (*positions)(pipeline *pl, int64_t *pos, size_t nslots);
    /* messages handed to it so far, and those acknowledged (a prefix) */
    uint64_t (*sent)(pipeline *pl);
    uint64_t (*acked)(pipeline *pl);
    /* make everything sent durable within timeout_ms: 0, or -1 */
    int (*flush)(pipeline *pl, int timeout_ms);
    /* make offsets[slot] (with meta[slot]) the restart point of its slots */
    void (*commit)(pipeline *pl, const int64_t *offsets, const char *const *meta, size_t nslots);
} commit_participant;

/* Take a snapshot now; commit the newest acknowledged one; free what is
 * pending. */
void commits_take(pipeline *pl);
void commits_ready(pipeline *pl);
void commits_free(pipeline *pl);
/* Makes everything received so far durable and commits it (bounded by
 * shutdown.timeout); used when partitions are revoked.  0 ok, -1 not all. */
int pipeline_commit_now(pipeline *pl);
/* Forgets `slot` in every snapshot waiting for acknowledgement. */
void pipeline_forget_slot(pipeline *pl, int32_t slot);
/* `slot` of source (or exchange owner) `src` is taken away: like Kafka
 * Connect's preCommit on close, makes durable and commits what the slot
 * delivered (what cannot be, in time, is re-read by the next owner from the
 * last commit), forgets it in pending snapshots, then hands over to
 * pipeline_slot_revoked (ownership.h) for the transforms' state. */
void commits_slot_revoked(instance *src, int32_t slot);
#endif
