/* sft.c: the supervised loop (fresh byte-level model on arith) and greedy
 * exact-match evaluation. Batches are a pure function of (seed, step), so a run is
 * reproducible for a given seed and thread count. */
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
#include "core/rng.h"
#include "model/decode.h"
#include "model/io.h"
#include "tokenizer/bytes.h"
#include "train/sft.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int sft_params_from_cfg(cfg *c, sft_params *p, rlvr_err *err) {
    memset(p, 0, sizeof *p);
    long long v;
    double d;
    const char *s;
    int rc;
#define I CFG_READ_INT
#define F CFG_READ_FLOAT
    if ((rc = cfg_int_range(c, "seed", 1, 0, (1LL << 62), &v, err))) return rc;
    p->seed = (uint64_t)v;
    model_config *m = &p->model;
    snprintf(m->arch, sizeof m->arch, "llama");
    m->vocab_size = BYTES_VOCAB;
    I("model.dim", 128, 8, 4096, m->dim);
    I("model.n_layers", 4, 1, 64, m->n_layers);
    I("model.n_heads", 4, 1, 64, m->n_heads);
    I("model.n_kv_heads", 2, 1, 64, m->n_kv_heads);
    I("model.hidden_dim", 352, 8, 16384, m->hidden_dim);
    I("model.max_seq_len", 256, 16, 8192, m->max_seq_len);
    F("model.rope_theta", 10000, 1, 1e9, m->rope_theta);
    F("model.init_std", 0.02, 0, 1, p->init_std);
    if (m->dim % m->n_heads) return cfg_errf(c, "model.n_heads", err, "model.n_heads (%d) must divide model.dim (%d)", m->n_heads, m->dim);
    if (m->n_heads % m->n_kv_heads) return cfg_errf(c, "model.n_kv_heads", err, "model.n_kv_heads (%d) must divide model.n_heads (%d)", m->n_kv_heads, m->n_heads);
    m->head_dim = m->dim / m->n_heads;
    m->norm_eps = 1e-5f;
    m->tie_embeddings = 1;
    m->bos_id = BYTES_BOS, m->eos_id = BYTES_EOS;

    p->task = arith_default_params();
    I("task.difficulty", 1, 1, ARITH_MAX_OPS, p->task.n_ops);
    I("task.max_val", p->task.max_val, 1, 9999, p->task.max_val);
    I("task.max_result", p->task.max_result, 1, 999999, p->task.max_result);
    I("task.template", 0, 0, ARITH_N_TEMPLATES - 1, p->task.template_id);
    if ((rc = cfg_str(c, "task.ops", "+-*", &s, err))) return rc;
    p->task.ops_mask = 0;
    for (const char *q = s; *q; q++) {
        int bit = *q == '+' ? ARITH_OP_ADD : *q == '-' ? ARITH_OP_SUB : *q == '*' ? ARITH_OP_MUL : *q == '/' ? ARITH_OP_DIV : 0;
        if (!bit) return cfg_errf(c, "task.ops", err, "task.ops: '%c' is not one of + - * /", *q);
        p->task.ops_mask |= bit;
    }
    if (!p->task.ops_mask) return cfg_errf(c, "task.ops", err, "task.ops must name at least one operation");
    p->task.split = ARITH_SPLIT_TRAIN;
    long long mixv[SFT_MAX_EVAL_DIFFS];
    if ((rc = cfg_int_list(c, "task.mix", NULL, 0, mixv, SFT_MAX_EVAL_DIFFS, &p->n_mix, err))) return rc;
    long long mix_sum = 0;
    for (int i = 0; i < p->n_mix; i++) {
        if (mixv[i] < 0 || mixv[i] > 1000000) return cfg_errf(c, "task.mix", err, "task.mix: weight %lld is outside 0..1000000", mixv[i]);
        p->mix[i] = (double)mixv[i], mix_sum += mixv[i];
    }
    if (p->n_mix && !mix_sum) return cfg_errf(c, "task.mix", err, "task.mix: the weights sum to 0");
    long long tl[ARITH_N_TEMPLATES];
    if ((rc = cfg_int_list(c, "task.templates", NULL, 0, tl, ARITH_N_TEMPLATES, &p->n_templates, err))) return rc;
    for (int i = 0; i < p->n_templates; i++) {
        if (tl[i] < 0 || tl[i] >= ARITH_N_TEMPLATES) return cfg_errf(c, "task.templates", err, "task.templates: %lld is not a template id (0..%d)", tl[i], ARITH_N_TEMPLATES - 1);
        p->templates[i] = (int)tl[i];
    }

    I("train.steps", 1500, 0, 100000000, p->steps);
    I("train.batch_size", 32, 1, 65536, p->batch_size);
    I("train.max_tokens", 4096, 64, 1 << 22, p->max_tokens);
    p->opt = adamw_default_params();
    F("train.lr", 3e-3, 0, 10, p->opt.lr);
    F("train.beta1", p->opt.beta1, 0, 0.999999, p->opt.beta1);
    F("train.beta2", p->opt.beta2, 0, 0.999999, p->opt.beta2);
    F("train.eps", p->opt.eps, 0, 1, p->opt.eps);
    F("train.weight_decay", p->opt.weight_decay, 0, 10, p->opt.weight_decay);
    F("train.grad_clip", p->opt.grad_clip, 0, 1e9, p->opt.grad_clip);
    if ((rc = cfg_str(c, "train.schedule", "cosine", &s, err))) return rc;
    if ((p->sched.kind = lr_schedule_kind(s)) < 0)
        return cfg_errf(c, "train.schedule", err, "train.schedule must be constant, linear or cosine, got \"%s\"", s);
    I("train.warmup_steps", 100, 0, 100000000, p->sched.warmup_steps);
    F("train.min_lr_ratio", 0.1, 0, 1, p->sched.min_ratio);
    p->sched.total_steps = p->steps;

    I("eval.every", 250, 0, 100000000, p->eval_every);
    I("eval.n", 200, 0, 1000000, p->eval_n);
    I("eval.max_new_tokens", 96, 1, 4096, p->eval_max_new);
    long long diffs[SFT_MAX_EVAL_DIFFS], defd[] = {1, 2};
    int nd = 0;
    if ((rc = cfg_int_list(c, "eval.difficulties", defd, 2, diffs, SFT_MAX_EVAL_DIFFS, &nd, err))) return rc;
    for (int i = 0; i < nd; i++) {
        if (diffs[i] < 1 || diffs[i] > ARITH_MAX_OPS)
            return cfg_errf(c, "eval.difficulties", err, "eval.difficulties: %lld is outside 1..%d", diffs[i], ARITH_MAX_OPS);
        p->eval_diffs[i] = (int)diffs[i];
    }
    p->n_eval_diffs = nd;
    if ((rc = cfg_str(c, "out_dir", "runs/sft", &s, err))) return rc;
    p->out_dir = *s ? s : NULL;
    I("threads", 0, 0, 1024, p->threads);
