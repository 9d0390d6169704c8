/*
 * clinical.c -- clinical layer of the mechanism (docs/MODEL.md section 8).
 */
#include "clinical.h"
#include "pd_util.h"

double ks_pd_clin_madrs(const ks_pd_clin_params *p, double m)
{
    /* MODEL.md 8: the patient's severity M_dep at m = -1, residual symptoms M_res at m = +1. */
    double mm = ks_pd_clamp(m, -1e3, 1e3);
    return ks_pd_clamp(p->m_res + (p->m_dep - p->m_res) * 0.5 * (1.0 - mm), 0.0, 60.0);
}

double ks_pd_clin_hdrs17(const ks_pd_clin_params *p, double madrs)
{
    /* Leucht et al. 2018 J Affect Disord 226:326: HAM-D 10/20/30/40 <-> MADRS 13/26/39/52-53. */
    return ks_pd_clamp(madrs / p->madrs_per_hamd, 0.0, 52.0);
}
