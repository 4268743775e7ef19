/* gguf.c: a distrustful GGUF reader (header, metadata, tensor infos, data section)
 * and the mapping of llama.cpp's llama/qwen2/qwen3 files onto rlvr's model. The whole
 * file is validated at open, before a single pointer is handed out. Not here: a
 * writer, the tokenizer (it reads tokenizer.ggml.* through the metadata getters),
 * dequantization itself (quant.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/err.h"
#include "formats/gguf.h"
#include "formats/hfconfig.h"
#include "formats/safetensors.h"   /* st_utf8_valid */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "GGUF data are read by memcpy as little-endian; port before using a big-endian host"
#endif

#define NAME_FMT "%.200s"          /* keys and names in messages are cut at 200 bytes */
#define ULL(x) ((unsigned long long)(x))

/* ---------------------------------------------------------------- types */

static const struct { const char *name; int size; } vtypes[GGUF_TYPE_COUNT] = {
    [GGUF_TYPE_UINT8] = {"uint8", 1},   [GGUF_TYPE_INT8] = {"int8", 1},
    [GGUF_TYPE_UINT16] = {"uint16", 2}, [GGUF_TYPE_INT16] = {"int16", 2},
    [GGUF_TYPE_UINT32] = {"uint32", 4}, [GGUF_TYPE_INT32] = {"int32", 4},
    [GGUF_TYPE_FLOAT32] = {"float32", 4}, [GGUF_TYPE_BOOL] = {"bool", 1},
    [GGUF_TYPE_STRING] = {"string", 0}, [GGUF_TYPE_ARRAY] = {"array", 0},
    [GGUF_TYPE_UINT64] = {"uint64", 8}, [GGUF_TYPE_INT64] = {"int64", 8},
    [GGUF_TYPE_FLOAT64] = {"float64", 8},
};

const char *gguf_type_name(int t) { return t >= 0 && t < GGUF_TYPE_COUNT ? vtypes[t].name : "?"; }

static int is_int_type(uint32_t t) {
    return t <= GGUF_TYPE_INT32 || t == GGUF_TYPE_UINT64 || t == GGUF_TYPE_INT64;
}

/* ---------------------------------------------------------------- the file */

typedef struct {
    char *key;                 /* NUL-terminated copy */
    uint32_t type;
    uint64_t at;               /* file offset of the key (messages) */
    uint64_t val;              /* file offset of the value */
    char *str;                 /* STRING: NUL-terminated copy */
    uint64_t len;              /* STRING: byte length */
    uint32_t elem_type;        /* ARRAY */
    uint64_t count;            /* ARRAY */
    uint64_t first;            /* ARRAY: file offset of element 0 */
    uint64_t *elem_off;        /* ARRAY of STRING / ARRAY: offset of each element */
} gguf_kv;

struct gguf_file {
    char *path;
    const uint8_t *base;       /* the bytes: a mapping or the caller's buffer */
    uint64_t size;
    void *map;                 /* non-NULL when we mapped it */
    uint32_t version, alignment;
    uint64_t data_off, data_size;
    int n_kv;
    gguf_kv *kv;
    int *kv_sorted;            /* kv indices sorted by key */
    int n_tensors;
    gguf_tensor *tensors;
    int *t_sorted;             /* tensor indices sorted by name */
};

/* A cursor over the file; every read checks the bytes left first. */
typedef struct {
    gguf_file *f;
    uint64_t pos;
    rlvr_err *err;
} rd;

static int need(rd *r, uint64_t n, const char *what) {
    uint64_t left = r->f->size - r->pos;
    if (n > left)
        return errf(r->err, RLVR_EFORMAT, "%s: truncated at byte %llu: %s needs %llu bytes, %llu left",
                    r->f->path, ULL(r->pos), what, ULL(n), ULL(left));
    return RLVR_OK;
}

static int rd_u32(rd *r, uint32_t *v, const char *what) {
    int rc = need(r, 4, what);
    if (rc) return rc;
    memcpy(v, r->f->base + r->pos, 4);
    r->pos += 4;
    return RLVR_OK;
}

static int rd_u64(rd *r, uint64_t *v, const char *what) {
    int rc = need(r, 8, what);
    if (rc) return rc;
    memcpy(v, r->f->base + r->pos, 8);
    r->pos += 8;
    return RLVR_OK;
}

/* A string: its length, then that many bytes, which must be present. Leaves the
 * cursor after the string; *start is the offset of its first byte. */
static int rd_str(rd *r, uint64_t *start, uint64_t *len, const char *what) {
    uint64_t at = r->pos;
    int rc = rd_u64(r, len, what);
    if (rc) return rc;
    uint64_t left = r->f->size - r->pos;
    if (*len > left)
        return errf(r->err, RLVR_EFORMAT, "%s: %s at byte %llu has length %llu, past the end of the file (%llu bytes left)",
                    r->f->path, what, ULL(at), ULL(*len), ULL(left));
    *start = r->pos;
    r->pos += *len;
    return RLVR_OK;
}

static char *copy_str(const uint8_t *p, uint64_t n) {
    char *s = malloc((size_t)n + 1);
    if (s) { if (n) memcpy(s, p, (size_t)n); s[n] = 0; }
    return s;
}

/* A key or tensor name: non-empty, at most GGUF_MAX_NAME bytes, UTF-8, no NUL. */
static int rd_name(rd *r, char **out, const char *what) {
    uint64_t at = r->pos, start = 0, len = 0;
    int rc = rd_str(r, &start, &len, what);
    if (rc) return rc;
    const char *p = (const char *)r->f->base + start;
    size_t bad;
    if (len == 0)
        return errf(r->err, RLVR_EFORMAT, "%s: %s at byte %llu is empty", r->f->path, what, ULL(at));
    if (len > GGUF_MAX_NAME)
        return errf(r->err, RLVR_EFORMAT, "%s: %s at byte %llu is %llu bytes long (limit %d)",
                    r->f->path, what, ULL(at), ULL(len), GGUF_MAX_NAME);
    if (memchr(p, 0, (size_t)len))
        return errf(r->err, RLVR_EFORMAT, "%s: %s at byte %llu contains a NUL byte", r->f->path, what, ULL(at));
    if (!st_utf8_valid(p, (size_t)len, &bad))
        return errf(r->err, RLVR_EFORMAT, "%s: %s at byte %llu is not valid UTF-8 (bad byte %llu)",
                    r->f->path, what, ULL(at), ULL(start + bad));
    if (!(*out = copy_str((const uint8_t *)p, len)))
        return errf(r->err, RLVR_ENOMEM, "%s: out of memory", r->f->path);
    return RLVR_OK;
}

/* Validates one value of `type` at the cursor and moves past it. kv is the top-level
 * entry (its string/array fields are filled) or NULL inside a nested array. Work and
 * memory are linear in the bytes consumed: every element takes at least one byte,
 * except fixed-size runs, which are skipped by one checked multiplication. */
