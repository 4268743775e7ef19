/* report.c: from a loaded run (report_load.c) to the report's files. Chooses the
 * charts (a fixed list for the fields rlvr train and rlvr sft write, a small chart for
 * any other numeric field), the headline before/after table and the summary cards,
 * then has the page (report_html.c), the JSON and the CSV files (report_files.c)
 * written atomically. docs/report.md describes the page. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "core/fs.h"
#include "eval/report.h"
#include "eval/report_int.h"

report_params report_default_params(void) {
    report_params p = {0};
    p.max_examples = 24;
    p.max_text = 400;
    p.smoothing = -1;
    p.max_points = 1200;
    return p;
}

/* ---- the charts of a report ---- */

#define MAX_ID 80 /* chart ids are "chart-" + at most this many slug characters */

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

/* [a-z0-9_-] from any text: ids and keys the tests (and CSS) can rely on */
static void slug(char *out, size_t cap, const char *s) {
    size_t j = 0;
    for (; *s && j + 1 < cap; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        out[j++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ? c : '_';
    }
    out[j] = 0;
    if (!j && cap > 1) out[0] = 'x', out[1] = 0;
}

static rp_chart *chart_add(rp_chart_list *L, int section, const char *id_slug, const char *title, const char *note) {
    rp_chart_ent *nv = realloc(L->v, sizeof *nv * (L->n + 1));
    if (!nv) { L->oom = 1; return NULL; }
    L->v = nv;
    rp_chart_ent *e = &L->v[L->n];
    memset(e, 0, sizeof *e);
    e->section = section;
    char base[MAX_ID];
    slug(base, sizeof base, id_slug);
    snprintf(e->c.id, sizeof e->c.id, "chart-%s", base);
    for (int k = 2, dup = 1; dup; k++) { /* unique ids: chart-x, chart-x-2, ... */
        dup = 0;
        for (int i = 0; i < L->n; i++)
            if (!strcmp(L->v[i].c.id, e->c.id)) dup = 1;
        if (dup) snprintf(e->c.id, sizeof e->c.id, "chart-%s-%d", base, k);
    }
    e->c.title = xstrdup(title);
    e->c.note = note && *note ? xstrdup(note) : NULL;
    e->c.yscale = 1;
    e->c.yunit = "";
    if (!e->c.title) { L->oom = 1; return NULL; }
    L->n++;
    return &e->c;
}

static rp_series *series_add(rp_chart *c, const char *key_text, const char *label, int n, int with_ci) {
    rp_series *ns = realloc(c->s, sizeof *ns * (c->n_s + 1));
    if (!ns) return NULL;
    c->s = ns;
    rp_series *s = &c->s[c->n_s];
    memset(s, 0, sizeof *s);
    char base[RP_KEY_LEN - 8];
    slug(base, sizeof base, key_text);
    snprintf(s->key, sizeof s->key, "%s", base);
    for (int k = 2, dup = 1; dup; k++) {
        dup = 0;
        for (int i = 0; i < c->n_s; i++)
            if (!strcmp(c->s[i].key, s->key)) dup = 1;
        if (dup) snprintf(s->key, sizeof s->key, "%s-%d", base, k);
    }
    s->label = xstrdup(label);
    s->n = n;
    s->x = malloc(sizeof *s->x * (n ? n : 1));
    s->y = malloc(sizeof *s->y * (n ? n : 1));
    if (with_ci) s->lo = malloc(sizeof *s->lo * (n ? n : 1)), s->hi = malloc(sizeof *s->hi * (n ? n : 1));
    if (!s->label || !s->x || !s->y || (with_ci && (!s->lo || !s->hi))) {
        free(s->label), free(s->x), free(s->y), free(s->lo), free(s->hi);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        s->x[i] = s->y[i] = NAN;
        if (with_ci) s->lo[i] = s->hi[i] = NAN;
    }
    s->color = c->n_s;
    c->n_s++;
    return s;
}

static void chart_free(rp_chart *c) {
    for (int i = 0; i < c->n_s; i++) {
        rp_series *s = &c->s[i];
        free(s->label), free(s->x), free(s->y), free(s->lo), free(s->hi), free(s->ema);
    }
    free(c->s);
    for (int i = 0; i < c->n_cats; i++) free(c->cats[i]);
    free(c->cats), free(c->title), free(c->note);
}

/* Drops series without a finite point, then the chart when none is left. */
static void chart_prune(rp_chart_list *L) {
    rp_chart_ent *e = &L->v[L->n - 1];
    rp_chart *c = &e->c;
    int m = 0;
    for (int i = 0; i < c->n_s; i++) {
        int fin = 0;
        for (int j = 0; j < c->s[i].n; j++) fin += isfinite(c->s[i].y[j]) && isfinite(c->s[i].x[j]);
        if (fin) c->s[m++] = c->s[i];
        else {
            rp_series *s = &c->s[i];
            free(s->label), free(s->x), free(s->y), free(s->lo), free(s->hi), free(s->ema);
        }
    }
    c->n_s = m;
    if (!m) chart_free(c), L->n--;
}

/* Debiased exponential moving average (TensorBoard's), NaN where y is NaN. */
static double *ema_of(const double *y, int n, double w) {
    double *e = malloc(sizeof *e * (n ? n : 1)), acc = 0;
    if (!e) return NULL;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(y[i])) { e[i] = NAN; continue; }
        acc = w * acc + (1 - w) * y[i], k++;
        e[i] = acc / (1 - pow(w, k));
    }
    return e;
}

