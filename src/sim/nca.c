/*
 * nca.c -- non-compartmental analysis of simulated concentration-time curves (see nca.h;
 * method of Gabrielsson & Weiner, Pharmacokinetic and Pharmacodynamic Data Analysis, ch. 2).
 */
#include "nca.h"

#include "../core/internal.h"

#include <math.h>
#include <string.h>

/* Fits within this margin of the best adjusted R^2 are resolved toward more points (the
 * "best fit" rule of standard NCA software). */
#define KS_NCA_R2_TOL 1e-4

/* 1 when the segment (c1 -> c2) is integrated log-linearly: a strict decline between two
 * positive values (linear-up log-down rule). */
static int nca_log_segment(double c1, double c2)
{
    return c1 > 0.0 && c2 > 0.0 && c2 < c1;
}

/* Area of one segment. Log-down: AUC = (c1 - c2) / k with k = ln(c1/c2) / dt; linear:
 * trapezoid (Gabrielsson & Weiner, ch. 2, eqs. for the log-trapezoidal rule). */
static double nca_segment_auc(double t1, double c1, double t2, double c2)
{
    double dt = t2 - t1;
    if (nca_log_segment(c1, c2)) {
        double k = log(c1 / c2) / dt;
        return (c1 - c2) / k;
    }
    return 0.5 * (c1 + c2) * dt;
}

/* First moment of one segment, time measured from the origin of t. Log-down:
 * int t c dt = (t1 c1 - t2 c2) / k + (c1 - c2) / k^2 (integration by parts of
 * c1 e^{-k (t - t1)}); linear: trapezoid on t c. */
static double nca_segment_aumc(double t1, double c1, double t2, double c2)
{
    double dt = t2 - t1;
    if (nca_log_segment(c1, c2)) {
        double k = log(c1 / c2) / dt;
        return (t1 * c1 - t2 * c2) / k + (c1 - c2) / (k * k);
    }
    return 0.5 * (t1 * c1 + t2 * c2) * dt;
}

/* Value at t inside the segment, interpolated by the segment's own rule. */
static double nca_segment_interp(double t1, double c1, double t2, double c2, double t)
{
    double w = (t - t1) / (t2 - t1);
    if (nca_log_segment(c1, c2))
        return c1 * exp(w * log(c2 / c1));
    return c1 + w * (c2 - c1);
}

ks_status ks_nca_compute(ks_ctx *ctx, const double *t, const double *c, size_t n, double t0_h,
                         ks_nca_ext *out)
{
    if (!t || !c || !out)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_nca_compute: NULL argument");
    size_t first = 0;
    while (first < n && t[first] < t0_h)
        first++;
    if (n - first < 2)
        return ks_fail(ctx, KS_ERR_INPUT,
                       "non-compartmental analysis: fewer than 2 samples at or after the first "
                       "dose (got %zu)",
                       n - first);
    for (size_t i = first; i < n; i++) {
        if (!isfinite(t[i]) || !isfinite(c[i]) || c[i] < 0.0)
            return ks_fail(ctx, KS_ERR_INPUT,
                           "non-compartmental analysis: sample %zu is not a finite non-negative "
                           "value (t = %g h, c = %g)",
                           i, t[i], c[i]);
        if (i > first && !(t[i] > t[i - 1]))
            return ks_fail(ctx, KS_ERR_INPUT,
                           "non-compartmental analysis: times do not increase at sample %zu "
                           "(%g after %g h)",
                           i, t[i], t[i - 1]);
    }

    ks_nca_ext r;
    memset(&r, 0, sizeof r);
    r.lambda_z = r.r2_adj = r.lambda_z_start_h = r.half_life_h = NAN;
    r.auc_inf = r.aumc_inf = r.mrt_h = r.auc_extrap_frac = NAN;

    size_t imax = first;
    for (size_t i = first; i < n; i++)
        if (c[i] > c[imax])
            imax = i;
    r.cmax = c[imax];
    r.tmax_h = t[imax];

    size_t ilast = n;
    for (size_t i = n; i-- > first;)
        if (c[i] > 0.0) {
            ilast = i;
            break;
        }
    if (ilast == n) { /* all zero: nothing to analyse, every area is 0 */
        r.t_last_h = t[first];
        *out = r;
        return KS_OK;
    }
    r.t_last_h = t[ilast];
    r.c_last = c[ilast];

    /* AUC and AUMC from t0 to t_last; AUMC with time measured from t0. */
    for (size_t i = first; i < ilast; i++) {
        double t1 = t[i] - t0_h, t2 = t[i + 1] - t0_h;
        r.auc_last += nca_segment_auc(t1, c[i], t2, c[i + 1]);
        r.aumc_last += nca_segment_aumc(t1, c[i], t2, c[i + 1]);
    }

    /* Terminal phase: regress ln c on t over the last k = 3, 4, ... positive points after
     * Tmax; keep the largest adjusted R^2 = 1 - (1 - R^2)(k - 1)/(k - 2), preferring more
     * points within KS_NCA_R2_TOL. Co-moments are updated one point at a time (Welford). */
    double best_adj = -INFINITY;
    double mt = 0.0, my = 0.0, stt = 0.0, sty = 0.0, syy = 0.0;
    size_t k = 0;
    /* First pass: the best adjusted R^2. Second pass: the largest k within the tolerance. */
    for (int pass = 0; pass < 2; pass++) {
        mt = my = stt = sty = syy = 0.0;
        k = 0;
        for (size_t i = ilast + 1; i-- > imax + 1;) {
            if (!(c[i] > 0.0))
                break;
            double x = t[i], y = log(c[i]);
            k++;
            double dx = x - mt, dy = y - my;
            mt += dx / (double)k;
            my += dy / (double)k;
            stt += dx * (x - mt);
            sty += dx * (y - my);
            syy += dy * (y - my);
            if (k < 3 || !(stt > 0.0))
                continue;
            double slope = sty / stt;
            if (!(slope < 0.0))
                continue;
            double r2 = syy > 0.0 ? (sty * sty) / (stt * syy) : 1.0;
            if (r2 > 1.0)
                r2 = 1.0;
            double adj = 1.0 - (1.0 - r2) * (double)(k - 1) / (double)(k - 2);
            if (pass == 0) {
                if (adj > best_adj)
                    best_adj = adj;
            } else if (adj >= best_adj - KS_NCA_R2_TOL) {
                r.lambda_z = -slope;
                r.r2_adj = adj;
                r.lambda_z_points = k;
                r.lambda_z_start_h = x;
            }
        }
        if (pass == 0 && !isfinite(best_adj))
            break;
    }

    if (isfinite(r.lambda_z) && r.lambda_z > 0.0) {
        double lz = r.lambda_z, tl = r.t_last_h - t0_h;
        r.half_life_h = log(2.0) / lz;
        /* AUC0-inf = AUClast + Clast / lz; AUMC0-inf = AUMClast + tlast Clast / lz +
         * Clast / lz^2 (Gabrielsson & Weiner, ch. 2). */
        r.auc_inf = r.auc_last + r.c_last / lz;
        r.aumc_inf = r.aumc_last + tl * r.c_last / lz + r.c_last / (lz * lz);
        r.mrt_h = r.aumc_inf / r.auc_inf;
        r.auc_extrap_frac = (r.auc_inf - r.auc_last) / r.auc_inf;
    } else {
        r.lambda_z = NAN;
        r.lambda_z_points = 0;
    }
    *out = r;
    return KS_OK;
}

