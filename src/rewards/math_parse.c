/* math_parse.c: one cleaned answer string -> expression nodes (math_int.h), and nodes ->
 * canonical key strings. The tokenizer knows the LaTeX the verifier accepts (\frac12,
 * \sqrt3, \left/\right, \text{..}, matrices, thousands separators); the parser is plain
 * recursive descent with a depth limit. Unknown input fails the parse; it never loops. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "rewards/math_int.h"

const char *const math_func_names[F_COUNT] = {
    "sin", "cos", "tan", "sec", "csc", "cot", "asin", "acos", "atan",
    "sinh", "cosh", "tanh", "ln", "log", "exp", "sqrt", "abs", "floor", "ceil", "binom"
};

enum {
    T_END, T_NUM, T_QVAL, T_WORD, T_SYM, T_CONST, T_TEXT, T_FUNC,
    T_PLUS, T_MINUS, T_PM, T_MUL, T_DIV, T_POW, T_UNDER, T_BANG, T_PCT,
    T_LP, T_RP, T_LB, T_RB, T_LC, T_RC, T_LSET, T_RSET, T_LANG, T_RANG,
    T_PIPE, T_LFLOOR, T_RFLOOR, T_LCEIL, T_RCEIL,
    T_COMMA, T_REL, T_COLON, T_CUP, T_CAP, T_SETMINUS,
    T_FRAC, T_SQRT, T_BINOM, T_BEGIN_MAT, T_END_MAT, T_AMP, T_ROWSEP,
    T_REALS, T_EMPTY, T_ERR
};

typedef struct {
    unsigned char t, aux, adj, raw; /* adj: no space before; raw: NUM is plain digits */
    short dec;
    int s, n;                       /* pool slice (NUM, QVAL, WORD, SYM, TEXT) */
} mtok;

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

/* ---- parser ---- */

typedef struct {
    mctx *c;
    mtok *t; int nt, i;
    int depth, err;
} parser;

static int pk(parser *P) { return P->i < P->nt ? P->t[P->i].t : T_END; }
static mtok *cur(parser *P) { return &P->t[P->i < P->nt ? P->i : P->nt - 1]; }
static int fail(parser *P) { P->err = 1; return -1; }

static int node(parser *P, int kind, int flag, int a, int b) {
    if (P->err) return -1;
    int id = mctx_node(P->c, kind, flag, a, b);
    if (id < 0) P->err = 1;
    return id;
}

static int list_node(parser *P, int kind, int flag, const int *items, int n) {
    if (P->err) return -1;
    int off = mctx_kids(P->c, items, n);
    if (off < 0) return fail(P);
    return node(P, kind, flag, off, n);
}

static int parse_rel(parser *P);
static int parse_expr(parser *P);
static int parse_power(parser *P);
static int parse_primary(parser *P);

static int enter(parser *P) {
    if (++P->depth > MATH_MAX_DEPTH || P->err || !mctx_spend(P->c, 1)) { P->err = 1; return 0; }
    return 1;
}
#define LEAVE(P, v) do { int _v = (v); (P)->depth--; return (P)->err ? -1 : _v; } while (0)

/* items separated by ',' / ';' / and / or; returns the count, -1 on error */
static int parse_items(parser *P, int *items, int cap) {
    int k = 0;
    for (;;) {
        if (k >= cap) { fail(P); return -1; }
        int e = parse_rel(P);
        if (e < 0) return -1;
        items[k++] = e;
        if (pk(P) != T_COMMA) break;
        P->i++;
    }
    return k;
}

static int starts_factor(int t) {
    return t == T_WORD || t == T_SYM || t == T_CONST || t == T_FUNC || t == T_FRAC || t == T_SQRT ||
           t == T_BINOM || t == T_LP || t == T_LC || t == T_LSET || t == T_BEGIN_MAT ||
           t == T_LFLOOR || t == T_LCEIL || t == T_QVAL;
}

