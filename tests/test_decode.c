/* test_decode: the KV-cache decoder gives the logits of the training forward on the
 * same weights: prefill + token-by-token decoding, several slots per step, shared
 * prompt prefixes, for GQA, biases, qk-norm, tied heads and Llama-3 rope scaling. */
#include "check.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#include "core/rng.h"
#include "kernels/kernels.h"
#include "model/decode.h"
#include "model/model.h"

static model_config cfg_of(const char *arch, int qkv_bias, int qk_norm, int tie, int rope3) {
    model_config c = {0};
    snprintf(c.arch, sizeof c.arch, "%s", arch);
    c.vocab_size = 37, c.dim = 32, c.hidden_dim = 40, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.head_dim = 8;
    c.max_seq_len = 80, c.norm_eps = 1e-5f, c.rope_theta = 10000.0f, c.bos_id = c.eos_id = -1;
    c.qkv_bias = qkv_bias, c.qk_norm = qk_norm, c.tie_embeddings = tie;
    if (rope3) c.rope_scaling = ROPE_SCALING_LLAMA3, c.rope_factor = 4, c.rope_low_freq_factor = 1, c.rope_high_freq_factor = 4, c.rope_orig_max_pos = 16;
    return c;
}

static void decode_matches(const char *what, model_config c) {
    rlvr_err e = {0};
    model *m = model_new(&c, &e);
    CHECK(m && model_alloc_train(m, 160, 4, &e) == 0, "%s: %s", what, e.msg);
    if (!m) return;
    model_init_random(m, 11, 0.3f);
    rng_t r;
    rng_seed(&r, 4, 0);
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].ndim == 1)
            for (size_t j = 0; j < m->tensors[i].numel; j++) m->params[m->tensors[i].offset + j] += 0.2f * rng_normal(&r);
    enum { T0 = 70, T1 = 45 };
    int tok[T0 + T1], V = c.vocab_size;
    for (int i = 0; i < T0 + T1; i++) tok[i] = (int)rng_below(&r, V);
    /* reference: the training forward on two whole sequences */
    int st[3] = {0, T0, T0 + T1};
    CHECK(model_forward(m, tok, NULL, st, 2, &e) == 0, "%s", e.msg);
    float *ref = malloc(sizeof(float) * (T0 + T1) * V);
    memcpy(ref, m->a.logits, sizeof(float) * (T0 + T1) * V);
    decoder *d = decoder_new(m, 3, 80, 128, &e);
    CHECK(d != NULL, "%s", e.msg);
    if (!d) { free(ref); model_free(m); return; }
    float logits[3 * 64];
    /* step 1: prefill 9 tokens of seq 0 and 20 of seq 1 at once */
    int slots[3] = {0, 1, 2}, nn[3] = {9, 20, 0}, feed[128];
    memcpy(feed, tok, 9 * sizeof(int));
    memcpy(feed + 9, tok + T0, 20 * sizeof(int));
    CHECK(decoder_step(d, 2, slots, nn, feed, logits, &e) == 0, "%s", e.msg);
    char msg[96];
    snprintf(msg, sizeof msg, "%s prefill seq0", what);
    check_arrays(msg, logits, ref + (size_t)8 * V, V, 1e-5, 1e-4);
    snprintf(msg, sizeof msg, "%s prefill seq1", what);
    check_arrays(msg, logits + V, ref + (size_t)(T0 + 19) * V, V, 1e-5, 1e-4);
    /* slot 2 shares seq 0's 9-token prefix */
    CHECK(decoder_copy_prefix(d, 2, 0, 9, &e) == 0, "%s", e.msg);
    /* then one token at a time for both sequences (slot 2 follows seq 0 too) */
    int bad = 0;
    for (int t = 9, u = 20; t < T0; t++, u++) {
        int B = 0, sl[3], n1[3] = {1, 1, 1}, f[3];
        sl[B] = 0, f[B++] = tok[t];
        sl[B] = 2, f[B++] = tok[t];
        if (u < T1) sl[B] = 1, f[B++] = tok[T0 + u];
        if (decoder_step(d, B, sl, n1, f, logits, &e)) { CHECK(0, "%s", e.msg); break; }
        bad += check_arrays("decode seq0", logits, ref + (size_t)t * V, V, 1e-5, 1e-4);
        bad += check_arrays("decode shared prefix", logits + V, ref + (size_t)t * V, V, 1e-5, 1e-4);
        if (u < T1) bad += check_arrays("decode seq1", logits + 2 * V, ref + (size_t)(T0 + u) * V, V, 1e-5, 1e-4);
        if (bad) break;
    }
    CHECK(decoder_len(d, 0) == T0 && decoder_len(d, 1) == T1, "%s: lengths %d %d", what, decoder_len(d, 0), decoder_len(d, 1));
    /* refusals */
    int one = 1, z = 0;
    CHECK(decoder_step(d, 1, slots, &one, &z, logits, &e) == 0, "%s", e.msg); /* position 70 of 80 is fine */
    int ten = 10, ten_tok[10] = {0};
    CHECK(decoder_step(d, 1, slots, &ten, ten_tok, logits, &e) == RLVR_EARG, "exceeding max_len must be refused");
    int dup[2] = {1, 1}, nn2[2] = {1, 1}, t2[2] = {0, 0};
    CHECK(decoder_step(d, 2, dup, nn2, t2, logits, &e) == RLVR_EARG, "a slot given twice must be refused");
    int badtok = V;
    CHECK(decoder_step(d, 1, slots + 1, &one, &badtok, logits, &e) == RLVR_EARG, "out-of-vocabulary token must be refused");
    decoder_free(d);
    free(ref);
    model_free(m);
}

