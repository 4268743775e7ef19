/* cmd_eval.c: rlvr eval, the sampling metrics of a model on held-out problems. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "core/fs.h"
#include "eval/passk.h"
#include "model/load.h"
#include "rollout/engine.h"
#include "rollout/sampler.h"
#include "tasks/arith.h"
#include "tokenizer/bytes.h"

static const char *EVAL_HELP =
    "usage: rlvr eval model=PATH [key=value ...]\n"
    "Samples n answers per held-out arith problem with the rollout engine and reports,\n"
    "per difficulty, the unbiased pass@k, maj@k (vote over the final answers) and\n"
    "CoT-pass@k (a sample counts only when its answer AND its step trace are right),\n"
    "with 95% bootstrap intervals over problems; writes out=FILE.json if given.\n"
    "keys (defaults): problems=100 n=16 k=[1,2,4,8,16] difficulties=[1,2,3] temperature=1.0\n"
    "                 top_p=1 max_new_tokens=64 seed=1 task.max_val=99 task.max_result=999\n"
    "                 task.ops=\"+-*\" task.template=0 slots=128 out=\"\"\n";

int cmd_eval(int argc, char **argv) {
    if (wants_help(argc, argv)) { fputs(EVAL_HELP, stdout); return 0; }
    rlvr_err e = {0};
    cfg *c = load_cfg(argc, argv, &e);
    const char *path, *ops, *outp;
    long long np, n, ks[16], dd[8], mx, mr, tmpl, max_new, seed, slots, defk[] = {1, 2, 4, 8, 16}, defd[] = {1, 2, 3};
    int nk = 0, nd = 0;
    double temp, tp;
    if (cfg_str(c, "model", NULL, &path, &e) || cfg_int_range(c, "problems", 100, 1, 1000000, &np, &e) ||
        cfg_int_range(c, "n", 16, 1, 4096, &n, &e) || cfg_int_list(c, "k", defk, 5, ks, 16, &nk, &e) ||
        cfg_int_list(c, "difficulties", defd, 3, dd, 8, &nd, &e) || cfg_float(c, "temperature", 1.0, &temp, &e) ||
        cfg_float(c, "top_p", 1.0, &tp, &e) || cfg_int_range(c, "max_new_tokens", 64, 1, 8192, &max_new, &e) ||
        cfg_int_range(c, "seed", 1, 0, 1LL << 62, &seed, &e) || cfg_int_range(c, "task.max_val", 99, 1, 9999, &mx, &e) ||
        cfg_int_range(c, "task.max_result", 999, 1, 999999, &mr, &e) || cfg_str(c, "task.ops", "+-*", &ops, &e) ||
        cfg_int_range(c, "task.template", 0, 0, ARITH_N_TEMPLATES - 1, &tmpl, &e) || cfg_int_range(c, "slots", 128, 1, 4096, &slots, &e) ||
        cfg_str(c, "out", "", &outp, &e) || cfg_check_unused(c, &e))
        die(&e);
    for (int i = 0; i < nk; i++)
        if (ks[i] < 1 || ks[i] > n) { cfg_errf(c, "k", &e, "k=%lld must be in 1..n (%lld)", ks[i], n); die(&e); }
    sampler_params sp = sampler_default_params();
    sp.temperature = (float)temp, sp.top_p = (float)tp;
    if (sampler_check(&sp, &e)) die(&e);
    loaded_model lm;
    if (model_open(path, NULL, &lm, &e)) { loaded_model_free(&lm); die(&e); }
    int T = lm.m->cfg.max_seq_len;
    cJSON *report = cJSON_CreateObject(), *rows = cJSON_AddArrayToObject(report, "difficulties");
    cJSON_AddStringToObject(report, "model", path);
    cJSON_AddNumberToObject(report, "n", (double)n);
    printf("%-10s %-8s", "difficulty", "metric");
    for (int i = 0; i < nk; i++) printf("  %6s@%-3lld", "", ks[i]);
    printf("   (n=%lld samples x %lld problems, 95%% bootstrap CI on the first k)\n", n, np);
    for (int di = 0; di < nd; di++) {
        arith_params ap = arith_default_params();
        ap.n_ops = (int)dd[di], ap.max_val = (int)mx, ap.max_result = (int)mr, ap.template_id = (int)tmpl, ap.split = ARITH_SPLIT_EVAL;
        ap.ops_mask = (strchr(ops, '+') ? ARITH_OP_ADD : 0) | (strchr(ops, '-') ? ARITH_OP_SUB : 0) | (strchr(ops, '*') ? ARITH_OP_MUL : 0) |
                      (strchr(ops, '/') ? ARITH_OP_DIV : 0);
        arith_problem *pb = calloc(np, sizeof *pb);
        int **prompts = calloc(np, sizeof *prompts), *plens = calloc(np, sizeof *plens);
        for (long long i = 0; i < np; i++) {
            if (arith_generate(&ap, (uint64_t)seed ^ 0x5EED0E7A1ULL, (uint64_t)i, &pb[i], &e)) die(&e);
            prompts[i] = malloc(sizeof(int) * T);
            if (loaded_encode_prompt(&lm, pb[i].prompt, 0, NULL, prompts[i], T, &plens[i], &e)) die(&e);
            if (lm.byte_vocab) { memmove(prompts[i] + 1, prompts[i], sizeof(int) * plens[i]); prompts[i][0] = BYTES_BOS; plens[i]++; }
        }
        engine_params ep = engine_default_params();
        ep.max_slots = (int)slots, ep.max_len = T, ep.sampling = sp, ep.max_new_tokens = (int)max_new, ep.seed = (uint64_t)seed;
        ep.stop_ids = lm.stop_ids, ep.n_stop_ids = lm.n_stop, ep.token_text = loaded_token_text, ep.token_text_ud = &lm;
        engine_sample *out = calloc((size_t)np * n, sizeof *out);
        engine_stats st;
        gen_progress gp = {.tty = isatty(2)};
        if (engine_generate(lm.m, &ep, (const int *const *)prompts, plens, (int)np, (int)n, out, &st, engine_progress_print, &gp, &e)) die(&e);
        if (gp.tty) fputc('\n', stderr);
        double *pk = calloc((size_t)np * nk, sizeof *pk), *mk = calloc((size_t)np * nk, sizeof *mk), *ck = calloc((size_t)np * nk, sizeof *ck);
        char **keys = calloc(n, sizeof *keys), text[8192];
        int *corr = calloc(n, sizeof *corr);
        for (long long i = 0; i < np; i++) {
            int cnt = 0, cot = 0;
            for (long long g = 0; g < n; g++) {
                const engine_sample *x = &out[i * n + g];
                size_t tl = 0;
                for (int t = 0; t < x->n_tokens && !loaded_is_stop(&lm, x->tokens[t]); t++) {
                    size_t bl;
                    const char *b = loaded_token_text(&lm, x->tokens[t], &bl);
                    if (tl + bl < sizeof text) memcpy(text + tl, b, bl), tl += bl;
                }
                text[tl] = 0;
                int ok = 0, steps_ok = 0, proc = 0;
                arith_check_answer(&pb[i], text, tl, &ok);
                arith_check_trace(&pb[i], text, tl, &steps_ok, &proc);
                cnt += ok, cot += ok && proc;
                const char *h = strchr(text, '#');
                keys[g] = strdup(h ? h + 1 : "");
                corr[g] = ok;
            }
            for (int j = 0; j < nk; j++) {
                pk[j * np + i] = pass_at_k((int)n, cnt, (int)ks[j]);
                ck[j * np + i] = pass_at_k((int)n, cot, (int)ks[j]);
                mk[j * np + i] = maj_at_k((const char *const *)keys, corr, (int)ks[j]);
            }
            for (long long g = 0; g < n; g++) free(keys[g]);
        }
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "difficulty", (double)dd[di]);
        const char *names[3] = {"pass", "maj", "cot_pass"};
        double *vals[3] = {pk, mk, ck};
        for (int mtr = 0; mtr < 3; mtr++) {
            printf("%-10lld %-8s", dd[di], names[mtr]);
            cJSON *arr = cJSON_AddArrayToObject(row, names[mtr]);
            for (int j = 0; j < nk; j++) {
                double m, lo, hi;
                bootstrap_ci(vals[mtr] + j * np, (int)np, 0.95, 1000, (uint64_t)seed, &m, &lo, &hi);
                printf("  %5.1f%%+-%-4.1f", 100 * m, 50 * (hi - lo));
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNumberToObject(o, "k", (double)ks[j]);
                cJSON_AddNumberToObject(o, "mean", m);
                cJSON_AddNumberToObject(o, "ci_lo", lo);
                cJSON_AddNumberToObject(o, "ci_hi", hi);
                cJSON_AddItemToArray(arr, o);
            }
            printf("\n");
        }
        cJSON_AddItemToArray(rows, row);
        free(pk); free(mk); free(ck); free(keys); free(corr);
        engine_samples_free(out, (int)(np * n));
        free(out);
        for (long long i = 0; i < np; i++) free(prompts[i]);
        free(prompts); free(plens); free(pb);
    }
    if (*outp) {
        char *js = cJSON_Print(report);
        if (fs_write_atomic(outp, js, strlen(js), &e)) die(&e);
        cJSON_free(js);
        printf("report: %s\n", outp);
    }
    cJSON_Delete(report);
    loaded_model_free(&lm);
    cfg_free(c);
    return 0;
}

