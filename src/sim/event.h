/*
 * event.h -- discrete scenario events besides doses: clinical visits, therapy sessions and the
 * single-link interventions of docs/MODEL.md section 10 (docs/SCENARIO.md, "events").
 */
#ifndef KS_EVENT_H
#define KS_EVENT_H

#include <stddef.h>

typedef enum {
    KS_EV_VISIT = 0,      /* clinical rating visit: expectation increment (placebo layer) */
    KS_EV_THERAPY,        /* therapy / integration session, magnitude = intensity (1 standard) */
    KS_EV_SPINE_ABLATION, /* ablation of labile (newly formed) spines, magnitude = fraction */
    KS_EV_ANTI_BDNF,      /* anti-BDNF antibody, magnitude = fraction of released BDNF scavenged,
                             decaying with int.antibdnf_tau */
    KS_EV_AMPA_BLOCK,     /* AMPA receptor antagonist (NBQX-like), magnitude = fraction blocked,
                             decaying with int.nbqx_tau */
    KS_EV_MTOR_BLOCK,     /* direct mTORC1 block (intracerebral rapamycin), magnitude = fraction,
                             over [t, t + duration] */
    KS_EV_STRESS,         /* chronic-stress episode, magnitude = amplitude (1 = standard 21-day
                             chronic stress), over [t, t + duration] */
    KS_EV_COUNT
} ks_event_kind;

typedef struct {
    double t_h;
    double duration_h; /* for interval events (mTOR block, stress); 0 otherwise */
    double magnitude;
    ks_event_kind kind;
} ks_event;

/* Scenario names: "visit", "therapy", "spine_ablation", "anti_bdnf", "ampa_block",
 * "mtor_block", "stress"; "unknown" when out of range. */
const char *ks_event_name(ks_event_kind k);
/* 0 and *out set when `name` is known, -1 otherwise. */
int ks_event_from_name(const char *name, ks_event_kind *out);
/* 1 for the interval events (mtor_block, stress), whose duration must be > 0. */
int ks_event_is_interval(ks_event_kind k);

/* Sorts events by time (stable: equal times keep their order). */
void ks_events_sort(ks_event *events, size_t n);

#endif /* KS_EVENT_H */
