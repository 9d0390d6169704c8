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
#define KS_PK_MAXN    64  /* states */
#define KS_PK_MAXNNZ  256 /* nonzero entries of A */
#define KS_PK_MAXOUT  32  /* outputs */
#define KS_PK_MAXTERM 4   /* states summed by one output */

typedef struct {
    int n_terms;
    int state[KS_PK_MAXTERM];
    double coef[KS_PK_MAXTERM]; /* output = sum coef * x[state] */
    const char *name;           /* static string, e.g. "plasma_ketamine_total" */
    const char *unit;           /* static string, e.g. "ng/mL" */
    int effect_site;            /* 1 for brain (effect-site) outputs */
    double mw_g_per_mol;        /* molar mass of the species: ng/mL / mw = uM */
} ks_pk_output;

/* State layout (docs/PK.md, section "States"). Amounts in umol, effect sites ("_E") in uM.
 * Each ketamine enantiomer has the same 14-state block; R = S + KS_PK_R_OFFSET. */
enum {
    KS_PK_SKET_C = 0, /* S-ketamine central */
    KS_PK_SKET_P1,    /* S-ketamine shallow peripheral */
    KS_PK_SKET_P2,    /* S-ketamine second peripheral */
    KS_PK_SKET_LIVER, /* S-ketamine hepato-portal compartment */
    KS_PK_SKET_NASAL, /* nasal depot */
    KS_PK_SKET_GUT,   /* gut depot (oral and swallowed fractions) */
    KS_PK_SKET_IM,    /* intramuscular depot */
    KS_PK_SKET_SL,    /* oral-mucosa depot (sublingual) */
    KS_PK_SNOR_C,     /* S-norketamine central */
    KS_PK_SNOR_P,     /* S-norketamine peripheral */
    KS_PK_SHNK_C,     /* (2S,6S)-hydroxynorketamine */
    KS_PK_SKET_E,     /* S-ketamine effect site, uM */
    KS_PK_SNOR_E,     /* S-norketamine effect site, uM */
    KS_PK_SHNK_E,     /* (2S,6S)-HNK effect site, uM */
    KS_PK_RKET_C,     /* R block: same order */
    KS_PK_RKET_P1,
    KS_PK_RKET_P2,
    KS_PK_RKET_LIVER,
    KS_PK_RKET_NASAL,
    KS_PK_RKET_GUT,
    KS_PK_RKET_IM,
    KS_PK_RKET_SL,
    KS_PK_RNOR_C,
    KS_PK_RNOR_P,
    KS_PK_RHNK_C, /* (2R,6R)-hydroxynorketamine */
    KS_PK_RKET_E,
    KS_PK_RNOR_E,
    KS_PK_RHNK_E,
    KS_PK_ESC_GUT, /* escitalopram */
    KS_PK_ESC_C,
    KS_PK_ESC_E,
    KS_PK_CIT_GUT, /* citalopram (racemic) */
    KS_PK_CIT_C,
    KS_PK_CIT_E,
    KS_PK_MDZ_GUT, /* midazolam */
    KS_PK_MDZ_C,
    KS_PK_MDZ_P,
    KS_PK_MDZ_E,
    KS_PK_NTX_GUT, /* naltrexone */
    KS_PK_NTX_C,
    KS_PK_NTX_E,
    KS_PK_NOL_C, /* 6-beta-naltrexol */
    KS_PK_NOL_E,
    KS_PK_RAPA_GUT, /* rapamycin (sirolimus), whole blood */
    KS_PK_RAPA_C,
    KS_PK_RAPA_E,
    KS_PK_NSTATE
};
#define KS_PK_R_OFFSET (KS_PK_RKET_C - KS_PK_SKET_C)

/* Output layout: sys->out[j] for these j (the same in every system). Names in
 * ks_pk_output.name are the lower-case strings given in docs/PK.md ("plasma_ketamine_total",
 * ...). All outputs are in ng/mL; "brain_" outputs are effect-site concentrations. */
