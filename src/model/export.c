/* export.c: an opened model to a Hugging Face directory or a GGUF file. The weights
 * go through safetensors.c / gguf_write.c; this file decides which tokenizer files
 * to copy or generate, and recovers what the loaded model no longer holds (the chat
 * template text, the pre-tokenizer's llama.cpp name) from the source files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "core/err.h"
#include "core/fs.h"
#include "formats/dtype.h"
#include "formats/gguf.h"
#include "formats/gguf_write.h"
#include "formats/hfconfig.h"
#include "formats/safetensors.h"
#include "model/export.h"
#include "tokenizer/bpe.h"
#include "tokenizer/bytes.h"
#include "tokenizer/chat.h"

#define FILE_MAX ((size_t)256 << 20)

/* ---------------------------------------------------------------- chat templates */

/* Standard Jinja texts, used when the source's own text is not at hand (a template
 * chosen with chat_template=...). Each is recognised by chat_template_detect. */
#define CHATML_TURNS "{% for message in messages %}"
#define CHATML_BODY "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" \
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
#define CHATML_SYS(s) CHATML_TURNS "{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\n" s \
    "<|im_end|>\\n' }}{% endif %}" CHATML_BODY
static const char TPL_CHATML[] = CHATML_TURNS CHATML_BODY;
static const char TPL_SMOLLM2[] = CHATML_SYS("You are a helpful AI assistant named SmolLM, trained by Hugging Face");
static const char TPL_QWEN2[] = CHATML_SYS("You are a helpful assistant.");
static const char TPL_QWEN25[] = CHATML_SYS("You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
static const char TPL_LLAMA3[] =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

static const char *standard_template(int kind) {
    switch (kind) {
    case CHAT_CHATML: return TPL_CHATML;
    case CHAT_SMOLLM2: return TPL_SMOLLM2;
    case CHAT_QWEN2: return TPL_QWEN2;
    case CHAT_QWEN25: return TPL_QWEN25;
    case CHAT_LLAMA3: return TPL_LLAMA3;
    default: return NULL;
    }
}

static int read_json(const char *path, cJSON **out, rlvr_err *err) {
    char *text = NULL;
    size_t n = 0;
    *out = NULL;
    int rc = fs_read_all(path, FILE_MAX, &text, &n, err);
    if (rc) return rc;
    *out = cJSON_ParseWithLength(text, n);
    free(text);
    return *out ? RLVR_OK : errf(err, RLVR_EFORMAT, "%s: not valid JSON", path);
}

/* The chat template text to export (malloc'd, caller frees), NULL when there is none:
 * a template picked by name -> the standard text for it; else the source's own text
 * (GGUF tokenizer.chat_template, tokenizer_config.json's chat_template or
 * chat_template.jinja); else the standard text for the detected kind. */
static char *chat_template_text(const loaded_model *lm) {
    char path[1200], *out = NULL;
    if (!strncmp(lm->chat_source, "chat_template=", 14)) {
        const char *t = standard_template(lm->chat_kind);
        return t ? strdup(t) : NULL;
    }
    if (lm->format == LOADED_GGUF) {
        gguf_file *f = NULL;
        const char *s = NULL;
        size_t n = 0;
        if (gguf_open(lm->source, &f, NULL) == RLVR_OK && gguf_find_key(f, "tokenizer.chat_template") >= 0 &&
            gguf_get_str(f, "tokenizer.chat_template", &s, &n, NULL) == RLVR_OK && (out = malloc(n + 1))) {
            memcpy(out, s, n);
            out[n] = 0;
        }
        gguf_close(f);
    } else if (lm->format == LOADED_HF_DIR) {
        cJSON *tc = NULL;
        snprintf(path, sizeof path, "%s/tokenizer_config.json", lm->source);
        if (fs_exists(path) && read_json(path, &tc, NULL) == RLVR_OK) {
            const cJSON *ct = cJSON_GetObjectItemCaseSensitive(tc, "chat_template");
            if (cJSON_IsString(ct)) out = strdup(ct->valuestring);
        }
        cJSON_Delete(tc);
        snprintf(path, sizeof path, "%s/chat_template.jinja", lm->source);
        if (!out && fs_exists(path)) fs_read_all(path, FILE_MAX, &out, NULL, NULL);
    }
    if (!out && lm->has_chat) {
        const char *t = standard_template(lm->chat_kind);
        if (t) out = strdup(t);
    }
    return out;
}

/* ---------------------------------------------------------------- pre-tokenizers */

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}
static int jbool(const cJSON *o, const char *k, int dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/* llama.cpp's name for the pre-tokenizer of an HF tokenizer.json, by its structure:
 * ByteLevel(regex) = gpt2; [Digits(individual), ByteLevel(regex)] = smollm;
 * [Split(Llama-3 regex), ByteLevel(no regex)] = llama-bpe; the same with Qwen2's
 * regex = qwen2. */
static int hf_pre_name(const loaded_model *lm, char *out, size_t cap, rlvr_err *err) {
    char path[1200];
    snprintf(path, sizeof path, "%s/tokenizer.json", lm->source);
    cJSON *tj = NULL;
    int rc = read_json(path, &tj, err);
    if (rc) return rc;
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(tj, "pre_tokenizer");
    const cJSON *steps[4] = {0};
    int n = 0;
    if (!strcmp(jstr(pt, "type"), "Sequence")) {
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(pt, "pretokenizers")) if (n < 4) steps[n++] = s; else n = 5;
    } else if (pt) {
        steps[n++] = pt;
    }
    const char *name = NULL;
    if (n == 1 && !strcmp(jstr(steps[0], "type"), "ByteLevel") && jbool(steps[0], "use_regex", 1))
        name = "gpt2";
    else if (n == 2 && !strcmp(jstr(steps[0], "type"), "Digits") && jbool(steps[0], "individual_digits", 0) &&
             !strcmp(jstr(steps[1], "type"), "ByteLevel") && jbool(steps[1], "use_regex", 1))
        name = "smollm";
    else if (n == 2 && !strcmp(jstr(steps[0], "type"), "Split") && !strcmp(jstr(steps[1], "type"), "ByteLevel") &&
             !jbool(steps[1], "use_regex", 1)) {
        const char *re = jstr(cJSON_GetObjectItemCaseSensitive(steps[0], "pattern"), "Regex");
        if (!strcmp(re, bpe_pre_regex("llama-bpe"))) name = "llama-bpe";
        else if (!strcmp(re, bpe_pre_regex("qwen2"))) name = "qwen2";
    }
    cJSON_Delete(tj);
    if (!name)
        return errf(err, RLVR_EUNSUPPORTED, "%s: pre_tokenizer matches none of llama.cpp's gpt2, smollm, llama-bpe, qwen2; "
                    "it has no GGUF name", path);
    snprintf(out, cap, "%s", name);
    return RLVR_OK;
}

