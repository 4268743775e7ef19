/* quant.c: ggml block formats -> fp32. One small decoder per block type, each
 * written from the layout (documented above it), plus the size table every GGUF
 * tensor is checked against. Not here: quantizing, the i-quants and ternary types
 * (known by size, refused by quant_dequantize). */
#include <string.h>
#include "core/err.h"
#include "formats/dtype.h"
#include "formats/quant.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ggml blocks are little-endian and read by memcpy; port before using a big-endian host"
#endif

#define QK_K 256

static const struct { const char *name; int block; int size; } types[GGML_TYPE_COUNT] = {
    [GGML_TYPE_F32] = {"F32", 1, 4},            [GGML_TYPE_F16] = {"F16", 1, 2},
    [GGML_TYPE_Q4_0] = {"Q4_0", 32, 18},        [GGML_TYPE_Q4_1] = {"Q4_1", 32, 20},
    [GGML_TYPE_Q5_0] = {"Q5_0", 32, 22},        [GGML_TYPE_Q5_1] = {"Q5_1", 32, 24},
    [GGML_TYPE_Q8_0] = {"Q8_0", 32, 34},        [GGML_TYPE_Q8_1] = {"Q8_1", 32, 40},
    [GGML_TYPE_Q2_K] = {"Q2_K", QK_K, 84},      [GGML_TYPE_Q3_K] = {"Q3_K", QK_K, 110},
    [GGML_TYPE_Q4_K] = {"Q4_K", QK_K, 144},     [GGML_TYPE_Q5_K] = {"Q5_K", QK_K, 176},
    [GGML_TYPE_Q6_K] = {"Q6_K", QK_K, 210},     [GGML_TYPE_Q8_K] = {"Q8_K", QK_K, 292},
    [GGML_TYPE_IQ2_XXS] = {"IQ2_XXS", QK_K, 66}, [GGML_TYPE_IQ2_XS] = {"IQ2_XS", QK_K, 74},
    [GGML_TYPE_IQ3_XXS] = {"IQ3_XXS", QK_K, 98}, [GGML_TYPE_IQ1_S] = {"IQ1_S", QK_K, 50},
    [GGML_TYPE_IQ4_NL] = {"IQ4_NL", 32, 18},    [GGML_TYPE_IQ3_S] = {"IQ3_S", QK_K, 110},
    [GGML_TYPE_IQ2_S] = {"IQ2_S", QK_K, 82},    [GGML_TYPE_IQ4_XS] = {"IQ4_XS", QK_K, 136},
    [GGML_TYPE_I8] = {"I8", 1, 1},              [GGML_TYPE_I16] = {"I16", 1, 2},
    [GGML_TYPE_I32] = {"I32", 1, 4},            [GGML_TYPE_I64] = {"I64", 1, 8},
    [GGML_TYPE_F64] = {"F64", 1, 8},            [GGML_TYPE_IQ1_M] = {"IQ1_M", QK_K, 56},
    [GGML_TYPE_BF16] = {"BF16", 1, 2},          [GGML_TYPE_TQ1_0] = {"TQ1_0", QK_K, 54},
    [GGML_TYPE_TQ2_0] = {"TQ2_0", QK_K, 66},    [GGML_TYPE_MXFP4] = {"MXFP4", 32, 17},
    [GGML_TYPE_NVFP4] = {"NVFP4", 64, 36},      [GGML_TYPE_Q1_0] = {"Q1_0", 128, 18},
};

int quant_type_known(int t) { return t >= 0 && t < GGML_TYPE_COUNT && types[t].name != NULL; }
const char *quant_type_name(int t) { return quant_type_known(t) ? types[t].name : "?"; }
int quant_block_size(int t) { return quant_type_known(t) ? types[t].block : 0; }
size_t quant_type_size(int t) { return quant_type_known(t) ? (size_t)types[t].size : 0; }

