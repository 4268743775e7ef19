/* arith.c: generator, renderers and checkers of the "arith" task (see arith.h).
 * Generation draws the structure (letters, given values, operations) from an RNG
 * seeded by (seed, index, attempt, split); the template only renders it. Checking
 * parses completions with bounded cursors and never trusts them to be NUL-terminated. */
#include <string.h>
#include <stdarg.h>
#include <stdio.h>
#include "tasks/arith.h"
#include "core/err.h"
#include "core/rng.h"

/* ---- surface templates ---------------------------------------------------------- */

typedef struct arith_tmpl {
    const char *vsep;    /* between a variable and its value: "x:5" */
    const char *dsep;    /* between a variable and its definition: "a=x*3" */
    const char *lineend; /* written after every line */
    char term;           /* the byte that ends a line when parsing (whitespace after it is skipped) */
    const char *end;     /* ends the prompt */
    const char *opname[4];
    int worked;          /* answer lines carry the substituted working first */
} arith_tmpl;

static const arith_tmpl TMPL[ARITH_N_TEMPLATES] = {
    [ARITH_TEMPLATE_COMPACT] = {":", "=", ";", ';', "?", {"+", "-", "*", "/"}, 0},
    [ARITH_TEMPLATE_WORDS]   = {" is ", " = ", ". ", '.', "?", {" plus ", " minus ", " times ", " over "}, 0},
    [ARITH_TEMPLATE_WORKED]  = {":", "=", ";", ';', "?", {"+", "-", "*", "/"}, 1},
    /* EXPR renders its own prompt and answer (render_expr); the table gives its operators */
    [ARITH_TEMPLATE_EXPR]    = {"", " = ", ". ", '.', "?", {" + ", " - ", " * ", " / "}, 1},
};

static const char OPS[4] = {'+', '-', '*', '/'};

static int op_index(char op) {
    for (int i = 0; i < 4; i++) if (OPS[i] == op) return i;
    return -1;
}

/* ---- bounded string builder ------------------------------------------------------ */

typedef struct sbuf { char *buf; size_t cap, len; int overflow; } sbuf;

static void sb_init(sbuf *b, char *buf, size_t cap) {
    b->buf = buf; b->cap = cap; b->len = 0; b->overflow = cap == 0;
    if (cap) buf[0] = 0;
}

static void sb_putn(sbuf *b, const char *s, size_t n) {
    if (b->overflow) return;
    if (n >= b->cap - b->len) { b->overflow = 1; return; }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = 0;
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
static void sb_putc(sbuf *b, char c) { sb_putn(b, &c, 1); }

static void sb_int(sbuf *b, long long v) {
    char t[32];
    int n = snprintf(t, sizeof t, "%lld", v);
    sb_putn(b, t, (size_t)n);
}

/* A JSON string literal, quotes included. Bytes >= 0x80 pass through unchanged. */
static void sb_json_str(sbuf *b, const char *s) {
    sb_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':  sb_puts(b, "\\\""); break;
        case '\\': sb_puts(b, "\\\\"); break;
        case '\n': sb_puts(b, "\\n"); break;
        case '\r': sb_puts(b, "\\r"); break;
        case '\t': sb_puts(b, "\\t"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                char t[8];
                snprintf(t, sizeof t, "\\u%04x", *p);
                sb_puts(b, t);
            } else {
                sb_putc(b, (char)*p);
            }
        }
    }
    sb_putc(b, '"');
}

/* ---- params ---------------------------------------------------------------------- */

arith_params arith_default_params(void) {
    arith_params p;
    p.n_ops = 1;
    p.n_given = ARITH_RANDOM;
    p.max_val = 99;
    p.max_result = 999;
    p.template_id = ARITH_TEMPLATE_COMPACT;
    p.ops_mask = ARITH_OP_ADD | ARITH_OP_SUB | ARITH_OP_MUL;
    p.split = ARITH_SPLIT_TRAIN;
    return p;
}

