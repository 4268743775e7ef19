/* config.c: the TOML-subset parser, override parsing, typed getters that record
 * defaults, unused-key detection and the canonical writer. Not a full TOML reader:
 * docs/config.md lists what is refused (multi-line strings, inline tables, dates...).
 * Keys live in one array with an open-addressing hash index, so 10^6 keys are fine. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/utf8.h"
#include "core/err.h"
#include "core/fs.h"

enum { V_INT = 1, V_FLOAT, V_BOOL, V_STR, V_ARRAY };
enum { ENT_VALUE = 1, ENT_TABLE };
enum { SRC_DEFAULT = -1, SRC_CLI = -2 }; /* else an index into cfg.srcs */

typedef struct cval {
    int type;
    int n; /* V_ARRAY: element count */
    union {
        long long i;
        double f;
        int b;
        char *s;
        struct cval *a; /* scalars only */
    } u;
} cval;

/* One dotted key: a value, or a table (a proper prefix of some key, or a [header]).
 * Tables are kept so "a = 1" and "a.b = 2" can be refused as the conflict they are. */
typedef struct entry {
    char *key;
    char *origin; /* "FILE:LINE", made on demand by cfg_origin */
    cval v;       /* ENT_VALUE only */
    long line;
    uint32_t klen;
    int32_t src;
    int gen;     /* the load call that set it: duplicates are errors within one load */
    int hdr_gen; /* ENT_TABLE: the load call whose [header] defined it, 0 if none */
    uint8_t kind, used;
} entry;

struct cfg {
    entry *ents;
    size_t n_ents, cap_ents;
    uint32_t *slots; /* open addressing, entry index + 1, 0 = empty */
    size_t cap_slots;
    char **srcs; /* file names, one per load call */
    size_t n_srcs, cap_srcs;
    int gen;
};

/* ---- small helpers ---------------------------------------------------------------- */

typedef struct sb {
    char *p;
    size_t n, cap;
    int oom;
} sb;

