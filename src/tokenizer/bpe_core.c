/* bpe_core.c: a bpe's tables (id -> string, string -> id, merge ranks), the builder
 * the loaders share, and the small accessors. No file formats here. */
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "tokenizer/bpe_int.h"

const char BPE_PAT_GPT2[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char BPE_PAT_LLAMA3[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
    "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char BPE_PAT_QWEN2[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
    "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static uint64_t hash_pair(uint64_t k) {
    k ^= k >> 33; k *= 0xff51afd7ed558ccdull; k ^= k >> 33; k *= 0xc4ceb9fe1a85ec53ull;
    return k ^ (k >> 33);
}

size_t bpe_utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k; uint32_t cp, min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { k = 2; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { k = 3; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { k = 4; cp = c & 0x07; min = 0x10000; }
        else return i;
        if (n - i < k) return i;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += k;
    }
    return n;
}

bpe *bpe_alloc(void) {
    bpe *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->unk_id = b->bos_id = b->eos_id = -1;
    /* GPT-2 bytes_to_unicode: printable Latin-1 bytes stand for themselves, the rest
     * are moved to 256 + n in byte order. */
    int n = 0;
    for (int i = 0; i < 324; i++) b->u2b[i] = -1;
    for (int c = 0; c < 256; c++) {
        int keep = (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174);
        b->b2u[c] = (uint16_t)(keep ? c : 256 + n++);
        b->u2b[b->b2u[c]] = (int16_t)c;
    }
    return b;
}

static int arena_put(bpe *b, const void *s, size_t n, uint32_t *off, rlvr_err *err) {
    if (b->arena_len + n + 1 > UINT32_MAX - 1) return errf(err, RLVR_ENOMEM, "tokenizer strings exceed 4 GiB");
    if (b->arena_len + n + 1 > b->arena_cap) {
        size_t cap = b->arena_cap ? b->arena_cap : 1 << 16;
        while (cap < b->arena_len + n + 1) cap *= 2;
        char *a = realloc(b->arena, cap);
        if (!a) return errf(err, RLVR_ENOMEM, "out of memory for token strings");
        b->arena = a; b->arena_cap = cap;
    }
    if (n) memcpy(b->arena + b->arena_len, s, n);
    b->arena[b->arena_len + n] = 0;
    *off = (uint32_t)b->arena_len;
    b->arena_len += n + 1;
    return RLVR_OK;
}

int bpe_table_init(bpe *b, int n_ids, rlvr_err *err) {
    if (n_ids <= 0 || n_ids > BPE_MAX_IDS) return errf(err, RLVR_EFORMAT, "vocabulary size %d out of range", n_ids);
    b->n_ids = n_ids;
    b->str_off = malloc(n_ids * sizeof *b->str_off);
    b->str_len = calloc(n_ids, sizeof *b->str_len);
    b->byt_off = calloc(n_ids, sizeof *b->byt_off);
    b->byt_len = calloc(n_ids, sizeof *b->byt_len);
    b->attr = calloc(n_ids, 1);
    if (!b->str_off || !b->str_len || !b->byt_off || !b->byt_len || !b->attr)
        return errf(err, RLVR_ENOMEM, "out of memory for %d tokens", n_ids);
    for (int i = 0; i < n_ids; i++) b->str_off[i] = UINT32_MAX;
    return RLVR_OK;
}

int bpe_set_token(bpe *b, int id, const char *s, size_t n, int attr, const char *where, rlvr_err *err) {
    if (id < 0 || id >= b->n_ids) return errf(err, RLVR_EFORMAT, "%s: id %d out of range [0, %d)", where, id, b->n_ids);
    if (n == 0) return errf(err, RLVR_EFORMAT, "%s: empty token (id %d)", where, id);
    if (n > 65536) return errf(err, RLVR_EFORMAT, "%s: token of %zu bytes (id %d)", where, n, id);
    if (bpe_utf8_valid((const unsigned char *)s, n) != n || memchr(s, 0, n))
        return errf(err, RLVR_EFORMAT, "%s: token id %d is not valid UTF-8", where, id);
    if (b->str_off[id] != UINT32_MAX) {
        const char *old = b->arena + b->str_off[id];
        if ((attr & BPE_ATTR_ADDED) && b->str_len[id] == n && !memcmp(old, s, n)) {
            b->attr[id] |= (uint8_t)attr;      /* an added token restating a vocab entry */
            return RLVR_OK;
        }
        return errf(err, RLVR_EFORMAT, "%s: duplicate id %d (\"%.40s\" and \"%.40s\")", where, id, old, s);
    }
    int rc = arena_put(b, s, n, &b->str_off[id], err);
    if (rc) return rc;
    b->str_len[id] = (uint32_t)n;
    b->attr[id] = (uint8_t)(attr | BPE_ATTR_USED);
    return RLVR_OK;
}

int bpe_lookup(const bpe *b, const char *s, size_t n) {
    if (!b->vh) return -1;
    uint32_t mask = b->vh_cap - 1, i = (uint32_t)hash_bytes(s, n) & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t v = b->vh[i];
        if (!v) return -1;
        int id = (int)v - 1;
        if (b->str_len[id] == n && !memcmp(b->arena + b->str_off[id], s, n)) return id;
    }
}

