/* test_engine: the rollout engine on tiny random models (and SmolLM2 when present):
 * recorded log-probs equal the training forward's, batched greedy equals one slot at
 * a time, samples do not depend on slots or threads, stop ids / stop strings /
 * max_new_tokens / max_len end samples exactly, and a small KV budget queues. */
#include <stdint.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "check.h"
#include "core/rng.h"
#include "model/load.h"
#include "model/model.h"
#include "rollout/engine.h"

enum { NP = 12, PMAX = 24 };
static int ptok[NP][PMAX], plens[NP];
static const int *pptr[NP];

static model *tiny_model(int vocab, int layers) {
    model_config c = {0};
    snprintf(c.arch, sizeof c.arch, "llama");
    c.vocab_size = vocab, c.dim = 32, c.hidden_dim = 48, c.n_layers = layers, c.n_heads = 4, c.n_kv_heads = 2, c.head_dim = 8;
    c.max_seq_len = 128, c.norm_eps = 1e-5f, c.rope_theta = 10000.0f, c.bos_id = c.eos_id = -1;
    rlvr_err e = {0};
    model *m = model_new(&c, &e);
    CHECK(m != NULL, "%s", e.msg);
    if (m) model_init_random(m, 5, 0.5f); /* peaked enough that greedy has no near-ties */
    return m;
}

static void make_prompts(int vocab) {
    rng_t r;
    rng_seed(&r, 99, 0);
    for (int i = 0; i < NP; i++) {
        plens[i] = 1 + (i * 7) % PMAX;
        for (int j = 0; j < plens[i]; j++) ptok[i][j] = (int)rng_below(&r, vocab);
        pptr[i] = ptok[i];
    }
}

/* Runs the engine; returns its status. */
static int gen(model *m, const engine_params *ep, int np, int ns, engine_sample *out, engine_stats *st) {
    rlvr_err e = {0};
    int rc = engine_generate(m, ep, pptr, plens, np, ns, out, st, NULL, NULL, &e);
    CHECK(rc == 0, "engine_generate: %s", e.msg);
    return rc;
}

/* Max |logp - training forward logp| over all samples (packed in one forward). */
static double logp_vs_forward(model *m, const engine_sample *o, int n, const int *const *prompts, const int *lens) {
    int N = 0;
    for (int k = 0; k < n; k++) N += lens[o[k].prompt_idx] + o[k].n_tokens - 1;
    int *tok = malloc(sizeof(int) * N), *tgt = malloc(sizeof(int) * N), *st = malloc(sizeof(int) * (n + 1));
    rlvr_err e = {0};
    CHECK(model_alloc_train(m, N, n, &e) == 0, "%s", e.msg);
    int at = 0;
    for (int k = 0; k < n; k++) {
        int pl = lens[o[k].prompt_idx], L = pl + o[k].n_tokens;
        st[k] = at;
        for (int j = 0; j < L - 1; j++) {
            tok[at + j] = j < pl ? prompts[o[k].prompt_idx][j] : o[k].tokens[j - pl];
            int nx = j + 1;
            tgt[at + j] = nx < pl ? -1 : o[k].tokens[nx - pl];
        }
        at += L - 1;
    }
    st[n] = at;
    double maxd = 1e30;
    if (model_forward(m, tok, tgt, st, n, &e) == 0) {
        maxd = 0;
        for (int k = 0; k < n; k++) {
            int pl = lens[o[k].prompt_idx];
            for (int t = 0; t < o[k].n_tokens; t++) {
                double d = fabs((double)o[k].logp[t] - m->a.logp[st[k] + pl - 1 + t]);
                if (d > maxd) maxd = d;
            }
        }
    } else CHECK(0, "model_forward: %s", e.msg);
    free(tok), free(tgt), free(st);
    return maxd;
}

static int n_progress, last_done;
static void on_progress(const engine_stats *st, void *ud) {
    (void)ud;
    CHECK(st->samples_done > last_done && st->samples_done <= st->samples_total, "progress %d after %d", st->samples_done, last_done);
    n_progress++, last_done = st->samples_done;
}

