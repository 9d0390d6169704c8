/*
 * test_scenario.c -- the JSON scenario format: dose expansion (devices, repeats, weekdays),
 * output grids, defaults, the dosing_file link, scenario events (expansion, order, span),
 * mechanism covariates and switches, and one precise message per bad input.
 * Expected events are worked out by hand from each input.
 */
#define _POSIX_C_SOURCE 200809L
#include "ks_test_util.h"

#include "core/internal.h"
#include "dose/dose.h"
#include "dose/schedule.h"
#include "io/scenario_build.h"
#include "io/scenario_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ks_scenario *parse(ks_ctx *ctx, const char *json)
{
    ks_ctx_clear(ctx);
    ks_scenario *s = ks_scenario_parse(ctx, json, strlen(json), "t.json", NULL);
    if (!s)
        fprintf(stderr, "unexpected failure: %s\n", ks_ctx_message(ctx));
    return s;
}

/* Parses `json`, expects KS_ERR_INPUT and a message holding every substring in `want`
 * ("|"-separated), and a single line. */
static void expect_error(ks_ctx *ctx, const char *json, const char *want, int line)
{
    ks_ctx_clear(ctx);
    ks_scenario *s = ks_scenario_parse(ctx, json, strlen(json), "bad.json", NULL);
    ks_test_check_input_error(ctx, s == NULL, "bad.json", want, line);
    ks_scenario_free(s);
}
#define EXPECT_ERROR(ctx, json, want) expect_error(ctx, json, want, __LINE__)

static int times_contain(const ks_subject *sub, double t)
{
    for (size_t i = 0; i < sub->n_times; i++)
        if (fabs(sub->times_h[i] - t) < 1e-9)
            return 1;
    return 0;
}

static int times_sorted_unique(const ks_subject *sub)
{
    for (size_t i = 1; i < sub->n_times; i++)
        if (!(sub->times_h[i] > sub->times_h[i - 1]))
            return 0;
    return 1;
}

static void test_names(void)
{
    ks_drug d;
    ks_route r;
    CHECK(ks_drug_from_name("esketamine", &d) == 0 && d == KS_DRUG_ESKETAMINE);
    CHECK(ks_drug_from_name("Ketamine", &d) == -1);
    CHECK(ks_route_from_name("intranasal", &r) == 0 && r == KS_ROUTE_INTRANASAL);
    CHECK(ks_route_from_name("nasal", &r) == -1);
    for (int i = 0; i < (int)KS_DRUG_COUNT; i++) {
        CHECK(ks_drug_from_name(ks_drug_name((ks_drug)i), &d) == 0 && (int)d == i);
    }
    for (int i = 0; i < (int)KS_ROUTE_COUNT; i++) {
        CHECK(ks_route_from_name(ks_route_name((ks_route)i), &r) == 0 && (int)r == i);
    }
    /* The table of the brief: ketamine forms by every route; SSRIs, naltrexone, rapamycin
     * orally; midazolam IV or orally. */
    int n_ket = 0, n_esc = 0, n_mid = 0;
    for (int i = 0; i < (int)KS_ROUTE_COUNT; i++) {
        n_ket += ks_drug_route_supported(KS_DRUG_ARKETAMINE, (ks_route)i);
        n_esc += ks_drug_route_supported(KS_DRUG_ESCITALOPRAM, (ks_route)i);
        n_mid += ks_drug_route_supported(KS_DRUG_MIDAZOLAM, (ks_route)i);
    }
    CHECK(n_ket == 6 && n_esc == 1 && n_mid == 3);
    CHECK(ks_drug_route_supported(KS_DRUG_RAPAMYCIN, KS_ROUTE_ORAL));
    CHECK(!ks_drug_route_supported(KS_DRUG_NALTREXONE, KS_ROUTE_IV_BOLUS));
    CHECK(!ks_drug_route_supported(KS_DRUG_MIDAZOLAM, KS_ROUTE_INTRANASAL));
}

static void test_sort(void)
{
    /* Stable: equal times keep their order (amount records the original position). */
    ks_dose d[100];
    memset(d, 0, sizeof d);
    for (int i = 0; i < 100; i++) {
        d[i].t_h = (double)((i * 37) % 10);
        d[i].amount_mg = (double)i;
    }
    ks_doses_sort(d, 100);
    int ok = 1;
    for (int i = 1; i < 100; i++) {
        if (d[i].t_h < d[i - 1].t_h)
            ok = 0;
        if (d[i].t_h == d[i - 1].t_h && d[i].amount_mg < d[i - 1].amount_mg)
            ok = 0;
    }
    CHECK(ok);
}

