/* test_hfconfig.c: config.json parsing for real model configs (SmolLM2, Qwen2.5, Qwen3,
 * Llama 3.2, Mistral, transformers-5 style rope_parameters), transformers' defaults,
 * write/read round trips, and every rejection path with its code and message. */
#include <dirent.h>
#include <unistd.h>
#include "check.h"
#include "core/err.h"
#include "formats/hfconfig.h"

static char dir[64];

/* SmolLM2-135M-Instruct's config.json as published. */
static const char *SMOLLM2 =
    "{\n"
    "  \"architectures\": [\"LlamaForCausalLM\"],\n"
    "  \"attention_bias\": false,\n"
    "  \"attention_dropout\": 0.0,\n"
    "  \"bos_token_id\": 1,\n"
    "  \"eos_token_id\": 2,\n"
    "  \"hidden_act\": \"silu\",\n"
    "  \"hidden_size\": 576,\n"
    "  \"initializer_range\": 0.041666666666666664,\n"
    "  \"intermediate_size\": 1536,\n"
    "  \"is_llama_config\": true,\n"
    "  \"max_position_embeddings\": 8192,\n"
    "  \"mlp_bias\": false,\n"
    "  \"model_type\": \"llama\",\n"
    "  \"num_attention_heads\": 9,\n"
    "  \"num_hidden_layers\": 30,\n"
    "  \"num_key_value_heads\": 3,\n"
    "  \"pad_token_id\": 2,\n"
    "  \"pretraining_tp\": 1,\n"
    "  \"rms_norm_eps\": 1e-05,\n"
    "  \"rope_interleaved\": false,\n"
    "  \"rope_scaling\": null,\n"
    "  \"rope_theta\": 100000,\n"
    "  \"tie_word_embeddings\": true,\n"
    "  \"torch_dtype\": \"bfloat16\",\n"
    "  \"transformers.js_config\": {\"kv_cache_dtype\": {\"q4f16\": \"float16\", \"fp16\": \"float16\"}},\n"
    "  \"transformers_version\": \"4.42.3\",\n"
    "  \"use_cache\": true,\n"
    "  \"vocab_size\": 49152\n"
    "}\n";

/* Qwen2.5-0.5B-Instruct */
static const char *QWEN25 =
    "{\"architectures\": [\"Qwen2ForCausalLM\"], \"attention_dropout\": 0.0, \"bos_token_id\": 151643,"
    " \"eos_token_id\": 151645, \"hidden_act\": \"silu\", \"hidden_size\": 896, \"initializer_range\": 0.02,"
    " \"intermediate_size\": 4864, \"max_position_embeddings\": 32768, \"max_window_layers\": 21,"
    " \"model_type\": \"qwen2\", \"num_attention_heads\": 14, \"num_hidden_layers\": 24,"
    " \"num_key_value_heads\": 2, \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0,"
    " \"sliding_window\": 32768, \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\","
    " \"transformers_version\": \"4.43.1\", \"use_cache\": true, \"use_sliding_window\": false,"
    " \"vocab_size\": 151936}";

/* Qwen3-0.6B */
static const char *QWEN3 =
    "{\"architectures\": [\"Qwen3ForCausalLM\"], \"attention_bias\": false, \"attention_dropout\": 0.0,"
    " \"bos_token_id\": 151643, \"eos_token_id\": 151645, \"head_dim\": 128, \"hidden_act\": \"silu\","
    " \"hidden_size\": 1024, \"initializer_range\": 0.02, \"intermediate_size\": 3072,"
    " \"max_position_embeddings\": 40960, \"max_window_layers\": 28, \"model_type\": \"qwen3\","
    " \"num_attention_heads\": 16, \"num_hidden_layers\": 28, \"num_key_value_heads\": 8,"
    " \"rms_norm_eps\": 1e-06, \"rope_scaling\": null, \"rope_theta\": 1000000, \"sliding_window\": null,"
    " \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\", \"transformers_version\": \"4.51.0\","
    " \"use_cache\": true, \"use_sliding_window\": false, \"vocab_size\": 151936}";