/* The tokenizer.json pre_tokenizer (and normalizer) for a llama.cpp pre name. */
static int pre_json(const char *pre, cJSON *root, int *ignore_merges, rlvr_err *err) {
    cJSON *bl = cJSON_CreateObject();
    cJSON_AddStringToObject(bl, "type", "ByteLevel");
    cJSON_AddBoolToObject(bl, "add_prefix_space", 0);
    cJSON_AddBoolToObject(bl, "trim_offsets", 1);
    *ignore_merges = 0;
    cJSON *seq = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(seq, "pretokenizers");
    cJSON_AddStringToObject(seq, "type", "Sequence");
    cJSON_AddNullToObject(root, "normalizer");
    if (!strcmp(pre, "gpt2")) {
        cJSON_AddBoolToObject(bl, "use_regex", 1);
        cJSON_Delete(seq);
        cJSON_AddItemToObject(root, "pre_tokenizer", bl);
        return RLVR_OK;
    }
    if (!strcmp(pre, "smollm")) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "type", "Digits");
        cJSON_AddBoolToObject(d, "individual_digits", 1);
        cJSON_AddItemToArray(arr, d);
        cJSON_AddBoolToObject(bl, "use_regex", 1);
    } else if (!strcmp(pre, "llama-bpe") || !strcmp(pre, "llama3") || !strcmp(pre, "qwen2")) {
        int qwen = !strcmp(pre, "qwen2");
        cJSON *s = cJSON_CreateObject(), *p = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "type", "Split");
        cJSON_AddStringToObject(p, "Regex", bpe_pre_regex(qwen ? "qwen2" : "llama-bpe"));
        cJSON_AddItemToObject(s, "pattern", p);
        cJSON_AddStringToObject(s, "behavior", "Isolated");
        cJSON_AddBoolToObject(s, "invert", 0);
        cJSON_AddItemToArray(arr, s);
        cJSON_AddBoolToObject(bl, "use_regex", 0);
        if (qwen) {
            cJSON *nf = cJSON_CreateObject();
            cJSON_AddStringToObject(nf, "type", "NFC");
            cJSON_ReplaceItemInObjectCaseSensitive(root, "normalizer", nf);
        } else {
            *ignore_merges = 1;
        }
    } else {
        cJSON_Delete(bl);
        cJSON_Delete(seq);
        return errf(err, RLVR_EUNSUPPORTED, "pre-tokenizer \"%.40s\" has no tokenizer.json form here (gpt2, smollm, "
                    "llama-bpe, qwen2)", pre);
    }
    cJSON_AddItemToArray(arr, bl);
    cJSON_AddItemToObject(root, "pre_tokenizer", seq);
    return RLVR_OK;
}

