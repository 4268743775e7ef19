/* test_load.c: model_open on every kind of input. (a) SmolLM2-135M-Instruct Q4_1 (when
 * scripts/fetch_models.sh has put it in place): prompt ids, 64 greedy tokens and the
 * first position's top-5 logits against transformers on the same GGUF
 * (tests/data/generation/smollm2_greedy.txt, made by tests/ref/make_generation_golden.py);
 * (b) small directories and files built here: rlvr's byte-vocabulary checkpoints, a
 * directory without tokenizer.json, a BPE directory with tokenizer_config.json and a
 * Llama-3 style post-processor, a SentencePiece GGUF, and other refusals. */
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "check.h"
#include "core/err.h"
#include "core/fs.h"
#include "formats/gguf.h"
#include "model/decode.h"
#include "model/io.h"
#include "model/load.h"
#include "tokenizer/bytes.h"
#include "tokenizer/chat.h"

#define GOLDEN "tests/data/generation/smollm2_greedy.txt"

static char tmpdir[256];

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void smollm2_path(char *path, size_t cap) {
    const char *dir = getenv("RLVR_MODELS_DIR"), *home = getenv("HOME");
    if (dir && *dir) snprintf(path, cap, "%s/SmolLM2-135M-Instruct.Q4_1.gguf", dir);
    else snprintf(path, cap, "%s/.cache/rlvr/models/SmolLM2-135M-Instruct.Q4_1.gguf", home ? home : ".");
}

/* ---------------------------------------------------------------- golden file */

enum { MAXI = 256 };
typedef struct {
    char name[32];
    int chat;
    char text[512], system[512];
    int has_system;
    int prompt[MAXI], n_prompt;
    int gen[MAXI], n_gen;
    int top_id[5];
    double top_logit[5];
    double margin[MAXI];
    int n_margin;
} gcase;

static void unhex(const char *h, char *out, size_t cap) {
    size_t n = 0;
    while (h[0] && h[1] && h[0] != '\n' && n + 1 < cap) {
        unsigned v;
        if (sscanf(h, "%2x", &v) != 1) break;
        out[n++] = (char)v;
        h += 2;
    }
    out[n] = 0;
}

static int read_ints(const char *s, int *out, int cap) {
    int n = 0, k, off;
    if (sscanf(s, "%d%n", &k, &off) != 1 || k > cap) return -1;
    s += off;
    for (int i = 0; i < k; i++) {
        if (sscanf(s, "%d%n", &out[i], &off) != 1) return -1;
        s += off;
        n++;
    }
    return n;
}

static int load_golden(gcase *cs, int cap) {
    FILE *f = fopen(GOLDEN, "r");
    if (!f) return -1;
    static char line[1 << 16];
    int n = -1;
    while (fgets(line, sizeof line, f)) {
        gcase *c = n >= 0 && n < cap ? &cs[n] : NULL;
        if (!strncmp(line, "case ", 5)) {
            if (++n >= cap) break;
            c = &cs[n];
            memset(c, 0, sizeof *c);
            char mode[16] = "";
            sscanf(line + 5, "%31s %15s", c->name, mode);
            c->chat = !strcmp(mode, "chat");
        } else if (!c) {
            continue;
        } else if (!strncmp(line, "text ", 5)) {
            unhex(line + 5, c->text, sizeof c->text);
        } else if (!strncmp(line, "system ", 7)) {
            unhex(line + 7, c->system, sizeof c->system);
            c->has_system = 1;
        } else if (!strncmp(line, "prompt ", 7)) {
            c->n_prompt = read_ints(line + 7, c->prompt, MAXI);
        } else if (!strncmp(line, "gen ", 4)) {
            c->n_gen = read_ints(line + 4, c->gen, MAXI);
        } else if (!strncmp(line, "top5 ", 5)) {
            const char *s = line + 5;
            int off;
            for (int i = 0; i < 5; i++) {
                if (sscanf(s, " %d:%lf%n", &c->top_id[i], &c->top_logit[i], &off) != 2) break;
                s += off;
            }
        } else if (!strncmp(line, "margin ", 7)) {
            const char *s = line + 7;
            int off;
            if (sscanf(s, "%d%n", &c->n_margin, &off) == 1) {
                s += off;
                for (int i = 0; i < c->n_margin && i < MAXI; i++) {
                    if (sscanf(s, "%lf%n", &c->margin[i], &off) != 1) break;
                    s += off;
                }
            }
        }
    }
    fclose(f);
    return n + 1 < cap ? n + 1 : cap;
}

