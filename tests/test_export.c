/* test_export.c: model_export_hf / model_export_gguf and sharded loading. Tiny random
 * models (llama GQA untied with Llama 3 rope scaling, qwen2 biases tied, qwen3 q/k
 * norm with head_dim != C/H) on the byte vocabulary go out as HF (F32/BF16/F16) and
 * GGUF (F32/F16/BF16) and come back through model_open bit-identical (F32) or within
 * 16-bit rounding; sharded directories load bit-identically and hostile indexes fail
 * with clear errors. With SmolLM2-135M-Instruct Q4_1 present, its export to HF and
 * GGUF reopens with the same parameters and tokenizer. RLVR_KEEP_EXPORT=dir keeps the
 * SmolLM2 exports and the logits rlvr computes for tests/ref/check_export.py. */
#include <stdint.h>
#include <unistd.h>
#include <sys/stat.h>
#include "check.h"
#include "core/err.h"
#include "core/fs.h"
#include "formats/dtype.h"
#include "formats/gguf.h"
#include "formats/hfconfig.h"
#include "formats/safetensors.h"
#include "model/decode.h"
#include "model/export.h"
#include "model/io.h"
#include "model/load.h"
#include "model/shards.h"

static char tmp[256];

static const char *P(const char *name) {   /* tmp/name, from a rotating set of buffers */
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmp, name);
    return buf[k];
}

static int cfg_equal(const model_config *a, const model_config *b) {
    int ok = !strcmp(a->arch, b->arch) && a->vocab_size == b->vocab_size && a->dim == b->dim &&
             a->hidden_dim == b->hidden_dim && a->n_layers == b->n_layers && a->n_heads == b->n_heads &&
             a->n_kv_heads == b->n_kv_heads && a->head_dim == b->head_dim && a->max_seq_len == b->max_seq_len &&
             a->norm_eps == b->norm_eps && a->rope_theta == b->rope_theta && a->rope_scaling == b->rope_scaling &&
             a->tie_embeddings == b->tie_embeddings && a->qkv_bias == b->qkv_bias && a->qk_norm == b->qk_norm &&
             a->bos_id == b->bos_id && a->eos_id == b->eos_id;
    if (ok && a->rope_scaling == ROPE_SCALING_LLAMA3)
        ok = a->rope_factor == b->rope_factor && a->rope_low_freq_factor == b->rope_low_freq_factor &&
             a->rope_high_freq_factor == b->rope_high_freq_factor && a->rope_orig_max_pos == b->rope_orig_max_pos;
    return ok;
}

static model_config tiny(const char *arch) {
    model_config c = {0};
    snprintf(c.arch, sizeof c.arch, "%s", arch);
    c.vocab_size = 258; c.dim = 32; c.hidden_dim = 48; c.n_layers = 2; c.n_heads = 4; c.n_kv_heads = 2;
    c.head_dim = 8; c.max_seq_len = 64; c.norm_eps = 1e-5f; c.rope_theta = 10000; c.bos_id = 256; c.eos_id = 257;
    if (!strcmp(arch, "llama")) {
        c.rope_theta = 500000; c.rope_scaling = ROPE_SCALING_LLAMA3; c.rope_factor = 8;
        c.rope_low_freq_factor = 1; c.rope_high_freq_factor = 4; c.rope_orig_max_pos = 8192;
    }
    if (!strcmp(arch, "qwen2")) { c.tie_embeddings = 1; c.qkv_bias = 1; c.n_kv_heads = 1; }
    if (!strcmp(arch, "qwen3")) { c.qk_norm = 1; c.head_dim = 16; c.tie_embeddings = 1; }
    return c;
}

static model *random_model(const char *arch, uint64_t seed) {
    model_config c = tiny(arch);
    rlvr_err e = {0};
    model *m = model_new(&c, &e);
    CHECK(m, "model_new %s: %s", arch, e.msg);
    if (!m) return NULL;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < m->n_params; i++) {   /* every value distinct-ish, norms included */
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        m->params[i] = (float)((double)(s >> 11) / (double)(1ull << 53) * 2 - 1);
    }
    return m;
}

