/*
 * cmd_validate.c -- `ketasim validate`: every experiment against its published result; a table
 * (or a JSON array) of published value, band, simulated value and pass/miss.
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_number(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.10g", v);
    else
        fputs("null", out);
}

/* Writes `, "<key>": <s as a JSON string>`. */
static void json_string_field(FILE *out, const char *key, const char *s)
{
    fprintf(out, ", \"%s\": ", key);
    json_string(out, s);
}

/* Writes `, "<key>": <v as a JSON number, or null>`. */
static void json_number_field(FILE *out, const char *key, double v)
{
    fprintf(out, ", \"%s\": ", key);
    json_number(out, v);
}

int ks_cmd_validate(int argc, char **argv)
{
    int json = 0;
    const char *only = NULL, *dir = NULL, *params_path = NULL;
    const ks_cli_opt opts[] = {{"--json", NULL, NULL, &json},
                               {"--only", NULL, &only, NULL},
                               {"--dir", NULL, &dir, NULL},
                               {"--params", NULL, &params_path, NULL},
                               {NULL, NULL, NULL, NULL}};
    for (int i = 1; i < argc; i++) {
        int known = ks_cli_option(argc, argv, &i, "validate", opts);
        if (known < 0)
            return KS_EXIT_INPUT;
        if (known > 0)
            continue;
        if (ks_cli_is_help(argv[i])) {
            printf("usage: ketasim validate [--json] [--only ID] [--dir DIR] [--params FILE]\n"
                   "\n"
                   "Runs the experiments (built in, or from DIR) and compares each simulated\n"
                   "result with its published value and band (experiments/targets.csv).\n"
                   "  --only ID   one target id, or an id prefix (PK runs every PK target)\n"
                   "  --json      one JSON array of objects with id, pass, simulated, target,\n"
                   "              low, high, unit, quantity, detail, source\n"
                   "  --dir DIR   read experiments from DIR instead of the built-in ones\n"
                   "  --params F  a parameter table replacing the built-in one\n"
                   "Exit code 0 only when every selected target passes, 1 otherwise.\n");
            return KS_EXIT_OK;
        } else {
            return ks_cli_usage_error("validate", "unknown argument '%s'", argv[i]);
        }
    }
    int code = KS_EXIT_OK;
    ks_ctx *ctx = ks_ctx_create();
    if (!ctx)
        return KS_EXIT_IO;
    ks_params *params = NULL;
    ks_validation *v = NULL;
    if (!(params = ks_cli_load_params(ctx, params_path)))
        goto fail;
    v = ks_validate(ctx, params, dir, only);
    if (!v)
        goto fail;
    size_t n = ks_validation_count(v), pass = ks_validation_pass_count(v);
    if (json)
        fputs("[", stdout);
    else
        printf("%-6s %-9s %-44s %-14s %-16s %-14s %s\n", "result", "id", "quantity", "published",
               "band", "simulated", "unit");
    for (size_t i = 0; i < n; i++) {
        ks_validation_row r;
        if (ks_validation_row_get(ctx, v, i, &r) != KS_OK)
            goto fail;
        if (json) {
            fputs(i ? ",\n {" : "\n {", stdout);
            fputs("\"id\": ", stdout);
            json_string(stdout, r.id);
            printf(", \"pass\": %s, \"simulated\": ", r.pass ? "true" : "false");
            if (isfinite(r.simulated))
                json_number(stdout, r.simulated);
            else if (r.simulated_text && *r.simulated_text)
                json_string(stdout, r.simulated_text);
            else
                fputs("null", stdout);
            json_string_field(stdout, "target", r.target);
            json_number_field(stdout, "low", r.low);
            json_number_field(stdout, "high", r.high);
            json_string_field(stdout, "unit", r.unit);
            json_string_field(stdout, "quantity", r.quantity);
            json_string_field(stdout, "detail", r.detail);
            json_string_field(stdout, "source", r.source);
            fputs("}", stdout);
        } else {
            char band[48], quantity[45];
            if (isfinite(r.low) && isfinite(r.high))
                snprintf(band, sizeof band, "[%g, %g]", r.low, r.high);
            else
                snprintf(band, sizeof band, "(compare arms)");
            snprintf(quantity, sizeof quantity, "%s", r.quantity ? r.quantity : "");
            printf("%-6s %-9s %-44s %-14s %-16s %-14s %s\n", r.pass ? "PASS" : "MISS", r.id,
                   quantity, r.target, band, r.simulated_text ? r.simulated_text : "-",
                   r.unit ? r.unit : "");
            if (r.detail && *r.detail)
                printf("       %s\n", r.detail);
        }
    }
    if (json)
        fputs("\n]\n", stdout);
    else
        printf("validate: %zu of %zu targets pass\n", pass, n);
    code = (pass == n) ? KS_EXIT_OK : KS_EXIT_VALIDATION;
    goto done;
fail:
    code = ks_cli_fail(ctx);
done:
    ks_validation_free(v);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return code;
}
