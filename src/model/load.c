/* load.c: model_open and its helpers: a Hugging Face directory or a GGUF file to a
 * model, a tokenizer, a chat template and special tokens. The formats themselves are
 * parsed in formats/ and tokenizer/; this file only decides which pieces apply and
 * reconciles the special tokens the way transformers does. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "core/err.h"
#include "core/fs.h"
#include "formats/gguf.h"
#include "formats/hfconfig.h"
#include "formats/quant.h"
#include "formats/safetensors.h"
#include "model/io.h"
#include "model/load.h"
#include "model/shards.h"
#include "tokenizer/bytes.h"
#include "tokenizer/chat.h"

#define JSON_MAX ((size_t)256 << 20)

/* ---------------------------------------------------------------- small helpers */

/* Appends "NAME xCOUNT" pairs for types[0..n) with counts to buf. */
typedef struct { const char *name; int count; } type_count;

static void tally(type_count *tc, int *n_tc, int cap, const char *name) {
    for (int i = 0; i < *n_tc; i++)
        if (!strcmp(tc[i].name, name)) { tc[i].count++; return; }
    if (*n_tc < cap) tc[(*n_tc)++] = (type_count){name, 1};
}

static void tally_str(const type_count *tc, int n, char *buf, size_t cap) {
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < n && at < cap; i++) {
        int w = snprintf(buf + at, cap - at, "%s%s x%d", i ? ", " : "", tc[i].name, tc[i].count);
        if (w < 0) break;
        at += (size_t)w;
    }
}

static void add_stop(loaded_model *lm, int id) {
    if (id < 0) return;
    for (int i = 0; i < lm->n_stop; i++)
        if (lm->stop_ids[i] == id) return;
    if (lm->n_stop < LOADED_MAX_STOP) lm->stop_ids[lm->n_stop++] = id;
}

/* Sets chat_kind from a Jinja template (NULL: none); an unknown one is only noted. */
static void chat_from_jinja(loaded_model *lm, const char *jinja, const char *where) {
    rlvr_err e = {0};
    int kind = 0;
    if (!jinja) {
        snprintf(lm->chat_note, sizeof lm->chat_note, "no chat template in the model files");
        return;
    }
    if (chat_template_detect(jinja, &kind, &e) == RLVR_OK) {
        lm->chat_kind = kind;
        snprintf(lm->chat_source, sizeof lm->chat_source, "%s", where);
    } else {
        snprintf(lm->chat_note, sizeof lm->chat_note, "%s: %.120s", where, e.msg);
    }
}

/* Finishes the special tokens once the tokenizer and chat kind are known. */
static void finish_specials(loaded_model *lm) {
    lm->has_chat = lm->chat_kind != 0;
    lm->eot_id = -1;
    if (lm->has_chat && lm->tok) {
        const char *eot = chat_end_of_turn(lm->chat_kind);
        if (eot) lm->eot_id = bpe_token_id(lm->tok, eot);
    }
    lm->n_stop = 0;
    add_stop(lm, lm->eos_id);
    add_stop(lm, lm->eot_id);
    add_stop(lm, lm->m->cfg.eos_id);
    for (int i = 0; i < lm->n_gen_eos; i++) add_stop(lm, lm->gen_eos[i]); /* generation_config.json */
    if (lm->tok) bpe_set_bos_eos(lm->tok, lm->bos_id, lm->eos_id);
}

/* ---------------------------------------------------------------- GGUF */

