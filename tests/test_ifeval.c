/* test_ifeval.c: every IFEval checker with positive and negative cases, the tricky ones
 * listed in shared/reference/verifiers-and-reliability.md (regex metacharacters in
 * keywords, empty responses, *** at the ends, JSON with a BOM or a trailing comma, an
 * empty <<>> title), strict vs loose, the kwargs parser and its errors, the
 * instruction_id_list/kwargs column form, the registry rewards, and hostile inputs. */
#include <time.h>
#include "check.h"
#include "rewards/ifeval.h"
#include "rewards/reward.h"

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

enum { STRICT = 0, LOOSE = 1 };

/* Verdict of one instruction (id + kwargs JSON) on resp: 1/0, or -1 when it did not parse. */
static int verdict_n(const char *id, const char *kwargs, const char *resp, size_t n, int loose) {
    char js[8192];
    snprintf(js, sizeof js, "[{\"instruction_id\":\"%s\",\"kwargs\":%s}]", id, kwargs ? kwargs : "{}");
    ifeval_list *l = NULL;
    rlvr_err e = {0};
    if (ifeval_parse(js, strlen(js), &l, &e)) {
        CHECK(0, "parse %s %s: %s", id, kwargs, e.msg);
        return -1;
    }
    ifeval_result r;
    int rc = ifeval_check(l, resp, n, &r, &e);
    CHECK(rc == RLVR_OK && r.n == 1 && r.loose[0] >= r.strict[0], "check %s: %s", id, e.msg);
    ifeval_free(l);
    return loose ? r.loose[0] : r.strict[0];
}

static int verdict(const char *id, const char *kwargs, const char *resp, int loose) {
    return verdict_n(id, kwargs, resp, strlen(resp), loose);
}

static const char *show(const char *s) { return s ? s : "{}"; }

#define YES(id, kw, resp) CHECK(verdict(id, kw, resp, STRICT) == 1, "%s %s should follow: [%s]", id, show(kw), resp)
/* not followed even under loose checking */
#define NO(id, kw, resp) CHECK(verdict(id, kw, resp, LOOSE) == 0, "%s %s should not follow: [%s]", id, show(kw), resp)
/* not followed under strict checking (a loose variant may follow it) */
#define NO_STRICT(id, kw, resp) \
    CHECK(verdict(id, kw, resp, STRICT) == 0, "%s %s should not follow strictly: [%s]", id, show(kw), resp)
/* fails strict, passes loose */
#define LOOSE_ONLY(id, kw, resp)                                                                            \
    CHECK(verdict(id, kw, resp, STRICT) == 0 && verdict(id, kw, resp, LOOSE) == 1, "%s loose only: [%s]", id, resp)

static void test_number_words(void) {
    const char *id = "length_constraints:number_words";
    YES(id, "{\"relation\":\"at least\",\"num_words\":3}", "one two three");
    NO(id, "{\"relation\":\"at least\",\"num_words\":3}", "one two");
    YES(id, "{\"relation\":\"less than\",\"num_words\":3}", "one two");
    NO(id, "{\"relation\":\"less than\",\"num_words\":3}", "one two three");
    YES(id, "{\"relation\":\"at most\",\"num_words\":3}", "one two three");
    YES(id, "{\"relation\":\"exactly\",\"num_words\":3}", "one, two... three!");
    NO(id, "{\"relation\":\"exactly\",\"num_words\":3}", "one two three four");
    /* \w+ tokens: the apostrophe splits, punctuation does not count, Unicode letters do */
    YES(id, "{\"relation\":\"exactly\",\"num_words\":3}", "don't stop");
    YES(id, "{\"relation\":\"exactly\",\"num_words\":2}", "h\xC3\xA9llo w\xC3\xB6rld");
    YES(id, "{\"relation\":\"exactly\",\"num_words\":2}", "snake_case 42");
    YES(id, "{\"relation\":\"at least\",\"num_words\":300.0}", /* a float kwarg that is integral */
        "w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w"
        " w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w"
        " w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w"
        " w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w"
        " w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w"
        " w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w");
}

static void test_sentences(void) {
    const char *id = "length_constraints:number_sentences";
    const char *three = "{\"relation\":\"exactly\",\"num_sentences\":3}";
    YES(id, three, "Hello there. How are you? Fine!");
    YES(id, three, "Mr. Smith went to Washington. He left. Then he came back.");
    YES(id, three, "It costs 3.50 dollars. J. R. R. Tolkien wrote it. E.g. this one.");
    YES(id, three, "She said \"stop.\" Then (really.) Ok");
    YES(id, three, "Wait... what?! Yes.");
    NO(id, three, "One sentence only.");
    YES(id, "{\"relation\":\"less than\",\"num_sentences\":2}", "No terminator at all");
    YES(id, "{\"relation\":\"exactly\",\"num_sentences\":2}", "\xE4\xBD\xA0\xE5\xA5\xBD\xE3\x80\x82 \xE5\x86\x8D\xE8\xA7\x81\xE3\x80\x82");
}

