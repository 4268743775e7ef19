/* math.c: the math verifier's public entry points (math_verify, math_extract,
 * math_normalize), its parameters and the per-call context (node arena, string pool,
 * work budget). The pipeline: window -> extract -> clean -> parse -> compare. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "rewards/math_int.h"

#define ARENA_MAX_NODES (1 << 20)
#define ARENA_MAX_POOL  (16 << 20)

math_verify_params math_verify_default_params(void) {
    math_verify_params p;
    memset(&p, 0, sizeof p);
    p.mode = MATH_MODE_LENIENT;
    p.rel_tol = 1e-6;
    p.float_digits = 6;
    p.max_len = (size_t)1 << 20;
    p.max_answer = 4096;
    p.work_budget = 2000000;
    p.strip_think = 1;
    p.allow_set_relation = 0;
    p.percent_strict = 0;
    strcpy(p.mcq_letters, "ABCD");
    math_params_resolve(&p, &p);
    return p;
}

void math_params_resolve(const math_verify_params *in, math_verify_params *out) {
    static const unsigned char orders[][MATH_SRC_COUNT] = {
        [MATH_MODE_LENIENT] = { MATH_SRC_BOXED, MATH_SRC_FINAL, MATH_SRC_HASH, MATH_SRC_ANSWER,
                                MATH_SRC_LATEX, MATH_SRC_NUMBER, 0 },
        [MATH_MODE_BOXED_ONLY] = { MATH_SRC_BOXED, 0 },
        [MATH_MODE_LATEX] = { MATH_SRC_FINAL, MATH_SRC_BOXED, MATH_SRC_ANSWER, MATH_SRC_LATEX, 0 },
        [MATH_MODE_EXPR] = { MATH_SRC_FINAL, MATH_SRC_HASH, MATH_SRC_ANSWER, MATH_SRC_NUMBER, 0 },
        [MATH_MODE_MCQ] = { MATH_SRC_MCQ, 0 },
    };
    if (out != in) *out = *in;
    if (in->mode >= MATH_MODE_LENIENT && in->mode <= MATH_MODE_MCQ)
        memcpy(out->order, orders[in->mode], MATH_SRC_COUNT);
    out->order[MATH_SRC_COUNT - 1] = MATH_SRC_END;
    for (int k = 0; k < MATH_SRC_COUNT; k++)
        if (out->order[k] >= MATH_SRC_COUNT) out->order[k] = MATH_SRC_END;
    if (!out->max_len) out->max_len = (size_t)1 << 20;
    if (!out->max_answer || out->max_answer > ((size_t)1 << 16)) out->max_answer = out->max_answer ? (size_t)1 << 16 : 4096;
    if (out->work_budget <= 0) out->work_budget = 2000000;
    if (!(out->rel_tol >= 0 && out->rel_tol < 1)) out->rel_tol = 1e-6;
    out->mcq_letters[sizeof out->mcq_letters - 1] = 0;
    if (!out->mcq_letters[0]) strcpy(out->mcq_letters, "ABCD");
}

/* ---- context ---- */

int mctx_init(mctx *c, const math_verify_params *p) {
    memset(c, 0, sizeof *c);
    c->p = p;
    c->budget = p->work_budget;
    for (int pt = 0; pt < MATH_N_POINTS; pt++)
        for (int k = 0; k < MATH_MAX_VARS; k++) mpq_init(c->vq[pt][k]);
    c->vq_init = 1;
    return RLVR_OK;
}

void mctx_free(mctx *c) {
    if (!c) return;
    free(c->nodes); free(c->kids); free(c->pool);
    if (c->vq_init)
        for (int pt = 0; pt < MATH_N_POINTS; pt++)
            for (int k = 0; k < MATH_MAX_VARS; k++) mpq_clear(c->vq[pt][k]);
    memset(c, 0, sizeof *c);
}

int mctx_spend(mctx *c, long units) {
    if (c->budget_hit) return 0;
    c->budget -= units;
    if (c->budget < 0) { c->budget_hit = 1; return 0; }
    return 1;
}