/* ---------------------------------------------------------------- (a) SmolLM2 */

static int argmax_masked(const float *x, int V, int mask) {
    int b = -1;
    for (int i = 0; i < V; i++)
        if (i != mask && (b < 0 || x[i] > x[b])) b = i;
    return b;
}

static void test_smollm2(void) {
    char path[1024];
    smollm2_path(path, sizeof path);
    if (access(path, R_OK)) {
        printf("SKIP: SmolLM2 GGUF not found; run scripts/fetch_models.sh (looked for %s)\n", path);
        return;
    }
    gcase cs[4];
    int nc = load_golden(cs, 4);
    CHECK(nc == 3, "golden cases: %d (%s)", nc, GOLDEN);
    if (nc <= 0) return;

    loaded_model lm;
    rlvr_err e = {0};
    double t0 = now();
    int rc = model_open(path, NULL, &lm, &e);
    double t_open = now() - t0;
    CHECK(rc == RLVR_OK, "open: %s", e.msg);
    if (rc) { loaded_model_free(&lm); return; }
    CHECK(lm.format == LOADED_GGUF && !lm.byte_vocab && lm.tok, "gguf with a BPE");
    CHECK(lm.chat_kind == CHAT_SMOLLM2 && lm.has_chat, "chat kind %d (%s)", lm.chat_kind, lm.chat_note);
    CHECK(lm.bos_id == 1 && lm.eos_id == 2 && lm.eot_id == 2 && !lm.add_bos, "specials bos %d eos %d eot %d add_bos %d",
          lm.bos_id, lm.eos_id, lm.eot_id, lm.add_bos);
    CHECK(loaded_is_stop(&lm, 2) && !loaded_is_stop(&lm, 1) && !loaded_is_stop(&lm, 0), "stop ids");
    static char desc[8192];
    int dn = model_describe(&lm, desc, sizeof desc);
    CHECK(dn > 0 && (size_t)dn < sizeof desc, "describe length %d", dn);
    CHECK(strstr(desc, "Q4_1 x210") && strstr(desc, "F32 x61") && strstr(desc, "Q8_0 x1"), "dtype counts:\n%s", desc);
    CHECK(strstr(desc, "smollm2") && strstr(desc, "<|im_end|>") && strstr(desc, "49152") && strstr(desc, "smollm"),
          "describe:\n%s", desc);

    const model *m = lm.m;
    int V = m->cfg.vocab_size;
    double maxrel = 0;
    t0 = now();
    /* all cases decode together, one slot each: a step reads the weights once */
    int slots[4], n_new[4], packed[4 * MAXI], np = 0, maxlen = 0;
    int match[4] = {0}, first_bad[4] = {-1, -1, -1, -1}, n_gen = 64;
    for (int k = 0; k < nc; k++) {
        gcase *c = &cs[k];
        int ids[MAXI], n = 0;
        rc = loaded_encode_prompt(&lm, c->text, c->chat, c->has_system ? c->system : NULL, ids, MAXI, &n, &e);
        CHECK(rc == RLVR_OK, "%s: encode: %s", c->name, e.msg);
        int same = n == c->n_prompt;
        for (int i = 0; same && i < n; i++) same = ids[i] == c->prompt[i];
        CHECK(same, "%s: prompt ids differ (%d vs %d tokens)", c->name, n, c->n_prompt);
        if (!same) {
            for (int i = 0; i < n && i < 8; i++) fprintf(stderr, " %d", ids[i]);
            fprintf(stderr, "\n");
        }
        CHECK(c->n_gen == n_gen && c->n_prompt > 0, "%s: golden has %d generated ids", c->name, c->n_gen);
        if (c->n_gen != n_gen || c->n_prompt <= 0) { loaded_model_free(&lm); return; }
        /* the rest runs from the golden prompt, so one failure does not hide the next */
        slots[k] = k;
        n_new[k] = c->n_prompt;
        memcpy(packed + np, c->prompt, sizeof(int) * c->n_prompt);
        np += c->n_prompt;
        if (c->n_prompt + n_gen > maxlen) maxlen = c->n_prompt + n_gen;
    }
    decoder *d = decoder_new(m, nc, maxlen, np, &e);
    float *logits = malloc(sizeof(float) * V * nc);
    CHECK(d && logits, "decoder: %s", e.msg);
    rc = d ? decoder_step(d, nc, slots, n_new, packed, logits, &e) : RLVR_ENOMEM;
    CHECK(rc == RLVR_OK, "prefill: %s", e.msg);
    for (int t = 0; !rc && t < n_gen; t++) {
        for (int k = 0; k < nc; k++) {
            gcase *c = &cs[k];
            const float *lg = logits + (size_t)k * V;
            if (t == 0) {
                for (int j = 0; j < 5; j++) {
                    int id = c->top_id[j];
                    CHECK_CLOSE(lg[id], c->top_logit[j], 1e-4, 1e-3, "top5 logit");
                    double r = fabs(lg[id] - c->top_logit[j]) / fabs(c->top_logit[j]);
                    if (r > maxrel) maxrel = r;
                }
                int top[5];
                for (int j = 0; j < 5; j++) {
                    top[j] = -1;
                    for (int i = 0; i < V; i++) {
                        int skip = 0;
                        for (int q = 0; q < j; q++) skip |= top[q] == i;
                        if (!skip && (top[j] < 0 || lg[i] > lg[top[j]])) top[j] = i;
                    }
                }
                CHECK(!memcmp(top, c->top_id, sizeof top), "%s: top-5 ids %d %d %d %d %d", c->name, top[0], top[1],
                      top[2], top[3], top[4]);
            }
            /* min_new_tokens in the reference: EOS is masked until 64 tokens are out */
            int tok = argmax_masked(lg, V, lm.eos_id);
            if (tok == c->gen[t]) match[k]++;
            else if (first_bad[k] < 0) {
                first_bad[k] = t;
                fprintf(stderr, "  %s: step %d: got %d (logit %.6f) want %d (logit %.6f); reference margin %.4g\n",
                        c->name, t, tok, lg[tok], c->gen[t], lg[c->gen[t]], c->margin[t]);
            }
            /* feed the reference token so a divergence is counted, not propagated */
            packed[k] = c->gen[t];
            n_new[k] = 1;
        }
        if (t + 1 < n_gen) rc = decoder_step(d, nc, slots, n_new, packed, logits, &e);
        CHECK(rc == RLVR_OK, "step %d: %s", t, e.msg);
    }
    for (int k = 0; k < nc; k++) {
        CHECK(match[k] == n_gen, "%s: %d/%d greedy tokens match (first mismatch at %d)", cs[k].name, match[k], n_gen,
              first_bad[k]);
        printf("     %s: %d prompt tokens, %d/%d greedy tokens match\n", cs[k].name, cs[k].n_prompt, match[k], n_gen);
    }
    char text[1024];   /* the plain case decodes to the text transformers gave */
    long tl = loaded_decode(&lm, cs[0].gen, 8, text, sizeof text);
    CHECK(tl > 0 && !strncmp(text, " Paris.", 7), "decode: '%s'", tl > 0 ? text : "");
    decoder_free(d);
    free(logits);
    printf("     open %.2f s, prompts + generation %.2f s, top-5 logits max rel err %.2g\n", t_open, now() - t0, maxrel);
    fflush(stdout);
    loaded_model_free(&lm);
    CHECK(lm.m == NULL && lm.tok == NULL, "free zeroes");
    loaded_model_free(&lm);   /* twice is fine */
    loaded_model_free(NULL);
}

