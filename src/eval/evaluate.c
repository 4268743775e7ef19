/* evaluate.c: problem sets (arith, JSONL + reward), eval_run (sample, check, aggregate),
 * the JSON report, crossover and cross-perplexity (see evaluate.h). */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/err.h"
#include "core/fs.h"
#include "eval/evaluate.h"
#include "core/utf8.h"
#include "eval/passk.h"
#include "rewards/math.h"
#include "rewards/reward.h"
#include "tokenizer/bytes.h"

enum { SET_ARITH = 1, SET_DATASET = 2 };

struct eval_problems {
    int kind;                  /* SET_* */
    char name[1024];           /* "arith" or the JSONL path */
    int n;                     /* problems */
    const char **prompt;       /* (n) into arith[] or the dataset's rows */
    int *group;                /* (n) */
    int n_groups;
    eval_group *groups;        /* names and difficulties only */
    arith_problem *arith;      /* (n), SET_ARITH */
    dataset *ds;               /* SET_DATASET: owns the rows */
    const dataset_row **rows;  /* (n) */
    reward_fn *reward, *cot;   /* SET_DATASET; cot may be NULL */
    double cot_min;
    int maj_key;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void eval_problems_free(eval_problems *ps) {
    if (!ps) return;
    free(ps->prompt);
    free(ps->group);
    free(ps->groups);
    free(ps->arith);
    free(ps->rows);
    dataset_free(ps->ds);
    reward_free(ps->reward);
    reward_free(ps->cot);
    free(ps);
}

int eval_problems_count(const eval_problems *ps) { return ps ? ps->n : 0; }

/* Allocates the per-problem arrays of a set of n problems. */
static int problems_alloc(eval_problems *ps, int n, rlvr_err *err) {
    ps->n = n;
    ps->prompt = calloc((size_t)n, sizeof *ps->prompt);
    ps->group = calloc((size_t)n, sizeof *ps->group);
    if (!ps->prompt || !ps->group) return errf(err, RLVR_ENOMEM, "eval: out of memory for %d problems", n);
    return RLVR_OK;
}

int eval_problems_arith(const arith_params *task, const int *diffs, int n_diffs, int per_diff, uint64_t seed,
                        eval_problems **out, rlvr_err *err) {
    *out = NULL;
    if (!task || !diffs || n_diffs < 1 || per_diff < 1 || (long long)n_diffs * per_diff > INT_MAX / 2)
        return errf(err, RLVR_EARG, "eval_problems_arith: need >= 1 difficulty and >= 1 problem per difficulty "
                    "(got %d x %d)", n_diffs, per_diff);
    eval_problems *ps = calloc(1, sizeof *ps);
    if (!ps) return errf(err, RLVR_ENOMEM, "eval: out of memory");
    ps->kind = SET_ARITH;
    snprintf(ps->name, sizeof ps->name, "arith");
    int n = n_diffs * per_diff, rc;
    if ((rc = problems_alloc(ps, n, err))) goto fail;
    ps->arith = calloc((size_t)n, sizeof *ps->arith);
    ps->groups = calloc((size_t)n_diffs, sizeof *ps->groups);
    if (!ps->arith || !ps->groups) { rc = errf(err, RLVR_ENOMEM, "eval: out of memory for %d arith problems", n); goto fail; }
    ps->n_groups = n_diffs;
    for (int d = 0; d < n_diffs; d++) {
        eval_group *g = &ps->groups[d];
        snprintf(g->name, sizeof g->name, "arith/%d", diffs[d]);
        snprintf(g->data_source, sizeof g->data_source, "arith");
        snprintf(g->difficulty_text, sizeof g->difficulty_text, "%d", diffs[d]);
        g->has_difficulty = g->difficulty_numeric = 1, g->difficulty = diffs[d];
        arith_params ap = *task;
        ap.n_ops = diffs[d], ap.split = ARITH_SPLIT_EVAL;
        for (int i = 0; i < per_diff; i++) {
            int k = d * per_diff + i;
            if ((rc = arith_generate(&ap, seed ^ EVAL_ARITH_SEED_MIX, (uint64_t)i, &ps->arith[k], err))) {
                err_wrap(err, rc, "eval: arith difficulty %d", diffs[d]);
                goto fail;
            }
            ps->prompt[k] = ps->arith[k].prompt;
            ps->group[k] = d;
        }
    }
    *out = ps;
    return RLVR_OK;
fail:
    eval_problems_free(ps);
    return rc;
}

eval_data_params eval_data_default_params(void) {
    eval_data_params p;
    memset(&p, 0, sizeof p);
    p.data = dataset_default_params();
    p.difficulty_key = "difficulty";
    p.reward = "auto";
    p.cot_reward = "";
    p.cot_min = 1.0;
    p.maj_key = EVAL_MAJ_AUTO;
    return p;
}

/* The row's difficulty column, copied into g (has_difficulty 0 when absent). */
static void row_group(const dataset_row *r, const char *dkey, eval_group *g) {
    memset(g, 0, sizeof *g);
    snprintf(g->data_source, sizeof g->data_source, "%s", r->data_source[0] ? r->data_source : "-");
    for (int k = 0; dkey && *dkey && k < r->n_extra; k++) {
        if (strcmp(r->extra[k].key, dkey)) continue;
        size_t n = r->extra[k].val_n < sizeof g->difficulty_text - 1 ? r->extra[k].val_n : sizeof g->difficulty_text - 1;
        memcpy(g->difficulty_text, r->extra[k].val, n);
        g->difficulty_text[n] = 0;
        g->has_difficulty = 1;
        char *end;
        double v = strtod(g->difficulty_text, &end);
        if (n && end != g->difficulty_text && !*end && isfinite(v)) g->difficulty_numeric = 1, g->difficulty = v;
        break;
    }
    if (g->has_difficulty) snprintf(g->name, sizeof g->name, "%.60s/%.31s", g->data_source, g->difficulty_text);
    else snprintf(g->name, sizeof g->name, "%s", g->data_source);
}

static int same_group(const eval_group *a, const eval_group *b) {
    return !strcmp(a->data_source, b->data_source) && a->has_difficulty == b->has_difficulty &&
           !strcmp(a->difficulty_text, b->difficulty_text);
}

static int group_cmp(const void *pa, const void *pb) {
    const eval_group *a = pa, *b = pb;
    int c = strcmp(a->data_source, b->data_source);
    if (c) return c;
    if (a->has_difficulty != b->has_difficulty) return a->has_difficulty - b->has_difficulty;
    if (a->difficulty_numeric != b->difficulty_numeric) return b->difficulty_numeric - a->difficulty_numeric;
    if (a->difficulty_numeric && a->difficulty != b->difficulty) return a->difficulty < b->difficulty ? -1 : 1;
    return strcmp(a->difficulty_text, b->difficulty_text);
}

int eval_problems_dataset(const char *path, const eval_data_params *p, eval_problems **out, rlvr_err *err) {
    *out = NULL;
    if (!path || !p) return errf(err, RLVR_EARG, "eval_problems_dataset: NULL argument");
    if (p->limit < 0) return errf(err, RLVR_EARG, "eval_problems_dataset: limit %d < 0", p->limit);
    eval_problems *ps = calloc(1, sizeof *ps);
    if (!ps) return errf(err, RLVR_ENOMEM, "eval: out of memory");
    ps->kind = SET_DATASET;
    snprintf(ps->name, sizeof ps->name, "%s", path);
    ps->cot_min = p->cot_min, ps->maj_key = p->maj_key;
    int rc;
    if ((rc = reward_create(p->reward && *p->reward ? p->reward : "auto", &ps->reward, err))) {
        err_wrap(err, rc, "eval: reward '%s'", p->reward ? p->reward : "auto");
        goto fail;
    }
    if (p->cot_reward && *p->cot_reward && (rc = reward_create(p->cot_reward, &ps->cot, err))) {
        err_wrap(err, rc, "eval: cot reward '%s'", p->cot_reward);
        goto fail;
    }
    if ((rc = dataset_load(path, &p->data, &ps->ds, NULL, err))) goto fail;
    int n = dataset_count(ps->ds);
    if (p->limit && n > p->limit) n = p->limit;
    if (n == 0) { rc = errf(err, RLVR_EFORMAT, "%s: no rows to evaluate", path); goto fail; }
    if ((rc = problems_alloc(ps, n, err))) goto fail;
    ps->rows = calloc((size_t)n, sizeof *ps->rows);
    ps->groups = calloc((size_t)n, sizeof *ps->groups); /* at most one group per row; shrunk below */
    if (!ps->rows || !ps->groups) { rc = errf(err, RLVR_ENOMEM, "eval: out of memory for %d rows", n); goto fail; }
    for (int i = 0; i < n; i++) {
        const dataset_row *r = dataset_row_at(ps->ds, i);
        ps->rows[i] = r;
        ps->prompt[i] = r->prompt;
        eval_group g;
        row_group(r, p->difficulty_key, &g);
        int k = 0;
        while (k < ps->n_groups && !same_group(&ps->groups[k], &g)) k++;
        if (k == ps->n_groups) ps->groups[ps->n_groups++] = g;
    }
    qsort(ps->groups, (size_t)ps->n_groups, sizeof *ps->groups, group_cmp);
    for (int i = 0; i < n; i++) {
        eval_group g;
        row_group(ps->rows[i], p->difficulty_key, &g);
        eval_group *hit = bsearch(&g, ps->groups, (size_t)ps->n_groups, sizeof g, group_cmp);
        ps->group[i] = (int)(hit - ps->groups);
    }
    *out = ps;
    return RLVR_OK;
fail:
    eval_problems_free(ps);
    return rc;
}

/* ---- eval_run ------------------------------------------------------------------------- */

eval_params eval_default_params(void) {
    eval_params p;
    memset(&p, 0, sizeof p);
    p.sampling = sampler_default_params();
    p.n = 16;
    p.n_k = 5;
    for (int j = 0; j < 5; j++) p.ks[j] = 1 << j;
    p.max_new_tokens = 64;
    p.seed = 1;
    p.slots = 128;
    p.n_examples = 2;
    p.bootstrap_reps = 1000;
    p.ci_level = 0.95;
    return p;
}

/* Where problem i came from, for messages: "path:line" or "arith problem 3 (difficulty 2)". */
static void problem_where(const eval_problems *ps, int i, char *buf, size_t cap) {
    if (ps->kind == SET_DATASET) snprintf(buf, cap, "%s:%ld", ps->name, ps->rows[i]->line);
    else snprintf(buf, cap, "arith problem %d (%s)", i, ps->groups[ps->group[i]].name);
}

/* The completion's bytes up to its first stop token, malloc'd and NUL-terminated. */
static char *completion_text(const loaded_model *lm, const int *tok, int n, size_t *len) {
    size_t cap = 64, tl = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    for (int t = 0; t < n && !loaded_is_stop(lm, tok[t]); t++) {
        size_t bl;
        const char *b = loaded_token_text((void *)lm, tok[t], &bl);
        if (tl + bl + 1 > cap) {
            while (tl + bl + 1 > cap) cap *= 2;
            char *g = realloc(s, cap);
            if (!g) { free(s); return NULL; }
            s = g;
        }
        memcpy(s + tl, b, bl);
        tl += bl;
    }
    s[tl] = 0;
    *len = tl;
    return s;
}

/* The maj@k key of a completion by the math extractor ("" when none; NULL when out of
 * memory): math_extract, then math_normalize. */
static char *math_key(const loaded_model *lm, const engine_sample *x) {
    size_t n;
    char *text = completion_text(lm, x->tokens, x->n_tokens, &n);
    if (!text) return NULL;
    math_verify_params mp = math_verify_default_params();
    char ans[512], key[512];
    int k = math_extract(&mp, text, n, ans, sizeof ans);
    free(text);
    if (k <= 0) return strdup("");
    if (math_normalize(ans, strlen(ans), key, sizeof key) < 0) return strdup(ans);
    return strdup(key);
}

/* The maj@k key of an arith completion: the integer after the first '#' as the checker
 * reads it (blanks skipped, sign, digits), printed canonically ("#007;" -> "7"); "" when
 * there is none or it does not fit in int64. The same key as the "arith" reward's pred. */
static char *arith_key(const char *text) {
    const char *h = strchr(text, '#');
    char buf[32] = "";
    if (h) {
        h++;
        while (*h == ' ' || *h == '\t') h++;
        int neg = *h == '-';
        if (*h == '-' || *h == '+') h++;
        unsigned long long acc = 0, limit = 9223372036854775807ULL + (unsigned long long)neg;
        int nd = 0, over = 0;
        for (; *h >= '0' && *h <= '9'; h++, nd++) {
            unsigned d = (unsigned)(*h - '0');
            if (acc > (limit - d) / 10) { over = 1; break; }
            acc = acc * 10 + d;
        }
        if (nd && !over) snprintf(buf, sizeof buf, "%lld", neg ? (long long)(0 - acc) : (long long)acc);
    }
    return strdup(buf);
}

int eval_check_text(const eval_problems *ps, int i, const char *text, size_t len, int n_tokens, int finish, int max_new,
                    int *ok, int *cot, char **key, rlvr_err *err) {
    *ok = *cot = 0, *key = NULL;
    if (!ps || i < 0 || i >= ps->n) return errf(err, RLVR_EARG, "eval_check_text: problem %d out of range", i);
    int rc = RLVR_OK;
    if (ps->kind == SET_ARITH) {
        int steps_ok = 0, proc = 0;
        arith_check_answer(&ps->arith[i], text, len, ok);
        arith_check_trace(&ps->arith[i], text, len, &steps_ok, &proc);
        *cot = *ok && proc;
        *key = arith_key(text);
    } else {
        const dataset_row *r = ps->rows[i];
        reward_input in = {.completion = text, .completion_n = len, .prompt = r->prompt, .prompt_n = r->prompt_n,
                           .reference = r->answer, .reference_n = r->answer_n, .data_source = r->data_source,
                           .extra = r->extra, .n_extra = r->n_extra, .n_tokens = n_tokens,
                           .finish = finish == ENGINE_FINISH_LENGTH ? REWARD_FINISH_LENGTH : REWARD_FINISH_STOP,
                           .max_tokens = max_new};
        reward_output o;
        if ((rc = reward_score(ps->reward, &in, &o, err))) return rc;
        *ok = reward_output_correct(&o);
        if (ps->cot) {
            reward_output co;
            if ((rc = reward_score(ps->cot, &in, &co, err))) { err_wrap(err, rc, "cot reward"); return rc; }
            int pass = co.correct >= 0 ? co.correct : co.reward >= ps->cot_min;
            *cot = *ok && pass;
        }
        *key = strdup(o.pred); /* replaced by the math key afterwards where that is the rule */
    }
    if (!*key) rc = errf(err, RLVR_ENOMEM, "eval: out of memory");
    return rc;
}

/* Checks sample x of problem i: *ok, *cot, *key (malloc'd). Thread-safe. */
static int score_sample(const loaded_model *lm, const eval_problems *ps, int i, const engine_sample *x, int max_new,
                        int *ok, int *cot, char **key, rlvr_err *err) {
    size_t len;
    char *text = completion_text(lm, x->tokens, x->n_tokens, &len);
    *ok = *cot = 0, *key = NULL;
    if (!text) return errf(err, RLVR_ENOMEM, "eval: out of memory");
    int rc = eval_check_text(ps, i, text, len, x->n_tokens, x->finish, max_new, ok, cot, key, err);
    free(text);
    return rc;
}

static int check_params(const eval_params *p, rlvr_err *err) {
    if (p->n < 1 || p->n > (1 << 20)) return errf(err, RLVR_EARG, "eval: n=%d samples per problem (1..%d)", p->n, 1 << 20);
    if (p->n_k < 1 || p->n_k > EVAL_MAX_K) return errf(err, RLVR_EARG, "eval: %d values of k (1..%d)", p->n_k, EVAL_MAX_K);
    for (int j = 0; j < p->n_k; j++) {
        if (p->ks[j] < 1 || p->ks[j] > p->n) return errf(err, RLVR_EARG, "eval: k=%d must be in 1..n (%d)", p->ks[j], p->n);
        if (j && p->ks[j] <= p->ks[j - 1]) return errf(err, RLVR_EARG, "eval: k values must increase (%d after %d)", p->ks[j], p->ks[j - 1]);
    }
    if (p->max_new_tokens < 1) return errf(err, RLVR_EARG, "eval: max_new_tokens=%d < 1", p->max_new_tokens);
    if (p->slots < 1) return errf(err, RLVR_EARG, "eval: slots=%d < 1", p->slots);
    if (p->n_examples < 0 || p->bootstrap_reps < 0) return errf(err, RLVR_EARG, "eval: negative n_examples or bootstrap_reps");
    if (!(p->ci_level > 0 && p->ci_level < 1)) return errf(err, RLVR_EARG, "eval: ci_level %g outside (0, 1)", p->ci_level);
    return sampler_check(&p->sampling, err);
}

/* The system message of a chat row, if it has one. */
static const char *row_system(const dataset_row *r) {
    for (int k = 0; k < r->n_messages; k++)
        if (!strcmp(r->messages[k].role, "system")) return r->messages[k].content;
    return NULL;
}

/* Means and bootstrap intervals of the per-problem values (vals[m][j][i], m: pass, maj,
 * cot) over the problems whose group is gi (-1: all) into g. */
static int aggregate(const eval_result *r, double *const vals[3], int gi, double *tmp, eval_group *g) {
    const eval_params *p = &r->params;
    int cnt = 0;
    for (int i = 0; i < r->n_problems; i++) cnt += gi < 0 || r->group_of[i] == gi;
    for (int j = 0; j < r->n_k; j++) {
        eval_ci *dst[3] = {&g->pass[j], &g->maj[j], &g->cot[j]};
        for (int mtr = 0; mtr < 3; mtr++) {
            if (mtr == 2 && !r->has_cot) { *dst[2] = (eval_ci){0, 0, 0}; continue; }
            int c = 0;
            for (int i = 0; i < r->n_problems; i++)
                if (gi < 0 || r->group_of[i] == gi) tmp[c++] = vals[mtr][(size_t)j * r->n_problems + i];
            bootstrap_ci(tmp, c, p->ci_level, p->bootstrap_reps, p->seed, &dst[mtr]->mean, &dst[mtr]->lo, &dst[mtr]->hi);
        }
    }
    g->n_problems = cnt;
    return cnt;
}

int eval_run(const loaded_model *lm, const eval_problems *ps, const eval_params *p, eval_result *out, rlvr_err *err) {
    memset(out, 0, sizeof *out);
    if (!lm || !lm->m || !ps || !p) return errf(err, RLVR_EARG, "eval_run: NULL argument");
    int rc = check_params(p, err);
    if (rc) return rc;
    int P = ps->n, n = p->n, T = lm->m->cfg.max_seq_len;
    if ((long long)P * n > INT_MAX / 2) return errf(err, RLVR_EARG, "eval: %d problems x %d samples is too many", P, n);
    int S = P * n;
    snprintf(out->model, sizeof out->model, "%s", lm->source);
    snprintf(out->problems, sizeof out->problems, "%s", ps->name);
    out->n = n, out->n_k = p->n_k;
    memcpy(out->ks, p->ks, sizeof out->ks);
    out->params = *p;
    out->params.system = NULL, out->params.progress = NULL, out->params.progress_ud = NULL;
    out->has_cot = ps->kind == SET_ARITH || ps->cot != NULL;
    out->n_problems = P;
    out->n_groups = ps->n_groups;
    out->groups = calloc((size_t)ps->n_groups, sizeof *out->groups);
    out->group_of = malloc(sizeof(int) * P);
    out->n_correct = calloc((size_t)P, sizeof(int));
    out->n_cot = calloc((size_t)P, sizeof(int));
    out->prompt_ids = calloc((size_t)P, sizeof *out->prompt_ids);
    out->prompt_lens = calloc((size_t)P, sizeof(int));
    engine_sample *smp = calloc((size_t)S, sizeof *smp);
    int *ok = calloc((size_t)S, sizeof(int)), *cot = calloc((size_t)S, sizeof(int)), *rcs = calloc((size_t)S, sizeof(int));
    char **keys = calloc((size_t)S, sizeof *keys);
    double *vals[3] = {0}, *tmp = malloc(sizeof(double) * P);
    for (int m = 0; m < 3; m++) vals[m] = malloc(sizeof(double) * (size_t)P * p->n_k);
    if (!out->groups || !out->group_of || !out->n_correct || !out->n_cot || !out->prompt_ids || !out->prompt_lens || !smp ||
        !ok || !cot || !rcs || !keys || !tmp || !vals[0] || !vals[1] || !vals[2]) {
        rc = errf(err, RLVR_ENOMEM, "eval: out of memory for %d problems x %d samples", P, n);
        goto done;
    }
    memcpy(out->groups, ps->groups, sizeof *out->groups * ps->n_groups);
    memcpy(out->group_of, ps->group, sizeof(int) * P);
    char where[1200];
    /* prompts */
    for (int i = 0; i < P; i++) {
        if (!(out->prompt_ids[i] = malloc(sizeof(int) * T))) { rc = errf(err, RLVR_ENOMEM, "eval: out of memory"); goto done; }
        const char *sys = p->system;
        if (!sys && ps->kind == SET_DATASET) sys = row_system(ps->rows[i]);
        if ((rc = loaded_encode_prompt(lm, ps->prompt[i], p->chat, sys, out->prompt_ids[i], T, &out->prompt_lens[i], err))) {
            problem_where(ps, i, where, sizeof where);
            err_wrap(err, rc, "%s", where);
            goto done;
        }
        if (out->prompt_lens[i] + 1 > T) {
            problem_where(ps, i, where, sizeof where);
            rc = errf(err, RLVR_EARG, "%s: prompt of %d tokens leaves no room to generate (max_seq_len %d)", where,
                      out->prompt_lens[i], T);
            goto done;
        }
    }
    /* samples */
    engine_params ep = engine_default_params();
    ep.max_slots = p->slots, ep.max_len = T, ep.sampling = p->sampling, ep.max_new_tokens = p->max_new_tokens, ep.seed = p->seed;
    ep.stop_ids = lm->stop_ids, ep.n_stop_ids = lm->n_stop, ep.token_text = loaded_token_text, ep.token_text_ud = (void *)lm;
    engine_stats st;
    if ((rc = engine_generate(lm->m, &ep, (const int *const *)out->prompt_ids, out->prompt_lens, P, n, smp, &st, p->progress,
                              p->progress_ud, err)))
        goto done;
    out->gen_tokens = st.gen_tokens, out->gen_s = st.total_s;
    /* checks: every sample on its own, in parallel; the first failure (by index) is rerun for its message */
    double ts = now_s();
    int max_new = p->max_new_tokens;
#pragma omp parallel for schedule(dynamic, 4)
    for (int s = 0; s < S; s++) rcs[s] = score_sample(lm, ps, s / n, &smp[s], max_new, &ok[s], &cot[s], &keys[s], NULL);
    for (int s = 0; s < S; s++) {
        if (!rcs[s]) continue;
        free(keys[s]);
        keys[s] = NULL;
        rc = score_sample(lm, ps, s / n, &smp[s], max_new, &ok[s], &cot[s], &keys[s], err);
        if (!rc) rc = errf(err, rcs[s], "eval: check failed");
        problem_where(ps, s / n, where, sizeof where);
        err_wrap(err, rc, "%s (sample %d)", where, s % n);
        goto done;
    }
    /* maj@k keys of datasets: the reward's preds in a group where the reward gave any,
     * else (or with EVAL_MAJ_MATH) the math extractor's */
    if (ps->kind == SET_DATASET && ps->maj_key != EVAL_MAJ_REWARD) {
        int *use_math = calloc((size_t)ps->n_groups, sizeof(int));
        if (!use_math) { rc = errf(err, RLVR_ENOMEM, "eval: out of memory"); goto done; }
        for (int g = 0; g < ps->n_groups; g++) use_math[g] = 1;
        if (ps->maj_key == EVAL_MAJ_AUTO)
            for (int s = 0; s < S; s++)
                if (keys[s][0]) use_math[ps->group[s / n]] = 0;
        int oom = 0;
#pragma omp parallel for schedule(dynamic, 4) reduction(| : oom)
        for (int s = 0; s < S; s++) {
            if (!use_math[ps->group[s / n]]) continue;
            free(keys[s]);
            keys[s] = math_key(lm, &smp[s]);
            oom |= keys[s] == NULL;
        }
        free(use_math);
        if (oom) { rc = errf(err, RLVR_ENOMEM, "eval: out of memory"); goto done; }
    }
    /* per problem */
    long tok_all = 0;
    double *glen = calloc((size_t)ps->n_groups, sizeof(double));
    if (!glen) { rc = errf(err, RLVR_ENOMEM, "eval: out of memory"); goto done; }
    for (int i = 0; i < P; i++) {
        for (int g = 0; g < n; g++) {
            out->n_correct[i] += ok[i * n + g];
            out->n_cot[i] += cot[i * n + g];
            tok_all += smp[i * n + g].n_tokens;
            glen[ps->group[i]] += smp[i * n + g].n_tokens;
        }
        for (int j = 0; j < p->n_k; j++) {
            size_t at = (size_t)j * P + i;
            vals[0][at] = pass_at_k(n, out->n_correct[i], p->ks[j]);
            vals[1][at] = maj_at_k((const char *const *)keys + (size_t)i * n, ok + (size_t)i * n, p->ks[j]);
            vals[2][at] = pass_at_k(n, out->n_cot[i], p->ks[j]);
        }
    }
    out->mean_len = (double)tok_all / S;
    for (int g = 0; g < ps->n_groups; g++) {
        int cnt = aggregate(out, vals, g, tmp, &out->groups[g]);
        out->groups[g].mean_len = cnt ? glen[g] / ((double)cnt * n) : 0;
    }
    free(glen);
    aggregate(out, vals, -1, tmp, &out->overall);
    snprintf(out->overall.name, sizeof out->overall.name, "all");
    out->overall.mean_len = out->mean_len;
    /* examples: sample 0 of each group's first problems */
    if (p->n_examples > 0) {
        out->examples = calloc((size_t)ps->n_groups * p->n_examples, sizeof *out->examples);
        if (!out->examples) { rc = errf(err, RLVR_ENOMEM, "eval: out of memory"); goto done; }
        for (int g = 0; g < ps->n_groups; g++) {
            int taken = 0;
            for (int i = 0; i < P && taken < p->n_examples; i++) {
                if (ps->group[i] != g) continue;
                eval_example *x = &out->examples[out->n_examples++];
                size_t len;
                x->problem = i, x->group = g, x->correct = ok[i * n], x->cot_correct = cot[i * n];
                /* examples go to JSON and HTML: invalid UTF-8 (a byte-level model can emit
                 * any byte, a BPE one a cut sequence) is shown as U+FFFD */
                x->prompt = utf8_sanitize(ps->prompt[i], strlen(ps->prompt[i]));
                char *raw = completion_text(lm, smp[i * n].tokens, smp[i * n].n_tokens, &len);
                x->completion = raw ? utf8_sanitize(raw, len) : NULL;
                free(raw);
                if (!x->prompt || !x->completion) { rc = errf(err, RLVR_ENOMEM, "eval: out of memory"); goto done; }
                taken++;
            }
        }
    }
    /* kept samples: the engine's arrays change hands */
    if (p->keep_samples) {
        out->tokens = calloc((size_t)S, sizeof *out->tokens);
        out->n_tokens = calloc((size_t)S, sizeof(int));
        if (!out->tokens || !out->n_tokens) { rc = errf(err, RLVR_ENOMEM, "eval: out of memory"); goto done; }
        for (int s = 0; s < S; s++) {
            out->tokens[s] = smp[s].tokens, out->n_tokens[s] = smp[s].n_tokens;
            smp[s].tokens = NULL;
        }
    }
    out->score_s = now_s() - ts;
done:
    if (smp) engine_samples_free(smp, S);
    free(smp);
    for (int s = 0; keys && s < S; s++) free(keys[s]);
    free(keys); free(ok); free(cot); free(rcs); free(tmp);
    for (int m = 0; m < 3; m++) free(vals[m]);
    if (!p->keep_samples && out->prompt_ids) {
        for (int i = 0; i < P; i++) free(out->prompt_ids[i]);
        free(out->prompt_ids);
        free(out->prompt_lens);
        out->prompt_ids = NULL, out->prompt_lens = NULL;
    }
    return rc;
}

void eval_result_free(eval_result *r) {
    if (!r) return;
    free(r->groups);
    free(r->group_of);
    free(r->n_correct);
    free(r->n_cot);
    for (int i = 0; i < r->n_examples; i++) free(r->examples[i].prompt), free(r->examples[i].completion);
    free(r->examples);
    if (r->prompt_ids)
        for (int i = 0; i < r->n_problems; i++) free(r->prompt_ids[i]);
    free(r->prompt_ids);
    free(r->prompt_lens);
    if (r->tokens)
        for (int s = 0; s < r->n_problems * r->n; s++) free(r->tokens[s]);
    free(r->tokens);
    free(r->n_tokens);
    memset(r, 0, sizeof *r);
}

/* ---- JSON ------------------------------------------------------------------------------- */

static void add_metric(cJSON *row, const char *name, const eval_ci *v, const int *ks, int n_k, int present) {
    cJSON *arr = cJSON_AddArrayToObject(row, name);
    for (int j = 0; present && arr && j < n_k; j++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "k", ks[j]);
        cJSON_AddNumberToObject(o, "mean", v[j].mean);
        cJSON_AddNumberToObject(o, "ci_lo", v[j].lo);
        cJSON_AddNumberToObject(o, "ci_hi", v[j].hi);
        cJSON_AddItemToArray(arr, o);
    }
}

