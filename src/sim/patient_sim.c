/*
 * patient_sim.c -- one patient through the whole chain (PK and mechanism) with the reference
 * integrator (CVODE), with the fast path (patient_fast.h: exact PK, Rosenbrock-W mechanism)
 * along the same walk of events, or the PK alone in closed form.
 *
 * Semantics (the validation, the trials and the tests rely on them):
 *   - Start: PK state zero, mechanism state ks_pd_initial_state (the patient's drug-free steady
 *     state) at t = 0. Doses, events and output times are >= 0.
 *   - The system y = [PK states reachable from the doses | 28 mechanism states] (model.h) is
 *     integrated by CVODE, re-initialised at every discontinuity: a dose (bolus or infusion
 *     start), the end of an infusion, every event, the end of an interval event (mTOR block,
 *     stress episode) and the close of a treatment session. No step crosses one (stop time).
 *   - Order at one time t: infusions ending at t stop; a session due at t closes; events at t
 *     in record order; doses at t in record order (a dose with reset = 1 first zeroes the PK
 *     state and stops running infusions; ss = 1/2 as in NONMEM); then the outputs at t are
 *     recorded. An output at a dose or event time therefore sees its effect (t+): a bolus is
 *     in the state, a visit's expectation increment is in E, an infusion starting at t has not
 *     yet added anything.
 *   - Interventions (docs/MODEL.md 10): anti_bdnf and ampa_block act from their time on with
 *     level magnitude * exp(-(t - t0)/tau), tau = int.antibdnf_tau / int.nbqx_tau (several
 *     events add, clamped to 1); mtor_block acts with its magnitude over [t, t + duration]
 *     (overlapping blocks combine as 1 - prod(1 - f)); stress adds its amplitude to
 *     sigma_ep over [t, t + duration]. Visits call ks_pd_visit, therapy ks_pd_therapy,
 *     spine_ablation ks_pd_ablate_new_spines. Without the mechanism, events are ignored.
 *   - Treatment sessions: every dose of ketamine, esketamine, arketamine, midazolam or saline
 *     given in the clinic starts one (an intranasal dose only with its first device, device <=
 *     1; an oral dose never: a pill taken at home is no session, MODEL.md 9), unless a
 *     session is already open (a dose within 2 h of a session start belongs to it). CADSS and
 *     midazolam sedation (ks_pd_outputs) are sampled every minute and at every stop from the
 *     start; at start + 2 h ks_pd_session applies the belief update with their peaks and
 *     run->open_label.
 *   - Mood noise: the OU path nu (ks_pd_noise_params) sampled exactly on a 1-h grid from
 *     substream KS_RNG_MOOD_NOISE of (run->seed, run->key) and joined by its natural cubic
 *     spline (a C2 input, so no stops and no error-test failures at the grid points). The path
 * depends only on (seed, key) and the patient's noise parameters: adding a visit or a dose never
 * changes it. run->noise = 0 gives nu = 0.
 *   - Outputs: PK outputs in ng/mL, mechanism outputs, nu, raw PK states (patient_sim.h). A
 *     solver failure or a non-finite output fails with KS_ERR_SOLVER naming the patient key
 *     and the time.
 *   - KS_SOLVER_CLOSED_FORM (PK only): ks_pk_closed_form at the output times.
 *   - KS_SOLVER_FAST: the same walk (apply_discontinuities, next_break, record and the session
 *     samples are shared); only the integration between stops differs (patient_fast.c).
 *
 * Cost: the workspace holds every buffer; the PK system is rebuilt only when the patient's
 * covariates change; one CVODE instance per system size is kept. Nothing is allocated or
 * written per step.
 */
#include "sim/patient_sim.h"

#include "core/internal.h"
#include "core/rng.h"
#include "model/model.h"
#include "sim/patient_fast.h"
#include "sim/simulate.h"
#include "solve/integrator.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * Output names
 * ------------------------------------------------------------------------------------- */

/* The PK output names of pk.h, in KS_PK_OUT_* order (checked against every built system). */
static const char *const pk_out_names[KS_PK_NOUT] = {
    "plasma_ketamine_total",    "plasma_s_ketamine",    "plasma_r_ketamine",
    "plasma_norketamine_total", "plasma_s_norketamine", "plasma_r_norketamine",
    "plasma_hnk_total",         "plasma_hnk_2s6s",      "plasma_hnk_2r6r",
    "brain_ketamine_total",     "brain_s_ketamine",     "brain_r_ketamine",
    "brain_norketamine_total",  "brain_s_norketamine",  "brain_r_norketamine",
    "brain_hnk_2s6s",           "brain_hnk_2r6r",       "plasma_escitalopram",
    "brain_escitalopram",       "plasma_citalopram",    "brain_citalopram",
    "plasma_midazolam",         "brain_midazolam",      "plasma_naltrexone",
    "brain_naltrexone",         "plasma_6b_naltrexol",  "brain_6b_naltrexol",
    "blood_rapamycin",          "brain_rapamycin",
};

