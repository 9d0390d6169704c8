/*
 * patient_speed.c -- time per patient of the reference path (CVODE) and of the fast path
 * (KS_SOLVER_FAST), and their largest differences: a 28-day course of six racemic ketamine
 * infusions (0.5 mg/kg over 40 min, Mon/Wed/Fri for two weeks) with a therapy session the day
 * after each and weekly visits, noise on, output hourly.
 *
 * Usage: patient_speed [N patients (default 200)] [rtol of CVODE (default 1e-6)]
 * Environment: KS_BENCH_PKONLY (PK only), KS_BENCH_NONOISE (noise off), KS_BENCH_SAME (every
 * patient the typical 70-kg patient; by default body weight varies 50-99 kg, so the fast path
 * rebuilds its PK propagators for every patient), KS_BENCH_ONLY=fast|cvode (time one path only,
 * e.g. under perf), KS_BENCH_CMP=M (patients compared against the tight reference, default 20;
 * 0 skips the comparison), KS_BENCH_DUMP=FILE (write every output of every timed patient of
 * the last timed path to FILE as raw doubles, to compare builds bitwise), KS_BENCH_FIRST=K
 * (time patients K..N-1 only, e.g. one patient under a tracer), KS_BENCH_VERBOSE (print each
 * compared patient's madrs_true difference).
 * Prints ms of CPU time per patient (this process's CPU clock, robust on a shared machine) and
 * the solvers' counters for both paths, the speed-up, and the largest
 * differences fast - reference over the first min(N, 20) patients: madrs_true in points, every
 * other mechanism output relative to its range over the course, PK outputs relative to their
 * peak.
 */
#define _POSIX_C_SOURCE 200809L

#include "core/internal.h"
#include "model/model.h"
#include "sim/patient_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NT 673

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: robust on a shared machine */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    ks_dose d[6];
    ks_event ev[16];
    size_t ne;
    double times[NT];
    size_t sel[KS_SIM_OUT_AMOUNT];
    size_t n_sel;
    int mech, noise, same;
} course;

static void course_init(course *c)
{
    const double days[6] = {0, 2, 4, 7, 9, 11};
    c->ne = 0;
    for (int i = 0; i < 6; i++) {
        memset(&c->d[i], 0, sizeof c->d[i]);
        c->d[i].t_h = 24.0 * days[i] + 9.0;
        c->d[i].duration_h = 40.0 / 60.0;
        c->d[i].drug = KS_DRUG_KETAMINE;
        c->d[i].route = KS_ROUTE_IV_INFUSION;
        c->ev[c->ne++] = (ks_event){c->d[i].t_h + 24.0, 0.0, 1.0, KS_EV_THERAPY};
    }
    for (int w = 0; w < 4; w++) {
        c->ev[c->ne++] = (ks_event){24.0 * 7.0 * w + 8.0, 0.0, 1.0, KS_EV_VISIT};
    }
    ks_events_sort(c->ev, c->ne);
    for (int k = 0; k < NT; k++) {
        c->times[k] = (double)k;
    }
    c->mech = getenv("KS_BENCH_PKONLY") ? 0 : 1;
    c->noise = getenv("KS_BENCH_NONOISE") ? 0 : 1;
    c->same = getenv("KS_BENCH_SAME") != NULL;
    c->n_sel = c->mech ? KS_SIM_OUT_AMOUNT : KS_PK_NOUT;
    for (size_t j = 0; j < KS_SIM_OUT_AMOUNT; j++) {
        c->sel[j] = j;
    }
}

/* Patient i of the course into *p and the doses (0.5 mg/kg). */
static void patient_i(course *c, int i, ks_patient *p)
{
    ks_patient_init(p);
    if (!c->same) {
        p->weight_kg = 50.0 + (double)(i % 50);
    }
    for (int k = 0; k < 6; k++) {
        c->d[k].amount_mg = 0.5 * p->weight_kg;
    }
}

static ks_status run_one(ks_ctx *ctx, const ks_model_typical *typ, ks_sim_workspace *ws, course *c,
                         int i, double *out, ks_solver_stats *stats)
{
    ks_patient p;
    patient_i(c, i, &p);
    ks_patient_run run;
    memset(&run, 0, sizeof run);
    run.patient = &p;
    run.doses = c->d;
    run.n_doses = 6;
    run.events = c->ev;
    run.n_events = c->ne;
    run.times_h = c->times;
    run.n_times = NT;
    run.mechanism = c->mech;
    run.noise = c->noise;
    run.seed = 1;
    run.key = (uint64_t)i;
    return ks_sim_patient(ctx, typ, ws, &run, c->sel, c->n_sel, out, stats);
}

