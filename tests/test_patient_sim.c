/*
 * test_patient_sim.c -- one patient through the whole chain (ks_sim_patient).
 *
 * 1. Mechanism off: the PK outputs equal the closed-form PK (ks_pk_closed_form, the exact
 *    superposition of doses) to 1e-6.
 * 2. Mechanism on: the PK outputs are still the closed-form PK (the mechanism has no feedback
 *    on the PK).
 * 3. Determinism: the same (seed, key) gives bitwise identical outputs; another key another
 *    noise path; adding a visit leaves the noise path bitwise unchanged; noise off gives nu = 0.
 * 4. Over a course of six infusions with noise: every output finite, concentrations, blocks,
 *    BDNF, proteins and spines non-negative, window in [0, 1], scores inside their scales.
 * 5. Events at an output time are applied before the output: the jump of the expectation at
 *    a visit is delta_v (1 - E) (MODEL.md 9), of R_th at a therapy session ther.pulse q, and a
 *    saline session changes E at start + 2 h by delta_s (2b - 1)(1 - E) with b the belief for
 *    zero CADSS and zero sedation.
 * 6. A solver failure is reported as KS_ERR_SOLVER naming the patient key and the time.
 */
#include "ks_test.h"

#include "core/internal.h"
#include "sim/patient_sim.h"
#include "sim/simulate.h"

#include <stdint.h>
#include <string.h>

#define NT_MAX 5000

static double g_out[KS_SIM_NOUT * NT_MAX];
static double g_out2[KS_SIM_NOUT * NT_MAX];

/* Racemic ketamine 0.5 mg/kg (70 kg) over 40 min at the given times, h. */
static size_t infusions(ks_dose *d, const double *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memset(&d[i], 0, sizeof d[i]);
        d[i].t_h = t[i];
        d[i].amount_mg = 35.0;
        d[i].duration_h = 40.0 / 60.0;
        d[i].drug = KS_DRUG_KETAMINE;
        d[i].route = KS_ROUTE_IV_INFUSION;
    }
    return n;
}

static size_t grid(double *times, double t_end, double step)
{
    size_t n = 0;
    for (double t = 0.0; t <= t_end + 1e-9 && n < NT_MAX; t = (double)(n)*step) {
        times[n++] = t;
    }
    return n;
}

static void base_run(ks_patient_run *run, const ks_patient *p)
{
    memset(run, 0, sizeof *run);
    run->patient = p;
    run->seed = 20240601;
    run->key = 42;
}

static void test_pk_matches_closed_form(ks_ctx *ctx, const ks_model_typical *typ)
{
    ks_sim_options opt;
    ks_sim_options_init(&opt);
    opt.rtol = 1e-10;
    opt.atol = 1e-14;
    ks_sim_workspace *ws = ks_sim_workspace_create(ctx, &opt);
    CHECK(ws != NULL);
    ks_patient p;
    ks_patient_init(&p);
    ks_dose d[2];
    const double td[2] = {1.0, 25.0};
    infusions(d, td, 2);
    static double times[NT_MAX];
    size_t nt = grid(times, 48.0, 0.25);
    size_t sel[KS_PK_NOUT];
    for (size_t j = 0; j < KS_PK_NOUT; j++) {
        sel[j] = j;
    }
    ks_pk_system *sys = calloc(1, sizeof *sys);
    double *xcf = calloc(nt * KS_PK_MAXN, sizeof(double));
    CHECK(sys && xcf && ks_pk_build(ctx, typ->pk, &p, sys) == KS_OK);
    CHECK(ks_pk_closed_form(ctx, sys, d, 2, times, nt, xcf) == KS_OK);
    for (int mech = 0; mech < 2 && ws && sys && xcf; mech++) {
        ks_patient_run run;
        base_run(&run, &p);
        run.doses = d;
        run.n_doses = 2;
        run.times_h = times;
        run.n_times = nt;
        run.mechanism = mech;
        run.noise = mech;
        ks_status st = ks_sim_patient(ctx, typ, ws, &run, sel, KS_PK_NOUT, g_out, NULL);
        CHECK(st == KS_OK);
        if (st != KS_OK) {
            fprintf(stderr, "%s\n", ks_ctx_message(ctx));
            continue;
        }
        double worst = 0.0;
        for (size_t j = 0; j < KS_PK_NOUT; j++) {
            double peak = 0.0;
            for (size_t k = 0; k < nt; k++) {
                peak = fmax(peak, ks_pk_output_value(sys, (int)j, xcf + k * (size_t)sys->n));
            }
            for (size_t k = 0; k < nt; k++) {
                double ref = ks_pk_output_value(sys, (int)j, xcf + k * (size_t)sys->n);
                double v = g_out[j * nt + k];
                double err = fabs(v - ref) / (fabs(ref) + 1e-9 * peak + 1e-300);
                worst = fmax(worst, err);
            }
        }
        printf("  mechanism %s: largest relative PK difference to the closed form %.3g\n",
               mech ? "on" : "off", worst);
        CHECK(worst <= 1e-6);
    }
    free(sys);
    free(xcf);
    ks_sim_workspace_free(ws);
}