/* ---------------------------------------------------------------- tokenizer parts */

/* Tokens, llama.cpp token types and "left right" merges of a tokenizer, as GGUF
 * arrays. Ids the tokenizer leaves unused (and ids up to vocab_size past its end)
 * become "[PAD<id>]" of type 5 (unused), as convert_hf_to_gguf.py writes them. */
typedef struct {
    char **tokens, **merges;
    int32_t *types;
    int n_tokens, n_merges;
} tok_parts;

static void parts_free(tok_parts *p) {
    for (int i = 0; p->tokens && i < p->n_tokens; i++) free(p->tokens[i]);
    for (int i = 0; p->merges && i < p->n_merges; i++) free(p->merges[i]);
    free(p->tokens); free(p->merges); free(p->types);
    memset(p, 0, sizeof *p);
}

static int parts_from_bpe(const bpe *b, int vocab, tok_parts *p, rlvr_err *err) {
    int nb = bpe_vocab_size(b), n = nb > vocab ? nb : vocab, nm = bpe_n_merges(b);
    p->n_tokens = n;
    p->n_merges = nm;
    p->tokens = calloc((size_t)n, sizeof *p->tokens);
    p->types = calloc((size_t)n, sizeof *p->types);
    p->merges = calloc((size_t)nm + 1, sizeof *p->merges);
    if (!p->tokens || !p->types || !p->merges) goto oom;
    for (int i = 0; i < n; i++) {
        const char *s = i < nb ? bpe_token_str(b, i) : NULL;
        p->types[i] = !s ? 5 : bpe_token_is_special(b, i) ? 3 : bpe_token_is_added(b, i) ? 4 : 1;
        char pad[32];
        if (!s) { snprintf(pad, sizeof pad, "[PAD%d]", i); s = pad; }
        if (!(p->tokens[i] = strdup(s))) goto oom;
    }
    for (int r = 0; r < nm; r++) {
        int l, rr;
        bpe_merge(b, r, &l, &rr);
        const char *ls = bpe_token_str(b, l), *rs = bpe_token_str(b, rr);
        size_t len = strlen(ls) + strlen(rs) + 2;
        if (!(p->merges[r] = malloc(len))) goto oom;
        snprintf(p->merges[r], len, "%s %s", ls, rs);
    }
    return RLVR_OK;
oom:
    parts_free(p);
    return errf(err, RLVR_ENOMEM, "out of memory for the tokenizer arrays");
}

/* rlvr's byte vocabulary as a merge-free byte-level BPE: id b < 256 is GPT-2's
 * printable character for byte b, so every text encodes to its bytes' ids. */
