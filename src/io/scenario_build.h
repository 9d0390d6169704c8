/*
 * scenario_build.h -- limits on scenario input and helpers shared by the JSON scenario parser
 * (scenario.c), the NONMEM reader (nonmem.c) and scenario_common.c.
 */
#ifndef KS_SCENARIO_BUILD_H
#define KS_SCENARIO_BUILD_H

#include "scenario_internal.h"

/* Input limits (docs/SCENARIO.md, "Limits"). Values beyond them are typing errors, not
 * scenarios. */
#define KS_MAX_DOSE_MG        10000.0               /* one dose (one session), mg: 10 g */
#define KS_MIN_WEIGHT_KG      20.0                  /* kg */
#define KS_MAX_WEIGHT_KG      300.0                 /* kg */
#define KS_MIN_AGE_Y          18.0                  /* y: the models are adult models */
#define KS_MAX_AGE_Y          110.0                 /* y */
#define KS_MAX_SPAN_H         (5.0 * 365.25 * 24.0) /* 5 years, h */
#define KS_MIN_STEP_H         (1.0 / 3600.0)        /* 1 s, h */
#define KS_MAX_OUTPUT_TIMES   1000000.0             /* output times per scenario (all subjects) */
#define KS_MAX_DOSE_EVENTS    100000.0              /* dose events per scenario (all subjects) */
#define KS_MAX_INFUSION_H     (7.0 * 24.0)          /* one infusion, h */
#define KS_MAX_DEVICES        20                    /* intranasal devices per session */
#define KS_MAX_SCENARIO_BYTES ((size_t)16 << 20)
#define KS_MAX_DOSING_BYTES   ((size_t)256 << 20)
/* Scenario events (docs/SCENARIO.md, "Events"): at most this many after expansion (all
 * subjects), an interval event at most the longest span, and upper limits of the magnitudes
 * that are not fractions (1 = a standard therapy session / the standard 21-day chronic stress
 * of docs/MODEL.md 10; ten times that is a typing error, not an experiment). */
#define KS_MAX_EVENTS          100000.0
#define KS_MAX_EVENT_INTENSITY 10.0
/* Mechanism covariates of the patient (src/model/pd.h, ks_pd_covariates). */
#define KS_MAX_MADRS         60.0 /* MADRS points: the scale's maximum (Montgomery 1979) */
#define KS_MAX_FAILED_TRIALS 10L  /* failed adequate antidepressant trials */
#define KS_MAX_STRESS_LOAD   5.0  /* chronic stress load: population median 0.7 (MODEL.md 12) */
#define KS_MAX_EPISODE_Y     80.0 /* years of the current episode */
#define KS_MAX_SEED          9007199254740992.0 /* 2^53: every seed exact as a JSON number */
/* Default device content: the esketamine nasal spray device delivers 28 mg (two sprays of
 * 14 mg; Spravato prescribing information, 2019). */
#define KS_DEFAULT_MG_PER_DEVICE       28.0
#define KS_DEFAULT_DEVICE_INTERVAL_MIN 5.0 /* min between devices (Spravato label) */
/* NONMEM files without observation rows: output every 5 min up to the last event + 24 h. */
#define KS_NONMEM_GRID_STEP_H (5.0 / 60.0)
#define KS_NONMEM_TAIL_H      24.0
/* Intranasal rows of one drug at most this far apart are devices of one session. */
#define KS_NONMEM_SESSION_GAP_H 1.0

/* Sorts t[0..n-1] ascending and removes duplicates (times closer than 1e-9 h merge, keeping
 * the smaller). Returns the new count. */
size_t ks_times_sort_unique(double *t, size_t n);

/* Output grid of ks_output_grid (regular grid, dose times, infusion ends up to t_end) merged
 * with `extra` times (each in [0, t_end_h]). Caller frees *times. */
ks_status ks_output_times_build(ks_ctx *ctx, double t_end_h, double step_h, const ks_dose *doses,
                                size_t n_doses, const double *extra, size_t n_extra, double **times,
                                size_t *n_times);

/* Options of ks_scenario_parse_ex. */
enum {
    KS_PARSE_NO_FILES = 1u << 0 /* reject "dosing_file" (fuzzing: never open files) */
};

/* ks_scenario_parse with flags (KS_PARSE_*). */
ks_scenario *ks_scenario_parse_ex(ks_ctx *ctx, const char *text, size_t len, const char *name,
                                  const char *base_dir, unsigned flags);

#endif /* KS_SCENARIO_BUILD_H */