#undef I
#undef F
    return RLVR_OK;
}

/* [BOS] prompt answer [EOS] into ids; returns the length or -1 when it does not fit
 * in cap. *ans_at gets the position of the first answer token. */
/* The number of operations of training problem idx under task.mix: a draw from the
 * stream (seed, 0x5F7D, idx), so a batch's problems do not depend on batch size. */
static int sft_mix_draw(const sft_params *p, uint64_t idx) {
    rng_t r;
    rng_seed(&r, p->seed, rng_derive(p->seed, 0x5F7D, idx));
    double tot = 0;
    for (int i = 0; i < p->n_mix; i++) tot += p->mix[i];
    double u = rng_double(&r) * tot;
    for (int i = 0; i < p->n_mix; i++) {
        if (u < p->mix[i]) return i + 1;
        u -= p->mix[i];
    }
    return p->n_mix; /* u == tot: rounding */
}

static int encode_example(const arith_problem *pb, int with_answer, int *ids, int cap, int *ans_at) {
    int np = (int)strlen(pb->prompt), na = with_answer ? (int)strlen(pb->answer) : 0;
    int len = 1 + np + na + (with_answer ? 1 : 0);
    if (len > cap) return -1;
    ids[0] = BYTES_BOS;
    bytes_encode(pb->prompt, np, ids + 1);
    if (with_answer) {
        bytes_encode(pb->answer, na, ids + 1 + np);
        ids[1 + np + na] = BYTES_EOS;
    }
    *ans_at = 1 + np;
    return len;
}

