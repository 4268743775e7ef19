/* test_mathverify.c: the math verifier against every test vector of the reference's
 * Math-Verify table (shared/reference/verifiers-and-reliability.md, A1; row 50 with the
 * corrected verdict), the Math-Verify issues listed there, the "bad inputs" (each one
 * timed: < 100 ms), extraction edge cases and the normalisation keys. */
#include <stdint.h>
#include <time.h>
#include "check.h"
#include "rewards/math.h"

typedef struct {
    int row;            /* reference table row (0: issue / bad-input case) */
    const char *cfg;    /* E, L, LE, default (= LE), MCQ */
    int digits;         /* Math-Verify precision p (float_digits); 0: default */
    const char *gold, *pred;
    int expect;
} vec;

#define LONG_TRACE "Let me think step by step. First we try small cases and find \\boxed{004} works. " \
    "Checking again with a different method we get \\boxed{004}. Many more words follow here " \
    "to make the trace long, and at the end the answer is \\boxed{004}."

static const vec vecs[] = {
    { 1, "E", 0, "7425000", "7,425,000", 1 },
    { 2, "E", 0, "1000", "1 000", 1 },
    { 3, "E", 0, "1000.99", "1000,99", 1 },
    { 4, "E", 0, "0.4", ".4", 1 },
    { 5, "E", 0, "1000.99", "$1,000.99", 1 },
    { 6, "E", 0, "1000.99", "the number is not 10 which is 1,000.99\xe2\x82\xac", 1 },
    { 7, "E", 0, "2", "AZYUK2A", 0 },
    { 8, "L", 0, "$9$", "Answer $\n9\n$", 0 },
    { 9, "L", 0, "$9$", "Answer $$\n9\n$$", 1 },
    { 10, "L", 0, "$1/3$", "$\\frac13 $", 1 },
    { 11, "L", 0, "$1/3$", "$\\dfrac{1}{3} $", 1 },
    { 11, "L", 0, "$1/3$", "$\\tfrac{1}{3} $", 1 },
    { 11, "L", 0, "$1/3$", "$\\cfrac{1}{3} $", 1 },
    { 12, "L", 0, "$\\sqrt{3}$", "$\\sqrt3 $", 1 },
    { 13, "L", 0, "$1/3$", "$\\frac{1}{3} \\text{meters}$", 1 },
    { 14, "L", 0, "$1/3$", "$k = \\frac{1}{3}$", 1 },
    { 15, "LE", 0, "$28\\%$", "28 pct", 1 },
    { 15, "LE", 0, "$28\\%$", "28 percent", 1 },
    { 15, "LE", 0, "$28\\%$", "$\\boxed{28 percentage}", 1 },
    { 16, "LE", 0, "$(0,9)$", "$[0,9)$", 0 },
    { 17, "L", 0, "$[-1, -\\frac{1}{2}) \\cup (-\\frac{1}{2}, 0) \\cup (0, 1) \\cup (1, \\infty)$",
      "The solution set is $\\boxed{[-1, -\\tfrac12) \\cup (-\\tfrac12, 0) \\cup (0, 1) \\cup (1, \\infty)}.$", 1 },
    { 18, "L", 0, "$x > 5$", "Therefore $x < 5$ is the solution.", 0 },
    { 19, "L", 0, "$x \\leq 5$", "$5 \\geq x$", 1 },
    { 20, "L", 0, "$x < 1$", "$-x > -1$", 1 },
    { 21, "L", 0, "$7 = 11a+c$", "$11a+c$", 0 },
    { 22, "L", 0, "$a +3z = 0$", "$0$", 0 },
    { 23, "L", 0, "$x = 11$", "$x = 5+5+1 = 7 =11$", 1 },
    { 24, "L", 0, "$2x+4y-3=0$", "$y=-\\frac{1}{2}x+\\frac{3}{4}$", 1 },
    { 25, "L", 0, "$x^2/4 + y^2/3 = 1$", "$x^2/16 + y^2/12 = 1/4$", 1 },
    { 26, "LE", 0, "$34x+45y-20z+100=0$", "$-34x-45y+20z-100=0$", 1 },
    { 27, "L", 0, "$\\begin{pmatrix}1 & 2 \\\\3 & 4\\end{pmatrix}$",
      "Special matrix: $ \\left[\\begin{array}{cc}1 & 2 \\\\3 & 4\\end{array}\\right] $", 1 },
    { 28, "L", 0, "$\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}$",
      "The matrix is $\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}$", 0 },
    { 29, "LE", 0, "$\\frac{1}{12}$", "$0.0833333333333333$", 1 },
    { 30, "LE", 0, "$(1,\\frac{9}{2})$", "$(1,4.5)$", 1 },
    { 31, "LE", 0, "$\\tan^2(y)+1$", "$\\sec^2(y)$", 1 },
    { 32, "LE", 0, "$2$", "$\\frac{1+\\sqrt{5}}{2}$", 0 },
    { 33, "LE", 0, "$1\\sqrt{19}$", "$1$", 0 },
    { 34, "LE", 2, "$(\\frac{3}{5},\\frac{8}{3}]$", "$(0.6,2.6667]$", 1 },
    { 35, "LE", 0, "$(3,1)$", "${1,3}$", 0 },
    { 35, "LE", 0, "$(1,3)$", "${1,3}$", 1 },
    { 36, "LE", 0, " So the answer is: \\[ \\boxed{32349} \\]", "is $\\boxed{32,\\! 349}$", 1 },
    { 36, "LE", 0, " So the answer is: \\[ \\boxed{32349} \\]", "is $\\boxed{32, 349}$", 0 },
    { 37, "LE", 0, "\\(\\boxed{\\text{C}}\\).", "$\\boxed{\\text{(C)}}.$", 1 },
    { 38, "LE", 0, "$\\boxed{1}\\boxed{2}$", "$\\boxed{1,2}$", 1 },
    { 39, "LE", 0, "\\boxed{1} no no no no no \\boxed{2}", "$\\boxed{1,2}$", 0 },
    { 39, "LE", 0, "\\boxed{1} papers and \\boxed{2} bins", "$\\boxed{1,2}$", 1 },
    { 40, "L", 0, "$-2 \\le x \\le 7$", "$x \\in [-2,7]$", 1 },
    { 41, "L", 0, "$x \\in [-2,7]$", "$-2 \\le x \\le 7$", 0 },
    { 42, "LE", 5, "$4$", "$4\\sqrt{2}$", 0 },
    { 43, "default", 0, "$\\pm 2021$", "$2021$", 0 },
    { 43, "default", 0, "$\\pm 2021$", "${-2021, 2021}$", 1 },
    { 44, "default", 0, "$12:00$", "$1:00$", 0 },
    { 45, "default", 0, "$n=2, 3, 4$", "$n=1, 2, 3$", 0 },
    { 46, "LE", 0, "$(p,q)=(3,2)$", "$(3,2)$", 1 },
    { 46, "LE", 0, "$AB=4,CD=5$", "$\\boxed{4, 5}$", 1 },
    { 46, "LE", 0, "$0<f(x)<1$", "$(0,1)$", 1 },
    { 47, "LE", 0, "$\\text{E}$", "$E$", 1 },
    { 47, "LE", 0, "$d$", "$\\text{E}$", 0 },
    { 48, "LE", 0, LONG_TRACE, "$004$", 1 },
    { 48, "LE", 0, "$004$", LONG_TRACE, 1 },
    { 50, "default", 0, "$1 - \\frac{1}{\\mathrm{e}}$", "$1 + \\frac{1}{\\mathrm{e}}$", 0 }, /* their suite: 1 */
};

