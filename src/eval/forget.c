/* forget.c: average accuracy, backward transfer, forgetting and general-ability change
 * of an evaluation matrix (see forget.h). */
#include <math.h>
#include "core/err.h"
#include "eval/forget.h"

int forget_summarize(const double *R, int T, int I, int general, const double *base, double *forgetting,
                     forget_summary *out, rlvr_err *err) {
    if (!R || !out || T < 1 || I < 1) return errf(err, RLVR_EARG, "forget_summarize: need a matrix of T >= 1 stages x I >= 1 tasks");
    if (general < -1 || general >= I) return errf(err, RLVR_EARG, "forget_summarize: general column %d outside 0..%d", general, I - 1);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < I; i++)
            if (!isfinite(R[t * I + i])) return errf(err, RLVR_EARG, "forget_summarize: R[%d][%d] is not finite", t, i);
    for (int i = 0; base && i < I; i++)
        if (!isfinite(base[i])) return errf(err, RLVR_EARG, "forget_summarize: base[%d] is not finite", i);
    const double *last = R + (size_t)(T - 1) * I;
    out->T = T, out->I = I, out->general = general;
    double s = 0;
    int c = 0;
    for (int i = 0; i < I; i++)
        if (i != general) s += last[i], c++;
    out->avg_acc = c ? s / c : NAN;
    double bwt = 0, fg = 0;
    int nb = 0;
    for (int i = 0; i < I; i++) {
        double best = -INFINITY;
        for (int t = 0; t < T - 1; t++)
            if (R[t * I + i] > best) best = R[t * I + i];
        double f = T > 1 ? best - last[i] : 0.0;
        if (forgetting) forgetting[i] = f;
        if (i < T - 1 && i != general) bwt += last[i] - R[(size_t)i * I + i], fg += f, nb++;
    }
    out->bwt = nb ? bwt / nb : NAN;
    out->mean_forgetting = nb ? fg / nb : NAN;
    out->general_change = general < 0 ? NAN : last[general] - (base ? base[general] : R[general]);
    return RLVR_OK;
}
