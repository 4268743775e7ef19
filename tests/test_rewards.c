/* test_rewards.c: the reward interface: registry lookups, the verifier wrappers (math,
 * arith, arith_process), composition (sum, gate, route) and its spec parser with its
 * errors, every shaping formula at its boundary lengths with exact values, and hostile
 * completions (10 MB, NUL bytes, invalid UTF-8) through every registered reward in
 * bounded time. */
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "check.h"
#include "tasks/chain.h"
#include "tasks/countdown.h"
#include "tasks/kk.h"
#include "tasks/strfn.h"
#include "rewards/reward.h"
#include "rewards/shaping.h"
#include "tasks/arith.h"

/* Time bounds are for optimised builds; sanitizer builds (ASAN=1) get 4x. */
#if defined(__SANITIZE_ADDRESS__)
#define TIME_SCALE 4.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TIME_SCALE 4.0
#endif
#endif
#ifndef TIME_SCALE
#define TIME_SCALE 1.0
#endif

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static reward_input input(const char *completion, const char *ref) {
    reward_input in;
    memset(&in, 0, sizeof in);
    in.completion = completion;
    in.completion_n = completion ? strlen(completion) : 0;
    in.reference = ref;
    in.reference_n = ref ? strlen(ref) : 0;
    in.n_tokens = -1;
    return in;
}

static reward_fn *make(const char *spec) {
    reward_fn *f = NULL;
    rlvr_err e = {0};
    int rc = reward_create(spec, &f, &e);
    CHECK(rc == RLVR_OK && f, "reward_create(%s): %s", spec, e.msg);
    return f;
}

/* Scores spec on in; returns the reward (NAN on error). */
static double score(const char *spec, const reward_input *in, reward_output *out) {
    reward_fn *f = make(spec);
    if (!f) return NAN;
    rlvr_err e = {0};
    reward_output tmp;
    if (!out) out = &tmp;
    int rc = reward_score(f, in, out, &e);
    CHECK(rc == RLVR_OK, "score(%s): %s", spec, e.msg);
    reward_free(f);
    return rc ? NAN : out->reward;
}

static double field(const reward_output *o, const char *name) {
    double v = NAN;
    CHECK(reward_output_get(o, name, &v), "field %s missing", name);
    return v;
}

static void test_registry(void) {
    static const char *const want[] = {"math", "arith", "arith_process", "auto", "countdown", "kk", "strfn", "strfn_process",
                                       "chain", "chain_step", "code", "format_think_answer",
                                       "format_think_answer_lenient", "overlong", "cosine_length",
                                       "length_budget", "length_budget_max", "group_length", "repetition",
                                       "ifeval", "ifeval_strict_all", "ifeval_loose_all"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const reward_fn *f = reward_registry_find(want[i]);
        CHECK(f && strcmp(f->name, want[i]) == 0 && f->score && !f->destroy, "find(%s)", want[i]);
        const reward_entry *e = reward_registry_entry(want[i]);
        CHECK(e && e->help && strlen(e->help) > 20 && e->make && e->dflt == f, "entry(%s)", want[i]);
    }
    CHECK(reward_registry_find("nope") == NULL, "unknown name");
    CHECK(reward_registry_find(NULL) == NULL, "NULL name");
    int n = reward_registry_list(NULL, 0);
    CHECK(n == (int)(sizeof want / sizeof want[0]), "list count %d", n);
    const char *names[64];
    int m = reward_registry_list(names, 64);
    CHECK(m == n, "list twice");
    for (int i = 0; i < m; i++)
        for (int j = i + 1; j < m; j++) CHECK(strcmp(names[i], names[j]) != 0, "duplicate name %s", names[i]);
    reward_free(NULL);
    reward_free((reward_fn *)reward_registry_find("math")); /* static: a no-op */
}

static void test_output_helpers(void) {
    reward_output o;
    reward_output_clear(&o);
    CHECK(o.correct == -1 && o.n_fields == 0 && o.pred[0] == 0, "clear");
    for (int i = 0; i < REWARD_MAX_FIELDS; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        CHECK(reward_output_set(&o, name, i) == 0, "set %d", i);
    }
    CHECK(reward_output_set(&o, "overflow", 1) == -1, "9th field refused");
    CHECK(reward_output_set(&o, "f3", 33) == 0 && field(&o, "f3") == 33, "overwrite");
    char longp[300];
    memset(longp, 'x', sizeof longp);
    memcpy(longp + REWARD_PRED_CAP - 2, "\xC3\xA9", 2); /* a 2-byte char across the cut */
    reward_output_pred(&o, longp, sizeof longp);
    CHECK(strlen(o.pred) == REWARD_PRED_CAP - 2, "pred cut before the split character: %zu", strlen(o.pred));
    o.correct = -1, o.reward = 0.5;
    CHECK(reward_output_correct(&o) == 1, "fallback: reward > 0");
    o.correct = 0;
    CHECK(reward_output_correct(&o) == 0, "explicit verdict wins");
}

static void test_math(void) {
    reward_output o;
    reward_input in = input("So the answer is \\boxed{42}.", "42");
    CHECK(score("math", &in, &o) == 1.0 && o.correct == 1 && field(&o, "acc") == 1 && strcmp(o.pred, "42") == 0,
          "math right: pred %s", o.pred);
    in = input("So the answer is \\boxed{41}.", "42");
    CHECK(score("math", &in, &o) == 0.0 && o.correct == 0 && field(&o, "extracted") == 1, "math wrong");
    CHECK(score("math[correct=1,wrong=-1]", &in, &o) == -1.0, "math dapo-style -1");
    in = input("The answer is 1/2", "\\frac{1}{2}");
    CHECK(score("math", &in, &o) == 1.0, "math 1/2");
    in = input("<think>\\boxed{42}</think>", "42");
    CHECK(score("math", &in, &o) == 0.0, "answer only inside think");
    CHECK(score("math[strip_think=0]", &in, &o) == 1.0, "strip_think=0 reads it");
    in = input("The answer is 42", "42");
    CHECK(score("math", &in, &o) == 1.0 && score("math[mode=boxed]", &in, &o) == 0.0, "boxed mode needs a box");
    /* no reference is a row error */
    in = input("\\boxed{1}", NULL);
    reward_fn *f = make("math");
    rlvr_err e = {0};
    CHECK(reward_score(f, &in, &o, &e) == RLVR_EARG && strstr(e.msg, "reference"), "no reference: %s", e.msg);
}

