/* io.c: Hugging Face directory <-> model parameters, by tensor name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "core/fs.h"
#include "formats/hfconfig.h"
#include "model/io.h"
#include "model/shards.h"

int model_load_params(model *m, const st_file *f, rlvr_err *err) {
    for (int i = 0; i < m->n_tensors; i++) {
        const tensor_info *ti = &m->tensors[i];
        const st_tensor *t = st_find(f, ti->name);
        if (!t) return errf(err, RLVR_EFORMAT, "%s: tensor '%s' is missing", st_path(f), ti->name);
        int ok = t->ndim == ti->ndim;
        for (int d = 0; ok && d < ti->ndim; d++) ok = t->shape[d] == ti->shape[d];
        if (!ok) {
            char got[128] = "", *p = got;
            for (int d = 0; d < t->ndim && p < got + sizeof got - 24; d++) p += sprintf(p, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
            return errf(err, RLVR_EFORMAT, "%s: tensor '%s' has shape [%s], the config needs [%d%s%.0d]", st_path(f), ti->name, got,
                        ti->shape[0], ti->ndim == 2 ? ", " : "", ti->ndim == 2 ? ti->shape[1] : 0);
        }
        int rc = st_read_f32(f, t, m->params + ti->offset, ti->numel, err);
        if (rc) return err_wrap(err, rc, "%s: tensor '%s'", st_path(f), ti->name);
    }
    return RLVR_OK;
}

int model_load_hf(const char *dir, model **out, rlvr_err *err) {
    *out = NULL;
    char path[4096];
    model_config c;
    snprintf(path, sizeof path, "%s/config.json", dir);
    int rc = hfconfig_load(path, &c, err);
    if (rc) return rc;
    model *m = model_new(&c, err);
    if (!m) return err_wrap(err, err ? err->code : RLVR_ECONFIG, "%s", path);
    if ((rc = model_load_params_dir(m, dir, err))) { model_free(m); return rc; } /* one file or shards */
    *out = m;
    return RLVR_OK;
}

int model_save_hf(const model *m, const char *dir, const char *const *meta_kv, rlvr_err *err) {
    int rc = fs_mkdir_p(dir, err);
    if (rc) return rc;
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if ((rc = hfconfig_save(path, &m->cfg, err))) return rc;
    st_out *t = calloc(m->n_tensors, sizeof *t);
    if (!t) return errf(err, RLVR_ENOMEM, "model_save_hf: out of memory");
    for (int i = 0; i < m->n_tensors; i++) {
        const tensor_info *ti = &m->tensors[i];
        t[i].name = ti->name;
        t[i].dtype = ST_F32;
        t[i].ndim = ti->ndim;
        t[i].shape[0] = ti->shape[0];
        t[i].shape[1] = ti->shape[1];
        t[i].data = m->params + ti->offset;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    rc = st_write(path, t, m->n_tensors, meta_kv, err);
    free(t);
    return rc;
}