/* Six infusions M/W/F over two weeks (days 0, 2, 4, 7, 9, 11 at 9:00), weekly visits and a
 * therapy session the day after each infusion: the course of the default run. */
static size_t course(ks_dose *d, ks_event *ev, size_t *n_ev)
{
    const double days[6] = {0, 2, 4, 7, 9, 11};
    double td[6];
    size_t ne = 0;
    for (int i = 0; i < 6; i++) {
        td[i] = 24.0 * days[i] + 9.0;
        ev[ne++] = (ks_event){td[i] + 24.0, 0.0, 1.0, KS_EV_THERAPY};
    }
    for (int w = 0; w < 4; w++) {
        ev[ne++] = (ks_event){24.0 * 7.0 * w + 8.0, 0.0, 1.0, KS_EV_VISIT};
    }
    ks_events_sort(ev, ne);
    *n_ev = ne;
    return infusions(d, td, 6);
}

static void test_determinism_and_ranges(ks_ctx *ctx, const ks_model_typical *typ)
{
    ks_sim_options opt;
    ks_sim_options_init(&opt);
    opt.rtol = 1e-6;
    opt.atol = 1e-10;
    ks_sim_workspace *ws = ks_sim_workspace_create(ctx, &opt);
    CHECK(ws != NULL);
    if (!ws) {
        return;
    }
    ks_patient p;
    ks_patient_init(&p);
    ks_dose d[6];
    ks_event ev[16];
    size_t ne = 0;
    size_t nd = course(d, ev, &ne);
    static double times[NT_MAX];
    size_t nt = grid(times, 28.0 * 24.0, 0.25);
    size_t sel[KS_SIM_NOUT];
    size_t n_sel = 0;
    for (size_t j = 0; j < KS_SIM_OUT_AMOUNT; j++) {
        sel[n_sel++] = j;
    }
    ks_patient_run run;
    base_run(&run, &p);
    run.doses = d;
    run.n_doses = nd;
    run.events = ev;
    run.n_events = ne;
    run.times_h = times;
    run.n_times = nt;
    run.mechanism = 1;
    run.noise = 1;
    ks_solver_stats stats;
    memset(&stats, 0, sizeof stats);
    ks_status st = ks_sim_patient(ctx, typ, ws, &run, sel, n_sel, g_out, &stats);
    CHECK(st == KS_OK);
    if (st != KS_OK) {
        fprintf(stderr, "%s\n", ks_ctx_message(ctx));
        ks_sim_workspace_free(ws);
        return;
    }
    printf("  course: %ld steps, %ld rhs, %ld jacobians, %ld restarts\n", stats.steps,
           stats.rhs_evals, stats.jac_evals, stats.restarts);
    /* 4. ranges */
    int finite = 1, nonneg = 1, window = 1, scores = 1, blocks = 1;
    const size_t nonneg_out[] = {
        KS_SIM_OUT_PD + KS_PD_OUT_CADSS,           KS_SIM_OUT_PD + KS_PD_OUT_BDNF_POOL,
        KS_SIM_OUT_PD + KS_PD_OUT_BDNF_RELEASED,   KS_SIM_OUT_PD + KS_PD_OUT_MTOR,
        KS_SIM_OUT_PD + KS_PD_OUT_PROTEIN,         KS_SIM_OUT_PD + KS_PD_OUT_SPINES_LABILE,
        KS_SIM_OUT_PD + KS_PD_OUT_SPINES_STABLE,   KS_SIM_OUT_PD + KS_PD_OUT_SPINES_TOTAL,
        KS_SIM_OUT_PD + KS_PD_OUT_SPINE_FORMATION, KS_SIM_OUT_PD + KS_PD_OUT_STRESS,
        KS_SIM_OUT_PD + KS_PD_OUT_INFLAMMATION,    KS_SIM_OUT_PD + KS_PD_OUT_EXPECTATION,
        KS_SIM_OUT_PD + KS_PD_OUT_THERAPY,         KS_SIM_OUT_PD + KS_PD_OUT_HABIT,
    };
    for (size_t c = 0; c < n_sel; c++) {
        for (size_t k = 0; k < nt; k++) {
            finite &= isfinite(g_out[c * nt + k]);
        }
    }
    for (size_t j = 0; j < KS_PK_NOUT; j++) {
        for (size_t k = 0; k < nt; k++) {
            nonneg &= g_out[j * nt + k] >= -1e-9;
        }
    }
    for (size_t q = 0; q < sizeof nonneg_out / sizeof nonneg_out[0]; q++) {
        for (size_t k = 0; k < nt; k++) {
            nonneg &= g_out[nonneg_out[q] * nt + k] >= 0.0;
        }
    }
    for (size_t k = 0; k < nt; k++) {
        double w = g_out[(KS_SIM_OUT_PD + KS_PD_OUT_WINDOW) * nt + k];
        window &= w >= 0.0 && w <= 1.0;
        double m = g_out[(KS_SIM_OUT_PD + KS_PD_OUT_MADRS) * nt + k];
        double h = g_out[(KS_SIM_OUT_PD + KS_PD_OUT_HDRS17) * nt + k];
        scores &= m >= 0.0 && m <= 60.0 && h >= 0.0 && h <= 52.0;
        double bi = g_out[(KS_SIM_OUT_PD + KS_PD_OUT_BLOCK_I) * nt + k];
        double bp = g_out[(KS_SIM_OUT_PD + KS_PD_OUT_BLOCK_P) * nt + k];
        blocks &= bi >= 0.0 && bi < 1.0 && bp >= 0.0 && bp < 1.0;
    }
    CHECK(finite);
    CHECK(nonneg);
    CHECK(window);
    CHECK(scores);
    CHECK(blocks);

    /* 3. determinism: same (seed, key), bitwise */
    st = ks_sim_patient(ctx, typ, ws, &run, sel, n_sel, g_out2, NULL);
    CHECK(st == KS_OK);
    CHECK(memcmp(g_out, g_out2, n_sel * nt * sizeof(double)) == 0);
    /* the noise path is the same when a visit is added */
    const size_t jn = KS_SIM_OUT_NOISE;
    ks_event ev2[17];
    memcpy(ev2, ev, ne * sizeof ev[0]);
    ev2[ne] = (ks_event){100.0, 0.0, 1.0, KS_EV_VISIT};
    ks_events_sort(ev2, ne + 1);
    ks_patient_run run2 = run;
    run2.events = ev2;
    run2.n_events = ne + 1;
    st = ks_sim_patient(ctx, typ, ws, &run2, sel, n_sel, g_out2, NULL);
    CHECK(st == KS_OK);
    CHECK(memcmp(g_out + jn * nt, g_out2 + jn * nt, nt * sizeof(double)) == 0);
    double e_diff = 0.0;
    for (size_t k = 0; k < nt; k++) {
        size_t je = KS_SIM_OUT_PD + KS_PD_OUT_EXPECTATION;
        e_diff = fmax(e_diff, fabs(g_out[je * nt + k] - g_out2[je * nt + k]));
    }
    CHECK(e_diff > 0.0); /* the extra visit did something */
    /* a different key gives a different path */
    run2 = run;
    run2.key = 43;
    st = ks_sim_patient(ctx, typ, ws, &run2, sel, n_sel, g_out2, NULL);
    CHECK(st == KS_OK);
    CHECK(memcmp(g_out + jn * nt, g_out2 + jn * nt, nt * sizeof(double)) != 0);
    /* noise off: nu = 0 */
    run2 = run;
    run2.noise = 0;
    st = ks_sim_patient(ctx, typ, ws, &run2, sel, n_sel, g_out2, NULL);
    CHECK(st == KS_OK);
    int zero = 1;
    for (size_t k = 0; k < nt; k++) {
        zero &= g_out2[jn * nt + k] == 0.0;
    }
    CHECK(zero);
    /* noise on: the path is not identically zero */
    int nonzero = 0;
    for (size_t k = 0; k < nt; k++) {
        nonzero |= g_out[jn * nt + k] != 0.0;
    }
    CHECK(nonzero);
    ks_sim_workspace_free(ws);
}