static int num_node(parser *P, mtok *k, int kind) {
    int id = node(P, kind, 0, 0, 0);
    if (id < 0) return -1;
    P->c->nodes[id].s = k->s; P->c->nodes[id].n = k->n; P->c->nodes[id].dec = k->dec;
    return id;
}

static int letter_node(parser *P, const char *name, int n) {
    if (n == 1 && name[0] == 'e') return node(P, N_CONST, C_E, 0, 0);
    int id = node(P, N_SYM, 0, 0, 0);
    if (id < 0) return -1;
    int off = mctx_pool(P->c, name, n);
    if (off < 0) return fail(P);
    P->c->nodes[id].s = off; P->c->nodes[id].n = n;
    return id;
}

/* \frac / \sqrt / \binom argument: {group}, or one digit / letter of a glued token */
static int parse_arg(parser *P) {
    if (!enter(P)) return -1;
    int t = pk(P);
    if (t == T_LC) {
        P->i++;
        int items[4];
        int k = parse_items(P, items, 4);
        if (k != 1 || pk(P) != T_RC) LEAVE(P, fail(P));
        P->i++;
        LEAVE(P, items[0]);
    }
    mtok *tk = cur(P);
    if ((t == T_NUM && tk->raw && tk->n > 1) || (t == T_WORD && tk->n > 1 && !memchr(P->c->pool + tk->s, '_', (size_t)tk->n))) {
        char ch = P->c->pool[tk->s];
        int id;
        if (t == T_NUM) {
            id = node(P, N_NUM, 0, 0, 0);
            int off = mctx_pool(P->c, &ch, 1);
            if (id < 0 || off < 0) LEAVE(P, fail(P));
            P->c->nodes[id].s = off; P->c->nodes[id].n = 1;
        } else id = letter_node(P, &ch, 1);
        tk->s++; tk->n--;
        LEAVE(P, id);
    }
    LEAVE(P, parse_primary(P));
}

/* the exponent after '^': {group}, -x, or a primary (right-associative) */
static int parse_pow_arg(parser *P) {
    if (!enter(P)) return -1;
    int e;
    if (pk(P) == T_LC) {
        P->i++;
        int items[4];
        int k = parse_items(P, items, 4);
        if (k != 1 || pk(P) != T_RC) LEAVE(P, fail(P));
        P->i++;
        e = items[0];
    } else if (pk(P) == T_MINUS) {
        P->i++;
        int a = parse_pow_arg(P);
        LEAVE(P, node(P, N_NEG, 0, a, -1));
    } else e = parse_primary(P);
    if (e >= 0 && pk(P) == T_POW) {
        P->i++;
        int x = parse_pow_arg(P);
        e = node(P, N_POW, 0, e, x);
    }
    LEAVE(P, e);
}

static int parse_matrix(parser *P) {
    int cells[MATH_MAX_ITEMS];
    int n = 0, cols = -1;
    for (;;) {
        if (pk(P) == T_END_MAT) { P->i++; break; }
        int row = 0;
        for (;;) {
            int e = parse_expr(P);
            if (e < 0 || n >= MATH_MAX_ITEMS) return fail(P);
            cells[n++] = e; row++;
            if (pk(P) != T_AMP) break;
            P->i++;
        }
        if (cols < 0) cols = row;
        else if (row != cols) return fail(P);
        if (pk(P) == T_ROWSEP) P->i++;
        else if (pk(P) != T_END_MAT) return fail(P);
    }
    if (n == 0 || cols <= 0) return fail(P);
    int id = list_node(P, N_MATRIX, 0, cells, n);
    if (id >= 0) { P->c->nodes[id].n = cols; P->c->nodes[id].b = n / cols; }
    return id;
}

static int func_inverse(int f) {
    switch (f) {
    case F_SIN: return F_ASIN;
    case F_COS: return F_ACOS;
    case F_TAN: return F_ATAN;
    default: return -1;
    }
}

