/* loss.c: policy-gradient losses and their exact derivatives with respect to each
 * token's log-prob. Conventions follow veRL's core_algos (clip fractions, dual clip
 * for negative advantages only, k3 clamp) and the GPPO and GSPO papers. */
#include <math.h>
#include <string.h>
#include "algo/loss.h"
#include "core/err.h"

loss_params loss_default_params(void) {
    loss_params p = {.clip = CLIP_PPO, .level = RATIO_TOKEN, .clip_low = 0.2f, .clip_high = 0.2f, .clip_c = 3.0f,
                     .agg = AGG_TOKEN_MEAN, .norm_len = 1024, .kl_coef = 0, .kl = KL_K3, .kl_clamp = 10,
                     .entropy_coef = 0, .log_ratio_clamp = 20};
    return p;
}

static int parse(const char *s, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}
int clip_mode_parse(const char *s) { static const char *const n[] = {"ppo", "dual", "gppo", "none"}; return parse(s, n, 4); }
int agg_mode_parse(const char *s) {
    static const char *const n[] = {"token_mean", "seq_mean_token_mean", "seq_mean_token_sum", "seq_mean_token_sum_norm"};
    return parse(s, n, 4);
}
int kl_kind_parse(const char *s) { static const char *const n[] = {"k1", "k2", "k3"}; return parse(s, n, 3); }

/* Clipped surrogate for ratio r and advantage A: value (as a loss) and d(loss)/dr
 * (GPPO: the surrogate derivative it substitutes). Flags report which clip bound. */
static double surrogate(const loss_params *p, double r, double A, double *dldr, int *lo, int *hi, int *dual) {
    double unc = -r * A;
    *lo = *hi = *dual = 0;
    if (p->clip == CLIP_NONE) { *dldr = -A; return unc; }
    double rc = r < 1 - p->clip_low ? 1 - p->clip_low : (r > 1 + p->clip_high ? 1 + p->clip_high : r);
    double clp = -rc * A, l;
    if (clp > unc) { /* the clipped branch is the max of the two losses: gradient stops */
        l = clp;
        *lo = r < 1 - p->clip_low, *hi = r > 1 + p->clip_high;
        *dldr = p->clip == CLIP_GPPO ? -A * rc / r : 0; /* GPPO: d/dlogp = -A(1+-eps) */
    } else {
        l = unc;
        *dldr = -A;
    }
    if ((p->clip == CLIP_DUAL || p->clip == CLIP_GPPO) && A < 0 && l > -p->clip_c * A) {
        l = -p->clip_c * A;
        *dual = 1, *lo = *hi = 0;
        *dldr = p->clip == CLIP_GPPO ? -A * p->clip_c / r : 0;
    }
    return l;
}

/* KL(pi||ref) estimate at delta = logp - ref_logp, and its derivative in logp */
static double kl_est(const loss_params *p, double delta, double *dk) {
    double v;
    switch (p->kl) {
    case KL_K1: v = delta, *dk = 1; break;
    case KL_K2: v = 0.5 * delta * delta, *dk = delta; break;
    default: v = exp(-delta) + delta - 1, *dk = 1 - exp(-delta); break; /* k3 */
    }
    if (p->kl_clamp > 0 && fabs(v) > p->kl_clamp) { v = v > 0 ? p->kl_clamp : -p->kl_clamp; *dk = 0; }
    return v;
}

