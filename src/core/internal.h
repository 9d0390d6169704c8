/*
 * internal.h -- what every module of the library shares: the context, error reporting,
 * allocation that reports failure on the context, and small string helpers.
 * Not part of the public API.
 */
#ifndef KS_INTERNAL_H
#define KS_INTERNAL_H

#include "ketasim.h"

#include <stdarg.h>
#include <stddef.h>

#define KS_MSG_MAX 1024

struct ks_ctx {
    ks_status status;
    char message[KS_MSG_MAX];
};

#if defined(__GNUC__)
#define KS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define KS_PRINTF(a, b)
#endif

/* Records a failure on ctx (status + formatted message) and returns `status`, so that
 * callers write `return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: ...", file, path, ...)`.
 * Message convention: "<file>: <field>: <what is wrong> (got <value>)" -- the field is a JSON
 * path such as $.doses[2].amount_mg, or "line L, column NAME" for CSV files. */
ks_status ks_fail(ks_ctx *ctx, ks_status status, const char *fmt, ...) KS_PRINTF(3, 4);
ks_status ks_vfail(ks_ctx *ctx, ks_status status, const char *fmt, va_list ap) KS_PRINTF(3, 0);

/* Allocation that records KS_ERR_NOMEM on ctx when it fails. Sizes are checked for overflow. */
void *ks_malloc(ks_ctx *ctx, size_t size);
void *ks_calloc(ks_ctx *ctx, size_t count, size_t size);
void *ks_realloc(ks_ctx *ctx, void *ptr, size_t size);
char *ks_strdup(ks_ctx *ctx, const char *s);

/* Reads a whole user-named input file into a NUL-terminated buffer (caller frees). `what` names
 * the file's role in messages ("scenario", "dosing file"). A missing, unreadable or directory
 * path is bad input (KS_ERR_INPUT, exit code 2) naming the path and the system error; a failure
 * while reading an opened file is KS_ERR_IO. Files above `max_bytes` are rejected with
 * KS_ERR_INPUT. */
char *ks_read_file(ks_ctx *ctx, const char *path, const char *what, size_t max_bytes,
                   size_t *len_out);

/* Atomic output: opens "<path>.tmp.<pid>" for writing. ks_atomic_commit closes and renames it
 * onto `path`; ks_atomic_abort closes and removes it. Both report errors on ctx. */
typedef struct {
    FILE *fp;
    char *final_path;
    char *tmp_path;
} ks_atomic_file;
ks_status ks_atomic_open(ks_ctx *ctx, const char *path, ks_atomic_file *af);
ks_status ks_atomic_commit(ks_ctx *ctx, ks_atomic_file *af);
void ks_atomic_abort(ks_atomic_file *af);

/* Formats a double for messages and CSV with enough digits to round-trip ("%.17g"-like but
 * shortest); writes into buf (at least 32 bytes). Returns buf. */
char *ks_fmt_double(char *buf, size_t size, double v);

/* Text of the files built into the library (generated at build time from data/ and
 * experiments/). ks_embedded_find returns NULL when `name` is not embedded. */
typedef struct {
    const char *name; /* relative path, e.g. "data/parameters.csv" */
    const char *text;
    size_t len;
} ks_embedded_file;
const ks_embedded_file *ks_embedded_files(size_t *count);
const ks_embedded_file *ks_embedded_find(const char *name);

#endif /* KS_INTERNAL_H */
