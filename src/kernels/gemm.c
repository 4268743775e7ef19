/* gemm.c: rlvr's own single-precision GEMM, BLIS/GotoBLAS style: op(B) is packed in
 * KC x NC panels of NR-wide k-major slivers, op(A) is cut into MC x KC blocks of
 * MR-row slivers (read in place where that measured faster, else packed), and an
 * MR x NR register-blocked microkernel (AVX-512, AVX2 or plain C, chosen at compile
 * time) does broadcast-FMAs. Not a BLAS: alpha = 1, beta in {0, 1}, fp32 only.
 *
 * Determinism: every C element is one FMA chain over k = 0..K-1 in order, started
 * from 0 (or from C when accumulating). Blocking, tiling and the thread split change
 * which core computes an element, never how: results are bit-identical for any
 * thread count and between GEMM_SERIAL and GEMM_PARALLEL. Design notes and numbers
 * are in docs/gemm.md. */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif
#include "kernels/gemm.h"

/* ---- the vector ISA: VL floats per vector, an MR x (NV*VL) register tile ---- */
#if defined(__AVX512F__)
#define GEMM_ISA "rlvr-avx512"
#define VL 16
#ifndef GEMM_MR
#define GEMM_MR 6
#define GEMM_NV 4
#endif
#define MR GEMM_MR
#define NV GEMM_NV
typedef __m512 vf;
#define vload(p) _mm512_loadu_ps(p)
#define vstore(p, x) _mm512_storeu_ps(p, x)
#define vbcast(x) _mm512_set1_ps(x)
#define vfma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define vzero() _mm512_setzero_ps()
#elif defined(__AVX2__) && defined(__FMA__)
#define GEMM_ISA "rlvr-avx2"
#define VL 8
#define MR 6
#define NV 2
typedef __m256 vf;
#define vload(p) _mm256_loadu_ps(p)
#define vstore(p, x) _mm256_storeu_ps(p, x)
#define vbcast(x) _mm256_set1_ps(x)
#define vfma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define vzero() _mm256_setzero_ps()
#else
#define GEMM_ISA "rlvr-c"
#define VL 1
#define MR 4
#define NV 8
typedef float vf;
#define vload(p) (*(p))
#define vstore(p, x) (*(p) = (x))
#define vbcast(x) (x)
#ifdef FP_FAST_FMAF
#define vfma(a, b, c) fmaf(a, b, c)
#else
#define vfma(a, b, c) ((a) * (b) + (c))
#endif
#define vzero() 0.0f
#endif
#define NR (VL * NV)

/* Cache blocking. KC: depth of one rank-kc update; one A sliver (MR x KC) stays in
 * L1 while B slivers stream. MC x KC (A block) and KC x NC (B panel) are sized for
 * L2. KCP is the row stride of a row-major A sliver (KC plus a pad that spreads the
 * MR rows over L1 sets). See docs/gemm.md for the measurements behind them. */
#ifndef GEMM_KC
#define GEMM_KC 256
#endif
#ifndef GEMM_MC
#define GEMM_MC 192
#endif
#ifndef GEMM_NC
#define GEMM_NC 1024
#endif
/* A transposed A is read in place when the block is at most GEMM_A_INPLACE_N wide
 * or its stride at most GEMM_A_INPLACE_LDA; a plain B when the block is at most
 * GEMM_B_INPLACE_M tall (gemm_block) */
#ifndef GEMM_A_INPLACE_N
#define GEMM_A_INPLACE_N 256
#endif
#ifndef GEMM_A_INPLACE_LDA
#define GEMM_A_INPLACE_LDA 4096
#endif
#ifndef GEMM_B_INPLACE_M
#define GEMM_B_INPLACE_M 128
#endif
/* chunks per thread in the parallel split (see gemm_f32) */
#ifndef GEMM_CHUNKS_PER_THREAD
#define GEMM_CHUNKS_PER_THREAD 1
#endif
#define KC GEMM_KC
#define MC (GEMM_MC / MR * MR)
#define NC (GEMM_NC / NR * NR)
#define KCP (KC + 16)

const char *gemm_impl_name(void) { return GEMM_ISA; }

/* ---- microkernel ----
 * C[0:MR, 0:NR] (row stride ldc) = (load ? C : 0) + sum_k a(i,k) * b(k, 0:NR), k in
 * order, one FMA per k: a(i,k) = a[i*ars + k*acs], b(k, j) = b[k*bs + j]. */