static const char *const amount_names[KS_PK_NSTATE] = {
    "amount_S_ket_central", "amount_S_ket_periph1", "amount_S_ket_periph2", "amount_S_ket_liver",
    "amount_S_ket_nasal",   "amount_S_ket_gut",     "amount_S_ket_im",      "amount_S_ket_sl",
    "amount_S_nor_central", "amount_S_nor_periph",  "amount_S_hnk_central", "amount_S_ket_effect",
    "amount_S_nor_effect",  "amount_S_hnk_effect",  "amount_R_ket_central", "amount_R_ket_periph1",
    "amount_R_ket_periph2", "amount_R_ket_liver",   "amount_R_ket_nasal",   "amount_R_ket_gut",
    "amount_R_ket_im",      "amount_R_ket_sl",      "amount_R_nor_central", "amount_R_nor_periph",
    "amount_R_hnk_central", "amount_R_ket_effect",  "amount_R_nor_effect",  "amount_R_hnk_effect",
    "amount_esc_gut",       "amount_esc_central",   "amount_esc_effect",    "amount_cit_gut",
    "amount_cit_central",   "amount_cit_effect",    "amount_mdz_gut",       "amount_mdz_central",
    "amount_mdz_periph",    "amount_mdz_effect",    "amount_ntx_gut",       "amount_ntx_central",
    "amount_ntx_effect",    "amount_nol_central",   "amount_nol_effect",    "amount_rapa_gut",
    "amount_rapa_central",  "amount_rapa_effect",
};

size_t ks_sim_output_count(void)
{
    return KS_SIM_NOUT;
}

const char *ks_sim_output_name(size_t j)
{
    if (j < KS_SIM_OUT_PD) {
        return pk_out_names[j];
    }
    if (j < KS_SIM_OUT_NOISE) {
        return ks_pd_output_name((int)(j - KS_SIM_OUT_PD));
    }
    if (j == KS_SIM_OUT_NOISE) {
        return "mood_noise";
    }
    if (j < KS_SIM_NOUT) {
        return amount_names[j - KS_SIM_OUT_AMOUNT];
    }
    return "?";
}

const char *ks_sim_output_unit(size_t j)
{
    if (j < KS_SIM_OUT_PD) {
        return "ng/mL";
    }
    if (j < KS_SIM_OUT_NOISE) {
        return ks_pd_output_unit((int)(j - KS_SIM_OUT_PD));
    }
    if (j == KS_SIM_OUT_NOISE) {
        return "1";
    }
    if (j < KS_SIM_NOUT) {
        const char *nm = amount_names[j - KS_SIM_OUT_AMOUNT];
        size_t len = strlen(nm);
        return len > 7 && strcmp(nm + len - 7, "_effect") == 0 ? "uM" : "umol";
    }
    return "?";
}

long ks_sim_output_index(const char *name)
{
    if (!name) {
        return -1;
    }
    for (size_t j = 0; j < KS_SIM_NOUT; j++) {
        if (strcmp(ks_sim_output_name(j), name) == 0) {
            return (long)j;
        }
    }
    return -1;
}

/* ---------------------------------------------------------------------------------------
 * Typical values
 * ------------------------------------------------------------------------------------- */

ks_status ks_model_typical_init(ks_ctx *ctx, const ks_params *params, ks_model_typical *typ)
{
    if (!typ || !params) {
        return ks_fail(ctx, KS_ERR_USAGE, "ks_model_typical_init: NULL argument");
    }
    typ->pk = ks_pk_typical_create(ctx, params);
    typ->pd = typ->pk ? ks_pd_typical_create(ctx, params) : NULL;
    if (!typ->pk || !typ->pd) {
        ks_status st = ks_ctx_status(ctx);
        ks_model_typical_clear(typ);
        return st != KS_OK ? st : KS_ERR_INTERNAL;
    }
    return KS_OK;
}

void ks_model_typical_clear(ks_model_typical *typ)
{
    if (!typ) {
        return;
    }
    ks_pk_typical_free(typ->pk);
    ks_pd_typical_free(typ->pd);
    typ->pk = NULL;
    typ->pd = NULL;
}

/* ---------------------------------------------------------------------------------------
 * Workspace
 * ------------------------------------------------------------------------------------- */

#define KS_SIM_MAX_INTEG 16 /* CVODE instances kept (one per system size met) */

typedef struct {
    int n;
    void *state;
} integ_slot;

struct ks_sim_workspace {
    ks_sim_options opt;
    ks_pk_system pk;
    ks_patient pk_patient; /* covariates pk was built for */
    int pk_valid;
    ks_pd_patient pd;
    ks_model model;
    integ_slot integ[KS_SIM_MAX_INTEG];
    int n_integ;
    ks_fast_integ *fast; /* KS_SOLVER_FAST only */
    /* per dose */
    double *dose_in; /* [cap_doses][KS_PK_MAXN] full PK inputs */
    int *is_rate;
    size_t *active;
    size_t cap_doses;
    /* mood noise grid */
    double *nu;
    size_t cap_nu;
    /* closed form: [cap_cf] = n_times x KS_PK_MAXN */
    double *xcf;
    size_t cap_cf;
    /* vectors */
    double y[KS_MODEL_MAXN];
    double xfull[KS_PK_MAXN];
    double xss[KS_PK_MAXN];
    double pdout[KS_PD_NOUT];
    unsigned char carry[KS_PK_MAXN];
};