static int params_equal(const model *a, const model *b) {
    return a->n_params == b->n_params && !memcmp(a->params, b->params, a->n_params * sizeof(float));
}

/* every parameter of b equals a's rounded to dtype (16-bit) */
static int params_rounded(const model *a, const model *b, int dtype, int norms_f32) {
    if (a->n_params != b->n_params) return 0;
    for (int t = 0; t < a->n_tensors; t++) {
        const tensor_info *ti = &a->tensors[t];
        for (size_t i = 0; i < ti->numel; i++) {
            float x = a->params[ti->offset + i], y = b->params[ti->offset + i], want = x;
            if (!(norms_f32 && ti->ndim == 1))
                want = dtype == ST_BF16 ? dtype_bf16_to_f32(dtype_f32_to_bf16(x)) : dtype_f16_to_f32(dtype_f32_to_f16(x));
            if (memcmp(&want, &y, 4)) {
                fprintf(stderr, "  %s[%zu]: got %.9g want %.9g\n", ti->name, i, y, want);
                return 0;
            }
        }
    }
    return 1;
}

static int files_equal(const char *a, const char *b) {
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    int eq = !fs_read_all(a, 1 << 30, &x, &nx, NULL) && !fs_read_all(b, 1 << 30, &y, &ny, NULL) && nx == ny && !memcmp(x, y, nx);
    free(x); free(y);
    return eq;
}

/* ---------------------------------------------------------------- tiny round trips */

