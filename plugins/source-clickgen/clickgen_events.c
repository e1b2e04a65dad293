/* clickgen_events.c - the simulation: users start, click through their
 * journey with think time between events, and are replaced when they leave.
 * Each step writes one record into the batch storage. */
#include "clickgen.h"

#include <string.h>

/* May another user start? */
static int may_start_user(const clickgen *g)
{
    return g->cfg.max_users == 0 || g->users_started < (uint64_t)g->cfg.max_users;
}

/* A fresh user whose first event (home_page) is at `first_time`. */
static click_user new_user(clickgen *g, int64_t first_time)
{
    click_user u;
    uint64_t n = ++g->users_started;
    uint64_t block = (n - 1) % CLICKGEN_ID_BLOCKS + 1;
    u.next_time = first_time;
    u.number = n;
    u.id = (int32_t)(block * CLICKGEN_ID_BLOCK +
                     prng_below(&g->rng, CLICKGEN_ID_BLOCK));
    u.thread = (uint16_t)((n - 1) % (uint64_t)g->cfg.threads);
    u.step = journey_first();
    u.device = (uint8_t)prng_below(&g->rng, DEVICE_COUNT);
    u.ip_octet = (uint8_t)prng_below(&g->rng, 255); /* 0..254 */
    (*g->users_started_total)++;
    return u;
}

void clickgen_begin(clickgen *g, int64_t base)
{
    g->base_time = base;
    g->end_time = g->cfg.duration ? base + g->cfg.duration : INT64_MAX;
    /* Spread the first users over one think time so that they do not all
     * click in the same millisecond. */
    size_t first = (size_t)g->cfg.users;
    if (g->cfg.max_users && (uint64_t)g->cfg.max_users < first)
        first = (size_t)g->cfg.max_users;
    for (size_t i = 0; i < first; i++) {
        click_user u = new_user(g, base + prng_range(&g->rng, 0, g->cfg.think_max));
        user_heap_push(&g->users, &u);
    }
    /* The simulated clock re-schedules a user at most max(think_max,
     * user_pause) after the top's time: the calendar form holds that (the
     * wall clock stamps events when sent, which can jump: the heap). */
    int64_t delay = g->cfg.think_max > g->cfg.user_pause ? g->cfg.think_max : g->cfg.user_pause;
    if (!g->cfg.wall_clock && !g->heap_only && first >= 64) /* fewer: mostly empty buckets */
        user_heap_calendar(&g->users, delay); /* -1: stays the heap, same order */
}

int clickgen_finished(const clickgen *g)
{
    if (g->cfg.max_events && g->events_sent >= (uint64_t)g->cfg.max_events)
        return 1;
    if (g->users.n == 0)
        return 1;
    return user_heap_top(&g->users)->next_time >= g->end_time;
}

/* Writes the decimal digits of v at p; returns their count.  By hand, as
 * the two snprintf calls per event (key and ip) cost more than the rest of
 * the event together. */
static size_t put_decimal(char *p, uint32_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t k = 0; k < n; k++)
        p[k] = tmp[n - 1 - k];
    return n;
}

/* Writes the top user's pending event as record `i` of the batch. */
static void write_event(clickgen *g, const click_user *u, size_t i)
{
    clickgen_text *t = &g->text[i];
    sh_value *v = &g->vals[i * CF_COUNT];
    sh_record *r = &g->recs[i];
    /* ids are positive int32s (CLICKGEN_ID_BLOCKS), octets 0..254 */
    size_t klen = put_decimal(t->key, (uint32_t)u->id);
    t->key[klen] = '\0';
    memcpy(t->ip, "66.249.1.", 9);
    size_t iplen = 9 + put_decimal(t->ip + 9, u->ip_octet);
    t->ip[iplen] = '\0';
    const char *event = journey_page_name[u->step.page];
    const char *product = journey_product_name[u->step.product];
    const char *device = journey_device_name[u->device];

    int64_t seq = ++g->globalseq;
    v[CF_IP] = sh_v_str(t->ip, iplen);
    v[CF_EVENTTIMESTAMP] = sh_v_int(u->next_time);
    v[CF_DEVICETYPE] = sh_v_str(device, journey_device_len[u->device]);
    v[CF_EVENT_TYPE] = sh_v_str(event, journey_page_len[u->step.page]);
    v[CF_PRODUCT_TYPE] = sh_v_str(product, journey_product_len[u->step.product]);
    v[CF_USERID] = sh_v_int(u->id);
    v[CF_GLOBALSEQ] = sh_v_int(seq);
    v[CF_PREVGLOBALSEQ] = sh_v_int(g->thread_last_seq[u->thread]);
    /* v2's field: from the user id, so that v1 and v2 runs of one seed have the same events */
    static const char *const referrers[] = {"direct", "search", "social"};
    static const size_t referrer_len[] = {6, 6, 6};
    unsigned ri = (unsigned)u->id % 3;
    v[CF_REFERRER] = sh_v_str(referrers[ri], referrer_len[ri]);
    g->thread_last_seq[u->thread] = seq;

    r->schema = &g->schema;
    r->time = u->next_time;
    r->key = (sh_str){t->key, klen};
    r->id = (sh_str){"", 0};
    r->values = v;
    r->slot = SH_NO_SLOT;
    r->offset = 0;
}

/* Moves the top user past the event just written: next step after a think
 * time, or, after the end event, a new user in its place (or none). */
static void advance_top(clickgen *g)
{
    click_user *u = user_heap_top(&g->users);
    int64_t t = u->next_time;
    if (u->step.page != PAGE_END) {
        u->step = journey_next(u->step, &g->rng);
        u->next_time = t + prng_range(&g->rng, g->cfg.think_min, g->cfg.think_max);
        user_heap_top_changed(&g->users);
    } else if (may_start_user(g)) {
        *u = new_user(g, t + g->cfg.user_pause);
        user_heap_top_changed(&g->users);
    } else {
        user_heap_pop(&g->users);
    }
}

size_t clickgen_fill(clickgen *g, size_t room, int64_t ready_until, int64_t sent_at)
{
    size_t n = 0;
    /* A wall clock stepped back (NTP) must not make event times decrease. */
    if (sent_at != INT64_MIN && sent_at < g->last_sent)
        sent_at = g->last_sent;
    while (n < room && !clickgen_finished(g)) {
        click_user *u = user_heap_top(&g->users);
        if (u->next_time > ready_until)
            break;
        /* Wall clock: stamped when sent, as the reference producer did.  Only
         * the top's key grows here, and advance_top() re-sorts it next. */
        if (sent_at != INT64_MIN) {
            if (u->next_time < sent_at)
                u->next_time = sent_at;
            g->last_sent = u->next_time;
            /* Stamped at or past `duration`: so would be every event still to
             * come.  clickgen_finished() sees this top and stops; the heap is
             * not read again, so it needs no re-sort. */
            if (u->next_time >= g->end_time)
                break;
        }
        write_event(g, u, n++);
        g->events_sent++;
        advance_top(g);
    }
    return n;
}