static void test_paragraphs(void) {
    const char *id = "length_constraints:number_paragraphs";
    YES(id, "{\"num_paragraphs\":3}", "a\n***\nb\n***\nc");
    NO_STRICT(id, "{\"num_paragraphs\":2}", "a\n***\nb\n***\nc"); /* loose: drop the first line */
    NO(id, "{\"num_paragraphs\":2}", "a *** b *** c");
    YES(id, "{\"num_paragraphs\":2}", "a *** b");
    YES(id, "{\"num_paragraphs\":2}", "***\na\n***\nb\n***"); /* *** at start and end: empty ends drop */
    NO(id, "{\"num_paragraphs\":2}", "a\n***\n\n***\nb");     /* empty middle paragraph */
    NO_STRICT(id, "{\"num_paragraphs\":1}", "***\n\n***\nb"); /* empty first, then an empty middle */
    NO_STRICT(id, "{\"num_paragraphs\":1}", "a *** *** b");
    YES(id, "{\"num_paragraphs\":1}", "just one\n\nstill one (no stars)");
    YES(id, "{\"num_paragraphs\":2}", "a****b"); /* "***" then "*b" */

    id = "length_constraints:nth_paragraph_first_word";
    const char *text = "First para.\n\nSecond starts here.\n\nThird.";
    YES(id, "{\"num_paragraphs\":3,\"nth_paragraph\":2,\"first_word\":\"second\"}", text);
    YES(id, "{\"num_paragraphs\":3,\"nth_paragraph\":2,\"first_word\":\"Second\"}", text);
    NO(id, "{\"num_paragraphs\":3,\"nth_paragraph\":2,\"first_word\":\"first\"}", text);
    NO_STRICT(id, "{\"num_paragraphs\":2,\"nth_paragraph\":2,\"first_word\":\"second\"}", text);
    NO(id, "{\"num_paragraphs\":3,\"nth_paragraph\":4,\"first_word\":\"second\"}", text);
    YES(id, "{\"num_paragraphs\":2,\"nth_paragraph\":2,\"first_word\":\"hello\"}", "x\n\n'\"Hello, world\" ok");
    YES(id, "{\"num_paragraphs\":2,\"nth_paragraph\":2,\"first_word\":\"\xC3\xA9t\xC3\xA9\"}", "x\n\n\xC3\x89T\xC3\x89 ok");
}

static void test_keywords(void) {
    const char *id = "keywords:existence";
    YES(id, "{\"keywords\":[\"c++\",\"a.b\"]}", "I like C++ and a.b notation");
    NO(id, "{\"keywords\":[\"c++\",\"a.b\"]}", "I like ccc and axb notation"); /* regexes would match */
    YES(id, "{\"keywords\":[\"(a|b)\"]}", "the pattern (a|b) literally");
    NO(id, "{\"keywords\":[\"(a|b)\"]}", "a or b");
    YES(id, "{\"keywords\":[\"[x]\", \"$\\\\d+\"]}", "[x] and $\\d+");
    YES(id, "{\"keywords\":[\"Caf\xC3\xA9\"]}", "CAF\xC3\x89 au lait"); /* Unicode case folding */
    NO(id, "{\"keywords\":[\"apple\",\"pear\"]}", "apple only");
    YES(id, "{\"keywords\":\"solo\"}", "a solo string keyword");

    id = "keywords:frequency";
    YES(id, "{\"keyword\":\"the\",\"frequency\":2,\"relation\":\"at least\"}", "The cat and the dog");
    NO(id, "{\"keyword\":\"the\",\"frequency\":2,\"relation\":\"less than\"}", "The cat and the dog");
    YES(id, "{\"keyword\":\"aa\",\"frequency\":2,\"relation\":\"less than\"}", "aaa"); /* non-overlapping: 1 */
    YES(id, "{\"keyword\":\"a.b\",\"frequency\":1,\"relation\":\"less than\"}", "axb axb");
    YES(id, "{\"keyword\":\"+\",\"frequency\":3,\"relation\":\"at least\"}", "1+2+3+4");

    id = "keywords:forbidden_words";
    YES(id, "{\"forbidden_words\":[\"bad\"]}", "This is badminton");
    NO(id, "{\"forbidden_words\":[\"bad\"]}", "This is bad.");
    NO(id, "{\"forbidden_words\":[\"bad\"]}", "BAD idea");
    NO(id, "{\"forbidden_words\":[\"c++\"]}", "I like c++ a lot");
    YES(id, "{\"forbidden_words\":[\"c++\"]}", "I like abc++ a lot"); /* 'c' does not start a word */
    NO(id, "{\"forbidden_words\":[\"ice cream\"]}", "Ice cream, please");
    YES(id, "{\"forbidden_words\":[\"a.b\"]}", "axb is fine");
    YES(id, "{\"forbidden_words\":[\"caf\xC3\xA9\"]}", "caf\xC3\xA9s are plural"); /* é then s: no boundary */

    id = "keywords:letter_frequency";
    YES(id, "{\"letter\":\"a\",\"let_frequency\":3,\"let_relation\":\"at least\"}", "Banana");
    NO(id, "{\"letter\":\"a\",\"let_frequency\":3,\"let_relation\":\"less than\"}", "Banana");
    YES(id, "{\"letter\":\"A\",\"let_frequency\":3,\"let_relation\":\"at least\"}", "bAnana");
    YES(id, "{\"letter\":\"\xC3\xA9\",\"let_frequency\":2,\"let_relation\":\"at least\"}", "\xC3\x89t\xC3\xA9");
}

