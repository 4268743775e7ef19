/* test_kernels: (1) every naive double-precision backward agrees with central finite
 * differences of its forward; (2) every fast kernel agrees with its naive float
 * reference on odd shapes and several packed sequences. */
#include <stdint.h>
#include "check.h"
#include "kernels/kernels.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* every test allocation goes through track(); free_all() releases them */
static void *allocs[1024];
static int n_allocs;
static void *track(void *p) { if (n_allocs < 1024) allocs[n_allocs++] = p; return p; }
static void free_all(void) { while (n_allocs) free(allocs[--n_allocs]); }

static uint64_t rs = 88172645463325252ull;
static double urand(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (rs >> 11) * (1.0 / 9007199254740992.0); }
static double nrand(void) { return (urand() + urand() + urand() + urand() - 2.0) * 1.7; }
static double *dvec(size_t n) { double *p = track(malloc(n * sizeof *p)); for (size_t i = 0; i < n; i++) p[i] = nrand(); return p; }
static double *dzeros(size_t n) { return track(calloc(n, sizeof(double))); }
static float *fzeros(size_t n) { return track(calloc(n, sizeof(float))); }
static double dot(const double *a, const double *b, size_t n) { double s = 0; for (size_t i = 0; i < n; i++) s += a[i] * b[i]; return s; }

/* finite differences: L(x) = <f(x), r>; compares dL/dx[i] with analytic g[i] */
typedef void (*fwd_fn)(void *ctx, double *out);
static void fd_check(const char *what, fwd_fn f, void *ctx, double *x, size_t nx, const double *g, const double *r, size_t nout) {
    double *out = malloc(nout * sizeof *out), h = 1e-5, maxerr = 0;
    int bad = 0;
    size_t step = nx > 400 ? nx / 200 : 1;
    for (size_t i = 0; i < nx; i += step) {
        double x0 = x[i];
        x[i] = x0 + h; f(ctx, out); double lp = dot(out, r, nout);
        x[i] = x0 - h; f(ctx, out); double lm = dot(out, r, nout);
        x[i] = x0;
        double num = (lp - lm) / (2 * h), e = fabs(num - g[i]);
        if (e > maxerr) maxerr = e;
        if (e > 1e-6 + 1e-5 * fabs(num)) { if (bad < 3) fprintf(stderr, "  %s[%zu]: analytic %.10g numeric %.10g\n", what, i, g[i], num); bad++; }
    }
    CHECK(bad == 0, "%s: %d coordinates disagree with finite differences (max err %.3g)", what, bad, maxerr);
    free(out);
}

/* ---- gradient checks in double ---- */
enum { GN = 7, GC = 12, GIC = 10, GOC = 6, GF = 9, GV = 11, GH = 4, GKV = 2, GD = 6 };
static int g_seq[] = {0, 3, 7}; /* B = 2, N = 7 */

struct rms_ctx { double *x, *w; };
static void rms_f(void *c, double *out) { struct rms_ctx *k = c; double rstd[GN]; rmsnorm_forward_refd(out, rstd, k->x, k->w, GN, GC, 1e-5f); }
static void test_grad_rmsnorm(void) {
    struct rms_ctx k = {dvec(GN * GC), dvec(GC)};
    double *r = dvec(GN * GC), *out = dzeros(GN * GC), rstd[GN], *dx = dzeros(GN * GC), *dw = dzeros(GC);
    rmsnorm_forward_refd(out, rstd, k.x, k.w, GN, GC, 1e-5f);
    rmsnorm_backward_refd(dx, dw, r, k.x, k.w, rstd, GN, GC);
    fd_check("rmsnorm dx", rms_f, &k, k.x, GN * GC, dx, r, GN * GC);
    fd_check("rmsnorm dw", rms_f, &k, k.w, GC, dw, r, GN * GC);
}

