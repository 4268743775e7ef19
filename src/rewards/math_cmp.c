/* math_cmp.c: is the prediction equal to the gold? Canonical keys first (structure),
 * then by kind: scalars by value at sample points, tuples in order, sets unordered,
 * intervals by endpoints and open/closed ends, relations by their sides (assignments),
 * by the set they describe (inequalities) or by proportional sides (equations).
 * Asymmetric on purpose, like Math-Verify: "x = v" gold vs bare pred compares v, an
 * interval gold is not matched by an inequality pred unless allow_set_relation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rewards/math_int.h"

#define MAX_IV 64   /* intervals in one union */

static int value_eq(mctx *c, int g, int p);

static mnode nd(mctx *c, int id) { return c->nodes[id]; }
static int kid(mctx *c, int id, int q) { return c->kids[c->nodes[id].a + q]; }

static int is_scalar(int k) {
    return k == N_NUM || k == N_QVAL || k == N_SYM || k == N_CONST || k == N_ADD || k == N_SUB ||
           k == N_MUL || k == N_DIV || k == N_POW || k == N_NEG || k == N_FUNC || k == N_FACT || k == N_PCT;
}
static int is_unordered(int k) { return k == N_LIST || k == N_SET; }

static int keys_equal(mctx *c, int g, int p) {
    char *a = malloc(MATH_KEY_CAP), *b = malloc(MATH_KEY_CAP);
    int eq = 0;
    if (a && b) {
        int la = mkey(c, g, 0, a, MATH_KEY_CAP);
        int lb = la >= 0 ? mkey(c, p, 0, b, MATH_KEY_CAP) : -1;
        eq = la >= 0 && lb == la && memcmp(a, b, (size_t)la) == 0;
    } else c->oom = 1;
    free(a); free(b);
    return eq;
}

static int new_node(mctx *c, int kind, int flag, int a, int b) { return mctx_node(c, kind, flag, a, b); }

/* +1 for oo, -1 for -oo, 0 otherwise */
static int inf_sign(mctx *c, int id) {
    mnode m = nd(c, id);
    if (m.kind == N_CONST && m.flag == C_INF) return 1;
    if (m.kind == N_NEG && nd(c, m.a).kind == N_CONST && nd(c, m.a).flag == C_INF) return -1;
    return 0;
}

/* ---- \pm: a scalar with k \pm signs is the set of its 2^k readings (k <= 3) ---- */

static int find_pm(mctx *c, int id, int depth) {
    if (id < 0 || depth > 2 * MATH_MAX_DEPTH) return -1;
    mnode m = nd(c, id);
    if (m.kind == N_PM) return id;
    if (!is_scalar(m.kind) || m.kind == N_NUM || m.kind == N_QVAL || m.kind == N_SYM || m.kind == N_CONST) return -1;
    int r = find_pm(c, m.a, depth + 1);
    if (r < 0 && m.kind != N_NEG && m.kind != N_FACT && m.kind != N_PCT) r = find_pm(c, m.b, depth + 1);
    return r;
}

static int subst_pm(mctx *c, int id, int pm, int sign, int depth) {
    if (id < 0 || depth > 2 * MATH_MAX_DEPTH) return -1;
    mnode m = nd(c, id);
    if (id == pm) {
        if (m.a < 0) return sign > 0 ? m.b : new_node(c, N_NEG, 0, m.b, -1);
        return new_node(c, sign > 0 ? N_ADD : N_SUB, 0, m.a, m.b);
    }
    if (!is_scalar(m.kind) || m.kind == N_NUM || m.kind == N_QVAL || m.kind == N_SYM || m.kind == N_CONST) return id;
    int a = m.a >= 0 ? subst_pm(c, m.a, pm, sign, depth + 1) : m.a;
    int b = m.b;
    if (m.kind != N_NEG && m.kind != N_FACT && m.kind != N_PCT && m.b >= 0) b = subst_pm(c, m.b, pm, sign, depth + 1);
    if ((m.a >= 0 && a < 0) || (m.b >= 0 && b < 0)) return -1;
    if (a == m.a && b == m.b) return id;
    int n = new_node(c, m.kind, m.flag, a, b);
    if (n >= 0) { c->nodes[n].s = m.s; c->nodes[n].n = m.n; c->nodes[n].dec = m.dec; }
    return n;
}

