/*
 * bench_common.h -- the benchmark population and course, shared by export_population.c (which
 * writes it for the peer tools) and ketasim_paths.c (which runs it through ketasim's paths), so
 * that both see the same patients, doses, events, output grid and noise paths.
 *
 * Population: treatment-resistant patients sampled by the population module (patient i of
 * (seed, key) is a pure function of both); the first N with an included screening score.
 * Course: the default `ketasim run` course (src/io/scenario_common.c): racemic ketamine
 * 0.5 mg/kg IV over 40 min at 09:00 on days 0, 2, 4, 7, 9, 11; a therapy session (intensity 1)
 * at 10:00 the day after each infusion; visits at 08:00 every 7 days; output every hour to the
 * end of the course. A shorter course (--quick: 3 days) keeps whatever falls inside it.
 */
#ifndef KS_BENCH_COMMON_H
#define KS_BENCH_COMMON_H

#include "core/internal.h"
#include "population/population.h"
#include "sim/patient_sim.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_MAX_DOSES  6
#define BENCH_MAX_EVENTS 12
#define BENCH_OPEN_LABEL 0 /* the default scenario is blinded (scenario_internal.h default) */

typedef struct {
    size_t n;               /* patients */
    int days;               /* course length, days */
    uint64_t seed;          /* population and noise seed */
    ks_virtual_patient *vp; /* [n] */
    uint64_t *key;          /* [n] patient keys (first n included keys) */
    double *times;          /* hourly output grid 0..24 days */
    size_t n_times;
    ks_event ev[BENCH_MAX_EVENTS];
    size_t n_ev;
    double dose_t[BENCH_MAX_DOSES];
    size_t n_dose;
} bench_pop;

/* The doses of patient i (0.5 mg/kg racemic ketamine, 40-min infusions). */
static inline void bench_doses(const bench_pop *bp, size_t i, ks_dose *d)
{
    for (size_t k = 0; k < bp->n_dose; k++) {
        memset(&d[k], 0, sizeof d[k]);
        d[k].t_h = bp->dose_t[k];
        d[k].amount_mg = 0.5 * bp->vp[i].patient.weight_kg;
        d[k].duration_h = 40.0 / 60.0;
        d[k].drug = KS_DRUG_KETAMINE;
        d[k].route = KS_ROUTE_IV_INFUSION;
    }
}

static inline void bench_pop_free(bench_pop *bp)
{
    free(bp->vp);
    free(bp->key);
    free(bp->times);
    memset(bp, 0, sizeof *bp);
}

/* Samples the population and builds the course. Returns KS_OK or the ctx's error. */
static inline ks_status bench_pop_init(ks_ctx *ctx, const ks_params *params, size_t n, int days,
                                       uint64_t seed, bench_pop *bp)
{
    static const double infusion_days[BENCH_MAX_DOSES] = {0, 2, 4, 7, 9, 11};
    memset(bp, 0, sizeof *bp);
    bp->n = n;
    bp->days = days;
    bp->seed = seed;
    const double t_end = 24.0 * (double)days;
    for (size_t k = 0; k < BENCH_MAX_DOSES; k++) {
        double t = 24.0 * infusion_days[k] + 9.0;
        if (t < t_end) {
            bp->dose_t[bp->n_dose++] = t;
        }
        double tt = 24.0 * (infusion_days[k] + 1.0) + 10.0;
        if (tt <= t_end) {
            bp->ev[bp->n_ev++] = (ks_event){tt, 0.0, 1.0, KS_EV_THERAPY};
        }
    }
    for (int w = 0; w <= 4; w++) {
        double tv = 24.0 * 7.0 * w + 8.0;
        if (tv <= t_end) {
            bp->ev[bp->n_ev++] = (ks_event){tv, 0.0, 1.0, KS_EV_VISIT};
        }
    }
    ks_events_sort(bp->ev, bp->n_ev);
    bp->n_times = (size_t)(24 * days) + 1;
    bp->times = ks_malloc(ctx, bp->n_times * sizeof(double));
    bp->vp = ks_calloc(ctx, n ? n : 1, sizeof *bp->vp);
    bp->key = ks_calloc(ctx, n ? n : 1, sizeof *bp->key);
    if (!bp->times || !bp->vp || !bp->key) {
        bench_pop_free(bp);
        return KS_ERR_NOMEM;
    }
    for (size_t k = 0; k < bp->n_times; k++) {
        bp->times[k] = (double)k;
    }
    ks_population_params pp;
    ks_population_spec spec;
    ks_status st = ks_population_params_read(ctx, params, &pp);
    if (st != KS_OK) {
        bench_pop_free(bp);
        return st;
    }
    ks_population_spec_init(&spec, KS_DX_TRD);
    if ((st = ks_population_resolve(ctx, &pp, "bench", &spec)) != KS_OK) {
        bench_pop_free(bp);
        return st;
    }
    uint64_t key = 0;
    for (size_t i = 0; i < n; key++) {
        ks_virtual_patient vp;
        ks_population_sample(&pp, &spec, seed, key, &vp);
        if (!vp.included) {
            continue;
        }
        vp.patient.id = (long)key;
        bp->vp[i] = vp;
        bp->key[i] = key;
        i++;
    }
    return KS_OK;
}

/* Parses "N DAYS SEED" style unsigned arguments; exits with status 2 on a bad one. */
static inline unsigned long bench_arg(const char *s, const char *what, unsigned long lo,
                                      unsigned long hi)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (!end || *end || v < lo || v > hi) {
        fprintf(stderr, "%s: expected a whole number %lu-%lu (got %s)\n", what, lo, hi, s);
        exit(2);
    }
    return v;
}

#endif /* KS_BENCH_COMMON_H */
