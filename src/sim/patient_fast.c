/*
 * patient_fast.c -- the fast path (patient_fast.h): exact PK, Rosenbrock-W mechanism.
 *
 * Method (docs/MODEL.md section 15; docs/API.md "Fast path"):
 *   - PK: y_pk(t + h) = e^{A h} y_pk(t) + Phi(h) u from the propagator ladder of fast_pk.h
 *     (exact up to rounding; only the carried states of model.h). Between the ends of a step the
 *     concentrations the mechanism reads are the cubic Hermite interpolant of the exact values
 *     and exact derivatives (A y_pk + u, A by rows) at both ends (error O(h^4), the order of the
 *     method's local error).
 *   - Mechanism: ROS34PW2 (rosw.h; Rang & Angermann, BIT 45:761, 2005), a W-method: its order
 *     holds for any approximation of the Jacobian (Hairer & Wanner, Solving ODEs II, 2nd ed.,
 *     IV.7), so J is kept over KS_FAST_JAC_AGE steps and re-evaluated after a rejected step;
 *     the time dependence through the inputs enters by the method's df/dt term (forward
 *     difference in t along the exact PK derivative), which measurably improves agreement.
 *   - Sparse Jacobian (sparse_jac.h), found generically for whatever the mechanism equations
 *     are: once per patient (first reset) the structural pattern of d f / d z is probed at three
 *     points (the patient's state and two perturbed states, each with the inputs of a random PK
 *     state at a random time of the first day); the forward differences (Dennis & Schnabel 1996,
 *     5.4) then perturb structurally orthogonal columns together (Curtis, Powell & Reid 1974:
 *     12 evaluations instead of 28 for today's mechanism), and I/(h gamma) - J is factored in
 *     block lower-triangular form (Tarjan 1972 components, Duff & Reid 1978: today 21 scalar
 *     blocks and one 7 x 7 block), so a refactorisation after a change of h costs almost
 *     nothing. A dependence the probes miss (e.g. one that only an intervention absent from the
 *     first segment switches on) only makes J less exact; the step-size control keeps the error.
 *   - Not kept (measured, docs/BENCHMARK.md): a multirate treatment of the noise-driven mood
 *     (Savcenco, Hundsdorfer & Verwer 2007; Gear & Wells 1984; built and measured, then removed:
 *     -19 % time, agreement with the reference 2-6x worse); a predictive step-size controller
 *     (Gustafsson 1994; it took more steps here); a looser tolerance (rtol 2e-5: 20 % faster,
 *     5-10x larger differences from the reference).
 * Step-size control on the embedded order-2 solution (weighted RMS norm, fast_rtol/fast_atol of
 * ks_sim_options, defaults KS_FAST_RTOL_DEFAULT/ATOL_DEFAULT; the
 * classical controller h_new = h min(4, max(0.2, 0.9 err^{-1/3})), Hairer & Wanner II, IV.8); steps
 * are rounded down to the ladder of fast_pk.h (1 min ... 1 h, down to 1/16 min, then halvings), at
 * most KS_FAST_HMAX, and shortened to 1 min after a dose, so that the propagators are reused.
 *   - Outputs end a step; session samples (CADSS, sedation peaks) are interpolated inside the
 *     step: PK exactly, the mechanism by the cubic Hermite interpolant (z, f at both ends).
 * No allocation after ks_fast_create.
 */
#include "sim/patient_fast.h"

#include "core/internal.h"
#include "core/rng.h"
#include "solve/fast_pk.h"
#include "solve/rosw.h"
#include "solve/sparse_jac.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Steps between Jacobian evaluations (a W-method keeps its order with a lagged Jacobian; a
 * rejected step with a lagged Jacobian re-evaluates it). */
#ifndef KS_FAST_JAC_AGE
#define KS_FAST_JAC_AGE 10
#endif
/* Step cap right after a dose (the effect site starts to fill), h. */
#define KS_FAST_H_DOSE (1.0 / 60.0)
/* Smallest step before the integration is declared failed, h. */
#define KS_FAST_HMIN 1e-9

#define NZ KS_PD_N