static int open_gguf_tokenizer(loaded_model *lm, gguf_file *f, rlvr_err *err) {
    const char *path = lm->source, *tm = NULL, *pre = "gpt2";
    if (gguf_find_key(f, "tokenizer.ggml.model") < 0)
        return errf(err, RLVR_EUNSUPPORTED, "%s: no tokenizer.ggml.model (a GGUF without a tokenizer)", path);
    int rc = gguf_get_str(f, "tokenizer.ggml.model", &tm, NULL, err);
    if (rc) return rc;
    if (strcmp(tm, "gpt2"))
        return errf(err, RLVR_EUNSUPPORTED, "%s: tokenizer.ggml.model is \"%.40s\"; rlvr runs byte-level BPE (\"gpt2\") "
                    "tokenizers only (SentencePiece \"llama\" and others are not supported)", path, tm);
    if (gguf_find_key(f, "tokenizer.ggml.pre") >= 0 && (rc = gguf_get_str(f, "tokenizer.ggml.pre", &pre, NULL, err)))
        return rc;
    int kt = gguf_find_key(f, "tokenizer.ggml.tokens"), km = gguf_find_key(f, "tokenizer.ggml.merges");
    int ky = gguf_find_key(f, "tokenizer.ggml.token_type");
    int et = -1;
    uint64_t nt = 0, nm = 0, ny = 0;
    if (kt < 0 || gguf_arr_info(f, kt, &et, &nt) || et != GGUF_TYPE_STRING || nt == 0 || nt > (1u << 24))
        return errf(err, RLVR_EFORMAT, "%s: tokenizer.ggml.tokens is missing or not a non-empty string array", path);
    if (km < 0 || gguf_arr_info(f, km, &et, &nm) || et != GGUF_TYPE_STRING || nm > (1u << 24))
        return errf(err, RLVR_EFORMAT, "%s: tokenizer.ggml.merges is missing or not a string array", path);
    if (ky >= 0 && (gguf_arr_info(f, ky, &et, &ny) || ny != nt || (et != GGUF_TYPE_INT32 && et != GGUF_TYPE_UINT32)))
        return errf(err, RLVR_EFORMAT, "%s: tokenizer.ggml.token_type must be an int32 array as long as tokens (%llu)",
                    path, (unsigned long long)nt);
    /* NUL-terminated copies: the file's strings are not terminated. */
    size_t bytes = 0, len;
    for (uint64_t i = 0; i < nt; i++) { gguf_arr_get_str(f, kt, i, &len); bytes += len + 1; }
    for (uint64_t i = 0; i < nm; i++) { gguf_arr_get_str(f, km, i, &len); bytes += len + 1; }
    char *arena = malloc(bytes ? bytes : 1);
    const char **toks = malloc(sizeof *toks * nt), **merges = malloc(sizeof *merges * (nm ? nm : 1));
    int *types = ky >= 0 ? malloc(sizeof *types * nt) : NULL;
    if (!arena || !toks || !merges || (ky >= 0 && !types)) {
        rc = errf(err, RLVR_ENOMEM, "%s: out of memory for the tokenizer", path);
        goto done;
    }
    char *p = arena;
    for (uint64_t i = 0; i < nt + nm; i++) {
        const char *s = i < nt ? gguf_arr_get_str(f, kt, i, &len) : gguf_arr_get_str(f, km, i - nt, &len);
        memcpy(p, s, len);
        p[len] = 0;
        if (i < nt) toks[i] = p; else merges[i - nt] = p;
        p += len + 1;
    }
    if (types) {
        const unsigned char *raw = gguf_arr_data(f, ky, et, NULL);
        for (uint64_t i = 0; i < nt; i++) { int32_t v; memcpy(&v, raw + 4 * i, 4); types[i] = v; }
    }
    rc = bpe_from_parts(toks, types, (int)nt, merges, (int)nm, pre, &lm->tok, err);
    if (rc) err_wrap(err, rc, "%s (tokenizer.ggml.*)", path);
    else {
        snprintf(lm->tok_kind, sizeof lm->tok_kind, "gguf gpt2 (byte-level BPE)");
        snprintf(lm->pre, sizeof lm->pre, "%s", pre);
    }
done:
    free(arena); free(toks); free(merges); free(types);
    return rc;
}

static int open_gguf(loaded_model *lm, rlvr_err *err) {
    gguf_file *f = NULL;
    model_config c;
    int rc = gguf_open(lm->source, &f, err);
    if (rc) return rc;
    lm->format = LOADED_GGUF;
    /* the tokenizer first: refusing a SentencePiece file should not cost a dequantize */
    if ((rc = open_gguf_tokenizer(lm, f, err))) goto done;
    if ((rc = gguf_model_config(f, &c, err))) goto done;
    if (!(lm->m = model_new(&c, err))) { rc = err && err->code ? err->code : RLVR_ENOMEM; goto done; }
    if ((rc = gguf_load_params(f, lm->m, err))) goto done;
    type_count tc[16];
    int n_tc = 0;
    lm->n_src_tensors = gguf_n_tensors(f);
    for (int i = 0; i < lm->n_src_tensors; i++) tally(tc, &n_tc, 16, quant_type_name(gguf_get_tensor(f, i)->type));
    tally_str(tc, n_tc, lm->dtypes, sizeof lm->dtypes);
    lm->bos_id = c.bos_id;
    lm->eos_id = c.eos_id;
    /* llama.cpp's rule: the file says, else BPE vocabularies add no BOS except Llama-3's */
    if (gguf_find_key(f, "tokenizer.ggml.add_bos_token") >= 0) {
        if ((rc = gguf_get_bool(f, "tokenizer.ggml.add_bos_token", &lm->add_bos, err))) goto done;
    } else {
        lm->add_bos = !strcmp(lm->pre, "llama-bpe") || !strcmp(lm->pre, "llama3");
    }
    if (lm->bos_id < 0) lm->add_bos = 0;
    const char *name = NULL;
    if (gguf_find_key(f, "general.name") >= 0 && gguf_get_str(f, "general.name", &name, NULL, NULL) == RLVR_OK)
        snprintf(lm->name, sizeof lm->name, "%s", name);
    const char *jinja = NULL;
    if (gguf_find_key(f, "tokenizer.chat_template") >= 0 && (rc = gguf_get_str(f, "tokenizer.chat_template", &jinja, NULL, err)))
        goto done;
    chat_from_jinja(lm, jinja, "tokenizer.chat_template");
done:
    gguf_close(f);
    return rc;
}

