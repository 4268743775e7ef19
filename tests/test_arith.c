/* test_arith.c: the "arith" task: determinism, gold answers passing both checkers,
 * bounds, rejection of wrong finals and of right finals reached by wrong steps,
 * hostile completions, train/eval disjointness, and JSONL escaping (parsed back with
 * cJSON). */
#include <stdint.h>
#include <cjson/cJSON.h>
#include "check.h"
#include "tasks/arith.h"

static int gen(const arith_params *p, uint64_t seed, uint64_t index, arith_problem *out) {
    rlvr_err e = {0};
    int rc = arith_generate(p, seed, index, out, &e);
    CHECK(rc == RLVR_OK, "generate(seed %llu, index %llu): %s", (unsigned long long)seed,
          (unsigned long long)index, e.msg);
    return rc;
}

static int answer_ok(const arith_problem *p, const char *s, size_t n) {
    int ok = -1;
    CHECK(arith_check_answer(p, s, n, &ok) == RLVR_OK, "check_answer status");
    return ok;
}

static arith_trace_report trace(const arith_problem *p, const char *s) {
    arith_trace_report r;
    CHECK(arith_check_trace_report(p, s, strlen(s), &r) == RLVR_OK, "check_trace status");
    return r;
}

static int is_var(const arith_problem *p, char v, int before_step, long long *value) {
    for (int g = 0; g < p->n_given; g++)
        if (p->given[g].var == v) { *value = p->given[g].value; return 1; }
    for (int i = 0; i < before_step; i++)
        if (p->steps[i].var == v) { *value = p->steps[i].value; return 1; }
    return 0;
}

static void test_params(void) {
    arith_params p = arith_default_params();
    CHECK(p.n_ops == 1 && p.max_val == 99 && p.max_result == 999 && p.split == ARITH_SPLIT_TRAIN &&
          p.template_id == ARITH_TEMPLATE_COMPACT, "defaults");
    arith_problem pr;
    rlvr_err e = {0};
    arith_params bad[7];
    for (int i = 0; i < 7; i++) bad[i] = p;
    bad[0].n_ops = 0; bad[1].n_ops = ARITH_MAX_OPS + 1; bad[2].max_val = 0;
    bad[3].max_result = 5; bad[4].template_id = ARITH_N_TEMPLATES; bad[5].ops_mask = 0; bad[6].split = 7;
    for (int i = 0; i < 7; i++) {
        memset(&pr, 0x5a, sizeof pr);
        e.msg[0] = 0;
        CHECK(arith_generate(&bad[i], 1, 0, &pr, &e) == RLVR_EARG, "bad params %d accepted", i);
        CHECK(e.code == RLVR_EARG && strstr(e.msg, "arith") != NULL, "message: %s", e.msg);
        CHECK(pr.prompt[0] == 0 && pr.n_steps == 0, "out zeroed on error");
    }
    CHECK(arith_generate(NULL, 1, 0, &pr, NULL) == RLVR_EARG, "NULL params");
    CHECK(arith_generate(&p, 1, 0, NULL, NULL) == RLVR_EARG, "NULL out");
}

static void test_determinism(void) {
    arith_params p = arith_default_params();
    p.n_ops = 3;
    arith_problem a, b;
    for (uint64_t i = 0; i < 200; i++) {
        gen(&p, 7, i, &a);
        gen(&p, 7, i, &b);
        CHECK(memcmp(&a, &b, sizeof a) == 0, "index %llu not reproducible", (unsigned long long)i);
    }
    /* order independence: index 150 alone equals index 150 after the others */
    arith_problem c;
    gen(&p, 7, 150, &c);
    gen(&p, 7, 3, &a);
    gen(&p, 7, 150, &b);
    CHECK(memcmp(&b, &c, sizeof b) == 0, "order dependence");

    /* different indices, seeds and difficulties give different problems */
    int same_index = 0, same_seed = 0, same_ops = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        gen(&p, 7, i, &a);
        gen(&p, 7, i + 1, &b);
        same_index += strcmp(a.prompt, b.prompt) == 0;
        gen(&p, 8, i, &b);
        same_seed += strcmp(a.prompt, b.prompt) == 0;
        arith_params q = p;
        q.n_ops = 4;
        gen(&q, 7, i, &b);
        same_ops += strncmp(a.prompt, b.prompt, 6) == 0; /* no shared prefix structure */
    }
    CHECK(same_index == 0, "%d adjacent indices gave the same prompt", same_index);
    CHECK(same_seed == 0, "%d indices same under two seeds", same_seed);
    CHECK(same_ops < 20, "difficulty levels correlated: %d shared prefixes", same_ops);

    /* the template is surface only: same key, result and values */
    for (uint64_t i = 0; i < 100; i++) {
        arith_problem t[ARITH_N_TEMPLATES];
        for (int k = 0; k < ARITH_N_TEMPLATES; k++) {
            arith_params q = p;
            q.template_id = k;
            gen(&q, 11, i, &t[k]);
        }
        for (int k = 1; k < ARITH_N_TEMPLATES; k++) {
            CHECK(t[k].key == t[0].key && t[k].result == t[0].result, "template %d changed the problem", k);
            CHECK(memcmp(t[k].steps, t[0].steps, sizeof t[0].steps) == 0, "template %d changed steps", k);
            CHECK(strcmp(t[k].prompt, t[0].prompt) != 0 || k == ARITH_TEMPLATE_WORKED, "template %d same text", k);
        }
        CHECK(strcmp(t[ARITH_TEMPLATE_WORKED].answer, t[0].answer) != 0, "worked answer differs");
    }
}

