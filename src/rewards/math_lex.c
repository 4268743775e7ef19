/* math_lex.c: the tokenizer for one cleaned answer. Knows the LaTeX the verifier
 * accepts: \frac12, \sqrt3, \left/\right, \text{..}, matrices, thousands separators
 * (",\!", "{,}", "\,", "1,234" outside brackets), 0.\overline{3}, 7.3e1. Anything it
 * does not know becomes T_ERR, which fails the parse. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "rewards/math_int.h"
#include "rewards/math_lex.h"

typedef struct {
    mctx *c;
    mtok *t; int nt, cap;
    int depth;          /* bracket depth that makes ',' a separator */
    unsigned char bstack[256]; int nb; /* 1 for each open set-like bracket */
    int err;
} lexer;

static int push(lexer *L, int t, int aux, int adj) {
    if (L->nt + 2 > L->cap) {
        int nc = L->cap ? 2 * L->cap : 64;
        mtok *nt = realloc(L->t, (size_t)nc * sizeof *nt);
        if (!nt) { L->c->oom = 1; L->err = 1; return -1; }
        L->t = nt; L->cap = nc;
    }
    mtok *k = &L->t[L->nt];
    memset(k, 0, sizeof *k);
    k->t = (unsigned char)t; k->aux = (unsigned char)aux; k->adj = (unsigned char)adj;
    return L->nt++;
}

static int last_t(lexer *L) { return L->nt ? L->t[L->nt - 1].t : T_END; }

static void open_br(lexer *L, int setlike) {
    if (L->nb < (int)sizeof L->bstack) L->bstack[L->nb] = (unsigned char)setlike;
    L->nb++;
    if (setlike) L->depth++;
}
static void close_br(lexer *L) {
    if (L->nb <= 0) return;
    L->nb--;
    if (L->nb < (int)sizeof L->bstack ? L->bstack[L->nb] : 1) L->depth--;
}

static int is_sp(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '~'; }

/* latex spacing commands at s[i]: returns their length, 0 when none */
static size_t space_cmd(const char *s, size_t n, size_t i) {
    if (i + 1 < n && s[i] == '\\' && (s[i + 1] == ',' || s[i + 1] == ';' || s[i + 1] == ':' ||
                                     s[i + 1] == '!' || s[i + 1] == ' '))
        return 2;
    if (i + 6 <= n && memcmp(s + i, "\\qquad", 6) == 0) return 6;
    if (i + 5 <= n && memcmp(s + i, "\\quad", 5) == 0 && !(i + 5 < n && isalpha((unsigned char)s[i + 5]))) return 5;
    return 0;
}

/* ---- numbers ---- */

/* Lexes the number at s[i]; returns the end. Thousands separators: ",\!" / "{,}" / "\,"
 * / single spaces anywhere; plain ",ddd" groups only outside brackets and only when the
 * whole comma run is \d{1,3}(,\d{3})+ . A repeating decimal 0.\overline{3} becomes QVAL. */
