/* bench_gemm: gemm_f32 on the shapes of a SmolLM2-135M training step (N = 1024
 * tokens: forward, backward-data and weight-gradient GEMMs of every linear layer,
 * GEMM_PARALLEL) and of per-head attention (GEMM_SERIAL, one independent GEMM per
 * thread inside a parallel region, as attention runs them), against OpenBLAS measured
 * back to back on the same data. Prints GFLOP/s, % of the FMA peak measured here
 * (the bench_train method) and the ratio. The machine is shared and noisy: each
 * number is the fastest single call over interleaved trials; compare ratios.
 *   build/bench/bench_gemm [trials=10] [filter=substring]
 * OPENBLAS_CORETYPE=SKYLAKEX build/bench/bench_gemm shows OpenBLAS's right kernels. */
#include <stdio.h>
#include "peak.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "kernels/gemm.h"
#ifdef RLVR_HAVE_BLAS
#include <cblas.h>
#endif

#define now bench_now

static int n_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static double fma_peak_gflops(int threads) { return bench_fma_peak_gflops(threads, 4000000, 10); }

/* one GEMM: storage dims follow from the shape; lda/ldb/ldc may be padded (per-head
 * slices of (N, H*D) activations) */
typedef struct {
    const char *name;
    int tA, tB, M, N, K, lda, ldb, ldc, acc, serial;
} shape;

typedef struct { float *A, *B, *C; } operands;

static void run_ours(const shape *s, const operands *o) {
    gemm_f32(s->tA, s->tB, s->M, s->N, s->K, o->A, s->lda, o->B, s->ldb, o->C, s->ldc, s->acc, s->serial ? GEMM_SERIAL : GEMM_PARALLEL);
}
#ifdef RLVR_HAVE_BLAS
static void run_blas(const shape *s, const operands *o) {
    cblas_sgemm(CblasRowMajor, s->tA ? CblasTrans : CblasNoTrans, s->tB ? CblasTrans : CblasNoTrans, s->M, s->N, s->K, 1.0f,
                o->A, s->lda, o->B, s->ldb, s->acc ? 1.0f : 0.0f, o->C, s->ldc);
}
#endif
typedef void (*gemm_fn)(const shape *, const operands *);

/* the fastest of `reps` calls of fn on shape s, in seconds. A parallel shape runs on
 * the whole machine; for a serial shape every thread runs its own GEMMs on its own
 * operands at the same time, as attention does, each timing its own calls, and the
 * result is the mean of the threads' fastest calls (the flop count is then multiplied
 * by the thread count). Single calls are timed: on a shared machine a call that no
 * other process interrupted is the one that measures the code. */
static double time_calls(gemm_fn fn, const shape *s, operands *ops, int reps) {
    if (s->serial) {
        double sum = 0;
        int nt = 1;
#pragma omp parallel reduction(+ : sum)
        {
            int t = 0;
#ifdef _OPENMP
            t = omp_get_thread_num();
#pragma omp single
            nt = omp_get_num_threads();
#endif
            double best = 1e30;
            for (int r = 0; r < reps; r++) {
                double t0 = now();
                fn(s, &ops[t]);
                double dt = now() - t0;
                if (dt < best) best = dt;
            }
            sum += best;
        }
        return sum / nt;
    }
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        fn(s, &ops[0]);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

static float *filled(size_t n, unsigned seed) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++) { seed = seed * 1664525u + 1013904223u; p[i] = (float)(seed >> 8) / 16777216.0f - 0.5f; }
    return p;
}

int main(int argc, char **argv) {
    int trials = 10;
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        if (sscanf(argv[i], "trials=%d", &trials) == 1) continue;
        if (!strncmp(argv[i], "filter=", 7)) filter = argv[i] + 7;
    }
    int T = n_threads();
    enum { NT = 1024, D = 64, HD = 576, KD = 192 };
    /* linear layers (IC, OC): attention q/o, k/v, MLP up/gate, MLP down, lm head */
    static const int lin[][2] = {{576, 576}, {576, 192}, {576, 1536}, {1536, 576}, {576, 49152}};
    shape shapes[64];
    int ns = 0;
    static char names[64][48];
    for (int l = 0; l < 5; l++) {
        int IC = lin[l][0], OC = lin[l][1];
        snprintf(names[ns], 48, "fwd  %4dx%5dx%5d NT", NT, OC, IC);
        shapes[ns] = (shape){names[ns], 0, 1, NT, OC, IC, IC, IC, OC, 0, 0}; ns++;
        snprintf(names[ns], 48, "dIn  %4dx%5dx%5d NN+", NT, IC, OC);
        shapes[ns] = (shape){names[ns], 0, 0, NT, IC, OC, OC, IC, IC, 1, 0}; ns++;
        snprintf(names[ns], 48, "dW   %5dx%4dx%5d TN+", OC, IC, NT);
        shapes[ns] = (shape){names[ns], 1, 0, OC, IC, NT, OC, IC, IC, 1, 0}; ns++;
    }
    /* attention per (sequence, head), query blocks of 64 (cpu.c), nk keys; q/out rows
     * have stride H*D, k/v rows KV*D, scores nk */
    static const int nks[] = {256, 1024};
    for (int t = 0; t < 2; t++) {
        int nk = nks[t];
        snprintf(names[ns], 48, "S=QK' %3dx%4dx%4d NT  s", 64, nk, D);
        shapes[ns] = (shape){names[ns], 0, 1, 64, nk, D, HD, KD, nk, 0, 1}; ns++;
        snprintf(names[ns], 48, "O=PV  %3dx%4dx%4d NN  s", 64, D, nk);
        shapes[ns] = (shape){names[ns], 0, 0, 64, D, nk, nk, KD, HD, 0, 1}; ns++;
        snprintf(names[ns], 48, "dV=P'dO %4dx%3dx%3d TN+ s", nk, D, 64);
        shapes[ns] = (shape){names[ns], 1, 0, nk, D, 64, nk, HD, KD, 1, 1}; ns++;
    }
    snprintf(names[ns], 48, "S=QK' %4dx%4dx%4d NT  s", 256, 256, D);
    shapes[ns] = (shape){names[ns], 0, 1, 256, 256, D, HD, KD, 256, 0, 1}; ns++;

    double peak = fma_peak_gflops(T);
