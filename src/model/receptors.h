/*
 * receptors.h -- receptor layer (docs/MODEL.md section 2): NMDA block of interneurons and
 * pyramidal cells by every ketamine species (competitive, use-dependent trapping kinetics),
 * parent-drug cortical block for dissociation, mu-opioid, SERT, midazolam sedation, AMPA block
 * and mTORC1 inhibition.
 */
#ifndef KS_RECEPTORS_H
#define KS_RECEPTORS_H

#include "pd.h"

/* Algebraic receptor quantities at one instant. */
typedef struct {
    double x_i, x_p; /* NMDA occupancy ratios sum_s Cu_s / (Ki_s mg_j), interneuron/pyramidal */
    double x_c;      /* parent-drug (S+R ketamine) cortical ratio, MODEL.md 3.2 */
    double occ_mu;   /* mu-opioid occupancy by naltrexone + 6b-naltrexol */
    double occ_sert; /* SERT occupancy (escitalopram + citalopram, Gaddum) */
    double sedation; /* midazolam Emax fraction */
    double occ_ampa; /* AMPA block fraction */
    double i_mtor;   /* mTORC1 inhibition (rapamycin and block event combined) */
} ks_pd_rec_out;

/* Receptor algebra from the inputs (negative or non-finite concentrations count as 0). */
void ks_pd_rec_algebra(const ks_pd_rec_params *p, const ks_pd_input *in, ks_pd_rec_out *o);

/* d(B_I)/dt and d(B_P)/dt into zdot[KS_PD_BI], zdot[KS_PD_BP]. */
void ks_pd_rec_rhs(const ks_pd_rec_params *p, const ks_pd_rec_out *o, const double *z,
                   double *zdot);

#endif /* KS_RECEPTORS_H */
