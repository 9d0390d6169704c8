/*
 * closed_form.c -- exact solution of the linear PK system dx/dt = A x + u(t) by superposition of
 * doses: the independent oracle against which every integrator is checked, and the
 * KS_SOLVER_CLOSED_FORM method of ks_simulate.
 *
 * For one dose the exact response is (variation of constants):
 *   bolus b at td:             x(t) = e^{A (t - td)} b,                                t >= td
 *   infusion rate r, [t0, t1): x(t) = Phi(t - t0) r,            t0 <= t <= t1
 *                              x(t) = e^{A (t - t1)} Phi(t1 - t0) r,                  t >= t1
 * with Phi(tau) = int_0^tau e^{A s} ds. Both e^{A tau} and Phi(tau) come from one exponential of
 * the block matrix [[A, I], [0, 0]] tau = [[e^{A tau}, Phi(tau)], [0, I]] (Van Loan, "Computing
 * integrals involving the matrix exponential", IEEE Trans Autom Control 23:395, 1978, Theorem
 * 1), so A is never inverted. The total state is the sum of the responses of all doses
 * (linearity). Each response is marched from one output time to the next with the exact
 * propagators, using e^{A (s + d)} = e^{A d} e^{A s} and Phi(s + d) = e^{A d} Phi(s) + Phi(d);
 * the propagators of recurring intervals (a regular output grid) are cached.
 *
 * NONMEM steady-state doses (ss = 1: reset to the steady state of the dose repeated every ii,
 * then give the dose; ss = 2: add that steady state, then give the dose): the steady state just
 * before a dose is x_ss = sum_{k >= 1} x_1(k ii), where x_1 is the response to one dose; with
 * x_1(k ii) = e^{A ii (k - 1)} x_1(ii) this geometric series is (I - e^{A ii})^{-1} x_1(ii)
 * (the multiple-dosing accumulation of Gibaldi & Perrier, Pharmacokinetics, 2nd ed., 1982,
 * written in matrix form). A reset (ss = 1, or a NONMEM EVID 3/4 record: dose->reset) removes
 * the responses of every earlier dose (in
 * record order) from its time on, including infusions still running. Infusions at steady state
 * must end before the next dose (duration <= ii).
 *
 * Output times equal to a dose time see the state after the dose (t+).
 */
#include "sim/simulate.h"

#include "core/internal.h"
#include "solve/expm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Cached propagators (e^{A d}, and Phi(d) when an infusion needed it) for recently used
 * intervals d: a regular output grid reuses a few intervals throughout. */
#define CF_SLOTS_MAX 24

typedef struct {
    double delta; /* interval, h; NAN when empty */
    int has_phi;  /* phi is valid */
    unsigned long used;
    double *e;   /* e^{A delta}, n x n */
    double *phi; /* int_0^delta e^{A s} ds, n x n */
} cf_slot;

typedef struct {
    int n;
    double *block; /* one allocation for every array below */
    double *a;     /* dense A, n x n */
    double *aug;   /* 2n x 2n */
    double *eaug;  /* 2n x 2n */
    double *lu;    /* n x n */
    int *piv;
    double *v, *w, *tmp, *in, *xss; /* vectors of n */
    int n_slots;
    cf_slot slot[CF_SLOTS_MAX];
    unsigned long clock;
    ks_expm_work ew;
} cf_work;

static void cf_release(cf_work *W)
{
    free(W->block);
    free(W->piv);
    ks_expm_work_release(&W->ew);
    memset(W, 0, sizeof *W);
}

static ks_status cf_init(ks_ctx *ctx, cf_work *W, const ks_pk_system *sys, int n_slots)
{
    memset(W, 0, sizeof *W);
    if (!sys || sys->n < 1 || sys->n > KS_PK_MAXN) {
        return ks_fail(ctx, KS_ERR_USAGE, "closed form: PK system size outside 1..%d (got %d)",
                       KS_PK_MAXN, sys ? sys->n : -1);
    }
    size_t n = (size_t)sys->n, nn = n * n;
    size_t total = nn                          /* a */
                   + 8 * nn                    /* aug, eaug (2n x 2n each) */
                   + nn                        /* lu */
                   + 5 * n                     /* vectors */
                   + (size_t)n_slots * 2 * nn; /* cache */
    W->block = ks_calloc(ctx, total, sizeof(double));
    W->piv = ks_calloc(ctx, n, sizeof(int));
    if (!W->block || !W->piv) {
        cf_release(W);
        return KS_ERR_NOMEM;
    }
    if (ks_expm_work_init(ctx, &W->ew, 2 * sys->n) != KS_OK) {
        cf_release(W);
        return ks_ctx_status(ctx);
    }
    W->n = sys->n;
    double *p = W->block;
    W->a = p, p += nn;
    W->aug = p, p += 4 * nn;
    W->eaug = p, p += 4 * nn;
    W->lu = p, p += nn;
    W->v = p, p += n;
    W->w = p, p += n;
    W->tmp = p, p += n;
    W->in = p, p += n;
    W->xss = p, p += n;
    W->n_slots = n_slots;
    for (int k = 0; k < n_slots; k++) {
        W->slot[k].delta = NAN;
        W->slot[k].e = p, p += nn;
        W->slot[k].phi = p, p += nn;
    }
    ks_pk_dense(sys, W->a);
    for (size_t i = 0; i < nn; i++) {
        if (!isfinite(W->a[i])) {
            cf_release(W);
            return ks_fail(ctx, KS_ERR_INPUT,
                           "closed form: PK matrix entry (%zu, %zu) is not "
                           "finite (got %g)",
                           i / n, i % n, W->a[i]);
        }
    }
    return KS_OK;
}

