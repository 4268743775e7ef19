/* grpo.c: the GRPO-family RL loop on the built-in arith task (byte-level models),
 * with optional KL to a frozen reference and ProRL-style reference resets.
 * Not yet here: datasets from JSONL, pretrained BPE models, curricula, resumable
 * checkpoints (see the trainer issue). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "core/err.h"
#include "core/fs.h"
#include "model/decode.h"
#include "model/io.h"
#include "tokenizer/bytes.h"
#include "rewards/extserver.h"
#include "rewards/reward.h"
#include "train/ckpt.h"
#include "train/grpo.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int grpo_params_from_cfg(cfg *c, grpo_params *p, rlvr_err *err) {
    memset(p, 0, sizeof *p);
    long long v;
    double d;
    const char *s;
    int rc;
#define I(key, def, lo, hi, dst) do { if ((rc = cfg_int_range(c, key, def, lo, hi, &v, err))) return rc; dst = (int)v; } while (0)
#define F(key, def, lo, hi, dst) do { if ((rc = cfg_float_range(c, key, def, lo, hi, &d, err))) return rc; dst = (float)d; } while (0)
#define E(key, def, parse, dst, what) do { if ((rc = cfg_str(c, key, def, &s, err))) return rc; \
        int k_ = parse(s); if (k_ < 0) return cfg_errf(c, key, err, "%s must be one of %s, got \"%s\"", key, what, s); dst = k_; } while (0)
    if ((rc = cfg_int_range(c, "seed", 1, 0, 1LL << 62, &v, err))) return rc;
    p->seed = (uint64_t)v;
    if ((rc = cfg_str(c, "model", NULL, &p->model_dir, err))) return rc;
    p->task = arith_default_params();
    I("task.max_val", p->task.max_val, 1, 9999, p->task.max_val);
    I("task.max_result", p->task.max_result, 1, 999999, p->task.max_result);
    I("task.template", 0, 0, ARITH_N_TEMPLATES - 1, p->task.template_id);
    if ((rc = cfg_str(c, "task.ops", "+-*", &s, err))) return rc;
    p->task.ops_mask = (strchr(s, '+') ? ARITH_OP_ADD : 0) | (strchr(s, '-') ? ARITH_OP_SUB : 0) | (strchr(s, '*') ? ARITH_OP_MUL : 0) | (strchr(s, '/') ? ARITH_OP_DIV : 0);
    if (!p->task.ops_mask || strspn(s, "+-*/") != strlen(s)) return cfg_errf(c, "task.ops", err, "task.ops must be made of + - * /, got \"%s\"", s);
    p->task.split = ARITH_SPLIT_TRAIN;
    long long dd[SFT_MAX_EVAL_DIFFS], defd[] = {1, 2}, defe[] = {1, 2, 3};
    if ((rc = cfg_int_list(c, "task.difficulties", defd, 2, dd, SFT_MAX_EVAL_DIFFS, &p->n_diffs, err))) return rc;
    for (int i = 0; i < p->n_diffs; i++) {
        if (dd[i] < 1 || dd[i] > ARITH_MAX_OPS) return cfg_errf(c, "task.difficulties", err, "task.difficulties: %lld outside 1..%d", dd[i], ARITH_MAX_OPS);
        p->diffs[i] = (int)dd[i];
    }
    if (!p->n_diffs) return cfg_errf(c, "task.difficulties", err, "task.difficulties must not be empty");
    I("train.steps", 100, 0, 100000000, p->steps);
    I("rollout.prompts_per_step", 16, 1, 4096, p->prompts_per_step);
    I("rollout.n", 8, 1, 1024, p->group_size);
    I("rollout.max_new_tokens", 48, 1, 8192, p->max_new_tokens);
    p->sampling = sampler_default_params();
    F("rollout.temperature", 1.0, 0, 100, p->sampling.temperature);
    I("rollout.top_k", 0, 0, 1 << 24, p->sampling.top_k);
    F("rollout.top_p", 1.0, 1e-6, 1, p->sampling.top_p);
    F("rollout.min_p", 0.0, 0, 0.999, p->sampling.min_p);
    p->adv = adv_default_params();
    E("algo.adv_estimator", "grpo", adv_kind_parse, p->adv.kind, "grpo, dr_grpo, lite, rloo, reinforce_pp, reinforce_pp_baseline");
    F("algo.adv_eps", 1e-6, 0, 1, p->adv.eps);
    p->loss = loss_default_params();
    E("algo.clip_mode", "ppo", clip_mode_parse, p->loss.clip, "ppo, dual, gppo, none");
    if ((rc = cfg_str(c, "algo.ratio_level", "token", &s, err))) return rc;
    if (!strcmp(s, "token")) p->loss.level = RATIO_TOKEN;
    else if (!strcmp(s, "sequence")) p->loss.level = RATIO_SEQUENCE;
    else return cfg_errf(c, "algo.ratio_level", err, "algo.ratio_level must be token or sequence (GSPO), got \"%s\"", s);
    F("algo.clip_low", 0.2, 0, 1, p->loss.clip_low);
    F("algo.clip_high", 0.2, 0, 10, p->loss.clip_high);
    F("algo.clip_c", 3.0, 1, 100, p->loss.clip_c);
    E("algo.loss_agg", "token_mean", agg_mode_parse, p->loss.agg, "token_mean, seq_mean_token_mean, seq_mean_token_sum, seq_mean_token_sum_norm");
    F("algo.entropy_coef", 0, -10, 10, p->loss.entropy_coef);
    F("algo.kl_coef", 0, 0, 100, p->loss.kl_coef);
    E("algo.kl_estimator", "k3", kl_kind_parse, p->loss.kl, "k1, k2, k3");
    F("algo.kl_clamp", 10, 0, 1e6, p->loss.kl_clamp);
    I("algo.ref_reset_every", 0, 0, 100000000, p->ref_reset_every);
    if ((rc = cfg_bool(c, "algo.ref_reset_optimizer", 0, &p->ref_reset_optimizer, err))) return rc;
    I("algo.ppo_epochs", 1, 1, 100, p->ppo_epochs);
    I("algo.minibatches", 1, 1, 4096, p->minibatches);
    if ((rc = cfg_bool(c, "algo.dynamic_sampling", 0, &p->dynamic_sampling, err))) return rc;
    F("algo.pass_rate_low", 0, 0, 1, p->pass_rate_low);
    F("algo.pass_rate_high", 1, 0, 1, p->pass_rate_high);
    if (p->pass_rate_low > p->pass_rate_high)
        return cfg_errf(c, "algo.pass_rate_low", err, "algo.pass_rate_low (%g) is above algo.pass_rate_high (%g)", p->pass_rate_low, p->pass_rate_high);
    if ((rc = cfg_bool(c, "algo.mask_truncated", 0, &p->mask_truncated, err))) return rc;
    I("train.max_tokens", 4096, 64, 1 << 22, p->max_tokens);
    p->loss.norm_len = (float)p->max_new_tokens;
    p->opt = adamw_default_params();
    F("train.lr", 1e-4, 0, 10, p->opt.lr);
    F("train.weight_decay", 0.0, 0, 10, p->opt.weight_decay);
    F("train.grad_clip", 1.0, 0, 1e9, p->opt.grad_clip);
    F("train.beta1", 0.9, 0, 0.999999, p->opt.beta1);
    F("train.beta2", 0.99, 0, 0.999999, p->opt.beta2);
    E("train.schedule", "constant", lr_schedule_kind, p->sched.kind, "constant, linear, cosine");
    I("train.warmup_steps", 0, 0, 100000000, p->sched.warmup_steps);
    F("train.min_lr_ratio", 0.1, 0, 1, p->sched.min_ratio);
    p->sched.total_steps = p->steps;
    I("eval.every", 25, 0, 100000000, p->eval_every);
    I("eval.n", 200, 0, 1000000, p->eval_n);
    if ((rc = cfg_int_list(c, "eval.difficulties", defe, 3, dd, SFT_MAX_EVAL_DIFFS, &p->n_eval_diffs, err))) return rc;
    for (int i = 0; i < p->n_eval_diffs; i++) {
        if (dd[i] < 1 || dd[i] > ARITH_MAX_OPS) return cfg_errf(c, "eval.difficulties", err, "eval.difficulties: %lld outside 1..%d", dd[i], ARITH_MAX_OPS);
        p->eval_diffs[i] = (int)dd[i];
    }
    if ((rc = cfg_str(c, "reward.spec", "arith", &p->reward_spec, err))) return rc;
    if ((rc = cfg_str(c, "reward.cmd", "", &p->reward_cmd, err))) return rc;
    if ((rc = cfg_str(c, "out_dir", "runs/grpo", &s, err))) return rc;
    p->out_dir = *s ? s : NULL;
    I("train.save_every", 0, 0, 100000000, p->save_every);
    I("train.keep_last", 3, 1, 1000000, p->keep_last);
    I("threads", 0, 0, 1024, p->threads);
