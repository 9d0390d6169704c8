/*
 * trial_output.c -- what a trial result reports: per arm and visit the mean score with its t
 * interval, the change from baseline, response and remission rates with Wilson intervals, the
 * arm contrasts (Welch or paired t); as getters, a JSON summary, a tidy CSV and a text table.
 */
#include "trial/trial_internal.h"

#include "core/internal.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ks_trial_result_arm_count(const ks_trial_result *r)
{
    return r ? r->n_arms : 0;
}

const char *ks_trial_result_arm_name(const ks_trial_result *r, size_t arm)
{
    return r && arm < r->n_arms ? r->arm_names[arm] : "";
}

size_t ks_trial_result_reference_arm(const ks_trial_result *r)
{
    return r ? r->reference_arm : 0;
}

size_t ks_trial_result_visit_count(const ks_trial_result *r)
{
    return r ? r->n_visits : 0;
}

double ks_trial_result_visit_time_h(const ks_trial_result *r, size_t visit)
{
    return r && visit < r->n_visits ? r->visits[visit].t_h : NAN;
}

const char *ks_trial_result_visit_label(const ks_trial_result *r, size_t visit)
{
    return r && visit < r->n_visits ? r->visits[visit].label : "";
}

long ks_trial_result_n_per_arm(const ks_trial_result *r)
{
    return r ? r->n_per_arm : 0;
}

void ks_trial_result_screening(const ks_trial_result *r, size_t *screened, size_t *included)
{
    if (screened)
        *screened = r ? r->screened : 0;
    if (included)
        *included = r ? r->included : 0;
}

ks_status ks_trial_result_visit_stats(ks_ctx *ctx, const ks_trial_result *r, size_t arm,
                                      size_t visit, ks_trial_visit_stats *out)
{
    if (!r || !out || arm >= r->n_arms || visit >= r->n_visits)
        return ks_fail(ctx, KS_ERR_USAGE,
                       "ks_trial_result_visit_stats: arm %zu or visit %zu out "
                       "of range",
                       arm, visit);
    const ks_trial_cell *c = &r->cells[arm * r->n_visits + visit];
    memset(out, 0, sizeof *out);
    out->n = c->observed.n;
    out->mean = c->observed.n ? c->observed.mean : NAN;
    out->sd = ks_welford_sd(&c->observed);
    ks_mean_ci95(out->n, out->mean, out->sd, &out->ci_low, &out->ci_high);
    out->change_mean = c->change.n ? c->change.mean : NAN;
    out->change_sd = ks_welford_sd(&c->change);
    ks_mean_ci95(out->n, out->change_mean, out->change_sd, &out->change_ci_low,
                 &out->change_ci_high);
    out->true_mean = c->truth.n ? c->truth.mean : NAN;
    out->responders = c->responders;
    out->remitters = c->remitters;
    out->response_rate = out->n ? (double)c->responders / (double)out->n : NAN;
    out->remission_rate = out->n ? (double)c->remitters / (double)out->n : NAN;
    ks_wilson_ci95(c->responders, out->n, &out->response_ci_low, &out->response_ci_high);
    ks_wilson_ci95(c->remitters, out->n, &out->remission_ci_low, &out->remission_ci_high);
    return KS_OK;
}

ks_status ks_trial_result_contrast(ks_ctx *ctx, const ks_trial_result *r, size_t arm, size_t visit,
                                   ks_trial_contrast *out)
{
    if (!r || !out || arm >= r->n_arms || visit >= r->n_visits)
        return ks_fail(ctx, KS_ERR_USAGE,
                       "ks_trial_result_contrast: arm %zu or visit %zu out of "
                       "range",
                       arm, visit);
    ks_contrast c;
    if (r->design == KS_DESIGN_CROSSOVER) {
        ks_paired(&r->paired[arm * r->n_visits + visit], &c);
    } else {
        const ks_welford *x = &r->cells[arm * r->n_visits + visit].change;
        const ks_welford *y = &r->cells[r->reference_arm * r->n_visits + visit].change;
        ks_welch(x->n, x->mean, ks_welford_var(x), y->n, y->mean, ks_welford_var(y), &c);
    }
    out->diff = c.diff;
    out->se = c.se;
    out->df = c.df;
    out->ci_low = c.ci_low;
    out->ci_high = c.ci_high;
    out->p_value = c.p_value;
    return KS_OK;
}

