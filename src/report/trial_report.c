/*
 * trial_report.c -- the report of a virtual trial: arm means with 95% confidence bands,
 * response and remission rates (Wilson intervals) at the visits, Kaplan-Meier curves of the
 * time to first response and of how long responders keep their response (from the per-patient
 * rows), and a plain-language text derived from those numbers.
 */
#include "report/report_internal.h"

#include "trial/trial_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TR_MAX_ARMS   8
#define TR_MAX_VISITS 64

typedef struct {
    ks_ctx *ctx;
    const ks_trial_result *r;
    size_t na, nv, ref;
    char scale[32];
    double t[TR_MAX_VISITS];
    ks_trial_visit_stats st[TR_MAX_ARMS][TR_MAX_VISITS];
    /* derived series, [arm][visit] */
    double mean[TR_MAX_ARMS][TR_MAX_VISITS], lo[TR_MAX_ARMS][TR_MAX_VISITS],
        hi[TR_MAX_ARMS][TR_MAX_VISITS];
    double resp[TR_MAX_ARMS][TR_MAX_VISITS], rlo[TR_MAX_ARMS][TR_MAX_VISITS],
        rhi[TR_MAX_ARMS][TR_MAX_VISITS];
    double rem[TR_MAX_ARMS][TR_MAX_VISITS], mlo[TR_MAX_ARMS][TR_MAX_VISITS],
        mhi[TR_MAX_ARMS][TR_MAX_VISITS];
    /* Kaplan-Meier from the patient rows */
    int have_km;
    long n_pat[TR_MAX_ARMS];
    long resp_event[TR_MAX_ARMS][TR_MAX_VISITS], resp_cens[TR_MAX_ARMS][TR_MAX_VISITS];
    long rel_event[TR_MAX_ARMS][TR_MAX_VISITS][TR_MAX_VISITS];
    long rel_cens[TR_MAX_ARMS][TR_MAX_VISITS][TR_MAX_VISITS];
    double km_t[TR_MAX_ARMS][TR_MAX_VISITS + 1], km_s[TR_MAX_ARMS][TR_MAX_VISITS + 1];
    size_t km_n[TR_MAX_ARMS];
    double rel_t[TR_MAX_ARMS][TR_MAX_VISITS * TR_MAX_VISITS + 1];
    double rel_s[TR_MAX_ARMS][TR_MAX_VISITS * TR_MAX_VISITS + 1];
    size_t rel_n[TR_MAX_ARMS];
    long n_responders[TR_MAX_ARMS];
    char arm_label[TR_MAX_ARMS][96];
} tr_view;

static int visit_of(const tr_view *v, double t)
{
    for (size_t k = 0; k < v->nv; k++)
        if (fabs(v->t[k] - t) <= 1e-6 * fmax(1.0, fabs(t)))
            return (int)k;
    return -1;
}

/* Response as the trial counts it (trial_run.c; MODEL.md 8): fall from the observed baseline
 * of at least response_fraction of it, with a positive baseline. */
static int responds(const tr_view *v, double base, double obs)
{
    return base > 0 && base - obs >= v->r->response_fraction * base;
}

/* One patient's visits (observed scores by visit index, NaN when absent) into the counts. */
static void tally(tr_view *v, int arm, const double *obs)
{
    if (!isfinite(obs[0]))
        return;
    int last = -1, first_resp = -1;
    for (size_t k = 1; k < v->nv; k++)
        if (isfinite(obs[k]))
            last = (int)k;
    if (last < 0)
        return;
    v->n_pat[arm]++;
    for (int k = 1; k <= last; k++)
        if (isfinite(obs[k]) && responds(v, obs[0], obs[k])) {
            first_resp = k;
            break;
        }
    if (first_resp < 0) {
        v->resp_cens[arm][last]++;
        return;
    }
    v->resp_event[arm][first_resp]++;
    v->n_responders[arm]++;
    for (int k = first_resp + 1; k <= last; k++)
        if (isfinite(obs[k]) && !responds(v, obs[0], obs[k])) {
            v->rel_event[arm][first_resp][k]++;
            return;
        }
    v->rel_cens[arm][first_resp][last]++;
}

/* Reads the per-patient rows (arm,patient,key,visit,time_h,true_S,observed_S) and fills the
 * Kaplan-Meier counts. Rows of one (arm, patient) are consecutive in the file. */
