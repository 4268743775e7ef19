/* math_parse.c: tokens (math_lex.c) -> expression nodes (math_int.h), and nodes ->
 * canonical key strings. Plain recursive descent with a depth limit; unknown input
 * fails the parse, it never loops. Precedence, loosest first: list (, ; and or) ->
 * relation chain -> ratio (:) -> set ops (\cup) -> + - \pm -> * / implicit -> unary ->
 * ^ (right) -> postfix (! %) -> primary. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "rewards/math_int.h"
#include "rewards/math_lex.h"

const char *const math_func_names[F_COUNT] = {
    "sin", "cos", "tan", "sec", "csc", "cot", "asin", "acos", "atan",
    "sinh", "cosh", "tanh", "ln", "log", "exp", "sqrt", "abs", "floor", "ceil", "binom"
};

/* ---- parser ---- */

typedef struct {
    mctx *c;
    mtok *t; int nt, i;
    int depth, err;
} parser;

static int pk(parser *P) { return P->i < P->nt ? P->t[P->i].t : T_END; }
static mtok *cur(parser *P) { return &P->t[P->i < P->nt ? P->i : P->nt - 1]; }
static int fail(parser *P) { P->err = 1; return -1; }

static int node(parser *P, int kind, int flag, int a, int b) {
    if (P->err) return -1;
    int id = mctx_node(P->c, kind, flag, a, b);
    if (id < 0) P->err = 1;
    return id;
}

static int list_node(parser *P, int kind, int flag, const int *items, int n) {
    if (P->err) return -1;
    int off = mctx_kids(P->c, items, n);
    if (off < 0) return fail(P);
    return node(P, kind, flag, off, n);
}

static int parse_rel(parser *P);
static int parse_expr(parser *P);
static int parse_power(parser *P);
static int parse_primary(parser *P);

static int enter(parser *P) {
    if (++P->depth > MATH_PARSE_DEPTH || P->err || !mctx_spend(P->c, 1)) { P->err = 1; return 0; }
    return 1;
}
#define LEAVE(P, v) do { int _v = (v); (P)->depth--; return (P)->err ? -1 : _v; } while (0)

/* items separated by ',' / ';' / and / or; returns the count, -1 on error */
static int parse_items(parser *P, int *items, int cap) {
    int k = 0;
    for (;;) {
        if (k >= cap) { fail(P); return -1; }
        int e = parse_rel(P);
        if (e < 0) return -1;
        items[k++] = e;
        if (pk(P) != T_COMMA) break;
        P->i++;
    }
    return k;
}

static int starts_factor(int t) {
    return t == T_WORD || t == T_SYM || t == T_CONST || t == T_FUNC || t == T_FRAC || t == T_SQRT ||
           t == T_BINOM || t == T_LP || t == T_LC || t == T_LSET || t == T_BEGIN_MAT ||
           t == T_LFLOOR || t == T_LCEIL || t == T_QVAL;
}

static int num_node(parser *P, mtok *k, int kind) {
    int id = node(P, kind, 0, 0, 0);
    if (id < 0) return -1;
    P->c->nodes[id].s = k->s; P->c->nodes[id].n = k->n; P->c->nodes[id].dec = k->dec;
    return id;
}

static int letter_node(parser *P, const char *name, int n) {
    if (n == 1 && name[0] == 'e') return node(P, N_CONST, C_E, 0, 0);
    int id = node(P, N_SYM, 0, 0, 0);
    if (id < 0) return -1;
    int off = mctx_pool(P->c, name, n);
    if (off < 0) return fail(P);
    P->c->nodes[id].s = off; P->c->nodes[id].n = n;
    return id;
}

