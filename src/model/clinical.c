/*
 * clinical.c -- clinical layer of the mechanism (docs/MODEL.md section 8).
 */
#include "clinical.h"
#include "pd_util.h"

double ks_pd_clin_madrs(const ks_pd_clin_params *p, double m, double deficit)
{
    /* MODEL.md 8: the patient's severity M_dep at m = -1; in the healthy basin residual
     * symptoms M_res plus the fraction k_res (M_dep - M_res) of the severity range that the
     * remaining prefrontal (synaptic) deficit D = 1 - C_pfc keeps (residual symptoms after
     * response track incomplete recovery: Paykel et al. 1995 Psychol Med 25:1171; form
     * assumed). Both basin weights are kept in [0, 1]: a mood beyond a well has no fewer
     * symptoms than the well itself (the healthy floor is the residual, the depressed ceiling
     * the patient's severity). */
    double mm = ks_pd_clamp(m, -1e3, 1e3);
    double d = ks_pd_clamp(deficit, 0.0, 1.0);
    double range = p->m_dep - p->m_res;
    double low = ks_pd_clamp(0.5 * (1.0 - mm), 0.0, 1.0);
    double high = ks_pd_clamp(0.5 * (1.0 + mm), 0.0, 1.0);
    return ks_pd_clamp(p->m_res + range * (low + p->k_res * d * high), 0.0, 60.0);
}

double ks_pd_clin_hdrs17(const ks_pd_clin_params *p, double madrs)
{
    /* Leucht et al. 2018 J Affect Disord 226:326: HAM-D 10/20/30/40 <-> MADRS 13/26/39/52-53. */
    return ks_pd_clamp(madrs / p->madrs_per_hamd, 0.0, 52.0);
}
