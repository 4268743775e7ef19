/* dataset.c: JSONL loader, template, shuffle and split (see dataset.h). Lines are read
 * with a bounded buffer (a hostile line without '\n' never grows memory past
 * max_line_bytes), checked for NUL, BOM and UTF-8 before cJSON sees them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cjson/cJSON.h>
#include "tasks/dataset.h"
#include "core/utf8.h"
#include "core/err.h"
#include "core/rng.h"

struct dataset {
    int n, cap;
    dataset_row *rows;
};

#define DATASET_STREAM 0x64617461ULL /* "data" */

dataset_params dataset_default_params(void) {
    dataset_params p;
    memset(&p, 0, sizeof p);
    p.prompt_key = "prompt";
    p.messages_key = "messages";
    p.answer_key = "ground_truth";
    p.data_source_key = "data_source";
    p.default_data_source = "";
    p.require_answer = 1;
    p.template_str = NULL;
    p.max_line_bytes = (size_t)1 << 20;
    p.max_prompt_bytes = (size_t)256 << 10;
    p.skip_bad = 0;
    return p;
}

uint64_t dataset_hash(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 0x100000001b3ULL; }
    h ^= h >> 33; h *= 0xff51afd7ed558ccdULL; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53ULL; h ^= h >> 33;
    return h;
}

/* ---- rows ------------------------------------------------------------------------ */

static void row_free(dataset_row *r) {
    free(r->prompt); free(r->answer); free(r->data_source);
    for (int i = 0; i < r->n_messages; i++) { free(r->messages[i].role); free(r->messages[i].content); }
    free(r->messages);
    for (int i = 0; i < r->n_extra; i++) { free((char *)r->extra[i].key); free((char *)r->extra[i].val); }
    free(r->extra);
    memset(r, 0, sizeof *r);
}

void dataset_free(dataset *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) row_free(&d->rows[i]);
    free(d->rows);
    free(d);
}

int dataset_count(const dataset *d) { return d ? d->n : 0; }

const dataset_row *dataset_row_at(const dataset *d, int i) {
    if (!d || i < 0 || i >= d->n) return NULL;
    return &d->rows[i];
}

static char *dupn(const char *s, size_t n) {
    char *t = malloc(n + 1);
    if (!t) return NULL;
    memcpy(t, s, n);
    t[n] = 0;
    return t;
}

static int push_row(dataset *d, dataset_row *r) {
    if (d->n == d->cap) {
        int nc = d->cap ? d->cap * 2 : 64;
        if (nc < d->cap) return RLVR_ENOMEM;
        dataset_row *nr = realloc(d->rows, (size_t)nc * sizeof *nr);
        if (!nr) return RLVR_ENOMEM;
        d->rows = nr; d->cap = nc;
    }
    d->rows[d->n++] = *r;
    return RLVR_OK;
}

static int row_copy(dataset_row *dst, const dataset_row *s) {
    memset(dst, 0, sizeof *dst);
    dst->line = s->line; dst->key = s->key;
    dst->prompt_n = s->prompt_n; dst->answer_n = s->answer_n;
    if (!(dst->prompt = dupn(s->prompt, s->prompt_n))) goto oom;
    if (!(dst->answer = dupn(s->answer, s->answer_n))) goto oom;
    if (!(dst->data_source = dupn(s->data_source, strlen(s->data_source)))) goto oom;
    if (s->n_messages) {
        if (!(dst->messages = calloc((size_t)s->n_messages, sizeof *dst->messages))) goto oom;
        for (int i = 0; i < s->n_messages; i++) {
            dst->n_messages = i + 1;
            dst->messages[i].role = dupn(s->messages[i].role, strlen(s->messages[i].role));
            dst->messages[i].content = dupn(s->messages[i].content, strlen(s->messages[i].content));
            if (!dst->messages[i].role || !dst->messages[i].content) goto oom;
        }
    }
    if (s->n_extra) {
        if (!(dst->extra = calloc((size_t)s->n_extra, sizeof *dst->extra))) goto oom;
        for (int i = 0; i < s->n_extra; i++) {
            dst->n_extra = i + 1;
            dst->extra[i].key = dupn(s->extra[i].key, strlen(s->extra[i].key));
            dst->extra[i].val = dupn(s->extra[i].val, s->extra[i].val_n);
            dst->extra[i].val_n = s->extra[i].val_n;
            if (!dst->extra[i].key || !dst->extra[i].val) goto oom;
        }
    }
    return RLVR_OK;
oom:
    row_free(dst);
    return RLVR_ENOMEM;
}

