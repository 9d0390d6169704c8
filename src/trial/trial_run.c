/*
 * trial_run.c -- running a virtual trial: screening of candidate patients in key order,
 * simulation of blocks of included patients over OpenMP threads (one workspace and one context
 * per thread), rating with rater noise and accumulation of the statistics in patient order, so
 * that the result does not depend on the number of threads. Memory is one block of patients,
 * whatever N.
 */
#include "trial/trial_internal.h"

#include "core/internal.h"
#include "core/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Included patients simulated per block: max(BLOCK_MIN, BLOCK_PER_THREAD x threads). Any value
 * gives the same result (statistics are accumulated in patient order); this bounds memory,
 * keeps threads busy and lets the progress bar move. */
#define BLOCK_MIN        64
#define BLOCK_PER_THREAD 16
/* Screening gives up when, after this many candidates, fewer than 1% were included. */
#define SCREEN_MIN_CANDIDATES 10000
/* Rater-noise index of visit v in period p of a crossover: (p << PERIOD_SHIFT) + v. */
#define PERIOD_SHIFT 20
/* Mood-noise key of period p of a crossover: key + (p << KEY_PERIOD_SHIFT). */
#define KEY_PERIOD_SHIFT 48
#define MAX_THREADS      1024

void ks_trial_options_init(ks_trial_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->n_per_arm = 0;
    opt->threads = 0;
    ks_sim_options_init(&opt->sim);
}

void ks_trial_result_free(ks_trial_result *r)
{
    if (!r)
        return;
    if (r->arm_names)
        for (size_t a = 0; a < r->n_arms; a++)
            free(r->arm_names[a]);
    free(r->arm_names);
    free(r->visits);
    free(r->cells);
    free(r->paired);
    free(r->name);
    free(r);
}

static ks_trial_result *result_alloc(ks_ctx *ctx, const ks_trial *t)
{
    ks_trial_result *r = ks_calloc(ctx, 1, sizeof *r);
    if (!r)
        return NULL;
    r->n_arms = t->n_arms;
    r->n_visits = t->n_visits;
    r->design = t->design;
    r->reference_arm = t->reference_arm;
    r->scale = t->scale;
    r->response_fraction = t->response_fraction;
    r->remission_max = t->remission_max;
    size_t nc = t->n_arms * t->n_visits;
    if (!(r->name = ks_strdup(ctx, t->name)) ||
        !(r->arm_names = ks_calloc(ctx, t->n_arms, sizeof *r->arm_names)) ||
        !(r->visits = ks_malloc(ctx, t->n_visits * sizeof *r->visits)) ||
        !(r->cells = ks_calloc(ctx, nc, sizeof *r->cells)) ||
        !(r->paired = ks_calloc(ctx, nc, sizeof *r->paired)))
        goto fail;
    for (size_t a = 0; a < t->n_arms; a++)
        if (!(r->arm_names[a] = ks_strdup(ctx, t->arms[a].name)))
            goto fail;
    memcpy(r->visits, t->visits, t->n_visits * sizeof *r->visits);
    for (size_t c = 0; c < nc; c++) {
        ks_welford_init(&r->cells[c].observed);
        ks_welford_init(&r->cells[c].change);
        ks_welford_init(&r->cells[c].truth);
        ks_welford_init(&r->paired[c]);
    }
    return r;
fail:
    ks_trial_result_free(r);
    return NULL;
}

/* One thread's private state. */
typedef struct {
    ks_ctx *ctx;
    ks_sim_workspace *ws;
    ks_dose *doses;
    ks_solver_stats stats;
} worker;

/* One included patient of the current block. */
typedef struct {
    uint64_t key;
    size_t unit; /* order of inclusion, 0-based */
    ks_virtual_patient vp;
} slot;

typedef struct {
    const ks_trial *t;
    const ks_model_typical *typ;
    const ks_population_params *pp;
    uint64_t seed;
    size_t sel; /* index of madrs_true among the simulation outputs */
    double *times_h;
    size_t sims; /* simulations per included patient: 1 (parallel), n_arms */
    size_t max_doses;
} run_setup;

static void stats_add(ks_solver_stats *a, const ks_solver_stats *b)
{
    a->steps += b->steps;
    a->rhs_evals += b->rhs_evals;
    a->jac_evals += b->jac_evals;
    a->lin_setups += b->lin_setups;
    a->err_test_fails += b->err_test_fails;
    a->conv_fails += b->conv_fails;
    a->restarts += b->restarts;
}

