/*
 * run_view.c -- one subject's simulated time courses as the report sees them: outputs by
 * name, dose sessions, and measurements (peaks, crossings, intervals) with plain-language
 * times.
 */
#include "report/report_internal.h"

#include "dose/dose.h"
#include "io/scenario_internal.h"
#include "sim/event.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_rapid(ks_drug d)
{
    return d == KS_DRUG_KETAMINE || d == KS_DRUG_ESKETAMINE || d == KS_DRUG_ARKETAMINE;
}

/* Groups the subject's dose events into sessions: same drug, start within 1 h of the
 * session's first event (the devices of one intranasal session are minutes apart). */
static void collect_sessions(rpt_run *run)
{
    const ks_scenario *sc = run->scenario;
    if (!sc || run->subject >= sc->n_subjects)
        return;
    const ks_subject *sub = &sc->subjects[run->subject];
    for (size_t i = 0; i < sub->n_doses; i++) {
        const ks_dose *d = &sub->doses[i];
        if (!(d->amount_mg > 0))
            continue;
        double end = d->t_h + (d->route == KS_ROUTE_IV_INFUSION ? d->duration_h : 0.0);
        rpt_session *last = NULL;
        for (size_t k = run->n_sessions; k-- > 0;) {
            if ((int)d->drug == run->sessions[k].drug) {
                last = &run->sessions[k];
                break;
            }
        }
        if (last && d->t_h - last->t_start < 1.0) {
            last->amount_mg += d->amount_mg;
            last->t_end = fmax(last->t_end, end);
            continue;
        }
        if (run->n_sessions >= RPT_MAX_SESSIONS) {
            run->n_truncated++;
            continue;
        }
        rpt_session *s = &run->sessions[run->n_sessions];
        s->t_start = d->t_h;
        s->t_end = end;
        s->amount_mg = d->amount_mg;
        s->drug = (int)d->drug;
        s->route = (int)d->route;
        s->rapid = is_rapid(d->drug);
        run->dose_times[run->n_sessions] = d->t_h;
        run->n_sessions++;
        if (s->rapid)
            run->n_rapid++;
    }
    for (size_t i = 0; i < sub->n_events && run->n_therapy < RPT_MAX_SESSIONS; i++)
        if (sub->events[i].kind == KS_EV_THERAPY && sub->events[i].magnitude > 0)
            run->therapy_times[run->n_therapy++] = sub->events[i].t_h;
}

ks_status rpt_open(ks_ctx *ctx, const ks_result *r, const ks_report_options *opt, rpt_run *run)
{
    memset(run, 0, sizeof *run);
    run->ctx = ctx;
    run->r = r;
    ks_report_options def;
    if (!opt) {
        ks_report_options_init(&def);
        opt = &def;
    }
    if (!r)
        return ks_fail(ctx, KS_ERR_USAGE, "report: no result given");
    if (opt->subject >= ks_result_subject_count(r))
        return ks_fail(ctx, KS_ERR_USAGE, "report: subject index %zu out of range (%zu subjects)",
                       opt->subject, ks_result_subject_count(r));
    run->subject = opt->subject;
    run->t = ks_result_times(r, opt->subject);
    run->nt = ks_result_time_count(r, opt->subject);
    if (!run->t || run->nt < 2)
        return ks_fail(ctx, KS_ERR_INPUT,
                       "report: the result has fewer than 2 output times (got %zu); nothing to "
                       "plot",
                       run->nt);
    run->t_end = run->t[run->nt - 1];
    run->log_conc = opt->log_concentrations;
    run->scenario = opt->scenario;
    collect_sessions(run);
    return KS_OK;
}

void rpt_close(rpt_run *run)
{
    for (size_t i = 0; i < run->n_scratch; i++)
        free(run->scratch[i]);
    run->n_scratch = 0;
}

const double *rpt_series(const rpt_run *run, const char *name)
{
    long j = ks_result_output_index(run->r, name);
    if (j < 0)
        return NULL;
    return ks_result_values(run->r, run->subject, (size_t)j);
}

const char *rpt_unit(const rpt_run *run, const char *name)
{
    long j = ks_result_output_index(run->r, name);
    const char *u = j < 0 ? NULL : ks_result_output_unit(run->r, (size_t)j);
    return u ? u : "";
}

int rpt_nonzero(const rpt_run *run, const char *name)
{
    const double *y = rpt_series(run, name);
    if (!y)
        return 0;
    for (size_t i = 0; i < run->nt; i++)
        if (isfinite(y[i]) && y[i] != 0)
            return 1;
    return 0;
}

