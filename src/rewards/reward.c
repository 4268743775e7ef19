/* reward.c: the reward interface (reward.h): output and parameter helpers, the
 * verifier wrappers ("math", "arith", "arith_process", "auto"), the registry, the
 * composites (sum, gate, route) and the spec parser. Shaping and IFEval rewards live
 * in shaping.c and ifeval.c; their entries are merged into the registry here. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/err.h"
#include "rewards/ifeval.h"
#include "rewards/math.h"
#include "rewards/code.h"
#include "tasks/chain.h"
#include "tasks/countdown.h"
#include "tasks/kk.h"
#include "tasks/strfn.h"
#include "rewards/reward.h"
#include "rewards/shaping.h"
#include "tasks/arith.h"

/* ---- output helpers ------------------------------------------------------------------ */

void reward_output_clear(reward_output *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    out->correct = -1;
}

int reward_output_set(reward_output *out, const char *name, double value) {
    if (!out || !name) return -1;
    for (int i = 0; i < out->n_fields; i++)
        if (strncmp(out->fields[i].name, name, REWARD_FIELD_NAME_CAP - 1) == 0) {
            out->fields[i].value = value;
            return 0;
        }
    if (out->n_fields >= REWARD_MAX_FIELDS) return -1;
    reward_field *f = &out->fields[out->n_fields++];
    size_t k = strnlen(name, REWARD_FIELD_NAME_CAP - 1);
    memcpy(f->name, name, k);
    f->name[k] = 0;
    f->value = value;
    return 0;
}

int reward_output_get(const reward_output *out, const char *name, double *value) {
    if (!out || !name) return 0;
    for (int i = 0; i < out->n_fields; i++)
        if (strncmp(out->fields[i].name, name, REWARD_FIELD_NAME_CAP - 1) == 0) {
            if (value) *value = out->fields[i].value;
            return 1;
        }
    return 0;
}

/* Adds a field only when the name is free (composites keep the first child's value). */
static void output_add(reward_output *out, const char *name, double value) {
    if (!reward_output_get(out, name, NULL)) reward_output_set(out, name, value);
}

void reward_output_pred(reward_output *out, const char *s, size_t n) {
    if (!out) return;
    if (!s) n = 0;
    if (n > REWARD_PRED_CAP - 1) {
        n = REWARD_PRED_CAP - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--; /* don't split a character */
    }
    if (n) memcpy(out->pred, s, n);
    out->pred[n] = 0;
}

int reward_output_correct(const reward_output *out) {
    if (!out) return 0;
    return out->correct >= 0 ? out->correct > 0 : out->reward > 0;
}

const char *reward_extra_get(const reward_input *in, const char *key, size_t *n) {
    if (n) *n = 0;
    if (!in || !key || !in->extra) return NULL;
    for (int i = 0; i < in->n_extra; i++)
        if (in->extra[i].key && strcmp(in->extra[i].key, key) == 0) {
            if (!in->extra[i].val) return NULL;
            if (n) *n = in->extra[i].val_n;
            return in->extra[i].val;
        }
    return NULL;
}

double reward_length(const reward_input *in) {
    if (!in) return 0;
    return in->n_tokens >= 0 ? (double)in->n_tokens : (double)in->completion_n;
}

/* ---- parameters ------------------------------------------------------------------------ */

static const reward_kv *param_find(const reward_kv *p, int n, const char *key) {
    for (int i = 0; p && i < n; i++)
        if (p[i].key && strcmp(p[i].key, key) == 0) return &p[i];
    return NULL;
}

int reward_param_double(const reward_kv *p, int n, const char *who, const char *key, double def,
                        double *out, rlvr_err *err) {
    const reward_kv *kv = param_find(p, n, key);
    *out = def;
    if (!kv) return RLVR_OK;
    char buf[64];
    if (!kv->val || kv->val_n == 0 || kv->val_n >= sizeof buf)
        return errf(err, RLVR_ECONFIG, "%s: parameter %s needs a number", who, key);
    memcpy(buf, kv->val, kv->val_n);
    buf[kv->val_n] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno || !isfinite(v) || isalpha((unsigned char)buf[0]))
        return errf(err, RLVR_ECONFIG, "%s: parameter %s=%s is not a finite number", who, key, buf);
    *out = v;
    return RLVR_OK;
}

int reward_param_int(const reward_kv *p, int n, const char *who, const char *key, long def,
                     long *out, rlvr_err *err) {
    const reward_kv *kv = param_find(p, n, key);
    *out = def;
    if (!kv) return RLVR_OK;
    char buf[64];
    if (!kv->val || kv->val_n == 0 || kv->val_n >= sizeof buf)
        return errf(err, RLVR_ECONFIG, "%s: parameter %s needs an integer", who, key);
    memcpy(buf, kv->val, kv->val_n);
    buf[kv->val_n] = 0;
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (*end || errno) return errf(err, RLVR_ECONFIG, "%s: parameter %s=%s is not an integer", who, key, buf);
    *out = v;
    return RLVR_OK;
}

int reward_param_str(const reward_kv *p, int n, const char *who, const char *key, const char *def,
                     char *buf, size_t cap, rlvr_err *err) {
    const reward_kv *kv = param_find(p, n, key);
    const char *s = kv ? kv->val : def;
    size_t k = kv ? kv->val_n : (def ? strlen(def) : 0);
    if (!cap) return errf(err, RLVR_EARG, "%s: no buffer for parameter %s", who, key);
    if (!s) k = 0;
    if (k >= cap) return errf(err, RLVR_ECONFIG, "%s: parameter %s is longer than %zu bytes", who, key, cap - 1);
    if (k) memcpy(buf, s, k);
    buf[k] = 0;
    return RLVR_OK;
}

int reward_params_check(const reward_kv *p, int n, const char *who, const char *const *allowed,
                        rlvr_err *err) {
    for (int i = 0; p && i < n; i++) {
        int ok = 0;
        for (int j = 0; allowed && allowed[j] && !ok; j++) ok = p[i].key && strcmp(p[i].key, allowed[j]) == 0;
        if (!ok) {
            char list[256] = "";
            size_t at = 0;
            for (int j = 0; allowed && allowed[j] && at < sizeof list; j++) {
                int w = snprintf(list + at, sizeof list - at, "%s%s", j ? ", " : "", allowed[j]);
                if (w < 0) break;
                at += (size_t)w;
            }
            return errf(err, RLVR_ECONFIG, "%s: unknown parameter '%s' (known: %s)", who,
                        p[i].key ? p[i].key : "(null)", list[0] ? list : "none");
        }
    }
    return RLVR_OK;
}

