/*
 * cmd_trial.c -- `ketasim trial`: run a virtual trial (the default one when no file is given)
 * and print its per-visit table, or its JSON summary, and write the summary files.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef KS_HAVE_MPI
#include <limits.h>
#include <mpi.h>
#endif

static void trial_usage(FILE *out)
{
    fprintf(out,
            "usage: ketasim trial [TRIAL.json] [options]\n"
            "\n"
            "Runs a virtual trial: a population of virtual patients, arms of doses and events,\n"
            "rating visits and endpoints (docs/TRIAL.md). With no file, the default trial:\n"
            "treatment-resistant patients, one racemic ketamine 0.5 mg/kg IV infusion over\n"
            "40 min vs saline, MADRS at 40 min, 2 h, 4 h and days 1, 3, 7 and 14.\n"
            "Prints per arm and visit the mean score, the change from baseline, response and\n"
            "remission rates with 95%% confidence intervals and the difference from the\n"
            "reference arm.\n"
            "\n"
            "options:\n"
            "  --n N              patients per arm (default: the trial's, 100 by default)\n"
            "  --seed S           random seed, a whole number (default: the trial's)\n"
            "  --threads T        threads (default: all cores); results do not depend on it\n"
            "  --solver NAME      fast (default: exact PK + Rosenbrock-W) or cvode (reference)\n"
            "  --replicates R     run R independent replicate trials and report the power\n"
            "                     of the primary endpoint (fraction with p < alpha)\n"
            "  --alpha A          two-sided level of the power calculation (default: the\n"
            "                     trial's endpoints.primary.alpha, 0.05)\n"
            "  --out DIR          write DIR/trial_summary.json and DIR/trial_visits.csv\n"
            "  --patients         also write DIR/trial_patients.csv (one row per patient and\n"
            "                     visit: true and observed score); needs --out\n"
            "  --report DIR       also write DIR/report.html (figures and a plain-language\n"
            "                     account, self-contained), DIR/narrative.txt and the patient\n"
            "                     rows DIR/trial_patients.csv its Kaplan-Meier curves use\n"
            "  --params FILE.csv  a parameter table replacing the built-in one\n"
            "  --json             print the summary as one JSON object instead of the table\n"
            "  --quiet            no table and no progress bar\n"
            "\n"
            "Under mpirun (mpirun -np K ketasim trial ...) the patients are shared among the\n"
            "ranks and the result is the same as in one process; rank 0 writes every output.\n"
            "  --help             this text\n"
            "\n"
            "For research and education; not medical advice.\n");
}

/* A whole number in [lo, hi]; 0 on success. */
static int whole_number(const char *s, unsigned long long lo, unsigned long long hi,
                        unsigned long long *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Reads the value of the whole-number option argv[*i] (advancing *i) into *out; KS_EXIT_OK,
 * or the usage exit code after a message when the value is missing or outside [lo, hi]
 * (hi written as hi_text). */
static int whole_option(int argc, char **argv, int *i, unsigned long long lo, unsigned long long hi,
                        const char *hi_text, unsigned long long *out)
{
    const char *name = argv[*i];
    const char *s = ks_cli_value(argc, argv, i, "trial");
    if (!s)
        return KS_EXIT_INPUT;
    if (whole_number(s, lo, hi, out) != 0)
        return ks_cli_usage_error("trial", "%s: expected a whole number from %llu to %s (got '%s')",
                                  name, lo, hi_text, s);
    return KS_EXIT_OK;
}

typedef struct {
    int last_pct;
} progress_state;

/* A progress bar on stderr, redrawn when the percentage changes. */
static void progress_bar(void *user, size_t done, size_t total)
{
    progress_state *p = user;
    int pct = total ? (int)((double)done * 100.0 / (double)total) : 100;
    if (pct == p->last_pct)
        return;
    p->last_pct = pct;
    int width = 40, fill = pct * width / 100;
    fprintf(stderr, "\rtrial [");
    for (int i = 0; i < width; i++)
        fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%% (%zu/%zu patients)", pct, done, total);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

#ifdef KS_HAVE_MPI
/* Gathers each rank's records to rank 0 in rank order (ks_trial_comm.gather). */
static int mpi_gather(void *user, const double *mine, size_t n_mine, double *all,
                      const size_t *counts)
{
    (void)user;
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (n_mine > INT_MAX)
        return -1;
    int *cnt = NULL, *disp = NULL;
    if (rank == 0) {
        cnt = malloc((size_t)size * sizeof *cnt);
        disp = malloc((size_t)size * sizeof *disp);
        if (!cnt || !disp) {
            free(cnt);
            free(disp);
            return -1; /* the other ranks then wait: rank 0 aborts below */
        }
        size_t off = 0;
        for (int k = 0; k < size; k++) {
            if (counts[k] > INT_MAX || off > INT_MAX) {
                free(cnt);
                free(disp);
                return -1;
            }
            cnt[k] = (int)counts[k];
            disp[k] = (int)off;
            off += counts[k];
        }
    }
    int rc =
        MPI_Gatherv(mine, (int)n_mine, MPI_DOUBLE, all, cnt, disp, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    free(cnt);
    free(disp);
    return rc == MPI_SUCCESS ? 0 : -1;
}

static int mpi_bcast_int(void *user, int *value)
{
    (void)user;
    return MPI_Bcast(value, 1, MPI_INT, 0, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}

/* True when started by an MPI launcher (Open MPI's mpirun, or a PMI/PMIx launcher): only then
 * is MPI initialised, so that a plain `ketasim trial` never waits for a runtime. */
static int launched_by_mpi(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}
#endif

static int trial_command(int argc, char **argv, const ks_trial_comm *comm);

int ks_cmd_trial(int argc, char **argv)
{
#ifdef KS_HAVE_MPI
    if (launched_by_mpi()) {
        int provided = 0;
        if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
            fprintf(stderr, "ketasim: MPI initialisation failed\n");
            return KS_EXIT_IO;
        }
        ks_trial_comm comm = {0, 1, mpi_gather, mpi_bcast_int, NULL};
        MPI_Comm_rank(MPI_COMM_WORLD, &comm.rank);
        MPI_Comm_size(MPI_COMM_WORLD, &comm.size);
        /* every rank does the same work; rank 0 alone speaks */
        if (comm.rank != 0) {
            FILE *o = freopen("/dev/null", "w", stdout), *e = freopen("/dev/null", "w", stderr);
            (void)o;
            (void)e;
        }
        int code = trial_command(argc, argv, comm.size > 1 ? &comm : NULL);
        MPI_Finalize();
        return code;
    }
#endif
    return trial_command(argc, argv, NULL);
}

static int trial_command(int argc, char **argv, const ks_trial_comm *comm)
{
    const char *trial_path = NULL, *outdir = NULL, *params_path = NULL, *report_dir = NULL;
    int json = 0, quiet = 0, patients = 0;
    ks_trial_options opt;
    ks_trial_options_init(&opt);
    const ks_cli_opt opts[] = {{"--out", NULL, &outdir, NULL},
                               {"--params", NULL, &params_path, NULL},
                               {"--report", NULL, &report_dir, NULL},
                               {"--json", NULL, NULL, &json},
                               {"--patients", NULL, NULL, &patients},
                               {"--quiet", "-q", NULL, &quiet},
                               {NULL, NULL, NULL, NULL}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        unsigned long long v;
        int bad;
        int known = ks_cli_option(argc, argv, &i, "trial", opts);
        if (known < 0)
            return KS_EXIT_INPUT;
        if (known > 0)
            continue;
        if (ks_cli_is_help(a)) {
            trial_usage(stdout);
            return KS_EXIT_OK;
        } else if (strcmp(a, "--n") == 0) {
            if ((bad = whole_option(argc, argv, &i, 1, 100000000ULL, "100000000", &v)))
                return bad;
            opt.n_per_arm = (long)v;
        } else if (strcmp(a, "--seed") == 0) {
            if ((bad = whole_option(argc, argv, &i, 0, 9007199254740992ULL, "2^53", &v)))
                return bad;
            opt.override_seed = 1;
            opt.seed = v;
        } else if (strcmp(a, "--threads") == 0) {
            if ((bad = whole_option(argc, argv, &i, 1, 1024, "1024", &v)))
                return bad;
            opt.threads = (int)v;
        } else if (strcmp(a, "--solver") == 0) {
            const char *s = ks_cli_value(argc, argv, &i, "trial");
            if (!s)
                return KS_EXIT_INPUT;
            if (strcmp(s, "fast") == 0)
                opt.sim.solver = KS_SOLVER_FAST;
            else if (strcmp(s, "cvode") == 0)
                opt.sim.solver = KS_SOLVER_CVODE;
            else
                return ks_cli_usage_error("trial", "--solver: expected fast or cvode (got '%s')",
                                          s);
        } else if (strcmp(a, "--replicates") == 0) {
            if ((bad = whole_option(argc, argv, &i, 1, 10000, "10000", &v)))
                return bad;
            opt.replicates = (long)v;
        } else if (strcmp(a, "--alpha") == 0) {
            const char *s = ks_cli_value(argc, argv, &i, "trial");
            double x;
            if (!s)
                return KS_EXIT_INPUT;
            if (ks_cli_number(s, &x) != 0 || !(x > 0.0 && x <= 0.5))
                return ks_cli_usage_error("trial",
                                          "--alpha: expected a number above 0 and at most "
                                          "0.5 (got '%s')",
                                          s);
            opt.alpha = x;
        } else if (a[0] == '-' && a[1] != '\0') {
            return ks_cli_usage_error("trial", "unknown option '%s'", a);
        } else if (!trial_path) {
            trial_path = a;
        } else {
            return ks_cli_usage_error("trial", "more than one trial given ('%s' and '%s')",
                                      trial_path, a);
        }
    }
    if (patients && !outdir)
        return ks_cli_usage_error("trial", "--patients needs --out DIR");

    int code = KS_EXIT_OK;
    ks_params *params = NULL;
    ks_trial *trial = NULL;
    ks_trial_result *res = NULL;
    char *p_summary = NULL, *p_visits = NULL, *p_patients = NULL;
    progress_state prog = {-1};
    ks_ctx *ctx = ks_cli_ctx_create();
    if (!ctx)
        return KS_EXIT_IO;
    if (!(params = ks_cli_load_params(ctx, params_path)))
        goto fail;
    trial = trial_path ? ks_trial_load(ctx, trial_path) : ks_trial_create_default(ctx);
    if (!trial)
        goto fail;
    int root = !comm || comm->rank == 0; /* rank 0 alone writes */
    if (outdir && root) {
        if (ks_cli_prepare_outdir(outdir) != KS_OK) {
            code = KS_EXIT_INPUT;
            goto setup_done;
        }
        if (!(p_summary = join(outdir, "trial_summary.json")) ||
            !(p_visits = join(outdir, "trial_visits.csv")) ||
            (patients && !(p_patients = join(outdir, "trial_patients.csv")))) {
            fprintf(stderr, "ketasim: out of memory\n");
            code = KS_EXIT_IO;
            goto setup_done;
        }
        opt.patients_csv = p_patients;
    }
    if (report_dir && root) {
        /* the report's Kaplan-Meier curves read the patient rows */
        if (ks_cli_prepare_outdir(report_dir) != KS_OK) {
            code = KS_EXIT_INPUT;
            goto setup_done;
        }
        if (!p_patients) {
            if (!(p_patients = join(report_dir, "trial_patients.csv"))) {
                fprintf(stderr, "ketasim: out of memory\n");
                code = KS_EXIT_IO;
                goto setup_done;
            }
            opt.patients_csv = p_patients;
        }
    }
setup_done:
    if (comm && comm->bcast_int) {
        /* every rank learns whether rank 0 could prepare its outputs */
        int c = code;
        if (comm->bcast_int(comm->user, &c) != 0 && c == KS_EXIT_OK)
            c = KS_EXIT_IO;
        code = c;
    }
    if (code != KS_EXIT_OK)
        goto done;
    opt.comm = comm;
    if (!quiet && root && isatty(STDERR_FILENO)) {
        opt.progress = progress_bar;
        opt.progress_user = &prog;
    }
    res = ks_trial_run(ctx, params, trial, &opt);
    if (!res)
        goto fail;
    if (!root)
        goto done; /* rank 0 writes every output */
    if (outdir && (ks_trial_result_save_json(ctx, res, p_summary) != KS_OK ||
                   ks_trial_result_write_visits_csv(ctx, res, p_visits) != KS_OK))
        goto fail;
    if (report_dir && ks_trial_report_write_html(ctx, res, report_dir, p_patients) != KS_OK)
        goto fail;
    if (json) {
        if (ks_trial_result_write_json(ctx, res, stdout) != KS_OK)
            goto fail;
    } else if (!quiet) {
        if (ks_trial_result_print(ctx, res, stdout) != KS_OK)
            goto fail;
    }
    goto done;
fail:
    code = ks_cli_fail(ctx);
done:
    free(p_summary);
    free(p_visits);
    free(p_patients);
    ks_trial_result_free(res);
    ks_trial_free(trial);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return code;
}