/* 10k problems across difficulties, templates, op sets and given counts: the gold answer
 * passes both checks and every value respects the bounds and the chain structure. */
static void test_gold_and_bounds(void) {
    int n = 0, bad_out = 0, bad_proc = 0, bad_bounds = 0, bad_chain = 0, bad_len = 0;
    int max_atomic = 0, max_comp = 0, op_seen[4] = {0};
    const int masks[] = {ARITH_OP_ADD | ARITH_OP_SUB | ARITH_OP_MUL, ARITH_OP_DIV,
                         ARITH_OP_ADD | ARITH_OP_SUB | ARITH_OP_MUL | ARITH_OP_DIV, ARITH_OP_SUB};
    for (int d = 1; d <= 10; d++) {
        for (int k = 0; k < 1000; k++, n++) {
            arith_params p = arith_default_params();
            p.n_ops = d == 10 ? ARITH_MAX_OPS : d;
            p.template_id = k % ARITH_N_TEMPLATES;
            if (p.template_id == ARITH_TEMPLATE_EXPR && p.n_ops > ARITH_EXPR_MAX_OPS) p.n_ops = ARITH_EXPR_MAX_OPS;
            p.ops_mask = masks[(k / 3) % 4];
            p.n_given = (k / 12) % 6 == 5 ? ARITH_MAX_GIVEN : (k / 12) % 6 - 1; /* -1..3, 4 */
            p.split = (k / 72) % 3;
            if (k % 97 == 0) { p.max_val = 9999; p.max_result = 999999; }
            if (k % 89 == 0) { p.max_val = 1; p.max_result = 1; p.split = ARITH_SPLIT_ANY; }
            arith_problem pr;
            if (gen(&p, 2024, (uint64_t)k, &pr)) continue;
            int ok = answer_ok(&pr, pr.answer, strlen(pr.answer));
            arith_trace_report r = trace(&pr, pr.answer);
            if (!ok || !r.final_ok) bad_out++;
            if (!r.process_ok || r.steps_ok != pr.n_steps || r.extra || r.missing || r.wrong || r.malformed) {
                if (bad_proc++ < 3) fprintf(stderr, "  gold fails process check: %s | %s\n", pr.prompt, pr.answer);
            }
            if (pr.n_steps != p.n_ops || pr.n_ops != p.n_ops) bad_chain++;
            if (p.n_given >= 0 && pr.n_given != p.n_given) bad_chain++;
            if (pr.n_given < 0 || pr.n_given > 2 + (p.n_given > 2) * 2) bad_chain++;
            for (int g = 0; g < pr.n_given; g++)
                if (pr.given[g].value < 0 || pr.given[g].value > p.max_val) bad_bounds++;
            for (int i = 0; i < pr.n_steps; i++) {
                const arith_step *s = &pr.steps[i];
                long long v;
                if (s->value < 0 || s->value > p.max_result) bad_bounds++;
                if (s->lhs_var ? !is_var(&pr, s->lhs_var, i, &v) || v != s->lhs : (s->lhs < 0 || s->lhs > p.max_val))
                    bad_bounds++;
                if (s->rhs_var ? !is_var(&pr, s->rhs_var, i, &v) || v != s->rhs : (s->rhs < 0 || s->rhs > p.max_val))
                    bad_bounds++;
                long long want = s->op == '+' ? s->lhs + s->rhs : s->op == '-' ? s->lhs - s->rhs :
                                 s->op == '*' ? s->lhs * s->rhs : -1;
                if (s->op == '/') {
                    if (s->rhs < 1 || s->lhs % s->rhs) bad_bounds++;
                    else want = s->lhs / s->rhs;
                }
                if (want != s->value) bad_bounds++;
                int oi = s->op == '+' ? 0 : s->op == '-' ? 1 : s->op == '*' ? 2 : s->op == '/' ? 3 : -1;
                if (oi < 0 || !(p.ops_mask & (1 << oi))) bad_bounds++;
                else op_seen[oi]++;
                /* chain: step i reads step i-1, so the final depends on every step */
                if (i > 0 && s->lhs_var != pr.steps[i - 1].var && s->rhs_var != pr.steps[i - 1].var) bad_chain++;
                for (int j = 0; j < i; j++) if (pr.steps[j].var == s->var) bad_chain++;
                for (int g = 0; g < pr.n_given; g++) if (pr.given[g].var == s->var) bad_chain++;
            }
            if (pr.result != pr.steps[pr.n_steps - 1].value) bad_chain++;
            if (p.split == ARITH_SPLIT_EVAL && pr.key % ARITH_EVAL_BUCKETS != 0) bad_chain++;
            if (p.split == ARITH_SPLIT_TRAIN && pr.key % ARITH_EVAL_BUCKETS == 0) bad_chain++;
            /* lengths for a byte-level tiny model (default value ranges, compact text) */
            if (p.template_id == ARITH_TEMPLATE_COMPACT && p.max_val == 99 && p.n_given <= 2) {
                int len = (int)(strlen(pr.prompt) + strlen(pr.answer));
                if (d == 1 && len > max_atomic) max_atomic = len;
                if (d <= 6 && len > max_comp) max_comp = len;
            }
            if (strlen(pr.prompt) >= ARITH_TEXT_CAP || strlen(pr.answer) >= ARITH_TEXT_CAP) bad_len++;
        }
    }
    CHECK(n == 10000, "ran %d problems", n);
    CHECK(bad_out == 0, "%d gold answers fail the outcome check", bad_out);
    CHECK(bad_proc == 0, "%d gold answers fail the process check", bad_proc);
    CHECK(bad_bounds == 0, "%d values out of bounds or inconsistent", bad_bounds);
    CHECK(bad_chain == 0, "%d structure violations", bad_chain);
    CHECK(bad_len == 0, "%d texts too long", bad_len);
    CHECK(max_atomic <= 40, "atomic compact problem of %d bytes", max_atomic);
    CHECK(max_comp <= 150, "6-op compact problem of %d bytes", max_comp);
    for (int i = 0; i < 4; i++) CHECK(op_seen[i] > 500, "op %d drawn only %d times", i, op_seen[i]);
}