static cJSON *group_json(const eval_result *r, const eval_group *g) {
    cJSON *row = cJSON_CreateObject();
    if (!row) return NULL;
    /* always a number (readers key rows by it): 0 = the group has no numeric difficulty */
    cJSON_AddNumberToObject(row, "difficulty", g->difficulty_numeric ? g->difficulty : 0);
    if (g->has_difficulty && !g->difficulty_numeric) cJSON_AddStringToObject(row, "difficulty_text", g->difficulty_text);
    cJSON_AddStringToObject(row, "group", g->name);
    if (g->data_source[0]) cJSON_AddStringToObject(row, "data_source", g->data_source);
    cJSON_AddNumberToObject(row, "n_problems", g->n_problems);
    cJSON_AddNumberToObject(row, "mean_len", g->mean_len);
    add_metric(row, "pass", g->pass, r->ks, r->n_k, 1);
    add_metric(row, "maj", g->maj, r->ks, r->n_k, 1);
    add_metric(row, "cot_pass", g->cot, r->ks, r->n_k, r->has_cot);
    return row;
}

struct cJSON *eval_result_json(const eval_result *r) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    const eval_params *p = &r->params;
    cJSON_AddStringToObject(o, "model", r->model);
    cJSON_AddNumberToObject(o, "n", r->n);
    cJSON_AddStringToObject(o, "problem_set", r->problems);
    cJSON_AddNumberToObject(o, "n_problems", r->n_problems);
    cJSON_AddItemToObject(o, "ks", cJSON_CreateIntArray(r->ks, r->n_k));
    cJSON *sp = cJSON_AddObjectToObject(o, "sampling");
    cJSON_AddNumberToObject(sp, "temperature", p->sampling.temperature);
    cJSON_AddNumberToObject(sp, "top_p", p->sampling.top_p);
    cJSON_AddNumberToObject(sp, "top_k", p->sampling.top_k);
    cJSON_AddNumberToObject(sp, "min_p", p->sampling.min_p);
    cJSON_AddNumberToObject(sp, "max_new_tokens", p->max_new_tokens);
    cJSON_AddNumberToObject(sp, "seed", (double)p->seed);
    cJSON_AddNumberToObject(o, "ci_level", p->ci_level);
    cJSON_AddBoolToObject(o, "has_cot", r->has_cot);
    cJSON *rows = cJSON_AddArrayToObject(o, "difficulties");
    for (int g = 0; g < r->n_groups; g++) cJSON_AddItemToArray(rows, group_json(r, &r->groups[g]));
    cJSON_AddItemToObject(o, "overall", group_json(r, &r->overall));
    cJSON_AddNumberToObject(o, "mean_len", r->mean_len);
    cJSON *pp = cJSON_AddObjectToObject(o, "per_problem");
    cJSON_AddItemToObject(pp, "group", cJSON_CreateIntArray(r->group_of, r->n_problems));
    cJSON_AddItemToObject(pp, "correct", cJSON_CreateIntArray(r->n_correct, r->n_problems));
    cJSON_AddItemToObject(pp, "cot_correct", cJSON_CreateIntArray(r->n_cot, r->n_problems));
    cJSON *ex = cJSON_AddArrayToObject(o, "examples");
    for (int i = 0; i < r->n_examples; i++) {
        const eval_example *x = &r->examples[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "group", r->groups[x->group].name);
        cJSON_AddNumberToObject(e, "problem", x->problem);
        cJSON_AddStringToObject(e, "prompt", x->prompt);
        cJSON_AddStringToObject(e, "completion", x->completion);
        cJSON_AddBoolToObject(e, "correct", x->correct);
        if (r->has_cot) cJSON_AddBoolToObject(e, "cot_correct", x->cot_correct);
        cJSON_AddItemToArray(ex, e);
    }
    cJSON_AddNumberToObject(o, "gen_tokens", (double)r->gen_tokens);
    cJSON_AddNumberToObject(o, "gen_seconds", r->gen_s);
    cJSON_AddNumberToObject(o, "check_seconds", r->score_s);
    return o;
}

