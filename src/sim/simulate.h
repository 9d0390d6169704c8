/*
 * simulate.h -- the simulation driver: for each subject, builds the model from the parameter
 * table and the patient, walks the dose events in time order and integrates between them with
 * the chosen method, recording every output at every output time.
 */
#ifndef KS_SIMULATE_H
#define KS_SIMULATE_H

#include "ketasim.h"
#include "../model/pk.h"
#include "../io/scenario_internal.h"

/* Exact solution of the linear PK for one subject by superposition of doses (matrix
 * exponential of the augmented system; Van Loan 1978), written at times[0..n_times-1] into
 * x_out (row-major n_times x sys->n). Independent of every integrator: used as the oracle. */
ks_status ks_pk_closed_form(ks_ctx *ctx, const ks_pk_system *sys, const ks_dose *doses,
                            size_t n_doses, const double *times, size_t n_times, double *x_out);

/* Steady state just before a dose of a regimen repeated every ii_h (NONMEM SS=1): solves
 * (I - e^{A ii}) x = contribution of one interval's dose. x has sys->n entries. */
ks_status ks_pk_steady_state(ks_ctx *ctx, const ks_pk_system *sys, const ks_dose *dose, double *x);

#endif /* KS_SIMULATE_H */