double *rpt_scratch(rpt_run *run)
{
    if (run->n_scratch >= RPT_MAX_SCRATCH) {
        run->oom = 1;
        return NULL;
    }
    double *p = calloc(run->nt, sizeof *p);
    if (!p) {
        run->oom = 1;
        return NULL;
    }
    run->scratch[run->n_scratch++] = p;
    return p;
}

static size_t arg_ext(const rpt_run *run, const double *y, double t0, double t1, int *found,
                      int sign)
{
    size_t best = 0;
    *found = 0;
    if (!y)
        return 0;
    for (size_t i = 0; i < run->nt; i++) {
        if (run->t[i] < t0 || run->t[i] > t1 || !isfinite(y[i]))
            continue;
        if (!*found || sign * y[i] > sign * y[best]) {
            best = i;
            *found = 1;
        }
    }
    return best;
}

size_t rpt_argmax(const rpt_run *run, const double *y, double t0, double t1, int *found)
{
    return arg_ext(run, y, t0, t1, found, 1);
}

size_t rpt_argmin(const rpt_run *run, const double *y, double t0, double t1, int *found)
{
    return arg_ext(run, y, t0, t1, found, -1);
}

double rpt_cross(const rpt_run *run, const double *y, double t0, double level, int above)
{
    if (!y)
        return NAN;
    int prev_ok = 0;
    double pt = 0, pv = 0;
    for (size_t i = 0; i < run->nt; i++) {
        if (run->t[i] < t0 || !isfinite(y[i]))
            continue;
        int hit = above ? y[i] >= level : y[i] <= level;
        if (hit) {
            if (!prev_ok || y[i] == pv)
                return run->t[i];
            /* linear interpolation between the last miss and this hit */
            double f = (level - pv) / (y[i] - pv);
            f = fmax(0.0, fmin(1.0, f));
            return pt + f * (run->t[i] - pt);
        }
        prev_ok = 1;
        pt = run->t[i];
        pv = y[i];
    }
    return NAN;
}

