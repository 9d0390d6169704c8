/*
 * ketasim.h -- the whole public API of ketasim.
 *
 * ketasim simulates the pharmacology of rapid-acting antidepressants (ketamine, esketamine,
 * arketamine) beside SSRIs, placebo and single-link blockers, for research and education.
 * It is not a dosing tool and nothing it prints is medical advice.
 *
 * Conventions (the same for every object):
 *   - Every object has one lifecycle: ks_X_create / ks_X_load returns a new object that the
 *     caller owns, and ks_X_free releases it. ks_X_free(NULL) is a no-op.
 *   - Every function that can fail takes a ks_ctx first. On failure it returns NULL or a
 *     ks_status other than KS_OK, and the context keeps the status and one message that
 *     names the file, the field (JSON path, or CSV line and column) and the offending value.
 *   - const char * returned by a getter is owned by the object it came from and lives as
 *     long as that object, unless the comment says otherwise.
 *   - Time is in hours inside the library; amounts in mg; concentrations as documented per
 *     output (ng/mL in plasma and at the effect site).
 *   - Nothing here uses global state; any number of contexts may be used from different
 *     threads, one thread per context at a time.
 */
#ifndef KETASIM_H
#define KETASIM_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KS_VERSION_MAJOR  0
#define KS_VERSION_MINOR  1
#define KS_VERSION_PATCH  0
#define KS_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------------------------------
 * Status codes and the context
 * ------------------------------------------------------------------------------------- */

/* One list of status codes for the whole library. ks_status_exit_code maps them to the
 * exit codes of the ketasim command (0 ok, 1 validation failed, 2 bad input, 3 numerical
 * failure, 4 I/O failure). */
typedef enum {
    KS_OK = 0,
    KS_ERR_USAGE,      /* bad command-line usage or API misuse (NULL argument, bad size) */
    KS_ERR_INPUT,      /* malformed or invalid user input: scenario, dosing file, value */
    KS_ERR_NOMEM,      /* an allocation failed */
    KS_ERR_IO,         /* a file could not be read or written */
    KS_ERR_SOLVER,     /* the integrator failed or produced a non-finite value */
    KS_ERR_VALIDATION, /* a validation target was missed (ketasim validate) */
    KS_ERR_INTERNAL    /* a broken invariant inside the library: a bug */
} ks_status;

typedef struct ks_ctx ks_ctx;

/* Returns a new context, or NULL when memory is exhausted. */
ks_ctx *ks_ctx_create(void);
void ks_ctx_free(ks_ctx *ctx);
/* Status and message of the last failure on this context (KS_OK and "" when none). */
ks_status ks_ctx_status(const ks_ctx *ctx);
const char *ks_ctx_message(const ks_ctx *ctx);
void ks_ctx_clear(ks_ctx *ctx);
/* Static text for a status code. */
const char *ks_strerror(ks_status status);
/* Exit code of the ketasim command for a status. */
int ks_status_exit_code(ks_status status);
const char *ks_version(void);

/* ---------------------------------------------------------------------------------------
 * Parameters: one table of named values, each with unit, source and confidence.
 * ------------------------------------------------------------------------------------- */

typedef struct ks_params ks_params;

typedef struct {
    const char *name;       /* e.g. "pk.sket.cl" */
    double value;           /* in `unit` */
    const char *unit;       /* e.g. "L/h per 70 kg" */
    const char *source;     /* paper and table, or the derivation */
    const char *confidence; /* retrieved | retrieved-secondary | computed | calibrated |
                               memory | assumed */
    const char *note;       /* free text, may be "" */
} ks_param_info;

/* The parameter set shipped with ketasim (data/parameters.csv, built into the library). */
ks_params *ks_params_create_default(ks_ctx *ctx);
/* A parameter file of the same CSV format. Every name must be known to the model and every
 * known name must be present. */
ks_params *ks_params_load(ks_ctx *ctx, const char *path);
void ks_params_free(ks_params *params);
size_t ks_params_count(const ks_params *params);
/* Entry i (0 <= i < count); the strings are owned by params. */
ks_status ks_params_get_info(ks_ctx *ctx, const ks_params *params, size_t i, ks_param_info *out);
/* Looks a value up by name. */
ks_status ks_params_get(ks_ctx *ctx, const ks_params *params, const char *name, double *value);
/* Overrides a value (sensitivity analysis); the name must exist and the value be finite. */
ks_status ks_params_set(ks_ctx *ctx, ks_params *params, const char *name, double value);

