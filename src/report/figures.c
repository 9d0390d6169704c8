/*
 * figures.c -- the figures of a run: which outputs go into which panel, in which units, over
 * which time range. A panel whose outputs the result does not have is left out.
 */
#include "report/report_internal.h"

#include <math.h>
#include <string.h>

/* One drug species of the concentration figure; the style is fixed per species so that a
 * species has the same colour and dash in the plasma and brain panels. */
typedef struct {
    const char *plasma; /* output name in plasma (or blood) */
    const char *brain;  /* effect-site output, or NULL */
    const char *brain2; /* second effect-site output summed with the first, or NULL */
    const char *label;
    int style;
} species;

static const species k_species[] = {
    {"plasma_ketamine_total", "brain_ketamine_total", NULL, "ketamine", 0},
    {"plasma_norketamine_total", "brain_norketamine_total", NULL, "norketamine", 1},
    {"plasma_hnk_total", "brain_hnk_2s6s", "brain_hnk_2r6r", "2,6-hydroxynorketamine", 2},
    {"plasma_escitalopram", "brain_escitalopram", NULL, "escitalopram", 3},
    {"plasma_citalopram", "brain_citalopram", NULL, "citalopram", 4},
    {"plasma_midazolam", "brain_midazolam", NULL, "midazolam", 5},
    {"plasma_naltrexone", "brain_naltrexone", NULL, "naltrexone", 6},
    {"plasma_6b_naltrexol", "brain_6b_naltrexol", NULL, "6\xce\xb2-naltrexol", 7},
    {"blood_rapamycin", "brain_rapamycin", NULL, "rapamycin (blood)", 3},
};

static void set_dose_markers(const rpt_run *run, ks_svg_figure *fig)
{
    fig->vlines = run->dose_times;
    fig->n_vlines = run->n_sessions;
    fig->vline_label = "dose";
}

/* Time axis: hours over short ranges, days over long ones. */
static void set_time_axis(ks_svg_figure *fig, double t0, double t1, const rpt_session *first)
{
    fig->xmin = t0;
    fig->xmax = t1;
    if (t1 - t0 <= 72.0) {
        fig->x_scale = 1.0;
        fig->xlabel = "Time (hours from the start of the simulation)";
    } else {
        fig->x_scale = 1.0 / 24.0;
        fig->xlabel = "Time (days from the start of the simulation)";
    }
    (void)first;
}

/* Adds output `name` (scaled) to a panel when present; returns the series or NULL. */
static ks_svg_series *add_output(rpt_run *run, ks_svg_panel *p, const char *name, const char *label,
                                 double scale, int style)
{
    const double *y = rpt_series(run, name);
    if (!y || !p)
        return NULL;
    ks_svg_series *s = ks_svg_add_series(p, label, run->t, y, run->nt, style);
    if (s)
        s->y_scale = scale;
    return s;
}

static int has_any(const rpt_run *run, const char *const *names)
{
    for (; *names; names++)
        if (rpt_series(run, *names))
            return 1;
    return 0;
}

static void pk_panel(rpt_run *run, ks_svg_figure *fig, int brain)
{
    int any = 0;
    for (size_t k = 0; k < sizeof k_species / sizeof k_species[0]; k++)
        if (rpt_nonzero(run, k_species[k].plasma))
            any = 1;
    if (!any)
        return;
    ks_svg_panel *p = ks_svg_add_panel(
        fig, brain ? "Brain (effect site, plasma-equivalent)" : "Plasma", "Concentration (ng/mL)");
    if (!p)
        return;
    p->log_y = run->log_conc;
    p->y_include_zero = 1;
    for (size_t k = 0; k < sizeof k_species / sizeof k_species[0]; k++) {
        const species *sp = &k_species[k];
        if (!rpt_nonzero(run, sp->plasma))
            continue;
        if (!brain) {
            add_output(run, p, sp->plasma, sp->label, 1.0, sp->style);
            continue;
        }
        if (!sp->brain || !rpt_series(run, sp->brain))
            continue;
        const double *b2 = sp->brain2 ? rpt_series(run, sp->brain2) : NULL;
        if (!b2) {
            add_output(run, p, sp->brain, sp->label, 1.0, sp->style);
            continue;
        }
        double *sum = rpt_scratch(run);
        if (!sum)
            return;
        const double *b1 = rpt_series(run, sp->brain);
        for (size_t i = 0; i < run->nt; i++)
            sum[i] = b1[i] + b2[i];
        ks_svg_add_series(p, sp->label, run->t, sum, run->nt, sp->style);
    }
    if (p->n_series == 0)
        fig->n_panels--;
}

