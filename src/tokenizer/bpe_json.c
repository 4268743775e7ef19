/* bpe_json.c: building a bpe from a Hugging Face tokenizer.json (model, added_tokens,
 * normalizer, pre_tokenizer) or from GGUF-style arrays. Every error names the file
 * and the JSON key or index at fault. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "core/err.h"
#include "core/fs.h"
#include "tokenizer/bpe_int.h"

enum { MAX_JSON_BYTES = 256 << 20 };

static int get_bool(const cJSON *o, const char *key, int dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return dflt;
}

static const char *get_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An integer id in [0, BPE_MAX_IDS), else -1. */
static int as_id(const cJSON *v) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0 && d < BPE_MAX_IDS) || d != (double)(int)d) return -1;
    return (int)d;
}

static int behavior_of(const char *s) {
    static const char *const names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
    for (int i = 0; i < 5; i++) if (s && !strcmp(s, names[i])) return i;
    return -1;
}

static int add_pre(bpe *b, const cJSON *p, const char *path, const char *where, int depth, rlvr_err *err) {
    char w[160];
    if (cJSON_IsNull(p)) return RLVR_OK;
    if (!cJSON_IsObject(p)) return errf(err, RLVR_EFORMAT, "%s: %s is not an object", path, where);
    if (depth > 4) return errf(err, RLVR_EFORMAT, "%s: %s nested too deeply", path, where);
    const char *type = get_str(p, "type");
    if (!type) return errf(err, RLVR_EFORMAT, "%s: %s.type missing", path, where);
    if (!strcmp(type, "Sequence")) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(p, "pretokenizers");
        if (!cJSON_IsArray(arr)) return errf(err, RLVR_EFORMAT, "%s: %s.pretokenizers is not an array", path, where);
        int i = 0;
        for (const cJSON *c = arr->child; c; c = c->next, i++) {
            snprintf(w, sizeof w, "%.120s.pretokenizers[%d]", where, i);
            int rc = add_pre(b, c, path, w, depth + 1, err);
            if (rc) return rc;
        }
        return RLVR_OK;
    }
    snprintf(w, sizeof w, "%s: %.140s", path, where);
    if (!strcmp(type, "ByteLevel")) {
        int rc = RLVR_OK;
        b->has_bytelevel = 1;
        if (get_bool(p, "add_prefix_space", 1)) rc = bpe_add_prefix_space(b, w, err);
        if (!rc && get_bool(p, "use_regex", 1))
            rc = bpe_add_split(b, BPE_PAT_GPT2, strlen(BPE_PAT_GPT2), 0, BPE_SPLIT_ISOLATED, 0, w, err);
        return rc;
    }
    if (!strcmp(type, "Digits")) {
        int beh = get_bool(p, "individual_digits", 0) ? BPE_SPLIT_ISOLATED : BPE_SPLIT_CONTIGUOUS;
        return bpe_add_split(b, "\\p{N}", 5, 0, beh, 0, w, err);   /* Rust char::is_numeric */
    }
    if (!strcmp(type, "Split")) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
        const cJSON *re = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
        const cJSON *lit = cJSON_GetObjectItemCaseSensitive(pat, "String");
        const cJSON *src = cJSON_IsString(re) ? re : lit;
        if (!cJSON_IsString(src)) return errf(err, RLVR_EFORMAT, "%s.pattern: needs a Regex or String", w);
        int beh = behavior_of(get_str(p, "behavior"));
        if (beh < 0) return errf(err, RLVR_EFORMAT, "%s.behavior: \"%.40s\" is not a split behavior", w,
                                 get_str(p, "behavior") ? get_str(p, "behavior") : "(missing)");
        char ww[200];
        snprintf(ww, sizeof ww, "%s.pattern", w);
        return bpe_add_split(b, src->valuestring, strlen(src->valuestring), src == lit, beh,
                             get_bool(p, "invert", 0), ww, err);
    }
    return errf(err, RLVR_EUNSUPPORTED, "%s.type: pre-tokenizer \"%.40s\" is not supported (ByteLevel, Split, Digits, Sequence)",
                w, type);
}

