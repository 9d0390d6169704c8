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

static const char *const k_disclaimer =
    "For research and education only. This is not medical advice. The report describes a "
    "computer model of one simulated person, not you; do not use it to make any decision "
    "about treatment. Talk to a qualified clinician about your care.";

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

static ks_status write_text(ks_ctx *ctx, const char *path, const ks_tb *tb)
{
    ks_atomic_file af;
    if (ks_atomic_open(ctx, path, &af) != KS_OK)
        return ks_ctx_status(ctx);
    fputs(ks_tb_str(tb), af.fp);
    return ks_atomic_commit(ctx, &af);
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
    st = write_text(ctx, path, &tb);
done:
    rpt_close(&run);
    ks_tb_free(&tb);
    return st;
}

/* Copies narrative text without the "@figure" anchor lines (and the blank line after each),
 * which only the HTML writer uses. */
static void strip_anchors(const char *s, ks_tb *out)
{
    int skip_blank = 0;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) + 1 : strlen(s);
        if (strncmp(s, "@figure ", 8) == 0) {
            skip_blank = 1;
        } else if (!(skip_blank && s[0] == '\n')) {
            ks_tb_printf(out, "%.*s", (int)len, s);
            skip_blank = 0;
        } else {
            skip_blank = 0;
        }
        s += len;
    }
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
    strip_anchors(ks_tb_str(&tb), &out);
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

static const char *const k_css =
    "body{margin:0;background:#f6f6f3;color:#1d1d1d;font:17px/1.55 'DejaVu Sans','Helvetica "
    "Neue',Arial,sans-serif}"
    "main{max-width:940px;margin:0 auto;padding:24px 28px 40px;background:#fff}"
    "h1{font-size:1.6em;margin:.2em 0 .1em}h2{font-size:1.25em;margin:1.6em 0 .4em;"
    "border-bottom:2px solid #0072B2;padding-bottom:.15em}"
    ".meta{color:#555;font-size:.9em;margin:0 0 1em}"
    ".disclaimer{border-left:6px solid #E69F00;background:#fff6e0;padding:.7em 1em;"
    "margin:1em 0;font-size:.98em}"
    "figure{margin:1.2em 0;padding:0}figure svg{max-width:100%;height:auto;display:block;"
    "border:1px solid #ddd}figcaption{font-size:.9em;color:#444;margin-top:.4em}"
    "ul{padding-left:1.3em}li{margin:.25em 0}"
    ".missing{color:#6b4e00}"
    "footer{margin-top:2.5em;font-size:.88em;color:#444;border-top:1px solid #ccc;"
    "padding-top:.8em}"
    "table.key{border-collapse:collapse;font-size:.92em}table.key td{padding:.15em .7em;"
    "border-bottom:1px solid #eee}";

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

static void html_figure(rpt_run *run, const char *name, ks_tb *out, int *drawn)
{
    ks_svg_figure fig;
    if (rpt_build_figure(run, name, &fig) == 0)
        return;
    ks_tb_puts(out, "<figure>\n");
    ks_svg_render(&fig, out);
    ks_tb_puts(out, "<figcaption>");
    ks_tb_escape(out, caption(name));
    ks_tb_puts(out, "</figcaption>\n</figure>\n");
    (*drawn)++;
}

/* Converts the narrative text into HTML: "## " headings, "- " list items, paragraphs,
 * "@figure NAME" anchors where the figure goes. */
