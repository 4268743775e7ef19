/* advantage.c: the advantage estimators of the GRPO family, in double internally. */
#include <math.h>
#include <string.h>
#include "algo/advantage.h"
#include "core/err.h"

static const char *const names[ADV_N_KINDS] = {"grpo", "dr_grpo", "lite", "rloo", "reinforce_pp", "reinforce_pp_baseline"};

adv_params adv_default_params(void) {
    adv_params p = {.kind = ADV_GRPO, .eps = 1e-6f, .std_unbiased = 1};
    return p;
}

int adv_kind_parse(const char *name) {
    for (int k = 0; k < ADV_N_KINDS; k++)
        if (!strcmp(name, names[k])) return k;
    return -1;
}

const char *adv_kind_name(adv_kind k) { return k >= 0 && k < ADV_N_KINDS ? names[k] : "?"; }

static double std_of(const float *x, int n, double mean, int unbiased) {
    if (n < 2) return 0;
    double s = 0;
    for (int i = 0; i < n; i++) s += ((double)x[i] - mean) * ((double)x[i] - mean);
    return sqrt(s / (unbiased ? n - 1 : n));
}

int advantages_compute(const adv_params *p, const float *rewards, const int *group_start, int n_groups,
                       const int *lengths, float *adv, adv_stats *st, rlvr_err *err) {
    if (p->kind < 0 || p->kind >= ADV_N_KINDS) return errf(err, RLVR_EARG, "advantages: unknown estimator %d", p->kind);
    if (n_groups < 0 || group_start[0] != 0) return errf(err, RLVR_EARG, "advantages: bad group layout");
    int n = group_start[n_groups];
    for (int g = 0; g < n_groups; g++)
        if (group_start[g + 1] < group_start[g]) return errf(err, RLVR_EARG, "advantages: group %d has negative size", g);
    for (int i = 0; i < n; i++)
        if (!isfinite(rewards[i])) return errf(err, RLVR_ENUMERIC, "advantages: reward of sample %d is %g", i, rewards[i]);
    adv_stats s = {.n_groups = n_groups};
    double bm = 0;
    for (int i = 0; i < n; i++) bm += rewards[i];
    bm = n ? bm / n : 0;
    double bstd = std_of(rewards, n, bm, p->std_unbiased);
    s.reward_mean = bm, s.reward_std = bstd;
    for (int g = 0; g < n_groups; g++) {
        int a = group_start[g], m = group_start[g + 1] - a;
        if (m == 0) continue;
        double mean = 0;
        int all_equal = 1;
        for (int i = a; i < a + m; i++) { mean += rewards[i]; all_equal &= rewards[i] == rewards[a]; }
        mean /= m;
        if (m == 1) s.single_groups++;
        else if (all_equal) s.zero_std_groups++;
        for (int i = a; i < a + m; i++) {
            double r = rewards[i], v;
            switch (p->kind) {
            case ADV_GRPO: {
                double sd = std_of(rewards + a, m, mean, p->std_unbiased);
                v = (m == 1 || all_equal) ? 0 : (r - mean) / (sd + p->eps);
                break;
            }
            case ADV_DR_GRPO: v = (m == 1 || all_equal) ? 0 : r - mean; break;
            case ADV_LITE: v = (m == 1 || all_equal) ? 0 : (r - mean) / (bstd + p->eps); break;
            case ADV_RLOO: v = (m == 1 || all_equal) ? 0 : (r - (mean * m - r) / (m - 1)); break;
            case ADV_REINFORCE_PP: v = r; break;
            default: v = (m == 1 || all_equal) ? 0 : r - mean; break; /* REINFORCE_PP_BASELINE */
            }
            adv[i] = (float)v;
        }
    }
    if (p->kind == ADV_REINFORCE_PP || p->kind == ADV_REINFORCE_PP_BASELINE) {
        /* whitening over tokens: each sample counts once per response token */
        double w = 0, mu = 0, var = 0;
        for (int i = 0; i < n; i++) { double li = lengths ? lengths[i] : 1; w += li; mu += li * adv[i]; }
        if (w > 0) {
            mu /= w;
            for (int i = 0; i < n; i++) { double li = lengths ? lengths[i] : 1; var += li * ((double)adv[i] - mu) * ((double)adv[i] - mu); }
            double sd = sqrt(var / (p->std_unbiased && w > 1 ? w - 1 : w));
            for (int i = 0; i < n; i++) adv[i] = (float)(((double)adv[i] - mu) / (sd + p->eps));
        }
    }
    if (st) *st = s;
    return RLVR_OK;
}
