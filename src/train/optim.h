/* optim.h: AdamW with decoupled weight decay and bias correction, global-norm
 * gradient clipping, and learning-rate schedules. Operates on a model's single
 * params/grads/m/v buffers; weight decay applies to tensors marked `decay`. */
#ifndef RLVR_OPTIM_H
#define RLVR_OPTIM_H
#include "rlvr.h"
#include "model/model.h"

typedef struct {
    float lr;            /* peak learning rate */
    float beta1, beta2;  /* 0.9, 0.95 */
    float eps;           /* 1e-8 */
    float weight_decay;  /* decoupled, on matrices only (tensor_info.decay) */
    float grad_clip;     /* max global L2 norm; <= 0 disables clipping */
} adamw_params;

adamw_params adamw_default_params(void);

enum { LR_CONSTANT = 0, LR_LINEAR, LR_COSINE };

typedef struct {
    int kind;            /* LR_CONSTANT | LR_LINEAR (decay to min) | LR_COSINE */
    int warmup_steps;    /* linear ramp from 0 over the first warmup steps */
    int total_steps;     /* for the decays */
    float min_ratio;     /* final lr as a fraction of peak (cosine and linear) */
} lr_schedule;

/* Parses "constant" | "linear" | "cosine"; returns -1 for anything else. */
int lr_schedule_kind(const char *name);

/* Learning rate at 0-based step `step` for peak lr `peak`. */
float lr_at(const lr_schedule *s, float peak, int step);

/* Global L2 norm of the gradients, accumulated in double in a fixed order. */
double grad_global_norm(const model *m);

/* One AdamW step at 1-based step number t with learning rate lr. Computes the
 * global gradient norm first (reported in *gnorm); when it is not finite the step
 * is refused: parameters and moments stay untouched and RLVR_ENUMERIC is returned.
 * Otherwise clips to p->grad_clip (torch's clip_grad_norm_ semantics) and updates
 * params, m and v. Gradients are left as they were (clipped); the caller zeroes. */
int adamw_step(model *m, const adamw_params *p, float lr, int t, double *gnorm, rlvr_err *err);
#endif