static void test_default(ks_ctx *ctx)
{
    ks_scenario *s = ks_scenario_create_default(ctx);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(strcmp(ks_scenario_name(s), "default") == 0);
    CHECK(ks_scenario_subject_count(s) == 1);
    /* The default story: six racemic infusions Mon/Wed/Fri over two weeks, therapy the day after
     * each, weekly visits, 28 days, output every 10 min, a treatment-resistant patient. */
    CHECK_CLOSE(s->t_end_h, 28.0 * 24.0, 0, 1e-12);
    CHECK(s->mechanism == 1);
    const ks_subject *sub = &s->subjects[0];
    CHECK(sub->n_doses == 6);
    const double days[6] = {0, 2, 4, 7, 9, 11};
    for (size_t i = 0; i < sub->n_doses && i < 6; i++) {
        CHECK(sub->doses[i].drug == KS_DRUG_KETAMINE &&
              sub->doses[i].route == KS_ROUTE_IV_INFUSION);
        CHECK_CLOSE(sub->doses[i].amount_mg, 0.5 * 70.0, 0, 1e-12); /* 0.5 mg/kg x 70 kg */
        CHECK_CLOSE(sub->doses[i].duration_h, 40.0 / 60.0, 0, 1e-12);
        CHECK_CLOSE(fmod(sub->doses[i].t_h, 24.0 * 7.0) / 24.0, fmod(days[i], 7.0), 0, 0.5);
    }
    size_t n_ther = 0, n_visit = 0;
    for (size_t i = 0; i < sub->n_events; i++) {
        n_ther += sub->events[i].kind == KS_EV_THERAPY;
        n_visit += sub->events[i].kind == KS_EV_VISIT;
        CHECK(i == 0 || sub->events[i].t_h >= sub->events[i - 1].t_h);
    }
    CHECK(n_ther == 6 && n_visit >= 4);
    /* Every event lies inside the span (docs/SCENARIO.md: events at or before its end). */
    for (size_t i = 0; i < sub->n_events; i++)
        CHECK(sub->events[i].t_h >= 0.0 && sub->events[i].t_h <= s->t_end_h);
    /* One patient who knows the treatment; the typical (noise-free) course, seed 1. */
    CHECK(s->open_label == 1 && s->noise == 0 && s->seed == 1);
    CHECK(sub->has_cov && sub->cov.n_failed_trials >= 2 && sub->cov.severity_madrs >= 30.0);
    CHECK_CLOSE(sub->patient.weight_kg, 70.0, 0, 0);
    CHECK_CLOSE(sub->patient.age_y, 40.0, 0, 0);
    CHECK(sub->patient.sex == KS_SEX_MALE);
    /* 28 days every 10 min: 28 x 24 x 6 + 1 points; infusion starts and ends lie on it. */
    CHECK(sub->n_times == 28 * 24 * 6 + 1);
    CHECK(sub->n_times > 0 && sub->times_h[0] == 0.0 &&
          sub->times_h[sub->n_times - 1] == 28.0 * 24.0);
    CHECK(times_sorted_unique(sub));
    CHECK(times_contain(sub, 24.0) && sub->times_h[144] == 24.0); /* exact whole hours */
    CHECK(s->outputs == (KS_OUT_PLASMA | KS_OUT_EFFECT_SITE));
    ks_scenario_free(s);
    ks_scenario_free(NULL);
}

static void test_grid(ks_ctx *ctx)
{
    ks_dose d[2];
    memset(d, 0, sizeof d);
    d[0].t_h = 0.3;
    d[0].route = KS_ROUTE_IV_INFUSION;
    d[0].duration_h = 0.2; /* ends at 0.5, on the grid */
    d[0].amount_mg = 1;
    d[1].t_h = 5.0; /* after t_end: not an output */
    d[1].amount_mg = 1;
    double *t = NULL;
    size_t n = 0;
    CHECK(ks_output_grid(ctx, 1.2, 0.25, d, 2, &t, &n) == KS_OK);
    /* grid 0 .25 .5 .75 1, end 1.2, dose 0.3; infusion end 0.5 merges. */
    double want[] = {0, 0.25, 0.3, 0.5, 0.75, 1.0, 1.2};
    CHECK(n == 7);
    for (size_t i = 0; i < n && i < 7; i++)
        CHECK_CLOSE(t[i], want[i], 0, 1e-12);
    free(t);
}