#undef I
#undef F
#undef E
    return RLVR_OK;
}

/* one sampled response */
typedef struct {
    int *tok;       /* BOS + prompt + response (max_len) */
    float *old;     /* sampler log-prob of response token k */
    int plen, len;  /* prompt length (with BOS), total length */
    int done, truncated;
    float reward, adv;
} sample;

static int eval_all(model *m, const arith_problem *ev, const grpo_params *p, double *acc, rlvr_err *err) {
    for (int d = 0; d < p->n_eval_diffs; d++) {
        int rc = sft_eval_greedy(m, ev + (size_t)d * p->eval_n, p->eval_n, p->max_new_tokens, &acc[d], NULL, 0, err);
        if (rc) return rc;
    }
    return RLVR_OK;
}

int grpo_run(const grpo_params *p, grpo_progress_fn cb, void *ud, grpo_result *res, rlvr_err *err) {
    memset(res, 0, sizeof *res);
    res->resumed_from = res->stopped_at = -1;
#ifdef _OPENMP
    if (p->threads > 0) omp_set_num_threads(p->threads);
#endif
    int rc = RLVR_OK, start_step = 0, P = p->prompts_per_step, G = p->group_size, S = P * G;
    model *m = NULL, *ref = NULL;
    decoder *dec = NULL;
    reward_fn *rfn = NULL;
    extserver *xs = NULL;
    extserver_request *xreq = NULL;
    double *xrew = NULL;
    char (*txt)[8192] = NULL, (*gtv)[32] = NULL; /* texts and references sent to the server */
    char *cmd_copy = NULL, *xargv[64];
    FILE *metrics = NULL;
    sample *sm = calloc(S, sizeof *sm);
    arith_problem *pb = calloc(P, sizeof *pb), *ev = calloc((size_t)(p->eval_n ? p->eval_n : 1) * (p->n_eval_diffs ? p->n_eval_diffs : 1), sizeof *ev);
    int *slots = malloc(sizeof(int) * S), *nn = malloc(sizeof(int) * S), *feed = NULL, *gstart = malloc(sizeof(int) * (P + 1));
    int *order = malloc(sizeof(int) * S), *mtok = NULL, *mtgt = NULL, *mst = NULL, *lens = malloc(sizeof(int) * S);
    float *logits = NULL, *scratch = NULL, *rew = malloc(sizeof(float) * S), *advs = malloc(sizeof(float) * S);
    float *mold = NULL, *mmask = NULL, *dlogp = NULL, *dent = NULL, *madv = NULL;
    rng_t *rngs = malloc(sizeof(rng_t) * S);
    if (!sm || !pb || !ev || !slots || !nn || !gstart || !order || !lens || !rew || !advs || !rngs) { rc = errf(err, RLVR_ENOMEM, "grpo: out of memory"); goto out; }
    if ((rc = reward_create(p->reward_spec ? p->reward_spec : "arith", &rfn, err))) goto out;
    if (p->reward_cmd && *p->reward_cmd) { /* "python3 my_reward.py": split on spaces */
        cmd_copy = strdup(p->reward_cmd);
        int na = 0;
        for (char *tok = strtok(cmd_copy, " \t"); tok && na < 63; tok = strtok(NULL, " \t")) xargv[na++] = tok;
        xargv[na] = NULL;
        if (!na) { rc = errf(err, RLVR_ECONFIG, "reward.cmd is empty"); goto out; }
        if (!(xs = extserver_start((const char *const *)xargv, NULL, err))) { rc = err ? err->code : RLVR_EIO; goto out; }
        xreq = calloc(S, sizeof *xreq);
        xrew = calloc(S, sizeof *xrew);
        txt = malloc(sizeof *txt * S);
        gtv = malloc(sizeof *gtv * S);
        if (!xreq || !xrew || !txt || !gtv) { rc = errf(err, RLVR_ENOMEM, "grpo: out of memory"); goto out; }
    }
    if ((rc = model_load_hf(p->model_dir, &m, err))) goto out;
    if (m->cfg.vocab_size != BYTES_VOCAB) { rc = errf(err, RLVR_EUNSUPPORTED, "grpo: %s is not a byte-level model (vocab %d); BPE models come with the real-model issue", p->model_dir, m->cfg.vocab_size); goto out; }
    int T = m->cfg.max_seq_len, V = m->cfg.vocab_size;
    int max_seqs = p->max_tokens / 8 > 0 ? p->max_tokens / 8 : 1;
    if ((rc = model_alloc_train(m, p->max_tokens, max_seqs, err))) goto out;
    if (p->loss.kl_coef > 0) { /* the reference: the starting weights, frozen (until a reset) */
        if ((rc = model_load_hf(p->model_dir, &ref, err))) goto out;
        if ((rc = model_alloc_train(ref, p->max_tokens, max_seqs, err))) goto out;
    }
    if (!(dec = decoder_new(m, S, T, S > T * P ? S : T * P, err))) { rc = err ? err->code : RLVR_ENOMEM; goto out; }
    feed = malloc(sizeof(int) * (size_t)(S > T * P ? S : T * P));
    logits = malloc(sizeof(float) * (size_t)S * V);
    scratch = malloc(sizeof(float) * 2 * V);
    mtok = malloc(sizeof(int) * p->max_tokens); mtgt = malloc(sizeof(int) * p->max_tokens); mst = malloc(sizeof(int) * (max_seqs + 1));
    mold = malloc(sizeof(float) * p->max_tokens); mmask = malloc(sizeof(float) * p->max_tokens);
    dlogp = malloc(sizeof(float) * p->max_tokens); dent = malloc(sizeof(float) * p->max_tokens); madv = malloc(sizeof(float) * max_seqs);
    if (!feed || !logits || !scratch || !mtok || !mtgt || !mst || !mold || !mmask || !dlogp || !dent || !madv) { rc = errf(err, RLVR_ENOMEM, "grpo: out of memory"); goto out; }
    for (int s = 0; s < S; s++) {
        sm[s].tok = malloc(sizeof(int) * T);
        sm[s].old = malloc(sizeof(float) * T);
        if (!sm[s].tok || !sm[s].old) { rc = errf(err, RLVR_ENOMEM, "grpo: out of memory"); goto out; }
    }
    int t_adam = 0;
    if (p->resume && p->out_dir) {
        char ck[4400];
        int found = 0;
        if ((rc = ckpt_find_latest(p->out_dir, p->cfg_hash, p->resume_force, ck, sizeof ck, &found, err))) goto out;
        if (found) {
            ckpt_state cs;
            if ((rc = ckpt_load(ck, m, ref, &cs, err))) goto out;
            start_step = cs.step, t_adam = cs.t_adam, res->skipped = cs.skipped, res->resumed_from = cs.step;
        }
    }
    if (p->out_dir) {
        char path[4096];
        if ((rc = fs_mkdir_p(p->out_dir, err))) goto out;
        snprintf(path, sizeof path, "%s/metrics.jsonl", p->out_dir);
        /* a resumed run appends: one metrics file for the whole run */
        if (!(metrics = fopen(path, res->resumed_from >= 0 ? "a" : "w"))) { rc = errf(err, RLVR_EIO, "%s: cannot open for writing", path); goto out; }
    }
    for (int d = 0; d < p->n_eval_diffs; d++) {
        arith_params ep = p->task;
        ep.n_ops = p->eval_diffs[d], ep.split = ARITH_SPLIT_EVAL;
        for (int i = 0; i < p->eval_n; i++)
            if ((rc = arith_generate(&ep, p->seed ^ 0x5EED0E7A1ULL, (uint64_t)i, &ev[(size_t)d * p->eval_n + i], err))) goto out;
    }
    double t0 = now_s();
    if (p->eval_n && (rc = eval_all(m, ev, p, res->acc_before, err))) goto out;
    if (cb && p->eval_n) {
        grpo_progress pr = {.step = 0, .steps = p->steps, .is_eval = 1, .n_acc = p->n_eval_diffs, .elapsed_s = now_s() - t0};
        memcpy(pr.acc_eval, res->acc_before, sizeof pr.acc_eval);
        cb(&pr, ud);
    }
    if (metrics && p->eval_n) {
        fprintf(metrics, "{\"step\":0,\"eval\":{");
        for (int d = 0; d < p->n_eval_diffs; d++) fprintf(metrics, "%s\"acc_d%d\":%.4f", d ? "," : "", p->eval_diffs[d], res->acc_before[d]);
        fprintf(metrics, "}}\n");
    }
    for (int step = start_step; step < p->steps; step++) {
        grpo_progress pr = {.step = step + 1, .steps = p->steps};
        double ts = now_s();
        /* ---- rollout: prefill each prompt once, share it with its group ---- */
        int N = 0;
        for (int i = 0; i < P; i++) {
            arith_params tp = p->task;
            rng_t pick;
            rng_seed(&pick, p->seed, rng_derive(p->seed, 0xD1FF, (uint64_t)step * P + i));
            tp.n_ops = p->diffs[rng_below(&pick, p->n_diffs)];
            if ((rc = arith_generate(&tp, p->seed, (uint64_t)step * P + i, &pb[i], err))) goto out;
            int plen = 1 + (int)strlen(pb[i].prompt);
            if (plen + 1 > T) { rc = errf(err, RLVR_EARG, "grpo: prompt of %d tokens does not fit max_seq_len %d", plen, T); goto out; }
            for (int g = 0; g < G; g++) {
                sample *x = &sm[i * G + g];
                x->tok[0] = BYTES_BOS;
                bytes_encode(pb[i].prompt, plen - 1, x->tok + 1);
                x->plen = x->len = plen, x->done = x->truncated = 0;
                rng_seed(&rngs[i * G + g], p->seed, rng_derive(p->seed, (uint64_t)step * P + i, (uint64_t)g));
                decoder_reset(dec, i * G + g);
            }
            slots[i] = i * G, nn[i] = plen;
            memcpy(feed + N, sm[i * G].tok, sizeof(int) * plen);
            N += plen;
        }
        if ((rc = decoder_step(dec, P, slots, nn, feed, logits, err))) goto out;
        for (int i = P - 1; i >= 0; i--) /* group members start from the same logits row */
            for (int g = G - 1; g >= 0; g--) memcpy(logits + (size_t)(i * G + g) * V, logits + (size_t)i * V, sizeof(float) * V);
        for (int i = 0; i < P; i++)
            for (int g = 1; g < G; g++)
                if ((rc = decoder_copy_prefix(dec, i * G + g, i * G, sm[i * G].plen, err))) goto out;
        long gen_tokens = 0;
        for (int k = 0; k < p->max_new_tokens; k++) {
            int na = 0;
            for (int s = 0; s < S; s++) {
                sample *x = &sm[s];
                if (x->done) continue;
                const float *z = logits + (size_t)(k == 0 ? s : order[s]) * V;
                sample_out o = sampler_sample(&p->sampling, z, V, &rngs[s], scratch);
                x->old[x->len - x->plen] = o.logp;
                x->tok[x->len++] = o.token;
                gen_tokens++;
                if (o.token == BYTES_EOS) { x->done = 1; continue; }
                if (x->len - x->plen >= p->max_new_tokens || x->len >= T) { x->done = x->truncated = 1; continue; }
                slots[na] = s, nn[na] = 1, feed[na] = o.token;
                na++;
            }
            if (!na) break;
            if ((rc = decoder_step(dec, na, slots, nn, feed, logits, err))) goto out;
            for (int b = 0; b < na; b++) order[slots[b]] = b; /* sample -> its logits row */
        }
        pr.sample_s = now_s() - ts;
        pr.sample_tok_s = gen_tokens / (pr.sample_s > 0 ? pr.sample_s : 1e-9);
        /* ---- rewards and advantages ---- */
        double rs = 0, rs2 = 0, lsum = 0;
        pr.len_min = 1 << 30;
        int ntrunc = 0;
        if (xs) { /* one batch to the external reward server */
            for (int s = 0; s < S; s++) {
                sample *x = &sm[s];
                size_t k = bytes_decode(x->tok + x->plen, x->len - x->plen, txt[s], sizeof txt[s]);
                snprintf(gtv[s], sizeof gtv[s], "%lld", pb[s / G].result);
                xreq[s] = (extserver_request){.prompt = pb[s / G].prompt, .prompt_n = strlen(pb[s / G].prompt), .completion = txt[s],
                                              .completion_n = k, .reference = gtv[s], .reference_n = strlen(gtv[s]), .data_source = "arith"};
            }
            if ((rc = extserver_score_batch(xs, xreq, S, xrew, err))) goto out;
        }
        for (int s = 0; s < S; s++) {
            sample *x = &sm[s];
            char text[8192];
            size_t k = bytes_decode(x->tok + x->plen, x->len - x->plen, text, sizeof text);
            double rv;
            int ok;
            if (xs) {
                rv = xrew[s];
                ok = rv > 0;
            } else { /* the configured reward (default: the arith checker) on the completion */
                char gt[32];
                snprintf(gt, sizeof gt, "%lld", pb[s / G].result);
                reward_input in = {0};
                in.completion = text, in.completion_n = k, in.prompt = pb[s / G].prompt, in.prompt_n = strlen(pb[s / G].prompt);
                in.reference = gt, in.reference_n = strlen(gt), in.data_source = "arith";
                in.n_tokens = x->len - x->plen, in.finish = x->truncated ? REWARD_FINISH_LENGTH : REWARD_FINISH_STOP;
                in.max_tokens = p->max_new_tokens, in.step = step;
                reward_output ro;
                if ((rc = reward_score(rfn, &in, &ro, err))) goto out;
                rv = ro.reward;
                ok = reward_output_correct(&ro);
            }
            x->reward = rew[s] = (float)rv;
            rs += rv, rs2 += rv * rv;
            pr.acc += ok;
            int L = x->len - x->plen;
            lens[s] = L, lsum += L;
            if (L < pr.len_min) pr.len_min = L;
            if (L > pr.len_max) pr.len_max = L;
            ntrunc += x->truncated;
        }
        for (int i = 0; i <= P; i++) gstart[i] = i * G;
        adv_stats ast;
        if ((rc = advantages_compute(&p->adv, rew, gstart, P, lens, advs, &ast, err))) goto out;
        pr.reward_mean = rs / S;
        pr.acc /= S;
        pr.reward_std = sqrt(fmax(0, rs2 / S - pr.reward_mean * pr.reward_mean));
        pr.zero_std_frac = (double)ast.zero_std_groups / P;
        pr.len_mean = lsum / S, pr.trunc_frac = (double)ntrunc / S;
        /* samples that train: all, or only groups with reward variance */
        int nk = 0;
        for (int i = 0; i < P; i++) {
            int eq = 1;
            double gm = 0;
            for (int g = 0; g < G; g++) { eq &= rew[i * G + g] == rew[i * G]; gm += rew[i * G + g]; }
            gm /= G;
            if (p->dynamic_sampling && eq) continue;                          /* no signal */
            if (gm < p->pass_rate_low || gm > p->pass_rate_high) continue;    /* outside the difficulty band */
            pr.kept_groups++;
            for (int g = 0; g < G; g++)
                if (!(p->mask_truncated && sm[i * G + g].truncated)) order[nk++] = i * G + g;
        }
        for (int s = 0; s < S; s++) sm[s].adv = advs[s];
        /* ---- policy update: epochs x minibatches x micro-batches ---- */
        double tt = now_s();
        long train_tokens = 0;
        loss_stats lsum_st;
        memset(&lsum_st, 0, sizeof lsum_st);
        int n_updates = 0;
        for (int ep = 0; ep < p->ppo_epochs && nk > 0; ep++) {
            int per = (nk + p->minibatches - 1) / p->minibatches;
            for (int mb0 = 0; mb0 < nk; mb0 += per) {
                int mb1 = mb0 + per < nk ? mb0 + per : nk;
                double gt = 0;
                for (int j = mb0; j < mb1; j++) gt += sm[order[j]].len - sm[order[j]].plen;
                loss_params lp = p->loss;
                lp.global_tokens = gt, lp.global_seqs = mb1 - mb0;
                model_zero_grad(m);
                for (int j = mb0; j < mb1;) {
                    int B = 0, Nt = 0;
                    mst[0] = 0;
                    while (j < mb1 && B < max_seqs && Nt + sm[order[j]].len <= p->max_tokens) {
                        sample *x = &sm[order[j]];
                        for (int q = 0; q < x->len; q++) {
                            mtok[Nt + q] = x->tok[q];
                            mtgt[Nt + q] = q + 1 < x->len ? x->tok[q + 1] : -1;
                            int resp = q >= x->plen - 1 && q + 1 < x->len; /* predicts a response token */
                            mmask[Nt + q] = resp ? 1.0f : 0.0f;
                            mold[Nt + q] = resp ? x->old[q + 1 - x->plen] : 0.0f;
                        }
                        madv[B] = x->adv;
                        Nt += x->len;
                        mst[++B] = Nt;
                        j++;
                    }
                    if (!B) { rc = errf(err, RLVR_EARG, "grpo: a sequence of %d tokens exceeds train.max_tokens %d", sm[order[j]].len, p->max_tokens); goto out; }
                    if ((rc = model_forward(m, mtok, mtgt, mst, B, err))) goto out;
                    if (ref && (rc = model_forward(ref, mtok, mtgt, mst, B, err))) goto out;
                    loss_stats st;
                    if ((rc = policy_loss(&lp, B, mst, m->a.logp, mold, ref ? ref->a.logp : NULL, m->a.entropy, mmask, madv, dlogp, dent, &st, err))) goto out;
                    lsum_st.kl_mean += st.kl_mean * st.n_tokens;
                    if ((rc = model_backward(m, dlogp, dent, err))) goto out;
                    lsum_st.loss += st.loss, lsum_st.pg_loss += st.pg_loss, lsum_st.entropy_loss += st.entropy_loss;
                    lsum_st.entropy_mean += st.entropy_mean * st.n_tokens, lsum_st.n_tokens += st.n_tokens;
                    lsum_st.clip_frac_low += st.clip_frac_low * st.n_tokens, lsum_st.clip_frac_high += st.clip_frac_high * st.n_tokens;
                    lsum_st.clip_frac_dual += st.clip_frac_dual * st.n_tokens;
                    lsum_st.ratio_mean += st.ratio_mean * st.n_tokens;
                    if (st.ratio_max > lsum_st.ratio_max) lsum_st.ratio_max = st.ratio_max;
                    train_tokens += Nt;
                }
                double gn = 0;
                float lr = lr_at(&p->sched, p->opt.lr, step);
                pr.lr = lr;
                if (adamw_step(m, &p->opt, lr, t_adam + 1, &gn, NULL) == RLVR_OK) t_adam++;
                else res->skipped++;
                pr.grad_norm = gn;
                n_updates++;
            }
        }
        if (lsum_st.n_tokens > 0) {
            double nt = lsum_st.n_tokens;
            lsum_st.entropy_mean /= nt, lsum_st.clip_frac_low /= nt, lsum_st.clip_frac_high /= nt;
            lsum_st.clip_frac_dual /= nt, lsum_st.ratio_mean /= nt, lsum_st.kl_mean /= nt;
        }
        if (n_updates) lsum_st.loss /= n_updates, lsum_st.pg_loss /= n_updates, lsum_st.entropy_loss /= n_updates;
        pr.loss = lsum_st;
        pr.kl = lsum_st.kl_mean;
        if (ref && p->ref_reset_every > 0 && (step + 1) % p->ref_reset_every == 0) { /* ProRL reference reset */
            memcpy(ref->params, m->params, m->n_params * sizeof(float));
            if (p->ref_reset_optimizer) {
                memset(m->m, 0, m->n_params * sizeof(float));
                memset(m->v, 0, m->n_params * sizeof(float));
                t_adam = 0;
            }
        }
        pr.train_s = now_s() - tt;
        pr.train_tok_s = train_tokens / (pr.train_s > 0 ? pr.train_s : 1e-9);
        pr.skipped = res->skipped;
        pr.elapsed_s = now_s() - t0;
        if (metrics)
            fprintf(metrics,
                    "{\"step\":%d,\"reward_mean\":%.5g,\"reward_std\":%.5g,\"acc\":%.5g,\"zero_std_frac\":%.4g,\"kept_groups\":%d,"
                    "\"len_mean\":%.4g,\"len_min\":%d,\"len_max\":%d,\"trunc_frac\":%.4g,\"loss\":%.6g,\"pg_loss\":%.6g,"
                    "\"kl\":%.5g,\"entropy\":%.5g,\"clip_frac_low\":%.4g,\"clip_frac_high\":%.4g,\"clip_frac_dual\":%.4g,\"ratio_mean\":%.5g,"
                    "\"ratio_max\":%.5g,\"grad_norm\":%.5g,\"lr\":%.4g,\"skipped\":%d,\"sample_s\":%.3f,\"train_s\":%.3f,"
                    "\"sample_tok_s\":%.1f,\"train_tok_s\":%.1f,\"elapsed_s\":%.2f}\n",
                    pr.step, pr.reward_mean, pr.reward_std, pr.acc, pr.zero_std_frac, pr.kept_groups, pr.len_mean, pr.len_min,
                    pr.len_max, pr.trunc_frac, pr.loss.loss, pr.loss.pg_loss, pr.kl, pr.loss.entropy_mean, pr.loss.clip_frac_low,
                    pr.loss.clip_frac_high, pr.loss.clip_frac_dual, pr.loss.ratio_mean, pr.loss.ratio_max, pr.grad_norm, pr.lr,
                    pr.skipped, pr.sample_s, pr.train_s, pr.sample_tok_s, pr.train_tok_s, pr.elapsed_s);
        if (cb) cb(&pr, ud);
        int last = step + 1 == p->steps;
        if (p->eval_n && ((p->eval_every && (step + 1) % p->eval_every == 0) || last)) {
            grpo_progress pe = {.step = step + 1, .steps = p->steps, .is_eval = 1, .n_acc = p->n_eval_diffs};
            if ((rc = eval_all(m, ev, p, pe.acc_eval, err))) goto out;
            memcpy(res->acc_after, pe.acc_eval, sizeof pe.acc_eval);
            pe.elapsed_s = now_s() - t0;
            if (metrics) {
                fprintf(metrics, "{\"step\":%d,\"eval\":{", pe.step);
                for (int d = 0; d < p->n_eval_diffs; d++) fprintf(metrics, "%s\"acc_d%d\":%.4f", d ? "," : "", p->eval_diffs[d], pe.acc_eval[d]);
                fprintf(metrics, "}}\n");
            }
            if (cb) cb(&pe, ud);
        }
        if (metrics) fflush(metrics);
        int stop = p->stop && *p->stop;
        if (p->out_dir && (stop || last || (p->save_every && (step + 1) % p->save_every == 0))) {
            ckpt_state cs = {.step = step + 1, .t_adam = t_adam, .skipped = res->skipped, .seed = p->seed};
            if ((rc = ckpt_save(p->out_dir, m, ref, &cs, p->cfg_hash, p->keep_last, err))) goto out;
        }
        if (stop && !last) { res->stopped_at = step + 1; break; }
    }
    res->seconds = now_s() - t0;
    if (p->out_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/model", p->out_dir);
        const char *meta[] = {"format", "pt", "producer", "rlvr train", NULL};
        if ((rc = model_save_hf(m, path, meta, err))) goto out;
    }
out:
    if (metrics) fclose(metrics);
    if (sm) for (int s = 0; s < S; s++) { free(sm[s].tok); free(sm[s].old); }
    free(sm); free(pb); free(ev); free(slots); free(nn); free(feed); free(gstart); free(order); free(mtok); free(mtgt); free(mst);
    free(lens); free(logits); free(scratch); free(rew); free(advs); free(mold); free(mmask); free(dlogp); free(dent); free(madv); free(rngs);
    decoder_free(dec);
    model_free(m);
    model_free(ref);
    reward_free(rfn);
    extserver_stop(xs);
    free(xreq);
    free(xrew);
    free(txt);
    free(gtv);
    free(cmd_copy);
    return rc;
}