/* Every used id gets a slot; a string held by two ids is an error (HF's vocab is a map). */
int bpe_build_vocab_hash(bpe *b, rlvr_err *err) {
    uint32_t cap = 1024;
    while (cap < (uint32_t)b->n_ids * 2u) cap *= 2;
    b->vh = calloc(cap, sizeof *b->vh);
    if (!b->vh) return errf(err, RLVR_ENOMEM, "out of memory for the vocabulary hash");
    b->vh_cap = cap;
    for (int id = 0; id < b->n_ids; id++) {
        if (b->str_off[id] == UINT32_MAX) continue;
        const char *s = b->arena + b->str_off[id];
        size_t n = b->str_len[id];
        uint32_t i = (uint32_t)hash_bytes(s, n) & (cap - 1);
        for (; b->vh[i]; i = (i + 1) & (cap - 1)) {
            int o = (int)b->vh[i] - 1;
            if (b->str_len[o] == n && !memcmp(b->arena + b->str_off[o], s, n))
                return errf(err, RLVR_EFORMAT, "token \"%.60s\" has two ids (%d and %d)", s, o, id);
        }
        b->vh[i] = (uint32_t)id + 1;
    }
    return RLVR_OK;
}

int bpe_merges_reserve(bpe *b, int n, rlvr_err *err) {
    if (n < 0 || n > BPE_MAX_IDS) return errf(err, RLVR_EFORMAT, "%d merges out of range", n);
    uint32_t cap = 1024;
    while (cap < (uint32_t)n * 2u) cap *= 2;
    b->merge_l = malloc((n + 1) * sizeof *b->merge_l);
    b->merge_r = malloc((n + 1) * sizeof *b->merge_r);
    b->mk = malloc(cap * sizeof *b->mk);
    b->mrank = malloc(cap * sizeof *b->mrank);
    b->mid = malloc(cap * sizeof *b->mid);
    if (!b->merge_l || !b->merge_r || !b->mk || !b->mrank || !b->mid)
        return errf(err, RLVR_ENOMEM, "out of memory for %d merges", n);
    for (uint32_t i = 0; i < cap; i++) b->mrank[i] = -1;
    b->m_cap = cap; b->m_cap_list = n;
    return RLVR_OK;
}

int bpe_merge_rank(const bpe *b, int l, int r, int *merged) {
    if (!b->m_cap) return -1;
    uint64_t k = ((uint64_t)(uint32_t)l << 32) | (uint32_t)r;
    uint32_t mask = b->m_cap - 1, i = (uint32_t)hash_pair(k) & mask;
    for (;; i = (i + 1) & mask) {
        if (b->mrank[i] < 0) return -1;
        if (b->mk[i] == k) { *merged = b->mid[i]; return b->mrank[i]; }
    }
}

/* Merges of a pair already merged keep their first (lowest) rank, as HF does. */
int bpe_add_merge(bpe *b, const char *l, size_t nl, const char *r, size_t nr, const char *where,
                  rlvr_err *err) {
    if (b->n_merges >= b->m_cap_list) return errf(err, RLVR_EFORMAT, "%s: too many merges", where);
    int il = bpe_lookup(b, l, nl), ir = bpe_lookup(b, r, nr);
    if (il < 0) return errf(err, RLVR_EFORMAT, "%s: token \"%.*s\" is not in the vocabulary", where, (int)(nl > 60 ? 60 : nl), l);
    if (ir < 0) return errf(err, RLVR_EFORMAT, "%s: token \"%.*s\" is not in the vocabulary", where, (int)(nr > 60 ? 60 : nr), r);
    if (nl + nr > 65536) return errf(err, RLVR_EFORMAT, "%s: merged token too long", where);
    char tmp[512], *cat = nl + nr <= sizeof tmp ? tmp : malloc(nl + nr);
    if (!cat) return errf(err, RLVR_ENOMEM, "%s: out of memory", where);
    memcpy(cat, l, nl); memcpy(cat + nl, r, nr);
    int im = bpe_lookup(b, cat, nl + nr);
    if (cat != tmp) free(cat);
    if (im < 0) return errf(err, RLVR_EFORMAT, "%s: merged token \"%.*s%.*s\" is not in the vocabulary", where,
                            (int)(nl > 40 ? 40 : nl), l, (int)(nr > 40 ? 40 : nr), r);
    int rank = b->n_merges++;
    b->merge_l[rank] = il; b->merge_r[rank] = ir;
    uint64_t k = ((uint64_t)(uint32_t)il << 32) | (uint32_t)ir;
    uint32_t mask = b->m_cap - 1, i = (uint32_t)hash_pair(k) & mask;
    for (; b->mrank[i] >= 0; i = (i + 1) & mask)
        if (b->mk[i] == k) return RLVR_OK;
    b->mk[i] = k; b->mrank[i] = rank; b->mid[i] = im;
    return RLVR_OK;
}