struct mm_ctx { double *x, *w, *b; };
static void mm_f(void *c, double *out) { struct mm_ctx *k = c; matmul_forward_refd(out, k->x, k->w, k->b, GN, GIC, GOC); }
static void test_grad_matmul(void) {
    struct mm_ctx k = {dvec(GN * GIC), dvec(GOC * GIC), dvec(GOC)};
    double *r = dvec(GN * GOC), *dx = dzeros(GN * GIC), *dw = dzeros(GOC * GIC), *db = dzeros(GOC);
    matmul_backward_refd(dx, dw, db, r, k.x, k.w, GN, GIC, GOC);
    fd_check("matmul dx", mm_f, &k, k.x, GN * GIC, dx, r, GN * GOC);
    fd_check("matmul dw", mm_f, &k, k.w, GOC * GIC, dw, r, GN * GOC);
    fd_check("matmul db", mm_f, &k, k.b, GOC, db, r, GN * GOC);
}

static float rc[32 * GD / 2], rsn[32 * GD / 2];
static int g_pos[GN] = {0, 1, 2, 0, 1, 2, 3};
struct rope_ctx { double *x; };
static void rope_f(void *c, double *out) { struct rope_ctx *k = c; memcpy(out, k->x, sizeof(double) * GN * GH * GD); rope_forward_refd(out, g_pos, rc, rsn, GN, GH, GD); }
static void test_grad_rope(void) {
    rope_tables(rc, rsn, 32, GD, 10000.0f, 0, 0, 0, 0, 0);
    struct rope_ctx k = {dvec(GN * GH * GD)};
    double *r = dvec(GN * GH * GD), *dx = track(malloc(sizeof(double) * GN * GH * GD));
    memcpy(dx, r, sizeof(double) * GN * GH * GD);
    rope_backward_refd(dx, g_pos, rc, rsn, GN, GH, GD);
    fd_check("rope dx", rope_f, &k, k.x, GN * GH * GD, dx, r, GN * GH * GD);
}

struct att_ctx { double *q, *k, *v; };
static void att_f(void *c, double *out) { struct att_ctx *a = c; double lse[GN * GH]; attention_forward_refd(out, lse, a->q, a->k, a->v, g_seq, 2, GH, GKV, GD); }
static void test_grad_attention(void) {
    struct att_ctx a = {dvec(GN * GH * GD), dvec(GN * GKV * GD), dvec(GN * GKV * GD)};
    double *r = dvec(GN * GH * GD), *out = dzeros(GN * GH * GD), lse[GN * GH];
    double *dq = dzeros(GN * GH * GD), *dk = dzeros(GN * GKV * GD), *dv = dzeros(GN * GKV * GD);
    attention_forward_refd(out, lse, a.q, a.k, a.v, g_seq, 2, GH, GKV, GD);
    attention_backward_refd(dq, dk, dv, r, out, lse, a.q, a.k, a.v, g_seq, 2, GH, GKV, GD);
    fd_check("attention dq", att_f, &a, a.q, GN * GH * GD, dq, r, GN * GH * GD);
    fd_check("attention dk", att_f, &a, a.k, GN * GKV * GD, dk, r, GN * GH * GD);
    fd_check("attention dv", att_f, &a, a.v, GN * GKV * GD, dv, r, GN * GH * GD);
}

struct sw_ctx { double *g, *u; };
static void sw_f(void *c, double *out) { struct sw_ctx *k = c; swiglu_forward_refd(out, k->g, k->u, GN, GF); }
static void test_grad_swiglu(void) {
    struct sw_ctx k = {dvec(GN * GF), dvec(GN * GF)};
    double *r = dvec(GN * GF), *dg = dzeros(GN * GF), *du = dzeros(GN * GF);
    swiglu_backward_refd(dg, du, r, k.g, k.u, GN, GF);
    fd_check("swiglu dgate", sw_f, &k, k.g, GN * GF, dg, r, GN * GF);
    fd_check("swiglu dup", sw_f, &k, k.u, GN * GF, du, r, GN * GF);
}

