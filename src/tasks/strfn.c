/* strfn.c: string-function composition generator and checkers (see strfn.h). */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "tasks/strfn.h"
#include "core/err.h"
#include "core/rng.h"

#define STRFN_STREAM 0x737472666eULL /* "strfn" */
#define STRFN_TRIES  1024

static const struct { const char *name, *desc; } FUNCS[STRFN_N_FUNCS] = {
    [STRFN_REVERSE]    = {"reverse", "the letters of s in reverse order"},
    [STRFN_UPPER]      = {"upper", "s with every letter in upper case"},
    [STRFN_LOWER]      = {"lower", "s with every letter in lower case"},
    [STRFN_ROTL]       = {"rotl", "s with its first letter moved to the end"},
    [STRFN_ROTR]       = {"rotr", "s with its last letter moved to the front"},
    [STRFN_DUP]        = {"dup", "s with every letter written twice"},
    [STRFN_DROPVOWELS] = {"dropvowels", "s without the vowels a, e, i, o, u (either case)"},
    [STRFN_SORT]       = {"sort", "the letters of s sorted by character code (upper case before lower case)"},
    [STRFN_SWAPCASE]   = {"swapcase", "s with the case of every letter switched"},
};

const char *strfn_name(int id) { return id >= 0 && id < STRFN_N_FUNCS ? FUNCS[id].name : NULL; }

int strfn_find(const char *name, size_t n) {
    for (int i = 0; i < STRFN_N_FUNCS; i++)
        if (strlen(FUNCS[i].name) == n && !memcmp(FUNCS[i].name, name, n)) return i;
    return -1;
}

static int is_vowel(char c) { return c && strchr("aeiouAEIOU", c) != NULL; }

int strfn_apply(int id, const char *in, char *out, size_t cap) {
    size_t n = strlen(in), k = 0;
    if (cap == 0 || n >= cap) return 0;
    switch (id) {
    case STRFN_REVERSE: for (size_t i = 0; i < n; i++) out[i] = in[n - 1 - i]; k = n; break;
    case STRFN_UPPER: for (size_t i = 0; i < n; i++) out[i] = (in[i] >= 'a' && in[i] <= 'z') ? (char)(in[i] - 32) : in[i]; k = n; break;
    case STRFN_LOWER: for (size_t i = 0; i < n; i++) out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32) : in[i]; k = n; break;
    case STRFN_SWAPCASE:
        for (size_t i = 0; i < n; i++) {
            char c = in[i];
            out[i] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        k = n;
        break;
    case STRFN_ROTL: if (n) { memcpy(out, in + 1, n - 1); out[n - 1] = in[0]; } k = n; break;
    case STRFN_ROTR: if (n) { out[0] = in[n - 1]; memcpy(out + 1, in, n - 1); } k = n; break;
    case STRFN_DUP:
        if (2 * n >= cap) return 0;
        for (size_t i = 0; i < n; i++) { out[2 * i] = out[2 * i + 1] = in[i]; }
        k = 2 * n;
        break;
    case STRFN_DROPVOWELS: for (size_t i = 0; i < n; i++) if (!is_vowel(in[i])) out[k++] = in[i]; break;
    case STRFN_SORT: {
        int cnt[256] = {0};
        for (size_t i = 0; i < n; i++) cnt[(unsigned char)in[i]]++;
        for (int c = 0; c < 256; c++) while (cnt[c]--) out[k++] = (char)c;
        break;
    }
    default: return 0;
    }
    out[k] = 0;
    return 1;
}

strfn_params strfn_default_params(void) { strfn_params p = {2, 4, 8}; return p; }

/* Appends printf text to buf at *len; returns 0 on overflow. */
static int app(char *buf, size_t cap, size_t *len, const char *fmt, const char *a, const char *b, const char *c) {
    int m = snprintf(buf + *len, cap - *len, fmt, a, b, c);
    if (m < 0 || (size_t)m >= cap - *len) return 0;
    *len += (size_t)m;
    return 1;
}

