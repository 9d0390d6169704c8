/*
 * narrative.c -- plain-language account of one simulated run, derived from its time courses:
 * peaks, threshold crossings, when the plasticity window opened and closed, when new spines
 * formed and faded, what further doses did, and what the score did. Every number is measured
 * on the run; the rules (thresholds, what "open" means) are in docs/REPORT.md.
 */
#include "report/report_internal.h"

#include "dose/dose.h"
#include "io/scenario_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define WHEN_MAX 128

/* A number with two or three significant digits, as people read them. */
static const char *num(char *buf, size_t size, double v)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(buf, size, "n/a");
    else if (a >= 10 || a == 0)
        snprintf(buf, size, "%.0f", v);
    else if (a >= 1)
        snprintf(buf, size, "%.1f", v);
    else
        snprintf(buf, size, "%.2f", v);
    return buf;
}

static const char *drug_label(int drug)
{
    switch ((ks_drug)drug) {
    case KS_DRUG_KETAMINE:
        return "racemic ketamine";
    case KS_DRUG_ESKETAMINE:
        return "esketamine";
    case KS_DRUG_ARKETAMINE:
        return "arketamine";
    default:
        return ks_drug_name((ks_drug)drug);
    }
}

static const char *route_phrase(int route)
{
    switch ((ks_route)route) {
    case KS_ROUTE_IV_INFUSION:
        return "as an intravenous infusion";
    case KS_ROUTE_IV_BOLUS:
        return "as an intravenous injection";
    case KS_ROUTE_INTRANASAL:
        return "as a nasal spray";
    case KS_ROUTE_ORAL:
        return "by mouth";
    case KS_ROUTE_IM:
        return "as an intramuscular injection";
    case KS_ROUTE_SUBLINGUAL:
        return "under the tongue";
    default:
        return "";
    }
}

static void day_time(char *buf, size_t size, double t)
{
    double day = floor(t / 24.0 + 1e-9);
    double h = t - 24.0 * day;
    int hh = (int)floor(h + 1e-9);
    int mm = (int)lround((h - hh) * 60.0);
    if (mm == 60) {
        hh++;
        mm = 0;
    }
    snprintf(buf, size, "day %.0f at %02d:%02d", day, hh, mm);
}

/* ---- What was simulated -------------------------------------------------------------- */

static void section_setup(rpt_run *run, ks_tb *out)
{
    char a[64], b[64];
    ks_tb_puts(out, "## What was simulated\n\n");
    const char *name = run->scenario ? ks_scenario_name(run->scenario) : NULL;
    ks_tb_printf(out, "This report follows one simulated person through %s%s%s over %s days.",
                 name ? "the scenario \"" : "a simulation", name ? name : "", name ? "\"" : "",
                 num(a, sizeof a, (run->t_end - run->t[0]) / 24.0));
    if (run->scenario && run->subject < run->scenario->n_subjects) {
        const ks_patient *p = &run->scenario->subjects[run->subject].patient;
        static const char *const bdnf[] = {"Val/Val", "Val/Met", "Met/Met"};
        ks_tb_printf(out, " The simulated person: %s kg, %s years, %s, BDNF %s.",
                     num(a, sizeof a, p->weight_kg), num(b, sizeof b, p->age_y),
                     p->sex == KS_SEX_FEMALE ? "female" : "male",
                     (unsigned)p->bdnf < 3 ? bdnf[p->bdnf] : "?");
    }
    ks_tb_puts(out, "\n\n");
    if (!run->scenario) {
        ks_tb_puts(out, "The doses are not known to this report, so times are counted from the "
                        "start of the simulation.\n\n");
    } else if (run->n_sessions == 0) {
        ks_tb_puts(out, "No drug was given in this scenario.\n\n");
    } else {
        ks_tb_puts(out, "Treatment in the scenario:\n\n");
        size_t shown = run->n_sessions < 12 ? run->n_sessions : 12;
        for (size_t k = 0; k < shown; k++) {
            const rpt_session *s = &run->sessions[k];
            char when[48];
            day_time(when, sizeof when, s->t_start);
            ks_tb_printf(out, "- %s %s mg %s", drug_label(s->drug), num(a, sizeof a, s->amount_mg),
                         route_phrase(s->route));
            if (s->t_end > s->t_start)
                ks_tb_printf(out, " over %.0f minutes", (s->t_end - s->t_start) * 60.0);
            ks_tb_printf(out, ", starting %s (hour %s)\n", when, num(b, sizeof b, s->t_start));
        }
        if (run->n_sessions + run->n_truncated > shown) {
            const rpt_session *last = &run->sessions[run->n_sessions - 1];
            char when[48];
            day_time(when, sizeof when, last->t_start);
            ks_tb_printf(out, "- and %zu more, the last starting %s\n",
                         run->n_sessions + run->n_truncated - shown, when);
        }
        ks_tb_puts(out, "\n");
    }
    if (run->n_therapy > 0) {
        ks_tb_printf(out, "Integration (therapy) sessions: %zu, on ", run->n_therapy);
        for (size_t k = 0; k < run->n_therapy; k++) {
            char when[48];
            day_time(when, sizeof when, run->therapy_times[k]);
            ks_tb_printf(out, "%s%s", k == 0 ? "" : k + 1 == run->n_therapy ? " and " : ", ", when);
        }
        ks_tb_puts(out, ".\n\n");
    }
}

