/* kernels.h: every op the Llama-family forward and backward passes need, as plain
 * functions over contiguous row-major arrays. Each op exists three times:
 *   op_*       the fast CPU version (OpenMP, rlvr's GEMM, vectorisable loops): cpu.c, kvcache.c
 *   op_*_ref   the naive float reference, the test oracle:                  ref_f.c
 *   op_*_refd  the same naive code in double, for finite-difference checks:  ref_d.c
 * Signature habit: outputs first, then saved-for-backward, then inputs, weights, dims.
 * Backward ops ACCUMULATE (+=) into every gradient they write, unless the comment
 * says otherwise; zeroing is the caller's job.
 * Dimensions: N tokens (sequences packed back to back), C channels, IC/OC matmul
 * in/out channels, H query heads, KV key/value heads, D head size, F MLP width,
 * V vocabulary, B sequences; seq_start[B+1] gives each sequence's first token. */
#ifndef RLVR_KERNELS_H
#define RLVR_KERNELS_H
#include <stddef.h>

#define KV_TILE 16 /* positions per key tile of the decoder's cache */

#define KERNEL_DECLS(R, S) \
/* out (N,C) = wte[tokens[n]] */ \
void embedding_forward##S(R *out, const int *tokens, const R *wte, int N, int C); \
/* dwte (V,C) += dout rows scattered by token */ \
void embedding_backward##S(R *dwte, const R *dout, const int *tokens, int N, int C); \
/* out = inp / rms(inp) * w, per row of C; rstd (N) saved */ \
void rmsnorm_forward##S(R *out, R *rstd, const R *inp, const R *w, int N, int C, float eps); \
void rmsnorm_backward##S(R *dinp, R *dw, const R *dout, const R *inp, const R *w, const R *rstd, int N, int C); \
/* out (N,OC) = inp (N,IC) @ w (OC,IC)^T + bias (OC, may be NULL) */ \
void matmul_forward##S(R *out, const R *inp, const R *w, const R *bias, int N, int IC, int OC); \
/* dinp (may be NULL) += dout @ w; dw += dout^T @ inp; dbias (may be NULL) += colsum(dout) */ \
void matmul_backward##S(R *dinp, R *dw, R *dbias, const R *dout, const R *inp, const R *w, int N, int IC, int OC); \
/* x (N, nh, D) rotated in place by position: HF rotate_half pairs (i, i+D/2); */ \
/* cos/sin tables (max_pos, D/2). backward applies the inverse rotation in place. */ \
void rope_forward##S(R *x, const int *pos, const float *cos_t, const float *sin_t, int N, int nh, int D); \
void rope_backward##S(R *dx, const int *pos, const float *cos_t, const float *sin_t, int N, int nh, int D); \
/* causal attention inside each sequence: out (N,H*D), lse (N,H) log-sum-exp saved; */ \
/* q (N,H*D), k and v (N,KV*D); query head h reads kv head h / (H/KV) */ \
void attention_forward##S(R *out, R *lse, const R *q, const R *k, const R *v, const int *seq_start, int B, int H, int KV, int D); \
void attention_backward##S(R *dq, R *dk, R *dv, const R *dout, const R *out, const R *lse, const R *q, const R *k, const R *v, const int *seq_start, int B, int H, int KV, int D); \
/* the decoder's key/value cache (kvcache.c): per (slot, kv head) a block of L positions */ \
/* (L a multiple of KV_TILE); keys in d-major tiles of KV_TILE positions, */ \
/* kc[((slot*KV + kh)*L + p - p%KV_TILE)*D + d*KV_TILE + p%KV_TILE], values row-major, */ \
/* vc[((slot*KV + kh)*L + p)*D + d]. kvcache_store writes token n's rows of k and v */ \
/* ((N, KV*D)) at position pos[n] of slot slot[n]. */ \
void kvcache_store##S(R *kc, R *vc, const R *k, const R *v, const int *slot, const int *pos, int N, int KV, int D, int L); \
/* attention of N query tokens (rows of q and out, (N, H*D)) on that cache: token n sits */ \
/* at position pos[n] of slot slot[n] and attends to its positions 0..pos[n]. Positions */ \
/* below pre_len[n] hold the same keys and values in slot pre_slot[n] (a shared prompt) */ \
/* and may be read there (pre_len may be NULL). order (NULL: 0..N-1) is the order to */ \
/* visit tokens: those that share a pre_slot should be adjacent, then it is read once. */ \
void attention_kvcache_forward##S(R *out, const R *q, const R *kc, const R *vc, const int *slot, const int *pos, const int *pre_slot, const int *pre_len, const int *order, int N, int H, int KV, int D, int L); \
/* out (N,F) = silu(gate) * up */ \
void swiglu_forward##S(R *out, const R *gate, const R *up, int N, int F); \
void swiglu_backward##S(R *dgate, R *dup, const R *dout, const R *gate, const R *up, int N, int F); \
/* per row of logits (N,V): lse, logp of targets[n] (0 where target < 0), entropy */ \
void logits_stats##S(R *lse, R *logp, R *entropy, const R *logits, const int *targets, int N, int V); \
/* dlogits (WRITTEN, may alias logits) = dlogp * d logp/dz + dent * d entropy/dz; */ \
/* dlogp and dent (N) may be NULL (= zero) */ \
void logits_backward##S(R *dlogits, const R *logits, const R *lse, const R *entropy, const int *targets, const R *dlogp, const R *dent, int N, int V);

KERNEL_DECLS(float, )
KERNEL_DECLS(float, _ref)
KERNEL_DECLS(double, _refd)

/* attention_kvcache_forward in two steps, for a decoder that runs a whole step in one
 * OpenMP region: the plan (chunks of tokens that share a prefix, in `order`; 2N + 2
 * ints; returns their number; chunk c is order[plan[c]..plan[c+1])), then the work
 * of chunks [c0, c1). team = 1: every thread of the region calls it and they share
 * the chunks (`omp for nowait`: no barrier at the end, the caller synchronises before
 * reading out); team = 0: the calling thread does them all. maxK: the largest pos + 1. */
int attention_kvcache_plan(int *plan, const int *order, const int *pre_slot, const int *pre_len, const int *pos, int N);
void attention_kvcache_run(float *out, const float *q, const float *kc, const float *vc, const int *slot, const int *pos, const int *pre_slot,
                           const int *order, int N, int H, int KV, int D, int L, int maxK, const int *plan, int c0, int c1, int team);

/* cos/sin tables (max_pos, D/2) for rotary embeddings, computed in double; inv_freq
 * follows HF, with optional Llama-3 frequency scaling (scaling = 1). */
void rope_tables(float *cos_t, float *sin_t, int max_pos, int D, float theta, int scaling,
                 float factor, float low_freq_factor, float high_freq_factor, int orig_max_pos);

/* Number of OpenMP threads in use (1 without OpenMP). */
int kernels_threads(void);
#endif
