/* peak.h: what every benchmark measures against, measured in the same run: the
 * machine's FMA peak (each thread runs 16 independent chains of 16-wide fused
 * multiply-adds, enough to cover latency x ports on AVX-512 cores; best of `reps`
 * short runs so that a quiet moment on a shared machine is caught). Header-only,
 * for bench/ programs. */
#ifndef RLVR_BENCH_PEAK_H
#define RLVR_BENCH_PEAK_H
#include <stdio.h>
#include <time.h>

static inline double bench_now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

typedef float bench_v16 __attribute__((vector_size(64)));

static inline double bench_fma_peak_gflops(int threads, long iters, int reps) {
    double best = 0;
    for (int rep = 0; rep < reps; rep++) {
        double t0 = bench_now();
        float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        {
            bench_v16 a[16], b = {0}, c = {0};
            for (int i = 0; i < 16; i++) { b[i] = 1.0f - 1e-7f * i; c[i] = 1e-7f; }
            for (int i = 0; i < 16; i++) a[i] = b * (float)(i + 1) * 1e-3f;
            for (long it = 0; it < iters / 16; it++) {
#pragma GCC unroll 16
                for (int i = 0; i < 16; i++) a[i] = a[i] * b + c;
            }
            for (int i = 0; i < 16; i++) for (int j = 0; j < 16; j++) sink += a[i][j];
        }
        double dt = bench_now() - t0, g = (double)threads * (iters / 16) * 16 * 16 * 2 / dt / 1e9;
        if (g > best) best = g;
        if (sink == 12345.0f) printf(" "); /* keeps the chains alive */
    }
    return best;
}
/* Read bandwidth in GB/s: a sum over a 512 MB buffer with `threads` threads, best of 3
 * (the denominator of the memory-bound decode figures). */
#include <stdint.h>
#include <stdlib.h>
static inline double bench_read_bandwidth_gbs(int threads) {
    const size_t bytes = (size_t)512 << 20, n = bytes / sizeof(uint64_t);
    uint64_t *a = malloc(bytes);
    if (!a) return 0;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++) a[i] = i;
    double best = 1e30;
    volatile uint64_t sink = 0;
    for (int rep = 0; rep < 3; rep++) {
        uint64_t sum = 0;
        double t0 = bench_now();
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : sum)
        for (size_t i = 0; i < n; i++) sum += a[i];
        double t = bench_now() - t0;
        sink += sum;
        if (t < best) best = t;
    }
    free(a);
    (void)sink;
    return bytes / best / 1e9;
}
#endif
