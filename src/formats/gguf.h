/* gguf.h: read llama.cpp's GGUF files (versions 2 and 3, little-endian): metadata,
 * tensor infos and (dequantized) tensor data; map a llama/qwen2/qwen3 GGUF onto
 * rlvr's model (config and fp32 parameters under Hugging Face names). No writer.
 *
 * The format (all little-endian):
 *   "GGUF"  u32 version  u64 n_tensors  u64 n_kv
 *   n_kv x  { string key, u32 value_type, value }
 *   n_tensors x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
 *   padding to `general.alignment` (u32, default 32), then the data section;
 *   each tensor's offset is relative to the data section and a multiple of the alignment.
 *   string = u64 length + bytes (no NUL); array = u32 element type + u64 count + elements.
 *   ne[0] is the fastest-varying dimension (the row length): a PyTorch (out, in) matrix
 *   is stored with ne = [in, out].
 *
 * The reader trusts nothing. Every count, length and offset is checked against the
 * bytes that are left, with overflow-checked arithmetic, before it is used or anything
 * is allocated; every failure is RLVR_EFORMAT with a message naming the file and the
 * byte offset, key or tensor at fault. docs/formats.md lists each check and why.
 */
#ifndef RLVR_FORMATS_GGUF_H
#define RLVR_FORMATS_GGUF_H
#include <stddef.h>
#include <stdint.h>
#include "rlvr.h"
#include "model/config.h"
#include "model/model.h"
#include "formats/quant.h"

enum {
    GGUF_MAX_DIMS = 4,                 /* ggml's limit; more is rejected */
    GGUF_DEFAULT_ALIGNMENT = 32,
    GGUF_MAX_ALIGNMENT = 1 << 16,      /* general.alignment must be a power of two <= this */
    GGUF_MAX_NAME = 256,               /* bytes in a key or tensor name (llama.cpp: 63) */
    GGUF_MAX_DEPTH = 8,                /* nesting of arrays inside arrays */
};
#define GGUF_MAX_KV       ((uint64_t)1 << 20)   /* caps, far above any real file */
#define GGUF_MAX_TENSORS  ((uint64_t)1 << 20)

/* Metadata value types, as stored. */
typedef enum gguf_type {
    GGUF_TYPE_UINT8 = 0, GGUF_TYPE_INT8 = 1, GGUF_TYPE_UINT16 = 2, GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4, GGUF_TYPE_INT32 = 5, GGUF_TYPE_FLOAT32 = 6, GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8, GGUF_TYPE_ARRAY = 9, GGUF_TYPE_UINT64 = 10, GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
} gguf_type;

/* "uint32", "string", ...; "?" outside the enum. Static storage. */
const char *gguf_type_name(int type);

/* One tensor of an open file. Owned by the gguf_file; valid until gguf_close. */
typedef struct {
    const char *name;                /* NUL-terminated UTF-8, no NUL inside */
    int type;                        /* ggml_type (quant.h) */
    int n_dims;                      /* 0..4, as stored */
    int64_t ne[GGUF_MAX_DIMS];       /* ne[0] = row length; dims past n_dims are 1 */
    uint64_t numel;                  /* product of ne */
    uint64_t offset;                 /* ABSOLUTE file offset of the data */
    uint64_t nbytes;                 /* quant_row_bytes(type, ne[0]) * ne[1] * ne[2] * ne[3] */
} gguf_tensor;

typedef struct gguf_file gguf_file;

/* Opens and validates path (mapped read-only). On success *out owns the mapping and
 * every copy; free it with gguf_close. On failure *out is NULL and err says why:
 * RLVR_EIO (cannot open / stat / map), RLVR_EFORMAT (anything wrong in the bytes),
 * RLVR_EUNSUPPORTED (version 1, a big-endian file), RLVR_ENOMEM.
 * Accepted beyond llama.cpp: tensors in any order and with gaps between them (only
 * overlaps are refused); bytes after the last tensor.
 * As with st_open, truncating the file while it is open may raise SIGBUS. */
int gguf_open(const char *path, gguf_file **out, rlvr_err *err);

/* The same checks over data[0..n), which the caller keeps alive and unchanged until
 * gguf_close (nothing is copied; for tests and fuzzing). name is used in messages
 * (NULL: "<memory>"). */
int gguf_open_mem(const void *data, size_t n, const char *name, gguf_file **out, rlvr_err *err);

/* Unmaps and frees everything; NULL is fine. Every pointer handed out dies with it. */
void gguf_close(gguf_file *f);

const char *gguf_path(const gguf_file *f);
uint32_t gguf_version(const gguf_file *f);
uint32_t gguf_alignment(const gguf_file *f);
uint64_t gguf_data_offset(const gguf_file *f);   /* absolute start of the data section */

/* ---- metadata. Keys are indexed 0..gguf_n_kv()-1 in file order. */
int gguf_n_kv(const gguf_file *f);
int gguf_find_key(const gguf_file *f, const char *key);   /* index, or -1; O(log n) */
const char *gguf_kv_key(const gguf_file *f, int i);       /* NULL when out of range */
int gguf_kv_type(const gguf_file *f, int i);              /* gguf_type, or -1 out of range */

