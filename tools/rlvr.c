/* rlvr.c: the command-line interface, and the only place that prints and exits.
 *   rlvr <command> [file.toml] [key=value ...]
 * Each command reads its settings from an optional TOML file plus key=value
 * overrides (dotted keys), refuses unknown keys, and writes the fully resolved
 * configuration next to its outputs. `rlvr <command> --help` lists its keys. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include "rlvr.h"
#include "core/err.h"
#include "core/config.h"
#include "core/utf8.h"
#include "core/fs.h"
#include "kernels/kernels.h"
#include "model/decode.h"
#include "model/io.h"
#include "model/export.h"
#include "model/load.h"
#include "tokenizer/bpe.h"
#include "rewards/reward.h"
#include "eval/passk.h"
#include "rollout/engine.h"
#include "rollout/sampler.h"
#include "tasks/dataset.h"
#include "tokenizer/bytes.h"
#include "tasks/arith.h"
#include "tasks/chain.h"
#include "tasks/countdown.h"
#include "tasks/kk.h"
#include "tasks/strfn.h"
#include "train/grpo.h"
#include "train/sft.h"
#include "cli.h"

#define RLVR_VERSION "0.1.0"

/* ---- progress output ---- */
typedef struct { int tty; int every; } progress_ctx;

static void sft_progress_print(const sft_progress *pr, void *ud) {
    progress_ctx *pc = ud;
    if (pr->is_eval) {
        if (pc->tty) fputc('\n', stderr);
        fprintf(stderr, "eval  step %5d  held-out exact match:", pr->step);
        for (int d = 0; d < pr->n_acc; d++) fprintf(stderr, "  %d-op %5.1f%%", d + 1, 100 * pr->acc[d]);
        fprintf(stderr, "\n");
        return;
    }
    int width = 24, fill = (int)((double)pr->step / pr->steps * width);
    double eta = pr->step ? pr->elapsed_s / pr->step * (pr->steps - pr->step) : 0;
    if (pc->tty || pr->step % pc->every == 0 || pr->step == pr->steps) {
        fprintf(stderr, "%sstep %5d/%d [", pc->tty ? "\r" : "", pr->step, pr->steps);
        for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
        fprintf(stderr, "] loss %.4f  gnorm %.3f  lr %.2e  %6.0f tok/s  %4.0fs eta %4.0fs%s%s", pr->loss, pr->grad_norm, pr->lr,
                pr->tokens_per_s, pr->elapsed_s, eta, pr->skipped ? "  skipped " : "", pr->skipped ? "!" : "");
        if (!pc->tty) fputc('\n', stderr);
        fflush(stderr);
    }
}

static const char *SFT_HELP =
    "usage: rlvr sft [file.toml] [key=value ...]\n"
    "Supervised training of a fresh byte-level Llama-style model on the built-in\n"
    "arith task (answers carry their step-by-step working); reports held-out\n"
    "exact-match accuracy and writes OUT_DIR/{config.toml,metrics.jsonl,model/}.\n"
    "keys (defaults):\n"
    "  seed=1  threads=0 (all)  out_dir=runs/sft\n"
    "  model.dim=128 model.n_layers=4 model.n_heads=4 model.n_kv_heads=2\n"
    "  model.hidden_dim=352 model.max_seq_len=256 model.rope_theta=10000 model.init_std=0.02\n"
    "  task.difficulty=1 task.max_val=99 task.max_result=999 task.template=0 task.ops=\"+-*\"\n"
    "  train.steps=1500 train.batch_size=32 train.max_tokens=4096 train.lr=3e-3\n"
    "  train.schedule=cosine train.warmup_steps=100 train.min_lr_ratio=0.1\n"
    "  train.weight_decay=0.1 train.grad_clip=1.0 train.beta1=0.9 train.beta2=0.95 train.eps=1e-8\n"
    "  eval.every=250 eval.n=200 eval.difficulties=[1,2] eval.max_new_tokens=96\n";

static int cmd_sft(int argc, char **argv) {
    if (wants_help(argc, argv)) { fputs(SFT_HELP, stdout); return 0; }
    rlvr_err e = {0};
    cfg *c = load_cfg(argc, argv, &e);
    sft_params p;
    if (sft_params_from_cfg(c, &p, &e) || cfg_check_unused(c, &e)) die(&e);
    if (p.out_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/config.toml", p.out_dir);
        if (fs_mkdir_p(p.out_dir, &e) || cfg_write(c, path, &e)) die(&e);
        fprintf(stderr, "rlvr sft: resolved config written to %s\n", path);
    }
    fprintf(stderr, "rlvr sft: model dim %d, %d layers, %d heads (%d kv), vocab %d; %d steps x %d sequences; %d threads\n",
            p.model.dim, p.model.n_layers, p.model.n_heads, p.model.n_kv_heads, p.model.vocab_size, p.steps, p.batch_size,
            p.threads ? p.threads : kernels_threads());
    progress_ctx pc = {.tty = isatty(2), .every = p.steps >= 20 ? p.steps / 20 : 1};
    sft_result r;
    if (sft_run(&p, sft_progress_print, &pc, &r, NULL, &e)) die(&e);
    printf("sft done in %.1fs: final loss %.4f, skipped steps %d\n", r.seconds, r.final_loss, r.skipped);
    for (int d = 0; d < p.n_eval_diffs; d++)
        printf("  held-out %d-op problems: exact match %.1f%% (n=%d)\n", p.eval_diffs[d], 100 * r.acc[d], p.eval_n);
    if (p.out_dir) printf("  model: %s/model (config.json + model.safetensors)\n", p.out_dir);
    cfg_free(c);
    return 0;
}

