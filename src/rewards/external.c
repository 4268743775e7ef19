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
#include "core/utf8.h"

external_params external_default_params(void) {
    external_params p;
    memset(&p, 0, sizeof p);
    p.sb = sandbox_default_params();
    p.sb.isolate = 0;
    p.sb.wall_s = 30;
    p.sb.out_cap = 64 * 1024;
    return p;
}

int external_json_add_str(cJSON *obj, const char *key, const char *s, size_t n) {
    char *c = utf8_sanitize(s ? s : "", s ? n : 0);
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
