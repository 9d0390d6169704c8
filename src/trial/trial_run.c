/*
 * trial_run.c -- running a virtual trial: screening of candidate patients in key order, the
 * course of each included patient (allocation, simulation, rating, flexible-dose steps,
 * re-randomisation at a phase boundary, dropout, relapse) computed over OpenMP threads and MPI
 * ranks into a fixed-size record per patient, and the accumulation of the records in patient
 * order on rank 0, so that the result depends neither on the number of threads nor on the
 * number of ranks. Memory is one block of patients, whatever N. Replicate trials for power.
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

/* Included patients simulated per block: max(BLOCK_MIN, BLOCK_PER_THREAD x threads x ranks).
 * Any value gives the same result (records are accumulated in patient order); this bounds
 * memory, keeps threads busy and lets the progress bar move. */
#define BLOCK_MIN        64
#define BLOCK_PER_THREAD 16
/* Screening gives up when, after this many candidates, fewer than 1% were included. */
#define SCREEN_MIN_CANDIDATES 10000
/* Rater-noise index of visit v in period p of a crossover: (p << PERIOD_SHIFT) + v. */
#define PERIOD_SHIFT 20
/* Mood-noise key of period p of a crossover: key + (p << KEY_PERIOD_SHIFT). */
#define KEY_PERIOD_SHIFT 48
#define MAX_THREADS      1024

/* Record of one included patient (doubles): REC_HEAD values, then per simulation (period)
 * SIM_HEAD values, the noise-free scores and the observed scores at the visits. */
enum { REC_STATUS = 0, REC_INITIAL_ARM, REC_SELECTED, REC_HEAD };
enum {
    SIM_ARM = 0,   /* analysed arm, -1: not analysed (not selected for re-randomisation) */
    SIM_MISS,      /* first visit missed by dropout (n_visits: none) */
    SIM_EXIT,      /* first visit not attended because not selected (n_visits: none) */
    SIM_FLEXED,    /* flexible-dose rules that fired */
    SIM_RELAPSE,   /* 1: relapse event, 0: censored */
    SIM_RELAPSE_K, /* relapse time index (0 = origin) */
    SIM_HEAD
};

void ks_trial_options_init(ks_trial_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->n_per_arm = 0;
    opt->threads = 0;
    ks_sim_options_init(&opt->sim);
    opt->sim.solver = KS_SOLVER_FAST; /* trials: the fast path (docs/API.md "Fast path") */
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
    free(r->arm_n);
    free(r->arm_dropouts);
    free(r->arm_flexed);
    free(r->phases);
    free(r->phase_counts);
    free(r->relapse_t);
    if (r->relapse_arms)
        for (size_t a = 0; a < r->n_arms; a++) {
            free(r->relapse_arms[a].events);
            free(r->relapse_arms[a].censored);
        }
    free(r->relapse_arms);
    free(r);
}

/* First visit after the relapse origin: visits before it belong to the time before the
 * re-randomisation (or are the baseline). */
