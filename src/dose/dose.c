/*
 * dose.c -- names of drugs and routes, which drug may be given by which route, and the stable
 * time sort of dose events.
 */
#include "dose.h"

#include <stdlib.h>
#include <string.h>

static const char *const ks_drug_names[KS_DRUG_COUNT] = {
    "ketamine",  "esketamine", "arketamine", "escitalopram", "citalopram",
    "midazolam", "naltrexone", "rapamycin",  "saline",
};

static const char *const ks_route_names[KS_ROUTE_COUNT] = {
    "iv_bolus", "iv_infusion", "intranasal", "oral", "im", "sublingual",
};

const char *ks_drug_name(ks_drug d)
{
    if ((int)d < 0 || d >= KS_DRUG_COUNT)
        return "unknown";
    return ks_drug_names[d];
}

const char *ks_route_name(ks_route r)
{
    if ((int)r < 0 || r >= KS_ROUTE_COUNT)
        return "unknown";
    return ks_route_names[r];
}

int ks_drug_from_name(const char *name, ks_drug *out)
{
    if (!name)
        return -1;
    for (int i = 0; i < (int)KS_DRUG_COUNT; i++) {
        if (strcmp(name, ks_drug_names[i]) == 0) {
            if (out)
                *out = (ks_drug)i;
            return 0;
        }
    }
    return -1;
}

int ks_route_from_name(const char *name, ks_route *out)
{
    if (!name)
        return -1;
    for (int i = 0; i < (int)KS_ROUTE_COUNT; i++) {
        if (strcmp(name, ks_route_names[i]) == 0) {
            if (out)
                *out = (ks_route)i;
            return 0;
        }
    }
    return -1;
}

/* The model's absorption pathways per drug: the three ketamine forms have IV, intranasal,
 * oral, IM and sublingual inputs; the SSRIs, naltrexone and rapamycin are oral drugs;
 * midazolam (the active placebo of the ketamine trials) is given IV or orally; saline (the
 * placebo vehicle) by any route. */
int ks_drug_route_supported(ks_drug d, ks_route r)
{
    if ((int)r < 0 || r >= KS_ROUTE_COUNT)
        return 0;
    switch (d) {
    case KS_DRUG_KETAMINE:
    case KS_DRUG_ESKETAMINE:
    case KS_DRUG_ARKETAMINE:
        return 1;
    case KS_DRUG_ESCITALOPRAM:
    case KS_DRUG_CITALOPRAM:
    case KS_DRUG_NALTREXONE:
    case KS_DRUG_RAPAMYCIN:
        return r == KS_ROUTE_ORAL;
    case KS_DRUG_MIDAZOLAM:
        return r == KS_ROUTE_IV_BOLUS || r == KS_ROUTE_IV_INFUSION || r == KS_ROUTE_ORAL;
    case KS_DRUG_SALINE: /* placebo vehicle: any route */
        return 1;
    case KS_DRUG_COUNT:
        break;
    }
    return 0;
}

/* Bottom-up merge of src[lo, mid) and src[mid, hi) into dst; ties take the left run first,
 * which keeps the sort stable. */
static void merge_runs(const ks_dose *src, ks_dose *dst, size_t lo, size_t mid, size_t hi)
{
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) {
        if (src[j].t_h < src[i].t_h)
            dst[k++] = src[j++];
        else
            dst[k++] = src[i++];
    }
    while (i < mid)
        dst[k++] = src[i++];
    while (j < hi)
        dst[k++] = src[j++];
}

static void insertion_sort(ks_dose *d, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        ks_dose x = d[i];
        size_t j = i;
        while (j > 0 && x.t_h < d[j - 1].t_h) {
            d[j] = d[j - 1];
            j--;
        }
        d[j] = x;
    }
}

void ks_doses_sort(ks_dose *doses, size_t n)
{
    if (n < 2)
        return;
    size_t sorted = 1;
    while (sorted < n && !(doses[sorted].t_h < doses[sorted - 1].t_h))
        sorted++;
    if (sorted == n)
        return;
    if (n <= 32) {
        insertion_sort(doses, n);
        return;
    }
    ks_dose *tmp = malloc(n * sizeof *tmp);
    if (!tmp) {
        /* No scratch memory: still correct, only slower. */
        insertion_sort(doses, n);
        return;
    }
    ks_dose *src = doses, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            merge_runs(src, dst, lo, mid, hi);
        }
        ks_dose *t = src;
        src = dst;
        dst = t;
    }
    if (src != doses)
        memcpy(doses, src, n * sizeof *doses);
    free(tmp);
}