static inline __attribute__((always_inline)) void kernel_body(int kc, const float *a, ptrdiff_t ars, ptrdiff_t acs,
                                                              const float *b, ptrdiff_t bs, float *c, ptrdiff_t ldc, int load) {
    vf acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) acc[i][v] = load ? vload(c + i * ldc + v * VL) : vzero();
#pragma GCC unroll 4
    for (int k = 0; k < kc; k++) {
        vf bv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) bv[v] = vload(b + k * bs + v * VL);
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            vf av = vbcast(a[i * ars + k * acs]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++) acc[i][v] = vfma(av, bv[v], acc[i][v]);
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) vstore(c + i * ldc + v * VL, acc[i][v]);
}

/* A sliver k-major, a[k*acs + i] (a packed sliver, acs = MR, or a transposed A read
 * in place, acs = lda), or row-major, a[i*ars + k] (packed, ars = KCP, or a plain A
 * read in place, ars = lda). */
static void kernel_ak(int kc, const float *a, ptrdiff_t acs, const float *b, ptrdiff_t bs, float *c, ptrdiff_t ldc, int load) {
    kernel_body(kc, a, 1, acs, b, bs, c, ldc, load);
}
static void kernel_ar(int kc, const float *a, ptrdiff_t ars, const float *b, ptrdiff_t bs, float *c, ptrdiff_t ldc, int load) {
    kernel_body(kc, a, ars, 1, b, bs, c, ldc, load);
}

/* ---- packing ---- */

/* The 16 x 16 block at src (row stride lds; rows >= nrow read as 0, columns >= ncol
 * not read) transposed into dst (row stride ldd); dst rows >= ncol not written, and
 * of each dst row only the first nstore (<= 16) floats. */
static void transpose16(const float *src, ptrdiff_t lds, int nrow, int ncol, float *dst, ptrdiff_t ldd, int nstore) {
#if defined(__AVX512F__)
    __m512 r[16], t[16];
    __mmask16 m = (__mmask16)(ncol >= 16 ? 0xFFFF : (1u << ncol) - 1);
    __mmask16 ms = (__mmask16)(nstore >= 16 ? 0xFFFF : (1u << nstore) - 1);
    for (int i = 0; i < 16; i++) r[i] = i < nrow ? _mm512_maskz_loadu_ps(m, src + i * lds) : _mm512_setzero_ps();
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    /* r[4g+q], lane L (128 bits) = rows 4g..4g+3 of column 4L+q */
    for (int q = 0; q < 4; q++) {
        __m512 x0 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x44), x1 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x44);
        __m512 y0 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xEE), y1 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xEE);
        t[q] = _mm512_shuffle_f32x4(x0, x1, 0x88);      /* column q */
        t[4 + q] = _mm512_shuffle_f32x4(x0, x1, 0xDD);  /* column 4+q */
        t[8 + q] = _mm512_shuffle_f32x4(y0, y1, 0x88);  /* column 8+q */
        t[12 + q] = _mm512_shuffle_f32x4(y0, y1, 0xDD); /* column 12+q */
    }
    for (int j = 0; j < ncol && j < 16; j++) _mm512_mask_storeu_ps(dst + j * ldd, ms, t[j]);
#else
    for (int j = 0; j < ncol && j < 16; j++)
        for (int i = 0; i < nstore && i < 16; i++) dst[j * ldd + i] = i < nrow ? src[i * lds + j] : 0.0f;
#endif
}

/* The kc x nc panel of op(B) at (pc, jc) into NR-wide k-major slivers: sliver s holds
 * columns jc + s*NR .. +NR at Bp[s*kc*NR + k*NR + j], zero beyond nc. */
static void pack_b(int transB, const float *B, ptrdiff_t ldb, int pc, int jc, int kc, int nc, float *Bp) {
    for (int s = 0; s * NR < nc; s++) {
        int j0 = jc + s * NR, nr = nc - s * NR < NR ? nc - s * NR : NR;
        float *dst = Bp + (size_t)s * kc * NR;
        if (!transB) {
            const float *src = B + (ptrdiff_t)pc * ldb + j0;
            for (int k = 0; k < kc; k++, src += ldb, dst += NR) {
                if (nr == NR) {
#pragma GCC unroll 8
                    for (int v = 0; v < NV; v++) vstore(dst + v * VL, vload(src + v * VL));
                } else {
                    for (int j = 0; j < nr; j++) dst[j] = src[j];
                    for (int j = nr; j < NR; j++) dst[j] = 0.0f;
                }
            }
        } else if (NR % 16 == 0) {
            for (int jb = 0; jb < NR; jb += 16) /* rows past nr: zeros, B not touched */
                for (int kb = 0; kb < kc; kb += 16)
                    transpose16(jb < nr ? B + (ptrdiff_t)(j0 + jb) * ldb + pc + kb : B, ldb, nr - jb, kc - kb,
                                dst + (size_t)kb * NR + jb, NR, 16);
        } else {
            for (int j = 0; j < NR; j++) {
                const float *src = B + (ptrdiff_t)(j0 + j) * ldb + pc;
                if (j < nr)
                    for (int k = 0; k < kc; k++) dst[k * NR + j] = src[k];
                else
                    for (int k = 0; k < kc; k++) dst[k * NR + j] = 0.0f;
            }
        }
    }
}

