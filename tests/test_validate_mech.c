/*
 * test_validate_mech.c -- the curve measurements of the validation engine (max_value,
 * min_value, mean_value, time_of_max, crossing_time, value_at with vs_arm, references to a
 * named dose or event) and the combinators relative_difference, max_of and compare with a
 * factor, on synthetic piecewise-linear result curves whose answers follow exactly from
 * geometry (linear interpolation is exact on them); and solved doses, checked against the
 * linearity of the PK (a plasma level twice as high needs twice the dose, so twice the AUC).
 */
#define _POSIX_C_SOURCE 200809L

#include "ks_test.h"

#include "core/internal.h"
#include "io/scenario_internal.h"
#include "sim/result_internal.h"
#include "validate/measure.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The test curve: baseline 1 until the dose at t = 1 h, a linear rise to 3 at t = 3 h, a
 * linear fall to 1 at t = 7 h, then 1 until 12 h; sampled every 0.25 h, so every corner is a
 * sample. Excursion e(t) = c(t) - 1: peak 2 at 3 h; e = 2 - (t - 3)/2 on the fall. */
static double tri(double t)
{
    if (t <= 1.0)
        return 1.0;
    if (t <= 3.0)
        return 1.0 + (t - 1.0);
    if (t <= 7.0)
        return 3.0 - 0.5 * (t - 3.0);
    return 1.0;
}

#define NT 49 /* 0, 0.25, ..., 12 h */

/* An arm with one subject, the given dose times (ketamine boluses), one stress event at
 * event_t (< 0: none) and output "x" = f(t) on the 0.25-h grid shifted by `offset`. */
static int make_arm(ks_ctx *ctx, ks_arm *arm, const char *name, const double *dose_t, size_t nd,
                    double event_t, double (*f)(double), double offset)
{
    memset(arm, 0, sizeof *arm);
    arm->solve_drug = -1;
    arm->scale_as = -1;
    arm->name = ks_strdup(ctx, name);
    ks_patient p;
    ks_patient_init(&p);
    ks_dose d[4];
    memset(d, 0, sizeof d);
    for (size_t i = 0; i < nd; i++) {
        d[i].t_h = dose_t[i];
        d[i].amount_mg = 10.0;
        d[i].drug = KS_DRUG_KETAMINE;
        d[i].route = KS_ROUTE_IV_BOLUS;
    }
    double times[NT];
    for (int i = 0; i < NT; i++)
        times[i] = 0.25 * i + (i > 0 && i < NT - 1 ? offset : 0.0);
    arm->scenario = ks_scenario_alloc(ctx, name, "<test>");
    if (!arm->scenario ||
        ks_scenario_add_subject(ctx, arm->scenario, &p, d, nd, times, NT) != KS_OK)
        return -1;
    if (event_t >= 0.0) {
        ks_subject *s = &arm->scenario->subjects[0];
        s->events = ks_calloc(ctx, 1, sizeof *s->events);
        if (!s->events)
            return -1;
        s->events[0].t_h = event_t;
        s->events[0].duration_h = 2.0;
        s->events[0].magnitude = 1.0;
        s->events[0].kind = KS_EV_STRESS;
        s->n_events = 1;
    }
    const char *names[1] = {"x"}, *units[1] = {"x baseline"};
    arm->result = ks_result_alloc(ctx, 1, 1, names, units);
    if (!arm->result || ks_result_set_subject(ctx, arm->result, 0, 1, times, NT) != KS_OK)
        return -1;
    double *v = ks_result_values_mut(arm->result, 0, 0);
    for (int i = 0; i < NT; i++)
        v[i] = f(times[i]);
    return 0;
}

static void free_arm(ks_arm *arm)
{
    free(arm->name);
    ks_scenario_free(arm->scenario);
    ks_result_free(arm->result);
}

static double one(double t)
{
    (void)t;
    return 1.0;
}

static double half_tri(double t)
{
    return 1.0 + 0.5 * (tri(t) - 1.0);
}