/* ---------------------------------------------------------------- HF directory */

/* A token given as "text" or {"content": "text", ...} (tokenizer_config.json). */
static int json_token_id(const bpe *b, const cJSON *v) {
    if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
    return cJSON_IsString(v) ? bpe_token_id(b, v->valuestring) : -1;
}

/* The BOS a TemplateProcessing post-processor puts before $A, or -1. */
static int template_bos(const bpe *b, const cJSON *pp) {
    if (!cJSON_IsObject(pp)) return -1;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(pp, "type");
    if (!cJSON_IsString(type)) return -1;
    if (!strcmp(type->valuestring, "Sequence")) {
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(pp, "processors")) {
            int id = template_bos(b, s);
            if (id >= 0) return id;
        }
        return -1;
    }
    if (strcmp(type->valuestring, "TemplateProcessing")) return -1;
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pp, "single"), 0);
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(first, "SpecialToken");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(sp, "id");
    if (!cJSON_IsString(name)) return -1;
    const cJSON *ent = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pp, "special_tokens"), name->valuestring);
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(ent, "ids");
    const cJSON *id0 = cJSON_GetArrayItem(ids, 0);
    if (cJSON_IsNumber(id0) && cJSON_GetArraySize(ids) == 1) return (int)id0->valuedouble;
    return bpe_token_id(b, name->valuestring);
}

static int read_json(const char *path, cJSON **out, rlvr_err *err) {
    char *text = NULL;
    size_t n = 0;
    *out = NULL;
    int rc = fs_read_all(path, JSON_MAX, &text, &n, err);
    if (rc) return rc;
    *out = cJSON_ParseWithLength(text, n);
    free(text);
    return *out ? RLVR_OK : errf(err, RLVR_EFORMAT, "%s: not valid JSON", path);
}