static void test_doses(ks_ctx *ctx)
{
    /* Intranasal esketamine 84 mg = three 28 mg devices 5 min apart, twice weekly (Mon, Thu)
     * for 2 weeks at 08:00, scenario starting on a Monday. */
    ks_scenario *s = parse(ctx, "{\"name\": \"induction\", \"patient\": {\"weight_kg\": 80},"
                                "\"doses\": [{\"drug\": \"esketamine\", \"route\": "
                                "\"intranasal\", \"devices\": 3, \"at_time\": \"08:00\","
                                "\"repeat\": {\"weekdays\": [\"mon\", \"thu\"], \"weeks\": 2}}],"
                                "\"span\": {\"days\": 14}}");
    CHECK(s != NULL);
    if (s) {
        const ks_subject *sub = &s->subjects[0];
        CHECK(strcmp(ks_scenario_name(s), "induction") == 0);
        CHECK(sub->n_doses == 12);
        /* Sessions on days 0, 3, 7, 10 at 8 h. */
        double day[4] = {0, 3, 7, 10};
        int ok = sub->n_doses == 12;
        for (int k = 0; k < 4 && ok; k++) {
            for (int dev = 0; dev < 3; dev++) {
                const ks_dose *d = &sub->doses[3 * k + dev];
                ok &= fabs(d->t_h - (24.0 * day[k] + 8.0 + dev * 5.0 / 60.0)) < 1e-12;
                ok &= d->device == dev + 1 && d->amount_mg == 28.0;
                ok &= d->drug == KS_DRUG_ESKETAMINE && d->route == KS_ROUTE_INTRANASAL;
            }
        }
        CHECK(ok);
        CHECK_CLOSE(s->t_end_h, 336.0, 0, 0);
        CHECK(times_contain(sub, 8.0 + 10.0 / 60.0)); /* third device time is an output */
        CHECK(times_sorted_unique(sub));
        ks_scenario_free(s);
    }

    /* Day 0 is a Wednesday; the first day considered is day 2 (Friday): Mondays fall on days
     * 5 and 12, Thursdays on 8 and 15 (day 1, a Thursday, is before the start). */
    s = parse(ctx, "{\"start_weekday\": \"wed\", \"doses\": [{\"drug\": \"ketamine\", "
                   "\"route\": \"iv_infusion\", \"mg_per_kg\": 0.5, \"duration_min\": 40,"
                   "\"at_day\": 2, \"at_time\": \"09:30\", \"repeat\": {\"weekdays\": "
                   "[\"thu\", \"mon\"], \"weeks\": 2}}], \"span\": {\"days\": 20}}");
    CHECK(s != NULL);
    if (s) {
        const ks_subject *sub = &s->subjects[0];
        double want[4] = {5, 8, 12, 15};
        CHECK(sub->n_doses == 4);
        for (size_t k = 0; k < sub->n_doses && k < 4; k++) {
            CHECK_CLOSE(sub->doses[k].t_h, 24.0 * want[k] + 9.5, 0, 1e-12);
            CHECK_CLOSE(sub->doses[k].amount_mg, 35.0, 0, 1e-12); /* 0.5 mg/kg x 70 kg */
            CHECK_CLOSE(sub->doses[k].duration_h, 40.0 / 60.0, 0, 1e-12);
            CHECK(sub->doses[k].device == 0);
        }
        CHECK(times_contain(sub, 24.0 * 5 + 9.5 + 40.0 / 60.0)); /* infusion end */
        ks_scenario_free(s);
    }

    /* Interval repeats, rate-defined infusion, mg per kg with the patient's weight, mg split
     * over devices, oral SSRI daily, default span = last event + 7 days. */
    s = parse(ctx, "{\"patient\": {\"weight_kg\": 60, \"age_y\": 33, \"sex\": \"female\","
                   "\"cyp2b6\": \"*1/*6\", \"bdnf\": \"val/met\", \"east_asian\": true},"
                   "\"doses\": ["
                   "{\"drug\": \"escitalopram\", \"route\": \"oral\", \"mg\": 10, \"at_h\": 9,"
                   " \"repeat\": {\"every_days\": 1, \"count\": 3}},"
                   "{\"drug\": \"ketamine\", \"route\": \"iv_infusion\", \"mg_per_kg\": 0.5,"
                   " \"rate_mg_per_h\": 45},"
                   "{\"drug\": \"ketamine\", \"route\": \"intranasal\", \"mg\": 50, \"devices\": 2,"
                   " \"device_interval_min\": 10, \"at_h\": 30},"
                   "{\"drug\": \"midazolam\", \"route\": \"iv_bolus\", \"mg\": 2, \"at_h\": 100,"
                   " \"repeat\": {\"every_h\": 12, \"count\": 2}}]}");
    CHECK(s != NULL);
    if (s) {
        const ks_subject *sub = &s->subjects[0];
        CHECK(sub->patient.weight_kg == 60.0 && sub->patient.age_y == 33.0);
        CHECK(sub->patient.sex == KS_SEX_FEMALE && sub->patient.cyp2b6 == KS_CYP2B6_INTERMEDIATE);
        CHECK(sub->patient.bdnf == KS_BDNF_VALMET && sub->patient.east_asian == 1);
        /* Events in time order: ketamine 0 h (0.5 x 60 = 30 mg at 45 mg/h, so 30/45 h),
         * escitalopram 9 h, nasal devices 30 h and 30 h 10 min (25 mg each), escitalopram
         * 33 h and 57 h, midazolam 100 h and 112 h. */
        CHECK(sub->n_doses == 8);
        if (sub->n_doses == 8) {
            CHECK(sub->doses[0].route == KS_ROUTE_IV_INFUSION);
            CHECK_CLOSE(sub->doses[0].amount_mg, 30.0, 0, 1e-12);
            CHECK_CLOSE(sub->doses[0].duration_h, 30.0 / 45.0, 0, 1e-12);
            CHECK_CLOSE(sub->doses[1].t_h, 9.0, 0, 1e-12);
            CHECK(sub->doses[1].drug == KS_DRUG_ESCITALOPRAM);
            CHECK_CLOSE(sub->doses[2].t_h, 30.0, 0, 1e-12);
            CHECK(sub->doses[2].device == 1 && sub->doses[2].amount_mg == 25.0);
            CHECK_CLOSE(sub->doses[3].t_h, 30.0 + 10.0 / 60.0, 0, 1e-12);
            CHECK(sub->doses[3].device == 2 && sub->doses[3].amount_mg == 25.0);
            CHECK_CLOSE(sub->doses[4].t_h, 33.0, 0, 1e-12);
            CHECK_CLOSE(sub->doses[5].t_h, 57.0, 0, 1e-12);
            CHECK_CLOSE(sub->doses[6].t_h, 100.0, 0, 1e-12);
            CHECK_CLOSE(sub->doses[7].t_h, 112.0, 0, 1e-12);
        }
        CHECK_CLOSE(s->t_end_h, 112.0 + 168.0, 0, 1e-12);
        ks_scenario_free(s);
    }

    /* Output options: a 30-min grid over 2 h plus explicit times; empty doses allowed. */
    s = parse(ctx, "{\"doses\": [], \"span\": {\"hours\": 2}, \"output\": {\"step_min\": 30,"
                   "\"times_h\": [0.1, 1.0, 2], \"amounts\": true, \"effect_site\": false,"
                   "\"csv\": \"x.csv\"}}");
    CHECK(s != NULL);
    if (s) {
        const ks_subject *sub = &s->subjects[0];
        double want[] = {0, 0.1, 0.5, 1.0, 1.5, 2.0};
        CHECK(sub->n_times == 6);
        for (size_t i = 0; i < sub->n_times && i < 6; i++)
            CHECK_CLOSE(sub->times_h[i], want[i], 0, 1e-12);
        CHECK(s->outputs == (KS_OUT_PLASMA | KS_OUT_AMOUNTS));
        CHECK(strcmp(s->output_csv, "x.csv") == 0);
        CHECK(sub->n_doses == 0);
        ks_scenario_free(s);
    }
}