static int pm_expand(mctx *c, int id) {
    if (!is_scalar(nd(c, id).kind) && nd(c, id).kind != N_PM) return id;
    int v[8] = { id }, nv = 1;
    for (int round = 0; round < 3; round++) {
        int w[8], nw = 0, changed = 0;
        for (int q = 0; q < nv; q++) {
            int pm = find_pm(c, v[q], 0);
            if (pm < 0) { w[nw++] = v[q]; continue; }
            int a = subst_pm(c, v[q], pm, 1, 0), b = subst_pm(c, v[q], pm, -1, 0);
            if (a < 0 || b < 0) return id;
            w[nw++] = a; w[nw++] = b; changed = 1;
        }
        memcpy(v, w, (size_t)nw * sizeof *w); nv = nw;
        if (!changed) break;
    }
    if (nv == 1) return id;
    for (int q = 0; q < nv; q++) if (find_pm(c, v[q], 0) >= 0) return id;  /* more than 3 */
    int off = mctx_kids(c, v, nv);
    if (off < 0) return id;
    int s = new_node(c, N_SET, 0, off, nv);
    return s < 0 ? id : s;
}

/* ---- scalars ---- */

static int bare_dec(mctx *c, int id) {
    if (id < 0) return -1;
    mnode m = nd(c, id);
    if (m.kind == N_NEG) m = nd(c, m.a);
    return m.kind == N_NUM && m.dec > 0 ? m.dec : -1;
}

/* both exact and different: within rel_tol, or a bare decimal literal correctly rounded */
static int tol_exact(mctx *c, mval *a, mval *b, int g, int p) {
    mpq_t d, m, t;
    mpq_inits(d, m, t, NULL);
    mpq_sub(d, a->q, b->q); mpq_abs(d, d);
    mpq_abs(m, a->q); mpq_abs(t, b->q);
    if (mpq_cmp(t, m) > 0) mpq_set(m, t);
    int ok = 0;
    if (c->p->rel_tol > 0) {
        mpq_set_d(t, c->p->rel_tol);
        mpq_mul(t, t, m);
        ok = mpq_cmp(d, t) <= 0;
    }
    for (int side = 0; side < 2 && !ok; side++) {
        int k = bare_dec(c, side ? p : g);
        mval *lit = side ? b : a;
        if (k < 0 || c->p->float_digits <= 0 || k < c->p->float_digits || k > 2000 || mpq_sgn(lit->q) == 0) continue;
        mpz_ui_pow_ui(mpq_denref(t), 10, (unsigned long)k);
        mpz_mul_ui(mpq_denref(t), mpq_denref(t), 2);
        mpz_set_ui(mpq_numref(t), 1);
        ok = mpq_cmp(d, t) <= 0;
    }
    mpq_clears(d, m, t, NULL);
    return ok;
}

static int point_eq(mctx *c, mval *a, mval *b, int g, int p) {
    if (a->exact && b->exact) {
        if (mpq_equal(a->q, b->q)) return 1;
        return (a->dec || b->dec) ? tol_exact(c, a, b, g, p) : 0;
    }
    if (!a->vok || !b->vok) return 0;
    long double diff = fabsl(a->v - b->v), bound = 2 * (a->e + b->e);
    if (diff <= bound) return 1;
    if (!a->dec && !b->dec) return 0;
    long double m = fabsl(a->v) > fabsl(b->v) ? fabsl(a->v) : fabsl(b->v);
    if (diff <= bound + (long double)c->p->rel_tol * m) return 1;
    for (int side = 0; side < 2; side++) {
        int k = bare_dec(c, side ? p : g);
        long double lv = side ? b->v : a->v;
        if (k < 0 || c->p->float_digits <= 0 || k < c->p->float_digits || k > 4000 || lv == 0) continue;
        if (diff <= 0.5L * powl(10.0L, (long double)-k) * (1 + 1e-12L) + bound) return 1;
    }
    return 0;
}