struct ks_fast_integ {
    ks_rosw ros;
    ks_fast_pk *pk;
    ks_model *m;
    int np, mech, have_state, have_prev;
    /* A over the carried states by rows (from the model's triplets, their order kept) */
    int a_ptr[KS_PK_MAXN + 1], a_col[KS_PK_MAXNNZ];
    double a_val[KS_PK_MAXNNZ];
    double t;
    double x[KS_PK_MAXN], xd[KS_PK_MAXN], z[NZ], f[NZ];
    /* start of the last accepted step (interpolation of session samples) */
    double tp, xp[KS_PK_MAXN], zp[NZ], fp[NZ];
    /* trial step */
    double x1[KS_PK_MAXN], xd1[KS_PK_MAXN], z1[NZ], f1[NZ], err[NZ];
    double work[(KS_ROSW_STAGES + 1) * NZ];
    double ys[KS_PK_MAXN]; /* PK state at a stage time (only the read states vary) */
    double st_t0, st_h;
    /* sparse Jacobian (pattern probed per patient) and block-triangular factors of
     * I/(h gamma) - J */
    ks_spj sp;
    ks_spj_lu splu;
    double jval[KS_SPJ_MAXNNZ], zpert[NZ], fpert[NZ], ft[NZ];
    unsigned char pat[NZ * NZ];
    ks_pd_input jin; /* inputs held fixed while z varies (pattern probes, Jacobian) */
    double jt;
    int have_pattern;
    int jac_ok, lu_ok, jac_age;
    double h_lu, h;
    double rtol, atol; /* step-size control (ks_fast_create) */
    ks_solver_stats s;
};

ks_fast_integ *ks_fast_create(ks_ctx *ctx, double rtol, double atol)
{
    ks_fast_integ *f = ks_calloc(ctx, 1, sizeof *f);
    if (!f) {
        return NULL;
    }
    if (!(f->pk = ks_fast_pk_create(ctx, KS_PK_MAXN))) {
        free(f);
        return NULL;
    }
    ks_rosw_init(&f->ros);
    f->h = KS_FAST_H_DOSE;
    f->rtol = rtol;
    f->atol = atol;
    return f;
}

void ks_fast_free(ks_fast_integ *f)
{
    if (!f) {
        return;
    }
    ks_fast_pk_free(f->pk);
    free(f);
}

ks_status ks_fast_setup(ks_ctx *ctx, ks_fast_integ *f, ks_model *m)
{
    f->m = m;
    f->np = m->n_pk;
    f->mech = m->pd != NULL;
    f->have_state = 0;
    f->have_prev = 0;
    f->have_pattern = 0;
    f->jac_ok = 0;
    f->lu_ok = 0;
    f->h = KS_FAST_H_DOSE;
    /* rows of A: a counting sort of the triplets by row, stable */
    int fill[KS_PK_MAXN + 1];
    memset(fill, 0, sizeof fill);
    for (int k = 0; k < m->nnz; k++) {
        fill[m->row[k] + 1]++;
    }
    for (int i = 0; i < f->np; i++) {
        fill[i + 1] += fill[i];
    }
    memcpy(f->a_ptr, fill, (size_t)(f->np + 1) * sizeof(int));
    for (int k = 0; k < m->nnz; k++) {
        int pos = fill[m->row[k]]++;
        f->a_col[pos] = m->col[k];
        f->a_val[pos] = m->val[k];
    }
    if (f->np > 0) {
        return ks_fast_pk_setup(ctx, f->pk, m->n_pk, m->nnz, m->row, m->col, m->val);
    }
    return KS_OK;
}

/* xd = A x + u (docs/PK.md), A by rows (a_ptr/a_col/a_val of ks_fast_setup): each row's sum in
 * a register, its terms in the order of the model's triplets (bitwise the triplet scatter). */
static void pk_deriv(const ks_fast_integ *f, const double *x, double *xd)
{
    for (int i = 0; i < f->np; i++) {
        double s = f->m->u[i];
        for (int k = f->a_ptr[i]; k < f->a_ptr[i + 1]; k++) {
            s += f->a_val[k] * x[f->a_col[k]];
        }
        xd[i] = s;
    }
}

/* fz = mechanism right-hand side at (t, PK state xpk, z). */
static void pd_eval(ks_fast_integ *f, double t, const double *xpk, const double *z, double *fz)
{
    ks_pd_input in;
    ks_model_pd_input(f->m, t, xpk, &in);
    ks_pd_rhs(f->m->pd, t, z, &in, fz);
    f->s.rhs_evals++;
}