static void test_errors(ks_ctx *ctx)
{
    /* Syntax: line and column of the error position. */
    EXPECT_ERROR(ctx, "{\n  \"name\": ,\n}", "line 2, column 11|malformed JSON|got \",");
    EXPECT_ERROR(ctx, "", "empty file");
    EXPECT_ERROR(ctx, "{\"doses\": []} x", "line 1, column 15|unexpected text|got \"x\"");
    EXPECT_ERROR(ctx, "[1]", "$: expected an object|got an array");
    /* Keys. */
    EXPECT_ERROR(ctx, "{\"doses\": [], \"colour\": 1}", "$: unknown key \"colour\"|got \"colour\"");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"wieght_kg\": 70}}",
                 "$.patient: unknown key \"wieght_kg\"|weight_kg");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"span\": {\"days\": 1}, \"span\": {\"days\": 2}}",
                 "$.span: duplicate key");
    EXPECT_ERROR(ctx, "{}", "$.doses: missing");
    /* Types and ranges. */
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"weight_kg\": \"70\"}}",
                 "$.patient.weight_kg: expected a number|got \"70\"");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"weight_kg\": 0}}",
                 "$.patient.weight_kg: must be >= 20|got 0)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"weight_kg\": -70}}",
                 "$.patient.weight_kg|got -70)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"age_y\": 12}}", "$.patient.age_y|got 12)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"sex\": \"m\"}}",
                 "$.patient.sex: expected one of \"male\", \"female\"|got \"m\"");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"east_asian\": 1}}",
                 "$.patient.east_asian: expected true or false|got 1)");
    EXPECT_ERROR(ctx, "{\"doses\": {}}", "$.doses: expected an array|got an object");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": \"NaN\"}]}",
                 "$.doses[0].mg: expected a number|got \"NaN\"");
    EXPECT_ERROR(ctx, "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": -5}]}",
                 "$.doses[0].mg: must be > 0|got -5)");
    EXPECT_ERROR(ctx, "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": 20000}]}",
                 "$.doses[0].mg|10000|got 20000)");
    EXPECT_ERROR(ctx, "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": 1e999}]}",
                 "$.doses[0].mg: expected a finite number|got Infinity)");
    EXPECT_ERROR(ctx, "{\"doses\": [{\"drug\": \"ketamin\", \"route\": \"oral\", \"mg\": 5}]}",
                 "$.doses[0].drug: unknown drug|got \"ketamin\"");
    EXPECT_ERROR(ctx, "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"nasal\", \"mg\": 5}]}",
                 "$.doses[0].route: unknown route|got \"nasal\"");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [{\"drug\": \"escitalopram\", \"route\": \"iv_bolus\", \"mg\": 5}]}",
                 "$.doses[0].route: escitalopram cannot be given|supported routes: oral|got "
                 "\"iv_bolus\"");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"iv_infusion\", \"mg\": 5}]}",
                 "$.doses[0]: an iv_infusion needs duration_min or rate_mg_per_h");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"iv_infusion\", \"mg\": 5, "
                 "\"duration_min\": 40, \"rate_mg_per_h\": 10}]}",
                 "$.doses[0].rate_mg_per_h: give exactly one|got 10)");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": 5, "
                 "\"mg_per_kg\": 1}]}",
                 "$.doses[0].mg_per_kg: give exactly one amount");
    EXPECT_ERROR(ctx, "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\"}]}",
                 "$.doses[0]: missing amount");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": 5, "
                 "\"devices\": 2}]}",
                 "$.doses[0].devices: only for route intranasal|got 2)");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": 5, "
                 "\"at_time\": \"25:00\"}]}",
                 "$.doses[0].at_time: expected a clock time|got \"25:00\"");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": 5, "
                 "\"repeat\": {\"every_h\": 24}}]}",
                 "$.doses[0].repeat.count: missing");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": 5, "
                 "\"repeat\": {\"weekdays\": [\"mon\", \"fun\"], \"weeks\": 2}}]}",
                 "$.doses[0].repeat.weekdays[1]: expected a weekday|got \"fun\"");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": 5, "
                 "\"repeat\": {\"every_h\": 0.001, \"count\": 100000}},"
                 "{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": 5}]}",
                 "$.doses[1]: the scenario expands to more than 100000 dose events");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": 5, "
                 "\"at_h\": 50}], \"span\": {\"days\": 2}}",
                 "$.doses[0].at_h: the dose starts at 50 h|got 50)");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"oral\", \"mg\": 5, "
                 "\"repeat\": {\"every_days\": 1, \"count\": 5}}], \"span\": {\"days\": 2}}",
                 "$.doses[0].repeat: the last administration at 96 h");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"span\": {\"days\": 3000}}", "$.span.days|got 3000)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"span\": {\"hours\": 0}}", "$.span.hours|got 0)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"span\": {\"days\": 1}, \"output\": {\"step_min\": 0.001}}",
                 "$.output.step_min|got 0.001)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"span\": {\"days\": 1}, \"output\": {\"step_min\": 2000}}",
                 "$.output.step_min: the output step must not exceed|got 2000)");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [], \"span\": {\"days\": 1000}, \"output\": {\"step_min\": 0.5}}",
                 "$.output.step_min: gives|limit of 1000000|got 0.5)");
    EXPECT_ERROR(ctx,
                 "{\"doses\": [], \"span\": {\"days\": 1}, \"output\": {\"times_h\": [1, 30]}}",
                 "$.output.times_h[1]: the time is after the end|got 30)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"output\": {\"plasma\": false, \"effect_site\": false}}",
                 "$.output: at least one of plasma");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"output\": {\"csv\": \"../x.csv\"}}",
                 "$.output.csv: expected a plain file name|got \"../x.csv\"");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"dosing_file\": \"x.csv\"}",
                 "$.dosing_file: give either doses or dosing_file");
    EXPECT_ERROR(ctx, "{\"dosing_file\": \"/nonexistent/dir/x.csv\"}",
                 "$.dosing_file: cannot open dosing file /nonexistent/dir/x.csv");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"name\": \"a\\nb\"}", "$.name: control characters");
}

/* Events: each type, at_h / at_day + at_time, interval and weekday repeats, durations in h and
 * days, default magnitude 1; expanded and sorted by time, ties in file order; event times and
 * interval ends become output times. Times worked out by hand from the input. */
