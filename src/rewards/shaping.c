/* shaping.c: format and length shaping (shaping.h): pure functions first, then the
 * reward_fn adapters and registry entries. Rewards that need a verdict (cosine_length,
 * length_budget_max, group_length) score a verifier reward ("auto" unless verifier=
 * names another) and read its correctness. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "core/err.h"
#include "rewards/shaping.h"

/* ---- think/answer format ------------------------------------------------------------------ */

enum { TAG_THINK, TAG_THINK_END, TAG_ANSWER, TAG_ANSWER_END, N_TAGS };
static const char *const TAGS[N_TAGS] = {"<think>", "</think>", "<answer>", "</answer>"};

static int ws_only(const char *s, size_t a, size_t b) {
    for (size_t i = a; i < b; i++)
        if (!(s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) return 0;
    return 1;
}

int shaping_think_answer_ok(const char *s, size_t n, int mode, int prefilled) {
    if (!s) n = 0;
    size_t count[N_TAGS] = {0}, at[N_TAGS] = {0}, len[N_TAGS];
    for (int t = 0; t < N_TAGS; t++) len[t] = strlen(TAGS[t]);
    for (const char *p = n ? memchr(s, '<', n) : NULL; p; p = memchr(p + 1, '<', n - (size_t)(p + 1 - s))) {
        size_t i = (size_t)(p - s);
        for (int t = 0; t < N_TAGS; t++)
            if (n - i >= len[t] && memcmp(p, TAGS[t], len[t]) == 0) {
                if (count[t]++ == 0) at[t] = i;
                break;
            }
        if (i + 1 >= n) break;
    }
    if (prefilled) { /* a virtual "<think>" before the text */
        if (count[TAG_THINK]) return 0;
        count[TAG_THINK] = 1;
        at[TAG_THINK] = 0;
        len[TAG_THINK] = 0;
    }
    for (int t = 0; t < N_TAGS; t++)
        if (count[t] != 1) return 0;
    if (!(at[TAG_THINK] + len[TAG_THINK] <= at[TAG_THINK_END] && at[TAG_THINK_END] < at[TAG_ANSWER] &&
          at[TAG_ANSWER] < at[TAG_ANSWER_END]))
        return 0;
    if (mode == SHAPING_FORMAT_LENIENT) return 1;
    return ws_only(s, 0, prefilled ? 0 : at[TAG_THINK]) &&
           ws_only(s, at[TAG_THINK_END] + len[TAG_THINK_END], at[TAG_ANSWER]) &&
           ws_only(s, at[TAG_ANSWER_END] + len[TAG_ANSWER_END], n);
}

/* ---- length formulas ----------------------------------------------------------------------- */

double shaping_overlong(double len, double l_max, double l_cache) {
    if (len > l_max) return -1.0;
    if (!(l_cache > 0)) return 0.0;
    if (l_cache > l_max) l_cache = l_max;
    double start = l_max - l_cache;
    if (len <= start) return 0.0;
    return (start - len) / l_cache;
}

shaping_cosine_params shaping_cosine_default_params(void) {
    shaping_cosine_params p = {2.0, 1.0, -10.0, 0.0, -10.0};
    return p;
}

double shaping_cosine(int correct, double len, double l_max, int truncated, const shaping_cosine_params *p) {
    shaping_cosine_params d = shaping_cosine_default_params();
    if (!p) p = &d;
    double r0 = correct ? p->r0_correct : p->r0_wrong, rl = correct ? p->rl_correct : p->rl_wrong;
    if (!(l_max > 0)) return truncated ? p->r_exceed : r0;
    if (truncated || len >= l_max) return p->r_exceed;
    if (len < 0) len = 0;
    return rl + (r0 - rl) * 0.5 * (1.0 + cos(M_PI * len / l_max));
}

double shaping_budget_exact(double len, double budget, double alpha) { return -alpha * fabs(len - budget); }

double shaping_budget_hinge(double len, double budget, double alpha) {
    return len > budget ? -alpha * (len - budget) : 0.0;
}

double shaping_budget_max(int correct, double len, double budget, double alpha, double delta) {
    if (!correct) return 0.0;
    double v = alpha * (budget - len) + delta;
    return v < 0 ? 0.0 : v > 1 ? 1.0 : v;
}

double shaping_group_length(int correct, double len, double min_len, double max_len) {
    if (!(max_len > min_len)) return 0.0;
    double lambda = 0.5 - (len - min_len) / (max_len - min_len);
    return correct ? lambda : (lambda < 0 ? lambda : 0.0);
}

/* ---- n-gram repetition ------------------------------------------------------------------------ */

#define REP_MAX_NGRAMS ((size_t)1 << 21) /* n-grams examined; the rest of a huge text is ignored */

static int is_uspace(int32_t c) {
    return (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
           c == 0x3000;
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

typedef struct hset {
    uint64_t *slot;
    size_t cap, n; /* cap is a power of two; 0 marks an empty slot */
} hset;

static int hset_add(hset *h, uint64_t k) {
    if (!k) k = 1;
    if ((h->n + 1) * 2 > h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 1024;
        uint64_t *ns = calloc(nc, sizeof *ns);
        if (!ns) return -1;
        for (size_t i = 0; i < h->cap; i++)
            if (h->slot[i]) {
                size_t j = h->slot[i] & (nc - 1);
                while (ns[j]) j = (j + 1) & (nc - 1);
                ns[j] = h->slot[i];
            }
        free(h->slot);
        h->slot = ns;
        h->cap = nc;
    }
    size_t j = k & (h->cap - 1);
    while (h->slot[j]) {
        if (h->slot[j] == k) return 0;
        j = (j + 1) & (h->cap - 1);
    }
    h->slot[j] = k;
    h->n++;
    return 1;
}

int shaping_repetition(const char *s, size_t n, int ngram, double max_penalty, double *out,
                       double *repeated, rlvr_err *err) {
    if (out) *out = 0;
    if (repeated) *repeated = 0;
    if (!out || (!s && n)) return errf(err, RLVR_EARG, "repetition: NULL argument");
    if (ngram < 1 || ngram > 4096) return errf(err, RLVR_EARG, "repetition: ngram %d outside 1..4096", ngram);
    uint64_t *ring = calloc((size_t)ngram, sizeof *ring);
    if (!ring) return errf(err, RLVR_ENOMEM, "repetition: out of memory");
    const uint64_t B = 0x100000001b3ULL; /* odd multiplier of the rolling n-gram hash */
    uint64_t bpow = 1;                   /* B^(ngram-1) */
    for (int k = 1; k < ngram; k++) bpow *= B;
    hset h = {0};
    size_t words = 0, total = 0, i = 0;
    uint64_t roll = 0;
    int rc = RLVR_OK;
    while (i < n && total < REP_MAX_NGRAMS) {
        /* skip whitespace, then hash one word */
        size_t k;
        int32_t c = reward_utf8_next(s + i, n - i, &k);
        if (is_uspace(c)) { i += k; continue; }
        uint64_t wh = 0xcbf29ce484222325ULL;
        while (i < n) {
            c = reward_utf8_next(s + i, n - i, &k);
            if (is_uspace(c)) break;
            uint32_t lc = c < 0x80 ? (uint32_t)(c >= 'A' && c <= 'Z' ? c + 32 : c) : (uint32_t)utf8proc_tolower(c);
            wh = (wh ^ lc) * 0x100000001b3ULL;
            i += k;
        }
        wh = mix64(wh);
        size_t slot = words % (size_t)ngram;
        roll = (roll - ring[slot] * bpow) * B + wh; /* ring[slot] is the word leaving the window */
        ring[slot] = wh;
        words++;
        if (words >= (size_t)ngram) {
            if (hset_add(&h, mix64(roll)) < 0) { rc = errf(err, RLVR_ENOMEM, "repetition: out of memory"); break; }
            total++;
        }
    }
    if (!rc && total) {
        double rep = 1.0 - (double)h.n / (double)total;
        *out = max_penalty * rep;
        if (repeated) *repeated = rep;
    }
    free(h.slot);
    free(ring);
    return rc;
}

/* ---- reward adapters ------------------------------------------------------------------------------ */

enum { SH_FORMAT, SH_OVERLONG, SH_COSINE, SH_BUDGET, SH_BUDGET_MAX, SH_GROUP_LENGTH, SH_REPETITION };
enum { BUDGET_EXACT, BUDGET_HINGE };

typedef struct shape_state {
    int kind;
    int mode;          /* format: SHAPING_FORMAT_*; budget: BUDGET_* */
    int prefilled;     /* format */
    double ok, bad;    /* format: reward when the format holds / does not */
    double l_max;      /* overlong, cosine: <= 0 means the input's max_tokens */
    double l_cache;    /* overlong: < 0 means l_max / 5 */
    double factor;     /* overlong: multiplies the punishment */
    shaping_cosine_params cos;
    double alpha, delta, budget; /* budget: budget < 0 reads the budget_key column */
    char budget_key[32];
    int ngram;
    double max_penalty;
    reward_fn *verifier; /* owned; NULL: the "auto" verifier */
} shape_state;

static void shape_destroy(reward_fn *self) {
    shape_state *st = self->state;
    reward_free(st->verifier);
    free(self);
}

/* Scores the verifier into *vo; returns its status. */
static int shape_verdict(const shape_state *st, const reward_input *in, reward_output *vo, rlvr_err *err) {
    const reward_fn *v = st->verifier ? st->verifier : reward_registry_find("auto");
    if (!v) return errf(err, RLVR_EARG, "no verifier");
    int rc = reward_score(v, in, vo, err);
    return rc ? err_wrap(err, rc, "verifier %s", v->name) : RLVR_OK;
}

static int resolve_lmax(const shape_state *st, const reward_input *in, const char *who, double *l_max,
                        rlvr_err *err) {
    *l_max = st->l_max > 0 ? st->l_max : (double)in->max_tokens;
    if (!(*l_max > 0)) return errf(err, RLVR_EARG, "%s: no l_max (set l_max= or the input's max_tokens)", who);
    return RLVR_OK;
}

static int resolve_budget(const shape_state *st, const reward_input *in, const char *who, double *budget,
                          rlvr_err *err) {
    if (st->budget >= 0) { *budget = st->budget; return RLVR_OK; }
    size_t n;
    const char *v = reward_extra_get(in, st->budget_key, &n);
    char buf[64];
    if (!v || n == 0 || n >= sizeof buf)
        return errf(err, RLVR_EARG, "%s: no budget (parameter budget= or a '%s' column)", who, st->budget_key);
    memcpy(buf, v, n);
    buf[n] = 0;
    char *end;
    double b = strtod(buf, &end);
    while (*end == ' ') end++;
    if (*end || !isfinite(b) || b < 0)
        return errf(err, RLVR_EARG, "%s: column '%s' = '%s' is not a budget", who, st->budget_key, buf);
    *budget = b;
    return RLVR_OK;
}

static int shape_score(const reward_fn *self, const reward_input *in, reward_output *out, rlvr_err *err) {
    const shape_state *st = self->state;
    double len = reward_length(in), l_max, budget;
    reward_output vo;
    int rc, correct;
    switch (st->kind) {
    case SH_FORMAT: {
        int ok = shaping_think_answer_ok(in->completion, in->completion_n, st->mode, st->prefilled);
        out->reward = ok ? st->ok : st->bad;
        reward_output_set(out, "format_ok", ok);
        return RLVR_OK;
    }
    case SH_OVERLONG:
        if ((rc = resolve_lmax(st, in, self->name, &l_max, err))) return rc;
        {
            double cache = st->l_cache >= 0 ? st->l_cache : l_max / 5;
            out->reward = st->factor * shaping_overlong(len, l_max, cache);
        }
        reward_output_set(out, "len", len);
        return RLVR_OK;
    case SH_COSINE:
        if ((rc = resolve_lmax(st, in, self->name, &l_max, err))) return rc;
        if ((rc = shape_verdict(st, in, &vo, err))) return rc;
        correct = reward_output_correct(&vo);
        out->reward = shaping_cosine(correct, len, l_max, in->finish == REWARD_FINISH_LENGTH, &st->cos);
        break;
    case SH_BUDGET:
        if ((rc = resolve_budget(st, in, self->name, &budget, err))) return rc;
        out->reward = st->mode == BUDGET_HINGE ? shaping_budget_hinge(len, budget, st->alpha)
                                               : shaping_budget_exact(len, budget, st->alpha);
        reward_output_set(out, "len", len);
        return RLVR_OK;
    case SH_BUDGET_MAX:
        if ((rc = resolve_budget(st, in, self->name, &budget, err))) return rc;
        if ((rc = shape_verdict(st, in, &vo, err))) return rc;
        correct = reward_output_correct(&vo);
        out->reward = shaping_budget_max(correct, len, budget, st->alpha, st->delta);
        break;
    case SH_GROUP_LENGTH: {
        if ((rc = shape_verdict(st, in, &vo, err))) return rc;
        correct = reward_output_correct(&vo);
        double lo = len, hi = len;
        const reward_group *g = in->group;
        for (int i = 0; g && i < g->n; i++) {
            double l = g->n_tokens && g->n_tokens[i] >= 0 ? (double)g->n_tokens[i] : (double)g->lens[i];
            if (i == g->self) l = len;
            if (l < lo) lo = l;
            if (l > hi) hi = l;
        }
        out->reward = shaping_group_length(correct, len, lo, hi);
        break;
    }
    case SH_REPETITION: {
        double rep;
        rc = shaping_repetition(in->completion, in->completion_n, st->ngram, st->max_penalty, &out->reward,
                                &rep, err);
        if (rc) return rc;
        reward_output_set(out, "repeated", rep);
        return RLVR_OK;
    }
    default:
        return errf(err, RLVR_EARG, "%s: bad state", self->name);
    }
    /* the verdict-based ones */
    out->correct = correct;
    reward_output_set(out, "acc", correct);
    reward_output_set(out, "len", len);
    memcpy(out->pred, vo.pred, sizeof out->pred);
    return RLVR_OK;
}

/* ---- defaults, constructors, registry ---------------------------------------------------------------- */

#define COS_DEFAULT {2.0, 1.0, -10.0, 0.0, -10.0}

static const shape_state FORMAT_STRICT = {.kind = SH_FORMAT, .mode = SHAPING_FORMAT_STRICT, .ok = 1, .bad = 0};
static const shape_state FORMAT_LENIENT = {.kind = SH_FORMAT, .mode = SHAPING_FORMAT_LENIENT, .ok = 1, .bad = 0};
static const shape_state OVERLONG = {.kind = SH_OVERLONG, .l_max = 0, .l_cache = -1, .factor = 1};
static const shape_state COSINE = {.kind = SH_COSINE, .l_max = 0, .cos = COS_DEFAULT};
static const shape_state BUDGET = {.kind = SH_BUDGET, .mode = BUDGET_EXACT, .alpha = 0.0003, .budget = -1,
                                   .budget_key = "budget"};
static const shape_state BUDGET_MAX = {.kind = SH_BUDGET_MAX, .alpha = 0.0003, .delta = 0.5, .budget = -1,
                                       .budget_key = "budget"};
static const shape_state GROUP_LENGTH = {.kind = SH_GROUP_LENGTH};
static const shape_state REPETITION = {.kind = SH_REPETITION, .ngram = 3, .max_penalty = -1.0};

static const reward_fn FORMAT_STRICT_FN = {"format_think_answer", shape_score, (void *)&FORMAT_STRICT, NULL};
static const reward_fn FORMAT_LENIENT_FN = {"format_think_answer_lenient", shape_score, (void *)&FORMAT_LENIENT, NULL};
static const reward_fn OVERLONG_FN = {"overlong", shape_score, (void *)&OVERLONG, NULL};
static const reward_fn COSINE_FN = {"cosine_length", shape_score, (void *)&COSINE, NULL};
static const reward_fn BUDGET_FN = {"length_budget", shape_score, (void *)&BUDGET, NULL};
static const reward_fn BUDGET_MAX_FN = {"length_budget_max", shape_score, (void *)&BUDGET_MAX, NULL};
static const reward_fn GROUP_LENGTH_FN = {"group_length", shape_score, (void *)&GROUP_LENGTH, NULL};
static const reward_fn REPETITION_FN = {"repetition", shape_score, (void *)&REPETITION, NULL};

/* Builds a heap copy of dflt's state with the parameters applied. */
static int shape_make(const reward_fn *dflt, const char *const *allowed, const reward_kv *p, int n,
                      reward_fn **out, rlvr_err *err) {
    const char *who = dflt->name;
    int rc = reward_params_check(p, n, who, allowed, err);
    if (rc) return rc;
    const shape_state *dflt_st = dflt->state;
    shape_state st = *dflt_st;
    char mode[16], verifier[64];
    long prefilled = st.prefilled, ngram = st.ngram;
    if ((rc = reward_param_double(p, n, who, "ok", st.ok, &st.ok, err)) ||
        (rc = reward_param_double(p, n, who, "bad", st.bad, &st.bad, err)) ||
        (rc = reward_param_int(p, n, who, "prefilled", prefilled, &prefilled, err)) ||
        (rc = reward_param_double(p, n, who, "l_max", st.l_max, &st.l_max, err)) ||
        (rc = reward_param_double(p, n, who, "l_cache", st.l_cache, &st.l_cache, err)) ||
        (rc = reward_param_double(p, n, who, "factor", st.factor, &st.factor, err)) ||
        (rc = reward_param_double(p, n, who, "r0_correct", st.cos.r0_correct, &st.cos.r0_correct, err)) ||
        (rc = reward_param_double(p, n, who, "rl_correct", st.cos.rl_correct, &st.cos.rl_correct, err)) ||
        (rc = reward_param_double(p, n, who, "r0_wrong", st.cos.r0_wrong, &st.cos.r0_wrong, err)) ||
        (rc = reward_param_double(p, n, who, "rl_wrong", st.cos.rl_wrong, &st.cos.rl_wrong, err)) ||
        (rc = reward_param_double(p, n, who, "r_exceed", st.cos.r_exceed, &st.cos.r_exceed, err)) ||
        (rc = reward_param_double(p, n, who, "alpha", st.alpha, &st.alpha, err)) ||
        (rc = reward_param_double(p, n, who, "delta", st.delta, &st.delta, err)) ||
        (rc = reward_param_double(p, n, who, "budget", st.budget, &st.budget, err)) ||
        (rc = reward_param_str(p, n, who, "budget_key", dflt_st->budget_key, st.budget_key, sizeof st.budget_key, err)) ||
        (rc = reward_param_int(p, n, who, "ngram", ngram, &ngram, err)) ||
        (rc = reward_param_double(p, n, who, "max_penalty", st.max_penalty, &st.max_penalty, err)) ||
        (rc = reward_param_str(p, n, who, "mode", st.mode == BUDGET_HINGE ? "hinge" : "exact", mode, sizeof mode, err)) ||
        (rc = reward_param_str(p, n, who, "verifier", "auto", verifier, sizeof verifier, err)))
        return rc;
    st.prefilled = prefilled != 0;
    if (st.kind == SH_BUDGET) {
        if (strcmp(mode, "exact") == 0) st.mode = BUDGET_EXACT;
        else if (strcmp(mode, "hinge") == 0) st.mode = BUDGET_HINGE;
        else return errf(err, RLVR_ECONFIG, "%s: mode=%s (exact, hinge)", who, mode);
    }
    if (st.kind == SH_REPETITION) {
        if (ngram < 1 || ngram > 4096) return errf(err, RLVR_ECONFIG, "%s: ngram=%ld outside 1..4096", who, ngram);
        if (st.max_penalty > 0) return errf(err, RLVR_ECONFIG, "%s: max_penalty=%g must be <= 0", who, st.max_penalty);
        st.ngram = (int)ngram;
    }
    if (st.kind == SH_OVERLONG && st.l_max > 0 && st.l_cache > st.l_max)
        return errf(err, RLVR_ECONFIG, "%s: l_cache=%g exceeds l_max=%g", who, st.l_cache, st.l_max);
    if (st.alpha < 0) return errf(err, RLVR_ECONFIG, "%s: alpha=%g must be >= 0", who, st.alpha);
    st.verifier = NULL;
    if (strcmp(verifier, "auto") != 0) {
        if (strcmp(verifier, who) == 0) return errf(err, RLVR_ECONFIG, "%s: verifier=%s names itself", who, verifier);
        if ((rc = reward_create(verifier, &st.verifier, err))) return err_wrap(err, rc, "%s: verifier", who);
    }
    reward_fn *f = reward_alloc(who, shape_score, sizeof st, shape_destroy);
    if (!f) {
        reward_free(st.verifier);
        return errf(err, RLVR_ENOMEM, "%s: out of memory", who);
    }
    memcpy(f->state, &st, sizeof st);
    *out = f;
    return RLVR_OK;
}

#define MAKER(fname, DFLT, ...)                                                             \
    static int fname(const reward_kv *p, int n, reward_fn **out, rlvr_err *err) {           \
        static const char *const allowed[] = {__VA_ARGS__, NULL};                           \
        return shape_make(&DFLT, allowed, p, n, out, err);                                   \
    }
MAKER(make_format, FORMAT_STRICT_FN, "ok", "bad", "prefilled")
MAKER(make_format_lenient, FORMAT_LENIENT_FN, "ok", "bad", "prefilled")
MAKER(make_overlong, OVERLONG_FN, "l_max", "l_cache", "factor")
MAKER(make_cosine, COSINE_FN, "l_max", "r0_correct", "rl_correct", "r0_wrong", "rl_wrong", "r_exceed", "verifier")
MAKER(make_budget, BUDGET_FN, "mode", "alpha", "budget", "budget_key")
MAKER(make_budget_max, BUDGET_MAX_FN, "alpha", "delta", "budget", "budget_key", "verifier")
MAKER(make_group_length, GROUP_LENGTH_FN, "verifier")
MAKER(make_repetition, REPETITION_FN, "ngram", "max_penalty")

const reward_entry shaping_rewards[] = {
    {"format_think_answer", "strict '<think>..</think> <answer>..</answer>' (whitespace around only): ok=1 else "
                            "bad=0; prefilled=0 (1: prompt ended with <think>); field format_ok",
     &FORMAT_STRICT_FN, make_format},
    {"format_think_answer_lenient", "each of <think> </think> <answer> </answer> exactly once, in order: ok=1 "
                                    "else bad=0; prefilled=0; field format_ok",
     &FORMAT_LENIENT_FN, make_format_lenient},
    {"overlong", "DAPO soft overlong punishment: 0 up to l_max-l_cache, linear to -1 at l_max, -1 beyond, "
                 "times factor; l_max=max_tokens, l_cache=l_max/5, factor=1; field len",
     &OVERLONG_FN, make_overlong},
    {"cosine_length", "Demystifying cosine length reward from a verifier's verdict: r0_correct=2, rl_correct=1, "
                      "r0_wrong=-10, rl_wrong=0, r_exceed=-10 (truncated or len>=l_max), l_max=max_tokens, "
                      "verifier=auto; fields acc, len",
     &COSINE_FN, make_cosine},
    {"length_budget", "L1 length penalty: mode=exact -alpha*|len-budget|, mode=hinge -alpha*max(0,len-budget); "
                      "alpha=0.0003, budget from param or the budget_key=budget column; field len",
     &BUDGET_FN, make_budget},
    {"length_budget_max", "L1-Max: correct*clip(alpha*(budget-len)+delta,0,1); alpha=0.0003, delta=0.5, budget "
                          "as length_budget, verifier=auto; fields acc, len",
     &BUDGET_MAX_FN, make_budget_max},
    {"group_length", "Kimi 1.5 group length reward: lambda=0.5-(len-min)/(max-min) over the group; correct: "
                     "lambda, wrong: min(0,lambda); verifier=auto; fields acc, len",
     &GROUP_LENGTH_FN, make_group_length},
    {"repetition", "n-gram repetition penalty over lower-cased whitespace words: max_penalty*(1-distinct/total); "
                   "ngram=3, max_penalty=-1; field repeated",
     &REPETITION_FN, make_repetition},
};
const int shaping_n_rewards = (int)(sizeof shaping_rewards / sizeof shaping_rewards[0]);