static int parse_value(rd *r, uint32_t type, int depth, gguf_kv *kv, const char *key) {
    gguf_file *f = r->f;
    uint64_t at = r->pos;
    if (type >= GGUF_TYPE_COUNT)
        return errf(r->err, RLVR_EFORMAT, "%s: key '" NAME_FMT "': value type %u at byte %llu is not a GGUF type",
                    f->path, key, type, ULL(at));
    if (vtypes[type].size) {
        int rc = need(r, (uint64_t)vtypes[type].size, "a metadata value");
        if (rc) return err_wrap(r->err, rc, "key '" NAME_FMT "'", key);
        if (type == GGUF_TYPE_BOOL && f->base[r->pos] > 1)
            return errf(r->err, RLVR_EFORMAT, "%s: key '" NAME_FMT "': bool at byte %llu is %u, not 0 or 1",
                        f->path, key, ULL(r->pos), f->base[r->pos]);
        r->pos += (uint64_t)vtypes[type].size;
        return RLVR_OK;
    }
    if (type == GGUF_TYPE_STRING) {
        uint64_t start = 0, len = 0;
        int rc = rd_str(r, &start, &len, "a string value");
        if (rc) return err_wrap(r->err, rc, "key '" NAME_FMT "'", key);
        if (kv) {
            kv->len = len;
            if (!(kv->str = copy_str(f->base + start, len)))
                return errf(r->err, RLVR_ENOMEM, "%s: out of memory for key '" NAME_FMT "'", f->path, key);
        }
        return RLVR_OK;
    }
    /* an array */
    if (depth >= GGUF_MAX_DEPTH)
        return errf(r->err, RLVR_EFORMAT, "%s: key '" NAME_FMT "': arrays nested more than %d deep at byte %llu",
                    f->path, key, GGUF_MAX_DEPTH, ULL(at));
    uint32_t et;
    uint64_t n;
    int rc = rd_u32(r, &et, "an array element type");
    if (!rc) rc = rd_u64(r, &n, "an array count");
    if (rc) return err_wrap(r->err, rc, "key '" NAME_FMT "'", key);
    if (et >= GGUF_TYPE_COUNT)
        return errf(r->err, RLVR_EFORMAT, "%s: key '" NAME_FMT "': array at byte %llu has element type %u, not a GGUF type",
                    f->path, key, ULL(at), et);
    uint64_t left = f->size - r->pos;
    uint64_t min = vtypes[et].size ? (uint64_t)vtypes[et].size : et == GGUF_TYPE_STRING ? 8 : 12;
    if (n > left / min)
        return errf(r->err, RLVR_EFORMAT, "%s: key '" NAME_FMT "': array at byte %llu claims %llu %s elements "
                    "(at least %llu bytes each), but only %llu bytes are left",
                    f->path, key, ULL(at), ULL(n), vtypes[et].name, ULL(min), ULL(left));
    if (kv) { kv->elem_type = et; kv->count = n; kv->first = r->pos; }
    if (vtypes[et].size) {
        if (et == GGUF_TYPE_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (f->base[r->pos + i] > 1)
                    return errf(r->err, RLVR_EFORMAT, "%s: key '" NAME_FMT "': bool element %llu at byte %llu is %u, not 0 or 1",
                                f->path, key, ULL(i), ULL(r->pos + i), f->base[r->pos + i]);
        r->pos += n * min;                       /* n * min <= left: checked above */
        return RLVR_OK;
    }
    if (kv && n) {                               /* n <= left / 8: memory bounded by the file */
        if (!(kv->elem_off = malloc((size_t)n * sizeof *kv->elem_off)))
            return errf(r->err, RLVR_ENOMEM, "%s: out of memory for the %llu elements of key '" NAME_FMT "'",
                        f->path, ULL(n), key);
    }
    for (uint64_t i = 0; i < n; i++) {
        if (kv) kv->elem_off[i] = r->pos;
        if ((rc = parse_value(r, et, depth + 1, NULL, key))) return rc;
    }
    return RLVR_OK;
}

typedef struct { const char *name; uint64_t begin, end; int idx; } sort_key;

static int by_name(const void *a, const void *b) {
    return strcmp(((const sort_key *)a)->name, ((const sort_key *)b)->name);
}

static int by_offset(const void *a, const void *b) {
    const sort_key *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static int parse_kvs(rd *r, uint64_t n_kv) {
    gguf_file *f = r->f;
    if (n_kv && !(f->kv = calloc((size_t)n_kv, sizeof *f->kv)))
        return errf(r->err, RLVR_ENOMEM, "%s: out of memory for %llu keys", f->path, ULL(n_kv));
    for (uint64_t i = 0; i < n_kv; i++) {
        gguf_kv *kv = &f->kv[i];
        kv->at = r->pos;
        f->n_kv++;                               /* counted now so gguf_close frees it */
        char what[64];
        snprintf(what, sizeof what, "key %llu", ULL(i));
        int rc = rd_name(r, &kv->key, what);
        if (!rc) rc = rd_u32(r, &kv->type, "a value type");
        if (rc) return rc;
        kv->val = r->pos;
        if ((rc = parse_value(r, kv->type, 0, kv, kv->key))) return rc;
    }
    if (f->n_kv == 0) return RLVR_OK;
    /* duplicates, and the sorted index gguf_find_key searches */
    sort_key *k = malloc((size_t)f->n_kv * sizeof *k);
    f->kv_sorted = malloc((size_t)f->n_kv * sizeof *f->kv_sorted);
    if (!k || !f->kv_sorted) { free(k); return errf(r->err, RLVR_ENOMEM, "%s: out of memory", f->path); }
    for (int i = 0; i < f->n_kv; i++) k[i] = (sort_key){f->kv[i].key, 0, 0, i};
    qsort(k, (size_t)f->n_kv, sizeof *k, by_name);
    int rc = RLVR_OK;
    for (int i = 0; i < f->n_kv; i++) f->kv_sorted[i] = k[i].idx;
    for (int i = 1; i < f->n_kv && !rc; i++)
        if (strcmp(k[i - 1].name, k[i].name) == 0) {
            int a = k[i - 1].idx < k[i].idx ? k[i - 1].idx : k[i].idx, b = k[i - 1].idx ^ k[i].idx ^ a;
            rc = errf(r->err, RLVR_EFORMAT, "%s: key '" NAME_FMT "' appears twice (bytes %llu and %llu)",
                      f->path, k[i].name, ULL(f->kv[a].at), ULL(f->kv[b].at));
        }
    free(k);
    return rc;
}

static int parse_alignment(gguf_file *f, rlvr_err *err) {
    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    int i = gguf_find_key(f, "general.alignment");
    if (i < 0) return RLVR_OK;
    const gguf_kv *kv = &f->kv[i];
    if (kv->type != GGUF_TYPE_UINT32)
        return errf(err, RLVR_EFORMAT, "%s: key 'general.alignment' (byte %llu) is %s, not uint32",
                    f->path, ULL(kv->at), vtypes[kv->type].name);
    uint32_t a;
    memcpy(&a, f->base + kv->val, 4);
    if (a == 0 || (a & (a - 1)) || a > GGUF_MAX_ALIGNMENT)
        return errf(err, RLVR_EFORMAT, "%s: key 'general.alignment' (byte %llu) is %u, not a power of two in [1, %d]",
                    f->path, ULL(kv->at), a, GGUF_MAX_ALIGNMENT);
    f->alignment = a;
    return RLVR_OK;
}

static int parse_tensor_info(rd *r, gguf_tensor *t, uint64_t i) {
    gguf_file *f = r->f;
    uint64_t at = r->pos;
    char what[64];
    snprintf(what, sizeof what, "tensor %llu's name", ULL(i));
    char *name = NULL;
    int rc = rd_name(r, &name, what);
    if (rc) return rc;
    t->name = name;
    const char *p = f->path;
    uint32_t nd, type;
    if ((rc = rd_u32(r, &nd, "n_dims"))) return err_wrap(r->err, rc, "tensor '" NAME_FMT "'", name);
    if (nd > GGUF_MAX_DIMS)
        return errf(r->err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "' (info at byte %llu): n_dims %u is more than %d",
                    p, name, ULL(at), nd, GGUF_MAX_DIMS);
    t->n_dims = (int)nd;
    uint64_t numel = 1;
    int overflow = 0;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < nd; d++) {
        uint64_t v;
        if ((rc = rd_u64(r, &v, "a dimension"))) return err_wrap(r->err, rc, "tensor '" NAME_FMT "'", name);
        if (v > (uint64_t)INT64_MAX)
            return errf(r->err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "' (info at byte %llu): ne[%u] is %lld (negative)",
                        p, name, ULL(at), d, (long long)v);
        t->ne[d] = (int64_t)v;
        overflow |= __builtin_mul_overflow(numel, v, &numel);
    }
    if (overflow || numel > (uint64_t)INT64_MAX)
        return errf(r->err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "' (info at byte %llu): the product of its dims overflows",
                    p, name, ULL(at));
    t->numel = numel;
    if ((rc = rd_u32(r, &type, "a tensor type"))) return err_wrap(r->err, rc, "tensor '" NAME_FMT "'", name);
    if (!quant_type_known((int)type))
        return errf(r->err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "' (info at byte %llu): unknown ggml type %u",
                    p, name, ULL(at), type);
    t->type = (int)type;
    uint64_t bs = (uint64_t)quant_block_size(t->type), ts = quant_type_size(t->type);
    if ((uint64_t)t->ne[0] % bs)
        return errf(r->err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "': row length ne[0] = %lld is not a multiple of "
                    "the %s block size %llu", p, name, (long long)t->ne[0], quant_type_name(t->type), ULL(bs));
    uint64_t nb;
    overflow = __builtin_mul_overflow((uint64_t)t->ne[0] / bs, ts, &nb);
    for (int d = 1; d < GGUF_MAX_DIMS; d++) overflow |= __builtin_mul_overflow(nb, (uint64_t)t->ne[d], &nb);
    if (overflow)
        return errf(r->err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "': its byte size overflows 64 bits", p, name);
    t->nbytes = nb;
    if ((rc = rd_u64(r, &t->offset, "a tensor offset"))) return err_wrap(r->err, rc, "tensor '" NAME_FMT "'", name);
    if (t->offset % f->alignment)
        return errf(r->err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "': offset %llu is not a multiple of the alignment %u",
                    p, name, ULL(t->offset), f->alignment);
    return RLVR_OK;
}

/* Bounds (now that the data section is known), duplicate names and overlaps. */
static int check_tensors(gguf_file *f, rlvr_err *err) {
    int n = f->n_tensors;
    for (int i = 0; i < n; i++) {
        gguf_tensor *t = &f->tensors[i];
        if (t->offset > f->data_size || t->nbytes > f->data_size - t->offset)
            return errf(err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "': data at [%llu, +%llu) runs past the end of the "
                        "%llu-byte data section (file truncated?)", f->path, t->name, ULL(t->offset), ULL(t->nbytes),
                        ULL(f->data_size));
        t->offset += f->data_off;                /* now absolute; cannot overflow: <= size */
    }
    if (n == 0) return RLVR_OK;
    sort_key *k = malloc((size_t)n * sizeof *k);
    f->t_sorted = malloc((size_t)n * sizeof *f->t_sorted);
    if (!k || !f->t_sorted) { free(k); return errf(err, RLVR_ENOMEM, "%s: out of memory", f->path); }
    for (int i = 0; i < n; i++) {
        const gguf_tensor *t = &f->tensors[i];
        k[i] = (sort_key){t->name, t->offset, t->offset + t->nbytes, i};
    }
    int rc = RLVR_OK;
    qsort(k, (size_t)n, sizeof *k, by_name);
    for (int i = 0; i < n; i++) f->t_sorted[i] = k[i].idx;
    for (int i = 1; i < n && !rc; i++)
        if (strcmp(k[i - 1].name, k[i].name) == 0)
            rc = errf(err, RLVR_EFORMAT, "%s: duplicate tensor name '" NAME_FMT "'", f->path, k[i].name);
    if (!rc) {
        /* zero-size tensors occupy nothing; among the rest, sorted by start, any
         * overlap shows up between neighbours */
        int m = 0;
        for (int i = 0; i < n; i++) if (k[i].end > k[i].begin) k[m++] = k[i];
        qsort(k, (size_t)m, sizeof *k, by_offset);
        for (int i = 1; i < m && !rc; i++)
            if (k[i].begin < k[i - 1].end)
                rc = errf(err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "' (bytes %llu..%llu) overlaps tensor '" NAME_FMT
                          "' (bytes %llu..%llu)", f->path, k[i].name, ULL(k[i].begin), ULL(k[i].end),
                          k[i - 1].name, ULL(k[i - 1].begin), ULL(k[i - 1].end));
    }
    free(k);
    return rc;
}

static int parse(gguf_file *f, rlvr_err *err) {
    rd r = {f, 0, err};
    const char *p = f->path;
    if (f->size < 4 || memcmp(f->base, "GGUF", 4) != 0) {
        if (f->size < 4)
            return errf(err, RLVR_EFORMAT, "%s: file is %llu bytes, too short for the GGUF magic", p, ULL(f->size));
        return errf(err, RLVR_EFORMAT, "%s: bad magic %02x %02x %02x %02x at byte 0 (want \"GGUF\")",
                    p, f->base[0], f->base[1], f->base[2], f->base[3]);
    }
    r.pos = 4;
    uint32_t v;
    uint64_t n_tensors, n_kv;
    int rc = rd_u32(&r, &v, "the version");
    if (rc) return rc;
    if (v == 1)
        return errf(err, RLVR_EUNSUPPORTED, "%s: GGUF version 1 (32-bit counts, 2023) is not supported; reconvert the model", p);
    if (v != 2 && v != 3) {
        if ((v & 0xffff) == 0 && (v >> 16) != 0)
            return errf(err, RLVR_EUNSUPPORTED, "%s: version field 0x%08x at byte 4: a big-endian GGUF, which rlvr does not read", p, v);
        return errf(err, RLVR_EFORMAT, "%s: unknown GGUF version %u at byte 4 (rlvr reads 2 and 3)", p, v);
    }
    f->version = v;
    if ((rc = rd_u64(&r, &n_tensors, "the tensor count")) || (rc = rd_u64(&r, &n_kv, "the key count"))) return rc;
    uint64_t left = f->size - r.pos;
    /* A key takes >= 14 bytes (length, one byte, type, a 1-byte value), a tensor info
     * >= 25 (length, one byte, n_dims, type, offset): counts beyond that are lies. */
    if (n_kv > GGUF_MAX_KV || n_kv > left / 14)
        return errf(err, RLVR_EFORMAT, "%s: key count %llu at byte 16 is impossible (%llu bytes follow; limit %llu)",
                    p, ULL(n_kv), ULL(left), ULL(GGUF_MAX_KV));
    if (n_tensors > GGUF_MAX_TENSORS || n_tensors > (left - 14 * n_kv) / 25)
        return errf(err, RLVR_EFORMAT, "%s: tensor count %llu at byte 8 is impossible (%llu bytes follow; limit %llu)",
                    p, ULL(n_tensors), ULL(left), ULL(GGUF_MAX_TENSORS));
    if ((rc = parse_kvs(&r, n_kv)) || (rc = parse_alignment(f, err))) return rc;
    if (n_tensors && !(f->tensors = calloc((size_t)n_tensors, sizeof *f->tensors)))
        return errf(err, RLVR_ENOMEM, "%s: out of memory for %llu tensors", p, ULL(n_tensors));
    for (uint64_t i = 0; i < n_tensors; i++) {
        f->n_tensors++;                          /* counted now so gguf_close frees the name */
        if ((rc = parse_tensor_info(&r, &f->tensors[i], i))) return rc;
    }
    uint64_t pad = (f->alignment - r.pos % f->alignment) % f->alignment;
    f->data_off = r.pos + pad;
    if (f->data_off > f->size) {
        if (n_tensors)
            return errf(err, RLVR_EFORMAT, "%s: the data section would start at byte %llu, past the end of the %llu-byte file",
                        p, ULL(f->data_off), ULL(f->size));
        f->data_off = f->size;                   /* no tensors: the padding may be left out */
    }
    f->data_size = f->size - f->data_off;
    return check_tensors(f, err);
}

static int open_common(gguf_file *f, gguf_file **out, rlvr_err *err) {
    int rc = parse(f, err);
    if (rc) { gguf_close(f); return rc; }
    *out = f;
    return RLVR_OK;
}

int gguf_open_mem(const void *data, size_t n, const char *name, gguf_file **out, rlvr_err *err) {
    if (!out) return errf(err, RLVR_EARG, "gguf_open_mem: out is NULL");
    *out = NULL;
    if (!data && n) return errf(err, RLVR_EARG, "gguf_open_mem: NULL data");
    if (!name) name = "<memory>";
    gguf_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(name))) { free(f); return errf(err, RLVR_ENOMEM, "%s: out of memory", name); }
    f->base = data;
    f->size = n;
    return open_common(f, out, err);
}

