/*
 * cvode.c -- the reference integrator: SUNDIALS CVODE 6 (variable-order BDF, Newton iteration)
 * behind ks_integrator_type. Linear solver: for a system that gives its Jacobian, the sparse
 * direct solver KLU (Davis & Palamadai Natarajan, ACM Trans Math Softw 37:36, 2010; SUNDIALS'
 * SUNLinSol_KLU) on a compressed-column copy of it; otherwise dense LU with CVODE's
 * difference-quotient Jacobian.
 *
 * Sparse pattern: the union of the nonzeros of every Jacobian the system has returned since the
 * last reset, plus the diagonal (which CVODE's I - gamma J needs). Within an integration it only
 * grows: an entry once seen stays, with an explicit zero when it vanishes, and a growth makes KLU
 * redo its symbolic analysis before the next factorisation (SUNLinSol_KLUReInit, partial). Every
 * reset starts again from the diagonal, so that a result never depends on what the integrator
 * solved before (the fill-reducing ordering follows the pattern, and with it the rounding). CVODE's
 * saved Jacobian is always a copy of the last evaluated one, so every matrix KLU factors has the
 * pattern of its symbolic analysis. The linear algebra changes, not the method: the Newton
 * iteration, its convergence test and the error control are CVODE's. For the model (48 states,
 * about 150 entries) the dense LU took two thirds of the reference path's time (docs/BENCHMARK.md).
 *
 * Contract with the driver: reset() at the start and after every discontinuity (dose event)
 * re-initialises CVODE (CVodeReInit), so that no step ever crosses a dose; advance() sets the
 * stop time to the next discontinuity (CVodeSetStopTime), so that the right-hand side is never
 * evaluated beyond it. CVODE's own error handler is replaced: messages are kept in the
 * integrator state and reported through the ks_ctx, never printed.
 *
 * Reference: Hindmarsh et al., "SUNDIALS: Suite of nonlinear and differential/algebraic
 * equation solvers", ACM Trans Math Softw 31:363, 2005; CVODE user guide v6.4.
 */
#include "solve/integrator.h"

#include "core/internal.h"
#include "solve/sundials_ops.h"

#include <cvode/cvode.h>
#include <cvode/cvode_ls.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunlinsol/sunlinsol_klu.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunmatrix/sunmatrix_sparse.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bound on internal steps per call of CVode (one output interval). */
#define KS_CVODE_MAX_STEPS 100000L

typedef struct {
    SUNContext sunctx;
    N_Vector y;
    SUNMatrix jac;        /* dense (systems without a Jacobian) */
    SUNLinearSolver ls;   /* dense LU */
    SUNMatrix spjac;      /* compressed sparse columns (systems with a Jacobian) */
    SUNLinearSolver spls; /* KLU */
    double *jdense;       /* n x n, column-major: the system's Jacobian before compression */
    unsigned char *pat;   /* n x n, column-major: the sparse pattern (see the header) */
    long pat_nnz;
    int sparse_on; /* the linear solver attached to CVODE: 1 KLU, 0 dense */
    void *mem;
    int n;
    ks_ode_system sys; /* current system (callback, user pointer) */
    double t;          /* time of the last reset or advance */
    double tstop;      /* stop time passed to CVODE since the last reset */
    int tstop_set;     /* 1 when tstop is valid for the current integration */
    int started;       /* 1 after the first reset */
    int rhs_failed;    /* the callback returned nonzero */
    long restarts;
    ks_solver_stats done; /* counters of integrations finished before the last reset */
    char errmsg[512];     /* last message of CVODE's error handler */
} cvode_state;

/* CVODE error handler (CVErrHandlerFn): keeps the message instead of printing it. */
static void cvode_err_handler(int error_code, const char *module, const char *function, char *msg,
                              void *data)
{
    cvode_state *st = data;
    (void)error_code;
    snprintf(st->errmsg, sizeof st->errmsg, "%s: %s: %s", module ? module : "CVODE",
             function ? function : "?", msg ? msg : "");
}

/* CVRhsFn: forwards to the system's callback; a nonzero return is an unrecoverable failure
 * (negative return, CVODE user guide section 4.6.1). */
