/*
 * scenario_internal.h -- the parsed form of a scenario: subjects with their expanded dose
 * events and output times, and what to output. Built by the JSON parser (scenario.c), the
 * NONMEM reader (nonmem.c) or ks_scenario_create_default; read by the simulation driver.
 */
#ifndef KS_SCENARIO_INTERNAL_H
#define KS_SCENARIO_INTERNAL_H

#include "ketasim.h"
#include "../dose/dose.h"
#include "../model/patient.h"
#include "../model/pd.h"
#include "../sim/event.h"

#include <stdint.h>

typedef struct {
    ks_patient patient;
    ks_dose *doses; /* sorted by t_h, owned */
    size_t n_doses;
    double *times_h; /* output times, ascending, unique, owned */
    size_t n_times;
    ks_event *events; /* scenario events, sorted by t_h, owned (NULL when none) */
    size_t n_events;
    ks_pd_covariates cov; /* mechanism covariates, valid when has_cov */
    int has_cov;          /* 0: the typical patient's (ks_pd_covariates_init) */
} ks_subject;

/* What the output CSV holds. */
typedef enum {
    KS_OUT_PLASMA = 1u << 0,      /* plasma concentrations of every species, ng/mL */
    KS_OUT_EFFECT_SITE = 1u << 1, /* brain (effect-site) concentrations, ng/mL */
    KS_OUT_AMOUNTS = 1u << 2      /* raw state amounts (umol), for debugging */
} ks_output_flags;

struct ks_scenario {
    char *name;        /* owned */
    char *source_path; /* file it came from, or "<default>"; owned */
    ks_subject *subjects;
    size_t n_subjects;
    double t_end_h;   /* simulated span, h */
    unsigned outputs; /* ks_output_flags */
    char *output_csv; /* output file name from the scenario ("" = default), owned */
    int mechanism;    /* 1: simulate the mechanism too (scenario files and the default run);
                         0: PK only (NONMEM records, scenarios built in code) */
    int open_label;   /* 1: patients know their treatment (belief layer) */
    int noise;        /* 1: mood noise on */
    uint64_t seed;    /* random seed of the noise paths */
};

/* Allocates an empty scenario (no subjects) named `name`. */
ks_scenario *ks_scenario_alloc(ks_ctx *ctx, const char *name, const char *source_path);
/* Appends a subject (deep copy of doses and times). */
ks_status ks_scenario_add_subject(ks_ctx *ctx, ks_scenario *s, const ks_patient *p,
                                  const ks_dose *doses, size_t n_doses, const double *times_h,
                                  size_t n_times);
/* A regular output grid 0, step, 2 step, ..., t_end (inclusive), plus every dose time and the
 * end of every infusion, sorted and unique. Caller frees *times. */
ks_status ks_output_grid(ks_ctx *ctx, double t_end_h, double step_h, const ks_dose *doses,
                         size_t n_doses, double **times, size_t *n_times);

#endif /* KS_SCENARIO_INTERNAL_H */
