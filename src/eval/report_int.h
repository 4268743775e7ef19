/* report_int.h: what the files of the report share. report_load.c reads the inputs
 * into rp_data; report.c turns them into charts, the headline table and summary
 * cards (rp_report) and writes the files; report_svg.c draws one chart as inline SVG
 * and escapes text; report_html.c lays out the page; report_files.c the JSON and CSV.
 * Internal: nothing here is part of the public API (report.h). */
#ifndef RLVR_EVAL_REPORT_INT_H
#define RLVR_EVAL_REPORT_INT_H
#include <stddef.h>
#include "rlvr.h"
#include "eval/report.h"

/* ---- a growable string; after an allocation failure it stays empty and sets oom ---- */
typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

void sb_put(sbuf *b, const char *s, size_t n);
void sb_puts(sbuf *b, const char *s);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s[0..n) as HTML text or attribute value: & < > " ' escaped, invalid UTF-8 and control
 * bytes other than \n and \t replaced by U+FFFD. */
void sb_html(sbuf *b, const char *s, size_t n);
#define sb_htmls(b, s) sb_html((b), (s), strlen(s))
/* The largest length <= max at which s[0..n) can be cut without splitting a UTF-8
 * character (n when n <= max). */
size_t rp_cut(const char *s, size_t n, size_t max);
/* s with invalid UTF-8 replaced by U+FFFD and C0 controls other than \n \t removed;
 * malloc'd (NULL when out of memory). For strings that go into JSON. */
char *rp_utf8_clean(const char *s, size_t n);
/* v as short text: 4 significant digits, exponent form for very small or large. */
void rp_fmt(char *out, size_t cap, double v);

/* ---- inputs (report_load.c) -------------------------------------------------------- */

/* metrics.jsonl as columns. has[i] is 1 where row i wrote the field (its value may be
 * NAN: written as null, nan or inf), 0 where the row did not mention it. */
typedef struct {
    char *name;        /* "reward_mean"; a nested object's numbers as "eval.acc_d1" */
    double *v;
    unsigned char *has;
    int n_nonfinite;   /* rows that wrote null/nan/inf */
} rp_col;

typedef struct {
    int n_rows, cap;
    double *step;
    int n_cols;
    rp_col *cols;
} rp_table;

enum { RP_PASS, RP_MAJ, RP_COT, RP_N_METRICS };
typedef struct { double k, mean, lo, hi; } rp_kpt;   /* lo/hi NAN when the file has no interval */
typedef struct {
    double difficulty;
    char *group;                                     /* "" when the row has none */
    int n[RP_N_METRICS];
    rp_kpt *m[RP_N_METRICS];                         /* sorted by k */
} rp_erow;

typedef struct {
    char *label, *path, *model;
    double n;                                        /* samples per problem; NAN if absent */
    int n_rows;
    rp_erow *rows;
} rp_eval;

typedef struct {
    char *source;                                    /* "step 40" or an eval label */
    char *prompt, *completion, *truth;               /* cut to max_text bytes; any may be NULL */
    size_t prompt_n, completion_n;                   /* their lengths in the input */
    size_t prompt_shown, completion_shown;           /* bytes of the input kept (the rest is cut) */
    double step, reward;                             /* NAN when absent */
    int correct;                                     /* 1, 0, or -1 unknown */
} rp_example;

typedef struct {
    char *run_dir;
    rp_table t;
    int have_metrics;
    char metrics_path[4200];
    long metrics_lines, no_step_lines, dup_rows;
    rp_eval *ev;
    int n_ev;
    rp_example *ex;
    int n_ex;
    long sample_lines;
    char *config_text;                               /* config.toml, or NULL */
    double config_eval_n;                            /* eval.n from config.toml; NAN if absent */
    char **notes;
    int n_notes;
} rp_data;

