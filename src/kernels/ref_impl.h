/* ref_impl.h: the naive reference kernels, written once over a scalar type R and
 * compiled twice (ref_f.c: float, suffix _ref; ref_d.c: double, suffix _refd).
 * Plain loops, no threads, no tricks: this is the oracle the fast kernels and the
 * finite-difference checks are measured against. Include only from those files. */
#include <math.h>
#include <string.h>
#include "kernels/kernels.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)

void FN(embedding_forward)(R *out, const int *tokens, const R *wte, int N, int C) {
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) out[(size_t)n * C + c] = wte[(size_t)tokens[n] * C + c];
}

void FN(embedding_backward)(R *dwte, const R *dout, const int *tokens, int N, int C) {
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) dwte[(size_t)tokens[n] * C + c] += dout[(size_t)n * C + c];
}

void FN(rmsnorm_forward)(R *out, R *rstd, const R *inp, const R *w, int N, int C, float eps) {
    for (int n = 0; n < N; n++) {
        const R *x = inp + (size_t)n * C;
        R ss = 0;
        for (int c = 0; c < C; c++) ss += x[c] * x[c];
        R s = 1 / sqrt(ss / C + (R)eps);
        for (int c = 0; c < C; c++) out[(size_t)n * C + c] = x[c] * s * w[c];
        rstd[n] = s;
    }
}

/* y = x * s * w, s = (mean(x^2) + eps)^-1/2:  dx = s*(w*dy) - x * s^3/C * sum(w*dy*x) */
void FN(rmsnorm_backward)(R *dinp, R *dw, const R *dout, const R *inp, const R *w, const R *rstd, int N, int C) {
    for (int n = 0; n < N; n++) {
        const R *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
        R s = rstd[n], dot = 0;
        for (int c = 0; c < C; c++) dot += w[c] * dy[c] * x[c];
        for (int c = 0; c < C; c++) {
            dinp[(size_t)n * C + c] += s * w[c] * dy[c] - x[c] * s * s * s * dot / C;
            dw[c] += dy[c] * x[c] * s;
        }
    }
}

void FN(matmul_forward)(R *out, const R *inp, const R *w, const R *bias, int N, int IC, int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            R acc = bias ? bias[o] : 0;
            for (int i = 0; i < IC; i++) acc += inp[(size_t)n * IC + i] * w[(size_t)o * IC + i];
            out[(size_t)n * OC + o] = acc;
        }
}

void FN(matmul_backward)(R *dinp, R *dw, R *dbias, const R *dout, const R *inp, const R *w, int N, int IC, int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            R d = dout[(size_t)n * OC + o];
            if (dbias) dbias[o] += d;
            for (int i = 0; i < IC; i++) {
                if (dinp) dinp[(size_t)n * IC + i] += d * w[(size_t)o * IC + i];
                dw[(size_t)o * IC + i] += d * inp[(size_t)n * IC + i];
            }
        }
}

static void FN(rope_rotate)(R *x, const int *pos, const float *cos_t, const float *sin_t, int N, int nh, int D, R sign) {
    int h2 = D / 2;
    for (int n = 0; n < N; n++)
        for (int h = 0; h < nh; h++) {
            R *v = x + ((size_t)n * nh + h) * D;
            const float *cs = cos_t + (size_t)pos[n] * h2, *sn = sin_t + (size_t)pos[n] * h2;
            for (int i = 0; i < h2; i++) {
                R a = v[i], b = v[i + h2], c = cs[i], s = sign * sn[i];
                v[i] = a * c - b * s;
                v[i + h2] = b * c + a * s;
            }
        }
}

void FN(rope_forward)(R *x, const int *pos, const float *cos_t, const float *sin_t, int N, int nh, int D) {
    FN(rope_rotate)(x, pos, cos_t, sin_t, N, nh, D, 1);
}