static int col_count(const rp_table *t, int c) {
    int k = 0;
    for (int r = 0; r < t->n_rows; r++) k += t->cols[c].has[r];
    return k;
}

/* A series of column c over the steps where it was written. smooth: add an EMA. */
static rp_series *series_col(rp_report *x, rp_chart *ch, int c, const char *label, int smooth) {
    const rp_table *t = &x->d->t;
    int n = col_count(t, c);
    rp_series *s = series_add(ch, t->cols[c].name, label ? label : t->cols[c].name, n, 0);
    if (!s) { x->L.oom = 1; return NULL; }
    for (int r = 0, i = 0; r < t->n_rows; r++)
        if (t->cols[c].has[r]) s->x[i] = t->step[r], s->y[i] = t->cols[c].v[r], i++;
    if (smooth && strcmp(t->cols[c].name, "lr") && n >= x->ema_min && x->ema_w > 0 && !(s->ema = ema_of(s->y, n, x->ema_w))) x->L.oom = 1;
    if (n <= 40 && !smooth) s->markers = 1;
    return s;
}

typedef struct { const char *col, *label; int dash; } kseries;
typedef struct {
    const char *id, *title, *note, *ylabel;
    double yscale;
    int yzero;
    kseries s[4];
} kchart;

/* The fields rlvr train and rlvr sft write, grouped into charts (in page order after
 * the accuracy chart). A field missing from the run is simply not drawn. */
static const kchart KNOWN[] = {
    {"kl", "KL divergence to the reference", "per-token estimate against the reference policy", "KL (nats/token)", 1, 1, {{"kl", "KL", 0}}},
    {"entropy", "Policy entropy", "mean over the sampled tokens", "entropy (nats/token)", 1, 1, {{"entropy", "entropy", 0}}},
    {"length", "Completion length", "mean, longest and shortest completion of each step", "tokens", 1, 1,
     {{"len_mean", "mean", 0}, {"len_max", "max", 1}, {"len_min", "min", 1}}},
    {"clip", "Clip fractions", "share of trained tokens whose importance ratio was clipped", "tokens clipped (%)", 100, 1,
     {{"clip_frac_low", "low side (ratio < 1 - eps_low)", 0}, {"clip_frac_high", "high side (ratio > 1 + eps_high)", 0}, {"clip_frac_dual", "dual clip", 0}}},
    {"signal", "Groups without signal, truncation", "zero-variance groups give no gradient; truncated = stopped at max_new_tokens", "share (%)", 100, 1,
     {{"zero_std_frac", "zero-variance groups", 0}, {"trunc_frac", "truncated completions", 0}}},
    {"loss", "Loss", NULL, "loss", 1, 0, {{"loss", "loss", 0}, {"pg_loss", "policy-gradient part", 1}}},
    {"grad_norm", "Gradient norm", NULL, "L2 norm", 1, 1, {{"grad_norm", "gradient norm", 0}}},
    {"ratio", "Importance ratio", "pi / pi_old over trained tokens", "ratio", 1, 0, {{"ratio_mean", "mean", 0}, {"ratio_max", "max", 1}}},
    {"lr", "Learning rate", NULL, "learning rate", 1, 1, {{"lr", "learning rate", 0}}},
    {"throughput", "Throughput", NULL, "tokens / s", 1, 1,
     {{"sample_tok_s", "sampling", 0}, {"train_tok_s", "training", 0}, {"tokens_per_s", "training", 0}}},
    {"time", "Time per step", NULL, "seconds", 1, 1, {{"sample_s", "sampling", 0}, {"train_s", "training", 0}}},
};

/* "eval.acc_d2" -> "difficulty 2 (held-out)"; other names unchanged */
static void eval_label(char *out, size_t cap, const char *name) {
    const char *s = !strncmp(name, "eval.", 5) ? name + 5 : name;
    char *end = NULL;
    if (!strncmp(s, "acc_d", 5)) {
        long v = strtol(s + 5, &end, 10);
        if (end && !*end && end != s + 5) { snprintf(out, cap, "held-out, difficulty %ld", v); return; }
    }
    snprintf(out, cap, "held-out %s", s);
}

/* eval.* columns whose values all lie in [0, 1] are accuracies */
static int is_fraction_col(const rp_table *t, int c) {
    int any = 0;
    for (int r = 0; r < t->n_rows; r++)
        if (t->cols[c].has[r] && isfinite(t->cols[c].v[r])) {
            if (t->cols[c].v[r] < 0 || t->cols[c].v[r] > 1) return 0;
            any = 1;
        }
    return any;
}

