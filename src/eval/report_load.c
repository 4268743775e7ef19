/* report_load.c: reads a run's outputs for the report, distrustfully: metrics.jsonl
 * into columns (one per numeric field, nested objects flattened one level), eval
 * JSON files into per-difficulty pass@k tables, the last lines of samples.jsonl into
 * examples, and config.toml as text. Every bound is checked before allocating; every
 * error names the file and the line or the JSON path. Nothing here draws. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/err.h"
#include "core/fs.h"
#include "eval/report_int.h"

#define MAX_NAME 128          /* longer field names are ignored (noted) */
#define MAX_NOTES 64
#define MAX_CONFIG_BYTES ((size_t)1 << 20)

void rp_note(rp_data *d, const char *fmt, ...) {
    if (d->n_notes >= MAX_NOTES) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **nn = realloc(d->notes, sizeof *nn * (d->n_notes + 1));
    if (!nn) return;
    d->notes = nn;
    if ((d->notes[d->n_notes] = rp_utf8_clean(buf, strlen(buf)))) d->n_notes++;
}

/* ---- one JSONL line at a time, bounded ---- */

/* 1: a line in *buf (newline stripped, NUL-terminated, *len bytes, which may include
 * NUL bytes); 0: end of file; -1: longer than max; -2: out of memory; -3: read error. */
static int read_line(FILE *f, char **buf, size_t *cap, size_t *len, size_t max) {
    size_t n = 0;
    int c = EOF;
    while ((c = getc_unlocked(f)) != EOF && c != '\n') {
        if (n + 2 > *cap) {
            size_t nc = *cap ? *cap * 2 : 4096;
            char *nb = realloc(*buf, nc);
            if (!nb) return -2;
            *buf = nb, *cap = nc;
        }
        (*buf)[n++] = (char)c;
        if (n > max) return -1;
    }
    if (c == EOF && ferror(f)) return -3;
    if (c == EOF && n == 0) return 0;
    if (!*buf && !(*buf = malloc(*cap = 64))) return -2;
    while (n && (*buf)[n - 1] == '\r') n--;
    (*buf)[n] = 0;
    *len = n;
    return 1;
}

/* Bare non-finite numbers, as C's printf writes them (nan, -nan, inf, -inf) or as
 * JavaScript does (NaN, Infinity), are not JSON: outside strings they become null.
 * Returns a malloc'd copy (NULL when out of memory). */
static char *fix_nonfinite(const char *s, size_t n) {
    static const char *const words[] = {"-infinity", "infinity", "-nan", "nan", "-inf", "inf", "+inf", "+nan"};
    char *o = malloc(2 * n + 8);
    if (!o) return NULL;
    size_t j = 0;
    int in_str = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (in_str) {
            o[j++] = c, i++;
            if (c == '\\' && i < n) o[j++] = s[i++];
            else if (c == '"') in_str = 0;
            continue;
        }
        if (c == '"') { in_str = 1, o[j++] = c, i++; continue; }
        int matched = 0;
        if (c == '-' || c == '+' || c == 'n' || c == 'N' || c == 'i' || c == 'I') {
            for (size_t w = 0; w < sizeof words / sizeof *words && !matched; w++) {
                size_t wl = strlen(words[w]);
                if (i + wl <= n && !strncasecmp(s + i, words[w], wl)) {
                    char nx = i + wl < n ? s[i + wl] : 0;
                    if ((nx >= 'a' && nx <= 'z') || (nx >= 'A' && nx <= 'Z') || (nx >= '0' && nx <= '9') || nx == '_') continue;
                    memcpy(o + j, "null", 4), j += 4, i += wl, matched = 1;
                }
            }
        }
        if (!matched) o[j++] = c, i++;
    }
    o[j] = 0;
    return o;
}

