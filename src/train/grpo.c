/* grpo.c: the GRPO-family RL loop (grpo.h). A step draws prompts from the problem source,
 * samples a group per prompt through the rollout engine, scores each sample, keeps the
 * groups that carry signal (dynamic sampling draws more generation batches until the
 * batch is full or max_gen_batches is reached), computes advantages over the kept
 * groups and runs ppo_epochs x minibatches of loss, backward and AdamW.
 * Determinism: problem j of the run is a pure function of (seed, j) (arith) or of the
 * seeded epoch order (datasets), and generation batch b of step s samples from the
 * streams of engine seed rng_derive(seed, s, b); the problem cursor is checkpointed, so
 * a resumed run draws exactly what a straight run would. */
#include <cjson/cJSON.h>
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
#include "eval/evaluate.h"
#include "eval/passk.h"
#include "formats/safetensors.h"
#include "model/export.h"
#include "model/io.h"
#include "model/load.h"
#include "rewards/extserver.h"
#include "rewards/reward.h"
#include "rollout/engine.h"
#include "tasks/dataset.h"
#include "tokenizer/bpe.h"
#include "tokenizer/bytes.h"
#include "train/ckpt.h"
#include "train/grpo.h"
#include "core/utf8.h"
#include "train/tblog.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- problem source: the arith generator or a JSONL dataset -------------------------- */

typedef struct {
    const grpo_params *p;
    dataset *data;        /* JSONL rows (shuffled per epoch), NULL for arith */
    uint64_t epoch;       /* data: the epoch whose order `data` holds */
    dataset *sdata[GRPO_MAX_STAGES]; /* curriculum stages' own JSONL files (NULL: data / arith) */
    uint64_t sepoch[GRPO_MAX_STAGES];
    char *jsonl;          /* arith: one generation batch as JSONL text */
} source;

/* Shuffles d into the order of epoch e: the file order shuffled once per epoch 0..e,
 * each with its own stream, so any epoch is reached the same way on resume. */
static void seek_epoch(const grpo_params *p, dataset *d, uint64_t *cur, uint64_t e, uint64_t salt) {
    if (e < *cur) return; /* never goes back within a run */
    for (uint64_t k = *cur + 1; k <= e; k++) dataset_shuffle(d, rng_derive(p->seed, 0xE90C + salt, k));
    *cur = e;
}

static int stage_of(const grpo_params *p, int step) {
    int s = 0;
    while (s + 1 < p->n_stages && step >= p->stage_until[s]) s++;
    return s;
}

/* Rows cursor..cursor+P of the run into rows[]; *batch owns them for arith (freed by the
 * caller after the step), data rows belong to the source. */
static int source_draw(source *s, int stage, uint64_t cursor, int P, const dataset_row **rows, dataset **batch, rlvr_err *err) {
    *batch = NULL;
    const grpo_params *p = s->p;
    dataset *d = s->sdata[stage] ? s->sdata[stage] : s->data;
    if (d) {
        uint64_t n = (uint64_t)dataset_count(d), *ep = s->sdata[stage] ? &s->sepoch[stage] : &s->epoch;
        for (int i = 0; i < P; i++) {
            uint64_t j = cursor + (uint64_t)i;
            seek_epoch(p, d, ep, j / n, s->sdata[stage] ? (uint64_t)stage + 1 : 0);
            rows[i] = dataset_row_at(d, (int)(j % n));
        }
        return RLVR_OK;
    }
    const int *diffs = p->n_stages && p->stage_n_diffs[stage] ? p->stage_diffs[stage] : p->diffs;
    int n_diffs = p->n_stages && p->stage_n_diffs[stage] ? p->stage_n_diffs[stage] : p->n_diffs;
    size_t used = 0;
    for (int i = 0; i < P; i++) {
        uint64_t j = cursor + (uint64_t)i;
        arith_params tp = p->task;
        rng_t pick;
        rng_seed(&pick, p->seed, rng_derive(p->seed, 0xD1FF, j));
        tp.n_ops = diffs[rng_below(&pick, n_diffs)];
        arith_problem pb;
        size_t k;
        int rc = arith_generate(&tp, p->seed, j, &pb, err);
        if (!rc) rc = arith_to_jsonl(&pb, s->jsonl + used, ARITH_JSONL_CAP, &k, err);
        if (rc) return rc;
        used += k;
        s->jsonl[used++] = '\n';
    }
    dataset_params dp = dataset_default_params();
    dp.template_str = p->prompt_template && *p->prompt_template ? p->prompt_template : NULL;
    int rc = dataset_load_mem("arith", s->jsonl, used, &dp, batch, NULL, err);
    if (rc) return rc;
    for (int i = 0; i < P; i++) rows[i] = dataset_row_at(*batch, i);
    return RLVR_OK;
}

/* ---- one sampled response -------------------------------------------------------------- */
typedef struct {
    const dataset_row *row;
    int *prompt, plen;    /* prompt ids (shared by the group; owned by sample 0 of the group) */
    engine_sample es;     /* response ids and the sampler's log-probs */
    char *text;           /* the response as text (the stop token left out) */
    size_t text_n;
    float reward, adv;
    int correct;          /* reward_output_correct: 1, 0, or -1 (no verdict) */
} sample;

static void sample_free(sample *x, int owns_prompt) {
    if (owns_prompt) free(x->prompt);
    engine_samples_free(&x->es, 1);
    free(x->text);
    memset(x, 0, sizeof *x);
}

/* Appends a JSON string literal of s[0..n) (invalid UTF-8 bytes become U+FFFD). */
static void json_str(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c), i++;
        else if (c < 0x20) fprintf(f, "\\u%04x", c), i++;
        else if (c < 0x80) fputc(c, f), i++;
        else {
            size_t len = utf8_seq_len((const unsigned char *)s + i, n - i);
            if (len) fwrite(s + i, 1, len, f), i += len;
            else fputs("\\ufffd", f), i++;
        }
    }
    fputc('"', f);
}

/* ---- the run -------------------------------------------------------------------------- */

typedef struct {
    const grpo_params *p;
    loaded_model lm, lref;
    model *m, *ref;
    reward_fn *rfn;
    extserver *xs;
    source src;
    eval_problems *eps;
    FILE *metrics, *samples_log;
    int first_n, *first_correct;   /* the first evaluation's samples per problem and correct counts */
    char **sft_prompt, **sft_sol;  /* interleaved SFT: a FIFO ring of (prompt, reference solution) */
    int sft_head, sft_n;
    tblog *tb;
    int max_seqs;
    /* training buffers (max_tokens) */
    int *mtok, *mtgt, *mst;
    float *mold, *mmask, *dlogp, *dent, *madv;
} run;

