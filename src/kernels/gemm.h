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

enum { GEMM_SERIAL = 0, GEMM_PARALLEL = 1 };

/* transA: A is stored (K,M) and used transposed; else stored (M,K). transB: B is
 * stored (N,K) and used transposed; else (K,N). lda/ldb/ldc are row strides in floats.
 * Without accumulate C is only written, never read. C must not overlap A or B.
 * Columns of C beyond N are never touched. Thread-safe; allocates a per-thread
 * packing buffer on first use (falls back to plain loops if that fails). */
void gemm_f32(int transA, int transB, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
              float *C, int ldc, int accumulate, int threads);

/* Name of the implementation in use: "rlvr-avx512", "rlvr-avx2" or "rlvr-c" (the
 * instruction set gemm.c was compiled for), for reports. */
const char *gemm_impl_name(void);
#endif
