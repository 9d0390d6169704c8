/*
 * test_trial.c -- virtual trials: the statistics against closed forms and published values
 * (t quantiles, Wilson intervals from Newcombe 1998, Welch by hand, Welford against two-pass);
 * trial files (defaults, errors naming the JSON path); a tiny trial that runs, whose JSON parses
 * and whose result does not depend on the number of threads; Kaplan-Meier, Greenwood, the
 * log-rank test and the Cox model on the Gehan (1965) leukaemia data; Newcombe's difference of
 * proportions; phases, re-randomised withdrawal, dropout accounting and power on toy trials.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include "ks_test.h"

#include "trial/stats.h"
#include "trial/survival.h"
#include "trial/trial_internal.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static void test_t_distribution(void)
{
    /* df = 1 (Cauchy): F(t) = 1/2 + atan(t)/pi, quantile tan(pi (p - 1/2)) */
    CHECK_CLOSE(ks_t_cdf(1.0, 1.0), 0.75, 1e-12, 0);
    CHECK_CLOSE(ks_t_cdf(-2.5, 1.0), 0.5 + atan(-2.5) / PI, 1e-12, 0);
    CHECK_CLOSE(ks_t_quantile(0.975, 1.0), tan(PI * 0.475), 1e-10, 0);
    /* df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2)); quantile (2p - 1) sqrt(2 / (4 p (1 - p))) */
    CHECK_CLOSE(ks_t_cdf(1.3, 2.0), 0.5 + 1.3 / (2.0 * sqrt(2.0 + 1.69)), 1e-12, 0);
    CHECK_CLOSE(ks_t_quantile(0.975, 2.0), 0.95 * sqrt(2.0 / (4.0 * 0.975 * 0.025)), 1e-10, 0);
    /* textbook table values (e.g. Fisher & Yates tables), 4 decimals */
    CHECK_CLOSE(ks_t_quantile(0.975, 5.0), 2.5706, 0, 5e-5);
    CHECK_CLOSE(ks_t_quantile(0.975, 10.0), 2.2281, 0, 5e-5);
    CHECK_CLOSE(ks_t_quantile(0.975, 30.0), 2.0423, 0, 5e-5);
    CHECK_CLOSE(ks_t_quantile(0.95, 17.0), 1.7396, 0, 5e-5);
    CHECK_CLOSE(ks_t_quantile(0.975, INFINITY), KS_Z975, 1e-9, 0);
    CHECK_CLOSE(ks_t_quantile(0.025, 10.0), -2.2281, 0, 5e-5);
    CHECK(ks_t_quantile(0.5, 3.0) == 0.0);
    /* the incomplete beta at a = b = 1 is x itself */
    CHECK_CLOSE(ks_beta_inc(1.0, 1.0, 0.3), 0.3, 1e-12, 0);
    /* I_x(a, 1) = x^a */
    CHECK_CLOSE(ks_beta_inc(2.5, 1.0, 0.6), pow(0.6, 2.5), 1e-12, 0);
}

static void test_wilson(void)
{
    double lo, hi;
    /* Newcombe 1998 Stat Med 17:857, Table II (score method without continuity correction) */
    ks_wilson_ci95(81, 263, &lo, &hi);
    CHECK_CLOSE(lo, 0.2553, 0, 1e-4);
    CHECK_CLOSE(hi, 0.3662, 0, 1e-4);
    ks_wilson_ci95(15, 148, &lo, &hi);
    CHECK_CLOSE(lo, 0.0624, 0, 1e-4);
    CHECK_CLOSE(hi, 0.1605, 0, 1e-4);
    ks_wilson_ci95(0, 20, &lo, &hi);
    CHECK(lo == 0.0);
    CHECK_CLOSE(hi, 0.1611, 0, 1e-4);
    ks_wilson_ci95(1, 29, &lo, &hi);
    CHECK_CLOSE(lo, 0.0061, 0, 1e-4);
    CHECK_CLOSE(hi, 0.1718, 0, 1e-4);
    /* 5 / 10 by hand: centre 1/2, half = z / (1 + z^2/10) sqrt(1/40 + z^2/400) = 0.26340 */
    ks_wilson_ci95(5, 10, &lo, &hi);
    CHECK_CLOSE(lo, 0.5 - 0.263406, 0, 2e-6);
    CHECK_CLOSE(hi, 0.5 + 0.263406, 0, 2e-6);
    ks_wilson_ci95(10, 10, &lo, &hi);
    CHECK(hi == 1.0 && lo < 1.0);
    ks_wilson_ci95(0, 0, &lo, &hi);
    CHECK(isnan(lo) && isnan(hi));
}

