/* chain.c: R-Horizon composition of arith problems (see chain.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "tasks/chain.h"
#include "core/err.h"
#include "core/rng.h"

#define CHAIN_STREAM 0x636861696eULL /* "chain" */
#define CHAIN_TRIES  512

chain_params chain_default_params(void) {
    chain_params p;
    p.n_problems = 2;
    p.arith = arith_default_params();
    p.arith.n_ops = 2;
    return p;
}

/* Recomputes p's steps with given[0] = v. Returns 0 when a step leaves 1..max_result,
 * divides inexactly, or no step reads given[0]. */
static int relink(arith_problem *p, long long v, long long max_result) {
    char var = p->given[0].var;
    long long val[26];
    int reads = 0;
    for (int g = 0; g < p->n_given; g++) val[p->given[g].var - 'a'] = p->given[g].value;
    val[var - 'a'] = v;
    p->given[0].value = v;
    for (int i = 0; i < p->n_steps; i++) {
        arith_step *s = &p->steps[i];
        if (s->lhs_var) { s->lhs = val[s->lhs_var - 'a']; reads |= s->lhs_var == var; }
        if (s->rhs_var) { s->rhs = val[s->rhs_var - 'a']; reads |= s->rhs_var == var; }
        long long r;
        switch (s->op) {
        case '+': r = s->lhs + s->rhs; break;
        case '-': r = s->lhs - s->rhs; break;
        case '*': r = s->lhs * s->rhs; break; /* both <= 999999: no overflow */
        default:
            if (s->rhs == 0 || s->lhs % s->rhs) return 0;
            r = s->lhs / s->rhs;
        }
        if (r < 1 || r > max_result) return 0;
        s->value = r;
        val[s->var - 'a'] = r;
    }
    p->result = p->steps[p->n_steps - 1].value;
    return reads;
}

static int app(char *buf, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int app(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)m >= cap - *len) return 0;
    *len += (size_t)m;
    return 1;
}

static int render_operand(char *buf, size_t cap, size_t *len, char var, long long v) {
    return var ? app(buf, cap, len, "%c", var) : app(buf, cap, len, "%lld", v);
}

int chain_generate(const chain_params *p, uint64_t seed, uint64_t index, chain_problem *out, rlvr_err *err) {
    if (!out) return errf(err, RLVR_EARG, "chain: out is NULL");
    memset(out, 0, sizeof *out);
    if (!p) return errf(err, RLVR_EARG, "chain: params is NULL");
    if (p->n_problems < 1 || p->n_problems > CHAIN_MAX)
        return errf(err, RLVR_EARG, "chain: n_problems %d outside 1..%d", p->n_problems, CHAIN_MAX);
    if (p->arith.template_id != ARITH_TEMPLATE_COMPACT && p->arith.template_id != ARITH_TEMPLATE_WORKED)
        return errf(err, RLVR_EARG, "chain: arith template %d unsupported (compact or worked only)", p->arith.template_id);
    arith_params linked = p->arith;
    if (linked.n_given == ARITH_RANDOM || linked.n_given < 1) linked.n_given = 1;
    for (int k = 0; k < p->n_problems; k++) {
        int ok = 0;
        for (int attempt = 0; attempt < CHAIN_TRIES && !ok; attempt++) {
            uint64_t sub = rng_derive(CHAIN_STREAM ^ index, (uint64_t)k, (uint64_t)attempt);
            int rc = arith_generate(k ? &linked : &p->arith, seed, sub, &out->parts[k], err);
            if (rc) { memset(out, 0, sizeof *out); return rc; }
            ok = k == 0 || relink(&out->parts[k], out->answers[k - 1], p->arith.max_result);
        }
        if (!ok) {
            memset(out, 0, sizeof *out);
            return errf(err, RLVR_EARG, "chain: no linkable problem %d in %d draws (max_result %d too small?)",
                        k + 1, CHAIN_TRIES, p->arith.max_result);
        }
        out->answers[k] = out->parts[k].result;
    }
    out->n = p->n_problems;
    int worked = p->arith.template_id == ARITH_TEMPLATE_WORKED;
    size_t pl = 0, al = 0, gl = 0;
    int ok = app(out->prompt, sizeof out->prompt, &pl,
                 "Solve the problems in order; [k] stands for the final answer of problem k.\n");
    for (int k = 0; k < out->n && ok; k++) {
        const arith_problem *a = &out->parts[k];
        ok = app(out->prompt, sizeof out->prompt, &pl, "Problem %d: ", k + 1);
        for (int g = 0; g < a->n_given && ok; g++) {
            if (k > 0 && g == 0) ok = app(out->prompt, sizeof out->prompt, &pl, "%c:[%d];", a->given[g].var, k);
            else ok = app(out->prompt, sizeof out->prompt, &pl, "%c:%lld;", a->given[g].var, a->given[g].value);
        }
        for (int i = 0; i < a->n_steps && ok; i++) {
            const arith_step *s = &a->steps[i];
            ok = app(out->prompt, sizeof out->prompt, &pl, "%c=", s->var) &&
                 render_operand(out->prompt, sizeof out->prompt, &pl, s->lhs_var, s->lhs) &&
                 app(out->prompt, sizeof out->prompt, &pl, "%c", s->op) &&
                 render_operand(out->prompt, sizeof out->prompt, &pl, s->rhs_var, s->rhs) &&
                 app(out->prompt, sizeof out->prompt, &pl, ";");
        }
        ok = ok && app(out->prompt, sizeof out->prompt, &pl, "?\n");
        ok = ok && app(out->answer, sizeof out->answer, &al, "%sProblem %d: ", k ? "\n" : "", k + 1);
        for (int i = 0; i < a->n_steps && ok; i++) {
            const arith_step *s = &a->steps[i];
            if (worked) ok = app(out->answer, sizeof out->answer, &al, "%c=%lld%c%lld;", s->var, s->lhs, s->op, s->rhs);
            ok = ok && app(out->answer, sizeof out->answer, &al, "%c:%lld;", s->var, s->value);
        }
        ok = ok && app(out->answer, sizeof out->answer, &al, "#%lld", a->result);
        ok = ok && app(out->ground_truth, sizeof out->ground_truth, &gl, "%s%lld", k ? "," : "", a->result);
    }
    ok = ok && app(out->prompt, sizeof out->prompt, &pl, "Answer each on its own line as \"Problem k: <working>#<answer>\".");
    if (!ok) {
        memset(out, 0, sizeof *out);
        return errf(err, RLVR_EARG, "chain: text does not fit");
    }
    return RLVR_OK;
}

