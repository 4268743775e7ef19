/* bench_rollout: group sampling throughput of the rollout engine (src/rollout/engine.h)
 * on the SmolLM2-135M shape with random weights (V 49152, C 576, 30 layers, 9 heads,
 * 3 kv heads, F 1536, tied), fp32. Measures, in one run on this machine:
 *   (a) batched: P prompts x G samples, 128 prompt tokens, exactly NEW new tokens each
 *       (min_new_tokens = max_new_tokens), all samples in flight at once: generated
 *       tokens/s and the fraction of the FMA peak (bench/peak.h) that the model FLOPs
 *       make (2 x matmul params per generated token + causal attention over the
 *       context it saw), for the whole call (prefill and sampling included) and for
 *       the decode steps alone;
 *   (b) where the time went, from the run itself: the decoder's phase clock (decode.h:
 *       matrix products, attention, norms/packing, rope/cache appends, output head),
 *       the prefill, and the sampler;
 *   (c) single sequence: one prompt, one sample, tokens/s against the memory-bandwidth
 *       bound (fp32 weight bytes per token / read bandwidth measured here).
 * The FMA peak is measured before and after (a); the ratios use the larger (the
 * machine's peak in a quiet moment). The machine is shared: the load average before
 * and after says how quiet it was. Prints a table and one JSON line.
 *   build/bench/bench_rollout [prompts samples new_tokens [reps]]   (default 8 16 32 1)
 * The shape is 8 16 256 (a few minutes on 2 cores); the default stops at 32
 * new tokens. reps > 1 repeats (a) and reports each run and the spread.
 * Threads: OMP_NUM_THREADS (default 2 when unset); RLVR_DECODE_SPLIT=team|rows picks
 * how the threads share a decode step (decode.h; default auto). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "peak.h"
#include "core/rng.h"
#include "model/decode.h"
#include "model/model.h"
#include "rollout/engine.h"

enum { PLEN = 128 };

/* Matmul parameters touched per token (everything but the embedding lookup; the tied
 * head counts once, as the output projection), and those of the layers alone. */
static double layer_params(const model_config *c) {
    double C = c->dim, F = c->hidden_dim, HD = (double)c->n_heads * c->head_dim, KD = (double)c->n_kv_heads * c->head_dim;
    return c->n_layers * (C * HD + 2 * C * KD + HD * C + 3 * C * F);
}
static double matmul_params(const model_config *c) { return layer_params(c) + (double)c->vocab_size * c->dim; }

static double load1(void) {
    double l[1] = {0};
    return getloadavg(l, 1) == 1 ? l[0] : -1;
}

typedef struct {
    engine_stats st;
    double flops, att_flops, wall;
} run_result;

static int run_batched(model *m, const int *const *pp, const int *lens, int P, int G, int NEW, run_result *r, rlvr_err *e) {
    const model_config *c = &m->cfg;
    engine_params ep = engine_default_params();
    ep.max_slots = P * G, ep.max_new_tokens = ep.min_new_tokens = NEW, ep.seed = 3;
    const char *split = getenv("RLVR_DECODE_SPLIT"); /* team | rows | auto (default) */
    ep.decode_split = split && !strcmp(split, "team") ? DECODER_SPLIT_TEAM : split && !strcmp(split, "rows") ? DECODER_SPLIT_ROWS : DECODER_SPLIT_AUTO;
    int eos = 0;
    ep.stop_ids = &eos, ep.n_stop_ids = 1; /* ignored: min_new_tokens keeps lengths exact */
    engine_sample *out = calloc((size_t)P * G, sizeof *out);
    if (!out) return RLVR_ENOMEM;
    double t0 = bench_now();
    int rc = engine_generate(m, &ep, pp, lens, P, G, out, &r->st, NULL, NULL, e);
    r->wall = bench_now() - t0;
    if (rc) { free(out); return rc; }
    /* FLOPs of every sampled token: matmuls + attention over the context it saw */
    double mp = matmul_params(c), att_per_pos = 4.0 * c->n_layers * c->n_heads * c->head_dim;
    r->flops = r->att_flops = 0;
    for (int k = 0; k < P * G; k++) {
        double att = out[k].n_tokens * att_per_pos * (PLEN + (out[k].n_tokens - 1) / 2.0);
        r->flops += out[k].n_tokens * 2 * mp + att, r->att_flops += att;
    }
    engine_samples_free(out, P * G);
    free(out);
    return RLVR_OK;
}

