/* sft.h: supervised fine-tuning of a freshly initialised byte-level model on the
 * built-in arith task: the answer (step-by-step working, then "#result") is the
 * target, the prompt is context. Also the greedy exact-match evaluation on held-out
 * problems. Library code: progress goes to a callback, never to a terminal. */
#ifndef RLVR_SFT_H
#define RLVR_SFT_H
#include <stdint.h>
#include "rlvr.h"
#include "core/config.h"
#include "model/model.h"
#include "tasks/arith.h"
#include "train/optim.h"

#define SFT_MAX_EVAL_DIFFS 8

typedef struct {
    uint64_t seed;
    model_config model;        /* shape of the fresh model (byte vocabulary) */
    float init_std;
    arith_params task;         /* train problems (split = train) */
    int n_mix;                 /* 0: every problem has task.n_ops operations */
    double mix[SFT_MAX_EVAL_DIFFS]; /* else problem i has d+1 operations with weight mix[d] */
    int n_templates;           /* 0: every problem in task.template; else drawn from templates[] */
    int templates[ARITH_N_TEMPLATES];
    int steps, batch_size;     /* optimizer steps; sequences per step */
    int max_tokens;            /* micro-batch size in tokens (memory bound) */
    adamw_params opt;
    lr_schedule sched;
    int eval_every, eval_n, eval_max_new;
    int n_eval_diffs;
    int eval_diffs[SFT_MAX_EVAL_DIFFS]; /* difficulties (n_ops) measured on the eval split */
    const char *out_dir;       /* checkpoint + metrics; NULL: write nothing */
    int threads;               /* 0: OpenMP default */
} sft_params;

/* Reads every sft setting from cfg (keys documented in docs/config.md; defaults
 * recorded in cfg so the resolved config shows them). String fields point into cfg. */
int sft_params_from_cfg(cfg *c, sft_params *p, rlvr_err *err);

typedef struct {
    int step;                  /* 1-based step just finished */
    int steps;
    double loss, grad_norm, lr;
    double tokens_per_s;
    double elapsed_s;
    int skipped;               /* steps refused so far (non-finite loss or gradient) */
    int is_eval;               /* 1: an evaluation just ran; acc[] is filled */
    int n_acc;
    double acc[SFT_MAX_EVAL_DIFFS];
} sft_progress;

typedef void (*sft_progress_fn)(const sft_progress *pr, void *ud);

typedef struct {
    double final_loss;
    double acc[SFT_MAX_EVAL_DIFFS];   /* last evaluation, per eval difficulty */
    int skipped;
    double seconds;
} sft_result;

/* Trains from scratch. With out_dir set, writes out_dir/metrics.jsonl as it goes and
 * out_dir/model/ (config.json + model.safetensors) at the end. If out_model is not
 * NULL the trained model is returned there (caller frees), else freed. */
int sft_run(const sft_params *p, sft_progress_fn cb, void *ud, sft_result *res, model **out_model, rlvr_err *err);

/* Greedy decoding of n held-out problems with the KV-cache decoder, 64 at a time
 * (prompts prefilled together, then one token per unfinished problem per step);
 * returns the fraction whose "#result" is right. completions, if not NULL,
 * receives each decoded answer (n x cap bytes). */
int sft_eval_greedy(model *m, const arith_problem *probs, int n, int max_new, double *acc,
                    char *completions, size_t cap, rlvr_err *err);
#endif