static const char *DATA_HELP =
    "usage: rlvr data TASK [key=value ...] > file.jsonl\n"
    "Writes problems of a built-in task as JSONL (prompt, answer, ground_truth,\n"
    "data_source, difficulty, trace).\n"
    "tasks: arith, countdown (difficulty = numbers, 3..6), kk (knights and knaves,\n"
    "       people 2..8), strfn (string-function depth 1..8), chain (R-Horizon: arith\n"
    "       problems chained, 1..8)\n"
    "keys (defaults): n=100 seed=1 difficulty=1 max_val=99 max_result=999 template=0\n"
    "                 ops=\"+-*\" split=train (train|eval|any) start=0\n";

/* countdown, kk, strfn, chain: n, seed, start and the task's difficulty knob */
static int cmd_data_other(int argc, char **argv) {
    const char *task = argv[0];
    int kind = !strcmp(task, "countdown") ? 1 : !strcmp(task, "kk") ? 2 : !strcmp(task, "strfn") ? 3 : !strcmp(task, "chain") ? 4 : 0;
    if (!kind) {
        fprintf(stderr, "rlvr data: unknown task '%s' (known: arith, countdown, kk, strfn, chain)\n", task);
        return 2;
    }
    rlvr_err e = {0};
    cfg *c = load_cfg(argc - 1, argv + 1, &e);
    long long n, seed, start, d;
    static const int lo[] = {0, 3, 2, 1, 1}, hi[] = {0, 6, 8, 8, 8}, def[] = {0, 4, 3, 2, 2};
    if (cfg_int_range(c, "n", 100, 0, 1LL << 40, &n, &e) || cfg_int_range(c, "seed", 1, 0, 1LL << 62, &seed, &e) ||
        cfg_int_range(c, "start", 0, 0, 1LL << 62, &start, &e) || cfg_int_range(c, "difficulty", def[kind], lo[kind], hi[kind], &d, &e) ||
        cfg_check_unused(c, &e))
        die(&e);
    static char line[65536];
    for (long long i = 0; i < n; i++) {
        uint64_t idx = (uint64_t)(start + i);
        int rc;
        if (kind == 1) {
            countdown_params p = countdown_default_params();
            p.n_nums = (int)d;
            countdown_problem pb;
            rc = countdown_generate(&p, (uint64_t)seed, idx, &pb, &e) || countdown_to_jsonl(&pb, line, sizeof line, NULL, &e);
        } else if (kind == 2) {
            kk_params p = kk_default_params();
            p.n_people = (int)d;
            static kk_problem pb;
            rc = kk_generate(&p, (uint64_t)seed, idx, &pb, &e) || kk_to_jsonl(&pb, line, sizeof line, NULL, &e);
        } else if (kind == 3) {
            strfn_params p = strfn_default_params();
            p.depth = (int)d;
            static strfn_problem pb;
            rc = strfn_generate(&p, (uint64_t)seed, idx, &pb, &e) || strfn_to_jsonl(&pb, line, sizeof line, NULL, &e);
        } else {
            chain_params p = chain_default_params();
            p.n_problems = (int)d;
            static chain_problem pb;
            rc = chain_generate(&p, (uint64_t)seed, idx, &pb, &e) || chain_to_jsonl(&pb, line, sizeof line, NULL, &e);
        }
        if (rc) die(&e);
        fputs(line, stdout);
    }
    cfg_free(c);
    return 0;
}

static int cmd_data(int argc, char **argv) {
    if (argc < 1 || wants_help(argc, argv)) { fputs(DATA_HELP, argc < 1 ? stderr : stdout); return argc < 1 ? 2 : 0; }
    rlvr_err e = {0};
    if (strcmp(argv[0], "arith")) return cmd_data_other(argc, argv);
    cfg *c = load_cfg(argc - 1, argv + 1, &e);
    arith_params p = arith_default_params();
    long long n, seed, v, start;
    const char *ops, *split;
    if (cfg_int_range(c, "n", 100, 0, 1LL << 40, &n, &e) || cfg_int_range(c, "seed", 1, 0, 1LL << 62, &seed, &e) ||
        cfg_int_range(c, "start", 0, 0, 1LL << 62, &start, &e))
        die(&e);
    if (cfg_int_range(c, "difficulty", 1, 1, ARITH_MAX_OPS, &v, &e)) die(&e);
    p.n_ops = (int)v;
    if (cfg_int_range(c, "max_val", p.max_val, 1, 9999, &v, &e)) die(&e);
    p.max_val = (int)v;
    if (cfg_int_range(c, "max_result", p.max_result, 1, 999999, &v, &e)) die(&e);
    p.max_result = (int)v;
    if (cfg_int_range(c, "template", 0, 0, ARITH_N_TEMPLATES - 1, &v, &e)) die(&e);
    p.template_id = (int)v;
    if (cfg_str(c, "ops", "+-*", &ops, &e) || cfg_str(c, "split", "train", &split, &e)) die(&e);
    p.ops_mask = (strchr(ops, '+') ? ARITH_OP_ADD : 0) | (strchr(ops, '-') ? ARITH_OP_SUB : 0) |
                 (strchr(ops, '*') ? ARITH_OP_MUL : 0) | (strchr(ops, '/') ? ARITH_OP_DIV : 0);
    if (!p.ops_mask || strspn(ops, "+-*/") != strlen(ops)) { cfg_errf(c, "ops", &e, "ops must be made of + - * /, got \"%s\"", ops); die(&e); }
    if (!strcmp(split, "train")) p.split = ARITH_SPLIT_TRAIN;
    else if (!strcmp(split, "eval")) p.split = ARITH_SPLIT_EVAL;
    else if (!strcmp(split, "any")) p.split = ARITH_SPLIT_ANY;
    else { cfg_errf(c, "split", &e, "split must be train, eval or any, got \"%s\"", split); die(&e); }
    if (cfg_check_unused(c, &e)) die(&e);
    static char line[ARITH_JSONL_CAP];
    for (long long i = 0; i < n; i++) {
        arith_problem pb;
        if (arith_generate(&p, (uint64_t)seed, (uint64_t)(start + i), &pb, &e) || arith_to_jsonl(&pb, line, sizeof line, NULL, &e)) die(&e);
        fputs(line, stdout);
    }
    cfg_free(c);
    return 0;
}