ks_sim_workspace *ks_sim_workspace_create(ks_ctx *ctx, const ks_sim_options *opt)
{
    ks_sim_options defaults;
    if (!opt) {
        ks_sim_options_init(&defaults);
        opt = &defaults;
    }
    if (opt->solver != KS_SOLVER_CVODE && opt->solver != KS_SOLVER_CLOSED_FORM &&
        opt->solver != KS_SOLVER_FAST) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_sim_workspace_create: unknown solver (got %d)",
                (int)opt->solver);
        return NULL;
    }
    if (!(opt->rtol > 0.0) || !isfinite(opt->rtol) || !(opt->atol > 0.0) || !isfinite(opt->atol)) {
        ks_fail(ctx, KS_ERR_USAGE,
                "ks_sim_workspace_create: tolerances must be positive and finite (got rtol %g, "
                "atol %g)",
                opt->rtol, opt->atol);
        return NULL;
    }
    if (opt->solver == KS_SOLVER_FAST && (!(opt->fast_rtol > 0.0) || !(opt->fast_rtol < 1.0) ||
                                          !(opt->fast_atol > 0.0) || !isfinite(opt->fast_atol))) {
        ks_fail(ctx, KS_ERR_USAGE,
                "ks_sim_workspace_create: fast-path tolerances must be positive and finite, "
                "fast_rtol below 1 (got fast_rtol %g, fast_atol %g)",
                opt->fast_rtol, opt->fast_atol);
        return NULL;
    }
    ks_sim_workspace *ws = ks_calloc(ctx, 1, sizeof *ws);
    if (!ws) {
        return NULL;
    }
    ws->opt = *opt;
    if (opt->solver == KS_SOLVER_FAST &&
        !(ws->fast = ks_fast_create(ctx, opt->fast_rtol, opt->fast_atol))) {
        free(ws);
        return NULL;
    }
    return ws;
}

void ks_sim_workspace_free(ks_sim_workspace *ws)
{
    if (!ws) {
        return;
    }
    for (int i = 0; i < ws->n_integ; i++) {
        ks_integrator_cvode.free(ws->integ[i].state);
    }
    free(ws->dose_in);
    free(ws->is_rate);
    free(ws->active);
    free(ws->nu);
    free(ws->xcf);
    ks_fast_free(ws->fast);
    free(ws);
}

/* The CVODE instance for systems of size n (created on first use). */
static void *integrator_for(ks_ctx *ctx, ks_sim_workspace *ws, int n)
{
    for (int i = 0; i < ws->n_integ; i++) {
        if (ws->integ[i].n == n) {
            return ws->integ[i].state;
        }
    }
    if (ws->n_integ == KS_SIM_MAX_INTEG) {
        /* Evict the oldest instance (never happens with the sizes of this model). */
        ks_integrator_cvode.free(ws->integ[0].state);
        memmove(ws->integ, ws->integ + 1, (KS_SIM_MAX_INTEG - 1) * sizeof ws->integ[0]);
        ws->n_integ--;
    }
    void *st = ks_integrator_cvode.create(ctx, n, &ws->opt);
    if (!st) {
        return NULL;
    }
    ws->integ[ws->n_integ].n = n;
    ws->integ[ws->n_integ].state = st;
    ws->n_integ++;
    return st;
}

static ks_status grow_doses(ks_ctx *ctx, ks_sim_workspace *ws, size_t n)
{
    if (n <= ws->cap_doses) {
        return KS_OK;
    }
    size_t cap = n < 16 ? 16 : n;
    if (cap > ((size_t)-1) / (KS_PK_MAXN * sizeof(double))) {
        return ks_fail(ctx, KS_ERR_NOMEM, "patient simulation: too many doses (%zu)", n);
    }
    double *d = ks_malloc(ctx, cap * KS_PK_MAXN * sizeof(double));
    int *r = ks_malloc(ctx, cap * sizeof(int));
    size_t *a = ks_malloc(ctx, cap * sizeof(size_t));
    if (!d || !r || !a) {
        free(d);
        free(r);
        free(a);
        return KS_ERR_NOMEM;
    }
    free(ws->dose_in);
    free(ws->is_rate);
    free(ws->active);
    ws->dose_in = d;
    ws->is_rate = r;
    ws->active = a;
    ws->cap_doses = cap;
    return KS_OK;
}

static ks_status grow_array(ks_ctx *ctx, double **p, size_t *cap, size_t n)
{
    if (n <= *cap) {
        return KS_OK;
    }
    double *q = ks_malloc(ctx, n * sizeof(double));
    if (!q) {
        return KS_ERR_NOMEM;
    }
    free(*p);
    *p = q;
    *cap = n;
    return KS_OK;
}

