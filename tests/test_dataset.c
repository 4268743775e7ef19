/* test_dataset.c: JSONL dataset loader: every error path names file:line, CRLF, BOM,
 * blank lines, skip counting, passthrough columns, template, shuffle determinism and
 * split disjointness. Files are written to a temp directory. */
#include "check.h"
#include <stdlib.h>
#include <unistd.h>
#include "tasks/dataset.h"

static char dir[256];

static const char *write_file(const char *name, const char *text, size_t n) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    fwrite(text, 1, n, f);
    fclose(f);
    return path;
}

/* Loads text (as a file) and returns the status; *out freed by the caller. */
static int load(const char *text, size_t n, const dataset_params *p, dataset **d, dataset_stats *st, rlvr_err *err) {
    const char *path = write_file("t.jsonl", text, n);
    return dataset_load(path, p, d, st, err);
}
#define LOADS(text, p, d, st, err) load((text), sizeof(text) - 1, (p), (d), (st), (err))

static void test_basic(void) {
    dataset_params p = dataset_default_params();
    const char text[] =
        "{\"prompt\":\"What is 2+2?\",\"ground_truth\":\"4\",\"data_source\":\"math\",\"level\":3,\"tags\":[\"a\",1],\"note\":\"hi\"}\n"
        "{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"Q2\"}],\"ground_truth\":7}\n";
    dataset *d = NULL; dataset_stats st; rlvr_err err = {0};
    int rc = LOADS(text, &p, &d, &st, &err);
    CHECK(rc == 0, "%s", err.msg);
    CHECK(dataset_count(d) == 2, "n %d", dataset_count(d));
    const dataset_row *r = dataset_row_at(d, 0);
    CHECK(r && !strcmp(r->prompt, "What is 2+2?") && !strcmp(r->answer, "4") && !strcmp(r->data_source, "math"), "row0");
    CHECK(r && r->n_extra == 3, "extra %d", r ? r->n_extra : -1);
    if (r && r->n_extra == 3) {
        CHECK(!strcmp(r->extra[0].key, "level") && !strcmp(r->extra[0].val, "3"), "level %s", r->extra[0].val);
        CHECK(!strcmp(r->extra[1].key, "tags") && !strcmp(r->extra[1].val, "[\"a\",1]"), "tags %s", r->extra[1].val);
        CHECK(!strcmp(r->extra[2].val, "hi") && r->extra[2].val_n == 2, "note");
    }
    CHECK(r && r->line == 1, "line");
    r = dataset_row_at(d, 1);
    CHECK(r && r->n_messages == 2 && !strcmp(r->prompt, "Q2") && !strcmp(r->answer, "7") && !strcmp(r->data_source, ""), "row1");
    CHECK(r && r->line == 2 && r->n_extra == 0, "row1 line/extra");
    CHECK(dataset_row_at(d, 2) == NULL && dataset_row_at(d, -1) == NULL, "bounds");
    CHECK(st.n_lines == 2 && st.n_rows == 2 && !st.had_bom && st.n_crlf == 0 && st.n_blank == 0, "stats");
    dataset_free(d);
    dataset_free(NULL);
    CHECK(dataset_count(NULL) == 0, "count NULL");

    /* dotted answer key (verl layout) and the template */
    p.answer_key = "reward_model.ground_truth";
    p.template_str = "Q: {prompt}\nA:";
    const char t2[] = "{\"prompt\":\"hi\",\"reward_model\":{\"ground_truth\":\"x\",\"style\":\"rule\"},\"data_source\":\"s\"}";
    rc = LOADS(t2, &p, &d, &st, &err);
    CHECK(rc == 0, "%s", err.msg);
    r = dataset_row_at(d, 0);
    CHECK(r && !strcmp(r->prompt, "Q: hi\nA:") && r->prompt_n == 8 && !strcmp(r->answer, "x") && r->n_extra == 0, "dotted/template");
    CHECK(r && r->key == dataset_hash("hi", 2), "key is the raw prompt hash");
    dataset_free(d);
}

/* Each bad input must fail, naming the file and the physical line. */
static void expect_err(const char *what, const char *text, size_t n, const dataset_params *p, int code,
                       const char *line_tag, const char *needle) {
    dataset *d = (dataset *)1; rlvr_err err = {0};
    int rc = load(text, n, p, &d, NULL, &err);
    CHECK(rc == code, "%s: rc %d want %d (%s)", what, rc, code, err.msg);
    CHECK(d == NULL, "%s: out not NULL", what);
    if (d != (dataset *)1) dataset_free(d);
    CHECK(strstr(err.msg, "t.jsonl") && strstr(err.msg, line_tag), "%s: msg '%s' lacks %s", what, err.msg, line_tag);
    if (needle) CHECK(strstr(err.msg, needle) != NULL, "%s: msg '%s' lacks '%s'", what, err.msg, needle);
}
#define EXPECT(what, text, p, code, tag, needle) expect_err(what, text, sizeof(text) - 1, p, code, tag, needle)