/* Observed-case contrast (Welch on the rated patients) of an arm at a visit. */
static void oc_contrast(const ks_trial_result *r, size_t arm, size_t visit, ks_contrast *c)
{
    const ks_welford *x = &r->cells[arm * r->n_visits + visit].oc_change;
    const ks_welford *y = &r->cells[r->reference_arm * r->n_visits + visit].oc_change;
    ks_welch(x->n, x->mean, ks_welford_var(x), y->n, y->mean, ks_welford_var(y), c);
}

/* Response (or remission) rate difference of an arm from the reference at a visit. */
static void rate_contrast(const ks_trial_result *r, size_t arm, size_t visit, int remission, int oc,
                          ks_contrast *c)
{
    const ks_trial_cell *x = &r->cells[arm * r->n_visits + visit];
    const ks_trial_cell *y = &r->cells[r->reference_arm * r->n_visits + visit];
    size_t nx = oc ? x->oc_observed.n : x->observed.n, ny = oc ? y->oc_observed.n : y->observed.n;
    size_t kx =
        remission ? (oc ? x->oc_remitters : x->remitters) : (oc ? x->oc_responders : x->responders);
    size_t ky =
        remission ? (oc ? y->oc_remitters : y->remitters) : (oc ? y->oc_responders : y->responders);
    ks_prop_diff(kx, nx, ky, ny, c);
}

/* Kaplan-Meier table of an arm's time to relapse into km[n_relapse_times]. */
static void relapse_km(const ks_trial_result *r, size_t arm, ks_km_point *km)
{
    ks_km(r->n_relapse_times, r->relapse_t, r->relapse_arms[arm].events,
          r->relapse_arms[arm].censored, km);
}

/* Cox model of an arm against the reference arm. */
static void relapse_cox(const ks_trial_result *r, size_t arm, ks_cox *cox)
{
    ks_km_point k0[KS_TRIAL_MAX_VISITS + 2], k1[KS_TRIAL_MAX_VISITS + 2];
    size_t d0[KS_TRIAL_MAX_VISITS + 2], d1[KS_TRIAL_MAX_VISITS + 2];
    size_t r0[KS_TRIAL_MAX_VISITS + 2], r1[KS_TRIAL_MAX_VISITS + 2];
    size_t n = r->n_relapse_times;
    relapse_km(r, r->reference_arm, k0);
    relapse_km(r, arm, k1);
    for (size_t k = 0; k < n; k++) {
        d0[k] = k0[k].events;
        r0[k] = k0[k].at_risk;
        d1[k] = k1[k].events;
        r1[k] = k1[k].at_risk;
    }
    ks_cox_two_group(n, d0, d1, r0, r1, cox);
}

void ks_trial_primary(const ks_trial_result *r, double *effect, double *p)
{
    *effect = *p = NAN;
    size_t a = r->primary_arm, v = r->primary_visit;
    if (a == r->reference_arm || a >= r->n_arms || v >= r->n_visits)
        return;
    ks_contrast c;
    switch (r->primary_measure) {
    case KS_MEASURE_CHANGE:
        if (r->primary_oc && r->design != KS_DESIGN_CROSSOVER) {
            oc_contrast(r, a, v, &c);
        } else {
            ks_trial_contrast tc;
            ks_trial_result_contrast(NULL, r, a, v, &tc);
            c.diff = tc.diff;
            c.p_value = tc.p_value;
        }
        break;
    case KS_MEASURE_RESPONSE:
    case KS_MEASURE_REMISSION:
        rate_contrast(r, a, v, r->primary_measure == KS_MEASURE_REMISSION, r->primary_oc, &c);
        break;
    case KS_MEASURE_RELAPSE: {
        if (!r->relapse)
            return;
        ks_cox cox;
        relapse_cox(r, a, &cox);
        c.diff = cox.hr;
        c.p_value = cox.p_wald;
        break;
    }
    default:
        return;
    }
    *effect = c.diff;
    *p = c.p_value;
}

ks_status ks_trial_result_power(ks_ctx *ctx, const ks_trial_result *r, ks_trial_power *out)
{
    if (!r || !out || r->replicates < 2)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_trial_result_power: the run had no replicates");
    out->replicates = r->replicates;
    out->significant = r->significant;
    out->alpha = r->alpha;
    out->power = (double)r->significant / (double)r->replicates;
    ks_wilson_ci95(r->significant, r->replicates, &out->ci_low, &out->ci_high);
    return KS_OK;
}

