/* decode.c: the inference forward with a KV cache. Same op sequence as
 * model_forward (model.c), but keys and values go to per-slot caches, attention
 * reads the cache, and only each slot's last token reaches the output head. */
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "kernels/kernels.h"
#include "model/decode.h"

struct decoder {
    const model *m;
    int n_slots, max_len, max_tokens;
    float *kc, *vc;        /* (L, n_slots * max_len, KV*D) */
    int *len;              /* (n_slots) */
    float *x, *ln, *q, *k, *v, *qn, *kn, *att, *tmp, *gate, *up, *rstd, *last;
    int *pos, *q_start, *pos0, *kv_row, *tok;
    void *mem;
};

decoder *decoder_new(const model *m, int n_slots, int max_len, int max_tokens, rlvr_err *err) {
    const model_config *c = &m->cfg;
    if (n_slots <= 0 || max_len <= 0 || max_len > c->max_seq_len || max_tokens <= 0) {
        errf(err, RLVR_EARG, "decoder: bad sizes (slots %d, max_len %d of at most %d, max_tokens %d)", n_slots, max_len, c->max_seq_len, max_tokens);
        return NULL;
    }
    decoder *d = calloc(1, sizeof *d);
    if (!d) { errf(err, RLVR_ENOMEM, "decoder: out of memory"); return NULL; }
    d->m = m, d->n_slots = n_slots, d->max_len = max_len, d->max_tokens = max_tokens;
    size_t L = c->n_layers, KD = (size_t)c->n_kv_heads * c->head_dim, HD = (size_t)c->n_heads * c->head_dim;
    size_t T = max_tokens, C = c->dim, F = c->hidden_dim, cache = L * n_slots * (size_t)max_len * KD;
    size_t nslot1 = (size_t)n_slots + 1;
    size_t floats = 2 * cache + T * (3 * C + 2 * HD + 4 * KD + 2 * F) + T * (size_t)c->n_heads + T + nslot1 * C;
    size_t ints = (size_t)n_slots + T * 2 + 3 * nslot1;
    d->mem = malloc(floats * sizeof(float) + ints * sizeof(int));
    if (!d->mem) {
        errf(err, RLVR_ENOMEM, "decoder: cannot allocate %.1f MiB (cache for %d slots x %d positions)", (floats * 4.0 + ints * 4.0) / (1 << 20), n_slots, max_len);
        free(d);
        return NULL;
    }
    float *p = d->mem;
    d->kc = p; p += cache;
    d->vc = p; p += cache;
    d->x = p; p += T * C;
    d->ln = p; p += T * C;
    d->tmp = p; p += T * C;
    d->q = p; p += T * HD;
    d->att = p; p += T * HD;
    d->k = p; p += T * KD;
    d->v = p; p += T * KD;
    d->qn = p; p += T * KD; /* unused slack keeps the walk simple */
    d->kn = p; p += T * KD;
    d->gate = p; p += T * F;
    d->up = p; p += T * F;
    d->rstd = p; p += T * (size_t)c->n_heads + T;
    d->last = p; p += nslot1 * C;
    int *ip = (int *)p;
    d->len = ip; ip += n_slots;
    d->pos = ip; ip += T;
    d->tok = ip; ip += T;
    d->q_start = ip; ip += nslot1;
    d->pos0 = ip; ip += nslot1;
    d->kv_row = ip;
    memset(d->len, 0, sizeof(int) * n_slots);
    return d;
}

void decoder_free(decoder *d) {
    if (!d) return;
    free(d->mem);
    free(d);
}

void decoder_reset(decoder *d, int slot) {
    if (slot >= 0 && slot < d->n_slots) d->len[slot] = 0;
}

int decoder_len(const decoder *d, int slot) { return slot >= 0 && slot < d->n_slots ? d->len[slot] : 0; }

int decoder_copy_prefix(decoder *d, int dst, int src, int len, rlvr_err *err) {
    if (dst < 0 || dst >= d->n_slots || src < 0 || src >= d->n_slots || len < 0 || len > d->len[src])
        return errf(err, RLVR_EARG, "decoder_copy_prefix: bad slots %d <- %d or length %d", dst, src, len);
    const model_config *c = &d->m->cfg;
    size_t KD = (size_t)c->n_kv_heads * c->head_dim, per = (size_t)d->n_slots * d->max_len * KD;
    if (dst != src)
        for (int l = 0; l < c->n_layers; l++) {
            memcpy(d->kc + l * per + (size_t)dst * d->max_len * KD, d->kc + l * per + (size_t)src * d->max_len * KD, len * KD * sizeof(float));
            memcpy(d->vc + l * per + (size_t)dst * d->max_len * KD, d->vc + l * per + (size_t)src * d->max_len * KD, len * KD * sizeof(float));
        }
    d->len[dst] = len;
    return RLVR_OK;
}