static void test_logp_matches_training_forward(void) {
    model *m = tiny_model(40, 3);
    if (!m) return;
    make_prompts(40);
    engine_params ep = engine_default_params();
    ep.max_slots = 10, ep.max_new_tokens = 30, ep.seed = 3;
    ep.sampling.top_k = 12, ep.sampling.top_p = 0.95f, ep.sampling.temperature = 0.9f;
    int stop = 7;
    ep.stop_ids = &stop, ep.n_stop_ids = 1;
    engine_sample out[NP * 3];
    engine_stats st;
    rlvr_err e = {0};
    if (engine_generate(m, &ep, pptr, plens, NP, 3, out, &st, on_progress, NULL, &e)) { CHECK(0, "%s", e.msg); model_free(m); return; }
    CHECK(n_progress > 0 && last_done == NP * 3, "progress: %d calls, last %d", n_progress, last_done);
    int nstop = 0;
    for (int k = 0; k < NP * 3; k++) {
        CHECK(out[k].prompt_idx == k / 3 && out[k].sample_idx == k % 3, "sample %d is (%d, %d)", k, out[k].prompt_idx, out[k].sample_idx);
        CHECK(out[k].finish == ENGINE_FINISH_STOP || out[k].n_tokens == 30, "sample %d: %d tokens, finish %d", k, out[k].n_tokens, out[k].finish);
        if (out[k].finish == ENGINE_FINISH_STOP) {
            nstop++;
            CHECK(out[k].tokens[out[k].n_tokens - 1] == 7 && out[k].stop_index == 0, "stop id kept");
        }
        for (int t = 0; t < out[k].n_tokens - 1; t++) CHECK(out[k].tokens[t] != 7, "generation went on after a stop id");
        for (int t = 0; t < out[k].n_tokens; t++)
            CHECK(isfinite(out[k].logp_sample[t]) && out[k].logp_sample[t] <= 1e-6f, "logp_sample %g", out[k].logp_sample[t]);
    }
    double d = logp_vs_forward(m, out, NP * 3, pptr, plens);
    printf("     logp vs training forward: max abs diff %.3g over %ld tokens (%d samples, %d stopped)\n", d, st.gen_tokens, NP * 3, nstop);
    CHECK(d <= 2e-5, "max abs diff %g", d);
    CHECK(st.samples_done == NP * 3 && st.max_active <= 10 && st.n_slots == 10, "stats %d %d %d", st.samples_done, st.max_active, st.n_slots);
    engine_samples_free(out, NP * 3);
    model_free(m);
}

static int same_tokens(const engine_sample *a, const engine_sample *b, int n, double *maxd) {
    int diff = 0;
    for (int k = 0; k < n; k++) {
        if (a[k].n_tokens != b[k].n_tokens || a[k].finish != b[k].finish ||
            memcmp(a[k].tokens, b[k].tokens, sizeof(int) * a[k].n_tokens)) { diff++; continue; }
        for (int t = 0; t < a[k].n_tokens; t++) {
            double d = fabs((double)a[k].logp[t] - b[k].logp[t]);
            if (d > *maxd) *maxd = d;
        }
    }
    return diff;
}

static void test_greedy_batched_equals_single(void) {
    model *m = tiny_model(40, 3);
    if (!m) return;
    make_prompts(40);
    engine_params ep = engine_default_params();
    ep.sampling.temperature = 0, ep.max_new_tokens = 40, ep.max_prefill_tokens = 16; /* prompts arrive in chunks */
    engine_sample a[NP * 2], b[NP * 2];
    ep.max_slots = 64;
    if (gen(m, &ep, NP, 2, a, NULL)) { model_free(m); return; }
    ep.max_slots = 1;
    if (!gen(m, &ep, NP, 2, b, NULL)) {
        double maxd = 0;
        int diff = same_tokens(a, b, NP * 2, &maxd);
        printf("     greedy: batched vs single slot: %d of %d samples differ, max logp diff %.3g\n", diff, NP * 2, maxd);
        CHECK(diff == 0, "%d samples differ", diff);
        CHECK(maxd <= 1e-5, "logp diff %g", maxd);
        for (int i = 0; i < NP; i++) CHECK(!memcmp(a[2 * i].tokens, a[2 * i + 1].tokens, sizeof(int) * a[2 * i].n_tokens), "greedy samples of one prompt differ");
        engine_samples_free(b, NP * 2);
    }
    engine_samples_free(a, NP * 2);
    model_free(m);
}