static void read_patients(tr_view *v, const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    char line[1024], cur_arm[sizeof line] = "";
    long cur_pat = -1;
    int arm = -1;
    double obs[TR_MAX_VISITS];
    for (size_t k = 0; k < TR_MAX_VISITS; k++)
        obs[k] = NAN;
    int header = 1, ok = 1;
    while (fgets(line, sizeof line, fp)) {
        if (header) {
            header = 0;
            ok = strncmp(line, "arm,patient,", 12) == 0;
            if (!ok)
                break;
            continue;
        }
        char *f[8];
        size_t nf = 0;
        char *p = line;
        while (nf < 8) {
            f[nf++] = p;
            char *c = strchr(p, ',');
            if (!c)
                break;
            *c = '\0';
            p = c + 1;
        }
        if (nf != 7)
            continue;
        long pat = strtol(f[1], NULL, 10);
        if (strcmp(f[0], cur_arm) != 0 || pat != cur_pat) {
            if (arm >= 0)
                tally(v, arm, obs);
            for (size_t k = 0; k < TR_MAX_VISITS; k++)
                obs[k] = NAN;
            memcpy(cur_arm, f[0], strlen(f[0]) + 1); /* f[0] lies inside line: it fits */
            cur_pat = pat;
            arm = -1;
            for (size_t a = 0; a < v->na; a++)
                if (strcmp(ks_trial_result_arm_name(v->r, a), f[0]) == 0)
                    arm = (int)a;
        }
        int k = visit_of(v, strtod(f[4], NULL));
        double o = strtod(f[6], NULL);
        if (k >= 0 && isfinite(o))
            obs[k] = o;
    }
    if (ok && arm >= 0)
        tally(v, arm, obs);
    fclose(fp);
    if (!ok)
        return;
    /* Kaplan-Meier (Kaplan & Meier 1958): S(t) = prod over event times t_i <= t of
     * (1 - d_i / n_i), n_i at risk just before t_i; censoring after the events at the same
     * time. */
    for (size_t a = 0; a < v->na; a++) {
        if (v->n_pat[a] == 0)
            continue;
        v->have_km = 1;
        double s = 1.0;
        long at_risk = v->n_pat[a];
        size_t n = 0;
        v->km_t[a][n] = v->t[0];
        v->km_s[a][n++] = 1.0;
        for (size_t k = 1; k < v->nv; k++) {
            if (at_risk > 0)
                s *= 1.0 - (double)v->resp_event[a][k] / (double)at_risk;
            at_risk -= v->resp_event[a][k] + v->resp_cens[a][k];
            v->km_t[a][n] = v->t[k];
            v->km_s[a][n++] = s;
        }
        v->km_n[a] = n;
        /* how long responders keep the response: durations t[k2] - t[k1] */
        double dur[TR_MAX_VISITS * TR_MAX_VISITS];
        size_t nd = 0;
        for (size_t k1 = 1; k1 < v->nv; k1++)
            for (size_t k2 = k1 + 1; k2 < v->nv; k2++)
                if (v->rel_event[a][k1][k2] + v->rel_cens[a][k1][k2] > 0)
                    dur[nd++] = v->t[k2] - v->t[k1];
        /* sort unique */
        for (size_t i = 1; i < nd; i++)
            for (size_t j = i; j > 0 && dur[j - 1] > dur[j]; j--) {
                double tmp = dur[j];
                dur[j] = dur[j - 1];
                dur[j - 1] = tmp;
            }
        at_risk = v->n_responders[a];
        s = 1.0;
        n = 0;
        v->rel_t[a][n] = 0;
        v->rel_s[a][n++] = 1.0;
        for (size_t i = 0; i < nd; i++) {
            if (i > 0 && fabs(dur[i] - dur[i - 1]) < 1e-9)
                continue;
            long d = 0, c = 0;
            for (size_t k1 = 1; k1 < v->nv; k1++)
                for (size_t k2 = k1 + 1; k2 < v->nv; k2++)
                    if (fabs(v->t[k2] - v->t[k1] - dur[i]) < 1e-9) {
                        d += v->rel_event[a][k1][k2];
                        c += v->rel_cens[a][k1][k2];
                    }
            if (at_risk > 0)
                s *= 1.0 - (double)d / (double)at_risk;
            at_risk -= d + c;
            v->rel_t[a][n] = dur[i];
            v->rel_s[a][n++] = s;
        }
        v->rel_n[a] = n;
    }
}

