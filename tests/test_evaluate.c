/* test_evaluate: the evaluation library on a tiny in-process byte model whose output head
 * is biased towards "#", a few digits and EOS, so that arith answers are sometimes right:
 * pass@k equals pass_at_k over the per-problem counts, results do not depend on slots or
 * threads, the JSONL route reproduces the arith route, cross-perplexity equals an
 * independent teacher-forced NLL, crossover and forgetting summaries give exact values,
 * and bad input names its file:line or key. */
#include <cjson/cJSON.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "check.h"
#include "eval/evaluate.h"
#include "eval/forget.h"
#include "eval/passk.h"
#include "tokenizer/bytes.h"

/* A byte-level model that writes only '#', '1', '2', '3' and EOS (every other token's
 * logit is ~20 lower): a constant feature in dimension 0 of every embedding carries a
 * per-token bias through the final norm into the (untied) output head. */
static model *biased_model(uint64_t seed, int vocab) {
    model_config c = {0};
    snprintf(c.arch, sizeof c.arch, "llama");
    c.vocab_size = vocab, c.dim = 32, c.hidden_dim = 48, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.head_dim = 8;
    c.max_seq_len = 64, c.norm_eps = 1e-5f, c.rope_theta = 10000.0f, c.bos_id = BYTES_BOS, c.eos_id = BYTES_EOS;
    rlvr_err e = {0};
    model *m = model_new(&c, &e);
    CHECK(m != NULL, "%s", e.msg);
    if (!m) return NULL;
    model_init_random(m, seed, 0.3f);
    for (int t = 0; t < vocab; t++) {
        m->w.wte[(size_t)t * c.dim] = 20.0f;
        int keep = t == '#' || t == '1' || t == '2' || t == '3' || t == BYTES_EOS;
        m->w.lm_head[(size_t)t * c.dim] = keep ? 0.5f : -3.0f;
    }
    return m;
}

static arith_params small_task(void) {
    arith_params ap = arith_default_params();
    ap.max_val = 3, ap.max_result = 3, ap.ops_mask = ARITH_OP_ADD | ARITH_OP_SUB;
    return ap;
}

static eval_params small_params(void) {
    eval_params p = eval_default_params();
    p.n = 8, p.n_k = 4, p.ks[0] = 1, p.ks[1] = 2, p.ks[2] = 4, p.ks[3] = 8;
    p.max_new_tokens = 6, p.seed = 3, p.slots = 64, p.bootstrap_reps = 200;
    return p;
}

static const int DIFFS[2] = {1, 2};
enum { PER_DIFF = 12 };

static int run(model *m, const eval_problems *ps, const eval_params *p, eval_result *r) {
    loaded_model lm;
    eval_bytes_view(m, &lm);
    rlvr_err e = {0};
    int rc = eval_run(&lm, ps, p, r, &e);
    CHECK(rc == 0, "eval_run: %s", e.msg);
    return rc;
}

