/*
 * stats.h -- the statistics of a virtual trial: streaming mean and variance (Welford), Student t
 * distribution, confidence intervals of a mean, of a proportion (Wilson) and of a difference of
 * means (Welch, paired). Pure functions of their arguments: no allocation, no globals.
 */
#ifndef KS_TRIAL_STATS_H
#define KS_TRIAL_STATS_H

#include <stddef.h>

/* z_{0.975}: the standard normal quantile of 95% two-sided intervals. */
#define KS_Z975 1.959963984540054

/* Running count, mean and sum of squared deviations (Welford 1962 Technometrics 4:419). Adding the
 * same values in the same order gives bitwise the same result. */
typedef struct {
    size_t n;
    double mean;
    double m2;
} ks_welford;

void ks_welford_init(ks_welford *w);
void ks_welford_add(ks_welford *w, double x);
/* Sample variance (n - 1 denominator); NaN when n < 2. */
double ks_welford_var(const ks_welford *w);
/* Sample standard deviation; NaN when n < 2. */
double ks_welford_sd(const ks_welford *w);

/* Regularised incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1 (continued fraction,
 * DLMF 8.17.22, evaluated with the modified Lentz method). */
double ks_beta_inc(double a, double b, double x);

/* Student t distribution with df > 0 degrees of freedom (df may be fractional, as for Welch;
 * df = INFINITY is the standard normal): P(T <= t), and the quantile t_p for 0 < p < 1. */
double ks_t_cdf(double t, double df);
double ks_t_quantile(double p, double df);

/* 95% confidence interval of a mean from n values with sample SD sd: mean -+ t_{0.975, n-1}
 * sd / sqrt(n). NaN bounds when n < 2. */
void ks_mean_ci95(size_t n, double mean, double sd, double *lo, double *hi);

/* Wilson score 95% interval of a proportion x / n (Wilson 1927 J Am Stat Assoc 22:209; recommended
 * by Agresti & Coull 1998 Am Stat 52:119 and Newcombe 1998 Stat Med 17:857):
 *   centre = (p + z^2 / 2n) / (1 + z^2 / n),
 *   half   = z / (1 + z^2 / n) sqrt(p (1 - p) / n + z^2 / 4n^2).
 * NaN bounds when n = 0. */
void ks_wilson_ci95(size_t x, size_t n, double *lo, double *hi);

/* A difference of means with its 95% interval and two-sided p value. */
typedef struct {
    double diff;   /* mean 1 - mean 2 (paired: mean of the differences) */
    double se;     /* standard error of diff */
    double df;     /* degrees of freedom of the t reference */
    double ci_low; /* diff -+ t_{0.975, df} se */
    double ci_high;
    double p_value; /* two-sided, H0: diff = 0 */
} ks_contrast;

/* Welch's unequal-variance t interval (Welch 1947 Biometrika 34:28): se^2 = s1^2/n1 + s2^2/n2,
 * df = se^4 / ((s1^2/n1)^2/(n1-1) + (s2^2/n2)^2/(n2-1)) (Welch-Satterthwaite). NaN fields
 * when n1 < 2 or n2 < 2. */
void ks_welch(size_t n1, double mean1, double var1, size_t n2, double mean2, double var2,
              ks_contrast *out);

/* Paired t interval from the running statistics of the within-patient differences:
 * se = sd_d / sqrt(n), df = n - 1. NaN fields when n < 2. */
void ks_paired(const ks_welford *d, ks_contrast *out);

/* Difference of two independent proportions x1/n1 - x2/n2 with the 95% hybrid score interval
 * of Newcombe 1998 (Stat Med 17:873, method 10), built from the two Wilson intervals (l, u):
 *   lower = d - sqrt((p1 - l1)^2 + (u2 - p2)^2),  upper = d + sqrt((u1 - p1)^2 + (p2 - l2)^2),
 * and the two-sided p value of the pooled two-proportion z test (equal to Pearson's chi-square
 * test without continuity correction): z = d / sqrt(p (1 - p) (1/n1 + 1/n2)), p pooled.
 * NaN fields when n1 or n2 is 0; p = 1 when both proportions are 0 or both 1. */
void ks_prop_diff(size_t x1, size_t n1, size_t x2, size_t n2, ks_contrast *out);

/* Standard normal distribution function Phi(z) = erfc(-z / sqrt 2) / 2. */
double ks_norm_cdf(double z);

#endif /* KS_TRIAL_STATS_H */
