/* sampler.h: picking the next token from logits: greedy, or temperature with top-k,
 * top-p (nucleus) and min-p truncation, drawn with an explicit RNG stream. Reports
 * the token's log-prob under the model (raw logits, temperature 1: what the trainer
 * computes) and under the truncated, tempered distribution actually sampled from. */
#ifndef RLVR_SAMPLER_H
#define RLVR_SAMPLER_H
#include "rlvr.h"
#include "core/rng.h"

typedef struct {
    float temperature;  /* 0: greedy (argmax; ties to the lowest id) */
    int top_k;          /* keep the k most likely; 0: off */
    float top_p;        /* keep the smallest set with mass >= top_p; 1: off */
    float min_p;        /* drop tokens with p < min_p * p_max; 0: off */
} sampler_params;

sampler_params sampler_default_params(void); /* temperature 1, all truncation off */

/* Checks ranges (temperature >= 0, 0 < top_p <= 1, 0 <= min_p < 1, top_k >= 0). */
int sampler_check(const sampler_params *p, rlvr_err *err);

typedef struct {
    int token;
    float logp;         /* log softmax(logits)[token] */
    float logp_sample;  /* log-prob under the distribution sampled from */
} sample_out;

/* Samples one token from logits[0..V). scratch must hold 2*V floats (no allocation
 * here); logits are not modified. One rng draw per call whatever the settings, so a
 * sequence's stream advances identically under any truncation. */
sample_out sampler_sample(const sampler_params *p, const float *logits, int V, rng_t *rng, float *scratch);
#endif
