/*
 * nca.h -- non-compartmental analysis of one concentration-time curve: Cmax/Tmax, AUC and AUMC
 * (linear-up log-down trapezoids), the terminal rate constant by log-linear regression over the
 * terminal phase chosen by best adjusted R^2, AUC0-inf and AUMC0-inf by log-linear
 * extrapolation, MRT, and the time to fall below a fraction of the peak.
 *
 * Method: Gabrielsson & Weiner, Pharmacokinetic and Pharmacodynamic Data Analysis (4th ed.,
 * 2006), chapter 2 (non-compartmental analysis); the terminal-phase rule is the "best fit" rule
 * of standard NCA software (largest adjusted R^2 over the last >= 3 points after Tmax; fits
 * within 1e-4 of the best are resolved toward more points).
 */
#ifndef KS_NCA_H
#define KS_NCA_H

#include "ketasim.h"

#include <stddef.h>

typedef struct {
    double cmax;             /* concentration units */
    double tmax_h;           /* h, on the absolute time axis */
    double t_last_h;         /* time of the last positive concentration, h */
    double c_last;           /* last positive (observed) concentration */
    double auc_last;         /* t0 .. t_last, conc x h */
    double aumc_last;        /* t0 .. t_last, conc x h^2, time measured from t0 */
    double lambda_z;         /* terminal rate constant, 1/h; NaN when no terminal phase */
    double r2_adj;           /* adjusted R^2 of the chosen terminal fit; NaN when none */
    size_t lambda_z_points;  /* points in the terminal fit (0 when none) */
    double lambda_z_start_h; /* first time of the terminal fit, h; NaN when none */
    double half_life_h;      /* ln 2 / lambda_z, h; NaN when none */
    double auc_inf;          /* auc_last + c_last / lambda_z; NaN when no lambda_z */
    double aumc_inf;         /* aumc_last + t_last c_last / lz + c_last / lz^2; NaN likewise */
    double mrt_h;            /* aumc_inf / auc_inf (from t0, input time included), h */
    double auc_extrap_frac;  /* (auc_inf - auc_last) / auc_inf */
} ks_nca_ext;

/* Analyses the curve c[0..n-1] sampled at strictly increasing times t[0..n-1] (h). Points
 * before t0_h (the time of the first dose) are ignored; AUMC and MRT measure time from t0_h.
 * Fails with KS_ERR_INPUT when fewer than 2 points remain, times do not increase, or a value
 * is negative or not finite. Missing terminal phases are reported as NaN fields, not failure. */
ks_status ks_nca_compute(ks_ctx *ctx, const double *t, const double *c, size_t n, double t0_h,
                         ks_nca_ext *out);

/* Area under c between ta and tb (t[0] <= ta <= tb <= t[n-1]) by the linear-up log-down rule,
 * with log-linear (declining) or linear (rising) interpolation at ta and tb. */
double ks_nca_auc_between(const double *t, const double *c, size_t n, double ta, double tb);

/* First time after Tmax at which c falls below `frac` x Cmax (0 < frac < 1), interpolated
 * log-linearly between the bracketing samples. NaN when the curve never falls that low. */
double ks_nca_time_below_fraction(const double *t, const double *c, size_t n, double frac);

/* Mean input time of a set of inputs, measured from t0_h: sum_i D_i (t_i - t0 + T_i / 2) /
 * sum_i D_i, where T_i is the zero-order input duration (0 for a bolus). For one infusion of
 * duration T started at t0 this is T/2, the correction MRT_iv = MRT - T/2 (Gabrielsson &
 * Weiner, ch. 2, "MRT after constant-rate infusion"). NaN when the total amount is not > 0. */
double ks_nca_mean_input_time(const double *t_h, const double *amount, const double *duration_h,
                              size_t n, double t0_h);

#endif /* KS_NCA_H */