static void test_passk_matches_counts(void) {
    model *m = biased_model(5, BYTES_VOCAB);
    arith_params ap = small_task();
    eval_problems *ps;
    rlvr_err e = {0};
    CHECK(eval_problems_arith(&ap, DIFFS, 2, PER_DIFF, 7, &ps, &e) == 0, "%s", e.msg);
    eval_params p = small_params();
    eval_result r;
    if (run(m, ps, &p, &r)) goto out;
    CHECK(r.n_groups == 2 && !strcmp(r.groups[0].name, "arith/1") && !strcmp(r.groups[1].name, "arith/2"), "groups %s", r.groups[0].name);
    int tot = 0;
    for (int i = 0; i < r.n_problems; i++) tot += r.n_correct[i];
    CHECK(tot > 0 && tot < r.n_problems * r.n, "some but not all samples right (%d of %d): the checks below can fail", tot, r.n_problems * r.n);
    for (int g = 0; g <= r.n_groups; g++) {
        const eval_group *G = g < r.n_groups ? &r.groups[g] : &r.overall;
        for (int j = 0; j < r.n_k; j++) {
            double s = 0, sc = 0;
            int cnt = 0;
            for (int i = 0; i < r.n_problems; i++)
                if (g == r.n_groups || r.group_of[i] == g) {
                    s += pass_at_k(r.n, r.n_correct[i], r.ks[j]), sc += pass_at_k(r.n, r.n_cot[i], r.ks[j]), cnt++;
                    CHECK(r.n_cot[i] <= r.n_correct[i], "CoT-correct implies correct");
                }
            CHECK(cnt == G->n_problems, "group %s size %d vs %d", G->name, G->n_problems, cnt);
            CHECK_CLOSE(G->pass[j].mean, s / cnt, 1e-12, 1e-12, "pass@k = mean of pass_at_k over the counts");
            CHECK_CLOSE(G->cot[j].mean, sc / cnt, 1e-12, 1e-12, "cot_pass@k likewise");
            CHECK(G->pass[j].lo <= G->pass[j].mean + 1e-12 && G->pass[j].mean <= G->pass[j].hi + 1e-12, "CI holds the mean");
            CHECK(G->maj[j].mean >= 0 && G->maj[j].mean <= 1, "maj in [0,1]");
            if (j) CHECK(G->pass[j].mean >= G->pass[j - 1].mean - 1e-12, "pass@k grows with k");
        }
    }
    CHECK(r.n_examples == 2 * 2 && r.examples[0].completion && r.examples[2].group == 1, "two examples per group");
    CHECK(r.mean_len > 0 && r.mean_len <= p.max_new_tokens, "mean length %g", r.mean_len);
    /* JSON: the historical field names and the added ones */
    cJSON *o = eval_result_json(&r);
    cJSON *rows = cJSON_GetObjectItem(o, "difficulties"), *row = cJSON_GetArrayItem(rows, 1);
    cJSON *pass = cJSON_GetArrayItem(cJSON_GetObjectItem(row, "pass"), 2);
    CHECK(cJSON_GetObjectItem(o, "model") && cJSON_GetNumberValue(cJSON_GetObjectItem(o, "n")) == 8, "model, n");
    CHECK(cJSON_GetArraySize(rows) == 2 && cJSON_GetNumberValue(cJSON_GetObjectItem(row, "difficulty")) == 2 &&
              !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(row, "group")), "arith/2"), "difficulties[1]");
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(pass, "k")) == 4 && cJSON_GetNumberValue(cJSON_GetObjectItem(pass, "mean")) == r.groups[1].pass[2].mean &&
              cJSON_GetObjectItem(pass, "ci_lo") && cJSON_GetObjectItem(pass, "ci_hi"), "pass[2] fields");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(row, "maj")) == 4 && cJSON_GetArraySize(cJSON_GetObjectItem(row, "cot_pass")) == 4, "maj, cot_pass");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(o, "examples")) == 4 && cJSON_GetObjectItem(o, "overall"), "examples, overall");
    cJSON_Delete(o);
    /* bad parameters */
    eval_result bad;
    p.ks[3] = 9;
    loaded_model lm;
    eval_bytes_view(m, &lm);
    CHECK(eval_run(&lm, ps, &p, &bad, &e) == RLVR_EARG && strstr(e.msg, "k=9"), "k > n refused: %s", e.msg);
    eval_result_free(&bad);
    eval_result_free(&r);
out:
    eval_problems_free(ps);
    model_free(m);
}

static int same_result(const eval_result *a, const eval_result *b) {
    if (a->n_problems != b->n_problems || a->gen_tokens != b->gen_tokens) return 0;
    for (int i = 0; i < a->n_problems; i++)
        if (a->n_correct[i] != b->n_correct[i] || a->n_cot[i] != b->n_cot[i]) return 0;
    for (int g = 0; g < a->n_groups; g++)
        if (memcmp(&a->groups[g], &b->groups[g], sizeof a->groups[g])) return 0;
    for (int i = 0; i < a->n_examples; i++)
        if (strcmp(a->examples[i].completion, b->examples[i].completion)) return 0;
    return 1;
}

static void test_slots_and_threads(void) {
    model *m = biased_model(5, BYTES_VOCAB);
    arith_params ap = small_task();
    eval_problems *ps;
    rlvr_err e = {0};
    CHECK(eval_problems_arith(&ap, DIFFS, 2, PER_DIFF, 7, &ps, &e) == 0, "%s", e.msg);
    eval_params p = small_params();
    eval_result r64, r1, rt1;
    p.slots = 64;
    run(m, ps, &p, &r64);
    p.slots = 1;
    run(m, ps, &p, &r1);
    CHECK(same_result(&r64, &r1), "slots=1 and slots=64 give the same result");
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    p.slots = 64;
    run(m, ps, &p, &rt1);
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    CHECK(same_result(&r64, &rt1), "1 and 2 threads give the same result");
    eval_result_free(&r64); eval_result_free(&r1); eval_result_free(&rt1);
    eval_problems_free(ps);
    model_free(m);
}