int policy_loss(const loss_params *p, int n_seq, const int *tok_start, const float *logp, const float *old_logp,
                const float *ref_logp, const float *entropy, const float *mask, const float *adv,
                float *dlogp, float *dent, loss_stats *st, rlvr_err *err) {
    if (p->kl_coef != 0 && !ref_logp) return errf(err, RLVR_EARG, "policy_loss: kl_coef is set but no reference log-probs were given");
    if (p->entropy_coef != 0 && !entropy) return errf(err, RLVR_EARG, "policy_loss: entropy_coef is set but no entropies were given");
    if (p->agg == AGG_SEQ_MEAN_TOKEN_SUM_NORM && !(p->norm_len > 0)) return errf(err, RLVR_EARG, "policy_loss: norm_len must be > 0");
    loss_stats s;
    memset(&s, 0, sizeof s);
    int N = tok_start[n_seq];
    double ntok = 0, nseq = 0;
    for (int i = 0; i < n_seq; i++) {
        double m = 0;
        for (int t = tok_start[i]; t < tok_start[i + 1]; t++) m += mask[t];
        ntok += m;
        nseq += m > 0;
    }
    double Tn = p->global_tokens > 0 ? p->global_tokens : ntok, Sn = p->global_seqs > 0 ? p->global_seqs : nseq;
    for (int t = 0; t < N; t++) { dlogp[t] = 0; if (dent) dent[t] = 0; }
    double clo = 0, chi = 0, cdu = 0, rsum = 0, rmax = 0;
    for (int i = 0; i < n_seq; i++) {
        int a = tok_start[i], b = tok_start[i + 1];
        double m = 0, A = adv[i];
        for (int t = a; t < b; t++) m += mask[t];
        if (m <= 0) continue;
        /* per-token weight of this sequence under the aggregation */
        double w;
        switch (p->agg) {
        case AGG_TOKEN_MEAN: w = 1.0 / Tn; break;
        case AGG_SEQ_MEAN_TOKEN_MEAN: w = 1.0 / (Sn * m); break;
        case AGG_SEQ_MEAN_TOKEN_SUM: w = 1.0 / Sn; break;
        default: w = 1.0 / (Sn * p->norm_len); break;
        }
        if (p->level == RATIO_SEQUENCE) {
            /* GSPO: s = exp(mean_t (logp - old)), one clipped surrogate per sequence
             * counted at every token: L_i = (sum_t w mask_t) l(s) = w m l(s) and
             * ds/dlogp_t = s mask_t / m, so dL/dlogp_t = w mask_t l'(s) s */
            double mlr = 0;
            for (int t = a; t < b; t++) mlr += mask[t] * ((double)logp[t] - old_logp[t]);
            mlr /= m;
            if (mlr > p->log_ratio_clamp) mlr = p->log_ratio_clamp;
            if (mlr < -p->log_ratio_clamp) mlr = -p->log_ratio_clamp;
            double r = exp(mlr), dldr;
            int lo, hi, du;
            double l = surrogate(p, r, A, &dldr, &lo, &hi, &du);
            for (int t = a; t < b; t++) {
                if (mask[t] == 0) continue;
                s.pg_loss += w * mask[t] * l;
                dlogp[t] += (float)(w * mask[t] * dldr * r);
                clo += mask[t] * lo, chi += mask[t] * hi, cdu += mask[t] * du;
                rsum += mask[t] * r;
            }
            if (r > rmax) rmax = r;
        } else {
            for (int t = a; t < b; t++) {
                if (mask[t] == 0) continue;
                double lr = (double)logp[t] - old_logp[t];
                int clamped = fabs(lr) > p->log_ratio_clamp;
                if (clamped) lr = lr > 0 ? p->log_ratio_clamp : -p->log_ratio_clamp;
                double r = exp(lr), dldr;
                int lo, hi, du;
                double l = surrogate(p, r, A, &dldr, &lo, &hi, &du);
                s.pg_loss += w * mask[t] * l;
                dlogp[t] += clamped ? 0.0f : (float)(w * mask[t] * dldr * r);
                clo += mask[t] * lo, chi += mask[t] * hi, cdu += mask[t] * du;
                rsum += mask[t] * r;
                if (r > rmax) rmax = r;
            }
        }
        for (int t = a; t < b; t++) {
            if (mask[t] == 0) continue;
            if (p->kl_coef != 0) {
                double dk, k = kl_est(p, (double)logp[t] - ref_logp[t], &dk);
                s.kl_loss += w * mask[t] * p->kl_coef * k;
                s.kl_mean += mask[t] * k;
                dlogp[t] += (float)(w * mask[t] * p->kl_coef * dk);
            }
            if (entropy) {
                s.entropy_mean += mask[t] * entropy[t];
                if (p->entropy_coef != 0) {
                    s.entropy_loss -= w * mask[t] * p->entropy_coef * entropy[t];
                    if (dent) dent[t] += (float)(-w * mask[t] * p->entropy_coef);
                }
            }
        }
    }
    s.loss = s.pg_loss + s.kl_loss + s.entropy_loss;
    if (ntok > 0) {
        s.kl_mean /= ntok, s.entropy_mean /= ntok;
        s.clip_frac_low = clo / ntok, s.clip_frac_high = chi / ntok, s.clip_frac_dual = cdu / ntok;
        s.ratio_mean = rsum / ntok;
    }
    s.ratio_max = rmax, s.n_tokens = ntok, s.n_seqs = nseq;
    if (st) *st = s;
    return RLVR_OK;
}
