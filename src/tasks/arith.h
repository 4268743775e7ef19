/* arith.h: the built-in synthetic task "arith": multi-step integer arithmetic over a
 * dependency graph, with a gold step trace, an outcome checker and a process checker.
 * Not a tokenizer, a reward registry or a file writer: it makes and checks texts.
 *
 * A problem is a chain of n_ops operations (the difficulty; 1 = atomic). Each operation
 * assigns a fresh one-letter variable from two operands, each a constant or an earlier
 * variable; every operation after the first uses the one before it, so the final
 * variable depends on all of them. The prompt may also give values ("x:5") that the
 * operations read. Compact template (ARITH_TEMPLATE_COMPACT):
 *
 *     prompt  "x:5;a=x*3;b=a-4;?"        answer  "a:15;b:11;#11"
 *
 * The answer is one value line "v:N;" per operation, in order, then "#<final>". A value
 * is written "v:N" both where the prompt gives it and where the answer computes it,
 * while a definition is "v=...", so an atomic problem with a given value
 * ("x:5;a=x*3;?" -> "a:15;#15") teaches the same lookup-and-apply step that each line
 * of a composed answer needs. See docs/tasks.md for the design and the templates.
 *
 * Problem `index` is a pure function of (params, seed, index): datasets are
 * reproducible and can be made in any order or in parallel. The template changes only
 * the surface: the same (seed, index) under each template is the same problem (same
 * key, same result). Train and eval splits are disjoint by construction: every problem
 * has a key, the hash of its canonical text (compact template, letters renamed in order
 * of appearance), and ARITH_SPLIT_EVAL keeps only keys in the eval bucket (1 in
 * ARITH_EVAL_BUCKETS), ARITH_SPLIT_TRAIN only the others. */
#ifndef RLVR_TASKS_ARITH_H
#define RLVR_TASKS_ARITH_H
#include <stddef.h>
#include <stdint.h>
#include "rlvr.h"

#define ARITH_MAX_OPS      16
#define ARITH_MAX_GIVEN    4
#define ARITH_TEXT_CAP     512   /* bytes of prompt[] and of answer[], NUL included */
#define ARITH_JSONL_CAP    8192  /* a buffer this size always holds arith_to_jsonl's line */
#define ARITH_RANDOM       (-1)  /* n_given: draw uniformly from 0..2 per problem */
#define ARITH_EVAL_BUCKETS 4     /* key % ARITH_EVAL_BUCKETS == 0 is the eval split */

enum { ARITH_OP_ADD = 1, ARITH_OP_SUB = 2, ARITH_OP_MUL = 4, ARITH_OP_DIV = 8 };

enum {
    ARITH_TEMPLATE_COMPACT = 0, /* "x:5;a=x*3;b=a-4;?"  ->  "a:15;b:11;#11" */
    ARITH_TEMPLATE_WORDS   = 1, /* "x is 5. a = x times 3. b = a minus 4. ?"  ->  "a is 15. b is 11. #11" */
    ARITH_TEMPLATE_WORKED  = 2, /* compact prompt  ->  "a=5*3;a:15;b=15-4;b:11;#11" (operands substituted) */
    ARITH_TEMPLATE_EXPR    = 3, /* "What is 5 * 3 - 4?"  ->  "5 * 3 = 15. 15 - 4 = 11. #11": one expression,
                                   no variables, for pretrained models; n_ops <= ARITH_EXPR_MAX_OPS */
    ARITH_N_TEMPLATES      = 4
};
/* An expression repeats an operand each time a later step reads it, so its length can
 * double per step: 5 operations keep the prompt within ARITH_TEXT_CAP. */
#define ARITH_EXPR_MAX_OPS 5

enum {
    ARITH_SPLIT_ANY   = 0, /* no key filter */
    ARITH_SPLIT_TRAIN = 1, /* key % ARITH_EVAL_BUCKETS != 0 */
    ARITH_SPLIT_EVAL  = 2  /* key % ARITH_EVAL_BUCKETS == 0 */
};

typedef struct arith_params {
    int n_ops;       /* difficulty: operations per problem, 1..ARITH_MAX_OPS (1 = atomic) */
    int n_given;     /* given values in the prompt, 0..ARITH_MAX_GIVEN, or ARITH_RANDOM */
    int max_val;     /* constants and given values lie in 0..max_val (1..9999) */
    int max_result;  /* step values lie in 0..max_result (max_val..999999); 0 is avoided */
    int template_id; /* ARITH_TEMPLATE_* (surface only) */
    int ops_mask;    /* ARITH_OP_* bits; division is always exact */
    int split;       /* ARITH_SPLIT_* */
} arith_params;

