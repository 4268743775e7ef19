/* test_report: rlvr report on a synthetic run with hostile inputs. Every chart listed
 * in report.json is in the HTML with each of its series as non-empty path data; text
 * is escaped and valid UTF-8; the page has no script and no URL; long text is cut;
 * resumed-run duplicates keep the later line; CSVs have the expected rows; bad inputs
 * fail with the file and line (or JSON path) named; the output is deterministic. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <unistd.h>
#include "check.h"
#include "core/fs.h"
#include "eval/report.h"
#include "eval/report_int.h"

static char dir[] = "/tmp/rlvr_report_XXXXXX";

static void write_file(const char *name, const char *text, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "open %s", path);
    if (!f) return;
    fwrite(text, 1, n, f);
    fclose(f);
}

static char *read_text(const char *path, size_t *n) {
    char *t = NULL;
    rlvr_err e = {0};
    CHECK(fs_read_all(path, (size_t)1 << 28, &t, n, &e) == 0, "read %s: %s", path, e.msg);
    return t;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

static int utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned b = u[i];
        size_t k = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 && b >= 0xC2 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 && b <= 0xF4 ? 4 : 0;
        if (!k || i + k > n) return 0;
        for (size_t j = 1; j < k; j++)
            if ((u[i + j] & 0xC0) != 0x80) return 0;
        i += k;
    }
    return 1;
}

/* ---- the synthetic run ---- */

#define STEPS 60
#define DUP_FROM 55 /* steps 55..60 are written twice (a resumed run); the second copy wins */
#define LONG_BYTES 100000

