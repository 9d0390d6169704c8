/*
 * test_measure_trial.c -- the measurements on virtual-trial results (src/validate/measure_trial.c)
 * on synthetic data with answers known by hand: median, Kaplan-Meier median, Holm's procedure,
 * relapse times, and the parsing of trial experiments (bad input named by its JSON path).
 */
#include "ks_test.h"
#include "validate/measure_trial.h"

#include <math.h>
#include <string.h>

static void test_median(void)
{
    double a[] = {5, 1, 3};
    CHECK_CLOSE(ks_mt_median(a, 3), 3.0, 0, 0);
    double b[] = {4, 1, 3, 2};
    CHECK_CLOSE(ks_mt_median(b, 4), 2.5, 0, 0);
    /* more than half never significant: the median is infinite */
    double c[] = {1, INFINITY, INFINITY};
    CHECK(isinf(ks_mt_median(c, 3)));
    double d[] = {2, INFINITY};
    CHECK(isinf(ks_mt_median(d, 2)));
    CHECK(isnan(ks_mt_median(NULL, 0)));
}

static void test_km(void)
{
    /* No censoring: S drops by 1/5 at each time; S(3) = 2/5 <= 0.5 first, so the median is 3
     * (the empirical median). */
    double t1[] = {5, 1, 4, 2, 3};
    int e1[] = {1, 1, 1, 1, 1};
    CHECK_CLOSE(ks_mt_km_median(t1, e1, 5), 3.0, 0, 0);
    /* Censoring (hand computation): times 1, 2+, 3, 4, 5+ (+ censored).
     * t=1: 5 at risk, S = 4/5; t=2 censored; t=3: 3 at risk, S = 4/5 * 2/3 = 8/15 = 0.533;
     * t=4: 2 at risk, S = 8/15 * 1/2 = 4/15 <= 0.5 -> median 4. */
    double t2[] = {1, 2, 3, 4, 5};
    int e2[] = {1, 0, 1, 1, 0};
    CHECK_CLOSE(ks_mt_km_median(t2, e2, 5), 4.0, 0, 0);
    /* Survival never reaches 0.5: 1 event of 4 -> S = 3/4 -> +inf. */
    double t3[] = {1, 2, 3, 4};
    int e3[] = {1, 0, 0, 0};
    CHECK(isinf(ks_mt_km_median(t3, e3, 4)));
    /* Ties: two events at 2 among 4: S(2) = 1 - 2/4 = 0.5 -> median 2. */
    double t4[] = {2, 2, 3, 5};
    int e4[] = {1, 1, 1, 0};
    CHECK_CLOSE(ks_mt_km_median(t4, e4, 4), 2.0, 0, 0);
    /* Event and censoring tied at 1: the event counts first (6 at risk, S = 5/6). Then
     * t=2: 4 at risk, S = 5/6 * 3/4 = 0.625; t=3: 3 at risk, S = 0.625 * 2/3 = 0.4167 -> 3. */
    double t5[] = {1, 1, 2, 3, 4, 6};
    int e5[] = {1, 0, 1, 1, 0, 1};
    CHECK_CLOSE(ks_mt_km_median(t5, e5, 6), 3.0, 0, 0);
}

static void test_holm(void)
{
    /* Holm 1979: sorted p 0.01, 0.02, 0.03, 0.2 with m = 4, alpha 0.05: thresholds 0.0125,
     * 0.0167, 0.025, 0.05 -> 0.01 rejected, 0.02 > 0.0167 stops. */
    double p[] = {0.03, 0.01, 0.2, 0.02};
    int rej[4];
    CHECK(ks_mt_holm(p, 4, 0.05, rej) == 1);
    CHECK(rej[1] == 1 && rej[0] == 0 && rej[2] == 0 && rej[3] == 0);
    /* 0.001, 0.01, 0.02, 0.04: thresholds 0.0125, 0.0167, 0.025, 0.05 -> all rejected. */
    double q[] = {0.04, 0.02, 0.01, 0.001};
    CHECK(ks_mt_holm(q, 4, 0.05, rej) == 4);
    CHECK(rej[0] && rej[1] && rej[2] && rej[3]);
    /* A single test is the unadjusted test. */
    double s[] = {0.049};
    CHECK(ks_mt_holm(s, 1, 0.05, rej) == 1 && rej[0] == 1);
    /* NaN is never rejected and sorts last. */
    double n[] = {NAN, 0.001};
    CHECK(ks_mt_holm(n, 2, 0.05, rej) == 1 && rej[0] == 0 && rej[1] == 1);
}

static void test_locf(void)
{
    /* visits 2, 3 and 5 missed: each takes the last rating before it */
    double o[6] = {30, 20, NAN, NAN, 12, NAN};
    ks_mt_locf(o, 6);
    CHECK(o[0] == 30 && o[1] == 20 && o[2] == 20 && o[3] == 20 && o[4] == 12 && o[5] == 12);
    double full[3] = {1, 2, 3};
    ks_mt_locf(full, 3);
    CHECK(full[0] == 1 && full[1] == 2 && full[2] == 3);
}

