/* bpe.h: byte-level BPE tokenizers (GPT-2, Llama-3, Qwen2, SmolLM2 families) loaded
 * from a Hugging Face tokenizer.json or built from GGUF arrays. Encode, decode, and a
 * streaming decoder that holds back incomplete UTF-8. Not a general HF tokenizer:
 * no SentencePiece/Unigram/WordPiece, no Metaspace, normalizer null or NFC only.
 *
 * Pipeline of bpe_encode, as in HF `tokenizers`:
 *   1. added tokens (added_tokens[]) are cut out of the raw text as literal strings,
 *      leftmost match first, longest first at one position; special ones only when
 *      parse_special is set (non-special added tokens are always matched);
 *   2. each piece between them is normalized (NFC when the file says so);
 *   3. the pre-tokenizer steps (Split regex / Digits / ByteLevel, as a Sequence) cut
 *      it into pre-tokens; ByteLevel's add_prefix_space prepends ' ' to each piece;
 *   4. each pre-token's bytes are mapped to GPT-2's printable characters and merged,
 *      lowest merge rank first (leftmost on ties); with ignore_merges a pre-token that
 *      is itself in the vocabulary becomes one token.
 * A bpe is immutable after loading: encode/decode may run on it from many threads.
 */
#ifndef RLVR_TOKENIZER_BPE_H
#define RLVR_TOKENIZER_BPE_H
#include <stddef.h>
#include "rlvr.h"

typedef struct bpe bpe;

/* Loads a tokenizer.json (at most 256 MiB). On failure *out is NULL and err names
 * the file and the JSON key or index at fault. Free with bpe_free. */
int bpe_load_json(const char *path, bpe **out, rlvr_err *err);

/* Builds a tokenizer from GGUF-style arrays (tokenizer.ggml.tokens / token_type /
 * merges). tokens[i] is the byte-level string of id i; token_types may be NULL, else
 * type 3 (control) makes an added special token and 4 (user defined) an added
 * non-special one. merges are "left right" strings, rank = index. pre names the
 * pre-tokenizer as llama.cpp does: "gpt2", "llama-bpe" (alias "llama3"), "qwen2"
 * (adds NFC, like Qwen2's tokenizer.json), "smollm". Copies everything it keeps. */
int bpe_from_parts(const char *const *tokens, const int *token_types, int n_tokens,
                   const char *const *merges, int n_merges, const char *pre,
                   bpe **out, rlvr_err *err);

/* Accepts NULL. */
void bpe_free(bpe *b);

/* Encodes text[0..n) (valid UTF-8, else RLVR_EARG naming the byte offset). Writes
 * at most cap ids; *n_ids is always the number the text needs. When cap is too small
 * returns RLVR_EARG (ids holds the first cap). An empty text gives no ids. Adds no
 * BOS/EOS: callers (chat templates) put them in the text. */
int bpe_encode(const bpe *b, const char *text, size_t n, int parse_special,
               int *ids, int cap, int *n_ids, rlvr_err *err);

/* Writes the bytes of ids[0..n) to out and a NUL after them; *n_out (may be NULL) is
 * the byte count without the NUL. Returns RLVR_EARG when an id is out of range or
 * unused (nothing useful in out), or when cap < bytes + 1 (*n_out says how many
 * bytes are needed). Added tokens decode to their text; the output may end in
 * incomplete UTF-8 when the ids do. */
int bpe_decode(const bpe *b, const int *ids, int n, char *out, size_t cap, size_t *n_out);

/* The bytes one id decodes to (not NUL-terminated) and their count in *len; NULL for
 * an unused or out-of-range id. */
const char *bpe_token_bytes(const bpe *b, int id, size_t *len);

/* Streaming decoder: push ids one at a time, get the text that is complete so far.
 * A UTF-8 sequence split across tokens is held back (at most 3 bytes) until it
 * completes; invalid bytes pass through. Fields are private; the struct is public
 * so it can live on the stack. */
typedef struct bpe_stream {
    const bpe *b;
    unsigned char pend[4];
    int n_pend;
} bpe_stream;

void bpe_stream_init(bpe_stream *s, const bpe *b);
/* Decodes id and writes the newly complete bytes (NUL-terminated) to out. Returns
 * RLVR_EARG for a bad id or when cap < bytes + 1 (*n_out then says how many bytes are
 * needed; the state is unchanged, so retry with a larger buffer). */
int bpe_stream_push(bpe_stream *s, int id, char *out, size_t cap, size_t *n_out);
/* Writes whatever is held back (an incomplete sequence at end of stream). */
int bpe_stream_flush(bpe_stream *s, char *out, size_t cap, size_t *n_out);

/* Vocabulary: ids run 0..bpe_vocab_size()-1 (some may be unused). token_str is the
 * byte-level string ("Ġhello") or the added token's text; NULL for an unused id. */
int bpe_vocab_size(const bpe *b);
const char *bpe_token_str(const bpe *b, int id);
/* The id of a token string (byte-level form, or an added token's text); -1 if none. */
int bpe_token_id(const bpe *b, const char *s);
/* 1 when id is an added token marked special (control), else 0. */
int bpe_token_is_special(const bpe *b, int id);
/* 1 when id is an added token (added_tokens[] of tokenizer.json, GGUF types 3 and 4),
 * special or not, else 0. */
int bpe_token_is_added(const bpe *b, int id);

/* The Split regex (PCRE2 syntax, exactly as tokenizer.json spells it) behind a
 * llama.cpp pre-tokenizer name: "gpt2" and "smollm" -> GPT-2's, "llama-bpe" (alias
 * "llama3") -> Llama-3's, "qwen2" -> Qwen2's; NULL for any other name. */
const char *bpe_pre_regex(const char *pre);

/* Merges in rank order: *left / *right are token ids. RLVR_EARG if rank is out of range. */
int bpe_n_merges(const bpe *b);
int bpe_merge(const bpe *b, int rank, int *left, int *right);

/* BOS / EOS ids, -1 when unknown. tokenizer.json does not say which tokens they are
 * (tokenizer_config.json does): the loader guesses from well-known token texts
 * ("<|begin_of_text|>", "<|endoftext|>", "<|im_end|>", ...); callers that know better
 * (a GGUF's bos_token_id) set them. set returns RLVR_EARG for an id out of range. */
int bpe_bos_id(const bpe *b);
int bpe_eos_id(const bpe *b);
int bpe_set_bos_eos(bpe *b, int bos, int eos);

#endif
