/*
 * scenario_common.c -- building blocks shared by every way of making a scenario: allocation,
 * subjects, output time grids, and the default scenario of `ketasim run`.
 */
#include "core/internal.h"
#include "scenario_build.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ks_scenario *ks_scenario_alloc(ks_ctx *ctx, const char *name, const char *source_path)
{
    ks_scenario *s = ks_calloc(ctx, 1, sizeof *s);
    if (!s)
        return NULL;
    s->name = ks_strdup(ctx, name ? name : "");
    s->source_path = ks_strdup(ctx, source_path ? source_path : "<memory>");
    s->output_csv = ks_strdup(ctx, "");
    if (!s->name || !s->source_path || !s->output_csv)
        goto fail;
    s->outputs = KS_OUT_PLASMA | KS_OUT_EFFECT_SITE;
    return s;
fail:
    ks_scenario_free(s);
    return NULL;
}

ks_status ks_scenario_add_subject(ks_ctx *ctx, ks_scenario *s, const ks_patient *p,
                                  const ks_dose *doses, size_t n_doses, const double *times_h,
                                  size_t n_times)
{
    if (!s || !p || (n_doses && !doses) || (n_times && !times_h))
        return ks_fail(ctx, KS_ERR_USAGE, "ks_scenario_add_subject: NULL argument");
    ks_subject sub;
    memset(&sub, 0, sizeof sub);
    sub.patient = *p;
    if (n_doses) {
        sub.doses = ks_calloc(ctx, n_doses, sizeof *sub.doses);
        if (!sub.doses)
            goto fail;
        memcpy(sub.doses, doses, n_doses * sizeof *doses);
        ks_doses_sort(sub.doses, n_doses);
    }
    sub.n_doses = n_doses;
    if (n_times) {
        sub.times_h = ks_calloc(ctx, n_times, sizeof *sub.times_h);
        if (!sub.times_h)
            goto fail;
        memcpy(sub.times_h, times_h, n_times * sizeof *times_h);
    }
    sub.n_times = n_times;
    ks_subject *grown = ks_realloc(ctx, s->subjects, (s->n_subjects + 1) * sizeof *grown);
    if (!grown)
        goto fail;
    s->subjects = grown;
    s->subjects[s->n_subjects++] = sub;
    return KS_OK;
fail:
    free(sub.doses);
    free(sub.times_h);
    return ctx ? ctx->status : KS_ERR_NOMEM;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

size_t ks_times_sort_unique(double *t, size_t n)
{
    if (n == 0)
        return 0;
    qsort(t, n, sizeof *t, cmp_double);
    size_t m = 1;
    for (size_t i = 1; i < n; i++) {
        if (t[i] - t[m - 1] > 1e-9)
            t[m++] = t[i];
    }
    return m;
}

/* The grid step in seconds, snapped to a whole microsecond when it is one up to rounding
 * (5 min given as 5/60 h becomes exactly 300 s), so that k * step lands on whole hours. */
static double step_seconds(double step_h)
{
    double s = step_h * 3600.0;
    double r = round(s * 1e6) / 1e6;
    return fabs(r - s) <= 1e-9 * s && r > 0.0 ? r : s;
}

ks_status ks_output_grid(ks_ctx *ctx, double t_end_h, double step_h, const ks_dose *doses,
                         size_t n_doses, double **times, size_t *n_times)
{
    if (!times || !n_times || (n_doses && !doses))
        return ks_fail(ctx, KS_ERR_USAGE, "ks_output_grid: NULL argument");
    *times = NULL;
    *n_times = 0;
    if (!isfinite(t_end_h) || t_end_h < 0.0 || !isfinite(step_h) || step_h <= 0.0)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_output_grid: bad span or step");
    double step_s = step_seconds(step_h);
    double n_grid = floor(t_end_h * 3600.0 / step_s + 1e-9) + 2.0;
    if (n_grid + 2.0 * (double)n_doses > KS_MAX_OUTPUT_TIMES + 2.0)
        return ks_fail(ctx, KS_ERR_INPUT,
                       "output grid: %.0f output times exceed the limit of %.0f (span %g h, "
                       "step %g h)",
                       n_grid, KS_MAX_OUTPUT_TIMES, t_end_h, step_h);
    size_t cap = (size_t)n_grid + 2 * n_doses;
    double *t = ks_malloc(ctx, cap * sizeof *t);
    if (!t)
        return ctx ? ctx->status : KS_ERR_NOMEM;
    size_t n = 0;
    for (size_t k = 0;; k++) {
        double tk = (double)k * step_s / 3600.0;
        if (tk > t_end_h + 1e-9)
            break;
        t[n++] = tk < t_end_h ? tk : t_end_h;
        if (n == cap - 2 * n_doses - 1)
            break;
    }
    if (n == 0 || t[n - 1] < t_end_h)
        t[n++] = t_end_h;
    for (size_t i = 0; i < n_doses; i++) {
        double t0 = doses[i].t_h;
        if (t0 >= 0.0 && t0 <= t_end_h)
            t[n++] = t0;
        if (doses[i].route == KS_ROUTE_IV_INFUSION && doses[i].duration_h > 0.0) {
            double t1 = t0 + doses[i].duration_h;
            if (t1 >= 0.0 && t1 <= t_end_h)
                t[n++] = t1;
        }
    }
    *n_times = ks_times_sort_unique(t, n);
    *times = t;
    return KS_OK;
}

ks_status ks_output_times_build(ks_ctx *ctx, double t_end_h, double step_h, const ks_dose *doses,
                                size_t n_doses, const double *extra, size_t n_extra, double **times,
                                size_t *n_times)
{
    double *t = NULL;
    size_t n = 0;
    ks_status st = ks_output_grid(ctx, t_end_h, step_h, doses, n_doses, &t, &n);
    if (st != KS_OK)
        return st;
    if (n_extra) {
        if ((double)n + (double)n_extra > KS_MAX_OUTPUT_TIMES + 2.0 * (double)n_doses + 2.0) {
            free(t);
            return ks_fail(ctx, KS_ERR_INPUT,
                           "output times: %zu grid times and %zu extra times exceed the limit "
                           "of %.0f",
                           n, n_extra, KS_MAX_OUTPUT_TIMES);
        }
        double *grown = ks_realloc(ctx, t, (n + n_extra) * sizeof *t);
        if (!grown) {
            free(t);
            return ctx ? ctx->status : KS_ERR_NOMEM;
        }
        t = grown;
        memcpy(t + n, extra, n_extra * sizeof *t);
        n = ks_times_sort_unique(t, n + n_extra);
    }
    *times = t;
    *n_times = n;
    return KS_OK;
}

/* The default scenario (docs/SCENARIO.md, "The default scenario"): a treatment-resistant
 * patient -- the reference 70 kg, 40-year-old man (CYP2B6 normal, BDNF Val/Val), MADRS 34 in the
 * depressed state, three failed adequate trials, typical stress load and episode length --
 * receives six racemic ketamine infusions (0.5 mg/kg over 40 min, the regimen of Berman 2000
 * and Zarate 2006) on Monday, Wednesday and Friday of two weeks at 09:00, an integration (therapy)
 * session at 10:00 the day after each infusion and a rating visit on days 0, 7, 14 and 21 at 08:00
 * (before the infusion on treatment days); 28 days, output every 10 min; PK and mechanism outputs.
 * Open label (the patient knows the treatment), no mood noise (the typical patient's course),
 * seed 1. */
ks_scenario *ks_scenario_create_default(ks_ctx *ctx)
{
    static const double infusion_days[6] = {0, 2, 4, 7, 9, 11};
    double *times = NULL;
    size_t n_times = 0;
    ks_scenario *s = ks_scenario_alloc(ctx, "default", "<default>");
    if (!s)
        return NULL;
    ks_patient p;
    ks_patient_init(&p);
    p.id = 1;
    ks_dose d[6];
    ks_event ev[6 + 4];
    size_t ne = 0;
    for (int i = 0; i < 6; i++) {
        memset(&d[i], 0, sizeof d[i]);
        d[i].t_h = 24.0 * infusion_days[i] + 9.0;
        d[i].amount_mg = 0.5 * p.weight_kg; /* 0.5 mg/kg */
        d[i].duration_h = 40.0 / 60.0;      /* 40 min */
        d[i].drug = KS_DRUG_KETAMINE;
        d[i].route = KS_ROUTE_IV_INFUSION;
        ev[ne++] = (ks_event){24.0 * (infusion_days[i] + 1.0) + 10.0, 0.0, 1.0, KS_EV_THERAPY};
    }
    for (int w = 0; w < 4; w++) /* days 0, 7, 14, 21: inside the 28-day span */
        ev[ne++] = (ks_event){24.0 * 7.0 * w + 8.0, 0.0, 1.0, KS_EV_VISIT};
    ks_events_sort(ev, ne);
    s->t_end_h = 28.0 * 24.0;
    s->outputs = KS_OUT_PLASMA | KS_OUT_EFFECT_SITE;
    s->mechanism = 1; /* the default run simulates the mechanism (scenario_internal.h) */
    s->open_label = 1;
    s->noise = 0;
    s->seed = 1;
    if (ks_output_grid(ctx, s->t_end_h, 10.0 / 60.0, d, 6, &times, &n_times) != KS_OK)
        goto fail;
    if (ks_scenario_add_subject(ctx, s, &p, d, 6, times, n_times) != KS_OK)
        goto fail;
    ks_subject *sub = &s->subjects[0];
    sub->events = ks_malloc(ctx, ne * sizeof *sub->events);
    if (!sub->events)
        goto fail;
    memcpy(sub->events, ev, ne * sizeof *ev);
    sub->n_events = ne;
    ks_pd_covariates_init(&sub->cov);
    sub->cov.severity_madrs = 34.0;
    sub->cov.n_failed_trials = 3;
    sub->has_cov = 1;
    free(times);
    return s;
fail:
    free(times);
    ks_scenario_free(s);
    return NULL;
}

const char *ks_scenario_output_file(const ks_scenario *scenario)
{
    return (scenario && scenario->output_csv) ? scenario->output_csv : "";
}
