/* test_gemm: gemm_f32 against a naive double-accumulating reference on many shapes
 * (edges 1..70, blocking boundaries, padded strides, every transpose combination,
 * accumulate on and off), bit-exactness against the in-order fmaf chain it promises,
 * and bit-identical results for 1 vs 2 threads and GEMM_SERIAL vs GEMM_PARALLEL. */
#include <stdint.h>
#include "check.h"
#include "kernels/gemm.h"
#ifdef _OPENMP
#include <omp.h>
#endif

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static float frand(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (float)((rs >> 40) * (2.0 / 16777216.0) - 1.0); }
static float *fvec(size_t n) { float *p = malloc(n * sizeof *p + 4); for (size_t i = 0; i < n; i++) p[i] = frand(); return p; }

/* op(A)(i,k) and op(B)(k,j) for row-major storage, as gemm.h defines them */
static float opA(int tA, const float *A, int lda, int i, int k) { return tA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]; }
static float opB(int tB, const float *B, int ldb, int k, int j) { return tB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]; }

typedef struct { int tA, tB, M, N, K, lda, ldb, ldc, acc; } shape;

/* Runs one shape: checks the result against the double reference (atol + rtol*|ref|,
 * both growing with sqrt(K)), that C outside the M x N window is untouched, and, on
 * FMA builds, bit-exactness against the in-order fmaf chain. Returns 0 when all hold. */
static int run_shape(shape s, int threads) {
    int ar = s.tA ? s.K : s.M, br = s.tB ? s.N : s.K; /* stored rows of A and B */
    float *A = fvec((size_t)ar * s.lda), *B = fvec((size_t)br * s.ldb), *C = fvec((size_t)s.M * s.ldc);
    float *C0 = malloc((size_t)s.M * s.ldc * sizeof(float)), *ref = malloc((size_t)s.M * s.N * sizeof(float));
    float *chain = malloc((size_t)s.M * s.N * sizeof(float));
    memcpy(C0, C, (size_t)s.M * s.ldc * sizeof(float));
    for (int i = 0; i < s.M; i++)
        for (int j = 0; j < s.N; j++) {
            double d = s.acc ? C0[(size_t)i * s.ldc + j] : 0.0;
            float f = s.acc ? C0[(size_t)i * s.ldc + j] : 0.0f;
            for (int k = 0; k < s.K; k++) {
                float a = opA(s.tA, A, s.lda, i, k), b = opB(s.tB, B, s.ldb, k, j);
                d += (double)a * b;
                f = fmaf(a, b, f);
            }
            ref[(size_t)i * s.N + j] = (float)d;
            chain[(size_t)i * s.N + j] = f;
        }
    if (!s.acc) /* C's old values must not be read: poison them */
        for (int i = 0; i < s.M; i++)
            for (int j = 0; j < s.N; j++) C[(size_t)i * s.ldc + j] = NAN;
    gemm_f32(s.tA, s.tB, s.M, s.N, s.K, A, s.lda, B, s.ldb, C, s.ldc, s.acc, threads);
    float *got = malloc((size_t)s.M * s.N * sizeof(float));
    int outside = 0;
    for (int i = 0; i < s.M; i++) {
        memcpy(got + (size_t)i * s.N, C + (size_t)i * s.ldc, (size_t)s.N * sizeof(float));
        for (int j = s.N; j < s.ldc; j++) outside += C[(size_t)i * s.ldc + j] != C0[(size_t)i * s.ldc + j];
    }
    char what[128];
    snprintf(what, sizeof what, "gemm tA=%d tB=%d M=%d N=%d K=%d ld=%d,%d,%d acc=%d", s.tA, s.tB, s.M, s.N, s.K, s.lda, s.ldb, s.ldc, s.acc);
    double tol = 1e-5 * sqrt((double)s.K + 1);
    int bad = check_arrays(what, got, ref, (size_t)s.M * s.N, tol, tol);
    CHECK(outside == 0, "%s: %d elements outside the N columns were written", what, outside);
#if defined(__FMA__) || defined(FP_FAST_FMAF)
    int exact = memcmp(got, chain, (size_t)s.M * s.N * sizeof(float)) == 0;
    CHECK(exact, "%s: not bit-identical to the in-order fmaf chain", what);
    bad += !exact;
#endif
    free(A); free(B); free(C); free(C0); free(ref); free(chain); free(got);
    return bad + outside;
}

static shape mk(int tA, int tB, int M, int N, int K, int pad, int acc) {
    shape s = {tA, tB, M, N, K, 0, 0, 0, acc};
    s.lda = (tA ? M : K) + pad, s.ldb = (tB ? K : N) + pad, s.ldc = N + pad;
    return s;
}

/* the degenerate and edge sizes, all transposes, both accumulate modes */
static void test_edges(void) {
    static const int dims[][3] = {{1, 1, 1}, {1, 37, 1}, {37, 1, 1}, {1, 1, 37}, {2, 3, 4}, {6, 64, 1}, {7, 65, 17},
                                  {13, 37, 300}, {5, 129, 257}, {65, 63, 16}, {70, 70, 70}, {12, 32, 33}, {1, 200, 64}};
    for (int t = 0; t < 4; t++)
        for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
            for (int acc = 0; acc < 2; acc++)
                run_shape(mk(t >> 1, t & 1, dims[d][0], dims[d][1], dims[d][2], (int)(d % 3) * 5, acc), GEMM_SERIAL);
}