/* Llama-3.2-1B-Instruct */
static const char *LLAMA32 =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"attention_bias\": false, \"attention_dropout\": 0.0,"
    " \"bos_token_id\": 128000, \"eos_token_id\": [128001, 128008, 128009], \"head_dim\": 64,"
    " \"hidden_act\": \"silu\", \"hidden_size\": 2048, \"initializer_range\": 0.02,"
    " \"intermediate_size\": 8192, \"max_position_embeddings\": 131072, \"mlp_bias\": false,"
    " \"model_type\": \"llama\", \"num_attention_heads\": 32, \"num_hidden_layers\": 16,"
    " \"num_key_value_heads\": 8, \"pretraining_tp\": 1, \"rms_norm_eps\": 1e-05,"
    " \"rope_scaling\": {\"factor\": 32.0, \"high_freq_factor\": 4.0, \"low_freq_factor\": 1.0,"
    " \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"},"
    " \"rope_theta\": 500000.0, \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\","
    " \"transformers_version\": \"4.45.0.dev0\", \"use_cache\": true, \"vocab_size\": 128256}";

static int parse(const char *json, model_config *c, rlvr_err *e) {
    return hfconfig_parse(json, strlen(json), "x/config.json", c, e);
}

static void test_smollm2(void) {
    model_config c;
    rlvr_err e = {0};
    CHECK(parse(SMOLLM2, &c, &e) == RLVR_OK, "%s", e.msg);
    CHECK(strcmp(c.arch, "llama") == 0, "arch %s", c.arch);
    CHECK(c.vocab_size == 49152 && c.dim == 576 && c.hidden_dim == 1536 && c.n_layers == 30, "sizes");
    CHECK(c.n_heads == 9 && c.n_kv_heads == 3 && c.head_dim == 64, "heads %d %d %d", c.n_heads, c.n_kv_heads, c.head_dim);
    CHECK(c.max_seq_len == 8192 && c.norm_eps == 1e-5f && c.rope_theta == 100000.0f, "eps/theta");
    CHECK(c.rope_scaling == ROPE_SCALING_NONE && c.tie_embeddings == 1, "rope/tie");
    CHECK(c.qkv_bias == 0 && c.qk_norm == 0 && c.bos_id == 1 && c.eos_id == 2, "bias/ids");
}

static void test_qwen25(void) {
    model_config c;
    rlvr_err e = {0};
    CHECK(parse(QWEN25, &c, &e) == RLVR_OK, "%s", e.msg);
    CHECK(strcmp(c.arch, "qwen2") == 0 && c.vocab_size == 151936 && c.dim == 896 && c.hidden_dim == 4864, "sizes");
    CHECK(c.n_layers == 24 && c.n_heads == 14 && c.n_kv_heads == 2 && c.head_dim == 64, "heads");
    CHECK(c.qkv_bias == 1 && c.qk_norm == 0, "qwen2 has q/k/v biases");
    CHECK(c.rope_theta == 1e6f && c.norm_eps == 1e-6f && c.tie_embeddings && c.eos_id == 151645, "rest");
}

static void test_qwen3(void) {
    model_config c;
    rlvr_err e = {0};
    CHECK(parse(QWEN3, &c, &e) == RLVR_OK, "%s", e.msg);
    CHECK(strcmp(c.arch, "qwen3") == 0 && c.dim == 1024 && c.n_heads == 16 && c.n_kv_heads == 8, "sizes");
    CHECK(c.head_dim == 128, "head_dim 128 (not hidden/heads = 64)");
    CHECK(c.qkv_bias == 0 && c.qk_norm == 1 && c.max_seq_len == 40960, "qk_norm");
}

