/* bench_model: a real pretrained model end to end (SmolLM2-135M-Instruct, Q4_1 GGUF,
 * dequantized to fp32 on load). Measures, in one run on this machine:
 *   (a) model_open time (GGUF parse + dequantize + tokenizer), median of 3;
 *   (b) tokenizer throughput: bpe_encode and bpe_decode in MB/s over a ~1 MB buffer of
 *       deterministic mixed text (English-like words, numbers, punctuation, UTF-8);
 *   (c) single-stream generation with the KV cache: prefill of a 32-token prompt,
 *       then 128 greedy tokens one at a time (tokens/s), against the memory-bandwidth
 *       bound. Decoding one token reads every weight once, so it can go no faster
 *       than read bandwidth / (n_params * 4 bytes) tokens/s; the read bandwidth is
 *       measured here, now (streaming sum over 512 MB, best of 3).
 * Prints a table and one JSON line. Skips (exit 0) when the model file is absent:
 * scripts/fetch_models.sh fetches it.
 *   build/bench/bench_model [path.gguf | HF dir]   (default: $RLVR_MODELS_DIR or
 *   ~/.cache/rlvr/models, /SmolLM2-135M-Instruct.Q4_1.gguf). Threads: OMP_NUM_THREADS. */
#include <stdint.h>
#include <stdio.h>
#include "peak.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "model/decode.h"
#include "model/load.h"
#include "tokenizer/bpe.h"