/* The mc x kc block of op(A) at (ic, pc) into MR-row slivers, zero rows beyond mc:
 * from a transposed A (contiguous along i) k-major, Ap[s*MR*kc + k*MR + i]; from a
 * plain A (contiguous along k) row-major, Ap[s*MR*KCP + i*KCP + k]. Both are copies. */
static void pack_a(int transA, const float *A, ptrdiff_t lda, int ic, int pc, int mc, int kc, float *Ap) {
    int nfull = mc / MR, rem = mc - nfull * MR;
    if (transA) { /* row k of the block is contiguous: walk it once, dealing MR-wide pieces */
        ptrdiff_t step = (ptrdiff_t)MR * kc;
        for (int k = 0; k < kc; k++) {
            const float *src = A + (ptrdiff_t)(pc + k) * lda + ic;
            float *dst = Ap + (ptrdiff_t)k * MR;
            for (int s = 0; s < nfull; s++, src += MR, dst += step) {
#pragma GCC unroll 16
                for (int i = 0; i < MR; i++) dst[i] = src[i];
            }
            if (rem)
                for (int i = 0; i < MR; i++) dst[i] = i < rem ? src[i] : 0.0f;
        }
    } else {
        for (int s = 0; s * MR < mc; s++) {
            int mr = s < nfull ? MR : rem;
            float *dst = Ap + (size_t)s * MR * KCP;
            for (int i = 0; i < MR; i++, dst += KCP) {
                if (i < mr) memcpy(dst, A + (ptrdiff_t)(ic + s * MR + i) * lda + pc, (size_t)kc * sizeof(float));
                else memset(dst, 0, (size_t)kc * sizeof(float));
            }
        }
    }
}

/* ---- blocked driver on one block of C ---- */

typedef struct {
    int transA, transB, M, N, K, accumulate;
    const float *A, *B;
    ptrdiff_t lda, ldb, ldc;
    float *C;
} gemm_args;

/* Where the slivers of one rank-kc step come from: sliver s of A at a + s*a_step
 * with stride a_st (acs for a transposed A, ars for a plain one), the last partial
 * one (if any) at a_edge with stride a_edge_st; the same for B with row stride b_st.
 * Packed buffers and matrices read in place look alike through this. */
typedef struct {
    const float *a, *a_edge, *b, *b_edge;
    ptrdiff_t a_step, a_st, a_edge_st, b_step, b_st, b_edge_st;
} slivers;

/* C[ic:ic+mc, jc:jc+nc] (+)= A block x B panel, one rank-kc step. The A sliver stays
 * in L1 while the B slivers of the panel stream past it. */
static void macro_kernel(const gemm_args *g, int ic, int jc, int mc, int nc, int kc, const slivers *p, int load) {
    float *C = g->C + (ptrdiff_t)ic * g->ldc + jc;
    ptrdiff_t ldc = g->ldc;
    for (int ir = 0; ir < mc; ir += MR) {
        int mr = mc - ir < MR ? mc - ir : MR;
        const float *a = mr == MR ? p->a + (ir / MR) * p->a_step : p->a_edge;
        ptrdiff_t ast = mr == MR ? p->a_st : p->a_edge_st;
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = nc - jr < NR ? nc - jr : NR;
            const float *b = nr == NR ? p->b + (jr / NR) * p->b_step : p->b_edge;
            ptrdiff_t bst = nr == NR ? p->b_st : p->b_edge_st;
            float *c = C + (ptrdiff_t)ir * ldc + jr;
            if (mr == MR && nr == NR) {
                if (g->transA) kernel_ak(kc, a, ast, b, bst, c, ldc, load);
                else kernel_ar(kc, a, ast, b, bst, c, ldc, load);
            } else { /* edge tile: through a full-size scratch tile */
                float t[MR * NR] __attribute__((aligned(64)));
                if (load)
                    for (int i = 0; i < mr; i++)
                        for (int j = 0; j < nr; j++) t[i * NR + j] = c[i * ldc + j];
                if (g->transA) kernel_ak(kc, a, ast, b, bst, t, NR, load);
                else kernel_ar(kc, a, ast, b, bst, t, NR, load);
                for (int i = 0; i < mr; i++)
                    for (int j = 0; j < nr; j++) c[i * ldc + j] = t[i * NR + j];
            }
        }
    }
}