/* Math-Verify issues and the "bad inputs" with a definite verdict */
static const vec extra[] = {
    { 0, "LE", 0, "$\\frac{1}{2006!}$", "$\\frac{1}{2004!}$", 0 },        /* #14 */
    { 0, "LE", 0, "$\\frac{1}{2^{98}}$", "$\\frac{1}{2^{99}}$", 0 },      /* #14 */
    { 0, "LE", 0, "$\\frac{1}{2^{99}}$", "$\\frac{1}{2^{99}}$", 1 },
    { 0, "LE", 0, "$\\frac{1}{2004!}$", "$\\frac{1}{2004!}$", 1 },
    { 0, "LE", 0, "3x + 4y + 14=0", "3*x-1*y+13=0", 0 },                  /* #60 */
    { 0, "LE", 0, "$4$", "$4\\sqrt(2)$", 0 },                              /* #41 */
    { 0, "LE", 0, "73", "**73**", 1 },                                     /* #76 */
    { 0, "LE", 0, "0", "1e-300", 0 },
    { 0, "LE", 0, "50", "0.5", 0 },                                        /* percent policy */
    { 0, "LE", 0, "50", "5000", 0 },
    { 0, "LE", 0, "50", "\\boxed{50\\%}", 1 },
    { 0, "LE", 0, "0.5", "\\boxed{50\\%}", 1 },
    { 0, "LE", 0, "50\\%", "\\boxed{0.5}", 1 },
    { 0, "LE", 0, "73", "$$73$$ .", 1 },
    { 0, "LE", 0, "73", "73.", 1 },
    { 0, "LE", 0, "73", "073", 1 },
    { 0, "LE", 0, "73", "7.3e1", 1 },
    { 0, "LE", 0, "73", "\xd9\xa7\xd9\xa3", 1 },                           /* Arabic-Indic */
    { 0, "LE", 0, "73", "\xef\xbc\x97\xef\xbc\x93", 1 },                   /* full width */
    { 0, "LE", 0, "5", "#### $5", 1 },
    { 0, "LE", 0, "1234", "#### 1,234.", 1 },
    { 0, "LE", 0, "0", "#### -0", 1 },
    { 0, "LE", 0, "5", "####5", 1 },
    { 0, "LE", 0, "42", "<think>so \\boxed{42}</think>", 0 },              /* only in think */
    { 0, "LE", 0, "42", "<think>so \\boxed{42} and never closed", 0 },
    { 0, "LE", 0, "42", "<think>hmm</think>The answer is \\boxed{42}.", 1 },
    { 0, "LE", 0, "1 + \\frac{1}{e}", "1 - \\frac{1}{e}", 0 },
    { 0, "LE", 0, "\\sqrt{2}", "1.41421356", 1 },
    { 0, "LE", 0, "\\sqrt{2}", "1.41", 0 },
    { 0, "LE", 0, "\\frac{1}{3}", "0.333333", 1 },                         /* rounded at 6 digits */
    { 0, "LE", 0, "\\frac{1}{3}", "0.33", 0 },
    { 0, "LE", 0, "2\\sqrt{2}", "\\boxed{\\sqrt{8}}", 1 },
    { 0, "LE", 0, "\\frac{\\sqrt{3}}{2}", "$\\frac{1}{2}\\sqrt3$", 1 },
    { 0, "LE", 0, "\\sqrt{4}", "2", 1 },
    { 0, "LE", 0, "0.\\overline{3}", "\\boxed{\\frac13}", 1 },
    { 0, "LE", 0, "\\log_2 8", "3", 1 },
    { 0, "LE", 0, "\\binom{5}{2}", "10", 1 },
    { 0, "LE", 0, "(x+1)^2", "\\boxed{x^2+2x+1}", 1 },
    { 0, "LE", 0, "(x+1)^2", "\\boxed{x^2+x+1}", 0 },
    { 0, "LE", 0, "\\frac{1 \\pm \\sqrt{5}}{2}", "\\boxed{\\frac{1+\\sqrt5}{2}, \\frac{1-\\sqrt5}{2}}", 1 },
    { 0, "LE", 0, "3", "$x = 3$", 1 },
    { 0, "LE", 0, "x = 3", "$y = 3$", 0 },
    { 0, "LE", 0, "\\text{Monday}", "The answer is: Monday", 1 },
    { 0, "LE", 0, "10", "\\boxed{10\\text{ cm}^2}", 1 },
    { 0, "LE", 0, "30", "\\boxed{30^\\circ}", 1 },
    { 0, "LE", 0, "1000", "\\boxed{1,000}", 1 },
    { 0, "LE", 0, "(1, 234)", "\\boxed{(1,234)}", 1 },
    { 0, "LE", 0, "-5", "\\boxed{\xe2\x88\x92" "5}", 1 },                   /* unicode minus */
    { 0, "LE", 0, "5", "The final answer is $5$. I hope it is correct.", 1 },
    { 0, "LE", 0, "\\pi", "\\boxed{\xcf\x80}", 1 },
    { 0, "LE", 0, "37", "\\boxed{1}\\boxed{2}\\boxed{3}\\boxed{4}\\boxed{5}\\boxed{37}", 0 },  /* shotgun */
    { 0, "LE", 0, "\\infty", "\\boxed{\\infty}", 1 },
    { 0, "LE", 0, "(-\\infty, 3]", "$x \\le 3$", 0 },                       /* set gold, relation pred */
    { 0, "LE", 0, "x \\le 3", "$(-\\infty, 3]$", 1 },
    { 0, "LE", 0, "x^2 \\le 4", "$x^2 - 4 \\le 0$", 1 },
    { 0, "LE", 0, "\\mathbb{R}", "$(-\\infty, \\infty)$", 1 },
};

