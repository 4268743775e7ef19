/* reward.h: the reward interface. A reward is a small function-pointer table
 * (reward_fn) that scores one completion of one dataset row; a registry maps names to
 * built-in rewards; a compact spec string composes them (weighted sums, a gated
 * product, per-data-source routing). Not a verifier itself: math.h, tasks/arith.h,
 * shaping.h and ifeval.h hold the checkers this file wraps. docs/verifiers.md
 * ("Reward interface") is the user-facing description.
 *
 *     reward_fn *r;
 *     if (reward_create("math:1.0 + format_think_answer:0.1", &r, &err)) ...;
 *     reward_input in = {.completion = text, .completion_n = n, .reference = gold, ...};
 *     reward_output out;
 *     reward_score(r, &in, &out, &err);     // out.reward, out.fields, out.pred
 *     reward_free(r);
 *
 * Ownership: reward_create returns a heap tree the caller frees with reward_free
 * (NULL-safe; built-in static instances from reward_registry_find are never freed).
 * Scoring never mutates a reward, so one reward_fn may score from many threads at
 * once. Library code: no printing, no globals written, bounded time on hostile text. */
#ifndef RLVR_REWARDS_REWARD_H
#define RLVR_REWARDS_REWARD_H
#include <stddef.h>
#include "rlvr.h"

#define REWARD_MAX_FIELDS     8    /* named extra outputs per score ("acc", "format_ok") */
#define REWARD_FIELD_NAME_CAP 32   /* bytes of a field name, NUL included (longer are cut) */
#define REWARD_PRED_CAP       128  /* bytes of out.pred, NUL included */
#define REWARD_SPEC_MAX       4096 /* longest spec string reward_create accepts */
#define REWARD_MAX_PARAMS     16   /* name[k=v,...] parameters per reward in a spec */

enum { REWARD_FINISH_STOP = 0, REWARD_FINISH_LENGTH = 1 }; /* why generation ended */

/* One key/value string: a dataset column or a reward parameter. key is NUL-terminated;
 * val holds val_n bytes and need not be NUL-terminated. Non-string dataset values
 * (numbers, arrays) are passed as their JSON text. */
typedef struct reward_kv {
    const char *key;
    const char *val;
    size_t val_n;
} reward_kv;

/* All completions sampled for the same prompt, for group-aware rewards (G = n). */
typedef struct reward_group {
    int n;                          /* G */
    int self;                       /* index of the completion being scored, 0..G-1 */
    const char *const *completions; /* (G) texts, not NUL-terminated */
    const size_t *lens;             /* (G) byte lengths */
    const int *n_tokens;            /* (G) response token counts, or NULL (bytes are used) */
} reward_group;

/* What a reward sees. Only completion is required; every other field may be empty. */
typedef struct reward_input {
    const char *completion;  /* the response only (no prompt), completion_n bytes */
    size_t completion_n;
    const char *prompt;      /* prompt_n bytes, may be NULL */
    size_t prompt_n;
    const char *reference;   /* the row's ground_truth, reference_n bytes, may be NULL */
    size_t reference_n;
    const char *data_source; /* NUL-terminated row tag ("math", "arith"), may be NULL */
    const reward_kv *extra;  /* other columns of the row (n_extra of them) */
    int n_extra;
    int n_tokens;            /* response tokens; < 0: unknown (length rewards use bytes) */
    int finish;              /* REWARD_FINISH_* */
    int max_tokens;          /* the rollout's max response length (tokens); <= 0: unknown */
    long step;               /* training step, for scheduled rewards; 0 when unknown */
    const reward_group *group; /* may be NULL */
} reward_input;

typedef struct reward_field {
    char name[REWARD_FIELD_NAME_CAP];
    double value;
} reward_field;

/* What a reward returns. reward_score clears it before calling the reward. */
typedef struct reward_output {
    double reward;    /* the scalar; always finite */
    int correct;      /* outcome verdict: 1 right, 0 wrong, -1 not an outcome reward */
    int n_fields;
    reward_field fields[REWARD_MAX_FIELDS]; /* for logs: rewards/<name>/mean */
    char pred[REWARD_PRED_CAP]; /* short answer key for maj@k ("" when none) */
} reward_output;

typedef struct reward_fn reward_fn;
struct reward_fn {
    const char *name; /* registry name ("math", "sum", "gate", "route") */
    /* Fills *out (already cleared) for one completion. Returns RLVR_OK for every
     * verdict, right or wrong; an error only for bad arguments, a row that lacks what
     * the reward needs (RLVR_EARG, message names the column), or RLVR_ENOMEM. */
    int (*score)(const reward_fn *self, const reward_input *in, reward_output *out,
                 rlvr_err *err);
    void *state;                      /* the reward's parameters; read-only while scoring */
    void (*destroy)(reward_fn *self); /* frees self and what it owns; NULL: static, not freed */
};

/* A registry entry. `dflt` is a static instance with default parameters; `make` builds
 * a heap instance from "name[k=v,...]" parameters (unknown keys are errors). */
typedef struct reward_entry {
    const char *name;
    const char *help; /* one line: what it scores, its parameters and defaults */
    const reward_fn *dflt;
    int (*make)(const reward_kv *params, int n_params, reward_fn **out, rlvr_err *err);
} reward_entry;

/* ---- registry ------------------------------------------------------------------ */

/* The built-in reward with default parameters, or NULL for an unknown name. */
const reward_fn *reward_registry_find(const char *name);
/* The registry entry (help text, constructor), or NULL. */
const reward_entry *reward_registry_entry(const char *name);
/* Writes up to cap names into names[] (may be NULL when cap is 0); returns the total. */
int reward_registry_list(const char **names, int cap);