static int parse_func(parser *P) {
    int f = cur(P)->aux;
    P->i++;
    int base = -1, power = -1;
    if (f == F_LOG && pk(P) == T_UNDER) { P->i++; base = parse_arg(P); if (base < 0) return -1; }
    if (pk(P) == T_POW) {
        P->i++;
        power = parse_pow_arg(P);
        if (power < 0) return -1;
        mnode *pw = &P->c->nodes[power];
        if (pw->kind == N_NEG && P->c->nodes[pw->a].kind == N_NUM && P->c->nodes[pw->a].n == 1 &&
            P->c->pool[P->c->nodes[pw->a].s] == '1' && func_inverse(f) >= 0) {
            f = func_inverse(f); power = -1;
        }
    }
    if (f == F_LOG && base < 0 && pk(P) == T_UNDER) { P->i++; base = parse_arg(P); if (base < 0) return -1; }
    int arg;
    if (pk(P) == T_LP) {
        P->i++;
        arg = parse_expr(P);
        if (arg < 0 || pk(P) != T_RP) return fail(P);
        P->i++;
    } else {
        arg = parse_power(P);
        while (arg >= 0 && starts_factor(pk(P)) && pk(P) != T_FUNC && pk(P) != T_LP)
            arg = node(P, N_MUL, 0, arg, parse_power(P));
    }
    if (arg < 0) return -1;
    int id = node(P, N_FUNC, f, arg, base);
    if (power >= 0) id = node(P, N_POW, 0, id, power);
    return id;
}

/* ( [ { \{ \langle groups: a group, a tuple, an interval or a set */
static int parse_group(parser *P, int open) {
    P->i++;
    int items[MATH_MAX_ITEMS];
    int close_set = open == T_LP || open == T_LB ? -1 : open == T_LC ? T_RC : open == T_LSET ? T_RSET : T_RANG;
    if ((open == T_LSET) && pk(P) == T_RSET) { P->i++; return node(P, N_EMPTY, 0, 0, 0); }
    int k = parse_items(P, items, MATH_MAX_ITEMS);
    if (k < 0) return -1;
    int cl = pk(P);
    if (close_set >= 0) {
        if (cl != close_set) return fail(P);
        P->i++;
        if (open == T_LC) return k == 1 ? items[0] : list_node(P, N_SET, 0, items, k);
        if (open == T_LSET) return list_node(P, N_SET, 0, items, k);
        return list_node(P, N_TUPLE, '<', items, k);
    }
    if (cl != T_RP && cl != T_RB) return fail(P);
    P->i++;
    int lo_closed = open == T_LB, hi_closed = cl == T_RB;
    if (k == 1) return (lo_closed == hi_closed) ? items[0] : fail(P);
    if (k == 2 && (lo_closed || hi_closed))
        return node(P, N_INTERVAL, lo_closed | (hi_closed << 1), items[0], items[1]);
    if (lo_closed != hi_closed) return fail(P);
    return list_node(P, N_TUPLE, lo_closed ? '[' : '(', items, k);
}

