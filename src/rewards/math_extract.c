/* math_extract.c: finding the answer in a completion. Each source (boxed, "final answer
 * is", ####, "Answer:", last math environment, last number, choice letter) is one linear
 * scan over the cleaned window; the first source in the mode's order that yields a
 * non-empty answer wins. Nothing here parses mathematics. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "rewards/math_int.h"

#define MAX_BOXES 64     /* boxes merged into one answer at most */

/* Last occurrence of needle in s[0..n), or -1. A backward byte scan: linear, and no
 * repeated memmem over the rest of a large buffer. */
static long last_of(const char *s, size_t n, const char *needle) {
    size_t l = strlen(needle);
    if (l > n) return -1;
    for (size_t i = n - l + 1; i-- > 0;)
        if (s[i] == needle[0] && memcmp(s + i, needle, l) == 0) return (long)i;
    return -1;
}

/* First occurrence of the two bytes a b in s[from..n), or -1. */
static long find2(const char *s, size_t from, size_t n, char a, char b) {
    for (size_t i = from; i + 1 < n; i++)
        if (s[i] == a && s[i + 1] == b) return (long)i;
    return -1;
}

int mext_window(const math_verify_params *p, const char *raw, size_t n, char **out, size_t *out_n) {
    *out = NULL; *out_n = 0;
    size_t start = 0;
    if (p->strip_think) {                 /* one backward pass finds both tags */
        int open_seen = 0;
        for (size_t i = n; i-- > 0;) {
            if (raw[i] != '<') continue;
            if (n - i >= 8 && memcmp(raw + i, "</think>", 8) == 0) { start = i + 8; break; }
            if (n - i >= 7 && memcmp(raw + i, "<think>", 7) == 0) open_seen = 1;
        }
        if (!start && open_seen) return RLVR_OK;   /* never closed: all of it is thinking */
    }
    if (n - start > p->max_len) {
        start = n - p->max_len;
        for (int k = 0; k < 3 && start < n && ((unsigned char)raw[start] & 0xC0) == 0x80; k++) start++;
    }
    size_t len = n - start;
    char *buf = malloc(5 * len + 16);
    if (!buf) return RLVR_ENOMEM;
    *out_n = mnorm_utf8(raw + start, len, buf);
    *out = buf;
    return RLVR_OK;
}

/* ---- \boxed ---- */

typedef struct { size_t start, cs, ce, end; } box;

/* Parses the box whose backslash is at s[i]; 0 when it is not \boxed / \fbox. An unclosed
 * brace takes the rest of the text (Math-Verify does the same). */
static int parse_box(const char *s, size_t n, size_t i, box *b) {
    size_t j;
    if (n - i >= 6 && memcmp(s + i, "\\boxed", 6) == 0) j = i + 6;
    else if (n - i >= 5 && memcmp(s + i, "\\fbox", 5) == 0) j = i + 5;
    else return 0;
    if (j < n && isalpha((unsigned char)s[j])) return 0;
    while (j < n && (s[j] == ' ' || s[j] == '\t')) j++;
    b->start = i;
    if (j < n && s[j] == '{') {
        int close = mnorm_match_brace(s, n, j);
        b->cs = j + 1;
        if (close < 0) { b->ce = b->end = n; }
        else { b->ce = (size_t)close; b->end = (size_t)close + 1; }
        return 1;
    }
    b->cs = j;                                /* "\boxed 5" */
    while (j < n && !isspace((unsigned char)s[j]) && s[j] != '$') j++;
    b->ce = b->end = j;
    return b->ce > b->cs;
}

static long prev_box(const char *s, size_t before, size_t limit) {
    size_t lo = before > limit ? before - limit : 0;
    for (size_t i = before; i-- > lo;)
        if (s[i] == '\\' && (s[i + 1] == 'b' || s[i + 1] == 'f')) {
            box b;
            if (parse_box(s, before, i, &b)) return (long)i;
        }
    return -1;
}

static int has_separator(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ',' || s[i] == ';') return 1;
        if (i + 3 <= n && (i == 0 || !isalpha((unsigned char)s[i - 1])) &&
            strncasecmp(s + i, "and", 3) == 0 && (i + 3 == n || !isalpha((unsigned char)s[i + 3]))) return 1;
        if (i + 2 <= n && (i == 0 || !isalpha((unsigned char)s[i - 1])) &&
            strncasecmp(s + i, "or", 2) == 0 && (i + 2 == n || !isalpha((unsigned char)s[i + 2]))) return 1;
    }
    return 0;
}

