/*
 * survival.c -- Kaplan-Meier with Greenwood intervals, the median and its interval, and the
 * two-group Cox model with Breslow ties (contracts and references in survival.h).
 */
#include "trial/survival.h"

#include "trial/stats.h"

#include <math.h>

void ks_km(size_t n, const double *t, const size_t *events, const size_t *censored,
           ks_km_point *out)
{
    size_t at_risk = 0;
    for (size_t j = 0; j < n; j++)
        at_risk += events[j] + censored[j];
    double s = 1.0, gw = 0.0; /* S and the Greenwood sum */
    for (size_t j = 0; j < n; j++) {
        ks_km_point *p = &out[j];
        p->t = t[j];
        p->at_risk = at_risk;
        p->events = events[j];
        p->censored = censored[j];
        if (events[j] > 0 && at_risk > 0) {
            double nj = (double)at_risk, dj = (double)events[j];
            s *= 1.0 - dj / nj; /* Kaplan & Meier 1958 */
            if (events[j] < at_risk)
                gw += dj / (nj * (nj - dj)); /* Greenwood 1926 */
        }
        p->surv = s;
        if (s <= 0.0) {
            p->se = 0.0;
            p->ci_low = p->ci_high = 0.0;
        } else if (s >= 1.0) {
            p->se = 0.0;
            p->ci_low = p->ci_high = 1.0;
        } else {
            p->se = s * sqrt(gw);
            double sl = sqrt(gw) / fabs(log(s)); /* SE of log(-log S), delta method */
            p->ci_low = pow(s, exp(KS_Z975 * sl));
            p->ci_high = pow(s, exp(-KS_Z975 * sl));
        }
        at_risk -= events[j] + censored[j];
    }
}

void ks_km_median(size_t n, const ks_km_point *km, double *median, double *lo, double *hi)
{
    *median = *lo = *hi = NAN;
    for (size_t j = 0; j < n; j++) {
        if (isnan(*median) && km[j].surv < 0.5)
            *median = km[j].t;
        if (isnan(*lo) && km[j].ci_low < 0.5)
            *lo = km[j].t;
        if (isnan(*hi) && km[j].ci_high < 0.5)
            *hi = km[j].t;
    }
}

/* Breslow partial log-likelihood, score and information at b (survival.h). */
static void cox_terms(size_t n, const size_t *d0, const size_t *d1, const size_t *r0,
                      const size_t *r1, double b, double *ll, double *u, double *info)
{
    double eb = exp(b);
    *ll = *u = *info = 0.0;
    for (size_t j = 0; j < n; j++) {
        double d = (double)(d0[j] + d1[j]);
        if (d <= 0.0)
            continue;
        double den = (double)r0[j] + (double)r1[j] * eb;
        if (den <= 0.0)
            continue;
        double p = (double)r1[j] * eb / den;
        *ll += (double)d1[j] * b - d * log(den);
        *u += (double)d1[j] - d * p;
        *info += d * p * (1.0 - p);
    }
}

int ks_cox_two_group(size_t n, const size_t *d0, const size_t *d1, const size_t *r0,
                     const size_t *r1, ks_cox *out)
{
    out->beta = out->se = out->hr = out->ci_low = out->ci_high = out->p_wald = NAN;
    out->p_logrank = out->chi2_logrank = NAN;
    out->iterations = 0;
    size_t e0 = 0, e1 = 0;
    for (size_t j = 0; j < n; j++) {
        e0 += d0[j];
        e1 += d1[j];
    }
    /* Log-rank test (Mantel 1966; Collett 2015 section 2.6.2): U = sum (d1 - e1), e1 = d r1/r,
     * V = sum d r0 r1 (r - d) / (r^2 (r - 1)) (hypergeometric variance), U^2/V ~ chi2(1). */
    double ul = 0.0, vl = 0.0;
    for (size_t j = 0; j < n; j++) {
        double d = (double)(d0[j] + d1[j]), r = (double)(r0[j] + r1[j]);
        if (d <= 0.0 || r <= 0.0)
            continue;
        ul += (double)d1[j] - d * (double)r1[j] / r;
        if (r > 1.0)
            vl += d * (double)r0[j] * (double)r1[j] * (r - d) / (r * r * (r - 1.0));
    }
    if (vl > 0.0) {
        out->chi2_logrank = ul * ul / vl;
        out->p_logrank = erfc(sqrt(out->chi2_logrank) / sqrt(2.0));
    }
    double ll, u, info;
    cox_terms(n, d0, d1, r0, r1, 0.0, &ll, &u, &info);
    if (e0 == 0 || e1 == 0 || !(info > 0.0))
        return 0; /* monotone likelihood: the estimate is infinite */
    double b = 0.0;
    for (int it = 1; it <= 100; it++) {
        double step = u / info, nb = b + step, nll, nu, ninfo;
        cox_terms(n, d0, d1, r0, r1, nb, &nll, &nu, &ninfo);
        for (int h = 0; h < 40 && !(nll >= ll - 1e-12 * fabs(ll)); h++) { /* step halving */
            step *= 0.5;
            nb = b + step;
            cox_terms(n, d0, d1, r0, r1, nb, &nll, &nu, &ninfo);
        }
        b = nb;
        ll = nll;
        u = nu;
        info = ninfo;
        out->iterations = it;
        if (fabs(step) < 1e-12 * (1.0 + fabs(b))) {
            if (!(info > 0.0))
                return -1;
            out->beta = b;
            out->se = 1.0 / sqrt(info);
            out->hr = exp(b);
            out->ci_low = exp(b - KS_Z975 * out->se);
            out->ci_high = exp(b + KS_Z975 * out->se);
            out->p_wald = erfc(fabs(b) / out->se / sqrt(2.0));
            return 0;
        }
    }
    return -1;
}