static void test_crossover(void) {
    double base[5] = {0.20, 0.35, 0.50, 0.70, 0.90}, rl[5] = {0.40, 0.50, 0.55, 0.65, 0.70};
    CHECK(eval_crossover(base, rl, 5) == 3, "base catches RL at the 4th k");
    CHECK(eval_crossover(rl, base, 5) == 0, "RL is ahead from the first k");
    double eq[2] = {0.5, 0.5}, lo[2] = {0.1, 0.2}, nan2[2] = {NAN, 0.5};
    CHECK(eval_crossover(eq, eq, 2) == 0, "equal counts as caught up");
    CHECK(eval_crossover(lo, eq, 2) == -1, "never: -1");
    CHECK(eval_crossover(nan2, eq, 2) == 1, "NaN never counts");
}

/* exp(mean NLL) of every kept sample's completion under m, one sequence per forward */
static double ppl_reference(model *m, const eval_result *r) {
    double nll = 0;
    long cnt = 0;
    rlvr_err e = {0};
    int T = m->cfg.max_seq_len, tok[64], tgt[64];
    CHECK(model_alloc_train(m, T, 1, &e) == 0, "%s", e.msg);
    for (int s = 0; s < r->n_problems * r->n; s++) {
        int pl = r->prompt_lens[s / r->n], cl = r->n_tokens[s], L = pl + cl - 1, st[2] = {0, L};
        if (cl == 0) continue;
        for (int t = 0; t < L; t++) {
            tok[t] = t < pl ? r->prompt_ids[s / r->n][t] : r->tokens[s][t - pl];
            tgt[t] = t + 1 < pl ? -1 : r->tokens[s][t + 1 - pl];
        }
        CHECK(model_forward(m, tok, tgt, st, 1, &e) == 0, "%s", e.msg);
        for (int t = pl - 1; t < L; t++) nll -= m->a.logp[t], cnt++;
    }
    return exp(nll / cnt);
}

static void test_cross_ppl(void) {
    model *m = biased_model(5, BYTES_VOCAB), *twin = biased_model(5, BYTES_VOCAB), *other = biased_model(9, BYTES_VOCAB);
    arith_params ap = small_task();
    eval_problems *ps;
    rlvr_err e = {0};
    CHECK(eval_problems_arith(&ap, DIFFS, 2, PER_DIFF, 7, &ps, &e) == 0, "%s", e.msg);
    eval_params p = small_params();
    p.sampling.temperature = 0, p.n = 1, p.n_k = 1, p.keep_samples = 1;
    eval_result r;
    if (run(m, ps, &p, &r)) goto out;
    loaded_model lm, lo;
    eval_bytes_view(m, &lm);
    eval_bytes_view(other, &lo);
    double ppl, ref = ppl_reference(twin, &r), po;
    long cnt;
    CHECK(eval_cross_ppl(&lm, &r, &ppl, &cnt, &e) == 0, "%s", e.msg);
    CHECK(cnt == r.gen_tokens, "every generated token scored (%ld vs %ld)", cnt, r.gen_tokens);
    CHECK_CLOSE(ppl, ref, 0, 1e-5, "own greedy samples: ppl = exp(mean NLL) from model_forward");
    CHECK(ppl >= 1, "ppl >= 1");
    CHECK(eval_cross_ppl(&lo, &r, &po, NULL, &e) == 0 && po > ppl, "another model finds them less likely (%g vs %g)", po, ppl);
    /* models must share a vocabulary */
    model *big = biased_model(5, 300);
    loaded_model lb;
    eval_bytes_view(big, &lb);
    lb.byte_vocab = 0;
    CHECK(eval_same_vocab(&lm, &lo, &e) == 0, "byte models share one: %s", e.msg);
    CHECK(eval_same_vocab(&lm, &lb, &e) == RLVR_EUNSUPPORTED && strstr(e.msg, "vocab"), "different vocab refused: %s", e.msg);
    model_free(big);
    eval_result nk;
    p.keep_samples = 0;
    run(m, ps, &p, &nk);
    CHECK(eval_cross_ppl(&lm, &nk, &ppl, NULL, &e) == RLVR_EARG && strstr(e.msg, "keep_samples"), "no kept samples: %s", e.msg);
    eval_result_free(&nk);
    eval_result_free(&r);
out:
    eval_problems_free(ps);
    model_free(m); model_free(twin); model_free(other);
}

