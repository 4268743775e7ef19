/* ckpt.c: atomic, verified, exactly-resumable checkpoints (see ckpt.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "core/err.h"
#include "core/fs.h"
#include "formats/safetensors.h"
#include "model/io.h"
#include "train/ckpt.h"

static const char *const FILES[] = {"model.safetensors", "optim.safetensors", "state.json", "ref.safetensors"};
enum { N_FILES = 4 }; /* the last only when there is a reference */

/* FNV-1a 64 of a file, streamed; size in *n */
static int file_hash(const char *path, uint64_t *h, uint64_t *n, rlvr_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return errf(err, RLVR_EIO, "%s: cannot open: %s", path, strerror(errno));
    static _Thread_local unsigned char buf[1 << 16];
    uint64_t x = 1469598103934665603ULL, total = 0;
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0) {
        for (size_t i = 0; i < k; i++) x = (x ^ buf[i]) * 1099511628211ULL;
        total += k;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) return errf(err, RLVR_EIO, "%s: read error", path);
    *h = x, *n = total;
    return RLVR_OK;
}

static int rm_rf(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    return rmdir(dir);
}

/* the step numbers of checkpoint directories step_NNNNNNNN under root, sorted up */
static int list_steps(const char *root, int *steps, int max) {
    DIR *d = opendir(root);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        int s;
        char tail;
        if (strlen(e->d_name) == 13 && sscanf(e->d_name, "step_%8d%c", &s, &tail) == 1 && s >= 0) steps[n++] = s;
    }
    closedir(d);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && steps[j - 1] > steps[j]; j--) { int t = steps[j]; steps[j] = steps[j - 1]; steps[j - 1] = t; }
    return n;
}

