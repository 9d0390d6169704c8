/*
 * mood.h -- mood layer (docs/MODEL.md section 7): acute synaptic lift, the tilted double well
 * with a ridge lowered by the plasticity window, coloured noise input, and the depressive habit.
 */
#ifndef KS_MOOD_H
#define KS_MOOD_H

#include "pd.h"

/* What the tilt is made of (all dimensionless). */
typedef struct {
    double s_tot; /* total spine density */
    double lift;  /* L */
    double a;     /* SSRI adaptation A */
    double e;     /* expectation E */
    double r_th;  /* therapy reinforcement */
    double rum;   /* rumination */
    double infl;  /* inflammatory tone */
    double hab;   /* habit */
} ks_pd_tilt_terms;

/* T = T0 + w_S (S_tot - 1) + w_L L + w_A s_i A + w_E E + w_th R_th - w_rum Rum
 *     - w_I (Infl - 1) - w_hab Hab. */
double ks_pd_tilt(const ks_pd_mood_params *p, const ks_pd_tilt_terms *t);

/* Height factor of the landscape, h = 1 - lambda_W window (MODEL.md 7). */
double ks_pd_well_height(const ks_pd_mood_params *p, double window);

/* Drift of the double well: h (-a m^3 + b0 m) + T (without noise, without 1/tau_m). */
double ks_pd_well_drift(const ks_pd_mood_params *p, double m, double window, double tilt);

/* The stable root of the double well on the healthy (healthy = 1) or depressed side: the
 * largest (resp. smallest) root of h (-a m^3 + b0 m) + T = 0 with h = 1 - lambda_W window. */
double ks_pd_well_root(const ks_pd_mood_params *p, double window, double tilt, int healthy);

/* Smooth step H(-m) = 1/(1 + exp(m/0.1)) of the habit equation. */
double ks_pd_habit_target(double m);

/* d(L)/dt, d(m)/dt, d(Hab)/dt into zdot. mtor_excess = max(0, M - 1); g_op = opioid gate. */
void ks_pd_mood_rhs(const ks_pd_mood_params *p, const double *z, double mtor_excess, double g_op,
                    double window, double tilt, double nu, double *zdot);

#endif /* KS_MOOD_H */
