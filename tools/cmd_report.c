/* cmd_report.c: rlvr report, the HTML report of a run (src/eval/report.h does the work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "eval/report.h"

static const char *REPORT_HELP =
    "usage: rlvr report RUN_DIR [eval=[a.json,b.json]] [labels=[before,after]] [key=value ...]\n"
    "Writes a self-contained HTML page (inline SVG charts, no script, no network) about\n"
    "a run: training curves from RUN_DIR/metrics.jsonl (rlvr train or rlvr sft), pass@k\n"
    "curves and per-difficulty bars from eval files (rlvr eval out=FILE.json), compared\n"
    "in the order given (first = before, last = after), example completions from\n"
    "RUN_DIR/samples.jsonl, and the run's config.toml. Next to the page: STEM.json (every\n"
    "number shown), STEM.metrics.csv, STEM.passk.csv, STEM.per-difficulty.csv.\n"
    "keys (defaults):\n"
    "  eval=[] (eval JSON files)  labels=[] (one per eval file; default: file names)\n"
    "  title=\"rlvr report: RUN_DIR\"  out=RUN_DIR/report.html\n"
    "  examples=24 (rows of the examples table)  max_text=400 (bytes shown per text)\n"
    "  smoothing=-1 (EMA weight of per-step curves, 0..0.999; -1: from the number of steps)\n"
    "  timestamp=true (the date in the footer; false: the same inputs give the same bytes)\n";

/* eval= and labels= take lists of paths or words: [a.json,b.json] (bare, the form the
 * shell leaves alone), a quoted TOML array, or one value. Bare forms become a TOML
 * array of strings so the config layer reads them (and reports errors) as usual. */
static char *list_arg(const char *arg) {
    const char *eq = strchr(arg, '=');
    const char *v = eq + 1;
    size_t n = strlen(v);
    if (strpbrk(v, "\"'")) return strdup(arg); /* already TOML */
    char *out = malloc((size_t)(eq - arg) + 2 * n + 8), *o = out;
    if (!out) return NULL;
    memcpy(o, arg, (size_t)(eq - arg) + 1), o += eq - arg + 1;
    const char *s = v, *end = v + n;
    if (n >= 2 && v[0] == '[' && v[n - 1] == ']') s++, end--;
    *o++ = '[';
    int first = 1;
    while (s < end) {
        const char *c = memchr(s, ',', (size_t)(end - s));
        const char *e = c ? c : end;
        while (s < e && (*s == ' ' || *s == '\t')) s++;
        const char *z = e;
        while (z > s && (z[-1] == ' ' || z[-1] == '\t')) z--;
        if (z > s) {
            if (!first) *o++ = ',';
            *o++ = '"';
            for (const char *q = s; q < z; q++) {
                if (*q == '\\') *o++ = '\\';
                *o++ = *q;
            }
            *o++ = '"';
            first = 0;
        }
        s = c ? c + 1 : end;
    }
    *o++ = ']', *o = 0;
    return out;
}

int cmd_report(int argc, char **argv) {
    if (argc < 1 || wants_help(argc, argv)) { fputs(REPORT_HELP, argc < 1 ? stderr : stdout); return argc < 1 ? 2 : 0; }
    rlvr_err e = {0};
    const char *run_dir = argv[0];
    if (strchr(run_dir, '=')) {
        fprintf(stderr, "rlvr report: the first argument is the run directory, got '%s'\n", run_dir);
        return 2;
    }
    char **args = calloc((size_t)argc, sizeof *args);
    if (!args) { fprintf(stderr, "rlvr report: out of memory\n"); return 1; }
    for (int i = 1; i < argc; i++) {
        if (!strchr(argv[i], '=')) {
            fprintf(stderr, "rlvr report: argument '%s': expected key=value (the run directory comes first)\n", argv[i]);
            return 2;
        }
        int list = !strncmp(argv[i], "eval=", 5) || !strncmp(argv[i], "labels=", 7);
        if (!(args[i - 1] = list ? list_arg(argv[i]) : strdup(argv[i]))) { fprintf(stderr, "rlvr report: out of memory\n"); return 1; }
    }
    cfg *c = cfg_new();
    if (!c) { fprintf(stderr, "rlvr report: out of memory\n"); return 1; }
    for (int i = 0; i < argc - 1; i++)
        if (cfg_set_override(c, args[i], &e)) die(&e);
    const char *evals[REPORT_MAX_EVALS], *labels[REPORT_MAX_EVALS], *title, *out;
    int n_ev = 0, n_lab = 0, stamp;
    long long n_ex, max_text;
    double smoothing;
    report_params p = report_default_params();
    if (cfg_str_list(c, "eval", NULL, 0, evals, REPORT_MAX_EVALS, &n_ev, &e) || cfg_str_list(c, "labels", NULL, 0, labels, REPORT_MAX_EVALS, &n_lab, &e) ||
        cfg_str(c, "title", "", &title, &e) || cfg_str(c, "out", "", &out, &e) ||
        cfg_int_range(c, "examples", p.max_examples, 0, 10000, &n_ex, &e) || cfg_int_range(c, "max_text", p.max_text, 16, 1 << 20, &max_text, &e) ||
        cfg_float_range(c, "smoothing", -1, -1, 0.999, &smoothing, &e) || cfg_bool(c, "timestamp", 1, &stamp, &e) || cfg_check_unused(c, &e))
        die(&e);
    if (n_lab && n_lab != n_ev) { cfg_errf(c, "labels", &e, "has %d labels for %d eval files", n_lab, n_ev); die(&e); }
    char when[64] = "";
    if (stamp) {
        time_t now = time(NULL);
        struct tm tm;
        if (localtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M %Z", &tm);
    }
    p.run_dir = run_dir;
    p.eval_paths = evals, p.n_evals = n_ev, p.eval_labels = n_lab ? labels : NULL;
    p.title = *title ? title : NULL, p.out_html = *out ? out : NULL, p.generated = *when ? when : NULL;
    p.max_examples = (int)n_ex, p.max_text = (int)max_text, p.smoothing = smoothing;
    report_summary s;
    if (report_write(&p, &s, &e)) die(&e);
    printf("report: %s\n  %d charts (%d curves), %d examples; every number in %s", s.html_path, s.n_charts, s.n_series, s.n_examples, s.json_path);
    printf(" and the CSV files beside it\n");
    if (s.n_notes) printf("  %d note%s about the inputs: see the page's \"Run & files\" section\n", s.n_notes, s.n_notes > 1 ? "s" : "");
    for (int i = 0; i < argc - 1; i++) free(args[i]);
    free(args);
    cfg_free(c);
    return 0;
}