/* ---------------------------------------------------------------------------------------
 * Scenarios: who is treated, with what, when, and what to output.
 * ------------------------------------------------------------------------------------- */

typedef struct ks_scenario ks_scenario;

/* The default scenario of `ketasim run`. */
ks_scenario *ks_scenario_create_default(ks_ctx *ctx);
/* Reads a JSON scenario file (format in docs/SCENARIO.md, schema in
 * schema/scenario.schema.json). Relative paths inside it (a dosing CSV) are resolved
 * against the directory of `path`. */
ks_scenario *ks_scenario_load(ks_ctx *ctx, const char *path);
/* Parses a scenario held in memory; `name` is used in error messages and `base_dir`
 * resolves relative paths (NULL: the current directory). */
ks_scenario *ks_scenario_parse(ks_ctx *ctx, const char *text, size_t len, const char *name,
                               const char *base_dir);
/* Reads a NONMEM-style dosing and observation file (docs/SCENARIO.md, section "NONMEM
 * records") into a scenario: one subject per ID, doses from EVID 1/4 rows, output times
 * from EVID 0 rows, covariates from the covariate columns. */
ks_scenario *ks_scenario_load_nonmem(ks_ctx *ctx, const char *path);
void ks_scenario_free(ks_scenario *scenario);
/* Number of subjects (1 for JSON scenarios without a dosing file). */
size_t ks_scenario_subject_count(const ks_scenario *scenario);
/* Name given in the scenario ("default" for the default scenario). */
const char *ks_scenario_name(const ks_scenario *scenario);
/* Output file name asked for by the scenario ("output": {"file": ...}), or "" for the default
 * (timecourse.csv). A plain file name without directory. */
const char *ks_scenario_output_file(const ks_scenario *scenario);

/* ---------------------------------------------------------------------------------------
 * Simulation of one scenario
 * ------------------------------------------------------------------------------------- */

typedef enum {
    KS_SOLVER_CVODE = 0,   /* reference: SUNDIALS CVODE (BDF, dense LU), restarted at doses */
    KS_SOLVER_CLOSED_FORM, /* exact solution of the linear PK by superposition of doses */
    KS_SOLVER_FAST         /* fast path: exact PK propagators + Rosenbrock-W (ROS34PW2) for the
                              mechanism; agrees with CVODE within the tolerance stated in
                              docs/API.md "Fast path" at its default fast_rtol/fast_atol */
} ks_solver_kind;

typedef struct {
    ks_solver_kind solver;
    double rtol; /* relative tolerance (CVODE); default 1e-8 */
    double atol; /* absolute tolerance in state units (umol or uM); default 1e-12 */
    /* Local error tolerances of the fast path's mechanism states (weighted RMS norm of the
     * embedded error estimate; its PK is exact): defaults 1e-5 and 1e-6 (docs/API.md "Fast
     * path"). Ignored by the other solvers. */
    double fast_rtol;
    double fast_atol;
} ks_sim_options;

/* Fills `opt` with the defaults. */
void ks_sim_options_init(ks_sim_options *opt);

typedef struct {
    long steps;          /* internal steps taken */
    long rhs_evals;      /* right-hand side evaluations */
    long jac_evals;      /* Jacobian evaluations */
    long lin_setups;     /* linear solver setups */
    long err_test_fails; /* local error test failures */
    long conv_fails;     /* nonlinear convergence failures */
    long restarts;       /* integrator (re)initialisations at dose boundaries */
} ks_solver_stats;

typedef struct ks_result ks_result;

/* Simulates every subject of the scenario. Returns NULL on failure (KS_ERR_SOLVER when the
 * integrator fails; no result with a non-finite value is ever returned). */
ks_result *ks_simulate(ks_ctx *ctx, const ks_params *params, const ks_scenario *scenario,
                       const ks_sim_options *opt);
void ks_result_free(ks_result *result);

size_t ks_result_subject_count(const ks_result *r);
/* Subject identifier (the NONMEM ID, or 1). */
long ks_result_subject_id(const ks_result *r, size_t subject);
size_t ks_result_time_count(const ks_result *r, size_t subject);
/* Output times of a subject, in hours, ascending. */
const double *ks_result_times(const ks_result *r, size_t subject);
size_t ks_result_output_count(const ks_result *r);
const char *ks_result_output_name(const ks_result *r, size_t j);
const char *ks_result_output_unit(const ks_result *r, size_t j);
/* Index of a named output, or -1. */
long ks_result_output_index(const ks_result *r, const char *name);
/* Values of output j for a subject, one per output time. */
const double *ks_result_values(const ks_result *r, size_t subject, size_t j);
/* Counters of the integrator, summed over subjects. */
void ks_result_solver_stats(const ks_result *r, ks_solver_stats *out);