/* Output j of the last run at output time index k. */
#define OUT(buf, j, k, nt) ((buf)[(size_t)(j) * (nt) + (k)])

static void test_event_order(ks_ctx *ctx, const ks_model_typical *typ, const ks_params *params)
{
    ks_sim_workspace *ws = ks_sim_workspace_create(ctx, NULL);
    CHECK(ws != NULL);
    if (!ws) {
        return;
    }
    ks_patient p;
    ks_patient_init(&p);
    ks_pd_covariates cov;
    ks_pd_covariates_init(&cov);
    ks_pd_patient pp;
    CHECK(ks_pd_build(ctx, typ->pd, &p, &cov, &pp) == KS_OK);
    (void)params;
    const double times[3] = {4.0, 5.0, 10.0};
    const size_t sel[2] = {KS_SIM_OUT_PD + KS_PD_OUT_EXPECTATION,
                           KS_SIM_OUT_PD + KS_PD_OUT_THERAPY};
    ks_patient_run run;
    base_run(&run, &p);
    run.times_h = times;
    run.n_times = 3;
    run.mechanism = 1;
    double a[6], b[6];
    CHECK(ks_sim_patient(ctx, typ, ws, &run, sel, 2, a, NULL) == KS_OK);
    ks_event ev[2] = {{5.0, 0.0, 1.0, KS_EV_VISIT}, {5.0, 0.0, 2.0, KS_EV_THERAPY}};
    run.events = ev;
    run.n_events = 2;
    CHECK(ks_sim_patient(ctx, typ, ws, &run, sel, 2, b, NULL) == KS_OK);
    /* before the events: identical; at the event time: the jumps of MODEL.md 9 */
    CHECK(a[0] == b[0] && a[3] == b[3]);
    double e0 = a[1];
    CHECK_CLOSE(b[1] - a[1], pp.plc.delta_v * (1.0 - e0), 1e-6, 1e-12);
    CHECK_CLOSE(b[4] - a[4], 2.0 * pp.plc.ther_pulse, 1e-6, 1e-12);
    CHECK(b[1] > a[1] && b[4] > a[4]);

    /* A saline infusion at 1 h is a session: at 3 h (an output time) the belief update is
     * already applied, 1 s earlier it is not. */
    ks_dose sal;
    memset(&sal, 0, sizeof sal);
    sal.t_h = 1.0;
    sal.amount_mg = 100.0;
    sal.duration_h = 40.0 / 60.0;
    sal.drug = KS_DRUG_SALINE;
    sal.route = KS_ROUTE_IV_INFUSION;
    const double t2[2] = {3.0 - 1.0 / 3600.0, 3.0};
    ks_event visits[3] = {
        {0.25, 0.0, 1.0, KS_EV_VISIT}, {0.5, 0.0, 1.0, KS_EV_VISIT}, {0.75, 0.0, 1.0, KS_EV_VISIT}};
    run.events = visits;
    run.n_events = 3;
    run.doses = &sal;
    run.n_doses = 1;
    run.times_h = t2;
    run.n_times = 2;
    double c[4];
    CHECK(ks_sim_patient(ctx, typ, ws, &run, sel, 2, c, NULL) == KS_OK);
    double bel = ks_pd_belief(&pp, 0.0, 0.0, 0);
    double jump = pp.plc.delta_s * (2.0 * bel - 1.0) * (1.0 - c[0]);
    /* E decays by a factor e^{-1 s / tau_E} over the second: negligible beside the jump; E is
     * kept >= 0 (pd.h). */
    CHECK(c[0] > 0.0);
    CHECK(fabs(c[1] - c[0]) > 0.0);
    CHECK_CLOSE(c[1], fmax(0.0, c[0] + jump), 1e-3, 1e-9);
    /* The same saline as an oral dose (a placebo pill) opens no session (MODEL.md 9): E only
     * decays over the second, by e^{-1 s / tau_E}. */
    sal.route = KS_ROUTE_ORAL;
    sal.duration_h = 0.0;
    double c2[4];
    CHECK(ks_sim_patient(ctx, typ, ws, &run, sel, 2, c2, NULL) == KS_OK);
    CHECK_CLOSE(c2[1], c2[0] * exp(-1.0 / 3600.0 / pp.plc.tau_e), 1e-9, 1e-12);
    CHECK(fabs(c2[1] - c[1]) > 0.5 * fabs(jump));
    sal.route = KS_ROUTE_IV_INFUSION;
    sal.duration_h = 40.0 / 60.0;

    /* A bolus at an output time is in the output (t+). */
    ks_dose bol = sal;
    bol.drug = KS_DRUG_KETAMINE;
    bol.route = KS_ROUTE_IV_BOLUS;
    bol.amount_mg = 10.0;
    bol.duration_h = 0.0;
    bol.t_h = 2.0;
    const double t3[1] = {2.0};
    const size_t sel3[1] = {KS_PK_OUT_PLASMA_KET};
    run.doses = &bol;
    run.times_h = t3;
    run.n_times = 1;
    double v = 0.0;
    CHECK(ks_sim_patient(ctx, typ, ws, &run, sel3, 1, &v, NULL) == KS_OK);
    CHECK(v > 0.0);

    /* Mechanism outputs need the mechanism; the closed form covers the PK only. */
    run.mechanism = 0;
    CHECK(ks_sim_patient(ctx, typ, ws, &run, sel, 2, c, NULL) == KS_ERR_USAGE);
    ks_ctx_clear(ctx);
    ks_sim_workspace_free(ws);
    ks_sim_options opt;
    ks_sim_options_init(&opt);
    opt.solver = KS_SOLVER_CLOSED_FORM;
    ws = ks_sim_workspace_create(ctx, &opt);
    run.mechanism = 1;
    CHECK(ws && ks_sim_patient(ctx, typ, ws, &run, sel3, 1, &v, NULL) == KS_ERR_USAGE);
    ks_ctx_clear(ctx);
    run.mechanism = 0;
    CHECK(ws && ks_sim_patient(ctx, typ, ws, &run, sel3, 1, &v, NULL) == KS_OK && v > 0.0);
    ks_sim_workspace_free(ws);
}