/* The propagators for interval delta >= 0, from the cache or computed: e^{A delta} alone by
 * one exponential of A delta when no infusion needs Phi, else both from one exponential of the
 * augmented matrix (Van Loan 1978, Theorem 1). The slot stays valid until the next call. */
static ks_status cf_prop(ks_ctx *ctx, cf_work *W, double delta, int need_phi, const cf_slot **out)
{
    size_t n = (size_t)W->n, n2 = 2 * n, nn = n * n;
    W->clock++;
    cf_slot *victim = NULL;
    for (int k = 0; k < W->n_slots; k++) {
        cf_slot *s = &W->slot[k];
        if (s->delta == delta) {
            if (s->has_phi || !need_phi) {
                s->used = W->clock;
                *out = s;
                return KS_OK;
            }
            victim = s; /* recompute in place, with Phi */
            break;
        }
        if (!victim || isnan(s->delta) || (!isnan(victim->delta) && s->used < victim->used)) {
            victim = s;
        }
    }
    ks_status st = KS_OK;
    victim->delta = NAN;
    if (need_phi) {
        /* aug = [[A delta, I delta], [0, 0]]; exp(aug) = [[e^{A delta}, Phi(delta)], [0, I]] */
        memset(W->aug, 0, 4 * nn * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n; j++) {
                W->aug[i * n2 + j] = W->a[i * n + j] * delta;
            }
            W->aug[i * n2 + n + i] = delta;
        }
        if ((st = ks_expm(ctx, &W->ew, (int)n2, W->aug, W->eaug)) != KS_OK) {
            return st;
        }
        for (size_t i = 0; i < n; i++) {
            memcpy(victim->e + i * n, W->eaug + i * n2, n * sizeof(double));
            memcpy(victim->phi + i * n, W->eaug + i * n2 + n, n * sizeof(double));
        }
    } else {
        for (size_t i = 0; i < nn; i++) {
            W->aug[i] = W->a[i] * delta;
        }
        if ((st = ks_expm(ctx, &W->ew, (int)n, W->aug, victim->e)) != KS_OK) {
            return st;
        }
    }
    victim->has_phi = need_phi;
    victim->delta = delta;
    victim->used = W->clock;
    *out = victim;
    return KS_OK;
}

/* y = m x (n x n times n); y must not overlap x. */
static void matvec(size_t n, const double *m, const double *x, double *y)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t j = 0; j < n; j++) {
            s += m[i * n + j] * x[j];
        }
        y[i] = s;
    }
}

/* w <- e^{A delta} w + Phi(delta) r  (r NULL: no input). */
static ks_status cf_step(ks_ctx *ctx, cf_work *W, double delta, double *w, const double *r)
{
    if (delta == 0.0) {
        return KS_OK;
    }
    const cf_slot *s = NULL;
    ks_status st = cf_prop(ctx, W, delta, r != NULL, &s);
    if (st != KS_OK) {
        return st;
    }
    size_t n = (size_t)W->n;
    matvec(n, s->e, w, W->tmp);
    if (r) {
        for (size_t i = 0; i < n; i++) {
            double acc = 0.0;
            for (size_t j = 0; j < n; j++) {
                acc += s->phi[i * n + j] * r[j];
            }
            W->tmp[i] += acc;
        }
    }
    memcpy(w, W->tmp, n * sizeof(double));
    return KS_OK;
}

static int dose_is_ss(const ks_dose *d)
{
    return d->ss == 1 || d->ss == 2;
}

/* Steady state just before a dose (input `in`, is_rate as from ks_pk_dose_input) repeated every
 * dose->ii_h, into x: (I - e^{A ii}) x = x_1(ii). */