static char tmpdir[] = "/tmp/rlvr_evaluate_XXXXXX";

static void test_dataset_route(void) {
    model *m = biased_model(5, BYTES_VOCAB);
    arith_params ap = small_task();
    eval_problems *pa, *pd;
    rlvr_err e = {0};
    CHECK(eval_problems_arith(&ap, DIFFS, 2, PER_DIFF, 7, &pa, &e) == 0, "%s", e.msg);
    /* the same problems as JSONL, in the same order, then two rows of another source */
    char path[300], line[ARITH_JSONL_CAP];
    snprintf(path, sizeof path, "%s/set.jsonl", tmpdir);
    FILE *f = fopen(path, "w");
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < PER_DIFF; i++) {
            arith_params q = ap;
            q.n_ops = DIFFS[d], q.split = ARITH_SPLIT_EVAL;
            arith_problem pb;
            CHECK(arith_generate(&q, 7 ^ EVAL_ARITH_SEED_MIX, (uint64_t)i, &pb, &e) == 0, "%s", e.msg);
            CHECK(arith_to_jsonl(&pb, line, sizeof line, NULL, &e) == 0, "%s", e.msg);
            fputs(line, f);
        }
    fputs("{\"prompt\":\"x\",\"ground_truth\":\"#1\",\"data_source\":\"b_other\"}\n", f);
    fputs("{\"prompt\":\"y\",\"ground_truth\":\"#2\",\"data_source\":\"b_other\"}\n", f);
    fclose(f);
    eval_data_params dp = eval_data_default_params();
    dp.reward = "arith", dp.cot_reward = "route(arith=arith_process[mode=all], default=arith)";
    CHECK(eval_problems_dataset(path, &dp, &pd, &e) == 0, "%s", e.msg);
    eval_params p = small_params();
    eval_result ra, rd;
    if (run(m, pa, &p, &ra) || run(m, pd, &p, &rd)) goto out;
    CHECK(rd.n_problems == 2 * PER_DIFF + 2 && rd.n_groups == 3, "%d problems, %d groups", rd.n_problems, rd.n_groups);
    CHECK(!strcmp(rd.groups[0].name, "arith/1") && !strcmp(rd.groups[1].name, "arith/2") && !strcmp(rd.groups[2].name, "b_other"),
          "groups sorted by source then difficulty: %s %s %s", rd.groups[0].name, rd.groups[1].name, rd.groups[2].name);
    int same = 1;
    for (int i = 0; i < ra.n_problems; i++)
        same &= ra.n_correct[i] == rd.n_correct[i] && ra.n_cot[i] == rd.n_cot[i] && ra.group_of[i] == rd.group_of[i];
    CHECK(same, "the JSONL route reproduces the arith route's per-problem counts");
    for (int g = 0; g < 2; g++)
        for (int j = 0; j < p.n_k; j++) {
            CHECK(ra.groups[g].pass[j].mean == rd.groups[g].pass[j].mean && ra.groups[g].cot[j].mean == rd.groups[g].cot[j].mean, "group %d k %d", g, j);
            CHECK(ra.groups[g].maj[j].mean == rd.groups[g].maj[j].mean, "maj@k: the reward's pred agrees with the '#' key here");
        }
    CHECK(rd.has_cot && rd.groups[2].n_problems == 2, "cot measured; 2 rows of b_other");
    cJSON *o = eval_result_json(&rd), *row = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "difficulties"), 2);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(row, "difficulty")) && cJSON_GetNumberValue(cJSON_GetObjectItem(row, "difficulty")) == 0 &&
              !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(row, "group")), "b_other"), "a group without difficulty: \"difficulty\": 0");
    cJSON_Delete(o);
    /* maj@k keys: the reward's preds (arith gives them) vs the math extractor, which also
     * reads answers from completions without "#" (the last number) */
    eval_problems_free(pd);
    eval_result rm, rr;
    dp.maj_key = EVAL_MAJ_MATH;
    CHECK(eval_problems_dataset(path, &dp, &pd, &e) == 0, "%s", e.msg);
    run(m, pd, &p, &rm);
    eval_problems_free(pd);
    dp.maj_key = EVAL_MAJ_REWARD;
    CHECK(eval_problems_dataset(path, &dp, &pd, &e) == 0, "%s", e.msg);
    run(m, pd, &p, &rr);
    int diff = 0;
    for (int j = 0; j < p.n_k; j++) {
        CHECK(rr.groups[0].maj[j].mean == rd.groups[0].maj[j].mean, "auto = reward's preds where the reward gives them");
        CHECK(rm.groups[0].pass[j].mean == rd.groups[0].pass[j].mean, "the key changes maj only");
        diff |= rm.groups[0].maj[j].mean != rd.groups[0].maj[j].mean;
    }
    CHECK(diff, "math keys vote differently here");
    eval_result_free(&rm); eval_result_free(&rr);
    eval_result_free(&ra); eval_result_free(&rd);
    eval_problems_free(pd);
    dp.maj_key = EVAL_MAJ_AUTO;
    /* a bad line is an error naming file:line; an unknown reward names the spec */
    snprintf(path, sizeof path, "%s/bad.jsonl", tmpdir);
    f = fopen(path, "w");
    fputs("{\"prompt\":\"a\",\"ground_truth\":\"1\"}\n\n{\"prompt\":\"b\",\"ground_truth\":\"2\"}\n{\"prompt\": oops}\n", f);
    fclose(f);
    char want[320];
    snprintf(want, sizeof want, "%s:4", path);
    CHECK(eval_problems_dataset(path, &dp, &pd, &e) != 0 && pd == NULL && strstr(e.msg, want), "bad line named: %s", e.msg);
    dp.reward = "no_such_reward";
    CHECK(eval_problems_dataset(path, &dp, &pd, &e) == RLVR_ECONFIG && strstr(e.msg, "no_such_reward"), "bad spec: %s", e.msg);
    /* a prompt that leaves no room to generate names its row */
    snprintf(path, sizeof path, "%s/long.jsonl", tmpdir);
    f = fopen(path, "w");
    fputs("{\"prompt\":\"a\",\"ground_truth\":\"1\"}\n{\"prompt\":\"", f);
    for (int i = 0; i < 80; i++) fputc('z', f);
    fputs("\",\"ground_truth\":\"2\"}\n", f);
    fclose(f);
    dp.reward = "arith";
    CHECK(eval_problems_dataset(path, &dp, &pd, &e) == 0, "%s", e.msg);
    eval_result rl;
    loaded_model lm;
    eval_bytes_view(m, &lm);
    snprintf(want, sizeof want, "%s:2", path);
    CHECK(eval_run(&lm, pd, &p, &rl, &e) == RLVR_EARG && strstr(e.msg, want), "long prompt named: %s", e.msg);
    eval_result_free(&rl);
    eval_problems_free(pd);
