/* test_gguf.c: the GGUF reader and dequantizers. (a) every supported block type
 * decoded against gguf-py (tests/data/gguf/quants.gguf, made by
 * tests/ref/make_gguf_golden.py), plus every metadata type; (b) hostile files built
 * byte by byte, each refused with RLVR_EFORMAT (or the documented code) and a message
 * naming the fault, every truncation of a valid file, and random mutations; (c) tiny
 * llama/qwen2/qwen3 GGUFs loaded into rlvr's model and compared with the Hugging Face
 * tensors they came from (Q/K un-permute included); (d) SmolLM2-135M-Instruct Q4_1,
 * when scripts/fetch_models.sh has put it in place: config, dequantized values and
 * logits against transformers' own GGUF loader. */
#include <stdint.h>
#include <unistd.h>
#include "check.h"
#include "core/err.h"
#include "formats/gguf.h"
#include "formats/hfconfig.h"
#include "formats/quant.h"
#include "formats/safetensors.h"
#include "model/model.h"

#define DATA "tests/data/gguf/"

/* ---------------------------------------------------------------- a byte builder */

typedef struct { unsigned char *p; size_t n, cap; } buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) { perror("realloc"); exit(2); }
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void u8(buf *b, uint8_t v) { put(b, &v, 1); }
static void u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void u64(buf *b, uint64_t v) { put(b, &v, 8); }
static void f32(buf *b, float v) { put(b, &v, 4); }
static void strn(buf *b, const char *s, size_t n) { u64(b, n); put(b, s, n); }
static void str(buf *b, const char *s) { strn(b, s, strlen(s)); }
static void header(buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    put(b, "GGUF", 4); u32(b, version); u64(b, n_tensors); u64(b, n_kv);
}
static void kv_u32(buf *b, const char *k, uint32_t v) { str(b, k); u32(b, GGUF_TYPE_UINT32); u32(b, v); }
static void kv_f32(buf *b, const char *k, float v) { str(b, k); u32(b, GGUF_TYPE_FLOAT32); f32(b, v); }
static void kv_str(buf *b, const char *k, const char *v) { str(b, k); u32(b, GGUF_TYPE_STRING); str(b, v); }
static void tinfo(buf *b, const char *name, uint32_t nd, const uint64_t *ne, uint32_t type, uint64_t off) {
    str(b, name); u32(b, nd);
    for (uint32_t d = 0; d < nd; d++) u64(b, ne[d]);
    u32(b, type); u64(b, off);
}
static void pad(buf *b, size_t a) { while (b->n % a) u8(b, 0); }
static void fill(buf *b, size_t n) { for (size_t i = 0; i < n; i++) u8(b, (uint8_t)(i * 7 + 1)); }

/* Opens p[0..n) from an exact-size heap copy (so ASan sees any read past the end).
 * One such file is open at a time; close it with close_bytes. */
static unsigned char *held;
static int open_bytes(const unsigned char *p, size_t n, gguf_file **f, rlvr_err *e) {
    if (held) { fprintf(stderr, "open_bytes: previous file not closed\n"); exit(2); }
    unsigned char *copy = malloc(n ? n : 1);
    if (n) memcpy(copy, p, n);
    int rc = gguf_open_mem(copy, n, "t.gguf", f, e);
    if (rc) free(copy);
    else held = copy;
    return rc;
}
static void close_bytes(gguf_file *f) { gguf_close(f); free(held); held = NULL; }

/* Opening b must fail with code and a message containing want (and the file name). */
static void expect_fail_(int line, buf *b, int code, const char *want) {
    gguf_file *f = (gguf_file *)1;
    rlvr_err e = {0};
    int rc = open_bytes(b->p, b->n, &f, &e);
    check_count++;
    if (rc != code || f != NULL || !strstr(e.msg, want) || !strstr(e.msg, "t.gguf")) {
        check_fails++;
        fprintf(stderr, "  FAIL line %d: rc %d (want %d), msg '%s' (want '%s')\n", line, rc, code, e.msg, want);
    }
    if (!rc) close_bytes(f);
    free(b->p);
    *b = (buf){0};
}
#define expect_fail(b, code, want) expect_fail_(__LINE__, b, code, want)

/* A small valid file: 3 keys, tensors "w" (F32, ne [8, 2]) and "b" (Q8_0, ne [32]). */
static void valid_file(buf *b) {
    header(b, 3, 2, 3);
    kv_str(b, "general.architecture", "llama");
    kv_u32(b, "a.u32", 7);
    str(b, "a.arr"); u32(b, GGUF_TYPE_ARRAY); u32(b, GGUF_TYPE_INT32); u64(b, 3); u32(b, 1); u32(b, 2); u32(b, 3);
    uint64_t ne_w[2] = {8, 2}, ne_b[1] = {32};
    tinfo(b, "w", 2, ne_w, GGML_TYPE_F32, 0);
    tinfo(b, "b", 1, ne_b, GGML_TYPE_Q8_0, 64);
    pad(b, 32);
    fill(b, 64);
    buf blk = {0};
    uint16_t d = 0x3c00;                         /* fp16 1.0 */
    put(&blk, &d, 2);
    for (int i = 0; i < 32; i++) u8(&blk, (uint8_t)(i - 16));
    put(b, blk.p, blk.n);
    free(blk.p);
}

/* ---------------------------------------------------------------- (a) quants */