/* \frac / \sqrt / \binom argument: {group}, or one digit / letter of a glued token */
static int parse_arg(parser *P) {
    if (!enter(P)) return -1;
    int t = pk(P);
    if (t == T_LC) {
        P->i++;
        int items[4];
        int k = parse_items(P, items, 4);
        if (k != 1 || pk(P) != T_RC) LEAVE(P, fail(P));
        P->i++;
        LEAVE(P, items[0]);
    }
    mtok *tk = cur(P);
    if ((t == T_NUM && tk->raw && tk->n > 1) || (t == T_WORD && tk->n > 1 && !memchr(P->c->pool + tk->s, '_', (size_t)tk->n))) {
        char ch = P->c->pool[tk->s];
        int id;
        if (t == T_NUM) {
            id = node(P, N_NUM, 0, 0, 0);
            int off = mctx_pool(P->c, &ch, 1);
            if (id < 0 || off < 0) LEAVE(P, fail(P));
            P->c->nodes[id].s = off; P->c->nodes[id].n = 1;
        } else id = letter_node(P, &ch, 1);
        tk->s++; tk->n--;
        LEAVE(P, id);
    }
    LEAVE(P, parse_primary(P));
}

/* the exponent after '^': {group}, -x, or a primary (right-associative) */
static int parse_pow_arg(parser *P) {
    if (!enter(P)) return -1;
    int e;
    if (pk(P) == T_LC) {
        P->i++;
        int items[4];
        int k = parse_items(P, items, 4);
        if (k != 1 || pk(P) != T_RC) LEAVE(P, fail(P));
        P->i++;
        e = items[0];
    } else if (pk(P) == T_MINUS) {
        P->i++;
        int a = parse_pow_arg(P);
        LEAVE(P, node(P, N_NEG, 0, a, -1));
    } else e = parse_primary(P);
    if (e >= 0 && pk(P) == T_POW) {
        P->i++;
        int x = parse_pow_arg(P);
        e = node(P, N_POW, 0, e, x);
    }
    LEAVE(P, e);
}

static int parse_matrix(parser *P) {
    int cells[MATH_MAX_ITEMS];
    int n = 0, cols = -1;
    for (;;) {
        if (pk(P) == T_END_MAT) { P->i++; break; }
        int row = 0;
        for (;;) {
            int e = parse_expr(P);
            if (e < 0 || n >= MATH_MAX_ITEMS) return fail(P);
            cells[n++] = e; row++;
            if (pk(P) != T_AMP) break;
            P->i++;
        }
        if (cols < 0) cols = row;
        else if (row != cols) return fail(P);
        if (pk(P) == T_ROWSEP) P->i++;
        else if (pk(P) != T_END_MAT) return fail(P);
    }
    if (n == 0 || cols <= 0) return fail(P);
    int id = list_node(P, N_MATRIX, 0, cells, n);
    if (id >= 0) { P->c->nodes[id].n = cols; P->c->nodes[id].b = n / cols; }
    return id;
}

static int func_inverse(int f) {
    switch (f) {
    case F_SIN: return F_ASIN;
    case F_COS: return F_ACOS;
    case F_TAN: return F_ATAN;
    default: return -1;
    }
}

static int parse_func(parser *P) {
    int f = cur(P)->aux;
    P->i++;
    int base = -1, power = -1;
    if (f == F_LOG && pk(P) == T_UNDER) { P->i++; base = parse_arg(P); if (base < 0) return -1; }
    if (pk(P) == T_POW) {
        P->i++;
        power = parse_pow_arg(P);
        if (power < 0) return -1;
        mnode *pw = &P->c->nodes[power];
        if (pw->kind == N_NEG && P->c->nodes[pw->a].kind == N_NUM && P->c->nodes[pw->a].n == 1 &&
            P->c->pool[P->c->nodes[pw->a].s] == '1' && func_inverse(f) >= 0) {
            f = func_inverse(f); power = -1;
        }
    }
    if (f == F_LOG && base < 0 && pk(P) == T_UNDER) { P->i++; base = parse_arg(P); if (base < 0) return -1; }
    int arg;
    if (pk(P) == T_LP) {
        P->i++;
        arg = parse_expr(P);
        if (arg < 0 || pk(P) != T_RP) return fail(P);
        P->i++;
    } else {
        arg = parse_power(P);
        while (arg >= 0 && starts_factor(pk(P)) && pk(P) != T_FUNC && pk(P) != T_LP)
            arg = node(P, N_MUL, 0, arg, parse_power(P));
    }
    if (arg < 0) return -1;
    int id = node(P, N_FUNC, f, arg, base);
    if (power >= 0) id = node(P, N_POW, 0, id, power);
    return id;
}

