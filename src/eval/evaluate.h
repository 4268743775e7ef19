/* evaluate.h: sampled evaluation of a model on a problem set: n completions per problem
 * through the rollout engine, each checked, then pass@k, maj@k and CoT-pass@k per group
 * of problems with bootstrap intervals (passk.h), per-problem counts, response lengths
 * and a few example completions; the same samples can be scored under another model
 * (cross-perplexity), and pass@k curves of two models compared (crossover k). Library
 * code: no printing, no exits; `rlvr eval` (tools/cmd_eval.c) and the trainer call it.
 * docs/eval.md has the formulas, the CLI keys and the JSON schema.
 *
 *     eval_problems *ps;
 *     eval_problems_arith(&task, diffs, 3, 100, seed, &ps, &err);   // or eval_problems_dataset
 *     eval_params ep = eval_default_params();
 *     eval_result r;
 *     if (eval_run(&lm, ps, &ep, &r, &err)) ...;                  // r.groups[g].pass[j].mean ...
 *     eval_result_write_json(&r, "report.json", &err);
 *     eval_result_free(&r); eval_problems_free(ps);
 *
 * Determinism: sample g of problem i is drawn from the stream (seed, i, g) (engine.h), so
 * a result depends on neither the slot count nor the thread count, and two models
 * evaluated with the same problem set and seed see the same problems and the same
 * per-sample random streams. */
#ifndef RLVR_EVAL_EVALUATE_H
#define RLVR_EVAL_EVALUATE_H
#include <stdint.h>
#include "rlvr.h"
#include "model/load.h"
#include "rollout/engine.h"
#include "rollout/sampler.h"
#include "tasks/arith.h"
#include "tasks/dataset.h"

#define EVAL_MAX_K     16   /* entries of eval_params.ks */
#define EVAL_NAME_CAP  96   /* bytes of a group name, NUL included */

struct cJSON;

/* ---- problem sets ---------------------------------------------------------------- */

typedef struct eval_problems eval_problems; /* opaque: prompts, how to check them, groups */

/* The built-in arith task on its eval split: per_diff problems at each difficulty
 * (n_ops) in diffs[0..n_diffs), the other settings (max_val, max_result, ops_mask,
 * template_id, n_given) from *task. Problem i of difficulty d is
 * arith_generate(task with n_ops d, split EVAL, seed ^ EVAL_ARITH_SEED_MIX, i). One group
 * per difficulty, in the order given, named "arith/D". Correct: arith_check_answer;
 * CoT-correct: correct and arith_check_trace's process_ok; maj@k key: the integer after
 * the first '#' as arith_check_answer reads it, printed canonically (so "#7" and "#7;"
 * vote together, and a key is right exactly when its samples are). */
#define EVAL_ARITH_SEED_MIX 0x5EED0E7A1ULL
int eval_problems_arith(const arith_params *task, const int *diffs, int n_diffs, int per_diff, uint64_t seed,
                        eval_problems **out, rlvr_err *err);

enum {
    EVAL_MAJ_AUTO = 0,   /* per group: the reward's pred (out.pred) when the reward gave one to
                            any sample of the group, else EVAL_MAJ_MATH */
    EVAL_MAJ_MATH = 1,   /* math_extract + math_normalize (rewards/math.h) of the completion */
    EVAL_MAJ_REWARD = 2  /* the reward's pred only ("" = no answer, never a majority) */
};

typedef struct eval_data_params {
    dataset_params data;        /* field mapping (dataset_default_params()) */
    const char *difficulty_key; /* "difficulty": a column that splits groups further; "" none */
    const char *reward;         /* "auto": the reward spec deciding correctness (reward_output_correct) */
    const char *cot_reward;     /* "" none; else a reward spec for the reasoning (e.g.
                                   "arith_process[mode=all]"): CoT-correct = correct and this passes */
    double cot_min;             /* 1.0: a cot reward without an outcome verdict (correct -1) passes
                                   when its reward >= cot_min */
    int maj_key;                /* EVAL_MAJ_AUTO */
    int limit;                  /* 0: every row; else the first `limit` rows of the file */
} eval_data_params;