static int scalar_eq(mctx *c, int g, int p) {
    int npts = (mhas_syms(c, g) || mhas_syms(c, p)) ? MATH_N_POINTS : 1;
    int valid = 0, eq = 1;
    mval a, b; mval_init(&a); mval_init(&b);
    for (int pt = 0; pt < npts && eq; pt++) {
        meval(c, g, pt, &a);
        meval(c, p, pt, &b);
        if (!a.ok && !b.ok) continue;
        if (!a.ok || !b.ok || !point_eq(c, &a, &b, g, p)) eq = 0;
        else valid++;
    }
    mval_clear(&a); mval_clear(&b);
    return eq && valid >= (npts == 1 ? 1 : 2);
}

/* f and h (scalars with variables) are nonzero multiples of each other; need_pos: the
 * factor must be positive (inequalities). */
static int prop_eq(mctx *c, int f, int h, int need_pos) {
    mval a, b, r, r0; mval_init(&a); mval_init(&b); mval_init(&r); mval_init(&r0);
    int have = 0, nonzero = 0, zero = 0, eq = 1;
    for (int pt = 0; pt < MATH_N_POINTS && eq; pt++) {
        meval(c, f, pt, &a);
        meval(c, h, pt, &b);
        if (!a.ok && !b.ok) continue;
        if (!a.ok || !b.ok) { eq = 0; break; }
        int az = a.exact ? mpq_sgn(a.q) == 0 : fabsl(a.v) <= 2 * a.e;
        int bz = b.exact ? mpq_sgn(b.q) == 0 : fabsl(b.v) <= 2 * b.e;
        if (az && bz) { zero++; continue; }
        if (az || bz) { eq = 0; break; }
        mval_binop(N_DIV, &a, &b, &r);
        r.ok = r.exact || r.vok;
        if (!r.ok) { eq = 0; break; }
        if (need_pos && (r.exact ? mpq_sgn(r.q) <= 0 : r.v - 2 * r.e <= 0)) { eq = 0; break; }
        if (!have) {
            mpq_set(r0.q, r.q); r0.exact = r.exact; r0.vok = r.vok; r0.v = r.v; r0.e = r.e; r0.dec = r.dec;
            have = 1;
        } else if (!point_eq(c, &r0, &r, -1, -1)) eq = 0;
        nonzero++;
        r.exact = r.vok = 0;
    }
    mval_clear(&a); mval_clear(&b); mval_clear(&r); mval_clear(&r0);
    return eq && (nonzero >= 2 || (nonzero == 0 && zero >= 2));
}

/* ---- sets and intervals ---- */

typedef struct { int lo, hi, flags; } iv;

static int to_intervals(mctx *c, int id, iv *out, int *n, int depth) {
    if (depth > 8) return 0;
    mnode m = nd(c, id);
    switch (m.kind) {
    case N_INTERVAL:
        if (*n >= MAX_IV) return 0;
        out[(*n)++] = (iv){ m.a, m.b, m.flag };
        return 1;
    case N_TUPLE:
        if (m.flag != '(' || m.b != 2 || *n >= MAX_IV) return 0;
        out[(*n)++] = (iv){ kid(c, id, 0), kid(c, id, 1), 0 };
        return 1;
    case N_UNION:
        for (int q = 0; q < m.b; q++) if (!to_intervals(c, kid(c, id, q), out, n, depth + 1)) return 0;
        return 1;
    case N_REALS: {
        if (*n >= MAX_IV) return 0;
        int inf = new_node(c, N_CONST, C_INF, 0, 0);
        int ninf = inf >= 0 ? new_node(c, N_NEG, 0, inf, -1) : -1;
        if (ninf < 0) return 0;
        out[(*n)++] = (iv){ ninf, inf, 0 };
        return 1;
    }
    case N_EMPTY: return 1;
    case N_SET: case N_LIST:
        for (int q = 0; q < m.b; q++) {
            int e = kid(c, id, q);
            if (!is_scalar(nd(c, e).kind) || *n >= MAX_IV) return 0;
            out[(*n)++] = (iv){ e, e, 3 };
        }
        return 1;
    default: return 0;
    }
}

