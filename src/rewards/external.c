/* external.c: the user-program reward: builds the request JSON (with UTF-8 repair),
 * runs the program through sandbox_run (isolated or plain) and reads its last line. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "core/err.h"
#include "rewards/external.h"

external_params external_default_params(void) {
    external_params p;
    memset(&p, 0, sizeof p);
    p.sb = sandbox_default_params();
    p.sb.isolate = 0;
    p.sb.wall_s = 30;
    p.sb.out_cap = 64 * 1024;
    return p;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid or NUL. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c == 0) return 0;
    if (c < 0x80) return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

/* A NUL-terminated valid UTF-8 copy of s[0..n): bad bytes and NULs become U+FFFD. */
static char *utf8_clean(const char *s, size_t n) {
    if (!s) n = 0;
    if (n > (SIZE_MAX - 1) / 3) return NULL;
    char *o = malloc(n * 3 + 1);
    if (!o) return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k) { memcpy(o + j, s + i, k); j += k; i += k; }
        else { memcpy(o + j, "\xEF\xBF\xBD", 3); j += 3; i++; }
    }
    o[j] = 0;
    return o;
}

int external_json_add_str(cJSON *obj, const char *key, const char *s, size_t n) {
    char *c = utf8_clean(s, n);
    if (!c) return -1;
    cJSON *v = cJSON_AddStringToObject(obj, key, c);
    free(c);
    return v ? 0 : -1;
}

/* Appends " (stderr: ...last bytes...)" to err's message. */
static int fail_with_stderr(rlvr_err *err, int code, const sandbox_result *r, const char *what) {
    size_t n = r->n_err > 400 ? 400 : r->n_err;
    return errf(err, code, "external reward: %s (stderr: %.*s)", what, (int)n, r->err + (r->n_err - n));
}

static int parse_reply(const sandbox_result *r, external_result *out, rlvr_err *err) {
    size_t e = r->n_out;
    while (e > 0 && (r->out[e - 1] == '\n' || r->out[e - 1] == '\r' || r->out[e - 1] == ' ' || r->out[e - 1] == '\t')) e--;
    if (e == 0) return fail_with_stderr(err, RLVR_EFORMAT, r, "no output on stdout");
    size_t s = e;
    while (s > 0 && r->out[s - 1] != '\n') s--;
    cJSON *o = cJSON_ParseWithLength(r->out + s, e - s);
    char what[256];
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        size_t k = e - s > 120 ? 120 : e - s;
        snprintf(what, sizeof what, "last stdout line is not a JSON object: %.*s", (int)k, r->out + s);
        return fail_with_stderr(err, RLVR_EFORMAT, r, what);
    }
    cJSON *rw = cJSON_GetObjectItemCaseSensitive(o, "reward");
    if (!cJSON_IsNumber(rw) || !isfinite(rw->valuedouble)) {
        cJSON_Delete(o);
        return fail_with_stderr(err, RLVR_EFORMAT, r, "\"reward\" missing, not a number or not finite");
    }
    out->reward = rw->valuedouble;
    for (cJSON *it = o->child; it; it = it->next) {
        if (it == rw || !it->string || !cJSON_IsNumber(it) || !isfinite(it->valuedouble)) continue;
        if (out->n_fields >= EXTERNAL_MAX_FIELDS) break;
        snprintf(out->name[out->n_fields], sizeof out->name[0], "%s", it->string);
        out->value[out->n_fields++] = it->valuedouble;
    }
    cJSON_Delete(o);
    return RLVR_OK;
}

int external_score(const external_params *p, const char *prompt, const char *completion,
                   size_t n, const char *reference, size_t ref_n, const char *data_source,
                   const char *extra_json, external_result *out, rlvr_err *err) {
    if (!p || !p->argv || !p->argv[0] || !out) return errf(err, RLVR_EARG, "external reward: no command configured");
    memset(out, 0, sizeof *out);
    cJSON *req = cJSON_CreateObject(), *extra = NULL;
    char *text = NULL;
    int rc = RLVR_OK;
    if (!req) return errf(err, RLVR_ENOMEM, "external reward: out of memory");
    if (extra_json) {
        extra = cJSON_Parse(extra_json);
        if (!cJSON_IsObject(extra)) {
            cJSON_Delete(extra);
            cJSON_Delete(req);
            return errf(err, RLVR_EARG, "external reward: extra is not a JSON object");
        }
    } else {
        extra = cJSON_CreateObject();
    }
    if (!extra || external_json_add_str(req, "prompt", prompt, prompt ? strlen(prompt) : 0) ||
        external_json_add_str(req, "completion", completion, n) || external_json_add_str(req, "reference", reference, ref_n) ||
        external_json_add_str(req, "data_source", data_source, data_source ? strlen(data_source) : 0) ||
        !cJSON_AddItemToObject(req, "extra", extra)) {
        if (extra && !cJSON_GetObjectItemCaseSensitive(req, "extra")) cJSON_Delete(extra);
        cJSON_Delete(req);
        return errf(err, RLVR_ENOMEM, "external reward: out of memory building the request");
    }
    text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!text) return errf(err, RLVR_ENOMEM, "external reward: out of memory printing the request");
    size_t tn = strlen(text);
    text[tn] = '\n'; /* one line, newline-terminated: overwrite the NUL, length carried */
    sandbox_result r;
    rc = sandbox_run(&p->sb, p->argv, text, tn + 1, &r, err);
    free(text);
    if (rc) return err_wrap(err, rc, "external reward: %s", p->argv[0]);
    char what[160];
    if (r.timed_out) {
        snprintf(what, sizeof what, "%s timed out after %.1f s", p->argv[0], p->sb.wall_s);
        rc = fail_with_stderr(err, RLVR_EIO, &r, what);
    } else if (r.output_truncated) {
        snprintf(what, sizeof what, "%s wrote more than %zu bytes", p->argv[0], p->sb.out_cap);
        rc = fail_with_stderr(err, RLVR_EIO, &r, what);
    } else if (!r.exited || r.exit_code != 0) {
        snprintf(what, sizeof what, "%s failed (exit %d, signal %d)", p->argv[0], r.exit_code, r.term_signal);
        rc = fail_with_stderr(err, RLVR_EIO, &r, what);
    } else {
        rc = parse_reply(&r, out, err);
    }
    sandbox_result_free(&r);
    return rc;
}
