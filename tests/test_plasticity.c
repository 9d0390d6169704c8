/*
 * test_plasticity.c -- the structural layer: spine bookkeeping (the flows between pools
 * balance exactly; no negative pools), relaxation without drug (stable spines to the set
 * point, labile spines to zero, exponential fade at k_fade), the plasticity window opening
 * after a dose and closing within days as the first-order protein decay dictates, formation
 * delayed by the transit chain (unchanged at 3-6 h, raised at 12-24 h), and ablation removing
 * only labile spines.
 */
#include "ks_test_util.h"
#include "pd_sim.h"

/* Small deterministic generator for random states (xorshift64*). */
static double urand(unsigned long long *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct {
    double w_peak, t_w_peak;
    double f_3_6, f_12_24; /* summed formation rate in each interval */
    double n_3_6, n_12_24;
    int negative;
} watch;

static void observe(double t, const sim_state *s, const double *out, void *user)
{
    watch *w = user;
    double wnd = out[KS_PD_OUT_WINDOW], f = out[KS_PD_OUT_SPINE_FORMATION];
    if (wnd > w->w_peak) {
        w->w_peak = wnd;
        w->t_w_peak = t;
    }
    if (t >= 3.0 && t <= 6.0) {
        w->f_3_6 += f;
        w->n_3_6 += 1.0;
    }
    if (t >= 12.0 && t <= 24.0) {
        w->f_12_24 += f;
        w->n_12_24 += 1.0;
    }
    for (int i = 0; i < KS_PD_N; i++)
        if (ks_pd_state_nonneg(i) && s->z[i] < 0.0)
            w->negative = 1;
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params;
    ks_pd_typical *typ = sim_typical(ctx, &params);
    ks_pd_covariates cov;
    ks_pd_patient pp;
    sim_state s;
    double k_fade = ks_test_par(ctx, params, "spine.k_fade"),
           l_s = ks_test_par(ctx, params, "spine.l_s"),
           k_nc0 = ks_test_par(ctx, params, "spine.k_nc0"),
           k_nc_s = ks_test_par(ctx, params, "spine.k_nc_s");
    double w50 = ks_test_par(ctx, params, "spine.w50"),
           thalf = ks_test_par(ctx, params, "sig.p_thalf");

    /* 1. Bookkeeping at random states: dS_new = F - cons - fade, dS_nc = cons - elimination,
     *    dS_st = homeostasis, and the total changes only by formation, fade, elimination and
     *    homeostasis (consolidation moves spines between pools). */
    {
        ks_pd_covariates_init(&cov);
        sim_patient(ctx, typ, &cov, &pp, &s);
        unsigned long long seed = 12345;
        for (int k = 0; k < 1000; k++) {
            double z[KS_PD_N], zd[KS_PD_N], out[KS_PD_NOUT];
            ks_pd_initial_state(&pp, z);
            z[KS_PD_M] = 1.0 + 2.0 * urand(&seed);
            for (int i = KS_PD_Z1; i <= KS_PD_Z6; i++)
                z[i] = urand(&seed);
            z[KS_PD_SNEW] = 0.5 * urand(&seed);
            z[KS_PD_SST] = 1.2 * urand(&seed);
            z[KS_PD_SNC] = 0.3 * urand(&seed);
            z[KS_PD_P] = 1.0 + 0.5 * urand(&seed);
            z[KS_PD_MOOD] = 3.0 * urand(&seed) - 1.5;
            z[KS_PD_RTH] = urand(&seed);
            z[KS_PD_SX] = 2.0 * urand(&seed);
            ks_pd_input in;
            ks_pd_input_init(&in);
            ks_pd_rhs(&pp, 0.0, z, &in, zd);
            ks_pd_outputs(&pp, z, &in, out);
            double rf = fmax(0.0, 0.5 * (1.0 + z[KS_PD_MOOD])) * pp.spine.r_self + z[KS_PD_RTH];
            double wnd = out[KS_PD_OUT_WINDOW];
            double cons = pp.spine.k_c * rf * wnd * z[KS_PD_SNEW];
            double fade = k_fade * z[KS_PD_SNEW];
            double set = 1.0 - l_s * z[KS_PD_SX];
            double homeo = pp.spine.k_h * (fmax(0.0, set) - z[KS_PD_SST]);
            double elim = (k_nc0 + k_nc_s * z[KS_PD_SX]) * z[KS_PD_SNC];
            double f = out[KS_PD_OUT_SPINE_FORMATION];
            /* formation on the sites not taken by stable or consolidated new spines */
            double zl = z[KS_PD_Z1 + pp.spine.n_transit - 1];
            CHECK_CLOSE(
                f, pp.spine.g_f * zl * fmax(0.0, 1.0 + pp.spine.v0 - z[KS_PD_SST] - z[KS_PD_SNC]),
                1e-12, 1e-15);
            CHECK_CLOSE(zd[KS_PD_SNEW], f - cons - fade, 1e-12, 1e-15);
            CHECK_CLOSE(zd[KS_PD_SNC], cons - elim, 1e-12, 1e-15);
            CHECK_CLOSE(zd[KS_PD_SST], homeo, 1e-12, 1e-15);
            CHECK_CLOSE(zd[KS_PD_SNEW] + zd[KS_PD_SNC] + zd[KS_PD_SST], f - fade - elim + homeo,
                        1e-12, 1e-15);
            CHECK_CLOSE(out[KS_PD_OUT_SPINES_TOTAL], z[KS_PD_SST] + z[KS_PD_SNC] + z[KS_PD_SNEW],
                        1e-15, 0.0);
            CHECK_CLOSE(out[KS_PD_OUT_SPINES_STABLE], z[KS_PD_SST] + z[KS_PD_SNC], 1e-15, 0.0);
            CHECK(out[KS_PD_OUT_SPINES_NEW_CONS] == z[KS_PD_SNC]);
            CHECK_CLOSE(wnd, (z[KS_PD_P] - 1.0) / (w50 + z[KS_PD_P] - 1.0), 1e-12, 0.0);
        }
    }

    /* 2. No drug: from a perturbed state of the healthy virtual animal, S_new fades exactly as
     *    exp(-k_fade t) (no window, no formation), S_nc is eliminated exactly as exp(-k_nc0 t)
     *    (no stress, no consolidation), S_st relaxes to the set point 1 - L_s Sx and S_new to
     *    zero. */
    {
        ks_pd_covariates_animal(&cov);
        sim_patient(ctx, typ, &cov, &pp, &s);
        CHECK(s.z[KS_PD_SX] == 0.0);
        s.z[KS_PD_SST] = 0.7;
        s.z[KS_PD_SNEW] = 0.2;
        s.z[KS_PD_SNC] = 0.1;
        sim_regimen r = {0};
        sim_run(&pp, &s, &r, 0.0, 48.0, 0.05, NULL, NULL);
        CHECK_CLOSE(s.z[KS_PD_SNEW], 0.2 * exp(-k_fade * 48.0), 1e-9, 0.0);
        CHECK_CLOSE(s.z[KS_PD_SNC], 0.1 * exp(-k_nc0 * 48.0), 1e-9, 0.0);
        sim_run(&pp, &s, &r, 48.0, 24.0 * 120.0, 0.25, NULL, NULL);
        CHECK_CLOSE(s.z[KS_PD_SST], 1.0 - l_s * s.z[KS_PD_SX], 1e-6, 0.0);
        CHECK_CLOSE(s.z[KS_PD_SST], 1.0, 1e-4, 0.0); /* back in the healthy well: Sx = 0 */
        CHECK(s.z[KS_PD_SNEW] < 1e-9);
        CHECK(s.z[KS_PD_SNEW] >= 0.0);
    }
    /* The depressed patient: the initial state already sits at S_st = 1 - L_s Sx. */
    {
        ks_pd_covariates_init(&cov);
        sim_patient(ctx, typ, &cov, &pp, &s);
        CHECK_CLOSE(s.z[KS_PD_SST], 1.0 - l_s * s.z[KS_PD_SX], 1e-12, 0.0);
        CHECK(s.z[KS_PD_SNEW] == 0.0);
        s.z[KS_PD_SST] = 1.0;
        s.z[KS_PD_SNEW] = 0.1;
        sim_regimen r = {0};
        sim_run(&pp, &s, &r, 0.0, 24.0 * 120.0, 0.25, NULL, NULL);
        CHECK_CLOSE(s.z[KS_PD_SST], 1.0 - l_s * s.z[KS_PD_SX], 1e-3, 0.0);
        CHECK(s.z[KS_PD_SNEW] < 1e-6);
    }

    /* 3. The window opens after a dose, closes within days; formation is delayed. */
    {
        ks_pd_covariates_init(&cov);
        sim_patient(ctx, typ, &cov, &pp, &s);
        sim_regimen r = {0};
        r.n_inf = 1;
        r.inf[0] = (sim_infusion){0.0, 2.0 / 3.0, 35.0};
        watch w = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0};
        sim_run(&pp, &s, &r, 0.0, 48.0, 1.0 / 120.0, observe, &w);
        CHECK(w.w_peak > 0.3);
        CHECK(w.t_w_peak > 1.0 && w.t_w_peak < 24.0);
        /* Moda-Sava 2019: formation unchanged at 3-6 h, raised at 12-24 h (mean rates) */
        CHECK(w.f_3_6 / w.n_3_6 < 0.1 * w.f_12_24 / w.n_12_24);
        CHECK(w.f_12_24 > 0.0);
        /* From 48 h, P - 1 decays with half-life p_thalf (P0 is gone), so the window follows
         * W(t) = e(t)/(w50 + e(t)) with e(t) = e48 2^(-(t-48)/thalf). */
        double e48 = s.z[KS_PD_P] - 1.0;
        sim_run(&pp, &s, &r, 48.0, 14.0 * 24.0, 0.1, observe, &w);
        double e = e48 * pow(2.0, -(14.0 * 24.0 - 48.0) / thalf);
        double wexp = e / (w50 + e);
        double out[KS_PD_NOUT];
        ks_pd_input in;
        ks_pd_input_init(&in);
        ks_pd_outputs(&pp, s.z, &in, out);
        CHECK_CLOSE(out[KS_PD_OUT_WINDOW], wexp, 1e-3, 0.0);
        CHECK(out[KS_PD_OUT_WINDOW] < 0.25 * w.w_peak); /* closed within two weeks */
        CHECK(!w.negative);
    }

    /* 4. Ablation removes the new spines, labile and consolidated, and nothing else. */
    {
        ks_pd_covariates_init(&cov);
        sim_patient(ctx, typ, &cov, &pp, &s);
        sim_regimen r = {0};
        r.n_inf = 1;
        r.inf[0] = (sim_infusion){0.0, 2.0 / 3.0, 35.0};
        sim_run(&pp, &s, &r, 0.0, 24.0, 1.0 / 120.0, NULL, NULL);
        double before[KS_PD_N];
        memcpy(before, s.z, sizeof before);
        CHECK(before[KS_PD_SNEW] > 0.0);
        CHECK(before[KS_PD_SNC] > 0.0); /* therapy-free own reinforcement consolidates some */
        ks_pd_ablate_new_spines(&pp, s.z, 0.75);
        CHECK_CLOSE(s.z[KS_PD_SNEW], 0.25 * before[KS_PD_SNEW], 1e-15, 0.0);
        CHECK_CLOSE(s.z[KS_PD_SNC], 0.25 * before[KS_PD_SNC], 1e-15, 0.0);
        for (int i = 0; i < KS_PD_N; i++)
            if (i != KS_PD_SNEW && i != KS_PD_SNC)
                CHECK(s.z[i] == before[i]);
        ks_pd_ablate_new_spines(&pp, s.z, 2.0); /* clamped to 1 */
        CHECK(s.z[KS_PD_SNEW] == 0.0 && s.z[KS_PD_SNC] == 0.0);
    }

    ks_pd_typical_free(typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return ks_test_finish("test_plasticity");
}
