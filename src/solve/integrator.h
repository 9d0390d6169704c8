/*
 * integrator.h -- the integrator interface: a table of functions, so that the reference
 * (CVODE) and other methods are interchangeable behind one driver and tests can run all of
 * them on the same problem. An integrator knows nothing of pharmacology: it sees a system
 * dy/dt = f(t, y) given as a callback with an opaque pointer.
 */
#ifndef KS_INTEGRATOR_H
#define KS_INTEGRATOR_H

#include "ketasim.h"

/* Right-hand side: ydot = f(t, y). Returns 0 on success, nonzero to signal an unrecoverable
 * failure (the integrator then fails with KS_ERR_SOLVER). */
typedef int (*ks_rhs_fn)(double t, const double *y, double *ydot, void *user);

/* Optional Jacobian: jac = df/dy at (t, y), dense and column-major (jac[j * n + i] =
 * df_i/dy_j), with f = f(t, y) already evaluated. Returns 0 on success, nonzero on failure.
 * Integrators without a Jacobian (or systems with jac = NULL) use difference quotients. */
typedef int (*ks_jac_fn)(double t, const double *y, const double *f, double *jac, void *user);

typedef struct {
    int n;
    ks_rhs_fn rhs;
    void *user;
    ks_jac_fn jac; /* NULL: the integrator's own difference-quotient Jacobian */
} ks_ode_system;

typedef struct {
    const char *name;
    /* New integrator state for systems of size n. */
    void *(*create)(ks_ctx *ctx, int n, const ks_sim_options *opt);
    /* (Re)starts at (t0, y0): called at the start and after every discontinuity (a dose). */
    ks_status (*reset)(ks_ctx *ctx, void *state, const ks_ode_system *sys, double t0,
                       const double *y0);
    /* Integrates from the current time to exactly tout (tout <= tstop; the integrator never
     * evaluates f beyond tstop, the next discontinuity). Writes y(tout). Fails with
     * KS_ERR_SOLVER (and a message with t and the solver's own error) on failure or a
     * non-finite state. */
    ks_status (*advance)(ks_ctx *ctx, void *state, double tout, double tstop, double *y);
    /* Adds the counters to *acc. */
    void (*stats)(const void *state, ks_solver_stats *acc);
    void (*free)(void *state);
} ks_integrator_type;

extern const ks_integrator_type ks_integrator_cvode;

#endif /* KS_INTEGRATOR_H */