/* Per-thread packing buffers, grown on first use and reused: no allocation in the
 * steady state. A thread's buffer is freed when the thread exits (pool threads exit
 * when OpenMP resizes its team); the pthread key exists only for that destructor. */
static pthread_key_t buffer_key[2];
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;
static void buffer_key_init(void) { pthread_key_create(&buffer_key[0], free), pthread_key_create(&buffer_key[1], free); }

/* slot 0: the blocked path's panels and the small-M path's result tiles; slot 1: the
 * small-M path's packed rows (shared with the team while slot 0 is in use) */
static float *thread_buffer_in(int slot, size_t n) {
    static _Thread_local float *buf[2];
    static _Thread_local size_t cap[2];
    if (n > cap[slot]) {
        size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
        float *p = aligned_alloc(64, bytes);
        if (!p) return NULL;
        pthread_once(&buffer_once, buffer_key_init);
        if (pthread_setspecific(buffer_key[slot], p)) { free(p); return NULL; }
        free(buf[slot]);
        buf[slot] = p, cap[slot] = bytes / sizeof(float);
    }
    return buf[slot];
}
static float *thread_buffer(size_t n) { return thread_buffer_in(0, n); }

/* The plain loops, in the same FMA order as the blocked path; used when the packing
 * buffers cannot be allocated. */
static void gemm_naive(const gemm_args *g, int m0, int mb, int n0, int nb) {
    for (int i = m0; i < m0 + mb; i++)
        for (int j = n0; j < n0 + nb; j++) {
            float *c = g->C + (ptrdiff_t)i * g->ldc + j, acc = g->accumulate ? *c : 0.0f;
            for (int k = 0; k < g->K; k++) {
                float a = g->transA ? g->A[(ptrdiff_t)k * g->lda + i] : g->A[(ptrdiff_t)i * g->lda + k];
                float b = g->transB ? g->B[(ptrdiff_t)j * g->ldb + k] : g->B[(ptrdiff_t)k * g->ldb + j];
                acc = __builtin_fmaf(a, b, acc);
            }
            *c = acc;
        }
}

/* C[m0:m0+mb, n0:n0+nb] on the calling thread. A plain A is read in place (its MR
 * rows are MR sequential streams; packing measured slower), a transposed one too
 * unless it is both wide and far-strided (kc rows of lda floats each: past 4096
 * floats the rows alias in the caches and TLB, and packing wins). A plain B is read
 * in place when the block is short (few A slivers to amortise packing over). Partial
 * edge slivers are always packed, so nothing outside the matrices is read. */