static int check_params(const arith_params *p, rlvr_err *err) {
    if (p->n_ops < 1 || p->n_ops > ARITH_MAX_OPS)
        return errf(err, RLVR_EARG, "arith: n_ops %d outside 1..%d", p->n_ops, ARITH_MAX_OPS);
    if (p->n_given != ARITH_RANDOM && (p->n_given < 0 || p->n_given > ARITH_MAX_GIVEN))
        return errf(err, RLVR_EARG, "arith: n_given %d outside 0..%d (or %d for random)",
                    p->n_given, ARITH_MAX_GIVEN, ARITH_RANDOM);
    if (p->max_val < 1 || p->max_val > 9999)
        return errf(err, RLVR_EARG, "arith: max_val %d outside 1..9999", p->max_val);
    if (p->max_result < p->max_val || p->max_result > 999999)
        return errf(err, RLVR_EARG, "arith: max_result %d outside max_val..999999 (max_val %d)",
                    p->max_result, p->max_val);
    if (p->template_id < 0 || p->template_id >= ARITH_N_TEMPLATES)
        return errf(err, RLVR_EARG, "arith: template_id %d outside 0..%d", p->template_id,
                    ARITH_N_TEMPLATES - 1);
    if (p->template_id == ARITH_TEMPLATE_EXPR && p->n_ops > ARITH_EXPR_MAX_OPS)
        return errf(err, RLVR_EARG, "arith: the expression template takes at most %d operations (n_ops %d)",
                    ARITH_EXPR_MAX_OPS, p->n_ops);
    if (p->ops_mask <= 0 || (p->ops_mask & ~0xf))
        return errf(err, RLVR_EARG, "arith: ops_mask 0x%x must be a non-empty set of ARITH_OP_* bits",
                    (unsigned)p->ops_mask);
    if (p->split < ARITH_SPLIT_ANY || p->split > ARITH_SPLIT_EVAL)
        return errf(err, RLVR_EARG, "arith: split %d is not an ARITH_SPLIT_* value", p->split);
    return RLVR_OK;
}

/* ---- structure sampling ---------------------------------------------------------- */

/* An operand while sampling: a variable with a known value, or a constant to draw. */
typedef struct operand { char var; long long v; } operand;

/* Uniform in lo..hi into *v; 0 when the range is empty. */
static int draw(rng_t *r, long long lo, long long hi, long long *v) {
    if (lo > hi) return 0;
    *v = lo + (long long)rng_below(r, (uint64_t)(hi - lo + 1));
    return 1;
}

static long long min_ll(long long a, long long b) { return a < b ? a : b; }

/* Draws the constant operands of `L op R` so the result is valid (1..max_result, exact
 * division). Constants avoid identities and annihilators (+0, -0, *0, *1, /1) and
 * results avoid 0, which would otherwise spread through later products and make
 * finals guessable. Variables keep their values. Returns 0 when nothing can work. */
static int sample_operands(rng_t *r, char op, operand *L, operand *R, long long mv, long long mr) {
    int lc = !L->var, rc = !R->var;
    long long q;
    switch (op) {
    case '+':
        if (lc && rc) return draw(r, 1, mv, &L->v) && draw(r, 1, min_ll(mv, mr - L->v), &R->v);
        if (lc) return draw(r, 1, min_ll(mv, mr - R->v), &L->v);
        if (rc) return draw(r, 1, min_ll(mv, mr - L->v), &R->v);
        return L->v + R->v >= 1 && L->v + R->v <= mr;
    case '-':
        if (lc && rc) return draw(r, 2, mv, &L->v) && draw(r, 1, L->v - 1, &R->v);
        if (lc) return draw(r, R->v + 1, mv, &L->v);
        if (rc) return draw(r, 1, min_ll(mv, L->v - 1), &R->v);
        return L->v > R->v;
    case '*':
        if (lc && rc) return draw(r, 2, min_ll(mv, mr / 2), &L->v) && draw(r, 2, min_ll(mv, mr / L->v), &R->v);
        if (lc) return R->v >= 1 && draw(r, 2, min_ll(mv, mr / R->v), &L->v);
        if (rc) return L->v >= 1 && draw(r, 2, min_ll(mv, mr / L->v), &R->v);
        return L->v * R->v >= 1 && L->v * R->v <= mr; /* both <= 999999: no overflow */
    case '/':
        if (lc && rc) {
            if (!draw(r, 2, mv, &R->v) || !draw(r, 1, mv / R->v, &q)) return 0;
            L->v = q * R->v;
            return 1;
        }
        if (lc) {
            if (R->v < 1 || !draw(r, 1, mv / R->v, &q)) return 0;
            L->v = q * R->v;
            return 1;
        }
        if (rc) { /* a divisor d of L in 2..max_val */
            long long hi = min_ll(mv, L->v), n = 0, k;
            for (long long d = 2; d <= hi; d++) n += L->v % d == 0;
            if (!draw(r, 0, n - 1, &k)) return 0;
            for (long long d = 2; d <= hi; d++)
                if (L->v % d == 0 && k-- == 0) { R->v = d; return 1; }
            return 0;
        }
        return R->v >= 1 && L->v >= R->v && L->v % R->v == 0;
    }
    return 0;
}

