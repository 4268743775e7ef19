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
 * not read) transposed into dst (row stride ldd); dst rows >= ncol not written. */
static void transpose16(const float *src, ptrdiff_t lds, int nrow, int ncol, float *dst, ptrdiff_t ldd) {
#if defined(__AVX512F__)
    __m512 r[16], t[16];
    __mmask16 m = (__mmask16)(ncol >= 16 ? 0xFFFF : (1u << ncol) - 1);
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
    for (int j = 0; j < ncol && j < 16; j++) _mm512_storeu_ps(dst + j * ldd, t[j]);
#else
    for (int j = 0; j < ncol && j < 16; j++)
        for (int i = 0; i < 16; i++) dst[j * ldd + i] = i < nrow ? src[i * lds + j] : 0.0f;
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
                                dst + (size_t)kb * NR + jb, NR);
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
static pthread_key_t buffer_key;
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;
static void buffer_key_init(void) { pthread_key_create(&buffer_key, free); }

static float *thread_buffer(size_t n) {
    static _Thread_local float *buf;
    static _Thread_local size_t cap;
    if (n > cap) {
        size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
        float *p = aligned_alloc(64, bytes);
        if (!p) return NULL;
        pthread_once(&buffer_once, buffer_key_init);
        if (pthread_setspecific(buffer_key, p)) { free(p); return NULL; }
        free(buf);
        buf = p, cap = bytes / sizeof(float);
    }
    return buf;
}

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
