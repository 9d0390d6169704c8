/*
 * population.h -- virtual patients: patient i of a population is a pure function of
 * (seed, i). Covariates (baseline severity, failed adequate trials, chronic stress load,
 * episode duration, BDNF Val66Met, CYP2B6, sex, age, weight, ancestry) and between-patient
 * random effects (etas) are drawn from the patient's own random streams, with the
 * distributions of docs/MODEL.md section 12 and every distribution parameter from the
 * parameter table ("pop.*"). The inclusion rule is applied to an observed (rater-noise)
 * screening score, so that regression to the mean appears by itself (MODEL.md 8).
 */
#ifndef KS_POPULATION_H
#define KS_POPULATION_H

#include "ketasim.h"
#include "../model/patient.h"
#include "../model/pd.h"

#include <stddef.h>
#include <stdint.h>

typedef enum { KS_DX_MDD = 0, KS_DX_TRD = 1 } ks_diagnosis;
typedef enum { KS_SCALE_MADRS = 0, KS_SCALE_HDRS17 = 1 } ks_scale;

/* Largest number of failed adequate trials a failed-trial distribution may name. */
#define KS_POP_MAX_FAIL 12

/* Index of the screening rating in the rater substream (KS_RNG_RATER); ratings of the trial
 * visits use small indices. */
#define KS_POP_SCREENING_INDEX ((uint64_t)1 << 40)

/* What a trial says about its population. NaN (or n_fail_p = 0) means "the parameter table's
 * default" and is resolved by ks_population_resolve. */
typedef struct {
    ks_diagnosis diagnosis;
    double baseline_mean_madrs; /* the study's mean baseline MADRS; severity mean = this +
                                   pop.severity_offset */
    double baseline_sd_madrs;   /* between-patient SD of severity (pop.severity_sd) */
    ks_scale inclusion_scale;
    double inclusion_min;               /* observed screening score >= min (on inclusion_scale) */
    double inclusion_max;               /* observed screening score <= max (INFINITY: no limit) */
    double p_fail[KS_POP_MAX_FAIL + 1]; /* P(n_fail = k), k = 0..n_fail_p-1 */
    size_t n_fail_p;
    double female_fraction;
    double age_mean_y, age_sd_y, age_min_y, age_max_y;                   /* truncated normal */
    double weight_median_kg, weight_omega, weight_min_kg, weight_max_kg; /* truncated lognormal */
    double east_asian_fraction;
    double bdnf_met_freq;        /* NaN: by ancestry (pop.met_freq_eur / pop.met_freq_eas) */
    double cyp2b6_6_freq;        /* NaN: by ancestry (pop.cyp2b6_6_freq_eur / _eas) */
    double ssri_adaptation_init; /* A at t = 0: patients on a stable antidepressant; 0 none */
} ks_population_spec;

/* Every pop.* value the sampler reads, and the clinical values it needs. */
typedef struct {
    double severity_offset, severity_sd;
    double sigma_median, sigma_omega;
    double duration_median_y, duration_omega;
    double met_freq_eur, met_freq_eas;
    double cyp2b6_6_freq_eur, cyp2b6_6_freq_eas;
    double trd_p2, trd_p3;
    double female_fraction;
    double age_mean_y, age_sd_y, age_min_y, age_max_y;
    double weight_median_kg, weight_omega, weight_min_kg, weight_max_kg;
    double east_asian_fraction;
    double baseline_madrs_trd, baseline_madrs_mdd;
    double inclusion_madrs_min;
    double omega[KS_PD_NETA]; /* SD of each eta, order KS_PD_ETA_* */
    double madrs_per_hamd;    /* clin.madrs_per_hamd (Leucht 2018) */
    double rater_sd_madrs;    /* clin.rater_sd, MADRS points */
} ks_population_params;

/* The pop.* names this module reads beyond those of the mechanism layer (static strings), for
 * the parameter registry. */
const char *const *ks_population_param_names(size_t *count);

/* Reads every value of ks_population_params from the table. */
ks_status ks_population_params_read(ks_ctx *ctx, const ks_params *params,
                                    ks_population_params *out);

/* A spec whose every field is "default" (NaN) for the given diagnosis. */
void ks_population_spec_init(ks_population_spec *spec, ks_diagnosis dx);

/* Replaces every default (NaN) field of spec by the table's value; checks the result
 * (probabilities in [0, 1] summing to 1, min <= max, ...). `what` names the source in messages
 * ("trial.json: $.population"). */
ks_status ks_population_resolve(ks_ctx *ctx, const ks_population_params *pp, const char *what,
                                ks_population_spec *spec);

/* One sampled virtual patient. */
typedef struct {
    ks_patient patient;
    ks_pd_covariates cov;
    double screening_true;     /* noise-free score at screening, on the inclusion scale */
    double screening_observed; /* rated: round(true + N(0, sd^2)), clamped to the scale */
    int included;              /* 1 when the observed screening score meets the inclusion rule */
} ks_virtual_patient;

/* Samples patient `key` of the population (spec resolved): a pure function of
 * (pp, spec, seed, key). Each covariate has its own stream (KS_RNG_COVARIATES, index = covariate
 * number), so adding one never shifts another. */
void ks_population_sample(const ks_population_params *pp, const ks_population_spec *spec,
                          uint64_t seed, uint64_t key, ks_virtual_patient *out);

/* Maximum of a scale: 60 (MADRS), 52 (HDRS-17). */
double ks_scale_max(ks_scale s);
/* Converts a noise-free MADRS score to the scale (HDRS-17 = MADRS / clin.madrs_per_hamd). */
double ks_scale_from_madrs(const ks_population_params *pp, ks_scale s, double madrs);
/* Rater noise SD on the scale (MADRS points converted like the score). */
double ks_scale_rater_sd(const ks_population_params *pp, ks_scale s);

/* An observed rating: round(true + sd z), z ~ N(0, 1) from stream (seed, key, KS_RNG_RATER,
 * index), clamped to [0, scale max] (MODEL.md 8). sd = 0 gives round(true). */
double ks_rate(double true_score, double sd, double scale_max, uint64_t seed, uint64_t key,
               uint64_t index);

#endif /* KS_POPULATION_H */