/* A GGUF that is only a SmolLM2 header with its tokenizer swapped for "llama". */
static void write_gguf(const char *path, const char *tok_model, int with_tok) {
    FILE *f = fopen(path, "wb");
    uint32_t u32;
    uint64_t u64;
#define W32(v) (u32 = (v), fwrite(&u32, 4, 1, f))
#define W64(v) (u64 = (v), fwrite(&u64, 8, 1, f))
#define WSTR(s) (W64(strlen(s)), fwrite(s, 1, strlen(s), f))
    fwrite("GGUF", 1, 4, f);
    W32(3); W64(0); W64(with_tok ? 2 : 1);
    WSTR("general.architecture"); W32(GGUF_TYPE_STRING); WSTR("llama");
    if (with_tok) { WSTR("tokenizer.ggml.model"); W32(GGUF_TYPE_STRING); WSTR(tok_model); }
    fclose(f);
#undef W32
#undef W64
#undef WSTR
}

/* ---------------------------------------------------------------- (b) built here */

static model *tiny(int vocab, uint64_t seed) {
    model_config c = {0};
    snprintf(c.arch, sizeof c.arch, "llama");
    c.vocab_size = vocab; c.dim = 16; c.hidden_dim = 32; c.n_layers = 1; c.n_heads = 2; c.n_kv_heads = 1;
    c.head_dim = 8; c.max_seq_len = 64; c.norm_eps = 1e-5f; c.rope_theta = 10000; c.tie_embeddings = 1;
    c.bos_id = vocab == BYTES_VOCAB ? BYTES_BOS : -1;
    c.eos_id = vocab == BYTES_VOCAB ? BYTES_EOS : -1;
    rlvr_err e = {0};
    model *m = model_new(&c, &e);
    if (!m) { fprintf(stderr, "model_new: %s\n", e.msg); exit(2); }
    model_init_random(m, seed, 0.02f);
    return m;
}

