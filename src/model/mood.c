/*
 * mood.c -- mood layer of the mechanism (docs/MODEL.md section 7).
 */
#include "mood.h"
#include "pd_util.h"

/* Range of m inside the drift evaluation: wells sit near +-1, so this bound is never reached by
 * a physical state; it keeps m^3 finite for arbitrary states. */
#define KS_MOOD_MAX 1e3

double ks_pd_tilt(const ks_pd_mood_params *p, const ks_pd_tilt_terms *t)
{
    /* MODEL.md 7 (tilt): each term is a push on the cusp's normal factor. */
    return p->t0 + p->w_s * (t->s_tot - 1.0) + p->w_l * t->lift + p->w_a * p->s_i * t->a +
           p->w_e * t->e + p->w_th * t->r_th - p->w_rum * t->rum - p->w_i * (t->infl - 1.0) -
           p->w_hab * t->hab;
}

double ks_pd_well_height(const ks_pd_mood_params *p, double window)
{
    /* MODEL.md 7: h = 1 - lambda_W W, kept >= 1e-6 so that the landscape never vanishes. */
    return ks_pd_clamp(1.0 - p->lambda_w * ks_pd_clamp(window, 0.0, 1.0), 1e-6, 1.0);
}

double ks_pd_well_drift(const ks_pd_mood_params *p, double m, double window, double tilt)
{
    /* MODEL.md 7: -dV/dm with V = h (a m^4/4 - b0 m^2/2) - T m (cusp/double-well, van de
     * Leemput et al. 2014 PNAS 111:87); the window lowers the landscape height
     * h = 1 - lambda_W W ("snowmelt": the ridge melts, the valleys stay where they are). */
    double mm = ks_pd_clamp(m, -KS_MOOD_MAX, KS_MOOD_MAX);
    return ks_pd_well_height(p, window) * (-p->a * mm * mm * mm + p->b0 * mm) + tilt;
}

/* Root of the decreasing function f(m) = -a m^3 + b m + T on [lo, hi] (f(lo) >= 0 >= f(hi)),
 * by bisection. */
static double decreasing_root(double a, double b, double t, double lo, double hi)
{
    for (int it = 0; it < 200 && hi - lo > 1e-15 * (1.0 + fabs(lo)); it++) {
        double mid = 0.5 * (lo + hi);
        double f = -a * mid * mid * mid + b * mid + t;
        if (f >= 0.0)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double ks_pd_well_root(const ks_pd_mood_params *p, double window, double tilt, int healthy)
{
    /* h (-a m^3 + b0 m) + T = 0  <=>  f(m) = -a m^3 + b m + T/h = 0 with b = b0. f decreases
     * outside [-mc, mc], mc = sqrt(b/3a) (its local extrema when b > 0). The healthy well is the
     * root in [mc, +inf) when f(mc) >= 0; otherwise the only root lies in (-inf, -mc]. Mirror
     * for the depressed well. */
    double a = p->a;
    double b = p->b0;
    tilt /= ks_pd_well_height(p, window);
    double mc = b > 0.0 ? sqrt(b / (3.0 * a)) : 0.0;
    double big = 2.0 + sqrt(fabs(b) / a) + cbrt(fabs(tilt) / a);
    double f_right = -a * mc * mc * mc + b * mc + tilt; /* f(+mc), local maximum */
    double f_left = a * mc * mc * mc - b * mc + tilt;   /* f(-mc), local minimum */
    if (healthy) {
        if (f_right >= 0.0)
            return decreasing_root(a, b, tilt, mc, big);
        return decreasing_root(a, b, tilt, -big, -mc);
    }
    if (f_left <= 0.0)
        return decreasing_root(a, b, tilt, -big, -mc);
    return decreasing_root(a, b, tilt, mc, big);
}

double ks_pd_habit_target(double m)
{
    /* MODEL.md 7: H(-m) = 1/(1 + exp(m/0.1)); the exponent is bounded so that the result stays
     * exactly 0 or 1 far from the ridge without overflow. */
    double x = ks_pd_clamp(m / 0.1, -700.0, 700.0);
    return 1.0 / (1.0 + exp(x));
}

void ks_pd_mood_rhs(const ks_pd_mood_params *p, const double *z, double mtor_excess, double g_op,
                    double window, double tilt, double nu, double *zdot)
{
    double l = ks_pd_clamp(z[KS_PD_L], -1e6, 1e6);
    double m = z[KS_PD_MOOD];
    double hab = ks_pd_clamp(z[KS_PD_HAB], -1e6, 1e6);
    /* MODEL.md 7: dL/dt = k_L g_op max(0, M - 1) - L/tau_L: protein-synthesis-dependent
     * potentiation (Li 2010; Autry 2011), gated by endogenous opioids (6.1). */
    zdot[KS_PD_L] = p->k_l * ks_pd_pos(g_op) * ks_pd_pos(mtor_excess) - l / p->tau_l;
    /* tau_m dm/dt = h (-a m^3 + b0 m) + T + nu. */
    double n = ks_pd_clamp(nu, -1e6, 1e6);
    zdot[KS_PD_MOOD] = (ks_pd_well_drift(p, m, window, tilt) + n) / p->tau_m;
    /* dHab/dt = (H(-m) - Hab)/tau_hab ("well-trodden paths"). */
    zdot[KS_PD_HAB] = (ks_pd_habit_target(ks_pd_clamp(m, -1e3, 1e3)) - hab) / p->tau_hab;
}