static void metric_charts(rp_report *x) {
    const rp_table *t = &x->d->t;
    if (!t->n_rows) return;
    rp_chart *c;
    int k;
    if ((k = rp_col_find(t, "reward_mean")) >= 0 && (c = chart_add(&x->L, RP_SEC_TRAIN, "reward", "Reward", "mean reward of each step's samples, and its spread within the batch"))) {
        c->xlabel = "step", c->ylabel = "reward";
        series_col(x, c, k, "mean reward", 1);
        x->used[k] = 1;
        if ((k = rp_col_find(t, "reward_std")) >= 0) {
            rp_series *s = series_col(x, c, k, "std within the batch", 1);
            if (s) s->dash = 1;
            x->used[k] = 1;
        }
        chart_prune(&x->L);
    }
    /* accuracy: held-out evaluations (markers) and the training batch */
    int any_acc = 0;
    for (int i = 0; i < t->n_cols; i++) any_acc |= (!strncmp(t->cols[i].name, "eval.", 5) && is_fraction_col(t, i)) || !strcmp(t->cols[i].name, "acc");
    if (any_acc && (c = chart_add(&x->L, RP_SEC_TRAIN, "accuracy", "Accuracy",
                                  "held-out pass@1 at each periodic evaluation (markers; greedy unless eval.temperature > 0); accuracy of the training samples"))) {
        c->xlabel = "step", c->ylabel = "accuracy (%)", c->yscale = 100, c->yunit = "%", c->yfixed = 1;
        for (int i = 0; i < t->n_cols; i++) {
            if (strncmp(t->cols[i].name, "eval.", 5) || !is_fraction_col(t, i)) continue;
            char lab[200];
            eval_label(lab, sizeof lab, t->cols[i].name);
            rp_series *s = series_col(x, c, i, lab, 0);
            if (s) s->markers = 1;
            x->used[i] = 1;
        }
        if ((k = rp_col_find(t, "acc")) >= 0) {
            rp_series *s = series_col(x, c, k, "training samples", 1);
            if (s) s->color = 7, s->dash = 0;
            x->used[k] = 1;
        }
        chart_prune(&x->L);
    }
    for (size_t i = 0; i < sizeof KNOWN / sizeof *KNOWN; i++) {
        const kchart *kc = &KNOWN[i];
        int present = 0;
        for (int j = 0; j < 4 && kc->s[j].col; j++) present |= rp_col_find(t, kc->s[j].col) >= 0;
        if (!present || !(c = chart_add(&x->L, RP_SEC_TRAIN, kc->id, kc->title, kc->note))) continue;
        c->xlabel = "step", c->ylabel = kc->ylabel, c->yscale = kc->yscale, c->yzero = kc->yzero, c->yunit = kc->yscale == 100 ? "%" : "";
        for (int j = 0; j < 4 && kc->s[j].col; j++) {
            if ((k = rp_col_find(t, kc->s[j].col)) < 0) continue;
            rp_series *s = series_col(x, c, k, kc->s[j].label, 1);
            if (s) s->dash = kc->s[j].dash;
            x->used[k] = 1;
        }
        chart_prune(&x->L);
    }
    /* every other field that changes: a chart of its own */
    for (int i = 0; i < t->n_cols; i++) {
        if (x->used[i] || !strcmp(t->cols[i].name, "elapsed_s")) continue;
        double first = NAN;
        int varies = 0, n = 0;
        for (int r = 0; r < t->n_rows; r++) {
            if (!t->cols[i].has[r]) continue;
            double v = t->cols[i].v[r];
            n++;
            if (n == 1) first = v;
            else if (!(v == first || (isnan(v) && isnan(first)))) varies = 1;
        }
        if (!varies) continue;
        int sparse = !strncmp(t->cols[i].name, "eval.", 5) || n * 2 < t->n_rows;
        char id[MAX_ID];
        snprintf(id, sizeof id, "field-%s", t->cols[i].name);
        if (!(c = chart_add(&x->L, RP_SEC_OTHER, id, t->cols[i].name, sparse ? "logged at some steps only" : NULL))) continue;
        c->xlabel = "step", c->ylabel = t->cols[i].name;
        rp_series *s = series_col(x, c, i, t->cols[i].name, !sparse);
        if (s && sparse) s->markers = 1;
        x->used[i] = 2;
        chart_prune(&x->L);
    }
}

/* ---- evaluation: categories (group, difficulty) across eval files ---- */

static int cat_cmp(const void *a, const void *b) {
    const rp_cat *x = a, *y = b;
    int g = strcmp(x->group, y->group);
    if (g) return g;
    return x->difficulty < y->difficulty ? -1 : x->difficulty > y->difficulty;
}

static int cats_of(const rp_data *d, rp_cat **out) {
    int n = 0, cap = 0;
    rp_cat *v = NULL;
    for (int e = 0; e < d->n_ev; e++)
        for (int r = 0; r < d->ev[e].n_rows; r++) {
            const rp_erow *row = &d->ev[e].rows[r];
            int found = 0;
            for (int i = 0; i < n && !found; i++) found = v[i].difficulty == row->difficulty && !strcmp(v[i].group, row->group);
            if (found) continue;
            if (n == cap) {
                rp_cat *nv = realloc(v, sizeof *nv * (cap = cap ? cap * 2 : 16));
                if (!nv) { free(v); return -1; }
                v = nv;
            }
            v[n++] = (rp_cat){row->difficulty, row->group};
        }
    if (n) qsort(v, n, sizeof *v, cat_cmp);
    *out = v;
    return n;
}