int sft_eval_greedy(model *m, const arith_problem *probs, int n, int max_new, double *acc, char *completions, size_t cap, rlvr_err *err) {
    enum { SLOTS = 64 };
    int T = m->cfg.max_seq_len, V = m->cfg.vocab_size, rc = RLVR_OK, right = 0;
    decoder *d = decoder_new(m, SLOTS, T, SLOTS * 64 > T ? SLOTS * 64 : T, err);
    int *seqs = malloc(sizeof(int) * (size_t)SLOTS * T), *feed = malloc(sizeof(int) * (size_t)SLOTS * T);
    float *logits = malloc(sizeof(float) * (size_t)SLOTS * V);
    if (!d || !seqs || !feed || !logits) { rc = d ? errf(err, RLVR_ENOMEM, "eval: out of memory") : (err ? err->code : RLVR_ENOMEM); goto out; }
    for (int base = 0; base < n; base += SLOTS) {
        int nb = n - base < SLOTS ? n - base : SLOTS, len[SLOTS], plen[SLOTS], done[SLOTS], slots[SLOTS], nn[SLOTS], act[SLOTS];
        int B = 0, N = 0;
        for (int i = 0; i < nb; i++) { /* prefill every prompt of the chunk in one step */
            int at;
            len[i] = encode_example(&probs[base + i], 0, seqs + (size_t)i * T, T, &at);
            if (len[i] < 0 || len[i] > SLOTS * 64) { rc = errf(err, RLVR_EARG, "eval: prompt %d longer than max_seq_len %d", base + i, T); goto out; }
            plen[i] = len[i], done[i] = 0;
            decoder_reset(d, i);
        }
        for (int i0 = 0; i0 < nb; i0 = i0 + B) {
            B = 0, N = 0;
            while (i0 + B < nb && N + len[i0 + B] <= SLOTS * 64) {
                slots[B] = i0 + B, nn[B] = len[i0 + B];
                memcpy(feed + N, seqs + (size_t)(i0 + B) * T, sizeof(int) * len[i0 + B]);
                N += len[i0 + B++];
            }
            if ((rc = decoder_step(d, B, slots, nn, feed, logits, err))) goto out;
            for (int b = 0; b < B; b++) { /* first generated token */
                const float *z = logits + (size_t)b * V;
                int best = 0, s = slots[b];
                for (int j = 1; j < V; j++) if (z[j] > z[best]) best = j;
                seqs[(size_t)s * T + len[s]++] = best;
                if (best == BYTES_EOS || len[s] >= T) done[s] = 1;
            }
        }
        for (int stepn = 1; stepn < max_new; stepn++) {
            int na = 0;
            for (int i = 0; i < nb; i++)
                if (!done[i]) act[na] = i, slots[na] = i, nn[na] = 1, feed[na] = seqs[(size_t)i * T + len[i] - 1], na++;
            if (!na) break;
            if ((rc = decoder_step(d, na, slots, nn, feed, logits, err))) goto out;
            for (int b = 0; b < na; b++) {
                const float *z = logits + (size_t)b * V;
                int best = 0, s = act[b];
                for (int j = 1; j < V; j++) if (z[j] > z[best]) best = j;
                seqs[(size_t)s * T + len[s]++] = best;
                if (best == BYTES_EOS || len[s] >= T) done[s] = 1;
            }
        }
        for (int i = 0; i < nb; i++) {
            char text[4096];
            size_t k = bytes_decode(seqs + (size_t)i * T + plen[i], len[i] - plen[i], text, sizeof text);
            int ok = 0;
            arith_check_answer(&probs[base + i], text, k, &ok);
            right += ok;
            if (completions) snprintf(completions + (size_t)(base + i) * cap, cap, "%s", text);
        }
    }
    *acc = n ? (double)right / n : 0;
out:
    decoder_free(d);
    free(seqs); free(feed); free(logits);
    return rc;
}

