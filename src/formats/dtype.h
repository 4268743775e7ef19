/* dtype.h: conversions between fp32 and the 16-bit float formats found in checkpoints
 * (IEEE fp16 and bfloat16). Pure bit manipulation, no state, no errors: every input
 * has a defined result (NaN stays NaN, overflow rounds to infinity). */
#ifndef RLVR_FORMATS_DTYPE_H
#define RLVR_FORMATS_DTYPE_H
#include <stddef.h>
#include <stdint.h>

/* IEEE 754 binary16 -> binary32. Exact (every fp16 value is a float). */
float dtype_f16_to_f32(uint16_t h);

/* binary32 -> binary16, round to nearest, ties to even. |x| >= 65520 gives +-inf,
 * values below 2^-25 give +-0, NaN stays a (quiet) NaN with the top payload bits. */
uint16_t dtype_f32_to_f16(float x);

/* bfloat16 -> binary32. Exact (bf16 is the top half of a float). */
float dtype_bf16_to_f32(uint16_t h);

/* binary32 -> bfloat16, round to nearest, ties to even; NaN stays a quiet NaN. */
uint16_t dtype_f32_to_bf16(float x);

/* Bulk forms over n elements. The 16-bit side is raw little-endian bytes (src or dst
 * need not be 2-byte aligned, so they may point straight into a mapped file). dst and
 * src must not overlap. */
void dtype_f16_to_f32_n(float *dst, const void *src, size_t n);
void dtype_bf16_to_f32_n(float *dst, const void *src, size_t n);
void dtype_f32_to_f16_n(void *dst, const float *src, size_t n);
void dtype_f32_to_bf16_n(void *dst, const float *src, size_t n);

#endif
