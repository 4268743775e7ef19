/* shaping.h: format and length shaping rewards as pure functions, plus their registry
 * entries (format_think_answer, overlong, cosine_length, length_budget, group_length,
 * repetition). Not an answer verifier: rewards that depend on correctness take the
 * verdict as an argument (the registry entries get it from a verifier reward).
 * Formulas are in the comments below and in docs/verifiers.md ("Shaping"). */
#ifndef RLVR_REWARDS_SHAPING_H
#define RLVR_REWARDS_SHAPING_H
#include <stddef.h>
#include "rlvr.h"
#include "rewards/reward.h"

/* ---- think/answer format ----------------------------------------------------------
 * STRICT:  the whole text is  ws <think> A </think> ws <answer> B </answer> ws
 *          (ws = optional whitespace; A, B hold none of the four tags).
 * LENIENT: each of <think> </think> <answer> </answer> occurs exactly once, in that
 *          order; anything may come before, between and after (Logic-RL's rule).
 * prefilled = 1: the prompt ended with "<think>", so the text is read as if it began
 * with it (an extra "<think>" in the text is then a second one). Tags are
 * case-sensitive. Linear time; returns 1 when the format holds, else 0. */
enum { SHAPING_FORMAT_STRICT = 0, SHAPING_FORMAT_LENIENT = 1 };
int shaping_think_answer_ok(const char *s, size_t n, int mode, int prefilled);

/* ---- DAPO overlong soft punishment ---------------------------------------------------
 *   len <= L_max - L_cache               ->  0
 *   L_max - L_cache < len <= L_max        ->  ((L_max - L_cache) - len) / L_cache
 *   len > L_max                           ->  -1
 * L_cache <= 0 is a hard cliff: 0 up to L_max, -1 beyond. L_cache > L_max is clipped. */
double shaping_overlong(double len, double l_max, double l_cache);

/* ---- cosine length reward (Demystifying Long CoT, 2502.03373) -----------------------
 *   r = r_L + (r_0 - r_L) * (1 + cos(pi * len / L_max)) / 2   (r_0 at len 0, r_L at L_max)
 * with (r_0, r_L) = (r0_correct, rl_correct) when correct, else (r0_wrong, rl_wrong);
 * r = r_exceed when truncated or len >= L_max. len is clamped at 0. */
typedef struct shaping_cosine_params {
    double r0_correct, rl_correct; /* defaults 2.0, 1.0: short right answers earn more */
    double r0_wrong, rl_wrong;     /* defaults -10.0, 0.0: long wrong answers lose less */
    double r_exceed;               /* default -10.0 */
} shaping_cosine_params;
shaping_cosine_params shaping_cosine_default_params(void);
double shaping_cosine(int correct, double len, double l_max, int truncated,
                      const shaping_cosine_params *p);

/* ---- length budget (L1, 2503.04697) ----------------------------------------------------
 * exact:  -alpha * |len - budget|            (add an accuracy reward for L1-Exact)
 * hinge:  -alpha * max(0, len - budget)      (only going over the budget costs)
 * max:    correct * clip(alpha * (budget - len) + delta, 0, 1)      (L1-Max, whole reward) */
double shaping_budget_exact(double len, double budget, double alpha);
double shaping_budget_hinge(double len, double budget, double alpha);
double shaping_budget_max(int correct, double len, double budget, double alpha, double delta);

/* ---- group length (Kimi 1.5) ----------------------------------------------------------
 *   lambda = 0.5 - (len - min_len) / (max_len - min_len)   over the prompt's group
 *   correct: lambda;  wrong: min(0, lambda);  all lengths equal: 0 */
double shaping_group_length(int correct, double len, double min_len, double max_len);

/* ---- n-gram repetition (Demystifying Long CoT, App. C.2; TRL's form) ------------------
 * Words: the text lower-cased (Unicode simple case mapping) and split on Unicode
 * whitespace. With T = #word n-grams and U = #distinct ones,
 *   r = max_penalty * (1 - U / T)     (max_penalty <= 0);  r = 0 when T == 0.
 * *repeated gets 1 - U/T (may be NULL). n-grams are compared by a 64-bit hash
 * (collision chance ~T^2/2^65). Linear time; RLVR_ENOMEM when the hash set cannot be
 * allocated, RLVR_EARG for ngram < 1. */
int shaping_repetition(const char *s, size_t n, int ngram, double max_penalty, double *out,
                       double *repeated, rlvr_err *err);

/* Registry entries defined in shaping.c (reward.c merges them into the registry). */
extern const reward_entry shaping_rewards[];
extern const int shaping_n_rewards;

#endif
