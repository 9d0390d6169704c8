/*
 * test_solvers.c -- the reference integrator (CVODE) and the closed-form oracle.
 *
 * 1. The CVODE wrapper on a linear chain with a known solution (Bateman), across a restart at a
 *    discontinuity, never evaluating the right-hand side beyond the stop time; its counters;
 *    failures reported through the context and never printed.
 * 2. On the real PK system (default parameters, reference patient), for every drug and route
 *    the model supports and a schedule with repeats, overlapping infusions and steady-state
 *    doses (ss = 1 and ss = 2): ks_simulate with CVODE (rtol 1e-10, atol 1e-14) and with the
 *    closed form agree to 1e-6 relative at every output time.
 * 1c. The compiled vector and sparse-matrix kernels CVODE is given (solve/sundials_ops.h) against
 *    the SUNDIALS library's own functions, bitwise, in every special case of each operation.
 * 3. Independent checks of the closed form: the state at t = 0+ after a bolus is the dose input
 *    (definition of the t+ convention), and the steady state (geometric series, NONMEM SS = 1)
 *    equals the state reached by actually repeating the dose many times.
 */
#define _POSIX_C_SOURCE 200809L

#include "ks_test.h"

#include "core/internal.h"
#include "io/scenario_internal.h"
#include "model/pk.h"
#include "sim/result_internal.h"
#include "sim/simulate.h"
#include "solve/expm.h"
#include "solve/integrator.h"
#include "solve/sundials_ops.h"

#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunmatrix/sunmatrix_sparse.h>

#include <float.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- 1. the CVODE wrapper on y0' = -k1 y0, y1' = k1 y0 - k2 y1 ------------------------- */

typedef struct {
    double k1, k2;
    double t_max_eval; /* largest t at which the rhs was called */
    double fail_after; /* the rhs reports failure for t > fail_after */
} chain;

static int chain_rhs(double t, const double *y, double *ydot, void *user)
{
    chain *c = user;
    if (t > c->t_max_eval) {
        c->t_max_eval = t;
    }
    if (t > c->fail_after) {
        return 1;
    }
    ydot[0] = -c->k1 * y[0];
    ydot[1] = c->k1 * y[0] - c->k2 * y[1];
    return 0;
}

/* Bateman solution from y(0) = (a, 0): y0 = a e^{-k1 t},
 * y1 = a k1 / (k2 - k1) (e^{-k1 t} - e^{-k2 t}) (Bateman 1910, Proc Camb Phil Soc 15:423). */
static void chain_exact(const chain *c, double a, double t, double *y)
{
    y[0] = a * exp(-c->k1 * t);
    y[1] = a * c->k1 / (c->k2 - c->k1) * (exp(-c->k1 * t) - exp(-c->k2 * t));
}

/* Runs fn with stderr redirected to a temporary file; returns the number of bytes written. */
static long stderr_bytes_during(void (*fn)(void *), void *arg)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    if (!tmp) {
        fn(arg);
        return 0;
    }
    int saved = dup(fileno(stderr));
    dup2(fileno(tmp), fileno(stderr));
    fn(arg);
    fflush(stderr);
    dup2(saved, fileno(stderr));
    close(saved);
    fseek(tmp, 0, SEEK_END);
    long bytes = ftell(tmp);
    fclose(tmp);
    return bytes;
}

typedef struct {
    ks_ctx *ctx;
    void *st;
    ks_status status;
    double y[2];
} fail_run;

static void run_failing_advance(void *arg)
{
    fail_run *fr = arg;
    fr->status = ks_integrator_cvode.advance(fr->ctx, fr->st, 2.0, 2.0, fr->y);
}

/* CVODE's options for the exact-solution checks: rtol 1e-10, atol 1e-14. */
static ks_sim_options tight_options(void)
{
    ks_sim_options opt;
    ks_sim_options_init(&opt);
    opt.rtol = 1e-10;
    opt.atol = 1e-14;
    return opt;
}