static void test_errors(void) {
    dataset_params p = dataset_default_params();
    const char *ok = "{\"prompt\":\"a\",\"ground_truth\":\"1\"}\n";
    (void)ok;
    EXPECT("invalid json", "{\"prompt\":\"a\",\"ground_truth\":\"1\"}\n{\"prompt\":\"a\",}\n", &p, RLVR_EFORMAT, ":2:", "invalid JSON");
    EXPECT("byte offset", "{\"prompt\":\"a\",\"ground_truth\":\"1\"}\n{\"prompt\":x}\n", &p, RLVR_EFORMAT, ":2:", "byte offset 44");
    EXPECT("trailing", "{\"prompt\":\"a\",\"ground_truth\":\"1\"} x\n", &p, RLVR_EFORMAT, ":1:", "text after");
    EXPECT("two objects", "{\"prompt\":\"a\",\"ground_truth\":\"1\"}{\"prompt\":\"b\"}\n", &p, RLVR_EFORMAT, ":1:", "text after");
    EXPECT("not object", "[1,2]\n", &p, RLVR_EFORMAT, ":1:", "expected a JSON object");
    EXPECT("missing prompt", "{\"question\":\"a\",\"ground_truth\":\"1\"}\n", &p, RLVR_EFORMAT, ":1:", "missing field \"prompt\"");
    EXPECT("missing answer", "{\"prompt\":\"a\"}\n", &p, RLVR_EFORMAT, ":1:", "missing field \"ground_truth\"");
    EXPECT("prompt type", "{\"prompt\":5,\"ground_truth\":\"1\"}\n", &p, RLVR_EFORMAT, ":1:", "is a number, expected a string");
    EXPECT("answer type", "{\"prompt\":\"a\",\"ground_truth\":[1]}\n", &p, RLVR_EFORMAT, ":1:", "is an array");
    EXPECT("source type", "{\"prompt\":\"a\",\"ground_truth\":\"1\",\"data_source\":3}\n", &p, RLVR_EFORMAT, ":1:", "data_source");
    EXPECT("messages type", "{\"messages\":\"hi\",\"ground_truth\":\"1\"}\n", &p, RLVR_EFORMAT, ":1:", "expected an array");
    EXPECT("messages elem", "{\"messages\":[{\"role\":\"user\"}],\"ground_truth\":\"1\"}\n", &p, RLVR_EFORMAT, ":1:", "[0]");
    EXPECT("messages no user", "{\"messages\":[{\"role\":\"system\",\"content\":\"x\"}],\"ground_truth\":\"1\"}\n", &p, RLVR_EFORMAT, ":1:", "no \"user\"");
    EXPECT("messages empty", "{\"messages\":[],\"ground_truth\":\"1\"}\n", &p, RLVR_EFORMAT, ":1:", "empty");
    EXPECT("utf8", "{\"prompt\":\"a\",\"ground_truth\":\"1\"}\n{\"prompt\":\"\xC3\x28\",\"ground_truth\":\"1\"}\n", &p, RLVR_EFORMAT, ":2:", "invalid UTF-8");
    EXPECT("utf8 surrogate", "{\"prompt\":\"\xED\xA0\x80\",\"ground_truth\":\"1\"}\n", &p, RLVR_EFORMAT, ":1:", "column 12");
    EXPECT("utf8 overlong", "{\"prompt\":\"\xC0\xAF\",\"ground_truth\":\"1\"}\n", &p, RLVR_EFORMAT, ":1:", "UTF-8");
    EXPECT("nul", "{\"prompt\":\"a\0\",\"ground_truth\":\"1\"}\n", &p, RLVR_EFORMAT, ":1:", "NUL");
    EXPECT("bom mid", "{\"prompt\":\"a\",\"ground_truth\":\"1\"}\n\xEF\xBB\xBF{\"prompt\":\"a\",\"ground_truth\":\"1\"}\n", &p, RLVR_EFORMAT, ":2:", "BOM");
    EXPECT("lone cr line", "{\"prompt\":\"a\",\"ground_truth\":\"1\"}\r\n{\"prompt\":\"b\"\r\n", &p, RLVR_EFORMAT, ":2:", "invalid JSON");
    dataset_params q = p;
    q.max_line_bytes = 40;
    EXPECT("too long", "{\"prompt\":\"a\",\"ground_truth\":\"1\"}\n{\"prompt\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"ground_truth\":\"1\"}\n{}\n", &q, RLVR_EFORMAT, ":2:", "max_line_bytes");
    q = p;
    q.max_prompt_bytes = 4;
    EXPECT("prompt too long", "{\"prompt\":\"abcdef\",\"ground_truth\":\"1\"}\n", &q, RLVR_EFORMAT, ":1:", "max_prompt_bytes");
    q = p;
    q.template_str = "Q {prompt}";
    q.max_prompt_bytes = 3;
    EXPECT("template too long", "{\"prompt\":\"ab\",\"ground_truth\":\"1\"}\n", &q, RLVR_EFORMAT, ":1:", "max_prompt_bytes");
    q = p;
    q.template_str = "no placeholder";
    EXPECT("bad template", "{\"prompt\":\"ab\",\"ground_truth\":\"1\"}\n", &q, RLVR_ECONFIG, "t.jsonl", "{prompt}");
    q = p;
    q.prompt_key = NULL; q.messages_key = "";
    EXPECT("no keys", "{}\n", &q, RLVR_ECONFIG, "t.jsonl", "prompt_key");

    dataset *d = (dataset *)1; rlvr_err err = {0};
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope.jsonl", dir);
    CHECK(dataset_load(missing, &p, &d, NULL, &err) == RLVR_EIO && d == NULL && strstr(err.msg, "nope.jsonl"), "%s", err.msg);
}