const rp_erow *rp_find_row(const rp_eval *ev, const rp_cat *c) {
    for (int r = 0; r < ev->n_rows; r++)
        if (ev->rows[r].difficulty == c->difficulty && !strcmp(ev->rows[r].group, c->group)) return &ev->rows[r];
    return NULL;
}

const rp_kpt *rp_find_k(const rp_erow *row, int m, double k) {
    if (!row) return NULL;
    for (int i = 0; i < row->n[m]; i++)
        if (row->m[m][i].k == k) return &row->m[m][i];
    return NULL;
}

void rp_cat_name(char *out, size_t cap, const rp_cat *c) {
    if (*c->group) snprintf(out, cap, "%s %g", c->group, c->difficulty);
    else snprintf(out, cap, "%g", c->difficulty);
}

/* The k of the bar chart and the headline: 1 when every row has pass@1, else the smallest k seen. */
double rp_bar_k(const rp_data *d) {
    double kmin = INFINITY;
    int all1 = 1;
    for (int e = 0; e < d->n_ev; e++)
        for (int r = 0; r < d->ev[e].n_rows; r++) {
            const rp_erow *row = &d->ev[e].rows[r];
            if (row->n[RP_PASS]) kmin = fmin(kmin, row->m[RP_PASS][0].k);
            if (!rp_find_k(row, RP_PASS, 1)) all1 = 0;
        }
    return all1 ? 1 : kmin;
}

static void eval_charts(rp_report *x, const rp_cat *cats, int n_cats) {
    const rp_data *d = x->d;
    if (!d->n_ev || !n_cats) return;
    double kb = rp_bar_k(d);
    rp_chart *c;
    char title[320], note[200];
    snprintf(title, sizeof title, "pass@%g by difficulty", kb);
    snprintf(note, sizeof note, "%s; whiskers: 95%% bootstrap interval over problems", d->n_ev > 1 ? "each model side by side" : "per difficulty");
    if (isfinite(kb) && (c = chart_add(&x->L, RP_SEC_EVAL, "per-difficulty", title, note))) {
        c->bars = 1, c->xlabel = "difficulty", c->yscale = 100, c->yunit = "%", c->yfixed = 1;
        c->ylabel = "pass rate (%)";
        if (!(c->cats = calloc(n_cats, sizeof *c->cats))) x->L.oom = 1;
        else
            for (int i = 0; i < n_cats; i++) {
                char nm[200];
                rp_cat_name(nm, sizeof nm, &cats[i]);
                if (!(c->cats[i] = strdup(nm))) x->L.oom = 1;
                c->n_cats = i + 1;
            }
        for (int e = 0; e < d->n_ev; e++) {
            char key[16];
            snprintf(key, sizeof key, "m%d", e);
            rp_series *s = series_add(c, key, d->ev[e].label, n_cats, 1);
            if (!s) { x->L.oom = 1; break; }
            for (int i = 0; i < n_cats; i++) {
                const rp_kpt *kp = rp_find_k(rp_find_row(&d->ev[e], &cats[i]), RP_PASS, kb);
                s->x[i] = i;
                if (kp) s->y[i] = kp->mean, s->lo[i] = kp->lo, s->hi[i] = kp->hi;
            }
        }
        chart_prune(&x->L);
    }
    int max_nk = 0;
    for (int e = 0; e < d->n_ev; e++)
        for (int r = 0; r < d->ev[e].n_rows; r++) max_nk = d->ev[e].rows[r].n[RP_PASS] > max_nk ? d->ev[e].rows[r].n[RP_PASS] : max_nk;
    if (max_nk < 2) return; /* pass@k over one k is the bar chart */
    for (int i = 0; i < n_cats; i++) {
        char nm[200], id[220];
        rp_cat_name(nm, sizeof nm, &cats[i]);
        snprintf(title, sizeof title, "Difficulty %s: pass@k and maj@k", nm);
        snprintf(id, sizeof id, "passk-%s%sd%g", cats[i].group, *cats[i].group ? "-" : "", cats[i].difficulty);
        if (!(c = chart_add(&x->L, RP_SEC_EVAL, id, title, "solid: pass@k with its 95% interval; dashed: majority vote over k samples"))) continue;
        c->xlabel = "k (samples per problem)", c->ylabel = "solved (%)", c->xlog2 = 1, c->yscale = 100, c->yunit = "%", c->yzero = 1;
        for (int e = 0; e < d->n_ev; e++) {
            const rp_erow *row = rp_find_row(&d->ev[e], &cats[i]);
            if (!row) continue;
            for (int m = RP_PASS; m <= RP_MAJ; m++) {
                if (!row->n[m]) continue;
                char key[32], lab[300];
                snprintf(key, sizeof key, "m%d-%s", e, m == RP_PASS ? "pass" : "maj");
                snprintf(lab, sizeof lab, "%s %s@k", d->ev[e].label, m == RP_PASS ? "pass" : "maj");
                rp_series *s = series_add(c, key, lab, row->n[m], m == RP_PASS);
                if (!s) { x->L.oom = 1; break; }
                s->color = e, s->dash = m == RP_MAJ, s->markers = 1;
                for (int j = 0; j < row->n[m]; j++) {
                    s->x[j] = row->m[m][j].k, s->y[j] = row->m[m][j].mean;
                    if (s->lo) s->lo[j] = row->m[m][j].lo, s->hi[j] = row->m[m][j].hi;
                }
            }
        }
        chart_prune(&x->L);
    }
}