static int generate_jsonl(loaded_model *lm, const char *input, const char *output, int chat, const char *system, int n,
                          const sampler_params *sp, int max_new, uint64_t seed, int slots, const char *stop_str, rlvr_err *e);

static const char *GENERATE_HELP =
    "usage: rlvr generate [file.toml] model=PATH prompt=TEXT [key=value ...]\n"
    "Generates text with a KV cache, streaming it to stdout. PATH is a Hugging Face\n"
    "directory (config.json, model.safetensors, tokenizer.json or rlvr's byte\n"
    "vocabulary) or a GGUF file (e.g. SmolLM2 from scripts/fetch_models.sh).\n"
    "keys (defaults): chat=false (wrap the prompt in the model's chat template)\n"
    "                 system=\"\" chat_template=(detected; chatml smollm2 qwen2 qwen2.5 llama3)\n"
    "                 max_new_tokens=128 temperature=0 (greedy) top_k=0 top_p=1 min_p=0\n"
    "                 seed=1 n=1 (samples, each its own RNG stream)\n"
    "batched mode: input=prompts.jsonl (one {\"prompt\": ...} per line) [output=out.jsonl]\n"
    "                 [slots=64] [stop=STRING]: n samples per prompt through the rollout engine\n"
    "                 (continuous batching, shared prompt prefill); one JSON record per sample\n"
    "                 (prompt_idx, sample_idx, completion, tokens, sum_logp, finish); progress on stderr\n";

static int cmd_generate(int argc, char **argv) {
    if (wants_help(argc, argv)) { fputs(GENERATE_HELP, stdout); return 0; }
    rlvr_err e = {0};
    cfg *c = load_cfg(argc, argv, &e);
    const char *path, *prompt, *system, *tmpl, *input, *output, *stop_str;
    long long max_new, seed, n, tk, slots;
    double t, tp, mp;
    int chat;
    if (cfg_str(c, "input", "", &input, &e) || cfg_str(c, "output", "-", &output, &e) || cfg_int_range(c, "slots", 64, 1, 4096, &slots, &e) ||
        cfg_str(c, "stop", "", &stop_str, &e))
        die(&e);
    if (cfg_str(c, "model", NULL, &path, &e) || cfg_str(c, "prompt", *input ? "" : NULL, &prompt, &e) || cfg_bool(c, "chat", 0, &chat, &e) ||
        cfg_str(c, "system", "", &system, &e) || cfg_str(c, "chat_template", "", &tmpl, &e) ||
        cfg_int_range(c, "max_new_tokens", 128, 1, 1 << 20, &max_new, &e) || cfg_int_range(c, "seed", 1, 0, 1LL << 62, &seed, &e) ||
        cfg_int_range(c, "n", 1, 1, 1 << 16, &n, &e) || cfg_float(c, "temperature", 0, &t, &e) || cfg_int(c, "top_k", 0, &tk, &e) ||
        cfg_float(c, "top_p", 1, &tp, &e) || cfg_float(c, "min_p", 0, &mp, &e) || cfg_check_unused(c, &e))
        die(&e);
    sampler_params sp = {.temperature = (float)t, .top_k = (int)tk, .top_p = (float)tp, .min_p = (float)mp};
    if (sampler_check(&sp, &e)) die(&e);
    loaded_model lm;
    if (model_open(path, *tmpl ? tmpl : NULL, &lm, &e)) { loaded_model_free(&lm); die(&e); }
    if (*input) { /* batched: the rollout engine, one JSON record per sample */
        if (generate_jsonl(&lm, input, output, chat, system, (int)n, &sp, (int)max_new, (uint64_t)seed, (int)slots, stop_str, &e)) die(&e);
        loaded_model_free(&lm);
        cfg_free(c);
        return 0;
    }
    int T = lm.m->cfg.max_seq_len, V = lm.m->cfg.vocab_size, plen = 0;
    int *ids = malloc(sizeof(int) * T);
    float *logits = malloc(sizeof(float) * V), *scratch = malloc(sizeof(float) * 2 * V);
    if (!ids || !logits || !scratch) { e.code = RLVR_ENOMEM; snprintf(e.msg, sizeof e.msg, "out of memory"); die(&e); }
    if (loaded_encode_prompt(&lm, prompt, chat, *system ? system : NULL, ids, T, &plen, &e)) die(&e);
    if (plen >= T) { fprintf(stderr, "rlvr generate: prompt of %d tokens does not fit the context of %d\n", plen, T); return 2; }
    int maxlen = plen + (int)max_new < T ? plen + (int)max_new : T; /* size the cache by what is used */
    decoder *d = decoder_new(lm.m, 1, maxlen, plen, &e);
    if (!d) die(&e);
    for (long long k = 0; k < n; k++) {
        rng_t r;
        rng_seed(&r, (uint64_t)seed, rng_derive((uint64_t)seed, 0, (uint64_t)k));
        decoder_reset(d, 0);
        int slot = 0, nn = plen, len = plen;
        if (n > 1) printf("--- sample %lld\n", k);
        if (decoder_step(d, 1, &slot, &nn, ids, logits, &e)) die(&e);
        bpe_stream st;
        if (lm.tok) bpe_stream_init(&st, lm.tok);
        char buf[256];
        size_t nb;
        double lp = 0;
        int next;
        for (long long i = 0; i < max_new && len < maxlen; i++) {
            sample_out o = sampler_sample(&sp, logits, V, &r, scratch);
            lp += o.logp;
            if (loaded_is_stop(&lm, o.token)) break;
            if (lm.byte_vocab) {
                if (o.token < 256) putchar(o.token);
            } else if (bpe_stream_push(&st, o.token, buf, sizeof buf, &nb) == RLVR_OK) {
                fwrite(buf, 1, nb, stdout);
            }
            fflush(stdout);
            len++;
            next = o.token, nn = 1;
            if (len < maxlen && decoder_step(d, 1, &slot, &nn, &next, logits, &e)) die(&e);
        }
        if (lm.tok && bpe_stream_flush(&st, buf, sizeof buf, &nb) == RLVR_OK) fwrite(buf, 1, nb, stdout);
        printf("\n");
        fprintf(stderr, "[%d tokens, sum log-prob %.3f]\n", len - plen, lp);
    }
    decoder_free(d);
    free(ids); free(logits); free(scratch);
    loaded_model_free(&lm);
    cfg_free(c);
    return 0;
}