static void test_moments_and_contrasts(void)
{
    /* {2,4,4,4,5,5,7,9}: mean 5, sum of squared deviations 32, sample variance 32/7 */
    const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    ks_welford w;
    ks_welford_init(&w);
    for (int i = 0; i < 8; i++)
        ks_welford_add(&w, x[i]);
    CHECK(w.n == 8);
    CHECK_CLOSE(w.mean, 5.0, 1e-15, 0);
    CHECK_CLOSE(ks_welford_var(&w), 32.0 / 7.0, 1e-14, 0);
    double lo, hi;
    /* mean -+ t_{0.975,7} s / sqrt 8, t_{0.975,7} = 2.3646 (table) */
    ks_mean_ci95(8, 5.0, sqrt(32.0 / 7.0), &lo, &hi);
    CHECK_CLOSE(hi - 5.0, 2.3646 * sqrt(32.0 / 7.0) / sqrt(8.0), 0, 2e-4);
    CHECK_CLOSE(5.0 - lo, hi - 5.0, 1e-12, 0);
    /* Welch by hand: n1 = 10, mean 5, var 4; n2 = 20, mean 3, var 9:
     * se^2 = 0.4 + 0.45 = 0.85; df = 0.85^2 / (0.4^2/9 + 0.45^2/19) = 25.408 */
    ks_contrast c;
    ks_welch(10, 5.0, 4.0, 20, 3.0, 9.0, &c);
    CHECK_CLOSE(c.diff, 2.0, 1e-15, 0);
    CHECK_CLOSE(c.se, sqrt(0.85), 1e-14, 0);
    CHECK_CLOSE(c.df, 0.7225 / (0.16 / 9.0 + 0.2025 / 19.0), 1e-12, 0);
    CHECK_CLOSE(c.df, 25.408, 0, 1e-3);
    CHECK_CLOSE(c.ci_high - c.diff, ks_t_quantile(0.975, c.df) * sqrt(0.85), 1e-12, 0);
    /* two-sided p of t = 2/sqrt(0.85) = 2.169 with 25.4 df: between 0.02 and 0.05 */
    CHECK(c.p_value > 0.03 && c.p_value < 0.05);
    /* paired: differences {1, 2, 3}: mean 2, sd 1, se 1/sqrt 3, df 2 */
    ks_welford d;
    ks_welford_init(&d);
    ks_welford_add(&d, 1.0);
    ks_welford_add(&d, 2.0);
    ks_welford_add(&d, 3.0);
    ks_paired(&d, &c);
    CHECK_CLOSE(c.diff, 2.0, 1e-15, 0);
    CHECK_CLOSE(c.se, 1.0 / sqrt(3.0), 1e-14, 0);
    CHECK(c.df == 2.0);
    /* t = 2 sqrt 3 = 3.4641 with 2 df: p = 1 - 2 (F(t) - 1/2) = 1 - t / sqrt(2 + t^2) */
    CHECK_CLOSE(c.p_value, 1.0 - 2.0 * sqrt(3.0) / sqrt(2.0 + 12.0), 1e-10, 0);
}

static const char tiny[] =
    "{\"name\": \"tiny\", \"seed\": 5, \"n_per_arm\": 6, \"span\": {\"days\": 2},"
    " \"population\": {\"diagnosis\": \"trd\", \"inclusion\": {\"scale\": \"madrs\", \"min\": 20}},"
    " \"arms\": [{\"name\": \"ketamine\", \"doses\": [{\"drug\": \"ketamine\", \"route\":"
    " \"iv_infusion\", \"mg_per_kg\": 0.5, \"duration_min\": 40}]},"
    " {\"name\": \"saline\", \"doses\": [], \"events\": [{\"type\": \"therapy\", \"at_day\": 1}]}],"
    " \"visits\": [{\"min\": 40}, {\"h\": 4}, {\"day\": 1}],"
    " \"endpoints\": {\"reference_arm\": \"saline\"}}";