/* Parses one JSON text; on failure fills err with "WHERE: not valid JSON near byte N". */
static cJSON *parse_json(const char *s, size_t n, const char *where, rlvr_err *err) {
    const char *nul = memchr(s, 0, n);
    if (nul) { errf(err, RLVR_EFORMAT, "%s: NUL byte at byte %ld", where, (long)(nul - s)); return NULL; }
    char *fixed = fix_nonfinite(s, n);
    if (!fixed) { errf(err, RLVR_ENOMEM, "%s: out of memory", where); return NULL; }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(fixed, &end, 1);
    if (!j) {
        long at = end && end >= fixed ? (long)(end - fixed) : -1;
        errf(err, RLVR_EFORMAT, "%s: not valid JSON (near byte %ld of the fixed-up text)", where, at);
    }
    free(fixed);
    return j;
}

/* ---- metrics.jsonl -> columns ---- */

int rp_col_find(const rp_table *t, const char *name) {
    for (int i = 0; i < t->n_cols; i++)
        if (!strcmp(t->cols[i].name, name)) return i;
    return -1;
}

static int table_add_row(rp_table *t, double step) {
    if (t->n_rows == t->cap) {
        int nc = t->cap ? t->cap * 2 : 256;
        double *ns = realloc(t->step, sizeof *ns * nc);
        if (!ns) return -1;
        t->step = ns;
        for (int c = 0; c < t->n_cols; c++) {
            double *nv = realloc(t->cols[c].v, sizeof *nv * nc);
            if (nv) t->cols[c].v = nv;
            unsigned char *nh = realloc(t->cols[c].has, nc);
            if (nh) t->cols[c].has = nh;
            if (!nv || !nh) return -1;
        }
        t->cap = nc;
    }
    t->step[t->n_rows] = step;
    for (int c = 0; c < t->n_cols; c++) t->cols[c].v[t->n_rows] = NAN, t->cols[c].has[t->n_rows] = 0;
    return t->n_rows++;
}

/* Sets field name of the last row. *hint is where the previous field was found: lines
 * usually list their fields in the same order, so the search starts after it. */
static int table_set(rp_data *d, const char *name, double v, int *hint) {
    rp_table *t = &d->t;
    int r = t->n_rows - 1, c = -1;
    for (int i = 0; i < t->n_cols && c < 0; i++) {
        int j = (*hint + 1 + i) % t->n_cols;
        if (!strcmp(t->cols[j].name, name)) c = j;
    }
    if (c < 0) {
        if (strlen(name) > MAX_NAME) { rp_note(d, "a field name of %zu bytes was ignored", strlen(name)); return 0; }
        if (t->n_cols >= REPORT_MAX_COLUMNS) { rp_note(d, "more than %d fields: the others are ignored", REPORT_MAX_COLUMNS); return 0; }
        rp_col *nc = realloc(t->cols, sizeof *nc * (t->n_cols + 1));
        if (!nc) return -1;
        t->cols = nc;
        rp_col *col = &t->cols[t->n_cols];
        memset(col, 0, sizeof *col);
        col->name = rp_utf8_clean(name, strlen(name));
        col->v = malloc(sizeof *col->v * t->cap);
        col->has = malloc(t->cap);
        if (!col->name || !col->v || !col->has) { free(col->name), free(col->v), free(col->has); return -1; }
        for (int i = 0; i < t->cap; i++) col->v[i] = NAN, col->has[i] = 0;
        c = t->n_cols++;
    }
    *hint = c;
    t->cols[c].v[r] = v;
    t->cols[c].has[r] = 1;
    if (!isfinite(v)) t->cols[c].n_nonfinite++;
    return 0;
}

static int add_fields(rp_data *d, const cJSON *o, const char *prefix, int *hint) {
    for (const cJSON *ch = o->child; ch; ch = ch->next) {
        if (!ch->string || (!*prefix && !strcmp(ch->string, "step"))) continue;
        char name[2 * MAX_NAME + 8];
        if (strlen(prefix) + strlen(ch->string) + 2 > sizeof name) { rp_note(d, "a field name of %zu bytes was ignored", strlen(ch->string)); continue; }
        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", ch->string);
        if (cJSON_IsNumber(ch) || cJSON_IsNull(ch)) {
            if (table_set(d, name, cJSON_IsNumber(ch) ? ch->valuedouble : NAN, hint)) return -1;
        } else if (cJSON_IsObject(ch) && !*prefix) {
            if (add_fields(d, ch, name, hint)) return -1;
        }
    }
    return 0;
}