/* Writes the tidy CSV (one row per subject x time; columns id, time_h and one per output, named
 * as ks_result_output_name) to `path` atomically: a temporary file in the same directory,
 * renamed when complete. */
ks_status ks_result_write_csv(ks_ctx *ctx, const ks_result *r, const char *path);
/* Writes the unit of every column of that CSV (a two-column CSV: column,unit), atomically. */
ks_status ks_result_write_units(ks_ctx *ctx, const ks_result *r, const char *path);

/* Non-compartmental summary of one output of one subject. */
typedef struct {
    double cmax;        /* output units */
    double tmax_h;      /* h */
    double auc;         /* output units x h, linear-up log-down trapezoid over the output grid */
    double half_life_h; /* terminal half-life from a log-linear fit of the last phase; NaN when
                          fewer than 3 positive points or the fit does not decline */
} ks_nca;

ks_status ks_result_nca(ks_ctx *ctx, const ks_result *r, size_t subject, size_t j, ks_nca *out);

/* Writes the summary printed by `ketasim run` (Cmax, Tmax, AUC, terminal half-life of each
 * plasma species present). */
ks_status ks_result_print_summary(ks_ctx *ctx, const ks_result *r, FILE *out);

/* ---------------------------------------------------------------------------------------
 * Validation against published results
 * ------------------------------------------------------------------------------------- */

typedef struct ks_validation ks_validation;

typedef struct {
    const char *id;       /* target id, e.g. "PK-01" */
    const char *quantity; /* what was measured */
    const char *target;   /* published value as written ("185", "52.5 vs 31.0") */
    double low, high;     /* band (NaN when the row compares arms) */
    const char *unit;
    double simulated;           /* NaN when the target is not a single number */
    const char *simulated_text; /* the simulated value(s) as text */
    const char *detail;         /* how the simulated value was measured */
    const char *source;
    int pass; /* 1 pass, 0 miss */
} ks_validation_row;

/* Runs every experiment whose target id equals `only` or starts with it (NULL: all).
 * `experiments_dir` NULL uses the experiments built into the library. */
ks_validation *ks_validate(ks_ctx *ctx, const ks_params *params, const char *experiments_dir,
                           const char *only);
void ks_validation_free(ks_validation *v);
size_t ks_validation_count(const ks_validation *v);
ks_status ks_validation_row_get(ks_ctx *ctx, const ks_validation *v, size_t i,
                                ks_validation_row *out);
size_t ks_validation_pass_count(const ks_validation *v);

/* ---------------------------------------------------------------------------------------
 * Virtual trials (docs/TRIAL.md, schema/trial.schema.json)
 *
 * A trial is a population, arms (doses and events per arm), rating visits and endpoints.
 * ks_trial_run samples the virtual patients of the population from (seed, patient key),
 * simulates each in its arm(s), rates it at every visit with rater noise and accumulates the
 * statistics in streaming form, so memory does not grow with the number of patients. With the
 * same seed the result is bitwise identical whatever the number of threads.
 * ------------------------------------------------------------------------------------- */

typedef struct ks_trial ks_trial;
typedef struct ks_trial_result ks_trial_result;
struct ks_trial_comm;

/* The default trial of `ketasim trial`: treatment-resistant patients, one racemic ketamine
 * 0.5 mg/kg IV infusion over 40 min vs saline, visits at 40 min, 2 h, 4 h and days 1, 3, 7,
 * 14, MADRS, 100 patients per arm, seed 1 (examples/trials/default.json). */
ks_trial *ks_trial_create_default(ks_ctx *ctx);
/* Reads a JSON trial file. Relative paths inside it are resolved against its directory. */
ks_trial *ks_trial_load(ks_ctx *ctx, const char *path);
/* Parses a trial held in memory; `name` is used in error messages, `base_dir` resolves
 * relative paths (NULL: the current directory). */
ks_trial *ks_trial_parse(ks_ctx *ctx, const char *text, size_t len, const char *name,
                         const char *base_dir);
void ks_trial_free(ks_trial *trial);
const char *ks_trial_name(const ks_trial *trial);
/* Patients per arm and seed given in the trial. */
long ks_trial_n_per_arm(const ks_trial *trial);
unsigned long long ks_trial_seed(const ks_trial *trial);