static const char *SCORE_HELP =
    "usage: rlvr score reward=SPEC[,SPEC...] [max_line=16777216] < in.jsonl > out.jsonl\n"
    "Scores records carrying a completion and its reference with registered rewards,\n"
    "without training. Each input line is a JSON object with \"completion\", the\n"
    "reference in \"ground_truth\", \"reference\" or \"answer\", and optionally \"prompt\",\n"
    "\"data_source\" and any other string columns (passed to the reward as extras).\n"
    "Each output line is the input record plus \"scores\": {SPEC: {\"reward\", \"correct\",\n"
    "fields..., \"pred\"}}. SPEC is a reward name or a composition (docs/verifiers.md),\n"
    "e.g. reward=math or reward=\"auto,format_think_answer:0.1\". A bad line stops the\n"
    "run with its line number: nothing is skipped.\n";

/* Splits a comma list at depth 0 (commas inside (), [] belong to a spec). */
static int split_specs(char *s, char **out, int max) {
    int n = 0, depth = 0;
    char *start = s;
    for (char *p = s;; p++) {
        if (*p == '(' || *p == '[') depth++;
        else if ((*p == ')' || *p == ']') && depth > 0) depth--;
        else if ((*p == ',' && depth == 0) || !*p) {
            int end = !*p;
            *p = 0;
            if (n < max && *start) out[n++] = start;
            if (end) break;
            start = p + 1;
        }
    }
    return n;
}