static void gemm_block(const gemm_args *g, int m0, int mb, int n0, int nb) {
    int K = g->K, nkb = (K + KC - 1) / KC, kcb = (K + nkb - 1) / nkb; /* balanced depth blocks */
    int a_direct = !g->transA || nb <= GEMM_A_INPLACE_N || g->lda <= GEMM_A_INPLACE_LDA;
    int b_direct = !g->transB && mb <= GEMM_B_INPLACE_M;
    /* column and row blocks of balanced sizes, in whole slivers */
    int nnb = (nb + NC - 1) / NC, ncb = ((nb + nnb - 1) / nnb + NR - 1) / NR * NR;
    int nmb = (mb + MC - 1) / MC, mcb = ((mb + nmb - 1) / nmb + MR - 1) / MR * MR;
    size_t na = a_direct ? (size_t)MR * KCP : (size_t)mcb * KCP, nbp = b_direct ? (size_t)NR * kcb : (size_t)ncb * kcb;
    float *buf = thread_buffer(na + nbp);
    if (!buf) { gemm_naive(g, m0, mb, n0, nb); return; }
    float *Ap = buf, *Bp = buf + na;
    for (int jc = n0; jc < n0 + nb; jc += ncb) {
        int nc = n0 + nb - jc < ncb ? n0 + nb - jc : ncb, nfull = nc / NR * NR;
        for (int pc = 0; pc < K; pc += kcb) {
            int kc = K - pc < kcb ? K - pc : kcb;
            slivers p;
            if (b_direct) {
                p.b = g->B + (ptrdiff_t)pc * g->ldb + jc, p.b_step = NR, p.b_st = g->ldb;
                if (nfull < nc) pack_b(0, g->B, g->ldb, pc, jc + nfull, kc, nc - nfull, Bp);
                p.b_edge = Bp, p.b_edge_st = NR;
            } else {
                pack_b(g->transB, g->B, g->ldb, pc, jc, kc, nc, Bp);
                p.b = Bp, p.b_step = (ptrdiff_t)kc * NR, p.b_st = NR;
                p.b_edge = Bp + (nc / NR) * p.b_step, p.b_edge_st = NR;
            }
            for (int ic = m0; ic < m0 + mb; ic += mcb) {
                int mc = m0 + mb - ic < mcb ? m0 + mb - ic : mcb, mfull = mc / MR * MR;
                ptrdiff_t packed_st = g->transA ? MR : KCP, packed_step = g->transA ? (ptrdiff_t)MR * kc : (ptrdiff_t)MR * KCP;
                if (a_direct) {
                    if (g->transA) p.a = g->A + (ptrdiff_t)pc * g->lda + ic, p.a_step = MR, p.a_st = g->lda;
                    else p.a = g->A + (ptrdiff_t)ic * g->lda + pc, p.a_step = (ptrdiff_t)MR * g->lda, p.a_st = g->lda;
                    if (mfull < mc) pack_a(g->transA, g->A, g->lda, ic + mfull, pc, mc - mfull, kc, Ap);
                    p.a_edge = Ap;
                } else {
                    pack_a(g->transA, g->A, g->lda, ic, pc, mc, kc, Ap);
                    p.a = Ap, p.a_step = packed_step, p.a_st = packed_st;
                    p.a_edge = Ap + (mc / MR) * packed_step;
                }
                p.a_edge_st = packed_st;
                macro_kernel(g, ic, jc, mc, nc, kc, &p, pc > 0 || g->accumulate);
            }
        }
    }
}

/* ---- NT products with few rows (decoding): C (M,N) = A (M,K) W^T, W (N,K) ----
 * The blocked path transpose-packs op(B) = W^T, the big operand, on every call, in a
 * phase of its own that waits on memory. Here the roles swap: the rows of A are
 * packed once (k-major token slivers of up to SW_NV vectors), and W is read in place
 * as the broadcast operand, sw_mr rows at a time, streaming from memory under the
 * FMAs (the next tile's rows are prefetched). Result tiles (W rows x tokens) collect
 * in a per-thread buffer of SW_RB rows and are transposed into C. fma(w, a, c) ==
 * fma(a, w, c) exactly, so every element is the same in-order FMA chain as in the
 * blocked path: the same bits. Tokens go in pieces of SW_MP so that a piece of the
 * packed rows and a task's rows of W stay in L2. */
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#ifndef GEMM_SWAP_M
#define GEMM_SWAP_M 256 /* largest M that takes this path */
#endif
#define SW_MR 16 /* most rows of a tile (sw_mr) */
#ifndef SW_PF_HINT
#define SW_PF_HINT _MM_HINT_T1
#endif
#ifndef SW_PF_DIST
#define SW_PF_DIST 1 /* tiles ahead */
#endif
#ifndef SW_NV
#define SW_NV (VL == 16 ? 4 : 2)
#endif
#define SW_W (SW_NV * VL) /* tokens per full sliver */
#define SW_RB 48          /* W rows per task: a multiple of 6, 8, 12 and 16 */
#define SW_MP 256         /* tokens per piece */

/* c[i*ldc + v*VL ..] = sum_k w[i*ldw + k] * b[k*bs + v*VL ..], i < mr, v < nv, k in
 * order. pf (or NULL): mr rows (stride ldw) to prefetch meanwhile, one line per row
 * every 16 k: the W rows of the next tile, so that memory runs under the FMAs. */
static inline __attribute__((always_inline)) void sw_body(const int mr, const int nv, int K, const float *w, ptrdiff_t ldw,
                                                          const float *b, ptrdiff_t bs, float *c, ptrdiff_t ldc, const float *pf) {
    vf acc[SW_MR][SW_NV];
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) acc[i][v] = vzero();
    for (int k0 = 0; k0 < K; k0 += 16) {
        int k1 = K - k0 < 16 ? K : k0 + 16;
        if (pf)
#pragma GCC unroll 16
            for (int i = 0; i < mr; i++) _mm_prefetch((const char *)(pf + i * ldw + k0), SW_PF_HINT);
#pragma GCC unroll 4
        for (int k = k0; k < k1; k++) {
            vf bv[SW_NV];
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) bv[v] = vload(b + k * bs + v * VL);
#pragma GCC unroll 16
            for (int i = 0; i < mr; i++) {
                vf av = vbcast(w[i * ldw + k]);
#pragma GCC unroll 4
                for (int v = 0; v < nv; v++) acc[i][v] = vfma(av, bv[v], acc[i][v]);
            }
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) vstore(c + i * ldc + v * VL, acc[i][v]);
}

