/* decode.c: the inference forward with a KV cache. Same op sequence as
 * model_forward (model.c), but keys and values go to per-slot caches (layout in
 * kernels.h: kvcache_store), attention reads the cache, and only each slot's last
 * token reaches the output head. Slots filled by decoder_copy_prefix remember where
 * their prefix came from, so the attention of a group of samples reads their common
 * prompt from one slot (the same bits: the copies are identical).
 *
 * A step is one OpenMP parallel region. Its tokens become rows grouped by the
 * prompt they share, and run through the model (run_rows) in one of two ways
 * (decode.h, DECODER_SPLIT_*): each thread takes a share of the rows through the
 * whole model on its own (pure decode steps with enough rows: no synchronisation),
 * or the team shares every op, with a barrier (team.h) after each. The elementwise
 * ops ride along with the packing of the next matrix product (residual add +
 * rmsnorm, and swiglu, are done while packing the product's rows), so a layer has
 * 10 phases. Every split is over outputs or rows, so the bits do not depend on the
 * thread count or the mode; the matrix products are gemm_f32's (gemm_nt_run). */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "core/err.h"
#include "kernels/gemm.h"
#include "kernels/kernels.h"
#include "kernels/team.h"
#include "kernels/vexp.h"
#include "model/decode.h"

#define DEC_MAX_PARTS 64 /* most threads in the data-parallel mode */

struct decoder {
    const model *m;
    int n_slots, max_len, max_tokens;
    int Lp;                /* positions per cache block: max_len rounded up to KV_TILE */
    float *kc, *vc;        /* per layer (n_slots, KV, Lp, D), kernels.h layout */
    int *len;              /* (n_slots) positions filled */
    /* Prefix sharing: slots with the same origin hold the same first min(shared)
     * positions (INT_MAX for the slot the content was computed in). A reset gives a
     * slot a new origin; decoder_copy_prefix gives dst src's origin. */
    int *origin, *shared, next_origin;
    float *x, *q, *k, *v, *att, *tmp, *gate, *up;
    float *packed;         /* the rows of the next matrix product, packed (gemm_nt_pack16) */
    /* per new token, in the caller's order: */
    int *pos, *slot_of, *pre_slot, *pre_len, *order;
    /* per row (the step's tokens grouped by shared prefix; row inv[n] is token n): */
    int n_rows, *inv, *rtok, *rpos, *rslot, *rpre, *rprelen, *ridx, *plan;
    float **hrow;          /* data-parallel mode: row r's logits */
    int *count, *last;     /* (n_slots + 1) sort buckets; (n_slots) each slot's last row */
    float **lrow;          /* (n_slots) slot b's logits */
    int cut[DEC_MAX_PARTS + 1];
    decoder_prof prof;
    int split;             /* DECODER_SPLIT_* */
    team_barrier bar;
    float *cache_mem;
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
    d->Lp = (max_len + KV_TILE - 1) / KV_TILE * KV_TILE;
    size_t L = c->n_layers, KD = (size_t)c->n_kv_heads * c->head_dim, HD = (size_t)c->n_heads * c->head_dim;
    size_t T = max_tokens, C = c->dim, F = c->hidden_dim, cache = L * n_slots * (size_t)d->Lp * KD;
    size_t nslot1 = (size_t)n_slots + 1, Kmax = C > HD ? C : HD;
    if (F > Kmax) Kmax = F;
    size_t rows = T > nslot1 ? T : nslot1, npack = (rows + 16 * (DEC_MAX_PARTS + 1)) * Kmax + 16;
    size_t floats = T * (2 * C + 2 * HD + 2 * KD + 2 * F) + npack;
    size_t ints = (size_t)n_slots * 4 + T * 14 + 2 * nslot1 + 2, ptrs = T + n_slots;
    d->mem = malloc(ptrs * sizeof(float *) + floats * sizeof(float) + ints * sizeof(int));
    /* zeroed (calloc: untouched pages stay free), so the unused lanes of a key tile
     * hold finite values; aligned to 64 bytes, so tiles and value rows are whole lines */
    d->cache_mem = calloc(2 * cache + 16, sizeof(float));
    if (!d->mem || !d->cache_mem) {
        errf(err, RLVR_ENOMEM, "decoder: cannot allocate %.1f MiB (cache for %d slots x %d positions)", (floats * 4.0 + ints * 4.0 + cache * 8.0) / (1 << 20), n_slots, max_len);
        free(d->mem), free(d->cache_mem), free(d);
        return NULL;
    }
    d->kc = d->cache_mem + (16 - ((uintptr_t)d->cache_mem / sizeof(float)) % 16) % 16;
    d->vc = d->kc + cache;
    d->hrow = d->mem;
    d->lrow = d->hrow + T;
    float *p = (float *)(d->lrow + n_slots);
    d->packed = p + (16 - ((uintptr_t)p / sizeof(float)) % 16) % 16; p += npack;
    d->x = p; p += T * C;
    d->tmp = p; p += T * C;
    d->q = p; p += T * HD;
    d->att = p; p += T * HD;
    d->k = p; p += T * KD;
    d->v = p; p += T * KD;
    d->gate = p; p += T * F;
    d->up = p; p += T * F;
    int *ip = (int *)p;
    d->len = ip; ip += n_slots;
    d->origin = ip; ip += n_slots;
    d->shared = ip; ip += n_slots;
    d->last = ip; ip += n_slots;
    d->pos = ip; ip += T;
    d->slot_of = ip; ip += T;
    d->pre_slot = ip; ip += T;
    d->pre_len = ip; ip += T;
    d->order = ip; ip += T;
    d->inv = ip; ip += T;
    d->rtok = ip; ip += T;
    d->rpos = ip; ip += T;
    d->rslot = ip; ip += T;
    d->rpre = ip; ip += T;
    d->rprelen = ip; ip += T;
    d->ridx = ip; ip += T;
    d->plan = ip; ip += 2 * T + 2;
    d->count = ip; ip += 2 * nslot1;
    for (size_t i = 0; i < T; i++) d->ridx[i] = (int)i;
    for (int s = 0; s < n_slots; s++) d->len[s] = 0, d->origin[s] = s, d->shared[s] = INT_MAX;
    d->next_origin = n_slots;
    return d;
}

