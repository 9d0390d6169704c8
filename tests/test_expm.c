/*
 * test_expm.c -- the dense matrix exponential against analytic results: diagonal, nilpotent and
 * rotation generators (every Pade degree and the scaling branch), the biexponential solution of
 * the two-compartment model, the group property e^{A} e^{-A} = I, Van Loan's block integral,
 * and the LU helpers.
 */
#include "ks_test.h"

#include "core/internal.h"
#include "solve/expm.h"

#include <string.h>

#define NMAX 8

static double e_[NMAX * NMAX], a_[NMAX * NMAX], b_[NMAX * NMAX], c_[NMAX * NMAX];

static void test_diagonal(ks_ctx *ctx, ks_expm_work *w)
{
    /* exp(diag(d)) = diag(exp(d)). Entries span every branch of Algorithm 2.3. */
    const double d[] = {-0.5, 0.0, 1.3, -40.0, 0.01, -200.0};
    const int n = 6;
    memset(a_, 0, sizeof a_);
    for (int i = 0; i < n; i++) {
        a_[i * n + i] = d[i];
    }
    CHECK(ks_expm(ctx, w, n, a_, e_) == KS_OK);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            if (i == j) {
                CHECK_CLOSE(e_[i * n + j], exp(d[i]), 1e-13, 1e-300);
            } else {
                CHECK(fabs(e_[i * n + j]) <= 1e-15);
            }
        }
    }
}

static void test_nilpotent(ks_ctx *ctx, ks_expm_work *w)
{
    /* N strictly upper triangular (N^4 = 0): e^N = I + N + N^2/2 + N^3/6 exactly. Scaled by s
     * to visit the small- and large-norm branches. */
    const int n = 4;
    const double scales[] = {0.001, 0.1, 0.5, 1.0, 3.0, 20.0};
    for (size_t q = 0; q < sizeof scales / sizeof scales[0]; q++) {
        double s = scales[q];
        memset(a_, 0, sizeof a_);
        double v = 1.0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                a_[i * n + j] = s * v;
                v += 0.5;
            }
        }
        double n2[16], n3[16], expect[16];
        ks_mat_mul(n, a_, a_, n2);
        ks_mat_mul(n, n2, a_, n3);
        for (int i = 0; i < n * n; i++) {
            expect[i] = a_[i] + n2[i] / 2.0 + n3[i] / 6.0 + ((i % (n + 1)) == 0 ? 1.0 : 0.0);
        }
        CHECK(ks_expm(ctx, w, n, a_, e_) == KS_OK);
        double scale = ks_mat_norm1(n, expect);
        for (int i = 0; i < n * n; i++) {
            CHECK_CLOSE(e_[i], expect[i], 1e-12, 1e-14 * scale);
        }
    }
}

static void test_rotation(ks_ctx *ctx, ks_expm_work *w)
{
    /* exp([[0, th], [-th, 0]]) = [[cos th, sin th], [-sin th, cos th]]. */
    const double th[] = {0.01, 0.2, 0.7, 1.5, 4.0, 30.0, 300.0};
    for (size_t q = 0; q < sizeof th / sizeof th[0]; q++) {
        double m[4] = {0.0, th[q], -th[q], 0.0}, e[4];
        CHECK(ks_expm(ctx, w, 2, m, e) == KS_OK);
        /* Squaring s times loses about s digits relative to cond; 1e-11 allows 300 rad. */
        double tol = th[q] > 10.0 ? 1e-11 : 1e-14;
        CHECK_CLOSE(e[0], cos(th[q]), 0.0, tol);
        CHECK_CLOSE(e[1], sin(th[q]), 0.0, tol);
        CHECK_CLOSE(e[2], -sin(th[q]), 0.0, tol);
        CHECK_CLOSE(e[3], cos(th[q]), 0.0, tol);
    }
}

static void test_two_compartment(ks_ctx *ctx, ks_expm_work *w)
{
    /* Two-compartment model, amounts x1 (central), x2 (peripheral), IV bolus D into x1:
     *   dx1/dt = -(k10 + k12) x1 + k21 x2,  dx2/dt = k12 x1 - k21 x2.
     * Hybrid rate constants alpha, beta = ((k10+k12+k21) +- sqrt((k10+k12+k21)^2 - 4 k10 k21))/2
     * and x1(t) = D [(alpha - k21) e^{-alpha t} + (k21 - beta) e^{-beta t}] / (alpha - beta),
     * x2(t) = D k12 (e^{-beta t} - e^{-alpha t}) / (alpha - beta)
     * (Gibaldi & Perrier, Pharmacokinetics, 2nd ed., 1982, the two-compartment model after
     * an IV bolus). */
    const double k10 = 0.35, k12 = 1.1, k21 = 0.25, dose = 100.0;
    const double sum = k10 + k12 + k21;
    const double disc = sqrt(sum * sum - 4.0 * k10 * k21);
    const double alpha = 0.5 * (sum + disc), beta = 0.5 * (sum - disc);
    const double ts[] = {0.05, 0.5, 2.0, 10.0, 48.0, 200.0};
    for (size_t q = 0; q < sizeof ts / sizeof ts[0]; q++) {
        double t = ts[q];
        double m[4] = {-(k10 + k12) * t, k21 * t, k12 * t, -k21 * t}, e[4];
        CHECK(ks_expm(ctx, w, 2, m, e) == KS_OK);
        double x1 = dose * e[0], x2 = dose * e[2]; /* first column times D */
        double x1_ref = dose * ((alpha - k21) * exp(-alpha * t) + (k21 - beta) * exp(-beta * t)) /
                        (alpha - beta);
        double x2_ref = dose * k12 * (exp(-beta * t) - exp(-alpha * t)) / (alpha - beta);
        CHECK_CLOSE(x1, x1_ref, 1e-12, 1e-14 * dose);
        CHECK_CLOSE(x2, x2_ref, 1e-12, 1e-14 * dose);
    }
}