/* ---- headline: first vs last model (eval files), or first vs last periodic eval ---- */

static void delta_ci(rp_hrow *h, int a, int b) {
    h->delta = h->mean[b] - h->mean[a];
    h->dlo = h->dhi = NAN;
    if (isfinite(h->lo[a]) && isfinite(h->hi[a]) && isfinite(h->lo[b]) && isfinite(h->hi[b])) {
        /* independent samples: half-widths add in quadrature (normal approximation) */
        double ha = (h->hi[a] - h->lo[a]) / 2, hb = (h->hi[b] - h->lo[b]) / 2, w = sqrt(ha * ha + hb * hb);
        h->dlo = h->delta - w, h->dhi = h->delta + w;
    }
}

static void wilson(double p, double n, double *lo, double *hi) {
    *lo = *hi = NAN;
    if (!(n > 0) || !isfinite(p)) return;
    double z = 1.959964, z2 = z * z, den = 1 + z2 / n, mid = (p + z2 / (2 * n)) / den;
    double half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / den;
    *lo = fmax(0, mid - half), *hi = fmin(1, mid + half);
}

static int headline_build(const rp_data *d, const rp_cat *cats, int n_cats, rp_headline *h) {
    memset(h, 0, sizeof *h);
    if (d->n_ev) {
        h->source = 1, h->n_cols = d->n_ev;
        for (int e = 0; e < d->n_ev; e++) snprintf(h->cols[e], sizeof h->cols[e], "%s", d->ev[e].label);
        double kb = rp_bar_k(d);
        if (!(h->rows = calloc((size_t)n_cats * 2 + 1, sizeof *h->rows))) return -1;
        for (int i = 0; i < n_cats; i++) {
            double kmax = INFINITY; /* the largest k every model has for this difficulty */
            for (int e = 0; e < d->n_ev; e++) {
                const rp_erow *r = rp_find_row(&d->ev[e], &cats[i]);
                double km = 0;
                for (int j = 0; r && j < r->n[RP_PASS]; j++) {
                    int all = 1;
                    for (int f = 0; f < d->n_ev; f++) all &= rp_find_k(rp_find_row(&d->ev[f], &cats[i]), RP_PASS, r->m[RP_PASS][j].k) != NULL;
                    if (all) km = fmax(km, r->m[RP_PASS][j].k);
                }
                kmax = fmin(kmax, km);
            }
            double ks[2] = {kb, kmax};
            for (int q = 0; q < 2; q++) {
                if (q == 1 && !(kmax > kb)) break;
                rp_hrow *r = &h->rows[h->n_rows];
                char nm[200];
                rp_cat_name(nm, sizeof nm, &cats[i]);
                r->difficulty = cats[i].difficulty, r->k = ks[q];
                snprintf(r->group, sizeof r->group, "%s", cats[i].group);
                snprintf(r->metric, sizeof r->metric, "pass");
                snprintf(r->what, sizeof r->what, "%s|pass@%g", nm, ks[q]);
                int any = 0;
                for (int e = 0; e < d->n_ev; e++) {
                    const rp_kpt *kp = rp_find_k(rp_find_row(&d->ev[e], &cats[i]), RP_PASS, ks[q]);
                    r->mean[e] = kp ? kp->mean : NAN, r->lo[e] = kp ? kp->lo : NAN, r->hi[e] = kp ? kp->hi : NAN;
                    any |= kp != NULL;
                }
                if (!any) continue;
                r->delta = r->dlo = r->dhi = NAN;
                if (d->n_ev > 1) delta_ci(r, 0, d->n_ev - 1);
                h->n_rows++;
            }
        }
        return 0;
    }
    /* periodic evaluations in metrics.jsonl: first vs last */
    const rp_table *t = &d->t;
    int first = -1, last = -1, ncol = rp_col_find(t, "n");
    for (int r = 0; r < t->n_rows; r++)
        for (int c = 0; c < t->n_cols; c++)
            if (t->cols[c].has[r] && isfinite(t->cols[c].v[r]) && !strncmp(t->cols[c].name, "eval.", 5)) {
                if (first < 0) first = r;
                last = r;
            }
    if (first < 0 || first == last) return 0;
    h->source = 2, h->n_cols = 2;
    snprintf(h->cols[0], sizeof h->cols[0], "step %g", t->step[first]);
    snprintf(h->cols[1], sizeof h->cols[1], "step %g", t->step[last]);
    if (!(h->rows = calloc(t->n_cols + 1, sizeof *h->rows))) return -1;
    for (int c = 0; c < t->n_cols; c++) {
        if (strncmp(t->cols[c].name, "eval.", 5) || !is_fraction_col(t, c)) continue;
        rp_hrow *r = &h->rows[h->n_rows];
        char lab[200];
        eval_label(lab, sizeof lab, t->cols[c].name);
        const char *nm = !strncmp(lab, "held-out, difficulty ", 21) ? lab + 21 : lab;
        snprintf(r->what, sizeof r->what, "%s|held-out pass@1", nm);
        r->difficulty = NAN, r->k = NAN;
        snprintf(r->metric, sizeof r->metric, "acc");
        int rows[2] = {first, last};
        for (int q = 0; q < 2; q++) {
            double n = ncol >= 0 && t->cols[ncol].has[rows[q]] ? t->cols[ncol].v[rows[q]] : d->config_eval_n;
            r->mean[q] = t->cols[c].has[rows[q]] ? t->cols[c].v[rows[q]] : NAN;
            wilson(r->mean[q], n, &r->lo[q], &r->hi[q]);
        }
        r->delta = r->mean[1] - r->mean[0], r->dlo = r->dhi = NAN;
        double n0 = ncol >= 0 && t->cols[ncol].has[first] ? t->cols[ncol].v[first] : d->config_eval_n;
        double n1 = ncol >= 0 && t->cols[ncol].has[last] ? t->cols[ncol].v[last] : d->config_eval_n;
        if (n0 > 0 && n1 > 0 && isfinite(r->delta)) {
            double se = sqrt(r->mean[0] * (1 - r->mean[0]) / n0 + r->mean[1] * (1 - r->mean[1]) / n1);
            r->dlo = r->delta - 1.959964 * se, r->dhi = r->delta + 1.959964 * se;
        }
        h->n_rows++;
    }
    if (!h->n_rows) h->source = 0;
    return 0;
}

