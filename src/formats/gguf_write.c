/* gguf_write.c: GGUF v3 writer (builder + model mapping). The inverse of gguf.c for
 * what rlvr holds: fp32 parameters under Hugging Face names become llama.cpp tensors
 * and keys. Nothing is quantized; 16-bit types are rounded to nearest even. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "core/fs.h"
#include "formats/dtype.h"
#include "formats/gguf.h"
#include "formats/gguf_write.h"
#include "formats/quant.h"

enum { ALIGN = 32, CHUNK = 1 << 16 };

typedef struct {
    char *name;
    int type, n_dims;
    int64_t ne[GGUF_MAX_DIMS];
    uint64_t numel;
    const float *data;
    int own;
} wtensor;

struct gguf_writer {
    unsigned char *kv;            /* serialized key/value pairs */
    size_t kv_len, kv_cap;
    char **keys;
    int n_kv, keys_cap;
    wtensor *t;
    int n_t, t_cap;
    int failed;                   /* first error code, sticky */
    rlvr_err first;
};

gguf_writer *gguf_writer_new(void) { return calloc(1, sizeof(gguf_writer)); }

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n_kv; i++) free(w->keys[i]);
    for (int i = 0; i < w->n_t; i++) {
        free(w->t[i].name);
        if (w->t[i].own) free((void *)w->t[i].data);
    }
    free(w->keys); free(w->t); free(w->kv);
    free(w);
}

static int fail(gguf_writer *w, rlvr_err *err, int code, const char *msg, const char *what) {
    if (!w->failed) {
        w->failed = code;
        errf(&w->first, code, "gguf writer: %s '%.200s'", msg, what);
    }
    if (err) *err = w->first;
    return w->failed;
}

static int put(gguf_writer *w, const void *p, size_t n) {
    if (w->kv_len + n > w->kv_cap) {
        size_t cap = w->kv_cap ? w->kv_cap : 4096;
        while (cap < w->kv_len + n) cap *= 2;
        unsigned char *q = realloc(w->kv, cap);
        if (!q) return -1;
        w->kv = q;
        w->kv_cap = cap;
    }
    memcpy(w->kv + w->kv_len, p, n);
    w->kv_len += n;
    return 0;
}
static int put_u32(gguf_writer *w, uint32_t v) { return put(w, &v, 4); }   /* little-endian hosts only */
static int put_u64(gguf_writer *w, uint64_t v) { return put(w, &v, 8); }
static int put_str(gguf_writer *w, const char *s) {
    uint64_t n = strlen(s);
    return put_u64(w, n) || put(w, s, n);
}

/* Starts a key: checks it, records it, writes the name and the value type. */
static int key_begin(gguf_writer *w, const char *key, int type, rlvr_err *err) {
    if (w->failed) { if (err) *err = w->first; return w->failed; }
    if (!key || !*key || strlen(key) >= GGUF_MAX_NAME) return fail(w, err, RLVR_EARG, "bad key", key ? key : "(null)");
    for (int i = 0; i < w->n_kv; i++)
        if (!strcmp(w->keys[i], key)) return fail(w, err, RLVR_EARG, "duplicate key", key);
    if (w->n_kv == w->keys_cap) {
        int cap = w->keys_cap ? 2 * w->keys_cap : 32;
        char **k = realloc(w->keys, (size_t)cap * sizeof *k);
        if (!k) return fail(w, err, RLVR_ENOMEM, "out of memory at key", key);
        w->keys = k;
        w->keys_cap = cap;
    }
    if (!(w->keys[w->n_kv] = strdup(key))) return fail(w, err, RLVR_ENOMEM, "out of memory at key", key);
    w->n_kv++;
    if (put_str(w, key) || put_u32(w, (uint32_t)type)) return fail(w, err, RLVR_ENOMEM, "out of memory at key", key);
    return RLVR_OK;
}