static void test_parse(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_trial *t = ks_trial_parse(ctx, tiny, strlen(tiny), "tiny.json", NULL);
    CHECK(t != NULL);
    if (t) {
        CHECK(t->n_arms == 2 && t->n_visits == 4 && t->reference_arm == 1);
        CHECK(t->visits[0].t_h == 0.0 && fabs(t->visits[1].t_h - 40.0 / 60.0) < 1e-12);
        CHECK(strcmp(t->visits[3].label, "day 1") == 0);
        CHECK(t->arms[0].n_doses == 1 && fabs(t->arms[0].mg_per_kg[0] - 0.5) < 1e-12);
        CHECK(t->arms[1].n_doses == 0);
        /* three visit events plus the therapy session */
        CHECK(t->arms[0].n_events == 3 && t->arms[1].n_events == 4);
        CHECK(t->response_fraction == 0.5 && t->remission_max == 10.0);
    }
    ks_trial_free(t);
    ks_trial *d = ks_trial_create_default(ctx);
    CHECK(d != NULL);
    if (d) {
        CHECK(d->n_per_arm == 100 && d->n_arms == 2 && d->n_visits == 8);
        CHECK(fabs(d->visits[7].t_h - 14 * 24.0) < 1e-9);
        CHECK(strcmp(d->arms[d->reference_arm].name, "saline") == 0);
    }
    ks_trial_free(d);

    /* errors: KS_ERR_INPUT and a message with file, JSON path and value */
    const struct {
        const char *text, *expect;
    } bad[] = {
        {"{\"span\": {\"days\": 1}, \"visits\": [{\"h\": 2}], \"arms\": [{\"name\": \"a\", "
         "\"doses\": [], \"colour\": 1}]}",
         "$.arms[0]: unknown key \"colour\""},
        {"{\"span\": {\"days\": 1}, \"visits\": [{\"h\": 30}], \"arms\": [{\"name\": \"a\", "
         "\"doses\": []}]}",
         "$.visits[0].h: must be"},
        {"{\"span\": {\"days\": 1}, \"visits\": [{\"h\": 2}], \"arms\": [{\"name\": \"a\", "
         "\"doses\": [{\"drug\": \"ketamine\", \"route\": \"teleport\", \"mg\": 5}]}]}",
         "$.arms[0]"},
        {"{\"span\": {\"days\": 1}, \"visits\": [{\"h\": 2}], \"arms\": [{\"name\": \"a\", "
         "\"doses\": []}], \"population\": {\"female_fraction\": 2}}",
         "$.population.female_fraction"},
        {"{\"span\": {\"days\": 1}, \"visits\": [{\"h\": 2}], \"arms\": [{\"name\": \"a\", "
         "\"doses\": []}], \"endpoints\": {\"reference_arm\": \"b\"}}",
         "$.endpoints.reference_arm: no arm has this name (got \"b\")"},
        {"{\"span\": {\"days\": 1}, \"visits\": [{\"h\": 2}], \"arms\": [{\"name\": \"a\", "
         "\"doses\": []}, {\"name\": \"a\", \"doses\": []}]}",
         "$.arms[1].name: arm names must be unique"},
        {"{\"span\": {\"days\": 1}, \"visits\": [{\"h\": 2}], \"arms\": [{\"name\": \"a\", "
         "\"doses\": [], \"events\": [{\"type\": \"stress\", \"at_h\": 1}]}]}",
         "needs duration_h > 0"},
        {"{\"span\": {\"days\": 1}, \"visits\": [], \"arms\": []}", "$.visits"},
        {"{\"span\": {\"days\": 1}, \"design\": \"latin\", \"visits\": [{\"h\": 2}], \"arms\": "
         "[{\"name\": \"a\", \"doses\": []}]}",
         "$.design: expected one of"},
        {"{\"span\": ", "line 1, column"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ks_ctx_clear(ctx);
        ks_trial *b = ks_trial_parse(ctx, bad[i].text, strlen(bad[i].text), "bad.json", NULL);
        CHECK(b == NULL);
        CHECK(ks_ctx_status(ctx) == KS_ERR_INPUT);
        const char *msg = ks_ctx_message(ctx);
        int ok = strstr(msg, "bad.json") != NULL && strstr(msg, bad[i].expect) != NULL;
        if (!ok)
            fprintf(stderr, "case %zu: message '%s' lacks '%s'\n", i, msg, bad[i].expect);
        CHECK(ok);
        ks_trial_free(b);
    }
    ks_ctx_free(ctx);
}

/* Runs the tiny trial with `threads` threads and returns its JSON summary (caller frees). */
static char *run_json(ks_ctx *ctx, const ks_params *params, const ks_trial *t, int threads,
                      ks_trial_result **keep)
{
    ks_trial_options opt;
    ks_trial_options_init(&opt);
    opt.threads = threads;
    ks_trial_result *r = ks_trial_run(ctx, params, t, &opt);
    if (!r) {
        fprintf(stderr, "trial failed: %s\n", ks_ctx_message(ctx));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (fp) {
        ks_trial_result_write_json(ctx, r, fp);
        fclose(fp);
    }
    if (keep)
        *keep = r;
    else
        ks_trial_result_free(r);
    return buf;
}

static void test_run(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ks_params_create_default(ctx);
    ks_trial *t = ks_trial_parse(ctx, tiny, strlen(tiny), "tiny.json", NULL);
    CHECK(params && t);
    if (!params || !t)
        goto out;
    ks_trial_result *r = NULL;
    char *j1 = run_json(ctx, params, t, 1, &r);
    char *j2 = run_json(ctx, params, t, 2, NULL);
    char *j3 = run_json(ctx, params, t, 3, NULL);
    CHECK(j1 && j2 && j3);
    if (j1 && j2 && j3) {
        CHECK(strcmp(j1, j2) == 0);
        CHECK(strcmp(j1, j3) == 0);
        cJSON *root = cJSON_Parse(j1);
        CHECK(root != NULL);
        const cJSON *arms = cJSON_GetObjectItemCaseSensitive(root, "arms");
        CHECK(cJSON_GetArraySize(arms) == 2);
        const cJSON *v0 = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arms, 0), "visits"), 0);
        CHECK(cJSON_GetObjectItemCaseSensitive(v0, "n")->valuedouble == 6);
        cJSON_Delete(root);
    }
    if (r) {
        CHECK(ks_trial_result_arm_count(r) == 2 && ks_trial_result_visit_count(r) == 4);
        size_t screened, included;
        ks_trial_result_screening(r, &screened, &included);
        CHECK(included == 12 && screened >= included);
        int sane = 1;
        for (size_t a = 0; a < 2; a++)
            for (size_t v = 0; v < 4; v++) {
                ks_trial_visit_stats s;
                CHECK(ks_trial_result_visit_stats(ctx, r, a, v, &s) == KS_OK);
                sane &= s.n == 6 && s.mean >= 0 && s.mean <= 60 && s.ci_low <= s.mean &&
                        s.mean <= s.ci_high && s.response_ci_low <= s.response_rate &&
                        s.response_rate <= s.response_ci_high;
                /* observed baseline >= inclusion threshold is not required (new rating), but
                 * the baseline change is exactly 0 */
                if (v == 0)
                    sane &= s.change_mean == 0.0 && s.responders == 0;
            }
        CHECK(sane);
        ks_trial_contrast c;
        CHECK(ks_trial_result_contrast(ctx, r, 0, 3, &c) == KS_OK);
        CHECK(isfinite(c.diff) && c.ci_low <= c.diff && c.diff <= c.ci_high);
        CHECK(ks_trial_result_visit_stats(ctx, r, 2, 0, &(ks_trial_visit_stats){0}) ==
              KS_ERR_USAGE);
        ks_trial_result_free(r);
    }
    free(j1);
    free(j2);
    free(j3);