typedef struct { double step; int eval, row; } row_key;
static int row_key_cmp(const void *a, const void *b) {
    const row_key *x = a, *y = b;
    if (x->step != y->step) return x->step < y->step ? -1 : 1;
    if (x->eval != y->eval) return x->eval - y->eval;
    return x->row - y->row;
}

/* A resumed run appends to metrics.jsonl and repeats the steps after its checkpoint:
 * for each (step, training-or-eval) the last line wins. Rows end sorted by step. */
static int dedupe_rows(rp_data *d) {
    rp_table *t = &d->t;
    int n = t->n_rows;
    if (n < 2) return 0;
    row_key *k = malloc(sizeof *k * n);
    int *keep = malloc(sizeof *keep * n);
    if (!k || !keep) { free(k), free(keep); return -1; }
    for (int r = 0; r < n; r++) {
        k[r] = (row_key){t->step[r], 0, r};
        for (int c = 0; c < t->n_cols; c++)
            if (t->cols[c].has[r] && !strncmp(t->cols[c].name, "eval.", 5)) { k[r].eval = 1; break; }
    }
    qsort(k, n, sizeof *k, row_key_cmp);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (i + 1 == n || k[i + 1].step != k[i].step || k[i + 1].eval != k[i].eval) keep[m++] = k[i].row;
    d->dup_rows = n - m;
    double *tmp = malloc(sizeof *tmp * (m ? m : 1));
    unsigned char *th = malloc(m ? m : 1);
    if (!tmp || !th) { free(k), free(keep), free(tmp), free(th); return -1; }
    for (int i = 0; i < m; i++) tmp[i] = t->step[keep[i]];
    memcpy(t->step, tmp, sizeof *tmp * m);
    for (int c = 0; c < t->n_cols; c++) {
        rp_col *col = &t->cols[c];
        for (int i = 0; i < m; i++) tmp[i] = col->v[keep[i]], th[i] = col->has[keep[i]];
        memcpy(col->v, tmp, sizeof *tmp * m);
        memcpy(col->has, th, m);
        col->n_nonfinite = 0;
        for (int i = 0; i < m; i++) col->n_nonfinite += col->has[i] && !isfinite(col->v[i]);
    }
    t->n_rows = m;
    free(k), free(keep), free(tmp), free(th);
    return 0;
}

static int line_error(int rc, const char *path, long line, rlvr_err *err) {
    if (rc == -1) return errf(err, RLVR_EFORMAT, "%s:%ld: line longer than %zu bytes", path, line, REPORT_MAX_LINE_BYTES);
    if (rc == -2) return errf(err, RLVR_ENOMEM, "%s:%ld: out of memory", path, line);
    return errf(err, RLVR_EIO, "%s:%ld: read error: %s", path, line, strerror(errno));
}