int gguf_writer_add_str(gguf_writer *w, const char *key, const char *val, rlvr_err *err) {
    int rc = key_begin(w, key, GGUF_TYPE_STRING, err);
    if (!rc && put_str(w, val ? val : "")) rc = fail(w, err, RLVR_ENOMEM, "out of memory at key", key);
    return rc;
}
int gguf_writer_add_u32(gguf_writer *w, const char *key, uint32_t val, rlvr_err *err) {
    int rc = key_begin(w, key, GGUF_TYPE_UINT32, err);
    if (!rc && put_u32(w, val)) rc = fail(w, err, RLVR_ENOMEM, "out of memory at key", key);
    return rc;
}
int gguf_writer_add_f32(gguf_writer *w, const char *key, float val, rlvr_err *err) {
    int rc = key_begin(w, key, GGUF_TYPE_FLOAT32, err);
    if (!rc && put(w, &val, 4)) rc = fail(w, err, RLVR_ENOMEM, "out of memory at key", key);
    return rc;
}
int gguf_writer_add_bool(gguf_writer *w, const char *key, int val, rlvr_err *err) {
    int rc = key_begin(w, key, GGUF_TYPE_BOOL, err);
    unsigned char b = val ? 1 : 0;
    if (!rc && put(w, &b, 1)) rc = fail(w, err, RLVR_ENOMEM, "out of memory at key", key);
    return rc;
}
int gguf_writer_add_arr_str(gguf_writer *w, const char *key, const char *const *vals, uint64_t n, rlvr_err *err) {
    int rc = key_begin(w, key, GGUF_TYPE_ARRAY, err);
    if (rc) return rc;
    if (put_u32(w, GGUF_TYPE_STRING) || put_u64(w, n)) return fail(w, err, RLVR_ENOMEM, "out of memory at key", key);
    for (uint64_t i = 0; i < n; i++) {
        if (!vals[i]) return fail(w, err, RLVR_EARG, "NULL string in array", key);
        if (put_str(w, vals[i])) return fail(w, err, RLVR_ENOMEM, "out of memory at key", key);
    }
    return RLVR_OK;
}
int gguf_writer_add_arr_i32(gguf_writer *w, const char *key, const int32_t *vals, uint64_t n, rlvr_err *err) {
    int rc = key_begin(w, key, GGUF_TYPE_ARRAY, err);
    if (rc) return rc;
    if (put_u32(w, GGUF_TYPE_INT32) || put_u64(w, n) || put(w, vals, 4 * n))
        return fail(w, err, RLVR_ENOMEM, "out of memory at key", key);
    return RLVR_OK;
}

int gguf_writer_add_tensor(gguf_writer *w, const char *name, int type, int n_dims, const int64_t *ne,
                           const float *data, int own, rlvr_err *err) {
    if (w->failed) { if (own) free((void *)data); if (err) *err = w->first; return w->failed; }
    int rc = RLVR_OK;
    if (!name || !*name || strlen(name) >= GGUF_MAX_NAME) rc = fail(w, err, RLVR_EARG, "bad tensor name", name ? name : "(null)");
    else if (type != GGML_TYPE_F32 && type != GGML_TYPE_F16 && type != GGML_TYPE_BF16)
        rc = fail(w, err, RLVR_EARG, "type must be F32, F16 or BF16 for tensor", name);
    else if (n_dims < 1 || n_dims > GGUF_MAX_DIMS) rc = fail(w, err, RLVR_EARG, "bad n_dims for tensor", name);
    for (int i = 0; !rc && i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) rc = fail(w, err, RLVR_EARG, "duplicate tensor", name);
    uint64_t numel = 1;
    for (int d = 0; !rc && d < n_dims; d++) {
        if (ne[d] < 0 || (ne[d] && numel > UINT64_MAX / 8 / (uint64_t)ne[d])) rc = fail(w, err, RLVR_EARG, "bad shape for tensor", name);
        else numel *= (uint64_t)ne[d];
    }
    if (!rc && numel && !data) rc = fail(w, err, RLVR_EARG, "no data for tensor", name);
    if (!rc && w->n_t == w->t_cap) {
        int cap = w->t_cap ? 2 * w->t_cap : 64;
        wtensor *t = realloc(w->t, (size_t)cap * sizeof *t);
        if (!t) rc = fail(w, err, RLVR_ENOMEM, "out of memory at tensor", name);
        else { w->t = t; w->t_cap = cap; }
    }
    char *copy = rc ? NULL : strdup(name);
    if (!rc && !copy) rc = fail(w, err, RLVR_ENOMEM, "out of memory at tensor", name);
    if (rc) { if (own) free((void *)data); return rc; }
    wtensor *t = &w->t[w->n_t++];
    memset(t, 0, sizeof *t);
    t->name = copy;
    t->type = type;
    t->n_dims = n_dims;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->numel = numel;
    t->data = data;
    t->own = own;
    return RLVR_OK;
}

static uint64_t pad_to(uint64_t x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }

static int write_tensor(fs_atomic *fa, const wtensor *t, void *buf, rlvr_err *err) {
    if (t->type == GGML_TYPE_F32) return fs_atomic_write(fa, t->data, t->numel * 4, err);
    for (uint64_t at = 0; at < t->numel; at += CHUNK) {
        size_t n = t->numel - at < CHUNK ? (size_t)(t->numel - at) : CHUNK;
        if (t->type == GGML_TYPE_F16) dtype_f32_to_f16_n(buf, t->data + at, n);
        else dtype_f32_to_bf16_n(buf, t->data + at, n);
        int rc = fs_atomic_write(fa, buf, n * 2, err);
        if (rc) return rc;
    }
    return RLVR_OK;
}

int gguf_writer_write(gguf_writer *w, const char *path, rlvr_err *err) {
    if (w->failed) { if (err) *err = w->first; return w->failed; }
    int has_align = 0;
    for (int i = 0; i < w->n_kv; i++) has_align |= !strcmp(w->keys[i], "general.alignment");
    if (!has_align) {
        int rc = gguf_writer_add_u32(w, "general.alignment", ALIGN, err);
        if (rc) return rc;
    }
    /* header: fixed part, keys, tensor infos */
    gguf_writer h = {0};
    uint64_t off = 0;
    int bad = put(&h, "GGUF", 4) || put_u32(&h, 3) || put_u64(&h, (uint64_t)w->n_t) || put_u64(&h, (uint64_t)w->n_kv) ||
              put(&h, w->kv, w->kv_len);
    for (int i = 0; i < w->n_t && !bad; i++) {
        const wtensor *t = &w->t[i];
        bad = put_str(&h, t->name) || put_u32(&h, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims && !bad; d++) bad = put_u64(&h, (uint64_t)t->ne[d]);
        bad = bad || put_u32(&h, (uint32_t)t->type) || put_u64(&h, off);
        off += pad_to(quant_row_bytes(t->type, t->numel));
    }
    static const unsigned char zeros[ALIGN];
    bad = bad || put(&h, zeros, pad_to(h.kv_len) - h.kv_len);
    void *buf = malloc(CHUNK * 2);
    if (bad || !buf) { free(h.kv); free(buf); return errf(err, RLVR_ENOMEM, "%s: out of memory for the GGUF header", path); }
    fs_atomic *fa = fs_atomic_open(path, err);
    if (!fa) { free(h.kv); free(buf); return err && err->code ? err->code : RLVR_EIO; }
    int rc = fs_atomic_write(fa, h.kv, h.kv_len, err);
    free(h.kv);
    for (int i = 0; i < w->n_t && !rc; i++) {
        const wtensor *t = &w->t[i];
        uint64_t nb = quant_row_bytes(t->type, t->numel);
        rc = write_tensor(fa, t, buf, err);
        if (!rc && pad_to(nb) > nb) rc = fs_atomic_write(fa, zeros, pad_to(nb) - nb, err);
    }
    free(buf);
    if (rc) { fs_atomic_abort(fa); return err_wrap(err, rc, "%s", path); }
    return fs_atomic_commit(fa, err);
}

/* ---------------------------------------------------------------- the model */

/* Hugging Face layer suffix -> llama.cpp suffix (as in gguf.c), and which rows
 * convert_hf_to_gguf.py permutes for llama (1: q with n_heads, 2: k with n_kv_heads). */
static const struct { const char *hf, *gg; int perm; } layer_names[] = {
    {"input_layernorm.weight", "attn_norm.weight", 0},
    {"self_attn.q_proj.weight", "attn_q.weight", 1},
    {"self_attn.q_proj.bias", "attn_q.bias", 1},
    {"self_attn.k_proj.weight", "attn_k.weight", 2},
    {"self_attn.k_proj.bias", "attn_k.bias", 2},
    {"self_attn.v_proj.weight", "attn_v.weight", 0},
    {"self_attn.v_proj.bias", "attn_v.bias", 0},
    {"self_attn.o_proj.weight", "attn_output.weight", 0},
    {"self_attn.q_norm.weight", "attn_q_norm.weight", 0},
    {"self_attn.k_norm.weight", "attn_k_norm.weight", 0},
    {"post_attention_layernorm.weight", "ffn_norm.weight", 0},
    {"mlp.gate_proj.weight", "ffn_gate.weight", 0},
    {"mlp.up_proj.weight", "ffn_up.weight", 0},
    {"mlp.down_proj.weight", "ffn_down.weight", 0},
};

