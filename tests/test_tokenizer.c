/* test_tokenizer.c: byte-level BPE and chat templates against golden files made by
 * tests/ref/make_tokenizer_golden.py with HF tokenizers/transformers: exact ids for
 * every case, decode round trips, streaming decode, GGUF-style construction, hostile
 * tokenizer.json files, and chat rendering. */
#include <stdint.h>
#include <unistd.h>
#include <utf8proc.h>
#include "check.h"
#include "core/fs.h"
#include "tokenizer/bpe.h"
#include "tokenizer/chat.h"

#define DIR "tests/data/tokenizer/"

static int unhex(const char *h, size_t n, char *out) {
    if (n % 2) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (char)v;
    }
    out[n / 2] = 0;
    return (int)(n / 2);
}

typedef struct { char *text; int n; int parse_special; int *ids; int n_ids; } gcase;

/* Reads cases.txt: hex(input) TAB parse_special TAB ids. */
static int load_cases(const char *path, gcase **out) {
    char *buf; size_t n;
    rlvr_err err = {0};
    if (fs_read_all(path, 8 << 20, &buf, &n, &err)) { fprintf(stderr, "  %s\n", err.msg); return -1; }
    int cap = 0, nc = 0;
    gcase *c = NULL;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2) continue;
        if (nc == cap) { cap = cap ? 2 * cap : 64; c = realloc(c, cap * sizeof *c); }
        gcase *g = &c[nc++];
        g->text = malloc((size_t)(t1 - line) / 2 + 1);
        g->n = unhex(line, (size_t)(t1 - line), g->text);
        g->parse_special = atoi(t1 + 1);
        g->ids = malloc((strlen(t2) / 2 + 1) * sizeof *g->ids);
        g->n_ids = 0;
        for (char *p = t2 + 1; *p;) {
            char *e;
            long v = strtol(p, &e, 10);
            if (e == p) break;
            g->ids[g->n_ids++] = (int)v;
            p = e;
        }
    }
    free(buf);
    *out = c;
    return nc;
}

static void free_cases(gcase *c, int n) {
    for (int i = 0; i < n; i++) { free(c[i].text); free(c[i].ids); }
    free(c);
}

static void show_ids(const char *what, const int *ids, int n) {
    fprintf(stderr, "    %s (%d):", what, n);
    for (int i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, "\n");
}

/* Encodes every case and compares ids; decode and streaming round trips.
 * mode 0: decode(encode(s)) == s; 1: == NFC(s); 2: no round trip (text is removed). */
static int run_cases_at(const bpe *b, const char *path, const char *name, int nfc /* mode */) {
    gcase *cs;
    int nc = load_cases(path, &cs), pass = 0;
    CHECK(nc > 30, "%s: %d cases", path, nc);
    for (int i = 0; i < nc; i++) {
        gcase *g = &cs[i];
        int cap = g->n * 2 + 8, n_ids = -1;
        int *ids = malloc(cap * sizeof *ids);
        rlvr_err err = {0};
        int rc = bpe_encode(b, g->text, (size_t)g->n, g->parse_special, ids, cap, &n_ids, &err);
        int same = rc == 0 && n_ids == g->n_ids && !memcmp(ids, g->ids, n_ids * sizeof *ids);
        CHECK(same, "%s case %d (\"%.40s\", special=%d): rc %d %s", name, i, g->text, g->parse_special, rc, err.msg);
        if (!same) { show_ids("got", ids, n_ids); show_ids("want", g->ids, g->n_ids); }
        pass += same;
        /* decode(encode(s)) == s (NFC(s) for an NFC tokenizer) */
        size_t cap_out = (size_t)g->n * 4 + 64, n_out = 0;
        char *dec = malloc(cap_out);
        rc = bpe_decode(b, ids, n_ids, dec, cap_out, &n_out);
        char *want = g->text;
        size_t want_n = (size_t)g->n;
        utf8proc_uint8_t *norm = NULL;
        if (nfc == 1 && g->n) {
            utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)g->text, g->n, &norm,
                                              UTF8PROC_STABLE | UTF8PROC_COMPOSE);
            if (r >= 0) { want = (char *)norm; want_n = (size_t)r; }
        }
        CHECK(rc == 0 && (nfc == 2 || (n_out == want_n && !memcmp(dec, want, want_n))),
              "%s case %d: decode round trip", name, i);
        /* streaming decode == full decode, every chunk whole UTF-8 */
        bpe_stream st;
        bpe_stream_init(&st, b);
        char *acc = malloc(cap_out), chunk[512];
        size_t k = 0, nch;
        int ok = 1;
        for (int j = 0; j < n_ids && ok; j++) {
            ok = bpe_stream_push(&st, ids[j], chunk, sizeof chunk, &nch) == 0 && k + nch < cap_out;
            if (!ok) break;
            utf8proc_int32_t cp;
            for (size_t q = 0; q < nch;) {
                utf8proc_ssize_t r = utf8proc_iterate((const utf8proc_uint8_t *)chunk + q, nch - q, &cp);
                if (r <= 0) { ok = 0; break; }
                q += r;
            }
            memcpy(acc + k, chunk, nch); k += nch;
        }
        ok = ok && bpe_stream_flush(&st, chunk, sizeof chunk, &nch) == 0 && nch == 0;
        CHECK(ok && k == n_out && !memcmp(acc, dec, k), "%s case %d: streaming decode", name, i);
        free(acc); free(norm); free(dec); free(ids);
    }
    printf("     %s: %d/%d golden cases match\n", name, pass, nc);
    free_cases(cs, nc);
    return pass;
}

