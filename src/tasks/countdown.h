/* countdown.h: the "countdown" task (TinyZero): reach a target with + - * / using each
 * given number exactly once. Generator, gold answer, a safe equation checker with exact
 * rational arithmetic, and the TinyZero-style scorer.
 *
 *     prompt        "Using the numbers [44, 19, 35], create an equation that equals 98. ..."
 *     answer        "44 + 19 = 63\n63 + 35 = 98\n<answer>(44 + 19) + 35</answer>"
 *     ground_truth  "target=98;nums=44,19,35"
 *
 * Problem `index` is a pure function of (params, seed, index). The target is the value
 * of a random expression tree over all the numbers, so every problem is solvable; it is
 * a whole number in min_target..max_target, and every intermediate value is exact.
 *
 * Scoring (countdown_score; TinyZero compute_score conventions, response only): the
 * equation is the text of the LAST "<answer>...</answer>". No such tag: 0. Tag present
 * but the equation is refused (a byte other than digits, + - * / ( ) space or tab; longer
 * than COUNTDOWN_EXPR_CAP; unbalanced; unary minus; division by zero; overflow), or its
 * numbers are not exactly the given multiset, or its value is not the target: 0.1
 * (format score). Right: 1.0 and *correct = 1. The parser is a bounded recursive descent
 * (depth <= 32) over exact rationals (128-bit, overflow checked): no hang on "44**19**35". */
#ifndef RLVR_TASKS_COUNTDOWN_H
#define RLVR_TASKS_COUNTDOWN_H
#include <stddef.h>
#include <stdint.h>
#include "rlvr.h"

#define COUNTDOWN_MIN_NUMS   3
#define COUNTDOWN_MAX_NUMS   6
#define COUNTDOWN_EXPR_CAP   256   /* longest equation the checker reads (bytes) */
#define COUNTDOWN_TEXT_CAP   1024  /* bytes of prompt[] and answer[], NUL included */
#define COUNTDOWN_GT_CAP     96    /* bytes of ground_truth[], NUL included */
#define COUNTDOWN_JSONL_CAP  4096  /* always holds countdown_to_jsonl's line */
#define COUNTDOWN_FORMAT_SCORE 0.1

typedef struct countdown_params {
    int n_nums;     /* difficulty: how many numbers, 3..6 */
    int max_num;    /* numbers lie in 1..max_num (1..999), default 99 */
    int min_target; /* target range, default 1..999 (1 <= min <= max <= 99999) */
    int max_target;
} countdown_params;

typedef struct countdown_problem {
    int n_nums;
    int nums[COUNTDOWN_MAX_NUMS];      /* in prompt order */
    long long target;
    char equation[COUNTDOWN_EXPR_CAP]; /* a gold equation, e.g. "(44 + 19) + 35" */
    char prompt[COUNTDOWN_TEXT_CAP];
    char answer[COUNTDOWN_TEXT_CAP];   /* working lines, then "<answer>eq</answer>" */
    char ground_truth[COUNTDOWN_GT_CAP]; /* "target=98;nums=44,19,35" */
} countdown_problem;

/* n_nums 4, max_num 99, targets 1..999. */
countdown_params countdown_default_params(void);

/* Fills *out with problem `index`. RLVR_EARG for out-of-range params (*out zeroed). */
int countdown_generate(const countdown_params *p, uint64_t seed, uint64_t index,
                       countdown_problem *out, rlvr_err *err);

/* Parses a ground truth "target=T;nums=a,b,c" (1..COUNTDOWN_MAX_NUMS numbers, each
 * 1..999999; the target may be negative). RLVR_EARG when it does not parse. */
int countdown_parse_reference(const char *ref, size_t n, long long *target, int *nums, int *n_nums);

/* Evaluates an equation s[0..n) under the checker's rules. Returns 1 and the value as a
 * reduced fraction num/den (den > 0) when it parses and evaluates; 0 otherwise. When
 * lits is non-NULL, the literals (up to COUNTDOWN_MAX_NUMS + 1) are written there and
 * their count in *n_lits (counting stops past COUNTDOWN_MAX_NUMS + 1). */
int countdown_eval(const char *s, size_t n, long long *num, long long *den, long long *lits, int *n_lits);

/* The scorer above. reference is the JSONL "ground_truth". *reward in {0, 0.1, 1};
 * correct (may be NULL) gets 1 only for 1.0. RLVR_EARG for NULL pointers or a reference
 * that does not parse (reward 0). Never reads completion past n. */
int countdown_score(const char *completion, size_t n, const char *reference, size_t ref_n,
                    double *reward, int *correct);

/* One JSON line, newline included: {"prompt","answer","ground_truth","data_source":
 * "countdown","difficulty","target","nums":[..],"equation"}. RLVR_EARG when cap is too
 * small. *n_out (may be NULL) gets the length without the NUL. */
int countdown_to_jsonl(const countdown_problem *p, char *buf, size_t cap, size_t *n_out, rlvr_err *err);

#endif