static int g_tgt[GN] = {3, 0, -1, 10, 5, 7, -1};
struct lg_ctx { double *z; };
/* output vector = [logp (N), entropy (N)] */
static void lg_f(void *c, double *out) { struct lg_ctx *k = c; double lse[GN]; logits_stats_refd(lse, out, out + GN, k->z, g_tgt, GN, GV); }
static void test_grad_logits(void) {
    struct lg_ctx k = {dvec(GN * GV)};
    double *r = dvec(2 * GN), out[2 * GN], lse[GN], *dz = dzeros(GN * GV);
    logits_stats_refd(lse, out, out + GN, k.z, g_tgt, GN, GV);
    logits_backward_refd(dz, k.z, lse, out + GN, g_tgt, r, r + GN, GN, GV);
    fd_check("logits dz", lg_f, &k, k.z, GN * GV, dz, r, 2 * GN);
}

struct emb_ctx { double *w; int *tok; };
static void emb_f(void *c, double *out) { struct emb_ctx *k = c; embedding_forward_refd(out, k->tok, k->w, GN, GC); }
static void test_grad_embedding(void) {
    int tok[GN] = {1, 4, 1, 0, 9, 4, 4};
    struct emb_ctx k = {dvec(GV * GC), tok};
    double *r = dvec(GN * GC), *dw = dzeros(GV * GC);
    embedding_backward_refd(dw, r, tok, GN, GC);
    fd_check("embedding dw", emb_f, &k, k.w, GV * GC, dw, r, GN * GC);
}

/* ---- fast kernels against the float reference ---- */
static float *frand(size_t n) { float *p = track(malloc(n * sizeof *p)); for (size_t i = 0; i < n; i++) p[i] = (float)nrand(); return p; }
#define TOL(x, r) check_arrays(x, r##_fast, r##_ref, n_##r, 1e-5, 1e-4)

