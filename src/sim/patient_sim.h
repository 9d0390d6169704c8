/*
 * patient_sim.h -- simulation of one patient through the whole chain (PK and mechanism), the
 * unit of work of `run`, `validate` and `trial`. A workspace holds every buffer, so that
 * simulating a patient allocates nothing: create one workspace per thread and reuse it.
 */
#ifndef KS_PATIENT_SIM_H
#define KS_PATIENT_SIM_H

#include "ketasim.h"
#include "../dose/dose.h"
#include "../model/patient.h"
#include "../model/pk.h"
#include "../model/pd.h"

#include <stdint.h>

/* Discrete events besides doses (docs/SCENARIO.md, "events"). */
typedef enum {
    KS_EV_VISIT = 0,      /* clinical rating visit: expectation increment (placebo layer) */
    KS_EV_THERAPY,        /* therapy / integration session, magnitude = intensity (1 standard) */
    KS_EV_SPINE_ABLATION, /* ablation of labile (newly formed) spines, magnitude = fraction */
    KS_EV_ANTI_BDNF,      /* anti-BDNF antibody, magnitude = fraction of released BDNF scavenged */
    KS_EV_AMPA_BLOCK,     /* AMPA receptor antagonist (NBQX-like), magnitude = fraction blocked */
    KS_EV_MTOR_BLOCK,     /* direct mTORC1 block (intracerebral rapamycin), magnitude = fraction,
                             over [t, t + duration] */
    KS_EV_STRESS,         /* chronic-stress episode, magnitude = amplitude (1 = standard 21-day
                             chronic stress), over [t, t + duration] */
    KS_EV_COUNT
} ks_event_kind;

typedef struct {
    double t_h;
    double duration_h; /* for interval events; 0 otherwise */
    double magnitude;
    ks_event_kind kind;
} ks_event;

const char *ks_event_name(ks_event_kind k);            /* "visit", "therapy", ... */
int ks_event_from_name(const char *name, ks_event_kind *out); /* 0 ok, -1 unknown */

/* Typical (population) values of every layer, read once from the parameter table. */
typedef struct {
    ks_pk_typical *pk;
    ks_pd_typical *pd;
} ks_model_typical;

ks_status ks_model_typical_init(ks_ctx *ctx, const ks_params *params, ks_model_typical *typ);
void ks_model_typical_clear(ks_model_typical *typ);

/* What to simulate for one patient. Every pointer is borrowed. */
typedef struct {
    const ks_patient *patient;
    const ks_pd_covariates *cov; /* NULL: typical covariates */
    const ks_dose *doses;        /* sorted by time */
    size_t n_doses;
    const ks_event *events;      /* sorted by time */
    size_t n_events;
    const double *times_h;       /* output times, ascending */
    size_t n_times;
    int open_label;              /* 1: patient knows the treatment (belief layer) */
    int mechanism;               /* 0: PK only (no mechanism states); 1: PK and mechanism */
    uint64_t seed;               /* run seed */
    uint64_t key;                /* patient key: the noise path depends only on (seed, key) */
    int noise;                   /* 0: mood noise off (deterministic typical patient) */
} ks_patient_run;

typedef struct ks_sim_workspace ks_sim_workspace;

/* A workspace for patients of the given options; one per thread. */
ks_sim_workspace *ks_sim_workspace_create(ks_ctx *ctx, const ks_sim_options *opt);
void ks_sim_workspace_free(ks_sim_workspace *ws);

/* Names and units of every output a patient simulation can produce: the PK outputs
 * (KS_PK_OUT_*, in that order) followed by the mechanism outputs (KS_PD_OUT_*). */
size_t ks_sim_output_count(void);
const char *ks_sim_output_name(size_t j);
const char *ks_sim_output_unit(size_t j);
long ks_sim_output_index(const char *name);

/* Simulates one patient and writes output sel[k] at time i into out[k * n_times + i]
 * (sel has n_sel indices into the ks_sim_output_* list). Adds the solver's counters to
 * *stats when stats is non-NULL. No allocation. */
ks_status ks_sim_patient(ks_ctx *ctx, const ks_model_typical *typ, ks_sim_workspace *ws,
                         const ks_patient_run *run, const size_t *sel, size_t n_sel, double *out,
                         ks_solver_stats *stats);

#endif /* KS_PATIENT_SIM_H */
