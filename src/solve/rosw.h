/*
 * rosw.h -- a linearly implicit Rosenbrock-W method for small dense stiff systems: ROS34PW2 of
 * Rang & Angermann (BIT Numer Math 45:761, 2005): four stages, order 3 with an embedded order-2
 * solution, L-stable, stiffly accurate, and a W-method (its order holds for any approximation
 * J of the Jacobian, so J may be lagged over many steps and a time-dependent right-hand side
 * needs no df/dt term: the time column of J is taken as zero).
 *
 * The method is written in the transformed variables of Hairer & Wanner (Solving ODEs II,
 * 2nd ed., section IV.7, eqs. 7.3' and 7.4' with the df/dt term), so that a stage costs one
 * right-hand side and one solve with the LU factors of M = I/(h gamma) - J, and no product with J.
 *
 * The integrator knows nothing of the model: the caller supplies f at the stage abscissae
 * t0 + c_i h through a callback (which may interpolate time-dependent inputs), the Jacobian
 * approximation, and the step-size control. Nothing here allocates.
 */
#ifndef KS_ROSW_H
#define KS_ROSW_H

#define KS_ROSW_STAGES 4

/* Coefficients in the transformed form (computed once by ks_rosw_init). */
typedef struct {
    double gamma;                              /* diagonal of the stage matrix */
    double c[KS_ROSW_STAGES];                  /* stage abscissae (fractions of h) */
    double a[KS_ROSW_STAGES][KS_ROSW_STAGES];  /* a' = alpha Gamma^{-1} (strictly lower) */
    double cc[KS_ROSW_STAGES][KS_ROSW_STAGES]; /* c' = -(Gamma^{-1}) below the diagonal */
    double m[KS_ROSW_STAGES];                  /* solution weights b Gamma^{-1} */
    double e[KS_ROSW_STAGES];                  /* error weights (b - bhat) Gamma^{-1} */
    double gs[KS_ROSW_STAGES];                 /* row sums of Gamma (the df/dt term) */
} ks_rosw;

/* Fills the transformed ROS34PW2 coefficients from the published tableau. */
void ks_rosw_init(ks_rosw *r);

/* f = f(t0 + c h, y). Returns 0, nonzero on failure. */
typedef int (*ks_rosw_rhs_fn)(double c, const double *y, double *f, void *user);

/* Builds M = I/(h gamma) - J in `lu` (row-major n x n; J column-major as ks_jac_fn writes it)
 * and factors it. Returns 0, or nonzero when M is singular. */
int ks_rosw_factor(const ks_rosw *r, int n, const double *jac_colmajor, double h, double *lu,
                   int *piv);

/* b <- M^{-1} b with the caller's factors of M = I/(h gamma) - J (dense, sparse, ...). */
typedef void (*ks_rosw_solve_fn)(double *b, void *solve_user);

/* One step as ks_rosw_step below, with the linear solves done by `solve`. */
int ks_rosw_step_with(const ks_rosw *r, int n, const double *y0, const double *f0, const double *ft,
                      double h, ks_rosw_solve_fn solve, void *solve_user, ks_rosw_rhs_fn rhs,
                      void *user, double *y1, double *err, double *work);

/* One step of size h from (t0, y0) with f0 = f(t0, y0) given and ft = df/dt at (t0, y0) (NULL:
 * autonomous, or left to the W-property): writes the order-3 solution to y1 and the embedded
 * error estimate (order-3 minus order-2 solution) to err. `work` holds (KS_ROSW_STAGES + 1) n
 * doubles. Returns 0, or the callback's nonzero status. */
int ks_rosw_step(const ks_rosw *r, int n, const double *y0, const double *f0, const double *ft,
                 double h, const double *lu, const int *piv, ks_rosw_rhs_fn rhs, void *user,
                 double *y1, double *err, double *work);

#endif /* KS_ROSW_H */