ks_status ks_trial_result_relapse(ks_ctx *ctx, const ks_trial_result *r, size_t arm,
                                  ks_trial_relapse *out)
{
    if (!r || !out || !r->relapse || arm >= r->n_arms)
        return ks_fail(ctx, KS_ERR_USAGE,
                       "ks_trial_result_relapse: no relapse endpoint, or arm %zu out of range",
                       arm);
    ks_km_point km[KS_TRIAL_MAX_VISITS + 2];
    relapse_km(r, arm, km);
    memset(out, 0, sizeof *out);
    out->n = km[0].at_risk;
    for (size_t k = 0; k < r->n_relapse_times; k++)
        out->events += km[k].events;
    ks_km_median(r->n_relapse_times, km, &out->median_h, &out->median_ci_low_h,
                 &out->median_ci_high_h);
    out->hr = out->hr_ci_low = out->hr_ci_high = out->p_value = out->p_logrank = NAN;
    if (arm != r->reference_arm) {
        ks_cox cox;
        relapse_cox(r, arm, &cox);
        out->hr = cox.hr;
        out->hr_ci_low = cox.ci_low;
        out->hr_ci_high = cox.ci_high;
        out->p_value = cox.p_wald;
        out->p_logrank = cox.p_logrank;
    }
    return KS_OK;
}

/* ---------------------------------------------------------------------------------------
 * JSON
 * ------------------------------------------------------------------------------------- */

/* A number, or null when not finite (JSON has no NaN). */
static int add_num(cJSON *obj, const char *key, double v)
{
    cJSON *item = isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
    if (!item)
        return -1;
    cJSON_AddItemToObject(obj, key, item);
    return 0;
}

static const char *const measure_names[] = {"change", "response", "remission", "relapse"};
static const char *const select_names[] = {"all", "responders", "remitters"};

