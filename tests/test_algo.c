/* test_algo: advantage estimators against closed forms, and the policy losses'
 * per-token gradients against finite differences in every clip mode, aggregation,
 * ratio level and KL estimator; GPPO's preserved gradient; clip fractions. */
#include "check.h"
#include "algo/advantage.h"
#include "algo/loss.h"
#include "core/rng.h"

static void test_advantages_closed_form(void) {
    /* group 0: [1,0,0,1]; group 1: all equal; group 2: a single sample */
    float r[] = {1, 0, 0, 1, 0.5f, 0.5f, 0.5f, 1};
    int gs[] = {0, 4, 7, 8};
    float a[8];
    adv_stats st;
    adv_params p = adv_default_params();
    CHECK(advantages_compute(&p, r, gs, 3, NULL, a, &st, NULL) == 0, "grpo");
    double sd = sqrt(1.0 / 3.0); /* unbiased std of [1,0,0,1] */
    CHECK_CLOSE(a[0], 0.5 / (sd + 1e-6), 1e-6, 1e-6, "grpo A+");
    CHECK_CLOSE(a[1], -0.5 / (sd + 1e-6), 1e-6, 1e-6, "grpo A-");
    CHECK(a[4] == 0 && a[5] == 0 && a[6] == 0 && a[7] == 0, "zero-std and single groups get exactly 0");
    CHECK(st.zero_std_groups == 1 && st.single_groups == 1, "stats %d %d", st.zero_std_groups, st.single_groups);
    p.std_unbiased = 0;
    advantages_compute(&p, r, gs, 3, NULL, a, NULL, NULL);
    CHECK_CLOSE(a[0], 0.5 / (0.5 + 1e-6), 1e-6, 1e-6, "grpo biased std");
    p = adv_default_params();
    p.kind = ADV_DR_GRPO;
    advantages_compute(&p, r, gs, 3, NULL, a, NULL, NULL);
    CHECK(a[0] == 0.5f && a[1] == -0.5f, "dr_grpo: %g %g", a[0], a[1]);
    p.kind = ADV_RLOO;
    advantages_compute(&p, r, gs, 3, NULL, a, NULL, NULL);
    CHECK_CLOSE(a[0], 1 - 1.0 / 3, 1e-6, 0, "rloo A+");
    CHECK_CLOSE(a[1], 0 - 2.0 / 3, 1e-6, 0, "rloo A-");
    p.kind = ADV_LITE;
    advantages_compute(&p, r, gs, 3, NULL, a, NULL, NULL);
    double bm = 4.5 / 8, bv = 0;
    for (int i = 0; i < 8; i++) bv += (r[i] - bm) * (r[i] - bm);
    CHECK_CLOSE(a[0], 0.5 / (sqrt(bv / 7) + 1e-6), 1e-6, 1e-6, "lite: group mean, batch std");
    p.kind = ADV_REINFORCE_PP;
    int len[] = {3, 1, 2, 5, 1, 1, 1, 4};
    advantages_compute(&p, r, gs, 3, len, a, NULL, NULL);
    double w = 0, mu = 0, var = 0;
    for (int i = 0; i < 8; i++) w += len[i], mu += len[i] * a[i];
    mu /= w;
    for (int i = 0; i < 8; i++) var += len[i] * (a[i] - mu) * (a[i] - mu);
    CHECK(fabs(mu) < 1e-6 && fabs(sqrt(var / (w - 1)) - 1) < 1e-5, "reinforce++: token-weighted mean %g, std %g", mu, sqrt(var / (w - 1)));
    float bad[] = {1, NAN};
    int g1[] = {0, 2};
    rlvr_err e;
    CHECK(advantages_compute(&p, bad, g1, 1, NULL, a, NULL, &e) == RLVR_ENUMERIC && strstr(e.msg, "sample 1"), "NaN reward: %s", e.msg);
    CHECK(adv_kind_parse("dr_grpo") == ADV_DR_GRPO && adv_kind_parse("x") == -1, "names");
}

enum { NS = 4, NT = 23 };
static int ts[NS + 1] = {0, 5, 6, 15, 23};
static float lp[NT], old[NT], ref[NT], ent[NT], mask[NT], adv[NS];

