/* test_model: the whole model against independent references.
 *  - golden files from PyTorch/transformers (tests/ref/make_golden.py): logits,
 *    per-token log-probs and entropies, loss, every parameter gradient for the NLL
 *    and for a logp/entropy mixture, and five AdamW steps with clipping;
 *  - central finite differences of a double-precision forward (built from the _refd
 *    kernels) against the float analytic gradients, for GQA, qk-norm, bias, tied and
 *    untied heads;
 *  - packed variable-length batches equal each sequence run alone. */
#include <stdint.h>
#include "check.h"
#include "core/rng.h"
#include "formats/hfconfig.h"
#include "formats/safetensors.h"
#include "kernels/kernels.h"
#include "model/io.h"
#include "model/model.h"
#include "train/optim.h"

static float *read_f32(st_file *f, const char *name, uint64_t *n) {
    const st_tensor *t = st_find(f, name);
    if (!t) { CHECK(0, "golden tensor %s missing", name); return NULL; }
    float *p = malloc(t->numel * sizeof(float) + 4);
    rlvr_err e = {0};
    CHECK(st_read_f32(f, t, p, t->numel, &e) == 0, "%s", e.msg);
    if (n) *n = t->numel;
    return p;
}
static int *read_i32(st_file *f, const char *name, uint64_t *n) {
    const st_tensor *t = st_find(f, name);
    if (!t) { CHECK(0, "golden tensor %s missing", name); return NULL; }
    int32_t *p = malloc(t->numel * sizeof(int32_t) + 4);
    rlvr_err e = {0};
    CHECK(st_read_i32(f, t, p, t->numel, &e) == 0, "%s", e.msg);
    if (n) *n = t->numel;
    return (int *)p;
}
static double absmax(const float *p, size_t n) { double m = 0; for (size_t i = 0; i < n; i++) if (fabs(p[i]) > m) m = fabs(p[i]); return m; }

/* compares a model buffer (params or grads) tensor by tensor with "<prefix><name>";
 * names containing `skip` (may be NULL) are left out */
static void compare_tensors(model *m, st_file *f, const float *buf, const char *prefix, double rtol, const char *skip) {
    for (int i = 0; i < m->n_tensors; i++) {
        const tensor_info *ti = &m->tensors[i];
        if (skip && strstr(ti->name, skip)) continue;
        char name[160];
        snprintf(name, sizeof name, "%s%s", prefix, ti->name);
        uint64_t n = 0;
        float *ref = read_f32(f, name, &n);
        if (!ref) continue;
        CHECK(n == ti->numel, "%s: %llu elements, model has %zu", name, (unsigned long long)n, ti->numel);
        if (n == ti->numel) check_arrays(name, buf + ti->offset, ref, n, rtol * absmax(ref, n) + 1e-7, rtol);
        free(ref);
    }
}