int eval_result_write_json(const eval_result *r, const char *path, rlvr_err *err) {
    cJSON *o = eval_result_json(r);
    char *js = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!js) return errf(err, RLVR_ENOMEM, "%s: out of memory writing the report", path);
    int rc = fs_write_atomic(path, js, strlen(js), err);
    cJSON_free(js);
    return rc;
}

void eval_bytes_view(model *m, loaded_model *view) {
    memset(view, 0, sizeof *view);
    view->m = m;
    view->byte_vocab = 1;
    view->add_bos = 1;
    view->bos_id = BYTES_BOS, view->eos_id = BYTES_EOS, view->eot_id = -1;
    view->stop_ids[0] = BYTES_EOS, view->n_stop = 1;
    snprintf(view->source, sizeof view->source, "(in memory)");
    snprintf(view->tok_kind, sizeof view->tok_kind, "bytes (rlvr byte vocabulary)");
}

/* ---- comparing models -------------------------------------------------------------------- */

int eval_crossover(const double *a, const double *b, int n_k) {
    for (int j = 0; j < n_k; j++)
        if (a[j] >= b[j]) return j; /* false for NaN */
    return -1;
}

int eval_same_vocab(const loaded_model *a, const loaded_model *b, rlvr_err *err) {
    if (a->m->cfg.vocab_size != b->m->cfg.vocab_size)
        return errf(err, RLVR_EUNSUPPORTED, "%s and %s do not share a vocabulary (vocab_size %d vs %d)", a->source, b->source,
                    a->m->cfg.vocab_size, b->m->cfg.vocab_size);
    if (a->byte_vocab != b->byte_vocab)
        return errf(err, RLVR_EUNSUPPORTED, "%s and %s do not share a vocabulary (%s vs %s)", a->source, b->source,
                    a->byte_vocab ? "byte-level" : "BPE", b->byte_vocab ? "byte-level" : "BPE");
    if (a->byte_vocab) return RLVR_OK;
    int na = bpe_vocab_size(a->tok), nb = bpe_vocab_size(b->tok);
    if (na != nb)
        return errf(err, RLVR_EUNSUPPORTED, "%s and %s do not share a tokenizer (%d vs %d tokens)", a->source, b->source, na, nb);
    for (int id = 0; id < na; id++) {
        size_t la, lb;
        const char *sa = bpe_token_bytes(a->tok, id, &la), *sb = bpe_token_bytes(b->tok, id, &lb);
        if (la != lb || (la && memcmp(sa, sb, la)))
            return errf(err, RLVR_EUNSUPPORTED, "%s and %s do not share a tokenizer: token %d differs", a->source, b->source, id);
    }
    return RLVR_OK;
}

