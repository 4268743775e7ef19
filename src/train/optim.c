/* optim.c: AdamW, clipping and schedules. Matches torch.optim.AdamW (decay applied
 * to the parameter before the Adam update, eps added after the bias-corrected
 * square root) and torch.nn.utils.clip_grad_norm_ (scale = max/(norm + 1e-6)). */
#include <math.h>
#include <string.h>
#include "core/err.h"
#include "train/optim.h"

adamw_params adamw_default_params(void) {
    adamw_params p = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f, .weight_decay = 0.1f, .grad_clip = 1.0f};
    return p;
}

int lr_schedule_kind(const char *name) {
    if (!strcmp(name, "constant")) return LR_CONSTANT;
    if (!strcmp(name, "linear")) return LR_LINEAR;
    if (!strcmp(name, "cosine")) return LR_COSINE;
    return -1;
}

float lr_at(const lr_schedule *s, float peak, int step) {
    if (s->warmup_steps > 0 && step < s->warmup_steps) return peak * (float)(step + 1) / (float)s->warmup_steps;
    if (s->kind == LR_CONSTANT || s->total_steps <= s->warmup_steps) return peak;
    double frac = (double)(step - s->warmup_steps) / (double)(s->total_steps - s->warmup_steps);
    if (frac > 1) frac = 1;
    double lo = peak * s->min_ratio;
    if (s->kind == LR_LINEAR) return (float)(peak + (lo - peak) * frac);
    return (float)(lo + 0.5 * (peak - lo) * (1 + cos(M_PI * frac)));
}

#define NORM_CHUNK 65536 /* fixed chunks: the sum does not depend on thread count */

double grad_global_norm(const model *m) {
    size_t n = m->n_params, nchunks = (n + NORM_CHUNK - 1) / NORM_CHUNK;
    double total = 0;
    /* chunk partials are summed in chunk order by the reduction below only if the
     * loop is ordered; so compute them in parallel into fixed slots, then add. */
    enum { MAXSLOTS = 4096 };
    double part[MAXSLOTS];
    for (size_t c0 = 0; c0 < nchunks; c0 += MAXSLOTS) {
        size_t c1 = c0 + MAXSLOTS < nchunks ? c0 + MAXSLOTS : nchunks;
#pragma omp parallel for schedule(static)
        for (size_t c = c0; c < c1; c++) {
            size_t i0 = c * NORM_CHUNK, i1 = i0 + NORM_CHUNK < n ? i0 + NORM_CHUNK : n;
            double s = 0;
            for (size_t i = i0; i < i1; i++) s += (double)m->grads[i] * m->grads[i];
            part[c - c0] = s;
        }
        for (size_t c = c0; c < c1; c++) total += part[c - c0];
    }
    return sqrt(total);
}

int adamw_step(model *m, const adamw_params *p, float lr, int t, double *gnorm, rlvr_err *err) {
    if (!m->grads) return errf(err, RLVR_EARG, "adamw_step: model has no gradients");
    if (t < 1) return errf(err, RLVR_EARG, "adamw_step: step number must be >= 1, got %d", t);
    double norm = grad_global_norm(m);
    if (gnorm) *gnorm = norm;
    if (!isfinite(norm)) return errf(err, RLVR_ENUMERIC, "gradient norm is %g: step %d refused", norm, t);
    float scale = 1.0f;
    if (p->grad_clip > 0) {
        double coef = p->grad_clip / (norm + 1e-6);
        if (coef < 1) scale = (float)coef;
    }
    float b1 = p->beta1, b2 = p->beta2;
    float bc1 = 1.0f - powf(b1, (float)t), bc2 = 1.0f - powf(b2, (float)t);
    float step_size = lr / bc1, bc2_sqrt = sqrtf(bc2);
    for (int ti = 0; ti < m->n_tensors; ti++) {
        const tensor_info *tinfo = &m->tensors[ti];
        float decay = tinfo->decay ? 1.0f - lr * p->weight_decay : 1.0f;
        float *w = m->params + tinfo->offset, *g = m->grads + tinfo->offset;
        float *mm = m->m + tinfo->offset, *vv = m->v + tinfo->offset;
        size_t n = tinfo->numel;
#pragma omp parallel for simd if (n > 65536)
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] * scale;
            g[i] = gi;
            w[i] *= decay;
            mm[i] = b1 * mm[i] + (1.0f - b1) * gi;
            vv[i] = b2 * vv[i] + (1.0f - b2) * gi * gi;
            w[i] -= step_size * mm[i] / (sqrtf(vv[i]) / bc2_sqrt + p->eps);
        }
    }
    return RLVR_OK;
}
