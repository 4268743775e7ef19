/* bpe_decode.c: ids -> bytes, whole or streamed. Each id's bytes were computed at
 * load time (bpe_finish), so decoding is a lookup and a copy. */
#include <string.h>
#include "tokenizer/bpe_int.h"

int bpe_decode(const bpe *b, const int *ids, int n, char *out, size_t cap, size_t *n_out) {
    size_t need = 0;
    if (n_out) *n_out = 0;
    if (!b || n < 0 || (n && !ids) || (cap && !out)) return RLVR_EARG;
    for (int i = 0; i < n; i++) {
        size_t len;
        if (!bpe_token_bytes(b, ids[i], &len)) return RLVR_EARG;
        need += len;
    }
    if (n_out) *n_out = need;
    if (cap < need + 1) return RLVR_EARG;
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        size_t len;
        const char *s = bpe_token_bytes(b, ids[i], &len);
        memcpy(out + k, s, len);
        k += len;
    }
    out[k] = 0;
    return RLVR_OK;
}

void bpe_stream_init(bpe_stream *s, const bpe *b) {
    memset(s, 0, sizeof *s);
    s->b = b;
}

/* How many of the last bytes of p[0..n) are an incomplete UTF-8 sequence (0..3). */
static size_t incomplete_tail(const unsigned char *p, size_t n) {
    for (size_t back = 1; back <= 4 && back <= n; back++) {
        unsigned char c = p[n - back];
        if ((c & 0xC0) == 0x80) continue;           /* continuation: look further back */
        size_t want = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        return want > back ? back : 0;
    }
    return 0;
}

int bpe_stream_push(bpe_stream *s, int id, char *out, size_t cap, size_t *n_out) {
    size_t len;
    if (n_out) *n_out = 0;
    if (!s || !s->b || (cap && !out)) return RLVR_EARG;
    const char *t = bpe_token_bytes(s->b, id, &len);
    if (!t) return RLVR_EARG;
    /* the held-back bytes, then the token: emit all but an incomplete tail */
    unsigned char tail[8];
    size_t total = (size_t)s->n_pend + len, hold;
    if (len >= 4) {
        hold = incomplete_tail((const unsigned char *)t, len);
    } else {
        size_t k = 0;
        memcpy(tail, s->pend, (size_t)s->n_pend); k = (size_t)s->n_pend;
        memcpy(tail + k, t, len); k += len;
        hold = incomplete_tail(tail, k);
    }
    size_t emit = total - hold;
    if (n_out) *n_out = emit;
    if (cap < emit + 1) return RLVR_EARG;
    unsigned char keep[4];
    /* bytes to hold come from the end of pend+token */
    for (size_t i = 0; i < hold; i++) {
        size_t pos = total - hold + i;   /* index into pend+token */
        keep[i] = pos < (size_t)s->n_pend ? s->pend[pos] : (unsigned char)t[pos - s->n_pend];
    }
    size_t k = 0;
    for (size_t i = 0; i < emit; i++)
        out[k++] = i < (size_t)s->n_pend ? (char)s->pend[i] : t[i - s->n_pend];
    out[k] = 0;
    memcpy(s->pend, keep, hold);
    s->n_pend = (int)hold;
    return RLVR_OK;
}

int bpe_stream_flush(bpe_stream *s, char *out, size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!s || (cap && !out)) return RLVR_EARG;
    size_t n = (size_t)s->n_pend;
    if (n_out) *n_out = n;
    if (cap < n + 1) return RLVR_EARG;
    memcpy(out, s->pend, n);
    out[n] = 0;
    s->n_pend = 0;
    return RLVR_OK;
}
