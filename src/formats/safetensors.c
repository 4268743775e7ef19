/* safetensors.c: a distrustful reader and an atomic writer for .safetensors files.
 * The reader maps the file, validates the whole header (types, shapes, offsets,
 * overlaps, duplicates) before handing out a single pointer; it never trusts a count or
 * offset it has not checked. Not here: sharded-checkpoint indexes, dtype casts on write. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "core/err.h"
#include "core/fs.h"
#include "formats/dtype.h"
#include "formats/safetensors.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data are little-endian and read by memcpy; port before using a big-endian host"
#endif

#define MAX_JSON_INT 9007199254740992.0   /* 2^53: above it a JSON double is not exact */
#define NAME_FMT "%.200s"                 /* tensor names in messages are cut at 200 bytes */

/* ---------------------------------------------------------------- dtypes */

static const struct { const char *name; size_t size; } dtypes[ST_N_DTYPES] = {
    [ST_F64] = {"F64", 8},   [ST_F32] = {"F32", 4},   [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2}, [ST_I64] = {"I64", 8},   [ST_I32] = {"I32", 4},
    [ST_I16] = {"I16", 2},   [ST_I8] = {"I8", 1},     [ST_U64] = {"U64", 8},
    [ST_U32] = {"U32", 4},   [ST_U16] = {"U16", 2},   [ST_U8] = {"U8", 1},
    [ST_BOOL] = {"BOOL", 1}, [ST_F8_E4M3] = {"F8_E4M3", 1},
    [ST_F8_E4M3FNUZ] = {"F8_E4M3FNUZ", 1}, [ST_F8_E5M2] = {"F8_E5M2", 1},
    [ST_F8_E5M2FNUZ] = {"F8_E5M2FNUZ", 1}, [ST_F8_E8M0] = {"F8_E8M0", 1},
    [ST_C64] = {"C64", 8},
};

size_t st_dtype_size(st_dtype t) {
    return (unsigned)t < ST_N_DTYPES ? dtypes[t].size : 0;
}

const char *st_dtype_name(st_dtype t) {
    return (unsigned)t < ST_N_DTYPES ? dtypes[t].name : "?";
}

int st_dtype_parse(const char *name, st_dtype *out) {
    for (int i = 0; i < ST_N_DTYPES; i++)
        if (strcmp(name, dtypes[i].name) == 0) { *out = (st_dtype)i; return RLVR_OK; }
    static const char *const sub_byte[] = {"F4", "F6_E2M3", "F6_E3M2"};
    for (size_t i = 0; i < sizeof sub_byte / sizeof *sub_byte; i++)
        if (strcmp(name, sub_byte[i]) == 0) return RLVR_EUNSUPPORTED;
    return RLVR_EFORMAT;
}

/* ---------------------------------------------------------------- UTF-8 */

int st_utf8_valid(const char *str, size_t n, size_t *bad_at) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len; unsigned cp, min;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; min = 0x80; }
        else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; min = 0x800; }
        else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; min = 0x10000; }
        else goto bad;                      /* continuation byte, 0xc0/0xc1, >= 0xf5 */
        if (n - i < len) goto bad;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) goto bad;
        i += len;
    }
    return 1;
bad:
    if (bad_at) *bad_at = i;
    return 0;
}

/* ---------------------------------------------------------------- reader */

struct st_file {
    char *path;
    unsigned char *map;          /* the whole file, mapped read-only */
    uint64_t size;
    uint64_t header_len;
    const unsigned char *data;   /* map + 8 + header_len */
    uint64_t data_size;
    int n_tensors;
    st_tensor *tensors;          /* header order */
    int *by_name;                /* tensor indices sorted by name (st_find) */
    int n_meta;
    char **meta;                 /* key0, value0, key1, value1, ... */
};

static const char *json_kind(const cJSON *v) {
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    return "an invalid value";
}

/* A JSON number that is an exact non-negative integer below 2^53. */
static int json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= 0 && d < MAX_JSON_INT) || d != (double)(uint64_t)d) return 0;
    *out = (uint64_t)d;
    return 1;
}

