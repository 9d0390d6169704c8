/*
 * test_mood.c -- the mood, clinical and placebo layers: the double well's roots and critical
 * tilt against calculus, the ridge lowered by the window, the smooth habit step, the score
 * maps (Leucht 2018 factor, clamps), belief, visit and session updates of expectation, the
 * noise parameters, and the acute lift preceding new spines after a dose.
 */
#include "ks_test_util.h"
#include "pd_sim.h"

#include "model/clinical.h"
#include "model/mood.h"

typedef struct {
    double l_peak, t_l_peak, s_peak, t_s_peak, m_min, m_max;
} watch;

static void observe(double t, const sim_state *s, const double *out, void *user)
{
    (void)s;
    watch *w = user;
    if (out[KS_PD_OUT_LIFT] > w->l_peak) {
        w->l_peak = out[KS_PD_OUT_LIFT];
        w->t_l_peak = t;
    }
    if (out[KS_PD_OUT_SPINES_LABILE] > w->s_peak) {
        w->s_peak = out[KS_PD_OUT_SPINES_LABILE];
        w->t_s_peak = t;
    }
    w->m_min = fmin(w->m_min, out[KS_PD_OUT_MOOD]);
    w->m_max = fmax(w->m_max, out[KS_PD_OUT_MOOD]);
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
    sim_patient(ctx, typ, &cov, &pp, &s);
    const ks_pd_mood_params *mp = &pp.mood;
    double a = ks_test_par(ctx, params, "mood.a"), b0 = ks_test_par(ctx, params, "mood.b0");
    double lw = ks_test_par(ctx, params, "mood.lambda_w");

    /* 1. Roots of h (-a m^3 + b0 m) + T: at T = 0 they are +-sqrt(b0/a) whatever the height
     *    h = 1 - lambda_W W: the window lowers the ridge, the wells stay put. */
    CHECK_CLOSE(ks_pd_well_root(mp, 0.0, 0.0, 1), sqrt(b0 / a), 1e-12, 0.0);
    CHECK_CLOSE(ks_pd_well_root(mp, 0.0, 0.0, 0), -sqrt(b0 / a), 1e-12, 0.0);
    CHECK_CLOSE(ks_pd_well_root(mp, 1.0, 0.0, 1), sqrt(b0 / a), 1e-12, 0.0);
    CHECK_CLOSE(ks_pd_well_height(mp, 1.0), 1.0 - lw, 1e-15, 0.0);
    /* 2. Critical tilt: the depressed well exists for T < Tc = h 2 a (b0/3a)^{3/2} and not above
     *    (the local minimum of h (-a m^3 + b0 m) at m = -sqrt(b0/3a)). */
    for (int k = 0; k < 2; k++) {
        double b = b0;
        double tc = (k == 0 ? 1.0 : 1.0 - lw) * 2.0 * a * pow(b / (3.0 * a), 1.5);
        double below = ks_pd_well_root(mp, (double)k, 0.99 * tc, 0);
        double above = ks_pd_well_root(mp, (double)k, 1.01 * tc, 0);
        CHECK(below < -sqrt(b / (3.0 * a)));
        CHECK(above > 0.0);
        CHECK(fabs(ks_pd_well_drift(mp, below, (double)k, 0.99 * tc)) < 1e-9);
        CHECK(fabs(ks_pd_well_drift(mp, above, (double)k, 1.01 * tc)) < 1e-9);
    }
    if (b0 == 1.0 && a == 1.0) /* MODEL.md 7 numbers for the draft values */
        CHECK_CLOSE(2.0 * pow(1.0 / 3.0, 1.5), 0.385, 2e-3, 0.0);

    /* 3. Habit step H(-m) = 1/(1+exp(m/0.1)). */
    CHECK_CLOSE(ks_pd_habit_target(0.0), 0.5, 1e-15, 0.0);
    CHECK(ks_pd_habit_target(-1.0) > 0.9999 && ks_pd_habit_target(1.0) < 1e-4);
    CHECK(ks_pd_habit_target(-1e300) == 1.0 && ks_pd_habit_target(1e300) < 1e-300);

    /* 4. Score maps: m = -1 gives the patient's severity, m = +1 the residual, HDRS-17 =
     *    MADRS / 1.30 (Leucht 2018: MADRS 26 <-> HAM-D 20), clamped to the scales. */
    double m_res = ks_test_par(ctx, params, "clin.m_res"),
           f = ks_test_par(ctx, params, "clin.madrs_per_hamd");
    CHECK_CLOSE(ks_pd_madrs(&pp, -1.0), cov.severity_madrs, 1e-12, 0.0);
    CHECK_CLOSE(ks_pd_madrs(&pp, 1.0), m_res, 1e-12, 0.0);
    CHECK_CLOSE(ks_pd_hdrs17_from_madrs(&pp, 26.0), 20.0, 1e-12, 0.0);
    /* beyond a well the score saturates at that well's value (MODEL.md 8) */
    CHECK_CLOSE(ks_pd_madrs(&pp, -50.0), cov.severity_madrs, 1e-12, 0.0);
    CHECK_CLOSE(ks_pd_madrs(&pp, 50.0), m_res, 1e-12, 0.0);
    CHECK(ks_pd_hdrs17_from_madrs(&pp, 60.0) <= 52.0);
    CHECK_CLOSE(ks_pd_hdrs17_from_madrs(&pp, 39.0), 39.0 / f, 1e-12, 0.0);
    CHECK(ks_pd_rater_sd(&pp) == ks_test_par(ctx, params, "clin.rater_sd"));
    {
        /* Residual symptoms (MODEL.md 8): in the healthy well a full prefrontal deficit keeps
         * the fraction k_res of the severity range; none in the depressed well. */
        double k_res = ks_test_par(ctx, params, "clin.k_res");
        double range = cov.severity_madrs - m_res;
        CHECK_CLOSE(ks_pd_clin_madrs(&pp.clin, 1.0, 1.0, 0.0), m_res + k_res * range, 1e-12, 0.0);
        CHECK_CLOSE(ks_pd_clin_madrs(&pp.clin, 1.0, 0.5, 0.0), m_res + 0.5 * k_res * range, 1e-12,
                    0.0);
        CHECK_CLOSE(ks_pd_clin_madrs(&pp.clin, -1.0, 1.0, 0.0), cov.severity_madrs, 1e-12, 0.0);
        /* Graded relief (MODEL.md 8) scales the symptoms above the residual floor: half relief
         * in the depressed well halves the range above M_res; full relief leaves M_res. */
        CHECK_CLOSE(ks_pd_clin_madrs(&pp.clin, -1.0, 0.0, 0.5), m_res + 0.5 * range, 1e-12, 0.0);
        CHECK_CLOSE(ks_pd_clin_madrs(&pp.clin, -1.0, 0.0, 1.0), m_res, 1e-12, 0.0);
        /* rho = 1 - exp(-(r_L L + r_A s_i A + r_E E)): zero without lift, adaptation or
         * expectation, the exponential of the summed exposures otherwise, never negative */
        ks_pd_clin_params cp = pp.clin;
        cp.r_l = 2.0;
        cp.r_a = 0.5;
        cp.r_e = 0.1;
        CHECK(ks_pd_clin_relief(&cp, 0.0, 1.0, 0.0, 0.0) == 0.0);
        CHECK(ks_pd_clin_relief(&cp, -1.0, 1.0, -1.0, -1.0) == 0.0);
        CHECK_CLOSE(ks_pd_clin_relief(&cp, 0.25, 0.8, 0.5, 0.4), 1.0 - exp(-(0.5 + 0.2 + 0.04)),
                    1e-14, 0.0);
        CHECK(ks_pd_clin_relief(&cp, 1e6, 1.0, 0.0, 0.0) <= 1.0);
    }

    /* 5. Belief, visits, sessions (MODEL.md 9). */
    {
        double theta = ks_test_par(ctx, params, "plc.theta_b"),
               cmax = ks_test_par(ctx, params, "diss.cadss_max");
        double dv = ks_test_par(ctx, params, "plc.delta_v"),
               phi = ks_test_par(ctx, params, "sys.phi_op");
        CHECK_CLOSE(ks_pd_belief(&pp, theta * cmax, 0.0, 0), 0.5, 1e-12, 0.0);
        CHECK(ks_pd_belief(&pp, cmax, 0.0, 0) > 0.9); /* conspicuous dissociation */
        CHECK(ks_pd_belief(&pp, 0.0, 0.0, 0) < 0.5);  /* saline */
        CHECK(ks_pd_belief(&pp, 0.0, 0.8, 0) > ks_pd_belief(&pp, 0.0, 0.0, 0)); /* midazolam */
        CHECK(ks_pd_belief(&pp, 0.0, 0.0, 1) > ks_pd_belief(&pp, 0.0, 0.0, 0)); /* open label */
        double z[KS_PD_N];
        memcpy(z, s.z, sizeof z);
        z[KS_PD_E] = 0.3;
        ks_pd_visit(&pp, z, NULL);
        CHECK_CLOSE(z[KS_PD_E], 0.3 + dv * 0.7, 1e-12, 0.0);
        /* naltrexone at y = 1 (occupancy 1/2): gate 1 - phi/2 */
        ks_pd_input in;
        ks_pd_input_init(&in);
        in.naltrexone =
            ks_test_par(ctx, params, "rec.ki_ntx") / ks_test_par(ctx, params, "rec.fu_ntx");
        z[KS_PD_E] = 0.3;
        ks_pd_visit(&pp, z, &in);
        CHECK_CLOSE(z[KS_PD_E], 0.3 + dv * (1.0 - 0.5 * phi) * 0.7, 1e-12, 0.0);
        /* a session with b = 1/2 changes nothing; saline lowers E, never below 0 */
        z[KS_PD_E] = 0.3;
        ks_pd_session(&pp, z, theta * cmax, 0.0, 0, NULL);
        CHECK_CLOSE(z[KS_PD_E], 0.3, 1e-12, 0.0);
        ks_pd_session(&pp, z, 0.0, 0.0, 0, NULL);
        CHECK(z[KS_PD_E] < 0.3 && z[KS_PD_E] >= 0.0);
        z[KS_PD_E] = 0.0;
        ks_pd_session(&pp, z, 0.0, 0.0, 0, NULL);
        CHECK(z[KS_PD_E] == 0.0);
        /* therapy pulse */
        z[KS_PD_RTH] = 0.0;
        ks_pd_therapy(&pp, z, 2.0);
        CHECK_CLOSE(z[KS_PD_RTH], 2.0 * ks_test_par(ctx, params, "ther.pulse"), 1e-15, 0.0);
    }

    /* 6. Noise parameters, with the patient's eta. */
    {
        ks_pd_covariates c2 = cov;
        c2.eta[KS_PD_ETA_SIGMA_NU] = 0.5;
        ks_pd_patient p2;
        sim_state s2;
        sim_patient(ctx, typ, &c2, &p2, &s2);
        double tau, sig;
        ks_pd_noise_params(&p2, &tau, &sig);
        CHECK(tau == ks_test_par(ctx, params, "mood.tau_nu"));
        CHECK_CLOSE(sig, ks_test_par(ctx, params, "mood.sigma_nu") * exp(0.5), 1e-12, 0.0);
    }

    /* 7. After a dose the acute lift peaks within hours, before the labile spines (days), and
     *    mood improves; without a dose nothing moves. */
    {
        sim_patient(ctx, typ, &cov, &pp, &s);
        double m0 = s.z[KS_PD_MOOD];
        sim_regimen r = {0};
        r.n_inf = 1;
        r.inf[0] = (sim_infusion){0.0, 2.0 / 3.0, 35.0};
        watch w = {0.0, 0.0, 0.0, 0.0, 1e9, -1e9};
        sim_run(&pp, &s, &r, 0.0, 96.0, 1.0 / 120.0, observe, &w);
        CHECK(w.l_peak > 0.0);
        CHECK(w.t_l_peak < 12.0);
        CHECK(w.t_s_peak > w.t_l_peak + 12.0);
        CHECK(w.m_max > m0);
        sim_patient(ctx, typ, &cov, &pp, &s);
        sim_regimen none = {0};
        watch w0 = {0.0, 0.0, 0.0, 0.0, 1e9, -1e9};
        sim_run(&pp, &s, &none, 0.0, 96.0, 0.05, observe, &w0);
        CHECK(w0.l_peak == 0.0 && w0.s_peak == 0.0);
        /* only the habit moves (Hab0 is not its own steady state; tau_hab 60 d): over 4 days
         * Hab gains < 0.06, the tilt falls by < w_hab 0.06, m by less than that / (3 a m^2 - b0)
         * (the slope of the drift at the depressed well) */
        double slope = 3.0 * a * m0 * m0 - b0;
        CHECK(slope > 0.0);
        CHECK(w0.m_max - w0.m_min < ks_test_par(ctx, params, "mood.w_hab") * 0.06 / slope);
        CHECK(w0.m_max <= m0 + 1e-12); /* and only downwards */
    }

    ks_pd_typical_free(typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return ks_test_finish("test_mood");
}