/* Degenerate problems make finals guessable: at the defaults, results of 0 and
 * identity constants (+0, -0, *0, *1, /1) are rare. */
static void test_not_degenerate(void) {
    int zero = 0, ident = 0, steps = 0, div_steps = 0, div_ident = 0;
    for (int k = 0; k < 4000; k++) {
        arith_params p = arith_default_params();
        p.n_ops = 1 + k % 6;
        if (k % 2) p.ops_mask |= ARITH_OP_DIV;
        arith_problem pr;
        if (gen(&p, 77, (uint64_t)k, &pr)) continue;
        for (int i = 0; i < pr.n_steps; i++, steps++) {
            const arith_step *s = &pr.steps[i];
            zero += s->value == 0;
            int c0 = !s->rhs_var && s->rhs == 0, c1 = !s->rhs_var && s->rhs == 1;
            int l0 = !s->lhs_var && s->lhs == 0, l1 = !s->lhs_var && s->lhs == 1;
            int id = (s->op == '+' && (c0 || l0)) || (s->op == '-' && c0) || (s->op == '*' && (c0 || c1 || l0 || l1)) ||
                     (s->op == '/' && c1);
            ident += id;
            if (s->op == '/') { div_steps++; div_ident += id; }
        }
    }
    if (getenv("ARITH_VERBOSE")) fprintf(stderr, "zero %d ident %d steps %d div %d/%d\n", zero, ident, steps, div_ident, div_steps);
    CHECK(zero * 100 < steps, "%d of %d step values are 0", zero, steps);
    CHECK(ident * 100 < steps, "%d of %d steps are identities", ident, steps);
    CHECK(div_steps > 500 && div_ident * 20 < div_steps, "division: %d identities of %d", div_ident, div_steps);
}

/* A fixed problem to build completions against: compact, 3 steps, one given. */
static void make_chain(arith_problem *pr, int template_id) {
    arith_params p = arith_default_params();
    p.n_ops = 3;
    p.n_given = 1;
    p.template_id = template_id;
    p.ops_mask = ARITH_OP_ADD;  /* every step strictly checkable and commutative */
    for (uint64_t i = 0;; i++) { /* one where no value repeats, so a swap is visibly wrong */
        gen(&p, 5, i, pr);
        const arith_step *s = pr->steps;
        if (s[0].value != s[1].value && s[1].value != s[2].value && s[0].value != s[2].value &&
            pr->given[0].value != s[0].value && s[0].value > 0)
            return;
    }
}