static void test_cvode_wrapper(ks_ctx *ctx)
{
    const ks_integrator_type *it = &ks_integrator_cvode;
    ks_sim_options opt = tight_options();
    chain c = {1.3, 0.2, -1.0, 1e300};
    ks_ode_system sys = {2, chain_rhs, &c, NULL};
    void *st = it->create(ctx, 2, &opt);
    CHECK(st != NULL);
    if (!st) {
        return;
    }
    double y0[2] = {5.0, 0.0}, y[2], ref[2];
    CHECK(it->reset(ctx, st, &sys, 0.0, y0) == KS_OK);
    /* An output at the start time is the initial state. */
    CHECK(it->advance(ctx, st, 0.0, 6.0, y) == KS_OK);
    CHECK(y[0] == 5.0 && y[1] == 0.0);
    for (int k = 1; k <= 12; k++) {
        double t = 0.5 * k;
        CHECK(it->advance(ctx, st, t, 6.0, y) == KS_OK);
        chain_exact(&c, 5.0, t, ref);
        CHECK_CLOSE(y[0], ref[0], 1e-8, 1e-13);
        CHECK_CLOSE(y[1], ref[1], 1e-8, 1e-13);
    }
    CHECK(c.t_max_eval <= 6.0);
    /* A bolus of 2 into y0 at t = 6: restart, then superposition of the two responses. */
    double yb[2] = {y[0] + 2.0, y[1]};
    CHECK(it->reset(ctx, st, &sys, 6.0, yb) == KS_OK);
    for (int k = 1; k <= 8; k++) {
        double t = 6.0 + 0.5 * k, r2[2];
        CHECK(it->advance(ctx, st, t, 10.0, y) == KS_OK);
        chain_exact(&c, 5.0, t, ref);
        chain_exact(&c, 2.0, t - 6.0, r2);
        CHECK_CLOSE(y[0], ref[0] + r2[0], 1e-8, 1e-13);
        CHECK_CLOSE(y[1], ref[1] + r2[1], 1e-8, 1e-13);
    }
    CHECK(c.t_max_eval <= 10.0);
    ks_solver_stats s;
    memset(&s, 0, sizeof s);
    it->stats(st, &s);
    CHECK(s.steps > 0);
    CHECK(s.rhs_evals > s.steps);
    CHECK(s.jac_evals > 0);
    CHECK(s.lin_setups > 0);
    CHECK(s.restarts == 2);

    /* An rhs failure is KS_ERR_SOLVER with CVODE's flag and time, and nothing on stderr. */
    c.fail_after = 1.0;
    CHECK(it->reset(ctx, st, &sys, 0.0, y0) == KS_OK);
    fail_run fr = {ctx, st, KS_OK, {0.0, 0.0}};
    long bytes = stderr_bytes_during(run_failing_advance, &fr);
    CHECK(fr.status == KS_ERR_SOLVER);
    CHECK(ks_ctx_status(ctx) == KS_ERR_SOLVER);
    CHECK(strstr(ks_ctx_message(ctx), "CVODE") != NULL);
    CHECK(strstr(ks_ctx_message(ctx), "t = ") != NULL);
    CHECK(strstr(ks_ctx_message(ctx), "CV_") != NULL); /* the return flag's name */
    CHECK(bytes == 0);
    printf("  rhs failure message: %s\n", ks_ctx_message(ctx));
    ks_ctx_clear(ctx);

    /* Misuse: output before the current time, a non-finite initial state. */
    c.fail_after = 1e300;
    CHECK(it->reset(ctx, st, &sys, 1.0, y0) == KS_OK);
    CHECK(it->advance(ctx, st, 0.5, 2.0, y) == KS_ERR_USAGE);
    ks_ctx_clear(ctx);
    double ybad[2] = {NAN, 0.0};
    CHECK(it->reset(ctx, st, &sys, 0.0, ybad) == KS_ERR_SOLVER);
    ks_ctx_clear(ctx);
    it->free(st);
    it->free(NULL);

    /* Bad tolerances are refused at creation. */
    opt.rtol = -1.0;
    CHECK(it->create(ctx, 2, &opt) == NULL);
    CHECK(ks_ctx_status(ctx) == KS_ERR_USAGE);
    ks_ctx_clear(ctx);
}

/* ---- 1b. the sparse (KLU) linear solver: a system with a Jacobian whose pattern grows ---- */

/* y0' = -k1 y0, y1' = k1 y0 - k2 y1, y2' = -c y0 y1: d y2'/d y0 = -c y1 is exactly zero at the
 * start (y1 = 0), so the pattern the reference path compresses onto has to grow after the
 * first Jacobian. */
static int tri_rhs(double t, const double *y, double *ydot, void *user)
{
    const chain *c = user;
    (void)t;
    ydot[0] = -c->k1 * y[0];
    ydot[1] = c->k1 * y[0] - c->k2 * y[1];
    ydot[2] = -0.5 * y[0] * y[1];
    return 0;
}

static int tri_jac(double t, const double *y, const double *f, double *jac, void *user)
{
    const chain *c = user;
    (void)t;
    (void)f;
    memset(jac, 0, 9 * sizeof(double));
    jac[0 * 3 + 0] = -c->k1; /* column-major: jac[j * n + i] = d f_i / d y_j */
    jac[0 * 3 + 1] = c->k1;
    jac[1 * 3 + 1] = -c->k2;
    jac[0 * 3 + 2] = -0.5 * y[1];
    jac[1 * 3 + 2] = -0.5 * y[0];
    return 0;
}

/* y2(t) = y2(0) - 0.5 int_0^t y0 y1 ds with the Bateman y0, y1 of chain_exact. */
static double tri_exact_y2(const chain *c, double a, double y20, double t)
{
    const double k1 = c->k1, k2 = c->k2;
    double in = a * a * k1 / (k2 - k1) *
                ((1.0 - exp(-2.0 * k1 * t)) / (2.0 * k1) - (1.0 - exp(-(k1 + k2) * t)) / (k1 + k2));
    return y20 - 0.5 * in;
}