static void roundtrip_arch(const char *arch) {
    rlvr_err e = {0};
    model *m = random_model(arch, 7);
    if (!m) return;
    char src[64], name[64];
    snprintf(src, sizeof src, "%s-src", arch);
    CHECK(!model_save_hf(m, P(src), NULL, &e), "save: %s", e.msg);
    loaded_model lm, back;
    CHECK(!model_open(P(src), NULL, &lm, &e), "open src: %s", e.msg);
    if (!lm.m) { model_free(m); return; }

    /* HF F32 and GGUF F32: bit-identical, same config, same token ids */
    snprintf(name, sizeof name, "%s-hf32", arch);
    CHECK(!model_export_hf(&lm, P(name), ST_F32, &e), "export hf %s: %s", arch, e.msg);
    CHECK(!model_open(P(name), NULL, &back, &e), "reopen hf %s: %s", arch, e.msg);
    if (back.m) {
        CHECK(params_equal(m, back.m), "%s: HF F32 params differ", arch);
        CHECK(cfg_equal(&m->cfg, &back.m->cfg), "%s: HF config differs", arch);
        CHECK(back.byte_vocab, "%s: HF export lost the byte vocabulary", arch);
    }
    loaded_model_free(&back);
    snprintf(name, sizeof name, "%s-32.gguf", arch);
    CHECK(!model_export_gguf(&lm, P(name), ST_F32, &e), "export gguf %s: %s", arch, e.msg);
    CHECK(!model_open(P(name), NULL, &back, &e), "reopen gguf %s: %s", arch, e.msg);
    if (back.m) {
        CHECK(params_equal(m, back.m), "%s: GGUF F32 params differ", arch);
        CHECK(cfg_equal(&m->cfg, &back.m->cfg), "%s: GGUF config differs (rope %d/%g/%g/%g/%d)", arch,
              back.m->cfg.rope_scaling, back.m->cfg.rope_factor, back.m->cfg.rope_low_freq_factor,
              back.m->cfg.rope_high_freq_factor, back.m->cfg.rope_orig_max_pos);
        const char *texts[] = {"hello world 123", "caf\xc3\xa9  \n\tx"};
        for (int i = 0; i < 2; i++) {
            int a[64], b[64], na = 0, nb = 0;
            CHECK(!loaded_encode_prompt(&lm, texts[i], 0, NULL, a, 64, &na, &e), "%s", e.msg);
            CHECK(!loaded_encode_prompt(&back, texts[i], 0, NULL, b, 64, &nb, &e), "%s", e.msg);
            CHECK(na == nb && !memcmp(a, b, sizeof(int) * (size_t)na), "%s: GGUF byte tokenizer encodes \"%s\" differently", arch, texts[i]);
        }
        CHECK(back.bos_id == 256 && back.eos_id == 257 && back.add_bos, "%s: specials %d %d %d", arch, back.bos_id, back.eos_id, back.add_bos);
    }
    loaded_model_free(&back);

    /* 16-bit: values round to nearest even; exporting the rounded model again is stable */
    const int dts[2] = {ST_BF16, ST_F16};
    for (int k = 0; k < 2; k++) {
        const char *dn = st_dtype_name(dts[k]);
        snprintf(name, sizeof name, "%s-hf%s", arch, dn);
        CHECK(!model_export_hf(&lm, P(name), dts[k], &e), "export hf %s %s: %s", arch, dn, e.msg);
        CHECK(!model_open(P(name), NULL, &back, &e), "reopen hf %s %s: %s", arch, dn, e.msg);
        if (back.m) {
            CHECK(params_rounded(m, back.m, dts[k], 0), "%s: HF %s params are not the rounded originals", arch, dn);
            char again[64], f1[600], f2[600];
            snprintf(again, sizeof again, "%s-hf%s-again", arch, dn);
            CHECK(!model_export_hf(&back, P(again), dts[k], &e), "re-export: %s", e.msg);
            snprintf(f1, sizeof f1, "%s/model.safetensors", P(name));
            snprintf(f2, sizeof f2, "%s/model.safetensors", P(again));
            CHECK(files_equal(f1, f2), "%s: %s export of the %s-loaded model is not byte-identical", arch, dn, dn);
        }
        loaded_model_free(&back);
        snprintf(name, sizeof name, "%s-%s.gguf", arch, dn);
        CHECK(!model_export_gguf(&lm, P(name), dts[k], &e), "export gguf %s %s: %s", arch, dn, e.msg);
        CHECK(!model_open(P(name), NULL, &back, &e), "reopen gguf %s %s: %s", arch, dn, e.msg);
        if (back.m) {
            CHECK(params_rounded(m, back.m, dts[k], 1), "%s: GGUF %s params are not the rounded originals", arch, dn);
            char again[64];
            snprintf(again, sizeof again, "%s-%s-again.gguf", arch, dn);
            CHECK(!model_export_gguf(&back, P(again), dts[k], &e), "re-export: %s", e.msg);
            CHECK(files_equal(P(name), P(again)), "%s: GGUF %s re-export is not byte-identical", arch, dn);
        }
        loaded_model_free(&back);
    }
    CHECK(model_export_hf(&lm, P(src), ST_F32, &e) == RLVR_EARG, "export over the source must be refused");
    CHECK(model_export_hf(&lm, P("x"), ST_I32, &e) == RLVR_EARG, "I32 export must be refused");
    CHECK(model_export_gguf(&lm, P("x.gguf"), ST_F64, &e) == RLVR_EARG, "F64 gguf must be refused");
    loaded_model_free(&lm);
    model_free(m);
}

static void test_roundtrip_llama(void) { roundtrip_arch("llama"); }
static void test_roundtrip_qwen2(void) { roundtrip_arch("qwen2"); }
static void test_roundtrip_qwen3(void) { roundtrip_arch("qwen3"); }

/* ---------------------------------------------------------------- shards */

/* Writes m's tensors into n_shards files dir/model-0000k-of-0000n.safetensors
 * (round-robin) and an index whose weight_map is given by `map` (NULL: the true one). */