static size_t lex_number(lexer *L, const char *s, size_t n, size_t i, int adj) {
    char buf[4200]; size_t w = 0;
    size_t j = i;
    int raw = 1;
    while (j < n && isdigit((unsigned char)s[j]) && w < 4000) buf[w++] = s[j++];
    size_t intlen = j - i;
    if (intlen && intlen <= 3 && L->depth == 0 && j + 3 < n && s[j] == ',' ) {
        size_t k = j; int ok = 1, groups = 0;
        while (k < n && s[k] == ',' && k + 1 < n && isdigit((unsigned char)s[k + 1])) {
            size_t d = k + 1;
            while (d < n && isdigit((unsigned char)s[d])) d++;
            if (d - k - 1 != 3) ok = 0;
            groups++; k = d;
        }
        if (ok && groups) {
            for (size_t q = j; q < k && w < 4000; q++) if (s[q] != ',') buf[w++] = s[q];
            j = k; raw = 0;
        }
    }
    for (int guard = 0; intlen && guard < 1000; guard++) {   /* explicit separators */
        size_t k = j, sl = 0;
        int expl = 0;
        if (k + 2 < n && s[k] == ',' && s[k + 1] == '\\' && s[k + 2] == '!') { sl = 3; expl = 1; }
        else if (k + 2 < n && s[k] == '{' && s[k + 1] == ',' && s[k + 2] == '}') { sl = 3; expl = 1; }
        else if (k + 1 < n && s[k] == '\\' && (s[k + 1] == ',' || s[k + 1] == ' ' || s[k + 1] == ';')) sl = 2;
        else if (k < n && (s[k] == ' ' || s[k] == '~')) sl = 1;
        if (!sl || (!expl && intlen > 3)) break;
        k += sl;
        if (expl) while (k < n && s[k] == ' ') k++;
        if (!(k + 3 <= n && isdigit((unsigned char)s[k]) && isdigit((unsigned char)s[k + 1]) &&
              isdigit((unsigned char)s[k + 2]) && (k + 3 == n || !isdigit((unsigned char)s[k + 3]))))
            break;
        for (int q = 0; q < 3 && w < 4000; q++) buf[w++] = s[k + q];
        j = k + 3; raw = 0;
    }
    if (!intlen) buf[w++] = '0';
    int frac = 0, exp10 = 0;
    if (j + 1 < n && s[j] == '.' && isdigit((unsigned char)s[j + 1])) {
        buf[w++] = '.'; j++; raw = 0;
        while (j < n && isdigit((unsigned char)s[j]) && w < 4100) { buf[w++] = s[j++]; frac++; }
    }
    /* repeating decimal: int.frac\overline{rep} */
    if (j + 10 <= n && ((s[j] == '\\' && frac) || (s[j] == '.' && j + 11 <= n)) &&
        memcmp(s + j + (s[j] == '.'), "\\overline{", 10) == 0) {
        size_t k = j + (s[j] == '.') + 10, r0 = k;
        while (k < n && isdigit((unsigned char)s[k])) k++;
        if (k < n && s[k] == '}' && k > r0 && k - r0 <= 30 && w < 4000) {
            /* x = A.B(R): x = (ABR - AB) / (10^|B| * (10^|R| - 1)) */
            mpz_t ab, abr, den; mpq_t q;
            mpz_inits(ab, abr, den, NULL); mpq_init(q);
            char tmp[4200]; size_t tw = 0;
            for (size_t z = 0; z < w; z++) if (buf[z] != '.') tmp[tw++] = buf[z];
            tmp[tw] = 0;
            mpz_set_str(ab, tmp, 10);
            memcpy(tmp + tw, s + r0, k - r0); tmp[tw + (k - r0)] = 0;
            mpz_set_str(abr, tmp, 10);
            mpz_sub(abr, abr, ab);
            mpz_ui_pow_ui(den, 10, (unsigned long)(k - r0));
            mpz_sub_ui(den, den, 1);
            mpz_t p10; mpz_init(p10); mpz_ui_pow_ui(p10, 10, (unsigned long)frac);
            mpz_mul(den, den, p10); mpz_clear(p10);
            mpz_set(mpq_numref(q), abr); mpz_set(mpq_denref(q), den); mpq_canonicalize(q);
            char *str = mpq_get_str(NULL, 10, q);
            int id = push(L, T_QVAL, 0, adj);
            if (id >= 0 && str) {
                int off = mctx_pool(L->c, str, (int)strlen(str));
                L->t[id].s = off; L->t[id].n = (int)strlen(str);
                if (off < 0) L->err = 1;
            }
            free(str);
            mpz_clears(ab, abr, den, NULL); mpq_clear(q);
            return k + 1;
        }
    }
    if (j + 1 < n && (s[j] == 'e' || s[j] == 'E')) {           /* 7.3e1, 1e-300 */
        size_t k = j + 1;
        int neg = 0;
        if (k < n && (s[k] == '-' || s[k] == '+')) neg = s[k++] == '-';
        size_t d0 = k;
        while (k < n && isdigit((unsigned char)s[k]) && k - d0 < 7) k++;
        if (k > d0 && !(k < n && (isalnum((unsigned char)s[k])))) {
            buf[w++] = 'e';
            if (neg) buf[w++] = '-';
            for (size_t q = d0; q < k; q++) { buf[w++] = s[q]; exp10 = exp10 * 10 + (s[q] - '0'); }
            if (neg) exp10 = -exp10;
            j = k; raw = 0;
        }
    }
    int id = push(L, T_NUM, 0, adj);
    if (id < 0) return n;
    int off = mctx_pool(L->c, buf, (int)w);
    if (off < 0) { L->err = 1; return n; }
    L->t[id].s = off; L->t[id].n = (int)w; L->t[id].raw = (unsigned char)raw;
    int dec = frac - exp10;
    L->t[id].dec = (short)(dec < 0 ? 0 : dec > 30000 ? 30000 : dec);
    return j;
}

/* ---- words and commands ---- */