static char *join(const char *s, box *bx, int nb, size_t *out_n) {
    size_t total = 0;
    for (int k = 0; k < nb; k++) total += bx[k].ce - bx[k].cs + 2;
    char *o = malloc(total + 1);
    if (!o) return NULL;
    size_t w = 0;
    for (int k = nb - 1; k >= 0; k--) {          /* bx is last-first */
        memcpy(o + w, s + bx[k].cs, bx[k].ce - bx[k].cs); w += bx[k].ce - bx[k].cs;
        if (k) { o[w++] = ','; o[w++] = ' '; }
    }
    o[w] = 0;
    *out_n = w;
    return o;
}

static int ext_boxed(const math_verify_params *p, const char *s, size_t n, char **out, size_t *out_n) {
    long i = -1;
    for (size_t k = n; k-- > 0;)
        if (s[k] == '\\' && k + 1 < n && (s[k + 1] == 'b' || s[k + 1] == 'f')) {
            box b;
            if (parse_box(s, n, k, &b)) { i = (long)k; break; }
        }
    if (i < 0) return 0;
    box bx[MAX_BOXES];
    int nb = 0;
    parse_box(s, n, (size_t)i, &bx[nb++]);
    box cur = bx[0];
    size_t total = cur.ce - cur.cs;
    for (int guard = 0; guard < 4 * MAX_BOXES && nb < MAX_BOXES; guard++) {
        long j = prev_box(s, cur.start, 70 + p->max_answer);
        if (j < 0) break;
        box pb;
        parse_box(s, cur.start, (size_t)j, &pb);
        if (pb.end > cur.start) break;
        size_t gap = cur.start - pb.end;
        size_t pl = pb.ce - pb.cs, cl = cur.ce - cur.cs;
        int same = pl == cl && memcmp(s + pb.cs, s + cur.cs, pl) == 0;
        if (gap < 10) {
            if (!same) { bx[nb++] = pb; total += pl + 2; }
        } else if (gap < 70 && !same && has_separator(s + pb.end, gap)) {
            bx[nb++] = pb; total += pl + 2;
        } else break;
        cur = pb;
        if (total > p->max_answer) break;
    }
    *out = join(s, bx, nb, out_n);
    return *out ? 1 : -1;
}

/* ---- phrases ---- */

static char *dup_range(const char *s, size_t a, size_t b, size_t *out_n) {
    char *o = malloc(b - a + 1);
    if (!o) return NULL;
    memcpy(o, s + a, b - a); o[b - a] = 0;
    *out_n = b - a;
    return o;
}

static int ext_latex_range(const math_verify_params *p, const char *s, size_t n, int first,
                           size_t *ca, size_t *cb);

/* The answer that follows a phrase at s[i..): a box, the first math environment, or the
 * text to the end of the sentence. */
static int take_phrase(const math_verify_params *p, const char *s, size_t n, size_t i,
                       char **out, size_t *out_n) {
    while (i < n && (s[i] == ' ' || s[i] == '*' || s[i] == ':' || s[i] == '\t' || s[i] == '_')) i++;
    size_t e = i, lim = i + p->max_answer + 64;
    while (e < n && e < lim && s[e] != '\n') e++;
    /* a display environment may continue on the next lines */
    if (e < n && i + 4 < n && (memcmp(s + i, "$$", 2) == 0 || memcmp(s + i, "\\[", 2) == 0)) {
        long q = memcmp(s + i, "$$", 2) == 0 ? find2(s, i + 2, n, '$', '$') : find2(s, i + 2, n, '\\', ']');
        if (q >= 0) e = (size_t)q + 2;
    }
    if (e == i) return 0;
    long b = last_of(s + i, e - i, "\\boxed");
    if (b < 0) b = last_of(s + i, e - i, "\\fbox");
    if (b >= 0) return ext_boxed(p, s + i, e - i, out, out_n);
    size_t ca, cb;
    if (ext_latex_range(p, s + i, e - i, 1, &ca, &cb)) {
        *out = dup_range(s + i, ca, cb, out_n);
        return *out ? 1 : -1;
    }
    size_t k = i;                               /* end of sentence: ". " or end of line */
    for (; k < e; k++) {
        if (s[k] == '.' && (k + 1 == e || s[k + 1] == ' ')) break;
        if (s[k] == ',' && k + 1 < e && s[k + 1] == ' ' && k + 2 < e && isalpha((unsigned char)s[k + 2])) break;
    }
    if (k == i) return 0;
    *out = dup_range(s, i, k, out_n);
    return *out ? 1 : -1;
}

