/*
 * test_signalling.c -- the signalling layer: the drug-free baseline is a fixed point; after a
 * ketamine pulse BDNF rises first, mTORC1 peaks next and returns to baseline within hours while
 * BDNF is still raised (adapting motif), synaptic proteins rise after mTORC1 and stay up for
 * days (Li 2010 ordering); Val66Met lowers release in allele-dose order; the protein decay
 * after the pulse follows the first-order half-life of the table.
 */
#include "pd_sim.h"

typedef struct {
    double bx_peak, t_bx_peak, bx_at_m_peak;
    double m_peak, t_m_peak, t_m_back;
    double p_peak, t_p_peak, t_p_up;
    double p72;
} sig_watch;

static void observe(double t, const sim_state *s, const double *out, void *user)
{
    (void)s;
    sig_watch *w = user;
    double bx = out[KS_PD_OUT_BDNF_RELEASED], m = out[KS_PD_OUT_MTOR], p = out[KS_PD_OUT_PROTEIN];
    if (bx > w->bx_peak) {
        w->bx_peak = bx;
        w->t_bx_peak = t;
    }
    if (m > w->m_peak) {
        w->m_peak = m;
        w->t_m_peak = t;
        w->bx_at_m_peak = bx;
        w->t_m_back = -1.0;
    } else if (w->t_m_back < 0.0 && m - 1.0 < 0.1 * (w->m_peak - 1.0)) {
        w->t_m_back = t;
    }
    if (p > w->p_peak) {
        w->p_peak = p;
        w->t_p_peak = t;
    }
    if (w->t_p_up < 0.0 && p > 1.05)
        w->t_p_up = t;
    if (fabs(t - 72.0) < 1e-9)
        w->p72 = p;
}

static sig_watch run(ks_ctx *ctx, const ks_pd_typical *typ, ks_bdnf genotype, double t_end)
{
    ks_pd_covariates cov;
    ks_pd_covariates_animal(&cov);
    ks_patient pt;
    ks_patient_init(&pt);
    pt.bdnf = genotype;
    ks_pd_patient pp;
    if (ks_pd_build(ctx, typ, &pt, &cov, &pp) != KS_OK)
        exit(1);
    sim_state s;
    memset(&s, 0, sizeof s);
    ks_pd_initial_state(&pp, s.z);
    sim_regimen r = {0};
    r.n_inf = 1;
    r.inf[0] = (sim_infusion){0.0, 1.0 / 60.0, 32.0}; /* animal-like fast bolus, 70 kg */
    sig_watch w = {0.0, 0.0, -1.0, 0.0, 0.0, -1.0, 0.0, 0.0, -1.0, 0.0};
    sim_run(&pp, &s, &r, 0.0, t_end, 1.0 / 120.0, observe, &w);
    return w;
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params;
    ks_pd_typical *typ = sim_typical(ctx, &params);

    /* 1. Baseline is a fixed point of the signalling states (k_tl = k_rel + k_pd). */
    {
        ks_pd_covariates cov;
        ks_pd_covariates_animal(&cov);
        ks_pd_patient pp;
        sim_state s;
        sim_patient(ctx, typ, &cov, &pp, &s);
        ks_pd_input in;
        ks_pd_input_init(&in);
        double zd[KS_PD_N];
        ks_pd_rhs(&pp, 0.0, s.z, &in, zd);
        const int st[] = {KS_PD_BPOOL, KS_PD_BX, KS_PD_RK, KS_PD_M, KS_PD_P0, KS_PD_P};
        for (int k = 0; k < 6; k++)
            CHECK(fabs(zd[st[k]]) < 1e-14);
    }

    /* 2. Time ordering after a pulse. */
    sig_watch w = run(ctx, typ, KS_BDNF_VALVAL, 96.0);
    CHECK(w.bx_peak > 1.02);
    CHECK(w.m_peak > 1.1);
    /* BDNF release drives TrkB and mTORC1 (Lepack 2015; Li 2010): released BDNF is already more
     * than half-way up when mTORC1 peaks. Its own timing is left to validation (MO-03). */
    CHECK(w.bx_at_m_peak - 1.0 > 0.5 * (w.bx_peak - 1.0));
    CHECK(w.t_m_peak < 2.0); /* mTORC1 is an early, transient signal */
    CHECK(w.t_m_back > w.t_m_peak && w.t_m_back < 6.0);
    CHECK(w.t_p_up > w.t_m_peak);                 /* proteins follow mTORC1 */
    CHECK(w.t_p_peak > w.t_m_back);               /* and keep rising after it has returned */
    CHECK(w.p72 > 1.0 + 0.25 * (w.p_peak - 1.0)); /* still raised after three days */

    /* 3. Protein decay after the pulse: with P0 gone, P - 1 halves every sig.p_thalf hours. */
    {
        double thalf = NAN;
        ks_params_get(ctx, params, "sig.p_thalf", &thalf);
        ks_pd_covariates cov;
        ks_pd_covariates_animal(&cov);
        ks_pd_patient pp;
        sim_state s;
        sim_patient(ctx, typ, &cov, &pp, &s);
        sim_regimen r = {0};
        r.n_inf = 1;
        r.inf[0] = (sim_infusion){0.0, 1.0 / 60.0, 32.0};
        sim_run(&pp, &s, &r, 0.0, 48.0, 1.0 / 120.0, NULL, NULL);
        double e48 = s.z[KS_PD_P] - 1.0;
        sim_run(&pp, &s, &r, 48.0, 48.0 + thalf, 1.0 / 60.0, NULL, NULL);
        CHECK_CLOSE(s.z[KS_PD_P] - 1.0, 0.5 * e48, 1e-3, 0.0);
    }

    /* 4. Val66Met lowers activity-dependent release: Val/Val > Val/Met > Met/Met (Egan 2003).
     * Downstream, Liu 2012 compares Met/Met with Val/Val mice: mTORC1 activation is lower in
     * Met/Met. (The model's Val/Met mTORC1 peak is not between the two: the adapting TrkB
     * reference responds to the slower release; docs/VALIDATION.md notes how small the model's
     * genotype effect is next to Liu 2012's.) */
    sig_watch vm = run(ctx, typ, KS_BDNF_VALMET, 6.0);
    sig_watch mm = run(ctx, typ, KS_BDNF_METMET, 6.0);
    CHECK(w.bx_peak > vm.bx_peak && vm.bx_peak > mm.bx_peak);
    CHECK(w.m_peak > mm.m_peak);

    ks_pd_typical_free(typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return ks_test_finish("test_signalling");
}
