/* chat.c: rendering ChatML and Llama-3 conversations, and recognising their Jinja
 * templates. Each renderer is the template's logic written out; the comments quote
 * the Jinja it follows. */
#include <string.h>
#include "core/err.h"
#include "tokenizer/chat.h"

static const struct { const char *name; int kind; } NAMES[] = {
    {"chatml", CHAT_CHATML}, {"smollm2", CHAT_SMOLLM2}, {"qwen2", CHAT_QWEN2},
    {"qwen2.5", CHAT_QWEN25}, {"qwen25", CHAT_QWEN25}, {"llama3", CHAT_LLAMA3},
};

static const char SYS_SMOLLM2[] = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";
static const char SYS_QWEN2[] = "You are a helpful assistant.";
static const char SYS_QWEN25[] = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

int chat_template_detect(const char *jinja, int *kind, rlvr_err *err) {
    *kind = 0;
    if (!jinja) return errf(err, RLVR_EARG, "no chat template given; pass chat_template=chatml|smollm2|llama3|qwen2");
    if (strstr(jinja, "<|start_header_id|>")) {
        if (strstr(jinja, "Cutting Knowledge Date") || strstr(jinja, "tools_in_user_message"))
            return errf(err, RLVR_EUNSUPPORTED, "Llama-3.1+ chat template (dated system prompt, tools) is not supported; "
                        "pass chat_template=llama3 to use the plain Llama-3 format");
        *kind = CHAT_LLAMA3;
        return RLVR_OK;
    }
    if (strstr(jinja, "<|im_start|>")) {
        if (strstr(jinja, "named SmolLM")) *kind = CHAT_SMOLLM2;
        else if (strstr(jinja, SYS_QWEN25)) *kind = CHAT_QWEN25;
        else if (strstr(jinja, SYS_QWEN2)) *kind = CHAT_QWEN2;
        else if (!strstr(jinja, "You are")) *kind = CHAT_CHATML;
        if (*kind) return RLVR_OK;
    }
    return errf(err, RLVR_EUNSUPPORTED, "unrecognised chat template (%.60s...); pass chat_template=chatml|smollm2|llama3|qwen2",
                jinja);
}

int chat_template_by_name(const char *name, int *kind, rlvr_err *err) {
    *kind = 0;
    for (size_t i = 0; name && i < sizeof NAMES / sizeof *NAMES; i++)
        if (!strcmp(name, NAMES[i].name)) { *kind = NAMES[i].kind; return RLVR_OK; }
    return errf(err, RLVR_ECONFIG, "chat_template \"%.40s\" unknown (chatml, smollm2, qwen2, qwen2.5, llama3)",
                name ? name : "(null)");
}

const char *chat_template_name(int kind) {
    for (size_t i = 0; i < sizeof NAMES / sizeof *NAMES; i++)
        if (NAMES[i].kind == kind) return NAMES[i].name;
    return NULL;
}

const char *chat_end_of_turn(int kind) {
    if (kind == CHAT_LLAMA3) return "<|eot_id|>";
    if (kind >= CHAT_CHATML && kind <= CHAT_QWEN25) return "<|im_end|>";
    return NULL;
}

/* A bounded writer: counts every byte, stores those that fit. */
typedef struct { char *out; size_t cap, n; } wr;

static void put(wr *w, const char *s, size_t n) {
    if (w->n < w->cap) {
        size_t k = w->cap - w->n < n ? w->cap - w->n : n;
        memcpy(w->out + w->n, s, k);
    }
    w->n += n;
}
static void puts0(wr *w, const char *s) { put(w, s, strlen(s)); }

