/*
 * circuit.h -- circuit layer (docs/MODEL.md section 3): disinhibition of pyramidal cells,
 * glutamate surge with the inverted U, presynaptic feedback, AMPA drive, and dissociation
 * (CADSS) with its tolerance.
 */
#ifndef KS_CIRCUIT_H
#define KS_CIRCUIT_H

#include "pd.h"

typedef struct {
    double dis;       /* disinhibition, Hill of B_I */
    double raw;       /* pyramidal drive before feedback, x baseline */
    double r_p;       /* released glutamate, x baseline */
    double ampa;      /* AMPA drive, x baseline */
    double bc;        /* parent-drug cortical block */
    double cadss_rel; /* CADSS as a fraction of diss.cadss_max (after tolerance) */
    double cadss;     /* CADSS points */
} ks_pd_circ_out;

/* Circuit algebra from the states (B_I, B_P, Fb, Tol in z), the parent-drug cortical ratio x_c
 * and the AMPA block fraction. */
void ks_pd_circ_algebra(const ks_pd_circ_params *p, const double *z, double x_c, double occ_ampa,
                        ks_pd_circ_out *o);

/* d(Fb)/dt, d(Glx)/dt, d(Tol)/dt into zdot. */
void ks_pd_circ_rhs(const ks_pd_circ_params *p, const ks_pd_circ_out *o, const double *z,
                    double *zdot);

#endif /* KS_CIRCUIT_H */