static void test_byte_dir(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/bytes", tmpdir);
    model *m = tiny(BYTES_VOCAB, 7);
    rlvr_err e = {0};
    CHECK(model_save_hf(m, dir, NULL, &e) == RLVR_OK, "save: %s", e.msg);
    loaded_model lm;
    int rc = model_open(dir, NULL, &lm, &e);
    CHECK(rc == RLVR_OK, "open: %s", e.msg);
    if (!rc) {
        CHECK(lm.byte_vocab && !lm.tok && lm.format == LOADED_HF_DIR, "byte vocab");
        CHECK(lm.bos_id == BYTES_BOS && lm.eos_id == BYTES_EOS && lm.add_bos && !lm.has_chat, "byte specials");
        CHECK(lm.m->n_params == m->n_params && !memcmp(lm.m->params, m->params, sizeof(float) * m->n_params), "weights");
        int ids[16], n = 0;
        CHECK(loaded_encode_prompt(&lm, "hi", 0, NULL, ids, 16, &n, &e) == RLVR_OK && n == 3 && ids[0] == BYTES_BOS &&
              ids[1] == 'h' && ids[2] == 'i', "byte encode n=%d", n);
        CHECK(loaded_encode_prompt(&lm, "hi", 0, NULL, ids, 2, &n, &e) == RLVR_EARG && n == 3, "cap too small");
        CHECK(loaded_encode_prompt(&lm, "hi", 1, NULL, ids, 16, &n, &e) == RLVR_EUNSUPPORTED && strstr(e.msg, "chat=false"),
              "chat on bytes: %s", e.msg);
        CHECK(loaded_is_stop(&lm, BYTES_EOS) && !loaded_is_stop(&lm, 'a'), "byte stop");
        char text[16];
        CHECK(loaded_decode(&lm, ids, 3, text, sizeof text) == 2 && !strcmp(text, "hi"), "byte decode");
        char desc[4096];
        model_describe(&lm, desc, sizeof desc);
        CHECK(strstr(desc, "bytes") && strstr(desc, "F32 x") && strstr(desc, "chat template:  none"), "describe:\n%s", desc);
        /* a truncated describe still says how much it needs */
        char small[10];
        CHECK(model_describe(&lm, small, sizeof small) == (int)strlen(desc) && strlen(small) == 9, "truncated describe");
    }
    loaded_model_free(&lm);
    CHECK(model_open(dir, "chatml", &lm, &e) == RLVR_EUNSUPPORTED, "chat override on bytes: %s", e.msg);
    loaded_model_free(&lm);
    model_free(m);
}

static void test_missing_tokenizer(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/notok", tmpdir);
    model *m = tiny(300, 8);
    rlvr_err e = {0};
    CHECK(model_save_hf(m, dir, NULL, &e) == RLVR_OK, "save: %s", e.msg);
    loaded_model lm;
    int rc = model_open(dir, NULL, &lm, &e);
    CHECK(rc != RLVR_OK && strstr(e.msg, "tokenizer.json is missing") && strstr(e.msg, "300"), "missing: %d %s", rc, e.msg);
    loaded_model_free(&lm);
    model_free(m);
}

static int write_text(const char *path, const char *text) {
    rlvr_err e = {0};
    return fs_write_atomic(path, text, strlen(text), &e);
}

/* A BPE directory: SmolLM2's tokenizer.json with a tiny model of its vocabulary size,
 * tokenizer_config.json naming the special tokens and the chat template. */