static int parse_primary(parser *P) {
    if (!enter(P)) return -1;
    int t = pk(P);
    mtok *tk = cur(P);
    int id = -1;
    switch (t) {
    case T_NUM: P->i++; id = num_node(P, tk, N_NUM); break;
    case T_QVAL: P->i++; id = num_node(P, tk, N_QVAL); break;
    case T_SYM: {
        P->i++;
        id = node(P, N_SYM, 0, 0, 0);
        if (id >= 0) { P->c->nodes[id].s = tk->s; P->c->nodes[id].n = tk->n; }
        break;
    }
    case T_WORD: {
        P->i++;
        const char *w = P->c->pool + tk->s;
        if (tk->n == 1 || memchr(w, '_', (size_t)tk->n)) { id = letter_node(P, w, tk->n); break; }
        if (P->nt == 1) {           /* the whole answer is one word */
            char buf[128]; int n = tk->n < 127 ? tk->n : 127;
            for (int q = 0; q < n; q++) buf[q] = (char)tolower((unsigned char)w[q]);
            id = node(P, N_TEXT, 0, 0, 0);
            int off = mctx_pool(P->c, buf, n);
            if (id < 0 || off < 0) { fail(P); break; }
            P->c->nodes[id].s = off; P->c->nodes[id].n = n;
            break;
        }
        int off = tk->s, n = tk->n;  /* "abc" = a*b*c */
        id = letter_node(P, P->c->pool + off, 1);
        for (int q = 1; q < n && id >= 0; q++) {
            int l = letter_node(P, P->c->pool + off + q, 1);
            id = node(P, N_MUL, 0, id, l);
        }
        break;
    }
    case T_CONST: P->i++; id = node(P, N_CONST, tk->aux, 0, 0); break;
    case T_TEXT: {
        P->i++;
        id = node(P, N_TEXT, 0, 0, 0);
        if (id >= 0) { P->c->nodes[id].s = tk->s; P->c->nodes[id].n = tk->n; }
        break;
    }
    case T_REALS: P->i++; id = node(P, N_REALS, 0, 0, 0); break;
    case T_EMPTY: P->i++; id = node(P, N_EMPTY, 0, 0, 0); break;
    case T_LP: case T_LB: case T_LC: case T_LSET: case T_LANG: id = parse_group(P, t); break;
    case T_PIPE: case T_LFLOOR: case T_LCEIL: {
        P->i++;
        int e = parse_expr(P);
        int want = t == T_PIPE ? T_PIPE : t == T_LFLOOR ? T_RFLOOR : T_RCEIL;
        if (e < 0 || pk(P) != want) { fail(P); break; }
        P->i++;
        id = node(P, N_FUNC, t == T_PIPE ? F_ABS : t == T_LFLOOR ? F_FLOOR : F_CEIL, e, -1);
        break;
    }
    case T_FRAC: {
        P->i++;
        int a = parse_arg(P);
        int b = a >= 0 ? parse_arg(P) : -1;
        id = node(P, N_DIV, 0, a, b);
        break;
    }
    case T_SQRT: {
        P->i++;
        int idx = -1;
        if (pk(P) == T_LB) {
            P->i++;
            idx = parse_expr(P);
            if (idx < 0 || pk(P) != T_RB) { fail(P); break; }
            P->i++;
        }
        int a = parse_arg(P);
        id = node(P, N_FUNC, F_SQRT, a, idx);
        break;
    }
    case T_BINOM: {
        P->i++;
        int a = parse_arg(P);
        int b = a >= 0 ? parse_arg(P) : -1;
        id = node(P, N_FUNC, F_BINOM, a, b);
        break;
    }
    case T_FUNC: id = parse_func(P); break;
    case T_BEGIN_MAT: P->i++; id = parse_matrix(P); break;
    default: fail(P); break;
    }
    LEAVE(P, id);
}

static int parse_postfix(parser *P) {
    int e = parse_primary(P);
    while (e >= 0) {
        int t = pk(P);
        if (t == T_BANG) { P->i++; e = node(P, N_FACT, 0, e, -1); }
        else if (t == T_PCT) { P->i++; e = node(P, N_PCT, 0, e, -1); }
        else break;
    }
    return e;
}

static int parse_power(parser *P) {
    if (!enter(P)) return -1;
    int b = parse_postfix(P);
    if (b >= 0 && pk(P) == T_POW) {
        P->i++;
        int x = parse_pow_arg(P);
        b = node(P, N_POW, 0, b, x);
        while (b >= 0 && pk(P) == T_BANG) { P->i++; b = node(P, N_FACT, 0, b, -1); }
        while (b >= 0 && pk(P) == T_PCT) { P->i++; b = node(P, N_PCT, 0, b, -1); }
    }
    LEAVE(P, b);
}

