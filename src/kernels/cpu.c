/* cpu.c: the fast CPU kernels: OpenMP across rows/heads, loops the compiler can
 * vectorise, every matrix product through gemm_f32 (gemm.c).
 * Every reduction runs in a fixed order that does not depend on the thread count,
 * so results do not depend on the thread count as long as the GEMM's do not. The
 * naive oracle for each op is in ref_impl.h. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "kernels/gemm.h"
#include "kernels/kernels.h"
#include "kernels/vexp.h"

int kernels_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
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

void matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N, int IC, int OC) {
    gemm_f32(0, 1, N, OC, IC, inp, IC, w, IC, out, OC, 0, GEMM_PARALLEL);
    if (bias) {
#pragma omp parallel for if (N > 64)
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++) out[(size_t)n * OC + o] += bias[o];
    }
}

void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w, int N, int IC, int OC) {
    if (dinp) gemm_f32(0, 0, N, IC, OC, dout, OC, w, IC, dinp, IC, 1, GEMM_PARALLEL);
    gemm_f32(1, 0, OC, IC, N, dout, OC, inp, IC, dw, IC, 1, GEMM_PARALLEL);
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

/* Attention in query blocks of QB rows: S = Q_blk K^T over the causal prefix, a row
 * softmax, O_blk = P V; all products through serial GEMMs inside one task per
 * (sequence, head). Scratch per thread: QB x T scores (and QB x T for dP). */
#define QB 64

void attention_forward(float *out, float *lse, const float *q, const float *k, const float *v, const int *seq_start, int B, int H, int KV, int D) {
    float scale = 1.0f / sqrtf((float)D);
    int HD = H * D, KD = KV * D, grp = H / KV;
    int maxT = 0;
    for (int b = 0; b < B; b++) if (seq_start[b + 1] - seq_start[b] > maxT) maxT = seq_start[b + 1] - seq_start[b];
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            float *S = scratch((size_t)QB * maxT);
            if (!S) continue;
            int t0 = seq_start[b], T = seq_start[b + 1] - t0, kh = h / grp;
            const float *kb = k + (size_t)t0 * KD + kh * D, *vb = v + (size_t)t0 * KD + kh * D;
            for (int i0 = 0; i0 < T; i0 += QB) {
                int nq = T - i0 < QB ? T - i0 : QB, nk = i0 + nq; /* keys 0..nk-1 */
                const float *qb = q + (size_t)(t0 + i0) * HD + h * D;
                gemm_f32(0, 1, nq, nk, D, qb, HD, kb, KD, S, nk, 0, GEMM_SERIAL);
                for (int i = 0; i < nq; i++) {
                    float *row = S + (size_t)i * nk, mx = -INFINITY, sum = 0;
                    int nv = i0 + i + 1; /* causal: keys 0..i0+i */
                    for (int j = 0; j < nv; j++) { row[j] *= scale; mx = row[j] > mx ? row[j] : mx; }
                    for (int j = 0; j < nv; j++) { float e = vexpf(row[j] - mx); row[j] = e; sum += e; }
                    float inv = 1.0f / sum;
                    for (int j = 0; j < nv; j++) row[j] *= inv;
                    for (int j = nv; j < nk; j++) row[j] = 0.0f;
                    lse[(size_t)(t0 + i0 + i) * H + h] = mx + logf(sum);
                }
                gemm_f32(0, 0, nq, D, nk, S, nk, vb, KD, out + (size_t)(t0 + i0) * HD + h * D, HD, 0, GEMM_SERIAL);
            }
        }
}

/* P = exp(S*scale - lse); dV += P^T dO; dP = dO V^T; dS = P (dP - rowdot(dO, O)) scale;
 * dQ += dS K; dK += dS^T Q. One task per (sequence, kv head): it alone writes that
 * head's dK/dV rows, and its query heads' dQ rows. */
void attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse, const float *q, const float *k, const float *v, const int *seq_start, int B, int H, int KV, int D) {
    float scale = 1.0f / sqrtf((float)D);
    int HD = H * D, KD = KV * D, grp = H / KV;
    int maxT = 0;
    for (int b = 0; b < B; b++) if (seq_start[b + 1] - seq_start[b] > maxT) maxT = seq_start[b + 1] - seq_start[b];
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; b++)
        for (int kh = 0; kh < KV; kh++) {
            float *P = scratch((size_t)2 * QB * maxT);
            if (!P) continue;
            float *dP = P + (size_t)QB * maxT;
            int t0 = seq_start[b], T = seq_start[b + 1] - t0;
            const float *kb = k + (size_t)t0 * KD + kh * D, *vb = v + (size_t)t0 * KD + kh * D;
            float *dkb = dk + (size_t)t0 * KD + kh * D, *dvb = dv + (size_t)t0 * KD + kh * D;
            for (int h = kh * grp; h < (kh + 1) * grp; h++)
                for (int i0 = 0; i0 < T; i0 += QB) {
                    int nq = T - i0 < QB ? T - i0 : QB, nk = i0 + nq;
                    size_t qoff = (size_t)(t0 + i0) * HD + h * D;
                    gemm_f32(0, 1, nq, nk, D, q + qoff, HD, kb, KD, P, nk, 0, GEMM_SERIAL);
                    for (int i = 0; i < nq; i++) {
                        float *row = P + (size_t)i * nk, l = lse[(size_t)(t0 + i0 + i) * H + h];
                        int nv = i0 + i + 1;
                        for (int j = 0; j < nv; j++) row[j] = vexpf(row[j] * scale - l);
                        for (int j = nv; j < nk; j++) row[j] = 0.0f;
                    }
                    gemm_f32(1, 0, nk, D, nq, P, nk, dout + qoff, HD, dvb, KD, 1, GEMM_SERIAL);
                    gemm_f32(0, 1, nq, nk, D, dout + qoff, HD, vb, KD, dP, nk, 0, GEMM_SERIAL);
                    for (int i = 0; i < nq; i++) {
                        float *pr = P + (size_t)i * nk, *dpr = dP + (size_t)i * nk;
                        float Dt = dotf(dout + qoff + (size_t)i * HD, out + qoff + (size_t)i * HD, D);
                        for (int j = 0; j < nk; j++) pr[j] = pr[j] * (dpr[j] - Dt) * scale; /* P becomes dS */
                    }
                    gemm_f32(0, 0, nq, D, nk, P, nk, kb, KD, dq + qoff, HD, 1, GEMM_SERIAL);
                    gemm_f32(1, 0, nk, D, nq, P, nk, q + qoff, HD, dkb, KD, 1, GEMM_SERIAL);
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

/* Sums over the vocabulary run in float blocks of LSE_BLOCK (vectorised) added into
 * double, so the log-sum-exp stays accurate for 150k-token vocabularies. */
#define LSE_BLOCK 256

void logits_stats(float *lse, float *logp, float *entropy, const float *logits, const int *targets, int N, int V) {
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        const float *z = logits + (size_t)n * V;
        float mx = -INFINITY;
        for (int j = 0; j < V; j++) mx = z[j] > mx ? z[j] : mx;
        double sum = 0, sz = 0;
        for (int j0 = 0; j0 < V; j0 += LSE_BLOCK) {
            int j1 = j0 + LSE_BLOCK < V ? j0 + LSE_BLOCK : V;
            float bs = 0, bz = 0;
#pragma omp simd reduction(+ : bs, bz)
            for (int j = j0; j < j1; j++) { float e = vexpf(z[j] - mx); bs += e; bz += e * (z[j] - mx); }
            sum += bs, sz += bz;
        }
        double l = mx + log(sum);
        lse[n] = (float)l;
        entropy[n] = (float)(log(sum) - sz / sum);
        logp[n] = targets[n] >= 0 ? (float)((double)z[targets[n]] - l) : 0.0f;
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