/* ---- Drug levels --------------------------------------------------------------------- */

typedef struct {
    const char *plasma, *brain, *label;
} pk_species;

static const pk_species k_pk[] = {
    {"plasma_ketamine_total", "brain_ketamine_total", "ketamine"},
    {"plasma_norketamine_total", NULL, "norketamine (its first breakdown product)"},
    {"plasma_escitalopram", NULL, "escitalopram"},
    {"plasma_citalopram", NULL, "citalopram"},
    {"plasma_midazolam", NULL, "midazolam"},
    {"plasma_naltrexone", NULL, "naltrexone"},
    {"blood_rapamycin", NULL, "rapamycin (in blood)"},
};

static void section_pk(rpt_run *run, ks_tb *out)
{
    char a[64], w1[WHEN_MAX], w2[WHEN_MAX];
    int any = 0;
    ks_tb_puts(out, "@figure pk\n\n");
    const rpt_session *first = rpt_first_session(run);
    double t0 = first ? first->t_start : run->t[0];
    double t1 = first ? first->t_end + 24.0 : run->t_end;
    for (size_t k = 0; k < sizeof k_pk / sizeof k_pk[0]; k++) {
        if (!rpt_nonzero(run, k_pk[k].plasma))
            continue;
        const double *y = rpt_series(run, k_pk[k].plasma);
        int found;
        /* Ketamine-type species: the first dose; others (daily tablets): the whole run. */
        int acute = first && first->rapid && k < 2;
        size_t i = rpt_argmax(run, y, acute ? t0 : -INFINITY, acute ? t1 : INFINITY, &found);
        if (!found || !(y[i] > 0))
            continue;
        rpt_when(run, run->t[i], w1, sizeof w1);
        ks_tb_printf(out, "The blood level of %s peaked at %s ng/mL %s", k_pk[k].label,
                     num(a, sizeof a, y[i]), w1);
        double th = rpt_cross(run, y, run->t[i], 0.5 * y[i], 0);
        if (acute && isfinite(th)) {
            rpt_when(run, th, w2, sizeof w2);
            ks_tb_printf(out, " and had halved %s", w2);
        }
        ks_tb_puts(out, ".");
        if (k_pk[k].brain && rpt_series(run, k_pk[k].brain)) {
            const double *yb = rpt_series(run, k_pk[k].brain);
            size_t ib = rpt_argmax(run, yb, acute ? t0 : -INFINITY, acute ? t1 : INFINITY, &found);
            if (found && yb[ib] > 0) {
                rpt_when(run, run->t[ib], w2, sizeof w2);
                ks_tb_printf(out,
                             " At its site of action in the brain the level followed with a "
                             "short delay and peaked %s.",
                             w2);
            }
        }
        ks_tb_puts(out, " ");
        any = 1;
    }
    if (any)
        ks_tb_puts(out, "\n\n");
    else
        ks_tb_puts(out, "No drug level rose above zero in this run.\n\n");
}

/* ---- The first hours ----------------------------------------------------------------- */

