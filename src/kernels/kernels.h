/* kernels.h: every op the Llama-family forward and backward passes need, as plain
 * functions over contiguous row-major arrays. Each op exists three times:
 *   op_*       the fast CPU version (OpenMP, OpenBLAS GEMM, vectorisable loops): cpu.c
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
/* decode-time attention: sequence b's new queries (rows q_start[b]..q_start[b+1]-1 of */ \
/* q and out) sit at positions pos0[b].. and attend causally to rows 0..pos of that */ \
/* sequence's key/value cache, which starts at row kv_row[b] of kc/vc ((rows, KV*D)) */ \
void attention_cached_forward##S(R *out, const R *q, const R *kc, const R *vc, const int *q_start, const int *pos0, const int *kv_row, int B, int H, int KV, int D); \
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

/* cos/sin tables (max_pos, D/2) for rotary embeddings, computed in double; inv_freq
 * follows HF, with optional Llama-3 frequency scaling (scaling = 1). */
void rope_tables(float *cos_t, float *sin_t, int max_pos, int D, float theta, int scaling,
                 float factor, float low_freq_factor, float high_freq_factor, int orig_max_pos);

/* Number of OpenMP threads in use (1 without OpenMP). */
int kernels_threads(void);
#endif
