/* math_norm.c: string-level normalisation for the math verifier. Maps UTF-8 to the
 * ASCII/LaTeX the tokenizer reads, and cleans one extracted answer (delimiters, boxes,
 * markdown, trailing units and punctuation). No parsing here: see math_parse.c. */
#include <ctype.h>
#include <string.h>
#include "rewards/math_int.h"

/* ---- UTF-8 ---- */

/* Decodes one code point at s[0..n); returns its byte length, 0 when invalid (overlong,
 * surrogate, out of range, truncated). */
static int utf8_decode(const unsigned char *s, size_t n, unsigned *cp) {
    unsigned c = s[0];
    int len; unsigned min;
    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xC2 && c <= 0xDF) { len = 2; *cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; *cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; *cp = c & 0x07; min = 0x10000; }
    else return 0;
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
    return len;
}

static const char *const greek[] = { /* U+03B1 .. U+03C9 */
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "sigma", "tau", "upsilon",
    "phi", "chi", "psi", "omega"
};

/* The replacement for one code point, NULL to keep its bytes. At most 5 bytes per input byte. */
static const char *cp_map(unsigned cp, char tmp[4]) {
    if (cp >= 0x660 && cp <= 0x669) { tmp[0] = (char)('0' + cp - 0x660); tmp[1] = 0; return tmp; }
    if (cp >= 0x6F0 && cp <= 0x6F9) { tmp[0] = (char)('0' + cp - 0x6F0); tmp[1] = 0; return tmp; }
    if (cp >= 0x966 && cp <= 0x96F) { tmp[0] = (char)('0' + cp - 0x966); tmp[1] = 0; return tmp; }
    if (cp >= 0xFF01 && cp <= 0xFF5E) { tmp[0] = (char)(cp - 0xFEE0); tmp[1] = 0; return tmp; }
    switch (cp) {
    case 0x2212: case 0xFE63: return "-";
    case 0x2013: case 0x2014: case 0x2010: case 0x2011: return " ";
    case 0xD7: return "\\times ";
    case 0xF7: return "\\div ";
    case 0xB7: case 0x22C5: case 0x2219: return "\\cdot ";
    case 0xB1: return "\\pm ";
    case 0x2213: return "\\mp ";
    case 0x2264: case 0x2A7D: return "\\le ";
    case 0x2265: case 0x2A7E: return "\\ge ";
    case 0x2260: return "\\ne ";
    case 0x2248: return "\\approx ";
    case 0x221E: return "\\infty ";
    case 0x221A: return "\\sqrt ";
    case 0x222A: return "\\cup ";
    case 0x2229: return "\\cap ";
    case 0x2208: return "\\in ";
    case 0x2205: return "\\emptyset ";
    case 0x211D: return "\\reals ";
    case 0xB0: return " ";                 /* degree sign: a unit, dropped */
    case 0xB2: return "^2";
    case 0xB3: return "^3";
    case 0xB9: return "^1";
    case 0xBD: return "(1/2)";
    case 0xBC: return "(1/4)";
    case 0xBE: return "(3/4)";
    case 0x20AC: case 0xA3: case 0xA5: case 0x20B9: case 0xA2: return " "; /* currency */
    case 0xA0: case 0x2009: case 0x202F: case 0x2002: case 0x2003: case 0x2004: case 0x2005:
    case 0x2006: case 0x2007: case 0x2008: case 0x200A: case 0x3000: return " ";
    case 0x200B: case 0xFEFF: case 0x200C: case 0x200D: return "";
    case 0x2032: return "'";
    default: return NULL;
    }
}

size_t mnorm_utf8(const char *s, size_t n, char *dst) {
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c < 0x80) {
            if (c == 0) dst[o++] = ' ';
            else if (c == '\r') { if (i + 1 >= n || u[i + 1] != '\n') dst[o++] = '\n'; }
            else dst[o++] = (char)c;
            i++;
            continue;
        }
        unsigned cp;
        int len = utf8_decode(u + i, n - i, &cp);
        if (!len) { dst[o++] = ' '; i++; continue; }
        char tmp[4];
        const char *r = cp_map(cp, tmp);
        if (cp >= 0x3B1 && cp <= 0x3C9) {
            const char *g = greek[cp - 0x3B1];
            size_t gl = strlen(g);
            dst[o++] = '\\'; memcpy(dst + o, g, gl); o += gl; dst[o++] = ' ';
        } else if (r) {
            size_t rl = strlen(r);
            memcpy(dst + o, r, rl); o += rl;
        } else {
            memcpy(dst + o, s + i, (size_t)len); o += (size_t)len;
        }
        i += (size_t)len;
    }
    dst[o] = 0;
    return o;
}

/* ---- braces and words ---- */

int mnorm_match_brace(const char *s, size_t n, size_t open) {
    int depth = 0;
    for (size_t i = open; i < n; i++) {
        char ch = s[i];
        if (ch == '\\') { i++; continue; }   /* \{ \} \\ are not grouping */
        if (ch == '{') depth++;
        else if (ch == '}' && --depth == 0) return (int)i;
    }
    return -1;
}

