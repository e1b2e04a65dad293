/* arena.h - a bump allocator for one batch's strings: reset per batch, so
 * decoding allocates nothing per record once warmed up. */
#ifndef SH_ARENA_H
#define SH_ARENA_H
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
} arena_chunk;

typedef struct arena {
    arena_chunk *head; /* current chunk; older ones follow */
} arena;

static inline void *arena_alloc(arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (!a->head || a->head->used + n > a->head->cap) {
        size_t cap = n > 65536 ? n : 65536;
        arena_chunk *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

static inline char *arena_copy(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Keeps the newest chunk (the usual batch fits in it), frees the others. */
static inline void arena_reset(arena *a)
{
    if (!a->head)
        return;
    arena_chunk *c = a->head->next;
    while (c) {
        arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head->next = NULL;
    a->head->used = 0;
}

static inline void arena_free(arena *a)
{
    arena_reset(a);
    free(a->head);
    a->head = NULL;
}
#endif