int rp_load(const report_params *p, rp_data *d, rlvr_err *err);
void rp_data_free(rp_data *d);
void rp_note(rp_data *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rp_col_find(const rp_table *t, const char *name);

/* ---- charts (report_svg.c) --------------------------------------------------------- */

#define RP_KEY_LEN 64
typedef struct {
    char key[RP_KEY_LEN];  /* [a-z0-9_-], unique within its chart: data-series="key" in the SVG */
    char *label;           /* legend text (escaped when written) */
    int n;                 /* points, sorted by x; y NAN = a gap */
    double *x, *y;
    double *lo, *hi;       /* NULL, or an interval per point (drawn as a band, or whiskers on bars) */
    double *ema;           /* NULL, or the smoothed y drawn over a faint raw line */
    int color;             /* palette index */
    int dash;              /* 1: dashed line */
    int markers;           /* 1: a circle with a tooltip on every point */
} rp_series;

typedef struct {
    char id[96];           /* "chart-reward": <svg id=...> */
    char *title, *note;    /* note: the line under the title (may be NULL) */
    const char *xlabel, *ylabel;
    int xlog2;             /* x on a log2 axis (pass@k) */
    double yscale;         /* shown value = y * yscale (100 for percent) */
    const char *yunit;     /* "%" or "" (after tick labels in tooltips) */
    int yzero;             /* the y range includes 0 */
    int yfixed;            /* y range is [0, 1] (before yscale) */
    int bars;              /* grouped bars over categories: x = category index */
    int n_cats;
    char **cats;
    int n_s;
    rp_series *s;
} rp_chart;

/* Appends the <svg id="CHART-ID"> element: axes with tick labels and titles, one
 * <path class="series" data-series="KEY" data-n="N" d="..."> per series (all bars of a
 * bar series form one path), bands, EMA overlays (data-ema="KEY"), markers and
 * hover columns whose <title> lists the values (tooltips without script).
 * Per-step lines with more than max_points points are reduced to min/max per bucket. */
void rp_chart_svg(sbuf *b, const rp_chart *c, int max_points);
/* The palette (CSS custom properties --c0..; fallbacks for presentation attributes). */
#define RP_N_COLORS 8
extern const char *const rp_palette[RP_N_COLORS];

/* ---- the report: built by report.c, written by report_html.c and report_files.c ---- */

enum { RP_SEC_EVAL, RP_SEC_TRAIN, RP_SEC_OTHER, RP_N_SEC };  /* page sections holding charts */

typedef struct {
    rp_chart c;
    int section;
} rp_chart_ent;

typedef struct {
    rp_chart_ent *v;
    int n;
    int oom;
} rp_chart_list;

typedef struct {                   /* one column of the evaluation: (group, difficulty) */
    double difficulty;
    const char *group;             /* points into an rp_erow */
} rp_cat;

typedef struct {                   /* a row of the before/after table */
    char what[240];                /* "DIFFICULTY|METRIC" */
    double difficulty, k;
    char group[128], metric[16];
    double mean[REPORT_MAX_EVALS], lo[REPORT_MAX_EVALS], hi[REPORT_MAX_EVALS];
    double delta, dlo, dhi;        /* last column minus first, with an interval */
} rp_hrow;

typedef struct {
    int source;                    /* 0 none, 1 eval files, 2 metrics.jsonl */
    int n_cols;
    char cols[REPORT_MAX_EVALS][160];
    int n_rows;
    rp_hrow *rows;
} rp_headline;

typedef struct {                   /* a summary card */
    char label[64], value[128], sub[200];
    double from, to;               /* the numbers behind value (from NAN when one number) */
} rp_card;

typedef struct {
    char html[4096], json[4096], metrics[4096], passk[4096], perdiff[4096];
    char base[4096];               /* the stem's base name, for relative links */
} rp_paths;

typedef struct {
    const report_params *p;
    rp_data *d;
    rp_chart_list L;
    double ema_w;                  /* smoothing weight of per-step curves */
    int ema_min;                   /* curves with fewer points are not smoothed */
    unsigned char *used;           /* per column: 1 drawn by a known chart, 2 by its own */
} rp_report;

const rp_erow *rp_find_row(const rp_eval *ev, const rp_cat *c);  /* NULL when absent */
const rp_kpt *rp_find_k(const rp_erow *row, int m, double k);    /* row may be NULL */
void rp_cat_name(char *out, size_t cap, const rp_cat *c);        /* "2" or "GROUP 2" */
double rp_bar_k(const rp_data *d);  /* the k of the bars and headline: 1 if every row has it, else the smallest */

/* report_html.c */
void rp_html_page(sbuf *b, rp_report *x, const rp_headline *h, const rp_card *cs, int n_cards, const rp_cat *cats, int n_cats,
                  const rp_paths *op);
/* report_files.c: JSON (malloc'd, NULL when out of memory) and the three CSV files */
char *rp_json_doc(const rp_report *x, const rp_headline *h, const rp_card *cs, int n_cards, const rp_paths *op, const char *title);
void rp_csv_metrics(sbuf *b, const rp_table *t);
void rp_csv_passk(sbuf *b, const rp_data *d);
void rp_csv_perdiff(sbuf *b, const rp_data *d, const rp_cat *cats, int n_cats);

#endif