typedef struct {
    long n_per_arm;    /* > 0: overrides the trial's n_per_arm */
    int override_seed; /* 1: use `seed` instead of the trial's */
    unsigned long long seed;
    int threads;              /* OpenMP threads; <= 0: the OpenMP default */
    const char *patients_csv; /* non-NULL: per-patient rows (arm, patient, key, visit,
                                 time_h, true, observed) streamed to this file, written
                                 atomically; never kept in memory */
    ks_sim_options sim;       /* integrator options */
    /* Called from the calling thread after each block of patients (may be NULL). */
    void (*progress)(void *user, size_t done, size_t total);
    void *progress_user;
    /* Replicate trials for power (docs/TRIAL.md, "Power"): > 1 runs this many independent
     * trials (replicate r screens its own candidate keys); the result is the first replicate's
     * with the fraction of replicates whose primary endpoint has p < alpha. 0 or 1: one trial. */
    long replicates;
    double alpha; /* > 0: overrides the trial's endpoints.primary.alpha */
    /* Several processes (MPI ranks) sharing the patients: NULL for one process. */
    const struct ks_trial_comm *comm;
} ks_trial_options;

/* The collective operations of a run over several processes (ranks 0..size-1), supplied by the
 * caller (the ketasim command implements them with MPI). Every rank calls ks_trial_run with the
 * same trial and options; each simulates a contiguous share of every block of patients and the
 * per-patient records are gathered to rank 0 in patient order, where they are accumulated
 * exactly as in one process. Only rank 0's result is complete; only rank 0 writes the patient
 * rows (patients_csv and progress are ignored on other ranks). */
typedef struct ks_trial_comm {
    int rank, size;
    /* Gathers `n_mine` doubles of each rank into `all` on rank 0 in rank order (counts[r] from
     * rank r; `all` and `counts` are used on rank 0 only). Returns 0 on success. */
    int (*gather)(void *user, const double *mine, size_t n_mine, double *all, const size_t *counts);
    /* Broadcasts *value from rank 0 to every rank. Returns 0 on success. */
    int (*bcast_int)(void *user, int *value);
    void *user;
} ks_trial_comm;

/* Fills `opt` with the defaults (the trial's n and seed, default threads, no patient rows). */
void ks_trial_options_init(ks_trial_options *opt);

/* Runs the trial. Returns a new result (caller frees), or NULL with the context set:
 * KS_ERR_INPUT for a population the parameter table cannot resolve or an inclusion rule that
 * admits almost nobody, KS_ERR_SOLVER when a patient's simulation fails, KS_ERR_IO when the
 * patient rows cannot be written. */
ks_trial_result *ks_trial_run(ks_ctx *ctx, const ks_params *params, const ks_trial *trial,
                              const ks_trial_options *opt);
void ks_trial_result_free(ks_trial_result *r);

size_t ks_trial_result_arm_count(const ks_trial_result *r);
const char *ks_trial_result_arm_name(const ks_trial_result *r, size_t arm);
/* Index of the reference arm of the contrasts. */
size_t ks_trial_result_reference_arm(const ks_trial_result *r);
/* Visits, baseline (t = 0) first. */
size_t ks_trial_result_visit_count(const ks_trial_result *r);
double ks_trial_result_visit_time_h(const ks_trial_result *r, size_t visit);
const char *ks_trial_result_visit_label(const ks_trial_result *r, size_t visit);
/* Patients per arm, candidates screened and candidates included. */
long ks_trial_result_n_per_arm(const ks_trial_result *r);
void ks_trial_result_screening(const ks_trial_result *r, size_t *screened, size_t *included);

/* Statistics of one arm at one visit, on the trial's scale. Intervals are 95%. */
typedef struct {
    size_t n;
    double mean, sd, ci_low, ci_high; /* observed score; t interval of the mean */
    double change_mean, change_sd;    /* observed minus observed baseline */
    double change_ci_low, change_ci_high;
    double true_mean; /* noise-free score */
    size_t responders, remitters;
    double response_rate, response_ci_low, response_ci_high;    /* Wilson */
    double remission_rate, remission_ci_low, remission_ci_high; /* Wilson */
} ks_trial_visit_stats;

ks_status ks_trial_result_visit_stats(ks_ctx *ctx, const ks_trial_result *r, size_t arm,
                                      size_t visit, ks_trial_visit_stats *out);

/* Difference of mean change from baseline, arm minus the reference arm, at a visit: Welch t
 * interval for parallel designs, paired t interval for crossover designs. */
typedef struct {
    double diff, se, df, ci_low, ci_high, p_value;
} ks_trial_contrast;

ks_status ks_trial_result_contrast(ks_ctx *ctx, const ks_trial_result *r, size_t arm, size_t visit,
                                   ks_trial_contrast *out);