/* Cubic Hermite basis at theta in [0, 1]. */
static void hermite(double th, double *h00, double *h10, double *h01, double *h11)
{
    double t2 = th * th, t3 = t2 * th;
    *h00 = 2.0 * t3 - 3.0 * t2 + 1.0;
    *h10 = t3 - 2.0 * t2 + th;
    *h01 = -2.0 * t3 + 3.0 * t2;
    *h11 = t3 - t2;
}

/* Stage right-hand side (ks_rosw_rhs_fn) at t0 + c h: read concentrations interpolated. */
static int stage_rhs(double c, const double *z, double *fz, void *user)
{
    ks_fast_integ *f = user;
    const ks_model *m = f->m;
    const double h = f->st_h;
    double h00, h10, h01, h11;
    hermite(c, &h00, &h10, &h01, &h11);
    for (int q = 0; q < m->n_read; q++) {
        int r = m->read[q];
        f->ys[r] = h00 * f->x[r] + h10 * h * f->xd[r] + h01 * f->x1[r] + h11 * h * f->xd1[r];
    }
    pd_eval(f, f->st_t0 + c * h, f->ys, z, fz);
    return 0;
}

/* z -> f(jt, z) with the inputs jin held fixed (ks_spj_fn). */
static void rhs_fixed_input(const double *z, double *fz, void *user)
{
    ks_fast_integ *f = user;
    ks_pd_rhs(f->m->pd, f->jt, z, &f->jin, fz);
}

/* The structural pattern of the mechanism Jacobian, probed at the patient's state z0 and at
 * two perturbed states, each with the inputs of a random PK state (every drug the patient's PK
 * carries present) at a random time of the first day (noise between its knots) and the
 * segment's intervention levels; then the column groups and the block triangular form. A
 * dependence visible at none of the probes only makes the W-method's J less exact. */
static void probe_pattern(ks_fast_integ *f, const double *z0)
{
    /* the probe points: one fixed stream of core/rng.h, the same for every patient */
    ks_rng r;
    ks_rng_init(&r, 0x6b6574617369ULL, 0, 0, 0);
    double xr[KS_PK_MAXN], zr[NZ];
    memset(f->pat, 0, sizeof f->pat);
    for (int p = 0; p < 3; p++) {
        for (int i = 0; i < f->np; i++) {
            xr[i] = 0.05 + ks_rng_uniform(&r);
        }
        for (int i = 0; i < NZ; i++) {
            double a = ks_rng_uniform(&r) - 0.5, b = ks_rng_uniform(&r) - 0.5;
            zr[i] = p == 0 ? z0[i] : z0[i] * (1.0 + 0.2 * a) + 0.02 * b;
        }
        f->jt = 24.0 * ks_rng_uniform(&r);
        ks_model_pd_input(f->m, f->jt, xr, &f->jin);
        ks_spj_probe(NZ, zr, rhs_fixed_input, f, f->zpert, f->fpert, f->ft, f->pat);
        f->s.rhs_evals += 2 * NZ + 1;
    }
    ks_spj_build(&f->sp, NZ, f->pat);
    f->have_pattern = 1;
    f->jac_ok = 0;
    f->lu_ok = 0;
}

/* Jacobian of the mechanism at the current point: forward differences by column groups. */
static void jacobian(ks_fast_integ *f)
{
    f->jt = f->t;
    ks_model_pd_input(f->m, f->t, f->x, &f->jin);
    f->s.rhs_evals +=
        ks_spj_jacobian(&f->sp, f->z, f->f, rhs_fixed_input, f, f->zpert, f->fpert, f->jval);
    f->s.jac_evals++;
    f->jac_ok = 1;
    f->jac_age = 0;
    f->lu_ok = 0;
}

/* df/dt through the inputs (concentrations, intervention levels, noise), by a forward
 * difference in t with the PK moved along its exact derivative. */
static void ft_term(ks_fast_integ *f)
{
    const ks_model *m = f->m;
    const double dt = sqrt(DBL_EPSILON) * fmax(fabs(f->t), 1.0);
    for (int q = 0; q < m->n_read; q++) {
        int r = m->read[q];
        f->ys[r] = f->x[r] + dt * f->xd[r];
    }
    pd_eval(f, f->t + dt, f->ys, f->z, f->ft);
    for (int i = 0; i < NZ; i++) {
        f->ft[i] = (f->ft[i] - f->f[i]) / dt;
    }
    memcpy(f->ys, f->x, (size_t)f->np * sizeof(double));
}

