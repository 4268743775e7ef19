/* gemm.h: single-precision GEMM, row-major: C (M,N) = op(A) @ op(B) (+ C when
 * accumulate), op(X) = X or X^T. The one primitive every matmul in rlvr goes through.
 * GEMM_PARALLEL splits the output over OpenMP threads; GEMM_SERIAL runs on the
 * calling thread (for use inside a parallel region, e.g. per attention head). */
#ifndef RLVR_GEMM_H
#define RLVR_GEMM_H

enum { GEMM_SERIAL = 0, GEMM_PARALLEL = 1 };

/* transA: A is stored (K,M) and used transposed; else stored (M,K). transB: B is
 * stored (N,K) and used transposed; else (K,N). lda/ldb/ldc are row strides in floats. */
void gemm_f32(int transA, int transB, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
              float *C, int ldc, int accumulate, int threads);

/* Name of the implementation in use ("rlvr-avx512", "openblas", ...), for reports. */
const char *gemm_impl_name(void);
#endif