static void write_shards(const model *m, const char *dir, int n_shards) {
    rlvr_err e = {0};
    fs_mkdir_p(dir, &e);
    char path[700], cfgp[700];
    snprintf(cfgp, sizeof cfgp, "%s/config.json", dir);
    CHECK(!hfconfig_save(cfgp, &m->cfg, &e), "%s", e.msg);
    st_out *t = calloc((size_t)m->n_tensors, sizeof *t);
    for (int s = 0; s < n_shards; s++) {
        int n = 0;
        for (int i = s; i < m->n_tensors; i += n_shards) {
            const tensor_info *ti = &m->tensors[i];
            t[n] = (st_out){ti->name, ST_F32, ti->ndim, {ti->shape[0], ti->shape[1]}, m->params + ti->offset};
            n++;
        }
        snprintf(path, sizeof path, "%s/model-%05d-of-%05d.safetensors", dir, s + 1, n_shards);
        CHECK(!st_write(path, t, n, NULL, &e), "%s", e.msg);
    }
    free(t);
}

static void write_index(const model *m, const char *dir, int n_shards, const char *override_name, const char *override_file,
                        const char *raw) {
    char path[700];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    size_t cap = 1 << 16, at = 0;
    char *j = malloc(cap);
    if (raw) at = (size_t)snprintf(j, cap, "%s", raw);
    else {
        at += (size_t)snprintf(j + at, cap - at, "{\"metadata\": {\"total_size\": %zu}, \"weight_map\": {", m->n_params * 4);
        for (int i = 0; i < m->n_tensors; i++) {
            const char *name = m->tensors[i].name;
            char file[64];
            snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", i % n_shards + 1, n_shards);
            if (override_name && !strcmp(name, override_name)) {
                if (!override_file) continue;                  /* dropped */
                at += (size_t)snprintf(j + at, cap - at, "%s\"%s\": \"%s\"", i ? ", " : "", name, override_file);
                continue;
            }
            at += (size_t)snprintf(j + at, cap - at, "%s\"%s\": \"%s\"", i ? ", " : "", name, file);
        }
        at += (size_t)snprintf(j + at, cap - at, "}}");
    }
    rlvr_err e = {0};
    CHECK(!fs_write_atomic(path, j, at, &e), "%s", e.msg);
    free(j);
}

static int load_dir_expect(const model *ref, const char *dir, int want_rc, const char *want_msg) {
    rlvr_err e = {0};
    model *m = model_new(&ref->cfg, &e);
    int rc = model_load_params_dir(m, dir, &e);
    int ok = rc == want_rc && (!want_msg || strstr(e.msg, want_msg)) && (rc || params_equal(ref, m));
    if (!ok) fprintf(stderr, "  %s: rc %d (want %d): %s\n", dir, rc, want_rc, e.msg);
    model_free(m);
    return ok;
}