static void test_llama32(void) {
    model_config c;
    rlvr_err e = {0};
    CHECK(parse(LLAMA32, &c, &e) == RLVR_OK, "%s", e.msg);
    CHECK(c.rope_scaling == ROPE_SCALING_LLAMA3 && c.rope_factor == 32.0f && c.rope_low_freq_factor == 1.0f, "llama3");
    CHECK(c.rope_high_freq_factor == 4.0f && c.rope_orig_max_pos == 8192 && c.rope_theta == 500000.0f, "llama3 rest");
    CHECK(c.bos_id == 128000 && c.eos_id == 128001, "eos list: first kept (%d)", c.eos_id);
    CHECK(c.head_dim == 64 && c.n_kv_heads == 8 && c.max_seq_len == 131072, "dims");
}

/* transformers 5 writes rope_parameters (theta inside); legacy rope_scaling wins when both. */
static void test_rope_variants(void) {
    model_config c;
    rlvr_err e = {0};
    const char *v5 = "{\"model_type\":\"llama\",\"vocab_size\":1000,\"hidden_size\":64,\"intermediate_size\":128,"
        "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"max_position_embeddings\":4096,"
        "\"rope_parameters\":{\"rope_type\":\"llama3\",\"rope_theta\":500000.0,\"factor\":8.0,"
        "\"low_freq_factor\":1.0,\"high_freq_factor\":4.0}}";
    CHECK(parse(v5, &c, &e) == RLVR_OK, "%s", e.msg);
    CHECK(c.rope_scaling == ROPE_SCALING_LLAMA3 && c.rope_theta == 500000.0f && c.rope_factor == 8.0f, "rope_parameters");
    CHECK(c.rope_orig_max_pos == 4096, "original_max_position_embeddings defaults to max_position_embeddings");
    const char *both = "{\"model_type\":\"llama\",\"vocab_size\":1000,\"hidden_size\":64,\"intermediate_size\":128,"
        "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"rope_theta\":10000.0,"
        "\"rope_scaling\":{\"type\":\"llama3\",\"factor\":2.0,\"low_freq_factor\":1.0,\"high_freq_factor\":2.0,"
        "\"original_max_position_embeddings\":1024,\"rope_theta\":77.0},"
        "\"rope_parameters\":{\"rope_type\":\"default\",\"rope_theta\":5.0}}";
    CHECK(parse(both, &c, &e) == RLVR_OK, "%s", e.msg);
    CHECK(c.rope_scaling == ROPE_SCALING_LLAMA3 && c.rope_theta == 77.0f && c.rope_orig_max_pos == 1024, "rope_scaling wins, 'type' works");
    const char *dflt = "{\"model_type\":\"qwen2\",\"vocab_size\":1000,\"hidden_size\":64,\"intermediate_size\":128,"
        "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,"
        "\"rope_parameters\":{\"rope_type\":\"default\",\"rope_theta\":1000000.0}}";
    CHECK(parse(dflt, &c, &e) == RLVR_OK && c.rope_scaling == ROPE_SCALING_NONE && c.rope_theta == 1e6f, "default type: %s", e.msg);
    const char *nested = "{\"model_type\":\"qwen3\",\"vocab_size\":1000,\"hidden_size\":64,\"intermediate_size\":128,"
        "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"head_dim\":16,"
        "\"layer_types\":[\"full_attention\",\"full_attention\"],"
        "\"rope_parameters\":{\"full_attention\":{\"rope_type\":\"default\",\"rope_theta\":123.0}}}";
    CHECK(parse(nested, &c, &e) == RLVR_OK && c.rope_theta == 123.0f, "nested by layer type: %s", e.msg);
}

