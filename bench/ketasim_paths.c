/*
 * ketasim_paths.c -- runs the benchmark population (bench_common.h) through one of ketasim's
 * simulation paths, on one thread, and writes every patient's noise-free MADRS (madrs_true) on
 * the hourly grid. Prints one line "path=P patients=N wall_s=W steps_per_patient=S".
 *
 * Usage: ketasim_paths PATH N DAYS SEED RTOL ATOL OUT.csv
 *   PATH: reference (CVODE through ks_sim_patient, at RTOL/ATOL), fast (the fast path at the
 *   same RTOL/ATOL on its mechanism states, when the library has one: the build defines
 *   KS_BENCH_HAVE_FAST when include/ketasim.h names KS_SOLVER_FAST; otherwise this prints
 *   "path=fast unavailable" and exits 3) or fast-default (the fast path at its own default
 *   tolerances, what `ketasim trial` uses; RTOL/ATOL ignored).
 *
 * Timed: the loop over patients (building each patient's PK system and mechanism parameters,
 * drawing its noise path and integrating). Not timed: sampling the population, writing the CSV.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench_common.h"

#include <inttypes.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr,
                "usage: ketasim_paths reference|fast|fast-default N DAYS SEED RTOL ATOL OUT.csv\n");
        return 2;
    }
    const char *path = argv[1];
    ks_sim_options opt;
    ks_sim_options_init(&opt);
    if (strcmp(path, "reference") == 0) {
        opt.solver = KS_SOLVER_CVODE;
    } else if (strcmp(path, "fast") == 0 || strcmp(path, "fast-default") == 0) {
#ifdef KS_BENCH_HAVE_FAST
        opt.solver = KS_SOLVER_FAST;
#else
        printf("path=fast unavailable\n");
        return 3;
#endif
    } else {
        fprintf(stderr, "ketasim_paths: PATH must be reference, fast or fast-default (got %s)\n",
                path);
        return 2;
    }
    size_t n = (size_t)bench_arg(argv[2], "N", 1, 10000000);
    int days = (int)bench_arg(argv[3], "DAYS", 1, 3650);
    uint64_t seed = (uint64_t)bench_arg(argv[4], "SEED", 0, (unsigned long)-1);
    opt.rtol = strtod(argv[5], NULL);
    opt.atol = strtod(argv[6], NULL);
#ifdef KS_BENCH_HAVE_FAST
    if (strcmp(path, "fast") == 0) {
        opt.fast_rtol = opt.rtol; /* the benchmark's tolerances, as in every other tool */
        opt.fast_atol = opt.atol;
    }
#endif
    const char *out_path = argv[7];

    int rc = 1;
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ctx ? ks_params_create_default(ctx) : NULL;
    ks_model_typical typ = {NULL, NULL};
    ks_sim_workspace *ws = NULL;
    double *madrs = NULL;
    bench_pop bp;
    memset(&bp, 0, sizeof bp);
    if (!params || ks_model_typical_init(ctx, params, &typ) != KS_OK ||
        bench_pop_init(ctx, params, n, days, seed, &bp) != KS_OK ||
        !(ws = ks_sim_workspace_create(ctx, &opt))) {
        fprintf(stderr, "ketasim_paths: %s\n", ctx ? ks_ctx_message(ctx) : "no memory");
        goto done;
    }
    madrs = malloc(n * bp.n_times * sizeof *madrs);
    if (!madrs) {
        fprintf(stderr, "ketasim_paths: out of memory\n");
        goto done;
    }
    const size_t sel = KS_SIM_OUT_PD + KS_PD_OUT_MADRS;
    ks_solver_stats stats;
    memset(&stats, 0, sizeof stats);
    ks_dose d[BENCH_MAX_DOSES];
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t i = 0; i < n; i++) {
        bench_doses(&bp, i, d);
        ks_patient_run run;
        memset(&run, 0, sizeof run);
        run.patient = &bp.vp[i].patient;
        run.cov = &bp.vp[i].cov;
        run.doses = d;
        run.n_doses = bp.n_dose;
        run.events = bp.ev;
        run.n_events = bp.n_ev;
        run.times_h = bp.times;
        run.n_times = bp.n_times;
        run.open_label = BENCH_OPEN_LABEL;
        run.mechanism = 1;
        run.noise = 1;
        run.seed = seed;
        run.key = bp.key[i];
        if (ks_sim_patient(ctx, &typ, ws, &run, &sel, 1, madrs + i * bp.n_times, &stats) != KS_OK) {
            fprintf(stderr, "ketasim_paths: %s\n", ks_ctx_message(ctx));
            goto done;
        }
    }
    double wall = clock_s(CLOCK_MONOTONIC) - t0;
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    FILE *f = fopen(out_path, "w");
    if (!f) {
        perror(out_path);
        goto done;
    }
    fprintf(f, "id");
    for (size_t k = 0; k < bp.n_times; k++) {
        fprintf(f, ",t%zu", k);
    }
    fprintf(f, "\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%zu", i);
        for (size_t k = 0; k < bp.n_times; k++) {
            fprintf(f, ",%.17g", madrs[i * bp.n_times + k]);
        }
        fprintf(f, "\n");
    }
    if (fclose(f) != 0) {
        perror(out_path);
        goto done;
    }
    printf("path=%s patients=%zu wall_s=%.6f cpu_s=%.6f steps_per_patient=%.1f\n", path, n, wall,
           cpu, (double)stats.steps / (double)n);
    rc = 0;
done:
    free(madrs);
    bench_pop_free(&bp);
    ks_sim_workspace_free(ws);
    ks_model_typical_clear(&typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return rc;
}