static math_verify_params params_for(const char *cfg, int digits) {
    math_verify_params p = math_verify_default_params();
    if (!strcmp(cfg, "E")) p.mode = MATH_MODE_EXPR;
    else if (!strcmp(cfg, "L")) p.mode = MATH_MODE_LATEX;
    else if (!strcmp(cfg, "MCQ")) p.mode = MATH_MODE_MCQ;
    else p.mode = MATH_MODE_LENIENT;
    if (digits) p.float_digits = digits;
    return p;
}

/* The bound is 100 ms for optimised builds; sanitizer builds (ASAN=1) get 4x. */
#if defined(__SANITIZE_ADDRESS__)
#define SLOW 4
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW 4
#endif
#endif
#ifndef SLOW
#define SLOW 1
#endif
#define LIMIT_MS (100.0 * SLOW)

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int run_vec(const vec *v, double *ms) {
    math_verify_params p = params_for(v->cfg, v->digits);
    math_verdict out;
    rlvr_err err = { 0 };
    double t0 = now_ms();
    int rc = math_verify(&p, v->pred, strlen(v->pred), v->gold, strlen(v->gold), &out, &err);
    *ms = now_ms() - t0;
    CHECK(rc == RLVR_OK, "row %d: rc %d (%s)", v->row, rc, err.msg);
    if (out.correct != v->expect)
        fprintf(stderr, "  row %d [%s] gold <%s> pred <%s>: got %d want %d (extracted %d, key \"%s\")\n",
                v->row, v->cfg, v->gold, v->pred, out.correct, v->expect, out.extracted, out.pred);
    return out.correct == v->expect;
}