enum { N_PROMPT = 32, N_GEN = 128, TEXT_BYTES = 1 << 20 };

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int n_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
static int cmp_d(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

/* xorshift64*: the text must be the same on every run and machine. */
static uint64_t rnd(uint64_t *s) { *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27; return *s * 2685821657736338717ULL; }

/* Fills buf with n bytes (then a NUL) of mixed text: mostly English-like words, some
 * capitalised, numbers, punctuation, newlines, and ~3% non-ASCII words (accents, CJK,
 * Cyrillic, emoji). Stops before a word that would not fit, pads with spaces: always
 * valid UTF-8. Returns the byte count. */
static size_t make_text(char *buf, size_t n) {
    static const char *words[] = {
        "the", "of", "and", "to", "in", "is", "that", "for", "it", "with", "as", "was", "on", "are",
        "be", "this", "by", "from", "at", "an", "which", "model", "reward", "policy", "gradient",
        "training", "token", "sequence", "answer", "question", "number", "result", "because",
        "therefore", "compute", "value", "function", "between", "another", "system", "learning",
        "during", "without", "however", "example", "language", "probability", "distribution",
        "we", "they", "would", "could", "should", "there", "their", "about", "through", "under"};
    static const char *utf8[] = {
        "caf\xc3\xa9", "na\xc3\xafve", "se\xc3\xb1or", "\xc3\xbc" "ber", "\xe4\xbd\xa0\xe5\xa5\xbd",
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
        "\xf0\x9f\x99\x82", "\xe2\x82\xac" "5", "\xce\xb1\xce\xb2\xce\xb3"};
    static const char *punct[] = {",", ".", ";", ":", "!", "?", " -", "'s", "\"", "(", ")"};
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    size_t len = 0;
    char w[64];
    while (1) {
        uint64_t r = rnd(&s) % 1000;
        int wl;
        if (r < 30) wl = snprintf(w, sizeof w, " %s", utf8[rnd(&s) % (sizeof utf8 / sizeof *utf8)]);
        else if (r < 110) wl = snprintf(w, sizeof w, " %llu", (unsigned long long)(rnd(&s) % (r < 70 ? 100 : 1000000)));
        else if (r < 210) wl = snprintf(w, sizeof w, "%s", punct[rnd(&s) % (sizeof punct / sizeof *punct)]);
        else if (r < 225) wl = snprintf(w, sizeof w, "\n");
        else {
            const char *x = words[rnd(&s) % (sizeof words / sizeof *words)];
            wl = snprintf(w, sizeof w, " %s", x);
            if (r < 300) w[1] = (char)(w[1] - 32);       /* capitalised */
        }
        if (len + (size_t)wl > n) break;
        memcpy(buf + len, w, (size_t)wl);
        len += (size_t)wl;
    }
    memset(buf + len, ' ', n - len);
    buf[n] = 0;
    return n;
}

/* Read bandwidth in GB/s: a streaming sum over a 512 MB buffer on the OpenMP threads,
 * best of 3 (after a first-touch fill on the same threads). 0 when it cannot allocate. */
static double read_bandwidth(int threads) { return bench_read_bandwidth_gbs(threads); }

static int argmax(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

int main(int argc, char **argv) {
    char path[2048];
    if (argc > 1) snprintf(path, sizeof path, "%s", argv[1]);
    else {
        const char *dir = getenv("RLVR_MODELS_DIR"), *home = getenv("HOME");
        if (dir) snprintf(path, sizeof path, "%s/SmolLM2-135M-Instruct.Q4_1.gguf", dir);
        else snprintf(path, sizeof path, "%s/.cache/rlvr/models/SmolLM2-135M-Instruct.Q4_1.gguf", home ? home : ".");
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        printf("bench_model: skipped: %s is absent (scripts/fetch_models.sh fetches it)\n", path);
        return 0;
    }
    int threads = n_threads();
    rlvr_err e = {0};

    /* (a) load time, median of 3; the last one stays open */
    double tl[3];
    loaded_model lm = {0};
    for (int i = 0; i < 3; i++) {
        loaded_model_free(&lm);
        double t0 = now();
        if (model_open(path, NULL, &lm, &e) != RLVR_OK) {
            fprintf(stderr, "bench_model: %s\n", e.msg);
            loaded_model_free(&lm);
            return 1;
        }
        tl[i] = now() - t0;
    }
    qsort(tl, 3, sizeof *tl, cmp_d);
    double load_s = tl[1];
    if (!lm.tok) { fprintf(stderr, "bench_model: %s has no BPE tokenizer\n", path); loaded_model_free(&lm); return 1; }
    model *m = lm.m;
    const model_config *c = &m->cfg;
    int V = c->vocab_size;

    /* (b) tokenizer throughput, best of 2 */
    char *text = malloc(TEXT_BYTES + 1);
    int *ids = malloc(sizeof(int) * (TEXT_BYTES + 1));
    char *back = malloc(TEXT_BYTES + 1);
    if (!text || !ids || !back) { fprintf(stderr, "bench_model: out of memory\n"); return 1; }
    size_t nt = make_text(text, TEXT_BYTES);
    int n_ids = 0;
    double te = 1e30, td = 1e30;
    size_t n_back = 0;
    for (int rep = 0; rep < 2; rep++) {
        double t0 = now();
        if (bpe_encode(lm.tok, text, nt, 0, ids, TEXT_BYTES + 1, &n_ids, &e) != RLVR_OK) {
            fprintf(stderr, "bench_model: encode: %s\n", e.msg);
            return 1;
        }
        double t1 = now();
        if (bpe_decode(lm.tok, ids, n_ids, back, TEXT_BYTES + 1, &n_back) != RLVR_OK) {
            fprintf(stderr, "bench_model: decode failed\n");
            return 1;
        }
        double t2 = now();
        if (t1 - t0 < te) te = t1 - t0;
        if (t2 - t1 < td) td = t2 - t1;
    }
    int roundtrip = n_back == nt && memcmp(back, text, nt) == 0;
    double enc_mbs = nt / te / 1e6, dec_mbs = n_back / td / 1e6;

    /* (c) generation: 32-token prompt (the start of the text), 128 greedy tokens */
    int prompt[N_PROMPT];
    for (int i = 0; i < N_PROMPT; i++) prompt[i] = ids[i % (n_ids ? n_ids : 1)];
    free(back);
    free(ids);
    free(text);
    decoder *d = decoder_new(m, 1, N_PROMPT + N_GEN + 1, N_PROMPT, &e);
    float *logits = malloc(sizeof(float) * V);
    if (!d || !logits) { fprintf(stderr, "bench_model: decoder: %s\n", e.msg); return 1; }
    int slot = 0, nn = N_PROMPT;
    double t0 = now();
    if (decoder_step(d, 1, &slot, &nn, prompt, logits, &e) != RLVR_OK) { fprintf(stderr, "bench_model: %s\n", e.msg); return 1; }
    double t_prefill = now() - t0;
    nn = 1;
    int tok = argmax(logits, V);
    t0 = now();
    for (int i = 0; i < N_GEN; i++) {
        if (decoder_step(d, 1, &slot, &nn, &tok, logits, &e) != RLVR_OK) { fprintf(stderr, "bench_model: %s\n", e.msg); return 1; }
        tok = argmax(logits, V);
    }
    double t_gen = now() - t0;
    decoder_free(d);
    free(logits);
    double prefill_tps = N_PROMPT / t_prefill, gen_tps = N_GEN / t_gen;

    /* bandwidth bound: every fp32 weight read once per generated token */
    size_t n_params = m->n_params;
    double bw = read_bandwidth(threads);
    double bytes_per_tok = (double)n_params * 4;
    double bound_tps = bw * 1e9 / bytes_per_tok, frac = bound_tps > 0 ? gen_tps / bound_tps : 0;

    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    printf("bench_model: %s (%s, %.1fM params fp32, %d layers, vocab %d), %d threads\n",
           base, c->arch, n_params / 1e6, c->n_layers, V, threads);
    printf("  %-34s %10.3f s   (median of 3: %.3f %.3f %.3f)\n", "model_open", load_s, tl[0], tl[1], tl[2]);
    printf("  %-34s %10.2f MB/s (%zu bytes -> %d tokens, %.2f bytes/token)\n", "tokenizer encode", enc_mbs, nt, n_ids, (double)nt / n_ids);
    printf("  %-34s %10.2f MB/s (round trip %s)\n", "tokenizer decode", dec_mbs, roundtrip ? "exact" : "DIFFERS");
    printf("  %-34s %10.1f tokens/s\n", "prefill (32 tokens, one step)", prefill_tps);
    printf("  %-34s %10.2f tokens/s (%.2f ms/token)\n", "generate (128 greedy, KV cache)", gen_tps, 1e3 / gen_tps);
    printf("  %-34s %10.2f GB/s  (sum over 512 MB, best of 3)\n", "read bandwidth", bw);
    printf("  %-34s %10.2f tokens/s (%.0f MB of weights per token)\n", "bandwidth bound", bound_tps, bytes_per_tok / 1e6);
    printf("  %-34s %10.1f %%\n", "generate / bound", 100 * frac);
    printf("{\"bench\": \"model\", \"model\": \"%s\", \"threads\": %d, \"n_params\": %zu, \"load_s\": %.4f, "
           "\"encode_mb_s\": %.3f, \"decode_mb_s\": %.3f, \"roundtrip\": %s, \"prefill_tokens_per_s\": %.2f, "
           "\"gen_tokens_per_s\": %.3f, \"read_gb_s\": %.3f, \"bound_tokens_per_s\": %.3f, \"frac_bound\": %.4f}\n",
           base, threads, n_params, load_s, enc_mbs, dec_mbs, roundtrip ? "true" : "false", prefill_tps, gen_tps,
           bw, bound_tps, frac);
    loaded_model_free(&lm);
    return roundtrip ? 0 : 1;
}