/* b <- (I/(h gamma) - J)^{-1} b (ks_rosw_solve_fn). */
static void solve_m(double *b, void *user)
{
    ks_fast_integ *f = user;
    ks_spj_solve(&f->sp, &f->splu, b);
}

ks_status ks_fast_reset(ks_ctx *ctx, ks_fast_integ *f, double t0, const double *y0)
{
    (void)ctx;
    const ks_model *m = f->m;
    int jumped = !f->have_state;
    for (int i = 0; i < f->np; i++) {
        jumped |= y0[i] != f->x[i];
        jumped |= m->u[i] != 0.0;
    }
    memcpy(f->x, y0, (size_t)f->np * sizeof(double));
    f->t = t0;
    f->have_state = 1;
    f->have_prev = 0;
    pk_deriv(f, f->x, f->xd);
    if (f->mech) {
        memcpy(f->z, y0 + f->np, sizeof f->z);
        if (!f->have_pattern) {
            probe_pattern(f, f->z);
        }
        pd_eval(f, t0, f->x, f->z, f->f);
        if (jumped) {
            f->h = fmin(f->h, KS_FAST_H_DOSE);
        }
    }
    f->s.restarts++;
    return KS_OK;
}

/* Largest ladder step <= h. Below the smallest rung (1/16 min; tight tolerances need it at the
 * start of an infusion) the ladder continues by halvings, quantum / 2^k, whose propagators
 * fast_pk.h computes once and caches; without them a step the error test wants shorter than
 * the smallest rung would be retried at that rung for ever. */
static double ladder_step(double h)
{
    for (int s = KS_FASTPK_NSIZES - 1; s >= 0; s--) {
        double hs = (double)ks_fast_pk_size(s) * KS_FASTPK_QUANTUM_H;
        if (hs <= h * (1.0 + 1e-12)) {
            return hs;
        }
    }
    double hs = (double)ks_fast_pk_size(0) * KS_FASTPK_QUANTUM_H;
    while (hs > h * (1.0 + 1e-12) && hs > KS_FAST_HMIN) {
        hs *= 0.5;
    }
    return hs;
}

/* One attempted step towards `target` (> f->t). *accepted = 1 when the step was taken. */
static ks_status try_step(ks_ctx *ctx, ks_fast_integ *f, double target, int *accepted)
{
    ks_model *m = f->m;
    const double span = target - f->t;
    const double h_try = fmin(f->h, KS_FAST_HMAX);
    double hstep;
    int to_target = 0;
    if (span <= h_try * (1.0 + 1e-12)) {
        hstep = span;
        to_target = 1;
    } else {
        hstep = ladder_step(h_try);
        if (hstep >= span) {
            hstep = span;
            to_target = 1;
        }
    }
    ks_status st;
    *accepted = 0;
    memcpy(f->x1, f->x, (size_t)f->np * sizeof(double));
    if (f->np > 0 && (st = ks_fast_pk_advance(ctx, f->pk, f->x1, m->u, hstep)) != KS_OK) {
        return st;
    }
    pk_deriv(f, f->x1, f->xd1);
    if (!f->jac_ok) {
        jacobian(f);
    }
    if (!f->lu_ok || f->h_lu != hstep) {
        if (ks_spj_factor(&f->sp, f->jval, 1.0 / (hstep * f->ros.gamma), &f->splu) != 0) {
            return ks_fail(ctx, KS_ERR_SOLVER, "fast path: singular iteration matrix at t = %g h",
                           f->t);
        }
        f->lu_ok = 1;
        f->h_lu = hstep;
        f->s.lin_setups++;
    }
    memcpy(f->ys, f->x, (size_t)f->np * sizeof(double));
    f->st_t0 = f->t;
    f->st_h = hstep;
    ft_term(f);
    ks_rosw_step_with(&f->ros, NZ, f->z, f->f, f->ft, hstep, solve_m, f, stage_rhs, f, f->z1,
                      f->err, f->work);
    double acc = 0.0;
    for (int i = 0; i < NZ; i++) {
        double w = f->atol + f->rtol * fmax(fabs(f->z[i]), fabs(f->z1[i]));
        double r = f->err[i] / w;
        acc += r * r;
    }
    double errn = sqrt(acc / NZ);
    if (!(errn <= 1.0)) {
        f->s.err_test_fails++;
        double fac = isfinite(errn) ? fmax(0.2, 0.9 * pow(errn, -1.0 / 3.0)) : 0.2;
        f->h = hstep * fac;
        if (f->jac_age > 0) {
            f->jac_ok = 0;
        }
        if (f->h < KS_FAST_HMIN) {
            return ks_fail(ctx, KS_ERR_SOLVER,
                           "fast path: step size %g h too small at t = %g h (error norm %g)", f->h,
                           f->t, errn);
        }
        return KS_OK;
    }
    const double t1 = to_target ? target : f->t + hstep;
    pd_eval(f, t1, f->x1, f->z1, f->f1);
    for (int i = 0; i < NZ; i++) {
        if (!isfinite(f->f1[i])) {
            return ks_fail(ctx, KS_ERR_SOLVER,
                           "fast path: mechanism state %s not finite at t = %g h",
                           ks_pd_state_name(i), t1);
        }
    }
    f->tp = f->t;
    memcpy(f->xp, f->x, (size_t)f->np * sizeof(double));
    memcpy(f->zp, f->z, sizeof f->z);
    memcpy(f->fp, f->f, sizeof f->f);
    f->have_prev = 1;
    f->t = t1;
    memcpy(f->x, f->x1, (size_t)f->np * sizeof(double));
    memcpy(f->xd, f->xd1, (size_t)f->np * sizeof(double));
    memcpy(f->z, f->z1, sizeof f->z);
    memcpy(f->f, f->f1, sizeof f->f);
    double fac = fmin(4.0, fmax(0.2, 0.9 * pow(fmax(errn, 1e-12), -1.0 / 3.0)));
    double hnew = hstep * fac;
    /* a step shortened to reach its target does not shrink the next one */
    f->h = (hstep < h_try && fac >= 1.0) ? fmax(h_try, hnew) : hnew;
    f->s.steps++;
    if (++f->jac_age >= KS_FAST_JAC_AGE) {
        f->jac_ok = 0;
    }
    *accepted = 1;
    return KS_OK;
}

