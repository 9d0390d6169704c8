/*
 * pd_util.h -- small numerical helpers shared by the mechanism layers.
 */
#ifndef KS_PD_UTIL_H
#define KS_PD_UTIL_H

#include <math.h>

/* v clamped to [lo, hi]; NaN maps to lo. */
static inline double ks_pd_clamp(double v, double lo, double hi)
{
    if (!(v >= lo)) /* also catches NaN */
        return lo;
    return v > hi ? hi : v;
}

/* max(0, v) (positive part); NaN maps to 0. */
static inline double ks_pd_pos(double v)
{
    return v > 0.0 ? v : 0.0;
}

#endif /* KS_PD_UTIL_H */
