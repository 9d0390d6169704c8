/*
 * test_reset.c -- NONMEM reset records (EVID 3: reset; EVID 4: reset and dose) in both PK
 * solvers. Independent reasons: after a pure reset every PK state is zero, so the plasma
 * concentration is exactly 0; after a reset-and-dose record the course equals that of the same
 * dose given alone at that time to a drug-free patient (linearity and time invariance).
 */
#include "ks_test.h"

#include "io/scenario_internal.h"
#include "ketasim.h"

#include <string.h>

static ks_result *simulate(ks_ctx *ctx, const ks_params *params, const ks_dose *doses, size_t n,
                           const double *times, size_t n_times, ks_solver_kind solver)
{
    ks_scenario *s = ks_scenario_alloc(ctx, "reset", "<test>");
    if (!s)
        return NULL;
    ks_patient p;
    ks_patient_init(&p);
    s->t_end_h = times[n_times - 1];
    s->mechanism = 0;
    ks_result *r = NULL;
    if (ks_scenario_add_subject(ctx, s, &p, doses, n, times, n_times) == KS_OK) {
        ks_sim_options opt;
        ks_sim_options_init(&opt);
        opt.solver = solver;
        opt.rtol = 1e-10;
        opt.atol = 1e-14;
        r = ks_simulate(ctx, params, s, &opt);
    }
    ks_scenario_free(s);
    return r;
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ks_params_create_default(ctx);
    CHECK(params != NULL);
    double times[49];
    for (int i = 0; i < 49; i++)
        times[i] = 0.5 * i; /* 0 .. 24 h */
    ks_dose d0 = {0};
    d0.drug = KS_DRUG_KETAMINE;
    d0.route = KS_ROUTE_IV_INFUSION;
    d0.amount_mg = 35.0;
    d0.duration_h = 40.0 / 60.0;
    ks_dose d4 = d0; /* EVID 4 at 8 h: reset, then the same infusion */
    d4.t_h = 8.0;
    d4.reset = 1;
    ks_dose d3 = {0}; /* EVID 3 at 20 h: reset only */
    d3.drug = KS_DRUG_KETAMINE;
    d3.route = KS_ROUTE_IV_BOLUS;
    d3.t_h = 20.0;
    d3.reset = 1;
    ks_dose course[3] = {d0, d4, d3};
    ks_dose alone = d0;
    alone.t_h = 8.0;

    ks_solver_kind solvers[2] = {KS_SOLVER_CVODE, KS_SOLVER_CLOSED_FORM};
    for (int k = 0; k < 2; k++) {
        ks_result *r = simulate(ctx, params, course, 3, times, 49, solvers[k]);
        ks_result *a = simulate(ctx, params, &alone, 1, times, 49, solvers[k]);
        CHECK(r != NULL && a != NULL);
        if (!r || !a) {
            fprintf(stderr, "%s\n", ks_ctx_message(ctx));
            ks_result_free(r);
            ks_result_free(a);
            continue;
        }
        long j = ks_result_output_index(r, "plasma_ketamine_total");
        long jn = ks_result_output_index(r, "plasma_norketamine_total");
        CHECK(j >= 0 && jn >= 0);
        const double *c = ks_result_values(r, 0, (size_t)j);
        const double *cn = ks_result_values(r, 0, (size_t)jn);
        const double *ca = ks_result_values(a, 0, (size_t)j);
        const double *cna = ks_result_values(a, 0, (size_t)jn);
        CHECK(c[4] > 10.0); /* the first infusion acted before the reset */
        for (int i = 0; i < 49; i++) {
            if (times[i] >= 8.0 && times[i] < 20.0) {
                CHECK_CLOSE(c[i], ca[i], 1e-6, 1e-9);
                CHECK_CLOSE(cn[i], cna[i], 1e-6, 1e-9);
            }
            if (times[i] >= 20.0) {
                CHECK(c[i] == 0.0);
                CHECK(cn[i] == 0.0);
            }
        }
        ks_result_free(r);
        ks_result_free(a);
    }
    ks_params_free(params);
    ks_ctx_free(ctx);
    return ks_test_finish("test_reset");
}