void FN(rope_backward)(R *dx, const int *pos, const float *cos_t, const float *sin_t, int N, int nh, int D) {
    FN(rope_rotate)(dx, pos, cos_t, sin_t, N, nh, D, -1);
}

void FN(attention_forward)(R *out, R *lse, const R *q, const R *k, const R *v, const int *seq_start, int B, int H, int KV, int D) {
    R scale = 1 / sqrt((R)D);
    int HD = H * D, KD = KV * D, grp = H / KV;
    for (int b = 0; b < B; b++)
        for (int t = seq_start[b]; t < seq_start[b + 1]; t++)
            for (int h = 0; h < H; h++) {
                const R *qt = q + (size_t)t * HD + h * D;
                int kh = h / grp;
                R mx = -INFINITY;
                for (int s = seq_start[b]; s <= t; s++) {
                    R dot = 0;
                    for (int i = 0; i < D; i++) dot += qt[i] * k[(size_t)s * KD + kh * D + i];
                    if (dot * scale > mx) mx = dot * scale;
                }
                R sum = 0;
                R *o = out + (size_t)t * HD + h * D;
                for (int i = 0; i < D; i++) o[i] = 0;
                for (int s = seq_start[b]; s <= t; s++) {
                    R dot = 0;
                    for (int i = 0; i < D; i++) dot += qt[i] * k[(size_t)s * KD + kh * D + i];
                    R p = exp(dot * scale - mx);
                    sum += p;
                    for (int i = 0; i < D; i++) o[i] += p * v[(size_t)s * KD + kh * D + i];
                }
                for (int i = 0; i < D; i++) o[i] /= sum;
                lse[(size_t)t * H + h] = mx + log(sum);
            }
}

/* p_ts = exp(q_t.k_s*scale - lse_t); dP_ts = dout_t.v_s; dS = p*(dP - dout_t.out_t) */
void FN(attention_backward)(R *dq, R *dk, R *dv, const R *dout, const R *out, const R *lse, const R *q, const R *k, const R *v, const int *seq_start, int B, int H, int KV, int D) {
    R scale = 1 / sqrt((R)D);
    int HD = H * D, KD = KV * D, grp = H / KV;
    for (int b = 0; b < B; b++)
        for (int t = seq_start[b]; t < seq_start[b + 1]; t++)
            for (int h = 0; h < H; h++) {
                const R *qt = q + (size_t)t * HD + h * D, *dot_ = dout + (size_t)t * HD + h * D;
                const R *ot = out + (size_t)t * HD + h * D;
                int kh = h / grp;
                R Dt = 0;
                for (int i = 0; i < D; i++) Dt += dot_[i] * ot[i];
                for (int s = seq_start[b]; s <= t; s++) {
                    const R *ks = k + (size_t)s * KD + kh * D, *vs = v + (size_t)s * KD + kh * D;
                    R dotqk = 0, dp = 0;
                    for (int i = 0; i < D; i++) { dotqk += qt[i] * ks[i]; dp += dot_[i] * vs[i]; }
                    R p = exp(dotqk * scale - lse[(size_t)t * H + h]);
                    R ds = p * (dp - Dt) * scale;
                    for (int i = 0; i < D; i++) {
                        dv[(size_t)s * KD + kh * D + i] += p * dot_[i];
                        dq[(size_t)t * HD + h * D + i] += ds * ks[i];
                        dk[(size_t)s * KD + kh * D + i] += ds * qt[i];
                    }
                }
            }
}

void FN(kvcache_store)(R *kc, R *vc, const R *k, const R *v, const int *slot, const int *pos, int N, int KV, int D, int L) {
    for (int n = 0; n < N; n++)
        for (int kh = 0; kh < KV; kh++)
            for (int d = 0; d < D; d++) {
                size_t blk = ((size_t)slot[n] * KV + kh) * L;
                int p = pos[n];
                kc[(blk + p - p % KV_TILE) * D + (size_t)d * KV_TILE + p % KV_TILE] = k[((size_t)n * KV + kh) * D + d];
                vc[(blk + p) * D + d] = v[((size_t)n * KV + kh) * D + d];
            }
}

