/* bytes.h: the byte-level vocabulary of models rlvr trains from scratch: ids 0..255
 * are the bytes themselves, then BOS and EOS. (Pretrained models bring their own BPE
 * tokenizer; see tokenizer/ for that, later.) */
#ifndef RLVR_TOKENIZER_BYTES_H
#define RLVR_TOKENIZER_BYTES_H
#include <stddef.h>

enum { BYTES_BOS = 256, BYTES_EOS = 257, BYTES_VOCAB = 258 };

/* Writes the ids of text[0..n) to ids; returns n (ids must hold n). */
int bytes_encode(const char *text, size_t n, int *ids);

/* Writes the bytes of ids[0..n) to out (cap bytes, NUL-terminated), skipping BOS
 * and stopping at EOS or an id outside the vocabulary; returns the bytes written. */
size_t bytes_decode(const int *ids, size_t n, char *out, size_t cap);
#endif