/* Parses and evaluates a measurement given as JSON text; NaN on failure. */
static double eval(ks_ctx *ctx, const char *json, const ks_arm *arms, size_t n, ks_dim *dim)
{
    cJSON *j = cJSON_Parse(json);
    if (!j) {
        fprintf(stderr, "bad test JSON: %s\n", json);
        return NAN;
    }
    ks_measure *m = ks_measure_parse(ctx, j, "test", "$", arms, n);
    cJSON_Delete(j);
    if (!m) {
        fprintf(stderr, "parse: %s\n", ctx->message);
        return NAN;
    }
    ks_quantity q;
    char detail[2048] = "";
    ks_status st = ks_measure_eval(ctx, m, arms, &q, detail, sizeof detail);
    ks_measure_free(m);
    if (st != KS_OK) {
        fprintf(stderr, "eval: %s\n", ctx->message);
        return NAN;
    }
    if (dim)
        *dim = q.dim;
    return q.value;
}

static void test_primitives(void)
{
    double t[NT], c[NT];
    for (int i = 0; i < NT; i++) {
        t[i] = 0.25 * i;
        c[i] = tri(t[i]);
    }
    CHECK_CLOSE(ks_curve_value_at(t, c, NT, 2.1), 2.1, 1e-12, 0);
    CHECK_CLOSE(ks_curve_value_at(t, c, NT, 5.0), 2.0, 1e-12, 0);
    double te;
    CHECK_CLOSE(ks_curve_extreme(t, c, NT, 0, 12, 1, &te), 3.0, 1e-12, 0);
    CHECK_CLOSE(te, 3.0, 1e-12, 0);
    /* a window on the fall: its interpolated start is the largest value */
    CHECK_CLOSE(ks_curve_extreme(t, c, NT, 3.6, 4.1, 1, &te), 3.0 - 0.5 * 0.6, 1e-12, 0);
    CHECK_CLOSE(te, 3.6, 1e-12, 0);
    CHECK_CLOSE(ks_curve_extreme(t, c, NT, 3.6, 4.1, -1, &te), 3.0 - 0.5 * 1.1, 1e-12, 0);
    CHECK_CLOSE(te, 4.1, 1e-12, 0);
    CHECK(isnan(ks_curve_extreme(t, c, NT, 13, 14, 1, &te)));
    /* mean over [1, 7]: baseline 1 plus a triangle of base 6 and height 2 (area 6) */
    CHECK_CLOSE(ks_curve_mean(t, c, NT, 1.0, 7.0), 2.0, 1e-12, 0);
    /* a partial window inside the rise: mean of a linear function = value at the middle */
    CHECK_CLOSE(ks_curve_mean(t, c, NT, 1.1, 2.9), 2.0, 1e-12, 0);
    CHECK(isnan(ks_curve_mean(t, c, NT, 5.0, 13.0)));

    double ep, b;
    /* return within 0.1 of baseline: 2 - (t - 3)/2 = 0.1 at t = 6.8 */
    CHECK_CLOSE(ks_curve_crossing(t, c, NT, 1.0, 12.0, 0.1, 0, &ep, &b), 6.8, 1e-12, 0);
    CHECK_CLOSE(ep, 2.0, 1e-12, 0);
    CHECK_CLOSE(b, 1.0, 1e-12, 0);
    /* rise to half of the peak excursion: e = t - 1 = 1 at t = 2 */
    CHECK_CLOSE(ks_curve_crossing(t, c, NT, 1.0, 12.0, 1.0, 1, NULL, NULL), 2.0, 1e-12, 0);
    /* never back within 0.1 when the window ends at 6 h */
    CHECK(isnan(ks_curve_crossing(t, c, NT, 1.0, 6.0, 0.1, 0, NULL, NULL)));
    /* an undershoot through the whole band within one interval: the crossing is at the edge
     * on the side the curve comes from, e = 2 - 3 (t - 1) = 0.5 at t = 1.5 */
    double tu[4] = {0.0, 1.0, 2.0, 3.0}, cu[4] = {0.0, 2.0, -1.0, 0.0};
    CHECK_CLOSE(ks_curve_crossing(tu, cu, 4, 0.0, 3.0, 0.5, 0, &ep, NULL), 1.5, 1e-12, 0);
    CHECK_CLOSE(ep, 2.0, 1e-12, 0);
    /* a negative excursion: c falls to -2; back within 0.5 on the way up, -2 + 3 (t - 1) =
     * -0.5 at t = 1.5 */
    double cn[4] = {0.0, -2.0, 1.0, 1.0};
    CHECK_CLOSE(ks_curve_crossing(tu, cn, 4, 0.0, 3.0, 0.5, 0, &ep, NULL), 1.5, 1e-12, 0);
    CHECK_CLOSE(ep, -2.0, 1e-12, 0);
}

