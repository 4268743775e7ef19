/* advantage.h: turning per-sample rewards into advantages, for the GRPO family.
 * Samples come in groups (the n answers to one prompt), stored contiguously;
 * group_start[g]..group_start[g+1]-1 are group g's samples. One advantage per
 * sample, broadcast to its tokens by the loss. */
#ifndef RLVR_ADVANTAGE_H
#define RLVR_ADVANTAGE_H
#include "rlvr.h"

typedef enum {
    ADV_GRPO = 0,               /* (r - mean_group) / (std_group + eps)          DeepSeekMath */
    ADV_DR_GRPO,                /*  r - mean_group                                Dr. GRPO */
    ADV_LITE,                   /* (r - mean_group) / (std_batch + eps)           Lite PPO */
    ADV_RLOO,                   /*  r - mean of the other samples of the group    RLOO */
    ADV_REINFORCE_PP,           /*  r, whitened over the batch's tokens           REINFORCE++ */
    ADV_REINFORCE_PP_BASELINE,  /*  r - mean_group, whitened over the batch's tokens */
    ADV_N_KINDS
} adv_kind;

typedef struct {
    adv_kind kind;
    float eps;          /* 1e-6: added to every std */
    int std_unbiased;   /* 1: std with n-1 (torch.std, as TRL and veRL do); 0: with n */
} adv_params;

adv_params adv_default_params(void); /* GRPO, eps 1e-6, unbiased */

/* "grpo" | "dr_grpo" | "lite" | "rloo" | "reinforce_pp" | "reinforce_pp_baseline";
 * -1 for anything else. adv_kind_name is the inverse. */
int adv_kind_parse(const char *name);
const char *adv_kind_name(adv_kind k);

typedef struct {
    int n_groups;
    int zero_std_groups;   /* groups whose rewards are all equal (advantage 0) */
    int single_groups;     /* groups of one sample (advantage 0 under group baselines) */
    double reward_mean, reward_std; /* over all samples */
} adv_stats;

/* Computes adv[i] for every sample. lengths (response tokens per sample, may be
 * NULL = 1 each) weight the token-level whitening of the REINFORCE++ kinds.
 * Explicit cases: a group of one sample gets advantage 0 under every group
 * baseline (there is nothing to compare with; RLOO's leave-one-out mean is empty);
 * a group whose rewards are all equal gets exactly 0 (not 0/eps noise). Rewards must
 * be finite (RLVR_ENUMERIC naming the sample otherwise). */
int advantages_compute(const adv_params *p, const float *rewards, const int *group_start, int n_groups,
                       const int *lengths, float *adv, adv_stats *st, rlvr_err *err);
#endif
