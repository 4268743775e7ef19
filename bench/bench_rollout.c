/* bench_rollout: group sampling throughput of the rollout engine (src/rollout/engine.h)
 * on the SmolLM2-135M shape with random weights (V 49152, C 576, 30 layers, 9 heads,
 * 3 kv heads, F 1536, tied), fp32. Measures, in one run on this machine:
 *   (a) batched: P prompts x G samples, 128 prompt tokens, exactly NEW new tokens each
 *       (min_new_tokens = max_new_tokens), all samples in flight at once: generated
 *       tokens/s and the fraction of the FMA peak (bench/peak.h) that the model FLOPs
 *       (2 x matmul params per token + causal attention over the live context) make;
 *   (b) where a batched decode step goes: the step's GEMMs and its attention timed
 *       alone with the kernels the decoder calls, at the same shapes; the rest is
 *       norms, rope, swiglu, residuals, cache appends, and the sampler;
 *   (c) single sequence: one prompt, one sample, tokens/s against the memory-bandwidth
 *       bound (fp32 weight bytes per token / read bandwidth measured here).
 * Prints a table and one JSON line.
 *   build/bench/bench_rollout [prompts samples new_tokens]   (default 8 16 32)
 * The shape is 8 16 256; on a 2-core machine at ~40 tokens/s that is ~15
 * minutes, so the default keeps the same batch (128 rows per step) and stops at 32
 * new tokens to stay under ~2 minutes; the per-step figures do not change much.
 * Threads: OMP_NUM_THREADS (default 2 when unset). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "peak.h"
#include "core/rng.h"
#include "kernels/kernels.h"
#include "model/decode.h"
#include "model/model.h"
#include "rollout/engine.h"

enum { PLEN = 128 };

static double read_bandwidth(int threads) { return bench_read_bandwidth_gbs(threads); }

/* Matmul parameters touched per token (everything but the embedding lookup; the tied
 * head counts once, as the output projection). */
static double matmul_params(const model_config *c) {
    double C = c->dim, F = c->hidden_dim, HD = (double)c->n_heads * c->head_dim, KD = (double)c->n_kv_heads * c->head_dim;
    return c->n_layers * (C * HD + 2 * C * KD + HD * C + 3 * C * F) + (double)c->vocab_size * C;
}

/* Seconds of one whole decoder_step of N one-token rows at context ctx (a decoder of
 * its own, every slot a copy of one prefilled prompt), of the same step's GEMMs alone,
 * and of its attention alone; interleaved, best of 2 each, so that a busy moment on a
 * shared machine hits all three alike. */
static void step_split(const model *m, int N, int ctx, double *t_step, double *t_gemm, double *t_att) {
    const model_config *c = &m->cfg;
    int C = c->dim, F = c->hidden_dim, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim, HD = H * D, KD = KV * D, V = c->vocab_size;
    float *x = calloc((size_t)N * F, sizeof(float)), *y = calloc((size_t)N * (F > V ? F : V), sizeof(float));
    float *q = calloc((size_t)N * HD, sizeof(float)), *o = calloc((size_t)N * HD, sizeof(float));
    float *kc = calloc((size_t)N * ctx * KD, sizeof(float)), *vc = calloc((size_t)N * ctx * KD, sizeof(float));
    int *qs = malloc(sizeof(int) * (N + 1)), *pos0 = malloc(sizeof(int) * N), *row = malloc(sizeof(int) * N);
    for (int b = 0; b <= N; b++) qs[b] = b;
    for (int b = 0; b < N; b++) pos0[b] = ctx - 1, row[b] = b * ctx;
    rng_t r;
    rng_seed(&r, 1, 0);
    for (size_t i = 0; i < (size_t)N * F; i++) x[i] = rng_normal(&r);
    for (size_t i = 0; i < (size_t)N * ctx * KD; i++) kc[i] = rng_normal(&r), vc[i] = rng_normal(&r);
    for (size_t i = 0; i < (size_t)N * HD; i++) q[i] = rng_normal(&r);
    double bg = 1e30, ba = 1e30, bs = 1e30;
    rlvr_err e = {0};
    decoder *d = decoder_new(m, N, ctx + 1, ctx > N ? ctx : N, &e);
    int *tok = malloc(sizeof(int) * (ctx > N ? ctx : N)), *sl = malloc(sizeof(int) * N), *one = malloc(sizeof(int) * N);
    float *logits = malloc(sizeof(float) * (size_t)N * V);
    for (int i = 0; i < ctx; i++) tok[i] = (int)rng_below(&r, V);
    int n0 = ctx - 1;
    if (!d || !tok || !sl || !one || !logits || decoder_step(d, 1, (int[]){0}, &n0, tok, logits, &e)) *t_step = 0;
    for (int b = 0; b < N; b++) sl[b] = b, one[b] = 1;
    for (int rep = 0; rep < 2 && d; rep++) {
        for (int b = 0; b < N; b++) decoder_copy_prefix(d, b, 0, ctx - 1, &e);
        double ts = bench_now();
        decoder_step(d, N, sl, one, tok, logits, &e);
        if (bench_now() - ts < bs) bs = bench_now() - ts;
        double t0 = bench_now();
        for (int l = 0; l < c->n_layers; l++) {
            const layer_weights *w = &m->w.layers[l];
            matmul_forward(y, x, w->wq, NULL, N, C, HD);
            matmul_forward(y, x, w->wk, NULL, N, C, KD);
            matmul_forward(y, x, w->wv, NULL, N, C, KD);
            matmul_forward(y, x, w->wo, NULL, N, HD, C);
            matmul_forward(y, x, w->wgate, NULL, N, C, F);
            matmul_forward(y, x, w->wup, NULL, N, C, F);
            matmul_forward(y, x, w->wdown, NULL, N, F, C);
        }
        matmul_forward(y, x, m->w.lm_head, NULL, N, C, V);
        double t1 = bench_now();
        for (int l = 0; l < c->n_layers; l++) attention_cached_forward(o, q, kc, vc, qs, pos0, row, N, H, KV, D);
        double t2 = bench_now();
        if (t1 - t0 < bg) bg = t1 - t0;
        if (t2 - t1 < ba) ba = t2 - t1;
    }
    *t_gemm = bg, *t_att = ba, *t_step = d ? bs : 0;
    decoder_free(d), free(tok), free(sl), free(one), free(logits);
    free(x), free(y), free(q), free(o), free(kc), free(vc), free(qs), free(pos0), free(row);
}

