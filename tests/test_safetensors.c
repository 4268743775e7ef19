/* test_safetensors.c: fp16/bf16 conversion (exhaustive where it can be), safetensors
 * write/read round trips for every dtype, and hostile files built byte by byte: each
 * must fail with RLVR_EFORMAT (or the documented code) and a message naming the fault. */
#include <dirent.h>
#include <stdint.h>
#include <unistd.h>
#include "check.h"
#include "core/err.h"
#include "formats/dtype.h"
#include "formats/safetensors.h"

static char dir[64];

static const char *tpath(const char *name) {
    static char buf[4][512];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) {              /* splitmix64: deterministic */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *fp = fopen(path, "wb");
    if (!fp) { perror(path); exit(2); }
    if (n) fwrite(p, 1, n, fp);
    fclose(fp);
}

/* u64 header length + header text + data bytes */
static void write_raw(const char *path, uint64_t hlen, const char *header, const void *data, size_t ndata) {
    size_t hn = strlen(header);
    unsigned char *b = malloc(8 + hn + ndata + 1);
    memcpy(b, &hlen, 8);
    memcpy(b + 8, header, hn);
    if (ndata) memcpy(b + 8 + hn, data, ndata);
    write_bytes(path, b, 8 + hn + ndata);
    free(b);
}

static void write_hdr(const char *path, const char *header, size_t ndata) {
    unsigned char *d = calloc(ndata + 1, 1);
    for (size_t i = 0; i < ndata; i++) d[i] = (unsigned char)i;
    write_raw(path, strlen(header), header, d, ndata);
    free(d);
}

/* Opening must fail with code and a message containing want. */
static void expect_fail(const char *what, int code, const char *want) {
    st_file *f = (st_file *)1;
    rlvr_err e = {0};
    int rc = st_open(tpath("h.safetensors"), &f, &e);
    CHECK(rc == code, "%s: got rc %d (%s), want %d", what, rc, rc ? e.msg : "ok", code);
    CHECK(f == NULL, "%s: *out not NULL on failure", what);
    CHECK(rc == RLVR_OK || strstr(e.msg, want), "%s: message '%s' lacks '%s'", what, e.msg, want);
    CHECK(rc == RLVR_OK || strstr(e.msg, "h.safetensors"), "%s: message '%s' lacks the path", what, e.msg);
    if (rc == RLVR_OK) st_close(f);
}

static void hostile(const char *header, size_t ndata, int code, const char *want) {
    write_hdr(tpath("h.safetensors"), header, ndata);
    expect_fail(header, code, want);
}

/* ---------------------------------------------------------------- dtype */

static void test_f16_exhaustive(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = dtype_f16_to_f32((uint16_t)h);
        int is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (is_nan) { bad += f == f; continue; }
        bad += dtype_f32_to_f16(f) != h;
#ifdef __FLT16_MANT_DIG__
        _Float16 ref; uint16_t hh = (uint16_t)h; memcpy(&ref, &hh, 2);
        bad += f2u((float)ref) != f2u(f);
#endif
    }
    CHECK(bad == 0, "%d fp16 values failed the round trip", bad);
    /* every midpoint between neighbours (exact in fp32) ties to the even one; a hair
     * above or below goes to the nearer one */
    bad = 0;
    for (uint32_t h = 0; h < 0x7bff; h++)
        for (uint32_t s = 0; s <= 0x8000; s += 0x8000) {
            float a = dtype_f16_to_f32((uint16_t)(h | s)), b = dtype_f16_to_f32((uint16_t)((h + 1) | s));
            float mid = (float)(((double)a + b) / 2);
            uint16_t even = (uint16_t)(((h & 1) ? h + 1 : h) | s);
            bad += dtype_f32_to_f16(mid) != even;
            bad += dtype_f32_to_f16(nextafterf(mid, a)) != (uint16_t)(h | s);
            bad += dtype_f32_to_f16(nextafterf(mid, b)) != (uint16_t)((h + 1) | s);
        }
    CHECK(bad == 0, "%d fp16 midpoints rounded wrongly", bad);
    CHECK(dtype_f32_to_f16(65519.f) == 0x7bff, "65519 -> max half");
    CHECK(dtype_f32_to_f16(65520.f) == 0x7c00, "65520 -> inf (tie to even)");
    CHECK(dtype_f32_to_f16(0x1p-25f) == 0, "2^-25 ties to 0");
    CHECK(dtype_f32_to_f16(0x1.000002p-25f) == 1, "just above 2^-25 -> smallest subnormal");
    CHECK(dtype_f32_to_f16(-0.0f) == 0x8000, "-0");
    CHECK(dtype_f32_to_f16(u2f(0x7fc00000)) == 0x7e00, "quiet NaN");
    CHECK((dtype_f32_to_f16(u2f(0x7f800001)) & 0x7fff) > 0x7c00, "signalling NaN stays NaN");
}