static int parts_bytes(tok_parts *p, rlvr_err *err) {
    p->n_tokens = BYTES_VOCAB;
    p->tokens = calloc(BYTES_VOCAB, sizeof *p->tokens);
    p->types = calloc(BYTES_VOCAB, sizeof *p->types);
    p->merges = calloc(1, sizeof *p->merges);
    if (!p->tokens || !p->types || !p->merges) { parts_free(p); return errf(err, RLVR_ENOMEM, "out of memory"); }
    int extra = 0;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
        unsigned cp = printable ? (unsigned)b : 256u + (unsigned)extra++;
        char u[4];
        if (cp < 0x80) { u[0] = (char)cp; u[1] = 0; }
        else { u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); u[2] = 0; }
        p->tokens[b] = strdup(u);
        p->types[b] = 1;
    }
    p->tokens[BYTES_BOS] = strdup("<|bos|>");
    p->tokens[BYTES_EOS] = strdup("<|eos|>");
    p->types[BYTES_BOS] = p->types[BYTES_EOS] = 3;
    for (int i = 0; i < BYTES_VOCAB; i++)
        if (!p->tokens[i]) { parts_free(p); return errf(err, RLVR_ENOMEM, "out of memory"); }
    return RLVR_OK;
}

/* ---------------------------------------------------------------- GGUF */

int model_export_gguf(const loaded_model *lm, const char *path, int dtype, rlvr_err *err) {
    if (!lm || !lm->m || !path) return errf(err, RLVR_EARG, "model_export_gguf: NULL argument");
    int type = dtype == ST_F32 ? GGML_TYPE_F32 : dtype == ST_F16 ? GGML_TYPE_F16 : dtype == ST_BF16 ? GGML_TYPE_BF16 : -1;
    if (type < 0) return errf(err, RLVR_EARG, "%s: export dtype %s is not F32, F16 or BF16", path, st_dtype_name(dtype));
    tok_parts p = {0};
    gguf_tok_meta tm = {0};
    char pre[48];
    char *tpl = NULL;
    int rc;
    if (lm->byte_vocab) {
        rc = parts_bytes(&p, err);
        snprintf(pre, sizeof pre, "gpt2");
    } else if (lm->tok) {
        rc = lm->format == LOADED_HF_DIR ? hf_pre_name(lm, pre, sizeof pre, err)
                                         : (snprintf(pre, sizeof pre, "%s", lm->pre), RLVR_OK);
        if (!rc) rc = parts_from_bpe(lm->tok, lm->m->cfg.vocab_size, &p, err);
        tpl = chat_template_text(lm);
    } else {
        return errf(err, RLVR_EARG, "%s: the model has no tokenizer to export", lm->source);
    }
    if (rc) { free(tpl); return err_wrap(err, rc, "%s", path); }
    tm.tokens = (const char *const *)p.tokens;
    tm.token_types = p.types;
    tm.n_tokens = p.n_tokens;
    tm.merges = (const char *const *)p.merges;
    tm.n_merges = p.n_merges;
    tm.pre = pre;
    tm.bos_id = lm->bos_id;
    tm.eos_id = lm->eos_id;
    tm.add_bos = lm->add_bos;
    tm.chat_template = tpl;
    rc = gguf_write_model(path, lm->m, lm->name[0] ? lm->name : NULL, &tm, type, err);
    parts_free(&p);
    free(tpl);
    return rc;
}

/* ---------------------------------------------------------------- HF directory */

static int write_json(const char *path, cJSON *j, rlvr_err *err) {
    char *text = cJSON_Print(j);
    if (!text) return errf(err, RLVR_ENOMEM, "%s: out of memory", path);
    size_t n = strlen(text);
    text[n] = 0;
    char *t2 = realloc(text, n + 2);
    if (t2) { text = t2; text[n++] = '\n'; text[n] = 0; }
    int rc = fs_write_atomic(path, text, n, err);
    free(text);
    return rc;
}

static const char *tok_text(const bpe *b, int id) { return id >= 0 ? bpe_token_str(b, id) : NULL; }

/* tokenizer.json, tokenizer_config.json and generation_config.json for a GGUF's
 * tokenizer, in the form HF's tokenizers library writes them. */