int strfn_generate(const strfn_params *p, uint64_t seed, uint64_t index, strfn_problem *out, rlvr_err *err) {
    if (!out) return errf(err, RLVR_EARG, "strfn: out is NULL");
    memset(out, 0, sizeof *out);
    if (!p) return errf(err, RLVR_EARG, "strfn: params is NULL");
    if (p->depth < 1 || p->depth > STRFN_MAX_DEPTH)
        return errf(err, RLVR_EARG, "strfn: depth %d outside 1..%d", p->depth, STRFN_MAX_DEPTH);
    if (p->min_len < 1 || p->max_len < p->min_len || p->max_len > 16)
        return errf(err, RLVR_EARG, "strfn: length range %d..%d invalid (1 <= min <= max <= 16)", p->min_len, p->max_len);
    for (int attempt = 0; attempt < STRFN_TRIES; attempt++) {
        rng_t r;
        rng_seed(&r, seed, rng_derive(STRFN_STREAM, index, (uint64_t)attempt));
        int len = p->min_len + (int)rng_below(&r, (uint64_t)(p->max_len - p->min_len + 1));
        for (int i = 0; i < len; i++) out->values[0][i] = (char)('a' + rng_below(&r, 26));
        out->values[0][len] = 0;
        int ok = 1;
        for (int k = 0; k < p->depth && ok; k++) {
            ok = 0;
            for (int t = 0; t < 32 && !ok; t++) {
                int f = (int)rng_below(&r, STRFN_N_FUNCS);
                if (!strfn_apply(f, out->values[k], out->values[k + 1], STRFN_STR_CAP)) continue;
                int seen = !out->values[k + 1][0];
                for (int j = 0; j <= k && !seen; j++) seen = !strcmp(out->values[k + 1], out->values[j]);
                if (seen) continue; /* no identity steps and no cycles back to an earlier value */
                out->fns[k] = f;
                ok = 1;
            }
        }
        if (!ok) continue;
        int d = out->depth = p->depth;
        size_t pl = 0, al = 0, gl = 0;
        ok = app(out->prompt, sizeof out->prompt, &pl, "Functions:%s%s%s\n", "", "", "");
        int used[STRFN_N_FUNCS] = {0};
        for (int k = 0; k < d && ok; k++) {
            if (used[out->fns[k]]++) continue;
            ok = app(out->prompt, sizeof out->prompt, &pl, "%s(s): %s%s\n", FUNCS[out->fns[k]].name, FUNCS[out->fns[k]].desc, "");
        }
        char comp[STRFN_TEXT_CAP / 2];
        size_t cl = 0;
        for (int k = d - 1; k >= 0 && ok; k--) ok = app(comp, sizeof comp, &cl, "%s(%s%s", FUNCS[out->fns[k]].name, "", "");
        ok = ok && app(comp, sizeof comp, &cl, "x%s%s%s", "", "", "");
        for (int k = 0; k < d && ok; k++) ok = app(comp, sizeof comp, &cl, ")%s%s%s", "", "", "");
        ok = ok && app(out->prompt, sizeof out->prompt, &pl,
                       "Let x = \"%s\". Compute %s. Write each step on its own line as name(input) = output, "
                       "innermost first, then a last line \"Answer: <result>\".%s", out->values[0], comp, "");
        for (int k = 0; k < d && ok; k++)
            ok = app(out->answer, sizeof out->answer, &al, "%s(%s) = %s\n", FUNCS[out->fns[k]].name, out->values[k], out->values[k + 1]);
        ok = ok && app(out->answer, sizeof out->answer, &al, "Answer: %s%s%s", out->values[d], "", "");
        ok = ok && app(out->ground_truth, sizeof out->ground_truth, &gl, "x=%s;fns=%s%s", out->values[0], "", "");
        for (int k = 0; k < d && ok; k++)
            ok = app(out->ground_truth, sizeof out->ground_truth, &gl, "%s%s%s", k ? "," : "", FUNCS[out->fns[k]].name, "");
        if (!ok) break;
        return RLVR_OK;
    }
    memset(out, 0, sizeof *out);
    return errf(err, RLVR_EARG, "strfn: no problem found for depth %d", p->depth);
}

