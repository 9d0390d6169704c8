/*
 * model.h -- the whole chain as one ODE system: y = [x_pk | z_pd] with
 *   dx_pk/dt = A x_pk + u(t)                          (linear PK, pk.h)
 *   dz_pd/dt = ks_pd_rhs(z_pd, input(x_pk, t))        (mechanism, pd.h)
 * and its Jacobian (the PK block is A exactly; the PD rows by forward differences over the PD
 * states and the few PK states the mechanism reads). There is no feedback from the mechanism to
 * the PK, so the PK block of the solution is the PK layer's own.
 *
 * Only the PK states reachable from the patient's doses are carried (the others stay exactly
 * zero by linearity): y holds them compacted, in ascending order of their PK index, so that a
 * course of racemic infusions integrates 20 PK states instead of 46.
 *
 * A ks_model is plain data (no allocation); the driver fills the inputs of each integration
 * segment (infusion rates, intervention levels, the noise grid) between integrator restarts.
 */
#ifndef KS_MODEL_H
#define KS_MODEL_H

#include "ketasim.h"
#include "pd.h"
#include "pk.h"

#include <stddef.h>

#define KS_MODEL_MAXN (KS_PK_MAXN + KS_PD_N)
/* Concentration fields of ks_pd_input (sket ... rapamycin). */
#define KS_MODEL_NCONC 12

typedef struct {
    /* structure (ks_model_setup) */
    const ks_pk_system *pk;
    const ks_pd_patient *pd;    /* NULL: PK only */
    int n_pk;                   /* carried PK states */
    int n;                      /* n_pk + (pd ? KS_PD_N : 0) */
    int pk_full[KS_PK_MAXN];    /* compact index -> PK state index */
    int pk_compact[KS_PK_MAXN]; /* PK state index -> compact index, or -1 */
    int nnz;                    /* A restricted to the carried states (compact indices) */
    int row[KS_PK_MAXNNZ], col[KS_PK_MAXNNZ];
    double val[KS_PK_MAXNNZ];
    int n_read;           /* carried PK states the mechanism reads (effect sites) */
    int read[KS_PK_MAXN]; /* their compact indices */
    /* The concentrations of ks_pd_input as sums over the carried states, evaluated exactly as
     * ks_pd_input_from_pk evaluates them (same terms, order and division; ks_model_setup
     * matches each concentration to its PK output and checks bitwise agreement). conc_ok = 0:
     * not matched, ks_model_pd_input calls ks_pd_input_from_pk on the full PK state. */
    int conc_ok, n_conc;
    struct {
        size_t off;                 /* offset of the field in ks_pd_input */
        int n_terms;                /* carried terms, in the output's order */
        int idx[KS_PK_MAXTERM];     /* compact indices */
        double coef[KS_PK_MAXTERM]; /* ng/mL per state unit */
        double mw;                  /* g/mol: ng/mL / mw = uM */
    } conc[KS_MODEL_NCONC];

    /* inputs of the current segment (set by the driver before each restart) */
    double u[KS_PK_MAXN];            /* infusion rates of the carried states, umol/h */
    double anti_bdnf0, anti_bdnf_t0; /* anti-BDNF level at t0, decays with intv tau */
    double ampa0, ampa_t0;           /* AMPA block level at t0, decays with intv tau */
    double mtor_block;               /* constant over the segment */
    double stress_episode;           /* constant over the segment */
    const double *nu;                /* mood noise on the grid k * nu_dt, k < n_nu; NULL: 0 */
    const double *nu_m2;             /* second derivatives of its natural cubic spline */
    size_t n_nu;
    double nu_dt;

    /* scratch (the right-hand side and the Jacobian write here) */
    double xfull[KS_PK_MAXN]; /* full PK state; entries not carried stay 0 */
    double zp[KS_PD_N], f0[KS_PD_N], f1[KS_PD_N];
} ks_model;

/* Second derivatives m2[0..n-1] of the natural cubic spline through the samples nu[k] on the
 * grid k * dt (Thomas algorithm on the tridiagonal system; de Boor, A Practical Guide to Splines,
 * ch. IV). `scratch` has n entries. The spline is C2, so a stiff BDF integrator crosses the grid
 * points without the error-test failures that the kinks of linear interpolation cause. */
void ks_model_noise_spline(const double *nu, size_t n, double dt, double *m2, double *scratch);

/* Marks the PK states reachable from the states flagged in `seed` (1 = receives a dose) along
 * the transfers of A (a state j feeds i when A[i][j] != 0, i != j). `out` may equal `seed`. */
void ks_model_reachable(const ks_pk_system *pk, const unsigned char *seed, unsigned char *out);

/* Sets up the model for one patient: PK system `pk` restricted to the states flagged in
 * `carry` (NULL: all), mechanism `pd` (NULL: PK only). Clears the segment inputs. The model
 * keeps the pointers: pk and pd must outlive it. */
ks_status ks_model_setup(ks_ctx *ctx, ks_model *m, const ks_pk_system *pk, const ks_pd_patient *pd,
                         const unsigned char *carry);

/* Sets every segment input to zero (no infusion, no intervention, no noise grid). */
void ks_model_clear_inputs(ks_model *m);

/* Mood noise nu(t): linear interpolation of the grid (constant beyond its ends). */
double ks_model_nu(const ks_model *m, double t);

/* Fills the full PK state (sys->n entries) from y. */
void ks_model_pk_state(const ks_model *m, const double *y, double *x_full);

/* The mechanism's input at (t, y): effect-site concentrations, intervention levels, noise. */
void ks_model_pd_input(ks_model *m, double t, const double *y, ks_pd_input *in);

/* ydot = f(t, y) (ks_rhs_fn; user = ks_model *). */
int ks_model_rhs(double t, const double *y, double *ydot, void *user);

/* Dense Jacobian df/dy, column-major (jac[j * n + i] = df_i/dy_j), with f = f(t, y) given
 * (ks_jac_fn; user = ks_model *). Costs one mechanism evaluation per PD state and per read PK
 * state, none of the PK block. */
int ks_model_jac(double t, const double *y, const double *f, double *jac, void *user);

#endif /* KS_MODEL_H */