static void test_fast_vs_ref(void) {
    /* shapes that are not multiples of any vector width; 3 sequences incl. length 1 */
    enum { N = 45, C = 77, IC = 77, OC = 131, F = 150, V = 1003, H = 6, KV = 2, D = 10 };
    int seq[] = {0, 20, 21, 45}, B = 3, pos[N], tok[N], tgt[N];
    for (int b = 0; b < B; b++) for (int t = seq[b]; t < seq[b + 1]; t++) pos[t] = t - seq[b];
    for (int n = 0; n < N; n++) { tok[n] = (int)(urand() * V); tgt[n] = n % 7 == 3 ? -1 : (int)(urand() * V); }
    float *x = frand(N * C), *w = frand(C), *dy = frand(N * C);
    /* rmsnorm */
    float *o1 = fzeros(N * C), *o2 = fzeros(N * C), r1[N], r2[N];
    rmsnorm_forward(o1, r1, x, w, N, C, 1e-5f); rmsnorm_forward_ref(o2, r2, x, w, N, C, 1e-5f);
    check_arrays("rmsnorm out", o1, o2, N * C, 1e-5, 1e-4);
    float *dx1 = fzeros(N * C), *dx2 = fzeros(N * C), *dw1 = fzeros(C), *dw2 = fzeros(C);
    rmsnorm_backward(dx1, dw1, dy, x, w, r1, N, C); rmsnorm_backward_ref(dx2, dw2, dy, x, w, r2, N, C);
    check_arrays("rmsnorm dx", dx1, dx2, N * C, 1e-5, 1e-4);
    check_arrays("rmsnorm dw", dw1, dw2, C, 1e-4, 1e-4);
    /* matmul */
    float *W = frand(OC * IC), *bias = frand(OC), *mo1 = fzeros(N * OC), *mo2 = fzeros(N * OC), *mdy = frand(N * OC);
    matmul_forward(mo1, x, W, bias, N, IC, OC); matmul_forward_ref(mo2, x, W, bias, N, IC, OC);
    check_arrays("matmul out", mo1, mo2, N * OC, 1e-4, 1e-4);
    float *mdx1 = fzeros(N * IC), *mdx2 = fzeros(N * IC), *mdw1 = fzeros(OC * IC), *mdw2 = fzeros(OC * IC), *db1 = fzeros(OC), *db2 = fzeros(OC);
    matmul_backward(mdx1, mdw1, db1, mdy, x, W, N, IC, OC); matmul_backward_ref(mdx2, mdw2, db2, mdy, x, W, N, IC, OC);
    check_arrays("matmul dx", mdx1, mdx2, N * IC, 1e-4, 1e-4);
    check_arrays("matmul dw", mdw1, mdw2, OC * IC, 1e-4, 1e-4);
    check_arrays("matmul db", db1, db2, OC, 1e-4, 1e-4);
    /* rope */
    static float cs[64 * D / 2], sn[64 * D / 2];
    rope_tables(cs, sn, 64, D, 500000.0f, 1, 4.0f, 1.0f, 4.0f, 16);
    float *qa = frand(N * H * D), *qb = track(malloc(sizeof(float) * N * H * D));
    memcpy(qb, qa, sizeof(float) * N * H * D);
    rope_forward(qa, pos, cs, sn, N, H, D); rope_forward_ref(qb, pos, cs, sn, N, H, D);
    check_arrays("rope fwd", qa, qb, N * H * D, 1e-6, 1e-5);
    rope_backward(qa, pos, cs, sn, N, H, D); rope_backward_ref(qb, pos, cs, sn, N, H, D);
    check_arrays("rope bwd", qa, qb, N * H * D, 1e-6, 1e-5);
    /* attention */
    float *q = frand(N * H * D), *k = frand(N * KV * D), *v = frand(N * KV * D), *ady = frand(N * H * D);
    float *ao1 = fzeros(N * H * D), *ao2 = fzeros(N * H * D), *l1 = fzeros(N * H), *l2 = fzeros(N * H);
    attention_forward(ao1, l1, q, k, v, seq, B, H, KV, D); attention_forward_ref(ao2, l2, q, k, v, seq, B, H, KV, D);
    check_arrays("attention out", ao1, ao2, N * H * D, 1e-5, 1e-4);
    check_arrays("attention lse", l1, l2, N * H, 1e-5, 1e-5);
    float *dq1 = fzeros(N * H * D), *dq2 = fzeros(N * H * D), *dk1 = fzeros(N * KV * D), *dk2 = fzeros(N * KV * D), *dv1 = fzeros(N * KV * D), *dv2 = fzeros(N * KV * D);
    attention_backward(dq1, dk1, dv1, ady, ao1, l1, q, k, v, seq, B, H, KV, D);
    attention_backward_ref(dq2, dk2, dv2, ady, ao2, l2, q, k, v, seq, B, H, KV, D);
    check_arrays("attention dq", dq1, dq2, N * H * D, 1e-4, 1e-4);
    check_arrays("attention dk", dk1, dk2, N * KV * D, 1e-4, 1e-4);
    check_arrays("attention dv", dv1, dv2, N * KV * D, 1e-4, 1e-4);
    /* swiglu */
    float *g = frand(N * F), *u = frand(N * F), *sdy = frand(N * F), *so1 = fzeros(N * F), *so2 = fzeros(N * F);
    for (int i = 0; i < 10; i++) g[i] = (float)(i - 5) * 20; /* saturating values */
    swiglu_forward(so1, g, u, N, F); swiglu_forward_ref(so2, g, u, N, F);
    check_arrays("swiglu out", so1, so2, N * F, 1e-6, 1e-5);
    float *dg1 = fzeros(N * F), *dg2 = fzeros(N * F), *du1 = fzeros(N * F), *du2 = fzeros(N * F);
    swiglu_backward(dg1, du1, sdy, g, u, N, F); swiglu_backward_ref(dg2, du2, sdy, g, u, N, F);
    check_arrays("swiglu dgate", dg1, dg2, N * F, 1e-6, 1e-5);
    check_arrays("swiglu dup", du1, du2, N * F, 1e-6, 1e-5);
    /* logits */
    float *z = frand(N * V), lse1[N], lse2[N], lp1[N], lp2[N], en1[N], en2[N], c1[N], c2[N];
    for (int i = 0; i < N * V; i++) z[i] *= 3;
    for (int n = 0; n < N; n++) { c1[n] = (float)nrand(); c2[n] = (float)nrand(); }
    logits_stats(lse1, lp1, en1, z, tgt, N, V); logits_stats_ref(lse2, lp2, en2, z, tgt, N, V);
    check_arrays("logits lse", lse1, lse2, N, 1e-5, 1e-6);
    check_arrays("logits logp", lp1, lp2, N, 1e-5, 1e-5);
    check_arrays("logits entropy", en1, en2, N, 1e-5, 1e-5);
    float *dz1 = fzeros(N * V), *dz2 = fzeros(N * V);
    logits_backward(dz1, z, lse1, en1, tgt, c1, c2, N, V); logits_backward_ref(dz2, z, lse2, en2, tgt, c1, c2, N, V);
    check_arrays("logits dz", dz1, dz2, N * V, 1e-6, 1e-4);
    /* embedding */
    float *wte = frand(V * C), *eo1 = fzeros(N * C), *eo2 = fzeros(N * C), *de1 = fzeros(V * C), *de2 = fzeros(V * C);
    embedding_forward(eo1, tok, wte, N, C); embedding_forward_ref(eo2, tok, wte, N, C);
    check_arrays("embedding out", eo1, eo2, N * C, 0, 0);
    embedding_backward(de1, dy, tok, N, C); embedding_backward_ref(de2, dy, tok, N, C);
    check_arrays("embedding dw", de1, de2, V * C, 1e-6, 1e-6);
}