static int parse_unary(parser *P) {
    if (!enter(P)) return -1;
    int t = pk(P);
    if (t == T_MINUS) { P->i++; int a = parse_unary(P); LEAVE(P, node(P, N_NEG, 0, a, -1)); }
    if (t == T_PLUS) { P->i++; LEAVE(P, parse_unary(P)); }
    if (t == T_PM) { P->i++; int a = parse_unary(P); LEAVE(P, node(P, N_PM, 0, -1, a)); }
    LEAVE(P, parse_power(P));
}

static int parse_term(parser *P) {
    if (!enter(P)) return -1;
    int e = parse_unary(P);
    while (e >= 0) {
        int t = pk(P);
        if (t == T_MUL) { P->i++; e = node(P, N_MUL, 0, e, parse_unary(P)); }
        else if (t == T_DIV) { P->i++; e = node(P, N_DIV, 0, e, parse_unary(P)); }
        else if (starts_factor(t)) e = node(P, N_MUL, 0, e, parse_power(P));
        else break;
        if (!mctx_spend(P->c, 1)) fail(P);
    }
    LEAVE(P, e);
}

static int parse_expr(parser *P) {
    if (!enter(P)) return -1;
    int e = parse_term(P);
    while (e >= 0) {
        int t = pk(P);
        if (t == T_PLUS) { P->i++; e = node(P, N_ADD, 0, e, parse_term(P)); }
        else if (t == T_MINUS) { P->i++; e = node(P, N_SUB, 0, e, parse_term(P)); }
        else if (t == T_PM) { P->i++; e = node(P, N_PM, 0, e, parse_term(P)); }
        else break;
        if (!mctx_spend(P->c, 1)) fail(P);
    }
    LEAVE(P, e);
}

static int parse_setexpr(parser *P) {
    if (!enter(P)) return -1;
    int e = parse_expr(P);
    int items[MATH_MAX_ITEMS]; int k = 0;
    while (e >= 0) {
        int t = pk(P);
        if (t == T_CUP) {
            if (k >= MATH_MAX_ITEMS - 1) LEAVE(P, fail(P));
            items[k++] = e; P->i++;
            e = parse_expr(P);
        } else if (t == T_CAP || t == T_SETMINUS) {
            P->i++;
            e = node(P, N_SETOP, t == T_CAP ? 'n' : '\\', e, parse_expr(P));
        } else break;
    }
    if (e >= 0 && k) { items[k++] = e; e = list_node(P, N_UNION, 0, items, k); }
    LEAVE(P, e);
}

static int parse_ratio(parser *P) {
    int a = parse_setexpr(P);
    if (a >= 0 && pk(P) == T_COLON) {
        P->i++;
        int b = parse_setexpr(P);
        a = node(P, N_RATIO, 0, a, b);
    }
    return a;
}

static int parse_rel(parser *P) {
    if (!enter(P)) return -1;
    int ops[MATH_MAX_ITEMS]; int items[MATH_MAX_ITEMS]; int k = 0;
    int e = parse_ratio(P);
    if (e < 0) LEAVE(P, -1);
    items[k++] = e;
    while (pk(P) == T_REL) {
        if (k >= MATH_MAX_ITEMS) LEAVE(P, fail(P));
        ops[k - 1] = cur(P)->aux;
        P->i++;
        e = parse_ratio(P);
        if (e < 0) LEAVE(P, -1);
        items[k++] = e;
    }
    if (k == 1) LEAVE(P, items[0]);
    char opc[MATH_MAX_ITEMS];
    for (int q = 0; q < k - 1; q++) opc[q] = (char)ops[q];
    int id = list_node(P, N_REL, 0, items, k);
    int off = mctx_pool(P->c, opc, k - 1);
    if (id < 0 || off < 0) LEAVE(P, fail(P));
    P->c->nodes[id].s = off; P->c->nodes[id].n = k - 1;
    LEAVE(P, id);
}

