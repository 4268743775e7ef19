/* test_tblog.c: the TensorBoard event writer. CRC-32C against the standard vectors;
 * the events of tests/data/tensorboard/cases.json written with tblog must equal
 * scalars.tfevents (made by tensorboard's own writer, tests/ref/make_tb_golden.py) byte
 * for byte; an independent decoder here (its own table CRC, a generic protobuf walker)
 * re-reads both files and checks every field; file naming, misuse and write errors.
 * With RLVR_TBLOG_OUT=DIR set, the written files are left in DIR for
 * make_tb_golden.py to read back with tensorboard. */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "check.h"
#include "core/fs.h"
#include "train/tblog.h"

#define DATA "tests/data/tensorboard/"

static char dir[4096];   /* where this run writes (a temp dir, or $RLVR_TBLOG_OUT) */
static int keep;         /* 1: leave the files (RLVR_TBLOG_OUT) */

/* ---- an independent decoder ---------------------------------------------------------- */

static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc_ref(const unsigned char *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t mask_ref(uint32_t c) { return ((c >> 15) | (c << 17)) + 0xa282ead8u; }

static uint64_t rd_le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

#define MAX_VALUES 32
typedef struct {
    int has_wall, has_step, has_version, has_summary;
    double wall;
    long long step;
    char version[64], writer[64];
    int n_values;
    char tags[MAX_VALUES][TBLOG_TAG_MAX + 1];
    float values[MAX_VALUES];
} event;

/* Reads a varint at p[*at..n); -1 when malformed. */
static int rd_varint(const unsigned char *p, size_t n, size_t *at, uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*at >= n) return -1;
        unsigned char b = p[(*at)++];
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) return 0;
    }
    return -1;
}

/* Walks one message: calls back with (field, wire type, varint/fixed value, payload). */
typedef int (*field_fn)(void *ctx, int field, int wt, uint64_t v, const unsigned char *s, size_t len);

static int walk(const unsigned char *p, size_t n, field_fn fn, void *ctx) {
    size_t at = 0;
    while (at < n) {
        uint64_t key, v = 0;
        if (rd_varint(p, n, &at, &key)) return -1;
        int wt = (int)(key & 7), field = (int)(key >> 3);
        const unsigned char *s = NULL;
        size_t len = 0;
        if (wt == 0) { if (rd_varint(p, n, &at, &v)) return -1; }
        else if (wt == 1) { if (n - at < 8) return -1; v = rd_le(p + at, 8); at += 8; }
        else if (wt == 5) { if (n - at < 4) return -1; v = rd_le(p + at, 4); at += 4; }
        else if (wt == 2) {
            if (rd_varint(p, n, &at, &v) || v > n - at) return -1;
            s = p + at; len = (size_t)v; at += len;
        } else return -1;
        if (fn(ctx, field, wt, v, s, len)) return -1;
    }
    return 0;
}

typedef struct { event *e; char tag[TBLOG_TAG_MAX + 1]; int has_tag, has_value; float value; } value_ctx;

static int on_value(void *c, int field, int wt, uint64_t v, const unsigned char *s, size_t len) {
    value_ctx *x = c;
    if (field == 1 && wt == 2 && len <= TBLOG_TAG_MAX) { memcpy(x->tag, s, len); x->tag[len] = 0; x->has_tag = 1; return 0; }
    if (field == 2 && wt == 5) { uint32_t u = (uint32_t)v; memcpy(&x->value, &u, 4); x->has_value = 1; return 0; }
    return -1; /* tblog writes nothing else in a Value */
}

static int on_summary(void *c, int field, int wt, uint64_t v, const unsigned char *s, size_t len) {
    event *e = c;
    if (field != 1 || wt != 2 || e->n_values >= MAX_VALUES) return -1;
    value_ctx x = { e, "", 0, 0, 0 };
    if (walk(s, len, on_value, &x) || !x.has_tag || !x.has_value) return -1;
    strcpy(e->tags[e->n_values], x.tag);
    e->values[e->n_values++] = x.value;
    return 0;
}

static int on_source(void *c, int field, int wt, uint64_t v, const unsigned char *s, size_t len) {
    event *e = c;
    if (field != 1 || wt != 2 || len >= sizeof e->writer) return -1;
    memcpy(e->writer, s, len);
    e->writer[len] = 0;
    return 0;
}

