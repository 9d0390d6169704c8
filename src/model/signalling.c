/*
 * signalling.c -- signalling layer of the mechanism (docs/MODEL.md section 4).
 */
#include "signalling.h"
#include "pd_util.h"

void ks_pd_sig_algebra(const ks_pd_sig_params *p, const double *z, double ampa, double anti_bdnf,
                       double i_mtor, ks_pd_sig_out *o)
{
    double bpool = ks_pd_clamp(z[KS_PD_BPOOL], 0.0, 1e6);
    double bx = ks_pd_clamp(z[KS_PD_BX], 0.0, 1e6);
    double rk = ks_pd_clamp(z[KS_PD_RK], 0.0, 1e6);
    double a = ks_pd_clamp(ampa, 0.0, 1e6);

    /* MODEL.md 4: Jrel = k_rel Bp (1 + q_g (AMPA - 1)): release needs AMPA receptors and L-type
     * Ca channels (Lepack 2015); Val66Met lowers activity-dependent release (Egan 2003). The
     * activity factor is kept >= 0 (it is exactly 0 at full AMPA block with q_g = 1). */
    o->jrel_norm = bpool * ks_pd_pos(1.0 + p->q_g * (a - 1.0));
    /* Bf = Bx (1 - f_antiBDNF): scavenging antibody (Lepack 2015). */
    o->bf = bx * (1.0 - ks_pd_clamp(anti_bdnf, 0.0, 1.0));
    /* Tk = [Bf/(Bf + K_T)] / [1/(1 + K_T)] (Emax with n = 1, normalised to 1 at Bf = 1). */
    o->tk = o->bf * (1.0 + p->k_trkb) / (o->bf + p->k_trkb);
    /* mTORC1 drive of the adapting motif (Ma et al. 2009): E_m max(0, Tk - Rk)(1 - I_mTOR);
     * rapamycin multiplies the drive (Li 2010). */
    o->drive = p->e_m * ks_pd_pos(o->tk - rk) * (1.0 - ks_pd_clamp(i_mtor, 0.0, 1.0));
}

void ks_pd_sig_rhs(const ks_pd_sig_params *p, const ks_pd_sig_out *o, const double *z, double *zdot)
{
    double bp = ks_pd_clamp(z[KS_PD_BP], 0.0, 1.0);
    double bpool = ks_pd_clamp(z[KS_PD_BPOOL], -1e6, 1e6);
    double bx = ks_pd_clamp(z[KS_PD_BX], -1e6, 1e6);
    double rk = ks_pd_clamp(z[KS_PD_RK], -1e6, 1e6);
    double m = ks_pd_clamp(z[KS_PD_M], -1e6, 1e6);
    double p0 = ks_pd_clamp(z[KS_PD_P0], -1e6, 1e6);
    double pr = ks_pd_clamp(z[KS_PD_P], -1e6, 1e6);
    double k_tl = p->k_rel + p->k_pd; /* baseline fixed point: k_tl = k_rel + k_pd */

    /* MODEL.md 4: dBp/dt = k_tl (1 + a_e B_P) - Jrel - k_pd Bp: NMDAR block at rest
     * de-represses BDNF translation through eEF2 (Autry 2011 Nature 475:91). */
    zdot[KS_PD_BPOOL] = k_tl * (1.0 + p->a_e * bp) - p->k_rel * o->jrel_norm - p->k_pd * bpool;
    /* dBx/dt = k_cl (Jrel/k_rel - Bx). */
    zdot[KS_PD_BX] = p->k_cl * (o->jrel_norm - bx);
    /* dRk/dt = (max(Tk, 1) - Rk)/tau_ad: pathway adaptation (Ma et al. 2009) to TrkB activity
     * above its basal tone only (desensitisation; docs/MODEL.md section 4 and 18), so that the
     * return of TrkB to baseline after an AMPA block or anti-BDNF does not drive mTORC1. */
    zdot[KS_PD_RK] = (fmax(o->tk, 1.0) - rk) / p->tau_ad;
    /* dM/dt = k_m (1 + drive - M): mTORC1 (Li 2010 Science 329:959). */
    zdot[KS_PD_M] = p->k_m * (1.0 + o->drive - m);
    /* dP0/dt = k_p0 max(0, M - 1) - P0/tau_p0; dP/dt = P0/tau_p0 - k_pout (P - 1): synaptic
     * protein synthesis with a maturation delay and a slow turnover (Li 2010, memory). */
    zdot[KS_PD_P0] = p->k_p0 * ks_pd_pos(m - 1.0) - p0 / p->tau_p0;
    zdot[KS_PD_P] = p0 / p->tau_p0 - p->k_pout * (pr - 1.0);
}