/* ---- line checks ----------------------------------------------------------------- */

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* ---- field access ---------------------------------------------------------------- */

/* Walks a dotted path; NULL when any part is absent. */
static const cJSON *get_path(const cJSON *obj, const char *path) {
    char part[DATASET_KEY_CAP];
    const char *s = path;
    const cJSON *cur = obj;
    while (cur && *s) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (n >= sizeof part || !cJSON_IsObject(cur)) return NULL;
        memcpy(part, s, n); part[n] = 0;
        cur = cJSON_GetObjectItemCaseSensitive(cur, part);
        s += n + (dot ? 1 : 0);
    }
    return cur;
}

static int top_is(const char *path, const char *key) {
    if (!path || !*path) return 0;
    size_t n = strcspn(path, ".");
    return strlen(key) == n && memcmp(path, key, n) == 0;
}

static const char *type_name(const cJSON *v) {
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "invalid";
}

/* Renders template around prompt into a new string; RLVR_EFORMAT when too long. */
static int render(const char *tmpl, const char *prompt, size_t max, char **out, size_t *out_n,
                  char *why, size_t why_cap) {
    size_t pn = strlen(prompt), n = 0;
    if (!tmpl) {
        if (pn > max) { snprintf(why, why_cap, "prompt is %zu bytes, over max_prompt_bytes %zu", pn, max); return RLVR_EFORMAT; }
        *out = dupn(prompt, pn); *out_n = pn;
        return *out ? RLVR_OK : RLVR_ENOMEM;
    }
    for (const char *t = tmpl; *t;) {
        if (!strncmp(t, "{prompt}", 8)) { n += pn; t += 8; } else { n++; t++; }
        if (n > max) { snprintf(why, why_cap, "rendered prompt is over max_prompt_bytes %zu", max); return RLVR_EFORMAT; }
    }
    char *s = malloc(n + 1);
    if (!s) return RLVR_ENOMEM;
    size_t k = 0;
    for (const char *t = tmpl; *t;) {
        if (!strncmp(t, "{prompt}", 8)) { memcpy(s + k, prompt, pn); k += pn; t += 8; } else s[k++] = *t++;
    }
    s[k] = 0;
    *out = s; *out_n = k;
    return RLVR_OK;
}