out:
    eval_problems_free(pa);
    model_free(m);
}

static void test_forgetting(void) {
    /* 3 stages x 4 tasks; task 3 is the general one (never trained) */
    const double R[3 * 4] = {0.80, 0.10, 0.20, 0.50,
                             0.60, 0.90, 0.30, 0.45,
                             0.70, 0.70, 0.95, 0.40};
    const double base[4] = {0.05, 0.05, 0.10, 0.55};
    double f[4];
    forget_summary s;
    rlvr_err e = {0};
    CHECK(forget_summarize(R, 3, 4, 3, base, f, &s, &e) == 0, "%s", e.msg);
    CHECK_CLOSE(s.avg_acc, (0.70 + 0.70 + 0.95) / 3, 1e-15, 0, "average accuracy (general excluded)");
    CHECK_CLOSE(s.bwt, ((0.70 - 0.80) + (0.70 - 0.90)) / 2, 1e-15, 0, "BWT over tasks 0 and 1");
    CHECK_CLOSE(f[0], 0.80 - 0.70, 1e-15, 0, "forgetting task 0");
    CHECK_CLOSE(f[1], 0.90 - 0.70, 1e-15, 0, "forgetting task 1");
    CHECK_CLOSE(f[2], 0.30 - 0.95, 1e-15, 0, "task 2 improved: negative forgetting");
    CHECK_CLOSE(f[3], 0.50 - 0.40, 1e-15, 0, "general task forgetting");
    CHECK_CLOSE(s.mean_forgetting, (0.10 + 0.20) / 2, 1e-15, 0, "mean forgetting over trained tasks");
    CHECK_CLOSE(s.general_change, 0.40 - 0.55, 1e-15, 0, "general change vs base");
    CHECK(forget_summarize(R, 3, 4, 3, NULL, NULL, &s, &e) == 0, "%s", e.msg);
    CHECK_CLOSE(s.general_change, 0.40 - 0.50, 1e-15, 0, "general change vs stage 0 without a base");
    CHECK(forget_summarize(R, 3, 4, -1, NULL, NULL, &s, &e) == 0 && isnan(s.general_change), "no general column: NaN");
    CHECK_CLOSE(s.avg_acc, (0.70 + 0.70 + 0.95 + 0.40) / 4, 1e-15, 0, "average over all 4 tasks");
    CHECK(forget_summarize(R, 1, 4, -1, NULL, f, &s, &e) == 0 && isnan(s.bwt) && f[0] == 0, "one stage: no BWT, no forgetting");
    CHECK(forget_summarize(R, 3, 4, 4, NULL, NULL, &s, &e) == RLVR_EARG, "general out of range");
    double Rn[2] = {0.5, NAN};
    CHECK(forget_summarize(Rn, 1, 2, -1, NULL, NULL, &s, &e) == RLVR_EARG && strstr(e.msg, "R[0][1]"), "non-finite named: %s", e.msg);
}

