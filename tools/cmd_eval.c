/* cmd_eval.c: rlvr eval, a thin CLI over src/eval/evaluate.h and forget.h: one model's
 * sampled metrics, several models side by side (crossover k, cross-perplexity), or a
 * forgetting matrix over stages x tasks. Prints tables; writes out=FILE.json. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "cli.h"
#include "core/err.h"
#include "core/fs.h"
#include "eval/evaluate.h"
#include "eval/forget.h"
#include "model/load.h"

static const char *EVAL_HELP =
    "usage: rlvr eval model=PATH [key=value ...]\n"
    "       rlvr eval 'model=[\"A\",\"B\",...]' [ppl=true] [key=value ...]\n"
    "       rlvr eval 'model=[\"stage0\",\"stage1\",...]' 'tasks=[\"arith:1\",\"arith:2\"]' [key=value ...]\n"
    "Samples n answers per held-out problem with the rollout engine and reports, per group\n"
    "(arith difficulty, or data_source[/difficulty] of a JSONL file), the unbiased pass@k,\n"
    "maj@k (vote over the final answers) and CoT-pass@k (a sample counts only when its\n"
    "answer AND its reasoning are right), with bootstrap intervals over problems.\n"
    "Several models: the same problems and sampling streams for each, pass@k side by side,\n"
    "the crossover k of every pair and, with ppl=true, each model's per-token perplexity of\n"
    "every model's samples. tasks=[...]: model i is the model after training stage i (stage\n"
    "i trained on task i); R[i][t] = metric@k on each task; prints average accuracy,\n"
    "backward transfer, forgetting and the change on a general task. docs/eval.md.\n"
    "keys (defaults):\n"
    "  model=(required)        a model directory or .gguf, or a TOML array of them\n"
    "  out=\"\"                  write the JSON report here\n"
    "  problem set: built-in arith (when data.path is empty)\n"
    "    problems=100          problems per difficulty (eval split)\n"
    "    difficulties=[1,2,3]  arith n_ops, one group each\n"
    "    task.max_val=99 task.max_result=999 task.ops=\"+-*\" task.template=0\n"
    "  problem set: data.path=FILE.jsonl (a bad line is an error naming FILE:LINE)\n"
    "    reward.spec=\"auto\"    reward spec deciding correctness (docs/verifiers.md)\n"
    "    reward.cot=\"\"         reward spec for CoT-pass, e.g. \"arith_process[mode=all]\"; \"\": none\n"
    "    reward.cot_min=1.0    a CoT reward with no verdict passes when its reward >= cot_min\n"
    "    maj_key=\"auto\"        maj@k answer key: auto (per group: the reward's preds if\n"
    "                          it gives any, else math), math, reward\n"
    "    data.limit=0          evaluate the first N rows (0: all)\n"
    "    data.prompt_key=\"prompt\" data.messages_key=\"messages\" data.answer_key=\"ground_truth\"\n"
    "    data.data_source_key=\"data_source\" data.difficulty_key=\"difficulty\" data.template=\"\"\n"
    "  sampling:\n"
    "    n=16 k=[1,2,4,8,16]   samples per problem; k values (increasing, each in 1..n)\n"
    "    temperature=1.0 top_p=1.0 top_k=0 min_p=0.0 max_new_tokens=64 seed=1\n"
    "    slots=128             engine KV slots (results do not depend on it)\n"
    "    chat=false system=\"\"  render prompts with the model's chat template (BPE models)\n"
    "    threads=0             OpenMP threads (0: all; results do not depend on it)\n"
    "  report: examples=2      example completions per group in the JSON report\n"
    "  comparison: ppl=false   cross-perplexity matrix (models must share a vocabulary)\n"
    "  forgetting matrix (when tasks is not empty): tasks=[] matrix.metric=\"pass\" (pass|maj|cot_pass)\n"
    "    matrix.k=1            the k of the metric (must be in the k list)\n"
    "    matrix.general=\"\"     the task (as written in tasks) that measures general ability\n"
    "    matrix.base=\"\"        the model before stage 0 (its row is the general baseline)\n"
    "    a task is \"arith\" (the difficulties key), \"arith:D[,D...]\" or a JSONL path\n";

#define MAX_MODELS 16
#define MAX_TASKS  32

/* Everything a problem set is built from. */
typedef struct {
    arith_params ap;
    int per_diff, diffs[16], n_diffs;
    eval_data_params dp;
    uint64_t seed;
} set_spec;