/* The before/after rows from the first evaluation's counts and r (the last one). */
static void compare_evals(const run *R, const eval_result *r, grpo_result *res) {
    int np = r->n_problems;
    double *d = malloc(sizeof(double) * 3 * (size_t)(np ? np : 1)), *b = d + np, *a = b + np;
    if (!d || !R->first_correct) { free(d); return; }
    res->n_cmp = 0;
    for (int g = 0; g < r->n_groups; g++)
        for (int j = 0; j < r->n_k && res->n_cmp < GRPO_MAX_CMP; j++) {
            int m = 0;
            for (int i = 0; i < np; i++) {
                if (r->group_of[i] != g) continue;
                b[m] = pass_at_k(R->first_n, R->first_correct[i], r->ks[j]);
                a[m] = pass_at_k(r->n, r->n_correct[i], r->ks[j]);
                d[m] = a[m] - b[m];
                m++;
            }
            grpo_cmp *c = &res->cmp[res->n_cmp++];
            snprintf(c->group, sizeof c->group, "%s", r->groups[g].name);
            c->k = r->ks[j], c->n_problems = m;
            bootstrap_ci(b, m, 0.95, 1000, R->p->seed, &c->before, &c->before_lo, &c->before_hi);
            bootstrap_ci(a, m, 0.95, 1000, R->p->seed, &c->after, &c->after_lo, &c->after_hi);
            bootstrap_ci(d, m, 0.95, 1000, R->p->seed, &c->diff, &c->diff_lo, &c->diff_hi);
        }
    free(d);
}

static int eval_now(run *R, int step, grpo_progress *pe, grpo_result *res, rlvr_err *err) {
    const grpo_params *p = R->p;
    eval_params ep = eval_default_params();
    ep.sampling = p->eval_sampling, ep.n = p->eval_samples, ep.n_k = p->n_eval_k;
    memcpy(ep.ks, p->eval_k, sizeof(int) * p->n_eval_k);
    ep.max_new_tokens = p->eval_max_new_tokens, ep.seed = p->seed, ep.chat = p->chat;
    ep.system = *p->system ? p->system : NULL;
    ep.n_examples = 2;
    eval_result r;
    int rc = eval_run(&R->lm, R->eps, &ep, &r, err);
    if (rc) { eval_result_free(&r); return rc; }
    if (p->out_dir) snprintf(r.model, sizeof r.model, "%s @ step %d", p->out_dir, step); /* the policy being trained */
    if (!R->first_correct) { /* the 'before' of the comparison */
        if (!(R->first_correct = malloc(sizeof(int) * (size_t)(r.n_problems ? r.n_problems : 1)))) { eval_result_free(&r); return errf(err, RLVR_ENOMEM, "grpo: out of memory"); }
        memcpy(R->first_correct, r.n_correct, sizeof(int) * (size_t)r.n_problems);
        R->first_n = r.n;
    }
    compare_evals(R, &r, res);
    memset(pe, 0, sizeof *pe);
    pe->step = step, pe->steps = p->steps, pe->is_eval = 1;
    pe->n_acc = r.n_groups < SFT_MAX_EVAL_DIFFS ? r.n_groups : SFT_MAX_EVAL_DIFFS;
    for (int g = 0; g < pe->n_acc; g++) {
        pe->acc_eval[g] = r.groups[g].pass[0].mean;
        snprintf(pe->acc_name[g], sizeof pe->acc_name[g], "%s", r.groups[g].name);
    }
    if (R->metrics) {
        fprintf(R->metrics, "{\"step\":%d,\"eval\":{", step);
        for (int g = 0; g < r.n_groups; g++)
            for (int j = 0; j < r.n_k; j++) {
                const char *nm = r.groups[g].name;
                if (!strncmp(nm, "arith/", 6) && j == 0) fprintf(R->metrics, "%s\"acc_d%s\":%.4f", g ? "," : "", nm + 6, r.groups[g].pass[0].mean);
                else fprintf(R->metrics, "%s\"pass@%d %s\":%.4f", g || j ? "," : "", r.ks[j], nm, r.groups[g].pass[j].mean);
            }
        fprintf(R->metrics, "},\"n\":%d}\n", r.n_problems);
        fflush(R->metrics);
    }
    if (R->tb) {
        if (!(rc = tblog_begin(R->tb, step, tblog_now(), err))) {
            for (int g = 0; g < r.n_groups && !rc; g++)
                for (int j = 0; j < r.n_k && !rc; j++) {
                    char tag[160];
                    snprintf(tag, sizeof tag, "eval/pass@%d/%s", r.ks[j], r.groups[g].name);
                    rc = tblog_add(R->tb, tag, r.groups[g].pass[j].mean, err);
                }
            if (!rc) rc = tblog_end(R->tb, err);
        }
    }
    if (!rc && p->out_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/eval", p->out_dir);
        if (!(rc = fs_mkdir_p(path, err))) {
            snprintf(path, sizeof path, "%s/eval/step_%08d.json", p->out_dir, step);
            rc = eval_result_write_json(&r, path, err);
        }
    }
    eval_result_free(&r);
    return rc;
}

/* Scores the samples of one generation batch (P groups of G at x[0..P*G)). */
static int score_batch(run *R, sample *x, int P, int G, int step, double *field_sum, char (*field_name)[32], int *n_fields, rlvr_err *err) {
    const grpo_params *p = R->p;
    int S = P * G, rc = RLVR_OK;
    if (R->xs) {
        extserver_request *rq = calloc((size_t)S, sizeof *rq);
        double *rw = calloc((size_t)S, sizeof *rw);
        if (!rq || !rw) rc = errf(err, RLVR_ENOMEM, "grpo: out of memory");
        for (int s = 0; s < S && !rc; s++) {
            const dataset_row *r = x[s].row;
            rq[s] = (extserver_request){.prompt = r->prompt, .prompt_n = r->prompt_n, .completion = x[s].text, .completion_n = x[s].text_n,
                                        .reference = r->answer, .reference_n = r->answer_n, .data_source = r->data_source};
        }
        if (!rc) rc = extserver_score_batch(R->xs, rq, S, rw, err);
        for (int s = 0; s < S && !rc; s++) x[s].reward = (float)rw[s], x[s].correct = rw[s] > 0;
        free(rq);
        free(rw);
        return rc;
    }
    const char **texts = malloc(sizeof(char *) * (size_t)G);
    size_t *lens = malloc(sizeof(size_t) * (size_t)G);
    int *ntok = malloc(sizeof(int) * (size_t)G);
    if (!texts || !lens || !ntok) rc = errf(err, RLVR_ENOMEM, "grpo: out of memory");
    for (int i = 0; i < P && !rc; i++) {
        sample *g0 = x + (size_t)i * G;
        for (int g = 0; g < G; g++) texts[g] = g0[g].text, lens[g] = g0[g].text_n, ntok[g] = g0[g].es.n_tokens;
        for (int g = 0; g < G && !rc; g++) {
            sample *s = &g0[g];
            const dataset_row *r = s->row;
            reward_group grp = {.n = G, .self = g, .completions = texts, .lens = lens, .n_tokens = ntok};
            reward_input in = {.completion = s->text, .completion_n = s->text_n, .prompt = r->prompt, .prompt_n = r->prompt_n,
                               .reference = r->answer, .reference_n = r->answer_n, .data_source = r->data_source,
                               .extra = r->extra, .n_extra = r->n_extra, .n_tokens = s->es.n_tokens,
                               .finish = s->es.finish == ENGINE_FINISH_LENGTH ? REWARD_FINISH_LENGTH : REWARD_FINISH_STOP,
                               .max_tokens = p->max_new_tokens, .step = step, .group = &grp};
            reward_output ro;
            if ((rc = reward_score(R->rfn, &in, &ro, err))) {
                rlvr_err e2 = *err;
                rc = errf(err, rc, "%s:%ld: %s", p->data_path && *p->data_path ? p->data_path : "arith", r->line, e2.msg);
                break;
            }
            s->reward = (float)ro.reward;
            s->correct = reward_output_correct(&ro);
            for (int f = 0; f < ro.n_fields; f++) {
                int k = 0;
                while (k < *n_fields && strcmp(field_name[k], ro.fields[f].name)) k++;
                if (k == *n_fields) {
                    if (k == GRPO_MAX_FIELDS) continue;
                    snprintf(field_name[k], 32, "%s", ro.fields[f].name);
                    (*n_fields)++;
                }
                field_sum[k] += ro.fields[f].value;
            }
        }
    }
    free(texts);
    free(lens);
    free(ntok);
    return rc;
}

