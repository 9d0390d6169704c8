/*
 * main.c -- the ketasim command: dispatch to subcommands, --help and --version.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ketasim <command> [options]\n"
            "\n"
            "Simulates the pharmacology of rapid-acting antidepressants (ketamine, esketamine)\n"
            "beside SSRIs and placebo. For research and education; not medical advice.\n"
            "\n"
            "commands:\n"
            "  run [SCENARIO]     simulate one scenario (the default one when none is given)\n"
            "  trial [TRIAL]      run a virtual trial (the default one when none is given)\n"
            "  validate           compare simulations with published results\n"
            "  params             list the model parameters with units and sources\n"
            "  plot FIGURE        write one figure (pk, cascade, spines, mood) as SVG\n"
            "\n"
            "Run 'ketasim <command> --help' for the options of a command.\n"
            "exit codes: 0 success, 1 validation failed, 2 bad input, 3 numerical failure,\n"
            "            4 I/O failure\n");
}

int ks_cli_fail(ks_ctx *ctx)
{
    ks_status st = ks_ctx_status(ctx);
    const char *msg = ks_ctx_message(ctx);
    fprintf(stderr, "ketasim: %s\n", msg && *msg ? msg : ks_strerror(st));
    return ks_status_exit_code(st);
}

int ks_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ketasim %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'ketasim %s --help')\n", cmd);
    va_end(ap);
    return KS_EXIT_INPUT;
}

const char *ks_cli_value(int argc, char **argv, int *i, const char *cmd)
{
    if (*i + 1 >= argc) {
        ks_cli_usage_error(cmd, "option %s needs a value", argv[*i]);
        return NULL;
    }
    (*i)++;
    return argv[*i];
}

int ks_cli_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v) || v <= 0)
        return -1;
    *out = v;
    return 0;
}

ks_status ks_cli_prepare_outdir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (mkdir(dir, 0777) != 0) {
            fprintf(stderr, "ketasim: %s: cannot create output directory: %s\n", dir,
                    strerror(errno));
            return KS_ERR_INPUT;
        }
        return KS_OK;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "ketasim: %s: output directory is not a directory\n", dir);
        return KS_ERR_INPUT;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "ketasim: %s: output directory is not writable: %s\n", dir,
                strerror(errno));
        return KS_ERR_INPUT;
    }
    return KS_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return KS_EXIT_INPUT;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return KS_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("ketasim %s\n", ks_version());
        return KS_EXIT_OK;
    }
    if (strcmp(cmd, "run") == 0)
        return ks_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "trial") == 0)
        return ks_cmd_trial(argc - 1, argv + 1);
    if (strcmp(cmd, "params") == 0)
        return ks_cmd_params(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0)
        return ks_cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0)
        return ks_cmd_plot(argc - 1, argv + 1);
    fprintf(stderr, "ketasim: unknown command '%s' (see 'ketasim --help')\n", cmd);
    return KS_EXIT_INPUT;
}
