/* kk.c: knights and knaves generator and checker (see kk.h). */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "tasks/kk.h"
#include "core/err.h"
#include "core/rng.h"

#define KK_STREAM 0x6b6b5f6b6bULL
#define KK_TRIES  20000

static const char *const NAMES[] = {
    "Zoey", "Oliver", "Emma", "Liam", "Mia", "Noah", "Ava", "Lucas",
    "Sofia", "Ethan", "Aria", "Jack", "Chloe", "Henry", "Ruby", "Owen",
};
#define N_NAMES ((int)(sizeof NAMES / sizeof *NAMES))

enum { ST_SINGLE, ST_AND, ST_OR, ST_SAME, ST_DIFF, ST_IMPL, ST_N };

typedef struct stmt { int kind, a, b, ra, rb; } stmt; /* ra/rb: claimed role, 1 knight */

static int role(unsigned mask, int i) { return (int)((mask >> i) & 1u); }

static int stmt_true(const stmt *s, unsigned m) {
    switch (s->kind) {
    case ST_SINGLE: return role(m, s->a) == s->ra;
    case ST_AND:    return role(m, s->a) == s->ra && role(m, s->b) == s->rb;
    case ST_OR:     return role(m, s->a) == s->ra || role(m, s->b) == s->rb;
    case ST_SAME:   return role(m, s->a) == role(m, s->b);
    case ST_DIFF:   return role(m, s->a) != role(m, s->b);
    default:        return role(m, s->a) != s->ra || role(m, s->b) == s->rb;
    }
}

static const char *rname(int r) { return r ? "knight" : "knave"; }

static int stmt_text(const stmt *s, const char *const *nm, char *buf, size_t cap) {
    switch (s->kind) {
    case ST_SINGLE: return snprintf(buf, cap, "%s is a %s", nm[s->a], rname(s->ra));
    case ST_AND: return snprintf(buf, cap, "%s is a %s and %s is a %s", nm[s->a], rname(s->ra), nm[s->b], rname(s->rb));
    case ST_OR: return snprintf(buf, cap, "%s is a %s or %s is a %s", nm[s->a], rname(s->ra), nm[s->b], rname(s->rb));
    case ST_SAME: return snprintf(buf, cap, "%s and %s are the same kind", nm[s->a], nm[s->b]);
    case ST_DIFF: return snprintf(buf, cap, "%s and %s are different kinds", nm[s->a], nm[s->b]);
    default: return snprintf(buf, cap, "if %s is a %s then %s is a %s", nm[s->a], rname(s->ra), nm[s->b], rname(s->rb));
    }
}

kk_params kk_default_params(void) { kk_params p = {3}; return p; }

/* Number of assignments (up to 2) consistent with every statement. */
static int n_solutions(const stmt *st, int n) {
    int count = 0;
    for (unsigned m = 0; m < (1u << n); m++) {
        int ok = 1;
        for (int i = 0; i < n && ok; i++) ok = stmt_true(&st[i], m) == role(m, i);
        if (ok && ++count > 1) return count;
    }
    return count;
}

/* Appends to a bounded buffer; returns 0 on overflow. */
static int app(char *buf, size_t cap, size_t *len, const char *fmt, const char *a, const char *b, const char *c) {
    int m = snprintf(buf + *len, cap - *len, fmt, a, b, c);
    if (m < 0 || (size_t)m >= cap - *len) return 0;
    *len += (size_t)m;
    return 1;
}

