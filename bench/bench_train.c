/* bench_train: forward + backward + AdamW throughput of the training step for a
 * SmolLM2-135M-shaped model (hidden 576, 30 layers, 9 heads, 3 kv heads, MLP 1536,
 * vocab 49152, tied) at 4 x 256 tokens, fp32. Prints tokens/s, achieved GFLOP/s,
 * the fraction of this machine's FMA peak (measured here, now), the GEMM share and
 * the top kernels by time, and one JSON line for bench/run.sh to compare with the
 * PyTorch peer measured in the same run.
 *   build/bench/bench_train [steps=3] [warmup=1] [batch=4] [seq=256] [layers=30] */
#include <stdio.h>
#include "peak.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "core/rng.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "train/optim.h"
#ifdef RLVR_HAVE_BLAS
#include <cblas.h>
#endif

#define now bench_now

static double fma_peak_gflops(int threads) { return bench_fma_peak_gflops(threads, 20000000, 3); }

static double gemm_gflops(int M, int N, int K) {
    float *a = calloc((size_t)M * K, 4), *b = calloc((size_t)N * K, 4), *c = calloc((size_t)M * N, 4);
    for (size_t i = 0; i < (size_t)M * K; i++) a[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)N * K; i++) b[i] = (float)(i % 5) * 0.1f;
    matmul_forward(c, a, b, NULL, M, K, N);
    int reps = 5;
    double t0 = now();
    for (int r = 0; r < reps; r++) matmul_forward(c, a, b, NULL, M, K, N);
    double dt = (now() - t0) / reps;
    free(a); free(b); free(c);
    return 2.0 * M * N * K / dt / 1e9;
}

int main(int argc, char **argv) {
    int steps = 3, warmup = 1, batch = 4, seq = 256, layers = 30;
    for (int i = 1; i < argc; i++) {
        sscanf(argv[i], "steps=%d", &steps); sscanf(argv[i], "warmup=%d", &warmup);
        sscanf(argv[i], "batch=%d", &batch); sscanf(argv[i], "seq=%d", &seq); sscanf(argv[i], "layers=%d", &layers);
    }
    int threads = kernels_threads();
    model_config c = {.arch = "llama", .vocab_size = 49152, .dim = 576, .hidden_dim = 1536, .n_layers = layers, .n_heads = 9,
                      .n_kv_heads = 3, .head_dim = 64, .max_seq_len = 2048, .norm_eps = 1e-5f, .rope_theta = 100000.0f,
                      .tie_embeddings = 1, .bos_id = 1, .eos_id = 2};
    rlvr_err e = {0};
    model *m = model_new(&c, &e);
    if (!m || model_alloc_train(m, batch * seq, batch, &e)) { fprintf(stderr, "bench: %s\n", e.msg); return 1; }
    model_init_random(m, 1, 0.02f);
    printf("bench_train: SmolLM2-135M shape, %zu parameters, %d x %d tokens, %d threads\n", m->n_params, batch, seq, threads);
    double peak = fma_peak_gflops(threads);
    printf("  FMA peak (measured): %.1f GFLOP/s\n", peak);
    double gg = gemm_gflops(batch * seq, 1536, 576);
    printf("  GEMM %dx1536x576: %.1f GFLOP/s (%.0f%% of peak)\n", batch * seq, gg, 100 * gg / peak);

    int N = batch * seq, *tok = malloc(sizeof(int) * N), *tgt = malloc(sizeof(int) * N), st[65];
    float *dlogp = malloc(sizeof(float) * N);
    rng_t r;
    rng_seed(&r, 3, 0);
    for (int b = 0; b <= batch; b++) st[b] = b * seq;
    for (int n = 0; n < N; n++) tok[n] = (int)rng_below(&r, c.vocab_size);
    for (int n = 0; n < N; n++) tgt[n] = (n + 1) % seq ? tok[n + 1] : -1;
    adamw_params ap = adamw_default_params();
    double t_fwd = 0, t_bwd = 0, t_opt = 0, t_total = 0;
    for (int s = 0; s < warmup + steps; s++) {
        int timed = s >= warmup;
        if (timed) { m->profile = 1; }
        double t0 = now();
        model_zero_grad(m);
        if (model_forward(m, tok, tgt, st, batch, &e)) { fprintf(stderr, "bench: %s\n", e.msg); return 1; }
        double t1 = now();
        model_nll(m, NULL, dlogp);
        model_backward(m, dlogp, NULL, &e);
        double t2 = now(), gn;
        adamw_step(m, &ap, 1e-4f, s + 1, &gn, &e);
        double t3 = now();
        if (timed) { t_fwd += t1 - t0; t_bwd += t2 - t1; t_opt += t3 - t2; t_total += t3 - t0; }
        fprintf(stderr, "  step %d: %.2fs%s\n", s + 1, t3 - t0, timed ? "" : " (warmup)");
    }
    double step_s = t_total / steps, tps = N / step_s;
    double flops = model_train_flops_per_token(&c, seq) * N;
    double gflops = flops / step_s / 1e9;
    printf("  step %.3fs (forward %.3f, backward %.3f, AdamW %.3f)\n", step_s, t_fwd / steps, t_bwd / steps, t_opt / steps);
    printf("  throughput: %.1f tokens/s, %.1f GFLOP/s = %.1f%% of FMA peak\n", tps, gflops, 100 * gflops / peak);
    printf("  time by kernel (share of the step):\n");
    int order[PROF_N];
    for (int k = 0; k < PROF_N; k++) order[k] = k;
    for (int i = 0; i < PROF_N; i++)
        for (int j = i + 1; j < PROF_N; j++)
            if (m->prof[order[j]] > m->prof[order[i]]) { int t = order[i]; order[i] = order[j]; order[j] = t; }
    for (int i = 0; i < PROF_N; i++)
        printf("    %-12s %6.3fs/step  %5.1f%%\n", model_prof_names[order[i]], m->prof[order[i]] / steps, 100 * m->prof[order[i]] / t_total);
    printf("    %-12s %6.3fs/step  %5.1f%%\n", "adamw", t_opt / steps, 100 * t_opt / t_total);
    printf("  GEMM share of the step: %.1f%%\n", 100 * m->prof[PROF_GEMM] / t_total);
    printf("{\"bench\": \"train_step\", \"impl\": \"rlvr\", \"threads\": %d, \"tokens_per_s\": %.2f, \"step_s\": %.4f, \"gflops\": %.1f, \"peak_gflops\": %.1f, \"frac_peak\": %.4f, \"gemm_share\": %.4f}\n",
           threads, tps, step_s, gflops, peak, gflops / peak, m->prof[PROF_GEMM] / t_total);
    model_free(m);
    return 0;
}