void decoder_free(decoder *d) {
    if (!d) return;
    free(d->mem);
    free(d->cache_mem);
    free(d);
}

void decoder_reset(decoder *d, int slot) {
    if (slot < 0 || slot >= d->n_slots) return;
    d->len[slot] = 0;
    d->shared[slot] = INT_MAX;
    d->origin[slot] = d->next_origin++;
    if (d->next_origin == INT_MAX) { /* renumber: origins need only be equal or not */
        for (int s = 0; s < d->n_slots; s++) {
            d->count[s] = s;
            for (int t = 0; t < s; t++)
                if (d->origin[t] == d->origin[s]) { d->count[s] = d->count[t]; break; }
        }
        for (int s = 0; s < d->n_slots; s++) d->origin[s] = d->count[s];
        d->next_origin = d->n_slots;
    }
}

int decoder_len(const decoder *d, int slot) { return slot >= 0 && slot < d->n_slots ? d->len[slot] : 0; }

int decoder_copy_prefix(decoder *d, int dst, int src, int len, rlvr_err *err) {
    if (dst < 0 || dst >= d->n_slots || src < 0 || src >= d->n_slots || len < 0 || len > d->len[src])
        return errf(err, RLVR_EARG, "decoder_copy_prefix: bad slots %d <- %d or length %d", dst, src, len);
    const model_config *c = &d->m->cfg;
    size_t blk = (size_t)c->n_kv_heads * d->Lp * c->head_dim, per = (size_t)d->n_slots * blk;
    size_t kn = (size_t)(len + KV_TILE - 1) / KV_TILE * KV_TILE * c->head_dim; /* whole key tiles */
    if (dst != src) {
        for (int l = 0; l < c->n_layers; l++)
            for (int kh = 0; kh < c->n_kv_heads; kh++) {
                size_t od = l * per + dst * blk + (size_t)kh * d->Lp * c->head_dim, os = l * per + src * blk + (size_t)kh * d->Lp * c->head_dim;
                memcpy(d->kc + od, d->kc + os, kn * sizeof(float));
                memcpy(d->vc + od, d->vc + os, (size_t)len * c->head_dim * sizeof(float));
            }
        d->origin[dst] = d->origin[src];
        d->shared[dst] = len < d->shared[src] ? len : d->shared[src];
    } else if (len < d->shared[dst]) {
        d->shared[dst] = len; /* truncated: what follows will differ from its copies */
    }
    d->len[dst] = len;
    return RLVR_OK;
}

