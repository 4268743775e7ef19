/* passk.c: pass@k, maj@k and bootstrap intervals (see passk.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/rng.h"
#include "eval/passk.h"

double pass_at_k(int n, int c, int k) {
    if (n < 1 || c < 0 || c > n || k < 1 || k > n) return NAN;
    if (n - c < k) return 1.0;
    double prod = 1.0; /* = C(n-c, k) / C(n, k) */
    for (int i = n - c + 1; i <= n; i++) prod *= 1.0 - (double)k / i;
    return 1.0 - prod;
}

double maj_at_k(const char *const *keys, const int *correct, int k) {
    int best = 0;
    /* count each distinct key among the first k (quadratic: k is small) */
    int *cnt = calloc(k > 0 ? k : 1, sizeof *cnt);
    if (!cnt) return NAN;
    for (int i = 0; i < k; i++) {
        if (!keys[i] || !keys[i][0]) continue;
        int first = 1;
        for (int j = 0; j < i && first; j++) first = !(keys[j] && !strcmp(keys[i], keys[j]));
        if (!first) continue;
        for (int j = i; j < k; j++) cnt[i] += keys[j] && !strcmp(keys[i], keys[j]);
        if (cnt[i] > best) best = cnt[i];
    }
    double ties = 0, right = 0;
    for (int i = 0; best > 0 && i < k; i++)
        if (cnt[i] == best) { ties++; right += correct[i] ? 1 : 0; }
    free(cnt);
    return ties > 0 ? right / ties : 0.0;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bootstrap_ci(const double *x, int n, double level, int reps, uint64_t seed, double *mean, double *lo, double *hi) {
    double m = 0;
    for (int i = 0; i < n; i++) m += x[i];
    m = n ? m / n : NAN;
    *mean = m, *lo = m, *hi = m;
    if (n < 2 || reps < 2) return;
    double *bs = malloc(sizeof(double) * reps);
    if (!bs) return;
    rng_t r;
    rng_seed(&r, seed, 0xB007);
    for (int b = 0; b < reps; b++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[rng_below(&r, (uint64_t)n)];
        bs[b] = s / n;
    }
    qsort(bs, reps, sizeof *bs, cmp_d);
    double a = (1 - level) / 2;
    int il = (int)floor(a * (reps - 1)), ih = (int)ceil((1 - a) * (reps - 1));
    *lo = bs[il < 0 ? 0 : il], *hi = bs[ih >= reps ? reps - 1 : ih];
    free(bs);
}