static long long apply(char op, long long a, long long b) {
    switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    default:  return b ? a / b : 0;
    }
}

#define ARITH_STEP_TRIES 32   /* draws of (op, operand kinds) before the neutral fallback */
#define ARITH_SPLIT_TRIES 4096 /* whole-problem draws before the split is declared empty */
#define ARITH_STREAM 0x6172697468ULL /* "arith": this task's RNG stream, keyed below */

/* Draws letters, given values and the chain of operations into out (not the texts). */
static void sample_structure(const arith_params *p, rng_t *r, arith_problem *out) {
    long long mv = p->max_val, mr = p->max_result;
    out->n_ops = out->n_steps = p->n_ops;
    out->n_given = p->n_given == ARITH_RANDOM ? (int)rng_below(r, 3) : p->n_given;

    char letters[26];
    for (int i = 0; i < 26; i++) letters[i] = (char)('a' + i);
    int n_names = out->n_given + out->n_ops; /* <= 20 */
    for (int i = 0; i < n_names; i++) {
        int j = i + (int)rng_below(r, (uint64_t)(26 - i));
        char t = letters[i]; letters[i] = letters[j]; letters[j] = t;
    }

    operand avail[ARITH_MAX_GIVEN + ARITH_MAX_OPS]; /* every variable defined so far */
    int n_avail = 0;
    for (int g = 0; g < out->n_given; g++) {
        out->given[g].var = letters[g];
        out->given[g].value = (long long)rng_below(r, (uint64_t)mv + 1);
        avail[n_avail++] = (operand){out->given[g].var, out->given[g].value};
    }

    int ops[4], n_ops_allowed = 0;
    for (int i = 0; i < 4; i++) if (p->ops_mask & (1 << i)) ops[n_ops_allowed++] = OPS[i];

    for (int i = 0; i < out->n_ops; i++) {
        /* The required operand: the previous step (so the final depends on every step),
         * or for the first step a given value when there is one. */
        operand x = {0, 0};
        if (i > 0) x = avail[n_avail - 1];
        else if (out->n_given > 0) x = avail[rng_below(r, (uint64_t)out->n_given)];

        operand L = {0, 0}, R = {0, 0};
        char op = 0;
        int ok = 0;
        for (int t = 0; t < ARITH_STEP_TRIES && !ok; t++) {
            op = (char)ops[rng_below(r, (uint64_t)n_ops_allowed)];
            operand y = {0, 0};
            if (n_avail > 0 && rng_below(r, 4) == 0) y = avail[rng_below(r, (uint64_t)n_avail)];
            if (rng_below(r, 2)) { L = x; R = y; } else { L = y; R = x; }
            ok = sample_operands(r, op, &L, &R, mv, mr);
        }
        if (!ok) { /* neutral fallback: x + 0, x - 0, x * 1, x / 1, always valid */
            op = (char)ops[0];
            L = x;
            if (!L.var) L.v = (long long)rng_below(r, (uint64_t)mv + 1);
            R = (operand){0, (op == '*' || op == '/') ? 1 : 0};
        }
        arith_step *s = &out->steps[i];
        s->var = letters[out->n_given + i];
        s->op = op;
        s->lhs_var = L.var; s->lhs = L.v;
        s->rhs_var = R.var; s->rhs = R.v;
        s->value = apply(op, L.v, R.v);
        avail[n_avail++] = (operand){s->var, s->value};
    }
    out->result = out->steps[out->n_ops - 1].value;
}