static void sb_put(sb *b, const char *s, size_t n) {
    if (b->oom) return;
    if (n >= SIZE_MAX / 2 - b->n) {
        b->oom = 1;
        return;
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void sb_puts(sb *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_putc(sb *b, char ch) { sb_put(b, &ch, 1); }
static void sb_reset(sb *b) {
    b->n = 0;
    if (b->p) b->p[0] = 0;
}

static int is_bare(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
}
static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static const char *skip_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    return p;
}

static int utf8_valid(const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0, k; i < n; i += k)
        if (!(k = utf8_seq_len((const unsigned char *)s + i, n - i))) return 0;
    return 1;
}

/* A quotable excerpt of s[0..n) for messages: at most ~40 bytes, cut on a character
 * boundary, control bytes and broken UTF-8 shown as '?'. */
static const char *excerpt(char *buf, size_t cap, const char *s, size_t n) {
    size_t o = 0, i = 0;
    while (i < n && o + 8 < cap && i < 40) {
        size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);
        if (!k || (unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            buf[o++] = '?';
            i++;
            continue;
        }
        memcpy(buf + o, s + i, k);
        o += k;
        i += k;
    }
    if (i < n && o + 4 <= cap) memcpy(buf + o, "...", 3), o += 3;
    buf[o] = 0;
    return buf;
}

/* How a single character reads in a message: 'x' or byte 0xNN. */
static const char *show_char(char *buf, size_t cap, char ch) {
    unsigned char u = (unsigned char)ch;
    if (u >= 0x20 && u < 0x7f) snprintf(buf, cap, "'%c'", ch);
    else snprintf(buf, cap, "byte 0x%02x", u);
    return buf;
}

/* Where an error is: "NAME:LINE" in a file, or a bare NAME ("command line: '...'"). */
typedef struct loc {
    const char *name;
    long line;
} loc;

static int loc_err(rlvr_err *err, const loc *l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int loc_err(rlvr_err *err, const loc *l, const char *fmt, ...) {
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (l->line > 0) return errf(err, RLVR_ECONFIG, "%s:%ld: %s", l->name, l->line, msg);
    return errf(err, RLVR_ECONFIG, "%s: %s", l->name, msg);
}

static void cval_free(cval *v) {
    if (v->type == V_STR) free(v->u.s);
    else if (v->type == V_ARRAY) {
        for (int i = 0; i < v->n; i++) cval_free(&v->u.a[i]);
        free(v->u.a);
    }
    v->type = 0;
}

/* ---- the key index ---------------------------------------------------------------- */

static uint64_t key_hash(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h ^ (h >> 29); /* FNV's low bits are weak; the index masks them */
}

static entry *find(const cfg *c, const char *key, size_t klen) {
    if (!c->cap_slots) return NULL;
    size_t mask = c->cap_slots - 1, i = (size_t)key_hash(key, klen) & mask;
    for (;;) {
        uint32_t s = c->slots[i];
        if (!s) return NULL;
        entry *e = &c->ents[s - 1];
        if (e->klen == klen && memcmp(e->key, key, klen) == 0) return e;
        i = (i + 1) & mask;
    }
}

static void slot_insert(uint32_t *slots, size_t cap, const entry *e, uint32_t idx) {
    size_t mask = cap - 1, i = (size_t)key_hash(e->key, e->klen) & mask;
    while (slots[i]) i = (i + 1) & mask;
    slots[i] = idx + 1;
}

/* A new entry for key (not present); NULL when out of memory. Pointers to entries
 * are invalidated by the next add. */
static entry *add(cfg *c, const char *key, size_t klen, int kind, int src, long line) {
    if (klen > UINT32_MAX / 2 || c->n_ents >= UINT32_MAX / 4) return NULL;
    if ((c->n_ents + 1) * 2 > c->cap_slots) {
        size_t cap = c->cap_slots ? c->cap_slots * 2 : 64;
        uint32_t *slots = calloc(cap, sizeof *slots);
        if (!slots) return NULL;
        for (size_t i = 0; i < c->n_ents; i++) slot_insert(slots, cap, &c->ents[i], (uint32_t)i);
        free(c->slots);
        c->slots = slots;
        c->cap_slots = cap;
    }
    if (c->n_ents == c->cap_ents) {
        size_t cap = c->cap_ents ? c->cap_ents * 2 : 32;
        entry *ents = realloc(c->ents, cap * sizeof *ents);
        if (!ents) return NULL;
        c->ents = ents;
        c->cap_ents = cap;
    }
    char *k = malloc(klen + 1);
    if (!k) return NULL;
    memcpy(k, key, klen);
    k[klen] = 0;
    entry *e = &c->ents[c->n_ents];
    memset(e, 0, sizeof *e);
    e->key = k;
    e->klen = (uint32_t)klen;
    e->kind = (uint8_t)kind;
    e->src = src;
    e->line = line;
    e->gen = c->gen;
    slot_insert(c->slots, c->cap_slots, e, (uint32_t)c->n_ents);
    c->n_ents++;
    return e;
}

static const char *fmt_origin(const cfg *c, const entry *e, char *buf, size_t cap) {
    if (e->src == SRC_DEFAULT) return "default";
    if (e->src == SRC_CLI) return "command line";
    snprintf(buf, cap, "%s:%ld", c->srcs[e->src], e->line);
    return buf;
}

/* Keys are bounded so that creating the tables above a key (one lookup per dot,
 * each comparing up to the whole key) stays linear in the input. */
static int key_limits(const char *key, size_t klen, const loc *l, rlvr_err *err) {
    char ex[64];
    size_t parts = 1;
    if (klen > CFG_MAX_KEY_LEN)
        return loc_err(err, l, "key '%s' is too long (%zu bytes, at most %d)", excerpt(ex, sizeof ex, key, klen),
                       klen, CFG_MAX_KEY_LEN);
    for (size_t i = 0; i < klen; i++) parts += key[i] == '.';
    if (parts > CFG_MAX_KEY_PARTS)
        return loc_err(err, l, "key '%s' has %zu dotted parts, at most %d", excerpt(ex, sizeof ex, key, klen),
                       parts, CFG_MAX_KEY_PARTS);
    return RLVR_OK;
}

/* Stores v (ownership taken, even on error) as the value of key, creating the
 * tables above it. Refuses a key that is a table, a key under a value, and a key
 * set twice by one load call. */
static int put_value(cfg *c, const char *key, size_t klen, cval *v, int src, const loc *l,
                     rlvr_err *err) {
    char o[512];
    int rc = key_limits(key, klen, l, err);
    if (rc) {
        cval_free(v);
        return rc;
    }
    for (size_t i = 0; i < klen; i++) {
        if (key[i] != '.') continue;
        entry *t = find(c, key, i);
        if (t && t->kind == ENT_VALUE) {
            int rc = loc_err(err, l, "key '%.*s' is already a value (%s), so it cannot hold '%.*s'",
                             (int)i, key, fmt_origin(c, t, o, sizeof o), (int)klen, key);
            cval_free(v);
            return rc;
        }
        if (!t && !add(c, key, i, ENT_TABLE, src, l->line)) {
            cval_free(v);
            return errf(err, RLVR_ENOMEM, "%s: out of memory", l->name);
        }
    }
    entry *e = find(c, key, klen);
    if (e && e->kind == ENT_TABLE) {
        int rc = loc_err(err, l, "key '%.*s' is already a table (%s), so it cannot be set to a value",
                         (int)klen, key, fmt_origin(c, e, o, sizeof o));
        cval_free(v);
        return rc;
    }
    if (e) {
        if (src >= 0 && e->src >= 0 && e->gen == c->gen) {
            cval_free(v);
            return loc_err(err, l, "duplicate key '%.*s' (first set on line %ld)", (int)klen, key,
                           e->line);
        }
        cval_free(&e->v);
        free(e->origin);
        e->origin = NULL;
        e->src = src;
        e->line = l->line;
        e->gen = c->gen;
    } else if (!(e = add(c, key, klen, ENT_VALUE, src, l->line))) {
        cval_free(v);
        return errf(err, RLVR_ENOMEM, "%s: out of memory", l->name);
    }
    e->v = *v;
    v->type = 0;
    return RLVR_OK;
}

/* [a.b]: creates the tables a and a.b, refusing values in the way and a second
 * header for the same table in one load. */
static int define_table(cfg *c, const char *key, size_t klen, int src, const loc *l,
                        rlvr_err *err) {
    char o[512];
    int rc = key_limits(key, klen, l, err);
    if (rc) return rc;
    for (size_t i = 0; i <= klen; i++) {
        if (i < klen && key[i] != '.') continue;
        entry *t = find(c, key, i);
        if (t && t->kind == ENT_VALUE)
            return loc_err(err, l, "table [%.*s]: key '%.*s' is already a value (%s)", (int)klen,
                           key, (int)i, key, fmt_origin(c, t, o, sizeof o));
        if (!t && !(t = add(c, key, i, ENT_TABLE, src, l->line)))
            return errf(err, RLVR_ENOMEM, "%s: out of memory", l->name);
        if (i == klen) {
            if (t->hdr_gen == c->gen)
                return loc_err(err, l, "table [%.*s] defined twice (first on line %ld)", (int)klen,
                               key, t->line);
            t->hdr_gen = c->gen;
            t->src = src;
            t->line = l->line;
        }
    }
    return RLVR_OK;
}

/* ---- values ----------------------------------------------------------------------- */

/* A run of digits with single underscores between digits, starting at a digit.
 * Returns its end, or NULL when an underscore is misplaced. */
static const char *digit_run(const char *p, const char *e) {
    while (p < e) {
        if (is_digit(*p)) p++;
        else if (*p == '_') {
            if (p + 1 >= e || !is_digit(p[1])) return NULL;
            p++;
        } else break;
    }
    return p;
}

static int looks_like_date(const char *t, size_t n) {
    if (n >= 6 && is_digit(t[0]) && is_digit(t[1]) && is_digit(t[2]) && is_digit(t[3]) &&
        t[4] == '-' && is_digit(t[5]))
        return 1;
    return n >= 4 && is_digit(t[0]) && is_digit(t[1]) && t[2] == ':' && is_digit(t[3]);
}

/* Parses the bare token t[0..n) as true, false, an integer or a float. 0 on success;
 * otherwise -1 with the reason in msg. strtod here and "%g" in the writer assume the
 * C locale's decimal point (rlvr never calls setlocale). */
static int parse_scalar(const char *t, size_t n, cval *out, char *msg, size_t cap) {
    char show[64];
    excerpt(show, sizeof show, t, n);
    if (n == 4 && !memcmp(t, "true", 4)) {
        out->type = V_BOOL, out->u.b = 1;
        return 0;
    }
    if (n == 5 && !memcmp(t, "false", 5)) {
        out->type = V_BOOL, out->u.b = 0;
        return 0;
    }
    if (n == 0) return snprintf(msg, cap, "missing value"), -1;
    if (looks_like_date(t, n))
        return snprintf(msg, cap, "dates and times are not supported ('%s'); quote it as a string",
                        show), -1;
    const char *s = t, *e = t + n;
    int neg = 0;
    if (*s == '+' || *s == '-') neg = *s++ == '-';
    if (e - s == 3 && (!memcmp(s, "inf", 3) || !memcmp(s, "nan", 3)))
        return snprintf(msg, cap, "inf and nan are not accepted ('%s')", show), -1;
    if (s == e || !is_digit(*s))
        return snprintf(msg, cap, "invalid value '%s' (strings must be quoted)", show), -1;
    if (e - s >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b'))
        return snprintf(msg, cap, "hexadecimal, octal and binary integers are not supported ('%s')",
                        show), -1;
    const char *q = digit_run(s, e);
    if (!q) return snprintf(msg, cap, "invalid number '%s' (an underscore must sit between digits)", show), -1;
    if (*s == '0' && q - s > 1)
        return snprintf(msg, cap, "leading zeros are not allowed ('%s')", show), -1;
    int is_float = 0;
    if (q < e && *q == '.') {
        is_float = 1;
        if (++q == e || !is_digit(*q))
            return snprintf(msg, cap, "invalid number '%s' (a digit must follow '.')", show), -1;
        if (!(q = digit_run(q, e)))
            return snprintf(msg, cap, "invalid number '%s' (an underscore must sit between digits)", show), -1;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        is_float = 1;
        q++;
        if (q < e && (*q == '+' || *q == '-')) q++;
        if (q == e || !is_digit(*q))
            return snprintf(msg, cap, "invalid number '%s' (the exponent needs digits)", show), -1;
        if (!(q = digit_run(q, e)))
            return snprintf(msg, cap, "invalid number '%s' (an underscore must sit between digits)", show), -1;
    }
    if (q != e) return snprintf(msg, cap, "invalid number '%s'", show), -1;
    if (!is_float) {
        unsigned long long v = 0, lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
        for (const char *p = s; p < e; p++) {
            if (*p == '_') continue;
            unsigned d = (unsigned)(*p - '0');
            if (v > (lim - d) / 10)
                return snprintf(msg, cap, "integer '%s' is out of range (64-bit signed)", show), -1;
            v = v * 10 + d;
        }
        out->type = V_INT;
        out->u.i = !neg ? (long long)v : v > (unsigned long long)LLONG_MAX ? LLONG_MIN : -(long long)v;
        return 0;
    }
    char buf[512];
    size_t k = 0;
    if (n >= sizeof buf) return snprintf(msg, cap, "number '%s' is too long (%zu characters)", show, n), -1;
    for (const char *p = t; p < e; p++)
        if (*p != '_') buf[k++] = *p;
    buf[k] = 0;
    char *end;
    double x = strtod(buf, &end);
    if (end != buf + k) return snprintf(msg, cap, "invalid number '%s'", show), -1;
    if (isinf(x)) return snprintf(msg, cap, "float '%s' is out of range", show), -1;
    out->type = V_FLOAT;
    out->u.f = x;
    return 0;
}

static void put_utf8(sb *b, unsigned long cp) {
    char u[4];
    if (cp < 0x80) u[0] = (char)cp, sb_put(b, u, 1);
    else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F));
        sb_put(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        sb_put(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F));
        sb_put(b, u, 4);
    }
}