/* One policy update on the kept samples x[0..nk) (advantages set). */
static int train_on(run *R, sample **x, int nk, int step, int *t_adam, long *tokens, grpo_progress *pr, grpo_result *res, rlvr_err *err) {
    const grpo_params *p = R->p;
    model *m = R->m;
    int rc = RLVR_OK, n_updates = 0;
    long train_tokens = 0;
    loss_stats ls;
    memset(&ls, 0, sizeof ls);
    /* A sample with advantage 0 has an exactly zero policy-gradient coefficient on every
     * token (every clip mode multiplies by A); without a KL or entropy term it adds
     * nothing to the gradient, so it skips the forward and backward. It still counts in
     * the minibatch's denominators and the minibatch still takes its AdamW step, so the
     * update is the same up to summation order. GRPO's all-correct and all-wrong groups
     * are such samples. */
    int inert_ok = p->skip_zero_adv && p->loss.kl_coef == 0 && p->loss.entropy_coef == 0;
    for (int ep = 0; ep < p->ppo_epochs && nk > 0; ep++) {
        int per = (nk + p->minibatches - 1) / p->minibatches;
        for (int mb0 = 0; mb0 < nk; mb0 += per) {
            int mb1 = mb0 + per < nk ? mb0 + per : nk;
            double gt = 0;
            for (int j = mb0; j < mb1; j++) gt += x[j]->es.n_tokens;
            loss_params lp = p->loss;
            lp.global_tokens = gt, lp.global_seqs = mb1 - mb0;
            model_zero_grad(m);
            for (int j = mb0; j < mb1;) {
                int B = 0, Nt = 0;
                R->mst[0] = 0;
                while (j < mb1 && B < R->max_seqs) {
                    const sample *s = x[j];
                    if (inert_ok && s->adv == 0.0f) { j++, pr->inert_seqs += ep == 0; continue; }
                    if (Nt + s->plen + s->es.n_tokens > p->max_tokens) break;
                    int L = s->plen + s->es.n_tokens;
                    for (int q = 0; q < L; q++) {
                        R->mtok[Nt + q] = q < s->plen ? s->prompt[q] : s->es.tokens[q - s->plen];
                        int nxt = q + 1 - s->plen; /* index of the response token q predicts */
                        R->mtgt[Nt + q] = q + 1 < L ? (q + 1 < s->plen ? s->prompt[q + 1] : s->es.tokens[nxt]) : -1;
                        int resp = nxt >= 0 && q + 1 < L;
                        R->mmask[Nt + q] = resp ? 1.0f : 0.0f;
                        R->mold[Nt + q] = resp ? s->es.logp[nxt] : 0.0f;
                    }
                    R->madv[B] = s->adv;
                    Nt += L;
                    R->mst[++B] = Nt;
                    j++;
                }
                if (!B && j == mb1) break; /* the rest were inert */
                if (!B) return errf(err, RLVR_EARG, "grpo: a sequence of %d tokens exceeds train.max_tokens %d", x[j]->plen + x[j]->es.n_tokens, p->max_tokens);
                if ((rc = model_forward(m, R->mtok, R->mtgt, R->mst, B, err))) return rc;
                if (R->ref) {
                    double t0 = now_s();
                    if ((rc = model_forward(R->ref, R->mtok, R->mtgt, R->mst, B, err))) return rc;
                    pr->ref_s += now_s() - t0;
                }
                loss_stats st;
                if ((rc = policy_loss(&lp, B, R->mst, m->a.logp, R->mold, R->ref ? R->ref->a.logp : NULL, m->a.entropy, R->mmask, R->madv,
                                      R->dlogp, R->dent, &st, err)))
                    return rc;
                if (p->debug_nan_step == step + 1 && Nt > 0) R->dlogp[0] = NAN; /* the refusal path, for tests */
                if ((rc = model_backward(m, R->dlogp, R->dent, err))) return rc;
                ls.loss += st.loss, ls.pg_loss += st.pg_loss, ls.entropy_loss += st.entropy_loss, ls.kl_loss += st.kl_loss;
                ls.kl_mean += st.kl_mean * st.n_tokens;
                ls.entropy_mean += st.entropy_mean * st.n_tokens, ls.n_tokens += st.n_tokens, ls.n_seqs += st.n_seqs;
                ls.clip_frac_low += st.clip_frac_low * st.n_tokens, ls.clip_frac_high += st.clip_frac_high * st.n_tokens;
                ls.clip_frac_dual += st.clip_frac_dual * st.n_tokens;
                ls.ratio_mean += st.ratio_mean * st.n_tokens;
                if (st.ratio_max > ls.ratio_max) ls.ratio_max = st.ratio_max;
                train_tokens += Nt;
            }
            double gn = 0;
            float lr = lr_at(&p->sched, p->opt.lr, step);
            pr->lr = lr;
            if (adamw_step(m, &p->opt, lr, *t_adam + 1, &gn, NULL) == RLVR_OK) (*t_adam)++;
            else res->skipped++;
            pr->grad_norm = gn;
            n_updates++;
        }
    }
    if (ls.n_tokens > 0) {
        double nt = ls.n_tokens;
        ls.entropy_mean /= nt, ls.clip_frac_low /= nt, ls.clip_frac_high /= nt;
        ls.clip_frac_dual /= nt, ls.ratio_mean /= nt, ls.kl_mean /= nt;
    }
    if (n_updates) ls.loss /= n_updates, ls.pg_loss /= n_updates, ls.entropy_loss /= n_updates, ls.kl_loss /= n_updates;
    pr->loss = ls;
    pr->kl = ls.kl_mean;
    *tokens = train_tokens;
    return RLVR_OK;
}

