/* safetensors.h: read and write Hugging Face .safetensors files (model weights, golden
 * test tensors, our own checkpoints).
 *
 * The format: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON
 *   {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
 *    "__metadata__": {"<key>": "<string value>", ...}}
 * (optionally space-padded), then the data buffer. Offsets are relative to the start of
 * the buffer; data are little-endian, row-major (C order).
 *
 * The reader trusts nothing: every count, size and offset is checked against the bytes
 * that are there, with overflow-checked arithmetic, before anything is used; every
 * failure is RLVR_EFORMAT with a message that names the file and the tensor name or
 * byte offset at fault. docs/formats.md lists what is accepted and rejected and why.
 */
#ifndef RLVR_FORMATS_SAFETENSORS_H
#define RLVR_FORMATS_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>
#include "rlvr.h"

enum { ST_MAX_DIMS = 8 };                           /* more dims than this: rejected */
#define ST_MAX_HEADER ((uint64_t)100000000)         /* the header cap HF's reader uses */

/* Element types, named as in the file ("F32", "BF16", ...). Every one here is a whole
 * number of bytes. The sub-byte types of newer files (F4, F6_E2M3, F6_E3M2) are known
 * by name and refused with RLVR_EUNSUPPORTED; any other name is RLVR_EFORMAT. */
typedef enum {
    ST_F64, ST_F32, ST_F16, ST_BF16,
    ST_I64, ST_I32, ST_I16, ST_I8,
    ST_U64, ST_U32, ST_U16, ST_U8,
    ST_BOOL,
    ST_F8_E4M3, ST_F8_E4M3FNUZ, ST_F8_E5M2, ST_F8_E5M2FNUZ, ST_F8_E8M0,
    ST_C64,
    ST_N_DTYPES
} st_dtype;

/* Bytes per element (0 for a value outside the enum). */
size_t st_dtype_size(st_dtype t);

/* The name used in files ("F32"), or "?" for a value outside the enum. Static storage. */
const char *st_dtype_name(st_dtype t);

/* Parses a file dtype name. Returns RLVR_OK and sets *out, RLVR_EUNSUPPORTED for a
 * known sub-byte type, RLVR_EFORMAT for anything else. Fills no message (callers add
 * their own context). */
int st_dtype_parse(const char *name, st_dtype *out);

/* One tensor of an open file. Owned by the st_file; valid until st_close. */
typedef struct {
    char *name;                      /* NUL-terminated, valid UTF-8 */
    st_dtype dtype;
    int ndim;                        /* 0 (a scalar) .. ST_MAX_DIMS */
    int64_t shape[ST_MAX_DIMS];      /* shape[0..ndim), each >= 0; the rest are 0 */
    uint64_t numel;                  /* product of shape (1 for a scalar) */
    uint64_t offset;                 /* ABSOLUTE byte offset of the data in the file
                                        (8 + header length + data_offsets[0]) */
    uint64_t nbytes;                 /* numel * st_dtype_size(dtype) */
} st_tensor;

typedef struct st_file st_file;

/* Opens and validates path (mapped read-only with mmap; a file that cannot be mapped,
 * e.g. a pipe, is RLVR_EIO). On success *out owns the mapping and every name and metadata string;
 * free it with st_close. On failure *out is NULL and err says why: RLVR_EIO (cannot
 * open / stat / map), RLVR_EFORMAT (anything wrong in the bytes), RLVR_EUNSUPPORTED
 * (a known sub-byte dtype), RLVR_ENOMEM.
 * Accepted beyond what HF's own reader accepts: buffer bytes covered by no tensor
 * (holes, trailing bytes) and tensors in any order; they are ignored, not reported.
 * Note: the file is mapped, so another process truncating it while open may raise
 * SIGBUS on access; rlvr only ever replaces files by rename, which is safe. */
int st_open(const char *path, st_file **out, rlvr_err *err);

/* Unmaps and frees everything; NULL is fine. Pointers from st_get/st_find/st_data/
 * st_meta die with it. */
void st_close(st_file *f);

/* Number of tensors (not counting __metadata__), in header order. */
int st_count(const st_file *f);

/* The i-th tensor in header order, or NULL when i is out of range. */
const st_tensor *st_get(const st_file *f, int i);

/* The tensor named name, or NULL. O(log n). */
const st_tensor *st_find(const st_file *f, const char *name);

/* Raw little-endian bytes of t (t->nbytes of them), pointing into the mapping. Aligned
 * to the element size only if the writer aligned it (HF's writer and st_write pad the
 * header to 8 bytes, but tensors follow each other back to back); st_read_f32 and
 * st_read_i32 work at any alignment. For a zero-size tensor this may point just past
 * the data. */
const void *st_data(const st_file *f, const st_tensor *t);

/* The __metadata__ string for key, or NULL when absent. Owned by f. */
const char *st_meta(const st_file *f, const char *key);

/* Number of __metadata__ entries, and the i-th key/value (NULL when out of range). */
int st_meta_count(const st_file *f);
const char *st_meta_key(const st_file *f, int i);
const char *st_meta_value(const st_file *f, int i);

/* The path the file was opened with (for messages). */
const char *st_path(const st_file *f);

/* Copies t into dst as fp32, converting from F32, F16, BF16 or F64 (F64 values beyond
 * float range become +-inf; NaN/inf are data and pass through). n must equal t->numel
 * (RLVR_EARG otherwise, so a shape mismatch cannot go unnoticed); other dtypes are
 * RLVR_EUNSUPPORTED. dst is caller-owned, n floats. */
int st_read_f32(const st_file *f, const st_tensor *t, float *dst, uint64_t n, rlvr_err *err);

/* Copies an integer tensor (I8/I16/I32/I64/U8/U16/U32/U64, BOOL as 0/1) into dst as
 * int32 (e.g. token ids in golden files). n must equal t->numel (RLVR_EARG); a value
 * outside int32 is RLVR_EFORMAT naming the element index; float dtypes are
 * RLVR_EUNSUPPORTED. dst is caller-owned, n ints. */
int st_read_i32(const st_file *f, const st_tensor *t, int32_t *dst, uint64_t n, rlvr_err *err);

/* One tensor to write. Nothing is copied or owned: name and data must stay valid for
 * the st_write call. data holds numel * st_dtype_size(dtype) little-endian bytes
 * (it may be NULL when that is 0). */
typedef struct {
    const char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const void *data;
} st_out;

/* Writes n tensors to path in the given order, back to back, after a header padded
 * with spaces to a multiple of 8 bytes (as HF's writer does), so the file opens in
 * Python's safetensors and transformers. meta_kv is NULL or a NULL-terminated list
 * "key", "value", "key", "value", ..., NULL written as __metadata__ (transformers
 * does not need {"format": "pt"} any more, but older versions want it).
 * Atomic: writes "<path>.tmp.<pid>.<k>" in the same directory, fsyncs it, renames it
 * over path and fsyncs the directory; on any failure the temp file is removed and an
 * existing path is untouched. Refuses (RLVR_EARG) bad ranks, negative dims, unknown
 * dtypes, NULL or empty or duplicate names, "__metadata__" as a name, names or
 * metadata that are not valid UTF-8, and a NULL data pointer for a non-empty tensor;
 * RLVR_EIO when the file system fails; RLVR_ENOMEM on allocation failure/overflow. */
int st_write(const char *path, const st_out *t, int n, const char *const *meta_kv, rlvr_err *err);

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF), else 0 with *bad_at (if non-NULL) set to the offset of the first bad
 * byte. Exposed because hfconfig.c checks config.json with it too. */
int st_utf8_valid(const char *s, size_t n, size_t *bad_at);

#endif
