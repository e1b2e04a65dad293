/* prng.h - the generator's own small PRNG: xoshiro256** seeded by splitmix64.
 *
 * Why not libc rand(): its sequence differs between C libraries and it is
 * process-global, so "same seed, same events" would not hold across machines
 * or when another plugin in the process draws numbers too. */
#ifndef CLICKGEN_PRNG_H
#define CLICKGEN_PRNG_H
#include <stdint.h>

typedef struct prng {
    uint64_t s[4];
} prng;

static inline uint64_t prng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Seeds the four words from one 64-bit seed (never all zero). */
static inline void prng_seed(prng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = prng_splitmix64(&seed);
}

static inline uint64_t prng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t prng_next(prng *r)
{
    uint64_t *s = r->s;
    uint64_t result = prng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = prng_rotl(s[3], 45);
    return result;
}

/* Uniform integer in [0, n), n > 0, without modulo bias (rejects the few
 * draws below 2^64 mod n). */
static inline uint64_t prng_below(prng *r, uint64_t n)
{
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = prng_next(r);
        if (x >= threshold)
            return x % n;
    }
}

/* Uniform integer in [lo, hi], lo <= hi. */
static inline int64_t prng_range(prng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)prng_below(r, (uint64_t)(hi - lo) + 1);
}
#endif