static void golden_case(const char *path) {
    rlvr_err e = {0};
    st_file *f = NULL;
    if (st_open(path, &f, &e)) { CHECK(0, "%s", e.msg); return; }
    const char *cj = st_meta(f, "config_json");
    model_config c;
    CHECK(cj && hfconfig_parse(cj, strlen(cj), path, &c, &e) == 0, "%s: config: %s", path, e.msg);
    model *m = model_new(&c, &e);
    CHECK(m != NULL, "%s", e.msg);
    if (!m) { st_close(f); return; }
    CHECK(model_load_params(m, f, &e) == 0, "%s", e.msg);
    CHECK(model_alloc_train(m, 64, 8, &e) == 0, "%s", e.msg);
    uint64_t N, B, V = c.vocab_size;
    int *tok = read_i32(f, "tokens", &N), *tgt = read_i32(f, "targets", NULL), *lens = read_i32(f, "seq_lens", &B);
    float *w = read_f32(f, "weights", NULL), *c1 = read_f32(f, "c1", NULL), *c2 = read_f32(f, "c2", NULL);
    int seq[16] = {0};
    for (uint64_t b = 0; b < B; b++) seq[b + 1] = seq[b] + lens[b];
    CHECK(model_forward(m, tok, tgt, seq, (int)B, &e) == 0, "%s", e.msg);
    float *logits = read_f32(f, "logits", NULL), *logp = read_f32(f, "logp", NULL), *ent = read_f32(f, "entropy", NULL);
    float *loss = read_f32(f, "loss", NULL), *loss2 = read_f32(f, "loss2", NULL);
    check_arrays("logits", m->a.logits, logits, N * V, 1e-5 * absmax(logits, N * V), 1e-4);
    check_arrays("logp", m->a.logp, logp, N, 1e-5, 1e-4);
    check_arrays("entropy", m->a.entropy, ent, N, 1e-5, 1e-4);
    float dlogp[64];
    double l = model_nll(m, w, dlogp);
    CHECK_CLOSE(l, loss[0], 1e-6, 1e-5, "loss");
    CHECK(model_backward(m, dlogp, NULL, &e) == 0, "%s", e.msg);
    CHECK(model_backward(m, dlogp, NULL, &e) == RLVR_EARG, "a second backward on one forward must be refused");
    compare_tensors(m, f, m->grads, "grad.", 1e-3, NULL);

    /* gradient of sum(c1*logp + c2*entropy): the interface the RL losses use */
    model_zero_grad(m);
    model_forward(m, tok, tgt, seq, (int)B, &e);
    double l2 = 0;
    for (uint64_t n = 0; n < N; n++) l2 += c1[n] * m->a.logp[n] + c2[n] * m->a.entropy[n];
    CHECK_CLOSE(l2, loss2[0], 1e-5, 1e-4, "loss2");
    CHECK(model_backward(m, c1, c2, &e) == 0, "%s", e.msg);
    compare_tensors(m, f, m->grads, "grad2.", 1e-3, NULL);

    /* five AdamW steps with clipping, from the same start */
    CHECK(model_load_params(m, f, &e) == 0, "%s", e.msg);
    memset(m->m, 0, m->n_params * 4);
    memset(m->v, 0, m->n_params * 4);
    adamw_params ap = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f, .grad_clip = 1.0f};
    float *aloss = read_f32(f, "adam.loss", NULL), *agn = read_f32(f, "adam.gnorm", NULL);
    for (int s = 1; s <= 5; s++) {
        model_zero_grad(m);
        model_forward(m, tok, tgt, seq, (int)B, &e);
        double ls = model_nll(m, w, dlogp);
        model_backward(m, dlogp, NULL, &e);
        double gn;
        CHECK(adamw_step(m, &ap, ap.lr, s, &gn, &e) == 0, "%s", e.msg);
        char what[32];
        snprintf(what, sizeof what, "adam loss %d", s);
        CHECK_CLOSE(ls, aloss[s - 1], 1e-5, 1e-4, what);
        snprintf(what, sizeof what, "adam gnorm %d", s);
        CHECK_CLOSE(gn, agn[s - 1], 1e-5, 1e-3, what);
    }
    /* The k bias shifts every score of a query by the same amount, so softmax makes
     * its gradient exactly zero (checked above: grad.*k_proj.bias is ~0). What is left
     * is rounding noise, which Adam divides by its own RMS and turns into steps of
     * about lr; comparing those steps would compare noise. Every other tensor must
     * match after five steps. */
    compare_tensors(m, f, m->params, "step5.", 1e-4, "k_proj.bias");
    free(tok); free(tgt); free(lens); free(w); free(c1); free(c2); free(logits); free(logp); free(ent);
    free(loss); free(loss2); free(aloss); free(agn);
    model_free(m);
    st_close(f);
}

