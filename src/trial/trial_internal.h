/*
 * trial_internal.h -- the parsed form of a virtual trial (docs/TRIAL.md) and of its result:
 * population, arms with their doses and events, rating visits, endpoints; per arm and visit the
 * streaming statistics. Built by trial_parse.c, run by trial_run.c, written by trial_output.c.
 */
#ifndef KS_TRIAL_INTERNAL_H
#define KS_TRIAL_INTERNAL_H

#include "ketasim.h"
#include "../dose/dose.h"
#include "../population/population.h"
#include "../sim/patient_sim.h"
#include "stats.h"

#include <stdint.h>

/* Input limits (docs/TRIAL.md, "Limits"). */
#define KS_TRIAL_MAX_ARMS      16
#define KS_TRIAL_MAX_VISITS    500
#define KS_TRIAL_MAX_EVENTS    100000
#define KS_TRIAL_MAX_N_PER_ARM 100000000L
#define KS_TRIAL_MAX_NAME      64
#define KS_TRIAL_MAX_BYTES     ((size_t)16 << 20)

typedef enum { KS_DESIGN_PARALLEL = 0, KS_DESIGN_CROSSOVER = 1 } ks_trial_design;

typedef struct {
    char *name;        /* owned */
    ks_dose *doses;    /* sorted by time, owned; amount_mg for a 70-kg patient */
    double *mg_per_kg; /* per dose, owned: > 0 for weight-based doses (amount = this x weight) */
    size_t n_doses;
    ks_event *events; /* arm events and the trial's rating visits, sorted by time, owned */
    size_t n_events;
    int open_label;
} ks_trial_arm;

typedef struct {
    double t_h;
    char label[32]; /* "baseline", "40 min", "2 h", "day 1" */
} ks_trial_visit;

struct ks_trial {
    char *name;        /* owned */
    char *description; /* owned, may be "" */
    char *source;      /* file name or "<default>", owned */
    uint64_t seed;
    long n_per_arm;
    double span_h;
    ks_trial_design design;
    ks_population_spec population; /* defaults (NaN) resolved at run time */
    ks_trial_arm *arms;
    size_t n_arms;
    size_t reference_arm;
    ks_trial_visit *visits; /* visits[0] is the baseline rating at t = 0; ascending */
    size_t n_visits;
    ks_scale scale;
    double response_fraction; /* response: fall from baseline >= this fraction */
    double remission_max;     /* remission: observed score <= this */
};

/* Statistics of one arm at one visit. */
typedef struct {
    ks_welford observed; /* observed (rated) score */
    ks_welford change;   /* observed minus observed baseline */
    ks_welford truth;    /* noise-free score */
    size_t responders;
    size_t remitters;
} ks_trial_cell;

struct ks_trial_result {
    char *name;
    ks_trial_design design;
    uint64_t seed;
    long n_per_arm;
    size_t n_arms, n_visits, reference_arm;
    char **arm_names;       /* owned */
    ks_trial_visit *visits; /* owned copy */
    ks_scale scale;
    double response_fraction, remission_max;
    size_t screened, included; /* candidates sampled and included by the screening rule */
    ks_trial_cell *cells;      /* [arm * n_visits + visit] */
    ks_welford *paired;        /* crossover: change(arm) - change(reference), same layout */
    ks_solver_stats solver;
};

/* Builds a trial from parsed JSON text (trial_parse.c). */
ks_trial *ks_trial_parse_internal(ks_ctx *ctx, const char *text, size_t len, const char *name,
                                  const char *base_dir);

const char *ks_scale_name(ks_scale s);
const char *ks_design_name(ks_trial_design d);

#endif /* KS_TRIAL_INTERNAL_H */
