/*
 * expm.c -- dense matrix exponential by scaling and squaring with Pade approximants, and the
 * dense helpers it needs (product, 1-norm, LU with partial pivoting).
 *
 * Algorithm: N. J. Higham, "The scaling and squaring method for the matrix exponential
 * revisited", SIAM J Matrix Anal Appl 26(4):1179-1193, 2005: Algorithm 2.3 (choice of the Pade
 * degree m from the 1-norm, scaling by 2^-s, evaluation of the [m/m] approximant through its odd
 * and even parts U and V, s squarings), with the paper's theta_m for double precision.
 */
#include "solve/expm.h"

#include "core/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Number of n x n matrices in the work buffer. */
#define KS_EXPM_NBUF 8

ks_status ks_expm_work_init(ks_ctx *ctx, ks_expm_work *w, int nmax)
{
    w->nmax = 0;
    w->buf = NULL;
    w->piv = NULL;
    if (nmax < 1 || nmax > 4096) {
        return ks_fail(ctx, KS_ERR_USAGE, "matrix exponential: bad size (got %d)", nmax);
    }
    size_t nn = (size_t)nmax * (size_t)nmax;
    w->buf = ks_calloc(ctx, KS_EXPM_NBUF * nn, sizeof(double));
    if (!w->buf) {
        goto fail;
    }
    w->piv = ks_calloc(ctx, (size_t)nmax, sizeof(int));
    if (!w->piv) {
        goto fail;
    }
    w->nmax = nmax;
    return KS_OK;
fail:
    ks_expm_work_release(w);
    return KS_ERR_NOMEM;
}

void ks_expm_work_release(ks_expm_work *w)
{
    if (!w) {
        return;
    }
    free(w->buf);
    free(w->piv);
    w->buf = NULL;
    w->piv = NULL;
    w->nmax = 0;
}

void ks_mat_mul(int n, const double *a, const double *b, double *c)
{
    size_t un = (size_t)n;
    memset(c, 0, un * un * sizeof(double));
    for (size_t i = 0; i < un; i++) {
        double *ci = c + i * un;
        for (size_t k = 0; k < un; k++) {
            double aik = a[i * un + k];
            if (aik == 0.0) {
                continue;
            }
            const double *bk = b + k * un;
            for (size_t j = 0; j < un; j++) {
                ci[j] += aik * bk[j];
            }
        }
    }
}

double ks_mat_norm1(int n, const double *a)
{
    size_t un = (size_t)n;
    double best = 0.0;
    for (size_t j = 0; j < un; j++) {
        double s = 0.0;
        for (size_t i = 0; i < un; i++) {
            s += fabs(a[i * un + j]);
        }
        if (s > best || isnan(s)) {
            best = s;
        }
    }
    return best;
}

int ks_lu_factor(int n, double *a, int *piv)
{
    size_t un = (size_t)n;
    for (size_t k = 0; k < un; k++) {
        /* Partial pivoting: the largest |a_ik| of column k at or below the diagonal
         * (Golub & Van Loan, Matrix Computations, 4th ed., Algorithm 3.4.1). */
        size_t p = k;
        double best = fabs(a[k * un + k]);
        for (size_t i = k + 1; i < un; i++) {
            double v = fabs(a[i * un + k]);
            if (v > best) {
                best = v;
                p = i;
            }
        }
        piv[k] = (int)p;
        if (best == 0.0 || !isfinite(best)) {
            return (int)k + 1;
        }
        if (p != k) {
            for (size_t j = 0; j < un; j++) {
                double t = a[k * un + j];
                a[k * un + j] = a[p * un + j];
                a[p * un + j] = t;
            }
        }
        double inv = 1.0 / a[k * un + k];
        for (size_t i = k + 1; i < un; i++) {
            double l = a[i * un + k] * inv;
            a[i * un + k] = l;
            if (l == 0.0) {
                continue;
            }
            for (size_t j = k + 1; j < un; j++) {
                a[i * un + j] -= l * a[k * un + j];
            }
        }
    }
    return 0;
}

