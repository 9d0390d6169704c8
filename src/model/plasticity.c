/*
 * plasticity.c -- structural layer of the mechanism (docs/MODEL.md section 5).
 */
#include "plasticity.h"
#include "pd_util.h"

double ks_pd_window(const ks_pd_spine_params *p, double protein)
{
    /* MODEL.md 5: W = (P - 1)+ / (W50 + (P - 1)+), Emax of the synaptic-protein excess. */
    double e = ks_pd_clamp(protein - 1.0, 0.0, 1e6);
    return e / (p->w50 + e);
}

double ks_pd_spine_set_point(const ks_pd_spine_params *p, double sx, double a)
{
    /* MODEL.md 5: S_set = 1 - L_s Sx + phi_A A (Radley 2004/2006 stress loss; chronic
     * antidepressants restore spines, form assumed); kept >= 0 so that S_st stays >= 0. */
    return ks_pd_pos(1.0 - p->l_s * ks_pd_clamp(sx, 0.0, 1e6) +
                     p->phi_a * ks_pd_clamp(a, 0.0, 1.0));
}

double ks_pd_spines_total(const double *z)
{
    return ks_pd_clamp(z[KS_PD_SST], 0.0, 1e6) + ks_pd_clamp(z[KS_PD_SNC], 0.0, 1e6) +
           ks_pd_clamp(z[KS_PD_SNEW], 0.0, 1e6);
}

void ks_pd_spine_flows_at(const ks_pd_spine_params *p, const double *z, ks_pd_spine_flows *f)
{
    int n = p->n_transit;
    double zlast = ks_pd_clamp(z[KS_PD_Z1 + n - 1], 0.0, 1e6);
    double snew = ks_pd_clamp(z[KS_PD_SNEW], 0.0, 1e6);
    double sst = ks_pd_clamp(z[KS_PD_SST], 0.0, 1e6);
    double snc = ks_pd_clamp(z[KS_PD_SNC], 0.0, 1e6);
    double sx = ks_pd_clamp(z[KS_PD_SX], 0.0, 1e6);
    double m = ks_pd_clamp(z[KS_PD_MOOD], -1e3, 1e3);
    double rth = ks_pd_clamp(z[KS_PD_RTH], 0.0, 1e6);

    f->window = ks_pd_window(p, z[KS_PD_P]);
    /* Rf = r_self (1 + m)/2 + R_th: the person's own activity plus therapy (synaptic tagging
     * and capture, Frey & Morris 1997); (1 + m)/2 kept >= 0 so that consolidation is a flow
     * from S_new to S_nc only. */
    f->reinforcement = p->r_self * ks_pd_pos(0.5 * (1.0 + m)) + rth;
    f->set_point = ks_pd_spine_set_point(p, z[KS_PD_SX], z[KS_PD_A]);
    /* F = g_F Z_n max(0, 1 + v0 - S_st - S_nc): formation on vacant sites (Moda-Sava 2019
     * selective rescue; v0 > 0, Phoumthipphavong 2016). */
    f->formation = p->g_f * zlast * ks_pd_pos(1.0 + p->v0 - sst - snc);
    f->consolidation = p->k_c * f->reinforcement * f->window * snew;
    f->fade = p->k_fade * snew;
    /* Consolidated new spines keep their identity (Moda-Sava 2019 ablated the spines formed
     * after the drug, consolidated or not) and are eliminated at the slow turnover of persistent
     * adult spines, k_nc0 (Phoumthipphavong 2016: the rise lasts two weeks with elimination
     * unchanged), plus an elimination that grows with the stress load (glucocorticoids raise
     * spine elimination: Liston & Gan 2011 PNAS 108:16074), k_nc_s Sx. */
    f->elimination = (p->k_nc0 + p->k_nc_s * sx) * snc;
    f->homeostasis = p->k_h * (f->set_point - sst);
}

void ks_pd_spine_rhs(const ks_pd_spine_params *p, const ks_pd_spine_flows *f, const double *z,
                     double *zdot)
{
    int n = p->n_transit;
    /* MODEL.md 5: transit chain (Savic et al. 2007 J Pharmacokinet Pharmacodyn 34:711),
     * k_tr = n/MTT, input max(0, M - 1). */
    double k_tr = (double)n / p->mtt;
    double in = ks_pd_clamp(z[KS_PD_M] - 1.0, 0.0, 1e6);
    for (int i = 0; i < KS_PD_NTRANSIT; i++) {
        double zi = ks_pd_clamp(z[KS_PD_Z1 + i], -1e6, 1e6);
        zdot[KS_PD_Z1 + i] = i < n ? k_tr * (in - zi) : 0.0;
        in = zi;
    }
    /* dS_new/dt = F - k_c Rf W S_new - k_fade S_new (tagging and capture: Frey & Morris 1997);
     * dS_nc/dt = k_c Rf W S_new - (k_nc0 + k_nc_s Sx) S_nc; dS_st/dt = k_h (S_set - S_st). */
    zdot[KS_PD_SNEW] = f->formation - f->consolidation - f->fade;
    zdot[KS_PD_SNC] = f->consolidation - f->elimination;
    zdot[KS_PD_SST] = f->homeostasis;
}