static void build_pk(rpt_run *run, ks_svg_figure *fig)
{
    const rpt_session *first = rpt_first_session(run);
    double t0 = run->t[0], t1 = run->t_end;
    /* One session: the first day after it, where the concentrations change. */
    if (first && run->n_sessions == 1)
        t1 = fmin(run->t_end, first->t_end + 24.0);
    fig->id = "pk";
    fig->title = "Drug levels in blood and brain";
    fig->desc = "Simulated plasma and effect-site concentrations of each drug and metabolite "
                "over time, in ng/mL; dashed grey verticals mark doses.";
    set_time_axis(fig, t0, t1, first);
    pk_panel(run, fig, 0);
    pk_panel(run, fig, 1);
}

static void build_cascade(rpt_run *run, ks_svg_figure *fig)
{
    const rpt_session *first = rpt_first_session(run);
    double t0 = first ? fmax(run->t[0], first->t_start - 0.5) : run->t[0];
    double t1 = fmin(run->t_end, (first ? first->t_end : t0) + 8.0);
    fig->id = "cascade";
    fig->title = "The first hours: receptor block, glutamate surge, growth signals";
    fig->desc = "NMDA receptor block and glutamate change in percent, released BDNF, mTORC1 "
                "activity and synaptic proteins as multiples of their usual level, and "
                "dissociation in CADSS points, over the hours after the first dose.";
    set_time_axis(fig, t0, t1, first);
    static const char *const n1[] = {"nmda_block_interneuron", "nmda_block_pyramidal",
                                     "glutamate_change_pct", NULL};
    if (has_any(run, n1)) {
        ks_svg_panel *p = ks_svg_add_panel(fig, "NMDA receptor block and glutamate", "Percent (%)");
        if (p) {
            p->y_include_zero = 1;
            add_output(run, p, "nmda_block_interneuron", "block, interneurons", 100.0, 0);
            add_output(run, p, "nmda_block_pyramidal", "block, pyramidal cells", 100.0, 1);
            add_output(run, p, "glutamate_change_pct", "glutamate change", 1.0, 2);
        }
    }
    static const char *const n2[] = {"bdnf_released", "mtorc1_activity", "synaptic_protein", NULL};
    if (has_any(run, n2)) {
        ks_svg_panel *p = ks_svg_add_panel(fig, "Growth signals", "Level (\xc3\x97 usual level)");
        if (p) {
            add_output(run, p, "bdnf_released", "BDNF released", 1.0, 3);
            add_output(run, p, "mtorc1_activity", "mTORC1 activity", 1.0, 4);
            add_output(run, p, "synaptic_protein", "synaptic proteins", 1.0, 5);
            ks_svg_add_hline(p, 1.0, "usual level");
        }
    }
    if (rpt_series(run, "cadss")) {
        ks_svg_panel *p = ks_svg_add_panel(fig, "Dissociation", "CADSS (points)");
        if (p) {
            p->y_include_zero = 1;
            add_output(run, p, "cadss", "dissociation (CADSS)", 1.0, 6);
        }
    }
    if (fig->n_panels < 2)
        fig->panel_height = 260;
}

/* Spans during which the plasticity window is open (level from rpt_window_level). */
static size_t window_spans(rpt_run *run, ks_svg_span *spans, size_t max)
{
    double level = rpt_window_level(run);
    const double *w = rpt_series(run, "plasticity_window");
    double a[64], b[64];
    size_t n = rpt_intervals(run, w, level, a, b, 64);
    if (n > 64)
        n = 64;
    if (n > max)
        n = max;
    for (size_t k = 0; k < n; k++) {
        spans[k].x0 = a[k];
        spans[k].x1 = b[k];
    }
    return n;
}