eval_data_params eval_data_default_params(void);

/* A JSONL file through dataset_load (errors name "path:line"), scored by the reward
 * spec(s). Groups: one per (data_source, difficulty column value when the row has it),
 * sorted by data_source, then rows without a difficulty, then numeric difficulties in
 * increasing order, then other values as text; named "SOURCE" or "SOURCE/DIFFICULTY"
 * (SOURCE "-" when the row has none). An empty file is RLVR_EFORMAT. */
int eval_problems_dataset(const char *path, const eval_data_params *p, eval_problems **out, rlvr_err *err);

void eval_problems_free(eval_problems *ps); /* NULL-safe */

/* Checks one completion text of problem i as eval_run does: *ok (the answer is right),
 * *cot (right AND its reasoning passes: the arith step trace, or the cot reward), *key
 * (the maj@k answer key, malloc'd; the caller frees it). n_tokens, finish (ENGINE_FINISH_*)
 * and max_new are passed to length-aware rewards. */
int eval_check_text(const eval_problems *ps, int i, const char *text, size_t len, int n_tokens, int finish, int max_new,
                    int *ok, int *cot, char **key, rlvr_err *err);
int eval_problems_count(const eval_problems *ps);

/* ---- running --------------------------------------------------------------------- */

typedef struct eval_params {
    sampler_params sampling;    /* sampler_default_params(): temperature 1 */
    int n;                      /* 16 samples per problem */
    int n_k;                    /* 5 */
    int ks[EVAL_MAX_K];         /* 1, 2, 4, 8, 16: each in 1..n */
    int max_new_tokens;         /* 64 */
    uint64_t seed;              /* 1: sampling streams and the bootstrap */
    int slots;                  /* 128: engine KV slots */
    int chat;                   /* 0: plain prompts; 1: the model's chat template (BPE models) */
    const char *system;         /* NULL: the template's default system message (chat only) */
    int n_examples;             /* 2: example completions kept per group (sample 0 of its first problems) */
    int keep_samples;           /* 0; 1: keep prompt and completion ids for eval_cross_ppl */
    int bootstrap_reps;         /* 1000 */
    double ci_level;            /* 0.95 */
    engine_progress_fn progress;/* NULL, or called by the engine after steps that finish samples */
    void *progress_ud;
} eval_params;

eval_params eval_default_params(void);

typedef struct { double mean, lo, hi; } eval_ci; /* a mean over problems and its bootstrap interval */

typedef struct eval_group {
    char name[EVAL_NAME_CAP];   /* "arith/2", "math", "math/3" */
    char data_source[64];
    int has_difficulty;         /* 1: difficulty_text is set */
    int difficulty_numeric;     /* 1: difficulty holds its value */
    double difficulty;
    char difficulty_text[32];
    int n_problems;
    eval_ci pass[EVAL_MAX_K];   /* [j]: pass@ks[j] */
    eval_ci maj[EVAL_MAX_K];    /* maj@ks[j] */
    eval_ci cot[EVAL_MAX_K];    /* CoT-pass@ks[j]; zeros when !has_cot */
    double mean_len;            /* generated tokens per sample (the stop token included) */
} eval_group;

typedef struct eval_example {
    int problem, group;
    char *prompt, *completion;  /* owned; the completion without its stop token */
    int correct, cot_correct;
} eval_example;