/* random odd shapes 1..70 with random padding of the strides */
static void test_random_small(void) {
    for (int it = 0; it < 160; it++) {
        int M = 1 + (int)((frand() + 1) * 35), N = 1 + (int)((frand() + 1) * 35), K = 1 + (int)((frand() + 1) * 35);
        int pad = (int)((frand() + 1) * 4);
        run_shape(mk(it & 1, (it >> 1) & 1, M | 1, N | 1, K | 1, pad, (it >> 2) & 1), it % 3 ? GEMM_SERIAL : GEMM_PARALLEL);
    }
}

/* shapes that cross the cache-blocking boundaries (K > KC, M > MC, N > NC) and the
 * parallel split, each transpose combination */
static void test_blocking(void) {
    for (int t = 0; t < 4; t++) {
        run_shape(mk(t >> 1, t & 1, 203, 1100, 300, 3, t & 1), GEMM_PARALLEL);
        run_shape(mk(t >> 1, t & 1, 401, 67, 530, 0, !(t & 1)), GEMM_PARALLEL);
        run_shape(mk(t >> 1, t & 1, 64, 192, 64, 8, 1), GEMM_SERIAL);
        run_shape(mk(t >> 1, t & 1, 203, 300, 70, 4100, t & 1), GEMM_SERIAL); /* lda > 4096: A packed */
    }
}

/* K = 0: C = 0, or untouched when accumulating; M = 0 or N = 0: nothing happens */
static void test_empty(void) {
    float C[6] = {1, 2, 3, 4, 5, 6}, A[1] = {7}, B[1] = {8};
    gemm_f32(0, 0, 2, 3, 0, A, 1, B, 3, C, 3, 1, GEMM_PARALLEL);
    CHECK(C[0] == 1 && C[5] == 6, "K=0 accumulate changed C");
    gemm_f32(0, 0, 2, 3, 0, A, 1, B, 3, C, 3, 0, GEMM_PARALLEL);
    CHECK(C[0] == 0 && C[5] == 0, "K=0 without accumulate must zero C");
    C[0] = 9;
    gemm_f32(0, 0, 0, 3, 4, A, 1, B, 3, C, 3, 0, GEMM_PARALLEL);
    gemm_f32(0, 0, 2, 0, 4, A, 1, B, 3, C, 3, 0, GEMM_PARALLEL);
    CHECK(C[0] == 9, "M=0 or N=0 touched C");
}

/* bit-identical results for 1 and 2 threads and for SERIAL vs PARALLEL */
static void test_determinism(void) {
    static const int dims[][3] = {{1024, 576, 576}, {576, 192, 1024}, {300, 2000, 100}};
    for (int t = 0; t < 4; t++) {
        int M = dims[t % 3][0], N = dims[t % 3][1], K = dims[t % 3][2], tA = t >> 1, tB = t & 1;
        float *A = fvec((size_t)M * K), *B = fvec((size_t)N * K), *C0 = fvec((size_t)M * N);
        float *C[4];
        for (int r = 0; r < 4; r++) { C[r] = malloc((size_t)M * N * sizeof(float)); memcpy(C[r], C0, (size_t)M * N * sizeof(float)); }
#ifdef _OPENMP
        int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        gemm_f32(tA, tB, M, N, K, A, tA ? M : K, B, tB ? K : N, C[0], N, 1, GEMM_PARALLEL);
        omp_set_num_threads(2);
        gemm_f32(tA, tB, M, N, K, A, tA ? M : K, B, tB ? K : N, C[1], N, 1, GEMM_PARALLEL);
        omp_set_num_threads(3);
        gemm_f32(tA, tB, M, N, K, A, tA ? M : K, B, tB ? K : N, C[2], N, 1, GEMM_PARALLEL);
        omp_set_num_threads(saved);
#else
        for (int r = 0; r < 3; r++) gemm_f32(tA, tB, M, N, K, A, tA ? M : K, B, tB ? K : N, C[r], N, 1, GEMM_PARALLEL);
#endif
        gemm_f32(tA, tB, M, N, K, A, tA ? M : K, B, tB ? K : N, C[3], N, 1, GEMM_SERIAL);
        size_t bytes = (size_t)M * N * sizeof(float);
        CHECK(memcmp(C[0], C[1], bytes) == 0, "tA=%d tB=%d %dx%dx%d: 1 vs 2 threads differ", tA, tB, M, N, K);
        CHECK(memcmp(C[0], C[2], bytes) == 0, "tA=%d tB=%d %dx%dx%d: 1 vs 3 threads differ", tA, tB, M, N, K);
        CHECK(memcmp(C[0], C[3], bytes) == 0, "tA=%d tB=%d %dx%dx%d: SERIAL vs PARALLEL differ", tA, tB, M, N, K);
        for (int r = 0; r < 4; r++) free(C[r]);
        free(A); free(B); free(C0);
    }
}