void ks_lu_solve(int n, const double *lu, const int *piv, double *b, int nrhs)
{
    size_t un = (size_t)n, ur = (size_t)nrhs;
    /* Row interchanges in the order they were made. */
    for (size_t k = 0; k < un; k++) {
        size_t p = (size_t)piv[k];
        if (p != k) {
            for (size_t j = 0; j < ur; j++) {
                double t = b[k * ur + j];
                b[k * ur + j] = b[p * ur + j];
                b[p * ur + j] = t;
            }
        }
    }
    /* Forward substitution with unit lower L. */
    for (size_t i = 1; i < un; i++) {
        for (size_t k = 0; k < i; k++) {
            double l = lu[i * un + k];
            if (l == 0.0) {
                continue;
            }
            for (size_t j = 0; j < ur; j++) {
                b[i * ur + j] -= l * b[k * ur + j];
            }
        }
    }
    /* Back substitution with U. */
    for (size_t ii = un; ii-- > 0;) {
        for (size_t k = ii + 1; k < un; k++) {
            double u = lu[ii * un + k];
            if (u == 0.0) {
                continue;
            }
            for (size_t j = 0; j < ur; j++) {
                b[ii * ur + j] -= u * b[k * ur + j];
            }
        }
        double inv = 1.0 / lu[ii * un + ii];
        for (size_t j = 0; j < ur; j++) {
            b[ii * ur + j] *= inv;
        }
    }
}

/* dst += c * src (n x n). */
static void mat_axpy(size_t nn, double c, const double *src, double *dst)
{
    if (c == 0.0) {
        return;
    }
    for (size_t i = 0; i < nn; i++) {
        dst[i] += c * src[i];
    }
}

static void mat_add_identity(size_t n, double c, double *dst)
{
    for (size_t i = 0; i < n; i++) {
        dst[i * n + i] += c;
    }
}

/* Pade coefficients b_0..b_m of the [m/m] approximant to exp: b_j proportional to
 * (2m - j)! / (j! (m - j)!) (the classical diagonal Pade approximant of e^x; Higham 2005,
 * section 2), scaled so that b_m = 1. Every value below was checked against that formula in
 * exact rational arithmetic. */
static const double pade3[] = {120.0, 60.0, 12.0, 1.0};
static const double pade5[] = {30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0};
static const double pade7[] = {17297280.0, 8648640.0, 1995840.0, 277200.0,
                               25200.0,    1512.0,    56.0,      1.0};
static const double pade9[] = {17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0,
                               2162160.0,     110880.0,     3960.0,       90.0,        1.0};
static const double pade13[] = {64764752532480000.0,
                                32382376266240000.0,
                                7771770303897600.0,
                                1187353796428800.0,
                                129060195264000.0,
                                10559470521600.0,
                                670442572800.0,
                                33522128640.0,
                                1323241920.0,
                                40840800.0,
                                960960.0,
                                16380.0,
                                182.0,
                                1.0};

/* theta_m: the largest 1-norm for which the backward error of the [m/m] approximant stays below
 * the unit roundoff of double precision (Higham 2005, values given with Algorithm 2.3; also
 * Higham, Functions of Matrices, SIAM 2008, ch. 10). */
static const double theta3 = 1.495585217958292e-2;
static const double theta5 = 2.539398330063230e-1;
static const double theta7 = 9.504178996162932e-1;
static const double theta9 = 2.097847961257068e0;
static const double theta13 = 5.371920351148152e0;