static void log_step(run *R, const grpo_progress *pr) {
    if (R->metrics) {
        fprintf(R->metrics,
                "{\"step\":%d,\"reward_mean\":%.5g,\"reward_std\":%.5g,\"acc\":%.5g,\"zero_std_frac\":%.4g,\"kept_groups\":%d,"
                "\"gen_batches\":%d,\"filled\":%d,\"inert_seqs\":%d,"
                "\"len_mean\":%.4g,\"len_min\":%d,\"len_max\":%d,\"trunc_frac\":%.4g,\"loss\":%.6g,\"pg_loss\":%.6g,"
                "\"kl\":%.5g,\"entropy\":%.5g,\"clip_frac_low\":%.4g,\"clip_frac_high\":%.4g,\"clip_frac_dual\":%.4g,\"ratio_mean\":%.5g,"
                "\"ratio_max\":%.5g,\"grad_norm\":%.5g,\"lr\":%.4g,\"skipped\":%d,\"sample_s\":%.3f,\"score_s\":%.3f,\"ref_s\":%.3f,\"train_s\":%.3f,"
                "\"sample_tok_s\":%.1f,\"train_tok_s\":%.1f,\"elapsed_s\":%.2f",
                pr->step, pr->reward_mean, pr->reward_std, pr->acc, pr->zero_std_frac, pr->kept_groups, pr->gen_batches, pr->filled, pr->inert_seqs,
                pr->len_mean, pr->len_min, pr->len_max, pr->trunc_frac, pr->loss.loss, pr->loss.pg_loss, pr->kl, pr->loss.entropy_mean,
                pr->loss.clip_frac_low, pr->loss.clip_frac_high, pr->loss.clip_frac_dual, pr->loss.ratio_mean, pr->loss.ratio_max,
                pr->grad_norm, pr->lr, pr->skipped, pr->sample_s, pr->score_s, pr->ref_s, pr->train_s, pr->sample_tok_s, pr->train_tok_s,
                pr->elapsed_s);
        if (R->p->n_stages) fprintf(R->metrics, ",\"stage\":%d", pr->stage);
        if (R->p->sft_every) fprintf(R->metrics, ",\"sft_items\":%d,\"sft_loss\":%.5g,\"sft_buffered\":%d", pr->sft_items, pr->sft_loss, pr->sft_buffered);
        for (int f = 0; f < pr->n_fields; f++) fprintf(R->metrics, ",\"reward/%s\":%.5g", pr->field_name[f], pr->field_mean[f]);
        fprintf(R->metrics, "}\n");
        fflush(R->metrics);
    }
    if (R->tb) {
        rlvr_err e = {0};
        if (tblog_begin(R->tb, pr->step, tblog_now(), &e)) return;
        struct { const char *tag; double v; } kv[] = {
            {"reward/mean", pr->reward_mean}, {"reward/std", pr->reward_std}, {"acc", pr->acc}, {"groups/zero_std_frac", pr->zero_std_frac},
            {"groups/kept", pr->kept_groups}, {"groups/inert_seqs", pr->inert_seqs}, {"groups/gen_batches", pr->gen_batches}, {"response/len_mean", pr->len_mean},
            {"response/len_min", pr->len_min}, {"response/len_max", pr->len_max}, {"response/trunc_frac", pr->trunc_frac},
            {"loss/total", pr->loss.loss}, {"loss/pg", pr->loss.pg_loss}, {"kl", pr->kl}, {"entropy", pr->loss.entropy_mean},
            {"clip/low", pr->loss.clip_frac_low}, {"clip/high", pr->loss.clip_frac_high}, {"clip/dual", pr->loss.clip_frac_dual},
            {"ratio/mean", pr->loss.ratio_mean}, {"ratio/max", pr->loss.ratio_max}, {"grad_norm", pr->grad_norm}, {"lr", pr->lr},
            {"skipped", pr->skipped}, {"time/sample_s", pr->sample_s}, {"time/score_s", pr->score_s}, {"time/ref_s", pr->ref_s},
            {"time/train_s", pr->train_s}, {"throughput/sample_tok_s", pr->sample_tok_s}, {"throughput/train_tok_s", pr->train_tok_s}};
        for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) tblog_add(R->tb, kv[i].tag, kv[i].v, &e);
        for (int f = 0; f < pr->n_fields; f++) {
            char tag[64];
            snprintf(tag, sizeof tag, "reward/%s", pr->field_name[f]);
            tblog_add(R->tb, tag, pr->field_mean[f], &e);
        }
        tblog_end(R->tb, &e);
    }
}

static void log_samples(run *R, int step, sample *x, int n) {
    if (!R->samples_log) return;
    for (int s = 0; s < n; s++) {
        fprintf(R->samples_log, "{\"step\":%d,\"data_source\":", step);
        json_str(R->samples_log, x[s].row->data_source, strlen(x[s].row->data_source));
        fprintf(R->samples_log, ",\"prompt\":");
        json_str(R->samples_log, x[s].row->prompt, x[s].row->prompt_n);
        fprintf(R->samples_log, ",\"completion\":");
        json_str(R->samples_log, x[s].text, x[s].text_n);
        fprintf(R->samples_log, ",\"reference\":");
        json_str(R->samples_log, x[s].row->answer, x[s].row->answer_n);
        fprintf(R->samples_log, ",\"reward\":%.5g,\"correct\":%d,\"tokens\":%d,\"finish\":\"%s\"}\n", x[s].reward, x[s].correct,
                x[s].es.n_tokens, x[s].es.finish == ENGINE_FINISH_LENGTH ? "length" : "stop");
    }
    fflush(R->samples_log);
}

/* ---- interleaved SFT on prompts the policy cannot solve (ReLIFT) --------------------- */

static const char *row_col(const dataset_row *r, const char *key) {
    for (int i = 0; i < r->n_extra; i++)
        if (!strcmp(r->extra[i].key, key)) return r->extra[i].val;
    return NULL;
}

static int sft_push(run *R, const char *prompt, const char *sol) {
    int cap = R->p->sft_buffer, at;
    if (R->sft_n == cap) { /* full: the oldest goes */
        at = R->sft_head;
        free(R->sft_prompt[at]), free(R->sft_sol[at]);
        R->sft_head = (R->sft_head + 1) % cap, R->sft_n--;
    }
    at = (R->sft_head + R->sft_n) % cap;
    R->sft_prompt[at] = strdup(prompt), R->sft_sol[at] = strdup(sol);
    if (!R->sft_prompt[at] || !R->sft_sol[at]) return RLVR_ENOMEM;
    R->sft_n++;
    return RLVR_OK;
}

/* Encodes solution text (no special tokens parsed) into ids; returns the count or -1. */
static int encode_plain(const loaded_model *lm, const char *text, int *ids, int cap, rlvr_err *err) {
    size_t n = strlen(text);
    if (lm->byte_vocab) {
        if (n > (size_t)cap) return -1;
        return bytes_encode(text, n, ids);
    }
    int k = 0;
    if (bpe_encode(lm->tok, text, n, 0, ids, cap, &k, err)) return -1;
    return k;
}

/* One SFT update on the oldest min(sft.batch, buffered) prompts: loss = mean negative
 * log-likelihood of the solution tokens and the end token, AdamW at sft.lr. */