/* rows per tile for a sliver of nv vectors: 24 accumulators, and at least 8
 * independent FMA chains (latency 4 x 2 ports) when the sliver is one vector */
static inline int sw_mr(int nv) {
    if (VL == 16) return nv == 1 ? 16 : nv == 2 ? 12 : nv == 3 ? 8 : 6;
    return nv == 1 ? 8 : 6; /* 16 ymm registers */
}

/* one tile of sw_mr(nv) rows (fewer at the end of W: then one row at a time) */
static void sw_tile(int mr, int nv, int K, const float *w, ptrdiff_t ldw, const float *b, float *c, ptrdiff_t ldc, const float *pf) {
    ptrdiff_t bs = (ptrdiff_t)nv * VL;
    if (mr == sw_mr(nv)) {
        switch (nv) {
#if VL == 16
        case 4: sw_body(6, 4, K, w, ldw, b, bs, c, ldc, pf); return;
        case 3: sw_body(8, 3, K, w, ldw, b, bs, c, ldc, pf); return;
        case 2: sw_body(12, 2, K, w, ldw, b, bs, c, ldc, pf); return;
        default: sw_body(16, 1, K, w, ldw, b, bs, c, ldc, pf); return;
#else
        case 2: sw_body(6, 2, K, w, ldw, b, bs, c, ldc, pf); return;
        default: sw_body(8, 1, K, w, ldw, b, bs, c, ldc, pf); return;
#endif
        }
    }
    for (int i = 0; i < mr; i++) /* the last few rows of W: one at a time */
        switch (nv) {
#if VL == 16
        case 4: sw_body(1, 4, K, w + i * ldw, ldw, b, bs, c + i * ldc, ldc, NULL); break;
        case 3: sw_body(1, 3, K, w + i * ldw, ldw, b, bs, c + i * ldc, ldc, NULL); break;
#endif
        case 2: sw_body(1, 2, K, w + i * ldw, ldw, b, bs, c + i * ldc, ldc, NULL); break;
        default: sw_body(1, 1, K, w + i * ldw, ldw, b, bs, c + i * ldc, ldc, NULL); break;
        }
}

/* Packing: sliver s (tokens s*SW_W..) at Ap + s*SW_W*K, element (k, j) at k*w + j,
 * w its width (SW_W, or the rest of M rounded up to a vector); Mp*K floats in all. */
static inline ptrdiff_t sw_width(int M, int s) { return M - s * SW_W >= SW_W ? SW_W : (M - s * SW_W + VL - 1) / VL * VL; }

void gemm_nt_pack16(float *Ap, int M, int K, int t0, const float *rows, int ldr) {
    int s = t0 / SW_W;
    ptrdiff_t w = sw_width(M, s);
    for (int kb = 0; kb < K; kb += 16)
        transpose16(rows + kb, ldr, M - t0, K - kb, Ap + (size_t)s * SW_W * K + (size_t)kb * w + (t0 - s * SW_W), w, 16);
}

/* Rows [r0, r0 + SW_RB) of o's W (clipped to its N) against every token sliver, into
 * ct (SW_RB x Mp), then transposed into o's C at columns r0.. */