/* ---- checking ---------------------------------------------------------------------- */

/* Parses "x=letters;fns=a,b,c" and recomputes values. */
static int parse_ref(const char *ref, size_t n, int *depth, int *fns, char values[][STRFN_STR_CAP]) {
    size_t i = 2, k = 0;
    if (!ref || n < 2 || memcmp(ref, "x=", 2)) return RLVR_EARG;
    while (i < n && ref[i] != ';') {
        char c = ref[i++];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) || k >= 16) return RLVR_EARG;
        values[0][k++] = c;
    }
    values[0][k] = 0;
    if (!k || n - i < 5 || memcmp(ref + i, ";fns=", 5)) return RLVR_EARG;
    i += 5;
    *depth = 0;
    for (;;) {
        size_t s = i;
        while (i < n && ref[i] != ',') i++;
        int f = strfn_find(ref + s, i - s);
        if (f < 0 || *depth >= STRFN_MAX_DEPTH) return RLVR_EARG;
        fns[*depth] = f;
        if (!strfn_apply(f, values[*depth], values[*depth + 1], STRFN_STR_CAP)) return RLVR_EARG;
        (*depth)++;
        if (i == n) break;
        i++;
        if (i == n) return RLVR_EARG;
    }
    return RLVR_OK;
}

static const char *find_bytes(const char *s, size_t n, const char *t, size_t m) {
    if (m == 0 || m > n) return NULL;
    return memmem(s, n, t, m);
}

static int is_sp(char c) { return c == ' ' || c == '\t' || c == '\r'; }

int strfn_check(const char *completion, size_t n, const char *reference, size_t ref_n, strfn_report *rep) {
    if (rep) memset(rep, 0, sizeof *rep);
    if (!rep || (!completion && n) || !reference) return RLVR_EARG;
    int depth, fns[STRFN_MAX_DEPTH];
    char values[STRFN_MAX_DEPTH + 1][STRFN_STR_CAP];
    if (parse_ref(reference, ref_n, &depth, fns, values)) return RLVR_EARG;
    rep->depth = depth;
    if (!completion || !n) return RLVR_OK;
    const char *s = completion;
    /* outcome */
    size_t b = 0, e = n;
    int tagged = 0;
    for (size_t i = n; i-- > 0;)
        if (n - i >= 7 && !memcmp(s + i, "Answer:", 7)) { b = i + 7; tagged = 1; break; }
    if (tagged) {
        e = b;
        while (e < n && s[e] != '\n') e++;
    } else { /* the last non-blank line */
        e = n;
        while (e > 0 && (s[e - 1] == '\n' || is_sp(s[e - 1]))) e--;
        b = e;
        while (b > 0 && s[b - 1] != '\n') b--;
    }
    while (b < e && is_sp(s[b])) b++;
    while (e > b && is_sp(s[e - 1])) e--;
    if (e - b >= 2 && ((s[b] == '"' && s[e - 1] == '"') || (s[b] == '\'' && s[e - 1] == '\''))) { b++; e--; }
    size_t fl = strlen(values[depth]);
    rep->final_ok = e - b == fl && !memcmp(s + b, values[depth], fl);
    /* process: "name(prev) = value" in order */
    size_t pos = 0;
    for (int k = 0; k < depth; k++) {
        char head[STRFN_STR_CAP + 32];
        int hl = snprintf(head, sizeof head, "%s(%s)", FUNCS[fns[k]].name, values[k]);
        const char *v = values[k + 1];
        size_t vl = strlen(v);
        int found = 0;
        while (!found && pos < n) {
            const char *h = find_bytes(s + pos, n - pos, head, (size_t)hl);
            if (!h) break;
            size_t j = (size_t)(h - s) + (size_t)hl;
            pos = (size_t)(h - s) + 1;
            while (j < n && is_sp(s[j])) j++;
            if (j >= n || s[j] != '=') continue;
            j++;
            while (j < n && is_sp(s[j])) j++;
            if (n - j < vl || memcmp(s + j, v, vl)) continue;
            j += vl;
            if (j < n && !is_sp(s[j]) && s[j] != '\n' && s[j] != ',' && s[j] != ';' && s[j] != '.') continue;
            found = 1;
            pos = j;
        }
        if (!found) break;
        rep->steps_ok++;
    }
    rep->process_ok = rep->final_ok && rep->steps_ok == depth;
    return RLVR_OK;
}