static void test_language(void) {
    const char *id = "language:response_language";
    YES(id, "{\"language\":\"ru\"}", "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, \xD0\xBA\xD0\xB0\xD0\xBA OK?");
    NO(id, "{\"language\":\"ru\"}", "Hello there, how are you?");
    YES(id, "{\"language\":\"ru\"}", "12345 !!!"); /* no letters: passes, as langdetect's failure does */
    YES(id, "{\"language\":\"ja\"}", "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF\xE4\xB8\x96\xE7\x95\x8C");
    YES(id, "{\"language\":\"zh\"}", "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C");
    NO(id, "{\"language\":\"zh\"}", "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF\xE4\xB8\x96\xE7\x95\x8C");
    NO(id, "{\"language\":\"ja\"}", "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C");
    YES(id, "{\"language\":\"hi\"}", "\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8\xE0\xA5\x8D\xE0\xA4\xA4\xE0\xA5\x87");
    YES(id, "{\"language\":\"KO\"}", "\xEC\x95\x88\xEB\x85\x95");
    /* Latin-script languages cannot be told apart without a detector: refused at parse time */
    ifeval_list *l;
    rlvr_err e = {0};
    const char *js = "[{\"instruction_id\":\"language:response_language\",\"kwargs\":{\"language\":\"de\"}}]";
    CHECK(ifeval_parse(js, strlen(js), &l, &e) == RLVR_EUNSUPPORTED && strstr(e.msg, "'de'") && !l, "de: %s", e.msg);
}

static void test_content(void) {
    const char *id = "detectable_content:number_placeholders";
    YES(id, "{\"num_placeholders\":2}", "[name] lives at [address]");
    NO(id, "{\"num_placeholders\":3}", "[name] lives at [address]");
    NO(id, "{\"num_placeholders\":1}", "[name\n] is split");
    YES(id, "{\"num_placeholders\":1}", "an empty [] counts");
    YES(id, "{\"num_placeholders\":1}", "[[a] counts once");
    NO(id, "{\"num_placeholders\":2}", "[[a] counts once");

    id = "detectable_content:postscript";
    YES(id, "{\"postscript_marker\":\"P.S.\"}", "Hi\nP.S. bye");
    YES(id, "{\"postscript_marker\":\"P.S.\"}", "Hi\n  p. s. bye");
    NO(id, "{\"postscript_marker\":\"P.S.\"}", "Hi, see the P.S. inline"); /* line start only */
    NO(id, "{\"postscript_marker\":\"P.S.\"}", "Hi\nPS bye");
    YES(id, "{\"postscript_marker\":\"P.P.S\"}", "Hi\nP.S. a\nP.P.S more");
    NO(id, "{\"postscript_marker\":\"P.P.S\"}", "Hi\nP.S. only");
    YES(id, "{\"postscript_marker\":\"Note:\"}", "Hi\nnote: custom marker");
}

