/* math_eval.c: the value of a scalar node. Exact GMP rationals while every step stays
 * rational and under MATH_MAX_BITS; alongside, a long double with a running bound on its
 * absolute error (so "equal" for irrationals means "within the rounding we can prove",
 * not a guessed epsilon). Variables take small rational sample values, one set per point.
 * Power towers are refused by bit and exponent-range checks before any work is done. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rewards/math_int.h"

#define EPS LDBL_EPSILON
#define LD_EXP_LIMIT 16000L   /* |log2| of magnitudes a long double may hold here */
static const long double PI_L = 3.141592653589793238462643383279502884L;
static const long double E_L = 2.718281828459045235360287471352662498L;

void mval_init(mval *v) { mpq_init(v->q); v->ok = v->exact = v->vok = 0; v->v = v->e = 0; v->dec = 0; }
void mval_clear(mval *v) { mpq_clear(v->q); }

static long qbits(mpq_srcptr q) {
    return (long)(mpz_sizeinbase(mpq_numref(q), 2) + mpz_sizeinbase(mpq_denref(q), 2));
}

/* |z| ~= m * 2^e2 with m the top bits of z (exact when z fits an unsigned long) */
static long double z_to_ld(mpz_srcptr z, long *e2) {
    size_t bits = mpz_sizeinbase(z, 2);
    size_t W = sizeof(unsigned long) * 8;
    if (bits <= W) { *e2 = 0; return (long double)mpz_get_ui(z); }
    mpz_t t; mpz_init(t);
    mpz_tdiv_q_2exp(t, z, bits - W);
    long double m = (long double)mpz_get_ui(t);
    mpz_clear(t);
    *e2 = (long)(bits - W);
    return m;
}

/* q -> long double with an error bound; 0 when out of range */
static int q_to_ld(mpq_srcptr q, long double *v, long double *e) {
    if (mpq_sgn(q) == 0) { *v = 0; *e = 0; return 1; }
    long en, ed;
    long double mn = z_to_ld(mpq_numref(q), &en), md = z_to_ld(mpq_denref(q), &ed);
    long ex = en - ed;
    if (ex > LD_EXP_LIMIT || ex < -LD_EXP_LIMIT) return 0;
    long double r = ldexpl(mn / md, (int)ex);
    if (mpq_sgn(q) < 0) r = -r;
    int W = (int)(sizeof(unsigned long) * 8);
    long double rel = (en || ed) ? ldexpl(1.0L, 2 - W) : 0;
    *v = r;
    *e = fabsl(r) * (2 * rel + EPS);
    return 1;
}

static void set_exact(mval *o) {
    o->exact = 1;
    o->vok = q_to_ld(o->q, &o->v, &o->e);
}

int mq_from_dec(mpq_t q, const char *s, int n) {
    char dig[4200]; int nd = 0, frac = 0, i = 0, neg = 0, seen_point = 0;
    long ex = 0;
    if (i < n && s[i] == '-') { neg = 1; i++; }
    for (; i < n && s[i] != 'e'; i++) {
        if (s[i] == '.') { seen_point = 1; continue; }
        if (s[i] < '0' || s[i] > '9' || nd >= 4100) return 0;
        dig[nd++] = s[i];
        if (seen_point) frac++;
    }
    if (i < n && s[i] == 'e') {
        int eneg = 0; i++;
        if (i < n && s[i] == '-') { eneg = 1; i++; }
        for (; i < n; i++) { if (s[i] < '0' || s[i] > '9' || ex > 1000000) return 0; ex = ex * 10 + (s[i] - '0'); }
        if (eneg) ex = -ex;
    }
    if (!nd) return 0;
    long e10 = ex - frac;
    if ((double)(nd + (e10 < 0 ? -e10 : e10)) * 3.33 > MATH_MAX_BITS) return 0;
    dig[nd] = 0;
    mpz_t p; mpz_init(p);
    mpz_set_str(mpq_numref(q), dig, 10);
    mpz_set_ui(mpq_denref(q), 1);
    mpz_ui_pow_ui(p, 10, (unsigned long)(e10 < 0 ? -e10 : e10));
    if (e10 >= 0) mpz_mul(mpq_numref(q), mpq_numref(q), p);
    else mpz_set(mpq_denref(q), p);
    mpz_clear(p);
    mpq_canonicalize(q);
    if (neg) mpq_neg(q, q);
    return 1;
}

/* ---- variables ---- */