size_t quant_row_bytes(int t, uint64_t n) {
    if (!quant_type_known(t) || n % (uint64_t)types[t].block) return 0;
    uint64_t b;
    if (__builtin_mul_overflow(n / (uint64_t)types[t].block, (uint64_t)types[t].size, &b) || b > SIZE_MAX) return 0;
    return (size_t)b;
}

int quant_can_dequantize(int t) {
    switch (t) {
    case GGML_TYPE_F32: case GGML_TYPE_F16: case GGML_TYPE_BF16: case GGML_TYPE_F64:
    case GGML_TYPE_Q4_0: case GGML_TYPE_Q4_1: case GGML_TYPE_Q5_0: case GGML_TYPE_Q5_1: case GGML_TYPE_Q8_0:
    case GGML_TYPE_Q2_K: case GGML_TYPE_Q3_K: case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K: case GGML_TYPE_Q6_K:
        return 1;
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- block decoders */
/* Each takes one block b and writes block_size floats to y. "nibble j" below means
 * element j of a 32-element group stored as qs[j % 16] >> (4 * (j / 16)). */

static inline float half(const uint8_t *p) { uint16_t h; memcpy(&h, p, 2); return dtype_f16_to_f32(h); }

/* Q4_0, 18 bytes: d (f16), qs[16]. y[j] = d * (nibble j - 8). */
static void dq_q4_0(float *y, const uint8_t *b) {
    float d = half(b);
    const uint8_t *qs = b + 2;
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)((qs[j] & 15) - 8);
        y[j + 16] = d * (float)((qs[j] >> 4) - 8);
    }
}

/* Q4_1, 20 bytes: d, m (f16), qs[16]. y[j] = d * nibble j + m. */
static void dq_q4_1(float *y, const uint8_t *b) {
    float d = half(b), m = half(b + 2);
    const uint8_t *qs = b + 4;
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)(qs[j] & 15) + m;
        y[j + 16] = d * (float)(qs[j] >> 4) + m;
    }
}

/* Q5_0, 22 bytes: d, qh (u32: bit j is bit 4 of element j), qs[16].
 * y[j] = d * ((nibble j | bit j << 4) - 16). */
static void dq_q5_0(float *y, const uint8_t *b) {
    float d = half(b);
    uint32_t qh; memcpy(&qh, b + 2, 4);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < 16; j++) {
        int lo = (qs[j] & 15) | (int)((qh >> j) & 1) << 4;
        int hi = (qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
        y[j] = d * (float)(lo - 16);
        y[j + 16] = d * (float)(hi - 16);
    }
}