static int write_hf_tokenizer(const loaded_model *lm, const char *dir, rlvr_err *err) {
    const bpe *b = lm->tok;
    char path[1200];
    int ignore_merges = 0, rc;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    int nb = bpe_vocab_size(b);
    for (int i = 0; i < nb; i++) {
        if (!bpe_token_is_added(b, i)) continue;
        cJSON *t = cJSON_CreateObject();
        cJSON_AddNumberToObject(t, "id", i);
        cJSON_AddStringToObject(t, "content", bpe_token_str(b, i));
        cJSON_AddBoolToObject(t, "single_word", 0);
        cJSON_AddBoolToObject(t, "lstrip", 0);
        cJSON_AddBoolToObject(t, "rstrip", 0);
        cJSON_AddBoolToObject(t, "normalized", 0);
        cJSON_AddBoolToObject(t, "special", bpe_token_is_special(b, i));
        cJSON_AddItemToArray(added, t);
    }
    if ((rc = pre_json(lm->pre, root, &ignore_merges, err))) { cJSON_Delete(root); return rc; }
    const char *bos = tok_text(b, lm->bos_id);
    cJSON *pp = cJSON_CreateObject();
    if (lm->add_bos && bos) {   /* TemplateProcessing: BOS before each sequence */
        cJSON_AddStringToObject(pp, "type", "TemplateProcessing");
        for (int pair = 0; pair < 2; pair++) {
            cJSON *arr = cJSON_AddArrayToObject(pp, pair ? "pair" : "single");
            for (int k = 0; k <= pair; k++) {
                cJSON *st = cJSON_CreateObject(), *sti = cJSON_CreateObject(), *sq = cJSON_CreateObject(), *sqi = cJSON_CreateObject();
                cJSON_AddStringToObject(sti, "id", bos);
                cJSON_AddNumberToObject(sti, "type_id", k);
                cJSON_AddItemToObject(st, "SpecialToken", sti);
                cJSON_AddStringToObject(sqi, "id", k ? "B" : "A");
                cJSON_AddNumberToObject(sqi, "type_id", k);
                cJSON_AddItemToObject(sq, "Sequence", sqi);
                cJSON_AddItemToArray(arr, st);
                cJSON_AddItemToArray(arr, sq);
            }
        }
        cJSON *sp = cJSON_AddObjectToObject(pp, "special_tokens"), *e = cJSON_AddObjectToObject(sp, bos);
        cJSON_AddStringToObject(e, "id", bos);
        cJSON_AddItemToObject(e, "ids", cJSON_CreateIntArray(&lm->bos_id, 1));
        cJSON_AddItemToObject(e, "tokens", cJSON_CreateStringArray(&bos, 1));
    } else {
        cJSON_AddStringToObject(pp, "type", "ByteLevel");
        cJSON_AddBoolToObject(pp, "add_prefix_space", 1);
        cJSON_AddBoolToObject(pp, "trim_offsets", 0);
        cJSON_AddBoolToObject(pp, "use_regex", 1);
    }
    cJSON_AddItemToObject(root, "post_processor", pp);
    cJSON *dec = cJSON_AddObjectToObject(root, "decoder");
    cJSON_AddStringToObject(dec, "type", "ByteLevel");
    cJSON_AddBoolToObject(dec, "add_prefix_space", 1);
    cJSON_AddBoolToObject(dec, "trim_offsets", 1);
    cJSON_AddBoolToObject(dec, "use_regex", 1);
    cJSON *mo = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(mo, "type", "BPE");
    cJSON_AddNullToObject(mo, "dropout");
    cJSON_AddNullToObject(mo, "unk_token");
    cJSON_AddNullToObject(mo, "continuing_subword_prefix");
    cJSON_AddNullToObject(mo, "end_of_word_suffix");
    cJSON_AddBoolToObject(mo, "fuse_unk", 0);
    cJSON_AddBoolToObject(mo, "byte_fallback", 0);
    cJSON_AddBoolToObject(mo, "ignore_merges", ignore_merges);
    cJSON *vocab = cJSON_AddObjectToObject(mo, "vocab");
    for (int i = 0; i < nb; i++) {
        const char *s = bpe_token_str(b, i);
        if (s) cJSON_AddNumberToObject(vocab, s, i);
    }
    cJSON *merges = cJSON_AddArrayToObject(mo, "merges");
    for (int r = 0; r < bpe_n_merges(b); r++) {
        int l, rr;
        bpe_merge(b, r, &l, &rr);
        const char *two[2] = {bpe_token_str(b, l), bpe_token_str(b, rr)};
        cJSON_AddItemToArray(merges, cJSON_CreateStringArray(two, 2));
    }
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) return errf(err, RLVR_ENOMEM, "%s: out of memory", path);
    rc = fs_write_atomic(path, text, strlen(text), err);
    free(text);
    if (rc) return rc;

    cJSON *tc = cJSON_CreateObject();
    cJSON_AddBoolToObject(tc, "add_bos_token", lm->add_bos);
    cJSON_AddBoolToObject(tc, "add_eos_token", 0);
    if (bos) cJSON_AddStringToObject(tc, "bos_token", bos);
    const char *eos = tok_text(b, lm->eos_id);
    if (eos) cJSON_AddStringToObject(tc, "eos_token", eos);
    cJSON_AddBoolToObject(tc, "clean_up_tokenization_spaces", 0);
    cJSON_AddNumberToObject(tc, "model_max_length", lm->m->cfg.max_seq_len);
    cJSON_AddStringToObject(tc, "tokenizer_class", "PreTrainedTokenizerFast");
    char *tpl = chat_template_text(lm);
    if (tpl) cJSON_AddStringToObject(tc, "chat_template", tpl);
    free(tpl);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    rc = write_json(path, tc, err);
    cJSON_Delete(tc);
    if (rc) return rc;

    cJSON *gc = cJSON_CreateObject();
    if (lm->bos_id >= 0) cJSON_AddNumberToObject(gc, "bos_token_id", lm->bos_id);
    if (lm->eos_id >= 0) cJSON_AddNumberToObject(gc, "eos_token_id", lm->eos_id);
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    rc = write_json(path, gc, err);
    cJSON_Delete(gc);
    return rc;
}