static int on_event(void *c, int field, int wt, uint64_t v, const unsigned char *s, size_t len) {
    event *e = c;
    if (field == 1 && wt == 1) { memcpy(&e->wall, &v, 8); e->has_wall = 1; return 0; }
    if (field == 2 && wt == 0) { e->step = (long long)v; e->has_step = 1; return 0; }
    if (field == 3 && wt == 2 && len < sizeof e->version) { memcpy(e->version, s, len); e->version[len] = 0; e->has_version = 1; return 0; }
    if (field == 5 && wt == 2) { e->has_summary = 1; return walk(s, len, on_summary, e); }
    if (field == 10 && wt == 2) return walk(s, len, on_source, e);
    return -1;
}

/* Splits a TFRecord file into events, checking both masked CRCs of every record.
 * Returns the event count, or -1 (and says where) on any defect. */
static int decode_file(const unsigned char *p, size_t n, event *ev, int cap, const char *what) {
    size_t at = 0;
    int k = 0;
    while (at < n) {
        if (n - at < 12 || k >= cap) { fprintf(stderr, "  %s: truncated header at %zu\n", what, at); return -1; }
        uint64_t len = rd_le(p + at, 8);
        if ((uint32_t)rd_le(p + at + 8, 4) != mask_ref(crc_ref(p + at, 8))) {
            fprintf(stderr, "  %s: length CRC wrong at %zu\n", what, at);
            return -1;
        }
        if (len > n - at - 12 || n - at - 12 - len < 4) { fprintf(stderr, "  %s: record at %zu overruns\n", what, at); return -1; }
        const unsigned char *d = p + at + 12;
        if ((uint32_t)rd_le(d + len, 4) != mask_ref(crc_ref(d, (size_t)len))) {
            fprintf(stderr, "  %s: data CRC wrong at %zu\n", what, at);
            return -1;
        }
        memset(&ev[k], 0, sizeof ev[k]);
        if (walk(d, (size_t)len, on_event, &ev[k])) { fprintf(stderr, "  %s: bad event %d\n", what, k); return -1; }
        k++;
        at += 12 + (size_t)len + 4;
    }
    return k;
}

static unsigned char *read_file(const char *path, size_t *n) {
    char *s = NULL;
    rlvr_err e = {0};
    CHECK(fs_read_all(path, 1 << 24, &s, n, &e) == RLVR_OK, "%s", e.msg);
    return (unsigned char *)s;
}

/* ---- the cases of cases.json ------------------------------------------------------------ */

typedef struct { long long step; double wall; int n; const char *tags[MAX_VALUES]; double values[MAX_VALUES]; } tcase;

static double json_value(const cJSON *v) {
    if (cJSON_IsNumber(v)) return v->valuedouble;
    const char *s = cJSON_GetStringValue(v);
    if (s && !strcmp(s, "nan")) return NAN;
    if (s && !strcmp(s, "inf")) return INFINITY;
    if (s && !strcmp(s, "-inf")) return -INFINITY;
    CHECK(0, "bad value in cases.json");
    return 0;
}

/* Parses cases.json into cs (tags point into root); returns the count. */
static int load_cases(cJSON *root, tcase *cs, int cap, double *start) {
    *start = cJSON_GetObjectItem(root, "start_time")->valuedouble;
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "events")) {
        if (k >= cap) break;
        tcase *c = &cs[k++];
        c->step = (long long)cJSON_GetObjectItem(e, "step")->valuedouble;
        c->wall = cJSON_GetObjectItem(e, "wall_time")->valuedouble;
        c->n = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItem(e, "values")) {
            if (c->n >= MAX_VALUES) break;
            c->tags[c->n] = cJSON_GetStringValue(cJSON_GetArrayItem(v, 0));
            c->values[c->n++] = json_value(cJSON_GetArrayItem(v, 1));
        }
    }
    return k;
}

static int same_float(float got, double want) {
    float w = (float)want;
    if (isnan(w)) return isnan(got);
    return memcmp(&got, &w, 4) == 0; /* bit-exact: -0.0 and denormals included */
}

/* The decoded events of a file written from cases: first the version event, then one
 * per case, every field equal. */