out:
    ks_trial_free(t);
    ks_params_free(params);
    ks_ctx_free(ctx);
}

/* Gehan 1965 (Biometrika 52:203), 6-MP vs placebo remission times in weeks (+ censored):
 *   6-MP (21):    6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+
 *   placebo (21): 1 1 2 2 3 4 4 5 5 8 8 8 8 11 11 12 12 15 17 22 23
 * Kaplan-Meier of 6-MP by hand: S(6) = 18/21 = 0.857143; S(7) = S(6) 16/17 = 0.806723;
 * S(10) = S(7) 14/15 = 0.752941; S(13) = 0.690196; S(16) = 0.627451; S(22) = 0.537815;
 * S(23) = 0.448179. Greenwood at 6: S^2 3/(21 18) -> se 0.0764; at 7: S^2 (3/378 + 1/272)
 * -> se 0.0869 (the standard table values, e.g. Collett 2015 and R survfit). Median 6-MP 23,
 * placebo 8. Cox with Breslow ties, placebo vs 6-MP: beta 1.509, se 0.410, HR 4.523
 * (Kleinbaum & Klein 2012, Survival Analysis, 3rd ed., ch. 3); log-rank chi-square 16.79
 * (ibid., ch. 2). */
static void test_survival(void)
{
    static const double t[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                               13, 15, 16, 17, 19, 20, 22, 23, 25, 32, 34, 35};
    static const double mp_ev[] = {6, 6, 6, 7, 10, 13, 16, 22, 23};
    static const double mp_cens[] = {6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35};
    static const double pl_ev[] = {1, 1, 2,  2,  3,  4,  4,  5,  5,  8, 8,
                                   8, 8, 11, 11, 12, 12, 15, 17, 22, 23};
    enum { NT = sizeof t / sizeof t[0] };
    size_t dm[NT] = {0}, cm[NT] = {0}, dp[NT] = {0}, cp[NT] = {0};
    for (size_t j = 0; j < NT; j++) {
        for (size_t i = 0; i < sizeof mp_ev / sizeof mp_ev[0]; i++)
            dm[j] += mp_ev[i] == t[j];
        for (size_t i = 0; i < sizeof mp_cens / sizeof mp_cens[0]; i++)
            cm[j] += mp_cens[i] == t[j];
        for (size_t i = 0; i < sizeof pl_ev / sizeof pl_ev[0]; i++)
            dp[j] += pl_ev[i] == t[j];
    }
    ks_km_point km[NT], kp[NT];
    ks_km(NT, t, dm, cm, km);
    ks_km(NT, t, dp, cp, kp);
    CHECK(km[0].at_risk == 21 && kp[0].at_risk == 21);
    CHECK(km[5].t == 6.0 && km[5].at_risk == 21 && km[5].events == 3 && km[5].censored == 1);
    CHECK_CLOSE(km[5].surv, 18.0 / 21.0, 1e-12, 0);
    CHECK_CLOSE(km[6].surv, 18.0 / 21.0 * 16.0 / 17.0, 1e-12, 0);
    CHECK(km[6].at_risk == 17);
    CHECK_CLOSE(km[5].se, 18.0 / 21.0 * sqrt(3.0 / (21.0 * 18.0)), 1e-12, 0);
    CHECK_CLOSE(km[5].se, 0.0764, 0, 5e-5);
    CHECK_CLOSE(km[6].se, 0.0869, 0, 5e-5);
    CHECK_CLOSE(km[19].surv, 0.448179, 0, 1e-6); /* t = 23 */
    CHECK_CLOSE(km[19].se, 0.1346, 0, 5e-5);
    /* log-log interval at 6: S^exp(+-z s), s = sqrt(3/378)/|log S| */
    double s6 = 18.0 / 21.0, sl = sqrt(3.0 / 378.0) / fabs(log(s6));
    CHECK_CLOSE(km[5].ci_low, pow(s6, exp(KS_Z975 * sl)), 1e-12, 0);
    CHECK_CLOSE(km[5].ci_high, pow(s6, exp(-KS_Z975 * sl)), 1e-12, 0);
    CHECK(km[0].surv == 1.0 && km[0].ci_low == 1.0 && km[0].se == 0.0);
    double med, lo, hi;
    ks_km_median(NT, km, &med, &lo, &hi);
    CHECK(med == 23.0 && isnan(hi) && lo <= med);
    ks_km_median(NT, kp, &med, &lo, &hi);
    CHECK(med == 8.0 && lo <= 8.0 && hi >= 8.0);
    size_t r0[NT], r1[NT];
    for (size_t j = 0; j < NT; j++) {
        r0[j] = km[j].at_risk;
        r1[j] = kp[j].at_risk;
    }
    ks_cox c;
    CHECK(ks_cox_two_group(NT, dm, dp, r0, r1, &c) == 0);
    CHECK_CLOSE(c.beta, 1.509, 0, 5e-4);
    CHECK_CLOSE(c.se, 0.410, 0, 5e-4);
    CHECK_CLOSE(c.hr, 4.523, 0, 5e-3);
    CHECK_CLOSE(c.ci_low, exp(c.beta - KS_Z975 * c.se), 1e-12, 0);
    CHECK_CLOSE(c.chi2_logrank, 16.79, 0, 5e-3);
    CHECK(c.p_wald < 0.001 && c.p_logrank < 1e-4);
    /* the score at the estimate is 0 (the Newton-Raphson fixed point) */
    double u = 0.0;
    for (size_t j = 0; j < NT; j++) {
        double d = (double)(dm[j] + dp[j]), den = (double)r0[j] + (double)r1[j] * c.hr;
        if (d > 0.0 && den > 0.0)
            u += (double)dp[j] - d * (double)r1[j] * c.hr / den;
    }
    CHECK(fabs(u) < 1e-9);
    /* a group without events: the estimate is infinite, reported as NaN */
    size_t none[NT] = {0};
    CHECK(ks_cox_two_group(NT, dm, none, r0, r1, &c) == 0 && isnan(c.hr));
}

