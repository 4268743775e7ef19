/* ifeval.h: IFEval-style verifiable instruction checkers (Google IFEval as ported in
 * lm-evaluation-harness: 25 instruction ids), a parser for the per-row instruction
 * list, strict and loose scoring, and the "ifeval" registry entries. Not a language
 * detector and not a sentence tokenizer model: the few places where IFEval leans on
 * langdetect or nltk punkt use the documented rules in docs/verifiers.md ("IFEval").
 *
 * Instructions come as JSON, one object per instruction:
 *     [{"instruction_id": "length_constraints:number_words",
 *       "kwargs": {"relation": "at least", "num_words": 300}}, ...]
 * or as IFEval's two parallel columns (instruction_id_list, kwargs). kwargs keys whose
 * value is null are ignored (IFEval rows carry every key, most of them null); unknown
 * keys are ignored; a missing required key or an unknown instruction id is an error
 * naming it.
 *
 * Matching is literal: keywords, phrases and splitters are text, never regexes, so
 * "c++" and "a.b" mean themselves. Every check is linear in the response (hostile
 * 10 MB texts, NUL bytes and invalid UTF-8 included: invalid bytes read as U+FFFD). */
#ifndef RLVR_REWARDS_IFEVAL_H
#define RLVR_REWARDS_IFEVAL_H
#include <stddef.h>
#include "rlvr.h"
#include "rewards/reward.h"

#define IFEVAL_MAX_INSTR 32  /* instructions per row */
#define IFEVAL_MAX_WORDS 64  /* keywords per keywords:existence / forbidden_words */
#define IFEVAL_MAX_STR   4096 /* bytes of a prompt to repeat or an end phrase */
#define IFEVAL_MAX_WORD  128  /* bytes of a keyword, forbidden word, splitter, marker, first word */
#define IFEVAL_MAX_RESPONSE ((size_t)1 << 20) /* longer responses follow no instruction */

typedef struct ifeval_list ifeval_list; /* parsed instructions of one row (opaque) */

/* Parses a JSON array of {"instruction_id", "kwargs"} objects. RLVR_EFORMAT for bad
 * JSON or shape, RLVR_EARG for an unknown id or a missing/ill-typed kwarg (message names
 * the id and the key), RLVR_EUNSUPPORTED for language:response_language with a
 * Latin-script language (there is no language detector), RLVR_ENOMEM. *out is NULL on
 * error; free it with ifeval_free. */
int ifeval_parse(const char *json, size_t n, ifeval_list **out, rlvr_err *err);
/* The same from IFEval's columns: a JSON array of ids and a JSON array of kwargs objects
 * (same length; kwargs may be NULL/0 when every instruction takes none). */
int ifeval_parse_pair(const char *ids_json, size_t ids_n, const char *kwargs_json, size_t kwargs_n,
                      ifeval_list **out, rlvr_err *err);
void ifeval_free(ifeval_list *l);

int ifeval_count(const ifeval_list *l);
const char *ifeval_id(const ifeval_list *l, int i); /* "keywords:existence"; NULL out of range */

typedef struct ifeval_result {
    int n;        /* instructions checked */
    int n_strict; /* followed under strict checking */
    int n_loose;  /* followed under loose checking (>= n_strict) */
    unsigned char strict[IFEVAL_MAX_INSTR]; /* per instruction, 1 = followed */
    unsigned char loose[IFEVAL_MAX_INSTR];
} ifeval_result;

/* Checks response[0..n) against every instruction. Strict: the response as given, and
 * an empty (all-whitespace) response follows nothing. Loose: followed when any of 8
 * variants follows it: the response, with its first line removed, its last line, both
 * (those three stripped), each also with every '*' deleted. A response longer than
 * IFEVAL_MAX_RESPONSE follows nothing (this bounds the work per call: every check is
 * linear, 8 variants, at most IFEVAL_MAX_INSTR instructions). Returns RLVR_OK, or
 * RLVR_ENOMEM / RLVR_EARG. */
int ifeval_check(const ifeval_list *l, const char *response, size_t n, ifeval_result *res,
                 rlvr_err *err);

/* The supported instruction ids (25), for docs and tests; returns the total. */
int ifeval_ids(const char **ids, int cap);

/* Registry entries defined in ifeval.c ("ifeval", "ifeval_strict_all", "ifeval_loose_all"). */
extern const reward_entry ifeval_rewards[];
extern const int ifeval_n_rewards;

#endif
