/* fuzz_safetensors.c: libFuzzer target for the safetensors reader
 * (src/formats/safetensors.c).
 *
 * st_open takes a path and maps the file, so each input is written to a per-process
 * temp file in /tmp (rewritten for every input), opened, and walked: every tensor by
 * index and by name, its raw bytes, st_read_f32 / st_read_i32 when the dtype allows
 * (and once with a wrong count, which must be refused), every metadata entry; then
 * st_close. The temp file is removed at exit.
 * Any ASan/UBSan report or abort is a bug; RLVR_E* returns are fine.
 * Build and run: tests/fuzz/run.sh (docs/fuzzing.md). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "formats/safetensors.h"

enum { MAX_READ = 1 << 20 };   /* elements; larger tensors are only touched */

static char tmp_path[64];
static volatile uint64_t sink;

static void cleanup(void) { if (tmp_path[0]) unlink(tmp_path); }

/* Writes data to the temp file (truncating it). 0 on success. */
static int write_tmp(const uint8_t *data, size_t size) {
    if (!tmp_path[0]) {
        snprintf(tmp_path, sizeof tmp_path, "/tmp/rlvr_fuzz_st_%ld.safetensors", (long)getpid());
        atexit(cleanup);
    }
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) { close(fd); return -1; }
        off += (size_t)w;
    }
    close(fd);
    return 0;
}

static int is_float(st_dtype t) { return t == ST_F32 || t == ST_F16 || t == ST_BF16 || t == ST_F64; }
static int is_int(st_dtype t) {
    return t == ST_I8 || t == ST_I16 || t == ST_I32 || t == ST_I64 || t == ST_U8 || t == ST_U16 ||
           t == ST_U32 || t == ST_U64 || t == ST_BOOL;
}

static void walk(const st_file *f) {
    rlvr_err err;
    int n = st_count(f);
    for (int i = 0; i < n; i++) {
        const st_tensor *t = st_get(f, i);
        if (!t) abort();
        if (st_find(f, t->name) != t) abort();    /* names are unique and findable */
        if (t->nbytes != t->numel * st_dtype_size(t->dtype)) abort();
        const unsigned char *p = st_data(f, t);
        if (t->nbytes) { if (!p) abort(); sink += p[0] + p[t->nbytes - 1]; }
        (void)st_dtype_name(t->dtype);
        if (t->numel > MAX_READ) continue;
        size_t cap = t->numel ? t->numel : 1;
        if (is_float(t->dtype)) {
            float *dst = malloc(cap * sizeof *dst);
            if (!dst) continue;
            if (st_read_f32(f, t, dst, t->numel, &err) != RLVR_OK) abort();   /* valid dtype: must read */
            if (st_read_f32(f, t, dst, t->numel + 1, &err) == RLVR_OK) abort();
            if (t->numel) sink += (uint64_t)(dst[t->numel - 1] == dst[0]);
            free(dst);
        } else if (is_int(t->dtype)) {
            int32_t *dst = malloc(cap * sizeof *dst);
            if (!dst) continue;
            if (st_read_i32(f, t, dst, t->numel, &err) == RLVR_OK && t->numel) sink += (uint32_t)dst[0];
            if (st_read_i32(f, t, dst, t->numel + 1, &err) == RLVR_OK) abort();
            free(dst);
        } else {
            float x;
            if (st_read_f32(f, t, &x, t->numel, &err) == RLVR_OK) abort();    /* unsupported dtype */
        }
    }
    if (st_get(f, n) || st_get(f, -1)) abort();
    int nm = st_meta_count(f);
    for (int i = 0; i < nm; i++) {
        const char *k = st_meta_key(f, i), *v = st_meta_value(f, i);
        if (!k || !v) abort();
        if (!st_meta(f, k)) abort();
        sink += strlen(k) + strlen(v);
    }
    (void)st_path(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (write_tmp(data, size) != 0) return 0;
    st_file *f = NULL;
    rlvr_err err;
    if (st_open(tmp_path, &f, &err) != RLVR_OK) {
        if (f) abort();
        return 0;
    }
    walk(f);
    st_close(f);
    return 0;
}
