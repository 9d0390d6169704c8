/*
 * test_nonmem.c -- NONMEM-style records: EVID 0-4, RATE (infusion, modelled duration), ADDL/II,
 * SS, intranasal device numbering, covariates, CSV details (CRLF, BOM, quotes, comments), and
 * one precise "line L, column NAME" message per bad input. Expected events are worked out by
 * hand from each input.
 */
#include "ks_test_util.h"

#include "core/internal.h"
#include "dose/dose.h"
#include "io/nonmem.h"
#include "io/scenario_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ks_scenario *parse(ks_ctx *ctx, const char *csv)
{
    ks_ctx_clear(ctx);
    ks_scenario *s = ks_scenario_parse_nonmem_text(ctx, csv, strlen(csv), "d.csv");
    if (!s)
        fprintf(stderr, "unexpected failure: %s\n", ks_ctx_message(ctx));
    return s;
}

static void expect_error(ks_ctx *ctx, const char *csv, const char *want, int line)
{
    ks_ctx_clear(ctx);
    ks_scenario *s = ks_scenario_parse_nonmem_text(ctx, csv, strlen(csv), "bad.csv");
    ks_test_check_input_error(ctx, s == NULL, "bad.csv", want, line);
    ks_scenario_free(s);
}
#define EXPECT_ERROR(ctx, csv, want) expect_error(ctx, csv, want, __LINE__)

static void test_basic(ks_ctx *ctx)
{
    /* Racemic ketamine 35 mg at 52.5 mg/h (40 min), observations at 0.5, 1, 2 h; an EVID 2
     * row at 3 h is an output time too. */
    ks_scenario *s = parse(ctx, "ID,TIME,EVID,AMT,CMT,RATE,DV,MDV\n"
                                "1,0,1,35,1,52.5,.,1\n"
                                "1,0.5,0,.,1,.,120,0\n"
                                "1,1,0,.,1,.,80,0\n"
                                "1,2,0,0,1,0,40,0\n"
                                "1,3,2,.,.,.,.,1\n");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(ks_scenario_subject_count(s) == 1);
    CHECK(strcmp(ks_scenario_name(s), "d") == 0);
    const ks_subject *a = &s->subjects[0];
    CHECK(a->patient.id == 1 && a->patient.weight_kg == 70.0); /* default patient */
    CHECK(a->n_doses == 1);
    CHECK(a->doses[0].drug == KS_DRUG_KETAMINE && a->doses[0].route == KS_ROUTE_IV_INFUSION);
    CHECK_CLOSE(a->doses[0].amount_mg, 35.0, 0, 0);
    CHECK_CLOSE(a->doses[0].duration_h, 40.0 / 60.0, 0, 1e-12);
    double want[] = {0.5, 1, 2, 3};
    CHECK(a->n_times == 4);
    for (size_t i = 0; i < a->n_times && i < 4; i++)
        CHECK_CLOSE(a->times_h[i], want[i], 0, 0);
    CHECK_CLOSE(s->t_end_h, 3.0, 0, 0);
    ks_scenario_free(s);
}

static void test_addl_ss_reset(ks_ctx *ctx)
{
    /* Escitalopram (CMT 32) 10 mg at steady state (SS 1, II 24) then 6 more daily doses;
     * EVID 4 at 200 h: reset and a 0.5 mg/kg-like ketamine bolus; EVID 3 at 300 h: reset. */
    ks_scenario *s = parse(ctx, "ID,TIME,EVID,AMT,CMT,RATE,II,ADDL,SS\n"
                                "7,0,1,10,32,0,24,6,1\n"
                                "7,200,4,35,1,0,0,0,0\n"
                                "7,300,3,.,.,.,.,.,.\n"
                                "7,310,0,.,.,.,.,.,.\n");
    CHECK(s != NULL);
    if (!s)
        return;
    const ks_subject *a = &s->subjects[0];
    CHECK(a->patient.id == 7);
    CHECK(a->n_doses == 9);
    if (a->n_doses == 9) {
        for (int k = 0; k < 7; k++) {
            CHECK_CLOSE(a->doses[k].t_h, 24.0 * k, 0, 0);
            CHECK(a->doses[k].drug == KS_DRUG_ESCITALOPRAM && a->doses[k].route == KS_ROUTE_ORAL);
            CHECK(a->doses[k].amount_mg == 10.0 && a->doses[k].reset == 0);
            CHECK(a->doses[k].ss == (k == 0 ? 1 : 0));
        }
        CHECK_CLOSE(a->doses[0].ii_h, 24.0, 0, 0);
        CHECK(a->doses[7].t_h == 200.0 && a->doses[7].reset == 1);
        CHECK(a->doses[7].route == KS_ROUTE_IV_BOLUS && a->doses[7].amount_mg == 35.0);
        CHECK(a->doses[8].t_h == 300.0 && a->doses[8].reset == 1 && a->doses[8].amount_mg == 0.0);
    }
    CHECK(a->n_times == 1 && a->times_h[0] == 310.0);
    ks_scenario_free(s);
}

