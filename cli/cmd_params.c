/*
 * cmd_params.c -- `ketasim params`: the parameter table with units, sources and confidence.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

int ks_cmd_params(int argc, char **argv)
{
    int csv = 0;
    const char *params_path = NULL, *prefix = NULL;
    const ks_cli_opt opts[] = {{"--csv", NULL, NULL, &csv},
                               {"--prefix", NULL, &prefix, NULL},
                               {"--params", NULL, &params_path, NULL},
                               {NULL, NULL, NULL, NULL}};
    for (int i = 1; i < argc; i++) {
        int known = ks_cli_option(argc, argv, &i, "params", opts);
        if (known < 0)
            return KS_EXIT_INPUT;
        if (known > 0)
            continue;
        if (ks_cli_is_help(argv[i])) {
            printf("usage: ketasim params [--csv] [--prefix P] [--params FILE.csv]\n"
                   "\n"
                   "Lists every model parameter: name, value, unit, confidence and source.\n"
                   "  --csv          the table as CSV (the format of data/parameters.csv)\n"
                   "  --prefix P     only names starting with P (e.g. pk.sket)\n"
                   "  --params FILE  list a parameter file instead of the built-in table\n");
            return KS_EXIT_OK;
        } else {
            return ks_cli_usage_error("params", "unknown argument '%s'", argv[i]);
        }
    }
    ks_ctx *ctx = ks_ctx_create();
    if (!ctx)
        return KS_EXIT_IO;
    ks_params *p = ks_cli_load_params(ctx, params_path);
    if (!p) {
        int code = ks_cli_fail(ctx);
        ks_ctx_free(ctx);
        return code;
    }
    if (csv)
        printf("name,value,unit,source,confidence,note\n");
    size_t shown = 0;
    for (size_t i = 0; i < ks_params_count(p); i++) {
        ks_param_info in;
        ks_params_get_info(ctx, p, i, &in);
        if (prefix && strncmp(in.name, prefix, strlen(prefix)) != 0)
            continue;
        shown++;
        if (csv) {
            const char *f[6];
            char val[40];
            snprintf(val, sizeof val, "%.10g", in.value);
            f[0] = in.name;
            f[1] = val;
            f[2] = in.unit;
            f[3] = in.source;
            f[4] = in.confidence;
            f[5] = in.note;
            for (int k = 0; k < 6; k++) {
                if (k)
                    fputc(',', stdout);
                csv_field(stdout, f[k]);
            }
            fputc('\n', stdout);
        } else {
            printf("%-28s %12.6g %-18s %-19s %s\n", in.name, in.value, in.unit, in.confidence,
                   in.source);
        }
    }
    if (!csv)
        printf("%zu parameters\n", shown);
    ks_params_free(p);
    ks_ctx_free(ctx);
    return KS_EXIT_OK;
}
