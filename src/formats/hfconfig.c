/* hfconfig.c: config.json -> model_config and back. Defaults mirror transformers'
 * LlamaConfig / MistralConfig / Qwen2Config / Qwen3Config (checked against the installed
 * transformers 5.x source); what rlvr cannot run exactly is refused, not approximated.
 * Not here: generation_config.json, tokenizer files, weight loading. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "core/err.h"
#include "core/fs.h"
#include "formats/hfconfig.h"
#include "formats/safetensors.h"   /* st_utf8_valid */

#define MAX_FILE (16u << 20)

typedef struct {
    const char *name;              /* for messages */
    const cJSON *root;
    rlvr_err *err;
} ctx;

/* transformers' per-class defaults for the keys rlvr reads (configuration_*.py). */
typedef struct {
    const char *type;              /* model_type */
    const char *arch;              /* model_config.arch */
    int kv_heads;                  /* num_key_value_heads when absent; 0 = num_attention_heads */
    int max_pos;                   /* max_position_embeddings when absent */
    int head_dim;                  /* head_dim when absent; 0 = hidden_size / heads */
} arch_defaults;

static const arch_defaults ARCHS[] = {
    {"llama",   "llama", 0,  2048,   0},
    {"mistral", "llama", 8,  131072, 0},
    {"qwen2",   "qwen2", 32, 32768,  0},
    {"qwen3",   "qwen3", 32, 32768,  128},
};