static void test_golden_llama_gqa(void) { golden_case("tests/data/golden/llama_gqa.safetensors"); }
static void test_golden_llama_mha_tied(void) { golden_case("tests/data/golden/llama_mha_tied.safetensors"); }
static void test_golden_qwen2_bias(void) { golden_case("tests/data/golden/qwen2_bias.safetensors"); }
static void test_golden_qwen3_qknorm(void) { golden_case("tests/data/golden/qwen3_qknorm.safetensors"); }
static void test_golden_llama3_rope(void) { golden_case("tests/data/golden/llama3_rope.safetensors"); }

/* ---- double-precision forward from the _refd kernels, for finite differences ---- */
static double loss_double(const model *m, const double *P, const int *tok, const int *tgt, const int *seq, int B, const double *c1, const double *c2) {
    const model_config *c = &m->cfg;
    int N = seq[B], C = c->dim, F = c->hidden_dim, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim, V = c->vocab_size;
    int HD = H * D, KD = KV * D, pos[64];
    for (int b = 0; b < B; b++) for (int t = seq[b]; t < seq[b + 1]; t++) pos[t] = t - seq[b];
    double *x = calloc(N * C, 8), *ln = calloc(N * C, 8), *q = calloc(N * HD, 8), *k = calloc(N * KD, 8), *v = calloc(N * KD, 8);
    double *q2 = calloc(N * HD, 8), *k2 = calloc(N * KD, 8), *att = calloc(N * HD, 8), *o = calloc(N * C, 8);
    double *g = calloc(N * F, 8), *u = calloc(N * F, 8), *a = calloc(N * F, 8), *lg = calloc(N * V, 8);
    double rstd[64 * 8], lse[64 * 8], lp[64], en[64];
#define PT(name) (P + model_find_tensor(m, name)->offset)
    char nm[128];
#define LT(l, s) (snprintf(nm, sizeof nm, "model.layers.%d.%s", l, s), PT(nm))
    embedding_forward_refd(x, tok, PT("model.embed_tokens.weight"), N, C);
    for (int l = 0; l < c->n_layers; l++) {
        rmsnorm_forward_refd(ln, rstd, x, LT(l, "input_layernorm.weight"), N, C, c->norm_eps);
        matmul_forward_refd(q, ln, LT(l, "self_attn.q_proj.weight"), c->qkv_bias ? LT(l, "self_attn.q_proj.bias") : NULL, N, C, HD);
        matmul_forward_refd(k, ln, LT(l, "self_attn.k_proj.weight"), c->qkv_bias ? LT(l, "self_attn.k_proj.bias") : NULL, N, C, KD);
        matmul_forward_refd(v, ln, LT(l, "self_attn.v_proj.weight"), c->qkv_bias ? LT(l, "self_attn.v_proj.bias") : NULL, N, C, KD);
        if (c->qk_norm) {
            rmsnorm_forward_refd(q2, rstd, q, LT(l, "self_attn.q_norm.weight"), N * H, D, c->norm_eps);
            rmsnorm_forward_refd(k2, rstd, k, LT(l, "self_attn.k_norm.weight"), N * KV, D, c->norm_eps);
            memcpy(q, q2, N * HD * 8);
            memcpy(k, k2, N * KD * 8);
        }
        rope_forward_refd(q, pos, m->rope_cos, m->rope_sin, N, H, D);
        rope_forward_refd(k, pos, m->rope_cos, m->rope_sin, N, KV, D);
        attention_forward_refd(att, lse, q, k, v, seq, B, H, KV, D);
        matmul_forward_refd(o, att, LT(l, "self_attn.o_proj.weight"), NULL, N, HD, C);
        for (int i = 0; i < N * C; i++) x[i] += o[i];
        rmsnorm_forward_refd(ln, rstd, x, LT(l, "post_attention_layernorm.weight"), N, C, c->norm_eps);
        matmul_forward_refd(g, ln, LT(l, "mlp.gate_proj.weight"), NULL, N, C, F);
        matmul_forward_refd(u, ln, LT(l, "mlp.up_proj.weight"), NULL, N, C, F);
        swiglu_forward_refd(a, g, u, N, F);
        matmul_forward_refd(o, a, LT(l, "mlp.down_proj.weight"), NULL, N, F, C);
        for (int i = 0; i < N * C; i++) x[i] += o[i];
    }
    rmsnorm_forward_refd(ln, rstd, x, PT("model.norm.weight"), N, C, c->norm_eps);
    matmul_forward_refd(lg, ln, c->tie_embeddings ? PT("model.embed_tokens.weight") : PT("lm_head.weight"), NULL, N, C, V);
    logits_stats_refd(lse, lp, en, lg, tgt, N, V);
    double L = 0;
    for (int n = 0; n < N; n++) L += c1[n] * lp[n] + c2[n] * en[n];
    free(x); free(ln); free(q); free(k); free(v); free(q2); free(k2); free(att); free(o); free(g); free(u); free(a); free(lg);
    return L;
#undef PT
#undef LT
}