static void test_rejects_wrong(void) {
    arith_problem pr;
    make_chain(&pr, ARITH_TEMPLATE_COMPACT);
    const arith_step *s = pr.steps;
    char buf[1024];
    arith_trace_report r;

    snprintf(buf, sizeof buf, "%c:%lld;%c:%lld;%c:%lld;#%lld", s[0].var, s[0].value, s[1].var, s[1].value,
             s[2].var, s[2].value, pr.result);
    CHECK(strcmp(buf, pr.answer) == 0, "gold format: %s vs %s", buf, pr.answer);

    /* wrong final */
    snprintf(buf, sizeof buf, "%c:%lld;%c:%lld;%c:%lld;#%lld", s[0].var, s[0].value, s[1].var, s[1].value,
             s[2].var, s[2].value, pr.result + 1);
    CHECK(answer_ok(&pr, buf, strlen(buf)) == 0, "wrong final accepted");
    r = trace(&pr, buf);
    CHECK(r.steps_ok == 3 && !r.final_ok && !r.process_ok, "wrong final: process_ok %d", r.process_ok);

    /* right final reached with a wrong intermediate step */
    snprintf(buf, sizeof buf, "%c:%lld;%c:%lld;%c:%lld;#%lld", s[0].var, s[0].value + 1, s[1].var, s[1].value,
             s[2].var, s[2].value, pr.result);
    CHECK(answer_ok(&pr, buf, strlen(buf)) == 1, "right final rejected");
    r = trace(&pr, buf);
    CHECK(r.final_ok && !r.process_ok && r.steps_ok == 2 && r.wrong == 1, "wrong step: ok %d wrong %d proc %d",
          r.steps_ok, r.wrong, r.process_ok);
    int steps_ok = -1, process_ok = -1;
    CHECK(arith_check_trace(&pr, buf, strlen(buf), &steps_ok, &process_ok) == RLVR_OK && steps_ok == 2 &&
          process_ok == 0, "wrapper: %d %d", steps_ok, process_ok);

    /* right final with no working at all */
    snprintf(buf, sizeof buf, "#%lld", pr.result);
    r = trace(&pr, buf);
    CHECK(r.final_ok && !r.process_ok && r.missing == 3 && r.steps_ok == 0, "bare answer passes process");

    /* a step skipped */
    snprintf(buf, sizeof buf, "%c:%lld;%c:%lld;#%lld", s[0].var, s[0].value, s[2].var, s[2].value, pr.result);
    r = trace(&pr, buf);
    CHECK(!r.process_ok && r.missing == 1 && r.out_of_order == 1, "skip: missing %d ooo %d", r.missing,
          r.out_of_order);

    /* right values in the wrong order (the later one guessed before its input) */
    snprintf(buf, sizeof buf, "%c:%lld;%c:%lld;%c:%lld;#%lld", s[1].var, s[1].value, s[0].var, s[0].value,
             s[2].var, s[2].value, pr.result);
    r = trace(&pr, buf);
    CHECK(!r.process_ok && r.out_of_order == 1 && r.steps_ok == 3, "order: ooo %d", r.out_of_order);

    /* an extra line for an unknown variable; a repeated line; a given restated */
    char unknown = 'a';
    long long tmp;
    while (is_var(&pr, unknown, 3, &tmp)) unknown++;
    snprintf(buf, sizeof buf, "%c:1;%c:%lld;%c:%lld;%c:%lld;#%lld", unknown, s[0].var, s[0].value, s[1].var,
             s[1].value, s[2].var, s[2].value, pr.result);
    r = trace(&pr, buf);
    CHECK(!r.process_ok && r.extra == 1, "unknown var: extra %d", r.extra);
    snprintf(buf, sizeof buf, "%c:%lld;%c:%lld;%c:%lld;%c:%lld;#%lld", s[0].var, s[0].value, s[0].var,
             s[0].value, s[1].var, s[1].value, s[2].var, s[2].value, pr.result);
    r = trace(&pr, buf);
    CHECK(!r.process_ok && r.extra == 1, "repeat: extra %d", r.extra);
    snprintf(buf, sizeof buf, "%c:%lld;%s", pr.given[0].var, pr.given[0].value, pr.answer);
    r = trace(&pr, buf);
    CHECK(r.process_ok, "restating a given with its value should be tolerated");
    snprintf(buf, sizeof buf, "%c:%lld;%s", pr.given[0].var, pr.given[0].value + 1, pr.answer);
    r = trace(&pr, buf);
    CHECK(!r.process_ok && r.extra == 1, "given restated wrong: extra %d", r.extra);

    /* whitespace between lines and text after the final are tolerated */
    snprintf(buf, sizeof buf, " %c:%lld;\n%c:%lld; %c:%lld;\n#%lld\n<eos>junk", s[0].var, s[0].value, s[1].var,
             s[1].value, s[2].var, s[2].value, pr.result);
    r = trace(&pr, buf);
    CHECK(r.process_ok, "whitespace rejected");
    /* the first '#' decides: a later right guess does not count */
    snprintf(buf, sizeof buf, "%s", pr.answer);
    snprintf(strchr(buf, '#'), 64, "#%lld#%lld", pr.result + 1, pr.result);
    CHECK(answer_ok(&pr, buf, strlen(buf)) == 0, "second guess counted");
    /* malformed text before the final */
    snprintf(buf, sizeof buf, "%c:%lld;%c=%lld;#%lld", s[0].var, s[0].value, s[1].var, s[1].value, pr.result);
    r = trace(&pr, buf);
    CHECK(r.malformed && !r.process_ok && r.final_ok, "malformed: %d", r.malformed);

    /* words template */
    make_chain(&pr, ARITH_TEMPLATE_WORDS);
    s = pr.steps;
    r = trace(&pr, pr.answer);
    CHECK(r.process_ok, "words gold: %s", pr.answer);
    snprintf(buf, sizeof buf, "%c is %lld. %c is %lld. %c is %lld. #%lld", s[0].var, s[0].value, s[1].var,
             s[1].value + 2, s[2].var, s[2].value, pr.result);
    r = trace(&pr, buf);
    CHECK(r.final_ok && !r.process_ok && r.wrong == 1, "words wrong step accepted");
    snprintf(buf, sizeof buf, "%c:%lld;%c:%lld;%c:%lld;#%lld", s[0].var, s[0].value, s[1].var, s[1].value,
             s[2].var, s[2].value, pr.result);
    r = trace(&pr, buf);
    CHECK(r.malformed && !r.process_ok, "compact text passes the words template");

    /* worked template: the value is right but the substituted working is not */
    make_chain(&pr, ARITH_TEMPLATE_WORKED);
    s = pr.steps;
    CHECK(trace(&pr, pr.answer).process_ok, "worked gold: %s", pr.answer);
    snprintf(buf, sizeof buf, "%c=%lld+%lld;%c:%lld;%c=%lld+%lld;%c:%lld;%c=%lld+%lld;%c:%lld;#%lld",
             s[0].var, s[0].lhs + 1, s[0].rhs, s[0].var, s[0].value, s[1].var, s[1].lhs, s[1].rhs, s[1].var,
             s[1].value, s[2].var, s[2].lhs, s[2].rhs, s[2].var, s[2].value, pr.result);
    r = trace(&pr, buf);
    CHECK(r.final_ok && !r.process_ok && r.steps_ok == 2, "wrong working accepted: ok %d", r.steps_ok);
    /* commuted operands of + are the same working */
    snprintf(buf, sizeof buf, "%c=%lld+%lld;%c:%lld;%c=%lld+%lld;%c:%lld;%c=%lld+%lld;%c:%lld;#%lld",
             s[0].var, s[0].rhs, s[0].lhs, s[0].var, s[0].value, s[1].var, s[1].lhs, s[1].rhs, s[1].var,
             s[1].value, s[2].var, s[2].lhs, s[2].rhs, s[2].var, s[2].value, pr.result);
    CHECK(trace(&pr, buf).process_ok, "commuted + rejected");
    /* value lines without working */
    snprintf(buf, sizeof buf, "%c:%lld;%c:%lld;%c:%lld;#%lld", s[0].var, s[0].value, s[1].var, s[1].value,
             s[2].var, s[2].value, pr.result);
    r = trace(&pr, buf);
    CHECK(!r.process_ok && r.steps_ok == 0, "worked template without working accepted");
}