double rpt_at(const rpt_run *run, const double *y, double t)
{
    if (!y)
        return NAN;
    if (t <= run->t[0])
        return y[0];
    if (t >= run->t[run->nt - 1])
        return y[run->nt - 1];
    size_t lo = 0, hi = run->nt - 1;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (run->t[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    double dt = run->t[hi] - run->t[lo];
    if (!(dt > 0))
        return y[lo];
    return y[lo] + (y[hi] - y[lo]) * (t - run->t[lo]) / dt;
}

size_t rpt_intervals(const rpt_run *run, const double *y, double level, double *a, double *b,
                     size_t max)
{
    size_t n = 0;
    int in = 0;
    double start = 0;
    if (!y || !isfinite(level))
        return 0;
    for (size_t i = 0; i < run->nt; i++) {
        int on = isfinite(y[i]) && y[i] >= level;
        if (on && !in) {
            in = 1;
            start = i > 0 ? rpt_cross(run, y, run->t[i - 1], level, 1) : run->t[i];
            if (!isfinite(start))
                start = run->t[i];
        } else if (!on && in) {
            in = 0;
            double stop = rpt_cross(run, y, run->t[i - 1], level, 0);
            if (!isfinite(stop))
                stop = run->t[i];
            if (n < max) {
                a[n] = start;
                b[n] = stop;
            }
            n++;
        }
    }
    if (in) {
        if (n < max) {
            a[n] = start;
            b[n] = run->t_end;
        }
        n++;
    }
    return n;
}

const rpt_session *rpt_session_before(const rpt_run *run, double t, size_t *index)
{
    for (int pass = 0; pass < 2; pass++) {
        int want_rapid = run->n_rapid > 0 && pass == 0;
        if (pass == 1 && run->n_rapid > 0)
            break;
        const rpt_session *best = NULL;
        size_t count = 0, best_i = 0;
        for (size_t k = 0; k < run->n_sessions; k++) {
            const rpt_session *s = &run->sessions[k];
            if (want_rapid && !s->rapid)
                continue;
            if (s->t_start <= t + 1e-9) {
                best = s;
                best_i = count;
            }
            count++;
        }
        if (index)
            *index = best_i;
        return best;
    }
    return NULL;
}

const rpt_session *rpt_first_session(const rpt_run *run)
{
    for (size_t k = 0; k < run->n_sessions; k++)
        if (run->sessions[k].rapid)
            return &run->sessions[k];
    return run->n_sessions > 0 ? &run->sessions[0] : NULL;
}

const char *rpt_session_noun(const rpt_session *s)
{
    switch ((ks_route)s->route) {
    case KS_ROUTE_IV_INFUSION:
        return "infusion";
    case KS_ROUTE_INTRANASAL:
        return "nasal spray session";
    case KS_ROUTE_IV_BOLUS:
    case KS_ROUTE_IM:
        return "injection";
    case KS_ROUTE_SUBLINGUAL:
        return "lozenge";
    case KS_ROUTE_ORAL:
        return "tablet";
    default:
        return "dose";
    }
}

static const char *ordinal_suffix(size_t n)
{
    if (n % 100 >= 11 && n % 100 <= 13)
        return "th";
    switch (n % 10) {
    case 1:
        return "st";
    case 2:
        return "nd";
    case 3:
        return "rd";
    default:
        return "th";
    }
}

/* Round to a readable number of hours: 1.5 h, 13 h. */
static void fmt_hours(char *buf, size_t size, double h)
{
    if (h < 9.95)
        snprintf(buf, size, "%.1f hour%s", h, fabs(h - 1.0) < 0.05 ? "" : "s");
    else
        snprintf(buf, size, "%.0f hours", h);
}

void rpt_when(const rpt_run *run, double t, char *buf, size_t size)
{
    size_t idx = 0;
    const rpt_session *s = rpt_session_before(run, t, &idx);
    size_t count = 0;
    for (size_t k = 0; k < run->n_sessions; k++)
        if (s && (run->n_rapid == 0 || run->sessions[k].rapid == s->rapid))
            count++;
    char ord[48] = "";
    if (s && count > 1)
        snprintf(ord, sizeof ord, "%zu%s ", idx + 1, ordinal_suffix(idx + 1));
    double day = floor(t / 24.0 + 1e-9);
    if (!s) {
        if (t < 48)
            snprintf(buf, size, "at hour %.1f of the simulation", t);
        else
            snprintf(buf, size, "on day %.0f", day);
        return;
    }
    const char *noun = rpt_session_noun(s);
    double d = t - s->t_start;
    double after_end = t - s->t_end;
    char hrs[48];
    if (s->t_end > s->t_start && t <= s->t_end + 1e-9) {
        snprintf(buf, size, "%.0f minutes into the %s%s", d * 60.0, ord, noun);
    } else if (s->t_end > s->t_start && after_end < 1.5) {
        if (after_end * 60.0 < 0.5)
            snprintf(buf, size, "at the end of the %s%s", ord, noun);
        else
            snprintf(buf, size, "%.0f minutes after the %s%s ended", after_end * 60.0, ord, noun);
    } else if (d < 1.5) {
        snprintf(buf, size, "%.0f minutes after the %s%s", d * 60.0, ord, noun);
    } else if (d < 48.0) {
        fmt_hours(hrs, sizeof hrs, d);
        snprintf(buf, size, "%s after the %s%s", hrs, ord, noun);
    } else {
        snprintf(buf, size, "on day %.0f (%.1f days after the %s%s)", day, d / 24.0, ord, noun);
    }
}

void rpt_when_bare(const rpt_run *run, double t, char *buf, size_t size)
{
    rpt_when(run, t, buf, size);
    size_t skip = strncmp(buf, "on ", 3) == 0 ? 3 : strncmp(buf, "at ", 3) == 0 ? 3 : 0;
    if (skip)
        memmove(buf, buf + skip, strlen(buf + skip) + 1);
}

double rpt_window_level(const rpt_run *run)
{
    const double *w = rpt_series(run, "plasticity_window");
    int found;
    size_t i = rpt_argmax(run, w, -INFINITY, INFINITY, &found);
    if (!found || !(w[i] >= RPT_WINDOW_MIN))
        return NAN;
    return RPT_WINDOW_REL * w[i];
}

double rpt_baseline_madrs(const rpt_run *run)
{
    const double *m = rpt_series(run, "madrs_true");
    if (!m)
        return NAN;
    const rpt_session *s = rpt_first_session(run);
    double t0 = s ? s->t_start : run->t[0];
    size_t k = 0;
    for (size_t i = 0; i < run->nt; i++)
        if (run->t[i] <= t0 + 1e-9)
            k = i;
    return m[k];
}