/* Builds a row from a parsed object. On RLVR_EFORMAT writes the reason into why. */
static int build_row(const cJSON *obj, const dataset_params *p, dataset_row *r, char *why, size_t why_cap) {
    memset(r, 0, sizeof *r);
    int rc = RLVR_EFORMAT;
    const char *raw = NULL;
    int last_user = -1;
    const cJSON *pv = (p->prompt_key && *p->prompt_key) ? get_path(obj, p->prompt_key) : NULL;
    const cJSON *mv = (!pv && p->messages_key && *p->messages_key) ? get_path(obj, p->messages_key) : NULL;
    if (pv) {
        if (!cJSON_IsString(pv)) { snprintf(why, why_cap, "field \"%s\" is %s, expected a string", p->prompt_key, type_name(pv)); goto fail; }
        raw = pv->valuestring;
    } else if (mv) {
        if (!cJSON_IsArray(mv)) { snprintf(why, why_cap, "field \"%s\" is %s, expected an array", p->messages_key, type_name(mv)); goto fail; }
        int n = cJSON_GetArraySize(mv);
        if (n == 0) { snprintf(why, why_cap, "field \"%s\" is an empty array", p->messages_key); goto fail; }
        if (!(r->messages = calloc((size_t)n, sizeof *r->messages))) { rc = RLVR_ENOMEM; goto fail; }
        int i = 0;
        for (const cJSON *m = mv->child; m; m = m->next, i++) {
            const cJSON *role = cJSON_IsObject(m) ? cJSON_GetObjectItemCaseSensitive(m, "role") : NULL;
            const cJSON *content = cJSON_IsObject(m) ? cJSON_GetObjectItemCaseSensitive(m, "content") : NULL;
            if (!cJSON_IsString(role) || !cJSON_IsString(content)) {
                snprintf(why, why_cap, "field \"%s\"[%d] must be an object with string \"role\" and \"content\"", p->messages_key, i);
                goto fail;
            }
            r->n_messages = i + 1;
            r->messages[i].role = dupn(role->valuestring, strlen(role->valuestring));
            r->messages[i].content = dupn(content->valuestring, strlen(content->valuestring));
            if (!r->messages[i].role || !r->messages[i].content) { rc = RLVR_ENOMEM; goto fail; }
            if (!strcmp(role->valuestring, "user")) last_user = i;
        }
        if (last_user < 0) { snprintf(why, why_cap, "field \"%s\" has no \"user\" message", p->messages_key); goto fail; }
        raw = r->messages[last_user].content;
    } else {
        snprintf(why, why_cap, "missing field \"%s\"%s%s%s", p->prompt_key ? p->prompt_key : "",
                 p->messages_key && *p->messages_key ? " (or \"" : "", p->messages_key ? p->messages_key : "",
                 p->messages_key && *p->messages_key ? "\")" : "");
        goto fail;
    }
    r->key = dataset_hash(raw, strlen(raw));
    if ((rc = render(p->template_str, raw, p->max_prompt_bytes, &r->prompt, &r->prompt_n, why, why_cap))) goto fail;
    if (last_user >= 0) {
        char *c = dupn(r->prompt, r->prompt_n);
        if (!c) { rc = RLVR_ENOMEM; goto fail; }
        free(r->messages[last_user].content);
        r->messages[last_user].content = c;
    }
    rc = RLVR_EFORMAT;
    const cJSON *av = (p->answer_key && *p->answer_key) ? get_path(obj, p->answer_key) : NULL;
    if (av && cJSON_IsString(av)) {
        r->answer_n = strlen(av->valuestring);
        r->answer = dupn(av->valuestring, r->answer_n);
    } else if (av && cJSON_IsNumber(av)) {
        r->answer = cJSON_PrintUnformatted(av);
        if (r->answer) { char *t = dupn(r->answer, strlen(r->answer)); cJSON_free(r->answer); r->answer = t; }
        if (r->answer) r->answer_n = strlen(r->answer);
    } else if (av) {
        snprintf(why, why_cap, "field \"%s\" is %s, expected a string or a number", p->answer_key, type_name(av));
        goto fail;
    } else if (p->require_answer) {
        snprintf(why, why_cap, "missing field \"%s\"", p->answer_key ? p->answer_key : "");
        goto fail;
    } else {
        r->answer = dupn("", 0);
    }
    if (!r->answer) { rc = RLVR_ENOMEM; goto fail; }
    const cJSON *dv = (p->data_source_key && *p->data_source_key) ? get_path(obj, p->data_source_key) : NULL;
    if (dv && !cJSON_IsString(dv)) {
        snprintf(why, why_cap, "field \"%s\" is %s, expected a string", p->data_source_key, type_name(dv));
        goto fail;
    }
    const char *ds = dv ? dv->valuestring : (p->default_data_source ? p->default_data_source : "");
    if (!(r->data_source = dupn(ds, strlen(ds)))) { rc = RLVR_ENOMEM; goto fail; }
    int n_extra = 0;
    for (const cJSON *c = obj->child; c; c = c->next) n_extra++;
    if (n_extra && !(r->extra = calloc((size_t)n_extra, sizeof *r->extra))) { rc = RLVR_ENOMEM; goto fail; }
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!c->string) continue;
        if ((pv && top_is(p->prompt_key, c->string)) || (mv && top_is(p->messages_key, c->string)) ||
            top_is(p->answer_key, c->string) || top_is(p->data_source_key, c->string))
            continue;
        reward_kv *kv = &r->extra[r->n_extra];
        char *val;
        if (cJSON_IsString(c)) val = dupn(c->valuestring, strlen(c->valuestring));
        else {
            char *j = cJSON_PrintUnformatted(c);
            val = j ? dupn(j, strlen(j)) : NULL;
            cJSON_free(j);
        }
        char *key = dupn(c->string, strlen(c->string));
        if (!val || !key) { free(val); free(key); rc = RLVR_ENOMEM; goto fail; }
        kv->key = key; kv->val = val; kv->val_n = strlen(val);
        r->n_extra++;
    }
    return RLVR_OK;
fail:
    row_free(r);
    return rc;
}

/* ---- loading --------------------------------------------------------------------- */

static void note_line(long *list, long count, long line) {
    if (count < DATASET_STATS_LINES) list[count] = line;
}

/* Reads one physical line into buf (cap bytes, at most max bytes kept, '\n' dropped).
 * *len gets the kept length, *total the line's full length; returns 0 at EOF with no
 * bytes, 1 otherwise; -1 on a read error. */
