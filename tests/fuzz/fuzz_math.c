/* fuzz_math.c: libFuzzer target for the math answer verifier (src/rewards/math*.c).
 *
 * The input is split at its first NUL or newline into a completion and a gold answer
 * (no separator: the whole input is the completion, gold "0"). math_verify runs with
 * default params, then with a tiny work budget; math_extract and math_normalize run on
 * both parts. Checked: no crash or sanitizer report; the verdict is well formed (flags
 * 0/1, pred NUL-terminated, a budget hit is never "correct"); each call stays bounded
 * (FUZZ_MATH_MAX_S seconds wall, far above normal, well below libFuzzer's -timeout).
 * Build and run: tests/fuzz/run.sh (docs/fuzzing.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "rewards/math.h"

#ifndef FUZZ_MATH_MAX_S
#define FUZZ_MATH_MAX_S 3.0
#endif

static volatile uint64_t sink;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void check_verdict(const math_verdict *v) {
    if ((v->correct | v->extracted | v->gold_ok | v->budget_hit) & ~1) abort();
    if (v->source < MATH_SRC_END || v->source >= MATH_SRC_COUNT) abort();
    if (v->budget_hit && v->correct) abort();
    if (!memchr(v->pred, 0, sizeof v->pred)) abort();
    sink += v->correct + strlen(v->pred);
}

static void verify(const math_verify_params *p, const char *c, size_t n, const char *g, size_t gn) {
    math_verdict v;
    rlvr_err err;
    memset(&v, 0x5a, sizeof v);
    double t0 = now_s();
    int rc = math_verify(p, c, n, g, gn, &v, &err);
    if (now_s() - t0 > FUZZ_MATH_MAX_S) abort();   /* the work budget must bound the time */
    if (rc == RLVR_OK) check_verdict(&v);
    else if (rc != RLVR_ENOMEM) abort();            /* valid arguments: only OOM may fail */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    size_t cut = size;
    for (size_t i = 0; i < size; i++)
        if (s[i] == 0 || s[i] == '\n') { cut = i; break; }
    const char *comp = s, *gold = cut < size ? s + cut + 1 : "0";
    size_t comp_n = cut, gold_n = cut < size ? size - cut - 1 : 1;

    math_verify_params p = math_verify_default_params();
    verify(&p, comp, comp_n, gold, gold_n);
    p.work_budget = 2000;                          /* exhaustion paths */
    verify(&p, comp, comp_n, gold, gold_n);
    p = math_verify_default_params();
    p.mode = (int)(size % 5);                       /* LENIENT..MCQ */
    p.strip_think = (int)(size & 1);
    verify(&p, comp, comp_n, gold, gold_n);

    char buf[512];
    p = math_verify_default_params();
    int k = math_extract(&p, comp, comp_n, buf, sizeof buf);
    if (k < -1 || (k >= 0 && !memchr(buf, 0, sizeof buf))) abort();
    if (k > 0) {
        char key[512];
        int m = math_normalize(buf, strlen(buf), key, sizeof key);
        if (m < -1) abort();
    }
    if (math_normalize(gold, gold_n, buf, sizeof buf) < -1) abort();
    return 0;
}