int decoder_step(decoder *d, int B, const int *slots, const int *n_new, const int *tokens, float *logits, rlvr_err *err) {
    const model *m = d->m;
    const model_config *c = &m->cfg;
    if (B <= 0 || B > d->n_slots) return errf(err, RLVR_EARG, "decoder_step: %d slots, at most %d", B, d->n_slots);
    int N = 0;
    for (int b = 0; b < B; b++) {
        int s = slots[b];
        if (s < 0 || s >= d->n_slots) return errf(err, RLVR_EARG, "decoder_step: slot %d out of range", s);
        for (int j = 0; j < b; j++)
            if (slots[j] == s) return errf(err, RLVR_EARG, "decoder_step: slot %d given twice", s);
        if (n_new[b] <= 0) return errf(err, RLVR_EARG, "decoder_step: slot %d gets %d tokens", s, n_new[b]);
        if (d->len[s] + n_new[b] > d->max_len)
            return errf(err, RLVR_EARG, "decoder_step: slot %d would hold %d positions, at most %d", s, d->len[s] + n_new[b], d->max_len);
        d->q_start[b] = N;
        d->pos0[b] = d->len[s];
        d->kv_row[b] = s * d->max_len;
        for (int i = 0; i < n_new[b]; i++) d->pos[N + i] = d->len[s] + i;
        N += n_new[b];
        if (N > d->max_tokens) return errf(err, RLVR_EARG, "decoder_step: more than max_tokens %d new tokens", d->max_tokens);
    }
    d->q_start[B] = N;
    for (int n = 0; n < N; n++)
        if (tokens[n] < 0 || tokens[n] >= c->vocab_size) return errf(err, RLVR_EARG, "decoder_step: token %d at %d outside vocabulary", tokens[n], n);
    int C = c->dim, F = c->hidden_dim, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim, HD = H * D, KD = KV * D;
    size_t per = (size_t)d->n_slots * d->max_len * KD;
    float eps = c->norm_eps;
    embedding_forward(d->x, tokens, m->w.wte, N, C);
    for (int l = 0; l < c->n_layers; l++) {
        const layer_weights *w = &m->w.layers[l];
        float *kc = d->kc + l * per, *vc = d->vc + l * per;
        rmsnorm_forward(d->ln, d->rstd, d->x, w->ln1, N, C, eps);
        matmul_forward(d->q, d->ln, w->wq, w->bq, N, C, HD);
        matmul_forward(d->k, d->ln, w->wk, w->bk, N, C, KD);
        matmul_forward(d->v, d->ln, w->wv, w->bv, N, C, KD);
        if (c->qk_norm) {
            rmsnorm_forward(d->att, d->rstd, d->q, w->q_norm, N * H, D, eps); /* att is free here: scratch */
            memcpy(d->q, d->att, sizeof(float) * N * HD);
            rmsnorm_forward(d->qn, d->rstd, d->k, w->k_norm, N * KV, D, eps);
            memcpy(d->k, d->qn, sizeof(float) * N * KD);
        }
        rope_forward(d->q, d->pos, m->rope_cos, m->rope_sin, N, H, D);
        rope_forward(d->k, d->pos, m->rope_cos, m->rope_sin, N, KV, D);
        for (int b = 0; b < B; b++) { /* append the new keys and values to each slot's cache */
            size_t row = (size_t)d->kv_row[b] + d->pos0[b], nb = (size_t)n_new[b] * KD;
            memcpy(kc + row * KD, d->k + (size_t)d->q_start[b] * KD, nb * sizeof(float));
            memcpy(vc + row * KD, d->v + (size_t)d->q_start[b] * KD, nb * sizeof(float));
        }
        attention_cached_forward(d->att, d->q, kc, vc, d->q_start, d->pos0, d->kv_row, B, H, KV, D);
        matmul_forward(d->tmp, d->att, w->wo, NULL, N, HD, C);
        for (size_t i = 0; i < (size_t)N * C; i++) d->x[i] += d->tmp[i];
        rmsnorm_forward(d->ln, d->rstd, d->x, w->ln2, N, C, eps);
        matmul_forward(d->gate, d->ln, w->wgate, NULL, N, C, F);
        matmul_forward(d->up, d->ln, w->wup, NULL, N, C, F);
        swiglu_forward(d->gate, d->gate, d->up, N, F);
        matmul_forward(d->tmp, d->gate, w->wdown, NULL, N, F, C);
        for (size_t i = 0; i < (size_t)N * C; i++) d->x[i] += d->tmp[i];
    }
    for (int b = 0; b < B; b++) memcpy(d->last + (size_t)b * C, d->x + (size_t)(d->q_start[b + 1] - 1) * C, sizeof(float) * C);
    rmsnorm_forward(d->ln, d->rstd, d->last, m->w.norm_f, B, C, eps);
    matmul_forward(logits, d->ln, m->w.lm_head, NULL, B, C, c->vocab_size);
    for (int b = 0; b < B; b++) d->len[slots[b]] += n_new[b];
    return RLVR_OK;
}