static int load_metrics(rp_data *d, rlvr_err *err) {
    const char *path = d->metrics_path;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 0;
        return errf(err, RLVR_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    d->have_metrics = 1;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    long line = 0;
    int rc = 0, r;
    while ((r = read_line(f, &buf, &cap, &len, REPORT_MAX_LINE_BYTES)) == 1) {
        line++;
        size_t sp = strspn(buf, " \t");
        if (sp == len) continue;
        char where[4300];
        snprintf(where, sizeof where, "%s:%ld", path, line);
        cJSON *o = parse_json(buf, len, where, err);
        if (!o) { rc = err ? err->code : RLVR_EFORMAT; break; }
        if (!cJSON_IsObject(o)) { cJSON_Delete(o); rc = errf(err, RLVR_EFORMAT, "%s: not a JSON object", where); break; }
        d->metrics_lines++;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "step");
        if (!cJSON_IsNumber(st) || !isfinite(st->valuedouble)) { d->no_step_lines++; cJSON_Delete(o); continue; }
        if (d->t.n_rows >= REPORT_MAX_ROWS) { cJSON_Delete(o); rc = errf(err, RLVR_EFORMAT, "%s: more than %d records", where, REPORT_MAX_ROWS); break; }
        int hint = -1;
        if (table_add_row(&d->t, st->valuedouble) < 0 || add_fields(d, o, "", &hint)) { cJSON_Delete(o); rc = errf(err, RLVR_ENOMEM, "%s: out of memory", where); break; }
        cJSON_Delete(o);
    }
    if (!rc && r < 0) rc = line_error(r, path, line + 1, err);
    free(buf);
    fclose(f);
    if (rc) return rc;
    if (d->no_step_lines) rp_note(d, "%s: %ld line(s) without a numeric \"step\" were ignored", path, d->no_step_lines);
    if (dedupe_rows(d)) return errf(err, RLVR_ENOMEM, "%s: out of memory", path);
    if (d->dup_rows) rp_note(d, "%s: %ld line(s) repeat an earlier step (a resumed run): the later line is shown", path, d->dup_rows);
    for (int c = 0; c < d->t.n_cols; c++)
        if (d->t.cols[c].n_nonfinite)
            rp_note(d, "%s: field \"%s\" is null, NaN or infinite at %d step(s) (gaps in its curve)", path, d->t.cols[c].name, d->t.cols[c].n_nonfinite);
    return 0;
}

/* ---- eval JSON files ---- */

static char *dup_json_str(const cJSON *o, const char *key) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(s) && s->valuestring ? rp_utf8_clean(s->valuestring, strlen(s->valuestring)) : NULL;
}

static double num_or_nan(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

static int kpt_cmp(const void *a, const void *b) {
    const rp_kpt *x = a, *y = b;
    return x->k < y->k ? -1 : x->k > y->k;
}

static int load_kpts(const cJSON *row, const char *name, int di, rp_kpt **out, int *n, const char *path, rlvr_err *err) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(row, name);
    *out = NULL, *n = 0;
    if (!arr || cJSON_IsNull(arr)) return 0;
    if (!cJSON_IsArray(arr)) return errf(err, RLVR_EFORMAT, "%s: difficulties[%d].%s: not an array", path, di, name);
    int m = cJSON_GetArraySize(arr);
    if (m > REPORT_MAX_KS) return errf(err, RLVR_EFORMAT, "%s: difficulties[%d].%s: %d entries (at most %d)", path, di, name, m, REPORT_MAX_KS);
    if (!m) return 0;
    rp_kpt *p = calloc(m, sizeof *p);
    if (!p) return errf(err, RLVR_ENOMEM, "%s: out of memory", path);
    int i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "k"), *mean = cJSON_GetObjectItemCaseSensitive(e, "mean");
        if (!cJSON_IsObject(e) || !cJSON_IsNumber(k) || !(k->valuedouble >= 1 && k->valuedouble <= 1e9)) {
            free(p);
            return errf(err, RLVR_EFORMAT, "%s: difficulties[%d].%s[%d]: needs a number \"k\" >= 1", path, di, name, i);
        }
        if (!cJSON_IsNumber(mean) && !cJSON_IsNull(mean)) {
            free(p);
            return errf(err, RLVR_EFORMAT, "%s: difficulties[%d].%s[%d]: needs a number \"mean\"", path, di, name, i);
        }
        p[i] = (rp_kpt){k->valuedouble, cJSON_IsNumber(mean) && isfinite(mean->valuedouble) ? mean->valuedouble : NAN,
                        num_or_nan(e, "ci_lo"), num_or_nan(e, "ci_hi")};
    }
    qsort(p, m, sizeof *p, kpt_cmp);
    *out = p, *n = m;
    return 0;
}

static void example_free(rp_example *x) {
    free(x->source), free(x->prompt), free(x->completion), free(x->truth);
    memset(x, 0, sizeof *x);
}

/* Fills x from a JSON object (samples.jsonl line or an eval file's examples[i]);
 * texts are cut to max_text bytes at a character boundary, their full length kept.
 * Returns 1 when the record has a prompt or a completion, 0 when not, -1 when out of memory. */