/* Phases, re-randomisation, relapse, primary endpoint and power. */
static int conduct_json(const ks_trial_result *r, cJSON *root)
{
    cJSON *ph = cJSON_AddArrayToObject(root, "phases");
    if (!ph)
        return -1;
    for (size_t p = 0; p < r->n_phases; p++) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            return -1;
        cJSON_AddItemToArray(ph, o);
        if (!cJSON_AddStringToObject(o, "name", r->phases[p].name) ||
            add_num(o, "start_h", r->phases[p].start_h) < 0 ||
            add_num(o, "end_h", r->phases[p].end_h) < 0 ||
            add_num(o, "entered", (double)r->phase_counts[p].entered) < 0 ||
            add_num(o, "dropouts", (double)r->phase_counts[p].dropouts) < 0)
            return -1;
    }
    if (r->withdrawal) {
        cJSON *w = cJSON_AddObjectToObject(root, "randomised_withdrawal");
        if (!w || !cJSON_AddStringToObject(w, "phase", r->phases[r->withdrawal_phase].name) ||
            add_num(w, "time_h", r->phases[r->withdrawal_phase].start_h) < 0 ||
            !cJSON_AddStringToObject(w, "select", select_names[r->withdrawal_select]) ||
            add_num(w, "selected", (double)r->withdrawal_selected) < 0 ||
            add_num(w, "not_selected", (double)r->withdrawal_not_selected) < 0)
            return -1;
    }
    if (r->relapse) {
        cJSON *rl = cJSON_AddObjectToObject(root, "relapse"), *arms;
        if (!rl || add_num(rl, "min_score", r->relapse_min) < 0 ||
            add_num(rl, "consecutive", (double)r->relapse_consecutive) < 0 ||
            add_num(rl, "origin_h", r->relapse_origin_h) < 0 ||
            !(arms = cJSON_AddArrayToObject(rl, "arms")))
            return -1;
        for (size_t a = 0; a < r->n_arms; a++) {
            ks_trial_relapse s;
            ks_trial_result_relapse(NULL, r, a, &s);
            ks_km_point km[KS_TRIAL_MAX_VISITS + 2];
            relapse_km(r, a, km);
            cJSON *ao = cJSON_CreateObject(), *ka;
            if (!ao)
                return -1;
            cJSON_AddItemToArray(arms, ao);
            if (!cJSON_AddStringToObject(ao, "name", r->arm_names[a]) ||
                add_num(ao, "n", (double)s.n) < 0 || add_num(ao, "events", (double)s.events) < 0 ||
                add_num(ao, "median_h", s.median_h) < 0 ||
                add_num(ao, "median_ci_low_h", s.median_ci_low_h) < 0 ||
                add_num(ao, "median_ci_high_h", s.median_ci_high_h) < 0 ||
                !(ka = cJSON_AddArrayToObject(ao, "kaplan_meier")))
                return -1;
            for (size_t k = 0; k < r->n_relapse_times; k++) {
                cJSON *ko = cJSON_CreateObject();
                if (!ko)
                    return -1;
                cJSON_AddItemToArray(ka, ko);
                if (add_num(ko, "time_h", km[k].t) < 0 ||
                    add_num(ko, "at_risk", (double)km[k].at_risk) < 0 ||
                    add_num(ko, "events", (double)km[k].events) < 0 ||
                    add_num(ko, "censored", (double)km[k].censored) < 0 ||
                    add_num(ko, "survival", km[k].surv) < 0 || add_num(ko, "se", km[k].se) < 0 ||
                    add_num(ko, "ci_low", km[k].ci_low) < 0 ||
                    add_num(ko, "ci_high", km[k].ci_high) < 0)
                    return -1;
            }
            if (a != r->reference_arm) {
                cJSON *h = cJSON_AddObjectToObject(ao, "vs_reference");
                if (!h || add_num(h, "hazard_ratio", s.hr) < 0 ||
                    add_num(h, "ci_low", s.hr_ci_low) < 0 ||
                    add_num(h, "ci_high", s.hr_ci_high) < 0 ||
                    add_num(h, "p_value", s.p_value) < 0 ||
                    add_num(h, "logrank_p", s.p_logrank) < 0)
                    return -1;
            }
        }
    }
    double eff, p;
    ks_trial_primary(r, &eff, &p);
    cJSON *pr = cJSON_AddObjectToObject(root, "primary");
    if (!pr || !cJSON_AddStringToObject(pr, "measure", measure_names[r->primary_measure]) ||
        !cJSON_AddStringToObject(pr, "arm", r->arm_names[r->primary_arm]) ||
        !cJSON_AddStringToObject(pr, "visit", r->visits[r->primary_visit].label) ||
        !cJSON_AddStringToObject(pr, "analysis", r->primary_oc ? "observed_case" : "locf") ||
        add_num(pr, "alpha", r->alpha) < 0 || add_num(pr, "effect", eff) < 0 ||
        add_num(pr, "p_value", p) < 0)
        return -1;
    if (r->replicates > 1) {
        ks_trial_power pw;
        ks_trial_result_power(NULL, r, &pw);
        cJSON *po = cJSON_AddObjectToObject(root, "power");
        if (!po || add_num(po, "replicates", (double)pw.replicates) < 0 ||
            add_num(po, "significant", (double)pw.significant) < 0 ||
            add_num(po, "power", pw.power) < 0 || add_num(po, "ci_low", pw.ci_low) < 0 ||
            add_num(po, "ci_high", pw.ci_high) < 0 ||
            add_num(po, "effect_mean", r->primary_effect.n ? r->primary_effect.mean : NAN) < 0 ||
            add_num(po, "effect_sd", ks_welford_sd(&r->primary_effect)) < 0)
            return -1;
    }
    return 0;
}

