/*
 * sundials_ops.c -- compiled kernels for CVODE's serial vector and sparse matrix operations
 * (sundials_ops.h).
 *
 * Written from the operations' definitions in the CVODE user guide v6.4 ("NVECTOR functions
 * used by CVODE", "SUNMATRIX functions used by CVODE"), with the special cases of the serial
 * and sparse modules so that every result is the same expression evaluated in the same order. ISO C
 * mode (-std=c17) keeps GCC from contracting a product and a sum into one fused operation, which
 * would change the rounding.
 */
#include "solve/sundials_ops.h"

#include <math.h>
#include <nvector/nvector_serial.h>
#include <sunmatrix/sunmatrix_sparse.h>

#define LEN(v) ((long)NV_LENGTH_S(v))
#define DAT(v) (NV_DATA_S(v))

/* z = a x + b y, with the serial module's cases: y += a x (b = 1, z = y) and x += b y (a = 1,
 * z = x), each with its own cases a = +-1; x + y; x - y or y - x; c v1 + v2 (one coefficient
 * 1); c v1 - v2 (one coefficient -1); c (x + y) (a = b); c (x - y) (a = -b); a x + b y. */
static void axpy(double a, const double *restrict x, double *restrict y, long n)
{
    if (a == 1.0) {
        for (long i = 0; i < n; i++) {
            y[i] += x[i];
        }
    } else if (a == -1.0) {
        for (long i = 0; i < n; i++) {
            y[i] -= x[i];
        }
    } else {
        for (long i = 0; i < n; i++) {
            y[i] += a * x[i];
        }
    }
}

static void linear_sum(sunrealtype a, N_Vector x, sunrealtype b, N_Vector y, N_Vector z)
{
    const long n = LEN(x);
    const double *xd = DAT(x), *yd = DAT(y);
    double *zd = DAT(z);
    if (b == 1.0 && z == y) {
        axpy(a, xd, zd, n);
        return;
    }
    if (a == 1.0 && z == x) {
        axpy(b, yd, zd, n);
        return;
    }
    if (a == 1.0 && b == 1.0) {
        for (long i = 0; i < n; i++) {
            zd[i] = xd[i] + yd[i];
        }
        return;
    }
    int t;
    if ((t = (a == 1.0 && b == -1.0)) || (a == -1.0 && b == 1.0)) {
        const double *p = t ? xd : yd, *q = t ? yd : xd; /* p - q */
        for (long i = 0; i < n; i++) {
            zd[i] = p[i] - q[i];
        }
        return;
    }
    if ((t = (a == 1.0)) || b == 1.0) {
        const double c = t ? b : a;
        const double *v1 = t ? yd : xd, *v2 = t ? xd : yd; /* c v1 + v2 */
        for (long i = 0; i < n; i++) {
            zd[i] = c * v1[i] + v2[i];
        }
        return;
    }
    if ((t = (a == -1.0)) || b == -1.0) {
        const double c = t ? b : a;
        const double *v1 = t ? yd : xd, *v2 = t ? xd : yd; /* c v1 - v2 */
        for (long i = 0; i < n; i++) {
            zd[i] = c * v1[i] - v2[i];
        }
        return;
    }
    if (a == b) {
        for (long i = 0; i < n; i++) {
            zd[i] = a * (xd[i] + yd[i]);
        }
        return;
    }
    if (a == -b) {
        for (long i = 0; i < n; i++) {
            zd[i] = a * (xd[i] - yd[i]);
        }
        return;
    }
    for (long i = 0; i < n; i++) {
        zd[i] = a * xd[i] + b * yd[i];
    }
}

static void vconst(sunrealtype c, N_Vector z)
{
    const long n = LEN(z);
    double *zd = DAT(z);
    for (long i = 0; i < n; i++) {
        zd[i] = c;
    }
}

static void prod(N_Vector x, N_Vector y, N_Vector z)
{
    const long n = LEN(x);
    const double *xd = DAT(x), *yd = DAT(y);
    double *zd = DAT(z);
    for (long i = 0; i < n; i++) {
        zd[i] = xd[i] * yd[i];
    }
}

static void vdiv(N_Vector x, N_Vector y, N_Vector z)
{
    const long n = LEN(x);
    const double *xd = DAT(x), *yd = DAT(y);
    double *zd = DAT(z);
    for (long i = 0; i < n; i++) {
        zd[i] = xd[i] / yd[i];
    }
}