static void test_metadata(void) {
    gguf_file *f = NULL;
    rlvr_err e = {0};
    int rc = gguf_open(DATA "quants.gguf", &f, &e);
    CHECK(rc == RLVR_OK, "open: %s", e.msg);
    if (rc) return;
    CHECK(gguf_version(f) == 3, "version %u", gguf_version(f));
    CHECK(gguf_alignment(f) == 64, "alignment %u", gguf_alignment(f));
    CHECK(gguf_data_offset(f) % 64 == 0, "data offset %llu", (unsigned long long)gguf_data_offset(f));
    uint32_t u; int64_t i; float x; int bo; const char *s; size_t len;
    struct { const char *k; int64_t v; } ints[] = {
        {"t.u8", 200}, {"t.i8", -100}, {"t.u16", 60000}, {"t.i16", -30000}, {"t.u32", 4000000000ll},
        {"t.i32", -2000000000}, {"t.i64", -(1ll << 62)},
    };
    for (size_t k = 0; k < sizeof ints / sizeof *ints; k++) {
        CHECK(gguf_get_i64(f, ints[k].k, &i, &e) == RLVR_OK && i == ints[k].v, "%s: %lld (%s)", ints[k].k, (long long)i, e.msg);
        int fits = ints[k].v >= 0 && ints[k].v <= UINT32_MAX;
        CHECK((gguf_get_u32(f, ints[k].k, &u, &e) == RLVR_OK) == fits, "%s as u32", ints[k].k);
    }
    CHECK(gguf_get_i64(f, "t.u64", &i, &e) == RLVR_EFORMAT && strstr(e.msg, "t.u64"), "u64 above int64: %s", e.msg);
    CHECK(gguf_get_f32(f, "t.f32", &x, &e) == RLVR_OK && x == 1.5f, "f32 %g", x);
    CHECK(gguf_get_f32(f, "t.f64", &x, &e) == RLVR_OK && x == 3.14159265f, "f64 %g", x);
    CHECK(gguf_get_bool(f, "t.bool", &bo, &e) == RLVR_OK && bo == 1, "bool");
    CHECK(gguf_get_str(f, "t.str", &s, &len, &e) == RLVR_OK && strcmp(s, "h\xc3\xa9llo") == 0 && len == 6, "str");
    CHECK(gguf_get_str(f, "t.empty", &s, &len, &e) == RLVR_OK && s[0] == 0 && len == 0, "empty str");
    CHECK(gguf_get_str(f, "general.architecture", &s, NULL, &e) == RLVR_OK && strcmp(s, "rlvr-test") == 0, "arch");
    /* wrong types and missing keys name the key */
    CHECK(gguf_get_f32(f, "t.u32", &x, &e) == RLVR_EFORMAT && strstr(e.msg, "'t.u32'") && strstr(e.msg, "uint32"), "%s", e.msg);
    CHECK(gguf_get_str(f, "t.arr_i32", &s, NULL, &e) == RLVR_EFORMAT && strstr(e.msg, "array of int32"), "%s", e.msg);
    CHECK(gguf_get_u32(f, "nope", &u, &e) == RLVR_EFORMAT && strstr(e.msg, "'nope' is missing"), "%s", e.msg);
    CHECK(gguf_get_u32(f, "t.i8", &u, &e) == RLVR_EFORMAT && strstr(e.msg, "-100"), "%s", e.msg);
    CHECK(gguf_get_bool(f, "t.u8", &bo, &e) == RLVR_EFORMAT, "bool from u8");
    /* arrays */
    int k = gguf_find_key(f, "t.arr_i32"), et;
    uint64_t n;
    CHECK(k >= 0 && gguf_kv_type(f, k) == GGUF_TYPE_ARRAY && strcmp(gguf_kv_key(f, k), "t.arr_i32") == 0, "find");
    CHECK(gguf_arr_info(f, k, &et, &n) == RLVR_OK && et == GGUF_TYPE_INT32 && n == 3, "info");
    CHECK(gguf_arr_get_i64(f, k, 1, &i, &e) == RLVR_OK && i == -2, "elem");
    CHECK(gguf_arr_get_i64(f, k, 3, &i, &e) == RLVR_EARG, "past the end");
    const unsigned char *raw = gguf_arr_data(f, k, GGUF_TYPE_INT32, &n);
    int32_t third = 0;
    if (raw) memcpy(&third, raw + 8, 4);           /* any alignment: memcpy */
    CHECK(raw && n == 3 && third == 3, "raw");
    CHECK(gguf_arr_data(f, k, GGUF_TYPE_FLOAT32, NULL) == NULL, "declared int32, asked float32: refused");
    CHECK(gguf_arr_data(f, gguf_find_key(f, "t.u8"), GGUF_TYPE_UINT8, NULL) == NULL, "scalar is not an array");
    double d;
    k = gguf_find_key(f, "t.arr_f32");
    CHECK(gguf_arr_get_f64(f, k, 1, &d, &e) == RLVR_OK && d == -1.25, "f32 elem");
    CHECK(gguf_arr_get_i64(f, k, 0, &i, &e) == RLVR_EARG, "float array as int");
    k = gguf_find_key(f, "t.arr_u64");
    CHECK(gguf_arr_get_i64(f, k, 0, &i, &e) == RLVR_EFORMAT, "u64 max as int64");
    CHECK(gguf_arr_get_i64(f, k, 1, &i, &e) == RLVR_OK && i == 7, "u64 7");
    k = gguf_find_key(f, "t.arr_bool");
    CHECK(gguf_arr_get_i64(f, k, 2, &i, &e) == RLVR_OK && i == 1, "bool elem");
    k = gguf_find_key(f, "t.arr_str");
    const char *want[] = {"a", "", "ccc", "\xc3\xbc"};
    for (uint64_t j = 0; j < 4; j++) {
        const char *p = gguf_arr_get_str(f, k, j, &len);
        CHECK(p && len == strlen(want[j]) && memcmp(p, want[j], len) == 0, "str elem %llu", (unsigned long long)j);
    }
    CHECK(gguf_arr_get_str(f, k, 4, &len) == NULL, "str past the end");
    CHECK(gguf_arr_get_str(f, gguf_find_key(f, "t.arr_i32"), 0, &len) == NULL, "int array as str");
    CHECK(gguf_arr_get_f64(f, k, 0, &d, &e) == RLVR_EARG, "str array as number");
    k = gguf_find_key(f, "t.arr_nested");
    CHECK(gguf_arr_info(f, k, &et, &n) == RLVR_OK && et == GGUF_TYPE_ARRAY && n == 2, "nested");
    CHECK(gguf_find_key(f, "t.zzz") == -1 && gguf_kv_key(f, -1) == NULL && gguf_kv_type(f, 1 << 20) == -1, "ranges");
    gguf_close(f);
}