/* a name that "x = v" may assign: x, x_1, AB (a product of letters), f(x), (p, q) */
static int assignable(mctx *c, int id) {
    mnode *m = &c->nodes[id];
    switch (m->kind) {
    case N_SYM: return 1;
    case N_MUL: return assignable(c, m->a) && assignable(c, m->b);
    case N_TUPLE:
        for (int q = 0; q < m->b; q++) if (!assignable(c, c->kids[m->a + q])) return 0;
        return 1;
    default: return 0;
    }
}

int mparse(mctx *c, const char *s, size_t n) {
    lexer L;
    memset(&L, 0, sizeof L);
    L.c = c;
    lex_range(&L, s, n, 0);
    if (L.err || L.nt == 0) { free(L.t); return -1; }
    for (int q = 0; q < L.nt; q++) if (L.t[q].t == T_ERR) { free(L.t); return -1; }
    parser P = { c, L.t, L.nt, 0, 0, 0 };
    int items[MATH_MAX_ITEMS];
    int k = parse_items(&P, items, MATH_MAX_ITEMS);
    int root = -1;
    if (k > 0 && !P.err && pk(&P) == T_END) {
        if (k == 1) root = items[0];
        else {
            /* "n = 2, 3, 4": one assignment followed by bare values assigns the list */
            mnode *r0 = &c->nodes[items[0]];
            int bare = 1;
            for (int q = 1; q < k; q++) if (c->nodes[items[q]].kind == N_REL) bare = 0;
            if (r0->kind == N_REL && r0->b == 2 && c->pool[r0->s] == REL_EQ && bare &&
                assignable(c, c->kids[r0->a])) {
                int lhs = c->kids[r0->a];
                items[0] = c->kids[r0->a + 1];
                int lst = list_node(&P, N_LIST, 0, items, k);
                int pair[2] = { lhs, lst };
                int id = list_node(&P, N_REL, 0, pair, 2);
                char eq = REL_EQ;
                int off = mctx_pool(c, &eq, 1);
                if (id >= 0 && off >= 0) { c->nodes[id].s = off; c->nodes[id].n = 1; root = id; }
            } else root = list_node(&P, N_LIST, 0, items, k);
        }
    }
    free(L.t);
    return P.err ? -1 : root;
}

/* ---- canonical keys ---- */

typedef struct { char *b; size_t cap, n; int bad; } wbuf;

static void put(wbuf *w, const char *s, size_t n) {
    if (w->bad) return;
    if (w->n + n + 1 > w->cap) { w->bad = 1; return; }
    memcpy(w->b + w->n, s, n); w->n += n; w->b[w->n] = 0;
}
static void puts_(wbuf *w, const char *s) { put(w, s, strlen(s)); }

static int has_syms(mctx *c, int id, int depth) {
    if (id < 0 || depth > MATH_MAX_DEPTH * 2) return 1;
    mnode *m = &c->nodes[id];
    switch (m->kind) {
    case N_SYM: return 1;
    case N_NUM: case N_QVAL: case N_CONST: case N_TEXT: case N_REALS: case N_EMPTY: return 0;
    case N_REL: case N_LIST: case N_SET: case N_TUPLE: case N_UNION: case N_MATRIX: {
        int cnt = m->kind == N_MATRIX ? m->b * m->n : m->b;
        for (int q = 0; q < cnt; q++) if (has_syms(c, c->kids[m->a + q], depth + 1)) return 1;
        return 0;
    }
    default:
        return (m->a >= 0 && has_syms(c, m->a, depth + 1)) || (m->b >= 0 && has_syms(c, m->b, depth + 1));
    }
}