static void test_relapse(void)
{
    double th[] = {0, 10, 20, 30, 40, 50, 60};
    /* baseline 30; threshold 0.5 x 30 = 15; visits from index 2: 10, 16, 12, 16, 17, 20 ->
     * the run of two begins at index 4 (t = 40). */
    double o1[] = {30, 10, 16, 12, 16, 17, 20};
    int e;
    CHECK_CLOSE(ks_mt_relapse_time(o1, th, 7, 2, 30, 0.5, 2, &e), 40.0, 0, 0);
    CHECK(e == 1);
    /* never two in a row: censored at the last visit */
    double o2[] = {30, 10, 16, 12, 16, 12, 16};
    CHECK_CLOSE(ks_mt_relapse_time(o2, th, 7, 2, 30, 0.5, 2, &e), 60.0, 0, 0);
    CHECK(e == 0);
    /* exactly at the threshold is not a relapse (> 50% of baseline) */
    double o3[] = {30, 10, 15, 15, 15, 15, 15};
    ks_mt_relapse_time(o3, th, 7, 1, 30, 0.5, 1, &e);
    CHECK(e == 0);
    /* one visit suffices with consecutive = 1 */
    CHECK_CLOSE(ks_mt_relapse_time(o1, th, 7, 1, 30, 0.5, 1, &e), 20.0, 0, 0);
    CHECK(e == 1);
}

static const char *table_csv =
    "id,layer,experiment,quantity,target,low,high,unit,source,confidence\n"
    "CL-02,clinical,x,response rate at 24 h,52,42,64,%,s,retrieved\n"
    "CL-15,clinical,x,remission,52.5 vs 31.0,,,%,s,retrieved\n"
    "CL-18,clinical,x,separates,1,1,1,bool,s,retrieved\n";

static const char *trial_json =
    "{\"name\": \"t\", \"seed\": 3, \"n_per_arm\": 4, \"span\": {\"days\": 1},"
    " \"arms\": [{\"name\": \"a\", \"doses\": []}, {\"name\": \"b\", \"doses\": []}],"
    " \"visits\": [{\"day\": 1}]}";

/* Parses an experiment built around `targets` (JSON text of the targets array); returns the
 * status and the message. */
static ks_status parse_with(const ks_target_table *tab, const char *targets, char *msg,
                            size_t msize)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"name\": \"x\", \"description\": \"d\", \"source\": \"s\", \"trials\": "
             "[{\"name\": \"tr\", \"trial\": %s}], \"targets\": %s}",
             trial_json, targets);
    cJSON *root = cJSON_Parse(buf);
    if (!root)
        return KS_ERR_INTERNAL;
    ks_ctx *ctx = ks_ctx_create();
    CHECK(ks_trial_exp_detect(root));
    ks_trial_exp *x = ks_trial_exp_parse(ctx, root, "exp.json", NULL, tab);
    ks_status st = x ? KS_OK : ks_ctx_status(ctx);
    snprintf(msg, msize, "%s", ks_ctx_message(ctx));
    if (x) {
        CHECK(ks_trial_exp_target_count(x) == 1);
        ks_trial_exp_free(x);
    }
    ks_ctx_free(ctx);
    cJSON_Delete(root);
    return st;
}

