/*
 * clinical.h -- clinical layer (docs/MODEL.md section 8): the noise-free MADRS and HDRS-17 of
 * the patient's mood state.
 */
#ifndef KS_CLINICAL_H
#define KS_CLINICAL_H

#include "pd.h"

/* MADRS_true = M_res + (M_dep - M_res)((1 - m)/2 + k_res D (1 + m)/2), clamped to [0, 60];
 * D = prefrontal deficit 1 - C_pfc in [0, 1] (MODEL.md 6, 8). */
double ks_pd_clin_madrs(const ks_pd_clin_params *p, double m, double deficit);
/* HDRS-17 = MADRS / clin.madrs_per_hamd, clamped to [0, 52] (Leucht 2018). */
double ks_pd_clin_hdrs17(const ks_pd_clin_params *p, double madrs);

#endif /* KS_CLINICAL_H */