static void test_f32_to_f16_vs_compiler(void) {
#ifdef __FLT16_MANT_DIG__
    int bad = 0;
    for (int i = 0; i < 2000000; i++) {
        uint32_t u = (uint32_t)rng();
        if (i & 1) u = (u & 0x87ffffffu) | 0x30000000u;     /* half the draws in fp16 range */
        float x = u2f(u);
        if (x != x) continue;
        _Float16 r = (_Float16)x;
        uint16_t want; memcpy(&want, &r, 2);
        if (dtype_f32_to_f16(x) != want && bad++ < 5)
            fprintf(stderr, "  f32 0x%08x -> 0x%04x, compiler 0x%04x\n", u, dtype_f32_to_f16(x), want);
    }
    CHECK(bad == 0, "%d conversions differ from the compiler's _Float16", bad);
#else
    printf("     (no _Float16 in this compiler: compared on the fp16 grid only)\n");
#endif
}

static void test_bf16(void) {
    int bad = 0;
    for (int i = 0; i < 1000000; i++) {
        float x = u2f((uint32_t)rng());
        if (x != x) { bad += dtype_bf16_to_f32(dtype_f32_to_bf16(x)) == dtype_bf16_to_f32(dtype_f32_to_bf16(x)); continue; }
        uint16_t h = dtype_f32_to_bf16(x);
        /* the result is the nearer of the two bf16 neighbours, ties to even */
        uint32_t u = f2u(x), lo = u & 0xffff0000u, rem = u & 0xffffu;
        uint32_t want = rem > 0x8000u || (rem == 0x8000u && (lo >> 16) & 1) ? (lo >> 16) + 1 : lo >> 16;
        bad += h != (uint16_t)want;
    }
    CHECK(bad == 0, "%d bf16 roundings wrong", bad);
    CHECK(dtype_bf16_to_f32(0x3f80) == 1.0f, "bf16 1.0");
    CHECK(dtype_f32_to_bf16(u2f(0x7f7fffff)) == 0x7f80, "FLT_MAX rounds to inf");
    uint16_t n = dtype_f32_to_bf16(u2f(0x7f800001));
    CHECK((n & 0x7f80) == 0x7f80 && (n & 0x7f), "signalling NaN stays NaN in bf16 (0x%04x)", n);
    float src[3] = {1.5f, -2.0f, 3.0f}, back[3];
    unsigned char buf[7];
    dtype_f32_to_bf16_n(buf + 1, src, 3);           /* unaligned destination on purpose */
    dtype_bf16_to_f32_n(back, buf + 1, 3);
    CHECK(back[0] == 1.5f && back[1] == -2.0f && back[2] == 3.0f, "bulk bf16 unaligned");
    dtype_f32_to_f16_n(buf + 1, src, 3);
    dtype_f16_to_f32_n(back, buf + 1, 3);
    CHECK(back[0] == 1.5f && back[1] == -2.0f && back[2] == 3.0f, "bulk f16 unaligned");
}

/* ---------------------------------------------------------------- round trip */

static void test_dtype_names(void) {
    for (int t = 0; t < ST_N_DTYPES; t++) {
        st_dtype back;
        CHECK(st_dtype_parse(st_dtype_name((st_dtype)t), &back) == RLVR_OK && back == (st_dtype)t, "dtype %d", t);
        CHECK(st_dtype_size((st_dtype)t) >= 1, "dtype %d size", t);
    }
    st_dtype d;
    CHECK(st_dtype_parse("F4", &d) == RLVR_EUNSUPPORTED, "F4 unsupported");
    CHECK(st_dtype_parse("f32", &d) == RLVR_EFORMAT, "names are case sensitive");
    CHECK(st_dtype_size(ST_N_DTYPES) == 0 && strcmp(st_dtype_name((st_dtype)-1), "?") == 0, "out of range");
}

