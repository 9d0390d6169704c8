/*
 * measure.h -- the fixed vocabulary of measurements an experiment file may ask of simulated
 * data: generic kinds on one output of one arm (Cmax, Tmax, AUC, terminal half-life,
 * clearance, Vss, dose-normalised AUC, time below a fraction of the peak, value at a time,
 * largest / smallest / mean value in a window, time of the largest / smallest value, time of
 * a rise from or return to baseline), optionally as the difference from another arm, and
 * combinators (ratio, difference, relative difference, largest / smallest of, comparison,
 * all, pair). Vocabulary and JSON form: docs/VALIDATION.md.
 */
#ifndef KS_MEASURE_H
#define KS_MEASURE_H

#include "ketasim.h"

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct ks_measure ks_measure;

/* One arm of an experiment: its scenario and, once simulated, its result. An arm may have a
 * solved dose (docs/VALIDATION.md, "Solved doses"): the amounts of one drug's doses are
 * scaled by the factor that makes a measurement equal a stated value or another measurement,
 * or by the factor solved for another arm. */
typedef struct {
    char *name;                /* owned */
    ks_scenario *scenario;     /* owned */
    ks_result *result;         /* owned; NULL until simulated */
    char *sim_error;           /* owned; message when the simulation failed, else NULL */
    int solve_drug;            /* ks_drug whose doses are scaled; -1: the arm's doses as written */
    ks_measure *solve_measure; /* owned; measurement on this arm that is solved for */
    ks_measure *solve_equals;  /* owned; the value it must equal (NULL: solve_value) */
    double solve_value;        /* in the base unit of solve_measure's dimension */
    long scale_as;             /* index of the arm whose solved factor is applied; -1: none */
    double *base_mg;           /* owned; the written amounts of every subject's doses */
    double factor;             /* solved dose factor; NaN until solved */
    char *solve_note;          /* owned; what was solved, for the detail column */
    int busy;                  /* recursion guard while solving */
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

/* Parses the measurement object `json` at JSON path `path` of experiment file `file`; arm
 * names must be among arms[0..n_arms-1] (only names are read). Unknown keys are rejected. */
ks_measure *ks_measure_parse(ks_ctx *ctx, const cJSON *json, const char *file, const char *path,
                             const ks_arm *arms, size_t n_arms);
void ks_measure_free(ks_measure *m);

/* 1 when the measurement is a "pair" (for compound targets); *a and *b get its two items. */
int ks_measure_pair(const ks_measure *m, const ks_measure **a, const ks_measure **b);
/* Bit mask of the arms (by index) the measurement reads. */
unsigned long long ks_measure_arm_mask(const ks_measure *m);

/* ---------------------------------------------------------------------------------------------
 * Curve primitives behind the leaf measurements (exported for the tests). Every function reads
 * samples (t[i], c[i]), i < n, t strictly ascending, and interpolates linearly between them.
 */

/* Value at time ta (linear interpolation; the end value outside [t[0], t[n-1]]). */
double ks_curve_value_at(const double *t, const double *c, size_t n, double ta);

/* Largest (sign = +1) or smallest (sign = -1) value over [ta, tb] (interpolated window ends
 * included); *t_ext gets the first time it is taken. NaN when the window holds no time of
 * the curve. */
double ks_curve_extreme(const double *t, const double *c, size_t n, double ta, double tb, int sign,
                        double *t_ext);

/* Time average (trapezoids) over [ta, tb], ta < tb, inside the curve's times; NaN otherwise. */
double ks_curve_mean(const double *t, const double *c, size_t n, double ta, double tb);

/* Excursion e(t) = c(t) - baseline, baseline = c(t_ref). The peak is the first largest |e| in
 * [t_ref, t_end]. rise = 1: first time >= t_ref at which |e| reaches thr; rise = 0: first time
 * after the peak at which |e| is back to <= thr (the crossing of the band edge on the side it
 * comes from, linearly interpolated). NaN when it never happens within [t_ref, t_end].
 * *peak_exc (if non-NULL) gets e at the peak, *baseline the baseline. */
double ks_curve_crossing(const double *t, const double *c, size_t n, double t_ref, double t_end,
                         double thr, int rise, double *peak_exc, double *baseline);

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
