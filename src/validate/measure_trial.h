/*
 * measure_trial.h -- experiments whose arms are virtual trials (docs/VALIDATION.md, "Trial
 * experiments"): parsing of the "trials" form of an experiment file, running each trial (with
 * replicate trials of a study's own size where a target asks for significance), and the generic
 * measurements on trial results: rates, mean changes, arm differences, ratios, first significant
 * visit, Kaplan-Meier median time to relapse, fraction of eventual remitters remitted by a visit,
 * separation from control in replicate trials with a Holm adjustment.
 */
#ifndef KS_MEASURE_TRIAL_H
#define KS_MEASURE_TRIAL_H

#include "ketasim.h"
#include "targets.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* ------------------------------------------------------------------------------------------
 * Pure statistics (tested on their own in tests/test_measure_trial.c)
 * ---------------------------------------------------------------------------------------- */

/* Median of x[0..n-1] (sorted in place; mean of the two middle values for even n; +INFINITY
 * values sort last). NaN when n = 0. */
double ks_mt_median(double *x, size_t n);

/* Kaplan-Meier product-limit estimate (Kaplan & Meier 1958 J Am Stat Assoc 53:457) of the median
 * time to event from n times with event[i] = 1 (event) or 0 (censored at time[i]); at tied
 * times events are counted before censorings. The median is the first event time at which the
 * survival estimate is <= 0.5; +INFINITY when it never falls that far. time[] and event[] are
 * not modified. Returns NaN when n = 0 or allocation fails. */
double ks_mt_km_median(const double *time, const int *event, size_t n);

/* Holm's step-down procedure (Holm 1979 Scand J Stat 6:65) on m p values at family-wise level
 * alpha: sorted ascending, p_(k) is rejected while p_(k) <= alpha / (m - k + 1), k = 1..m.
 * Writes reject[i] = 1 or 0 for each p[i] (NaN p values are never rejected); returns the
 * number rejected. m <= 64. */
size_t ks_mt_holm(const double *p, size_t m, double alpha, int *reject);

/* Last observation carried forward: every NaN entry of the row o[0..nv) after the first takes
 * the value before it (the visits a patient missed after dropping out; docs/TRIAL.md). */
void ks_mt_locf(double *o, size_t nv);

/* Relapse of one responder: scores obs[0..nv-1] at times t_h[], baseline score `baseline`.
 * Scans the visits v >= from_visit; relapse is `consecutive` successive visits with
 * obs > fraction * baseline (loss of response). Returns the time of the first visit of the first
 * such run with *event = 1, or the time of the last visit with *event = 0 (censored). */
double ks_mt_relapse_time(const double *obs, const double *t_h, size_t nv, size_t from_visit,
                          double baseline, double fraction, int consecutive, int *event);

/* ------------------------------------------------------------------------------------------
 * Trial experiments
 * ---------------------------------------------------------------------------------------- */

typedef struct ks_trial_exp ks_trial_exp;

/* 1 when the experiment object is a trial experiment (it has the key "trials"). */
int ks_trial_exp_detect(const cJSON *root);

/* Parses a trial experiment (docs/VALIDATION.md, "Trial experiments"): name, description,
 * source, trials (each {name, trial: a trial object as in docs/TRIAL.md, replicates}), targets.
 * Every target id must be a row of `table`; each measurement must fit its row (a pair for a
 * compound row). Errors name the file and the JSON path. */
ks_trial_exp *ks_trial_exp_parse(ks_ctx *ctx, const cJSON *root, const char *file,
                                 const char *base_dir, const ks_target_table *table);
void ks_trial_exp_free(ks_trial_exp *x);

size_t ks_trial_exp_target_count(const ks_trial_exp *x);
const char *ks_trial_exp_target_id(const ks_trial_exp *x, size_t i);
/* Row of target i in the targets table given to ks_trial_exp_parse. */
size_t ks_trial_exp_target_row(const ks_trial_exp *x, size_t i);

/* What was measured for one target. */
typedef struct {
    int pass;
    double simulated; /* in the row's unit; NaN for compound rows and misses */
    char text[96];    /* "48.2", "true", "48.2 vs 33.1", "1.3/12 vs 6.8/12", "n/a" */
    char detail[2048];
} ks_trial_outcome;

/* Runs the trials target i needs (once; results are kept in x) and measures it against row t.
 * A failed simulation or a measurement that cannot be taken is a miss (KS_OK, pass 0, the
 * reason in detail); other failures (out of memory, a unit the measurement cannot give) return
 * an error on ctx. `threads` <= 0: the OpenMP default. */
ks_status ks_trial_exp_measure(ks_ctx *ctx, const ks_params *params, ks_trial_exp *x, size_t i,
                               const ks_target *t, int threads, ks_trial_outcome *out);

#endif /* KS_MEASURE_TRIAL_H */