static void test_devices_covariates(ks_ctx *ctx)
{
    /* Esketamine nasal (CMT 13): three 28 mg devices 5 min apart on two days; two IDs with
     * covariates; no EVID 0 rows, so the 5-min grid to the last event + 24 h. Quoted cells,
     * CRLF, a BOM, comments, an X_ column, a commented-out row (C). */
    const char *csv = "\xEF\xBB\xBF"
                      "# esketamine induction\r\n"
                      "C,ID,TIME,EVID,AMT,CMT,WT,AGE,SEX,CYP2B6,BDNF,ASIAN,X_SITE\r\n"
                      ".,1,0,1,28,13,80,45,1,2,1,1,\"Site, A\"\r\n"
                      ".,1,0.0833333333333333,1,28,13,.,.,.,.,.,.,A\r\n"
                      "C,1,0.1,1,9999,13,.,.,.,.,.,.,A\r\n"
                      ".,1,0.1666666666666667,1,28,13,80,45,1,2,1,1,A\r\n"
                      "\r\n"
                      ".,1,72,1,28,13,80,45,1,2,1,1,A\r\n"
                      ".,2,0,1,\"56\",23,60,70,0,0,0,0,B\r\n";
    ks_scenario *s = parse(ctx, csv);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(ks_scenario_subject_count(s) == 2);
    const ks_subject *a = &s->subjects[0], *b = &s->subjects[1];
    CHECK(a->patient.weight_kg == 80.0 && a->patient.age_y == 45.0);
    CHECK(a->patient.sex == KS_SEX_FEMALE && a->patient.cyp2b6 == KS_CYP2B6_POOR);
    CHECK(a->patient.bdnf == KS_BDNF_VALMET && a->patient.east_asian == 1);
    CHECK(a->n_doses == 4);
    if (a->n_doses == 4) {
        CHECK(a->doses[0].device == 1 && a->doses[1].device == 2 && a->doses[2].device == 3);
        CHECK(a->doses[3].device == 1 && a->doses[3].t_h == 72.0);
        CHECK(a->doses[0].drug == KS_DRUG_ESKETAMINE && a->doses[0].route == KS_ROUTE_INTRANASAL);
    }
    /* Grid 0 .. 96 h every 5 min = 96 x 12 + 1 points, plus the two device times off the
     * grid (5 and 10 min are on it: 0.08333.. and 0.1666.. equal 5/60 and 10/60 to 1e-9). */
    CHECK(a->n_times == 96 * 12 + 1);
    CHECK(a->n_times > 0 && a->times_h[a->n_times - 1] == 96.0);
    CHECK(b->patient.weight_kg == 60.0 && b->patient.age_y == 70.0 &&
          b->patient.sex == KS_SEX_MALE);
    CHECK(b->n_doses == 1 && b->doses[0].drug == KS_DRUG_ARKETAMINE);
    CHECK(b->n_doses == 1 && b->doses[0].route == KS_ROUTE_INTRANASAL &&
          b->doses[0].amount_mg == 56.0);
    CHECK(b->n_times == 24 * 12 + 1);
    CHECK_CLOSE(s->t_end_h, 96.0, 0, 0);
    ks_scenario_free(s);

    /* RATE -2: duration (h) from column D. */
    s = parse(ctx, "ID,TIME,EVID,AMT,CMT,RATE,D\n1,1,1,20,11,-2,0.5\n1,4,0,.,.,.,.\n");
    CHECK(s != NULL);
    if (s) {
        const ks_subject *c = &s->subjects[0];
        CHECK(c->n_doses == 1 && c->doses[0].route == KS_ROUTE_IV_INFUSION);
        CHECK(c->n_doses == 1 && c->doses[0].duration_h == 0.5 && c->doses[0].t_h == 1.0);
        CHECK(c->n_doses == 1 && c->doses[0].drug == KS_DRUG_ESKETAMINE);
        ks_scenario_free(s);
    }
}

