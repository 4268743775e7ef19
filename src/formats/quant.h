/* quant.h: the ggml tensor types found in GGUF files (type ids, block sizes, bytes
 * per block) and dequantization of the common ones to fp32. Block layouts follow
 * llama.cpp's ggml-quants (the same layouts gguf-py's quants.py decodes); nothing here
 * quantizes, and nothing reads files: callers hand in raw little-endian bytes.
 *
 * A "block" is the unit a type is stored in: block_size elements in type_size bytes
 * (1 element in 4 bytes for F32; 32 in 18 bytes for Q4_0; 256 in 144 for Q4_K). A
 * tensor row (ne[0] elements) is always a whole number of blocks.
 */
#ifndef RLVR_FORMATS_QUANT_H
#define RLVR_FORMATS_QUANT_H
#include <stddef.h>
#include <stdint.h>
#include "rlvr.h"

/* ggml type ids as stored in GGUF tensor infos. Ids 4, 5 (removed Q4_2/Q4_3),
 * 31..33 and 36..38 (removed repacked layouts) are not valid in files. */
typedef enum ggml_type {
    GGML_TYPE_F32 = 0, GGML_TYPE_F16 = 1, GGML_TYPE_Q4_0 = 2, GGML_TYPE_Q4_1 = 3,
    GGML_TYPE_Q5_0 = 6, GGML_TYPE_Q5_1 = 7, GGML_TYPE_Q8_0 = 8, GGML_TYPE_Q8_1 = 9,
    GGML_TYPE_Q2_K = 10, GGML_TYPE_Q3_K = 11, GGML_TYPE_Q4_K = 12, GGML_TYPE_Q5_K = 13,
    GGML_TYPE_Q6_K = 14, GGML_TYPE_Q8_K = 15, GGML_TYPE_IQ2_XXS = 16, GGML_TYPE_IQ2_XS = 17,
    GGML_TYPE_IQ3_XXS = 18, GGML_TYPE_IQ1_S = 19, GGML_TYPE_IQ4_NL = 20, GGML_TYPE_IQ3_S = 21,
    GGML_TYPE_IQ2_S = 22, GGML_TYPE_IQ4_XS = 23, GGML_TYPE_I8 = 24, GGML_TYPE_I16 = 25,
    GGML_TYPE_I32 = 26, GGML_TYPE_I64 = 27, GGML_TYPE_F64 = 28, GGML_TYPE_IQ1_M = 29,
    GGML_TYPE_BF16 = 30, GGML_TYPE_TQ1_0 = 34, GGML_TYPE_TQ2_0 = 35, GGML_TYPE_MXFP4 = 39,
    GGML_TYPE_NVFP4 = 40, GGML_TYPE_Q1_0 = 41,
    GGML_TYPE_COUNT = 42                      /* one past the largest id known here */
} ggml_type;

/* 1 when type is a valid id in a file (its sizes are known), else 0. */
int quant_type_known(int type);

/* "Q4_K", or "?" for an id that is not known. Static storage. */
const char *quant_type_name(int type);

/* Elements per block (1 for plain types), or 0 for an unknown id. */
int quant_block_size(int type);

/* Bytes per block, or 0 for an unknown id. */
size_t quant_type_size(int type);

/* Bytes that n elements of type occupy: (n / block) * type_size. 0 when the id is
 * unknown, n is not a multiple of the block size, or the product overflows size_t
 * (n == 0 also gives 0: use quant_block_size to tell the cases apart). */
size_t quant_row_bytes(int type, uint64_t n);

/* 1 when quant_dequantize handles type: F32 F16 BF16 F64 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0
 * Q2_K Q3_K Q4_K Q5_K Q6_K. */
int quant_can_dequantize(int type);

/* Decodes n elements of type from src (src_bytes of raw little-endian blocks, any
 * alignment) into dst (n floats, caller-owned; must not overlap src). n must be a
 * multiple of the block size and src_bytes must equal quant_row_bytes(type, n)
 * exactly (RLVR_EARG otherwise, naming both); an unknown id or a type outside the list
 * above is RLVR_EUNSUPPORTED. Values are data: NaN/inf scales pass through. Runs on
 * OpenMP threads for large n. The math matches gguf-py's dequantize (fp16 scales
 * widened to fp32, products in fp32) to within rounding (the compiler may fuse d*q-m). */
int quant_dequantize(int type, const void *src, size_t src_bytes, float *dst, uint64_t n, rlvr_err *err);

#endif