static void check_decoded(const event *ev, int n, const tcase *cs, int nc, double start, const char *what) {
    CHECK(n == nc + 1, "%s: %d events, want %d", what, n, nc + 1);
    if (n < 1) return;
    CHECK(ev[0].has_version && !strcmp(ev[0].version, "brain.Event:2"), "%s: file_version '%s'", what, ev[0].version);
    CHECK(!strcmp(ev[0].writer, "rlvr"), "%s: writer '%s'", what, ev[0].writer);
    CHECK(ev[0].has_wall && ev[0].wall == start && !ev[0].has_step && !ev[0].has_summary, "%s: first event", what);
    for (int i = 0; i < nc && i + 1 < n; i++) {
        const event *e = &ev[i + 1];
        const tcase *c = &cs[i];
        CHECK(e->step == c->step && e->has_step == (c->step != 0), "%s: event %d step %lld want %lld", what, i, e->step, c->step);
        CHECK(e->has_wall && e->wall == c->wall, "%s: event %d wall %.17g want %.17g", what, i, e->wall, c->wall);
        CHECK(e->has_summary && !e->has_version && e->n_values == c->n, "%s: event %d has %d values, want %d", what, i, e->n_values, c->n);
        for (int j = 0; j < c->n && j < e->n_values; j++) {
            CHECK(!strcmp(e->tags[j], c->tags[j]), "%s: event %d tag '%s' want '%s'", what, i, e->tags[j], c->tags[j]);
            CHECK(same_float(e->values[j], c->values[j]), "%s: event %d %s = %.9g want %.9g", what, i, c->tags[j], e->values[j], c->values[j]);
        }
    }
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_crc32c(void) {
    unsigned char z[32], ff[32], inc[32];
    memset(z, 0, 32);
    memset(ff, 0xFF, 32);
    for (int i = 0; i < 32; i++) inc[i] = (unsigned char)i;
    CHECK(tblog_crc32c("123456789", 9) == 0xE3069283u, "check value: %08x", tblog_crc32c("123456789", 9));
    CHECK(tblog_crc32c(z, 32) == 0x8A9136AAu, "32 zeros: %08x", tblog_crc32c(z, 32));
    CHECK(tblog_crc32c(ff, 32) == 0x62A8AB43u, "32 0xFF: %08x", tblog_crc32c(ff, 32)); /* RFC 3720 B.4 */
    CHECK(tblog_crc32c(inc, 32) == 0x46DD794Eu, "0..31: %08x", tblog_crc32c(inc, 32));
    CHECK(tblog_crc32c("", 0) == 0, "empty");
    /* the masked form: rotate right by 15, add the constant (mod 2^32) */
    CHECK(tblog_masked_crc32c("123456789", 9) == (uint32_t)(((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xa282ead8u),
          "mask: %08x", tblog_masked_crc32c("123456789", 9));
    /* the test's own table CRC agrees on odd lengths */
    unsigned char buf[1000];
    for (int i = 0; i < 1000; i++) buf[i] = (unsigned char)(i * 131 + 7);
    int bad = 0;
    for (size_t n = 0; n <= 1000; n += 37) bad += tblog_crc32c(buf, n) != crc_ref(buf, n);
    CHECK(bad == 0, "%d lengths disagree with the table CRC", bad);
}

/* Writes cases.json with tblog into path; returns 0 on success. */
static int write_cases(const char *path, const tcase *cs, int nc, double start) {
    rlvr_err e = {0};
    tblog *t = tblog_open_file(path, start, &e);
    CHECK(t != NULL, "%s", e.msg);
    if (!t) return -1;
    int rc = 0;
    for (int i = 0; i < nc && !rc; i++) {
        if (cs[i].n == 1) { /* one-scalar events through the shortcut, the rest through begin/add/end */
            rc = tblog_scalar(t, cs[i].tags[0], cs[i].step, cs[i].values[0], cs[i].wall, &e);
            continue;
        }
        rc = tblog_begin(t, cs[i].step, cs[i].wall, &e);
        for (int j = 0; j < cs[i].n && !rc; j++) rc = tblog_add(t, cs[i].tags[j], cs[i].values[j], &e);
        if (!rc) rc = tblog_end(t, &e);
    }
    CHECK(rc == 0, "writing cases: %s", e.msg);
    CHECK(tblog_close(t, &e) == RLVR_OK, "close: %s", e.msg);
    return rc;
}

static void test_golden(void) {
    size_t nj = 0, ng = 0, nw = 0;
    char *js = (char *)read_file(DATA "cases.json", &nj);
    unsigned char *golden = read_file(DATA "scalars.tfevents", &ng);
    cJSON *root = js ? cJSON_Parse(js) : NULL;
    CHECK(root && golden, "golden files missing: run tests/ref/make_tb_golden.py");
    if (!root || !golden) { free(js); free(golden); cJSON_Delete(root); return; }
    static tcase cs[64];
    double start;
    int nc = load_cases(root, cs, 64, &start);
    CHECK(nc >= 8, "cases.json has %d events", nc);

    static event ev[80];
    int n = decode_file(golden, ng, ev, 80, "golden");
    check_decoded(ev, n, cs, nc, start, "golden (decoder vs tensorboard's writer)");

    char path[4200];
    snprintf(path, sizeof path, "%s/cases.tfevents", dir);
    if (write_cases(path, cs, nc, start) == 0) {
        unsigned char *ours = read_file(path, &nw);
        if (ours) {
            size_t first = 0;
            while (first < nw && first < ng && ours[first] == golden[first]) first++;
            CHECK(nw == ng && first == ng, "%zu bytes vs golden %zu; first difference at byte %zu", nw, ng, first);
            n = decode_file(ours, nw, ev, 80, "tblog");
            check_decoded(ev, n, cs, nc, start, "tblog");
        }
        free(ours);
    }
    if (!keep) unlink(path);
    cJSON_Delete(root);
    free(js);
    free(golden);
}

/* tblog_open: the file name, the first event's clock, a second writer in the same
 * second getting its own file, and (for make_tb_golden.py) demo.json describing run/. */
static void test_open_dir(void) {
    char run[4200], host[256] = "";
    snprintf(run, sizeof run, "%s/run", dir);
    gethostname(host, sizeof host);
    rlvr_err e = {0};
    double t0 = tblog_now();
    tblog *a = tblog_open(run, &e);
    CHECK(a != NULL, "tblog_open: %s", e.msg);
    if (!a) return;
    const char *pa = tblog_path(a);
    const char *base = strrchr(pa, '/') + 1;
    long long secs = 0;
    int used = 0;
    CHECK(sscanf(base, "events.out.tfevents.%10lld.%n", &secs, &used) == 1 && used == 31 &&
          !strcmp(base + used, host) && llabs(secs - (long long)t0) <= 2, "file name %s (host %s)", base, host);
    tblog *b = tblog_open(run, &e);
    CHECK(b && strcmp(tblog_path(b), pa) != 0, "a second writer must get its own file: %s", b ? tblog_path(b) : e.msg);
    if (b) {
        char bp[4300];
        snprintf(bp, sizeof bp, "%s", tblog_path(b));
        CHECK(tblog_close(b, &e) == RLVR_OK, "%s", e.msg);
        unlink(bp);
    }
    /* three scalars per step, real clock; demo.json records exactly what went in */
    cJSON *demo = cJSON_CreateArray();
    int rc = 0;
    for (int s = 0; s < 5 && !rc; s++) {
        double w = tblog_now();
        const char *tags[3] = {"demo/a", "demo/b", "demo/c"};
        double vals[3] = {s * 0.5, -s, s * s + 0.1};
        rc = tblog_begin(a, s, w, &e);
        cJSON *ev = cJSON_CreateObject(), *vs = cJSON_CreateArray();
        cJSON_AddNumberToObject(ev, "step", s);
        char wbuf[32];
        snprintf(wbuf, sizeof wbuf, "%.17g", w); /* exact, for the reader's comparison */
        cJSON_AddItemToObject(ev, "wall_time", cJSON_CreateRaw(wbuf));
        for (int j = 0; j < 3 && !rc; j++) {
            rc = tblog_add(a, tags[j], vals[j], &e);
            cJSON *pair = cJSON_CreateArray();
            cJSON_AddItemToArray(pair, cJSON_CreateString(tags[j]));
            cJSON_AddItemToArray(pair, cJSON_CreateNumber(vals[j]));
            cJSON_AddItemToArray(vs, pair);
        }
        cJSON_AddItemToObject(ev, "values", vs);
        cJSON_AddItemToArray(demo, ev);
        if (!rc) rc = tblog_end(a, &e);
    }
    CHECK(rc == 0, "demo: %s", e.msg);
    CHECK(tblog_flush(a, &e) == RLVR_OK, "flush: %s", e.msg);
    char pa_copy[4300];
    snprintf(pa_copy, sizeof pa_copy, "%s", pa);
    CHECK(tblog_close(a, &e) == RLVR_OK, "close: %s", e.msg);
    size_t n = 0;
    unsigned char *data = read_file(pa_copy, &n);
    static event ev[16];
    int k = data ? decode_file(data, n, ev, 16, "run") : -1;
    CHECK(k == 6 && ev[0].has_version && fabs(ev[0].wall - t0) < 5 && ev[5].step == 4 && ev[5].n_values == 3 &&
          !strcmp(ev[5].tags[2], "demo/c") && ev[5].values[2] == 16.1f, "run file: %d events", k);
    free(data);
    char *text = cJSON_Print(demo);
    char jp[4300];
    snprintf(jp, sizeof jp, "%s/demo.json", dir);
    if (keep && text) CHECK(fs_write_atomic(jp, text, strlen(text), &e) == RLVR_OK, "%s", e.msg);
    free(text);
    cJSON_Delete(demo);
    if (!keep) { unlink(pa_copy); rmdir(run); }
}

static void test_misuse(void) {
    char path[4200];
    snprintf(path, sizeof path, "%s/misuse.tfevents", dir);
    rlvr_err e = {0};
    tblog *t = tblog_open_file(path, 1.0, &e);
    CHECK(t != NULL, "%s", e.msg);
    if (!t) return;
    struct stat st0, st1;
    stat(path, &st0);
    CHECK(tblog_add(t, "x", 1, &e) == RLVR_EARG && strstr(e.msg, "outside"), "add before begin: %s", e.msg);
    CHECK(tblog_end(t, &e) == RLVR_EARG, "end before begin");
    CHECK(tblog_begin(t, 3, 2.0, &e) == RLVR_OK, "%s", e.msg);
    CHECK(tblog_begin(t, 4, 2.0, &e) == RLVR_EARG && strstr(e.msg, "step 3"), "begin twice: %s", e.msg);
    CHECK(tblog_add(t, "", 1, &e) == RLVR_EARG, "empty tag");
    CHECK(tblog_add(t, NULL, 1, &e) == RLVR_EARG, "NULL tag");
    CHECK(tblog_add(t, "bad\xff", 1, &e) == RLVR_EARG && strstr(e.msg, "UTF-8 at byte 3"), "invalid UTF-8: %s", e.msg);
    CHECK(tblog_add(t, "\xed\xa0\x80", 1, &e) == RLVR_EARG, "surrogate");
    CHECK(tblog_add(t, "\xc3", 1, &e) == RLVR_EARG, "truncated sequence");
    static char longtag[TBLOG_TAG_MAX + 2];
    memset(longtag, 'a', TBLOG_TAG_MAX + 1);
    CHECK(tblog_add(t, longtag, 1, &e) == RLVR_EARG, "tag too long");
    longtag[TBLOG_TAG_MAX] = 0;
    CHECK(tblog_add(t, longtag, 1, &e) == RLVR_OK, "tag of TBLOG_TAG_MAX bytes: %s", e.msg);
    CHECK(tblog_end(t, &e) == RLVR_OK, "%s", e.msg);
    stat(path, &st1);
    CHECK(st1.st_size > st0.st_size + TBLOG_TAG_MAX, "the valid value was written");
    CHECK(tblog_begin(t, 5, 2.0, &e) == RLVR_OK && tblog_end(t, &e) == RLVR_OK, "empty event: %s", e.msg);
    stat(path, &st0);
    CHECK(st0.st_size == st1.st_size, "an event without scalars writes nothing");
    CHECK(tblog_scalar(t, "bad\xff", 6, 1, 2.0, &e) == RLVR_EARG, "scalar with a bad tag");
    CHECK(tblog_scalar(t, "ok", 6, 1, 2.0, &e) == RLVR_OK, "a failed tblog_scalar leaves no event open: %s", e.msg);
    CHECK(tblog_close(t, &e) == RLVR_OK, "%s", e.msg);
    CHECK(tblog_close(NULL, &e) == RLVR_OK, "close(NULL)");
    CHECK(tblog_path(NULL) == NULL, "path(NULL)");
    CHECK(tblog_begin(NULL, 0, 0, &e) == RLVR_EARG && tblog_add(NULL, "x", 0, &e) == RLVR_EARG &&
          tblog_end(NULL, &e) == RLVR_EARG && tblog_flush(NULL, &e) == RLVR_EARG, "NULL writer");
    unlink(path);
}

static void test_write_errors(void) {
    rlvr_err e = {0};
    /* a directory that cannot be made: a component is a regular file */
    char file[4200], sub[4300];
    snprintf(file, sizeof file, "%s/plainfile", dir);
    CHECK(fs_write_atomic(file, "x", 1, &e) == RLVR_OK, "%s", e.msg);
    snprintf(sub, sizeof sub, "%s/runs/x", file);
    tblog *t = tblog_open(sub, &e);
    CHECK(!t && e.code != RLVR_OK && strstr(e.msg, file), "open under a file: %s", e.msg);
    tblog_close(t, NULL);
    unlink(file);
    CHECK(!tblog_open_file("/nonexistent-dir/x.tfevents", 0, &e) && e.code == RLVR_EIO &&
          strstr(e.msg, "/nonexistent-dir/x.tfevents"), "missing directory: %s", e.msg);
    CHECK(!tblog_open(NULL, &e) && e.code == RLVR_EARG && !tblog_open_file("", 0, &e), "no path");
    /* a device that refuses every write: the first event already fails */
    /* a device that refuses every write: the first event already fails, and the
     * device node, not ours to remove, is still there afterwards */
    struct stat dev0, dev1;
    if (stat("/dev/full", &dev0) == 0 && S_ISCHR(dev0.st_mode) && access("/dev/full", W_OK) == 0) {
        CHECK(!tblog_open_file("/dev/full", 1.0, &e) && e.code == RLVR_EIO && strstr(e.msg, "/dev/full") &&
              strstr(e.msg, "write"), "/dev/full: %s", e.msg);
        CHECK(stat("/dev/full", &dev1) == 0 && S_ISCHR(dev1.st_mode) && dev1.st_rdev == dev0.st_rdev,
              "/dev/full must survive a failed open");
    } else {
        printf("  (no writable /dev/full: that case is not tested)\n");
    }
    /* a write that fails later (file size limit): the error names the path, and the
     * writer stays failed so no record follows a torn one */
    char path[4200];
    snprintf(path, sizeof path, "%s/limited.tfevents", dir);
    t = tblog_open_file(path, 1.0, &e);
    CHECK(t != NULL, "%s", e.msg);
    if (!t) return;
    struct stat st;
    stat(path, &st);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)st.st_size + 10; /* room for a torn part of the next record */
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    int set = setrlimit(RLIMIT_FSIZE, &lim) == 0;
    if (set) {
        int rc = tblog_scalar(t, "loss", 1, 0.5, 2.0, &e);
        CHECK(rc == RLVR_EIO && strstr(e.msg, path) && strstr(e.msg, "write failed"), "EFBIG: rc %d %s", rc, e.msg);
        setrlimit(RLIMIT_FSIZE, &old);
        rc = tblog_scalar(t, "loss", 2, 0.5, 3.0, &e);
        CHECK(rc == RLVR_EIO && strstr(e.msg, "earlier write failed"), "sticky failure: rc %d %s", rc, e.msg);
        CHECK(tblog_flush(t, &e) == RLVR_EIO, "flush after failure");
        struct stat st2;
        stat(path, &st2);
        CHECK(st2.st_size == st.st_size + 10, "nothing after the torn record: %lld bytes", (long long)st2.st_size);
        CHECK(tblog_close(t, &e) == RLVR_EIO && strstr(e.msg, path), "close reports the failure: %s", e.msg);
    } else {
        printf("  (setrlimit FSIZE failed: late write error not tested)\n");
        tblog_close(t, NULL);
    }
    signal(SIGXFSZ, prev);
    unlink(path);
}

int main(void) {
    crc_init();
    const char *out = getenv("RLVR_TBLOG_OUT");
    if (out && out[0]) {
        keep = 1;
        snprintf(dir, sizeof dir, "%s", out);
        rlvr_err e = {0};
        if (fs_mkdir_p(dir, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
    } else {
        snprintf(dir, sizeof dir, "/tmp/rlvr_tblog_XXXXXX");
        if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    }
    RUN(test_crc32c);
    RUN(test_golden);
    RUN(test_open_dir);
    RUN(test_misuse);
    RUN(test_write_errors);
    if (!keep) rmdir(dir);
    return check_finish("test_tblog");
}