/* Hostile completions: no crash, no UB (run under ASAN=1), never correct. */
static void test_garbage(void) {
    arith_problem pr;
    arith_params p = arith_default_params();
    p.n_ops = 2;
    gen(&p, 3, 0, &pr);
    arith_trace_report r;
    int ok;

    CHECK(answer_ok(&pr, NULL, 0) == 0, "NULL empty");
    CHECK(answer_ok(&pr, "", 0) == 0, "empty");
    CHECK(arith_check_trace_report(&pr, NULL, 0, &r) == RLVR_OK && !r.process_ok && r.missing == 2, "NULL trace");
    CHECK(arith_check_answer(&pr, NULL, 5, &ok) == RLVR_EARG, "NULL with n");
    CHECK(arith_check_answer(NULL, "#1", 2, &ok) == RLVR_EARG && ok == 0, "NULL problem");
    CHECK(arith_check_trace_report(&pr, "#1", 2, NULL) == RLVR_EARG, "NULL report");

    const char *bad[] = {"no hash here", "#", "#-", "#+5", "# 5", "##", "-#", "\xff\xfe#\xc3\x28", "#\xe2\x82",
                         "a:", "a:;", "a:99999999999999999999999999;", "a=", "\x80\x81\x82\x83"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i]);
        char *exact = malloc(n ? n : 1); /* not NUL-terminated: ASan catches any over-read */
        memcpy(exact, bad[i], n);
        ok = -1;
        CHECK(arith_check_answer(&pr, exact, n, &ok) == RLVR_OK && ok == 0, "garbage %zu accepted", i);
        CHECK(arith_check_trace_report(&pr, exact, n, &r) == RLVR_OK && !r.process_ok, "garbage %zu process", i);
        free(exact);
    }

    /* int64 overflow, including values that would wrap to the right answer */
    char buf[128];
    snprintf(buf, sizeof buf, "#%llu", 18446744073709551615ULL); /* 2^64 - 1 */
    CHECK(answer_ok(&pr, buf, strlen(buf)) == 0, "2^64-1");
    snprintf(buf, sizeof buf, "#18446744073709551616%lld", pr.result); /* huge, ends in the answer */
    CHECK(answer_ok(&pr, buf, strlen(buf)) == 0, "huge accepted");
    snprintf(buf, sizeof buf, "#18446744073709%06llu", 551616ULL + (unsigned long long)pr.result); /* 2^64 + result */
    CHECK(answer_ok(&pr, buf, strlen(buf)) == 0, "wrapping value accepted: %s", buf);
    CHECK(answer_ok(&pr, "#9223372036854775807", 20) == 0, "int64 max");
    CHECK(answer_ok(&pr, "#9223372036854775808", 20) == 0, "int64 max + 1");
    CHECK(answer_ok(&pr, "#-9223372036854775808", 21) == 0, "int64 min");
    snprintf(buf, sizeof buf, "#%lld", -pr.result - 1);
    CHECK(answer_ok(&pr, buf, strlen(buf)) == 0, "negative");
    /* an embedded NUL before the answer is a byte like any other */
    snprintf(buf, sizeof buf, "x#%lld", pr.result);
    buf[0] = 0;
    CHECK(answer_ok(&pr, buf, strlen(buf + 1) + 1) == 1, "an embedded NUL is an ordinary byte");
    /* leading zeros are the same number */
    snprintf(buf, sizeof buf, "#000%lld", pr.result);
    CHECK(answer_ok(&pr, buf, strlen(buf)) == 1, "leading zeros");

    /* 1 MB of text: random bytes, digits after '#', and a valid-looking endless trace */
    size_t big = 1 << 20;
    char *m = malloc(big);
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < big; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; m[i] = (char)(x & 0xff); }
    CHECK(arith_check_answer(&pr, m, big, &ok) == RLVR_OK, "1 MB random");
    CHECK(arith_check_trace_report(&pr, m, big, &r) == RLVR_OK && !r.process_ok, "1 MB random trace");
    m[0] = '#';
    memset(m + 1, '7', big - 1);
    CHECK(arith_check_answer(&pr, m, big, &ok) == RLVR_OK && ok == 0, "1 MB digits");
    CHECK(arith_check_trace_report(&pr, m, big, &r) == RLVR_OK && !r.process_ok, "1 MB digits trace");
    for (size_t i = 0; i + 5 <= big; i += 5) memcpy(m + i, "q:12;", 5);
    for (size_t i = big - big % 5; i < big; i++) m[i] = 'q';
    CHECK(arith_check_trace_report(&pr, m, big, &r) == RLVR_OK && !r.process_ok && !r.final_ok, "1 MB lines");
    memset(m, 'a', big);
    CHECK(arith_check_trace_report(&pr, m, big, &r) == RLVR_OK && r.malformed, "1 MB letters");
    free(m);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int in_sorted(const uint64_t *v, size_t n, uint64_t k) {
    return bsearch(&k, v, n, sizeof *v, cmp_u64) != NULL;
}

