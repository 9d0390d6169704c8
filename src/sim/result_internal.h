/*
 * result_internal.h -- storage of simulated time courses: per subject, per output, one value per
 * output time. Filled by the simulation driver, read through the public ks_result_* getters.
 */
#ifndef KS_RESULT_INTERNAL_H
#define KS_RESULT_INTERNAL_H

#include "ketasim.h"

struct ks_result {
    size_t n_subjects;
    long *ids;       /* [n_subjects] */
    size_t *n_times; /* [n_subjects] */
    double **times;  /* [n_subjects][n_times[s]] */
    size_t n_out;
    char **out_names; /* [n_out], owned */
    char **out_units; /* [n_out], owned */
    double **values;  /* [n_subjects][n_out * n_times[s]], output j at k: values[s][j*n+k] */
    ks_solver_stats stats;
};

/* New result with n_subjects empty subjects and the given outputs (strings are copied). */
ks_result *ks_result_alloc(ks_ctx *ctx, size_t n_subjects, size_t n_out, const char *const *names,
                           const char *const *units);
/* Gives subject s its id and output times (copied) and zeroed value storage. */
ks_status ks_result_set_subject(ks_ctx *ctx, ks_result *r, size_t s, long id, const double *times,
                                size_t n_times);
/* Mutable values of output j of subject s. */
double *ks_result_values_mut(ks_result *r, size_t s, size_t j);

#endif /* KS_RESULT_INTERNAL_H */
