/*
 * expm.h -- dense matrix exponential (scaling and squaring with Pade approximants, Higham 2005)
 * and the small dense helpers it needs (matrix product, LU factorisation with partial pivoting).
 *
 * Matrices are row-major n x n arrays of double. Work space is allocated once by the caller
 * (ks_expm_work_init) and reused, so that no function here allocates.
 */
#ifndef KS_EXPM_H
#define KS_EXPM_H

#include "ketasim.h"

/* Work space for matrices up to nmax x nmax. */
typedef struct {
    int nmax;
    double *buf; /* 8 nmax^2 doubles */
    int *piv;    /* nmax pivots */
} ks_expm_work;

/* Allocates work space for matrices of size up to nmax (1 <= nmax). On failure returns
 * KS_ERR_NOMEM (or KS_ERR_USAGE for a bad size) and leaves *w empty (safe to release). */
ks_status ks_expm_work_init(ks_ctx *ctx, ks_expm_work *w, int nmax);
/* Frees the work space; a zeroed or already released *w is a no-op. */
void ks_expm_work_release(ks_expm_work *w);

/* e = exp(a) for an n x n matrix (n <= w->nmax); a and e must not overlap. Algorithm 2.3 of
 * Higham 2005 (SIAM J Matrix Anal Appl 26:1179): Pade degree 3, 5, 7, 9 when the 1-norm is
 * small enough, else the [13/13] approximant of a / 2^s followed by s squarings. Fails with
 * KS_ERR_SOLVER when a has a non-finite entry or the Pade denominator is singular. */
ks_status ks_expm(ks_ctx *ctx, ks_expm_work *w, int n, const double *a, double *e);

/* c = a b (n x n; c must not overlap a or b). */
void ks_mat_mul(int n, const double *a, const double *b, double *c);
/* 1-norm (largest absolute column sum) of an n x n matrix. */
double ks_mat_norm1(int n, const double *a);

/* In-place LU factorisation with partial pivoting (P a = L U, unit lower L). Returns 0, or
 * k + 1 when the pivot of column k is exactly zero or not finite (a is then singular to
 * working precision and must not be used with ks_lu_solve). */
int ks_lu_factor(int n, double *a, int *piv);
/* Solves a x = b for nrhs right-hand sides, b row-major n x nrhs, overwritten by x, using the
 * factors from ks_lu_factor. */
void ks_lu_solve(int n, const double *lu, const int *piv, double *b, int nrhs);

#endif /* KS_EXPM_H */
