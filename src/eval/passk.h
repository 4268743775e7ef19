/* passk.h: the sampling metrics of RL-for-reasoning evaluation. For a problem with n
 * samples of which c are correct: the unbiased pass@k estimator (Chen et al. 2021),
 * computed as 1 - prod_{i=n-c+1..n} (1 - k/i) so nothing overflows; mean@k; maj@k
 * (majority vote over normalised answers, ties counted fractionally); and bootstrap
 * confidence intervals over problems with an explicit RNG stream. */
#ifndef RLVR_PASSK_H
#define RLVR_PASSK_H
#include <stdint.h>

/* Unbiased pass@k for one problem: 1 when n - c < k; requires 0 <= c <= n, 1 <= k <= n
 * (returns NAN otherwise). */
double pass_at_k(int n, int c, int k);

/* maj@k over one problem's first k samples: keys[i] is sample i's normalised answer
 * (NULL or "" = no answer, never a winner), correct[i] whether it is right. The most
 * frequent key wins; a tie of t keys gives each 1/t, so the result is the expected
 * accuracy of breaking the tie at random. */
double maj_at_k(const char *const *keys, const int *correct, int k);

/* Mean of per-problem values x[0..n) with a percentile bootstrap interval (level,
 * e.g. 0.95; reps resamples drawn from the stream (seed, 0xB007)). */
void bootstrap_ci(const double *x, int n, double level, int reps, uint64_t seed, double *mean, double *lo, double *hi);
#endif