void decoder_set_split(decoder *d, int split) { d->split = split; }

void decoder_profile(const decoder *d, decoder_prof *p) {
    if (p) *p = d->prof;
}

/* ---- the step's team functions (every thread of the region calls each) ---- */

/* per-thread scratch (team.h, slot 2) */
static float *row_scratch(size_t n) { return team_scratch(2, n); }

/* y = x / rms(x) * w over C: the arithmetic of rmsnorm_forward, so the same bits */
static void norm_row(float *y, const float *x, const float *w, int C, float eps) {
    float ss = 0;
    for (int c = 0; c < C; c++) ss += x[c] * x[c];
    float s = 1.0f / sqrtf(ss / C + eps);
    for (int c = 0; c < C; c++) y[c] = x[c] * s * w[c];
}

/* For rows idx[i] (idx NULL: i) of x, i < M, in groups of 16: x += add (when add),
 * then rmsnorm with w, packed as the rows of the next product */
static void norm_pack_group(float *packed, float *x, const float *add, const float *w, const int *idx, int M, int C, float eps, int t0) {
    float *rows = row_scratch((size_t)16 * C);
    if (!rows) return; /* out of memory: left unpacked */
    for (int i = t0; i < M && i < t0 + 16; i++) {
        size_t r = (size_t)(idx ? idx[i] : i) * C;
        if (add)
            for (int c = 0; c < C; c++) x[r + c] += add[r + c];
        norm_row(rows + (size_t)(i - t0) * C, x + r, w, C, eps);
    }
    gemm_nt_pack16(packed, M, C, t0, rows, C);
}
static void norm_pack(float *packed, float *x, const float *add, const float *w, const int *idx, int M, int C, float eps, int team) {
    if (team) {
#pragma omp for schedule(static) nowait
        for (int t0 = 0; t0 < M; t0 += 16) norm_pack_group(packed, x, add, w, idx, M, C, eps, t0);
    } else {
        for (int t0 = 0; t0 < M; t0 += 16) norm_pack_group(packed, x, add, w, idx, M, C, eps, t0);
    }
}

/* silu(gate) * up for rows in groups of 16, packed (as swiglu_forward computes it) */
static void swiglu_pack_group(float *packed, const float *gate, const float *up, int M, int F, int t0) {
    float *rows = row_scratch((size_t)16 * F);
    if (!rows) return;
    int n = (M - t0 < 16 ? M - t0 : 16) * F;
    const float *g = gate + (size_t)t0 * F, *u = up + (size_t)t0 * F;
#pragma omp simd
    for (int i = 0; i < n; i++) rows[i] = g[i] / (1.0f + vexpf(-g[i])) * u[i];
    gemm_nt_pack16(packed, M, F, t0, rows, F);
}
static void swiglu_pack(float *packed, const float *gate, const float *up, int M, int F, int team) {
    if (team) {
#pragma omp for schedule(static) nowait
        for (int t0 = 0; t0 < M; t0 += 16) swiglu_pack_group(packed, gate, up, M, F, t0);
    } else {
        for (int t0 = 0; t0 < M; t0 += 16) swiglu_pack_group(packed, gate, up, M, F, t0);
    }
}