static void test_solver_failure(ks_ctx *ctx, const ks_model_typical *typ)
{
    ks_sim_workspace *ws = ks_sim_workspace_create(ctx, NULL);
    CHECK(ws != NULL);
    ks_patient p;
    ks_patient_init(&p);
    ks_dose big;
    memset(&big, 0, sizeof big);
    big.t_h = 1.0;
    big.amount_mg = 1.7e308; /* finite in mg, not in umol */
    big.drug = KS_DRUG_KETAMINE;
    big.route = KS_ROUTE_IV_BOLUS;
    const double times[2] = {0.5, 2.0};
    const size_t sel[1] = {KS_SIM_OUT_PD + KS_PD_OUT_MADRS};
    double out[2];
    ks_patient_run run;
    base_run(&run, &p);
    run.key = 987654321;
    run.doses = &big;
    run.n_doses = 1;
    run.times_h = times;
    run.n_times = 2;
    run.mechanism = 1;
    ks_status st = ws ? ks_sim_patient(ctx, typ, ws, &run, sel, 1, out, NULL) : KS_ERR_NOMEM;
    CHECK(st == KS_ERR_SOLVER);
    CHECK(strstr(ks_ctx_message(ctx), "patient 987654321") != NULL);
    CHECK(strstr(ks_ctx_message(ctx), "t = 1 h") != NULL);
    printf("  failure message: %s\n", ks_ctx_message(ctx));
    ks_ctx_clear(ctx);
    ks_sim_workspace_free(ws);
}