static ks_status tr_open(ks_ctx *ctx, const ks_trial_result *r, const char *patients, tr_view *v)
{
    memset(v, 0, sizeof *v);
    v->ctx = ctx;
    v->r = r;
    v->na = ks_trial_result_arm_count(r);
    v->nv = ks_trial_result_visit_count(r);
    v->ref = ks_trial_result_reference_arm(r);
    if (v->na == 0 || v->na > TR_MAX_ARMS || v->nv < 2 || v->nv > TR_MAX_VISITS)
        return ks_fail(ctx, KS_ERR_INPUT,
                       "trial report: %zu arms and %zu visits (the report draws 1 to %d arms "
                       "and 2 to %d visits)",
                       v->na, v->nv, TR_MAX_ARMS, TR_MAX_VISITS);
    const char *sc = ks_scale_name(r->scale);
    size_t i = 0;
    for (; sc && sc[i] && i + 1 < sizeof v->scale; i++)
        v->scale[i] = (char)toupper((unsigned char)sc[i]);
    v->scale[i] = '\0';
    for (size_t k = 0; k < v->nv; k++)
        v->t[k] = ks_trial_result_visit_time_h(r, k);
    for (size_t a = 0; a < v->na; a++) {
        snprintf(v->arm_label[a], sizeof v->arm_label[a], "%s%s", ks_trial_result_arm_name(r, a),
                 a == v->ref ? " (reference)" : "");
        for (size_t k = 0; k < v->nv; k++) {
            ks_trial_visit_stats *s = &v->st[a][k];
            if (ks_trial_result_visit_stats(ctx, r, a, k, s) != KS_OK)
                return ks_ctx_status(ctx);
            v->mean[a][k] = s->mean;
            v->lo[a][k] = s->ci_low;
            v->hi[a][k] = s->ci_high;
            v->resp[a][k] = 100.0 * s->response_rate;
            v->rlo[a][k] = 100.0 * s->response_ci_low;
            v->rhi[a][k] = 100.0 * s->response_ci_high;
            v->rem[a][k] = 100.0 * s->remission_rate;
            v->mlo[a][k] = 100.0 * s->remission_ci_low;
            v->mhi[a][k] = 100.0 * s->remission_ci_high;
        }
    }
    if (patients)
        read_patients(v, patients);
    return KS_OK;
}

static void time_axis(const tr_view *v, ks_svg_figure *f, double t_last)
{
    f->xmin = 0;
    f->xmax = t_last > 0 ? t_last : 1;
    if (t_last <= 72) {
        f->x_scale = 1;
        f->xlabel = "Time since the first dose (hours)";
    } else {
        f->x_scale = 1.0 / 24.0;
        f->xlabel = "Time since the first dose (days)";
    }
    (void)v;
}

