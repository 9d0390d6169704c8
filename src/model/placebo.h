/*
 * placebo.h -- placebo, visit and expectation effects, functional unblinding, and therapy /
 * integration sessions (docs/MODEL.md section 9).
 */
#ifndef KS_PLACEBO_H
#define KS_PLACEBO_H

#include "pd.h"

/* Belief of being on active drug after a session:
 * b = 1/(1 + exp(-kappa_b (cadss_peak/cadss_max + eps_mdz sedation + beta_open open - theta_b))).
 */
double ks_pd_plc_belief(const ks_pd_plc_params *p, double cadss_max, double cadss_peak,
                        double sedation_peak, int open_label);

/* Expectation after a visit (E += delta_v g_op (1 - E)) and after a session
 * (E += delta_s g_op (2b - 1)(1 - E), kept >= 0). */
double ks_pd_plc_after_visit(const ks_pd_plc_params *p, double e, double g_op);
double ks_pd_plc_after_session(const ks_pd_plc_params *p, double e, double g_op, double belief);

/* d(E)/dt = -E/tau_E and d(R_th)/dt = -R_th/tau_th into zdot. */
void ks_pd_plc_rhs(const ks_pd_plc_params *p, const double *z, double *zdot);

#endif /* KS_PLACEBO_H */