/* ( [ { \{ \langle groups: a group, a tuple, an interval or a set */
static int parse_group(parser *P, int open) {
    P->i++;
    int items[MATH_MAX_GROUP];
    int close_set = open == T_LP || open == T_LB ? -1 : open == T_LC ? T_RC : open == T_LSET ? T_RSET : T_RANG;
    if ((open == T_LSET) && pk(P) == T_RSET) { P->i++; return node(P, N_EMPTY, 0, 0, 0); }
    int k = parse_items(P, items, MATH_MAX_GROUP);
    if (k < 0) return -1;
    int cl = pk(P);
    if (close_set >= 0) {
        if (cl != close_set) return fail(P);
        P->i++;
        if (open == T_LC) return k == 1 ? items[0] : list_node(P, N_SET, 0, items, k);
        if (open == T_LSET) return list_node(P, N_SET, 0, items, k);
        return list_node(P, N_TUPLE, '<', items, k);
    }
    if (cl != T_RP && cl != T_RB) return fail(P);
    P->i++;
    int lo_closed = open == T_LB, hi_closed = cl == T_RB;
    if (k == 1) return (lo_closed == hi_closed) ? items[0] : fail(P);
    if (k == 2 && (lo_closed || hi_closed))
        return node(P, N_INTERVAL, lo_closed | (hi_closed << 1), items[0], items[1]);
    if (lo_closed != hi_closed) return fail(P);
    return list_node(P, N_TUPLE, lo_closed ? '[' : '(', items, k);
}