static int cmd_score(int argc, char **argv) {
    if (wants_help(argc, argv)) { fputs(SCORE_HELP, stdout); return 0; }
    rlvr_err e = {0};
    cfg *c = load_cfg(argc, argv, &e);
    const char *spec_arg;
    long long max_line;
    if (cfg_str(c, "reward", NULL, &spec_arg, &e) || cfg_int_range(c, "max_line", 16 << 20, 1024, 1LL << 30, &max_line, &e) ||
        cfg_check_unused(c, &e))
        die(&e);
    char *specs_buf = strdup(spec_arg), *specs[32];
    int ns = split_specs(specs_buf, specs, 32);
    reward_fn *fns[32];
    for (int i = 0; i < ns; i++)
        if (reward_create(specs[i], &fns[i], &e)) die(&e);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, scored = 0;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if (len > max_line) { fprintf(stderr, "rlvr score: stdin line %ld: %zd bytes, more than max_line %lld\n", lineno, len, max_line); return 1; }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) { fprintf(stderr, "rlvr score: stdin line %ld: empty line\n", lineno); return 1; }
        cJSON *j = cJSON_ParseWithLength(line, (size_t)len);
        if (!cJSON_IsObject(j)) { fprintf(stderr, "rlvr score: stdin line %ld: not a JSON object\n", lineno); return 1; }
        const cJSON *comp = cJSON_GetObjectItemCaseSensitive(j, "completion");
        if (!cJSON_IsString(comp)) { fprintf(stderr, "rlvr score: stdin line %ld: no string field \"completion\"\n", lineno); return 1; }
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(j, "ground_truth");
        if (!ref) ref = cJSON_GetObjectItemCaseSensitive(j, "reference");
        if (!ref) ref = cJSON_GetObjectItemCaseSensitive(j, "answer");
        char *ref_text = ref ? (cJSON_IsString(ref) ? strdup(ref->valuestring) : cJSON_PrintUnformatted(ref)) : NULL;
        const cJSON *pr = cJSON_GetObjectItemCaseSensitive(j, "prompt"), *ds = cJSON_GetObjectItemCaseSensitive(j, "data_source");
        reward_kv extra[64];
        int ne = 0;
        for (const cJSON *it = j->child; it && ne < 64; it = it->next)
            if (cJSON_IsString(it) && it->string)
                extra[ne].key = it->string, extra[ne].val = it->valuestring, extra[ne].val_n = strlen(it->valuestring), ne++;
        reward_input in = {0};
        in.completion = comp->valuestring, in.completion_n = strlen(comp->valuestring);
        in.prompt = cJSON_IsString(pr) ? pr->valuestring : NULL, in.prompt_n = in.prompt ? strlen(in.prompt) : 0;
        in.reference = ref_text, in.reference_n = ref_text ? strlen(ref_text) : 0;
        in.data_source = cJSON_IsString(ds) ? ds->valuestring : NULL;
        in.extra = extra, in.n_extra = ne, in.n_tokens = -1;
        cJSON *scores = cJSON_AddObjectToObject(j, "scores");
        for (int i = 0; i < ns; i++) {
            reward_output out;
            if (reward_score(fns[i], &in, &out, &e)) { fprintf(stderr, "rlvr score: stdin line %ld: %s: %s\n", lineno, specs[i], e.msg); return 1; }
            cJSON *o = cJSON_AddObjectToObject(scores, specs[i]);
            cJSON_AddNumberToObject(o, "reward", out.reward);
            if (out.correct >= 0) cJSON_AddBoolToObject(o, "correct", out.correct);
            for (int k = 0; k < out.n_fields; k++) cJSON_AddNumberToObject(o, out.fields[k].name, out.fields[k].value);
            if (out.pred[0]) cJSON_AddStringToObject(o, "pred", out.pred);
        }
        char *txt = cJSON_PrintUnformatted(j);
        if (!txt) { fprintf(stderr, "rlvr score: out of memory\n"); return 1; }
        puts(txt);
        cJSON_free(txt);
        free(ref_text);
        cJSON_Delete(j);
        scored++;
    }
    fprintf(stderr, "rlvr score: %ld records scored with %d reward spec(s)\n", scored, ns);
    for (int i = 0; i < ns; i++) reward_free(fns[i]);
    free(specs_buf);
    free(line);
    cfg_free(c);
    return 0;
}

static const char *EXPORT_HELP =
    "usage: rlvr export model=PATH out=PATH [format=hf|gguf] [dtype=f32|bf16|f16]\n"
    "Writes a model (HF directory or GGUF, e.g. a run's out_dir/model) as a Hugging\n"
    "Face directory (config.json, model.safetensors, tokenizer files) or as a GGUF\n"
    "file, so it opens in transformers and llama.cpp. Defaults: format=hf dtype=f32.\n";

static int cmd_export(int argc, char **argv) {
    if (wants_help(argc, argv)) { fputs(EXPORT_HELP, stdout); return 0; }
    rlvr_err e = {0};
    cfg *c = load_cfg(argc, argv, &e);
    const char *path, *out, *fmt, *dt;
    if (cfg_str(c, "model", NULL, &path, &e) || cfg_str(c, "out", NULL, &out, &e) || cfg_str(c, "format", "hf", &fmt, &e) ||
        cfg_str(c, "dtype", "f32", &dt, &e) || cfg_check_unused(c, &e))
        die(&e);
    int dtype = !strcmp(dt, "f32") ? ST_F32 : !strcmp(dt, "bf16") ? ST_BF16 : !strcmp(dt, "f16") ? ST_F16 : -1;
    if (dtype < 0) { cfg_errf(c, "dtype", &e, "dtype must be f32, bf16 or f16, got \"%s\"", dt); die(&e); }
    if (strcmp(fmt, "hf") && strcmp(fmt, "gguf")) { cfg_errf(c, "format", &e, "format must be hf or gguf, got \"%s\"", fmt); die(&e); }
    loaded_model lm;
    if (model_open(path, NULL, &lm, &e)) { loaded_model_free(&lm); die(&e); }
    int rc = !strcmp(fmt, "hf") ? model_export_hf(&lm, out, dtype, &e) : model_export_gguf(&lm, out, dtype, &e);
    loaded_model_free(&lm);
    if (rc) die(&e);
    printf("wrote %s (%s, %s)\n", out, fmt, dt);
    cfg_free(c);
    return 0;
}

/* ---- rlvr generate input=FILE.jsonl: the batched engine, one record per sample ---- */

