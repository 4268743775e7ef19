/* grpo.h: the RL loop of the GRPO family. One step: draw prompts (the built-in arith
 * task or a JSONL dataset) -> n samples each through the rollout engine (continuous
 * batching, each prompt prefilled once and shared by its group) -> rewards (any reward
 * spec, or an external reward server) -> filters (dynamic sampling with refill, pass-rate
 * band) -> advantages -> ppo_epochs x minibatches of policy loss and backward -> AdamW.
 * The sampler's log-probs are the old policy's (same weights, same kernels). Models:
 * rlvr's byte-level models and pretrained HF directories or GGUF files (model/load.h).
 * Progress goes to a callback; metrics.jsonl, TensorBoard events, samples.jsonl,
 * periodic sampled evaluations (eval/step_N.json) and checkpoints go to out_dir. */
#ifndef RLVR_GRPO_H
#define RLVR_GRPO_H
#include <stdint.h>
#include "rlvr.h"
#include "algo/advantage.h"
#include "algo/loss.h"
#include "eval/evaluate.h"
#include "core/config.h"
#include "rollout/sampler.h"
#include "tasks/arith.h"
#include "train/optim.h"
#include "train/sft.h"

#define GRPO_MAX_STOP   4
#define GRPO_MAX_FIELDS 8
#define GRPO_MAX_EVAL_K 8
#define GRPO_MAX_STAGES 8

typedef struct {
    uint64_t seed;
    const char *model_dir;      /* HF directory or GGUF file to start from (e.g. an sft output) */
    const char *chat_template;  /* "" detect; else a chat template name (model/load.h) */
    int chat;                   /* 1: prompts go through the model's chat template */
    const char *system;         /* chat system message; "" the template's default */
    const char *data_path;      /* "" the built-in arith task; else a JSONL dataset (tasks/dataset.h) */
    const char *prompt_key, *answer_key, *data_source_key, *prompt_template;
    arith_params task;          /* train problems; difficulty mix below */
    int n_diffs, diffs[SFT_MAX_EVAL_DIFFS]; /* training difficulties, drawn uniformly */
    int steps, prompts_per_step, group_size;
    int max_new_tokens;
    int min_new_tokens;         /* stop ids and strings are ignored before this many tokens (benchmarks) */
    int slots;                  /* rollout engine KV slots (sequences decoded at once) */
    int n_stop; const char *stop_str[GRPO_MAX_STOP]; /* stop strings besides the model's stop ids */
    sampler_params sampling;
    adv_params adv;
    loss_params loss;
    int ppo_epochs, minibatches, max_tokens;
    int dynamic_sampling;       /* drop groups whose rewards are all equal (DAPO) and draw again */
    int max_gen_batches;        /* generation batches per step at most (DAPO's max_num_gen_batches) */
    float pass_rate_low, pass_rate_high; /* keep groups whose pass rate (fraction right; mean reward
                                            without verdicts) is in [low, high]; [0, 1] keeps all */
    int mask_truncated;         /* leave samples cut at max_new_tokens out of the loss */
    int skip_zero_adv;          /* no forward/backward for samples whose gradient is exactly 0
                                   (advantage 0, no KL or entropy term); same update, less work */
    int ref_reset_every;        /* with kl_coef > 0: copy the policy into the reference every N steps (ProRL); 0 never */
    int ref_reset_optimizer;    /* and reset the Adam moments at each reference reset */
    adamw_params opt;
    lr_schedule sched;
    int eval_every, eval_n, n_eval_diffs, eval_diffs[SFT_MAX_EVAL_DIFFS];
    const char *eval_path;      /* "" arith eval split (or nothing for datasets); else a JSONL file */
    int eval_samples;           /* samples per eval problem (1) */
    int n_eval_k, eval_k[GRPO_MAX_EVAL_K]; /* pass@k reported (k <= eval_samples) */
    sampler_params eval_sampling; /* temperature 0: greedy */
    int eval_max_new_tokens;
    int tensorboard;            /* write out_dir/tb/events.out.tfevents.* */
    int log_samples;            /* samples written to samples.jsonl at each logged step */
    int log_samples_every;      /* steps between sample logs (0: at evaluations) */
    /* staged curriculum: stage s runs while step < stage_until[s] (the last to the end);
     * per stage, arith difficulties, a JSONL file and a max response length (0: the default) */
    int n_stages;
    int stage_until[GRPO_MAX_STAGES];
    int stage_n_diffs[GRPO_MAX_STAGES], stage_diffs[GRPO_MAX_STAGES][SFT_MAX_EVAL_DIFFS];
    const char *stage_data[GRPO_MAX_STAGES];
    int stage_max_new[GRPO_MAX_STAGES];
    /* interleaved SFT on hard prompts (ReLIFT): prompts whose whole group failed and whose
     * row has a reference solution (column sft.solution_key) wait in a FIFO buffer; every
     * sft.every steps, an SFT update on up to sft.batch of them */
    int sft_every, sft_batch, sft_buffer;
    float sft_lr;
    const char *sft_solution_key;
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
    int debug_nan_step;         /* tests: poison the loss gradient at this step (1-based; 0 never) */
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
    double sample_s, score_s, ref_s, train_s, sample_tok_s, train_tok_s, elapsed_s;
    int skipped, kept_groups, gen_batches, groups_drawn;
    int filled;                 /* dynamic sampling: the batch reached prompts_per_step groups */
    int inert_seqs;             /* samples left out of the forward/backward (train.skip_zero_adv) */
    int stage;                  /* curriculum stage of this step (0 without one) */
    int sft_items;              /* interleaved SFT: buffered prompts trained on at this step (0: none) */
    double sft_loss;            /* their mean negative log-likelihood per token */
    int sft_buffered;           /* prompts waiting in the buffer after this step */
    int n_fields;               /* means of the reward's named fields (reward_output.fields) */
    char field_name[GRPO_MAX_FIELDS][32];
    double field_mean[GRPO_MAX_FIELDS];
    int is_eval, n_acc;
    double acc_eval[SFT_MAX_EVAL_DIFFS]; /* eval: pass@1 per group */
    char acc_name[SFT_MAX_EVAL_DIFFS][EVAL_NAME_CAP];
} grpo_progress;

typedef void (*grpo_progress_fn)(const grpo_progress *pr, void *ud);

/* One row of the before/after table: pass@k of one eval group at the first and the last
 * evaluation, each with its 95% bootstrap interval over problems, and the change with a
 * paired bootstrap interval (the same problems resampled in both). */
typedef struct {
    char group[EVAL_NAME_CAP];
    int k, n_problems;
    double before, before_lo, before_hi, after, after_lo, after_hi, diff, diff_lo, diff_hi;
} grpo_cmp;

#define GRPO_MAX_CMP 64

typedef struct {
    double acc_before[SFT_MAX_EVAL_DIFFS], acc_after[SFT_MAX_EVAL_DIFFS];
    int n_cmp;
    grpo_cmp cmp[GRPO_MAX_CMP];
    int skipped;
    double seconds;
    int resumed_from;           /* step resumed from, -1 when fresh */
    int stopped_at;             /* step at which a stop request ended the run, -1 when none */
} grpo_result;

int grpo_run(const grpo_params *p, grpo_progress_fn cb, void *ud, grpo_result *res, rlvr_err *err);
#endif