int sft_run(const sft_params *p, sft_progress_fn cb, void *ud, sft_result *res, model **out_model, rlvr_err *err) {
    memset(res, 0, sizeof *res);
    if (out_model) *out_model = NULL;
#ifdef _OPENMP
    if (p->threads > 0) omp_set_num_threads(p->threads);
#endif
    int rc = RLVR_OK, T = p->model.max_seq_len;
    FILE *metrics = NULL;
    arith_problem *batch = NULL, *evalp = NULL;
    int *tok = NULL, *tgt = NULL, *st = NULL;
    float *w = NULL, *dlogp = NULL;
    model *m = model_new(&p->model, err);
    if (!m) return err ? err->code : RLVR_ECONFIG;
    model_init_random(m, p->seed, p->init_std);
    int max_seqs = p->max_tokens / 8 > 0 ? p->max_tokens / 8 : 1;
    if ((rc = model_alloc_train(m, p->max_tokens, max_seqs, err))) goto out;
    if (p->out_dir) {
        char path[4096];
        if ((rc = fs_mkdir_p(p->out_dir, err))) goto out;
        snprintf(path, sizeof path, "%s/metrics.jsonl", p->out_dir);
        if (!(metrics = fopen(path, "w"))) { rc = errf(err, RLVR_EIO, "%s: cannot open for writing", path); goto out; }
    }
    batch = calloc(p->batch_size, sizeof *batch);
    evalp = calloc((size_t)p->eval_n * (p->n_eval_diffs ? p->n_eval_diffs : 1), sizeof *evalp);
    tok = malloc(sizeof(int) * p->max_tokens);
    tgt = malloc(sizeof(int) * p->max_tokens);
    st = malloc(sizeof(int) * (max_seqs + 1));
    w = malloc(sizeof(float) * p->max_tokens);
    dlogp = malloc(sizeof(float) * p->max_tokens);
    if (!batch || !evalp || !tok || !tgt || !st || !w || !dlogp) { rc = errf(err, RLVR_ENOMEM, "sft: out of memory"); goto out; }
    for (int d = 0; d < p->n_eval_diffs; d++) { /* held-out problems: the eval split, its own seed stream */
        arith_params ep = p->task;
        ep.n_ops = p->eval_diffs[d];
        ep.split = ARITH_SPLIT_EVAL;
        for (int i = 0; i < p->eval_n; i++)
            if ((rc = arith_generate(&ep, p->seed ^ 0x5EED0E7A1ULL, (uint64_t)i, &evalp[(size_t)d * p->eval_n + i], err))) goto out;
    }
    double t0 = now_s(), tokens_done = 0;
    int t_adam = 0;
    for (int step = 0; step < p->steps; step++) {
        double ts = now_s();
        float lr = lr_at(&p->sched, p->opt.lr, step);
        int n_ans = 0;
        for (int i = 0; i < p->batch_size; i++) {
            uint64_t idx = (uint64_t)step * p->batch_size + i;
            arith_params tp = p->task;
            if (p->n_mix) tp.n_ops = sft_mix_draw(p, idx);
            if (p->n_templates) { /* answer styles drawn uniformly (a template changes only the surface) */
                rng_t r;
                rng_seed(&r, p->seed, rng_derive(p->seed, 0x7E3F, idx));
                tp.template_id = p->templates[rng_below(&r, p->n_templates)];
            }
            if ((rc = arith_generate(&tp, p->seed, idx, &batch[i], err))) goto out;
            n_ans += (int)strlen(batch[i].answer) + 1;
        }
        model_zero_grad(m);
        double loss_sum = 0;
        int step_tokens = 0;
        for (int i = 0; i < p->batch_size;) { /* micro-batches of at most max_tokens */
            int B = 0, N = 0;
            st[0] = 0;
            while (i < p->batch_size && B < max_seqs) {
                int at, need = (int)(strlen(batch[i].prompt) + strlen(batch[i].answer) + 2);
                if (need > T) { rc = errf(err, RLVR_EARG, "sft: example of %d tokens exceeds model.max_seq_len %d", need, T); goto out; }
                if (N + need > p->max_tokens) break;
                int len = encode_example(&batch[i], 1, tok + N, p->max_tokens - N, &at);
                for (int k = 0; k < len; k++) {
                    tgt[N + k] = k + 1 < len ? tok[N + k + 1] : -1;
                    w[N + k] = (k >= at - 1 && k + 1 < len) ? 1.0f : 0.0f;
                }
                N += len;
                st[++B] = N;
                i++;
            }
            if (!B) { rc = errf(err, RLVR_EARG, "sft: train.max_tokens %d is smaller than one example", p->max_tokens); goto out; }
            if ((rc = model_forward(m, tok, tgt, st, B, err))) goto out;
            for (int n = 0; n < N; n++) {
                dlogp[n] = -w[n] / n_ans;
                loss_sum += -w[n] * m->a.logp[n];
            }
            if ((rc = model_backward(m, dlogp, NULL, err))) goto out;
            step_tokens += N;
        }
        double loss = loss_sum / n_ans, gnorm = 0;
        int st_rc = isfinite(loss) ? adamw_step(m, &p->opt, lr, t_adam + 1, &gnorm, NULL) : RLVR_ENUMERIC;
        if (st_rc == RLVR_OK) t_adam++;
        else res->skipped++;
        tokens_done += step_tokens;
        sft_progress pr = {.step = step + 1, .steps = p->steps, .loss = loss, .grad_norm = gnorm, .lr = lr,
                           .tokens_per_s = step_tokens / (now_s() - ts), .elapsed_s = now_s() - t0, .skipped = res->skipped};
        if (metrics)
            fprintf(metrics, "{\"step\":%d,\"loss\":%.6g,\"grad_norm\":%.6g,\"lr\":%.6g,\"tokens\":%d,\"tokens_per_s\":%.1f,\"skipped\":%d,\"elapsed_s\":%.3f}\n",
                    pr.step, loss, gnorm, lr, step_tokens, pr.tokens_per_s, res->skipped, pr.elapsed_s);
        if (cb) cb(&pr, ud);
        res->final_loss = loss;
        int last = step + 1 == p->steps;
        if (p->eval_n > 0 && p->n_eval_diffs > 0 && ((p->eval_every > 0 && (step + 1) % p->eval_every == 0) || last)) {
            pr.is_eval = 1, pr.n_acc = p->n_eval_diffs;
            for (int d = 0; d < p->n_eval_diffs; d++)
                if ((rc = sft_eval_greedy(m, evalp + (size_t)d * p->eval_n, p->eval_n, p->eval_max_new, &pr.acc[d], NULL, 0, err))) goto out;
            memcpy(res->acc, pr.acc, sizeof pr.acc);
            if (metrics) {
                fprintf(metrics, "{\"step\":%d,\"eval\":{", pr.step);
                for (int d = 0; d < p->n_eval_diffs; d++) fprintf(metrics, "%s\"acc_d%d\":%.4f", d ? "," : "", p->eval_diffs[d], pr.acc[d]);
                fprintf(metrics, "},\"n\":%d}\n", p->eval_n);
            }
            pr.elapsed_s = now_s() - t0;
            if (cb) cb(&pr, ud);
        }
        if (metrics) fflush(metrics);
    }
    res->seconds = now_s() - t0;
    (void)tokens_done;
    if (p->out_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/model", p->out_dir);
        const char *meta[] = {"format", "pt", "producer", "rlvr sft", NULL};
        if ((rc = model_save_hf(m, path, meta, err))) goto out;
    }
out:
    if (metrics) fclose(metrics);
    free(batch); free(evalp); free(tok); free(tgt); free(st); free(w); free(dlogp);
    if (rc == RLVR_OK && out_model) *out_model = m;
    else model_free(m);
    return rc;
}