/* token row n: biases, per-head q/k rmsnorm (qk_norm), rope, then k and v to the cache */
static void qkv_post_row(decoder *d, const layer_weights *w, int l, int n) {
    const model *m = d->m;
    const model_config *c = &m->cfg;
    int H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim, HD = H * D, KD = KV * D, h2 = D / 2;
    size_t per = (size_t)d->n_slots * d->Lp * KD;
    float *q = d->q + (size_t)n * HD, *k = d->k + (size_t)n * KD, *v = d->v + (size_t)n * KD;
    if (w->bq) {
        for (int i = 0; i < HD; i++) q[i] += w->bq[i];
        for (int i = 0; i < KD; i++) k[i] += w->bk[i], v[i] += w->bv[i];
    }
    for (int h = 0; h < H + KV; h++) {
        float *x = h < H ? q + (size_t)h * D : k + (size_t)(h - H) * D;
        if (c->qk_norm) { /* as rmsnorm_forward over rows of D */
            const float *nw = h < H ? w->q_norm : w->k_norm;
            float ss = 0;
            for (int i = 0; i < D; i++) ss += x[i] * x[i];
            float s = 1.0f / sqrtf(ss / D + c->norm_eps);
            for (int i = 0; i < D; i++) x[i] = x[i] * s * nw[i];
        }
        const float *cs = m->rope_cos + (size_t)d->rpos[n] * h2, *sn = m->rope_sin + (size_t)d->rpos[n] * h2;
        for (int i = 0; i < h2; i++) { /* as rope_forward */
            float a = x[i], b = x[i + h2];
            x[i] = a * cs[i] - b * sn[i];
            x[i + h2] = b * cs[i] + a * sn[i];
        }
    }
    kvcache_store(d->kc + l * per, d->vc + l * per, k, v, d->rslot + n, d->rpos + n, 1, KV, D, d->Lp);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* One step's rows [r0, r1) (rows are the step's tokens, grouped by shared prefix)
 * through every layer and the head: by the whole team (team = 1: every op shares
 * the work, a barrier ends each phase) or by one thread alone (team = 0: no
 * synchronisation at all; the data-parallel mode). packed: this caller's packing
 * buffer; attention chunks [c0, c1) of the plan; head rows: hidx[0..nh) (rows whose
 * logits are wanted) into hrow[0..nh). Thread 0 keeps the phase clock. */
typedef struct {
    int r0, r1, c0, c1, team, nh, maxK, nplan;
    const int *hidx;
    float *const *hrow;
    float *packed;
} rows_job;

#define PHASE(field)                                                \
    do {                                                            \
        if (j->team) team_barrier_wait(&d->bar);                    \
        if (me == 0) {                                              \
            double t_ = now_s();                                    \
            d->prof.field += t_ - *mark;                            \
            *mark = t_;                                             \
        }                                                           \
    } while (0)