/* Decoded bytes per id (HF's ByteLevel decoder: a token whose every character is a
 * byte-level character becomes those bytes; any other token is its own UTF-8),
 * one-byte token ids, the added-token list, and BOS/EOS guesses. */
int bpe_finish(bpe *b, rlvr_err *err) {
    int rc;
    if (!b->has_bytelevel)
        return errf(err, RLVR_EUNSUPPORTED, "no ByteLevel pre-tokenizer: only byte-level BPE is supported");
    char *tmp = NULL;
    size_t tcap = 0;
    for (int id = 0; id < b->n_ids; id++) {
        if (b->str_off[id] == UINT32_MAX) continue;
        uint32_t n = b->str_len[id];
        if (n > tcap) {
            char *t = realloc(tmp, n);
            if (!t) { free(tmp); return errf(err, RLVR_ENOMEM, "out of memory"); }
            tmp = t; tcap = n;
        }
        /* read via offset each time: arena_put may move the arena */
        size_t k = 0, i = 0;
        int ok = 1;
        while (i < n) {
            const unsigned char *s = (const unsigned char *)b->arena + b->str_off[id];
            uint32_t cp; size_t w;
            if (s[i] < 0x80) { cp = s[i]; w = 1; }
            else if ((s[i] & 0xE0) == 0xC0) { cp = ((s[i] & 0x1Fu) << 6) | (s[i + 1] & 0x3F); w = 2; }
            else { ok = 0; break; }
            if (cp >= 324 || b->u2b[cp] < 0) { ok = 0; break; }
            tmp[k++] = (char)b->u2b[cp];
            i += w;
        }
        if (ok) rc = arena_put(b, tmp, k, &b->byt_off[id], err), b->byt_len[id] = (uint32_t)k;
        else b->byt_off[id] = b->str_off[id], b->byt_len[id] = n, rc = 0;
        if (rc) { free(tmp); return rc; }
    }
    free(tmp);
    for (int c = 0; c < 256; c++) {
        char u[2]; size_t n;
        uint16_t cp = b->b2u[c];
        if (cp < 0x80) { u[0] = (char)cp; n = 1; }
        else { u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
        b->byte_id[c] = bpe_lookup(b, u, n);
    }
    int na = 0;
    for (int id = 0; id < b->n_ids; id++) na += (b->attr[id] & BPE_ATTR_ADDED) != 0;
    b->added = malloc((na + 1) * sizeof *b->added);
    if (!b->added) return errf(err, RLVR_ENOMEM, "out of memory");
    for (int id = 0; id < b->n_ids; id++)
        if (b->attr[id] & BPE_ATTR_ADDED) {
            b->added[b->n_added++] = id;
            unsigned char c0 = (unsigned char)b->arena[b->str_off[id]];
            b->first_any[c0] = 1;
            if (!(b->attr[id] & BPE_ATTR_SPECIAL)) b->first_plain[c0] = 1;
        }
    for (int i = 1; i < b->n_added; i++) {      /* insertion sort: longest first, then id */
        int v = b->added[i], j = i;
        for (; j > 0 && b->str_len[b->added[j - 1]] < b->str_len[v]; j--) b->added[j] = b->added[j - 1];
        b->added[j] = v;
    }
    static const char *const bos[] = {"<|begin_of_text|>", "<s>", "<|startoftext|>", "<|im_start|>", "<|endoftext|>"};
    static const char *const eos[] = {"<|eot_id|>", "<|im_end|>", "<|end_of_text|>", "</s>", "<|endoftext|>"};
    for (size_t i = 0; i < sizeof bos / sizeof *bos && b->bos_id < 0; i++) b->bos_id = bpe_lookup(b, bos[i], strlen(bos[i]));
    for (size_t i = 0; i < sizeof eos / sizeof *eos && b->eos_id < 0; i++) b->eos_id = bpe_lookup(b, eos[i], strlen(eos[i]));
    return RLVR_OK;
}

int bpe_add_split(bpe *b, const char *pat, size_t n, int literal, int behavior, int invert,
                  const char *where, rlvr_err *err) {
    if (b->n_steps >= BPE_MAX_STEPS) return errf(err, RLVR_EUNSUPPORTED, "%s: more than %d pre-tokenizer steps", where, BPE_MAX_STEPS);
    if (n > 65536) return errf(err, RLVR_EFORMAT, "%s: pattern of %zu bytes", where, n);
    int ec; PCRE2_SIZE eo;
    uint32_t opt = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);   /* LITERAL refuses UCP */
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, n, opt, &ec, &eo, NULL);
    if (!re) {
        char msg[256];
        pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof msg);
        return errf(err, RLVR_EFORMAT, "%s: invalid regex at offset %zu: %s", where, (size_t)eo, msg);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* best effort; the interpreter is the fallback */
    bpe_step *s = &b->steps[b->n_steps++];
    s->kind = BPE_STEP_SPLIT; s->re = re; s->behavior = behavior; s->invert = invert;
    return RLVR_OK;
}