static int parse_primary(parser *P) {
    if (!enter(P)) return -1;
    int t = pk(P);
    mtok *tk = cur(P);
    int id = -1;
    switch (t) {
    case T_NUM: P->i++; id = num_node(P, tk, N_NUM); break;
    case T_QVAL: P->i++; id = num_node(P, tk, N_QVAL); break;
    case T_SYM: {
        P->i++;
        id = node(P, N_SYM, 0, 0, 0);
        if (id >= 0) { P->c->nodes[id].s = tk->s; P->c->nodes[id].n = tk->n; }
        break;
    }
    case T_WORD: {
        P->i++;
        const char *w = P->c->pool + tk->s;
        if (tk->n == 1 || memchr(w, '_', (size_t)tk->n)) { id = letter_node(P, w, tk->n); break; }
        if (P->nt == 1) {           /* the whole answer is one word */
            char buf[128]; int n = tk->n < 127 ? tk->n : 127;
            for (int q = 0; q < n; q++) buf[q] = (char)tolower((unsigned char)w[q]);
            id = node(P, N_TEXT, 0, 0, 0);
            int off = mctx_pool(P->c, buf, n);
            if (id < 0 || off < 0) { fail(P); break; }
            P->c->nodes[id].s = off; P->c->nodes[id].n = n;
            break;
        }
        int off = tk->s, n = tk->n;  /* "abc" = a*b*c */
        id = letter_node(P, P->c->pool + off, 1);
        for (int q = 1; q < n && id >= 0; q++) {
            int l = letter_node(P, P->c->pool + off + q, 1);
            id = node(P, N_MUL, 0, id, l);
        }
        break;
    }
    case T_CONST: P->i++; id = node(P, N_CONST, tk->aux, 0, 0); break;
    case T_TEXT: {
        P->i++;
        id = node(P, N_TEXT, 0, 0, 0);
        if (id >= 0) { P->c->nodes[id].s = tk->s; P->c->nodes[id].n = tk->n; }
        break;
    }
    case T_REALS: P->i++; id = node(P, N_REALS, 0, 0, 0); break;
    case T_EMPTY: P->i++; id = node(P, N_EMPTY, 0, 0, 0); break;
    case T_LP: case T_LB: case T_LC: case T_LSET: case T_LANG: id = parse_group(P, t); break;
    case T_PIPE: case T_LFLOOR: case T_LCEIL: {
        P->i++;
        int e = parse_expr(P);
        int want = t == T_PIPE ? T_PIPE : t == T_LFLOOR ? T_RFLOOR : T_RCEIL;
        if (e < 0 || pk(P) != want) { fail(P); break; }
        P->i++;
        id = node(P, N_FUNC, t == T_PIPE ? F_ABS : t == T_LFLOOR ? F_FLOOR : F_CEIL, e, -1);
        break;
    }
    case T_FRAC: {
        P->i++;
        int a = parse_arg(P);
        int b = a >= 0 ? parse_arg(P) : -1;
        id = node(P, N_DIV, 0, a, b);
        break;
    }
    case T_SQRT: {
        P->i++;
        int idx = -1;
        if (pk(P) == T_LB) {
            P->i++;
            idx = parse_expr(P);
            if (idx < 0 || pk(P) != T_RB) { fail(P); break; }
            P->i++;
        }
        int a = parse_arg(P);
        id = node(P, N_FUNC, F_SQRT, a, idx);
        break;
    }
    case T_BINOM: {
        P->i++;
        int a = parse_arg(P);
        int b = a >= 0 ? parse_arg(P) : -1;
        id = node(P, N_FUNC, F_BINOM, a, b);
        break;
    }
    case T_FUNC: id = parse_func(P); break;
    case T_BEGIN_MAT: P->i++; id = parse_matrix(P); break;
    default: fail(P); break;
    }
    LEAVE(P, id);
}

static int parse_postfix(parser *P) {
    int e = parse_primary(P);
    while (e >= 0) {
        int t = pk(P);
        if (t == T_BANG) { P->i++; e = node(P, N_FACT, 0, e, -1); }
        else if (t == T_PCT) { P->i++; e = node(P, N_PCT, 0, e, -1); }
        else break;
    }
    return e;
}

static int parse_power(parser *P) {
    if (!enter(P)) return -1;
    int b = parse_postfix(P);
    if (b >= 0 && pk(P) == T_POW) {
        P->i++;
        int x = parse_pow_arg(P);
        b = node(P, N_POW, 0, b, x);
        while (b >= 0 && pk(P) == T_BANG) { P->i++; b = node(P, N_FACT, 0, b, -1); }
        while (b >= 0 && pk(P) == T_PCT) { P->i++; b = node(P, N_PCT, 0, b, -1); }
    }
    LEAVE(P, b);
}

static int parse_unary(parser *P) {
    if (!enter(P)) return -1;
    int t = pk(P);
    if (t == T_MINUS) { P->i++; int a = parse_unary(P); LEAVE(P, node(P, N_NEG, 0, a, -1)); }
    if (t == T_PLUS) { P->i++; LEAVE(P, parse_unary(P)); }
    if (t == T_PM) { P->i++; int a = parse_unary(P); LEAVE(P, node(P, N_PM, 0, -1, a)); }
    LEAVE(P, parse_power(P));
}

/* e is a plain integer literal written just before a \frac: a mixed number's head */
static int mixed_head(parser *P, int e) {
    if (e < 0) return 0;
    mnode m = P->c->nodes[e];
    if (m.kind == N_NEG) m = P->c->nodes[m.a];
    if (m.kind != N_NUM || m.dec != 0) return 0;
    for (int q = 0; q < m.n; q++) if (P->c->pool[m.s + q] < '0' || P->c->pool[m.s + q] > '9') return 0;
    return 1;
}