static int open_hf_tokenizer(loaded_model *lm, const char *dir, rlvr_err *err) {
    char path[1200];
    const model_config *c = &lm->m->cfg;
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (!fs_exists(path)) {
        if (c->vocab_size != BYTES_VOCAB)
            return errf(err, RLVR_EIO, "%s: tokenizer.json is missing (vocab_size %d; only rlvr's byte-level models, "
                        "vocab_size %d, need none): copy it from the model's Hugging Face repository",
                        dir, c->vocab_size, BYTES_VOCAB);
        lm->byte_vocab = 1;
        lm->bos_id = BYTES_BOS;
        lm->eos_id = BYTES_EOS;
        lm->add_bos = 1;
        snprintf(lm->tok_kind, sizeof lm->tok_kind, "bytes (rlvr byte vocabulary)");
        snprintf(lm->pre, sizeof lm->pre, "none");
        snprintf(lm->chat_note, sizeof lm->chat_note, "byte-level models have no chat template");
        return RLVR_OK;
    }
    int rc = bpe_load_json(path, &lm->tok, err);
    if (rc) return rc;
    snprintf(lm->tok_kind, sizeof lm->tok_kind, "tokenizer.json (byte-level BPE)");
    cJSON *tj = NULL;
    if ((rc = read_json(path, &tj, err))) return rc;
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(tj, "pre_tokenizer");
    const cJSON *ptt = cJSON_GetObjectItemCaseSensitive(pt, "type");
    snprintf(lm->pre, sizeof lm->pre, "%s", cJSON_IsString(ptt) ? ptt->valuestring : "none");
    int tbos = template_bos(lm->tok, cJSON_GetObjectItemCaseSensitive(tj, "post_processor"));
    cJSON_Delete(tj);

    lm->bos_id = c->bos_id >= 0 ? c->bos_id : bpe_bos_id(lm->tok);
    lm->eos_id = c->eos_id >= 0 ? c->eos_id : bpe_eos_id(lm->tok);
    lm->add_bos = tbos >= 0;
    if (tbos >= 0) lm->bos_id = tbos;
    char *jinja = NULL;
    const char *where = NULL;
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    if (fs_exists(path)) {
        cJSON *tc = NULL;
        if ((rc = read_json(path, &tc, err))) return rc;
        int id = json_token_id(lm->tok, cJSON_GetObjectItemCaseSensitive(tc, "bos_token"));
        if (id >= 0) lm->bos_id = id;
        id = json_token_id(lm->tok, cJSON_GetObjectItemCaseSensitive(tc, "eos_token"));
        if (id >= 0) lm->eos_id = id;
        const cJSON *ab = cJSON_GetObjectItemCaseSensitive(tc, "add_bos_token");
        if (cJSON_IsBool(ab)) lm->add_bos = cJSON_IsTrue(ab);
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(tc, "chat_template");
        if (cJSON_IsString(ct)) jinja = strdup(ct->valuestring);
        cJSON_Delete(tc);
        if (jinja) where = "tokenizer_config.json";
    }
    snprintf(path, sizeof path, "%s/chat_template.jinja", dir);
    if (!jinja && fs_exists(path)) {
        if ((rc = fs_read_all(path, JSON_MAX, &jinja, NULL, err))) return rc;
        where = "chat_template.jinja";
    }
    chat_from_jinja(lm, jinja, where ? where : "tokenizer_config.json");
    free(jinja);
    if (lm->bos_id < 0) lm->add_bos = 0;
    return RLVR_OK;
}

static int open_hf_dir(loaded_model *lm, rlvr_err *err) {
    char path[1200];
    const char *dir = lm->source;
    model_config c;
    lm->format = LOADED_HF_DIR;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!fs_exists(path))
        return errf(err, RLVR_EIO, "%s: not a model directory (no config.json); give a directory with config.json + "
                    "model.safetensors, or a .gguf file", dir);
    int rc = hfconfig_load(path, &c, err);
    if (rc) return rc;
    if (!(lm->m = model_new(&c, err))) return err && err->code ? err->code : RLVR_ENOMEM;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (fs_exists(path)) { /* one file: also tally its dtypes for inspect */
        st_file *f = NULL;
        if ((rc = st_open(path, &f, err))) return rc;
        type_count tc[16];
        int n_tc = 0;
        lm->n_src_tensors = st_count(f);
        for (int i = 0; i < lm->n_src_tensors; i++) tally(tc, &n_tc, 16, st_dtype_name(st_get(f, i)->dtype));
        tally_str(tc, n_tc, lm->dtypes, sizeof lm->dtypes);
        st_close(f);
    } else {
        snprintf(lm->dtypes, sizeof lm->dtypes, "sharded (model.safetensors.index.json)");
    }
    if ((rc = model_load_params_dir(lm->m, dir, err))) return rc; /* single file or shards */
    int gen_eos[LOADED_MAX_STOP], n_gen = 0;
    if ((rc = hf_generation_eos(dir, gen_eos, LOADED_MAX_STOP, &n_gen, err))) return rc;
    lm->n_gen_eos = n_gen < LOADED_MAX_STOP ? n_gen : LOADED_MAX_STOP;
    memcpy(lm->gen_eos, gen_eos, sizeof(int) * lm->n_gen_eos);
    return open_hf_tokenizer(lm, dir, err);
}

/* ---------------------------------------------------------------- the API */