static void html_narrative(rpt_run *run, const char *text, ks_tb *out, int *drawn)
{
    int in_list = 0, in_section = 0;
    const char *s = text;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char line[2048];
        if (len >= sizeof line)
            len = sizeof line - 1;
        memcpy(line, s, len);
        line[len] = '\0';
        s += nl ? (size_t)(nl - s) + 1 : strlen(s);
        int is_item = strncmp(line, "- ", 2) == 0;
        if (in_list && !is_item) {
            ks_tb_puts(out, "</ul>\n");
            in_list = 0;
        }
        if (line[0] == '\0')
            continue;
        if (strncmp(line, "## ", 3) == 0) {
            if (in_section)
                ks_tb_puts(out, "</section>\n");
            ks_tb_puts(out, "<section class=\"narrative\">\n<h2>");
            ks_tb_escape(out, line + 3);
            ks_tb_puts(out, "</h2>\n");
            in_section = 1;
        } else if (strncmp(line, "@figure ", 8) == 0) {
            html_figure(run, line + 8, out, drawn);
        } else if (is_item) {
            if (!in_list)
                ks_tb_puts(out, "<ul>\n");
            in_list = 1;
            ks_tb_puts(out, "<li>");
            ks_tb_escape(out, line + 2);
            ks_tb_puts(out, "</li>\n");
        } else {
            ks_tb_puts(out, "<p>");
            ks_tb_escape(out, line);
            ks_tb_puts(out, "</p>\n");
        }
    }
    if (in_list)
        ks_tb_puts(out, "</ul>\n");
    if (in_section)
        ks_tb_puts(out, "</section>\n");
}

ks_status ks_report_write_html(ks_ctx *ctx, const ks_result *r, const char *dir,
                               const ks_report_options *opt)
{
    if (!dir)
        return ks_fail(ctx, KS_ERR_USAGE, "report: no output directory given");
    rpt_run run;
    ks_tb narr, html, plain;
    ks_tb_init(&narr);
    ks_tb_init(&html);
    ks_tb_init(&plain);
    char *path = NULL;
    ks_status st = rpt_open(ctx, r, opt, &run);
    if (st != KS_OK)
        goto done;
    rpt_narrative(&run, &narr);

    const char *name = run.scenario ? ks_scenario_name(run.scenario) : "simulation";
    ks_tb_puts(&html, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
                      "<title>ketasim report: ");
    ks_tb_escape(&html, name);
    ks_tb_puts(&html, "</title>\n<style>");
    ks_tb_puts(&html, k_css);
    ks_tb_puts(&html, "</style>\n</head>\n<body>\n<main>\n<header>\n<h1>What the simulation "
                      "shows: ");
    ks_tb_escape(&html, name);
    ks_tb_puts(&html, "</h1>\n<p class=\"meta\">");
    ks_tb_printf(&html,
                 "ketasim %s &middot; subject %ld (%zu of %zu) &middot; %zu output times over "
                 "%.1f days",
                 ks_version(), ks_result_subject_id(r, run.subject), run.subject + 1,
                 ks_result_subject_count(r), run.nt, (run.t_end - run.t[0]) / 24.0);
    ks_tb_puts(&html, "</p>\n</header>\n<aside class=\"disclaimer\" id=\"disclaimer\"><strong>");
    ks_tb_escape(&html, k_disclaimer);
    ks_tb_puts(&html, "</strong></aside>\n");
    int drawn = 0;
    html_narrative(&run, ks_tb_str(&narr), &html, &drawn);
    ks_tb_puts(&html, "<footer>\n<p>");
    ks_tb_escape(&html, k_disclaimer);
    ks_tb_puts(&html, "</p>\n<p>Generated by ketasim from the simulated time courses; every "
                      "number in the text was measured on this run. Model: docs/MODEL.md; "
                      "how the text is derived: docs/REPORT.md.</p>\n</footer>\n</main>\n"
                      "</body>\n</html>\n");
    /* plain text copy without figure anchors */
    ks_tb_puts(&plain, k_disclaimer);
    ks_tb_puts(&plain, "\n\n");
    strip_anchors(ks_tb_str(&narr), &plain);
    if (run.oom)
        html.oom = 1;
    if ((st = ks_tb_check(ctx, &narr)) != KS_OK || (st = ks_tb_check(ctx, &html)) != KS_OK ||
        (st = ks_tb_check(ctx, &plain)) != KS_OK)
        goto done;
    size_t n = strlen(dir) + 32;
    if (!(path = ks_malloc(ctx, n))) {
        st = KS_ERR_NOMEM;
        goto done;
    }
    snprintf(path, n, "%s/report.html", dir);
    if ((st = write_text(ctx, path, &html)) != KS_OK)
        goto done;
    snprintf(path, n, "%s/narrative.txt", dir);
    st = write_text(ctx, path, &plain);
done:
    free(path);
    rpt_close(&run);
    ks_tb_free(&narr);
    ks_tb_free(&html);
    ks_tb_free(&plain);
    return st;
}
