/*
 * placebo.c -- placebo, visits, expectation, unblinding and therapy sessions
 * (docs/MODEL.md section 9).
 */
#include "placebo.h"
#include "pd_util.h"

double ks_pd_plc_belief(const ks_pd_plc_params *p, double cadss_max, double cadss_peak,
                        double sedation_peak, int open_label)
{
    /* MODEL.md 9: conspicuous dissociation unblinds the active arm, saline the placebo arm,
     * midazolam sedation gives partial belief (active placebo), open label adds beta_open. */
    double exper = ks_pd_clamp(cadss_peak, 0.0, 1e6) / cadss_max +
                   p->eps_mdz * ks_pd_clamp(sedation_peak, 0.0, 1.0) +
                   (open_label ? p->beta_open : 0.0) - p->theta_b;
    double x = ks_pd_clamp(-p->kappa_b * exper, -700.0, 700.0);
    return 1.0 / (1.0 + exp(x));
}

double ks_pd_plc_after_visit(const ks_pd_plc_params *p, double e, double g_op)
{
    /* MODEL.md 9: visit effect (Posternak & Zimmerman 2007: 0.67-0.86 HRSD per extra visit),
     * gated by endogenous opioids (6.1). */
    double ee = ks_pd_clamp(e, 0.0, 1.0);
    return ee + p->delta_v * ks_pd_clamp(g_op, 0.0, 1.0) * (1.0 - ee);
}

double ks_pd_plc_after_session(const ks_pd_plc_params *p, double e, double g_op, double belief)
{
    /* MODEL.md 9: E += delta_s g_op (2b - 1)(1 - E), can be negative; E stays in [0, 1]. */
    double ee = ks_pd_clamp(e, 0.0, 1.0);
    double b = ks_pd_clamp(belief, 0.0, 1.0);
    return ks_pd_clamp(ee + p->delta_s * ks_pd_clamp(g_op, 0.0, 1.0) * (2.0 * b - 1.0) * (1.0 - ee),
                       0.0, 1.0);
}

void ks_pd_plc_rhs(const ks_pd_plc_params *p, const double *z, double *zdot)
{
    /* MODEL.md 9: expectation decays (tau_E 6 weeks); therapy reinforcement decays (tau_th). */
    zdot[KS_PD_E] = -ks_pd_clamp(z[KS_PD_E], -1e6, 1e6) / p->tau_e;
    zdot[KS_PD_RTH] = -ks_pd_clamp(z[KS_PD_RTH], -1e6, 1e6) / p->ther_tau;
}
