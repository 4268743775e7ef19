/* grpo_cfg.c: every `rlvr train` setting read from the resolved config, with its
 * default and range (docs/config.md lists them). */
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "train/grpo.h"

int grpo_params_from_cfg(cfg *c, grpo_params *p, rlvr_err *err) {
    memset(p, 0, sizeof *p);
    long long v;
    double d;
    const char *s;
    int rc;
#define I CFG_READ_INT
#define F CFG_READ_FLOAT
#define E(key, def, parse, dst, what) do { if ((rc = cfg_str(c, key, def, &s, err))) return rc; \
        int k_ = parse(s); if (k_ < 0) return cfg_errf(c, key, err, "%s must be one of %s, got \"%s\"", key, what, s); dst = k_; } while (0)
    if ((rc = cfg_int_range(c, "seed", 1, 0, 1LL << 62, &v, err))) return rc;
    p->seed = (uint64_t)v;
    if ((rc = cfg_str(c, "model", NULL, &p->model_dir, err))) return rc;
    if ((rc = cfg_str(c, "chat_template", "", &p->chat_template, err))) return rc;
    if ((rc = cfg_bool(c, "chat", 0, &p->chat, err))) return rc;
    if ((rc = cfg_str(c, "system", "", &p->system, err))) return rc;
    if ((rc = cfg_str(c, "data.path", "", &p->data_path, err))) return rc;
    if ((rc = cfg_str(c, "data.prompt_key", "prompt", &p->prompt_key, err))) return rc;
    if ((rc = cfg_str(c, "data.answer_key", "ground_truth", &p->answer_key, err))) return rc;
    if ((rc = cfg_str(c, "data.data_source_key", "data_source", &p->data_source_key, err))) return rc;
    if ((rc = cfg_str(c, "data.template", "", &p->prompt_template, err))) return rc;
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
    I("rollout.slots", 128, 1, 4096, p->slots);
    I("rollout.min_new_tokens", 0, 0, p->max_new_tokens, p->min_new_tokens);
    if ((rc = cfg_str_list(c, "rollout.stop", NULL, 0, p->stop_str, GRPO_MAX_STOP, &p->n_stop, err))) return rc;
    for (int i = 0; i < p->n_stop; i++)
        if (!*p->stop_str[i]) return cfg_errf(c, "rollout.stop", err, "rollout.stop: an empty stop string would end every sample at once");
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
    I("algo.max_gen_batches", 3, 1, 1000, p->max_gen_batches);
    F("algo.pass_rate_low", 0, 0, 1, p->pass_rate_low);
    F("algo.pass_rate_high", 1, 0, 1, p->pass_rate_high);
    if (p->pass_rate_low > p->pass_rate_high)
        return cfg_errf(c, "algo.pass_rate_low", err, "algo.pass_rate_low (%g) is above algo.pass_rate_high (%g)", p->pass_rate_low, p->pass_rate_high);
    if ((rc = cfg_bool(c, "algo.mask_truncated", 0, &p->mask_truncated, err))) return rc;
    if ((rc = cfg_bool(c, "train.skip_zero_adv", 1, &p->skip_zero_adv, err))) return rc;
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
    long long until[GRPO_MAX_STAGES];
    int nu = 0, nd = 0, nf = 0, nm = 0;
    if ((rc = cfg_int_list(c, "curriculum.until", NULL, 0, until, GRPO_MAX_STAGES - 1, &nu, err))) return rc;
    p->n_stages = nu ? nu + 1 : 0;
    for (int i = 0; i < nu; i++) {
        if (until[i] < 1 || (i && until[i] <= until[i - 1]))
            return cfg_errf(c, "curriculum.until", err, "curriculum.until must be increasing steps >= 1, got %lld at position %d", until[i], i + 1);
        p->stage_until[i] = (int)until[i];
    }
    if (p->n_stages) p->stage_until[nu] = 1 << 30;
    const char *sd[GRPO_MAX_STAGES];
    if ((rc = cfg_str_list(c, "curriculum.difficulties", NULL, 0, sd, GRPO_MAX_STAGES, &nd, err))) return rc;
    if ((rc = cfg_str_list(c, "curriculum.data", NULL, 0, p->stage_data, GRPO_MAX_STAGES, &nf, err))) return rc;
    long long smx[GRPO_MAX_STAGES];
    if ((rc = cfg_int_list(c, "curriculum.max_new_tokens", NULL, 0, smx, GRPO_MAX_STAGES, &nm, err))) return rc;
    const char *lists[3] = {"curriculum.difficulties", "curriculum.data", "curriculum.max_new_tokens"};
    int lens3[3] = {nd, nf, nm};
    for (int k = 0; k < 3; k++)
        if (lens3[k] && lens3[k] != p->n_stages)
            return cfg_errf(c, lists[k], err, "%s has %d entries but curriculum.until makes %d stages", lists[k], lens3[k], p->n_stages);
    if ((nd || nf || nm) && !p->n_stages) return cfg_errf(c, nd ? lists[0] : nf ? lists[1] : lists[2], err, "curriculum stages need curriculum.until");
    for (int s = 0; s < p->n_stages; s++) {
        p->stage_n_diffs[s] = 0;
        if (nd) { /* "1,2" */
            const char *q = sd[s];
            while (*q) {
                char *e;
                long v = strtol(q, &e, 10);
                if (e == q || v < 1 || v > ARITH_MAX_OPS || p->stage_n_diffs[s] == SFT_MAX_EVAL_DIFFS)
                    return cfg_errf(c, "curriculum.difficulties", err, "curriculum.difficulties[%d] = \"%s\": want difficulties 1..%d separated by commas", s, sd[s], ARITH_MAX_OPS);
                p->stage_diffs[s][p->stage_n_diffs[s]++] = (int)v;
                q = e;
                while (*q == ',' || *q == ' ') q++;
            }
            if (!p->stage_n_diffs[s]) return cfg_errf(c, "curriculum.difficulties", err, "curriculum.difficulties[%d] is empty", s);
        }
        if (!nf) p->stage_data[s] = "";
        p->stage_max_new[s] = 0;
        if (nm) {
            if (smx[s] < 1 || smx[s] > p->max_new_tokens)
                return cfg_errf(c, "curriculum.max_new_tokens", err, "curriculum.max_new_tokens[%d] = %lld is outside 1..rollout.max_new_tokens (%d)", s, smx[s], p->max_new_tokens);
            p->stage_max_new[s] = (int)smx[s];
        }
    }
    I("sft.every", 0, 0, 100000000, p->sft_every);
    I("sft.batch", 16, 1, 4096, p->sft_batch);
    I("sft.buffer", 256, 1, 1 << 20, p->sft_buffer);
    F("sft.lr", p->opt.lr, 0, 10, p->sft_lr);
    if ((rc = cfg_str(c, "sft.solution_key", "answer", &p->sft_solution_key, err))) return rc;
    if ((rc = cfg_str(c, "eval.path", "", &p->eval_path, err))) return rc;
    I("eval.samples", 1, 1, 4096, p->eval_samples);
    long long kk[GRPO_MAX_EVAL_K], defk[] = {1};
    if ((rc = cfg_int_list(c, "eval.k", defk, 1, kk, GRPO_MAX_EVAL_K, &p->n_eval_k, err))) return rc;
    for (int i = 0; i < p->n_eval_k; i++) {
        if (kk[i] < 1 || kk[i] > p->eval_samples) return cfg_errf(c, "eval.k", err, "eval.k: %lld is outside 1..eval.samples (%d)", kk[i], p->eval_samples);
        p->eval_k[i] = (int)kk[i];
    }
    if (!p->n_eval_k) return cfg_errf(c, "eval.k", err, "eval.k must not be empty");
    p->eval_sampling = sampler_default_params();
    F("eval.temperature", 0.0, 0, 100, p->eval_sampling.temperature);
    F("eval.top_p", 1.0, 1e-6, 1, p->eval_sampling.top_p);
    I("eval.max_new_tokens", p->max_new_tokens, 1, 8192, p->eval_max_new_tokens);
    if ((rc = cfg_bool(c, "log.tensorboard", 1, &p->tensorboard, err))) return rc;
    I("log.samples", 4, 0, 4096, p->log_samples);
    I("log.samples_every", 0, 0, 100000000, p->log_samples_every);
    if ((rc = cfg_str(c, "reward.spec", "", &p->reward_spec, err))) return rc;
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

