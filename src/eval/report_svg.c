/* report_svg.c: the report's drawing and text primitives. A growable string, HTML
 * escaping that survives hostile bytes, number formatting, and one function that
 * turns an rp_chart (line chart over steps or k, or grouped bars) into inline SVG
 * with axes, nice ticks, bands, EMA overlays and script-free tooltips (<title>).
 * Colours come from CSS custom properties so the page's light/dark theme applies;
 * presentation attributes carry the same colours for viewers without the CSS. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "eval/report_int.h"

const char *const rp_palette[RP_N_COLORS] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"};

/* ---- sbuf ---- */

void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->n + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) { b->oom = 1; return; }
        b->p = np, b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

void sb_printf(sbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if ((size_t)k < sizeof tmp) { sb_put(b, tmp, (size_t)k); return; }
    char *big = malloc((size_t)k + 1);
    if (!big) { b->oom = 1; return; }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    sb_put(b, big, (size_t)k);
    free(big);
}

/* ---- text ---- */

/* Calls emit for each character of s[0..n): valid UTF-8 as is, everything else as
 * U+FFFD; returns the code point (or -1 for an invalid byte) and its length. */
static utf8proc_int32_t next_char(const char *s, size_t n, size_t *k) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t r = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)(n > 4 ? 4 : n), &cp);
    if (r <= 0) { *k = 1; return -1; }
    *k = (size_t)r;
    return cp;
}