static int gg_name(const char *hf, char *out, size_t n, int *perm) {
    *perm = 0;
    if (!strcmp(hf, "model.embed_tokens.weight")) { snprintf(out, n, "token_embd.weight"); return 0; }
    if (!strcmp(hf, "model.norm.weight")) { snprintf(out, n, "output_norm.weight"); return 0; }
    if (!strcmp(hf, "lm_head.weight")) { snprintf(out, n, "output.weight"); return 0; }
    int layer, used = 0;
    if (sscanf(hf, "model.layers.%d.%n", &layer, &used) != 1 || used == 0) return -1;
    for (size_t i = 0; i < sizeof layer_names / sizeof *layer_names; i++)
        if (!strcmp(hf + used, layer_names[i].hf)) {
            snprintf(out, n, "blk.%d.%s", layer, layer_names[i].gg);
            *perm = layer_names[i].perm;
            return 0;
        }
    return -1;
}

/* convert_hf_to_gguf.py's LlamaModel.permute: within each head of D rows, gguf row
 * 2i + s = hf row s*D/2 + i. Returns a new (rows, cols) buffer, NULL on no memory. */
static float *permute_rows(const float *w, int n_head, int D, size_t cols) {
    float *out = malloc((size_t)n_head * D * cols * sizeof *out);
    if (!out) return NULL;
    for (int h = 0; h < n_head; h++)
        for (int s = 0; s < 2; s++)
            for (int i = 0; i < D / 2; i++)
                memcpy(out + ((size_t)h * D + 2 * i + s) * cols, w + ((size_t)h * D + (size_t)s * (D / 2) + i) * cols,
                       cols * sizeof *out);
    return out;
}

/* Llama 3 rope factors as convert_hf_to_gguf.py writes rope_freqs.weight. */
static float *llama3_rope_freqs(const model_config *c) {
    int n = c->head_dim / 2;
    float *r = malloc((size_t)n * sizeof *r);
    if (!r) return NULL;
    double lo_wl = c->rope_orig_max_pos / c->rope_low_freq_factor, hi_wl = c->rope_orig_max_pos / c->rope_high_freq_factor;
    for (int i = 0; i < n; i++) {
        double wl = 2 * M_PI * pow(c->rope_theta, 2.0 * i / c->head_dim);   /* 2 pi / inv_freq */
        if (wl < hi_wl) r[i] = 1;
        else if (wl > lo_wl) r[i] = c->rope_factor;
        else {
            double s = (c->rope_orig_max_pos / wl - c->rope_low_freq_factor) / (c->rope_high_freq_factor - c->rope_low_freq_factor);
            r[i] = (float)(1 / ((1 - s) / c->rope_factor + s));
        }
    }
    return r;
}