static void test_errors(ks_ctx *ctx)
{
    EXPECT_ERROR(ctx, "", "line 1: empty file");
    EXPECT_ERROR(ctx, "\n\n", "empty file");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n", "no data rows");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,CMT\n1,0,1,1\n", "line 1, column AMT: required column missing");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,FOO\n1,0,1,5,1,2\n",
                 "line 1, column FOO: unknown column|got \"FOO\"");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,AMT\n", "line 1, column AMT: column appears twice");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,1,5\n",
                 "line 2: wrong number of fields|header has 5 columns|got 4)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,1,5,1,9\n",
                 "line 2: wrong number|got more than 5)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,7,5,1\n",
                 "line 2, column EVID: expected EVID|got 7)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,1,abc,1\n",
                 "line 2, column AMT: expected a number|got \"abc\"");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,1,-5,1\n",
                 "line 2, column AMT: dose amount|got -5)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,1,nan,1\n",
                 "column AMT: expected a number|got \"nan\"");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,1,.,1\n", "line 2, column AMT: a dose row");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,1,5,9\n",
                 "line 2, column CMT: not a dosing|got 9)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,1,5,31\n", "column CMT|got 31)"); /* SSRI IV */
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,5,1,5,1\n1,4,0,.,.\n",
                 "line 3, column TIME: time goes backwards within ID 1: line 2 has TIME 5|got 4)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,-1,1,5,1\n", "line 2, column TIME|got -1)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,II,ADDL\n1,0,1,5,2,0,3\n",
                 "line 2, column II: ADDL 3 additional doses need|got 0)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,ADDL\n1,0,1,5,2,3\n",
                 "line 2, column II|got no value)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,SS\n1,0,1,5,2,1\n", "line 2, column II: SS 1 needs");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,SS,II\n1,0,1,5,2,3,24\n", "line 2, column SS|got 3)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,RATE\n1,0,1,5,2,10\n",
                 "line 2, column RATE: RATE applies only to IV|got 10)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,RATE\n1,0,1,5,1,-2\n", "line 2, column D: RATE -2");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,RATE\n1,0,1,5,1,-1\n", "column RATE: RATE -1|got -1)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,1,5,1\n2,0,1,5,1\n1,1,1,5,1\n",
                 "line 4, column ID: rows of one ID must be contiguous|lines 2-2|got 1)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,WT\n1,0,1,5,1,70\n1,1,1,5,1,72\n",
                 "line 3, column WT: covariates must be constant|got 72)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,WT\n1,0,1,5,1,0\n", "line 2, column WT|got 0)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,SEX\n1,0,1,5,1,2\n", "column SEX|got 2)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,3,5,1\n", "column AMT: EVID 3 (reset) carries");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,1,\"5,1\n", "line 2: unterminated quote");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n.,0,1,5,1\n", "line 2, column ID: missing");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT,II,ADDL\n1,0,1,5,2,0.001,200000\n",
                 "column ADDL|got 200000)");
    EXPECT_ERROR(ctx, "ID,TIME,EVID,AMT,CMT\n1,0,1,5,1\n1,1,1,5,\x01\n",
                 "column CMT|got \"\\x01\"");
    const char nul[] = "ID,TIME,EVID,AMT,CMT\n1,0,1,5,1\0\n";
    ks_ctx_clear(ctx);
    ks_scenario *s = ks_scenario_parse_nonmem_text(ctx, nul, sizeof nul - 1, "bad.csv");
    CHECK(s == NULL && strstr(ks_ctx_message(ctx), "bad.csv: line 2: NUL byte") != NULL);
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    test_basic(ctx);
    test_addl_ss_reset(ctx);
    test_devices_covariates(ctx);
    test_errors(ctx);
    ks_ctx_free(ctx);
    return ks_test_finish("test_nonmem");
}