int gguf_open(const char *path, gguf_file **out, rlvr_err *err) {
    if (!out) return errf(err, RLVR_EARG, "gguf_open: out is NULL");
    *out = NULL;
    if (!path) return errf(err, RLVR_EARG, "gguf_open: path is NULL");
    gguf_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) { free(f); return errf(err, RLVR_ENOMEM, "%s: out of memory", path); }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        gguf_close(f);
        return errf(err, RLVR_EIO, "%s: cannot open: %s", path, strerror(e));
    }
    struct stat sb;
    int rc = RLVR_OK;
    if (fstat(fd, &sb) != 0) rc = errf(err, RLVR_EIO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode)) rc = errf(err, RLVR_EIO, "%s: not a regular file", path);
    else if ((uint64_t)sb.st_size > SIZE_MAX) rc = errf(err, RLVR_EIO, "%s: too large to map", path);
    else {
        f->size = (uint64_t)sb.st_size;
        if (f->size > 0) {                       /* mmap of length 0 is an error */
            void *m = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (m == MAP_FAILED) rc = errf(err, RLVR_EIO, "%s: cannot map %llu bytes: %s", path, ULL(f->size), strerror(errno));
            else f->map = m, f->base = m;
        }
    }
    close(fd);
    if (rc) { gguf_close(f); return rc; }
    return open_common(f, out, err);
}

