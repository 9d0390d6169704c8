/*
 * test_targets.c -- the published-targets table and its pass rules: CSV parsing (quotes,
 * bands, bool and compound rows, malformed tables), id selection by prefix, and the compound
 * rule of the reference README (10 percentage points, 15 for counts out of <= 12, same order).
 */
#include "ks_test.h"

#include "core/internal.h"
#include "validate/targets.h"

#include <string.h>

static const char table_ok[] =
    "id,layer,experiment,quantity,target,low,high,unit,source,confidence\n"
    "PK-01,pk,\"racemic, IV\",\"Cmax, plasma\",185,150,220,ng/mL,\"Zarate 2006\",retrieved\n"
    "GL-04,circuit,dose-response,inverted U,1,1,1,bool,Moghaddam 1997,retrieved\n"
    "CL-15,clinical,TRANSFORM-2,remission,\"52.5 vs 31.0\",,,%,Katz 2021,retrieved\n"
    "CL-17,clinical,Williams 2018,responders,\"1/12 vs 7/12\",,,count,Williams 2018,retrieved\n";

static void test_parse(ks_ctx *ctx)
{
    ks_target_table t;
    CHECK(ks_targets_parse(ctx, table_ok, strlen(table_ok), "t.csv", &t) == KS_OK);
    CHECK(t.n == 4);
    if (t.n != 4)
        return;
    CHECK(strcmp(t.rows[0].experiment, "racemic, IV") == 0);
    CHECK(t.rows[0].kind == KS_TARGET_NUMBER);
    CHECK(t.rows[0].low == 150.0 && t.rows[0].high == 220.0);
    CHECK(strcmp(t.rows[0].unit, "ng/mL") == 0);
    CHECK(t.rows[1].kind == KS_TARGET_BOOL);
    CHECK(t.rows[2].kind == KS_TARGET_COMPOUND);
    CHECK(isnan(t.rows[2].low) && isnan(t.rows[2].high));
    CHECK_CLOSE(t.rows[2].published[0], 52.5, 0.0, 1e-12);
    CHECK_CLOSE(t.rows[2].published[1], 31.0, 0.0, 1e-12);
    CHECK(t.rows[2].denominator[0] == 0);
    CHECK(t.rows[3].kind == KS_TARGET_COMPOUND);
    CHECK_CLOSE(t.rows[3].published[0], 100.0 / 12.0, 1e-12, 0.0);
    CHECK_CLOSE(t.rows[3].published[1], 700.0 / 12.0, 1e-12, 0.0);
    CHECK(t.rows[3].denominator[0] == 12 && t.rows[3].denominator[1] == 12);
    CHECK(ks_targets_find(&t, "CL-15") == 2);
    CHECK(ks_targets_find(&t, "CL-1") == -1);

    /* the compound rule, rates: within 10 points and in the published order */
    char why[160];
    const ks_target *r = &t.rows[2];
    double ok[2] = {45.0, 38.0}, far[2] = {62.6, 31.0};
    CHECK(ks_target_compound_pass(r, ok, why, sizeof why) == 1 && why[0] == '\0');
    CHECK(ks_target_compound_pass(r, far, why, sizeof why) == 0 && strstr(why, "arm 1"));
    /* published values 5 points apart: both within 10 points but reversed is a miss */
    ks_target close = *r;
    close.published[0] = 30.0;
    close.published[1] = 25.0;
    double order[2] = {28.0, 29.0}, tie[2] = {28.0, 28.0};
    CHECK(ks_target_compound_pass(&close, order, why, sizeof why) == 0 && strstr(why, "order"));
    CHECK(ks_target_compound_pass(&close, tie, why, sizeof why) == 0); /* order not kept */
    close.published[1] = 30.0; /* a published tie requires no order */
    CHECK(ks_target_compound_pass(&close, order, why, sizeof why) == 1);
    double nan2[2] = {NAN, 30.0};
    CHECK(ks_target_compound_pass(r, nan2, why, sizeof why) == 0);
    /* counts out of 12: 15 points; 1/12 = 8.3 %, 7/12 = 58.3 % */
    r = &t.rows[3];
    double c_ok[2] = {22.0, 45.0}, c_far[2] = {24.0, 58.3};
    CHECK(ks_target_compound_pass(r, c_ok, why, sizeof why) == 1);
    CHECK(ks_target_compound_pass(r, c_far, why, sizeof why) == 0 && strstr(why, "15 points"));
    ks_targets_clear(&t);
    ks_targets_clear(&t); /* cleared twice: a no-op */
}