static size_t relapse_first_visit(const ks_trial *t)
{
    return t->withdrawal ? t->withdrawal_visit + 1 : 1;
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
    r->n_phases = t->n_phases;
    r->withdrawal = t->withdrawal;
    r->withdrawal_phase = t->withdrawal_phase;
    r->withdrawal_select = t->withdrawal_select;
    r->relapse = t->relapse;
    r->relapse_min = t->relapse_min;
    r->relapse_consecutive = t->relapse_consecutive;
    r->relapse_origin_h = t->withdrawal ? t->withdrawal_h : 0.0;
    r->primary_measure = t->primary_measure;
    r->primary_visit = t->primary_visit;
    r->primary_arm = t->primary_arm;
    r->primary_oc = t->primary_oc;
    r->alpha = t->alpha;
    r->has_dropout = t->dropout_per_visit > 0.0 || t->dropout_loe;
    size_t nc = t->n_arms * t->n_visits;
    size_t fv = relapse_first_visit(t);
    r->n_relapse_times = t->n_visits - fv + 1;
    if (!(r->name = ks_strdup(ctx, t->name)) ||
        !(r->arm_names = ks_calloc(ctx, t->n_arms, sizeof *r->arm_names)) ||
        !(r->visits = ks_malloc(ctx, t->n_visits * sizeof *r->visits)) ||
        !(r->cells = ks_calloc(ctx, nc, sizeof *r->cells)) ||
        !(r->paired = ks_calloc(ctx, nc, sizeof *r->paired)) ||
        !(r->arm_n = ks_calloc(ctx, t->n_arms, sizeof *r->arm_n)) ||
        !(r->arm_dropouts = ks_calloc(ctx, t->n_arms, sizeof *r->arm_dropouts)) ||
        !(r->arm_flexed = ks_calloc(ctx, t->n_arms, sizeof *r->arm_flexed)) ||
        !(r->phases = ks_malloc(ctx, t->n_phases * sizeof *r->phases)) ||
        !(r->phase_counts = ks_calloc(ctx, t->n_phases, sizeof *r->phase_counts)) ||
        !(r->relapse_t = ks_calloc(ctx, r->n_relapse_times, sizeof *r->relapse_t)) ||
        !(r->relapse_arms = ks_calloc(ctx, t->n_arms, sizeof *r->relapse_arms)))
        goto fail;
    for (size_t a = 0; a < t->n_arms; a++)
        if (!(r->arm_names[a] = ks_strdup(ctx, t->arms[a].name)) ||
            !(r->relapse_arms[a].events =
                  ks_calloc(ctx, r->n_relapse_times, sizeof *r->relapse_arms[a].events)) ||
            !(r->relapse_arms[a].censored =
                  ks_calloc(ctx, r->n_relapse_times, sizeof *r->relapse_arms[a].censored)))
            goto fail;
    memcpy(r->visits, t->visits, t->n_visits * sizeof *r->visits);
    memcpy(r->phases, t->phases, t->n_phases * sizeof *r->phases);
    for (size_t k = 1; k < r->n_relapse_times; k++)
        r->relapse_t[k] = t->visits[fv + k - 1].t_h - r->relapse_origin_h;
    for (size_t c = 0; c < nc; c++) {
        ks_welford_init(&r->cells[c].observed);
        ks_welford_init(&r->cells[c].change);
        ks_welford_init(&r->cells[c].truth);
        ks_welford_init(&r->cells[c].oc_observed);
        ks_welford_init(&r->cells[c].oc_change);
        ks_welford_init(&r->paired[c]);
    }
    ks_welford_init(&r->primary_effect);
    return r;
fail:
    ks_trial_result_free(r);
    return NULL;
}