/* Typed getters by key. RLVR_OK and *out set, or RLVR_EFORMAT naming the key when it
 * is absent or its value does not fit: the integer getters accept any integer type
 * whose value is in range (converters write u32 or i32 or u64 for the same key); f32
 * accepts FLOAT32 and FLOAT64 (rounded); bool only BOOL (*out 0 or 1); str only STRING.
 * Use gguf_find_key first for optional keys. */
int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, rlvr_err *err);
int gguf_get_i64(const gguf_file *f, const char *key, int64_t *out, rlvr_err *err);
int gguf_get_f32(const gguf_file *f, const char *key, float *out, rlvr_err *err);
int gguf_get_bool(const gguf_file *f, const char *key, int *out, rlvr_err *err);
/* *out is NUL-terminated and owned by f; len (may be NULL) gets the byte length, which
 * is the place to look if the value may hold NUL bytes. */
int gguf_get_str(const gguf_file *f, const char *key, const char **out, size_t *len, rlvr_err *err);

/* Arrays, by kv index. gguf_arr_info: RLVR_OK with the element type and count, or
 * RLVR_EARG when kv is out of range or not an array (elem_type, count may be NULL). */
int gguf_arr_info(const gguf_file *f, int kv, int *elem_type, uint64_t *count);

/* Raw little-endian elements of a fixed-size array whose element type is elem_type
 * (so the caller cannot read an array of one type as another), count in *count
 * (may be NULL). NULL when kv is not such an array. Any alignment: read with memcpy. */
const void *gguf_arr_data(const gguf_file *f, int kv, int elem_type, uint64_t *count);

/* Element i of an integer or BOOL array as int64 (RLVR_EFORMAT for a UINT64 above
 * INT64_MAX), or of any numeric array as double. RLVR_EARG for a bad kv / i / type. */
int gguf_arr_get_i64(const gguf_file *f, int kv, uint64_t i, int64_t *out, rlvr_err *err);
int gguf_arr_get_f64(const gguf_file *f, int kv, uint64_t i, double *out, rlvr_err *err);

/* String element i of a string array: a pointer into the file, NOT NUL-terminated,
 * length in *len. NULL when kv is not a string array or i is out of range. O(1). */
const char *gguf_arr_get_str(const gguf_file *f, int kv, uint64_t i, size_t *len);

/* Arrays of arrays are validated (element types, counts, nesting depth) but have no
 * element accessor: no model metadata uses them. */

/* ---- tensors, in file order. */
int gguf_n_tensors(const gguf_file *f);
const gguf_tensor *gguf_get_tensor(const gguf_file *f, int i);          /* NULL out of range */
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name); /* NULL absent; O(log n) */
const void *gguf_tensor_data(const gguf_file *f, const gguf_tensor *t); /* into the mapping */

/* Dequantizes t into dst (caller-owned, n floats). n must equal t->numel (RLVR_EARG);
 * a type quant_dequantize does not handle is RLVR_EUNSUPPORTED naming the tensor. */
int gguf_tensor_read_f32(const gguf_file *f, const gguf_tensor *t, float *dst, uint64_t n, rlvr_err *err);

/* ---- the model. */

/* Fills *out from llama.cpp's keys: general.architecture (llama | qwen2 | qwen3, else
 * RLVR_EUNSUPPORTED), {arch}.embedding_length, .block_count, .feed_forward_length,
 * .attention.head_count, .attention.head_count_kv (default: head_count),
 * .attention.layer_norm_rms_epsilon, .rope.freq_base (default 10000), .context_length,
 * .attention.key_length (default embedding_length / head_count), .vocab_size (else the
 * length of tokenizer.ggml.tokens, else token_embd.weight's ne[1]),
 * tokenizer.ggml.bos/eos_token_id (-1 when absent). tie_embeddings = no output.weight;
 * qkv_bias = qwen2; qk_norm = qwen3. RoPE scaling: rope.scaling.type other than "none"
 * and a rope.dimension_count other than key_length are RLVR_EUNSUPPORTED; Llama 3's
 * scaling, which converters store as the tensor rope_freqs.weight, is recovered as
 * ROPE_SCALING_LLAMA3 parameters and checked to reproduce that tensor, else
 * RLVR_EUNSUPPORTED. The result passes hfconfig_validate. *out is zeroed on failure. */
int gguf_model_config(const gguf_file *f, model_config *out, rlvr_err *err);

/* Fills every parameter of m (made from a config like the one above) by dequantizing
 * the llama.cpp tensors onto the Hugging Face names: token_embd -> embed_tokens,
 * blk.N.attn_norm -> input_layernorm, attn_q/k/v/output -> q/k/v/o_proj (+ .bias),
 * attn_q_norm/attn_k_norm -> q_norm/k_norm, ffn_norm -> post_attention_layernorm,
 * ffn_gate/up/down -> gate/up/down_proj, output_norm -> norm, output -> lm_head.
 * For a llama file the rows of attn_q and attn_k (weights and biases) are put back
 * from llama.cpp's interleaved-rope order into HF's rotate_half order (the inverse of
 * convert_hf_to_gguf.py's permute); qwen2/qwen3 files are not permuted.
 * Every model tensor must be present with the matching shape (RLVR_EFORMAT naming
 * it), the file's architecture must be m's, and every tensor in the file must be
 * used (rope_freqs.weight excepted): a leftover one (say an o_proj bias rlvr has no
 * slot for) is RLVR_EUNSUPPORTED rather than silently dropped. */
int gguf_load_params(const gguf_file *f, model *m, rlvr_err *err);

#endif