typedef struct parser {
    cfg *c;
    loc l;
    int src;
    sb section; /* the current [header], without a trailing dot */
    sb key;     /* scratch: the full key of the current line */
    rlvr_err *err;
} parser;

/* "..." with escapes \" \\ \n \t \r \b \f \uXXXX \UXXXXXXXX. The line was already
 * checked for control characters and broken UTF-8. */
static int parse_basic(parser *ps, const char **pp, const char *e, cval *out) {
    const char *p = *pp + 1;
    sb s = {0};
    char ch_buf[16];
    for (;;) {
        const char *run = p;
        while (p < e && *p != '"' && *p != '\\') p++;
        sb_put(&s, run, (size_t)(p - run));
        if (p >= e || (*p == '\\' && p + 1 >= e)) {
            free(s.p);
            return loc_err(ps->err, &ps->l, "unterminated string (strings must close on the same line)");
        }
        if (*p == '"') {
            p++;
            break;
        }
        char ch = p[1];
        p += 2;
        switch (ch) {
        case '"': sb_putc(&s, '"'); break;
        case '\\': sb_putc(&s, '\\'); break;
        case 'n': sb_putc(&s, '\n'); break;
        case 't': sb_putc(&s, '\t'); break;
        case 'r': sb_putc(&s, '\r'); break;
        case 'b': sb_putc(&s, '\b'); break;
        case 'f': sb_putc(&s, '\f'); break;
        case 'u':
        case 'U': {
            int nd = ch == 'u' ? 4 : 8;
            unsigned long cp = 0;
            for (int i = 0; i < nd; i++, p++) {
                char h = p < e ? *p : 0;
                int d = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                                              : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
                if (d < 0) {
                    free(s.p);
                    return loc_err(ps->err, &ps->l, "invalid \\%c escape (needs %d hex digits)", ch, nd);
                }
                cp = cp * 16 + (unsigned long)d;
            }
            if (cp == 0) {
                free(s.p);
                return loc_err(ps->err, &ps->l, "\\%c escape of NUL is not allowed in strings", ch);
            }
            if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
                free(s.p);
                return loc_err(ps->err, &ps->l, "\\%c escape of U+%04lX is not a Unicode scalar value",
                               ch, cp);
            }
            put_utf8(&s, cp);
            break;
        }
        default:
            free(s.p);
            return loc_err(ps->err, &ps->l, "invalid escape '\\' + %s in string",
                           show_char(ch_buf, sizeof ch_buf, ch));
        }
    }
    if (!s.p) sb_put(&s, "", 0);
    if (s.oom) {
        free(s.p);
        return errf(ps->err, RLVR_ENOMEM, "%s: out of memory", ps->l.name);
    }
    out->type = V_STR;
    out->u.s = s.p;
    *pp = p;
    return RLVR_OK;
}

/* '...' taken verbatim. */
static int parse_literal(parser *ps, const char **pp, const char *e, cval *out) {
    const char *p = *pp + 1, *q = memchr(p, '\'', (size_t)(e - p));
    if (!q) return loc_err(ps->err, &ps->l, "unterminated literal string (strings must close on the same line)");
    char *s = malloc((size_t)(q - p) + 1);
    if (!s) return errf(ps->err, RLVR_ENOMEM, "%s: out of memory", ps->l.name);
    memcpy(s, p, (size_t)(q - p));
    s[q - p] = 0;
    out->type = V_STR;
    out->u.s = s;
    *pp = q + 1;
    return RLVR_OK;
}