/* Builds the problem set `task`: NULL or "" = the default (data when set, else arith over
 * the difficulties key); "arith"; "arith:D,D"; anything else is a JSONL path. */
static int make_set(const set_spec *s, const char *data, const char *task, eval_problems **ps, rlvr_err *e) {
    if (!task || !*task) task = *data ? data : "arith";
    if (!strcmp(task, "arith")) return eval_problems_arith(&s->ap, s->diffs, s->n_diffs, s->per_diff, s->seed, ps, e);
    if (!strncmp(task, "arith:", 6)) {
        int d[16], nd = 0;
        const char *p = task + 6;
        while (*p && nd < 16) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || v < 1 || v > ARITH_MAX_OPS || (*end && *end != ','))
                return errf(e, RLVR_ECONFIG, "task '%s': expected arith:D[,D...] with D in 1..%d", task, ARITH_MAX_OPS);
            d[nd++] = (int)v;
            p = *end ? end + 1 : end;
        }
        if (!nd || *p) return errf(e, RLVR_ECONFIG, "task '%s': expected arith:D[,D...] (at most 16)", task);
        return eval_problems_arith(&s->ap, d, nd, s->per_diff, s->seed, ps, e);
    }
    return eval_problems_dataset(task, &s->dp, ps, e);
}

static const eval_ci *metric_of(const eval_group *g, int mtr) { return mtr == 0 ? g->pass : mtr == 1 ? g->maj : g->cot; }

static void print_table(const eval_result *r) {
    static const char *names[3] = {"pass", "maj", "cot_pass"};
    printf("%-12s %-8s", "group", "metric");
    for (int j = 0; j < r->n_k; j++) printf("  %6s@%-3d", "", r->ks[j]);
    printf("   (n=%d samples x %d problems, %.0f%% bootstrap CI)\n", r->n, r->n_problems, 100 * r->params.ci_level);
    for (int g = 0; g <= r->n_groups; g++) {
        const eval_group *G = g < r->n_groups ? &r->groups[g] : &r->overall;
        if (g == r->n_groups && r->n_groups < 2) break;
        for (int mtr = 0; mtr < (r->has_cot ? 3 : 2); mtr++) {
            printf("%-12s %-8s", G->name, names[mtr]);
            const eval_ci *v = metric_of(G, mtr);
            for (int j = 0; j < r->n_k; j++) printf("  %5.1f%%+-%-4.1f", 100 * v[j].mean, 50 * (v[j].hi - v[j].lo));
            printf("\n");
        }
    }
    printf("mean response length (tokens):");
    for (int g = 0; g < r->n_groups; g++) printf(" %s %.1f", r->groups[g].name, r->groups[g].mean_len);
    printf("; %ld tokens sampled in %.1fs, checked in %.2fs\n", r->gen_tokens, r->gen_s, r->score_s);
}