static void test_arith(void) {
    reward_output o;
    reward_input in = input("a:15;b:11;#11", "11");
    CHECK(score("arith", &in, &o) == 1.0 && o.correct == 1 && strcmp(o.pred, "11") == 0, "arith right");
    in = input("a:15;b:11;#12", "a:15;b:11;#11");
    CHECK(score("arith", &in, &o) == 0.0 && o.correct == 0 && strcmp(o.pred, "12") == 0, "arith wrong, gold from #");
    in = input("no hash here", "-7");
    CHECK(score("arith", &in, &o) == 0.0 && o.pred[0] == 0, "arith no answer");
    in = input("#-7", " -7 ");
    CHECK(score("arith", &in, &o) == 1.0, "negative gold, padded");
    in = input("#99999999999999999999", "1");
    CHECK(score("arith", &in, &o) == 0.0, "overflowing pred");
    reward_fn *f = make("arith");
    rlvr_err e = {0};
    in = input("#1", "one");
    CHECK(reward_score(f, &in, &o, &e) == RLVR_EARG && strstr(e.msg, "reference"), "bad gold: %s", e.msg);
}

/* A row of the arith task as the dataset loader would hand it over. */
typedef struct arith_row {
    char prompt[ARITH_TEXT_CAP], answer[ARITH_TEXT_CAP], gold[32], tmpl[8];
    char *trace;
    reward_kv kv[2];
} arith_row;

static int arith_row_make(int template_id, uint64_t index, arith_row *r) {
    arith_params p = arith_default_params();
    p.n_ops = 4;
    p.template_id = template_id;
    arith_problem prob;
    rlvr_err e = {0};
    if (arith_generate(&p, 7, index, &prob, &e)) return -1;
    char line[ARITH_JSONL_CAP];
    size_t n;
    if (arith_to_jsonl(&prob, line, sizeof line, &n, &e)) return -1;
    cJSON *j = cJSON_Parse(line);
    snprintf(r->prompt, sizeof r->prompt, "%s", cJSON_GetObjectItem(j, "prompt")->valuestring);
    snprintf(r->answer, sizeof r->answer, "%s", cJSON_GetObjectItem(j, "answer")->valuestring);
    snprintf(r->gold, sizeof r->gold, "%s", cJSON_GetObjectItem(j, "ground_truth")->valuestring);
    snprintf(r->tmpl, sizeof r->tmpl, "%d", template_id);
    r->trace = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "trace"));
    cJSON_Delete(j);
    r->kv[0] = (reward_kv){"trace", r->trace, strlen(r->trace)};
    r->kv[1] = (reward_kv){"template", r->tmpl, strlen(r->tmpl)};
    return 0;
}

static reward_input arith_input(const arith_row *r, const char *completion) {
    reward_input in = input(completion, r->gold);
    in.prompt = r->prompt;
    in.prompt_n = strlen(r->prompt);
    in.extra = r->kv;
    in.n_extra = 2;
    in.data_source = "arith";
    return in;
}

static void test_arith_process(void) {
    for (int t = 0; t < ARITH_N_TEMPLATES; t++)
        for (uint64_t idx = 0; idx < 5; idx++) {
            arith_row r;
            CHECK(arith_row_make(t, idx, &r) == 0, "row");
            reward_output o;
            reward_input in = arith_input(&r, r.answer);
            CHECK(score("arith_process", &in, &o) == 1.0 && field(&o, "process_ok") == 1, "gold trace t%d i%d: %s",
                  t, (int)idx, r.prompt);
            CHECK(score("gate(arith, arith_process:0.5)", &in, &o) == 1.5 && field(&o, "gate_open") == 1, "gate open");
            /* right final, one wrong step: digits of the first value line changed */
            char bad[ARITH_TEXT_CAP];
            snprintf(bad, sizeof bad, "%s", r.answer);
            char *sep = strchr(bad, t == ARITH_TEMPLATE_WORDS ? 's' : ':'); /* "a:15" / "a is 15" */
            if (t == ARITH_TEMPLATE_WORKED) sep = strchr(strchr(bad, ';') + 1, ':');
            if (t == ARITH_TEMPLATE_EXPR) sep = strchr(bad, '='); /* "5 * 3 = 15. " */
            CHECK(sep != NULL, "find value");
            char *d = sep;
            while (*d && !(*d >= '0' && *d <= '9')) d++;
            *d = *d == '9' ? '1' : (char)(*d + 1);
            in = arith_input(&r, bad);
            double pr = score("arith_process", &in, &o);
            CHECK(pr < 1.0 && pr >= 0.0 && field(&o, "process_ok") == 0, "wrong step: %g (%s)", pr, bad);
            CHECK(score("arith_process[mode=all]", &in, &o) == 0.0, "mode=all");
            CHECK(score("arith", &in, &o) == 1.0, "outcome still right");
            CHECK_CLOSE(score("gate(arith, arith_process:0.5)", &in, &o), 1.0 + 0.5 * pr, 1e-12, 0, "gated partial");
            /* wrong final: the gate stays closed, whatever the process score */
            char wrongf[ARITH_TEXT_CAP];
            snprintf(wrongf, sizeof wrongf, "%s", r.answer);
            char *h = strrchr(wrongf, '#');
            snprintf(h, sizeof wrongf - (size_t)(h - wrongf), "#%s9", r.gold);
            in = arith_input(&r, wrongf);
            CHECK(score("arith_process", &in, &o) > 0.0, "process partly right");
            CHECK(score("gate(arith, arith_process:0.5)", &in, &o) == 0.0 && field(&o, "gate_open") == 0 &&
                      field(&o, "process") > 0,
                  "gate closed");
            cJSON_free(r.trace);
        }
    /* rows without a trace, or with a broken one */
    reward_fn *f = make("arith_process");
    reward_output o;
    rlvr_err e = {0};
    reward_input in = input("a:1;#1", "1");
    CHECK(reward_score(f, &in, &o, &e) == RLVR_EARG && strstr(e.msg, "trace"), "no trace: %s", e.msg);
    reward_kv kv[1] = {{"trace", "[{\"var\":\"a\"}]", 13}};
    in.extra = kv, in.n_extra = 1;
    CHECK(reward_score(f, &in, &o, &e) == RLVR_EARG && strstr(e.msg, "step 0"), "bad trace: %s", e.msg);
    kv[0] = (reward_kv){"trace", "[{\"var\":\"a\",\"op\":\"+\",\"args\":[\"q\",\"1\"],\"value\":2}]", 52};
    kv[0].val_n = strlen(kv[0].val);
    CHECK(reward_score(f, &in, &o, &e) == RLVR_EARG && strstr(e.msg, "operand"), "unknown var: %s", e.msg);
}