static cJSON *result_json(ks_ctx *ctx, const ks_trial_result *r)
{
    cJSON *root = cJSON_CreateObject(), *arms, *visits;
    if (!root)
        return NULL;
    int bad = !cJSON_AddStringToObject(root, "name", r->name) ||
              !cJSON_AddStringToObject(root, "design", ks_design_name(r->design)) ||
              !cJSON_AddStringToObject(root, "scale", ks_scale_name(r->scale));
    bad = bad || add_num(root, "seed", (double)r->seed) < 0 ||
          add_num(root, "n_per_arm", (double)r->n_per_arm) < 0 ||
          add_num(root, "screened", (double)r->screened) < 0 ||
          add_num(root, "included", (double)r->included) < 0 ||
          add_num(root, "response_fraction", r->response_fraction) < 0 ||
          add_num(root, "remission_max", r->remission_max) < 0 ||
          !cJSON_AddStringToObject(root, "reference_arm", r->arm_names[r->reference_arm]) ||
          !cJSON_AddStringToObject(root, "contrast",
                                   r->design == KS_DESIGN_CROSSOVER ? "paired t" : "Welch t");
    if (bad || !(visits = cJSON_AddArrayToObject(root, "visits")))
        goto fail;
    for (size_t v = 0; v < r->n_visits; v++) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            goto fail;
        cJSON_AddItemToArray(visits, o);
        if (!cJSON_AddStringToObject(o, "label", r->visits[v].label) ||
            add_num(o, "time_h", r->visits[v].t_h) < 0)
            goto fail;
    }
    if (!(arms = cJSON_AddArrayToObject(root, "arms")))
        goto fail;
    for (size_t a = 0; a < r->n_arms; a++) {
        cJSON *ao = cJSON_CreateObject(), *vs;
        if (!ao)
            goto fail;
        cJSON_AddItemToArray(arms, ao);
        if (!cJSON_AddStringToObject(ao, "name", r->arm_names[a]) ||
            add_num(ao, "n", (double)r->arm_n[a]) < 0 ||
            add_num(ao, "dropouts", (double)r->arm_dropouts[a]) < 0 ||
            add_num(ao, "flexible_dose_steps", (double)r->arm_flexed[a]) < 0 ||
            !(vs = cJSON_AddArrayToObject(ao, "visits")))
            goto fail;
        for (size_t v = 0; v < r->n_visits; v++) {
            ks_trial_visit_stats st;
            ks_trial_contrast c;
            ks_trial_result_visit_stats(ctx, r, a, v, &st);
            ks_trial_result_contrast(ctx, r, a, v, &c);
            cJSON *o = cJSON_CreateObject();
            if (!o)
                goto fail;
            cJSON_AddItemToArray(vs, o);
            bad = !cJSON_AddStringToObject(o, "label", r->visits[v].label) ||
                  add_num(o, "time_h", r->visits[v].t_h) < 0 || add_num(o, "n", (double)st.n) < 0 ||
                  add_num(o, "mean", st.mean) < 0 || add_num(o, "sd", st.sd) < 0 ||
                  add_num(o, "ci_low", st.ci_low) < 0 || add_num(o, "ci_high", st.ci_high) < 0 ||
                  add_num(o, "change_mean", st.change_mean) < 0 ||
                  add_num(o, "change_sd", st.change_sd) < 0 ||
                  add_num(o, "change_ci_low", st.change_ci_low) < 0 ||
                  add_num(o, "change_ci_high", st.change_ci_high) < 0 ||
                  add_num(o, "true_mean", st.true_mean) < 0 ||
                  add_num(o, "responders", (double)st.responders) < 0 ||
                  add_num(o, "response_rate", st.response_rate) < 0 ||
                  add_num(o, "response_ci_low", st.response_ci_low) < 0 ||
                  add_num(o, "response_ci_high", st.response_ci_high) < 0 ||
                  add_num(o, "remitters", (double)st.remitters) < 0 ||
                  add_num(o, "remission_rate", st.remission_rate) < 0 ||
                  add_num(o, "remission_ci_low", st.remission_ci_low) < 0 ||
                  add_num(o, "remission_ci_high", st.remission_ci_high) < 0;
            if (!bad && a != r->reference_arm) {
                cJSON *co = cJSON_AddObjectToObject(o, "vs_reference");
                ks_contrast rd, md;
                rate_contrast(r, a, v, 0, 0, &rd);
                rate_contrast(r, a, v, 1, 0, &md);
                bad = !co || add_num(co, "change_diff", c.diff) < 0 ||
                      add_num(co, "ci_low", c.ci_low) < 0 ||
                      add_num(co, "ci_high", c.ci_high) < 0 || add_num(co, "df", c.df) < 0 ||
                      add_num(co, "p_value", c.p_value) < 0 ||
                      add_num(co, "response_diff", rd.diff) < 0 ||
                      add_num(co, "response_diff_ci_low", rd.ci_low) < 0 ||
                      add_num(co, "response_diff_ci_high", rd.ci_high) < 0 ||
                      add_num(co, "response_diff_p", rd.p_value) < 0 ||
                      add_num(co, "remission_diff", md.diff) < 0 ||
                      add_num(co, "remission_diff_ci_low", md.ci_low) < 0 ||
                      add_num(co, "remission_diff_ci_high", md.ci_high) < 0 ||
                      add_num(co, "remission_diff_p", md.p_value) < 0;
            }
            if (!bad && r->has_dropout) {
                /* observed-case analysis: only the patients rated at this visit */
                const ks_trial_cell *cell = &r->cells[a * r->n_visits + v];
                cJSON *oc = cJSON_AddObjectToObject(o, "observed_case");
                double lo, hi, clo, chi, rlo, rhi, mlo, mhi;
                size_t n = cell->oc_observed.n;
                double sd = ks_welford_sd(&cell->oc_observed);
                double csd = ks_welford_sd(&cell->oc_change);
                double mean = n ? cell->oc_observed.mean : NAN;
                double cmean = n ? cell->oc_change.mean : NAN;
                ks_mean_ci95(n, mean, sd, &lo, &hi);
                ks_mean_ci95(n, cmean, csd, &clo, &chi);
                ks_wilson_ci95(cell->oc_responders, n, &rlo, &rhi);
                ks_wilson_ci95(cell->oc_remitters, n, &mlo, &mhi);
                bad = !oc || add_num(oc, "n", (double)n) < 0 || add_num(oc, "mean", mean) < 0 ||
                      add_num(oc, "sd", sd) < 0 || add_num(oc, "ci_low", lo) < 0 ||
                      add_num(oc, "ci_high", hi) < 0 || add_num(oc, "change_mean", cmean) < 0 ||
                      add_num(oc, "change_sd", csd) < 0 || add_num(oc, "change_ci_low", clo) < 0 ||
                      add_num(oc, "change_ci_high", chi) < 0 ||
                      add_num(oc, "responders", (double)cell->oc_responders) < 0 ||
                      add_num(oc, "response_rate",
                              n ? (double)cell->oc_responders / (double)n : NAN) < 0 ||
                      add_num(oc, "response_ci_low", rlo) < 0 ||
                      add_num(oc, "response_ci_high", rhi) < 0 ||
                      add_num(oc, "remitters", (double)cell->oc_remitters) < 0 ||
                      add_num(oc, "remission_rate",
                              n ? (double)cell->oc_remitters / (double)n : NAN) < 0 ||
                      add_num(oc, "remission_ci_low", mlo) < 0 ||
                      add_num(oc, "remission_ci_high", mhi) < 0;
                if (!bad && a != r->reference_arm) {
                    ks_contrast occ;
                    oc_contrast(r, a, v, &occ);
                    cJSON *co = cJSON_AddObjectToObject(oc, "vs_reference");
                    bad = !co || add_num(co, "change_diff", occ.diff) < 0 ||
                          add_num(co, "ci_low", occ.ci_low) < 0 ||
                          add_num(co, "ci_high", occ.ci_high) < 0 ||
                          add_num(co, "df", occ.df) < 0 || add_num(co, "p_value", occ.p_value) < 0;
                }
            }
            if (bad)
                goto fail;
        }
    }
    if (conduct_json(r, root) < 0)
        goto fail;
    if (!cJSON_AddStringToObject(root, "note", "For research and education; not medical advice."))
        goto fail;
    return root;