static int is_setlike(mctx *c, int id) {
    mnode m = nd(c, id);
    return m.kind == N_INTERVAL || m.kind == N_UNION || m.kind == N_REALS || m.kind == N_EMPTY ||
           (m.kind == N_TUPLE && m.flag == '(' && m.b == 2);
}

static int endpoint_eq(mctx *c, int a, int b) {
    int sa = inf_sign(c, a), sb = inf_sign(c, b);
    if (sa || sb) return sa == sb;
    return value_eq(c, a, b);
}

static int iv_eq(mctx *c, iv x, iv y) {
    if (inf_sign(c, x.lo)) x.flags &= ~1;
    if (inf_sign(c, x.hi)) x.flags &= ~2;
    if (inf_sign(c, y.lo)) y.flags &= ~1;
    if (inf_sign(c, y.hi)) y.flags &= ~2;
    if (x.flags != y.flags) return 0;
    if (x.lo == x.hi && y.lo == y.hi) return value_eq(c, x.lo, y.lo);
    return endpoint_eq(c, x.lo, y.lo) && endpoint_eq(c, x.hi, y.hi);
}

static int region_eq(mctx *c, int g, int p) {
    iv *a = malloc(2 * MAX_IV * sizeof *a);   /* heap: this recurses through value_eq */
    if (!a) { c->oom = 1; return 0; }
    iv *b = a + MAX_IV;
    unsigned char used[MAX_IV] = { 0 };
    int na = 0, nb = 0, eq = 1;
    if (!to_intervals(c, g, a, &na, 0) || !to_intervals(c, p, b, &nb, 0) || na != nb) eq = 0;
    for (int i = 0; i < na && eq; i++) {
        int hit = 0;
        for (int j = 0; j < nb && !hit; j++)
            if (!used[j] && iv_eq(c, a[i], b[j])) { used[j] = 1; hit = 1; }
        if (!hit) eq = 0;
    }
    free(a);
    return eq;
}

/* every element of one has an equal in the other (sets: duplicates do not count) */
static int set_eq(mctx *c, int g, int p) {
    mnode G = nd(c, g), P = nd(c, p);
    for (int i = 0; i < G.b; i++) {
        int hit = 0;
        for (int j = 0; j < P.b && !hit; j++) hit = value_eq(c, kid(c, g, i), kid(c, p, j));
        if (!hit) return 0;
    }
    for (int j = 0; j < P.b; j++) {
        int hit = 0;
        for (int i = 0; i < G.b && !hit; i++) hit = value_eq(c, kid(c, g, i), kid(c, p, j));
        if (!hit) return 0;
    }
    return 1;
}

static int seq_eq(mctx *c, int g, int p) {
    mnode G = nd(c, g), P = nd(c, p);
    if (G.b != P.b) return 0;
    for (int i = 0; i < G.b; i++) if (!value_eq(c, kid(c, g, i), kid(c, p, i))) return 0;
    return 1;
}

