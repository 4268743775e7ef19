/* ifeval.c: IFEval instruction checkers (ifeval.h). Reading order: text helpers
 * (lenient UTF-8, Python-like whitespace/word classes, strip, case folding), the
 * instruction table and kwargs parser, one check function per instruction, strict and
 * loose scoring, then the reward adapters. Semantics follow lm-evaluation-harness
 * (lm_eval/tasks/ifeval/instructions.py); departures are listed in docs/verifiers.md. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "core/err.h"
#include "rewards/ifeval.h"

/* ---- text helpers --------------------------------------------------------------------------- */

typedef struct view {
    const char *s;
    size_t n;
} view;

/* Decodes one code point at s[0..n) (n >= 1); invalid bytes read as U+FFFD, one byte each. */
static inline int32_t dec(const char *s, size_t n, size_t *k) { return reward_utf8_next(s, n, k); }

/* The code point that ends at s[e] (exclusive), decoded consistently with dec(). */
static int32_t dec_back(const char *s, size_t e, size_t *k) {
    size_t a = e - 1;
    while (a > 0 && e - a < 4 && ((unsigned char)s[a] & 0xC0) == 0x80) a--;
    int32_t c = dec(s + a, e - a, k);
    if (*k == e - a) return c;
    *k = 1;
    return 0xFFFD;
}

