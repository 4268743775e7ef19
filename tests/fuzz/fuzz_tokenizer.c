/* fuzz_tokenizer.c: libFuzzer target for the BPE tokenizer (src/tokenizer/bpe_*.c).
 *
 * Two modes, chosen by the first byte of the input:
 *  - '{': the input is a tokenizer.json. It is written to a per-process temp file in
 *    /tmp and loaded with bpe_load_json; when it loads, a fixed short string (ASCII,
 *    digits, UTF-8, an added token) is encoded with and without special tokens,
 *    decoded back, and streamed through bpe_stream; the vocabulary and merges are
 *    walked.
 *  - anything else: the input is text, encoded with two fixed small tokenizers from
 *    tests/data/tokenizer (llama3s: no normalizer; qwen2s: NFC). For llama3s,
 *    decode(encode(text)) must give the text back byte for byte (byte-level BPE with
 *    no normalizer is lossless), with and without parse_special, and the streaming
 *    decoder must produce the same bytes. Invalid UTF-8 must be refused with RLVR_EARG.
 * The tokenizer directory is FUZZ_TOK_DIR (set by run.sh at compile time) or the
 * environment variable RLVR_FUZZ_TOKDIR.
 * Any ASan/UBSan report or abort is a bug; RLVR_E* returns are fine.
 * Build and run: tests/fuzz/run.sh (docs/fuzzing.md). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "formats/safetensors.h"   /* st_utf8_valid */
#include "tokenizer/bpe.h"

#ifndef FUZZ_TOK_DIR
#define FUZZ_TOK_DIR "tests/data/tokenizer"
#endif

static char tmp_path[64];
static volatile uint64_t sink;
static bpe *tok_plain, *tok_nfc;   /* llama3s, qwen2s: loaded once */

static void cleanup(void) {
    if (tmp_path[0]) unlink(tmp_path);
    bpe_free(tok_plain);
    bpe_free(tok_nfc);
}

static bpe *load_fixed(const char *name) {
    const char *dir = getenv("RLVR_FUZZ_TOKDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/tokenizer.json", dir ? dir : FUZZ_TOK_DIR, name);
    bpe *b = NULL;
    rlvr_err err;
    if (bpe_load_json(path, &b, &err) != RLVR_OK) {
        fprintf(stderr, "fuzz_tokenizer: cannot load %s: %s\n", path, err.msg);
        abort();
    }
    return b;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    snprintf(tmp_path, sizeof tmp_path, "/tmp/rlvr_fuzz_tok_%ld.json", (long)getpid());
    tok_plain = load_fixed("llama3s");
    tok_nfc = load_fixed("qwen2s");
    atexit(cleanup);
    return 0;
}

static int write_tmp(const uint8_t *data, size_t size) {
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) { close(fd); return -1; }
        off += (size_t)w;
    }
    close(fd);
    return 0;
}

/* Encodes text with b; when lossless, checks decode and the stream decoder give the
 * text back. Returns the bpe_encode status. */
static int encode_check(const bpe *b, const char *text, size_t n, int parse_special, int lossless) {
    rlvr_err err;
    int n_ids = 0, cap = (int)n + 16;
    int *ids = malloc((size_t)cap * sizeof *ids);
    if (!ids) return RLVR_ENOMEM;
    int rc = bpe_encode(b, text, n, parse_special, ids, cap, &n_ids, &err);
    if (rc == RLVR_OK && n_ids > cap) abort();
    if (rc != RLVR_OK) { free(ids); return rc; }
    if (n == 0 && n_ids != 0) abort();
    if (lossless && n > 0 && n_ids == 0) abort();
    /* decode: first ask for the size with a too-small buffer */
    size_t need = 0;
    char small[1];
    int drc = bpe_decode(b, ids, n_ids, small, sizeof small, &need);
    if (drc == RLVR_OK && need != 0) abort();
    char *out = malloc(need + 1);
    size_t got = 0;
    if (!out || bpe_decode(b, ids, n_ids, out, need + 1, &got) != RLVR_OK) abort();
    if (got != need || out[got] != '\0') abort();
    if (lossless && (got != n || memcmp(out, text, n) != 0)) {
        fprintf(stderr, "fuzz_tokenizer: round trip differs (parse_special=%d): %zu bytes in, %zu out\n",
                parse_special, n, got);
        abort();
    }
    /* stream decoder: the concatenation equals bpe_decode's output */
    bpe_stream s;
    bpe_stream_init(&s, b);
    char *acc = malloc(got + 8), *piece = malloc(got + 8);   /* no piece exceeds the total */
    size_t n_acc = 0;
    for (int i = 0; acc && piece && i < n_ids; i++) {
        size_t k = 0;
        if (bpe_stream_push(&s, ids[i], piece, got + 8, &k) != RLVR_OK) abort();
        if (n_acc + k > got) abort();
        memcpy(acc + n_acc, piece, k);
        n_acc += k;
    }
    if (acc && piece) {
        size_t k = 0;
        if (bpe_stream_flush(&s, piece, got + 8, &k) != RLVR_OK) abort();
        if (n_acc + k != got) abort();
        memcpy(acc + n_acc, piece, k);
        if (memcmp(acc, out, got) != 0) abort();
    }
    free(acc);
    free(piece);
    free(out);
    free(ids);
    return RLVR_OK;
}

static void text_mode(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    size_t bad;
    int valid = st_utf8_valid(text, size, &bad);
    for (int ps = 0; ps < 2; ps++) {
        int rc = encode_check(tok_plain, text, size, ps, 1);
        if (valid ? rc != RLVR_OK : rc != RLVR_EARG) {
            fprintf(stderr, "fuzz_tokenizer: encode returned %d for %s UTF-8\n", rc, valid ? "valid" : "invalid");
            abort();
        }
        (void)encode_check(tok_nfc, text, size, ps, 0);
    }
}

static void json_mode(const uint8_t *data, size_t size) {
    if (write_tmp(data, size) != 0) return;
    bpe *b = NULL;
    rlvr_err err;
    if (bpe_load_json(tmp_path, &b, &err) != RLVR_OK) {
        if (b) abort();
        return;
    }
    static const char text[] = "Hello, world! It's 2024: 12345 caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x99\x82\n"
                               "  tabs\tand <|endoftext|><|im_start|>x";
    for (int ps = 0; ps < 2; ps++) (void)encode_check(b, text, sizeof text - 1, ps, 0);
    int V = bpe_vocab_size(b);
    for (int id = -1; id <= V; id++) {
        size_t len = 0;
        const char *s = bpe_token_str(b, id);
        const char *by = bpe_token_bytes(b, id, &len);
        if (s) { sink += strlen(s); (void)bpe_token_id(b, s); }
        if (by && len) sink += (unsigned char)by[len - 1];
        sink += bpe_token_is_special(b, id);
    }
    int nm = bpe_n_merges(b);
    for (int r = -1; r <= nm; r++) {
        int l, rr;
        if (bpe_merge(b, r, &l, &rr) == RLVR_OK && (l < 0 || l >= V || rr < 0 || rr >= V)) abort();
    }
    sink += (uint64_t)(bpe_bos_id(b) + bpe_eos_id(b));
    bpe_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 0 && data[0] == '{') json_mode(data, size);
    else text_mode(data, size);
    return 0;
}
