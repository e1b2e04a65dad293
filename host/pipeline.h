/* pipeline.h - running a built pipeline: its lifecycle and the run loop
 * (pipeline.c).  The types are in instance.h, what flows along the edges
 * in flow.h. */
#ifndef SH_PIPELINE_H
#define SH_PIPELINE_H
#include "instance.h"

/* Runs until the sources are done or stop is requested; returns the exit
 * code (0 ok, 1 runtime failure). */
int pipeline_run(pipeline *pl);
void pipeline_request_stop(pipeline *pl);
/* What pipeline_run does before its loop: opens the dead-letter output and
 * runs every instance's init() and start(); 0, or -1 (logged).  For the
 * test kit, which then drives the callbacks itself. */
int pipeline_start(pipeline *pl);
void pipeline_free(pipeline *pl);

#endif
