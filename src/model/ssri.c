/*
 * ssri.c -- SSRI route of the mechanism (docs/MODEL.md section 9).
 */
#include "ssri.h"
#include "pd_util.h"

void ks_pd_ssri_rhs(const ks_pd_plc_params *p, const double *z, double occ_sert, double *zdot)
{
    /* MODEL.md 9: dA/dt = (occ_SERT - A)/tau_A; tau_A = 21 d computed from Taylor 2006 (week-1
     * effect one third of week 6): (1 - e^{-1/3})/(1 - e^{-2}) = 0.33. */
    double a = ks_pd_clamp(z[KS_PD_A], -1e6, 1e6);
    zdot[KS_PD_A] = (ks_pd_clamp(occ_sert, 0.0, 1.0) - a) / p->tau_a;
}