int bpe_add_prefix_space(bpe *b, const char *where, rlvr_err *err) {
    if (b->n_steps >= BPE_MAX_STEPS) return errf(err, RLVR_EUNSUPPORTED, "%s: more than %d pre-tokenizer steps", where, BPE_MAX_STEPS);
    b->steps[b->n_steps++].kind = BPE_STEP_PREFIX_SPACE;
    return RLVR_OK;
}

void bpe_free(bpe *b) {
    if (!b) return;
    for (int i = 0; i < b->n_steps; i++) pcre2_code_free(b->steps[i].re);
    free(b->arena); free(b->str_off); free(b->str_len); free(b->byt_off); free(b->byt_len);
    free(b->attr); free(b->vh); free(b->merge_l); free(b->merge_r); free(b->mk); free(b->mrank);
    free(b->mid); free(b->added);
    free(b);
}

int bpe_vocab_size(const bpe *b) { return b ? b->n_ids : 0; }

const char *bpe_token_str(const bpe *b, int id) {
    if (!b || id < 0 || id >= b->n_ids || b->str_off[id] == UINT32_MAX) return NULL;
    return b->arena + b->str_off[id];
}

const char *bpe_token_bytes(const bpe *b, int id, size_t *len) {
    if (!b || id < 0 || id >= b->n_ids || b->str_off[id] == UINT32_MAX) return NULL;
    if (len) *len = b->byt_len[id];
    return b->arena + b->byt_off[id];
}

int bpe_token_id(const bpe *b, const char *s) { return b && s ? bpe_lookup(b, s, strlen(s)) : -1; }

int bpe_token_is_special(const bpe *b, int id) {
    return b && id >= 0 && id < b->n_ids && (b->attr[id] & BPE_ATTR_SPECIAL) != 0;
}

int bpe_token_is_added(const bpe *b, int id) {
    return b && id >= 0 && id < b->n_ids && (b->attr[id] & BPE_ATTR_ADDED) != 0;
}

const char *bpe_pre_regex(const char *pre) {
    if (!pre) return NULL;
    if (!strcmp(pre, "gpt2") || !strcmp(pre, "smollm")) return BPE_PAT_GPT2;
    if (!strcmp(pre, "llama-bpe") || !strcmp(pre, "llama3")) return BPE_PAT_LLAMA3;
    if (!strcmp(pre, "qwen2")) return BPE_PAT_QWEN2;
    return NULL;
}

int bpe_n_merges(const bpe *b) { return b ? b->n_merges : 0; }

int bpe_merge(const bpe *b, int rank, int *left, int *right) {
    if (!b || rank < 0 || rank >= b->n_merges) return RLVR_EARG;
    *left = b->merge_l[rank]; *right = b->merge_r[rank];
    return RLVR_OK;
}

int bpe_bos_id(const bpe *b) { return b ? b->bos_id : -1; }
int bpe_eos_id(const bpe *b) { return b ? b->eos_id : -1; }

int bpe_set_bos_eos(bpe *b, int bos, int eos) {
    if (!b || bos < -1 || bos >= b->n_ids || eos < -1 || eos >= b->n_ids) return RLVR_EARG;
    b->bos_id = bos; b->eos_id = eos;
    return RLVR_OK;
}