static const char *const units[] = {
    "mm", "cm", "dm", "km", "meter", "metre", "centimeter", "centimetre", "millimeter",
    "millimetre", "kilometer", "kilometre", "inch", "ft", "foot", "feet", "yd", "yard", "mi",
    "mile", "mg", "kg", "gram", "kilogram", "milligram", "lb", "lbs", "pound", "oz", "ounce",
    "ton", "tonne", "ml", "liter", "litre", "milliliter", "millilitre", "gallon", "gal",
    "quart", "pint", "cup", "tbsp", "tsp", "teaspoon", "tablespoon", "sec", "second", "min",
    "minute", "hr", "hrs", "hour", "day", "week", "month", "year", "yr", "decade", "century",
    "centurie", "mph", "kph", "kmh", "degree", "deg", "radian", "rad", "dollar", "cent",
    "euro", "yuan", "yen", "rupee", "usd", "unit", "square", "sq", "cubic", "cu", "point",
    "m", "g", "s", "h", "L", "l", "K", NULL
};

int mnorm_is_unit(const char *w, size_t n) {
    for (int pass = 0; pass < 3; pass++) {   /* as is, minus "s", minus "es" */
        size_t m = n - (size_t)pass;
        if (pass && (n <= (size_t)pass + 1 || (pass == 1 && w[n - 1] != 's') ||
                     (pass == 2 && (w[n - 1] != 's' || w[n - 2] != 'e'))))
            continue;
        for (int i = 0; units[i]; i++) {
            size_t ul = strlen(units[i]);
            if (ul != m) continue;
            if (ul == 1 ? w[0] == units[i][0] : strncasecmp(w, units[i], m) == 0) return 1;
        }
    }
    return 0;
}

/* Words that carry meaning and are never dropped as trailing units. */
static int is_keyword(const char *w, size_t n) {
    static const char *const kw[] = {
        "pi", "e", "i", "inf", "infty", "infinity", "oo", "and", "or", "percent", "percentage",
        "pct", "sqrt", "sin", "cos", "tan", "sec", "csc", "cot", "ln", "log", "exp", "arcsin",
        "arccos", "arctan", "sinh", "cosh", "tanh", "no", "yes", "none", "true", "false", NULL
    };
    for (int i = 0; kw[i]; i++)
        if (strlen(kw[i]) == n && strncasecmp(w, kw[i], n) == 0) return 1;
    return 0;
}

/* ---- answer cleaning ---- */

static size_t trim(char *s, size_t n) {
    size_t a = 0;
    while (a < n && isspace((unsigned char)s[a])) a++;
    while (n > a && isspace((unsigned char)s[n - 1])) n--;
    if (a) memmove(s, s + a, n - a);
    return n - a;
}

static int starts(const char *s, size_t n, const char *pre) {
    size_t l = strlen(pre);
    return n >= l && memcmp(s, pre, l) == 0;
}
static int ends(const char *s, size_t n, const char *suf) {
    size_t l = strlen(suf);
    return n >= l && memcmp(s + n - l, suf, l) == 0;
}

static int has2(const char *s, size_t n, char a, char b) {
    for (size_t i = 0; i + 1 < n; i++) if (s[i] == a && s[i + 1] == b) return 1;
    return 0;
}

/* Removes s[a..b) and returns the new length. */
static size_t cut(char *s, size_t n, size_t a, size_t b) {
    memmove(s + a, s + b, n - b);
    return n - (b - a);
}