static void test_crlf_bom_blank_skip(void) {
    dataset_params p = dataset_default_params();
    dataset *d = NULL; dataset_stats st; rlvr_err err = {0};
    const char t1[] = "\xEF\xBB\xBF{\"prompt\":\"a\",\"ground_truth\":\"1\"}\r\n\r\n  \n{\"prompt\":\"b\",\"ground_truth\":\"2\"}\r\n\n";
    int rc = LOADS(t1, &p, &d, &st, &err);
    CHECK(rc == 0, "%s", err.msg);
    CHECK(dataset_count(d) == 2, "n %d", dataset_count(d));
    CHECK(st.had_bom == 1 && st.n_crlf == 3 && st.n_blank == 3 && st.n_lines == 5, "bom %d crlf %ld blank %ld lines %ld",
          st.had_bom, st.n_crlf, st.n_blank, st.n_lines);
    CHECK(st.blank_lines[0] == 2 && st.blank_lines[1] == 3 && st.blank_lines[2] == 5, "blank lines");
    CHECK(dataset_row_at(d, 1) && dataset_row_at(d, 1)->line == 4 && !strcmp(dataset_row_at(d, 1)->answer, "2"), "row line");
    dataset_free(d);

    /* empty file, and no final newline */
    rc = load("", 0, &p, &d, &st, &err);
    CHECK(rc == 0 && dataset_count(d) == 0 && st.n_lines == 0, "empty");
    dataset_free(d);
    const char t3[] = "{\"prompt\":\"a\",\"ground_truth\":\"1\"}";
    rc = LOADS(t3, &p, &d, &st, &err);
    CHECK(rc == 0 && dataset_count(d) == 1, "no final newline");
    dataset_free(d);
    rc = dataset_load_mem("mem", t3, sizeof t3 - 1, &p, &d, &st, &err);
    CHECK(rc == 0 && dataset_count(d) == 1, "mem %s", err.msg);
    dataset_free(d);

    /* skip_bad: every skip counted with its line */
    p.skip_bad = 1;
    p.max_line_bytes = 64;
    char big[200];
    memset(big, 'x', sizeof big);
    char t4[1024];
    int n = snprintf(t4, sizeof t4,
        "{\"prompt\":\"a\",\"ground_truth\":\"1\"}\n"
        "not json\n"
        "{\"prompt\":\"\xFF\",\"ground_truth\":\"1\"}\n"
        "%.*s\n"
        "{\"prompt\":\"b\",\"ground_truth\":\"2\"}\n"
        "{\"ground_truth\":\"2\"}\n"
        "\n"
        "{\"prompt\":\"c\",\"ground_truth\":\"3\"}\n", 150, big);
    rc = load(t4, (size_t)n, &p, &d, &st, &err);
    CHECK(rc == 0, "%s", err.msg);
    CHECK(dataset_count(d) == 3 && st.n_rows == 3, "rows %d", dataset_count(d));
    CHECK(st.n_skipped == 4, "skipped %ld", st.n_skipped);
    CHECK(st.skipped_lines[0] == 2 && st.skipped_lines[1] == 3 && st.skipped_lines[2] == 4 && st.skipped_lines[3] == 6, "skip lines");
    CHECK(st.n_blank == 1 && st.blank_lines[0] == 7 && st.n_lines == 8, "blank");
    CHECK(strstr(st.first_skip_msg, "line 2") && strstr(st.first_skip_msg, "invalid JSON"), "%s", st.first_skip_msg);
    CHECK(dataset_row_at(d, 2) && dataset_row_at(d, 2)->line == 8, "line of last row");
    dataset_free(d);

    /* many skips: only the first 10 line numbers kept, all counted */
    char t5[4096]; size_t k = 0;
    for (int i = 0; i < 25; i++) k += (size_t)snprintf(t5 + k, sizeof t5 - k, "{bad\n");
    rc = load(t5, k, &p, &d, &st, &err);
    CHECK(rc == 0 && dataset_count(d) == 0 && st.n_skipped == 25 && st.skipped_lines[9] == 10, "25 skips");
    dataset_free(d);
}