static ks_status cf_steady_state(ks_ctx *ctx, cf_work *W, const ks_dose *dose, const double *in,
                                 int is_rate, double *x)
{
    size_t n = (size_t)W->n, nn = n * n;
    double ii = dose->ii_h;
    ks_status st = KS_OK;
    if (!(ii > 0.0) || !isfinite(ii)) {
        return ks_fail(ctx, KS_ERR_INPUT,
                       "steady-state dose at t = %g h: interdose interval must be positive "
                       "(got %g h)",
                       dose->t_h, ii);
    }
    /* x_1(ii): the state one interval after a single dose given to an empty system. */
    memset(x, 0, n * sizeof(double));
    if (is_rate) {
        double dur = dose->duration_h;
        if (!(dur > 0.0) || !isfinite(dur) || dur > ii) {
            return ks_fail(ctx, KS_ERR_INPUT,
                           "steady-state infusion at t = %g h: duration must be positive and "
                           "at most the interdose interval %g h (got %g h)",
                           dose->t_h, ii, dur);
        }
        if ((st = cf_step(ctx, W, dur, x, in)) != KS_OK ||
            (st = cf_step(ctx, W, ii - dur, x, NULL)) != KS_OK) {
            return st;
        }
    } else {
        memcpy(x, in, n * sizeof(double));
        if ((st = cf_step(ctx, W, ii, x, NULL)) != KS_OK) {
            return st;
        }
    }
    const cf_slot *s = NULL;
    if ((st = cf_prop(ctx, W, ii, 0, &s)) != KS_OK) {
        return st;
    }
    for (size_t i = 0; i < nn; i++) {
        W->lu[i] = -s->e[i];
    }
    for (size_t i = 0; i < n; i++) {
        W->lu[i * n + i] += 1.0;
    }
    if (ks_lu_factor(W->n, W->lu, W->piv) != 0) {
        return ks_fail(ctx, KS_ERR_INPUT,
                       "steady-state dose at t = %g h: no steady state exists (I - e^{A ii} is "
                       "singular for ii = %g h: a state without elimination)",
                       dose->t_h, ii);
    }
    ks_lu_solve(W->n, W->lu, W->piv, x, 1);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            return ks_fail(ctx, KS_ERR_SOLVER,
                           "steady-state dose at t = %g h: state %zu is not finite", dose->t_h, i);
        }
    }
    return KS_OK;
}