/* Q5_1, 24 bytes: d, m, qh, qs[16]. y[j] = d * (nibble j | bit j << 4) + m. */
static void dq_q5_1(float *y, const uint8_t *b) {
    float d = half(b), m = half(b + 2);
    uint32_t qh; memcpy(&qh, b + 4, 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < 16; j++) {
        int lo = (qs[j] & 15) | (int)((qh >> j) & 1) << 4;
        int hi = (qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
        y[j] = d * (float)lo + m;
        y[j + 16] = d * (float)hi + m;
    }
}

/* Q8_0, 34 bytes: d, qs[32] (int8). y[j] = d * qs[j]. */
static void dq_q8_0(float *y, const uint8_t *b) {
    float d = half(b);
    for (int j = 0; j < 32; j++) y[j] = d * (float)(int8_t)b[2 + j];
}

/* Q2_K, 84 bytes: scales[16], qs[64], d, dmin. 16 groups of 16; group g has scale
 * d * (scales[g] & 15) and min dmin * (scales[g] >> 4). Element e = 128h + 32t + l
 * (h < 2, t < 4, l < 32) has the 2-bit q = qs[32h + l] >> 2t. y = scale * q - min. */
static void dq_q2_k(float *y, const uint8_t *b) {
    const uint8_t *sc = b, *qs = b + 16;
    float d = half(b + 80), dmin = half(b + 82);
    for (int e = 0; e < QK_K; e++) {
        int h = e >> 7, t = (e >> 5) & 3, l = e & 31, g = e >> 4;
        int q = (qs[32 * h + l] >> (2 * t)) & 3;
        float dl = d * (float)(sc[g] & 15), ml = dmin * (float)(sc[g] >> 4);
        y[e] = dl * (float)q - ml;
    }
}

/* Q3_K, 110 bytes: hmask[32], qs[64], scales[12] (16 6-bit scales, biased by 32), d.
 * Scale g: low 4 bits from scales[g % 8] (low nibble for g < 8, high nibble after),
 * top 2 bits from scales[8 + g % 4] >> (2 * (g / 4)). Element e = 128h + 32t + l has
 * the 2-bit low part qs[32h + l] >> 2t and the high bit hmask[l] >> (e / 32); a clear
 * high bit subtracts 4. y = d * (scale - 32) * q. */
static void dq_q3_k(float *y, const uint8_t *b) {
    const uint8_t *hm = b, *qs = b + 32, *sc = b + 96;
    float d = half(b + 108);
    float dl[16];
    for (int g = 0; g < 16; g++) {
        int lo = g < 8 ? sc[g] & 15 : sc[g - 8] >> 4;
        int hi = (sc[8 + (g & 3)] >> (2 * (g >> 2))) & 3;
        dl[g] = d * (float)((lo | hi << 4) - 32);
    }
    for (int e = 0; e < QK_K; e++) {
        int h = e >> 7, t = (e >> 5) & 3, l = e & 31;
        int q = (qs[32 * h + l] >> (2 * t)) & 3;
        if (!((hm[l] >> (e >> 5)) & 1)) q -= 4;
        y[e] = dl[e >> 4] * (float)q;
    }
}

/* The 8 6-bit scales and mins of Q4_K/Q5_K, packed in 12 bytes: for j < 4,
 * sc[j] = s[j] & 63, m[j] = s[j + 4] & 63; for j >= 4,
 * sc[j] = (s[j + 4] & 15) | (s[j - 4] >> 6) << 4, m[j] = (s[j + 4] >> 4) | (s[j] >> 6) << 4. */
static void k_scale_min(const uint8_t *s, int *sc, int *m) {
    for (int j = 0; j < 4; j++) {
        sc[j] = s[j] & 63;
        m[j] = s[j + 4] & 63;
        sc[j + 4] = (s[j + 8] & 15) | (s[j] >> 6) << 4;
        m[j + 4] = (s[j + 8] >> 4) | (s[j + 4] >> 6) << 4;
    }
}

/* Q4_K, 144 bytes: d, dmin, scales[12], qs[128]. 8 groups of 32; element e in group
 * c = e / 32 is q = qs[32 (c / 2) + e % 32] >> (4 (c % 2)) & 15.
 * y = d * sc[c] * q - dmin * m[c]. */
static void dq_q4_k(float *y, const uint8_t *b) {
    float d = half(b), dmin = half(b + 2);
    int sc[8], m[8];
    k_scale_min(b + 4, sc, m);
    const uint8_t *qs = b + 16;
    for (int c = 0; c < 8; c++) {
        float dl = d * (float)sc[c], ml = dmin * (float)m[c];
        const uint8_t *q = qs + 32 * (c >> 1);
        int sh = 4 * (c & 1);
        for (int l = 0; l < 32; l++) y[32 * c + l] = dl * (float)((q[l] >> sh) & 15) - ml;
    }
}

/* Q5_K, 176 bytes: d, dmin, scales[12], qh[32], qs[128]. As Q4_K, plus bit 4 of
 * element 32c + l from qh[l] >> c. */
static void dq_q5_k(float *y, const uint8_t *b) {
    float d = half(b), dmin = half(b + 2);
    int sc[8], m[8];
    k_scale_min(b + 4, sc, m);
    const uint8_t *qh = b + 16, *qs = b + 48;
    for (int c = 0; c < 8; c++) {
        float dl = d * (float)sc[c], ml = dmin * (float)m[c];
        const uint8_t *q = qs + 32 * (c >> 1);
        int sh = 4 * (c & 1);
        for (int l = 0; l < 32; l++) {
            int v = ((q[l] >> sh) & 15) | ((qh[l] >> c) & 1) << 4;
            y[32 * c + l] = dl * (float)v - ml;
        }
    }
}

/* Q6_K, 210 bytes: ql[128], qh[64], scales[16] (int8), d. Element e = 128h + r
 * (r < 128): low 4 bits ql[64h + r % 64] >> (4 (r / 64)), high 2 bits
 * qh[32h + r % 32] >> (2 (r / 32)). y = d * scales[e / 16] * (q - 32). */
static void dq_q6_k(float *y, const uint8_t *b) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    float d = half(b + 208);
    for (int e = 0; e < QK_K; e++) {
        int h = e >> 7, r = e & 127;
        int lo = (ql[64 * h + (r & 63)] >> (4 * (r >> 6))) & 15;
        int hi = (qh[32 * h + (r & 31)] >> (2 * (r >> 5))) & 3;
        y[e] = d * (float)sc[e >> 4] * (float)((lo | hi << 4) - 32);
    }
}

