/* bpe_encode.c: text -> ids. Added tokens are cut out first, the pieces between them
 * are normalized and pre-tokenized (regex splits), and each pre-token is merged,
 * lowest rank first, with a binary heap (O(n log n) per pre-token). All scratch
 * memory lives in one per-call `enc`, so a const bpe can encode from many threads. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "core/err.h"
#include "tokenizer/bpe_int.h"

typedef struct { size_t s, e; int m; } span;        /* [s, e), m: regex matched */
typedef struct { int id, prev, next; } sym;
typedef struct { int rank, left, right, lid, rid, merged; } pair;

typedef struct {
    const bpe *b;
    int *ids, cap, n;           /* output: ids written so far (n may exceed cap) */
    char *buf[2]; size_t bcap[2];
    span *pc[2], *tri; size_t pcap[2], tcap;
    sym *sy; size_t scap;
    pair *hp; size_t hcap, hn;
    char *map; size_t mcap;
    pcre2_match_data *md;
    rlvr_err *err;
} enc;

/* Grows *p (elements of size sz) to hold need elements. */
static int grow(void *pp, size_t *cap, size_t need, size_t sz, enc *e) {
    void **p = pp;
    if (need <= *cap) return RLVR_OK;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    if (c > SIZE_MAX / sz) return errf(e->err, RLVR_ENOMEM, "encode: size overflow");
    void *q = realloc(*p, c * sz);
    if (!q) return errf(e->err, RLVR_ENOMEM, "encode: out of memory");
    *p = q; *cap = c;
    return RLVR_OK;
}

static void emit(enc *e, int id) {
    if (e->n < e->cap) e->ids[e->n] = id;
    e->n++;
}

static int pair_less(const pair *a, const pair *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static int heap_push(enc *e, int left, int right) {
    const sym *sy = e->sy;
    int merged, rank = bpe_merge_rank(e->b, sy[left].id, sy[right].id, &merged);
    if (rank < 0) return RLVR_OK;
    int rc = grow(&e->hp, &e->hcap, e->hn + 1, sizeof *e->hp, e);
    if (rc) return rc;
    pair p = {rank, left, right, sy[left].id, sy[right].id, merged};
    size_t i = e->hn++;
    while (i > 0 && pair_less(&p, &e->hp[(i - 1) / 2])) { e->hp[i] = e->hp[(i - 1) / 2]; i = (i - 1) / 2; }
    e->hp[i] = p;
    return RLVR_OK;
}

static pair heap_pop(enc *e) {
    pair top = e->hp[0], last = e->hp[--e->hn];
    size_t i = 0, n = e->hn;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && pair_less(&e->hp[c + 1], &e->hp[c])) c++;
        if (!pair_less(&e->hp[c], &last)) break;
        e->hp[i] = e->hp[c]; i = c;
    }
    if (n) e->hp[i] = last;
    return top;
}

/* One pre-token: bytes -> byte-level symbols -> merges -> ids. */
static int bpe_word(enc *e, const unsigned char *p, size_t n) {
    const bpe *b = e->b;
    int rc;
    if (!n) return RLVR_OK;
    if (b->ignore_merges) {
        if ((rc = grow(&e->map, &e->mcap, 2 * n, 1, e))) return rc;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            uint16_t cp = b->b2u[p[i]];
            if (cp < 0x80) e->map[k++] = (char)cp;
            else { e->map[k++] = (char)(0xC0 | (cp >> 6)); e->map[k++] = (char)(0x80 | (cp & 0x3F)); }
        }
        int id = bpe_lookup(b, e->map, k);
        if (id >= 0) { emit(e, id); return RLVR_OK; }
    }
    if ((rc = grow(&e->sy, &e->scap, n, sizeof *e->sy, e))) return rc;
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        int id = b->byte_id[p[i]];
        if (id < 0) id = b->unk_id;         /* HF: unknown byte -> unk, or dropped */
        if (id < 0) continue;
        e->sy[m].id = id; e->sy[m].prev = m - 1; e->sy[m].next = m + 1; m++;
    }
    if (!m) return RLVR_OK;
    e->sy[m - 1].next = -1;
    e->hn = 0;
    for (int i = 0; i + 1 < m; i++)
        if ((rc = heap_push(e, i, i + 1))) return rc;
    while (e->hn) {
        pair t = heap_pop(e);
        sym *sy = e->sy;
        if (sy[t.left].id != t.lid || sy[t.left].next != t.right || sy[t.right].id != t.rid) continue; /* stale */
        sy[t.left].id = t.merged;
        int nx = sy[t.right].next;
        sy[t.left].next = nx;
        if (nx >= 0) sy[nx].prev = t.left;
        sy[t.right].id = -1;
        if (sy[t.left].prev >= 0 && (rc = heap_push(e, sy[t.left].prev, t.left))) return rc;
        if (nx >= 0 && (rc = heap_push(e, t.left, nx))) return rc;
    }
    for (int i = 0; i >= 0; i = e->sy[i].next) emit(e, e->sy[i].id);
    return RLVR_OK;
}

