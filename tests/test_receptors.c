/*
 * test_receptors.c -- the receptor layer in isolation: NMDA block at a clamped concentration
 * converges to x/(1+x) with x from the table's Ki, unbound fraction and Mg shift (arithmetic
 * done here, independently of the layer), with the first-order rate kb (1 + x); interneurons
 * more blocked than pyramidal cells at subanaesthetic exposure; Emax occupancies of mu-opioid,
 * SERT and midazolam sedation at their half-effect concentrations.
 */
#include "ks_test_util.h"
#include "pd_sim.h"

typedef struct {
    double sket, rket, snorket, rnorket, hnk;
} clamp_conc;

static void clamp_events(double t, ks_pd_input *in, void *user)
{
    (void)t;
    const clamp_conc *c = user;
    in->sket = c->sket;
    in->rket = c->rket;
    in->snorket = c->snorket;
    in->rnorket = c->rnorket;
    in->hnk_2s6s = 0.5 * c->hnk;
    in->hnk_2r6r = 0.5 * c->hnk;
}

typedef struct {
    double peak_i, peak_p;
    int i_above_p_during_infusion;
} infusion_obs;

static void watch_infusion(double t, const sim_state *s, const double *out, void *user)
{
    (void)s;
    infusion_obs *o = user;
    double bi = out[KS_PD_OUT_BLOCK_I], bp = out[KS_PD_OUT_BLOCK_P];
    o->peak_i = fmax(o->peak_i, bi);
    o->peak_p = fmax(o->peak_p, bp);
    if (t > 0.05 && t <= 2.0 / 3.0 && !(bi > bp))
        o->i_above_p_during_infusion = 0;
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params;
    ks_pd_typical *typ = sim_typical(ctx, &params);
    ks_pd_covariates cov;
    ks_pd_covariates_init(&cov);
    ks_pd_patient pp;
    sim_state s;

    double fu = ks_test_par(ctx, params, "rec.fu_ket");
    double ki_s = ks_test_par(ctx, params, "rec.ki_sket"),
           ki_r = ks_test_par(ctx, params, "rec.ki_rket");
    double ki_sn = ks_test_par(ctx, params, "rec.ki_snorket"),
           ki_rn = ks_test_par(ctx, params, "rec.ki_rnorket");
    double ki_h = ks_test_par(ctx, params, "rec.ki_hnk");
    double mg_i = ks_test_par(ctx, params, "rec.mg_i"), mg_p = ks_test_par(ctx, params, "rec.mg_p");
    double kb_i = ks_test_par(ctx, params, "rec.kb_i"), kb_p = ks_test_par(ctx, params, "rec.kb_p");

    /* 1. Equilibrium block x/(1+x) (Gaddum competitive sum; MODEL.md 2.1) for single species
     *    and a mixture, both populations. */
    const clamp_conc cases[] = {
        {0.5, 0.0, 0.0, 0.0, 0.0},  {0.0, 2.0, 0.0, 0.0, 0.0},  {0.0, 0.0, 3.0, 0.0, 0.0},
        {0.0, 0.0, 0.0, 20.0, 0.0}, {0.0, 0.0, 0.0, 0.0, 60.0}, {0.4, 0.4, 0.3, 0.3, 0.2},
        {4.0, 4.0, 0.0, 0.0, 0.0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        clamp_conc c = cases[k];
        double sum = fu * (c.sket / ki_s + c.rket / ki_r + c.snorket / ki_sn + c.rnorket / ki_rn +
                           c.hnk / ki_h);
        double xi = sum / mg_i, xp = sum / mg_p;
        sim_patient(ctx, typ, &cov, &pp, &s);
        sim_regimen r = {0};
        r.events = clamp_events;
        r.user = &c;
        /* slowest rate kb_p (1 + xp) >= 1.5/h: 12 h is > 18 time constants */
        sim_run(&pp, &s, &r, 0.0, 12.0, 1.0 / 120.0, NULL, NULL);
        CHECK_CLOSE(s.z[KS_PD_BI], xi / (1.0 + xi), 1e-6, 1e-9);
        CHECK_CLOSE(s.z[KS_PD_BP], xp / (1.0 + xp), 1e-6, 1e-9);
        CHECK(s.z[KS_PD_BI] > s.z[KS_PD_BP]); /* mg_i < mg_p */
    }

    /* 2. First-order approach: B(t) = B_inf (1 - exp(-kb (1 + x) t)) from B = 0. */
    {
        clamp_conc c = {1.0, 1.0, 0.0, 0.0, 0.0};
        double sum = fu * (c.sket / ki_s + c.rket / ki_r);
        double xi = sum / mg_i, xp = sum / mg_p;
        double t1 = 0.1; /* h */
        sim_patient(ctx, typ, &cov, &pp, &s);
        sim_regimen r = {0};
        r.events = clamp_events;
        r.user = &c;
        sim_run(&pp, &s, &r, 0.0, t1, 1.0 / 3600.0, NULL, NULL);
        CHECK_CLOSE(s.z[KS_PD_BI], xi / (1.0 + xi) * (1.0 - exp(-kb_i * (1.0 + xi) * t1)), 1e-7,
                    1e-10);
        CHECK_CLOSE(s.z[KS_PD_BP], xp / (1.0 + xp) * (1.0 - exp(-kb_p * (1.0 + xp) * t1)), 1e-7,
                    1e-10);
    }

    /* 3. Subanaesthetic exposure (racemic 0.5 mg/kg over 40 min, 70 kg): interneurons more
     *    blocked than pyramidal cells throughout the infusion and at the peaks (MODEL.md 2.1:
     *    faster kinetics and a smaller Mg shift). */
    {
        sim_patient(ctx, typ, &cov, &pp, &s);
        sim_regimen r = {0};
        r.n_inf = 1;
        r.inf[0] = (sim_infusion){0.0, 2.0 / 3.0, 35.0};
        infusion_obs o = {0.0, 0.0, 1};
        sim_run(&pp, &s, &r, 0.0, 6.0, 1.0 / 120.0, watch_infusion, &o);
        CHECK(o.i_above_p_during_infusion);
        CHECK(o.peak_i > 2.0 * o.peak_p);
        CHECK(o.peak_i > 0.05 && o.peak_i < 0.5); /* subanaesthetic: well below saturation */
    }

    /* 4. Algebraic occupancies at their half-effect concentrations (Emax: exactly 1/2). */
    {
        sim_patient(ctx, typ, &cov, &pp, &s);
        double out[KS_PD_NOUT];
        ks_pd_input in;
        ks_pd_input_init(&in);
        double ki_ntx = ks_test_par(ctx, params, "rec.ki_ntx"),
               fu_ntx = ks_test_par(ctx, params, "rec.fu_ntx");
        in.naltrexone = ki_ntx / fu_ntx; /* y = 1 */
        in.escitalopram = ks_test_par(ctx, params, "rec.ec50_sert_esc") / 324.4;
        in.midazolam = ks_test_par(ctx, params, "rec.ec50_sed_mdz") / 325.8;
        ks_pd_outputs(&pp, s.z, &in, out);
        CHECK_CLOSE(out[KS_PD_OUT_MU_OCC], 0.5, 1e-12, 0.0);
        CHECK_CLOSE(out[KS_PD_OUT_SERT_OCC], 0.5, 1e-3, 0.0);
        CHECK_CLOSE(out[KS_PD_OUT_SEDATION], 0.5, 1e-3, 0.0);
        /* naltrexol competes at the same site: y = 1 + 1 -> 2/3 */
        in.naltrexol = ks_test_par(ctx, params, "rec.ki_nol") / fu_ntx;
        ks_pd_outputs(&pp, s.z, &in, out);
        CHECK_CLOSE(out[KS_PD_OUT_MU_OCC], 2.0 / 3.0, 1e-12, 0.0);
        /* rapamycin: brain = ratio x blood; half inhibition at IC50 / ratio */
        ks_pd_input_init(&in);
        in.rapamycin = ks_test_par(ctx, params, "int.rapa_ic50") /
                       ks_test_par(ctx, params, "int.rapa_brain_ratio");
        ks_pd_outputs(&pp, s.z, &in, out);
        CHECK_CLOSE(out[KS_PD_OUT_MTOR_INHIBITION], 0.5, 1e-12, 0.0);
        /* combined with a 50 % block event: 1 - 0.5 x 0.5 */
        in.mtor_block = 0.5;
        ks_pd_outputs(&pp, s.z, &in, out);
        CHECK_CLOSE(out[KS_PD_OUT_MTOR_INHIBITION], 0.75, 1e-12, 0.0);
        /* nothing present: every occupancy 0 */
        ks_pd_input_init(&in);
        ks_pd_outputs(&pp, s.z, &in, out);
        CHECK(out[KS_PD_OUT_MU_OCC] == 0.0 && out[KS_PD_OUT_SERT_OCC] == 0.0 &&
              out[KS_PD_OUT_SEDATION] == 0.0 && out[KS_PD_OUT_MTOR_INHIBITION] == 0.0);
    }

    ks_pd_typical_free(typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return ks_test_finish("test_receptors");
}
