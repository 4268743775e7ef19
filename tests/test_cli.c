/* test_cli: the rlvr binary as a user drives it: rlvr score on JSONL, rlvr data
 * determinism, --help on every command, config errors naming file and line, and bad
 * input stopping with its line number. Finds the binary next to this test's build
 * directory (build/tests/test_cli -> build/rlvr). */
#include <libgen.h>
#include <sys/wait.h>
#include <stdio.h>
#include <unistd.h>
#include "check.h"

static char rlvr[4096];

/* runs "rlvr ARGS" with `input` on stdin; returns the exit status, output in out */
static int run(const char *args, const char *input, char *out, size_t cap) {
    char tmp_in[] = "/tmp/rlvr_cli_in_XXXXXX";
    int fd = mkstemp(tmp_in);
    if (fd < 0) return -1;
    if (input && write(fd, input, strlen(input)) < 0) { close(fd); return -1; }
    close(fd);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s < %s 2>&1", rlvr, args, tmp_in);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, cap - 1, p) : 0;
    out[n] = 0;
    int st = p ? pclose(p) : -1;
    unlink(tmp_in);
    return st == -1 ? -1 : WEXITSTATUS(st);
}

static char buf[1 << 20], buf2[1 << 20];

static void test_score(void) {
    const char *in =
        "{\"completion\":\"so \\\\boxed{\\\\frac12}\",\"ground_truth\":\"0.5\",\"data_source\":\"math\"}\n"
        "{\"completion\":\"a:8;#8\",\"ground_truth\":\"8\",\"data_source\":\"arith\"}\n"
        "{\"completion\":\"<think>x</think><answer>3</answer>\",\"ground_truth\":\"4\"}\n";
    int rc = run("score reward=auto,format_think_answer:0.1", in, buf, sizeof buf);
    CHECK(rc == 0, "score exit %d: %s", rc, buf);
    CHECK(strstr(buf, "\"pred\":\"1/2\"") && strstr(buf, "records scored"), "math record scored: %s", buf);
    int right = 0;
    for (const char *p = buf; (p = strstr(p, "\"correct\":true")); p++) right++;
    CHECK(right == 2, "two of three records are right, got %d", right);
    CHECK(strstr(buf, "\"format_ok\":1"), "the format reward sees the think/answer record");
    rc = run("score reward=math", "{\"completion\":\"1\",\"ground_truth\":\"1\"}\n{\"x\":1}\n", buf, sizeof buf);
    CHECK(rc != 0 && strstr(buf, "line 2") && strstr(buf, "completion"), "a bad record stops the run naming its line: %s", buf);
    rc = run("score reward=nosuch", "", buf, sizeof buf);
    CHECK(rc != 0 && strstr(buf, "nosuch"), "unknown reward named: %s", buf);
}

static void test_data_deterministic(void) {
    int a = run("data arith n=20 difficulty=3 seed=7", "", buf, sizeof buf);
    int b = run("data arith n=20 difficulty=3 seed=7", "", buf2, sizeof buf2);
    CHECK(a == 0 && b == 0 && !strcmp(buf, buf2) && strlen(buf) > 100, "same seed, same data");
    run("data countdown n=3 seed=7", "", buf, sizeof buf);
    CHECK(strstr(buf, "\"data_source\":\"countdown\""), "countdown data: %.200s", buf);
    CHECK(run("data kk n=1 difficulty=12", "", buf, sizeof buf) == 2 && strstr(buf, "difficulty"), "out-of-range difficulty refused: %s", buf);
}

static void test_help_and_config_errors(void) {
    const char *cmds[] = {"sft", "train", "data arith", "generate", "inspect", "export", "score", "eval"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char args[64];
        snprintf(args, sizeof args, "%s --help", cmds[i]);
        CHECK(run(args, "", buf, sizeof buf) == 0 && strstr(buf, "usage:"), "%s --help: %s", cmds[i], buf);
    }
    char path[] = "/tmp/rlvr_cli_cfg_XXXXXX";
    int fd = mkstemp(path);
    const char *toml = "seed = 1\n[train]\nsteps = 2\nlr = \"fast\"\n";
    CHECK(fd >= 0 && write(fd, toml, strlen(toml)) > 0, "temp config");
    close(fd);
    char args[256];
    snprintf(args, sizeof args, "sft %s out_dir=", path);
    int rc = run(args, "", buf, sizeof buf);
    char where[300];
    snprintf(where, sizeof where, "%s:4", path);
    CHECK(rc == 2 && strstr(buf, where) && strstr(buf, "train.lr"), "type error names file:line and key: %s", buf);
    CHECK(run("sft train.stepz=3 out_dir=", "", buf, sizeof buf) == 2 && strstr(buf, "train.steps"), "typo suggests the key: %s", buf);
    unlink(path);
    CHECK(run("nosuchcommand", "", buf, sizeof buf) == 2, "unknown command exits 2");
}