reward_fn *reward_alloc(const char *name,
                        int (*score)(const reward_fn *, const reward_input *, reward_output *, rlvr_err *),
                        size_t state_size, void (*destroy)(reward_fn *)) {
    size_t head = (sizeof(reward_fn) + 15) & ~(size_t)15;
    if (state_size > SIZE_MAX - head) return NULL;
    reward_fn *f = calloc(1, head + state_size);
    if (!f) return NULL;
    f->name = name;
    f->score = score;
    f->state = state_size ? (char *)f + head : NULL;
    f->destroy = destroy ? destroy : reward_alloc_destroy;
    return f;
}

void reward_alloc_destroy(reward_fn *self) { free(self); }

void reward_free(reward_fn *fn) {
    if (fn && fn->destroy) fn->destroy(fn);
}

int reward_score(const reward_fn *fn, const reward_input *in, reward_output *out, rlvr_err *err) {
    if (!out) return errf(err, RLVR_EARG, "reward_score: NULL output");
    reward_output_clear(out);
    if (!fn || !fn->score || !in) return errf(err, RLVR_EARG, "reward_score: NULL reward or input");
    if (!in->completion && in->completion_n) return errf(err, RLVR_EARG, "%s: NULL completion with length %zu", fn->name, in->completion_n);
    if ((!in->prompt && in->prompt_n) || (!in->reference && in->reference_n))
        return errf(err, RLVR_EARG, "%s: NULL prompt or reference with a nonzero length", fn->name);
    if (in->n_extra < 0 || (in->n_extra && !in->extra))
        return errf(err, RLVR_EARG, "%s: bad extra columns (n_extra %d)", fn->name, in->n_extra);
    const reward_group *g = in->group;
    if (g && (g->n < 0 || (g->n && (!g->completions || !g->lens)) || (g->n && (g->self < 0 || g->self >= g->n))))
        return errf(err, RLVR_EARG, "%s: bad group (n %d, self %d)", fn->name, g->n, g->self);
    int rc = fn->score(fn, in, out, err);
    if (rc) return rc;
    if (!isfinite(out->reward)) {
        double r = out->reward;
        reward_output_clear(out);
        return errf(err, RLVR_ENUMERIC, "%s: non-finite reward %g", fn->name, r);
    }
    return RLVR_OK;
}

/* ---- "math": the math answer verifier -------------------------------------------------- */

typedef struct math_state {
    math_verify_params mp;
    double correct, wrong; /* reward for a right / wrong (or missing) answer */
    int defaults;          /* 1: use math_verify_default_params() instead of mp */
} math_state;

static int math_score(const reward_fn *self, const reward_input *in, reward_output *out, rlvr_err *err) {
    const math_state *st = self->state;
    if (!in->reference) return errf(err, RLVR_EARG, "%s: row has no reference (ground_truth)", self->name);
    math_verdict v;
    math_verify_params dp;
    if (st->defaults) dp = math_verify_default_params();
    int rc = math_verify(st->defaults ? &dp : &st->mp, in->completion, in->completion_n, in->reference, in->reference_n, &v, err);
    if (rc) return rc;
    out->correct = v.correct ? 1 : 0;
    out->reward = v.correct ? st->correct : st->wrong;
    reward_output_set(out, "acc", v.correct ? 1 : 0);
    reward_output_set(out, "extracted", v.extracted ? 1 : 0);
    reward_output_pred(out, v.pred, strnlen(v.pred, sizeof v.pred));
    return RLVR_OK;
}

static int math_make(const reward_kv *p, int n, reward_fn **out, rlvr_err *err) {
    static const char *const allowed[] = {"mode", "correct", "wrong", "strip_think", NULL};
    static const struct { const char *name; int mode; } modes[] = {
        {"lenient", MATH_MODE_LENIENT}, {"boxed", MATH_MODE_BOXED_ONLY}, {"latex", MATH_MODE_LATEX},
        {"expr", MATH_MODE_EXPR}, {"mcq", MATH_MODE_MCQ}};
    int rc = reward_params_check(p, n, "math", allowed, err);
    if (rc) return rc;
    math_state st;
    memset(&st, 0, sizeof st);
    st.mp = math_verify_default_params();
    char mode[16];
    long strip;
    if ((rc = reward_param_str(p, n, "math", "mode", "lenient", mode, sizeof mode, err)) ||
        (rc = reward_param_double(p, n, "math", "correct", 1.0, &st.correct, err)) ||
        (rc = reward_param_double(p, n, "math", "wrong", 0.0, &st.wrong, err)) ||
        (rc = reward_param_int(p, n, "math", "strip_think", 1, &strip, err)))
        return rc;
    int found = 0;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(mode, modes[i].name) == 0) { st.mp.mode = modes[i].mode; found = 1; }
    if (!found) return errf(err, RLVR_ECONFIG, "math: mode=%s (lenient, boxed, latex, expr, mcq)", mode);
    st.mp.strip_think = strip != 0;
    reward_fn *f = reward_alloc("math", math_score, sizeof st, NULL);
    if (!f) return errf(err, RLVR_ENOMEM, "math: out of memory");
    memcpy(f->state, &st, sizeof st);
    *out = f;
    return RLVR_OK;
}

/* ---- "arith": outcome of the built-in arith task ---------------------------------------- */

typedef struct arith_state {
    double correct, wrong;
} arith_state;

/* Reads an optionally signed decimal int64 at s[*i..n), skipping leading blanks. */
static int read_ll(const char *s, size_t n, size_t *i, long long *v) {
    size_t k = *i;
    while (k < n && (s[k] == ' ' || s[k] == '\t')) k++;
    int neg = 0;
    if (k < n && (s[k] == '-' || s[k] == '+')) neg = s[k++] == '-';
    if (k >= n || !isdigit((unsigned char)s[k])) return 0;
    unsigned long long acc = 0, limit = 9223372036854775807ULL + (unsigned long long)neg;
    for (; k < n && isdigit((unsigned char)s[k]); k++) {
        unsigned d = (unsigned)(s[k] - '0');
        if (acc > (limit - d) / 10) return 0;
        acc = acc * 10 + d;
    }
    *v = neg ? (long long)(0 - acc) : (long long)acc;
    *i = k;
    return 1;
}

