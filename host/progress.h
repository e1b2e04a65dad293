/* progress.h - the live progress line (terminal), periodic log lines
 * (otherwise) and the summary printed at exit. */
#ifndef SH_PROGRESS_H
#define SH_PROGRESS_H
#include "instance.h"
void progress_start(pipeline *pl);
/* Called about every tick; `final` forces a last update. */
void progress_update(pipeline *pl, int final);
void progress_summary(pipeline *pl);

/* What the line says while a windowed transform (one with a watermark()
 * callback) has received records but emitted none: that it waits for its
 * watermark and how far that is from the wall clock; and, when its records
 * come straight from sources whose event time follows the wall clock (the
 * watermark advances at wall-clock speed and trails it by at most 10 min),
 * how long until the watermark passes the first events.  The host knows the
 * watermark (out_wm), the wall clock and when the first record came in; the
 * out-of-orderness bound belongs to the plugin, so it shows as the
 * watermark's distance from the wall clock.  Before any record: "no records
 * yet" (for transforms fed by sources).  Empty when there is nothing to say
 * (wm = +infinity, or no records and not fed by sources).
 *   wm         the transform's output watermark (INT64_MIN: none yet)
 *   first_in   wall clock (ms) when its first record came in (0: none yet)
 *   wm_per_s   how fast its watermark advanced lately, event ms per wall ms (0: unknown)
 *   from_sources  its records come straight from sources (through transforms
 *              without windows), so their event times are what the sources
 *              stamped */
void progress_wait_text(char *buf, size_t n, const char *name, int64_t wm, int64_t now_ms,
                        int64_t first_in, double wm_per_s, int from_sources);
#endif