static void test_composition(void) {
    reward_output o;
    reward_input in = input("<think>hmm</think>\n<answer>\\boxed{42}</answer>", "42");
    CHECK(score("math:1.0 + format_think_answer:0.1", &in, &o) == 1.0 + 0.1, "sum: %.17g", o.reward);
    CHECK(field(&o, "math") == 1 && field(&o, "format_think_answer") == 1 && field(&o, "acc") == 1 &&
              field(&o, "format_ok") == 1 && o.correct == 1 && strcmp(o.pred, "42") == 0,
          "sum fields");
    CHECK(score("0.5*math + 2*format_think_answer", &in, &o) == 2.5, "prefix weights");
    CHECK(score("(math + format_think_answer):2", &in, &o) == 4.0, "grouped weight");
    CHECK(score("math + -0.25*format_think_answer", &in, &o) == 0.75, "negative weight");
    CHECK(score("  math  ", &in, &o) == 1.0, "whitespace");
    CHECK(score("math:1e-1", &in, &o) == 0.1, "exponent weight");
    in = input("<think>hmm</think>\n<answer>\\boxed{41}</answer>", "42");
    CHECK(score("math:1.0 + format_think_answer:0.1", &in, &o) == 0.1 && o.correct == 0, "wrong + format");
    CHECK(score("gate(math, format_think_answer:0.5)", &in, &o) == 0.0 && field(&o, "process") == 0.5, "gate closed (process is weighted)");
    in = input("\\boxed{42}", "42");
    CHECK(score("gate(math, format_think_answer:0.5)", &in, &o) == 1.0, "gate open, process 0");
    /* a gate whose outcome is not a verifier uses reward > 0 */
    in = input("<think>a</think><answer>b</answer>", "42");
    CHECK(score("gate(format_think_answer, format_think_answer_lenient:0.5)", &in, &o) == 1.5, "gate by reward > 0");

    /* routing by data_source */
    const char *spec = "route(arith=arith, math=math, default=math[correct=2])";
    in = input("#42", "42");
    in.data_source = "arith";
    CHECK(score(spec, &in, &o) == 1.0 && field(&o, "acc") == 1, "route arith");
    in = input("\\boxed{42}", "42");
    in.data_source = "math";
    CHECK(score(spec, &in, &o) == 1.0, "route math");
    in.data_source = "openai/gsm8k";
    CHECK(score(spec, &in, &o) == 2.0, "route default");
    in.data_source = NULL;
    CHECK(score(spec, &in, &o) == 2.0, "route NULL source -> default");
    CHECK(score("route(openai/gsm8k=math[correct=3], default=math)", &(reward_input){
              .completion = "\\boxed{1}", .completion_n = 9, .reference = "1", .reference_n = 1,
              .data_source = "openai/gsm8k", .n_tokens = -1}, &o) == 3.0, "route key with / ");
    reward_fn *f = make("route(arith=arith)");
    rlvr_err e = {0};
    in.data_source = "math";
    CHECK(reward_score(f, &in, &o, &e) == RLVR_EARG && strstr(e.msg, "no route for data_source 'math'"), "%s", e.msg);
    reward_free(f);
    /* auto */
    in = input("#42", "42");
    in.data_source = "arith";
    CHECK(score("auto", &in, &o) == 1.0 && strcmp(o.pred, "42") == 0, "auto -> arith");
    in = input("\\boxed{42}", "42");
    CHECK(score("auto", &in, &o) == 1.0, "auto -> math");
    /* nested composites free cleanly (ASan) */
    f = make("route(arith=gate(arith, arith_process:0.5) + overlong[l_max=100], default=(math + "
             "format_think_answer_lenient):0.5 + repetition[ngram=2])");
    reward_free(f);
}

static void spec_error(const char *spec, const char *want1, const char *want2) {
    reward_fn *f = (reward_fn *)1;
    rlvr_err e = {0};
    int rc = reward_create(spec, &f, &e);
    CHECK(rc == RLVR_ECONFIG && f == NULL, "'%s' should fail (rc %d)", spec, rc);
    CHECK(strstr(e.msg, want1) != NULL, "'%s': message '%s' lacks '%s'", spec, e.msg, want1);
    if (want2) CHECK(strstr(e.msg, want2) != NULL, "'%s': message '%s' lacks '%s'", spec, e.msg, want2);
}