static int generate_jsonl(loaded_model *lm, const char *input, const char *output, int chat, const char *system, int n,
                          const sampler_params *sp, int max_new, uint64_t seed, int slots, const char *stop_str, rlvr_err *e) {
    dataset_params dp = dataset_default_params();
    dp.require_answer = 0; /* prompts alone are enough to generate */
    dataset *ds = NULL;
    dataset_stats dst;
    if (dataset_load(input, &dp, &ds, &dst, e)) return e->code;
    int P = dataset_count(ds), T = lm->m->cfg.max_seq_len;
    int **prompts = calloc(P ? P : 1, sizeof *prompts), *plens = calloc(P ? P : 1, sizeof *plens);
    for (int i = 0; i < P; i++) {
        prompts[i] = malloc(sizeof(int) * T);
        if (loaded_encode_prompt(lm, dataset_row_at(ds, i)->prompt, chat, *system ? system : NULL, prompts[i], T, &plens[i], e))
            return err_wrap(e, e->code, "%s line %ld", input, dataset_row_at(ds, i)->line);
    }
    engine_params ep = engine_default_params();
    ep.max_slots = slots, ep.max_len = T, ep.sampling = *sp, ep.max_new_tokens = max_new, ep.seed = seed;
    ep.stop_ids = lm->stop_ids, ep.n_stop_ids = lm->n_stop;
    const char *stops[1] = {stop_str};
    if (*stop_str) ep.stop_strings = stops, ep.n_stop_strings = 1;
    ep.token_text = loaded_token_text, ep.token_text_ud = lm;
    engine_sample *out = calloc((size_t)P * n + 1, sizeof *out);
    engine_stats st;
    gen_progress gp = {.tty = isatty(2)};
    int rc = engine_generate(lm->m, &ep, (const int *const *)prompts, plens, P, n, out, &st, engine_progress_print, &gp, e);
    if (gp.tty) fputc('\n', stderr);
    FILE *f = rc ? NULL : (!strcmp(output, "-") ? stdout : fopen(output, "w"));
    if (!rc && !f) rc = errf(e, RLVR_EIO, "%s: cannot open for writing", output);
    char *text = malloc((size_t)16 * T + 16);
    for (int k = 0; !rc && k < P * n; k++) {
        const engine_sample *x = &out[k];
        size_t tl = 0;
        for (int t = 0; t < x->n_tokens; t++) {
            if (loaded_is_stop(lm, x->tokens[t])) break;
            size_t bl;
            const char *b = loaded_token_text(lm, x->tokens[t], &bl);
            if (tl + bl < (size_t)16 * T) memcpy(text + tl, b, bl), tl += bl;
        }
        text[tl] = 0;
        double lp = 0;
        for (int t = 0; t < x->n_tokens; t++) lp += x->logp[t];
        cJSON *o = cJSON_CreateObject(), *toks = cJSON_AddArrayToObject(o, "tokens");
        cJSON_AddNumberToObject(o, "prompt_idx", x->prompt_idx);
        cJSON_AddNumberToObject(o, "sample_idx", x->sample_idx);
        cJSON_AddStringToObject(o, "prompt", dataset_row_at(ds, x->prompt_idx)->prompt);
        char *clean = utf8_sanitize(text, tl); /* JSON is UTF-8; the token ids below are exact */
        cJSON_AddStringToObject(o, "completion", clean ? clean : "");
        free(clean);
        if (dataset_row_at(ds, x->prompt_idx)->answer_n) cJSON_AddStringToObject(o, "ground_truth", dataset_row_at(ds, x->prompt_idx)->answer);
        cJSON_AddStringToObject(o, "finish", x->finish == ENGINE_FINISH_STOP ? "stop" : "length");
        cJSON_AddNumberToObject(o, "n_tokens", x->n_tokens);
        cJSON_AddNumberToObject(o, "sum_logp", lp);
        for (int t = 0; t < x->n_tokens; t++) cJSON_AddItemToArray(toks, cJSON_CreateNumber(x->tokens[t]));
        char *js = cJSON_PrintUnformatted(o);
        fprintf(f, "%s\n", js);
        cJSON_free(js);
        cJSON_Delete(o);
    }
    if (f && f != stdout) fclose(f);
    if (!rc) fprintf(stderr, "rlvr generate: %d prompts x %d samples, %ld tokens in %.1fs (%.0f tok/s)\n", P, n, st.gen_tokens, st.total_s, st.tokens_per_s);
    free(text);
    engine_samples_free(out, P * n);
    free(out);
    for (int i = 0; i < P; i++) free(prompts[i]);
    free(prompts); free(plens);
    dataset_free(ds);
    return rc;
}

/* ---- rlvr eval: pass@k, maj@k and CoT-pass@k on held-out arith problems ---- */