static void tr_figure(void *user, const char *name, ks_tb *out)
{
    tr_view *v = user;
    ks_svg_figure f;
    ks_svg_figure_init(&f);
    char ylab[64];
    const char *caption = "";
    if (strcmp(name, "trial-means") == 0) {
        f.id = "trial-means";
        f.title = "Mean score by arm";
        f.desc = "Mean observed score of each arm at each visit with its 95% confidence band.";
        time_axis(v, &f, v->t[v->nv - 1]);
        snprintf(ylab, sizeof ylab, "%s (points)", v->scale);
        ks_svg_panel *p = ks_svg_add_panel(&f, "Mean score (lower is better)", ylab);
        p->y_include_zero = 1;
        for (size_t a = 0; a < v->na; a++) {
            ks_svg_series *s =
                ks_svg_add_series(p, v->arm_label[a], v->t, v->mean[a], v->nv, (int)a);
            if (s) {
                s->lo = v->lo[a];
                s->hi = v->hi[a];
                s->markers = 1;
            }
        }
        if (isfinite(v->r->remission_max))
            ks_svg_add_hline(p, v->r->remission_max, "remission threshold");
        caption = "Mean observed score per arm at the rating visits (markers), with shaded 95% "
                  "confidence intervals of the mean.";
    } else if (strcmp(name, "trial-rates") == 0) {
        f.id = "trial-rates";
        f.title = "Response and remission at the visits";
        f.desc = "Percentage of responders and remitters per arm at each visit with 95% Wilson "
                 "confidence bands.";
        time_axis(v, &f, v->t[v->nv - 1]);
        ks_svg_panel *p = ks_svg_add_panel(&f, "Responders", "% of patients");
        p->ymin = 0;
        p->ymax = 100;
        ks_svg_panel *q = ks_svg_add_panel(&f, "Remitters", "% of patients");
        q->ymin = 0;
        q->ymax = 100;
        for (size_t a = 0; a < v->na; a++) {
            ks_svg_series *s =
                ks_svg_add_series(p, v->arm_label[a], v->t, v->resp[a], v->nv, (int)a);
            if (s) {
                s->lo = v->rlo[a];
                s->hi = v->rhi[a];
                s->markers = 1;
            }
            s = ks_svg_add_series(q, v->arm_label[a], v->t, v->rem[a], v->nv, (int)a);
            if (s) {
                s->lo = v->mlo[a];
                s->hi = v->mhi[a];
                s->markers = 1;
            }
        }
        caption = "Responders (score fallen by at least the trial's response fraction of the "
                  "baseline) and remitters (score at or below the remission threshold), with "
                  "95% Wilson intervals.";
    } else if (strcmp(name, "trial-km") == 0 && v->have_km) {
        f.id = "trial-km";
        f.title = "Time to first response (Kaplan-Meier)";
        f.desc = "Kaplan-Meier estimate of the percentage of patients who have not yet "
                 "responded, per arm, over the visits.";
        time_axis(v, &f, v->t[v->nv - 1]);
        ks_svg_panel *p = ks_svg_add_panel(&f, NULL, "% not yet responded");
        p->ymin = 0;
        p->ymax = 100;
        for (size_t a = 0; a < v->na; a++) {
            if (v->km_n[a] == 0)
                continue;
            ks_svg_series *s =
                ks_svg_add_series(p, v->arm_label[a], v->km_t[a], v->km_s[a], v->km_n[a], (int)a);
            if (s) {
                s->step = 1;
                s->y_scale = 100;
            }
        }
        caption = "Step curves: the Kaplan-Meier estimate of the share of patients without a "
                  "response yet; responses can only be seen at rating visits.";
    } else if (strcmp(name, "trial-relapse") == 0 && v->have_km) {
        double tmax = 0;
        for (size_t a = 0; a < v->na; a++)
            if (v->rel_n[a] > 1)
                tmax = fmax(tmax, v->rel_t[a][v->rel_n[a] - 1]);
        if (!(tmax > 0))
            return;
        f.id = "trial-relapse";
        f.title = "How long responders kept their response (Kaplan-Meier)";
        f.desc = "Kaplan-Meier estimate of the percentage of responders still responding, by "
                 "time since their first response.";
        time_axis(v, &f, tmax);
        f.xlabel =
            tmax <= 72 ? "Time since first response (hours)" : "Time since first response (days)";
        ks_svg_panel *p = ks_svg_add_panel(&f, NULL, "% still responding");
        p->ymin = 0;
        p->ymax = 100;
        for (size_t a = 0; a < v->na; a++) {
            if (v->rel_n[a] < 2)
                continue;
            ks_svg_series *s = ks_svg_add_series(p, v->arm_label[a], v->rel_t[a], v->rel_s[a],
                                                 v->rel_n[a], (int)a);
            if (s) {
                s->step = 1;
                s->y_scale = 100;
            }
        }
        if (p->n_series == 0)
            return;
        caption = "Among the responders of each arm: the Kaplan-Meier estimate of the share "
                  "still responding at later visits (response lost = score no longer fallen "
                  "by the response fraction).";
    } else {
        return;
    }
    rpt_html_figure(&f, caption, out);
}

/* ---- text ---------------------------------------------------------------------------- */

static const char *pct(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.0f%%", v);
    return buf;
}

