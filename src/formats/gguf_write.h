/* gguf_write.h: write llama.cpp GGUF v3 files: a small builder (metadata keys and
 * fp32 tensors stored as F32, F16 or BF16), and a whole rlvr model under llama.cpp's
 * names and keys, so that gguf.h (and llama.cpp) read it back. No quantization.
 *
 * Layout written: "GGUF", version 3, n_tensors, n_kv, the keys in the order added,
 * the tensor infos in the order added, zero padding to general.alignment (32), then
 * each tensor's data at a multiple of 32 from the data section's start.
 */
#ifndef RLVR_FORMATS_GGUF_WRITE_H
#define RLVR_FORMATS_GGUF_WRITE_H
#include <stdint.h>
#include "rlvr.h"
#include "model/model.h"

/* ---- the builder. Keys and tensor names are copied; tensor data are not (they must
 * stay valid until gguf_writer_write) unless added with own = 1, when the writer
 * frees them. An add that fails (bad argument, out of memory) leaves the writer
 * failed: later adds do nothing and write returns the first error. */
typedef struct gguf_writer gguf_writer;

gguf_writer *gguf_writer_new(void);                   /* NULL when out of memory */
void gguf_writer_free(gguf_writer *w);                /* NULL-safe */

int gguf_writer_add_str(gguf_writer *w, const char *key, const char *val, rlvr_err *err);
int gguf_writer_add_u32(gguf_writer *w, const char *key, uint32_t val, rlvr_err *err);
int gguf_writer_add_f32(gguf_writer *w, const char *key, float val, rlvr_err *err);
int gguf_writer_add_bool(gguf_writer *w, const char *key, int val, rlvr_err *err);
/* Arrays of n strings (each NUL-terminated) or n int32 values. Copied. */
int gguf_writer_add_arr_str(gguf_writer *w, const char *key, const char *const *vals, uint64_t n, rlvr_err *err);
int gguf_writer_add_arr_i32(gguf_writer *w, const char *key, const int32_t *vals, uint64_t n, rlvr_err *err);

/* A tensor of ne[0..n_dims) (ne[0] the row length) holding fp32 data, stored as
 * type GGML_TYPE_F32, _F16 or _BF16 (converted at write time, round to nearest even).
 * Duplicate names are RLVR_EARG. */
int gguf_writer_add_tensor(gguf_writer *w, const char *name, int type, int n_dims, const int64_t *ne,
                           const float *data, int own, rlvr_err *err);

/* Writes the file atomically (fs_atomic_*: a temp file renamed over path). Keys are
 * written in the order added; general.alignment is added (32) when absent. The writer
 * stays usable (write again, or free). */
int gguf_writer_write(gguf_writer *w, const char *path, rlvr_err *err);

/* ---- a model. */

/* The tokenizer keys (tokenizer.ggml.*). tokens/token_types have n_tokens entries
 * (types as llama.cpp: 1 normal, 3 control, 4 user defined, 5 unused); merges are
 * "left right" strings in rank order. Strings NULL to leave a key out. */
typedef struct gguf_tok_meta {
    const char *const *tokens;
    const int32_t *token_types;
    int n_tokens;
    const char *const *merges;
    int n_merges;
    const char *pre;             /* tokenizer.ggml.pre: "smollm", "gpt2", "llama-bpe", "qwen2" */
    int bos_id, eos_id;          /* -1: key left out */
    int add_bos;                 /* tokenizer.ggml.add_bos_token */
    const char *chat_template;   /* tokenizer.chat_template, or NULL */
} gguf_tok_meta;

/* Writes m as a GGUF v3 file at path: general.architecture (m->cfg.arch: llama,
 * qwen2 or qwen3), general.name (name, or "rlvr model" when NULL), general.file_type,
 * general.alignment 32, the {arch}.* hyperparameters gguf_model_config reads
 * (key_length/value_length only when head_dim != dim / n_heads), Llama 3 rope scaling
 * as the tensor rope_freqs.weight, and every parameter under its llama.cpp name:
 * matrices as type (GGML_TYPE_F32, _F16 or _BF16), 1-D tensors (norms, biases) always
 * F32, no output.weight when the embeddings are tied, and for llama the rows of
 * attn_q / attn_k permuted into llama.cpp's interleaved rope order (the inverse of
 * what gguf_load_params undoes). tok may be NULL (no tokenizer keys; bos/eos ids are
 * then taken from the config). RLVR_EARG for a bad type, RLVR_EUNSUPPORTED for an
 * arch other than the three, RLVR_EIO / RLVR_ENOMEM. */
int gguf_write_model(const char *path, const model *m, const char *name, const gguf_tok_meta *tok, int type,
                     rlvr_err *err);
#endif