static int same_pk_covariates(const ks_patient *a, const ks_patient *b)
{
    return a->weight_kg == b->weight_kg && a->age_y == b->age_y && a->sex == b->sex &&
           a->cyp2b6 == b->cyp2b6 && a->bdnf == b->bdnf && a->east_asian == b->east_asian;
}

/* ---------------------------------------------------------------------------------------
 * One patient
 * ------------------------------------------------------------------------------------- */

/* State of the walk through one patient's timeline. */
typedef struct {
    ks_sim_workspace *ws;
    const ks_patient_run *run;
    const ks_model_typical *typ;
    int mech;
    size_t di, ei, k, n_active;
    int sess_open;
    double sess_t0, sess_next, cadss_peak, sed_peak;
    long sess_j;
} walk;

static int starts_session(const ks_dose *d)
{
    switch (d->drug) {
    case KS_DRUG_KETAMINE:
    case KS_DRUG_ESKETAMINE:
    case KS_DRUG_ARKETAMINE:
    case KS_DRUG_MIDAZOLAM:
    case KS_DRUG_SALINE:
        if (d->route == KS_ROUTE_ORAL)
            return 0;
        return d->route != KS_ROUTE_INTRANASAL || d->device <= 1;
    default:
        return 0;
    }
}

/* Peak tracking: the session's CADSS and sedation at (t, y). */
static void session_sample(walk *w, double t)
{
    ks_sim_workspace *ws = w->ws;
    ks_pd_input in;
    ks_model_pd_input(&ws->model, t, ws->y, &in);
    ks_pd_outputs(&ws->pd, ws->y + ws->model.n_pk, &in, ws->pdout);
    w->cadss_peak = fmax(w->cadss_peak, ws->pdout[KS_PD_OUT_CADSS]);
    w->sed_peak = fmax(w->sed_peak, ws->pdout[KS_PD_OUT_SEDATION]);
}

/* Writes the selected outputs at output index k (time t) from the current state. */
static ks_status record(ks_ctx *ctx, walk *w, const size_t *sel, size_t n_sel, double *out,
                        double t)
{
    ks_sim_workspace *ws = w->ws;
    const size_t nt = w->run->n_times;
    int have_pd = 0;
    double nu = 0.0;
    ks_model_pk_state(&ws->model, ws->y, ws->xfull);
    for (size_t c = 0; c < n_sel; c++) {
        size_t j = sel[c];
        double v;
        if (j < KS_SIM_OUT_PD) {
            v = ks_pk_output_value(&ws->pk, (int)j, ws->xfull);
        } else if (j < KS_SIM_OUT_NOISE) {
            if (!have_pd) {
                ks_pd_input in;
                ks_model_pd_input(&ws->model, t, ws->y, &in);
                ks_pd_outputs(&ws->pd, ws->y + ws->model.n_pk, &in, ws->pdout);
                have_pd = 1;
            }
            v = ws->pdout[j - KS_SIM_OUT_PD];
        } else if (j == KS_SIM_OUT_NOISE) {
            nu = w->mech ? ks_model_nu(&ws->model, t) : 0.0;
            v = nu;
        } else {
            v = ws->xfull[j - KS_SIM_OUT_AMOUNT];
        }
        if (!isfinite(v)) {
            return ks_fail(ctx, KS_ERR_SOLVER,
                           "patient %" PRIu64 ": output %s is not finite at t = %g h", w->run->key,
                           ks_sim_output_name(j), t);
        }
        out[c * nt + w->k] = v;
    }
    return KS_OK;
}