int main(int argc, char **argv) {
    int P = argc > 1 ? atoi(argv[1]) : 8, G = argc > 2 ? atoi(argv[2]) : 16, NEW = argc > 3 ? atoi(argv[3]) : 32;
    int reps = argc > 4 ? atoi(argv[4]) : 1;
    if (P <= 0 || G <= 0 || NEW <= 0 || reps <= 0) { fprintf(stderr, "usage: bench_rollout [prompts samples new_tokens [reps]]\n"); return 2; }
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
    double mp = matmul_params(&c), lp = layer_params(&c);
    double load_before = load1();
    double peak0 = bench_fma_peak_gflops(threads, 20000000, 3), bw = bench_read_bandwidth_gbs(threads);

    /* (a) batched group sampling, reps times */
    run_result *res = calloc(reps, sizeof *res);
    double frac_min = 1e30, frac_max = 0;
    for (int i = 0; i < reps; i++)
        if (run_batched(m, (const int *const *)pp, lens, P, G, NEW, &res[i], &e)) { fprintf(stderr, "bench_rollout: %s\n", e.msg); return 1; }
    double peak1 = bench_fma_peak_gflops(threads, 20000000, 3), peak = peak0 > peak1 ? peak0 : peak1;
    double load_after = load1();
    for (int i = 0; i < reps; i++) {
        double f = res[i].flops / res[i].st.total_s / 1e9 / peak;
        if (f < frac_min) frac_min = f;
        if (f > frac_max) frac_max = f;
    }
    /* the best run is the one reported in detail */
    int best = 0;
    for (int i = 1; i < reps; i++)
        if (res[i].st.total_s < res[best].st.total_s) best = i;
    const engine_stats *st = &res[best].st;
    const decoder_prof *dp = &st->decoder;
    double gflops = res[best].flops / st->total_s / 1e9, frac = gflops / peak;
    /* decode steps: all but the prefill steps (their FLOPs: the generated tokens') */
    double dec_flops = res[best].flops - (double)P * (2 * mp + 4.0 * c.n_layers * c.n_heads * c.head_dim * PLEN); /* minus first tokens */
    long dec_steps = st->decode_steps - (st->prefill_s > 0 ? (st->prefill_tokens + 511) / 512 : 0);
    double step_s = st->decode_s / (dec_steps > 0 ? dec_steps : 1), dec_frac = dec_flops / (st->decode_s + st->sample_s) / 1e9 / peak;
    /* the matrix products' own rate: every token through the layers, the head's rows */
    double gemm_flops = 2 * lp * (st->prefill_tokens + st->gen_tokens - P), head_flops = 2.0 * c.vocab_size * c.dim * (double)st->gen_tokens;

    /* (c) single sequence decode */
    engine_params ep = engine_default_params();
    ep.max_slots = 1, ep.max_new_tokens = ep.min_new_tokens = NEW < 64 ? NEW : 64, ep.seed = 3;
    engine_sample one;
    engine_stats s1;
    if (engine_generate(m, &ep, (const int *const *)pp, lens, 1, 1, &one, &s1, NULL, NULL, &e)) { fprintf(stderr, "bench_rollout: %s\n", e.msg); return 1; }
    double one_tps = (s1.gen_tokens - 1) / (s1.decode_s + s1.sample_s), bytes_tok = mp * 4, bound = bw * 1e9 / bytes_tok;
    engine_samples_free(&one, 1);

    printf("bench_rollout: SmolLM2-135M shape, random weights, fp32, %.1fM matmul params, %d threads\n", mp / 1e6, threads);
    printf("  %-44s %8.1f GFLOP/s (before %.1f, after %.1f)\n", "FMA peak (bench/peak.h)", peak, peak0, peak1);
    printf("  %-44s %8.2f GB/s\n", "read bandwidth (512 MB sum)", bw);
    printf("  %-44s %8.2f before, %.2f after (%ld CPUs)\n", "load average (1 min)", load_before, load_after, sysconf(_SC_NPROCESSORS_ONLN));
    printf("  (a) %d prompts x %d samples, %d prompt + %d new tokens, %d slots\n", P, G, PLEN, NEW, st->n_slots);
    if (reps > 1) {
        printf("  %-44s", "whole call, each run (% of FMA peak)");
        for (int i = 0; i < reps; i++) printf(" %.1f", 100 * res[i].flops / res[i].st.total_s / 1e9 / peak);
        printf("  (spread %.1f-%.1f%%)\n", 100 * frac_min, 100 * frac_max);
    }
    printf("  %-44s %8.1f tokens/s  (%ld tokens in %.2f s)\n", "generated", st->tokens_per_s, st->gen_tokens, st->total_s);
    printf("  %-44s %8.1f GFLOP/s = %.1f%% of FMA peak\n", "whole call: model FLOPs", gflops, 100 * frac);
    printf("  %-44s %8.1f GFLOP/s = %.1f%% of FMA peak (%.1f ms per step)\n", "decode steps + sampling", dec_flops / (st->decode_s + st->sample_s) / 1e9, 100 * dec_frac, 1e3 * step_s);
    printf("  (b) where the time went (%.2f s; phases from the decoder's clock, all steps)\n", st->total_s);
    printf("  %-44s %8.2f s  %4.1f%%  (%ld prompt tokens)\n", "prefill steps", st->prefill_s, 100 * st->prefill_s / st->total_s, st->prefill_tokens);
    printf("  %-44s %8.2f s  %4.1f%%\n", "decode steps", st->decode_s, 100 * st->decode_s / st->total_s);
    printf("  %-44s %8.2f s  %4.1f%%  %.1f GFLOP/s = %.0f%% of peak\n", "  matrix products of the layers", dp->gemm, 100 * dp->gemm / st->total_s, gemm_flops / dp->gemm / 1e9, 100 * gemm_flops / dp->gemm / 1e9 / peak);
    printf("  %-44s %8.2f s  %4.1f%%  %.1f GFLOP/s = %.0f%% of peak\n", "  output head", dp->head, 100 * dp->head / st->total_s, head_flops / dp->head / 1e9, 100 * head_flops / dp->head / 1e9 / peak);
    printf("  %-44s %8.2f s  %4.1f%%  %.1f GFLOP/s\n", "  attention", dp->attention, 100 * dp->attention / st->total_s, res[best].att_flops / dp->attention / 1e9);
    printf("  %-44s %8.2f s  %4.1f%%\n", "  norms, residuals, swiglu, packing", dp->norm, 100 * dp->norm / st->total_s);
    printf("  %-44s %8.2f s  %4.1f%%\n", "  rope, qk-norm, biases, cache appends", dp->post, 100 * dp->post / st->total_s);
    printf("  %-44s %8.2f s  %4.1f%%  (%.1f ms per step)\n", "sampler and stop checks", st->sample_s, 100 * st->sample_s / st->total_s, 1e3 * st->sample_s / st->decode_steps);
    printf("  %-44s %8.2f s  %4.1f%%\n", "engine (admission, prefix copies, the rest)", st->total_s - dp->total - st->sample_s, 100 * (st->total_s - dp->total - st->sample_s) / st->total_s);
    printf("  (c) %-40s %8.1f tokens/s, bound %.1f (%.0f MB/token): %.0f%% of the bandwidth bound\n", "single sequence decode", one_tps, bound, bytes_tok / 1e6, 100 * one_tps / bound);
    printf("{\"bench\":\"rollout\",\"threads\":%d,\"prompts\":%d,\"samples\":%d,\"new_tokens\":%d,\"reps\":%d,\"tokens_per_s\":%.2f,\"gflops\":%.2f,\"peak_gflops\":%.2f,"
           "\"frac_peak\":%.4f,\"frac_peak_min\":%.4f,\"frac_peak_max\":%.4f,\"decode_frac_peak\":%.4f,\"step_ms\":%.2f,\"gemm_s\":%.3f,\"head_s\":%.3f,\"attention_s\":%.3f,"
           "\"norm_s\":%.3f,\"post_s\":%.3f,\"sample_s\":%.3f,\"prefill_s\":%.3f,\"total_s\":%.3f,\"single_tokens_per_s\":%.2f,\"bw_gbs\":%.2f,\"frac_bw_bound\":%.4f,"
           "\"load_before\":%.2f,\"load_after\":%.2f}\n",
           threads, P, G, NEW, reps, st->tokens_per_s, gflops, peak, frac, frac_min, frac_max, dec_frac, 1e3 * step_s, dp->gemm, dp->head, dp->attention, dp->norm,
           dp->post, st->sample_s, st->prefill_s, st->total_s, one_tps, bw, one_tps / bound, load_before, load_after);
    free(ptok), free(lens), free(pp), free(res);
    model_free(m);
    return 0;
}