int ckpt_save(const char *out_dir, const model *m, const model *ref, const ckpt_state *st, uint64_t cfg_hash, int keep_last, rlvr_err *err) {
    char root[4096], tmp[4200], fin[4200], path[4400];
    snprintf(root, sizeof root, "%s/checkpoints", out_dir);
    int rc = fs_mkdir_p(root, err);
    if (rc) return rc;
    snprintf(fin, sizeof fin, "%s/step_%08d", root, st->step);
    snprintf(tmp, sizeof tmp, "%s/.step_%08d.tmp.%ld", root, st->step, (long)getpid());
    rm_rf(tmp);
    if ((rc = fs_mkdir_p(tmp, err))) return rc;
    /* weights with HF names (a checkpoint directory's model.safetensors opens in transformers) */
    st_out *t = calloc((size_t)m->n_tensors * 2, sizeof *t);
    char (*names)[96] = calloc((size_t)m->n_tensors * 2, 96);
    if (!t || !names) { free(t); free(names); return errf(err, RLVR_ENOMEM, "checkpoint: out of memory"); }
    for (int i = 0; i < m->n_tensors; i++) {
        const tensor_info *ti = &m->tensors[i];
        t[i] = (st_out){.name = ti->name, .dtype = ST_F32, .ndim = ti->ndim, .shape = {ti->shape[0], ti->shape[1]}, .data = m->params + ti->offset};
    }
    const char *meta[] = {"format", "pt", "producer", "rlvr checkpoint", NULL};
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    rc = st_write(path, t, m->n_tensors, meta, err);
    for (int i = 0; !rc && i < m->n_tensors; i++) { /* Adam moments: exp_avg.NAME, exp_avg_sq.NAME */
        const tensor_info *ti = &m->tensors[i];
        snprintf(names[2 * i], 96, "exp_avg.%s", ti->name);
        snprintf(names[2 * i + 1], 96, "exp_avg_sq.%s", ti->name);
        t[2 * i] = (st_out){.name = names[2 * i], .dtype = ST_F32, .ndim = ti->ndim, .shape = {ti->shape[0], ti->shape[1]}, .data = m->m + ti->offset};
        t[2 * i + 1] = (st_out){.name = names[2 * i + 1], .dtype = ST_F32, .ndim = ti->ndim, .shape = {ti->shape[0], ti->shape[1]}, .data = m->v + ti->offset};
    }
    snprintf(path, sizeof path, "%s/optim.safetensors", tmp);
    if (!rc) rc = st_write(path, t, m->n_tensors * 2, NULL, err);
    if (!rc && ref) {
        for (int i = 0; i < ref->n_tensors; i++) {
            const tensor_info *ti = &ref->tensors[i];
            t[i] = (st_out){.name = ti->name, .dtype = ST_F32, .ndim = ti->ndim, .shape = {ti->shape[0], ti->shape[1]}, .data = ref->params + ti->offset};
        }
        snprintf(path, sizeof path, "%s/ref.safetensors", tmp);
        rc = st_write(path, t, ref->n_tensors, meta, err);
    }
    free(t);
    free(names);
    if (!rc) {
        size_t cap = 512 + (st->extra ? strlen(st->extra) : 0);
        char *js = malloc(cap);
        if (!js) rc = errf(err, RLVR_ENOMEM, "ckpt: out of memory");
        else {
            int n = snprintf(js, cap, "{\"step\": %d, \"t_adam\": %d, \"skipped\": %d, \"seed\": \"%llu\", \"cursor\": \"%llu\"%s%s}\n",
                             st->step, st->t_adam, st->skipped, (unsigned long long)st->seed, (unsigned long long)st->cursor,
                             st->extra ? ", \"extra\": " : "", st->extra ? st->extra : "");
            snprintf(path, sizeof path, "%s/state.json", tmp);
            rc = fs_write_atomic(path, js, (size_t)n, err);
            free(js);
        }
    }
    if (!rc) { /* the manifest, last */
        cJSON *man = cJSON_CreateObject(), *files = cJSON_AddObjectToObject(man, "files");
        char hx[32];
        cJSON_AddNumberToObject(man, "format_version", CKPT_FORMAT_VERSION);
        snprintf(hx, sizeof hx, "%016llx", (unsigned long long)cfg_hash);
        cJSON_AddStringToObject(man, "config_hash", hx);
        cJSON_AddNumberToObject(man, "step", st->step);
        for (int i = 0; !rc && i < (ref ? N_FILES : N_FILES - 1); i++) {
            uint64_t h, sz;
            snprintf(path, sizeof path, "%s/%s", tmp, FILES[i]);
            if ((rc = file_hash(path, &h, &sz, err))) break;
            cJSON *o = cJSON_AddObjectToObject(files, FILES[i]);
            snprintf(hx, sizeof hx, "%016llx", (unsigned long long)h);
            cJSON_AddStringToObject(o, "fnv1a64", hx);
            cJSON_AddNumberToObject(o, "bytes", (double)sz);
        }
        char *txt = rc ? NULL : cJSON_Print(man);
        cJSON_Delete(man);
        if (!rc && !txt) rc = errf(err, RLVR_ENOMEM, "checkpoint: out of memory");
        snprintf(path, sizeof path, "%s/manifest.json", tmp);
        if (!rc) rc = fs_write_atomic(path, txt, strlen(txt), err);
        cJSON_free(txt);
    }
    if (!rc) {
        rm_rf(fin); /* a stale one of the same step */
        if (rename(tmp, fin) != 0) rc = errf(err, RLVR_EIO, "%s: cannot rename into place: %s", fin, strerror(errno));
    }
    if (rc) { rm_rf(tmp); return rc; }
    if (keep_last > 0) {
        int steps[4096], n = list_steps(root, steps, 4096);
        for (int i = 0; i < n - keep_last; i++) {
            snprintf(path, sizeof path, "%s/step_%08d", root, steps[i]);
            rm_rf(path);
        }
    }
    return RLVR_OK;
}

/* 1 when dir's manifest parses and every file has its size and checksum */
static int verify(const char *dir, uint64_t cfg_hash, int force, int *hash_mismatch) {
    char path[4400], *txt = NULL;
    size_t n;
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (fs_read_all(path, 1 << 20, &txt, &n, NULL)) return 0;
    cJSON *man = cJSON_ParseWithLength(txt, n);
    free(txt);
    int ok = cJSON_IsObject(man);
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(man, "format_version"), *ch = cJSON_GetObjectItemCaseSensitive(man, "config_hash");
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(man, "files");
    ok = ok && cJSON_IsNumber(ver) && ver->valueint == CKPT_FORMAT_VERSION && cJSON_IsString(ch) && cJSON_IsObject(files);
    if (ok) {
        char hx[32];
        snprintf(hx, sizeof hx, "%016llx", (unsigned long long)cfg_hash);
        if (strcmp(hx, ch->valuestring)) { *hash_mismatch = 1; ok = force; }
    }
    for (int i = 0; ok && i < N_FILES; i++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(files, FILES[i]);
        if (i == N_FILES - 1 && !o) break; /* no reference in this checkpoint */
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "fnv1a64"), *b = cJSON_GetObjectItemCaseSensitive(o, "bytes");
        uint64_t hv, sz;
        char hx[32];
        snprintf(path, sizeof path, "%s/%s", dir, FILES[i]);
        ok = cJSON_IsString(h) && cJSON_IsNumber(b) && file_hash(path, &hv, &sz, NULL) == RLVR_OK && (double)sz == b->valuedouble;
        if (ok) { snprintf(hx, sizeof hx, "%016llx", (unsigned long long)hv); ok = !strcmp(hx, h->valuestring); }
    }
    cJSON_Delete(man);
    return ok;
}