/* Describes a bad integer for a message: the number, or its JSON kind. */
static void describe(const cJSON *v, char *buf, size_t n) {
    if (cJSON_IsNumber(v)) snprintf(buf, n, "%.17g", v->valuedouble);
    else snprintf(buf, n, "%s", json_kind(v));
}

static int parse_tensor(st_file *f, const cJSON *entry, st_tensor *t, rlvr_err *err) {
    const char *p = f->path, *name = t->name;
    if (!cJSON_IsObject(entry))
        return errf(err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "': entry is %s, not an object",
                    p, name, json_kind(entry));
    const cJSON *dtype = NULL, *shape = NULL, *offs = NULL, *c;
    cJSON_ArrayForEach(c, entry) {
        const cJSON **slot = strcmp(c->string, "dtype") == 0 ? &dtype
                           : strcmp(c->string, "shape") == 0 ? &shape
                           : strcmp(c->string, "data_offsets") == 0 ? &offs : NULL;
        if (!slot) continue;                     /* unknown keys are ignored, as serde does */
        if (*slot)
            return errf(err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "': key '%s' appears twice",
                        p, name, c->string);
        *slot = c;
    }
    const char *missing = !dtype ? "dtype" : !shape ? "shape" : !offs ? "data_offsets" : NULL;
    if (missing)
        return errf(err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "': missing '%s'", p, name, missing);

    if (!cJSON_IsString(dtype))
        return errf(err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "': dtype is %s, not a string",
                    p, name, json_kind(dtype));
    int rc = st_dtype_parse(dtype->valuestring, &t->dtype);
    if (rc == RLVR_EUNSUPPORTED)
        return errf(err, rc, "%s: tensor '" NAME_FMT "': sub-byte dtype '%s' is not supported",
                    p, name, dtype->valuestring);
    if (rc)
        return errf(err, rc, "%s: tensor '" NAME_FMT "': unknown dtype '%.40s'",
                    p, name, dtype->valuestring);

    if (!cJSON_IsArray(shape))
        return errf(err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "': shape is %s, not an array",
                    p, name, json_kind(shape));
    int nd = cJSON_GetArraySize(shape);
    if (nd > ST_MAX_DIMS)
        return errf(err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "': shape has %d dims, more than %d",
                    p, name, nd, ST_MAX_DIMS);
    t->ndim = nd;
    uint64_t numel = 1;
    int d = 0, overflow = 0;
    cJSON_ArrayForEach(c, shape) {
        uint64_t v;
        if (!json_uint(c, &v)) {
            char what[64]; describe(c, what, sizeof what);
            return errf(err, RLVR_EFORMAT,
                        "%s: tensor '" NAME_FMT "': shape[%d] is %s, not a non-negative integer",
                        p, name, d, what);
        }
        t->shape[d++] = (int64_t)v;
        overflow |= __builtin_mul_overflow(numel, v, &numel);
    }
    size_t esize = st_dtype_size(t->dtype);
    if (overflow || __builtin_mul_overflow(numel, (uint64_t)esize, &t->nbytes))
        return errf(err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "': shape product overflows 64 bits",
                    p, name);
    t->numel = numel;

    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
        return errf(err, RLVR_EFORMAT,
                    "%s: tensor '" NAME_FMT "': data_offsets is %s, not an array of two integers",
                    p, name, cJSON_IsArray(offs) ? "an array of another length" : json_kind(offs));
    uint64_t begin = 0, end = 0;
    const cJSON *bad = !json_uint(offs->child, &begin) ? offs->child
                     : !json_uint(offs->child->next, &end) ? offs->child->next : NULL;
    if (bad) {
        char what[64]; describe(bad, what, sizeof what);
        return errf(err, RLVR_EFORMAT,
                    "%s: tensor '" NAME_FMT "': data_offsets holds %s, not a non-negative integer",
                    p, name, what);
    }
    if (begin > end)
        return errf(err, RLVR_EFORMAT,
                    "%s: tensor '" NAME_FMT "': data_offsets [%llu, %llu] has begin > end",
                    p, name, (unsigned long long)begin, (unsigned long long)end);
    if (end > f->data_size)
        return errf(err, RLVR_EFORMAT,
                    "%s: tensor '" NAME_FMT "': data_offsets end %llu is past the end of the "
                    "%llu-byte data buffer (file truncated?)",
                    p, name, (unsigned long long)end, (unsigned long long)f->data_size);
    if (end - begin != t->nbytes)
        return errf(err, RLVR_EFORMAT,
                    "%s: tensor '" NAME_FMT "': data_offsets span %llu bytes but %s x %llu elements "
                    "need %llu (nbytes mismatch)",
                    p, name, (unsigned long long)(end - begin), st_dtype_name(t->dtype),
                    (unsigned long long)numel, (unsigned long long)t->nbytes);
    t->offset = 8 + f->header_len + begin;
    return RLVR_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int parse_metadata(st_file *f, const cJSON *m, rlvr_err *err) {
    if (cJSON_IsNull(m)) return RLVR_OK;         /* serde reads null as "no metadata" */
    if (!cJSON_IsObject(m))
        return errf(err, RLVR_EFORMAT, "%s: __metadata__ is %s, not an object", f->path, json_kind(m));
    int n = cJSON_GetArraySize(m);
    f->meta = calloc((size_t)n * 2 + 1, sizeof *f->meta);
    if (!f->meta) return errf(err, RLVR_ENOMEM, "%s: out of memory for %d metadata entries", f->path, n);
    const cJSON *c;
    cJSON_ArrayForEach(c, m) {
        if (!cJSON_IsString(c))
            return errf(err, RLVR_EFORMAT, "%s: __metadata__ value for key '" NAME_FMT "' is %s, not a string",
                        f->path, c->string, json_kind(c));
        char *k = strdup(c->string), *v = strdup(c->valuestring);
        f->meta[2 * f->n_meta] = k;
        f->meta[2 * f->n_meta + 1] = v;
        f->n_meta++;                             /* counted before the check: st_close frees both */
        if (!k || !v) return errf(err, RLVR_ENOMEM, "%s: out of memory for metadata", f->path);
    }
    /* duplicate keys, by sorting (a quadratic scan would let a 100 MB header hang us) */
    if (f->n_meta < 2) return RLVR_OK;
    const char **keys = malloc((size_t)f->n_meta * sizeof *keys);
    if (!keys) return errf(err, RLVR_ENOMEM, "%s: out of memory for metadata", f->path);
    for (int i = 0; i < f->n_meta; i++) keys[i] = f->meta[2 * i];
    qsort(keys, (size_t)f->n_meta, sizeof *keys, cmp_str);
    int rc = RLVR_OK;
    for (int i = 1; i < f->n_meta && !rc; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            rc = errf(err, RLVR_EFORMAT, "%s: __metadata__ key '" NAME_FMT "' appears twice", f->path, keys[i]);
    free(keys);
    return rc;
}

/* qsort comparators need the tensor array; a file-scope pointer would not be reentrant,
 * so sort (key, index) pairs instead. */
typedef struct { const char *name; uint64_t begin, end; int idx; } sort_key;

static int by_name_cmp(const void *a, const void *b) {
    return strcmp(((const sort_key *)a)->name, ((const sort_key *)b)->name);
}

static int by_offset_cmp(const void *a, const void *b) {
    const sort_key *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Duplicate names and overlapping byte ranges, each found by one sort. */
static int check_layout(st_file *f, rlvr_err *err) {
    int n = f->n_tensors;
    if (n == 0) return RLVR_OK;
    sort_key *k = malloc((size_t)n * sizeof *k);
    f->by_name = malloc((size_t)n * sizeof *f->by_name);
    if (!k || !f->by_name) { free(k); return errf(err, RLVR_ENOMEM, "%s: out of memory", f->path); }
    uint64_t base = 8 + f->header_len;
    for (int i = 0; i < n; i++) {
        const st_tensor *t = &f->tensors[i];
        k[i] = (sort_key){t->name, t->offset - base, t->offset - base + t->nbytes, i};
    }
    int rc = RLVR_OK;
    qsort(k, (size_t)n, sizeof *k, by_name_cmp);
    for (int i = 0; i < n; i++) f->by_name[i] = k[i].idx;
    for (int i = 1; i < n && !rc; i++)
        if (strcmp(k[i - 1].name, k[i].name) == 0)
            rc = errf(err, RLVR_EFORMAT, "%s: duplicate tensor name '" NAME_FMT "'", f->path, k[i].name);
    if (!rc) {
        qsort(k, (size_t)n, sizeof *k, by_offset_cmp);
        for (int i = 1; i < n && !rc; i++)
            if (k[i].begin < k[i - 1].end)
                rc = errf(err, RLVR_EFORMAT,
                          "%s: tensor '" NAME_FMT "' (bytes %llu..%llu) overlaps tensor '" NAME_FMT
                          "' (bytes %llu..%llu)", f->path, k[i].name,
                          (unsigned long long)k[i].begin, (unsigned long long)k[i].end,
                          k[i - 1].name, (unsigned long long)k[i - 1].begin,
                          (unsigned long long)k[i - 1].end);
    }
    free(k);
    return rc;
}

/* Header checks that cJSON does not make: bytes are UTF-8, no raw control bytes (JSON
 * forbids them in strings; cJSON lets them through), and no "\u0000" escape (it would
 * cut a C string short, so two different names could read as one). */
static int check_header_text(const st_file *f, const char *h, size_t n, rlvr_err *err) {
    size_t bad;
    if (!st_utf8_valid(h, n, &bad))
        return errf(err, RLVR_EFORMAT, "%s: header is not valid UTF-8 at header byte %zu (file offset %llu)",
                    f->path, bad, (unsigned long long)(8 + bad));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return errf(err, RLVR_EFORMAT, "%s: control byte 0x%02x in header at header byte %zu",
                        f->path, c, i);
        if (c == '\\' && i + 1 < n) {
            if (n - i >= 6 && memcmp(h + i + 1, "u0000", 5) == 0)
                return errf(err, RLVR_EFORMAT, "%s: \\u0000 escape in header at header byte %zu",
                            f->path, i);
            i++;                                 /* skip the escaped character */
        }
    }
    return RLVR_OK;
}

static int parse_header(st_file *f, rlvr_err *err) {
    const char *p = f->path;
    if (f->size < 8)
        return errf(err, RLVR_EFORMAT, "%s: file is %llu bytes, shorter than the 8-byte header length",
                    p, (unsigned long long)f->size);
    uint64_t n;
    memcpy(&n, f->map, 8);
    if (n > ST_MAX_HEADER)
        return errf(err, RLVR_EFORMAT, "%s: header length %llu is absurd (limit %llu)",
                    p, (unsigned long long)n, (unsigned long long)ST_MAX_HEADER);
    if (n > f->size - 8)
        return errf(err, RLVR_EFORMAT, "%s: header length %llu runs past the end of the %llu-byte file",
                    p, (unsigned long long)n, (unsigned long long)f->size);
    f->header_len = n;
    f->data = f->map + 8 + n;
    f->data_size = f->size - 8 - n;
    const char *raw = (const char *)f->map + 8;
    if (n == 0 || raw[0] != '{')
        return errf(err, RLVR_EFORMAT, "%s: header is not a JSON object (it does not start with '{')", p);
    int rc = check_header_text(f, raw, (size_t)n, err);
    if (rc) return rc;

    /* Parse a NUL-terminated heap copy: the mapping has no terminator, and a copy lets
     * the sanitizers see any read past the header. */
    char *h = malloc((size_t)n + 1);
    if (!h) return errf(err, RLVR_ENOMEM, "%s: out of memory for a %llu-byte header", p, (unsigned long long)n);
    memcpy(h, raw, (size_t)n);
    h[n] = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(h, (size_t)n, &end, 0);
    if (!root) {
        size_t at = end && end >= h && end <= h + n ? (size_t)(end - h) : 0;
        free(h);
        return errf(err, RLVR_EFORMAT, "%s: header is not valid JSON (error near header byte %zu, file offset %llu)",
                    p, at, (unsigned long long)(8 + at));
    }
    for (const char *q = end; q < h + n; q++)
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
            rc = errf(err, RLVR_EFORMAT, "%s: bytes after the header's JSON object at header byte %zu",
                      p, (size_t)(q - h));
            goto done;
        }
    if (!cJSON_IsObject(root)) {
        rc = errf(err, RLVR_EFORMAT, "%s: header is %s, not a JSON object", p, json_kind(root));
        goto done;
    }
    int count = cJSON_GetArraySize(root);
    f->tensors = calloc((size_t)count + 1, sizeof *f->tensors);
    if (!f->tensors) { rc = errf(err, RLVR_ENOMEM, "%s: out of memory for %d tensors", p, count); goto done; }
    int seen_meta = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, root) {
        if (strcmp(c->string, "__metadata__") == 0) {
            if (seen_meta++) { rc = errf(err, RLVR_EFORMAT, "%s: __metadata__ appears twice", p); goto done; }
            if ((rc = parse_metadata(f, c, err))) goto done;
            continue;
        }
        st_tensor *t = &f->tensors[f->n_tensors];
        if (!(t->name = strdup(c->string))) { rc = errf(err, RLVR_ENOMEM, "%s: out of memory", p); goto done; }
        f->n_tensors++;                          /* counted now so st_close frees the name */
        if ((rc = parse_tensor(f, c, t, err))) goto done;
    }
    rc = check_layout(f, err);
done:
    cJSON_Delete(root);
    free(h);
    return rc;
}