static dataset *make_n(int n) {
    char *t = malloc((size_t)n * 64 + 1);
    size_t k = 0;
    for (int i = 0; i < n; i++) k += (size_t)sprintf(t + k, "{\"prompt\":\"p%d\",\"ground_truth\":\"%d\"}\n", i, i);
    dataset_params p = dataset_default_params();
    dataset *d = NULL; rlvr_err err = {0};
    if (dataset_load_mem("gen", t, k, &p, &d, NULL, &err)) fprintf(stderr, "%s\n", err.msg);
    free(t);
    return d;
}

static void test_shuffle_split(void) {
    dataset *a = make_n(200), *b = make_n(200);
    CHECK(a && b, "made");
    if (!a || !b) return;
    dataset_shuffle(a, 42); dataset_shuffle(b, 42);
    int same = 1, moved = 0;
    int seen[200] = {0};
    for (int i = 0; i < 200; i++) {
        same &= !strcmp(dataset_row_at(a, i)->prompt, dataset_row_at(b, i)->prompt);
        moved += dataset_row_at(a, i)->line != i + 1;
        seen[atoi(dataset_row_at(a, i)->answer)]++;
    }
    CHECK(same, "same seed same order");
    CHECK(moved > 150, "shuffled %d", moved);
    int perm = 1;
    for (int i = 0; i < 200; i++) perm &= seen[i] == 1;
    CHECK(perm, "a permutation");
    dataset_shuffle(b, 43);
    int diff = 0;
    for (int i = 0; i < 200; i++) diff += strcmp(dataset_row_at(a, i)->prompt, dataset_row_at(b, i)->prompt) != 0;
    CHECK(diff > 150, "other seed other order %d", diff);

    for (int mode = 0; mode < 2; mode++) {
        dataset *tr = NULL, *ev = NULL; rlvr_err err = {0};
        int rc = dataset_split(a, 0.2, mode, 7, &tr, &ev, &err);
        CHECK(rc == 0, "%s", err.msg);
        int nt = dataset_count(tr), ne = dataset_count(ev);
        CHECK(nt + ne == 200, "sizes %d+%d", nt, ne);
        if (mode == DATASET_SPLIT_FRACTION) CHECK(ne == 40, "eval %d", ne);
        else CHECK(ne > 20 && ne < 60, "hash eval %d", ne);
        int in[200] = {0};
        for (int i = 0; i < nt; i++) in[atoi(dataset_row_at(tr, i)->answer)] |= 1;
        for (int i = 0; i < ne; i++) in[atoi(dataset_row_at(ev, i)->answer)] |= 2;
        int disjoint = 1;
        for (int i = 0; i < 200; i++) disjoint &= in[i] == 1 || in[i] == 2;
        CHECK(disjoint, "mode %d disjoint and complete", mode);
        if (mode == DATASET_SPLIT_HASH) {
            /* order-independent: the unshuffled copy splits the same prompts to eval */
            dataset *tr2 = NULL, *ev2 = NULL;
            dataset_split(b, 0.2, mode, 7, &tr2, &ev2, &err);
            int in2[200] = {0}, agree = 1;
            for (int i = 0; i < dataset_count(ev2); i++) in2[atoi(dataset_row_at(ev2, i)->answer)] = 2;
            for (int i = 0; i < 200; i++) agree &= (in[i] == 2) == (in2[i] == 2);
            CHECK(agree, "hash split independent of order");
            dataset_free(tr2); dataset_free(ev2);
        }
        dataset_free(tr); dataset_free(ev);
    }
    dataset *ev = NULL; rlvr_err err = {0};
    CHECK(dataset_split(a, 1.5, 0, 0, NULL, &ev, &err) == RLVR_EARG, "bad frac");
    CHECK(dataset_split(a, 0.0, 0, 0, NULL, &ev, &err) == 0 && dataset_count(ev) == 0, "zero frac");
    dataset_free(ev);
    dataset_free(a); dataset_free(b);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/rlvr_test_dataset_XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    RUN(test_basic);
    RUN(test_errors);
    RUN(test_crlf_bom_blank_skip);
    RUN(test_shuffle_split);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {}
    return check_finish("test_dataset");
}
