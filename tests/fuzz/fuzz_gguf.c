/* fuzz_gguf.c: libFuzzer target for the GGUF reader (src/formats/gguf.c).
 *
 * The input is a whole GGUF file. gguf_open_mem validates it; when it opens, every
 * accessor is exercised as a caller would: each key with each typed getter, each
 * array element (capped), each tensor by index and by name, and the dequantization
 * of every tensor small enough to be cheap. Then gguf_model_config maps the keys
 * onto a model config, and, when tokenizer.ggml.tokens is a small string array, a
 * BPE tokenizer is built from it with bpe_from_parts (what model_open does).
 * Any ASan/UBSan report or abort is a bug; RLVR_E* returns are fine.
 * Build and run: tests/fuzz/run.sh (docs/fuzzing.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "formats/gguf.h"
#include "formats/quant.h"
#include "tokenizer/bpe.h"

enum { MAX_ARR_WALK = 4096, MAX_DEQ = 1 << 16, MAX_TOK = 4096 };

static volatile uint64_t sink;   /* keeps reads from being optimised away */

static void walk_array(const gguf_file *f, int kv) {
    int et; uint64_t cnt;
    if (gguf_arr_info(f, kv, &et, &cnt) != RLVR_OK) return;
    rlvr_err err;
    uint64_t n = cnt < MAX_ARR_WALK ? cnt : MAX_ARR_WALK;
    if (et == GGUF_TYPE_STRING) {
        for (uint64_t i = 0; i < n; i++) {
            size_t len = 0;
            const char *s = gguf_arr_get_str(f, kv, i, &len);
            if (!s) abort();                       /* in range: must exist */
            if (len) sink += (unsigned char)s[0] + (unsigned char)s[len - 1];
        }
        if (gguf_arr_get_str(f, kv, cnt, NULL) != NULL) abort();   /* one past the end */
        return;
    }
    if (et == GGUF_TYPE_ARRAY) return;           /* validated, no accessor */
    uint64_t c2 = 0;
    const unsigned char *raw = gguf_arr_data(f, kv, et, &c2);
    if (raw && c2 != cnt) abort();
    if (raw && cnt) sink += raw[0];
    for (uint64_t i = 0; i < n; i++) {
        int64_t v; double d;
        if (gguf_arr_get_i64(f, kv, i, &v, &err) == RLVR_OK) sink += (uint64_t)v;
        if (gguf_arr_get_f64(f, kv, i, &d, &err) == RLVR_OK) sink += (uint64_t)(d == d);
    }
    int64_t v;
    (void)gguf_arr_get_i64(f, kv, cnt, &v, &err);   /* out of range: must fail cleanly */
}

static void walk_kvs(const gguf_file *f) {
    rlvr_err err;
    int n = gguf_n_kv(f);
    for (int i = 0; i < n; i++) {
        const char *key = gguf_kv_key(f, i);
        if (!key) abort();
        if (gguf_find_key(f, key) < 0) abort();   /* every key must be findable */
        uint32_t u; int64_t l; float x; int b; const char *s; size_t len;
        (void)gguf_get_u32(f, key, &u, &err);
        (void)gguf_get_i64(f, key, &l, &err);
        (void)gguf_get_f32(f, key, &x, &err);
        (void)gguf_get_bool(f, key, &b, &err);
        if (gguf_get_str(f, key, &s, &len, &err) == RLVR_OK) {
            if (s[len] != '\0') abort();
            if (len) sink += (unsigned char)s[len - 1];
        }
        (void)gguf_type_name(gguf_kv_type(f, i));
        if (gguf_kv_type(f, i) == GGUF_TYPE_ARRAY) walk_array(f, i);
    }
    (void)gguf_kv_key(f, n);
    (void)gguf_kv_key(f, -1);
}