/* z = c x; in place x *= c; c = 1 a copy, c = -1 a negation */
static void scale(sunrealtype c, N_Vector x, N_Vector z)
{
    const long n = LEN(x);
    const double *xd = DAT(x);
    double *zd = DAT(z);
    if (z == x) {
        for (long i = 0; i < n; i++) {
            zd[i] *= c;
        }
    } else if (c == 1.0) {
        for (long i = 0; i < n; i++) {
            zd[i] = xd[i];
        }
    } else if (c == -1.0) {
        for (long i = 0; i < n; i++) {
            zd[i] = -xd[i];
        }
    } else {
        for (long i = 0; i < n; i++) {
            zd[i] = c * xd[i];
        }
    }
}

static void vabs(N_Vector x, N_Vector z)
{
    const long n = LEN(x);
    const double *xd = DAT(x);
    double *zd = DAT(z);
    for (long i = 0; i < n; i++) {
        zd[i] = fabs(xd[i]);
    }
}

static void inv(N_Vector x, N_Vector z)
{
    const long n = LEN(x);
    const double *xd = DAT(x);
    double *zd = DAT(z);
    for (long i = 0; i < n; i++) {
        zd[i] = 1.0 / xd[i];
    }
}

static void add_const(N_Vector x, sunrealtype b, N_Vector z)
{
    const long n = LEN(x);
    const double *xd = DAT(x);
    double *zd = DAT(z);
    for (long i = 0; i < n; i++) {
        zd[i] = xd[i] + b;
    }
}

static sunrealtype dot(N_Vector x, N_Vector y)
{
    const long n = LEN(x);
    const double *xd = DAT(x), *yd = DAT(y);
    double s = 0.0;
    for (long i = 0; i < n; i++) {
        s += xd[i] * yd[i];
    }
    return s;
}

static sunrealtype max_norm(N_Vector x)
{
    const long n = LEN(x);
    const double *xd = DAT(x);
    double m = 0.0;
    for (long i = 0; i < n; i++) {
        if (fabs(xd[i]) > m) {
            m = fabs(xd[i]);
        }
    }
    return m;
}

/* sum of (x_i w_i)^2 in index order */
static sunrealtype wsqr_sum(N_Vector x, N_Vector w)
{
    const long n = LEN(x);
    const double *xd = DAT(x), *wd = DAT(w);
    double s = 0.0;
    for (long i = 0; i < n; i++) {
        double p = xd[i] * wd[i];
        s += p * p;
    }
    return s;
}

static sunrealtype wrms_norm(N_Vector x, N_Vector w)
{
    return sqrt(wsqr_sum(x, w) / (double)LEN(x));
}

static sunrealtype wl2_norm(N_Vector x, N_Vector w)
{
    return sqrt(wsqr_sum(x, w));
}

static sunrealtype vmin(N_Vector x)
{
    const long n = LEN(x);
    const double *xd = DAT(x);
    double m = xd[0];
    for (long i = 1; i < n; i++) {
        if (xd[i] < m) {
            m = xd[i];
        }
    }
    return m;
}

static void compare(sunrealtype c, N_Vector x, N_Vector z)
{
    const long n = LEN(x);
    const double *xd = DAT(x);
    double *zd = DAT(z);
    for (long i = 0; i < n; i++) {
        zd[i] = fabs(xd[i]) >= c ? 1.0 : 0.0;
    }
}

static booleantype inv_test(N_Vector x, N_Vector z)
{
    const long n = LEN(x);
    const double *xd = DAT(x);
    double *zd = DAT(z);
    booleantype ok = SUNTRUE;
    for (long i = 0; i < n; i++) {
        if (xd[i] == 0.0) {
            ok = SUNFALSE;
        } else {
            zd[i] = 1.0 / xd[i];
        }
    }
    return ok;
}

int ks_nvector_serial_fast_ops(N_Vector v)
{
    if (!v || !v->ops || N_VGetVectorID(v) != SUNDIALS_NVEC_SERIAL) {
        return -1;
    }
    N_Vector_Ops o = v->ops;
    o->nvlinearsum = linear_sum;
    o->nvconst = vconst;
    o->nvprod = prod;
    o->nvdiv = vdiv;
    o->nvscale = scale;
    o->nvabs = vabs;
    o->nvinv = inv;
    o->nvaddconst = add_const;
    o->nvdotprod = dot;
    o->nvmaxnorm = max_norm;
    o->nvwrmsnorm = wrms_norm;
    o->nvmin = vmin;
    o->nvwl2norm = wl2_norm;
    o->nvcompare = compare;
    o->nvinvtest = inv_test;
    o->nvdotprodlocal = dot;
    o->nvmaxnormlocal = max_norm;
    o->nvminlocal = vmin;
    o->nvinvtestlocal = inv_test;
    o->nvwsqrsumlocal = wsqr_sum;
    return 0;
}