static const char *kind(const cJSON *v) {
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    return "invalid";
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* cJSON returns the first of duplicate keys, Python's json the last: refuse them so
 * both read the same model. Sorted, so a hostile file with a million keys stays fast. */
static int check_unique(const ctx *x, const cJSON *obj, const char *where) {
    int n = cJSON_GetArraySize(obj), rc = RLVR_OK;
    if (n < 2) return RLVR_OK;
    const char **keys = malloc((size_t)n * sizeof *keys);
    if (!keys) return errf(x->err, RLVR_ENOMEM, "%s: out of memory", x->name);
    int k = 0;
    for (const cJSON *a = obj->child; a && k < n; a = a->next) keys[k++] = a->string;
    qsort(keys, (size_t)k, sizeof *keys, cmp_str);
    for (int i = 1; i < k && !rc; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            rc = errf(x->err, RLVR_EFORMAT, "%s: key '%s%.100s' appears twice", x->name, where, keys[i]);
    free(keys);
    return rc;
}

/* The item for key, or NULL when absent or null (optional keys treat both alike). */
static const cJSON *get(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNull(v) ? NULL : v;
}

/* An integer in [lo, hi]; def when absent or null (def < lo with required=1 means the
 * key is required). JSON 5.0 is read as 5 (cJSON cannot tell them apart). */
static int get_int(const ctx *x, const cJSON *obj, const char *where, const char *key, int required,
                   long def, long lo, long hi, int *out) {
    const cJSON *v = get(obj, key);
    if (!v) {
        if (required) return errf(x->err, RLVR_ECONFIG, "%s: missing key '%s%s'", x->name, where, key);
        *out = (int)def;
        return RLVR_OK;
    }
    if (!cJSON_IsNumber(v))
        return errf(x->err, RLVR_ECONFIG, "%s: key '%s%s' is %s, not an integer", x->name, where, key, kind(v));
    double d = v->valuedouble;
    if (!(d >= (double)lo && d <= (double)hi) || d != floor(d))
        return errf(x->err, RLVR_ECONFIG, "%s: key '%s%s' (%.17g) must be an integer in [%ld, %ld]",
                    x->name, where, key, d, lo, hi);
    *out = (int)d;
    return RLVR_OK;
}

/* A finite number in (lo, hi); def when absent or null. */
static int get_float(const ctx *x, const cJSON *obj, const char *where, const char *key, double def,
                     double lo, double hi, float *out) {
    const cJSON *v = get(obj, key);
    if (!v) { *out = (float)def; return RLVR_OK; }
    if (!cJSON_IsNumber(v))
        return errf(x->err, RLVR_ECONFIG, "%s: key '%s%s' is %s, not a number", x->name, where, key, kind(v));
    double d = v->valuedouble;
    if (!(d > lo && d < hi))
        return errf(x->err, RLVR_ECONFIG, "%s: key '%s%s' (%.17g) must be in (%g, %g)", x->name, where, key, d, lo, hi);
    *out = (float)d;
    return RLVR_OK;
}

static int get_bool(const ctx *x, const char *key, int def, int *out) {
    const cJSON *v = get(x->root, key);
    if (!v) { *out = def; return RLVR_OK; }
    if (!cJSON_IsBool(v))
        return errf(x->err, RLVR_ECONFIG, "%s: key '%s' is %s, not true or false", x->name, key, kind(v));
    *out = cJSON_IsTrue(v);
    return RLVR_OK;
}

/* bos_token_id / eos_token_id: an integer, null, or a list (the first is kept: rlvr
 * has one id; the full stop list belongs in generation_config.json). -1 when absent. */
static int get_token(const ctx *x, const char *key, int vocab, int *out) {
    const cJSON *v = get(x->root, key), *first = v;
    *out = -1;
    if (!v) return RLVR_OK;
    if (cJSON_IsArray(v)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
            if (!cJSON_IsNumber(e))
                return errf(x->err, RLVR_ECONFIG, "%s: key '%s' holds %s, not an integer", x->name, key, kind(e));
        first = v->child;
        if (!first) return RLVR_OK;
    }
    if (!cJSON_IsNumber(first))
        return errf(x->err, RLVR_ECONFIG, "%s: key '%s' is %s, not an integer or a list", x->name, key, kind(v));
    double d = first->valuedouble;
    if (!(d >= 0 && d < vocab) || d != floor(d))
        return errf(x->err, RLVR_ECONFIG, "%s: key '%s' (%.17g) must be an integer token id in [0, vocab_size %d)",
                    x->name, key, d, vocab);
    *out = (int)d;
    return RLVR_OK;
}

/* partial_rotary_factor: only 1.0 (rotate the whole head) is implemented. */
static int check_partial(const ctx *x, const cJSON *obj, const char *where) {
    const cJSON *v = get(obj, "partial_rotary_factor");
    if (v && !(cJSON_IsNumber(v) && v->valuedouble == 1.0))
        return errf(x->err, RLVR_EUNSUPPORTED, "%s: key '%spartial_rotary_factor' must be 1.0 (rlvr rotates whole heads)",
                    x->name, where);
    return RLVR_OK;
}

/* RoPE, the way transformers' convert_rope_params_to_dict resolves it: the dict is
 * rope_scaling when non-empty (legacy key, wins), else rope_parameters; rope_theta comes
 * from that dict, else the top-level key, else 10000; rope_type from "rope_type", else
 * "type", else "default". */
static int parse_rope(const ctx *x, model_config *c) {
    const cJSON *r = get(x->root, "rope_scaling");
    const char *rname = "rope_scaling";
    if (!r || (cJSON_IsObject(r) && !r->child)) { r = get(x->root, "rope_parameters"); rname = "rope_parameters"; }
    if (r && !cJSON_IsObject(r))
        return errf(x->err, RLVR_ECONFIG, "%s: key '%s' is %s, not an object or null", x->name, rname, kind(r));
    /* Per-layer-type nesting ({"full_attention": {...}}) only appears with layer_types,
     * which parse_attention has already limited to full attention. */
    const cJSON *nested = r ? get(r, "full_attention") : NULL;
    if (cJSON_IsObject(nested)) r = nested;
    char where[64];
    snprintf(where, sizeof where, "%s.", rname);
    int rc;
    if (r && (rc = check_unique(x, r, where))) return rc;
    if ((rc = check_partial(x, x->root, ""))) return rc;
    if (r && (rc = check_partial(x, r, where))) return rc;

    int theta_in_dict = r && get(r, "rope_theta");
    if ((rc = get_float(x, theta_in_dict ? r : x->root, theta_in_dict ? where : "", "rope_theta",
                        10000.0, 1.0, 1e12, &c->rope_theta)))
        return rc;

    c->rope_scaling = ROPE_SCALING_NONE;
    if (!r) return RLVR_OK;
    const cJSON *type = get(r, "rope_type");
    if (!type) type = get(r, "type");
    if (type && !cJSON_IsString(type))
        return errf(x->err, RLVR_ECONFIG, "%s: key '%srope_type' is %s, not a string", x->name, where, kind(type));
    const char *t = type ? type->valuestring : "default";
    if (strcmp(t, "default") == 0) return RLVR_OK;
    if (strcmp(t, "llama3") != 0)
        return errf(x->err, RLVR_EUNSUPPORTED, "%s: key '%srope_type' is '%.40s'; rlvr supports only 'default' and 'llama3'",
                    x->name, where, t);
    c->rope_scaling = ROPE_SCALING_LLAMA3;
    static const char *const need[] = {"factor", "low_freq_factor", "high_freq_factor"};
    for (int i = 0; i < 3; i++)
        if (!get(r, need[i]))
            return errf(x->err, RLVR_ECONFIG, "%s: key '%s%s' is required for rope_type 'llama3'", x->name, where, need[i]);
    if ((rc = get_float(x, r, where, "factor", 1.0, 0.0, 1e6, &c->rope_factor)) ||
        (rc = get_float(x, r, where, "low_freq_factor", 1.0, 0.0, 1e6, &c->rope_low_freq_factor)) ||
        (rc = get_float(x, r, where, "high_freq_factor", 4.0, 0.0, 1e6, &c->rope_high_freq_factor)) ||
        (rc = get_int(x, r, where, "original_max_position_embeddings", 0, c->max_seq_len, 1,
                      HFCONFIG_MAX_POS, &c->rope_orig_max_pos)))
        return rc;
    if (!(c->rope_factor >= 1))
        return errf(x->err, RLVR_ECONFIG, "%s: key '%sfactor' (%g) must be >= 1", x->name, where, c->rope_factor);
    if (!(c->rope_high_freq_factor > c->rope_low_freq_factor))
        return errf(x->err, RLVR_ECONFIG, "%s: key '%shigh_freq_factor' (%g) must be greater than low_freq_factor (%g)",
                    x->name, where, c->rope_high_freq_factor, c->rope_low_freq_factor);
    return RLVR_OK;
}

/* Sliding-window attention is not implemented; accept it only where it cannot change
 * any attention pattern (window >= max_position_embeddings, or switched off). */
static int parse_attention(const ctx *x, const arch_defaults *a, const model_config *c) {
    const cJSON *root = x->root;
    int rc;
    const cJSON *lt = get(root, "layer_types");
    if (lt) {
        if (!cJSON_IsArray(lt))
            return errf(x->err, RLVR_ECONFIG, "%s: key 'layer_types' is %s, not an array", x->name, kind(lt));
        const cJSON *e;
        cJSON_ArrayForEach(e, lt)
            if (!cJSON_IsString(e) || strcmp(e->valuestring, "full_attention") != 0)
                return errf(x->err, RLVR_EUNSUPPORTED, "%s: key 'layer_types' holds '%.40s'; rlvr runs only "
                            "full_attention layers", x->name, cJSON_IsString(e) ? e->valuestring : kind(e));
    }
    if (strcmp(a->type, "mistral") == 0) {
        /* MistralConfig: sliding_window defaults to 4096 and is used when non-null. */
        const cJSON *sw = cJSON_GetObjectItemCaseSensitive(root, "sliding_window");
        if (cJSON_IsNull(sw)) return RLVR_OK;
        int w;
        if ((rc = get_int(x, root, "", "sliding_window", 0, 4096, 1, INT32_MAX, &w))) return rc;
        if (w < c->max_seq_len)
            return errf(x->err, RLVR_EUNSUPPORTED, "%s: key 'sliding_window' (%d%s) is below max_position_embeddings (%d); "
                        "sliding-window attention is not supported (set it to null)",
                        x->name, w, sw ? "" : ", the mistral default", c->max_seq_len);
        return RLVR_OK;
    }
    if (strcmp(a->type, "qwen2") == 0 || strcmp(a->type, "qwen3") == 0) {
        /* Qwen2/3Config: the window applies only with use_sliding_window, and only to
         * layers >= max_window_layers (default 28). */
        int use = 0, w, mwl;
        if ((rc = get_bool(x, "use_sliding_window", 0, &use))) return rc;
        if (!use || !get(root, "sliding_window")) return RLVR_OK;
        if ((rc = get_int(x, root, "", "sliding_window", 0, 4096, 1, INT32_MAX, &w)) ||
            (rc = get_int(x, root, "", "max_window_layers", 0, 28, 0, INT32_MAX, &mwl)))
            return rc;
        if (w < c->max_seq_len && mwl < c->n_layers)
            return errf(x->err, RLVR_EUNSUPPORTED, "%s: key 'use_sliding_window' is true (window %d from layer %d); "
                        "sliding-window attention is not supported", x->name, w, mwl);
    }
    return RLVR_OK;
}

/* Projection biases rlvr can represent: qwen2's fixed q/k/v biases and nothing else. */
static int parse_biases(const ctx *x, const arch_defaults *a, model_config *c) {
    int rc, b = 0;
    c->qkv_bias = strcmp(a->type, "qwen2") == 0;      /* Qwen2Attention: q/k/v bias=True, o bias=False */
    c->qk_norm = strcmp(a->type, "qwen3") == 0;       /* Qwen3Attention: q_norm, k_norm always */
    if (strcmp(a->type, "llama") == 0 || strcmp(a->type, "qwen3") == 0) {
        /* attention_bias puts biases on q, k, v AND o; model_config has no o bias. */
        if ((rc = get_bool(x, "attention_bias", 0, &b))) return rc;
        if (b) return errf(x->err, RLVR_EUNSUPPORTED, "%s: key 'attention_bias' is true (biases on q, k, v and o); "
                           "not supported for %s", x->name, a->type);
    }
    if (strcmp(a->type, "llama") == 0) {
        if ((rc = get_bool(x, "mlp_bias", 0, &b))) return rc;
        if (b) return errf(x->err, RLVR_EUNSUPPORTED, "%s: key 'mlp_bias' is true; MLP biases are not supported", x->name);
    }
    return RLVR_OK;
}

static int parse_root(const ctx *x, model_config *c) {
    const cJSON *root = x->root;
    int rc;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (!mt) return errf(x->err, RLVR_ECONFIG, "%s: missing key 'model_type'", x->name);
    if (!cJSON_IsString(mt))
        return errf(x->err, RLVR_ECONFIG, "%s: key 'model_type' is %s, not a string", x->name, kind(mt));
    const arch_defaults *a = NULL;
    for (size_t i = 0; i < sizeof ARCHS / sizeof *ARCHS; i++)
        if (strcmp(mt->valuestring, ARCHS[i].type) == 0) a = &ARCHS[i];
    if (!a)
        return errf(x->err, RLVR_EUNSUPPORTED, "%s: key 'model_type' is '%.60s'; rlvr supports llama, mistral, qwen2, qwen3",
                    x->name, mt->valuestring);
    snprintf(c->arch, sizeof c->arch, "%s", a->arch);

    const cJSON *act = get(root, "hidden_act");
    if (act && !(cJSON_IsString(act) && strcmp(act->valuestring, "silu") == 0))
        return errf(x->err, RLVR_EUNSUPPORTED, "%s: key 'hidden_act' is '%.40s'; rlvr supports only 'silu'",
                    x->name, cJSON_IsString(act) ? act->valuestring : kind(act));

    if ((rc = get_int(x, root, "", "vocab_size", 1, 0, 1, HFCONFIG_MAX_VOCAB - 1, &c->vocab_size)) ||
        (rc = get_int(x, root, "", "hidden_size", 1, 0, 1, HFCONFIG_MAX_DIM - 1, &c->dim)) ||
        (rc = get_int(x, root, "", "intermediate_size", 1, 0, 1, HFCONFIG_MAX_DIM - 1, &c->hidden_dim)) ||
        (rc = get_int(x, root, "", "num_hidden_layers", 1, 0, 1, HFCONFIG_MAX_LAYERS - 1, &c->n_layers)) ||
        (rc = get_int(x, root, "", "num_attention_heads", 1, 0, 1, HFCONFIG_MAX_HEADS - 1, &c->n_heads)))
        return rc;
    /* An explicit null means "same as num_attention_heads" in every class. */
    int kv_default = cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "num_key_value_heads")) || !a->kv_heads
                   ? c->n_heads : a->kv_heads;
    int hd_default = a->head_dim ? a->head_dim : c->dim / c->n_heads;
    if ((rc = get_int(x, root, "", "num_key_value_heads", 0, kv_default, 1, HFCONFIG_MAX_HEADS - 1, &c->n_kv_heads)) ||
        (rc = get_int(x, root, "", "head_dim", 0, hd_default, 1, HFCONFIG_MAX_DIM - 1, &c->head_dim)) ||
        (rc = get_int(x, root, "", "max_position_embeddings", 0, a->max_pos, 1, HFCONFIG_MAX_POS, &c->max_seq_len)) ||
        (rc = get_float(x, root, "", "rms_norm_eps", 1e-6, 0.0, 1.0, &c->norm_eps)) ||
        (rc = get_bool(x, "tie_word_embeddings", 0, &c->tie_embeddings)))
        return rc;
    if (!get(root, "num_key_value_heads") && a->kv_heads && c->n_kv_heads != c->n_heads &&
        c->n_heads % c->n_kv_heads != 0)
        return errf(x->err, RLVR_ECONFIG, "%s: key 'num_key_value_heads' is absent and the %s default (%d) "
                    "does not divide num_attention_heads (%d)", x->name, a->type, a->kv_heads, c->n_heads);
    /* LlamaConfig.validate_architecture refuses this even when head_dim is given. */
    if (strcmp(a->type, "llama") == 0 && c->dim % c->n_heads != 0)
        return errf(x->err, RLVR_ECONFIG, "%s: key 'hidden_size' (%d) must be a multiple of num_attention_heads (%d) for llama",
                    x->name, c->dim, c->n_heads);
    if ((rc = parse_rope(x, c)) || (rc = parse_attention(x, a, c)) || (rc = parse_biases(x, a, c)) ||
        (rc = get_token(x, "bos_token_id", c->vocab_size, &c->bos_id)) ||
        (rc = get_token(x, "eos_token_id", c->vocab_size, &c->eos_id)))
        return rc;
    return hfconfig_validate(c, x->name, x->err);
}

