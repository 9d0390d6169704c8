/*
 * signalling.h -- signalling layer (docs/MODEL.md section 4): BDNF translation (eEF2 route) and
 * activity-dependent release (AMPA / L-type Ca route), TrkB, adapting mTORC1, synaptic protein
 * synthesis.
 */
#ifndef KS_SIGNALLING_H
#define KS_SIGNALLING_H

#include "pd.h"

typedef struct {
    double jrel_norm; /* BDNF release Jrel / k_rel, x baseline */
    double bf;        /* free (unscavenged) released BDNF, x baseline */
    double tk;        /* TrkB activation, x baseline */
    double drive;     /* mTORC1 drive E_m max(0, Tk - Rk)(1 - I_mTOR) */
} ks_pd_sig_out;

/* Signalling algebra from the states, the AMPA drive, the anti-BDNF level and the mTORC1
 * inhibition. */
void ks_pd_sig_algebra(const ks_pd_sig_params *p, const double *z, double ampa, double anti_bdnf,
                       double i_mtor, ks_pd_sig_out *o);

/* d/dt of Bp, Bx, Rk, M, P0, P into zdot. */
void ks_pd_sig_rhs(const ks_pd_sig_params *p, const ks_pd_sig_out *o, const double *z,
                   double *zdot);

#endif /* KS_SIGNALLING_H */
