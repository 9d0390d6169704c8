/*
 * cli.h -- shared pieces of the ketasim command: one function per subcommand, argument helpers.
 * The command uses only the public API (include/ketasim.h).
 */
#ifndef KS_CLI_H
#define KS_CLI_H

#include "ketasim.h"

/* Exit codes (the same as ks_status_exit_code). */
enum {
    KS_EXIT_OK = 0,
    KS_EXIT_VALIDATION = 1,
    KS_EXIT_INPUT = 2,
    KS_EXIT_SOLVER = 3,
    KS_EXIT_IO = 4
};

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

/* 1 when `arg` asks for help ("--help" or "-h"). */
int ks_cli_is_help(const char *arg);
/* A plain option of a subcommand: either one with a text value ("--out DIR" stores "DIR" in
 * *value) or a flag ("--quiet" sets *flag to 1). */
typedef struct {
    const char *name;   /* "--out" */
    const char *alias;  /* a short spelling ("-q") or NULL */
    const char **value; /* options with a value: where it goes; else NULL */
    int *flag;          /* flags: set to 1; else NULL */
} ks_cli_opt;
/* When argv[*i] names one of `opts` (ended by an entry with name NULL), takes it (a value
 * advances *i) and returns 1; returns -1 (after the usage message of ks_cli_value) when a
 * value is missing; 0 when argv[*i] is none of them. */
int ks_cli_option(int argc, char **argv, int *i, const char *cmd, const ks_cli_opt *opts);
/* ks_ctx_create, printing "ketasim: out of memory" when it fails. */
ks_ctx *ks_cli_ctx_create(void);
/* The parameter table of --params FILE, or the built-in one when `params_path` is NULL;
 * NULL (error on ctx) on failure. */
ks_params *ks_cli_load_params(ks_ctx *ctx, const char *params_path);
/* The scenario of --nonmem FILE, else of SCENARIO.json, else the default one; NULL (error on
 * ctx) on failure. The caller has rejected giving both paths. */
ks_scenario *ks_cli_load_scenario(ks_ctx *ctx, const char *scenario_path, const char *nonmem_path);

#endif /* KS_CLI_H */