static void sw_rows(const gemm_nt_out *o, int M, int K, const float *Ap, float *ct, ptrdiff_t Mp, int r0) {
    int nr = o->N - r0 < SW_RB ? o->N - r0 : SW_RB;
    for (int p0 = 0; p0 < M; p0 += SW_MP) {
        int p1 = M - p0 < SW_MP ? M : p0 + SW_MP, nfull = (p1 - p0) / SW_W;
        /* full slivers inner, so a tile's rows of W are read from memory once; then the
         * narrower last sliver, which takes its own tile height */
        for (int pass = 0; pass < 2; pass++) {
            int t_lo = p0 + (pass ? nfull * SW_W : 0), t_hi = pass ? p1 : p0 + nfull * SW_W;
            if (t_lo >= t_hi) continue;
            int nv = pass ? (p1 - t_lo + VL - 1) / VL : SW_NV, step = sw_mr(nv);
            for (int rr = 0; rr < nr; rr += step) {
                int mr = nr - rr < step ? nr - rr : step;
                const float *w = o->W + (ptrdiff_t)(r0 + rr) * o->ldw;
                /* on the first pass over these rows, prefetch the next tile's */
                const float *pf = p0 == 0 && (pass == 0 || nfull == 0) && r0 + rr + (SW_PF_DIST + 1) * step <= o->N
                                      ? w + (ptrdiff_t)SW_PF_DIST * step * o->ldw : NULL;
                for (int t0 = t_lo; t0 < t_hi; t0 += SW_W)
                    sw_tile(mr, nv, K, w, o->ldw, Ap + (size_t)t0 * K, ct + (ptrdiff_t)rr * Mp + t0, Mp, t0 == t_lo ? pf : NULL);
            }
        }
    }
    for (int rg = 0; rg < nr; rg += 16)
        for (int tg = 0; tg < M; tg += 16) {
            int nc = M - tg < 16 ? M - tg : 16, ns = nr - rg < 16 ? nr - rg : 16;
            if (!o->Crow) {
                transpose16(ct + (ptrdiff_t)rg * Mp + tg, Mp, nr - rg, M - tg, o->C + (ptrdiff_t)tg * o->ldc + r0 + rg, o->ldc, ns);
            } else { /* scattered rows of C: through a 16 x 16 tile */
                float t[256] __attribute__((aligned(64)));
                transpose16(ct + (ptrdiff_t)rg * Mp + tg, Mp, nr - rg, nc, t, 16, 16);
                for (int j = 0; j < nc; j++) memcpy(o->Crow[tg + j] + r0 + rg, t + 16 * j, sizeof(float) * ns);
            }
        }
}

/* The plain FMA chains of one task, when no result buffer can be had (same bits). */
static void sw_rows_naive(const gemm_nt_out *o, int M, int K, const float *Ap, int r0) {
    int nr = o->N - r0 < SW_RB ? o->N - r0 : SW_RB;
    for (int t = 0; t < M; t++) {
        int s = t / SW_W;
        ptrdiff_t w = sw_width(M, s);
        const float *a = Ap + (size_t)s * SW_W * K + (t - s * SW_W);
        for (int r = r0; r < r0 + nr; r++) {
            const float *wr = o->W + (ptrdiff_t)r * o->ldw;
            float acc = 0;
            for (int k = 0; k < K; k++) acc = __builtin_fmaf(wr[k], a[k * w], acc);
            (o->Crow ? o->Crow[t] : o->C + (ptrdiff_t)t * o->ldc)[r] = acc;
        }
    }
}

static int sw_units(int n_out, const gemm_nt_out *out) {
    int u = 0;
    for (int i = 0; i < n_out; i++) u += (out[i].N + SW_RB - 1) / SW_RB;
    return u;
}

static void sw_unit(int M, int K, const float *Ap, int n_out, const gemm_nt_out *out, int u) {
    int i = 0;
    while (u >= (out[i].N + SW_RB - 1) / SW_RB) u -= (out[i].N + SW_RB - 1) / SW_RB, i++;
    ptrdiff_t Mp = (M + VL - 1) / VL * VL;
    float *ct = thread_buffer((size_t)SW_RB * Mp);
    if (ct) sw_rows(&out[i], M, K, Ap, ct, Mp, u * SW_RB);
    else sw_rows_naive(&out[i], M, K, Ap, u * SW_RB);
}

void gemm_nt_run(int M, int K, const float *Ap, int n_out, const gemm_nt_out *out, int team) {
    if (M <= 0) return;
    int nu = sw_units(n_out, out);
    if (team) {
#pragma omp for schedule(dynamic, 1) nowait
        for (int u = 0; u < nu; u++) sw_unit(M, K, Ap, n_out, out, u);
    } else {
        for (int u = 0; u < nu; u++) sw_unit(M, K, Ap, n_out, out, u);
    }
}