/* a set against a tuple: the set sorted by value, then in order (Math-Verify's rule) */
static int sorted_eq(mctx *c, int set, int tup, int set_is_gold) {
    mnode S = nd(c, set), T = nd(c, tup);
    if (S.b != T.b || S.b > MATH_MAX_ITEMS || S.b == 0) return 0;
    int *idx = malloc((size_t)S.b * sizeof *idx);             /* heap: recursion */
    long double *val = malloc((size_t)S.b * sizeof *val);
    int ok = idx && val;
    if (!ok) c->oom = 1;
    mval v; mval_init(&v);
    for (int i = 0; i < S.b && ok; i++) {
        idx[i] = kid(c, set, i);
        meval(c, idx[i], 0, &v);
        if (!v.vok) ok = 0;
        else val[i] = v.v;
    }
    mval_clear(&v);
    for (int i = 1; i < S.b && ok; i++)
        for (int j = i; j > 0 && val[j] < val[j - 1]; j--) {
            long double tv = val[j]; val[j] = val[j - 1]; val[j - 1] = tv;
            int ti = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = ti;
        }
    for (int i = 0; i < S.b && ok; i++) {
        int e = kid(c, tup, i);
        if (!(set_is_gold ? value_eq(c, idx[i], e) : value_eq(c, e, idx[i]))) ok = 0;
    }
    free(idx); free(val);
    return ok;
}

/* ---- relations ---- */

static char rel_op(mctx *c, int id, int q) { return c->pool[c->nodes[id].s + q]; }
static int rel_all(mctx *c, int id, char op) {
    mnode m = nd(c, id);
    for (int q = 0; q < m.n; q++) if (c->pool[m.s + q] != op) return 0;
    return 1;
}
static int is_assign(mctx *c, int id) {
    return nd(c, id).kind == N_REL && rel_all(c, id, REL_EQ) && massignable(c, kid(c, id, 0));
}
static int ineq_op(char op) { return op == REL_LT || op == REL_LE || op == REL_GT || op == REL_GE; }
static char flip(char op) {
    return op == REL_LT ? REL_GT : op == REL_GT ? REL_LT : op == REL_LE ? REL_GE : op == REL_GE ? REL_LE : op;
}

/* the one variable of a subtree: its SYM node, -1 when none, -2 when several */
static int single_sym(mctx *c, int id, int found, int depth) {
    if (id < 0 || found == -2) return found;
    if (depth > 2 * MATH_MAX_DEPTH) return -2;
    mnode m = nd(c, id);
    if (m.kind == N_SYM) {
        if (found < 0) return id;
        mnode f = nd(c, found);
        return (f.n == m.n && memcmp(c->pool + f.s, c->pool + m.s, (size_t)m.n) == 0) ? found : -2;
    }
    if (!is_scalar(m.kind) || m.kind == N_NUM || m.kind == N_QVAL || m.kind == N_CONST) return found;
    found = single_sym(c, m.a, found, depth + 1);
    if (m.kind != N_NEG && m.kind != N_FACT && m.kind != N_PCT) found = single_sym(c, m.b, found, depth + 1);
    return found;
}

static int half_line(mctx *c, char op, int v) {
    int inf = new_node(c, N_CONST, C_INF, 0, 0);
    if (inf < 0) return -1;
    if (op == REL_LT || op == REL_LE) {
        int ninf = new_node(c, N_NEG, 0, inf, -1);
        return ninf < 0 ? -1 : new_node(c, N_INTERVAL, op == REL_LE ? 2 : 0, ninf, v);
    }
    return new_node(c, N_INTERVAL, op == REL_GE ? 1 : 0, v, inf);
}

