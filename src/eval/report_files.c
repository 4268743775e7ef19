/* report_files.c: the report's data files. STEM.json holds every number the page shows
 * (cards, headline, each chart's series with x, y, EMA and intervals, the eval tables,
 * the examples, the notes) and the list of charts tests check against; the CSV files
 * hold the metrics table (one column per field), pass@k and the per-difficulty bars. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eval/report_int.h"

static const char *const SEC_NAME[RP_N_SEC] = {"evaluation", "training", "other"};

/* ---- JSON ---- */

static cJSON *num_array(const double *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
    return a;
}

static void json_kpts(cJSON *o, const char *name, const rp_kpt *k, int n) {
    cJSON *a = cJSON_AddArrayToObject(o, name);
    for (int i = 0; a && i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "k", k[i].k);
        cJSON_AddNumberToObject(e, "mean", k[i].mean); /* cJSON writes NaN as null */
        cJSON_AddNumberToObject(e, "ci_lo", k[i].lo);
        cJSON_AddNumberToObject(e, "ci_hi", k[i].hi);
        cJSON_AddItemToArray(a, e);
    }
}

char *rp_json_doc(const rp_report *x, const rp_headline *h, const rp_card *cs, int n_cards, const rp_paths *op, const char *title) {
    const rp_data *d = x->d;
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON_AddStringToObject(j, "title", title);
    cJSON_AddStringToObject(j, "run_dir", d->run_dir);
    if (x->p->generated) cJSON_AddStringToObject(j, "generated", x->p->generated);
    cJSON *f = cJSON_AddObjectToObject(j, "files");
    const char *fk[5] = {"html", "json", "metrics_csv", "passk_csv", "per_difficulty_csv"};
    const char *fv[5] = {op->html, op->json, op->metrics, op->passk, op->perdiff};
    for (int i = 0; i < 5; i++) cJSON_AddStringToObject(f, fk[i], fv[i]);
    cJSON *in = cJSON_AddObjectToObject(j, "inputs");
    if (d->have_metrics) cJSON_AddStringToObject(in, "metrics", d->metrics_path);
    cJSON_AddNumberToObject(in, "metrics_records", (double)d->metrics_lines);
    cJSON_AddNumberToObject(in, "rows_plotted", d->t.n_rows);
    cJSON_AddNumberToObject(in, "samples_records", (double)d->sample_lines);
    cJSON_AddNumberToObject(j, "smoothing", x->ema_w);
    cJSON *ca = cJSON_AddArrayToObject(j, "summary");
    for (int i = 0; i < n_cards; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "label", cs[i].label);
        cJSON_AddStringToObject(o, "text", cs[i].value);
        if (isfinite(cs[i].from)) cJSON_AddNumberToObject(o, "from", cs[i].from);
        cJSON_AddNumberToObject(o, "value", cs[i].to);
        cJSON_AddItemToArray(ca, o);
    }
    if (h->source) {
        cJSON *ho = cJSON_AddObjectToObject(j, "headline"), *cols = cJSON_AddArrayToObject(ho, "columns"), *rows = cJSON_AddArrayToObject(ho, "rows");
        cJSON_AddStringToObject(ho, "source", h->source == 1 ? "eval files" : "metrics.jsonl periodic evals");
        for (int c = 0; c < h->n_cols; c++) cJSON_AddItemToArray(cols, cJSON_CreateString(h->cols[c]));
        for (int r = 0; r < h->n_rows; r++) {
            const rp_hrow *hr = &h->rows[r];
            cJSON *o = cJSON_CreateObject();
            char what[240];
            snprintf(what, sizeof what, "%s", hr->what);
            char *bar = strchr(what, '|');
            if (bar) *bar = 0;
            cJSON_AddStringToObject(o, "difficulty", what);
            cJSON_AddStringToObject(o, "metric", bar ? bar + 1 : "");
            if (isfinite(hr->k)) cJSON_AddNumberToObject(o, "k", hr->k);
            cJSON_AddItemToObject(o, "mean", num_array(hr->mean, h->n_cols));
            cJSON_AddItemToObject(o, "ci_lo", num_array(hr->lo, h->n_cols));
            cJSON_AddItemToObject(o, "ci_hi", num_array(hr->hi, h->n_cols));
            if (h->n_cols > 1) {
                cJSON_AddNumberToObject(o, "change", hr->delta);
                cJSON_AddNumberToObject(o, "change_ci_lo", hr->dlo);
                cJSON_AddNumberToObject(o, "change_ci_hi", hr->dhi);
            }
            cJSON_AddItemToArray(rows, o);
        }
    }
    cJSON *charts = cJSON_AddArrayToObject(j, "charts");
    for (int i = 0; i < x->L.n; i++) {
        const rp_chart *c = &x->L.v[i].c;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", c->id);
        cJSON_AddStringToObject(o, "section", SEC_NAME[x->L.v[i].section]);
        cJSON_AddStringToObject(o, "title", c->title);
        cJSON_AddStringToObject(o, "kind", c->bars ? "bars" : "lines");
        cJSON_AddStringToObject(o, "x", c->xlabel ? c->xlabel : "");
        cJSON_AddStringToObject(o, "x_scale", c->xlog2 ? "log2" : c->bars ? "category" : "linear");
        cJSON_AddStringToObject(o, "y", c->ylabel ? c->ylabel : "");
        cJSON_AddNumberToObject(o, "y_display_factor", c->yscale);
        if (c->bars) {
            cJSON *cats = cJSON_AddArrayToObject(o, "categories");
            for (int k = 0; k < c->n_cats; k++) cJSON_AddItemToArray(cats, cJSON_CreateString(c->cats[k]));
        }
        cJSON *ss = cJSON_AddArrayToObject(o, "series");
        for (int k = 0; k < c->n_s; k++) {
            const rp_series *s = &c->s[k];
            cJSON *so = cJSON_CreateObject();
            cJSON_AddStringToObject(so, "key", s->key);
            cJSON_AddStringToObject(so, "label", s->label);
            cJSON_AddNumberToObject(so, "n", s->n);
            cJSON_AddItemToObject(so, "x", num_array(s->x, s->n));
            cJSON_AddItemToObject(so, "y", num_array(s->y, s->n));
            if (s->ema) cJSON_AddItemToObject(so, "ema", num_array(s->ema, s->n));
            if (s->lo) cJSON_AddItemToObject(so, "ci_lo", num_array(s->lo, s->n));
            if (s->hi) cJSON_AddItemToObject(so, "ci_hi", num_array(s->hi, s->n));
            cJSON_AddItemToArray(ss, so);
        }
        cJSON_AddItemToArray(charts, o);
    }
    cJSON *evs = cJSON_AddArrayToObject(j, "evals");
    static const char *const names[RP_N_METRICS] = {"pass", "maj", "cot_pass"};
    for (int e = 0; e < d->n_ev; e++) {
        cJSON *o = cJSON_CreateObject(), *rows;
        cJSON_AddStringToObject(o, "label", d->ev[e].label);
        cJSON_AddStringToObject(o, "path", d->ev[e].path);
        if (d->ev[e].model) cJSON_AddStringToObject(o, "model", d->ev[e].model);
        cJSON_AddNumberToObject(o, "n", d->ev[e].n);
        rows = cJSON_AddArrayToObject(o, "difficulties");
        for (int r = 0; r < d->ev[e].n_rows; r++) {
            const rp_erow *row = &d->ev[e].rows[r];
            cJSON *ro = cJSON_CreateObject();
            cJSON_AddNumberToObject(ro, "difficulty", row->difficulty);
            if (*row->group) cJSON_AddStringToObject(ro, "group", row->group);
            for (int m = 0; m < RP_N_METRICS; m++) json_kpts(ro, names[m], row->m[m], row->n[m]);
            cJSON_AddItemToArray(rows, ro);
        }
        cJSON_AddItemToArray(evs, o);
    }
    cJSON *exs = cJSON_AddArrayToObject(j, "examples");
    for (int i = 0; i < d->n_ex; i++) {
        const rp_example *e = &d->ex[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "source", e->source ? e->source : "");
        cJSON_AddNumberToObject(o, "step", e->step);
        cJSON_AddNumberToObject(o, "reward", e->reward);
        if (e->correct >= 0) cJSON_AddNumberToObject(o, "correct", e->correct);
        else cJSON_AddNullToObject(o, "correct");
        cJSON_AddStringToObject(o, "prompt", e->prompt ? e->prompt : "");
        cJSON_AddNumberToObject(o, "prompt_bytes", (double)e->prompt_n);
        cJSON_AddStringToObject(o, "completion", e->completion ? e->completion : "");
        cJSON_AddNumberToObject(o, "completion_bytes", (double)e->completion_n);
        if (e->truth) cJSON_AddStringToObject(o, "expected", e->truth);
        cJSON_AddItemToArray(exs, o);
    }
    cJSON *notes = cJSON_AddArrayToObject(j, "notes");
    for (int i = 0; i < d->n_notes; i++) cJSON_AddItemToArray(notes, cJSON_CreateString(d->notes[i]));
    char *txt = cJSON_Print(j), *out = txt ? strdup(txt) : NULL; /* the caller frees with free() */
    cJSON_free(txt);
    cJSON_Delete(j);
    return out;
}