static void test_spec_errors(void) {
    spec_error("", "empty", NULL);
    spec_error("   ", "empty", NULL);
    spec_error("math + foo", "unknown reward 'foo'", "offset 7");
    spec_error("math +", "expected a reward name", "offset 6");
    spec_error("math:", "expected a number", "offset 5");
    spec_error("math:abc", "expected a number", "near 'abc'");
    spec_error("2*math:3", "weight given twice", "offset 6");
    spec_error("2 math", "expected '*'", "offset 2");
    spec_error("math extra", "unexpected text", "near 'extra'");
    spec_error("gate(math)", "gate takes exactly 2", "offset 0");
    spec_error("gate(math, math, math)", "gate takes exactly 2", NULL);
    spec_error("route(math)", "expected '='", "offset 10");
    spec_error("route(a=math, a=math)", "routed twice", "offset 14");
    spec_error("route(a=math", "expected ',' or ')'", "end of spec");
    spec_error("(math", "expected ')'", NULL);
    spec_error("math[mode=xyz]", "mode=xyz", "'math' at offset 0");
    spec_error("math[foo=1]", "unknown parameter 'foo'", "known: mode");
    spec_error("math[mode]", "expected '='", "offset 9");
    spec_error("math[mode=lenient", "expected ',' or ']'", NULL);
    spec_error("math[correct=1,correct=2]", "parameter given twice", NULL);
    spec_error("math[correct=abc]", "not a finite number", "correct");
    spec_error("math:1e999", "out of range", NULL);
    spec_error("overlong[l_max=10,l_cache=20]", "l_cache", NULL);
    spec_error("repetition[max_penalty=1]", "max_penalty", NULL);
    spec_error("repetition[ngram=0]", "ngram", NULL);
    spec_error("cosine_length[verifier=nope]", "unknown reward 'nope'", "verifier");
    spec_error("cosine_length[verifier=cosine_length]", "names itself", NULL);
    spec_error("length_budget[mode=soft]", "mode=soft", NULL);
    spec_error("ifeval[mode=fuzzy]", "mode=fuzzy", NULL);
    char deep[256] = "";
    for (int i = 0; i < 20; i++) strcat(deep, "(");
    strcat(deep, "math");
    for (int i = 0; i < 20; i++) strcat(deep, ")");
    spec_error(deep, "nesting too deep", NULL);
    char *big = malloc(REWARD_SPEC_MAX + 10);
    memset(big, ' ', REWARD_SPEC_MAX + 9);
    big[REWARD_SPEC_MAX + 9] = 0;
    spec_error(big, "longer than", NULL);
    free(big);
    rlvr_err e = {0};
    CHECK(reward_create(NULL, &(reward_fn *){NULL}, &e) == RLVR_EARG, "NULL spec");
    CHECK(reward_create("math", NULL, &e) == RLVR_EARG, "NULL out");
}

static void test_format(void) {
    const int S = SHAPING_FORMAT_STRICT, L = SHAPING_FORMAT_LENIENT;
    struct { const char *s; int strict, lenient, prefilled; } cases[] = {
        {"<think>a</think><answer>b</answer>", 1, 1, 0},
        {"\n<think>\na\n</think>\n\n<answer>\nb\n</answer>\n", 1, 1, 0},
        {"<think></think><answer></answer>", 1, 1, 0},
        {"x<think>a</think><answer>b</answer>", 0, 1, 0},
        {"<think>a</think>so<answer>b</answer>", 0, 1, 0},
        {"<think>a</think><answer>b</answer> trailing", 0, 1, 0},
        {"<think>a</think><answer>b</answer><answer>c</answer>", 0, 0, 0},
        {"<think>a<think>b</think><answer>c</answer>", 0, 0, 0},
        {"<answer>b</answer><think>a</think>", 0, 0, 0},
        {"<think>a<answer>b</think></answer>", 0, 0, 0},
        {"<think>a</think>", 0, 0, 0},
        {"<think>a</think><answer>b", 0, 0, 0},
        {"<THINK>a</THINK><answer>b</answer>", 0, 0, 0},
        {"", 0, 0, 0},
        {"<", 0, 0, 0},
        {"a</think><answer>b</answer>", 1, 1, 1},
        {"<think>a</think><answer>b</answer>", 0, 0, 1},
        {"a</think> x <answer>b</answer>", 0, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].s);
        CHECK(shaping_think_answer_ok(cases[i].s, n, S, cases[i].prefilled) == cases[i].strict, "strict %zu: %s", i,
              cases[i].s);
        CHECK(shaping_think_answer_ok(cases[i].s, n, L, cases[i].prefilled) == cases[i].lenient, "lenient %zu: %s", i,
              cases[i].s);
    }
    CHECK(shaping_think_answer_ok(NULL, 5, S, 0) == 0, "NULL text");
    /* a NUL byte inside the think block is just a byte */
    const char nul[] = "<think>a\0b</think><answer>c</answer>";
    CHECK(shaping_think_answer_ok(nul, sizeof nul - 1, S, 0) == 1, "NUL inside");
    reward_output o;
    reward_input in = input("<think>a</think> <answer>b</answer>", NULL);
    CHECK(score("format_think_answer", &in, &o) == 1.0 && field(&o, "format_ok") == 1, "registry strict");
    in = input("a</think> <answer>b</answer>", NULL);
    CHECK(score("format_think_answer", &in, &o) == 0.0, "not prefilled");
    CHECK(score("format_think_answer[prefilled=1,ok=0.5,bad=-1]", &in, &o) == 0.5, "prefilled param");
    in = input("junk", NULL);
    CHECK(score("format_think_answer_lenient[bad=-1]", &in, &o) == -1.0, "bad param");
}

