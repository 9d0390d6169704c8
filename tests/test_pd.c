/*
 * test_pd.c -- the assembled mechanism: names and parameter registry, the pre-treatment state
 * is a fixed point, invariants over random states, inputs and event sequences (finite, no
 * negative pools, scores inside their scales), and knock-outs that remove exactly the
 * downstream effects of their link: AMPA block, mTORC1 block (rapamycin), anti-BDNF,
 * naltrexone.
 */
#include "pd_sim.h"

#include "model/registry.h"

#define STEP  (1.0 / 120.0)
#define T_END 36.0
#define NSTEP 4321 /* T_END / STEP + 1 */

static double urand(unsigned long long *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- knock-out arms ---------------------------------------------------------------------- */

typedef struct {
    double ampa, mtor, anti, ntx; /* constant levels of each intervention */
} levels;

static void lvl_events(double t, ks_pd_input *in, void *user)
{
    (void)t;
    const levels *l = user;
    in->ampa_block = l->ampa;
    in->mtor_block = l->mtor;
    in->anti_bdnf = l->anti;
    in->naltrexone = l->ntx;
}

typedef struct {
    int k;
    double bi[NSTEP], bp[NSTEP], glx[NSTEP], cadss[NSTEP], bx[NSTEP];
    double trkb_max, m_max, p_max, snew_max, l_max, bx_max;
} arm;

static void record(double t, const sim_state *s, const double *out, void *user)
{
    (void)t;
    (void)s;
    arm *a = user;
    if (a->k < NSTEP) {
        a->bi[a->k] = out[KS_PD_OUT_BLOCK_I];
        a->bp[a->k] = out[KS_PD_OUT_BLOCK_P];
        a->glx[a->k] = out[KS_PD_OUT_GLX_PCT];
        a->cadss[a->k] = out[KS_PD_OUT_CADSS];
        a->bx[a->k] = out[KS_PD_OUT_BDNF_RELEASED];
    }
    a->k++;
    a->trkb_max = fmax(a->trkb_max, out[KS_PD_OUT_TRKB]);
    a->m_max = fmax(a->m_max, out[KS_PD_OUT_MTOR]);
    a->p_max = fmax(a->p_max, out[KS_PD_OUT_PROTEIN]);
    a->snew_max = fmax(a->snew_max, out[KS_PD_OUT_SPINES_LABILE]);
    a->l_max = fmax(a->l_max, out[KS_PD_OUT_LIFT]);
    a->bx_max = fmax(a->bx_max, out[KS_PD_OUT_BDNF_RELEASED]);
}

static arm arms[6];

static void run_arm(ks_ctx *ctx, const ks_pd_typical *typ, int drug, levels lv, arm *a)
{
    ks_pd_covariates cov;
    ks_pd_covariates_init(&cov);
    ks_pd_patient pp;
    sim_state s;
    sim_patient(ctx, typ, &cov, &pp, &s);
    sim_regimen r = {0};
    r.n_inf = drug ? 1 : 0;
    r.inf[0] = (sim_infusion){0.0, 2.0 / 3.0, 35.0};
    r.events = lvl_events;
    r.user = &lv;
    memset(a, 0, sizeof *a);
    sim_run(&pp, &s, &r, 0.0, T_END, STEP, record, a);
}

static int same_series(const double *x, const double *y)
{
    for (int i = 0; i < NSTEP; i++)
        if (x[i] != y[i])
            return 0;
    return 1;
}

/* ---- invariants ------------------------------------------------------------------------- */

typedef struct {
    unsigned long long seed;
    double c[6];   /* piecewise-constant random concentrations, changed every 6 h */
    double amp[4]; /* interventions */
    double next_change;
} rnd_inputs;

static void rnd_events(double t, ks_pd_input *in, void *user)
{
    rnd_inputs *r = user;
    (void)t;
    in->snorket = r->c[0];
    in->rnorket = r->c[1];
    in->escitalopram = r->c[2];
    in->midazolam = r->c[3];
    in->naltrexone = r->c[4];
    in->rapamycin = r->c[5];
    in->ampa_block = r->amp[0];
    in->mtor_block = r->amp[1];
    in->anti_bdnf = r->amp[2];
    in->stress_episode = r->amp[3];
    in->nu = 0.0;
}

typedef struct {
    int bad_nonneg, nonfinite, bad_scale;
} inv_watch;

static void inv_observe(double t, const sim_state *s, const double *out, void *user)
{
    (void)t;
    inv_watch *w = user;
    for (int i = 0; i < KS_PD_N; i++) {
        if (!isfinite(s->z[i]))
            w->nonfinite = 1;
        if (ks_pd_state_nonneg(i) && s->z[i] < -1e-12)
            w->bad_nonneg = 1;
    }
    for (int j = 0; j < KS_PD_NOUT; j++)
        if (!isfinite(out[j]))
            w->nonfinite = 1;
    if (!(out[KS_PD_OUT_MADRS] >= 0.0 && out[KS_PD_OUT_MADRS] <= 60.0))
        w->bad_scale = 1;
    if (!(out[KS_PD_OUT_HDRS17] >= 0.0 && out[KS_PD_OUT_HDRS17] <= 52.0))
        w->bad_scale = 1;
    if (out[KS_PD_OUT_BLOCK_I] >= 1.0 || out[KS_PD_OUT_BLOCK_P] >= 1.0)
        w->bad_scale = 1;
    if (out[KS_PD_OUT_WINDOW] < 0.0 || out[KS_PD_OUT_WINDOW] > 1.0)
        w->bad_scale = 1;
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params;
    ks_pd_typical *typ = sim_typical(ctx, &params);

    /* 1. Names. */
    for (int j = 0; j < KS_PD_NOUT; j++) {
        CHECK(strcmp(ks_pd_output_name(j), "?") != 0 && strcmp(ks_pd_output_unit(j), "?") != 0);
        for (int k = 0; k < j; k++)
            CHECK(strcmp(ks_pd_output_name(j), ks_pd_output_name(k)) != 0);
    }
    CHECK(strcmp(ks_pd_output_name(KS_PD_NOUT), "?") == 0);
    CHECK(strcmp(ks_pd_output_name(KS_PD_OUT_MADRS), "madrs_true") == 0);
    CHECK(strcmp(ks_pd_output_name(KS_PD_OUT_GLX_PCT), "glutamate_change_pct") == 0);
    for (int i = 0; i < KS_PD_N; i++)
        CHECK(strcmp(ks_pd_state_name(i), "?") != 0);
    CHECK(KS_PD_N == 28);
    CHECK(!ks_pd_state_nonneg(KS_PD_MOOD) && ks_pd_state_nonneg(KS_PD_SNEW));
    {
        size_t n;
        const char *const *names = ks_pd_param_names(&n);
        CHECK(n == 129); /* the table of docs/MODEL.md section 0 */
        for (size_t i = 0; i < n; i++) {
            double v;
            CHECK(ks_model_param_known(names[i]));
            CHECK(ks_params_get(ctx, params, names[i], &v) == KS_OK);
        }
    }
    /* out-of-range parameter and covariate are rejected */
    {
        ks_params *bad = ks_params_create_default(ctx);
        ks_params_set(ctx, bad, "spine.n_transit", 2.5);
        CHECK(ks_pd_typical_create(ctx, bad) == NULL);
        CHECK(ks_ctx_status(ctx) == KS_ERR_INPUT);
        ks_params_set(ctx, bad, "spine.n_transit", 6.0);
        ks_params_set(ctx, bad, "rec.fu_ket", 1.5);
        CHECK(ks_pd_typical_create(ctx, bad) == NULL);
        ks_params_free(bad);
        ks_pd_covariates cov;
        ks_pd_covariates_init(&cov);
        cov.severity_madrs = 70.0;
        ks_patient pt;
        ks_patient_init(&pt);
        ks_pd_patient pp;
        CHECK(ks_pd_build(ctx, typ, &pt, &cov, &pp) == KS_ERR_INPUT);
    }

    /* 1b. Inputs from the PK state: effect-site states are in uM, so the conversion through
     *     the ng/mL outputs and their molar masses must give them back. */
    {
        ks_pk_typical *pkt = ks_pk_typical_create(ctx, params);
        CHECK(pkt != NULL);
        ks_patient pt;
        ks_patient_init(&pt);
        static ks_pk_system sys;
        CHECK(pkt && ks_pk_build(ctx, pkt, &pt, &sys) == KS_OK);
        double x[KS_PK_NSTATE] = {0};
        x[KS_PK_SKET_E] = 0.7;
        x[KS_PK_RNOR_E] = 0.2;
        x[KS_PK_ESC_E] = 0.05;
        x[KS_PK_SKET_C] = 100.0; /* not an effect site: ignored */
        ks_pd_input in;
        ks_pd_input_init(&in);
        in.nu = 0.3;
        ks_pd_input_from_pk(&sys, x, &in);
        CHECK_CLOSE(in.sket, 0.7, 1e-12, 0.0);
        CHECK_CLOSE(in.rnorket, 0.2, 1e-12, 0.0);
        CHECK_CLOSE(in.escitalopram, 0.05, 1e-12, 0.0);
        CHECK(in.rket == 0.0 && in.snorket == 0.0 && in.naltrexone == 0.0);
        CHECK(in.nu == 0.3); /* untouched */
        ks_pk_typical_free(pkt);
    }

    /* 2. The pre-treatment state is a fixed point (all but the habit, which starts from its
     *    history value and relaxes over tau_hab), in both basins and for several patients. */
    {
        unsigned long long seed = 99;
        for (int k = 0; k < 200; k++) {
            ks_pd_covariates cov;
            ks_pd_covariates_init(&cov);
            cov.severity_madrs = 20.0 + 30.0 * urand(&seed);
            cov.n_failed_trials = (int)(5.0 * urand(&seed));
            cov.stress_load = 2.0 * urand(&seed);
            cov.episode_years = 5.0 * urand(&seed);
            cov.start_healthy = k % 2;
            for (int e = 0; e < KS_PD_NETA; e++)
                cov.eta[e] = 0.5 * (2.0 * urand(&seed) - 1.0);
            ks_pd_patient pp;
            sim_state s;
            sim_patient(ctx, typ, &cov, &pp, &s);
            ks_pd_input in;
            ks_pd_input_init(&in);
            double zd[KS_PD_N];
            ks_pd_rhs(&pp, 0.0, s.z, &in, zd);
            int ok = 1;
            for (int i = 0; i < KS_PD_N; i++)
                if (i != KS_PD_HAB && fabs(zd[i]) > 1e-10)
                    ok = 0;
            CHECK(ok);
            /* the basin asked for, when it exists: m > 0 healthy, m < 0 depressed, or the only
             * well (then the opposite side) */
            double out[KS_PD_NOUT];
            ks_pd_outputs(&pp, s.z, &in, out);
            double tilt = out[KS_PD_OUT_TILT];
            double tc = 2.0 * pp.mood.a * pow(pp.mood.b0 / (3.0 * pp.mood.a), 1.5);
            if (fabs(tilt) < tc)
                CHECK(cov.start_healthy ? s.z[KS_PD_MOOD] > 0.0 : s.z[KS_PD_MOOD] < 0.0);
            else
                CHECK(tilt > 0.0 ? s.z[KS_PD_MOOD] > 0.0 : s.z[KS_PD_MOOD] < 0.0);
        }
    }

    /* 3. Invariants over random states and inputs: the right-hand side is finite. */
    {
        unsigned long long seed = 7;
        ks_pd_covariates cov;
        ks_pd_covariates_init(&cov);
        ks_pd_patient pp;
        sim_state s;
        sim_patient(ctx, typ, &cov, &pp, &s);
        int finite = 1, in_scale = 1;
        for (int k = 0; k < 20000; k++) {
            double z[KS_PD_N], zd[KS_PD_N], out[KS_PD_NOUT];
            double scale = pow(10.0, 8.0 * urand(&seed) - 2.0);
            for (int i = 0; i < KS_PD_N; i++)
                z[i] = scale * (2.0 * urand(&seed) - 1.0);
            ks_pd_input in;
            double *f = &in.sket;
            for (size_t i = 0; i < sizeof in / sizeof(double); i++)
                f[i] = scale * (2.0 * urand(&seed) - 1.0);
            ks_pd_rhs(&pp, 0.0, z, &in, zd);
            ks_pd_outputs(&pp, z, &in, out);
            for (int i = 0; i < KS_PD_N; i++)
                finite &= isfinite(zd[i]);
            for (int j = 0; j < KS_PD_NOUT; j++)
                finite &= isfinite(out[j]);
            in_scale &= out[KS_PD_OUT_MADRS] >= 0.0 && out[KS_PD_OUT_MADRS] <= 60.0;
            in_scale &= out[KS_PD_OUT_HDRS17] >= 0.0 && out[KS_PD_OUT_HDRS17] <= 52.0;
        }
        CHECK(finite);
        CHECK(in_scale);
    }

    /* 4. Invariants along random trajectories: random infusions, metabolite/SSRI/midazolam/
     *    naltrexone/rapamycin levels, interventions and events. */
    {
        unsigned long long seed = 2024;
        for (int rep = 0; rep < 12; rep++) {
            ks_pd_covariates cov;
            ks_pd_covariates_init(&cov);
            cov.n_failed_trials = rep % 5;
            cov.stress_load = 2.0 * urand(&seed);
            cov.start_healthy = rep % 2;
            ks_pd_patient pp;
            sim_state s;
            sim_patient(ctx, typ, &cov, &pp, &s);
            rnd_inputs ri;
            memset(&ri, 0, sizeof ri);
            sim_regimen r = {0};
            r.n_inf = 4;
            for (int i = 0; i < 4; i++)
                r.inf[i] = (sim_infusion){24.0 * i + 1.0, 2.0 / 3.0, 400.0 * urand(&seed)};
            r.events = rnd_events;
            r.user = &ri;
            inv_watch w = {0, 0, 0};
            for (int seg = 0; seg < 20; seg++) {
                const double cmax[6] = {5.0, 5.0, 0.1, 1.0, 0.2, 0.02};
                for (int i = 0; i < 6; i++)
                    ri.c[i] = urand(&seed) < 0.5 ? 0.0 : cmax[i] * urand(&seed);
                for (int i = 0; i < 4; i++)
                    ri.amp[i] = urand(&seed) < 0.7 ? 0.0 : urand(&seed);
                double t0 = 6.0 * seg;
                sim_run(&pp, &s, &r, t0, t0 + 6.0, 1.0 / 60.0, inv_observe, &w);
                double u = urand(&seed);
                if (u < 0.2)
                    ks_pd_visit(&pp, s.z, NULL);
                else if (u < 0.4)
                    ks_pd_session(&pp, s.z, 60.0 * urand(&seed), urand(&seed), seg % 2, NULL);
                else if (u < 0.6)
                    ks_pd_therapy(&pp, s.z, urand(&seed));
                else if (u < 0.7)
                    ks_pd_ablate_new_spines(&pp, s.z, urand(&seed));
            }
            CHECK(!w.nonfinite);
            CHECK(!w.bad_nonneg);
            CHECK(!w.bad_scale);
        }
    }

    /* 5. Knock-outs. Arms: 0 ketamine, 1 vehicle; 2/3 ketamine/vehicle + AMPA block;
     *    4 ketamine + mTORC1 block; 5 ketamine + anti-BDNF. */
    levels none = {0, 0, 0, 0}, ampa = {1.0, 0, 0, 0}, mtor = {0, 1.0, 0, 0}, anti = {0, 0, 1.0, 0};
    run_arm(ctx, typ, 1, none, &arms[0]);
    run_arm(ctx, typ, 0, none, &arms[1]);
    run_arm(ctx, typ, 1, ampa, &arms[2]);
    run_arm(ctx, typ, 0, ampa, &arms[3]);
    run_arm(ctx, typ, 1, mtor, &arms[4]);
    run_arm(ctx, typ, 1, anti, &arms[5]);
    const arm *k = &arms[0], *v = &arms[1];
    /* the control has every downstream effect */
    CHECK(k->bx_max > 1.05 && k->m_max > 1.1 && k->p_max > 1.05 && k->snew_max > 0.01 &&
          k->l_max > 0.05);
    CHECK(v->m_max == 1.0 && v->snew_max == 0.0 && v->l_max == 0.0);

    /* AMPA block: upstream unchanged exactly; the ketamine-attributable downstream is gone
     * (ketamine + block equals block alone). */
    {
        const arm *kb = &arms[2], *b = &arms[3];
        CHECK(same_series(kb->bi, k->bi) && same_series(kb->bp, k->bp));
        CHECK(same_series(kb->glx, k->glx) && same_series(kb->cadss, k->cadss));
        CHECK(same_series(kb->bx, b->bx)); /* no release above the block-alone level */
        CHECK(kb->m_max == b->m_max && kb->p_max == b->p_max);
        CHECK(kb->snew_max == b->snew_max && kb->l_max == b->l_max);
        CHECK(kb->m_max == 1.0 && kb->l_max == 0.0 && kb->snew_max == 0.0);
    }
    /* mTORC1 block (rapamycin): BDNF and TrkB unchanged, M, P, spines and lift removed. */
    {
        const arm *km = &arms[4];
        CHECK(same_series(km->bx, k->bx));
        CHECK(km->trkb_max == k->trkb_max);
        CHECK(same_series(km->cadss, k->cadss));
        CHECK(km->m_max == 1.0 && km->p_max == 1.0 && km->snew_max == 0.0 && km->l_max == 0.0);
    }
    /* anti-BDNF: TrkB activation, mTORC1 and everything downstream removed; upstream kept. */
    {
        const arm *ka = &arms[5];
        CHECK(same_series(ka->bx, k->bx) && same_series(ka->glx, k->glx));
        CHECK(ka->trkb_max == 0.0);
        CHECK(ka->m_max == 1.0 && ka->p_max == 1.0 && ka->snew_max == 0.0 && ka->l_max == 0.0);
    }
    /* Naltrexone (about 50 mg p.o.: ~0.04 uM brain): CADSS unchanged exactly, the lift and
     * the expectation increment lowered by the opioid gate. */
    {
        arm kn;
        levels ntx = {0, 0, 0, 0.04};
        run_arm(ctx, typ, 1, ntx, &kn);
        CHECK(same_series(kn.cadss, k->cadss) && same_series(kn.bi, k->bi));
        CHECK(kn.m_max == k->m_max && kn.snew_max > 0.0);
        CHECK(kn.l_max < 0.5 * k->l_max);
        ks_pd_covariates cov;
        ks_pd_covariates_init(&cov);
        ks_pd_patient pp;
        sim_state s;
        sim_patient(ctx, typ, &cov, &pp, &s);
        ks_pd_input in;
        ks_pd_input_init(&in);
        in.naltrexone = 0.04;
        double z1[KS_PD_N], z2[KS_PD_N];
        memcpy(z1, s.z, sizeof z1);
        memcpy(z2, s.z, sizeof z2);
        ks_pd_visit(&pp, z1, NULL);
        ks_pd_visit(&pp, z2, &in);
        CHECK(z2[KS_PD_E] < 0.5 * z1[KS_PD_E] && z2[KS_PD_E] > 0.0);
    }

    ks_pd_typical_free(typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return ks_test_finish("test_pd");
}
