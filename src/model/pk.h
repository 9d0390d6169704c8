/*
 * pk.h -- the pharmacokinetic layer: a linear compartmental system dx/dt = A x + u(t), with
 * states in umol (compartment amounts) or uM (effect-site concentrations), built per patient
 * from the parameter table and the patient's covariates. Doses enter as instantaneous amounts
 * (bolus, first-order depots) or as zero-order rates (infusion) distributed over states by an
 * input vector. Every output is a linear functional of the state (c . x).
 *
 * The layer knows nothing of solvers: the reference integrator, the closed-form oracle and the
 * fast ensemble path all consume the same ks_pk_system.
 *
 * Equations and sources: docs/PK.md. Parameters: data/parameters.csv, names "pk.*".
 */
#ifndef KS_PK_H
#define KS_PK_H

#include "ketasim.h"
#include "patient.h"
#include "../dose/dose.h"

/* Upper bounds, so that a per-patient system lives in one fixed-size struct without
 * allocation. */
#define KS_PK_MAXN 64    /* states */
#define KS_PK_MAXNNZ 256 /* nonzero entries of A */
#define KS_PK_MAXOUT 32  /* outputs */
#define KS_PK_MAXTERM 4  /* states summed by one output */

typedef struct {
    int n_terms;
    int state[KS_PK_MAXTERM];
    double coef[KS_PK_MAXTERM]; /* output = sum coef * x[state] */
    const char *name;           /* static string, e.g. "plasma_ketamine_total" */
    const char *unit;           /* static string, e.g. "ng/mL" */
    int effect_site;            /* 1 for brain (effect-site) outputs */
} ks_pk_output;

/* Typical (population) PK parameters, filled from the parameter table once per run. */
typedef struct ks_pk_typical ks_pk_typical;

/* One patient's linear system. Plain data: copy it freely. */
typedef struct {
    int n;                     /* number of states */
    int nnz;                   /* entries of A, in triplet form */
    int row[KS_PK_MAXNNZ];
    int col[KS_PK_MAXNNZ];
    double val[KS_PK_MAXNNZ];  /* 1/h */
    int n_out;
    ks_pk_output out[KS_PK_MAXOUT];
    /* Everything the dose-input functions need (per-route fractions, device decrement,
     * molar masses), already adjusted for the patient. */
    double mw_g_per_mol[KS_DRUG_COUNT];
    double frac_nasal_first;   /* FRn of the first device */
    double device_decrement;   /* FRn multiplier per further device */
    double frac_sublingual;    /* fraction absorbed through the oral mucosa */
    double f_im;               /* IM bioavailability */
} ks_pk_system;

/* Reads every "pk.*" parameter into a new ks_pk_typical (caller frees with ks_pk_typical_free).
 * Fails when a value is missing or outside its physical range. */
ks_pk_typical *ks_pk_typical_create(ks_ctx *ctx, const ks_params *params);
void ks_pk_typical_free(ks_pk_typical *typ);

/* Every parameter name the layer reads (static strings), for the parameter-file checks. */
const char *const *ks_pk_param_names(size_t *count);

/* Builds one patient's system: covariates (allometric weight, sex, age, CYP2B6, ancestry)
 * applied to the typical values. No allocation. */
ks_status ks_pk_build(ks_ctx *ctx, const ks_pk_typical *typ, const ks_patient *pt,
                      ks_pk_system *sys);

/* Input of one dose, in state units: for a bolus-like dose (IV bolus, first-order depots,
 * intranasal device, IM, SL, oral) `amount` receives the umol added to each state at t_h and
 * *is_rate = 0; for an infusion `amount` receives the umol/h entering each state during
 * [t_h, t_h + duration_h) and *is_rate = 1. `amount` has sys->n entries. */
ks_status ks_pk_dose_input(ks_ctx *ctx, const ks_pk_system *sys, const ks_dose *dose,
                           double *amount, int *is_rate);

/* y = A x (dense x of length sys->n). */
void ks_pk_apply(const ks_pk_system *sys, const double *x, double *y);

/* Dense copy of A into a (row-major sys->n x sys->n). */
void ks_pk_dense(const ks_pk_system *sys, double *a);

/* Value of output j at state x. */
double ks_pk_output_value(const ks_pk_system *sys, int j, const double *x);

/* Name of state i ("S_ket_central", ...), static. */
const char *ks_pk_state_name(int i);

#endif /* KS_PK_H */
