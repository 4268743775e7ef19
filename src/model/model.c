/* model.c: parameter layout, allocation, the training forward and the hand-written
 * backward of the Llama family. The math of each op lives in kernels/; this file
 * wires ops together and owns the buffers. Sampling-time decoding with a KV cache
 * is not here (see rollout/). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "core/rng.h"
#include "kernels/kernels.h"
#include "model/model.h"
#ifdef _OPENMP
#include <omp.h>
static double wtime(void) { return omp_get_wtime(); }
#else
#include <time.h>
static double wtime(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
#endif

const char *const model_prof_names[PROF_N] = {"gemm", "attention", "rmsnorm", "rope", "swiglu", "logits+loss", "embedding", "other"};

/* Runs stmt, adding its wall time to m->prof[kind] when profiling is on. */
#define TIMED(kind, stmt) do { double t_ = m->profile ? wtime() : 0; stmt; if (m->profile) m->prof[kind] += wtime() - t_; } while (0)

int model_config_check(const model_config *c, rlvr_err *err) {
    if (c->vocab_size <= 0 || c->dim <= 0 || c->hidden_dim <= 0 || c->n_layers <= 0 || c->n_heads <= 0 ||
        c->n_kv_heads <= 0 || c->head_dim <= 0 || c->max_seq_len <= 0)
        return errf(err, RLVR_ECONFIG, "model config: sizes must be positive (vocab %d, dim %d, hidden %d, layers %d, heads %d, kv heads %d, head_dim %d, max_seq_len %d)",
                    c->vocab_size, c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim, c->max_seq_len);
    if (c->n_heads % c->n_kv_heads)
        return errf(err, RLVR_ECONFIG, "model config: kv heads (%d) must divide heads (%d)", c->n_kv_heads, c->n_heads);
    if (c->head_dim % 2)
        return errf(err, RLVR_ECONFIG, "model config: head_dim (%d) must be even for rotary embeddings", c->head_dim);
    if (!(c->norm_eps > 0) || !(c->rope_theta > 0))
        return errf(err, RLVR_ECONFIG, "model config: rms_norm_eps and rope_theta must be positive");
    if (c->vocab_size > (1 << 24) || c->dim > (1 << 16) || c->hidden_dim > (1 << 18) || c->n_layers > 1024 ||
        c->n_heads > 1024 || c->head_dim > 1024 || c->max_seq_len > (1 << 20))
        return errf(err, RLVR_ECONFIG, "model config: sizes beyond what rlvr supports");
    return RLVR_OK;
}

/* Walks every parameter tensor in Hugging Face order. With `info` non-NULL it
 * records names, shapes and offsets; with `w` and `base` non-NULL it points the
 * views of `w` into `base`. Returns the tensor count; *total gets the float count. */
static int layout(const model_config *c, tensor_info *info, model_weights *w, float *base, size_t *total) {
    int n = 0;
    size_t off = 0;
    int C = c->dim, HD = c->n_heads * c->head_dim, KD = c->n_kv_heads * c->head_dim, F = c->hidden_dim;
#define T(slot, nm, d0, d1, dec) do { float **slot_ = (slot); \
        size_t ne_ = (size_t)(d0) * ((d1) ? (size_t)(d1) : 1); \
        if (info) { tensor_info *ti = &info[n]; memset(ti, 0, sizeof *ti); \
            snprintf(ti->name, sizeof ti->name, "%s", nm); ti->ndim = (d1) ? 2 : 1; \
            ti->shape[0] = (d0); ti->shape[1] = (d1); ti->offset = off; ti->numel = ne_; ti->decay = (dec); } \
        if (slot_ && base) *slot_ = base + off; \
        off += ne_; n++; } while (0)
    char nm[80];
    T(w ? &w->wte : NULL, "model.embed_tokens.weight", c->vocab_size, C, 1);
    for (int l = 0; l < c->n_layers; l++) {
        layer_weights *lw = w ? &w->layers[l] : NULL;
#define L(field, suffix, d0, d1, dec) do { snprintf(nm, sizeof nm, "model.layers.%d.%s", l, suffix); \
            T(lw ? &lw->field : NULL, nm, d0, d1, dec); } while (0)
        L(ln1, "input_layernorm.weight", C, 0, 0);
        L(wq, "self_attn.q_proj.weight", HD, C, 1);
        if (c->qkv_bias) L(bq, "self_attn.q_proj.bias", HD, 0, 0);
        L(wk, "self_attn.k_proj.weight", KD, C, 1);
        if (c->qkv_bias) L(bk, "self_attn.k_proj.bias", KD, 0, 0);
        L(wv, "self_attn.v_proj.weight", KD, C, 1);
        if (c->qkv_bias) L(bv, "self_attn.v_proj.bias", KD, 0, 0);
        L(wo, "self_attn.o_proj.weight", C, HD, 1);
        if (c->qk_norm) {
            L(q_norm, "self_attn.q_norm.weight", c->head_dim, 0, 0);
            L(k_norm, "self_attn.k_norm.weight", c->head_dim, 0, 0);
        }
        L(ln2, "post_attention_layernorm.weight", C, 0, 0);
        L(wgate, "mlp.gate_proj.weight", F, C, 1);
        L(wup, "mlp.up_proj.weight", F, C, 1);
        L(wdown, "mlp.down_proj.weight", C, F, 1);