static int var_index(mctx *c, const char *name, int n) {
    for (int k = 0; k < c->n_vars; k++)
        if (c->var_n[k] == n && memcmp(c->pool + c->var_s[k], name, (size_t)n) == 0) return k;
    return -1;
}

static int collect(mctx *c, int id, int depth) {
    if (id < 0) return 1;
    if (depth > 2 * MATH_MAX_DEPTH) return 0;
    mnode *m = &c->nodes[id];
    switch (m->kind) {
    case N_SYM:
        if (var_index(c, c->pool + m->s, m->n) >= 0) return 1;
        if (c->n_vars >= MATH_MAX_VARS) return 0;
        c->var_s[c->n_vars] = m->s; c->var_n[c->n_vars] = m->n; c->n_vars++;
        return 1;
    case N_NUM: case N_QVAL: case N_CONST: case N_TEXT: case N_REALS: case N_EMPTY: return 1;
    case N_REL: case N_LIST: case N_SET: case N_TUPLE: case N_UNION: case N_MATRIX: {
        int cnt = m->kind == N_MATRIX ? m->b * m->n : m->b, a = m->a;
        for (int q = 0; q < cnt; q++) if (!collect(c, c->kids[a + q], depth + 1)) return 0;
        return 1;
    }
    default: {
        int a = m->a, b = m->b;
        return collect(c, a, depth + 1) && collect(c, b, depth + 1);
    }
    }
}

int mvars_collect(mctx *c, int id) { return collect(c, id, 0); }

int mvars_points(mctx *c) {
    for (int pt = 0; pt < MATH_N_POINTS; pt++)
        for (int k = 0; k < c->n_vars; k++) {
            unsigned long h = 2166136261ul ^ ((unsigned long)(k + 1) * 16777619ul) ^ ((unsigned long)(pt + 1) * 2654435761ul);
            for (int tries = 0; tries < 100; tries++) {
                h = (h * 6364136223846793005ul + 1442695040888963407ul) & 0xFFFFFFFFFFFFul;
                unsigned long num = 7 + (h >> 16) % 53, den = 5 + (h >> 30) % 29;
                if (num % den == 0) continue;
                mpq_set_ui(c->vq[pt][k], num, den);
                mpq_canonicalize(c->vq[pt][k]);
                int dup = 0;
                for (int j = 0; j < k; j++) if (mpq_equal(c->vq[pt][j], c->vq[pt][k])) dup = 1;
                if (dup) continue;
                c->vv[pt][k] = (long double)num / (long double)den;
                break;
            }
        }
    return 1;
}

/* ---- arithmetic ---- */

void mval_binop(int kind, mval *x, mval *y, mval *o) {
    o->dec = x->dec > y->dec ? x->dec : y->dec;
    if (x->exact && y->exact && qbits(x->q) + qbits(y->q) <= 2 * MATH_MAX_BITS) {
        switch (kind) {
        case N_ADD: mpq_add(o->q, x->q, y->q); break;
        case N_SUB: mpq_sub(o->q, x->q, y->q); break;
        case N_MUL: mpq_mul(o->q, x->q, y->q); break;
        default:
            if (mpq_sgn(y->q) == 0) return;          /* undefined, not just unknown */
            mpq_div(o->q, x->q, y->q);
        }
        if (qbits(o->q) <= MATH_MAX_BITS) { set_exact(o); return; }
    }
    if (!x->vok || !y->vok) return;
    long double a = x->v, b = y->v, ea = x->e, eb = y->e, v, e;
    switch (kind) {
    case N_ADD: v = a + b; e = ea + eb + EPS * fabsl(v); break;
    case N_SUB: v = a - b; e = ea + eb + EPS * fabsl(v); break;
    case N_MUL:
        v = a * b;
        if (v == 0 && a != 0 && b != 0) return;     /* underflow */
        e = fabsl(a) * eb + fabsl(b) * ea + ea * eb + EPS * fabsl(v);
        break;
    default:
        if (fabsl(b) <= eb) return;                  /* maybe zero */
        v = a / b;
        if (v == 0 && a != 0) return;
        e = (ea + fabsl(v) * eb) / (fabsl(b) - eb) + EPS * fabsl(v);
        break;
    }
    o->v = v; o->e = e; o->vok = 1;
}