static void test_prop_diff(void)
{
    /* Newcombe 1998 Stat Med 17:873, Table II, method 10 (score, no continuity correction) */
    ks_contrast c;
    ks_prop_diff(56, 70, 48, 80, &c);
    CHECK_CLOSE(c.diff, 0.2, 1e-12, 0);
    CHECK_CLOSE(c.ci_low, 0.0524, 0, 1e-4);
    CHECK_CLOSE(c.ci_high, 0.3339, 0, 1e-4);
    ks_prop_diff(9, 10, 3, 10, &c);
    CHECK_CLOSE(c.ci_low, 0.1705, 0, 1e-4);
    CHECK_CLOSE(c.ci_high, 0.8090, 0, 1e-4);
    ks_prop_diff(5, 56, 0, 29, &c);
    CHECK_CLOSE(c.ci_low, -0.0381, 0, 1e-4);
    CHECK_CLOSE(c.ci_high, 0.1926, 0, 1e-4);
    /* pooled z test by hand: 56/70 vs 48/80, p = 104/150, se^2 = p(1-p)(1/70 + 1/80) */
    double pp = 104.0 / 150.0, z = 0.2 / sqrt(pp * (1 - pp) * (1.0 / 70 + 1.0 / 80));
    ks_prop_diff(56, 70, 48, 80, &c);
    CHECK_CLOSE(c.p_value, erfc(z / sqrt(2.0)), 1e-12, 0);
    ks_prop_diff(0, 5, 0, 7, &c);
    CHECK(c.p_value == 1.0 && c.diff == 0.0);
}