ks_status ks_fast_advance(ks_ctx *ctx, ks_fast_integ *f, double tout, double tstop, int exact,
                          double *y)
{
    ks_status st;
    ks_model *m = f->m;
    if (!f->mech) {
        /* PK alone: one exact propagation */
        if (tout > f->t && f->np > 0 &&
            (st = ks_fast_pk_advance(ctx, f->pk, f->x, m->u, tout - f->t)) != KS_OK) {
            return st;
        }
        f->t = fmax(f->t, tout);
        memcpy(y, f->x, (size_t)f->np * sizeof(double));
        return KS_OK;
    }
    const double target = exact ? tout : tstop;
    long guard = 0;
    while (f->t < tout) {
        int accepted = 0;
        if ((st = try_step(ctx, f, target, &accepted)) != KS_OK) {
            return st;
        }
        if (++guard > 10000000L) {
            return ks_fail(ctx, KS_ERR_SOLVER, "fast path: too many steps before t = %g h", tout);
        }
    }
    if (f->t == tout || !f->have_prev) {
        memcpy(y, f->x, (size_t)f->np * sizeof(double));
        memcpy(y + f->np, f->z, sizeof f->z);
        return KS_OK;
    }
    /* inside the last step: PK exactly from its start, the mechanism by Hermite */
    memcpy(y, f->xp, (size_t)f->np * sizeof(double));
    if (f->np > 0 && (st = ks_fast_pk_advance(ctx, f->pk, y, m->u, tout - f->tp)) != KS_OK) {
        return st;
    }
    const double h = f->t - f->tp;
    double h00, h10, h01, h11;
    hermite((tout - f->tp) / h, &h00, &h10, &h01, &h11);
    double *z = y + f->np;
    for (int i = 0; i < NZ; i++) {
        z[i] = h00 * f->zp[i] + h10 * h * f->fp[i] + h01 * f->z[i] + h11 * h * f->f[i];
    }
    return KS_OK;
}

void ks_fast_stats(const ks_fast_integ *f, ks_solver_stats *acc)
{
    if (!f) {
        return;
    }
    acc->steps += f->s.steps;
    acc->rhs_evals += f->s.rhs_evals;
    acc->jac_evals += f->s.jac_evals;
    acc->lin_setups += f->s.lin_setups;
    acc->err_test_fails += f->s.err_test_fails;
    acc->conv_fails += f->s.conv_fails;
    acc->restarts += f->s.restarts;
}
