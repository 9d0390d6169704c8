/*
 * clinical.c -- clinical layer of the mechanism (docs/MODEL.md section 8).
 */
#include "clinical.h"
#include "pd_util.h"

double ks_pd_clin_relief(const ks_pd_clin_params *p, double lift, double s_i, double a, double e)
{
    /* MODEL.md 8 (graded relief): rho = 1 - exp(-(r_L max(L, 0) + r_A s_i max(A, 0) +
     * r_E max(E, 0))), an
     * exponential (Emax-like, saturating below 1) form, assumed. The acute synaptic lift and
     * the SSRI's slow adaptation ease symptoms in proportion to their size whether or not the
     * mood state crosses the ridge: early SSRI effects on emotional processing precede mood
     * change (Harmer et al. 2009 Br J Psychiatry 195:102) and the drug-placebo difference is
     * graded from week 1 (Taylor et al. 2006 Arch Gen Psychiatry 63:1217); ketamine's MADRS
     * falls within 2 h, before new spines (Murrough et al. 2013 Biol Psychiatry 74:250); each
     * extra visit adds 0.67-0.86 HRSD points of improvement in placebo arms (Posternak &
     * Zimmerman 2007 Br J Psychiatry 190:287), a graded effect of expectation. */
    double x =
        p->r_l * ks_pd_pos(lift) + p->r_a * ks_pd_pos(s_i) * ks_pd_pos(a) + p->r_e * ks_pd_pos(e);
    return 1.0 - exp(-ks_pd_clamp(x, 0.0, 700.0));
}

double ks_pd_clin_madrs(const ks_pd_clin_params *p, double m, double deficit, double relief)
{
    /* MODEL.md 8: the patient's severity M_dep at m = -1; in the healthy basin residual
     * symptoms M_res plus the fraction k_res (M_dep - M_res) of the severity range that the
     * remaining prefrontal (synaptic) deficit D = 1 - C_pfc keeps (residual symptoms after
     * response track incomplete recovery: Paykel et al. 1995 Psychol Med 25:1171; form
     * assumed). Both basin weights are kept in [0, 1]: a mood beyond a well has no fewer
     * symptoms than the well itself (the healthy floor is the residual, the depressed ceiling
     * the patient's severity). The graded relief rho scales the symptoms above the residual
     * floor: (1 - rho). */
    double mm = ks_pd_clamp(m, -1e3, 1e3);
    double d = ks_pd_clamp(deficit, 0.0, 1.0);
    double range = p->m_dep - p->m_res;
    double low = ks_pd_clamp(0.5 * (1.0 - mm), 0.0, 1.0);
    double high = ks_pd_clamp(0.5 * (1.0 + mm), 0.0, 1.0);
    double keep = 1.0 - ks_pd_clamp(relief, 0.0, 1.0);
    return ks_pd_clamp(p->m_res + range * (low + p->k_res * d * high) * keep, 0.0, 60.0);
}

double ks_pd_clin_hdrs17(const ks_pd_clin_params *p, double madrs)
{
    /* Leucht et al. 2018 J Affect Disord 226:326: HAM-D 10/20/30/40 <-> MADRS 13/26/39/52-53. */
    return ks_pd_clamp(madrs / p->madrs_per_hamd, 0.0, 52.0);
}
