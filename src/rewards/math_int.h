/* math_int.h: internals shared by the math verifier's files (math*.c); not a public API.
 * One mctx per math_verify call holds an arena of expression nodes (indices, not
 * pointers), a string pool, the work budget and the sample points for variables. */
#ifndef RLVR_REWARDS_MATH_INT_H
#define RLVR_REWARDS_MATH_INT_H
#include <gmp.h>
#include "rewards/math.h"

#define MATH_MAX_BITS   32768 /* largest exact numerator or denominator, bits */
#define MATH_MAX_FACT   2500  /* largest n for an exact n! */
#define MATH_MAX_DEPTH  64    /* evaluator / comparator recursion is 2x this */
#define MATH_PARSE_DEPTH 256  /* parser frames (about 7 per bracket level) */
#define MATH_MAX_GROUP  64    /* items of one bracketed group, links of one chain */
#define MATH_MAX_VARS   12    /* distinct variables in one comparison */
#define MATH_N_POINTS   5     /* sample points for expressions with variables */
#define MATH_MAX_ITEMS  256   /* items of one tuple, set or matrix */
#define MATH_KEY_CAP    4096  /* canonical keys longer than this are not compared */

/* Node kinds. Children are node indices; lists live in mctx.kids[a .. a+b). */
enum {
    N_NUM,      /* decimal literal: pool[s..s+n) = "123.45e-6" (canonical ASCII); dec = fraction digits */
    N_QVAL,     /* exact rational computed by us: pool "p/q" */
    N_SYM,      /* variable: pool name ("x", "x_1", "alpha") */
    N_CONST,    /* flag: C_PI, C_E, C_INF */
    N_TEXT,     /* \text{...} word(s), lower case, pool */
    N_ADD, N_SUB, N_MUL, N_DIV, N_POW, /* a op b */
    N_NEG,      /* -a */
    N_FUNC,     /* flag F_*; a = argument, b = log base / root index / binom k, or -1 */
    N_FACT,     /* a! */
    N_PCT,      /* a% */
    N_PM,       /* a \pm b; a == -1 for a leading \pm */
    N_REL,      /* chain: kids[a..a+b) operands, pool[s..s+b-1) op chars REL_* */
    N_RATIO,    /* a : b */
    N_LIST,     /* top-level "x, y and z": unordered */
    N_SET,      /* {x, y} / \{x\}: unordered */
    N_TUPLE,    /* flag '(' '[' '<': ordered; a 2-tuple in '(' may also be an open interval */
    N_INTERVAL, /* a = lo, b = hi; flag bit0 lo closed, bit1 hi closed */
    N_UNION,    /* kids: sets joined by \cup */
    N_SETOP,    /* a \cap b (flag 'n') or a \setminus b (flag '\\'): compared structurally */
    N_MATRIX,   /* kids[a .. a+b*n) row-major, b rows, n columns */
    N_REALS, N_EMPTY
};
enum { C_PI, C_E, C_INF };
enum { REL_EQ = '=', REL_LT = '<', REL_LE = 'l', REL_GT = '>', REL_GE = 'g', REL_NE = 'n', REL_IN = 'i' };
enum {
    F_SIN, F_COS, F_TAN, F_SEC, F_CSC, F_COT, F_ASIN, F_ACOS, F_ATAN,
    F_SINH, F_COSH, F_TANH, F_LN, F_LOG, F_EXP, F_SQRT, F_ABS, F_FLOOR, F_CEIL, F_BINOM,
    F_COUNT
};
extern const char *const math_func_names[F_COUNT];

typedef struct {
    unsigned char kind, flag;
    short dec;   /* N_NUM: digits after the point (exponent applied), 0 for integers */
    int a, b, s, n;
} mnode;

typedef struct mctx {
    const math_verify_params *p;
    long budget;       /* work units left */
    int budget_hit, oom;
    mnode *nodes; int n_nodes, cap_nodes;
    int *kids; int n_kids, cap_kids;
    char *pool; int n_pool, cap_pool;
    int depth;         /* current recursion depth of eval / compare */
    /* variables of the comparison in progress and their sample values */
    int n_vars;
    int var_s[MATH_MAX_VARS], var_n[MATH_MAX_VARS];
    mpq_t vq[MATH_N_POINTS][MATH_MAX_VARS];
    long double vv[MATH_N_POINTS][MATH_MAX_VARS];
    int vq_init;
} mctx;