int kk_generate(const kk_params *p, uint64_t seed, uint64_t index, kk_problem *out, rlvr_err *err) {
    if (!out) return errf(err, RLVR_EARG, "kk: out is NULL");
    memset(out, 0, sizeof *out);
    if (!p || p->n_people < KK_MIN_PEOPLE || p->n_people > KK_MAX_PEOPLE)
        return errf(err, RLVR_EARG, "kk: n_people %d outside %d..%d", p ? p->n_people : 0, KK_MIN_PEOPLE, KK_MAX_PEOPLE);
    int n = p->n_people;
    for (int attempt = 0; attempt < KK_TRIES; attempt++) {
        rng_t r;
        rng_seed(&r, seed, rng_derive(KK_STREAM, index, (uint64_t)attempt));
        int perm[N_NAMES];
        for (int i = 0; i < N_NAMES; i++) perm[i] = i;
        for (int i = N_NAMES - 1; i > 0; i--) {
            int j = (int)rng_below(&r, (uint64_t)i + 1), t = perm[i];
            perm[i] = perm[j]; perm[j] = t;
        }
        unsigned mask = 0;
        for (int i = 0; i < n; i++) if (rng_below(&r, 2)) mask |= 1u << i;
        stmt st[KK_MAX_PEOPLE];
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            stmt *s = &st[i];
            int want = role(mask, i), tries = 0;
            do {
                s->kind = (int)rng_below(&r, ST_N);
                if (s->kind == ST_SINGLE) {
                    s->a = (int)rng_below(&r, (uint64_t)n - 1);
                    if (s->a >= i) s->a++;
                    s->b = -1;
                } else {
                    s->a = (int)rng_below(&r, (uint64_t)n);
                    s->b = (int)rng_below(&r, (uint64_t)n - 1);
                    if (s->b >= s->a) s->b++;
                }
                s->ra = (int)rng_below(&r, 2);
                s->rb = (int)rng_below(&r, 2);
                if (s->kind == ST_SINGLE && stmt_true(s, mask) != want) s->ra ^= 1;
            } while (stmt_true(s, mask) != want && ++tries < 64);
            ok = stmt_true(s, mask) == want;
        }
        if (!ok || n_solutions(st, n) != 1) continue;

        out->n_people = n;
        for (int i = 0; i < n; i++) { out->names[i] = NAMES[perm[i]]; out->knight[i] = role(mask, i); }
        const char *const *nm = out->names;
        char list[256], text[256];
        size_t ll = 0, len = 0;
        list[0] = 0;
        for (int i = 0; i < n; i++)
            app(list, sizeof list, &ll, i == 0 ? "%s" : i == n - 1 ? " and %s" : ", %s", nm[i], NULL, NULL);
        char nbuf[16];
        snprintf(nbuf, sizeof nbuf, "%d", n);
        ok = app(out->prompt, sizeof out->prompt, &len,
                 "A very special island is inhabited only by knights and knaves. Knights always tell the truth, "
                 "and knaves always lie. You meet %s inhabitants: %s.%s", nbuf, list, "");
        for (int i = 0; i < n && ok; i++) {
            stmt_text(&st[i], nm, text, sizeof text);
            ok = app(out->prompt, sizeof out->prompt, &len, " %s says: \"%s.\"%s", nm[i], text, "");
        }
        ok = ok && app(out->prompt, sizeof out->prompt, &len,
                       " So who is a knight and who is a knave? Give the answer in <answer> </answer> tags, "
                       "one line per person, like \"(1) %s is a knight\".%s%s", nm[0], "", "");
        len = 0;
        for (int i = 0; i < n && ok; i++) {
            stmt_text(&st[i], nm, text, sizeof text);
            ok = app(out->answer, sizeof out->answer, &len, "%s is a %s, so \"%s\" is ", nm[i], rname(out->knight[i]), text);
            ok = ok && app(out->answer, sizeof out->answer, &len, "%s.\n%s%s", out->knight[i] ? "true" : "false", "", "");
        }
        ok = ok && app(out->answer, sizeof out->answer, &len,
                       "No other assignment is consistent with all the statements.\n<answer>%s%s%s", "", "", "");
        size_t gl = 0;
        for (int i = 0; i < n && ok; i++) {
            char num[16];
            snprintf(num, sizeof num, "(%d) ", i + 1);
            ok = app(out->answer, sizeof out->answer, &len, i ? "\n%s%s is a %s" : "%s%s is a %s", num, nm[i], rname(out->knight[i]));
            ok = ok && app(out->ground_truth, sizeof out->ground_truth, &gl, i ? ";%s=%s%s" : "%s=%s%s", nm[i], rname(out->knight[i]), "");
        }
        ok = ok && app(out->answer, sizeof out->answer, &len, "</answer>%s%s%s", "", "", "");
        if (!ok) break;
        return RLVR_OK;
    }
    memset(out, 0, sizeof *out);
    return errf(err, RLVR_EARG, "kk: no uniquely solvable problem found for n_people %d", n);
}

/* ---- checking ---------------------------------------------------------------------- */

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int ieq(const char *s, const char *lit, size_t k) {
    for (size_t i = 0; i < k; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != lit[i]) return 0;
    }
    return 1;
}

/* At s[i..n): " is a knight" / " is a knave" (role word case-insensitive, whole word).
 * Returns 1 knight, 0 knave, -1 neither; *end gets the index after it. */
static int role_at(const char *s, size_t n, size_t i, size_t *end) {
    if (n - i < 6 || memcmp(s + i, " is a ", 6)) return -1;
    i += 6;
    if (n - i >= 6 && ieq(s + i, "knight", 6) && (n - i == 6 || !is_alpha(s[i + 6]))) { *end = i + 6; return 1; }
    if (n - i >= 5 && ieq(s + i, "knave", 5) && (n - i == 5 || !is_alpha(s[i + 5]))) { *end = i + 5; return 0; }
    return -1;
}

static int last_answer_tag(const char *s, size_t n, size_t *b, size_t *e) {
    static const char open[] = "<answer>", close[] = "</answer>";
    size_t lo = sizeof open - 1, lc = sizeof close - 1;
    if (n < lo + lc) return 0;
    for (size_t i = n - lo - lc + 1; i-- > 0;) {
        if (memcmp(s + i, open, lo)) continue;
        for (size_t j = i + lo; j + lc <= n; j++)
            if (!memcmp(s + j, close, lc)) { *b = i + lo; *e = j; return 1; }
    }
    return 0;
}