/* Python str.isspace() for the code point starting at s (length in *len), else 0. */
static int py_space(const unsigned char *s, size_t n, size_t *len) {
    unsigned c = s[0];
    *len = 1;
    if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) return 1;
    if (c == 0xC2 && n >= 2 && (s[1] == 0x85 || s[1] == 0xA0)) { *len = 2; return 1; }
    if (c == 0xE1 && n >= 3 && s[1] == 0x9A && s[2] == 0x80) { *len = 3; return 1; }      /* U+1680 */
    if (c == 0xE2 && n >= 3 && s[1] == 0x80 &&
        (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF)) { *len = 3; return 1; }
    if (c == 0xE2 && n >= 3 && s[1] == 0x81 && s[2] == 0x9F) { *len = 3; return 1; }      /* U+205F */
    if (c == 0xE3 && n >= 3 && s[1] == 0x80 && s[2] == 0x80) { *len = 3; return 1; }      /* U+3000 */
    return 0;
}

/* Jinja's |trim (Python str.strip()). */
static void put_trimmed(wr *w, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), a = 0, z = n, len;
    while (a < z && py_space(p + a, z - a, &len)) a += len;
    while (z > a) {                /* find the start of the last code point */
        size_t st = z - 1;
        while (st > a && (p[st] & 0xC0) == 0x80 && z - st < 4) st--;
        if (!py_space(p + st, z - st, &len) || st + len != z) break;
        z = st;
    }
    put(w, s + a, z - a);
}

int chat_render(int kind, const chat_msg *msgs, int n, int add_generation_prompt,
                char *out, size_t cap, size_t *n_out, rlvr_err *err) {
    if (n_out) *n_out = 0;
    if (n < 0 || (n && !msgs) || (cap && !out)) return errf(err, RLVR_EARG, "chat_render: bad arguments");
    for (int i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content) return errf(err, RLVR_EARG, "chat_render: message %d has no role or content", i);
    wr w = {out, cap, 0};
    switch (kind) {
    case CHAT_CHATML: case CHAT_SMOLLM2: case CHAT_QWEN2: case CHAT_QWEN25: {
        const char *sys = kind == CHAT_SMOLLM2 ? SYS_SMOLLM2 : kind == CHAT_QWEN2 ? SYS_QWEN2
                        : kind == CHAT_QWEN25 ? SYS_QWEN25 : NULL;
        int first_is_system = n > 0 && !strcmp(msgs[0].role, "system");
        /* SmolLM2/Qwen2: {% if loop.first and messages[0]['role'] != 'system' %} inside the
         * loop (nothing for no messages); Qwen2.5 emits its system block before the loop. */
        if (sys && !first_is_system && (n > 0 || kind == CHAT_QWEN25)) {
            puts0(&w, "<|im_start|>system\n"); puts0(&w, sys); puts0(&w, "<|im_end|>\n");
        }
        for (int i = 0; i < n; i++) {
            puts0(&w, "<|im_start|>"); puts0(&w, msgs[i].role); puts0(&w, "\n");
            puts0(&w, msgs[i].content); puts0(&w, "<|im_end|>\n");
        }
        if (add_generation_prompt) puts0(&w, "<|im_start|>assistant\n");
        break;
    }
    case CHAT_LLAMA3:
        /* '<|start_header_id|>' + role + '<|end_header_id|>\n\n' + content|trim + '<|eot_id|>',
         * bos_token before the first */
        for (int i = 0; i < n; i++) {
            if (i == 0) puts0(&w, "<|begin_of_text|>");
            puts0(&w, "<|start_header_id|>"); puts0(&w, msgs[i].role); puts0(&w, "<|end_header_id|>\n\n");
            put_trimmed(&w, msgs[i].content); puts0(&w, "<|eot_id|>");
        }
        if (add_generation_prompt) puts0(&w, "<|start_header_id|>assistant<|end_header_id|>\n\n");
        break;
    default:
        return errf(err, RLVR_EARG, "chat_render: unknown template kind %d", kind);
    }
    if (n_out) *n_out = w.n;
    if (w.n + 1 > cap) return errf(err, RLVR_EARG, "chat_render: %zu bytes do not fit in %zu", w.n + 1, cap);
    out[w.n] = 0;
    return RLVR_OK;
}