void gguf_close(gguf_file *f) {
    if (!f) return;
    if (f->map) munmap(f->map, (size_t)f->size);
    for (int i = 0; i < f->n_kv; i++) {
        free(f->kv[i].key);
        free(f->kv[i].str);
        free(f->kv[i].elem_off);
    }
    for (int i = 0; i < f->n_tensors; i++) free((char *)f->tensors[i].name);
    free(f->kv);
    free(f->kv_sorted);
    free(f->tensors);
    free(f->t_sorted);
    free(f->path);
    free(f);
}

const char *gguf_path(const gguf_file *f) { return f ? f->path : NULL; }
uint32_t gguf_version(const gguf_file *f) { return f ? f->version : 0; }
uint32_t gguf_alignment(const gguf_file *f) { return f ? f->alignment : 0; }
uint64_t gguf_data_offset(const gguf_file *f) { return f ? f->data_off : 0; }

/* ---------------------------------------------------------------- metadata */

int gguf_n_kv(const gguf_file *f) { return f ? f->n_kv : 0; }

int gguf_find_key(const gguf_file *f, const char *key) {
    if (!f || !key) return -1;
    int lo = 0, hi = f->n_kv - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, i = f->kv_sorted[mid];
        int c = strcmp(key, f->kv[i].key);
        if (c == 0) return i;
        if (c < 0) hi = mid - 1; else lo = mid + 1;
    }
    return -1;
}

const char *gguf_kv_key(const gguf_file *f, int i) { return f && i >= 0 && i < f->n_kv ? f->kv[i].key : NULL; }
int gguf_kv_type(const gguf_file *f, int i) { return f && i >= 0 && i < f->n_kv ? (int)f->kv[i].type : -1; }

/* An integer of type t at p: *neg = 1 and *s set for a negative value, else *u set. */
static void read_int(const uint8_t *p, uint32_t t, int *neg, int64_t *s, uint64_t *u) {
    int64_t sv = 0;
    uint64_t uv = 0;
    int is_signed = 1;
    switch (t) {
    case GGUF_TYPE_UINT8: uv = p[0]; is_signed = 0; break;
    case GGUF_TYPE_INT8: { int8_t x; memcpy(&x, p, 1); sv = x; } break;
    case GGUF_TYPE_UINT16: { uint16_t x; memcpy(&x, p, 2); uv = x; is_signed = 0; } break;
    case GGUF_TYPE_INT16: { int16_t x; memcpy(&x, p, 2); sv = x; } break;
    case GGUF_TYPE_UINT32: { uint32_t x; memcpy(&x, p, 4); uv = x; is_signed = 0; } break;
    case GGUF_TYPE_INT32: { int32_t x; memcpy(&x, p, 4); sv = x; } break;
    case GGUF_TYPE_UINT64: memcpy(&uv, p, 8); is_signed = 0; break;
    case GGUF_TYPE_INT64: memcpy(&sv, p, 8); break;
    case GGUF_TYPE_BOOL: uv = p[0]; is_signed = 0; break;
    default: break;
    }
    *neg = is_signed && sv < 0;
    *s = sv;
    *u = is_signed ? (sv < 0 ? 0 : (uint64_t)sv) : uv;
}

/* The kv for key, or an error naming it. */
static int lookup(const gguf_file *f, const char *key, void *out, const gguf_kv **kv, rlvr_err *err) {
    if (!f || !key || !out) return errf(err, RLVR_EARG, "gguf: NULL file, key or output");
    int i = gguf_find_key(f, key);
    if (i < 0) return errf(err, RLVR_EFORMAT, "%s: key '" NAME_FMT "' is missing", f->path, key);
    *kv = &f->kv[i];
    return RLVR_OK;
}

static int wrong_type(const gguf_file *f, const gguf_kv *kv, const char *want, rlvr_err *err) {
    return errf(err, RLVR_EFORMAT, "%s: key '" NAME_FMT "' (byte %llu) is %s%s%s, not %s", f->path, kv->key, ULL(kv->at),
                vtypes[kv->type].name, kv->type == GGUF_TYPE_ARRAY ? " of " : "",
                kv->type == GGUF_TYPE_ARRAY ? vtypes[kv->elem_type].name : "", want);
}

int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, rlvr_err *err) {
    const gguf_kv *kv = NULL;
    int rc = lookup(f, key, out, &kv, err);
    if (rc) return rc;
    if (!is_int_type(kv->type)) return wrong_type(f, kv, "an integer", err);
    int neg; int64_t s; uint64_t u;
    read_int(f->base + kv->val, kv->type, &neg, &s, &u);
    if (neg || u > UINT32_MAX)
        return errf(err, RLVR_EFORMAT, "%s: key '" NAME_FMT "' is %s%llu, outside uint32", f->path, key,
                    neg ? "-" : "", neg ? ULL(-(s + 1)) + 1 : ULL(u));
    *out = (uint32_t)u;
    return RLVR_OK;
}

