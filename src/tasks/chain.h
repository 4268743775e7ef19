/* chain.h: the "chain" task (R-Horizon style composition): n arith problems where
 * problem k+1 reads the final answer of problem k through one of its given values, so
 * one slip early breaks every later answer. The horizon n is the difficulty.
 *
 *     prompt        "Solve the problems in order; [k] stands for the final answer of problem k.
 *                    Problem 1: x:5;a=x*3;b=a-4;?
 *                    Problem 2: q:[1];c=q+7;?
 *                    Answer each on its own line as \"Problem k: <working>#<answer>\"."
 *     answer        "Problem 1: a:15;b:11;#11\nProblem 2: c:18;#18"
 *     ground_truth  "11,18"
 *
 * Problem k is arith_generate(arith params, seed, rng_derive(index, k, attempt)); for
 * k >= 1 it has at least one given value, its first given value is replaced by the answer
 * of problem k-1 and every step is recomputed; draws whose recomputed steps leave
 * 1..max_result, divide inexactly or do not read the linked value are redrawn. Only the
 * compact and worked arith templates are supported (the words template is RLVR_EARG).
 * Problem `index` is a pure function of (params, seed, index).
 *
 * Checking needs only the ground truth: the answers are the "#<integer>" tokens of the
 * completion, in order; the k-th token answers problem k. chain_score: 1 (and correct)
 * iff there are exactly n tokens and all are right, else 0. chain_step_score: the
 * fraction of the first n tokens that are right (per-step credit); correct as above. */
#ifndef RLVR_TASKS_CHAIN_H
#define RLVR_TASKS_CHAIN_H
#include <stddef.h>
#include <stdint.h>
#include "rlvr.h"
#include "tasks/arith.h"

#define CHAIN_MAX       8
#define CHAIN_TEXT_CAP  (CHAIN_MAX * ARITH_TEXT_CAP)
#define CHAIN_GT_CAP    256
#define CHAIN_JSONL_CAP (4 * CHAIN_TEXT_CAP)

typedef struct chain_params {
    int n_problems;     /* difficulty: the horizon, 1..CHAIN_MAX (default 2) */
    arith_params arith; /* each link (n_given 0 or ARITH_RANDOM becomes 1 for linked ones) */
} chain_params;

typedef struct chain_problem {
    int n;
    arith_problem parts[CHAIN_MAX]; /* with the linked value and recomputed steps (their
                                       prompt/answer/key fields are the unlinked originals) */
    long long answers[CHAIN_MAX];
    char prompt[CHAIN_TEXT_CAP];
    char answer[CHAIN_TEXT_CAP];
    char ground_truth[CHAIN_GT_CAP]; /* "11,18,7" */
} chain_problem;

typedef struct chain_report {
    int n;          /* problems in the reference */
    int n_tokens;   /* "#N" tokens found (counting stops at CHAIN_MAX + 1) */
    int n_right;    /* of the first n tokens, those equal to the gold answer */
    int prefix_ok;  /* leading problems answered right before the first wrong one */
    int all_ok;     /* n_tokens == n && n_right == n */
} chain_report;

chain_params chain_default_params(void); /* 2 problems of arith_default_params() with 2 ops */

int chain_generate(const chain_params *p, uint64_t seed, uint64_t index, chain_problem *out, rlvr_err *err);

int chain_check(const char *completion, size_t n, const char *reference, size_t ref_n, chain_report *rep);

/* All-correct scorer (reward 0/1). RLVR_EARG for NULL pointers or a bad reference. */
int chain_score(const char *completion, size_t n, const char *reference, size_t ref_n,
                double *reward, int *correct);

/* Per-step credit: reward = n_right / n. */
int chain_step_score(const char *completion, size_t n, const char *reference, size_t ref_n,
                     double *reward, int *correct);

/* One JSON line: {"prompt","answer","ground_truth","data_source":"chain","difficulty",
 * "answers":[..]}. RLVR_EARG when cap is too small. */
int chain_to_jsonl(const chain_problem *p, char *buf, size_t cap, size_t *n_out, rlvr_err *err);

#endif