fail:
    cJSON_Delete(root);
    ks_fail(ctx, KS_ERR_NOMEM, "out of memory while writing the trial summary");
    return NULL;
}

ks_status ks_trial_result_write_json(ks_ctx *ctx, const ks_trial_result *r, FILE *out)
{
    if (!r || !out)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_trial_result_write_json: NULL argument");
    cJSON *root = result_json(ctx, r);
    if (!root)
        return ks_ctx_status(ctx);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return ks_fail(ctx, KS_ERR_NOMEM, "out of memory while writing the trial summary");
    int bad = fputs(text, out) < 0 || fputc('\n', out) == EOF;
    cJSON_free(text);
    if (bad)
        return ks_fail(ctx, KS_ERR_IO, "writing the trial summary failed");
    return KS_OK;
}

ks_status ks_trial_result_save_json(ks_ctx *ctx, const ks_trial_result *r, const char *path)
{
    ks_atomic_file af;
    if (ks_atomic_open(ctx, path, &af) != KS_OK)
        return ks_ctx_status(ctx);
    if (ks_trial_result_write_json(ctx, r, af.fp) != KS_OK) {
        ks_atomic_abort(&af);
        return ks_ctx_status(ctx);
    }
    return ks_atomic_commit(ctx, &af);
}

/* ---------------------------------------------------------------------------------------
 * Tidy CSV: arm,visit,time_h,statistic,value
 * ------------------------------------------------------------------------------------- */