/* The gold final: the integer after the last '#' of the reference, else the whole
 * (trimmed) reference as an integer. */
static int arith_gold(const char *ref, size_t n, long long *gold) {
    size_t i = 0;
    for (size_t k = n; k > 0; k--)
        if (ref[k - 1] == '#') { i = k; break; }
    while (i < n && isspace((unsigned char)ref[i])) i++;
    if (!read_ll(ref, n, &i, gold)) return 0;
    while (i < n && isspace((unsigned char)ref[i])) i++;
    return i == n;
}

static int arith_score(const reward_fn *self, const reward_input *in, reward_output *out, rlvr_err *err) {
    const arith_state *st = self->state;
    long long gold;
    if (!in->reference || !arith_gold(in->reference, in->reference_n, &gold))
        return errf(err, RLVR_EARG, "%s: reference '%.*s' holds no integer final", self->name,
                    (int)(in->reference_n > 40 ? 40 : in->reference_n), in->reference ? in->reference : "");
    arith_problem p;
    memset(&p, 0, sizeof p);
    p.result = gold;
    int ok = 0;
    int rc = arith_check_answer(&p, in->completion, in->completion_n, &ok);
    if (rc) return errf(err, rc, "%s: arith_check_answer failed", self->name);
    out->correct = ok;
    out->reward = ok ? st->correct : st->wrong;
    reward_output_set(out, "acc", ok);
    /* pred: the integer arith_check_answer reads (after the first '#') */
    const char *h = in->completion_n ? memchr(in->completion, '#', in->completion_n) : NULL;
    if (h) {
        size_t i = (size_t)(h - in->completion) + 1;
        long long v;
        if (read_ll(in->completion, in->completion_n, &i, &v)) {
            char buf[32];
            int k = snprintf(buf, sizeof buf, "%lld", v);
            reward_output_pred(out, buf, (size_t)k);
        }
    }
    return RLVR_OK;
}

static int arith_make(const reward_kv *p, int n, reward_fn **out, rlvr_err *err) {
    static const char *const allowed[] = {"correct", "wrong", NULL};
    arith_state st;
    int rc;
    if ((rc = reward_params_check(p, n, "arith", allowed, err)) ||
        (rc = reward_param_double(p, n, "arith", "correct", 1.0, &st.correct, err)) ||
        (rc = reward_param_double(p, n, "arith", "wrong", 0.0, &st.wrong, err)))
        return rc;
    reward_fn *f = reward_alloc("arith", arith_score, sizeof st, NULL);
    if (!f) return errf(err, RLVR_ENOMEM, "arith: out of memory");
    memcpy(f->state, &st, sizeof st);
    *out = f;
    return RLVR_OK;
}

/* ---- "arith_process": the step trace of the arith task ------------------------------------
 * Rebuilds the problem from the row: steps from the "trace" column (arith_to_jsonl's
 * [{"var","op","args","value"}]), the template from "template" (default 0), given values
 * from the prompt's leading "x:5;" / "x is 5." lines, the final from the reference. */

typedef struct arith_proc_state {
    int all; /* 1: score process_ok (0/1); 0: the partial score */
} arith_proc_state;

static int given_value(const arith_problem *p, char v, long long *val) {
    for (int g = 0; g < p->n_given; g++)
        if (p->given[g].var == v) { *val = p->given[g].value; return 1; }
    for (int s = 0; s < p->n_steps; s++)
        if (p->steps[s].var == v) { *val = p->steps[s].value; return 1; }
    return 0;
}

static void parse_givens(const char *s, size_t n, arith_problem *p) {
    size_t i = 0;
    while (p->n_given < ARITH_MAX_GIVEN) {
        while (i < n && s[i] == ' ') i++;
        if (i >= n || s[i] < 'a' || s[i] > 'z') return;
        char v = s[i];
        size_t k = i + 1;
        if (k < n && s[k] == ':') k++;
        else if (n - k >= 4 && memcmp(s + k, " is ", 4) == 0) k += 4;
        else return;
        long long val;
        if (!read_ll(s, n, &k, &val) || k >= n || (s[k] != ';' && s[k] != '.')) return;
        p->given[p->n_given].var = v;
        p->given[p->n_given].value = val;
        p->n_given++;
        i = k + 1;
    }
}

static int operand(const cJSON *a, const arith_problem *p, char *var, long long *val) {
    *var = 0;
    if (cJSON_IsNumber(a)) {
        double d = a->valuedouble;
        if (!(d == floor(d) && fabs(d) < 9e15)) return 0;
        *val = (long long)d;
        return 1;
    }
    if (!cJSON_IsString(a) || !a->valuestring) return 0;
    const char *s = a->valuestring;
    size_t n = strlen(s), i = 0;
    if (n == 1 && s[0] >= 'a' && s[0] <= 'z') {
        *var = s[0];
        return given_value(p, s[0], val);
    }
    return read_ll(s, n, &i, val) && i == n;
}

