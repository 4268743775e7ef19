/* config.h: the hyperparameters of a decoder-only Llama-family model (Llama 2/3,
 * Qwen2/2.5, Qwen3, SmolLM2, Mistral without sliding window). Field names follow the
 * math; the Hugging Face config.json key each one maps to is in the comment. */
#ifndef RLVR_MODEL_CONFIG_H
#define RLVR_MODEL_CONFIG_H

enum { ROPE_SCALING_NONE = 0, ROPE_SCALING_LLAMA3 = 1 };

typedef struct model_config {
    char arch[32];        /* "llama" | "qwen2" | "qwen3"  (model_type)              */
    int vocab_size;       /* V   vocab_size                                          */
    int dim;              /* C   hidden_size                                         */
    int hidden_dim;       /* F   intermediate_size (SwiGLU inner width)             */
    int n_layers;         /* L   num_hidden_layers                                   */
    int n_heads;          /* H   num_attention_heads                                 */
    int n_kv_heads;       /* KV  num_key_value_heads (<= H, divides H)               */
    int head_dim;         /* D   head_dim (default C / H)                            */
    int max_seq_len;      /*     max_position_embeddings                             */
    float norm_eps;       /*     rms_norm_eps                                        */
    float rope_theta;     /*     rope_theta                                          */
    int rope_scaling;     /*     rope_scaling.rope_type: none | "llama3"            */
    float rope_factor;            /* rope_scaling.factor                            */
    float rope_low_freq_factor;   /* rope_scaling.low_freq_factor                   */
    float rope_high_freq_factor;  /* rope_scaling.high_freq_factor                  */
    int rope_orig_max_pos;        /* rope_scaling.original_max_position_embeddings  */
    int tie_embeddings;   /*     tie_word_embeddings                                 */
    int qkv_bias;         /*     attention_bias (Qwen2 has q/k/v biases)             */
    int qk_norm;          /*     per-head RMSNorm on q and k (Qwen3)                 */
    int bos_id, eos_id;   /*     bos_token_id, eos_token_id (-1 when absent)         */
} model_config;

#endif
