/*
 * ctx.c -- the context: last status and message of a failure, status texts and exit codes.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ks_ctx *ks_ctx_create(void)
{
    ks_ctx *ctx = calloc(1, sizeof *ctx);
    return ctx;
}

void ks_ctx_free(ks_ctx *ctx)
{
    free(ctx);
}

ks_status ks_ctx_status(const ks_ctx *ctx)
{
    return ctx ? ctx->status : KS_ERR_USAGE;
}

const char *ks_ctx_message(const ks_ctx *ctx)
{
    return ctx ? ctx->message : "no context";
}

void ks_ctx_clear(ks_ctx *ctx)
{
    if (ctx) {
        ctx->status = KS_OK;
        ctx->message[0] = '\0';
    }
}

ks_status ks_vfail(ks_ctx *ctx, ks_status status, const char *fmt, va_list ap)
{
    if (ctx) {
        ctx->status = status;
        vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
    }
    return status;
}

ks_status ks_fail(ks_ctx *ctx, ks_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ks_vfail(ctx, status, fmt, ap);
    va_end(ap);
    return status;
}

const char *ks_strerror(ks_status status)
{
    switch (status) {
    case KS_OK:
        return "success";
    case KS_ERR_USAGE:
        return "usage error";
    case KS_ERR_INPUT:
        return "invalid input";
    case KS_ERR_NOMEM:
        return "out of memory";
    case KS_ERR_IO:
        return "input/output error";
    case KS_ERR_SOLVER:
        return "numerical failure";
    case KS_ERR_VALIDATION:
        return "validation target missed";
    case KS_ERR_INTERNAL:
        return "internal error";
    }
    return "unknown status";
}

int ks_status_exit_code(ks_status status)
{
    switch (status) {
    case KS_OK:
        return 0;
    case KS_ERR_VALIDATION:
        return 1;
    case KS_ERR_USAGE:
    case KS_ERR_INPUT:
        return 2;
    case KS_ERR_SOLVER:
        return 3;
    case KS_ERR_IO:
    case KS_ERR_NOMEM:
        return 4;
    case KS_ERR_INTERNAL:
        return 5;
    }
    return 5;
}

const char *ks_version(void)
{
    return KS_VERSION_STRING;
}