static int cvode_rhs(sunrealtype t, N_Vector y, N_Vector ydot, void *data)
{
    cvode_state *st = data;
    if (!st->sys.rhs) {
        return -1;
    }
    int rc = st->sys.rhs(t, N_VGetArrayPointer(y), N_VGetArrayPointer(ydot), st->sys.user);
    if (rc != 0) {
        st->rhs_failed = 1;
        return -1;
    }
    return 0;
}

/* CVLsJacFn for KLU: the system's dense Jacobian, compressed onto the pattern (grown when a
 * new nonzero appears; see the header). */
static int cvode_jac_sparse(sunrealtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *data,
                            N_Vector tmp1, N_Vector tmp2, N_Vector tmp3)
{
    cvode_state *st = data;
    (void)tmp1;
    (void)tmp2;
    (void)tmp3;
    if (!st->sys.jac) {
        return -1;
    }
    const int n = st->n;
    const size_t un = (size_t)n;
    int rc =
        st->sys.jac(t, N_VGetArrayPointer(y), N_VGetArrayPointer(fy), st->jdense, st->sys.user);
    if (rc != 0) {
        st->rhs_failed = 1;
        return -1;
    }
    long nnz = st->pat_nnz;
    for (size_t k = 0; k < un * un; k++) {
        if (st->jdense[k] != 0.0 && !st->pat[k]) {
            st->pat[k] = 1;
            nnz++;
        }
    }
    if (nnz != st->pat_nnz) {
        if (nnz > (long)SUNSparseMatrix_NNZ(J) &&
            SUNSparseMatrix_Reallocate(J, (sunindextype)nnz) != 0) {
            snprintf(st->errmsg, sizeof st->errmsg,
                     "cannot grow the sparse Jacobian to %ld entries", nnz);
            return -1;
        }
        if (SUNLinSol_KLUReInit(st->spls, J, (sunindextype)nnz, SUNKLU_REINIT_PARTIAL) != 0) {
            snprintf(st->errmsg, sizeof st->errmsg, "KLU: re-initialisation for %ld entries failed",
                     nnz);
            return -1;
        }
        st->pat_nnz = nnz;
    }
    sunindextype *colptr = SUNSparseMatrix_IndexPointers(J);
    sunindextype *rowind = SUNSparseMatrix_IndexValues(J);
    sunrealtype *val = SUNSparseMatrix_Data(J);
    sunindextype e = 0;
    for (int j = 0; j < n; j++) {
        colptr[j] = e;
        const double *col = st->jdense + (size_t)j * un;
        const unsigned char *pc = st->pat + (size_t)j * un;
        for (int i = 0; i < n; i++) {
            if (pc[i]) {
                rowind[e] = i;
                val[e] = col[i];
                e++;
            }
        }
    }
    colptr[n] = e;
    return 0;
}

/* Attaches the linear solver a system needs: KLU when it gives a Jacobian, dense otherwise. */
static int cvode_attach(cvode_state *st, int sparse)
{
    if (st->sparse_on == sparse) {
        return CV_SUCCESS;
    }
    int flag = sparse ? CVodeSetLinearSolver(st->mem, st->spls, st->spjac)
                      : CVodeSetLinearSolver(st->mem, st->ls, st->jac);
    if (flag == CV_SUCCESS) {
        st->sparse_on = sparse;
    }
    return flag;
}

/* Records a failed CVODE call: "<what> failed at t = ...: <flag name>: <CVODE's message>". */
static ks_status cvode_fail(ks_ctx *ctx, cvode_state *st, const char *what, int flag, double t)
{
    char *name = CVodeGetReturnFlagName((long)flag); /* malloc'd by CVODE 6 */
    ks_status s = ks_fail(ctx, KS_ERR_SOLVER, "CVODE: %s failed at t = %g h: %s%s%s%s", what, t,
                          name ? name : "unknown flag", st->errmsg[0] ? " (" : "", st->errmsg,
                          st->errmsg[0] ? ")" : "");
    free(name);
    return s;
}

