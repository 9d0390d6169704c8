/*
 * clinical.h -- clinical layer (docs/MODEL.md section 8): the noise-free MADRS and HDRS-17 of
 * the patient's mood state.
 */
#ifndef KS_CLINICAL_H
#define KS_CLINICAL_H

#include "pd.h"

/* Graded symptom relief rho in [0, 1): 1 - exp(-(r_L max(L, 0) + r_A s_i max(A, 0) + r_E
 * max(E, 0))) for the acute lift L, the SSRI sensitivity s_i, the SSRI adaptation A and the
 * expectation E (MODEL.md 8). */
double ks_pd_clin_relief(const ks_pd_clin_params *p, double lift, double s_i, double a, double e);
/* MADRS_true = M_res + (M_dep - M_res)((1 - m)/2 + k_res D (1 + m)/2)(1 - rho), clamped to
 * [0, 60]; D = prefrontal deficit 1 - C_pfc in [0, 1] (MODEL.md 6, 8), rho the graded relief
 * (clamped to [0, 1]). */
double ks_pd_clin_madrs(const ks_pd_clin_params *p, double m, double deficit, double relief);
/* HDRS-17 = MADRS / clin.madrs_per_hamd, clamped to [0, 52] (Leucht 2018). */
double ks_pd_clin_hdrs17(const ks_pd_clin_params *p, double madrs);

#endif /* KS_CLINICAL_H */