/* A randomised-withdrawal design: ketamine for everyone in the induction (days 0-2), responders
 * at day 2 re-randomised to ketamine or saline; daily visits to day 5; relapse = MADRS >= 20. */
static const char withdrawal[] =
    "{\"name\": \"rw\", \"seed\": 3, \"n_per_arm\": 10, \"span\": {\"days\": 5},"
    " \"arms\": [{\"name\": \"ketamine\", \"doses\": [{\"drug\": \"ketamine\", \"route\":"
    " \"iv_infusion\", \"mg_per_kg\": 0.5, \"duration_min\": 40, \"repeat\": {\"every_days\": 2,"
    " \"count\": 3}}], \"flex_dose\": [{\"visit\": {\"day\": 1}, \"if_improvement_below\": 0.3,"
    " \"factor\": 1.5}]}, {\"name\": \"saline\", \"doses\": []}],"
    " \"phases\": [{\"name\": \"induction\", \"until\": {\"day\": 2}, \"arms\": [\"ketamine\"]},"
    " {\"name\": \"maintenance\", \"randomise\": {\"select\": \"responders\", \"arms\":"
    " [\"ketamine\", \"saline\"]}}],"
    " \"visits\": [{\"day\": 1}, {\"day\": 2}, {\"day\": 3}, {\"day\": 4}, {\"day\": 5}],"
    " \"dropout\": {\"per_visit\": 0.1},"
    " \"endpoints\": {\"reference_arm\": \"saline\", \"response_fraction\": 0.2,"
    " \"relapse\": {\"min_score\": 20}, \"primary\": {\"measure\": \"relapse\"}}}";

static void test_phases_parse(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_trial *t = ks_trial_parse(ctx, withdrawal, strlen(withdrawal), "rw.json", NULL);
    CHECK(t != NULL);
    if (t) {
        CHECK(t->n_phases == 2 && t->withdrawal && t->withdrawal_phase == 1);
        CHECK(t->withdrawal_h == 48.0 && t->withdrawal_visit == 2);
        CHECK(t->n_initial_arms == 1 && t->initial_arms[0] == 0);
        CHECK(t->n_withdrawal_arms == 2 && t->reference_arm == 1 && t->primary_arm == 0);
        CHECK(t->arms[0].n_flex == 1 && t->arms[0].flex[0].visit == 1 &&
              t->arms[0].flex[0].by_fraction && t->arms[0].flex[0].factor == 1.5);
        CHECK(t->dropout_per_visit == 0.1 && !t->dropout_loe);
        CHECK(t->relapse && t->relapse_min == 20.0 && t->relapse_consecutive == 1);
        CHECK(t->primary_measure == KS_MEASURE_RELAPSE);
    }
    ks_trial_free(t);
    const char *base = "\"span\": {\"days\": 4}, \"visits\": [{\"day\": 1}, {\"day\": 2}], "
                       "\"arms\": [{\"name\": \"a\", \"doses\": []}, {\"name\": \"b\", "
                       "\"doses\": []}]";
    const struct {
        const char *extra, *expect;
    } bad[] = {
        {"\"phases\": [{\"name\": \"x\", \"until\": {\"day\": 2}}, {\"name\": \"y\", "
         "\"until\": {\"day\": 3}}]",
         "$.phases[1].until: the last phase must end at the end of the span"},
        {"\"phases\": [{\"name\": \"x\"}, {\"name\": \"y\"}]",
         "$.phases[0]: \"until\" is required"},
        {"\"phases\": [{\"name\": \"x\", \"until\": {\"h\": 12}}, {\"name\": \"y\", "
         "\"randomise\": {\"select\": \"responders\", \"arms\": [\"a\"]}}]",
         "needs a rating visit"},
        {"\"phases\": [{\"name\": \"x\", \"until\": {\"day\": 2}}, {\"name\": \"y\", "
         "\"randomise\": {\"select\": \"responders\", \"arms\": [\"a\", \"c\"]}}]",
         "$.phases[1].randomise.arms[1]: no arm has this name"},
        {"\"phases\": [{\"name\": \"x\", \"until\": {\"day\": 2}}, {\"name\": \"y\", "
         "\"randomise\": {\"select\": \"best\", \"arms\": [\"a\"]}}]",
         "$.phases[1].randomise.select: expected one of"},
        {"\"dropout\": {\"per_visit\": 1.5}", "$.dropout.per_visit"},
        {"\"dropout\": {\"lack_of_efficacy\": {\"from\": {\"day\": 1}}}",
         "\"improvement_below\" is required"},
        {"\"endpoints\": {\"relapse\": {\"consecutive\": 2}}", "\"min_score\" is required"},
        {"\"endpoints\": {\"primary\": {\"measure\": \"relapse\"}}",
         "the relapse measure needs endpoints.relapse"},
        {"\"endpoints\": {\"primary\": {\"visit\": {\"day\": 3}}}",
         "$.endpoints.primary.visit: must be one of the trial's visits"},
        {"\"endpoints\": {\"primary\": {\"arm\": \"a\"}}",
         "the primary arm must differ from the reference arm"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "{%s, %s}", base, bad[i].extra);
        ks_ctx_clear(ctx);
        ks_trial *b = ks_trial_parse(ctx, text, strlen(text), "bad.json", NULL);
        const char *msg = ks_ctx_message(ctx);
        int ok = !b && ks_ctx_status(ctx) == KS_ERR_INPUT && strstr(msg, "bad.json") &&
                 strstr(msg, bad[i].expect);
        if (!ok)
            fprintf(stderr, "phase case %zu: message '%s' lacks '%s'\n", i, msg, bad[i].expect);
        CHECK(ok);
        ks_trial_free(b);
    }
    /* flexible-dose rule errors */
    const char *flex_bad[][2] = {
        {"[{\"visit\": {\"day\": 1}, \"mg\": 84}]", "give exactly one of if_improvement_below"},
        {"[{\"visit\": {\"day\": 1}, \"if_improvement_below\": 0.5}]", "give exactly one of mg"},
        {"[{\"visit\": {\"day\": 3}, \"if_improvement_below\": 0.5, \"mg\": 84}]",
         "$.arms[0].flex_dose[0].visit: must be one of the trial's visits"},
        {"[{\"visit\": {\"day\": 1}, \"if_improvement_below\": 0.5, \"mg\": 84, \"drug\": "
         "\"tea\"}]",
         "$.arms[0].flex_dose[0].drug: unknown drug"},
    };
    for (size_t i = 0; i < sizeof flex_bad / sizeof flex_bad[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"span\": {\"days\": 4}, \"visits\": [{\"day\": 1}, {\"day\": 2}], \"arms\": "
                 "[{\"name\": \"a\", \"doses\": [], \"flex_dose\": %s}]}",
                 flex_bad[i][0]);
        ks_ctx_clear(ctx);
        ks_trial *b = ks_trial_parse(ctx, text, strlen(text), "bad.json", NULL);
        const char *msg = ks_ctx_message(ctx);
        int ok = !b && strstr(msg, flex_bad[i][1]) != NULL;
        if (!ok)
            fprintf(stderr, "flex case %zu: message '%s' lacks '%s'\n", i, msg, flex_bad[i][1]);
        CHECK(ok);
        ks_trial_free(b);
    }
    ks_ctx_free(ctx);
}