static int add_norm(bpe *b, const cJSON *n, const char *path, int depth, rlvr_err *err) {
    if (!n || cJSON_IsNull(n)) return RLVR_OK;
    const char *type = get_str(n, "type");
    if (!type) return errf(err, RLVR_EFORMAT, "%s: normalizer.type missing", path);
    if (!strcmp(type, "NFC")) { b->nfc = 1; return RLVR_OK; }
    if (!strcmp(type, "Sequence") && depth < 4) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(n, "normalizers");
        if (!cJSON_IsArray(arr)) return errf(err, RLVR_EFORMAT, "%s: normalizer.normalizers is not an array", path);
        for (const cJSON *c = arr->child; c; c = c->next) {
            int rc = add_norm(b, c, path, depth + 1, err);
            if (rc) return rc;
        }
        return RLVR_OK;
    }
    return errf(err, RLVR_EUNSUPPORTED, "%s: normalizer \"%.40s\" is not supported (null or NFC)", path, type);
}

static int load_model(bpe *b, const cJSON *root, const char *path, rlvr_err *err) {
    char w[128];
    int rc;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(model)) return errf(err, RLVR_EFORMAT, "%s: \"model\" missing or not an object", path);
    const char *type = get_str(model, "type");
    if (type && strcmp(type, "BPE"))
        return errf(err, RLVR_EUNSUPPORTED, "%s: model.type \"%.40s\" is not supported (BPE only)", path, type);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!cJSON_IsObject(vocab)) return errf(err, RLVR_EFORMAT, "%s: model.vocab missing or not an object", path);
    if (!cJSON_IsArray(merges)) return errf(err, RLVR_EFORMAT, "%s: model.merges missing or not an array", path);
    const char *pre = get_str(model, "continuing_subword_prefix"), *suf = get_str(model, "end_of_word_suffix");
    if ((pre && *pre) || (suf && *suf))
        return errf(err, RLVR_EUNSUPPORTED, "%s: model.continuing_subword_prefix/end_of_word_suffix are not supported", path);
    const cJSON *drop = cJSON_GetObjectItemCaseSensitive(model, "dropout");
    if (cJSON_IsNumber(drop) && drop->valuedouble != 0)
        return errf(err, RLVR_EUNSUPPORTED, "%s: model.dropout is not supported", path);
    b->ignore_merges = get_bool(model, "ignore_merges", 0);
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added))
        return errf(err, RLVR_EFORMAT, "%s: added_tokens is not an array", path);

    /* size the table: largest id + 1, with few holes */
    int n_entries = 0, max_id = -1;
    for (const cJSON *c = vocab->child; c; c = c->next, n_entries++) {
        int id = as_id(c);
        if (id < 0) return errf(err, RLVR_EFORMAT, "%s: model.vocab[\"%.60s\"]: id is not an integer in [0, %d)", path,
                                c->string ? c->string : "", BPE_MAX_IDS);
        if (id > max_id) max_id = id;
    }
    int i = 0;
    if (cJSON_IsArray(added))
        for (const cJSON *c = added->child; c; c = c->next, i++, n_entries++) {
            int id = as_id(cJSON_GetObjectItemCaseSensitive(c, "id"));
            if (id < 0) return errf(err, RLVR_EFORMAT, "%s: added_tokens[%d].id is not an integer in [0, %d)", path, i, BPE_MAX_IDS);
            if (id > max_id) max_id = id;
        }
    if (max_id < 0) return errf(err, RLVR_EFORMAT, "%s: model.vocab is empty", path);
    if ((long)max_id > 2L * n_entries + 1024)
        return errf(err, RLVR_EFORMAT, "%s: largest id %d is far beyond the %d tokens", path, max_id, n_entries);
    if ((rc = bpe_table_init(b, max_id + 1, err))) return err_wrap(err, rc, "%s", path);

    for (const cJSON *c = vocab->child; c; c = c->next) {
        snprintf(w, sizeof w, "%s: model.vocab[\"%.40s\"]", path, c->string ? c->string : "");
        if (!c->string) return errf(err, RLVR_EFORMAT, "%s: key missing", w);
        if ((rc = bpe_set_token(b, as_id(c), c->string, strlen(c->string), 0, w, err))) return rc;
    }
    i = 0;
    if (cJSON_IsArray(added))
        for (const cJSON *c = added->child; c; c = c->next, i++) {
            snprintf(w, sizeof w, "%s: added_tokens[%d]", path, i);
            const char *content = get_str(c, "content");
            if (!content) return errf(err, RLVR_EFORMAT, "%s.content missing", w);
            if (get_bool(c, "single_word", 0) || get_bool(c, "lstrip", 0) || get_bool(c, "rstrip", 0))
                return errf(err, RLVR_EUNSUPPORTED, "%s: single_word/lstrip/rstrip are not supported", w);
            int attr = BPE_ATTR_ADDED | (get_bool(c, "special", 0) ? BPE_ATTR_SPECIAL : 0);
            rc = bpe_set_token(b, as_id(cJSON_GetObjectItemCaseSensitive(c, "id")), content, strlen(content), attr, w, err);
            if (rc) return rc;
        }
    if ((rc = bpe_build_vocab_hash(b, err))) return err_wrap(err, rc, "%s: model.vocab", path);

    int n_merges = cJSON_GetArraySize(merges);
    if ((rc = bpe_merges_reserve(b, n_merges, err))) return err_wrap(err, rc, "%s: model.merges", path);
    i = 0;
    for (const cJSON *c = merges->child; c; c = c->next, i++) {
        snprintf(w, sizeof w, "%s: model.merges[%d]", path, i);
        const char *l, *r; size_t nl, nr;
        if (cJSON_IsString(c)) {          /* "left right" */
            const char *s = c->valuestring, *sp = strchr(s, ' ');
            if (!sp || strchr(sp + 1, ' ')) return errf(err, RLVR_EFORMAT, "%s: \"%.60s\" is not two tokens", w, s);
            l = s; nl = (size_t)(sp - s); r = sp + 1; nr = strlen(r);
        } else if (cJSON_IsArray(c) && cJSON_GetArraySize(c) == 2 && cJSON_IsString(c->child) &&
                   cJSON_IsString(c->child->next)) {   /* ["left", "right"] */
            l = c->child->valuestring; nl = strlen(l); r = c->child->next->valuestring; nr = strlen(r);
        } else {
            return errf(err, RLVR_EFORMAT, "%s: neither a \"a b\" string nor a [a, b] pair", w);
        }
        if ((rc = bpe_add_merge(b, l, nl, r, nr, w, err))) return rc;
    }
    const char *unk = get_str(model, "unk_token");
    if (unk) b->unk_id = bpe_lookup(b, unk, strlen(unk));
    return RLVR_OK;
}

