/*
 * simulate.c -- the simulation driver (ks_simulate): for each subject, builds the patient's PK
 * system, walks the dose events in time order and integrates between them with the chosen
 * method, recording the selected outputs at every output time.
 *
 * Conventions (the validation and the tests rely on them):
 *   - Every subject starts from the zero state at t = 0; doses and output times are >= 0.
 *   - An output time equal to a dose time records the state AFTER the dose is applied (t+): a
 *     bolus given at t is already in the state, an infusion starting at t has not yet added
 *     anything. Several doses at one time are applied in record order.
 *   - Bolus-like inputs (ks_pk_dose_input, is_rate = 0) are added to the state; infusions
 *     (is_rate = 1) add their rate to the input vector u on [t, t + duration).
 *   - NONMEM steady-state doses: ss = 1 resets the state to the steady state of the dose repeated
 *     every ii_h (ks_pk_steady_state; infusions still running from earlier records are stopped)
 *     and then gives the dose; ss = 2 adds that steady state to the current state and then gives
 *     the dose.
 *   - KS_SOLVER_CVODE integrates dx/dt = A x + u (ks_pk_apply) and is re-initialised at every
 *     discontinuity (dose time, end of an infusion) with the stop time set to the next one, so
 *     no step crosses a dose. `restarts` in the statistics counts the (re)initialisations.
 *     While the state and the input are both zero (before the first dose) the solution is
 *     known to stay zero and nothing is integrated.
 *   - KS_SOLVER_CLOSED_FORM evaluates ks_pk_closed_form (superposition of exact dose responses).
 *   - Every recorded value is checked to be finite; a non-finite value fails with
 *     KS_ERR_SOLVER naming the subject, the output and the time.
 *
 * Memory is allocated once per call (sized for the largest subject), never per step.
 */
#include "sim/simulate.h"

#include "core/internal.h"
#include "sim/result_internal.h"
#include "solve/integrator.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ks_sim_options_init(ks_sim_options *opt)
{
    if (!opt) {
        return;
    }
    opt->solver = KS_SOLVER_CVODE;
    opt->rtol = 1e-8;
    opt->atol = 1e-12;
}

/* One recorded column: output `index` of the PK system, or raw state `index` when is_state. */
typedef struct {
    int index;
    int is_state;
} sim_column;

/* Everything allocated once per call. */
typedef struct {
    int n;
    ks_pk_system *sys;
    ks_pk_system *sys0; /* first subject's system: names and units of the outputs */
    sim_column *cols;
    size_t n_cols;
    const char **names;
    const char **units;
    char *name_buf; /* storage of "amount_<state>" names */
    double *inputs; /* [max doses][n] */
    int *is_rate;   /* [max doses] */
    size_t *active; /* [max doses] indices of running infusions */
    double *y, *u, *xss;
    double *xcf; /* [max times][n] closed-form states */
    void *integ;
} sim_work;

typedef struct {
    const ks_pk_system *sys;
    const double *u;
} pk_rhs_data;

/* dx/dt = A x + u (ks_integrator rhs). */
static int pk_rhs(double t, const double *y, double *ydot, void *user)
{
    const pk_rhs_data *d = user;
    (void)t;
    ks_pk_apply(d->sys, y, ydot);
    for (int i = 0; i < d->sys->n; i++) {
        ydot[i] += d->u[i];
    }
    return 0;
}

/* 1 when state i is referenced by an effect-site output (a concentration, uM), else 0. */
static int state_is_concentration(const ks_pk_system *sys, int i)
{
    for (int j = 0; j < sys->n_out; j++) {
        if (!sys->out[j].effect_site) {
            continue;
        }
        for (int k = 0; k < sys->out[j].n_terms; k++) {
            if (sys->out[j].state[k] == i) {
                return 1;
            }
        }
    }
    return 0;
}