/* ---- rendering -------------------------------------------------------------------- */

/* Letter of variable v under renaming (canonical: order of appearance), or v itself. */
static char rename_var(const arith_problem *p, char v, int canonical) {
    if (!canonical) return v;
    for (int g = 0; g < p->n_given; g++) if (p->given[g].var == v) return (char)('a' + g);
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].var == v) return (char)('a' + p->n_given + i);
    return '?';
}

static void render_operand(sbuf *b, const arith_problem *p, char var, long long v, int canonical) {
    if (var) sb_putc(b, rename_var(p, var, canonical));
    else sb_int(b, v);
}

/* ---- the expression template: variables substituted by their definitions -------- */

static int prec(char op) { return op == '+' || op == '-' ? 1 : 2; }

/* Operand (var, v) of an operation with operator `parent`, on the right when right:
 * a given variable is its value, a step variable its own expression, parenthesised
 * when the parent binds tighter, or equally tight on the right of - or /. */
static void render_expr_step(sbuf *b, const arith_problem *p, int i, const arith_tmpl *t);
static void render_expr_operand(sbuf *b, const arith_problem *p, char var, long long v, char parent, int right,
                                const arith_tmpl *t) {
    for (int i = 0; var && i < p->n_steps; i++)
        if (p->steps[i].var == var) {
            char op = p->steps[i].op;
            int paren = prec(op) < prec(parent) || (right && prec(op) == prec(parent) && (parent == '-' || parent == '/'));
            if (paren) sb_putc(b, '(');
            render_expr_step(b, p, i, t);
            if (paren) sb_putc(b, ')');
            return;
        }
    sb_int(b, v); /* a constant or a given value */
}

static void render_expr_step(sbuf *b, const arith_problem *p, int i, const arith_tmpl *t) {
    const arith_step *s = &p->steps[i];
    render_expr_operand(b, p, s->lhs_var, s->lhs, s->op, 0, t);
    sb_puts(b, t->opname[op_index(s->op)]);
    render_expr_operand(b, p, s->rhs_var, s->rhs, s->op, 1, t);
}

static void render_prompt(sbuf *b, const arith_problem *p, const arith_tmpl *t, int canonical) {
    if (t == &TMPL[ARITH_TEMPLATE_EXPR]) {
        sb_puts(b, "What is ");
        render_expr_step(b, p, p->n_steps - 1, t);
        sb_puts(b, t->end);
        return;
    }
    for (int g = 0; g < p->n_given; g++) {
        sb_putc(b, rename_var(p, p->given[g].var, canonical));
        sb_puts(b, t->vsep);
        sb_int(b, p->given[g].value);
        sb_puts(b, t->lineend);
    }
    for (int i = 0; i < p->n_steps; i++) {
        const arith_step *s = &p->steps[i];
        sb_putc(b, rename_var(p, s->var, canonical));
        sb_puts(b, t->dsep);
        render_operand(b, p, s->lhs_var, s->lhs, canonical);
        sb_puts(b, t->opname[op_index(s->op)]);
        render_operand(b, p, s->rhs_var, s->rhs, canonical);
        sb_puts(b, t->lineend);
    }
    sb_puts(b, t->end);
}

static void render_answer(sbuf *b, const arith_problem *p, const arith_tmpl *t) {
    for (int i = 0; i < p->n_steps; i++) {
        const arith_step *s = &p->steps[i];
        if (t == &TMPL[ARITH_TEMPLATE_EXPR]) { /* "5 * 3 = 15. " */
            sb_int(b, s->lhs);
            sb_puts(b, t->opname[op_index(s->op)]);
            sb_int(b, s->rhs);
            sb_puts(b, t->dsep);
            sb_int(b, s->value);
            sb_puts(b, t->lineend);
            continue;
        }
        if (t->worked) {
            sb_putc(b, s->var);
            sb_puts(b, t->dsep);
            sb_int(b, s->lhs);
            sb_puts(b, t->opname[op_index(s->op)]);
            sb_int(b, s->rhs);
            sb_puts(b, t->lineend);
        }
        sb_putc(b, s->var);
        sb_puts(b, t->vsep);
        sb_int(b, s->value);
        sb_puts(b, t->lineend);
    }
    sb_putc(b, '#');
    sb_int(b, p->result);
}