typedef struct { const char *name; unsigned char t, aux; } kw;

static const kw words[] = {
    { "sin", T_FUNC, F_SIN }, { "cos", T_FUNC, F_COS }, { "tan", T_FUNC, F_TAN },
    { "sec", T_FUNC, F_SEC }, { "csc", T_FUNC, F_CSC }, { "cot", T_FUNC, F_COT },
    { "arcsin", T_FUNC, F_ASIN }, { "arccos", T_FUNC, F_ACOS }, { "arctan", T_FUNC, F_ATAN },
    { "asin", T_FUNC, F_ASIN }, { "acos", T_FUNC, F_ACOS }, { "atan", T_FUNC, F_ATAN },
    { "sinh", T_FUNC, F_SINH }, { "cosh", T_FUNC, F_COSH }, { "tanh", T_FUNC, F_TANH },
    { "ln", T_FUNC, F_LN }, { "log", T_FUNC, F_LOG }, { "exp", T_FUNC, F_EXP },
    { "sqrt", T_FUNC, F_SQRT }, { "abs", T_FUNC, F_ABS },
    { "pi", T_CONST, C_PI }, { "inf", T_CONST, C_INF }, { "infty", T_CONST, C_INF },
    { "infinity", T_CONST, C_INF }, { "oo", T_CONST, C_INF },
    { "and", T_COMMA, 0 }, { "or", T_COMMA, 0 },
    { "percent", T_PCT, 0 }, { "percentage", T_PCT, 0 }, { "pct", T_PCT, 0 },
    { NULL, 0, 0 }
};

static const kw cmds[] = {
    { "frac", T_FRAC, 0 }, { "dfrac", T_FRAC, 0 }, { "tfrac", T_FRAC, 0 }, { "cfrac", T_FRAC, 0 },
    { "sqrt", T_SQRT, 0 }, { "binom", T_BINOM, 0 }, { "dbinom", T_BINOM, 0 }, { "tbinom", T_BINOM, 0 },
    { "cdot", T_MUL, 0 }, { "times", T_MUL, 0 }, { "ast", T_MUL, 0 }, { "div", T_DIV, 0 },
    { "pm", T_PM, 0 }, { "mp", T_PM, 0 },
    { "le", T_REL, REL_LE }, { "leq", T_REL, REL_LE }, { "leqslant", T_REL, REL_LE }, { "lt", T_REL, REL_LT },
    { "ge", T_REL, REL_GE }, { "geq", T_REL, REL_GE }, { "geqslant", T_REL, REL_GE }, { "gt", T_REL, REL_GT },
    { "ne", T_REL, REL_NE }, { "neq", T_REL, REL_NE }, { "approx", T_REL, REL_EQ }, { "in", T_REL, REL_IN },
    { "cup", T_CUP, 0 }, { "cap", T_CAP, 0 }, { "setminus", T_SETMINUS, 0 }, { "backslash", T_SETMINUS, 0 },
    { "infty", T_CONST, C_INF }, { "infin", T_CONST, C_INF }, { "pi", T_CONST, C_PI },
    { "emptyset", T_EMPTY, 0 }, { "varnothing", T_EMPTY, 0 }, { "reals", T_REALS, 0 },
    { "lbrace", T_LSET, 0 }, { "rbrace", T_RSET, 0 }, { "langle", T_LANG, 0 }, { "rangle", T_RANG, 0 },
    { "vert", T_PIPE, 0 }, { "lvert", T_PIPE, 0 }, { "rvert", T_PIPE, 0 }, { "mid", T_PIPE, 0 },
    { "lfloor", T_LFLOOR, 0 }, { "rfloor", T_RFLOOR, 0 }, { "lceil", T_LCEIL, 0 }, { "rceil", T_RCEIL, 0 },
    { "sin", T_FUNC, F_SIN }, { "cos", T_FUNC, F_COS }, { "tan", T_FUNC, F_TAN },
    { "sec", T_FUNC, F_SEC }, { "csc", T_FUNC, F_CSC }, { "cot", T_FUNC, F_COT },
    { "arcsin", T_FUNC, F_ASIN }, { "arccos", T_FUNC, F_ACOS }, { "arctan", T_FUNC, F_ATAN },
    { "sinh", T_FUNC, F_SINH }, { "cosh", T_FUNC, F_COSH }, { "tanh", T_FUNC, F_TANH },
    { "ln", T_FUNC, F_LN }, { "log", T_FUNC, F_LOG }, { "lg", T_FUNC, F_LOG }, { "exp", T_FUNC, F_EXP },
    { "to", T_ERR, 0 }, { "rightarrow", T_ERR, 0 }, { "Rightarrow", T_ERR, 0 }, { "implies", T_ERR, 0 },
    { "iff", T_ERR, 0 }, { "notin", T_ERR, 0 }, { "subset", T_ERR, 0 }, { "subseteq", T_ERR, 0 },
    { NULL, 0, 0 }
};

