/* strfn.h: the "strfn" task: composition of named string functions, f(g(h(x))). The
 * prompt defines each function used once, gives x, and asks for the composition; the
 * gold answer writes one line per application, innermost first, then "Answer: ...".
 *
 *     prompt        "Functions:\nreverse(s): s backwards\nupper(s): ...\nLet x = \"kqdb\".
 *                    Compute upper(reverse(x)). ..."
 *     answer        "reverse(kqdb) = bdqk\nupper(bdqk) = BDQK\nAnswer: BDQK"
 *     ground_truth  "x=kqdb;fns=reverse,upper"   (application order, innermost first)
 *
 * depth (the difficulty, 1..STRFN_MAX_DEPTH) is the number of applications; x is a
 * random lower-case string of min_len..max_len letters. Each application gives a value
 * not seen before in the chain (no identity steps, no cycles), and no value is empty
 * or longer than STRFN_STR_CAP - 1.
 * Problem `index` is a pure function of (params, seed, index).
 *
 * Checking needs only the ground truth (the checker recomputes every value):
 *  - outcome: the text after the last "Answer:" up to the end of its line, or else the
 *    last non-blank line, trimmed of spaces and of one pair of surrounding quotes, must
 *    equal the final value exactly (case matters);
 *  - process: for each application k, a line part "name(prev) = value" (spaces around
 *    '=' free) must appear after the one for k-1, with prev and value the gold values.
 *    process_ok = outcome right and every step found. */
#ifndef RLVR_TASKS_STRFN_H
#define RLVR_TASKS_STRFN_H
#include <stddef.h>
#include <stdint.h>
#include "rlvr.h"

#define STRFN_MAX_DEPTH  8
#define STRFN_STR_CAP    128   /* longest value, NUL included */
#define STRFN_TEXT_CAP   4096  /* bytes of prompt[] and answer[], NUL included */
#define STRFN_GT_CAP     256
#define STRFN_JSONL_CAP  16384

/* The functions, by id. */
enum {
    STRFN_REVERSE, STRFN_UPPER, STRFN_LOWER, STRFN_ROTL, STRFN_ROTR, STRFN_DUP,
    STRFN_DROPVOWELS, STRFN_SORT, STRFN_SWAPCASE, STRFN_N_FUNCS
};

typedef struct strfn_params {
    int depth;   /* difficulty: applications, 1..STRFN_MAX_DEPTH (default 2) */
    int min_len; /* input length range, 1..16 (default 4..8) */
    int max_len;
} strfn_params;

typedef struct strfn_problem {
    int depth;
    int fns[STRFN_MAX_DEPTH];                 /* function ids, application order */
    char values[STRFN_MAX_DEPTH + 1][STRFN_STR_CAP]; /* values[0] = x, values[k+1] = fns[k](values[k]) */
    char prompt[STRFN_TEXT_CAP];
    char answer[STRFN_TEXT_CAP];
    char ground_truth[STRFN_GT_CAP];
} strfn_problem;

typedef struct strfn_report {
    int depth;      /* applications in the reference */
    int final_ok;   /* outcome check */
    int steps_ok;   /* applications found in order with the right values */
    int process_ok; /* final_ok && steps_ok == depth */
} strfn_report;

strfn_params strfn_default_params(void);

/* The name ("reverse") of function id, or NULL; the id of a name, or -1. */
const char *strfn_name(int id);
int strfn_find(const char *name, size_t n);

/* Applies function id to in (NUL-terminated) into out (cap bytes). Returns 0 when the
 * result would not fit or id is unknown. */
int strfn_apply(int id, const char *in, char *out, size_t cap);

int strfn_generate(const strfn_params *p, uint64_t seed, uint64_t index, strfn_problem *out, rlvr_err *err);

/* Outcome scorer: *reward 1 and *correct 1 iff the final answer is right. RLVR_EARG for
 * NULL pointers or an unparsable reference. */
int strfn_score(const char *completion, size_t n, const char *reference, size_t ref_n,
                double *reward, int *correct);

/* Process scorer: *reward = steps found / depth, *correct = process_ok. */
int strfn_process_score(const char *completion, size_t n, const char *reference, size_t ref_n,
                        double *reward, int *correct);

/* Both checks in one report. */
int strfn_check(const char *completion, size_t n, const char *reference, size_t ref_n, strfn_report *rep);

/* One JSON line: {"prompt","answer","ground_truth","data_source":"strfn","difficulty",
 * "trace":[x, v1, ..]}. RLVR_EARG when cap is too small. */
int strfn_to_jsonl(const strfn_problem *p, char *buf, size_t cap, size_t *n_out, rlvr_err *err);

#endif