int main(int argc, char **argv) {
    int P = argc > 1 ? atoi(argv[1]) : 8, G = argc > 2 ? atoi(argv[2]) : 16, NEW = argc > 3 ? atoi(argv[3]) : 32;
    if (P <= 0 || G <= 0 || NEW <= 0) { fprintf(stderr, "usage: bench_rollout [prompts samples new_tokens]\n"); return 2; }
    int threads = 1;
#ifdef _OPENMP
    if (!getenv("OMP_NUM_THREADS")) omp_set_num_threads(2);
    threads = omp_get_max_threads();
#endif
    model_config c = {0};
    snprintf(c.arch, sizeof c.arch, "llama");
    c.vocab_size = 49152, c.dim = 576, c.hidden_dim = 1536, c.n_layers = 30, c.n_heads = 9, c.n_kv_heads = 3, c.head_dim = 64;
    c.max_seq_len = 2048, c.norm_eps = 1e-5f, c.rope_theta = 100000.0f, c.tie_embeddings = 1, c.bos_id = c.eos_id = -1;
    rlvr_err e = {0};
    model *m = model_new(&c, &e);
    if (!m) { fprintf(stderr, "bench_rollout: %s\n", e.msg); return 1; }
    model_init_random(m, 1, 0.02f);
    int *ptok = malloc(sizeof(int) * P * PLEN), *lens = malloc(sizeof(int) * P);
    const int **pp = malloc(sizeof(int *) * P);
    rng_t r;
    rng_seed(&r, 2, 0);
    for (int i = 0; i < P; i++) {
        for (int j = 0; j < PLEN; j++) ptok[i * PLEN + j] = (int)rng_below(&r, c.vocab_size);
        pp[i] = ptok + i * PLEN, lens[i] = PLEN;
    }
    double peak = bench_fma_peak_gflops(threads, 20000000, 3), bw = read_bandwidth(threads);
    double mp = matmul_params(&c), att_per_pos = 4.0 * c.n_layers * c.n_heads * c.head_dim;
    /* (a) batched group sampling */
    engine_params ep = engine_default_params();
    ep.max_slots = P * G, ep.max_new_tokens = ep.min_new_tokens = NEW, ep.seed = 3;
    int eos = 0;
    ep.stop_ids = &eos, ep.n_stop_ids = 1; /* ignored: min_new_tokens keeps lengths exact */
    engine_sample *out = calloc((size_t)P * G, sizeof *out);
    engine_stats st;
    if (engine_generate(m, &ep, (const int *const *)pp, lens, P, G, out, &st, NULL, NULL, &e)) { fprintf(stderr, "bench_rollout: %s\n", e.msg); return 1; }
    /* FLOPs of every sampled token: matmuls + attention over the context it saw */
    double flops = 0;
    for (int k = 0; k < P * G; k++) flops += out[k].n_tokens * (2 * mp + att_per_pos * (PLEN + (out[k].n_tokens - 1) / 2.0));
    double gflops = flops / st.total_s / 1e9, frac = gflops / peak;
    engine_samples_free(out, P * G);
    /* (b) split of one full decode step at the mean context */
    int B = P * G, ctx = PLEN + NEW / 2;
    double tg, ta, t_step, t_engine_step = st.decode_s / (st.decode_steps > 1 ? st.decode_steps - 1 : 1);
    step_split(m, B, ctx, &t_step, &tg, &ta);
    double step_flops = B * (2 * mp + att_per_pos * ctx), step_frac = step_flops / t_engine_step / 1e9 / peak;
    double gemm_gflops = 2 * mp * B / tg / 1e9;
    /* (c) single sequence decode */
    ep.max_slots = 1, ep.max_new_tokens = ep.min_new_tokens = 128 < NEW ? 128 : NEW;
    engine_sample one;
    engine_stats s1;
    if (engine_generate(m, &ep, (const int *const *)pp, lens, 1, 1, &one, &s1, NULL, NULL, &e)) { fprintf(stderr, "bench_rollout: %s\n", e.msg); return 1; }
    double one_tps = (s1.gen_tokens - 1) / s1.decode_s, bytes_tok = (mp + 0.0) * 4, bound = bw * 1e9 / bytes_tok;
    engine_samples_free(&one, 1);

    printf("bench_rollout: SmolLM2-135M shape, random weights, fp32, %.1fM matmul params, %d threads\n", mp / 1e6, threads);
    printf("  %-40s %10.1f GFLOP/s\n", "FMA peak (bench/peak.h)", peak);
    printf("  %-40s %10.2f GB/s\n", "read bandwidth (512 MB sum)", bw);
    printf("  (a) %d prompts x %d samples, %d prompt + %d new tokens, %d slots\n", P, G, PLEN, NEW, st.n_slots);
    printf("  %-40s %10.1f tokens/s  (%ld tokens in %.2f s)\n", "generated", st.tokens_per_s, st.gen_tokens, st.total_s);
    printf("  %-40s %10.1f GFLOP/s = %.1f%% of FMA peak\n", "model FLOPs", gflops, 100 * frac);
    printf("  %-40s %10.2f s (%ld prompt tokens), decode %.2f s, sampler %.2f s\n", "prefill", st.prefill_s, st.prefill_tokens, st.decode_s, st.sample_s);
    printf("  %-40s %10.1f GFLOP/s = %.1f%% of FMA peak (%.1f ms per step)\n", "decode steps in the run", step_flops / t_engine_step / 1e9, 100 * step_frac, 1e3 * t_engine_step);
    printf("  (b) one decoder_step, %d rows at context %d: %.1f ms alone (%.1f ms per step inside the engine run)\n", B, ctx, 1e3 * t_step, 1e3 * t_engine_step);
    printf("  %-40s %10.1f ms (%.0f%%), %.1f GFLOP/s = %.0f%% of peak\n", "GEMMs alone", 1e3 * tg, 100 * tg / t_step, gemm_gflops, 100 * gemm_gflops / peak);
    printf("  %-40s %10.1f ms (%.0f%%)\n", "attention alone", 1e3 * ta, 100 * ta / t_step);
    printf("  %-40s %10.1f ms (%.0f%%)\n", "rest (norms, rope, swiglu, copies)", 1e3 * (t_step - tg - ta), 100 * (t_step - tg - ta) / t_step);
    printf("  %-40s %10.1f ms per step\n", "sampler (per step, outside decode)", 1e3 * st.sample_s / st.decode_steps);
    printf("  (c) single sequence decode %40.1f tokens/s, bound %.1f (%.0f MB/token): %.0f%% of bandwidth bound\n", one_tps, bound, bytes_tok / 1e6, 100 * one_tps / bound);
    printf("{\"bench\":\"rollout\",\"threads\":%d,\"prompts\":%d,\"samples\":%d,\"new_tokens\":%d,\"tokens_per_s\":%.2f,\"gflops\":%.2f,\"peak_gflops\":%.2f,"
           "\"frac_peak\":%.4f,\"decode_frac_peak\":%.4f,\"step_ms\":%.2f,\"gemm_ms\":%.2f,\"attention_ms\":%.2f,\"single_tokens_per_s\":%.2f,\"bw_gbs\":%.2f,\"frac_bw_bound\":%.4f}\n",
           threads, P, G, NEW, st.tokens_per_s, gflops, peak, frac, step_frac, 1e3 * t_step, 1e3 * tg, 1e3 * ta, one_tps, bw, one_tps / bound);
    free(ptok), free(lens), free(pp), free(out);
    model_free(m);
    return 0;
}