static void test_llama_gqa(void) { decode_matches("llama gqa", cfg_of("llama", 0, 0, 0, 0)); }
static void test_qwen2_bias_tied(void) { decode_matches("qwen2 bias tied", cfg_of("qwen2", 1, 0, 1, 0)); }
static void test_qwen3_qknorm(void) { decode_matches("qwen3 qk-norm", cfg_of("qwen3", 0, 1, 0, 0)); }
static void test_llama3_rope(void) { decode_matches("llama3 rope", cfg_of("llama", 0, 0, 1, 1)); }

/* the cache kernels against their references: stores bit for bit; attention within
 * tolerance, and bit-identical whether a shared prefix is read from the other slot or
 * not, in any visiting order, for 1 or 2 threads */
static void cache_attention_case(int H, int KV, int D) {
    enum { SLOTS = 4, L = 48, NT = 9 };
    /* tokens: slot 0 prefills positions 20..24, slot 1 decodes at 0, slot 2 at 40, slot 3
     * (a copy of slot 0's first 37 positions, then its own) at 44 */
    int slot[NT] = {0, 0, 0, 0, 0, 1, 2, 3, 3}, pos[NT] = {20, 21, 22, 23, 24, 0, 40, 43, 44};
    int pre_slot[NT] = {0, 0, 0, 0, 0, 1, 2, 0, 0}, pre_len[NT] = {0, 0, 0, 0, 0, 0, 0, 37, 37};
    int order[NT] = {8, 5, 0, 7, 1, 2, 6, 3, 4};
    size_t cache = (size_t)SLOTS * KV * L * D, qn = (size_t)NT * H * D;
    float *kc = calloc(cache, 4), *vc = calloc(cache, 4), *kc2 = calloc(cache, 4), *vc2 = calloc(cache, 4);
    float *q = malloc(qn * 4), *k = malloc((size_t)L * KV * D * 4), *v = malloc((size_t)L * KV * D * 4);
    float *o[5], *oref = calloc(qn, 4);
    for (int i = 0; i < 5; i++) o[i] = calloc(qn, 4);
    rng_t r;
    rng_seed(&r, 8, (uint64_t)D);
    for (size_t i = 0; i < qn; i++) q[i] = rng_normal(&r);
    int sp[L];
    for (int sl = 0; sl < SLOTS; sl++) { /* fill 0..L-1 of every slot, one store per position */
        for (int i = 0; i < L * KV * D; i++) k[i] = rng_normal(&r), v[i] = rng_normal(&r);
        int ss[L];
        for (int p = 0; p < L; p++) ss[p] = sl, sp[p] = p;
        int from = sl == 3 ? 37 : 0; /* slot 3: slot 0's first 37 positions, its own after */
        kvcache_store(kc, vc, k + (size_t)from * KV * D, v + (size_t)from * KV * D, ss + from, sp + from, L - from, KV, D, L);
        kvcache_store_ref(kc2, vc2, k + (size_t)from * KV * D, v + (size_t)from * KV * D, ss + from, sp + from, L - from, KV, D, L);
    }
    for (int kh = 0; kh < KV; kh++)
        for (int p = 0; p < 37; p++)
            for (int d = 0; d < D; d++) {
                size_t b0 = (size_t)kh * L, b3 = ((size_t)3 * KV + kh) * L;
                size_t ko = (size_t)d * KV_TILE + p % KV_TILE, pt = (size_t)(p - p % KV_TILE);
                kc[(b3 + pt) * D + ko] = kc2[(b3 + pt) * D + ko] = kc[(b0 + pt) * D + ko];
                vc[(b3 + p) * D + d] = vc2[(b3 + p) * D + d] = vc[(b0 + p) * D + d];
            }
    CHECK(memcmp(kc, kc2, cache * 4) == 0 && memcmp(vc, vc2, cache * 4) == 0, "kvcache_store differs from its reference (D %d)", D);
    attention_kvcache_forward_ref(oref, q, kc, vc, slot, pos, pre_slot, pre_len, NULL, NT, H, KV, D, L);
    attention_kvcache_forward(o[0], q, kc, vc, slot, pos, pre_slot, pre_len, order, NT, H, KV, D, L);
    attention_kvcache_forward(o[1], q, kc, vc, slot, pos, NULL, NULL, NULL, NT, H, KV, D, L);
    char what[64];
    snprintf(what, sizeof what, "attention_kvcache_forward H %d KV %d D %d", H, KV, D);
    check_arrays(what, o[0], oref, qn, 1e-5, 1e-4);
    CHECK(memcmp(o[0], o[1], qn * 4) == 0, "%s: reading the shared prefix from the other slot changed bits", what);
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    for (int t = 1; t <= 2; t++) {
        omp_set_num_threads(t);
        attention_kvcache_forward(o[1 + t], q, kc, vc, slot, pos, pre_slot, pre_len, order, NT, H, KV, D, L);
        CHECK(memcmp(o[0], o[1 + t], qn * 4) == 0, "%s: %d threads changed bits", what, t);
    }
    omp_set_num_threads(saved);
#endif
    /* one token alone gives the same bits as within the batch */
    attention_kvcache_forward(o[4], q + (size_t)7 * H * D, kc, vc, slot + 7, pos + 7, pre_slot + 7, pre_len + 7, NULL, 1, H, KV, D, L);
    CHECK(memcmp(o[4], o[0] + (size_t)7 * H * D, (size_t)H * D * 4) == 0, "%s: a token alone differs from the batch", what);
    free(kc); free(vc); free(kc2); free(vc2); free(q); free(k); free(v); free(oref);
    for (int i = 0; i < 5; i++) free(o[i]);
}