static int grow(void **buf, int *cap, int need, size_t elem, int max) {
    if (need <= *cap) return 1;
    if (need > max) return 0;
    int nc = *cap ? *cap : 256;
    while (nc < need) nc = nc > max / 2 ? max : nc * 2;
    void *nb = realloc(*buf, (size_t)nc * elem);
    if (!nb) return 0;
    *buf = nb; *cap = nc;
    return 1;
}

int mctx_node(mctx *c, int kind, int flag, int a, int b) {
    if (c->oom) return -1;
    if (!grow((void **)&c->nodes, &c->cap_nodes, c->n_nodes + 1, sizeof *c->nodes, ARENA_MAX_NODES)) {
        c->oom = 1; return -1;
    }
    mnode *m = &c->nodes[c->n_nodes];
    memset(m, 0, sizeof *m);
    m->kind = (unsigned char)kind; m->flag = (unsigned char)flag; m->a = a; m->b = b;
    return c->n_nodes++;
}

int mctx_pool(mctx *c, const char *s, int n) {
    if (c->oom || n < 0) return -1;
    /* s may point into the pool itself, which grow() can move */
    long alias = (c->pool && s >= c->pool && s < c->pool + c->cap_pool) ? (long)(s - c->pool) : -1;
    if (!grow((void **)&c->pool, &c->cap_pool, c->n_pool + n + 1, 1, ARENA_MAX_POOL)) { c->oom = 1; return -1; }
    if (alias >= 0) s = c->pool + alias;
    int off = c->n_pool;
    if (n) memcpy(c->pool + off, s, (size_t)n);
    c->pool[off + n] = 0;
    c->n_pool += n + 1;
    return off;
}

int mctx_kids(mctx *c, const int *k, int n) {
    if (c->oom || n < 0) return -1;
    if (!grow((void **)&c->kids, &c->cap_kids, c->n_kids + n, sizeof *c->kids, ARENA_MAX_NODES)) {
        c->oom = 1; return -1;
    }
    int off = c->n_kids;
    if (n) memcpy(c->kids + off, k, (size_t)n * sizeof *k);
    c->n_kids += n;
    return off;
}

/* ---- helpers ---- */

/* whitespace removed, lower case: the last-resort comparison and key */
static size_t squash(const char *s, size_t n, char *o, size_t cap) {
    size_t w = 0;
    for (size_t i = 0; i < n && w + 1 < cap; i++)
        if (!isspace((unsigned char)s[i])) o[w++] = (char)tolower((unsigned char)s[i]);
    if (cap) o[w] = 0;
    return w;
}

static int squash_eq(const char *a, size_t an, const char *b, size_t bn) {
    char *x = malloc(an + 1), *y = malloc(bn + 1);
    int eq = 0;
    if (x && y) {
        size_t xl = squash(a, an, x, an + 1), yl = squash(b, bn, y, bn + 1);
        eq = xl == yl && xl && memcmp(x, y, xl) == 0;
    }
    free(x); free(y);
    return eq;
}

/* the choice letter of an MCQ gold: "C", "(C)", "\text{C}", "C. blue" */
static int gold_letter(const char *s, size_t n, const char *letters) {
    for (size_t i = 0; i < n; i++) {
        char ch = (char)toupper((unsigned char)s[i]);
        if (!isalpha((unsigned char)s[i])) continue;
        size_t j = i;
        while (j < n && isalpha((unsigned char)s[j])) j++;
        if (j - i == 1 && strchr(letters, ch)) return ch;
        if (j - i == 4 && memcmp(s + i, "text", 4) == 0) { i = j; continue; }
        return 0;
    }
    return 0;
}

static void copy_out(char *dst, size_t cap, const char *s, size_t n) {
    if (!cap) return;
    size_t m = n < cap - 1 ? n : cap - 1;
    memcpy(dst, s, m); dst[m] = 0;
}

/* ---- API ---- */

