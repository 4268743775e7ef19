/* kvcache.c: the decoder's key/value cache and the attention that reads it (decode
 * steps and chunked prefill). Layout and contract in kernels.h: per (slot, kv head)
 * a block of L positions, keys in d-major tiles of KV_TILE positions, values
 * row-major.
 *
 * Work: one task per (kv head, chunk of up to CHUNK tokens that share a prompt
 * prefix). A task's rows are its (token, query head) pairs for that kv head. The
 * shared prefix is read once for all of them, up to RB rows per load (as a small
 * GEMM would), then each token reads its own positions, where all its query heads
 * share each load. Decode attention is bound by loads, not FMAs (a key line feeds
 * only the heads that share it), so rows per load is what sets its speed.
 *
 * Bits: every score is the in-order FMA chain over d of q.k, then times the scale;
 * every output element is the in-order FMA chain over positions of p_j * v_j (the
 * prefix part is stored and the chain resumes from it); the softmax max and sum run
 * in KV_TILE lanes over positions in order, then a fixed tree. None of this depends
 * on which slot a tile is read from, on the chunking, on the thread count or on the
 * other tokens of the step. Not used by training (attention_forward is). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include "kernels/kernels.h"
#include "kernels/team.h"
#include "kernels/vexp.h"

#define TILE KV_TILE /* 16: one AVX-512 vector of positions */
#define RB 6         /* rows per load: 6 rows x 4 vectors = 24 accumulators */
#define TB 4         /* key tiles per score block */
#define CHUNK 8      /* tokens per task at most */
#define AI static inline __attribute__((always_inline))

/* per-thread scratch (team.h): slot 0 scores, slot 1 the chunk list */
#define kv_scratch(which, n) team_scratch(which, n)

void kvcache_store(float *kc, float *vc, const float *k, const float *v, const int *slot, const int *pos, int N, int KV, int D, int L) {
    int KD = KV * D;
    for (int n = 0; n < N; n++)
        for (int kh = 0; kh < KV; kh++) {
            size_t blk = ((size_t)slot[n] * KV + kh) * L;
            int p = pos[n];
            float *kt = kc + (blk + (size_t)(p / TILE) * TILE) * D + p % TILE;
            const float *kn = k + (size_t)n * KD + (size_t)kh * D;
            for (int d = 0; d < D; d++) kt[(size_t)d * TILE] = kn[d];
            memcpy(vc + (blk + p) * D, v + (size_t)n * KD + (size_t)kh * D, sizeof(float) * D);
        }
}

/* ---- software prefetch of a task's own keys and values ----
 * Each token's own positions start new pages, where the hardware prefetcher starts
 * cold; their lines are issued a few at a time between the task's loads. */
typedef struct {
    const char *p[2 * CHUNK];
    size_t n[2 * CHUNK];
    int cur, nr, per;
} pf_stream;

static inline void pf_some(pf_stream *ps, int units) {
#if defined(__AVX512F__) && !defined(KV_NO_PREFETCH)
    long lines = (long)units * ps->per;
    while (lines > 0 && ps->cur < ps->nr) {
        if (!ps->n[ps->cur]) { ps->cur++; continue; }
        _mm_prefetch(ps->p[ps->cur], _MM_HINT_T1);
        ps->p[ps->cur] += 64, ps->n[ps->cur]--, lines--;
    }
#else
    (void)ps, (void)units;
#endif
}

/* ---- scores: S_r[t*TILE + l] = scale * (q_r . key at lane l of tile t) ---- */

