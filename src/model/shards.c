/* shards.c: a Hugging Face directory's weights, single-file or sharded, and
 * generation_config.json's eos ids. The index is as hostile as any file: shard names
 * are confined to the directory and every tensor must be mapped exactly once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "core/err.h"
#include "core/fs.h"
#include "formats/safetensors.h"
#include "model/io.h"
#include "model/shards.h"

#define INDEX_MAX ((size_t)64 << 20)

static int read_json_obj(const char *path, cJSON **out, rlvr_err *err) {
    char *text = NULL;
    size_t n = 0;
    *out = NULL;
    int rc = fs_read_all(path, INDEX_MAX, &text, &n, err);
    if (rc) return rc;
    cJSON *j = cJSON_ParseWithLength(text, n);
    free(text);
    if (!j) return errf(err, RLVR_EFORMAT, "%s: not valid JSON", path);
    if (!cJSON_IsObject(j)) { cJSON_Delete(j); return errf(err, RLVR_EFORMAT, "%s: top level is not a JSON object", path); }
    *out = j;
    return RLVR_OK;
}

/* 1 when s names a file directly inside the directory. */
static int plain_file_name(const char *s) {
    if (!*s || !strcmp(s, ".") || !strcmp(s, "..") || strlen(s) > 255) return 0;
    for (const char *p = s; *p; p++)
        if (*p == '/' || *p == '\\') return 0;
    return 1;
}

/* Copies one tensor from an open shard into m's view, checking the shape. */
static int load_one(model *m, const tensor_info *ti, const st_file *f, const char *index, rlvr_err *err) {
    const st_tensor *t = st_find(f, ti->name);
    if (!t) return errf(err, RLVR_EFORMAT, "%s: maps tensor '%s' to %s, which does not hold it", index, ti->name, st_path(f));
    int ok = t->ndim == ti->ndim;
    for (int d = 0; ok && d < ti->ndim; d++) ok = t->shape[d] == ti->shape[d];
    if (!ok)
        return errf(err, RLVR_EFORMAT, "%s: tensor '%s' has %d dims [%lld, %lld], the config needs [%d, %d]", st_path(f),
                    ti->name, t->ndim, (long long)t->shape[0], (long long)(t->ndim > 1 ? t->shape[1] : 0), ti->shape[0],
                    ti->ndim > 1 ? ti->shape[1] : 0);
    int rc = st_read_f32(f, t, m->params + ti->offset, ti->numel, err);
    return rc ? err_wrap(err, rc, "%s: tensor '%s'", st_path(f), ti->name) : RLVR_OK;
}

static int load_sharded(model *m, const char *dir, const char *index, rlvr_err *err) {
    cJSON *root = NULL;
    int rc = read_json_obj(index, &root, err);
    if (rc) return rc;
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    const char **shard_of = calloc((size_t)m->n_tensors + 1, sizeof *shard_of);
    if (!shard_of) { cJSON_Delete(root); return errf(err, RLVR_ENOMEM, "%s: out of memory", index); }
    if (!cJSON_IsObject(wm)) { rc = errf(err, RLVR_EFORMAT, "%s: \"weight_map\" is missing or not an object", index); goto done; }
    for (const cJSON *e = wm->child; e; e = e->next) {
        if (!e->string) { rc = errf(err, RLVR_EFORMAT, "%s: weight_map entry without a name", index); goto done; }
        if (!cJSON_IsString(e) || !plain_file_name(e->valuestring)) {
            rc = errf(err, RLVR_EFORMAT, "%s: weight_map[\"%.100s\"] must be a file name inside the directory (no '/', "
                      "'\\', '.' or '..'), got %.100s", index, e->string, cJSON_IsString(e) ? e->valuestring : "a non-string");
            goto done;
        }
        const tensor_info *ti = model_find_tensor(m, e->string);
        if (!ti) continue;                                     /* as with one file: not the model's */
        int i = (int)(ti - m->tensors);
        if (shard_of[i]) { rc = errf(err, RLVR_EFORMAT, "%s: tensor '%s' is mapped twice", index, e->string); goto done; }
        shard_of[i] = e->valuestring;
    }
    for (int i = 0; i < m->n_tensors; i++)
        if (!shard_of[i]) { rc = errf(err, RLVR_EFORMAT, "%s: tensor '%s' is not in weight_map", index, m->tensors[i].name); goto done; }
    /* each shard opened once, its tensors read, then closed */
    for (int i = 0; i < m->n_tensors && !rc; i++) {
        if (!shard_of[i]) continue;
        const char *name = shard_of[i];
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
            rc = errf(err, RLVR_EARG, "%s: path too long", index);
            break;
        }
        st_file *f = NULL;
        if ((rc = st_open(path, &f, err))) { err_wrap(err, rc, "%s: shard '%s' (for tensor '%s')", index, name, m->tensors[i].name); break; }
        for (int j = i; j < m->n_tensors && !rc; j++)
            if (shard_of[j] && !strcmp(shard_of[j], name)) {
                rc = load_one(m, &m->tensors[j], f, index, err);
                shard_of[j] = NULL;
            }
        st_close(f);
    }
done:
    free(shard_of);
    cJSON_Delete(root);
    return rc;
}

int model_load_params_dir(model *m, const char *dir, rlvr_err *err) {
    char path[4096];
    if (!m || !dir) return errf(err, RLVR_EARG, "model_load_params_dir: NULL argument");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (fs_exists(path)) {
        st_file *f = NULL;
        int rc = st_open(path, &f, err);
        if (!rc) rc = model_load_params(m, f, err);
        st_close(f);
        return rc;
    }
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (fs_exists(path)) return load_sharded(m, dir, path, err);
    return errf(err, RLVR_EIO, "%s: neither model.safetensors nor model.safetensors.index.json is there", dir);
}

int hf_generation_eos(const char *dir, int *ids, int max, int *n, rlvr_err *err) {
    char path[4096];
    *n = 0;
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    if (!fs_exists(path)) return RLVR_OK;
    cJSON *root = NULL;
    int rc = read_json_obj(path, &root, err);
    if (rc) return rc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "eos_token_id");
    int count = 0;
    if (v && !cJSON_IsNull(v)) {
        const cJSON *one = cJSON_IsArray(v) ? v->child : v;
        for (; one; one = cJSON_IsArray(v) ? one->next : NULL) {
            double d = cJSON_IsNumber(one) ? one->valuedouble : -1;
            if (!(d >= 0 && d < 2147483648.0) || d != (double)(long long)d) {
                rc = errf(err, RLVR_EFORMAT, "%s: eos_token_id[%d] is not a non-negative integer", path, count);
                break;
            }
            if (count < max) ids[count] = (int)d;
            count++;
        }
    }
    cJSON_Delete(root);
    if (!rc) *n = count;
    return rc;
}
