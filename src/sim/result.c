/*
 * result.c -- simulated time courses: storage, getters, the tidy CSV and the run summary.
 */
#include "core/internal.h"
#include "result_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ks_result *ks_result_alloc(ks_ctx *ctx, size_t n_subjects, size_t n_out, const char *const *names,
                           const char *const *units)
{
    ks_result *r = ks_calloc(ctx, 1, sizeof *r);
    if (!r)
        return NULL;
    r->n_subjects = n_subjects;
    r->n_out = n_out;
    if (!(r->ids = ks_calloc(ctx, n_subjects, sizeof *r->ids)) ||
        !(r->n_times = ks_calloc(ctx, n_subjects, sizeof *r->n_times)) ||
        !(r->times = ks_calloc(ctx, n_subjects, sizeof *r->times)) ||
        !(r->values = ks_calloc(ctx, n_subjects, sizeof *r->values)) ||
        !(r->out_names = ks_calloc(ctx, n_out, sizeof *r->out_names)) ||
        !(r->out_units = ks_calloc(ctx, n_out, sizeof *r->out_units)))
        goto fail;
    for (size_t j = 0; j < n_out; j++) {
        if (!(r->out_names[j] = ks_strdup(ctx, names[j])) ||
            !(r->out_units[j] = ks_strdup(ctx, units[j])))
            goto fail;
    }
    return r;
fail:
    ks_result_free(r);
    return NULL;
}

ks_status ks_result_set_subject(ks_ctx *ctx, ks_result *r, size_t s, long id, const double *times,
                                size_t n_times)
{
    if (s >= r->n_subjects)
        return ks_fail(ctx, KS_ERR_INTERNAL, "result subject %zu out of range", s);
    free(r->times[s]);
    free(r->values[s]);
    r->times[s] = NULL;
    r->values[s] = NULL;
    r->ids[s] = id;
    r->n_times[s] = 0;
    r->times[s] = ks_malloc(ctx, (n_times ? n_times : 1) * sizeof(double));
    if (!r->times[s])
        return KS_ERR_NOMEM;
    if (r->n_out && n_times > ((size_t)-1) / sizeof(double) / r->n_out)
        return ks_fail(ctx, KS_ERR_NOMEM, "result too large (%zu times x %zu outputs)", n_times,
                       r->n_out);
    r->values[s] = ks_calloc(ctx, n_times * r->n_out, sizeof(double));
    if (!r->values[s])
        return KS_ERR_NOMEM;
    if (n_times)
        memcpy(r->times[s], times, n_times * sizeof(double));
    r->n_times[s] = n_times;
    return KS_OK;
}

double *ks_result_values_mut(ks_result *r, size_t s, size_t j)
{
    return r->values[s] + j * r->n_times[s];
}

void ks_result_free(ks_result *r)
{
    if (!r)
        return;
    for (size_t s = 0; s < r->n_subjects; s++) {
        if (r->times)
            free(r->times[s]);
        if (r->values)
            free(r->values[s]);
    }
    for (size_t j = 0; j < r->n_out; j++) {
        if (r->out_names)
            free(r->out_names[j]);
        if (r->out_units)
            free(r->out_units[j]);
    }
    free(r->ids);
    free(r->n_times);
    free(r->times);
    free(r->values);
    free(r->out_names);
    free(r->out_units);
    free(r);
}

size_t ks_result_subject_count(const ks_result *r)
{
    return r ? r->n_subjects : 0;
}

long ks_result_subject_id(const ks_result *r, size_t s)
{
    return (r && s < r->n_subjects) ? r->ids[s] : -1;
}

size_t ks_result_time_count(const ks_result *r, size_t s)
{
    return (r && s < r->n_subjects) ? r->n_times[s] : 0;
}

const double *ks_result_times(const ks_result *r, size_t s)
{
    return (r && s < r->n_subjects) ? r->times[s] : NULL;
}

size_t ks_result_output_count(const ks_result *r)
{
    return r ? r->n_out : 0;
}

const char *ks_result_output_name(const ks_result *r, size_t j)
{
    return (r && j < r->n_out) ? r->out_names[j] : NULL;
}

const char *ks_result_output_unit(const ks_result *r, size_t j)
{
    return (r && j < r->n_out) ? r->out_units[j] : NULL;
}

long ks_result_output_index(const ks_result *r, const char *name)
{
    if (!r || !name)
        return -1;
    for (size_t j = 0; j < r->n_out; j++)
        if (strcmp(r->out_names[j], name) == 0)
            return (long)j;
    return -1;
}