/* ---- summary cards ---- */

/* mean of the first (end=0) or last (end=1) tenth of a column's finite values */
static double tenth_mean(const rp_table *t, int c, int end) {
    int n = 0;
    for (int r = 0; r < t->n_rows; r++) n += t->cols[c].has[r] && isfinite(t->cols[c].v[r]);
    if (!n) return NAN;
    int want = n / 10 > 0 ? n / 10 : 1, got = 0;
    double s = 0;
    for (int i = 0; i < t->n_rows && got < want; i++) {
        int r = end ? t->n_rows - 1 - i : i;
        if (t->cols[c].has[r] && isfinite(t->cols[c].v[r])) s += t->cols[c].v[r], got++;
    }
    return s / got;
}

static int cards_build(const rp_data *d, rp_card *cs, int max) {
    const rp_table *t = &d->t;
    int n = 0, c;
    double maxstep = -INFINITY;
    for (int r = 0; r < t->n_rows; r++) maxstep = fmax(maxstep, t->step[r]);
    if (t->n_rows && n < max) {
        rp_card *k = &cs[n++];
        snprintf(k->label, sizeof k->label, "steps");
        snprintf(k->value, sizeof k->value, "%g", maxstep);
        snprintf(k->sub, sizeof k->sub, "%d records in metrics.jsonl", t->n_rows);
        k->from = NAN, k->to = maxstep;
    }
    if ((c = rp_col_find(t, "elapsed_s")) >= 0 && n < max) {
        double e = -INFINITY;
        for (int r = 0; r < t->n_rows; r++)
            if (t->cols[c].has[r] && isfinite(t->cols[c].v[r])) e = fmax(e, t->cols[c].v[r]);
        if (isfinite(e)) {
            rp_card *k = &cs[n++];
            snprintf(k->label, sizeof k->label, "wall time");
            if (e >= 3600) snprintf(k->value, sizeof k->value, "%dh %02dm", (int)(e / 3600), (int)fmod(e / 60, 60));
            else if (e >= 60) snprintf(k->value, sizeof k->value, "%dm %02ds", (int)(e / 60), (int)fmod(e, 60));
            else snprintf(k->value, sizeof k->value, "%.1fs", e);
            snprintf(k->sub, sizeof k->sub, "%.2f s per step", maxstep > 0 ? e / maxstep : e);
            k->from = NAN, k->to = e;
        }
    }
    static const struct { const char *col, *label; int pct; } trend[] = {
        {"reward_mean", "reward", 0}, {"entropy", "entropy", 0}, {"loss", "loss", 0}};
    for (size_t i = 0; i < sizeof trend / sizeof *trend && n < max; i++) {
        if ((c = rp_col_find(t, trend[i].col)) < 0) continue;
        if (!strcmp(trend[i].col, "loss") && rp_col_find(t, "reward_mean") >= 0) continue; /* an RL loss has no trend to read */
        double a = tenth_mean(t, c, 0), b = tenth_mean(t, c, 1);
        if (!isfinite(a) || !isfinite(b)) continue;
        rp_card *k = &cs[n++];
        snprintf(k->label, sizeof k->label, "%s", trend[i].label);
        if (trend[i].pct) snprintf(k->value, sizeof k->value, "%.1f%% \xE2\x86\x92 %.1f%%", 100 * a, 100 * b);
        else {
            char x1[48], x2[48];
            snprintf(x1, sizeof x1, "%.3g", a), snprintf(x2, sizeof x2, "%.3g", b);
            snprintf(k->value, sizeof k->value, "%s \xE2\x86\x92 %s", x1, x2);
        }
        snprintf(k->sub, sizeof k->sub, "mean of the first and the last tenth of the steps");
        k->from = a, k->to = b;
    }
    /* held-out accuracy: mean over difficulties, first and last periodic eval */
    int first = -1, last = -1;
    double fa = 0, la = 0;
    int fn = 0, ln = 0;
    for (int r = 0; r < t->n_rows; r++) {
        double s = 0;
        int m = 0;
        for (int cc = 0; cc < t->n_cols; cc++)
            if (!strncmp(t->cols[cc].name, "eval.", 5) && t->cols[cc].has[r] && isfinite(t->cols[cc].v[r]) && is_fraction_col(t, cc)) s += t->cols[cc].v[r], m++;
        if (!m) continue;
        if (first < 0) first = r, fa = s, fn = m;
        last = r, la = s, ln = m;
    }
    if (first >= 0 && n < max) {
        rp_card *k = &cs[n++];
        snprintf(k->label, sizeof k->label, "held-out accuracy");
        k->from = fa / fn, k->to = la / ln;
        if (first == last) snprintf(k->value, sizeof k->value, "%.1f%%", 100 * k->to), k->from = NAN;
        else snprintf(k->value, sizeof k->value, "%.1f%% \xE2\x86\x92 %.1f%%", 100 * k->from, 100 * k->to);
        snprintf(k->sub, sizeof k->sub, "mean over difficulties, step %g to %g", t->step[first], t->step[last]);
    }
    if ((c = rp_col_find(t, "sample_tok_s")) >= 0 && n < max) {
        double *v = malloc(sizeof *v * (t->n_rows ? t->n_rows : 1));
        int m = 0;
        for (int r = 0; v && r < t->n_rows; r++)
            if (t->cols[c].has[r] && isfinite(t->cols[c].v[r])) v[m++] = t->cols[c].v[r];
        if (m) {
            for (int i = 1; i < m; i++) /* insertion sort: small */
                for (int j = i; j > 0 && v[j - 1] > v[j]; j--) { double tmp = v[j]; v[j] = v[j - 1], v[j - 1] = tmp; }
            rp_card *k = &cs[n++];
            snprintf(k->label, sizeof k->label, "sampling speed");
            snprintf(k->value, sizeof k->value, "%.0f tok/s", v[m / 2]);
            snprintf(k->sub, sizeof k->sub, "median over steps");
            k->from = NAN, k->to = v[m / 2];
        }
        free(v);
    }
    if (d->n_ev && n < max) {
        rp_card *k = &cs[n++];
        snprintf(k->label, sizeof k->label, "evaluations");
        snprintf(k->value, sizeof k->value, "%d model%s", d->n_ev, d->n_ev > 1 ? "s" : "");
        if (isfinite(d->ev[0].n)) snprintf(k->sub, sizeof k->sub, "%g samples per problem", d->ev[0].n);
        k->from = NAN, k->to = d->n_ev;
    }
    return n;
}