#if defined(__AVX512F__)
/* nr rows against tb tiles (tile t at kt + t*TILE*D), in-order chains over d */
AI void score_blk(const int nr, const int tb, const float *const *q, int D, const float *kt, float scale, float *const *S, int t0) {
    __m512 acc[RB][TB];
    for (int r = 0; r < nr; r++)
        for (int t = 0; t < tb; t++) acc[r][t] = _mm512_setzero_ps();
    for (int d = 0; d < D; d++) {
        __m512 kv[TB];
        for (int t = 0; t < tb; t++) {
            kv[t] = _mm512_loadu_ps(kt + (size_t)t * TILE * D + (size_t)d * TILE);
            __asm__("" : "+v"(kv[t])); /* keep it in a register: one load for all rows */
        }
        for (int r = 0; r < nr; r++) {
            __m512 qb = _mm512_set1_ps(q[r][d]);
            for (int t = 0; t < tb; t++) acc[r][t] = _mm512_fmadd_ps(qb, kv[t], acc[r][t]);
        }
    }
    __m512 sc = _mm512_set1_ps(scale);
    for (int r = 0; r < nr; r++)
        for (int t = 0; t < tb; t++) _mm512_storeu_ps(S[r] + (size_t)(t0 + t) * TILE, _mm512_mul_ps(acc[r][t], sc));
}
#define SCORE_TB(nr, tb) \
    case tb: score_blk(nr, tb, q, D, kt, scale, S, t); break;
#define SCORE_NR(nr)                                                                        \
    case nr:                                                                                \
        switch (tb) { SCORE_TB(nr, 1) SCORE_TB(nr, 2) SCORE_TB(nr, 3) default: SCORE_TB(nr, 4) } \
        break;
#endif

/* rows q[0..nr) (nr <= RB) against tiles [t_lo, t_hi) of the block at kb */
static void score_rows(int nr, const float *const *q, int D, const float *kb, int t_lo, int t_hi, float scale, float *const *S, pf_stream *ps) {
    for (int t = t_lo; t < t_hi; t += TB) {
        int tb = t_hi - t < TB ? t_hi - t : TB;
        const float *kt = kb + (size_t)t * TILE * D;
        pf_some(ps, tb);
#if defined(__AVX512F__)
        switch (nr) { SCORE_NR(1) SCORE_NR(2) SCORE_NR(3) SCORE_NR(4) SCORE_NR(5) default: SCORE_NR(6) }
#else
        for (int r = 0; r < nr; r++)
            for (int u = 0; u < tb; u++)
                for (int l = 0; l < TILE; l++) {
                    float acc = 0;
                    for (int d = 0; d < D; d++) acc = fmaf(q[r][d], kt[(size_t)u * TILE * D + (size_t)d * TILE + l], acc);
                    S[r][(size_t)(t + u) * TILE + l] = acc * scale;
                }
#endif
    }
}

/* s[0..nk) <- softmax(s): max and sum in TILE lanes over positions, then a fixed tree */
static void softmax_row(float *s, int nk) {
    float m[TILE], a[TILE];
    int full = nk / TILE * TILE;
    for (int l = 0; l < TILE; l++) m[l] = -INFINITY, a[l] = 0;
    for (int j = 0; j < full; j += TILE)
        for (int l = 0; l < TILE; l++) m[l] = s[j + l] > m[l] ? s[j + l] : m[l];
    for (int l = 0; l < nk - full; l++) m[l] = s[full + l] > m[l] ? s[full + l] : m[l];
    float mx = m[0];
    for (int l = 1; l < TILE; l++) mx = m[l] > mx ? m[l] : mx;
    for (int j = 0; j < nk; j++) s[j] = vexpf(s[j] - mx);
    for (int j = 0; j < full; j += TILE)
        for (int l = 0; l < TILE; l++) a[l] += s[j + l];
    for (int l = 0; l < nk - full; l++) a[l] += s[full + l];
    for (int w = TILE / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) a[l] += a[l + w];
    float inv = 1.0f / a[0];
    for (int j = 0; j < nk; j++) s[j] *= inv;
}

/* ---- values: O_r[d] (+)= sum_{j in [j0, j1)} P_r[j] * v_j[d], j in order ---- */