int arith_canonical(const arith_problem *p, char *buf, size_t cap) {
    if (!p || !buf) return RLVR_EARG;
    if (p->n_steps < 1 || p->n_steps > ARITH_MAX_OPS || p->n_given < 0 || p->n_given > ARITH_MAX_GIVEN)
        return RLVR_EARG;
    for (int i = 0; i < p->n_steps; i++) if (op_index(p->steps[i].op) < 0) return RLVR_EARG;
    sbuf b;
    sb_init(&b, buf, cap);
    render_prompt(&b, p, &TMPL[ARITH_TEMPLATE_COMPACT], 1);
    return b.overflow ? RLVR_EARG : RLVR_OK;
}

uint64_t arith_prompt_hash(const char *prompt) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */
    for (const unsigned char *s = (const unsigned char *)prompt; s && *s; s++) {
        h ^= *s;
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33; /* murmur3 fmix64: FNV's low bits are weak for bucketing */
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static int split_accepts(int split, uint64_t key) {
    int eval = key % ARITH_EVAL_BUCKETS == 0;
    return split == ARITH_SPLIT_ANY || (split == ARITH_SPLIT_EVAL) == eval;
}

int arith_generate(const arith_params *p, uint64_t seed, uint64_t index, arith_problem *out,
                   rlvr_err *err) {
    if (!p || !out) return errf(err, RLVR_EARG, "arith_generate: NULL %s", p ? "out" : "params");
    memset(out, 0, sizeof *out);
    int rc = check_params(p, err);
    if (rc) return rc;
    char canon[ARITH_TEXT_CAP];
    const arith_tmpl *t = &TMPL[p->template_id];
    /* The stream keys split and shape, so difficulty levels drawn with one seed are
     * independent; the template is left out, so it changes only the surface. */
    uint64_t stream = ARITH_STREAM ^ ((uint64_t)p->split << 48) ^ ((uint64_t)p->n_ops << 40) ^
                      ((uint64_t)(p->n_given + 1) << 32);
    for (uint64_t attempt = 0; attempt < ARITH_SPLIT_TRIES; attempt++) {
        rng_t r;
        rng_seed(&r, seed, rng_derive(stream, index, attempt));
        sample_structure(p, &r, out);
        int too_long = arith_canonical(out, canon, sizeof canon) != RLVR_OK;
        if (!too_long) {
            out->key = arith_prompt_hash(canon);
            if (!split_accepts(p->split, out->key)) continue;
            out->template_id = p->template_id;
            out->split = p->split;
            sbuf b;
            sb_init(&b, out->prompt, sizeof out->prompt);
            render_prompt(&b, out, t, 0);
            too_long = b.overflow;
            sb_init(&b, out->answer, sizeof out->answer);
            render_answer(&b, out, t);
            too_long |= b.overflow;
            if (!too_long) return RLVR_OK;
        }
        /* unreachable within check_params' bounds; kept so a widened bound fails loudly */
        memset(out, 0, sizeof *out);
        return errf(err, RLVR_EARG, "arith: problem text exceeds %d bytes (n_ops %d, max_val %d)",
                    ARITH_TEXT_CAP - 1, p->n_ops, p->max_val);
    }
    memset(out, 0, sizeof *out);
    return errf(err, RLVR_EARG, "arith: no %s-split problem in %d draws (seed %llu, index %llu); "
                "the problem space is too small: raise max_val or n_ops",
                p->split == ARITH_SPLIT_EVAL ? "eval" : "train", ARITH_SPLIT_TRIES,
                (unsigned long long)seed, (unsigned long long)index);
}

/* ---- checking --------------------------------------------------------------------- */

/* A cursor over completion[0..n): nothing past n is ever read. */
typedef struct cur { const char *s; size_t n, i; } cur;

static int cur_lit(cur *c, const char *lit) {
    size_t k = strlen(lit);
    if (k > c->n - c->i || memcmp(c->s + c->i, lit, k) != 0) return 0;
    c->i += k;
    return 1;
}

static void cur_ws(cur *c) {
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\n' || c->s[c->i] == '\r' ||
                           c->s[c->i] == '\t'))
        c->i++;
}