static int sft_update(run *R, int step, int *t_adam, grpo_progress *pr, grpo_result *res, rlvr_err *err) {
    const grpo_params *p = R->p;
    model *m = R->m;
    const loaded_model *lm = &R->lm;
    int n = R->sft_n < p->sft_batch ? R->sft_n : p->sft_batch, T = m->cfg.max_seq_len, rc = RLVR_OK;
    int end = p->chat && lm->eot_id >= 0 ? lm->eot_id : lm->eos_id >= 0 ? lm->eos_id : lm->n_stop ? lm->stop_ids[0] : -1;
    int **seq = calloc((size_t)n, sizeof *seq), *plen = calloc((size_t)n, sizeof *plen), *len = calloc((size_t)n, sizeof *len);
    if (!seq || !plen || !len) { rc = errf(err, RLVR_ENOMEM, "grpo: out of memory"); goto done; }
    if (end < 0) { rc = errf(err, RLVR_EUNSUPPORTED, "sft: the model has no end-of-sequence token to end a solution with"); goto done; }
    double total = 0;
    for (int i = 0; i < n; i++) {
        int at = (R->sft_head + i) % p->sft_buffer;
        if (!(seq[i] = malloc(sizeof(int) * (size_t)T))) { rc = errf(err, RLVR_ENOMEM, "grpo: out of memory"); goto done; }
        if ((rc = loaded_encode_prompt(lm, R->sft_prompt[at], p->chat, *p->system ? p->system : NULL, seq[i], T, &plen[i], err))) goto done;
        int k = encode_plain(lm, R->sft_sol[at], seq[i] + plen[i], T - plen[i] - 1, err);
        if (k < 0) k = 0, plen[i] = T; /* does not fit: skipped below */
        len[i] = plen[i] + k;
        if (len[i] < T) seq[i][len[i]++] = end, total += len[i] - plen[i];
    }
    model_zero_grad(m);
    double nll = 0;
    for (int j = 0; j < n && total > 0;) {
        int B = 0, Nt = 0;
        R->mst[0] = 0;
        while (j < n && B < R->max_seqs && Nt + (len[j] <= T ? len[j] : 0) <= p->max_tokens) {
            if (len[j] > T || plen[j] >= len[j]) { j++; continue; }
            for (int q = 0; q < len[j]; q++) {
                R->mtok[Nt + q] = seq[j][q];
                R->mtgt[Nt + q] = q + 1 < len[j] ? seq[j][q + 1] : -1;
                R->dlogp[Nt + q] = q + 1 >= plen[j] && q + 1 < len[j] ? (float)(-1.0 / total) : 0.0f;
                R->dent[Nt + q] = 0;
            }
            Nt += len[j];
            R->mst[++B] = Nt;
            j++;
        }
        if (!B) {
            if (j < n) { rc = errf(err, RLVR_EARG, "sft: a sequence of %d tokens exceeds train.max_tokens %d", len[j], p->max_tokens); goto done; }
            break;
        }
        if ((rc = model_forward(m, R->mtok, R->mtgt, R->mst, B, err))) goto done;
        for (int t = 0; t < Nt; t++) nll -= R->dlogp[t] != 0 ? m->a.logp[t] : 0;
        if ((rc = model_backward(m, R->dlogp, R->dent, err))) goto done;
    }
    if (total > 0) {
        double gn;
        if (adamw_step(m, &p->opt, p->sft_lr, *t_adam + 1, &gn, NULL) == RLVR_OK) (*t_adam)++;
        else res->skipped++;
        pr->sft_loss = nll / total;
    }
    pr->sft_items = n;
    for (int i = 0; i < n; i++) { /* consumed */
        free(R->sft_prompt[R->sft_head]), free(R->sft_sol[R->sft_head]);
        R->sft_prompt[R->sft_head] = R->sft_sol[R->sft_head] = NULL;
        R->sft_head = (R->sft_head + 1) % p->sft_buffer, R->sft_n--;
    }
    (void)step;
done:
    if (seq) for (int i = 0; i < n; i++) free(seq[i]);
    free(seq), free(plen), free(len);
    return rc;
}

/* The buffer as JSON [[prompt, solution], ...] for the checkpoint (malloc'd), and back. */
static char *sft_to_json(const run *R) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < R->sft_n; i++) {
        int at = (R->sft_head + i) % R->p->sft_buffer;
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(R->sft_prompt[at]));
        cJSON_AddItemToArray(pair, cJSON_CreateString(R->sft_sol[at]));
        cJSON_AddItemToArray(a, pair);
    }
    char *s = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return s;
}

static int sft_from_json(run *R, const char *js, rlvr_err *err) {
    cJSON *a = cJSON_Parse(js);
    int rc = RLVR_OK;
    if (!cJSON_IsArray(a)) rc = errf(err, RLVR_EFORMAT, "checkpoint: the SFT buffer is not a JSON array");
    const cJSON *pair;
    cJSON_ArrayForEach(pair, a) {
        if (rc) break;
        const cJSON *pp = cJSON_GetArrayItem(pair, 0), *ss = cJSON_GetArrayItem(pair, 1);
        if (!cJSON_IsString(pp) || !cJSON_IsString(ss)) { rc = errf(err, RLVR_EFORMAT, "checkpoint: a bad SFT buffer entry"); break; }
        if (sft_push(R, pp->valuestring, ss->valuestring)) rc = errf(err, RLVR_ENOMEM, "grpo: out of memory");
    }
    cJSON_Delete(a);
    return rc;
}

/* The arith eval split (eval_problems_arith's problems) as JSONL at path. */
static int write_arith_eval(const grpo_params *p, const char *path, rlvr_err *err) {
    size_t cap = (size_t)ARITH_JSONL_CAP * (size_t)p->eval_n * (size_t)p->n_eval_diffs + 1, used = 0;
    char *buf = malloc(cap);
    if (!buf) return errf(err, RLVR_ENOMEM, "grpo: out of memory");
    int rc = RLVR_OK;
    for (int d = 0; d < p->n_eval_diffs && !rc; d++) {
        arith_params ep = p->task;
        ep.n_ops = p->eval_diffs[d], ep.split = ARITH_SPLIT_EVAL;
        for (int i = 0; i < p->eval_n && !rc; i++) {
            arith_problem pb;
            size_t k;
            if (!(rc = arith_generate(&ep, p->seed ^ EVAL_ARITH_SEED_MIX, (uint64_t)i, &pb, err)) &&
                !(rc = arith_to_jsonl(&pb, buf + used, ARITH_JSONL_CAP, &k, err)))
                used += k, buf[used++] = '\n';
        }
    }
    if (!rc) rc = fs_write_atomic(path, buf, used, err);
    free(buf);
    return rc;
}