static const char *type_name(int t) {
    switch (t) {
    case V_INT: return "integer";
    case V_FLOAT: return "float";
    case V_BOOL: return "boolean";
    case V_STR: return "string";
    case V_ARRAY: return "array";
    default: return "nothing";
    }
}

static int parse_value(parser *ps, const char **pp, const char *e, cval *out, int depth);

/* [a, b, c] on one line; a trailing comma is allowed; one element type, except that
 * integers and floats may mix. */
static int parse_array(parser *ps, const char **pp, const char *e, cval *out) {
    const char *p = *pp + 1;
    cval *items = NULL;
    int n = 0, cap = 0, need_comma = 0, rc = 0;
    char ch_buf[16];
    for (;;) {
        p = skip_ws(p, e);
        if (p == e || *p == '#') {
            rc = loc_err(ps->err, &ps->l, "unterminated array (arrays must close on the same line)");
            break;
        }
        if (*p == ']') {
            p++;
            break;
        }
        if (need_comma) {
            if (*p != ',') {
                rc = loc_err(ps->err, &ps->l, "expected ',' or ']' in array, got %s",
                             show_char(ch_buf, sizeof ch_buf, *p));
                break;
            }
            p++;
            need_comma = 0;
            continue;
        }
        if (*p == ',') {
            rc = loc_err(ps->err, &ps->l, "missing array element before ','");
            break;
        }
        cval v = {0};
        if ((rc = parse_value(ps, &p, e, &v, 1))) break;
        if (n && items[0].type != v.type &&
            !((items[0].type == V_INT || items[0].type == V_FLOAT) &&
              (v.type == V_INT || v.type == V_FLOAT))) {
            rc = loc_err(ps->err, &ps->l, "array mixes %s and %s elements", type_name(items[0].type),
                         type_name(v.type));
            cval_free(&v);
            break;
        }
        if (n == cap) {
            cval *ni = cap < (1 << 28) ? realloc(items, (size_t)(cap ? cap * 2 : 8) * sizeof *ni) : NULL;
            if (!ni) {
                cval_free(&v);
                rc = errf(ps->err, RLVR_ENOMEM, "%s: out of memory", ps->l.name);
                break;
            }
            items = ni;
            cap = cap ? cap * 2 : 8;
        }
        items[n++] = v;
        need_comma = 1;
    }
    if (rc) {
        for (int i = 0; i < n; i++) cval_free(&items[i]);
        free(items);
        return rc;
    }
    out->type = V_ARRAY;
    out->n = n;
    out->u.a = items;
    *pp = p;
    return RLVR_OK;
}

static int parse_value(parser *ps, const char **pp, const char *e, cval *out, int depth) {
    const char *p = *pp;
    switch (*p) {
    case '"':
        if (e - p >= 3 && p[1] == '"' && p[2] == '"')
            return loc_err(ps->err, &ps->l, "multi-line strings (\"\"\") are not supported");
        return parse_basic(ps, pp, e, out);
    case '\'':
        if (e - p >= 3 && p[1] == '\'' && p[2] == '\'')
            return loc_err(ps->err, &ps->l, "multi-line literal strings (''') are not supported");
        return parse_literal(ps, pp, e, out);
    case '[':
        if (depth) return loc_err(ps->err, &ps->l, "nested arrays are not supported");
        return parse_array(ps, pp, e, out);
    case '{': return loc_err(ps->err, &ps->l, "inline tables ({...}) are not supported");
    }
    const char *q = p;
    while (q < e && *q != ' ' && *q != '\t' && *q != ',' && *q != ']' && *q != '#') q++;
    char msg[256];
    if (parse_scalar(p, (size_t)(q - p), out, msg, sizeof msg)) return loc_err(ps->err, &ps->l, "%s", msg);
    *pp = q;
    return RLVR_OK;
}

/* ---- lines -------------------------------------------------------------------------- */

/* NUL bytes, control characters other than tab, and invalid UTF-8 are refused
 * anywhere on a line, comments included. */
static int check_line(const loc *l, const char *s, size_t n, rlvr_err *err) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0, k; i < n; i += k) {
        if (u[i] == 0) return loc_err(err, l, "NUL byte at column %zu", i + 1);
        if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
            return loc_err(err, l, "control character 0x%02x at column %zu", u[i], i + 1);
        if (!(k = utf8_seq_len(u + i, n - i))) return loc_err(err, l, "invalid UTF-8 at column %zu", i + 1);
    }
    return RLVR_OK;
}

/* Appends the dotted bare key at *pp to out (blanks around dots allowed). */
static int parse_key(parser *ps, const char **pp, const char *e, sb *out) {
    const char *p = skip_ws(*pp, e);
    char ch_buf[16];
    for (;;) {
        if (p < e && (*p == '"' || *p == '\''))
            return loc_err(ps->err, &ps->l, "quoted keys are not supported (keys are letters, digits, '_' and '-')");
        const char *k = p;
        while (p < e && is_bare((unsigned char)*p)) p++;
        if (p == k) {
            if (p == e || *p == '=' || *p == ']') return loc_err(ps->err, &ps->l, "missing key name");
            if (*p == '.') return loc_err(ps->err, &ps->l, "empty part in dotted key");
            return loc_err(ps->err, &ps->l, "invalid character %s in key",
                           show_char(ch_buf, sizeof ch_buf, *p));
        }
        sb_put(out, k, (size_t)(p - k));
        p = skip_ws(p, e);
        if (p < e && *p == '.') {
            sb_putc(out, '.');
            p = skip_ws(p + 1, e);
            continue;
        }
        break;
    }
    if (out->oom) return errf(ps->err, RLVR_ENOMEM, "%s: out of memory", ps->l.name);
    *pp = p;
    return RLVR_OK;
}

static int parse_header(parser *ps, const char *p, const char *e) {
    char ex[64];
    if (p + 1 < e && p[1] == '[') return loc_err(ps->err, &ps->l, "arrays of tables ([[...]]) are not supported");
    p++;
    sb_reset(&ps->section);
    int rc = parse_key(ps, &p, e, &ps->section);
    if (rc) return rc;
    if (p == e || *p != ']') return loc_err(ps->err, &ps->l, "expected ']' to close table header [%s", ps->section.p);
    p = skip_ws(p + 1, e);
    if (p < e && *p != '#')
        return loc_err(ps->err, &ps->l, "unexpected text after table header [%s]: '%s'", ps->section.p,
                       excerpt(ex, sizeof ex, p, (size_t)(e - p)));
    return define_table(ps->c, ps->section.p, ps->section.n, ps->src, &ps->l, ps->err);
}