int strfn_score(const char *completion, size_t n, const char *reference, size_t ref_n,
                double *reward, int *correct) {
    strfn_report rep;
    if (reward) *reward = 0;
    if (correct) *correct = 0;
    if (!reward) return RLVR_EARG;
    int rc = strfn_check(completion, n, reference, ref_n, &rep);
    if (rc) return rc;
    *reward = rep.final_ok ? 1.0 : 0.0;
    if (correct) *correct = rep.final_ok;
    return RLVR_OK;
}

int strfn_process_score(const char *completion, size_t n, const char *reference, size_t ref_n,
                        double *reward, int *correct) {
    strfn_report rep;
    if (reward) *reward = 0;
    if (correct) *correct = 0;
    if (!reward) return RLVR_EARG;
    int rc = strfn_check(completion, n, reference, ref_n, &rep);
    if (rc) return rc;
    *reward = rep.depth ? (double)rep.steps_ok / rep.depth : 0.0;
    if (correct) *correct = rep.process_ok;
    return RLVR_OK;
}

int strfn_to_jsonl(const strfn_problem *p, char *buf, size_t cap, size_t *n_out, rlvr_err *err) {
    if (n_out) *n_out = 0;
    if (!p || !buf) return errf(err, RLVR_EARG, "strfn_to_jsonl: NULL argument");
    if (p->depth < 1 || p->depth > STRFN_MAX_DEPTH) return errf(err, RLVR_EARG, "strfn_to_jsonl: bad depth");
    cJSON *o = cJSON_CreateObject(), *tr = cJSON_CreateArray();
    if (!o || !tr) { cJSON_Delete(o); cJSON_Delete(tr); return errf(err, RLVR_ENOMEM, "strfn_to_jsonl: out of memory"); }
    char t[STRFN_TEXT_CAP];
    snprintf(t, sizeof t, "%.*s", (int)sizeof p->prompt - 1, p->prompt);
    cJSON_AddStringToObject(o, "prompt", t);
    snprintf(t, sizeof t, "%.*s", (int)sizeof p->answer - 1, p->answer);
    cJSON_AddStringToObject(o, "answer", t);
    snprintf(t, sizeof t, "%.*s", (int)sizeof p->ground_truth - 1, p->ground_truth);
    cJSON_AddStringToObject(o, "ground_truth", t);
    cJSON_AddStringToObject(o, "data_source", "strfn");
    cJSON_AddNumberToObject(o, "difficulty", p->depth);
    for (int k = 0; k <= p->depth; k++) {
        snprintf(t, sizeof t, "%.*s", STRFN_STR_CAP - 1, p->values[k]);
        cJSON_AddItemToArray(tr, cJSON_CreateString(t));
    }
    cJSON_AddItemToObject(o, "trace", tr);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return errf(err, RLVR_ENOMEM, "strfn_to_jsonl: out of memory");
    size_t len = strlen(s);
    if (len + 2 > cap) { cJSON_free(s); return errf(err, RLVR_EARG, "strfn_to_jsonl: buffer of %zu bytes too small", cap); }
    memcpy(buf, s, len);
    buf[len] = '\n'; buf[len + 1] = 0;
    cJSON_free(s);
    if (n_out) *n_out = len + 1;
    return RLVR_OK;
}