static void make_run(void) {
    static char buf[1 << 16];
    size_t n = 0;
    FILE *f;
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    f = fopen(path, "w");
    CHECK(f != NULL, "metrics.jsonl");
    if (!f) return;
    fprintf(f, "{\"run\":\"no step: ignored\"}\n\n");
    fprintf(f, "{\"step\":0,\"eval\":{\"acc_d1\":0.5,\"acc_d2\":0.2}}\n");
    for (int pass = 0; pass < 2; pass++)
        for (int s = pass ? DUP_FROM : 1; s <= STEPS; s++) {
            double r = 0.3 + 0.5 * s / STEPS + 0.05 * sin(s) + (pass ? 0.01 : 0);
            fprintf(f, "{\"step\":%d,\"reward_mean\":%.6g,\"reward_std\":0.4,\"acc\":%.6g,\"zero_std_frac\":%.3g,\"kept_groups\":8,"
                       "\"len_mean\":%.4g,\"len_min\":%d,\"len_max\":%d,\"trunc_frac\":0,\"loss\":%.5g,\"pg_loss\":%.5g,",
                    s, r, r, 0.5 - 0.004 * s, 20 + 5 * cos(s), 10, 30 + s % 7, 0.1 / s, -0.01 * cos(s));
            if (s == 20) fprintf(f, "\"kl\":nan,\"entropy\":-inf,");
            else if (s == 21) fprintf(f, "\"kl\":NaN,\"entropy\":Infinity,");
            else fprintf(f, "\"kl\":%.5g,\"entropy\":%.5g,", 0.001 * s, 1.5 - 0.01 * s);
            fprintf(f, "\"clip_frac_low\":%.4g,\"clip_frac_high\":%.4g,\"clip_frac_dual\":0,\"ratio_mean\":1,\"ratio_max\":%.4g,"
                       "\"grad_norm\":%.4g,\"lr\":1e-4,\"skipped\":0,\"sample_s\":1.5,\"train_s\":%.3g,\"sample_tok_s\":%.1f,"
                       "\"train_tok_s\":900,\"elapsed_s\":%.2f,\"phase\":\"string fields are ignored\",\"my_metric\":%d,"
                       "\"<script>alert(1)</script>\":%d}\n",
                    0.01 * (s % 3), 0.02 * (s % 4), 1 + 0.1 * (s % 5), 0.5 + 0.2 * sin(s), 2.0 + 0.01 * s, 1000.0 + s, 3.0 * s, s * s, s % 3);
            if (s % 10 == 0 && !pass) fprintf(f, "{\"step\":%d,\"eval\":{\"acc_d1\":%.4f,\"acc_d2\":%.4f}}\n", s, 0.5 + 0.005 * s, 0.2 + 0.003 * s);
        }
    fclose(f);

    /* eval files: before (no groups) and after (with examples carrying hostile text) */
    for (int m = 0; m < 2; m++) {
        n = 0;
        n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"model\":\"runs/%s/model\",\"n\":8,\"difficulties\":[", m ? "after" : "before");
        for (int d = 1; d <= 3; d++) {
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s{\"difficulty\":%d", d > 1 ? "," : "", d);
            const char *names[3] = {"pass", "maj", "cot_pass"};
            for (int mt = 0; mt < 3; mt++) {
                n += (size_t)snprintf(buf + n, sizeof buf - n, ",\"%s\":[", names[mt]);
                for (int k = 1, j = 0; k <= 8; k *= 2, j++) {
                    double v = (0.9 - 0.25 * d + 0.05 * j + 0.1 * m) * (mt == 2 ? 0.8 : 1);
                    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s{\"k\":%d,\"mean\":%.4f,\"ci_lo\":%.4f,\"ci_hi\":%.4f}", j ? "," : "", k, v,
                                          v - 0.08, v + 0.08);
                }
                n += (size_t)snprintf(buf + n, sizeof buf - n, "]");
            }
            n += (size_t)snprintf(buf + n, sizeof buf - n, "}");
        }
        n += (size_t)snprintf(buf + n, sizeof buf - n, "]%s}\n",
                              m ? ",\"examples\":[{\"prompt\":\"eval <b>bold</b> & \\\"quoted\\\"\",\"completion\":\"#4\",\"correct\":true}]" : "");
        write_file(m ? "after.json" : "before.json", buf, n);
    }

    /* samples.jsonl: hostile strings, invalid UTF-8, a very long completion, missing fields */
    snprintf(path, sizeof path, "%s/samples.jsonl", dir);
    f = fopen(path, "w");
    CHECK(f != NULL, "samples.jsonl");
    if (!f) return;
    for (int i = 0; i < 30; i++)
        fprintf(f, "{\"step\":%d,\"prompt\":\"What is %d+%d?\",\"completion\":\"ordinary %d\",\"reward\":%d,\"correct\":%d}\n", i, i, i, 2 * i, i % 2, i % 2);
    fprintf(f, "{\"step\":40,\"prompt\":\"<script>alert('x')</script>\",\"completion\":\"</td></tr></table><img src=x onerror=alert(1)>\",\"reward\":0,\"correct\":false}\n");
    fprintf(f, "{\"step\":41,\"prompt\":\"bad bytes \xff\xfe\xc3 end\",\"completion\":\"banana nan inf -nan, \\\"quoted\\\" \\u0001 ctl\",\"correct\":true}\n");
    fprintf(f, "{\"step\":42,\"completion\":\"");
    for (int i = 0; i < LONG_BYTES; i++) fputc('a' + i % 26, f);
    fprintf(f, "\",\"reward\":1}\n");
    fprintf(f, "{\"step\":43,\"note\":\"no prompt, no completion: skipped\"}\n");
    fclose(f);
    const char *cfg = "seed = 1\n\n[eval]\nn = 50\n";
    write_file("config.toml", cfg, strlen(cfg));
}

static report_params params(const char **evals, const char **labels, int n_ev, const char *out) {
    report_params p = report_default_params();
    p.run_dir = dir;
    p.eval_paths = evals, p.eval_labels = labels, p.n_evals = n_ev;
    p.out_html = out;
    p.title = "Test <report> & \"friends\"";
    p.max_examples = 12;
    return p;
}

/* The <svg id="ID"> element's text, or NULL. */
static const char *svg_of(const char *html, const char *id, size_t *len) {
    char pat[160];
    snprintf(pat, sizeof pat, "<svg id=\"%s\"", id);
    const char *a = strstr(html, pat);
    if (!a) return NULL;
    const char *z = strstr(a, "</svg>");
    if (!z) return NULL;
    *len = (size_t)(z - a);
    return a;
}

/* The series path's d attribute length in [a, a+len), -1 when absent; *n gets data-n. */
static long series_d(const char *a, size_t len, const char *key, int *n) {
    char pat[160];
    snprintf(pat, sizeof pat, "data-series=\"%s\"", key);
    const char *s = memmem(a, len, pat, strlen(pat));
    if (!s) return -1;
    const char *end = memchr(s, '>', len - (size_t)(s - a));
    const char *dn = strstr(s, "data-n=\"");
    *n = dn && dn < end ? atoi(dn + 8) : -1;
    const char *d = strstr(s, " d=\"");
    if (!d || d > end) return -1;
    const char *q = strchr(d + 4, '"');
    if (d[4] != 'M') return 0;
    return q ? q - (d + 4) : -1;
}