static void walk_tensors(const gguf_file *f) {
    rlvr_err err;
    int n = gguf_n_tensors(f);
    for (int i = 0; i < n; i++) {
        const gguf_tensor *t = gguf_get_tensor(f, i);
        if (!t) abort();
        if (gguf_find_tensor(f, t->name) == NULL) abort();
        const unsigned char *p = gguf_tensor_data(f, t);
        if (t->nbytes) { if (!p) abort(); sink += p[0] + p[t->nbytes - 1]; }
        if (t->numel <= MAX_DEQ && quant_can_dequantize(t->type)) {
            float *dst = malloc((t->numel ? t->numel : 1) * sizeof(float));
            if (!dst) continue;
            if (gguf_tensor_read_f32(f, t, dst, t->numel, &err) == RLVR_OK && t->numel)
                sink += (uint64_t)(dst[t->numel - 1] == dst[t->numel - 1]);
            (void)gguf_tensor_read_f32(f, t, dst, t->numel + 1, &err);   /* wrong n: EARG */
            free(dst);
        }
    }
    (void)gguf_get_tensor(f, n);
}

/* Builds a tokenizer from tokenizer.ggml.* like model_open, when the arrays are small. */
static void try_tokenizer(const gguf_file *f) {
    int kt = gguf_find_key(f, "tokenizer.ggml.tokens");
    int et; uint64_t nt;
    if (kt < 0 || gguf_arr_info(f, kt, &et, &nt) != RLVR_OK || et != GGUF_TYPE_STRING) return;
    if (nt == 0 || nt > MAX_TOK) return;
    int km = gguf_find_key(f, "tokenizer.ggml.merges");
    uint64_t nm = 0;
    if (km >= 0 && (gguf_arr_info(f, km, &et, &nm) != RLVR_OK || et != GGUF_TYPE_STRING || nm > MAX_TOK))
        return;
    char **tok = calloc(nt, sizeof *tok), **mer = calloc(nm ? nm : 1, sizeof *mer);
    int *types = NULL;
    int ok = tok && mer;
    for (uint64_t i = 0; ok && i < nt; i++) {
        size_t len; const char *s = gguf_arr_get_str(f, kt, i, &len);
        ok = s && (tok[i] = strndup(s, len)) != NULL;
    }
    for (uint64_t i = 0; ok && i < nm; i++) {
        size_t len; const char *s = gguf_arr_get_str(f, km, i, &len);
        ok = s && (mer[i] = strndup(s, len)) != NULL;
    }
    int ktt = gguf_find_key(f, "tokenizer.ggml.token_type");
    uint64_t ntt;
    if (ok && ktt >= 0 && gguf_arr_info(f, ktt, &et, &ntt) == RLVR_OK && ntt == nt &&
        (types = malloc(nt * sizeof *types)) != NULL) {
        rlvr_err err;
        for (uint64_t i = 0; i < nt; i++) {
            int64_t v = 0;
            (void)gguf_arr_get_i64(f, ktt, i, &v, &err);
            types[i] = (int)(v < 0 || v > 8 ? 0 : v);
        }
    }
    const char *pre = "gpt2";
    rlvr_err err;
    if (gguf_find_key(f, "tokenizer.ggml.pre") >= 0) (void)gguf_get_str(f, "tokenizer.ggml.pre", &pre, NULL, &err);
    bpe *b = NULL;
    if (ok && bpe_from_parts((const char *const *)tok, types, (int)nt, (const char *const *)mer, (int)nm,
                             pre, &b, &err) == RLVR_OK) {
        static const char text[] = "Hello, world! 123 h\xc3\xa9llo <|endoftext|>\n";
        int ids[256], n_ids = 0;
        if (bpe_encode(b, text, sizeof text - 1, 1, ids, 256, &n_ids, &err) == RLVR_OK) {
            char out[1024];
            (void)bpe_decode(b, ids, n_ids, out, sizeof out, NULL);
        }
        bpe_free(b);
    }
    for (uint64_t i = 0; tok && i < nt; i++) free(tok[i]);
    for (uint64_t i = 0; mer && i < nm; i++) free(mer[i]);
    free(tok); free(mer); free(types);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gguf_file *f = NULL;
    rlvr_err err;
    if (gguf_open_mem(data, size, "fuzz", &f, &err) != RLVR_OK) {
        if (f) abort();                           /* contract: *out NULL on failure */
        return 0;
    }
    sink += gguf_version(f) + gguf_alignment(f) + gguf_data_offset(f);
    walk_kvs(f);
    walk_tensors(f);
    model_config c;
    (void)gguf_model_config(f, &c, &err);
    try_tokenizer(f);
    gguf_close(f);
    return 0;
}