static void fill(uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed, 0);
    for (int t = 0; t < NT; t++) {
        old[t] = -1.5f + 0.5f * rng_normal(&r);
        lp[t] = old[t] + 0.25f * rng_normal(&r); /* ratios around 1, many outside the clip range */
        ref[t] = lp[t] + 0.3f * rng_normal(&r);
        ent[t] = 1.0f + rng_float(&r);
        mask[t] = (t == 7 || t == 16) ? 0.0f : 1.0f;
    }
    for (int i = 0; i < NS; i++) adv[i] = rng_normal(&r);
}

static double loss_at(const loss_params *p) {
    float d[NT], de[NT];
    loss_stats st;
    policy_loss(p, NS, ts, lp, old, ref, ent, mask, adv, d, de, &st, NULL);
    return st.loss;
}

static void fd_case(const char *what, loss_params p) {
    float d[NT], de[NT];
    loss_stats st;
    CHECK(policy_loss(&p, NS, ts, lp, old, ref, ent, mask, adv, d, de, &st, NULL) == 0, "%s", what);
    int bad = 0;
    for (int t = 0; t < NT; t++) {
        float x0 = lp[t];
        double h = 1e-3;
        lp[t] = (float)(x0 + h);
        double hp = (double)lp[t] - x0, lpv = loss_at(&p);
        lp[t] = (float)(x0 - h);
        double hm = x0 - (double)lp[t], lmv = loss_at(&p);
        lp[t] = x0;
        double num = (lpv - lmv) / (hp + hm);
        if (fabs(num - d[t]) > 2e-5 + 2e-3 * fabs(num)) {
            if (bad < 3) fprintf(stderr, "  %s token %d: analytic %.8g numeric %.8g\n", what, t, d[t], num);
            bad++;
        }
        if (mask[t] == 0) CHECK(d[t] == 0, "%s: masked token %d has gradient %g", what, t, d[t]);
    }
    CHECK(bad == 0, "%s: %d tokens disagree with finite differences", what, bad);
    /* the entropy bonus: dL/dH_t = -coef * weight */
    for (int t = 0; t < NT; t++) {
        float e0 = ent[t];
        ent[t] = e0 + 0.01f;
        double up = loss_at(&p);
        ent[t] = e0;
        double num = (up - st.loss) / ((double)(e0 + 0.01f) - e0);
        if (fabs(num - de[t]) > 1e-5 + 1e-3 * fabs(num)) { CHECK(0, "%s: entropy gradient at %d: %g vs %g", what, t, de[t], num); break; }
    }
}

static void test_loss_gradients(void) {
    const char *cn[] = {"ppo", "dual", "none"};
    clip_mode cm[] = {CLIP_PPO, CLIP_DUAL, CLIP_NONE};
    for (uint64_t seed = 1; seed <= 3; seed++) {
        fill(seed);
        for (int c = 0; c < 3; c++)
            for (int agg = 0; agg < AGG_N_MODES; agg++)
                for (int lvl = 0; lvl < 2; lvl++)
                    for (int kl = 0; kl < KL_N_KINDS; kl++) {
                        loss_params p = loss_default_params();
                        p.clip = cm[c], p.agg = agg, p.level = lvl, p.kl = kl;
                        p.clip_high = 0.28f, p.clip_c = 1.5f, p.kl_coef = 0.05f, p.entropy_coef = 0.01f, p.norm_len = 12;
                        char what[96];
                        snprintf(what, sizeof what, "seed %d clip %s agg %d level %d kl k%d", (int)seed, cn[c], agg, lvl, kl + 1);
                        fd_case(what, p);
                    }
    }
}

