/* fuzz_jsonl.c: libFuzzer target for the JSONL dataset loader (src/tasks/dataset.c).
 *
 * The input is a whole JSONL file. dataset_load_mem runs with default params, with
 * skip_bad, and with a dotted answer key, a template and small line/prompt caps. When a
 * dataset loads, every row is walked (strings NUL-terminated at their lengths, extra
 * columns well formed), the stats are checked against the row count, and the dataset
 * is shuffled and split. Checked: no crash or sanitizer report; *out NULL on failure;
 * skip_bad loads whatever the strict load loads, with the same rows.
 * Build and run: tests/fuzz/run.sh (docs/fuzzing.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tasks/dataset.h"

static volatile uint64_t sink;

static void walk(const dataset *d, const dataset_stats *st) {
    int n = dataset_count(d);
    if (st->n_rows != n) abort();
    for (int i = 0; i < n; i++) {
        const dataset_row *r = dataset_row_at(d, i);
        if (!r || !r->prompt || !r->answer || !r->data_source) abort();
        if (r->prompt[r->prompt_n] != 0 || r->answer[r->answer_n] != 0) abort();
        if (r->line < 1 || r->line > st->n_lines) abort();
        for (int j = 0; j < r->n_messages; j++)
            if (!r->messages[j].role || !r->messages[j].content) abort();
        for (int j = 0; j < r->n_extra; j++) {
            const reward_kv *kv = &r->extra[j];
            if (!kv->key || !kv->val || kv->val[kv->val_n] != 0) abort();
            sink += kv->val_n;
        }
        sink += r->prompt_n + r->answer_n + r->key + strlen(r->data_source);
    }
    if (dataset_row_at(d, n) != NULL || dataset_row_at(d, -1) != NULL) abort();
}

static dataset *load(const uint8_t *data, size_t size, const dataset_params *p, dataset_stats *st) {
    dataset *d = (dataset *)1;
    rlvr_err err;
    memset(st, 0, sizeof *st);
    int rc = dataset_load_mem("fuzz", (const char *)data, size, p, &d, st, &err);
    if (rc != RLVR_OK) {
        if (d) abort();                   /* contract: *out NULL on failure */
        return NULL;
    }
    if (!d) abort();
    walk(d, st);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dataset_params p = dataset_default_params();
    dataset_stats st, st2;
    dataset *strict = load(data, size, &p, &st);
    p.skip_bad = 1;
    dataset *lax = load(data, size, &p, &st2);
    if (strict && (!lax || dataset_count(lax) != dataset_count(strict) || st2.n_skipped != 0)) abort();
    if (lax) {
        rlvr_err err;
        dataset *tr = NULL, *ev = NULL;
        dataset_shuffle(lax, size);
        if (dataset_split(lax, 0.25, (int)(size & 1), 7, &tr, &ev, &err) == RLVR_OK) {
            if (dataset_count(tr) + dataset_count(ev) != dataset_count(lax)) abort();
        }
        dataset_free(tr);
        dataset_free(ev);
    }
    dataset_free(strict);
    dataset_free(lax);

    /* other mappings: nested answer key, template, tight caps, no answer required */
    p = dataset_default_params();
    p.skip_bad = 1;
    p.answer_key = "reward_model.ground_truth";
    p.template_str = "Q: {prompt}\nA ({prompt}):";
    p.max_line_bytes = 256;
    p.max_prompt_bytes = 64;
    p.require_answer = (int)(size & 1);
    p.default_data_source = "dflt";
    dataset_free(load(data, size, &p, &st));
    return 0;
}
