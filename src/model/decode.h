/* decode.h: inference with a key/value cache, on the SAME weights and kernels as the
 * trainer (no copy, no conversion), so a sampler's log-probs equal the trainer's up
 * to fp32 rounding. A decoder owns n_slots cache slots of max_len positions; each
 * step feeds any number of new tokens to any set of slots (a whole prompt to prefill,
 * one token to decode) and returns the logits of each slot's last new token. */
#ifndef RLVR_MODEL_DECODE_H
#define RLVR_MODEL_DECODE_H
#include "rlvr.h"
#include "model/model.h"

typedef struct decoder decoder;

/* A decoder over m's weights (m must outlive it) with n_slots slots of max_len
 * positions (<= the model's max_seq_len), for steps of at most max_tokens new
 * tokens in total. Memory: 2 * layers * n_slots * max_len * kv_dim floats of cache
 * plus activations for max_tokens. Returns NULL and fills err on failure. */
decoder *decoder_new(const model *m, int n_slots, int max_len, int max_tokens, rlvr_err *err);
void decoder_free(decoder *d);                    /* NULL-safe */

/* Empties a slot (its length becomes 0). */
void decoder_reset(decoder *d, int slot);

/* Number of positions filled in a slot. */
int decoder_len(const decoder *d, int slot);

/* Copies the first len positions of src's cache into dst and sets dst's length to
 * len: a group of samples shares one prefilled prompt this way. */
int decoder_copy_prefix(decoder *d, int dst, int src, int len, rlvr_err *err);

/* How the OpenMP threads share a step (the results are the same bits either way):
 * TEAM: every op is split across the threads, with a barrier after each (about 10
 * per layer); the weights are read once per step. ROWS: when every slot brings one
 * token and each thread gets at least 32 of them, each thread runs its share of the
 * rows through the whole model alone, with no barrier; the weights are read once
 * per thread (the second time mostly from L3). AUTO: ROWS where it applies. */
enum { DECODER_SPLIT_AUTO = 0, DECODER_SPLIT_TEAM = 1, DECODER_SPLIT_ROWS = 2 };
void decoder_set_split(decoder *d, int split);

/* Where decoder_step's time went since decoder_new: wall seconds by phase (the
 * calling thread's clock between the step's barriers). */
typedef struct {
    long steps;
    double total;     /* whole steps (the sum of the phases, plus bookkeeping) */
    double norm;      /* residual adds, rmsnorms, swiglu, packing the rows of each product */
    double gemm;      /* the 7 matrix products of every layer */
    double post;      /* biases, qk-norm, rope, appending keys and values to the cache */
    double attention; /* attention over the cache */
    double head;      /* the output head's matrix product (its rmsnorm is in norm) */
} decoder_prof;
void decoder_profile(const decoder *d, decoder_prof *p);

/* Feeds n_new[b] tokens (packed in `tokens`, slot order) to slot slots[b] for b < B,
 * appending them to each slot's cache, and writes the logits after each slot's last
 * new token to logits[b*V .. (b+1)*V). Slots must be distinct. */
int decoder_step(decoder *d, int B, const int *slots, const int *n_new, const int *tokens, float *logits, rlvr_err *err);
#endif
