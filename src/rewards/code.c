/* code.c: the Python code reward: fence extraction, the test-list reader, the output
 * comparison and the per-case sandbox runs. The solution reaches the sandbox as a
 * read-only file /tmp/solution.py (bwrap --ro-bind-data from a memfd): no host temp
 * file, no argv length limit, and the code cannot rewrite itself between cases. The
 * unisolated mode (sb.isolate = 0) cannot bind files, so it writes a host temp file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "core/err.h"
#include "rewards/code.h"

code_params code_default_params(void) {
    code_params p;
    memset(&p, 0, sizeof p);
    p.sb = sandbox_default_params();
    p.sb.wall_s = 6;
    p.python = "/usr/bin/python3";
    p.max_code = 256 * 1024;
    p.max_tests = 64;
    return p;
}

static int is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

void code_extract(const char *text, size_t n, size_t *off, size_t *len) {
    *off = 0;
    *len = n;
    if (!text) { *len = 0; return; }
    size_t best = (size_t)-1;
    for (size_t i = 0; i + 3 <= n; i++) {
        if (memcmp(text + i, "```", 3) != 0) continue;
        size_t j = i + 3, t = j;
        while (t < n && is_ident(text[t])) t++;
        size_t tl = t - j;
        int py = (tl == 6 && !memcmp(text + j, "python", 6)) || (tl == 2 && !memcmp(text + j, "py", 2)) ||
                 (tl == 7 && !memcmp(text + j, "python3", 7));
        if (py) best = i;
        i = t > i ? t - 1 : i; /* skip the tag; the loop's i++ moves on */
    }
    if (best == (size_t)-1) return;
    size_t s = best + 3;
    while (s < n && text[s] != '\n') s++; /* rest of the fence line (tag, attributes) */
    if (s < n) s++;
    size_t e = s;
    while (e + 3 <= n && memcmp(text + e, "```", 3) != 0) e++;
    if (e + 3 > n) e = n; /* unclosed final fence: to the end */
    *off = s;
    *len = e - s;
}

static int is_trail_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

/* Next line [*s, *e) of buf after pos, trailing whitespace stripped; returns the
 * position after the line's newline, or n+1 at the end. */
static size_t next_line(const char *buf, size_t n, size_t pos, size_t *s, size_t *e) {
    size_t i = pos;
    while (i < n && buf[i] != '\n') i++;
    size_t end = i;
    while (end > pos && is_trail_ws(buf[end - 1])) end--;
    *s = pos;
    *e = end;
    return i + 1;
}

/* Length of buf once trailing empty (whitespace-only) lines are dropped. */
static size_t content_len(const char *buf, size_t n) {
    size_t e = n;
    while (e > 0 && (is_trail_ws(buf[e - 1]) || buf[e - 1] == '\n')) e--;
    return e;
}

int code_output_equal(const char *a, size_t na, const char *b, size_t nb) {
    if (!a) { a = ""; na = 0; }
    if (!b) { b = ""; nb = 0; }
    na = content_len(a, na);
    nb = content_len(b, nb);
    size_t pa = 0, pb = 0;
    for (;;) {
        size_t as, ae, bs, be;
        pa = next_line(a, na, pa, &as, &ae);
        pb = next_line(b, nb, pb, &bs, &be);
        if (ae - as != be - bs || memcmp(a + as, b + bs, ae - as) != 0) return 0;
        int ea = pa > na, eb = pb > nb;
        if (ea || eb) return ea && eb;
    }
}

/* The test list: n cases as (input, output) string pointers into the cJSON tree. */
static int read_tests(cJSON *root, const char ***in, const char ***out, int *n, int max, rlvr_err *err) {
    cJSON *ins = NULL, *outs = NULL;
    int count;
    if (cJSON_IsArray(root)) {
        count = cJSON_GetArraySize(root);
    } else if (cJSON_IsObject(root)) {
        ins = cJSON_GetObjectItemCaseSensitive(root, "inputs");
        outs = cJSON_GetObjectItemCaseSensitive(root, "outputs");
        if (!cJSON_IsArray(ins) || !cJSON_IsArray(outs) || cJSON_GetArraySize(ins) != cJSON_GetArraySize(outs))
            return errf(err, RLVR_EFORMAT, "code reference: object needs equal-length \"inputs\" and \"outputs\" arrays");
        count = cJSON_GetArraySize(ins);
    } else {
        return errf(err, RLVR_EFORMAT, "code reference: expected a JSON list of {\"input\",\"output\"}");
    }
    if (count <= 0) return errf(err, RLVR_EFORMAT, "code reference: no test cases");
    if (max > 0 && count > max) count = max;
    *in = calloc((size_t)count, sizeof **in);
    *out = calloc((size_t)count, sizeof **out);
    if (!*in || !*out) return errf(err, RLVR_ENOMEM, "code reference: out of memory");
    cJSON *it = ins ? ins->child : root->child, *ot = outs ? outs->child : NULL;
    for (int i = 0; i < count; i++, it = it->next, ot = ot ? ot->next : NULL) {
        cJSON *ci = ins ? it : cJSON_GetObjectItemCaseSensitive(it, "input");
        cJSON *co = ins ? ot : cJSON_GetObjectItemCaseSensitive(it, "output");
        if (!cJSON_IsString(ci) || !cJSON_IsString(co))
            return errf(err, RLVR_EFORMAT, "code reference: test %d needs string \"input\" and \"output\"", i);
        (*in)[i] = ci->valuestring;
        (*out)[i] = co->valuestring;
    }
    *n = count;
    return RLVR_OK;
}