static void test_measurements(ks_ctx *ctx)
{
    ks_arm arms[3];
    double d1[1] = {1.0}, d2[2] = {0.5, 1.0};
    CHECK(make_arm(ctx, &arms[0], "drug", d1, 1, -1.0, tri, 0.0) == 0);
    CHECK(make_arm(ctx, &arms[1], "vehicle", d2, 2, 1.0, one, 0.1) == 0);
    CHECK(make_arm(ctx, &arms[2], "half", d2, 2, 1.0, half_tri, 0.0) == 0);
    ks_dim dim = KS_DIM_CONC;

    CHECK_CLOSE(
        eval(ctx, "{\"kind\":\"max_value\",\"arm\":\"drug\",\"output\":\"x\"}", arms, 3, &dim), 3.0,
        1e-12, 0);
    CHECK(dim == KS_DIM_CONC);
    CHECK_CLOSE(
        eval(ctx, "{\"kind\":\"time_of_max\",\"arm\":\"drug\",\"output\":\"x\"}", arms, 3, &dim),
        2.0, 1e-12, 0); /* 3 h, measured from the dose at 1 h */
    CHECK(dim == KS_DIM_TIME);
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"time_of_min\",\"arm\":\"drug\",\"output\":\"x\","
                     "\"start_h\":1,\"end_h\":3}",
                     arms, 3, NULL),
                1.0, 1e-12, 0); /* smallest over 2-4 h absolute: at its start */
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"mean_value\",\"arm\":\"drug\",\"output\":\"x\","
                     "\"from\":\"time_zero\",\"start_h\":1,\"end_h\":7}",
                     arms, 3, NULL),
                2.0, 1e-12, 0);
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"crossing_time\",\"arm\":\"drug\",\"output\":\"x\","
                     "\"direction\":\"return\",\"relative\":0.1}",
                     arms, 3, NULL),
                5.8, 1e-12, 0); /* 6.8 h absolute, 1 h dose */
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"crossing_time\",\"arm\":\"drug\",\"output\":\"x\","
                     "\"direction\":\"return\",\"fraction_of_peak\":0.5}",
                     arms, 3, NULL),
                4.0, 1e-12, 0); /* e = 1 at 5 h */
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"crossing_time\",\"arm\":\"drug\",\"output\":\"x\","
                     "\"direction\":\"rise\",\"absolute\":0.5}",
                     arms, 3, NULL),
                0.5, 1e-12, 0);

    /* drug minus vehicle: the vehicle is 1 on another time grid, so the difference is the
     * excursion e(t), peak 2 */
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"max_value\",\"arm\":\"drug\",\"output\":\"x\","
                     "\"vs_arm\":\"vehicle\"}",
                     arms, 3, NULL),
                2.0, 1e-12, 0);
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"value_at\",\"arm\":\"drug\",\"output\":\"x\","
                     "\"vs_arm\":\"vehicle\",\"time_h\":4}",
                     arms, 3, NULL),
                1.0, 1e-12, 0); /* e(5 h) = 1 */

    /* fraction (blocked - control) / (unblocked - vehicle) at 2 h after the dose:
     * (half - vehicle) / (drug - vehicle) = 0.5 exactly, with references to dose 2 of "half"
     * (1 h) and the only dose of "drug" (1 h) */
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"ratio\","
                     "\"numerator\":{\"kind\":\"value_at\",\"arm\":\"half\",\"output\":\"x\","
                     "\"vs_arm\":\"vehicle\",\"time_h\":2,\"from\":{\"dose\":2}},"
                     "\"denominator\":{\"kind\":\"value_at\",\"arm\":\"drug\",\"output\":\"x\","
                     "\"vs_arm\":\"vehicle\",\"time_h\":2}}",
                     arms, 3, &dim),
                0.5, 1e-12, 0);
    CHECK(dim == KS_DIM_RATIO);
    /* the same as an effect_fraction; and a miss when the unblocked effect is not a rise */
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"effect_fraction\","
                     "\"blocked\":{\"kind\":\"value_at\",\"arm\":\"half\",\"output\":\"x\","
                     "\"vs_arm\":\"vehicle\",\"time_h\":2,\"from\":{\"dose\":2}},"
                     "\"unblocked\":{\"kind\":\"value_at\",\"arm\":\"drug\",\"output\":\"x\","
                     "\"vs_arm\":\"vehicle\",\"time_h\":2}}",
                     arms, 3, &dim),
                0.5, 1e-12, 0);
    CHECK(dim == KS_DIM_RATIO);
    {
        ks_ctx lc = {KS_OK, ""};
        cJSON *jf = cJSON_Parse(
            "{\"kind\":\"effect_fraction\","
            "\"blocked\":{\"kind\":\"value_at\",\"arm\":\"half\",\"output\":\"x\",\"time_h\":2},"
            "\"unblocked\":{\"kind\":\"value_at\",\"arm\":\"vehicle\",\"output\":\"x\","
            "\"vs_arm\":\"drug\",\"time_h\":2}}");
        ks_measure *mf = ks_measure_parse(&lc, jf, "test", "$", arms, 3);
        ks_quantity qf;
        char df[512] = "";
        CHECK(mf && ks_measure_eval(&lc, mf, arms, &qf, df, sizeof df) == KS_ERR_VALIDATION);
        ks_measure_free(mf);
        cJSON_Delete(jf);
    }
    /* a reference to the end of the stress event of "half" (1 h + 2 h = 3 h): value 2 at
     * +0 h */
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"value_at\",\"arm\":\"half\",\"output\":\"x\",\"time_h\":0,"
                     "\"from\":{\"event\":\"stress\",\"edge\":\"end\"}}",
                     arms, 3, NULL),
                2.0, 1e-12, 0);
    /* the last dose: {"dose": -1} of "half" is at 1 h: value 2 h later = 1 + 0.5 x 2 */
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"value_at\",\"arm\":\"half\",\"output\":\"x\",\"time_h\":2,"
                     "\"from\":{\"dose\":-1}}",
                     arms, 3, NULL),
                2.0, 1e-12, 0);
    /* relative difference (3 - 2) / 2 at the peak */
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"relative_difference\","
                     "\"value\":{\"kind\":\"max_value\",\"arm\":\"drug\",\"output\":\"x\"},"
                     "\"reference\":{\"kind\":\"max_value\",\"arm\":\"half\",\"output\":\"x\"}}",
                     arms, 3, &dim),
                0.5, 1e-12, 0);
    CHECK(dim == KS_DIM_RATIO);
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"max_of\",\"items\":["
                     "{\"kind\":\"max_value\",\"arm\":\"half\",\"output\":\"x\"},"
                     "{\"kind\":\"max_value\",\"arm\":\"drug\",\"output\":\"x\"}]}",
                     arms, 3, NULL),
                3.0, 1e-12, 0);
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"min_of\",\"items\":["
                     "{\"kind\":\"max_value\",\"arm\":\"half\",\"output\":\"x\"},"
                     "{\"kind\":\"max_value\",\"arm\":\"drug\",\"output\":\"x\"}]}",
                     arms, 3, NULL),
                2.0, 1e-12, 0);
    /* compare with a factor: 3 > 1.4 x 2 holds, 3 > 1.6 x 2 does not */
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"compare\",\"op\":\">\",\"factor\":1.4,"
                     "\"left\":{\"kind\":\"max_value\",\"arm\":\"drug\",\"output\":\"x\"},"
                     "\"right\":{\"kind\":\"max_value\",\"arm\":\"half\",\"output\":\"x\"}}",
                     arms, 3, &dim),
                1.0, 0, 0);
    CHECK(dim == KS_DIM_BOOL);
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"compare\",\"op\":\">\",\"factor\":1.6,"
                     "\"left\":{\"kind\":\"max_value\",\"arm\":\"drug\",\"output\":\"x\"},"
                     "\"right\":{\"kind\":\"max_value\",\"arm\":\"half\",\"output\":\"x\"}}",
                     arms, 3, NULL),
                0.0, 0, 0);
    /* curve kinds accept values of either sign (the NCA kinds do not) */
    CHECK_CLOSE(eval(ctx,
                     "{\"kind\":\"min_value\",\"arm\":\"half\",\"output\":\"x\","
                     "\"vs_arm\":\"drug\"}",
                     arms, 3, NULL),
                -1.0, 1e-12, 0); /* half - drug = -e/2, smallest -1 at 3 h */

    /* misses and input errors */
    ks_ctx local = {KS_OK, ""};
    cJSON *j = cJSON_Parse("{\"kind\":\"value_at\",\"arm\":\"drug\",\"output\":\"x\","
                           "\"time_h\":1,\"from\":{\"dose\":3}}");
    ks_measure *m = ks_measure_parse(&local, j, "test", "$", arms, 3);
    CHECK(m != NULL);
    ks_quantity q;
    char detail[256] = "";
    CHECK(m && ks_measure_eval(&local, m, arms, &q, detail, sizeof detail) ==
                   KS_ERR_VALIDATION); /* the arm has one dose */
    ks_measure_free(m);
    cJSON_Delete(j);
    const char *bad[] = {
        "{\"kind\":\"crossing_time\",\"arm\":\"drug\",\"output\":\"x\",\"direction\":\"up\","
        "\"relative\":0.1}",
        "{\"kind\":\"crossing_time\",\"arm\":\"drug\",\"output\":\"x\",\"direction\":\"rise\"}",
        "{\"kind\":\"crossing_time\",\"arm\":\"drug\",\"output\":\"x\",\"direction\":\"rise\","
        "\"relative\":0.1,\"absolute\":1}",
        "{\"kind\":\"mean_value\",\"arm\":\"drug\",\"output\":\"x\",\"start_h\":1}",
        "{\"kind\":\"max_value\",\"arm\":\"drug\",\"output\":\"x\",\"start_h\":2,\"end_h\":1}",
        "{\"kind\":\"max_value\",\"arm\":\"drug\",\"output\":\"x\",\"vs_arm\":\"nobody\"}",
        "{\"kind\":\"value_at\",\"arm\":\"drug\",\"output\":\"x\",\"time_h\":1,"
        "\"from\":{\"event\":\"earthquake\"}}",
        "{\"kind\":\"value_at\",\"arm\":\"drug\",\"output\":\"x\",\"time_h\":1,"
        "\"from\":{\"dose\":0}}",
        "{\"kind\":\"max_of\",\"items\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        local.status = KS_OK;
        cJSON *jb = cJSON_Parse(bad[i]);
        ks_measure *mb = ks_measure_parse(&local, jb, "test", "$", arms, 3);
        CHECK(mb == NULL && local.status == KS_ERR_INPUT);
        ks_measure_free(mb);
        cJSON_Delete(jb);
    }
    for (int i = 0; i < 3; i++)
        free_arm(&arms[i]);
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* Two 24-h infusions solved for 50 and 100 ng/mL of total plasma ketamine at 24 h: by the
 * linearity of the PK the second needs exactly twice the dose, so its AUC0-24 is exactly twice
 * the first's (independent of the parameter values); a third arm takes the second's factor
 * (scale_as) and must reproduce its AUC. */