/* Chooses the recorded columns from the scenario's output flags (0: plasma and effect site). */
static ks_status choose_columns(ks_ctx *ctx, sim_work *w, unsigned flags)
{
    const ks_pk_system *sys = w->sys0;
    if (flags == 0) {
        flags = KS_OUT_PLASMA | KS_OUT_EFFECT_SITE;
    }
    size_t cap = (size_t)sys->n_out + (size_t)sys->n;
    w->cols = ks_calloc(ctx, cap, sizeof *w->cols);
    w->names = ks_calloc(ctx, cap, sizeof *w->names);
    w->units = ks_calloc(ctx, cap, sizeof *w->units);
    w->name_buf = ks_calloc(ctx, (size_t)sys->n, 96);
    if (!w->cols || !w->names || !w->units || !w->name_buf) {
        return KS_ERR_NOMEM;
    }
    size_t c = 0;
    for (int j = 0; j < sys->n_out; j++) {
        unsigned want = sys->out[j].effect_site ? KS_OUT_EFFECT_SITE : KS_OUT_PLASMA;
        if (flags & want) {
            w->cols[c] = (sim_column){j, 0};
            w->names[c] = sys->out[j].name;
            w->units[c] = sys->out[j].unit;
            c++;
        }
    }
    if (flags & KS_OUT_AMOUNTS) {
        for (int i = 0; i < sys->n; i++) {
            char *nm = w->name_buf + (size_t)i * 96;
            const char *sn = ks_pk_state_name(i);
            snprintf(nm, 96, "amount_%s", sn ? sn : "state");
            w->cols[c] = (sim_column){i, 1};
            w->names[c] = nm;
            w->units[c] = state_is_concentration(sys, i) ? "uM" : "umol";
            c++;
        }
    }
    w->n_cols = c;
    return KS_OK;
}

/* Records every column at output k of subject s from state y. */
static ks_status record(ks_ctx *ctx, const sim_work *w, ks_result *r, size_t s, long id, size_t k,
                        double t, const double *y)
{
    for (size_t c = 0; c < w->n_cols; c++) {
        const sim_column *col = &w->cols[c];
        double v = col->is_state ? y[col->index] : ks_pk_output_value(w->sys, col->index, y);
        if (!isfinite(v)) {
            return ks_fail(ctx, KS_ERR_SOLVER, "subject %ld: output %s is not finite at t = %g h",
                           id, w->names[c], t);
        }
        ks_result_values_mut(r, s, c)[k] = v;
    }
    return KS_OK;
}

static int all_zero(const double *v, int n)
{
    for (int i = 0; i < n; i++) {
        if (v[i] != 0.0) {
            return 0;
        }
    }
    return 1;
}

/* Checks the subject's events against the driver's conventions. */
static ks_status check_subject(ks_ctx *ctx, const ks_subject *sub)
{
    for (size_t d = 0; d < sub->n_doses; d++) {
        const ks_dose *dose = &sub->doses[d];
        if (!isfinite(dose->t_h) || dose->t_h < 0.0) {
            return ks_fail(ctx, KS_ERR_INPUT, "dose %zu: time must be finite and >= 0 (got %g h)",
                           d + 1, dose->t_h);
        }
        if (d > 0 && dose->t_h < sub->doses[d - 1].t_h) {
            return ks_fail(ctx, KS_ERR_INTERNAL, "dose %zu: doses are not sorted by time", d + 1);
        }
        if (dose->ss < 0 || dose->ss > 2) {
            return ks_fail(ctx, KS_ERR_INPUT, "dose %zu: ss must be 0, 1 or 2 (got %d)", d + 1,
                           dose->ss);
        }
    }
    for (size_t k = 0; k < sub->n_times; k++) {
        double t = sub->times_h[k];
        if (!isfinite(t) || t < 0.0 || (k > 0 && t < sub->times_h[k - 1])) {
            return ks_fail(ctx, KS_ERR_INPUT,
                           "output time %zu: times must be finite, >= 0 and ascending (got %g h)",
                           k + 1, t);
        }
    }
    return KS_OK;
}