static void section_acute(rpt_run *run, ks_tb *out)
{
    char a[64], b[64], w1[WHEN_MAX], w2[WHEN_MAX];
    static const char *const names[] = {"nmda_block_interneuron", "glutamate_change_pct",
                                        "bdnf_released",          "mtorc1_activity",
                                        "synaptic_protein",       "cadss"};
    int have = 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (rpt_series(run, names[k]))
            have = 1;
    if (!have)
        return;
    ks_tb_puts(out, "## The first hours: from receptor block to growth signals\n\n");
    const rpt_session *first = rpt_first_session(run);
    if (!first || !first->rapid) {
        ks_tb_puts(out, "No ketamine, esketamine or arketamine was given in this scenario, so "
                        "there was no fast chain of receptor block, glutamate surge and growth "
                        "signals to describe.\n\n");
        return;
    }
    ks_tb_puts(out, "@figure cascade\n\n");
    double t0 = first->t_start, t1 = first->t_end + 8.0;
    int found;
    const double *bi = rpt_series(run, "nmda_block_interneuron");
    const double *bp = rpt_series(run, "nmda_block_pyramidal");
    if (bi) {
        size_t i = rpt_argmax(run, bi, t0, t1, &found);
        if (found) {
            rpt_when(run, run->t[i], w1, sizeof w1);
            ks_tb_printf(out,
                         "Ketamine works first by blocking NMDA receptors. At its strongest "
                         "the drug blocked %s%% of these receptors on the brain's inhibitory "
                         "\"brake\" cells (interneurons), %s",
                         num(a, sizeof a, 100.0 * bi[i]), w1);
            size_t j = rpt_argmax(run, bp, t0, t1, &found);
            if (bp && found) {
                rpt_when(run, run->t[j], w2, sizeof w2);
                ks_tb_printf(out, ", but only %s%% on the main (pyramidal) nerve cells (%s)",
                             num(b, sizeof b, 100.0 * bp[j]), w2);
            }
            ks_tb_puts(out, ". ");
        }
    }
    const double *g = rpt_series(run, "glutamate_change_pct");
    if (g) {
        size_t i = rpt_argmax(run, g, t0, t1, &found);
        if (found && g[i] >= 1.0) {
            rpt_when(run, run->t[i], w1, sizeof w1);
            ks_tb_printf(out,
                         "With the brakes eased, the main cells released more of the "
                         "messenger glutamate: glutamate peaked %s%% above its usual level %s",
                         num(a, sizeof a, g[i]), w1);
            double back = rpt_cross(run, g, run->t[i], 5.0, 0);
            if (isfinite(back)) {
                rpt_when(run, back, w2, sizeof w2);
                ks_tb_printf(out, " and was back within 5%% of usual %s. ", w2);
            } else {
                ks_tb_puts(out, " and had not come back within 5% of usual by the end. ");
            }
        } else if (found) {
            size_t j = rpt_argmin(run, g, t0, t1, &found);
            ks_tb_printf(out,
                         "Glutamate hardly rose (at most %s%% above usual; lowest %s%%), so the "
                         "surge that starts the chain was small. ",
                         num(a, sizeof a, g[i]), num(b, sizeof b, g[j]));
        }
    }
    const double *c = rpt_series(run, "cadss");
    if (c) {
        size_t i = rpt_argmax(run, c, t0, t1, &found);
        if (found && c[i] >= 0.5) {
            rpt_when(run, run->t[i], w1, sizeof w1);
            ks_tb_printf(out,
                         "The dreamlike, detached feeling (dissociation) was strongest %s, at "
                         "%s points on the CADSS scale",
                         w1, num(a, sizeof a, c[i]));
            double f = rpt_cross(run, c, run->t[i], 0.1 * c[i], 0);
            if (isfinite(f)) {
                rpt_when(run, f, w2, sizeof w2);
                ks_tb_printf(out, ", and had faded to a tenth of that %s", w2);
            }
            ks_tb_puts(out, ". ");
        } else if (found) {
            ks_tb_printf(out, "There was almost no dissociation (at most %s CADSS points). ",
                         num(a, sizeof a, c[i]));
        }
    }
    ks_tb_puts(out, "\n\n");
    const double *bd = rpt_series(run, "bdnf_released");
    if (bd) {
        size_t i = rpt_argmax(run, bd, t0, t1, &found);
        if (found) {
            rpt_when(run, run->t[i], w1, sizeof w1);
            ks_tb_printf(out,
                         "The glutamate surge released the growth factor BDNF at the "
                         "synapses: it rose to %s times its usual level, highest %s. ",
                         num(a, sizeof a, bd[i]), w1);
        }
    }
    const double *m = rpt_series(run, "mtorc1_activity");
    if (m) {
        size_t i = rpt_argmax(run, m, t0, t1, &found);
        if (found) {
            rpt_when(run, run->t[i], w1, sizeof w1);
            ks_tb_printf(out,
                         "BDNF switches on mTORC1, the cell's protein-building switch, which was "
                         "most active %s (%s times usual)",
                         w1, num(a, sizeof a, m[i]));
            double back = rpt_cross(run, m, run->t[i], 1.10, 0);
            if (isfinite(back) && m[i] > 1.10) {
                rpt_when(run, back, w2, sizeof w2);
                ks_tb_printf(out, " and back within 10%% of usual %s", w2);
            }
            ks_tb_puts(out, ". ");
        }
    }
    const double *p = rpt_series(run, "synaptic_protein");
    if (p) {
        double up = rpt_cross(run, p, t0, 1.10, 1);
        size_t i = rpt_argmax(run, p, t0, run->t_end, &found);
        if (isfinite(up)) {
            rpt_when_bare(run, up, w1, sizeof w1);
            double down = rpt_cross(run, p, up, 1.10 - 1e-9, 0);
            ks_tb_printf(out,
                         "The building blocks of synapses (synaptic proteins) were more than "
                         "10%% above usual from %s",
                         w1);
            if (isfinite(down)) {
                rpt_when_bare(run, down, w2, sizeof w2);
                ks_tb_printf(out, " until %s", w2);
            } else {
                ks_tb_puts(out, " to the end of the simulation");
            }
            ks_tb_printf(out, ", at most +%s%%. ", num(a, sizeof a, 100.0 * (p[i] - 1.0)));
        } else if (found) {
            ks_tb_printf(out,
                         "Synaptic proteins rose by at most %s%%, less than the 10%% this "
                         "report counts as a clear rise. ",
                         num(a, sizeof a, 100.0 * (p[i] - 1.0)));
        }
    }
    ks_tb_puts(out, "\n\n");
}