static void test_reference_vectors(void) {
    int n = (int)(sizeof vecs / sizeof vecs[0]), pass = 0;
    double worst = 0, ms;
    for (int i = 0; i < n; i++) {
        int ok = run_vec(&vecs[i], &ms);
        CHECK(ok, "reference row %d", vecs[i].row);
        pass += ok;
        if (ms > worst) worst = ms;
    }
    printf("  reference vectors: %d/%d pass (slowest %.2f ms)\n", pass, n, worst);
    CHECK(worst < LIMIT_MS, "slowest vector %.1f ms", worst);
}

static void test_issue_and_policy_cases(void) {
    int n = (int)(sizeof extra / sizeof extra[0]), pass = 0;
    double ms;
    for (int i = 0; i < n; i++) {
        int ok = run_vec(&extra[i], &ms);
        CHECK(ok, "extra case %d: gold <%s> pred <%s>", i, extra[i].gold, extra[i].pred);
        pass += ok;
    }
    printf("  issue/policy cases: %d/%d pass\n", pass, n);
}

static void test_mcq(void) {   /* row 49 */
    math_verify_params p = params_for("MCQ", 0);
    char buf[16];
    CHECK(math_extract(&p, "A. Because B is not valid", 25, buf, sizeof buf) == 1 && !strcmp(buf, "a"),
          "row 49a: got %s", buf);
    CHECK(math_extract(&p, "Because B is valid", 18, buf, sizeof buf) == 1 && !strcmp(buf, "b"),
          "row 49b: got %s", buf);
    math_verdict v;
    const char *pred = "Let me see.\nThe answer is (C) because it works.";
    CHECK(math_verify(&p, pred, strlen(pred), "\\text{(C)}", 10, &v, NULL) == 0 && v.correct, "mcq verify");
    CHECK(math_verify(&p, pred, strlen(pred), "D", 1, &v, NULL) == 0 && !v.correct, "mcq wrong letter");
}

