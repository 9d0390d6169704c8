/*
 * rosw.c -- the ROS34PW2 Rosenbrock-W method (rosw.h).
 *
 * Tableau (Rang & Angermann 2005, BIT 45:761, method ROS34PW2; the form of Hairer & Wanner,
 * Solving ODEs II, IV.7 eq. 7.1: (I - h gamma J) k_i = h f(y0 + sum_j alpha_ij k_j)
 * + h J sum_j gamma_ij k_j, y1 = y0 + sum_i b_i k_i). The method is stiffly accurate:
 * b_i = alpha_4i + gamma_4i and b_4 = gamma.
 */
#include "solve/rosw.h"

#include "solve/expm.h"

#include <string.h>

void ks_rosw_init(ks_rosw *r)
{
    enum { S = KS_ROSW_STAGES };
    const double gamma = 4.3586652150845900e-01;
    const double alpha[S][S] = {
        {0.0, 0.0, 0.0, 0.0},
        {8.7173304301691801e-01, 0.0, 0.0, 0.0},
        {8.4457060015369423e-01, -1.1299064236484185e-01, 0.0, 0.0},
        {0.0, 0.0, 1.0, 0.0},
    };
    const double gam[S][S] = {
        {gamma, 0.0, 0.0, 0.0},
        {-8.7173304301691801e-01, gamma, 0.0, 0.0},
        {-9.0338057013044082e-01, 5.4180672388095326e-02, gamma, 0.0},
        {2.4212380706095346e-01, -1.2232505839045147e+00, 5.4526025533510214e-01, gamma},
    };
    const double b[S] = {2.4212380706095346e-01, -1.2232505839045147e+00, 1.5452602553351020e+00,
                         4.3586652150845900e-01};
    const double bhat[S] = {3.7810903145819369e-01, -9.6042292212423178e-02, 0.5,
                            2.1793326075422950e-01};
    /* G = Gamma^{-1} (lower triangular), by forward substitution column by column. */
    double g[S][S];
    memset(g, 0, sizeof g);
    for (int j = 0; j < S; j++) {
        for (int i = j; i < S; i++) {
            double s = i == j ? 1.0 : 0.0;
            for (int k = j; k < i; k++) {
                s -= gam[i][k] * g[k][j];
            }
            g[i][j] = s / gam[i][i];
        }
    }
    memset(r, 0, sizeof *r);
    r->gamma = gamma;
    for (int i = 0; i < S; i++) {
        double gsum = 0.0;
        for (int j = 0; j <= i; j++) {
            gsum += gam[i][j];
        }
        r->gs[i] = gsum;
    }
    for (int i = 0; i < S; i++) {
        double ci = 0.0;
        for (int j = 0; j < S; j++) {
            ci += alpha[i][j];
        }
        r->c[i] = ci;
        for (int j = 0; j < i; j++) {
            double s = 0.0;
            for (int k = j; k < S; k++) {
                s += alpha[i][k] * g[k][j];
            }
            r->a[i][j] = s;
            r->cc[i][j] = -g[i][j];
        }
    }
    for (int j = 0; j < S; j++) {
        double sm = 0.0, se = 0.0;
        for (int k = j; k < S; k++) {
            sm += b[k] * g[k][j];
            se += (b[k] - bhat[k]) * g[k][j];
        }
        r->m[j] = sm;
        r->e[j] = se;
    }
}

int ks_rosw_factor(const ks_rosw *r, int n, const double *jac_colmajor, double h, double *lu,
                   int *piv)
{
    const size_t un = (size_t)n;
    const double d = 1.0 / (h * r->gamma);
    for (size_t i = 0; i < un; i++) {
        for (size_t j = 0; j < un; j++) {
            lu[i * un + j] = -jac_colmajor[j * un + i];
        }
        lu[i * un + i] += d;
    }
    return ks_lu_factor(n, lu, piv);
}

/* The dense factors of ks_rosw_factor as a ks_rosw_solve_fn. */
typedef struct {
    int n;
    const double *lu;
    const int *piv;
} dense_lu;

static void dense_solve(double *b, void *user)
{
    const dense_lu *d = user;
    ks_lu_solve(d->n, d->lu, d->piv, b, 1);
}

int ks_rosw_step(const ks_rosw *r, int n, const double *y0, const double *f0, const double *ft,
                 double h, const double *lu, const int *piv, ks_rosw_rhs_fn rhs, void *user,
                 double *y1, double *err, double *work)
{
    dense_lu d = {n, lu, piv};
    return ks_rosw_step_with(r, n, y0, f0, ft, h, dense_solve, &d, rhs, user, y1, err, work);
}

int ks_rosw_step_with(const ks_rosw *r, int n, const double *y0, const double *f0, const double *ft,
                      double h, ks_rosw_solve_fn solve, void *solve_user, ks_rosw_rhs_fn rhs,
                      void *user, double *y1, double *err, double *work)
{
    const size_t un = (size_t)n;
    double *u[KS_ROSW_STAGES];
    for (int i = 0; i < KS_ROSW_STAGES; i++) {
        u[i] = work + (size_t)i * un;
    }
    double *ys = work + (size_t)KS_ROSW_STAGES * un;
    const double ih = 1.0 / h;
    for (int i = 0; i < KS_ROSW_STAGES; i++) {
        /* Stage i (Hairer & Wanner IV.7 eq. 7.4'): M u_i = f(t0 + c_i h, y0 + sum a'_ij u_j)
         * + (1/h) sum c'_ij u_j + gamma_i h f_t. */
        if (i == 0) {
            memcpy(u[0], f0, un * sizeof(double));
        } else {
            for (size_t q = 0; q < un; q++) {
                double s = y0[q];
                for (int j = 0; j < i; j++) {
                    s += r->a[i][j] * u[j][q];
                }
                ys[q] = s;
            }
            int rc = rhs(r->c[i], ys, u[i], user);
            if (rc != 0) {
                return rc;
            }
            for (size_t q = 0; q < un; q++) {
                double s = 0.0;
                for (int j = 0; j < i; j++) {
                    s += r->cc[i][j] * u[j][q];
                }
                u[i][q] += ih * s;
            }
        }
        if (ft) {
            const double g = r->gs[i] * h;
            for (size_t q = 0; q < un; q++) {
                u[i][q] += g * ft[q];
            }
        }
        solve(u[i], solve_user);
    }
    for (size_t q = 0; q < un; q++) {
        double s = y0[q], e = 0.0;
        for (int j = 0; j < KS_ROSW_STAGES; j++) {
            s += r->m[j] * u[j][q];
            e += r->e[j] * u[j][q];
        }
        y1[q] = s;
        err[q] = e;
    }
    return 0;
}