/* ---- Days: window and spines --------------------------------------------------------- */

/* Appends a compressed list of day numbers: "day 1 to day 4, day 8". */
static void day_list(ks_tb *out, const int *days, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && days[j + 1] == days[j] + 1)
            j++;
        if (i > 0)
            ks_tb_puts(out, ", ");
        if (j == i)
            ks_tb_printf(out, "day %d", days[i]);
        else
            ks_tb_printf(out, "day %d to day %d", days[i], days[j]);
        i = j + 1;
    }
}

static void section_days(rpt_run *run, ks_tb *out)
{
    char a[64], b[64], c[64], w1[WHEN_MAX], w2[WHEN_MAX];
    const double *w = rpt_series(run, "plasticity_window");
    const double *lab = rpt_series(run, "spines_labile");
    const double *st = rpt_series(run, "spines_stable");
    const double *tot = rpt_series(run, "spines_total");
    const double *form = rpt_series(run, "spine_formation_rate");
    if (!w && !lab && !st && !tot)
        return;
    ks_tb_puts(out, "## The days after: the plasticity window and new connections\n\n");
    ks_tb_puts(out, "@figure spines\n\n");
    const rpt_session *first = rpt_first_session(run);
    double t0 = first ? first->t_start : run->t[0];
    int found;
    if (w) {
        size_t ip = rpt_argmax(run, w, -INFINITY, INFINITY, &found);
        double level = rpt_window_level(run);
        ks_tb_puts(out, "The synaptic proteins open a \"plasticity window\": a time in which "
                        "the brain can rewire more easily, like fresh snow on which new paths "
                        "can be made. ");
        if (!isfinite(level)) {
            ks_tb_printf(out,
                         "In this run the window hardly opened (largest openness %s on a scale "
                         "from 0 to 1).\n\n",
                         found ? num(a, sizeof a, w[ip]) : "n/a");
        } else {
            double ia[64], ib[64];
            size_t n = rpt_intervals(run, w, level, ia, ib, 64);
            rpt_when(run, run->t[ip], w1, sizeof w1);
            ks_tb_printf(out,
                         "It was widest %s (openness %s of 1); this report counts it as open "
                         "while it is at least half as wide (%s). ",
                         w1, num(a, sizeof a, w[ip]), num(b, sizeof b, level));
            size_t shown = n < 6 ? n : 6;
            for (size_t k = 0; k < shown; k++) {
                rpt_when(run, ia[k], w1, sizeof w1);
                if (ib[k] >= run->t_end - 1e-9) {
                    ks_tb_printf(out,
                                 "%s opened %s and was still open at the end of the "
                                 "simulation. ",
                                 k == 0 ? "It" : "It then", w1);
                } else {
                    rpt_when(run, ib[k], w2, sizeof w2);
                    ks_tb_printf(out, "%s opened %s and closed %s. ", k == 0 ? "It" : "It again",
                                 w1, w2);
                }
            }
            if (n > shown)
                ks_tb_printf(out, "(%zu further openings are shown in the figure.) ", n - shown);
            /* Days with the window open for at least half of the day's output times. */
            int days[512];
            size_t nd = 0;
            int last_day = (int)floor(run->t_end / 24.0 + 1e-9);
            for (int d = (int)floor(run->t[0] / 24.0); d <= last_day && nd < 512; d++) {
                size_t tot_n = 0, open_n = 0;
                for (size_t i = 0; i < run->nt; i++) {
                    if (run->t[i] < 24.0 * d || run->t[i] >= 24.0 * (d + 1))
                        continue;
                    tot_n++;
                    if (w[i] >= level)
                        open_n++;
                }
                if (tot_n >= 2 && 2 * open_n >= tot_n)
                    days[nd++] = d;
            }
            ks_tb_puts(out, "\n\n");
            if (nd > 0) {
                ks_tb_puts(out, "Days that suit integration sessions (talking through and "
                                "practising new ways of thinking and acting) in this scenario, "
                                "because the window is open for most of the day: ");
                day_list(out, days, nd);
                ks_tb_puts(out, " (day 0 is the day the simulation starts). In the model, "
                                "reinforcement while the window is open turns fragile new "
                                "connections into lasting ones.\n\n");
            } else {
                ks_tb_puts(out, "The window was never open for most of a day, so no whole day "
                                "stands out for integration sessions in this run.\n\n");
            }
        }
    }
    if (form) {
        size_t ip = rpt_argmax(run, form, t0, INFINITY, &found);
        if (found && form[ip] > 0) {
            double fa = rpt_cross(run, form, t0, 0.5 * form[ip], 1);
            double fb = rpt_cross(run, form, run->t[ip], 0.5 * form[ip], 0);
            rpt_when_bare(run, fa, w1, sizeof w1);
            ks_tb_printf(out, "New connections (dendritic spines) formed fastest from %s", w1);
            if (isfinite(fb)) {
                rpt_when_bare(run, fb, w2, sizeof w2);
                ks_tb_printf(out, " until %s", w2);
            }
            ks_tb_puts(out, ": the growth programme takes many hours to build them. ");
        }
    }
    if (lab) {
        size_t ip = rpt_argmax(run, lab, t0, INFINITY, &found);
        if (found && lab[ip] > 1e-4) {
            rpt_when(run, run->t[ip], w1, sizeof w1);
            ks_tb_printf(out,
                         "The new, still fragile spines were most numerous %s, at %s%% of a "
                         "healthy brain's spine density. ",
                         w1, num(a, sizeof a, 100.0 * lab[ip]));
            double half = rpt_cross(run, lab, run->t[ip], 0.5 * lab[ip], 0);
            if (isfinite(half)) {
                rpt_when(run, half, w2, sizeof w2);
                ks_tb_printf(out,
                             "Fragile spines fade unless they are used and reinforced: they "
                             "were down to half of that %s",
                             w2);
            } else {
                ks_tb_puts(out, "They had not yet halved by the end of the simulation");
            }
            ks_tb_printf(out, ", and %s%% were left at the end. ",
                         num(b, sizeof b, 100.0 * lab[run->nt - 1]));
        }
    }
    if (st) {
        double before = rpt_at(run, st, t0);
        size_t ip = rpt_argmax(run, st, t0, INFINITY, &found);
        if (found) {
            rpt_when(run, run->t[ip], w1, sizeof w1);
            ks_tb_printf(out,
                         "Lasting (stable) spines went from %s%% of healthy density before the "
                         "first dose to at most %s%% %s, and were %s%% at the end",
                         num(a, sizeof a, 100.0 * before), num(b, sizeof b, 100.0 * st[ip]), w1,
                         num(c, sizeof c, 100.0 * st[run->nt - 1]));
            if (tot)
                ks_tb_printf(out, "; all spines together ended at %s%%",
                             num(a, sizeof a, 100.0 * tot[run->nt - 1]));
            ks_tb_puts(out, ". ");
        }
    }
    double level = rpt_window_level(run);
    if (run->n_therapy > 0 && w && isfinite(level)) {
        size_t inside = 0;
        for (size_t k = 0; k < run->n_therapy; k++)
            if (rpt_at(run, w, run->therapy_times[k]) >= level)
                inside++;
        ks_tb_printf(out,
                     "%zu of the %zu integration sessions of this scenario fell while the window "
                     "was open, where their reinforcement counts most. ",
                     inside, run->n_therapy);
    } else if (rpt_nonzero(run, "therapy_reinforcement")) {
        ks_tb_puts(out, "The integration sessions of this scenario added reinforcement, which "
                        "counts only while the window is open. ");
    }
    ks_tb_puts(out, "\n\n");
}

