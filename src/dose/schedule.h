/*
 * schedule.h -- expansion of one dose specification (a session of one or more intranasal
 * devices, repeated every so many hours or on given weekdays) into single ks_dose events.
 */
#ifndef KS_SCHEDULE_H
#define KS_SCHEDULE_H

#include "dose.h"

#include <stddef.h>

typedef enum {
    KS_REPEAT_NONE = 0, /* one session */
    KS_REPEAT_INTERVAL, /* `count` sessions, `every_h` apart */
    KS_REPEAT_WEEKDAYS  /* on the weekdays of `weekday_mask`, for `weeks` weeks */
} ks_repeat_kind;

/* Weekdays: 0 = Monday ... 6 = Sunday. */
#define KS_WEEKDAYS 7

typedef struct {
    ks_drug drug;
    ks_route route;
    double start_h;           /* first session (or first day considered, for weekdays), h */
    double amount_mg;         /* per event: per device for intranasal, else per session */
    double duration_h;        /* infusion duration, h (> 0 for iv_infusion, else 0) */
    int devices;              /* intranasal devices per session (>= 1); 1 for other routes */
    double device_interval_h; /* time between two devices of a session, h */
    ks_repeat_kind repeat;
    double every_h;        /* KS_REPEAT_INTERVAL: time between session starts, h (> 0) */
    long count;            /* KS_REPEAT_INTERVAL: total number of sessions (>= 1) */
    unsigned weekday_mask; /* KS_REPEAT_WEEKDAYS: bit w set = a session on weekday w */
    long weeks;            /* KS_REPEAT_WEEKDAYS: number of weeks (7-day windows) */
    int start_weekday;     /* weekday of day 0 of the scenario (0 = Monday) */
} ks_dose_spec;

/* Number of ks_dose events the spec expands to (a double, so that absurd counts do not
 * overflow before they are rejected). */
double ks_schedule_event_count(const ks_dose_spec *spec);

/* Time of the last event of the spec, h (start of the last device or session). */
double ks_schedule_last_time(const ks_dose_spec *spec);

/* Writes the events of the spec into out[] (room for ks_schedule_event_count entries), in
 * time order, and returns how many were written. Intranasal devices get device = 1, 2, ...
 * within each session; other routes device = 0. */
size_t ks_schedule_expand(const ks_dose_spec *spec, ks_dose *out);

/* "mon", "tue", ..., "sun" -> 0..6; returns 0 on success, -1 when unknown. */
int ks_weekday_from_name(const char *name, int *out);
const char *ks_weekday_name(int w);

/* Numbers intranasal devices in a time-sorted array: an intranasal event of a drug that
 * follows the previous intranasal event of the same drug by at most `session_gap_h` is the
 * next device of the same session, otherwise device 1 of a new session. Other routes get
 * device 0. */
void ks_schedule_number_devices(ks_dose *doses, size_t n, double session_gap_h);

#endif /* KS_SCHEDULE_H */