static void test_overlong(void) {
    /* L_max 100, L_cache 20: buffer starts after 80 */
    struct { double len, want; } c[] = {{0, 0}, {79, 0}, {80, 0}, {81, -0.05}, {90, -0.5},
                                        {99, -0.95}, {100, -1}, {101, -1}, {1e9, -1}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        CHECK_CLOSE(shaping_overlong(c[i].len, 100, 20), c[i].want, 1e-15, 0, "overlong");
    CHECK(shaping_overlong(100, 100, 0) == 0 && shaping_overlong(101, 100, 0) == -1, "no buffer: a cliff");
    CHECK(shaping_overlong(50, 100, 200) == -0.5, "cache > l_max is clipped to l_max");
    /* DAPO's numbers: L_max 20480, L_cache 4096 */
    CHECK(shaping_overlong(16384, 20480, 4096) == 0 && shaping_overlong(18432, 20480, 4096) == -0.5, "DAPO");
    reward_output o;
    reward_input in = input("x", NULL);
    in.n_tokens = 90;
    CHECK(score("overlong[l_max=100,l_cache=20]", &in, &o) == -0.5 && field(&o, "len") == 90, "registry");
    CHECK(score("overlong[l_max=100,l_cache=20,factor=2]", &in, &o) == -1.0, "factor");
    in.max_tokens = 100; /* l_max from the input, l_cache = l_max / 5 = 20 */
    CHECK(score("overlong", &in, &o) == -0.5, "defaults from max_tokens");
    in.n_tokens = -1; /* unknown: bytes */
    in.completion = "0123456789", in.completion_n = 10;
    CHECK(score("overlong[l_max=10,l_cache=5]", &in, &o) == -1.0, "bytes when tokens unknown");
    reward_fn *f = make("overlong");
    rlvr_err e = {0};
    in.max_tokens = 0;
    CHECK(reward_score(f, &in, &o, &e) == RLVR_EARG && strstr(e.msg, "l_max"), "no l_max: %s", e.msg);
}

static void test_cosine(void) {
    shaping_cosine_params p = shaping_cosine_default_params();
    CHECK(p.r0_correct == 2 && p.rl_correct == 1 && p.r0_wrong == -10 && p.rl_wrong == 0 && p.r_exceed == -10,
          "Demystifying defaults");
    CHECK(shaping_cosine(1, 0, 1000, 0, &p) == 2.0, "correct at 0");
    CHECK_CLOSE(shaping_cosine(1, 500, 1000, 0, &p), 1.5, 1e-15, 0, "correct midpoint");
    CHECK_CLOSE(shaping_cosine(1, 250, 1000, 0, &p), 1.0 + 0.5 * (1.0 + cos(M_PI / 4)), 1e-15, 0, "correct quarter");
    CHECK_CLOSE(shaping_cosine(1, 999, 1000, 0, &p), 1.0 + 0.5 * (1.0 + cos(M_PI * 0.999)), 1e-15, 0, "correct near end");
    CHECK(shaping_cosine(1, 1000, 1000, 0, &p) == -10.0, "len == L_max exceeds");
    CHECK(shaping_cosine(1, 10, 1000, 1, &p) == -10.0, "truncated exceeds");
    CHECK(shaping_cosine(0, 0, 1000, 0, &p) == -10.0, "wrong at 0");
    CHECK_CLOSE(shaping_cosine(0, 500, 1000, 0, &p), -5.0, 1e-14, 0, "wrong midpoint");
    CHECK(shaping_cosine(0, -5, 1000, 0, &p) == -10.0, "negative len clamps");
    shaping_cosine_params r1 = {1.0, 0.5, -0.5, -1.0, -1.0}; /* open-r1 defaults */
    CHECK_CLOSE(shaping_cosine(1, 500, 1000, 0, &r1), 0.75, 1e-15, 0, "open-r1 correct mid");
    CHECK_CLOSE(shaping_cosine(0, 500, 1000, 0, &r1), -0.75, 1e-15, 0, "open-r1 wrong mid");
    reward_output o;
    reward_input in = input("\\boxed{42}", "42");
    in.n_tokens = 500;
    in.max_tokens = 1000;
    CHECK_CLOSE(score("cosine_length", &in, &o), 1.5, 1e-15, 0, "registry correct");
    CHECK(o.correct == 1 && field(&o, "acc") == 1 && strcmp(o.pred, "42") == 0, "verdict passed through");
    in.finish = REWARD_FINISH_LENGTH;
    CHECK(score("cosine_length", &in, &o) == -10.0, "finish=length");
    in.finish = REWARD_FINISH_STOP;
    in.reference = "41";
    CHECK_CLOSE(score("cosine_length[l_max=2000,r0_wrong=-1,rl_wrong=-0.5]", &in, &o),
                -0.5 + (-0.5) * 0.5 * (1 + cos(M_PI / 4)), 1e-15, 0, "params");
    in = input("#42", "42");
    in.data_source = "arith";
    in.n_tokens = 0;
    in.max_tokens = 10;
    CHECK(score("cosine_length", &in, &o) == 2.0, "auto verifier routes arith");
    CHECK(score("cosine_length[verifier=math]", &in, &o) == 2.0, "math reads the last number too");
    in.completion = "#41", in.completion_n = 3;
    CHECK(score("cosine_length[verifier=arith]", &in, &o) == -10.0, "explicit verifier, wrong");
}

static void test_budget_group(void) {
    CHECK_CLOSE(shaping_budget_exact(120, 100, 0.01), -0.2, 1e-15, 0, "exact over");
    CHECK_CLOSE(shaping_budget_exact(80, 100, 0.01), -0.2, 1e-15, 0, "exact under");
    CHECK(shaping_budget_exact(100, 100, 0.01) == 0, "exact on budget");
    CHECK(shaping_budget_hinge(80, 100, 0.01) == 0 && shaping_budget_hinge(100, 100, 0.01) == 0, "hinge under");
    CHECK_CLOSE(shaping_budget_hinge(120, 100, 0.01), -0.2, 1e-15, 0, "hinge over");
    CHECK(shaping_budget_max(1, 100, 100, 0.01, 0.5) == 0.5, "max on budget");
    CHECK(shaping_budget_max(1, 0, 100, 0.01, 0.5) == 1.0, "max clipped at 1");
    CHECK(shaping_budget_max(1, 150, 100, 0.01, 0.5) == 0.0, "max at 0 exactly");
    CHECK(shaping_budget_max(1, 200, 100, 0.01, 0.5) == 0.0, "max clipped at 0");
    CHECK_CLOSE(shaping_budget_max(1, 120, 100, 0.01, 0.5), 0.3, 1e-15, 0, "max inside");
    CHECK(shaping_budget_max(0, 0, 100, 0.01, 0.5) == 0.0, "max wrong");
    CHECK(shaping_group_length(1, 10, 10, 30) == 0.5 && shaping_group_length(1, 30, 10, 30) == -0.5, "group correct");
    CHECK(shaping_group_length(1, 20, 10, 30) == 0.0, "group mid");
    CHECK(shaping_group_length(0, 10, 10, 30) == 0.0 && shaping_group_length(0, 30, 10, 30) == -0.5, "group wrong");
    CHECK(shaping_group_length(1, 10, 10, 10) == 0.0, "group all equal");

    reward_output o;
    reward_input in = input("x", NULL);
    in.n_tokens = 120;
    reward_kv kv[1] = {{"budget", "100", 3}};
    in.extra = kv, in.n_extra = 1;
    CHECK_CLOSE(score("length_budget[alpha=0.01]", &in, &o), -0.2, 1e-15, 0, "budget column");
    CHECK_CLOSE(score("length_budget[alpha=0.01,budget=110]", &in, &o), -0.1, 1e-15, 0, "budget param wins");
    CHECK_CLOSE(score("length_budget[alpha=0.01,mode=hinge,budget=130]", &in, &o), 0.0, 0, 0, "hinge");
    kv[0] = (reward_kv){"max_len", "100", 3};
    CHECK_CLOSE(score("length_budget[alpha=0.01,budget_key=max_len]", &in, &o), -0.2, 1e-15, 0, "budget_key");
    reward_fn *f = make("length_budget");
    rlvr_err e = {0};
    CHECK(reward_score(f, &in, &o, &e) == RLVR_EARG && strstr(e.msg, "'budget'"), "no budget: %s", e.msg);
    kv[0] = (reward_kv){"budget", "lots", 4};
    CHECK(reward_score(f, &in, &o, &e) == RLVR_EARG && strstr(e.msg, "lots"), "bad budget: %s", e.msg);
    in = input("\\boxed{7}", "7");
    in.n_tokens = 120;
    kv[0] = (reward_kv){"budget", "100", 3};
    in.extra = kv, in.n_extra = 1;
    CHECK_CLOSE(score("length_budget_max[alpha=0.01]", &in, &o), 0.3, 1e-15, 0, "L1-Max registry");
    CHECK_CLOSE(score("math + length_budget[alpha=0.01]", &in, &o), 0.8, 1e-15, 0, "L1-Exact as a sum");

    /* group_length: lengths 10, 20, 30 (tokens), self = 0 */
    const char *texts[3] = {"\\boxed{7}", "\\boxed{7}", "\\boxed{8}"};
    size_t lens[3] = {9, 9, 9};
    int toks[3] = {10, 20, 30};
    reward_group g = {3, 0, texts, lens, toks};
    in = input(texts[0], "7");
    in.n_tokens = 10;
    in.group = &g;
    CHECK(score("group_length", &in, &o) == 0.5, "group shortest correct");
    g.self = 2, in.completion = texts[2], in.n_tokens = 30;
    CHECK(score("group_length", &in, &o) == -0.5, "group longest wrong");
    in.group = NULL;
    CHECK(score("group_length", &in, &o) == 0.0, "no group");
    g.self = 5;
    in.group = &g;
    f = make("group_length");
    CHECK(reward_score(f, &in, &o, &e) == RLVR_EARG, "bad group self");
}

static void test_repetition(void) {
    double r, rep;
    rlvr_err e = {0};
    const char *s = "a b c a b c"; /* trigrams abc bca cab abc: 3 distinct of 4 */
    CHECK(shaping_repetition(s, strlen(s), 3, -1.0, &r, &rep, &e) == RLVR_OK && r == -0.25 && rep == 0.25, "%g", r);
    s = "A b\tC\na  B c";
    CHECK(shaping_repetition(s, strlen(s), 3, -1.0, &r, &rep, &e) == RLVR_OK && r == -0.25, "case/space folded: %g", r);
    CHECK(shaping_repetition(s, strlen(s), 3, -0.5, &r, NULL, &e) == RLVR_OK && r == -0.125, "max_penalty scales");
    s = "x x x x";
    CHECK(shaping_repetition(s, strlen(s), 1, -1.0, &r, &rep, &e) == RLVR_OK && r == -0.75, "unigrams");
    s = "a b";
    CHECK(shaping_repetition(s, strlen(s), 3, -1.0, &r, &rep, &e) == RLVR_OK && r == 0 && rep == 0, "too short");
    CHECK(shaping_repetition("", 0, 3, -1.0, &r, &rep, &e) == RLVR_OK && r == 0, "empty");
    s = "one two three four five six";
    CHECK(shaping_repetition(s, strlen(s), 2, -1.0, &r, &rep, &e) == RLVR_OK && r == 0, "no repeats");
    s = "\xC3\x89T\xC3\x89 \xC3\xA9t\xC3\xA9"; /* ÉTÉ été: same unigram after lower-casing */
    CHECK(shaping_repetition(s, strlen(s), 1, -1.0, &r, &rep, &e) == RLVR_OK && r == -0.5, "Unicode lower: %g", r);
    s = "a\xC2\xA0" "a"; /* NBSP separates words */
    CHECK(shaping_repetition(s, strlen(s), 1, -1.0, &r, &rep, &e) == RLVR_OK && r == -0.5, "NBSP: %g", r);
    CHECK(shaping_repetition(s, strlen(s), 0, -1.0, &r, &rep, &e) == RLVR_EARG, "ngram 0");
    reward_output o;
    reward_input in = input("a b c a b c", NULL);
    CHECK(score("repetition", &in, &o) == -0.25 && field(&o, "repeated") == 0.25, "registry");
    CHECK(score("repetition[ngram=1,max_penalty=-0.05]", &in, &o) == -0.025, "params");
}

static void test_score_guards(void) {
    reward_output o;
    rlvr_err e = {0};
    const reward_fn *m = reward_registry_find("format_think_answer");
    reward_input in = input(NULL, NULL);
    in.completion_n = 3;
    CHECK(reward_score(m, &in, &o, &e) == RLVR_EARG, "NULL completion with length");
    in = input("x", NULL);
    in.n_extra = 2;
    CHECK(reward_score(m, &in, &o, &e) == RLVR_EARG, "NULL extra with count");
    CHECK(reward_score(NULL, &in, &o, &e) == RLVR_EARG, "NULL fn");
    CHECK(reward_score(m, NULL, &o, &e) == RLVR_EARG, "NULL input");
    CHECK(reward_score(m, &in, NULL, &e) == RLVR_EARG, "NULL output");
    in = input(NULL, NULL);
    CHECK(reward_score(m, &in, &o, &e) == RLVR_OK && o.reward == 0, "empty completion is fine");
    /* a non-finite reward is refused */
    reward_fn *f = make("length_budget[alpha=1e308,budget=0]");
    in = input("x", NULL);
    in.n_tokens = 1000000;
    CHECK(reward_score(f, &in, &o, &e) == RLVR_ENUMERIC || isfinite(o.reward), "huge alpha");
    reward_free(f);
    f = make("math:1e308 + math:1e308");
    in = input("\\boxed{1}", "1");
    CHECK(reward_score(f, &in, &o, &e) == RLVR_ENUMERIC && strstr(e.msg, "non-finite"), "inf sum: %s", e.msg);
    reward_free(f);
}

/* Every registered reward on hostile completions: returns OK (or a row error), in
 * bounded time. */
static void test_hostile(void) {
    const size_t N = (size_t)10 << 20;
    char *big = malloc(N);
    uint64_t x = 88172645463325252ULL;
    const char *names[64];
    int n_names = reward_registry_list(names, 64);
    static const char *const instr =
        "[{\"instruction_id\":\"length_constraints:number_words\",\"kwargs\":{\"relation\":\"at least\",\"num_words\":3}},"
        "{\"instruction_id\":\"keywords:existence\",\"kwargs\":{\"keywords\":[\"c++\",\"a.b\"]}},"
        "{\"instruction_id\":\"detectable_format:json_format\"},{\"instruction_id\":\"punctuation:no_comma\"}]";
    static const char *const trace = "[{\"var\":\"a\",\"op\":\"+\",\"args\":[\"1\",\"2\"],\"value\":3}]";
    reward_kv kv[3] = {{"instructions", instr, strlen(instr)}, {"trace", trace, strlen(trace)}, {"budget", "100", 3}};
    for (int kind = 0; kind < 10; kind++) {
        if (kind == 1 || kind == 3) continue; /* soup and tag spam: 1 MiB only */
        size_t n = kind < 5 ? N : ((size_t)1 << 20) - 1; /* 10 MB; just under IFEval's cap */
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            switch (kind % 5) {
            case 0: big[i] = (char)x; break;                                     /* random bytes, NULs */
            case 1: big[i] = "ab \n*<>#[]{}\"\\,."[x % 16]; break;                 /* punctuation soup */
            case 2: big[i] = (char)(0x80 | (x & 0x3f)); break;                    /* invalid UTF-8 */
            case 3: big[i] = "<think>"[i % 7]; break;                             /* tag spam */
            default: big[i] = (i % 2) ? ' ' : (char)('a' + x % 26); break;       /* 5M one-letter words */
            }
        }
        for (int r = 0; r < n_names; r++) {
            reward_input in = input(NULL, "42");
            in.completion = big, in.completion_n = n;
            in.prompt = "x:1;a=x+2;?", in.prompt_n = 11;
            in.extra = kv, in.n_extra = 3;
            in.n_tokens = 4096, in.max_tokens = 4096;
            in.data_source = "math";
            reward_output o;
            rlvr_err e = {0};
            const reward_fn *f = reward_registry_find(names[r]);
            double t0 = now_s();
            int rc = reward_score(f, &in, &o, &e);
            double dt = now_s() - t0;
            CHECK(rc == RLVR_OK || rc == RLVR_EARG, "%s on hostile %d: rc %d %s", names[r], kind, rc, e.msg);
            CHECK(dt < 2.0 * TIME_SCALE, "%s on hostile %d took %.2f s", names[r], kind, dt);
            CHECK(isfinite(o.reward), "%s finite", names[r]);
        }
    }
    free(big);
}

