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

#include "event.h" /* ks_event, ks_event_kind (KS_EV_*), ks_event_name, ks_event_from_name */

#include <stdint.h>

/* Typical (population) values of every layer, read once from the parameter table. pd may be
 * NULL when only PK-only patients (run->mechanism = 0) are simulated. */
typedef struct {
    ks_pk_typical *pk;
    ks_pd_typical *pd;
} ks_model_typical;

/* Reads both layers (on failure everything is released and typ is zeroed). */
ks_status ks_model_typical_init(ks_ctx *ctx, const ks_params *params, ks_model_typical *typ);
/* Frees both layers; typ is zeroed. NULL and a zeroed typ are fine. */
void ks_model_typical_clear(ks_model_typical *typ);

/* What to simulate for one patient. Every pointer is borrowed. */
typedef struct {
    const ks_patient *patient;
    const ks_pd_covariates *cov; /* NULL: typical covariates */
    const ks_dose *doses;        /* sorted by time */
    size_t n_doses;
    const ks_event *events; /* sorted by time */
    size_t n_events;
    const double *times_h; /* output times, ascending */
    size_t n_times;
    int open_label; /* 1: patient knows the treatment (belief layer) */
    int mechanism;  /* 0: PK only (no mechanism states); 1: PK and mechanism */
    uint64_t seed;  /* run seed */
    uint64_t key;   /* patient key: the noise path depends only on (seed, key) */
    int noise;      /* 0: mood noise off (deterministic typical patient) */
} ks_patient_run;

typedef struct ks_sim_workspace ks_sim_workspace;

/* A workspace for patients of the given options; one per thread. */
ks_sim_workspace *ks_sim_workspace_create(ks_ctx *ctx, const ks_sim_options *opt);
void ks_sim_workspace_free(ks_sim_workspace *ws);

/* Layout of the outputs a patient simulation can produce: the PK outputs (KS_PK_OUT_*, ng/mL),
 * the mechanism outputs (KS_PD_OUT_*), the mood noise nu(t) ("mood_noise") and the raw PK
 * state of every PK state ("amount_<state>", umol, or uM for effect sites). */
enum {
    KS_SIM_OUT_PK = 0,
    KS_SIM_OUT_PD = KS_PK_NOUT,
    KS_SIM_OUT_NOISE = KS_PK_NOUT + KS_PD_NOUT,
    KS_SIM_OUT_AMOUNT = KS_SIM_OUT_NOISE + 1,
    KS_SIM_NOUT = KS_SIM_OUT_AMOUNT + KS_PK_NSTATE
};

/* Time after the start of a treatment session at which the belief update is applied, h. */
#define KS_SESSION_H 2.0
/* Spacing of the samples of CADSS and sedation that find their peaks during a session, h. */
#define KS_SESSION_SAMPLE_H (1.0 / 60.0)
/* Grid of the mood noise path, h (MODEL.md 7: exact OU samples on a 1-h grid). */
#define KS_NOISE_GRID_H 1.0

/* Names and units of every output a patient simulation can produce (layout above). */
size_t ks_sim_output_count(void);
const char *ks_sim_output_name(size_t j);
const char *ks_sim_output_unit(size_t j);
long ks_sim_output_index(const char *name);

/* Simulates one patient and writes output sel[k] at time i into out[k * n_times + i]
 * (sel has n_sel indices into the ks_sim_output_* list). Adds the solver's counters to
 * *stats when stats is non-NULL. Allocates only to grow the workspace (a longer span, more
 * doses or a new system size than any earlier patient). Mechanism outputs need
 * run->mechanism = 1. Semantics: the header comment of patient_sim.c. On failure the message
 * starts with "patient <key>:". */
ks_status ks_sim_patient(ks_ctx *ctx, const ks_model_typical *typ, ks_sim_workspace *ws,
                         const ks_patient_run *run, const size_t *sel, size_t n_sel, double *out,
                         ks_solver_stats *stats);

#endif /* KS_PATIENT_SIM_H */