/* Adds the counters of the current integration (since the last CVodeInit/ReInit) to *acc. */
static void cvode_current_counters(const cvode_state *st, ks_solver_stats *acc)
{
    long v = 0;
    if (!st->mem || !st->started) {
        return;
    }
    if (CVodeGetNumSteps(st->mem, &v) == CV_SUCCESS) {
        acc->steps += v;
    }
    if (CVodeGetNumRhsEvals(st->mem, &v) == CV_SUCCESS) {
        acc->rhs_evals += v;
    }
    /* Evaluations spent on the difference-quotient Jacobian are counted apart by CVODE. */
    if (CVodeGetNumLinRhsEvals(st->mem, &v) == CV_SUCCESS) {
        acc->rhs_evals += v;
    }
    if (CVodeGetNumJacEvals(st->mem, &v) == CV_SUCCESS) {
        acc->jac_evals += v;
    }
    if (CVodeGetNumLinSolvSetups(st->mem, &v) == CV_SUCCESS) {
        acc->lin_setups += v;
    }
    if (CVodeGetNumErrTestFails(st->mem, &v) == CV_SUCCESS) {
        acc->err_test_fails += v;
    }
    if (CVodeGetNumNonlinSolvConvFails(st->mem, &v) == CV_SUCCESS) {
        acc->conv_fails += v;
    }
}

static void cvode_free(void *state)
{
    cvode_state *st = state;
    if (!st) {
        return;
    }
    if (st->mem) {
        CVodeFree(&st->mem);
    }
    if (st->ls) {
        SUNLinSolFree(st->ls);
    }
    if (st->jac) {
        SUNMatDestroy(st->jac);
    }
    if (st->spls) {
        SUNLinSolFree(st->spls);
    }
    if (st->spjac) {
        SUNMatDestroy(st->spjac);
    }
    free(st->jdense);
    free(st->pat);
    if (st->y) {
        N_VDestroy(st->y);
    }
    if (st->sunctx) {
        SUNContext_Free(&st->sunctx);
    }
    free(st);
}