/* One thread's private state. */
typedef struct {
    ks_ctx *ctx;
    ks_sim_workspace *ws;
    ks_dose *doses;   /* the course's doses: up to 2 x the largest arm */
    ks_event *events; /* the course's events: up to 2 x the largest arm */
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
    size_t sims; /* simulations per included patient: 1 (parallel), n_arms (crossover) */
    size_t max_doses, max_events;
    size_t rec_len;
    const ks_sim_options *sim;
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

/* The treatment plan of one course: the arm before and after the re-randomisation boundary
 * and the flexible-dose rules that fired, per arm. */
typedef struct {
    size_t before, after;
    double boundary_h; /* INFINITY without re-randomisation */
    unsigned char fired[KS_TRIAL_MAX_ARMS][KS_TRIAL_MAX_FLEX];
} plan;

/* Amount of dose k of arm a for this patient: the arm's amount (mg/kg x weight for weight-based
 * doses), replaced by every fired flexible-dose rule whose visit is at or before the dose. */
static double dose_amount(const run_setup *rs, const plan *pl, const slot *sl, size_t a, size_t k)
{
    const ks_trial *t = rs->t;
    const ks_trial_arm *arm = &t->arms[a];
    double w = sl->vp.patient.weight_kg;
    double amt = arm->mg_per_kg[k] > 0.0 ? arm->mg_per_kg[k] * w : arm->doses[k].amount_mg;
    for (size_t f = 0; f < arm->n_flex; f++) {
        const ks_trial_flex *fx = &arm->flex[f];
        if (!pl->fired[a][f] || arm->doses[k].t_h < t->visits[fx->visit].t_h - 1e-9)
            continue;
        if (fx->drug >= 0 && (int)arm->doses[k].drug != fx->drug)
            continue;
        if (fx->factor > 0.0) {
            amt *= fx->factor;
            continue;
        }
        /* a new amount per administration; an intranasal session of N devices is N dose
         * events numbered 1..N, each with 1/N of it */
        double per = fx->mg > 0.0 ? fx->mg : fx->mg_per_kg * w;
        const ks_dose *d = arm->doses;
        if (d[k].device > 0) {
            size_t first = k, last = k;
            while (first > 0 && d[first].device > 1 && d[first - 1].device == d[first].device - 1)
                first--;
            while (last + 1 < arm->n_doses && d[last + 1].device == d[last].device + 1)
                last++;
            per /= (double)(last - first + 1);
        }
        amt = per;
    }
    return amt;
}

/* Simulates the course of plan pl for slot sl (simulation s) into out[n_visits]: noise-free
 * MADRS at the visits. */
static ks_status simulate_plan(const run_setup *rs, worker *w, const slot *sl, size_t s,
                               const plan *pl, double *out)
{
    const ks_trial *t = rs->t;
    size_t nd = 0, ne = 0;
    for (int part = 0; part < 2; part++) {
        size_t a = part == 0 ? pl->before : pl->after;
        if (part == 1 && !isfinite(pl->boundary_h))
            break;
        const ks_trial_arm *arm = &t->arms[a];
        for (size_t k = 0; k < arm->n_doses; k++) {
            double th = arm->doses[k].t_h;
            if ((part == 0 && th >= pl->boundary_h) || (part == 1 && th < pl->boundary_h))
                continue;
            w->doses[nd] = arm->doses[k];
            w->doses[nd].amount_mg = dose_amount(rs, pl, sl, a, k);
            nd++;
        }
        for (size_t k = 0; k < arm->n_events; k++) {
            double th = arm->events[k].t_h;
            if ((part == 0 && th >= pl->boundary_h) || (part == 1 && th < pl->boundary_h))
                continue;
            w->events[ne++] = arm->events[k];
        }
    }
    ks_patient_run run;
    memset(&run, 0, sizeof run);
    run.patient = &sl->vp.patient;
    run.cov = &sl->vp.cov;
    run.doses = w->doses;
    run.n_doses = nd;
    run.events = w->events;
    run.n_events = ne;
    run.times_h = rs->times_h;
    run.n_times = t->n_visits;
    run.open_label = t->arms[pl->before].open_label;
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

/* Rates visits from..n_visits-1 of truth (MADRS) into tr (the trial's scale) and ob. */
static void rate_from(const run_setup *rs, const slot *sl, size_t s, size_t from,
                      const double *truth, double *tr, double *ob)
{
    const ks_trial *t = rs->t;
    ks_scale sc = t->scale;
    double rater_sd = ks_scale_rater_sd(rs->pp, sc), smax = ks_scale_max(sc);
    uint64_t period = t->design == KS_DESIGN_CROSSOVER ? (uint64_t)s : 0;
    for (size_t v = from; v < t->n_visits; v++) {
        tr[v] = ks_scale_from_madrs(rs->pp, sc, truth[v]);
        ob[v] = ks_rate(tr[v], rater_sd, smax, rs->seed, sl->key, (period << PERIOD_SHIFT) + v);
    }
}

/* Improvement from the observed baseline: points, or a fraction of the baseline (NaN when the
 * baseline is 0). */
static double improvement(double base, double now, int fraction)
{
    if (!fraction)
        return base - now;
    return base > 0.0 ? (base - now) / base : NAN;
}

/* The course of simulation s of slot sl (docs/TRIAL.md, "How a trial is simulated"): writes the
 * SIM_HEAD values, the noise-free and the observed scores at rec[SIM_HEAD...]; *selected is set
 * for re-randomised designs. */
static ks_status run_course(const run_setup *rs, worker *w, const slot *sl, size_t s, double *rec,
                            double *truth, int *selected)
{
    const ks_trial *t = rs->t;
    size_t nv = t->n_visits;
    double *tr = rec + SIM_HEAD, *ob = rec + SIM_HEAD + nv;
    plan pl;
    memset(&pl, 0, sizeof pl);
    size_t a0 =
        t->design == KS_DESIGN_CROSSOVER ? s : t->initial_arms[sl->unit % t->n_initial_arms];
    pl.before = pl.after = a0;
    pl.boundary_h = t->withdrawal ? t->withdrawal_h : INFINITY;
    ks_status st = simulate_plan(rs, w, sl, s, &pl, truth);
    if (st != KS_OK)
        return st;
    rate_from(rs, sl, s, 0, truth, tr, ob);
    uint64_t period = t->design == KS_DESIGN_CROSSOVER ? (uint64_t)s : 0;
    size_t miss = nv, exit_v = nv, flexed = 0;
    int sel = -1;
    for (size_t v = 1; v < nv; v++) {
        /* dropout before the rating: a per-visit hazard (MODEL-free conduct; docs/TRIAL.md) */
        if (t->dropout_per_visit > 0.0) {
            ks_rng g;
            ks_rng_init(&g, rs->seed, sl->key, KS_TRIAL_RNG_CONDUCT, (period << PERIOD_SHIFT) + v);
            if (ks_rng_uniform(&g) < t->dropout_per_visit) {
                miss = v;
                break;
            }
        }
        /* dropout for lack of efficacy after the rating */
        if (t->dropout_loe && t->visits[v].t_h >= t->dropout_loe_from_h - 1e-9) {
            double imp = improvement(ob[0], ob[v], 1);
            if (isfinite(imp) && imp < t->dropout_loe_below) {
                miss = v + 1;
                break;
            }
        }
        int changed = 0;
        size_t a = (!t->withdrawal || v <= t->withdrawal_visit) ? pl.before : pl.after;
        const ks_trial_arm *arm = &t->arms[a];
        for (size_t f = 0; f < arm->n_flex; f++) {
            const ks_trial_flex *fx = &arm->flex[f];
            if (fx->visit != v || pl.fired[a][f])
                continue;
            double imp = improvement(ob[0], ob[v], fx->by_fraction);
            if (isfinite(imp) && imp < fx->threshold) {
                pl.fired[a][f] = 1;
                flexed++;
                changed = 1;
            }
        }
        if (t->withdrawal && v == t->withdrawal_visit) {
            int ok = 1;
            if (t->withdrawal_select == KS_SELECT_RESPONDERS)
                ok = ob[0] > 0.0 && ob[0] - ob[v] >= t->response_fraction * ob[0];
            else if (t->withdrawal_select == KS_SELECT_REMITTERS)
                ok = ob[v] <= t->remission_max;
            sel = ok;
            if (!ok) {
                exit_v = v + 1;
                break;
            }
            /* simple randomisation: a fair draw per patient */
            ks_rng g;
            ks_rng_init(&g, rs->seed, sl->key, KS_TRIAL_RNG_CONDUCT, KS_TRIAL_RANDOMISE_INDEX);
            size_t m = t->n_withdrawal_arms;
            size_t k = (size_t)(ks_rng_uniform(&g) * (double)m);
            pl.after = t->withdrawal_arms[k < m ? k : m - 1];
            changed |= pl.after != pl.before;
        }
        if (changed && v + 1 < nv) {
            /* the new plan changes only doses after this visit: re-simulate and re-rate the
             * later visits; the ratings up to here stand */
            if ((st = simulate_plan(rs, w, sl, s, &pl, truth)) != KS_OK)
                return st;
            rate_from(rs, sl, s, v + 1, truth, tr, ob);
        }
    }
    size_t arm_out = t->withdrawal ? pl.after : a0;
    rec[SIM_ARM] = (t->withdrawal && sel != 1) ? -1.0 : (double)arm_out;
    rec[SIM_MISS] = (double)miss;
    rec[SIM_EXIT] = (double)exit_v;
    rec[SIM_FLEXED] = (double)flexed;
    /* relapse: score >= min at `consecutive` consecutive attended visits after the origin;
     * the time is that of the first of them; otherwise censored at the last attended visit */
    rec[SIM_RELAPSE] = 0.0;
    rec[SIM_RELAPSE_K] = 0.0;
    if (t->relapse) {
        size_t fv = relapse_first_visit(t), last = (miss < exit_v ? miss : exit_v);
        size_t c = t->relapse_consecutive;
        for (size_t v = fv; v + c <= last; v++) {
            size_t k = 0;
            while (k < c && ob[v + k] >= t->relapse_min)
                k++;
            if (k == c) {
                rec[SIM_RELAPSE] = 1.0;
                rec[SIM_RELAPSE_K] = (double)(v - fv + 1);
                break;
            }
        }
        if (rec[SIM_RELAPSE] == 0.0 && last > fv)
            rec[SIM_RELAPSE_K] = (double)(last - 1 - fv + 1);
    }
    if (selected)
        *selected = sel;
    return KS_OK;
}

/* The record of slot sl: every simulation's course. */
static ks_status run_record(const run_setup *rs, worker *w, const slot *sl, double *rec,
                            double *truth)
{
    const ks_trial *t = rs->t;
    size_t per_sim = SIM_HEAD + 2 * t->n_visits;
    int sel = -1;
    rec[REC_INITIAL_ARM] = t->design == KS_DESIGN_CROSSOVER
                               ? 0.0
                               : (double)t->initial_arms[sl->unit % t->n_initial_arms];
    for (size_t s = 0; s < rs->sims; s++) {
        ks_status st = run_course(rs, w, sl, s, rec + REC_HEAD + s * per_sim, truth, &sel);
        if (st != KS_OK)
            return st;
    }
    rec[REC_SELECTED] = (double)sel;
    return KS_OK;
}

/* Writes the rows of the attended visits of one simulation. */
static int write_rows(FILE *fp, const ks_trial *t, const char *arm, const char *suffix,
                      size_t patient, uint64_t key, const double *tr, const double *ob, size_t last)
{
    for (size_t v = 0; v < last; v++) {
        char a[32], b[32], c[32];
        if (fprintf(fp, "%s%s,%zu,%llu,%s,%s,%s,%s\n", arm, suffix, patient,
                    (unsigned long long)key, t->visits[v].label,
                    ks_fmt_double(a, sizeof a, t->visits[v].t_h), ks_fmt_double(b, sizeof b, tr[v]),
                    ks_fmt_double(c, sizeof c, ob[v])) < 0)
            return -1;
    }
    return 0;
}

/* Index of the phase containing time t_h (phases cover [start, end]). */
static size_t phase_of(const ks_trial *t, double t_h)
{
    for (size_t p = 0; p < t->n_phases; p++)
        if (t_h <= t->phases[p].end_h + 1e-9)
            return p;
    return t->n_phases - 1;
}

/* Accumulates the record of one included patient (rank 0, in patient order). */
static int accumulate(const run_setup *rs, ks_trial_result *r, const slot *sl, const double *rec,
                      double *chg, FILE *rows)
{
    const ks_trial *t = rs->t;
    size_t nv = t->n_visits, per_sim = SIM_HEAD + 2 * nv;
    if (rec[REC_SELECTED] == 1.0)
        r->withdrawal_selected++;
    else if (rec[REC_SELECTED] == 0.0)
        r->withdrawal_not_selected++;
    for (size_t s = 0; s < rs->sims; s++) {
        const double *h = rec + REC_HEAD + s * per_sim, *tr = h + SIM_HEAD, *ob = tr + nv;
        size_t miss = (size_t)h[SIM_MISS], exit_v = (size_t)h[SIM_EXIT];
        size_t last = miss < exit_v ? miss : exit_v; /* attended visits: 0..last-1 */
        /* phase bookkeeping: a patient not selected at the re-randomisation enters no later
         * phase; a dropout enters the phases that start before its first missed visit */
        for (size_t p = 0; p < t->n_phases; p++) {
            int in;
            if (exit_v < nv)
                in = p < t->withdrawal_phase;
            else
                in = p == 0 || miss == nv || t->visits[miss].t_h > t->phases[p].start_h + 1e-9;
            r->phase_counts[p].entered += (size_t)in;
        }
        if (miss < nv)
            r->phase_counts[phase_of(t, t->visits[miss].t_h)].dropouts++;
        if (rows) {
            size_t patient;
            const char *name, *suffix = "";
            if (t->design == KS_DESIGN_CROSSOVER)
                patient = sl->unit + 1;
            else if (t->withdrawal)
                patient = sl->unit + 1;
            else
                patient = sl->unit / t->n_initial_arms + 1;
            if (h[SIM_ARM] >= 0.0) {
                name = t->arms[(size_t)h[SIM_ARM]].name;
            } else {
                name = t->arms[(size_t)rec[REC_INITIAL_ARM]].name;
                suffix = " (not randomised)";
            }
            if (write_rows(rows, t, name, suffix, patient, sl->key, tr, ob, last) < 0)
                return -1;
        }
        if (h[SIM_ARM] < 0.0)
            continue;
        size_t a = (size_t)h[SIM_ARM];
        r->arm_n[a]++;
        r->arm_dropouts[a] += miss < nv;
        r->arm_flexed[a] += h[SIM_FLEXED] > 0.0;
        double *ch = chg + s * nv;
        double carried = ob[0];
        for (size_t v = 0; v < nv; v++) {
            int seen = v < last;
            if (seen)
                carried = ob[v]; /* last observation carried forward */
            double o = carried;
            ch[v] = o - ob[0];
            ks_trial_cell *c = &r->cells[a * nv + v];
            ks_welford_add(&c->observed, o);
            ks_welford_add(&c->change, ch[v]);
            ks_welford_add(&c->truth, tr[v]);
            /* MODEL.md 8: response = fall >= response_fraction of the baseline;
             * remission = score <= remission_max. */
            int resp = ob[0] > 0.0 && ob[0] - o >= t->response_fraction * ob[0];
            int rem = o <= t->remission_max;
            c->responders += (size_t)resp;
            c->remitters += (size_t)rem;
            if (seen) {
                ks_welford_add(&c->oc_observed, o);
                ks_welford_add(&c->oc_change, ch[v]);
                c->oc_responders += (size_t)resp;
                c->oc_remitters += (size_t)rem;
            }
        }
        if (t->relapse) {
            size_t k = (size_t)h[SIM_RELAPSE_K];
            if (h[SIM_RELAPSE] > 0.0)
                r->relapse_arms[a].events[k]++;
            else
                r->relapse_arms[a].censored[k]++;
        }
    }
    if (t->design == KS_DESIGN_CROSSOVER) {
        const double *ref = chg + t->reference_arm * nv;
        for (size_t a = 0; a < t->n_arms; a++)
            for (size_t v = 0; v < nv; v++)
                ks_welford_add(&r->paired[a * nv + v], chg[a * nv + v] - ref[v]);
    }
    return 0;
}

/* Everything one run (all replicates) shares. */
typedef struct {
    run_setup rs;
    ks_population_spec spec;
    worker *workers;
    int nthreads;
    slot *slots;
    double *mine, *all, *truth, *chg;
    ks_status *status;
    size_t *counts;
    size_t block;
    const ks_trial_comm *comm;
    int rank, size;
    const ks_trial_options *opt;
    size_t units;      /* included patients per replicate */
    size_t done_total; /* for progress: over all replicates */
    size_t total;
} engine;

/* Collective stop: rank 0 decides (code != 0: stop with that status), every rank learns it.
 * Returns the code. */
static int agree(engine *e, int code)
{
    if (e->comm && e->comm->bcast_int && e->comm->bcast_int(e->comm->user, &code) != 0)
        return KS_ERR_IO;
    return code;
}

/* Runs one replicate (candidate keys from key_base) into r. rows: patient rows or NULL. */
static ks_status run_replicate(ks_ctx *ctx, engine *e, ks_trial_result *r, uint64_t key_base,
                               FILE *rows, const char *rows_path)
{
    const ks_trial *t = e->rs.t;
    const run_setup *rs = &e->rs;
    size_t rec_len = rs->rec_len;
    uint64_t next_key = 0;
    size_t done = 0;
    while (done < e->units) {
        /* Screening, in key order, on every rank: the same patients whatever the block size. */
        size_t nb = 0;
        while (nb < e->block && done + nb < e->units) {
            slot *sl = &e->slots[nb];
            ks_population_sample(rs->pp, &e->spec, rs->seed, key_base + next_key, &sl->vp);
            r->screened++;
            if (sl->vp.included) {
                sl->key = key_base + next_key;
                sl->unit = done + nb;
                r->included++;
                nb++;
            }
            next_key++;
            if (r->screened >= SCREEN_MIN_CANDIDATES && r->included * 100 < r->screened)
                return ks_fail(ctx, KS_ERR_INPUT,
                               "%s: $.population.inclusion: the inclusion rule admitted %zu of "
                               "%zu candidates (less than 1%%); lower the threshold or raise "
                               "baseline_madrs.mean (got min %g on %s)",
                               t->source, r->included, r->screened, e->spec.inclusion_min,
                               ks_scale_name(e->spec.inclusion_scale));
        }
        /* This rank's contiguous share of the block, over its threads. */
        size_t lo = nb * (size_t)e->rank / (size_t)e->size;
        size_t hi = nb * (size_t)(e->rank + 1) / (size_t)e->size;
        long nmine = (long)(hi - lo);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(e->nthreads)
#endif
        for (long u = 0; u < nmine; u++) {
#ifdef _OPENMP
            worker *w = &e->workers[omp_get_thread_num()];
            double *truth = e->truth + (size_t)omp_get_thread_num() * t->n_visits;
#else
            worker *w = &e->workers[0];
            double *truth = e->truth;
#endif
            double *rec = e->mine + (size_t)u * rec_len;
            ks_status st = run_record(rs, w, &e->slots[lo + (size_t)u], rec, truth);
            rec[REC_STATUS] = (double)st;
        }
        /* Records to rank 0, in patient order. */
        double *all = e->mine;
        if (e->comm && e->size > 1) {
            for (int k = 0; k < e->size; k++)
                e->counts[k] =
                    (nb * (size_t)(k + 1) / (size_t)e->size - nb * (size_t)k / (size_t)e->size) *
                    rec_len;
            if (e->comm->gather(e->comm->user, e->mine, (size_t)nmine * rec_len, e->all,
                                e->counts) != 0)
                return ks_fail(ctx, KS_ERR_IO, "gathering the patient records failed");
            all = e->all;
        }
        int code = 0;
        if (e->rank == 0) {
            for (size_t u = 0; u < nb && code == 0; u++) {
                const double *rec = all + u * rec_len;
                if (rec[REC_STATUS] != (double)KS_OK) {
                    /* Re-run the first failing patient on the caller's context for its
                     * message. */
                    worker w0 = e->workers[0];
                    w0.ctx = ctx;
                    ks_status st = run_record(rs, &w0, &e->slots[u], e->mine, e->truth);
                    char msg[KS_MSG_MAX];
                    snprintf(msg, sizeof msg, "%s", st != KS_OK ? ks_ctx_message(ctx) : "");
                    code = (int)ks_fail(
                        ctx, rec[REC_STATUS] == (double)KS_ERR_NOMEM ? KS_ERR_NOMEM : KS_ERR_SOLVER,
                        "%s: patient key %llu: %s", t->source, (unsigned long long)e->slots[u].key,
                        msg[0] ? msg : "simulation failed");
                    break;
                }
                if (accumulate(rs, r, &e->slots[u], rec, e->chg, rows) < 0)
                    code = (int)ks_fail(ctx, KS_ERR_IO, "%s: write failed", rows_path);
            }
        }
        code = agree(e, code);
        if (code != 0) {
            if (e->rank != 0)
                ks_fail(ctx, (ks_status)code, "%s: the run stopped on another rank", t->source);
            return (ks_status)code;
        }
        done += nb;
        e->done_total += nb;
        if (e->opt->progress && e->rank == 0)
            e->opt->progress(e->opt->progress_user, e->done_total, e->total);
    }
    return KS_OK;
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
    if (opt->replicates < 0 || opt->replicates > KS_TRIAL_MAX_REPLICATES ||
        (opt->comm && (opt->comm->size < 1 || opt->comm->rank < 0 ||
                       opt->comm->rank >= opt->comm->size || !opt->comm->gather)) ||
        !(opt->alpha >= 0.0 && opt->alpha < 1.0)) {
        ks_fail(ctx, KS_ERR_USAGE,
                "ks_trial_run: replicates must be 0 to %d, alpha in [0, 1) and comm "
                "consistent",
                KS_TRIAL_MAX_REPLICATES);
        return NULL;
    }
    ks_trial_result *r = NULL, *rep = NULL;
    ks_model_typical typ;
    memset(&typ, 0, sizeof typ);
    int typ_ready = 0;
    ks_atomic_file af = {NULL, NULL, NULL};
    int af_open = 0;
    engine e;
    memset(&e, 0, sizeof e);
    e.opt = opt;
    e.comm = opt->comm;
    e.rank = opt->comm ? opt->comm->rank : 0;
    e.size = opt->comm ? opt->comm->size : 1;

    ks_population_params pp;
    e.spec = t->population;
    char what[300];
    snprintf(what, sizeof what, "%s: $.population", t->source);
    if (ks_population_params_read(ctx, params, &pp) != KS_OK ||
        ks_population_resolve(ctx, &pp, what, &e.spec) != KS_OK)
        return NULL;
    if (ks_model_typical_init(ctx, params, &typ) != KS_OK)
        return NULL;
    typ_ready = 1;

    run_setup *rs = &e.rs;
    rs->t = t;
    rs->typ = &typ;
    rs->pp = &pp;
    rs->sim = &opt->sim;
    rs->seed = opt->override_seed ? (uint64_t)opt->seed : t->seed;
    rs->sims = t->design == KS_DESIGN_CROSSOVER ? t->n_arms : 1;
    rs->rec_len = REC_HEAD + rs->sims * (SIM_HEAD + 2 * t->n_visits);
    long n_per_arm = opt->n_per_arm > 0 ? opt->n_per_arm : t->n_per_arm;
    e.units = t->design == KS_DESIGN_CROSSOVER ? (size_t)n_per_arm
                                               : (size_t)n_per_arm * t->n_initial_arms;
    size_t replicates = opt->replicates > 1 ? (size_t)opt->replicates : 1;
    e.total = e.units * replicates;
    long sel = ks_sim_output_index("madrs_true");
    if (sel < 0) {
        ks_fail(ctx, KS_ERR_INTERNAL, "the simulation has no output madrs_true");
        goto fail;
    }
    rs->sel = (size_t)sel;
    for (size_t a = 0; a < t->n_arms; a++) {
        if (t->arms[a].n_doses > rs->max_doses)
            rs->max_doses = t->arms[a].n_doses;
        if (t->arms[a].n_events > rs->max_events)
            rs->max_events = t->arms[a].n_events;
    }
    if (!(rs->times_h = ks_malloc(ctx, t->n_visits * sizeof *rs->times_h)))
        goto fail;
    for (size_t v = 0; v < t->n_visits; v++)
        rs->times_h[v] = t->visits[v].t_h;

#ifdef _OPENMP
    e.nthreads = opt->threads > 0 ? opt->threads : omp_get_max_threads();
#else
    e.nthreads = 1;
#endif
    if (e.nthreads < 1)
        e.nthreads = 1;
    if (e.nthreads > MAX_THREADS)
        e.nthreads = MAX_THREADS;
    if (!(e.workers = ks_calloc(ctx, (size_t)e.nthreads, sizeof *e.workers)))
        goto fail;
    for (int k = 0; k < e.nthreads; k++) {
        worker *w = &e.workers[k];
        if (!(w->ctx = ks_ctx_create())) {
            ks_fail(ctx, KS_ERR_NOMEM, "out of memory creating thread contexts");
            goto fail;
        }
        if (!(w->ws = ks_sim_workspace_create(ctx, &opt->sim)))
            goto fail;
        if (!(w->doses = ks_calloc(ctx, 2 * rs->max_doses + 1, sizeof *w->doses)) ||
            !(w->events = ks_calloc(ctx, 2 * rs->max_events + 1, sizeof *w->events)))
            goto fail;
    }
    e.block = (size_t)e.nthreads * (size_t)e.size * BLOCK_PER_THREAD;
    if (e.block < BLOCK_MIN)
        e.block = BLOCK_MIN;
    if (!(e.slots = ks_calloc(ctx, e.block, sizeof *e.slots)) ||
        !(e.mine = ks_calloc(ctx, e.block * rs->rec_len, sizeof *e.mine)) ||
        !(e.truth = ks_calloc(ctx, (size_t)e.nthreads * t->n_visits, sizeof *e.truth)) ||
        !(e.chg = ks_calloc(ctx, rs->sims * t->n_visits, sizeof *e.chg)) ||
        !(e.counts = ks_calloc(ctx, (size_t)e.size, sizeof *e.counts)))
        goto fail;
    if (e.size > 1 && e.rank == 0 &&
        !(e.all = ks_calloc(ctx, e.block * rs->rec_len, sizeof *e.all)))
        goto fail;
    if (opt->patients_csv && e.rank == 0) {
        if (ks_atomic_open(ctx, opt->patients_csv, &af) != KS_OK)
            goto fail;
        af_open = 1;
        if (fprintf(af.fp, "arm,patient,key,visit,time_h,true_%s,observed_%s\n",
                    ks_scale_name(t->scale), ks_scale_name(t->scale)) < 0) {
            ks_fail(ctx, KS_ERR_IO, "%s: write failed", opt->patients_csv);
            goto fail;
        }
    }

    for (size_t k = 0; k < replicates; k++) {
        if (!(rep = result_alloc(ctx, t)))
            goto fail;
        rep->seed = rs->seed;
        rep->n_per_arm = n_per_arm;
        if (opt->alpha > 0.0)
            rep->alpha = opt->alpha;
        uint64_t key_base = (uint64_t)k << KS_TRIAL_REPLICATE_SHIFT;
        if (run_replicate(ctx, &e, rep, key_base, k == 0 && af_open ? af.fp : NULL,
                          opt->patients_csv) != KS_OK)
            goto fail;
        if (k == 0) {
            r = rep;
        } else {
            double effect, p;
            ks_trial_primary(rep, &effect, &p);
            r->significant += p < r->alpha;
            if (isfinite(effect))
                ks_welford_add(&r->primary_effect, effect);
            ks_trial_result_free(rep);
        }
        rep = NULL;
        if (k == 0 && replicates > 1) {
            double effect, p;
            ks_trial_primary(r, &effect, &p);
            r->significant += p < r->alpha;
            if (isfinite(effect))
                ks_welford_add(&r->primary_effect, effect);
        }
    }
    if (replicates > 1)
        r->replicates = replicates;
    if (af_open) {
        af_open = 0;
        if (ks_atomic_commit(ctx, &af) != KS_OK)
            goto fail;
    }
    for (int k = 0; k < e.nthreads; k++)
        stats_add(&r->solver, &e.workers[k].stats);
    goto done;

fail:
    ks_trial_result_free(rep); /* never r: rep is reset once r takes it */
    ks_trial_result_free(r);
    r = NULL;
done:
    if (af_open)
        ks_atomic_abort(&af);
    if (e.workers)
        for (int k = 0; k < e.nthreads; k++) {
            ks_ctx_free(e.workers[k].ctx);
            ks_sim_workspace_free(e.workers[k].ws);
            free(e.workers[k].doses);
            free(e.workers[k].events);
        }
    free(e.workers);
    free(e.slots);
    free(e.mine);
    free(e.all);
    free(e.truth);
    free(e.chg);
    free(e.counts);
    free(rs->times_h);
    if (typ_ready)
        ks_model_typical_clear(&typ);
    return r;
}
