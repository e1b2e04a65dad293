/* progress.h - the live progress line (terminal), periodic log lines
 * (otherwise) and the summary printed at exit. */
#ifndef SH_PROGRESS_H
#define SH_PROGRESS_H
#include "pipeline.h"
void progress_start(pipeline *pl);
/* Called about every tick; `final` forces a last update. */
void progress_update(pipeline *pl, int final);
void progress_summary(pipeline *pl);
#endif
