/* session_depts.c - see session_depts.h. */
#include "session_depts.h"

#include <stdlib.h>
#include <string.h>

static uint64_t ss_fnv1a(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void ss_depts_init(ss_depts *d) { memset(d, 0, sizeof *d); }

void ss_depts_free(ss_depts *d)
{
    for (uint32_t i = 0; i < d->n; i++)
        free((void *)d->names[i].ptr);
    free(d->names);
    free(d->hashes);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

static void ss_depts_put(ss_depts *d, uint32_t id)
{
    uint32_t mask = d->cap - 1, i = (uint32_t)d->hashes[id] & mask;
    while (d->slots[i])
        i = (i + 1) & mask;
    d->slots[i] = id + 1;
}

static int ss_depts_grow(ss_depts *d)
{
    uint32_t capn = d->capn ? d->capn * 2 : 16;
    sh_str *names = realloc(d->names, capn * sizeof *names);
    if (!names)
        return -1;
    d->names = names;
    uint64_t *hashes = realloc(d->hashes, capn * sizeof *hashes);
    if (!hashes)
        return -1;
    d->hashes = hashes;
    uint32_t *slots = calloc(capn * 2, sizeof *slots); /* at most half full */
    if (!slots)
        return -1;
    free(d->slots);
    d->slots = slots;
    d->cap = capn * 2;
    d->capn = capn;
    for (uint32_t id = 0; id < d->n; id++)
        ss_depts_put(d, id);
    return 0;
}

uint32_t ss_dept_intern(ss_depts *d, const char *name, size_t len)
{
    uint64_t h = ss_fnv1a(name, len);
    if (d->cap) {
        uint32_t mask = d->cap - 1;
        for (uint32_t i = (uint32_t)h & mask; d->slots[i]; i = (i + 1) & mask) {
            uint32_t id = d->slots[i] - 1;
            if (d->hashes[id] == h && d->names[id].len == len &&
                memcmp(d->names[id].ptr, name, len) == 0)
                return id;
        }
    }
    if (d->n == d->capn && ss_depts_grow(d) != 0)
        return SS_DEPT_OOM;
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return SS_DEPT_OOM;
    if (len)
        memcpy(copy, name, len);
    uint32_t id = d->n++;
    d->names[id] = (sh_str){.ptr = copy, .len = len};
    d->hashes[id] = h;
    ss_depts_put(d, id);
    return id;
}