static void test_independent_of_slots_and_threads(void) {
    model *m = tiny_model(40, 2);
    if (!m) return;
    make_prompts(40);
    engine_params ep = engine_default_params();
    ep.max_new_tokens = 25, ep.seed = 1234, ep.sampling.min_p = 0.02f;
    int stop = 5;
    ep.stop_ids = &stop, ep.n_stop_ids = 1;
    enum { G = 5, T = NP * G };
    static engine_sample ref[T], o[T];
    ep.max_slots = 64;
    if (gen(m, &ep, NP, G, ref, NULL)) { model_free(m); return; }
    int slots[3] = {1, 7, 64}, threads[2] = {1, 2}, bad = 0;
    double maxd = 0;
    for (int t = 0; t < 2; t++)
        for (int s = 0; s < 3; s++) {
#ifdef _OPENMP
            omp_set_num_threads(threads[t]);
#endif
            ep.max_slots = slots[s];
            if (gen(m, &ep, NP, G, o, NULL)) continue;
            int diff = same_tokens(ref, o, T, &maxd);
            CHECK(diff == 0, "max_slots %d threads %d: %d samples differ", slots[s], threads[t], diff);
            bad += diff;
            engine_samples_free(o, T);
        }
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    int distinct = 0;
    for (int g = 1; g < G; g++) distinct += ref[0].n_tokens != ref[g].n_tokens || memcmp(ref[0].tokens, ref[g].tokens, sizeof(int) * ref[0].n_tokens);
    CHECK(distinct > 0, "the samples of one prompt are all identical");
    printf("     seed 1234: max_slots 1/7/64 x threads 1/2: %d differing samples of %d, max logp diff %.3g\n", bad, T, maxd);
    engine_samples_free(ref, T);
    model_free(m);
}

/* Token id t decodes to 1-3 letters of "abcde": multi-byte tokens, so stop strings
 * can span them. */
static const char *tt_text(void *ud, int id, size_t *len) {
    static char tab[40][4];
    (void)ud;
    if (!tab[0][0])
        for (int t = 0; t < 40; t++) {
            int n = 1 + t % 3;
            for (int j = 0; j < n; j++) tab[t][j] = (char)('a' + (t / (j + 1) + j) % 5);
            tab[t][n] = 0;
        }
    if (id < 0 || id >= 40) return NULL;
    *len = strlen(tab[id]);
    return tab[id];
}

static void test_stops_and_lengths(void) {
    model *m = tiny_model(40, 2);
    if (!m) return;
    make_prompts(40);
    engine_params ep = engine_default_params();
    ep.max_new_tokens = 40, ep.seed = 77, ep.max_slots = 9;
    enum { G = 4, T = NP * G };
    static engine_sample free_run[T], o[T];
    if (gen(m, &ep, NP, G, free_run, NULL)) { model_free(m); return; }
    int exact = 0;
    for (int k = 0; k < T; k++) exact += free_run[k].n_tokens == 40 && free_run[k].finish == ENGINE_FINISH_LENGTH;
    CHECK(exact == T, "max_new_tokens 40: %d of %d samples have exactly 40 tokens and finish=length", exact, T);
    /* stop strings: each stopped sample is a prefix of the free run, cut at the first
     * token whose decoded text completes a stop string */
    const char *stops[2] = {"dab", "eea"};
    ep.stop_strings = stops, ep.n_stop_strings = 2, ep.token_text = tt_text;
    if (!gen(m, &ep, NP, G, o, NULL)) {
        int nstop = 0, spans = 0, bad = 0;
        for (int k = 0; k < T; k++) {
            char text[256];
            size_t L = 0;
            int cut = -1, which = -1;
            for (int t = 0; t < free_run[k].n_tokens && cut < 0; t++) {
                size_t n = 0;
                const char *s = tt_text(NULL, free_run[k].tokens[t], &n);
                memcpy(text + L, s, n), L += n, text[L] = 0;
                for (int j = 0; j < 2 && cut < 0; j++)
                    if (strstr(text, stops[j])) {
                        cut = t + 1, which = j;
                        if (!strstr(s, stops[j])) spans++;
                    }
            }
            int want_n = cut > 0 ? cut : 40, want_f = cut > 0 ? ENGINE_FINISH_STOP : ENGINE_FINISH_LENGTH;
            if (o[k].n_tokens != want_n || o[k].finish != want_f || memcmp(o[k].tokens, free_run[k].tokens, sizeof(int) * want_n) ||
                (cut > 0 && o[k].stop_index != which)) bad++;
            nstop += cut > 0;
        }
        printf("     stop strings: %d of %d samples stopped (%d matches span token boundaries), %d wrong\n", nstop, T, spans, bad);
        CHECK(bad == 0, "%d samples not cut at the first stop string", bad);
        CHECK(nstop > 0 && spans > 0, "the test needs stops that span tokens (%d, %d)", nstop, spans);
        engine_samples_free(o, T);
    }
    /* min_new_tokens: stops ignored, lengths exact */
    ep.min_new_tokens = 40;
    if (!gen(m, &ep, NP, G, o, NULL)) {
        int ok = 0;
        for (int k = 0; k < T; k++) ok += o[k].n_tokens == 40 && !memcmp(o[k].tokens, free_run[k].tokens, sizeof(int) * 40);
        CHECK(ok == T, "min_new_tokens: %d of %d exact", ok, T);
        engine_samples_free(o, T);
    }
    /* max_len caps prompt + generated */
    ep.min_new_tokens = 0, ep.n_stop_strings = 0, ep.max_len = PMAX + 5;
    if (!gen(m, &ep, NP, G, o, NULL)) {
        int ok = 0;
        for (int k = 0; k < T; k++) ok += o[k].finish == ENGINE_FINISH_LENGTH && o[k].n_tokens == PMAX + 5 - plens[k / G];
        CHECK(ok == T, "max_len: %d of %d capped exactly", ok, T);
        engine_samples_free(o, T);
    }
    /* a KV budget smaller than the work queues: 3 slots for 5 prompts x 4 samples */
    ep.max_len = 2048, ep.max_slots = 3;
    engine_stats st;
    if (!gen(m, &ep, 5, 4, o, &st)) {
        CHECK(st.n_slots == 3 && st.max_active <= 3 && st.samples_done == 20, "slots %d active %d done %d", st.n_slots, st.max_active, st.samples_done);
        double maxd = 0;
        CHECK(same_tokens(o, free_run, 20, &maxd) == 0, "3-slot run differs from the 9-slot run");
        printf("     3 slots for 5x4 samples: %ld steps, %ld tokens, %ld prompt tokens prefilled\n", st.decode_steps, st.gen_tokens, st.prefill_tokens);
        engine_samples_free(o, 20);
    }
    /* refusals */
    rlvr_err e = {0};
    ep.max_len = 10;
    CHECK(engine_generate(m, &ep, pptr, plens, NP, 1, o, NULL, NULL, NULL, &e) == RLVR_EARG, "a prompt that fills max_len must be refused");
    ep.max_len = 2048, ep.n_stop_strings = 1, ep.token_text = NULL;
    CHECK(engine_generate(m, &ep, pptr, plens, NP, 1, o, NULL, NULL, NULL, &e) == RLVR_EARG, "stop strings need token_text");
    ep.n_stop_strings = 0;
    int badp[1] = {40}, one = 1;
    const int *bp[1] = {badp};
    CHECK(engine_generate(m, &ep, bp, &one, 1, 1, o, NULL, NULL, NULL, &e) == RLVR_EARG, "out-of-vocabulary prompt must be refused");
    engine_samples_free(free_run, T);
    model_free(m);
}