static void tr_narrative(tr_view *v, ks_tb *out)
{
    const ks_trial_result *r = v->r;
    char a1[32], a2[32], a3[32];
    size_t scr = 0, inc = 0;
    ks_trial_result_screening(r, &scr, &inc);
    ks_tb_puts(out, "## What was simulated\n\n");
    ks_tb_printf(out,
                 "This virtual trial (\"%s\", %s design) gave %ld virtual patients per arm one "
                 "of %zu treatments: ",
                 r->name ? r->name : "trial", ks_design_name(r->design),
                 ks_trial_result_n_per_arm(r), v->na);
    for (size_t a = 0; a < v->na; a++)
        ks_tb_printf(out, "%s%s", a == 0 ? "" : a + 1 == v->na ? " and " : ", ", v->arm_label[a]);
    ks_tb_printf(out, ". %zu candidates were screened and %zu included. The %s was rated at ", scr,
                 inc, v->scale);
    for (size_t k = 0; k < v->nv; k++)
        ks_tb_printf(out, "%s%s",
                     k == 0           ? ""
                     : k + 1 == v->nv ? " and "
                                      : ", ",
                     ks_trial_result_visit_label(r, k));
    ks_tb_puts(out, ". These are simulated patients, not the results of a real trial.\n\n");

    ks_tb_puts(out, "## The score over time\n\n@figure trial-means\n\n");
    for (size_t a = 0; a < v->na; a++)
        ks_tb_printf(out, "- %s: mean %s %.1f at baseline, %.1f at %s\n", v->arm_label[a], v->scale,
                     v->mean[a][0], v->mean[a][v->nv - 1],
                     ks_trial_result_visit_label(r, v->nv - 1));
    ks_tb_puts(out, "\n");
    for (size_t a = 0; a < v->na; a++) {
        if (a == v->ref)
            continue;
        size_t best = 0;
        double best_abs = -1;
        char sig[512] = "";
        size_t nsig = 0;
        for (size_t k = 1; k < v->nv; k++) {
            ks_trial_contrast c;
            if (ks_trial_result_contrast(v->ctx, r, a, k, &c) != KS_OK) {
                ks_ctx_clear(v->ctx);
                continue;
            }
            if (fabs(c.diff) > best_abs) {
                best_abs = fabs(c.diff);
                best = k;
            }
            if (c.p_value < 0.05 && strlen(sig) + 40 < sizeof sig) {
                strcat(sig, nsig ? ", " : "");
                strcat(sig, ks_trial_result_visit_label(r, k));
                nsig++;
            }
        }
        ks_trial_contrast c;
        if (best > 0 && ks_trial_result_contrast(v->ctx, r, a, best, &c) == KS_OK) {
            ks_tb_printf(out,
                         "Compared with %s, the change from baseline in the %s arm differed "
                         "most at %s: %+.1f points (95%% CI %+.1f to %+.1f, p = %.2g). ",
                         ks_trial_result_arm_name(r, v->ref), ks_trial_result_arm_name(r, a),
                         ks_trial_result_visit_label(r, best), c.diff, c.ci_low, c.ci_high,
                         c.p_value);
        }
        if (nsig > 0)
            ks_tb_printf(out, "The difference was statistically clear (p < 0.05) at %s.\n\n", sig);
        else
            ks_tb_puts(out, "The difference was not statistically clear (p < 0.05) at any "
                            "visit.\n\n");
    }

    ks_tb_puts(out, "## Response and remission\n\n@figure trial-rates\n\n");
    ks_tb_printf(out,
                 "A response is a fall of the %s by at least %.0f%% of its baseline value; "
                 "remission is a score of %.0f or less. Responders at each visit (95%% "
                 "confidence interval):\n\n",
                 v->scale, 100.0 * r->response_fraction, r->remission_max);
    for (size_t k = 1; k < v->nv; k++) {
        ks_tb_printf(out, "- %s:", ks_trial_result_visit_label(r, k));
        for (size_t a = 0; a < v->na; a++)
            ks_tb_printf(out, "%s %s %s (%s to %s)", a ? ";" : "", ks_trial_result_arm_name(r, a),
                         pct(a1, sizeof a1, v->resp[a][k]), pct(a2, sizeof a2, v->rlo[a][k]),
                         pct(a3, sizeof a3, v->rhi[a][k]));
        ks_tb_puts(out, "\n");
    }
    ks_tb_puts(out, "\n");
    for (size_t a = 0; a < v->na; a++) {
        size_t kb = 1, km = 1;
        for (size_t k = 1; k < v->nv; k++) {
            if (v->resp[a][k] > v->resp[a][kb])
                kb = k;
            if (v->rem[a][k] > v->rem[a][km])
                km = k;
        }
        if (!(v->resp[a][kb] > 0)) {
            ks_tb_printf(out, "In the %s arm no patient responded at any visit. ",
                         ks_trial_result_arm_name(r, a));
            continue;
        }
        ks_tb_printf(out, "In the %s arm, response peaked at %s (%s) and remission at %s (%s). ",
                     ks_trial_result_arm_name(r, a), ks_trial_result_visit_label(r, kb),
                     pct(a1, sizeof a1, v->resp[a][kb]), ks_trial_result_visit_label(r, km),
                     pct(a2, sizeof a2, v->rem[a][km]));
    }
    ks_tb_puts(out, "\n\n");

    ks_tb_puts(out, "## How soon patients responded, and for how long\n\n");
    if (!v->have_km) {
        ks_tb_puts(out, "The per-patient rows were not available, so the report cannot draw "
                        "the Kaplan-Meier curves of the time to response and of how long "
                        "responses lasted.\n\n");
    } else {
        ks_tb_puts(out, "@figure trial-km\n\n");
        for (size_t a = 0; a < v->na; a++) {
            if (v->km_n[a] == 0)
                continue;
            const char *median = NULL;
            for (size_t i = 1; i < v->km_n[a]; i++)
                if (v->km_s[a][i] <= 0.5) {
                    median = ks_trial_result_visit_label(r, i);
                    break;
                }
            ks_tb_printf(out, "In the %s arm %ld of %ld patients responded at some visit; ",
                         ks_trial_result_arm_name(r, a), v->n_responders[a], v->n_pat[a]);
            if (median)
                ks_tb_printf(out, "half had responded by %s. ", median);
            else
                ks_tb_puts(out, "fewer than half had responded by the last visit. ");
        }
        ks_tb_puts(out, "\n\n@figure trial-relapse\n\n");
        for (size_t a = 0; a < v->na; a++) {
            if (v->rel_n[a] < 2 || v->n_responders[a] == 0)
                continue;
            size_t last = v->rel_n[a] - 1;
            double tl = v->rel_t[a][last];
            ks_tb_printf(out,
                         "Of the %ld responders in the %s arm, an estimated %s still responded "
                         "%.0f %s after their first response. ",
                         v->n_responders[a], ks_trial_result_arm_name(r, a),
                         pct(a1, sizeof a1, 100.0 * v->rel_s[a][last]), tl > 72 ? tl / 24.0 : tl,
                         tl > 72 ? "days" : "hours");
        }
        ks_tb_puts(out, "\n\n");
    }
    ks_tb_puts(out, "## What this report does not say\n\n");
    ks_tb_puts(out, "Every number here comes from virtual patients of a model; a real trial of "
                    "the same design could give different results. Confidence intervals "
                    "describe the chance variation between virtual patients, not the model's "
                    "own uncertainty.\n");
}