static const char *const skip_cmds[] = {
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
    "biggr", "Biggl", "Biggr", "middle", "displaystyle", "textstyle", "scriptstyle", "limits",
    "nolimits", "quad", "qquad", "circ", "degree", "prime", "hline", "cr", "mathstrut", NULL
};
static const char *const text_cmds[] = {
    "text", "textrm", "textbf", "textit", "textsf", "texttt", "textnormal", "mathrm", "mathbf",
    "mathit", "mathsf", "mathtt", "mathcal", "mbox", "operatorname", "boldsymbol", "bm", "mathbb",
    "hbox", NULL
};
static const char *const mat_envs[] = {
    "matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix", "array", NULL
};

static int in_list(const char *const *l, const char *s, size_t n) {
    for (int i = 0; l[i]; i++) if (strlen(l[i]) == n && memcmp(l[i], s, n) == 0) return 1;
    return 0;
}
static const kw *find_kw(const kw *t, const char *s, size_t n) {
    for (int i = 0; t[i].name; i++) if (strlen(t[i].name) == n && memcmp(t[i].name, s, n) == 0) return &t[i];
    return NULL;
}

static int push_str(lexer *L, int t, const char *s, size_t n, int adj) {
    int id = push(L, t, 0, adj);
    if (id < 0) return -1;
    int off = mctx_pool(L->c, s, (int)n);
    if (off < 0) { L->err = 1; return -1; }
    L->t[id].s = off; L->t[id].n = (int)n;
    return id;
}

/* "_x" / "_{12}" after a name: appended as "_x" (spaces dropped). Returns the end. */
static size_t subscript(const char *s, size_t n, size_t j, char *name, size_t *nl, size_t cap) {
    if (j + 1 >= n || s[j] != '_') return j;
    size_t a = j + 1, b;
    if (s[a] == '{') {
        int close = mnorm_match_brace(s, n, a);
        if (close < 0) return j;
        b = (size_t)close; a++;
    } else if (isalnum((unsigned char)s[a])) b = a + 1;
    else return j;
    if (*nl + 1 < cap) name[(*nl)++] = '_';
    for (size_t q = a; q < b && *nl + 1 < cap; q++) if (!isspace((unsigned char)s[q])) name[(*nl)++] = s[q];
    return s[j + 1] == '{' ? b + 1 : b;
}

static void lex_range(lexer *L, const char *s, size_t n, int rdepth);

/* \text{..} and friends: a word becomes TEXT / a letter / a keyword; math is lexed inline. */
static size_t lex_text(lexer *L, const char *s, size_t n, size_t j, int adj, int rdepth, int bb) {
    while (j < n && s[j] == ' ') j++;
    if (j >= n || s[j] != '{') return j;
    int close = mnorm_match_brace(s, n, j);
    if (close < 0) { L->err = 1; return n; }
    size_t a = j + 1, b = (size_t)close;
    while (a < b && isspace((unsigned char)s[a])) a++;
    while (b > a && isspace((unsigned char)s[b - 1])) b--;
    if (bb && b - a == 1 && s[a] == 'R') { push(L, T_REALS, 0, adj); return (size_t)close + 1; }
    int wordy = 1;
    for (size_t q = a; q < b; q++) {
        unsigned char ch = (unsigned char)s[q];
        if (!(isalpha(ch) || ch == ' ' || ch == '(' || ch == ')' || ch == '.' || ch == '\'' || ch == '-' || ch >= 0x80))
            wordy = 0;
    }
    if (!wordy || b == a) { lex_range(L, s + a, b - a, rdepth + 1); return (size_t)close + 1; }
    size_t x = a, y = b;        /* strip "(C)" and "C." */
    while (x < y && (s[x] == '(' || s[x] == ' ')) x++;
    while (y > x && (s[y - 1] == ')' || s[y - 1] == '.' || s[y - 1] == ' ')) y--;
    if (y == x) return (size_t)close + 1;
    const kw *k = find_kw(words, s + x, y - x);
    if (k && (k->t == T_COMMA || k->t == T_PCT || k->t == T_CONST)) { push(L, k->t, k->aux, adj); return (size_t)close + 1; }
    if (y - x == 1) { push_str(L, T_WORD, s + x, 1, adj); return (size_t)close + 1; }
    char buf[512]; size_t w = 0; int sp = 0;
    for (size_t q = x; q < y && w + 1 < sizeof buf; q++) {
        if (isspace((unsigned char)s[q])) { sp = 1; continue; }
        if (sp && w) buf[w++] = ' ';
        sp = 0;
        buf[w++] = (char)tolower((unsigned char)s[q]);
    }
    push_str(L, T_TEXT, buf, w, adj);
    return (size_t)close + 1;
}