static int run_cases(const bpe *b, const char *name, int nfc) {
    char path[256];
    snprintf(path, sizeof path, DIR "%s/cases.txt", name);
    return run_cases_at(b, path, name, nfc);
}

static bpe *load(const char *name) {
    char path[256];
    snprintf(path, sizeof path, DIR "%s/tokenizer.json", name);
    bpe *b = NULL;
    rlvr_err err = {0};
    int rc = bpe_load_json(path, &b, &err);
    CHECK(rc == 0 && b, "load %s: %s", path, err.msg);
    return b;
}

static void test_smollm2(void) {
    bpe *b = load("smollm2");
    if (!b) return;
    CHECK(bpe_vocab_size(b) == 49152, "vocab %d", bpe_vocab_size(b));
    CHECK(bpe_n_merges(b) == 48900, "merges %d", bpe_n_merges(b));
    CHECK(bpe_token_id(b, "<|im_start|>") == 1, "im_start %d", bpe_token_id(b, "<|im_start|>"));
    CHECK(bpe_token_is_special(b, 2) && !bpe_token_is_special(b, 100), "special flags");
    CHECK(bpe_token_str(b, 1) && !strcmp(bpe_token_str(b, 1), "<|im_start|>"), "token_str");
    CHECK(bpe_token_str(b, -1) == NULL && bpe_token_str(b, 49152) == NULL, "token_str out of range");
    CHECK(bpe_token_id(b, "Ġthe") >= 0 && bpe_token_id(b, "no such token at all") == -1, "token_id");
    CHECK(bpe_eos_id(b) == 2, "eos %d", bpe_eos_id(b));
    run_cases(b, "smollm2", 0);

    /* cap too small: RLVR_EARG and the needed count */
    int ids[4], n_ids = 0;
    rlvr_err err = {0};
    CHECK(bpe_encode(b, "Hello world, hello again", 24, 1, ids, 2, &n_ids, &err) == RLVR_EARG && n_ids > 2,
          "small cap: n_ids %d", n_ids);
    CHECK(bpe_encode(b, "", 0, 1, ids, 0, &n_ids, &err) == 0 && n_ids == 0, "empty text");
    CHECK(bpe_encode(b, "ab\xff", 3, 1, ids, 4, &n_ids, &err) == RLVR_EARG && strstr(err.msg, "byte 2"),
          "invalid UTF-8: %s", err.msg);
    char out[8]; size_t n_out;
    int bad = 999999;
    CHECK(bpe_decode(b, &bad, 1, out, sizeof out, &n_out) == RLVR_EARG, "decode bad id");
    int hello[2] = {bpe_token_id(b, "Hello"), bpe_token_id(b, "Ġworld")};
    CHECK(bpe_decode(b, hello, 2, out, 4, &n_out) == RLVR_EARG && n_out == 11, "decode small cap %zu", n_out);

    /* long single pre-tokens (letters, spaces, punctuation) stay fast: heap merges,
     * no per-match UTF-8 rescans, JIT stack fallback */
    size_t big = 300000;
    int rc;
    char *txt = malloc(big);
    int *bid = malloc(big * sizeof *bid);
    const char fill[] = "a \n!";
    for (int f = 0; f < 4; f++) {
        memset(txt, fill[f], big);
        int nb = 0;
        rc = bpe_encode(b, txt, big, 1, bid, (int)big, &nb, &err);
        size_t nd = 0;
        char *back = malloc(big + 1);
        CHECK(rc == 0 && nb > 0 && bpe_decode(b, bid, nb, back, big + 1, &nd) == 0 && nd == big &&
              !memcmp(back, txt, big), "long run of '%c': rc %d %s", fill[f], rc, err.msg);
        free(back);
    }
    free(txt); free(bid);

    /* the same tokenizer built from GGUF-style parts gives the same ids */
    int n = bpe_vocab_size(b), nm = bpe_n_merges(b);
    const char **toks = malloc(n * sizeof *toks);
    int *types = malloc(n * sizeof *types);
    char **merges = malloc(nm * sizeof *merges);
    for (int i = 0; i < n; i++) { toks[i] = bpe_token_str(b, i); types[i] = bpe_token_is_special(b, i) ? 3 : 1; }
    for (int i = 0; i < nm; i++) {
        int l, r;
        bpe_merge(b, i, &l, &r);
        size_t a = strlen(bpe_token_str(b, l)), c = strlen(bpe_token_str(b, r));
        merges[i] = malloc(a + c + 2);
        snprintf(merges[i], a + c + 2, "%s %s", bpe_token_str(b, l), bpe_token_str(b, r));
    }
    bpe *g = NULL;
    rc = bpe_from_parts(toks, types, n, (const char *const *)merges, nm, "smollm", &g, &err);
    CHECK(rc == 0, "from_parts: %s", err.msg);
    if (g) {
        CHECK(bpe_set_bos_eos(g, 1, 2) == 0 && bpe_bos_id(g) == 1, "set bos");
        run_cases(g, "smollm2", 0);
        bpe_free(g);
    }
    CHECK(bpe_from_parts(toks, types, n, (const char *const *)merges, nm, "nope", &g, &err) == RLVR_EUNSUPPORTED &&
          g == NULL && strstr(err.msg, "nope"), "unknown pre: %s", err.msg);
    for (int i = 0; i < nm; i++) free(merges[i]);
    free(merges); free(types); free(toks);
    bpe_free(b);
}