/* Unisolated mode: writes the solution to a new file $TMPDIR/rlvr_code_XXXXXX.py (else
 * /tmp), mode 0400, its name in path. The caller unlinks it. */
static int host_solution(const char *code, size_t n, char *path, size_t cap, rlvr_err *err) {
    const char *dir = getenv("TMPDIR");
    if (!dir || !dir[0]) dir = "/tmp";
    int k = snprintf(path, cap, "%s/rlvr_code_XXXXXX.py", dir);
    if (k < 0 || (size_t)k >= cap) return errf(err, RLVR_EIO, "code_score: TMPDIR %.200s is too long", dir);
    int fd = mkstemps(path, 3);
    if (fd < 0) return errf(err, RLVR_EIO, "code_score: cannot create %s: %s", path, strerror(errno));
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, code + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(path);
            return errf(err, RLVR_EIO, "code_score: writing %s: %s", path, w < 0 ? strerror(e) : "short write");
        }
        off += (size_t)w;
    }
    if (fchmod(fd, 0400) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(path);
        return errf(err, RLVR_EIO, "code_score: closing %s: %s", path, strerror(e));
    }
    return RLVR_OK;
}

int code_score(const code_params *p, const char *completion, size_t n, const char *reference,
               size_t ref_n, double *reward, int *n_pass, int *n_tests, rlvr_err *err) {
    if (reward) *reward = 0;
    if (n_pass) *n_pass = 0;
    if (n_tests) *n_tests = 0;
    if (!p || !reward || (!completion && n) || !reference)
        return errf(err, RLVR_EARG, "code_score: missing params, reward or reference");
    cJSON *root = cJSON_ParseWithLength(reference, ref_n);
    if (!root) return errf(err, RLVR_EFORMAT, "code reference: not valid JSON");
    const char **ins = NULL, **outs = NULL;
    int count = 0, pass = 0;
    char host_path[4096] = "";
    int rc = read_tests(root, &ins, &outs, &count, p->max_tests, err);
    if (rc) goto done;
    if (n_tests) *n_tests = count;

    size_t off, len;
    code_extract(completion, n, &off, &len);
    if (len == 0 || len > p->max_code) goto done; /* nothing (or too much) to run: 0 */

    sandbox_params sb = p->sb;
    sandbox_file f = { "/tmp/solution.py", completion + off, len };
    if (sb.isolate) {
        sb.files = &f;
        sb.n_files = 1;
    } else {
        sb.files = NULL;
        sb.n_files = 0;
        if ((rc = host_solution(completion + off, len, host_path, sizeof host_path, err))) goto done;
    }
    const char *py = p->python ? p->python : "/usr/bin/python3";
    const char *argv[] = { py, "-I", "-S", "-B", sb.isolate ? "/tmp/solution.py" : host_path, NULL };
    for (int i = 0; i < count; i++) {
        sandbox_result r;
        rc = sandbox_run(&sb, argv, ins[i], strlen(ins[i]), &r, err);
        if (rc) { err_wrap(err, rc, "code_score: test %d", i); goto done; }
        int ok = r.exited && r.exit_code == 0 && !r.term_signal && !r.timed_out && !r.output_truncated &&
                 code_output_equal(r.out, r.n_out, outs[i], strlen(outs[i]));
        sandbox_result_free(&r);
        pass += ok;
        if (!ok && p->stop_on_fail) break;
    }
    *reward = (double)pass / count;
    if (n_pass) *n_pass = pass;
done:
    if (host_path[0]) unlink(host_path);
    free(ins);
    free(outs);
    cJSON_Delete(root);
    return rc;
}