static void test_dequant_golden(void) {
    gguf_file *f = NULL;
    rlvr_err e = {0};
    if (gguf_open(DATA "quants.gguf", &f, &e)) { CHECK(0, "open: %s", e.msg); return; }
    const char *types[] = {"F32", "F16", "BF16", "F64", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
                           "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
    for (size_t k = 0; k < sizeof types / sizeof *types; k++) {
        char qn[32], rn[32];
        snprintf(qn, sizeof qn, "q.%s", types[k]);
        snprintf(rn, sizeof rn, "ref.%s", types[k]);
        const gguf_tensor *q = gguf_find_tensor(f, qn), *r = gguf_find_tensor(f, rn);
        CHECK(q && r, "%s missing", qn);
        if (!q || !r) continue;
        CHECK(strcmp(quant_type_name(q->type), types[k]) == 0, "%s has type %s", qn, quant_type_name(q->type));
        CHECK(q->numel == r->numel && q->ne[0] == r->ne[0] && q->ne[1] == 4, "%s shape", qn);
        CHECK((q->offset - gguf_data_offset(f)) % 64 == 0, "%s aligned", qn);
        CHECK(q->nbytes == quant_row_bytes(q->type, (uint64_t)q->ne[0]) * 4, "%s nbytes", qn);
        float *got = malloc(q->numel * 4), *ref = malloc(r->numel * 4);
        int rc = gguf_tensor_read_f32(f, q, got, q->numel, &e);
        CHECK(rc == RLVR_OK, "%s: %s", qn, e.msg);
        CHECK(gguf_tensor_read_f32(f, r, ref, r->numel, &e) == RLVR_OK, "%s", e.msg);
        double mx = 0;
        for (uint64_t j = 0; j < r->numel; j++) if (fabs(ref[j]) > mx) mx = fabs(ref[j]);
        /* exact up to one fused multiply-add rounding (the compiler may fuse d*q - m) */
        if (!rc) check_arrays(types[k], got, ref, r->numel, mx * 0x1p-22, 1e-6);
        free(got); free(ref);
    }
    /* direct calls: sizes are checked */
    const gguf_tensor *q = gguf_find_tensor(f, "q.Q4_K");
    float out[512];
    const void *src = gguf_tensor_data(f, q);
    CHECK(quant_dequantize(GGML_TYPE_Q4_K, src, 144, out, 256, &e) == RLVR_OK, "%s", e.msg);
    CHECK(quant_dequantize(GGML_TYPE_Q4_K, src, 144, out, 255, &e) == RLVR_EARG && strstr(e.msg, "block"), "%s", e.msg);
    CHECK(quant_dequantize(GGML_TYPE_Q4_K, src, 143, out, 256, &e) == RLVR_EARG, "short src");
    CHECK(quant_dequantize(GGML_TYPE_IQ2_XXS, src, 66, out, 256, &e) == RLVR_EUNSUPPORTED && strstr(e.msg, "IQ2_XXS"), "%s", e.msg);
    CHECK(quant_dequantize(4, src, 18, out, 32, &e) == RLVR_EUNSUPPORTED, "removed id 4");
    CHECK(quant_dequantize(GGML_TYPE_Q8_0, NULL, 0, NULL, 0, &e) == RLVR_OK, "empty");
    CHECK(gguf_tensor_read_f32(f, q, out, 256, &e) == RLVR_EARG && strstr(e.msg, "q.Q4_K"), "%s", e.msg);
    gguf_close(f);
}

static void test_type_table(void) {
    CHECK(quant_block_size(GGML_TYPE_Q4_K) == 256 && quant_type_size(GGML_TYPE_Q4_K) == 144, "Q4_K");
    CHECK(quant_block_size(GGML_TYPE_Q8_0) == 32 && quant_type_size(GGML_TYPE_Q8_0) == 34, "Q8_0");
    CHECK(quant_row_bytes(GGML_TYPE_Q6_K, 512) == 420 && quant_row_bytes(GGML_TYPE_Q6_K, 100) == 0, "Q6_K rows");
    CHECK(quant_row_bytes(GGML_TYPE_F64, UINT64_MAX / 4) == 0, "overflow gives 0");
    CHECK(!quant_type_known(4) && !quant_type_known(31) && !quant_type_known(-1) && !quant_type_known(GGML_TYPE_COUNT), "gaps");
    CHECK(strcmp(quant_type_name(99), "?") == 0 && quant_block_size(99) == 0, "unknown");
    CHECK(strcmp(gguf_type_name(GGUF_TYPE_FLOAT64), "float64") == 0 && strcmp(gguf_type_name(13), "?") == 0, "names");
}

/* ---------------------------------------------------------------- (b) hostile files */

static void test_valid_builder(void) {
    buf b = {0};
    valid_file(&b);
    gguf_file *f = NULL;
    rlvr_err e = {0};
    int rc = open_bytes(b.p, b.n, &f, &e);
    CHECK(rc == RLVR_OK, "%s", e.msg);
    if (!rc) {
        const gguf_tensor *t = gguf_find_tensor(f, "b");
        float y[32];
        CHECK(t && gguf_tensor_read_f32(f, t, y, 32, &e) == RLVR_OK && y[0] == -16 && y[31] == 15, "Q8_0 block");
        CHECK(gguf_n_tensors(f) == 2 && gguf_n_kv(f) == 3 && gguf_get_tensor(f, 2) == NULL, "counts");
        CHECK(gguf_find_tensor(f, "w")->ne[1] == 2 && gguf_find_tensor(f, "w")->ne[2] == 1, "ne");
        close_bytes(f);
    }
    free(b.p);
    /* version 2 reads the same */
    b = (buf){0};
    valid_file(&b);
    b.p[4] = 2;
    rc = open_bytes(b.p, b.n, &f, &e);
    CHECK(rc == RLVR_OK && gguf_version(f) == 2, "v2: %s", e.msg);
    if (!rc) close_bytes(f);
    free(b.p);
    /* no tensors: the padding may be absent */
    b = (buf){0};
    header(&b, 3, 0, 1);
    kv_u32(&b, "k", 1);
    rc = open_bytes(b.p, b.n, &f, &e);
    CHECK(rc == RLVR_OK && gguf_n_tensors(f) == 0, "no tensors: %s", e.msg);
    if (!rc) close_bytes(f);
    free(b.p);
}

static void test_hostile_header(void) {
    buf b = {0};
    expect_fail(&b, RLVR_EFORMAT, "too short");
    put(&b, "GGUX", 4); u32(&b, 3); u64(&b, 0); u64(&b, 0);
    expect_fail(&b, RLVR_EFORMAT, "bad magic");
    header(&b, 1, 0, 0);
    expect_fail(&b, RLVR_EUNSUPPORTED, "version 1");
    header(&b, 4, 0, 0);
    expect_fail(&b, RLVR_EFORMAT, "unknown GGUF version 4");
    header(&b, 0x03000000u, 0, 0);
    expect_fail(&b, RLVR_EUNSUPPORTED, "big-endian");
    header(&b, 3, 1ull << 62, 0);
    expect_fail(&b, RLVR_EFORMAT, "tensor count 4611686018427387904");
    header(&b, 3, 0, UINT64_MAX);                /* n_kv = -1 */
    expect_fail(&b, RLVR_EFORMAT, "key count");
    header(&b, 3, UINT64_MAX, 0);
    expect_fail(&b, RLVR_EFORMAT, "tensor count");
    /* counts that fit the caps but not the bytes */
    header(&b, 3, 0, 3); kv_u32(&b, "a", 1); kv_u32(&b, "b", 2); fill(&b, 20);
    expect_fail(&b, RLVR_EFORMAT, "key 2 at byte 58");
}

static void test_hostile_kv(void) {
    buf b = {0};
    header(&b, 3, 0, 1); u64(&b, 1ull << 63); fill(&b, 40);
    expect_fail(&b, RLVR_EFORMAT, "past the end of the file");
    header(&b, 3, 0, 1); str(&b, "k"); u32(&b, GGUF_TYPE_STRING); u64(&b, 1000); fill(&b, 10);
    expect_fail(&b, RLVR_EFORMAT, "length 1000, past the end");
    header(&b, 3, 0, 1); str(&b, "k"); u32(&b, 13); u32(&b, 0);
    expect_fail(&b, RLVR_EFORMAT, "value type 13");
    header(&b, 3, 0, 1); str(&b, "k"); u32(&b, UINT32_MAX); u32(&b, 0);
    expect_fail(&b, RLVR_EFORMAT, "not a GGUF type");
    header(&b, 3, 0, 1); str(&b, "kk"); u32(&b, GGUF_TYPE_ARRAY); u32(&b, 99); u64(&b, 1); u32(&b, 0);
    expect_fail(&b, RLVR_EFORMAT, "element type 99");
    header(&b, 3, 0, 1); str(&b, "big"); u32(&b, GGUF_TYPE_ARRAY); u32(&b, GGUF_TYPE_UINT32); u64(&b, 1ull << 62); fill(&b, 64);
    expect_fail(&b, RLVR_EFORMAT, "claims 4611686018427387904 uint32");
    /* count * 4 wraps to a small number: still refused */
    header(&b, 3, 0, 1); str(&b, "wrap"); u32(&b, GGUF_TYPE_ARRAY); u32(&b, GGUF_TYPE_UINT32); u64(&b, (1ull << 62) + 1); fill(&b, 64);
    expect_fail(&b, RLVR_EFORMAT, "'wrap'");
    header(&b, 3, 0, 1); str(&b, "strs"); u32(&b, GGUF_TYPE_ARRAY); u32(&b, GGUF_TYPE_STRING); u64(&b, 1ull << 61); fill(&b, 64);
    expect_fail(&b, RLVR_EFORMAT, "string elements");
    header(&b, 3, 0, 1); str(&b, "s2"); u32(&b, GGUF_TYPE_ARRAY); u32(&b, GGUF_TYPE_STRING); u64(&b, 2); str(&b, "x"); u64(&b, 1ull << 63);
    fill(&b, 8);
    expect_fail(&b, RLVR_EFORMAT, "'s2'");
    header(&b, 3, 0, 1); str(&b, "b"); u32(&b, GGUF_TYPE_BOOL); u8(&b, 2);
    expect_fail(&b, RLVR_EFORMAT, "not 0 or 1");
    header(&b, 3, 0, 1); str(&b, "ba"); u32(&b, GGUF_TYPE_ARRAY); u32(&b, GGUF_TYPE_BOOL); u64(&b, 3); u8(&b, 1); u8(&b, 0); u8(&b, 7);
    expect_fail(&b, RLVR_EFORMAT, "bool element 2");
    header(&b, 3, 0, 2); kv_u32(&b, "dup", 1); kv_u32(&b, "dup", 2);
    expect_fail(&b, RLVR_EFORMAT, "key 'dup' appears twice");
    header(&b, 3, 0, 1); str(&b, ""); u32(&b, GGUF_TYPE_UINT8); u8(&b, 1); fill(&b, 10);
    expect_fail(&b, RLVR_EFORMAT, "is empty");
    header(&b, 3, 0, 1); strn(&b, "a\0b", 3); u32(&b, GGUF_TYPE_UINT8); u8(&b, 1); fill(&b, 10);
    expect_fail(&b, RLVR_EFORMAT, "NUL");
    header(&b, 3, 0, 1); str(&b, "\xff\xfe"); u32(&b, GGUF_TYPE_UINT8); u8(&b, 1); fill(&b, 10);
    expect_fail(&b, RLVR_EFORMAT, "UTF-8");
    char longk[400]; memset(longk, 'k', sizeof longk - 1); longk[sizeof longk - 1] = 0;
    header(&b, 3, 0, 1); kv_u32(&b, longk, 1);
    expect_fail(&b, RLVR_EFORMAT, "399 bytes long");
    /* nesting: 8 levels of arrays are fine, 9 are not */
    for (int depth = 8; depth <= 9; depth++) {
        header(&b, 3, 0, 1); str(&b, "nest"); u32(&b, GGUF_TYPE_ARRAY);
        for (int d = 1; d < depth; d++) { u32(&b, GGUF_TYPE_ARRAY); u64(&b, 1); }
        u32(&b, GGUF_TYPE_UINT8); u64(&b, 1); u8(&b, 5);
        fill(&b, 16);
        if (depth == 8) {
            gguf_file *f; rlvr_err e = {0};
            int rc = open_bytes(b.p, b.n, &f, &e);
            CHECK(rc == RLVR_OK, "depth 8: %s", e.msg);
            if (!rc) close_bytes(f);
            free(b.p); b = (buf){0};
        } else {
            expect_fail(&b, RLVR_EFORMAT, "nested more than 8 deep");
        }
    }
    /* alignment: wrong type, 0, 13, 2^30 */
    header(&b, 3, 0, 1); str(&b, "general.alignment"); u32(&b, GGUF_TYPE_UINT64); u64(&b, 32);
    expect_fail(&b, RLVR_EFORMAT, "not uint32");
    uint32_t bad_align[] = {0, 13, 1u << 30};
    for (int i = 0; i < 3; i++) {
        header(&b, 3, 0, 1); kv_u32(&b, "general.alignment", bad_align[i]);
        expect_fail(&b, RLVR_EFORMAT, "not a power of two");
    }
}

static void test_hostile_tensors(void) {
    buf b = {0};
    uint64_t ne2[2] = {8, 2}, ne1[1] = {32};
#define ONE(name, nd, ne, type, off, ndata) do { header(&b, 3, 1, 0); tinfo(&b, name, nd, ne, type, off); pad(&b, 32); fill(&b, ndata); } while (0)
    ONE("w", 2, ne2, 99, 0, 64);
    expect_fail(&b, RLVR_EFORMAT, "unknown ggml type 99");
    ONE("w", 2, ne2, 4, 0, 64);                  /* removed Q4_2 */
    expect_fail(&b, RLVR_EFORMAT, "unknown ggml type 4");
    uint64_t ne5[5] = {1, 1, 1, 1, 1};
    ONE("w", 5, ne5, GGML_TYPE_F32, 0, 64);
    expect_fail(&b, RLVR_EFORMAT, "n_dims 5");
    uint64_t neg[2] = {8, (uint64_t)-1};
    ONE("w", 2, neg, GGML_TYPE_F32, 0, 64);
    expect_fail(&b, RLVR_EFORMAT, "negative");
    uint64_t big[3] = {1ull << 32, 1ull << 32, 16};
    ONE("w", 3, big, GGML_TYPE_F32, 0, 64);
    expect_fail(&b, RLVR_EFORMAT, "product of its dims overflows");
    uint64_t bytes_of[1] = {1ull << 61};      /* 2^61 elements fit, 2^64 bytes do not */
    ONE("w", 1, bytes_of, GGML_TYPE_F64, 0, 64);
    expect_fail(&b, RLVR_EFORMAT, "byte size overflows");
    uint64_t i32x4[1] = {4ull * INT32_MAX};    /* representable, far past the data */
    ONE("w", 1, i32x4, GGML_TYPE_F32, 0, 64);
    expect_fail(&b, RLVR_EFORMAT, "runs past the end");
    uint64_t odd[1] = {33};
    ONE("w", 1, odd, GGML_TYPE_Q8_0, 0, 64);
    expect_fail(&b, RLVR_EFORMAT, "not a multiple of the Q8_0 block size");
    ONE("w", 2, ne2, GGML_TYPE_F32, 8, 128);
    expect_fail(&b, RLVR_EFORMAT, "offset 8 is not a multiple of the alignment 32");
    ONE("w", 2, ne2, GGML_TYPE_F32, 1ull << 63, 64);
    expect_fail(&b, RLVR_EFORMAT, "runs past the end");
    ONE("w", 2, ne2, GGML_TYPE_F32, 0, 63);      /* data 1 byte short */
    expect_fail(&b, RLVR_EFORMAT, "tensor 'w': data at [0, +64) runs past the end of the 63-byte data section");
    ONE("", 2, ne2, GGML_TYPE_F32, 0, 64);
    expect_fail(&b, RLVR_EFORMAT, "is empty");
    char longn[300]; memset(longn, 'n', sizeof longn - 1); longn[sizeof longn - 1] = 0;
    ONE(longn, 2, ne2, GGML_TYPE_F32, 0, 64);
    expect_fail(&b, RLVR_EFORMAT, "299 bytes long");
    ONE("\xc0\x80", 2, ne2, GGML_TYPE_F32, 0, 64); /* overlong NUL */
    expect_fail(&b, RLVR_EFORMAT, "UTF-8");
#undef ONE
    /* two tensors: duplicate names, overlap */
    header(&b, 3, 2, 0); tinfo(&b, "w", 2, ne2, GGML_TYPE_F32, 0); tinfo(&b, "w", 1, ne1, GGML_TYPE_F32, 64);
    pad(&b, 32); fill(&b, 192);
    expect_fail(&b, RLVR_EFORMAT, "duplicate tensor name 'w'");
    header(&b, 3, 2, 0); tinfo(&b, "w", 2, ne2, GGML_TYPE_F32, 0); tinfo(&b, "v", 1, ne1, GGML_TYPE_F32, 32);
    pad(&b, 32); fill(&b, 192);
    expect_fail(&b, RLVR_EFORMAT, "overlaps");
    /* inconsistent alignment: a file that pads to 32 but declares 64 */
    header(&b, 3, 1, 1); kv_u32(&b, "general.alignment", 64); tinfo(&b, "w", 2, ne2, GGML_TYPE_F32, 32);
    pad(&b, 32); fill(&b, 96);
    expect_fail(&b, RLVR_EFORMAT, "alignment 64");
    /* tensors in another order, a gap and a zero-size tensor are fine */
    uint64_t zero[1] = {0};
    header(&b, 3, 3, 0); tinfo(&b, "late", 1, ne1, GGML_TYPE_F32, 128); tinfo(&b, "early", 2, ne2, GGML_TYPE_F32, 0);
    tinfo(&b, "empty", 1, zero, GGML_TYPE_F32, 32);
    pad(&b, 32); fill(&b, 256);
    gguf_file *f; rlvr_err e = {0};
    int rc = open_bytes(b.p, b.n, &f, &e);
    CHECK(rc == RLVR_OK, "order/gap/zero-size: %s", e.msg);
    if (!rc) close_bytes(f);
    free(b.p);
}

static void test_truncation(void) {
    buf b = {0};
    valid_file(&b);
    int bad = 0;
    for (size_t n = 0; n < b.n; n++) {           /* every prefix of a valid file */
        gguf_file *f = NULL;
        rlvr_err e = {0};
        int rc = open_bytes(b.p, n, &f, &e);
        if (rc != RLVR_EFORMAT || f || !strstr(e.msg, "t.gguf")) {
            if (bad++ < 5) fprintf(stderr, "  prefix %zu: rc %d msg '%s'\n", n, rc, e.msg);
            if (!rc) close_bytes(f);
        }
    }
    CHECK(bad == 0, "%d of %zu prefixes were not refused", bad, b.n);
    free(b.p);
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rng(void) {                      /* splitmix64: deterministic */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Random byte flips: never a crash (ASan build), only OK / EFORMAT / EUNSUPPORTED;
 * when a mutant opens, everything it hands out must be readable. */
static void test_mutations(void) {
    buf b = {0};
    valid_file(&b);
    int opened = 0, other = 0;
    for (int it = 0; it < 3000; it++) {
        unsigned char *m = malloc(b.n);
        memcpy(m, b.p, b.n);
        int flips = 1 + (int)(rng() % 4);
        for (int k = 0; k < flips; k++) {
            size_t at = rng() % b.n;
            uint64_t r = rng();
            m[at] = r & 1 ? (uint8_t)(r >> 8) : r & 2 ? 0xff : 0;
        }
        gguf_file *f = NULL;
        rlvr_err e = {0};
        int rc = gguf_open_mem(m, b.n, "mut.gguf", &f, &e);
        if (rc == RLVR_OK) {
            opened++;
            for (int i = 0; i < gguf_n_tensors(f); i++) {
                const gguf_tensor *t = gguf_get_tensor(f, i);
                if (t->numel > 4096) continue;
                float *y = malloc((t->numel ? t->numel : 1) * 4);
                gguf_tensor_read_f32(f, t, y, t->numel, &e);
                free(y);
            }
            for (int i = 0; i < gguf_n_kv(f); i++) {
                uint64_t n = 0; int et;
                if (gguf_arr_info(f, i, &et, &n) == RLVR_OK)
                    for (uint64_t j = 0; j < n && j < 16; j++) { size_t len; int64_t v; gguf_arr_get_str(f, i, j, &len); gguf_arr_get_i64(f, i, j, &v, &e); }
            }
            gguf_close(f);
        } else if (rc != RLVR_EFORMAT && rc != RLVR_EUNSUPPORTED) {
            if (other++ < 3) fprintf(stderr, "  mutant %d: rc %d %s\n", it, rc, e.msg);
        }
        free(m);
    }
    CHECK(other == 0, "%d mutants gave an unexpected code", other);
    CHECK(opened > 0, "no mutant opened (the valid file itself must)");
    free(b.p);
}

static void test_open_errors(void) {
    gguf_file *f = (gguf_file *)1;
    rlvr_err e = {0};
    CHECK(gguf_open("/nonexistent/x.gguf", &f, &e) == RLVR_EIO && f == NULL && strstr(e.msg, "/nonexistent/x.gguf"), "%s", e.msg);
    CHECK(gguf_open("tests", &f, &e) == RLVR_EIO, "directory");
    CHECK(gguf_open(NULL, &f, &e) == RLVR_EARG, "NULL path");
    gguf_close(NULL);
}

/* ---------------------------------------------------------------- (c) tiny models */

/* Loads DATA<name>.gguf into a model and compares every tensor with the HF original. */
static model *load_case(const char *name, model_config *cfg) {
    char path[256];
    snprintf(path, sizeof path, DATA "%s.gguf", name);
    gguf_file *f = NULL;
    rlvr_err e = {0};
    if (gguf_open(path, &f, &e)) { CHECK(0, "%s", e.msg); return NULL; }
    int rc = gguf_model_config(f, cfg, &e);
    CHECK(rc == RLVR_OK, "%s config: %s", name, e.msg);
    model *m = rc ? NULL : model_new(cfg, &e);
    CHECK(rc || m, "%s model_new: %s", name, e.msg);
    if (m) {
        rc = gguf_load_params(f, m, &e);
        CHECK(rc == RLVR_OK, "%s load: %s", name, e.msg);
        snprintf(path, sizeof path, DATA "%s.expect.safetensors", name);
        st_file *s = NULL;
        if (st_open(path, &s, &e)) { CHECK(0, "%s", e.msg); }
        else {
            CHECK(st_count(s) == m->n_tensors, "%s: %d expected tensors, model has %d", name, st_count(s), m->n_tensors);
            for (int i = 0; i < m->n_tensors; i++) {
                const tensor_info *ti = &m->tensors[i];
                const st_tensor *t = st_find(s, ti->name);
                CHECK(t && t->numel == ti->numel, "%s: %s", name, ti->name);
                if (!t || t->numel != ti->numel) continue;
                float *want = malloc(t->numel * 4);
                st_read_f32(s, t, want, t->numel, &e);
                char what[160];
                snprintf(what, sizeof what, "%s %s", name, ti->name);
                check_arrays(what, m->params + ti->offset, want, ti->numel, 0, 0);   /* exact */
                free(want);
            }
            st_close(s);
        }
    }
    gguf_close(f);
    return m;
}

static void test_models(void) {
    model_config c;
    model *m = load_case("llama_gqa", &c);
    CHECK(strcmp(c.arch, "llama") == 0 && c.vocab_size == 32 && c.dim == 16 && c.hidden_dim == 24 && c.n_layers == 2 &&
          c.n_heads == 2 && c.n_kv_heads == 1 && c.head_dim == 8 && c.max_seq_len == 64 && !c.tie_embeddings &&
          !c.qkv_bias && !c.qk_norm && c.bos_id == 1 && c.eos_id == 2 && c.rope_theta == 10000 &&
          c.norm_eps == 1e-6f && c.rope_scaling == ROPE_SCALING_NONE, "llama_gqa config");
    model_free(m);
    m = load_case("qwen2_bias", &c);
    CHECK(strcmp(c.arch, "qwen2") == 0 && c.qkv_bias && c.tie_embeddings && c.rope_theta == 1e6f, "qwen2 config");
    model_free(m);
    m = load_case("qwen3_qknorm", &c);
    CHECK(strcmp(c.arch, "qwen3") == 0 && c.qk_norm && c.head_dim == 12 && !c.tie_embeddings && c.max_seq_len == 96, "qwen3 config");
    model_free(m);
    m = load_case("llama3_rope", &c);
    CHECK(c.rope_scaling == ROPE_SCALING_LLAMA3 && c.rope_factor == 8 && c.rope_low_freq_factor == 1 &&
          c.rope_high_freq_factor == 4 && c.rope_orig_max_pos == 64 && c.tie_embeddings,
          "llama3 rope: factor %g low %g high %g orig %d", c.rope_factor, c.rope_low_freq_factor,
          c.rope_high_freq_factor, c.rope_orig_max_pos);
    model_free(m);
}

/* The un-permute matters (so the test above can fail): the raw rows differ. */
static void test_permute_is_real(void) {
    gguf_file *f = NULL; st_file *s = NULL;
    rlvr_err e = {0};
    if (gguf_open(DATA "llama_gqa.gguf", &f, &e) || st_open(DATA "llama_gqa.expect.safetensors", &s, &e)) {
        CHECK(0, "%s", e.msg); gguf_close(f); return;
    }
    const char *pairs[][2] = {{"blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight"},
                              {"blk.1.attn_k.weight", "model.layers.1.self_attn.k_proj.weight"}};
    for (int k = 0; k < 2; k++) {
        const gguf_tensor *g = gguf_find_tensor(f, pairs[k][0]);
        const st_tensor *t = st_find(s, pairs[k][1]);
        float *a = malloc(g->numel * 4), *b = malloc(t->numel * 4);
        gguf_tensor_read_f32(f, g, a, g->numel, &e);
        st_read_f32(s, t, b, t->numel, &e);
        /* row 1 of the file is HF row D/2 = 4 of head 0; row 4 is HF row 2 */
        int C = (int)g->ne[0];
        CHECK(memcmp(a, b, g->numel * 4) != 0, "%s is stored permuted", pairs[k][0]);
        CHECK(memcmp(a + 1 * C, b + 4 * C, C * 4) == 0 && memcmp(a + 4 * C, b + 2 * C, C * 4) == 0, "interleave rule");
        free(a); free(b);
    }
    /* the same file into the wrong models */
    model_config c;
    gguf_model_config(f, &c, &e);
    model_config q = c;
    snprintf(q.arch, sizeof q.arch, "qwen3");
    model *m = model_new(&q, &e);
    CHECK(gguf_load_params(f, m, &e) == RLVR_EARG && strstr(e.msg, "llama"), "%s", e.msg);
    model_free(m);
    q = c; q.hidden_dim = 20;
    m = model_new(&q, &e);
    CHECK(gguf_load_params(f, m, &e) == RLVR_EFORMAT && strstr(e.msg, "blk.0.ffn_gate.weight"), "%s", e.msg);
    model_free(m);
    q = c; q.tie_embeddings = 1;
    m = model_new(&q, &e);
    CHECK(gguf_load_params(f, m, &e) == RLVR_EUNSUPPORTED && strstr(e.msg, "'output.weight'"), "%s", e.msg);
    model_free(m);
    st_close(s);
    gguf_close(f);
}

/* A metadata-only llama file for gguf_model_config, with optional rope_freqs. */
static void config_file(buf *b, const char *arch, float theta, int D, const float *freqs, int extra_kv,
                        const char *ek, const char *ev) {
    int nt = freqs ? 1 : 0;
    char k[96];
    header(b, 3, (uint64_t)nt, 10 + (uint64_t)extra_kv);
    kv_str(b, "general.architecture", arch);
#define K(s) (snprintf(k, sizeof k, "%s.%s", arch, s), k)
    kv_u32(b, K("embedding_length"), (uint32_t)(2 * D));
    kv_u32(b, K("block_count"), 1);
    kv_u32(b, K("feed_forward_length"), 8);
    kv_u32(b, K("attention.head_count"), 2);
    kv_u32(b, K("context_length"), 1024);
    kv_f32(b, K("attention.layer_norm_rms_epsilon"), 1e-5f);
    kv_f32(b, K("rope.freq_base"), theta);
    kv_u32(b, K("vocab_size"), 16);
#undef K
    if (extra_kv) kv_str(b, ek, ev);
    kv_u32(b, "tokenizer.ggml.eos_token_id", 3);
    if (freqs) { uint64_t ne[1] = {(uint64_t)D / 2}; tinfo(b, "rope_freqs.weight", 1, ne, GGML_TYPE_F32, 0); }
    pad(b, 32);
    if (freqs) for (int i = 0; i < D / 2; i++) f32(b, freqs[i]);
}

static double hf_llama3(double inv, double factor, double low, double high, double orig) {
    double wl = 2 * M_PI / inv;
    if (wl < orig / high) return 1;
    if (wl > orig / low) return factor;
    double s = (orig / wl - low) / (high - low);
    return 1 / ((1 - s) / factor + s);
}

static int config_of(buf *b, model_config *c, rlvr_err *e) {
    gguf_file *f = NULL;
    int rc = open_bytes(b->p, b->n, &f, e);
    if (!rc) { rc = gguf_model_config(f, c, e); close_bytes(f); }
    free(b->p);
    *b = (buf){0};
    return rc;
}

static void test_config_rope(void) {
    buf b = {0};
    model_config c;
    rlvr_err e = {0};
    config_file(&b, "llama", 10000, 8, NULL, 0, NULL, NULL);
    CHECK(config_of(&b, &c, &e) == RLVR_OK && c.vocab_size == 16 && c.head_dim == 8 && c.n_kv_heads == 2 &&
          c.bos_id == -1 && c.eos_id == 3 && c.tie_embeddings, "minimal: %s", e.msg);
    /* three shapes of Llama-3 factors: 2+ blend points, 1, none; each must reproduce */
    struct { float theta; int D; double factor, low, high, orig; } cases[] = {
        {10000, 16, 8, 1, 4, 64}, {500000, 16, 4, 1, 4, 48}, {500000, 8, 4, 1, 4, 48}, {500000, 64, 8, 1, 4, 8192},
    };
    for (int k = 0; k < 4; k++) {
        float fr[32];
        int D = cases[k].D;
        for (int i = 0; i < D / 2; i++)
            fr[i] = (float)hf_llama3(pow(cases[k].theta, -2.0 * i / D), cases[k].factor, cases[k].low, cases[k].high, cases[k].orig);
        config_file(&b, "llama", cases[k].theta, D, fr, 0, NULL, NULL);
        int rc = config_of(&b, &c, &e);
        CHECK(rc == RLVR_OK && c.rope_scaling == ROPE_SCALING_LLAMA3 && c.rope_factor == (float)cases[k].factor,
              "case %d: %s", k, e.msg);
        if (rc) continue;
        int bad = 0;
        for (int i = 0; i < D / 2; i++) {
            double inv = pow(cases[k].theta, -2.0 * i / D);
            double got = hf_llama3(inv, c.rope_factor, c.rope_low_freq_factor, c.rope_high_freq_factor, c.rope_orig_max_pos);
            bad += fabs(got - fr[i]) > 1e-4 * fr[i];
        }
        CHECK(bad == 0, "case %d: recovered (%g, %g, %g, %d) does not reproduce the factors", k, c.rope_factor,
              c.rope_low_freq_factor, c.rope_high_freq_factor, c.rope_orig_max_pos);
        if (k != 2) CHECK(c.rope_orig_max_pos == (int)cases[k].orig && c.rope_high_freq_factor == 4, "case %d exact: orig %d high %g",
                          k, c.rope_orig_max_pos, c.rope_high_freq_factor);
    }
    float garbage[4] = {1, 3, 2, 5};
    config_file(&b, "llama", 10000, 8, garbage, 0, NULL, NULL);
    CHECK(config_of(&b, &c, &e) == RLVR_EUNSUPPORTED && strstr(e.msg, "rope_freqs"), "%s", e.msg);
    float below[4] = {1, 0.5f, 4, 4};
    config_file(&b, "llama", 10000, 8, below, 0, NULL, NULL);
    CHECK(config_of(&b, &c, &e) == RLVR_EUNSUPPORTED && strstr(e.msg, "rope_freqs.weight[1]"), "%s", e.msg);
    float ones[4] = {1, 1, 1, 1};
    config_file(&b, "llama", 10000, 8, ones, 0, NULL, NULL);
    CHECK(config_of(&b, &c, &e) == RLVR_OK && c.rope_scaling == ROPE_SCALING_NONE, "all ones: %s", e.msg);
    config_file(&b, "llama", 10000, 8, NULL, 1, "llama.rope.scaling.type", "yarn");
    CHECK(config_of(&b, &c, &e) == RLVR_EUNSUPPORTED && strstr(e.msg, "yarn"), "%s", e.msg);
    config_file(&b, "llama", 10000, 8, NULL, 1, "llama.rope.scaling.type", "none");
    CHECK(config_of(&b, &c, &e) == RLVR_OK, "none: %s", e.msg);
    config_file(&b, "gpt2", 10000, 8, NULL, 0, NULL, NULL);
    CHECK(config_of(&b, &c, &e) == RLVR_EUNSUPPORTED && strstr(e.msg, "gpt2"), "%s", e.msg);
    config_file(&b, "llama", 10000, 8, NULL, 1, "llama.rope.dimension_count", "x");
    CHECK(config_of(&b, &c, &e) == RLVR_EFORMAT && strstr(e.msg, "llama.rope.dimension_count") && strstr(e.msg, "not an integer"), "%s", e.msg);
    /* per-layer head counts (an array) are refused, not misread */
    header(&b, 3, 0, 2); kv_str(&b, "general.architecture", "llama");
    str(&b, "llama.embedding_length"); u32(&b, GGUF_TYPE_ARRAY); u32(&b, GGUF_TYPE_UINT32); u64(&b, 2); u32(&b, 8); u32(&b, 8);
    CHECK(config_of(&b, &c, &e) == RLVR_EUNSUPPORTED && strstr(e.msg, "per-layer"), "%s", e.msg);
    /* a missing required key is named */
    header(&b, 3, 0, 1); kv_str(&b, "general.architecture", "qwen2");
    CHECK(config_of(&b, &c, &e) == RLVR_EFORMAT && strstr(e.msg, "qwen2.embedding_length"), "%s", e.msg);
}

/* ---------------------------------------------------------------- (d) SmolLM2 */

/* made by tests/ref/make_gguf_golden.py --smollm2 (gguf-py 0.19.0, transformers 5.24.0's GGUF loader) */
static const int smol_prompt[5] = {504, 3575, 282, 4649, 314};  /* The Ġcapital Ġof ĠFrance Ġis */
static const char *const smol_prompt_str[5] = {"The", "\xc4\xa0" "capital", "\xc4\xa0" "of", "\xc4\xa0" "France", "\xc4\xa0" "is"};
static const int smol_next = 7042;  /* ĠParis */
static const struct { const char *name; int row, col; float value; } smol_probe[] = {
    {"model.layers.0.self_attn.q_proj.weight", 0, 0, -0.0963134766f},
    {"model.layers.0.self_attn.q_proj.weight", 1, 5, -0.298461914f},
    {"model.layers.0.self_attn.q_proj.weight", 33, 100, 0.305725098f},
    {"model.layers.0.self_attn.q_proj.weight", 296, 575, 0.173919678f},
    {"model.layers.7.self_attn.k_proj.weight", 2, 3, -0.145843506f},
    {"model.layers.7.self_attn.k_proj.weight", 96, 17, -0.0322418213f},
    {"model.layers.29.self_attn.k_proj.weight", 191, 300, -0.165161133f},
    {"model.layers.3.self_attn.v_proj.weight", 100, 200, -0.083984375f},
    {"model.embed_tokens.weight", 1, 0, -0.0238037109f},
    {"model.embed_tokens.weight", 49151, 575, -0.0417022705f},
    {"model.layers.5.mlp.down_proj.weight", 10, 1000, 0.0259399414f},
    {"model.layers.29.post_attention_layernorm.weight", 7, -1, 0.318359375f},
    {"model.norm.weight", 575, -1, 1.984375f},
};
static const int smol_logit_ids[6] = {0, 1, 2, 7042, 100, 49151};
static const float smol_logit_last[6] = {1.613645f, -11.87187f, -7.944446f, 17.37127f, 1.319234f, -7.99389f};
static const int smol_argmax_last = 7042;
static const float smol_logp[5] = {-11.5393f, -0.3376161f, -2.438663f, -0.4509534f, -0.2580821f};

static void test_smollm2(void) {
    char path[1024];
    const char *dir = getenv("RLVR_MODELS_DIR"), *home = getenv("HOME");
    if (dir && *dir) snprintf(path, sizeof path, "%s/SmolLM2-135M-Instruct.Q4_1.gguf", dir);
    else snprintf(path, sizeof path, "%s/.cache/rlvr/models/SmolLM2-135M-Instruct.Q4_1.gguf", home ? home : ".");
    if (access(path, R_OK) != 0) {
        printf("SKIP: SmolLM2 GGUF not found; run scripts/fetch_models.sh (looked for %s)\n", path);
        return;
    }
    gguf_file *f = NULL;
    rlvr_err e = {0};
    if (gguf_open(path, &f, &e)) { CHECK(0, "%s", e.msg); return; }
    model_config c;
    int rc = gguf_model_config(f, &c, &e);
    CHECK(rc == RLVR_OK, "config: %s", e.msg);
    CHECK(strcmp(c.arch, "llama") == 0 && c.dim == 576 && c.n_layers == 30 && c.n_heads == 9 && c.n_kv_heads == 3 &&
          c.head_dim == 64 && c.hidden_dim == 1536 && c.vocab_size == 49152 && c.tie_embeddings && c.max_seq_len == 8192 &&
          c.rope_theta == 100000 && c.norm_eps == 1e-5f && c.bos_id == 1 && c.eos_id == 2 &&
          c.rope_scaling == ROPE_SCALING_NONE, "SmolLM2 config");
    int tok = gguf_find_key(f, "tokenizer.ggml.tokens");
    for (int t = 0; t < 5; t++) {
        size_t len = 0;
        const char *s = gguf_arr_get_str(f, tok, (uint64_t)smol_prompt[t], &len);
        CHECK(s && len == strlen(smol_prompt_str[t]) && memcmp(s, smol_prompt_str[t], len) == 0, "token %d", smol_prompt[t]);
    }
    model *m = rc ? NULL : model_new(&c, &e);
    if (!m) { CHECK(0, "model_new: %s", e.msg); gguf_close(f); return; }
    rc = gguf_load_params(f, m, &e);
    CHECK(rc == RLVR_OK, "load: %s", e.msg);
    gguf_close(f);
    for (size_t k = 0; k < sizeof smol_probe / sizeof *smol_probe; k++) {
        const tensor_info *ti = model_find_tensor(m, smol_probe[k].name);
        CHECK(ti != NULL, "%s", smol_probe[k].name);
        if (!ti) continue;
        size_t idx = smol_probe[k].col < 0 ? (size_t)smol_probe[k].row : (size_t)smol_probe[k].row * ti->shape[1] + smol_probe[k].col;
        char what[160];
        snprintf(what, sizeof what, "%s[%d,%d]", smol_probe[k].name, smol_probe[k].row, smol_probe[k].col);
        CHECK_CLOSE(m->params[ti->offset + idx], smol_probe[k].value, 1e-6, 1e-6, what);
    }
    /* the forward pass, against transformers fp32 on the same dequantized weights */
    if (!rc && model_alloc_train(m, 8, 1, &e) == RLVR_OK) {
        int targets[5], seq[2] = {0, 5};
        for (int t = 0; t < 5; t++) targets[t] = t < 4 ? smol_prompt[t + 1] : smol_next;
        rc = model_forward(m, smol_prompt, targets, seq, 1, &e);
        CHECK(rc == RLVR_OK, "forward: %s", e.msg);
        if (!rc) {
            const float *last = m->a.logits + (size_t)4 * c.vocab_size;
            int am = 0;
            for (int v = 1; v < c.vocab_size; v++) if (last[v] > last[am]) am = v;
            CHECK(am == smol_argmax_last, "argmax after 'The capital of France is' = %d, want %d (Paris)", am, smol_argmax_last);
            /* logits agree to ~2e-5 (a wrong Q/K row order is off by 0.05..5 here, although
             * the argmax survives it); logp carries model_forward's fp32 log-sum-exp over
             * 49152 terms, ~2e-4 from float64 */
            for (int k = 0; k < 6; k++) CHECK_CLOSE(last[smol_logit_ids[k]], smol_logit_last[k], 1e-4, 1e-5, "logit");
            for (int t = 0; t < 5; t++) CHECK_CLOSE(m->a.logp[t], smol_logp[t], 5e-4, 0, "logp");
        }
    } else {
        CHECK(0, "alloc: %s", e.msg);
    }
    model_free(m);
}

int main(void) {
    RUN(test_type_table);
    RUN(test_metadata);
    RUN(test_dequant_golden);
    RUN(test_valid_builder);
    RUN(test_hostile_header);
    RUN(test_hostile_kv);
    RUN(test_hostile_tensors);
    RUN(test_truncation);
    RUN(test_mutations);
    RUN(test_open_errors);
    RUN(test_models);
    RUN(test_permute_is_real);
    RUN(test_config_rope);
    RUN(test_smollm2);
    return check_finish("test_gguf");
}