static void test_small(void) {
    bpe *b = load("qwen2s");
    if (b) run_cases(b, "qwen2s", 1);
    bpe_free(b);
    b = load("llama3s");
    if (b) {
        CHECK(!bpe_token_is_special(b, bpe_token_id(b, "<think>")), "<think> is not special");
        run_cases(b, "llama3s", 0);
    }
    bpe_free(b);
}

/* One tiny tokenizer per Split behavior x invert, Digits contiguous, ByteLevel
 * add_prefix_space, String pattern. */
static void test_split_variants(void) {
    char *idx; size_t n;
    rlvr_err err = {0};
    if (fs_read_all(DIR "split/index.txt", 1 << 16, &idx, &n, &err)) { CHECK(0, "%s", err.msg); return; }
    int nv = 0;
    char *save;
    for (char *name = strtok_r(idx, "\n", &save); name; name = strtok_r(NULL, "\n", &save), nv++) {
        char path[256];
        bpe *b = NULL;
        snprintf(path, sizeof path, DIR "split/%s.json", name);
        CHECK(bpe_load_json(path, &b, &err) == 0, "%s", err.msg);
        if (!b) continue;
        snprintf(path, sizeof path, DIR "split/%s.txt", name);
        /* no round trip where text is removed or a prefix space added */
        int mode = strstr(name, "removed") || strstr(name, "prefix") || strstr(name, "digits") ? 2 : 0;
        run_cases_at(b, path, name, mode);
        bpe_free(b);
    }
    CHECK(nv == 13, "%d split variants", nv);
    free(idx);
}

/* A hostile tokenizer.json: the load fails with code and a message naming the fault. */
static void hostile(const char *json, int want_code, const char *want_msg) {
    char path[] = "/tmp/rlvr_tok_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { CHECK(0, "mkstemp"); return; }
    size_t n = strlen(json);
    CHECK(write(fd, json, n) == (ssize_t)n, "write");
    close(fd);
    bpe *b = (bpe *)1;
    rlvr_err err = {0};
    int rc = bpe_load_json(path, &b, &err);
    CHECK(rc == want_code && b == NULL && strstr(err.msg, want_msg) && strstr(err.msg, path),
          "rc %d (want %d), msg \"%s\" (want \"%s\")", rc, want_code, err.msg, want_msg);
    unlink(path);
}