static void test_withdrawal_run(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ks_params_create_default(ctx);
    ks_trial *t = ks_trial_parse(ctx, withdrawal, strlen(withdrawal), "rw.json", NULL);
    CHECK(params && t);
    if (!params || !t)
        goto out;
    ks_trial_result *r = NULL;
    char *j1 = run_json(ctx, params, t, 1, &r);
    char *j2 = run_json(ctx, params, t, 2, NULL);
    CHECK(j1 && j2 && strcmp(j1, j2) == 0);
    if (r) {
        /* bookkeeping: everyone enters the induction; the selected plus the not selected plus
         * the induction dropouts before the selection visit are everyone; the randomised arms
         * hold exactly the selected; the maintenance phase is entered by the selected only */
        CHECK(r->included == 10 && r->phase_counts[0].entered == 10);
        size_t early = 0; /* dropouts at visits 1-2 (first missed visit in the induction) */
        early = r->phase_counts[0].dropouts;
        CHECK(r->withdrawal_selected + r->withdrawal_not_selected + early == 10);
        CHECK(r->arm_n[0] + r->arm_n[1] == r->withdrawal_selected);
        CHECK(r->phase_counts[1].entered == r->withdrawal_selected);
        /* relapse counts: every analysed patient is an event or censored exactly once */
        for (size_t a = 0; a < 2; a++) {
            size_t tot = 0;
            for (size_t k = 0; k < r->n_relapse_times; k++)
                tot += r->relapse_arms[a].events[k] + r->relapse_arms[a].censored[k];
            CHECK(tot == r->arm_n[a]);
            /* LOCF: every analysed patient counts at every visit */
            for (size_t v = 0; v < r->n_visits; v++)
                CHECK(r->cells[a * r->n_visits + v].observed.n == r->arm_n[a]);
        }
        CHECK(r->n_relapse_times == 4 && r->relapse_t[1] == 24.0);
        ks_trial_result_free(r);
    }
    free(j1);
    free(j2);
out:
    ks_trial_free(t);
    ks_params_free(params);
    ks_ctx_free(ctx);
}