/* Deterministic pseudo-random entries in [-1, 1) (linear congruential, Knuth MMIX constants). */
static double lcg(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static void test_group_property(ks_ctx *ctx, ks_expm_work *w)
{
    /* e^{A} e^{-A} = I for any A, here for a few norms up to scaling. */
    const int n = 7;
    const double norms[] = {0.3, 3.0, 12.0};
    unsigned long long seed = 12345;
    for (size_t q = 0; q < sizeof norms / sizeof norms[0]; q++) {
        for (int i = 0; i < n * n; i++) {
            a_[i] = lcg(&seed);
        }
        double s = norms[q] / ks_mat_norm1(n, a_);
        for (int i = 0; i < n * n; i++) {
            a_[i] *= s;
            b_[i] = -a_[i];
        }
        CHECK(ks_expm(ctx, w, n, a_, e_) == KS_OK);
        CHECK(ks_expm(ctx, w, n, b_, c_) == KS_OK);
        double p[NMAX * NMAX];
        ks_mat_mul(n, e_, c_, p);
        double cond = ks_mat_norm1(n, e_) * ks_mat_norm1(n, c_);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                CHECK_CLOSE(p[i * n + j], i == j ? 1.0 : 0.0, 0.0, 1e-14 * cond);
            }
        }
    }
}

static void test_van_loan(ks_ctx *ctx, ks_expm_work *w)
{
    /* exp([[a, 1], [0, 0]] t) = [[e^{a t}, (e^{a t} - 1) / a], [0, 1]] (Van Loan 1978, Thm 1,
     * scalar case: the integral of e^{a s} over [0, t]). */
    const double as[] = {-0.7, -15.0, 0.4};
    const double t = 3.0;
    for (size_t q = 0; q < sizeof as / sizeof as[0]; q++) {
        double m[4] = {as[q] * t, t, 0.0, 0.0}, e[4];
        CHECK(ks_expm(ctx, w, 2, m, e) == KS_OK);
        CHECK_CLOSE(e[0], exp(as[q] * t), 1e-13, 0.0);
        CHECK_CLOSE(e[1], expm1(as[q] * t) / as[q], 1e-13, 0.0);
        CHECK_CLOSE(e[2], 0.0, 0.0, 1e-300);
        CHECK_CLOSE(e[3], 1.0, 1e-14, 0.0);
    }
}

static void test_lu(ks_ctx *ctx, ks_expm_work *w)
{
    /* A known system that needs pivoting: x = (1, 2, 3). */
    double m[9] = {0.0, 2.0, 1.0, 1.0, 1.0, 1.0, 4.0, -1.0, 2.0};
    double rhs[3] = {2.0 * 2 + 3, 1.0 + 2 + 3, 4.0 - 2 + 6};
    int piv[3];
    CHECK(ks_lu_factor(3, m, piv) == 0);
    ks_lu_solve(3, m, piv, rhs, 1);
    CHECK_CLOSE(rhs[0], 1.0, 1e-14, 0.0);
    CHECK_CLOSE(rhs[1], 2.0, 1e-14, 0.0);
    CHECK_CLOSE(rhs[2], 3.0, 1e-14, 0.0);
    /* A singular matrix is reported. */
    double sing[4] = {1.0, 2.0, 2.0, 4.0};
    CHECK(ks_lu_factor(2, sing, piv) == 2);
    /* Non-finite input is a solver failure with a message. */
    double bad[4] = {1.0, NAN, 0.0, 1.0}, e[4];
    CHECK(ks_expm(ctx, w, 2, bad, e) == KS_ERR_SOLVER);
    CHECK(strstr(ks_ctx_message(ctx), "not finite") != NULL);
    ks_ctx_clear(ctx);
    /* A size beyond the work space is refused. */
    CHECK(ks_expm(ctx, w, NMAX + 1, a_, e_) == KS_ERR_USAGE);
    ks_ctx_clear(ctx);
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_expm_work w;
    CHECK(ctx != NULL);
    CHECK(ks_expm_work_init(ctx, &w, NMAX) == KS_OK);
    test_diagonal(ctx, &w);
    test_nilpotent(ctx, &w);
    test_rotation(ctx, &w);
    test_two_compartment(ctx, &w);
    test_group_property(ctx, &w);
    test_van_loan(ctx, &w);
    test_lu(ctx, &w);
    ks_expm_work_release(&w);
    ks_expm_work_release(&w); /* twice: a no-op */
    ks_ctx_free(ctx);
    return ks_test_finish("test_expm");
}
