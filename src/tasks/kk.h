/* kk.h: the "kk" task (knights and knaves, Logic-RL style). Knights always tell the
 * truth, knaves always lie. N people (the difficulty, 2..8) each make one statement
 * about others; the statements have exactly one consistent assignment (checked by brute
 * force over all 2^N), and the answer names every person's role.
 *
 *     prompt        "... 2 inhabitants: Zoey and Oliver. Zoey says: \"Oliver is a knave.\" ..."
 *     answer        "Zoey: if Zoey is a knight, ... <answer>(1) Zoey is a knight\n(2) Oliver is a knave</answer>"
 *     ground_truth  "Zoey=knight;Oliver=knave"
 *
 * Statement kinds: "X is a knight/knave"; "X is a knight and Y is a knave" (and);
 * "X is a knight or Y is a knave" (or); "X and Y are the same kind" / "... different
 * kinds"; "if X is a knight then Y is a knave" (implication). Problem `index` is a pure
 * function of (params, seed, index).
 *
 * Checking (kk_score): the text of the last "<answer>...</answer>" when the completion has
 * one, else the whole completion. For each name, the phrases "NAME is a knight" and
 * "NAME is a knave" (role word case-insensitive, name a whole word) are found; a name
 * with no role or with both roles fails, and the total number of role phrases must equal
 * N (Logic-RL: no hedging by listing both). *reward 1 and *correct 1 iff all right,
 * else 0; *n_right (kk_score_detail) counts people whose role alone is right. */
#ifndef RLVR_TASKS_KK_H
#define RLVR_TASKS_KK_H
#include <stddef.h>
#include <stdint.h>
#include "rlvr.h"

#define KK_MIN_PEOPLE 2
#define KK_MAX_PEOPLE 8
#define KK_TEXT_CAP   4096  /* bytes of prompt[] and answer[], NUL included */
#define KK_GT_CAP     256
#define KK_JSONL_CAP  16384

typedef struct kk_params {
    int n_people; /* difficulty, 2..8 */
} kk_params;

typedef struct kk_problem {
    int n_people;
    int knight[KK_MAX_PEOPLE];          /* 1 knight, 0 knave: the unique solution */
    const char *names[KK_MAX_PEOPLE];   /* static strings */
    char prompt[KK_TEXT_CAP];
    char answer[KK_TEXT_CAP];           /* reasoning lines, then "<answer>(1) ..</answer>" */
    char ground_truth[KK_GT_CAP];       /* "Zoey=knight;Oliver=knave" */
} kk_problem;

kk_params kk_default_params(void); /* 3 people */

/* Fills *out with problem `index`. RLVR_EARG for out-of-range params (*out zeroed). */
int kk_generate(const kk_params *p, uint64_t seed, uint64_t index, kk_problem *out, rlvr_err *err);

/* The scorer above; reference is "Name=knight;Name=knave;..." (1..KK_MAX_PEOPLE names of
 * letters only). RLVR_EARG for NULL pointers or an unparsable reference (reward 0). */
int kk_score(const char *completion, size_t n, const char *reference, size_t ref_n,
             double *reward, int *correct);

/* The same with the per-person count (n_right may be NULL; n_people gets N). */
int kk_score_detail(const char *completion, size_t n, const char *reference, size_t ref_n,
                    double *reward, int *correct, int *n_right, int *n_people);

/* One JSON line: {"prompt","answer","ground_truth","data_source":"kk","difficulty",
 * "solution":{"Zoey":"knight",..}}. RLVR_EARG when cap is too small. */
int kk_to_jsonl(const kk_problem *p, char *buf, size_t cap, size_t *n_out, rlvr_err *err);

#endif