#define BL "\"pre_tokenizer\":{\"type\":\"ByteLevel\"}"
#define VOC "\"vocab\":{\"a\":0,\"b\":1,\"ab\":2}"
static void test_hostile(void) {
    hostile("{\"model\":{\"type\":\"BPE\"," VOC ",\"merges\":[\"a b\"", RLVR_EFORMAT, "not valid JSON");
    hostile("{" BL "}", RLVR_EFORMAT, "\"model\" missing");
    hostile("[1,2]", RLVR_EFORMAT, "not an object");
    hostile("{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}," BL "}", RLVR_EUNSUPPORTED, "model.type");
    hostile("{\"model\":{\"type\":\"BPE\"," VOC ",\"merges\":[\"a c\"]}," BL "}", RLVR_EFORMAT, "model.merges[0]: token \"c\"");
    hostile("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[[\"a\",\"b\"]]}," BL "}",
            RLVR_EFORMAT, "merged token \"ab\"");
    hostile("{\"model\":{\"type\":\"BPE\"," VOC ",\"merges\":[\"a b c\"]}," BL "}", RLVR_EFORMAT, "not two tokens");
    hostile("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}," BL "}", RLVR_EFORMAT, "duplicate id 0");
    hostile("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":-3},\"merges\":[]}," BL "}", RLVR_EFORMAT, "model.vocab[\"b\"]");
    hostile("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1.5},\"merges\":[]}," BL "}", RLVR_EFORMAT, "not an integer");
    hostile("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":99999999},\"merges\":[]}," BL "}", RLVR_EFORMAT, "model.vocab[\"b\"]");
    hostile("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":5000},\"merges\":[]}," BL "}", RLVR_EFORMAT, "far beyond");
    hostile("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\xff\":1},\"merges\":[]}," BL "}", RLVR_EFORMAT, "not valid UTF-8");
    hostile("{\"model\":{\"type\":\"BPE\"," VOC ",\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
            "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(?<x\"},\"behavior\":\"Isolated\"},{\"type\":\"ByteLevel\"}]}}",
            RLVR_EFORMAT, "pre_tokenizer.pretokenizers[0].pattern: invalid regex");
    hostile("{\"model\":{\"type\":\"BPE\"," VOC ",\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Split\","
            "\"pattern\":{\"Regex\":\"a\"},\"behavior\":\"Sideways\"}}", RLVR_EFORMAT, "behavior");
    hostile("{\"model\":{\"type\":\"BPE\"," VOC ",\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Metaspace\"}}",
            RLVR_EUNSUPPORTED, "Metaspace");
    hostile("{\"model\":{\"type\":\"BPE\"," VOC ",\"merges\":[]},\"pre_tokenizer\":null}", RLVR_EUNSUPPORTED, "ByteLevel");
    hostile("{\"model\":{\"type\":\"BPE\"," VOC ",\"merges\":[]},\"normalizer\":{\"type\":\"Lowercase\"}," BL "}",
            RLVR_EUNSUPPORTED, "Lowercase");
    hostile("{\"model\":{\"type\":\"BPE\"," VOC ",\"merges\":[]},\"added_tokens\":[{\"id\":1,\"content\":\"zz\"}]," BL "}",
            RLVR_EFORMAT, "added_tokens[0]: duplicate id 1");
    hostile("{\"model\":{\"type\":\"BPE\"," VOC ",\"merges\":[]},\"added_tokens\":[{\"id\":3}]," BL "}",
            RLVR_EFORMAT, "added_tokens[0].content");
    hostile("{\"model\":{\"type\":\"BPE\"," VOC ",\"merges\":7}," BL "}", RLVR_EFORMAT, "model.merges missing or not an array");
    bpe *b = (bpe *)1;
    rlvr_err err = {0};
    CHECK(bpe_load_json("/nonexistent/tokenizer.json", &b, &err) == RLVR_EIO && b == NULL &&
          strstr(err.msg, "/nonexistent"), "missing file: %s", err.msg);

    /* a tiny valid file: Split Removed/invert, Digits contiguous, prefix space */
    char path[] = "/tmp/rlvr_tok_XXXXXX";
    int fd = mkstemp(path);
    const char *js = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"Ġ\":3,\"1\":4,\"2\":5,\"Ġab\":6,\",\":7},"
                     "\"merges\":[\"a b\",\"Ġ ab\"]},\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
                     "{\"type\":\"Split\",\"pattern\":{\"String\":\",\"},\"behavior\":\"Removed\"},"
                     "{\"type\":\"Digits\",\"individual_digits\":false},"
                     "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"use_regex\":false}]}}";
    CHECK(write(fd, js, strlen(js)) == (ssize_t)strlen(js), "write");
    close(fd);
    CHECK(bpe_load_json(path, &b, &err) == 0, "tiny: %s", err.msg);
    unlink(path);
    if (b) {
        int ids[16], n_ids;
        CHECK(bpe_encode(b, "ab,ab12", 7, 1, ids, 16, &n_ids, &err) == 0, "tiny encode: %s", err.msg);
        /* "ab" "ab12" -> " ab" | " ab" " 12"  */
        int want[] = {6, 6, 3, 4, 5};
        CHECK(n_ids == 5 && !memcmp(ids, want, sizeof want), "tiny ids (%d)", n_ids);
        bpe_free(b);
    }
    bpe_free(NULL);
}