static void test_format(void) {
    const char *id = "detectable_format:number_bullet_lists";
    YES(id, "{\"num_bullets\":3}", "Intro\n* a\n* b\n- c");
    NO_STRICT(id, "{\"num_bullets\":2}", "Intro\n* a\n* b\n- c");
    NO(id, "{\"num_bullets\":2}", "Intro\n* a\n* b\n- c\nOutro");
    YES(id, "{\"num_bullets\":1}", "** bold line\n* a");
    YES(id, "{\"num_bullets\":2}", "* a\n---");        /* a '-' line counts, so '---' does */
    YES(id, "{\"num_bullets\":2}", "  * indented\n\t- tab");
    YES(id, "{\"num_bullets\":0}", "no bullets here");

    id = "detectable_format:constrained_response";
    YES(id, NULL, "My answer is yes.");
    YES(id, NULL, "Thinking... My answer is maybe. Really");
    NO(id, NULL, "my answer is yes");

    id = "detectable_format:number_highlighted_sections";
    YES(id, "{\"num_highlights\":2}", "*a* and *b*");
    YES(id, "{\"num_highlights\":1}", "**bold**");
    NO(id, "{\"num_highlights\":2}", "**bold**");
    NO(id, "{\"num_highlights\":1}", "* * and ** **");
    NO(id, "{\"num_highlights\":1}", "*a\nb*");
    YES(id, "{\"num_highlights\":3}", "*one* **two** *three*");

    id = "detectable_format:multiple_sections";
    YES(id, "{\"section_spliter\":\"Section\",\"num_sections\":2}", "Section 1\nfoo\nSection 2\nbar");
    NO(id, "{\"section_spliter\":\"Section\",\"num_sections\":2}", "SECTION 1\nfoo\nSECTION 2\nbar");
    NO(id, "{\"section_spliter\":\"Section\",\"num_sections\":1}", "Section X");
    YES(id, "{\"section_spliter\":\"PARAGRAPH\",\"num_sections\":2}", "PARAGRAPH1 a PARAGRAPH 22 b");
    YES(id, "{\"section_spliter\":\"S.\",\"num_sections\":1}", "S. 3 literal dot");
    NO(id, "{\"section_spliter\":\"S.\",\"num_sections\":1}", "Sx 3 not a regex");

    id = "detectable_format:json_format";
    YES(id, NULL, "{\"a\": 1}");
    YES(id, NULL, "```json\n{\"a\": [1, 2.5e3, null, true]}\n```");
    YES(id, NULL, "```JSON\n[]\n```");
    YES(id, NULL, "```\n\"just a string\"\n```");
    YES(id, NULL, "  42  ");
    YES(id, NULL, "NaN");
    YES(id, NULL, "{\"a\": -Infinity}");
    YES(id, NULL, "{\"k\": \"\\u00e9\\n\"}");
    NO(id, NULL, "{'a': 1}");
    NO(id, NULL, "{\"a\": 1,}");                 /* trailing comma */
    NO(id, NULL, "\xEF\xBB\xBF{\"a\": 1}");      /* BOM */
    NO(id, NULL, "[1, 2");
    NO(id, NULL, "{} extra");
    NO(id, NULL, "{\"a\": \"tab\there\"}");      /* raw control character in a string */
    NO(id, NULL, "{\"a\": 01}");
    NO(id, NULL, "{\"a\" 1}");
    NO(id, NULL, "Here is the JSON: {\"a\": 1}");
    char deep[2100];
    memset(deep, '[', 1050);
    memset(deep + 1050, ']', 1050);
    CHECK(verdict_n(id, NULL, deep, 2100, LOOSE) == 0, "nesting beyond 1000");
    memset(deep, '[', 500);
    memset(deep + 500, ']', 500);
    CHECK(verdict_n(id, NULL, deep, 1000, STRICT) == 1, "nesting 500");

    id = "detectable_format:title";
    YES(id, NULL, "<<My Title>>\nbody");
    YES(id, NULL, "text <<<nested>>> text");
    NO(id, NULL, "<<>> empty title");
    NO(id, NULL, "<< >> blank title");
    NO(id, NULL, "no title");
    NO(id, NULL, "<<a\nb>> across lines");
    YES(id, NULL, "line one\n<<second>>");
}

static void test_combination(void) {
    const char *id = "combination:two_responses";
    YES(id, NULL, "resp1\n******\nresp2");
    NO(id, NULL, "same\n******\nsame");
    NO(id, NULL, "a\n******\n\n******\nb");
    YES(id, NULL, "******\na\n******\nb");
    YES(id, NULL, "a\n******\nb\n******");
    NO_STRICT(id, NULL, "a\n******\nb\n******\nc");
    NO(id, NULL, "a ****** b ****** c");
    NO(id, NULL, "only one");

    id = "combination:repeat_prompt";
    YES(id, "{\"prompt_to_repeat\":\"Write a poem.\"}", "  write a POEM. Here it is");
    NO(id, "{\"prompt_to_repeat\":\"Write a poem.\"}", "Here: Write a poem.");

    id = "startend:end_checker";
    YES(id, "{\"end_phrase\":\"Is there anything else I can help with?\"}",
        "Done. Is there anything else I can help with?\"  ");
    NO(id, "{\"end_phrase\":\"Is there anything else I can help with?\"}",
        "Is there anything else I can help with? Bye");
    YES(id, "{\"end_phrase\":\"peace.\"}", "Love and PEACE.");

    id = "startend:quotation";
    YES(id, NULL, "  \"hello\"\n");
    YES(id, NULL, "\"\"");
    NO(id, NULL, "hello");
    NO(id, NULL, "\"");
    NO(id, NULL, "\"open only");
}