static size_t utf8_next(const char *s, size_t i, size_t n) {
    i++;
    while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
    return i;
}

/* Splits each piece of in[0..nin) (spans into text) by step st, appending to *out. */
static int split_step(enc *e, const bpe_step *st, const char *text, const span *in, size_t nin,
                      int to, size_t *nout) {
    size_t no = 0;
    int rc;
    for (size_t k = 0; k < nin; k++) {
        const char *s = text + in[k].s;
        size_t len = in[k].e - in[k].s, nt = 0, pos = 0, prev = 0;
        while (pos <= len) {
            int r = pcre2_match(st->re, (PCRE2_SPTR)s, len, pos, PCRE2_NO_UTF_CHECK, e->md, NULL);
            if (r == PCRE2_ERROR_JIT_STACKLIMIT)
                r = pcre2_match(st->re, (PCRE2_SPTR)s, len, pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, e->md, NULL);
            if (r == PCRE2_ERROR_NOMATCH) break;
            if (r < 0) {
                char msg[160];
                pcre2_get_error_message(r, (PCRE2_UCHAR *)msg, sizeof msg);
                return errf(e->err, RLVR_EUNSUPPORTED, "encode: regex match failed: %s", msg);
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
            size_t ms = ov[0], me = ov[1];
            if ((rc = grow(&e->tri, &e->tcap, nt + 2, sizeof *e->tri, e))) return rc;
            if (prev != ms) e->tri[nt++] = (span){prev, ms, 0};
            e->tri[nt++] = (span){ms, me, 1};
            prev = me;
            pos = me > ms ? me : utf8_next(s, me, len);
            if (me == len) break;
        }
        if ((rc = grow(&e->tri, &e->tcap, nt + 1, sizeof *e->tri, e))) return rc;
        if (prev != len) e->tri[nt++] = (span){prev, len, 0};
        if (st->invert) for (size_t i = 0; i < nt; i++) e->tri[i].m = !e->tri[i].m;
        /* HF SplitDelimiterBehavior over the (range, matched) sequence */
        if ((rc = grow(&e->pc[to], &e->pcap[to], no + nt, sizeof(span), e))) return rc;
        span *o = e->pc[to];
        size_t first = no;
        int pm = 0;
        if (st->behavior == BPE_SPLIT_MERGED_NEXT) {
            for (size_t i = nt; i-- > 0;) {
                span t = e->tri[i];
                if (t.m && !pm && no > first) o[no - 1].s = t.s;
                else o[no++] = (span){t.s, t.e, 0};
                pm = t.m;
            }
            for (size_t a = first, z = no; a + 1 < z; a++, z--) { span x = o[a]; o[a] = o[z - 1]; o[z - 1] = x; }
        } else {
            for (size_t i = 0; i < nt; i++) {
                span t = e->tri[i];
                if (st->behavior == BPE_SPLIT_REMOVED) { if (!t.m) o[no++] = t; }
                else if (st->behavior == BPE_SPLIT_ISOLATED) o[no++] = t;
                else if (st->behavior == BPE_SPLIT_CONTIGUOUS && t.m == pm && no > first) o[no - 1].e = t.e;
                else if (st->behavior == BPE_SPLIT_MERGED_PREV && t.m && !pm && no > first) o[no - 1].e = t.e;
                else o[no++] = t;
                pm = t.m;
            }
        }
        size_t w = first;                                   /* drop empty pieces, rebase */
        for (size_t i = first; i < no; i++)
            if (o[i].e > o[i].s) o[w++] = (span){o[i].s + in[k].s, o[i].e + in[k].s, 0};
        no = w;
    }
    *nout = no;
    return RLVR_OK;
}

/* Normalizes, pre-tokenizes and merges one stretch of text without added tokens. */
static int encode_plain(enc *e, const char *text, size_t n) {
    const bpe *b = e->b;
    unsigned char *norm = NULL;
    int rc = RLVR_OK;
    if (!n) return RLVR_OK;
    if (b->nfc) {
        utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)n, &norm,
                                          UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (r < 0) return errf(e->err, RLVR_EARG, "encode: NFC failed: %s", utf8proc_errmsg(r));
        text = (const char *)norm; n = (size_t)r;
    }
    int cur = 0;
    size_t np = 1;
    const char *t = text;
    if ((rc = grow(&e->pc[0], &e->pcap[0], 1, sizeof(span), e))) goto done;
    e->pc[0][0] = (span){0, n, 0};
    for (int si = 0; si < b->n_steps && np; si++) {
        const bpe_step *st = &b->steps[si];
        int to = !cur;
        if (st->kind == BPE_STEP_PREFIX_SPACE) {   /* ' ' before each piece not starting with one */
            size_t need = 0;
            for (size_t k = 0; k < np; k++) need += e->pc[cur][k].e - e->pc[cur][k].s + 1;
            int bi = t == e->buf[0] ? 1 : 0;
            if ((rc = grow(&e->buf[bi], &e->bcap[bi], need, 1, e))) goto done;
            if ((rc = grow(&e->pc[to], &e->pcap[to], np, sizeof(span), e))) goto done;
            size_t w = 0;
            for (size_t k = 0; k < np; k++) {
                span sp = e->pc[cur][k];
                size_t s0 = w;
                if (t[sp.s] != ' ') e->buf[bi][w++] = ' ';
                memcpy(e->buf[bi] + w, t + sp.s, sp.e - sp.s);
                w += sp.e - sp.s;
                e->pc[to][k] = (span){s0, w, 0};
            }
            t = e->buf[bi];
        } else {
            size_t no = 0;
            if ((rc = split_step(e, st, t, e->pc[cur], np, to, &no))) goto done;
            np = no;
        }
        cur = to;
    }
    for (size_t k = 0; k < np && !rc; k++)
        rc = bpe_word(e, (const unsigned char *)t + e->pc[cur][k].s, e->pc[cur][k].e - e->pc[cur][k].s);
done:
    free(norm);
    return rc;
}