int bpe_load_json(const char *path, bpe **out, rlvr_err *err) {
    *out = NULL;
    char *text = NULL;
    size_t n = 0;
    int rc = fs_read_all(path, MAX_JSON_BYTES, &text, &n, err);
    if (rc) return rc;
    cJSON *root = cJSON_ParseWithLength(text, n);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= text && at <= text + n ? (size_t)(at - text) : n;
        free(text);
        return errf(err, RLVR_EFORMAT, "%s: not valid JSON (near byte %zu of %zu)", path, off, n);
    }
    free(text);
    bpe *b = bpe_alloc();
    if (!b) { cJSON_Delete(root); return errf(err, RLVR_ENOMEM, "%s: out of memory", path); }
    if (!cJSON_IsObject(root)) rc = errf(err, RLVR_EFORMAT, "%s: top level is not an object", path);
    if (!rc) rc = load_model(b, root, path, err);
    if (!rc) rc = add_norm(b, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), path, 0, err);
    if (!rc) {
        const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
        if (pre) rc = add_pre(b, pre, path, "pre_tokenizer", 0, err);
    }
    if (!rc && (rc = bpe_finish(b, err))) err_wrap(err, rc, "%s", path);
    cJSON_Delete(root);
    if (rc) { bpe_free(b); return rc; }
    *out = b;
    return RLVR_OK;
}