#undef L
    }
    T(w ? &w->norm_f : NULL, "model.norm.weight", C, 0, 0);
    if (!c->tie_embeddings) T(w ? &w->lm_head : NULL, "lm_head.weight", c->vocab_size, C, 1);
    else if (w && base) w->lm_head = w->wte;
#undef T
    *total = off;
    return n;
}

model *model_new(const model_config *c, rlvr_err *err) {
    if (model_config_check(c, err)) return NULL;
    model *m = calloc(1, sizeof *m);
    if (!m) { errf(err, RLVR_ENOMEM, "model: out of memory"); return NULL; }
    m->cfg = *c;
    m->n_tensors = layout(c, NULL, NULL, NULL, &m->n_params);
    m->tensors = calloc(m->n_tensors, sizeof *m->tensors);
    m->w.layers = calloc(c->n_layers, sizeof *m->w.layers);
    m->g.layers = calloc(c->n_layers, sizeof *m->g.layers);
    m->params = aligned_alloc(64, ((m->n_params * sizeof(float)) + 63) / 64 * 64);
    size_t h2 = (size_t)c->head_dim / 2;
    m->rope_cos = malloc((size_t)c->max_seq_len * h2 * sizeof(float));
    m->rope_sin = malloc((size_t)c->max_seq_len * h2 * sizeof(float));
    if (!m->tensors || !m->w.layers || !m->g.layers || !m->params || !m->rope_cos || !m->rope_sin) {
        model_free(m);
        errf(err, RLVR_ENOMEM, "model: cannot allocate %zu parameters", c ? (size_t)0 : 0);
        return NULL;
    }
    memset(m->params, 0, m->n_params * sizeof(float));
    size_t total;
    layout(c, m->tensors, &m->w, m->params, &total);
    rope_tables(m->rope_cos, m->rope_sin, c->max_seq_len, c->head_dim, c->rope_theta, c->rope_scaling == ROPE_SCALING_LLAMA3,
                c->rope_factor, c->rope_low_freq_factor, c->rope_high_freq_factor, c->rope_orig_max_pos);
    return m;
}

void model_free(model *m) {
    if (!m) return;
    free(m->tensors);
    free(m->w.layers);
    free(m->g.layers);
    free(m->params);
    free(m->grads);
    free(m->m);
    free(m->v);
    free(m->rope_cos);
    free(m->rope_sin);
    free(m->acts_mem);
    free(m);
}