/* x op root for a linear a op b in one variable x (exact, rational coefficients) */
static int solve_linear(mctx *c, int a, int b, char op, int *var) {
    int x = single_sym(c, b, single_sym(c, a, -1, 0), 0);
    if (x < 0) return -1;
    mnode xm = nd(c, x);
    int k = -1;
    for (int q = 0; q < c->n_vars; q++)
        if (c->var_n[q] == xm.n && memcmp(c->pool + c->var_s[q], c->pool + xm.s, (size_t)xm.n) == 0) k = q;
    if (k < 0) return -1;
    int f = new_node(c, N_SUB, 0, a, b);
    if (f < 0) return -1;
    mval v[3]; for (int q = 0; q < 3; q++) mval_init(&v[q]);
    int ok = 1;
    for (int q = 0; q < 3 && ok; q++) { meval(c, f, q, &v[q]); ok = v[q].exact; }
    int res = -1;
    if (ok) {
        mpq_t s1, s2, t, root;
        mpq_inits(s1, s2, t, root, NULL);
        mpq_sub(s1, v[1].q, v[0].q); mpq_sub(t, c->vq[1][k], c->vq[0][k]); mpq_div(s1, s1, t);
        mpq_sub(s2, v[2].q, v[0].q); mpq_sub(t, c->vq[2][k], c->vq[0][k]); mpq_div(s2, s2, t);
        if (mpq_equal(s1, s2) && mpq_sgn(s1) != 0) {
            mpq_div(root, v[0].q, s1);
            mpq_sub(root, c->vq[0][k], root);            /* x0 - f0 / slope */
            char *str = mpq_get_str(NULL, 10, root);
            int off = str ? mctx_pool(c, str, (int)strlen(str)) : -1;
            int qv = off >= 0 ? new_node(c, N_QVAL, 0, 0, 0) : -1;
            if (qv >= 0) {
                c->nodes[qv].s = off; c->nodes[qv].n = (int)strlen(str);
                res = half_line(c, mpq_sgn(s1) > 0 ? op : flip(op), qv);
                *var = x;
            }
            free(str);
        }
        mpq_clears(s1, s2, t, root, NULL);
    }
    for (int q = 0; q < 3; q++) mval_clear(&v[q]);
    return res;
}

/* the set an inequality or membership describes; *var its variable's SYM or -1 */
static int setform(mctx *c, int id, int *var) {
    mnode m = nd(c, id);
    *var = -1;
    if (m.b == 2 && rel_op(c, id, 0) == REL_IN) {
        if (nd(c, kid(c, id, 0)).kind == N_SYM) *var = kid(c, id, 0);
        return kid(c, id, 1);
    }
    if (m.b == 3) {
        char o1 = rel_op(c, id, 0), o2 = rel_op(c, id, 1);
        int up = (o1 == REL_LT || o1 == REL_LE) && (o2 == REL_LT || o2 == REL_LE);
        int down = (o1 == REL_GT || o1 == REL_GE) && (o2 == REL_GT || o2 == REL_GE);
        int lo = kid(c, id, 0), mid = kid(c, id, 1), hi = kid(c, id, 2);
        if (!(up || down) || mhas_syms(c, lo) || mhas_syms(c, hi)) return -1;
        if (nd(c, mid).kind == N_SYM) *var = mid;
        if (up) return new_node(c, N_INTERVAL, (o1 == REL_LE) | ((o2 == REL_LE) << 1), lo, hi);
        return new_node(c, N_INTERVAL, (o2 == REL_GE) | ((o1 == REL_GE) << 1), hi, lo);
    }
    if (m.b == 2 && ineq_op(rel_op(c, id, 0))) {
        char op = rel_op(c, id, 0);
        int a = kid(c, id, 0), b = kid(c, id, 1);
        if (nd(c, a).kind == N_SYM && !mhas_syms(c, b)) { *var = a; return half_line(c, op, b); }
        if (nd(c, b).kind == N_SYM && !mhas_syms(c, a)) { *var = b; return half_line(c, flip(op), a); }
        return solve_linear(c, a, b, op, var);
    }
    return -1;
}