/* An optionally signed decimal integer. Returns 0 when no digit follows; consumes every
 * digit even past int64 (then *overflow = 1 and *v is meaningless). */
static int cur_int(cur *c, long long *v, int *overflow) {
    size_t i = c->i;
    int neg = 0;
    if (i < c->n && c->s[i] == '-') { neg = 1; i++; }
    if (i >= c->n || c->s[i] < '0' || c->s[i] > '9') return 0;
    unsigned long long acc = 0;
    int of = 0;
    for (; i < c->n && c->s[i] >= '0' && c->s[i] <= '9'; i++) {
        unsigned d = (unsigned)(c->s[i] - '0');
        if (acc > (9223372036854775807ULL - d) / 10) of = 1;
        if (!of) acc = acc * 10 + d;
    }
    c->i = i;
    *overflow = of;
    *v = of ? 0 : (neg ? -(long long)acc : (long long)acc);
    return 1;
}

int arith_check_answer(const arith_problem *p, const char *completion, size_t n, int *correct) {
    if (correct) *correct = 0;
    if (!p || !correct || (!completion && n)) return RLVR_EARG;
    const char *h = n ? memchr(completion, '#', n) : NULL;
    if (!h) return RLVR_OK;
    cur c = {completion, n, (size_t)(h - completion) + 1};
    long long v;
    int of;
    if (cur_int(&c, &v, &of) && !of && v == p->result) *correct = 1;
    return RLVR_OK;
}

static void cur_sp(cur *c) {
    while (c->i < c->n && c->s[c->i] == ' ') c->i++;
}

/* The expression template's working: sentences "L op R = V." (spaces optional), the
 * k-th checked against operation k with its operands substituted (either order for
 * + and *). */
static void expr_trace(const arith_problem *p, const arith_tmpl *t, const char *s, size_t n, arith_trace_report *rep) {
    cur c = {s, n, 0};
    int k = 0;
    for (;;) {
        cur_ws(&c);
        if (c.i >= c.n || c.s[c.i] == '#') break;
        long long a, b, v;
        int of_a = 0, of_b = 0, of_v = 0, oi = -1;
        if (!cur_int(&c, &a, &of_a)) { rep->malformed = 1; break; }
        cur_sp(&c);
        if (c.i < c.n) oi = op_index(c.s[c.i]);
        if (oi < 0) { rep->malformed = 1; break; }
        c.i++;
        cur_sp(&c);
        if (!cur_int(&c, &b, &of_b)) { rep->malformed = 1; break; }
        cur_sp(&c);
        if (c.i >= c.n || c.s[c.i] != '=') { rep->malformed = 1; break; }
        c.i++;
        cur_sp(&c);
        if (!cur_int(&c, &v, &of_v) || c.i >= c.n || c.s[c.i] != t->term) { rep->malformed = 1; break; }
        c.i++;
        if (k >= p->n_steps) { rep->extra++; continue; }
        const arith_step *st = &p->steps[k++];
        char op = OPS[oi];
        int comm = op == '+' || op == '*';
        int same = !of_a && !of_b && op == st->op && ((a == st->lhs && b == st->rhs) || (comm && a == st->rhs && b == st->lhs));
        if (same && !of_v && v == st->value) rep->steps_ok++;
        else rep->wrong++;
    }
    rep->missing = p->n_steps - k;
}