static int run_open(run *R, const grpo_params *p, int resumed, rlvr_err *err) {
    int rc;
    const char *spec = p->reward_spec && *p->reward_spec ? p->reward_spec : (p->data_path && *p->data_path ? "auto" : "arith");
    if ((rc = reward_create(spec, &R->rfn, err))) return rc;
    if (p->reward_cmd && *p->reward_cmd) { /* "python3 my_reward.py": split on blanks */
        char *cmd = strdup(p->reward_cmd), *argv[64];
        int na = 0;
        if (!cmd) return errf(err, RLVR_ENOMEM, "grpo: out of memory");
        for (char *t = strtok(cmd, " \t"); t && na < 63; t = strtok(NULL, " \t")) argv[na++] = t;
        argv[na] = NULL;
        if (!na) { free(cmd); return errf(err, RLVR_ECONFIG, "reward.cmd is empty"); }
        R->xs = extserver_start((const char *const *)argv, NULL, err);
        free(cmd);
        if (!R->xs) return err ? err->code : RLVR_EIO;
    }
    const char *chat = p->chat_template && *p->chat_template ? p->chat_template : NULL;
    if ((rc = model_open(p->model_dir, chat, &R->lm, err))) return rc;
    R->m = R->lm.m;
    R->max_seqs = p->max_tokens / 8 > 0 ? p->max_tokens / 8 : 1;
    if ((rc = model_alloc_train(R->m, p->max_tokens, R->max_seqs, err))) return rc;
    if (p->loss.kl_coef > 0) { /* the reference: the starting weights, frozen (until a reset) */
        if ((rc = model_open(p->model_dir, chat, &R->lref, err))) return rc;
        R->ref = R->lref.m;
        if ((rc = model_alloc_train(R->ref, p->max_tokens, R->max_seqs, err))) return rc;
    }
    size_t mt = (size_t)p->max_tokens;
    R->mtok = malloc(sizeof(int) * mt), R->mtgt = malloc(sizeof(int) * mt), R->mst = malloc(sizeof(int) * (R->max_seqs + 1));
    R->mold = malloc(sizeof(float) * mt), R->mmask = malloc(sizeof(float) * mt), R->dlogp = malloc(sizeof(float) * mt);
    R->dent = malloc(sizeof(float) * mt), R->madv = malloc(sizeof(float) * R->max_seqs);
    if (!R->mtok || !R->mtgt || !R->mst || !R->mold || !R->mmask || !R->dlogp || !R->dent || !R->madv) return errf(err, RLVR_ENOMEM, "grpo: out of memory");
    if (p->sft_every) {
        R->sft_prompt = calloc((size_t)p->sft_buffer, sizeof(char *)), R->sft_sol = calloc((size_t)p->sft_buffer, sizeof(char *));
        if (!R->sft_prompt || !R->sft_sol) return errf(err, RLVR_ENOMEM, "grpo: out of memory");
    }
    R->src.p = p;
    if (p->data_path && *p->data_path) {
        dataset_params dp = dataset_default_params();
        dp.prompt_key = p->prompt_key, dp.answer_key = p->answer_key, dp.data_source_key = p->data_source_key;
        dp.template_str = p->prompt_template && *p->prompt_template ? p->prompt_template : NULL;
        if ((rc = dataset_load(p->data_path, &dp, &R->src.data, NULL, err))) return rc;
        if (!dataset_count(R->src.data)) return errf(err, RLVR_EFORMAT, "%s: no rows to train on", p->data_path);
        dataset_shuffle(R->src.data, rng_derive(p->seed, 0xE90C, 0));
    } else if (!(R->src.jsonl = malloc((size_t)ARITH_JSONL_CAP * p->prompts_per_step))) {
        return errf(err, RLVR_ENOMEM, "grpo: out of memory");
    }
    for (int s = 0; s < p->n_stages; s++) {
        if (!p->stage_data[s] || !*p->stage_data[s]) continue;
        dataset_params dp = dataset_default_params();
        dp.prompt_key = p->prompt_key, dp.answer_key = p->answer_key, dp.data_source_key = p->data_source_key;
        dp.template_str = p->prompt_template && *p->prompt_template ? p->prompt_template : NULL;
        if ((rc = dataset_load(p->stage_data[s], &dp, &R->src.sdata[s], NULL, err))) return rc;
        if (!dataset_count(R->src.sdata[s])) return errf(err, RLVR_EFORMAT, "%s: no rows to train on (curriculum stage %d)", p->stage_data[s], s);
        dataset_shuffle(R->src.sdata[s], rng_derive(p->seed, 0xE90C + (uint64_t)s + 1, 0));
    }

    if (p->eval_n || (p->eval_path && *p->eval_path)) {
        if (p->eval_path && *p->eval_path) {
            eval_data_params edp = eval_data_default_params();
            edp.reward = spec;
            edp.limit = p->eval_n;
            edp.data.template_str = p->prompt_template && *p->prompt_template ? p->prompt_template : NULL;
            rc = eval_problems_dataset(p->eval_path, &edp, &R->eps, err);
        } else if (!(p->data_path && *p->data_path) && p->prompt_template && *p->prompt_template && p->out_dir) {
            /* arith through a prompt template (e.g. for an instruct model): the eval split
             * written as JSONL, then read back with the template and the reward spec */
            char path[4096];
            snprintf(path, sizeof path, "%s/eval", p->out_dir);
            if (!(rc = fs_mkdir_p(path, err))) {
                snprintf(path, sizeof path, "%s/eval/problems.jsonl", p->out_dir);
                rc = write_arith_eval(p, path, err);
            }
            eval_data_params edp = eval_data_default_params();
            edp.reward = spec;
            edp.data.template_str = p->prompt_template;
            edp.difficulty_key = "difficulty";
            if (!rc) rc = eval_problems_dataset(path, &edp, &R->eps, err);
        } else if (!(p->data_path && *p->data_path)) {
            rc = eval_problems_arith(&p->task, p->eval_diffs, p->n_eval_diffs, p->eval_n, p->seed, &R->eps, err);
        }
        if (rc) return rc;
    }
    if (p->out_dir) {
        char path[4096];
        if ((rc = fs_mkdir_p(p->out_dir, err))) return rc;
        snprintf(path, sizeof path, "%s/metrics.jsonl", p->out_dir);
        /* a resumed run appends: one metrics file for the whole run */
        if (!(R->metrics = fopen(path, resumed ? "a" : "w"))) return errf(err, RLVR_EIO, "%s: cannot open for writing", path);
        snprintf(path, sizeof path, "%s/samples.jsonl", p->out_dir);
        if (p->log_samples && !(R->samples_log = fopen(path, resumed ? "a" : "w"))) return errf(err, RLVR_EIO, "%s: cannot open for writing", path);
        if (p->tensorboard) {
            snprintf(path, sizeof path, "%s/tb", p->out_dir);
            if (!(R->tb = tblog_open(path, err))) return err ? err->code : RLVR_EIO;
        }
    }
    return RLVR_OK;
}

static void run_close(run *R) {
    if (R->metrics) fclose(R->metrics);
    if (R->samples_log) fclose(R->samples_log);
    tblog_close(R->tb, NULL);
    eval_problems_free(R->eps);
    free(R->first_correct);
    if (R->sft_prompt) for (int i = 0; i < R->p->sft_buffer; i++) free(R->sft_prompt[i]), free(R->sft_sol[i]);
    free(R->sft_prompt), free(R->sft_sol);
    dataset_free(R->src.data);
    for (int s = 0; s < GRPO_MAX_STAGES; s++) dataset_free(R->src.sdata[s]);
    free(R->src.jsonl);
    free(R->mtok), free(R->mtgt), free(R->mst), free(R->mold), free(R->mmask), free(R->dlogp), free(R->dent), free(R->madv);
    loaded_model_free(&R->lm);
    loaded_model_free(&R->lref);
    reward_free(R->rfn);
    extserver_stop(R->xs);
}

/* Generation batch b of step `step`: P prompts from the cursor, G samples each, decoded
 * and scored into x[0..P*G). */