/* Applies everything that happens at time t (order in the file header). */
static ks_status apply_discontinuities(ks_ctx *ctx, walk *w, double t)
{
    ks_sim_workspace *ws = w->ws;
    const ks_patient_run *run = w->run;
    ks_model *m = &ws->model;
    double *z = ws->y + m->n_pk;
    ks_status st;
    /* infusions ending */
    for (size_t a = 0; a < w->n_active;) {
        const ks_dose *d = &run->doses[ws->active[a]];
        if (d->t_h + d->duration_h <= t) {
            ws->active[a] = ws->active[--w->n_active];
        } else {
            a++;
        }
    }
    if (w->mech) {
        ks_pd_input in;
        /* session close (belief update, MODEL.md 9) */
        if (w->sess_open && w->sess_t0 + KS_SESSION_H <= t) {
            session_sample(w, t);
            ks_model_pd_input(m, t, ws->y, &in);
            ks_pd_session(&ws->pd, z, w->cadss_peak, w->sed_peak, run->open_label, &in);
            w->sess_open = 0;
        }
        /* events */
        for (; w->ei < run->n_events && run->events[w->ei].t_h <= t; w->ei++) {
            const ks_event *e = &run->events[w->ei];
            switch (e->kind) {
            case KS_EV_VISIT:
                ks_model_pd_input(m, t, ws->y, &in);
                ks_pd_visit(&ws->pd, z, &in);
                break;
            case KS_EV_THERAPY:
                ks_pd_therapy(&ws->pd, z, e->magnitude);
                break;
            case KS_EV_SPINE_ABLATION:
                ks_pd_ablate_new_spines(&ws->pd, z, e->magnitude);
                break;
            default: /* levels: set per segment */
                break;
            }
        }
    } else {
        while (w->ei < run->n_events && run->events[w->ei].t_h <= t) {
            w->ei++;
        }
    }
    /* doses */
    for (; w->di < run->n_doses && run->doses[w->di].t_h <= t; w->di++) {
        const size_t d = w->di;
        const ks_dose *dose = &run->doses[d];
        if (dose->reset) {
            for (int c = 0; c < m->n_pk; c++) {
                ws->y[c] = 0.0;
            }
            w->n_active = 0;
            if (!(dose->amount_mg > 0.0)) {
                continue; /* a pure reset (NONMEM EVID 3) */
            }
        }
        if (dose->ss == 1 || dose->ss == 2) {
            if ((st = ks_pk_steady_state(ctx, &ws->pk, dose, ws->xss)) != KS_OK) {
                return st;
            }
            if (dose->ss == 1) {
                w->n_active = 0; /* a reset stops the infusions of earlier records */
            }
            for (int c = 0; c < m->n_pk; c++) {
                double v = ws->xss[m->pk_full[c]];
                ws->y[c] = dose->ss == 1 ? v : ws->y[c] + v;
            }
        }
        if (ws->is_rate[d]) {
            ws->active[w->n_active++] = d;
        } else {
            const double *in = ws->dose_in + d * KS_PK_MAXN;
            for (int c = 0; c < m->n_pk; c++) {
                ws->y[c] += in[m->pk_full[c]];
            }
        }
        if (w->mech && !w->sess_open && starts_session(dose)) {
            w->sess_open = 1;
            w->sess_t0 = t;
            w->sess_j = 1;
            w->sess_next = t + KS_SESSION_SAMPLE_H;
            w->cadss_peak = 0.0;
            w->sed_peak = 0.0;
        }
    }
    /* inputs of the segment starting at t */
    memset(m->u, 0, sizeof m->u);
    for (size_t a = 0; a < w->n_active; a++) {
        const double *in = ws->dose_in + ws->active[a] * KS_PK_MAXN;
        for (int c = 0; c < m->n_pk; c++) {
            m->u[c] += in[m->pk_full[c]];
        }
    }
    if (w->mech) {
        double ab = 0.0, ampa = 0.0, keep = 1.0, stress = 0.0;
        for (size_t e = 0; e < w->ei; e++) {
            const ks_event *ev = &run->events[e];
            double age = t - ev->t_h;
            switch (ev->kind) {
            case KS_EV_ANTI_BDNF: /* MODEL.md 10 */
                ab += ev->magnitude * exp(-age / ws->pd.intv.antibdnf_tau_h);
                break;
            case KS_EV_AMPA_BLOCK:
                ampa += ev->magnitude * exp(-age / ws->pd.intv.nbqx_tau_h);
                break;
            case KS_EV_MTOR_BLOCK:
                if (age < ev->duration_h) {
                    keep *= 1.0 - fmin(1.0, fmax(0.0, ev->magnitude));
                }
                break;
            case KS_EV_STRESS:
                if (age < ev->duration_h) {
                    stress += ev->magnitude;
                }
                break;
            default:
                break;
            }
        }
        m->anti_bdnf0 = ab;
        m->anti_bdnf_t0 = t;
        m->ampa0 = ampa;
        m->ampa_t0 = t;
        m->mtor_block = 1.0 - keep;
        m->stress_episode = stress;
        if (w->sess_open) {
            session_sample(w, t);
        }
    }
    return KS_OK;
}