static int count_dir_entries(void) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static void test_round_trip(void) {
    enum { N = ST_N_DTYPES * 3 + 2 };
    st_out t[N];
    char names[N][48];
    unsigned char *bufs[N];
    int n = 0;
    for (int d = 0; d < ST_N_DTYPES; d++)
        for (int k = 0; k < 3; k++, n++) {
            st_out *o = &t[n];
            memset(o, 0, sizeof *o);
            snprintf(names[n], sizeof names[n], "layers.%d.%s.w%d", k, st_dtype_name((st_dtype)d), k);
            o->name = names[n];
            o->dtype = (st_dtype)d;
            o->ndim = k == 0 ? 0 : k;                /* a scalar, a vector, a matrix */
            if (k >= 1) o->shape[0] = 5;
            if (k >= 2) o->shape[1] = 3 + d % 4;
            size_t numel = k == 0 ? 1 : k == 1 ? 5 : (size_t)(5 * (3 + d % 4));
            size_t nb = numel * st_dtype_size(o->dtype);
            bufs[n] = malloc(nb);
            for (size_t i = 0; i < nb; i++) bufs[n][i] = (unsigned char)rng();
            if (o->dtype == ST_BOOL) for (size_t i = 0; i < nb; i++) bufs[n][i] &= 1;
            o->data = bufs[n];
        }
    t[n] = (st_out){.name = "empty", .dtype = ST_F32, .ndim = 3, .shape = {4, 0, 2}, .data = NULL};
    bufs[n++] = NULL;
    static const char uname[] = "naïve \"quoted\"\n\xe2\x82\xac";
    static const float fv[4] = {1.0f, -2.5f, 3.25e-3f, 65504.0f};
    t[n] = (st_out){.name = uname, .dtype = ST_F32, .ndim = 2, .shape = {2, 2}, .data = fv};
    bufs[n++] = NULL;
    const char *meta[] = {"format", "pt", "step", "12", "note", "h\xc3\xa9llo", NULL};
    const char *p = tpath("rt.safetensors");
    rlvr_err e = {0};
    CHECK(st_write(p, t, n, meta, &e) == RLVR_OK, "write: %s", e.msg);
    CHECK(st_write(p, t, n, meta, &e) == RLVR_OK, "overwrite: %s", e.msg);
    CHECK(count_dir_entries() == 1, "temp files left behind (%d entries)", count_dir_entries());

    FILE *fp = fopen(p, "rb");
    uint64_t hlen = 0;
    CHECK(fp && fread(&hlen, 8, 1, fp) == 1, "read header length");
    if (fp) fclose(fp);
    CHECK(hlen % 8 == 0, "header length %llu not a multiple of 8", (unsigned long long)hlen);

    st_file *f = NULL;
    CHECK(st_open(p, &f, &e) == RLVR_OK, "open: %s", e.msg);
    if (!f) return;
    CHECK(st_count(f) == n, "count %d want %d", st_count(f), n);
    CHECK(strcmp(st_path(f), p) == 0, "path");
    for (int i = 0; i < n && i < st_count(f); i++) {
        const st_tensor *x = st_get(f, i);
        CHECK(strcmp(x->name, t[i].name) == 0, "order/name %d: %s", i, x->name);
        CHECK(st_find(f, t[i].name) == x, "find %s", t[i].name);
        CHECK(x->dtype == t[i].dtype && x->ndim == t[i].ndim, "dtype/ndim %s", x->name);
        uint64_t numel = 1;
        for (int d = 0; d < x->ndim; d++) { CHECK(x->shape[d] == t[i].shape[d], "shape %s", x->name); numel *= (uint64_t)x->shape[d]; }
        CHECK(x->numel == numel && x->nbytes == numel * st_dtype_size(x->dtype), "numel/nbytes %s", x->name);
        CHECK(x->nbytes == 0 || memcmp(st_data(f, x), t[i].data, x->nbytes) == 0, "bytes %s", x->name);
        CHECK(x->offset >= 8 + hlen, "absolute offset %s", x->name);
    }
    CHECK(st_get(f, -1) == NULL && st_get(f, n) == NULL, "st_get out of range");
    CHECK(st_find(f, "nope") == NULL && st_find(f, "") == NULL, "st_find missing");
    CHECK(st_meta(f, "format") && strcmp(st_meta(f, "format"), "pt") == 0, "meta format");
    CHECK(st_meta(f, "note") && strcmp(st_meta(f, "note"), "h\xc3\xa9llo") == 0, "meta utf-8");
    CHECK(st_meta(f, "missing") == NULL && st_meta_count(f) == 3, "meta count");
    CHECK(strcmp(st_meta_key(f, 1), "step") == 0 && strcmp(st_meta_value(f, 1), "12") == 0, "meta by index");
    CHECK(st_meta_key(f, 3) == NULL, "meta index out of range");

    /* conversions */
    float got[64];
    const st_tensor *x = st_find(f, uname);
    CHECK(x && st_read_f32(f, x, got, 4, &e) == RLVR_OK && memcmp(got, fv, sizeof fv) == 0, "read F32");
    for (int i = 0; i < n; i++) {
        const st_tensor *y = st_get(f, i);
        if (!y->numel) continue;
        int rc = st_read_f32(f, y, got, y->numel, &e);
        int fl = y->dtype == ST_F32 || y->dtype == ST_F16 || y->dtype == ST_BF16 || y->dtype == ST_F64;
        CHECK(fl ? rc == RLVR_OK : rc == RLVR_EUNSUPPORTED, "st_read_f32 %s rc %d", y->name, rc);
        for (uint64_t k = 0; fl && !rc && k < y->numel; k++) {
            const unsigned char *s = (const unsigned char *)t[i].data + k * st_dtype_size(y->dtype);
            uint16_t h; uint32_t u; double dd;
            float want = 0;
            if (y->dtype == ST_F16) { memcpy(&h, s, 2); want = dtype_f16_to_f32(h); }
            if (y->dtype == ST_BF16) { memcpy(&h, s, 2); want = u2f((uint32_t)h << 16); }
            if (y->dtype == ST_F32) { memcpy(&u, s, 4); want = u2f(u); }
            if (y->dtype == ST_F64) { memcpy(&dd, s, 8); want = (float)dd; }
            CHECK(f2u(got[k]) == f2u(want) || (got[k] != got[k] && want != want), "%s[%llu]", y->name, (unsigned long long)k);
        }
    }
    CHECK(st_read_f32(f, x, got, 3, &e) == RLVR_EARG && strstr(e.msg, "caller expects 3"), "n mismatch: %s", e.msg);
    st_tensor fake = *x;
    CHECK(st_read_f32(f, &fake, got, 4, &e) == RLVR_EARG, "tensor from elsewhere");
    CHECK(st_read_f32(NULL, x, got, 4, &e) == RLVR_EARG, "NULL file");
    st_close(f);
    for (int i = 0; i < N; i++) free(bufs[i]);
}