static int generate_batch(run *R, int step, int stage, int b, uint64_t cursor, sample *x, dataset **batch, engine_stats *st,
                          double *field_sum, char (*field_name)[32], int *n_fields, double *score_s, rlvr_err *err) {
    const grpo_params *p = R->p;
    int P = p->prompts_per_step, G = p->group_size, T = R->m->cfg.max_seq_len, rc;
    const dataset_row **rows = malloc(sizeof *rows * (size_t)P);
    int **prompts = calloc((size_t)P, sizeof *prompts), *plens = calloc((size_t)P, sizeof *plens);
    engine_sample *out = calloc((size_t)P * G, sizeof *out);
    if (!rows || !prompts || !plens || !out) { rc = errf(err, RLVR_ENOMEM, "grpo: out of memory"); goto done; }
    if ((rc = source_draw(&R->src, stage, cursor, P, rows, batch, err))) goto done;
    for (int i = 0; i < P; i++) {
        if (!(prompts[i] = malloc(sizeof(int) * (size_t)T))) { rc = errf(err, RLVR_ENOMEM, "grpo: out of memory"); goto done; }
        if ((rc = loaded_encode_prompt(&R->lm, rows[i]->prompt, p->chat, *p->system ? p->system : NULL, prompts[i], T, &plens[i], err))) {
            rlvr_err e2 = *err;
            rc = errf(err, rc, "%s:%ld: prompt: %s", p->data_path && *p->data_path ? p->data_path : "arith", rows[i]->line, e2.msg);
            goto done;
        }
        if (plens[i] + 1 > T) {
            rc = errf(err, RLVR_EARG, "%s:%ld: a prompt of %d tokens leaves no room to generate in max_seq_len %d",
                      p->data_path && *p->data_path ? p->data_path : "arith", rows[i]->line, plens[i], T);
            goto done;
        }
    }
    engine_params ep = engine_default_params();
    ep.max_slots = P * G < p->slots ? P * G : p->slots, ep.max_len = T, ep.sampling = p->sampling;
    ep.max_new_tokens = p->n_stages && p->stage_max_new[stage] ? p->stage_max_new[stage] : p->max_new_tokens;
    ep.min_new_tokens = p->min_new_tokens < ep.max_new_tokens ? p->min_new_tokens : ep.max_new_tokens;
    ep.stop_ids = R->lm.stop_ids, ep.n_stop_ids = R->lm.n_stop;
    ep.stop_strings = p->n_stop ? p->stop_str : NULL, ep.n_stop_strings = p->n_stop;
    ep.token_text = loaded_token_text, ep.token_text_ud = &R->lm;
    ep.seed = rng_derive(p->seed, 0x5A3B1E00ULL + (uint64_t)b, (uint64_t)step);
    if ((rc = engine_generate(R->m, &ep, (const int *const *)prompts, plens, P, G, out, st, NULL, NULL, err))) goto done;
    double t0 = now_s();
    for (int i = 0; i < P; i++) /* the samples take the prompts (sample 0 of a group owns it) and the responses */
        for (int g = 0; g < G; g++) {
            sample *s = &x[(size_t)i * G + g];
            s->row = rows[i], s->prompt = prompts[i], s->plen = plens[i];
            s->es = out[(size_t)i * G + g];
            memset(&out[(size_t)i * G + g], 0, sizeof *out);
        }
    for (int i = 0; i < P; i++) prompts[i] = NULL;
    for (int i = 0; i < P; i++)
        for (int g = 0; g < G; g++) {
            sample *s = &x[(size_t)i * G + g];
            int n = s->es.n_tokens;
            if (n > 0 && s->es.finish == ENGINE_FINISH_STOP && s->es.stop_index >= 0 && s->es.stop_index < R->lm.n_stop) n--; /* the stop token */
            size_t cap = 16;
            for (int t = 0; t < n; t++) { size_t bl; loaded_token_text(&R->lm, s->es.tokens[t], &bl); cap += bl; }
            if (!(s->text = malloc(cap))) { rc = errf(err, RLVR_ENOMEM, "grpo: out of memory"); goto done; }
            long k = loaded_decode(&R->lm, s->es.tokens, n, s->text, cap);
            s->text_n = k > 0 ? (size_t)k : 0;
            s->text[s->text_n] = 0;
        }
    rc = score_batch(R, x, P, G, step, field_sum, field_name, n_fields, err);
    *score_s += now_s() - t0;
done:
    if (prompts) for (int i = 0; i < P; i++) free(prompts[i]);
    if (out) engine_samples_free(out, P * G);
    free(out), free(prompts), free(plens), free(rows);
    return rc;
}

