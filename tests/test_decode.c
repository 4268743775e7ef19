/* test_decode: the KV-cache decoder gives the logits of the training forward on the
 * same weights: prefill + token-by-token decoding, several slots per step, shared
 * prompt prefixes, for GQA, biases, qk-norm, tied heads and Llama-3 rope scaling. */
#include "check.h"
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

static void test_cached_attention_kernel(void) {
    enum { H = 4, KV = 2, D = 8, B = 3 };
    int q_start[B + 1] = {0, 5, 6, 30}, pos0[B] = {3, 0, 10}, kv_row[B] = {0, 40, 80};
    int NQ = q_start[B], rows = 120;
    float *q = malloc(sizeof(float) * NQ * H * D), *kc = malloc(sizeof(float) * rows * KV * D), *vc = malloc(sizeof(float) * rows * KV * D);
    float *o1 = calloc(NQ * H * D, 4), *o2 = calloc(NQ * H * D, 4);
    rng_t r;
    rng_seed(&r, 8, 0);
    for (int i = 0; i < NQ * H * D; i++) q[i] = rng_normal(&r);
    for (int i = 0; i < rows * KV * D; i++) kc[i] = rng_normal(&r), vc[i] = rng_normal(&r);
    attention_cached_forward(o1, q, kc, vc, q_start, pos0, kv_row, B, H, KV, D);
    attention_cached_forward_ref(o2, q, kc, vc, q_start, pos0, kv_row, B, H, KV, D);
    check_arrays("attention_cached_forward", o1, o2, NQ * H * D, 1e-5, 1e-4);
    /* a pure decode step (one query per sequence) takes the grouped path */
    int q1[B + 1] = {0, 1, 2, 3}, p1[B] = {7, 0, 39};
    attention_cached_forward(o1, q, kc, vc, q1, p1, kv_row, B, H, KV, D);
    attention_cached_forward_ref(o2, q, kc, vc, q1, p1, kv_row, B, H, KV, D);
    check_arrays("attention_cached_forward (decode)", o1, o2, 3 * H * D, 1e-5, 1e-4);
    free(q); free(kc); free(vc); free(o1); free(o2);
}

int main(void) {
    RUN(test_cached_attention_kernel);
    RUN(test_llama_gqa);
    RUN(test_qwen2_bias_tied);
    RUN(test_qwen3_qknorm);
    RUN(test_llama3_rope);
    return check_finish("test_decode");
}