static size_t lex_command(lexer *L, const char *s, size_t n, size_t i, int adj, int rdepth) {
    size_t j = i + 1;
    if (j >= n) return n;
    char ch = s[j];
    if (!isalpha((unsigned char)ch)) {
        switch (ch) {
        case '{': push(L, T_LSET, 0, adj); open_br(L, 1); return j + 1;
        case '}': push(L, T_RSET, 0, adj); close_br(L); return j + 1;
        case '\\': push(L, T_ROWSEP, 0, adj); return j + 1;
        case '%': push(L, T_PCT, 0, adj); return j + 1;
        case '|': push(L, T_PIPE, 0, adj); return j + 1;
        case '(': case ')': case '[': case ']': case '$': case '#': case '&': case '_':
        case ',': case ';': case ':': case '!': case ' ': case '.': case '\n':
            return j + 1;
        default: push(L, T_ERR, 0, adj); return j + 1;
        }
    }
    while (j < n && isalpha((unsigned char)s[j])) j++;
    const char *name = s + i + 1; size_t nl = j - i - 1;
    if (in_list(skip_cmds, name, nl)) {
        if ((nl == 4 && memcmp(name, "left", 4) == 0) || (nl == 5 && memcmp(name, "right", 5) == 0)) {
            while (j < n && s[j] == ' ') j++;
            if (j < n && s[j] == '.') j++;
        }
        return j;
    }
    if (in_list(text_cmds, name, nl))
        return lex_text(L, s, n, j, adj, rdepth, nl == 6 && memcmp(name, "mathbb", 6) == 0);
    if ((nl == 5 && memcmp(name, "begin", 5) == 0) || (nl == 3 && memcmp(name, "end", 3) == 0)) {
        int begin = nl == 5;
        if (j >= n || s[j] != '{') { push(L, T_ERR, 0, adj); return j; }
        int close = mnorm_match_brace(s, n, j);
        if (close < 0) { push(L, T_ERR, 0, adj); return n; }
        size_t ea = j + 1, eb = (size_t)close;
        if (eb > ea && s[eb - 1] == '*') eb--;
        j = (size_t)close + 1;
        if (!in_list(mat_envs, s + ea, eb - ea)) { push(L, T_ERR, 0, adj); return j; }
        push(L, begin ? T_BEGIN_MAT : T_END_MAT, 0, adj);
        if (begin && eb - ea == 5 && memcmp(s + ea, "array", 5) == 0) {   /* skip {cc} */
            while (j < n && s[j] == ' ') j++;
            if (j < n && s[j] == '{') { int c2 = mnorm_match_brace(s, n, j); if (c2 > 0) j = (size_t)c2 + 1; }
        }
        return j;
    }
    if (nl == 8 && memcmp(name, "overline", 8) == 0) { push(L, T_ERR, 0, adj); return j; }
    const kw *k = find_kw(cmds, name, nl);
    if (k) {
        push(L, k->t, k->aux, adj);
        if (k->t == T_LSET) open_br(L, 1);
        else if (k->t == T_RSET) close_br(L);
        else if (k->t == T_LANG) open_br(L, 1);
        else if (k->t == T_RANG) close_br(L);
        return j;
    }
    /* unknown command: a symbol named after it (\alpha -> "alpha"), with a subscript */
    char buf[128]; size_t bl = 0;
    for (size_t q = 0; q < nl && bl + 1 < sizeof buf; q++) buf[bl++] = name[q];
    j = subscript(s, n, j, buf, &bl, sizeof buf);
    push_str(L, T_SYM, buf, bl, adj);
    return j;
}