/* ---- output paths ---- */

static int out_paths_make(const report_params *p, rp_paths *op, rlvr_err *err) {
    char html[4096];
    if (p->out_html && *p->out_html) {
        if (strlen(p->out_html) >= sizeof html - 32) return errf(err, RLVR_EARG, "report: output path too long");
        snprintf(html, sizeof html, "%s", p->out_html);
    } else {
        if (strlen(p->run_dir) >= sizeof html - 32) return errf(err, RLVR_EARG, "report: run directory path too long");
        snprintf(html, sizeof html, "%s/report.html", p->run_dir);
    }
    char stem[4096];
    snprintf(stem, sizeof stem, "%s", html);
    size_t n = strlen(stem);
    if (n > 5 && !strcmp(stem + n - 5, ".html")) stem[n - 5] = 0;
    else if (n > 4 && !strcmp(stem + n - 4, ".htm")) stem[n - 4] = 0;
    const char *slash = strrchr(html, '/');
    if ((slash ? slash[1] : html[0]) == 0) return errf(err, RLVR_EARG, "report: out=%s names a directory, not a file", html);
    snprintf(op->html, sizeof op->html, "%s", html);
    snprintf(op->json, sizeof op->json, "%s.json", stem);
    snprintf(op->metrics, sizeof op->metrics, "%s.metrics.csv", stem);
    snprintf(op->passk, sizeof op->passk, "%s.passk.csv", stem);
    snprintf(op->perdiff, sizeof op->perdiff, "%s.per-difficulty.csv", stem);
    for (int i = 0; i < p->n_evals; i++)
        if (p->eval_paths[i] && (!strcmp(p->eval_paths[i], op->json) || !strcmp(p->eval_paths[i], op->html)))
            return errf(err, RLVR_EARG, "report: eval file %s would be overwritten by the report; choose another out=", p->eval_paths[i]);
    if (slash) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - html), html);
        if (*dir && fs_mkdir_p(dir, err)) return err ? err->code : RLVR_EIO;
    }
    return 0;
}

