/* test_eval: pass@k against exact binomial values (c = 0, c = n, n - c < k, large n
 * without overflow), maj@k with ties and missing answers, bootstrap intervals. */
#include "check.h"
#include "eval/passk.h"

static double exact_pass(int n, int c, int k) { /* 1 - C(n-c,k)/C(n,k) with lgamma-free products */
    if (n - c < k) return 1.0;
    double r = 1;
    for (int i = 0; i < k; i++) r *= (double)(n - c - i) / (n - i);
    return 1 - r;
}

static void test_pass_at_k(void) {
    CHECK(pass_at_k(10, 0, 1) == 0 && pass_at_k(10, 0, 10) == 0, "no correct sample: 0");
    CHECK(pass_at_k(10, 10, 1) == 1 && pass_at_k(10, 10, 5) == 1, "all correct: 1");
    CHECK(pass_at_k(10, 8, 3) == 1, "n - c < k: 1");
    CHECK_CLOSE(pass_at_k(10, 1, 1), 0.1, 1e-15, 0, "pass@1 = c/n");
    CHECK_CLOSE(pass_at_k(5, 2, 2), 1 - 3.0 / 10, 1e-15, 0, "pass@2 of 2/5 = 1 - C(3,2)/C(5,2) = 0.7");
    for (int n = 1; n <= 20; n++)
        for (int c = 0; c <= n; c++)
            for (int k = 1; k <= n; k++) CHECK_CLOSE(pass_at_k(n, c, k), exact_pass(n, c, k), 1e-12, 1e-12, "exact small n");
    double v = pass_at_k(1000, 3, 64); /* C(1000, 64) overflows doubles; the product form does not */
    CHECK(isfinite(v) && v > 0 && v < 1, "large n: %g", v);
    CHECK_CLOSE(v, exact_pass(1000, 3, 64), 1e-12, 1e-9, "large n exact");
    CHECK(isnan(pass_at_k(4, 5, 1)) && isnan(pass_at_k(4, 1, 5)) && isnan(pass_at_k(4, 1, 0)), "invalid arguments give NAN");
}

static void test_maj_at_k(void) {
    const char *k1[] = {"1/2", "3", "1/2", "3", "7"};
    int c1[] = {1, 0, 1, 0, 0};
    CHECK_CLOSE(maj_at_k(k1, c1, 5), 0.5, 1e-15, 0, "a 2-2 tie between right and wrong counts 1/2");
    CHECK_CLOSE(maj_at_k(k1, c1, 3), 1.0, 1e-15, 0, "first 3: 1/2 wins");
    const char *k2[] = {"", "5", NULL, "5", "4"};
    int c2[] = {0, 0, 0, 0, 1};
    CHECK(maj_at_k(k2, c2, 5) == 0.0, "missing answers never win; 5 (wrong) wins");
    const char *k3[] = {NULL, ""};
    int c3[] = {0, 0};
    CHECK(maj_at_k(k3, c3, 2) == 0.0, "no answers at all: 0");
}

static void test_bootstrap(void) {
    double x[200], m, lo, hi, m2, lo2, hi2;
    for (int i = 0; i < 200; i++) x[i] = i % 4 == 0; /* mean 0.25 */
    bootstrap_ci(x, 200, 0.95, 2000, 7, &m, &lo, &hi);
    CHECK_CLOSE(m, 0.25, 1e-12, 0, "mean");
    double se = sqrt(0.25 * 0.75 / 200); /* normal approximation: +-1.96 se */
    CHECK(lo < 0.25 && hi > 0.25 && fabs((hi - lo) - 2 * 1.96 * se) < 0.03, "interval [%g, %g] vs width %g", lo, hi, 2 * 1.96 * se);
    bootstrap_ci(x, 200, 0.95, 2000, 7, &m2, &lo2, &hi2);
    CHECK(lo == lo2 && hi == hi2, "same seed, same interval");
}

int main(void) {
    RUN(test_pass_at_k);
    RUN(test_maj_at_k);
    RUN(test_bootstrap);
    return check_finish("test_eval");
}
