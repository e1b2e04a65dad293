/* ack_ledger.c - the contiguous prefix of resolved documents.
 *
 * Documents get sequence numbers in the order process() received them; they
 * resolve (indexed or dead-lettered) in any order, because requests run
 * concurrently, retries wait, and 413 splits resend halves.  The host may
 * commit source offsets only behind what is resolved, so acked() must report
 * the length of the resolved *prefix*.  A ring of done bits, one per
 * unresolved-or-later document, gives that in O(1) amortised per document
 * with no per-document allocation. */
#include "opensearch_sink.h"

#include <stdlib.h>
#include <string.h>

static inline int bit_get(const ack_ledger *l, uint64_t seq)
{
    uint64_t i = seq & (l->nbits - 1);
    return (int)((l->bits[i >> 6] >> (i & 63)) & 1u);
}

static inline void bit_set(ack_ledger *l, uint64_t seq)
{
    uint64_t i = seq & (l->nbits - 1);
    l->bits[i >> 6] |= (uint64_t)1 << (i & 63);
}

static inline void bit_clear(ack_ledger *l, uint64_t seq)
{
    uint64_t i = seq & (l->nbits - 1);
    l->bits[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

/* Doubles the ring, re-placing the bits of [base, next). */
static int grow(ack_ledger *l)
{
    size_t nbits = l->nbits ? l->nbits * 2 : 4096;
    uint64_t *bits = calloc(nbits / 64, sizeof(uint64_t));
    if (!bits)
        return -1;
    ack_ledger old = *l;
    l->bits = bits;
    l->nbits = nbits;
    for (uint64_t s = old.base; s < old.next; s++)
        if (bit_get(&old, s))
            bit_set(l, s);
    free(old.bits);
    return 0;
}

int ack_ledger_push(ack_ledger *l, uint64_t *seq)
{
    if (l->next - l->base >= l->nbits && grow(l) != 0)
        return -1;
    *seq = l->next++;
    return 0;
}

void ack_ledger_done(ack_ledger *l, uint64_t seq)
{
    if (seq < l->base || seq >= l->next)
        return; /* already part of the prefix, or never handed out */
    bit_set(l, seq);
    if (seq != l->base)
        return;
    while (l->base < l->next) {
        uint64_t i = l->base & (l->nbits - 1);
        /* a whole word of done documents at once */
        if ((i & 63) == 0 && l->next - l->base >= 64 && l->bits[i >> 6] == UINT64_MAX) {
            l->bits[i >> 6] = 0;
            l->base += 64;
            continue;
        }
        if (!bit_get(l, l->base))
            break;
        bit_clear(l, l->base);
        l->base++;
    }
}

void ack_ledger_free(ack_ledger *l)
{
    free(l->bits);
    memset(l, 0, sizeof *l);
}