/* ---- Mood ---------------------------------------------------------------------------- */

static void section_mood(rpt_run *run, ks_tb *out)
{
    char a[64], b[64], w1[WHEN_MAX], w2[WHEN_MAX];
    const double *md = rpt_series(run, "madrs_true");
    const double *m = rpt_series(run, "mood");
    if (!md && !m)
        return;
    ks_tb_puts(out, "## Mood and the depression score\n\n@figure mood\n\n");
    const rpt_session *first = rpt_first_session(run);
    double t0 = first ? first->t_start : run->t[0];
    int found;
    if (md) {
        double base = rpt_baseline_madrs(run);
        ks_tb_printf(out,
                     "Before treatment the depression score (MADRS, 0 to 60, higher is worse; "
                     "here without rating noise) was %s. ",
                     num(a, sizeof a, base));
        if (first) {
            double d1 = first->t_start + 24.0, d7 = first->t_start + 24.0 * 7;
            if (d1 <= run->t_end) {
                ks_tb_printf(out, "One day after the first dose it was %s",
                             num(a, sizeof a, rpt_at(run, md, d1)));
                if (d7 <= run->t_end)
                    ks_tb_printf(out, ", and one week after, %s",
                                 num(b, sizeof b, rpt_at(run, md, d7)));
                ks_tb_puts(out, ". ");
            }
        }
        size_t imin = rpt_argmin(run, md, t0, INFINITY, &found);
        if (found) {
            rpt_when(run, run->t[imin], w1, sizeof w1);
            ks_tb_printf(out, "It was lowest, %s, %s. ", num(a, sizeof a, md[imin]), w1);
        }
        double thr = 0.5 * base;
        double tr = rpt_cross(run, md, t0, thr, 0);
        if (isfinite(tr)) {
            rpt_when(run, tr, w1, sizeof w1);
            ks_tb_printf(out,
                         "It first fell to half of its starting value (%s) or below, which "
                         "studies call a response, %s",
                         num(a, sizeof a, thr), w1);
            double lost = rpt_cross(run, md, tr, thr + 1e-6, 1);
            /* the crossing itself may sit on the threshold: look for a clear rise */
            if (isfinite(lost) && lost - tr > 1e-6) {
                rpt_when(run, lost, w2, sizeof w2);
                ks_tb_printf(out, "; the response was lost again %s. ", w2);
            } else {
                ks_tb_puts(out, ", and it was still held at the end of the simulation. ");
            }
        } else {
            ks_tb_printf(out,
                         "It never fell to half of its starting value (%s), so in this run "
                         "there was no response. ",
                         num(a, sizeof a, thr));
        }
        double trem = rpt_cross(run, md, t0, RPT_REMISSION_MADRS, 0);
        if (isfinite(trem)) {
            rpt_when(run, trem, w1, sizeof w1);
            ks_tb_printf(out, "It reached remission (10 or less) %s. ", w1);
        } else {
            ks_tb_puts(out, "It did not reach remission (10 or less). ");
        }
        ks_tb_printf(out, "At the end of the simulation (day %.0f) it was %s.\n\n",
                     floor(run->t_end / 24.0 + 1e-9), num(a, sizeof a, md[run->nt - 1]));
    }
    if (m) {
        ks_tb_puts(out, "The model pictures mood as a ball in one of two valleys, a depressed "
                        "one and a well one, with a ridge between them; habits deepen the "
                        "depressed valley like a well-trodden path. ");
        double up = rpt_cross(run, m, t0, 0.0, 1);
        if (m[0] >= 0 && rpt_at(run, m, t0) >= 0) {
            ks_tb_puts(out, "In this run mood started on the well side. ");
            double down = rpt_cross(run, m, t0, 0.0, 0);
            if (isfinite(down)) {
                rpt_when(run, down, w1, sizeof w1);
                ks_tb_printf(out, "It slipped over to the depressed side %s. ", w1);
            }
        } else if (isfinite(up)) {
            rpt_when(run, up, w1, sizeof w1);
            ks_tb_printf(out, "In this run mood crossed the ridge to the well side %s", w1);
            double down = rpt_cross(run, m, up + 1e-6, -1e-6, 0);
            if (isfinite(down)) {
                rpt_when(run, down, w2, sizeof w2);
                ks_tb_printf(out, " and rolled back to the depressed side %s. ", w2);
            } else {
                ks_tb_puts(out, " and stayed there to the end of the simulation. ");
            }
        } else {
            ks_tb_puts(out, "In this run mood stayed on the depressed side of the ridge. ");
        }
        ks_tb_puts(out, "\n\n");
    }
}