static int read_line(FILE *f, char *buf, size_t max, size_t *len, size_t *total, int *had_nl) {
    size_t n = 0, t = 0;
    int c;
    *had_nl = 0;
    while ((c = getc_unlocked(f)) != EOF) {
        if (c == '\n') { *had_nl = 1; break; }
        if (n < max + 1) buf[n++] = (char)c;
        t++;
    }
    if (ferror(f)) return -1;
    *len = n; *total = t;
    return (t > 0 || *had_nl) ? 1 : 0;
}

static int load_stream(const char *name, FILE *f, const dataset_params *p, dataset **out,
                       dataset_stats *st, rlvr_err *err) {
    if (!p->max_line_bytes || p->max_line_bytes > ((size_t)1 << 30))
        return errf(err, RLVR_ECONFIG, "%s: max_line_bytes %zu outside 1..2^30", name, p->max_line_bytes);
    if ((!p->prompt_key || !*p->prompt_key) && (!p->messages_key || !*p->messages_key))
        return errf(err, RLVR_ECONFIG, "%s: neither prompt_key nor messages_key is set", name);
    if (p->template_str && !strstr(p->template_str, "{prompt}"))
        return errf(err, RLVR_ECONFIG, "%s: template has no \"{prompt}\"", name);
    dataset *d = calloc(1, sizeof *d);
    char *buf = malloc(p->max_line_bytes + 2);
    if (!d || !buf) { free(d); free(buf); return errf(err, RLVR_ENOMEM, "%s: out of memory", name); }
    int rc = RLVR_OK;
    long line = 0;
    size_t off = 0; /* file offset of the current line's first byte */
    char why[512];
    for (;;) {
        size_t len, total;
        int had_nl;
        int r = read_line(f, buf, p->max_line_bytes, &len, &total, &had_nl);
        if (r < 0) { rc = errf(err, RLVR_EIO, "%s: read error after line %ld", name, line); break; }
        if (r == 0) break;
        line++;
        st->n_lines = line;
        size_t line_off = off;
        off += total + (size_t)had_nl;
        char *s = buf;
        why[0] = 0;
        long col = 0; /* 1-based column of a byte-level error, 0 when none */
        if (total > p->max_line_bytes) {
            snprintf(why, sizeof why, "line is %zu bytes, over max_line_bytes %zu", total, p->max_line_bytes);
            goto bad;
        }
        if (line == 1 && len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) { st->had_bom = 1; s += 3; len -= 3; line_off += 3; }
        if (len && s[len - 1] == '\r') { st->n_crlf++; len--; }
        {
            char *z = memchr(s, 0, len);
            if (z) { col = (long)(z - s) + 1; snprintf(why, sizeof why, "NUL byte"); goto bad; }
            if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) { col = 1; snprintf(why, sizeof why, "byte-order mark (BOM) not at the start of the file"); goto bad; }
            size_t u = utf8_valid_prefix(s, len);
            if (u < len) { col = (long)u + 1; snprintf(why, sizeof why, "invalid UTF-8 (byte 0x%02x)", (unsigned char)s[u]); goto bad; }
        }
        {
            size_t i = 0;
            while (i < len && is_ws(s[i])) i++;
            if (i == len) { note_line(st->blank_lines, st->n_blank, line); st->n_blank++; continue; }
        }
        s[len] = 0;
        {
            const char *end = NULL;
            cJSON *obj = cJSON_ParseWithLengthOpts(s, len, &end, 0);
            if (!obj) {
                col = end ? (long)(end - s) + 1 : 1;
                if (col > (long)len + 1 || col < 1) col = (long)len + 1;
                snprintf(why, sizeof why, "invalid JSON");
                goto bad;
            }
            while (end && (size_t)(end - s) < len && is_ws(*end)) end++;
            if (end && (size_t)(end - s) < len) {
                col = (long)(end - s) + 1;
                cJSON_Delete(obj);
                snprintf(why, sizeof why, "text after the JSON value");
                goto bad;
            }
            if (!cJSON_IsObject(obj)) {
                snprintf(why, sizeof why, "line is %s, expected a JSON object", type_name(obj));
                cJSON_Delete(obj);
                goto bad;
            }
            dataset_row row;
            int brc = build_row(obj, p, &row, why, sizeof why);
            cJSON_Delete(obj);
            if (brc == RLVR_ENOMEM) { rc = errf(err, RLVR_ENOMEM, "%s:%ld: out of memory", name, line); break; }
            if (brc) goto bad;
            row.line = line;
            if (push_row(d, &row)) { row_free(&row); rc = errf(err, RLVR_ENOMEM, "%s:%ld: out of memory", name, line); break; }
            continue;
        }
    bad:
        if (!p->skip_bad) {
            if (col > 0)
                rc = errf(err, RLVR_EFORMAT, "%s:%ld: %s at column %ld (byte offset %zu)", name, line, why,
                          col, line_off + (size_t)col - 1);
            else
                rc = errf(err, RLVR_EFORMAT, "%s:%ld: %s", name, line, why);
            break;
        }
        if (!st->n_skipped) snprintf(st->first_skip_msg, sizeof st->first_skip_msg, "line %ld: %.200s", line, why);
        note_line(st->skipped_lines, st->n_skipped, line);
        st->n_skipped++;
    }
    free(buf);
    st->n_rows = d->n;
    if (rc) { dataset_free(d); return rc; }
    *out = d;
    return RLVR_OK;
}