void sb_html(sbuf *b, const char *s, size_t n) {
    size_t i = 0, run = 0; /* run: bytes of s copied verbatim, pending */
    while (i < n) {
        size_t k;
        utf8proc_int32_t cp = next_char(s + i, n - i, &k);
        const char *rep = NULL;
        if (cp < 0 || (cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F) rep = "\xEF\xBF\xBD";
        else if (cp == '&') rep = "&amp;";
        else if (cp == '<') rep = "&lt;";
        else if (cp == '>') rep = "&gt;";
        else if (cp == '"') rep = "&quot;";
        else if (cp == '\'') rep = "&#39;";
        if (rep) {
            sb_put(b, s + i - run, run), run = 0;
            sb_puts(b, rep);
        } else run += k;
        i += k;
    }
    sb_put(b, s + n - run, run);
}

char *rp_utf8_clean(const char *s, size_t n) {
    sbuf b = {0};
    size_t i = 0;
    sb_put(&b, "", 0);
    while (i < n) {
        size_t k;
        utf8proc_int32_t cp = next_char(s + i, n - i, &k);
        if (cp < 0) sb_puts(&b, "\xEF\xBF\xBD");
        else if (!(cp < 0x20 && cp != '\n' && cp != '\t')) sb_put(&b, s + i, k);
        i += k;
    }
    if (b.oom) { free(b.p); return NULL; }
    return b.p;
}

size_t rp_cut(const char *s, size_t n, size_t max) {
    if (n <= max) return n;
    size_t c = max;
    while (c > 0 && ((unsigned char)s[c] & 0xC0) == 0x80 && max - c < 4) c--;
    return c;
}

void rp_fmt(char *out, size_t cap, double v) {
    if (!isfinite(v)) { snprintf(out, cap, "%s", isnan(v) ? "n/a" : v > 0 ? "inf" : "-inf"); return; }
    double a = fabs(v);
    if (a != 0 && (a < 1e-3 || a >= 1e7)) snprintf(out, cap, "%.3g", v);
    else if (a >= 1e4) snprintf(out, cap, "%.0f", v);
    else snprintf(out, cap, "%.4g", v);
}

/* ---- axes ---- */

enum { W = 600, H = 300, ML = 64, MR = 18, MT = 14, MB = 46 };
#define PX0 ((double)ML)
#define PX1 ((double)(W - MR))
#define PY0 ((double)MT)
#define PY1 ((double)(H - MB))

typedef struct {
    double lo, hi;  /* in axis space (log2 applied), unscaled */
    int log2;
} axis;

static double ax_t(const axis *a, double v) { return a->log2 ? log2(v) : v; }
static double map_x(const axis *a, double v) { return PX0 + (ax_t(a, v) - a->lo) / (a->hi - a->lo) * (PX1 - PX0); }
static double map_y(const axis *a, double v) { return PY1 - (v - a->lo) / (a->hi - a->lo) * (PY1 - PY0); }

static double nice_step(double span, int target) {
    double raw = span / target, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

/* A tick label for value v on an axis whose ticks are step apart. */
static void fmt_tick(char *out, size_t cap, double v, double step) {
    if (fabs(v) < step * 1e-9) { snprintf(out, cap, "0"); return; }
    double a = fabs(v);
    if (step < 1e-4) { /* every label of this axis in exponent form: 2e-5, 4e-5, ... */
        int e = (int)floor(log10(a) + 1e-9);
        double m = v / pow(10, e);
        char ms[32];
        snprintf(ms, sizeof ms, "%.2g", m);
        snprintf(out, cap, "%se%d", ms, e);
    } else if (a >= 1e6) snprintf(out, cap, "%.*fM", step >= 1e6 ? 0 : 1, v / 1e6);
    else if (a >= 1e4) snprintf(out, cap, "%.*fk", step >= 1e3 ? 0 : 1, v / 1e3);
    else {
        int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(out, cap, "%.*f", dec, v);
    }
}

static int dcmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The y range: EMAs and bands in full, raw values of smoothed series between their
 * 1st and 99th percentiles (one spike should not flatten the curve; the raw line is
 * clipped to the plot). Extended to whole ticks; returns the tick step (display units). */
static double y_range(const rp_chart *c, axis *ay) {
    double lo = INFINITY, hi = -INFINITY;
    for (int s = 0; s < c->n_s; s++) {
        const rp_series *se = &c->s[s];
        double *tmp = malloc(sizeof *tmp * (se->n ? se->n : 1));
        int m = 0;
        for (int i = 0; i < se->n; i++) {
            if (tmp && isfinite(se->y[i])) tmp[m++] = se->y[i];
            if (se->ema && isfinite(se->ema[i])) lo = fmin(lo, se->ema[i]), hi = fmax(hi, se->ema[i]);
            if (se->lo && isfinite(se->lo[i])) lo = fmin(lo, se->lo[i]);
            if (se->hi && isfinite(se->hi[i])) hi = fmax(hi, se->hi[i]);
        }
        if (m) {
            qsort(tmp, m, sizeof *tmp, dcmp);
            int a = 0, b = m - 1;
            if (se->ema && m >= 50) a = m / 100, b = m - 1 - m / 100;
            lo = fmin(lo, tmp[a]), hi = fmax(hi, tmp[b]);
        }
        free(tmp);
    }
    if (c->yfixed) lo = 0, hi = 1;
    if (c->yzero || c->bars) lo = fmin(lo, 0), hi = fmax(hi, 0);
    if (!(lo <= hi)) lo = 0, hi = 1;
    double k = c->yscale > 0 ? c->yscale : 1;
    lo *= k, hi *= k;
    if (hi - lo <= 1e-12 * fmax(1, fabs(hi))) {
        double pad = fabs(hi) > 0 ? fabs(hi) * 0.1 : 1;
        lo -= pad, hi += pad;
        if (c->yzero && lo < 0 && hi - pad >= 0) lo = 0;
    }
    double st = nice_step(hi - lo, 5);
    double a = floor(lo / st + 1e-9) * st, b = ceil(hi / st - 1e-9) * st;
    if (b <= a) b = a + st;
    ay->lo = a / k, ay->hi = b / k, ay->log2 = 0;
    return st;
}

static void x_range(const rp_chart *c, axis *ax) {
    double lo = INFINITY, hi = -INFINITY;
    ax->log2 = c->xlog2;
    for (int s = 0; s < c->n_s; s++)
        for (int i = 0; i < c->s[s].n; i++) {
            double x = c->s[s].x[i];
            if (!isfinite(x) || (c->xlog2 && !(x > 0))) continue;
            double t = ax_t(ax, x);
            lo = fmin(lo, t), hi = fmax(hi, t);
        }
    if (c->bars) lo = -0.5, hi = c->n_cats - 0.5;
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (hi - lo < 1e-9) lo -= 0.5, hi += 0.5;
    if (c->xlog2) lo -= 0.15, hi += 0.15; /* keep end markers inside */
    ax->lo = lo, ax->hi = hi;
}

/* ---- series ---- */

/* A polyline with gaps at NaN. More than max_points points are reduced to max_points/2
 * buckets: with envelope, each bucket's first minimum and maximum in order (a noisy raw
 * curve keeps its spread), else the bucket's mean point (a smooth curve stays thin). */
static void path_line(sbuf *b, const rp_series *s, const double *y, const axis *ax, const axis *ay, int max_points, int envelope) {
    int pen = 0, n = s->n;
    if (max_points < 16) max_points = 16;
    int buckets = n > max_points ? max_points / 2 : n;
    for (int bk = 0; bk < buckets; bk++) {
        int i0 = (int)((long long)bk * n / buckets), i1 = (int)((long long)(bk + 1) * n / buckets);
        int imin = -1, imax = -1, nan = 0, m = 0;
        double sx = 0, sy = 0;
        for (int i = i0; i < i1; i++) {
            if (!isfinite(y[i]) || !isfinite(s->x[i])) { nan = 1; continue; }
            if (imin < 0 || y[i] < y[imin]) imin = i;
            if (imax < 0 || y[i] > y[imax]) imax = i;
            sx += s->x[i], sy += y[i], m++;
        }
        if (imin < 0) { pen = 0; continue; }
        if (!envelope && i1 - i0 > 1) {
            sb_printf(b, "%c%.1f %.1f", pen ? 'L' : 'M', map_x(ax, sx / m), map_y(ay, sy / m));
            pen = 1;
            continue;
        }
        int pts[2] = {imin < imax ? imin : imax, imin < imax ? imax : imin}, np = imin == imax ? 1 : 2;
        for (int j = 0; j < np; j++) {
            sb_printf(b, "%c%.1f %.1f", pen ? 'L' : 'M', map_x(ax, s->x[pts[j]]), map_y(ay, y[pts[j]]));
            pen = 1;
        }
        if (nan && n <= max_points) pen = 0;
    }
}

/* A band between lo and hi, one closed polygon per run of points where both are finite. */
static void path_band(sbuf *b, const rp_series *s, const axis *ax, const axis *ay) {
    int i = 0, n = s->n;
    while (i < n) {
        while (i < n && !(isfinite(s->lo[i]) && isfinite(s->hi[i]))) i++;
        int j = i;
        while (j < n && isfinite(s->lo[j]) && isfinite(s->hi[j])) j++;
        if (j - i >= 2) {
            for (int k = i; k < j; k++) sb_printf(b, "%c%.1f %.1f", k == i ? 'M' : 'L', map_x(ax, s->x[k]), map_y(ay, s->hi[k]));
            for (int k = j - 1; k >= i; k--) sb_printf(b, "L%.1f %.1f", map_x(ax, s->x[k]), map_y(ay, s->lo[k]));
            sb_puts(b, "Z");
        }
        i = j;
    }
}

static void fmt_val(char *out, size_t cap, const rp_chart *c, double v) {
    if (!isfinite(v)) { snprintf(out, cap, "n/a"); return; }
    char t[48];
    if (c->yunit && !strcmp(c->yunit, "%")) snprintf(t, sizeof t, "%.1f%%", v * c->yscale);
    else rp_fmt(t, sizeof t, v * (c->yscale > 0 ? c->yscale : 1));
    snprintf(out, cap, "%s", t);
}

static void fmt_x(char *out, size_t cap, const rp_chart *c, double x) { /* cap >= 160 */
    if (c->bars) snprintf(out, cap, "%s", c->cats && x >= 0 && x < c->n_cats ? c->cats[(int)x] : "?");
    else if (c->xlog2) snprintf(out, cap, "k = %.0f", x);
    else {
        char v[48];
        rp_fmt(v, sizeof v, x);
        snprintf(out, cap, "%.100s %s", c->xlabel ? c->xlabel : "x", v);
    }
}

/* Transparent columns over the plot, each with a <title> listing every series'
 * value there (the last point inside the column). */
static void hover_columns(sbuf *b, const rp_chart *c, const axis *ax) {
    size_t total = 0;
    for (int s = 0; s < c->n_s; s++) total += (size_t)c->s[s].n;
    if (!total) return;
    double *xs = malloc(sizeof *xs * total);
    int *pos = calloc(c->n_s, sizeof *pos);
    if (!xs || !pos) { free(xs), free(pos); return; }
    size_t m = 0;
    for (int s = 0; s < c->n_s; s++)
        for (int i = 0; i < c->s[s].n; i++)
            if (isfinite(c->s[s].x[i])) xs[m++] = c->s[s].x[i];
    qsort(xs, m, sizeof *xs, dcmp);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (!u || xs[i] != xs[u - 1]) xs[u++] = xs[i];
    int cols = u > 150 ? 150 : (int)u;
    sb_puts(b, "<g class=\"hover\">");
    for (int k = 0; k < cols; k++) {
        double lo, hi; /* the x values this column covers */
        if (u <= 150) lo = hi = xs[k];
        else lo = xs[(size_t)k * u / cols], hi = xs[(size_t)(k + 1) * u / cols - 1];
        double a = k == 0 ? PX0 : (map_x(ax, lo) + map_x(ax, u <= 150 ? xs[k - 1] : xs[(size_t)k * u / cols - 1])) / 2;
        double z = k == cols - 1 ? PX1 : (map_x(ax, hi) + map_x(ax, u <= 150 ? xs[k + 1] : xs[(size_t)(k + 1) * u / cols])) / 2;
        if (z - a < 0.2) continue;
        sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#000\" fill-opacity=\"0\"><title>", a, PY0, z - a, PY1 - PY0);
        char xl[256], vl[64], el[64];
        if (lo == hi) fmt_x(xl, sizeof xl, c, lo);
        else {
            char l1[48], l2[48];
            rp_fmt(l1, sizeof l1, lo), rp_fmt(l2, sizeof l2, hi);
            snprintf(xl, sizeof xl, "%.100ss %s\xE2\x80\x93%s", c->xlabel ? c->xlabel : "x", l1, l2);
        }
        sb_htmls(b, xl);
        for (int s = 0; s < c->n_s; s++) {
            const rp_series *se = &c->s[s];
            int i = pos[s], last = -1;
            while (i < se->n && se->x[i] <= hi) {
                if (se->x[i] >= lo) last = i;
                i++;
            }
            pos[s] = i;
            if (last < 0) continue;
            fmt_val(vl, sizeof vl, c, se->y[last]);
            sb_puts(b, "\n");
            sb_htmls(b, se->label);
            sb_printf(b, ": %s", vl);
            if (se->ema) {
                fmt_val(el, sizeof el, c, se->ema[last]);
                sb_printf(b, " (EMA %s)", el);
            }
        }
        sb_puts(b, "</title></rect>");
    }
    sb_puts(b, "</g>");
    free(xs), free(pos);
}

static void marker_title(sbuf *b, const rp_chart *c, const rp_series *se, int i) {
    char xl[256], vl[64];
    fmt_x(xl, sizeof xl, c, se->x[i]);
    fmt_val(vl, sizeof vl, c, se->y[i]);
    sb_puts(b, "<title>");
    sb_htmls(b, se->label);
    sb_puts(b, ", ");
    sb_htmls(b, xl);
    sb_printf(b, ": %s", vl);
    if (se->lo && se->hi && isfinite(se->lo[i]) && isfinite(se->hi[i])) {
        char l[64], h[64];
        fmt_val(l, sizeof l, c, se->lo[i]), fmt_val(h, sizeof h, c, se->hi[i]);
        sb_printf(b, " (95%% CI %s to %s)", l, h);
    }
    sb_puts(b, "</title>");
}

static void draw_bars(sbuf *b, const rp_chart *c, const axis *ay) {
    double gw = (PX1 - PX0) / (c->n_cats ? c->n_cats : 1), inner = gw * 0.74, bw = inner / (c->n_s ? c->n_s : 1);
    double y0 = map_y(ay, 0);
    for (int s = 0; s < c->n_s; s++) {
        const rp_series *se = &c->s[s];
        const char *col = rp_palette[se->color % RP_N_COLORS];
        sb_printf(b, "<path class=\"series bar c%d\" data-series=\"%s\" data-n=\"%d\" fill=\"%s\" d=\"", se->color % RP_N_COLORS, se->key, se->n, col);
        for (int i = 0; i < se->n; i++) {
            if (!isfinite(se->y[i])) continue;
            double x = PX0 + se->x[i] * gw + (gw - inner) / 2 + s * bw + bw * 0.06, y1 = map_y(ay, se->y[i]);
            sb_printf(b, "M%.1f %.1fH%.1fV%.1fH%.1fZ", x, y0, x + bw * 0.88, y1, x);
        }
        sb_puts(b, "\"/>");
        if (se->lo && se->hi) {
            sb_printf(b, "<path class=\"ci\" data-ci=\"%s\" stroke-width=\"1.4\" fill=\"none\" d=\"", se->key);
            for (int i = 0; i < se->n; i++) {
                if (!isfinite(se->lo[i]) || !isfinite(se->hi[i])) continue;
                double cx = PX0 + se->x[i] * gw + (gw - inner) / 2 + (s + 0.5) * bw, yl = map_y(ay, se->lo[i]), yh = map_y(ay, se->hi[i]);
                sb_printf(b, "M%.1f %.1fV%.1fM%.1f %.1fh8M%.1f %.1fh8", cx, yl, yh, cx - 4, yl, cx - 4, yh);
            }
            sb_puts(b, "\"/>");
        }
        for (int i = 0; i < se->n; i++) {
            if (!isfinite(se->y[i])) continue;
            double x = PX0 + se->x[i] * gw + (gw - inner) / 2 + s * bw, top = map_y(ay, se->y[i]);
            if (se->hi && isfinite(se->hi[i])) top = fmin(top, map_y(ay, se->hi[i]));
            char vl[64];
            fmt_val(vl, sizeof vl, c, se->y[i]);
            if (bw >= 26) sb_printf(b, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x + bw / 2, top - 4, vl);
            sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#000\" fill-opacity=\"0\">", x, PY0, bw, PY1 - PY0);
            marker_title(b, c, se, i);
            sb_puts(b, "</rect>");
        }
    }
}

void rp_chart_svg(sbuf *b, const rp_chart *c, int max_points) {
    axis ax, ay;
    x_range(c, &ax);
    double yst = y_range(c, &ay), k = c->yscale > 0 ? c->yscale : 1;
    sb_printf(b, "<svg id=\"%s\" class=\"plot\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"", c->id, W, H, W, H);
    sb_htmls(b, c->title);
    sb_puts(b, "\">"); /* inline SVG in HTML needs no xmlns (and the page has no URL at all) */
    sb_printf(b, "<defs><clipPath id=\"clip-%s\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></clipPath></defs>", c->id, PX0,
              PY0 - 1, PX1 - PX0, PY1 - PY0 + 2);
    /* grid and y ticks */
    sb_puts(b, "<g class=\"grid\" stroke=\"#d0d7de\" stroke-width=\"1\">");
    for (double v = ay.lo * k; v <= ay.hi * k + yst * 1e-6; v += yst) {
        double y = map_y(&ay, v / k);
        sb_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", PX0, PX1, y, y);
    }
    sb_puts(b, "</g><g class=\"tick\" font-size=\"11\" fill=\"#57606a\">");
    for (double v = ay.lo * k; v <= ay.hi * k + yst * 1e-6; v += yst) {
        char t[48];
        fmt_tick(t, sizeof t, v, yst);
        sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" dominant-baseline=\"middle\">%s%s</text>", PX0 - 7, map_y(&ay, v / k), t,
                  c->yunit && !strcmp(c->yunit, "%") ? "%" : "");
    }
    /* x ticks */
    if (c->bars) {
        double gw = (PX1 - PX0) / (c->n_cats ? c->n_cats : 1);
        for (int i = 0; i < c->n_cats; i++) {
            sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", PX0 + (i + 0.5) * gw, PY1 + 17);
            sb_htmls(b, c->cats[i]);
            sb_puts(b, "</text>");
        }
    } else if (c->xlog2) {
        int a = (int)ceil(ax.lo - 1e-9), z = (int)floor(ax.hi + 1e-9), every = (z - a) > 10 ? 2 : 1;
        for (int e = a; e <= z; e += every)
            sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>", map_x(&ax, pow(2, e)), PY1 + 17, pow(2, e));
    } else {
        int whole = 1; /* steps are whole numbers: no tick between them */
        for (int s = 0; s < c->n_s && whole; s++)
            for (int i = 0; i < c->s[s].n && whole; i++) whole = !isfinite(c->s[s].x[i]) || c->s[s].x[i] == floor(c->s[s].x[i]);
        double xst = nice_step(ax.hi - ax.lo, 6);
        if (xst < 1 && whole) xst = 1;
        for (double v = ceil(ax.lo / xst - 1e-9) * xst; v <= ax.hi + xst * 1e-6; v += xst) {
            char t[48];
            fmt_tick(t, sizeof t, v, xst);
            sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", map_x(&ax, v), PY1 + 17, t);
        }
    }
    sb_puts(b, "</g>");
    sb_printf(b, "<path class=\"axis\" stroke=\"#8c959f\" fill=\"none\" d=\"M%.1f %.1fV%.1fH%.1f\"/>", PX0, PY0, PY1, PX1);
    sb_printf(b, "<text class=\"axt\" font-size=\"12\" fill=\"#57606a\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", (PX0 + PX1) / 2, H - 8);
    sb_htmls(b, c->xlabel ? c->xlabel : "");
    sb_printf(b, "</text><text class=\"axt\" font-size=\"12\" fill=\"#57606a\" transform=\"rotate(-90)\" x=\"%.1f\" y=\"16\" text-anchor=\"middle\">",
              -(PY0 + PY1) / 2);
    sb_htmls(b, c->ylabel ? c->ylabel : "");
    sb_puts(b, "</text>");
    if (c->bars) {
        draw_bars(b, c, &ay);
        sb_puts(b, "</svg>");
        return;
    }
    if (!c->xlog2) hover_columns(b, c, &ax);
    for (int s = 0; s < c->n_s; s++) { /* bands under every line */
        const rp_series *se = &c->s[s];
        if (!se->lo || !se->hi) continue;
        sb_printf(b, "<path class=\"band c%d\" data-band=\"%s\" fill=\"%s\" fill-opacity=\"0.16\" stroke=\"none\" pointer-events=\"none\" clip-path=\"url(#clip-%s)\" d=\"",
                  se->color % RP_N_COLORS, se->key, rp_palette[se->color % RP_N_COLORS], c->id);
        path_band(b, se, &ax, &ay);
        sb_puts(b, "\"/>");
    }
    for (int s = 0; s < c->n_s; s++) {
        const rp_series *se = &c->s[s];
        const char *col = rp_palette[se->color % RP_N_COLORS];
        int ci = se->color % RP_N_COLORS;
        sb_printf(b, "<path class=\"series%s c%d\" data-series=\"%s\" data-n=\"%d\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s%s "
                     "stroke-linejoin=\"round\" pointer-events=\"none\" clip-path=\"url(#clip-%s)\" d=\"",
                  se->ema ? " raw" : "", ci, se->key, se->n, col, se->ema ? "1" : "2", se->ema ? " stroke-opacity=\"0.3\"" : "",
                  se->dash ? " stroke-dasharray=\"6 4\"" : "", c->id);
        path_line(b, se, se->y, &ax, &ay, max_points, 1);
        sb_puts(b, "\"/>");
    }
    for (int s = 0; s < c->n_s; s++) {
        const rp_series *se = &c->s[s];
        if (!se->ema) continue;
        sb_printf(b, "<path class=\"ema c%d\" data-ema=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2.2\" stroke-linejoin=\"round\"%s "
                     "pointer-events=\"none\" clip-path=\"url(#clip-%s)\" d=\"",
                  se->color % RP_N_COLORS, se->key, rp_palette[se->color % RP_N_COLORS], se->dash ? " stroke-dasharray=\"6 4\"" : "", c->id);
        path_line(b, se, se->ema, &ax, &ay, max_points, 0);
        sb_puts(b, "\"/>");
    }
    for (int s = 0; s < c->n_s; s++) {
        const rp_series *se = &c->s[s];
        int finite = 0;
        for (int i = 0; i < se->n; i++) finite += isfinite(se->y[i]);
        if (!se->markers && finite > 2) continue;
        sb_printf(b, "<g class=\"mk c%d\" fill=\"%s\">", se->color % RP_N_COLORS, rp_palette[se->color % RP_N_COLORS]);
        for (int i = 0; i < se->n; i++) {
            if (!isfinite(se->y[i]) || !isfinite(se->x[i])) continue;
            double y = map_y(&ay, se->y[i]);
            if (y < PY0 - 1 || y > PY1 + 1) continue;
            sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.4\">", map_x(&ax, se->x[i]), y);
            marker_title(b, c, se, i);
            sb_puts(b, "</circle>");
        }
        sb_puts(b, "</g>");
    }
    sb_puts(b, "</svg>");
}