/* Power of the primary endpoint over the replicates: replicates run, how many had p < alpha,
 * the fraction and its Wilson 95% interval. KS_ERR_USAGE when the run had no replicates. */
typedef struct {
    size_t replicates, significant;
    double alpha, power, ci_low, ci_high;
} ks_trial_power;

ks_status ks_trial_result_power(ks_ctx *ctx, const ks_trial_result *r, ks_trial_power *out);

/* Time to relapse of an arm against the reference (Cox model, Breslow ties): hazard ratio with
 * its 95% interval and Wald p value, and each arm's Kaplan-Meier median (h after the origin)
 * with its interval. KS_ERR_USAGE when the trial defines no relapse. */
typedef struct {
    double hr, hr_ci_low, hr_ci_high, p_value, p_logrank;
    double median_h, median_ci_low_h, median_ci_high_h;
    size_t n, events;
} ks_trial_relapse;

ks_status ks_trial_result_relapse(ks_ctx *ctx, const ks_trial_result *r, size_t arm,
                                  ks_trial_relapse *out);

/* Writers. The JSON summary (one object) and the text table go to a stream; the files are
 * written atomically. The tidy CSV has the columns arm,visit,time_h,statistic,value. */
ks_status ks_trial_result_write_json(ks_ctx *ctx, const ks_trial_result *r, FILE *out);
ks_status ks_trial_result_save_json(ks_ctx *ctx, const ks_trial_result *r, const char *path);
ks_status ks_trial_result_write_visits_csv(ks_ctx *ctx, const ks_trial_result *r, const char *path);
ks_status ks_trial_result_print(ks_ctx *ctx, const ks_trial_result *r, FILE *out);

/* ---------------------------------------------------------------------------------------
 * Reports: SVG figures, a self-contained HTML report and a plain-language narrative
 * (docs/REPORT.md). Every figure and narrative is derived from the simulated time courses;
 * every report says that it is for research and education and is not medical advice.
 * ------------------------------------------------------------------------------------- */

typedef struct {
    /* The scenario that produced the result: its doses are drawn as markers and named in the
     * narrative ("25 minutes into the infusion"). NULL: no dose is known, times are given
     * from the start of the simulation. */
    const ks_scenario *scenario;
    size_t subject;         /* subject plotted and described (0 = the first) */
    int log_concentrations; /* 1: concentration axes on a logarithmic scale */
} ks_report_options;

/* Fills `opt` with the defaults (no scenario, subject 0, linear axes). */
void ks_report_options_init(ks_report_options *opt);

/* Number and names of the figures ks_plot_write_svg knows ("pk", "cascade", "spines",
 * "mood"), static strings; NULL when i is out of range. A one-line description of each is
 * returned by ks_plot_figure_description. */
size_t ks_plot_figure_count(void);
const char *ks_plot_figure_name(size_t i);
const char *ks_plot_figure_description(size_t i);

/* Writes one figure as a standalone SVG file at `path` (atomically). Panels whose outputs
 * the result does not have are left out; a figure with no panel left is KS_ERR_INPUT naming
 * the outputs it needs. `opt` NULL uses the defaults. */
ks_status ks_plot_write_svg(ks_ctx *ctx, const ks_result *r, const char *figure, const char *path,
                            const ks_report_options *opt);

/* Writes DIR/report.html (one file: inline SVG and CSS, no script, no network access) and
 * DIR/narrative.txt (the plain-language text alone). DIR must exist. */
ks_status ks_report_write_html(ks_ctx *ctx, const ks_result *r, const char *dir,
                               const ks_report_options *opt);

/* Writes DIR/report.html and DIR/narrative.txt for a virtual trial: arm means with 95%
 * confidence bands, response and remission rates at the visits, and, when `patients_csv`
 * names the per-patient rows of the same run (ks_trial_options.patients_csv), Kaplan-Meier
 * curves of the time to first response and of how long responders kept their response.
 * `patients_csv` NULL leaves the Kaplan-Meier figures out (the text says so). */
ks_status ks_trial_report_write_html(ks_ctx *ctx, const ks_trial_result *r, const char *dir,
                                     const char *patients_csv);

/* The plain-language narrative as UTF-8 text: sections start with a line "## Title",
 * paragraphs are separated by blank lines. Returns a new string the caller frees with
 * free(), or NULL on failure. */
char *ks_report_narrative(ks_ctx *ctx, const ks_result *r, const ks_report_options *opt);

#ifdef __cplusplus
}
#endif

#endif /* KETASIM_H */
