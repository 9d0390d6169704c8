/*
 * patient_fast.h -- the fast path (KS_SOLVER_FAST): integrates the combined model of model.h
 * with the PK propagated exactly (fast_pk.h) and the mechanism by the Rosenbrock-W method
 * ROS34PW2 (rosw.h) with step-size control and a sparse Jacobian found by probing
 * (sparse_jac.h). The event walk is the reference engine's (patient_sim.c): it calls reset
 * after every discontinuity and advance to every output time and session sample, exactly as it
 * calls CVODE.
 *
 * One instance per workspace; it holds every buffer (nothing is allocated per patient or per
 * step once created).
 */
#ifndef KS_PATIENT_FAST_H
#define KS_PATIENT_FAST_H

#include "ketasim.h"
#include "../model/model.h"

/* Default local error tolerances of the mechanism states (weighted RMS norm of the embedded
 * error estimate; ks_sim_options.fast_rtol/fast_atol), chosen so that the fast path meets its
 * stated agreement with the reference path (docs/API.md, "Fast path"). */
#define KS_FAST_RTOL_DEFAULT 1e-5
#define KS_FAST_ATOL_DEFAULT 1e-6
/* Largest step, h (the mood-noise grid and the mood relaxation time, MODEL.md 15). */
#define KS_FAST_HMAX 1.0

typedef struct ks_fast_integ ks_fast_integ;

/* rtol in (0, 1), atol > 0: the tolerances of the step-size control (the caller checks them). */
ks_fast_integ *ks_fast_create(ks_ctx *ctx, double rtol, double atol);
void ks_fast_free(ks_fast_integ *f);

/* Binds the instance to the model of one patient (after ks_model_setup): computes the PK
 * propagators (reused when the PK matrix is unchanged). */
ks_status ks_fast_setup(ks_ctx *ctx, ks_fast_integ *f, ks_model *m);

/* (Re)starts at (t0, y0) after a discontinuity; the model's segment inputs are those of the
 * segment starting at t0. */
ks_status ks_fast_reset(ks_ctx *ctx, ks_fast_integ *f, double t0, const double *y0);

/* Advances to tout (<= tstop; no step goes beyond tstop) and writes y(tout) into y. exact = 1:
 * a step ends at tout (outputs); exact = 0: y(tout) is interpolated inside a step (session
 * samples): the PK exactly, the mechanism by the cubic Hermite interpolant of the step. */
ks_status ks_fast_advance(ks_ctx *ctx, ks_fast_integ *f, double tout, double tstop, int exact,
                          double *y);

/* Adds the counters (steps, rhs, jacobians, LU factorisations, rejected steps, restarts). */
void ks_fast_stats(const ks_fast_integ *f, ks_solver_stats *acc);

#endif /* KS_PATIENT_FAST_H */
