/* hfconfig.h: Hugging Face config.json <-> model_config, for the architectures rlvr
 * runs (llama, mistral without sliding window, qwen2, qwen3). Missing optional keys take
 * the defaults of the installed transformers' config classes (listed in docs/formats.md),
 * so a config means the same model here as in transformers; anything rlvr cannot run
 * exactly is refused with RLVR_EUNSUPPORTED rather than approximated.
 */
#ifndef RLVR_FORMATS_HFCONFIG_H
#define RLVR_FORMATS_HFCONFIG_H
#include <stddef.h>
#include "rlvr.h"
#include "model/config.h"

/* Sanity caps, so that a hostile config cannot make a caller allocate terabytes.
 * Each is far above any model rlvr can train on one machine. */
#define HFCONFIG_MAX_VOCAB    (1 << 24)       /* vocab_size < 2^24 */
#define HFCONFIG_MAX_DIM      (1 << 20)       /* hidden, intermediate, head_dim, H*D < 2^20 */
#define HFCONFIG_MAX_HEADS    (1 << 12)
#define HFCONFIG_MAX_LAYERS   1024
#define HFCONFIG_MAX_POS      (1 << 24)       /* max_position_embeddings */
#define HFCONFIG_MAX_PARAMS   (1ull << 37)    /* ~137e9 parameters in all */

/* Parses json_text[0..n) (need not be NUL-terminated) into *out. name_for_errors
 * (e.g. the path; NULL reads as "config.json") starts every message, which then names
 * the key at fault: "x/config.json: key 'num_key_value_heads' (7) must divide
 * num_attention_heads (9)". Returns RLVR_OK, RLVR_EFORMAT (not UTF-8 / not JSON / not
 * an object / duplicate keys), RLVR_ECONFIG (missing key, wrong type, value out of
 * range), RLVR_EUNSUPPORTED (model_type, hidden_act, rope type, sliding window, biases
 * rlvr does not implement) or RLVR_ENOMEM. *out is fully written on success and zeroed
 * on failure. Unknown keys are ignored. */
int hfconfig_parse(const char *json_text, size_t n, const char *name_for_errors,
                   model_config *out, rlvr_err *err);

/* Reads path (at most 16 MiB) and parses it as above; messages start with path.
 * RLVR_EIO when the file cannot be read. */
int hfconfig_load(const char *path, model_config *out, rlvr_err *err);

/* Checks a model_config the way hfconfig_parse checks a file (caps, divisibility,
 * known arch, head_dim even, eos/bos in range). name is used in messages (NULL:
 * "model_config"). RLVR_ECONFIG or RLVR_EUNSUPPORTED on failure. */
int hfconfig_validate(const model_config *c, const char *name, rlvr_err *err);

/* A pretty-printed config.json for c that transformers' AutoConfig reads back to the
 * same values (legacy "rope_theta"/"rope_scaling" keys, which every transformers
 * version reads). Caller frees with free(). NULL when c fails hfconfig_validate or
 * memory runs out. */
char *hfconfig_to_json(const model_config *c);

/* Validates c, then writes hfconfig_to_json(c) to path atomically (temp file + fsync +
 * rename). RLVR_ECONFIG / RLVR_EUNSUPPORTED for a bad c, RLVR_EIO, RLVR_ENOMEM. */
int hfconfig_save(const char *path, const model_config *c, rlvr_err *err);

#endif