static void test_cvode_sparse(ks_ctx *ctx)
{
    const ks_integrator_type *it = &ks_integrator_cvode;
    const ks_sim_options opt = tight_options();
    chain c = {1.3, 0.2, -1.0, 1e300};
    ks_ode_system sys = {3, tri_rhs, &c, tri_jac};
    ks_ode_system sys_dq = {3, tri_rhs, &c, NULL};
    void *st = it->create(ctx, 3, &opt);
    CHECK(st != NULL);
    if (!st) {
        return;
    }
    const double y0[3] = {5.0, 0.0, 20.0};
    double y[3], ref[2], first[12][3], again[3], worst = 0.0;
    int same = 1;
    for (int pass = 0; pass < 3; pass++) {
        /* pass 1 solves with difference quotients (dense LU) in between: the sparse results of
         * passes 0 and 2 must not depend on what the integrator solved before */
        const ks_ode_system *s = pass == 1 ? &sys_dq : &sys;
        CHECK(it->reset(ctx, st, s, 0.0, y0) == KS_OK);
        for (int k = 1; k <= 12; k++) {
            double t = 0.5 * k;
            CHECK(it->advance(ctx, st, t, 6.0, pass == 2 ? again : y) == KS_OK);
            const double *v = pass == 2 ? again : y;
            chain_exact(&c, 5.0, t, ref);
            double e2 = tri_exact_y2(&c, 5.0, 20.0, t);
            worst = fmax(worst, fabs(v[0] - ref[0]) / ref[0]);
            worst = fmax(worst, fabs(v[1] - ref[1]) / ref[1]);
            worst = fmax(worst, fabs(v[2] - e2) / fabs(e2));
            if (pass == 0) {
                memcpy(first[k - 1], y, sizeof y);
            } else if (pass == 2) {
                same &= memcmp(first[k - 1], again, sizeof again) == 0;
            }
        }
    }
    ks_solver_stats stt;
    memset(&stt, 0, sizeof stt);
    it->stats(st, &stt);
    printf("  sparse (KLU) and dense paths against the exact solution: %.3g relative\n", worst);
    CHECK(worst <= 1e-7);
    CHECK(same);
    CHECK(stt.jac_evals > 0);
    it->free(st);
}

/* ---- 1c. the compiled SUNDIALS kernels against the library's, bitwise ---------------------- */

#define KN 37 /* odd, not a multiple of a vector width */

static int same_vec(N_Vector a, N_Vector b)
{
    return memcmp(N_VGetArrayPointer(a), N_VGetArrayPointer(b), KN * sizeof(double)) == 0;
}

static void fill_vec(N_Vector v, uint64_t *s, int zeros)
{
    double *d = N_VGetArrayPointer(v);
    for (int i = 0; i < KN; i++) {
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        d[i] = ((double)(*s >> 11) * 0x1.0p-53 - 0.5) * 10.0;
        if (zeros && i % 7 == 3) {
            d[i] = 0.0;
        }
    }
}