/* The next discontinuity after t (INFINITY when none). */
static double next_break(const walk *w, double t)
{
    const ks_patient_run *run = w->run;
    const ks_sim_workspace *ws = w->ws;
    double tn = INFINITY;
    if (w->di < run->n_doses) {
        tn = run->doses[w->di].t_h;
    }
    for (size_t a = 0; a < w->n_active; a++) {
        const ks_dose *d = &run->doses[ws->active[a]];
        tn = fmin(tn, d->t_h + d->duration_h);
    }
    if (w->mech) {
        if (w->ei < run->n_events) {
            tn = fmin(tn, run->events[w->ei].t_h);
        }
        for (size_t e = 0; e < w->ei; e++) {
            const ks_event *ev = &run->events[e];
            double te = ev->t_h + ev->duration_h;
            if (ks_event_is_interval(ev->kind) && te > t) {
                tn = fmin(tn, te);
            }
        }
        if (w->sess_open) {
            tn = fmin(tn, w->sess_t0 + KS_SESSION_H);
        }
    }
    return tn;
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

/* Checks the run's arrays against the conventions of the file header. */
static ks_status check_run(ks_ctx *ctx, const ks_model_typical *typ, const ks_patient_run *run,
                           const size_t *sel, size_t n_sel)
{
    if (!run->patient || (run->n_doses && !run->doses) || (run->n_events && !run->events) ||
        (run->n_times && !run->times_h) || (n_sel && !sel) || !typ || !typ->pk) {
        return ks_fail(ctx, KS_ERR_USAGE, "ks_sim_patient: missing argument");
    }
    if (run->mechanism && !typ->pd) {
        return ks_fail(ctx, KS_ERR_USAGE,
                       "ks_sim_patient: the mechanism needs the typical mechanism parameters");
    }
    for (size_t c = 0; c < n_sel; c++) {
        if (sel[c] >= KS_SIM_NOUT) {
            return ks_fail(ctx, KS_ERR_USAGE, "ks_sim_patient: output index %zu out of range",
                           sel[c]);
        }
        if (!run->mechanism && sel[c] >= KS_SIM_OUT_PD && sel[c] < KS_SIM_OUT_NOISE) {
            return ks_fail(ctx, KS_ERR_USAGE,
                           "ks_sim_patient: output %s needs the mechanism (mechanism off)",
                           ks_sim_output_name(sel[c]));
        }
    }
    for (size_t d = 0; d < run->n_doses; d++) {
        const ks_dose *dose = &run->doses[d];
        if (!isfinite(dose->t_h) || dose->t_h < 0.0) {
            return ks_fail(ctx, KS_ERR_INPUT, "dose %zu: time must be finite and >= 0 (got %g h)",
                           d + 1, dose->t_h);
        }
        if (d > 0 && dose->t_h < run->doses[d - 1].t_h) {
            return ks_fail(ctx, KS_ERR_INTERNAL, "dose %zu: doses are not sorted by time", d + 1);
        }
        if (dose->ss < 0 || dose->ss > 2) {
            return ks_fail(ctx, KS_ERR_INPUT, "dose %zu: ss must be 0, 1 or 2 (got %d)", d + 1,
                           dose->ss);
        }
    }
    for (size_t e = 0; e < run->n_events; e++) {
        const ks_event *ev = &run->events[e];
        if (!isfinite(ev->t_h) || ev->t_h < 0.0 || !isfinite(ev->magnitude) ||
            ev->magnitude < 0.0 || !isfinite(ev->duration_h) || ev->duration_h < 0.0 ||
            (int)ev->kind < 0 || ev->kind >= KS_EV_COUNT) {
            return ks_fail(ctx, KS_ERR_INPUT,
                           "event %zu (%s): time, magnitude and duration must be finite and "
                           ">= 0 (got t %g h, magnitude %g, duration %g h)",
                           e + 1, ks_event_name(ev->kind), ev->t_h, ev->magnitude, ev->duration_h);
        }
        if (e > 0 && ev->t_h < run->events[e - 1].t_h) {
            return ks_fail(ctx, KS_ERR_INTERNAL, "event %zu: events are not sorted by time", e + 1);
        }
    }
    for (size_t k = 0; k < run->n_times; k++) {
        double t = run->times_h[k];
        if (!isfinite(t) || t < 0.0 || (k > 0 && t < run->times_h[k - 1])) {
            return ks_fail(ctx, KS_ERR_INPUT,
                           "output time %zu: times must be finite, >= 0 and ascending (got %g h)",
                           k + 1, t);
        }
    }
    return KS_OK;
}

/* Builds (or reuses) the PK system, the mechanism parameters, the dose inputs and the model. */
static ks_status prepare(ks_ctx *ctx, const ks_model_typical *typ, ks_sim_workspace *ws,
                         const ks_patient_run *run)
{
    ks_status st;
    if (!ws->pk_valid || !same_pk_covariates(&ws->pk_patient, run->patient)) {
        ws->pk_valid = 0;
        if ((st = ks_pk_build(ctx, typ->pk, run->patient, &ws->pk)) != KS_OK) {
            return st;
        }
        if (ws->pk.n > KS_PK_MAXN || ws->pk.n_out != KS_PK_NOUT) {
            return ks_fail(ctx, KS_ERR_INTERNAL,
                           "PK system of unexpected size (%d states, %d "
                           "outputs)",
                           ws->pk.n, ws->pk.n_out);
        }
        for (int j = 0; j < KS_PK_NOUT; j++) {
            if (!ws->pk.out[j].name || strcmp(ws->pk.out[j].name, pk_out_names[j]) != 0) {
                return ks_fail(ctx, KS_ERR_INTERNAL, "PK output %d is '%s', expected '%s'", j,
                               ws->pk.out[j].name ? ws->pk.out[j].name : "(null)", pk_out_names[j]);
            }
        }
        ws->pk_patient = *run->patient;
        ws->pk_valid = 1;
    }
    if (run->mechanism) {
        ks_pd_covariates cov;
        const ks_pd_covariates *c = run->cov;
        if (!c) {
            ks_pd_covariates_init(&cov);
            c = &cov;
        }
        if ((st = ks_pd_build(ctx, typ->pd, run->patient, c, &ws->pd)) != KS_OK) {
            return st;
        }
    }
    if ((st = grow_doses(ctx, ws, run->n_doses)) != KS_OK) {
        return st;
    }
    const int n = ws->pk.n;
    memset(ws->carry, 0, sizeof ws->carry);
    for (size_t d = 0; d < run->n_doses; d++) {
        double *in = ws->dose_in + d * KS_PK_MAXN;
        const ks_dose *dose = &run->doses[d];
        if (dose->reset && !(dose->amount_mg > 0.0)) {
            memset(in, 0, KS_PK_MAXN * sizeof(double));
            ws->is_rate[d] = 0;
            continue;
        }
        if ((st = ks_pk_dose_input(ctx, &ws->pk, dose, in, &ws->is_rate[d])) != KS_OK) {
            return st;
        }
        for (int i = 0; i < n; i++) {
            ws->carry[i] |= in[i] != 0.0;
        }
    }
    ks_model_reachable(&ws->pk, ws->carry, ws->carry);
    return ks_model_setup(ctx, &ws->model, &ws->pk, run->mechanism ? &ws->pd : NULL, ws->carry);
}

/* PK alone in closed form at the output times. */
static ks_status run_closed_form(ks_ctx *ctx, ks_sim_workspace *ws, walk *w, const size_t *sel,
                                 size_t n_sel, double *out)
{
    const ks_patient_run *run = w->run;
    const size_t n = (size_t)ws->pk.n;
    ks_status st;
    if (run->n_times == 0) {
        return KS_OK;
    }
    if (run->n_times > ((size_t)-1) / sizeof(double) / n) {
        return ks_fail(ctx, KS_ERR_NOMEM, "closed form: too many output times");
    }
    if ((st = grow_array(ctx, &ws->xcf, &ws->cap_cf, run->n_times * n)) != KS_OK) {
        return st;
    }
    st = ks_pk_closed_form(ctx, &ws->pk, run->doses, run->n_doses, run->times_h, run->n_times,
                           ws->xcf);
    if (st != KS_OK) {
        return st;
    }
    for (w->k = 0; w->k < run->n_times; w->k++) {
        const double *x = ws->xcf + w->k * n;
        for (int c = 0; c < ws->model.n_pk; c++) {
            ws->y[c] = x[ws->model.pk_full[c]];
        }
        if ((st = record(ctx, w, sel, n_sel, out, run->times_h[w->k])) != KS_OK) {
            return st;
        }
    }
    return KS_OK;
}

/* Prefixes the context's message with the patient key (once). */
static ks_status patient_fail(ks_ctx *ctx, ks_status st, uint64_t key)
{
    char msg[KS_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", ks_ctx_message(ctx));
    if (strncmp(msg, "patient ", 8) == 0) {
        return st;
    }
    return ks_fail(ctx, st, "patient %" PRIu64 ": %s", key, msg);
}

static ks_status sim_patient(ks_ctx *ctx, const ks_model_typical *typ, ks_sim_workspace *ws,
                             const ks_patient_run *run, const size_t *sel, size_t n_sel,
                             double *out, void **integ_used)
{
    ks_status st;
    walk w;
    memset(&w, 0, sizeof w);
    w.ws = ws;
    w.run = run;
    w.typ = typ;
    w.mech = run->mechanism != 0;
    if ((st = check_run(ctx, typ, run, sel, n_sel)) != KS_OK ||
        (st = prepare(ctx, typ, ws, run)) != KS_OK) {
        return st;
    }
    ks_model *m = &ws->model;
    if (ws->opt.solver == KS_SOLVER_CLOSED_FORM) {
        if (w.mech) {
            return ks_fail(ctx, KS_ERR_USAGE,
                           "the closed-form solver covers the PK only (mechanism on)");
        }
        return run_closed_form(ctx, ws, &w, sel, n_sel, out);
    }
    if (run->n_times == 0) {
        return KS_OK;
    }
    const double t_last = run->times_h[run->n_times - 1];
    /* initial state */
    memset(ws->y, 0, sizeof ws->y);
    if (w.mech) {
        ks_pd_initial_state(&ws->pd, ws->y + m->n_pk);
        if (run->noise) {
            double tau = 0.0, sigma = 0.0;
            ks_pd_noise_params(&ws->pd, &tau, &sigma);
            size_t n_nu = (size_t)floor(t_last / KS_NOISE_GRID_H) + 2;
            /* ws->nu holds the samples, the spline's second derivatives and scratch. */
            if ((st = grow_array(ctx, &ws->nu, &ws->cap_nu, 3 * n_nu)) != KS_OK) {
                return st;
            }
            ks_rng rng;
            ks_rng_init(&rng, run->seed, run->key, KS_RNG_MOOD_NOISE, 0);
            ks_rng_ou_path(&rng, tau, sigma, KS_NOISE_GRID_H, n_nu, ws->nu);
            ks_model_noise_spline(ws->nu, n_nu, KS_NOISE_GRID_H, ws->nu + n_nu, ws->nu + 2 * n_nu);
            m->nu = ws->nu;
            m->nu_m2 = ws->nu + n_nu;
            m->n_nu = n_nu;
            m->nu_dt = KS_NOISE_GRID_H;
        }
    }
    /* The same walk drives both paths: CVODE (reference) or the fast path (patient_fast.h). */
    ks_fast_integ *fast = ws->opt.solver == KS_SOLVER_FAST ? ws->fast : NULL;
    void *integ = NULL;
    if (fast) {
        if ((st = ks_fast_setup(ctx, fast, m)) != KS_OK) {
            return st;
        }
    } else if (!(integ = integrator_for(ctx, ws, m->n))) {
        return ks_ctx_status(ctx);
    }
    *integ_used = integ;
    const ks_integrator_type *it = &ks_integrator_cvode;
    ks_ode_system ode = {m->n, ks_model_rhs, m, w.mech ? ks_model_jac : NULL};
    double t = 0.0;
    for (;;) {
        /* save the noise grid: apply_discontinuities keeps it */
        if ((st = apply_discontinuities(ctx, &w, t)) != KS_OK) {
            return st;
        }
        for (; w.k < run->n_times && run->times_h[w.k] <= t; w.k++) {
            if ((st = record(ctx, &w, sel, n_sel, out, t)) != KS_OK) {
                return st;
            }
        }
        if (w.k >= run->n_times) {
            return KS_OK;
        }
        const double t_next = next_break(&w, t);
        const double te = fmin(t_next, t_last);
        const int quiet = !w.mech && all_zero(ws->y, m->n) && all_zero(m->u, m->n_pk);
        if (!quiet) {
            st = fast ? ks_fast_reset(ctx, fast, t, ws->y) : it->reset(ctx, integ, &ode, t, ws->y);
            if (st != KS_OK) {
                return st;
            }
        }
        for (;;) {
            double tout = te;
            int is_out = 0, is_sample = 0;
            if (w.k < run->n_times && run->times_h[w.k] < t_next) {
                tout = run->times_h[w.k];
                is_out = 1;
            }
            if (w.sess_open && w.sess_next < te && w.sess_next <= tout) {
                is_sample = 1;
                if (w.sess_next < tout) {
                    tout = w.sess_next;
                    is_out = 0;
                }
            }
            if (!quiet) {
                if (fast) {
                    /* outputs end a step; a session sample is interpolated inside one that
                     * stops at the next output time */
                    const int exact = is_out || !is_sample;
                    const double thard =
                        w.k < run->n_times && run->times_h[w.k] < t_next ? run->times_h[w.k] : te;
                    st = ks_fast_advance(ctx, fast, tout, exact ? tout : thard, exact, ws->y);
                } else {
                    st = it->advance(ctx, integ, tout, te, ws->y);
                }
                if (st != KS_OK) {
                    return st;
                }
            }
            if (is_sample || (is_out && w.sess_open)) {
                session_sample(&w, tout);
            }
            if (is_sample) {
                w.sess_j++;
                w.sess_next = w.sess_t0 + (double)w.sess_j * KS_SESSION_SAMPLE_H;
            }
            if (is_out) {
                if ((st = record(ctx, &w, sel, n_sel, out, tout)) != KS_OK) {
                    return st;
                }
                w.k++;
            }
            if (!is_out && !is_sample) {
                break; /* reached te */
            }
        }
        if (w.k >= run->n_times || !isfinite(t_next)) {
            return KS_OK;
        }
        t = t_next;
    }
}

ks_status ks_sim_patient(ks_ctx *ctx, const ks_model_typical *typ, ks_sim_workspace *ws,
                         const ks_patient_run *run, const size_t *sel, size_t n_sel, double *out,
                         ks_solver_stats *stats)
{
    if (!ws || !run) {
        return ks_fail(ctx, KS_ERR_USAGE, "ks_sim_patient: missing workspace or run");
    }
    void *integ = NULL;
    ks_solver_stats before, after;
    memset(&before, 0, sizeof before);
    memset(&after, 0, sizeof after);
    /* Counters are cumulative per instance: take the difference over this patient. */
    for (int i = 0; stats && i < ws->n_integ; i++) {
        ks_integrator_cvode.stats(ws->integ[i].state, &before);
    }
    if (stats) {
        ks_fast_stats(ws->fast, &before);
    }
    ks_status st = sim_patient(ctx, typ, ws, run, sel, n_sel, out, &integ);
    if (stats) {
        for (int i = 0; i < ws->n_integ; i++) {
            ks_integrator_cvode.stats(ws->integ[i].state, &after);
        }
        ks_fast_stats(ws->fast, &after);
        stats->steps += after.steps - before.steps;
        stats->rhs_evals += after.rhs_evals - before.rhs_evals;
        stats->jac_evals += after.jac_evals - before.jac_evals;
        stats->lin_setups += after.lin_setups - before.lin_setups;
        stats->err_test_fails += after.err_test_fails - before.err_test_fails;
        stats->conv_fails += after.conv_fails - before.conv_fails;
        stats->restarts += after.restarts - before.restarts;
    }
    (void)integ;
    if (st != KS_OK) {
        return patient_fail(ctx, st, run->key);
    }
    return KS_OK;
}
