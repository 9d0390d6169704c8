/*
 * dose.h -- drugs, routes and single dose events. Schedules (repeats, weekdays, devices) are
 * expanded into a sorted array of ks_dose before simulation; the model sees only events.
 */
#ifndef KS_DOSE_H
#define KS_DOSE_H

#include <stddef.h>

typedef enum {
    KS_DRUG_KETAMINE = 0, /* racemic: half S-, half R-ketamine by mass */
    KS_DRUG_ESKETAMINE,   /* S-ketamine alone */
    KS_DRUG_ARKETAMINE,   /* R-ketamine alone */
    KS_DRUG_ESCITALOPRAM,
    KS_DRUG_CITALOPRAM,
    KS_DRUG_MIDAZOLAM,
    KS_DRUG_NALTREXONE,
    KS_DRUG_RAPAMYCIN,
    KS_DRUG_SALINE, /* placebo vehicle: no PK (a zero input), any route; it exists so that a
                       placebo infusion or spray is a treatment session of the mechanism */
    KS_DRUG_COUNT
} ks_drug;

typedef enum {
    KS_ROUTE_IV_BOLUS = 0,
    KS_ROUTE_IV_INFUSION,
    KS_ROUTE_INTRANASAL, /* one event per device; `device` counts devices within a session */
    KS_ROUTE_ORAL,
    KS_ROUTE_IM,
    KS_ROUTE_SUBLINGUAL,
    KS_ROUTE_COUNT
} ks_route;

typedef struct {
    double t_h;        /* start time, h */
    double amount_mg;  /* > 0 (0 only for a pure reset: reset = 1 without a dose, NONMEM EVID 3) */
    double duration_h; /* > 0 for KS_ROUTE_IV_INFUSION (zero-order input over duration), else 0 */
    ks_drug drug;
    ks_route route;
    int device;  /* intranasal: 1 for the first device of a session, 2, 3 ...; else 0 */
    int ss;      /* NONMEM SS: 0 none; 1 reset to steady state of this dose every ii_h,
                    then dose; 2 add that steady state to the current state */
    double ii_h; /* interdose interval for ss != 0, h */
    int reset;   /* 1: every state is set to zero just before this event (NONMEM EVID 3 and
                    EVID 4, which starts a new segment); 0 otherwise */
} ks_dose;

/* Canonical names used in scenario files, CSV headers and messages. */
const char *ks_drug_name(ks_drug d);   /* "ketamine", "esketamine", ... */
const char *ks_route_name(ks_route r); /* "iv_bolus", "iv_infusion", "intranasal", ... */
/* Returns 0 and sets *out when `name` is known, -1 otherwise. */
int ks_drug_from_name(const char *name, ks_drug *out);
int ks_route_from_name(const char *name, ks_route *out);
/* 1 when the drug may be given by that route in the model, 0 otherwise. */
int ks_drug_route_supported(ks_drug d, ks_route r);

/* Sorts doses by time (stable: equal times keep their order). */
void ks_doses_sort(ks_dose *doses, size_t n);

#endif /* KS_DOSE_H */