/* Reference path: CVODE restarted at every discontinuity. */
static ks_status run_cvode(ks_ctx *ctx, sim_work *w, const ks_subject *sub, ks_result *r, size_t s)
{
    const ks_integrator_type *it = &ks_integrator_cvode;
    const ks_pk_system *sys = w->sys;
    const int n = sys->n;
    const size_t un = (size_t)n;
    const ks_dose *doses = sub->doses;
    const double *times = sub->times_h;
    const long id = sub->patient.id;
    double *y = w->y, *u = w->u;
    ks_status st = KS_OK;
    pk_rhs_data rd = {sys, u};
    ks_ode_system ode = {n, pk_rhs, &rd};

    if (sub->n_times == 0) {
        return KS_OK;
    }
    for (size_t d = 0; d < sub->n_doses; d++) {
        st = ks_pk_dose_input(ctx, sys, &doses[d], w->inputs + d * un, &w->is_rate[d]);
        if (st != KS_OK) {
            return st;
        }
        if (w->is_rate[d] && (!(doses[d].duration_h > 0.0) || !isfinite(doses[d].duration_h))) {
            return ks_fail(ctx, KS_ERR_INPUT,
                           "dose %zu: infusion duration must be positive (got %g h)", d + 1,
                           doses[d].duration_h);
        }
    }
    memset(y, 0, un * sizeof(double));
    size_t n_active = 0, di = 0, k = 0;
    const double t_last = times[sub->n_times - 1];
    double t = 0.0;
    for (;;) {
        /* Events at t: infusions ending, then doses in record order. */
        for (size_t a = 0; a < n_active;) {
            size_t d = w->active[a];
            if (doses[d].t_h + doses[d].duration_h <= t) {
                w->active[a] = w->active[--n_active];
            } else {
                a++;
            }
        }
        for (; di < sub->n_doses && doses[di].t_h <= t; di++) {
            const ks_dose *dose = &doses[di];
            if (dose->ss == 1 || dose->ss == 2) {
                if ((st = ks_pk_steady_state(ctx, sys, dose, w->xss)) != KS_OK) {
                    return st;
                }
                if (dose->ss == 1) {
                    memcpy(y, w->xss, un * sizeof(double));
                    n_active = 0; /* a reset stops the infusions of earlier records */
                } else {
                    for (size_t i = 0; i < un; i++) {
                        y[i] += w->xss[i];
                    }
                }
            }
            if (w->is_rate[di]) {
                w->active[n_active++] = di;
            } else {
                const double *in = w->inputs + di * un;
                for (size_t i = 0; i < un; i++) {
                    y[i] += in[i];
                }
            }
        }
        memset(u, 0, un * sizeof(double));
        double t_next = INFINITY;
        if (di < sub->n_doses) {
            t_next = doses[di].t_h;
        }
        for (size_t a = 0; a < n_active; a++) {
            size_t d = w->active[a];
            const double *in = w->inputs + d * un;
            for (size_t i = 0; i < un; i++) {
                u[i] += in[i];
            }
            t_next = fmin(t_next, doses[d].t_h + doses[d].duration_h);
        }
        /* Integrate on [t, t_next), recording the outputs that fall in it. */
        const int quiet = all_zero(y, n) && all_zero(u, n);
        const double tstop = isfinite(t_next) ? t_next : fmax(t_last, t);
        if (!quiet && (st = it->reset(ctx, w->integ, &ode, t, y)) != KS_OK) {
            return st;
        }
        for (; k < sub->n_times && times[k] < t_next; k++) {
            if (!quiet && (st = it->advance(ctx, w->integ, times[k], tstop, y)) != KS_OK) {
                return st;
            }
            if ((st = record(ctx, w, r, s, id, k, times[k], y)) != KS_OK) {
                return st;
            }
        }
        if (k >= sub->n_times) {
            return KS_OK;
        }
        if (!quiet && (st = it->advance(ctx, w->integ, t_next, t_next, y)) != KS_OK) {
            return st;
        }
        t = t_next;
    }
}

/* Oracle path: exact superposition of dose responses. */
static ks_status run_closed_form(ks_ctx *ctx, sim_work *w, const ks_subject *sub, ks_result *r,
                                 size_t s)
{
    ks_status st = ks_pk_closed_form(ctx, w->sys, sub->doses, sub->n_doses, sub->times_h,
                                     sub->n_times, w->xcf);
    if (st != KS_OK) {
        return st;
    }
    for (size_t k = 0; k < sub->n_times && st == KS_OK; k++) {
        st = record(ctx, w, r, s, sub->patient.id, k, sub->times_h[k],
                    w->xcf + k * (size_t)w->sys->n);
    }
    return st;
}