static void test_cache_attention_kernel(void) {
    cache_attention_case(4, 2, 8);   /* a partial vector of d */
    cache_attention_case(9, 3, 64);  /* SmolLM2: 3 query heads per kv head */
    cache_attention_case(8, 1, 80);  /* 8 heads on one kv head: two head batches, d = 64 + 16 */
    cache_attention_case(2, 2, 128); /* MHA, two chunks of d */
}

/* A step of 70 one-token rows takes the data-parallel path with 2 threads (each
 * thread runs its rows through the whole model) and the team path with 1 or 3: the
 * logits must be the same bits, with groups of slots sharing prefilled prompts. */
static void test_modes_same_bits(void) {
#ifdef _OPENMP
    model_config c = cfg_of("llama", 0, 0, 0, 0);
    c.max_seq_len = 64, c.n_layers = 2;
    rlvr_err e = {0};
    model *m = model_new(&c, &e);
    CHECK(m != NULL, "%s", e.msg);
    if (!m) return;
    model_init_random(m, 5, 0.3f);
    enum { S = 70, P = 5, PL = 21, STEPS = 3 };
    int V = c.vocab_size, saved = omp_get_max_threads(), threads[3] = {1, 2, 3};
    float *lg[3];
    for (int t = 0; t < 3; t++) {
        omp_set_num_threads(threads[t]);
        lg[t] = malloc(sizeof(float) * S * V * STEPS);
        decoder *d = decoder_new(m, S, 64, S * PL, &e);
        CHECK(d != NULL, "%s", e.msg);
        if (!d) break;
        rng_t r;
        rng_seed(&r, 9, 0);
        int slots[S], nn[S], feed[S * PL];
        for (int i = 0; i < P; i++) { /* prompt i in slot i*14, copied to the next 13 */
            slots[i] = i * 14, nn[i] = PL;
            for (int j = 0; j < PL; j++) feed[i * PL + j] = (int)rng_below(&r, V);
        }
        CHECK(decoder_step(d, P, slots, nn, feed, lg[t], &e) == 0, "%s", e.msg);
        for (int s = 0; s < S; s++)
            if (s % 14) CHECK(decoder_copy_prefix(d, s, s / 14 * 14, PL, &e) == 0, "%s", e.msg);
        for (int k = 0; k < STEPS; k++) {
            for (int s = 0; s < S; s++) slots[s] = (s * 37) % S, nn[s] = 1, feed[s] = (int)rng_below(&r, V); /* scrambled slot order */
            CHECK(decoder_step(d, S, slots, nn, feed, lg[t] + (size_t)k * S * V, &e) == 0, "%s", e.msg);
        }
        decoder_free(d);
    }
    omp_set_num_threads(saved);
    CHECK(memcmp(lg[0], lg[1], sizeof(float) * S * V * STEPS) == 0, "1 thread (team) vs 2 threads (data-parallel) differ");
    CHECK(memcmp(lg[0], lg[2], sizeof(float) * S * V * STEPS) == 0, "1 thread vs 3 threads differ");
    for (int t = 0; t < 3; t++) free(lg[t]);
    model_free(m);
#endif
}

int main(void) {
    RUN(test_modes_same_bits);
    RUN(test_cache_attention_kernel);
    RUN(test_llama_gqa);
    RUN(test_qwen2_bias_tied);
    RUN(test_qwen3_qknorm);
    RUN(test_llama3_rope);
    return check_finish("test_decode");
}
