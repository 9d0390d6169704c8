/*
 * pd_sim.h -- a small fixed-step RK4 driver for the mechanism tests: a hand-made
 * one-compartment ketamine plasma curve (infusions or a clamp) with a first-order effect site,
 * intervention levels from a callback, and an observer called at every step. Not the
 * library's solver: the tests only need a plain, obviously correct integrator.
 */
#ifndef KS_PD_SIM_H
#define KS_PD_SIM_H

#include "ks_test.h"

#include "ketasim.h"
#include "model/pd.h"

#include <string.h>

#define SIM_MW_KET  237.7 /* ketamine g/mol */
#define SIM_V_L     140.0 /* L: a plasma peak ~210 ng/mL after 0.5 mg/kg over 40 min, 70 kg */
#define SIM_CL_L_H  70.0  /* L/h */
#define SIM_KE0     6.82  /* 1/h: t1/2,ke0 6.1 min (Olofsen 2012) */
#define SIM_MAX_INF 16

typedef struct {
    double start_h, dur_h, mg; /* racemic ketamine (half S, half R) */
} sim_infusion;

typedef struct {
    int n_inf;
    sim_infusion inf[SIM_MAX_INF];
    double clamp_um; /* > 0: plasma and effect site held at this racemic total (uM) */
    /* Interventions and other inputs at t (may be NULL). */
    void (*events)(double t, ks_pd_input *in, void *user);
    void *user;
} sim_regimen;

/* Augmented state: the mechanism, then plasma amount (umol) and effect-site conc (uM). */
typedef struct {
    double z[KS_PD_N];
    double a_pl; /* umol in the plasma compartment */
    double ce;   /* uM, racemic total at the effect site */
} sim_state;

static double sim_rate_umol_h(const sim_regimen *r, double t)
{
    double rate = 0.0;
    for (int i = 0; i < r->n_inf; i++) {
        const sim_infusion *f = &r->inf[i];
        if (t >= f->start_h && t < f->start_h + f->dur_h)
            rate += f->mg * 1000.0 / SIM_MW_KET / f->dur_h;
    }
    return rate;
}

static void sim_input(const sim_regimen *r, double t, double ce, ks_pd_input *in)
{
    ks_pd_input_init(in);
    double c = r->clamp_um > 0.0 ? r->clamp_um : ce;
    in->sket = 0.5 * c;
    in->rket = 0.5 * c;
    if (r->events)
        r->events(t, in, r->user);
}

static void sim_deriv(const ks_pd_patient *pp, const sim_regimen *r, double t, const sim_state *s,
                      sim_state *d)
{
    ks_pd_input in;
    sim_input(r, t, s->ce, &in);
    ks_pd_rhs(pp, t, s->z, &in, d->z);
    d->a_pl = sim_rate_umol_h(r, t) - SIM_CL_L_H / SIM_V_L * s->a_pl;
    d->ce = SIM_KE0 * (s->a_pl / SIM_V_L - s->ce);
}

static void sim_axpy(sim_state *y, const sim_state *x, double a, const sim_state *b)
{
    for (int i = 0; i < KS_PD_N; i++)
        y->z[i] = x->z[i] + a * b->z[i];
    y->a_pl = x->a_pl + a * b->a_pl;
    y->ce = x->ce + a * b->ce;
}

typedef void (*sim_observer)(double t, const sim_state *s, const double *out, void *user);

/* Integrates from t0 to t1 with step h (classical RK4), calling obs (if not NULL) at t0 and
 * after every step with the outputs. Infusion edges should fall on the step grid. */
static void sim_run(const ks_pd_patient *pp, sim_state *s, const sim_regimen *r, double t0,
                    double t1, double h, sim_observer obs, void *user)
{
    sim_state k1, k2, k3, k4, tmp;
    double out[KS_PD_NOUT];
    ks_pd_input in;
    long n = (long)((t1 - t0) / h + 0.5);
    if (obs) {
        sim_input(r, t0, s->ce, &in);
        ks_pd_outputs(pp, s->z, &in, out);
        obs(t0, s, out, user);
    }
    for (long k = 0; k < n; k++) {
        double t = t0 + (double)k * h;
        sim_deriv(pp, r, t, s, &k1);
        sim_axpy(&tmp, s, 0.5 * h, &k1);
        sim_deriv(pp, r, t + 0.5 * h, &tmp, &k2);
        sim_axpy(&tmp, s, 0.5 * h, &k2);
        sim_deriv(pp, r, t + 0.5 * h, &tmp, &k3);
        sim_axpy(&tmp, s, h, &k3);
        sim_deriv(pp, r, t + h, &tmp, &k4);
        for (int i = 0; i < KS_PD_N; i++)
            s->z[i] += h / 6.0 * (k1.z[i] + 2.0 * k2.z[i] + 2.0 * k3.z[i] + k4.z[i]);
        s->a_pl += h / 6.0 * (k1.a_pl + 2.0 * k2.a_pl + 2.0 * k3.a_pl + k4.a_pl);
        s->ce += h / 6.0 * (k1.ce + 2.0 * k2.ce + 2.0 * k3.ce + k4.ce);
        if (obs) {
            sim_input(r, t + h, s->ce, &in);
            ks_pd_outputs(pp, s->z, &in, out);
            obs(t + h, s, out, user);
        }
    }
}

/* The typical parameters from the built-in table (caller frees both). */
static ks_pd_typical *sim_typical(ks_ctx *ctx, ks_params **params_out)
{
    ks_params *params = ks_params_create_default(ctx);
    if (!params) {
        fprintf(stderr, "default parameters: %s\n", ks_ctx_message(ctx));
        exit(1);
    }
    ks_pd_typical *typ = ks_pd_typical_create(ctx, params);
    if (!typ) {
        fprintf(stderr, "pd typical: %s\n", ks_ctx_message(ctx));
        exit(1);
    }
    *params_out = params;
    return typ;
}

/* Builds a patient from covariates (typical ks_patient) and sets its initial state. */
static void sim_patient(ks_ctx *ctx, const ks_pd_typical *typ, const ks_pd_covariates *cov,
                        ks_pd_patient *pp, sim_state *s)
{
    ks_patient pt;
    ks_patient_init(&pt);
    if (ks_pd_build(ctx, typ, &pt, cov, pp) != KS_OK) {
        fprintf(stderr, "pd build: %s\n", ks_ctx_message(ctx));
        exit(1);
    }
    memset(s, 0, sizeof *s);
    ks_pd_initial_state(pp, s->z);
}

#endif /* KS_PD_SIM_H */