/* SERIAL calls from inside a parallel region (per attention head) agree with the
 * same calls made outside it */
static void test_inside_parallel(void) {
    enum { NH = 8, T = 96, D = 64 };
    float *Q = fvec((size_t)NH * T * D), *Kt = fvec((size_t)NH * T * D), *S1 = malloc(sizeof(float) * NH * T * T), *S2 = malloc(sizeof(float) * NH * T * T);
#pragma omp parallel for
    for (int h = 0; h < NH; h++) gemm_f32(0, 1, T, T, D, Q + h * D, NH * D, Kt + h * D, NH * D, S1 + (size_t)h * T * T, T, 0, GEMM_SERIAL);
    for (int h = 0; h < NH; h++) gemm_f32(0, 1, T, T, D, Q + h * D, NH * D, Kt + h * D, NH * D, S2 + (size_t)h * T * T, T, 0, GEMM_PARALLEL);
    CHECK(memcmp(S1, S2, sizeof(float) * NH * T * T) == 0, "per-head SERIAL in a parallel region differs from PARALLEL");
    free(Q); free(Kt); free(S1); free(S2);
}

/* the few-row NT path (decoding: M up to a few hundred rows, W = B read in place):
 * every M edge of the token slivers, N edges of the 48-row tasks and of the tile
 * heights, K edges; exact against the fmaf chain, C outside N untouched */
static void test_few_rows(void) {
    static const int Ms[] = {1, 2, 15, 16, 17, 33, 63, 64, 65, 100, 128, 129, 200, 256};
    static const int NKs[][2] = {{1, 1}, {5, 17}, {47, 64}, {48, 3}, {49, 100}, {97, 576}, {300, 33}};
    for (size_t i = 0; i < sizeof Ms / sizeof Ms[0]; i++)
        for (size_t j = 0; j < sizeof NKs / sizeof NKs[0]; j++)
            run_shape(mk(0, 1, Ms[i], NKs[j][0], NKs[j][1], (int)((i + j) % 3) * 3, 0), GEMM_PARALLEL);
}

/* gemm_nt_run: several outputs sharing one packing of A, any M (here past the
 * 256-row pieces), shared by a team or on one thread with scattered output rows,
 * with the bits of gemm_f32 */
static void test_nt_team(void) {
    static const int Ms[] = {1, 77, 300, 640};
    enum { K = 200, N0 = 96, N1 = 40, N2 = 1 };
    for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++) {
        int M = Ms[mi];
        float *A = fvec((size_t)M * (K + 3)), *W = fvec((size_t)(N0 + N1 + N2) * K);
        float *C = malloc(sizeof(float) * M * (N0 + N1 + N2)), *R = malloc(sizeof(float) * M * (N0 + N1 + N2));
        float *Ap = malloc(sizeof(float) * gemm_nt_packed_size(M, K));
        gemm_nt_out o[3] = {{W, N0, K, C, N0 + N1 + N2, NULL}, {W + (size_t)N0 * K, N1, K, C + N0, N0 + N1 + N2, NULL},
                            {W + (size_t)(N0 + N1) * K, N2, K, C + N0 + N1, N0 + N1 + N2, NULL}};
#pragma omp parallel
        {
            gemm_nt_pack(Ap, M, K, A, K + 3, 1);
#pragma omp barrier
            gemm_nt_run(M, K, Ap, 3, o, 1);
        }
        gemm_f32(0, 1, M, N0 + N1 + N2, K, A, K + 3, W, K, R, N0 + N1 + N2, 0, GEMM_SERIAL);
        CHECK(memcmp(C, R, sizeof(float) * M * (N0 + N1 + N2)) == 0, "gemm_nt_run (team) M=%d differs from gemm_f32", M);
        /* one thread, output rows scattered in reverse order through Crow */
        float **rows = malloc(sizeof(float *) * M), *C2 = malloc(sizeof(float) * M * N0);
        for (int t = 0; t < M; t++) rows[t] = C2 + (size_t)(M - 1 - t) * N0;
        gemm_nt_out sc = {W, N0, K, NULL, 0, rows};
        gemm_nt_pack(Ap, M, K, A, K + 3, 0);
        gemm_nt_run(M, K, Ap, 1, &sc, 0);
        int same = 1;
        for (int t = 0; t < M; t++) same &= memcmp(C2 + (size_t)(M - 1 - t) * N0, R + (size_t)t * (N0 + N1 + N2), sizeof(float) * N0) == 0;
        CHECK(same, "gemm_nt_run (one thread, Crow) M=%d differs from gemm_f32", M);
        free(A); free(W); free(C); free(R); free(Ap); free(rows); free(C2);
    }
}

int main(void) {
    printf("gemm implementation: %s\n", gemm_impl_name());
    RUN(test_few_rows);
    RUN(test_nt_team);
    RUN(test_empty);
    RUN(test_edges);
    RUN(test_random_small);
    RUN(test_blocking);
    RUN(test_determinism);
    RUN(test_inside_parallel);
    return check_finish("test_gemm");
}