/* the fast kernels reduce in a fixed order: same bits with 1 and 2 threads */
static void test_thread_invariance(void) {
#ifdef _OPENMP
    enum { N = 64, C = 96, H = 4, KV = 2, D = 16 };
    int seq[] = {0, 30, 64};
    float *x = frand(N * C), *w = frand(C), *dy = frand(N * C), r[N];
    float *q = frand(N * H * D), *k = frand(N * KV * D), *v = frand(N * KV * D), *g = frand(N * H * D);
    float *res[2][4];
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        float *o = fzeros(N * C), *dx = fzeros(N * C), *dw = fzeros(C), *ao = fzeros(N * H * D), l[N * H];
        float *dq = fzeros(N * H * D), *dk = fzeros(N * KV * D), *dv = fzeros(N * KV * D);
        rmsnorm_forward(o, r, x, w, N, C, 1e-5f);
        rmsnorm_backward(dx, dw, dy, x, w, r, N, C);
        attention_forward(ao, l, q, k, v, seq, 2, H, KV, D);
        attention_backward(dq, dk, dv, g, ao, l, q, k, v, seq, 2, H, KV, D);
        res[t][0] = dx, res[t][1] = dw, res[t][2] = dq, res[t][3] = dk;
    }
    CHECK(!memcmp(res[0][0], res[1][0], N * C * 4) && !memcmp(res[0][1], res[1][1], C * 4), "rmsnorm backward differs between 1 and 2 threads");
    CHECK(!memcmp(res[0][2], res[1][2], N * H * D * 4) && !memcmp(res[0][3], res[1][3], N * KV * D * 4), "attention backward differs between 1 and 2 threads");
    omp_set_num_threads(2);
#endif
}

int main(void) {
    RUN(test_grad_rmsnorm);
    RUN(test_grad_matmul);
    RUN(test_grad_rope);
    RUN(test_grad_attention);
    RUN(test_grad_swiglu);
    RUN(test_grad_logits);
    RUN(test_grad_embedding);
    RUN(test_fast_vs_ref);
    RUN(test_thread_invariance);
    free_all();
    return check_finish("test_kernels");
}
