/* gemm.h: single-precision GEMM, row-major: C (M,N) = op(A) @ op(B) (+ C when
 * accumulate), op(X) = X or X^T. The one primitive every matmul in rlvr goes through;
 * rlvr's own blocked kernel (gemm.c, design and numbers in docs/gemm.md).
 * GEMM_PARALLEL splits the output over OpenMP threads; GEMM_SERIAL runs on the
 * calling thread (for use inside a parallel region, e.g. per attention head).
 *
 * Determinism: each C element is one in-order chain of fused multiply-adds over
 * k = 0..K-1, started from 0 (or from C when accumulating), so results are
 * bit-identical for any thread count and between GEMM_SERIAL and GEMM_PARALLEL. */
#ifndef RLVR_GEMM_H
#define RLVR_GEMM_H
#include <stddef.h>

enum { GEMM_SERIAL = 0, GEMM_PARALLEL = 1 };

/* transA: A is stored (K,M) and used transposed; else stored (M,K). transB: B is
 * stored (N,K) and used transposed; else (K,N). lda/ldb/ldc are row strides in floats.
 * Without accumulate C is only written, never read. C must not overlap A or B.
 * Columns of C beyond N are never touched. Thread-safe; allocates a per-thread
 * packing buffer on first use (falls back to plain loops if that fails). */
void gemm_f32(int transA, int transB, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
              float *C, int ldc, int accumulate, int threads);

/* ---- few-row NT products for decoding, in two steps a team can share ----
 * C_i (M, N_i) = A (M, K) @ W_i^T for outputs i that share A (W_i stored (N_i, K)):
 * A is packed once into Ap (gemm_nt_packed_size floats), then W_i is streamed from
 * memory against it (docs/gemm.md, "few rows"). Any M; every element is the same
 * in-order FMA chain as in gemm_f32, so the same bits.
 * team = 1: every thread of an OpenMP parallel region calls it and they share the
 * work (orphaned `omp for nowait`): it ends WITHOUT a barrier, the caller
 * synchronises (omp barrier, or kernels/team.h) before reading the results; Ap is
 * shared by the team. team = 0: the calling thread does all of it. */
typedef struct {
    const float *W;     /* (N, ldw) row-major; row r is output column r */
    int N, ldw;
    float *C;           /* (M, ldc), or: */
    int ldc;
    float *const *Crow; /* when not NULL, output row t goes to Crow[t] (C unused) */
} gemm_nt_out;

size_t gemm_nt_packed_size(int M, int K);
/* packs rows t0..t0+15 of A (t0 a multiple of 16; rows[i*ldr + k] is A[t0+i][k],
 * rows at or past M are not read) into Ap; one thread */
void gemm_nt_pack16(float *Ap, int M, int K, int t0, const float *rows, int ldr);
void gemm_nt_pack(float *Ap, int M, int K, const float *A, int lda, int team);
void gemm_nt_run(int M, int K, const float *Ap, int n_out, const gemm_nt_out *out, int team);

/* Name of the implementation in use: "rlvr-avx512", "rlvr-avx2" or "rlvr-c" (the
 * instruction set gemm.c was compiled for), for reports. */
const char *gemm_impl_name(void);
#endif