static void test_full_report(void) {
    char before[512], after[512], out[512];
    snprintf(before, sizeof before, "%s/before.json", dir);
    snprintf(after, sizeof after, "%s/after.json", dir);
    snprintf(out, sizeof out, "%s/out/rep.html", dir);
    const char *evals[2] = {before, after}, *labels[2] = {"before", "after <i>"};
    report_params p = params(evals, labels, 2, out);
    report_summary s;
    rlvr_err e = {0};
    CHECK(report_write(&p, &s, &e) == 0, "report_write: %s", e.msg);
    CHECK(!strcmp(s.html_path, out), "html path %s", s.html_path);
    size_t hn = 0, jn = 0;
    char *html = read_text(out, &hn);
    char jpath[600];
    snprintf(jpath, sizeof jpath, "%s/out/rep.json", dir);
    char *js = read_text(jpath, &jn);
    if (!html || !js) { free(html), free(js); return; }
    cJSON *j = cJSON_Parse(js);
    CHECK(j != NULL, "rep.json parses");
    const cJSON *charts = cJSON_GetObjectItem(j, "charts");
    CHECK(cJSON_GetArraySize(charts) == s.n_charts && s.n_charts >= 15, "%d charts (summary says %d)", cJSON_GetArraySize(charts), s.n_charts);
    /* every chart and every series claimed is drawn */
    int n_series = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, charts) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(c, "id"));
        size_t len = 0;
        const char *svg = id ? svg_of(html, id, &len) : NULL;
        CHECK(svg != NULL, "chart %s is in the HTML", id ? id : "(no id)");
        if (!svg) continue;
        const cJSON *se;
        int k = 0;
        cJSON_ArrayForEach(se, cJSON_GetObjectItem(c, "series")) {
            const char *key = cJSON_GetStringValue(cJSON_GetObjectItem(se, "key"));
            int want = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(se, "n")), got = -2;
            long dl = key ? series_d(svg, len, key, &got) : -1;
            CHECK(dl > 0, "chart %s series %s has path data (%ld)", id, key ? key : "?", dl);
            CHECK(got == want && want > 0, "chart %s series %s: data-n %d, json n %d", id, key ? key : "?", got, want);
            CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(se, "x")) == want && cJSON_GetArraySize(cJSON_GetObjectItem(se, "y")) == want,
                  "chart %s series %s: x and y hold n numbers", id, key ? key : "?");
            k++, n_series++;
        }
        CHECK(k > 0, "chart %s has series", id);
    }
    CHECK(n_series == s.n_series, "%d series vs summary %d", n_series, s.n_series);
    /* the curves the issue asks for */
    const char *want[] = {"chart-reward", "chart-accuracy", "chart-kl", "chart-entropy", "chart-length", "chart-clip", "chart-per-difficulty",
                          "chart-passk-d1", "chart-passk-d2", "chart-passk-d3", "chart-field-my_metric", "chart-loss", "chart-lr"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        int found = 0;
        cJSON_ArrayForEach(c, charts) found |= !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "id")), want[i]);
        CHECK(found, "report.json lists %s", want[i]);
    }
    CHECK(strstr(html, "data-ema=\"reward_mean\"") != NULL, "the reward curve has an EMA overlay");
    CHECK(strstr(html, "data-band=\"m1-pass\"") != NULL, "pass@k has its interval band");
    CHECK(strstr(html, "data-ci=\"m0\"") != NULL, "bars have CI whiskers");
    /* hostile text is escaped, the page is valid UTF-8, has no script and no URL */
    CHECK(!strstr(html, "<script") && !strstr(html, "<SCRIPT"), "no <script> in the page");
    CHECK(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") != NULL, "sample prompt escaped");
    CHECK(strstr(html, "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;img src=x onerror=alert(1)&gt;") != NULL, "sample completion escaped");
    CHECK(!strstr(html, "<img"), "no element injected");
    CHECK(strstr(html, "Test &lt;report&gt; &amp; &quot;friends&quot;") != NULL, "title escaped");
    CHECK(strstr(html, "after &lt;i&gt;") != NULL, "label escaped");
    CHECK(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL, "hostile field name escaped (its own chart)");
    CHECK(strstr(html, "eval &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;") != NULL, "eval-file example escaped");
    CHECK(utf8_valid(html, hn), "HTML is valid UTF-8");
    CHECK(utf8_valid(js, jn), "JSON is valid UTF-8");
    CHECK(strstr(html, "bad bytes \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end") != NULL, "invalid bytes shown as U+FFFD");
    CHECK(strstr(html, "banana nan inf -nan, &quot;quoted&quot;") != NULL, "nan inside strings is text, not a number");
    CHECK(!strstr(html, "http://") && !strstr(html, "https://") && !strstr(html, "//cdn"), "no URL in the page");
    const char *u = html;
    while ((u = strstr(u, "url(")) != NULL) {
        CHECK(u[4] == '#', "url() only refers inside the page: %.20s", u);
        u += 4;
    }
    /* long text is cut, the page stays small */
    CHECK(strstr(html, "bytes]") != NULL && hn < (size_t)2 << 20, "long completion cut (page %zu bytes)", hn);
    char run[402];
    for (int i = 0; i < 401; i++) run[i] = (char)('a' + i % 26);
    run[401] = 0;
    CHECK(!strstr(html, run), "no 401 bytes of the long completion (max_text 400)");
    run[390] = 0;
    CHECK(strstr(html, run) != NULL, "its first 390 bytes are shown");
    CHECK(s.n_examples == 12 + 1, "12 samples (the last ones) + 1 eval example, got %d", s.n_examples);
    CHECK(strstr(html, "What is 29+29?") && !strstr(html, "What is 16+16?"), "the last samples are kept");
    /* the headline compares first and last model with an interval on the change */
    const cJSON *hl = cJSON_GetObjectItem(j, "headline");
    CHECK(hl && cJSON_GetArraySize(cJSON_GetObjectItem(hl, "rows")) == 6, "headline: pass@1 and pass@8 for 3 difficulties");
    const cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(hl, "rows"), 0);
    CHECK_CLOSE(cJSON_GetNumberValue(cJSON_GetObjectItem(r0, "change")), 0.1, 1e-9, 0, "change of pass@1 at difficulty 1");
    CHECK_CLOSE(cJSON_GetNumberValue(cJSON_GetObjectItem(r0, "change_ci_lo")), 0.1 - sqrt(2) * 0.08, 1e-9, 0, "its interval");
    CHECK(strstr(html, "id=\"headline\"") != NULL, "headline table in the page");
    /* resumed duplicates: the later line wins; NaN/inf are gaps */
    cJSON_ArrayForEach(c, charts) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(c, "id"));
        const cJSON *se = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "series"), 0);
        const cJSON *xs = cJSON_GetObjectItem(se, "x"), *ys = cJSON_GetObjectItem(se, "y");
        if (!strcmp(id, "chart-reward")) {
            CHECK(cJSON_GetArraySize(xs) == STEPS, "one point per step after dedupe: %d", cJSON_GetArraySize(xs));
            double r = 0.3 + 0.5 * 57 / STEPS + 0.05 * sin(57) + 0.01;
            CHECK_CLOSE(cJSON_GetNumberValue(cJSON_GetArrayItem(ys, 56)), r, 1e-5, 0, "step 57 from the resumed copy");
            CHECK(cJSON_GetNumberValue(cJSON_GetArrayItem(xs, 59)) == STEPS, "sorted by step");
        }
        if (!strcmp(id, "chart-kl")) {
            CHECK(cJSON_IsNull(cJSON_GetArrayItem(ys, 19)) && cJSON_IsNull(cJSON_GetArrayItem(ys, 20)), "nan/NaN -> null gaps");
            CHECK(cJSON_GetNumberValue(cJSON_GetArrayItem(ys, 21)) > 0, "after the gap");
        }
        if (!strcmp(id, "chart-accuracy")) CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(c, "series")) == 3, "acc_d1, acc_d2 and the batch accuracy");
    }
    const cJSON *notes = cJSON_GetObjectItem(j, "notes");
    int saw_step = 0, saw_dup = 0, saw_nan = 0;
    cJSON_ArrayForEach(c, notes) {
        const char *t = cJSON_GetStringValue(c);
        saw_step |= strstr(t, "without a numeric \"step\"") != NULL;
        saw_dup |= strstr(t, "6 line(s) repeat") != NULL;
        saw_nan |= strstr(t, "\"kl\"") != NULL;
    }
    CHECK(saw_step && saw_dup && saw_nan, "notes: no-step line %d, duplicates %d, NaN field %d", saw_step, saw_dup, saw_nan);
    /* CSVs */
    char cpath[600];
    size_t cn;
    snprintf(cpath, sizeof cpath, "%s/out/rep.metrics.csv", dir);
    char *csv = read_text(cpath, &cn);
    CHECK(csv && !strncmp(csv, "step,eval.acc_d1,eval.acc_d2,reward_mean,", 41), "metrics.csv header (fields in order of appearance): %.60s",
          csv ? csv : "");
    CHECK(count_lines(csv) == 1 + STEPS + 1 + STEPS / 10, "metrics.csv: header + %d training + %d eval rows, got %d lines", STEPS, 1 + STEPS / 10,
          count_lines(csv));
    CHECK(csv && strstr(csv, "\"<script>alert(1)</script>\"") == NULL && strstr(csv, "<script>alert(1)</script>") != NULL, "field name kept verbatim");
    CHECK(csv && strstr(csv, ",nan,") != NULL, "non-finite values written as nan");
    free(csv);
    snprintf(cpath, sizeof cpath, "%s/out/rep.passk.csv", dir);
    csv = read_text(cpath, &cn);
    CHECK(csv && count_lines(csv) == 1 + 2 * 3 * 3 * 4, "passk.csv: 2 models x 3 difficulties x 3 metrics x 4 k, got %d", count_lines(csv));
    CHECK(csv && strstr(csv, "\nbefore,,1,pass,1,0.65,0.57,0.73\n") != NULL, "passk.csv row");
    free(csv);
    snprintf(cpath, sizeof cpath, "%s/out/rep.per-difficulty.csv", dir);
    csv = read_text(cpath, &cn);
    CHECK(csv && count_lines(csv) == 1 + 2 * 3, "per-difficulty.csv: 2 models x 3 difficulties, got %d", count_lines(csv));
    free(csv);
    /* deterministic: the same inputs give the same bytes */
    report_summary s2;
    CHECK(report_write(&p, &s2, &e) == 0, "again: %s", e.msg);
    size_t hn2 = 0;
    char *html2 = read_text(out, &hn2);
    CHECK(html2 && hn2 == hn && !memcmp(html, html2, hn), "same bytes twice");
    free(html2);
    cJSON_Delete(j);
    free(html), free(js);
}