static void *cvode_create(ks_ctx *ctx, int n, const ks_sim_options *opt)
{
    cvode_state *st = NULL;
    int flag = 0;
    const char *what = "";
    if (n < 1) {
        ks_fail(ctx, KS_ERR_USAGE, "CVODE: system size must be at least 1 (got %d)", n);
        return NULL;
    }
    if (!opt || !(opt->rtol > 0.0) || !isfinite(opt->rtol) || !(opt->atol > 0.0) ||
        !isfinite(opt->atol)) {
        ks_fail(ctx, KS_ERR_USAGE,
                "CVODE: tolerances must be positive and finite (got rtol %g, "
                "atol %g)",
                opt ? opt->rtol : NAN, opt ? opt->atol : NAN);
        return NULL;
    }
    st = ks_calloc(ctx, 1, sizeof *st);
    if (!st) {
        return NULL;
    }
    st->n = n;
    what = "SUNContext_Create";
    flag = SUNContext_Create(NULL, &st->sunctx);
    if (flag != 0) {
        goto fail_flag;
    }
    st->y = N_VNew_Serial((sunindextype)n, st->sunctx);
    /* compiled vector kernels, bitwise those of the serial module (sundials_ops.h); CVodeInit's
     * clones inherit them (and those of the sparse Jacobian below, its clone included) */
    if (st->y && ks_nvector_serial_fast_ops(st->y) != 0) {
        ks_fail(ctx, KS_ERR_INTERNAL, "CVODE: the state vector is not a serial N_Vector");
        goto fail;
    }
    st->jac = st->y ? SUNDenseMatrix((sunindextype)n, (sunindextype)n, st->sunctx) : NULL;
    st->ls = st->jac ? SUNLinSol_Dense(st->y, st->jac, st->sunctx) : NULL;
    /* the pattern starts as the diagonal */
    st->spjac = st->ls ? SUNSparseMatrix((sunindextype)n, (sunindextype)n, (sunindextype)n, CSC_MAT,
                                         st->sunctx)
                       : NULL;
    if (st->spjac && ks_sunmatrix_sparse_fast_ops(st->spjac) != 0) {
        ks_fail(ctx, KS_ERR_INTERNAL, "CVODE: the Jacobian is not a compressed-column matrix");
        goto fail;
    }
    st->spls = st->spjac ? SUNLinSol_KLU(st->y, st->spjac, st->sunctx) : NULL;
    st->jdense = st->spls ? ks_calloc(ctx, (size_t)n * (size_t)n, sizeof(double)) : NULL;
    st->pat = st->jdense ? ks_calloc(ctx, (size_t)n * (size_t)n, 1) : NULL;
    if (st->pat) {
        for (int i = 0; i < n; i++) {
            st->pat[(size_t)i * (size_t)n + (size_t)i] = 1;
        }
        st->pat_nnz = n;
    }
    st->mem = st->pat ? CVodeCreate(CV_BDF, st->sunctx) : NULL;
    if (!st->mem) {
        ks_fail(ctx, KS_ERR_NOMEM, "CVODE: cannot create the solver for %d states", n);
        goto fail;
    }
    /* Installed first, so that no later message reaches stderr. */
    what = "CVodeSetErrHandlerFn";
    flag = CVodeSetErrHandlerFn(st->mem, cvode_err_handler, st);
    if (flag != CV_SUCCESS) {
        goto fail_flag;
    }
    N_VConst(0.0, st->y);
    what = "CVodeInit";
    flag = CVodeInit(st->mem, cvode_rhs, 0.0, st->y);
    if (flag != CV_SUCCESS) {
        goto fail_flag;
    }
    what = "CVodeSetUserData";
    flag = CVodeSetUserData(st->mem, st);
    if (flag != CV_SUCCESS) {
        goto fail_flag;
    }
    what = "CVodeSStolerances";
    flag = CVodeSStolerances(st->mem, opt->rtol, opt->atol);
    if (flag != CV_SUCCESS) {
        goto fail_flag;
    }
    what = "CVodeSetLinearSolver";
    st->sparse_on = -1;
    flag = cvode_attach(st, 0);
    if (flag != CV_SUCCESS) {
        goto fail_flag;
    }
    what = "CVodeSetMaxNumSteps";
    flag = CVodeSetMaxNumSteps(st->mem, KS_CVODE_MAX_STEPS);
    if (flag != CV_SUCCESS) {
        goto fail_flag;
    }
    return st;
fail_flag:
    cvode_fail(ctx, st, what, flag, 0.0);
fail:
    cvode_free(st);
    return NULL;
}

static ks_status cvode_reset(ks_ctx *ctx, void *state, const ks_ode_system *sys, double t0,
                             const double *y0)
{
    cvode_state *st = state;
    if (!st || !sys || !sys->rhs || sys->n != st->n || !y0) {
        return ks_fail(ctx, KS_ERR_USAGE,
                       "CVODE: reset with a missing or mismatched system "
                       "(size %d, integrator for %d)",
                       sys ? sys->n : -1, st ? st->n : -1);
    }
    if (!isfinite(t0)) {
        return ks_fail(ctx, KS_ERR_USAGE, "CVODE: reset at a non-finite time (got %g)", t0);
    }
    double *yd = N_VGetArrayPointer(st->y);
    for (int i = 0; i < st->n; i++) {
        if (!isfinite(y0[i])) {
            return ks_fail(ctx, KS_ERR_SOLVER,
                           "CVODE: initial state %d at t = %g h is not finite (got %g)", i, t0,
                           y0[i]);
        }
        yd[i] = y0[i];
    }
    /* Counters restart at every CVodeReInit: keep what the last integration did. */
    cvode_current_counters(st, &st->done);
    st->sys = *sys;
    st->errmsg[0] = '\0';
    st->rhs_failed = 0;
    int flag = CVodeReInit(st->mem, t0, st->y);
    if (flag != CV_SUCCESS) {
        return cvode_fail(ctx, st, "CVodeReInit", flag, t0);
    }
    flag = cvode_attach(st, sys->jac != NULL);
    if (flag != CV_SUCCESS) {
        return cvode_fail(ctx, st, "CVodeSetLinearSolver", flag, t0);
    }
    if (sys->jac && st->pat_nnz != st->n) {
        /* back to the diagonal (see the header); the first step evaluates the Jacobian */
        const size_t un = (size_t)st->n;
        memset(st->pat, 0, un * un);
        for (size_t i = 0; i < un; i++) {
            st->pat[i * un + i] = 1;
        }
        st->pat_nnz = st->n;
        flag = SUNLinSol_KLUReInit(st->spls, st->spjac, (sunindextype)st->n, SUNKLU_REINIT_PARTIAL);
        if (flag != 0) {
            return ks_fail(ctx, KS_ERR_SOLVER, "CVODE: KLU re-initialisation failed (flag %d)",
                           flag);
        }
    }
    /* NULL restores the difference-quotient Jacobian (dense). */
    flag = CVodeSetJacFn(st->mem, sys->jac ? cvode_jac_sparse : NULL);
    if (flag != CV_SUCCESS) {
        return cvode_fail(ctx, st, "CVodeSetJacFn", flag, t0);
    }
    st->t = t0;
    st->tstop_set = 0;
    st->started = 1;
    st->restarts++;
    return KS_OK;
}