enum {
    KS_PK_OUT_PLASMA_KET = 0, /* plasma_ketamine_total (S + R) */
    KS_PK_OUT_PLASMA_SKET,    /* plasma_s_ketamine */
    KS_PK_OUT_PLASMA_RKET,    /* plasma_r_ketamine */
    KS_PK_OUT_PLASMA_NOR,     /* plasma_norketamine_total */
    KS_PK_OUT_PLASMA_SNOR,    /* plasma_s_norketamine */
    KS_PK_OUT_PLASMA_RNOR,    /* plasma_r_norketamine */
    KS_PK_OUT_PLASMA_HNK,     /* plasma_hnk_total: (2S,6S) + (2R,6R)-HNK */
    KS_PK_OUT_PLASMA_SHNK,    /* plasma_hnk_2s6s */
    KS_PK_OUT_PLASMA_RHNK,    /* plasma_hnk_2r6r */
    KS_PK_OUT_BRAIN_KET,      /* brain_ketamine_total */
    KS_PK_OUT_BRAIN_SKET,     /* brain_s_ketamine */
    KS_PK_OUT_BRAIN_RKET,     /* brain_r_ketamine */
    KS_PK_OUT_BRAIN_NOR,      /* brain_norketamine_total */
    KS_PK_OUT_BRAIN_SNOR,     /* brain_s_norketamine */
    KS_PK_OUT_BRAIN_RNOR,     /* brain_r_norketamine */
    KS_PK_OUT_BRAIN_SHNK,     /* brain_hnk_2s6s */
    KS_PK_OUT_BRAIN_RHNK,     /* brain_hnk_2r6r */
    KS_PK_OUT_PLASMA_ESC,     /* plasma_escitalopram */
    KS_PK_OUT_BRAIN_ESC,      /* brain_escitalopram */
    KS_PK_OUT_PLASMA_CIT,     /* plasma_citalopram */
    KS_PK_OUT_BRAIN_CIT,      /* brain_citalopram */
    KS_PK_OUT_PLASMA_MDZ,     /* plasma_midazolam */
    KS_PK_OUT_BRAIN_MDZ,      /* brain_midazolam */
    KS_PK_OUT_PLASMA_NTX,     /* plasma_naltrexone */
    KS_PK_OUT_BRAIN_NTX,      /* brain_naltrexone */
    KS_PK_OUT_PLASMA_NOL,     /* plasma_6b_naltrexol */
    KS_PK_OUT_BRAIN_NOL,      /* brain_6b_naltrexol */
    KS_PK_OUT_BLOOD_RAPA,     /* blood_rapamycin (whole blood, as measured clinically) */
    KS_PK_OUT_BRAIN_RAPA,     /* brain_rapamycin */
    KS_PK_NOUT
};

/* Typical (population) PK parameters, filled from the parameter table once per run. */
typedef struct ks_pk_typical ks_pk_typical;

/* One patient's linear system. Plain data: copy it freely. */
typedef struct {
    int n;   /* number of states */
    int nnz; /* entries of A, in triplet form */
    int row[KS_PK_MAXNNZ];
    int col[KS_PK_MAXNNZ];
    double val[KS_PK_MAXNNZ]; /* 1/h */
    int n_out;
    ks_pk_output out[KS_PK_MAXOUT];
    /* Everything the dose-input functions need (per-route fractions, device decrement,
     * molar masses), already adjusted for the patient. */
    double mw_g_per_mol[KS_DRUG_COUNT];
    double frac_nasal_first; /* FRn of the first device */
    double device_decrement; /* FRn multiplier per further device */
    double frac_sublingual;  /* fraction absorbed through the oral mucosa */
    double f_im;             /* IM bioavailability */
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

/* Name of state i ("S_ket_central", ...), static; "?" when i is out of range. */
const char *ks_pk_state_name(int i);

#endif /* KS_PK_H */