static void test_solved_dose(void)
{
    ks_ctx ctx = {KS_OK, ""};
    char dir[] = "/tmp/ks_test_solveXXXXXX", p1[96], p2[96];
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    snprintf(p1, sizeof p1, "%s/targets.csv", dir);
    snprintf(p2, sizeof p2, "%s/solve.json", dir);
    CHECK(write_text(
              p1, "id,layer,experiment,quantity,target,low,high,unit,source,confidence\n"
                  "X-01,test,solve,AUC ratio,2,1.999999,2.000001,ratio,linearity,computed\n"
                  "X-02,test,solve,AUC ratio,1,0.999999,1.000001,ratio,scale_as,computed\n") == 0);
#define ARM_FMT                                                                                    \
    "{\"name\": \"%s\", %s \"scenario\": {\"mechanism\": false, \"doses\": "                       \
    "[{\"drug\": \"ketamine\", \"route\": \"iv_infusion\", \"mg\": 100, "                          \
    "\"duration_min\": 1440}], \"span\": {\"hours\": 24}, \"output\": "                            \
    "{\"step_min\": 30, \"effect_site\": false}}}"
    char a1[1024], a2[1024], a3[1024], solve[2][400], exp[4096];
    for (int k = 0; k < 2; k++)
        snprintf(solve[k], sizeof solve[k],
                 "\"solve\": {\"drug\": \"ketamine\", \"measure\": {\"kind\": \"value_at\", "
                 "\"arm\": \"%s\", \"output\": \"plasma_ketamine_total\", \"time_h\": 24}, "
                 "\"equals\": %d},",
                 k ? "high" : "low", k ? 100 : 50);
    snprintf(a1, sizeof a1, ARM_FMT, "low", solve[0]);
    snprintf(a2, sizeof a2, ARM_FMT, "high", solve[1]);
    snprintf(a3, sizeof a3, ARM_FMT, "copy", "\"scale_as\": \"high\",");
    snprintf(exp, sizeof exp,
             "{\"name\": \"solve\", \"description\": \"d\", \"source\": \"s\", \"arms\": [%s, %s, "
             "%s], \"targets\": ["
             "{\"id\": \"X-01\", \"measure\": {\"kind\": \"ratio\", "
             "\"numerator\": {\"kind\": \"auc\", \"arm\": \"high\", \"output\": "
             "\"plasma_ketamine_total\", \"to\": 24}, "
             "\"denominator\": {\"kind\": \"auc\", \"arm\": \"low\", \"output\": "
             "\"plasma_ketamine_total\", \"to\": 24}}},"
             "{\"id\": \"X-02\", \"measure\": {\"kind\": \"ratio\", "
             "\"numerator\": {\"kind\": \"auc\", \"arm\": \"copy\", \"output\": "
             "\"plasma_ketamine_total\", \"to\": 24}, "
             "\"denominator\": {\"kind\": \"auc\", \"arm\": \"high\", \"output\": "
             "\"plasma_ketamine_total\", \"to\": 24}}}]}",
             a1, a2, a3);
    CHECK(write_text(p2, exp) == 0);
    ks_params *params = ks_params_create_default(&ctx);
    ks_validation *v = params ? ks_validate(&ctx, params, dir, NULL) : NULL;
    if (!v)
        fprintf(stderr, "validate: %s\n", ctx.message);
    CHECK(v != NULL && ks_validation_count(v) == 2);
    for (size_t i = 0; v && i < ks_validation_count(v); i++) {
        ks_validation_row r;
        CHECK(ks_validation_row_get(&ctx, v, i, &r) == KS_OK);
        CHECK_CLOSE(r.simulated, i == 0 ? 2.0 : 1.0, 1e-6, 0);
        CHECK(strstr(r.detail, "solved dose") != NULL);
    }
    ks_validation_free(v);
    ks_params_free(params);
    unlink(p1);
    unlink(p2);
    rmdir(dir);
#undef ARM_FMT
}

int main(void)
{
    ks_ctx ctx = {KS_OK, ""};
    test_primitives();
    test_measurements(&ctx);
    test_solved_dose();
    return ks_test_finish("test_validate_mech");
}