static void test_events(ks_ctx *ctx)
{
    ks_scenario *s = parse(
        ctx, "{\"start_weekday\": \"wed\", \"doses\": [], \"span\": {\"days\": 21}, \"events\": ["
             "{\"type\": \"therapy\", \"at_day\": 1, \"at_time\": \"10:00\", \"every_days\": 2,"
             " \"count\": 3, \"magnitude\": 0.5},"
             "{\"type\": \"visit\", \"at_h\": 0},"
             "{\"type\": \"stress\", \"at_day\": 2, \"duration_days\": 3, \"magnitude\": 2},"
             "{\"type\": \"mtor_block\", \"at_h\": 82, \"duration_h\": 6, \"magnitude\": 0.8},"
             "{\"type\": \"visit\", \"at_day\": 2, \"at_time\": \"08:00\","
             " \"weekdays\": [\"mon\", \"thu\"], \"weeks\": 2},"
             "{\"type\": \"spine_ablation\", \"at_h\": 200, \"magnitude\": 0.25},"
             "{\"type\": \"anti_bdnf\", \"at_h\": 1.5},"
             "{\"type\": \"ampa_block\", \"at_h\": 504, \"magnitude\": 0}]}");
    CHECK(s != NULL);
    if (!s)
        return;
    const ks_subject *sub = &s->subjects[0];
    /* therapy 34, 82, 130 h; visit 0; stress 48 h for 72 h; mTOR block 82 h for 6 h; visits on
     * the Mondays and Thursdays of the 14 days from day 2 (a Friday; day 0 is a Wednesday):
     * days 5, 8, 12, 15 at 08:00 = 128, 200, 296, 368 h; ablation 200 h; anti-BDNF 1.5 h;
     * AMPA block at the end of the span, 504 h. Ties (82 h, 200 h) keep the file order. */
    static const struct {
        double t, dur, mag;
        ks_event_kind kind;
    } want[] = {{0, 0, 1, KS_EV_VISIT},       {1.5, 0, 1, KS_EV_ANTI_BDNF},
                {34, 0, 0.5, KS_EV_THERAPY},  {48, 72, 2, KS_EV_STRESS},
                {82, 0, 0.5, KS_EV_THERAPY},  {82, 6, 0.8, KS_EV_MTOR_BLOCK},
                {128, 0, 1, KS_EV_VISIT},     {130, 0, 0.5, KS_EV_THERAPY},
                {200, 0, 1, KS_EV_VISIT},     {200, 0, 0.25, KS_EV_SPINE_ABLATION},
                {296, 0, 1, KS_EV_VISIT},     {368, 0, 1, KS_EV_VISIT},
                {504, 0, 0, KS_EV_AMPA_BLOCK}};
    const size_t nw = sizeof want / sizeof want[0];
    CHECK(sub->n_events == nw);
    for (size_t i = 0; i < nw && i < sub->n_events; i++) {
        const ks_event *e = &sub->events[i];
        int ok = fabs(e->t_h - want[i].t) < 1e-12 && e->duration_h == want[i].dur &&
                 e->magnitude == want[i].mag && e->kind == want[i].kind;
        if (!ok)
            fprintf(stderr, "event %zu: got %s at %g h (dur %g, mag %g)\n", i,
                    ks_event_name(e->kind), e->t_h, e->duration_h, e->magnitude);
        CHECK(ok);
    }
    CHECK(sub->n_doses == 0 && !sub->has_cov);
    CHECK(times_sorted_unique(sub));
    CHECK(times_contain(sub, 1.5) && times_contain(sub, 34.0) && times_contain(sub, 120.0) &&
          times_contain(sub, 88.0) && times_contain(sub, 504.0));
    ks_scenario_free(s);

    /* Without span: 7 days past the end of the last event (stress from day 10 for 21 days ends
     * at 744 h), here later than any dose. */
    s = parse(ctx, "{\"doses\": [{\"drug\": \"ketamine\", \"route\": \"iv_bolus\", \"mg\": 10}],"
                   "\"events\": [{\"type\": \"stress\", \"at_day\": 10, \"duration_days\": 21}]}");
    CHECK(s != NULL);
    if (s) {
        CHECK_CLOSE(s->t_end_h, 744.0 + 168.0, 0, 1e-12);
        CHECK(s->subjects[0].n_events == 1 && s->subjects[0].events[0].magnitude == 1.0);
        ks_scenario_free(s);
    }
    /* A point event may sit at the end of the span; interval event durations may run past
     * it (like an infusion). */
    s = parse(ctx, "{\"doses\": [], \"span\": {\"hours\": 10}, \"events\": ["
                   "{\"type\": \"visit\", \"at_h\": 10},"
                   "{\"type\": \"mtor_block\", \"at_h\": 9, \"duration_h\": 24}]}");
    CHECK(s != NULL && s->subjects[0].n_events == 2);
    ks_scenario_free(s);
}