static int word_at(const char *s, size_t n, size_t i, const char *w) {
    size_t l = strlen(w);
    return i + l <= n && strncasecmp(s + i, w, l) == 0;
}

/* kind 0: "final answer"; 1: "answer". The phrase must be followed by ':' / "is" / '='. */
static int ext_phrase(const math_verify_params *p, const char *s, size_t n, int kind,
                      char **out, size_t *out_n) {
    const char *kw = kind == 0 ? "final answer" : "answer";
    size_t kl = strlen(kw);
    int tries = 0;
    for (size_t k = n; k-- > 0 && tries < 16;) {
        if (tolower((unsigned char)s[k]) != kw[0] || !word_at(s, n, k, kw)) continue;
        if (k && isalpha((unsigned char)s[k - 1])) continue;
        tries++;
        size_t j = k + kl;
        while (j < n && (s[j] == ' ' || s[j] == '*' || s[j] == '_' || s[j] == ')')) j++;
        if (word_at(s, n, j, "is") && (j + 2 == n || !isalpha((unsigned char)s[j + 2]))) j += 2;
        else if (word_at(s, n, j, "would be") || word_at(s, n, j, "will be")) j += 8;
        else if (j < n && (s[j] == ':' || s[j] == '=')) j++;
        else continue;
        int r = take_phrase(p, s, n, j, out, out_n);
        if (r) return r;
    }
    return 0;
}

static int ext_hash(const char *s, size_t n, char **out, size_t *out_n) {
    long h = last_of(s, n, "####");
    if (h < 0) return 0;
    size_t i = (size_t)h;
    while (i < n && (s[i] == '#' || s[i] == ' ' || s[i] == '\t')) i++;
    size_t e = i;
    while (e < n && s[e] != '\n') e++;
    if (e == i) return 0;
    *out = dup_range(s, i, e, out_n);
    return *out ? 1 : -1;
}

/* ---- math environments ---- */

/* Content range of the last (first = 0) or first (first = 1) math environment in s[0..n).
 * Inline $..$ and \(..\) may not span a line; $$..$$ and \[..\] may. Linear. */
static int ext_latex_range(const math_verify_params *p, const char *s, size_t n, int first,
                           size_t *ca, size_t *cb) {
    (void)p;
    int found = 0, no_dd = 0, no_br = 0;
    size_t i = 0;
    while (i < n) {
        char ch = s[i];
        if (ch == '\\' && i + 1 < n) {
            char nx = s[i + 1];
            if (nx == '(') {
                size_t j = i + 2;
                while (j + 1 < n && s[j] != '\n' && !(s[j] == '\\' && s[j + 1] == ')')) j++;
                if (j + 1 < n && s[j] == '\\' && s[j + 1] == ')') {
                    *ca = i + 2; *cb = j; found = 1; i = j + 2;
                    if (first) return 1;
                } else i = j;   /* nothing later on this line can close either */
                continue;
            }
            if (nx == '[' && !no_br) {
                long q = find2(s, i + 2, n, '\\', ']');
                if (q >= 0) {
                    *ca = i + 2; *cb = (size_t)q; found = 1; i = *cb + 2;
                    if (first) return 1;
                } else { no_br = 1; i += 2; }
                continue;
            }
            i += 2;             /* \$ and other escapes */
            continue;
        }
        if (ch == '$') {
            if (i + 1 < n && s[i + 1] == '$') {
                long q = no_dd ? -1 : find2(s, i + 2, n, '$', '$');
                if (q >= 0) {
                    *ca = i + 2; *cb = (size_t)q; found = 1; i = *cb + 2;
                    if (first) return 1;
                } else { no_dd = 1; i += 2; }
                continue;
            }
            size_t j = i + 1;
            while (j < n && s[j] != '$' && s[j] != '\n') j += (s[j] == '\\' && j + 1 < n && s[j + 1] != '\n') ? 2 : 1;
            if (j < n && s[j] == '$' && j > i + 1) {
                *ca = i + 1; *cb = j; found = 1; i = j + 1;
                if (first) return 1;
            } else i = j > i + 1 ? j : i + 1;
            continue;
        }
        i++;
    }
    return found;
}

static int ext_latex(const math_verify_params *p, const char *s, size_t n, char **out, size_t *out_n) {
    size_t a, b;
    if (!ext_latex_range(p, s, n, 0, &a, &b)) return 0;
    *out = dup_range(s, a, b, out_n);
    return *out ? 1 : -1;
}

/* ---- plain numbers ---- */

