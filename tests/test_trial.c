/*
 * test_trial.c -- virtual trials: the statistics against closed forms and published values
 * (t quantiles, Wilson intervals from Newcombe 1998, Welch by hand, Welford against two-pass);
 * trial files (defaults, errors naming the JSON path); a tiny trial that runs, whose JSON parses
 * and whose result does not depend on the number of threads.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include "ks_test.h"

#include "trial/stats.h"
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

int main(void)
{
    test_t_distribution();
    test_wilson();
    test_moments_and_contrasts();
    test_parse();
    test_run();
    return ks_test_finish("test_trial");
}
