/* math.h: the math answer verifier. Pulls the final answer out of a model completion,
 * normalises it and the gold answer the same way, and decides whether they are equal:
 * exact rationals (GMP) first, long double with error bounds for irrationals, random
 * rational points for expressions with variables, tuples/sets/intervals/matrices/
 * relations structurally. It is not a CAS: no solve(), no simplify(); see
 * docs/verifiers.md for what it accepts and what it refuses.
 *
 * Every call is bounded: the completion's tail (max_len), the answer (max_answer), the
 * exact numbers (bits), the parser depth and a work budget; exhausting any of them gives
 * a wrong verdict, never a hang. Library code: no printing, no globals, thread-safe.
 * Files, in reading order: math.c (API, params, context), math_extract.c (where the answer
 * is), math_norm.c (UTF-8 and string cleaning), math_lex.c + math_parse.c (tokens, nodes,
 * keys), math_eval.c (values), math_cmp.c (equality). math_int.h holds the internals. */
#ifndef RLVR_REWARDS_MATH_H
#define RLVR_REWARDS_MATH_H
#include <stddef.h>
#include "rlvr.h"

/* Where an answer may come from. A mode's sources are tried in order; first hit wins. */
enum {
    MATH_SRC_END = 0, /* terminates math_verify_params.order */
    MATH_SRC_BOXED,   /* last \boxed{..} / \fbox{..}; close neighbours merge into a list */
    MATH_SRC_FINAL,   /* "final answer is X" / "final answer: X" */
    MATH_SRC_HASH,    /* "#### X" (GSM8K) */
    MATH_SRC_ANSWER,  /* "Answer: X" / "answer is X" */
    MATH_SRC_LATEX,   /* last $..$, $$..$$, \(..\), \[..\] (inline ones may not span lines) */
    MATH_SRC_NUMBER,  /* last plain number (1,234.5 / 1 000 / .5 / 12% / $3 / 7.3e1) */
    MATH_SRC_MCQ,     /* a choice letter: start-of-line "B." beats a lone "B" anywhere */
    MATH_SRC_COUNT
};

enum {
    MATH_MODE_LENIENT = 0, /* boxed, final, ####, answer:, latex, last number */
    MATH_MODE_BOXED_ONLY,  /* DAPO-style strict: only \boxed / \fbox */
    MATH_MODE_LATEX,       /* Math-Verify "L": boxed, final, answer:, latex */
    MATH_MODE_EXPR,        /* Math-Verify "E": final, ####, answer:, last number */
    MATH_MODE_MCQ,         /* choice letters only (mcq_letters); compared case-insensitively */
    MATH_MODE_CUSTOM       /* `order` as the caller filled it */
};

typedef struct {
    int mode;                 /* MATH_MODE_*; every mode but CUSTOM overrides `order` */
    unsigned char order[MATH_SRC_COUNT]; /* CUSTOM: sources in priority order, END-terminated */
    double rel_tol;           /* when a side holds a decimal literal: equal if |a-b| <= rel_tol*max(|a|,|b|) */
    int float_digits;         /* a bare decimal literal with >= this many fraction digits also
                                 matches the value it correctly rounds (Math-Verify precision); 0: off */
    size_t max_len;           /* bytes of completion examined (the tail after </think>) */
    size_t max_answer;        /* longest extracted answer accepted, bytes */
    long work_budget;         /* abstract work units per call (parse, eval, bignum bits) */
    int strip_think;          /* 1: only text after the last </think>; an unclosed <think> has no answer */
    int allow_set_relation;   /* 1: an inequality pred may match a set/interval gold (default 0) */
    int percent_strict;       /* 0: "50%" matches 50 and 0.5; 1: only 0.5. "0.5" never matches gold 50 */
    char mcq_letters[27];     /* MATH_SRC_MCQ letters, upper case, e.g. "ABCD" */
} math_verify_params;

/* Defaults: LENIENT, rel_tol 1e-6, float_digits 6, max_len 1 MiB, max_answer 4096,
 * work_budget 2e6, strip_think 1, allow_set_relation 0, percent_strict 0, "ABCD". */
math_verify_params math_verify_default_params(void);

typedef struct {
    int correct;     /* 1: the extracted answer equals the gold */
    int extracted;   /* 1: an answer was found in the completion */
    int source;      /* the MATH_SRC_* it came from (MATH_SRC_END when none) */
    int gold_ok;     /* 1: the gold parsed (0: compared as normalised strings only) */
    int budget_hit;  /* 1: the work budget ran out; the verdict is then 0 */
    char pred[256];  /* normalised prediction (the math_normalize key), for logs and maj@k */
} math_verdict;

/* Scores one completion against a gold answer (`gold` is extracted like a completion if it
 * holds \boxed / #### / $..$, else taken whole). Fills *out. Returns RLVR_OK whenever a
 * verdict was reached, right or wrong; RLVR_EARG for NULL params/out or NULL text with n>0;
 * RLVR_ENOMEM when an allocation failed. Neither string needs a terminating NUL. */
int math_verify(const math_verify_params *p, const char *completion, size_t n,
                const char *gold, size_t gold_n, math_verdict *out, rlvr_err *err);

/* Extracts the answer as math_verify would, after string cleaning (delimiters, box,
 * trailing units and punctuation removed) and before parsing, into buf (NUL-terminated,
 * truncated to cap). Returns its full length like snprintf, 0 when no answer was found,
 * -1 on bad arguments or out of memory. MCQ answers come back lower case. */
int math_extract(const math_verify_params *p, const char *text, size_t n, char *buf, size_t cap);

/* Canonical key of one answer string (already extracted: "\frac12", "x = 0.5", "50\%") for
 * majority voting: equal rationals give equal keys ("1/2", "0.5", "\frac12" -> "1/2"), sets
 * are sorted, "x = v" keys as v, units and % dropped. Unparseable answers key as their
 * cleaned text. Returns the key's full length like snprintf, -1 on bad arguments or OOM. */
int math_normalize(const char *ans, size_t n, char *buf, size_t cap);

#endif