static void test_sundials_kernels(void)
{
    SUNContext sc = NULL;
    CHECK(SUNContext_Create(NULL, &sc) == 0);
    N_Vector x = N_VNew_Serial(KN, sc), y = N_VNew_Serial(KN, sc);
    N_Vector z0 = N_VNew_Serial(KN, sc), z1 = N_VNew_Serial(KN, sc), w = N_VNew_Serial(KN, sc);
    N_Vector f = N_VNew_Serial(KN, sc);
    CHECK(x && y && z0 && z1 && w && f && ks_nvector_serial_fast_ops(f) == 0);
    if (!(x && y && z0 && z1 && w && f)) {
        return;
    }
    N_Vector_Ops o = f->ops; /* the kernels; the other vectors keep the library's */
    uint64_t s = 12345;
    int bad = 0, cases = 0;
    const double coef[] = {1.0, -1.0, 0.0, 2.5, -2.5, 0.3};
    for (int ia = 0; ia < 6; ia++) {
        for (int ib = 0; ib < 6; ib++) {
            double a = coef[ia], b = coef[ib];
            for (int alias = 0; alias < 3; alias++) { /* z separate, z = x, z = y */
                fill_vec(x, &s, 0);
                fill_vec(y, &s, 0);
                N_VScale_Serial(1.0, alias == 1 ? x : y, z0);
                N_VScale_Serial(1.0, z0, z1);
                N_Vector xa = alias == 1 ? z0 : x, ya = alias == 2 ? z0 : y;
                N_Vector xb = alias == 1 ? z1 : x, yb = alias == 2 ? z1 : y;
                N_VLinearSum_Serial(a, xa, b, ya, z0);
                o->nvlinearsum(a, xb, b, yb, z1);
                bad += !same_vec(z0, z1);
                cases++;
            }
        }
    }
    for (int ic = 0; ic < 6; ic++) {
        double c = coef[ic];
        fill_vec(x, &s, 0);
        N_VScale_Serial(c, x, z0);
        o->nvscale(c, x, z1);
        bad += !same_vec(z0, z1);
        N_VScale_Serial(1.0, x, z0);
        N_VScale_Serial(1.0, x, z1);
        N_VScale_Serial(c, z0, z0);
        o->nvscale(c, z1, z1);
        bad += !same_vec(z0, z1);
        N_VConst_Serial(c, z0);
        o->nvconst(c, z1);
        bad += !same_vec(z0, z1);
        N_VAddConst_Serial(x, c, z0);
        o->nvaddconst(x, c, z1);
        bad += !same_vec(z0, z1);
        N_VCompare_Serial(fabs(c), x, z0);
        o->nvcompare(fabs(c), x, z1);
        bad += !same_vec(z0, z1);
        cases += 5;
    }
    fill_vec(x, &s, 1);
    fill_vec(y, &s, 0);
    fill_vec(w, &s, 0);
    N_VProd_Serial(x, y, z0);
    o->nvprod(x, y, z1);
    bad += !same_vec(z0, z1);
    N_VDiv_Serial(x, y, z0);
    o->nvdiv(x, y, z1);
    bad += !same_vec(z0, z1);
    N_VAbs_Serial(x, z0);
    o->nvabs(x, z1);
    bad += !same_vec(z0, z1);
    N_VInv_Serial(y, z0);
    o->nvinv(y, z1);
    bad += !same_vec(z0, z1);
    N_VConst_Serial(7.0, z0);
    N_VConst_Serial(7.0, z1);
    bad += N_VInvTest_Serial(x, z0) != o->nvinvtest(x, z1) || !same_vec(z0, z1);
    double r0[] = {N_VDotProd_Serial(x, y), N_VMaxNorm_Serial(x),    N_VWrmsNorm_Serial(x, w),
                   N_VMin_Serial(x),        N_VWL2Norm_Serial(x, w), N_VWSqrSumLocal_Serial(x, w)};
    double r1[] = {o->nvdotprod(x, y), o->nvmaxnorm(x),    o->nvwrmsnorm(x, w),
                   o->nvmin(x),        o->nvwl2norm(x, w), o->nvwsqrsumlocal(x, w)};
    bad += memcmp(r0, r1, sizeof r0) != 0;
    cases += 10;

    /* sparse CSC: copy (enough room, and too little: the library grows B), I + c A with the
     * full diagonal and without it (the library inserts it), zero */
    SUNMatrix A = SUNSparseMatrix(6, 6, 20, CSC_MAT, sc),
              B0 = SUNSparseMatrix(6, 6, 20, CSC_MAT, sc);
    SUNMatrix B1 = SUNSparseMatrix(6, 6, 20, CSC_MAT, sc),
              S = SUNSparseMatrix(6, 6, 4, CSC_MAT, sc);
    CHECK(A && B0 && B1 && S && ks_sunmatrix_sparse_fast_ops(B1) == 0 &&
          ks_sunmatrix_sparse_fast_ops(S) == 0);
    if (A && B0 && B1 && S) {
        for (int diag = 1; diag >= 0; diag--) {
            sunindextype *ap = SUNSparseMatrix_IndexPointers(A),
                         *ai = SUNSparseMatrix_IndexValues(A);
            double *ax = SUNSparseMatrix_Data(A);
            sunindextype e = 0;
            for (int j = 0; j < 6; j++) {
                ap[j] = e;
                for (int i = 0; i < 6; i++) {
                    if ((i == j && (diag || j != 2)) || (i + 2 * j) % 5 == 1) {
                        ai[e] = i;
                        ax[e++] = 0.25 * i - 1.5 * j + 0.1;
                    }
                }
            }
            ap[6] = e;
            CHECK(SUNMatCopy_Sparse(A, B0) == 0 && B1->ops->copy(A, B1) == 0);
            CHECK(SUNMatScaleAddI_Sparse(-0.37, B0) == 0 && B1->ops->scaleaddi(-0.37, B1) == 0);
            long nz0 = (long)SUNSparseMatrix_IndexPointers(B0)[6];
            bad += nz0 != (long)SUNSparseMatrix_IndexPointers(B1)[6] ||
                   memcmp(SUNSparseMatrix_IndexPointers(B0), SUNSparseMatrix_IndexPointers(B1),
                          7 * sizeof(sunindextype)) != 0 ||
                   memcmp(SUNSparseMatrix_IndexValues(B0), SUNSparseMatrix_IndexValues(B1),
                          (size_t)nz0 * sizeof(sunindextype)) != 0 ||
                   memcmp(SUNSparseMatrix_Data(B0), SUNSparseMatrix_Data(B1),
                          (size_t)nz0 * sizeof(double)) != 0;
            /* into a matrix with room for 4 entries: grown by the library, same content */
            CHECK(S->ops->copy(A, S) == 0);
            bad += (long)SUNSparseMatrix_IndexPointers(S)[6] != (long)ap[6] ||
                   memcmp(SUNSparseMatrix_Data(S), ax, (size_t)ap[6] * sizeof(double)) != 0;
            SUNMatrix C = B1->ops->clone(B1);
            bad += !C || C->ops->scaleaddi != B1->ops->scaleaddi;
            if (C) {
                SUNMatDestroy(C);
            }
            CHECK(B1->ops->zero(B1) == 0);
            bad += SUNSparseMatrix_IndexPointers(B1)[6] != 0;
            cases += 4;
        }
    }
    printf("  SUNDIALS kernels against the library's: %d of %d cases differ\n", bad, cases);
    CHECK(bad == 0);
    SUNMatDestroy(A);
    SUNMatDestroy(B0);
    SUNMatDestroy(B1);
    SUNMatDestroy(S);
    N_VDestroy(x);
    N_VDestroy(y);
    N_VDestroy(z0);
    N_VDestroy(z1);
    N_VDestroy(w);
    N_VDestroy(f);
    SUNContext_Free(&sc);
}

/* ---- 2. CVODE against the closed form on the real PK system ---------------------------- */

static void reference_patient(ks_patient *p)
{
    /* The reference patient of the parameter table (patient.h). */
    memset(p, 0, sizeof *p);
    p->id = 1;
    p->weight_kg = 70.0;
    p->age_y = 40.0;
    p->sex = KS_SEX_MALE;
    p->cyp2b6 = KS_CYP2B6_NORMAL;
    p->bdnf = KS_BDNF_VALVAL;
    p->east_asian = 0;
}

/* A schedule with repeats, overlapping infusions (for the infusion route) and steady-state
 * doses, all of one drug and route. Returns the number of doses. */