/* Mechanism covariates of the patient and the top-level switches. */
static void test_mechanism_keys(ks_ctx *ctx)
{
    ks_pd_covariates typ;
    ks_pd_covariates_init(&typ);
    ks_scenario *s = parse(ctx, "{\"doses\": [], \"patient\": {\"weight_kg\": 60,"
                                "\"baseline_madrs\": 31.5, \"failed_trials\": 4,"
                                "\"stress_load\": 1.25, \"episode_years\": 6}}");
    CHECK(s != NULL);
    if (s) {
        const ks_subject *sub = &s->subjects[0];
        CHECK(sub->has_cov && sub->cov.severity_madrs == 31.5 && sub->cov.n_failed_trials == 4 &&
              sub->cov.stress_load == 1.25 && sub->cov.episode_years == 6.0);
        /* Fields the format does not set keep ks_pd_covariates_init's values. */
        CHECK(sub->cov.start_healthy == typ.start_healthy &&
              sub->cov.ssri_adaptation_init == typ.ssri_adaptation_init &&
              sub->cov.eta[KS_PD_ETA_T0] == 0.0);
        CHECK(sub->patient.weight_kg == 60.0);
        /* Defaults of the switches (docs/SCENARIO.md, "Top level"). */
        CHECK(s->mechanism == 1 && s->open_label == 1 && s->noise == 0 && s->seed == 1);
        ks_scenario_free(s);
    }
    /* One field given: the others are the typical patient's. */
    s = parse(ctx, "{\"doses\": [], \"patient\": {\"failed_trials\": 0}}");
    CHECK(s != NULL);
    if (s) {
        const ks_subject *sub = &s->subjects[0];
        CHECK(sub->has_cov && sub->cov.n_failed_trials == 0 &&
              sub->cov.severity_madrs == typ.severity_madrs &&
              sub->cov.stress_load == typ.stress_load &&
              sub->cov.episode_years == typ.episode_years);
        ks_scenario_free(s);
    }
    /* Limits are inclusive: 0 and 60 MADRS, 10 trials, stress 5, 80 years. */
    s = parse(ctx, "{\"doses\": [], \"patient\": {\"baseline_madrs\": 60, \"failed_trials\": 10,"
                   "\"stress_load\": 5, \"episode_years\": 80}}");
    CHECK(s != NULL);
    ks_scenario_free(s);
    s = parse(ctx, "{\"doses\": [], \"patient\": {\"baseline_madrs\": 0, \"stress_load\": 0,"
                   "\"episode_years\": 0}}");
    CHECK(s != NULL);
    ks_scenario_free(s);
    /* No mechanism field: the typical patient (has_cov 0). */
    s = parse(ctx, "{\"doses\": [], \"patient\": {\"age_y\": 30}}");
    CHECK(s != NULL && !s->subjects[0].has_cov);
    ks_scenario_free(s);
    /* Switches given; the largest seed, 2^53, is exact. */
    s = parse(ctx, "{\"doses\": [], \"mechanism\": false, \"open_label\": false, \"noise\": true,"
                   "\"seed\": 9007199254740992}");
    CHECK(s != NULL);
    if (s) {
        CHECK(s->mechanism == 0 && s->open_label == 0 && s->noise == 1);
        CHECK(s->seed == (uint64_t)1 << 53);
        ks_scenario_free(s);
    }
    s = parse(ctx, "{\"doses\": [], \"seed\": 0, \"open_label\": true}");
    CHECK(s != NULL && s->seed == 0 && s->open_label == 1);
    ks_scenario_free(s);
}

/* Saline, the placebo vehicle, by every route (a placebo session). */
static void test_saline(ks_ctx *ctx)
{
    ks_scenario *s = parse(
        ctx, "{\"doses\": ["
             "{\"drug\": \"saline\", \"route\": \"iv_infusion\", \"mg_per_kg\": 0.5,"
             " \"duration_min\": 40},"
             "{\"drug\": \"saline\", \"route\": \"intranasal\", \"devices\": 2, \"at_h\": 24},"
             "{\"drug\": \"saline\", \"route\": \"oral\", \"mg\": 1, \"at_h\": 48},"
             "{\"drug\": \"saline\", \"route\": \"iv_bolus\", \"mg\": 1, \"at_h\": 49},"
             "{\"drug\": \"saline\", \"route\": \"im\", \"mg\": 1, \"at_h\": 50},"
             "{\"drug\": \"saline\", \"route\": \"sublingual\", \"mg\": 1, \"at_h\": 51}]}");
    CHECK(s != NULL);
    if (s) {
        const ks_subject *sub = &s->subjects[0];
        CHECK(sub->n_doses == 7); /* the nasal session is two devices */
        int all = 1;
        for (size_t i = 0; i < sub->n_doses; i++)
            all &= sub->doses[i].drug == KS_DRUG_SALINE;
        CHECK(all);
        CHECK(sub->n_doses == 7 && sub->doses[0].route == KS_ROUTE_IV_INFUSION &&
              fabs(sub->doses[0].duration_h - 40.0 / 60.0) < 1e-12);
        ks_scenario_free(s);
    }
}