/* The added token starting at text[i], longest first; -1 if none. */
static int added_at(const bpe *b, const char *text, size_t n, size_t i, int parse_special) {
    for (int k = 0; k < b->n_added; k++) {
        int id = b->added[k];
        if (!parse_special && (b->attr[id] & BPE_ATTR_SPECIAL)) continue;
        size_t len = b->str_len[id];
        if (len <= n - i && !memcmp(text + i, b->arena + b->str_off[id], len)) return id;
    }
    return -1;
}

int bpe_encode(const bpe *b, const char *text, size_t n, int parse_special,
               int *ids, int cap, int *n_ids, rlvr_err *err) {
    if (n_ids) *n_ids = 0;
    if (!b || (!text && n) || cap < 0 || (cap && !ids)) return errf(err, RLVR_EARG, "encode: bad arguments");
    if (n > (size_t)INT_MAX / 4) return errf(err, RLVR_EARG, "encode: text of %zu bytes is too long", n);
    size_t ok = bpe_utf8_valid((const unsigned char *)text, n);
    if (ok != n) return errf(err, RLVR_EARG, "encode: invalid UTF-8 at byte %zu", ok);
    enc e = {.b = b, .ids = ids, .cap = cap, .err = err};
    e.md = pcre2_match_data_create(1, NULL);
    if (!e.md) return errf(err, RLVR_ENOMEM, "encode: out of memory");
    const uint8_t *first = parse_special ? b->first_any : b->first_plain;
    int rc = RLVR_OK;
    size_t seg = 0;
    for (size_t i = 0; i < n && !rc;) {
        int id = first[(unsigned char)text[i]] ? added_at(b, text, n, i, parse_special) : -1;
        if (id < 0) { i++; continue; }
        rc = encode_plain(&e, text + seg, i - seg);
        emit(&e, id);
        i += b->str_len[id];
        seg = i;
    }
    if (!rc) rc = encode_plain(&e, text + seg, n - seg);
    pcre2_match_data_free(e.md);
    free(e.buf[0]); free(e.buf[1]); free(e.pc[0]); free(e.pc[1]); free(e.tri);
    free(e.sy); free(e.hp); free(e.map);
    if (rc) return rc;
    if (n_ids) *n_ids = e.n;
    if (e.n > cap) return errf(err, RLVR_EARG, "encode: %d ids do not fit in %d", e.n, cap);
    return RLVR_OK;
}