static void test_bpe_dir(void) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/bpe", tmpdir);
    model *m = tiny(49152, 9);
    rlvr_err e = {0};
    CHECK(model_save_hf(m, dir, NULL, &e) == RLVR_OK, "save: %s", e.msg);
    char *tj = NULL, *jinja = NULL;
    size_t n_tj = 0;
    CHECK(fs_read_all("tests/data/tokenizer/smollm2/tokenizer.json", 64 << 20, &tj, &n_tj, &e) == RLVR_OK, "%s", e.msg);
    CHECK(fs_read_all("tests/data/tokenizer/chat/smollm2.jinja", 1 << 20, &jinja, NULL, &e) == RLVR_OK, "%s", e.msg);
    if (!tj || !jinja) { free(tj); free(jinja); model_free(m); return; }
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    CHECK(fs_write_atomic(path, tj, n_tj, &e) == RLVR_OK, "%s", e.msg);
    /* tokenizer_config.json with the template as a JSON string */
    size_t cap = strlen(jinja) * 2 + 256, k = 0;
    char *cfg = malloc(cap);
    k += (size_t)snprintf(cfg + k, cap - k, "{\"bos_token\": \"<|im_start|>\", \"eos_token\": {\"content\": \"<|im_end|>\"}, \"chat_template\": \"");
    for (const char *p = jinja; *p; p++) {
        if (*p == '"' || *p == '\\') cfg[k++] = '\\', cfg[k++] = *p;
        else if (*p == '\n') cfg[k++] = '\\', cfg[k++] = 'n';
        else cfg[k++] = *p;
    }
    snprintf(cfg + k, cap - k, "\"}");
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    CHECK(write_text(path, cfg) == 0, "write config");

    loaded_model lm;
    int rc = model_open(dir, NULL, &lm, &e);
    CHECK(rc == RLVR_OK, "open bpe dir: %s", e.msg);
    if (!rc) {
        CHECK(lm.tok && !lm.byte_vocab && lm.chat_kind == CHAT_SMOLLM2, "kind %d (%s)", lm.chat_kind, lm.chat_note);
        CHECK(!strcmp(lm.chat_source, "tokenizer_config.json"), "source %s", lm.chat_source);
        CHECK(lm.bos_id == 1 && lm.eos_id == 2 && lm.eot_id == 2 && !lm.add_bos, "specials %d %d %d %d", lm.bos_id,
              lm.eos_id, lm.eot_id, lm.add_bos);
        int ids[128], n = 0;
        /* the golden chat_math prompt: the same ids through tokenizer.json */
        static const int want[] = {1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411,
                                   407, 19712, 8182, 2, 198, 1, 4093, 198, 1780, 314, 216, 33, 39, 1672, 216, 34, 35, 47,
                                   19842, 351, 915, 260, 1230, 30, 2, 198, 1, 520, 9531, 198};
        rc = loaded_encode_prompt(&lm, "What is 17 * 23? Answer with just the number.", 1, NULL, ids, 128, &n, &e);
        CHECK(rc == RLVR_OK && n == (int)(sizeof want / sizeof *want) && !memcmp(ids, want, sizeof want), "chat ids n=%d %s",
              n, e.msg);
        /* plain: special-token text is NOT parsed, as HF's tokenizer(text) */
        rc = loaded_encode_prompt(&lm, "<|im_end|>", 0, NULL, ids, 128, &n, &e);
        CHECK(rc == RLVR_OK && n > 1, "plain does not parse specials: n=%d", n);
    }
    loaded_model_free(&lm);
    /* a bad override name is refused; a good one wins over the file */
    CHECK(model_open(dir, "vicuna", &lm, &e) == RLVR_ECONFIG && strstr(e.msg, "vicuna"), "bad override: %s", e.msg);
    loaded_model_free(&lm);
    rc = model_open(dir, "chatml", &lm, &e);
    CHECK(rc == RLVR_OK && lm.chat_kind == CHAT_CHATML && strstr(lm.chat_source, "chatml"), "override: %s", e.msg);
    loaded_model_free(&lm);

    /* an unknown template: opens, chat mode then says how to pick one */
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    write_text(path, "{\"chat_template\": \"{{ messages }} [INST]\"}");
    rc = model_open(dir, NULL, &lm, &e);
    CHECK(rc == RLVR_OK && !lm.has_chat && lm.chat_kind == 0, "unknown template opens: %s", e.msg);
    if (!rc) {
        int ids[64], n;
        rc = loaded_encode_prompt(&lm, "hi", 1, NULL, ids, 64, &n, &e);
        CHECK(rc == RLVR_ECONFIG && strstr(e.msg, "chat_template=") && strstr(e.msg, "chat=false"), "chat error: %s", e.msg);
    }
    loaded_model_free(&lm);

    /* a Llama-3 style post-processor puts BOS before plain prompts; add_bos_token=false undoes it */
    const char *pp = "\"post_processor\":null";
    char *at = strstr(tj, pp);
    CHECK(at != NULL, "tokenizer.json has a null post_processor");
    if (at) {
        const char *tp = "\"post_processor\": {\"type\": \"Sequence\", \"processors\": [{\"type\": \"ByteLevel\"}, "
                         "{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<|im_start|>\", "
                         "\"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": [], "
                         "\"special_tokens\": {\"<|im_start|>\": {\"id\": \"<|im_start|>\", \"ids\": [1], "
                         "\"tokens\": [\"<|im_start|>\"]}}}]}";
        size_t pre = (size_t)(at - tj), rest = n_tj - pre - strlen(pp);
        char *t2 = malloc(n_tj + strlen(tp) + 1);
        memcpy(t2, tj, pre);
        memcpy(t2 + pre, tp, strlen(tp));
        memcpy(t2 + pre + strlen(tp), at + strlen(pp), rest);
        snprintf(path, sizeof path, "%s/tokenizer.json", dir);
        fs_write_atomic(path, t2, pre + strlen(tp) + rest, &e);
        free(t2);
        snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
        unlink(path);
        rc = model_open(dir, NULL, &lm, &e);
        int ids[64], n = 0;
        CHECK(rc == RLVR_OK && lm.add_bos && lm.bos_id == 1, "template bos: %s", e.msg);
        if (!rc) {
            rc = loaded_encode_prompt(&lm, "Hi", 0, NULL, ids, 64, &n, &e);
            CHECK(rc == RLVR_OK && n == 2 && ids[0] == 1, "bos prepended: n=%d", n);
            rc = loaded_encode_prompt(&lm, "Hi", 0, NULL, ids, 1, &n, &e);
            CHECK(rc == RLVR_EARG && n == 2, "cap 1: n=%d", n);
        }
        loaded_model_free(&lm);
        write_text(path, "{\"add_bos_token\": false}");
        rc = model_open(dir, NULL, &lm, &e);
        CHECK(rc == RLVR_OK && !lm.add_bos, "add_bos_token=false: %s", e.msg);
        loaded_model_free(&lm);
    }
    free(cfg); free(tj); free(jinja);
    model_free(m);
}