/* First index k with times[k] >= t (times ascending). */
static size_t first_at_or_after(const double *times, size_t n_times, double t)
{
    size_t lo = 0, hi = n_times;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (times[mid] < t) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Adds the free response of state x0 placed at t_start to every output time in
 * [t_start, t_lim). */
static ks_status cf_add_free(ks_ctx *ctx, cf_work *W, const double *x0, double t_start,
                             double t_lim, const double *times, size_t n_times, double *x_out)
{
    size_t n = (size_t)W->n;
    double *v = W->v;
    memcpy(v, x0, n * sizeof(double));
    double tc = t_start;
    for (size_t k = first_at_or_after(times, n_times, t_start); k < n_times && times[k] < t_lim;
         k++) {
        ks_status st = cf_step(ctx, W, times[k] - tc, v, NULL);
        if (st != KS_OK) {
            return st;
        }
        tc = times[k];
        double *row = x_out + k * n;
        for (size_t i = 0; i < n; i++) {
            row[i] += v[i];
        }
    }
    return KS_OK;
}

/* Adds the response of an infusion of rate r on [t0, t1) to every output time in [t0, t_lim). */
static ks_status cf_add_infusion(ks_ctx *ctx, cf_work *W, const double *r, double t0, double t1,
                                 double t_lim, const double *times, size_t n_times, double *x_out)
{
    size_t n = (size_t)W->n;
    double *w = W->w;
    memset(w, 0, n * sizeof(double));
    double tc = t0;
    ks_status st = KS_OK;
    for (size_t k = first_at_or_after(times, n_times, t0); k < n_times && times[k] < t_lim; k++) {
        double tk = times[k];
        if (tk <= t1) {
            st = cf_step(ctx, W, tk - tc, w, r);
        } else {
            if (tc < t1) {
                st = cf_step(ctx, W, t1 - tc, w, r);
                tc = t1;
            }
            if (st == KS_OK) {
                st = cf_step(ctx, W, tk - tc, w, NULL);
            }
        }
        if (st != KS_OK) {
            return st;
        }
        tc = tk;
        double *row = x_out + k * n;
        for (size_t i = 0; i < n; i++) {
            row[i] += w[i];
        }
    }
    return KS_OK;
}

ks_status ks_pk_closed_form(ks_ctx *ctx, const ks_pk_system *sys, const ks_dose *doses,
                            size_t n_doses, const double *times, size_t n_times, double *x_out)
{
    cf_work W;
    ks_status st = KS_OK;
    if (!sys || (n_doses > 0 && !doses) || (n_times > 0 && (!times || !x_out))) {
        return ks_fail(ctx, KS_ERR_USAGE, "closed form: missing argument");
    }
    for (size_t k = 0; k < n_times; k++) {
        if (!isfinite(times[k]) || (k > 0 && times[k] < times[k - 1])) {
            return ks_fail(ctx, KS_ERR_USAGE,
                           "closed form: output times must be finite and ascending (time %zu "
                           "is %g h)",
                           k, times[k]);
        }
    }
    for (size_t d = 0; d < n_doses; d++) {
        if (!isfinite(doses[d].t_h) || (d > 0 && doses[d].t_h < doses[d - 1].t_h)) {
            return ks_fail(ctx, KS_ERR_USAGE,
                           "closed form: dose times must be finite and sorted (dose %zu at %g h)",
                           d, doses[d].t_h);
        }
    }
    if ((st = cf_init(ctx, &W, sys, CF_SLOTS_MAX)) != KS_OK) {
        return st;
    }
    size_t n = (size_t)sys->n;
    if (n_times > 0) {
        memset(x_out, 0, n_times * n * sizeof(double));
    }
    /* t_lim of dose d: the time of the next reset (ss = 1) after it in record order. */
    double t_lim = INFINITY;
    for (size_t dd = n_doses; dd-- > 0;) {
        const ks_dose *dose = &doses[dd];
        int is_rate = 0;
        if (dose->reset && !(dose->amount_mg > 0.0)) {
            t_lim = dose->t_h; /* a pure reset (NONMEM EVID 3) ends every earlier response */
            continue;
        }
        if ((st = ks_pk_dose_input(ctx, sys, dose, W.in, &is_rate)) != KS_OK) {
            goto done;
        }
        if (dose_is_ss(dose)) {
            if ((st = cf_steady_state(ctx, &W, dose, W.in, is_rate, W.xss)) != KS_OK ||
                (st = cf_add_free(ctx, &W, W.xss, dose->t_h, t_lim, times, n_times, x_out)) !=
                    KS_OK) {
                goto done;
            }
        } else if (dose->ss != 0) {
            st = ks_fail(ctx, KS_ERR_INPUT, "dose at t = %g h: ss must be 0, 1 or 2 (got %d)",
                         dose->t_h, dose->ss);
            goto done;
        }
        if (is_rate) {
            double t1 = dose->t_h + dose->duration_h;
            if (!(dose->duration_h > 0.0) || !isfinite(t1)) {
                st = ks_fail(ctx, KS_ERR_INPUT,
                             "infusion at t = %g h: duration must be positive (got %g h)",
                             dose->t_h, dose->duration_h);
                goto done;
            }
            st = cf_add_infusion(ctx, &W, W.in, dose->t_h, t1, t_lim, times, n_times, x_out);
        } else {
            st = cf_add_free(ctx, &W, W.in, dose->t_h, t_lim, times, n_times, x_out);
        }
        if (st != KS_OK) {
            goto done;
        }
        if (dose->ss == 1 || dose->reset) {
            t_lim = dose->t_h; /* reset and dose (EVID 4), or SS = 1: earlier doses end here */
        }
    }
    for (size_t i = 0; i < n_times * n; i++) {
        if (!isfinite(x_out[i])) {
            st = ks_fail(ctx, KS_ERR_SOLVER, "closed form: state %zu at t = %g h is not finite",
                         i % n, times[i / n]);
            goto done;
        }
    }
done:
    cf_release(&W);
    return st;
}

ks_status ks_pk_steady_state(ks_ctx *ctx, const ks_pk_system *sys, const ks_dose *dose, double *x)
{
    cf_work W;
    ks_status st = KS_OK;
    if (!sys || !dose || !x) {
        return ks_fail(ctx, KS_ERR_USAGE, "steady state: missing argument");
    }
    if ((st = cf_init(ctx, &W, sys, 3)) != KS_OK) {
        return st;
    }
    int is_rate = 0;
    st = ks_pk_dose_input(ctx, sys, dose, W.in, &is_rate);
    if (st == KS_OK) {
        st = cf_steady_state(ctx, &W, dose, W.in, is_rate, W.xss);
    }
    if (st == KS_OK) {
        memcpy(x, W.xss, (size_t)sys->n * sizeof(double));
    }
    cf_release(&W);
    return st;
}