static void fd_model(const char *what, model_config c) {
    rlvr_err e = {0};
    model *m = model_new(&c, &e);
    CHECK(m && model_alloc_train(m, 32, 4, &e) == 0, "%s: %s", what, e.msg);
    if (!m) return;
    model_init_random(m, 7, 0.3f);
    rng_t r;
    rng_seed(&r, 99, 1);
    for (int i = 0; i < m->n_tensors; i++) /* non-trivial norms and biases */
        if (m->tensors[i].ndim == 1)
            for (size_t j = 0; j < m->tensors[i].numel; j++) m->params[m->tensors[i].offset + j] += 0.3f * rng_normal(&r);
    int seq[] = {0, 6, 11}, tok[11], tgt[11];
    float c1f[11], c2f[11];
    double c1[11], c2[11];
    for (int n = 0; n < 11; n++) {
        tok[n] = (int)rng_below(&r, c.vocab_size);
        tgt[n] = (n == 5 || n == 10) ? -1 : (int)rng_below(&r, c.vocab_size);
        c1[n] = c1f[n] = tgt[n] < 0 ? 0 : rng_normal(&r);
        c2[n] = c2f[n] = 0.5f * rng_normal(&r);
    }
    CHECK(model_forward(m, tok, tgt, seq, 2, &e) == 0, "%s", e.msg);
    CHECK(model_backward(m, c1f, c2f, &e) == 0, "%s", e.msg);
    double *P = malloc(m->n_params * 8);
    for (size_t i = 0; i < m->n_params; i++) P[i] = m->params[i];
    int bad = 0, tried = 0;
    double maxrel = 0;
    for (int ti = 0; ti < m->n_tensors; ti++) {
        const tensor_info *t = &m->tensors[ti];
        for (int s = 0; s < 6; s++) { /* a few coordinates of every tensor */
            size_t j = t->offset + rng_below(&r, t->numel);
            double p0 = P[j], h = 1e-5;
            P[j] = p0 + h;
            double lp = loss_double(m, P, tok, tgt, seq, 2, c1, c2);
            P[j] = p0 - h;
            double lm = loss_double(m, P, tok, tgt, seq, 2, c1, c2);
            P[j] = p0;
            double num = (lp - lm) / (2 * h), an = m->grads[j], err = fabs(num - an);
            tried++;
            if (err > 2e-5 + 2e-3 * fabs(num)) {
                if (bad < 5) fprintf(stderr, "  %s %s[%zu]: analytic %.8g numeric %.8g\n", what, t->name, j - t->offset, an, num);
                bad++;
            }
            if (fabs(num) > 1e-3 && err / fabs(num) > maxrel) maxrel = err / fabs(num);
        }
    }
    CHECK(bad == 0, "%s: %d of %d coordinates disagree with finite differences (max rel err %.2g)", what, bad, tried, maxrel);
    free(P);
    model_free(m);
}