static void smollm2_path(char *path, size_t cap) {
    const char *dir = getenv("RLVR_MODELS_DIR"), *home = getenv("HOME");
    if (dir && *dir) snprintf(path, cap, "%s/SmolLM2-135M-Instruct.Q4_1.gguf", dir);
    else snprintf(path, cap, "%s/.cache/rlvr/models/SmolLM2-135M-Instruct.Q4_1.gguf", home ? home : ".");
}

static void test_smollm2(void) {
    char path[1024];
    smollm2_path(path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f) { printf("     SKIP: %s not found (scripts/fetch_models.sh)\n", path); return; }
    fclose(f);
    loaded_model lm;
    rlvr_err e = {0};
    if (model_open(path, NULL, &lm, &e)) { CHECK(0, "%s", e.msg); loaded_model_free(&lm); return; }
    int ids[2][64], lens[2];
    const char *q[2] = {"What is 2+3?", "Name a colour."};
    for (int i = 0; i < 2; i++) CHECK(loaded_encode_prompt(&lm, q[i], 1, NULL, ids[i], 64, &lens[i], &e) == 0, "%s", e.msg);
    const int *pp[2] = {ids[0], ids[1]};
    engine_params ep = engine_default_params();
    ep.max_new_tokens = 12, ep.seed = 5, ep.sampling.top_p = 0.9f;
    ep.stop_ids = lm.stop_ids, ep.n_stop_ids = lm.n_stop;
    engine_sample o[4];
    engine_stats st;
    if (engine_generate(lm.m, &ep, pp, lens, 2, 2, o, &st, NULL, NULL, &e) == 0) {
        double d = logp_vs_forward(lm.m, o, 4, pp, lens);
        char text[512];
        long n = loaded_decode(&lm, o[0].tokens, o[0].n_tokens, text, sizeof text);
        printf("     SmolLM2: logp vs training forward max abs diff %.3g over %ld tokens; sample 0: \"%s\"\n", d, st.gen_tokens, n >= 0 ? text : "?");
        CHECK(d <= 1e-4, "SmolLM2 logp diff %g", d);
        engine_samples_free(o, 4);
    } else CHECK(0, "%s", e.msg);
    loaded_model_free(&lm);
}

int main(void) {
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    RUN(test_logp_matches_training_forward);
    RUN(test_greedy_batched_equals_single);
    RUN(test_independent_of_slots_and_threads);
    RUN(test_stops_and_lengths);
    RUN(test_smollm2);
    return check_finish("test_engine");
}
