/* check.h: the tiny harness every test binary uses. A test is a function; CHECK
 * records a failure with file:line and goes on; the binary exits non-zero when any
 * check failed. Not a framework: a counter and a few macros. */
#ifndef RLVR_TEST_CHECK_H
#define RLVR_TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

static int check_fails, check_count;

#define CHECK(cond, ...) do { check_count++; if (!(cond)) { check_fails++; \
    fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* |a - b| <= atol + rtol * |b| (b is the reference) */
#define CHECK_CLOSE(a, b, atol, rtol, what) do { double _a = (a), _b = (b); \
    CHECK(fabs(_a - _b) <= (atol) + (rtol) * fabs(_b), "%s: got %.9g want %.9g", (what), _a, _b); } while (0)

#define RUN(fn) do { int _f = check_fails; fn(); \
    printf("%-4s %s\n", check_fails == _f ? "ok" : "FAIL", #fn); fflush(stdout); } while (0)

/* Compare n floats against a reference: counts elements outside atol + rtol*|ref|,
 * prints the first few mismatches and the max error. Returns the mismatch count. */
static inline int check_arrays(const char *what, const float *got, const float *ref, size_t n,
                               double atol, double rtol) {
    size_t bad = 0; double maxerr = 0, maxrel = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - ref[i]);
        if (!(e <= atol + rtol * fabs(ref[i]))) {
            if (bad < 5) fprintf(stderr, "  %s[%zu]: got %.9g want %.9g\n", what, i, got[i], ref[i]);
            bad++;
        }
        if (e > maxerr || e != e) maxerr = e;
        double r = e / (fabs(ref[i]) + 1e-30);
        if (r > maxrel && fabs(ref[i]) > atol) maxrel = r;
    }
    check_count++;
    if (bad) { check_fails++; fprintf(stderr, "  FAIL %s: %zu/%zu outside tolerance, max abs err %.3g, max rel err %.3g\n", what, bad, n, maxerr, maxrel); }
    return (int)bad;
}

static inline int check_finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, check_count, check_fails);
    return check_fails ? 1 : 0;
}
#endif