static void lex_range(lexer *L, const char *s, size_t n, int rdepth) {
    if (rdepth > 4) { L->err = 1; return; }
    int adj = 0;
    for (size_t i = 0; i < n && !L->err;) {
        if (!mctx_spend(L->c, 1)) { L->err = 1; return; }
        char ch = s[i];
        size_t sc;
        if (is_sp(ch)) { adj = 0; i++; continue; }
        if ((sc = space_cmd(s, n, i))) { adj = 0; i += sc; continue; }
        if (isdigit((unsigned char)ch) || (ch == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1]))) {
            i = lex_number(L, s, n, i, adj); adj = 1; continue;
        }
        if (isalpha((unsigned char)ch)) {
            size_t j = i;
            while (j < n && isalpha((unsigned char)s[j])) j++;
            const kw *k = find_kw(words, s + i, j - i);
            if (k) { push(L, k->t, k->aux, adj); i = j; adj = 1; continue; }
            char buf[128]; size_t bl = 0;
            for (size_t q = i; q < j && bl + 1 < sizeof buf; q++) buf[bl++] = s[q];
            if (j - i >= sizeof buf - 1) { L->err = 1; return; }
            j = subscript(s, n, j, buf, &bl, sizeof buf);
            push_str(L, T_WORD, buf, bl, adj);
            i = j; adj = 1; continue;
        }
        if (ch == '\\') {
            i = lex_command(L, s, n, i, adj, rdepth); adj = 1; continue;
        }
        if ((unsigned char)ch >= 0x80) {        /* one UTF-8 character as a symbol */
            size_t j = i + 1;
            while (j < n && ((unsigned char)s[j] & 0xC0) == 0x80 && j - i < 4) j++;
            push_str(L, T_SYM, s + i, j - i, adj);
            i = j; adj = 1; continue;
        }
        int t = -1, aux = 0;
        size_t len = 1;
        switch (ch) {
        case '+': t = T_PLUS; break;
        case '-': t = T_MINUS; break;
        case '*': if (i + 1 < n && s[i + 1] == '*') { t = T_POW; len = 2; } else t = T_MUL; break;
        case '/': t = T_DIV; break;
        case '^': {
            size_t k = i + 1;
            while (k < n && s[k] == ' ') k++;
            if (k + 5 <= n && memcmp(s + k, "\\circ", 5) == 0) { i = k + 5; continue; }
            if (k + 7 <= n && memcmp(s + k, "{\\circ}", 7) == 0) { i = k + 7; continue; }
            t = T_POW; break;
        }
        case '_': t = T_UNDER; break;
        case '!': if (i + 1 < n && s[i + 1] == '=') { t = T_REL; aux = REL_NE; len = 2; } else t = T_BANG; break;
        case '%': t = T_PCT; break;
        case '(': t = T_LP; open_br(L, 1); break;
        case ')': t = T_RP; close_br(L); break;
        case '[': t = T_LB; open_br(L, 1); break;
        case ']': t = T_RB; close_br(L); break;
        case '{': {
            int lt = last_t(L);
            int arg = lt == T_FRAC || lt == T_SQRT || lt == T_BINOM || lt == T_POW || lt == T_UNDER ||
                      lt == T_RC || lt == T_RB;
            t = T_LC; open_br(L, !arg); break;
        }
        case '}': t = T_RC; close_br(L); break;
        case ',': t = T_COMMA; break;
        case ';': t = T_COMMA; break;
        case ':': if (i + 1 < n && s[i + 1] == '=') { t = T_REL; aux = REL_EQ; len = 2; } else t = T_COLON; break;
        case '=': t = T_REL; aux = REL_EQ; if (i + 1 < n && s[i + 1] == '=') len = 2; break;
        case '<': t = T_REL; aux = REL_LT; if (i + 1 < n && s[i + 1] == '=') { aux = REL_LE; len = 2; } break;
        case '>': t = T_REL; aux = REL_GT; if (i + 1 < n && s[i + 1] == '=') { aux = REL_GE; len = 2; } break;
        case '|': t = T_PIPE; break;
        case '&': t = T_AMP; break;
        case '$': case '\'': case '"': case '.': case '?': case '#': case '`': i++; continue;
        default: t = T_ERR; break;
        }
        push(L, t, aux, adj);
        i += len; adj = 1;
    }
}

int mlex(mctx *c, const char *s, size_t n, mtok **toks, int *nt) {
    lexer L;
    memset(&L, 0, sizeof L);
    L.c = c;
    lex_range(&L, s, n, 0);
    *toks = L.t; *nt = L.nt;
    if (L.err || L.nt == 0) return -1;
    for (int q = 0; q < L.nt; q++) if (L.t[q].t == T_ERR) return -1;
    return 0;
}
