/*
 * schedule.c -- expansion of repeated dose sessions (intervals, weekdays, intranasal devices)
 * into single dose events.
 */
#include "schedule.h"

#include <math.h>
#include <string.h>

static const char *const ks_weekday_names[KS_WEEKDAYS] = {"mon", "tue", "wed", "thu",
                                                          "fri", "sat", "sun"};

int ks_weekday_from_name(const char *name, int *out)
{
    if (!name)
        return -1;
    for (int i = 0; i < KS_WEEKDAYS; i++) {
        if (strcmp(name, ks_weekday_names[i]) == 0) {
            if (out)
                *out = i;
            return 0;
        }
    }
    return -1;
}

const char *ks_weekday_name(int w)
{
    if (w < 0 || w >= KS_WEEKDAYS)
        return "unknown";
    return ks_weekday_names[w];
}

static int popcount7(unsigned mask)
{
    int n = 0;
    for (int w = 0; w < KS_WEEKDAYS; w++)
        n += (int)((mask >> w) & 1u);
    return n;
}

static double sessions(const ks_dose_spec *spec)
{
    switch (spec->repeat) {
    case KS_REPEAT_NONE:
        return 1.0;
    case KS_REPEAT_INTERVAL:
        return (double)spec->count;
    case KS_REPEAT_WEEKDAYS:
        /* Every 7-day window holds each weekday exactly once. */
        return (double)spec->weeks * (double)popcount7(spec->weekday_mask);
    }
    return 0.0;
}

static int devices_per_session(const ks_dose_spec *spec)
{
    return spec->route == KS_ROUTE_INTRANASAL && spec->devices > 1 ? spec->devices : 1;
}

double ks_schedule_event_count(const ks_dose_spec *spec)
{
    return sessions(spec) * (double)devices_per_session(spec);
}

/* Day index (from day 0) and hour of day of the spec's start. */
static void start_day_time(const ks_dose_spec *spec, double *day, double *tod_h)
{
    *day = floor(spec->start_h / 24.0);
    *tod_h = spec->start_h - 24.0 * *day;
}

double ks_schedule_last_time(const ks_dose_spec *spec)
{
    double last_session = spec->start_h;
    if (spec->repeat == KS_REPEAT_INTERVAL && spec->count > 1) {
        last_session = spec->start_h + (double)(spec->count - 1) * spec->every_h;
    } else if (spec->repeat == KS_REPEAT_WEEKDAYS && spec->weeks > 0 && spec->weekday_mask) {
        double day, tod;
        start_day_time(spec, &day, &tod);
        /* The last window day whose weekday is in the mask. */
        double last_day = day + 7.0 * (double)spec->weeks - 1.0;
        for (int back = 0; back < KS_WEEKDAYS; back++) {
            double d = last_day - back;
            int w = (int)fmod((double)spec->start_weekday + d, 7.0);
            if ((spec->weekday_mask >> w) & 1u) {
                last_session = 24.0 * d + tod;
                break;
            }
        }
    }
    return last_session + (double)(devices_per_session(spec) - 1) * spec->device_interval_h;
}

static size_t emit_session(const ks_dose_spec *spec, double t0, ks_dose *out)
{
    int nd = devices_per_session(spec);
    for (int k = 0; k < nd; k++) {
        ks_dose *d = &out[k];
        memset(d, 0, sizeof *d);
        d->t_h = t0 + (double)k * spec->device_interval_h;
        d->amount_mg = spec->amount_mg;
        d->duration_h = spec->route == KS_ROUTE_IV_INFUSION ? spec->duration_h : 0.0;
        d->drug = spec->drug;
        d->route = spec->route;
        d->device = spec->route == KS_ROUTE_INTRANASAL ? k + 1 : 0;
    }
    return (size_t)nd;
}

size_t ks_schedule_expand(const ks_dose_spec *spec, ks_dose *out)
{
    size_t n = 0;
    switch (spec->repeat) {
    case KS_REPEAT_NONE:
        n += emit_session(spec, spec->start_h, out + n);
        break;
    case KS_REPEAT_INTERVAL:
        for (long k = 0; k < spec->count; k++)
            n += emit_session(spec, spec->start_h + (double)k * spec->every_h, out + n);
        break;
    case KS_REPEAT_WEEKDAYS: {
        double day, tod;
        start_day_time(spec, &day, &tod);
        long ndays = 7 * spec->weeks;
        for (long i = 0; i < ndays; i++) {
            double d = day + (double)i;
            int w = (int)fmod((double)spec->start_weekday + d, 7.0);
            if ((spec->weekday_mask >> w) & 1u)
                n += emit_session(spec, 24.0 * d + tod, out + n);
        }
        break;
    }
    }
    return n;
}

void ks_schedule_number_devices(ks_dose *doses, size_t n, double session_gap_h)
{
    double last_t[KS_DRUG_COUNT];
    int last_dev[KS_DRUG_COUNT];
    for (int i = 0; i < (int)KS_DRUG_COUNT; i++) {
        last_t[i] = -INFINITY;
        last_dev[i] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        ks_dose *d = &doses[i];
        if (d->route != KS_ROUTE_INTRANASAL || d->amount_mg <= 0.0 || (int)d->drug < 0 ||
            d->drug >= KS_DRUG_COUNT) {
            d->device = 0;
            continue;
        }
        int k = (int)d->drug;
        if (d->t_h - last_t[k] <= session_gap_h && !d->reset)
            last_dev[k]++;
        else
            last_dev[k] = 1;
        last_t[k] = d->t_h;
        d->device = last_dev[k];
    }
}
