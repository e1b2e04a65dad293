/* tumble_names.c - department names interned to small ids, so that a window
 * counts departments in an array instead of a map of strings.  Names live
 * for the plugin's lifetime (there are few: 8 in the reference data). */
#include "tumble.h"

#include <stdlib.h>
#include <string.h>

static uint64_t tb_fnv1a(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void tb_names_free(tb_names *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free((void *)t->names[i].ptr);
    free(t->names);
    free(t->hashes);
    free(t->stamp);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static void tb_names_put(tb_names *t, uint32_t id)
{
    uint32_t mask = t->cap - 1, i = (uint32_t)t->hashes[id] & mask;
    while (t->slots[i])
        i = (i + 1) & mask;
    t->slots[i] = id + 1;
}

static int tb_names_grow(tb_names *t)
{
    uint32_t capn = t->capn ? t->capn * 2 : 16;
    sh_str *names = realloc(t->names, capn * sizeof *names);
    if (!names)
        return -1;
    t->names = names;
    uint64_t *hashes = realloc(t->hashes, capn * sizeof *hashes);
    if (!hashes)
        return -1;
    t->hashes = hashes;
    uint64_t *stamp = realloc(t->stamp, capn * sizeof *stamp);
    if (!stamp)
        return -1;
    t->stamp = stamp;
    uint32_t *slots = calloc(capn * 2, sizeof *slots); /* at most half full */
    if (!slots)
        return -1;
    free(t->slots);
    t->slots = slots;
    t->cap = capn * 2;
    t->capn = capn;
    for (uint32_t id = 0; id < t->n; id++)
        tb_names_put(t, id);
    return 0;
}

uint32_t tb_name_intern(tb_names *t, const char *p, size_t len)
{
    uint64_t h = tb_fnv1a(p, len);
    if (t->cap) {
        uint32_t mask = t->cap - 1;
        for (uint32_t i = (uint32_t)h & mask; t->slots[i]; i = (i + 1) & mask) {
            uint32_t id = t->slots[i] - 1;
            if (t->hashes[id] == h && t->names[id].len == len &&
                (len == 0 || memcmp(t->names[id].ptr, p, len) == 0))
                return id;
        }
    }
    if (t->n == t->capn && tb_names_grow(t) != 0)
        return TB_NAME_OOM;
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return TB_NAME_OOM;
    if (len)
        memcpy(copy, p, len);
    uint32_t id = t->n++;
    t->names[id] = (sh_str){.ptr = copy, .len = len};
    t->hashes[id] = h;
    t->stamp[id] = 0;
    tb_names_put(t, id);
    return id;
}