int bpe_from_parts(const char *const *tokens, const int *token_types, int n_tokens,
                   const char *const *merges, int n_merges, const char *pre,
                   bpe **out, rlvr_err *err) {
    *out = NULL;
    char w[64];
    if (!tokens || n_tokens <= 0 || n_merges < 0 || (n_merges && !merges) || !pre)
        return errf(err, RLVR_EARG, "bpe_from_parts: missing tokens, merges or pre-tokenizer name");
    bpe *b = bpe_alloc();
    if (!b) return errf(err, RLVR_ENOMEM, "out of memory");
    int rc = bpe_table_init(b, n_tokens, err);
    for (int i = 0; !rc && i < n_tokens; i++) {
        snprintf(w, sizeof w, "tokens[%d]", i);
        if (!tokens[i]) { rc = errf(err, RLVR_EARG, "%s is NULL", w); break; }
        int t = token_types ? token_types[i] : 1;
        int attr = t == 3 ? BPE_ATTR_ADDED | BPE_ATTR_SPECIAL : t == 4 ? BPE_ATTR_ADDED : 0;
        rc = bpe_set_token(b, i, tokens[i], strlen(tokens[i]), attr, w, err);
    }
    if (!rc) rc = bpe_build_vocab_hash(b, err);
    if (!rc) rc = bpe_merges_reserve(b, n_merges, err);
    for (int i = 0; !rc && i < n_merges; i++) {
        snprintf(w, sizeof w, "merges[%d]", i);
        const char *s = merges[i], *sp = s ? strchr(s, ' ') : NULL;
        if (!sp || strchr(sp + 1, ' ')) { rc = errf(err, RLVR_EFORMAT, "%s: \"%.60s\" is not two tokens", w, s ? s : ""); break; }
        rc = bpe_add_merge(b, s, (size_t)(sp - s), sp + 1, strlen(sp + 1), w, err);
    }
    if (!rc) {
        b->has_bytelevel = 1;
        if (!strcmp(pre, "gpt2") || !strcmp(pre, "smollm")) {
            if (pre[0] == 's') rc = bpe_add_split(b, "\\p{N}", 5, 0, BPE_SPLIT_ISOLATED, 0, pre, err);
            if (!rc) rc = bpe_add_split(b, BPE_PAT_GPT2, strlen(BPE_PAT_GPT2), 0, BPE_SPLIT_ISOLATED, 0, pre, err);
        } else if (!strcmp(pre, "llama-bpe") || !strcmp(pre, "llama3")) {
            b->ignore_merges = 1;
            rc = bpe_add_split(b, BPE_PAT_LLAMA3, strlen(BPE_PAT_LLAMA3), 0, BPE_SPLIT_ISOLATED, 0, pre, err);
        } else if (!strcmp(pre, "qwen2")) {
            b->nfc = 1;
            rc = bpe_add_split(b, BPE_PAT_QWEN2, strlen(BPE_PAT_QWEN2), 0, BPE_SPLIT_ISOLATED, 0, pre, err);
        } else {
            rc = errf(err, RLVR_EUNSUPPORTED, "pre-tokenizer \"%.40s\" is not supported (gpt2, llama-bpe, qwen2, smollm)", pre);
        }
    }
    if (!rc) rc = bpe_finish(b, err);
    if (rc) { bpe_free(b); return rc; }
    *out = b;
    return RLVR_OK;
}