/* exact x^n for an integer n that fits a long; 0 when too big or undefined */
static int pow_exact_int(mpq_ptr r, mpq_srcptr x, long n) {
    if (mpq_sgn(x) == 0) {
        if (n < 0) return 0;
        mpq_set_ui(r, n == 0 ? 1 : 0, 1);
        return 1;
    }
    if (mpz_cmp_ui(mpq_denref(x), 1) == 0 && mpz_cmpabs_ui(mpq_numref(x), 1) == 0) {
        int neg = mpq_sgn(x) < 0 && (n & 1);
        mpq_set_si(r, neg ? -1 : 1, 1);
        return 1;
    }
    unsigned long an = n < 0 ? (unsigned long)(-(n + 1)) + 1 : (unsigned long)n;
    if ((double)qbits(x) * (double)an > MATH_MAX_BITS) return 0;
    mpz_pow_ui(mpq_numref(r), mpq_numref(x), an);
    mpz_pow_ui(mpq_denref(r), mpq_denref(x), an);
    if (n < 0) mpq_inv(r, r);
    mpq_canonicalize(r);
    return 1;
}

/* numeric x^y for x > 0; the caller set o->dec */
static void pow_num_pos(long double x, long double ex, long double y, long double ey, mval *o) {
    if (x <= ex) return;
    long double l2 = log2l(x);
    if (fabsl(y * l2) > LD_EXP_LIMIT) return;       /* overflow or underflow: refuse */
    long double v = powl(x, y);
    long double rel = 1.01L * (fabsl(y) * ex / (x - ex) + fabsl(logl(x)) * ey);
    if (rel > 0.25L) return;
    o->v = v; o->e = fabsl(v) * (rel * 1.1L + 4 * EPS); o->vok = 1;
}

static void pow_eval(mval *x, mval *y, mval *o) {
    o->dec = x->dec > y->dec ? x->dec : y->dec;
    if (y->exact && mpz_cmp_ui(mpq_denref(y->q), 1) == 0) {         /* integer exponent */
        int fits = mpz_fits_slong_p(mpq_numref(y->q));
        long n = fits ? mpz_get_si(mpq_numref(y->q)) : 0;
        if (x->exact) {
            if (fits && pow_exact_int(o->q, x->q, n)) { set_exact(o); return; }
            if (!fits && mpz_cmp_ui(mpq_denref(x->q), 1) == 0 && mpz_cmpabs_ui(mpq_numref(x->q), 1) <= 0) {
                if (mpq_sgn(x->q) == 0 && mpz_sgn(mpq_numref(y->q)) < 0) return;
                int neg = mpq_sgn(x->q) < 0 && mpz_odd_p(mpq_numref(y->q));
                mpq_set_si(o->q, mpq_sgn(x->q) == 0 ? 0 : neg ? -1 : 1, 1);
                set_exact(o);
                return;
            }
        }
        if (!x->vok || !fits) return;
        if (x->v == 0) {
            if (n > 0 && x->exact) { mpq_set_ui(o->q, 0, 1); set_exact(o); }
            return;
        }
        pow_num_pos(fabsl(x->v), x->e, (long double)n, 0, o);
        if (o->vok && x->v < 0 && (n & 1)) o->v = -o->v;
        return;
    }
    if (y->exact && mpz_fits_slong_p(mpq_numref(y->q)) && mpz_cmp_ui(mpq_denref(y->q), 64) <= 0) {
        long p = mpz_get_si(mpq_numref(y->q));
        unsigned long q = mpz_get_ui(mpq_denref(y->q));
        if (x->exact) {
            if (mpq_sgn(x->q) < 0 && !(q & 1)) return;               /* not real */
            mpz_t rn, rd; mpz_inits(rn, rd, NULL);
            mpz_abs(rn, mpq_numref(x->q));
            int ex1 = mpz_root(rn, rn, q), ex2 = mpz_root(rd, mpq_denref(x->q), q);
            if (ex1 && ex2) {
                mpq_t r; mpq_init(r);
                mpz_set(mpq_numref(r), rn); mpz_set(mpq_denref(r), rd);
                mpq_canonicalize(r);
                if (mpq_sgn(x->q) < 0) mpq_neg(r, r);
                int ok = pow_exact_int(o->q, r, p);
                mpq_clear(r);
                mpz_clears(rn, rd, NULL);
                if (ok) { set_exact(o); return; }
            } else mpz_clears(rn, rd, NULL);
            if (mpq_sgn(x->q) == 0) { if (p > 0) { mpq_set_ui(o->q, 0, 1); set_exact(o); } return; }
        }
        if (!x->vok || x->v == 0) return;
        if (x->v < 0) {
            if (!(q & 1)) return;
            pow_num_pos(-x->v, x->e, (long double)p / (long double)q, 0, o);
            if (o->vok && (p & 1)) o->v = -o->v;
            return;
        }
        pow_num_pos(x->v, x->e, (long double)p / (long double)q, 2 * EPS, o);
        return;
    }
    if (!x->vok || !y->vok || x->v <= 0) return;
    pow_num_pos(x->v, x->e, y->v, y->e, o);
}

