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
                bad = !co || add_num(co, "change_diff", c.diff) < 0 ||
                      add_num(co, "ci_low", c.ci_low) < 0 ||
                      add_num(co, "ci_high", c.ci_high) < 0 || add_num(co, "df", c.df) < 0 ||
                      add_num(co, "p_value", c.p_value) < 0;
            }
            if (bad)
                goto fail;
        }
    }
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
    fprintf(out, "\nFor research and education; not medical advice.\n");
    if (ferror(out))
        return ks_fail(ctx, KS_ERR_IO, "writing the trial table failed");
    return KS_OK;
}
