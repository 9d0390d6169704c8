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
#include "survival.h"

#include <stdint.h>

/* Input limits (docs/TRIAL.md, "Limits"). */
#define KS_TRIAL_MAX_ARMS       16
#define KS_TRIAL_MAX_VISITS     500
#define KS_TRIAL_MAX_EVENTS     100000
#define KS_TRIAL_MAX_N_PER_ARM  100000000L
#define KS_TRIAL_MAX_NAME       64
#define KS_TRIAL_MAX_BYTES      ((size_t)16 << 20)
#define KS_TRIAL_MAX_PHASES     8
#define KS_TRIAL_MAX_FLEX       8 /* flexible-dose rules per arm */
#define KS_TRIAL_MAX_REPLICATES 10000

/* Random substream of the trial's conduct (dropout draws, index = visit; re-randomisation,
 * index KS_TRIAL_RANDOMISE_INDEX), beside the substreams of core/rng.h. */
#define KS_TRIAL_RNG_CONDUCT     16
#define KS_TRIAL_RANDOMISE_INDEX ((uint64_t)1 << 32)
/* Replicate r of a power calculation screens the candidate keys r * 2^KS_TRIAL_REPLICATE_SHIFT,
 * r * 2^KS_TRIAL_REPLICATE_SHIFT + 1, ... (disjoint from other replicates' keys). */
#define KS_TRIAL_REPLICATE_SHIFT 32

typedef enum { KS_DESIGN_PARALLEL = 0, KS_DESIGN_CROSSOVER = 1 } ks_trial_design;

/* A flexible-dose rule (docs/TRIAL.md, "flex_dose"): at a visit, patients whose improvement
 * from the observed baseline is below a threshold get a new amount from then on. */
typedef struct {
    size_t visit;     /* index into the trial's visits */
    int by_fraction;  /* 1: improvement as a fraction of the baseline; 0: in score points */
    double threshold; /* improvement < threshold triggers the rule */
    int drug;         /* -1: every dose of the arm; else only doses of this ks_drug */
    double mg;        /* new fixed amount, or 0 */
    double mg_per_kg; /* new weight-based amount, or 0 */
    double factor;    /* amounts multiplied by this, or 0 */
} ks_trial_flex;

typedef struct {
    char *name;        /* owned */
    ks_dose *doses;    /* sorted by time, owned; amount_mg for a 70-kg patient */
    double *mg_per_kg; /* per dose, owned: > 0 for weight-based doses (amount = this x weight) */
    size_t n_doses;
    ks_event *events; /* arm events and the trial's rating visits, sorted by time, owned */
    size_t n_events;
    int open_label;
    ks_trial_flex flex[KS_TRIAL_MAX_FLEX]; /* ascending visit */
    size_t n_flex;
} ks_trial_arm;

typedef struct {
    char name[KS_TRIAL_MAX_NAME + 1];
    double start_h, end_h;
} ks_trial_phase;

typedef enum { KS_SELECT_ALL = 0, KS_SELECT_RESPONDERS = 1, KS_SELECT_REMITTERS = 2 } ks_select;

typedef enum {
    KS_MEASURE_CHANGE = 0,
    KS_MEASURE_RESPONSE = 1,
    KS_MEASURE_REMISSION = 2,
    KS_MEASURE_RELAPSE = 3
} ks_measure;

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
    /* Phases (n_phases = 0: one phase, the whole span). */
    ks_trial_phase phases[KS_TRIAL_MAX_PHASES];
    size_t n_phases;
    size_t initial_arms[KS_TRIAL_MAX_ARMS]; /* arms of the first allocation */
    size_t n_initial_arms;
    /* Randomised withdrawal: at the start of phase `withdrawal_phase` (time withdrawal_h),
     * patients selected at visit `withdrawal_visit` are re-randomised to withdrawal_arms. */
    int withdrawal;
    size_t withdrawal_phase, withdrawal_visit;
    double withdrawal_h;
    ks_select withdrawal_select;
    size_t withdrawal_arms[KS_TRIAL_MAX_ARMS];
    size_t n_withdrawal_arms;
    /* Dropout: per-visit hazard, and lack of efficacy from a time on. */
    double dropout_per_visit;
    int dropout_loe;
    double dropout_loe_from_h, dropout_loe_below;
    /* Relapse: score >= relapse_min at relapse_consecutive consecutive visits. */
    int relapse;
    double relapse_min;
    size_t relapse_consecutive;
    /* Primary endpoint (power). */
    ks_measure primary_measure;
    size_t primary_visit, primary_arm;
    int primary_oc; /* 1: observed-case analysis; 0: LOCF */
    double alpha;
};

/* Statistics of one arm at one visit. */
typedef struct {
    ks_welford observed; /* observed (rated) score */
    ks_welford change;   /* observed minus observed baseline */
    ks_welford truth;    /* noise-free score */
    size_t responders;
    size_t remitters;
    /* observed-case analysis: patients actually rated at this visit */
    ks_welford oc_observed, oc_change;
    size_t oc_responders, oc_remitters;
} ks_trial_cell;

/* Relapse counts of one analysis arm at the times k = 0 (the origin) and k = 1.. (the visits
 * after the origin): events and censorings. */
typedef struct {
    size_t *events, *censored; /* [n_relapse_times] */
} ks_trial_relapse_arm;

/* Per-phase bookkeeping. */
typedef struct {
    size_t entered;  /* patients (or periods) in the trial at the phase start */
    size_t dropouts; /* dropouts whose first missed visit falls in the phase */
} ks_trial_phase_count;

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
    /* conduct */
    size_t *arm_n;        /* randomised (analysed) patients per arm */
    size_t *arm_dropouts; /* of which dropped out */
    size_t *arm_flexed;   /* of which got a flexible-dose step */
    size_t n_phases;
    ks_trial_phase *phases; /* owned copy (n_phases >= 1) */
    ks_trial_phase_count *phase_counts;
    int withdrawal;
    size_t withdrawal_phase;
    ks_select withdrawal_select;
    size_t withdrawal_selected, withdrawal_not_selected;
    /* relapse */
    int relapse;
    double relapse_min, relapse_origin_h;
    size_t relapse_consecutive;
    size_t n_relapse_times;
    double *relapse_t;                  /* [n_relapse_times], h after the origin */
    ks_trial_relapse_arm *relapse_arms; /* [n_arms] */
    /* primary endpoint and power */
    ks_measure primary_measure;
    size_t primary_visit, primary_arm;
    int primary_oc;
    double alpha;
    size_t replicates, significant; /* replicates = 0: no power calculation */
    ks_welford primary_effect;      /* the primary effect over the replicates */
    int has_dropout;
};

/* The primary endpoint of one result: effect (mean change difference, rate difference or hazard
 * ratio) and two-sided p value; NaN when undefined. */
void ks_trial_primary(const ks_trial_result *r, double *effect, double *p);

/* Builds a trial from parsed JSON text (trial_parse.c). */
ks_trial *ks_trial_parse_internal(ks_ctx *ctx, const char *text, size_t len, const char *name,
                                  const char *base_dir);

const char *ks_scale_name(ks_scale s);
const char *ks_design_name(ks_trial_design d);

#endif /* KS_TRIAL_INTERNAL_H */
