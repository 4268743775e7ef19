/* countdown.c: generator and checker of the "countdown" task (see countdown.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "tasks/countdown.h"
#include "core/err.h"
#include "core/rng.h"

#define COUNTDOWN_STREAM 0x636f756e74ULL /* "count" */
#define COUNTDOWN_TRIES  4096
#define COUNTDOWN_DEPTH  32

/* ---- exact rationals --------------------------------------------------------------- */

typedef __int128 i128;
typedef struct rat { i128 n, d; } rat; /* d > 0, reduced */

static i128 gcd128(i128 a, i128 b) {
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b) { i128 t = a % b; a = b; b = t; }
    return a;
}

static int rat_norm(rat *r) {
    if (r->d == 0) return 0;
    if (r->d < 0) { r->n = -r->n; r->d = -r->d; }
    i128 g = gcd128(r->n, r->d);
    if (g > 1) { r->n /= g; r->d /= g; }
    return 1;
}

/* a op b into *out; 0 on division by zero or overflow. */
static int rat_op(char op, rat a, rat b, rat *out) {
    i128 x, y;
    switch (op) {
    case '+': case '-':
        if (__builtin_mul_overflow(a.n, b.d, &x) || __builtin_mul_overflow(b.n, a.d, &y)) return 0;
        if (op == '+' ? __builtin_add_overflow(x, y, &out->n) : __builtin_sub_overflow(x, y, &out->n)) return 0;
        if (__builtin_mul_overflow(a.d, b.d, &out->d)) return 0;
        break;
    case '*':
        if (__builtin_mul_overflow(a.n, b.n, &out->n) || __builtin_mul_overflow(a.d, b.d, &out->d)) return 0;
        break;
    case '/':
        if (b.n == 0) return 0;
        if (__builtin_mul_overflow(a.n, b.d, &out->n) || __builtin_mul_overflow(a.d, b.n, &out->d)) return 0;
        break;
    default: return 0;
    }
    return rat_norm(out);
}

/* ---- the equation parser ----------------------------------------------------------- */

typedef struct parser {
    const char *s;
    size_t n, i;
    int depth, bad;
} parser;

static void skip_ws(parser *p) { while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t')) p->i++; }

static rat parse_expr(parser *p);

static rat parse_factor(parser *p) {
    rat r = {0, 1};
    skip_ws(p);
    if (p->i >= p->n) { p->bad = 1; return r; }
    char c = p->s[p->i];
    if (c == '(') {
        if (++p->depth > COUNTDOWN_DEPTH) { p->bad = 1; return r; }
        p->i++;
        r = parse_expr(p);
        skip_ws(p);
        if (p->bad || p->i >= p->n || p->s[p->i] != ')') { p->bad = 1; return r; }
        p->i++;
        p->depth--;
        return r;
    }
    if (c < '0' || c > '9') { p->bad = 1; return r; }
    long long v = 0;
    int digits = 0;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
        if (++digits > 9) { p->bad = 1; return r; }
        v = v * 10 + (p->s[p->i++] - '0');
    }
    r.n = v;
    return r;
}

static rat parse_term(parser *p) {
    rat a = parse_factor(p);
    for (;;) {
        skip_ws(p);
        if (p->bad || p->i >= p->n || (p->s[p->i] != '*' && p->s[p->i] != '/')) return a;
        char op = p->s[p->i++];
        rat b = parse_factor(p);
        if (p->bad || !rat_op(op, a, b, &a)) { p->bad = 1; return a; }
    }
}

static rat parse_expr(parser *p) {
    rat a = parse_term(p);
    for (;;) {
        skip_ws(p);
        if (p->bad || p->i >= p->n || (p->s[p->i] != '+' && p->s[p->i] != '-')) return a;
        char op = p->s[p->i++];
        rat b = parse_term(p);
        if (p->bad || !rat_op(op, a, b, &a)) { p->bad = 1; return a; }
    }
}