/* ---- math.c: the context ---- */
int  mctx_init(mctx *c, const math_verify_params *p);
void mctx_free(mctx *c);
int  mctx_spend(mctx *c, long units);           /* 0 once the budget is gone */
int  mctx_node(mctx *c, int kind, int flag, int a, int b); /* new node index, -1 on OOM */
int  mctx_pool(mctx *c, const char *s, int n);  /* copy into pool, offset or -1 */
int  mctx_kids(mctx *c, const int *k, int n);   /* copy into kids, offset or -1 */
void math_params_resolve(const math_verify_params *in, math_verify_params *out);

/* ---- math_norm.c: strings ---- */
/* UTF-8 to the ASCII/LaTeX the rest reads: invalid bytes and NULs become spaces, CRLF
 * becomes LF, unicode digits/minus/operators map to ASCII or LaTeX commands, other valid
 * characters are kept. dst holds at least 3*n+1 bytes. Returns the length written. */
size_t mnorm_utf8(const char *s, size_t n, char *dst);
/* Cleans one extracted answer in place (it only shrinks): outer $..$ \(..\) \[..\],
 * a whole-answer \boxed{}, markdown **, \displaystyle, trailing punctuation, trailing
 * units/\text{..}/^\circ, currency. Returns the new length. */
size_t mnorm_answer(char *s, size_t n);
int  mnorm_is_unit(const char *w, size_t n);   /* a unit word (plural ok) */
int  mnorm_match_brace(const char *s, size_t n, size_t open); /* index of the matching '}', -1 */

/* ---- math_extract.c ---- */
/* Finds the answer in cleaned text s[0..n) (gold = 1: gold rules). *out is malloc'd (NULL
 * when none); *src the MATH_SRC_*. Returns RLVR_OK or RLVR_ENOMEM. */
int  mext_find(const math_verify_params *p, const char *s, size_t n, int gold,
               char **out, size_t *out_n, int *src);
/* The cleaned window of a raw completion: after </think>, the last max_len bytes, UTF-8
 * mapped. *out malloc'd (NULL with *out_n 0 when an unclosed <think> hides everything). */
int  mext_window(const math_verify_params *p, const char *raw, size_t n, char **out, size_t *out_n);

/* ---- math_parse.c ---- */
int  mparse(mctx *c, const char *s, size_t n);  /* root node, -1 when unparseable */
int  massignable(mctx *c, int node);            /* x, x_1, AB, f(x), (p, q): a name "=" may assign */
int  mhas_syms(mctx *c, int node);              /* 1 when a variable occurs (or too deep to tell) */
/* Canonical text of a node into buf; vote = 1 drops "x =" of assignments and %.
 * Returns the length, -1 when it did not fit cap or the budget ran out. */
int  mkey(mctx *c, int node, int vote, char *buf, size_t cap);

/* ---- math_eval.c ---- */
typedef struct {
    int ok;           /* a finite value is known: exact, vok or both */
    int exact;        /* q holds it exactly */
    int vok;          /* v and e are valid (the value is within long double range) */
    mpq_t q;
    long double v, e; /* approximation and a bound on |v - true value| */
    int dec;          /* most fraction digits of any decimal literal used; 0 when none */
} mval;
void mval_init(mval *v);
void mval_clear(mval *v);
/* Evaluates a scalar node at sample point pt (variables take mctx.vq/vv[pt]). */
void meval(mctx *c, int node, int pt, mval *out);
/* o = x (N_ADD|N_SUB|N_MUL|N_DIV) y, exact when both are and the result is small */
void mval_binop(int kind, mval *x, mval *y, mval *o);
int  mvars_collect(mctx *c, int node);           /* adds node's variables; 0 when too many */
int  mvars_points(mctx *c);                      /* fills the sample values; 0 on failure */
int  mq_from_dec(mpq_t q, const char *s, int n); /* parse N_NUM text; 0 when refused */

/* ---- math_cmp.c ---- */
int  mcmp_answers(mctx *c, int gold, int pred); /* 1 equal, 0 not */

#endif