int gguf_get_i64(const gguf_file *f, const char *key, int64_t *out, rlvr_err *err) {
    const gguf_kv *kv = NULL;
    int rc = lookup(f, key, out, &kv, err);
    if (rc) return rc;
    if (!is_int_type(kv->type)) return wrong_type(f, kv, "an integer", err);
    int neg; int64_t s; uint64_t u;
    read_int(f->base + kv->val, kv->type, &neg, &s, &u);
    if (!neg && u > (uint64_t)INT64_MAX)
        return errf(err, RLVR_EFORMAT, "%s: key '" NAME_FMT "' is %llu, outside int64", f->path, key, ULL(u));
    *out = neg ? s : (int64_t)u;
    return RLVR_OK;
}

int gguf_get_f32(const gguf_file *f, const char *key, float *out, rlvr_err *err) {
    const gguf_kv *kv = NULL;
    int rc = lookup(f, key, out, &kv, err);
    if (rc) return rc;
    if (kv->type == GGUF_TYPE_FLOAT32) { memcpy(out, f->base + kv->val, 4); return RLVR_OK; }
    if (kv->type == GGUF_TYPE_FLOAT64) { double d; memcpy(&d, f->base + kv->val, 8); *out = (float)d; return RLVR_OK; }
    return wrong_type(f, kv, "float32 or float64", err);
}

int gguf_get_bool(const gguf_file *f, const char *key, int *out, rlvr_err *err) {
    const gguf_kv *kv = NULL;
    int rc = lookup(f, key, out, &kv, err);
    if (rc) return rc;
    if (kv->type != GGUF_TYPE_BOOL) return wrong_type(f, kv, "bool", err);
    *out = f->base[kv->val];                     /* 0 or 1: checked at open */
    return RLVR_OK;
}

int gguf_get_str(const gguf_file *f, const char *key, const char **out, size_t *len, rlvr_err *err) {
    const gguf_kv *kv = NULL;
    int rc = lookup(f, key, out, &kv, err);
    if (rc) return rc;
    if (kv->type != GGUF_TYPE_STRING) return wrong_type(f, kv, "string", err);
    *out = kv->str;
    if (len) *len = (size_t)kv->len;
    return RLVR_OK;
}

int gguf_arr_info(const gguf_file *f, int i, int *elem_type, uint64_t *count) {
    if (!f || i < 0 || i >= f->n_kv || f->kv[i].type != GGUF_TYPE_ARRAY) return RLVR_EARG;
    if (elem_type) *elem_type = (int)f->kv[i].elem_type;
    if (count) *count = f->kv[i].count;
    return RLVR_OK;
}

const void *gguf_arr_data(const gguf_file *f, int i, int elem_type, uint64_t *count) {
    if (!f || i < 0 || i >= f->n_kv) return NULL;
    const gguf_kv *kv = &f->kv[i];
    if (kv->type != GGUF_TYPE_ARRAY || (int)kv->elem_type != elem_type || !vtypes[kv->elem_type].size) return NULL;
    if (count) *count = kv->count;
    return f->base + kv->first;
}

/* The kv of a numeric array holding element i, or NULL with err set. */
static const gguf_kv *arr_elem(const gguf_file *f, int i, uint64_t e, rlvr_err *err) {
    if (!f || i < 0 || i >= f->n_kv) { errf(err, RLVR_EARG, "gguf: key index %d out of range", i); return NULL; }
    const gguf_kv *kv = &f->kv[i];
    if (kv->type != GGUF_TYPE_ARRAY || !vtypes[kv->elem_type].size) {
        wrong_type(f, kv, "a numeric array", err);
        if (err) err->code = RLVR_EARG;
        return NULL;
    }
    if (e >= kv->count) {
        errf(err, RLVR_EARG, "%s: key '" NAME_FMT "': element %llu of %llu", f->path, kv->key, ULL(e), ULL(kv->count));
        return NULL;
    }
    return kv;
}

int gguf_arr_get_i64(const gguf_file *f, int i, uint64_t e, int64_t *out, rlvr_err *err) {
    const gguf_kv *kv = arr_elem(f, i, e, err);
    if (!kv) return RLVR_EARG;
    if (!is_int_type(kv->elem_type) && kv->elem_type != GGUF_TYPE_BOOL)
        return errf(err, RLVR_EARG, "%s: key '" NAME_FMT "' is an array of %s, not of integers", f->path, kv->key,
                    vtypes[kv->elem_type].name);
    int neg; int64_t s; uint64_t u;
    read_int(f->base + kv->first + e * (uint64_t)vtypes[kv->elem_type].size, kv->elem_type, &neg, &s, &u);
    if (!neg && u > (uint64_t)INT64_MAX)
        return errf(err, RLVR_EFORMAT, "%s: key '" NAME_FMT "': element %llu is %llu, outside int64", f->path, kv->key, ULL(e), ULL(u));
    *out = neg ? s : (int64_t)u;
    return RLVR_OK;
}

int gguf_arr_get_f64(const gguf_file *f, int i, uint64_t e, double *out, rlvr_err *err) {
    const gguf_kv *kv = arr_elem(f, i, e, err);
    if (!kv) return RLVR_EARG;
    const uint8_t *p = f->base + kv->first + e * (uint64_t)vtypes[kv->elem_type].size;
    if (kv->elem_type == GGUF_TYPE_FLOAT32) { float x; memcpy(&x, p, 4); *out = x; return RLVR_OK; }
    if (kv->elem_type == GGUF_TYPE_FLOAT64) { memcpy(out, p, 8); return RLVR_OK; }
    int neg; int64_t s; uint64_t u;
    read_int(p, kv->elem_type, &neg, &s, &u);
    *out = neg ? (double)s : (double)u;
    return RLVR_OK;
}

const char *gguf_arr_get_str(const gguf_file *f, int i, uint64_t e, size_t *len) {
    if (!f || i < 0 || i >= f->n_kv) return NULL;
    const gguf_kv *kv = &f->kv[i];
    if (kv->type != GGUF_TYPE_ARRAY || kv->elem_type != GGUF_TYPE_STRING || e >= kv->count) return NULL;
    uint64_t n;
    memcpy(&n, f->base + kv->elem_off[e], 8);   /* checked at open */
    if (len) *len = (size_t)n;
    return (const char *)f->base + kv->elem_off[e] + 8;
}

/* ---------------------------------------------------------------- tensors */

int gguf_n_tensors(const gguf_file *f) { return f ? f->n_tensors : 0; }

const gguf_tensor *gguf_get_tensor(const gguf_file *f, int i) {
    return f && i >= 0 && i < f->n_tensors ? &f->tensors[i] : NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name) {
    if (!f || !name) return NULL;
    int lo = 0, hi = f->n_tensors - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const gguf_tensor *t = &f->tensors[f->t_sorted[mid]];
        int c = strcmp(name, t->name);
        if (c == 0) return t;
        if (c < 0) hi = mid - 1; else lo = mid + 1;
    }
    return NULL;
}

const void *gguf_tensor_data(const gguf_file *f, const gguf_tensor *t) {
    return f && t ? f->base + t->offset : NULL;
}