int arith_check_trace_report(const arith_problem *p, const char *completion, size_t n,
                             arith_trace_report *rep) {
    if (rep) memset(rep, 0, sizeof *rep);
    if (!p || !rep || (!completion && n)) return RLVR_EARG;
    if (p->template_id < 0 || p->template_id >= ARITH_N_TEMPLATES || p->n_steps < 0 ||
        p->n_steps > ARITH_MAX_OPS || p->n_given < 0 || p->n_given > ARITH_MAX_GIVEN)
        return RLVR_EARG;
    const arith_tmpl *t = &TMPL[p->template_id];
    rep->n_steps = p->n_steps;
    if (t == &TMPL[ARITH_TEMPLATE_EXPR]) {
        expr_trace(p, t, completion, n, rep);
        goto verdict;
    }

    signed char step_of[26], given_of[26], seen[26], work[26]; /* work: -1 none, 0 wrong, 1 right */
    memset(step_of, -1, sizeof step_of);
    memset(given_of, -1, sizeof given_of);
    memset(seen, 0, sizeof seen);
    memset(work, -1, sizeof work);
    for (int g = 0; g < p->n_given; g++)
        if (p->given[g].var >= 'a' && p->given[g].var <= 'z') given_of[p->given[g].var - 'a'] = (signed char)g;
    for (int i = 0; i < p->n_steps; i++)
        if (p->steps[i].var >= 'a' && p->steps[i].var <= 'z') step_of[p->steps[i].var - 'a'] = (signed char)i;

    cur c = {completion, n, 0};
    for (;;) {
        cur_ws(&c);
        if (c.i >= c.n || c.s[c.i] == '#') break;
        char v = c.s[c.i];
        if (v < 'a' || v > 'z') { rep->malformed = 1; break; }
        c.i++;
        long long a, b;
        int of_a = 0, of_b = 0;
        if (cur_lit(&c, t->vsep)) { /* value line "v:N" */
            if (!cur_int(&c, &a, &of_a) || c.i >= c.n || c.s[c.i] != t->term) { rep->malformed = 1; break; }
            c.i++;
            int si = step_of[v - 'a'], gi = given_of[v - 'a'];
            if (si < 0) {
                if (gi < 0 || of_a || a != p->given[gi].value) rep->extra++;
                continue;
            }
            if (seen[v - 'a']) { rep->extra++; continue; }
            seen[v - 'a'] = 1;
            const arith_step *s = &p->steps[si];
            char deps[2] = {s->lhs_var, s->rhs_var};
            int late = 0;
            for (int k = 0; k < 2; k++)
                if (deps[k] >= 'a' && deps[k] <= 'z' && step_of[deps[k] - 'a'] >= 0 && !seen[deps[k] - 'a'])
                    late = 1;
            rep->out_of_order += late;
            int right = !of_a && a == s->value && (!t->worked || work[v - 'a'] == 1);
            if (right) rep->steps_ok++;
            else rep->wrong++;
        } else if (t->worked && cur_lit(&c, t->dsep)) { /* working line "v=L*R" */
            int oi = -1;
            if (!cur_int(&c, &a, &of_a)) { rep->malformed = 1; break; }
            for (int k = 0; k < 4 && oi < 0; k++) if (cur_lit(&c, t->opname[k])) oi = k;
            if (oi < 0 || !cur_int(&c, &b, &of_b) || c.i >= c.n || c.s[c.i] != t->term) {
                rep->malformed = 1;
                break;
            }
            c.i++;
            int si = step_of[v - 'a'];
            if (si < 0 || work[v - 'a'] >= 0) { rep->extra++; continue; }
            const arith_step *s = &p->steps[si];
            char op = OPS[oi];
            int comm = op == '+' || op == '*';
            int same = !of_a && !of_b && op == s->op &&
                       ((a == s->lhs && b == s->rhs) || (comm && a == s->rhs && b == s->lhs));
            work[v - 'a'] = (signed char)same;
        } else {
            rep->malformed = 1;
            break;
        }
    }
    for (int i = 0; i < p->n_steps; i++) {
        char v = p->steps[i].var;
        if (v < 'a' || v > 'z' || !seen[v - 'a']) rep->missing++;
    }
verdict:
    arith_check_answer(p, completion, n, &rep->final_ok);
    rep->process_ok = rep->final_ok && rep->steps_ok == rep->n_steps && !rep->wrong && !rep->missing &&
                      !rep->extra && !rep->out_of_order && !rep->malformed;
    return RLVR_OK;
}