/* gemm_f32's way in: one team of nt threads (or the calling thread) */
static void gemm_nt_small(const gemm_args *g, int nt) {
    int M = g->M, K = g->K;
    gemm_nt_out o = {g->B, g->N, (int)g->ldb, g->C, (int)g->ldc, NULL};
    float *Ap = thread_buffer_in(1, gemm_nt_packed_size(M, K));
    if (!Ap) { gemm_naive(g, 0, M, 0, g->N); return; }
    int nu = sw_units(1, &o);
    if (nt > nu) nt = nu;
    if (nt <= 1) { /* no worksharing constructs: this may run inside someone's parallel region */
        gemm_nt_pack(Ap, M, K, g->A, (int)g->lda, 0);
        gemm_nt_run(M, K, Ap, 1, &o, 0);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        gemm_nt_pack(Ap, M, K, g->A, (int)g->lda, 1);
#pragma omp barrier
        gemm_nt_run(M, K, Ap, 1, &o, 1);
    }
}
#else
#define GEMM_SWAP_M 0
/* without SIMD: the same contract through plain FMA chains */
void gemm_nt_pack16(float *Ap, int M, int K, int t0, const float *rows, int ldr) {
    for (int i = 0; i < 16 && t0 + i < ((M + 15) / 16 * 16); i++)
        for (int k = 0; k < K; k++) Ap[(size_t)(t0 + i) * K + k] = t0 + i < M ? rows[(ptrdiff_t)i * ldr + k] : 0.0f;
}
static void plain_row(int M, int K, const float *Ap, const gemm_nt_out *o, int r) {
    for (int t = 0; t < M; t++) {
        const float *w = o->W + (ptrdiff_t)r * o->ldw, *a = Ap + (size_t)t * K;
        float acc = 0;
        for (int k = 0; k < K; k++) acc = vfma(w[k], a[k], acc); /* as the plain-C microkernel rounds */
        (o->Crow ? o->Crow[t] : o->C + (ptrdiff_t)t * o->ldc)[r] = acc;
    }
}
void gemm_nt_run(int M, int K, const float *Ap, int n_out, const gemm_nt_out *out, int team) {
    for (int i = 0; i < n_out; i++) {
        if (team) {
#pragma omp for schedule(static) nowait
            for (int r = 0; r < out[i].N; r++) plain_row(M, K, Ap, &out[i], r);
        } else {
            for (int r = 0; r < out[i].N; r++) plain_row(M, K, Ap, &out[i], r);
        }
    }
}
#endif

void gemm_nt_pack(float *Ap, int M, int K, const float *A, int lda, int team) {
    if (team) {
#pragma omp for schedule(static) nowait
        for (int t0 = 0; t0 < M; t0 += 16) gemm_nt_pack16(Ap, M, K, t0, A + (ptrdiff_t)t0 * lda, lda);
    } else {
        for (int t0 = 0; t0 < M; t0 += 16) gemm_nt_pack16(Ap, M, K, t0, A + (ptrdiff_t)t0 * lda, lda);
    }
}

size_t gemm_nt_packed_size(int M, int K) { return (size_t)(M + 15) / 16 * 16 * (size_t)(K > 0 ? K : 1); }

void gemm_f32(int transA, int transB, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
              float *C, int ldc, int accumulate, int threads) {
    (void)threads; /* without OpenMP */
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        if (!accumulate)
            for (int i = 0; i < M; i++) memset(C + (ptrdiff_t)i * ldc, 0, (size_t)N * sizeof(float));
        return;
    }
    gemm_args g = {transA, transB, M, N, K, accumulate, A, B, lda, ldb, ldc, C};
    int nt = 1;
#if GEMM_SWAP_M > 0
    if (!transA && transB && !accumulate && M <= GEMM_SWAP_M && threads == GEMM_PARALLEL) {
#ifdef _OPENMP /* worth a team when W is big, however few the rows */
        if (!omp_in_parallel() && (double)(M + 16) * N * K >= 1 << 21) nt = omp_get_max_threads();
#endif
        gemm_nt_small(&g, nt);
        return;
    }
#endif
#ifdef _OPENMP
    if (threads == GEMM_PARALLEL && !omp_in_parallel() && (double)M * N * K >= 1 << 21) nt = omp_get_max_threads();
#endif
    if (nt <= 1) { gemm_block(&g, 0, M, 0, N); return; }
    int nchunks = nt * GEMM_CHUNKS_PER_THREAD;
    /* Chunks of the larger side (the other operand's packing is what each chunk
     * repeats), in whole MR / NR units. One per thread measured best on a quiet
     * machine; more chunks (taken dynamically) cost 2-3% of repeated packing each
     * doubling and did not help on a loaded one, where the join waits anyway. */
    int split_n = N >= M;
    int units = split_n ? (N + NR - 1) / NR : (M + MR - 1) / MR, unit = split_n ? NR : MR;
    if (nchunks > units) nchunks = units;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int c = 0; c < nchunks; c++) {
        int lo = (int)((long)units * c / nchunks) * unit, hi = (int)((long)units * (c + 1) / nchunks) * unit;
        if (split_n) gemm_block(&g, 0, M, lo, (hi < N ? hi : N) - lo);
        else gemm_block(&g, lo, (hi < M ? hi : M) - lo, 0, N);
    }
}