const double *ks_result_values(const ks_result *r, size_t s, size_t j)
{
    if (!r || s >= r->n_subjects || j >= r->n_out)
        return NULL;
    return r->values[s] + j * r->n_times[s];
}

void ks_result_solver_stats(const ks_result *r, ks_solver_stats *out)
{
    if (r && out)
        *out = r->stats;
}

ks_status ks_result_write_csv(ks_ctx *ctx, const ks_result *r, const char *path)
{
    if (!r || !path)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_result_write_csv: NULL argument");
    ks_atomic_file af;
    ks_status st = ks_atomic_open(ctx, path, &af);
    if (st != KS_OK)
        return st;
    char buf[40];
    fprintf(af.fp, "id,time_h");
    for (size_t j = 0; j < r->n_out; j++)
        fprintf(af.fp, ",%s", r->out_names[j]);
    fputc('\n', af.fp);
    for (size_t s = 0; s < r->n_subjects; s++) {
        size_t n = r->n_times[s];
        for (size_t k = 0; k < n; k++) {
            fprintf(af.fp, "%ld,%s", r->ids[s], ks_fmt_double(buf, sizeof buf, r->times[s][k]));
            for (size_t j = 0; j < r->n_out; j++) {
                double v = r->values[s][j * n + k];
                if (!isfinite(v)) {
                    ks_atomic_abort(&af);
                    return ks_fail(ctx, KS_ERR_SOLVER,
                                   "%s: non-finite value of %s for subject %ld at t = %g h", path,
                                   r->out_names[j], r->ids[s], r->times[s][k]);
                }
                fprintf(af.fp, ",%.9g", v);
            }
            fputc('\n', af.fp);
        }
    }
    return ks_atomic_commit(ctx, &af);
}

ks_status ks_result_write_units(ks_ctx *ctx, const ks_result *r, const char *path)
{
    if (!r || !path)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_result_write_units: NULL argument");
    ks_atomic_file af;
    ks_status st = ks_atomic_open(ctx, path, &af);
    if (st != KS_OK)
        return st;
    fprintf(af.fp, "column,unit\nid,-\ntime_h,h\n");
    for (size_t j = 0; j < r->n_out; j++) {
        const char *u = r->out_units[j];
        if (strpbrk(u, ",\""))
            fprintf(af.fp, "%s,\"%s\"\n", r->out_names[j], u); /* units hold no quotes */
        else
            fprintf(af.fp, "%s,%s\n", r->out_names[j], u);
    }
    return ks_atomic_commit(ctx, &af);
}

/* Unit names in CSV headers use units with '/', which is fine in CSV; the summary prints the
 * plasma outputs only (names starting with "plasma_"). */
ks_status ks_result_print_summary(ks_ctx *ctx, const ks_result *r, FILE *out)
{
    if (!r || !out)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_result_print_summary: NULL argument");
    for (size_t s = 0; s < r->n_subjects; s++) {
        if (r->n_subjects > 1)
            fprintf(out, "subject %ld\n", r->ids[s]);
        fprintf(out, "%-34s %12s %9s %14s %9s\n", "plasma species", "Cmax", "Tmax (h)", "AUC (x h)",
                "t1/2 (h)");
        int printed = 0;
        for (size_t j = 0; j < r->n_out; j++) {
            if (strncmp(r->out_names[j], "plasma_", 7) != 0)
                continue;
            ks_nca nca;
            ks_status st = ks_result_nca(ctx, r, s, j, &nca);
            if (st != KS_OK)
                return st;
            if (!(nca.cmax > 0))
                continue; /* species not given in this scenario */
            char hl[32];
            if (isfinite(nca.half_life_h))
                snprintf(hl, sizeof hl, "%9.2f", nca.half_life_h);
            else
                snprintf(hl, sizeof hl, "%9s", "n/a");
            char cmax[48], auc[48];
            snprintf(cmax, sizeof cmax, "%.4g %s", nca.cmax, r->out_units[j]);
            snprintf(auc, sizeof auc, "%.4g", nca.auc);
            fprintf(out, "%-34s %12s %9.3f %14s %s\n", r->out_names[j] + 7, cmax, nca.tmax_h, auc,
                    hl);
            printed++;
        }
        if (!printed)
            fprintf(out, "(no plasma species above zero)\n");
    }
    const ks_solver_stats *st = &r->stats;
    fprintf(out,
            "solver: %ld steps, %ld rhs evaluations, %ld Jacobians, %ld error-test failures, "
            "%ld restarts\n",
            st->steps, st->rhs_evals, st->jac_evals, st->err_test_fails, st->restarts);
    return KS_OK;
}
