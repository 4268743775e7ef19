/* rng.c: xoshiro256** (Blackman & Vigna) with splitmix64 seeding, plus the few
 * derived draws rlvr needs. No global state and no threading here: callers own one
 * rng_t per stream. Not cryptographic. */
#include <math.h>
#include "core/rng.h"

uint64_t rng_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* The splitmix64 finaliser alone: a bijection on 64-bit words. */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void rng_seed(rng_t *r, uint64_t seed, uint64_t stream) {
    /* s[0] is a bijection of seed; for a fixed seed, s[1] is a bijection of stream.
     * So (seed, stream) -> (s[0], s[1]) is injective, and since xoshiro256**'s first
     * output is a function of s[1], streams of one seed differ from the start. */
    uint64_t a = seed, b;
    r->s[0] = rng_splitmix64(&a);
    b = stream ^ r->s[0];
    r->s[1] = rng_splitmix64(&b);
    r->s[2] = rng_splitmix64(&b);
    r->s[3] = rng_splitmix64(&a) ^ r->s[2];
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1; /* the one forbidden state */
}

uint64_t rng_derive(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t h = mix64(seed ^ 0x243F6A8885A308D3ULL);
    h = mix64(h ^ mix64(a + 0x13198A2E03707344ULL));
    h = mix64(h ^ mix64(b + 0xA4093822299F31D0ULL));
    return h;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_u64(rng_t *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint32_t rng_u32(rng_t *r) { return (uint32_t)(rng_u64(r) >> 32); }

double rng_double(rng_t *r) { return (double)(rng_u64(r) >> 11) * 0x1.0p-53; }

float rng_float(rng_t *r) { return (float)(rng_u64(r) >> 40) * 0x1.0p-24f; }

uint64_t rng_below(rng_t *r, uint64_t n) {
    if (n == 0) return 0;
    unsigned __int128 m = (unsigned __int128)rng_u64(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t t = (0 - n) % n; /* 2^64 mod n: the count of low values to reject */
        while (lo < t) {
            m = (unsigned __int128)rng_u64(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

float rng_normal(rng_t *r) {
    double u1 = 1.0 - rng_double(r); /* (0, 1]: log never sees 0 */
    double u2 = rng_double(r);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void rng_shuffle_u32(rng_t *r, uint32_t *a, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(r, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}