static int arith_rebuild(const reward_input *in, arith_problem *p, rlvr_err *err, const char *who) {
    memset(p, 0, sizeof *p);
    size_t tn, mn;
    const char *trace = reward_extra_get(in, "trace", &tn);
    if (!trace) return errf(err, RLVR_EARG, "%s: row has no 'trace' column", who);
    const char *tmpl = reward_extra_get(in, "template", &mn);
    if (tmpl) {
        long long t;
        size_t i = 0;
        if (!read_ll(tmpl, mn, &i, &t) || i != mn || t < 0 || t >= ARITH_N_TEMPLATES)
            return errf(err, RLVR_EARG, "%s: bad 'template' column '%.*s'", who, (int)(mn > 20 ? 20 : mn), tmpl);
        p->template_id = (int)t;
    }
    if (!in->reference || !arith_gold(in->reference, in->reference_n, &p->result))
        return errf(err, RLVR_EARG, "%s: reference holds no integer final", who);
    if (in->prompt) parse_givens(in->prompt, in->prompt_n, p);
    cJSON *j = cJSON_ParseWithLength(trace, tn);
    if (!j) return errf(err, RLVR_EARG, "%s: 'trace' column is not JSON", who);
    int rc = RLVR_OK, n = cJSON_GetArraySize(j);
    if (!cJSON_IsArray(j) || n < 1 || n > ARITH_MAX_OPS) {
        rc = errf(err, RLVR_EARG, "%s: 'trace' must be an array of 1..%d steps", who, ARITH_MAX_OPS);
        goto done;
    }
    for (int s = 0; s < n; s++) {
        const cJSON *e = cJSON_GetArrayItem(j, s);
        const cJSON *var = cJSON_GetObjectItemCaseSensitive(e, "var");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(e, "op");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(e, "args");
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(e, "value");
        arith_step *st = &p->steps[s];
        if (!cJSON_IsString(var) || strlen(var->valuestring) != 1 || var->valuestring[0] < 'a' ||
            var->valuestring[0] > 'z' || !cJSON_IsString(op) || strlen(op->valuestring) != 1 ||
            !strchr("+-*/", op->valuestring[0]) || !cJSON_IsArray(args) || cJSON_GetArraySize(args) != 2 ||
            !cJSON_IsNumber(val) || val->valuedouble != floor(val->valuedouble) || fabs(val->valuedouble) > 9e15) {
            rc = errf(err, RLVR_EARG, "%s: 'trace' step %d is malformed", who, s);
            goto done;
        }
        st->var = var->valuestring[0];
        st->op = op->valuestring[0];
        st->value = (long long)val->valuedouble;
        if (!operand(cJSON_GetArrayItem(args, 0), p, &st->lhs_var, &st->lhs) ||
            !operand(cJSON_GetArrayItem(args, 1), p, &st->rhs_var, &st->rhs)) {
            rc = errf(err, RLVR_EARG, "%s: 'trace' step %d has an operand that is neither a number "
                      "nor a known variable", who, s);
            goto done;
        }
        p->n_steps = s + 1;
    }
    p->n_ops = p->n_steps;
done:
    cJSON_Delete(j);
    return rc;
}

static int arith_proc_score(const reward_fn *self, const reward_input *in, reward_output *out, rlvr_err *err) {
    const arith_proc_state *st = self->state;
    arith_problem p;
    int rc = arith_rebuild(in, &p, err, self->name);
    if (rc) return rc;
    arith_trace_report r;
    rc = arith_check_trace_report(&p, in->completion, in->completion_n, &r);
    if (rc) return errf(err, rc, "%s: trace check failed", self->name);
    int N = r.n_steps > 0 ? r.n_steps : 1;
    int extra = r.extra + r.out_of_order;
    double penalty = r.wrong + r.missing + (extra < N ? extra : N) + (r.final_ok ? 0 : 1);
    double partial = 1.0 - penalty / N;
    if (partial < 0) partial = 0;
    out->reward = st->all ? (r.process_ok ? 1.0 : 0.0) : partial;
    reward_output_set(out, "process_ok", r.process_ok);
    reward_output_set(out, "steps_ok", (double)r.steps_ok / N);
    return RLVR_OK;
}

static int arith_proc_make(const reward_kv *p, int n, reward_fn **out, rlvr_err *err) {
    static const char *const allowed[] = {"mode", NULL};
    char mode[16];
    int rc;
    if ((rc = reward_params_check(p, n, "arith_process", allowed, err)) ||
        (rc = reward_param_str(p, n, "arith_process", "mode", "partial", mode, sizeof mode, err)))
        return rc;
    if (strcmp(mode, "partial") && strcmp(mode, "all"))
        return errf(err, RLVR_ECONFIG, "arith_process: mode=%s (partial, all)", mode);
    reward_fn *f = reward_alloc("arith_process", arith_proc_score, sizeof(arith_proc_state), NULL);
    if (!f) return errf(err, RLVR_ENOMEM, "arith_process: out of memory");
    ((arith_proc_state *)f->state)->all = strcmp(mode, "all") == 0;
    *out = f;
    return RLVR_OK;
}

/* ---- static default instances -------------------------------------------------------------- */

static const math_state MATH_DEFAULT = {.correct = 1.0, .wrong = 0.0, .defaults = 1};
static const arith_state ARITH_DEFAULT = {1.0, 0.0};
static const arith_proc_state ARITH_PROC_DEFAULT = {0};

static const reward_fn MATH_FN = {"math", math_score, (void *)&MATH_DEFAULT, NULL};
static const reward_fn ARITH_FN = {"arith", arith_score, (void *)&ARITH_DEFAULT, NULL};
static const reward_fn ARITH_PROC_FN = {"arith_process", arith_proc_score, (void *)&ARITH_PROC_DEFAULT, NULL};

static int static_make(const reward_fn *dflt, const reward_kv *p, int n, reward_fn **out, rlvr_err *err);

/* ---- the built-in tasks' checkers: each needs only the row's ground_truth ---- */

typedef int (*task_scorer)(const char *, size_t, const char *, size_t, double *, int *);

static int task_score(const reward_fn *self, const reward_input *in, reward_output *out, rlvr_err *err) {
    task_scorer fn = (task_scorer)self->state;
    if (!in->reference) return errf(err, RLVR_EARG, "%s: the row has no 'reference' (ground_truth)", self->name);
    double r = 0;
    int ok = 0;
    if (fn(in->completion, in->completion_n, in->reference, in->reference_n, &r, &ok))
        return errf(err, RLVR_EARG, "%s: the 'reference' column does not parse", self->name);
    out->reward = r;
    out->correct = ok;
    reward_output_set(out, "acc", ok);
    return RLVR_OK;
}

#define TASK_FN(var, name, fn) \
    static const reward_fn var = {name, task_score, (void *)(fn), NULL}; \
    static int var##_make(const reward_kv *p, int n, reward_fn **out, rlvr_err *err) { return static_make(&var, p, n, out, err); }