/* Keys left out take the config class defaults of transformers. */
static void test_defaults(void) {
    model_config c;
    rlvr_err e = {0};
    const char *llama = "{\"model_type\":\"llama\",\"vocab_size\":1000,\"hidden_size\":64,\"intermediate_size\":128,"
                        "\"num_hidden_layers\":2,\"num_attention_heads\":4}";
    CHECK(parse(llama, &c, &e) == RLVR_OK, "%s", e.msg);
    CHECK(c.n_kv_heads == 4 && c.head_dim == 16 && c.max_seq_len == 2048, "llama kv/head_dim/max_pos");
    CHECK(c.norm_eps == 1e-6f && c.rope_theta == 10000.0f && c.tie_embeddings == 0, "llama eps/theta/tie");
    CHECK(c.bos_id == -1 && c.eos_id == -1 && c.rope_scaling == ROPE_SCALING_NONE, "ids absent -> -1");
    const char *qwen3 = "{\"model_type\":\"qwen3\",\"vocab_size\":1000,\"hidden_size\":64,\"intermediate_size\":128,"
                        "\"num_hidden_layers\":2,\"num_attention_heads\":32}";
    CHECK(parse(qwen3, &c, &e) == RLVR_OK, "%s", e.msg);
    CHECK(c.head_dim == 128 && c.n_kv_heads == 32 && c.max_seq_len == 32768 && c.qk_norm, "qwen3 defaults");
    const char *qwen2 = "{\"model_type\":\"qwen2\",\"vocab_size\":1000,\"hidden_size\":64,\"intermediate_size\":128,"
                        "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":null,\"head_dim\":null}";
    CHECK(parse(qwen2, &c, &e) == RLVR_OK && c.n_kv_heads == 4 && c.head_dim == 16, "null kv heads -> heads: %s", e.msg);
    const char *mistral = "{\"model_type\":\"mistral\",\"vocab_size\":32768,\"hidden_size\":4096,\"intermediate_size\":14336,"
                          "\"num_hidden_layers\":32,\"num_attention_heads\":32,\"sliding_window\":null,\"head_dim\":128}";
    CHECK(parse(mistral, &c, &e) == RLVR_OK, "%s", e.msg);
    CHECK(strcmp(c.arch, "llama") == 0 && c.n_kv_heads == 8 && c.max_seq_len == 131072, "mistral as llama");
    const char *mistral_big_window = "{\"model_type\":\"mistral\",\"vocab_size\":1000,\"hidden_size\":64,\"intermediate_size\":128,"
        "\"num_hidden_layers\":2,\"num_attention_heads\":8,\"max_position_embeddings\":4096,\"sliding_window\":4096}";
    CHECK(parse(mistral_big_window, &c, &e) == RLVR_OK, "window >= max_pos is no window: %s", e.msg);
    CHECK(parse(" {\"model_type\":\"llama\",\"vocab_size\":1000,\"hidden_size\":64,\"intermediate_size\":128,"
                "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"eos_token_id\":[]} \n", &c, &e) == RLVR_OK
          && c.eos_id == -1, "empty eos list, outer whitespace: %s", e.msg);
}

static int same(const model_config *a, const model_config *b) {
    return strcmp(a->arch, b->arch) == 0 && a->vocab_size == b->vocab_size && a->dim == b->dim &&
           a->hidden_dim == b->hidden_dim && a->n_layers == b->n_layers && a->n_heads == b->n_heads &&
           a->n_kv_heads == b->n_kv_heads && a->head_dim == b->head_dim && a->max_seq_len == b->max_seq_len &&
           a->norm_eps == b->norm_eps && a->rope_theta == b->rope_theta && a->rope_scaling == b->rope_scaling &&
           a->rope_factor == b->rope_factor && a->rope_low_freq_factor == b->rope_low_freq_factor &&
           a->rope_high_freq_factor == b->rope_high_freq_factor && a->rope_orig_max_pos == b->rope_orig_max_pos &&
           a->tie_embeddings == b->tie_embeddings && a->qkv_bias == b->qkv_bias && a->qk_norm == b->qk_norm &&
           a->bos_id == b->bos_id && a->eos_id == b->eos_id;
}