int st_open(const char *path, st_file **out, rlvr_err *err) {
    if (!out) return errf(err, RLVR_EARG, "st_open: out is NULL");
    *out = NULL;
    if (!path) return errf(err, RLVR_EARG, "st_open: path is NULL");
    st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) { free(f); return errf(err, RLVR_ENOMEM, "%s: out of memory", path); }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        st_close(f);
        return errf(err, RLVR_EIO, "%s: cannot open: %s", path, strerror(e));
    }
    struct stat sb;
    int rc = RLVR_OK;
    if (fstat(fd, &sb) != 0) rc = errf(err, RLVR_EIO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode)) rc = errf(err, RLVR_EIO, "%s: not a regular file", path);
    else {
        f->size = (uint64_t)sb.st_size;
        if (f->size > 0) {                       /* mmap of length 0 is an error */
            void *m = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (m == MAP_FAILED) rc = errf(err, RLVR_EIO, "%s: cannot map %llu bytes: %s", path,
                                           (unsigned long long)f->size, strerror(errno));
            else f->map = m;
        }
    }
    close(fd);
    if (!rc) rc = parse_header(f, err);
    if (rc) { st_close(f); return rc; }
    *out = f;
    return RLVR_OK;
}

void st_close(st_file *f) {
    if (!f) return;
    if (f->map) munmap(f->map, (size_t)f->size);
    for (int i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    for (int i = 0; i < 2 * f->n_meta; i++) free(f->meta[i]);
    free(f->tensors);
    free(f->by_name);
    free(f->meta);
    free(f->path);
    free(f);
}

int st_count(const st_file *f) { return f ? f->n_tensors : 0; }

const st_tensor *st_get(const st_file *f, int i) {
    return f && i >= 0 && i < f->n_tensors ? &f->tensors[i] : NULL;
}

const st_tensor *st_find(const st_file *f, const char *name) {
    if (!f || !name) return NULL;
    int lo = 0, hi = f->n_tensors - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const st_tensor *t = &f->tensors[f->by_name[mid]];
        int c = strcmp(name, t->name);
        if (c == 0) return t;
        if (c < 0) hi = mid - 1; else lo = mid + 1;
    }
    return NULL;
}