static int example_from_json(rp_example *x, const cJSON *o, int max_text) {
    memset(x, 0, sizeof *x);
    x->step = num_or_nan(o, "step"), x->reward = num_or_nan(o, "reward"), x->correct = -1;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "correct");
    if (cJSON_IsBool(c)) x->correct = cJSON_IsTrue(c);
    else if (cJSON_IsNumber(c) && isfinite(c->valuedouble)) x->correct = c->valuedouble > 0;
    const char *keys[3][2] = {{"prompt", NULL}, {"completion", "response"}, {"ground_truth", "answer"}};
    char **dst[3] = {&x->prompt, &x->completion, &x->truth};
    size_t *lens[3] = {&x->prompt_n, &x->completion_n, NULL}, *shown[3] = {&x->prompt_shown, &x->completion_shown, NULL};
    int any = 0;
    for (int i = 0; i < 3; i++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, keys[i][0]);
        if (!cJSON_IsString(s) && keys[i][1]) s = cJSON_GetObjectItemCaseSensitive(o, keys[i][1]);
        if (!cJSON_IsString(s) || !s->valuestring) continue;
        size_t n = strlen(s->valuestring), cut = rp_cut(s->valuestring, n, (size_t)max_text);
        if (!(*dst[i] = rp_utf8_clean(s->valuestring, cut))) return -1;
        if (lens[i]) *lens[i] = n, *shown[i] = cut;
        any |= i < 2;
    }
    return any;
}

static int load_eval(rp_data *d, const report_params *p, int ei, rlvr_err *err) {
    const char *path = p->eval_paths[ei];
    rp_eval *ev = &d->ev[ei];
    char *txt = NULL;
    size_t n = 0;
    if (fs_read_all(path, REPORT_MAX_EVAL_BYTES, &txt, &n, err)) return err ? err->code : RLVR_EIO;
    cJSON *root = parse_json(txt, n, path, err);
    free(txt);
    if (!root) return err ? err->code : RLVR_EFORMAT;
    int rc = 0;
    if (!(ev->path = rp_utf8_clean(path, strlen(path)))) { rc = errf(err, RLVR_ENOMEM, "out of memory"); goto out; }
    const char *lab = p->eval_labels && p->eval_labels[ei] ? p->eval_labels[ei] : NULL;
    if (!lab) {
        const char *b = strrchr(path, '/');
        lab = b ? b + 1 : path;
    }
    size_t ll = strlen(lab);
    if (!lab[0]) lab = "eval", ll = 4;
    if (!(ev->label = rp_utf8_clean(lab, ll))) { rc = errf(err, RLVR_ENOMEM, "out of memory"); goto out; }
    if (!cJSON_IsObject(root)) { rc = errf(err, RLVR_EFORMAT, "%s: not a JSON object (expected rlvr eval's output)", path); goto out; }
    ev->model = dup_json_str(root, "model");
    ev->n = num_or_nan(root, "n");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "difficulties");
    if (!cJSON_IsArray(rows)) { rc = errf(err, RLVR_EFORMAT, "%s: no \"difficulties\" array (expected rlvr eval's output)", path); goto out; }
    int m = cJSON_GetArraySize(rows);
    if (m > REPORT_MAX_DIFFS) { rc = errf(err, RLVR_EFORMAT, "%s: difficulties: %d rows (at most %d)", path, m, REPORT_MAX_DIFFS); goto out; }
    if (m && !(ev->rows = calloc(m, sizeof *ev->rows))) { rc = errf(err, RLVR_ENOMEM, "out of memory"); goto out; }
    static const char *const names[RP_N_METRICS] = {"pass", "maj", "cot_pass"};
    int i = 0;
    for (const cJSON *r = rows->child; r; r = r->next, i++) {
        rp_erow *row = &ev->rows[ev->n_rows];
        const cJSON *df = cJSON_GetObjectItemCaseSensitive(r, "difficulty");
        if (!cJSON_IsObject(r) || !cJSON_IsNumber(df) || !isfinite(df->valuedouble)) {
            rc = errf(err, RLVR_EFORMAT, "%s: difficulties[%d]: needs a number \"difficulty\"", path, i);
            goto out;
        }
        ev->n_rows++;
        row->difficulty = df->valuedouble;
        row->group = dup_json_str(r, "group");
        if (!row->group && !(row->group = strdup(""))) { rc = errf(err, RLVR_ENOMEM, "out of memory"); goto out; }
        for (int mt = 0; mt < RP_N_METRICS; mt++)
            if ((rc = load_kpts(r, names[mt], i, &row->m[mt], &row->n[mt], path, err))) goto out;
    }
    if (!ev->n_rows) rp_note(d, "%s: no difficulties", path);
    const cJSON *exs = cJSON_GetObjectItemCaseSensitive(root, "examples");
    if (cJSON_IsArray(exs)) {
        int per = p->max_examples / (p->n_evals + 1);
        if (per < 4) per = 4;
        for (const cJSON *e = exs->child; e && per > 0; e = e->next) {
            if (!cJSON_IsObject(e)) continue;
            rp_example x;
            int k = example_from_json(&x, e, p->max_text);
            if (k < 0) { example_free(&x); rc = errf(err, RLVR_ENOMEM, "out of memory"); goto out; }
            if (!k) { example_free(&x); continue; }
            rp_example *nx = realloc(d->ex, sizeof *nx * (d->n_ex + 1));
            if (!nx || !(x.source = strdup(ev->label))) { example_free(&x); rc = errf(err, RLVR_ENOMEM, "out of memory"); goto out; }
            d->ex = nx, d->ex[d->n_ex++] = x, per--;
        }
    }
