/* load.h: one way to open any model rlvr runs, with what it takes to talk to it: the
 * weights (model.h), the tokenizer (a BPE, or rlvr's byte vocabulary), the chat
 * template and the special tokens. Accepts a Hugging Face directory (config.json +
 * model.safetensors [+ tokenizer.json, tokenizer_config.json]) or a llama.cpp .gguf
 * file. Not a generic loader: sharded checkpoints and SentencePiece tokenizers are
 * refused with RLVR_EUNSUPPORTED (docs/models.md lists what loads). */
#ifndef RLVR_MODEL_LOAD_H
#define RLVR_MODEL_LOAD_H
#include <stddef.h>
#include "rlvr.h"
#include "model/model.h"
#include "tokenizer/bpe.h"

enum { LOADED_HF_DIR = 1, LOADED_GGUF = 2 };
enum { LOADED_MAX_STOP = 4 };

typedef struct loaded_model {
    model *m;              /* owned */
    bpe *tok;              /* owned; NULL when byte_vocab */
    int byte_vocab;        /* 1: rlvr's byte vocabulary (tokenizer/bytes.h) */
    int format;            /* LOADED_HF_DIR | LOADED_GGUF */
    int chat_kind;         /* CHAT_* (tokenizer/chat.h); 0 when unknown */
    int has_chat;          /* 1 when chat_kind is set */
    int add_bos;           /* 1: a plain encode starts with bos_id (as HF's default encode) */
    int bos_id, eos_id;    /* -1 when none */
    int eot_id;            /* the chat end-of-turn token, -1 when none */
    int stop_ids[LOADED_MAX_STOP];   /* eos, eot, config eos ...: distinct, n_stop of them */
    int n_stop;
    int gen_eos[LOADED_MAX_STOP];    /* eos ids from generation_config.json (HF dirs) */
    int n_gen_eos;
    char source[1024];     /* the path as given */
    char name[128];        /* GGUF general.name, else "" */
    char chat_source[64];  /* where chat_kind came from: "tokenizer.chat_template", ... */
    char chat_note[160];   /* why chat_kind is unset, when it is */
    char tok_kind[64];     /* "gguf gpt2", "tokenizer.json", "bytes" */
    char pre[48];          /* pre-tokenizer name (GGUF tokenizer.ggml.pre, or JSON type) */
    char dtypes[256];      /* tensor types of the source file: "Q4_1 x210, F32 x61" */
    int n_src_tensors;
} loaded_model;

/* Opens path: a directory (config.json + model.safetensors) or a .gguf file, and
 * fills *out (zeroed first; free with loaded_model_free even on failure). The
 * tokenizer of a directory is tokenizer.json (special tokens and chat template from
 * tokenizer_config.json or chat_template.jinja), or the byte vocabulary when there is
 * no tokenizer.json and vocab_size == 258, else an RLVR_EIO error saying tokenizer.json
 * is missing. A GGUF's is tokenizer.ggml.* (model "gpt2" only: anything else is
 * RLVR_EUNSUPPORTED naming tokenizer.ggml.model). chat_override (NULL: detect) names
 * the template (chatml|smollm2|qwen2|qwen2.5|llama3) and wins over the file's. An
 * unrecognised template leaves chat_kind 0 (chat_note says why); it is not an error
 * until chat mode is asked for. */
int model_open(const char *path, const char *chat_override, loaded_model *out, rlvr_err *err);
void loaded_model_free(loaded_model *lm);   /* NULL-safe; frees what it owns, zeroes it */

/* Encodes a prompt into ids[0..cap), *n the count needed (RLVR_EARG when cap is too
 * small). chat: renders system (may be NULL: the template's default) + one user
 * message with the generation prompt and encodes it with special tokens parsed (no
 * extra BOS: templates carry their own); RLVR_ECONFIG saying how to pick a template
 * when chat_kind is unset. plain: BOS when add_bos, then the text, special tokens NOT
 * parsed (as HF's tokenizer(text)). Byte-vocabulary models: BOS + bytes; chat is
 * RLVR_EUNSUPPORTED for them. */
int loaded_encode_prompt(const loaded_model *lm, const char *text, int chat, const char *system,
                         int *ids, int cap, int *n, rlvr_err *err);

/* 1 when id ends generation: eos, the chat end-of-turn token, the config's eos. */
int loaded_is_stop(const loaded_model *lm, int id);

/* The bytes of one token (a byte of a byte-level model, or a BPE token's bytes), in the
 * shape of engine_params.token_text (ud: the loaded_model); "" for an id out of range.
 * A byte model's byte lives in thread-local storage until the next call. */
const char *loaded_token_text(void *ud, int id, size_t *len);

/* Decodes ids[0..n) to text (NUL-terminated, at most cap bytes with the NUL);
 * returns the byte count, or -1 when an id is bad or cap too small. For `generate`. */
long loaded_decode(const loaded_model *lm, const int *ids, int n, char *out, size_t cap);

/* A multi-line human description for `rlvr inspect` (architecture, sizes, tensor
 * types, rope, tokenizer, chat template, special tokens). Returns the length it
 * needs (like snprintf); output is truncated to cap. */
int model_describe(const loaded_model *lm, char *buf, size_t cap);
#endif