/* pass@k of every model side by side, then the crossover k of every ordered pair. */
static void print_comparison(eval_result *rs, char **paths, int nm, cJSON *cmp) {
    printf("\npass@k side by side (same problems, same sampling streams):\n");
    for (int m = 0; m < nm; m++) printf("  %c = %s\n", 'A' + m, paths[m]);
    printf("%-12s %4s", "group", "k");
    for (int m = 0; m < nm; m++) printf("  %13c", 'A' + m);
    printf("\n");
    int ng = rs[0].n_groups;
    for (int g = 0; g <= ng; g++) {
        if (g == ng && ng < 2) break;
        for (int j = 0; j < rs[0].n_k; j++) {
            printf("%-12s %4d", g < ng ? rs[0].groups[g].name : "all", rs[0].ks[j]);
            for (int m = 0; m < nm; m++) {
                const eval_ci *v = (g < ng ? &rs[m].groups[g] : &rs[m].overall)->pass;
                printf("  %6.1f%%+-%-4.1f", 100 * v[j].mean, 50 * (v[j].hi - v[j].lo));
            }
            printf("\n");
        }
    }
    printf("\ncrossover k: the smallest k in the k list where pass@k of X >= pass@k of Y\n"
           "(X: e.g. the base model, Y: its RL-trained version; \"none\": X stays below up to k=%d)\n", rs[0].ks[rs[0].n_k - 1]);
    printf("%-12s", "group");
    for (int a = 0; a < nm; a++)
        for (int b = 0; b < nm; b++)
            if (a != b) printf("  %c>=%c%-5s", 'A' + a, 'A' + b, "");
    printf("\n");
    cJSON *arr = cJSON_AddArrayToObject(cmp, "crossover");
    for (int g = 0; g <= ng; g++) {
        if (g == ng && ng < 2) break;
        const char *gname = g < ng ? rs[0].groups[g].name : "all";
        printf("%-12s", gname);
        for (int a = 0; a < nm; a++)
            for (int b = 0; b < nm; b++) {
                if (a == b) continue;
                double va[EVAL_MAX_K], vb[EVAL_MAX_K];
                for (int j = 0; j < rs[0].n_k; j++) {
                    va[j] = (g < ng ? &rs[a].groups[g] : &rs[a].overall)->pass[j].mean;
                    vb[j] = (g < ng ? &rs[b].groups[g] : &rs[b].overall)->pass[j].mean;
                }
                int x = eval_crossover(va, vb, rs[0].n_k);
                char buf[16];
                if (x >= 0) snprintf(buf, sizeof buf, "k=%d", rs[0].ks[x]);
                else snprintf(buf, sizeof buf, "none");
                printf("  %-9s", buf);
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "group", gname);
                cJSON_AddStringToObject(o, "first", paths[a]);
                cJSON_AddStringToObject(o, "second", paths[b]);
                if (x >= 0) cJSON_AddNumberToObject(o, "k", rs[0].ks[x]);
                else cJSON_AddNullToObject(o, "k");
                cJSON_AddItemToArray(arr, o);
            }
        printf("\n");
    }
}