static int is_pct_word(const char *s, size_t n, size_t i, size_t *len) {
    static const char *const w[] = { "percentage", "percent", "pct", NULL };
    for (int k = 0; w[k]; k++) {
        size_t l = strlen(w[k]);
        if (word_at(s, n, i, w[k]) && (i + l == n || !isalpha((unsigned char)s[i + l]))) { *len = l; return 1; }
    }
    return 0;
}

/* Matches a number starting at s[i] (a digit, or '.' before a digit). Writes the canonical
 * "[-]int[.frac][e[-]exp][%]" into o (cap 96+) and returns the end index; 0 when refused. */
static size_t match_number(const char *s, size_t n, size_t i, char *o, size_t cap, int *glued) {
    size_t j = i, w = 0, b = i;
    int neg = 0;
    if (b && s[b - 1] == '-' && !(b >= 2 && (isalnum((unsigned char)s[b - 2]) || s[b - 2] == ')'))) { neg = 1; b--; }
    *glued = b && (isalpha((unsigned char)s[b - 1]) || s[b - 1] == '_');
    char tmp[96];
    size_t t = 0;
    while (j < n && isdigit((unsigned char)s[j])) { if (t < 60) tmp[t++] = s[j]; j++; }
    size_t intlen = j - i;
    if (intlen && intlen <= 3) {                          /* thousands: 1,234 or 1 234 */
        char sep = 0;
        while (j + 3 < n && (s[j] == ',' || s[j] == ' ') && (!sep || s[j] == sep) &&
               isdigit((unsigned char)s[j + 1]) && isdigit((unsigned char)s[j + 2]) &&
               isdigit((unsigned char)s[j + 3]) && (j + 4 >= n || !isdigit((unsigned char)s[j + 4]))) {
            sep = s[j];
            for (int k = 1; k <= 3; k++) if (t < 60) tmp[t++] = s[j + k];
            j += 4;
        }
    }
    if (!intlen) tmp[t++] = '0';
    if (j + 1 < n && s[j] == '.' && isdigit((unsigned char)s[j + 1])) {
        tmp[t++] = '.'; j++;
        while (j < n && isdigit((unsigned char)s[j])) { if (t < 80) tmp[t++] = s[j]; j++; }
    } else if (intlen && j + 1 < n && s[j] == ',' && isdigit((unsigned char)s[j + 1])) {
        size_t k = j + 1;                                 /* decimal comma: 1000,99 */
        while (k < n && isdigit((unsigned char)s[k])) k++;
        int list = k + 1 < n && s[k] == ',' && isdigit((unsigned char)s[k + 1]);
        if (!list && (k - j - 1 != 3 || intlen > 3)) {
            tmp[t++] = '.';
            for (size_t q = j + 1; q < k; q++) if (t < 80) tmp[t++] = s[q];
            j = k;
        }
    }
    if (j + 1 < n && (s[j] == 'e' || s[j] == 'E')) {       /* 7.3e1, 1e-300 */
        size_t k = j + 1;
        if (k < n && (s[k] == '-' || s[k] == '+')) k++;
        if (k < n && isdigit((unsigned char)s[k])) {
            size_t d0 = k;
            while (k < n && isdigit((unsigned char)s[k])) k++;
            if (k - d0 <= 6) {
                tmp[t++] = 'e';
                if (s[j + 1] == '-') tmp[t++] = '-';
                for (size_t q = d0; q < k; q++) tmp[t++] = s[q];
                j = k;
            }
        }
    }
    size_t k = j;
    while (k < n && s[k] == ' ') k++;
    size_t pl = 0;
    int pct = 0;
    if (k < n && s[k] == '%') { pct = 1; }
    else if (k + 1 < n && s[k] == '\\' && s[k + 1] == '%') pct = 1;
    else if (is_pct_word(s, n, k, &pl)) pct = 1;
    if (neg && w < cap) o[w++] = '-';
    for (size_t q = 0; q < t && w + 2 < cap; q++) o[w++] = tmp[q];
    if (pct) o[w++] = '%';
    o[w] = 0;
    return j;
}

/* The last number that is not glued to a word. Scans backward a region at a time (the
 * digits and separators before the last digit), matching forward inside the region, so
 * the cost is the distance from the end, not the text length. */
