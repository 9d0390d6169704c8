/*
 * ks_test_util.h -- checks shared by several test programs: reading one parameter of a table
 * and matching the one-line message of a rejected input.
 */
#ifndef KS_TEST_UTIL_H
#define KS_TEST_UTIL_H

#include "ks_test.h"

#include "ketasim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The value of parameter `name` of `p`; NAN (after a line on stderr) when it is missing. */
static inline double ks_test_par(ks_ctx *ctx, const ks_params *p, const char *name)
{
    double v = NAN;
    if (ks_params_get(ctx, p, name, &v) != KS_OK)
        fprintf(stderr, "missing parameter %s\n", name);
    return v;
}

/* Checks that a parse of `file` was rejected (`rejected` nonzero) with KS_ERR_INPUT and a
 * single-line message starting "<file>: " and holding every "|"-separated substring of
 * `want`; otherwise prints what came instead, naming the test's `line`. Counts one CHECK. */
static inline void ks_test_check_input_error(ks_ctx *ctx, int rejected, const char *file,
                                             const char *want, int line)
{
    const char *msg = ks_ctx_message(ctx);
    size_t n = strlen(file);
    int ok = rejected && ks_ctx_status(ctx) == KS_ERR_INPUT && strncmp(msg, file, n) == 0 &&
             strncmp(msg + n, ": ", 2) == 0 && strchr(msg, '\n') == NULL;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", want);
    for (char *tok = strtok(buf, "|"); tok && ok; tok = strtok(NULL, "|"))
        ok = strstr(msg, tok) != NULL;
    if (!ok)
        fprintf(stderr, "line %d: expected error with \"%s\"; got status %d: %s\n", line, want,
                (int)ks_ctx_status(ctx), msg);
    CHECK(ok);
}

#endif /* KS_TEST_UTIL_H */
