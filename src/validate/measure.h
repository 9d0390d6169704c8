/*
 * measure.h -- the fixed vocabulary of measurements an experiment file may ask of simulated
 * data: generic kinds (Cmax, Tmax, AUC, terminal half-life, clearance, Vss, dose-normalised
 * AUC, time below a fraction of the peak, value at a time) on one output of one arm, and
 * combinators (ratio, difference, comparison, all, pair). Vocabulary and JSON form:
 * docs/VALIDATION.md.
 */
#ifndef KS_MEASURE_H
#define KS_MEASURE_H

#include "ketasim.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* One arm of an experiment: its scenario and, once simulated, its result. */
typedef struct {
    char *name;            /* owned */
    ks_scenario *scenario; /* owned */
    ks_result *result;     /* owned; NULL until simulated */
    char *sim_error;       /* owned; message when the simulation failed, else NULL */
} ks_arm;

/* Physical dimension of a measured value (the unit of the target row converts it). */
typedef enum {
    KS_DIM_TIME = 0,  /* h */
    KS_DIM_CONC,      /* the output's unit */
    KS_DIM_AUC,       /* output unit x h */
    KS_DIM_CLEARANCE, /* L/h */
    KS_DIM_VOLUME,    /* L */
    KS_DIM_DNAUC,     /* AUC per mg dosed: output unit x h / mg */
    KS_DIM_RATIO,     /* dimensionless */
    KS_DIM_BOOL       /* 1 true, 0 false */
} ks_dim;

typedef struct {
    double value;
    ks_dim dim;
    char unit[64];    /* output unit for CONC, AUC, DNAUC; "" otherwise */
    double weight_kg; /* body weight of the arm's subject (NaN when arms differ) */
} ks_quantity;

typedef struct ks_measure ks_measure;

/* Parses the measurement object `json` at JSON path `path` of experiment file `file`; arm
 * names must be among arms[0..n_arms-1] (only names are read). Unknown keys are rejected. */
ks_measure *ks_measure_parse(ks_ctx *ctx, const cJSON *json, const char *file, const char *path,
                             const ks_arm *arms, size_t n_arms);
void ks_measure_free(ks_measure *m);

/* 1 when the measurement is a "pair" (for compound targets); *a and *b get its two items. */
int ks_measure_pair(const ks_measure *m, const ks_measure **a, const ks_measure **b);
/* Bit mask of the arms (by index) the measurement reads. */
unsigned long long ks_measure_arm_mask(const ks_measure *m);

/* Evaluates the measurement on simulated arms. A measurement that cannot be taken (an output
 * missing from the model, no terminal phase, a failed simulation) returns KS_ERR_VALIDATION
 * with the reason on ctx; it is a miss, not an input error. Appends a description of what was
 * measured, with the numbers, to detail (NUL-terminated, truncated to detail_size). */
ks_status ks_measure_eval(ks_ctx *ctx, const ks_measure *m, const ks_arm *arms, ks_quantity *out,
                          char *detail, size_t detail_size);

/* Converts a quantity to the unit of a target row: h/min/days for times; %/ratio/fraction for
 * ratios; L/h, mL/min, "L/h per 70 kg" (allometric, exponent 0.75), L/h/kg for clearances;
 * L, L/kg for volumes; the output unit for concentrations; "bool" for statements. Fails with
 * KS_ERR_INPUT naming both when they do not match. */
ks_status ks_quantity_convert(ks_ctx *ctx, const ks_quantity *q, const char *unit, double *value);

/* Name of a dimension for messages ("time", "clearance", ...). */
const char *ks_dim_name(ks_dim d);

#endif /* KS_MEASURE_H */
