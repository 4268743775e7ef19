/* bench_rewards: reward throughput on this machine, one run.
 *   (a) math verifier: math_verify (default params) over 2000 deterministic synthetic
 *       completions (chain-of-thought text of 200-2000 bytes with inline LaTeX and
 *       arithmetic, ending in \boxed{..}: integers, fractions, decimals, tuples,
 *       radicals, multiples of pi, intervals) against golds written in another
 *       equivalent form (70%) or a wrong one (30%); samples/s, best of passes over ~3 s;
 *   (b) code sandbox: code_score on a trivial Python program with 10 test cases
 *       (bubblewrap, default limits), runs (test cases) per second over ~10 s; skipped
 *       with a message when bubblewrap does not work here;
 *   (c) external reward server: examples/my_reward.py (extserver.h) scoring batches of
 *       256 requests, requests/s over ~3 s; skipped without /usr/bin/python3.
 * Prints a table and one JSON line. Single-threaded. build/bench/bench_rewards */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "rewards/code.h"
#include "rewards/extserver.h"
#include "rewards/math.h"
#include "rewards/sandbox.h"

enum { N_MATH = 2000, N_TESTS = 10, EXT_BATCH = 256 };

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
/* xorshift64*: the same text on every run and machine. */
static uint64_t rnd(uint64_t *s) { *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27; return *s * 2685821657736338717ULL; }
static int rint_(uint64_t *s, int lo, int hi) { return lo + (int)(rnd(s) % (uint64_t)(hi - lo + 1)); }

typedef struct { char *text; size_t n; char gold[96]; int want; } sample;

/* The boxed prediction and its gold: equivalent in another form, or (wrong) off by one. */
static void make_answer(uint64_t *s, char *pred, size_t pc, char *gold, size_t gc, int wrong) {
    int a = rint_(s, 1, 99), b = rint_(s, 2, 12), d = wrong ? 1 : 0;
    switch (rnd(s) % 7) {
    case 0: snprintf(pred, pc, "%d", a * 37 - 900); snprintf(gold, gc, "%d", a * 37 - 900 + d); break;
    case 1: snprintf(pred, pc, "\\frac{%d}{%d}", a, b); snprintf(gold, gc, "%d/%d", a * 2 + d, b * 2); break;
    case 2: snprintf(pred, pc, "%d.%02d", a, b * 5); snprintf(gold, gc, "\\dfrac{%d}{100}", a * 100 + b * 5 + d); break;
    case 3: snprintf(pred, pc, "(%d, -%d)", a, b); snprintf(gold, gc, "\\left(%d,-%d\\right)", a, b + d); break;
    case 4: snprintf(pred, pc, "%d\\sqrt{%d}", b, a % 5 + 2); snprintf(gold, gc, "\\sqrt{%d}", b * b * (a % 5 + 2) + d); break;
    case 5: snprintf(pred, pc, "\\frac{%d\\pi}{%d}", a, b); snprintf(gold, gc, "%d\\pi/%d", a + d, b); break;
    default: snprintf(pred, pc, "[%d, %d)", -b, a); snprintf(gold, gc, "[-%d,%d)", b, a + d); break;
    }
}

/* Chain-of-thought filler of about `target` bytes, then the boxed answer. */
static size_t make_completion(uint64_t *s, char *buf, size_t cap, size_t target, const char *pred) {
    static const char *lead[] = {"First, note that", "We compute", "Then", "Substituting back,", "So",
                                 "Let us check:", "Hence", "Simplifying,", "Recall that", "Next,"};
    size_t n = 0;
    while (n < target && n + 200 < cap) {
        int x = rint_(s, 2, 60), y = rint_(s, 2, 60);
        const char *l = lead[rnd(s) % 10];
        switch (rnd(s) % 5) {
        case 0: n += (size_t)snprintf(buf + n, cap - n, "%s %d + %d = %d. ", l, x, y, x + y); break;
        case 1: n += (size_t)snprintf(buf + n, cap - n, "%s $x^2 - %d x + %d = 0$ gives $x = %d$ or $x = %d$. ", l, x + y, x * y, x, y); break;
        case 2: n += (size_t)snprintf(buf + n, cap - n, "%s $\\frac{%d}{%d} \\cdot %d = %d$.\n", l, x * y, y, y, x * y); break;
        case 3: n += (size_t)snprintf(buf + n, cap - n, "%s the area is %d.5 square units, about %d%% of the total. ", l, x, y); break;
        default: n += (size_t)snprintf(buf + n, cap - n, "%s we get \\( \\sqrt{%d} \\approx %d.%d \\) here.\n\n", l, x * x, x, y % 10); break;
        }
    }
    n += (size_t)snprintf(buf + n, cap - n, "Therefore, the final answer is $\\boxed{%s}$.", pred);
    return n;
}