int countdown_eval(const char *s, size_t n, long long *num, long long *den, long long *lits, int *n_lits) {
    if (n_lits) *n_lits = 0;
    if (!s || n > COUNTDOWN_EXPR_CAP) return 0;
    /* character filter and literals first: nothing else reaches the parser */
    int nl = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            long long v = 0;
            int digits = 0;
            while (i < n && s[i] >= '0' && s[i] <= '9') { if (++digits <= 12) v = v * 10 + (s[i] - '0'); i++; }
            if (lits && nl < COUNTDOWN_MAX_NUMS + 1) lits[nl] = digits <= 12 ? v : -1;
            if (nl < COUNTDOWN_MAX_NUMS + 1) nl++;
            continue;
        }
        if (!strchr("+-*/() \t", c) || c == 0) return 0;
        i++;
    }
    if (n_lits) *n_lits = nl;
    parser p = {s, n, 0, 0, 0};
    rat r = parse_expr(&p);
    skip_ws(&p);
    if (p.bad || p.i != n) return 0;
    if (r.n > INT64_MAX || r.n < -INT64_MAX || r.d > INT64_MAX) return 0;
    if (num) *num = (long long)r.n;
    if (den) *den = (long long)r.d;
    return 1;
}

/* ---- reference and scoring --------------------------------------------------------- */

static int parse_ll(const char *s, size_t n, size_t *i, long long *v) {
    int neg = 0, digits = 0;
    long long x = 0;
    if (*i < n && s[*i] == '-') { neg = 1; (*i)++; }
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        if (++digits > 12) return 0;
        x = x * 10 + (s[(*i)++] - '0');
    }
    if (!digits) return 0;
    *v = neg ? -x : x;
    return 1;
}

int countdown_parse_reference(const char *ref, size_t n, long long *target, int *nums, int *n_nums) {
    size_t i = 0;
    long long v;
    *n_nums = 0;
    if (!ref || n < 7 || memcmp(ref, "target=", 7)) return RLVR_EARG;
    i = 7;
    if (!parse_ll(ref, n, &i, target)) return RLVR_EARG;
    if (n - i < 6 || memcmp(ref + i, ";nums=", 6)) return RLVR_EARG;
    i += 6;
    for (;;) {
        if (*n_nums >= COUNTDOWN_MAX_NUMS || !parse_ll(ref, n, &i, &v) || v < 1 || v > 999999) return RLVR_EARG;
        nums[(*n_nums)++] = (int)v;
        if (i == n) break;
        if (ref[i] != ',') return RLVR_EARG;
        i++;
    }
    return RLVR_OK;
}