int model_open(const char *path, const char *chat_override, loaded_model *out, rlvr_err *err) {
    memset(out, 0, sizeof *out);
    out->bos_id = out->eos_id = out->eot_id = -1;
    if (!path || !*path) return errf(err, RLVR_EARG, "model_open: no path given");
    if (strlen(path) >= sizeof out->source) return errf(err, RLVR_EARG, "model_open: path too long");
    snprintf(out->source, sizeof out->source, "%s", path);
    int override = 0;
    if (chat_override && *chat_override) {
        int rc = chat_template_by_name(chat_override, &override, err);
        if (rc) return rc;
    }
    struct stat st;
    if (stat(path, &st)) return errf(err, RLVR_EIO, "%s: no such file or directory", path);
    int rc;
    if (S_ISDIR(st.st_mode)) {
        rc = open_hf_dir(out, err);
    } else {
        size_t n = strlen(path);
        if (n < 5 || strcmp(path + n - 5, ".gguf"))
            return errf(err, RLVR_EUNSUPPORTED, "%s: not a directory and not a .gguf file; rlvr opens a Hugging Face "
                        "directory (config.json + model.safetensors) or a GGUF file", path);
        rc = open_gguf(out, err);
    }
    if (rc) return rc;
    if (override) {
        if (out->byte_vocab)
            return errf(err, RLVR_EUNSUPPORTED, "%s: chat_template=%s given, but byte-level models have no chat tokens",
                        path, chat_override);
        out->chat_kind = override;
        snprintf(out->chat_source, sizeof out->chat_source, "chat_template=%s", chat_override);
        out->chat_note[0] = 0;
    }
    finish_specials(out);
    return RLVR_OK;
}

void loaded_model_free(loaded_model *lm) {
    if (!lm) return;
    model_free(lm->m);
    bpe_free(lm->tok);
    memset(lm, 0, sizeof *lm);
}

int loaded_encode_prompt(const loaded_model *lm, const char *text, int chat, const char *system,
                         int *ids, int cap, int *n, rlvr_err *err) {
    *n = 0;
    if (!text) return errf(err, RLVR_EARG, "loaded_encode_prompt: no text");
    if (lm->byte_vocab) {
        if (chat) return errf(err, RLVR_EUNSUPPORTED, "%s: chat mode needs a BPE tokenizer with chat tokens; "
                              "this is a byte-level model (use chat=false)", lm->source);
        size_t len = strlen(text);
        if (len + 1 > (size_t)1 << 30) return errf(err, RLVR_EARG, "prompt too long");
        *n = (int)len + 1;
        if (*n > cap) return errf(err, RLVR_EARG, "prompt needs %d tokens, room for %d", *n, cap);
        ids[0] = BYTES_BOS;
        bytes_encode(text, len, ids + 1);
        return RLVR_OK;
    }
    if (!chat) {
        int off = lm->add_bos ? 1 : 0, k = 0;
        if (off && cap >= 1) ids[0] = lm->bos_id;
        int rc = bpe_encode(lm->tok, text, strlen(text), 0, cap > off ? ids + off : ids, cap > off ? cap - off : 0, &k, err);
        *n = k + off;
        return rc;
    }
    if (!lm->has_chat)
        return errf(err, RLVR_ECONFIG, "%s: no known chat template (%s); pick one with chat_template=chatml|smollm2|qwen2|"
                    "qwen2.5|llama3, or use chat=false", lm->source, lm->chat_note[0] ? lm->chat_note : "none found");
    chat_msg msgs[2];
    int nm = 0;
    if (system) msgs[nm++] = (chat_msg){"system", system};
    msgs[nm++] = (chat_msg){"user", text};
    size_t need = 0;
    char small[1];
    chat_render(lm->chat_kind, msgs, nm, 1, small, sizeof small, &need, NULL);   /* sizes */
    char *buf = malloc(need + 1);
    if (!buf) return errf(err, RLVR_ENOMEM, "loaded_encode_prompt: out of memory");
    int rc = chat_render(lm->chat_kind, msgs, nm, 1, buf, need + 1, &need, err);
    if (!rc) rc = bpe_encode(lm->tok, buf, need, 1, ids, cap, n, err);
    free(buf);
    return rc;
}

int loaded_is_stop(const loaded_model *lm, int id) {
    for (int i = 0; i < lm->n_stop; i++)
        if (lm->stop_ids[i] == id) return 1;
    return 0;
}

const char *loaded_token_text(void *ud, int id, size_t *len) {
    const loaded_model *lm = ud;
    static _Thread_local char one;
    if (lm->byte_vocab) {
        if (id < 0 || id >= 256) { *len = 0; return ""; }
        one = (char)id;
        *len = 1;
        return &one;
    }
    return bpe_token_bytes(lm->tok, id, len);
}

long loaded_decode(const loaded_model *lm, const int *ids, int n, char *out, size_t cap) {
    if (!cap) return -1;
    if (lm->byte_vocab) return (long)bytes_decode(ids, (size_t)n, out, cap);
    size_t k = 0;
    if (bpe_decode(lm->tok, ids, n, out, cap, &k)) return -1;
    return (long)k;
}

/* ---------------------------------------------------------------- describe */

typedef struct { char *p; size_t cap, at; } sbuf;

