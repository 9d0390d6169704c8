/*
 * cmd_run.c -- `ketasim run`: simulate one scenario, write the tidy time-course CSV and print
 * a pharmacokinetic summary.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: ketasim run [SCENARIO.json] [options]\n"
            "\n"
            "Simulates one scenario (PK and, unless the scenario says \"mechanism\": false,\n"
            "the mechanism down to mood and MADRS; docs/SCENARIO.md). With no scenario, the\n"
            "default one: a treatment-resistant patient (70 kg man, MADRS 34, three failed\n"
            "trials) given six racemic ketamine infusions, 0.5 mg/kg IV over 40 min, Mon/Wed/Fri\n"
            "of two weeks at 09:00, an integration session the day after each and a rating\n"
            "visit on days 0, 7, 14 and 21; 28 days, output every 10 min, open label, no mood\n"
            "noise (examples/scenarios/ketamine_course_with_integration.json is the same run).\n"
            "Writes DIR/timecourse.csv (one row per subject x time, one column per output),\n"
            "DIR/timecourse_units.csv (the unit of each column) and prints a summary\n"
            "(Cmax, Tmax, AUC and terminal half-life of each plasma species).\n"
            "\n"
            "options:\n"
            "  --nonmem FILE.csv     read subjects, doses and output times from a NONMEM-style\n"
            "                        dosing file instead of a scenario\n"
            "  --out DIR             output directory (default: ketasim-out)\n"
            "  --solver NAME         cvode (reference, default), fast (exact PK + Rosenbrock-W;\n"
            "                        agrees with cvode within docs/API.md \"Fast path\") or\n"
            "                        closed-form (exact linear PK)\n"
            "  --rtol X, --atol X    tolerances of the chosen solver (defaults: cvode 1e-8,\n"
            "                        1e-12; fast 1e-5, 1e-6 on the mechanism states)\n"
            "  --params FILE.csv     a parameter table replacing the built-in one\n"
            "  --report DIR          also write DIR/report.html (figures and a plain-language\n"
            "                        account of the run, self-contained) and DIR/narrative.txt\n"
            "  --quiet               no summary on stdout\n"
            "  --help                this text\n"
            "\n"
            "For research and education; not medical advice.\n");
}

int ks_cmd_run(int argc, char **argv)
{
    const char *scenario_path = NULL, *nonmem_path = NULL, *outdir = "ketasim-out";
    const char *params_path = NULL, *report_dir = NULL;
    int quiet = 0;
    ks_sim_options opt;
    ks_sim_options_init(&opt);
    double rtol_set = 0.0, atol_set = 0.0; /* --rtol/--atol, applied to the chosen solver */
    const ks_cli_opt opts[] = {
        {"--out", NULL, &outdir, NULL},         {"--nonmem", NULL, &nonmem_path, NULL},
        {"--params", NULL, &params_path, NULL}, {"--report", NULL, &report_dir, NULL},
        {"--quiet", "-q", NULL, &quiet},        {NULL, NULL, NULL, NULL}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int known = ks_cli_option(argc, argv, &i, "run", opts);
        if (known < 0)
            return KS_EXIT_INPUT;
        if (known > 0)
            continue;
        if (ks_cli_is_help(a)) {
            run_usage(stdout);
            return KS_EXIT_OK;
        } else if (strcmp(a, "--solver") == 0) {
            const char *v = ks_cli_value(argc, argv, &i, "run");
            if (!v)
                return KS_EXIT_INPUT;
            if (strcmp(v, "cvode") == 0)
                opt.solver = KS_SOLVER_CVODE;
            else if (strcmp(v, "closed-form") == 0)
                opt.solver = KS_SOLVER_CLOSED_FORM;
            else if (strcmp(v, "fast") == 0)
                opt.solver = KS_SOLVER_FAST;
            else
                return ks_cli_usage_error(
                    "run", "--solver: expected cvode, fast or closed-form (got '%s')", v);
        } else if (strcmp(a, "--rtol") == 0 || strcmp(a, "--atol") == 0) {
            const char *v = ks_cli_value(argc, argv, &i, "run");
            double x;
            if (!v)
                return KS_EXIT_INPUT;
            if (ks_cli_number(v, &x) != 0 || !(x > 0.0) || !(x < 1.0))
                return ks_cli_usage_error("run", "%s: expected a number in (0, 1) (got '%s')", a,
                                          v);
            if (a[2] == 'r')
                rtol_set = x;
            else
                atol_set = x;
        } else if (a[0] == '-' && a[1] != '\0') {
            return ks_cli_usage_error("run", "unknown option '%s'", a);
        } else if (!scenario_path) {
            scenario_path = a;
        } else {
            return ks_cli_usage_error("run", "more than one scenario given ('%s' and '%s')",
                                      scenario_path, a);
        }
    }
    if (rtol_set > 0.0)
        *(opt.solver == KS_SOLVER_FAST ? &opt.fast_rtol : &opt.rtol) = rtol_set;
    if (atol_set > 0.0)
        *(opt.solver == KS_SOLVER_FAST ? &opt.fast_atol : &opt.atol) = atol_set;
    if (scenario_path && nonmem_path)
        return ks_cli_usage_error("run", "give either a scenario or --nonmem, not both");

    int code = KS_EXIT_OK;
    ks_params *params = NULL;
    ks_scenario *scen = NULL;
    ks_result *res = NULL;
    char *csv_path = NULL;
    ks_ctx *ctx = ks_cli_ctx_create();
    if (!ctx)
        return KS_EXIT_IO;
    if (!(params = ks_cli_load_params(ctx, params_path)) ||
        !(scen = ks_cli_load_scenario(ctx, scenario_path, nonmem_path)))
        goto fail;
    /* Every input is checked before anything is written. */
    if (ks_cli_prepare_outdir(outdir) != KS_OK ||
        (report_dir && ks_cli_prepare_outdir(report_dir) != KS_OK)) {
        code = KS_EXIT_INPUT;
        goto done;
    }
    res = ks_simulate(ctx, params, scen, &opt);
    if (!res)
        goto fail;
    const char *file = ks_scenario_output_file(scen);
    if (!*file)
        file = "timecourse.csv";
    size_t n = strlen(outdir) + strlen(file) + 32;
    csv_path = malloc(2 * n); /* the time courses, then the units sidecar */
    if (!csv_path) {
        fprintf(stderr, "ketasim: out of memory\n");
        code = KS_EXIT_IO;
        goto done;
    }
    char *units_path = csv_path + n;
    /* The units sidecar: <stem>_units.csv beside the time courses. */
    size_t stem = strlen(file);
    if (stem > 4 && strcmp(file + stem - 4, ".csv") == 0)
        stem -= 4;
    snprintf(csv_path, n, "%s/%s", outdir, file);
    snprintf(units_path, n, "%s/%.*s_units.csv", outdir, (int)stem, file);
    if (ks_result_write_csv(ctx, res, csv_path) != KS_OK)
        goto fail;
    if (ks_result_write_units(ctx, res, units_path) != KS_OK) {
        remove(csv_path); /* no half of the output left behind */
        goto fail;
    }
    if (report_dir) {
        ks_report_options ropt;
        ks_report_options_init(&ropt);
        ropt.scenario = scen;
        if (ks_report_write_html(ctx, res, report_dir, &ropt) != KS_OK)
            goto fail;
    }
    if (!quiet) {
        printf("ketasim run: scenario '%s' (%zu subject%s), %s solver\n", ks_scenario_name(scen),
               ks_scenario_subject_count(scen), ks_scenario_subject_count(scen) == 1 ? "" : "s",
               opt.solver == KS_SOLVER_CVODE  ? "CVODE"
               : opt.solver == KS_SOLVER_FAST ? "fast"
                                              : "closed-form");
        if (ks_result_print_summary(ctx, res, stdout) != KS_OK)
            goto fail;
        printf("time courses: %s\n", csv_path);
        if (report_dir)
            printf("report: %s/report.html\n", report_dir);
        printf("For research and education; not medical advice.\n");
    }
    goto done;
fail:
    code = ks_cli_fail(ctx);
done:
    free(csv_path);
    ks_result_free(res);
    ks_scenario_free(scen);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return code;
}
