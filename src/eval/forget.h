/* forget.h: summaries of a continual-training evaluation matrix. R[t][i] is the score on
 * task i after training stage t (T stages x I tasks, row-major); stage t trained on task
 * t for t < I. Optionally one column is a "general" task that no stage trains on (a
 * held-out ability whose drift is the question), and a base row holds the scores before
 * stage 0. Pure arithmetic on the matrix: filling it (evaluating each stage's model on
 * each task) is eval_run's job. docs/eval.md has the formulas. */
#ifndef RLVR_EVAL_FORGET_H
#define RLVR_EVAL_FORGET_H
#include "rlvr.h"

typedef struct forget_summary {
    int T, I, general;       /* general: the general column, -1 when none */
    double avg_acc;          /* mean_{i != general} R[T-1][i] */
    double bwt;              /* backward transfer: mean over trained tasks i < min(T-1, I),
                                i != general, of R[T-1][i] - R[i][i]; NaN when there are none */
    double mean_forgetting;  /* mean of forgetting[i] over the same tasks; NaN when none */
    double general_change;   /* R[T-1][g] - base[g] with a base row, else R[T-1][g] - R[0][g];
                                NaN without a general column */
} forget_summary;

/* Fills *out and, when forgetting is not NULL, forgetting[0..I): for each task i,
 * max_{t < T-1} R[t][i] - R[T-1][i] (how far the final score is below the best earlier
 * one; 0 when T == 1). general is a column index or -1; base (may be NULL) a row of I
 * scores before stage 0. RLVR_EARG for T or I < 1, general out of range, or a non-finite
 * score (naming its row and column). */
int forget_summarize(const double *R, int T, int I, int general, const double *base, double *forgetting,
                     forget_summary *out, rlvr_err *err);
#endif