/* ---- compressed sparse columns ---- */

/* every stored value and row index 0, every column pointer 0 (an empty matrix) */
static int mat_zero(SUNMatrix A)
{
    const long nnz = (long)SM_NNZ_S(A), np = (long)SM_NP_S(A);
    sunrealtype *ax = SM_DATA_S(A);
    sunindextype *ai = SM_INDEXVALS_S(A), *ap = SM_INDEXPTRS_S(A);
    for (long i = 0; i < nnz; i++) {
        ax[i] = 0.0;
        ai[i] = 0;
    }
    for (long j = 0; j <= np; j++) {
        ap[j] = 0;
    }
    return 0;
}

/* B <- A (same shape); into a B with less storage than A's entries: the library (it grows B) */
static int mat_copy(SUNMatrix A, SUNMatrix B)
{
    if (SUNMatGetID(B) != SUNMATRIX_SPARSE || SM_SPARSETYPE_S(B) != SM_SPARSETYPE_S(A) ||
        SM_ROWS_S(B) != SM_ROWS_S(A) || SM_COLUMNS_S(B) != SM_COLUMNS_S(A)) {
        return SUNMatCopy_Sparse(A, B); /* the library's checks and message */
    }
    const long np = (long)SM_NP_S(A);
    const sunindextype *ap = SM_INDEXPTRS_S(A), *ai = SM_INDEXVALS_S(A);
    const long nz = (long)ap[np];
    if ((long)SM_NNZ_S(B) < nz) {
        return SUNMatCopy_Sparse(A, B);
    }
    mat_zero(B);
    const sunrealtype *ax = SM_DATA_S(A);
    sunrealtype *bx = SM_DATA_S(B);
    sunindextype *bi = SM_INDEXVALS_S(B), *bp = SM_INDEXPTRS_S(B);
    for (long i = 0; i < nz; i++) {
        bx[i] = ax[i];
        bi[i] = ai[i];
    }
    for (long j = 0; j < np; j++) {
        bp[j] = ap[j];
    }
    bp[np] = (sunindextype)nz;
    return 0;
}

/* A <- I + c A when every diagonal entry is in A's pattern (diagonal 1 + c a, others c a);
 * otherwise the library, which inserts the missing diagonal */
static int mat_scale_add_i(sunrealtype c, SUNMatrix A)
{
    const long m = (long)SM_ROWS_S(A), n = (long)SM_COLUMNS_S(A);
    const long nd = m < n ? m : n;
    const sunindextype *ap = SM_INDEXPTRS_S(A), *ai = SM_INDEXVALS_S(A);
    for (long j = 0; j < nd; j++) {
        long p = (long)ap[j];
        while (p < (long)ap[j + 1] && (long)ai[p] != j) {
            p++;
        }
        if (p == (long)ap[j + 1]) {
            return SUNMatScaleAddI_Sparse(c, A);
        }
    }
    sunrealtype *ax = SM_DATA_S(A);
    for (long j = 0; j < nd; j++) {
        for (long p = (long)ap[j]; p < (long)ap[j + 1]; p++) {
            ax[p] = (long)ai[p] == j ? 1.0 + c * ax[p] : c * ax[p];
        }
    }
    return 0;
}

/* a clone (CVODE's saved Jacobian) gets the same kernels */
static SUNMatrix mat_clone(SUNMatrix A)
{
    SUNMatrix B = SUNMatClone_Sparse(A);
    if (B && ks_sunmatrix_sparse_fast_ops(B) != 0) {
        SUNMatDestroy(B);
        return NULL;
    }
    return B;
}

int ks_sunmatrix_sparse_fast_ops(SUNMatrix A)
{
    if (!A || !A->ops || SUNMatGetID(A) != SUNMATRIX_SPARSE || SM_SPARSETYPE_S(A) != CSC_MAT) {
        return -1;
    }
    A->ops->clone = mat_clone;
    A->ops->zero = mat_zero;
    A->ops->copy = mat_copy;
    A->ops->scaleaddi = mat_scale_add_i;
    return 0;
}
