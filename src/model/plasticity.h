/*
 * plasticity.h -- structural layer (docs/MODEL.md section 5): the plasticity window, the
 * spinogenic transit chain, labile (new) spines, consolidated new spines and stable spines,
 * consolidation by reinforcement while the window is open, fading of unconsolidated spines,
 * stress-dependent elimination of consolidated new spines, the stress/SSRI set point.
 */
#ifndef KS_PLASTICITY_H
#define KS_PLASTICITY_H

#include "pd.h"

/* The flows between spine pools (fraction of healthy density per hour). By construction
 * dS_new/dt = formation - consolidation - fade, dS_nc/dt = consolidation - elimination and
 * dS_st/dt = homeostasis. */
typedef struct {
    double window;        /* W, 0-1 */
    double reinforcement; /* Rf = r_self max(0, (1 + m)/2) + R_th */
    double set_point;     /* S_set = max(0, 1 - L_s Sx + phi_A A) */
    double formation;     /* F */
    double consolidation; /* k_c Rf W S_new */
    double fade;          /* k_fade S_new */
    double elimination;   /* (k_nc0 + k_nc_s Sx) S_nc */
    double homeostasis;   /* k_h (S_set - S_st) */
} ks_pd_spine_flows;

/* Plasticity window W = (P - 1)+ / (W50 + (P - 1)+) at synaptic-protein level P. */
double ks_pd_window(const ks_pd_spine_params *p, double protein);

/* Stable-spine set point for stress load Sx and SSRI adaptation A. */
double ks_pd_spine_set_point(const ks_pd_spine_params *p, double sx, double a);

/* Total spine density S_st + S_nc + S_new (each pool read as >= 0). */
double ks_pd_spines_total(const double *z);

/* All flows at state z. */
void ks_pd_spine_flows_at(const ks_pd_spine_params *p, const double *z, ks_pd_spine_flows *f);

/* d/dt of Z1..Z6, S_new, S_nc, S_st into zdot (transit states beyond n_transit get 0). */
void ks_pd_spine_rhs(const ks_pd_spine_params *p, const ks_pd_spine_flows *f, const double *z,
                     double *zdot);

#endif /* KS_PLASTICITY_H */