static int parse_keyval(parser *ps, const char *p, const char *e) {
    char ex[64], ch_buf[16];
    sb *key = &ps->key;
    sb_reset(key);
    if (ps->section.n) {
        sb_put(key, ps->section.p, ps->section.n);
        sb_putc(key, '.');
    }
    int rc = parse_key(ps, &p, e, key);
    if (rc) return rc;
    if (p == e) return loc_err(ps->err, &ps->l, "expected '=' after key '%s'", key->p);
    if (*p != '=')
        return loc_err(ps->err, &ps->l, "expected '=' after key '%s', got %s", key->p,
                       show_char(ch_buf, sizeof ch_buf, *p));
    p = skip_ws(p + 1, e);
    if (p == e || *p == '#') return loc_err(ps->err, &ps->l, "missing value for key '%s'", key->p);
    cval v = {0};
    if ((rc = parse_value(ps, &p, e, &v, 0))) return rc;
    p = skip_ws(p, e);
    if (p < e && *p != '#') {
        cval_free(&v);
        return loc_err(ps->err, &ps->l, "unexpected text after the value of key '%s': '%s'", key->p,
                       excerpt(ex, sizeof ex, p, (size_t)(e - p)));
    }
    return put_value(ps->c, key->p, key->n, &v, ps->src, &ps->l, ps->err);
}

static int add_src(cfg *c, const char *name) {
    if (c->n_srcs == c->cap_srcs) {
        size_t cap = c->cap_srcs ? c->cap_srcs * 2 : 4;
        char **s = realloc(c->srcs, cap * sizeof *s);
        if (!s) return -1;
        c->srcs = s;
        c->cap_srcs = cap;
    }
    if (c->n_srcs >= INT32_MAX || !(c->srcs[c->n_srcs] = strdup(name))) return -1;
    return (int)c->n_srcs++;
}

/* ---- public: lifecycle and input ---------------------------------------------------- */

cfg *cfg_new(void) { return calloc(1, sizeof(cfg)); }

void cfg_free(cfg *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n_ents; i++) {
        free(c->ents[i].key);
        free(c->ents[i].origin);
        cval_free(&c->ents[i].v);
    }
    for (size_t i = 0; i < c->n_srcs; i++) free(c->srcs[i]);
    free(c->ents);
    free(c->slots);
    free(c->srcs);
    free(c);
}

int cfg_load_buffer(cfg *c, const char *text, size_t n, const char *name, rlvr_err *err) {
    if (!c || (!text && n)) return errf(err, RLVR_EARG, "cfg_load_buffer: NULL argument");
    if (!name) name = "<string>";
    int src = add_src(c, name);
    if (src < 0) return errf(err, RLVR_ENOMEM, "%s: out of memory", name);
    parser ps = {.c = c, .l = {c->srcs[src], 0}, .src = src, .err = err};
    c->gen++;
    const char *p = text, *end = text + n;
    if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3; /* a UTF-8 byte order mark */
    int rc = RLVR_OK;
    while (p < end && !rc) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
        ps.l.line++;
        if (e > p && e[-1] == '\r') e--; /* CRLF */
        if (!(rc = check_line(&ps.l, p, (size_t)(e - p), err))) {
            const char *q = skip_ws(p, e);
            if (q < e && *q != '#') rc = *q == '[' ? parse_header(&ps, q, e) : parse_keyval(&ps, q, e);
        }
        p = nl ? nl + 1 : end;
    }
    free(ps.section.p);
    free(ps.key.p);
    return rc;
}

int cfg_load_string(cfg *c, const char *text, const char *name, rlvr_err *err) {
    if (!text) return errf(err, RLVR_EARG, "cfg_load_string: NULL text");
    return cfg_load_buffer(c, text, strlen(text), name, err);
}

int cfg_load_file(cfg *c, const char *path, rlvr_err *err) {
    if (!c || !path) return errf(err, RLVR_EARG, "cfg_load_file: NULL argument");
    char *buf;
    size_t n;
    int rc = fs_read_all(path, CFG_MAX_FILE_BYTES, &buf, &n, err);
    if (rc) return rc;
    rc = cfg_load_buffer(c, buf, n, path, err);
    free(buf);
    return rc;
}

int cfg_set_override(cfg *c, const char *kv, rlvr_err *err) {
    if (!c || !kv) return errf(err, RLVR_EARG, "cfg_set_override: NULL argument");
    char ex[64], name[96];
    size_t n = strlen(kv);
    snprintf(name, sizeof name, "command line: '%s'", excerpt(ex, sizeof ex, kv, n));
    parser ps = {.c = c, .l = {name, 0}, .src = SRC_CLI, .err = err};
    const char *end = kv + n, *eq = memchr(kv, '=', n), *p = kv;
    int rc = check_line(&ps.l, kv, n, err);
    if (rc) return rc;
    if (!eq) return loc_err(err, &ps.l, "expected key=value");
    cval v = {0};
    if ((rc = parse_key(&ps, &p, eq, &ps.key))) goto out;
    if (p != eq) {
        rc = loc_err(err, &ps.l, "invalid character %s in key", show_char(ex, sizeof ex, *p));
        goto out;
    }
    const char *vs = skip_ws(eq + 1, end), *ve = end;
    while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
    if (vs < ve && strchr("\"'[{", *vs)) {
        p = vs;
        if ((rc = parse_value(&ps, &p, ve, &v, 0))) goto out;
        if (p != ve) {
            cval_free(&v);
            p = skip_ws(p, ve);
            rc = loc_err(err, &ps.l, "unexpected text after the value: '%s'",
                         excerpt(ex, sizeof ex, p, (size_t)(ve - p)));
            goto out;
        }
    } else {
        char msg[256];
        if (vs == ve || parse_scalar(vs, (size_t)(ve - vs), &v, msg, sizeof msg)) {
            v.type = V_STR; /* a bare word: the text itself */
            if (!(v.u.s = strndup(vs, (size_t)(ve - vs)))) {
                rc = errf(err, RLVR_ENOMEM, "%s: out of memory", name);
                goto out;
            }
        }
    }
    rc = put_value(c, ps.key.p, ps.key.n, &v, SRC_CLI, &ps.l, err);
out:
    free(ps.key.p);
    return rc;
}

/* ---- public: getters ---------------------------------------------------------------- */

/* A getter's key: non-empty bare parts joined by single dots. */
static int key_ok(const char *k) {
    if (!k || !*k) return 0;
    for (const char *p = k;; p++) {
        if (!is_bare((unsigned char)*p)) return 0;
        while (is_bare((unsigned char)*p)) p++;
        if (!*p) return 1;
        if (*p != '.') return 0;
    }
}