/* Bytes of training activations per packed token (model_alloc_train's layout, roughly). */
static double ppl_token_bytes(const model_config *c) {
    double C = c->dim, F = c->hidden_dim, HD = (double)c->n_heads * c->head_dim, KD = (double)c->n_kv_heads * c->head_dim;
    double per_layer = 5 * C + 2 * HD + 2 * KD + 3 * F + c->n_heads + 2 + (c->qk_norm ? HD + KD + c->n_heads + c->n_kv_heads : 0);
    return 4.0 * (c->n_layers * per_layer + 3 * C + c->vocab_size + 2 * HD + 2 * KD + 3 * F + 8);
}

int eval_cross_ppl(const loaded_model *scorer, const eval_result *r, double *ppl, long *n_tokens, rlvr_err *err) {
    *ppl = NAN;
    if (n_tokens) *n_tokens = 0;
    if (!r->tokens || !r->prompt_ids)
        return errf(err, RLVR_EARG, "eval_cross_ppl: the result kept no samples (set eval_params.keep_samples)");
    model *m = scorer->m;
    int V = m->cfg.vocab_size, S = r->n_problems * r->n, rc;
    if (!m->acts_mem) {
        long longest = 1, total = 0;
        for (int s = 0; s < S; s++) {
            long L = r->prompt_lens[s / r->n] + r->n_tokens[s] - 1;
            if (L > longest) longest = L;
            total += L > 0 ? L : 0;
        }
        long want = (long)(EVAL_PPL_ACT_BYTES / ppl_token_bytes(&m->cfg));
        if (want > total) want = total;
        if (want < longest) want = longest;
        if (want > INT_MAX / 4) want = INT_MAX / 4;
        if ((rc = model_alloc_train(m, (int)want, (int)want, err))) return rc;
    }
    int cap = m->max_tokens, bcap = m->max_seqs;
    int *tok = malloc(sizeof(int) * cap), *tgt = malloc(sizeof(int) * cap), *st = malloc(sizeof(int) * (bcap + 1));
    if (!tok || !tgt || !st) { rc = errf(err, RLVR_ENOMEM, "eval_cross_ppl: out of memory"); goto done; }
    double nll = 0;
    long count = 0;
    int N = 0, B = 0;
    st[0] = 0;
    for (int s = 0; s <= S; s++) {
        int L = 0, pl = 0, cl = 0;
        if (s < S) {
            pl = r->prompt_lens[s / r->n], cl = r->n_tokens[s];
            if (cl == 0) continue;
            L = pl + cl - 1; /* inputs: every token but the last */
            if (L > cap) { rc = errf(err, RLVR_EARG, "eval_cross_ppl: a sample of %d tokens exceeds the scorer's %d", L + 1, cap); goto done; }
        }
        if (B > 0 && (s == S || N + L > cap || B == bcap)) {
            if ((rc = model_forward(m, tok, tgt, st, B, err))) goto done;
            for (int k = 0; k < N; k++)
                if (tgt[k] >= 0) nll -= m->a.logp[k], count++;
            N = 0, B = 0;
        }
        if (s == S) break;
        const int *pi = r->prompt_ids[s / r->n], *ci = r->tokens[s];
        for (int t = 0; t < pl + cl; t++) {
            int id = t < pl ? pi[t] : ci[t - pl];
            if (id < 0 || id >= V) { rc = errf(err, RLVR_EARG, "eval_cross_ppl: token id %d outside the scorer's vocabulary (%d)", id, V); goto done; }
            if (t < L) tok[N + t] = id;
            if (t > 0) tgt[N + t - 1] = t >= pl ? id : -1;
        }
        N += L;
        st[++B] = N;
    }
    if (!count) { rc = errf(err, RLVR_EARG, "eval_cross_ppl: no completion tokens to score"); goto done; }
    *ppl = exp(nll / count);
    if (n_tokens) *n_tokens = count;
    rc = RLVR_OK;
done:
    free(tok); free(tgt); free(st);
    return rc;
}