int gguf_tensor_read_f32(const gguf_file *f, const gguf_tensor *t, float *dst, uint64_t n, rlvr_err *err) {
    if (!f || !t || (!dst && n)) return errf(err, RLVR_EARG, "gguf_tensor_read_f32: NULL argument");
    if (t < f->tensors || t >= f->tensors + f->n_tensors)
        return errf(err, RLVR_EARG, "gguf_tensor_read_f32: %s: tensor is not from this file", f->path);
    if (n != t->numel)
        return errf(err, RLVR_EARG, "%s: tensor '" NAME_FMT "' has %llu elements, caller expects %llu",
                    f->path, t->name, ULL(t->numel), ULL(n));
    int rc = quant_dequantize(t->type, f->base + t->offset, (size_t)t->nbytes, dst, n, err);
    if (rc) return err_wrap(err, rc, "%s: tensor '" NAME_FMT "'", f->path, t->name);
    return RLVR_OK;
}

/* ---------------------------------------------------------------- model config */

/* {arch}.suffix as a non-negative int: dflt when absent (dflt < 0: required). */
static int arch_int(const gguf_file *f, const char *arch, const char *suffix, int dflt, int *out, rlvr_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int i = gguf_find_key(f, key);
    if (i < 0) {
        if (dflt < 0) return errf(err, RLVR_EFORMAT, "%s: key '%s' is missing", f->path, key);
        *out = dflt;
        return RLVR_OK;
    }
    if (f->kv[i].type == GGUF_TYPE_ARRAY)
        return errf(err, RLVR_EUNSUPPORTED, "%s: key '%s' is an array (per-layer values); rlvr needs one value for all layers",
                    f->path, key);
    uint32_t v;
    int rc = gguf_get_u32(f, key, &v, err);
    if (rc) return rc;
    if (v > INT_MAX) return errf(err, RLVR_EFORMAT, "%s: key '%s' (%u) is too large", f->path, key, v);
    *out = (int)v;
    return RLVR_OK;
}

static int arch_float(const gguf_file *f, const char *arch, const char *suffix, int required, float dflt,
                      float *out, rlvr_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (gguf_find_key(f, key) < 0) {
        if (required) return errf(err, RLVR_EFORMAT, "%s: key '%s' is missing", f->path, key);
        *out = dflt;
        return RLVR_OK;
    }
    return gguf_get_f32(f, key, out, err);
}

/* Token id keys: -1 when absent; must be a valid id. */
static int token_id(const gguf_file *f, const char *key, int vocab, int *out, rlvr_err *err) {
    *out = -1;
    if (gguf_find_key(f, key) < 0) return RLVR_OK;
    uint32_t v;
    int rc = gguf_get_u32(f, key, &v, err);
    if (rc) return rc;
    if (v >= (uint32_t)vocab)
        return errf(err, RLVR_EFORMAT, "%s: key '%s' (%u) is not a token id (vocabulary of %d)", f->path, key, v, vocab);
    *out = (int)v;
    return RLVR_OK;
}

/* Llama-3 rope factors as convert_hf_to_gguf.py computes them into rope_freqs.weight
 * (and as HF scales inv_freq): 1 for short wavelengths, `factor` for long ones, a
 * smooth blend between. */
static double llama3_factor(double inv_freq, double factor, double low, double high, double orig) {
    double wavelen = 2 * M_PI / inv_freq;
    if (wavelen < orig / high) return 1;
    if (wavelen > orig / low) return factor;
    double s = (orig / wavelen - low) / (high - low);
    return 1 / ((1 - s) / factor + s);
}

/* 1 when (factor, low, high, orig) reproduces every entry of r (relative 1e-4). */
static int llama3_matches(const float *r, int n, double theta, int D, double factor, double low, double high, double orig) {
    if (!(orig >= 1 && orig <= HFCONFIG_MAX_POS && high > low && low > 0)) return 0;
    for (int i = 0; i < n; i++) {
        double want = llama3_factor(pow(theta, -2.0 * i / D), factor, low, high, orig);
        if (!(fabs(want - r[i]) <= 1e-4 * r[i])) return 0;
    }
    return 1;
}

/* x rounded to a multiple of 1/64 when that is within 1e-5 relative (undoes float
 * noise in a fitted 4.0), else x. */
static double snap(double x) {
    double y = round(x * 64) / 64;
    return fabs(y - x) <= 1e-5 * fabs(x) ? y : x;
}

/* rope_freqs.weight holds, per frequency i < D/2, the divisor llama.cpp applies to
 * inv_freq_i. Recover (factor, low_freq_factor, high_freq_factor, original context)
 * and check that they reproduce every entry. Only the wavelength bounds orig/high and
 * orig/low matter, so low_freq_factor is taken as 1 (what every Llama 3.x uses). In
 * order, the candidates are: an exact fit through the blended entries (two or more);
 * the Llama 3.1 values (1, 4, 8192); orig from the one blended entry with high = 4;
 * and, with no blended entry, bounds placed between the last unscaled and the first
 * scaled wavelength. The last two give the same rope at every frequency the model
 * uses, though not necessarily the numbers in the original config.json. */
static int rope_from_freqs(const gguf_file *f, const gguf_tensor *t, model_config *c, rlvr_err *err) {
    int n = c->head_dim / 2, D = c->head_dim;
    double theta = c->rope_theta;
    if (t->numel != (uint64_t)n)
        return errf(err, RLVR_EFORMAT, "%s: tensor 'rope_freqs.weight' has %llu elements, head_dim %d needs %d",
                    f->path, ULL(t->numel), D, n);
    float *r = malloc((size_t)n * sizeof *r);
    if (!r) return errf(err, RLVR_ENOMEM, "%s: out of memory", f->path);
    int rc = gguf_tensor_read_f32(f, t, r, (uint64_t)n, err);
    if (rc) { free(r); return rc; }
    double factor = 1;
    for (int i = 0; i < n; i++) {
        if (!(r[i] >= 1 && r[i] < 1e6)) {
            double bad = r[i];
            free(r);
            return errf(err, RLVR_EUNSUPPORTED, "%s: rope_freqs.weight[%d] = %g is not a Llama 3 scaling factor", f->path, i, bad);
        }
        if (r[i] > factor) factor = r[i];
    }
    if (factor <= 1 + 1e-6) { free(r); return RLVR_OK; }   /* all ones: no scaling */
    double cand[5][2];                                     /* (high_freq_factor, orig), low = 1 */
    int nc = 0, first = -1, last = -1, n_blend = 0;
    double w_unscaled = 0, w_scaled = INFINITY;           /* largest unscaled, smallest scaled wavelength */
    for (int i = 0; i < n; i++) {
        double wl = 2 * M_PI * pow(theta, 2.0 * i / D);
        if (r[i] <= 1 + 1e-6) { if (wl > w_unscaled) w_unscaled = wl; }
        else if (r[i] >= factor * (1 - 1e-6)) { if (wl < w_scaled) w_scaled = wl; }
        else { if (first < 0) first = i; last = i; n_blend++; }
    }
    /* s = (1/f - 1/factor) / (1 - 1/factor) = orig/(high-1) * x - 1/(high-1), x = 1/wavelen */
    double x[2], sb[2];
    int idx[2] = {first, last};
    for (int k = 0; k < 2 && n_blend; k++) {
        x[k] = pow(theta, -2.0 * idx[k] / D) / (2 * M_PI);
        sb[k] = (1 / (double)r[idx[k]] - 1 / factor) / (1 - 1 / factor);
    }
    if (n_blend >= 2) {
        double A = (sb[1] - sb[0]) / (x[1] - x[0]), B = A * x[0] - sb[0];
        if (A > 0 && B > 0) {
            cand[nc][0] = snap(1 + 1 / B); cand[nc][1] = round(A / B); nc++;
            cand[nc][0] = 1 + 1 / B;       cand[nc][1] = round(A / B); nc++;
        }
    }
    cand[nc][0] = 4; cand[nc][1] = 8192; nc++;
    if (n_blend == 1) { cand[nc][0] = 4; cand[nc][1] = round((3 * sb[0] + 1) / x[0]); nc++; }
    if (n_blend == 0 && w_scaled < INFINITY && w_scaled > 2) {
        double orig = floor(w_scaled) < w_scaled ? floor(w_scaled) : w_scaled - 1;
        if (orig > w_unscaled) {
            cand[nc][0] = w_unscaled == 0 || orig / 4 > w_unscaled ? 4 : (1 + orig / w_unscaled) / 2;
            cand[nc][1] = orig;
            nc++;
        }
    }
    int hit = -1;
    for (int k = 0; k < nc && hit < 0; k++)
        if (llama3_matches(r, n, theta, D, factor, 1, cand[k][0], cand[k][1])) hit = k;
    free(r);
    if (hit < 0)
        return errf(err, RLVR_EUNSUPPORTED, "%s: rope_freqs.weight (factor %g, %d blended entries) matches no Llama 3 "
                    "rope scaling", f->path, factor, n_blend);
    c->rope_scaling = ROPE_SCALING_LLAMA3;
    c->rope_factor = (float)factor;
    c->rope_low_freq_factor = 1;
    c->rope_high_freq_factor = (float)cand[hit][0];
    c->rope_orig_max_pos = (int)cand[hit][1];
    return RLVR_OK;
}