#if defined(__AVX512F__)
/* nr rows, nv vectors of d from d0 (the last masked); init: resume the chains from O */
AI void pv_blk(const int nr, const int nv, const float *const *P, const float *vb, int j0, int j1, int D, int d0, __mmask16 mask,
               float *const *O, int init, pf_stream *ps) {
    __m512 acc[RB][4];
    for (int r = 0; r < nr; r++)
        for (int c = 0; c < nv; c++) {
            const float *src = O[r] + d0 + c * 16;
            acc[r][c] = !init ? _mm512_setzero_ps() : c == nv - 1 ? _mm512_maskz_loadu_ps(mask, src) : _mm512_loadu_ps(src);
        }
    for (int j = j0; j < j1; j++) {
        const float *vr = vb + (size_t)j * D + d0;
        if ((j & 15) == 0) pf_some(ps, 1);
        __m512 x[4];
        for (int c = 0; c < nv; c++) {
            x[c] = c == nv - 1 ? _mm512_maskz_loadu_ps(mask, vr + c * 16) : _mm512_loadu_ps(vr + c * 16);
            __asm__("" : "+v"(x[c])); /* one load for all rows */
        }
        for (int r = 0; r < nr; r++) {
            __m512 pb = _mm512_set1_ps(P[r][j]);
            for (int c = 0; c < nv; c++) acc[r][c] = _mm512_fmadd_ps(pb, x[c], acc[r][c]);
        }
    }
    for (int r = 0; r < nr; r++)
        for (int c = 0; c < nv; c++) {
            float *dst = O[r] + d0 + c * 16;
            if (c == nv - 1) _mm512_mask_storeu_ps(dst, mask, acc[r][c]);
            else _mm512_storeu_ps(dst, acc[r][c]);
        }
}
#define PV_NV(nr, nv) \
    case nv: pv_blk(nr, nv, P, vb, j0, j1, D, d0, mask, O, init, ps); break;
#define PV_NR(nr)                                                                  \
    case nr:                                                                       \
        switch (nv) { PV_NV(nr, 1) PV_NV(nr, 2) PV_NV(nr, 3) default: PV_NV(nr, 4) } \
        break;
#endif

/* rows P[0..nr) (nr <= RB) against value rows [j0, j1) of the block at vb into O */
static void pv_rows(int nr, const float *const *P, const float *vb, int j0, int j1, int D, float *const *O, int init, pf_stream *ps) {
#if defined(__AVX512F__)
    for (int d0 = 0; d0 < D; d0 += 64) {
        int w = D - d0 < 64 ? D - d0 : 64, nv = (w + 15) / 16, last = w - (nv - 1) * 16;
        __mmask16 mask = (__mmask16)(last == 16 ? 0xFFFF : (1u << last) - 1);
        switch (nr) { PV_NR(1) PV_NR(2) PV_NR(3) PV_NR(4) PV_NR(5) default: PV_NR(6) }
    }
#else
    (void)ps;
    for (int r = 0; r < nr; r++)
        for (int d = 0; d < D; d++) {
            float acc = init ? O[r][d] : 0.0f;
            for (int j = j0; j < j1; j++) acc = fmaf(P[r][j], vb[(size_t)j * D + d], acc);
            O[r][d] = acc;
        }
#endif
}

/* ---- tasks ---- */

typedef struct {
    const float *q, *kc, *vc;
    float *out;
    const int *slot, *pos, *order;
    int H, KV, D, L, grp;
    float scale;
    ptrdiff_t ls; /* floats per score row */
} att_ctx;

/* Tokens order[first..first+cnt) for kv head kh; they share the first pre_tiles tiles
 * (all of them in slot pre_slot). S: scratch for cnt * grp score rows. */
