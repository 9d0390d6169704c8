/*
 * event.c -- names and ordering of scenario events (event.h).
 */
#include "sim/event.h"

#include <string.h>

static const char *const event_names[KS_EV_COUNT] = {
    "visit", "therapy", "spine_ablation", "anti_bdnf", "ampa_block", "mtor_block", "stress",
};

const char *ks_event_name(ks_event_kind k)
{
    if ((int)k < 0 || k >= KS_EV_COUNT) {
        return "unknown";
    }
    return event_names[k];
}

int ks_event_from_name(const char *name, ks_event_kind *out)
{
    if (!name) {
        return -1;
    }
    for (int i = 0; i < (int)KS_EV_COUNT; i++) {
        if (strcmp(name, event_names[i]) == 0) {
            if (out) {
                *out = (ks_event_kind)i;
            }
            return 0;
        }
    }
    return -1;
}

int ks_event_is_interval(ks_event_kind k)
{
    return k == KS_EV_MTOR_BLOCK || k == KS_EV_STRESS;
}

void ks_events_sort(ks_event *events, size_t n)
{
    /* Insertion sort: event lists are short (tens to hundreds) and often already sorted. */
    for (size_t i = 1; i < n; i++) {
        ks_event x = events[i];
        size_t j = i;
        while (j > 0 && x.t_h < events[j - 1].t_h) {
            events[j] = events[j - 1];
            j--;
        }
        events[j] = x;
    }
}