/* The content of the last "<answer>...</answer>" in s[0..n): 1 and [*b, *e), or 0. */
static int last_answer_tag(const char *s, size_t n, size_t *b, size_t *e) {
    static const char open[] = "<answer>", close[] = "</answer>";
    size_t lo = sizeof open - 1, lc = sizeof close - 1;
    if (n < lo + lc) return 0;
    for (size_t i = n - lo - lc + 1; i-- > 0;) {
        if (memcmp(s + i, open, lo)) continue;
        for (size_t j = i + lo; j + lc <= n; j++)
            if (!memcmp(s + j, close, lc)) { *b = i + lo; *e = j; return 1; }
        /* an unclosed last tag: look for an earlier closed one */
    }
    return 0;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int countdown_score(const char *completion, size_t n, const char *reference, size_t ref_n,
                    double *reward, int *correct) {
    if (reward) *reward = 0;
    if (correct) *correct = 0;
    if (!reward || (!completion && n) || !reference) return RLVR_EARG;
    long long target;
    int nums[COUNTDOWN_MAX_NUMS], n_nums;
    if (countdown_parse_reference(reference, ref_n, &target, nums, &n_nums)) return RLVR_EARG;
    size_t b, e;
    if (!completion || !last_answer_tag(completion, n, &b, &e)) return RLVR_OK;
    *reward = COUNTDOWN_FORMAT_SCORE;
    /* trim whitespace (incl. newlines) around the equation */
    while (b < e && strchr(" \t\r\n", completion[b]) && completion[b]) b++;
    while (e > b && strchr(" \t\r\n", completion[e - 1]) && completion[e - 1]) e--;
    long long num, den, lits[COUNTDOWN_MAX_NUMS + 1], want[COUNTDOWN_MAX_NUMS];
    int nl;
    if (!countdown_eval(completion + b, e - b, &num, &den, lits, &nl)) return RLVR_OK;
    if (nl != n_nums) return RLVR_OK;
    for (int i = 0; i < n_nums; i++) want[i] = nums[i];
    qsort(lits, (size_t)nl, sizeof *lits, cmp_ll);
    qsort(want, (size_t)n_nums, sizeof *want, cmp_ll);
    for (int i = 0; i < nl; i++) if (lits[i] != want[i]) return RLVR_OK;
    if (den != 1 || num != target) return RLVR_OK;
    *reward = 1.0;
    if (correct) *correct = 1;
    return RLVR_OK;
}

/* ---- generation ---------------------------------------------------------------------- */

countdown_params countdown_default_params(void) {
    countdown_params p = {4, 99, 1, 999};
    return p;
}

static void rat_str(rat r, char *buf, size_t cap) {
    if (r.d == 1) snprintf(buf, cap, "%lld", (long long)r.n);
    else snprintf(buf, cap, "%lld/%lld", (long long)r.n, (long long)r.d);
}

int countdown_generate(const countdown_params *p, uint64_t seed, uint64_t index,
                       countdown_problem *out, rlvr_err *err) {
    if (!out) return errf(err, RLVR_EARG, "countdown: out is NULL");
    memset(out, 0, sizeof *out);
    if (!p) return errf(err, RLVR_EARG, "countdown: params is NULL");
    if (p->n_nums < COUNTDOWN_MIN_NUMS || p->n_nums > COUNTDOWN_MAX_NUMS)
        return errf(err, RLVR_EARG, "countdown: n_nums %d outside %d..%d", p->n_nums, COUNTDOWN_MIN_NUMS, COUNTDOWN_MAX_NUMS);
    if (p->max_num < 1 || p->max_num > 999)
        return errf(err, RLVR_EARG, "countdown: max_num %d outside 1..999", p->max_num);
    if (p->min_target < 1 || p->max_target < p->min_target || p->max_target > 99999)
        return errf(err, RLVR_EARG, "countdown: target range %d..%d invalid (1 <= min <= max <= 99999)",
                    p->min_target, p->max_target);
    static const char OPS[4] = {'+', '-', '*', '/'};
    for (int attempt = 0; attempt < COUNTDOWN_TRIES; attempt++) {
        rng_t r;
        rng_seed(&r, seed, rng_derive(COUNTDOWN_STREAM, index, (uint64_t)attempt));
        int k = p->n_nums;
        rat val[COUNTDOWN_MAX_NUMS];
        char expr[COUNTDOWN_MAX_NUMS][COUNTDOWN_EXPR_CAP];
        char work[COUNTDOWN_TEXT_CAP - COUNTDOWN_EXPR_CAP - 32];
        size_t wl = 0;
        for (int i = 0; i < k; i++) {
            out->nums[i] = 1 + (int)rng_below(&r, (uint64_t)p->max_num);
            val[i].n = out->nums[i]; val[i].d = 1;
            snprintf(expr[i], sizeof expr[i], "%d", out->nums[i]);
        }
        int ok = 1;
        work[0] = 0;
        while (k > 1 && ok) {
            int a = (int)rng_below(&r, (uint64_t)k), b = (int)rng_below(&r, (uint64_t)k - 1);
            if (b >= a) b++;
            char op = OPS[rng_below(&r, 4)];
            rat v;
            if (!rat_op(op, val[a], val[b], &v)) { ok = 0; break; }
            if (v.n < 0 || v.n > 1000000 || v.d > 1000) { ok = 0; break; } /* keep working small and signs simple */
            char sa[40], sb[40], sv[40], e[COUNTDOWN_EXPR_CAP];
            rat_str(val[a], sa, sizeof sa); rat_str(val[b], sb, sizeof sb); rat_str(v, sv, sizeof sv);
            int m = snprintf(work + wl, sizeof work - wl, "%s %c %s = %s\n", sa, op, sb, sv);
            if (m < 0 || (size_t)m >= sizeof work - wl) { ok = 0; break; }
            wl += (size_t)m;
            int last = k == 2;
            m = snprintf(e, sizeof e, last ? "%s %c %s" : "(%s %c %s)", expr[a], op, expr[b]);
            if (m < 0 || (size_t)m >= sizeof e) { ok = 0; break; }
            /* replace a with the result, remove b */
            val[a] = v;
            memcpy(expr[a], e, sizeof e);
            val[b] = val[k - 1];
            memcpy(expr[b], expr[k - 1], sizeof expr[b]);
            k--;
        }
        if (!ok || val[0].d != 1 || val[0].n < p->min_target || val[0].n > p->max_target) continue;
        out->n_nums = p->n_nums;
        out->target = (long long)val[0].n;
        snprintf(out->equation, sizeof out->equation, "%s", expr[0]);
        char list[128], gt[COUNTDOWN_GT_CAP];
        size_t ll = 0, gl = 0;
        gl += (size_t)snprintf(gt, sizeof gt, "target=%lld;nums=", out->target);
        for (int i = 0; i < out->n_nums; i++) {
            ll += (size_t)snprintf(list + ll, sizeof list - ll, i ? ", %d" : "%d", out->nums[i]);
            gl += (size_t)snprintf(gt + gl, sizeof gt - gl, i ? ",%d" : "%d", out->nums[i]);
        }
        memcpy(out->ground_truth, gt, sizeof gt);
        snprintf(out->prompt, sizeof out->prompt,
                 "Using the numbers [%s], create an equation that equals %lld. You can use basic arithmetic "
                 "operations (+, -, *, /) and each number must be used exactly once. Show your work, then "
                 "give the equation in <answer> </answer> tags, for example <answer>(1 + 2) / 3</answer>.",
                 list, out->target);
        snprintf(out->answer, sizeof out->answer, "%s<answer>%s</answer>", work, out->equation);
        return RLVR_OK;
    }
    memset(out, 0, sizeof *out);
    return errf(err, RLVR_EARG, "countdown: no problem found in %d draws for n_nums %d, targets %d..%d",
                COUNTDOWN_TRIES, p->n_nums, p->min_target, p->max_target);
}

/* Prints obj as one line into buf (newline included). */
static int json_line(cJSON *obj, char *buf, size_t cap, size_t *n_out, const char *who, rlvr_err *err) {
    if (!obj) return errf(err, RLVR_ENOMEM, "%s: out of memory", who);
    char *s = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!s) return errf(err, RLVR_ENOMEM, "%s: out of memory", who);
    size_t n = strlen(s);
    if (n + 2 > cap) { cJSON_free(s); return errf(err, RLVR_EARG, "%s: buffer of %zu bytes too small (need %zu)", who, cap, n + 2); }
    memcpy(buf, s, n);
    buf[n] = '\n'; buf[n + 1] = 0;
    cJSON_free(s);
    if (n_out) *n_out = n + 1;
    return RLVR_OK;
}

