/* dataset.h: JSONL prompt datasets. Loads one JSON object per line with a field mapping
 * (a prompt string or a chat messages list, a ground truth, a data source, and every
 * other column passed through as key/value strings), renders a prompt template,
 * shuffles with a seed and splits train/eval. Not a tokenizer or a reward: rows are
 * texts, and row->extra has the reward_kv layout so a reward_input can point at it.
 *
 *     dataset_params dp = dataset_default_params();      // "prompt", "ground_truth", ...
 *     dataset *d; dataset_stats st;
 *     if (dataset_load("train.jsonl", &dp, &d, &st, &err)) ...;   // err names file:line
 *     dataset_shuffle(d, seed);
 *     dataset *tr, *ev;
 *     dataset_split(d, 0.1, DATASET_SPLIT_HASH, seed, &tr, &ev, &err);
 *     const dataset_row *r = dataset_row_at(tr, 0);      // r->prompt, r->answer, ...
 *     dataset_free(d); dataset_free(tr); dataset_free(ev);
 *
 * Strictness. Nothing is skipped unless params.skip_bad is set: the first bad line is an
 * error naming the file, the physical line (1-based, counting every '\n') and, for
 * JSON syntax and UTF-8 errors, the byte offset in the file and the column. Bad lines
 * are: invalid JSON or trailing text after the object, a value that is not an object,
 * invalid UTF-8, a NUL byte, a line longer than max_line_bytes, a BOM anywhere but the
 * start of the file, a missing prompt (or messages) or ground truth, a field of the
 * wrong type, a rendered prompt longer than max_prompt_bytes. With skip_bad each such
 * line is counted in stats (with the first DATASET_STATS_LINES line numbers and the
 * first message). Accepted and reported, never silent: a UTF-8 BOM at the start of the
 * file (stats.had_bom), CRLF line ends (stats.n_crlf, the '\r' is dropped), and blank
 * lines (whitespace only; stats.n_blank and their first line numbers). An empty file
 * loads as an empty dataset.
 *
 * Ownership: a dataset owns its rows and every string in them; dataset_free (NULL-safe)
 * frees it. Rows are immutable after loading; pointers stay valid until the dataset is
 * freed (dataset_shuffle moves rows, so re-fetch pointers after shuffling). */
#ifndef RLVR_TASKS_DATASET_H
#define RLVR_TASKS_DATASET_H
#include <stddef.h>
#include <stdint.h>
#include "rlvr.h"
#include "rewards/reward.h" /* reward_kv: the layout of row->extra */

#define DATASET_STATS_LINES 10          /* line numbers kept per stats list */
#define DATASET_KEY_CAP     128         /* longest field name in params, NUL included */

enum { DATASET_SPLIT_FRACTION = 0, DATASET_SPLIT_HASH = 1 };

typedef struct dataset_params {
    /* Field mapping. A key may be a dotted path into nested objects
     * ("reward_model.ground_truth"); the top-level key of a mapped path is not passed
     * through in extra. Empty string or NULL: not mapped. */
    const char *prompt_key;      /* "prompt": a string */
    const char *messages_key;    /* "messages": [{"role":..,"content":..}, ..], used when
                                    the row has no prompt_key; prompt = last user content */
    const char *answer_key;      /* "ground_truth": a string, or a number (its JSON text) */
    const char *data_source_key; /* "data_source": a string; absent -> default_data_source */
    const char *default_data_source; /* "" */
    int require_answer;          /* 1: a row without answer_key is bad (default 1) */
    const char *template_str;    /* NULL, or a text where every "{prompt}" is replaced by
                                    the prompt (must contain "{prompt}") */
    size_t max_line_bytes;       /* 1 MiB: longer physical lines are bad */
    size_t max_prompt_bytes;     /* 256 KiB: longer rendered prompts are bad */
    int skip_bad;                /* 0: the first bad line is an error; 1: skip and count */
} dataset_params;

typedef struct dataset_msg {
    char *role, *content;
} dataset_msg;

typedef struct dataset_row {
    char *prompt;          /* rendered (template applied), NUL-terminated */
    size_t prompt_n;
    char *answer;          /* ground truth, "" when absent (answer_n 0) */
    size_t answer_n;
    char *data_source;     /* NUL-terminated, never NULL */
    int n_messages;        /* 0 for prompt rows */
    dataset_msg *messages; /* chat rows: as in the file, but the last user message's
                              content is the rendered prompt */
    int n_extra;
    reward_kv *extra;      /* other top-level columns: strings raw, other values as
                              their compact JSON text; key and val NUL-terminated */
    long line;             /* physical line in the file (1-based) */
    uint64_t key;          /* hash of the raw prompt (before the template): for dedup
                              and hash splits */
} dataset_row;

typedef struct dataset_stats {
    long n_lines;          /* physical lines read */
    int n_rows;            /* rows kept */
    int had_bom;           /* the file began with a UTF-8 BOM (dropped) */
    long n_crlf;           /* lines that ended in "\r\n" */
    long n_blank;          /* whitespace-only lines (skipped, always counted) */
    long blank_lines[DATASET_STATS_LINES];
    long n_skipped;        /* bad lines skipped (skip_bad only) */
    long skipped_lines[DATASET_STATS_LINES];
    char first_skip_msg[256]; /* why the first skipped line was bad */
} dataset_stats;

typedef struct dataset dataset;

/* prompt_key "prompt", messages_key "messages", answer_key "ground_truth",
 * data_source_key "data_source", default_data_source "", require_answer 1, no template,
 * max_line_bytes 1 MiB, max_prompt_bytes 256 KiB, skip_bad 0. */
dataset_params dataset_default_params(void);

/* Loads path. *out gets a new dataset (NULL on error); stats (may be NULL) is filled
 * in both cases. Errors: RLVR_EIO (open/read), RLVR_EFORMAT (a bad line, naming
 * "path:line"), RLVR_ECONFIG (bad params: no prompt or messages key, a template
 * without "{prompt}"), RLVR_ENOMEM. */
int dataset_load(const char *path, const dataset_params *p, dataset **out, dataset_stats *stats,
                 rlvr_err *err);

/* Builds a dataset from JSONL text in memory (same rules; `name` is used in messages). */
int dataset_load_mem(const char *name, const char *text, size_t n, const dataset_params *p,
                     dataset **out, dataset_stats *stats, rlvr_err *err);

void dataset_free(dataset *d);
int dataset_count(const dataset *d);                 /* 0 for NULL */
const dataset_row *dataset_row_at(const dataset *d, int i); /* NULL when out of range */

/* Shuffles the rows in place (Fisher-Yates, from the end, rng_below from a stream of
 * seed). The same seed and rows give the same order on every platform. */
void dataset_shuffle(dataset *d, uint64_t seed);

/* Splits into two new datasets (deep copies; d is unchanged). eval_frac in [0, 1].
 * DATASET_SPLIT_FRACTION: the last round(n * eval_frac) rows in the current order are
 * eval (shuffle first for a random split). DATASET_SPLIT_HASH: a row is eval iff
 * mix(key, seed) mod 2^32 < eval_frac * 2^32, so identical prompts always land on the
 * same side, whatever the order or the file they come from. Either output may be NULL
 * when not wanted. */
int dataset_split(const dataset *d, double eval_frac, int mode, uint64_t seed,
                  dataset **train, dataset **eval, rlvr_err *err);

/* The key dataset rows carry: a 64-bit hash of s[0..n). */
uint64_t dataset_hash(const char *s, size_t n);

#endif
