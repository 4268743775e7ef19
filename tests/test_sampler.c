/* test_sampler: greedy, tempered and truncated sampling draw from the distribution
 * they claim (frequencies within 5 sigma over many draws), report the right
 * log-probs, and repeat exactly for a seed. */
#include "check.h"
#include "rollout/sampler.h"

static const float Z[5] = {2.0f, 1.5f, 0.8f, -0.3f, 0.8f};

static void probs(const float *z, int V, float t, double *p) {
    double mx = -1e30, s = 0;
    for (int j = 0; j < V; j++) if (z[j] / t > mx) mx = z[j] / t;
    for (int j = 0; j < V; j++) s += (p[j] = exp(z[j] / t - mx));
    for (int j = 0; j < V; j++) p[j] /= s;
}

/* draws n samples and checks each token's frequency against want[] (0 = never) */
static void check_freq(const char *what, sampler_params sp, const double *want) {
    rng_t r;
    rng_seed(&r, 42, 7);
    float scratch[10];
    int n = 200000, cnt[5] = {0};
    for (int i = 0; i < n; i++) cnt[sampler_sample(&sp, Z, 5, &r, scratch).token]++;
    for (int j = 0; j < 5; j++) {
        double f = (double)cnt[j] / n, sd = sqrt(want[j] * (1 - want[j]) / n);
        CHECK(fabs(f - want[j]) <= 5 * sd + 1e-12, "%s: token %d frequency %.4f, want %.4f", what, j, f, want[j]);
    }
}

static void test_greedy(void) {
    sampler_params sp = sampler_default_params();
    sp.temperature = 0;
    rng_t r;
    rng_seed(&r, 1, 0);
    float s[10], tie[3] = {1.0f, 3.0f, 3.0f};
    sample_out o = sampler_sample(&sp, Z, 5, &r, s);
    double p[5];
    probs(Z, 5, 1, p);
    CHECK(o.token == 0, "greedy picked %d", o.token);
    CHECK_CLOSE(o.logp, log(p[0]), 1e-6, 1e-6, "greedy logp");
    CHECK(sampler_sample(&sp, tie, 3, &r, s).token == 1, "ties go to the lowest id");
}

static void test_temperature(void) {
    double p[5];
    sampler_params sp = sampler_default_params();
    probs(Z, 5, 1, p);
    check_freq("t=1", sp, p);
    sp.temperature = 0.5f;
    probs(Z, 5, 0.5f, p);
    check_freq("t=0.5", sp, p);
    rng_t r;
    rng_seed(&r, 3, 0);
    float s[10];
    sample_out o = sampler_sample(&sp, Z, 5, &r, s);
    double p1[5];
    probs(Z, 5, 1, p1);
    CHECK_CLOSE(o.logp, log(p1[o.token]), 1e-6, 1e-6, "logp is under raw logits");
    CHECK_CLOSE(o.logp_sample, log(p[o.token]), 1e-6, 1e-6, "logp_sample is under the tempered distribution");
}

static void test_truncation(void) {
    double p[5], w[5];
    probs(Z, 5, 1, p); /* about 0.43 0.26 0.13 0.04 0.13 */
    sampler_params sp = sampler_default_params();
    sp.top_k = 2;
    double s2 = p[0] + p[1];
    w[0] = p[0] / s2, w[1] = p[1] / s2, w[2] = w[3] = w[4] = 0;
    check_freq("top_k=2", sp, w);
    sp = sampler_default_params();
    sp.top_p = 0.6f; /* 0.43 < 0.6 <= 0.43+0.26 */
    check_freq("top_p=0.6", sp, w);
    sp = sampler_default_params();
    sp.min_p = 0.5f; /* keeps p >= 0.5*0.43: tokens 0 and 1 */
    check_freq("min_p=0.5", sp, w);
    sp = sampler_default_params();
    sp.top_p = 0.75f; /* 0.69 < 0.75: adds the 0.13 tie, lowest id first: token 2 */
    double s3 = p[0] + p[1] + p[2];
    double w3[5] = {p[0] / s3, p[1] / s3, p[2] / s3, 0, 0};
    check_freq("top_p=0.75 (ties by id)", sp, w3);
    rng_t r;
    rng_seed(&r, 5, 0);
    float s[10];
    sp.top_p = 0.6f;
    sample_out o = sampler_sample(&sp, Z, 5, &r, s);
    CHECK_CLOSE(o.logp_sample, log(w[o.token]), 1e-6, 1e-6, "logp_sample under the renormalised top-p set");
}

static void test_reproducible(void) {
    sampler_params sp = sampler_default_params();
    sp.top_k = 3;
    float s[10];
    rng_t a, b;
    rng_seed(&a, 9, 1);
    rng_seed(&b, 9, 1);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= sampler_sample(&sp, Z, 5, &a, s).token == sampler_sample(&sp, Z, 5, &b, s).token;
    CHECK(same, "same seed and stream must give the same tokens");
    sampler_params bad = sampler_default_params();
    bad.top_p = 0;
    rlvr_err e;
    CHECK(sampler_check(&bad, &e) == RLVR_ECONFIG && strstr(e.msg, "top_p"), "top_p=0 must be refused: %s", e.msg);
}

int main(void) {
    RUN(test_greedy);
    RUN(test_temperature);
    RUN(test_truncation);
    RUN(test_reproducible);
    return check_finish("test_sampler");
}
