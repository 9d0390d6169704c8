/*
 * simulate.c -- the simulation driver (ks_simulate): every subject of a scenario goes through
 * ks_sim_patient (src/sim/patient_sim.c, whose header states the semantics: t+ convention at
 * dose and event times, restarts at every discontinuity, sessions, noise), and the selected
 * outputs land in one ks_result.
 *
 * Outputs: the PK outputs the scenario's flags select (plasma, effect site), then, when the
 * scenario simulates the mechanism (scenario->mechanism, the default for scenario files and
 * `ketasim run`; never with the closed-form solver, which covers the PK only), every
 * mechanism output (KS_PD_OUT_*) and, with noise on, the mood noise; then the raw PK states
 * when the flags ask for them.
 *
 * Each subject's random key is its id; the seed is the scenario's. Memory is allocated once
 * per call (one workspace, grown for the largest subject), never per step.
 */
#include "sim/simulate.h"

#include "core/internal.h"
#include "sim/patient_fast.h"
#include "sim/patient_sim.h"
#include "sim/result_internal.h"

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
    opt->fast_rtol = KS_FAST_RTOL_DEFAULT;
    opt->fast_atol = KS_FAST_ATOL_DEFAULT;
}

/* Output columns of a scenario (indices into the ks_sim_output list). */
static size_t choose_columns(const ks_scenario *sc, int mech, size_t *sel)
{
    unsigned flags = sc->outputs;
    if (flags == 0) {
        flags = KS_OUT_PLASMA | KS_OUT_EFFECT_SITE;
    }
    size_t c = 0;
    for (size_t j = KS_SIM_OUT_PK; j < KS_SIM_OUT_PD; j++) {
        int brain = strncmp(ks_sim_output_name(j), "brain_", 6) == 0;
        if (flags & (brain ? KS_OUT_EFFECT_SITE : KS_OUT_PLASMA)) {
            sel[c++] = j;
        }
    }
    if (mech) {
        for (size_t j = KS_SIM_OUT_PD; j < KS_SIM_OUT_NOISE; j++) {
            sel[c++] = j;
        }
        if (sc->noise) {
            sel[c++] = KS_SIM_OUT_NOISE;
        }
    }
    if (flags & KS_OUT_AMOUNTS) {
        for (size_t j = KS_SIM_OUT_AMOUNT; j < KS_SIM_NOUT; j++) {
            sel[c++] = j;
        }
    }
    return c;
}

/* Prefixes the context's message with the subject id (replacing the "patient <key>: " prefix
 * of ks_sim_patient, whose key is the id). */
static void subject_fail(ks_ctx *ctx, ks_status st, long id)
{
    char msg[KS_MSG_MAX], prefix[48];
    snprintf(msg, sizeof msg, "%s", ks_ctx_message(ctx));
    if (strncmp(msg, "subject ", 8) == 0) {
        return;
    }
    snprintf(prefix, sizeof prefix, "patient %lu: ", (unsigned long)id);
    size_t lp = strlen(prefix);
    const char *rest = strncmp(msg, prefix, lp) == 0 ? msg + lp : msg;
    ks_fail(ctx, st, "subject %ld: %s", id, rest);
}

ks_result *ks_simulate(ks_ctx *ctx, const ks_params *params, const ks_scenario *scenario,
                       const ks_sim_options *opt)
{
    ks_sim_options defaults;
    ks_model_typical typ = {NULL, NULL};
    ks_sim_workspace *ws = NULL;
    ks_result *r = NULL;
    size_t sel[KS_SIM_NOUT];
    const char *names[KS_SIM_NOUT];
    const char *units[KS_SIM_NOUT];

    if (!params || !scenario) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_simulate: missing parameters or scenario");
        return NULL;
    }
    if (!opt) {
        ks_sim_options_init(&defaults);
        opt = &defaults;
    }
    if (opt->solver != KS_SOLVER_CVODE && opt->solver != KS_SOLVER_CLOSED_FORM &&
        opt->solver != KS_SOLVER_FAST) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_simulate: unknown solver (got %d)", (int)opt->solver);
        return NULL;
    }
    if (scenario->n_subjects == 0 || !scenario->subjects) {
        ks_fail(ctx, KS_ERR_INPUT, "%s: the scenario has no subjects", scenario->name);
        return NULL;
    }
    const int mech = scenario->mechanism && opt->solver != KS_SOLVER_CLOSED_FORM;
    if (!(ws = ks_sim_workspace_create(ctx, opt))) {
        goto fail;
    }
    if (!(typ.pk = ks_pk_typical_create(ctx, params))) {
        goto fail;
    }
    if (mech && !(typ.pd = ks_pd_typical_create(ctx, params))) {
        goto fail;
    }
    size_t n_sel = choose_columns(scenario, mech, sel);
    for (size_t c = 0; c < n_sel; c++) {
        names[c] = ks_sim_output_name(sel[c]);
        units[c] = ks_sim_output_unit(sel[c]);
    }
    if (!(r = ks_result_alloc(ctx, scenario->n_subjects, n_sel, names, units))) {
        goto fail;
    }
    for (size_t s = 0; s < scenario->n_subjects; s++) {
        const ks_subject *sub = &scenario->subjects[s];
        const long id = sub->patient.id;
        ks_status st = ks_result_set_subject(ctx, r, s, id, sub->times_h, sub->n_times);
        if (st != KS_OK) {
            goto fail;
        }
        ks_patient_run run;
        memset(&run, 0, sizeof run);
        run.patient = &sub->patient;
        run.cov = sub->has_cov ? &sub->cov : NULL;
        run.doses = sub->doses;
        run.n_doses = sub->n_doses;
        run.events = sub->events;
        run.n_events = sub->n_events;
        run.times_h = sub->times_h;
        run.n_times = sub->n_times;
        run.open_label = scenario->open_label;
        run.mechanism = mech;
        run.seed = scenario->seed;
        run.key = (uint64_t)id;
        run.noise = scenario->noise;
        double *out = sub->n_times && n_sel ? ks_result_values_mut(r, s, 0) : NULL;
        st = ks_sim_patient(ctx, &typ, ws, &run, sel, n_sel, out, &r->stats);
        if (st != KS_OK) {
            subject_fail(ctx, st, id);
            goto fail;
        }
    }
    goto done;
fail:
    ks_result_free(r);
    r = NULL;
done:
    ks_sim_workspace_free(ws);
    ks_model_typical_clear(&typ);
    return r;
}