/* ---- CSV ---- */

static void csv_field(sbuf *b, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) { sb_puts(b, s); return; }
    sb_puts(b, "\"");
    for (const char *q = s; *q; q++) sb_put(b, q, 1), *q == '"' ? sb_put(b, "\"", 1) : (void)0;
    sb_puts(b, "\"");
}

static void csv_num(sbuf *b, double v) {
    if (isfinite(v)) sb_printf(b, "%.15g", v);
}

void rp_csv_metrics(sbuf *b, const rp_table *t) {
    sb_puts(b, "step");
    for (int c = 0; c < t->n_cols; c++) sb_puts(b, ","), csv_field(b, t->cols[c].name);
    sb_puts(b, "\n");
    for (int r = 0; r < t->n_rows; r++) {
        csv_num(b, t->step[r]);
        for (int c = 0; c < t->n_cols; c++) {
            sb_puts(b, ",");
            if (t->cols[c].has[r]) isfinite(t->cols[c].v[r]) ? csv_num(b, t->cols[c].v[r]) : sb_puts(b, "nan");
        }
        sb_puts(b, "\n");
    }
}

void rp_csv_passk(sbuf *b, const rp_data *d) {
    static const char *const names[RP_N_METRICS] = {"pass", "maj", "cot_pass"};
    sb_puts(b, "label,group,difficulty,metric,k,mean,ci_lo,ci_hi\n");
    for (int e = 0; e < d->n_ev; e++)
        for (int r = 0; r < d->ev[e].n_rows; r++)
            for (int m = 0; m < RP_N_METRICS; m++)
                for (int i = 0; i < d->ev[e].rows[r].n[m]; i++) {
                    const rp_kpt *k = &d->ev[e].rows[r].m[m][i];
                    csv_field(b, d->ev[e].label), sb_puts(b, ","), csv_field(b, d->ev[e].rows[r].group), sb_puts(b, ",");
                    csv_num(b, d->ev[e].rows[r].difficulty), sb_printf(b, ",%s,", names[m]), csv_num(b, k->k), sb_puts(b, ",");
                    csv_num(b, k->mean), sb_puts(b, ","), csv_num(b, k->lo), sb_puts(b, ","), csv_num(b, k->hi), sb_puts(b, "\n");
                }
}

void rp_csv_perdiff(sbuf *b, const rp_data *d, const rp_cat *cats, int n_cats) {
    double kb = rp_bar_k(d);
    sb_puts(b, "label,group,difficulty,k,mean,ci_lo,ci_hi\n");
    for (int e = 0; e < d->n_ev; e++)
        for (int i = 0; i < n_cats; i++) {
            const rp_kpt *k = rp_find_k(rp_find_row(&d->ev[e], &cats[i]), RP_PASS, kb);
            if (!k) continue;
            csv_field(b, d->ev[e].label), sb_puts(b, ","), csv_field(b, cats[i].group), sb_puts(b, ",");
            csv_num(b, cats[i].difficulty), sb_puts(b, ","), csv_num(b, kb), sb_puts(b, ",");
            csv_num(b, k->mean), sb_puts(b, ","), csv_num(b, k->lo), sb_puts(b, ","), csv_num(b, k->hi), sb_puts(b, "\n");
        }
}