const tensor_info *model_find_tensor(const model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

void model_init_random(model *m, uint64_t seed, float std) {
    rng_t r;
    rng_seed(&r, seed, 0x1417);
    float out_std = std / sqrtf(2.0f * m->cfg.n_layers);
    for (int i = 0; i < m->n_tensors; i++) {
        const tensor_info *t = &m->tensors[i];
        float *p = m->params + t->offset;
        if (t->ndim == 1) {
            float v = strstr(t->name, "norm") ? 1.0f : 0.0f;
            for (size_t j = 0; j < t->numel; j++) p[j] = v;
        } else {
            float s = (strstr(t->name, "o_proj") || strstr(t->name, "down_proj")) ? out_std : std;
            for (size_t j = 0; j < t->numel; j++) p[j] = s * rng_normal(&r);
        }
    }
}

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

int model_alloc_train(model *m, int max_tokens, int max_seqs, rlvr_err *err) {
    const model_config *c = &m->cfg;
    if (max_tokens <= 0 || max_seqs <= 0 || max_seqs > max_tokens)
        return errf(err, RLVR_EARG, "model: bad activation sizes (max_tokens %d, max_seqs %d)", max_tokens, max_seqs);
    size_t bytes = ((m->n_params * sizeof(float)) + 63) / 64 * 64;
    m->grads = aligned_alloc(64, bytes);
    m->m = aligned_alloc(64, bytes);
    m->v = aligned_alloc(64, bytes);
    if (!m->grads || !m->m || !m->v) return errf(err, RLVR_ENOMEM, "model: cannot allocate gradients and Adam state (%zu bytes each)", bytes);
    memset(m->grads, 0, bytes);
    memset(m->m, 0, bytes);
    memset(m->v, 0, bytes);
    size_t total;
    layout(c, NULL, &m->g, m->grads, &total);

    /* activations: a sizes pass, one allocation, a pointer walk */
    size_t N = (size_t)max_tokens, L = (size_t)c->n_layers, C = (size_t)c->dim, F = (size_t)c->hidden_dim;
    size_t HD = (size_t)c->n_heads * c->head_dim, KD = (size_t)c->n_kv_heads * c->head_dim, H = (size_t)c->n_heads;
    size_t V = (size_t)c->vocab_size, KVn = c->n_kv_heads;
    int qn = c->qk_norm;
    struct { float **p; size_t n; } f[] = {
        {&m->a.x, (L + 1) * N * C}, {&m->a.ln1, L * N * C}, {&m->a.rstd1, L * N},
        {&m->a.qpre, qn ? L * N * HD : 0}, {&m->a.kpre, qn ? L * N * KD : 0},
        {&m->a.qrstd, qn ? L * N * H : 0}, {&m->a.krstd, qn ? L * N * KVn : 0},
        {&m->a.q, L * N * HD}, {&m->a.k, L * N * KD}, {&m->a.v, L * N * KD},
        {&m->a.att, L * N * HD}, {&m->a.lse_att, L * N * H}, {&m->a.xmid, L * N * C},
        {&m->a.ln2, L * N * C}, {&m->a.rstd2, L * N}, {&m->a.gate, L * N * F}, {&m->a.up, L * N * F},
        {&m->a.act, L * N * F}, {&m->a.lnf, N * C}, {&m->a.rstdf, N}, {&m->a.logits, N * V},
        {&m->a.lse, N}, {&m->a.logp, N}, {&m->a.entropy, N},
        {&m->a.dres, N * C}, {&m->a.dln, N * C}, {&m->a.datt, N * HD}, {&m->a.dq, N * HD},
        {&m->a.dk, N * KD}, {&m->a.dv, N * KD}, {&m->a.dqn, qn ? N * HD : 0}, {&m->a.dkn, qn ? N * KD : 0},
        {&m->a.dgate, N * F}, {&m->a.dup, N * F}, {&m->a.dact, N * F},
    };
    size_t nf = sizeof f / sizeof f[0], floats = 0;
    for (size_t i = 0; i < nf; i++) floats += align16(f[i].n);
    size_t ints = align16(N) * 3 + align16((size_t)max_seqs + 1);
    m->acts_mem = aligned_alloc(64, (floats * sizeof(float) + ints * sizeof(int) + 63) / 64 * 64);
    if (!m->acts_mem) return errf(err, RLVR_ENOMEM, "model: cannot allocate activations for %d tokens (%.1f MiB)", max_tokens,
                                  (floats * 4.0 + ints * 4.0) / (1 << 20));
    float *p = m->acts_mem;
    for (size_t i = 0; i < nf; i++) { *f[i].p = f[i].n ? p : NULL; p += align16(f[i].n); }
    int *ip = (int *)p;
    m->a.tokens = ip; ip += align16(N);
    m->a.targets = ip; ip += align16(N);
    m->a.pos = ip; ip += align16(N);
    m->a.seq_start = ip;
    m->max_tokens = max_tokens;
    m->max_seqs = max_seqs;
    return RLVR_OK;
}

void model_zero_grad(model *m) {
    if (m->grads) memset(m->grads, 0, m->n_params * sizeof(float));
}

int model_forward(model *m, const int *tokens, const int *targets, const int *seq_start, int B, rlvr_err *err) {
    const model_config *c = &m->cfg;
    model_acts *a = &m->a;
    if (!m->acts_mem) return errf(err, RLVR_EARG, "model_forward: call model_alloc_train first");
    if (B <= 0 || B > m->max_seqs) return errf(err, RLVR_EARG, "model_forward: %d sequences, at most %d", B, m->max_seqs);
    if (seq_start[0] != 0) return errf(err, RLVR_EARG, "model_forward: seq_start[0] must be 0");
    for (int b = 0; b < B; b++) {
        int len = seq_start[b + 1] - seq_start[b];
        if (len <= 0 || len > c->max_seq_len)
            return errf(err, RLVR_EARG, "model_forward: sequence %d has length %d (must be 1..%d)", b, len, c->max_seq_len);
        if (seq_start[b + 1] > m->max_tokens)
            return errf(err, RLVR_EARG, "model_forward: %d tokens exceed max_tokens %d", seq_start[b + 1], m->max_tokens);
    }
    int N = seq_start[B], V = c->vocab_size;
    for (int n = 0; n < N; n++) {
        if (tokens[n] < 0 || tokens[n] >= V) return errf(err, RLVR_EARG, "model_forward: token %d at position %d outside vocabulary of %d", tokens[n], n, V);
        if (targets && (targets[n] < -1 || targets[n] >= V)) return errf(err, RLVR_EARG, "model_forward: target %d at position %d outside vocabulary of %d", targets[n], n, V);
    }
    memcpy(a->tokens, tokens, N * sizeof(int));
    for (int n = 0; n < N; n++) a->targets[n] = targets ? targets[n] : -1;
    memcpy(a->seq_start, seq_start, (B + 1) * sizeof(int));
    for (int b = 0; b < B; b++)
        for (int t = seq_start[b]; t < seq_start[b + 1]; t++) a->pos[t] = t - seq_start[b];
    a->N = N, a->B = B, a->backward_done = 0;

    int C = c->dim, F = c->hidden_dim, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim;
    int HD = H * D, KD = KV * D;
    size_t MN = m->max_tokens;
    float eps = c->norm_eps;
    TIMED(PROF_EMBED, embedding_forward(a->x, a->tokens, m->w.wte, N, C));
    for (int l = 0; l < c->n_layers; l++) {
        const layer_weights *w = &m->w.layers[l];
        float *x = a->x + l * MN * C, *xnext = a->x + (l + 1) * MN * C;
        float *ln1 = a->ln1 + l * MN * C, *q = a->q + l * MN * HD, *k = a->k + l * MN * KD, *v = a->v + l * MN * KD;
        float *att = a->att + l * MN * HD, *xmid = a->xmid + l * MN * C, *ln2 = a->ln2 + l * MN * C;
        float *gate = a->gate + l * MN * F, *up = a->up + l * MN * F, *act = a->act + l * MN * F;
        TIMED(PROF_NORM, rmsnorm_forward(ln1, a->rstd1 + l * MN, x, w->ln1, N, C, eps));
        if (c->qk_norm) {
            float *qpre = a->qpre + l * MN * HD, *kpre = a->kpre + l * MN * KD;
            TIMED(PROF_GEMM, matmul_forward(qpre, ln1, w->wq, w->bq, N, C, HD));
            TIMED(PROF_GEMM, matmul_forward(kpre, ln1, w->wk, w->bk, N, C, KD));
            TIMED(PROF_NORM, rmsnorm_forward(q, a->qrstd + l * MN * H, qpre, w->q_norm, N * H, D, eps));
            TIMED(PROF_NORM, rmsnorm_forward(k, a->krstd + l * MN * KV, kpre, w->k_norm, N * KV, D, eps));
        } else {
            TIMED(PROF_GEMM, matmul_forward(q, ln1, w->wq, w->bq, N, C, HD));
            TIMED(PROF_GEMM, matmul_forward(k, ln1, w->wk, w->bk, N, C, KD));
        }
        TIMED(PROF_GEMM, matmul_forward(v, ln1, w->wv, w->bv, N, C, KD));
        TIMED(PROF_ROPE, rope_forward(q, a->pos, m->rope_cos, m->rope_sin, N, H, D));
        TIMED(PROF_ROPE, rope_forward(k, a->pos, m->rope_cos, m->rope_sin, N, KV, D));
        TIMED(PROF_ATTENTION, attention_forward(att, a->lse_att + l * MN * H, q, k, v, a->seq_start, B, H, KV, D));
        TIMED(PROF_GEMM, matmul_forward(xmid, att, w->wo, NULL, N, HD, C));
        TIMED(PROF_OTHER, for (size_t i = 0; i < (size_t)N * C; i++) xmid[i] += x[i]);
        TIMED(PROF_NORM, rmsnorm_forward(ln2, a->rstd2 + l * MN, xmid, w->ln2, N, C, eps));
        TIMED(PROF_GEMM, matmul_forward(gate, ln2, w->wgate, NULL, N, C, F));
        TIMED(PROF_GEMM, matmul_forward(up, ln2, w->wup, NULL, N, C, F));
        TIMED(PROF_SWIGLU, swiglu_forward(act, gate, up, N, F));
        TIMED(PROF_GEMM, matmul_forward(xnext, act, w->wdown, NULL, N, F, C));
        TIMED(PROF_OTHER, for (size_t i = 0; i < (size_t)N * C; i++) xnext[i] += xmid[i]);
    }
    TIMED(PROF_NORM, rmsnorm_forward(a->lnf, a->rstdf, a->x + c->n_layers * MN * C, m->w.norm_f, N, C, eps));
    TIMED(PROF_GEMM, matmul_forward(a->logits, a->lnf, m->w.lm_head, NULL, N, C, V));
    TIMED(PROF_LOGITS, logits_stats(a->lse, a->logp, a->entropy, a->logits, a->targets, N, V));
    return RLVR_OK;
}

int model_backward(model *m, const float *dlogp, const float *dent, rlvr_err *err) {
    const model_config *c = &m->cfg;
    model_acts *a = &m->a;
    if (!m->grads || a->N <= 0) return errf(err, RLVR_EARG, "model_backward: no forward to differentiate");
    if (a->backward_done) return errf(err, RLVR_EARG, "model_backward: the last forward was already consumed by a backward");
    a->backward_done = 1;
    int N = a->N, B = a->B, C = c->dim, F = c->hidden_dim, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim;
    int HD = H * D, KD = KV * D, V = c->vocab_size;
    size_t MN = m->max_tokens, NC = (size_t)N * C;
    float *dlogits = a->logits;
    TIMED(PROF_LOGITS, logits_backward(dlogits, a->logits, a->lse, a->entropy, a->targets, dlogp, dent, N, V));
    TIMED(PROF_OTHER, memset(a->dln, 0, NC * sizeof(float)));
    TIMED(PROF_GEMM, matmul_backward(a->dln, m->g.lm_head, NULL, dlogits, a->lnf, m->w.lm_head, N, C, V));
    TIMED(PROF_OTHER, memset(a->dres, 0, NC * sizeof(float)));
    TIMED(PROF_NORM, rmsnorm_backward(a->dres, m->g.norm_f, a->dln, a->x + c->n_layers * MN * C, m->w.norm_f, a->rstdf, N, C));
    for (int l = c->n_layers - 1; l >= 0; l--) {
        const layer_weights *w = &m->w.layers[l];
        layer_weights *g = &m->g.layers[l];
        float *x = a->x + l * MN * C, *ln1 = a->ln1 + l * MN * C;
        float *q = a->q + l * MN * HD, *k = a->k + l * MN * KD, *v = a->v + l * MN * KD;
        float *att = a->att + l * MN * HD, *xmid = a->xmid + l * MN * C, *ln2 = a->ln2 + l * MN * C;
        float *gate = a->gate + l * MN * F, *up = a->up + l * MN * F, *act = a->act + l * MN * F;
        /* MLP: x_next = xmid + down(silu(gate(ln2)) * up(ln2)) */
        TIMED(PROF_OTHER, memset(a->dact, 0, (size_t)N * F * sizeof(float)));
        TIMED(PROF_GEMM, matmul_backward(a->dact, g->wdown, NULL, a->dres, act, w->wdown, N, F, C));
        TIMED(PROF_OTHER, memset(a->dgate, 0, (size_t)N * F * sizeof(float)));
        TIMED(PROF_OTHER, memset(a->dup, 0, (size_t)N * F * sizeof(float)));
        TIMED(PROF_SWIGLU, swiglu_backward(a->dgate, a->dup, a->dact, gate, up, N, F));
        TIMED(PROF_OTHER, memset(a->dln, 0, NC * sizeof(float)));
        TIMED(PROF_GEMM, matmul_backward(a->dln, g->wgate, NULL, a->dgate, ln2, w->wgate, N, C, F));
        TIMED(PROF_GEMM, matmul_backward(a->dln, g->wup, NULL, a->dup, ln2, w->wup, N, C, F));
        TIMED(PROF_NORM, rmsnorm_backward(a->dres, g->ln2, a->dln, xmid, w->ln2, a->rstd2 + l * MN, N, C));
        /* attention: xmid = x + o(attn(rope(q), rope(k), v)) */
        TIMED(PROF_OTHER, memset(a->datt, 0, (size_t)N * HD * sizeof(float)));
        TIMED(PROF_GEMM, matmul_backward(a->datt, g->wo, NULL, a->dres, att, w->wo, N, HD, C));
        TIMED(PROF_OTHER, memset(a->dq, 0, (size_t)N * HD * sizeof(float)));
        TIMED(PROF_OTHER, memset(a->dk, 0, (size_t)N * KD * sizeof(float)));
        TIMED(PROF_OTHER, memset(a->dv, 0, (size_t)N * KD * sizeof(float)));
        TIMED(PROF_ATTENTION, attention_backward(a->dq, a->dk, a->dv, a->datt, att, a->lse_att + l * MN * H, q, k, v, a->seq_start, B, H, KV, D));
        TIMED(PROF_ROPE, rope_backward(a->dq, a->pos, m->rope_cos, m->rope_sin, N, H, D));
        TIMED(PROF_ROPE, rope_backward(a->dk, a->pos, m->rope_cos, m->rope_sin, N, KV, D));
        float *dq = a->dq, *dk = a->dk;
        if (c->qk_norm) {
            TIMED(PROF_OTHER, memset(a->dqn, 0, (size_t)N * HD * sizeof(float)));
            TIMED(PROF_OTHER, memset(a->dkn, 0, (size_t)N * KD * sizeof(float)));
            TIMED(PROF_NORM, rmsnorm_backward(a->dqn, g->q_norm, a->dq, a->qpre + l * MN * HD, w->q_norm, a->qrstd + l * MN * H, N * H, D));
            TIMED(PROF_NORM, rmsnorm_backward(a->dkn, g->k_norm, a->dk, a->kpre + l * MN * KD, w->k_norm, a->krstd + l * MN * KV, N * KV, D));
            dq = a->dqn, dk = a->dkn;
        }
        TIMED(PROF_OTHER, memset(a->dln, 0, NC * sizeof(float)));
        TIMED(PROF_GEMM, matmul_backward(a->dln, g->wq, g->bq, dq, ln1, w->wq, N, C, HD));
        TIMED(PROF_GEMM, matmul_backward(a->dln, g->wk, g->bk, dk, ln1, w->wk, N, C, KD));
        TIMED(PROF_GEMM, matmul_backward(a->dln, g->wv, g->bv, a->dv, ln1, w->wv, N, C, KD));
        TIMED(PROF_NORM, rmsnorm_backward(a->dres, g->ln1, a->dln, x, w->ln1, a->rstd1 + l * MN, N, C));
    }
    TIMED(PROF_EMBED, embedding_backward(m->g.wte, a->dres, a->tokens, N, C));
    return RLVR_OK;
}

double model_nll(const model *m, const float *weights, float *dlogp_out) {
    const model_acts *a = &m->a;
    double sw = 0, s = 0;
    for (int n = 0; n < a->N; n++) {
        if (a->targets[n] < 0) continue;
        double w = weights ? weights[n] : 1.0;
        sw += w;
        s += -w * a->logp[n];
    }
    if (dlogp_out)
        for (int n = 0; n < a->N; n++)
            dlogp_out[n] = (a->targets[n] >= 0 && sw > 0) ? (float)(-(weights ? weights[n] : 1.0) / sw) : 0.0f;
    return sw > 0 ? s / sw : NAN;
}

double model_train_flops_per_token(const model_config *c, double seq_len) {
    double C = c->dim, F = c->hidden_dim, HD = (double)c->n_heads * c->head_dim, KD = (double)c->n_kv_heads * c->head_dim;
    double per_layer = 2 * (C * HD + 2 * C * KD + HD * C + 3 * C * F); /* matmul forward */
    double attn = 2 * 2 * HD * (seq_len + 1) / 2; /* QK^T and PV over (T+1)/2 keys on average */
    double fwd = c->n_layers * (per_layer + attn) + 2 * C * c->vocab_size;
    return 3 * fwd; /* backward costs twice the forward */
}