static void att_task(const att_ctx *a, int kh, int first, int cnt, int pre_slot, int pre_tiles, float *S) {
    int D = a->D, HD = a->H * a->D, grp = a->grp, R = cnt * grp;
    size_t blk = (size_t)a->L * D; /* floats per (slot, kv head) block */
    const float *qr[RB];
    float *sr[RB], *orow[RB];
    int n[CHUNK];
    for (int m = 0; m < cnt; m++) n[m] = a->order ? a->order[first + m] : first + m;
    int npre = pre_tiles * TILE; /* < every token's nk (pre_len <= its position) */
    /* prefetch: every token's own lines, spread over the task's blocks */
    pf_stream ps = {.cur = 0, .nr = 0, .per = 0};
    long lines = 0, units = (long)pre_tiles * ((R + RB - 1) / RB) + (long)npre / 16 * ((R + RB - 1) / RB);
    for (int kv = 0; kv < 2; kv++) /* keys of every token first, then values: the order they are read */
        for (int m = 0; m < cnt; m++) {
            int nk = a->pos[n[m]] + 1, nt = (nk + TILE - 1) / TILE;
            size_t own = ((size_t)a->slot[n[m]] * a->KV + kh) * blk;
            if (kv == 0) {
                ps.p[ps.nr] = (const char *)(a->kc + own + (size_t)npre * D), ps.n[ps.nr] = (size_t)(nt - pre_tiles) * TILE * D * 4 / 64;
                units += (long)(nt - pre_tiles) * ((grp + RB - 1) / RB) + (nk - npre) / 16 * ((grp + RB - 1) / RB);
            } else {
                ps.p[ps.nr] = (const char *)(a->vc + own + (size_t)npre * D), ps.n[ps.nr] = ((size_t)(nk - npre) * D * 4 + 63) / 64;
            }
            lines += (long)ps.n[ps.nr++];
        }
    if (pre_tiles == 0) { /* nothing to overlap the first token's lines with */
        ps.per = 1 << 20;
        pf_some(&ps, 2);
    }
    ps.per = (int)(lines / (units > 0 ? units : 1)) + 1;
    /* rows in blocks of RB: row i is (token i / grp, head kh*grp + i % grp) */
#define ROWS(i0, nr)                                                                      \
    for (int u = 0; u < (nr); u++) {                                                      \
        int i = (i0) + u, m = i / grp, h = kh * grp + i % grp;                            \
        qr[u] = a->q + (size_t)n[m] * HD + (size_t)h * D;                                 \
        sr[u] = S + (size_t)i * a->ls;                                                    \
        orow[u] = a->out + (size_t)n[m] * HD + (size_t)h * D;                             \
    }
    const float *kpre = a->kc + ((size_t)pre_slot * a->KV + kh) * blk, *vpre = a->vc + ((size_t)pre_slot * a->KV + kh) * blk;
    /* scores: the shared prefix for all rows, then each token's own tiles */
    for (int i0 = 0; pre_tiles && i0 < R; i0 += RB) {
        int nr = R - i0 < RB ? R - i0 : RB;
        ROWS(i0, nr)
        score_rows(nr, qr, D, kpre, 0, pre_tiles, a->scale, sr, &ps);
    }
    for (int m = 0; m < cnt; m++) {
        int nk = a->pos[n[m]] + 1, nt = (nk + TILE - 1) / TILE;
        const float *kown = a->kc + ((size_t)a->slot[n[m]] * a->KV + kh) * blk;
        for (int g0 = 0; g0 < grp; g0 += RB) {
            int nr = grp - g0 < RB ? grp - g0 : RB;
            ROWS(m * grp + g0, nr)
            score_rows(nr, qr, D, kown, pre_tiles, nt, a->scale, sr, &ps);
        }
        for (int g = 0; g < grp; g++) softmax_row(S + (size_t)(m * grp + g) * a->ls, nk);
    }
    /* values: the shared prefix for all rows, then each token's own rows, resuming */
    for (int i0 = 0; npre && i0 < R; i0 += RB) {
        int nr = R - i0 < RB ? R - i0 : RB;
        ROWS(i0, nr)
        pv_rows(nr, (const float *const *)sr, vpre, 0, npre, D, orow, 0, &ps);
    }
    for (int m = 0; m < cnt; m++) {
        int nk = a->pos[n[m]] + 1;
        const float *vown = a->vc + ((size_t)a->slot[n[m]] * a->KV + kh) * blk;
        for (int g0 = 0; g0 < grp; g0 += RB) {
            int nr = grp - g0 < RB ? grp - g0 : RB;
            ROWS(m * grp + g0, nr)
            pv_rows(nr, (const float *const *)sr, vown, npre, nk, D, orow, npre > 0, &ps);
        }
    }
#undef ROWS
}

