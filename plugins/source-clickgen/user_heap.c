/* user_heap.c - binary min-heap of click_user by (next_time, number). */
#include "user_heap.h"

#include <stdlib.h>

static int earlier(const click_user *a, const click_user *b)
{
    if (a->next_time != b->next_time)
        return a->next_time < b->next_time;
    return a->number < b->number;
}

static void swap(click_user *a, click_user *b)
{
    click_user t = *a;
    *a = *b;
    *b = t;
}

static void sift_down(user_heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && earlier(&h->items[l], &h->items[m]))
            m = l;
        if (r < h->n && earlier(&h->items[r], &h->items[m]))
            m = r;
        if (m == i)
            return;
        swap(&h->items[i], &h->items[m]);
        i = m;
    }
}

int user_heap_init(user_heap *h, size_t cap)
{
    h->items = calloc(cap ? cap : 1, sizeof *h->items);
    h->n = 0;
    h->cap = cap;
    return h->items ? 0 : -1;
}

void user_heap_free(user_heap *h)
{
    free(h->items);
    h->items = NULL;
    h->n = h->cap = 0;
}

void user_heap_push(user_heap *h, const click_user *u)
{
    if (h->n == h->cap)
        return; /* callers never exceed the configured user count */
    size_t i = h->n++;
    h->items[i] = *u;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!earlier(&h->items[i], &h->items[p]))
            break;
        swap(&h->items[i], &h->items[p]);
        i = p;
    }
}

void user_heap_top_changed(user_heap *h)
{
    sift_down(h, 0);
}

void user_heap_pop(user_heap *h)
{
    h->items[0] = h->items[--h->n];
    sift_down(h, 0);
}
