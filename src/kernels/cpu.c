/* cpu.c: the fast CPU kernels: OpenMP across rows/heads, loops the compiler can
 * vectorise, OpenBLAS for GEMMs (own blocked loops when built with NO_BLAS=1).
 * Every reduction runs in a fixed order that does not depend on the thread count,
 * so results are bit-identical with 1 or 2 threads (GEMMs excepted: OpenBLAS picks
 * its own split). The naive oracle for each op is in ref_impl.h. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef RLVR_HAVE_BLAS
#include <cblas.h>
#endif
#include "kernels/kernels.h"

int kernels_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* expf for x <= 88, vectorisable (no calls, no branches): 2^n * p(r), r = x - n ln2,
 * |r| <= ln2/2, degree-6 polynomial; max relative error about 2e-7. Underflows to 0
 * below -87. */
static inline float vexpf(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = __builtin_roundf(x * 1.44269504088896341f);
    float r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;
    float p = 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    union { float f; int32_t i; } u = { .f = p };
    u.i += (int32_t)n << 23;
    return u.f;
}

/* A per-thread scratch buffer, grown on first use and then reused: no allocation
 * in steady state. Returns NULL only when malloc fails. */
static float *scratch(size_t n) {
    static _Thread_local float *buf;
    static _Thread_local size_t cap;
    if (n > cap) {
        float *p = realloc(buf, n * sizeof(float));
        if (!p) return NULL;
        buf = p, cap = n;
    }
    return buf;
}

#define COLBLOCK 64 /* columns per task in column-parallel reductions */

void embedding_forward(float *out, const int *tokens, const float *wte, int N, int C) {
#pragma omp parallel for
    for (int n = 0; n < N; n++) memcpy(out + (size_t)n * C, wte + (size_t)tokens[n] * C, C * sizeof(float));
}

void embedding_backward(float *dwte, const float *dout, const int *tokens, int N, int C) {
    /* column blocks in parallel, rows in order: no races, fixed summation order */
#pragma omp parallel for
    for (int c0 = 0; c0 < C; c0 += COLBLOCK) {
        int c1 = c0 + COLBLOCK < C ? c0 + COLBLOCK : C;
        for (int n = 0; n < N; n++) {
            float *d = dwte + (size_t)tokens[n] * C;
            const float *g = dout + (size_t)n * C;
            for (int c = c0; c < c1; c++) d[c] += g[c];
        }
    }
}

void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps) {
#pragma omp parallel for if (N > 64)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *y = out + (size_t)n * C;
        float ss = 0;
        for (int c = 0; c < C; c++) ss += x[c] * x[c];
        float s = 1.0f / sqrtf(ss / C + eps);
        for (int c = 0; c < C; c++) y[c] = x[c] * s * w[c];
        rstd[n] = s;
    }
}

void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w, const float *rstd, int N, int C) {
#pragma omp parallel for if (N > 64)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float s = rstd[n], dot = 0;
        for (int c = 0; c < C; c++) dot += w[c] * dy[c] * x[c];
        float k = s * s * s * dot / C;
        for (int c = 0; c < C; c++) dx[c] += s * w[c] * dy[c] - x[c] * k;
    }
#pragma omp parallel for if (N > 64)
    for (int c0 = 0; c0 < C; c0 += COLBLOCK) {
        int c1 = c0 + COLBLOCK < C ? c0 + COLBLOCK : C;
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
            float s = rstd[n];
            for (int c = c0; c < c1; c++) dw[c] += dy[c] * x[c] * s;
        }
    }
}

#ifndef RLVR_HAVE_BLAS
/* Own GEMMs for builds without OpenBLAS: C (M,Nn) (+)= A (M,K) @ B^T where B is (Nn,K). */
static void gemm_nt(float *c, const float *a, const float *b, int M, int Nn, int K, int accumulate) {
#pragma omp parallel for collapse(2) schedule(static)
    for (int i0 = 0; i0 < M; i0 += 4)
        for (int j0 = 0; j0 < Nn; j0 += 64) {
            int i1 = i0 + 4 < M ? i0 + 4 : M, j1 = j0 + 64 < Nn ? j0 + 64 : Nn;
            for (int i = i0; i < i1; i++)
                for (int j = j0; j < j1; j++) {
                    const float *ar = a + (size_t)i * K, *br = b + (size_t)j * K;
                    float acc = 0;
#pragma omp simd reduction(+ : acc)
                    for (int k = 0; k < K; k++) acc += ar[k] * br[k];
                    c[(size_t)i * Nn + j] = accumulate ? c[(size_t)i * Nn + j] + acc : acc;
                }
        }
}
#endif

void matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N, int IC, int OC) {
#ifdef RLVR_HAVE_BLAS
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, IC, 1.0f, inp, IC, w, IC, 0.0f, out, OC);
#else
    gemm_nt(out, inp, w, N, OC, IC, 0);
#endif
    if (bias) {
#pragma omp parallel for if (N > 64)
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++) out[(size_t)n * OC + o] += bias[o];
    }
}