static void test_chat(void) {
    static const char *const kinds[] = {"smollm2", "qwen2", "chatml", "llama3"};
    for (int i = 0; i < 4; i++) {
        char path[256], *jinja;
        snprintf(path, sizeof path, DIR "chat/%s.jinja", kinds[i]);
        rlvr_err err = {0};
        CHECK(fs_read_all(path, 1 << 20, &jinja, NULL, &err) == 0, "%s", err.msg);
        int kd = 0, kn = 0;
        CHECK(chat_template_detect(jinja, &kd, &err) == 0 && chat_template_by_name(kinds[i], &kn, &err) == 0 && kd == kn,
              "detect %s: %d vs %d %s", kinds[i], kd, kn, err.msg);
        CHECK(!strcmp(chat_template_name(kn), kinds[i]), "name");
        free(jinja);
    }
    int kind;
    rlvr_err err = {0};
    CHECK(chat_template_detect("{{ messages }}", &kind, &err) == RLVR_EUNSUPPORTED && strstr(err.msg, "chat_template=chatml"),
          "unknown template: %s", err.msg);
    CHECK(chat_template_by_name("vicuna", &kind, &err) == RLVR_ECONFIG, "unknown name");
    CHECK(!strcmp(chat_end_of_turn(CHAT_LLAMA3), "<|eot_id|>"), "eot");

    char *buf; size_t n;
    if (fs_read_all(DIR "chat/chat.txt", 1 << 20, &buf, &n, &err)) { CHECK(0, "%s", err.msg); return; }
    int cases = 0, pass = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char *f[64]; int nf = 0;
        for (char *p = line; p && nf < 64; ) { f[nf++] = p; p = strchr(p, '\t'); if (p) *p++ = 0; }
        if (nf < 4) continue;
        int nm = atoi(f[2]), gen = atoi(f[1]);
        if (nf != 4 + 2 * nm) { CHECK(0, "chat.txt: bad line"); continue; }
        chat_msg msgs[16];
        for (int i = 0; i < nm && i < 16; i++) {
            char *r = malloc(strlen(f[3 + 2 * i]) / 2 + 1), *c = malloc(strlen(f[4 + 2 * i]) / 2 + 1);
            unhex(f[3 + 2 * i], strlen(f[3 + 2 * i]), r); unhex(f[4 + 2 * i], strlen(f[4 + 2 * i]), c);
            msgs[i].role = r; msgs[i].content = c;
        }
        const char *hx = f[3 + 2 * nm];
        char *want = malloc(strlen(hx) / 2 + 1);
        int wn = unhex(hx, strlen(hx), want);
        CHECK(chat_template_by_name(f[0], &kind, &err) == 0, "%s", err.msg);
        char out[4096]; size_t no;
        int rc = chat_render(kind, msgs, nm, gen, out, sizeof out, &no, &err);
        int ok = rc == 0 && (int)no == wn && !memcmp(out, want, no);
        CHECK(ok, "chat %s case %d: rc %d\n got: %s\nwant: %s", f[0], cases, rc, out, want);
        size_t need;
        CHECK(chat_render(kind, msgs, nm, gen, out, 8, &need, &err) == RLVR_EARG && need == no, "chat small cap");
        pass += ok; cases++;
        for (int i = 0; i < nm && i < 16; i++) { free((char *)msgs[i].role); free((char *)msgs[i].content); }
        free(want);
    }
    free(buf);
    CHECK(cases >= 32, "chat cases %d", cases);
    printf("     chat: %d/%d renders match\n", pass, cases);
}

int main(void) {
    RUN(test_smollm2);
    RUN(test_small);
    RUN(test_split_variants);
    RUN(test_hostile);
    RUN(test_chat);
    return check_finish("test_tokenizer");
}
