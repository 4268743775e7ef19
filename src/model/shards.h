/* shards.h: parameters from a Hugging Face directory in either layout: one
 * model.safetensors, or shards listed by model.safetensors.index.json; and the
 * eos ids of generation_config.json. Only the weights: config.json and the
 * tokenizer are read elsewhere (model/io.h, model/load.h). */
#ifndef RLVR_MODEL_SHARDS_H
#define RLVR_MODEL_SHARDS_H
#include "rlvr.h"
#include "model/model.h"

/* Fills every parameter of m (made from dir/config.json) from dir/model.safetensors
 * when it exists, else from the shards named by dir/model.safetensors.index.json
 * (F32/F16/BF16/F64 converted to fp32). The index must be a JSON object whose
 * "weight_map" object maps tensor names to shard file names; each shard name must be
 * a plain file name inside dir (no '/', '\\', no "." or "..", not empty), each model
 * tensor must be mapped exactly once (lm_head.weight is ignored for a tied model;
 * names the model has no slot for are ignored, as with one file), and the shard must
 * hold the tensor with the model's shape. Errors name the file and tensor or key:
 * RLVR_EIO (no weights file, a shard that cannot be opened), RLVR_EFORMAT (a bad
 * index or shard). */
int model_load_params_dir(model *m, const char *dir, rlvr_err *err);

/* Reads eos_token_id (an integer or a list of integers) from
 * dir/generation_config.json. ids gets the first min(max, count) of them and *n the
 * count in the file (0 when the file or key is absent or null, which is not an
 * error). RLVR_EFORMAT when the file is not a JSON object or an id is not an integer
 * in [0, 2^31); RLVR_EIO when it exists but cannot be read. */
int hf_generation_eos(const char *dir, int *ids, int max, int *n, rlvr_err *err);
#endif