static int parse_term(parser *P) {
    if (!enter(P)) return -1;
    int e = parse_unary(P);
    while (e >= 0) {
        int t = pk(P);
        if (t == T_MUL) { P->i++; e = node(P, N_MUL, 0, e, parse_unary(P)); }
        else if (t == T_DIV) { P->i++; e = node(P, N_DIV, 0, e, parse_unary(P)); }
        else if (t == T_FRAC && mixed_head(P, e)) {     /* 3\frac{1}{2} is 7/2 */
            int f = parse_power(P);
            mnode fm = f >= 0 ? P->c->nodes[f] : (mnode){ 0 };
            int num = f >= 0 && fm.kind == N_DIV && P->c->nodes[fm.a].kind == N_NUM && P->c->nodes[fm.b].kind == N_NUM &&
                      P->c->nodes[fm.a].dec == 0 && P->c->nodes[fm.b].dec == 0;
            mnode em = P->c->nodes[e];
            if (num && em.kind == N_NEG) e = node(P, N_NEG, 0, node(P, N_ADD, 0, em.a, f), -1);
            else e = node(P, num ? N_ADD : N_MUL, 0, e, f);
        }
        else if (starts_factor(t)) e = node(P, N_MUL, 0, e, parse_power(P));
        else break;
        if (!mctx_spend(P->c, 1)) fail(P);
    }
    LEAVE(P, e);
}

static int parse_expr(parser *P) {
    if (!enter(P)) return -1;
    int e = parse_term(P);
    while (e >= 0) {
        int t = pk(P);
        if (t == T_PLUS) { P->i++; e = node(P, N_ADD, 0, e, parse_term(P)); }
        else if (t == T_MINUS) { P->i++; e = node(P, N_SUB, 0, e, parse_term(P)); }
        else if (t == T_PM) { P->i++; e = node(P, N_PM, 0, e, parse_term(P)); }
        else break;
        if (!mctx_spend(P->c, 1)) fail(P);
    }
    LEAVE(P, e);
}

static int parse_setexpr(parser *P) {
    if (!enter(P)) return -1;
    int e = parse_expr(P);
    int items[MATH_MAX_GROUP]; int k = 0;
    while (e >= 0) {
        int t = pk(P);
        if (t == T_CUP) {
            if (k >= MATH_MAX_GROUP - 1) LEAVE(P, fail(P));
            items[k++] = e; P->i++;
            e = parse_expr(P);
        } else if (t == T_CAP || t == T_SETMINUS) {
            P->i++;
            e = node(P, N_SETOP, t == T_CAP ? 'n' : '\\', e, parse_expr(P));
        } else break;
    }
    if (e >= 0 && k) { items[k++] = e; e = list_node(P, N_UNION, 0, items, k); }
    LEAVE(P, e);
}

static int parse_ratio(parser *P) {
    int a = parse_setexpr(P);
    if (a >= 0 && pk(P) == T_COLON) {
        P->i++;
        int b = parse_setexpr(P);
        a = node(P, N_RATIO, 0, a, b);
    }
    return a;
}

static int parse_rel(parser *P) {
    if (!enter(P)) return -1;
    int ops[MATH_MAX_GROUP]; int items[MATH_MAX_GROUP]; int k = 0;
    int e = parse_ratio(P);
    if (e < 0) LEAVE(P, -1);
    items[k++] = e;
    while (pk(P) == T_REL) {
        if (k >= MATH_MAX_GROUP) LEAVE(P, fail(P));
        ops[k - 1] = cur(P)->aux;
        P->i++;
        e = parse_ratio(P);
        if (e < 0) LEAVE(P, -1);
        items[k++] = e;
    }
    if (k == 1) LEAVE(P, items[0]);
    char opc[MATH_MAX_GROUP];
    for (int q = 0; q < k - 1; q++) opc[q] = (char)ops[q];
    int id = list_node(P, N_REL, 0, items, k);
    int off = mctx_pool(P->c, opc, k - 1);
    if (id < 0 || off < 0) LEAVE(P, fail(P));
    P->c->nodes[id].s = off; P->c->nodes[id].n = k - 1;
    LEAVE(P, id);
}

