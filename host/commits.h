/* commits.h - snapshots of input positions, committed once the sinks have
 * acknowledged everything before them (commits.c). */
#ifndef SH_COMMITS_H
#define SH_COMMITS_H
#include "instance.h"

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
#endif