static void test_event_errors(ks_ctx *ctx)
{
#define EV(x) "{\"doses\": [], \"span\": {\"days\": 7}, \"events\": [" x "]}"
    EXPECT_ERROR(ctx, EV("{\"type\": \"nbqx\", \"at_h\": 1}"),
                 "$.events[0].type: unknown event type|ampa_block|got \"nbqx\"");
    EXPECT_ERROR(ctx, EV("{\"at_h\": 1}"), "$.events[0].type: missing");
    EXPECT_ERROR(ctx, EV("{\"type\": 3}"), "$.events[0].type: expected a string|got 3)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"visit\", \"time_h\": 1}"),
                 "$.events[0]: unknown key \"time_h\"|got \"time_h\"");
    EXPECT_ERROR(ctx, EV("{\"type\": \"stress\", \"at_h\": 1}"),
                 "$.events[0].duration_h: missing|stress|got neither");
    EXPECT_ERROR(ctx, EV("{\"type\": \"mtor_block\", \"at_h\": 1, \"duration_h\": 0}"),
                 "$.events[0].duration_h: must be > 0|got 0)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"stress\", \"duration_h\": 1, \"duration_days\": 1}"),
                 "$.events[0].duration_days: give exactly one|got 1)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"therapy\", \"at_h\": 1, \"duration_h\": 2}"),
                 "$.events[0].duration_h: only for the interval events|therapy|got 2)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"visit\", \"duration_days\": 2}"),
                 "$.events[0].duration_days: only for the interval events|got 2)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"ampa_block\", \"magnitude\": 1.5}"),
                 "$.events[0].magnitude: must be >= 0 and <= 1|fraction|got 1.5)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"spine_ablation\", \"magnitude\": -0.1}"),
                 "$.events[0].magnitude: must be >= 0 and <= 1|got -0.1)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"therapy\", \"magnitude\": -1}"),
                 "$.events[0].magnitude: must be >= 0 and <= 10|got -1)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"stress\", \"duration_h\": 1, \"magnitude\": 11}"),
                 "$.events[0].magnitude: must be >= 0 and <= 10|got 11)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"visit\", \"magnitude\": 1}"),
                 "$.events[0].magnitude: a visit has no magnitude|got 1)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"visit\", \"at_day\": 8}"),
                 "$.events[0].at_day: the visit event at 192 h is after the end of the span "
                 "(168 h)|got 192)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"stress\", \"at_h\": 168, \"duration_h\": 1}"),
                 "$.events[0].at_h: the stress event at 168 h is not before the end|got 168)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"therapy\", \"every_days\": 2, \"count\": 5}"),
                 "$.events[0].count: the last repeat at 192 h is after the end|got 192)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"therapy\", \"weekdays\": [\"mon\"], \"weeks\": 3}"),
                 "$.events[0].weeks: the last repeat at 336 h|got 336)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"therapy\", \"count\": 2}"), "$.events[0].every_h: missing");
    EXPECT_ERROR(ctx, EV("{\"type\": \"therapy\", \"at_h\": 1, \"at_day\": 1}"),
                 "$.events[0].at_day: give either at_h or at_day/at_time|got 1)");
    EXPECT_ERROR(ctx, EV("{\"type\": \"therapy\", \"at_time\": \"7pm\"}"),
                 "$.events[0].at_time: expected a clock time|got \"7pm\"");
    EXPECT_ERROR(ctx, EV("{\"type\": \"therapy\", \"weekdays\": [\"mon\", \"mon\"], \"weeks\": 1}"),
                 "$.events[0].weekdays[1]: weekday listed twice|got \"mon\"");
    EXPECT_ERROR(ctx,
                 EV("{\"type\": \"visit\", \"every_h\": 0.001, \"count\": 100000},"
                    "{\"type\": \"visit\"}"),
                 "$.events[1]: the scenario expands to more than 100000 events");
#undef EV
    EXPECT_ERROR(ctx, "{\"doses\": [], \"events\": {}}",
                 "$.events: expected an array|got an object");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"events\": [3]}", "$.events[0]: expected an object|got 3)");
    /* Patient mechanism covariates. */
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"failed_trials\": 1.5}}",
                 "$.patient.failed_trials: expected a whole number from 0 to 10|got 1.5)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"failed_trials\": 11}}",
                 "$.patient.failed_trials: must be a whole number from 0 to 10|got 11)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"baseline_madrs\": 61}}",
                 "$.patient.baseline_madrs: must be >= 0 and <= 60|got 61)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"baseline_madrs\": \"34\"}}",
                 "$.patient.baseline_madrs: expected a number|got \"34\"");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"stress_load\": -1}}",
                 "$.patient.stress_load: must be >= 0 and <= 5|got -1)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"patient\": {\"episode_years\": 81}}",
                 "$.patient.episode_years: must be >= 0 and <= 80|got 81)");
    /* Switches. */
    EXPECT_ERROR(ctx, "{\"doses\": [], \"mechanism\": \"yes\"}",
                 "$.mechanism: expected true or false|got \"yes\"");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"open_label\": 1}", "$.open_label: expected true or false");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"noise\": null}",
                 "$.noise: expected true or false|got null");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"seed\": -1}", "$.seed: expected a whole number|got -1)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"seed\": 1.5}", "$.seed: expected a whole number|got 1.5)");
    EXPECT_ERROR(ctx, "{\"doses\": [], \"seed\": 1e300}", "$.seed: expected a whole number");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

static void test_files(ks_ctx *ctx)
{
    char dir[] = "/tmp/ks_test_scen_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char json[256], csv[256];
    snprintf(json, sizeof json, "%s/s.json", dir);
    snprintf(csv, sizeof csv, "%s/d.csv", dir);
    /* Two IDs; the scenario's patient supplies the covariates the file lacks (age); the
     * file's WT overrides. Output: the 60-min grid over 2 days, dose times, the file's
     * observation times. */
    write_file(csv, "ID,TIME,EVID,AMT,CMT,RATE,WT\n"
                    "1,0,1,35,1,52.5,70\n"
                    "1,0.75,0,.,.,.,70\n"
                    "2,1,1,28,13,0,90\n");
    write_file(json, "{\"patient\": {\"age_y\": 65, \"failed_trials\": 2}, "
                     "\"dosing_file\": \"d.csv\", \"span\": {\"days\": 2}, "
                     "\"output\": {\"step_min\": 60},"
                     "\"events\": [{\"type\": \"therapy\", \"at_h\": 30.5}]}");
    ks_ctx_clear(ctx);
    ks_scenario *s = ks_scenario_load(ctx, json);
    if (!s)
        fprintf(stderr, "%s\n", ks_ctx_message(ctx));
    CHECK(s != NULL);
    if (s) {
        CHECK(ks_scenario_subject_count(s) == 2);
        CHECK(strcmp(ks_scenario_name(s), "s") == 0);
        const ks_subject *a = &s->subjects[0], *b = &s->subjects[1];
        CHECK(a->patient.id == 1 && a->patient.weight_kg == 70.0 && a->patient.age_y == 65.0);
        CHECK(b->patient.id == 2 && b->patient.weight_kg == 90.0 && b->patient.age_y == 65.0);
        CHECK(a->n_doses == 1 && a->doses[0].route == KS_ROUTE_IV_INFUSION);
        CHECK(a->n_doses == 1 && fabs(a->doses[0].duration_h - 35.0 / 52.5) < 1e-12);
        CHECK(times_contain(a, 0.75) && times_contain(a, 35.0 / 52.5) && times_contain(a, 48.0));
        CHECK(a->n_times == 49 + 3); /* 0..48 h hourly, 0.75 h, infusion end 2/3 h, 30.5 h */
        CHECK(b->n_doses == 1 && b->doses[0].drug == KS_DRUG_ESKETAMINE && b->doses[0].device == 1);
        CHECK(b->n_times == 49 + 1); /* and the therapy session at 30.5 h */
        /* The scenario's events and mechanism covariates apply to every subject; a dosing
         * file's subjects are blinded unless open_label says otherwise. */
        CHECK(a->n_events == 1 && b->n_events == 1 && b->events[0].kind == KS_EV_THERAPY &&
              b->events[0].t_h == 30.5);
        CHECK(a->has_cov && b->has_cov && a->cov.n_failed_trials == 2 &&
              b->cov.n_failed_trials == 2);
        CHECK(s->open_label == 0 && s->mechanism == 1);
        ks_scenario_free(s);
    }
    /* A file error names the CSV and the line; a missing file names the JSON field. */
    write_file(csv, "ID,TIME,EVID,AMT,CMT\n1,0,1,abc,1\n");
    ks_ctx_clear(ctx);
    s = ks_scenario_load(ctx, json);
    CHECK(s == NULL && strstr(ks_ctx_message(ctx), "d.csv: line 2, column AMT") != NULL);
    remove(csv);
    ks_ctx_clear(ctx);
    s = ks_scenario_load(ctx, json);
    CHECK(s == NULL && strstr(ks_ctx_message(ctx), "s.json: $.dosing_file: cannot open") != NULL);
    /* Missing scenario file: the path and the system's reason. */
    remove(json);
    ks_ctx_clear(ctx);
    s = ks_scenario_load(ctx, json);
    CHECK(s == NULL && strstr(ks_ctx_message(ctx), json) != NULL &&
          strstr(ks_ctx_message(ctx), "No such file") != NULL);
    rmdir(dir);
}