/* a name that "x = v" may assign: x, x_1, AB (a product of letters), f(x), (p, q) */
int massignable(mctx *c, int id) {
    mnode *m = &c->nodes[id];
    switch (m->kind) {
    case N_SYM: return 1;
    case N_MUL: return massignable(c, m->a) && massignable(c, m->b);
    case N_TUPLE:
        for (int q = 0; q < m->b; q++) if (!massignable(c, c->kids[m->a + q])) return 0;
        return 1;
    default: return 0;
    }
}

int mparse(mctx *c, const char *s, size_t n) {
    mtok *toks = NULL;
    int nt = 0;
    if (mlex(c, s, n, &toks, &nt)) { free(toks); return -1; }
    parser P = { c, toks, nt, 0, 0, 0 };
    int items[MATH_MAX_ITEMS];
    int k = parse_items(&P, items, MATH_MAX_ITEMS);
    int root = -1;
    if (k > 0 && !P.err && pk(&P) == T_END) {
        if (k == 1) root = items[0];
        else {
            /* "n = 2, 3, 4": one assignment followed by bare values assigns the list */
            mnode *r0 = &c->nodes[items[0]];
            int bare = 1;
            for (int q = 1; q < k; q++) if (c->nodes[items[q]].kind == N_REL) bare = 0;
            if (r0->kind == N_REL && r0->b == 2 && c->pool[r0->s] == REL_EQ && bare &&
                massignable(c, c->kids[r0->a])) {
                int lhs = c->kids[r0->a];
                items[0] = c->kids[r0->a + 1];
                int lst = list_node(&P, N_LIST, 0, items, k);
                int pair[2] = { lhs, lst };
                int id = list_node(&P, N_REL, 0, pair, 2);
                char eq = REL_EQ;
                int off = mctx_pool(c, &eq, 1);
                if (id >= 0 && off >= 0) { c->nodes[id].s = off; c->nodes[id].n = 1; root = id; }
            } else root = list_node(&P, N_LIST, 0, items, k);
        }
    }
    free(toks);
    return P.err ? -1 : root;
}

/* ---- canonical keys ---- */

typedef struct { char *b; size_t cap, n; int bad; } wbuf;

static void put(wbuf *w, const char *s, size_t n) {
    if (w->bad) return;
    if (w->n + n + 1 > w->cap) { w->bad = 1; return; }
    memcpy(w->b + w->n, s, n); w->n += n; w->b[w->n] = 0;
}
static void puts_(wbuf *w, const char *s) { put(w, s, strlen(s)); }

static int has_syms(mctx *c, int id, int depth) {
    if (id < 0 || depth > MATH_MAX_DEPTH * 2) return 1;
    mnode *m = &c->nodes[id];
    switch (m->kind) {
    case N_SYM: return 1;
    case N_NUM: case N_QVAL: case N_CONST: case N_TEXT: case N_REALS: case N_EMPTY: return 0;
    case N_REL: case N_LIST: case N_SET: case N_TUPLE: case N_UNION: case N_MATRIX: {
        int cnt = m->kind == N_MATRIX ? m->b * m->n : m->b;
        for (int q = 0; q < cnt; q++) if (has_syms(c, c->kids[m->a + q], depth + 1)) return 1;
        return 0;
    }
    default:
        return (m->a >= 0 && has_syms(c, m->a, depth + 1)) || (m->b >= 0 && has_syms(c, m->b, depth + 1));
    }
}

int mhas_syms(mctx *c, int id) { return has_syms(c, id, 0); }