/* ---- Further doses ------------------------------------------------------------------- */

static void section_repeat(rpt_run *run, ks_tb *out)
{
    char a[64], b[64], c[64], w1[WHEN_MAX];
    ks_tb_puts(out, "## Further doses and maintenance\n\n");
    if (run->n_rapid < 2) {
        if (run->n_rapid == 1)
            ks_tb_puts(out, "This scenario has a single ketamine-type dose, so this report "
                            "cannot show what a further dose or maintenance treatment would "
                            "do. A scenario with repeated doses (for example "
                            "examples/scenarios/ketamine_course_weekdays.json) shows it.\n\n");
        else
            ks_tb_puts(out, "This scenario has no ketamine-type dose, so there is nothing to "
                            "say here about repeated doses.\n\n");
        return;
    }
    const double *w = rpt_series(run, "plasticity_window");
    const double *md = rpt_series(run, "madrs_true");
    const double *st = rpt_series(run, "spines_stable");
    ks_tb_printf(out,
                 "This scenario has %zu ketamine-type sessions. Each new dose restarts the "
                 "chain above. What each one found and did:\n\n",
                 run->n_rapid);
    size_t shown = 0, idx = 0;
    size_t rapid_idx[RPT_MAX_SESSIONS];
    for (size_t k = 0; k < run->n_sessions; k++)
        if (run->sessions[k].rapid)
            rapid_idx[idx++] = k;
    for (size_t q = 0; q < idx && shown < 12; q++, shown++) {
        const rpt_session *s = &run->sessions[rapid_idx[q]];
        double next = q + 1 < idx ? run->sessions[rapid_idx[q + 1]].t_start : run->t_end;
        char when[48];
        day_time(when, sizeof when, s->t_start);
        ks_tb_printf(out, "- dose %zu (%s):", q + 1, when);
        if (md)
            ks_tb_printf(out, " MADRS %s just before",
                         num(a, sizeof a, rpt_at(run, md, s->t_start)));
        if (w) {
            int found;
            size_t i = rpt_argmax(run, w, s->t_start, next, &found);
            if (found)
                ks_tb_printf(out, "%s window %s to %s", md ? ";" : "",
                             q == 0 ? "opened" : "reopened", num(b, sizeof b, w[i]));
        }
        if (st)
            ks_tb_printf(out, "%s stable spines %s%% of healthy density %s", (md || w) ? ";" : "",
                         num(c, sizeof c, 100.0 * rpt_at(run, st, next)),
                         q + 1 < idx ? "before the next dose" : "at the end of the simulation");
        ks_tb_puts(out, "\n");
    }
    if (idx > shown)
        ks_tb_printf(out, "- and %zu more (see the figures)\n", idx - shown);
    ks_tb_puts(out, "\n");
    const rpt_session *last = &run->sessions[rapid_idx[idx - 1]];
    const rpt_session *first = &run->sessions[rapid_idx[0]];
    if (st) {
        ks_tb_printf(out,
                     "Over the course, stable spines went from %s%% before the first dose to "
                     "%s%% at the last dose and %s%% at the end of the simulation. ",
                     num(a, sizeof a, 100.0 * rpt_at(run, st, first->t_start)),
                     num(b, sizeof b, 100.0 * rpt_at(run, st, last->t_start)),
                     num(c, sizeof c, 100.0 * st[run->nt - 1]));
    }
    if (md) {
        double base = rpt_baseline_madrs(run);
        double tl = rpt_cross(run, md, last->t_end, 0.5 * base + 1e-6, 1);
        double at_last = rpt_at(run, md, last->t_start);
        ks_tb_printf(out, "MADRS was %s before the last dose", num(a, sizeof a, at_last));
        if (at_last <= 0.5 * base && isfinite(tl)) {
            rpt_when(run, tl, w1, sizeof w1);
            ks_tb_printf(out,
                         "; without further doses the response was lost %s, which is what "
                         "maintenance treatment aims to prevent. ",
                         w1);
        } else if (at_last <= 0.5 * base) {
            ks_tb_puts(out, "; the response held to the end of the simulation without further "
                            "doses. ");
        } else {
            ks_tb_puts(out, ". ");
        }
    }
    ks_tb_puts(out, "\n\n");
}