TASK_FN(COUNTDOWN_FN, "countdown", countdown_score)
TASK_FN(KK_FN, "kk", kk_score)
TASK_FN(STRFN_FN, "strfn", strfn_score)
TASK_FN(STRFN_PROC_FN, "strfn_process", strfn_process_score)
TASK_FN(CHAIN_FN, "chain", chain_score)
TASK_FN(CHAIN_STEP_FN, "chain_step", chain_step_score)
#undef TASK_FN

/* ---- "auto": the default verifier by data_source ------------------------------------------- */

static int auto_score(const reward_fn *self, const reward_input *in, reward_output *out, rlvr_err *err) {
    const char *ds = in->data_source ? in->data_source : "";
    const reward_fn *f = &MATH_FN;
    if (strcmp(ds, "arith") == 0) f = &ARITH_FN;
    else if (strcmp(ds, "countdown") == 0) f = &COUNTDOWN_FN;
    else if (strcmp(ds, "kk") == 0) f = &KK_FN;
    else if (strcmp(ds, "strfn") == 0) f = &STRFN_FN;
    else if (strcmp(ds, "chain") == 0) f = &CHAIN_FN;
    else if (strcmp(ds, "ifeval") == 0) f = reward_registry_find("ifeval");
    if (!f) return errf(err, RLVR_EARG, "%s: no verifier for data_source '%s'", self->name, ds);
    return f->score(f, in, out, err);
}

static const reward_fn AUTO_FN = {"auto", auto_score, NULL, NULL};


/* ---- "code": Python run against the reference's test cases in the sandbox (code.h) ---- */

typedef struct code_state {
    code_params cp;    /* cp.python points at python below */
    char python[256];
} code_state;

static int code_reward_score(const reward_fn *self, const reward_input *in, reward_output *out, rlvr_err *err) {
    if (!in->reference) return errf(err, RLVR_EARG, "%s: the row has no 'reference' (test cases)", self->name);
    const code_state *st = self->state; /* NULL: the static default instance */
    code_params cp = st ? st->cp : code_default_params();
    double r = 0;
    int n_pass = 0, n_tests = 0;
    int rc = code_score(&cp, in->completion, in->completion_n, in->reference, in->reference_n, &r, &n_pass, &n_tests, err);
    if (rc == RLVR_EFORMAT) return err_wrap(err, RLVR_EARG, "%s: bad 'reference' column", self->name); /* a row error */
    if (rc) return rc;
    out->reward = r;
    out->correct = n_tests > 0 && n_pass == n_tests;
    reward_output_set(out, "pass_rate", r);
    reward_output_set(out, "tests", n_tests);
    return RLVR_OK;
}

static const reward_fn CODE_FN = {"code", code_reward_score, NULL, NULL};

/* code[isolate=1,timeout=6,cpu=5,memory_mb=512,max_tests=64,stop_on_fail=0,
 *      python=/usr/bin/python3]. Isolation stays the default; isolate=0 is an explicit
 * opt-in, and memory_mb > 0 with isolate=0 is refused (that mode sets no memory limit). */
static int code_make(const reward_kv *p, int n, reward_fn **out, rlvr_err *err) {
    static const char *const allowed[] = {"isolate", "timeout", "cpu", "memory_mb", "max_tests",
                                          "stop_on_fail", "python", NULL};
    int rc = reward_params_check(p, n, "code", allowed, err);
    if (rc) return rc;
    code_state st;
    memset(&st, 0, sizeof st);
    st.cp = code_default_params();
    long isolate, cpu, mem, max_tests, stop;
    double timeout;
    if ((rc = reward_param_int(p, n, "code", "isolate", 1, &isolate, err)) ||
        (rc = reward_param_double(p, n, "code", "timeout", st.cp.sb.wall_s, &timeout, err)) ||
        (rc = reward_param_int(p, n, "code", "memory_mb", st.cp.sb.mem_mb, &mem, err)) ||
        (rc = reward_param_int(p, n, "code", "max_tests", st.cp.max_tests, &max_tests, err)) ||
        (rc = reward_param_int(p, n, "code", "stop_on_fail", 0, &stop, err)) ||
        (rc = reward_param_str(p, n, "code", "python", st.cp.python, st.python, sizeof st.python, err)))
        return rc;
    if (isolate != 0 && isolate != 1) return errf(err, RLVR_ECONFIG, "code: isolate=%ld (0 or 1)", isolate);
    if (!(timeout > 0 && timeout <= 3600))
        return errf(err, RLVR_ECONFIG, "code: timeout=%g (seconds, > 0 and <= 3600)", timeout);
    /* a longer timeout alone should not leave the 5 s CPU limit to end the run first */
    long cpu_def = param_find(p, n, "timeout") ? (long)ceil(timeout) : st.cp.sb.cpu_s;
    if ((rc = reward_param_int(p, n, "code", "cpu", cpu_def, &cpu, err))) return rc;
    if (cpu < 0 || cpu > 3600) return errf(err, RLVR_ECONFIG, "code: cpu=%ld (seconds, 0..3600; 0: no limit)", cpu);
    if (mem < 0 || mem > (1L << 20)) return errf(err, RLVR_ECONFIG, "code: memory_mb=%ld (0..1048576; 0: no limit)", mem);
    if (!isolate && param_find(p, n, "memory_mb") && mem > 0)
        return errf(err, RLVR_ECONFIG, "code: memory_mb=%ld needs isolate=1 (the unisolated mode sets no memory limit)", mem);
    if (max_tests < 1 || max_tests > 100000) return errf(err, RLVR_ECONFIG, "code: max_tests=%ld (1..100000)", max_tests);
    if (stop != 0 && stop != 1) return errf(err, RLVR_ECONFIG, "code: stop_on_fail=%ld (0 or 1)", stop);
    if (st.python[0] != '/') return errf(err, RLVR_ECONFIG, "code: python=%s is not an absolute path", st.python);
    st.cp.sb.isolate = (int)isolate;
    st.cp.sb.wall_s = timeout;
    st.cp.sb.cpu_s = (int)cpu;
    st.cp.sb.mem_mb = isolate ? (int)mem : 0;
    st.cp.max_tests = (int)max_tests;
    st.cp.stop_on_fail = (int)stop;
    reward_fn *f = reward_alloc("code", code_reward_score, sizeof st, NULL);
    if (!f) return errf(err, RLVR_ENOMEM, "code: out of memory");
    code_state *fs = f->state;
    memcpy(fs, &st, sizeof st);
    fs->cp.python = fs->python;
    *out = f;
    return RLVR_OK;
}