int gguf_write_model(const char *path, const model *m, const char *name, const gguf_tok_meta *tok, int type,
                     rlvr_err *err) {
    const model_config *c = &m->cfg;
    const char *arch = c->arch;
    if (strcmp(arch, "llama") && strcmp(arch, "qwen2") && strcmp(arch, "qwen3"))
        return errf(err, RLVR_EUNSUPPORTED, "%s: architecture '%.40s' has no GGUF mapping here (llama, qwen2, qwen3)", path, arch);
    if (type != GGML_TYPE_F32 && type != GGML_TYPE_F16 && type != GGML_TYPE_BF16)
        return errf(err, RLVR_EARG, "%s: GGUF tensor type %d is not F32, F16 or BF16", path, type);
    gguf_writer *w = gguf_writer_new();
    if (!w) return errf(err, RLVR_ENOMEM, "%s: out of memory", path);
    char key[160];
#define K(k) (snprintf(key, sizeof key, "%s.%s", arch, k), key)
    gguf_writer_add_str(w, "general.architecture", arch, NULL);
    gguf_writer_add_str(w, "general.name", name && *name ? name : "rlvr model", NULL);
    gguf_writer_add_u32(w, "general.alignment", ALIGN, NULL);
    gguf_writer_add_u32(w, "general.file_type", type == GGML_TYPE_F32 ? 0 : type == GGML_TYPE_F16 ? 1 : 32, NULL);
    gguf_writer_add_u32(w, K("vocab_size"), (uint32_t)c->vocab_size, NULL);
    gguf_writer_add_u32(w, K("context_length"), (uint32_t)c->max_seq_len, NULL);
    gguf_writer_add_u32(w, K("embedding_length"), (uint32_t)c->dim, NULL);
    gguf_writer_add_u32(w, K("block_count"), (uint32_t)c->n_layers, NULL);
    gguf_writer_add_u32(w, K("feed_forward_length"), (uint32_t)c->hidden_dim, NULL);
    gguf_writer_add_u32(w, K("attention.head_count"), (uint32_t)c->n_heads, NULL);
    gguf_writer_add_u32(w, K("attention.head_count_kv"), (uint32_t)c->n_kv_heads, NULL);
    gguf_writer_add_f32(w, K("attention.layer_norm_rms_epsilon"), c->norm_eps, NULL);
    gguf_writer_add_f32(w, K("rope.freq_base"), c->rope_theta, NULL);
    gguf_writer_add_u32(w, K("rope.dimension_count"), (uint32_t)c->head_dim, NULL);
    if (c->n_heads * c->head_dim != c->dim) {
        gguf_writer_add_u32(w, K("attention.key_length"), (uint32_t)c->head_dim, NULL);
        gguf_writer_add_u32(w, K("attention.value_length"), (uint32_t)c->head_dim, NULL);
    }
#undef K
    int bos = tok ? tok->bos_id : c->bos_id, eos = tok ? tok->eos_id : c->eos_id;
    if (tok && tok->tokens) {
        gguf_writer_add_str(w, "tokenizer.ggml.model", "gpt2", NULL);
        gguf_writer_add_str(w, "tokenizer.ggml.pre", tok->pre ? tok->pre : "gpt2", NULL);
        gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", tok->tokens, (uint64_t)tok->n_tokens, NULL);
        if (tok->token_types) gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", tok->token_types, (uint64_t)tok->n_tokens, NULL);
        gguf_writer_add_arr_str(w, "tokenizer.ggml.merges", tok->merges, (uint64_t)tok->n_merges, NULL);
    }
    if (bos >= 0) gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos, NULL);
    if (eos >= 0) gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos, NULL);
    if (tok && tok->tokens) gguf_writer_add_bool(w, "tokenizer.ggml.add_bos_token", tok->add_bos, NULL);
    if (tok && tok->chat_template) gguf_writer_add_str(w, "tokenizer.chat_template", tok->chat_template, NULL);

    int rc = RLVR_OK;
    if (c->rope_scaling == ROPE_SCALING_LLAMA3) {
        float *r = llama3_rope_freqs(c);
        int64_t ne[1] = {c->head_dim / 2};
        rc = r ? gguf_writer_add_tensor(w, "rope_freqs.weight", GGML_TYPE_F32, 1, ne, r, 1, err)
               : errf(err, RLVR_ENOMEM, "%s: out of memory", path);
    }
    int permute = !strcmp(arch, "llama");
    for (int i = 0; i < m->n_tensors && !rc; i++) {
        const tensor_info *ti = &m->tensors[i];
        char gname[96];
        int perm;
        if (gg_name(ti->name, gname, sizeof gname, &perm)) {
            rc = errf(err, RLVR_EUNSUPPORTED, "%s: no llama.cpp name for tensor '%s'", path, ti->name);
            break;
        }
        int64_t ne[2] = {ti->ndim == 2 ? ti->shape[1] : ti->shape[0], ti->ndim == 2 ? ti->shape[0] : 1};
        const float *data = m->params + ti->offset;
        int own = 0;
        if (permute && perm) {
            int nh = perm == 1 ? c->n_heads : c->n_kv_heads;
            if ((int64_t)nh * c->head_dim != ti->shape[0]) {
                rc = errf(err, RLVR_EARG, "%s: tensor '%s' has %d rows, not %d heads x %d", path, ti->name, ti->shape[0], nh, c->head_dim);
                break;
            }
            if (!(data = permute_rows(data, nh, c->head_dim, ti->ndim == 2 ? (size_t)ti->shape[1] : 1))) {
                rc = errf(err, RLVR_ENOMEM, "%s: out of memory", path);
                break;
            }
            own = 1;
        }
        rc = gguf_writer_add_tensor(w, gname, ti->ndim == 1 ? GGML_TYPE_F32 : type, ti->ndim, ne, data, own, err);
    }
    if (!rc) rc = gguf_writer_write(w, path, err);
    gguf_writer_free(w);
    return rc;
}