static void test_split(void) {
    enum { N = 10000 };
    uint64_t *tr_key = malloc(N * sizeof *tr_key), *tr_txt = malloc(N * sizeof *tr_txt);
    int bucket_bad = 0, key_clash = 0, txt_clash = 0;
    /* train: atomic and composed problems of the compact template, one seed */
    for (int i = 0; i < N; i++) {
        arith_params p = arith_default_params();
        p.n_ops = 1 + i % 4;
        p.split = ARITH_SPLIT_TRAIN;
        arith_problem pr;
        gen(&p, 1, (uint64_t)i, &pr);
        tr_key[i] = pr.key;
        tr_txt[i] = arith_prompt_hash(pr.prompt);
        bucket_bad += pr.key % ARITH_EVAL_BUCKETS == 0;
    }
    qsort(tr_key, N, sizeof *tr_key, cmp_u64);
    qsort(tr_txt, N, sizeof *tr_txt, cmp_u64);
    /* eval: same shapes, same seed (the split alone must separate them) */
    for (int i = 0; i < N; i++) {
        arith_params p = arith_default_params();
        p.n_ops = 1 + i % 4;
        p.split = ARITH_SPLIT_EVAL;
        arith_problem pr;
        gen(&p, 1, (uint64_t)i, &pr);
        bucket_bad += pr.key % ARITH_EVAL_BUCKETS != 0;
        key_clash += in_sorted(tr_key, N, pr.key);
        txt_clash += in_sorted(tr_txt, N, arith_prompt_hash(pr.prompt));
    }
    CHECK(bucket_bad == 0, "%d problems in the wrong bucket", bucket_bad);
    CHECK(key_clash == 0, "%d eval keys in train", key_clash);
    CHECK(txt_clash == 0, "%d eval prompts in train", txt_clash);
    /* ANY mixes both buckets */
    int evals = 0;
    for (int i = 0; i < 1000; i++) {
        arith_params p = arith_default_params();
        p.split = ARITH_SPLIT_ANY;
        arith_problem pr;
        gen(&p, 1, (uint64_t)i, &pr);
        evals += pr.key % ARITH_EVAL_BUCKETS == 0;
    }
    CHECK(evals > 150 && evals < 350, "ANY split: %d/1000 in the eval bucket", evals);
    free(tr_key);
    free(tr_txt);

    /* the key ignores letter names: renaming gives the same canonical text */
    arith_params p = arith_default_params();
    p.n_ops = 2;
    p.n_given = 1;
    arith_problem a, b;
    gen(&p, 9, 0, &a);
    b = a;
    b.given[0].var = 'z';
    for (int i = 0; i < b.n_steps; i++) {
        b.steps[i].var = (char)('p' + i);
        if (b.steps[i].lhs_var == a.given[0].var) b.steps[i].lhs_var = 'z';
        if (b.steps[i].rhs_var == a.given[0].var) b.steps[i].rhs_var = 'z';
        for (int j = 0; j < i; j++) {
            if (a.steps[i].lhs_var == a.steps[j].var) b.steps[i].lhs_var = (char)('p' + j);
            if (a.steps[i].rhs_var == a.steps[j].var) b.steps[i].rhs_var = (char)('p' + j);
        }
    }
    char ca[ARITH_TEXT_CAP], cb[ARITH_TEXT_CAP];
    CHECK(arith_canonical(&a, ca, sizeof ca) == RLVR_OK && arith_canonical(&b, cb, sizeof cb) == RLVR_OK, "canon");
    CHECK(strcmp(ca, cb) == 0 && arith_prompt_hash(ca) == a.key, "canonical: %s vs %s", ca, cb);
    CHECK(arith_canonical(&a, ca, 4) == RLVR_EARG, "canonical overflow");

    /* a problem space too small for the eval split fails with a message, not a hang */
    p = arith_default_params();
    p.max_val = 1;
    p.max_result = 1;
    p.n_given = 0;
    p.ops_mask = ARITH_OP_MUL;
    p.split = ARITH_SPLIT_EVAL;
    int fails = 0;
    rlvr_err e = {0};
    for (int i = 0; i < 20; i++) {
        arith_problem pr;
        int rc = arith_generate(&p, 1, (uint64_t)i, &pr, &e);
        CHECK(rc == RLVR_OK || (rc == RLVR_EARG && strstr(e.msg, "too small")), "tiny space: %s", e.msg);
        fails += rc != RLVR_OK;
    }
    (void)fails;

    CHECK(arith_prompt_hash("") == arith_prompt_hash(NULL), "hash of NULL");
    CHECK(arith_prompt_hash("a=1+2;?") != arith_prompt_hash("a=2+1;?"), "hash collides");
}

