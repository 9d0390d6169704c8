/*
 * systems.h -- systems layer (docs/MODEL.md section 6): prefrontal control, default-mode
 * rumination, stress load, inflammatory tone, and the endogenous-opioid gate (6.1).
 */
#ifndef KS_SYSTEMS_H
#define KS_SYSTEMS_H

#include "pd.h"

typedef struct {
    double c_pfc; /* prefrontal control, 0-1.2 */
    double rum;   /* rumination (default-mode activity) */
    double g_op;  /* opioid gate 1 - phi_op occ_mu */
} ks_pd_sys_out;

/* Prefrontal control from total spine density (MODEL.md 6). */
double ks_pd_pfc(const ks_pd_sys_params *p, double s_tot);
/* Rumination at mood m, control c_pfc and relative CADSS (MODEL.md 6). */
double ks_pd_rumination(const ks_pd_sys_params *p, double m, double c_pfc, double cadss_rel);
/* Opioid gate at mu-opioid occupancy occ_mu (MODEL.md 6.1). */
double ks_pd_opioid_gate(const ks_pd_sys_params *p, double occ_mu);

void ks_pd_sys_algebra(const ks_pd_sys_params *p, const double *z, double cadss_rel, double occ_mu,
                       ks_pd_sys_out *o);

/* d(Sx)/dt and d(Infl)/dt into zdot; sigma_ep is the stress-episode level. */
void ks_pd_sys_rhs(const ks_pd_sys_params *p, const ks_pd_sys_out *o, const double *z,
                   double sigma_ep, double *zdot);

#endif /* KS_SYSTEMS_H */
