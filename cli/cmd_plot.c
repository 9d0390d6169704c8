/*
 * cmd_plot.c -- `ketasim plot FIGURE [SCENARIO]`: simulate one scenario and write one figure
 * as a standalone SVG file (for papers and slides).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void plot_usage(FILE *out)
{
    fprintf(out, "usage: ketasim plot FIGURE [SCENARIO.json] [options]\n"
                 "\n"
                 "Simulates one scenario (the default one when none is given) and writes one\n"
                 "figure as an SVG file.\n"
                 "\n"
                 "figures:\n");
    for (size_t i = 0; i < ks_plot_figure_count(); i++)
        fprintf(out, "  %-9s %s\n", ks_plot_figure_name(i), ks_plot_figure_description(i));
    fprintf(out, "\n"
                 "options:\n"
                 "  --out FILE.svg        output file (default: FIGURE.svg)\n"
                 "  --nonmem FILE.csv     read subjects and doses from a NONMEM-style file\n"
                 "  --subject N           subject to plot, 1-based position (default 1)\n"
                 "  --log                 logarithmic concentration axes\n"
                 "  --params FILE.csv     a parameter table replacing the built-in one\n"
                 "  --help                this text\n"
                 "\n"
                 "For research and education; not medical advice.\n");
}

int ks_cmd_plot(int argc, char **argv)
{
    const char *figure = NULL, *scenario_path = NULL, *nonmem_path = NULL, *out_path = NULL;
    const char *params_path = NULL;
    double subject = 1;
    ks_report_options ropt;
    ks_report_options_init(&ropt);
    const ks_cli_opt opts[] = {{"--out", NULL, &out_path, NULL},
                               {"--nonmem", NULL, &nonmem_path, NULL},
                               {"--params", NULL, &params_path, NULL},
                               {"--log", NULL, NULL, &ropt.log_concentrations},
                               {NULL, NULL, NULL, NULL}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int known = ks_cli_option(argc, argv, &i, "plot", opts);
        if (known < 0)
            return KS_EXIT_INPUT;
        if (known > 0)
            continue;
        if (ks_cli_is_help(a)) {
            plot_usage(stdout);
            return KS_EXIT_OK;
        } else if (strcmp(a, "--subject") == 0) {
            const char *v = ks_cli_value(argc, argv, &i, "plot");
            if (!v)
                return KS_EXIT_INPUT;
            if (ks_cli_number(v, &subject) != 0 || subject != (double)(long)subject)
                return ks_cli_usage_error("plot",
                                          "--subject: expected a whole number >= 1 (got "
                                          "'%s')",
                                          v);
        } else if (a[0] == '-' && a[1] != '\0') {
            return ks_cli_usage_error("plot", "unknown option '%s'", a);
        } else if (!figure) {
            figure = a;
        } else if (!scenario_path) {
            scenario_path = a;
        } else {
            return ks_cli_usage_error("plot", "unexpected argument '%s'", a);
        }
    }
    if (!figure)
        return ks_cli_usage_error("plot", "no figure given (pk, cascade, spines or mood)");
    int known = 0;
    for (size_t i = 0; i < ks_plot_figure_count(); i++)
        if (strcmp(figure, ks_plot_figure_name(i)) == 0)
            known = 1;
    if (!known)
        return ks_cli_usage_error("plot", "unknown figure '%s' (pk, cascade, spines or mood)",
                                  figure);
    if (scenario_path && nonmem_path)
        return ks_cli_usage_error("plot", "give either a scenario or --nonmem, not both");

    char default_out[64];
    if (!out_path) {
        snprintf(default_out, sizeof default_out, "%s.svg", figure);
        out_path = default_out;
    }
    int code = KS_EXIT_OK;
    ks_params *params = NULL;
    ks_scenario *scen = NULL;
    ks_result *res = NULL;
    ks_ctx *ctx = ks_cli_ctx_create();
    if (!ctx)
        return KS_EXIT_IO;
    if (!(params = ks_cli_load_params(ctx, params_path)) ||
        !(scen = ks_cli_load_scenario(ctx, scenario_path, nonmem_path)))
        goto fail;
    if ((size_t)subject > ks_scenario_subject_count(scen)) {
        code = ks_cli_usage_error("plot", "--subject %.0f: the scenario has %zu subject%s", subject,
                                  ks_scenario_subject_count(scen),
                                  ks_scenario_subject_count(scen) == 1 ? "" : "s");
        goto done;
    }
    ks_sim_options opt;
    ks_sim_options_init(&opt);
    res = ks_simulate(ctx, params, scen, &opt);
    if (!res)
        goto fail;
    ropt.scenario = scen;
    ropt.subject = (size_t)subject - 1;
    if (ks_plot_write_svg(ctx, res, figure, out_path, &ropt) != KS_OK)
        goto fail;
    printf("figure '%s': %s\n", figure, out_path);
    goto done;
fail:
    code = ks_cli_fail(ctx);
done:
    ks_result_free(res);
    ks_scenario_free(scen);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return code;
}
