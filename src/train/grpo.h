/* grpo.h: the RL loop of the GRPO family on a built-in task. One step: draw
 * prompts -> n samples each (KV-cache decoder, prompt prefilled once and shared by
 * its group) -> rewards (the task's checker) -> advantages -> ppo_epochs x
 * minibatches of policy loss and backward -> AdamW. The sampler's log-probs are the
 * old policy's (same weights, same kernels). Progress goes to a callback. */
#ifndef RLVR_GRPO_H
#define RLVR_GRPO_H
#include <stdint.h>
#include "rlvr.h"
#include "algo/advantage.h"
#include "algo/loss.h"
#include "core/config.h"
#include "rollout/sampler.h"
#include "tasks/arith.h"
#include "train/optim.h"
#include "train/sft.h"

typedef struct {
    uint64_t seed;
    const char *model_dir;      /* HF directory to start from (e.g. an sft output) */
    arith_params task;          /* train problems; difficulty mix below */
    int n_diffs, diffs[SFT_MAX_EVAL_DIFFS]; /* training difficulties, drawn uniformly */
    int steps, prompts_per_step, group_size;
    int max_new_tokens;
    sampler_params sampling;
    adv_params adv;
    loss_params loss;
    int ppo_epochs, minibatches, max_tokens;
    int dynamic_sampling;       /* drop groups whose rewards are all equal (DAPO) */
    float pass_rate_low, pass_rate_high; /* keep groups whose mean reward is in [low, high] */
    int mask_truncated;         /* leave samples cut at max_new_tokens out of the loss */
    int ref_reset_every;        /* with kl_coef > 0: copy the policy into the reference every N steps (ProRL); 0 never */
    int ref_reset_optimizer;    /* and reset the Adam moments at each reference reset */
    adamw_params opt;
    lr_schedule sched;
    int eval_every, eval_n, n_eval_diffs, eval_diffs[SFT_MAX_EVAL_DIFFS];
    const char *reward_spec;    /* a reward spec (docs/verifiers.md); "arith" by default */
    const char *reward_cmd;     /* non-empty: a long-running external reward server (one JSON line
                                   per request) scores every batch instead of the spec */
    const char *out_dir;
    int threads;
    int save_every;             /* checkpoint every N steps (0: only at the end and on stop) */
    int keep_last;              /* checkpoints kept */
    int resume;                 /* continue from the newest verified checkpoint in out_dir */
    int resume_force;           /* even if its config hash differs */
    uint64_t cfg_hash;          /* of the resolved config, set by the caller */
    volatile int *stop;         /* set (e.g. by a signal handler) to checkpoint and return */
} grpo_params;

int grpo_params_from_cfg(cfg *c, grpo_params *p, rlvr_err *err);

typedef struct {
    int step, steps;
    double reward_mean, reward_std, acc, zero_std_frac;
    double len_mean; int len_min, len_max; double trunc_frac;
    loss_stats loss;
    double grad_norm, lr;
    double kl;                  /* mean per-token KL estimate to the reference (0 without one) */
    double sample_s, train_s, sample_tok_s, train_tok_s, elapsed_s;
    int skipped, kept_groups;
    int is_eval, n_acc;
    double acc_eval[SFT_MAX_EVAL_DIFFS];
} grpo_progress;

typedef void (*grpo_progress_fn)(const grpo_progress *pr, void *ud);

typedef struct {
    double acc_before[SFT_MAX_EVAL_DIFFS], acc_after[SFT_MAX_EVAL_DIFFS];
    int skipped;
    double seconds;
    int resumed_from;           /* step resumed from, -1 when fresh */
    int stopped_at;             /* step at which a stop request ended the run, -1 when none */
} grpo_result;

int grpo_run(const grpo_params *p, grpo_progress_fn cb, void *ud, grpo_result *res, rlvr_err *err);
#endif
