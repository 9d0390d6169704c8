/*
 * report.c -- the public report API: standalone SVG figures (ketasim plot), the
 * self-contained HTML report (ketasim run --report) and the plain-language narrative.
 */
#include "report/report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const k_figures[] = {"pk", "cascade", "spines", "mood"};
static const char *const k_figure_desc[] = {
    "drug levels in plasma and brain (ng/mL)",
    "first hours: NMDA block, glutamate, BDNF, mTORC1, synaptic proteins, dissociation",
    "days: plasticity window, labile and stable spines",
    "MADRS with response and remission thresholds, mood state",
};
/* Outputs each figure needs at least one of (for the error message). */
static const char *const k_figure_needs[] = {
    "plasma_* concentrations",
    "nmda_block_interneuron, glutamate_change_pct, bdnf_released, mtorc1_activity, cadss",
    "spines_total, spines_stable, spines_labile, plasticity_window",
    "madrs_true, mood",
};
#define N_FIGURES (sizeof k_figures / sizeof k_figures[0])

void ks_report_options_init(ks_report_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
}

size_t ks_plot_figure_count(void)
{
    return N_FIGURES;
}

const char *ks_plot_figure_name(size_t i)
{
    return i < N_FIGURES ? k_figures[i] : NULL;
}

const char *ks_plot_figure_description(size_t i)
{
    return i < N_FIGURES ? k_figure_desc[i] : NULL;
}

static long figure_index(const char *name)
{
    for (size_t i = 0; i < N_FIGURES; i++)
        if (strcmp(name, k_figures[i]) == 0)
            return (long)i;
    return -1;
}

ks_status ks_plot_write_svg(ks_ctx *ctx, const ks_result *r, const char *figure, const char *path,
                            const ks_report_options *opt)
{
    if (!figure || !path)
        return ks_fail(ctx, KS_ERR_USAGE, "plot: figure name and output path are required");
    long fi = figure_index(figure);
    if (fi < 0)
        return ks_fail(ctx, KS_ERR_INPUT,
                       "plot: unknown figure (expected pk, cascade, spines or mood; got '%s')",
                       figure);
    rpt_run run;
    ks_tb tb;
    ks_tb_init(&tb);
    ks_status st = rpt_open(ctx, r, opt, &run);
    if (st != KS_OK)
        goto done;
    ks_svg_figure fig;
    if (rpt_build_figure(&run, figure, &fig) == 0) {
        st = ks_fail(ctx, KS_ERR_INPUT,
                     "plot: figure '%s': the result has none of the outputs it shows (%s)", figure,
                     k_figure_needs[fi]);
        goto done;
    }
    ks_tb_puts(&tb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    ks_svg_render(&fig, &tb);
    if (run.oom)
        tb.oom = 1;
    if ((st = ks_tb_check(ctx, &tb)) != KS_OK)
        goto done;
    st = rpt_write_file(ctx, path, &tb);
done:
    rpt_close(&run);
    ks_tb_free(&tb);
    return st;
}

char *ks_report_narrative(ks_ctx *ctx, const ks_result *r, const ks_report_options *opt)
{
    rpt_run run;
    ks_tb tb, out;
    ks_tb_init(&tb);
    ks_tb_init(&out);
    char *text = NULL;
    if (rpt_open(ctx, r, opt, &run) != KS_OK)
        goto done;
    rpt_narrative(&run, &tb);
    rpt_strip_anchors(ks_tb_str(&tb), &out);
    if (run.oom)
        out.oom = 1;
    if (ks_tb_check(ctx, &out) != KS_OK || ks_tb_check(ctx, &tb) != KS_OK)
        goto done;
    text = ks_strdup(ctx, ks_tb_str(&out));
done:
    rpt_close(&run);
    ks_tb_free(&tb);
    ks_tb_free(&out);
    return text;
}

/* Captions: what is drawn and how to read it (not the findings, which are in the text). */
static const char *caption(const char *fig)
{
    if (strcmp(fig, "pk") == 0)
        return "Simulated drug concentrations (ng/mL) in plasma and at the brain effect site. "
               "Dashed grey vertical lines mark the doses. Each drug has its own colour and line "
               "pattern.";
    if (strcmp(fig, "cascade") == 0)
        return "The chain of events after the first dose: NMDA receptors blocked (percent of "
               "receptors), glutamate change (percent over the usual level), growth signals as "
               "multiples of their usual level (1 = usual), and dissociation in CADSS points.";
    if (strcmp(fig, "spines") == 0)
        return "Connections between nerve cells (dendritic spines) in percent of a healthy "
               "brain. Yellow shading marks the time when the plasticity window counts as open "
               "(at least half of its largest openness in this run).";
    return "Depression score (MADRS, noise-free) with the response line (half of the starting "
           "score) and the remission line (10 points), and the mood state of the model (below "
           "0: depressed state, above 0: well state).";
}

static void run_figure(void *user, const char *name, ks_tb *out)
{
    rpt_run *run = user;
    ks_svg_figure fig;
    if (rpt_build_figure(run, name, &fig) == 0)
        return;
    rpt_html_figure(&fig, caption(name), out);
}

ks_status ks_report_write_html(ks_ctx *ctx, const ks_result *r, const char *dir,
                               const ks_report_options *opt)
{
    if (!dir)
        return ks_fail(ctx, KS_ERR_USAGE, "report: no output directory given");
    rpt_run run;
    ks_tb narr, html;
    ks_tb_init(&narr);
    ks_tb_init(&html);
    ks_status st = rpt_open(ctx, r, opt, &run);
    if (st != KS_OK)
        goto done;
    rpt_narrative(&run, &narr);
    const char *name = run.scenario ? ks_scenario_name(run.scenario) : "simulation";
    char meta[256];
    snprintf(
        meta, sizeof meta,
        "ketasim %s \xc2\xb7 subject %ld (%zu of %zu) \xc2\xb7 %zu output times over %.1f days",
        ks_version(), ks_result_subject_id(r, run.subject), run.subject + 1,
        ks_result_subject_count(r), run.nt, (run.t_end - run.t[0]) / 24.0);
    rpt_html_begin(&html, "What the simulation shows: ", name, meta);
    rpt_html_text(ks_tb_str(&narr), &html, run_figure, &run);
    rpt_html_end(&html);
    if (run.oom)
        html.oom = 1;
    if ((st = ks_tb_check(ctx, &narr)) != KS_OK || (st = ks_tb_check(ctx, &html)) != KS_OK)
        goto done;
    st = rpt_write_report(ctx, dir, &html, &narr);
done:
    rpt_close(&run);
    ks_tb_free(&narr);
    ks_tb_free(&html);
    return st;
}