int attention_kvcache_plan(int *plan, const int *order, const int *pre_slot, const int *pre_len, const int *pos, int N) {
    /* runs of up to CHUNK tokens in `order` with the same prefix slot and tile count
     * (tokens with no shared tile are chunks of one): starts in plan[0..nc], tile
     * counts in plan[N+1..] */
    int nc = 0, *tiles = plan + N + 1;
    for (int i = 0; i < N;) {
        int n0 = order ? order[i] : i, pt = pre_len ? pre_len[n0] / TILE : 0, j = i + 1;
        if (pt > (pos[n0] + 1) / TILE) pt = (pos[n0] + 1) / TILE;
        if (pt > 0)
            while (j < N && j - i < CHUNK) {
                int n1 = order ? order[j] : j, p1 = pre_len[n1] / TILE;
                if (p1 > (pos[n1] + 1) / TILE) p1 = (pos[n1] + 1) / TILE;
                if (pre_slot[n1] != pre_slot[n0] || p1 != pt) break;
                j++;
            }
        plan[nc] = i, tiles[nc++] = pt;
        i = j;
    }
    plan[nc] = N;
    return nc;
}

void attention_kvcache_run(float *out, const float *q, const float *kc, const float *vc, const int *slot, const int *pos, const int *pre_slot,
                           const int *order, int N, int H, int KV, int D, int L, int maxK, const int *plan, int c0, int c1, int team) {
    att_ctx a = {q, kc, vc, out, slot, pos, order, H, KV, D, L, H / KV, 1.0f / sqrtf((float)D), (maxK + TILE - 1) / TILE * TILE};
    const int *tiles = plan + N + 1;
    int nc = c1 - c0;
    long ntask = (long)KV * nc;
    size_t need = (size_t)CHUNK * a.grp * a.ls;
#define TASK(t)                                                                                            \
    do {                                                                                                   \
        int c = c0 + (int)((t) % nc), kh = (int)((t) / nc), first = order ? order[plan[c]] : plan[c];      \
        float *S = kv_scratch(0, need);                                                                    \
        if (S) att_task(&a, kh, plan[c], plan[c + 1] - plan[c], pre_slot ? pre_slot[first] : 0, tiles[c], S); \
    } while (0)
    if (team) {
#pragma omp for schedule(dynamic, 1) nowait
        for (long t = 0; t < ntask; t++) TASK(t);
    } else {
        for (long t = 0; t < ntask; t++) TASK(t);
    }
#undef TASK
}

void attention_kvcache_forward(float *out, const float *q, const float *kc, const float *vc, const int *slot, const int *pos,
                               const int *pre_slot, const int *pre_len, const int *order, int N, int H, int KV, int D, int L) {
    if (N <= 0) return;
    int maxK = 0;
    double work = 0;
    for (int n = 0; n < N; n++) {
        if (pos[n] + 1 > maxK) maxK = pos[n] + 1;
        work += pos[n] + 1.0;
    }
    int *plan = (int *)kv_scratch(1, (size_t)2 * N + 2); /* the calling thread's; tasks use slot 0 */
    if (!plan) return; /* out of memory: out stays unwritten */
    int nc = attention_kvcache_plan(plan, order, pre_slot, pre_len, pos, N);
#pragma omp parallel if (work * H * D > 65536)
    attention_kvcache_run(out, q, kc, vc, slot, pos, pre_slot, order, N, H, KV, D, L, maxK, plan, 0, nc, 1);
}