static int copy_file(const char *from, const char *to, rlvr_err *err) {
    char *data = NULL;
    size_t n = 0;
    int rc = fs_read_all(from, FILE_MAX, &data, &n, err);
    if (!rc) rc = fs_write_atomic(to, data, n, err);
    free(data);
    return rc;
}

static int same_dir(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int model_export_hf(const loaded_model *lm, const char *dir, int dtype, rlvr_err *err) {
    if (!lm || !lm->m || !dir) return errf(err, RLVR_EARG, "model_export_hf: NULL argument");
    if (dtype != ST_F32 && dtype != ST_BF16 && dtype != ST_F16)
        return errf(err, RLVR_EARG, "%s: export dtype %s is not F32, BF16 or F16", dir, st_dtype_name(dtype));
    if (lm->format == LOADED_HF_DIR && same_dir(lm->source, dir))
        return errf(err, RLVR_EARG, "%s: is the source directory; export to another one", dir);
    const model *m = lm->m;
    char path[1200];
    int rc = fs_mkdir_p(dir, err);
    if (rc) return rc;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if ((rc = hfconfig_save(path, &m->cfg, err))) return rc;

    size_t es = st_dtype_size(dtype);
    st_out *t = calloc((size_t)m->n_tensors, sizeof *t);
    unsigned char *half = dtype == ST_F32 ? NULL : malloc(m->n_params * es);
    if (!t || (dtype != ST_F32 && !half)) { free(t); free(half); return errf(err, RLVR_ENOMEM, "%s: out of memory", dir); }
    size_t at = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const tensor_info *ti = &m->tensors[i];
        const float *src = m->params + ti->offset;
        t[i].name = ti->name;
        t[i].dtype = dtype;
        t[i].ndim = ti->ndim;
        t[i].shape[0] = ti->shape[0];
        t[i].shape[1] = ti->shape[1];
        if (dtype == ST_F32) { t[i].data = src; continue; }
        if (dtype == ST_BF16) dtype_f32_to_bf16_n(half + at, src, ti->numel);
        else dtype_f32_to_f16_n(half + at, src, ti->numel);
        t[i].data = half + at;
        at += ti->numel * es;
    }
    static const char *const meta[] = {"format", "pt", NULL};
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    rc = st_write(path, t, m->n_tensors, meta, err);
    free(t);
    free(half);
    if (rc) return rc;

    if (lm->byte_vocab || !lm->tok) return RLVR_OK;
    if (lm->format == LOADED_HF_DIR) {
        static const char *const files[] = {"tokenizer.json", "tokenizer_config.json", "generation_config.json",
                                            "special_tokens_map.json", "chat_template.jinja"};
        for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
            char from[1200];
            snprintf(from, sizeof from, "%s/%s", lm->source, files[i]);
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            if (fs_exists(from) && (rc = copy_file(from, path, err))) return rc;
        }
        return RLVR_OK;
    }
    return write_hf_tokenizer(lm, dir, err);
}