static int static_make(const reward_fn *dflt, const reward_kv *p, int n, reward_fn **out, rlvr_err *err) {
    static const char *const none[] = {NULL};
    int rc = reward_params_check(p, n, dflt->name, none, err);
    if (rc) return rc;
    *out = (reward_fn *)dflt; /* static: reward_free leaves it alone (destroy is NULL) */
    return RLVR_OK;
}
static int auto_make(const reward_kv *p, int n, reward_fn **out, rlvr_err *err) {
    return static_make(&AUTO_FN, p, n, out, err);
}

static const reward_entry CORE_REWARDS[] = {
    {"math", "math answer verifier (math.h): correct/wrong reward; params mode=lenient|boxed|latex|expr|mcq, "
             "correct=1, wrong=0, strip_think=1; fields acc, extracted; pred = normalised answer",
     &MATH_FN, math_make},
    {"arith", "arith task outcome: integer after the first '#' == the reference's final; params correct=1, "
              "wrong=0; field acc; pred = that integer",
     &ARITH_FN, arith_make},
    {"arith_process", "arith task step trace (needs 'trace' column): 1 - (wrong+missing+min(extra,N)+[final "
                      "wrong])/N clipped at 0, or process_ok with mode=all; fields process_ok, steps_ok",
     &ARITH_PROC_FN, arith_proc_make},
    {"auto", "verifier by data_source: arith, countdown, kk, strfn, chain -> their checkers, ifeval -> ifeval, anything else -> math", &AUTO_FN,
     auto_make},
    {"countdown", "countdown (TinyZero conventions): equation in <answer>, numbers used exactly once; 1 right, "
                  "0.1 well-formed but wrong, 0 no answer tag; ground_truth \"target=T;nums=a,b,c\"", &COUNTDOWN_FN, COUNTDOWN_FN_make},
    {"kk", "knights and knaves (Logic-RL style): every person's role right in the last <answer>; ground_truth "
           "\"A=knight;B=knave\"", &KK_FN, KK_FN_make},
    {"strfn", "string-function composition: the final string; ground_truth \"x=abc;fns=reverse,upper\"", &STRFN_FN, STRFN_FN_make},
    {"strfn_process", "string-function composition: fraction of intermediate steps written right", &STRFN_PROC_FN, STRFN_PROC_FN_make},
    {"chain", "R-Horizon chain of arith problems: 1 only when every answer is right; ground_truth \"76,228,343\"", &CHAIN_FN, CHAIN_FN_make},
    {"chain_step", "R-Horizon chain: fraction of the chained answers right", &CHAIN_STEP_FN, CHAIN_STEP_FN_make},
    {"code", "Python solution (last ```python block) run on the reference's test cases "
             "([{\"input\",\"output\"}]) in the bubblewrap sandbox; reward = fraction passed; params isolate=1 "
             "(0: unisolated subprocess, trusted code only), timeout=6, cpu=5 (= timeout when that is set), "
             "memory_mb=512, max_tests=64, stop_on_fail=0, python=/usr/bin/python3; fields pass_rate, tests",
     &CODE_FN, code_make},
};

/* ---- registry ----------------------------------------------------------------------------- */

static const reward_entry *entry_at(int i) {
    int nc = (int)(sizeof CORE_REWARDS / sizeof CORE_REWARDS[0]);
    if (i < nc) return &CORE_REWARDS[i];
    i -= nc;
    if (i < shaping_n_rewards) return &shaping_rewards[i];
    i -= shaping_n_rewards;
    if (i < ifeval_n_rewards) return &ifeval_rewards[i];
    return NULL;
}

const reward_entry *reward_registry_entry(const char *name) {
    if (!name) return NULL;
    for (int i = 0;; i++) {
        const reward_entry *e = entry_at(i);
        if (!e) return NULL;
        if (strcmp(e->name, name) == 0) return e;
    }
}

const reward_fn *reward_registry_find(const char *name) {
    const reward_entry *e = reward_registry_entry(name);
    return e ? e->dflt : NULL;
}

int reward_registry_list(const char **names, int cap) {
    int n = 0;
    for (const reward_entry *e; (e = entry_at(n)); n++)
        if (names && n < cap) names[n] = e->name;
    return n;
}

/* ---- composites: sum, gate, route ------------------------------------------------------------ */

enum { COMP_SUM, COMP_GATE, COMP_ROUTE };

#define COMP_MAX_CHILDREN 64
#define COMP_KEY_CAP      64

typedef struct comp_child {
    reward_fn *fn;
    double w;
    char key[COMP_KEY_CAP]; /* route: the data_source ("default" = fallback) */
} comp_child;

typedef struct comp_state {
    int kind, n;
    comp_child c[];
} comp_state;

static void comp_destroy(reward_fn *self) {
    comp_state *st = self->state;
    for (int i = 0; i < st->n; i++) reward_free(st->c[i].fn);
    free(self);
}

/* Copies a child's fields into out after its own reward under its name (first wins). */
static void merge_child(reward_output *out, const reward_fn *child, const reward_output *co) {
    output_add(out, child->name, co->reward);
    for (int k = 0; k < co->n_fields; k++) output_add(out, co->fields[k].name, co->fields[k].value);
    if (!out->pred[0] && co->pred[0]) memcpy(out->pred, co->pred, sizeof out->pred);
}