static void test_jsonl(void) {
    arith_params p = arith_default_params();
    p.n_ops = 3;
    p.n_given = 1;
    arith_problem pr;
    gen(&p, 4, 2, &pr);
    char buf[ARITH_JSONL_CAP];
    size_t n = 0;
    rlvr_err e = {0};
    CHECK(arith_to_jsonl(&pr, buf, sizeof buf, &n, &e) == RLVR_OK, "jsonl: %s", e.msg);
    CHECK(n == strlen(buf) && n > 0 && buf[n - 1] == '\n' && !memchr(buf, '\n', n - 1), "one line");
    cJSON *j = cJSON_Parse(buf);
    CHECK(j != NULL, "not JSON: %s", buf);
    if (j) {
        char gt[32];
        snprintf(gt, sizeof gt, "%lld", pr.result);
        cJSON *tr = cJSON_GetObjectItem(j, "trace");
        CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "prompt")), pr.prompt), "prompt");
        CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "answer")), pr.answer), "answer");
        CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "ground_truth")), gt), "ground_truth");
        CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "data_source")), "arith"), "data_source");
        CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "split")), "train"), "split");
        CHECK(cJSON_GetObjectItem(j, "difficulty")->valueint == 3, "difficulty");
        CHECK(cJSON_GetArraySize(tr) == 3, "trace length");
        cJSON *t2 = cJSON_GetArrayItem(tr, 2);
        CHECK(t2 && cJSON_GetObjectItem(t2, "value")->valuedouble == (double)pr.result, "trace value");
        CHECK(t2 && cJSON_GetArraySize(cJSON_GetObjectItem(t2, "args")) == 2, "trace args");
        cJSON_Delete(j);
    }
    /* too small, and exactly big enough */
    char small[ARITH_JSONL_CAP];
    size_t m = 99;
    CHECK(arith_to_jsonl(&pr, small, n, &m, &e) == RLVR_EARG && small[0] == 0 && m == 0, "cap n accepted");
    CHECK(arith_to_jsonl(&pr, small, n + 1, &m, NULL) == RLVR_OK && m == n && !strcmp(small, buf), "cap n+1");
    CHECK(arith_to_jsonl(&pr, small, 0, &m, NULL) == RLVR_EARG, "cap 0");
    CHECK(arith_to_jsonl(NULL, small, 10, &m, NULL) == RLVR_EARG, "NULL problem");

    /* escaping: a hand-made problem whose texts need it; worst case fits the cap */
    arith_problem h = pr;
    const char *nasty = "q\"uote\\back\nnl\rcr\ttab\x01\x1f\x7f caf\xc3\xa9 </script>";
    snprintf(h.prompt, sizeof h.prompt, "%s", nasty);
    snprintf(h.answer, sizeof h.answer, "\"%s\"", nasty);
    CHECK(arith_to_jsonl(&h, buf, sizeof buf, &n, &e) == RLVR_OK, "escape: %s", e.msg);
    CHECK(strstr(buf, "q\\\"uote\\\\back\\nnl\\rcr\\ttab\\u0001\\u001f\\u007f caf\xc3\xa9") != NULL, "escaped: %s", buf);
    CHECK(!memchr(buf, '\n', n - 1), "raw newline in line");
    j = cJSON_Parse(buf);
    CHECK(j && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "prompt")), nasty), "escape roundtrip");
    cJSON_Delete(j);
    memset(h.prompt, 1, sizeof h.prompt); /* no NUL at all: bounded, worst-case escape */
    memset(h.answer, '"', sizeof h.answer);
    h.steps[0].var = '"';
    CHECK(arith_to_jsonl(&h, buf, sizeof buf, &n, &e) == RLVR_OK && n < sizeof buf, "worst case: %s", e.msg);
    j = cJSON_Parse(buf);
    CHECK(j && strlen(cJSON_GetStringValue(cJSON_GetObjectItem(j, "prompt"))) == ARITH_TEXT_CAP - 1, "worst roundtrip");
    cJSON_Delete(j);
}

/* The expression template: its prompt, read with the usual precedence and left
 * associativity by the small parser below, evaluates to the result; the worked answer
 * passes the process check and a wrong working line fails it; more than
 * ARITH_EXPR_MAX_OPS operations are refused by name. */
