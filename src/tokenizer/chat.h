/* chat.h: the chat templates rlvr renders without a Jinja engine: ChatML (plain,
 * SmolLM2, Qwen2, Qwen2.5 default-system variants) and Llama-3. A model's Jinja
 * template is recognised by distinctive substrings; anything else must be named
 * explicitly (chat_template=chatml|smollm2|llama3|qwen2|qwen2.5). Tools, images and
 * Llama-3.1's dated system prompt are not supported. Output matches transformers'
 * apply_chat_template byte for byte (tests/data/tokenizer/chat). */
#ifndef RLVR_TOKENIZER_CHAT_H
#define RLVR_TOKENIZER_CHAT_H
#include <stddef.h>
#include "rlvr.h"

enum {
    CHAT_CHATML = 1,   /* <|im_start|>role\ncontent<|im_end|>\n, no default system */
    CHAT_SMOLLM2,      /* ChatML; "You are a helpful AI assistant named SmolLM, trained by
                          Hugging Face" when the first message is not a system one */
    CHAT_QWEN2,        /* ChatML; default system "You are a helpful assistant." */
    CHAT_QWEN25,       /* ChatML; default "You are Qwen, created by Alibaba Cloud. You are a
                          helpful assistant.", also with no messages */
    CHAT_LLAMA3        /* <|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\n
                          content.strip()<|eot_id|> */
};

typedef struct chat_msg {
    const char *role;     /* "system", "user", "assistant" (any text is copied as is) */
    const char *content;  /* NUL-terminated UTF-8 */
} chat_msg;

/* Recognises a Jinja chat template (tokenizer_config.json's chat_template or GGUF's
 * tokenizer.chat_template). Unknown -> RLVR_EUNSUPPORTED telling the caller to pass
 * chat_template=chatml|smollm2|llama3|qwen2. */
int chat_template_detect(const char *jinja, int *kind, rlvr_err *err);

/* "chatml", "smollm2", "qwen2", "qwen2.5", "llama3" -> kind; else RLVR_ECONFIG. */
int chat_template_by_name(const char *name, int *kind, rlvr_err *err);
/* The name of a kind, NULL if unknown. */
const char *chat_template_name(int kind);
/* The text that ends an assistant turn ("<|im_end|>", "<|eot_id|>"), NULL if unknown. */
const char *chat_end_of_turn(int kind);

/* Renders msgs[0..n) to out (NUL-terminated); add_generation_prompt appends the
 * assistant header. *n_out (may be NULL) is the byte count without the NUL; when cap
 * is too small returns RLVR_EARG and *n_out says how many bytes are needed. */
int chat_render(int kind, const chat_msg *msgs, int n, int add_generation_prompt,
                char *out, size_t cap, size_t *n_out, rlvr_err *err);
#endif