const void *st_data(const st_file *f, const st_tensor *t) {
    return f && t ? f->map + t->offset : NULL;
}

const char *st_meta(const st_file *f, const char *key) {
    if (!f || !key) return NULL;
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[2 * i], key) == 0) return f->meta[2 * i + 1];
    return NULL;
}

int st_meta_count(const st_file *f) { return f ? f->n_meta : 0; }
const char *st_meta_key(const st_file *f, int i) {
    return f && i >= 0 && i < f->n_meta ? f->meta[2 * i] : NULL;
}
const char *st_meta_value(const st_file *f, int i) {
    return f && i >= 0 && i < f->n_meta ? f->meta[2 * i + 1] : NULL;
}
const char *st_path(const st_file *f) { return f ? f->path : NULL; }

/* Common argument checks of the st_read_* copies. */
static int check_read(const st_file *f, const st_tensor *t, const void *dst, uint64_t n,
                      const char *fn, rlvr_err *err) {
    if (!f || !t || (!dst && n))
        return errf(err, RLVR_EARG, "%s: NULL argument", fn);
    if (t < f->tensors || t >= f->tensors + f->n_tensors)
        return errf(err, RLVR_EARG, "%s: %s: tensor is not from this file", fn, f->path);
    if (n != t->numel)
        return errf(err, RLVR_EARG, "%s: %s: tensor '" NAME_FMT "' has %llu elements, caller expects %llu",
                    fn, f->path, t->name, (unsigned long long)t->numel, (unsigned long long)n);
    return RLVR_OK;
}