void FN(attention_kvcache_forward)(R *out, const R *q, const R *kc, const R *vc, const int *slot, const int *pos, const int *pre_slot, const int *pre_len, const int *order, int N, int H, int KV, int D, int L) {
    (void)pre_slot, (void)pre_len, (void)order; /* the reference reads every position from the token's own slot */
    R scale = 1 / sqrt((R)D);
    int HD = H * D, grp = H / KV;
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++) {
            size_t blk = ((size_t)slot[n] * KV + h / grp) * L;
            const R *qi = q + (size_t)n * HD + h * D;
            R mx = -INFINITY, sum = 0, *o = out + (size_t)n * HD + h * D;
            for (int s = 0; s <= pos[n]; s++) {
                R dot = 0;
                for (int d = 0; d < D; d++) dot += qi[d] * kc[(blk + s - s % KV_TILE) * D + (size_t)d * KV_TILE + s % KV_TILE];
                if (dot * scale > mx) mx = dot * scale;
            }
            for (int d = 0; d < D; d++) o[d] = 0;
            for (int s = 0; s <= pos[n]; s++) {
                R dot = 0;
                for (int d = 0; d < D; d++) dot += qi[d] * kc[(blk + s - s % KV_TILE) * D + (size_t)d * KV_TILE + s % KV_TILE];
                R e = exp(dot * scale - mx);
                sum += e;
                for (int d = 0; d < D; d++) o[d] += e * vc[(blk + s) * D + d];
            }
            for (int d = 0; d < D; d++) o[d] /= sum;
        }
}

void FN(swiglu_forward)(R *out, const R *gate, const R *up, int N, int F) {
    for (size_t i = 0; i < (size_t)N * F; i++) {
        R g = gate[i];
        out[i] = g / (1 + exp(-g)) * up[i];
    }
}

void FN(swiglu_backward)(R *dgate, R *dup, const R *dout, const R *gate, const R *up, int N, int F) {
    for (size_t i = 0; i < (size_t)N * F; i++) {
        R g = gate[i], sg = 1 / (1 + exp(-g)), silu = g * sg;
        dup[i] += dout[i] * silu;
        dgate[i] += dout[i] * up[i] * sg * (1 + g * (1 - sg));
    }
}

void FN(logits_stats)(R *lse, R *logp, R *entropy, const R *logits, const int *targets, int N, int V) {
    for (int n = 0; n < N; n++) {
        const R *z = logits + (size_t)n * V;
        R mx = -INFINITY;
        for (int j = 0; j < V; j++) if (z[j] > mx) mx = z[j];
        R sum = 0, sz = 0;
        for (int j = 0; j < V; j++) { R e = exp(z[j] - mx); sum += e; sz += e * z[j]; }
        R l = mx + log(sum);
        lse[n] = l;
        entropy[n] = l - sz / sum;
        logp[n] = targets[n] >= 0 ? z[targets[n]] - l : 0;
    }
}

/* d logp/dz_j = [j==target] - p_j;  d H/dz_j = -p_j (log p_j + H) */
void FN(logits_backward)(R *dlogits, const R *logits, const R *lse, const R *entropy, const int *targets, const R *dlogp, const R *dent, int N, int V) {
    for (int n = 0; n < N; n++) {
        const R *z = logits + (size_t)n * V;
        R *dz = dlogits + (size_t)n * V;
        R a = dlogp && targets[n] >= 0 ? dlogp[n] : 0, e = dent ? dent[n] : 0, H = entropy[n], l = lse[n];
        for (int j = 0; j < V; j++) {
            R lp = z[j] - l, p = exp(lp);
            dz[j] = -a * p - e * p * (lp + H);
        }
        if (targets[n] >= 0) dz[targets[n]] += a;
    }
}