/* one hostile input: must finish in < 100 ms, never crash, and give `expect` (-1: either) */
static void hostile(const char *what, const char *pred, size_t n, const char *gold, int expect) {
    math_verify_params p = math_verify_default_params();
    math_verdict v;
    double t0 = now_ms();
    int rc = math_verify(&p, pred, n, gold, strlen(gold), &v, NULL);
    double ms = now_ms() - t0;
    CHECK(rc == RLVR_OK, "%s: rc %d", what, rc);
    CHECK(ms < LIMIT_MS, "%s: %.1f ms", what, ms);
    if (expect >= 0) CHECK(v.correct == expect, "%s: verdict %d want %d", what, v.correct, expect);
    printf("  %-34s %7.2f ms  verdict %d%s\n", what, ms, v.correct, v.budget_hit ? " (budget)" : "");
}

static char *repeat(const char *unit, size_t times, const char *tail, size_t *n) {
    size_t ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(ul * times + tl + 1);
    if (!s) return NULL;
    for (size_t i = 0; i < times; i++) memcpy(s + i * ul, unit, ul);
    memcpy(s + ul * times, tail, tl + 1);
    *n = ul * times + tl;
    return s;
}

static void test_bad_inputs(void) {
    const char *t1 = "\\boxed{5^{5^{5^{5^{5}}}}}";
    hostile("power tower 5^5^5^5^5", t1, strlen(t1), "5", 0);
    hostile("power tower vs itself", t1, strlen(t1), "5^{5^{5^{5^{5}}}}", -1);
    const char *t2 = "\\boxed{2^{2^{2^{30}}}}";
    hostile("2^{2^{2^{30}}}", t2, strlen(t2), "4", 0);
    const char *t3 = "\\boxed{9^9^9^9}";
    hostile("9^9^9^9", t3, strlen(t3), "9", 0);
    const char *t4 = "\\boxed{10^{10^{10}} - 10^{10^{10}}}";
    hostile("10^{10^10} - 10^{10^10}", t4, strlen(t4), "0", -1);
    const char *t5 = "\\boxed{1000000!}";
    hostile("1000000!", t5, strlen(t5), "1", 0);
    const char *t6 = "The answer is \\boxed{3 and then it never closes";
    hostile("unclosed \\boxed{", t6, strlen(t6), "3", -1);
    size_t n;
    char *s = repeat("{", 100000, "", &n);
    char *s2 = s ? malloc(n + 8) : NULL;
    if (s2) { memcpy(s2, "\\boxed{", 7); memcpy(s2 + 7, s, n); s2[n + 7] = 0; hostile("1e5 nested {", s2, n + 7, "1", 0); }
    free(s); free(s2);
    s = repeat("(", 5000, "1", &n);
    if (s) hostile("5000 nested (", s, n, "1", -1);
    free(s);
    s = repeat("\\boxed{1}", 1 << 17, "", &n);       /* ~1.2 MB */
    if (s) hostile("1 MB of \\boxed{1}", s, n, "1", -1);
    free(s);
    s = repeat("\\boxed{1}x", 1 << 17, "", &n);
    if (s) hostile("1 MB of \\boxed{1}x vs 37", s, n, "37", 0);
    free(s);
    s = repeat("the answer is 7 and ", 1 << 19, "\\boxed{42}", &n);   /* 10 MB */
    if (s) hostile("10 MB completion", s, n, "42", 1);
    free(s);
    s = repeat("1", 10 << 20, "", &n);
    if (s) hostile("10 MB of digits", s, n, "1", 0);
    free(s);
    s = repeat("$", 10 << 20, "", &n);
    if (s) hostile("10 MB of $", s, n, "1", 0);
    free(s);
    s = repeat("\\(", 5 << 20, "", &n);
    if (s) hostile("10 MB of \\(", s, n, "1", 0);
    free(s);
    s = repeat("answer: ", 1 << 20, "", &n);
    if (s) hostile("8 MB of 'answer: '", s, n, "1", 0);
    free(s);
    s = repeat("1,", 1 << 20, "1", &n);
    if (s) hostile("2 MB list 1,1,1", s, n, "1", -1);
    free(s);
    const char bad_utf8[] = "\\boxed{4\xff\xfe" "2}\xed\xa0\x80 \xc0\xaf\x80";
    hostile("invalid UTF-8 + lone surrogate", bad_utf8, sizeof bad_utf8 - 1, "42", -1);
    const char nul[] = "The answer\0 is \\boxed{7}\0\0";
    hostile("NUL bytes", nul, sizeof nul - 1, "7", 1);
    const char crlf[] = "Line one\r\nFinal answer: 12\r\n";
    hostile("CRLF", crlf, sizeof crlf - 1, "12", 1);
    /* random bytes: no crash, bounded time */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char *r = malloc(1 << 16);
    for (int trial = 0; r && trial < 200; trial++) {
        size_t len = (size_t)(trial * 311) % (1 << 16);
        static const char alpha[] = "\\{}()[]^_$0123456789.,+-*/=<>!%&|xyz boxed frac sqrt pi e";
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            r[i] = (trial & 1) ? (char)(x & 0xFF) : alpha[x % (sizeof alpha - 1)];
        }
        math_verify_params p = math_verify_default_params();
        math_verdict v;
        double t0 = now_ms();
        int rc = math_verify(&p, r, len, r, len < 300 ? len : 300, &v, NULL);
        double ms = now_ms() - t0;
        CHECK(rc == RLVR_OK && ms < LIMIT_MS, "random trial %d: rc %d %.1f ms", trial, rc, ms);
    }
    free(r);
}