/* Arm of simulation s of an included patient. */
static size_t arm_of(const run_setup *rs, const slot *sl, size_t s)
{
    return rs->t->design == KS_DESIGN_CROSSOVER ? s : sl->unit % rs->t->n_arms;
}

/* Simulates simulation s of slot sl into out[n_visits] (noise-free MADRS at the visits). */
static ks_status simulate_one(const run_setup *rs, worker *w, const slot *sl, size_t s, double *out)
{
    const ks_trial *t = rs->t;
    size_t a = arm_of(rs, sl, s);
    const ks_trial_arm *arm = &t->arms[a];
    for (size_t k = 0; k < arm->n_doses; k++) {
        w->doses[k] = arm->doses[k];
        if (arm->mg_per_kg[k] > 0.0) /* weight-based dose: mg/kg x this patient's weight */
            w->doses[k].amount_mg = arm->mg_per_kg[k] * sl->vp.patient.weight_kg;
    }
    ks_patient_run run;
    memset(&run, 0, sizeof run);
    run.patient = &sl->vp.patient;
    run.cov = &sl->vp.cov;
    run.doses = w->doses;
    run.n_doses = arm->n_doses;
    run.events = arm->events;
    run.n_events = arm->n_events;
    run.times_h = rs->times_h;
    run.n_times = t->n_visits;
    run.open_label = arm->open_label;
    run.mechanism = 1;
    run.seed = rs->seed;
    /* The same patient in every period of a crossover; each period has its own day-to-day
     * (mood noise) path, as periods weeks apart would. */
    run.key = sl->key + (t->design == KS_DESIGN_CROSSOVER ? (uint64_t)s << KEY_PERIOD_SHIFT : 0);
    run.noise = 1;
    ks_solver_stats st;
    memset(&st, 0, sizeof st);
    ks_status status = ks_sim_patient(w->ctx, rs->typ, w->ws, &run, &rs->sel, 1, out, &st);
    if (status == KS_OK) {
        stats_add(&w->stats, &st);
        for (size_t v = 0; v < t->n_visits; v++)
            if (!isfinite(out[v]))
                return ks_fail(w->ctx, KS_ERR_SOLVER, "non-finite MADRS at visit %zu", v);
    }
    return status;
}

/* Writes the per-patient rows of one simulation. */
static int write_rows(FILE *fp, const ks_trial *t, const char *arm, size_t patient, uint64_t key,
                      const double *truth, const double *obs)
{
    for (size_t v = 0; v < t->n_visits; v++) {
        char a[32], b[32], c[32];
        if (fprintf(fp, "%s,%zu,%llu,%s,%s,%s,%s\n", arm, patient, (unsigned long long)key,
                    t->visits[v].label, ks_fmt_double(a, sizeof a, t->visits[v].t_h),
                    ks_fmt_double(b, sizeof b, truth[v]), ks_fmt_double(c, sizeof c, obs[v])) < 0)
            return -1;
    }
    return 0;
}

ks_trial_result *ks_trial_run(ks_ctx *ctx, const ks_params *params, const ks_trial *t,
                              const ks_trial_options *opt_in)
{
    ks_trial_options defaults;
    const ks_trial_options *opt = opt_in;
    if (!opt) {
        ks_trial_options_init(&defaults);
        opt = &defaults;
    }
    if (!params || !t) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_trial_run: params and trial must not be NULL");
        return NULL;
    }
    ks_trial_result *r = NULL;
    ks_model_typical typ;
    memset(&typ, 0, sizeof typ);
    int typ_ready = 0;
    worker *workers = NULL;
    int nthreads = 1;
    slot *slots = NULL;
    double *truth = NULL, *obs = NULL, *change = NULL;
    ks_status *status = NULL;
    ks_atomic_file af = {NULL, NULL, NULL};
    int af_open = 0;

    ks_population_params pp;
    ks_population_spec spec = t->population;
    char what[300];
    snprintf(what, sizeof what, "%s: $.population", t->source);
    if (ks_population_params_read(ctx, params, &pp) != KS_OK ||
        ks_population_resolve(ctx, &pp, what, &spec) != KS_OK)
        return NULL;
    if (ks_model_typical_init(ctx, params, &typ) != KS_OK)
        return NULL;
    typ_ready = 1;

    run_setup rs;
    memset(&rs, 0, sizeof rs);
    rs.t = t;
    rs.typ = &typ;
    rs.pp = &pp;
    rs.seed = opt->override_seed ? (uint64_t)opt->seed : t->seed;
    rs.sims = t->design == KS_DESIGN_CROSSOVER ? t->n_arms : 1;
    long n_per_arm = opt->n_per_arm > 0 ? opt->n_per_arm : t->n_per_arm;
    size_t units =
        t->design == KS_DESIGN_CROSSOVER ? (size_t)n_per_arm : (size_t)n_per_arm * t->n_arms;
    long sel = ks_sim_output_index("madrs_true");
    if (sel < 0) {
        ks_fail(ctx, KS_ERR_INTERNAL, "the simulation has no output madrs_true");
        goto fail;
    }
    rs.sel = (size_t)sel;
    for (size_t a = 0; a < t->n_arms; a++)
        if (t->arms[a].n_doses > rs.max_doses)
            rs.max_doses = t->arms[a].n_doses;
    if (!(rs.times_h = ks_malloc(ctx, t->n_visits * sizeof *rs.times_h)))
        goto fail;
    for (size_t v = 0; v < t->n_visits; v++)
        rs.times_h[v] = t->visits[v].t_h;

    if (!(r = result_alloc(ctx, t)))
        goto fail;
    r->seed = rs.seed;
    r->n_per_arm = n_per_arm;