int math_verify(const math_verify_params *pin, const char *completion, size_t n,
                const char *gold, size_t gold_n, math_verdict *out, rlvr_err *err) {
    if (!pin || !out) return errf(err, RLVR_EARG, "math_verify: NULL %s", pin ? "out" : "params");
    if ((!completion && n) || (!gold && gold_n))
        return errf(err, RLVR_EARG, "math_verify: NULL text with length > 0");
    memset(out, 0, sizeof *out);
    math_verify_params p;
    math_params_resolve(pin, &p);
    char *win = NULL, *gwin = NULL, *ans = NULL, *gans = NULL;
    size_t wn = 0, an = 0, gan = 0;
    int src = 0, gsrc = 0, rc = RLVR_OK;
    mctx c;
    mctx_init(&c, &p);

    rc = mext_window(&p, completion ? completion : "", n, &win, &wn);
    if (rc) goto done;
    if (win) rc = mext_find(&p, win, wn, 0, &ans, &an, &src);
    if (rc) goto done;
    if (gold_n > p.max_len) gold_n = p.max_len;
    gwin = malloc(5 * gold_n + 16);
    if (!gwin) { rc = RLVR_ENOMEM; goto done; }
    size_t gwn = mnorm_utf8(gold ? gold : "", gold_n, gwin);
    rc = mext_find(&p, gwin, gwn, 1, &gans, &gan, &gsrc);
    if (rc) goto done;
    if (!ans) goto done;
    out->extracted = 1;
    out->source = src;

    if (src == MATH_SRC_MCQ) {
        int gl = gans ? gold_letter(gans, gan, p.mcq_letters) : 0;
        out->gold_ok = gl != 0;
        out->correct = gl && toupper((unsigned char)ans[0]) == gl;
        copy_out(out->pred, sizeof out->pred, ans, an);
        goto done;
    }
    int gi = gans ? mparse(&c, gans, gan) : -1;
    int pi = mparse(&c, ans, an);
    out->gold_ok = gi >= 0;
    char key[sizeof out->pred];
    if (pi >= 0 && mkey(&c, pi, 1, key, sizeof key) >= 0) copy_out(out->pred, sizeof out->pred, key, strlen(key));
    else squash(ans, an, out->pred, sizeof out->pred);
    if (gi >= 0 && pi >= 0) out->correct = mcmp_answers(&c, gi, pi);
    else if (gans) out->correct = squash_eq(gans, gan, ans, an);
    if (c.oom) rc = RLVR_ENOMEM;
done:
    out->budget_hit = c.budget_hit;
    if (c.budget_hit) out->correct = 0;
    mctx_free(&c);
    free(win); free(gwin); free(ans); free(gans);
    if (rc == RLVR_ENOMEM) { out->correct = 0; return errf(err, rc, "math_verify: out of memory"); }
    return rc;
}

int math_extract(const math_verify_params *pin, const char *text, size_t n, char *buf, size_t cap) {
    if (!pin || (!text && n) || (!buf && cap)) return -1;
    math_verify_params p;
    math_params_resolve(pin, &p);
    char *win = NULL, *ans = NULL;
    size_t wn = 0, an = 0;
    int src = 0;
    if (mext_window(&p, text ? text : "", n, &win, &wn)) return -1;
    int rc = win ? mext_find(&p, win, wn, 0, &ans, &an, &src) : RLVR_OK;
    free(win);
    if (rc) return -1;
    if (cap) buf[0] = 0;
    if (!ans) return 0;
    copy_out(buf, cap, ans, an);
    free(ans);
    return (int)an;
}

int math_normalize(const char *ans, size_t n, char *buf, size_t cap) {
    if ((!ans && n) || (!buf && cap)) return -1;
    math_verify_params p = math_verify_default_params();
    if (n > p.max_answer * 4) n = p.max_answer * 4;
    char *a = malloc(5 * n + 16);
    if (!a) return -1;
    size_t an = mnorm_utf8(ans ? ans : "", n, a);
    an = mnorm_answer(a, an);
    mctx c;
    mctx_init(&c, &p);
    char *key = malloc(MATH_KEY_CAP);
    int len = -1;
    if (key) {
        int root = an ? mparse(&c, a, an) : -1;
        int kl = root >= 0 ? mkey(&c, root, 1, key, MATH_KEY_CAP) : -1;
        if (kl < 0) kl = (int)squash(a, an, key, MATH_KEY_CAP);
        if (cap) copy_out(buf, cap, key, (size_t)kl);
        len = kl;
    }
    if (c.oom) len = -1;
    mctx_free(&c);
    free(key); free(a);
    return len;
}
