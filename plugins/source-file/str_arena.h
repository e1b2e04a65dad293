/* str_arena.h - copies of a batch's strings in reusable blocks.
 *
 * Strings handed downstream must stay put for the whole batch, so the arena
 * never moves what it holds (no realloc): it chains fixed blocks, and a reset
 * makes them all reusable for the next batch without freeing anything. */
#ifndef FILE_STR_ARENA_H
#define FILE_STR_ARENA_H
#include <stddef.h>

typedef struct arena_block arena_block;

typedef struct str_arena {
    arena_block *head, *cur;
    size_t block_size;
} str_arena;

void str_arena_init(str_arena *a, size_t block_size);
/* A copy of s[0..n) that stays valid until the next reset; NULL when out of
 * memory. */
char *str_arena_copy(str_arena *a, const char *s, size_t n);
/* Room for n bytes, valid until the next reset; NULL when out of memory. */
char *str_arena_alloc(str_arena *a, size_t n);
/* Makes every block reusable (call at the start of a batch). */
void str_arena_reset(str_arena *a);
void str_arena_free(str_arena *a);
#endif