typedef struct { const char *s; int i, bad; } ex_cur;
static long long ex_sum(ex_cur *c);
static void ex_sp(ex_cur *c) { while (c->s[c->i] == ' ') c->i++; }
static long long ex_atom(ex_cur *c) {
    ex_sp(c);
    if (c->s[c->i] == '(') {
        c->i++;
        long long v = ex_sum(c);
        ex_sp(c);
        if (c->s[c->i] != ')') c->bad = 1; else c->i++;
        return v;
    }
    if (c->s[c->i] < '0' || c->s[c->i] > '9') { c->bad = 1; return 0; }
    long long v = 0;
    while (c->s[c->i] >= '0' && c->s[c->i] <= '9') v = v * 10 + (c->s[c->i++] - '0');
    return v;
}
static long long ex_prod(ex_cur *c) {
    long long v = ex_atom(c);
    for (;;) {
        ex_sp(c);
        char op = c->s[c->i];
        if (op != '*' && op != '/') return v;
        c->i++;
        long long r = ex_atom(c);
        if (op == '/' && (r == 0 || v % r)) { c->bad = 1; return 0; }
        v = op == '*' ? v * r : v / r;
    }
}
static long long ex_sum(ex_cur *c) {
    long long v = ex_prod(c);
    for (;;) {
        ex_sp(c);
        char op = c->s[c->i];
        if (op != '+' && op != '-') return v;
        c->i++;
        long long r = ex_prod(c);
        v = op == '+' ? v + r : v - r;
    }
}

static void test_expr_template(void) {
    const int masks[] = {ARITH_OP_ADD | ARITH_OP_SUB | ARITH_OP_MUL, ARITH_OP_ADD | ARITH_OP_SUB | ARITH_OP_MUL | ARITH_OP_DIV,
                         ARITH_OP_SUB | ARITH_OP_DIV};
    int bad = 0, parens = 0, longest = 0;
    for (int k = 0; k < 6000; k++) {
        arith_params p = arith_default_params();
        p.template_id = ARITH_TEMPLATE_EXPR;
        p.n_ops = 1 + k % ARITH_EXPR_MAX_OPS;
        p.ops_mask = masks[k % 3];
        p.n_given = (k / 5) % 5 - 1;
        if (k % 7 == 0) p.max_val = 9999, p.max_result = 999999;
        arith_problem pr;
        if (gen(&p, 5, (uint64_t)k, &pr)) continue;
        int n = (int)strlen(pr.prompt);
        if (n > longest) longest = n;
        CHECK(!strncmp(pr.prompt, "What is ", 8) && pr.prompt[n - 1] == '?', "expression prompt shape: %s", pr.prompt);
        char body[ARITH_TEXT_CAP];
        snprintf(body, sizeof body, "%.*s", n - 9, pr.prompt + 8);
        ex_cur c = {body, 0, 0};
        long long v = ex_sum(&c);
        ex_sp(&c);
        if (c.bad || body[c.i] || v != pr.result) {
            if (bad++ < 3) fprintf(stderr, "  expression %s reads %lld, result %lld\n", pr.prompt, v, pr.result);
        }
        parens += strchr(body, '(') != NULL;
        arith_trace_report r = trace(&pr, pr.answer);
        CHECK(r.process_ok && r.steps_ok == pr.n_steps, "gold working passes: %s -> %s", pr.prompt, pr.answer);
    }
    CHECK(bad == 0, "%d expressions do not evaluate to the result", bad);
    CHECK(parens > 500, "parentheses are needed somewhere (%d prompts)", parens);
    CHECK(longest < ARITH_TEXT_CAP, "longest prompt %d", longest);

    /* working lines of a fixed problem: a = 2 + 3, b = 20 - a ("What is 20 - (2 + 3)?") */
    arith_problem pr;
    memset(&pr, 0, sizeof pr);
    pr.template_id = ARITH_TEMPLATE_EXPR, pr.n_ops = pr.n_steps = 2, pr.n_given = 0;
    pr.steps[0] = (arith_step){'a', '+', 0, 0, 2, 3, 5};
    pr.steps[1] = (arith_step){'b', '-', 0, 'a', 20, 5, 15};
    pr.result = 15;
    arith_trace_report r = trace(&pr, "2+3=5. 20 - 5 = 15. #15");
    CHECK(r.process_ok && r.steps_ok == 2, "spacing is free");
    r = trace(&pr, "3 + 2 = 5. 20 - 5 = 15. #15");
    CHECK(r.process_ok, "+ commutes");
    r = trace(&pr, "2 + 3 = 6. 20 - 5 = 15. #15");
    CHECK(r.final_ok && !r.process_ok && r.wrong == 1, "a wrong value line is caught");
    r = trace(&pr, "5 - 20 = 15. 2 + 3 = 5. #15");
    CHECK(!r.process_ok && r.wrong == 2, "- does not commute, order matters");
    r = trace(&pr, "#15");
    CHECK(r.final_ok && !r.process_ok && r.missing == 2, "no working: missing steps");
    r = trace(&pr, "The answer is 15. #15");
    CHECK(r.final_ok && !r.process_ok && r.malformed, "prose is malformed working");

    arith_params p = arith_default_params();
    p.template_id = ARITH_TEMPLATE_EXPR;
    p.n_ops = ARITH_EXPR_MAX_OPS + 1;
    rlvr_err e = {0};
    CHECK(arith_generate(&p, 1, 0, &pr, &e) == RLVR_EARG && strstr(e.msg, "expression template"), "too many ops: %s", e.msg);
}

int main(void) {
    RUN(test_params);
    RUN(test_determinism);
    RUN(test_gold_and_bounds);
    RUN(test_expr_template);
    RUN(test_not_degenerate);
    RUN(test_rejects_wrong);
    RUN(test_garbage);
    RUN(test_split);
    RUN(test_jsonl);
    return check_finish("test_arith");
}