static void test_aggregation_values(void) {
    /* two sequences, lengths 1 and 3, ratio 1 everywhere: token loss = -A */
    int t2[] = {0, 1, 4};
    float l[4] = {-1, -1, -1, -1}, o[4] = {-1, -1, -1, -1}, mk[4] = {1, 1, 1, 1}, A[2] = {2, -1}, d[4];
    loss_stats st;
    loss_params p = loss_default_params();
    p.agg = AGG_TOKEN_MEAN;
    policy_loss(&p, 2, t2, l, o, NULL, NULL, mk, A, d, NULL, &st, NULL);
    CHECK_CLOSE(st.loss, (-2 + 3 * 1) / 4.0, 1e-9, 0, "token_mean");
    p.agg = AGG_SEQ_MEAN_TOKEN_MEAN;
    policy_loss(&p, 2, t2, l, o, NULL, NULL, mk, A, d, NULL, &st, NULL);
    CHECK_CLOSE(st.loss, (-2 + 1) / 2.0, 1e-9, 0, "seq_mean_token_mean");
    p.agg = AGG_SEQ_MEAN_TOKEN_SUM;
    policy_loss(&p, 2, t2, l, o, NULL, NULL, mk, A, d, NULL, &st, NULL);
    CHECK_CLOSE(st.loss, (-2 + 3) / 2.0, 1e-9, 0, "seq_mean_token_sum");
    p.agg = AGG_SEQ_MEAN_TOKEN_SUM_NORM, p.norm_len = 10;
    policy_loss(&p, 2, t2, l, o, NULL, NULL, mk, A, d, NULL, &st, NULL);
    CHECK_CLOSE(st.loss, (-2 + 3) / 20.0, 1e-9, 0, "seq_mean_token_sum_norm (Dr. GRPO)");
    /* micro-batching: global denominators make two halves sum to the whole */
    p.agg = AGG_TOKEN_MEAN, p.global_tokens = 4;
    loss_stats s1, s2;
    policy_loss(&p, 1, t2, l, o, NULL, NULL, mk, A, d, NULL, &s1, NULL);
    int t3[] = {0, 3};
    policy_loss(&p, 1, t3, l + 1, o + 1, NULL, NULL, mk + 1, A + 1, d, NULL, &s2, NULL);
    CHECK_CLOSE(s1.loss + s2.loss, (-2 + 3) / 4.0, 1e-9, 0, "micro-batches with global_tokens");
}

static void test_clipping_and_gppo(void) {
    /* one token per sequence; ratios chosen in each region */
    int t5[] = {0, 1, 2, 3, 4, 5};
    float o[5] = {0, 0, 0, 0, 0}, l[5], mk[5] = {1, 1, 1, 1, 1}, d[5];
    float r[5] = {1.5f, 0.5f, 1.1f, 5.0f, 0.7f}, A[5] = {1, -1, 1, -1, 1};
    for (int i = 0; i < 5; i++) l[i] = logf(r[i]);
    loss_params p = loss_default_params();
    p.clip = CLIP_DUAL, p.clip_low = 0.2f, p.clip_high = 0.28f, p.clip_c = 3;
    loss_stats st;
    policy_loss(&p, 5, t5, l, o, NULL, NULL, mk, A, d, NULL, &st, NULL);
    /* token 0: r=1.5 > 1.28, A>0: clipped high, zero gradient; token 1: r=0.5 < 0.8, A<0: clipped low;
     * token 2: inside; token 3: r=5 with A<0: dual-clipped at 3; token 4: r=0.7, A>0: unclipped (min picks rA) */
    CHECK(d[0] == 0 && d[1] == 0 && d[3] == 0, "clipped tokens must have zero gradient: %g %g %g", d[0], d[1], d[3]);
    CHECK(d[2] != 0 && d[4] != 0, "unclipped tokens keep their gradient");
    CHECK_CLOSE(st.clip_frac_high, 0.2, 1e-9, 0, "clip_frac_high");
    CHECK_CLOSE(st.clip_frac_low, 0.2, 1e-9, 0, "clip_frac_low");
    CHECK_CLOSE(st.clip_frac_dual, 0.2, 1e-9, 0, "clip_frac_dual");
    float dg[5];
    loss_stats sg;
    p.clip = CLIP_GPPO;
    policy_loss(&p, 5, t5, l, o, NULL, NULL, mk, A, dg, NULL, &sg, NULL);
    CHECK_CLOSE(sg.loss, st.loss, 1e-9, 1e-9, "GPPO forward equals the dual-clip forward");
    /* GPPO gradient = (1 +- eps)/r x the unclipped gradient (-A r w, w = 1/5) */
    CHECK_CLOSE(dg[0], (1.28 / 1.5) * (-1 * 1.5 / 5), 1e-7, 1e-5, "GPPO high clip gradient");
    CHECK_CLOSE(dg[1], (0.8 / 0.5) * (1 * 0.5 / 5), 1e-7, 1e-5, "GPPO low clip gradient");
    CHECK_CLOSE(dg[2], d[2], 1e-9, 1e-9, "GPPO equals PPO inside the range");
}

int main(void) {
    RUN(test_advantages_closed_form);
    RUN(test_loss_gradients);
    RUN(test_aggregation_values);
    RUN(test_clipping_and_gppo);
    return check_finish("test_algo");
}
