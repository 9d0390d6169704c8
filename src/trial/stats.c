/*
 * stats.c -- streaming moments, the Student t distribution and the confidence intervals of a
 * virtual trial (contracts and references in stats.h).
 */
#include "trial/stats.h"

#include <float.h>
#include <math.h>

void ks_welford_init(ks_welford *w)
{
    w->n = 0;
    w->mean = 0.0;
    w->m2 = 0.0;
}

/* Welford 1962: mean_n = mean_{n-1} + (x - mean_{n-1}) / n; M2 += (x - mean_{n-1})(x - mean_n). */
void ks_welford_add(ks_welford *w, double x)
{
    w->n++;
    double d = x - w->mean;
    w->mean += d / (double)w->n;
    w->m2 += d * (x - w->mean);
}

double ks_welford_var(const ks_welford *w)
{
    if (w->n < 2)
        return NAN;
    double v = w->m2 / (double)(w->n - 1);
    return v > 0.0 ? v : 0.0;
}

double ks_welford_sd(const ks_welford *w)
{
    return sqrt(ks_welford_var(w));
}

/* Continued fraction of I_x(a, b) (DLMF 8.17.22):
 *   I_x(a,b) = x^a (1-x)^b / (a B(a,b)) * 1 / (1 + d1 / (1 + d2 / (1 + ...))),
 *   d_{2m+1} = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1)),  d_{2m} = m (b-m) x / ((a+2m-1)(a+2m)),
 * convergent fast for x < (a+1)/(a+b+2); modified Lentz evaluation (Lentz 1976 Appl Opt 15:668,
 * modification of Thompson & Barnett 1986 J Comput Phys 64:490). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-16;
    double f = 1.0, c = 1.0, d = 0.0;
    for (int j = 1; j <= 10000; j++) {
        int m = j / 2;
        double dm = (double)m, aj;
        if (j % 2 == 1)
            aj = -(a + dm) * (a + b + dm) * x / ((a + 2.0 * dm) * (a + 2.0 * dm + 1.0));
        else
            aj = dm * (b - dm) * x / ((a + 2.0 * dm - 1.0) * (a + 2.0 * dm));
        d = 1.0 + aj * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1.0 + aj / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        double delta = c * d;
        f *= delta;
        if (fabs(delta - 1.0) < eps)
            break;
    }
    return 1.0 / f;
}

double ks_beta_inc(double a, double b, double x)
{
    if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0) || !(x <= 1.0))
        return NAN;
    if (x == 0.0 || x == 1.0)
        return x;
    /* log of x^a (1-x)^b / B(a,b) */
    double lfront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(lfront) * beta_cf(a, b, x) / a;
    return 1.0 - exp(lfront) * beta_cf(b, a, 1.0 - x) / b; /* I_x(a,b) = 1 - I_{1-x}(b,a) */
}

/* P(T <= t) = 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2 for t >= 0 (Abramowitz & Stegun 26.7.1 with
 * 26.5.27); symmetric for t < 0. df = infinity: Phi(t) = erfc(-t/sqrt 2)/2. */
double ks_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0.0))
        return NAN;
    if (isinf(df) || df > 1e10)
        return 0.5 * erfc(-t / sqrt(2.0));
    if (isinf(t))
        return t > 0 ? 1.0 : 0.0;
    double tail = 0.5 * ks_beta_inc(0.5 * df, 0.5, df / (df + t * t)); /* P(T > |t|) */
    return t >= 0.0 ? 1.0 - tail : tail;
}