static void test_refusals(void) {
    char path[512];
    loaded_model lm;
    rlvr_err e = {0};
    snprintf(path, sizeof path, "%s/sp.gguf", tmpdir);
    write_gguf(path, "llama", 1);
    int rc = model_open(path, NULL, &lm, &e);
    CHECK(rc == RLVR_EUNSUPPORTED && strstr(e.msg, "tokenizer.ggml.model") && strstr(e.msg, "llama"), "sp gguf: %d %s", rc,
          e.msg);
    loaded_model_free(&lm);
    write_gguf(path, "", 0);
    rc = model_open(path, NULL, &lm, &e);
    CHECK(rc == RLVR_EUNSUPPORTED && strstr(e.msg, "tokenizer.ggml.model"), "no tokenizer: %s", e.msg);
    loaded_model_free(&lm);
    CHECK(model_open("/nonexistent/x.gguf", NULL, &lm, &e) == RLVR_EIO && strstr(e.msg, "/nonexistent"), "%s", e.msg);
    loaded_model_free(&lm);
    snprintf(path, sizeof path, "%s/x.bin", tmpdir);
    write_text(path, "hello");
    CHECK(model_open(path, NULL, &lm, &e) == RLVR_EUNSUPPORTED && strstr(e.msg, ".gguf"), "%s", e.msg);
    loaded_model_free(&lm);
    CHECK(model_open(tmpdir, NULL, &lm, &e) == RLVR_EIO && strstr(e.msg, "config.json"), "%s", e.msg);
    loaded_model_free(&lm);
    CHECK(model_open("", NULL, &lm, &e) == RLVR_EARG, "empty path");
    loaded_model_free(&lm);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rlvr_test_load.%d", (int)getpid());
    mkdir(tmpdir, 0755);
    RUN(test_byte_dir);
    RUN(test_missing_tokenizer);
    RUN(test_bpe_dir);
    RUN(test_refusals);
    RUN(test_smollm2);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_finish("test_load");
}
