/* rng.h: explicit-state random numbers. xoshiro256** seeded through splitmix64; one
 * rng_t per purpose (data order, sampling, init), so results depend only on the seed
 * and the stream id, never on thread count or batch composition.
 *
 * Typical use, one stream per (prompt, sample) so a sample's tokens are the same
 * whichever batch or thread it lands in:
 *     rng_t r; rng_seed(&r, seed, rng_derive(seed, prompt_idx, sample_idx));
 */
#ifndef RLVR_CORE_RNG_H
#define RLVR_CORE_RNG_H
#include <stddef.h>
#include <stdint.h>

/* The whole generator state: plain data, so a checkpoint saves and restores it byte
 * for byte (memcpy / fwrite of sizeof(rng_t)). Never all zero once seeded. */
typedef struct rng_t {
    uint64_t s[4];
} rng_t;

/* One step of splitmix64 (Vigna): advances *state by the golden-ratio increment and
 * returns the mixed value. Used for seeding; exposed for tests and hashing. */
uint64_t rng_splitmix64(uint64_t *state);

/* Seeds r for the stream `stream` of `seed`. Distinct (seed, stream) pairs give
 * distinct states (injective by construction), and streams of one seed differ from
 * their first output on. Deterministic across platforms. */
void rng_seed(rng_t *r, uint64_t seed, uint64_t stream);

/* Hashes the tuple (seed, a, b) to a stream id for rng_seed, e.g.
 * rng_derive(seed, prompt_idx, sample_idx). Order matters: (a, b) != (b, a). */
uint64_t rng_derive(uint64_t seed, uint64_t a, uint64_t b);

/* Next 64 random bits (xoshiro256**). */
uint64_t rng_u64(rng_t *r);

/* Next 32 random bits (the high half of rng_u64). */
uint32_t rng_u32(rng_t *r);

/* Uniform double in [0, 1) with 53 random bits; consumes one rng_u64. */
double rng_double(rng_t *r);

/* Uniform float in [0, 1) with 24 random bits; consumes one rng_u64. */
float rng_float(rng_t *r);

/* Uniform integer in [0, n), exactly unbiased (Lemire's multiply with rejection).
 * Returns 0 when n == 0. Consumes one rng_u64, rarely more. */
uint64_t rng_below(rng_t *r, uint64_t n);

/* Standard normal sample (Box-Muller, cosine branch; the sine half is discarded so
 * the state stays plain data). Consumes two rng_u64. */
float rng_normal(rng_t *r);

/* Shuffles a[0..n) in place (Fisher-Yates, from the end, rng_below for each slot). */
void rng_shuffle_u32(rng_t *r, uint32_t *a, size_t n);

#endif
