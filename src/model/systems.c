/*
 * systems.c -- systems layer of the mechanism (docs/MODEL.md section 6).
 */
#include "systems.h"
#include "pd_util.h"
#include "plasticity.h"

double ks_pd_pfc(const ks_pd_sys_params *p, double s_tot)
{
    /* MODEL.md 6: C_pfc = clamp((S_tot - S_min)/(1 - S_min), 0, 1.2). */
    return ks_pd_clamp((s_tot - p->s_min) / (1.0 - p->s_min), 0.0, 1.2);
}

double ks_pd_rumination(const ks_pd_sys_params *p, double m, double c_pfc, double cadss_rel)
{
    /* MODEL.md 6: Rum = rum_max (1 - m)/2 (1 - c_pfc C_pfc)(1 - kappa_dmn CADSS_rel):
     * default-mode activity restrained by prefrontal control, lowered acutely during ketamine
     * (PMC7267897; Scheidegger 2012). (1 - m)/2 kept >= 0: no negative rumination. */
    double low = ks_pd_pos(0.5 * (1.0 - ks_pd_clamp(m, -1e3, 1e3)));
    return p->rum_max * low * ks_pd_pos(1.0 - p->c_pfc * c_pfc) *
           ks_pd_pos(1.0 - p->kappa_dmn * ks_pd_clamp(cadss_rel, 0.0, 1.0));
}

double ks_pd_opioid_gate(const ks_pd_sys_params *p, double occ_mu)
{
    /* MODEL.md 6.1: g_op = 1 - phi_op occ_NTX (Williams 2018 Am J Psychiatry 175:1205). */
    return 1.0 - p->phi_op * ks_pd_clamp(occ_mu, 0.0, 1.0);
}

void ks_pd_sys_algebra(const ks_pd_sys_params *p, const double *z, double cadss_rel, double occ_mu,
                       ks_pd_sys_out *o)
{
    double s_tot = ks_pd_spines_total(z);
    o->c_pfc = ks_pd_pfc(p, s_tot);
    o->rum = ks_pd_rumination(p, z[KS_PD_MOOD], o->c_pfc, cadss_rel);
    o->g_op = ks_pd_opioid_gate(p, occ_mu);
}

void ks_pd_sys_rhs(const ks_pd_sys_params *p, const ks_pd_sys_out *o, const double *z,
                   double sigma_ep, double *zdot)
{
    double sx = ks_pd_clamp(z[KS_PD_SX], -1e6, 1e6);
    double infl = ks_pd_clamp(z[KS_PD_INFL], -1e6, 1e6);
    double ep = ks_pd_clamp(sigma_ep, 0.0, 1e6);
    /* MODEL.md 6: dSx/dt = (sigma_i + sigma_ep + rho_rum Rum - Sx)/tau_S. */
    zdot[KS_PD_SX] = (p->sigma_i + ep + p->rho_rum * o->rum - sx) / p->tau_s;
    /* dInfl/dt = (1 + a_SI Sx - Infl)/tau_I (IL-6-like tone follows stress; Kiraly 2017). */
    zdot[KS_PD_INFL] = (1.0 + p->a_si * ks_pd_pos(sx) - infl) / p->tau_i;
}