/* ---- functions ---- */

/* log_b(x) when it is an integer k (x = b^k or 1/b^k, b an integer >= 2) */
static int exact_int_log(mpq_ptr r, mpq_srcptr x, mpq_srcptr b) {
    if (mpz_cmp_ui(mpq_denref(b), 1) != 0 || mpz_cmp_ui(mpq_numref(b), 2) < 0 || mpq_sgn(x) <= 0) return 0;
    int inv = 0;
    mpz_srcptr z;
    if (mpz_cmp_ui(mpq_denref(x), 1) == 0) z = mpq_numref(x);
    else if (mpz_cmp_ui(mpq_numref(x), 1) == 0) { z = mpq_denref(x); inv = 1; }
    else return 0;
    if (mpz_cmp_ui(z, 1) == 0) { mpq_set_ui(r, 0, 1); return 1; }
    long ez, eb;
    double mz = mpz_get_d_2exp(&ez, z), mb = mpz_get_d_2exp(&eb, mpq_numref(b));
    double kd = (log2(mz) + (double)ez) / (log2(mb) + (double)eb);
    long k = lround(kd);
    if (k < 1 || fabs(kd - (double)k) > 1e-6 || (double)k * (double)mpz_sizeinbase(mpq_numref(b), 2) > MATH_MAX_BITS + 64)
        return 0;
    mpz_t t; mpz_init(t);
    mpz_pow_ui(t, mpq_numref(b), (unsigned long)k);
    int ok = mpz_cmp(t, z) == 0;
    mpz_clear(t);
    if (ok) mpq_set_si(r, inv ? -k : k, 1);
    return ok;
}