static int csv_row(FILE *fp, const char *arm, const ks_trial_visit *v, const char *stat,
                   double value)
{
    char a[32], b[32];
    return fprintf(fp, "%s,%s,%s,%s,%s\n", arm, v->label, ks_fmt_double(a, sizeof a, v->t_h), stat,
                   isfinite(value) ? ks_fmt_double(b, sizeof b, value) : "NA");
}

ks_status ks_trial_result_write_visits_csv(ks_ctx *ctx, const ks_trial_result *r, const char *path)
{
    if (!r || !path)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_trial_result_write_visits_csv: NULL argument");
    ks_atomic_file af;
    if (ks_atomic_open(ctx, path, &af) != KS_OK)
        return ks_ctx_status(ctx);
    FILE *fp = af.fp;
    int bad = fprintf(fp, "arm,visit,time_h,statistic,value\n") < 0;
    for (size_t a = 0; a < r->n_arms && !bad; a++) {
        for (size_t v = 0; v < r->n_visits && !bad; v++) {
            ks_trial_visit_stats s;
            ks_trial_contrast c;
            ks_trial_result_visit_stats(ctx, r, a, v, &s);
            ks_trial_result_contrast(ctx, r, a, v, &c);
            const char *arm = r->arm_names[a];
            const ks_trial_visit *vi = &r->visits[v];
            const struct {
                const char *name;
                double value;
            } rows[] = {{"n", (double)s.n},
                        {"mean", s.mean},
                        {"sd", s.sd},
                        {"ci_low", s.ci_low},
                        {"ci_high", s.ci_high},
                        {"change_mean", s.change_mean},
                        {"change_sd", s.change_sd},
                        {"change_ci_low", s.change_ci_low},
                        {"change_ci_high", s.change_ci_high},
                        {"true_mean", s.true_mean},
                        {"response_rate", s.response_rate},
                        {"response_ci_low", s.response_ci_low},
                        {"response_ci_high", s.response_ci_high},
                        {"remission_rate", s.remission_rate},
                        {"remission_ci_low", s.remission_ci_low},
                        {"remission_ci_high", s.remission_ci_high},
                        {"change_diff", c.diff},
                        {"change_diff_ci_low", c.ci_low},
                        {"change_diff_ci_high", c.ci_high},
                        {"change_diff_p", c.p_value}};
            size_t nrows = sizeof rows / sizeof rows[0];
            if (a == r->reference_arm)
                nrows -= 4; /* no contrast of the reference with itself */
            for (size_t k = 0; k < nrows && !bad; k++)
                bad = csv_row(fp, arm, vi, rows[k].name, rows[k].value) < 0;
        }
    }
    if (bad) {
        ks_atomic_abort(&af);
        return ks_fail(ctx, KS_ERR_IO, "%s: write failed", path);
    }
    return ks_atomic_commit(ctx, &af);
}

/* ---------------------------------------------------------------------------------------
 * Text table
 * ------------------------------------------------------------------------------------- */

