/* report_html.c: the report's page. One HTML file with its CSS inline, no script and
 * no URL: a header, summary cards, the before/after table, a grid of charts per section
 * (drawn by report_svg.c, with an HTML legend), the examples table and the run's
 * inputs, outputs, notes and config. Light and dark themes follow the system setting. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "eval/report_int.h"

static const char *CSS =
    ":root{--bg:#f6f8fa;--card:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--grid:#e8ecf0;--accent:#0969da;--up:#1a7f37;--down:#cf222e;"
    "color-scheme:light dark}"
    "@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#151b23;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--grid:#262c36;"
    "--accent:#4493f8;--up:#3fb950;--down:#f85149}}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',"
    "'DejaVu Sans',Arial,sans-serif}"
    "main{max-width:1240px;margin:0 auto;padding:28px 28px 40px}"
    "header h1{font-size:24px;line-height:1.25;margin:0 0 4px;word-break:break-word}"
    ".meta{color:var(--muted);margin:0;font-size:13px;word-break:break-all}"
    "nav{margin:14px 0 0;display:flex;flex-wrap:wrap;gap:6px}"
    "nav a{color:var(--accent);text-decoration:none;font-size:13px;border:1px solid var(--line);border-radius:999px;padding:2px 12px;"
    "background:var(--card)}"
    "section{margin-top:30px}"
    "h2{font-size:17px;margin:0 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}"
    "h3{font-size:14px;margin:0}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px}"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px}"
    ".kpi .l{color:var(--muted);font-size:11px;text-transform:uppercase;letter-spacing:.05em}"
    ".kpi .v{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums;line-height:1.3;margin:2px 0}"
    ".kpi .s{color:var(--muted);font-size:12px}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(500px,1fr));gap:14px}"
    "figure{margin:0}"
    "figcaption p{margin:2px 0 0;color:var(--muted);font-size:12px}"
    ".legend{display:flex;flex-wrap:wrap;gap:2px 16px;font-size:12px;margin:8px 0 0}"
    ".sw{display:inline-block;width:20px;height:0;border-top:3px solid;vertical-align:middle;margin-right:6px}"
    ".sw.d{border-top-style:dashed}.sw.b{height:11px;border:0;width:11px;border-radius:2px}"
    "svg.plot{width:100%;height:auto;display:block;margin-top:4px;overflow:visible}"
    "svg.plot text{font-family:inherit}"
    "svg.plot .grid{stroke:var(--grid)}svg.plot .tick,svg.plot .axt{fill:var(--muted)}svg.plot .axis{stroke:var(--line)}"
    "svg.plot .ci{stroke:var(--fg)}svg.plot .val{fill:var(--fg);font-size:10px}"
    "svg.plot .hover rect:hover{fill:var(--fg);fill-opacity:.06}"
    "table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}"
    "th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}"
    "th{font-size:12px;color:var(--muted);font-weight:600;white-space:nowrap}"
    "td.n{text-align:right;white-space:nowrap}th.n{text-align:right}td.nw{white-space:nowrap}"
    ".card.t{padding:4px 6px;overflow-x:auto}"
    ".ci-t{color:var(--muted);font-size:12px}"
    ".up{color:var(--up);font-weight:600}.down{color:var(--down);font-weight:600}"
    ".txt{white-space:pre-wrap;word-break:break-word;font:12px/1.45 ui-monospace,'SFMono-Regular','DejaVu Sans Mono',Menlo,Consolas,monospace;"
    "max-height:11em;overflow:auto}"
    ".cut{color:var(--muted);font-style:italic}"
    ".ok{color:var(--up)}.bad{color:var(--down)}"
    "details>summary{cursor:pointer;color:var(--accent);margin:6px 0}"
    "pre.cfg{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px;overflow:auto;font-size:12px;max-height:28em}"
    "ul.notes{margin:6px 0;padding-left:20px;color:var(--muted)}"
    ".muted{color:var(--muted)}"
    "footer{color:var(--muted);font-size:12px;margin-top:36px;border-top:1px solid var(--line);padding-top:10px}";

static void html_pct_ci(sbuf *b, double m, double lo, double hi) {
    if (!isfinite(m)) { sb_puts(b, "<span class=\"muted\">\xE2\x80\x94</span>"); return; }
    sb_printf(b, "%.1f%%", 100 * m);
    if (isfinite(lo) && isfinite(hi)) sb_printf(b, " <span class=\"ci-t\">[%.1f, %.1f]</span>", 100 * lo, 100 * hi);
}

static void html_headline(sbuf *b, const rp_headline *h) {
    if (!h->source) return;
    sb_printf(b, "<h3 style=\"margin:18px 0 8px\">%s</h3>", h->source == 1 ? "Before / after: pass@k per difficulty" : "Held-out accuracy: first vs last evaluation");
    sb_puts(b, "<div class=\"card t\"><table id=\"headline\"><thead><tr><th>difficulty</th><th>metric</th>");
    for (int c = 0; c < h->n_cols; c++) {
        sb_puts(b, "<th class=\"n\">");
        sb_htmls(b, h->cols[c]);
        sb_puts(b, "</th>");
    }
    if (h->n_cols > 1) {
        sb_puts(b, "<th class=\"n\">change (");
        sb_htmls(b, h->cols[h->n_cols - 1]);
        sb_puts(b, " \xE2\x88\x92 ");
        sb_htmls(b, h->cols[0]);
        sb_puts(b, ")</th>");
    }
    sb_puts(b, "</tr></thead><tbody>");
    for (int r = 0; r < h->n_rows; r++) {
        const rp_hrow *x = &h->rows[r];
        const char *bar = strchr(x->what, '|');
        sb_puts(b, "<tr><td>");
        sb_html(b, x->what, bar ? (size_t)(bar - x->what) : strlen(x->what));
        sb_puts(b, "</td><td>");
        sb_htmls(b, bar ? bar + 1 : "");
        sb_puts(b, "</td>");
        for (int c = 0; c < h->n_cols; c++) {
            sb_puts(b, "<td class=\"n\">");
            html_pct_ci(b, x->mean[c], x->lo[c], x->hi[c]);
            sb_puts(b, "</td>");
        }
        if (h->n_cols > 1) {
            const char *cls = isfinite(x->dlo) && x->dlo > 0 ? "up" : isfinite(x->dhi) && x->dhi < 0 ? "down" : "";
            if (isfinite(x->delta)) {
                sb_printf(b, "<td class=\"n\"><span class=\"%s\">%+.1f pts</span>", cls, 100 * x->delta);
                if (isfinite(x->dlo)) sb_printf(b, " <span class=\"ci-t\">[%+.1f, %+.1f]</span>", 100 * x->dlo, 100 * x->dhi);
                sb_puts(b, "</td>");
            } else sb_puts(b, "<td class=\"n\"><span class=\"muted\">\xE2\x80\x94</span></td>");
        }
        sb_puts(b, "</tr>");
    }
    sb_puts(b, "</tbody></table></div><p class=\"muted\" style=\"font-size:12px;margin:6px 2px\">");
    if (h->source == 1)
        sb_puts(b, "Brackets: 95% bootstrap intervals over problems, from the eval files. The change's interval treats the two evaluations as "
                   "independent (half-widths added in quadrature); green or red when it excludes zero.");
    else
        sb_puts(b, "Brackets: 95% Wilson intervals from the number of held-out problems (eval.n); the change's interval is the normal "
                   "approximation for two independent proportions. Green or red when it excludes zero.");
    sb_puts(b, "</p>");
}

static void html_chart(sbuf *b, const rp_chart *c, const rp_report *x) {
    sb_printf(b, "<figure class=\"card\" id=\"fig-%s\"><figcaption><h3>", c->id + 6);
    sb_htmls(b, c->title);
    sb_puts(b, "</h3>");
    int smoothed = 0;
    for (int i = 0; i < c->n_s; i++) smoothed |= c->s[i].ema != NULL;
    if (c->note || smoothed) {
        sb_puts(b, "<p>");
        if (c->note) sb_htmls(b, c->note);
        if (smoothed) sb_printf(b, "%sfaint: every step; bold: EMA (weight %.2f)", c->note ? ". " : "", x->ema_w);
        sb_puts(b, "</p>");
    }
    sb_puts(b, "</figcaption><div class=\"legend\">");
    for (int i = 0; i < c->n_s; i++) {
        const rp_series *s = &c->s[i];
        sb_printf(b, "<span><i class=\"sw%s\" style=\"%s:%s\"></i>", c->bars ? " b" : s->dash ? " d" : "", c->bars ? "background" : "border-color",
                  rp_palette[s->color % RP_N_COLORS]);
        sb_htmls(b, s->label);
        sb_puts(b, "</span>");
    }
    sb_puts(b, "</div>");
    rp_chart_svg(b, c, x->p->max_points);
    sb_puts(b, "</figure>");
}

static void html_eval_table(sbuf *b, const rp_data *d, const rp_cat *cats, int n_cats) {
    static const char *const names[RP_N_METRICS] = {"pass", "maj", "cot_pass"};
    double ks[REPORT_MAX_KS * 4];
    int nk = 0;
    for (int e = 0; e < d->n_ev; e++)
        for (int r = 0; r < d->ev[e].n_rows; r++)
            for (int m = 0; m < RP_N_METRICS; m++)
                for (int j = 0; j < d->ev[e].rows[r].n[m]; j++) {
                    double k = d->ev[e].rows[r].m[m][j].k;
                    int f = 0;
                    for (int q = 0; q < nk && !f; q++) f = ks[q] == k;
                    if (!f && nk < (int)(sizeof ks / sizeof *ks)) ks[nk++] = k;
                }
    for (int i = 1; i < nk; i++)
        for (int j = i; j > 0 && ks[j - 1] > ks[j]; j--) { double t = ks[j]; ks[j] = ks[j - 1], ks[j - 1] = t; }
    sb_puts(b, "<details><summary>All evaluation numbers (pass@k, maj@k, CoT-pass@k with 95% intervals)</summary><div class=\"card t\">"
               "<table id=\"eval-table\"><thead><tr><th>difficulty</th><th>model</th><th>metric</th>");
    for (int q = 0; q < nk; q++) sb_printf(b, "<th class=\"n\">@%g</th>", ks[q]);
    sb_puts(b, "</tr></thead><tbody>");
    for (int i = 0; i < n_cats; i++)
        for (int e = 0; e < d->n_ev; e++) {
            const rp_erow *row = rp_find_row(&d->ev[e], &cats[i]);
            for (int m = 0; row && m < RP_N_METRICS; m++) {
                if (!row->n[m]) continue;
                char nm[200];
                rp_cat_name(nm, sizeof nm, &cats[i]);
                sb_puts(b, "<tr><td>");
                sb_htmls(b, nm);
                sb_puts(b, "</td><td>");
                sb_htmls(b, d->ev[e].label);
                sb_printf(b, "</td><td>%s@k</td>", names[m]);
                for (int q = 0; q < nk; q++) {
                    const rp_kpt *kp = rp_find_k(row, m, ks[q]);
                    sb_puts(b, "<td class=\"n\">");
                    if (kp) html_pct_ci(b, kp->mean, kp->lo, kp->hi);
                    sb_puts(b, "</td>");
                }
                sb_puts(b, "</tr>");
            }
        }
    sb_puts(b, "</tbody></table></div></details>");
}

/* shown of total input bytes were kept (and cleaned into s) */
static void html_text_cell(sbuf *b, const char *s, size_t shown, size_t total) {
    sb_puts(b, "<td><div class=\"txt\">");
    if (s) sb_htmls(b, s);
    if (s && total > shown) sb_printf(b, "<span class=\"cut\"> \xE2\x80\xA6 [+%zu bytes]</span>", total - shown);
    sb_puts(b, "</div></td>");
}