#ifdef RLVR_HAVE_BLAS
    const char *core = openblas_get_corename();
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("bench_gemm: %s vs OpenBLAS (core %s%s%s), %d threads, best single call of %d trials\n", gemm_impl_name(), core,
           ct ? ", OPENBLAS_CORETYPE=" : "", ct ? ct : "", T, trials);
#else
    printf("bench_gemm: %s, %d threads, best single call of %d trials (no OpenBLAS to compare)\n", gemm_impl_name(), T, trials);
#endif
    double sum_ours = 0, sum_blas = 0, g_ours[64], g_blas[64];
    int done[64] = {0};
    for (int i = 0; i < ns; i++) {
        shape *s = &shapes[i];
        if (filter && !strstr(s->name, filter)) continue;
        double p = fma_peak_gflops(T);
        if (p > peak) peak = p;
        int nops = s->serial ? T : 1;
        operands ops[64];
        size_t na = (size_t)(s->tA ? s->K : s->M) * s->lda, nb = (size_t)(s->tB ? s->N : s->K) * s->ldb, nc = (size_t)s->M * s->ldc;
        for (int t = 0; t < nops; t++) ops[t] = (operands){filled(na, 1 + t), filled(nb, 7 + t), filled(nc, 13 + t)};
        double flops = 2.0 * s->M * s->N * s->K * nops;
        double best_ours = 1e30, best_blas = 1e30;
        /* warm-up (buffers, pages, threads), then calls per trial for about 5 ms each */
        double t1 = time_calls(run_ours, s, ops, 2);
        int reps_ours = t1 > 0.005 ? 1 : (int)(0.005 / t1) + 1, reps_blas = 1;
#ifdef RLVR_HAVE_BLAS
        t1 = time_calls(run_blas, s, ops, 2);
        reps_blas = t1 > 0.005 ? 1 : (int)(0.005 / t1) + 1;
#else
        (void)reps_blas;
#endif
        double t_shape = now();
        /* interleaved, so both see the same noise; at least 3 trials, fewer than asked
         * once a shape has taken 4 s (OpenBLAS's slow lm-head calls) */
        for (int tr = 0; tr < trials && (tr < 3 || now() - t_shape < 4.0); tr++) {
            double t = time_calls(run_ours, s, ops, reps_ours);
            if (t < best_ours) best_ours = t;
#ifdef RLVR_HAVE_BLAS
            t = time_calls(run_blas, s, ops, reps_blas);
            if (t < best_blas) best_blas = t;
#endif
        }
        g_ours[i] = flops / best_ours / 1e9, g_blas[i] = flops / best_blas / 1e9, done[i] = 1;
        sum_ours += best_ours, sum_blas += best_blas;
        for (int t = 0; t < nops; t++) { free(ops[t].A); free(ops[t].B); free(ops[t].C); }
    }
    double peak2 = fma_peak_gflops(T);
    if (peak2 > peak) peak = peak2;
    printf("  FMA peak (measured, best of runs between the shapes): %.1f GFLOP/s (%.1f per thread)\n", peak, peak / T);
#ifdef RLVR_HAVE_BLAS
    printf("  %-28s %8s %6s %8s %6s %7s\n", "shape (MxNxK, s = serial)", "rlvr", "%peak", "openblas", "%peak", "ratio");
#else
    printf("  %-28s %8s %6s\n", "shape (MxNxK, s = serial)", "rlvr", "%peak");
#endif
    for (int i = 0; i < ns; i++) {
        if (!done[i]) continue;
#ifdef RLVR_HAVE_BLAS
        printf("  %-28s %8.1f %5.0f%% %8.1f %5.0f%% %6.2fx\n", shapes[i].name, g_ours[i], 100 * g_ours[i] / peak, g_blas[i],
               100 * g_blas[i] / peak, g_ours[i] / g_blas[i]);
#else
        printf("  %-28s %8.1f %5.0f%%\n", shapes[i].name, g_ours[i], 100 * g_ours[i] / peak);
#endif
    }
#ifdef RLVR_HAVE_BLAS
    printf("  sum of best times: rlvr %.2f ms, openblas %.2f ms, ratio %.2fx\n", 1e3 * sum_ours, 1e3 * sum_blas, sum_blas / sum_ours);
#else
    (void)g_blas, (void)sum_blas;
    printf("  sum of best times: rlvr %.2f ms\n", 1e3 * sum_ours);
#endif
    return 0;
}
