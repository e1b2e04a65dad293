/* tumble_fire.c - what happens to a window when the watermark passes its
 * last millisecond: dropped when it was rebuilt from re-read input and
 * delivered before a restart (the replay fence), handed to the exchange as
 * this process's partial in exchange mode, else emitted as documents. */
#include "tumble.h"

sh_rc tb_windows_fire(tb_state *st)
{
    size_t done = 0;
    sh_rc rc = SH_OK;
    while (done < st->nwin && tb_window_last(st, st->windows[done].start) <= st->wm) {
        const tb_window *w = &st->windows[done];
        int64_t fence = st->ex_n ? tb_src_fence(st, w->slot) : st->fence;
        if (tb_window_last(st, w->start) < fence)
            (*st->replayed)++; /* rebuilt after a restart; delivered before it */
        else if (st->ex_n)
            rc = tb_exchange_partial(st, w); /* this slot's part goes to the merge */
        else
            rc = tb_window_emit(st, w);
        tb_window_release(&st->windows[done]);
        done++;
        if (rc != SH_OK)
            break;
    }
    tb_windows_shift(st, done);
    if (rc != SH_OK)
        return rc;
    return tb_output_flush(st);
}