/* ---- building and scoring -------------------------------------------------------- */

/* Builds a reward from a spec string (grammar in docs/verifiers.md):
 *     spec   := term { '+' term }
 *     term   := [NUMBER '*'] factor [':' NUMBER]     weight, default 1
 *     factor := NAME [ '[' KEY '=' VALUE { ',' KEY '=' VALUE } ']' ]
 *             | 'gate' '(' spec ',' spec ')'         outcome + process * [outcome correct]
 *             | 'route' '(' KEY '=' spec { ',' KEY '=' spec } ')'   by data_source; KEY
 *                                                     'default' is the fallback
 *             | '(' spec ')'
 * e.g. "math:1.0 + format_think_answer:0.1", "route(arith=arith, math=math, default=math)",
 * "gate(arith, arith_process:0.5) + overlong[l_cache=256]". Errors are RLVR_ECONFIG and
 * name the token and its byte offset. *out is NULL on error. */
int reward_create(const char *spec, reward_fn **out, rlvr_err *err);

/* Frees a reward from reward_create or an entry's make (NULL and static instances: no-op). */
void reward_free(reward_fn *fn);

/* Clears *out, checks in (completion NULL with n > 0 is RLVR_EARG), calls fn->score and
 * refuses a non-finite reward (RLVR_ENUMERIC). Use this rather than fn->score. */
int reward_score(const reward_fn *fn, const reward_input *in, reward_output *out, rlvr_err *err);

/* ---- helpers for reward authors -------------------------------------------------- */

void reward_output_clear(reward_output *out); /* reward 0, correct -1, no fields, pred "" */
/* Sets (or overwrites) a named field; returns -1 when all REWARD_MAX_FIELDS are taken. */
int reward_output_set(reward_output *out, const char *name, double value);
/* 1 and *value when the field exists, else 0. */
int reward_output_get(const reward_output *out, const char *name, double *value);
/* Copies s[0..n) into out->pred, cut at a UTF-8 boundary to fit. */
void reward_output_pred(reward_output *out, const char *s, size_t n);
/* The verdict a gate uses: out->correct when >= 0, else reward > 0. */
int reward_output_correct(const reward_output *out);

/* The extra column named key (its bytes, *n its length), or NULL when absent. */
const char *reward_extra_get(const reward_input *in, const char *key, size_t *n);
/* Response length for length rewards: n_tokens when >= 0, else completion bytes. */
double reward_length(const reward_input *in);

/* Decodes the code point at s[0..n) (n >= 1) and sets *k to its byte length. Invalid
 * UTF-8 (bad or truncated sequences, overlongs, surrogates, > U+10FFFF) reads as one
 * U+FFFD per byte, so every byte string decodes, in linear time. */
static inline int reward_utf8_next(const char *s, size_t n, size_t *k) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned b = u[0];
    *k = 1;
    if (b < 0x80) return (int)b;
    if (b >= 0xC2 && b <= 0xDF) {
        if (n >= 2 && (u[1] & 0xC0) == 0x80) { *k = 2; return (int)(((b & 0x1F) << 6) | (u[1] & 0x3F)); }
    } else if (b >= 0xE0 && b <= 0xEF) {
        if (n >= 3 && (u[1] & 0xC0) == 0x80 && (u[2] & 0xC0) == 0x80) {
            unsigned c = ((b & 0x0F) << 12) | ((u[1] & 0x3Fu) << 6) | (u[2] & 0x3Fu);
            if (c >= 0x800 && !(c >= 0xD800 && c <= 0xDFFF)) { *k = 3; return (int)c; }
        }
    } else if (b >= 0xF0 && b <= 0xF4) {
        if (n >= 4 && (u[1] & 0xC0) == 0x80 && (u[2] & 0xC0) == 0x80 && (u[3] & 0xC0) == 0x80) {
            unsigned c = ((b & 0x07) << 18) | ((u[1] & 0x3Fu) << 12) | ((u[2] & 0x3Fu) << 6) | (u[3] & 0x3Fu);
            if (c >= 0x10000 && c <= 0x10FFFF) { *k = 4; return (int)c; }
        }
    }
    return 0xFFFD;
}

/* Parameter readers for `make` functions: the value of key, or def when absent.
 * A present value that does not parse is RLVR_ECONFIG naming who and key. */
int reward_param_double(const reward_kv *p, int n, const char *who, const char *key, double def,
                        double *out, rlvr_err *err);
int reward_param_int(const reward_kv *p, int n, const char *who, const char *key, long def,
                     long *out, rlvr_err *err);
/* Copies a string parameter into buf (NUL-terminated); too long is RLVR_ECONFIG. */
int reward_param_str(const reward_kv *p, int n, const char *who, const char *key, const char *def,
                     char *buf, size_t cap, rlvr_err *err);
/* RLVR_ECONFIG naming the first key not in allowed (a NULL-terminated list). */
int reward_params_check(const reward_kv *p, int n, const char *who, const char *const *allowed,
                        rlvr_err *err);

/* Allocates a reward_fn and state_size zeroed bytes of state in one block; destroy frees
 * it (pass your own destroy when the state owns more). NULL when out of memory. */
reward_fn *reward_alloc(const char *name,
                        int (*score)(const reward_fn *, const reward_input *, reward_output *, rlvr_err *),
                        size_t state_size, void (*destroy)(reward_fn *));
void reward_alloc_destroy(reward_fn *self); /* the default destroy: free(self) */

#endif