int st_read_f32(const st_file *f, const st_tensor *t, float *dst, uint64_t n, rlvr_err *err) {
    int rc = check_read(f, t, dst, n, "st_read_f32", err);
    if (rc) return rc;
    const unsigned char *src = f->map + t->offset;
    switch (t->dtype) {
    case ST_F32: if (n) memcpy(dst, src, (size_t)n * 4); return RLVR_OK;
    case ST_F16: dtype_f16_to_f32_n(dst, src, (size_t)n); return RLVR_OK;
    case ST_BF16: dtype_bf16_to_f32_n(dst, src, (size_t)n); return RLVR_OK;
    case ST_F64:
        for (uint64_t i = 0; i < n; i++) {
            double d; memcpy(&d, src + 8 * i, 8);
            dst[i] = (float)d;                   /* IEEE (Annex F): out of range -> inf */
        }
        return RLVR_OK;
    default:
        return errf(err, RLVR_EUNSUPPORTED, "%s: tensor '" NAME_FMT "' is %s; st_read_f32 reads F32, F16, BF16, F64",
                    f->path, t->name, st_dtype_name(t->dtype));
    }
}

int st_read_i32(const st_file *f, const st_tensor *t, int32_t *dst, uint64_t n, rlvr_err *err) {
    int rc = check_read(f, t, dst, n, "st_read_i32", err);
    if (rc) return rc;
    const unsigned char *src = f->map + t->offset;
    size_t es = st_dtype_size(t->dtype);
    for (uint64_t i = 0; i < n; i++) {
        const unsigned char *s = src + i * es;
        int64_t v;
        switch (t->dtype) {
        case ST_I8: { int8_t x; memcpy(&x, s, 1); v = x; } break;
        case ST_I16: { int16_t x; memcpy(&x, s, 2); v = x; } break;
        case ST_I32: { int32_t x; memcpy(&x, s, 4); v = x; } break;
        case ST_I64: { int64_t x; memcpy(&x, s, 8); v = x; } break;
        case ST_U8: v = s[0]; break;
        case ST_U16: { uint16_t x; memcpy(&x, s, 2); v = x; } break;
        case ST_U32: { uint32_t x; memcpy(&x, s, 4); v = x; } break;
        case ST_U64: { uint64_t x; memcpy(&x, s, 8); v = x > INT64_MAX ? INT64_MAX : (int64_t)x; } break;
        case ST_BOOL:
            if (s[0] > 1)
                return errf(err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "' element %llu: BOOL byte is %u, not 0 or 1",
                            f->path, t->name, (unsigned long long)i, s[0]);
            v = s[0];
            break;
        default:
            return errf(err, RLVR_EUNSUPPORTED, "%s: tensor '" NAME_FMT "' is %s; st_read_i32 reads integer and BOOL tensors",
                        f->path, t->name, st_dtype_name(t->dtype));
        }
        if (v < INT32_MIN || v > INT32_MAX)
            return errf(err, RLVR_EFORMAT, "%s: tensor '" NAME_FMT "' element %llu: %lld does not fit in int32",
                        f->path, t->name, (unsigned long long)i, (long long)v);
        dst[i] = (int32_t)v;
    }
    return RLVR_OK;
}

