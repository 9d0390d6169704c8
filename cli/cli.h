/*
 * cli.h -- shared pieces of the ketasim command: one function per subcommand, argument helpers.
 * The command uses only the public API (include/ketasim.h).
 */
#ifndef KS_CLI_H
#define KS_CLI_H

#include "ketasim.h"

/* Exit codes (the same as ks_status_exit_code). */
enum { KS_EXIT_OK = 0, KS_EXIT_VALIDATION = 1, KS_EXIT_INPUT = 2, KS_EXIT_SOLVER = 3, KS_EXIT_IO = 4 };

int ks_cmd_run(int argc, char **argv);
int ks_cmd_params(int argc, char **argv);
int ks_cmd_validate(int argc, char **argv);
int ks_cmd_plot(int argc, char **argv);
int ks_cmd_trial(int argc, char **argv);

/* Prints "ketasim: <message>" on one stderr line and returns the exit code of the status. */
int ks_cli_fail(ks_ctx *ctx);
/* Prints "ketasim <cmd>: <text>" and a pointer to --help; returns 2. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int ks_cli_usage_error(const char *cmd, const char *fmt, ...);
/* Reads the value of option argv[*i] ("--out DIR"); NULL (after a usage message) when absent. */
const char *ks_cli_value(int argc, char **argv, int *i, const char *cmd);
/* Parses a positive finite number; returns 0 on success. */
int ks_cli_number(const char *s, double *out);
/* Makes sure `dir` exists (creating one level) and is writable. On failure prints one line
 * naming the directory and the reason and returns KS_ERR_INPUT (an unusable --out is bad
 * input, exit code 2). */
ks_status ks_cli_prepare_outdir(const char *dir);

#endif /* KS_CLI_H */