/* Dropout accounting: with a per-visit hazard of 1 everybody misses every visit after baseline:
 * observed-case n is 0 there, LOCF carries the baseline (change 0) for everybody. */
static void test_dropout(void)
{
    const char *text =
        "{\"seed\": 4, \"n_per_arm\": 3, \"span\": {\"days\": 1}, \"visits\": [{\"h\": 12}, "
        "{\"day\": 1}], \"arms\": [{\"name\": \"a\", \"doses\": []}, {\"name\": \"b\", "
        "\"doses\": []}], \"dropout\": {\"per_visit\": 1}}";
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ks_params_create_default(ctx);
    ks_trial *t = ks_trial_parse(ctx, text, strlen(text), "d.json", NULL);
    CHECK(params && t);
    if (params && t) {
        ks_trial_result *r = NULL;
        char *j = run_json(ctx, params, t, 2, &r);
        CHECK(j != NULL);
        free(j);
        if (r) {
            CHECK(r->arm_dropouts[0] == 3 && r->arm_dropouts[1] == 3);
            CHECK(r->phase_counts[0].dropouts == 6);
            for (size_t a = 0; a < 2; a++) {
                const ks_trial_cell *c0 = &r->cells[a * 3], *c2 = &r->cells[a * 3 + 2];
                CHECK(c0->oc_observed.n == 3 && c2->oc_observed.n == 0);
                CHECK(c2->observed.n == 3 && c2->change.mean == 0.0 && c2->change.m2 == 0.0);
                CHECK(c2->observed.mean == c0->observed.mean);
            }
            ks_trial_result_free(r);
        }
    }
    ks_trial_free(t);
    ks_params_free(params);
    ks_ctx_free(ctx);
}

/* Power on toy trials: one ketamine infusion vs saline, change from baseline at day 1 with 12
 * patients per arm, and the same trial with a saline "drug" arm (no effect: the expected
 * fraction significant is alpha = 0.05, so at most 2 of 8 unless something is wrong). The drug's
 * replicate effects must be negative beyond their own 95% interval, and its power larger than
 * the null trial's. 8 replicates each. */
static void test_power(void)
{
#define POWER_FMT                                                                                  \
    "{\"seed\": 2, \"n_per_arm\": 12, \"span\": {\"days\": 1}, \"visits\": [{\"h\": 4}, "          \
    "{\"day\": 1}], \"arms\": [{\"name\": \"drug\", \"doses\": %s}, {\"name\": \"saline\", "       \
    "\"doses\": []}], \"endpoints\": {\"reference_arm\": \"saline\"}}"
    const char *doses[] = {"[{\"drug\": \"ketamine\", \"route\": \"iv_infusion\", \"mg_per_kg\":"
                           " 0.5, \"duration_min\": 40}]",
                           "[]"};
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ks_params_create_default(ctx);
    double power[2] = {NAN, NAN}, eff[2] = {NAN, NAN}, half[2] = {NAN, NAN};
    for (int k = 0; k < 2 && params; k++) {
        char text[1024];
        snprintf(text, sizeof text, POWER_FMT, doses[k]);
        ks_trial *t = ks_trial_parse(ctx, text, strlen(text), "p.json", NULL);
        CHECK(t != NULL);
        if (!t)
            continue;
        ks_trial_options opt;
        ks_trial_options_init(&opt);
        opt.threads = 2;
        opt.replicates = 8;
        ks_trial_result *r = ks_trial_run(ctx, params, t, &opt);
        CHECK(r != NULL);
        if (r) {
            ks_trial_power pw;
            CHECK(ks_trial_result_power(ctx, r, &pw) == KS_OK);
            CHECK(pw.replicates == 8 && pw.alpha == 0.05);
            CHECK(pw.ci_low <= pw.power && pw.power <= pw.ci_high);
            power[k] = pw.power;
            CHECK(pw.power == (double)pw.significant / 8.0);
            eff[k] = r->primary_effect.mean;
            half[k] = 1.96 * ks_welford_sd(&r->primary_effect) / sqrt(8.0);
            CHECK(r->primary_effect.n == 8);
            /* the result is the first replicate's: the plain trial */
            CHECK(r->included == 24);
            ks_trial_result_free(r);
        }
        ks_trial_free(t);
    }
    CHECK(power[0] > power[1]);
    CHECK(power[1] <= 0.25);
    CHECK(eff[0] + half[0] < 0.0);
    CHECK(fabs(eff[1]) < half[1] + 1.0);
    ks_params_free(params);
    ks_ctx_free(ctx);
}

int main(void)
{
    test_t_distribution();
    test_wilson();
    test_moments_and_contrasts();
    test_parse();
    test_run();
    test_survival();
    test_prop_diff();
    test_phases_parse();
    test_withdrawal_run();
    test_dropout();
    test_power();
    return ks_test_finish("test_trial");
}