static int comp_score(const reward_fn *self, const reward_input *in, reward_output *out, rlvr_err *err) {
    const comp_state *st = self->state;
    reward_output co;
    int rc;
    if (st->kind == COMP_ROUTE) {
        const char *ds = in->data_source ? in->data_source : "";
        const comp_child *pick = NULL, *dflt = NULL;
        for (int i = 0; i < st->n && !pick; i++) {
            if (strcmp(st->c[i].key, ds) == 0) pick = &st->c[i];
            if (strcmp(st->c[i].key, "default") == 0) dflt = &st->c[i];
        }
        if (!pick) pick = dflt;
        if (!pick) return errf(err, RLVR_EARG, "route: no route for data_source '%.64s' and no default", ds);
        if ((rc = reward_score(pick->fn, in, out, err))) return err_wrap(err, rc, "route(%s)", pick->key);
        return RLVR_OK;
    }
    if (st->kind == COMP_GATE) {
        reward_output po;
        if ((rc = reward_score(st->c[0].fn, in, &co, err))) return err_wrap(err, rc, "gate outcome");
        if ((rc = reward_score(st->c[1].fn, in, &po, err))) return err_wrap(err, rc, "gate process");
        int open = reward_output_correct(&co);
        *out = co;
        out->reward = co.reward + (open ? po.reward : 0.0);
        output_add(out, "process", po.reward);
        output_add(out, "gate_open", open);
        return RLVR_OK;
    }
    double total = 0;
    for (int i = 0; i < st->n; i++) {
        if ((rc = reward_score(st->c[i].fn, in, &co, err))) return err_wrap(err, rc, "%s", st->c[i].fn->name);
        total += st->c[i].w * co.reward;
        if (out->correct < 0 && co.correct >= 0) out->correct = co.correct;
        merge_child(out, st->c[i].fn, &co);
    }
    out->reward = total;
    return RLVR_OK;
}

static const char *const COMP_NAMES[] = {"sum", "gate", "route"};

/* ---- spec parser -------------------------------------------------------------------------------- */

#define SPEC_MAX_DEPTH 16

typedef struct spec_parser {
    const char *s;
    size_t n, i;
    int depth;
    rlvr_err *err;
} spec_parser;

static int sp_fail(spec_parser *p, size_t at, const char *what) {
    size_t k = at < p->n ? p->n - at : 0;
    if (k > 20) k = 20;
    if (at >= p->n) return errf(p->err, RLVR_ECONFIG, "reward spec: %s at offset %zu (end of spec)", what, at);
    return errf(p->err, RLVR_ECONFIG, "reward spec: %s at offset %zu (near '%.*s')", what, at, (int)k, p->s + at);
}

static void sp_ws(spec_parser *p) {
    while (p->i < p->n && isspace((unsigned char)p->s[p->i])) p->i++;
}

static int sp_peek(spec_parser *p) {
    sp_ws(p);
    return p->i < p->n ? (unsigned char)p->s[p->i] : -1;
}

static int is_name0(int c) { return isalpha(c) || c == '_'; }
static int is_name(int c) { return isalnum(c) || c == '_'; }
static int is_key(int c) { return isalnum(c) || c == '_' || c == '.' || c == '/' || c == '-'; }

/* A bare word of chars accepted by cls; returns its length (0 when none). */
static size_t sp_word(spec_parser *p, int (*cls)(int)) {
    sp_ws(p);
    size_t a = p->i;
    while (p->i < p->n && cls((unsigned char)p->s[p->i])) p->i++;
    return p->i - a;
}

static int sp_number(spec_parser *p, double *v) {
    sp_ws(p);
    size_t a = p->i, i = p->i;
    if (i < p->n && (p->s[i] == '+' || p->s[i] == '-')) i++;
    size_t digits = 0;
    while (i < p->n && isdigit((unsigned char)p->s[i])) i++, digits++;
    if (i < p->n && p->s[i] == '.') {
        i++;
        while (i < p->n && isdigit((unsigned char)p->s[i])) i++, digits++;
    }
    if (!digits) return sp_fail(p, a, "expected a number");
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->n && (p->s[j] == '+' || p->s[j] == '-')) j++;
        if (j < p->n && isdigit((unsigned char)p->s[j])) {
            while (j < p->n && isdigit((unsigned char)p->s[j])) j++;
            i = j;
        }
    }
    char buf[64];
    if (i - a >= sizeof buf) return sp_fail(p, a, "number too long");
    memcpy(buf, p->s + a, i - a);
    buf[i - a] = 0;
    *v = strtod(buf, NULL);
    if (!isfinite(*v)) return sp_fail(p, a, "number out of range");
    p->i = i;
    return RLVR_OK;
}

static int sp_expect(spec_parser *p, int c, const char *what) {
    if (sp_peek(p) != c) return sp_fail(p, p->i, what);
    p->i++;
    return RLVR_OK;
}

static int parse_spec(spec_parser *p, reward_fn **out);

static int make_comp(int kind, comp_child *kids, int n, reward_fn **out, spec_parser *p) {
    reward_fn *f = reward_alloc(COMP_NAMES[kind], comp_score, sizeof(comp_state) + (size_t)n * sizeof(comp_child),
                                comp_destroy);
    if (!f) {
        for (int i = 0; i < n; i++) reward_free(kids[i].fn);
        return errf(p->err, RLVR_ENOMEM, "reward spec: out of memory");
    }
    comp_state *st = f->state;
    st->kind = kind;
    st->n = n;
    memcpy(st->c, kids, (size_t)n * sizeof *kids);
    *out = f;
    return RLVR_OK;
}

/* NAME [ '[' k=v, ... ']' ] with NAME already read at [a, a+len). */
static int parse_named(spec_parser *p, size_t a, size_t len, reward_fn **out) {
    char name[64];
    if (len >= sizeof name) return sp_fail(p, a, "reward name too long");
    memcpy(name, p->s + a, len);
    name[len] = 0;
    const reward_entry *e = reward_registry_entry(name);
    if (!e) {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown reward '%s'", name);
        return sp_fail(p, a, msg);
    }
    reward_kv kv[REWARD_MAX_PARAMS];
    char keys[REWARD_MAX_PARAMS][32];
    int nkv = 0;
    if (sp_peek(p) == '[') {
        p->i++;
        for (;;) {
            if (nkv >= REWARD_MAX_PARAMS) return sp_fail(p, p->i, "too many parameters");
            size_t ka = (sp_ws(p), p->i), kl = sp_word(p, is_name);
            if (!kl) return sp_fail(p, ka, "expected a parameter name");
            if (kl >= sizeof keys[0]) return sp_fail(p, ka, "parameter name too long");
            memcpy(keys[nkv], p->s + ka, kl);
            keys[nkv][kl] = 0;
            for (int j = 0; j < nkv; j++)
                if (strcmp(keys[j], keys[nkv]) == 0) return sp_fail(p, ka, "parameter given twice");
            int rc = sp_expect(p, '=', "expected '='");
            if (rc) return rc;
            sp_ws(p);
            size_t va = p->i;
            while (p->i < p->n && !strchr("],=()[ \t\r\n", p->s[p->i])) p->i++;
            if (p->i == va) return sp_fail(p, va, "expected a parameter value");
            kv[nkv].key = keys[nkv];
            kv[nkv].val = p->s + va;
            kv[nkv].val_n = p->i - va;
            nkv++;
            int c = sp_peek(p);
            if (c == ',') { p->i++; continue; }
            if (c == ']') { p->i++; break; }
            return sp_fail(p, p->i, "expected ',' or ']'");
        }
    }
    if (nkv == 0 && e->dflt) { /* no parameters: the static default instance */
        *out = (reward_fn *)e->dflt;
        return RLVR_OK;
    }
    int rc = e->make(kv, nkv, out, p->err);
    if (rc) {
        *out = NULL;
        return err_wrap(p->err, rc, "reward spec: '%s' at offset %zu", name, a);
    }
    return RLVR_OK;
}