int dataset_load(const char *path, const dataset_params *p, dataset **out, dataset_stats *stats,
                 rlvr_err *err) {
    dataset_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!out) return errf(err, RLVR_EARG, "dataset_load: out is NULL");
    *out = NULL;
    if (!path || !p) return errf(err, RLVR_EARG, "dataset_load: NULL path or params");
    FILE *f = fopen(path, "rb");
    if (!f) return errf(err, RLVR_EIO, "%s: cannot open", path);
    int rc = load_stream(path, f, p, out, stats, err);
    fclose(f);
    return rc;
}

int dataset_load_mem(const char *name, const char *text, size_t n, const dataset_params *p,
                     dataset **out, dataset_stats *stats, rlvr_err *err) {
    dataset_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    if (!out) return errf(err, RLVR_EARG, "dataset_load_mem: out is NULL");
    *out = NULL;
    if (!p || (!text && n)) return errf(err, RLVR_EARG, "dataset_load_mem: NULL params or text");
    if (!name) name = "<memory>";
    if (n == 0) {
        *out = calloc(1, sizeof **out);
        return *out ? RLVR_OK : errf(err, RLVR_ENOMEM, "%s: out of memory", name);
    }
    FILE *f = fmemopen((void *)text, n, "rb");
    if (!f) return errf(err, RLVR_ENOMEM, "%s: fmemopen failed", name);
    int rc = load_stream(name, f, p, out, stats, err);
    fclose(f);
    return rc;
}

/* ---- shuffle and split ------------------------------------------------------------ */

void dataset_shuffle(dataset *d, uint64_t seed) {
    if (!d || d->n < 2) return;
    rng_t r;
    rng_seed(&r, seed, DATASET_STREAM);
    for (int i = d->n - 1; i > 0; i--) {
        int j = (int)rng_below(&r, (uint64_t)i + 1);
        dataset_row t = d->rows[i]; d->rows[i] = d->rows[j]; d->rows[j] = t;
    }
}

int dataset_split(const dataset *d, double eval_frac, int mode, uint64_t seed,
                  dataset **train, dataset **eval, rlvr_err *err) {
    if (train) *train = NULL;
    if (eval) *eval = NULL;
    if (!d) return errf(err, RLVR_EARG, "dataset_split: NULL dataset");
    if (!(eval_frac >= 0 && eval_frac <= 1))
        return errf(err, RLVR_EARG, "dataset_split: eval_frac %g outside [0, 1]", eval_frac);
    if (mode != DATASET_SPLIT_FRACTION && mode != DATASET_SPLIT_HASH)
        return errf(err, RLVR_EARG, "dataset_split: unknown mode %d", mode);
    dataset *t = calloc(1, sizeof *t), *e = calloc(1, sizeof *e);
    if (!t || !e) goto oom;
    int n_eval = (int)floor(d->n * eval_frac + 0.5);
    double thr = eval_frac * 4294967296.0;
    for (int i = 0; i < d->n; i++) {
        int is_eval;
        if (mode == DATASET_SPLIT_FRACTION) is_eval = i >= d->n - n_eval;
        else {
            uint64_t s = d->rows[i].key ^ seed;
            uint64_t h = rng_splitmix64(&s);
            is_eval = (double)(h >> 32) < thr;
        }
        dataset *dst = is_eval ? e : t;
        if ((is_eval && !eval) || (!is_eval && !train)) continue;
        dataset_row row;
        if (row_copy(&row, &d->rows[i])) goto oom;
        if (push_row(dst, &row)) { row_free(&row); goto oom; }
    }
    if (train) *train = t; else dataset_free(t);
    if (eval) *eval = e; else dataset_free(e);
    return RLVR_OK;
oom:
    dataset_free(t); dataset_free(e);
    return errf(err, RLVR_ENOMEM, "dataset_split: out of memory");
}