/* CoT-pass@k counts a sample only when the answer AND its working are right: scripted
 * completions of a 2-step problem, one right for the right reasons, one right for the
 * wrong reasons (a wrong first step, the right final), one bare right answer, one wrong. */
static void test_cot_right_for_wrong_reasons(void) {
    arith_params task = arith_default_params();
    task.max_val = 9, task.max_result = 30, task.ops_mask = ARITH_OP_ADD | ARITH_OP_SUB;
    int d = 2;
    eval_problems *ps = NULL;
    rlvr_err e = {0};
    CHECK(eval_problems_arith(&task, &d, 1, 1, 7, &ps, &e) == RLVR_OK, "%s", e.msg);
    arith_params tp = task;
    tp.n_ops = 2, tp.split = ARITH_SPLIT_EVAL;
    arith_problem pb;
    CHECK(arith_generate(&tp, 7 ^ EVAL_ARITH_SEED_MIX, 0, &pb, &e) == RLVR_OK, "%s", e.msg);
    char wrong_step[ARITH_TEXT_CAP], bare[64], wrong[64];
    snprintf(wrong_step, sizeof wrong_step, "%c:%lld;%c:%lld;#%lld", pb.steps[0].var, pb.steps[0].value + 1, pb.steps[1].var, pb.result, pb.result);
    snprintf(bare, sizeof bare, "#%lld", pb.result);
    snprintf(wrong, sizeof wrong, "#%lld", pb.result + 1);
    const char *texts[4] = {pb.answer, wrong_step, bare, wrong};
    int want_ok[4] = {1, 1, 1, 0}, want_cot[4] = {1, 0, 0, 0}, c = 0, cot = 0;
    for (int i = 0; i < 4; i++) {
        int ok, ct;
        char *key = NULL;
        CHECK(eval_check_text(ps, 0, texts[i], strlen(texts[i]), 8, ENGINE_FINISH_STOP, 32, &ok, &ct, &key, &e) == RLVR_OK, "%s", e.msg);
        CHECK(ok == want_ok[i] && ct == want_cot[i], "'%s': correct %d (want %d), CoT-correct %d (want %d)", texts[i], ok, want_ok[i], ct, want_cot[i]);
        c += ok, cot += ct;
        free(key);
    }
    /* n = 4, c = 3, CoT c = 1: pass@1 3/4, CoT-pass@1 1/4, pass@2 1, CoT-pass@2 1 - C(3,2)/C(4,2) = 1/2 */
    CHECK_CLOSE(pass_at_k(4, c, 1), 0.75, 1e-12, 1e-12, "pass@1");
    CHECK_CLOSE(pass_at_k(4, cot, 1), 0.25, 1e-12, 1e-12, "CoT-pass@1");
    CHECK_CLOSE(pass_at_k(4, c, 2), 1.0, 1e-12, 1e-12, "pass@2");
    CHECK_CLOSE(pass_at_k(4, cot, 2), 0.5, 1e-12, 1e-12, "CoT-pass@2");
    eval_problems_free(ps);
}

int main(void) {
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    CHECK(mkdtemp(tmpdir) != NULL, "mkdtemp");
    RUN(test_passk_matches_counts);
    RUN(test_slots_and_threads);
    RUN(test_crossover);
    RUN(test_cross_ppl);
    RUN(test_dataset_route);
    RUN(test_forgetting);
    RUN(test_cot_right_for_wrong_reasons);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_finish("test_evaluate");
}