/* The value entry of key, marked used; *out is NULL when absent. */
static int lookup(cfg *c, const char *key, void *out, entry **e_out, rlvr_err *err) {
    if (!c || !out) return errf(err, RLVR_EARG, "config getter: NULL argument");
    if (!key_ok(key)) return errf(err, RLVR_EARG, "invalid config key '%s'", key ? key : "(null)");
    entry *e = find(c, key, strlen(key));
    if (e && e->kind == ENT_TABLE) {
        char o[512];
        return errf(err, RLVR_ECONFIG, "%s: key '%s' is a table, not a value",
                    fmt_origin(c, e, o, sizeof o), key);
    }
    if (e) e->used = 1;
    *e_out = e;
    return RLVR_OK;
}

static int record_default(cfg *c, const char *key, cval *v, rlvr_err *err) {
    loc l = {"default", 0};
    size_t klen = strlen(key);
    int rc = put_value(c, key, klen, v, SRC_DEFAULT, &l, err);
    if (!rc) find(c, key, klen)->used = 1;
    return rc;
}

static void emit_value(sb *b, const cval *v);

static int type_err(cfg *c, const entry *e, const char *want, rlvr_err *err) {
    char o[512], ex[128];
    sb b = {0};
    emit_value(&b, &e->v);
    excerpt(ex, sizeof ex, b.p ? b.p : "", b.n);
    free(b.p);
    return errf(err, RLVR_ECONFIG, "%s: key '%s' must be %s, got %s %s", fmt_origin(c, e, o, sizeof o),
                e->key, want, type_name(e->v.type), ex);
}

int cfg_int(cfg *c, const char *key, long long def, long long *out, rlvr_err *err) {
    entry *e;
    int rc = lookup(c, key, out, &e, err);
    if (rc) return rc;
    if (!e) {
        cval v = {.type = V_INT, .u.i = def};
        if ((rc = record_default(c, key, &v, err))) return rc;
        *out = def;
        return RLVR_OK;
    }
    if (e->v.type != V_INT) return type_err(c, e, e->v.type == V_FLOAT ? "an integer (no decimal point)" : "an integer", err);
    *out = e->v.u.i;
    return RLVR_OK;
}

int cfg_int_range(cfg *c, const char *key, long long def, long long lo, long long hi,
                  long long *out, rlvr_err *err) {
    long long v = def;
    int rc = cfg_int(c, key, def, &v, err);
    if (rc) return rc;
    if (v < lo || v > hi) return cfg_errf(c, key, err, "must be in [%lld, %lld], got %lld", lo, hi, v);
    *out = v;
    return RLVR_OK;
}

int cfg_float(cfg *c, const char *key, double def, double *out, rlvr_err *err) {
    entry *e;
    int rc = lookup(c, key, out, &e, err);
    if (rc) return rc;
    if (!e) {
        if (!isfinite(def)) return errf(err, RLVR_EARG, "default of config key '%s' is not finite", key);
        cval v = {.type = V_FLOAT, .u.f = def};
        if ((rc = record_default(c, key, &v, err))) return rc;
        *out = def;
        return RLVR_OK;
    }
    if (e->v.type == V_INT) *out = (double)e->v.u.i;
    else if (e->v.type == V_FLOAT) *out = e->v.u.f;
    else return type_err(c, e, "a number", err);
    return RLVR_OK;
}

int cfg_float_range(cfg *c, const char *key, double def, double lo, double hi, double *out,
                    rlvr_err *err) {
    double v = def;
    int rc = cfg_float(c, key, def, &v, err);
    if (rc) return rc;
    if (!(v >= lo && v <= hi)) return cfg_errf(c, key, err, "must be in [%g, %g], got %g", lo, hi, v);
    *out = v;
    return RLVR_OK;
}

int cfg_bool(cfg *c, const char *key, int def, int *out, rlvr_err *err) {
    entry *e;
    int rc = lookup(c, key, out, &e, err);
    if (rc) return rc;
    if (!e) {
        cval v = {.type = V_BOOL, .u.b = !!def};
        if ((rc = record_default(c, key, &v, err))) return rc;
        *out = !!def;
        return RLVR_OK;
    }
    if (e->v.type != V_BOOL) return type_err(c, e, "a boolean (true or false)", err);
    *out = e->v.u.b;
    return RLVR_OK;
}

int cfg_str(cfg *c, const char *key, const char *def, const char **out, rlvr_err *err) {
    entry *e;
    int rc = lookup(c, key, out, &e, err);
    if (rc) return rc;
    if (!e) {
        if (!def)
            return errf(err, RLVR_ECONFIG, "missing required key '%s' (set it in the config file or as %s=... on the command line)", key, key);
        if (!utf8_valid(def)) return errf(err, RLVR_EARG, "default of config key '%s' is not valid UTF-8", key);
        cval v = {.type = V_STR, .u.s = strdup(def)};
        if (!v.u.s) return errf(err, RLVR_ENOMEM, "out of memory");
        if ((rc = record_default(c, key, &v, err))) return rc;
        e = find(c, key, strlen(key));
    } else if (e->v.type != V_STR) return type_err(c, e, "a string", err);
    *out = e->v.u.s;
    return RLVR_OK;
}

/* The shared part of the list getters: the array entry of key, after recording the
 * default built by the caller when key is absent (dflt is consumed either way). */
static int list_get(cfg *c, const char *key, cval *dflt, int max, int *n, const char *want,
                    entry **out, rlvr_err *err) {
    entry *e;
    int rc = lookup(c, key, n, &e, err);
    if (rc) {
        cval_free(dflt);
        return rc;
    }
    if (!e) {
        if ((rc = record_default(c, key, dflt, err))) return rc;
        e = find(c, key, strlen(key));
    } else {
        cval_free(dflt);
        if (e->v.type != V_ARRAY) return type_err(c, e, want, err);
    }
    if (e->v.n > max) return cfg_errf(c, key, err, "has %d elements, at most %d allowed", e->v.n, max);
    *out = e;
    return RLVR_OK;
}

static int elem_err(cfg *c, const entry *e, int i, const char *want, rlvr_err *err) {
    char o[512], ex[128];
    sb b = {0};
    emit_value(&b, &e->v.u.a[i]);
    excerpt(ex, sizeof ex, b.p ? b.p : "", b.n);
    free(b.p);
    return errf(err, RLVR_ECONFIG, "%s: key '%s' must be %s, but element %d is %s %s",
                fmt_origin(c, e, o, sizeof o), e->key, want, i, type_name(e->v.u.a[i].type), ex);
}