static void func_eval(mctx *c, int f, mval *x, int extra, int pt, mval *o) {
    o->dec = x->dec;
    long double v = x->v, e = x->e, r, d;
    switch (f) {
    case F_SQRT: {
        mval y; mval_init(&y);
        if (extra >= 0) {
            mval k; mval_init(&k);
            meval(c, extra, pt, &k);
            if (k.exact && mpz_cmp_ui(mpq_denref(k.q), 1) == 0 && mpz_cmp_ui(mpq_numref(k.q), 1) >= 0 &&
                mpz_cmp_ui(mpq_numref(k.q), 64) <= 0) {
                mpq_inv(y.q, k.q); y.exact = 1; y.vok = q_to_ld(y.q, &y.v, &y.e);
            }
            mval_clear(&k);
            if (!y.exact) { mval_clear(&y); return; }
        } else { mpq_set_ui(y.q, 1, 2); y.exact = 1; y.vok = 1; y.v = 0.5L; y.e = 0; }
        pow_eval(x, &y, o);
        o->dec = x->dec;
        mval_clear(&y);
        return;
    }
    case F_ABS:
        if (x->exact) { mpq_abs(o->q, x->q); set_exact(o); return; }
        if (x->vok) { o->v = fabsl(v); o->e = e; o->vok = 1; }
        return;
    case F_FLOOR: case F_CEIL:
        if (x->exact) {
            if (f == F_FLOOR) mpz_fdiv_q(mpq_numref(o->q), mpq_numref(x->q), mpq_denref(x->q));
            else mpz_cdiv_q(mpq_numref(o->q), mpq_numref(x->q), mpq_denref(x->q));
            mpz_set_ui(mpq_denref(o->q), 1);
            set_exact(o);
            return;
        }
        if (x->vok && fabsl(v) < 1e15L) {
            long double lo = f == F_FLOOR ? floorl(v - e) : ceill(v - e);
            long double hi = f == F_FLOOR ? floorl(v + e) : ceill(v + e);
            if (lo != hi) return;
            mpq_set_d(o->q, (double)lo);
            set_exact(o);
        }
        return;
    case F_BINOM: {
        mval k; mval_init(&k);
        meval(c, extra, pt, &k);
        if (x->exact && k.exact && mpz_cmp_ui(mpq_denref(x->q), 1) == 0 && mpz_cmp_ui(mpq_denref(k.q), 1) == 0 &&
            mpz_sgn(mpq_numref(x->q)) >= 0 && mpz_cmp_ui(mpq_numref(x->q), MATH_MAX_BITS) <= 0) {
            unsigned long nn = mpz_get_ui(mpq_numref(x->q));
            if (mpz_sgn(mpq_numref(k.q)) < 0 || mpz_cmp_ui(mpq_numref(k.q), nn) > 0) mpq_set_ui(o->q, 0, 1);
            else { mpz_bin_uiui(mpq_numref(o->q), nn, mpz_get_ui(mpq_numref(k.q))); mpz_set_ui(mpq_denref(o->q), 1); }
            set_exact(o);
        }
        mval_clear(&k);
        return;
    }
    case F_LOG:
        if (extra >= 0) {
            mval b; mval_init(&b);
            meval(c, extra, pt, &b);
            if (x->exact && b.exact && exact_int_log(o->q, x->q, b.q)) { set_exact(o); mval_clear(&b); return; }
            if (x->vok && b.vok && v - e > 0 && b.v - b.e > 0) {
                long double lx = logl(v), lb = logl(b.v);
                long double elx = e / (v - e) + 2 * EPS * fabsl(lx), elb = b.e / (b.v - b.e) + 2 * EPS * fabsl(lb);
                if (fabsl(lb) > elb) {
                    o->v = lx / lb;
                    o->e = (elx + fabsl(o->v) * elb) / (fabsl(lb) - elb) + EPS * fabsl(o->v);
                    o->vok = 1;
                    if (b.dec > o->dec) o->dec = b.dec;
                }
            }
            mval_clear(&b);
            return;
        }
        /* \log without a base is the natural log, as SymPy reads it */
        /* fall through */
    case F_LN:
        if (x->exact && mpq_cmp_ui(x->q, 1, 1) == 0) { mpq_set_ui(o->q, 0, 1); set_exact(o); return; }
        if (!x->vok || v - e <= 0) return;
        o->v = logl(v); o->e = 1.01L * e / (v - e) + 2 * EPS * fabsl(o->v); o->vok = 1;
        return;
    case F_EXP:
        if (x->exact && mpq_sgn(x->q) == 0) { mpq_set_ui(o->q, 1, 1); set_exact(o); return; }
        if (!x->vok || v > 11000 || v < -11000) return;
        o->v = expl(v); o->e = o->v * (1.01L * e + 2 * EPS); o->vok = 1;
        return;
    default: break;
    }
    /* trigonometric and hyperbolic: numeric, error = |f'| * e + rounding */
    if (x->exact && mpq_sgn(x->q) == 0) {
        int one = f == F_COS || f == F_COSH || f == F_SEC;
        int zero = f == F_SIN || f == F_TAN || f == F_ASIN || f == F_ATAN || f == F_SINH || f == F_TANH;
        if (one || zero) { mpq_set_ui(o->q, one ? 1 : 0, 1); set_exact(o); return; }
    }
    if (!x->vok) return;
    switch (f) {
    case F_SIN: r = sinl(v); d = 1; break;
    case F_COS: r = cosl(v); d = 1; break;
    case F_TAN: { long double cv = cosl(v); if (fabsl(cv) <= 2 * e + EPS) return; r = tanl(v); d = 1 + r * r; break; }
    case F_SEC: { long double cv = cosl(v); if (fabsl(cv) <= 2 * e + EPS) return; r = 1 / cv; d = fabsl(r * tanl(v)) + 1; break; }
    case F_CSC: { long double sv = sinl(v); if (fabsl(sv) <= 2 * e + EPS) return; r = 1 / sv; d = fabsl(r / tanl(v)) + 1; break; }
    case F_COT: { long double sv = sinl(v); if (fabsl(sv) <= 2 * e + EPS) return; r = cosl(v) / sv; d = 1 + r * r; break; }
    case F_ASIN: case F_ACOS:
        if (fabsl(v) + e >= 1) return;
        r = f == F_ASIN ? asinl(v) : acosl(v);
        d = 1 / sqrtl(1 - (fabsl(v) + e) * (fabsl(v) + e));
        break;
    case F_ATAN: r = atanl(v); d = 1; break;
    case F_SINH: case F_COSH:
        if (fabsl(v) > 11000) return;
        r = f == F_SINH ? sinhl(v) : coshl(v);
        d = coshl(fabsl(v) + e);
        break;
    case F_TANH: r = tanhl(v); d = 1; break;
    default: return;
    }
    o->v = r;
    o->e = 1.02L * d * e + 4 * EPS * fabsl(r);
    o->vok = 1;
}

/* ---- the dispatcher ---- */