/* ---- checking ---------------------------------------------------------------------- */

static int parse_int(const char *s, size_t n, size_t *i, long long *v) {
    int neg = 0, digits = 0;
    long long x = 0;
    size_t j = *i;
    if (j < n && s[j] == '-') { neg = 1; j++; }
    while (j < n && s[j] >= '0' && s[j] <= '9') {
        if (++digits > 15) return 0;
        x = x * 10 + (s[j++] - '0');
    }
    if (!digits) return 0;
    *i = j;
    *v = neg ? -x : x;
    return 1;
}

int chain_check(const char *completion, size_t n, const char *reference, size_t ref_n, chain_report *rep) {
    if (rep) memset(rep, 0, sizeof *rep);
    if (!rep || (!completion && n) || !reference) return RLVR_EARG;
    long long gold[CHAIN_MAX];
    int ng = 0;
    size_t i = 0;
    for (;;) {
        if (ng == CHAIN_MAX || !parse_int(reference, ref_n, &i, &gold[ng])) return RLVR_EARG;
        ng++;
        if (i == ref_n) break;
        if (reference[i] != ',' || i + 1 == ref_n) return RLVR_EARG;
        i++;
    }
    rep->n = ng;
    int wrong_seen = 0;
    for (size_t j = 0; completion && j < n && rep->n_tokens <= CHAIN_MAX; j++) {
        if (completion[j] != '#') continue;
        size_t t = j + 1;
        long long v;
        if (!parse_int(completion, n, &t, &v)) continue;
        if (rep->n_tokens < ng) {
            int right = v == gold[rep->n_tokens];
            rep->n_right += right;
            if (!right) wrong_seen = 1;
            if (!wrong_seen) rep->prefix_ok++;
        }
        rep->n_tokens++;
        j = t - 1;
    }
    rep->all_ok = rep->n_tokens == ng && rep->n_right == ng;
    return RLVR_OK;
}

int chain_score(const char *completion, size_t n, const char *reference, size_t ref_n,
                double *reward, int *correct) {
    chain_report rep;
    if (reward) *reward = 0;
    if (correct) *correct = 0;
    if (!reward) return RLVR_EARG;
    int rc = chain_check(completion, n, reference, ref_n, &rep);
    if (rc) return rc;
    *reward = rep.all_ok ? 1.0 : 0.0;
    if (correct) *correct = rep.all_ok;
    return RLVR_OK;
}

int chain_step_score(const char *completion, size_t n, const char *reference, size_t ref_n,
                     double *reward, int *correct) {
    chain_report rep;
    if (reward) *reward = 0;
    if (correct) *correct = 0;
    if (!reward) return RLVR_EARG;
    int rc = chain_check(completion, n, reference, ref_n, &rep);
    if (rc) return rc;
    *reward = (double)rep.n_right / rep.n;
    if (correct) *correct = rep.all_ok;
    return RLVR_OK;
}

int chain_to_jsonl(const chain_problem *p, char *buf, size_t cap, size_t *n_out, rlvr_err *err) {
    if (n_out) *n_out = 0;
    if (!p || !buf) return errf(err, RLVR_EARG, "chain_to_jsonl: NULL argument");
    if (p->n < 1 || p->n > CHAIN_MAX) return errf(err, RLVR_EARG, "chain_to_jsonl: bad n");
    cJSON *o = cJSON_CreateObject(), *ans = cJSON_CreateArray();
    if (!o || !ans) { cJSON_Delete(o); cJSON_Delete(ans); return errf(err, RLVR_ENOMEM, "chain_to_jsonl: out of memory"); }
    char t[CHAIN_TEXT_CAP];
    snprintf(t, sizeof t, "%.*s", (int)sizeof p->prompt - 1, p->prompt);
    cJSON_AddStringToObject(o, "prompt", t);
    snprintf(t, sizeof t, "%.*s", (int)sizeof p->answer - 1, p->answer);
    cJSON_AddStringToObject(o, "answer", t);
    snprintf(t, sizeof t, "%.*s", (int)sizeof p->ground_truth - 1, p->ground_truth);
    cJSON_AddStringToObject(o, "ground_truth", t);
    cJSON_AddStringToObject(o, "data_source", "chain");
    cJSON_AddNumberToObject(o, "difficulty", p->n);
    for (int k = 0; k < p->n; k++) cJSON_AddItemToArray(ans, cJSON_CreateNumber((double)p->answers[k]));
    cJSON_AddItemToObject(o, "answers", ans);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return errf(err, RLVR_ENOMEM, "chain_to_jsonl: out of memory");
    size_t len = strlen(s);
    if (len + 2 > cap) { cJSON_free(s); return errf(err, RLVR_EARG, "chain_to_jsonl: buffer of %zu bytes too small", cap); }
    memcpy(buf, s, len);
    buf[len] = '\n'; buf[len + 1] = 0;
    cJSON_free(s);
    if (n_out) *n_out = len + 1;
    return RLVR_OK;
}