int grpo_run(const grpo_params *p, grpo_progress_fn cb, void *ud, grpo_result *res, rlvr_err *err) {
    memset(res, 0, sizeof *res);
    res->resumed_from = res->stopped_at = -1;
#ifdef _OPENMP
    if (p->threads > 0) omp_set_num_threads(p->threads);
#endif
    int rc = RLVR_OK, start_step = 0, t_adam = 0, P = p->prompts_per_step, G = p->group_size, S = P * G, B = p->max_gen_batches;
    uint64_t cursor = 0;
    run R;
    memset(&R, 0, sizeof R);
    R.p = p;
    /* every generation batch of a step stays alive until its update: B x S samples */
    sample *pool = calloc((size_t)S * B, sizeof *pool);
    sample **kept = malloc(sizeof *kept * (size_t)S * B);
    dataset **batches = calloc((size_t)B, sizeof *batches);
    float *rew = malloc(sizeof(float) * (size_t)S * B), *advs = malloc(sizeof(float) * (size_t)S * B);
    int *gstart = malloc(sizeof(int) * (size_t)(P * B + 1)), *lens = malloc(sizeof(int) * (size_t)S * B);
    int n_pool = 0;
    if (!pool || !kept || !batches || !rew || !advs || !gstart || !lens) { rc = errf(err, RLVR_ENOMEM, "grpo: out of memory"); goto out; }
    char ck[4400];
    int found = 0;
    ckpt_state cs;
    memset(&cs, 0, sizeof cs);
    if (p->resume && p->out_dir && (rc = ckpt_find_latest(p->out_dir, p->cfg_hash, p->resume_force, ck, sizeof ck, &found, err))) goto out;
    if ((rc = run_open(&R, p, found, err))) goto out;
    if (found) {
        if ((rc = ckpt_load(ck, R.m, R.ref, &cs, err))) goto out;
        start_step = cs.step, t_adam = cs.t_adam, res->skipped = cs.skipped, res->resumed_from = cs.step, cursor = cs.cursor;
        if (cs.extra && p->sft_every) rc = sft_from_json(&R, cs.extra, err);
        free(cs.extra);
        if (rc) goto out;
    }
    double t0 = now_s();
    if (R.eps) {
        grpo_progress pe;
        if ((rc = eval_now(&R, start_step, &pe, res, err))) goto out;
        memcpy(res->acc_before, pe.acc_eval, sizeof pe.acc_eval);
        memcpy(res->acc_after, pe.acc_eval, sizeof pe.acc_eval);
        pe.elapsed_s = now_s() - t0;
        if (cb) cb(&pe, ud);
    }
    for (int step = start_step; step < p->steps; step++) {
        grpo_progress pr;
        memset(&pr, 0, sizeof pr);
        pr.step = step + 1, pr.steps = p->steps, pr.stage = stage_of(p, step);
        double ts = now_s(), field_sum[GRPO_MAX_FIELDS] = {0};
        long gen_tokens = 0;
        /* ---- rollouts: generation batches until enough groups carry signal ---- */
        int nk = 0, ng = 0, nb = 0, ntrunc = 0;
        double rs = 0, rs2 = 0, lsum = 0, nz = 0;
        pr.len_min = 1 << 30;
        for (int b = 0; b < B; b++) {
            engine_stats st;
            sample *x = pool + (size_t)b * S;
            rc = generate_batch(&R, step, pr.stage, b, cursor, x, &batches[b], &st, field_sum, pr.field_name, &pr.n_fields, &pr.score_s, err);
            n_pool = (b + 1) * S;
            if (rc) goto out;
            cursor += (uint64_t)P, nb++;
            gen_tokens += st.gen_tokens;
            for (int s = 0; s < S; s++) {
                double rv = x[s].reward;
                rs += rv, rs2 += rv * rv;
                pr.acc += x[s].correct > 0;
                int L = x[s].es.n_tokens;
                lsum += L;
                if (L < pr.len_min) pr.len_min = L;
                if (L > pr.len_max) pr.len_max = L;
                ntrunc += x[s].es.finish == ENGINE_FINISH_LENGTH;
            }
            for (int i = 0; i < P && ng < P; i++) {
                sample *g0 = x + (size_t)i * G;
                int eq = 1, verdicts = 1;
                double gm = 0, pass = 0;
                for (int g = 0; g < G; g++) {
                    eq &= g0[g].reward == g0[0].reward;
                    gm += g0[g].reward, pass += g0[g].correct > 0, verdicts &= g0[g].correct >= 0;
                }
                /* the group's pass rate: its fraction of right answers, or its mean reward
                 * when the reward gives no verdict; the default band [0, 1] keeps every group
                 * (a penalty-shaped reward can have a negative mean) */
                double rate = verdicts ? pass / G : gm / G;
                nz += eq && G > 1;
                if (p->dynamic_sampling && eq) continue; /* no signal */
                if ((p->pass_rate_low > 0 || p->pass_rate_high < 1) && (rate < p->pass_rate_low || rate > p->pass_rate_high))
                    continue; /* outside the difficulty band */
                gstart[ng] = nk;
                for (int g = 0; g < G; g++) {
                    kept[nk] = &g0[g];
                    rew[nk] = g0[g].reward;
                    lens[nk] = g0[g].es.n_tokens;
                    nk++;
                }
                ng++;
            }
            if (!p->dynamic_sampling || ng >= P) break;
        }
        gstart[ng] = nk;
        int drawn = nb * S;
        pr.gen_batches = nb, pr.kept_groups = ng, pr.groups_drawn = nb * P, pr.filled = ng >= P;
        pr.reward_mean = rs / drawn;
        pr.reward_std = sqrt(fmax(0, rs2 / drawn - pr.reward_mean * pr.reward_mean));
        pr.acc /= drawn;
        pr.zero_std_frac = nz / (nb * P);
        pr.len_mean = lsum / drawn, pr.trunc_frac = (double)ntrunc / drawn;
        for (int f = 0; f < pr.n_fields; f++) pr.field_mean[f] = field_sum[f] / drawn;
        pr.sample_s = now_s() - ts - pr.score_s;
        pr.sample_tok_s = gen_tokens / (pr.sample_s > 0 ? pr.sample_s : 1e-9);
        /* ---- prompts no sample solved go to the SFT buffer (with a reference solution) ---- */
        if (p->sft_every)
            for (int i = 0; i < nb * P; i++) {
                const sample *g0 = pool + (size_t)i * G;
                int any = 0;
                for (int g = 0; g < G; g++) any |= g0[g].correct > 0;
                const char *sol = any ? NULL : row_col(g0->row, p->sft_solution_key);
                if (sol && *sol && sft_push(&R, g0->row->prompt, sol)) { rc = errf(err, RLVR_ENOMEM, "grpo: out of memory"); goto out; }
            }
        /* ---- advantages over the kept groups, then the update ---- */
        adv_stats ast;
        if (ng && (rc = advantages_compute(&p->adv, rew, gstart, ng, lens, advs, &ast, err))) goto out;
        int nt = 0;
        for (int j = 0; j < nk; j++) {
            kept[j]->adv = advs[j];
            if (!(p->mask_truncated && kept[j]->es.finish == ENGINE_FINISH_LENGTH)) kept[nt++] = kept[j];
        }
        double tt = now_s();
        long train_tokens = 0;
        if ((rc = train_on(&R, kept, nt, step, &t_adam, &train_tokens, &pr, res, err))) goto out;
        if (R.ref && p->ref_reset_every > 0 && (step + 1) % p->ref_reset_every == 0) { /* ProRL reference reset */
            memcpy(R.ref->params, R.m->params, R.m->n_params * sizeof(float));
            if (p->ref_reset_optimizer) {
                memset(R.m->m, 0, R.m->n_params * sizeof(float));
                memset(R.m->v, 0, R.m->n_params * sizeof(float));
                t_adam = 0;
            }
        }
        if (p->sft_every && (step + 1) % p->sft_every == 0 && R.sft_n > 0 && (rc = sft_update(&R, step, &t_adam, &pr, res, err))) goto out;
        pr.sft_buffered = R.sft_n;
        pr.train_s = now_s() - tt;
        pr.train_tok_s = train_tokens / (pr.train_s > 0 ? pr.train_s : 1e-9);
        pr.skipped = res->skipped;
        pr.elapsed_s = now_s() - t0;
        log_step(&R, &pr);
        int last = step + 1 == p->steps, at_eval = p->eval_every && (step + 1) % p->eval_every == 0;
        int ls_every = p->log_samples_every ? p->log_samples_every : p->eval_every;
        if (p->log_samples && (step == 0 || last || (ls_every && (step + 1) % ls_every == 0)))
            log_samples(&R, step + 1, pool, p->log_samples < n_pool ? p->log_samples : n_pool);
        for (int s = 0; s < n_pool; s++) sample_free(&pool[s], s % G == 0);
        n_pool = 0;
        for (int b = 0; b < B; b++) dataset_free(batches[b]), batches[b] = NULL;
        if (cb) cb(&pr, ud);
        if (R.eps && (at_eval || last)) {
            grpo_progress pe;
            if ((rc = eval_now(&R, step + 1, &pe, res, err))) goto out;
            memcpy(res->acc_after, pe.acc_eval, sizeof pe.acc_eval);
            pe.elapsed_s = now_s() - t0;
            if (cb) cb(&pe, ud);
        }
        int stop = p->stop && *p->stop;
        if (p->out_dir && (stop || last || (p->save_every && (step + 1) % p->save_every == 0))) {
            ckpt_state c2 = {.step = step + 1, .t_adam = t_adam, .skipped = res->skipped, .seed = p->seed, .cursor = cursor};
            if (p->sft_every && !(c2.extra = sft_to_json(&R))) { rc = errf(err, RLVR_ENOMEM, "grpo: out of memory"); goto out; }
            rc = ckpt_save(p->out_dir, R.m, R.ref, &c2, p->cfg_hash, p->keep_last, err);
            free(c2.extra);
            if (rc) goto out;
        }
        if (stop && !last) { res->stopped_at = step + 1; break; }
    }
    res->seconds = now_s() - t0;
    if (p->out_dir && res->stopped_at < 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/model", p->out_dir);
        if (R.lm.byte_vocab) {
            const char *meta[] = {"format", "pt", "producer", "rlvr train", NULL};
            rc = model_save_hf(R.m, path, meta, err);
        } else {
            rc = model_export_hf(&R.lm, path, ST_F32, err);
        }
    }
out:
    if (pool) for (int s = 0; s < n_pool; s++) sample_free(&pool[s], s % G == 0);
    if (batches) for (int b = 0; b < B; b++) dataset_free(batches[b]);
    free(pool), free(kept), free(batches), free(rew), free(advs), free(gstart), free(lens);
    run_close(&R);
    return rc;
}