double ks_nca_auc_between(const double *t, const double *c, size_t n, double ta, double tb)
{
    if (n < 2 || !(tb >= ta))
        return NAN;
    double area = 0.0;
    for (size_t i = 0; i + 1 < n; i++) {
        double t1 = t[i], t2 = t[i + 1];
        if (t2 <= ta || t1 >= tb)
            continue;
        double a = t1 < ta ? ta : t1, b = t2 > tb ? tb : t2;
        double ca = a > t1 ? nca_segment_interp(t1, c[i], t2, c[i + 1], a) : c[i];
        double cb = b < t2 ? nca_segment_interp(t1, c[i], t2, c[i + 1], b) : c[i + 1];
        if (b > a)
            area += nca_segment_auc(a, ca, b, cb);
    }
    return area;
}

double ks_nca_time_below_fraction(const double *t, const double *c, size_t n, double frac)
{
    if (n == 0 || !(frac > 0.0 && frac < 1.0))
        return NAN;
    size_t imax = 0;
    for (size_t i = 1; i < n; i++)
        if (c[i] > c[imax])
            imax = i;
    double thr = frac * c[imax];
    if (!(thr > 0.0))
        return NAN;
    for (size_t i = imax + 1; i < n; i++) {
        if (c[i] < thr) {
            double t1 = t[i - 1], c1 = c[i - 1], t2 = t[i], c2 = c[i];
            if (c2 > 0.0 && c1 > 0.0)
                return t1 + (log(c1) - log(thr)) / (log(c1) - log(c2)) * (t2 - t1);
            return t1 + (c1 - thr) / (c1 - c2) * (t2 - t1);
        }
    }
    return NAN;
}

double ks_nca_mean_input_time(const double *t_h, const double *amount, const double *duration_h,
                              size_t n, double t0_h)
{
    double total = 0.0, moment = 0.0;
    for (size_t i = 0; i < n; i++) {
        double dur = duration_h ? duration_h[i] : 0.0;
        total += amount[i];
        moment += amount[i] * (t_h[i] - t0_h + 0.5 * dur);
    }
    return total > 0.0 ? moment / total : NAN;
}

ks_status ks_result_nca(ks_ctx *ctx, const ks_result *r, size_t subject, size_t j, ks_nca *out)
{
    if (!r || !out)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_result_nca: NULL argument");
    if (subject >= ks_result_subject_count(r))
        return ks_fail(ctx, KS_ERR_USAGE, "ks_result_nca: subject %zu out of range (%zu)", subject,
                       ks_result_subject_count(r));
    if (j >= ks_result_output_count(r))
        return ks_fail(ctx, KS_ERR_USAGE, "ks_result_nca: output %zu out of range (%zu)", j,
                       ks_result_output_count(r));
    size_t n = ks_result_time_count(r, subject);
    const double *t = ks_result_times(r, subject);
    const double *c = ks_result_values(r, subject, j);
    if (n < 2)
        return ks_fail(ctx, KS_ERR_INPUT,
                       "ks_result_nca: output %s has fewer than 2 samples (got %zu)",
                       ks_result_output_name(r, j), n);
    ks_nca_ext e;
    ks_status st = ks_nca_compute(ctx, t, c, n, t[0], &e);
    if (st != KS_OK)
        return st;
    out->cmax = e.cmax;
    out->tmax_h = e.tmax_h;
    out->auc = ks_nca_auc_between(t, c, n, t[0], t[n - 1]);
    out->half_life_h = e.half_life_h;
    return KS_OK;
}
