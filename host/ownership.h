/* ownership.h - partitions that move between processes: replay fences per
 * slot, assignment and revocation (ownership.c). */
#ifndef SH_OWNERSHIP_H
#define SH_OWNERSHIP_H
#include "instance.h"

/* Replay fences: at a snapshot, "sh2 NAME=FENCE ..." for one slot, every
 * transform with settled()/slot_settled() (written to `out`); when a slot
 * is assigned, hands each transform its fence for the slot from such a
 * string (committed metadata; "sh1" of older hosts too). */
void pipeline_slot_fences(pipeline *pl, int32_t slot, char *out, size_t outlen);
void pipeline_slot_assigned(instance *src, int32_t slot, const char *meta, size_t len);
/* The transforms' side of a revocation (called by commits_slot_revoked,
 * once what the slot delivered is committed): each drops the slot's state,
 * its fences go, and a source left with no slot resets the watermarks
 * downstream. */
void pipeline_slot_revoked(instance *src, int32_t slot);
/* Is `src` upstream of `in`, or `in` itself? */
int pipeline_feeds(const instance *src, const instance *in);
#endif
