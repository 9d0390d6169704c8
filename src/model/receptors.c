/*
 * receptors.c -- receptor layer of the mechanism (docs/MODEL.md section 2).
 */
#include "receptors.h"
#include "pd_util.h"

/* Concentration as used by the receptor algebra: non-negative, finite, capped at 1 M. */
static double conc(double c)
{
    return ks_pd_clamp(c, 0.0, 1e6);
}

void ks_pd_rec_algebra(const ks_pd_rec_params *p, const ks_pd_input *in, ks_pd_rec_out *o)
{
    /* MODEL.md 1: unbound concentration = fu x total (brain unbound = plasma unbound). */
    double u_s = p->fu_ket * conc(in->sket);
    double u_r = p->fu_ket * conc(in->rket);
    double u_sn = p->fu_ket * conc(in->snorket);
    double u_rn = p->fu_ket * conc(in->rnorket);
    double u_h = p->fu_ket * (conc(in->hnk_2s6s) + conc(in->hnk_2r6r));

    /* MODEL.md 2.1: Gaddum competitive sum over species at the channel site (Ki: Ebert 1997;
     * HNK: Mol Pharmacol 2020 98:203), divided by the Mg2+ shift of each population
     * (Kotermanski & Johnson 2009). */
    double sum = u_s / p->ki_sket + u_r / p->ki_rket + u_sn / p->ki_snorket + u_rn / p->ki_rnorket +
                 u_h / p->ki_hnk;
    o->x_i = sum / p->mg_i;
    o->x_p = sum / p->mg_p;
    /* MODEL.md 3.2: parent drug only, interneuron-type (cortical) Mg shift. */
    o->x_c = (u_s / p->ki_sket + u_r / p->ki_rket) / p->mg_i;

    /* MODEL.md 2.2: mu-opioid occupancy y/(1+y), naltrexone and 6b-naltrexol competing. */
    double y = p->fu_ntx * (conc(in->naltrexone) / p->ki_ntx + conc(in->naltrexol) / p->ki_nol);
    o->occ_mu = y / (1.0 + y);

    /* MODEL.md 2.2: SERT Emax (Meyer 2004); two SSRIs combine as competitive ligands. */
    double ys = conc(in->escitalopram) / p->ec50_sert_esc + conc(in->citalopram) / p->ec50_sert_cit;
    o->occ_sert = ys / (1.0 + ys);

    /* MODEL.md 3.2: midazolam sedation, Emax. */
    double cm = conc(in->midazolam);
    o->sedation = cm / (cm + p->ec50_sed_mdz);

    /* MODEL.md 2.2 and 10: AMPA block is an event level (NBQX). */
    o->occ_ampa = ks_pd_clamp(in->ampa_block, 0.0, 1.0);

    /* MODEL.md 2.2: rapamycin brain inhibition with brain/blood ratio, Emax; combined with the
     * i.c.v. block event as independent inhibitions, 1 - (1 - a)(1 - b). */
    double cb = p->rapa_brain_ratio * conc(in->rapamycin);
    double i_rapa = cb / (cb + p->rapa_ic50);
    double i_evt = ks_pd_clamp(in->mtor_block, 0.0, 1.0);
    o->i_mtor = 1.0 - (1.0 - i_rapa) * (1.0 - i_evt);
}

void ks_pd_rec_rhs(const ks_pd_rec_params *p, const ks_pd_rec_out *o, const double *z, double *zdot)
{
    /* MODEL.md 2.1: dB/dt = kb (x (1 - B) - B): first-order trapping block, equilibrium
     * x/(1+x) (Brain Sci 2020 10:928 Table 1; Holford & Sheiner 1981). */
    double bi = ks_pd_clamp(z[KS_PD_BI], -1.0, 2.0);
    double bp = ks_pd_clamp(z[KS_PD_BP], -1.0, 2.0);
    zdot[KS_PD_BI] = p->kb_i * (o->x_i * (1.0 - bi) - bi);
    zdot[KS_PD_BP] = p->kb_p * (o->x_p * (1.0 - bp) - bp);
}