/* Drops a trailing unit: \text{cm}, \mbox{ dollars}^2, "meters", "5cm", ^\circ. */
static size_t strip_unit(char *s, size_t n) {
    static const char *const deg[] = { "^{\\circ}", "^\\circ", "\\circ", "\\degree", "^{\\circ}C",
                                       "^\\circ C", "^\\circ F", NULL };
    for (int i = 0; deg[i]; i++)
        if (ends(s, n, deg[i]) && n > strlen(deg[i])) return n - strlen(deg[i]);
    size_t m = n;
    if (ends(s, m, "^2") || ends(s, m, "^3")) m -= 2;
    else if (ends(s, m, "^{2}") || ends(s, m, "^{3}")) m -= 4;
    if (m && s[m - 1] == '}') {           /* \text{...} group at the end */
        static const char *const cmds[] = { "\\text", "\\textrm", "\\mbox", "\\textnormal",
                                            "\\mathrm", "\\textit", "\\mathit", NULL };
        int depth = 0; size_t open = 0; int found = 0;
        for (size_t i = m; i-- > 0;) {
            if (s[i] == '}' && !(i && s[i - 1] == '\\')) depth++;
            else if (s[i] == '{' && !(i && s[i - 1] == '\\') && --depth == 0) { open = i; found = 1; break; }
        }
        if (!found) return n;
        for (int k = 0; cmds[k]; k++) {
            size_t cl = strlen(cmds[k]);
            if (open < cl || memcmp(s + open - cl, cmds[k], cl) != 0) continue;
            size_t start = open - cl;
            const char *w = s + open + 1; size_t wl = m - 1 - (open + 1);
            while (wl && isspace((unsigned char)*w)) { w++; wl--; }
            while (wl && isspace((unsigned char)w[wl - 1])) wl--;
            int letters = 1;
            for (size_t j = 0; j < wl; j++)
                if (!isalpha((unsigned char)w[j]) && w[j] != ' ' && w[j] != '/' && w[j] != '.') letters = 0;
            size_t before = start;
            while (before && isspace((unsigned char)s[before - 1])) before--;
            if (!before || !letters || !wl || is_keyword(w, wl)) return n;
            int is_math = cmds[k][1] == 'm' && cmds[k][2] == 'a';  /* \mathrm{e} is a constant */
            if (is_math ? !mnorm_is_unit(w, wl) : (wl < 2 && !mnorm_is_unit(w, wl))) return n;
            return start;
        }
        return n;
    }
    /* a plain trailing word */
    size_t e = m, b = m;
    while (b && isalpha((unsigned char)s[b - 1])) b--;
    if (b == e || b == 0) return n;
    size_t wl = e - b;
    if (is_keyword(s + b, wl)) return n;
    char prev = s[b - 1];
    if (prev == '\\') return n;                          /* a command such as \pi */
    if (isdigit((unsigned char)prev)) {                 /* glued: 5cm */
        return (wl >= 2 && mnorm_is_unit(s + b, wl)) ? b : n;
    }
    if (prev != ' ' && prev != '~' && prev != '}' && prev != ')') return n;
    size_t q = b;
    while (q && (s[q - 1] == ' ' || s[q - 1] == '~')) q--;
    if (q >= 2 && s[q - 1] == ' ' && s[q - 2] == '\\') q -= 2;  /* "\ " */
    if (!q) return n;
    char pc = s[q - 1];
    int after_value = isdigit((unsigned char)pc) || pc == '}' || pc == ')' || pc == '%';
    if (mnorm_is_unit(s + b, wl) && (after_value || wl >= 2)) return q;
    if (wl >= 3 && after_value) return q;    /* "5 apples"; "2 ab" stays a product */
    return n;
}

size_t mnorm_answer(char *s, size_t n) {
    for (int iter = 0; iter < 32; iter++) {
        size_t n0 = n;
        n = trim(s, n);
        if (starts(s, n, "**")) n = cut(s, n, 0, 2);
        if (ends(s, n, "**")) n -= 2;
        if (starts(s, n, "\\displaystyle")) n = cut(s, n, 0, 13);
        if (starts(s, n, "\\textstyle")) n = cut(s, n, 0, 10);
        if (n >= 4 && starts(s, n, "$$") && ends(s, n, "$$")) { n -= 2; n = cut(s, n, 0, 2); }
        else if (n >= 2 && s[0] == '$' && s[n - 1] == '$') { n -= 1; n = cut(s, n, 0, 1); }
        else if (n >= 4 && (starts(s, n, "\\(") && ends(s, n, "\\)"))) { n -= 2; n = cut(s, n, 0, 2); }
        else if (n >= 4 && (starts(s, n, "\\[") && ends(s, n, "\\]"))) { n -= 2; n = cut(s, n, 0, 2); }
        else if (n && s[0] == '$' && !memchr(s + 1, '$', n - 1)) n = cut(s, n, 0, 1);
        else if (n && s[n - 1] == '$' && !memchr(s, '$', n - 1)) n--;
        else if (starts(s, n, "\\$")) n = cut(s, n, 0, 2);
        else if (starts(s, n, "\\(") && !has2(s, n, '\\', ')')) n = cut(s, n, 0, 2);
        else if (starts(s, n, "\\[") && !has2(s, n, '\\', ']')) n = cut(s, n, 0, 2);
        else if (ends(s, n, "\\)") || ends(s, n, "\\]")) n -= 2;
        static const char *const box[] = { "\\boxed{", "\\fbox{", NULL };
        for (int k = 0; box[k]; k++) {
            size_t bl = strlen(box[k]);
            if (starts(s, n, box[k]) && mnorm_match_brace(s, n, bl - 1) == (int)n - 1) {
                n -= 1; n = cut(s, n, 0, bl);
            }
        }
        /* trailing punctuation and spacing commands */
        for (;;) {
            n = trim(s, n);
            if (n && (s[n - 1] == '.' || s[n - 1] == ';' || s[n - 1] == ',' || s[n - 1] == '?')) {
                if (n >= 2 && s[n - 2] == '\\') { n -= 2; continue; } /* \, \; \. */
                n--; continue;
            }
            if (ends(s, n, "\\!") || ends(s, n, "\\:") || ends(s, n, "\\ ")) { n -= 2; continue; }
            if (ends(s, n, "\\quad")) { n -= 5; continue; }
            if (ends(s, n, "\\qquad")) { n -= 6; continue; }
            if (ends(s, n, "\\$")) { n -= 2; continue; }
            if (ends(s, n, "~")) { n--; continue; }
            break;
        }
        n = strip_unit(s, n);
        if (n == n0) break;
    }
    s[n] = 0;
    return n;
}