static int model_config_from(const gguf_file *f, model_config *c, rlvr_err *err) {
    const char *arch = NULL;
    int rc = gguf_get_str(f, "general.architecture", &arch, NULL, err);
    if (rc) return rc;
    if (strcmp(arch, "llama") != 0 && strcmp(arch, "qwen2") != 0 && strcmp(arch, "qwen3") != 0)
        return errf(err, RLVR_EUNSUPPORTED, "%s: general.architecture '%.40s' is not llama, qwen2 or qwen3", f->path, arch);
    snprintf(c->arch, sizeof c->arch, "%s", arch);
    char key[128];
    if ((rc = arch_int(f, arch, "embedding_length", -1, &c->dim, err)) ||
        (rc = arch_int(f, arch, "block_count", -1, &c->n_layers, err)) ||
        (rc = arch_int(f, arch, "feed_forward_length", -1, &c->hidden_dim, err)) ||
        (rc = arch_int(f, arch, "attention.head_count", -1, &c->n_heads, err)) ||
        (rc = arch_int(f, arch, "attention.head_count_kv", c->n_heads, &c->n_kv_heads, err)) ||
        (rc = arch_int(f, arch, "context_length", -1, &c->max_seq_len, err)) ||
        (rc = arch_float(f, arch, "attention.layer_norm_rms_epsilon", 1, 0, &c->norm_eps, err)) ||
        (rc = arch_float(f, arch, "rope.freq_base", 0, 10000.0f, &c->rope_theta, err)))
        return rc;
    snprintf(key, sizeof key, "%s.attention.key_length", arch);
    if (c->n_heads <= 0 || (gguf_find_key(f, key) < 0 && c->dim % c->n_heads))
        return errf(err, RLVR_EFORMAT, "%s: %s.attention.head_count (%d) must divide embedding_length (%d) "
                    "when %s is absent", f->path, arch, c->n_heads, c->dim, key);
    int vlen, rdim;
    if ((rc = arch_int(f, arch, "attention.key_length", c->dim / c->n_heads, &c->head_dim, err)) ||
        (rc = arch_int(f, arch, "attention.value_length", c->head_dim, &vlen, err)) ||
        (rc = arch_int(f, arch, "rope.dimension_count", c->head_dim, &rdim, err)))
        return rc;
    if (vlen != c->head_dim)
        return errf(err, RLVR_EUNSUPPORTED, "%s: %s.attention.value_length %d differs from key_length %d", f->path, arch, vlen, c->head_dim);
    if (rdim != c->head_dim)
        return errf(err, RLVR_EUNSUPPORTED, "%s: %s.rope.dimension_count %d differs from the head size %d (partial rotary)",
                    f->path, arch, rdim, c->head_dim);

    /* RoPE scaling: only none, or Llama 3's (via rope_freqs.weight) */
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    const char *stype = "none";
    if (gguf_find_key(f, key) >= 0 && (rc = gguf_get_str(f, key, &stype, NULL, err))) return rc;
    if (strcmp(stype, "none") != 0)
        return errf(err, RLVR_EUNSUPPORTED, "%s: key '%s' is '%.40s'; rlvr supports no rope scaling or Llama 3's", f->path, key, stype);
    int has_type = gguf_find_key(f, key) >= 0;  /* "none" makes a factor moot */
    const char *factor_keys[] = {"rope.scaling.factor", "rope.scale_linear"};
    for (int k = 0; k < 2 && !has_type; k++) {
        float fac = 1;
        if ((rc = arch_float(f, arch, factor_keys[k], 0, 1.0f, &fac, err))) return rc;
        if (fac != 1 && fac != 0)
            return errf(err, RLVR_EUNSUPPORTED, "%s: key '%s.%s' is %g; rlvr supports no linear rope scaling",
                        f->path, arch, factor_keys[k], fac);
    }
    c->rope_scaling = ROPE_SCALING_NONE;
    const gguf_tensor *rf = gguf_find_tensor(f, "rope_freqs.weight");
    if (rf && (rc = rope_from_freqs(f, rf, c, err))) return rc;

    /* vocabulary size: the arch key, else the token list, else the embedding */
    snprintf(key, sizeof key, "%s.vocab_size", arch);
    int tok = gguf_find_key(f, "tokenizer.ggml.tokens");
    const gguf_tensor *emb = gguf_find_tensor(f, "token_embd.weight");
    uint64_t count;
    if (gguf_find_key(f, key) >= 0) {
        if ((rc = arch_int(f, arch, "vocab_size", -1, &c->vocab_size, err))) return rc;
    } else if (tok >= 0 && gguf_arr_info(f, tok, NULL, &count) == RLVR_OK) {
        if (count > INT_MAX) return errf(err, RLVR_EFORMAT, "%s: tokenizer.ggml.tokens has %llu entries", f->path, ULL(count));
        c->vocab_size = (int)count;
    } else if (emb && emb->n_dims == 2) {
        if (emb->ne[1] > INT_MAX) return errf(err, RLVR_EFORMAT, "%s: token_embd.weight has %lld rows", f->path, (long long)emb->ne[1]);
        c->vocab_size = (int)emb->ne[1];
    } else {
        return errf(err, RLVR_EFORMAT, "%s: no vocabulary size (%s, tokenizer.ggml.tokens and token_embd.weight are all missing)",
                    f->path, key);
    }
    if (c->vocab_size <= 0)
        return errf(err, RLVR_EFORMAT, "%s: vocabulary size %d", f->path, c->vocab_size);
    if ((rc = token_id(f, "tokenizer.ggml.bos_token_id", c->vocab_size, &c->bos_id, err)) ||
        (rc = token_id(f, "tokenizer.ggml.eos_token_id", c->vocab_size, &c->eos_id, err)))
        return rc;
    c->tie_embeddings = gguf_find_tensor(f, "output.weight") == NULL;
    c->qkv_bias = strcmp(arch, "qwen2") == 0;
    c->qk_norm = strcmp(arch, "qwen3") == 0;
    return hfconfig_validate(c, f->path, err);
}

