/*
 * fuzz_check.h -- invariants shared by the parser fuzz targets: times of a subject strictly
 * increasing, and a rejected input failing with KS_ERR_INPUT (or KS_ERR_NOMEM) and a
 * one-line message that starts with the file name. A broken invariant aborts.
 */
#ifndef KS_FUZZ_CHECK_H
#define KS_FUZZ_CHECK_H

#include "core/internal.h"
#include "io/scenario_internal.h"

#include <stdlib.h>
#include <string.h>

/* Aborts unless the output times of `sub` strictly increase. */
static inline void fuzz_check_times(const ks_subject *sub)
{
    for (size_t i = 1; i < sub->n_times; i++)
        if (!(sub->times_h[i] > sub->times_h[i - 1]))
            abort();
}

/* Aborts unless the failure on `ctx` is bad input (or memory) with one line "<file>: ...". */
static inline void fuzz_check_failure(ks_ctx *ctx, const char *file)
{
    const char *msg = ks_ctx_message(ctx);
    size_t n = strlen(file);
    if (ks_ctx_status(ctx) != KS_ERR_INPUT && ks_ctx_status(ctx) != KS_ERR_NOMEM)
        abort();
    if (strchr(msg, '\n') || strncmp(msg, file, n) != 0 || strncmp(msg + n, ": ", 2) != 0)
        abort();
}

#endif /* KS_FUZZ_CHECK_H */