static void eval_node(mctx *c, int id, int pt, mval *o) {
    mnode m = c->nodes[id];
    switch (m.kind) {
    case N_NUM: {
        const char *s = c->pool + m.s;
        o->dec = m.dec;
        if (mq_from_dec(o->q, s, m.n)) { set_exact(o); return; }
        char *tmp = malloc((size_t)m.n + 1);
        if (!tmp) { c->oom = 1; return; }
        memcpy(tmp, s, (size_t)m.n); tmp[m.n] = 0;
        errno = 0;
        long double v = strtold(tmp, NULL);
        int bad = errno == ERANGE;
        free(tmp);
        if (bad || !isfinite(v) || v == 0) return;
        o->v = v; o->e = 2 * EPS * fabsl(v); o->vok = 1;
        return;
    }
    case N_QVAL: {
        char tmp[256];
        if (m.n >= (int)sizeof tmp) {
            char *big = malloc((size_t)m.n + 1);
            if (!big) { c->oom = 1; return; }
            memcpy(big, c->pool + m.s, (size_t)m.n); big[m.n] = 0;
            int bad = mpq_set_str(o->q, big, 10);
            free(big);
            if (bad) return;
        } else {
            memcpy(tmp, c->pool + m.s, (size_t)m.n); tmp[m.n] = 0;
            if (mpq_set_str(o->q, tmp, 10)) return;
        }
        mpq_canonicalize(o->q);
        set_exact(o);
        return;
    }
    case N_SYM: {
        int k = var_index(c, c->pool + m.s, m.n);
        if (k < 0) return;
        mpq_set(o->q, c->vq[pt][k]);
        set_exact(o);
        return;
    }
    case N_CONST:
        if (m.flag == C_INF) return;
        o->v = m.flag == C_PI ? PI_L : E_L;
        o->e = 2 * EPS * o->v; o->vok = 1;
        return;
    case N_ADD: case N_SUB: case N_MUL: case N_DIV: case N_POW: {
        mval x, y; mval_init(&x); mval_init(&y);
        meval(c, m.a, pt, &x);
        if (x.ok) meval(c, m.b, pt, &y);
        if (x.ok && y.ok) {
            if (m.kind == N_POW) pow_eval(&x, &y, o);
            else mval_binop(m.kind, &x, &y, o);
        }
        mval_clear(&x); mval_clear(&y);
        return;
    }
    case N_NEG: {
        meval(c, m.a, pt, o);
        if (o->exact) mpq_neg(o->q, o->q);
        o->v = -o->v;
        return;
    }
    case N_PCT: {
        mval x, y; mval_init(&x); mval_init(&y);
        meval(c, m.a, pt, &x);
        mpq_set_ui(y.q, 100, 1); y.exact = 1; y.vok = 1; y.v = 100; y.e = 0;
        if (x.ok) mval_binop(N_DIV, &x, &y, o);
        mval_clear(&x); mval_clear(&y);
        return;
    }
    case N_FACT: {
        mval x; mval_init(&x);
        meval(c, m.a, pt, &x);
        if (x.exact && mpz_cmp_ui(mpq_denref(x.q), 1) == 0 && mpz_sgn(mpq_numref(x.q)) >= 0 &&
            mpz_cmp_ui(mpq_numref(x.q), MATH_MAX_FACT) <= 0) {
            mpz_fac_ui(mpq_numref(o->q), mpz_get_ui(mpq_numref(x.q)));
            mpz_set_ui(mpq_denref(o->q), 1);
            set_exact(o);
        }
        o->dec = x.dec;
        mval_clear(&x);
        return;
    }
    case N_FUNC: {
        mval x; mval_init(&x);
        meval(c, m.a, pt, &x);
        if (x.ok) func_eval(c, m.flag, &x, m.b, pt, o);
        mval_clear(&x);
        return;
    }
    default: return;   /* not a scalar */
    }
}

void meval(mctx *c, int id, int pt, mval *o) {
    o->ok = o->exact = o->vok = 0; o->dec = 0; o->v = o->e = 0;
    if (id < 0 || c->depth > 2 * MATH_MAX_DEPTH || !mctx_spend(c, 1)) return;
    c->depth++;
    eval_node(c, id, pt, o);
    c->depth--;
    if (o->vok && (!isfinite(o->v) || !isfinite(o->e) || o->e > 1e300L * (1 + fabsl(o->v)))) o->vok = 0;
    if (o->exact) mctx_spend(c, qbits(o->q) / 64);
    o->ok = o->exact || o->vok;
}
