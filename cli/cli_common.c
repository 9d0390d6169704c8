/*
 * cli_common.c -- pieces shared by several subcommands: --help detection, options that take
 * a value and flags, and loading of the parameter table and the scenario named on the command line.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int ks_cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int ks_cli_option(int argc, char **argv, int *i, const char *cmd, const ks_cli_opt *opts)
{
    for (const ks_cli_opt *o = opts; o->name; o++) {
        if (strcmp(argv[*i], o->name) != 0 && !(o->alias && strcmp(argv[*i], o->alias) == 0))
            continue;
        if (o->flag) {
            *o->flag = 1;
            return 1;
        }
        return (*o->value = ks_cli_value(argc, argv, i, cmd)) != NULL ? 1 : -1;
    }
    return 0;
}

ks_ctx *ks_cli_ctx_create(void)
{
    ks_ctx *ctx = ks_ctx_create();
    if (!ctx)
        fprintf(stderr, "ketasim: out of memory\n");
    return ctx;
}

ks_params *ks_cli_load_params(ks_ctx *ctx, const char *params_path)
{
    return params_path ? ks_params_load(ctx, params_path) : ks_params_create_default(ctx);
}

ks_scenario *ks_cli_load_scenario(ks_ctx *ctx, const char *scenario_path, const char *nonmem_path)
{
    if (nonmem_path)
        return ks_scenario_load_nonmem(ctx, nonmem_path);
    if (scenario_path)
        return ks_scenario_load(ctx, scenario_path);
    return ks_scenario_create_default(ctx);
}