static void test_shards(void) {
    model *m = random_model("llama", 11);
    if (!m) return;
    const char *d3 = P("sh3"), *d2 = P("sh2");
    write_shards(m, d3, 3);
    write_index(m, d3, 3, NULL, NULL, NULL);
    CHECK(load_dir_expect(m, d3, RLVR_OK, NULL), "3 shards load bit-identically");
    write_shards(m, d2, 2);
    write_index(m, d2, 2, NULL, NULL, NULL);
    CHECK(load_dir_expect(m, d2, RLVR_OK, NULL), "2 shards load bit-identically");
    /* a single file wins when both are there */
    rlvr_err e = {0};
    CHECK(!model_save_hf(m, d2, NULL, &e), "%s", e.msg);
    CHECK(load_dir_expect(m, d2, RLVR_OK, NULL), "single file beside an index");

    const char *name = m->tensors[4].name;   /* in shard 2 of 3 (round-robin) */
    write_index(m, d3, 3, name, "../x.safetensors", NULL);
    CHECK(load_dir_expect(m, d3, RLVR_EFORMAT, "file name inside the directory"), "path traversal refused");
    write_index(m, d3, 3, name, "/etc/passwd", NULL);
    CHECK(load_dir_expect(m, d3, RLVR_EFORMAT, "file name inside the directory"), "absolute path refused");
    write_index(m, d3, 3, name, "..", NULL);
    CHECK(load_dir_expect(m, d3, RLVR_EFORMAT, "file name inside the directory"), "'..' refused");
    write_index(m, d3, 3, name, NULL, NULL);
    CHECK(load_dir_expect(m, d3, RLVR_EFORMAT, "is not in weight_map"), "missing tensor refused");
    write_index(m, d3, 3, name, "model-00009-of-00009.safetensors", NULL);
    CHECK(load_dir_expect(m, d3, RLVR_EIO, "model-00009-of-00009.safetensors"), "missing shard refused");
    write_index(m, d3, 3, name, "model-00001-of-00003.safetensors", NULL);
    CHECK(load_dir_expect(m, d3, RLVR_EFORMAT, "does not hold it"), "tensor mapped to the wrong shard refused");
    write_index(m, d3, 3, NULL, NULL, "[1, 2]");
    CHECK(load_dir_expect(m, d3, RLVR_EFORMAT, "not a JSON object"), "array index refused");
    write_index(m, d3, 3, NULL, NULL, "{\"weight_map\": [1]}");
    CHECK(load_dir_expect(m, d3, RLVR_EFORMAT, "weight_map"), "weight_map not an object refused");
    write_index(m, d3, 3, NULL, NULL, "{\"weight_map\": {\"lm_head.weight\": 5}}");
    CHECK(load_dir_expect(m, d3, RLVR_EFORMAT, "file name inside"), "non-string shard refused");
    write_index(m, d3, 3, NULL, NULL, "{\"weight_map\": ");
    CHECK(load_dir_expect(m, d3, RLVR_EFORMAT, "not valid JSON"), "truncated JSON refused");
    char dup[512];
    snprintf(dup, sizeof dup, "{\"weight_map\": {\"%s\": \"model-00001-of-00003.safetensors\", \"%s\": "
             "\"model-00001-of-00003.safetensors\"}}", name, name);
    write_index(m, d3, 3, NULL, NULL, dup);
    CHECK(load_dir_expect(m, d3, RLVR_EFORMAT, "mapped twice"), "duplicate mapping refused");
    CHECK(load_dir_expect(m, P("nothing-here"), RLVR_EIO, "neither"), "no weights at all");

    /* generation_config.json eos ids */
    int ids[4], n = -1;
    CHECK(!hf_generation_eos(d3, ids, 4, &n, &e) && n == 0, "no generation_config: n=%d", n);
    char gp[700];
    snprintf(gp, sizeof gp, "%s/generation_config.json", d3);
    fs_write_atomic(gp, "{\"eos_token_id\": 7}", 19, &e);
    CHECK(!hf_generation_eos(d3, ids, 4, &n, &e) && n == 1 && ids[0] == 7, "int eos");
    fs_write_atomic(gp, "{\"eos_token_id\": [2, 5, 9]}", 27, &e);
    CHECK(!hf_generation_eos(d3, ids, 4, &n, &e) && n == 3 && ids[0] == 2 && ids[2] == 9, "list eos");
    fs_write_atomic(gp, "{\"eos_token_id\": [2, -1]}", 25, &e);
    CHECK(hf_generation_eos(d3, ids, 4, &n, &e) == RLVR_EFORMAT, "negative eos refused");
    fs_write_atomic(gp, "{\"eos_token_id\": null}", 22, &e);
    CHECK(!hf_generation_eos(d3, ids, 4, &n, &e) && n == 0, "null eos");
    model_free(m);
}

/* ---------------------------------------------------------------- SmolLM2 */

static void smollm2_path(char *path, size_t cap) {
    const char *dir = getenv("RLVR_MODELS_DIR"), *home = getenv("HOME");
    if (dir && *dir) snprintf(path, cap, "%s/SmolLM2-135M-Instruct.Q4_1.gguf", dir);
    else snprintf(path, cap, "%s/.cache/rlvr/models/SmolLM2-135M-Instruct.Q4_1.gguf", home ? home : ".");
}

