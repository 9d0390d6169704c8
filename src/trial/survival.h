/*
 * survival.h -- time-to-event statistics of a virtual trial from counts at distinct times:
 * the Kaplan-Meier estimate with Greenwood standard errors and log-log confidence intervals,
 * the median with its interval, and the two-group Cox proportional hazards model (one
 * covariate, the arm) fitted by Newton-Raphson on the Breslow partial likelihood. Working from
 * counts keeps memory independent of the number of patients. Pure functions: no allocation.
 */
#ifndef KS_TRIAL_SURVIVAL_H
#define KS_TRIAL_SURVIVAL_H

#include <stddef.h>

/* One time of a Kaplan-Meier table. */
typedef struct {
    double t;
    size_t at_risk;  /* n_j: subjects with time >= t_j */
    size_t events;   /* d_j */
    size_t censored; /* c_j: censored at t_j (at risk at t_j, gone after it) */
    double surv;     /* S(t_j) */
    double se;       /* Greenwood standard error of S(t_j) */
    double ci_low;   /* 95% interval, log(-log S) scale */
    double ci_high;
} ks_km_point;

/* Kaplan-Meier estimate (Kaplan & Meier 1958 J Am Stat Assoc 53:457) from the event and
 * censoring counts at n ascending distinct times t[j]; the number at risk at t_0 is the sum of
 * all counts. S(t_j) = prod_{k <= j} (1 - d_k / n_k). Greenwood (1926):
 *   Var S(t_j) = S(t_j)^2 sum_{k <= j} d_k / (n_k (n_k - d_k)).
 * Interval on the log(-log S) scale (Kalbfleisch & Prentice 1980; Collett 2015, Modelling
 * Survival Data in Medical Research, 3rd ed., section 2.2.3):
 *   S^exp(+z s), S^exp(-z s),  s = sqrt(sum d/(n(n-d))) / |log S|.
 * S = 1 gives the interval [1, 1]; S = 0 gives [0, 0] with se 0. */
void ks_km(size_t n, const double *t, const size_t *events, const size_t *censored,
           ks_km_point *out);

/* Median of a Kaplan-Meier curve and its 95% interval (Collett 2015 section 2.4: the smallest
 * time with S < 0.5; the interval from the pointwise band, Brookmeyer & Crowley 1982
 * Biometrics 38:29: the times whose band contains 0.5; lower = smallest time whose lower bound
 * is < 0.5, upper = smallest time whose upper bound is < 0.5). NaN when not reached. */
void ks_km_median(size_t n, const ks_km_point *km, double *median, double *lo, double *hi);

/* Two-group Cox model, hazard(t) = h0(t) exp(beta x), x = 1 for group 1 (Cox 1972 J R Stat Soc
 * B 34:187), Breslow (1974) ties. At each of the n event/censoring times: d0, d1 events and
 * r0, r1 at risk in groups 0 and 1. */
typedef struct {
    double beta, se;            /* log hazard ratio and 1/sqrt(information) at beta */
    double hr, ci_low, ci_high; /* exp(beta), exp(beta -+ z se) */
    double p_wald;              /* 2 (1 - Phi(|beta| / se)) */
    double chi2_logrank;        /* log-rank statistic (hypergeometric variance), 1 df */
    double p_logrank;
    int iterations;
} ks_cox;

/* Fits the model by Newton-Raphson from beta = 0 (with step halving when the partial
 * log-likelihood falls). Partial log-likelihood with Breslow ties:
 *   l(b) = sum_j [d1_j b - d_j log(r0_j + r1_j e^b)],
 *   U(b) = sum_j [d1_j - d_j p_j],  I(b) = sum_j d_j p_j (1 - p_j),  p_j = r1 e^b/(r0 + r1 e^b)
 * (Collett 2015 section 3.3.2). NaN fields (and p_logrank where defined) when a group has no
 * event (the estimate is infinite) or there is no information. Returns 0, or -1 without
 * convergence. The log-rank test is computed whenever the groups have an event. */
int ks_cox_two_group(size_t n, const size_t *d0, const size_t *d1, const size_t *r0,
                     const size_t *r1, ks_cox *out);

#endif /* KS_TRIAL_SURVIVAL_H */
