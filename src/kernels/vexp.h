/* vexp.h: a branch-free expf that compilers vectorise, shared by the CPU kernels
 * (cpu.c, kvcache.c) so that training and decoding exponentiate the same way.
 * Internal to src/kernels. */
#ifndef RLVR_KERNELS_VEXP_H
#define RLVR_KERNELS_VEXP_H
#include <stdint.h>

/* expf for x <= 88, vectorisable (no calls, no branches): 2^n * p(r), r = x - n ln2,
 * |r| <= ln2/2, degree-6 polynomial; max relative error about 2e-7. Underflows to 0
 * below -87. */
static inline float vexpf(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* round to nearest by the 1.5*2^23 trick: no libm call, so the loop vectorises */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;
    float p = 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    union { float f; uint32_t i; } u = { .f = p };
    u.i += (uint32_t)(int32_t)n << 23; /* unsigned shift: adds n to the exponent, no UB */
    return u.f;
}
#endif