static void test_read_i32(void) {
    int64_t i64[4] = {0, -7, INT32_MAX, INT32_MIN};
    int64_t big[2] = {1, (int64_t)INT32_MAX + 1};
    uint32_t u32[2] = {5, 0x80000000u};
    int8_t i8[3] = {-128, 0, 127};
    uint16_t u16[2] = {0, 65535};
    uint64_t u64[2] = {3, UINT64_MAX};
    unsigned char bools[3] = {0, 1, 2};
    float fl[1] = {1};
    st_out t[] = {
        {"i64", ST_I64, 1, {4}, i64}, {"big", ST_I64, 1, {2}, big}, {"u32", ST_U32, 1, {2}, u32},
        {"i8", ST_I8, 1, {3}, i8},    {"u16", ST_U16, 1, {2}, u16}, {"u64", ST_U64, 1, {2}, u64},
        {"bool", ST_BOOL, 1, {3}, bools}, {"f", ST_F32, 1, {1}, fl},
    };
    const char *p = tpath("ids.safetensors");
    rlvr_err e = {0};
    CHECK(st_write(p, t, 8, NULL, &e) == RLVR_OK, "write: %s", e.msg);
    st_file *f = NULL;
    CHECK(st_open(p, &f, &e) == RLVR_OK, "open: %s", e.msg);
    if (!f) return;
    int32_t v[4];
    CHECK(st_read_i32(f, st_find(f, "i64"), v, 4, &e) == RLVR_OK && v[1] == -7 && v[2] == INT32_MAX && v[3] == INT32_MIN, "I64");
    CHECK(st_read_i32(f, st_find(f, "big"), v, 2, &e) == RLVR_EFORMAT && strstr(e.msg, "element 1") && strstr(e.msg, "'big'"), "I64 range: %s", e.msg);
    CHECK(st_read_i32(f, st_find(f, "u32"), v, 2, &e) == RLVR_EFORMAT && strstr(e.msg, "element 1"), "U32 range: %s", e.msg);
    CHECK(st_read_i32(f, st_find(f, "i8"), v, 3, &e) == RLVR_OK && v[0] == -128 && v[2] == 127, "I8");
    CHECK(st_read_i32(f, st_find(f, "u16"), v, 2, &e) == RLVR_OK && v[1] == 65535, "U16");
    CHECK(st_read_i32(f, st_find(f, "u64"), v, 2, &e) == RLVR_EFORMAT, "U64 range");
    CHECK(st_read_i32(f, st_find(f, "bool"), v, 3, &e) == RLVR_EFORMAT && strstr(e.msg, "BOOL byte is 2"), "BOOL 2: %s", e.msg);
    CHECK(st_read_i32(f, st_find(f, "f"), v, 1, &e) == RLVR_EUNSUPPORTED, "F32 via read_i32");
    CHECK(st_read_i32(f, st_find(f, "i64"), v, 5, &e) == RLVR_EARG, "n mismatch");
    st_close(f);
}