int arith_check_trace(const arith_problem *p, const char *completion, size_t n,
                      int *steps_ok, int *process_ok) {
    arith_trace_report rep;
    int rc = arith_check_trace_report(p, completion, n, &rep);
    if (steps_ok) *steps_ok = rep.steps_ok;
    if (process_ok) *process_ok = rep.process_ok;
    return rc;
}

/* ---- JSONL ------------------------------------------------------------------------ */

static const char *split_name(int split) {
    return split == ARITH_SPLIT_TRAIN ? "train" : split == ARITH_SPLIT_EVAL ? "eval" : "any";
}

static int is_step_var(const arith_problem *p, char v) {
    for (int i = 0; i < p->n_steps && i < ARITH_MAX_OPS; i++)
        if (p->steps[i].var == v) return 1;
    return 0;
}

int arith_to_jsonl(const arith_problem *p, char *buf, size_t cap, size_t *n_out, rlvr_err *err) {
    if (n_out) *n_out = 0;
    if (!p || !buf) return errf(err, RLVR_EARG, "arith_to_jsonl: NULL %s", p ? "buf" : "problem");
    if (p->n_steps < 0 || p->n_steps > ARITH_MAX_OPS)
        return errf(err, RLVR_EARG, "arith_to_jsonl: n_steps %d outside 0..%d", p->n_steps, ARITH_MAX_OPS);
    /* prompt/answer may come from a caller: never read past their arrays */
    char prompt[ARITH_TEXT_CAP], answer[ARITH_TEXT_CAP];
    memcpy(prompt, p->prompt, sizeof prompt);
    memcpy(answer, p->answer, sizeof answer);
    prompt[sizeof prompt - 1] = answer[sizeof answer - 1] = 0;

    sbuf b;
    char t[64];
    sb_init(&b, buf, cap);
    sb_puts(&b, "{\"prompt\":");
    sb_json_str(&b, prompt);
    sb_puts(&b, ",\"answer\":");
    sb_json_str(&b, answer);
    snprintf(t, sizeof t, "%lld", p->result);
    sb_puts(&b, ",\"ground_truth\":");
    sb_json_str(&b, t);
    sb_puts(&b, ",\"data_source\":\"arith\",\"difficulty\":");
    sb_int(&b, p->n_ops);
    sb_puts(&b, ",\"template\":");
    sb_int(&b, p->template_id);
    sb_puts(&b, ",\"split\":");
    sb_json_str(&b, split_name(p->split));
    snprintf(t, sizeof t, "%016llx", (unsigned long long)p->key);
    sb_puts(&b, ",\"key\":");
    sb_json_str(&b, t);
    sb_puts(&b, ",\"trace\":[");
    for (int i = 0; i < p->n_steps; i++) {
        const arith_step *s = &p->steps[i];
        char name[2] = {s->var, 0};
        char op[2] = {s->op, 0};
        char lhs[32], rhs[32];
        /* the expression template's prompt names no given variable: its values stand in */
        int by_value = p->template_id == ARITH_TEMPLATE_EXPR;
        if (s->lhs_var && !(by_value && !is_step_var(p, s->lhs_var))) snprintf(lhs, sizeof lhs, "%c", s->lhs_var);
        else snprintf(lhs, sizeof lhs, "%lld", s->lhs);
        if (s->rhs_var && !(by_value && !is_step_var(p, s->rhs_var))) snprintf(rhs, sizeof rhs, "%c", s->rhs_var);
        else snprintf(rhs, sizeof rhs, "%lld", s->rhs);
        sb_puts(&b, i ? ",{\"var\":" : "{\"var\":");
        sb_json_str(&b, name);
        sb_puts(&b, ",\"op\":");
        sb_json_str(&b, op);
        sb_puts(&b, ",\"args\":[");
        sb_json_str(&b, lhs);
        sb_putc(&b, ',');
        sb_json_str(&b, rhs);
        sb_puts(&b, "],\"value\":");
        sb_int(&b, s->value);
        sb_putc(&b, '}');
    }
    sb_puts(&b, "]}\n");
    if (b.overflow) {
        if (cap) buf[0] = 0;
        return errf(err, RLVR_EARG, "arith_to_jsonl: line does not fit in %zu bytes", cap);
    }
    if (n_out) *n_out = b.len;
    return RLVR_OK;
}