/* Bisection on the monotone cdf; 200 halvings reach the resolution of a double. */
double ks_t_quantile(double p, double df)
{
    if (!(p > 0.0) || !(p < 1.0) || !(df > 0.0))
        return NAN;
    if (p == 0.5)
        return 0.0;
    if (p < 0.5)
        return -ks_t_quantile(1.0 - p, df);
    double lo = 0.0, hi = 1.0;
    while (ks_t_cdf(hi, df) < p && hi < 1e300)
        hi *= 2.0;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi)
            break;
        if (ks_t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

void ks_mean_ci95(size_t n, double mean, double sd, double *lo, double *hi)
{
    if (n < 2 || !isfinite(sd)) {
        *lo = *hi = NAN;
        return;
    }
    double half = ks_t_quantile(0.975, (double)(n - 1)) * sd / sqrt((double)n);
    *lo = mean - half;
    *hi = mean + half;
}

void ks_wilson_ci95(size_t x, size_t n, double *lo, double *hi)
{
    if (n == 0 || x > n) {
        *lo = *hi = NAN;
        return;
    }
    const double z = KS_Z975, z2 = z * z;
    double nn = (double)n, p = (double)x / nn;
    double denom = 1.0 + z2 / nn;
    double centre = (p + z2 / (2.0 * nn)) / denom;
    double half = z / denom * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn));
    *lo = centre - half;
    *hi = centre + half;
    if (x == 0) /* exact bounds: the formula gives 0 and 1 up to rounding */
        *lo = 0.0;
    if (x == n)
        *hi = 1.0;
    if (*lo < 0.0)
        *lo = 0.0;
    if (*hi > 1.0)
        *hi = 1.0;
}

static void contrast_finish(ks_contrast *c)
{
    double tq = ks_t_quantile(0.975, c->df);
    c->ci_low = c->diff - tq * c->se;
    c->ci_high = c->diff + tq * c->se;
    if (c->se > 0.0)
        c->p_value = 2.0 * (1.0 - ks_t_cdf(fabs(c->diff) / c->se, c->df));
    else
        c->p_value = c->diff == 0.0 ? 1.0 : 0.0;
}

static void contrast_nan(ks_contrast *c)
{
    c->diff = c->se = c->df = c->ci_low = c->ci_high = c->p_value = NAN;
}

void ks_welch(size_t n1, double mean1, double var1, size_t n2, double mean2, double var2,
              ks_contrast *out)
{
    if (n1 < 2 || n2 < 2 || !isfinite(var1) || !isfinite(var2)) {
        contrast_nan(out);
        return;
    }
    double a = var1 / (double)n1, b = var2 / (double)n2;
    out->diff = mean1 - mean2;
    out->se = sqrt(a + b);
    if (a + b > 0.0)
        out->df = (a + b) * (a + b) / (a * a / (double)(n1 - 1) + b * b / (double)(n2 - 1));
    else
        out->df = (double)(n1 + n2 - 2);
    contrast_finish(out);
}

void ks_paired(const ks_welford *d, ks_contrast *out)
{
    if (d->n < 2) {
        contrast_nan(out);
        return;
    }
    out->diff = d->mean;
    out->se = ks_welford_sd(d) / sqrt((double)d->n);
    out->df = (double)(d->n - 1);
    contrast_finish(out);
}

double ks_norm_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

void ks_prop_diff(size_t x1, size_t n1, size_t x2, size_t n2, ks_contrast *out)
{
    if (n1 == 0 || n2 == 0 || x1 > n1 || x2 > n2) {
        contrast_nan(out);
        return;
    }
    double p1 = (double)x1 / (double)n1, p2 = (double)x2 / (double)n2, l1, u1, l2, u2;
    ks_wilson_ci95(x1, n1, &l1, &u1);
    ks_wilson_ci95(x2, n2, &l2, &u2);
    out->diff = p1 - p2;
    out->ci_low = out->diff - sqrt((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2));
    out->ci_high = out->diff + sqrt((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2));
    double pp = (double)(x1 + x2) / (double)(n1 + n2);
    out->se = sqrt(pp * (1.0 - pp) * (1.0 / (double)n1 + 1.0 / (double)n2));
    out->df = INFINITY;
    if (out->se > 0.0)
        out->p_value = 2.0 * (1.0 - ks_norm_cdf(fabs(out->diff) / out->se));
    else
        out->p_value = 1.0; /* both proportions 0 or both 1: no evidence of a difference */
}