static void test_parse(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_target_table tab;
    CHECK(ks_targets_parse(ctx, table_csv, strlen(table_csv), "t.csv", &tab) == KS_OK);
    char msg[512];
    CHECK(parse_with(&tab,
                     "[{\"id\": \"CL-02\", \"measure\": {\"kind\": \"response_rate\", \"trial\": "
                     "\"tr\", \"arm\": \"a\", \"visit\": {\"h\": 24}}}]",
                     msg, sizeof msg) == KS_OK);
    /* a visit the trial does not have */
    CHECK(parse_with(&tab,
                     "[{\"id\": \"CL-02\", \"measure\": {\"kind\": \"response_rate\", \"trial\": "
                     "\"tr\", \"arm\": \"a\", \"visit\": {\"day\": 2}}}]",
                     msg, sizeof msg) == KS_ERR_INPUT);
    CHECK(strstr(msg, "$.targets[0].measure.visit") != NULL);
    /* an unknown arm */
    CHECK(parse_with(&tab,
                     "[{\"id\": \"CL-02\", \"measure\": {\"kind\": \"response_rate\", \"trial\": "
                     "\"tr\", \"arm\": \"c\", \"visit\": {\"day\": 1}}}]",
                     msg, sizeof msg) == KS_ERR_INPUT);
    CHECK(strstr(msg, "no arm 'c'") != NULL);
    /* a compound row needs a pair of rates */
    CHECK(parse_with(&tab,
                     "[{\"id\": \"CL-15\", \"measure\": {\"kind\": \"response_rate\", \"trial\": "
                     "\"tr\", \"arm\": \"a\", \"visit\": {\"day\": 1}}}]",
                     msg, sizeof msg) == KS_ERR_INPUT);
    CHECK(
        parse_with(&tab,
                   "[{\"id\": \"CL-15\", \"measure\": {\"kind\": \"pair\", \"items\": ["
                   "{\"kind\": \"remission_rate\", \"trial\": \"tr\", \"arm\": \"a\", \"visit\": "
                   "{\"day\": 1}}, {\"kind\": \"mean_change\", \"trial\": \"tr\", \"arm\": \"b\", "
                   "\"visit\": {\"day\": 1}}]}}]",
                   msg, sizeof msg) == KS_ERR_INPUT);
    CHECK(strstr(msg, "must be a rate") != NULL);
    /* a bool row needs a statement */
    CHECK(
        parse_with(&tab,
                   "[{\"id\": \"CL-18\", \"measure\": {\"kind\": \"separation_fraction\", "
                   "\"trial\": \"tr\", \"arm\": \"a\", \"reference\": \"b\", \"visit\": {\"day\": "
                   "1}, \"family\": [\"a\"]}}]",
                   msg, sizeof msg) == KS_ERR_INPUT);
    /* unknown keys are rejected */
    CHECK(parse_with(&tab,
                     "[{\"id\": \"CL-02\", \"measure\": {\"kind\": \"response_rate\", \"trial\": "
                     "\"tr\", \"arm\": \"a\", \"visit\": {\"day\": 1}, \"knob\": 2}}]",
                     msg, sizeof msg) == KS_ERR_INPUT);
    CHECK(strstr(msg, "knob") != NULL);
    ks_targets_clear(&tab);
    ks_ctx_free(ctx);
}

/* End to end on a tiny trial with no drug: the measurement equals the trial's own statistics,
 * and the response of a "patient" with no change is 0 by definition when nothing happens --
 * here only the consistency of the pooled rate with the trial getters is checked. */
static void test_run_consistency(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ks_params_create_default(ctx);
    CHECK(params != NULL);
    ks_target_table tab;
    CHECK(ks_targets_parse(ctx, table_csv, strlen(table_csv), "t.csv", &tab) == KS_OK);
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"name\": \"x\", \"description\": \"d\", \"source\": \"s\", \"trials\": "
             "[{\"name\": \"tr\", \"replicates\": 2, \"trial\": %s}], \"targets\": [{\"id\": "
             "\"CL-02\", \"measure\": {\"kind\": \"response_rate\", \"trial\": \"tr\", \"arm\": "
             "\"a\", \"visit\": {\"day\": 1}}}]}",
             trial_json);
    cJSON *root = cJSON_Parse(buf);
    ks_trial_exp *x = ks_trial_exp_parse(ctx, root, "exp.json", NULL, &tab);
    CHECK(x != NULL);
    if (x && params) {
        ks_trial_outcome o;
        CHECK(ks_trial_exp_measure(ctx, params, x, 0, &tab.rows[0], 1, &o) == KS_OK);
        /* two replicates of 4 patients: the denominator is 8 */
        CHECK(strstr(o.detail, "/8 =") != NULL);
        CHECK(o.simulated >= 0.0 && o.simulated <= 100.0);
        /* the same pooled rate from the two replicate trials run directly */
        size_t k = 0;
        for (unsigned long long s = 3; s <= 4; s++) {
            ks_trial *t = ks_trial_parse(ctx, trial_json, strlen(trial_json), "t", NULL);
            ks_trial_options opt;
            ks_trial_options_init(&opt);
            opt.override_seed = 1;
            opt.seed = s;
            opt.threads = 1;
            opt.sim.rtol = 1e-5;
            opt.sim.atol = 1e-9;
            ks_trial_result *r = ks_trial_run(ctx, params, t, &opt);
            CHECK(r != NULL);
            ks_trial_visit_stats vs;
            if (r && ks_trial_result_visit_stats(ctx, r, 0, 1, &vs) == KS_OK)
                k += vs.responders;
            ks_trial_result_free(r);
            ks_trial_free(t);
        }
        CHECK_CLOSE(o.simulated, 100.0 * (double)k / 8.0, 1e-12, 1e-12);
    }
    ks_trial_exp_free(x);
    cJSON_Delete(root);
    ks_targets_clear(&tab);
    ks_params_free(params);
    ks_ctx_free(ctx);
}

int main(void)
{
    test_median();
    test_km();
    test_holm();
    test_relapse();
    test_locf();
    test_parse();
    test_run_consistency();
    return ks_test_finish("test_measure_trial");
}