static int cmd_inspect(int argc, char **argv) {
    if (argc < 1 || wants_help(argc, argv)) {
        fputs("usage: rlvr inspect PATH\nDescribes a model (HF directory or GGUF file): architecture, parameter count,\n"
              "dtypes, shapes, rope, tokenizer, chat template, special tokens.\n", argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    rlvr_err e = {0};
    loaded_model lm;
    if (model_open(argv[0], NULL, &lm, &e)) { loaded_model_free(&lm); die(&e); }
    static char buf[16384];
    model_describe(&lm, buf, sizeof buf);
    fputs(buf, stdout);
    loaded_model_free(&lm);
    return 0;
}

static const char *TRAIN_HELP =
    "usage: rlvr train [recipe.toml] model=PATH [key=value ...]\n"
    "GRPO-family RL from a model (rlvr's byte-level models, a Hugging Face directory or\n"
    "a GGUF file) on the built-in arith task or a JSONL dataset (data.path). Each step:\n"
    "prompts -> n samples each (rollout engine) -> rewards -> filters -> advantages ->\n"
    "policy loss -> AdamW. Evaluates held-out problems before, every eval.every steps and\n"
    "after; writes OUT_DIR/{config.toml,metrics.jsonl,samples.jsonl,tb/,eval/,checkpoints/,model/}.\n"
    "keys (defaults):\n"
    "  seed=1 threads=0 out_dir=runs/grpo model=(required) chat=false system=\"\" chat_template=\"\"\n"
    "  data.path=\"\" (JSONL; empty: the arith task) data.prompt_key=prompt data.answer_key=ground_truth\n"
    "  data.data_source_key=data_source data.template=\"\" (e.g. \"{prompt} Think step by step.\")\n"
    "  task.difficulties=[1,2] task.max_val=99 task.max_result=999 task.ops=\"+-*\" task.template=0\n"
    "    (0 compact, 1 words, 2 worked, 3 expr: \"What is 5 * 3 - 4?\", for pretrained chat models)\n"
    "  train.steps=100 train.lr=1e-4 train.schedule=constant train.warmup_steps=0 train.weight_decay=0\n"
    "  train.grad_clip=1.0 train.beta1=0.9 train.beta2=0.99 train.max_tokens=4096\n"
    "  train.skip_zero_adv=true (no forward/backward for samples with advantage 0 when no KL or entropy term: same update)\n"
    "  rollout.prompts_per_step=16 rollout.n=8 rollout.max_new_tokens=48 rollout.slots=128 rollout.stop=[]\n"
    "  rollout.min_new_tokens=0 (stops ignored before this many tokens: for benchmarks)\n"
    "  rollout.temperature=1.0 rollout.top_k=0 rollout.top_p=1.0 rollout.min_p=0\n"
    "  algo.adv_estimator=grpo (dr_grpo lite rloo reinforce_pp reinforce_pp_baseline)\n"
    "  algo.clip_mode=ppo (dual gppo none) algo.clip_low=0.2 algo.clip_high=0.2 algo.clip_c=3\n"
    "  algo.ratio_level=token (sequence = GSPO) algo.loss_agg=token_mean (seq_mean_token_mean\n"
    "  seq_mean_token_sum seq_mean_token_sum_norm) algo.entropy_coef=0\n"
    "  algo.kl_coef=0 algo.kl_estimator=k3 (k1 k2) algo.kl_clamp=10 algo.ref_reset_every=0\n"
    "  algo.ref_reset_optimizer=false algo.ppo_epochs=1 algo.minibatches=1\n"
    "  algo.dynamic_sampling=false (drop zero-variance groups and draw again, up to algo.max_gen_batches=3)\n"
    "  algo.pass_rate_low=0 algo.pass_rate_high=1 (keep groups in this band) algo.mask_truncated=false\n"
    "  eval.every=25 eval.n=200 (problems per group) eval.difficulties=[1,2,3] eval.path=\"\" (JSONL)\n"
    "  eval.samples=1 eval.k=[1] eval.temperature=0 (greedy) eval.top_p=1 eval.max_new_tokens=(rollout's)\n"
    "  reward.cmd=\"\" (e.g. \"python3 examples/my_reward.py\": a long-running reward server; replaces the spec)\n"
    "  reward.spec=\"\" (arith for the task, auto for datasets; any spec, e.g. \"arith + length_budget[budget=8]:0.1\")\n"
    "  curriculum.until=[] (stage boundaries, steps) curriculum.difficulties=[\"1\",\"1,2\",...] curriculum.data=[FILE,...]\n"
    "  curriculum.max_new_tokens=[...] (one entry per stage when given)\n"
    "  sft.every=0 (ReLIFT: every N steps an SFT update on buffered unsolved prompts) sft.batch=16 sft.buffer=256\n"
    "  sft.lr=(train.lr) sft.solution_key=answer (the column with a reference solution)\n"
    "  log.tensorboard=true log.samples=4 (samples.jsonl lines per logged step) log.samples_every=0 (at evals)\n"
    "  train.save_every=0 (also at the end and on SIGTERM/SIGINT) train.keep_last=3\n"
    "  resume=false (continue from the newest verified checkpoint in out_dir) resume_force=false\n";

static void grpo_progress_print(const grpo_progress *pr, void *ud) {
    progress_ctx *pc = ud;
    if (pr->is_eval) {
        if (pc->tty) fputc('\n', stderr);
        fprintf(stderr, "eval  step %5d  held-out pass@1:", pr->step);
        for (int d = 0; d < pr->n_acc; d++) fprintf(stderr, "  %s %5.1f%%", pr->acc_name[d], 100 * pr->acc_eval[d]);
        fprintf(stderr, "\n");
        return;
    }
    if (pc->tty || pr->step % pc->every == 0 || pr->step == pr->steps) {
        fprintf(stderr, "%sstep %4d/%d reward %.3f zero-std %.2f len %.1f loss %+.4f kl %.4f ent %.3f clip %.3f/%.3f gnorm %.3f  sample %.1fs train %.1fs%s",
                pc->tty ? "\r" : "", pr->step, pr->steps, pr->reward_mean, pr->zero_std_frac, pr->len_mean, pr->loss.loss, pr->kl,
                pr->loss.entropy_mean, pr->loss.clip_frac_low, pr->loss.clip_frac_high, pr->grad_norm, pr->sample_s, pr->train_s,
                pc->tty ? "" : "\n");
        fflush(stderr);
    }
}

static volatile int stop_requested;
static void on_stop_signal(int sig) { (void)sig; stop_requested = 1; } /* only sets a flag */

/* FNV-1a of the resolved config without the keys that may change between a run and
 * its resumption (resume, resume_force, threads) */
static uint64_t train_cfg_hash(const cfg *c) {
    char *txt = cfg_to_string(c);
    uint64_t h = 1469598103934665603ULL;
    for (char *line = txt; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (strncmp(line, "resume", 6) && strncmp(line, "threads", 7))
            for (size_t i = 0; i <= n && line[i]; i++) h = (h ^ (unsigned char)line[i]) * 1099511628211ULL;
        line = nl ? nl + 1 : line + n;
    }
    free(txt);
    return h;
}

static int cmd_train(int argc, char **argv) {
    if (wants_help(argc, argv)) { fputs(TRAIN_HELP, stdout); return 0; }
    rlvr_err e = {0};
    cfg *c = load_cfg(argc, argv, &e);
    grpo_params p;
    if (grpo_params_from_cfg(c, &p, &e) || cfg_bool(c, "resume", 0, &p.resume, &e) ||
        cfg_bool(c, "resume_force", 0, &p.resume_force, &e) || cfg_check_unused(c, &e))
        die(&e);
    p.cfg_hash = train_cfg_hash(c);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    p.stop = &stop_requested;
    if (p.out_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/config.toml", p.out_dir);
        if (fs_mkdir_p(p.out_dir, &e) || cfg_write(c, path, &e)) die(&e);
        fprintf(stderr, "rlvr train: resolved config written to %s\n", path);
    }
    fprintf(stderr, "rlvr train: %s from %s; %d steps x %d prompts x %d samples; %d threads\n", adv_kind_name(p.adv.kind), p.model_dir,
            p.steps, p.prompts_per_step, p.group_size, p.threads ? p.threads : kernels_threads());
    progress_ctx pc = {.tty = isatty(2), .every = p.steps >= 20 ? p.steps / 20 : 1};
    grpo_result r;
    if (grpo_run(&p, grpo_progress_print, &pc, &r, &e)) die(&e);
    if (r.resumed_from >= 0) printf("resumed from the checkpoint of step %d ('before' is measured there)\n", r.resumed_from);
    if (r.stopped_at >= 0) {
        printf("stopped by a signal after step %d; checkpoint written to %s/checkpoints; rerun with resume=true to continue\n", r.stopped_at,
               p.out_dir ? p.out_dir : "(no out_dir)");
        cfg_free(c);
        return 0;
    }
    printf("train done in %.1fs (%d skipped steps).\n", r.seconds, r.skipped);
    if (r.n_cmp) {
        printf("held-out evaluation, first vs last (%d sample%s per problem, temperature %g; 95%% bootstrap intervals,\n"
               "the change's interval paired over the same problems):\n", p.eval_samples, p.eval_samples > 1 ? "s" : "",
               p.eval_sampling.temperature);
        printf("  %-14s %-7s %-22s %-22s %s\n", "group", "metric", "before", "after", "change");
        for (int i = 0; i < r.n_cmp; i++) {
            const grpo_cmp *q = &r.cmp[i];
            char mt[16], bf[32], af[32];
            snprintf(mt, sizeof mt, "pass@%d", q->k);
            snprintf(bf, sizeof bf, "%5.1f%% [%4.1f, %4.1f]", 100 * q->before, 100 * q->before_lo, 100 * q->before_hi);
            snprintf(af, sizeof af, "%5.1f%% [%4.1f, %4.1f]", 100 * q->after, 100 * q->after_lo, 100 * q->after_hi);
            int sig = q->diff_lo > 0 || q->diff_hi < 0;
            printf("  %-14s %-7s %-22s %-22s %+5.1f pts [%+.1f, %+.1f]%s\n", q->group, mt, bf, af, 100 * q->diff, 100 * q->diff_lo,
                   100 * q->diff_hi, sig ? " *" : "");
        }
        printf("  (* the interval of the change excludes 0)\n");
    }
    if (p.out_dir) printf("  model: %s/model\n", p.out_dir);
    cfg_free(c);
    return 0;
}

static void usage(FILE *f) {
    fprintf(f,
            "rlvr %s: reinforcement learning from verifiable rewards, in C\n"
            "usage: rlvr <command> [file.toml] [key=value ...]\n"
            "commands:\n"
            "  train     GRPO-family RL from a model directory on the built-in arith task\n"
            "  sft       supervised training of a fresh model on the built-in arith task\n"
            "  data      write a built-in task's problems as JSONL\n"
            "  generate  sample text from a model (HF dir or GGUF; KV cache, greedy or top-k/p)\n"
            "  eval      pass@k, maj@k and CoT-pass@k of a model on held-out arith problems\n"
            "  report    an HTML report of a run (curves, pass@k, examples) + JSON/CSV\n"
            "  score     score completions (JSONL on stdin) with registered rewards\n"
            "  export    write a model as a Hugging Face directory or a GGUF file\n"
            "  inspect   describe a model: architecture, sizes, dtypes, tokenizer, template\n"
            "  version   print the version and build facts\n"
            "  help      this text\n"
            "`rlvr <command> --help` lists a command's keys and defaults.\n",
            RLVR_VERSION);
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) { usage(stdout); return 0; }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("rlvr %s (threads %d)\n", RLVR_VERSION, kernels_threads());
        return 0;
    }
    if (!strcmp(cmd, "sft")) return cmd_sft(argc - 2, argv + 2);
    if (!strcmp(cmd, "train")) return cmd_train(argc - 2, argv + 2);
    if (!strcmp(cmd, "data")) return cmd_data(argc - 2, argv + 2);
    if (!strcmp(cmd, "generate")) return cmd_generate(argc - 2, argv + 2);
    if (!strcmp(cmd, "inspect")) return cmd_inspect(argc - 2, argv + 2);
    if (!strcmp(cmd, "export")) return cmd_export(argc - 2, argv + 2);
    if (!strcmp(cmd, "score")) return cmd_score(argc - 2, argv + 2);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc - 2, argv + 2);
    if (!strcmp(cmd, "report")) return cmd_report(argc - 2, argv + 2);
    fprintf(stderr, "rlvr: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