ks_status ks_trial_report_write_html(ks_ctx *ctx, const ks_trial_result *r, const char *dir,
                                     const char *patients_csv)
{
    if (!r || !dir)
        return ks_fail(ctx, KS_ERR_USAGE, "trial report: result and directory are required");
    tr_view *v = calloc(1, sizeof *v);
    if (!v)
        return ks_fail(ctx, KS_ERR_NOMEM, "trial report: out of memory");
    ks_tb narr, html;
    ks_tb_init(&narr);
    ks_tb_init(&html);
    ks_status st = tr_open(ctx, r, patients_csv, v);
    if (st != KS_OK)
        goto done;
    tr_narrative(v, &narr);
    char meta[256];
    snprintf(meta, sizeof meta, "ketasim %s \xc2\xb7 %s design \xc2\xb7 %ld patients per arm",
             ks_version(), ks_design_name(r->design), ks_trial_result_n_per_arm(r));
    rpt_html_begin(&html, "Virtual trial: ", r->name ? r->name : "trial", meta);
    rpt_html_text(ks_tb_str(&narr), &html, tr_figure, v);
    rpt_html_end(&html);
    if ((st = ks_tb_check(ctx, &narr)) != KS_OK || (st = ks_tb_check(ctx, &html)) != KS_OK)
        goto done;
    st = rpt_write_report(ctx, dir, &html, &narr);
done:
    ks_tb_free(&narr);
    ks_tb_free(&html);
    free(v);
    return st;
}