int gguf_model_config(const gguf_file *f, model_config *out, rlvr_err *err) {
    if (!f || !out) return errf(err, RLVR_EARG, "gguf_model_config: NULL argument");
    memset(out, 0, sizeof *out);
    int rc = model_config_from(f, out, err);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

/* ---------------------------------------------------------------- parameters */

enum { PERM_NONE, PERM_Q, PERM_K };

/* Hugging Face layer suffix -> llama.cpp suffix, and which rows were permuted. */
static const struct { const char *hf, *gg; int perm; } layer_names[] = {
    {"input_layernorm.weight", "attn_norm.weight", PERM_NONE},
    {"self_attn.q_proj.weight", "attn_q.weight", PERM_Q},
    {"self_attn.q_proj.bias", "attn_q.bias", PERM_Q},
    {"self_attn.k_proj.weight", "attn_k.weight", PERM_K},
    {"self_attn.k_proj.bias", "attn_k.bias", PERM_K},
    {"self_attn.v_proj.weight", "attn_v.weight", PERM_NONE},
    {"self_attn.v_proj.bias", "attn_v.bias", PERM_NONE},
    {"self_attn.o_proj.weight", "attn_output.weight", PERM_NONE},
    {"self_attn.q_norm.weight", "attn_q_norm.weight", PERM_NONE},
    {"self_attn.k_norm.weight", "attn_k_norm.weight", PERM_NONE},
    {"post_attention_layernorm.weight", "ffn_norm.weight", PERM_NONE},
    {"mlp.gate_proj.weight", "ffn_gate.weight", PERM_NONE},
    {"mlp.up_proj.weight", "ffn_up.weight", PERM_NONE},
    {"mlp.down_proj.weight", "ffn_down.weight", PERM_NONE},
};

/* The llama.cpp name of a model tensor, and its permutation kind; 0 on success. */
static int gguf_name_of(const char *hf, char *out, size_t n, int *perm) {
    *perm = PERM_NONE;
    if (strcmp(hf, "model.embed_tokens.weight") == 0) { snprintf(out, n, "token_embd.weight"); return 0; }
    if (strcmp(hf, "model.norm.weight") == 0) { snprintf(out, n, "output_norm.weight"); return 0; }
    if (strcmp(hf, "lm_head.weight") == 0) { snprintf(out, n, "output.weight"); return 0; }
    int layer, used = 0;
    if (sscanf(hf, "model.layers.%d.%n", &layer, &used) != 1 || used == 0) return -1;
    for (size_t i = 0; i < sizeof layer_names / sizeof *layer_names; i++)
        if (strcmp(hf + used, layer_names[i].hf) == 0) {
            snprintf(out, n, "blk.%d.%s", layer, layer_names[i].gg);
            *perm = layer_names[i].perm;
            return 0;
        }
    return -1;
}

/* convert_hf_to_gguf.py's LlamaModel.permute reorders the rows of each head (D rows)
 * from HF's rotate_half layout [x_0 .. x_{D/2-1} | y_0 .. y_{D/2-1}] to llama.cpp's
 * interleaved one [x_0 y_0 x_1 y_1 ...]: gguf row 2i + s = hf row s*D/2 + i. This
 * puts them back. w is (n_head*D, cols); tmp holds D*cols floats. */
static void unpermute_rows(float *w, int n_head, int D, size_t cols, float *tmp) {
    size_t head = (size_t)D * cols;
    for (int h = 0; h < n_head; h++) {
        float *blk = w + (size_t)h * head;
        memcpy(tmp, blk, head * sizeof *tmp);
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < D / 2; i++)
                memcpy(blk + ((size_t)s * (D / 2) + i) * cols, tmp + ((size_t)2 * i + s) * cols, cols * sizeof *tmp);
    }
}

int gguf_load_params(const gguf_file *f, model *m, rlvr_err *err) {
    if (!f || !m) return errf(err, RLVR_EARG, "gguf_load_params: NULL argument");
    const model_config *c = &m->cfg;
    const char *arch = NULL;
    int rc = gguf_get_str(f, "general.architecture", &arch, NULL, err);
    if (rc) return rc;
    if (strcmp(arch, c->arch) != 0)
        return errf(err, RLVR_EARG, "%s: the file holds a %.40s model, the model to fill is %s", f->path, arch, c->arch);
    int permuted = strcmp(arch, "llama") == 0;
    unsigned char *used = calloc((size_t)f->n_tensors + 1, 1);
    float *tmp = malloc((size_t)c->head_dim * (size_t)(c->dim > 1 ? c->dim : 1) * sizeof *tmp);
    if (!used || !tmp) { free(used); free(tmp); return errf(err, RLVR_ENOMEM, "%s: out of memory", f->path); }
    for (int i = 0; i < m->n_tensors && !rc; i++) {
        const tensor_info *ti = &m->tensors[i];
        char name[96];
        int perm;
        if (gguf_name_of(ti->name, name, sizeof name, &perm) != 0) {
            rc = errf(err, RLVR_EUNSUPPORTED, "gguf_load_params: no llama.cpp name for model tensor '%s'", ti->name);
            break;
        }
        const gguf_tensor *t = gguf_find_tensor(f, name);
        if (!t) { rc = errf(err, RLVR_EFORMAT, "%s: tensor '%s' (for %s) is missing", f->path, name, ti->name); break; }
        /* HF (d0, d1) is stored as ne = [d1, d0]; (d0) as ne = [d0] */
        int64_t want[GGUF_MAX_DIMS] = {1, 1, 1, 1};
        if (ti->ndim == 2) { want[0] = ti->shape[1]; want[1] = ti->shape[0]; }
        else want[0] = ti->shape[0];
        if (memcmp(want, t->ne, sizeof want) != 0) {
            rc = errf(err, RLVR_EFORMAT, "%s: tensor '%s' (for %s) has ne [%lld, %lld, %lld, %lld], the config needs [%lld, %lld, 1, 1]",
                      f->path, name, ti->name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2],
                      (long long)t->ne[3], (long long)want[0], (long long)want[1]);
            break;
        }
        used[t - gguf_get_tensor(f, 0)] = 1;
        float *dst = m->params + ti->offset;
        if ((rc = gguf_tensor_read_f32(f, t, dst, ti->numel, err))) break;
        if (permuted && perm != PERM_NONE) {
            int nh = perm == PERM_Q ? c->n_heads : c->n_kv_heads;
            size_t cols = ti->ndim == 2 ? (size_t)ti->shape[1] : 1;
            if ((int64_t)nh * c->head_dim != ti->shape[0] || cols > (size_t)(c->dim > 1 ? c->dim : 1)) {
                rc = errf(err, RLVR_EFORMAT, "%s: tensor '%s' has %d rows, not %d heads x %d", f->path, name, ti->shape[0], nh, c->head_dim);
                break;
            }
            unpermute_rows(dst, nh, c->head_dim, cols, tmp);
        }
    }
    for (int i = 0; i < f->n_tensors && !rc; i++)
        if (!used[i] && strcmp(f->tensors[i].name, "rope_freqs.weight") != 0)
            rc = errf(err, RLVR_EUNSUPPORTED, "%s: tensor '" NAME_FMT "' has no place in a %s model with this config "
                      "(it would be dropped)", f->path, f->tensors[i].name, c->arch);
    free(used);
    free(tmp);
    return rc;
}