static void test_case(void) {
    const char *id = "change_case:capital_word_frequency";
    YES(id, "{\"capital_frequency\":2,\"capital_relation\":\"at least\"}", "HELLO WORLD foo");
    NO(id, "{\"capital_frequency\":2,\"capital_relation\":\"less than\"}", "HELLO WORLD foo");
    YES(id, "{\"capital_frequency\":1,\"capital_relation\":\"less than\"}", "Hello World 123 !!!");

    id = "change_case:english_capital";
    YES(id, NULL, "HELLO WORLD 123");
    NO(id, NULL, "HELLO World");
    YES(id, NULL, "\xC3\x89" "COLE"); /* ÉCOLE */
    NO(id, NULL, "123 ...");
    NO(id, NULL, "\xC7\x85"); /* Dž (titlecase): cased but not upper */
    id = "change_case:english_lowercase";
    YES(id, NULL, "\xC3\xA9" "cole et caf\xC3\xA9");
    NO(id, NULL, "hello World");
    NO(id, NULL, "123");

    id = "punctuation:no_comma";
    YES(id, NULL, "a b c");
    NO(id, NULL, "a, b");
    YES(id, NULL, "full-width \xEF\xBC\x8C is not an ASCII comma");
}

static void test_strict_loose(void) {
    /* an empty or blank response follows nothing, in either mode */
    CHECK(verdict("punctuation:no_comma", NULL, "", LOOSE) == 0, "empty");
    CHECK(verdict("punctuation:no_comma", NULL, " \n\t ", LOOSE) == 0, "blank");
    CHECK(verdict_n("punctuation:no_comma", NULL, NULL, 0, LOOSE) == 0, "NULL, 0");
    LOOSE_ONLY("change_case:english_lowercase", NULL, "Sure!\nhello world");         /* first line dropped */
    LOOSE_ONLY("startend:end_checker", "{\"end_phrase\":\"Done.\"}", "text Done.\nThanks!"); /* last line */
    LOOSE_ONLY("detectable_format:json_format", NULL, "Here is the JSON:\n{\"a\": 1}\nHope it helps");
    LOOSE_ONLY("startend:quotation", NULL, "*\"hi\"*");                              /* stars removed */
    LOOSE_ONLY("combination:repeat_prompt", "{\"prompt_to_repeat\":\"Say hi\"}", "**Say hi** then more");
    LOOSE_ONLY("startend:quotation", NULL, "Title\n*\"quoted\"*\nfooter");           /* both */
    NO("punctuation:no_comma", NULL, "a,\nb,\nc");
    /* several instructions at once, counts */
    const char *js = "[{\"instruction_id\":\"punctuation:no_comma\"},"
                     "{\"instruction_id\":\"change_case:english_lowercase\"},"
                     "{\"instruction_id\":\"detectable_format:title\"}]";
    ifeval_list *l;
    rlvr_err e = {0};
    CHECK(ifeval_parse(js, strlen(js), &l, &e) == RLVR_OK && ifeval_count(l) == 3, "parse 3: %s", e.msg);
    CHECK(strcmp(ifeval_id(l, 1), "change_case:english_lowercase") == 0 && !ifeval_id(l, 3) && !ifeval_id(l, -1), "ids");
    ifeval_result r;
    const char *resp = "Intro Line\nall lower, with comma";
    CHECK(ifeval_check(l, resp, strlen(resp), &r, &e) == RLVR_OK, "check");
    /* no_comma: only "Intro Line" (last line dropped) has none; lowercase: only with the first
     * line dropped; title: never */
    CHECK(r.n == 3 && r.n_strict == 0 && r.n_loose == 2 && r.loose[0] == 1 && r.loose[1] == 1 && r.loose[2] == 0,
          "counts %d %d", r.n_strict, r.n_loose);
    ifeval_free(l);
    ifeval_free(NULL);
}