/* Every example scenario in the repository parses. */
static void test_examples(ks_ctx *ctx)
{
    const char *src = getenv("KS_SRC");
    if (!src)
        return;
    static const char *const names[] = {"ketamine_single_infusion.json",
                                        "esketamine_induction.json",
                                        "ssri_daily.json",
                                        "ketamine_course_weekdays.json",
                                        "nonmem_linked.json",
                                        "ketamine_course_with_integration.json",
                                        "saline_session_blinded.json",
                                        "mtor_block_after_stress.json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/examples/scenarios/%s", src, names[i]);
        ks_ctx_clear(ctx);
        ks_scenario *s = ks_scenario_load(ctx, path);
        if (!s)
            fprintf(stderr, "%s: %s\n", names[i], ks_ctx_message(ctx));
        CHECK(s != NULL);
        ks_scenario_free(s);
    }
}

/* examples/scenarios/ketamine_course_with_integration.json is documented as the default run
 * written as a file: both must give the same subject (doses, events, covariates, output
 * times) and switches. */
static void test_default_as_file(ks_ctx *ctx)
{
    const char *src = getenv("KS_SRC");
    if (!src)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/scenarios/ketamine_course_with_integration.json", src);
    ks_ctx_clear(ctx);
    ks_scenario *f = ks_scenario_load(ctx, path);
    ks_scenario *d = ks_scenario_create_default(ctx);
    CHECK(f != NULL && d != NULL);
    if (f && d) {
        const ks_subject *a = &f->subjects[0], *b = &d->subjects[0];
        CHECK(f->n_subjects == 1 && f->t_end_h == d->t_end_h && f->outputs == d->outputs);
        CHECK(f->mechanism == d->mechanism && f->open_label == d->open_label &&
              f->noise == d->noise && f->seed == d->seed);
        CHECK(a->patient.weight_kg == b->patient.weight_kg &&
              a->patient.age_y == b->patient.age_y && a->patient.sex == b->patient.sex &&
              a->patient.cyp2b6 == b->patient.cyp2b6 && a->patient.bdnf == b->patient.bdnf &&
              a->patient.east_asian == b->patient.east_asian);
        CHECK(a->has_cov && b->has_cov && a->cov.severity_madrs == b->cov.severity_madrs &&
              a->cov.n_failed_trials == b->cov.n_failed_trials &&
              a->cov.stress_load == b->cov.stress_load &&
              a->cov.episode_years == b->cov.episode_years);
        int ok = a->n_doses == b->n_doses;
        for (size_t i = 0; ok && i < a->n_doses; i++)
            ok = a->doses[i].drug == b->doses[i].drug && a->doses[i].route == b->doses[i].route &&
                 fabs(a->doses[i].t_h - b->doses[i].t_h) < 1e-9 &&
                 fabs(a->doses[i].amount_mg - b->doses[i].amount_mg) < 1e-12 &&
                 fabs(a->doses[i].duration_h - b->doses[i].duration_h) < 1e-12;
        CHECK(ok);
        ok = a->n_events == b->n_events;
        for (size_t i = 0; ok && i < a->n_events; i++)
            ok = a->events[i].kind == b->events[i].kind &&
                 fabs(a->events[i].t_h - b->events[i].t_h) < 1e-9 &&
                 a->events[i].magnitude == b->events[i].magnitude &&
                 a->events[i].duration_h == b->events[i].duration_h;
        CHECK(ok);
        ok = a->n_times == b->n_times;
        for (size_t i = 0; ok && i < a->n_times; i++)
            ok = fabs(a->times_h[i] - b->times_h[i]) < 1e-9;
        CHECK(ok);
    }
    ks_scenario_free(f);
    ks_scenario_free(d);
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    test_names();
    test_sort();
    test_default(ctx);
    test_grid(ctx);
    test_doses(ctx);
    test_errors(ctx);
    test_events(ctx);
    test_mechanism_keys(ctx);
    test_saline(ctx);
    test_event_errors(ctx);
    test_files(ctx);
    test_examples(ctx);
    test_default_as_file(ctx);
    ks_ctx_free(ctx);
    return ks_test_finish("test_scenario");
}