/* One operation of the gold trace: var = lhs op rhs. */
typedef struct arith_step {
    char var;            /* 'a'..'z' */
    char op;             /* '+', '-', '*' or '/' */
    char lhs_var;        /* the variable read as left operand, or 0 when a constant */
    char rhs_var;        /* likewise for the right operand */
    long long lhs, rhs;  /* operand values (the constant, or the variable's value) */
    long long value;     /* the step's result */
} arith_step;

typedef struct arith_problem {
    char prompt[ARITH_TEXT_CAP];
    char answer[ARITH_TEXT_CAP];  /* the gold completion: working lines, then "#<result>" */
    long long result;             /* the final variable's value */
    int n_ops;                    /* difficulty; always equal to n_steps */
    int template_id;              /* the template prompt and answer are written in */
    int split;                    /* the split it was drawn for */
    uint64_t key;                 /* canonical hash: identifies the problem across templates */
    int n_given;
    struct { char var; long long value; } given[ARITH_MAX_GIVEN];
    int n_steps;                  /* gold trace, in order */
    arith_step steps[ARITH_MAX_OPS];
} arith_problem;

/* What the process checker found in a completion (see arith_check_trace_report). */
typedef struct arith_trace_report {
    int n_steps;      /* operations in the problem */
    int steps_ok;     /* operations whose first value line is right (and, in the worked
                         template, whose substituted working line is right) */
    int wrong;        /* value lines of operation variables with a wrong value or wrong working */
    int missing;      /* operations with no value line */
    int extra;        /* value lines naming no operation variable, or giving a given
                         variable a wrong value, or repeating a variable */
    int out_of_order; /* value lines written before a value they depend on */
    int malformed;    /* 1 when the text before "#" does not parse in the template */
    int final_ok;     /* the outcome check: "#N" present and N == result */
    int process_ok;   /* final_ok and every step right, nothing missing, extra, out of
                         order or malformed: "right answer for the right reasons" */
} arith_trace_report;

/* n_ops 1, n_given ARITH_RANDOM, max_val 99, max_result 999, compact template,
 * + - *, train split. */
arith_params arith_default_params(void);

/* Fills *out with problem `index` of the dataset (params, seed). Returns RLVR_EARG
 * (message in err) for out-of-range params or a problem space too small to hold an
 * eval-split problem; *out is then zeroed. Never allocates. */
int arith_generate(const arith_params *p, uint64_t seed, uint64_t index, arith_problem *out,
                   rlvr_err *err);

/* Outcome check: reads the integer after the first '#' in completion[0..n) (need not be
 * NUL-terminated; n may be 0). *correct = 1 iff it is there, fits in int64 and equals
 * p->result. Text after the integer is ignored. RLVR_EARG only for NULL pointers. */
int arith_check_answer(const arith_problem *p, const char *completion, size_t n, int *correct);

/* Process check: parses the working before the first '#' in the problem's template and
 * compares each value line with the gold trace. A wrong intermediate value, skipped
 * working or a guessed value written before its inputs makes process_ok 0 even when
 * the final is right. Whitespace between lines is tolerated. */
int arith_check_trace_report(const arith_problem *p, const char *completion, size_t n,
                             arith_trace_report *rep);

/* The same, reduced to the two numbers most callers need. */
int arith_check_trace(const arith_problem *p, const char *completion, size_t n,
                      int *steps_ok, int *process_ok);

/* 64-bit hash of a NUL-terminated string (FNV-1a with a final mix, so every bit is
 * usable for bucketing). Use it to dedupe prompts; problem keys are this hash of the
 * canonical text. */
uint64_t arith_prompt_hash(const char *prompt);

/* The canonical text the key is the hash of (compact template, letters renamed a, b, c,
 * ... in order of appearance). Returns RLVR_EARG when cap is too small. */
int arith_canonical(const arith_problem *p, char *buf, size_t cap);

/* Writes one JSON line, newline included, NUL-terminated:
 * {"prompt":..,"answer":..,"ground_truth":"11","data_source":"arith","difficulty":2,
 *  "template":0,"split":"train","key":"<16 hex>","trace":[{"var":"a","op":"*",
 *  "args":["x","3"],"value":15},..]}
 * Strings are JSON-escaped. *n_out (may be NULL) gets the length without the NUL.
 * Returns RLVR_EARG when cap is too small (ARITH_JSONL_CAP always suffices). */
int arith_to_jsonl(const arith_problem *p, char *buf, size_t cap, size_t *n_out, rlvr_err *err);

#endif