static void html_examples(sbuf *b, const rp_data *d) {
    int truth = 0;
    for (int i = 0; i < d->n_ex; i++) truth |= d->ex[i].truth != NULL;
    sb_puts(b, "<div class=\"card t\"><table id=\"examples\"><thead><tr><th>#</th><th>source</th><th>verdict</th><th class=\"n\">reward</th>"
               "<th style=\"width:30%\">prompt</th><th>completion</th>");
    if (truth) sb_puts(b, "<th>expected</th>");
    sb_puts(b, "</tr></thead><tbody>");
    for (int i = 0; i < d->n_ex; i++) {
        const rp_example *x = &d->ex[i];
        sb_printf(b, "<tr><td class=\"n\">%d</td><td class=\"nw\">", i + 1);
        sb_htmls(b, x->source ? x->source : "");
        sb_printf(b, "</td><td class=\"nw\">%s</td><td class=\"n\">", x->correct == 1 ? "<span class=\"ok\">\xE2\x9C\x93 correct</span>"
                                                         : x->correct == 0 ? "<span class=\"bad\">\xE2\x9C\x97 wrong</span>"
                                                                           : "<span class=\"muted\">\xE2\x80\x94</span>");
        char v[48];
        if (isfinite(x->reward)) rp_fmt(v, sizeof v, x->reward), sb_puts(b, v);
        sb_puts(b, "</td>");
        html_text_cell(b, x->prompt, x->prompt_shown, x->prompt_n);
        html_text_cell(b, x->completion, x->completion_shown, x->completion_n);
        if (truth) html_text_cell(b, x->truth, 0, 0);
        sb_puts(b, "</tr>");
    }
    sb_puts(b, "</tbody></table></div>");
}