static void test_round_trip(void) {
    const char *srcs[] = {SMOLLM2, QWEN25, QWEN3, LLAMA32};
    rlvr_err e = {0};
    char path[128];
    snprintf(path, sizeof path, "%s/config.json", dir);
    for (int i = 0; i < 4; i++) {
        model_config a, b, c;
        CHECK(parse(srcs[i], &a, &e) == RLVR_OK, "%s", e.msg);
        char *js = hfconfig_to_json(&a);
        CHECK(js != NULL, "to_json %d", i);
        if (!js) continue;
        CHECK(parse(js, &b, &e) == RLVR_OK && same(&a, &b), "json round trip %d: %s", i, e.msg);
        CHECK(strstr(js, "\"rms_norm_eps\":") && !strstr(js, "9.99999"), "eps printed short: %s", js);
        CHECK(strstr(js, i == 1 ? "Qwen2ForCausalLM" : i == 2 ? "Qwen3ForCausalLM" : "LlamaForCausalLM"), "architectures");
        free(js);
        CHECK(hfconfig_save(path, &a, &e) == RLVR_OK, "save: %s", e.msg);
        CHECK(hfconfig_load(path, &c, &e) == RLVR_OK && same(&a, &c), "file round trip %d: %s", i, e.msg);
    }
    /* odd floats survive exactly */
    model_config a, b;
    CHECK(parse(SMOLLM2, &a, &e) == RLVR_OK, "%s", e.msg);
    a.norm_eps = 1.2345678e-7f; a.rope_theta = 12345.679f; a.eos_id = -1; a.bos_id = -1; a.tie_embeddings = 0;
    char *js = hfconfig_to_json(&a);
    CHECK(js && parse(js, &b, &e) == RLVR_OK && same(&a, &b), "odd floats: %s", e.msg);
    CHECK(js && strstr(js, "\"eos_token_id\":\tnull"), "absent eos written as null: %s", js ? js : "");
    free(js);
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *x; d && (x = readdir(d));) n += x->d_name[0] != '.';
    if (d) closedir(d);
    CHECK(n == 1, "temp files left behind (%d entries)", n);
}

static void test_write_rejects(void) {
    model_config c;
    rlvr_err e = {0};
    CHECK(parse(QWEN25, &c, &e) == RLVR_OK, "%s", e.msg);
    model_config bad = c;
    bad.qkv_bias = 0;
    CHECK(hfconfig_to_json(&bad) == NULL, "qwen2 without biases has no HF form");
    CHECK(hfconfig_validate(&bad, NULL, &e) == RLVR_EUNSUPPORTED && strstr(e.msg, "no Hugging Face equivalent"), "%s", e.msg);
    bad = c; bad.n_kv_heads = 3;
    CHECK(hfconfig_save("/tmp/never-written.json", &bad, &e) == RLVR_ECONFIG && strstr(e.msg, "must divide"), "%s", e.msg);
    CHECK(access("/tmp/never-written.json", F_OK) != 0, "refused save wrote a file");
    bad = c; snprintf(bad.arch, sizeof bad.arch, "gpt2");
    CHECK(hfconfig_validate(&bad, "m", &e) == RLVR_EUNSUPPORTED, "arch");
    bad = c; bad.eos_id = c.vocab_size;
    CHECK(hfconfig_validate(&bad, "m", &e) == RLVR_ECONFIG && strstr(e.msg, "eos_token_id"), "eos range");
    bad = c; bad.rope_scaling = 7;
    CHECK(hfconfig_validate(&bad, "m", &e) == RLVR_EUNSUPPORTED, "rope kind");
    bad = c; bad.norm_eps = NAN;
    CHECK(hfconfig_validate(&bad, "m", &e) == RLVR_ECONFIG && strstr(e.msg, "rms_norm_eps"), "NaN eps");
    CHECK(hfconfig_save("/nonexistent-dir/config.json", &c, &e) == RLVR_EIO, "missing dir");
    model_config out;
    CHECK(hfconfig_load("/nonexistent-dir/config.json", &out, &e) == RLVR_EIO && strstr(e.msg, "cannot open"), "load missing");
    CHECK(hfconfig_load(dir, &out, &e) == RLVR_EIO && strstr(e.msg, "regular"), "load dir: %s", e.msg);
    CHECK(hfconfig_parse(NULL, 5, NULL, &out, &e) == RLVR_EARG, "NULL text");
}