/* ---------------------------------------------------------------- driver */

int quant_dequantize(int type, const void *src, size_t src_bytes, float *dst, uint64_t n, rlvr_err *err) {
    if (!quant_type_known(type))
        return errf(err, RLVR_EUNSUPPORTED, "dequantize: unknown ggml type id %d", type);
    if (!quant_can_dequantize(type))
        return errf(err, RLVR_EUNSUPPORTED, "dequantize: type %s is not supported (rlvr decodes F32 F16 BF16 F64 "
                    "Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K)", types[type].name);
    uint64_t bs = (uint64_t)types[type].block, ts = (uint64_t)types[type].size;
    if (n % bs)
        return errf(err, RLVR_EARG, "dequantize: %llu elements of %s is not a whole number of %llu-element blocks",
                    (unsigned long long)n, types[type].name, (unsigned long long)bs);
    size_t need = quant_row_bytes(type, n);
    if ((n && !need) || need != src_bytes)
        return errf(err, RLVR_EARG, "dequantize: %llu elements of %s need %zu bytes, got %zu",
                    (unsigned long long)n, types[type].name, need, src_bytes);
    if (n && (!src || !dst)) return errf(err, RLVR_EARG, "dequantize: NULL buffer");
    if (n > SIZE_MAX / sizeof(float)) return errf(err, RLVR_EARG, "dequantize: %llu elements overflow", (unsigned long long)n);
    const uint8_t *s = src;
    switch (type) {
    case GGML_TYPE_F32: if (n) memcpy(dst, s, (size_t)n * 4); return RLVR_OK;
    case GGML_TYPE_F16: dtype_f16_to_f32_n(dst, s, (size_t)n); return RLVR_OK;
    case GGML_TYPE_BF16: dtype_bf16_to_f32_n(dst, s, (size_t)n); return RLVR_OK;
    case GGML_TYPE_F64:
        for (uint64_t i = 0; i < n; i++) { double v; memcpy(&v, s + 8 * i, 8); dst[i] = (float)v; }
        return RLVR_OK;
    default: break;
    }
    void (*fn)(float *, const uint8_t *) =
        type == GGML_TYPE_Q4_0 ? dq_q4_0 : type == GGML_TYPE_Q4_1 ? dq_q4_1 :
        type == GGML_TYPE_Q5_0 ? dq_q5_0 : type == GGML_TYPE_Q5_1 ? dq_q5_1 :
        type == GGML_TYPE_Q8_0 ? dq_q8_0 : type == GGML_TYPE_Q2_K ? dq_q2_k :
        type == GGML_TYPE_Q3_K ? dq_q3_k : type == GGML_TYPE_Q4_K ? dq_q4_k :
        type == GGML_TYPE_Q5_K ? dq_q5_k : dq_q6_k;
    int64_t nb = (int64_t)(n / bs);
    #pragma omp parallel for schedule(static) if (nb >= 4096)
    for (int64_t i = 0; i < nb; i++) fn(dst + (size_t)i * bs, s + (size_t)i * ts);
    return RLVR_OK;
}
