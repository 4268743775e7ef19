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

/* a vocabulary of many blocks (the draw walks block sums, then one block): tokens
 * spread over every block, frequencies and log-probs as claimed, V = 1 works */
static void test_large_vocab(void) {
    enum { V = 1000, NT = 7 };
    static float z[V], scratch[2 * V];
    static const int hot[NT] = {0, 255, 256, 511, 600, 998, 999};
    for (int j = 0; j < V; j++) z[j] = -4.0f + 0.001f * (j % 17);
    for (int i = 0; i < NT; i++) z[hot[i]] = 2.0f + 0.1f * i;
    for (int t = 0; t < 2; t++) {
        sampler_params sp = sampler_default_params();
        sp.temperature = t ? 0.7f : 1.0f;
        double mx = -1e30, sum = 0, p[V];
        for (int j = 0; j < V; j++) if (z[j] / sp.temperature > mx) mx = z[j] / sp.temperature;
        for (int j = 0; j < V; j++) sum += (p[j] = exp(z[j] / sp.temperature - mx));
        rng_t r;
        rng_seed(&r, 77, (uint64_t)t);
        int n = 100000, cnt[NT] = {0}, cold = 0;
        double maxd = 0;
        for (int i = 0; i < n; i++) {
            sample_out o = sampler_sample(&sp, z, V, &r, scratch);
            int k = -1;
            for (int h = 0; h < NT; h++) if (hot[h] == o.token) k = h;
            if (k >= 0) cnt[k]++; else cold++;
            double d = fabs(o.logp_sample - log(p[o.token] / sum));
            if (d > maxd) maxd = d;
        }
        for (int h = 0; h < NT; h++) {
            double w = p[hot[h]] / sum, f = (double)cnt[h] / n, sd = sqrt(w * (1 - w) / n);
            CHECK(fabs(f - w) <= 5 * sd, "V=%d t=%g: token %d frequency %.4f, want %.4f", V, sp.temperature, hot[h], f, w);
        }
        double wc = 1;
        for (int h = 0; h < NT; h++) wc -= p[hot[h]] / sum;
        CHECK(fabs((double)cold / n - wc) <= 5 * sqrt(wc * (1 - wc) / n), "V=%d: other tokens %.4f, want %.4f", V, (double)cold / n, wc);
        CHECK(maxd <= 1e-5, "V=%d: logp_sample off by %g", V, maxd);
    }
    sampler_params sp = sampler_default_params();
    rng_t r;
    rng_seed(&r, 1, 1);
    float one = 3.0f, s1[2];
    sample_out o = sampler_sample(&sp, &one, 1, &r, s1);
    CHECK(o.token == 0 && fabs(o.logp) < 1e-6, "V=1: token %d logp %g", o.token, o.logp);
}

int main(void) {
    RUN(test_greedy);
    RUN(test_large_vocab);
    RUN(test_temperature);
    RUN(test_truncation);
    RUN(test_reproducible);
    return check_finish("test_sampler");
}
