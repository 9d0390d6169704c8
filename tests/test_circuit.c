/*
 * test_circuit.c -- the circuit layer: the inverted U of glutamate over clamped steady
 * exposures (up at 0.3 and 1 uM, down at 5 and 10 uM racemic plasma, Moghaddam 1997 shape),
 * the steady state of the feedback motif against its algebraic solution, dissociation peaking
 * near the end of an infusion and fading within hours, unchanged by naltrexone and by an AMPA
 * block, and easing with repeated doses (tolerance).
 */
#include "ks_test_util.h"
#include "pd_sim.h"

typedef struct {
    double cadss_peak, t_peak, t_below10;
    double glx_peak, t_glx_peak;
    double naltrexone, ampa_block;
} watch;

static void events(double t, ks_pd_input *in, void *user)
{
    (void)t;
    const watch *w = user;
    in->naltrexone = w->naltrexone;
    in->ampa_block = w->ampa_block;
}

static void observe(double t, const sim_state *s, const double *out, void *user)
{
    (void)s;
    watch *w = user;
    double c = out[KS_PD_OUT_CADSS];
    if (c > w->cadss_peak) {
        w->cadss_peak = c;
        w->t_peak = t;
        w->t_below10 = -1.0;
    } else if (w->t_below10 < 0.0 && c < 0.1 * w->cadss_peak) {
        w->t_below10 = t;
    }
    if (out[KS_PD_OUT_GLX_PCT] > w->glx_peak) {
        w->glx_peak = out[KS_PD_OUT_GLX_PCT];
        w->t_glx_peak = t;
    }
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

    /* 1. Inverted U over steady exposures: Glx after 3 h. */
    const double clamp[] = {0.3, 1.0, 5.0, 10.0};
    double glx[4];
    for (int k = 0; k < 4; k++) {
        sim_patient(ctx, typ, &cov, &pp, &s);
        sim_regimen r = {0};
        r.clamp_um = clamp[k];
        sim_run(&pp, &s, &r, 0.0, 3.0, 1.0 / 240.0, NULL, NULL);
        glx[k] = s.z[KS_PD_GLX];
    }
    CHECK(glx[0] > 0.0);
    CHECK(glx[1] > glx[0]); /* rising limb */
    CHECK(glx[2] < 0.0);
    CHECK(glx[3] < glx[2]); /* falling limb: pyramidal cells lose their own NMDA drive */

    /* 2. Steady state of the feedback motif solved algebraically (MODEL.md 3.1): with B at
     *    x/(1+x), Fb = g_fb (raw - 1) and Glx = raw / (1 + Fb) - 1. */
    {
        double fu = ks_test_par(ctx, params, "rec.fu_ket");
        double sum = fu * 0.5 *
                     (1.0 / ks_test_par(ctx, params, "rec.ki_sket") +
                      1.0 / ks_test_par(ctx, params, "rec.ki_rket"));
        double xi = sum / ks_test_par(ctx, params, "rec.mg_i"),
               xp = sum / ks_test_par(ctx, params, "rec.mg_p");
        double bi = xi / (1.0 + xi), bp = xp / (1.0 + xp);
        double dmax = ks_test_par(ctx, params, "circ.dmax"),
               b50 = ks_test_par(ctx, params, "circ.b50");
        double h = ks_test_par(ctx, params, "circ.hill_dis"),
               a_p = ks_test_par(ctx, params, "circ.a_p");
        double g = ks_test_par(ctx, params, "circ.g_fb");
        double dis = dmax * pow(bi, h) / (pow(b50, h) + pow(bi, h));
        double raw =
            fmax(ks_test_par(ctx, params, "circ.raw_floor"), (1.0 - a_p * bp) * (1.0 + dis));
        double expect = raw / (1.0 + g * (raw - 1.0)) - 1.0;
        sim_patient(ctx, typ, &cov, &pp, &s);
        sim_regimen r = {0};
        r.clamp_um = 1.0;
        sim_run(&pp, &s, &r, 0.0, 12.0, 1.0 / 240.0, NULL, NULL);
        CHECK_CLOSE(s.z[KS_PD_GLX], expect, 1e-6, 1e-9);
        CHECK_CLOSE(s.z[KS_PD_FB], g * (raw - 1.0), 1e-6, 1e-9);
    }

    /* 3. Dissociation over a 40-min infusion: peak close to the end of the infusion (effect
     *    site lag of minutes), below 10 % of peak within a few hours; Glx surge transient. */
    watch base = {0.0, 0.0, -1.0, -1e9, 0.0, 0.0, 0.0};
    {
        sim_patient(ctx, typ, &cov, &pp, &s);
        sim_regimen r = {0};
        r.n_inf = 1;
        r.inf[0] = (sim_infusion){0.0, 2.0 / 3.0, 35.0};
        r.events = events;
        r.user = &base;
        sim_run(&pp, &s, &r, 0.0, 8.0, 1.0 / 120.0, observe, &base);
        CHECK(base.t_peak > 0.5 && base.t_peak < 1.0);
        CHECK(base.t_below10 > base.t_peak && base.t_below10 < 4.0);
        CHECK(base.glx_peak > 5.0);
        CHECK(base.t_glx_peak < 1.0);
        CHECK(fabs(100.0 * s.z[KS_PD_GLX]) < 0.05 * base.glx_peak);
    }

    /* 4. Naltrexone and an AMPA block leave dissociation and glutamate exactly unchanged
     *    (no term of theirs upstream of CADSS or Glx: MODEL.md 3.2, AC-03). */
    for (int k = 0; k < 2; k++) {
        watch w = {0.0, 0.0, -1.0, -1e9, 0.0, k == 0 ? 0.05 : 0.0, k == 1 ? 1.0 : 0.0};
        sim_patient(ctx, typ, &cov, &pp, &s);
        sim_regimen r = {0};
        r.n_inf = 1;
        r.inf[0] = (sim_infusion){0.0, 2.0 / 3.0, 35.0};
        r.events = events;
        r.user = &w;
        sim_run(&pp, &s, &r, 0.0, 8.0, 1.0 / 120.0, observe, &w);
        CHECK(w.cadss_peak == base.cadss_peak);
        CHECK(w.t_peak == base.t_peak);
        CHECK(w.glx_peak == base.glx_peak);
    }

    /* 5. Tolerance: the same infusion two days later gives a lower CADSS peak, and the
     *    tolerance relaxes back (tau_tol) when dosing stops. */
    {
        watch w1 = {0.0, 0.0, -1.0, -1e9, 0.0, 0.0, 0.0}, w2 = w1;
        sim_patient(ctx, typ, &cov, &pp, &s);
        sim_regimen r = {0};
        r.n_inf = 2;
        r.inf[0] = (sim_infusion){0.0, 2.0 / 3.0, 35.0};
        r.inf[1] = (sim_infusion){48.0, 2.0 / 3.0, 35.0};
        sim_run(&pp, &s, &r, 0.0, 48.0, 1.0 / 120.0, observe, &w1);
        double tol48 = s.z[KS_PD_TOL];
        sim_run(&pp, &s, &r, 48.0, 56.0, 1.0 / 120.0, observe, &w2);
        CHECK(tol48 > 0.0 && tol48 < 1.0);
        CHECK(w2.cadss_peak < w1.cadss_peak);
        CHECK(w2.cadss_peak > 0.5 * w1.cadss_peak);
        double tol56 = s.z[KS_PD_TOL];
        sim_run(&pp, &s, &r, 56.0, 56.0 + 24.0 * 60.0, 0.05, NULL, NULL);
        CHECK(s.z[KS_PD_TOL] < 0.01 * tol56);
    }

    ks_pd_typical_free(typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return ks_test_finish("test_circuit");
}