static int is_scalar_kind(int k) {
    return k == N_NUM || k == N_QVAL || k == N_SYM || k == N_CONST || k == N_ADD || k == N_SUB ||
           k == N_MUL || k == N_DIV || k == N_POW || k == N_NEG || k == N_FUNC || k == N_FACT || k == N_PCT;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void key_rec(mctx *c, int id, int vote, wbuf *w, int depth);

static void key_list(mctx *c, const int *kids, int n, int vote, int sorted, const char *open,
                     const char *close, wbuf *w, int depth) {
    puts_(w, open);
    if (!sorted) {
        for (int q = 0; q < n; q++) { if (q) puts_(w, ","); key_rec(c, kids[q], vote, w, depth + 1); }
        puts_(w, close);
        return;
    }
    char *tmp = malloc(MATH_KEY_CAP);
    char **ptr = malloc((size_t)(n ? n : 1) * sizeof *ptr);
    char *store = malloc((size_t)MATH_KEY_CAP);
    if (!tmp || !ptr || !store) { c->oom = 1; w->bad = 1; free(tmp); free(ptr); free(store); return; }
    size_t used = 0;
    for (int q = 0; q < n && !w->bad; q++) {
        wbuf sub = { tmp, MATH_KEY_CAP, 0, 0 };
        tmp[0] = 0;
        key_rec(c, kids[q], vote, &sub, depth + 1);
        if (sub.bad || used + sub.n + 1 > MATH_KEY_CAP) { w->bad = 1; break; }
        memcpy(store + used, tmp, sub.n + 1);
        ptr[q] = store + used; used += sub.n + 1;
    }
    if (!w->bad) {
        qsort(ptr, (size_t)n, sizeof *ptr, cmpstr);
        for (int q = 0; q < n; q++) {
            if (q && strcmp(ptr[q], ptr[q - 1]) == 0) continue;
            if (q) puts_(w, ",");
            puts_(w, ptr[q]);
        }
    }
    puts_(w, close);
    free(tmp); free(ptr); free(store);
}

static const char *rel_str(char op) {
    switch (op) {
    case REL_EQ: return "=";
    case REL_LT: return "<";
    case REL_LE: return "<=";
    case REL_GT: return ">";
    case REL_GE: return ">=";
    case REL_NE: return "!=";
    default: return " in ";
    }
}

static void key_rec(mctx *c, int id, int vote, wbuf *w, int depth) {
    if (w->bad) return;
    if (id < 0 || depth > MATH_MAX_DEPTH * 2 || !mctx_spend(c, 1)) { w->bad = 1; return; }
    mnode m = c->nodes[id];
    if (is_scalar_kind(m.kind) && m.kind != N_PCT && !has_syms(c, id, 0)) {
        mval v; mval_init(&v);
        meval(c, id, 0, &v);
        if (v.exact && mpz_sizeinbase(mpq_numref(v.q), 10) + mpz_sizeinbase(mpq_denref(v.q), 10) < 1000) {
            char *s = mpq_get_str(NULL, 10, v.q);
            if (s) { puts_(w, s); free(s); } else { c->oom = 1; w->bad = 1; }
            mval_clear(&v);
            return;
        }
        mval_clear(&v);
    }
    const char *pool = c->pool;
    switch (m.kind) {
    case N_NUM: case N_QVAL: case N_SYM: put(w, pool + m.s, (size_t)m.n); break;
    case N_TEXT: puts_(w, "\""); put(w, pool + m.s, (size_t)m.n); puts_(w, "\""); break;
    case N_CONST: puts_(w, m.flag == C_PI ? "pi" : m.flag == C_E ? "e" : "oo"); break;
    case N_ADD: case N_SUB: case N_MUL: case N_DIV: case N_POW: {
        static const char ops[] = "+-*/^";
        char op = ops[m.kind - N_ADD];
        puts_(w, "("); key_rec(c, m.a, vote, w, depth + 1); put(w, &op, 1);
        key_rec(c, m.b, vote, w, depth + 1); puts_(w, ")");
        break;
    }
    case N_NEG: puts_(w, "(-"); key_rec(c, m.a, vote, w, depth + 1); puts_(w, ")"); break;
    case N_FUNC:
        puts_(w, math_func_names[m.flag]);
        if (m.b >= 0 && m.flag != F_BINOM) { puts_(w, "_"); key_rec(c, m.b, vote, w, depth + 1); }
        puts_(w, "(");
        key_rec(c, m.a, vote, w, depth + 1);
        if (m.flag == F_BINOM) { puts_(w, ","); key_rec(c, m.b, vote, w, depth + 1); }
        puts_(w, ")");
        break;
    case N_FACT: puts_(w, "("); key_rec(c, m.a, vote, w, depth + 1); puts_(w, ")!"); break;
    case N_PCT:
        key_rec(c, m.a, vote, w, depth + 1);
        if (!vote) puts_(w, "%");
        break;
    case N_PM:
        puts_(w, "(");
        if (m.a >= 0) key_rec(c, m.a, vote, w, depth + 1);
        puts_(w, "+-"); key_rec(c, m.b, vote, w, depth + 1); puts_(w, ")");
        break;
    case N_REL: {
        int first = c->kids[m.a];
        if (vote && m.b >= 2 && c->pool[m.s] == REL_EQ && assignable(c, first)) {
            int all_eq = 1;
            for (int q = 0; q < m.n; q++) if (c->pool[m.s + q] != REL_EQ) all_eq = 0;
            if (all_eq) { key_rec(c, c->kids[m.a + m.b - 1], vote, w, depth + 1); break; }
        }
        for (int q = 0; q < m.b; q++) {
            if (q) puts_(w, rel_str(c->pool[m.s + q - 1]));
            key_rec(c, c->kids[m.a + q], vote, w, depth + 1);
        }
        break;
    }
    case N_RATIO: key_rec(c, m.a, vote, w, depth + 1); puts_(w, ":"); key_rec(c, m.b, vote, w, depth + 1); break;
    case N_LIST: case N_SET: key_list(c, c->kids + m.a, m.b, vote, 1, "{", "}", w, depth); break;
    case N_TUPLE: {
        const char *o = m.flag == '[' ? "[" : m.flag == '<' ? "<" : "(";
        const char *cl = m.flag == '[' ? "]" : m.flag == '<' ? ">" : ")";
        key_list(c, c->kids + m.a, m.b, vote, 0, o, cl, w, depth);
        break;
    }
    case N_INTERVAL:
        puts_(w, (m.flag & 1) ? "[" : "(");
        key_rec(c, m.a, vote, w, depth + 1); puts_(w, ",");
        key_rec(c, m.b, vote, w, depth + 1);
        puts_(w, (m.flag & 2) ? "]" : ")");
        break;
    case N_UNION:
        for (int q = 0; q < m.b; q++) { if (q) puts_(w, "U"); key_rec(c, c->kids[m.a + q], vote, w, depth + 1); }
        break;
    case N_SETOP:
        puts_(w, "("); key_rec(c, m.a, vote, w, depth + 1); puts_(w, m.flag == 'n' ? " cap " : " minus ");
        key_rec(c, m.b, vote, w, depth + 1); puts_(w, ")");
        break;
    case N_MATRIX:
        puts_(w, "[");
        for (int r = 0; r < m.b; r++) {
            if (r) puts_(w, ",");
            key_list(c, c->kids + m.a + r * m.n, m.n, vote, 0, "[", "]", w, depth);
        }
        puts_(w, "]");
        break;
    case N_REALS: puts_(w, "R"); break;
    case N_EMPTY: puts_(w, "{}"); break;
    default: w->bad = 1; break;
    }
}

int mkey(mctx *c, int node_id, int vote, char *buf, size_t cap) {
    if (!cap) return -1;
    buf[0] = 0;
    wbuf w = { buf, cap, 0, 0 };
    key_rec(c, node_id, vote, &w, 0);
    return w.bad ? -1 : (int)w.n;
}