/* each built-in task's gold answer scores 1 through the "auto" route by data_source,
 * and another problem's answer does not */
static void auto_task_case(const char *ds, const char *answer, const char *gt, const char *wrong_answer) {
    const reward_fn *f = reward_registry_find("auto");
    reward_input in = {0};
    reward_output out;
    rlvr_err e = {0};
    in.data_source = ds, in.reference = gt, in.reference_n = strlen(gt), in.n_tokens = -1;
    in.completion = answer, in.completion_n = strlen(answer);
    CHECK(reward_score(f, &in, &out, &e) == 0 && out.reward == 1.0 && out.correct == 1, "%s gold: %s reward %g", ds, e.msg, out.reward);
    in.completion = wrong_answer, in.completion_n = strlen(wrong_answer);
    CHECK(reward_score(f, &in, &out, &e) == 0 && out.correct == 0, "%s other answer: %s correct %d", ds, e.msg, out.correct);
}

/* code[...] parameters: unknown or contradictory ones are refused by name; isolate=0
 * (the opt-in unisolated mode, no bubblewrap needed) scores, honours the timeout and
 * leaves no temp file behind. The isolated default is checked in test_sandbox.c. */
static void test_code_params(void) {
    spec_error("code[isolat=0]", "unknown parameter 'isolat'", "known: isolate");
    spec_error("code[isolate=2]", "isolate=2", NULL);
    spec_error("code[isolate=yes]", "not an integer", "isolate");
    spec_error("code[timeout=0]", "timeout=0", NULL);
    spec_error("code[cpu=-1]", "cpu=-1", NULL);
    spec_error("code[memory_mb=-5]", "memory_mb=-5", NULL);
    spec_error("code[isolate=0,memory_mb=256]", "needs isolate=1", NULL);
    spec_error("code[max_tests=0]", "max_tests=0", NULL);
    spec_error("code[python=python3]", "not an absolute path", NULL);
    reward_fn *f = make("code[timeout=3,cpu=2,memory_mb=256,max_tests=8,stop_on_fail=1]");
    CHECK(f && f != reward_registry_find("code") && f->state, "a parameterised code reward is its own instance");
    reward_free(f);

    char dir[] = "/tmp/rlvr_code_test_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char *saved = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", dir, 1);
    const char *ref = "[{\"input\": \"2 3\\n\", \"output\": \"5\\n\"}, {\"input\": \"10 -4\\n\", \"output\": \"6\\n\"}]";
    reward_input in = input("```python\na, b = map(int, input().split())\nprint(a + b)\n```", ref);
    reward_output out;
    CHECK(score("code[isolate=0]", &in, &out) == 1.0 && out.correct == 1, "isolate=0, right: %g", out.reward);
    CHECK(field(&out, "tests") == 2, "tests field");
    in = input("print(5)", ref);
    CHECK_CLOSE(score("code[isolate=0,memory_mb=0]", &in, &out), 0.5, 0, 0, "isolate=0, half right");
    /* runs in the caller's working directory: the unisolated mode really is unisolated */
    char cwd[1024], cref[1200];
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    snprintf(cref, sizeof cref, "[{\"input\": \"\", \"output\": \"%s\"}]", cwd);
    in = input("import os\nprint(os.getcwd())", cref);
    CHECK(score("code[isolate=0]", &in, &out) == 1.0, "isolate=0 runs in the caller's cwd");
    in = input("while True: pass", ref);
    double t0 = now_s();
    CHECK(score("code[isolate=0,timeout=0.5,stop_on_fail=1]", &in, &out) == 0.0, "loop scores 0");
    CHECK(now_s() - t0 < 3 * TIME_SCALE, "timeout=0.5 with stop_on_fail: %.2f s", now_s() - t0);
    DIR *d = opendir(dir);
    int left = 0;
    for (struct dirent *de; d && (de = readdir(d));) left += de->d_name[0] != '.';
    if (d) closedir(d);
    CHECK(left == 0, "%d temp files left in %s", left, dir);
    rmdir(dir);
    /* a TMPDIR that cannot take the file is an error naming it, not a 0 */
    setenv("TMPDIR", "/nonexistent/rlvr", 1);
    in = input("print(5)", ref);
    reward_fn *g = make("code[isolate=0]");
    rlvr_err e = {0};
    CHECK(g && reward_score(g, &in, &out, &e) == RLVR_EIO && strstr(e.msg, "/nonexistent/rlvr"), "bad TMPDIR: %s", e.msg);
    reward_free(g);
    if (saved) setenv("TMPDIR", saved, 1); else unsetenv("TMPDIR");
    free(saved);
}