static void sb(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb(sbuf *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(s->at < s->cap ? s->p + s->at : NULL, s->at < s->cap ? s->cap - s->at : 0, fmt, ap);
    va_end(ap);
    if (w > 0) s->at += (size_t)w;
}

/* A token's text for display: quoted, control characters escaped. */
static void sb_token(sbuf *s, const loaded_model *lm, int id) {
    if (id < 0) { sb(s, "none"); return; }
    sb(s, "%d ", id);
    if (lm->byte_vocab) { sb(s, "%s", id == BYTES_BOS ? "(BOS)" : id == BYTES_EOS ? "(EOS)" : "(byte)"); return; }
    const char *t = lm->tok ? bpe_token_str(lm->tok, id) : NULL;
    if (!t) { sb(s, "(unused id)"); return; }
    sb(s, "\"");
    for (int i = 0; t[i] && i < 60; i++) {
        unsigned char ch = (unsigned char)t[i];
        if (ch == '"' || ch == '\\') sb(s, "\\%c", ch);
        else if (ch < 0x20) sb(s, "\\x%02x", ch);
        else sb(s, "%c", ch);
    }
    sb(s, "\"");
}

int model_describe(const loaded_model *lm, char *buf, size_t cap) {
    sbuf s = {buf, cap, 0};
    if (cap) buf[0] = 0;
    const model_config *c = &lm->m->cfg;
    size_t np = lm->m->n_params;
    sb(&s, "source:         %s (%s)\n", lm->source, lm->format == LOADED_GGUF ? "GGUF" : "Hugging Face directory");
    if (lm->name[0]) sb(&s, "name:           %s\n", lm->name);
    sb(&s, "architecture:   %s%s%s\n", c->arch, c->qkv_bias ? ", q/k/v biases" : "", c->qk_norm ? ", q/k RMSNorm" : "");
    sb(&s, "parameters:     %zu (%.1fM; %s)\n", np, np / 1e6, c->tie_embeddings ? "tied head counted once" : "untied head");
    sb(&s, "file tensors:   %d: %s\n", lm->n_src_tensors, lm->dtypes);
    sb(&s, "layers:         %d\n", c->n_layers);
    sb(&s, "heads:          %d query, %d key/value (head_dim %d)\n", c->n_heads, c->n_kv_heads, c->head_dim);
    sb(&s, "hidden:         %d, MLP %d (SwiGLU)\n", c->dim, c->hidden_dim);
    sb(&s, "vocab:          %d\n", c->vocab_size);
    sb(&s, "context:        %d\n", c->max_seq_len);
    sb(&s, "norm eps:       %g\n", c->norm_eps);
    sb(&s, "rope:           theta %g", c->rope_theta);
    if (c->rope_scaling == ROPE_SCALING_LLAMA3)
        sb(&s, ", llama3 scaling (factor %g, low %g, high %g, original context %d)\n", c->rope_factor,
           c->rope_low_freq_factor, c->rope_high_freq_factor, c->rope_orig_max_pos);
    else
        sb(&s, ", no scaling\n");
    sb(&s, "tied head:      %s\n", c->tie_embeddings ? "yes" : "no");
    if (lm->byte_vocab)
        sb(&s, "tokenizer:      %s, %d ids\n", lm->tok_kind, BYTES_VOCAB);
    else
        sb(&s, "tokenizer:      %s, %d ids, %d merges, pre-tokenizer %s\n", lm->tok_kind, bpe_vocab_size(lm->tok),
           bpe_n_merges(lm->tok), lm->pre);
    sb(&s, "add BOS:        %s\n", lm->add_bos ? "yes (plain prompts start with BOS)" : "no");
    if (lm->has_chat)
        sb(&s, "chat template:  %s (from %s)\n", chat_template_name(lm->chat_kind), lm->chat_source);
    else
        sb(&s, "chat template:  none (%s)\n", lm->chat_note[0] ? lm->chat_note : "not found");
    sb(&s, "bos:            "); sb_token(&s, lm, lm->bos_id); sb(&s, "\n");
    sb(&s, "eos:            "); sb_token(&s, lm, lm->eos_id); sb(&s, "\n");
    sb(&s, "end of turn:    "); sb_token(&s, lm, lm->eot_id); sb(&s, "\n");
    sb(&s, "stop ids:      ");
    for (int i = 0; i < lm->n_stop; i++) sb(&s, " %d", lm->stop_ids[i]);
    sb(&s, "\n");
    return (int)s.at;
}