int kk_score_detail(const char *completion, size_t n, const char *reference, size_t ref_n,
                    double *reward, int *correct, int *n_right, int *n_people) {
    if (reward) *reward = 0;
    if (correct) *correct = 0;
    if (n_right) *n_right = 0;
    if (n_people) *n_people = 0;
    if (!reward || (!completion && n) || !reference) return RLVR_EARG;
    /* reference: Name=role;... */
    char names[KK_MAX_PEOPLE][32];
    int want[KK_MAX_PEOPLE], np = 0;
    size_t i = 0;
    while (i < ref_n) {
        if (np == KK_MAX_PEOPLE) return RLVR_EARG;
        size_t k = 0;
        while (i < ref_n && is_alpha(reference[i])) { if (k >= sizeof names[0] - 1) return RLVR_EARG; names[np][k++] = reference[i++]; }
        names[np][k] = 0;
        if (!k || i >= ref_n || reference[i] != '=') return RLVR_EARG;
        i++;
        if (ref_n - i >= 6 && !memcmp(reference + i, "knight", 6)) { want[np] = 1; i += 6; }
        else if (ref_n - i >= 5 && !memcmp(reference + i, "knave", 5)) { want[np] = 0; i += 5; }
        else return RLVR_EARG;
        np++;
        if (i < ref_n) { if (reference[i] != ';' || i + 1 == ref_n) return RLVR_EARG; i++; }
    }
    if (np == 0) return RLVR_EARG;
    if (n_people) *n_people = np;
    if (!completion || !n) return RLVR_OK;
    size_t b = 0, e = n;
    if (!last_answer_tag(completion, n, &b, &e)) { b = 0; e = n; }
    const char *s = completion + b;
    size_t m = e - b;
    /* every role phrase in the text */
    int total = 0;
    for (size_t j = 0; j + 6 <= m; j++) { size_t end; if (role_at(s, m, j, &end) >= 0) total++; }
    int found[KK_MAX_PEOPLE], right = 0;
    for (int p = 0; p < np; p++) {
        size_t L = strlen(names[p]);
        found[p] = -1;
        for (size_t j = 0; j + L <= m; j++) {
            if (memcmp(s + j, names[p], L) || (j > 0 && is_alpha(s[j - 1]))) continue;
            size_t end;
            int r = role_at(s, m, j + L, &end);
            if (r < 0) continue;
            if (found[p] >= 0 && found[p] != r) found[p] = 2; /* both roles claimed */
            else if (found[p] < 0) found[p] = r;
        }
        right += found[p] == want[p];
    }
    if (n_right) *n_right = right;
    if (right == np && total == np) {
        *reward = 1.0;
        if (correct) *correct = 1;
    }
    return RLVR_OK;
}

int kk_score(const char *completion, size_t n, const char *reference, size_t ref_n,
             double *reward, int *correct) {
    return kk_score_detail(completion, n, reference, ref_n, reward, correct, NULL, NULL);
}

int kk_to_jsonl(const kk_problem *p, char *buf, size_t cap, size_t *n_out, rlvr_err *err) {
    if (n_out) *n_out = 0;
    if (!p || !buf) return errf(err, RLVR_EARG, "kk_to_jsonl: NULL argument");
    if (p->n_people < KK_MIN_PEOPLE || p->n_people > KK_MAX_PEOPLE) return errf(err, RLVR_EARG, "kk_to_jsonl: bad n_people");
    cJSON *o = cJSON_CreateObject(), *sol = cJSON_CreateObject();
    if (!o || !sol) { cJSON_Delete(o); cJSON_Delete(sol); return errf(err, RLVR_ENOMEM, "kk_to_jsonl: out of memory"); }
    char t[KK_TEXT_CAP];
    snprintf(t, sizeof t, "%.*s", (int)sizeof p->prompt - 1, p->prompt);
    cJSON_AddStringToObject(o, "prompt", t);
    snprintf(t, sizeof t, "%.*s", (int)sizeof p->answer - 1, p->answer);
    cJSON_AddStringToObject(o, "answer", t);
    snprintf(t, sizeof t, "%.*s", (int)sizeof p->ground_truth - 1, p->ground_truth);
    cJSON_AddStringToObject(o, "ground_truth", t);
    cJSON_AddStringToObject(o, "data_source", "kk");
    cJSON_AddNumberToObject(o, "difficulty", p->n_people);
    for (int i = 0; i < p->n_people; i++)
        if (p->names[i]) cJSON_AddStringToObject(sol, p->names[i], rname(p->knight[i]));
    cJSON_AddItemToObject(o, "solution", sol);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s) return errf(err, RLVR_ENOMEM, "kk_to_jsonl: out of memory");
    size_t len = strlen(s);
    if (len + 2 > cap) { cJSON_free(s); return errf(err, RLVR_EARG, "kk_to_jsonl: buffer of %zu bytes too small", cap); }
    memcpy(buf, s, len);
    buf[len] = '\n'; buf[len + 1] = 0;
    cJSON_free(s);
    if (n_out) *n_out = len + 1;
    return RLVR_OK;
}
