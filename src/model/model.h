/* model.h: a decoder-only Llama-family transformer in fp32 with a hand-written
 * backward pass. Parameters, gradients and the two Adam moments each live in one
 * buffer; every tensor is a named view (Hugging Face names) into it, so saving is a
 * walk over `tensors`, zero_grad is one memset, and the optimizer one loop.
 * The training forward runs B sequences packed back to back (N tokens in all, each
 * sequence with its own positions and no attention across sequences) and keeps the
 * activations that backward needs; buffers are sized once for max_tokens. */
#ifndef RLVR_MODEL_H
#define RLVR_MODEL_H
#include <stddef.h>
#include <stdint.h>
#include "rlvr.h"
#include "model/config.h"

typedef struct {
    float *ln1, *wq, *bq, *wk, *bk, *wv, *bv, *q_norm, *k_norm, *wo;
    float *ln2, *wgate, *wup, *wdown;            /* bq.. NULL unless qkv_bias, q/k_norm unless qk_norm */
} layer_weights;

typedef struct {
    float *wte;           /* (V, C)  model.embed_tokens.weight */
    float *norm_f;        /* (C)     model.norm.weight         */
    float *lm_head;       /* (V, C)  lm_head.weight, == wte when tied */
    layer_weights *layers;
} model_weights;

typedef struct {
    char name[80];        /* Hugging Face tensor name */
    int ndim;
    int shape[2];
    size_t offset;        /* in floats, into params/grads/m/v */
    size_t numel;
    int decay;            /* 1: weight decay applies (matrices); 0: norms and biases */
} tensor_info;

/* Activations of the last training forward, for B <= max_seqs sequences and
 * N <= max_tokens tokens. Per-layer arrays are (L, max_tokens, ...). */
typedef struct {
    float *x;                      /* (L+1, N, C) residual stream entering each layer */
    float *ln1, *rstd1;            /* (L, N, C), (L, N) */
    float *qpre, *kpre, *qrstd, *krstd; /* q/k before the per-head norm (qk_norm only) */
    float *q, *k, *v;              /* (L, N, H*D), (L, N, KV*D) x2, after norm and rope */
    float *att, *lse_att;          /* (L, N, H*D), (L, N, H) */
    float *xmid;                   /* (L, N, C) residual after attention */
    float *ln2, *rstd2;            /* (L, N, C), (L, N) */
    float *gate, *up, *act;        /* (L, N, F) each */
    float *lnf, *rstdf;            /* (N, C), (N) */
    float *logits;                 /* (N, V); backward overwrites it with dlogits */
    float *lse, *logp, *entropy;   /* (N) each */
    /* backward scratch */
    float *dres, *dln, *datt, *dq, *dk, *dv, *dqn, *dkn, *dgate, *dup, *dact;
    int *tokens, *targets, *pos, *seq_start;
    int N, B;                      /* shape of the last forward */
    int backward_done;             /* logits were consumed by backward */
} model_acts;

/* Time per kind of op, accumulated while model.profile is set (for benchmarks). */
enum { PROF_GEMM, PROF_ATTENTION, PROF_NORM, PROF_ROPE, PROF_SWIGLU, PROF_LOGITS, PROF_EMBED, PROF_OTHER, PROF_N };
extern const char *const model_prof_names[PROF_N];

typedef struct model {
    model_config cfg;
    int n_tensors;
    tensor_info *tensors;
    size_t n_params;               /* floats in params (and in grads, m, v) */
    float *params, *grads, *m, *v; /* grads, m, v are NULL until model_alloc_train */
    model_weights w, g;            /* views into params and grads */
    float *rope_cos, *rope_sin;    /* (max_seq_len, D/2) */
    int max_tokens, max_seqs;
    model_acts a;
    void *acts_mem;
    int profile;                   /* 1: accumulate op times into prof[] */
    double prof[PROF_N];           /* seconds per PROF_* kind */
} model;

/* Checks a config for consistency (positive sizes, H % KV == 0, even head_dim). */
int model_config_check(const model_config *c, rlvr_err *err);

/* Allocates a model with zeroed parameters (no gradients, no activations).
 * Returns NULL and fills err on a bad config or allocation failure. */
model *model_new(const model_config *c, rlvr_err *err);
void model_free(model *m);                  /* NULL-safe */

/* Fills parameters: N(0, std) for matrices (output projections scaled by
 * 1/sqrt(2L)), ones for norms, zeros for biases, from one RNG stream of seed. */
void model_init_random(model *m, uint64_t seed, float std);

/* Allocates gradients, Adam moments (all zero) and activations for up to
 * max_tokens packed tokens in up to max_seqs sequences. Call once. */
int model_alloc_train(model *m, int max_tokens, int max_seqs, rlvr_err *err);

const tensor_info *model_find_tensor(const model *m, const char *name);

/* Training forward. tokens (N), targets (N; -1 = no target), seq_start (B+1) with
 * seq_start[0] == 0 and N == seq_start[B]. Afterwards m->a.logp[n] is the log-prob
 * of targets[n] (0 where none), m->a.entropy[n] the entropy of the next-token
 * distribution, m->a.logits the logits. Validates ids and shapes. */
int model_forward(model *m, const int *tokens, const int *targets, const int *seq_start, int B, rlvr_err *err);

/* Backward of L = sum_n dlogp[n]*logp[n] + dent[n]*entropy[n] for the last forward,
 * ACCUMULATED into m->grads. dlogp or dent may be NULL. Consumes the logits: one
 * backward per forward. */
int model_backward(model *m, const float *dlogp, const float *dent, rlvr_err *err);

/* Mean weighted negative log-likelihood of the last forward, and the matching
 * dlogp coefficients (-w[n]/sum(w)) for model_backward; weights may be NULL (1 for
 * every token with a target). Returns NAN when no token has weight. */
double model_nll(const model *m, const float *weights, float *dlogp_out);

void model_zero_grad(model *m);

/* FLOPs of one training step per token (forward + backward = 3 x forward; matmuls,
 * the output head, and causal attention in sequences of seq_len tokens), for
 * throughput reports. */
double model_train_flops_per_token(const model_config *c, double seq_len);
#endif