ks_status ks_trial_result_print(ks_ctx *ctx, const ks_trial_result *r, FILE *out)
{
    if (!r || !out)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_trial_result_print: NULL argument");
    const char *scale = r->scale == KS_SCALE_HDRS17 ? "HDRS-17" : "MADRS";
    fprintf(out, "trial %s: %s design, %ld patients per arm, seed %llu, %s\n", r->name,
            ks_design_name(r->design), r->n_per_arm, (unsigned long long)r->seed, scale);
    fprintf(out,
            "screened %zu candidates, included %zu; response = fall >= %g%% from baseline, "
            "remission = %s <= %g\n",
            r->screened, r->included, 100.0 * r->response_fraction, scale, r->remission_max);
    for (size_t a = 0; a < r->n_arms; a++) {
        fprintf(out, "\narm %s%s\n", r->arm_names[a], a == r->reference_arm ? " (reference)" : "");
        fprintf(out, "%-10s %6s %22s %24s %22s %22s %28s\n", "visit", "n", "mean (95% CI)",
                "change (95% CI)", "response % (95% CI)", "remission % (95% CI)",
                a == r->reference_arm ? "" : "change vs reference (95% CI)");
        for (size_t v = 0; v < r->n_visits; v++) {
            ks_trial_visit_stats s;
            ks_trial_contrast c;
            ks_trial_result_visit_stats(ctx, r, a, v, &s);
            ks_trial_result_contrast(ctx, r, a, v, &c);
            char m[64], ch[64], re[64], rm[64], cd[64] = "";
            snprintf(m, sizeof m, "%.1f (%.1f, %.1f)", s.mean, s.ci_low, s.ci_high);
            snprintf(ch, sizeof ch, "%+.1f (%+.1f, %+.1f)", s.change_mean, s.change_ci_low,
                     s.change_ci_high);
            snprintf(re, sizeof re, "%.0f (%.0f, %.0f)", 100.0 * s.response_rate,
                     100.0 * s.response_ci_low, 100.0 * s.response_ci_high);
            snprintf(rm, sizeof rm, "%.0f (%.0f, %.0f)", 100.0 * s.remission_rate,
                     100.0 * s.remission_ci_low, 100.0 * s.remission_ci_high);
            if (a != r->reference_arm && v > 0)
                snprintf(cd, sizeof cd, "%+.1f (%+.1f, %+.1f) p=%.2g", c.diff, c.ci_low, c.ci_high,
                         c.p_value);
            fprintf(out, "%-10s %6zu %22s %24s %22s %22s %28s\n", r->visits[v].label, s.n, m, ch,
                    re, rm, cd);
        }
    }
    if (r->has_dropout || r->withdrawal) {
        fprintf(out, "\nconduct (means above: last observation carried forward)\n");
        for (size_t p = 0; p < r->n_phases; p++)
            fprintf(out, "  phase %s (%g-%g h): entered %zu, dropouts %zu\n", r->phases[p].name,
                    r->phases[p].start_h, r->phases[p].end_h, r->phase_counts[p].entered,
                    r->phase_counts[p].dropouts);
        if (r->withdrawal)
            fprintf(out, "  re-randomised at the start of %s: %zu selected (%s), %zu not\n",
                    r->phases[r->withdrawal_phase].name, r->withdrawal_selected,
                    select_names[r->withdrawal_select], r->withdrawal_not_selected);
        for (size_t a = 0; a < r->n_arms; a++)
            fprintf(out, "  arm %s: %zu analysed, %zu dropped out, %zu flexible-dose steps\n",
                    r->arm_names[a], r->arm_n[a], r->arm_dropouts[a], r->arm_flexed[a]);
    }
    if (r->relapse) {
        fprintf(out, "\ntime to relapse (score >= %g at %zu consecutive visits, from %g h)\n",
                r->relapse_min, r->relapse_consecutive, r->relapse_origin_h);
        for (size_t a = 0; a < r->n_arms; a++) {
            ks_trial_relapse s;
            ks_trial_result_relapse(ctx, r, a, &s);
            fprintf(out, "  %s: %zu relapses of %zu, median %.0f h (95%% CI %.0f, %.0f)",
                    r->arm_names[a], s.events, s.n, s.median_h, s.median_ci_low_h,
                    s.median_ci_high_h);
            if (a != r->reference_arm)
                fprintf(out, "; hazard ratio %.2f (%.2f, %.2f) p=%.2g", s.hr, s.hr_ci_low,
                        s.hr_ci_high, s.p_value);
            fputc('\n', out);
        }
    }
    if (r->replicates > 1) {
        ks_trial_power pw;
        ks_trial_result_power(ctx, r, &pw);
        fprintf(out,
                "\npower: %zu of %zu replicate trials had p < %g for the primary endpoint (%s, "
                "%s vs %s, %s): %.1f%% (95%% CI %.1f, %.1f)\n",
                pw.significant, pw.replicates, pw.alpha, measure_names[r->primary_measure],
                r->arm_names[r->primary_arm], r->arm_names[r->reference_arm],
                r->visits[r->primary_visit].label, 100.0 * pw.power, 100.0 * pw.ci_low,
                100.0 * pw.ci_high);
    }
    fprintf(out, "\nFor research and education; not medical advice.\n");
    if (ferror(out))
        return ks_fail(ctx, KS_ERR_IO, "writing the trial table failed");
    return KS_OK;
}
