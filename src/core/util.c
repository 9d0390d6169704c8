/*
 * util.c -- allocation that reports on the context, whole-file reads, atomic output files and
 * number formatting.
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void *ks_malloc(ks_ctx *ctx, size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        ks_fail(ctx, KS_ERR_NOMEM, "out of memory (allocating %zu bytes)", size);
    return p;
}

void *ks_calloc(ks_ctx *ctx, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        ks_fail(ctx, KS_ERR_NOMEM, "out of memory (allocating %zu x %zu bytes)", count, size);
        return NULL;
    }
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        ks_fail(ctx, KS_ERR_NOMEM, "out of memory (allocating %zu x %zu bytes)", count, size);
    return p;
}

void *ks_realloc(ks_ctx *ctx, void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        ks_fail(ctx, KS_ERR_NOMEM, "out of memory (reallocating %zu bytes)", size);
    return p;
}

char *ks_strdup(ks_ctx *ctx, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = ks_malloc(ctx, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *ks_read_file(ks_ctx *ctx, const char *path, const char *what, size_t max_bytes,
                   size_t *len_out)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        ks_fail(ctx, KS_ERR_INPUT, "%s: cannot open %s: %s", path, what, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        ks_fail(ctx, KS_ERR_INPUT, "%s: cannot read %s: it is a directory", path, what);
        return NULL;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        ks_fail(ctx, KS_ERR_INPUT, "%s: cannot open %s: %s", path, what, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = ks_malloc(ctx, cap);
    if (!buf)
        goto fail;
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > max_bytes) {
                ks_fail(ctx, KS_ERR_INPUT, "%s: %s is larger than the limit of %zu bytes", path,
                        what, max_bytes);
                goto fail;
            }
            char *nb = ks_realloc(ctx, buf, cap * 2);
            if (!nb)
                goto fail;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, fp);
        len += got;
        if (got == 0) {
            if (ferror(fp)) {
                ks_fail(ctx, KS_ERR_IO, "%s: cannot read %s: %s", path, what, strerror(errno));
                goto fail;
            }
            break;
        }
    }
    if (len > max_bytes) {
        ks_fail(ctx, KS_ERR_INPUT, "%s: %s is larger than the limit of %zu bytes", path, what,
                max_bytes);
        goto fail;
    }
    buf[len] = '\0';
    fclose(fp);
    if (len_out)
        *len_out = len;
    return buf;
fail:
    free(buf);
    fclose(fp);
    return NULL;
}

ks_status ks_atomic_open(ks_ctx *ctx, const char *path, ks_atomic_file *af)
{
    memset(af, 0, sizeof *af);
    size_t n = strlen(path) + 40;
    af->final_path = ks_strdup(ctx, path);
    af->tmp_path = ks_malloc(ctx, n);
    if (!af->final_path || !af->tmp_path)
        goto fail;
    snprintf(af->tmp_path, n, "%s.tmp.%ld", path, (long)getpid());
    af->fp = fopen(af->tmp_path, "wb");
    if (!af->fp) {
        ks_fail(ctx, KS_ERR_IO, "%s: cannot write output file: %s", path, strerror(errno));
        goto fail;
    }
    return KS_OK;
fail:
    free(af->final_path);
    free(af->tmp_path);
    memset(af, 0, sizeof *af);
    return ctx ? ctx->status : KS_ERR_IO;
}

ks_status ks_atomic_commit(ks_ctx *ctx, ks_atomic_file *af)
{
    ks_status st = KS_OK;
    int bad = ferror(af->fp);
    if (fclose(af->fp) != 0 || bad) {
        st = ks_fail(ctx, KS_ERR_IO, "%s: cannot write output file: %s", af->final_path,
                     strerror(errno ? errno : EIO));
        remove(af->tmp_path);
    } else if (rename(af->tmp_path, af->final_path) != 0) {
        st = ks_fail(ctx, KS_ERR_IO, "%s: cannot rename the finished output into place: %s",
                     af->final_path, strerror(errno));
        remove(af->tmp_path);
    }
    free(af->final_path);
    free(af->tmp_path);
    memset(af, 0, sizeof *af);
    return st;
}

void ks_atomic_abort(ks_atomic_file *af)
{
    if (af->fp) {
        fclose(af->fp);
        remove(af->tmp_path);
    }
    free(af->final_path);
    free(af->tmp_path);
    memset(af, 0, sizeof *af);
}

char *ks_fmt_double(char *buf, size_t size, double v)
{
    if (isnan(v)) {
        snprintf(buf, size, "NaN");
        return buf;
    }
    if (isinf(v)) {
        snprintf(buf, size, v > 0 ? "Infinity" : "-Infinity");
        return buf;
    }
    /* Shortest of %.{6..17}g that reads back exactly. */
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}