/* A run with only metrics (rlvr sft), and a report of eval files only. */
static void test_partial_inputs(void) {
    char sub[512], path[600];
    snprintf(sub, sizeof sub, "%s/sft", dir);
    rlvr_err e = {0};
    CHECK(fs_mkdir_p(sub, &e) == 0, "mkdir");
    snprintf(path, sizeof path, "%s/metrics.jsonl", sub);
    FILE *f = fopen(path, "w");
    if (!f) return;
    for (int s = 1; s <= 40; s++) fprintf(f, "{\"step\":%d,\"loss\":%.4f,\"grad_norm\":1,\"lr\":%.4g,\"tokens\":600}\n", s, 5.0 / s, 1e-3 * s);
    fprintf(f, "{\"step\":40,\"eval\":{\"acc_d1\":0.9},\"n\":200}\n");
    fclose(f);
    report_params p = report_default_params();
    p.run_dir = sub;
    report_summary s;
    CHECK(report_write(&p, &s, &e) == 0, "sft-only: %s", e.msg);
    snprintf(path, sizeof path, "%s/report.html", sub);
    size_t n;
    char *html = read_text(path, &n);
    CHECK(html && strstr(html, "<svg id=\"chart-loss\"") && strstr(html, "<svg id=\"chart-lr\"") && !strstr(html, "chart-per-difficulty"),
          "loss and lr charts, no eval charts");
    CHECK(html && strstr(html, "tokens = 600") != NULL, "a constant field is listed, not drawn");
    free(html);

    char empty[512], ev[600];
    snprintf(empty, sizeof empty, "%s/empty", dir);
    CHECK(fs_mkdir_p(empty, &e) == 0, "mkdir");
    snprintf(ev, sizeof ev, "%s/before.json", dir);
    const char *evals[1] = {ev};
    p = report_default_params();
    p.run_dir = empty, p.eval_paths = evals, p.n_evals = 1;
    CHECK(report_write(&p, &s, &e) == 0, "evals only: %s", e.msg);
    CHECK(s.n_charts == 4, "bars + 3 pass@k charts, got %d", s.n_charts);
    /* rows with a "group" (task): one pass@k chart per (group, difficulty) */
    char gpath[600];
    snprintf(gpath, sizeof gpath, "%s/groups.json", dir);
    const char *g = "{\"difficulties\":[{\"group\":\"countdown\",\"difficulty\":3,\"pass\":[{\"k\":1,\"mean\":0.2},{\"k\":4,\"mean\":0.5}]},"
                    "{\"group\":\"arith\",\"difficulty\":3,\"pass\":[{\"k\":1,\"mean\":0.6},{\"k\":4,\"mean\":0.9}]}]}";
    f = fopen(gpath, "w");
    if (f) fputs(g, f), fclose(f);
    evals[0] = gpath;
    CHECK(report_write(&p, &s, &e) == 0, "groups: %s", e.msg);
    snprintf(path, sizeof path, "%s/report.html", empty);
    html = read_text(path, &n);
    CHECK(html && strstr(html, "<svg id=\"chart-passk-arith-d3\"") && strstr(html, "<svg id=\"chart-passk-countdown-d3\"") &&
              strstr(html, ">arith 3</text>"),
          "a chart per group, bars labelled by group");
    free(html);
    p.n_evals = 0;
    CHECK(report_write(&p, &s, &e) == RLVR_EIO && strstr(e.msg, "nothing to report"), "nothing: %s", e.msg);
    p.run_dir = "/nonexistent/rlvr/run";
    CHECK(report_write(&p, &s, &e) == RLVR_EIO && strstr(e.msg, "no such run directory"), "missing dir: %s", e.msg);
}

