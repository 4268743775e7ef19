/* sampler.c: next-token sampling. Truncation order follows the common convention
 * (HF / vLLM): temperature, then top-k, then top-p, then min-p. The untruncated path
 * (the RL default) is two passes over the logits, vectorised: a max, then exp and
 * block sums; the draw walks the block sums, then one block. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "kernels/vexp.h"
#include "rollout/sampler.h"

#define BLK 256 /* logits per block: float sums inside (vectorised), double across */

sampler_params sampler_default_params(void) {
    sampler_params p = {.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .min_p = 0.0f};
    return p;
}

int sampler_check(const sampler_params *p, rlvr_err *err) {
    if (!(p->temperature >= 0) || !isfinite(p->temperature)) return errf(err, RLVR_ECONFIG, "temperature must be >= 0, got %g", p->temperature);
    if (p->top_k < 0) return errf(err, RLVR_ECONFIG, "top_k must be >= 0, got %d", p->top_k);
    if (!(p->top_p > 0 && p->top_p <= 1)) return errf(err, RLVR_ECONFIG, "top_p must be in (0, 1], got %g", p->top_p);
    if (!(p->min_p >= 0 && p->min_p < 1)) return errf(err, RLVR_ECONFIG, "min_p must be in [0, 1), got %g", p->min_p);
    return RLVR_OK;
}

/* max of z[0..V) * inv_t, in 16 lanes (max is exact in any order) */
static float scaled_max(const float *z, int V, float inv_t) {
    float m[16];
    int full = V / 16 * 16;
    for (int l = 0; l < 16; l++) m[l] = -INFINITY;
    for (int j = 0; j < full; j += 16)
        for (int l = 0; l < 16; l++) m[l] = z[j + l] * inv_t > m[l] ? z[j + l] * inv_t : m[l];
    for (int j = full; j < V; j++) m[0] = z[j] * inv_t > m[0] ? z[j] * inv_t : m[0];
    float mx = m[0];
    for (int l = 1; l < 16; l++) mx = m[l] > mx ? m[l] : mx;
    return mx;
}

/* e[j] = exp(z[j]*inv_t - mx) (when e is not NULL) and the block sums of e in bsum
 * (when not NULL); returns the total. Each block sums in 16 float lanes, then a fixed
 * tree; blocks add up in double. */
static double exp_pass(const float *z, int V, float inv_t, float mx, float *e, double *bsum) {
    double s = 0;
    for (int j0 = 0, b = 0; j0 < V; j0 += BLK, b++) {
        int n = V - j0 < BLK ? V - j0 : BLK, full = n / 16 * 16;
        float a[16] = {0}, x[BLK];
        float *out = e ? e + j0 : x;
        for (int j = 0; j < n; j++) out[j] = vexpf(z[j0 + j] * inv_t - mx);
        for (int j = 0; j < full; j += 16)
            for (int l = 0; l < 16; l++) a[l] += out[j + l];
        for (int j = full; j < n; j++) a[j - full] += out[j];
        for (int w = 8; w > 0; w /= 2)
            for (int l = 0; l < w; l++) a[l] += a[l + w];
        if (bsum) bsum[b] = a[0];
        s += a[0];
    }
    return s;
}

static float log_softmax_at(const float *z, int V, int t) {
    float mx = scaled_max(z, V, 1.0f);
    double s = exp_pass(z, V, 1.0f, mx, NULL, NULL);
    return (float)((double)z[t] - mx - log(s));
}

/* sorts (prob, id) pairs by prob descending, id ascending: deterministic */
static int cmp_desc(const void *a, const void *b) {
    const float *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? 1 : -1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

sample_out sampler_sample(const sampler_params *p, const float *logits, int V, rng_t *rng, float *scratch) {
    sample_out o = {0, 0, 0};
    double u = rng_double(rng); /* always one draw */
    if (p->temperature == 0) {
        int best = 0;
        for (int j = 1; j < V; j++) if (logits[j] > logits[best]) best = j;
        o.token = best;
        o.logp = log_softmax_at(logits, V, best);
        o.logp_sample = 0;
        return o;
    }
    float inv_t = 1.0f / p->temperature, mx = scaled_max(logits, V, inv_t);
    int truncate = (p->top_k > 0 && p->top_k < V) || p->top_p < 1 || p->min_p > 0;
    if (!truncate) { /* plain tempered sampling: inverse CDF in id order, one exp pass */
        int nb = (V + BLK - 1) / BLK;
        double *bsum = nb > 1 ? (double *)(scratch + ((size_t)V + 1) / 2 * 2) : NULL; /* V + 1 + 2 nb <= 2 V floats */
        double s = exp_pass(logits, V, inv_t, mx, scratch, bsum);
        double target = u * s, acc = 0;
        int b = 0, tok = V - 1;
        while (bsum && b < nb - 1 && acc + bsum[b] <= target) acc += bsum[b++]; /* the block holding the draw */
        for (int j = b * BLK; j < V; j++) {
            acc += scratch[j];
            if (acc > target) { tok = j; break; }
        }
        o.token = tok;
        o.logp_sample = (float)((double)logits[tok] * inv_t - mx - log(s));
        o.logp = p->temperature == 1.0f ? o.logp_sample : log_softmax_at(logits, V, tok);
        return o;
    }
    float *pairs = scratch; /* (prob, id) */
    double s = 0;
    for (int j = 0; j < V; j++) {
        float e = (float)exp((double)logits[j] * inv_t - mx);
        pairs[2 * j] = e, pairs[2 * j + 1] = (float)j;
        s += e;
    }
    qsort(pairs, V, 2 * sizeof(float), cmp_desc);
    int keep = V;
    if (p->top_k > 0 && p->top_k < keep) keep = p->top_k;
    if (p->top_p < 1) {
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += pairs[2 * i] / s;
            if (acc >= p->top_p) { keep = i + 1; break; }
        }
    }
    if (p->min_p > 0) {
        float thr = p->min_p * pairs[0];
        int k = 1;
        while (k < keep && pairs[2 * k] >= thr) k++;
        keep = k;
    }
    double ks = 0;
    for (int i = 0; i < keep; i++) ks += pairs[2 * i];
    double target = u * ks, acc = 0;
    int pick = keep - 1;
    for (int i = 0; i < keep; i++) {
        acc += pairs[2 * i];
        if (acc > target) { pick = i; break; }
    }
    o.token = (int)pairs[2 * pick + 1];
    o.logp = log_softmax_at(logits, V, o.token);
    o.logp_sample = (float)log(pairs[2 * pick] / ks);
    return o;
}
