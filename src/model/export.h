/* export.h: writing an opened model (model/load.h) back out, for other tools: a
 * Hugging Face directory that transformers loads (config.json, model.safetensors in
 * F32/BF16/F16, tokenizer files), or a llama.cpp GGUF (F32/F16/BF16). Not a
 * quantizer, and not checkpointing (model/io.h saves training state). */
#ifndef RLVR_MODEL_EXPORT_H
#define RLVR_MODEL_EXPORT_H
#include "rlvr.h"
#include "model/load.h"

/* Writes dir (created if missing): config.json (hfconfig_save), model.safetensors
 * with every parameter as dtype (ST_F32, ST_BF16 or ST_F16; rounded to nearest even)
 * and the tokenizer: for an HF source, tokenizer.json, tokenizer_config.json,
 * generation_config.json, special_tokens_map.json and chat_template.jinja are copied
 * byte for byte when present; for a GGUF source, a tokenizer.json (BPE vocab and
 * merges, the pre-tokenizer matching tokenizer.ggml.pre, ByteLevel decoder, special
 * tokens as added_tokens), a tokenizer_config.json (bos/eos, add_bos_token,
 * chat_template) and a generation_config.json (bos/eos ids) are generated. A byte-
 * vocabulary model gets no tokenizer files (model_open recognises vocab_size 258).
 * Each file is replaced atomically. dir must not be the source directory
 * (RLVR_EARG). RLVR_EARG for another dtype; RLVR_EUNSUPPORTED for a pre-tokenizer
 * with no tokenizer.json form; RLVR_EIO / RLVR_ENOMEM. */
int model_export_hf(const loaded_model *lm, const char *dir, int dtype, rlvr_err *err);

/* Writes path as GGUF v3 (formats/gguf_write.h): matrices as dtype (ST_F32, ST_F16 or
 * ST_BF16), norms and biases F32; tokenizer.ggml.* from the tokenizer (model "gpt2",
 * tokens, token_type, merges, pre, bos/eos, add_bos_token) and tokenizer.chat_template
 * (the source's template text when it has one, else a standard template for the
 * detected kind). An HF tokenizer.json is mapped to llama.cpp's pre-tokenizer name
 * (gpt2, smollm, llama-bpe, qwen2; anything else is RLVR_EUNSUPPORTED). A byte-
 * vocabulary model is written with an equivalent merge-free byte-level BPE (ids
 * 0..255 the bytes, 256 "<|bos|>", 257 "<|eos|>"), so it encodes the same ids. */
int model_export_gguf(const loaded_model *lm, const char *path, int dtype, rlvr_err *err);
#endif