static void test_extraction(void) {
    math_verify_params p = math_verify_default_params();
    char buf[256];
    struct { const char *text; const char *want; int mode; } ex[] = {
        { "so \\boxed{\\frac{1}{2}} is it", "\\frac{1}{2}", MATH_MODE_LENIENT },
        { "nested \\boxed{\\{1, \\{2\\}\\}} ok", "\\{1, \\{2\\}\\}", MATH_MODE_LENIENT },
        { "a \\boxed{{a}{b}} b", "{a}{b}", MATH_MODE_LENIENT },
        { "first \\boxed{1} but later we see \\fbox{5}", "5", MATH_MODE_LENIENT },
        { "first \\boxed{1} then \\fbox{5}", "1, 5", MATH_MODE_LENIENT },  /* < 10 chars apart: merged */
        { "\\boxed 7 done", "7", MATH_MODE_LENIENT },
        { "#### 72", "72", MATH_MODE_LENIENT },
        { "Answer: 5 apples", "5", MATH_MODE_LENIENT },          /* cleaned: trailing unit word */
        { "**Answer:** $x=2$", "x=2", MATH_MODE_LENIENT },
        { "The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}", MATH_MODE_LENIENT },
        { "we get 3 then 4 and finally 12.", "12", MATH_MODE_LENIENT },
        { "costs $3.50 total", "3.50", MATH_MODE_LENIENT },
        { "the value is $\\sqrt{2}$ or so", "\\sqrt{2}", MATH_MODE_LENIENT },
        { "no box here but 5", "", MATH_MODE_BOXED_ONLY },
        { "boxed \\boxed{5}", "5", MATH_MODE_BOXED_ONLY },
        { "\\boxed{}", "", MATH_MODE_BOXED_ONLY },
        { "\\boxed{1}, \\boxed{2}", "1, 2", MATH_MODE_LENIENT },
        { "\\boxed{3}\\boxed{3}", "3", MATH_MODE_LENIENT },
        { "it is 12%", "12%", MATH_MODE_EXPR },
        { "1,5 and 2,5", "2.5", MATH_MODE_EXPR },
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        p.mode = ex[i].mode;
        int n = math_extract(&p, ex[i].text, strlen(ex[i].text), buf, sizeof buf);
        CHECK(n == (int)strlen(ex[i].want) && !strcmp(buf, ex[i].want), "extract <%s>: got <%s> (%d) want <%s>",
              ex[i].text, buf, n, ex[i].want);
    }
    p.mode = MATH_MODE_LENIENT;
    char tiny[4];
    int n = math_extract(&p, "\\boxed{123456}", 14, tiny, sizeof tiny);
    CHECK(n == 6 && !strcmp(tiny, "123"), "truncation: %d <%s>", n, tiny);
    CHECK(math_extract(NULL, "x", 1, buf, sizeof buf) == -1, "NULL params");
    p.mode = MATH_MODE_CUSTOM;
    memset(p.order, 0, sizeof p.order);
    p.order[0] = MATH_SRC_NUMBER; p.order[1] = MATH_SRC_BOXED;
    n = math_extract(&p, "\\boxed{5} and 7", 15, buf, sizeof buf);
    CHECK(n == 1 && !strcmp(buf, "7"), "custom order: <%s>", buf);
}