static int eqn_eq(mctx *c, int g, int p) {
    int gl = kid(c, g, 0), gr = kid(c, g, nd(c, g).b - 1);
    int pl = kid(c, p, 0), pr = kid(c, p, nd(c, p).b - 1);
    if (massignable(c, gl) && massignable(c, pl)) {
        if (keys_equal(c, gl, pl)) return value_eq(c, gr, pr);
        if (nd(c, gl).kind == N_SYM && nd(c, pl).kind == N_SYM) return 0;
    }
    if (is_scalar(nd(c, gl).kind) && is_scalar(nd(c, gr).kind) && is_scalar(nd(c, pl).kind) &&
        is_scalar(nd(c, pr).kind)) {
        int hv = mhas_syms(c, gl) || mhas_syms(c, gr), pv = mhas_syms(c, pl) || mhas_syms(c, pr);
        if (hv && pv) {
            int f = new_node(c, N_SUB, 0, gl, gr), h = new_node(c, N_SUB, 0, pl, pr);
            return f >= 0 && h >= 0 && prop_eq(c, f, h, 0);
        }
        if (hv != pv) return 0;
    }
    return (value_eq(c, gl, pl) && value_eq(c, gr, pr)) || (value_eq(c, gl, pr) && value_eq(c, gr, pl));
}

/* two single inequalities without a set form: f < 0 vs h < 0 with h = k*f, k > 0 */
static int ineq_generic(mctx *c, int g, int p) {
    mnode G = nd(c, g), P = nd(c, p);
    if (G.b != 2 || P.b != 2) return 0;
    char og = rel_op(c, g, 0), op = rel_op(c, p, 0);
    if (og == REL_NE && op == REL_NE) {
        int f = new_node(c, N_SUB, 0, kid(c, g, 0), kid(c, g, 1));
        int h = new_node(c, N_SUB, 0, kid(c, p, 0), kid(c, p, 1));
        return f >= 0 && h >= 0 && prop_eq(c, f, h, 0);
    }
    if (!ineq_op(og) || !ineq_op(op)) return 0;
    int sg = og == REL_LT || og == REL_GT, sp = op == REL_LT || op == REL_GT;
    if (sg != sp) return 0;
    int lg = og == REL_LT || og == REL_LE, lp = op == REL_LT || op == REL_LE;
    int f = new_node(c, N_SUB, 0, kid(c, g, lg ? 0 : 1), kid(c, g, lg ? 1 : 0));
    int h = new_node(c, N_SUB, 0, kid(c, p, lp ? 0 : 1), kid(c, p, lp ? 1 : 0));
    return f >= 0 && h >= 0 && prop_eq(c, f, h, 1);
}

static int rel_eq(mctx *c, int g, int p) {
    int gr = nd(c, g).kind == N_REL, pr = nd(c, p).kind == N_REL;
    if (gr && !pr) {
        if (is_assign(c, g)) return value_eq(c, kid(c, g, nd(c, g).b - 1), p);
        int var, s = setform(c, g, &var);
        if (s >= 0 && (is_setlike(c, p) || is_unordered(nd(c, p).kind))) return value_eq(c, s, p);
        return 0;
    }
    if (!gr && pr) {
        if (is_assign(c, p)) return value_eq(c, g, kid(c, p, nd(c, p).b - 1));
        if (nd(c, p).b == 2 && rel_op(c, p, 0) == REL_IN) return value_eq(c, g, kid(c, p, 1));
        if (!c->p->allow_set_relation) return 0;
        int var, s = setform(c, p, &var);
        return s >= 0 && value_eq(c, g, s);
    }
    int geq = rel_all(c, g, REL_EQ), peq = rel_all(c, p, REL_EQ);
    if (geq && peq) return eqn_eq(c, g, p);
    if (geq || peq) return 0;
    int gin = nd(c, g).b == 2 && rel_op(c, g, 0) == REL_IN;
    int pin = nd(c, p).b == 2 && rel_op(c, p, 0) == REL_IN;
    if (gin && !pin && !c->p->allow_set_relation) return 0;
    int vg, vp;
    int sg = setform(c, g, &vg), sp = sg >= 0 ? setform(c, p, &vp) : -1;
    if (sg >= 0 && sp >= 0) {
        if (vg >= 0 && vp >= 0 && !keys_equal(c, vg, vp)) return 0;
        return value_eq(c, sg, sp);
    }
    if (ineq_generic(c, g, p)) return 1;
    mnode G = nd(c, g), P = nd(c, p);
    if (G.b != P.b) return 0;
    for (int q = 0; q < G.n; q++) if (rel_op(c, g, q) != rel_op(c, p, q)) return 0;
    for (int q = 0; q < G.b; q++) if (!value_eq(c, kid(c, g, q), kid(c, p, q))) return 0;
    return 1;
}