static const char *const TEXTS[] = {
    "The capital of France is", "What is 17 * 23? Answer with 391.", "  leading spaces\n\nand\ttabs 2024-01-01",
    "caf\xc3\xa9 na\xc3\xafve \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80", "<|im_start|>user\nhi<|im_end|>",
};

static void same_tokens(const loaded_model *a, const loaded_model *b, const char *what) {
    rlvr_err e = {0};
    for (size_t i = 0; i < sizeof TEXTS / sizeof *TEXTS; i++)
        for (int chat = 0; chat < 2; chat++) {
            int x[256], y[256], nx = 0, ny = 0;
            int ra = loaded_encode_prompt(a, TEXTS[i], chat, NULL, x, 256, &nx, &e);
            int rb = loaded_encode_prompt(b, TEXTS[i], chat, NULL, y, 256, &ny, &e);
            CHECK(!ra && !rb && nx == ny && !memcmp(x, y, sizeof(int) * (size_t)nx), "%s: \"%s\" (chat %d) encodes differently "
                  "(%d vs %d ids): %s", what, TEXTS[i], chat, nx, ny, e.msg);
        }
    CHECK(a->bos_id == b->bos_id && a->eos_id == b->eos_id && a->eot_id == b->eot_id && a->add_bos == b->add_bos &&
          a->chat_kind == b->chat_kind, "%s: specials differ: bos %d/%d eos %d/%d eot %d/%d add_bos %d/%d chat %d/%d", what,
          a->bos_id, b->bos_id, a->eos_id, b->eos_id, a->eot_id, b->eot_id, a->add_bos, b->add_bos, a->chat_kind, b->chat_kind);
    char s1[256], s2[256];
    int ids[3] = {a->bos_id, 1000, a->eos_id};
    long n1 = loaded_decode(a, ids, 3, s1, sizeof s1), n2 = loaded_decode(b, ids, 3, s2, sizeof s2);
    CHECK(n1 >= 0 && n1 == n2 && !memcmp(s1, s2, (size_t)n1), "%s: decode differs", what);
}

/* Logits at every position of the plain prompt TEXTS[0] (BOS-less, as SmolLM2 adds
 * none), written with the ids as dir/rlvr_logits.safetensors for check_export.py. */
static void dump_logits(const loaded_model *lm, const char *dir) {
    rlvr_err e = {0};
    int ids[64], n = 0;
    if (loaded_encode_prompt(lm, TEXTS[0], 0, NULL, ids, 64, &n, &e)) return;
    int V = lm->m->cfg.vocab_size;
    float *lg = malloc(sizeof(float) * (size_t)V * (size_t)n);
    decoder *d = decoder_new(lm->m, 1, 64, 64, &e);
    int slot = 0, one = 1, ok = d != NULL;
    for (int t = 0; t < n && ok; t++) ok = !decoder_step(d, 1, &slot, &one, ids + t, lg + (size_t)t * V, &e);
    CHECK(ok, "logits: %s", e.msg);
    if (ok) {
        st_out o[2] = {{"ids", ST_I32, 1, {n}, ids}, {"logits", ST_F32, 2, {n, V}, lg}};
        char path[1200];
        snprintf(path, sizeof path, "%s/rlvr_logits.safetensors", dir);
        CHECK(!st_write(path, o, 2, NULL, &e), "%s", e.msg);
    }
    decoder_free(d);
    free(lg);
}