/* The forgetting matrix: every stage's model on every task, then the summaries. */
static int run_matrix(cfg *c, loaded_model *lms, char **paths, int nm, const char *base_path, const char **tasks, int nt,
                      const set_spec *ss, const eval_params *ep, const char *metric, int mk, const char *general, cJSON *report,
                      rlvr_err *e) {
    int mtr = !strcmp(metric, "pass") ? 0 : !strcmp(metric, "maj") ? 1 : !strcmp(metric, "cot_pass") ? 2 : -1;
    if (mtr < 0) return cfg_errf(c, "matrix.metric", e, "must be pass, maj or cot_pass, got \"%s\"", metric);
    int kj = -1;
    for (int j = 0; j < ep->n_k; j++)
        if (ep->ks[j] == mk) kj = j;
    if (kj < 0) return cfg_errf(c, "matrix.k", e, "k=%d is not in the k list", mk);
    int gi = -1;
    for (int t = 0; *general && t < nt; t++)
        if (!strcmp(tasks[t], general)) gi = t;
    if (*general && gi < 0) return cfg_errf(c, "matrix.general", e, "\"%s\" is not one of the tasks", general);
    eval_problems *ps[MAX_TASKS] = {0};
    int rc = RLVR_OK, nrow = nm + (*base_path ? 1 : 0);
    double *R = calloc((size_t)nrow * nt, sizeof *R), forg[MAX_TASKS];
    cJSON *reps = cJSON_AddArrayToObject(report, "reports");
    for (int t = 0; t < nt && !rc; t++)
        if ((rc = make_set(ss, "", tasks[t], &ps[t], e))) err_wrap(e, rc, "%s: key 'tasks' element %d", cfg_origin(c, "tasks"), t);
    gen_progress gp = {.tty = isatty(2)};
    for (int row = 0; row < nrow && !rc; row++) {
        loaded_model base;
        loaded_model *lm = &lms[row];
        if (*base_path && row == nm) { /* the base row last, so the stages keep their indices */
            if ((rc = model_open(base_path, NULL, &base, e))) { loaded_model_free(&base); break; }
            lm = &base;
        }
        for (int t = 0; t < nt && !rc; t++) {
            eval_result r;
            eval_params p = *ep;
            p.progress = engine_progress_print, p.progress_ud = &gp;
            if ((rc = eval_run(lm, ps[t], &p, &r, e))) { eval_result_free(&r); break; }
            if (gp.tty) fputc('\n', stderr);
            if (!r.has_cot && mtr == 2) { rc = errf(e, RLVR_ECONFIG, "matrix.metric=cot_pass but task '%s' has no CoT check (cot_reward)", tasks[t]); eval_result_free(&r); break; }
            R[(size_t)row * nt + t] = metric_of(&r.overall, mtr)[kj].mean;
            cJSON *o = eval_result_json(&r);
            cJSON_AddStringToObject(o, "task", tasks[t]);
            cJSON_AddNumberToObject(o, "stage", row < nm ? row : -1);
            cJSON_AddItemToArray(reps, o);
            eval_result_free(&r);
        }
        if (lm == &base) loaded_model_free(&base);
    }
    forget_summary fs;
    const double *baserow = *base_path ? R + (size_t)nm * nt : NULL;
    if (!rc) rc = forget_summarize(R, nm, nt, gi, baserow, forg, &fs, e);
    if (!rc) {
        printf("\nevaluation matrix: %s@%d on each task (rows: the model after stage t, trained on task t)\n", metric, mk);
        printf("%-6s", "stage");
        for (int t = 0; t < nt; t++) printf(" %12.12s", tasks[t]);
        printf("   model\n");
        for (int k = 0; k < nrow; k++) {
            int row = *base_path ? (k == 0 ? nm : k - 1) : k, isbase = row == nm; /* the base row first */
            if (isbase) printf("%-6s", "base");
            else printf("%-6d", row);
            for (int t = 0; t < nt; t++) printf(" %11.1f%%", 100 * R[(size_t)row * nt + t]);
            printf("   %s\n", isbase ? base_path : paths[row]);
        }
        printf("average accuracy after the last stage%s: %.1f%%\n", gi >= 0 ? " (general task excluded)" : "", 100 * fs.avg_acc);
        printf("backward transfer BWT = mean_i (R[T-1][i] - R[i][i]): %+.1f points\n", 100 * fs.bwt);
        printf("forgetting (best earlier stage - final):");
        for (int t = 0; t < nt; t++) printf(" %s %+.1f", tasks[t], 100 * forg[t]);
        printf(" points; mean over trained tasks %+.1f\n", 100 * fs.mean_forgetting);
        if (gi >= 0)
            printf("general ability (%s) change, final - %s: %+.1f points\n", tasks[gi], baserow ? "base" : "after stage 0",
                   100 * fs.general_change);
        cJSON *mx = cJSON_AddObjectToObject(report, "matrix");
        cJSON_AddStringToObject(mx, "metric", metric);
        cJSON_AddNumberToObject(mx, "k", mk);
        cJSON_AddItemToObject(mx, "models", cJSON_CreateStringArray((const char *const *)paths, nm));
        cJSON_AddItemToObject(mx, "tasks", cJSON_CreateStringArray(tasks, nt));
        cJSON *rr = cJSON_AddArrayToObject(mx, "R");
        for (int row = 0; row < nm; row++) cJSON_AddItemToArray(rr, cJSON_CreateDoubleArray(R + (size_t)row * nt, nt));
        if (baserow) {
            cJSON_AddStringToObject(mx, "base_model", base_path);
            cJSON_AddItemToObject(mx, "base", cJSON_CreateDoubleArray(baserow, nt));
        }
        cJSON_AddNumberToObject(mx, "avg_acc", fs.avg_acc);
        if (isfinite(fs.bwt)) cJSON_AddNumberToObject(mx, "bwt", fs.bwt);
        else cJSON_AddNullToObject(mx, "bwt");
        cJSON_AddItemToObject(mx, "forgetting", cJSON_CreateDoubleArray(forg, nt));
        if (isfinite(fs.mean_forgetting)) cJSON_AddNumberToObject(mx, "mean_forgetting", fs.mean_forgetting);
        else cJSON_AddNullToObject(mx, "mean_forgetting");
        if (gi >= 0) {
            cJSON_AddStringToObject(mx, "general", tasks[gi]);
            cJSON_AddNumberToObject(mx, "general_change", fs.general_change);
        }
    }
    for (int t = 0; t < nt; t++) eval_problems_free(ps[t]);
    free(R);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    if (wants_help(argc, argv)) { fputs(EVAL_HELP, stdout); return 0; }
    rlvr_err e = {0};
    cfg *c = load_cfg(argc, argv, &e);
    const char *paths_c[MAX_MODELS], *ops, *outp, *data, *reward, *cot_reward, *maj, *system, *pk, *mk_, *ak, *dsk, *dk, *tmpl;
    const char *tasks[MAX_TASKS], *metric, *general, *base_path;
    long long np, n, ks[EVAL_MAX_K], dd[16], mx, mr, tmpl_id, max_new, seed, slots, topk, nex, limit, threads, mk;
    long long defk[] = {1, 2, 4, 8, 16}, defd[] = {1, 2, 3};
    int nk = 0, nd = 0, nm = 0, nt = 0, chat, ppl;
    double temp, tp, minp, cot_min;
    if (!cfg_has(c, "model")) { cfg_str(c, "model", NULL, &paths_c[0], &e); die(&e); }
    rlvr_err e2 = {0};
    if (cfg_str_list(c, "model", NULL, 0, paths_c, MAX_MODELS, &nm, &e2)) {
        if (cfg_str(c, "model", NULL, &paths_c[0], &e)) {
            if (strstr(e2.msg, "at most") || strstr(e2.msg, "element")) die(&e2); /* an array, but a bad one */
            die(&e);
        }
        nm = 1;
    }
    if (nm < 1) { cfg_errf(c, "model", &e, "needs at least one model"); die(&e); }
    if (cfg_int_range(c, "problems", 100, 1, 1000000, &np, &e) || cfg_int_range(c, "n", 16, 1, 4096, &n, &e) ||
        cfg_int_list(c, "k", defk, 5, ks, EVAL_MAX_K, &nk, &e) || cfg_int_list(c, "difficulties", defd, 3, dd, 16, &nd, &e) ||
        cfg_float(c, "temperature", 1.0, &temp, &e) || cfg_float(c, "top_p", 1.0, &tp, &e) ||
        cfg_int_range(c, "top_k", 0, 0, 1 << 30, &topk, &e) || cfg_float(c, "min_p", 0.0, &minp, &e) ||
        cfg_int_range(c, "max_new_tokens", 64, 1, 8192, &max_new, &e) || cfg_int_range(c, "seed", 1, 0, 1LL << 62, &seed, &e) ||
        cfg_int_range(c, "task.max_val", 99, 1, 9999, &mx, &e) || cfg_int_range(c, "task.max_result", 999, 1, 999999, &mr, &e) ||
        cfg_str(c, "task.ops", "+-*", &ops, &e) || cfg_int_range(c, "task.template", 0, 0, ARITH_N_TEMPLATES - 1, &tmpl_id, &e) ||
        cfg_int_range(c, "slots", 128, 1, 4096, &slots, &e) || cfg_str(c, "out", "", &outp, &e) ||
        cfg_str(c, "data.path", "", &data, &e) || cfg_str(c, "reward.spec", "auto", &reward, &e) ||
        cfg_str(c, "reward.cot", "", &cot_reward, &e) || cfg_float_range(c, "reward.cot_min", 1.0, -1e300, 1e300, &cot_min, &e) || cfg_str(c, "maj_key", "auto", &maj, &e) ||
        cfg_int_range(c, "data.limit", 0, 0, 1 << 30, &limit, &e) || cfg_str(c, "data.prompt_key", "prompt", &pk, &e) ||
        cfg_str(c, "data.messages_key", "messages", &mk_, &e) || cfg_str(c, "data.answer_key", "ground_truth", &ak, &e) ||
        cfg_str(c, "data.data_source_key", "data_source", &dsk, &e) || cfg_str(c, "data.difficulty_key", "difficulty", &dk, &e) ||
        cfg_str(c, "data.template", "", &tmpl, &e) || cfg_bool(c, "chat", 0, &chat, &e) || cfg_str(c, "system", "", &system, &e) ||
        cfg_int_range(c, "examples", 2, 0, 1000, &nex, &e) || cfg_int_range(c, "threads", 0, 0, 4096, &threads, &e) ||
        cfg_bool(c, "ppl", 0, &ppl, &e) ||
        cfg_str_list(c, "tasks", NULL, 0, tasks, MAX_TASKS, &nt, &e) || cfg_str(c, "matrix.metric", "pass", &metric, &e) ||
        cfg_int_range(c, "matrix.k", 1, 1, 4096, &mk, &e) || cfg_str(c, "matrix.general", "", &general, &e) ||
        cfg_str(c, "matrix.base", "", &base_path, &e) || cfg_check_unused(c, &e))
        die(&e);
    for (int i = 0; i < nk; i++) {
        if (ks[i] < 1 || ks[i] > n) { cfg_errf(c, "k", &e, "k=%lld must be in 1..n (%lld)", ks[i], n); die(&e); }
        if (i && ks[i] <= ks[i - 1]) { cfg_errf(c, "k", &e, "k values must increase (%lld after %lld)", ks[i], ks[i - 1]); die(&e); }
    }
    if (nk < 1) { cfg_errf(c, "k", &e, "needs at least one k"); die(&e); }
    if (nd < 1) { cfg_errf(c, "difficulties", &e, "needs at least one difficulty"); die(&e); }
    for (const char *o = ops; *o; o++)
        if (!strchr("+-*/", *o)) { cfg_errf(c, "task.ops", &e, "'%c' is not one of + - * /", *o); die(&e); }
    int majk = !strcmp(maj, "auto") ? EVAL_MAJ_AUTO : !strcmp(maj, "math") ? EVAL_MAJ_MATH : !strcmp(maj, "reward") ? EVAL_MAJ_REWARD : -1;
    if (majk < 0) { cfg_errf(c, "maj_key", &e, "must be auto, math or reward, got \"%s\"", maj); die(&e); }
    int matrix = nt > 0;
    if (matrix && *data) { cfg_errf(c, "data.path", &e, "a forgetting matrix takes its problem sets from tasks=[...]; name the JSONL there"); die(&e); }
    if (matrix && ppl) { cfg_errf(c, "ppl", &e, "ppl=true compares models on one problem set; not with tasks=[...]"); die(&e); }
    if (ppl && nm < 2) { cfg_errf(c, "ppl", &e, "ppl=true needs at least two models in model=[...]"); die(&e); }
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads((int)threads);
#endif
    set_spec ss;
    memset(&ss, 0, sizeof ss);
    ss.ap = arith_default_params();
    ss.ap.max_val = (int)mx, ss.ap.max_result = (int)mr, ss.ap.template_id = (int)tmpl_id;
    ss.ap.ops_mask = (strchr(ops, '+') ? ARITH_OP_ADD : 0) | (strchr(ops, '-') ? ARITH_OP_SUB : 0) |
                     (strchr(ops, '*') ? ARITH_OP_MUL : 0) | (strchr(ops, '/') ? ARITH_OP_DIV : 0);
    ss.per_diff = (int)np, ss.n_diffs = nd, ss.seed = (uint64_t)seed;
    for (int i = 0; i < nd; i++) ss.diffs[i] = (int)dd[i];
    ss.dp = eval_data_default_params();
    ss.dp.data.prompt_key = pk, ss.dp.data.messages_key = mk_, ss.dp.data.answer_key = ak, ss.dp.data.data_source_key = dsk;
    ss.dp.data.template_str = *tmpl ? tmpl : NULL;
    ss.dp.difficulty_key = dk, ss.dp.reward = reward, ss.dp.cot_reward = cot_reward, ss.dp.cot_min = cot_min;
    ss.dp.maj_key = majk, ss.dp.limit = (int)limit;
    eval_params ep = eval_default_params();
    ep.sampling.temperature = (float)temp, ep.sampling.top_p = (float)tp, ep.sampling.top_k = (int)topk, ep.sampling.min_p = (float)minp;
    if (sampler_check(&ep.sampling, &e)) die(&e);
    ep.n = (int)n, ep.n_k = nk, ep.max_new_tokens = (int)max_new, ep.seed = (uint64_t)seed, ep.slots = (int)slots;
    for (int i = 0; i < nk; i++) ep.ks[i] = (int)ks[i];
    ep.chat = chat, ep.system = *system ? system : NULL, ep.n_examples = (int)nex, ep.keep_samples = ppl;

    char *paths[MAX_MODELS];
    for (int m = 0; m < nm; m++) paths[m] = (char *)paths_c[m];
    loaded_model lms[MAX_MODELS];
    memset(lms, 0, sizeof lms);
    for (int m = 0; m < nm; m++)
        if (model_open(paths[m], NULL, &lms[m], &e)) die(&e);
    cJSON *report = cJSON_CreateObject();
    int rc = 0;
    if (matrix) {
        rc = run_matrix(c, lms, paths, nm, base_path, tasks, nt, &ss, &ep, metric, (int)mk, general, report, &e);
        cJSON_AddStringToObject(report, "model", paths[0]);
        cJSON_AddNumberToObject(report, "n", (double)n);
    } else {
        eval_problems *ps = NULL;
        eval_result rs[MAX_MODELS];
        memset(rs, 0, sizeof rs);
        if ((rc = make_set(&ss, data, NULL, &ps, &e))) die(&e);
        gen_progress gp = {.tty = isatty(2)};
        ep.progress = engine_progress_print, ep.progress_ud = &gp;
        for (int m = 0; m < nm && !rc; m++) {
            rc = eval_run(&lms[m], ps, &ep, &rs[m], &e);
            if (gp.tty) fputc('\n', stderr);
            if (rc) break;
            if (nm > 1) printf("%smodel %c: %s\n", m ? "\n" : "", 'A' + m, paths[m]);
            print_table(&rs[m]);
        }
        if (!rc) { /* the first model's report at the top level (the single-model schema), every model under "models" */
            cJSON *first = eval_result_json(&rs[0]);
            cJSON *it = first->child;
            while (it) {
                cJSON *next = it->next;
                cJSON_AddItemToObject(report, it->string, cJSON_DetachItemViaPointer(first, it));
                it = next;
            }
            cJSON_Delete(first);
        }
        if (!rc && nm > 1) {
            cJSON *models = cJSON_AddArrayToObject(report, "models");
            for (int m = 0; m < nm; m++) cJSON_AddItemToArray(models, eval_result_json(&rs[m]));
            cJSON *cmp = cJSON_AddObjectToObject(report, "comparison");
            cJSON_AddItemToObject(cmp, "models", cJSON_CreateStringArray((const char *const *)paths, nm));
            print_comparison(rs, paths, nm, cmp);
        }
        if (!rc && ppl) {
            for (int m = 1; m < nm && !rc; m++) rc = eval_same_vocab(&lms[0], &lms[m], &e);
            cJSON *cmp = cJSON_GetObjectItem(report, "comparison"), *rows = cJSON_AddArrayToObject(cmp, "ppl");
            if (!rc) {
                printf("\nper-token perplexity of each model's samples (columns) under each model (rows), teacher-forced:\n%-10s", "");
                for (int j = 0; j < nm; j++) printf("  samples %c", 'A' + j);
                printf("\n");
            }
            for (int i = 0; i < nm && !rc; i++) {
                printf("under %c   ", 'A' + i);
                double row[MAX_MODELS];
                for (int j = 0; j < nm && !rc; j++) {
                    long cnt;
                    if ((rc = eval_cross_ppl(&lms[i], &rs[j], &row[j], &cnt, &e))) break;
                    printf("  %9.3f", row[j]);
                }
                printf("\n");
                if (!rc) cJSON_AddItemToArray(rows, cJSON_CreateDoubleArray(row, nm));
            }
        }
        for (int m = 0; m < nm; m++) eval_result_free(&rs[m]);
        eval_problems_free(ps);
    }
    if (!rc && *outp) {
        char *js = cJSON_Print(report);
        rc = fs_write_atomic(outp, js, strlen(js), &e);
        cJSON_free(js);
        if (!rc) printf("report: %s\n", outp);
    }
    cJSON_Delete(report);
    for (int m = 0; m < nm; m++) loaded_model_free(&lms[m]);
    if (rc) die(&e);
    cfg_free(c);
    return 0;
}