/* Prefixes the context's message with the subject id. */
static ks_status subject_fail(ks_ctx *ctx, ks_status st, long id)
{
    char msg[KS_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", ks_ctx_message(ctx));
    if (strncmp(msg, "subject ", 8) == 0) {
        return st;
    }
    return ks_fail(ctx, st, "subject %ld: %s", id, msg);
}

static int same_outputs(const ks_pk_system *a, const ks_pk_system *b)
{
    if (a->n != b->n || a->n_out != b->n_out) {
        return 0;
    }
    for (int j = 0; j < a->n_out; j++) {
        if (!a->out[j].name || !b->out[j].name || strcmp(a->out[j].name, b->out[j].name) != 0) {
            return 0;
        }
    }
    return 1;
}

ks_result *ks_simulate(ks_ctx *ctx, const ks_params *params, const ks_scenario *scenario,
                       const ks_sim_options *opt)
{
    ks_sim_options defaults;
    ks_pk_typical *typ = NULL;
    ks_result *r = NULL;
    sim_work w;
    ks_status st = KS_OK;
    memset(&w, 0, sizeof w);

    if (!params || !scenario) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_simulate: missing parameters or scenario");
        return NULL;
    }
    if (!opt) {
        ks_sim_options_init(&defaults);
        opt = &defaults;
    }
    if (opt->solver != KS_SOLVER_CVODE && opt->solver != KS_SOLVER_CLOSED_FORM) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_simulate: unknown solver (got %d)", (int)opt->solver);
        return NULL;
    }
    if (scenario->n_subjects == 0 || !scenario->subjects) {
        ks_fail(ctx, KS_ERR_INPUT, "%s: the scenario has no subjects", scenario->name);
        return NULL;
    }
    if (!(typ = ks_pk_typical_create(ctx, params))) {
        goto fail;
    }
    w.sys = ks_calloc(ctx, 1, sizeof *w.sys);
    w.sys0 = ks_calloc(ctx, 1, sizeof *w.sys0);
    if (!w.sys || !w.sys0) {
        goto fail;
    }
    if (ks_pk_build(ctx, typ, &scenario->subjects[0].patient, w.sys0) != KS_OK) {
        subject_fail(ctx, ks_ctx_status(ctx), scenario->subjects[0].patient.id);
        goto fail;
    }
    w.n = w.sys0->n;
    if (w.n < 1 || w.n > KS_PK_MAXN) {
        ks_fail(ctx, KS_ERR_INTERNAL, "PK system size outside 1..%d (got %d)", KS_PK_MAXN, w.n);
        goto fail;
    }
    if (choose_columns(ctx, &w, scenario->outputs) != KS_OK) {
        goto fail;
    }
    size_t max_doses = 1, max_times = 1;
    for (size_t s = 0; s < scenario->n_subjects; s++) {
        max_doses =
            scenario->subjects[s].n_doses > max_doses ? scenario->subjects[s].n_doses : max_doses;
        max_times =
            scenario->subjects[s].n_times > max_times ? scenario->subjects[s].n_times : max_times;
    }
    size_t un = (size_t)w.n;
    if (max_doses > ((size_t)-1) / sizeof(double) / un ||
        max_times > ((size_t)-1) / sizeof(double) / un) {
        ks_fail(ctx, KS_ERR_NOMEM, "ks_simulate: scenario too large");
        goto fail;
    }
    w.y = ks_calloc(ctx, 3 * un, sizeof(double));
    if (!w.y) {
        goto fail;
    }
    w.u = w.y + un;
    w.xss = w.u + un;
    if (opt->solver == KS_SOLVER_CVODE) {
        w.inputs = ks_calloc(ctx, max_doses * un, sizeof(double));
        w.is_rate = ks_calloc(ctx, max_doses, sizeof(int));
        w.active = ks_calloc(ctx, max_doses, sizeof(size_t));
        if (!w.inputs || !w.is_rate || !w.active) {
            goto fail;
        }
        if (!(w.integ = ks_integrator_cvode.create(ctx, w.n, opt))) {
            goto fail;
        }
    } else {
        w.xcf = ks_calloc(ctx, max_times * un, sizeof(double));
        if (!w.xcf) {
            goto fail;
        }
    }
    r = ks_result_alloc(ctx, scenario->n_subjects, w.n_cols, w.names, w.units);
    if (!r) {
        goto fail;
    }
    for (size_t s = 0; s < scenario->n_subjects; s++) {
        const ks_subject *sub = &scenario->subjects[s];
        long id = sub->patient.id;
        if ((st = check_subject(ctx, sub)) != KS_OK ||
            (st = ks_pk_build(ctx, typ, &sub->patient, w.sys)) != KS_OK) {
            subject_fail(ctx, st, id);
            goto fail;
        }
        if (!same_outputs(w.sys, w.sys0)) {
            ks_fail(ctx, KS_ERR_INTERNAL,
                    "subject %ld: PK system differs in structure from the "
                    "first subject's",
                    id);
            goto fail;
        }
        if ((st = ks_result_set_subject(ctx, r, s, id, sub->times_h, sub->n_times)) != KS_OK) {
            goto fail;
        }
        st = opt->solver == KS_SOLVER_CVODE ? run_cvode(ctx, &w, sub, r, s)
                                            : run_closed_form(ctx, &w, sub, r, s);
        if (st != KS_OK) {
            subject_fail(ctx, st, id);
            goto fail;
        }
    }
    if (w.integ) {
        ks_integrator_cvode.stats(w.integ, &r->stats);
    }
    goto done;
fail:
    ks_result_free(r);
    r = NULL;
done:
    if (w.integ) {
        ks_integrator_cvode.free(w.integ);
    }
    free(w.sys);
    free(w.sys0);
    free(w.cols);
    free(w.names);
    free(w.units);
    free(w.name_buf);
    free(w.inputs);
    free(w.is_rate);
    free(w.active);
    free(w.y);
    free(w.xcf);
    ks_pk_typical_free(typ);
    return r;
}