static int ext_number(const char *s, size_t n, char **out, size_t *out_n) {
    char cur[128];
    size_t end = n;
    while (end > 0) {
        size_t d = end;
        while (d > 0 && !isdigit((unsigned char)s[d - 1])) d--;
        if (!d) break;
        size_t st = d - 1, lim = st > 256 ? st - 256 : 0;
        while (st > lim && (isdigit((unsigned char)s[st - 1]) || s[st - 1] == ',' || s[st - 1] == '.' || s[st - 1] == ' '))
            st--;
        long best = -1;
        for (size_t i = st; i < end;) {
            int start = isdigit((unsigned char)s[i]) ||
                        (s[i] == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1]) && !(i && isdigit((unsigned char)s[i - 1])));
            if (!start || (i > st && isdigit((unsigned char)s[i - 1]))) { i++; continue; }
            int glued;
            size_t e = match_number(s, n, i, cur, sizeof cur, &glued);
            if (!glued) best = (long)i;
            i = e > i ? e : i + 1;
        }
        if (best >= 0) {
            int glued;
            match_number(s, n, (size_t)best, cur, sizeof cur, &glued);
            *out = dup_range(cur, 0, strlen(cur), out_n);
            return *out ? 1 : -1;
        }
        end = st;
    }
    return 0;
}

/* ---- choice letters ---- */

static int ext_mcq(const math_verify_params *p, const char *s, size_t n, char **out, size_t *out_n) {
    const char *L = p->mcq_letters;
    int line_hit = -1, any_hit = -1;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!ch || !strchr(L, ch) || !isupper((unsigned char)ch)) continue;
        int left = i == 0 || !isalnum((unsigned char)s[i - 1]);
        int right = i + 1 == n || !isalnum((unsigned char)s[i + 1]);
        if (!left || !right) continue;
        any_hit = ch;
        size_t k = i;                              /* start of line, after "(", "**", spaces */
        while (k && (s[k - 1] == ' ' || s[k - 1] == '(' || s[k - 1] == '*' || s[k - 1] == '\t')) k--;
        int nx = i + 1 < n ? s[i + 1] : '\n';
        if ((k == 0 || s[k - 1] == '\n') && (nx == '.' || nx == ')' || nx == ':' || nx == '\n' || nx == ' ' || nx == '*'))
            line_hit = ch;
    }
    int ch = line_hit >= 0 ? line_hit : any_hit;
    if (ch < 0) return 0;
    char b[2] = { (char)tolower(ch), 0 };
    *out = dup_range(b, 0, 1, out_n);
    return *out ? 1 : -1;
}

/* ---- driver ---- */

static int run_source(const math_verify_params *p, int src, const char *s, size_t n,
                      char **out, size_t *out_n) {
    switch (src) {
    case MATH_SRC_BOXED: return ext_boxed(p, s, n, out, out_n);
    case MATH_SRC_FINAL: return ext_phrase(p, s, n, 0, out, out_n);
    case MATH_SRC_HASH: return ext_hash(s, n, out, out_n);
    case MATH_SRC_ANSWER: return ext_phrase(p, s, n, 1, out, out_n);
    case MATH_SRC_LATEX: return ext_latex(p, s, n, out, out_n);
    case MATH_SRC_NUMBER: return ext_number(s, n, out, out_n);
    case MATH_SRC_MCQ: return ext_mcq(p, s, n, out, out_n);
    default: return 0;
    }
}

int mext_find(const math_verify_params *p, const char *s, size_t n, int gold,
              char **out, size_t *out_n, int *src) {
    *out = NULL; *out_n = 0; *src = MATH_SRC_END;
    unsigned char gorder[4] = { 0 };
    const unsigned char *order = p->order;
    if (gold) {
        int k = 0;
        if (p->mode != MATH_MODE_MCQ) {
            if (memmem(s, n, "\\boxed", 6) || memmem(s, n, "\\fbox", 5)) gorder[k++] = MATH_SRC_BOXED;
            else if (memmem(s, n, "####", 4)) gorder[k++] = MATH_SRC_HASH;
        }
        order = gorder;
    }
    for (int k = 0; k < MATH_SRC_COUNT && order[k]; k++) {
        char *a = NULL; size_t an = 0;
        int r = run_source(p, order[k], s, n, &a, &an);
        if (r < 0) return RLVR_ENOMEM;
        if (!r) continue;
        if (an > p->max_answer) { free(a); continue; }
        an = mnorm_answer(a, an);
        if (!an) { free(a); continue; }
        *out = a; *out_n = an; *src = order[k];
        return RLVR_OK;
    }
    if (gold) {                                   /* the gold as a whole */
        if (n > p->max_answer) return RLVR_OK;
        char *a = dup_range(s, 0, n, out_n);
        if (!a) return RLVR_ENOMEM;
        *out_n = mnorm_answer(a, *out_n);
        if (!*out_n) { free(a); return RLVR_OK; }
        *out = a; *src = MATH_SRC_END;
    }
    return RLVR_OK;
}