int countdown_to_jsonl(const countdown_problem *p, char *buf, size_t cap, size_t *n_out, rlvr_err *err) {
    if (n_out) *n_out = 0;
    if (!p || !buf) return errf(err, RLVR_EARG, "countdown_to_jsonl: NULL argument");
    if (p->n_nums < 0 || p->n_nums > COUNTDOWN_MAX_NUMS) return errf(err, RLVR_EARG, "countdown_to_jsonl: bad n_nums");
    cJSON *o = cJSON_CreateObject();
    if (o) {
        char t[COUNTDOWN_TEXT_CAP];
        snprintf(t, sizeof t, "%.*s", (int)sizeof p->prompt - 1, p->prompt);
        cJSON_AddStringToObject(o, "prompt", t);
        snprintf(t, sizeof t, "%.*s", (int)sizeof p->answer - 1, p->answer);
        cJSON_AddStringToObject(o, "answer", t);
        snprintf(t, sizeof t, "%.*s", (int)sizeof p->ground_truth - 1, p->ground_truth);
        cJSON_AddStringToObject(o, "ground_truth", t);
        cJSON_AddStringToObject(o, "data_source", "countdown");
        cJSON_AddNumberToObject(o, "difficulty", p->n_nums);
        cJSON_AddNumberToObject(o, "target", (double)p->target);
        cJSON_AddItemToObject(o, "nums", cJSON_CreateIntArray(p->nums, p->n_nums));
        snprintf(t, sizeof t, "%.*s", (int)sizeof p->equation - 1, p->equation);
        cJSON_AddStringToObject(o, "equation", t);
    }
    return json_line(o, buf, cap, n_out, "countdown_to_jsonl", err);
}