static void test_task_rewards_via_auto(void) {
    rlvr_err e = {0};
    countdown_params cp = countdown_default_params();
    countdown_problem c1, c2;
    CHECK(countdown_generate(&cp, 1, 0, &c1, &e) == 0 && countdown_generate(&cp, 1, 1, &c2, &e) == 0, "%s", e.msg);
    auto_task_case("countdown", c1.answer, c1.ground_truth, c2.answer);
    kk_params kp = kk_default_params();
    kk_problem k1, k2;
    CHECK(kk_generate(&kp, 1, 0, &k1, &e) == 0 && kk_generate(&kp, 1, 1, &k2, &e) == 0, "%s", e.msg);
    auto_task_case("kk", k1.answer, k1.ground_truth, k2.answer);
    strfn_params sp = strfn_default_params();
    strfn_problem s1, s2;
    CHECK(strfn_generate(&sp, 1, 0, &s1, &e) == 0 && strfn_generate(&sp, 1, 1, &s2, &e) == 0, "%s", e.msg);
    auto_task_case("strfn", s1.answer, s1.ground_truth, s2.answer);
    chain_params hp = chain_default_params();
    chain_problem h1, h2;
    CHECK(chain_generate(&hp, 1, 0, &h1, &e) == 0 && chain_generate(&hp, 1, 1, &h2, &e) == 0, "%s", e.msg);
    auto_task_case("chain", h1.answer, h1.ground_truth, h2.answer);
}

int main(void) {
    RUN(test_registry);
    RUN(test_output_helpers);
    RUN(test_math);
    RUN(test_arith);
    RUN(test_arith_process);
    RUN(test_composition);
    RUN(test_spec_errors);
    RUN(test_format);
    RUN(test_overlong);
    RUN(test_cosine);
    RUN(test_budget_group);
    RUN(test_repetition);
    RUN(test_score_guards);
    RUN(test_hostile);
    RUN(test_task_rewards_via_auto);
    RUN(test_code_params);
    return check_finish("test_rewards");
}