/* An array cval of n default scalars of one type, filled by the caller. */
static int default_array(cval *v, int n, int max, const void *def, const char *key, rlvr_err *err) {
    v->type = V_ARRAY;
    v->n = 0;
    v->u.a = NULL;
    if (n < 0 || n > max || (n && !def))
        return errf(err, RLVR_EARG, "default of config key '%s' has a bad length %d (max %d)", key, n, max);
    if (n && !(v->u.a = calloc((size_t)n, sizeof *v->u.a))) return errf(err, RLVR_ENOMEM, "out of memory");
    return RLVR_OK;
}

int cfg_int_list(cfg *c, const char *key, const long long *def, int n_def, long long *out,
                 int max, int *n, rlvr_err *err) {
    if (!out && max > 0) return errf(err, RLVR_EARG, "cfg_int_list: NULL output");
    cval d;
    int rc = default_array(&d, n_def, max, def, key ? key : "(null)", err);
    if (rc) return rc;
    for (int i = 0; i < n_def; i++) d.u.a[d.n++] = (cval){.type = V_INT, .u.i = def[i]};
    entry *e;
    if ((rc = list_get(c, key, &d, max, n, "an array of integers", &e, err))) return rc;
    for (int i = 0; i < e->v.n; i++)
        if (e->v.u.a[i].type != V_INT) return elem_err(c, e, i, "an array of integers", err);
    for (int i = 0; i < e->v.n; i++) out[i] = e->v.u.a[i].u.i;
    *n = e->v.n;
    return RLVR_OK;
}

int cfg_float_list(cfg *c, const char *key, const double *def, int n_def, double *out, int max,
                   int *n, rlvr_err *err) {
    if (!out && max > 0) return errf(err, RLVR_EARG, "cfg_float_list: NULL output");
    cval d;
    int rc = default_array(&d, n_def, max, def, key ? key : "(null)", err);
    if (rc) return rc;
    for (int i = 0; i < n_def; i++) {
        if (!isfinite(def[i])) {
            cval_free(&d);
            return errf(err, RLVR_EARG, "default of config key '%s' is not finite", key);
        }
        d.u.a[d.n++] = (cval){.type = V_FLOAT, .u.f = def[i]};
    }
    entry *e;
    if ((rc = list_get(c, key, &d, max, n, "an array of numbers", &e, err))) return rc;
    for (int i = 0; i < e->v.n; i++)
        if (e->v.u.a[i].type != V_INT && e->v.u.a[i].type != V_FLOAT)
            return elem_err(c, e, i, "an array of numbers", err);
    for (int i = 0; i < e->v.n; i++) {
        const cval *x = &e->v.u.a[i];
        out[i] = x->type == V_INT ? (double)x->u.i : x->u.f;
    }
    *n = e->v.n;
    return RLVR_OK;
}

int cfg_str_list(cfg *c, const char *key, const char *const *def, int n_def, const char **out,
                 int max, int *n, rlvr_err *err) {
    if (!out && max > 0) return errf(err, RLVR_EARG, "cfg_str_list: NULL output");
    cval d;
    int rc = default_array(&d, n_def, max, def, key ? key : "(null)", err);
    if (rc) return rc;
    for (int i = 0; i < n_def; i++) {
        char *s = def[i] && utf8_valid(def[i]) ? strdup(def[i]) : NULL;
        if (!s) {
            cval_free(&d);
            return def[i] && utf8_valid(def[i]) ? errf(err, RLVR_ENOMEM, "out of memory")
                                                : errf(err, RLVR_EARG, "default of config key '%s' has a NULL or non-UTF-8 string", key);
        }
        d.u.a[d.n++] = (cval){.type = V_STR, .u.s = s};
    }
    entry *e;
    if ((rc = list_get(c, key, &d, max, n, "an array of strings", &e, err))) return rc;
    for (int i = 0; i < e->v.n; i++)
        if (e->v.u.a[i].type != V_STR) return elem_err(c, e, i, "an array of strings", err);
    for (int i = 0; i < e->v.n; i++) out[i] = e->v.u.a[i].u.s;
    *n = e->v.n;
    return RLVR_OK;
}

/* ---- public: origins, messages, checks ---------------------------------------------- */

int cfg_has(const cfg *c, const char *key) {
    if (!c || !key) return 0;
    const entry *e = find(c, key, strlen(key));
    return e && e->kind == ENT_VALUE;
}

const char *cfg_origin(cfg *c, const char *key) {
    if (!c || !key) return NULL;
    entry *e = find(c, key, strlen(key));
    if (!e || e->kind != ENT_VALUE) return NULL;
    if (e->src < 0) return e->src == SRC_DEFAULT ? "default" : "command line";
    if (!e->origin) {
        size_t n = strlen(c->srcs[e->src]) + 24;
        if (!(e->origin = malloc(n))) return c->srcs[e->src]; /* still says where */
        snprintf(e->origin, n, "%s:%ld", c->srcs[e->src], e->line);
    }
    return e->origin;
}

int cfg_errf(cfg *c, const char *key, rlvr_err *err, const char *fmt, ...) {
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *o = cfg_origin(c, key);
    return errf(err, RLVR_ECONFIG, "%s: key '%s' %s", o ? o : "unset", key ? key : "(null)", msg);
}

/* Optimal-string-alignment distance (edits and adjacent swaps), for keys of at most
 * 127 bytes; returns INT_MAX above that or once it exceeds cap. Each DP cell
 * computed is taken from *budget. */
static int edit_distance(const char *a, size_t na, const char *b, size_t nb, int cap, long *budget) {
    enum { M = 128 };
    if (na >= M || nb >= M) return INT_MAX;
    int r0[M], r1[M], r2[M], *pp = r0, *prev = r1, *cur = r2;
    for (size_t j = 0; j <= nb; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int best = cur[0] = (int)i;
        *budget -= (long)nb;
        for (size_t j = 1; j <= nb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int d = prev[j] + 1;
            if (cur[j - 1] + 1 < d) d = cur[j - 1] + 1;
            if (prev[j - 1] + cost < d) d = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < d)
                d = pp[j - 2] + 1;
            cur[j] = d;
            if (d < best) best = d;
        }
        /* Once a whole row exceeds cap, later rows do too: the row before it was
         * >= cap (rows rise by at most 1), and a swap reaches back that row at cost 1. */
        if (best > cap) return INT_MAX;
        int *t = pp;
        pp = prev, prev = cur, cur = t;
    }
    return prev[nb];
}

/* The used key most like the unknown e: close by edit distance, else one with the
 * same last part ("model.lr" -> "train.lr"). NULL when nothing is close. The search
 * shares a work budget across all unknown keys, so a hostile config with many long,
 * similar keys gets fewer suggestions instead of a slow check. */