/* Times patients i0..n-1 on one path; returns ms per timed patient (negative on failure). */
static double time_path(ks_ctx *ctx, const ks_model_typical *typ, ks_sim_workspace *ws, course *c,
                        int i0, int n, double *out, ks_solver_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    const char *dump = getenv("KS_BENCH_DUMP");
    FILE *fd = dump ? fopen(dump, "wb") : NULL;
    if (dump && !fd) {
        fprintf(stderr, "KS_BENCH_DUMP=%s: cannot open for writing\n", dump);
        return -1.0;
    }
    double cpu = 0.0;
    for (int i = i0; i < n; i++) {
        double t0 = now_s();
        if (run_one(ctx, typ, ws, c, i, out, stats) != KS_OK) {
            fprintf(stderr, "patient %d: %s\n", i, ks_ctx_message(ctx));
            if (fd) {
                fclose(fd);
            }
            return -1.0;
        }
        cpu += now_s() - t0;
        if (fd) {
            fwrite(out, sizeof(double), c->n_sel * NT, fd);
        }
    }
    if (fd) {
        fclose(fd);
    }
    return 1e3 * cpu / (n - i0);
}

static void print_stats(const char *name, double ms, const ks_solver_stats *s, int n)
{
    printf("%-9s %8.3f ms per patient; per patient %.0f steps, %.0f rhs, %.0f jacobians, %.0f "
           "LU, %.0f rejected, %.0f restarts\n",
           name, ms, (double)s->steps / n, (double)s->rhs_evals / n, (double)s->jac_evals / n,
           (double)s->lin_setups / n, (double)s->err_test_fails / n, (double)s->restarts / n);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    double rtol = argc > 2 ? atof(argv[2]) : 1e-6;
    if (n < 1) {
        n = 1;
    }
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ks_params_create_default(ctx);
    ks_model_typical typ = {NULL, NULL};
    if (!params || ks_model_typical_init(ctx, params, &typ) != KS_OK) {
        fprintf(stderr, "setup: %s\n", ks_ctx_message(ctx));
        return 1;
    }
    ks_sim_options oref, ofast;
    ks_sim_options_init(&oref);
    oref.rtol = rtol;
    oref.atol = rtol * 1e-4;
    ks_sim_options_init(&ofast);
    ofast.solver = KS_SOLVER_FAST;
    ks_sim_workspace *wref = ks_sim_workspace_create(ctx, &oref);
    ks_sim_workspace *wfast = ks_sim_workspace_create(ctx, &ofast);
    static course c;
    course_init(&c);
    double *out = malloc(sizeof(double) * KS_SIM_OUT_AMOUNT * NT);
    double *out2 = malloc(sizeof(double) * KS_SIM_OUT_AMOUNT * NT);
    if (!wref || !wfast || !out || !out2) {
        fprintf(stderr, "setup: %s\n", ks_ctx_message(ctx));
        return 1;
    }
    printf("course: 6 infusions over 28 days, hourly output, %s, noise %s, %s patients\n",
           c.mech ? "PK and mechanism" : "PK only", c.noise ? "on" : "off",
           c.same ? "identical" : "weight-varied");
    const char *only = getenv("KS_BENCH_ONLY");
    const int do_ref = !only || strcmp(only, "fast") != 0;
    const int do_fast = !only || strcmp(only, "cvode") != 0;
    const char *first = getenv("KS_BENCH_FIRST");
    const int i0 = first ? atoi(first) : 0;
    if (i0 < 0 || i0 >= n) {
        fprintf(stderr, "KS_BENCH_FIRST=%s: must be 0..%d\n", first, n - 1);
        return 1;
    }
    ks_solver_stats sref, sfast;
    memset(&sref, 0, sizeof sref);
    memset(&sfast, 0, sizeof sfast);
    double ms_ref = do_ref ? time_path(ctx, &typ, wref, &c, i0, n, out, &sref) : 0.0;
    double ms_fast = do_fast ? time_path(ctx, &typ, wfast, &c, i0, n, out, &sfast) : 0.0;
    if (ms_ref < 0.0 || ms_fast < 0.0) {
        return 1;
    }
    char name[32];
    snprintf(name, sizeof name, "cvode %g", rtol);
    if (do_ref) {
        print_stats(name, ms_ref, &sref, n - i0);
    }
    if (do_fast) {
        print_stats("fast", ms_fast, &sfast, n - i0);
        printf("patient-days per second per core (fast): %.0f\n", 28.0 * 1e3 / ms_fast);
    }
    if (do_ref && do_fast) {
        printf("speed-up: %.1fx\n", ms_ref / ms_fast);
    }

    /* agreement against a tight reference (rtol 1e-8) */
    ks_sim_options otight;
    ks_sim_options_init(&otight);
    ks_sim_workspace *wtight = ks_sim_workspace_create(ctx, &otight);
    double worst_madrs = 0.0, worst_pd = 0.0, worst_pk = 0.0;
    size_t arg_pd = 0;
    const char *cmp_env = getenv("KS_BENCH_CMP");
    int ncmp = cmp_env ? atoi(cmp_env) : 20;
    ncmp = ncmp < 0 ? 0 : (n < ncmp ? n : ncmp);
    ks_solver_stats dummy;
    double *pmad = calloc((size_t)(ncmp > 0 ? ncmp : 1), sizeof(double));
    for (int i = 0; i < ncmp && wtight && pmad; i++) {
        if (run_one(ctx, &typ, wtight, &c, i, out, &dummy) != KS_OK ||
            run_one(ctx, &typ, wfast, &c, i, out2, &dummy) != KS_OK) {
            fprintf(stderr, "patient %d: %s\n", i, ks_ctx_message(ctx));
            return 1;
        }
        for (size_t j = 0; j < c.n_sel; j++) {
            const double *a = out + j * NT, *b = out2 + j * NT;
            double lo = a[0], hi = a[0], dmax = 0.0;
            for (int k = 0; k < NT; k++) {
                lo = fmin(lo, a[k]);
                hi = fmax(hi, a[k]);
                dmax = fmax(dmax, fabs(a[k] - b[k]));
            }
            if (j < KS_SIM_OUT_PD) {
                worst_pk = fmax(worst_pk, dmax / fmax(fmax(fabs(hi), fabs(lo)), 1e-300));
            } else if (j == KS_SIM_OUT_PD + KS_PD_OUT_MADRS) {
                worst_madrs = fmax(worst_madrs, dmax);
                pmad[i] = dmax;
                if (getenv("KS_BENCH_VERBOSE")) {
                    printf("patient %d: madrs_true difference %.3g points\n", i, dmax);
                }
            } else if (j < KS_SIM_OUT_NOISE) {
                double rel = hi > lo ? dmax / (hi - lo) : (dmax > 0.0 ? INFINITY : 0.0);
                /* constant outputs: compare with their magnitude */
                if (!(hi > lo)) {
                    rel = dmax / fmax(fabs(hi), 1e-12);
                }
                if (rel > worst_pd) {
                    worst_pd = rel;
                    arg_pd = j;
                }
            }
        }
    }
    printf("largest differences fast - cvode(rtol 1e-8) over %d patients: madrs_true %.3g "
           "points; mechanism outputs %.3g of their range (%s); PK outputs %.3g of their peak\n",
           ncmp, worst_madrs, worst_pd, c.mech ? ks_sim_output_name(arg_pd) : "-", worst_pk);
    if (ncmp > 0 && pmad) {
        /* the per-patient largest madrs_true differences, sorted (a near-ridge patient can
         * dominate the largest) */
        qsort(pmad, (size_t)ncmp, sizeof(double), cmp_double);
        printf("per-patient madrs_true differences: median %.3g, 90th percentile %.3g points\n",
               pmad[ncmp / 2], pmad[(9 * ncmp) / 10 < ncmp ? (9 * ncmp) / 10 : ncmp - 1]);
    }
    free(pmad);
    ks_sim_workspace_free(wtight);
    free(out);
    free(out2);
    ks_sim_workspace_free(wref);
    ks_sim_workspace_free(wfast);
    ks_model_typical_clear(&typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return 0;
}