static model_config tiny(const char *arch) {
    model_config c = {0};
    snprintf(c.arch, sizeof c.arch, "%s", arch);
    c.vocab_size = 23, c.dim = 16, c.hidden_dim = 24, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.head_dim = 4;
    c.max_seq_len = 16, c.norm_eps = 1e-5f, c.rope_theta = 10000.0f, c.bos_id = c.eos_id = -1;
    return c;
}

static void test_fd_gqa_untied(void) { fd_model("gqa untied", tiny("llama")); }
static void test_fd_tied_mha(void) { model_config c = tiny("llama"); c.n_kv_heads = 4; c.tie_embeddings = 1; fd_model("mha tied", c); }
static void test_fd_bias(void) { model_config c = tiny("qwen2"); c.qkv_bias = 1; c.tie_embeddings = 1; fd_model("qkv bias", c); }
static void test_fd_qknorm(void) { model_config c = tiny("qwen3"); c.qk_norm = 1; c.n_kv_heads = 1; c.head_dim = 6; fd_model("qk norm", c); }

/* packed sequences give the same results as each sequence alone */
static void test_varlen_isolation(void) {
    rlvr_err e = {0};
    model_config c = tiny("llama");
    c.vocab_size = 50, c.max_seq_len = 40;
    model *m = model_new(&c, &e);
    CHECK(m && model_alloc_train(m, 96, 4, &e) == 0, "%s", e.msg);
    if (!m) return;
    model_init_random(m, 3, 0.2f);
    int lens[] = {17, 1, 33, 9}, seq[5] = {0}, tok[60], tgt[60];
    for (int b = 0; b < 4; b++) seq[b + 1] = seq[b] + lens[b];
    rng_t r;
    rng_seed(&r, 5, 0);
    for (int n = 0; n < seq[4]; n++) tok[n] = (int)rng_below(&r, 50), tgt[n] = (int)rng_below(&r, 50);
    CHECK(model_forward(m, tok, tgt, seq, 4, &e) == 0, "%s", e.msg);
    float lp[60], en[60];
    memcpy(lp, m->a.logp, sizeof(float) * seq[4]);
    memcpy(en, m->a.entropy, sizeof(float) * seq[4]);
    for (int b = 0; b < 4; b++) {
        int one[2] = {0, lens[b]};
        CHECK(model_forward(m, tok + seq[b], tgt + seq[b], one, 1, &e) == 0, "%s", e.msg);
        char what[48];
        snprintf(what, sizeof what, "logp of sequence %d alone", b);
        check_arrays(what, m->a.logp, lp + seq[b], lens[b], 1e-6, 1e-5);
        snprintf(what, sizeof what, "entropy of sequence %d alone", b);
        check_arrays(what, m->a.entropy, en + seq[b], lens[b], 1e-6, 1e-5);
    }
    /* bad input is refused with a message, not a crash */
    tok[3] = 50;
    CHECK(model_forward(m, tok, tgt, seq, 4, &e) == RLVR_EARG && strstr(e.msg, "position 3"), "out-of-vocab token: %s", e.msg);
    tok[3] = 0;
    int longseq[] = {0, 41};
    CHECK(model_forward(m, tok, tgt, longseq, 1, &e) == RLVR_EARG, "a sequence longer than max_seq_len must be refused");
    model_free(m);
}

int main(void) {
    RUN(test_golden_llama_gqa);
    RUN(test_golden_llama_mha_tied);
    RUN(test_golden_qwen2_bias);
    RUN(test_golden_qwen3_qknorm);
    RUN(test_golden_llama3_rope);
    RUN(test_fd_gqa_untied);
    RUN(test_fd_tied_mha);
    RUN(test_fd_bias);
    RUN(test_fd_qknorm);
    RUN(test_varlen_isolation);
    return check_finish("test_model");
}