static size_t make_schedule(ks_drug drug, ks_route route, ks_dose *d)
{
    const double t[] = {0.0, 0.5, 24.0, 72.0, 96.0, 100.0};
    const int ss[] = {0, 0, 0, 1, 2, 0};
    const double ii[] = {0.0, 0.0, 0.0, 24.0, 12.0, 0.0};
    size_t n = sizeof t / sizeof t[0];
    for (size_t i = 0; i < n; i++) {
        memset(&d[i], 0, sizeof d[i]);
        d[i].t_h = t[i];
        d[i].amount_mg = 10.0 + 5.0 * (double)i;
        d[i].drug = drug;
        d[i].route = route;
        d[i].ss = ss[i];
        d[i].ii_h = ii[i];
        d[i].duration_h = route == KS_ROUTE_IV_INFUSION ? 40.0 / 60.0 : 0.0;
        d[i].device = route == KS_ROUTE_INTRANASAL ? (i == 1 ? 2 : 1) : 0;
    }
    return n;
}

static ks_scenario *one_subject_scenario(ks_ctx *ctx, const ks_dose *doses, size_t n_doses,
                                         double t_end, double step)
{
    ks_patient p;
    reference_patient(&p);
    double *times = NULL;
    size_t n_times = 0;
    ks_scenario *s = ks_scenario_alloc(ctx, "test", "<test>");
    if (!s) {
        return NULL;
    }
    if (ks_output_grid(ctx, t_end, step, doses, n_doses, &times, &n_times) != KS_OK ||
        ks_scenario_add_subject(ctx, s, &p, doses, n_doses, times, n_times) != KS_OK) {
        free(times);
        ks_scenario_free(s);
        return NULL;
    }
    free(times);
    s->t_end_h = t_end;
    s->outputs = KS_OUT_PLASMA | KS_OUT_EFFECT_SITE | KS_OUT_AMOUNTS;
    return s;
}

static void compare_methods(ks_ctx *ctx, const ks_params *params, ks_drug drug, ks_route route,
                            ks_solver_stats *total)
{
    ks_dose doses[8];
    size_t nd = make_schedule(drug, route, doses);
    ks_scenario *s = one_subject_scenario(ctx, doses, nd, 120.0, 0.25);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "scenario: %s\n", ks_ctx_message(ctx));
        return;
    }
    ks_sim_options oc, of;
    ks_sim_options_init(&oc);
    oc.rtol = 1e-10;
    oc.atol = 1e-14;
    ks_sim_options_init(&of);
    of.solver = KS_SOLVER_CLOSED_FORM;
    ks_result *rc = ks_simulate(ctx, params, s, &oc);
    if (!rc) {
        fprintf(stderr, "%s %s cvode: %s\n", ks_drug_name(drug), ks_route_name(route),
                ks_ctx_message(ctx));
    }
    ks_result *rf = ks_simulate(ctx, params, s, &of);
    if (!rf) {
        fprintf(stderr, "%s %s closed form: %s\n", ks_drug_name(drug), ks_route_name(route),
                ks_ctx_message(ctx));
    }
    CHECK(rc != NULL && rf != NULL);
    if (rc && rf) {
        size_t nt = ks_result_time_count(rc, 0), no = ks_result_output_count(rc);
        CHECK(nt == ks_result_time_count(rf, 0) && no == ks_result_output_count(rf));
        int bad = 0;
        double worst = 0.0;
        for (size_t j = 0; j < no; j++) {
            const double *vc = ks_result_values(rc, 0, j), *vf = ks_result_values(rf, 0, j);
            double peak = 0.0;
            for (size_t k = 0; k < nt; k++) {
                peak = fmax(peak, fabs(vf[k]));
            }
            double floor = 1e-9 * peak;
            for (size_t k = 0; k < nt; k++) {
                double diff = fabs(vc[k] - vf[k]);
                double tol = 1e-6 * fmax(fabs(vc[k]), fabs(vf[k])) + floor;
                if (diff > 0.0 && peak > 0.0 && diff / (fabs(vf[k]) + floor) > worst) {
                    worst = diff / (fabs(vf[k]) + floor);
                    if (getenv("KS_TEST_VERBOSE")) {
                        printf("    worst so far: %s t=%g cv=%.10g cf=%.10g peak=%g\n",
                               ks_result_output_name(rc, j), ks_result_times(rc, 0)[k], vc[k],
                               vf[k], peak);
                    }
                }
                if (!(diff <= tol)) {
                    if (bad < 5) {
                        fprintf(stderr, "  %s %s: %s at t = %g: cvode %.12g, closed form %.12g\n",
                                ks_drug_name(drug), ks_route_name(route),
                                ks_result_output_name(rc, j), ks_result_times(rc, 0)[k], vc[k],
                                vf[k]);
                    }
                    bad++;
                }
            }
        }
        CHECK(bad == 0);
        ks_solver_stats st;
        ks_result_solver_stats(rc, &st);
        CHECK(st.steps > 0 && st.rhs_evals > 0 && st.restarts > 1);
        total->steps += st.steps;
        total->restarts += st.restarts;
        printf("  %-12s %-12s %zu outputs x %zu times: worst relative difference %.2e, "
               "%ld steps, %ld restarts\n",
               ks_drug_name(drug), ks_route_name(route), no, nt, worst, st.steps, st.restarts);
    }
    ks_result_free(rc);
    ks_result_free(rf);
    ks_scenario_free(s);
    ks_ctx_clear(ctx);
}