/* ---- Limits -------------------------------------------------------------------------- */

static void section_missing(rpt_run *run, ks_tb *out)
{
    static const struct {
        const char *name, *what;
    } groups[] = {
        {"nmda_block_interneuron", "NMDA receptor block"},
        {"glutamate_change_pct", "the glutamate surge"},
        {"bdnf_released", "BDNF release"},
        {"mtorc1_activity", "mTORC1 activity"},
        {"synaptic_protein", "synaptic proteins"},
        {"plasticity_window", "the plasticity window (and the days that suit integration)"},
        {"spines_labile", "new (labile) spines"},
        {"spines_stable", "stable spines"},
        {"madrs_true", "the depression score (MADRS)"},
        {"mood", "the mood state"},
        {"cadss", "dissociation"},
    };
    size_t n = 0;
    for (size_t k = 0; k < sizeof groups / sizeof groups[0]; k++)
        if (!rpt_series(run, groups[k].name))
            n++;
    ks_tb_puts(out, "## What this report does not say\n\n");
    if (n > 0) {
        ks_tb_puts(out, "This run did not contain these outputs, so the report could not "
                        "describe them and leaves their figures out:\n\n");
        for (size_t k = 0; k < sizeof groups / sizeof groups[0]; k++)
            if (!rpt_series(run, groups[k].name))
                ks_tb_printf(out, "- %s (output %s)\n", groups[k].what, groups[k].name);
        ks_tb_puts(out, "\n");
    }
    ks_tb_puts(out, "The score shown is the model's noise-free MADRS; real ratings scatter "
                    "by a few points. The model simplifies the brain to one prefrontal "
                    "circuit and one typical person; real people differ widely. What the model "
                    "leaves out is listed in docs/MODEL.md, section 16.\n");
}

void rpt_narrative(rpt_run *run, ks_tb *out)
{
    section_setup(run, out);
    section_pk(run, out);
    section_acute(run, out);
    section_days(run, out);
    section_mood(run, out);
    section_repeat(run, out);
    section_missing(run, out);
}