#ifdef _OPENMP
    nthreads = opt->threads > 0 ? opt->threads : omp_get_max_threads();
#else
    nthreads = 1;
#endif
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > MAX_THREADS)
        nthreads = MAX_THREADS;
    if (!(workers = ks_calloc(ctx, (size_t)nthreads, sizeof *workers)))
        goto fail;
    for (int k = 0; k < nthreads; k++) {
        worker *w = &workers[k];
        if (!(w->ctx = ks_ctx_create())) {
            ks_fail(ctx, KS_ERR_NOMEM, "out of memory creating thread contexts");
            goto fail;
        }
        if (!(w->ws = ks_sim_workspace_create(ctx, &opt->sim)))
            goto fail;
        if (!(w->doses = ks_calloc(ctx, rs.max_doses ? rs.max_doses : 1, sizeof *w->doses)))
            goto fail;
    }
    size_t per_slot = rs.sims * t->n_visits;
    size_t block = (size_t)nthreads * BLOCK_PER_THREAD;
    if (block < BLOCK_MIN)
        block = BLOCK_MIN;
    if (!(slots = ks_calloc(ctx, block, sizeof *slots)) ||
        !(truth = ks_calloc(ctx, block * per_slot, sizeof *truth)) ||
        !(obs = ks_calloc(ctx, per_slot, sizeof *obs)) ||
        !(change = ks_calloc(ctx, per_slot, sizeof *change)) ||
        !(status = ks_calloc(ctx, block, sizeof *status)))
        goto fail;
    if (opt->patients_csv) {
        if (ks_atomic_open(ctx, opt->patients_csv, &af) != KS_OK)
            goto fail;
        af_open = 1;
        if (fprintf(af.fp, "arm,patient,key,visit,time_h,true_%s,observed_%s\n",
                    ks_scale_name(t->scale), ks_scale_name(t->scale)) < 0)
            goto io_fail;
    }

    ks_scale sc = t->scale;
    double rater_sd = ks_scale_rater_sd(&pp, sc), smax = ks_scale_max(sc);
    uint64_t next_key = 0;
    size_t done = 0;
    while (done < units) {
        /* Screening, in key order: the same patients are included whatever the block size. */
        size_t nb = 0;
        while (nb < block && done + nb < units) {
            slot *sl = &slots[nb];
            ks_population_sample(&pp, &spec, rs.seed, next_key, &sl->vp);
            r->screened++;
            if (sl->vp.included) {
                sl->key = next_key;
                sl->unit = done + nb;
                r->included++;
                nb++;
            }
            next_key++;
            if (r->screened >= SCREEN_MIN_CANDIDATES && r->included * 100 < r->screened) {
                ks_fail(ctx, KS_ERR_INPUT,
                        "%s: $.population.inclusion: the inclusion rule admitted %zu of %zu "
                        "candidates (less than 1%%); lower the threshold or raise "
                        "baseline_madrs.mean (got min %g on %s)",
                        t->source, r->included, r->screened, spec.inclusion_min,
                        ks_scale_name(spec.inclusion_scale));
                goto fail;
            }
        }
        /* Simulation of the block, one workspace per thread. */
        long nbl = (long)nb;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
#endif
        for (long u = 0; u < nbl; u++) {
#ifdef _OPENMP
            worker *w = &workers[omp_get_thread_num()];
#else
            worker *w = &workers[0];
#endif
            status[u] = KS_OK;
            for (size_t s = 0; s < rs.sims && status[u] == KS_OK; s++)
                status[u] = simulate_one(&rs, w, &slots[u], s,
                                         truth + (size_t)u * per_slot + s * t->n_visits);
        }
        for (size_t u = 0; u < nb; u++) {
            if (status[u] == KS_OK)
                continue;
            /* Re-run the first failing patient on the caller's context for its message. */
            worker w0 = workers[0];
            w0.ctx = ctx;
            for (size_t s = 0; s < rs.sims; s++)
                if (simulate_one(&rs, &w0, &slots[u], s, truth + u * per_slot) != KS_OK)
                    break;
            char msg[KS_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", ks_ctx_message(ctx));
            ks_fail(ctx, status[u] == KS_ERR_NOMEM ? KS_ERR_NOMEM : KS_ERR_SOLVER,
                    "%s: patient key %llu: %s", t->source, (unsigned long long)slots[u].key,
                    msg[0] ? msg : "simulation failed");
            goto fail;
        }
        /* Rating and accumulation, in patient order. */
        for (size_t u = 0; u < nb; u++) {
            const slot *sl = &slots[u];
            for (size_t s = 0; s < rs.sims; s++) {
                size_t a = arm_of(&rs, sl, s);
                const double *tr = truth + u * per_slot + s * t->n_visits;
                double *ob = obs + s * t->n_visits, *ch = change + s * t->n_visits;
                uint64_t period = t->design == KS_DESIGN_CROSSOVER ? (uint64_t)s : 0;
                for (size_t v = 0; v < t->n_visits; v++) {
                    double ts = ks_scale_from_madrs(&pp, sc, tr[v]);
                    ob[v] =
                        ks_rate(ts, rater_sd, smax, rs.seed, sl->key, (period << PERIOD_SHIFT) + v);
                    ch[v] = ob[v] - ob[0];
                    ks_trial_cell *c = &r->cells[a * t->n_visits + v];
                    ks_welford_add(&c->observed, ob[v]);
                    ks_welford_add(&c->change, ch[v]);
                    ks_welford_add(&c->truth, ts);
                    /* MODEL.md 8: response = fall >= response_fraction of the baseline;
                     * remission = score <= remission_max. */
                    if (ob[0] > 0.0 && ob[0] - ob[v] >= t->response_fraction * ob[0])
                        c->responders++;
                    if (ob[v] <= t->remission_max)
                        c->remitters++;
                }
                if (af_open) {
                    size_t patient =
                        t->design == KS_DESIGN_CROSSOVER ? sl->unit + 1 : sl->unit / t->n_arms + 1;
                    double tsv[KS_TRIAL_MAX_VISITS + 1];
                    for (size_t v = 0; v < t->n_visits; v++)
                        tsv[v] = ks_scale_from_madrs(&pp, sc, tr[v]);
                    if (write_rows(af.fp, t, t->arms[a].name, patient, sl->key, tsv, ob) < 0)
                        goto io_fail;
                }
            }
            if (t->design == KS_DESIGN_CROSSOVER) {
                const double *ref = change + t->reference_arm * t->n_visits;
                for (size_t a = 0; a < t->n_arms; a++)
                    for (size_t v = 0; v < t->n_visits; v++)
                        ks_welford_add(&r->paired[a * t->n_visits + v],
                                       change[a * t->n_visits + v] - ref[v]);
            }
        }
        done += nb;
        if (opt->progress)
            opt->progress(opt->progress_user, done, units);
    }
    if (af_open) {
        af_open = 0;
        if (ks_atomic_commit(ctx, &af) != KS_OK)
            goto fail;
    }
    for (int k = 0; k < nthreads; k++)
        stats_add(&r->solver, &workers[k].stats);
    goto done;

io_fail:
    ks_fail(ctx, KS_ERR_IO, "%s: write failed", opt->patients_csv);
fail:
    ks_trial_result_free(r);
    r = NULL;
done:
    if (af_open)
        ks_atomic_abort(&af);
    if (workers)
        for (int k = 0; k < nthreads; k++) {
            ks_ctx_free(workers[k].ctx);
            ks_sim_workspace_free(workers[k].ws);
            free(workers[k].doses);
        }
    free(workers);
    free(slots);
    free(truth);
    free(obs);
    free(change);
    free(status);
    free(rs.times_h);
    if (typ_ready)
        ks_model_typical_clear(&typ);
    return r;
}
