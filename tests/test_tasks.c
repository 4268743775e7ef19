/* test_tasks.c: the synthetic task generators beside arith: countdown, knights and
 * knaves, string-function composition, chain. For each: gold answers pass, wrong ones
 * fail, determinism, hostile completions, and the JSONL line parses. */
#include "check.h"
#include <cjson/cJSON.h>
#include "tasks/countdown.h"
#include "tasks/kk.h"
#include "tasks/strfn.h"
#include "tasks/chain.h"

static double cd_score(const char *c, const char *ref, int *correct) {
    double r = -1;
    int rc = countdown_score(c, strlen(c), ref, strlen(ref), &r, correct);
    CHECK(rc == 0, "score rc %d for '%s'", rc, c);
    return r;
}

static void test_countdown_checker(void) {
    const char *ref = "target=98;nums=44,19,35";
    int ok;
    /* the derived vectors of the reference (A2) */
    CHECK(cd_score("<answer>44 + 19 + 35</answer>", ref, &ok) == 1.0 && ok, "gold");
    CHECK(cd_score("<answer>44 + 19 + 35 + 0</answer>", ref, &ok) == 0.1 && !ok, "extra number");
    CHECK(cd_score("<answer>44**19**35</answer>", ref, &ok) == 0.1 && !ok, "power refused");
    CHECK(cd_score("no tag 44 + 19 + 35", ref, &ok) == 0.0 && !ok, "no tag");
    CHECK(cd_score("", ref, &ok) == 0.0, "empty");
    CHECK(cd_score("<answer>44 + 19 + 35", ref, &ok) == 0.0, "unclosed");
    CHECK(cd_score("<answer>1</answer> then <answer> (35 + 19) + 44 \n</answer>", ref, &ok) == 1.0 && ok, "last tag, spaces");
    CHECK(cd_score("<answer>44 + 19 + 35</answer> <answer>1+1</answer>", ref, &ok) == 0.1, "last tag wins");
    CHECK(cd_score("<answer>44 + 19 - 35</answer>", ref, &ok) == 0.1, "wrong value");
    CHECK(cd_score("<answer>44 + 19</answer>", ref, &ok) == 0.1, "missing number");
    CHECK(cd_score("<answer>44 + 44 + 35</answer>", ref, &ok) == 0.1, "reused number");
    CHECK(cd_score("<answer>44 + 19 + 35 = 98</answer>", ref, &ok) == 0.1, "'=' refused");
    CHECK(cd_score("<answer>44.0 + 19 + 35</answer>", ref, &ok) == 0.1, "'.' refused");
    CHECK(cd_score("<answer>-(0-44) + 19 + 35</answer>", ref, &ok) == 0.1, "unary minus refused");
    CHECK(cd_score("<answer>((44 + 19) + 35</answer>", ref, &ok) == 0.1, "unbalanced");
    CHECK(cd_score("<answer>44 19 + 35</answer>", ref, &ok) == 0.1, "juxtaposition");
    CHECK(cd_score("<answer>__import__('os')</answer>", ref, &ok) == 0.1, "code");
    /* exact rationals: 6 / (1 - 3/4) = 24 */
    CHECK(cd_score("<answer>6 / (1 - 3 / 4)</answer>", "target=24;nums=1,3,4,6", &ok) == 1.0 && ok, "rational");
    CHECK(cd_score("<answer>(6 / 4) * (3 - 1)</answer>", "target=3;nums=1,3,4,6", &ok) == 1.0, "fraction mid-way");
    CHECK(cd_score("<answer>6 / (4 - 4) + 3</answer>", "target=3;nums=4,4,6", &ok) == 0.1, "div by zero");
    CHECK(cd_score("<answer>7 / 2</answer>", "target=3;nums=7,2", &ok) == 0.1, "non-integer value");
    /* hostile: deep parens, very long, NUL inside */
    char deep[400];
    size_t k = 0;
    for (int i = 0; i < 60; i++) deep[k++] = '(';
    k += (size_t)sprintf(deep + k, "44+19+35");
    for (int i = 0; i < 60; i++) deep[k++] = ')';
    deep[k] = 0;
    char buf[600];
    snprintf(buf, sizeof buf, "<answer>%s</answer>", deep);
    CHECK(cd_score(buf, ref, &ok) == 0.1, "too deep");
    char longs[2000] = "<answer>44 + 19 +";
    for (int i = 0; i < 300; i++) strcat(longs, " ");
    strcat(longs, "35</answer>");
    CHECK(cd_score(longs, ref, &ok) == 0.1, "over the length cap");
    const char nul[] = "<answer>44 + 19\0 + 35</answer>";
    double r = -1;
    CHECK(countdown_score(nul, sizeof nul - 1, ref, strlen(ref), &r, &ok) == 0 && r == 0.1 && !ok, "NUL");
    /* n bounds the read: the tag past n is not seen */
    const char *g = "<answer>44 + 19 + 35</answer>";
    CHECK(countdown_score(g, strlen(g) - 1, ref, strlen(ref), &r, &ok) == 0 && r == 0.0, "bounded by n");
    CHECK(countdown_score(NULL, 0, ref, strlen(ref), &r, &ok) == 0 && r == 0.0, "NULL empty");
    /* overflow: 999999^6 style products stay refused or exact, never UB */
    CHECK(cd_score("<answer>999999999*999999999*999999999*999999999*999999999*999999999</answer>",
                   "target=1;nums=999999,999999,999999,999999,999999,999999", &ok) == 0.1, "big literals");
    /* bad references */
    const char *bad[] = {"", "target=", "target=5", "target=5;nums=", "target=5;nums=1,,2", "target=x;nums=1",
                         "target=5;nums=1,2,3,4,5,6,7", "target=5;nums=0", "nums=1;target=5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(countdown_score(g, strlen(g), bad[i], strlen(bad[i]), &r, &ok) == RLVR_EARG && r == 0, "bad ref '%s'", bad[i]);
    long long num, den;
    CHECK(countdown_eval("1 - 3", 5, &num, &den, NULL, NULL) && num == -2 && den == 1, "negative result");
}

static void test_countdown_generate(void) {
    countdown_params p = countdown_default_params();
    for (int n = COUNTDOWN_MIN_NUMS; n <= COUNTDOWN_MAX_NUMS; n++) {
        p.n_nums = n;
        int good = 0;
        for (uint64_t i = 0; i < 100; i++) {
            countdown_problem a, b;
            rlvr_err err = {0};
            int rc = countdown_generate(&p, 7, i, &a, &err);
            CHECK(rc == 0, "gen n=%d i=%llu: %s", n, (unsigned long long)i, err.msg);
            if (rc) continue;
            countdown_generate(&p, 7, i, &b, NULL);
            CHECK(!memcmp(&a, &b, sizeof a), "deterministic");
            CHECK(a.n_nums == n && a.target >= p.min_target && a.target <= p.max_target, "range");
            double r; int ok;
            countdown_score(a.answer, strlen(a.answer), a.ground_truth, strlen(a.ground_truth), &r, &ok);
            good += r == 1.0 && ok;
            /* a wrong target fails */
            char wrong[128];
            snprintf(wrong, sizeof wrong, "target=%lld;nums=%s", a.target + 1, strstr(a.ground_truth, "nums=") + 5);
            countdown_score(a.answer, strlen(a.answer), wrong, strlen(wrong), &r, &ok);
            CHECK(r == 0.1 && !ok, "wrong target scored %g", r);
            if (i == 0) {
                char line[COUNTDOWN_JSONL_CAP];
                size_t len;
                CHECK(countdown_to_jsonl(&a, line, sizeof line, &len, &err) == 0 && len == strlen(line), "%s", err.msg);
                cJSON *o = cJSON_Parse(line);
                CHECK(o && !strcmp(cJSON_GetObjectItem(o, "ground_truth")->valuestring, a.ground_truth) &&
                      !strcmp(cJSON_GetObjectItem(o, "data_source")->valuestring, "countdown") &&
                      cJSON_GetArraySize(cJSON_GetObjectItem(o, "nums")) == n, "jsonl %s", line);
                cJSON_Delete(o);
                CHECK(countdown_to_jsonl(&a, line, 10, &len, &err) == RLVR_EARG, "small buffer");
            }
        }
        CHECK(good == 100, "n=%d gold passes %d/100", n, good);
    }
    countdown_problem a, b;
    countdown_generate(&p, 7, 1, &a, NULL);
    countdown_generate(&p, 8, 1, &b, NULL);
    CHECK(memcmp(&a, &b, sizeof a) != 0, "seed changes problem");
    p.n_nums = 2;
    rlvr_err err = {0};
    CHECK(countdown_generate(&p, 0, 0, &a, &err) == RLVR_EARG && strstr(err.msg, "n_nums"), "bad n_nums");
    p.n_nums = 7;
    CHECK(countdown_generate(&p, 0, 0, &a, &err) == RLVR_EARG, "bad n_nums 7");
}

static double kk_s(const char *c, const char *ref, int *ok) {
    double r = -1;
    CHECK(kk_score(c, strlen(c), ref, strlen(ref), &r, ok) == 0, "kk rc");
    return r;
}

static void test_kk_checker(void) {
    const char *ref = "Zoey=knight;Oliver=knave";
    int ok;
    CHECK(kk_s("<answer>(1) Zoey is a knight\n(2) Oliver is a knave</answer>", ref, &ok) == 1.0 && ok, "gold");
    CHECK(kk_s("Zoey is a Knight and Oliver is a KNAVE.", ref, &ok) == 1.0 && ok, "no tag, case");
    CHECK(kk_s("<answer>(1) Zoey is a knave\n(2) Oliver is a knave</answer>", ref, &ok) == 0.0 && !ok, "wrong");
    CHECK(kk_s("<answer>(1) Zoey is a knight</answer>", ref, &ok) == 0.0, "missing person");
    CHECK(kk_s("<answer>Zoey is a knight, Zoey is a knave, Oliver is a knave</answer>", ref, &ok) == 0.0, "both roles");
    CHECK(kk_s("<answer>Zoey is a knight, Oliver is a knave, Bob is a knight</answer>", ref, &ok) == 0.0, "extra role phrase");
    CHECK(kk_s("<answer>BZoey is a knight, Oliver is a knave</answer>", ref, &ok) == 0.0, "name as part of a word");
    CHECK(kk_s("<answer>Zoey is a knightly, Oliver is a knave</answer>", ref, &ok) == 0.0, "role as part of a word");
    CHECK(kk_s("Zoey is a knave. <answer>Zoey is a knight\nOliver is a knave</answer>", ref, &ok) == 1.0, "last tag only");
    CHECK(kk_s("", ref, &ok) == 0.0, "empty");
    int right, np;
    double r;
    const char *c = "<answer>Zoey is a knight\nOliver is a knight</answer>";
    CHECK(kk_score_detail(c, strlen(c), ref, strlen(ref), &r, &ok, &right, &np) == 0 && right == 1 && np == 2 && r == 0, "detail");
    const char *bad[] = {"", "Zoey", "Zoey=", "Zoey=king", "Zoey=knight;", "Zo ey=knight", "A=knight;B=knight;C=knight;D=knight;E=knight;F=knight;G=knight;H=knight;I=knight"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(kk_score(c, strlen(c), bad[i], strlen(bad[i]), &r, &ok) == RLVR_EARG, "bad ref '%s'", bad[i]);
    /* hostile: long repetitive text is linear, n bounds the read */
    static char big[200000];
    for (size_t i = 0; i + 1 < sizeof big; i++) big[i] = "Zoey is a "[i % 10];
    big[sizeof big - 1] = 0;
    CHECK(kk_score(big, strlen(big), ref, strlen(ref), &r, &ok) == 0 && r == 0, "big");
    const char *g = "Zoey is a knight Oliver is a knave";
    CHECK(kk_score(g, strlen(g) - 1, ref, strlen(ref), &r, &ok) == 0 && r == 0, "bounded by n");
}

static void test_kk_generate(void) {
    kk_params p = kk_default_params();
    for (int n = KK_MIN_PEOPLE; n <= KK_MAX_PEOPLE; n++) {
        p.n_people = n;
        int good = 0, flips = 0;
        for (uint64_t i = 0; i < 40; i++) {
            kk_problem a, b;
            rlvr_err err = {0};
            int rc = kk_generate(&p, 3, i, &a, &err);
            CHECK(rc == 0, "kk n=%d: %s", n, err.msg);
            if (rc) continue;
            kk_generate(&p, 3, i, &b, NULL);
            CHECK(!memcmp(&a, &b, sizeof a), "deterministic");
            double r; int ok;
            kk_score(a.answer, strlen(a.answer), a.ground_truth, strlen(a.ground_truth), &r, &ok);
            good += r == 1.0 && ok;
            /* flip one person's role in the answer: fails */
            char ans[KK_TEXT_CAP];
            memcpy(ans, a.answer, sizeof ans);
            char *tag = strstr(ans, "<answer>");
            char *kn = tag ? strstr(tag, a.knight[0] ? "is a knight" : "is a knave") : NULL;
            if (kn) {
                char fixed[KK_TEXT_CAP];
                snprintf(fixed, sizeof fixed, "%.*s%s%s", (int)(kn - ans), ans, a.knight[0] ? "is a knave" : "is a knight",
                         kn + (a.knight[0] ? 11 : 10));
                kk_score(fixed, strlen(fixed), a.ground_truth, strlen(a.ground_truth), &r, &ok);
                flips += r == 0.0 && !ok;
            }
            CHECK(strlen(a.prompt) < KK_TEXT_CAP - 1 && strlen(a.answer) < KK_TEXT_CAP - 1, "fits");
            if (i == 0) {
                char line[KK_JSONL_CAP];
                size_t len;
                CHECK(kk_to_jsonl(&a, line, sizeof line, &len, &err) == 0, "%s", err.msg);
                cJSON *o = cJSON_Parse(line);
                CHECK(o && !strcmp(cJSON_GetObjectItem(o, "ground_truth")->valuestring, a.ground_truth) &&
                      cJSON_GetArraySize(cJSON_GetObjectItem(o, "solution")) == n, "jsonl");
                cJSON_Delete(o);
            }
        }
        CHECK(good == 40 && flips == 40, "n=%d gold %d flips %d", n, good, flips);
    }
    kk_problem a;
    p.n_people = 9;
    CHECK(kk_generate(&p, 0, 0, &a, NULL) == RLVR_EARG, "bad n");
}

static void sf(const char *c, const char *ref, int want_final, int want_steps, int want_process, const char *what) {
    strfn_report rep;
    int rc = strfn_check(c, strlen(c), ref, strlen(ref), &rep);
    CHECK(rc == 0 && rep.final_ok == want_final && rep.steps_ok == want_steps && rep.process_ok == want_process,
          "%s: rc %d final %d steps %d process %d", what, rc, rep.final_ok, rep.steps_ok, rep.process_ok);
}

static void test_strfn_functions(void) {
    char o[STRFN_STR_CAP];
    struct { int f; const char *in, *out; } v[] = {
        {STRFN_REVERSE, "abcd", "dcba"}, {STRFN_UPPER, "abC", "ABC"}, {STRFN_LOWER, "AbC", "abc"},
        {STRFN_ROTL, "abcd", "bcda"}, {STRFN_ROTR, "abcd", "dabc"}, {STRFN_DUP, "ab", "aabb"},
        {STRFN_DROPVOWELS, "bEautiful", "btfl"}, {STRFN_SORT, "dbCa", "Cabd"}, {STRFN_SWAPCASE, "aBc", "AbC"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        CHECK(strfn_apply(v[i].f, v[i].in, o, sizeof o) && !strcmp(o, v[i].out), "%s(%s) = %s", strfn_name(v[i].f), v[i].in, o);
    CHECK(!strfn_apply(STRFN_DUP, "abcd", o, 8), "dup overflow refused");
    CHECK(!strfn_apply(99, "abcd", o, sizeof o), "unknown id");
    CHECK(strfn_find("sort", 4) == STRFN_SORT && strfn_find("sorted", 6) == -1, "find");
}

static void test_strfn_checker(void) {
    const char *ref = "x=abcd;fns=reverse,upper";
    sf("reverse(abcd) = dcba\nupper(dcba) = DCBA\nAnswer: DCBA", ref, 1, 2, 1, "gold");
    sf("reverse(abcd)=dcba\nupper(dcba)  =  DCBA\nAnswer: \"DCBA\"\n", ref, 1, 2, 1, "spacing, quotes");
    sf("DCBA", ref, 1, 0, 0, "final only (last line)");
    sf("Answer: dcba", ref, 0, 0, 0, "case matters");
    sf("reverse(abcd) = dcba\nupper(dcba) = DCBA\nAnswer: DCBAX", ref, 0, 2, 0, "wrong final");
    sf("reverse(abcd) = dcbb\nupper(dcba) = DCBA\nAnswer: DCBA", ref, 1, 0, 0, "wrong intermediate");
    sf("upper(dcba) = DCBA\nreverse(abcd) = dcba\nAnswer: DCBA", ref, 1, 1, 0, "out of order");
    sf("reverse(abcd) = dcbaz\nreverse(abcd) = dcba\nupper(dcba) = DCBA\nAnswer: DCBA", ref, 1, 2, 1, "retry after a wrong candidate");
    sf("Answer: DCBA\nAnswer: nope", ref, 0, 0, 0, "last Answer: wins");
    sf("", ref, 0, 0, 0, "empty");
    double r; int ok;
    const char *g = "reverse(abcd) = dcba\nAnswer: DCBA";
    CHECK(strfn_process_score(g, strlen(g), ref, strlen(ref), &r, &ok) == 0 && r == 0.5 && !ok, "process half");
    CHECK(strfn_score(g, strlen(g), ref, strlen(ref), &r, &ok) == 0 && r == 1.0 && ok, "outcome");
    CHECK(strfn_score(g, strlen(g) - 1, ref, strlen(ref), &r, &ok) == 0 && r == 0.0, "bounded by n");
    const char *bad[] = {"", "x=", "x=abcd", "x=abcd;fns=", "x=abcd;fns=nope", "x=ab1;fns=upper", "x=abcd;fns=upper,",
                         "x=abcd;fns=dup,dup,dup,dup,dup,dup", "x=abcd;fns=upper,upper,upper,upper,upper,upper,upper,upper,upper"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(strfn_score(g, strlen(g), bad[i], strlen(bad[i]), &r, &ok) == RLVR_EARG, "bad ref '%s'", bad[i]);
    static char big[100000];
    for (size_t i = 0; i + 1 < sizeof big; i++) big[i] = "reverse(abcd) = "[i % 16];
    CHECK(strfn_score(big, strlen(big), ref, strlen(ref), &r, &ok) == 0 && r == 0, "big");
}

static void test_strfn_generate(void) {
    strfn_params p = strfn_default_params();
    for (int d = 1; d <= STRFN_MAX_DEPTH; d++) {
        p.depth = d;
        int good = 0;
        for (uint64_t i = 0; i < 50; i++) {
            strfn_problem a, b;
            rlvr_err err = {0};
            int rc = strfn_generate(&p, 5, i, &a, &err);
            CHECK(rc == 0, "strfn d=%d: %s", d, err.msg);
            if (rc) continue;
            strfn_generate(&p, 5, i, &b, NULL);
            CHECK(!memcmp(&a, &b, sizeof a), "deterministic");
            strfn_report rep;
            strfn_check(a.answer, strlen(a.answer), a.ground_truth, strlen(a.ground_truth), &rep);
            good += rep.final_ok && rep.process_ok && rep.steps_ok == d;
            /* the input alone is not the answer */
            strfn_check(a.values[0], strlen(a.values[0]), a.ground_truth, strlen(a.ground_truth), &rep);
            CHECK(!rep.final_ok, "input is not the answer");
            for (int k = 0; k < d; k++) CHECK(strcmp(a.values[k], a.values[k + 1]) && a.values[k + 1][0], "no identity steps");
            if (i == 0) {
                char line[STRFN_JSONL_CAP];
                CHECK(strfn_to_jsonl(&a, line, sizeof line, NULL, &err) == 0, "%s", err.msg);
                cJSON *o = cJSON_Parse(line);
                CHECK(o && cJSON_GetArraySize(cJSON_GetObjectItem(o, "trace")) == d + 1 &&
                      !strcmp(cJSON_GetObjectItem(o, "data_source")->valuestring, "strfn"), "jsonl");
                cJSON_Delete(o);
            }
        }
        CHECK(good == 50, "d=%d gold %d/50", d, good);
    }
    strfn_problem a;
    p.depth = 0;
    CHECK(strfn_generate(&p, 0, 0, &a, NULL) == RLVR_EARG, "bad depth");
}

static void ch(const char *c, const char *ref, int tokens, int right, int prefix, int all, const char *what) {
    chain_report rep;
    int rc = chain_check(c, strlen(c), ref, strlen(ref), &rep);
    CHECK(rc == 0 && rep.n_tokens == tokens && rep.n_right == right && rep.prefix_ok == prefix && rep.all_ok == all,
          "%s: rc %d tokens %d right %d prefix %d all %d", what, rc, rep.n_tokens, rep.n_right, rep.prefix_ok, rep.all_ok);
}

static void test_chain_checker(void) {
    const char *ref = "11,18,-3";
    ch("Problem 1: a:15;b:11;#11\nProblem 2: c:18;#18\nProblem 3: #-3", ref, 3, 3, 3, 1, "gold");
    ch("#11 #19 #-3", ref, 3, 2, 1, 0, "middle wrong");
    ch("#12 #18 #-3", ref, 3, 2, 0, 0, "first wrong");
    ch("#11 #18", ref, 2, 2, 2, 0, "missing last");
    ch("#11 #18 #-3 #4", ref, 4, 3, 3, 0, "extra token");
    ch("# 11 #x #11 #18 #-3", ref, 3, 3, 3, 1, "non-numbers skipped");
    ch("", ref, 0, 0, 0, 0, "empty");
    double r; int ok;
    const char *c = "#11 #0 #-3";
    CHECK(chain_step_score(c, strlen(c), ref, strlen(ref), &r, &ok) == 0 && fabs(r - 2.0 / 3) < 1e-12 && !ok, "step credit");
    CHECK(chain_score(c, strlen(c), ref, strlen(ref), &r, &ok) == 0 && r == 0 && !ok, "all-or-nothing");
    const char *g = "#11 #18 #-3";
    CHECK(chain_score(g, strlen(g), ref, strlen(ref), &r, &ok) == 0 && r == 1 && ok, "all right");
    CHECK(chain_score(g, strlen(g) - 1, ref, strlen(ref), &r, &ok) == 0 && r == 0, "bounded by n");
    const char *bad[] = {"", ",", "1,", "a", "1,,2", "1,2,3,4,5,6,7,8,9", "99999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(chain_score(g, strlen(g), bad[i], strlen(bad[i]), &r, &ok) == RLVR_EARG, "bad ref '%s'", bad[i]);
    static char big[100000];
    memset(big, '#', sizeof big - 1);
    CHECK(chain_score(big, strlen(big), ref, strlen(ref), &r, &ok) == 0 && r == 0, "hashes");
}

static void test_chain_generate(void) {
    chain_params p = chain_default_params();
    for (int tmpl = 0; tmpl < 3; tmpl += 2)
    for (int n = 1; n <= CHAIN_MAX; n++) {
        p.n_problems = n;
        p.arith.template_id = tmpl;
        int good = 0;
        for (uint64_t i = 0; i < 20; i++) {
            chain_problem a, b;
            rlvr_err err = {0};
            int rc = chain_generate(&p, 11, i, &a, &err);
            CHECK(rc == 0, "chain n=%d: %s", n, err.msg);
            if (rc) continue;
            chain_generate(&p, 11, i, &b, NULL);
            CHECK(!memcmp(&a, &b, sizeof a), "deterministic");
            chain_report rep;
            chain_check(a.answer, strlen(a.answer), a.ground_truth, strlen(a.ground_truth), &rep);
            good += rep.all_ok && rep.n == n;
            /* links: problem k reads [k-1]'s answer, which its given holds */
            for (int k = 1; k < n; k++) {
                char tag[16];
                snprintf(tag, sizeof tag, ":[%d];", k);
                CHECK(strstr(a.prompt, tag) != NULL, "link %d in prompt", k);
                CHECK(a.parts[k].given[0].value == a.answers[k - 1], "link value");
            }
            /* each part's recomputed steps satisfy arith's own checker on its answer */
            for (int k = 0; k < n; k++) {
                char line[64];
                snprintf(line, sizeof line, "#%lld", a.answers[k]);
                int correct;
                arith_check_answer(&a.parts[k], line, strlen(line), &correct);
                CHECK(correct, "part %d", k);
                long long v = 0;
                const arith_problem *q = &a.parts[k];
                for (int s = 0; s < q->n_steps; s++) {
                    const arith_step *st = &q->steps[s];
                    v = st->op == '+' ? st->lhs + st->rhs : st->op == '-' ? st->lhs - st->rhs : st->op == '*' ? st->lhs * st->rhs : st->lhs / st->rhs;
                    CHECK(v == st->value, "recomputed step");
                }
                CHECK(v == q->result, "result");
            }
            if (i == 0 && n == 3) {
                static char line[CHAIN_JSONL_CAP];
                CHECK(chain_to_jsonl(&a, line, sizeof line, NULL, &err) == 0, "%s", err.msg);
                cJSON *o = cJSON_Parse(line);
                CHECK(o && cJSON_GetArraySize(cJSON_GetObjectItem(o, "answers")) == 3, "jsonl");
                cJSON_Delete(o);
            }
        }
        CHECK(good == 20, "n=%d gold %d/20", n, good);
    }
    chain_problem a;
    p.arith.template_id = ARITH_TEMPLATE_WORDS;
    rlvr_err err = {0};
    CHECK(chain_generate(&p, 0, 0, &a, &err) == RLVR_EARG && strstr(err.msg, "template"), "words refused");
    p = chain_default_params();
    p.n_problems = 9;
    CHECK(chain_generate(&p, 0, 0, &a, &err) == RLVR_EARG, "bad n");
}

int main(void) {
    RUN(test_chain_checker);
    RUN(test_chain_generate);
    RUN(test_strfn_functions);
    RUN(test_strfn_checker);
    RUN(test_strfn_generate);
    RUN(test_kk_checker);
    RUN(test_kk_generate);
    RUN(test_countdown_checker);
    RUN(test_countdown_generate);
    return check_finish("test_tasks");
}