static void run_rows(decoder *d, const rows_job *j, int me, double *mark) {
    const model *m = d->m;
    const model_config *c = &m->cfg;
    int C = c->dim, F = c->hidden_dim, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim, HD = H * D, KD = KV * D, V = c->vocab_size;
    int r0 = j->r0, M = j->r1 - j->r0, team = j->team;
    size_t per = (size_t)d->n_slots * d->Lp * KD;
    float eps = c->norm_eps, *packed = j->packed;
    float *x = d->x + (size_t)r0 * C, *tmp = d->tmp + (size_t)r0 * C;
    if (team) {
#pragma omp for schedule(static) nowait
        for (int n = j->r0; n < j->r1; n++) memcpy(d->x + (size_t)n * C, m->w.wte + (size_t)d->rtok[n] * C, C * sizeof(float));
    } else {
        for (int n = j->r0; n < j->r1; n++) memcpy(d->x + (size_t)n * C, m->w.wte + (size_t)d->rtok[n] * C, C * sizeof(float));
    }
    PHASE(norm);
    for (int l = 0; l < c->n_layers; l++) {
        const layer_weights *w = &m->w.layers[l];
        /* x += the last layer's MLP output; rmsnorm; packed for q, k, v */
        norm_pack(packed, x, l ? tmp : NULL, w->ln1, NULL, M, C, eps, team);
        PHASE(norm);
        gemm_nt_out qkv[3] = {{w->wq, HD, C, d->q + (size_t)r0 * HD, HD, NULL}, {w->wk, KD, C, d->k + (size_t)r0 * KD, KD, NULL},
                              {w->wv, KD, C, d->v + (size_t)r0 * KD, KD, NULL}};
        gemm_nt_run(M, C, packed, 3, qkv, team);
        PHASE(gemm);
        if (team) {
#pragma omp for schedule(static) nowait
            for (int n = j->r0; n < j->r1; n++) qkv_post_row(d, w, l, n);
        } else {
            for (int n = j->r0; n < j->r1; n++) qkv_post_row(d, w, l, n);
        }
        PHASE(post);
        attention_kvcache_run(d->att, d->q, d->kc + l * per, d->vc + l * per, d->rslot, d->rpos, d->rpre, NULL, d->n_rows, H, KV, D, d->Lp,
                              j->maxK, d->plan, j->c0, j->c1, team);
        PHASE(attention);
        gemm_nt_pack(packed, M, HD, d->att + (size_t)r0 * HD, HD, team);
        PHASE(norm);
        gemm_nt_out o = {w->wo, C, HD, tmp, C, NULL};
        gemm_nt_run(M, HD, packed, 1, &o, team);
        PHASE(gemm);
        norm_pack(packed, x, tmp, w->ln2, NULL, M, C, eps, team);
        PHASE(norm);
        gemm_nt_out gu[2] = {{w->wgate, F, C, d->gate + (size_t)r0 * F, F, NULL}, {w->wup, F, C, d->up + (size_t)r0 * F, F, NULL}};
        gemm_nt_run(M, C, packed, 2, gu, team);
        PHASE(gemm);
        swiglu_pack(packed, d->gate + (size_t)r0 * F, d->up + (size_t)r0 * F, M, F, team);
        PHASE(norm);
        gemm_nt_out dn = {w->wdown, C, F, tmp, C, NULL};
        gemm_nt_run(M, F, packed, 1, &dn, team);
        PHASE(gemm);
    }
    /* the wanted rows: x += the last MLP output, final norm, the head */
    norm_pack(packed, d->x, d->tmp, m->w.norm_f, j->hidx, j->nh, C, eps, team);
    PHASE(norm);
    gemm_nt_out head = {m->w.lm_head, V, C, NULL, 0, j->hrow};
    gemm_nt_run(j->nh, C, packed, 1, &head, team);
    PHASE(head);
}