/* The outcome of eval_run. Everything is owned; eval_result_free releases it. */
typedef struct eval_result {
    char model[1024];           /* lm->source */
    char problems[1024];        /* what was asked: "arith" or the JSONL path */
    int n, n_k, ks[EVAL_MAX_K];
    eval_params params;         /* as run (system and progress not kept) */
    int has_cot;                /* CoT-pass was measured (arith, or a cot_reward) */
    int n_groups;
    eval_group *groups;         /* (n_groups) */
    eval_group overall;         /* every problem together, name "all" */
    int n_problems;
    int *group_of, *n_correct, *n_cot; /* (n_problems): group, correct and CoT-correct samples of n */
    double mean_len;            /* generated tokens per sample, all problems */
    int n_examples;
    eval_example *examples;
    /* keep_samples: prompt ids per problem; completion ids per sample (problem-major,
     * i*n + g; the stop token included when the sample stopped on one) */
    int **prompt_ids, *prompt_lens;
    int **tokens, *n_tokens;
    long gen_tokens;            /* generated tokens */
    double gen_s, score_s;      /* seconds sampling, seconds checking */
} eval_result;

/* Samples p->n completions per problem of ps with lm's model, checks them, and fills *out
 * (zeroed first; free with eval_result_free even on failure). Errors: RLVR_EARG for bad
 * params (k outside 1..n, n < 1, too many ks) or a prompt that leaves no room to generate
 * (naming the problem, or path:line for datasets); reward errors, wrapped with the row's
 * path:line; engine errors. OpenMP threads: the caller's setting (the engine and the
 * checks both use them). The model's weights are only read. */
int eval_run(const loaded_model *lm, const eval_problems *ps, const eval_params *p, eval_result *out, rlvr_err *err);

void eval_result_free(eval_result *r); /* NULL-safe; zeroes it */

/* The report as a cJSON object (caller cJSON_Delete's it); NULL when out of memory.
 * Fields: docs/eval.md ("model", "n", "difficulties": [{"difficulty", "group", "pass":
 * [{"k", "mean", "ci_lo", "ci_hi"}], "maj", "cot_pass", ...}], "overall", "examples", ...). */
struct cJSON *eval_result_json(const eval_result *r);

/* Writes eval_result_json atomically to path (pretty-printed). */
int eval_result_write_json(const eval_result *r, const char *path, rlvr_err *err);

/* A byte-vocabulary view of a bare model (the trainer's): byte_vocab, BOS/EOS, stop id
 * EOS. *view borrows m: do not loaded_model_free it. */
void eval_bytes_view(model *m, loaded_model *view);

/* ---- comparing models ------------------------------------------------------------ */

/* The index j of the smallest k (ks increasing) where a[j] >= b[j], i.e. where model A
 * has caught up with model B (A: the base model, B: its RL-trained version), or -1 when
 * a[j] < b[j] for every j. NaN entries never count as caught up. */
int eval_crossover(const double *a, const double *b, int n_k);

/* RLVR_OK when a and b share a vocabulary (both byte-level, or BPE tokenizers with the
 * same size and the same bytes for every id, and the same model vocab_size); else
 * RLVR_EUNSUPPORTED saying where they differ. */
int eval_same_vocab(const loaded_model *a, const loaded_model *b, rlvr_err *err);

/* Per-token perplexity of r's kept samples (eval_params.keep_samples) under scorer's
 * model, teacher-forced with model_forward: ppl = exp(-sum logp(completion token) / count)
 * over every completion token of every sample (prompt tokens are context only). *n_tokens
 * (may be NULL) gets the count. Sequences are packed into the model's activation buffers;
 * a model without them (model_open'ed) gets them here (model_alloc_train: gradients and
 * Adam moments are allocated too, 3x the parameter memory), sized for about
 * EVAL_PPL_ACT_BYTES of activations but at least the longest sample.
 * Overwrites the model's last-forward activations (the trainer calls it between steps).
 * RLVR_EARG when r kept no samples or an id is outside scorer's vocabulary. */
#define EVAL_PPL_ACT_BYTES (256.0 * 1024 * 1024)
int eval_cross_ppl(const loaded_model *scorer, const eval_result *r, double *ppl, long *n_tokens, rlvr_err *err);
#endif