int ckpt_find_latest(const char *out_dir, uint64_t cfg_hash, int force, char *path, size_t cap, int *found, rlvr_err *err) {
    char root[4096];
    snprintf(root, sizeof root, "%s/checkpoints", out_dir);
    int steps[4096], n = list_steps(root, steps, 4096), mismatch = 0;
    *found = 0;
    for (int i = n - 1; i >= 0; i--) {
        snprintf(path, cap, "%s/step_%08d", root, steps[i]);
        int mm = 0;
        if (verify(path, cfg_hash, force, &mm)) { *found = 1; return RLVR_OK; }
        mismatch |= mm;
    }
    if (mismatch)
        return errf(err, RLVR_ECONFIG, "%s: the checkpoints there were made with a different configuration; "
                    "use a new out_dir, or resume_force=true to resume anyway", root);
    return RLVR_OK;
}

int ckpt_load(const char *dir, model *m, model *ref, ckpt_state *st, rlvr_err *err) {
    char path[4400];
    st_file *f = NULL;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int rc = st_open(path, &f, err);
    if (!rc) rc = model_load_params(m, f, err);
    st_close(f);
    if (rc) return rc;
    if (ref) {
        snprintf(path, sizeof path, "%s/ref.safetensors", dir);
        if (!fs_exists(path)) return errf(err, RLVR_EFORMAT, "%s: the run uses a KL reference but the checkpoint has none", dir);
        if ((rc = st_open(path, &f, err))) return rc;
        rc = model_load_params(ref, f, err);
        st_close(f);
        if (rc) return rc;
    }
    snprintf(path, sizeof path, "%s/optim.safetensors", dir);
    if ((rc = st_open(path, &f, err))) return rc;
    for (int i = 0; !rc && i < m->n_tensors; i++) {
        const tensor_info *ti = &m->tensors[i];
        char nm[128];
        for (int k = 0; !rc && k < 2; k++) {
            snprintf(nm, sizeof nm, "%s.%s", k ? "exp_avg_sq" : "exp_avg", ti->name);
            const st_tensor *t = st_find(f, nm);
            if (!t) rc = errf(err, RLVR_EFORMAT, "%s: tensor '%s' is missing", path, nm);
            else rc = st_read_f32(f, t, (k ? m->v : m->m) + ti->offset, ti->numel, err);
        }
    }
    st_close(f);
    if (rc) return rc;
    char *txt = NULL;
    size_t n;
    snprintf(path, sizeof path, "%s/state.json", dir);
    if ((rc = fs_read_all(path, 1 << 28, &txt, &n, err))) return rc;
    cJSON *j = cJSON_ParseWithLength(txt, n);
    free(txt);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "step"), *t = cJSON_GetObjectItemCaseSensitive(j, "t_adam");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "skipped"), *sd = cJSON_GetObjectItemCaseSensitive(j, "seed");
    if (!cJSON_IsNumber(s) || !cJSON_IsNumber(t) || !cJSON_IsNumber(k) || !cJSON_IsString(sd)) {
        cJSON_Delete(j);
        return errf(err, RLVR_EFORMAT, "%s: missing step, t_adam, skipped or seed", path);
    }
    st->step = s->valueint, st->t_adam = t->valueint, st->skipped = k->valueint;
    st->seed = strtoull(sd->valuestring, NULL, 10);
    const cJSON *cu = cJSON_GetObjectItemCaseSensitive(j, "cursor"); /* absent before the cursor was saved: 0 */
    st->cursor = cJSON_IsString(cu) ? strtoull(cu->valuestring, NULL, 10) : 0;
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(j, "extra");
    st->extra = ex ? cJSON_PrintUnformatted(ex) : NULL;
    cJSON_Delete(j);
    return RLVR_OK;
}