/* A config with the five required sizes filled in and extra keys spliced in. */
static char *mk(const char *type, const char *extra) {
    static char bufs[96][512];
    static int k;
    char *buf = bufs[k++ % 96];
    snprintf(buf, sizeof bufs[0], "{\"model_type\":\"%s\",\"vocab_size\":1000,\"hidden_size\":64,"
             "\"intermediate_size\":128,\"num_hidden_layers\":2%s%s}", type,
             strstr(extra, "num_attention_heads") ? "" : ",\"num_attention_heads\":4", extra);
    return buf;
}

static void test_rejects(void) {
    struct { const char *json; int code; const char *msg; } c[] = {
        /* not a JSON object at all */
        {"{\"model_type\": ", RLVR_EFORMAT, "not valid JSON"},
        {"[1, 2]", RLVR_EFORMAT, "top level is an array"},
        {"{} {}", RLVR_EFORMAT, "bytes after the JSON value"},
        {"{\"model_type\": \"llama\xff\"}", RLVR_EFORMAT, "not valid UTF-8 at byte 21"},
        {"\xef\xbb\xbf{}", RLVR_EFORMAT, "byte order mark"},
        {"{\"model_type\":\"llama\",\"model_type\":\"qwen2\"}", RLVR_EFORMAT, "key 'model_type' appears twice"},
        {"", RLVR_EFORMAT, "not valid JSON"},
        /* model type, activation */
        {"{}", RLVR_ECONFIG, "missing key 'model_type'"},
        {"{\"model_type\": 5}", RLVR_ECONFIG, "key 'model_type' is a number"},
        {mk("gpt2", ""), RLVR_EUNSUPPORTED, "key 'model_type' is 'gpt2'"},
        {mk("llama", ",\"hidden_act\":\"gelu\""), RLVR_EUNSUPPORTED, "key 'hidden_act' is 'gelu'"},
        {mk("llama", ",\"hidden_act\":null"), RLVR_OK, ""},
        /* sizes */
        {"{\"model_type\":\"llama\",\"hidden_size\":64}", RLVR_ECONFIG, "missing key 'vocab_size'"},
        {mk("llama", ",\"num_attention_heads\":\"4\""), RLVR_ECONFIG, "key 'num_attention_heads' is a string"},
        {mk("llama", ",\"num_attention_heads\":0"), RLVR_ECONFIG, "key 'num_attention_heads' (0) must be an integer in [1, 4095]"},
        {mk("llama", ",\"num_attention_heads\":1.5"), RLVR_ECONFIG, "(1.5) must be an integer"},
        {mk("llama", ",\"num_attention_heads\":1e300"), RLVR_ECONFIG, "num_attention_heads"},
        {"{\"model_type\":\"llama\",\"vocab_size\":16777216,\"hidden_size\":64,\"intermediate_size\":128,"
         "\"num_hidden_layers\":2,\"num_attention_heads\":4}", RLVR_ECONFIG, "key 'vocab_size' (16777216)"},
        {"{\"model_type\":\"llama\",\"vocab_size\":-1,\"hidden_size\":64,\"intermediate_size\":128,"
         "\"num_hidden_layers\":2,\"num_attention_heads\":4}", RLVR_ECONFIG, "key 'vocab_size' (-1)"},
        {"{\"model_type\":\"llama\",\"vocab_size\":1000,\"hidden_size\":1048576,\"intermediate_size\":128,"
         "\"num_hidden_layers\":2,\"num_attention_heads\":4}", RLVR_ECONFIG, "key 'hidden_size' (1048576)"},
        {"{\"model_type\":\"llama\",\"vocab_size\":1000,\"hidden_size\":64,\"intermediate_size\":128,"
         "\"num_hidden_layers\":1024,\"num_attention_heads\":4}", RLVR_ECONFIG, "key 'num_hidden_layers' (1024)"},
        {"{\"model_type\":\"llama\",\"vocab_size\":16777215,\"hidden_size\":1048575,\"intermediate_size\":1048575,"
         "\"num_hidden_layers\":1023,\"num_attention_heads\":5,\"head_dim\":2}", RLVR_ECONFIG, "sanity cap"},
        {"{\"model_type\":\"llama\",\"vocab_size\":1000,\"hidden_size\":576,\"intermediate_size\":128,"
         "\"num_hidden_layers\":2,\"num_attention_heads\":9,\"num_key_value_heads\":7}", RLVR_ECONFIG,
         "x/config.json: key 'num_key_value_heads' (7) must divide num_attention_heads (9)"},
        {mk("qwen2", ",\"num_attention_heads\":14,\"hidden_size_x\":0"), RLVR_ECONFIG, "the qwen2 default (32) does not divide"},
        {mk("llama", ",\"num_attention_heads\":3"), RLVR_ECONFIG, "key 'hidden_size' (64) must be a multiple of num_attention_heads (3)"},
        {mk("llama", ",\"head_dim\":33"), RLVR_ECONFIG, "key 'head_dim' (33) must be even"},
        {mk("qwen3", ",\"num_attention_heads\":2048,\"head_dim\":1024"), RLVR_ECONFIG, "num_attention_heads * head_dim"},
        {mk("llama", ",\"max_position_embeddings\":0"), RLVR_ECONFIG, "max_position_embeddings"},
        {mk("llama", ",\"rms_norm_eps\":0"), RLVR_ECONFIG, "key 'rms_norm_eps' (0) must be in (0, 1)"},
        {mk("llama", ",\"rms_norm_eps\":\"1e-5\""), RLVR_ECONFIG, "key 'rms_norm_eps' is a string"},
        {mk("llama", ",\"tie_word_embeddings\":1"), RLVR_ECONFIG, "key 'tie_word_embeddings' is a number, not true or false"},
        /* token ids */
        {mk("llama", ",\"bos_token_id\":1000"), RLVR_ECONFIG, "key 'bos_token_id' (1000) must be an integer token id"},
        {mk("llama", ",\"eos_token_id\":-5"), RLVR_ECONFIG, "key 'eos_token_id' (-5)"},
        {mk("llama", ",\"eos_token_id\":[1,\"2\"]"), RLVR_ECONFIG, "key 'eos_token_id' holds a string"},
        {mk("llama", ",\"eos_token_id\":\"2\""), RLVR_ECONFIG, "key 'eos_token_id' is a string"},
        {mk("llama", ",\"eos_token_id\":null"), RLVR_OK, ""},
        /* rope */
        {mk("llama", ",\"rope_theta\":0"), RLVR_ECONFIG, "key 'rope_theta' (0)"},
        {mk("llama", ",\"rope_theta\":\"big\""), RLVR_ECONFIG, "key 'rope_theta' is a string"},
        {mk("llama", ",\"rope_scaling\":\"x\""), RLVR_ECONFIG, "key 'rope_scaling' is a string"},
        {mk("llama", ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4.0}"), RLVR_EUNSUPPORTED, "key 'rope_scaling.rope_type' is 'yarn'"},
        {mk("llama", ",\"rope_scaling\":{\"type\":\"linear\",\"factor\":4.0}"), RLVR_EUNSUPPORTED, "is 'linear'"},
        {mk("llama", ",\"rope_parameters\":{\"rope_type\":\"dynamic\",\"factor\":4.0}"), RLVR_EUNSUPPORTED, "key 'rope_parameters.rope_type' is 'dynamic'"},
        {mk("llama", ",\"rope_scaling\":{\"rope_type\":5}"), RLVR_ECONFIG, "rope_type' is a number"},
        {mk("llama", ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"low_freq_factor\":1.0,\"high_freq_factor\":4.0}"), RLVR_ECONFIG, "key 'rope_scaling.factor' is required"},
        {mk("llama", ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8.0,\"low_freq_factor\":4.0,\"high_freq_factor\":4.0}"), RLVR_ECONFIG, "must be greater than low_freq_factor"},
        {mk("llama", ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":0.5,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0}"), RLVR_ECONFIG, "key 'rope_scaling.factor' (0.5) must be >= 1"},
        {mk("llama", ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,\"original_max_position_embeddings\":\"8k\"}"), RLVR_ECONFIG, "key 'rope_scaling.original_max_position_embeddings' is a string"},
        {mk("llama", ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"rope_type\":\"default\"}"), RLVR_EFORMAT, "key 'rope_scaling.rope_type' appears twice"},
        {mk("llama", ",\"partial_rotary_factor\":0.5"), RLVR_EUNSUPPORTED, "partial_rotary_factor"},
        {mk("llama", ",\"rope_parameters\":{\"rope_theta\":1e4,\"partial_rotary_factor\":0.25}"), RLVR_EUNSUPPORTED, "rope_parameters.partial_rotary_factor"},
        /* attention variants rlvr does not implement */
        {mk("llama", ",\"attention_bias\":true"), RLVR_EUNSUPPORTED, "key 'attention_bias' is true"},
        {mk("qwen3", ",\"num_key_value_heads\":2,\"attention_bias\":true"), RLVR_EUNSUPPORTED, "not supported for qwen3"},
        {mk("llama", ",\"attention_bias\":\"no\""), RLVR_ECONFIG, "key 'attention_bias' is a string"},
        {mk("qwen2", ",\"num_key_value_heads\":2,\"attention_bias\":true"), RLVR_OK, ""},
        {mk("llama", ",\"mlp_bias\":true"), RLVR_EUNSUPPORTED, "key 'mlp_bias' is true"},
        {mk("mistral", ",\"num_attention_heads\":8,\"max_position_embeddings\":32768,\"sliding_window\":4096"), RLVR_EUNSUPPORTED, "key 'sliding_window' (4096) is below"},
        {mk("mistral", ",\"num_attention_heads\":8,\"max_position_embeddings\":32768"), RLVR_EUNSUPPORTED, "(4096, the mistral default)"},
        {mk("qwen2", ",\"num_key_value_heads\":2,\"use_sliding_window\":true,\"sliding_window\":1024,\"max_window_layers\":1"), RLVR_EUNSUPPORTED, "key 'use_sliding_window' is true"},
        {mk("qwen2", ",\"num_key_value_heads\":2,\"use_sliding_window\":true,\"sliding_window\":1024,\"max_window_layers\":2"), RLVR_OK, ""},
        {mk("qwen3", ",\"num_key_value_heads\":2,\"head_dim\":16,\"layer_types\":[\"full_attention\",\"sliding_attention\"]"), RLVR_EUNSUPPORTED, "key 'layer_types' holds 'sliding_attention'"},
        {mk("qwen3", ",\"num_key_value_heads\":2,\"head_dim\":16,\"layer_types\":\"full\""), RLVR_ECONFIG, "key 'layer_types' is a string"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        model_config m;
        memset(&m, 0x5a, sizeof m);
        rlvr_err e = {0};
        int rc = parse(c[i].json, &m, &e);
        CHECK(rc == c[i].code, "case %zu (%s): rc %d want %d: %s", i, c[i].json, rc, c[i].code, rc ? e.msg : "ok");
        if (rc == RLVR_OK) continue;
        CHECK(strstr(e.msg, c[i].msg) != NULL, "case %zu: message '%s' lacks '%s'", i, e.msg, c[i].msg);
        CHECK(strncmp(e.msg, "x/config.json: ", 15) == 0, "case %zu: message '%s' lacks the file name", i, e.msg);
        model_config zero;
        memset(&zero, 0, sizeof zero);
        CHECK(memcmp(&m, &zero, sizeof m) == 0, "case %zu: output not zeroed on failure", i);
    }
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/rlvr_test_hfc_XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
    RUN(test_smollm2);
    RUN(test_qwen25);
    RUN(test_qwen3);
    RUN(test_llama32);
    RUN(test_rope_variants);
    RUN(test_defaults);
    RUN(test_round_trip);
    RUN(test_write_rejects);
    RUN(test_rejects);
    char path[128];
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    rmdir(dir);
    return check_finish("test_hfconfig");
}
