/*
 * patient_speed.c -- time per patient of the reference path (ks_sim_patient with CVODE): a
 * 28-day course of six racemic ketamine infusions (0.5 mg/kg over 40 min, Mon/Wed/Fri for two
 * weeks) with a therapy session the day after each and weekly visits, noise on, output hourly.
 *
 * Usage: patient_speed [N patients (default 200)] [rtol (default 1e-6)] [jac 0|1 (default 1)]
 * Prints ms per patient and the solver's counters per patient.
 */
#define _POSIX_C_SOURCE 200809L

#include "core/internal.h"
#include "model/model.h"
#include "sim/patient_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    double rtol = argc > 2 ? atof(argv[2]) : 1e-6;
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ks_params_create_default(ctx);
    ks_model_typical typ = {NULL, NULL};
    if (!params || ks_model_typical_init(ctx, params, &typ) != KS_OK) {
        fprintf(stderr, "setup: %s\n", ks_ctx_message(ctx));
        return 1;
    }
    ks_sim_options opt;
    ks_sim_options_init(&opt);
    opt.rtol = rtol;
    opt.atol = rtol * 1e-4;
    ks_sim_workspace *ws = ks_sim_workspace_create(ctx, &opt);
    ks_patient p;
    ks_patient_init(&p);
    const double days[6] = {0, 2, 4, 7, 9, 11};
    ks_dose d[6];
    ks_event ev[16];
    size_t ne = 0;
    for (int i = 0; i < 6; i++) {
        memset(&d[i], 0, sizeof d[i]);
        d[i].t_h = 24.0 * days[i] + 9.0;
        d[i].amount_mg = 35.0;
        d[i].duration_h = 40.0 / 60.0;
        d[i].drug = KS_DRUG_KETAMINE;
        d[i].route = KS_ROUTE_IV_INFUSION;
        ev[ne++] = (ks_event){d[i].t_h + 24.0, 0.0, 1.0, KS_EV_THERAPY};
    }
    for (int w = 0; w < 4; w++) {
        ev[ne++] = (ks_event){24.0 * 7.0 * w + 8.0, 0.0, 1.0, KS_EV_VISIT};
    }
    ks_events_sort(ev, ne);
    double times[673];
    for (int k = 0; k <= 672; k++) {
        times[k] = (double)k;
    }
    size_t sel[KS_SIM_OUT_AMOUNT];
    const size_t n_sel = getenv("KS_BENCH_PKONLY") ? KS_PK_NOUT : KS_SIM_OUT_AMOUNT;
    for (size_t j = 0; j < KS_SIM_OUT_AMOUNT; j++) {
        sel[j] = j;
    }
    double *out = malloc(sizeof(double) * KS_SIM_OUT_AMOUNT * 673);
    ks_solver_stats stats;
    memset(&stats, 0, sizeof stats);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        ks_patient_run run;
        memset(&run, 0, sizeof run);
        run.patient = &p;
        run.doses = d;
        run.n_doses = 6;
        run.events = ev;
        run.n_events = ne;
        run.times_h = times;
        run.n_times = 673;
        run.mechanism = getenv("KS_BENCH_PKONLY") ? 0 : 1;
        run.noise = getenv("KS_BENCH_NONOISE") ? 0 : 1;
        run.seed = 1;
        run.key = (uint64_t)i;
        if (ks_sim_patient(ctx, &typ, ws, &run, sel, n_sel, out, &stats) != KS_OK) {
            fprintf(stderr, "patient %d: %s\n", i, ks_ctx_message(ctx));
            return 1;
        }
    }
    double dt = now_s() - t0;
    printf("patients %d, rtol %g: %.3f ms per patient; per patient %.0f steps, %.0f rhs, %.0f "
           "jacobians, %.0f error-test failures, %.0f restarts\n",
           n, rtol, 1e3 * dt / n, (double)stats.steps / n, (double)stats.rhs_evals / n,
           (double)stats.jac_evals / n, (double)stats.err_test_fails / n,
           (double)stats.restarts / n);
    free(out);
    ks_sim_workspace_free(ws);
    ks_model_typical_clear(&typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return 0;
}