/* Python str.isspace() */
static int is_space(int32_t c) {
    return (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
           c == 0x3000;
}

/* General category, with the cases a hostile text is made of (ASCII, U+FFFD) inline. */
static int cat_of(int32_t c) {
    if (c < 0x80) {
        if (c >= 'a' && c <= 'z') return UTF8PROC_CATEGORY_LL;
        if (c >= 'A' && c <= 'Z') return UTF8PROC_CATEGORY_LU;
        if (c >= '0' && c <= '9') return UTF8PROC_CATEGORY_ND;
        return UTF8PROC_CATEGORY_PO; /* punctuation, symbols, controls: none of the classes used */
    }
    if (c == 0xFFFD) return UTF8PROC_CATEGORY_SO;
    return utf8proc_category(c);
}

/* Python's \w: letters, numbers, underscore */
static int is_word(int32_t c) {
    int cat = cat_of(c);
    return c == '_' || (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
           (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

static int is_digit(int32_t c) { return cat_of(c) == UTF8PROC_CATEGORY_ND; }

static int is_letter(int32_t c) {
    int cat = cat_of(c);
    return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

/* Python str.strip(): Unicode whitespace off both ends (cost: the whitespace only). */
static view strip(view v) {
    size_t a = 0, b = v.n, k;
    while (a < b && is_space(dec(v.s + a, b - a, &k))) a += k;
    while (b > a && is_space(dec_back(v.s, b, &k))) b -= k;
    return (view){v.s + a, b - a};
}

static int blank(view v) { return strip(v).n == 0; }

/* Lower-cases v (Unicode simple mapping) into o, which holds 3 * v.n + 8 bytes, as valid
 * UTF-8 (invalid bytes become U+FFFD); returns the length. */
static size_t fold_to(view v, char *o) {
    size_t i = 0, j = 0, k;
    while (i < v.n) {
        int32_t c = dec(v.s + i, v.n - i, &k);
        i += k;
        if (c < 0x80) { o[j++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c); continue; }
        if (c != 0xFFFD) c = utf8proc_tolower(c);
        if (c < 0x80) { o[j++] = (char)c; continue; }
        utf8proc_uint8_t buf[4];
        utf8proc_ssize_t w = utf8proc_encode_char(c, buf);
        if (w < 1 || j + (size_t)w > 3 * v.n + 8) { w = 3; memcpy(buf, "\xEF\xBF\xBD", 3); }
        memcpy(o + j, buf, (size_t)w);
        j += (size_t)w;
    }
    o[j] = 0;
    return j;
}

/* fold_to into a fresh buffer; NULL when out of memory. */
static char *fold(view v, size_t *out_n) {
    if (v.n > (SIZE_MAX - 8) / 3) return NULL;
    char *o = malloc(3 * v.n + 8);
    if (!o) return NULL;
    *out_n = fold_to(v, o);
    return o;
}

/* First occurrence of nd in h. memchr for the first byte, then memcmp: O(hn * nn) at
 * worst, and nn is capped (IFEVAL_MAX_WORD / IFEVAL_MAX_STR). Not memmem: sanitizers
 * check its whole haystack on every call, which makes the callers that search again
 * after every hit quadratic under ASAN=1. */
static const char *find(const char *h, size_t hn, const char *nd, size_t nn) {
    if (nn == 0) return h;
    if (!h || !nd || hn < nn) return NULL;
    const char *end = h + (hn - nn) + 1; /* a match must start before end */
    for (const char *p = h; p < end; p++) {
        p = memchr(p, nd[0], (size_t)(end - p));
        if (!p) return NULL;
        if (memcmp(p + 1, nd + 1, nn - 1) == 0) return p;
    }
    return NULL;
}

/* Non-overlapping occurrences of nd in h (re.findall of a literal). */
static size_t count_occ(const char *h, size_t hn, const char *nd, size_t nn) {
    if (nn == 0) { /* an empty pattern matches between every pair of characters */
        size_t c = 1, i = 0, k;
        while (i < hn) { dec(h + i, hn - i, &k); i += k; c++; }
        return c;
    }
    size_t c = 0, i = 0;
    const char *p;
    while ((p = find(h + i, hn - i, nd, nn))) {
        c++;
        i = (size_t)(p - h) + nn;
    }
    return c;
}

static int32_t prev_cp(const char *s, size_t i) {
    size_t k;
    return i ? dec_back(s, i, &k) : 0;
}

/* ---- instructions ------------------------------------------------------------------------------ */

enum {
    IF_KW_EXISTENCE, IF_KW_FREQUENCY, IF_KW_FORBIDDEN, IF_KW_LETTER, IF_LANGUAGE,
    IF_N_SENTENCES, IF_N_PARAGRAPHS, IF_N_WORDS, IF_NTH_PARAGRAPH,
    IF_PLACEHOLDERS, IF_POSTSCRIPT,
    IF_BULLETS, IF_CONSTRAINED, IF_HIGHLIGHTS, IF_SECTIONS, IF_JSON, IF_TITLE,
    IF_TWO_RESPONSES, IF_REPEAT_PROMPT, IF_END_CHECKER, IF_QUOTATION,
    IF_CAPITAL_FREQ, IF_ENGLISH_CAPITAL, IF_ENGLISH_LOWER, IF_NO_COMMA,
    IF_N_KINDS
};

static const char *const IDS[IF_N_KINDS] = {
    [IF_KW_EXISTENCE] = "keywords:existence",
    [IF_KW_FREQUENCY] = "keywords:frequency",
    [IF_KW_FORBIDDEN] = "keywords:forbidden_words",
    [IF_KW_LETTER] = "keywords:letter_frequency",
    [IF_LANGUAGE] = "language:response_language",
    [IF_N_SENTENCES] = "length_constraints:number_sentences",
    [IF_N_PARAGRAPHS] = "length_constraints:number_paragraphs",
    [IF_N_WORDS] = "length_constraints:number_words",
    [IF_NTH_PARAGRAPH] = "length_constraints:nth_paragraph_first_word",
    [IF_PLACEHOLDERS] = "detectable_content:number_placeholders",
    [IF_POSTSCRIPT] = "detectable_content:postscript",
    [IF_BULLETS] = "detectable_format:number_bullet_lists",
    [IF_CONSTRAINED] = "detectable_format:constrained_response",
    [IF_HIGHLIGHTS] = "detectable_format:number_highlighted_sections",
    [IF_SECTIONS] = "detectable_format:multiple_sections",
    [IF_JSON] = "detectable_format:json_format",
    [IF_TITLE] = "detectable_format:title",
    [IF_TWO_RESPONSES] = "combination:two_responses",
    [IF_REPEAT_PROMPT] = "combination:repeat_prompt",
    [IF_END_CHECKER] = "startend:end_checker",
    [IF_QUOTATION] = "startend:quotation",
    [IF_CAPITAL_FREQ] = "change_case:capital_word_frequency",
    [IF_ENGLISH_CAPITAL] = "change_case:english_capital",
    [IF_ENGLISH_LOWER] = "change_case:english_lowercase",
    [IF_NO_COMMA] = "punctuation:no_comma",
};

enum { REL_LESS, REL_AT_LEAST, REL_AT_MOST, REL_EXACTLY, REL_MORE };

/* Writing systems for language:response_language (code point ranges of each script). */
enum { SC_CYRILLIC, SC_ARABIC, SC_DEVANAGARI, SC_BENGALI, SC_GURMUKHI, SC_GUJARATI, SC_TAMIL, SC_TELUGU,
       SC_KANNADA, SC_MALAYALAM, SC_THAI, SC_HANGUL, SC_JAPANESE, SC_CHINESE, SC_HEBREW, SC_GREEK };
static const struct { const char *code; int script; } LANGS[] = {
    {"ru", SC_CYRILLIC}, {"uk", SC_CYRILLIC}, {"bg", SC_CYRILLIC}, {"sr", SC_CYRILLIC}, {"mk", SC_CYRILLIC},
    {"ar", SC_ARABIC}, {"fa", SC_ARABIC}, {"ur", SC_ARABIC}, {"hi", SC_DEVANAGARI}, {"mr", SC_DEVANAGARI},
    {"ne", SC_DEVANAGARI}, {"bn", SC_BENGALI}, {"pa", SC_GURMUKHI}, {"gu", SC_GUJARATI}, {"ta", SC_TAMIL},
    {"te", SC_TELUGU}, {"kn", SC_KANNADA}, {"ml", SC_MALAYALAM}, {"th", SC_THAI}, {"ko", SC_HANGUL},
    {"ja", SC_JAPANESE}, {"zh", SC_CHINESE}, {"zh-cn", SC_CHINESE}, {"zh-tw", SC_CHINESE}, {"he", SC_HEBREW},
    {"el", SC_GREEK},
};

typedef struct instr {
    int kind;
    int rel;
    long num, nth;
    int script;
    char *str; /* keyword (folded), letter (folded), phrase, marker, splitter, prompt, first word */
    size_t str_n;
    int n_words;
    char *words[IFEVAL_MAX_WORDS]; /* folded keywords / forbidden words */
    size_t words_n[IFEVAL_MAX_WORDS];
} instr;

struct ifeval_list {
    int n;
    instr in[IFEVAL_MAX_INSTR];
};

void ifeval_free(ifeval_list *l) {
    if (!l) return;
    for (int i = 0; i < l->n; i++) {
        free(l->in[i].str);
        for (int w = 0; w < l->in[i].n_words; w++) free(l->in[i].words[w]);
    }
    free(l);
}

int ifeval_count(const ifeval_list *l) { return l ? l->n : 0; }

const char *ifeval_id(const ifeval_list *l, int i) {
    if (!l || i < 0 || i >= l->n) return NULL;
    return IDS[l->in[i].kind];
}

int ifeval_ids(const char **ids, int cap) {
    for (int i = 0; ids && i < cap && i < IF_N_KINDS; i++) ids[i] = IDS[i];
    return IF_N_KINDS;
}

/* kwargs readers: a key that is absent or null is "missing". */
static const cJSON *kw(const cJSON *kwargs, const char *key) {
    const cJSON *v = cJSON_IsObject(kwargs) ? cJSON_GetObjectItemCaseSensitive(kwargs, key) : NULL;
    return v && !cJSON_IsNull(v) ? v : NULL;
}

static int kw_num(const cJSON *kwargs, const char *id, const char *key, long *out, rlvr_err *err) {
    const cJSON *v = kw(kwargs, key);
    if (!v) return errf(err, RLVR_EARG, "ifeval: %s needs kwarg '%s'", id, key);
    double d;
    if (cJSON_IsNumber(v)) d = v->valuedouble;
    else if (cJSON_IsString(v)) {
        char *end;
        d = strtod(v->valuestring, &end);
        if (end == v->valuestring || *end) d = NAN;
    } else d = NAN;
    if (!(d == floor(d) && fabs(d) <= 1e12)) return errf(err, RLVR_EARG, "ifeval: %s kwarg '%s' is not an integer", id, key);
    *out = (long)d;
    return RLVR_OK;
}

/* String kwargs are capped (IFEVAL_MAX_WORD, or IFEVAL_MAX_STR for phrases) so that the
 * checks that re-test a match at every position stay linear in the response. */
static int kw_str_cap(const cJSON *kwargs, const char *id, const char *key, size_t cap, const char **s, size_t *n,
                      rlvr_err *err) {
    const cJSON *v = kw(kwargs, key);
    if (!cJSON_IsString(v) || !v->valuestring) return errf(err, RLVR_EARG, "ifeval: %s needs string kwarg '%s'", id, key);
    *s = v->valuestring;
    *n = strlen(v->valuestring);
    if (*n > cap) return errf(err, RLVR_EARG, "ifeval: %s kwarg '%s' longer than %zu bytes", id, key, cap);
    return RLVR_OK;
}

static int kw_str(const cJSON *kwargs, const char *id, const char *key, const char **s, size_t *n, rlvr_err *err) {
    return kw_str_cap(kwargs, id, key, IFEVAL_MAX_WORD, s, n, err);
}

static int kw_rel(const cJSON *kwargs, const char *id, const char *key, int *rel, rlvr_err *err) {
    static const struct { const char *s; int rel; } RELS[] = {
        {"less than", REL_LESS}, {"at least", REL_AT_LEAST}, {"at most", REL_AT_MOST},
        {"exactly", REL_EXACTLY}, {"more than", REL_MORE}};
    const char *s;
    size_t n;
    int rc = kw_str(kwargs, id, key, &s, &n, err);
    if (rc) return rc;
    for (size_t i = 0; i < sizeof RELS / sizeof RELS[0]; i++)
        if (strcmp(s, RELS[i].s) == 0) { *rel = RELS[i].rel; return RLVR_OK; }
    return errf(err, RLVR_EARG, "ifeval: %s relation '%.40s' (less than, at least, at most, exactly, more than)", id, s);
}

static int dup_str(const char *s, size_t n, int folded, char **out, size_t *out_n) {
    if (folded) {
        *out = fold((view){s, n}, out_n);
        return *out ? 0 : -1;
    }
    *out = malloc(n + 1);
    if (!*out) return -1;
    memcpy(*out, s, n);
    (*out)[n] = 0;
    *out_n = n;
    return 0;
}

static int kw_words(const cJSON *kwargs, const char *id, const char *key, instr *I, rlvr_err *err) {
    const cJSON *v = kw(kwargs, key);
    if (cJSON_IsString(v)) { /* a lone string is a one-word list */
        if (strlen(v->valuestring) > IFEVAL_MAX_WORD)
            return errf(err, RLVR_EARG, "ifeval: %s '%s' longer than %d bytes", id, key, IFEVAL_MAX_WORD);
        if (dup_str(v->valuestring, strlen(v->valuestring), 1, &I->words[0], &I->words_n[0]))
            return errf(err, RLVR_ENOMEM, "ifeval: out of memory");
        I->n_words = 1;
        return RLVR_OK;
    }
    if (!cJSON_IsArray(v)) return errf(err, RLVR_EARG, "ifeval: %s needs a list kwarg '%s'", id, key);
    int n = cJSON_GetArraySize(v);
    if (n > IFEVAL_MAX_WORDS) return errf(err, RLVR_EARG, "ifeval: %s has more than %d '%s'", id, IFEVAL_MAX_WORDS, key);
    for (int i = 0; i < n; i++) {
        const cJSON *w = cJSON_GetArrayItem(v, i);
        if (!cJSON_IsString(w)) return errf(err, RLVR_EARG, "ifeval: %s '%s'[%d] is not a string", id, key, i);
        if (strlen(w->valuestring) > IFEVAL_MAX_WORD)
            return errf(err, RLVR_EARG, "ifeval: %s '%s'[%d] longer than %d bytes", id, key, i, IFEVAL_MAX_WORD);
        if (dup_str(w->valuestring, strlen(w->valuestring), 1, &I->words[i], &I->words_n[i]))
            return errf(err, RLVR_ENOMEM, "ifeval: out of memory");
        I->n_words = i + 1;
    }
    return RLVR_OK;
}

/* Fills I from (id, kwargs). */
static int parse_instr(const char *id, const cJSON *kwargs, instr *I, rlvr_err *err) {
    memset(I, 0, sizeof *I);
    int kind = -1;
    for (int k = 0; k < IF_N_KINDS; k++)
        if (strcmp(id, IDS[k]) == 0) kind = k;
    if (kind < 0) return errf(err, RLVR_EARG, "ifeval: unknown instruction id '%.100s'", id);
    I->kind = kind;
    id = IDS[kind];
    const char *s = NULL;
    size_t n = 0;
    int rc = RLVR_OK;
#define STR(key, folded)                                                        \
    do {                                                                        \
        if ((rc = kw_str(kwargs, id, key, &s, &n, err))) return rc;             \
        if (dup_str(s, n, folded, &I->str, &I->str_n))                          \
            return errf(err, RLVR_ENOMEM, "ifeval: out of memory");             \
    } while (0)
    switch (kind) {
    case IF_KW_EXISTENCE: return kw_words(kwargs, id, "keywords", I, err);
    case IF_KW_FORBIDDEN: return kw_words(kwargs, id, "forbidden_words", I, err);
    case IF_KW_FREQUENCY:
        STR("keyword", 1);
        if ((rc = kw_num(kwargs, id, "frequency", &I->num, err))) return rc;
        return kw_rel(kwargs, id, "relation", &I->rel, err);
    case IF_KW_LETTER: {
        STR("letter", 1);
        size_t k;
        if (I->str_n == 0 || (dec(I->str, I->str_n, &k), k != I->str_n))
            return errf(err, RLVR_EARG, "ifeval: %s kwarg 'letter' must be one character", id);
        if ((rc = kw_num(kwargs, id, "let_frequency", &I->num, err))) return rc;
        return kw_rel(kwargs, id, "let_relation", &I->rel, err);
    }
    case IF_LANGUAGE: {
        if ((rc = kw_str(kwargs, id, "language", &s, &n, err))) return rc;
        char code[8];
        size_t m = n < sizeof code - 1 ? n : sizeof code - 1;
        for (size_t i = 0; i < m; i++) code[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
        code[m] = 0;
        for (size_t i = 0; i < sizeof LANGS / sizeof LANGS[0]; i++)
            if (n == strlen(LANGS[i].code) && strcmp(code, LANGS[i].code) == 0) {
                I->script = LANGS[i].script;
                return RLVR_OK;
            }
        return errf(err, RLVR_EUNSUPPORTED, "ifeval: %s language '%.16s' cannot be checked (no language "
                    "detector; only non-Latin scripts are)", id, s);
    }
    case IF_N_SENTENCES:
        if ((rc = kw_num(kwargs, id, "num_sentences", &I->num, err))) return rc;
        return kw_rel(kwargs, id, "relation", &I->rel, err);
    case IF_N_WORDS:
        if ((rc = kw_num(kwargs, id, "num_words", &I->num, err))) return rc;
        return kw_rel(kwargs, id, "relation", &I->rel, err);
    case IF_N_PARAGRAPHS: return kw_num(kwargs, id, "num_paragraphs", &I->num, err);
    case IF_NTH_PARAGRAPH:
        if ((rc = kw_num(kwargs, id, "num_paragraphs", &I->num, err)) ||
            (rc = kw_num(kwargs, id, "nth_paragraph", &I->nth, err)))
            return rc;
        if (I->nth < 1) return errf(err, RLVR_EARG, "ifeval: %s nth_paragraph must be >= 1", id);
        STR("first_word", 1);
        return RLVR_OK;
    case IF_PLACEHOLDERS: return kw_num(kwargs, id, "num_placeholders", &I->num, err);
    case IF_POSTSCRIPT:
        STR("postscript_marker", 1);
        if (strip((view){I->str, I->str_n}).n == 0) return errf(err, RLVR_EARG, "ifeval: %s empty postscript_marker", id);
        return RLVR_OK;
    case IF_BULLETS: return kw_num(kwargs, id, "num_bullets", &I->num, err);
    case IF_HIGHLIGHTS: return kw_num(kwargs, id, "num_highlights", &I->num, err);
    case IF_SECTIONS:
        STR("section_spliter", 0);
        if (I->str_n == 0) return errf(err, RLVR_EARG, "ifeval: %s empty section_spliter", id);
        return kw_num(kwargs, id, "num_sections", &I->num, err);
    case IF_REPEAT_PROMPT: /* stored stripped and folded, as the check compares them */
    case IF_END_CHECKER: {
        if ((rc = kw_str_cap(kwargs, id, kind == IF_END_CHECKER ? "end_phrase" : "prompt_to_repeat", IFEVAL_MAX_STR,
                             &s, &n, err)))
            return rc;
        view t = strip((view){s, n});
        if (dup_str(t.s, t.n, 1, &I->str, &I->str_n)) return errf(err, RLVR_ENOMEM, "ifeval: out of memory");
        return RLVR_OK;
    }
    case IF_CAPITAL_FREQ:
        if ((rc = kw_num(kwargs, id, "capital_frequency", &I->num, err))) return rc;
        return kw_rel(kwargs, id, "capital_relation", &I->rel, err);
    default: return RLVR_OK; /* no kwargs */
    }
#undef STR
}

static int list_add(ifeval_list *l, const char *id, const cJSON *kwargs, rlvr_err *err) {
    if (l->n >= IFEVAL_MAX_INSTR) return errf(err, RLVR_EARG, "ifeval: more than %d instructions", IFEVAL_MAX_INSTR);
    instr *I = &l->in[l->n];
    int rc = parse_instr(id, kwargs, I, err);
    l->n++; /* even on error, so ifeval_free releases what parse_instr allocated */
    return rc;
}

int ifeval_parse(const char *json, size_t n, ifeval_list **out, rlvr_err *err) {
    if (!out) return errf(err, RLVR_EARG, "ifeval_parse: NULL out");
    *out = NULL;
    if (!json) return errf(err, RLVR_EARG, "ifeval_parse: NULL json");
    cJSON *j = cJSON_ParseWithLength(json, n);
    if (!j) return errf(err, RLVR_EFORMAT, "ifeval: instructions are not valid JSON");
    int rc = RLVR_OK;
    ifeval_list *l = calloc(1, sizeof *l);
    if (!l) { cJSON_Delete(j); return errf(err, RLVR_ENOMEM, "ifeval: out of memory"); }
    if (!cJSON_IsArray(j)) rc = errf(err, RLVR_EFORMAT, "ifeval: instructions must be a JSON array");
    for (int i = 0; !rc && i < cJSON_GetArraySize(j); i++) {
        const cJSON *e = cJSON_GetArrayItem(j, i);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "instruction_id");
        if (!cJSON_IsObject(e) || !cJSON_IsString(id))
            rc = errf(err, RLVR_EFORMAT, "ifeval: instruction %d needs a string \"instruction_id\"", i);
        else rc = list_add(l, id->valuestring, cJSON_GetObjectItemCaseSensitive(e, "kwargs"), err);
    }
    cJSON_Delete(j);
    if (rc) { ifeval_free(l); return rc; }
    *out = l;
    return RLVR_OK;
}

int ifeval_parse_pair(const char *ids_json, size_t ids_n, const char *kwargs_json, size_t kwargs_n,
                      ifeval_list **out, rlvr_err *err) {
    if (!out) return errf(err, RLVR_EARG, "ifeval_parse_pair: NULL out");
    *out = NULL;
    if (!ids_json) return errf(err, RLVR_EARG, "ifeval_parse_pair: NULL ids");
    cJSON *ids = cJSON_ParseWithLength(ids_json, ids_n);
    cJSON *kws = kwargs_json && kwargs_n ? cJSON_ParseWithLength(kwargs_json, kwargs_n) : NULL;
    ifeval_list *l = calloc(1, sizeof *l);
    int rc = RLVR_OK;
    if (!l) rc = errf(err, RLVR_ENOMEM, "ifeval: out of memory");
    else if (!cJSON_IsArray(ids)) rc = errf(err, RLVR_EFORMAT, "ifeval: instruction_id_list must be a JSON array");
    else if (kwargs_json && kwargs_n && !cJSON_IsArray(kws))
        rc = errf(err, RLVR_EFORMAT, "ifeval: kwargs must be a JSON array");
    else if (kws && cJSON_GetArraySize(kws) != cJSON_GetArraySize(ids))
        rc = errf(err, RLVR_EFORMAT, "ifeval: %d instruction ids but %d kwargs", cJSON_GetArraySize(ids),
                  cJSON_GetArraySize(kws));
    for (int i = 0; !rc && i < cJSON_GetArraySize(ids); i++) {
        const cJSON *id = cJSON_GetArrayItem(ids, i);
        if (!cJSON_IsString(id)) rc = errf(err, RLVR_EFORMAT, "ifeval: instruction_id_list[%d] is not a string", i);
        else rc = list_add(l, id->valuestring, kws ? cJSON_GetArrayItem(kws, i) : NULL, err);
    }
    cJSON_Delete(ids);
    cJSON_Delete(kws);
    if (rc) { ifeval_free(l); return rc; }
    *out = l;
    return RLVR_OK;
}

/* ---- checks: each returns 1 followed, 0 not, -1 out of memory ----------------------------------- */

static int rel_ok(int rel, size_t count, long num) {
    double c = (double)count, n = (double)num;
    switch (rel) {
    case REL_LESS: return c < n;
    case REL_AT_LEAST: return c >= n;
    case REL_AT_MOST: return c <= n;
    case REL_EXACTLY: return c == n;
    default: return c > n;
    }
}

static size_t count_words(view v) {
    size_t c = 0, i = 0, k;
    int in = 0;
    while (i < v.n) {
        int w = is_word(dec(v.s + i, v.n - i, &k));
        if (w && !in) c++;
        in = w;
        i += k;
    }
    return c;
}

/* Sentence ends: a run of . ! ? (or … 。 ！ ？), then closing quotes/brackets, then
 * whitespace or the end. A run of periods only does not end a sentence after an
 * abbreviation: a one-letter token ("J."), a token with an inner period ("e.g.",
 * "U.S."), or one of ABBREV. Sentences are the non-blank pieces between ends. */
static int is_abbrev(const char *tok, size_t n) {
    static const char *const ABBREV[] = {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc",
                                         "inc", "ltd", "co", "fig", "no", "vol", "approx", "cf", "al"};
    while (n && (tok[0] == '(' || tok[0] == '"' || tok[0] == '\'' || tok[0] == '[')) tok++, n--;
    if (n == 0) return 0;
    if (n == 1 && ((tok[0] | 32) >= 'a' && (tok[0] | 32) <= 'z')) return 1;
    if (memchr(tok, '.', n)) return 1;
    if (n > 6) return 0;
    char low[8];
    for (size_t i = 0; i < n; i++) low[i] = (char)(tok[i] >= 'A' && tok[i] <= 'Z' ? tok[i] + 32 : tok[i]);
    for (size_t a = 0; a < sizeof ABBREV / sizeof ABBREV[0]; a++)
        if (strlen(ABBREV[a]) == n && memcmp(low, ABBREV[a], n) == 0) return 1;
    return 0;
}

static int is_term(int32_t c) { return c == '.' || c == '!' || c == '?' || c == 0x2026 || c == 0x3002 || c == 0xFF01 || c == 0xFF1F; }
static int is_close(int32_t c) { return c == '"' || c == '\'' || c == ')' || c == ']' || c == 0x201D || c == 0x2019 || c == 0xBB; }

static size_t count_sentences(view v) {
    size_t count = 0, i = 0, seg = 0, k;
    int content = 0; /* the current piece holds a non-space character */
    while (i < v.n) {
        int32_t c = dec(v.s + i, v.n - i, &k);
        if (!is_term(c)) {
            if (!is_space(c)) content = 1;
            i += k;
            continue;
        }
        size_t run = i, j = i;
        int only_dots = 1;
        while (j < v.n && is_term(c = dec(v.s + j, v.n - j, &k))) { only_dots &= c == '.'; j += k; }
        while (j < v.n && is_close(c = dec(v.s + j, v.n - j, &k))) j += k;
        content = 1;
        if (j < v.n && !is_space(dec(v.s + j, v.n - j, &k))) { i = j; continue; }
        if (only_dots) { /* the token before the run, at most 32 bytes back */
            size_t a = run;
            while (a > seg && run - a < 32 && !(v.s[a - 1] == ' ' || (v.s[a - 1] >= '\t' && v.s[a - 1] <= '\r'))) a--;
            if (a > seg && run - a >= 32) a = run; /* too long to be an abbreviation */
            if (run > a && is_abbrev(v.s + a, run - a)) { i = j; continue; }
        }
        count += content;
        content = 0;
        seg = i = j;
    }
    return count + content;
}

/* Splits on \s?\*\*\*\s? (IFEval number_paragraphs); empty first/last pieces are dropped,
 * an empty middle piece fails. */
static int check_paragraphs(view v, long want) {
    size_t i = 0, start = 0, k, idx = 0;
    long count = 0;
    for (;;) {
        size_t ms = v.n, me = v.n; /* the next separator is [ms, me) */
        while (i < v.n) {
            int32_t c = dec(v.s + i, v.n - i, &k);
            if (is_space(c) && v.n - i - k >= 3 && memcmp(v.s + i + k, "***", 3) == 0) { ms = i; me = i + k + 3; break; }
            if (c == '*' && v.n - i >= 3 && memcmp(v.s + i, "***", 3) == 0) { ms = i; me = i + 3; break; }
            i += k;
        }
        if (ms < v.n && me < v.n && is_space(dec(v.s + me, v.n - me, &k))) me += k;
        int last = ms >= v.n;
        if (!blank((view){v.s + start, ms - start})) count++;
        else if (idx != 0 && !last) return 0; /* an empty paragraph in the middle */
        if (last) break;
        idx++;
        start = i = me;
    }
    return count == want;
}

/* IFEval nth_paragraph_first_word: pieces split on "\n\n"; blank ones don't count, but
 * the nth is indexed among all pieces. */
static int check_nth_paragraph(view v, const instr *I) {
    size_t nonblank = 0, idx = 0, i = 0;
    view nth = {NULL, 0};
    int have = 0;
    for (;;) {
        const char *p = find(v.s + i, v.n - i, "\n\n", 2);
        size_t e = p ? (size_t)(p - v.s) : v.n;
        view piece = {v.s + i, e - i};
        if (!blank(piece)) nonblank++;
        if ((long)++idx == I->nth) { nth = piece; have = 1; }
        if (!p) break;
        i = e + 2;
    }
    if (!have || I->nth > (long)nonblank) return 0;
    view para = strip(nth);
    if (!para.n) return 0;
    size_t j = 0, k; /* first whitespace token */
    while (j < para.n && !is_space(dec(para.s + j, para.n - j, &k))) j += k;
    view w = {para.s, j};
    while (w.n && w.s[0] == '\'') w.s++, w.n--;
    while (w.n && w.s[0] == '"') w.s++, w.n--;
    size_t e = 0;
    while (e < w.n && !strchr(".,?!'\"", w.s[e])) e++;
    size_t fn;
    char *f = fold((view){w.s, e}, &fn);
    if (!f) return -1;
    int ok = (long)nonblank == I->num && fn == I->str_n && memcmp(f, I->str, fn) == 0;
    free(f);
    return ok;
}

/* A keyword occurrence counts as a word when its ends that are word characters have no
 * word character beside them (\bword\b for ordinary words; "c++" only needs "c" to
 * start a word). */
static int has_word(const char *h, size_t hn, const char *w, size_t wn) {
    if (wn == 0) return 1;
    size_t k;
    int first_w = is_word(dec(w, wn, &k)), last_w = is_word(prev_cp(w, wn));
    for (size_t i = 0; i + wn <= hn;) {
        const char *p = find(h + i, hn - i, w, wn);
        if (!p) return 0;
        size_t a = (size_t)(p - h), b = a + wn;
        int ok = (!first_w || a == 0 || !is_word(prev_cp(h, a))) && (!last_w || b >= hn || !is_word(dec(h + b, hn - b, &k)));
        if (ok) return 1;
        i = a + 1;
    }
    return 0;
}

static size_t count_placeholders(view v) {
    size_t c = 0, i = 0;
    while (i < v.n) {
        const char *p = memchr(v.s + i, '[', v.n - i);
        if (!p) break;
        size_t a = (size_t)(p - v.s), j = a + 1;
        while (j < v.n && v.s[j] != ']' && v.s[j] != '\n') j++;
        if (j < v.n && v.s[j] == ']') { c++; i = j + 1; }
        else i = j; /* no '[' before the newline can close either (j > a) */
    }
    return c;
}

/* A line starting (after blanks) with the marker: "P.S." as p.\s?s. and "P.P.S" as
 * p.\s?p.\s?s, case-insensitive; other markers literally. */
static int check_postscript(view v, const instr *I) {
    int pps = I->str_n == 5 && memcmp(I->str, "p.p.s", 5) == 0;
    int ps = I->str_n == 4 && memcmp(I->str, "p.s.", 4) == 0;
    for (size_t i = 0; i < v.n;) {
        const char *nl = memchr(v.s + i, '\n', v.n - i);
        size_t e = nl ? (size_t)(nl - v.s) : v.n, j = i;
        while (j < e && (v.s[j] == ' ' || v.s[j] == '\t' || v.s[j] == '\r')) j++;
        if (ps || pps) {
            const char *pat = pps ? "p.?p.?s" : "p.?s.";
            int ok = 1;
            for (const char *q = pat; *q && ok; q++) {
                if (*q == '?') {
                    if (j < e && (v.s[j] == ' ' || v.s[j] == '\t')) j++;
                    continue;
                }
                ok = j < e && (v.s[j] | (*q == '.' ? 0 : 32)) == *q;
                j++;
            }
            if (ok) return 1;
        } else {
            char f[3 * (3 * IFEVAL_MAX_WORD + 4) + 8];
            size_t take = I->str_n * 3 + 4; /* enough raw bytes for str_n folded ones */
            size_t fn = fold_to((view){v.s + j, e - j < take ? e - j : take}, f);
            if (fn >= I->str_n && memcmp(f, I->str, I->str_n) == 0) return 1;
        }
        i = e + 1;
    }
    return 0;
}

/* Lines starting (after blanks) with '*' and a non-'*' character, or with '-'. */
static size_t count_bullets(view v) {
    size_t c = 0;
    for (size_t i = 0; i < v.n;) {
        const char *nl = memchr(v.s + i, '\n', v.n - i);
        size_t e = nl ? (size_t)(nl - v.s) : v.n, j = i, k;
        while (j < e && is_space(dec(v.s + j, e - j, &k))) j += k;
        if (j < e && v.s[j] == '-') c++;
        else if (j + 1 < e && v.s[j] == '*' && v.s[j + 1] != '*') c++;
        i = e + 1;
    }
    return c;
}

/* re.findall(r"\*[^\n\*]*\*") plus re.findall(r"\*\*[^\n\*]*\*\*"), non-blank inside. */
static size_t count_highlights(view v) {
    size_t c = 0;
    for (size_t i = 0; i < v.n;) { /* single */
        const char *p = memchr(v.s + i, '*', v.n - i);
        if (!p) break;
        size_t a = (size_t)(p - v.s), j = a + 1;
        while (j < v.n && v.s[j] != '*' && v.s[j] != '\n') j++;
        if (j < v.n && v.s[j] == '*') {
            c += !blank((view){v.s + a + 1, j - a - 1});
            i = j + 1;
        } else i = j > a + 1 ? j : a + 1;
    }
    for (size_t i = 0; i + 1 < v.n;) { /* double */
        const char *p = find(v.s + i, v.n - i, "**", 2);
        if (!p) break;
        size_t a = (size_t)(p - v.s), j = a + 2;
        while (j < v.n && v.s[j] != '*' && v.s[j] != '\n') j++;
        if (j + 1 < v.n && v.s[j] == '*' && v.s[j + 1] == '*') {
            c += !blank((view){v.s + a + 2, j - a - 2});
            i = j + 2;
        } else i = a + 1;
    }
    return c;
}

/* Occurrences of \s?SPLITTER\s?\d+\s? (literal splitter, case-sensitive). */
static size_t count_sections(view v, const instr *I) {
    size_t c = 0, i = 0, k;
    while (i < v.n) {
        const char *p = find(v.s + i, v.n - i, I->str, I->str_n);
        if (!p) break;
        size_t d = (size_t)(p - v.s) + I->str_n;
        i = (size_t)(p - v.s) + 1;
        if (d < v.n) {
            int32_t ch = dec(v.s + d, v.n - d, &k);
            if (is_space(ch)) d += k;
        }
        size_t digits = 0;
        while (d < v.n && is_digit(dec(v.s + d, v.n - d, &k))) d += k, digits++;
        if (digits) { c++; i = d; }
    }
    return c;
}

/* JSON validity as Python's json.loads sees it: no tree is built (a 10 MB array would
 * cost ~64 B per value in cJSON), NaN/Infinity/-Infinity are accepted, raw control
 * characters inside strings are not, nesting deeper than 1000 fails. */
typedef struct jcur {
    const char *s;
    size_t n, i;
    int depth;
} jcur;

static void jws(jcur *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) p->i++;
}

static int jlit(jcur *p, const char *w) {
    size_t k = strlen(w);
    if (p->n - p->i < k || memcmp(p->s + p->i, w, k) != 0) return 0;
    p->i += k;
    return 1;
}

static int jdigits(jcur *p) {
    size_t a = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    return p->i > a;
}

static int jstring(jcur *p) {
    p->i++; /* opening quote */
    while (p->i < p->n) {
        unsigned char c = (unsigned char)p->s[p->i++];
        if (c == '"') return 1;
        if (c < 0x20) return 0;
        if (c != '\\') continue;
        if (p->i >= p->n) return 0;
        c = (unsigned char)p->s[p->i++];
        if (c == 'u') {
            for (int k = 0; k < 4; k++, p->i++)
                if (p->i >= p->n || !strchr("0123456789abcdefABCDEF", p->s[p->i]) || !p->s[p->i]) return 0;
        } else if (!c || !strchr("\"\\/bfnrt", c)) return 0;
    }
    return 0;
}

static int jvalue(jcur *p) {
    jws(p);
    if (p->i >= p->n) return 0;
    char c = p->s[p->i];
    if (c == '"') return jstring(p);
    if (c == '{' || c == '[') {
        if (++p->depth > 1000) return 0;
        char close = c == '{' ? '}' : ']';
        p->i++;
        jws(p);
        if (p->i < p->n && p->s[p->i] == close) { p->i++; p->depth--; return 1; }
        for (;;) {
            if (c == '{') {
                jws(p);
                if (p->i >= p->n || p->s[p->i] != '"' || !jstring(p)) return 0;
                jws(p);
                if (p->i >= p->n || p->s[p->i] != ':') return 0;
                p->i++;
            }
            if (!jvalue(p)) return 0;
            jws(p);
            if (p->i >= p->n) return 0;
            if (p->s[p->i] == ',') { p->i++; continue; }
            if (p->s[p->i] == close) { p->i++; p->depth--; return 1; }
            return 0;
        }
    }
    if (jlit(p, "true") || jlit(p, "false") || jlit(p, "null") || jlit(p, "NaN") || jlit(p, "Infinity") ||
        jlit(p, "-Infinity"))
        return 1;
    if (c == '-') p->i++;
    if (p->i < p->n && p->s[p->i] == '0') p->i++;
    else if (!jdigits(p)) return 0;
    if (p->i < p->n && p->s[p->i] == '.') { p->i++; if (!jdigits(p)) return 0; }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
        if (!jdigits(p)) return 0;
    }
    return 1;
}

static view remove_prefix(view v, const char *pre) {
    size_t k = strlen(pre);
    return v.n >= k && memcmp(v.s, pre, k) == 0 ? (view){v.s + k, v.n - k} : v;
}

/* strip, drop ```json / ```Json / ```JSON / ``` before and ``` after, strip, parse */
static int check_json(view v) {
    view t = strip(v);
    t = remove_prefix(t, "```json");
    t = remove_prefix(t, "```Json");
    t = remove_prefix(t, "```JSON");
    t = remove_prefix(t, "```");
    if (t.n >= 3 && memcmp(t.s + t.n - 3, "```", 3) == 0) t.n -= 3;
    t = strip(t);
    jcur p = {t.s, t.n, 0, 0};
    if (!jvalue(&p)) return 0;
    jws(&p);
    return p.i == p.n;
}

/* <<[^\n]+>> on a line (greedy: from the first "<<" to the last ">>"), non-blank once the
 * '<' and '>' at its ends are stripped. */
static int check_title(view v) {
    for (size_t i = 0; i < v.n;) {
        const char *nl = memchr(v.s + i, '\n', v.n - i);
        size_t e = nl ? (size_t)(nl - v.s) : v.n;
        const char *o = find(v.s + i, e - i, "<<", 2);
        if (o) {
            size_t a = (size_t)(o - v.s) + 2, b = e;
            while (b >= a + 3 && !(v.s[b - 2] == '>' && v.s[b - 1] == '>')) b--;
            if (b >= a + 3) { /* content [a, b-2) is at least one character */
                view t = {v.s + a, b - 2 - a};
                while (t.n && t.s[0] == '<') t.s++, t.n--;
                while (t.n && t.s[t.n - 1] == '>') t.n--;
                if (!blank(t)) return 1;
            }
        }
        i = e + 1;
    }
    return 0;
}

static int check_two_responses(view v) {
    view valid[2];
    int n_valid = 0;
    size_t i = 0;
    for (;;) {
        const char *p = find(v.s + i, v.n - i, "******", 6);
        size_t e = p ? (size_t)(p - v.s) : v.n;
        view piece = {v.s + i, e - i};
        if (blank(piece)) {
            if (i != 0 && p) return 0; /* a blank piece that is neither first nor last */
        } else {
            if (n_valid == 2) return 0;
            valid[n_valid++] = piece;
        }
        if (!p) break;
        i = e + 6;
    }
    if (n_valid != 2) return 0;
    view a = strip(valid[0]), b = strip(valid[1]);
    return !(a.n == b.n && memcmp(a.s, b.s, a.n) == 0);
}

static int check_startswith_folded(view v, const instr *I) {
    view t = strip(v);
    size_t take = I->str_n * 3 + 4, fn;
    char *f = fold((view){t.s, t.n < take ? t.n : take}, &fn);
    if (!f) return -1;
    int ok = fn >= I->str_n && memcmp(f, I->str, I->str_n) == 0;
    free(f);
    return ok;
}

static int check_end(view v, const instr *I) {
    view t = strip(v);
    while (t.n && t.s[0] == '"') t.s++, t.n--;
    while (t.n && t.s[t.n - 1] == '"') t.n--;
    size_t take = I->str_n * 3 + 4, fn;
    if (t.n > take) { /* fold only the tail, starting on a character boundary */
        size_t a = t.n - take;
        while (a < t.n && ((unsigned char)t.s[a] & 0xC0) == 0x80) a++;
        t.s += a;
        t.n -= a;
    }
    char *f = fold(t, &fn);
    if (!f) return -1;
    int ok = fn >= I->str_n && memcmp(f + fn - I->str_n, I->str, I->str_n) == 0;
    free(f);
    return ok;
}

/* Python str.isupper() / islower() over general categories: Lu upper, Ll lower, Lt neither. */
static void case_stats(view v, int *upper, int *lower) {
    size_t i = 0, k;
    *upper = *lower = 0;
    while (i < v.n) {
        int32_t c = dec(v.s + i, v.n - i, &k);
        i += k;
        int cat = cat_of(c);
        if (cat == UTF8PROC_CATEGORY_LU) *upper = 1;
        else if (cat == UTF8PROC_CATEGORY_LL) *lower = 1;
        else if (cat == UTF8PROC_CATEGORY_LT) *upper = *lower = 1; /* cased, so neither test holds */
    }
}

static int is_upper_text(view v) { int u, l; case_stats(v, &u, &l); return u && !l; }
static int is_lower_text(view v) { int u, l; case_stats(v, &u, &l); return l && !u; }

/* whitespace tokens that are all upper case (nltk word_tokenize approximated) */
static size_t count_capital_words(view v) {
    size_t c = 0, i = 0, k;
    while (i < v.n) {
        while (i < v.n && is_space(dec(v.s + i, v.n - i, &k))) i += k;
        size_t a = i;
        while (i < v.n && !is_space(dec(v.s + i, v.n - i, &k))) i += k;
        if (i > a) c += is_upper_text((view){v.s + a, i - a});
    }
    return c;
}

static int in_script(int32_t c, int script) {
#define R(lo, hi) (c >= (lo) && c <= (hi))
    switch (script) {
    case SC_CYRILLIC: return R(0x400, 0x52F) || R(0x1C80, 0x1C8F) || R(0x2DE0, 0x2DFF) || R(0xA640, 0xA69F);
    case SC_ARABIC: return R(0x600, 0x6FF) || R(0x750, 0x77F) || R(0x8A0, 0x8FF) || R(0xFB50, 0xFDFF) || R(0xFE70, 0xFEFF);
    case SC_DEVANAGARI: return R(0x900, 0x97F) || R(0xA8E0, 0xA8FF);
    case SC_BENGALI: return R(0x980, 0x9FF);
    case SC_GURMUKHI: return R(0xA00, 0xA7F);
    case SC_GUJARATI: return R(0xA80, 0xAFF);
    case SC_TAMIL: return R(0xB80, 0xBFF);
    case SC_TELUGU: return R(0xC00, 0xC7F);
    case SC_KANNADA: return R(0xC80, 0xCFF);
    case SC_MALAYALAM: return R(0xD00, 0xD7F);
    case SC_THAI: return R(0xE00, 0xE7F);
    case SC_HANGUL: return R(0xAC00, 0xD7AF) || R(0x1100, 0x11FF) || R(0x3130, 0x318F);
    case SC_JAPANESE: return R(0x3040, 0x30FF) || R(0x31F0, 0x31FF) || R(0xFF66, 0xFF9F);
    case SC_CHINESE: return R(0x4E00, 0x9FFF) || R(0x3400, 0x4DBF) || R(0xF900, 0xFAFF) || R(0x20000, 0x2A6DF);
    case SC_HEBREW: return R(0x590, 0x5FF);
    case SC_GREEK: return R(0x370, 0x3FF) || R(0x1F00, 0x1FFF);
    default: return 0;
    }
#undef R
}

/* At least half the letters are in the language's script (Japanese: kana or kanji, with
 * some kana; Chinese: han, no kana). No letters at all passes, as langdetect's failure
 * does in IFEval. */
static int check_language(view v, const instr *I) {
    size_t letters = 0, hit = 0, kana = 0, han = 0, i = 0, k;
    while (i < v.n) {
        int32_t c = dec(v.s + i, v.n - i, &k);
        i += k;
        if (!is_letter(c)) continue;
        letters++;
        if (I->script == SC_JAPANESE || I->script == SC_CHINESE) {
            kana += in_script(c, SC_JAPANESE);
            han += in_script(c, SC_CHINESE);
        } else hit += in_script(c, I->script);
    }
    if (!letters) return 1;
    if (I->script == SC_JAPANESE) return kana > 0 && 2 * (kana + han) >= letters;
    if (I->script == SC_CHINESE) return kana == 0 && 2 * han >= letters;
    return 2 * hit >= letters;
}

static int check_one(const instr *I, view v) {
    size_t fn;
    char *f;
    int ok;
    switch (I->kind) {
    case IF_KW_EXISTENCE:
    case IF_KW_FORBIDDEN:
    case IF_KW_FREQUENCY:
    case IF_KW_LETTER:
        if (!(f = fold(v, &fn))) return -1;
        ok = 1;
        if (I->kind == IF_KW_EXISTENCE)
            for (int w = 0; w < I->n_words && ok; w++) ok = find(f, fn, I->words[w], I->words_n[w]) != NULL;
        else if (I->kind == IF_KW_FORBIDDEN)
            for (int w = 0; w < I->n_words && ok; w++) ok = !has_word(f, fn, I->words[w], I->words_n[w]);
        else ok = rel_ok(I->rel, count_occ(f, fn, I->str, I->str_n), I->num);
        free(f);
        return ok;
    case IF_LANGUAGE: return check_language(v, I);
    case IF_N_SENTENCES: return rel_ok(I->rel, count_sentences(v), I->num);
    case IF_N_PARAGRAPHS: return check_paragraphs(v, I->num);
    case IF_N_WORDS: return rel_ok(I->rel, count_words(v), I->num);
    case IF_NTH_PARAGRAPH: return check_nth_paragraph(v, I);
    case IF_PLACEHOLDERS: return (long)count_placeholders(v) >= I->num;
    case IF_POSTSCRIPT: return check_postscript(v, I);
    case IF_BULLETS: return (long)count_bullets(v) == I->num;
    case IF_CONSTRAINED:
        return find(v.s, v.n, "My answer is yes.", 17) || find(v.s, v.n, "My answer is no.", 16) ||
               find(v.s, v.n, "My answer is maybe.", 19);
    case IF_HIGHLIGHTS: return (long)count_highlights(v) >= I->num;
    case IF_SECTIONS: return (long)count_sections(v, I) >= I->num;
    case IF_JSON: return check_json(v);
    case IF_TITLE: return check_title(v);
    case IF_TWO_RESPONSES: return check_two_responses(v);
    case IF_REPEAT_PROMPT: return check_startswith_folded(v, I);
    case IF_END_CHECKER: return check_end(v, I);
    case IF_QUOTATION: {
        view t = strip(v);
        return t.n >= 2 && t.s[0] == '"' && t.s[t.n - 1] == '"';
    }
    case IF_CAPITAL_FREQ: return rel_ok(I->rel, count_capital_words(v), I->num);
    case IF_ENGLISH_CAPITAL: return is_upper_text(v);
    case IF_ENGLISH_LOWER: return is_lower_text(v);
    case IF_NO_COMMA: return memchr(v.s, ',', v.n) == NULL;
    default: return 0;
    }
}

/* ---- strict and loose ------------------------------------------------------------------------------ */

/* The 8 loose variants of IFEval: r, r without its first line, last line, both (the
 * three stripped), and each of those with every '*' deleted. The '*'-free ones are
 * ranges of one '*'-free copy of r: a position p of r maps to p - (stars before p). */
typedef struct variants {
    view v[8];
    int n;
    char *buf;
} variants;

static int make_variants(view r, variants *out) {
    memset(out, 0, sizeof *out);
    const char *f = memchr(r.s, '\n', r.n), *lst = f;
    for (const char *p = f; p && p + 1 < r.s + r.n; p = memchr(p + 1, '\n', r.n - (size_t)(p + 1 - r.s)))
        lst = p;
    view rf = {r.s, 0}, rl = {r.s, 0}, rb = {r.s, 0};
    if (f) {
        rf = strip((view){f + 1, r.n - (size_t)(f + 1 - r.s)});
        rl = strip((view){r.s, (size_t)(lst - r.s)});
        if (lst > f) rb = strip((view){f + 1, (size_t)(lst - f - 1)});
    }
    view base[4] = {r, rf, rl, rb};
    out->v[out->n++] = r;
    for (int k = 1; k < 4; k++)
        if (!blank(base[k])) out->v[out->n++] = base[k];
    if (!memchr(r.s, '*', r.n)) return 0; /* the '*'-free variants are the same texts */
    if (!(out->buf = malloc(r.n))) return -1;
    size_t ends[8], map[8] = {0}, stars = 0, j = 0; /* offsets of the ranges' ends in r, and in buf */
    for (int k = 0; k < 4; k++) {
        ends[2 * k] = (size_t)(base[k].s - r.s);
        ends[2 * k + 1] = ends[2 * k] + base[k].n;
    }
    for (size_t i = 0; i <= r.n; i++) {
        for (int e = 0; e < 8; e++)
            if (ends[e] == i) map[e] = i - stars;
        if (i == r.n) break;
        if (r.s[i] == '*') stars++;
        else out->buf[j++] = r.s[i];
    }
    for (int k = 0; k < 4; k++) {
        view t = {out->buf + map[2 * k], map[2 * k + 1] - map[2 * k]};
        if (!blank(t)) out->v[out->n++] = t;
    }
    return 0;
}

int ifeval_check(const ifeval_list *l, const char *response, size_t n, ifeval_result *res, rlvr_err *err) {
    if (res) memset(res, 0, sizeof *res);
    if (!l || !res || (!response && n)) return errf(err, RLVR_EARG, "ifeval_check: NULL argument");
    if (!response) response = "";
    view r = {response, n};
    res->n = l->n;
    if (n > IFEVAL_MAX_RESPONSE) return RLVR_OK; /* follows nothing */
    int rblank = blank(r), have = 0;
    variants vs = {0};
    for (int i = 0; i < l->n; i++) {
        const instr *I = &l->in[i];
        int ok = rblank ? 0 : check_one(I, r);
        if (ok < 0) goto oom;
        res->strict[i] = (unsigned char)ok;
        if (!ok && !have) {
            if (make_variants(r, &vs)) goto oom;
            have = 1;
        }
        for (int k = 1; !ok && k < vs.n; k++) { /* v[0] is r itself, checked above */
            ok = check_one(I, vs.v[k]);
            if (ok < 0) goto oom;
        }
        res->loose[i] = (unsigned char)ok;
        res->n_strict += res->strict[i];
        res->n_loose += ok;
    }
    free(vs.buf);
    return RLVR_OK;
oom:
    free(vs.buf);
    memset(res, 0, sizeof *res);
    return errf(err, RLVR_ENOMEM, "ifeval: out of memory");
}

/* ---- reward adapters ------------------------------------------------------------------------------- */

enum { IFR_FRACTION, IFR_ALL };

typedef struct ifeval_state {
    int kind;  /* IFR_* */
    int loose; /* score the loose verdicts */
    int strip_think;
    char column[64];
} ifeval_state;

/* The text after the last "</think>"; none when a "<think>" is never closed. */
static view answer_window(view v) {
    const char *last = NULL;
    for (size_t i = 0; i < v.n;) {
        const char *p = find(v.s + i, v.n - i, "</think>", 8);
        if (!p) break;
        last = p;
        i = (size_t)(p - v.s) + 8;
    }
    if (last) return (view){last + 8, v.n - (size_t)(last + 8 - v.s)};
    if (find(v.s, v.n, "<think>", 7)) return (view){v.s, 0};
    return v;
}

static int ifeval_score(const reward_fn *self, const reward_input *in, reward_output *out, rlvr_err *err) {
    const ifeval_state *st = self->state;
    size_t cn, in_n, kn;
    const char *col = reward_extra_get(in, st->column, &cn);
    ifeval_list *l = NULL;
    int rc;
    if (col) rc = ifeval_parse(col, cn, &l, err);
    else {
        const char *ids = reward_extra_get(in, "instruction_id_list", &in_n);
        const char *kws = reward_extra_get(in, "kwargs", &kn);
        if (!ids)
            return errf(err, RLVR_EARG, "%s: row has no '%s' column (nor instruction_id_list + kwargs)", self->name,
                        st->column);
        rc = ifeval_parse_pair(ids, in_n, kws, kn, &l, err);
    }
    if (rc) return err_wrap(err, rc, "%s", self->name);
    if (l->n == 0) {
        ifeval_free(l);
        return errf(err, RLVR_EARG, "%s: row has no instructions", self->name);
    }
    view v = {in->completion ? in->completion : "", in->completion_n};
    if (st->strip_think) v = answer_window(v);
    ifeval_result r;
    rc = ifeval_check(l, v.s, v.n, &r, err);
    ifeval_free(l);
    if (rc) return rc;
    double fs = (double)r.n_strict / r.n, fl = (double)r.n_loose / r.n;
    int all_s = r.n_strict == r.n, all_l = r.n_loose == r.n;
    int all = st->loose ? all_l : all_s;
    out->reward = st->kind == IFR_ALL ? all : (st->loose ? fl : fs);
    out->correct = all;
    reward_output_set(out, "if_strict", fs);
    reward_output_set(out, "if_loose", fl);
    reward_output_set(out, "if_all_strict", all_s);
    reward_output_set(out, "if_all_loose", all_l);
    return RLVR_OK;
}

static const ifeval_state IF_FRAC = {IFR_FRACTION, 0, 1, "instructions"};
static const ifeval_state IF_ALL_STRICT = {IFR_ALL, 0, 1, "instructions"};
static const ifeval_state IF_ALL_LOOSE = {IFR_ALL, 1, 1, "instructions"};
static const reward_fn IF_FRAC_FN = {"ifeval", ifeval_score, (void *)&IF_FRAC, NULL};
static const reward_fn IF_ALL_STRICT_FN = {"ifeval_strict_all", ifeval_score, (void *)&IF_ALL_STRICT, NULL};
static const reward_fn IF_ALL_LOOSE_FN = {"ifeval_loose_all", ifeval_score, (void *)&IF_ALL_LOOSE, NULL};

static int ifeval_make_from(const reward_fn *dflt, const reward_kv *p, int n, reward_fn **out, rlvr_err *err) {
    static const char *const allowed_frac[] = {"mode", "column", "strip_think", NULL};
    static const char *const allowed_all[] = {"column", "strip_think", NULL};
    const ifeval_state *d = dflt->state;
    const char *who = dflt->name;
    ifeval_state st = *d;
    char mode[16];
    long strip_think;
    int rc;
    if ((rc = reward_params_check(p, n, who, d->kind == IFR_ALL ? allowed_all : allowed_frac, err)) ||
        (rc = reward_param_str(p, n, who, "mode", d->loose ? "loose" : "strict", mode, sizeof mode, err)) ||
        (rc = reward_param_str(p, n, who, "column", d->column, st.column, sizeof st.column, err)) ||
        (rc = reward_param_int(p, n, who, "strip_think", d->strip_think, &strip_think, err)))
        return rc;
    if (strcmp(mode, "strict") && strcmp(mode, "loose")) return errf(err, RLVR_ECONFIG, "%s: mode=%s (strict, loose)", who, mode);
    st.loose = strcmp(mode, "loose") == 0;
    st.strip_think = strip_think != 0;
    reward_fn *f = reward_alloc(who, ifeval_score, sizeof st, NULL);
    if (!f) return errf(err, RLVR_ENOMEM, "%s: out of memory", who);
    memcpy(f->state, &st, sizeof st);
    *out = f;
    return RLVR_OK;
}

static int make_frac(const reward_kv *p, int n, reward_fn **out, rlvr_err *err) { return ifeval_make_from(&IF_FRAC_FN, p, n, out, err); }
static int make_all_strict(const reward_kv *p, int n, reward_fn **out, rlvr_err *err) { return ifeval_make_from(&IF_ALL_STRICT_FN, p, n, out, err); }
static int make_all_loose(const reward_kv *p, int n, reward_fn **out, rlvr_err *err) { return ifeval_make_from(&IF_ALL_LOOSE_FN, p, n, out, err); }

const reward_entry ifeval_rewards[] = {
    {"ifeval", "IFEval constraints from the 'instructions' column (or instruction_id_list + kwargs): fraction "
               "followed; mode=strict|loose, column=instructions, strip_think=1; fields if_strict, if_loose, "
               "if_all_strict, if_all_loose",
     &IF_FRAC_FN, make_frac},
    {"ifeval_strict_all", "IFEval: 1 when every instruction is followed under strict checking, else 0; "
                          "column, strip_think as ifeval",
     &IF_ALL_STRICT_FN, make_all_strict},
    {"ifeval_loose_all", "IFEval: 1 when every instruction is followed under loose checking, else 0; column, "
                         "strip_think as ifeval",
     &IF_ALL_LOOSE_FN, make_all_loose},
};
const int ifeval_n_rewards = (int)(sizeof ifeval_rewards / sizeof ifeval_rewards[0]);