/* ---- 3. independent checks of the closed form ------------------------------------------ */

/* Column of the raw amount of state i in a result (KS_OUT_AMOUNTS), or -1. */
static long amount_column(const ks_result *r, int i)
{
    char name[128];
    snprintf(name, sizeof name, "amount_%s", ks_pk_state_name(i));
    return ks_result_output_index(r, name);
}

static void test_bolus_t_plus(ks_ctx *ctx, const ks_params *params, const ks_pk_system *sys)
{
    /* An IV bolus at t = 0 is in the state at t = 0 (outputs at a dose time see t+). */
    ks_dose d;
    memset(&d, 0, sizeof d);
    d.amount_mg = 35.0;
    d.drug = KS_DRUG_KETAMINE;
    d.route = KS_ROUTE_IV_BOLUS;
    double in[KS_PK_MAXN];
    int is_rate = -1;
    CHECK(ks_pk_dose_input(ctx, sys, &d, in, &is_rate) == KS_OK);
    CHECK(is_rate == 0);
    ks_scenario *s = one_subject_scenario(ctx, &d, 1, 2.0, 0.5);
    CHECK(s != NULL);
    if (!s) {
        return;
    }
    for (int m = 0; m < 2; m++) {
        ks_sim_options opt;
        ks_sim_options_init(&opt);
        opt.solver = m ? KS_SOLVER_CLOSED_FORM : KS_SOLVER_CVODE;
        ks_result *r = ks_simulate(ctx, params, s, &opt);
        CHECK(r != NULL);
        if (!r) {
            continue;
        }
        CHECK(ks_result_times(r, 0)[0] == 0.0);
        for (int i = 0; i < sys->n; i++) {
            long j = amount_column(r, i);
            CHECK(j >= 0);
            if (j >= 0) {
                CHECK_CLOSE(ks_result_values(r, 0, (size_t)j)[0], in[i], 1e-14, 0.0);
            }
        }
        ks_result_free(r);
    }
    ks_scenario_free(s);
}

static void test_steady_state(ks_ctx *ctx, const ks_params *params, const ks_pk_system *sys)
{
    const ks_drug drugs[] = {KS_DRUG_KETAMINE, KS_DRUG_ESCITALOPRAM, KS_DRUG_ESKETAMINE};
    const ks_route routes[] = {KS_ROUTE_IV_INFUSION, KS_ROUTE_ORAL, KS_ROUTE_INTRANASAL};
    enum { N = 40 };
    const double ii = 12.0;
    const int n = sys->n;
    static ks_dose doses[N];
    static double times[N], x_out[N * KS_PK_MAXN], a[KS_PK_MAXN * KS_PK_MAXN],
        e[KS_PK_MAXN * KS_PK_MAXN];
    ks_expm_work w;
    CHECK(ks_expm_work_init(ctx, &w, n) == KS_OK);
    for (int q = 0; q < 3; q++) {
        for (int k = 0; k < N; k++) {
            memset(&doses[k], 0, sizeof doses[k]);
            doses[k].t_h = ii * k;
            doses[k].amount_mg = 20.0;
            doses[k].drug = drugs[q];
            doses[k].route = routes[q];
            doses[k].duration_h = routes[q] == KS_ROUTE_IV_INFUSION ? 1.0 : 0.0;
            doses[k].device = routes[q] == KS_ROUTE_INTRANASAL ? 1 : 0;
            doses[k].ii_h = ii;
            times[k] = ii * (k + 1);
        }
        double xss[KS_PK_MAXN], rem[KS_PK_MAXN];
        CHECK(ks_pk_steady_state(ctx, sys, &doses[0], xss) == KS_OK);
        double peak = 0.0;
        for (int i = 0; i < n; i++) {
            peak = fmax(peak, fabs(xss[i]));
        }
        CHECK(peak > 0.0);

        /* (a) Truncated series: N explicit doses leave, just before dose N + 1,
         * x_N = sum_{k=1..N} E^k x_1 = x_ss - E^N x_ss with E = e^{A ii}, whatever the
         * kinetics. E^N x_ss = e^{A N ii} x_ss is computed directly with the exponential. */
        CHECK(ks_pk_closed_form(ctx, sys, doses, N, times, N, x_out) == KS_OK);
        ks_pk_dense(sys, a);
        for (int i = 0; i < n * n; i++) {
            a[i] *= ii * N;
        }
        CHECK(ks_expm(ctx, &w, n, a, e) == KS_OK);
        for (int i = 0; i < n; i++) {
            rem[i] = 0.0;
            for (int j = 0; j < n; j++) {
                rem[i] += e[i * n + j] * xss[j];
            }
        }
        for (int i = 0; i < n; i++) {
            CHECK_CLOSE(x_out[(N - 1) * n + i] + rem[i], xss[i], 1e-9, 1e-12 * peak);
        }

        /* (b) Fixed point: after an ss = 1 dose at t = 0 the state at t = 0+ is x_ss plus the
         * dose, and one interval later it is x_ss again, for both methods. */
        ks_dose d = doses[0];
        d.ss = 1;
        double in[KS_PK_MAXN];
        int is_rate = 0;
        CHECK(ks_pk_dose_input(ctx, sys, &d, in, &is_rate) == KS_OK);
        ks_scenario *s = one_subject_scenario(ctx, &d, 1, ii, 0.5);
        CHECK(s != NULL);
        for (int m = 0; s && m < 2; m++) {
            ks_sim_options opt;
            ks_sim_options_init(&opt);
            opt.solver = m ? KS_SOLVER_CLOSED_FORM : KS_SOLVER_CVODE;
            opt.rtol = 1e-10;
            opt.atol = 1e-14;
            ks_result *r = ks_simulate(ctx, params, s, &opt);
            CHECK(r != NULL);
            if (!r) {
                continue;
            }
            size_t nt = ks_result_time_count(r, 0);
            CHECK(ks_result_times(r, 0)[0] == 0.0 && ks_result_times(r, 0)[nt - 1] == ii);
            double rel = m ? 1e-10 : 1e-6;
            for (int i = 0; i < n; i++) {
                long j = amount_column(r, i);
                CHECK(j >= 0);
                if (j < 0) {
                    continue;
                }
                const double *v = ks_result_values(r, 0, (size_t)j);
                CHECK_CLOSE(v[0], xss[i] + (is_rate ? 0.0 : in[i]), rel, 1e-9 * peak);
                CHECK_CLOSE(v[nt - 1], xss[i], rel, 1e-9 * peak);
            }
            ks_result_free(r);
        }
        ks_scenario_free(s);
    }
    ks_expm_work_release(&w);

    /* A steady state needs a positive interval, and an infusion no longer than it. */
    ks_dose d;
    memset(&d, 0, sizeof d);
    d.amount_mg = 20.0;
    d.drug = KS_DRUG_KETAMINE;
    d.route = KS_ROUTE_IV_INFUSION;
    d.duration_h = 1.0;
    d.ss = 1;
    d.ii_h = 0.0;
    double x[KS_PK_MAXN];
    CHECK(ks_pk_steady_state(ctx, sys, &d, x) == KS_ERR_INPUT);
    ks_ctx_clear(ctx);
    d.ii_h = 0.5;
    CHECK(ks_pk_steady_state(ctx, sys, &d, x) == KS_ERR_INPUT);
    ks_ctx_clear(ctx);
}

