/* report.h: the run report. Reads a run directory (metrics.jsonl from rlvr train or
 * rlvr sft, optional samples.jsonl and config.toml) and any number of eval JSON files
 * (rlvr eval out=...), and writes one self-contained HTML page (inline CSS and SVG,
 * no script, no external URL) plus the numbers behind it as JSON and CSV.
 * Not a plotting library: the charts it draws are fixed by the metrics it knows,
 * and any other numeric field is drawn as a small chart of its own.
 *
 *     report_params p = report_default_params();
 *     p.run_dir = "runs/demo";
 *     p.eval_paths = paths, p.eval_labels = labels, p.n_evals = 2;
 *     report_summary s;
 *     if (report_write(&p, &s, &err)) ...;   // err: "runs/demo/metrics.jsonl:17: ..."
 *
 * Outputs, for out_html = DIR/STEM.html (default RUN_DIR/report.html):
 *   DIR/STEM.html                    the page
 *   DIR/STEM.json                    every number the page shows, and the list of charts
 *                                    (id, series keys, point counts) tests check against
 *   DIR/STEM.metrics.csv             step + one column per metrics.jsonl field
 *   DIR/STEM.passk.csv               label, group, difficulty, metric, k, mean, ci_lo, ci_hi
 *   DIR/STEM.per-difficulty.csv      the bar chart: pass@k at the smallest k, per model
 * Every file is written atomically (core/fs.h). docs/report.md describes the page. */
#ifndef RLVR_EVAL_REPORT_H
#define RLVR_EVAL_REPORT_H
#include "rlvr.h"

/* Distrust bounds: a larger input is an error naming the file (and line). */
#define REPORT_MAX_LINE_BYTES ((size_t)8 << 20)    /* one JSONL line */
#define REPORT_MAX_EVAL_BYTES ((size_t)256 << 20)  /* one eval JSON file */
#define REPORT_MAX_ROWS 1000000                    /* metrics.jsonl records (after the step filter) */
#define REPORT_MAX_COLUMNS 512                     /* distinct metric fields; more are ignored (noted) */
#define REPORT_MAX_EVALS 16
#define REPORT_MAX_DIFFS 64                        /* rows of one eval file */
#define REPORT_MAX_KS 64                           /* k values of one metric of one row */

typedef struct {
    const char *run_dir;             /* required: reads metrics.jsonl, samples.jsonl, config.toml if present */
    const char *const *eval_paths;   /* n_evals eval JSON files, compared in this order (first = "before") */
    const char *const *eval_labels;  /* NULL, or n_evals labels (NULL entries: the file's base name) */
    int n_evals;
    const char *title;               /* NULL: "rlvr report: RUN_DIR" */
    const char *out_html;            /* NULL: RUN_DIR/report.html; the other files go next to it */
    const char *generated;           /* shown in the page footer (e.g. a date); NULL: nothing, output is deterministic */
    int max_examples;                /* rows of the examples table (default 24); samples.jsonl keeps its last ones */
    int max_text;                    /* bytes of a prompt or completion shown before truncation (default 400) */
    double smoothing;                /* EMA weight in [0, 1) for per-step curves; < 0 (default): from the number of steps */
    int max_points;                  /* per-step curves with more points are reduced (min/max per bucket) in the SVG (default 1200) */
} report_params;

report_params report_default_params(void);

typedef struct {
    int n_rows;                      /* metrics records plotted (after dropping resumed duplicates) */
    int n_columns;                   /* numeric fields found */
    int n_charts, n_series;          /* drawn in the page (and listed in STEM.json) */
    int n_examples;
    int n_notes;                     /* warnings shown in the page (ignored lines, fields, ...) */
    char html_path[4096], json_path[4096];
} report_summary;

/* Reads the inputs, builds the charts and writes every output. Fails (nothing written
 * or only some outputs, never a torn file) on: a missing run_dir; neither a metrics
 * file nor an eval file; a line of metrics.jsonl or samples.jsonl that is not a JSON
 * object ("FILE:LINE: ..."); an eval file that is not the rlvr eval format ("FILE:
 * difficulties[2].pass[0]: ..."); an input over the bounds above. NaN and inf written
 * as bare words (nan, -nan, inf, Infinity) are accepted and plotted as gaps; fields of
 * unknown meaning are plotted on their own, non-numeric ones ignored. out may be NULL. */
int report_write(const report_params *p, report_summary *out, rlvr_err *err);

#endif