static void build_spines(rpt_run *run, ks_svg_figure *fig, ks_svg_span *spans, size_t max_spans)
{
    fig->id = "spines";
    fig->title = "Days and weeks: the plasticity window and new connections";
    fig->desc = "Dendritic spine density (connections) in percent of a healthy brain, new "
                "labile spines, and the openness of the plasticity window (0 to 1); shaded "
                "where the window is open.";
    set_time_axis(fig, run->t[0], run->t_end, NULL);
    size_t ns = window_spans(run, spans, max_spans);
    static const char *const n1[] = {"spines_total", "spines_stable", NULL};
    if (has_any(run, n1)) {
        ks_svg_panel *p =
            ks_svg_add_panel(fig, "Connections (dendritic spines)", "% of healthy density");
        if (p) {
            add_output(run, p, "spines_total", "all spines", 100.0, 0);
            add_output(run, p, "spines_stable", "stable spines", 100.0, 1);
            ks_svg_add_hline(p, 100.0, "healthy density");
            p->spans = spans;
            p->n_spans = ns;
            p->span_label = "window open";
        }
    }
    if (rpt_series(run, "spines_labile")) {
        ks_svg_panel *p =
            ks_svg_add_panel(fig, "New, still fragile (labile) spines", "% of healthy density");
        if (p) {
            p->y_include_zero = 1;
            add_output(run, p, "spines_labile", "labile new spines", 100.0, 2);
            p->spans = spans;
            p->n_spans = ns;
            p->span_label = "window open";
        }
    }
    if (rpt_series(run, "plasticity_window")) {
        ks_svg_panel *p = ks_svg_add_panel(fig, "Plasticity window", "Openness (0 to 1)");
        if (p) {
            p->ymin = 0;
            p->ymax = 1;
            add_output(run, p, "plasticity_window", "window openness", 1.0, 3);
            double level = rpt_window_level(run);
            if (isfinite(level))
                ks_svg_add_hline(p, level, "counted as open");
            p->spans = spans;
            p->n_spans = ns;
            p->span_label = "window open";
        }
    }
}

static void build_mood(rpt_run *run, ks_svg_figure *fig)
{
    fig->id = "mood";
    fig->title = "Mood and depression score";
    fig->desc = "Noise-free MADRS depression score with the response and remission thresholds, "
                "and the mood coordinate of the two-state model.";
    set_time_axis(fig, run->t[0], run->t_end, NULL);
    if (rpt_series(run, "madrs_true")) {
        ks_svg_panel *p = ks_svg_add_panel(
            fig, "Depression score (MADRS, 0 to 60; lower is better)", "MADRS (points)");
        if (p) {
            p->y_include_zero = 1;
            add_output(run, p, "madrs_true", "MADRS", 1.0, 0);
            double base = rpt_baseline_madrs(run);
            if (isfinite(base) && base > 0)
                ks_svg_add_hline(p, 0.5 * base, "response: half of the starting score");
            ks_svg_add_hline(p, RPT_REMISSION_MADRS, "remission: MADRS 10 or less");
        }
    }
    if (rpt_series(run, "mood")) {
        ks_svg_panel *p = ks_svg_add_panel(fig,
                                           "Mood state (\xe2\x88\x92"
                                           "1 depressed, +1 well)",
                                           "Mood coordinate (unitless)");
        if (p) {
            p->ymin = -1.5;
            p->ymax = 1.5;
            add_output(run, p, "mood", "mood coordinate", 1.0, 1);
            ks_svg_add_hline(p, 0.0, "ridge between the two states");
        }
    }
}

size_t rpt_build_figure(rpt_run *run, const char *figure, ks_svg_figure *fig)
{
    ks_svg_figure_init(fig);
    set_dose_markers(run, fig);
    if (strcmp(figure, "pk") == 0) {
        build_pk(run, fig);
    } else if (strcmp(figure, "cascade") == 0) {
        build_cascade(run, fig);
    } else if (strcmp(figure, "spines") == 0) {
        build_spines(run, fig, run->spans, sizeof run->spans / sizeof run->spans[0]);
    } else if (strcmp(figure, "mood") == 0) {
        build_mood(run, fig);
    }
    return fig->n_panels;
}