static int write_sbuf(const char *path, sbuf *b, rlvr_err *err) {
    if (b->oom) return errf(err, RLVR_ENOMEM, "%s: out of memory", path);
    return fs_write_atomic(path, b->p ? b->p : "", b->n, err);
}

int report_write(const report_params *p, report_summary *out, rlvr_err *err) {
    if (out) memset(out, 0, sizeof *out);
    if (!p) return errf(err, RLVR_EARG, "report: no parameters");
    report_params q = *p;
    if (q.max_examples < 0) q.max_examples = 0;
    if (q.max_text < 16) q.max_text = 16;
    if (q.max_points < 16) q.max_points = 16;
    if (!(q.smoothing < 1)) return errf(err, RLVR_EARG, "report: smoothing %g must be below 1", q.smoothing);
    rp_data d;
    rp_report x = {.p = &q, .d = &d};
    rp_paths op;
    rp_headline h = {0};
    rp_cat *cats = NULL;
    sbuf b = {0};
    char *js = NULL;
    int rc, n_cats = 0;
    if ((rc = rp_load(&q, &d, err))) goto out;
    if ((rc = out_paths_make(&q, &op, err))) goto out;
    const char *base = strrchr(op.json, '/');
    base = base ? base + 1 : op.json;
    snprintf(op.base, sizeof op.base, "%.*s", (int)(strlen(base) - 5), base);
    /* smoothing: weight from the length of the longest per-step curve, unless given */
    int longest = 0;
    for (int c = 0; c < d.t.n_cols; c++)
        if (strncmp(d.t.cols[c].name, "eval.", 5)) longest = col_count(&d.t, c) > longest ? col_count(&d.t, c) : longest;
    double win = 0.8 * sqrt((double)longest); /* about 4 steps over 30, 8 over 100, 25 over 1000, 80 over 10000 */
    win = win < 1 ? 1 : win > 200 ? 200 : win;
    x.ema_w = q.smoothing >= 0 ? q.smoothing : 1 - 2 / (win + 1);
    x.ema_min = 8;
    if (!(x.used = calloc(d.t.n_cols + 1, 1))) { rc = errf(err, RLVR_ENOMEM, "out of memory"); goto out; }
    if ((n_cats = cats_of(&d, &cats)) < 0) { rc = errf(err, RLVR_ENOMEM, "out of memory"); goto out; }
    eval_charts(&x, cats, n_cats);
    metric_charts(&x);
    if (x.L.oom || headline_build(&d, cats, n_cats, &h)) { rc = errf(err, RLVR_ENOMEM, "report: out of memory"); goto out; }
    rp_card cs[12];
    int n_cards = cards_build(&d, cs, 12);
    char title[4300];
    if (q.title) snprintf(title, sizeof title, "%s", q.title);
    else snprintf(title, sizeof title, "rlvr report: %s", d.run_dir);
    char *ctitle = rp_utf8_clean(title, strlen(title));
    if (!ctitle) { rc = errf(err, RLVR_ENOMEM, "out of memory"); goto out; }
    rp_csv_metrics(&b, &d.t);
    if ((rc = write_sbuf(op.metrics, &b, err))) { free(ctitle); goto out; }
    b.n = 0;
    rp_csv_passk(&b, &d);
    if ((rc = write_sbuf(op.passk, &b, err))) { free(ctitle); goto out; }
    b.n = 0;
    rp_csv_perdiff(&b, &d, cats, n_cats);
    if ((rc = write_sbuf(op.perdiff, &b, err))) { free(ctitle); goto out; }
    js = rp_json_doc(&x, &h, cs, n_cards, &op, ctitle);
    free(ctitle);
    if (!js) { rc = errf(err, RLVR_ENOMEM, "report: out of memory"); goto out; }
    if ((rc = fs_write_atomic(op.json, js, strlen(js), err))) goto out;
    b.n = 0;
    rp_html_page(&b, &x, &h, cs, n_cards, cats, n_cats, &op);
    if ((rc = write_sbuf(op.html, &b, err))) goto out;
    if (out) {
        out->n_rows = d.t.n_rows, out->n_columns = d.t.n_cols, out->n_charts = x.L.n, out->n_examples = d.n_ex, out->n_notes = d.n_notes;
        for (int i = 0; i < x.L.n; i++) out->n_series += x.L.v[i].c.n_s;
        snprintf(out->html_path, sizeof out->html_path, "%s", op.html);
        snprintf(out->json_path, sizeof out->json_path, "%s", op.json);
    }
out:
    for (int i = 0; i < x.L.n; i++) chart_free(&x.L.v[i].c);
    free(x.L.v), free(x.used), free(cats), free(h.rows), free(b.p);
    free(js);
    rp_data_free(&d);
    return rc;
}