static void test_keys(void) {
    struct { const char *a, *b; int same; } k[] = {
        { "1/2", "0.5", 1 }, { "\\frac12", "0.5", 1 }, { "\\frac{1}{2}", "1/2", 1 }, { "x = 0.5", "\\frac12", 1 },
        { "50\\%", "50", 1 }, { "\\{1, 2\\}", "2, 1", 1 }, { "1,000", "1000", 1 }, { "\\dfrac{2}{4}", "1/2", 1 },
        { "1/2", "1/3", 0 }, { "(1,2)", "(2,1)", 0 }, { "[0,1)", "(0,1]", 0 },
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        char a[256], b[256];
        int la = math_normalize(k[i].a, strlen(k[i].a), a, sizeof a);
        int lb = math_normalize(k[i].b, strlen(k[i].b), b, sizeof b);
        CHECK(la > 0 && lb > 0 && (strcmp(a, b) == 0) == k[i].same, "keys <%s>=%s <%s>=%s", k[i].a, a, k[i].b, b);
    }
    char a[8];
    CHECK(math_normalize("\\frac12", 7, a, sizeof a) == 3 && !strcmp(a, "1/2"), "key 1/2: %s", a);
}

static void test_api(void) {
    math_verify_params p = math_verify_default_params();
    math_verdict v;
    rlvr_err err = { 0 };
    CHECK(math_verify(NULL, "x", 1, "x", 1, &v, &err) == RLVR_EARG, "NULL params");
    CHECK(math_verify(&p, "x", 1, "x", 1, NULL, &err) == RLVR_EARG, "NULL out");
    CHECK(math_verify(&p, NULL, 3, "x", 1, &v, &err) == RLVR_EARG, "NULL text");
    CHECK(math_verify(&p, "", 0, "1", 1, &v, &err) == RLVR_OK && !v.extracted && !v.correct, "empty completion");
    CHECK(math_verify(&p, "\\boxed{2}", 9, "", 0, &v, &err) == RLVR_OK && !v.correct, "empty gold");
    CHECK(math_verify(&p, "\\boxed{1/2}", 11, "0.5", 3, &v, &err) == RLVR_OK && v.correct && v.gold_ok &&
          v.source == MATH_SRC_BOXED && !strcmp(v.pred, "1/2"), "verdict fields: pred %s", v.pred);
    p.work_budget = 50;
    const char *big = "\\boxed{(x+1)^{20} + (y+2)^{20} + (z+3)^{20}}";
    CHECK(math_verify(&p, big, strlen(big), "(x+1)^{20} + (y+2)^{20} + (z+3)^{21}", 37, &v, &err) == RLVR_OK &&
          !v.correct && v.budget_hit, "tiny budget: correct %d budget_hit %d", v.correct, v.budget_hit);
}

int main(void) {
    RUN(test_reference_vectors);
    RUN(test_issue_and_policy_cases);
    RUN(test_mcq);
    RUN(test_extraction);
    RUN(test_keys);
    RUN(test_api);
    RUN(test_bad_inputs);
    return check_finish("test_mathverify");
}
