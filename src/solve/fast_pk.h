/*
 * fast_pk.h -- exact propagation of a linear time-invariant system dx/dt = A x + u (u constant
 * over each call) with precomputed matrix exponentials, for the fast path.
 *
 * x(t + tau) = e^{A tau} x(t) + Phi(tau) u,  Phi(tau) = int_0^tau e^{A s} ds
 * (variation of constants). A is split into its connected components (states coupled by a
 * transfer), each propagated by its own small dense matrices. The propagators of a ladder of
 * step sizes on a time grid of quantum KS_FASTPK_QUANTUM_H (1/16 min) are precomputed: the
 * smallest from one exponential of the Van Loan block matrix [[A, I], [0, 0]] tau (Van Loan,
 * IEEE Trans Autom Control 23:395, 1978, Theorem 1), the others by the semigroup rules
 * e^{A(a+b)} = e^{Aa} e^{Ab}, Phi(a + b) = e^{Ab} Phi(a) + Phi(b). Any interval that is a whole
 * number of quanta is a product of ladder propagators; other intervals get their own
 * exponential, kept in a small cache. Nothing is allocated after ks_fast_pk_create.
 *
 * Ladder (minutes): 1/16 1/8 1/4 1/2 1 2 3 4 5 6 10 12 15 20 30 60: every divisor of an hour
 * from one minute up, so that steps on a minute grid meet every whole-minute stop exactly.
 */
#ifndef KS_FAST_PK_H
#define KS_FAST_PK_H

#include "ketasim.h"

/* Grid quantum of the ladder, h (1/16 min). */
#define KS_FASTPK_QUANTUM_H (1.0 / 960.0)
/* Number of ladder sizes and their values in quanta. */
#define KS_FASTPK_NSIZES 16

typedef struct ks_fast_pk ks_fast_pk;

/* Work space for systems of up to nmax states (1 <= nmax <= 64). NULL on failure. */
ks_fast_pk *ks_fast_pk_create(ks_ctx *ctx, int nmax);
void ks_fast_pk_free(ks_fast_pk *p);

/* Sets the system (n states; A as nnz triplets row, col, val in 1/h) and computes the ladder.
 * When the system equals the previous one (same triplets), nothing is recomputed. Fails with
 * KS_ERR_SOLVER when an exponential fails (non-finite A). */
ks_status ks_fast_pk_setup(ks_ctx *ctx, ks_fast_pk *p, int n, int nnz, const int *row,
                           const int *col, const double *val);

/* x <- e^{A tau} x + Phi(tau) u for tau >= 0 (u NULL: no input). Exact up to rounding (an
 * interval within 1e-10 h of a whole number of quanta is taken as that number). */
ks_status ks_fast_pk_advance(ks_ctx *ctx, ks_fast_pk *p, double *x, const double *u, double tau);

/* The ladder size in quanta of index i (0 <= i < KS_FASTPK_NSIZES). */
long ks_fast_pk_size(int i);

/* Number of exponentials computed so far (ladder bases and off-grid intervals). */
long ks_fast_pk_expm_count(const ks_fast_pk *p);

#endif /* KS_FAST_PK_H */