/* Bad inputs fail and name the file and the line or the JSON path. */
static void test_errors(void) {
    char bad[512], path[600], ev[600];
    snprintf(bad, sizeof bad, "%s/bad", dir);
    rlvr_err e = {0};
    CHECK(fs_mkdir_p(bad, &e) == 0, "mkdir");
    snprintf(path, sizeof path, "%s/metrics.jsonl", bad);
    const char *m = "{\"step\":1,\"loss\":1}\n{\"step\":2,\"loss\":0.5}\n{\"step\":3,\"loss\":\n";
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(m, f);
    fclose(f);
    report_params p = report_default_params();
    p.run_dir = bad;
    report_summary s;
    char want[700];
    snprintf(want, sizeof want, "%s:3:", path);
    CHECK(report_write(&p, &s, &e) == RLVR_EFORMAT && strstr(e.msg, want), "bad JSON line: %s", e.msg);
    f = fopen(path, "w");
    fputs("{\"step\":1}\n[1,2]\n", f);
    fclose(f);
    snprintf(want, sizeof want, "%s:2: not a JSON object", path);
    CHECK(report_write(&p, &s, &e) == RLVR_EFORMAT && strstr(e.msg, want), "array line: %s", e.msg);
    f = fopen(path, "w");
    fputs("{\"step\":1,\"loss\":1}\n{\"step\":2,\"loss\":2}\n", f);
    fwrite("{\"step\":3,\"x\":\"a\0b\"}\n", 1, 22, f);
    fclose(f);
    snprintf(want, sizeof want, "%s:3: NUL byte", path);
    CHECK(report_write(&p, &s, &e) == RLVR_EFORMAT && strstr(e.msg, want), "NUL byte: %s", e.msg);
    f = fopen(path, "w");
    fputs("{\"step\":1,\"loss\":1}\n{\"step\":2,\"s\":\"", f);
    for (size_t i = 0; i < REPORT_MAX_LINE_BYTES + 10; i += 64) fputs("0123456789012345678901234567890123456789012345678901234567890123", f);
    fputs("\"}\n", f);
    fclose(f);
    snprintf(want, sizeof want, "%s:2: line longer than", path);
    CHECK(report_write(&p, &s, &e) == RLVR_EFORMAT && strstr(e.msg, want), "long line: %s", e.msg);
    f = fopen(path, "w");
    fputs("{\"step\":1,\"loss\":1}\n", f);
    fclose(f);
    /* samples.jsonl */
    snprintf(path, sizeof path, "%s/samples.jsonl", bad);
    f = fopen(path, "w");
    fputs("{\"prompt\":\"a\",\"completion\":\"b\"}\n{\"prompt\":'single quotes'}\n", f);
    fclose(f);
    snprintf(want, sizeof want, "%s:2:", path);
    CHECK(report_write(&p, &s, &e) == RLVR_EFORMAT && strstr(e.msg, want), "bad samples line: %s", e.msg);
    remove(path);
    /* eval files */
    static const struct { const char *text, *msg; } cases[] = {
        {"{\"model\":\"m\"}", "no \"difficulties\" array"},
        {"[1]", "not a JSON object"},
        {"{\"difficulties\":[{\"difficulty\":1,\"pass\":[{\"mean\":0.5}]}]}", "difficulties[0].pass[0]: needs a number \"k\""},
        {"{\"difficulties\":[{\"difficulty\":1},{\"pass\":[]}]}", "difficulties[1]: needs a number \"difficulty\""},
        {"{\"difficulties\":[{\"difficulty\":1,\"maj\":{\"k\":1}}]}", "difficulties[0].maj: not an array"},
        {"{\"difficulties\":[{\"difficulty\":1,\"pass\":[{\"k\":1,\"mean\":\"x\"}]}]}", "difficulties[0].pass[0]: needs a number \"mean\""},
        {"{\"difficulties\":[", "not valid JSON"},
    };
    snprintf(ev, sizeof ev, "%s/ev.json", bad);
    const char *evals[1] = {ev};
    p.eval_paths = evals, p.n_evals = 1;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        f = fopen(ev, "w");
        fputs(cases[i].text, f);
        fclose(f);
        int rc = report_write(&p, &s, &e);
        CHECK(rc == RLVR_EFORMAT && strstr(e.msg, ev) && strstr(e.msg, cases[i].msg), "eval case %zu: rc %d, %s", i, rc, e.msg);
    }
    /* a null mean and missing intervals are gaps, not errors */
    f = fopen(ev, "w");
    fputs("{\"difficulties\":[{\"difficulty\":1,\"pass\":[{\"k\":1,\"mean\":null},{\"k\":2,\"mean\":0.5}]}]}", f);
    fclose(f);
    CHECK(report_write(&p, &s, &e) == 0, "null mean: %s", e.msg);
    p.n_evals = REPORT_MAX_EVALS + 1;
    CHECK(report_write(&p, &s, &e) == RLVR_EARG, "too many evals: %s", e.msg);
    /* the report must not overwrite an input */
    char clash[600];
    snprintf(clash, sizeof clash, "%s/ev.html", bad);
    p.n_evals = 1, p.out_html = clash;
    CHECK(report_write(&p, &s, &e) == RLVR_EARG && strstr(e.msg, "overwritten"), "clash: %s", e.msg);
}

/* The text helpers every string of the page goes through. */
static void test_text(void) {
    sbuf b = {0};
    const char hostile[] = "<a href='x'>&\"\x01\xff\xc3(\xe2\x82\xac ok\n";
    sb_html(&b, hostile, sizeof hostile - 1);
    CHECK(b.p && !strcmp(b.p, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD(\xe2\x82\xac ok\n"), "escaped: %s", b.p);
    free(b.p);
    const char *euro = "ab\xe2\x82\xac";
    CHECK(rp_cut(euro, 5, 3) == 2 && rp_cut(euro, 5, 4) == 2 && rp_cut(euro, 5, 5) == 5 && rp_cut(euro, 5, 2) == 2, "cut at a character boundary");
    char *c = rp_utf8_clean("a\xff\x02z", 4);
    CHECK(c && !strcmp(c, "a\xEF\xBF\xBDz"), "clean: %s", c);
    free(c);
}

int main(void) {
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    make_run();
    RUN(test_text);
    RUN(test_full_report);
    RUN(test_partial_inputs);
    RUN(test_errors);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (getenv("RLVR_TEST_KEEP")) printf("kept %s\n", dir); /* to look at the pages */
    else if (!check_fails && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_finish("test_report");
}