int hfconfig_parse(const char *text, size_t n, const char *name, model_config *out, rlvr_err *err) {
    if (!name) name = "config.json";
    if (!out || (!text && n)) return errf(err, RLVR_EARG, "%s: hfconfig_parse: NULL argument", name);
    memset(out, 0, sizeof *out);
    size_t bad;
    if (!st_utf8_valid(text, n, &bad))
        return errf(err, RLVR_EFORMAT, "%s: not valid UTF-8 at byte %zu", name, bad);
    if (n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)   /* Python's json.loads refuses a BOM too */
        return errf(err, RLVR_EFORMAT, "%s: starts with a UTF-8 byte order mark", name);
    /* cJSON gets a NUL-terminated heap copy, so no parser slip can read past text. */
    char *copy = malloc(n + 1);
    if (!copy) return errf(err, RLVR_ENOMEM, "%s: out of memory", name);
    if (n) memcpy(copy, text, n);
    copy[n] = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(copy, n, &end, 0);
    if (!root) {
        size_t at = end && end >= copy && end <= copy + n ? (size_t)(end - copy) : 0;
        free(copy);
        return errf(err, RLVR_EFORMAT, "%s: not valid JSON (error near byte %zu)", name, at);
    }
    int rc = RLVR_OK;
    for (const char *q = end; q < copy + n && !rc; q++)
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r')
            rc = errf(err, RLVR_EFORMAT, "%s: bytes after the JSON value at byte %zu", name, (size_t)(q - copy));
    ctx x = {name, root, err};
    if (!rc && !cJSON_IsObject(root)) rc = errf(err, RLVR_EFORMAT, "%s: top level is %s, not an object", name, kind(root));
    if (!rc) rc = check_unique(&x, root, "");
    if (!rc) rc = parse_root(&x, out);
    cJSON_Delete(root);
    free(copy);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

int hfconfig_load(const char *path, model_config *out, rlvr_err *err) {
    if (!path || !out) return errf(err, RLVR_EARG, "hfconfig_load: NULL argument");
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errf(err, RLVR_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    const char *why = fstat(fd, &sb) != 0 ? strerror(errno)
                    : !S_ISREG(sb.st_mode) ? "not a regular file"
                    : sb.st_size > MAX_FILE ? "larger than 16 MiB; not a config.json" : NULL;
    if (why) {
        close(fd);
        return errf(err, RLVR_EIO, "%s: %s", path, why);
    }
    size_t n = (size_t)sb.st_size, got = 0;
    char *buf = malloc(n + 1);
    if (!buf) { close(fd); return errf(err, RLVR_ENOMEM, "%s: out of memory", path); }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    int e = errno;
    close(fd);
    int rc = got == n ? hfconfig_parse(buf, n, path, out, err)
                      : errf(err, RLVR_EIO, "%s: read failed: %s", path, got < n ? strerror(e) : "short read");
    free(buf);
    return rc;
}

int hfconfig_validate(const model_config *c, const char *name, rlvr_err *err) {
    if (!name) name = "model_config";
    if (!c) return errf(err, RLVR_EARG, "%s: NULL model_config", name);
    if (strcmp(c->arch, "llama") != 0 && strcmp(c->arch, "qwen2") != 0 && strcmp(c->arch, "qwen3") != 0)
        return errf(err, RLVR_EUNSUPPORTED, "%s: arch '%.32s' is not llama, qwen2 or qwen3", name, c->arch);
    struct { const char *key; int v, lo, hi; } r[] = {
        {"vocab_size", c->vocab_size, 1, HFCONFIG_MAX_VOCAB - 1},
        {"hidden_size", c->dim, 1, HFCONFIG_MAX_DIM - 1},
        {"intermediate_size", c->hidden_dim, 1, HFCONFIG_MAX_DIM - 1},
        {"num_hidden_layers", c->n_layers, 1, HFCONFIG_MAX_LAYERS - 1},
        {"num_attention_heads", c->n_heads, 1, HFCONFIG_MAX_HEADS - 1},
        {"num_key_value_heads", c->n_kv_heads, 1, HFCONFIG_MAX_HEADS - 1},
        {"head_dim", c->head_dim, 2, HFCONFIG_MAX_DIM - 1},
        {"max_position_embeddings", c->max_seq_len, 1, HFCONFIG_MAX_POS},
    };
    for (size_t i = 0; i < sizeof r / sizeof *r; i++)
        if (r[i].v < r[i].lo || r[i].v > r[i].hi)
            return errf(err, RLVR_ECONFIG, "%s: key '%s' (%d) must be in [%d, %d]", name, r[i].key, r[i].v, r[i].lo, r[i].hi);
    if (c->n_heads % c->n_kv_heads != 0)
        return errf(err, RLVR_ECONFIG, "%s: key 'num_key_value_heads' (%d) must divide num_attention_heads (%d)",
                    name, c->n_kv_heads, c->n_heads);
    if (c->head_dim % 2 != 0)
        return errf(err, RLVR_ECONFIG, "%s: key 'head_dim' (%d) must be even (RoPE rotates pairs)", name, c->head_dim);
    if ((long long)c->n_heads * c->head_dim >= HFCONFIG_MAX_DIM)
        return errf(err, RLVR_ECONFIG, "%s: num_attention_heads * head_dim (%lld) must be below %d",
                    name, (long long)c->n_heads * c->head_dim, HFCONFIG_MAX_DIM);
    if (!(c->norm_eps > 0 && c->norm_eps < 1))
        return errf(err, RLVR_ECONFIG, "%s: key 'rms_norm_eps' (%g) must be in (0, 1)", name, c->norm_eps);
    if (!(c->rope_theta > 1 && c->rope_theta < 1e12f))
        return errf(err, RLVR_ECONFIG, "%s: key 'rope_theta' (%g) must be in (1, 1e12)", name, c->rope_theta);
    if (c->rope_scaling == ROPE_SCALING_LLAMA3) {
        if (!(c->rope_factor >= 1 && c->rope_factor < 1e6f) || !(c->rope_low_freq_factor > 0) ||
            !(c->rope_high_freq_factor > c->rope_low_freq_factor && c->rope_high_freq_factor < 1e6f) ||
            c->rope_orig_max_pos < 1 || c->rope_orig_max_pos > HFCONFIG_MAX_POS)
            return errf(err, RLVR_ECONFIG, "%s: rope_scaling llama3 needs factor >= 1, 0 < low_freq_factor < "
                        "high_freq_factor and original_max_position_embeddings in [1, %d]", name, HFCONFIG_MAX_POS);
    } else if (c->rope_scaling != ROPE_SCALING_NONE) {
        return errf(err, RLVR_EUNSUPPORTED, "%s: rope_scaling %d is not supported", name, c->rope_scaling);
    }
    int qwen2 = strcmp(c->arch, "qwen2") == 0, qwen3 = strcmp(c->arch, "qwen3") == 0;
    if (c->qkv_bias != qwen2 || c->qk_norm != qwen3)
        return errf(err, RLVR_EUNSUPPORTED, "%s: %s with qkv_bias=%d qk_norm=%d has no Hugging Face equivalent "
                    "(qwen2: bias 1 norm 0, qwen3: 0 1, llama: 0 0)", name, c->arch, c->qkv_bias, c->qk_norm);
    if (c->tie_embeddings != 0 && c->tie_embeddings != 1)
        return errf(err, RLVR_ECONFIG, "%s: tie_embeddings (%d) must be 0 or 1", name, c->tie_embeddings);
    if (c->bos_id < -1 || c->bos_id >= c->vocab_size || c->eos_id < -1 || c->eos_id >= c->vocab_size)
        return errf(err, RLVR_ECONFIG, "%s: bos_token_id (%d) and eos_token_id (%d) must be -1 or in [0, %d)",
                    name, c->bos_id, c->eos_id, c->vocab_size);
    /* Parameter count, in 64 bits: each factor is capped above, so no product overflows. */
    uint64_t V = (uint64_t)c->vocab_size, C = (uint64_t)c->dim, F = (uint64_t)c->hidden_dim;
    uint64_t q = (uint64_t)c->n_heads * (uint64_t)c->head_dim, kv = (uint64_t)c->n_kv_heads * (uint64_t)c->head_dim;
    uint64_t layer = C * q + 2 * C * kv + q * C + 3 * C * F + 2 * C + (uint64_t)c->qkv_bias * (q + 2 * kv)
                   + (uint64_t)c->qk_norm * 2 * (uint64_t)c->head_dim;
    uint64_t total = V * C * (c->tie_embeddings ? 1 : 2) + C + (uint64_t)c->n_layers * layer;
    if (total > HFCONFIG_MAX_PARAMS)
        return errf(err, RLVR_ECONFIG, "%s: %llu parameters is over the sanity cap of %llu", name,
                    (unsigned long long)total, (unsigned long long)HFCONFIG_MAX_PARAMS);
    return RLVR_OK;
}

/* ---------------------------------------------------------------- writing */

/* The shortest decimal that reads back as the same float, always with a '.' or an
 * exponent: transformers' strict config classes refuse an int where a float belongs. */
static cJSON *json_float(float v) {
    char buf[48];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    if (!strpbrk(buf, ".eE")) strcat(buf, ".0");
    return cJSON_CreateRaw(buf);
}

static int add(cJSON *obj, const char *key, cJSON *v) {
    if (v && cJSON_AddItemToObject(obj, key, v)) return 1;
    cJSON_Delete(v);
    return 0;
}

static cJSON *json_token(int id) { return id < 0 ? cJSON_CreateNull() : cJSON_CreateNumber(id); }

char *hfconfig_to_json(const model_config *c) {
    if (hfconfig_validate(c, NULL, NULL) != RLVR_OK) return NULL;
    int llama = strcmp(c->arch, "llama") == 0, qwen2 = strcmp(c->arch, "qwen2") == 0;
    const char *cls = llama ? "LlamaForCausalLM" : qwen2 ? "Qwen2ForCausalLM" : "Qwen3ForCausalLM";
    cJSON *root = cJSON_CreateObject();
    cJSON *archs = root ? cJSON_AddArrayToObject(root, "architectures") : NULL, *name = cJSON_CreateString(cls);
    int ok = archs && name && cJSON_AddItemToArray(archs, name);
    if (!ok) cJSON_Delete(name);
    ok = ok && add(root, "model_type", cJSON_CreateString(c->arch))
            && add(root, "vocab_size", cJSON_CreateNumber(c->vocab_size))
            && add(root, "hidden_size", cJSON_CreateNumber(c->dim))
            && add(root, "intermediate_size", cJSON_CreateNumber(c->hidden_dim))
            && add(root, "num_hidden_layers", cJSON_CreateNumber(c->n_layers))
            && add(root, "num_attention_heads", cJSON_CreateNumber(c->n_heads))
            && add(root, "num_key_value_heads", cJSON_CreateNumber(c->n_kv_heads))
            && add(root, "head_dim", cJSON_CreateNumber(c->head_dim))
            && add(root, "hidden_act", cJSON_CreateString("silu"))
            && add(root, "max_position_embeddings", cJSON_CreateNumber(c->max_seq_len))
            && add(root, "rms_norm_eps", json_float(c->norm_eps))
            && add(root, "rope_theta", json_float(c->rope_theta));
    if (ok && c->rope_scaling == ROPE_SCALING_LLAMA3) {
        cJSON *r = cJSON_CreateObject();
        ok = add(root, "rope_scaling", r)
             && add(r, "rope_type", cJSON_CreateString("llama3"))
             && add(r, "factor", json_float(c->rope_factor))
             && add(r, "low_freq_factor", json_float(c->rope_low_freq_factor))
             && add(r, "high_freq_factor", json_float(c->rope_high_freq_factor))
             && add(r, "original_max_position_embeddings", cJSON_CreateNumber(c->rope_orig_max_pos));
    } else {
        ok = ok && add(root, "rope_scaling", cJSON_CreateNull());
    }
    ok = ok && add(root, "tie_word_embeddings", cJSON_CreateBool(c->tie_embeddings));
    if (!qwen2) ok = ok && add(root, "attention_bias", cJSON_CreateFalse());
    if (llama) ok = ok && add(root, "mlp_bias", cJSON_CreateFalse());
    else ok = ok && add(root, "use_sliding_window", cJSON_CreateFalse());
    ok = ok && add(root, "bos_token_id", json_token(c->bos_id))
            && add(root, "eos_token_id", json_token(c->eos_id));
    char *out = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!out) return NULL;
    /* cJSON_Print's buffer comes from cJSON's allocator (malloc unless hooked); copy so
     * the caller can free() it whatever hooks are installed, and end with a newline. */
    size_t n = strlen(out);
    char *s = malloc(n + 2);
    if (s) { memcpy(s, out, n); s[n] = '\n'; s[n + 1] = 0; }
    cJSON_free(out);
    return s;
}


int hfconfig_save(const char *path, const model_config *c, rlvr_err *err) {
    if (!path || !c) return errf(err, RLVR_EARG, "hfconfig_save: NULL argument");
    int rc = hfconfig_validate(c, path, err);
    if (rc) return rc;
    char *s = hfconfig_to_json(c);
    if (!s) return errf(err, RLVR_ENOMEM, "%s: out of memory building config.json", path);
    rc = fs_write_atomic(path, s, strlen(s), err);
    free(s);
    return rc;
}