static int parse_factor(spec_parser *p, reward_fn **out) {
    *out = NULL;
    int c = sp_peek(p);
    if (c == '(') {
        p->i++;
        int rc = parse_spec(p, out);
        if (rc) return rc;
        if ((rc = sp_expect(p, ')', "expected ')'"))) {
            reward_free(*out);
            *out = NULL;
        }
        return rc;
    }
    size_t a = p->i;
    if (c < 0 || !is_name0(c)) return sp_fail(p, a, "expected a reward name, 'gate(', 'route(' or '('");
    size_t len = sp_word(p, is_name);
    int is_gate = len == 4 && memcmp(p->s + a, "gate", 4) == 0;
    int is_route = len == 5 && memcmp(p->s + a, "route", 5) == 0;
    if (!(is_gate || is_route) || sp_peek(p) != '(') return parse_named(p, a, len, out);
    p->i++; /* '(' */
    comp_child kids[COMP_MAX_CHILDREN];
    int n = 0, rc = RLVR_OK;
    memset(kids, 0, sizeof kids);
    for (;;) {
        if (n >= COMP_MAX_CHILDREN) { rc = sp_fail(p, p->i, "too many arguments"); break; }
        if (is_route) {
            size_t ka = (sp_ws(p), p->i), kl = sp_word(p, is_key);
            if (!kl) { rc = sp_fail(p, ka, "expected a data_source name"); break; }
            if (kl >= COMP_KEY_CAP) { rc = sp_fail(p, ka, "data_source name too long"); break; }
            memcpy(kids[n].key, p->s + ka, kl);
            int dup = 0;
            for (int j = 0; j < n; j++) dup |= strcmp(kids[j].key, kids[n].key) == 0;
            if (dup) { rc = sp_fail(p, ka, "data_source routed twice"); break; }
            if ((rc = sp_expect(p, '=', "expected '='"))) break;
        }
        if ((rc = parse_spec(p, &kids[n].fn))) break;
        kids[n++].w = 1.0;
        int c2 = sp_peek(p);
        if (c2 == ',') { p->i++; continue; }
        if (c2 == ')') { p->i++; break; }
        rc = sp_fail(p, p->i, "expected ',' or ')'");
        break;
    }
    if (!rc && is_gate && n != 2) rc = sp_fail(p, a, "gate takes exactly 2 arguments (outcome, process)");
    if (rc) {
        for (int i = 0; i < n; i++) reward_free(kids[i].fn);
        return rc;
    }
    return make_comp(is_gate ? COMP_GATE : COMP_ROUTE, kids, n, out, p);
}

static int parse_spec(spec_parser *p, reward_fn **out) {
    *out = NULL;
    if (++p->depth > SPEC_MAX_DEPTH) return sp_fail(p, p->i, "nesting too deep");
    comp_child kids[COMP_MAX_CHILDREN];
    int n = 0, rc = RLVR_OK;
    memset(kids, 0, sizeof kids);
    for (;;) {
        if (n >= COMP_MAX_CHILDREN) { rc = sp_fail(p, p->i, "too many terms"); break; }
        double w = 1.0;
        int pre = 0, c = sp_peek(p);
        if (c >= 0 && (isdigit(c) || c == '.' || c == '+' || c == '-')) {
            if ((rc = sp_number(p, &w))) break;
            if ((rc = sp_expect(p, '*', "expected '*' after a weight"))) break;
            pre = 1;
        }
        if ((rc = parse_factor(p, &kids[n].fn))) break;
        kids[n].w = w;
        n++;
        if (sp_peek(p) == ':') {
            size_t at = p->i++;
            if (pre) { rc = sp_fail(p, at, "weight given twice"); break; }
            if ((rc = sp_number(p, &kids[n - 1].w))) break;
        }
        if (sp_peek(p) == '+') { p->i++; continue; }
        break;
    }
    p->depth--;
    if (rc) {
        for (int i = 0; i < n; i++) reward_free(kids[i].fn);
        return rc;
    }
    if (n == 1 && kids[0].w == 1.0) {
        *out = kids[0].fn;
        return RLVR_OK;
    }
    return make_comp(COMP_SUM, kids, n, out, p);
}

int reward_create(const char *spec, reward_fn **out, rlvr_err *err) {
    if (!out) return errf(err, RLVR_EARG, "reward_create: NULL out");
    *out = NULL;
    if (!spec) return errf(err, RLVR_EARG, "reward_create: NULL spec");
    size_t n = strnlen(spec, REWARD_SPEC_MAX + 1);
    if (n > REWARD_SPEC_MAX) return errf(err, RLVR_ECONFIG, "reward spec: longer than %d bytes", REWARD_SPEC_MAX);
    spec_parser p = {spec, n, 0, 0, err};
    if (sp_peek(&p) < 0) return errf(err, RLVR_ECONFIG, "reward spec: empty");
    reward_fn *f;
    int rc = parse_spec(&p, &f);
    if (rc) return rc;
    if (sp_peek(&p) >= 0) {
        reward_free(f);
        return sp_fail(&p, p.i, "unexpected text after the spec");
    }
    *out = f;
    return RLVR_OK;
}