static ks_status cvode_advance(ks_ctx *ctx, void *state, double tout, double tstop, double *y)
{
    cvode_state *st = state;
    if (!st || !st->started) {
        return ks_fail(ctx, KS_ERR_USAGE, "CVODE: advance before reset");
    }
    if (!(tout >= st->t) || !(tout <= tstop) || !isfinite(tstop)) {
        return ks_fail(ctx, KS_ERR_USAGE,
                       "CVODE: output time %g h outside [%g, %g] (current time, stop time)", tout,
                       st->t, tstop);
    }
    double *yd = N_VGetArrayPointer(st->y);
    /* An output at the current time (or closer than CVODE can resolve, its CV_TOO_CLOSE test
     * |tout - t| < 2 u max(|t|, |tout|)) is the current state. */
    double tdist = tout - st->t;
    double tround = fmax(fabs(st->t), fabs(tout));
    if (tdist <= 2.0 * DBL_EPSILON * tround || tdist == 0.0) {
        memcpy(y, yd, (size_t)st->n * sizeof(double));
        return KS_OK;
    }
    if (!st->tstop_set || tstop != st->tstop) {
        int flag = CVodeSetStopTime(st->mem, tstop);
        if (flag != CV_SUCCESS) {
            return cvode_fail(ctx, st, "CVodeSetStopTime", flag, st->t);
        }
        st->tstop = tstop;
        st->tstop_set = 1;
    }
    sunrealtype tret = st->t;
    int flag = CVode(st->mem, tout, st->y, &tret, CV_NORMAL);
    if (flag < 0) {
        double tcur = st->t;
        if (CVodeGetCurrentTime(st->mem, &tcur) != CV_SUCCESS) {
            tcur = st->t;
        }
        if (st->rhs_failed && !st->errmsg[0]) {
            snprintf(st->errmsg, sizeof st->errmsg, "the right-hand side reported a failure");
        }
        return cvode_fail(ctx, st, "CVode", flag, tcur);
    }
    st->t = tout;
    for (int i = 0; i < st->n; i++) {
        if (!isfinite(yd[i])) {
            return ks_fail(ctx, KS_ERR_SOLVER, "CVODE: state %d is not finite at t = %g h (got %g)",
                           i, tout, yd[i]);
        }
    }
    memcpy(y, yd, (size_t)st->n * sizeof(double));
    return KS_OK;
}

static void cvode_stats(const void *state, ks_solver_stats *acc)
{
    const cvode_state *st = state;
    if (!st || !acc) {
        return;
    }
    acc->steps += st->done.steps;
    acc->rhs_evals += st->done.rhs_evals;
    acc->jac_evals += st->done.jac_evals;
    acc->lin_setups += st->done.lin_setups;
    acc->err_test_fails += st->done.err_test_fails;
    acc->conv_fails += st->done.conv_fails;
    acc->restarts += st->restarts;
    cvode_current_counters(st, acc);
}

const ks_integrator_type ks_integrator_cvode = {
    .name = "cvode",
    .create = cvode_create,
    .reset = cvode_reset,
    .advance = cvode_advance,
    .stats = cvode_stats,
    .free = cvode_free,
};