static void test_names(void)
{
    CHECK(ks_sim_output_count() == KS_SIM_NOUT);
    CHECK(ks_sim_output_index("plasma_ketamine_total") == KS_PK_OUT_PLASMA_KET);
    CHECK(ks_sim_output_index("brain_rapamycin") == KS_PK_OUT_BRAIN_RAPA);
    CHECK(ks_sim_output_index(ks_pd_output_name(KS_PD_OUT_MADRS)) ==
          KS_SIM_OUT_PD + KS_PD_OUT_MADRS);
    CHECK(ks_sim_output_index("mood_noise") == KS_SIM_OUT_NOISE);
    CHECK(ks_sim_output_index("amount_S_ket_central") == KS_SIM_OUT_AMOUNT);
    CHECK(strcmp(ks_sim_output_unit(KS_SIM_OUT_AMOUNT + KS_PK_SKET_E), "uM") == 0);
    CHECK(ks_sim_output_index("nonsense") == -1);
    ks_event_kind k;
    for (int i = 0; i < (int)KS_EV_COUNT; i++) {
        CHECK(ks_event_from_name(ks_event_name((ks_event_kind)i), &k) == 0 && (int)k == i);
    }
    CHECK(ks_event_from_name("Visit", &k) == -1);
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ctx ? ks_params_create_default(ctx) : NULL;
    ks_model_typical typ = {NULL, NULL};
    CHECK(params != NULL);
    if (params && ks_model_typical_init(ctx, params, &typ) == KS_OK) {
        test_names();
        test_pk_matches_closed_form(ctx, &typ);
        test_determinism_and_ranges(ctx, &typ);
        test_event_order(ctx, &typ, params);
        test_solver_failure(ctx, &typ);
    } else {
        CHECK(0);
        fprintf(stderr, "setup: %s\n", ctx ? ks_ctx_message(ctx) : "no context");
    }
    ks_model_typical_clear(&typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return ks_test_finish("test_patient_sim");
}