/* Several subjects: each is simulated from its own covariates, the statistics are summed, and a
 * non-finite output is a solver failure naming the subject. */
static void test_subjects_and_failures(ks_ctx *ctx, const ks_params *params)
{
    ks_dose d[8];
    size_t nd = make_schedule(KS_DRUG_ESKETAMINE, KS_ROUTE_INTRANASAL, d);
    ks_scenario *s = one_subject_scenario(ctx, d, nd, 48.0, 0.5);
    CHECK(s != NULL);
    if (!s) {
        return;
    }
    ks_patient p2;
    reference_patient(&p2);
    p2.id = 7;
    p2.weight_kg = 52.0;
    p2.sex = KS_SEX_FEMALE;
    p2.cyp2b6 = KS_CYP2B6_POOR;
    CHECK(ks_scenario_add_subject(ctx, s, &p2, d, 3, s->subjects[0].times_h,
                                  s->subjects[0].n_times) == KS_OK);
    ks_sim_options oc, of;
    ks_sim_options_init(&oc);
    oc.rtol = 1e-10;
    oc.atol = 1e-14;
    ks_sim_options_init(&of);
    of.solver = KS_SOLVER_CLOSED_FORM;
    ks_result *rc = ks_simulate(ctx, params, s, &oc);
    ks_result *rf = ks_simulate(ctx, params, s, &of);
    CHECK(rc != NULL && rf != NULL);
    if (rc && rf) {
        CHECK(ks_result_subject_count(rc) == 2);
        CHECK(ks_result_subject_id(rc, 0) == 1 && ks_result_subject_id(rc, 1) == 7);
        long j = ks_result_output_index(rc, "plasma_s_ketamine");
        CHECK(j >= 0);
        if (j >= 0) {
            const double *v1 = ks_result_values(rc, 0, (size_t)j);
            const double *v2 = ks_result_values(rc, 1, (size_t)j);
            const double *f2 = ks_result_values(rf, 1, (size_t)j);
            size_t nt = ks_result_time_count(rc, 1);
            int differ = 0;
            double peak = 0.0;
            for (size_t k = 0; k < nt; k++) {
                peak = fmax(peak, f2[k]);
                differ |= fabs(v1[k] - v2[k]) > 1e-3 * fabs(v1[k]);
            }
            CHECK(differ); /* covariates matter */
            for (size_t k = 0; k < nt; k++) {
                CHECK_CLOSE(v2[k], f2[k], 1e-6, 1e-9 * peak);
            }
        }
        /* Restarts: one per dose time up to the last output (48 h): 0, 0.5 and 24 h for both
         * subjects. */
        ks_solver_stats st;
        ks_result_solver_stats(rc, &st);
        CHECK(st.restarts == 3 + 3);
        ks_solver_stats sf;
        ks_result_solver_stats(rf, &sf);
        CHECK(sf.steps == 0 && sf.restarts == 0);
    }
    ks_result_free(rc);
    ks_result_free(rf);
    ks_scenario_free(s);
    ks_ctx_clear(ctx);

    /* A dose so large that the state overflows (1.7e308 mg is finite, its amount in umol is
     * not): KS_ERR_SOLVER naming the subject, never a result with a non-finite value. */
    ks_dose big = d[0];
    big.route = KS_ROUTE_IV_BOLUS;
    big.device = 0;
    big.amount_mg = 1.7e308;
    s = one_subject_scenario(ctx, &big, 1, 2.0, 0.5);
    CHECK(s != NULL);
    for (int m = 0; s && m < 2; m++) {
        ks_sim_options opt;
        ks_sim_options_init(&opt);
        opt.solver = m ? KS_SOLVER_CLOSED_FORM : KS_SOLVER_CVODE;
        ks_result *r = ks_simulate(ctx, params, s, &opt);
        CHECK(r == NULL);
        CHECK(ks_ctx_status(ctx) == KS_ERR_SOLVER);
        CHECK(strstr(ks_ctx_message(ctx), "subject 1") != NULL);
        CHECK(strstr(ks_ctx_message(ctx), "not finite") != NULL);
        printf("  overflow message (%s): %s\n", m ? "closed form" : "cvode", ks_ctx_message(ctx));
        ks_result_free(r);
        ks_ctx_clear(ctx);
    }
    ks_scenario_free(s);

    /* A state that is finite but whose concentration overflows: the failure names the
     * subject, the output and the time. Needs an output coefficient > 1 on the dosed state. */
    ks_pk_typical *typ = ks_pk_typical_create(ctx, params);
    ks_pk_system *sys = calloc(1, sizeof *sys);
    ks_patient p1;
    reference_patient(&p1);
    double in[KS_PK_MAXN];
    int is_rate = 0;
    big.amount_mg = 1.0;
    if (typ && sys && ks_pk_build(ctx, typ, &p1, sys) == KS_OK &&
        ks_pk_dose_input(ctx, sys, &big, in, &is_rate) == KS_OK) {
        double best = 0.0, umol_per_mg = 0.0;
        const char *name = NULL;
        for (int j = 0; j < sys->n_out; j++) {
            const ks_pk_output *o = &sys->out[j];
            for (int k = 0; k < o->n_terms; k++) {
                if (in[o->state[k]] > 0.0 && o->coef[k] > best) {
                    best = o->coef[k];
                    umol_per_mg = in[o->state[k]];
                    name = o->name;
                }
            }
        }
        if (best > 1.2 && name) {
            big.amount_mg = 0.9 * DBL_MAX / umol_per_mg;
            s = one_subject_scenario(ctx, &big, 1, 2.0, 0.5);
            CHECK(s != NULL);
            for (int m = 0; s && m < 2; m++) {
                ks_sim_options opt;
                ks_sim_options_init(&opt);
                opt.solver = m ? KS_SOLVER_CLOSED_FORM : KS_SOLVER_CVODE;
                ks_result *r = ks_simulate(ctx, params, s, &opt);
                CHECK(r == NULL);
                CHECK(ks_ctx_status(ctx) == KS_ERR_SOLVER);
                CHECK(strstr(ks_ctx_message(ctx), "subject 1: output ") != NULL);
                CHECK(strstr(ks_ctx_message(ctx), "t = 0 h") != NULL);
                printf("  overflow message (%s): %s\n", m ? "closed form" : "cvode",
                       ks_ctx_message(ctx));
                ks_result_free(r);
                ks_ctx_clear(ctx);
            }
            ks_scenario_free(s);
        }
    }
    free(sys);
    ks_pk_typical_free(typ);
    ks_ctx_clear(ctx);
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    CHECK(ctx != NULL);
    test_cvode_wrapper(ctx);
    test_cvode_sparse(ctx);
    test_sundials_kernels();

    ks_params *params = ks_params_create_default(ctx);
    ks_pk_typical *typ = params ? ks_pk_typical_create(ctx, params) : NULL;
    ks_pk_system *sys = calloc(1, sizeof *sys);
    ks_patient p;
    reference_patient(&p);
    CHECK(typ != NULL && sys != NULL);
    if (typ && sys && ks_pk_build(ctx, typ, &p, sys) == KS_OK) {
        ks_solver_stats total;
        memset(&total, 0, sizeof total);
        for (int dr = 0; dr < (int)KS_DRUG_COUNT; dr++) {
            for (int ro = 0; ro < (int)KS_ROUTE_COUNT; ro++) {
                if (dr != KS_DRUG_SALINE && ks_drug_route_supported((ks_drug)dr, (ks_route)ro)) {
                    compare_methods(ctx, params, (ks_drug)dr, (ks_route)ro, &total);
                }
            }
        }
        CHECK(total.steps > 0);
        test_bolus_t_plus(ctx, params, sys);
        test_steady_state(ctx, params, sys);
        test_subjects_and_failures(ctx, params);

        /* Bad options are refused by the public entry point. */
        ks_dose d[8];
        make_schedule(KS_DRUG_KETAMINE, KS_ROUTE_IV_BOLUS, d);
        ks_scenario *s = one_subject_scenario(ctx, d, 1, 1.0, 0.5);
        ks_sim_options opt;
        ks_sim_options_init(&opt);
        opt.atol = 0.0;
        CHECK(s != NULL && ks_simulate(ctx, params, s, &opt) == NULL);
        CHECK(ks_ctx_status(ctx) == KS_ERR_USAGE);
        ks_ctx_clear(ctx);
        ks_scenario_free(s);
    } else {
        fprintf(stderr, "PK system unavailable: %s\n", ks_ctx_message(ctx));
        CHECK(0);
    }
    free(sys);
    ks_pk_typical_free(typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return ks_test_finish("test_solvers");
}
