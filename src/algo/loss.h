/* loss.h: the policy-gradient losses of the GRPO family, as per-token coefficients
 * for model_backward. Given each response token's log-prob under the current policy
 * (logp), the sampling policy (old_logp) and optionally a reference (ref_logp), and
 * one advantage per sequence, policy_loss returns the loss value and dL/dlogp[t]
 * (and dL/dentropy[t] for the entropy bonus): the model's backward does the rest.
 * Sequences: tokens tok_start[i]..tok_start[i+1]-1 belong to sequence i; mask[t] (0
 * or 1, or a weight) selects response tokens. */
#ifndef RLVR_LOSS_H
#define RLVR_LOSS_H
#include "rlvr.h"

typedef enum {
    CLIP_PPO = 0,   /* -min(rA, clip(r, 1-lo, 1+hi)A): PPO/GRPO, clip-higher when hi > lo */
    CLIP_DUAL,      /* PPO, and for A < 0 the loss is capped at -c*A (dual clip)       */
    CLIP_GPPO,      /* forward as CLIP_DUAL; in clipped regions the gradient is
                       -(1-lo)A or -(1+hi)A instead of 0 (gradient-preserving clip)  */
    CLIP_NONE,      /* -rA: no clipping                                              */
    CLIP_N_MODES
} clip_mode;

typedef enum { RATIO_TOKEN = 0, RATIO_SEQUENCE } ratio_level; /* SEQUENCE: GSPO */

typedef enum {
    AGG_TOKEN_MEAN = 0,         /* sum over all tokens / number of tokens (DAPO)          */
    AGG_SEQ_MEAN_TOKEN_MEAN,    /* mean over sequences of each sequence's token mean (GRPO) */
    AGG_SEQ_MEAN_TOKEN_SUM,     /* mean over sequences of each sequence's token sum      */
    AGG_SEQ_MEAN_TOKEN_SUM_NORM,/* token sums / (n_seqs * norm_len): Dr. GRPO's constant */
    AGG_N_MODES
} agg_mode;

typedef enum { KL_K1 = 0, KL_K2, KL_K3, KL_N_KINDS } kl_kind;

typedef struct {
    clip_mode clip;
    ratio_level level;
    float clip_low, clip_high;  /* 0.2, 0.2 (DAPO: 0.2, 0.28) */
    float clip_c;               /* dual-clip cap, 3.0 */
    agg_mode agg;
    float norm_len;             /* AGG_SEQ_MEAN_TOKEN_SUM_NORM constant (max response length) */
    float kl_coef;              /* 0: no KL term, ref_logp may be NULL */
    kl_kind kl;                 /* estimator of KL(pi || ref) per token */
    float kl_clamp;             /* |estimate| bound (veRL clamps at 10); 0: none */
    float entropy_coef;         /* loss -= coef * entropy (bonus); 0: off */
    float log_ratio_clamp;      /* |logp - old_logp| bound before exp (20) */
    /* Global denominators when a batch is split into micro-batches: the number of
     * masked tokens and of sequences in the WHOLE minibatch. 0: use this call's. */
    double global_tokens, global_seqs;
} loss_params;

loss_params loss_default_params(void);

int clip_mode_parse(const char *s);   /* "ppo" "dual" "gppo" "none"; -1 otherwise */
int agg_mode_parse(const char *s);    /* "token_mean" "seq_mean_token_mean" "seq_mean_token_sum" "seq_mean_token_sum_norm" */
int kl_kind_parse(const char *s);     /* "k1" "k2" "k3" */

typedef struct {
    double loss;                 /* total, as aggregated */
    double pg_loss, kl_loss, entropy_loss;
    double kl_mean;              /* mean per-token KL estimate (masked) */
    double entropy_mean;
    double clip_frac_low, clip_frac_high, clip_frac_dual; /* fractions of masked tokens */
    double ratio_mean, ratio_max;
    double n_tokens, n_seqs;
} loss_stats;

/* Computes the loss and writes dlogp[t] (and dent[t] when dent != NULL) for every
 * token t < tok_start[n_seq] (0 where mask is 0). entropy may be NULL when
 * entropy_coef is 0; ref_logp may be NULL when kl_coef is 0. Sequences with no
 * masked token contribute nothing. */
int policy_loss(const loss_params *p, int n_seq, const int *tok_start, const float *logp, const float *old_logp,
                const float *ref_logp, const float *entropy, const float *mask, const float *adv,
                float *dlogp, float *dent, loss_stats *st, rlvr_err *err);
#endif
