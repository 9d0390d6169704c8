/*
 * circuit.c -- circuit layer of the mechanism (docs/MODEL.md section 3).
 */
#include "circuit.h"
#include "pd_util.h"

/* Lower bound of the feedback divisor 1 + Fb. With Fb relaxing to g_fb (raw - 1) >=
 * g_fb (raw_floor - 1) > -1 it is never reached from a physical state; it keeps the rate finite
 * for arbitrary states. */
#define KS_CIRC_MIN_DIVISOR 0.05

void ks_pd_circ_algebra(const ks_pd_circ_params *p, const double *z, double x_c, double occ_ampa,
                        ks_pd_circ_out *o)
{
    double bi = ks_pd_clamp(z[KS_PD_BI], 0.0, 1.0);
    double bp = ks_pd_clamp(z[KS_PD_BP], 0.0, 1.0);
    double fb = ks_pd_clamp(z[KS_PD_FB], -1.0 + KS_CIRC_MIN_DIVISOR, 1e6);
    double tol = ks_pd_clamp(z[KS_PD_TOL], 0.0, 1.0);

    /* MODEL.md 3.1: dis = Dmax B_I^h / (B50^h + B_I^h): disinhibition by interneuron NMDAR block
     * (Homayoun & Moghaddam 2007), Hill/Emax form (Holford & Sheiner 1981). */
    /* written B_I^h/(B50^h + B_I^h) = 1/(1 + (B50/B_I)^h): one power instead of two */
    o->dis = bi > 0.0 ? p->dmax / (1.0 + pow(p->b50 / bi, p->hill_dis)) : 0.0;
    /* raw = max(floor, (1 - a_P B_P)(1 + dis)): loss of the pyramidal cells' own NMDA drive
     * (Moghaddam 1997 inverted U). */
    o->raw = fmax(p->raw_floor, (1.0 - p->a_p * bp) * (1.0 + o->dis));
    /* r_P = raw / (1 + Fb): integral-feedback adaptation (Ma et al. 2009 Cell 138:760). */
    o->r_p = o->raw / (1.0 + fb);
    /* AMPA = r_P (1 - occ_AMPA). */
    o->ampa = o->r_p * (1.0 - ks_pd_clamp(occ_ampa, 0.0, 1.0));

    /* MODEL.md 3.2: Bc = xc/(1+xc); CADSS_rel = Bc^g/(Bc^g + X50^g) (1 - Tol) (sigmoid Emax,
     * Holford & Sheiner 1981; tolerance compartment, Porchet, Benowitz & Sheiner 1988). */
    double xc = ks_pd_clamp(x_c, 0.0, 1e12);
    o->bc = xc / (1.0 + xc);
    /* Bc^g/(Bc^g + X50^g) = 1/(1 + (X50/Bc)^g): one power instead of two */
    o->cadss_rel = o->bc > 0.0 ? (1.0 - tol) / (1.0 + pow(p->x50 / o->bc, p->gamma)) : 0.0;
    o->cadss = p->cadss_max * o->cadss_rel;
}

void ks_pd_circ_rhs(const ks_pd_circ_params *p, const ks_pd_circ_out *o, const double *z,
                    double *zdot)
{
    double fb = ks_pd_clamp(z[KS_PD_FB], -1e6, 1e6);
    double glx = ks_pd_clamp(z[KS_PD_GLX], -1e6, 1e6);
    double tol = ks_pd_clamp(z[KS_PD_TOL], -1.0, 2.0);
    /* MODEL.md 3.1: dFb/dt = (g_fb (raw - 1) - Fb)/tau_fb; dGlx/dt = ((r_P - 1) - Glx)/tau_glx. */
    zdot[KS_PD_FB] = (p->g_fb * (o->raw - 1.0) - fb) / p->tau_fb;
    zdot[KS_PD_GLX] = ((o->r_p - 1.0) - glx) / p->tau_glx;
    /* MODEL.md 3.2: dTol/dt = k_tol CADSS_rel (1 - Tol) - Tol/tau_tol (CADSS_rel as observed,
     * i.e. already multiplied by 1 - Tol). */
    zdot[KS_PD_TOL] = p->k_tol * o->cadss_rel * (1.0 - tol) - tol / p->tau_tol;
}
