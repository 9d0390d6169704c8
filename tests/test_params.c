/*
 * test_params.c -- the parameter table: the built-in one is complete and documented; files with
 * unknown, missing, repeated or non-finite parameters are rejected with a message naming the
 * file, line and value; overrides work.
 */
#include "ks_test.h"

#include "ketasim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *tmpfile_with(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s", name);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return NULL;
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* Writes the built-in table as CSV to `path`, replacing the row of `skip` (NULL: none) with
 * `extra` (NULL: nothing), and appending `append` (NULL: nothing). */
static void write_table(ks_ctx *ctx, const ks_params *p, const char *path, const char *skip,
                        const char *extra, const char *append)
{
    FILE *fp = fopen(path, "w");
    fputs("# test table\nname,value,unit,source,confidence,note\n", fp);
    for (size_t i = 0; i < ks_params_count(p); i++) {
        ks_param_info in;
        ks_params_get_info(ctx, p, i, &in);
        if (skip && strcmp(in.name, skip) == 0) {
            if (extra)
                fprintf(fp, "%s\n", extra);
            continue;
        }
        fprintf(fp, "%s,%.17g,\"%s\",\"%s\",%s,\"\"\n", in.name, in.value, in.unit, "test source",
                in.confidence);
    }
    if (append)
        fprintf(fp, "%s\n", append);
    fclose(fp);
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *p = ks_params_create_default(ctx);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "%s\n", ks_ctx_message(ctx));
        return ks_test_finish("test_params");
    }
    CHECK(ks_params_count(p) > 20);
    /* Every built-in parameter is documented. */
    for (size_t i = 0; i < ks_params_count(p); i++) {
        ks_param_info in;
        CHECK(ks_params_get_info(ctx, p, i, &in) == KS_OK);
        CHECK(in.unit[0] != '\0');
        CHECK(strlen(in.source) > 3);
        CHECK(isfinite(in.value));
    }
    ks_param_info first;
    ks_params_get_info(ctx, p, 0, &first);

    /* Round trip through a file. */
    write_table(ctx, p, "params_ok.csv", NULL, NULL, NULL);
    ks_params *q = ks_params_load(ctx, "params_ok.csv");
    CHECK(q != NULL);
    if (q) {
        double a, b;
        CHECK(ks_params_get(ctx, q, first.name, &a) == KS_OK);
        CHECK(ks_params_get(ctx, p, first.name, &b) == KS_OK);
        CHECK(a == b);
        CHECK(ks_params_set(ctx, q, first.name, 2.5 * b) == KS_OK);
        CHECK(ks_params_get(ctx, q, first.name, &a) == KS_OK && a == 2.5 * b);
        CHECK(ks_params_set(ctx, q, first.name, NAN) == KS_ERR_INPUT);
        CHECK(ks_params_set(ctx, q, "no.such.parameter", 1.0) == KS_ERR_INPUT);
        CHECK(ks_params_get(ctx, q, "no.such.parameter", &a) == KS_ERR_INPUT);
        ks_params_free(q);
    }

    /* Unknown name. */
    write_table(ctx, p, "params_unknown.csv", NULL, NULL, "pk.no_such_thing,1,h,src,assumed,");
    CHECK(ks_params_load(ctx, "params_unknown.csv") == NULL);
    CHECK(ks_ctx_status(ctx) == KS_ERR_INPUT);
    CHECK(strstr(ks_ctx_message(ctx), "params_unknown.csv") != NULL);
    CHECK(strstr(ks_ctx_message(ctx), "pk.no_such_thing") != NULL);

    /* Missing name. */
    write_table(ctx, p, "params_missing.csv", first.name, NULL, NULL);
    CHECK(ks_params_load(ctx, "params_missing.csv") == NULL);
    CHECK(strstr(ks_ctx_message(ctx), first.name) != NULL);

    /* Repeated name. */
    char row[512];
    snprintf(row, sizeof row, "%s,1,u,s,assumed,", first.name);
    write_table(ctx, p, "params_twice.csv", NULL, NULL, row);
    CHECK(ks_params_load(ctx, "params_twice.csv") == NULL);
    CHECK(strstr(ks_ctx_message(ctx), "twice") != NULL);

    /* Non-finite value, bad confidence, missing unit. */
    snprintf(row, sizeof row, "%s,nan,u,s,assumed,", first.name);
    write_table(ctx, p, "params_nan.csv", first.name, row, NULL);
    CHECK(ks_params_load(ctx, "params_nan.csv") == NULL);
    CHECK(strstr(ks_ctx_message(ctx), "'nan'") != NULL);
    snprintf(row, sizeof row, "%s,1,u,s,guessed,", first.name);
    write_table(ctx, p, "params_conf.csv", first.name, row, NULL);
    CHECK(ks_params_load(ctx, "params_conf.csv") == NULL);
    CHECK(strstr(ks_ctx_message(ctx), "guessed") != NULL);
    snprintf(row, sizeof row, "%s,1,,s,assumed,", first.name);
    write_table(ctx, p, "params_unit.csv", first.name, row, NULL);
    CHECK(ks_params_load(ctx, "params_unit.csv") == NULL);

    /* Malformed files. */
    CHECK(ks_params_load(ctx, tmpfile_with("params_empty.csv", "")) == NULL);
    CHECK(ks_ctx_status(ctx) == KS_ERR_INPUT);
    CHECK(ks_params_load(ctx, tmpfile_with("params_hdr.csv", "a,b,c\n")) == NULL);
    CHECK(ks_params_load(ctx,
                         tmpfile_with("params_quote.csv", "name,value,unit,source,confidence,note\n"
                                                          "x,\"1,u,s,assumed,\n")) == NULL);
    CHECK(strstr(ks_ctx_message(ctx), "line 2") != NULL);
    CHECK(ks_params_load(ctx, "no/such/dir/params.csv") == NULL);
    CHECK(ks_ctx_status(ctx) == KS_ERR_INPUT);
    CHECK(strstr(ks_ctx_message(ctx), "no/such/dir/params.csv") != NULL);

    /* Status texts and exit codes. */
    CHECK(ks_status_exit_code(KS_OK) == 0);
    CHECK(ks_status_exit_code(KS_ERR_VALIDATION) == 1);
    CHECK(ks_status_exit_code(KS_ERR_INPUT) == 2);
    CHECK(ks_status_exit_code(KS_ERR_USAGE) == 2);
    CHECK(ks_status_exit_code(KS_ERR_SOLVER) == 3);
    CHECK(ks_status_exit_code(KS_ERR_IO) == 4);
    CHECK(strcmp(ks_strerror(KS_ERR_INPUT), "invalid input") == 0);
    ks_params_free(NULL);
    ks_ctx_free(NULL);

    ks_params_free(p);
    ks_ctx_free(ctx);
    return ks_test_finish("test_params");
}