void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w, int N, int IC, int OC) {
#ifdef RLVR_HAVE_BLAS
    if (dinp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, OC, 1.0f, dout, OC, w, IC, 1.0f, dinp, IC);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, IC, N, 1.0f, dout, OC, inp, IC, 1.0f, dw, IC);
#else
    if (dinp) {
#pragma omp parallel for
        for (int n = 0; n < N; n++) {
            float *di = dinp + (size_t)n * IC;
            for (int o = 0; o < OC; o++) {
                float d = dout[(size_t)n * OC + o];
                const float *wr = w + (size_t)o * IC;
                for (int i = 0; i < IC; i++) di[i] += d * wr[i];
            }
        }
    }
#pragma omp parallel for
    for (int o = 0; o < OC; o++) {
        float *dwr = dw + (size_t)o * IC;
        for (int n = 0; n < N; n++) {
            float d = dout[(size_t)n * OC + o];
            const float *x = inp + (size_t)n * IC;
            for (int i = 0; i < IC; i++) dwr[i] += d * x[i];
        }
    }
#endif
    if (dbias) {
#pragma omp parallel for if (OC > 256)
        for (int o0 = 0; o0 < OC; o0 += COLBLOCK) {
            int o1 = o0 + COLBLOCK < OC ? o0 + COLBLOCK : OC;
            for (int n = 0; n < N; n++)
                for (int o = o0; o < o1; o++) dbias[o] += dout[(size_t)n * OC + o];
        }
    }
}

static void rope_apply(float *x, const int *pos, const float *cos_t, const float *sin_t, int N, int nh, int D, float sign) {
    int h2 = D / 2;
#pragma omp parallel for if (N > 64)
    for (int n = 0; n < N; n++) {
        const float *cs = cos_t + (size_t)pos[n] * h2, *sn = sin_t + (size_t)pos[n] * h2;
        for (int h = 0; h < nh; h++) {
            float *v = x + ((size_t)n * nh + h) * D;
            for (int i = 0; i < h2; i++) {
                float a = v[i], b = v[i + h2], c = cs[i], s = sign * sn[i];
                v[i] = a * c - b * s;
                v[i + h2] = b * c + a * s;
            }
        }
    }
}

void rope_forward(float *x, const int *pos, const float *cos_t, const float *sin_t, int N, int nh, int D) {
    rope_apply(x, pos, cos_t, sin_t, N, nh, D, 1.0f);
}

void rope_backward(float *dx, const int *pos, const float *cos_t, const float *sin_t, int N, int nh, int D) {
    rope_apply(dx, pos, cos_t, sin_t, N, nh, D, -1.0f);
}

static inline float dotf(const float *a, const float *b, int n) {
    float acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int i = 0; i < n; i++) acc += a[i] * b[i];
    return acc;
}

void attention_forward(float *out, float *lse, const float *q, const float *k, const float *v, const int *seq_start, int B, int H, int KV, int D) {
    float scale = 1.0f / sqrtf((float)D);
    int HD = H * D, KD = KV * D, grp = H / KV;
    int maxT = 0;
    for (int b = 0; b < B; b++) if (seq_start[b + 1] - seq_start[b] > maxT) maxT = seq_start[b + 1] - seq_start[b];
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            float *p = scratch((size_t)maxT);
            if (!p) continue; /* out of memory: leaves NaN-free zeros? no: caller checks loss */
            int t0 = seq_start[b], t1 = seq_start[b + 1], kh = h / grp;
            for (int t = t0; t < t1; t++) {
                const float *qt = q + (size_t)t * HD + h * D;
                float mx = -INFINITY;
                for (int s = t0; s <= t; s++) {
                    float d = dotf(qt, k + (size_t)s * KD + kh * D, D) * scale;
                    p[s - t0] = d;
                    mx = d > mx ? d : mx;
                }
                float sum = 0;
                int ns = t - t0 + 1;
                for (int j = 0; j < ns; j++) { float e = vexpf(p[j] - mx); p[j] = e; sum += e; }
                float *o = out + (size_t)t * HD + h * D, inv = 1.0f / sum;
                for (int i = 0; i < D; i++) o[i] = 0;
                for (int s = t0; s <= t; s++) {
                    const float *vs = v + (size_t)s * KD + kh * D;
                    float ps = p[s - t0] * inv;
                    for (int i = 0; i < D; i++) o[i] += ps * vs[i];
                }
                lse[(size_t)t * H + h] = mx + logf(sum);
            }
        }
}

void attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse, const float *q, const float *k, const float *v, const int *seq_start, int B, int H, int KV, int D) {
    float scale = 1.0f / sqrtf((float)D);
    int HD = H * D, KD = KV * D, grp = H / KV;
    int maxT = 0;
    for (int b = 0; b < B; b++) if (seq_start[b + 1] - seq_start[b] > maxT) maxT = seq_start[b + 1] - seq_start[b];
    /* one task per (sequence, kv head): it alone writes that head's dk/dv rows */
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int kh = 0; kh < KV; kh++) {
            float *p = scratch((size_t)maxT);
            if (!p) continue;
            int t0 = seq_start[b], t1 = seq_start[b + 1];
            for (int h = kh * grp; h < (kh + 1) * grp; h++)
                for (int t = t0; t < t1; t++) {
                    const float *qt = q + (size_t)t * HD + h * D, *gt = dout + (size_t)t * HD + h * D;
                    float *dqt = dq + (size_t)t * HD + h * D;
                    float Dt = dotf(gt, out + (size_t)t * HD + h * D, D), l = lse[(size_t)t * H + h];
                    int ns = t - t0 + 1;
                    for (int j = 0; j < ns; j++) p[j] = dotf(qt, k + (size_t)(t0 + j) * KD + kh * D, D) * scale - l;
                    for (int j = 0; j < ns; j++) p[j] = vexpf(p[j]);
                    for (int s = t0; s <= t; s++) {
                        const float *ks = k + (size_t)s * KD + kh * D, *vs = v + (size_t)s * KD + kh * D;
                        float *dks = dk + (size_t)s * KD + kh * D, *dvs = dv + (size_t)s * KD + kh * D;
                        float ps = p[s - t0];
                        float ds = ps * (dotf(gt, vs, D) - Dt) * scale;
                        for (int i = 0; i < D; i++) {
                            dvs[i] += ps * gt[i];
                            dqt[i] += ds * ks[i];
                            dks[i] += ds * qt[i];
                        }
                    }
                }
        }
}

void swiglu_forward(float *out, const float *gate, const float *up, int N, int F) {
    size_t n = (size_t)N * F;
#pragma omp parallel for simd if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + vexpf(-g)) * up[i];
    }
}

void swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int N, int F) {
    size_t n = (size_t)N * F;
#pragma omp parallel for simd if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float g = gate[i], sg = 1.0f / (1.0f + vexpf(-g));
        dup[i] += dout[i] * g * sg;
        dgate[i] += dout[i] * up[i] * sg * (1.0f + g * (1.0f - sg));
    }
}

void logits_stats(float *lse, float *logp, float *entropy, const float *logits, const int *targets, int N, int V) {
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *z = logits + (size_t)n * V;
        float mx = -INFINITY;
        for (int j = 0; j < V; j++) mx = z[j] > mx ? z[j] : mx;
        float sum = 0, sz = 0;
#pragma omp simd reduction(+ : sum, sz)
        for (int j = 0; j < V; j++) { float e = vexpf(z[j] - mx); sum += e; sz += e * (z[j] - mx); }
        float l = mx + logf(sum);
        lse[n] = l;
        entropy[n] = logf(sum) - sz / sum;
        logp[n] = targets[n] >= 0 ? z[targets[n]] - l : 0.0f;
    }
}

void logits_backward(float *dlogits, const float *logits, const float *lse, const float *entropy, const int *targets, const float *dlogp, const float *dent, int N, int V) {
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *z = logits + (size_t)n * V;
        float *dz = dlogits + (size_t)n * V;
        float a = dlogp && targets[n] >= 0 ? dlogp[n] : 0.0f, e = dent ? dent[n] : 0.0f;
        float H = entropy[n], l = lse[n];
        if (e == 0.0f) {
#pragma omp simd
            for (int j = 0; j < V; j++) dz[j] = -a * vexpf(z[j] - l);
        } else {
#pragma omp simd
            for (int j = 0; j < V; j++) { float lp = z[j] - l, p = vexpf(lp); dz[j] = -a * p - e * p * (lp + H); }
        }
        if (targets[n] >= 0) dz[targets[n]] += a;
    }
}

void rope_tables(float *cos_t, float *sin_t, int max_pos, int D, float theta, int scaling,
                 float factor, float low_freq_factor, float high_freq_factor, int orig_max_pos) {
    /* Mirrors Hugging Face: inv_freq and the angle p*inv_freq are float32 there,
     * so they are float32 here; only cos/sin of that angle is taken in double. */
    int h2 = D / 2;
    for (int i = 0; i < h2; i++) {
        float inv = 1.0f / powf(theta, (float)(2 * i) / (float)D);
        if (scaling) { /* Llama 3.1 frequency-dependent scaling */
            float low_wl = (float)orig_max_pos / low_freq_factor;
            float high_wl = (float)orig_max_pos / high_freq_factor;
            float wl = 2.0f * (float)M_PI / inv;
            float scaled = wl > low_wl ? inv / factor : inv;
            if (!(wl < high_wl) && !(wl > low_wl)) {
                float smooth = ((float)orig_max_pos / wl - low_freq_factor) / (high_freq_factor - low_freq_factor);
                scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }
            inv = scaled;
        }
        for (int p = 0; p < max_pos; p++) {
            float a = (float)p * inv;
            cos_t[(size_t)p * h2 + i] = (float)cos((double)a);
            sin_t[(size_t)p * h2 + i] = (float)sin((double)a);
        }
    }
}