static void test_compound_text(void)
{
    double p[2];
    int d[2];
    CHECK(ks_target_parse_compound("52.5 vs 31.0", p, d) == 0 && d[0] == 0 && d[1] == 0);
    CHECK(ks_target_parse_compound("3/40 vs 10/40", p, d) == 0 && d[0] == 40);
    CHECK_CLOSE(p[1], 25.0, 1e-12, 0.0);
    CHECK(ks_target_parse_compound("185", p, d) == -1);
    CHECK(ks_target_parse_compound("1/12 vs 31.0", p, d) == -1);  /* mixed kinds */
    CHECK(ks_target_parse_compound("13/12 vs 1/12", p, d) == -1); /* more than n */
    CHECK(ks_target_parse_compound("120 vs 3", p, d) == -1);      /* a rate above 100 % */
    CHECK(ks_target_parse_compound("1 vs 2 vs 3", p, d) == -1);
    CHECK(ks_target_parse_compound("a vs b", p, d) == -1);
}

static void test_selection(void)
{
    CHECK(ks_target_selected("PK-01", NULL));
    CHECK(ks_target_selected("PK-01", ""));
    CHECK(ks_target_selected("PK-01", "PK"));
    CHECK(ks_target_selected("PK-16", "PK-1"));
    CHECK(ks_target_selected("PK-01", "PK-01"));
    CHECK(!ks_target_selected("PK-01", "PK-02"));
    CHECK(!ks_target_selected("PK-01", "pk"));
    CHECK(!ks_target_selected("PK", "PK-01"));
}

static void expect_bad(ks_ctx *ctx, const char *text, const char *needle)
{
    ks_target_table t;
    ks_ctx_clear(ctx);
    ks_status st = ks_targets_parse(ctx, text, strlen(text), "bad.csv", &t);
    CHECK(st == KS_ERR_INPUT);
    CHECK(t.n == 0 && t.rows == NULL);
    if (!strstr(ks_ctx_message(ctx), needle)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", ks_ctx_message(ctx), needle);
        CHECK(0);
    }
}

static void test_bad_tables(ks_ctx *ctx)
{
    const char *h = "id,layer,experiment,quantity,target,low,high,unit,source,confidence\n";
    char buf[512];
    expect_bad(ctx, "id,layer\n", "line 1");
    expect_bad(ctx, "", "missing header");
    snprintf(buf, sizeof buf, "%sX-1,pk,e,q,5,4,6,h,s,c\nX-1,pk,e,q,5,4,6,h,s,c\n", h);
    expect_bad(ctx, buf, "duplicate id X-1");
    snprintf(buf, sizeof buf, "%sX-1,pk,e,q,5,7,6,h,s,c\n", h);
    expect_bad(ctx, buf, "low above high");
    snprintf(buf, sizeof buf, "%sX-1,pk,e,q,5,,6,h,s,c\n", h);
    expect_bad(ctx, buf, "both bounds");
    snprintf(buf, sizeof buf, "%sX-1,pk,e,q,5,,,h,s,c\n", h);
    expect_bad(ctx, buf, "compare two arms");
    snprintf(buf, sizeof buf, "%sX-1,pk,e,q,5,four,6,h,s,c\n", h);
    expect_bad(ctx, buf, "line 2, column low");
    snprintf(buf, sizeof buf, "%sX-1,pk,\"e,q,5,4,6,h,s,c\n", h);
    expect_bad(ctx, buf, "quotes");
    snprintf(buf, sizeof buf, "%sX-1,pk,e,q,5,4,6,h,s\n", h);
    expect_bad(ctx, buf, "expected 10 columns");
    snprintf(buf, sizeof buf, "%sX-1,pk,e,q,5,4,6,,s,c\n", h);
    expect_bad(ctx, buf, "empty unit");
    ks_ctx_clear(ctx);
}

/* The table built into the library is the reference table: 62 rows, PK-01 first. */
static void test_embedded(ks_ctx *ctx)
{
    const ks_embedded_file *f = ks_embedded_find("experiments/targets.csv");
    CHECK(f != NULL);
    if (!f)
        return;
    ks_target_table t;
    CHECK(ks_targets_parse(ctx, f->text, f->len, f->name, &t) == KS_OK);
    CHECK(t.n == 62);
    if (t.n > 0)
        CHECK(strcmp(t.rows[0].id, "PK-01") == 0);
    size_t compound = 0, bools = 0;
    for (size_t i = 0; i < t.n; i++) {
        compound += t.rows[i].kind == KS_TARGET_COMPOUND;
        bools += t.rows[i].kind == KS_TARGET_BOOL;
    }
    CHECK(compound == 2); /* CL-15, CL-17 */
    CHECK(bools == 6);    /* GL-04, MO-04, MO-09, MO-10, MO-12, CL-18 */
    ks_targets_clear(&t);
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    if (!ctx)
        return 1;
    test_parse(ctx);
    test_compound_text();
    test_selection();
    test_bad_tables(ctx);
    test_embedded(ctx);
    ks_ctx_free(ctx);
    return ks_test_finish("test_targets");
}