ks_status ks_expm(ks_ctx *ctx, ks_expm_work *w, int n, const double *a, double *e)
{
    if (n < 1 || n > w->nmax || !w->buf) {
        return ks_fail(ctx, KS_ERR_USAGE, "matrix exponential: size %d outside the work space (%d)",
                       n, w->nmax);
    }
    size_t un = (size_t)n, nn = un * un;
    double *as = w->buf, *a2 = as + nn, *a4 = a2 + nn, *a6 = a4 + nn, *ubuf = a6 + nn,
           *u = ubuf + nn, *v = u + nn, *a8 = v + nn;

    for (size_t i = 0; i < nn; i++) {
        if (!isfinite(a[i])) {
            return ks_fail(ctx, KS_ERR_SOLVER,
                           "matrix exponential: entry (%zu, %zu) is not finite (got %g)", i / un,
                           i % un, a[i]);
        }
    }
    double norm = ks_mat_norm1(n, a);
    int s = 0;
    const double *b = NULL;
    int m = 0;
    if (norm <= theta3) {
        b = pade3, m = 3;
    } else if (norm <= theta5) {
        b = pade5, m = 5;
    } else if (norm <= theta7) {
        b = pade7, m = 7;
    } else if (norm <= theta9) {
        b = pade9, m = 9;
    } else {
        b = pade13, m = 13;
        /* s = ceil(log2(||A||_1 / theta13)) (Higham 2005, Algorithm 2.3). */
        double r = norm / theta13;
        if (r > 1.0) {
            int ex = 0;
            double fr = frexp(r, &ex); /* r = fr * 2^ex, fr in [0.5, 1) */
            s = (fr == 0.5) ? ex - 1 : ex;
        }
    }
    double scale = ldexp(1.0, -s);
    for (size_t i = 0; i < nn; i++) {
        as[i] = a[i] * scale;
    }
    ks_mat_mul(n, as, as, a2);
    if (m == 13) {
        ks_mat_mul(n, a2, a2, a4);
        ks_mat_mul(n, a4, a2, a6);
        /* U = A [A6 (b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I]
         * V = A6 (b12 A6 + b10 A4 + b8 A2) + b6 A6 + b4 A4 + b2 A2 + b0 I  (Higham 2005,
         * Algorithm 2.3)
         */
        memset(ubuf, 0, nn * sizeof(double));
        mat_axpy(nn, b[13], a6, ubuf);
        mat_axpy(nn, b[11], a4, ubuf);
        mat_axpy(nn, b[9], a2, ubuf);
        ks_mat_mul(n, a6, ubuf, v);
        mat_axpy(nn, b[7], a6, v);
        mat_axpy(nn, b[5], a4, v);
        mat_axpy(nn, b[3], a2, v);
        mat_add_identity(un, b[1], v);
        ks_mat_mul(n, as, v, u);
        memset(ubuf, 0, nn * sizeof(double));
        mat_axpy(nn, b[12], a6, ubuf);
        mat_axpy(nn, b[10], a4, ubuf);
        mat_axpy(nn, b[8], a2, ubuf);
        ks_mat_mul(n, a6, ubuf, v);
        mat_axpy(nn, b[6], a6, v);
        mat_axpy(nn, b[4], a4, v);
        mat_axpy(nn, b[2], a2, v);
        mat_add_identity(un, b[0], v);
    } else {
        /* U = A sum_{j odd} b_j A^{j-1}, V = sum_{j even} b_j A^j (Higham 2005, section 2). */
        const double *pw[5] = {NULL, a2, NULL, NULL, NULL}; /* pw[k] = A^{2k} */
        if (m >= 5) {
            ks_mat_mul(n, a2, a2, a4);
            pw[2] = a4;
        }
        if (m >= 7) {
            ks_mat_mul(n, a4, a2, a6);
            pw[3] = a6;
        }
        if (m >= 9) {
            ks_mat_mul(n, a6, a2, a8);
            pw[4] = a8;
        }
        memset(ubuf, 0, nn * sizeof(double));
        memset(v, 0, nn * sizeof(double));
        mat_add_identity(un, b[1], ubuf);
        mat_add_identity(un, b[0], v);
        for (int k = 1; 2 * k <= m; k++) {
            mat_axpy(nn, b[2 * k + 1], pw[k], ubuf);
            mat_axpy(nn, b[2 * k], pw[k], v);
        }
        ks_mat_mul(n, as, ubuf, u);
    }
    /* Solve (V - U) X = (V + U) (Higham 2005, Algorithm 2.3). */
    double *q = ubuf;
    for (size_t i = 0; i < nn; i++) {
        q[i] = v[i] - u[i];
        e[i] = v[i] + u[i];
    }
    int bad = ks_lu_factor(n, q, w->piv);
    if (bad) {
        return ks_fail(ctx, KS_ERR_SOLVER,
                       "matrix exponential: singular Pade denominator (column %d, 1-norm %g)",
                       bad - 1, norm);
    }
    ks_lu_solve(n, q, w->piv, e, n);
    /* Undo the scaling: exp(A) = exp(A / 2^s)^(2^s). */
    for (int k = 0; k < s; k++) {
        ks_mat_mul(n, e, e, as);
        memcpy(e, as, nn * sizeof(double));
    }
    for (size_t i = 0; i < nn; i++) {
        if (!isfinite(e[i])) {
            return ks_fail(ctx, KS_ERR_SOLVER,
                           "matrix exponential: result overflows (1-norm of the argument %g)",
                           norm);
        }
    }
    return KS_OK;
}