out:
    cJSON_Delete(root);
    return rc;
}

/* ---- samples.jsonl: the last max_examples records ---- */

static int load_samples(rp_data *d, const report_params *p, rlvr_err *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/samples.jsonl", d->run_dir);
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? 0 : errf(err, RLVR_EIO, "%s: cannot open: %s", path, strerror(errno));
    int cap = p->max_examples > 0 ? p->max_examples : 0, n = 0, head = 0;
    rp_example *ring = cap ? calloc(cap, sizeof *ring) : NULL;
    char *buf = NULL;
    size_t bcap = 0, len = 0;
    long line = 0;
    int rc = 0, r;
    if (cap && !ring) { fclose(f); return errf(err, RLVR_ENOMEM, "out of memory"); }
    while ((r = read_line(f, &buf, &bcap, &len, REPORT_MAX_LINE_BYTES)) == 1) {
        line++;
        if (strspn(buf, " \t") == len) continue;
        char where[4300];
        snprintf(where, sizeof where, "%s:%ld", path, line);
        cJSON *o = parse_json(buf, len, where, err);
        if (!o) { rc = err ? err->code : RLVR_EFORMAT; break; }
        if (!cJSON_IsObject(o)) { cJSON_Delete(o); rc = errf(err, RLVR_EFORMAT, "%s: not a JSON object", where); break; }
        d->sample_lines++;
        if (cap) {
            rp_example x;
            int k = example_from_json(&x, o, p->max_text);
            if (k > 0) {
                char src[64];
                if (isfinite(x.step)) snprintf(src, sizeof src, "step %.0f", x.step);
                else snprintf(src, sizeof src, "line %ld", line);
                x.source = strdup(src);
            }
            if (k < 0 || (k > 0 && !x.source)) { example_free(&x); cJSON_Delete(o); rc = errf(err, RLVR_ENOMEM, "out of memory"); break; }
            if (k > 0) {
                rp_example *slot = &ring[(head + n) % cap];
                if (n == cap) example_free(&ring[head]), slot = &ring[head], head = (head + 1) % cap;
                else n++;
                *slot = x;
            } else example_free(&x);
        }
        cJSON_Delete(o);
    }
    if (!rc && r < 0) rc = line_error(r, path, line + 1, err);
    free(buf);
    fclose(f);
    if (!rc && n) {
        rp_example *nx = realloc(d->ex, sizeof *nx * (d->n_ex + n));
        if (!nx) rc = errf(err, RLVR_ENOMEM, "out of memory");
        else {
            d->ex = nx;
            for (int i = 0; i < n; i++) d->ex[d->n_ex++] = ring[(head + i) % cap], memset(&ring[(head + i) % cap], 0, sizeof *ring);
        }
    }
    for (int i = 0; i < cap; i++) example_free(&ring[i]);
    free(ring);
    return rc;
}