static void test_smollm2(void) {
    char path[1024];
    smollm2_path(path, sizeof path);
    if (!fs_exists(path)) { printf("SKIP: SmolLM2 GGUF not found (%s); run scripts/fetch_models.sh\n", path); return; }
    const char *keep = getenv("RLVR_KEEP_EXPORT");
    char dir[600], hf[700], gg[700];
    snprintf(dir, sizeof dir, "%s", keep && *keep ? keep : tmp);
    snprintf(hf, sizeof hf, "%s/smollm2-hf", dir);
    snprintf(gg, sizeof gg, "%s/smollm2-f32.gguf", dir);
    rlvr_err e = {0};
    if (keep && *keep) fs_mkdir_p(keep, &e);
    loaded_model lm, a, b;
    CHECK(!model_open(path, NULL, &lm, &e), "open: %s", e.msg);
    if (!lm.m) return;
    CHECK(!model_export_hf(&lm, hf, ST_F32, &e), "export hf: %s", e.msg);
    CHECK(!model_export_gguf(&lm, gg, ST_F32, &e), "export gguf: %s", e.msg);
    CHECK(!model_open(hf, NULL, &a, &e), "reopen hf: %s", e.msg);
    CHECK(!model_open(gg, NULL, &b, &e), "reopen gguf: %s", e.msg);
    if (a.m) {
        CHECK(params_equal(lm.m, a.m), "HF export params differ from the dequantized GGUF");
        CHECK(cfg_equal(&lm.m->cfg, &a.m->cfg), "HF export config differs");
        same_tokens(&lm, &a, "HF export");
        /* and HF -> GGUF (tokenizer.json -> tokenizer.ggml.*, pre "smollm") */
        char gg2[720];
        snprintf(gg2, sizeof gg2, "%s/smollm2-from-hf.gguf", dir);
        CHECK(!model_export_gguf(&a, gg2, ST_F32, &e), "hf -> gguf: %s", e.msg);
        loaded_model c;
        CHECK(!model_open(gg2, NULL, &c, &e), "reopen hf->gguf: %s", e.msg);
        if (c.m) { CHECK(params_equal(lm.m, c.m), "HF->GGUF params differ"); same_tokens(&lm, &c, "HF->GGUF export"); }
        loaded_model_free(&c);
        if (!keep || !*keep) remove(gg2);
        /* HF -> HF BF16: tokenizer files copied byte for byte, weights rounded */
        char hf2[720], f1[800], f2[800];
        snprintf(hf2, sizeof hf2, "%s/smollm2-hf-bf16", dir);
        CHECK(!model_export_hf(&a, hf2, ST_BF16, &e), "hf -> hf bf16: %s", e.msg);
        const char *copied[] = {"tokenizer.json", "tokenizer_config.json", "generation_config.json"};
        for (int i = 0; i < 3; i++) {
            snprintf(f1, sizeof f1, "%s/%s", hf, copied[i]);
            snprintf(f2, sizeof f2, "%s/%s", hf2, copied[i]);
            CHECK(files_equal(f1, f2), "%s not copied byte for byte", copied[i]);
        }
        CHECK(!model_open(hf2, NULL, &c, &e), "reopen hf bf16: %s", e.msg);
        if (c.m) { CHECK(params_rounded(lm.m, c.m, ST_BF16, 0), "HF BF16 params"); same_tokens(&lm, &c, "HF->HF BF16 export"); }
        loaded_model_free(&c);
    }
    if (b.m) {
        CHECK(params_equal(lm.m, b.m), "GGUF export params differ from the dequantized GGUF");
        CHECK(cfg_equal(&lm.m->cfg, &b.m->cfg), "GGUF export config differs");
        same_tokens(&lm, &b, "GGUF export");
        CHECK(!strcmp(lm.name, b.name), "general.name: %s vs %s", lm.name, b.name);
    }
    if (keep && *keep) { dump_logits(&lm, keep); printf("kept SmolLM2 exports in %s\n", keep); }
    loaded_model_free(&a);
    loaded_model_free(&b);
    loaded_model_free(&lm);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/rlvr_test_export_%d", (int)getpid());
    rlvr_err e = {0};
    if (fs_mkdir_p(tmp, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
    RUN(test_roundtrip_llama);
    RUN(test_roundtrip_qwen2);
    RUN(test_roundtrip_qwen3);
    RUN(test_shards);
    RUN(test_smollm2);
    if (getenv("RLVR_TEST_KEEP_TMP")) return check_finish("test_export");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmp);
    return check_finish("test_export");
}