static void test_parse_errors(void) {
    struct { const char *js; int rc; const char *want; } c[] = {
        {"[{\"instruction_id\":\"keywords:nope\"}]", RLVR_EARG, "'keywords:nope'"},
        {"[{\"instruction_id\":\"length_constraints:number_words\",\"kwargs\":{\"num_words\":3}}]", RLVR_EARG, "'relation'"},
        {"[{\"instruction_id\":\"length_constraints:number_words\",\"kwargs\":{\"num_words\":3,\"relation\":\"about\"}}]",
         RLVR_EARG, "relation 'about'"},
        {"[{\"instruction_id\":\"length_constraints:number_words\",\"kwargs\":{\"num_words\":\"x\",\"relation\":\"at least\"}}]",
         RLVR_EARG, "'num_words' is not an integer"},
        {"[{\"instruction_id\":\"length_constraints:number_words\",\"kwargs\":{\"num_words\":null,\"relation\":\"at least\"}}]",
         RLVR_EARG, "needs kwarg 'num_words'"},
        {"[{\"instruction_id\":\"keywords:letter_frequency\",\"kwargs\":{\"letter\":\"ab\",\"let_frequency\":1,"
         "\"let_relation\":\"at least\"}}]", RLVR_EARG, "one character"},
        {"[{\"instruction_id\":\"keywords:existence\",\"kwargs\":{\"keywords\":[1]}}]", RLVR_EARG, "not a string"},
        {"[{\"instruction_id\":\"detectable_format:multiple_sections\",\"kwargs\":{\"section_spliter\":\"\","
         "\"num_sections\":1}}]", RLVR_EARG, "empty section_spliter"},
        {"[{\"instruction_id\":\"keywords:forbidden_words\",\"kwargs\":{\"forbidden_words\":[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]}}]",
         RLVR_EARG, "longer than 128"},
        {"[{\"kwargs\":{}}]", RLVR_EFORMAT, "instruction_id"},
        {"{\"instruction_id\":\"punctuation:no_comma\"}", RLVR_EFORMAT, "array"},
        {"[{\"instruction_id\":", RLVR_EFORMAT, "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        ifeval_list *l = (ifeval_list *)1;
        rlvr_err e = {0};
        int rc = ifeval_parse(c[i].js, strlen(c[i].js), &l, &e);
        CHECK(rc == c[i].rc && l == NULL && strstr(e.msg, c[i].want), "case %zu: rc %d msg '%s' (want '%s')", i, rc,
              e.msg, c[i].want);
    }
    /* null kwargs and unknown keys are ignored (IFEval rows carry every key) */
    const char *ok = "[{\"instruction_id\":\"punctuation:no_comma\",\"kwargs\":{\"num_words\":null,\"extra\":1}},"
                     "{\"instruction_id\":\"detectable_format:title\",\"kwargs\":null}]";
    ifeval_list *l;
    rlvr_err e = {0};
    CHECK(ifeval_parse(ok, strlen(ok), &l, &e) == RLVR_OK && ifeval_count(l) == 2, "nulls ignored: %s", e.msg);
    ifeval_free(l);
    /* too many instructions */
    char big[8192] = "[";
    for (int i = 0; i <= IFEVAL_MAX_INSTR; i++) strcat(big, i ? ",{\"instruction_id\":\"punctuation:no_comma\"}" : "{\"instruction_id\":\"punctuation:no_comma\"}");
    strcat(big, "]");
    CHECK(ifeval_parse(big, strlen(big), &l, &e) == RLVR_EARG && strstr(e.msg, "more than"), "too many: %s", e.msg);
    /* the two-column form */
    const char *ids = "[\"punctuation:no_comma\", \"length_constraints:number_words\"]";
    const char *kws = "[{}, {\"relation\": \"less than\", \"num_words\": 5}]";
    CHECK(ifeval_parse_pair(ids, strlen(ids), kws, strlen(kws), &l, &e) == RLVR_OK && ifeval_count(l) == 2, "pair: %s", e.msg);
    ifeval_result r;
    CHECK(ifeval_check(l, "two words", 9, &r, &e) == RLVR_OK && r.n_strict == 2, "pair check");
    ifeval_free(l);
    CHECK(ifeval_parse_pair(ids, strlen(ids), "[{}]", 4, &l, &e) == RLVR_EFORMAT && strstr(e.msg, "2 instruction ids but 1"),
          "pair mismatch: %s", e.msg);
    const char *ids1 = "[\"detectable_format:title\"]";
    CHECK(ifeval_parse_pair(ids1, strlen(ids1), NULL, 0, &l, &e) == RLVR_OK, "pair without kwargs");
    ifeval_free(l);
    const char *all[32];
    CHECK(ifeval_ids(all, 32) == 25 && strcmp(all[24], "punctuation:no_comma") == 0, "25 ids");
}

static void test_rewards(void) {
    const char *instr = "[{\"instruction_id\":\"punctuation:no_comma\"},"
                        "{\"instruction_id\":\"change_case:english_lowercase\"}]";
    reward_kv kv[1] = {{"instructions", instr, strlen(instr)}};
    reward_input in;
    memset(&in, 0, sizeof in);
    in.completion = "Sure, ok\nall lower, with comma";
    in.completion_n = strlen(in.completion);
    in.extra = kv, in.n_extra = 1;
    in.n_tokens = -1;
    reward_output o;
    rlvr_err e = {0};
    CHECK(reward_score(reward_registry_find("ifeval"), &in, &o, &e) == RLVR_OK && o.reward == 0.0 && o.correct == 0,
          "ifeval strict: %g %s", o.reward, e.msg);
    double v;
    CHECK(reward_output_get(&o, "if_loose", &v) && v == 0.5, "if_loose field");
    reward_fn *f = NULL;
    CHECK(reward_create("ifeval[mode=loose]", &f, &e) == RLVR_OK, "create loose");
    CHECK(reward_score(f, &in, &o, &e) == RLVR_OK && o.reward == 0.5, "loose fraction");
    reward_free(f);
    in.completion = "all lower no comma";
    in.completion_n = strlen(in.completion);
    CHECK(reward_score(reward_registry_find("ifeval_strict_all"), &in, &o, &e) == RLVR_OK && o.reward == 1.0 &&
              o.correct == 1, "strict all");
    /* the answer after </think> is what counts; an unclosed <think> follows nothing */
    in.completion = "<think>Thinking, WITH CAPS</think>all lower no comma";
    in.completion_n = strlen(in.completion);
    CHECK(reward_score(reward_registry_find("ifeval_loose_all"), &in, &o, &e) == RLVR_OK && o.reward == 1.0, "think stripped");
    CHECK(reward_create("ifeval_strict_all[strip_think=0]", &f, &e) == RLVR_OK, "create strip_think=0");
    CHECK(reward_score(f, &in, &o, &e) == RLVR_OK && o.reward == 0.0, "think kept");
    reward_free(f);
    in.completion = "<think>still thinking, no end";
    in.completion_n = strlen(in.completion);
    CHECK(reward_score(reward_registry_find("ifeval"), &in, &o, &e) == RLVR_OK && o.reward == 0.0, "unclosed think");
    /* IFEval's own columns, and a custom column name */
    const char *ids = "[\"punctuation:no_comma\"]";
    reward_kv kv2[2] = {{"instruction_id_list", ids, strlen(ids)}, {"kwargs", "[{}]", 4}};
    in.completion = "fine", in.completion_n = 4;
    in.extra = kv2, in.n_extra = 2;
    CHECK(reward_score(reward_registry_find("ifeval"), &in, &o, &e) == RLVR_OK && o.reward == 1.0, "pair columns: %s", e.msg);
    reward_kv kv3[1] = {{"constraints", instr, strlen(instr)}};
    in.extra = kv3, in.n_extra = 1;
    CHECK(reward_score(reward_registry_find("ifeval"), &in, &o, &e) == RLVR_EARG && strstr(e.msg, "'instructions'"),
          "missing column: %s", e.msg);
    CHECK(reward_create("ifeval[column=constraints]", &f, &e) == RLVR_OK, "column param");
    CHECK(reward_score(f, &in, &o, &e) == RLVR_OK && o.reward == 1.0, "custom column");
    reward_free(f);
    /* a bad row is an error naming the id */
    const char *bad = "[{\"instruction_id\":\"made:up\"}]";
    reward_kv kv4[1] = {{"instructions", bad, strlen(bad)}};
    in.extra = kv4;
    CHECK(reward_score(reward_registry_find("ifeval"), &in, &o, &e) == RLVR_EARG && strstr(e.msg, "made:up"), "%s", e.msg);
    reward_kv kv5[1] = {{"instructions", "[]", 2}};
    in.extra = kv5;
    CHECK(reward_score(reward_registry_find("ifeval"), &in, &o, &e) == RLVR_EARG && strstr(e.msg, "no instructions"), "%s", e.msg);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Every instruction on hostile responses just under the size cap, and over it. */
static void test_hostile(void) {
    static const char *const kw[25] = {
        "{\"keywords\":[\"c++\"]}", "{\"keyword\":\"ab\",\"frequency\":3,\"relation\":\"less than\"}",
        "{\"forbidden_words\":[\"ab\"]}", "{\"letter\":\"a\",\"let_frequency\":3,\"let_relation\":\"less than\"}",
        "{\"language\":\"ru\"}", "{\"num_sentences\":3,\"relation\":\"less than\"}", "{\"num_paragraphs\":3}",
        "{\"num_words\":3,\"relation\":\"less than\"}", "{\"num_paragraphs\":3,\"nth_paragraph\":2,\"first_word\":\"x\"}",
        "{\"num_placeholders\":1000000000}", "{\"postscript_marker\":\"P.S.\"}", "{\"num_bullets\":3}", "{}",
        "{\"num_highlights\":1000000000}", "{\"section_spliter\":\"ab\",\"num_sections\":100000000}", "{}", "{}", "{}",
        "{\"prompt_to_repeat\":\"zzz\"}", "{\"end_phrase\":\"zzz\"}", "{}",
        "{\"capital_frequency\":3,\"capital_relation\":\"less than\"}", "{}", "{}", "{}"};
    const char *ids[25];
    ifeval_ids(ids, 25);
    char js[16384] = "[";
    for (int i = 0; i < 25; i++) {
        char one[512];
        snprintf(one, sizeof one, "%s{\"instruction_id\":\"%s\",\"kwargs\":%s}", i ? "," : "", ids[i], kw[i]);
        strcat(js, one);
    }
    strcat(js, "]");
    ifeval_list *l;
    rlvr_err e = {0};
    CHECK(ifeval_parse(js, strlen(js), &l, &e) == RLVR_OK && ifeval_count(l) == 25, "parse all: %s", e.msg);
    const size_t N = IFEVAL_MAX_RESPONSE;
    char *buf = malloc(N + 1);
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int kind = 0; kind < 4; kind++) {
        for (size_t i = 0; i <= N; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = kind == 0 ? (char)x : kind == 1 ? "a *\n[]<>\"{},.!?-"[x % 16]
                   : kind == 2 ? (char)(0x80 | (x & 0x3f)) : "[*<\n"[i % 4];
        }
        ifeval_result r;
        size_t n = kind == 0 ? N : N / 4; /* random bytes at the cap, the others at 256 KiB */
        double t0 = now_s();
        CHECK(ifeval_check(l, buf, n, &r, &e) == RLVR_OK && r.n == 25, "hostile %d", kind);
        double dt = now_s() - t0;
        CHECK(dt < 20.0 * TIME_SCALE, "hostile %d (a complexity guard: quadratic time would take minutes): 25 instructions on %zu bytes took %.2f s", kind, n, dt);
        CHECK(ifeval_check(l, buf, N + 1, &r, &e) == RLVR_OK && r.n == 25 && r.n_loose == 0, "over the cap");
    }
    ifeval_free(l);
    /* kwargs at their caps against responses that re-test a match at every position */
    char js2[1024];
    char word[IFEVAL_MAX_WORD + 1];
    memset(word, 'a', IFEVAL_MAX_WORD);
    word[IFEVAL_MAX_WORD] = 0;
    snprintf(js2, sizeof js2, "[{\"instruction_id\":\"keywords:forbidden_words\",\"kwargs\":{\"forbidden_words\":[\"%s\"]}},"
             "{\"instruction_id\":\"detectable_format:multiple_sections\",\"kwargs\":{\"section_spliter\":\"%s\",\"num_sections\":1}},"
             "{\"instruction_id\":\"detectable_content:postscript\",\"kwargs\":{\"postscript_marker\":\"%s\"}}]",
             word, word, word);
    CHECK(ifeval_parse(js2, strlen(js2), &l, &e) == RLVR_OK, "parse capped: %s", e.msg);
    for (int kind = 0; kind < 2; kind++) {
        memset(buf, kind ? '\n' : 'a', N);
        if (kind) for (size_t i = 0; i < N; i += 2) buf[i] = 'a';
        ifeval_result r;
        double t0 = now_s();
        CHECK(ifeval_check(l, buf, N, &r, &e) == RLVR_OK, "capped kwargs %d", kind);
        double dt = now_s() - t0;
        CHECK(dt < 2.0 * TIME_SCALE, "capped kwargs %d took %.2f s", kind, dt);
    }
    ifeval_free(l);
    free(buf);
}

int main(void) {
    RUN(test_number_words);
    RUN(test_sentences);
    RUN(test_paragraphs);
    RUN(test_keywords);
    RUN(test_language);
    RUN(test_content);
    RUN(test_format);
    RUN(test_combination);
    RUN(test_case);
    RUN(test_strict_loose);
    RUN(test_parse_errors);
    RUN(test_rewards);
    RUN(test_hostile);
    return check_finish("test_ifeval");
}