static int is_scalar_kind(int k) {
    return k == N_NUM || k == N_QVAL || k == N_SYM || k == N_CONST || k == N_ADD || k == N_SUB ||
           k == N_MUL || k == N_DIV || k == N_POW || k == N_NEG || k == N_FUNC || k == N_FACT || k == N_PCT;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void key_rec(mctx *c, int id, int vote, wbuf *w, int depth);

static void key_list(mctx *c, const int *kids, int n, int vote, int sorted, const char *open,
                     const char *close, wbuf *w, int depth) {
    puts_(w, open);
    if (!sorted) {
        for (int q = 0; q < n; q++) { if (q) puts_(w, ","); key_rec(c, kids[q], vote, w, depth + 1); }
        puts_(w, close);
        return;
    }
    char *tmp = malloc(MATH_KEY_CAP);
    char **ptr = malloc((size_t)(n ? n : 1) * sizeof *ptr);
    char *store = malloc((size_t)MATH_KEY_CAP);
    if (!tmp || !ptr || !store) { c->oom = 1; w->bad = 1; free(tmp); free(ptr); free(store); return; }
    size_t used = 0;
    for (int q = 0; q < n && !w->bad; q++) {
        wbuf sub = { tmp, MATH_KEY_CAP, 0, 0 };
        tmp[0] = 0;
        key_rec(c, kids[q], vote, &sub, depth + 1);
        if (sub.bad || used + sub.n + 1 > MATH_KEY_CAP) { w->bad = 1; break; }
        memcpy(store + used, tmp, sub.n + 1);
        ptr[q] = store + used; used += sub.n + 1;
    }
    if (!w->bad) {
        qsort(ptr, (size_t)n, sizeof *ptr, cmpstr);
        for (int q = 0; q < n; q++) {
            if (q && strcmp(ptr[q], ptr[q - 1]) == 0) continue;
            if (q) puts_(w, ",");
            puts_(w, ptr[q]);
        }
    }
    puts_(w, close);
    free(tmp); free(ptr); free(store);
}

static const char *rel_str(char op) {
    switch (op) {
    case REL_EQ: return "=";
    case REL_LT: return "<";
    case REL_LE: return "<=";
    case REL_GT: return ">";
    case REL_GE: return ">=";
    case REL_NE: return "!=";
    default: return " in ";
    }
}

static void key_rec(mctx *c, int id, int vote, wbuf *w, int depth) {
    if (w->bad) return;
    if (id < 0 || depth > MATH_MAX_DEPTH * 2 || !mctx_spend(c, 1)) { w->bad = 1; return; }
    mnode m = c->nodes[id];
    if (is_scalar_kind(m.kind) && m.kind != N_PCT && !has_syms(c, id, 0)) {
        mval v; mval_init(&v);
        meval(c, id, 0, &v);
        if (v.exact && mpz_sizeinbase(mpq_numref(v.q), 10) + mpz_sizeinbase(mpq_denref(v.q), 10) < 1000) {
            char *s = mpq_get_str(NULL, 10, v.q);
            if (s) { puts_(w, s); free(s); } else { c->oom = 1; w->bad = 1; }
            mval_clear(&v);
            return;
        }
        mval_clear(&v);
    }
    const char *pool = c->pool;
    switch (m.kind) {
    case N_NUM: case N_QVAL: case N_SYM: put(w, pool + m.s, (size_t)m.n); break;
    case N_TEXT: puts_(w, "\""); put(w, pool + m.s, (size_t)m.n); puts_(w, "\""); break;
    case N_CONST: puts_(w, m.flag == C_PI ? "pi" : m.flag == C_E ? "e" : "oo"); break;
    case N_ADD: case N_SUB: case N_MUL: case N_DIV: case N_POW: {
        static const char ops[] = "+-*/^";
        char op = ops[m.kind - N_ADD];
        puts_(w, "("); key_rec(c, m.a, vote, w, depth + 1); put(w, &op, 1);
        key_rec(c, m.b, vote, w, depth + 1); puts_(w, ")");
        break;
    }
    case N_NEG: puts_(w, "(-"); key_rec(c, m.a, vote, w, depth + 1); puts_(w, ")"); break;
    case N_FUNC:
        puts_(w, math_func_names[m.flag]);
        if (m.b >= 0 && m.flag != F_BINOM) { puts_(w, "_"); key_rec(c, m.b, vote, w, depth + 1); }
        puts_(w, "(");
        key_rec(c, m.a, vote, w, depth + 1);
        if (m.flag == F_BINOM) { puts_(w, ","); key_rec(c, m.b, vote, w, depth + 1); }
        puts_(w, ")");
        break;
    case N_FACT: puts_(w, "("); key_rec(c, m.a, vote, w, depth + 1); puts_(w, ")!"); break;
    case N_PCT:
        key_rec(c, m.a, vote, w, depth + 1);
        if (!vote) puts_(w, "%");
        break;
    case N_PM:
        puts_(w, "(");
        if (m.a >= 0) key_rec(c, m.a, vote, w, depth + 1);
        puts_(w, "+-"); key_rec(c, m.b, vote, w, depth + 1); puts_(w, ")");
        break;
    case N_REL: {
        int first = c->kids[m.a];
        if (vote && m.b >= 2 && c->pool[m.s] == REL_EQ && massignable(c, first)) {
            int all_eq = 1;
            for (int q = 0; q < m.n; q++) if (c->pool[m.s + q] != REL_EQ) all_eq = 0;
            if (all_eq) { key_rec(c, c->kids[m.a + m.b - 1], vote, w, depth + 1); break; }
        }
        for (int q = 0; q < m.b; q++) {
            if (q) puts_(w, rel_str(c->pool[m.s + q - 1]));
            key_rec(c, c->kids[m.a + q], vote, w, depth + 1);
        }
        break;
    }
    case N_RATIO: key_rec(c, m.a, vote, w, depth + 1); puts_(w, ":"); key_rec(c, m.b, vote, w, depth + 1); break;
    case N_LIST: case N_SET: key_list(c, c->kids + m.a, m.b, vote, 1, "{", "}", w, depth); break;
    case N_TUPLE: {
        const char *o = m.flag == '[' ? "[" : m.flag == '<' ? "<" : "(";
        const char *cl = m.flag == '[' ? "]" : m.flag == '<' ? ">" : ")";
        key_list(c, c->kids + m.a, m.b, vote, 0, o, cl, w, depth);
        break;
    }
    case N_INTERVAL:
        puts_(w, (m.flag & 1) ? "[" : "(");
        key_rec(c, m.a, vote, w, depth + 1); puts_(w, ",");
        key_rec(c, m.b, vote, w, depth + 1);
        puts_(w, (m.flag & 2) ? "]" : ")");
        break;
    case N_UNION:
        for (int q = 0; q < m.b; q++) { if (q) puts_(w, "U"); key_rec(c, c->kids[m.a + q], vote, w, depth + 1); }
        break;
    case N_SETOP:
        puts_(w, "("); key_rec(c, m.a, vote, w, depth + 1); puts_(w, m.flag == 'n' ? " cap " : " minus ");
        key_rec(c, m.b, vote, w, depth + 1); puts_(w, ")");
        break;
    case N_MATRIX:
        puts_(w, "[");
        for (int r = 0; r < m.b; r++) {
            if (r) puts_(w, ",");
            key_list(c, c->kids + m.a + r * m.n, m.n, vote, 0, "[", "]", w, depth);
        }
        puts_(w, "]");
        break;
    case N_REALS: puts_(w, "R"); break;
    case N_EMPTY: puts_(w, "{}"); break;
    default: w->bad = 1; break;
    }
}

int mkey(mctx *c, int node_id, int vote, char *buf, size_t cap) {
    if (!cap) return -1;
    buf[0] = 0;
    wbuf w = { buf, cap, 0, 0 };
    key_rec(c, node_id, vote, &w, 0);
    return w.bad ? -1 : (int)w.n;
}