static const char *suggest(const cfg *c, const entry *e, long *budget) {
    int cap = 1 + (int)e->klen / 5, best = INT_MAX;
    const char *pick = NULL, *leaf = strrchr(e->key, '.'), *same_leaf = NULL;
    leaf = leaf ? leaf + 1 : e->key;
    for (size_t i = 0; i < c->n_ents && *budget > 0; i++) {
        const entry *u = &c->ents[i];
        if (u->kind != ENT_VALUE || !u->used) continue;
        *budget -= (long)u->klen;
        int d = edit_distance(e->key, e->klen, u->key, u->klen, cap, budget);
        if (d <= cap && d < (int)e->klen && d < best) best = d, pick = u->key;
        const char *ul = strrchr(u->key, '.');
        if (!same_leaf && !strcmp(ul ? ul + 1 : u->key, leaf)) same_leaf = u->key;
    }
    return pick ? pick : same_leaf;
}

int cfg_check_unused(cfg *c, rlvr_err *err) {
    if (!c) return errf(err, RLVR_EARG, "cfg_check_unused: NULL config");
    enum { SHOWN = 8 };
    size_t n_bad = 0;
    long budget = 20000000; /* DP cells: ~20 ms */
    sb m = {0};
    for (size_t i = 0; i < c->n_ents; i++) {
        const entry *e = &c->ents[i];
        if (e->kind != ENT_VALUE || e->used) continue;
        if (++n_bad > SHOWN) continue;
        char o[512];
        const char *s = suggest(c, e, &budget);
        if (n_bad > 1) sb_puts(&m, "; ");
        sb_puts(&m, "unknown key '");
        sb_puts(&m, e->key);
        sb_puts(&m, "' (");
        sb_puts(&m, fmt_origin(c, e, o, sizeof o));
        if (s) {
            sb_puts(&m, ", did you mean '");
            sb_puts(&m, s);
            sb_puts(&m, "'?");
        }
        sb_putc(&m, ')');
    }
    if (!n_bad) return RLVR_OK;
    if (n_bad > SHOWN) {
        char more[64];
        snprintf(more, sizeof more, "; and %zu more", n_bad - SHOWN);
        sb_puts(&m, more);
    }
    int rc = errf(err, RLVR_ECONFIG, "%s", m.oom || !m.p ? "unknown keys (out of memory listing them)" : m.p);
    free(m.p);
    return rc;
}

/* ---- public: output ----------------------------------------------------------------- */

static void emit_float(sb *b, double x) {
    char buf[64];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) break;
    }
    if (!strpbrk(buf, ".eE")) strcat(buf, ".0"); /* keep it a float when read back */
    sb_puts(b, buf);
}

static void emit_string(sb *b, const char *s) {
    sb_putc(b, '"');
    for (const char *p = s; *p; p++) {
        const char *run = p;
        while (*p && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20 && *p != 0x7f) p++;
        sb_put(b, run, (size_t)(p - run));
        if (!*p) break;
        char esc[8];
        switch (*p) {
        case '"': sb_puts(b, "\\\""); break;
        case '\\': sb_puts(b, "\\\\"); break;
        case '\n': sb_puts(b, "\\n"); break;
        case '\t': sb_puts(b, "\\t"); break;
        case '\r': sb_puts(b, "\\r"); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned char)*p);
            sb_puts(b, esc);
        }
    }
    sb_putc(b, '"');
}

static void emit_value(sb *b, const cval *v) {
    char buf[32];
    switch (v->type) {
    case V_INT:
        snprintf(buf, sizeof buf, "%lld", v->u.i);
        sb_puts(b, buf);
        break;
    case V_FLOAT: emit_float(b, v->u.f); break;
    case V_BOOL: sb_puts(b, v->u.b ? "true" : "false"); break;
    case V_STR: emit_string(b, v->u.s); break;
    case V_ARRAY:
        sb_putc(b, '[');
        for (int i = 0; i < v->n; i++) {
            if (i) sb_puts(b, ", ");
            emit_value(b, &v->u.a[i]);
        }
        sb_putc(b, ']');
        break;
    }
}

/* Sort order of the writer: by section (the key up to its last dot; top level is
 * the empty section and comes first), then by the last part. */
typedef struct kref {
    const entry *e;
    uint32_t sec; /* length of the section */
} kref;

static int kref_cmp(const void *pa, const void *pb) {
    const kref *a = pa, *b = pb;
    uint32_t n = a->sec < b->sec ? a->sec : b->sec;
    int r = memcmp(a->e->key, b->e->key, n);
    if (r) return r;
    if (a->sec != b->sec) return a->sec < b->sec ? -1 : 1;
    return strcmp(a->e->key + a->sec + (a->sec > 0), b->e->key + b->sec + (b->sec > 0));
}

char *cfg_to_string(const cfg *c) {
    if (!c) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < c->n_ents; i++) n += c->ents[i].kind == ENT_VALUE;
    kref *r = malloc((n ? n : 1) * sizeof *r);
    if (!r) return NULL;
    n = 0;
    for (size_t i = 0; i < c->n_ents; i++) {
        const entry *e = &c->ents[i];
        if (e->kind != ENT_VALUE) continue;
        const char *dot = strrchr(e->key, '.');
        r[n++] = (kref){e, dot ? (uint32_t)(dot - e->key) : 0};
    }
    qsort(r, n, sizeof *r, kref_cmp);
    sb b = {0};
    sb_put(&b, "", 0);
    for (size_t i = 0; i < n; i++) {
        const entry *e = r[i].e;
        uint32_t sec = r[i].sec;
        if (sec && (i == 0 || r[i - 1].sec != sec || memcmp(r[i - 1].e->key, e->key, sec))) {
            if (b.n) sb_putc(&b, '\n');
            sb_putc(&b, '[');
            sb_put(&b, e->key, sec);
            sb_puts(&b, "]\n");
        }
        sb_puts(&b, e->key + sec + (sec > 0));
        sb_puts(&b, " = ");
        emit_value(&b, &e->v);
        sb_putc(&b, '\n');
    }
    free(r);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

uint64_t cfg_hash(const cfg *c) {
    char *s = cfg_to_string(c);
    if (!s) return 0;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = s; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    free(s);
    return h;
}

int cfg_write(const cfg *c, const char *path, rlvr_err *err) {
    if (!c || !path) return errf(err, RLVR_EARG, "cfg_write: NULL argument");
    char *s = cfg_to_string(c);
    if (!s) return errf(err, RLVR_ENOMEM, "%s: out of memory writing the config", path);
    int rc = fs_write_atomic(path, s, strlen(s), err);
    free(s);
    return rc;
}
