/*
 * nonmem.h -- the NONMEM-style dosing record reader (docs/SCENARIO.md, "NONMEM records"):
 * from text in memory to subjects with covariates, dose events and record times.
 */
#ifndef KS_NONMEM_H
#define KS_NONMEM_H

#include "scenario_internal.h"

/* One ID of a NONMEM file. */
typedef struct {
    ks_patient patient; /* covariates: the file's, else the defaults given to the reader */
    ks_dose *doses;     /* sorted by time, ADDL expanded, devices numbered; owned */
    size_t n_doses;
    double *record_times; /* times of EVID 0 and EVID 2 rows, ascending, unique; owned */
    size_t n_record_times;
    int has_observations; /* 1 when the ID has at least one EVID 0 row */
    double last_time_h;   /* latest dose time, infusion end or record time */
} ks_nm_subject;

typedef struct {
    ks_nm_subject *subjects; /* owned */
    size_t n_subjects;
} ks_nm_data;

/* Parses `len` bytes of NONMEM CSV named `name` (for messages). `defaults` gives the
 * covariates of subjects when the file has no column for them (NULL: ks_patient_init).
 * On success fills *out (free with ks_nm_data_free). */
ks_status ks_nonmem_read(ks_ctx *ctx, const char *text, size_t len, const char *name,
                         const ks_patient *defaults, ks_nm_data *out);
void ks_nm_data_free(ks_nm_data *data);

/* A scenario from NONMEM text held in memory: one subject per ID, output times from EVID 0
 * and EVID 2 rows (or, without EVID 0 rows, a 5-min grid to the last event + 24 h).
 * `name` names the text in messages. */
ks_scenario *ks_scenario_parse_nonmem_text(ks_ctx *ctx, const char *text, size_t len,
                                           const char *name);

#endif /* KS_NONMEM_H */