/* batched generation from JSONL: one record per sample, the same samples whatever the
 * number of engine slots */
static void test_generate_jsonl(void) {
    char dir[] = "/tmp/rlvr_cli_gen_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char args[1024];
    snprintf(args, sizeof args, "sft model.dim=32 model.n_layers=1 model.hidden_dim=64 model.max_seq_len=64 train.steps=5 eval.n=0 out_dir=%s/m", dir);
    CHECK(run(args, "", buf, sizeof buf) == 0, "tiny sft: %s", buf);
    snprintf(args, sizeof args, "data arith n=4 seed=3 > %s/p.jsonl; true", dir);
    run(args, "", buf, sizeof buf);
    snprintf(args, sizeof args, "generate model=%s/m/model input=%s/p.jsonl n=3 temperature=1 max_new_tokens=12 slots=1 output=%s/a.jsonl", dir, dir, dir);
    CHECK(run(args, "", buf, sizeof buf) == 0, "generate slots=1: %s", buf);
    snprintf(args, sizeof args, "generate model=%s/m/model input=%s/p.jsonl n=3 temperature=1 max_new_tokens=12 slots=8 output=%s/b.jsonl", dir, dir, dir);
    CHECK(run(args, "", buf, sizeof buf) == 0, "generate slots=8: %s", buf);
    char pa[300], pb[300];
    snprintf(pa, sizeof pa, "%s/a.jsonl", dir);
    snprintf(pb, sizeof pb, "%s/b.jsonl", dir);
    FILE *fa = fopen(pa, "r"), *fb = fopen(pb, "r");
    size_t na = fa ? fread(buf, 1, sizeof buf - 1, fa) : 0, nb = fb ? fread(buf2, 1, sizeof buf2 - 1, fb) : 0;
    buf[na] = buf2[nb] = 0;
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    int lines = 0;
    for (size_t i = 0; i < na; i++) lines += buf[i] == '\n';
    CHECK(lines == 12, "4 prompts x 3 samples = 12 records, got %d", lines);
    CHECK(na > 0 && na == nb && !memcmp(buf, buf2, na), "the samples must not depend on the number of slots");
    CHECK(strstr(buf, "\"sample_idx\":2") && strstr(buf, "\"finish\""), "record fields: %.300s", buf);
    /* rlvr eval on the same model: a row per metric and difficulty, and a JSON report */
    snprintf(args, sizeof args, "eval model=%s/m/model problems=6 n=4 k=[1,4] difficulties=[1,2] max_new_tokens=12 out=%s/r.json", dir, dir);
    CHECK(run(args, "", buf, sizeof buf) == 0, "eval: %s", buf);
    CHECK(strstr(buf, "cot_pass") && strstr(buf, "maj") && strstr(buf, "@4"), "eval table: %s", buf);
    char rp[300];
    snprintf(rp, sizeof rp, "%s/r.json", dir);
    FILE *rf = fopen(rp, "r");
    size_t rn = rf ? fread(buf, 1, sizeof buf - 1, rf) : 0;
    buf[rn] = 0;
    if (rf) fclose(rf);
    CHECK(strstr(buf, "\"difficulties\"") && strstr(buf, "\"ci_lo\""), "eval report: %.300s", buf);
    CHECK(run("eval model=x k=[0]", "", buf, sizeof buf) == 2 && strstr(buf, "k=0"), "k outside 1..n refused: %s", buf);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    CHECK(system(args) == 0, "cleanup");
}

int main(int argc, char **argv) {
    char self[4096];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(rlvr, sizeof rlvr, "%s/../rlvr", dirname(self));
    if (access(rlvr, X_OK) != 0) { printf("FAIL: %s not built\n", rlvr); return 1; }
    RUN(test_score);
    RUN(test_data_deterministic);
    RUN(test_help_and_config_errors);
    RUN(test_generate_jsonl);
    return check_finish("test_cli");
}
