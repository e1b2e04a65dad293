/* str_arena.c - see str_arena.h. */
#include "str_arena.h"

#include <stdlib.h>
#include <string.h>

struct arena_block {
    arena_block *next;
    size_t cap, used;
    char data[];
};

void str_arena_init(str_arena *a, size_t block_size)
{
    a->head = a->cur = NULL;
    a->block_size = block_size;
}

static arena_block *new_block(size_t cap)
{
    arena_block *b = malloc(sizeof *b + cap);
    if (b) {
        b->next = NULL;
        b->cap = cap;
        b->used = 0;
    }
    return b;
}

char *str_arena_alloc(str_arena *a, size_t n)
{
    if (!a->cur) {
        if (!a->head && !(a->head = new_block(a->block_size > n ? a->block_size : n)))
            return NULL;
        a->cur = a->head;
    }
    /* Walk to a block with room; blocks after cur are empty since the reset.
     * A block too small for an unusually long string is skipped, not split. */
    while (a->cur->cap - a->cur->used < n) {
        if (!a->cur->next) {
            arena_block *b = new_block(a->block_size > n ? a->block_size : n);
            if (!b)
                return NULL;
            a->cur->next = b;
        }
        a->cur = a->cur->next;
    }
    char *p = a->cur->data + a->cur->used;
    a->cur->used += n;
    return p;
}

char *str_arena_copy(str_arena *a, const char *s, size_t n)
{
    char *p = str_arena_alloc(a, n);
    if (p && n)
        memcpy(p, s, n);
    return p;
}

void str_arena_reset(str_arena *a)
{
    for (arena_block *b = a->head; b; b = b->next)
        b->used = 0;
    a->cur = a->head;
}

void str_arena_free(str_arena *a)
{
    arena_block *b = a->head;
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = a->cur = NULL;
}