/* ---------------------------------------------------------------- writer */


typedef struct { const void *p; uint64_t n; } chunk;

/* Writes the chunks (pointer, length) to path through core/fs's atomic writer:
 * temp file, fsync, rename, directory fsync; on failure nothing replaces path. */
static int write_atomic(const char *path, const chunk *c, int n_chunks, rlvr_err *err) {
    fs_atomic *f = fs_atomic_open(path, err);
    if (!f) return err && err->code ? err->code : RLVR_EIO;
    for (int i = 0; i < n_chunks; i++) {
        int rc = c[i].n ? fs_atomic_write(f, c[i].p, c[i].n, err) : RLVR_OK;
        if (rc) { fs_atomic_abort(f); return rc; }
    }
    return fs_atomic_commit(f, err);
}

/* Appends v to arr as raw digits: cJSON prints large integers as 1e+16, serde wants digits. */
static int add_u64(cJSON *arr, uint64_t v) {
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    cJSON *item = cJSON_CreateRaw(buf);
    if (item && cJSON_AddItemToArray(arr, item)) return 1;
    cJSON_Delete(item);
    return 0;
}

/* Validates the arguments and fills nbytes[i]; returns the total data size in *total. */
static int check_outputs(const char *path, const st_out *t, int n, const char *const *meta_kv,
                         uint64_t *nbytes, uint64_t *total, rlvr_err *err) {
    *total = 0;
    for (int i = 0; i < n; i++) {
        const st_out *o = &t[i];
        if (!o->name || !o->name[0])
            return errf(err, RLVR_EARG, "%s: tensor %d has no name", path, i);
        if (strcmp(o->name, "__metadata__") == 0)
            return errf(err, RLVR_EARG, "%s: tensor %d is named __metadata__", path, i);
        if (!st_utf8_valid(o->name, strlen(o->name), NULL))
            return errf(err, RLVR_EARG, "%s: tensor %d: name is not valid UTF-8", path, i);
        if (st_dtype_size(o->dtype) == 0)
            return errf(err, RLVR_EARG, "%s: tensor '" NAME_FMT "': invalid dtype %d", path, o->name, (int)o->dtype);
        if (o->ndim < 0 || o->ndim > ST_MAX_DIMS)
            return errf(err, RLVR_EARG, "%s: tensor '" NAME_FMT "': ndim %d is outside 0..%d",
                        path, o->name, o->ndim, ST_MAX_DIMS);
        uint64_t numel = 1;
        int overflow = 0;
        for (int d = 0; d < o->ndim; d++) {
            if (o->shape[d] < 0)
                return errf(err, RLVR_EARG, "%s: tensor '" NAME_FMT "': shape[%d] is %lld",
                            path, o->name, d, (long long)o->shape[d]);
            overflow |= __builtin_mul_overflow(numel, (uint64_t)o->shape[d], &numel);
        }
        overflow |= __builtin_mul_overflow(numel, (uint64_t)st_dtype_size(o->dtype), &nbytes[i]);
        overflow |= __builtin_add_overflow(*total, nbytes[i], total);
        if (overflow || *total >= (uint64_t)MAX_JSON_INT)
            return errf(err, RLVR_ENOMEM, "%s: tensor '" NAME_FMT "': size overflows", path, o->name);
        if (nbytes[i] && !o->data)
            return errf(err, RLVR_EARG, "%s: tensor '" NAME_FMT "': data is NULL", path, o->name);
    }
    for (int i = 0; meta_kv && meta_kv[i]; i += 2) {
        if (!meta_kv[i + 1])
            return errf(err, RLVR_EARG, "%s: metadata key '" NAME_FMT "' has no value", path, meta_kv[i]);
        if (!st_utf8_valid(meta_kv[i], strlen(meta_kv[i]), NULL) ||
            !st_utf8_valid(meta_kv[i + 1], strlen(meta_kv[i + 1]), NULL))
            return errf(err, RLVR_EARG, "%s: metadata entry %d is not valid UTF-8", path, i / 2);
        for (int j = 0; j < i; j += 2)
            if (strcmp(meta_kv[j], meta_kv[i]) == 0)
                return errf(err, RLVR_EARG, "%s: metadata key '" NAME_FMT "' appears twice", path, meta_kv[i]);
    }
    if (n > 1) {
        const char **names = malloc((size_t)n * sizeof *names);
        if (!names) return errf(err, RLVR_ENOMEM, "%s: out of memory", path);
        for (int i = 0; i < n; i++) names[i] = t[i].name;
        qsort(names, (size_t)n, sizeof *names, cmp_str);
        int rc = RLVR_OK;
        for (int i = 1; i < n && !rc; i++)
            if (strcmp(names[i - 1], names[i]) == 0)
                rc = errf(err, RLVR_EARG, "%s: duplicate tensor name '" NAME_FMT "'", path, names[i]);
        free(names);
        if (rc) return rc;
    }
    return RLVR_OK;
}