/* config.toml is shown as text; eval.n gives the sample size of the periodic evals. */
static void load_config(rp_data *d) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.toml", d->run_dir);
    d->config_eval_n = NAN;
    if (!fs_exists(path)) return;
    char *txt = NULL;
    size_t n = 0;
    rlvr_err e = {0};
    if (fs_read_all(path, MAX_CONFIG_BYTES, &txt, &n, &e)) { rp_note(d, "%s", e.msg); return; }
    d->config_text = rp_utf8_clean(txt, n);
    cfg *c = cfg_new();
    long long en = 0;
    if (c && !cfg_load_buffer(c, txt, n, path, &e) && cfg_has(c, "eval.n") && !cfg_int(c, "eval.n", 0, &en, &e) && en > 0)
        d->config_eval_n = (double)en;
    cfg_free(c);
    free(txt);
}

int rp_load(const report_params *p, rp_data *d, rlvr_err *err) {
    memset(d, 0, sizeof *d);
    d->config_eval_n = NAN;
    if (!p || !p->run_dir || !*p->run_dir) return errf(err, RLVR_EARG, "report: no run directory");
    if (p->n_evals < 0 || p->n_evals > REPORT_MAX_EVALS || (p->n_evals && !p->eval_paths))
        return errf(err, RLVR_EARG, "report: %d eval files (0 to %d)", p->n_evals, REPORT_MAX_EVALS);
    if (!(d->run_dir = strdup(p->run_dir))) return errf(err, RLVR_ENOMEM, "out of memory");
    if (!fs_exists(p->run_dir)) return errf(err, RLVR_EIO, "%s: no such run directory", p->run_dir);
    snprintf(d->metrics_path, sizeof d->metrics_path, "%s/metrics.jsonl", p->run_dir);
    int rc;
    if ((rc = load_metrics(d, err))) return rc;
    if (p->n_evals && !(d->ev = calloc(p->n_evals, sizeof *d->ev))) return errf(err, RLVR_ENOMEM, "out of memory");
    for (int i = 0; i < p->n_evals; i++) {
        d->n_ev = i + 1;
        if ((rc = load_eval(d, p, i, err))) return rc;
    }
    if ((rc = load_samples(d, p, err))) return rc;
    load_config(d);
    if (!d->have_metrics && !d->n_ev)
        return errf(err, RLVR_EIO, "%s: nothing to report (no metrics.jsonl and no eval file given)", p->run_dir);
    if (d->have_metrics && !d->t.n_rows) rp_note(d, "%s: no records", d->metrics_path);
    return 0;
}

void rp_data_free(rp_data *d) {
    if (!d) return;
    for (int c = 0; c < d->t.n_cols; c++) free(d->t.cols[c].name), free(d->t.cols[c].v), free(d->t.cols[c].has);
    free(d->t.cols), free(d->t.step);
    for (int i = 0; i < d->n_ev; i++) {
        rp_eval *ev = &d->ev[i];
        for (int r = 0; r < ev->n_rows; r++) {
            free(ev->rows[r].group);
            for (int m = 0; m < RP_N_METRICS; m++) free(ev->rows[r].m[m]);
        }
        free(ev->rows), free(ev->label), free(ev->path), free(ev->model);
    }
    free(d->ev);
    for (int i = 0; i < d->n_ex; i++) example_free(&d->ex[i]);
    free(d->ex);
    for (int i = 0; i < d->n_notes; i++) free(d->notes[i]);
    free(d->notes), free(d->config_text), free(d->run_dir);
    memset(d, 0, sizeof *d);
}
