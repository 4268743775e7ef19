/* io.h: moving a model's parameters in and out of Hugging Face form: a directory
 * with config.json and model.safetensors, tensors under their HF names. GGUF and
 * sharded checkpoints are in formats/ (later); this file only maps names to views. */
#ifndef RLVR_MODEL_IO_H
#define RLVR_MODEL_IO_H
#include "rlvr.h"
#include "model/model.h"
#include "formats/safetensors.h"

/* Copies every parameter of m from f (F32/F16/BF16 converted to fp32). Each model
 * tensor must be present with exactly the model's shape; a missing or mis-shaped one
 * is an error naming it. For a tied model a "lm_head.weight" in the file is ignored. */
int model_load_params(model *m, const st_file *f, rlvr_err *err);

/* Opens dir/config.json and dir/model.safetensors (or the shards listed in
 * model.safetensors.index.json) and returns a new model in *out. */
int model_load_hf(const char *dir, model **out, rlvr_err *err);

/* Writes dir/config.json and dir/model.safetensors (F32), creating dir; each file is
 * replaced atomically. meta_kv as for st_write (NULL or "k","v",...,NULL). */
int model_save_hf(const model *m, const char *dir, const char *const *meta_kv, rlvr_err *err);
#endif
