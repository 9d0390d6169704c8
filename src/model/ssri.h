/*
 * ssri.h -- SSRI route (docs/MODEL.md section 9): slow adaptation to SERT occupancy.
 */
#ifndef KS_SSRI_H
#define KS_SSRI_H

#include "pd.h"

/* d(A)/dt = (occ_SERT - A)/tau_A into zdot[KS_PD_A]. */
void ks_pd_ssri_rhs(const ks_pd_plc_params *p, const double *z, double occ_sert, double *zdot);

#endif /* KS_SSRI_H */