static int cmp_d(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(void) {
    /* ---- (a) math ---- */
    sample *sm = calloc(N_MATH, sizeof *sm);
    if (!sm) return 1;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    size_t bytes = 0;
    int n_want = 0;
    for (int i = 0; i < N_MATH; i++) {
        char pred[96];
        int wrong = rnd(&seed) % 10 < 3;
        make_answer(&seed, pred, sizeof pred, sm[i].gold, sizeof sm[i].gold, wrong);
        size_t target = 200 + rnd(&seed) % 1700;
        sm[i].text = malloc(2600);
        if (!sm[i].text) return 1;
        sm[i].n = make_completion(&seed, sm[i].text, 2600, target, pred);
        sm[i].want = !wrong;
        bytes += sm[i].n;
        n_want += sm[i].want;
    }
    math_verify_params mp = math_verify_default_params();
    rlvr_err e;
    double best = 1e30, t_all0 = now(), passes[64];
    int np = 0, n_correct = 0, n_agree = 0, n_budget = 0;
    while (np < 64 && (np < 2 || now() - t_all0 < 3.0)) {
        double t0 = now();
        int c = 0, ag = 0, bh = 0;
        for (int i = 0; i < N_MATH; i++) {
            math_verdict v;
            if (math_verify(&mp, sm[i].text, sm[i].n, sm[i].gold, strlen(sm[i].gold), &v, &e) != RLVR_OK) {
                fprintf(stderr, "bench_rewards: math_verify: %s\n", e.msg);
                return 1;
            }
            c += v.correct; ag += v.correct == sm[i].want; bh += v.budget_hit;
        }
        double dt = now() - t0;
        passes[np++] = dt;
        if (dt < best) best = dt;
        n_correct = c; n_agree = ag; n_budget = bh;
    }
    qsort(passes, (size_t)np, sizeof *passes, cmp_d);
    double math_sps = N_MATH / best, math_med = N_MATH / passes[np / 2];

    /* ---- (b) code sandbox ---- */
    int have_bwrap = sandbox_available(&e) == RLVR_OK;
    char why[200] = "";
    double code_runs_s = 0, code_calls_s = 0, code_reward = 0;
    int code_calls = 0;
    if (!have_bwrap) {
        snprintf(why, sizeof why, "%.190s", e.msg);
    } else {
        static const char prog[] = "```python\nn = int(input())\nprint(n * 2)\n```";
        char ref[2048];
        size_t rn = (size_t)snprintf(ref, sizeof ref, "[");
        for (int t = 0; t < N_TESTS; t++)
            rn += (size_t)snprintf(ref + rn, sizeof ref - rn, "%s{\"input\": \"%d\\n\", \"output\": \"%d\\n\"}", t ? ", " : "", t * 7, t * 14);
        rn += (size_t)snprintf(ref + rn, sizeof ref - rn, "]");
        code_params cp = code_default_params();
        double t0 = now();
        while (code_calls < 200 && (code_calls < 2 || now() - t0 < 10.0)) {
            double r;
            int pass, nt;
            if (code_score(&cp, prog, sizeof prog - 1, ref, rn, &r, &pass, &nt, &e) != RLVR_OK) {
                fprintf(stderr, "bench_rewards: code_score: %s\n", e.msg);
                return 1;
            }
            code_reward += r;
            code_calls++;
        }
        double dt = now() - t0;
        code_calls_s = code_calls / dt;
        code_runs_s = code_calls * (double)N_TESTS / dt;
        code_reward /= code_calls;
    }

    /* ---- (c) external reward server ---- */
    double ext_rps = 0;
    long ext_n = 0;
    int have_py = access("/usr/bin/python3", X_OK) == 0 && access("examples/my_reward.py", R_OK) == 0;
    if (have_py) {
        const char *argv[] = {"/usr/bin/python3", "examples/my_reward.py", NULL};
        extserver *srv = extserver_start(argv, NULL, &e);
        extserver_request *rq = calloc(EXT_BATCH, sizeof *rq);
        double *rw = calloc(EXT_BATCH, sizeof *rw);
        if (!srv || !rq || !rw) { fprintf(stderr, "bench_rewards: extserver: %s\n", srv ? "out of memory" : e.msg); return 1; }
        for (int i = 0; i < EXT_BATCH; i++) {
            sample *x = &sm[i % N_MATH];
            rq[i] = (extserver_request){.prompt = "Solve.", .prompt_n = 6, .completion = x->text, .completion_n = x->n,
                                        .reference = x->gold, .reference_n = strlen(x->gold), .data_source = "math"};
        }
        double t0 = now();
        while (ext_n < 200000 && (ext_n == 0 || now() - t0 < 3.0)) {
            if (extserver_score_batch(srv, rq, EXT_BATCH, rw, &e) != RLVR_OK) {
                fprintf(stderr, "bench_rewards: extserver: %s\n", e.msg);
                return 1;
            }
            ext_n += EXT_BATCH;
        }
        ext_rps = ext_n / (now() - t0);
        extserver_stop(srv);
        free(rq); free(rw);
    }

    printf("bench_rewards: single thread\n");
    printf("  %-34s %10.0f samples/s (best of %d passes; median %.0f)\n", "math_verify", math_sps, np, math_med);
    printf("  %-34s %10.1f us/sample (%d samples, mean %.0f bytes)\n", "", 1e6 / math_sps, N_MATH, (double)bytes / N_MATH);
    printf("  %-34s %10d / %d (expected %d, agree %d, budget hits %d)\n", "math correct", n_correct, N_MATH, n_want, n_agree, n_budget);
    if (have_bwrap) {
        printf("  %-34s %10.1f runs/s   (%d code_score calls x %d tests)\n", "sandbox (bwrap, python3)", code_runs_s, code_calls, N_TESTS);
        printf("  %-34s %10.2f calls/s  (mean reward %.2f)\n", "code_score (10 tests)", code_calls_s, code_reward);
        if (code_reward < 1.0)
            printf("  warning: the program is correct, so every run should pass (reward 1.00): %.0f%% of sandbox\n"
                   "           runs failed (e.g. bwrap could not fork under RLIMIT_NPROC after many rapid runs)\n",
                   100 * (1 - code_reward));
    } else {
        printf("  %-34s    skipped: %s\n", "sandbox", why);
    }
    if (have_py) printf("  %-34s %10.0f requests/s (batches of %d, %ld requests)\n", "extserver (my_reward.py)", ext_rps, EXT_BATCH, ext_n);
    else printf("  %-34s    skipped: no /usr/bin/python3 or examples/my_reward.py\n", "extserver");
    printf("{\"bench\": \"rewards\", \"math_samples_per_s\": %.1f, \"math_median_samples_per_s\": %.1f, "
           "\"math_mean_bytes\": %.1f, \"math_correct\": %d, \"math_expected\": %d, \"math_agree\": %d, "
           "\"sandbox\": %s, \"sandbox_runs_per_s\": %.2f, \"code_score_calls_per_s\": %.3f, \"code_mean_reward\": %.4f, "
           "\"extserver_requests_per_s\": %.1f}\n",
           math_sps, math_med, (double)bytes / N_MATH, n_correct, n_want, n_agree, have_bwrap ? "true" : "false",
           code_runs_s, code_calls_s, code_reward, ext_rps);
    for (int i = 0; i < N_MATH; i++) free(sm[i].text);
    free(sm);
    return 0;
}