int st_write(const char *path, const st_out *t, int n, const char *const *meta_kv, rlvr_err *err) {
    if (!path || n < 0 || (n > 0 && !t))
        return errf(err, RLVR_EARG, "st_write: bad arguments (path %s, n %d)", path ? path : "NULL", n);
    uint64_t *nbytes = calloc((size_t)n + 1, sizeof *nbytes);
    chunk *chunks = calloc((size_t)n + 2, sizeof *chunks);
    cJSON *root = NULL;
    char *json = NULL, *header = NULL;
    int rc = RLVR_OK;
    uint64_t total;
    if (!nbytes || !chunks) { rc = errf(err, RLVR_ENOMEM, "%s: out of memory", path); goto done; }
    if ((rc = check_outputs(path, t, n, meta_kv, nbytes, &total, err))) goto done;

    root = cJSON_CreateObject();
    int ok = root != NULL;
    if (ok && meta_kv && meta_kv[0]) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        ok = m != NULL;
        for (int i = 0; ok && meta_kv[i]; i += 2)
            ok = cJSON_AddStringToObject(m, meta_kv[i], meta_kv[i + 1]) != NULL;
    }
    uint64_t off = 0;
    for (int i = 0; ok && i < n; i++) {
        cJSON *e = cJSON_CreateObject(), *shape = NULL, *offs = NULL;
        ok = e && cJSON_AddStringToObject(e, "dtype", st_dtype_name(t[i].dtype)) &&
             (shape = cJSON_AddArrayToObject(e, "shape")) &&
             (offs = cJSON_AddArrayToObject(e, "data_offsets"));
        for (int d = 0; ok && d < t[i].ndim; d++)
            ok = add_u64(shape, (uint64_t)t[i].shape[d]);
        ok = ok && add_u64(offs, off) && add_u64(offs, off + nbytes[i]);
        if (!ok || !cJSON_AddItemToObject(root, t[i].name, e)) { cJSON_Delete(e); ok = 0; }
        chunks[i + 1] = (chunk){t[i].data, nbytes[i]};
        off += nbytes[i];
    }
    if (ok) json = cJSON_PrintUnformatted(root);
    if (!json) { rc = errf(err, RLVR_ENOMEM, "%s: out of memory building the header", path); goto done; }

    size_t jlen = strlen(json), hlen = (jlen + 7) / 8 * 8;   /* 8 + hlen stays 8-aligned */
    if (hlen > ST_MAX_HEADER) {
        rc = errf(err, RLVR_EARG, "%s: header would be %zu bytes, over the %llu-byte limit readers enforce",
                  path, hlen, (unsigned long long)ST_MAX_HEADER);
        goto done;
    }
    header = malloc(8 + hlen);
    if (!header) { rc = errf(err, RLVR_ENOMEM, "%s: out of memory", path); goto done; }
    uint64_t le = hlen;
    memcpy(header, &le, 8);
    memcpy(header + 8, json, jlen);
    memset(header + 8 + jlen, ' ', hlen - jlen);
    chunks[0] = (chunk){header, 8 + hlen};
    rc = write_atomic(path, chunks, n + 1, err);
done:
    free(header);
    cJSON_free(json);
    cJSON_Delete(root);
    free(chunks);
    free(nbytes);
    return rc;
}
