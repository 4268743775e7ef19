/* dtype.c: fp16/bf16 <-> fp32 by integer bit manipulation (the rounding is exact RNE,
 * checked exhaustively against the compiler's _Float16 in tests/test_safetensors.c).
 * Not a general cast library: the 8-bit float formats are read by nobody yet. */
#include <string.h>
#include "formats/dtype.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "rlvr reads and writes little-endian files by memcpy; port dtype.c before using a big-endian host"
#endif

static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float dtype_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0x1f) return u2f(sign | 0x7f800000u | (mant << 13));   /* inf / NaN */
    if (exp == 0) {                                                    /* zero / subnormal */
        float f = (float)mant * 0x1p-24f;                              /* exact: mant < 2^10 */
        return u2f(sign | f2u(f));
    }
    return u2f(sign | ((exp + 112u) << 23) | (mant << 13));           /* rebias 15 -> 127 */
}

uint16_t dtype_f32_to_f16(float x) {
    uint32_t u = f2u(x);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu;
    if (a >= 0x7f800000u)                                       /* inf, or NaN kept quiet */
        return (uint16_t)(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u | ((a >> 13) & 0x3ffu) : 0));
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);    /* >= 65520 rounds to inf */
    if (a < 0x38800000u) {                                      /* below 2^-14: subnormal */
        /* Adding 0.5 puts the fp16 subnormal unit (2^-24) at the float's last mantissa
         * bit, so the FPU's own round-to-nearest-even does the rounding. */
        float r = u2f(a) + 0.5f;
        return (uint16_t)(sign | (f2u(r) - 0x3f000000u));
    }
    a += 0xc8000fffu + ((a >> 13) & 1u);   /* rebias 127 -> 15 (-112<<23) and round RNE */
    return (uint16_t)(sign | (a >> 13));
}

float dtype_bf16_to_f32(uint16_t h) { return u2f((uint32_t)h << 16); }

uint16_t dtype_f32_to_bf16(float x) {
    uint32_t u = f2u(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

void dtype_f16_to_f32_n(float *dst, const void *src, size_t n) {
    const unsigned char *s = src;
    for (size_t i = 0; i < n; i++) {
        uint16_t h; memcpy(&h, s + 2 * i, 2);
        dst[i] = dtype_f16_to_f32(h);
    }
}

void dtype_bf16_to_f32_n(float *dst, const void *src, size_t n) {
    const unsigned char *s = src;
    for (size_t i = 0; i < n; i++) {
        uint16_t h; memcpy(&h, s + 2 * i, 2);
        dst[i] = dtype_bf16_to_f32(h);
    }
}

void dtype_f32_to_f16_n(void *dst, const float *src, size_t n) {
    unsigned char *d = dst;
    for (size_t i = 0; i < n; i++) {
        uint16_t h = dtype_f32_to_f16(src[i]);
        memcpy(d + 2 * i, &h, 2);
    }
}

void dtype_f32_to_bf16_n(void *dst, const float *src, size_t n) {
    unsigned char *d = dst;
    for (size_t i = 0; i < n; i++) {
        uint16_t h = dtype_f32_to_bf16(src[i]);
        memcpy(d + 2 * i, &h, 2);
    }
}