/* ---- the dispatcher ---- */

static int value_eq_inner(mctx *c, int g, int p) {
    if (keys_equal(c, g, p)) return 1;
    g = pm_expand(c, g);
    p = pm_expand(c, p);
    int gk = nd(c, g).kind, pk = nd(c, p).kind;
    if ((gk == N_PCT) != (pk == N_PCT) && !c->p->percent_strict) {
        int gi = gk == N_PCT ? nd(c, g).a : g, pi = pk == N_PCT ? nd(c, p).a : p;
        if (value_eq(c, gi, pi)) return 1;
    }
    if (gk == N_REL || pk == N_REL) return rel_eq(c, g, p);
    if (is_scalar(gk) && is_scalar(pk)) return scalar_eq(c, g, p);
    if (is_unordered(gk) && is_unordered(pk)) return set_eq(c, g, p);
    if ((gk == N_LIST && pk == N_TUPLE) || (gk == N_TUPLE && pk == N_LIST)) return seq_eq(c, g, p);
    if (gk == N_SET && pk == N_TUPLE) return sorted_eq(c, g, p, 1);
    if (gk == N_TUPLE && pk == N_SET) return sorted_eq(c, p, g, 0);
    if (is_unordered(gk) && nd(c, g).b == 1) return value_eq(c, kid(c, g, 0), p);
    if (is_unordered(pk) && nd(c, p).b == 1) return value_eq(c, g, kid(c, p, 0));
    if (gk == N_TUPLE && pk == N_TUPLE) return seq_eq(c, g, p);
    if (is_setlike(c, g) && is_setlike(c, p)) return region_eq(c, g, p);
    if (gk == N_MATRIX && pk == N_MATRIX) {
        mnode G = nd(c, g), P = nd(c, p);
        if (G.b != P.b || G.n != P.n) return 0;
        for (int q = 0; q < G.b * G.n; q++) if (!value_eq(c, kid(c, g, q), kid(c, p, q))) return 0;
        return 1;
    }
    if (gk == N_RATIO && pk == N_RATIO)
        return value_eq(c, nd(c, g).a, nd(c, p).a) && value_eq(c, nd(c, g).b, nd(c, p).b);
    if (gk == N_RATIO && is_scalar(pk)) {
        int d = new_node(c, N_DIV, 0, nd(c, g).a, nd(c, g).b);
        return d >= 0 && scalar_eq(c, d, p);
    }
    if (pk == N_RATIO && is_scalar(gk)) {
        int d = new_node(c, N_DIV, 0, nd(c, p).a, nd(c, p).b);
        return d >= 0 && scalar_eq(c, g, d);
    }
    return 0;
}

static int value_eq(mctx *c, int g, int p) {
    if (g < 0 || p < 0 || c->oom || c->depth > 2 * MATH_MAX_DEPTH || !mctx_spend(c, 4)) return 0;
    c->depth++;
    int r = value_eq_inner(c, g, p);
    c->depth--;
    return r && !c->budget_hit;
}

int mcmp_answers(mctx *c, int gold, int pred) {
    c->n_vars = 0;
    if (!mvars_collect(c, gold) || !mvars_collect(c, pred)) return keys_equal(c, gold, pred) && !c->budget_hit;
    mvars_points(c);
    return value_eq(c, gold, pred);
}