int decoder_step(decoder *d, int B, const int *slots, const int *n_new, const int *tokens, float *logits, rlvr_err *err) {
    const model *m = d->m;
    const model_config *c = &m->cfg;
    if (B <= 0 || B > d->n_slots) return errf(err, RLVR_EARG, "decoder_step: %d slots, at most %d", B, d->n_slots);
    int N = 0, maxK = 0, pure = 1;
    for (int b = 0; b < B; b++) {
        int s = slots[b];
        if (s < 0 || s >= d->n_slots) return errf(err, RLVR_EARG, "decoder_step: slot %d out of range", s);
        for (int j = 0; j < b; j++)
            if (slots[j] == s) return errf(err, RLVR_EARG, "decoder_step: slot %d given twice", s);
        if (n_new[b] <= 0) return errf(err, RLVR_EARG, "decoder_step: slot %d gets %d tokens", s, n_new[b]);
        if (d->len[s] + n_new[b] > d->max_len)
            return errf(err, RLVR_EARG, "decoder_step: slot %d would hold %d positions, at most %d", s, d->len[s] + n_new[b], d->max_len);
        if (N + n_new[b] > d->max_tokens) return errf(err, RLVR_EARG, "decoder_step: more than max_tokens %d new tokens", d->max_tokens);
        /* the prefix this slot shares with the first slot of the step that has its origin */
        int src = s, pre = 0;
        for (int j = 0; j < b; j++)
            if (d->origin[slots[j]] == d->origin[s]) { src = slots[j]; break; }
        if (src != s) {
            pre = d->shared[s] < d->shared[src] ? d->shared[s] : d->shared[src];
            if (pre > d->len[s]) pre = d->len[s];
            if (pre > d->len[src]) pre = d->len[src];
        }
        for (int i = 0; i < n_new[b]; i++) {
            if (tokens[N + i] < 0 || tokens[N + i] >= c->vocab_size)
                return errf(err, RLVR_EARG, "decoder_step: token %d at %d outside vocabulary", tokens[N + i], N + i);
            d->pos[N + i] = d->len[s] + i, d->slot_of[N + i] = s;
            d->pre_slot[N + i] = src, d->pre_len[N + i] = pre;
        }
        if (d->len[s] + n_new[b] > maxK) maxK = d->len[s] + n_new[b];
        pure &= n_new[b] == 1;
        N += n_new[b];
        d->last[b] = N - 1; /* the slot's last token (a row after the permutation) */
    }
    /* rows: the tokens grouped by the slot they read their prefix from (a stable
     * counting sort), so that attention reads a shared prompt once per chunk */
    int *key = d->order, *cnt = d->count;
    memset(cnt, 0, sizeof(int) * (d->n_slots + 1));
    for (int n = 0; n < N; n++) cnt[(key[n] = d->pre_len[n] >= KV_TILE ? d->pre_slot[n] : d->slot_of[n]) + 1]++;
    for (int s = 0; s < d->n_slots; s++) cnt[s + 1] += cnt[s];
    for (int n = 0; n < N; n++) d->inv[n] = cnt[key[n]]++; /* token n -> its row */
    for (int n = 0; n < N; n++) {
        int r = d->inv[n];
        d->rtok[r] = tokens[n], d->rpos[r] = d->pos[n], d->rslot[r] = d->slot_of[n];
        d->rpre[r] = d->pre_slot[n], d->rprelen[r] = d->pre_len[n];
    }
    d->n_rows = N;
    int nplan = attention_kvcache_plan(d->plan, NULL, d->rpre, d->rprelen, d->rpos, N);
    for (int b = 0; b < B; b++) d->last[b] = d->inv[d->last[b]], d->lrow[b] = logits + (size_t)b * c->vocab_size;

    /* data-parallel when every slot brings one token and each thread gets >= 32 rows:
     * each thread runs its share of the rows through the whole model on its own (the
     * weights are read once per thread, from L3 for the second), with no barrier;
     * else the whole team shares every op */
    int nt = 1;
#ifdef _OPENMP
    nt = omp_get_max_threads();
#endif
    int parts = d->split != DECODER_SPLIT_TEAM && pure && nt > 1 && N >= 32 * nt && nt <= DEC_MAX_PARTS ? nt : 1;
    if (parts > 1) { /* parts of about N / parts rows, cut between attention chunks */
        int p = 1;
        d->cut[0] = 0;
        for (int ch = 1; ch < nplan && p < parts; ch++)
            if (d->plan[ch] >= (long)N * p / parts) d->cut[p++] = ch;
        while (p < parts) d->cut[p++] = nplan;
        d->cut[parts] = nplan;
        for (int b = 0; b < B; b++) d->hrow[d->last[b]] = d->lrow[b]; /* one token per slot: every row is a last one */
    }
    size_t Kmax = c->dim > c->hidden_dim ? c->dim : c->hidden_dim;
    if ((size_t)c->n_heads * c->head_dim > Kmax) Kmax = (size_t)c->n_heads * c->head_dim;
    double t0 = now_s();
#pragma omp parallel num_threads(parts > 1 ? parts : nt)
    {
        int me = 0, team_n = 1;
#ifdef _OPENMP
        me = omp_get_thread_num(), team_n = omp_get_num_threads();
#endif
        double mark = t0;
        if (parts == 1) {
            team_barrier_start(&d->bar);
            rows_job j = {0, N, 0, nplan, 1, B, maxK, nplan, d->last, d->lrow, d->packed};
            run_rows(d, &j, me, &mark);
        } else {
            for (int p = me; p < parts; p += team_n) { /* fewer threads than asked: some run two parts */
                int c0 = d->cut[p], c1 = d->cut[p + 1], r0 = d->plan[c0], r1 = d->plan[c1];
                if (r1 <= r0) continue;
                rows_job j = {r0, r1, c0, c1, 0, r1 - r0, maxK, nplan, d->ridx + r0, d->hrow + r0, d->packed + (size_t)(r0 + 16 * p) * Kmax};
                run_rows(d, &j, me, &mark);
            }
        }
    }
    d->prof.steps++;
    d->prof.total += now_s() - t0;
    for (int b = 0; b < B; b++) d->len[slots[b]] += n_new[b];
    return RLVR_OK;
}