static void test_write_rejects(void) {
    float d[4] = {0};
    rlvr_err e = {0};
    const char *p = tpath("w.safetensors");
    struct { const char *what; st_out t[2]; int n; const char *const *meta; int code; const char *msg; } c[] = {
        {"duplicate", {{"a", ST_F32, 1, {1}, d}, {"a", ST_F32, 1, {1}, d}}, 2, NULL, RLVR_EARG, "duplicate tensor name 'a'"},
        {"NULL name", {{NULL, ST_F32, 1, {1}, d}}, 1, NULL, RLVR_EARG, "no name"},
        {"empty name", {{"", ST_F32, 1, {1}, d}}, 1, NULL, RLVR_EARG, "no name"},
        {"__metadata__", {{"__metadata__", ST_F32, 1, {1}, d}}, 1, NULL, RLVR_EARG, "__metadata__"},
        {"negative dim", {{"a", ST_F32, 2, {2, -1}, d}}, 1, NULL, RLVR_EARG, "shape[1] is -1"},
        {"ndim 9", {{"a", ST_F32, 9, {1}, d}}, 1, NULL, RLVR_EARG, "ndim 9"},
        {"ndim -1", {{"a", ST_F32, -1, {1}, d}}, 1, NULL, RLVR_EARG, "ndim -1"},
        {"NULL data", {{"a", ST_F32, 1, {4}, NULL}}, 1, NULL, RLVR_EARG, "data is NULL"},
        {"bad dtype", {{"a", (st_dtype)99, 1, {1}, d}}, 1, NULL, RLVR_EARG, "invalid dtype"},
        {"bad utf8", {{"a\xff", ST_F32, 1, {1}, d}}, 1, NULL, RLVR_EARG, "UTF-8"},
        {"overflow", {{"a", ST_F32, 3, {1ll << 40, 1ll << 40, 1ll << 40}, d}}, 1, NULL, RLVR_ENOMEM, "overflows"},
        {"odd meta", {{"a", ST_F32, 1, {1}, d}}, 1, (const char *const[]){"k", NULL}, RLVR_EARG, "no value"},
        {"dup meta", {{"a", ST_F32, 1, {1}, d}}, 1, (const char *const[]){"k", "1", "k", "2", NULL}, RLVR_EARG, "twice"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        int rc = st_write(p, c[i].t, c[i].n, c[i].meta, &e);
        CHECK(rc == c[i].code && strstr(e.msg, c[i].msg), "%s: rc %d msg '%s'", c[i].what, rc, e.msg);
    }
    CHECK(access(p, F_OK) != 0, "a refused write left a file");
    CHECK(st_write(p, NULL, 1, NULL, &e) == RLVR_EARG, "NULL tensors");
    CHECK(st_write(NULL, NULL, 0, NULL, &e) == RLVR_EARG, "NULL path");
    st_out ok = {"a", ST_F32, 1, {4}, d};
    CHECK(st_write(tpath("no/such/dir.safetensors"), &ok, 1, NULL, &e) == RLVR_EIO && strstr(e.msg, "temp"), "missing dir: %s", e.msg);
    CHECK(st_write(p, NULL, 0, NULL, &e) == RLVR_OK, "no tensors at all: %s", e.msg);
    st_file *f = NULL;
    CHECK(st_open(p, &f, &e) == RLVR_OK && st_count(f) == 0, "empty file reads back: %s", e.msg);
    st_close(f);
    unlink(p);
}

/* ---------------------------------------------------------------- hostile files */

static void test_hostile_sizes(void) {
    const char *p = tpath("h.safetensors");
    st_file *f = (st_file *)1;
    rlvr_err e = {0};
    CHECK(st_open(tpath("does-not-exist"), &f, &e) == RLVR_EIO && f == NULL, "missing file");
    CHECK(st_open(dir, &f, &e) == RLVR_EIO && strstr(e.msg, "regular"), "directory: %s", e.msg);
    CHECK(st_open(p, NULL, &e) == RLVR_EARG, "NULL out");
    write_bytes(p, "", 0);
    expect_fail("empty file", RLVR_EFORMAT, "shorter than the 8-byte");
    write_bytes(p, "\x10\0\0\0\0\0\0", 7);
    expect_fail("7 bytes", RLVR_EFORMAT, "shorter than the 8-byte");
    write_raw(p, UINT64_MAX, "{}", NULL, 0);
    expect_fail("header 2^64-1", RLVR_EFORMAT, "absurd");
    write_raw(p, ST_MAX_HEADER + 1, "{}", NULL, 0);
    expect_fail("header 100MB+1", RLVR_EFORMAT, "absurd");
    write_raw(p, 100, "{}", NULL, 0);
    expect_fail("header past end", RLVR_EFORMAT, "past the end");
    write_raw(p, 0, "", NULL, 0);
    expect_fail("header length 0", RLVR_EFORMAT, "not a JSON object");
    write_raw(p, 2, "{}", NULL, 0);
    f = NULL;
    CHECK(st_open(p, &f, &e) == RLVR_OK && st_count(f) == 0 && st_meta_count(f) == 0, "{} is a valid empty file: %s", e.msg);
    st_close(f);
    write_raw(p, 8, "{}      ", NULL, 0);
    f = NULL;
    CHECK(st_open(p, &f, &e) == RLVR_OK, "space padding is fine: %s", e.msg);
    st_close(f);
    write_raw(p, 3, "{}\x01", NULL, 0);
    expect_fail("control byte padding", RLVR_EFORMAT, "control byte 0x01");
}

static void test_hostile_json(void) {
    hostile("{\"a\":", 0, RLVR_EFORMAT, "not valid JSON");
    hostile("[1, 2]", 0, RLVR_EFORMAT, "not a JSON object");
    hostile(" {}", 0, RLVR_EFORMAT, "not a JSON object");
    hostile("{} x", 0, RLVR_EFORMAT, "bytes after");
    hostile("{}{}", 0, RLVR_EFORMAT, "bytes after");
    hostile("{\"a\xff\":{}}", 0, RLVR_EFORMAT, "UTF-8");
    hostile("{\"a\xc0\x80\":{}}", 0, RLVR_EFORMAT, "UTF-8");          /* overlong NUL */
    hostile("{\"a\xed\xa0\x80\":{}}", 0, RLVR_EFORMAT, "UTF-8");      /* surrogate */
    hostile("{\"a\x01\":{}}", 0, RLVR_EFORMAT, "control byte");
    hostile("{\"a\\u0000b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, RLVR_EFORMAT, "\\u0000");
    hostile("{\"a\\ud800\":{}}", 0, RLVR_EFORMAT, "not valid JSON");  /* lone surrogate escape */
    /* deep nesting must not blow the stack */
    char deep[4200];
    size_t k = 0;
    deep[k++] = '{'; memcpy(deep + k, "\"a\":", 4); k += 4;
    for (int i = 0; i < 2000; i++) deep[k++] = '[';
    for (int i = 0; i < 2000; i++) deep[k++] = ']';
    deep[k++] = '}'; deep[k] = 0;
    hostile(deep, 0, RLVR_EFORMAT, "not valid JSON");
}

static void test_hostile_entries(void) {
#define T(body) "{\"bad.tensor\":" body "}"
    hostile(T("5"), 0, RLVR_EFORMAT, "'bad.tensor': entry is a number, not an object");
    hostile(T("{\"shape\":[1],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "'bad.tensor': missing 'dtype'");
    hostile(T("{\"dtype\":\"F32\",\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "'bad.tensor': missing 'shape'");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[1]}"), 4, RLVR_EFORMAT, "'bad.tensor': missing 'data_offsets'");
    hostile(T("{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "'bad.tensor': dtype is a number");
    hostile(T("{\"dtype\":\"F31\",\"shape\":[1],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "'bad.tensor': unknown dtype 'F31'");
    hostile(T("{\"dtype\":\"F4\",\"shape\":[2],\"data_offsets\":[0,1]}"), 1, RLVR_EUNSUPPORTED, "sub-byte dtype 'F4'");
    hostile(T("{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "'dtype' appears twice");
    hostile(T("{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "'bad.tensor': shape is a string");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "'bad.tensor': shape[0] is -1");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "shape[0] is 1.5");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[1,\"2\"],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "shape[1] is a string");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "not a non-negative integer");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[9007199254740993],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "not a non-negative integer");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "9 dims, more than 8");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "'bad.tensor': shape product overflows");
    hostile(T("{\"dtype\":\"F64\",\"shape\":[4611686018427387],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "nbytes mismatch");
    hostile(T("{\"dtype\":\"F64\",\"shape\":[4503599627370495, 4096],\"data_offsets\":[0,4]}"), 4, RLVR_EFORMAT, "shape product overflows");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}"), 4, RLVR_EFORMAT, "'bad.tensor': data_offsets is an array of another length");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"a\":0}}"), 4, RLVR_EFORMAT, "data_offsets is an object");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}"), 4, RLVR_EFORMAT, "data_offsets holds a string");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}"), 4, RLVR_EFORMAT, "data_offsets holds -4");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1000]}"), 4, RLVR_EFORMAT, "'bad.tensor': data_offsets end 1000 is past the end of the 4-byte");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}"), 8, RLVR_EFORMAT, "'bad.tensor': data_offsets [8, 4] has begin > end");
    hostile(T("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}"), 8, RLVR_EFORMAT, "'bad.tensor': data_offsets span 4 bytes but F32 x 2 elements need 8");
    hostile("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"bad.tensor\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, RLVR_EFORMAT,
            "tensor 'bad.tensor' (bytes 4..12) overlaps tensor 'a'");
    hostile("{\"bad.tensor\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"bad.tensor\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, RLVR_EFORMAT,
            "duplicate tensor name 'bad.tensor'");
    hostile("{\"__metadata__\":5}", 0, RLVR_EFORMAT, "__metadata__ is a number");
    hostile("{\"__metadata__\":{\"bad.key\":1}}", 0, RLVR_EFORMAT, "value for key 'bad.key' is a number, not a string");
    hostile("{\"__metadata__\":{\"k\":{}}}", 0, RLVR_EFORMAT, "not a string");
    hostile("{\"__metadata__\":{\"bad.key\":\"1\",\"bad.key\":\"2\"}}", 0, RLVR_EFORMAT, "key 'bad.key' appears twice");
    hostile("{\"__metadata__\":{},\"__metadata__\":{}}", 0, RLVR_EFORMAT, "__metadata__ appears twice");
#undef T
    /* accepted: holes, trailing bytes, any order, zero-size, scalar, null metadata, unknown keys */
    write_hdr(tpath("h.safetensors"),
              "{\"__metadata__\":null,\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12],\"x\":1},"
              "\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
              "\"z\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[12,12]},"
              "\"z2\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[12,12]}}", 20);
    st_file *f = NULL;
    rlvr_err e = {0};
    CHECK(st_open(tpath("h.safetensors"), &f, &e) == RLVR_OK, "holes etc: %s", e.msg);
    if (f) {
        CHECK(st_count(f) == 4 && strcmp(st_get(f, 0)->name, "b") == 0, "header order kept");
        const st_tensor *b = st_find(f, "b");
        CHECK(b && b->ndim == 0 && b->numel == 1 && b->nbytes == 4, "scalar");
        const unsigned char *bd = st_data(f, b);
        CHECK(bd && bd[0] == 8 && bd[3] == 11, "data at offset 8");
        CHECK(st_find(f, "z")->numel == 0, "zero-size");
        st_close(f);
    }
}

/* Every prefix of a valid file: only cuts through trailing hole bytes may open. */
static void test_truncation(void) {
    const char *hdr = "{\"__metadata__\":{\"k\":\"v\"},\"w\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]},"
                      "\"ids\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[12,20]}}";
    size_t hn = strlen(hdr), ndata = 28;          /* bytes 20..28 are a trailing hole */
    unsigned char *full = malloc(8 + hn + ndata);
    uint64_t h64 = hn;
    memcpy(full, &h64, 8);
    memcpy(full + 8, hdr, hn);
    for (size_t i = 0; i < ndata; i++) full[8 + hn + i] = (unsigned char)(i * 7);
    size_t total = 8 + hn + ndata, need = 8 + hn + 20;
    int wrong = 0;
    for (size_t len = 0; len <= total; len++) {
        write_bytes(tpath("h.safetensors"), full, len);
        st_file *f = NULL;
        rlvr_err e = {0};
        int rc = st_open(tpath("h.safetensors"), &f, &e);
        int want = len >= need ? RLVR_OK : RLVR_EFORMAT;
        if (rc != want && wrong++ < 5) fprintf(stderr, "  len %zu: rc %d (%s)\n", len, rc, e.msg);
        if (f) {
            float v[6]; int32_t ids[2];
            wrong += st_read_f32(f, st_find(f, "w"), v, 6, &e) != RLVR_OK;
            wrong += st_read_i32(f, st_find(f, "ids"), ids, 2, &e) != RLVR_OK;
        }
        st_close(f);
    }
    CHECK(wrong == 0, "%d truncations handled wrongly", wrong);
    free(full);

    /* a file from st_write has no holes: every proper prefix fails */
    float d[3] = {1, 2, 3};
    st_out t[2] = {{"a", ST_F32, 1, {3}, d}, {"b", ST_BF16, 1, {2}, d}};
    rlvr_err e = {0};
    CHECK(st_write(tpath("w.safetensors"), t, 2, NULL, &e) == RLVR_OK, "write: %s", e.msg);
    FILE *fp = fopen(tpath("w.safetensors"), "rb");
    unsigned char buf[4096];
    size_t n = fp ? fread(buf, 1, sizeof buf, fp) : 0;
    if (fp) fclose(fp);
    wrong = 0;
    for (size_t len = 0; len < n; len++) {
        write_bytes(tpath("h.safetensors"), buf, len);
        st_file *f = NULL;
        wrong += st_open(tpath("h.safetensors"), &f, &e) != RLVR_EFORMAT;
        st_close(f);
    }
    CHECK(n > 0 && wrong == 0, "%d of %zu prefixes of a written file opened", wrong, n);
    unlink(tpath("w.safetensors"));
}

/* Random byte flips of a valid file: whatever opens must read without faults (the
 * sanitizer build turns any stray access into a failure). */
static void test_mutations(void) {
    float d[6] = {1, 2, 3, 4, 5, 6};
    st_out t[3] = {{"a", ST_F32, 2, {2, 3}, d}, {"b", ST_F16, 1, {4}, d}, {"c", ST_I64, 1, {1}, d}};
    const char *meta[] = {"format", "pt", NULL};
    rlvr_err e = {0};
    CHECK(st_write(tpath("m.safetensors"), t, 3, meta, &e) == RLVR_OK, "write: %s", e.msg);
    FILE *fp = fopen(tpath("m.safetensors"), "rb");
    unsigned char orig[4096], buf[4096];
    size_t n = fp ? fread(orig, 1, sizeof orig, fp) : 0;
    if (fp) fclose(fp);
    int opened = 0, bad_code = 0;
    for (int it = 0; it < 3000 && n; it++) {
        memcpy(buf, orig, n);
        int flips = 1 + (int)(rng() % 4);
        for (int k = 0; k < flips; k++) {
            size_t at = rng() % (it % 3 == 0 ? 8 : n);      /* a third of them hit the length */
            buf[at] = rng() % 3 == 0 ? (unsigned char)"{}[]\":,0-9e"[rng() % 11] : (unsigned char)rng();
        }
        write_bytes(tpath("h.safetensors"), buf, n);
        st_file *f = NULL;
        int rc = st_open(tpath("h.safetensors"), &f, &e);
        bad_code += rc != RLVR_OK && rc != RLVR_EFORMAT && rc != RLVR_EUNSUPPORTED;
        if (!f) continue;
        opened++;
        for (int i = 0; i < st_count(f); i++) {
            const st_tensor *x = st_get(f, i);
            if (x->numel > 4096) continue;
            float fv[4096]; int32_t iv[4096];
            st_read_f32(f, x, fv, x->numel, &e);
            st_read_i32(f, x, iv, x->numel, &e);
            volatile unsigned char sink = 0;
            const unsigned char *p = st_data(f, x);
            for (uint64_t b = 0; b < x->nbytes; b++) sink ^= p[b];
            (void)sink;
        }
        st_close(f);
    }
    CHECK(bad_code == 0, "%d mutations gave an unexpected status", bad_code);
    printf("     (%d of 3000 mutated files still opened)\n", opened);
    unlink(tpath("m.safetensors"));
}

/* Many tensors and metadata keys: every duplicate/overlap check must be a sort, not a
 * quadratic scan (50k^2 comparisons would take seconds, a 100 MB header hours). */
static void test_many_entries(void) {
    enum { N = 50000 };
    size_t cap = (size_t)N * 96 + 64, k = 0;
    char *h = malloc(cap);
    k += (size_t)snprintf(h + k, cap - k, "{\"__metadata__\":{");
    for (int i = 0; i < N; i++) k += (size_t)snprintf(h + k, cap - k, "%s\"k%d\":\"v\"", i ? "," : "", i);
    k += (size_t)snprintf(h + k, cap - k, "}");
    for (int i = 0; i < N; i++)   /* reverse order of names and offsets, to exercise the sorts */
        k += (size_t)snprintf(h + k, cap - k, ",\"t%d\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[%d,%d]}",
                              N - 1 - i, N - 1 - i, N - i);
    snprintf(h + k, cap - k, "}");
    write_hdr(tpath("h.safetensors"), h, N);
    st_file *f = NULL;
    rlvr_err e = {0};
    CHECK(st_open(tpath("h.safetensors"), &f, &e) == RLVR_OK, "%s", e.msg);
    if (f) {
        CHECK(st_count(f) == N && st_meta_count(f) == N, "counts");
        const st_tensor *t = st_find(f, "t123");
        CHECK(t && *(const unsigned char *)st_data(f, t) == 123, "find among many");
        CHECK(st_meta(f, "k49999") != NULL, "meta among many");
        st_close(f);
    }
    free(h);
}

static void cleanup(void) {
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') unlink(tpath(e->d_name));
    if (d) closedir(d);
    rmdir(dir);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/rlvr_test_st_XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
    RUN(test_f16_exhaustive);
    RUN(test_f32_to_f16_vs_compiler);
    RUN(test_bf16);
    RUN(test_dtype_names);
    RUN(test_round_trip);
    RUN(test_read_i32);
    RUN(test_write_rejects);
    RUN(test_hostile_sizes);
    RUN(test_hostile_json);
    RUN(test_hostile_entries);
    RUN(test_truncation);
    RUN(test_mutations);
    RUN(test_many_entries);
    cleanup();
    return check_finish("test_safetensors");
}