void rp_html_page(sbuf *b, rp_report *x, const rp_headline *h, const rp_card *cs, int n_cards, const rp_cat *cats, int n_cats, const rp_paths *op) {
    const rp_data *d = x->d;
    const report_params *p = x->p;
    char title[4300];
    if (p->title) snprintf(title, sizeof title, "%s", p->title);
    else snprintf(title, sizeof title, "rlvr report: %s", d->run_dir);
    int n_sec[RP_N_SEC] = {0};
    for (int i = 0; i < x->L.n; i++) n_sec[x->L.v[i].section]++;
    sb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"color-scheme\" content=\"light dark\"><title>");
    sb_htmls(b, title);
    sb_printf(b, "</title><style>%s</style></head><body><main>\n<header><h1>", CSS);
    sb_htmls(b, title);
    sb_puts(b, "</h1><p class=\"meta\">run directory <b>");
    sb_htmls(b, d->run_dir);
    sb_puts(b, "</b>");
    for (int e = 0; e < d->n_ev; e++) {
        sb_puts(b, e ? ", " : " \xC2\xB7 evaluations: ");
        sb_htmls(b, d->ev[e].label);
        if (d->ev[e].model) {
            sb_puts(b, " (");
            sb_htmls(b, d->ev[e].model);
            sb_puts(b, ")");
        }
    }
    sb_puts(b, "</p><nav><a href=\"#summary\">Summary</a>");
    if (n_sec[RP_SEC_EVAL]) sb_puts(b, "<a href=\"#evaluation\">Evaluation</a>");
    if (n_sec[RP_SEC_TRAIN]) sb_puts(b, "<a href=\"#training\">Training curves</a>");
    if (n_sec[RP_SEC_OTHER]) sb_puts(b, "<a href=\"#other\">Other fields</a>");
    if (d->n_ex) sb_puts(b, "<a href=\"#examples\">Examples</a>");
    sb_puts(b, "<a href=\"#run\">Run &amp; files</a></nav></header>\n");

    sb_puts(b, "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    for (int i = 0; i < n_cards; i++) {
        sb_puts(b, "<div class=\"card kpi\"><div class=\"l\">");
        sb_htmls(b, cs[i].label);
        sb_puts(b, "</div><div class=\"v\">");
        sb_htmls(b, cs[i].value);
        sb_puts(b, "</div><div class=\"s\">");
        sb_htmls(b, cs[i].sub);
        sb_puts(b, "</div></div>");
    }
    sb_puts(b, "</div>");
    html_headline(b, h);
    if (d->n_notes) sb_printf(b, "<p class=\"muted\">%d note%s about the inputs: see <a href=\"#run\">Run &amp; files</a>.</p>", d->n_notes,
                              d->n_notes > 1 ? "s" : "");
    sb_puts(b, "</section>\n");

    static const char *const sec_title[RP_N_SEC] = {"Evaluation", "Training curves", "Other logged fields"};
    for (int s = 0; s < RP_N_SEC; s++) {
        if (!n_sec[s]) continue;
        sb_printf(b, "<section id=\"%s\"><h2>%s</h2>", s == RP_SEC_EVAL ? "evaluation" : s == RP_SEC_TRAIN ? "training" : "other", sec_title[s]);
        if (s == RP_SEC_OTHER) sb_printf(b, "<details><summary>%d more field%s that change%s over the run</summary>", n_sec[s], n_sec[s] > 1 ? "s" : "", n_sec[s] > 1 ? "" : "s");
        sb_puts(b, "<div class=\"grid\">");
        for (int i = 0; i < x->L.n; i++)
            if (x->L.v[i].section == s) html_chart(b, &x->L.v[i].c, x), sb_puts(b, "\n");
        sb_puts(b, "</div>");
        if (s == RP_SEC_EVAL) html_eval_table(b, d, cats, n_cats);
        if (s == RP_SEC_OTHER) sb_puts(b, "</details>");
        sb_puts(b, "</section>\n");
    }
    if (d->n_ex) {
        sb_printf(b, "<section id=\"examples\"><h2>Example completions</h2><p class=\"muted\">%d example%s", d->n_ex, d->n_ex > 1 ? "s" : "");
        if (d->sample_lines) sb_printf(b, " (the last of %ld records in samples.jsonl, and any from the eval files)", d->sample_lines);
        sb_printf(b, "; text longer than %d bytes is cut.</p>", p->max_text);
        html_examples(b, d);
        sb_puts(b, "</section>\n");
    }
    sb_puts(b, "<section id=\"run\"><h2>Run &amp; files</h2><div class=\"card t\"><table><tbody>");
    sb_puts(b, "<tr><th>metrics</th><td>");
    if (d->have_metrics) {
        sb_htmls(b, d->metrics_path);
        sb_printf(b, " \xC2\xB7 %ld records, %d fields, %d steps plotted", d->metrics_lines, d->t.n_cols, d->t.n_rows);
    } else sb_puts(b, "<span class=\"muted\">none (no metrics.jsonl in the run directory)</span>");
    sb_puts(b, "</td></tr>");
    for (int e = 0; e < d->n_ev; e++) {
        sb_puts(b, "<tr><th>eval: ");
        sb_htmls(b, d->ev[e].label);
        sb_puts(b, "</th><td>");
        sb_htmls(b, d->ev[e].path);
        if (d->ev[e].model) sb_puts(b, " \xC2\xB7 model "), sb_htmls(b, d->ev[e].model);
        if (isfinite(d->ev[e].n)) sb_printf(b, " \xC2\xB7 %g samples per problem", d->ev[e].n);
        sb_puts(b, "</td></tr>");
    }
    sb_printf(b, "<tr><th>data</th><td><a href=\"%s.json\">", op->base);
    sb_htmls(b, op->base);
    sb_printf(b, ".json</a> (every number on this page) \xC2\xB7 <a href=\"%s.metrics.csv\">", op->base);
    sb_htmls(b, op->base);
    sb_printf(b, ".metrics.csv</a> \xC2\xB7 <a href=\"%s.passk.csv\">", op->base);
    sb_htmls(b, op->base);
    sb_printf(b, ".passk.csv</a> \xC2\xB7 <a href=\"%s.per-difficulty.csv\">", op->base);
    sb_htmls(b, op->base);
    sb_puts(b, ".per-difficulty.csv</a></td></tr>");
    /* fields that never change are listed, not drawn */
    int any_const = 0;
    for (int c = 0; c < d->t.n_cols; c++) {
        if (x->used[c]) continue;
        double v = NAN;
        int n = 0;
        for (int r = 0; r < d->t.n_rows; r++)
            if (d->t.cols[c].has[r]) v = d->t.cols[c].v[r], n++;
        if (!n || !strcmp(d->t.cols[c].name, "elapsed_s")) continue;
        char vs[48];
        rp_fmt(vs, sizeof vs, v);
        sb_puts(b, any_const ? ", " : "<tr><th>constant fields</th><td>");
        sb_htmls(b, d->t.cols[c].name);
        sb_printf(b, " = %s", vs);
        any_const = 1;
    }
    if (any_const) sb_puts(b, "</td></tr>");
    sb_puts(b, "</tbody></table></div>");
    if (d->n_notes) {
        sb_puts(b, "<h3 style=\"margin:14px 0 4px\">Notes about the inputs</h3><ul class=\"notes\">");
        for (int i = 0; i < d->n_notes; i++) sb_puts(b, "<li>"), sb_htmls(b, d->notes[i]), sb_puts(b, "</li>");
        sb_puts(b, "</ul>");
    }
    if (d->config_text) {
        sb_puts(b, "<details><summary>Resolved configuration (config.toml)</summary><pre class=\"cfg\">");
        sb_htmls(b, d->config_text);
        sb_puts(b, "</pre></details>");
    }
    sb_puts(b, "</section>\n<footer>Written by <b>rlvr report</b>: one self-contained file (no script, no network); hover a chart for values.");
    if (p->generated) sb_puts(b, " Generated "), sb_htmls(b, p->generated), sb_puts(b, ".");
    sb_puts(b, "</footer></main></body></html>\n");
}
