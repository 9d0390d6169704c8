/*
 * measure_trial.c -- experiments whose arms are virtual trials: parsing of the "trials" form of
 * an experiment file, running the trials (replicates of a study's own size where significance
 * is asked), and the generic measurements on trial results (docs/VALIDATION.md, "Trial
 * experiments").
 *
 * Response, remission and change from baseline are those of the trial engine (docs/TRIAL.md:
 * observed ratings with rater noise, the study's scale and definitions). Measurements that need
 * each patient's ratings (relapse, first remission, exit rules) read the trial's per-patient rows.
 */
#define _POSIX_C_SOURCE 200809L

#include "measure_trial.h"

#include "detail.h"

#include "../core/internal.h"
#include "../trial/trial_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Rater-noise index of the independent outcome rating at visit v: KS_MT_OUTCOME_INDEX + v, above
 * every clinic rating's index (period << 20) + v of src/trial/trial_run.c. */
#define KS_MT_OUTCOME_INDEX (UINT64_C(1) << 40)

/* Tolerances of validation trials: the trial engine's fast path at its default tolerances on
 * the mechanism states (ks_sim_options.fast_rtol/fast_atol), stated here so that a change of the
 * library default does not change validation silently. The scores are rounded ratings with a
 * rater noise of 2.5 MADRS points; the effect of a hundredfold tighter pair on the trial rows is
 * measured in docs/VALIDATION.md, "Trial experiments". A -D overrides them (that measurement). */
#ifndef MT_RTOL
#define MT_RTOL 1e-5
#endif
#ifndef MT_ATOL
#define MT_ATOL 1e-6
#endif
/* Limits of a trial experiment. */
#define MT_MAX_REPLICATES    5000
#define MT_MAX_FAMILY        16
#define MT_MAX_PATIENT_BYTES ((size_t)1 << 30)
/* Two visit times are the same visit when they differ by less than this (h). */
#define MT_VISIT_EPS 1e-6

/* ------------------------------------------------------------------------------------------
 * Pure statistics
 * ---------------------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ks_mt_median(double *x, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(x, n, sizeof *x, cmp_double);
    if (n % 2)
        return x[n / 2];
    return 0.5 * (x[n / 2 - 1] + x[n / 2]); /* +inf when the upper middle is infinite */
}

typedef struct {
    double t;
    int event;
} km_item;

static int cmp_km(const void *a, const void *b)
{
    const km_item *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    return y->event - x->event; /* events before censorings at tied times */
}

double ks_mt_km_median(const double *time, const int *event, size_t n)
{
    if (n == 0)
        return NAN;
    km_item *it = malloc(n * sizeof *it);
    if (!it)
        return NAN;
    for (size_t i = 0; i < n; i++)
        it[i] = (km_item){time[i], event[i] ? 1 : 0};
    qsort(it, n, sizeof *it, cmp_km);
    /* S(t) = prod over event times t_j <= t of (1 - d_j / n_j) (Kaplan & Meier 1958). */
    double s = 1.0, median = INFINITY;
    size_t at_risk = n, i = 0;
    while (i < n) {
        size_t j = i, d = 0;
        while (j < n && it[j].t == it[i].t) {
            d += (size_t)it[j].event;
            j++;
        }
        if (d > 0) {
            s *= 1.0 - (double)d / (double)at_risk;
            if (s <= 0.5 + 1e-12) {
                median = it[i].t;
                break;
            }
        }
        at_risk -= j - i;
        i = j;
    }
    free(it);
    return median;
}

size_t ks_mt_holm(const double *p, size_t m, double alpha, int *reject)
{
    size_t order[64];
    if (m > 64)
        m = 64;
    for (size_t i = 0; i < m; i++) {
        order[i] = i;
        reject[i] = 0;
    }
    /* insertion sort of the indices by p (NaN last) */
    for (size_t i = 1; i < m; i++) {
        size_t k = order[i], j = i;
        while (j > 0 && (isnan(p[order[j - 1]]) ? !isnan(p[k]) : p[k] < p[order[j - 1]])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    size_t nrej = 0;
    for (size_t k = 0; k < m; k++) {
        double pk = p[order[k]];
        if (isnan(pk) || pk > alpha / (double)(m - k))
            break;
        reject[order[k]] = 1;
        nrej++;
    }
    return nrej;
}

double ks_mt_relapse_time(const double *obs, const double *t_h, size_t nv, size_t from_visit,
                          double baseline, double fraction, int consecutive, int *event)
{
    int run = 0;
    size_t start = 0;
    for (size_t v = from_visit; v < nv; v++) {
        if (obs[v] > fraction * baseline) {
            if (run == 0)
                start = v;
            if (++run >= consecutive) {
                *event = 1;
                return t_h[start];
            }
        } else {
            run = 0;
        }
    }
    *event = 0;
    return nv ? t_h[nv - 1] : NAN;
}

/* ------------------------------------------------------------------------------------------
 * Data structures
 * ---------------------------------------------------------------------------------------- */

/* Ratings of every simulated patient of one arm, pooled over replicates. */
typedef struct {
    size_t n, cap;
    double *obs; /* [n * n_visits] observed, missed visits carried forward (LOCF) */
    double *ind; /* [n * n_visits] independent outcome rating, NaN when missed; only when the
                    trial's need_independent */
} mt_arm_rows;

typedef struct {
    char *name;
    ks_trial *trial;
    long replicates;
    int need_patients;
    int need_independent; /* a measure reads the outcome from an independent rating */
    int ran;
    char *error;           /* run failure (a miss for every target of this trial) */
    ks_trial_result **res; /* [replicates] */
    mt_arm_rows *rows;     /* [n_arms] when need_patients */
} mt_trial;

typedef enum {
    MT_RESPONSE = 0,
    MT_REMISSION,
    MT_MEAN_CHANGE,
    MT_MEAN_FALL,
    MT_MEAN_SCORE,
    MT_CHANGE_DIFF,
    MT_FALL_DIFF,
    MT_FIRST_SIG,
    MT_RELAPSE_MEDIAN,
    MT_REMITTED_BY,
    MT_SEPARATION,
    MT_RATIO,
    MT_DIFFERENCE,
    MT_COMPARE,
    MT_ALL,
    MT_PAIR,
    MT_KIND_COUNT
} mt_kind;

typedef enum { DIM_RATE = 0, DIM_POINTS, DIM_TIME, DIM_BOOL } mt_dim;

static const struct {
    const char *name;
    const char *keys[10];
} mt_kinds[MT_KIND_COUNT] = {
    [MT_RESPONSE] = {"response_rate",
                     {"trial", "arm", "visit", "exit_on_remission", "exit_rating"}},
    [MT_REMISSION] = {"remission_rate",
                      {"trial", "arm", "visit", "exit_on_remission", "exit_rating"}},
    [MT_MEAN_CHANGE] = {"mean_change", {"trial", "arm", "visit", "convert"}},
    [MT_MEAN_FALL] = {"mean_fall", {"trial", "arm", "visit", "convert"}},
    [MT_MEAN_SCORE] = {"mean_score", {"trial", "arm", "visit", "convert"}},
    [MT_CHANGE_DIFF] = {"change_difference", {"trial", "arm", "reference", "visit", "convert"}},
    [MT_FALL_DIFF] = {"fall_difference", {"trial", "arm", "reference", "visit", "convert"}},
    [MT_FIRST_SIG] = {"first_significant_visit", {"trial", "arm", "reference", "alpha"}},
    [MT_RELAPSE_MEDIAN] = {"relapse_median",
                           {"trial", "arm", "responder_visit", "clock_start_h", "fraction",
                            "consecutive"}},
    [MT_REMITTED_BY] = {"remitted_by_fraction", {"trial", "arm", "by_visit", "until_visit"}},
    [MT_SEPARATION] = {"separation_fraction",
                       {"trial", "arm", "family", "reference", "visit", "alpha"}},
    [MT_RATIO] = {"ratio", {"numerator", "denominator"}},
    [MT_DIFFERENCE] = {"difference", {"minuend", "subtrahend"}},
    [MT_COMPARE] = {"compare", {"left", "op", "right"}},
    [MT_ALL] = {"all", {"items"}},
    [MT_PAIR] = {"pair", {"items"}},
};

typedef enum { OP_LT = 0, OP_LE, OP_GT, OP_GE } mt_op;

typedef struct mt_measure mt_measure;
struct mt_measure {
    mt_kind kind;
    size_t trial, arm, ref, visit, visit2;
    int exit_on_remission;
    int exit_independent; /* outcome at exit from an independent rating (exit_rating) */
    int hdrs25;           /* convert HDRS-17 points to HDRS-25 (clin.hdrs25_per_hdrs17) */
    double alpha, fraction, clock_h;
    int consecutive;
    size_t family[MT_MAX_FAMILY];
    size_t n_family;
    mt_op op;
    int right_is_number;
    double number;
    mt_measure **items;
    size_t n_items;
};

typedef struct {
    char *id;
    size_t row;
    mt_measure *m;
} mt_target;

struct ks_trial_exp {
    char *file;
    mt_trial *trials;
    size_t n_trials;
    mt_target *targets;
    size_t n_targets;
};

static void measure_free(mt_measure *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_items; i++)
        measure_free(m->items[i]);
    free(m->items);
    free(m);
}

static void trial_clear(mt_trial *t)
{
    if (t->res)
        for (long r = 0; r < t->replicates; r++)
            ks_trial_result_free(t->res[r]);
    free(t->res);
    if (t->rows && t->trial)
        for (size_t a = 0; a < t->trial->n_arms; a++)
            free(t->rows[a].obs), free(t->rows[a].ind);
    free(t->rows);
    ks_trial_free(t->trial);
    free(t->name);
    free(t->error);
    memset(t, 0, sizeof *t);
}

void ks_trial_exp_free(ks_trial_exp *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n_trials; i++)
        trial_clear(&x->trials[i]);
    for (size_t i = 0; i < x->n_targets; i++) {
        free(x->targets[i].id);
        measure_free(x->targets[i].m);
    }
    free(x->trials);
    free(x->targets);
    free(x->file);
    free(x);
}

int ks_trial_exp_detect(const cJSON *root)
{
    return cJSON_IsObject(root) && cJSON_GetObjectItemCaseSensitive(root, "trials") != NULL;
}

size_t ks_trial_exp_target_count(const ks_trial_exp *x)
{
    return x ? x->n_targets : 0;
}

const char *ks_trial_exp_target_id(const ks_trial_exp *x, size_t i)
{
    return x && i < x->n_targets ? x->targets[i].id : NULL;
}

size_t ks_trial_exp_target_row(const ks_trial_exp *x, size_t i)
{
    return x && i < x->n_targets ? x->targets[i].row : 0;
}

/* ------------------------------------------------------------------------------------------
 * Parsing
 * ---------------------------------------------------------------------------------------- */

static ks_status keys_ok(ks_ctx *ctx, const cJSON *obj, const char *const *keys, size_t nkeys,
                         const char *file, const char *path)
{
    for (const cJSON *c = obj->child; c; c = c->next) {
        int ok = 0;
        for (size_t i = 0; i < nkeys && keys[i] && !ok; i++)
            ok = strcmp(c->string, keys[i]) == 0;
        if (!ok)
            return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: unknown key", file, path, c->string);
    }
    return KS_OK;
}

static const char *get_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static ks_status need_str(ks_ctx *ctx, const cJSON *obj, const char *key, const char *file,
                          const char *path, const char **out)
{
    *out = get_string(obj, key);
    if (!*out)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: expected a non-empty string", file, path,
                       key);
    return KS_OK;
}

/* Optional number in [lo, hi]; *out keeps its default when absent. */
static ks_status opt_num(ks_ctx *ctx, const cJSON *obj, const char *key, double lo, double hi,
                         const char *file, const char *path, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return KS_OK;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: expected a number in [%g, %g]", file, path,
                       key, lo, hi);
    *out = v->valuedouble;
    return KS_OK;
}

static ks_status find_trial(ks_ctx *ctx, const ks_trial_exp *x, const cJSON *obj, const char *path,
                            size_t *out)
{
    const char *name;
    ks_status st = need_str(ctx, obj, "trial", x->file, path, &name);
    if (st != KS_OK)
        return st;
    for (size_t i = 0; i < x->n_trials; i++)
        if (strcmp(x->trials[i].name, name) == 0) {
            *out = i;
            return KS_OK;
        }
    return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.trial: no trial named '%s' in $.trials", x->file,
                   path, name);
}

static ks_status find_arm(ks_ctx *ctx, const ks_trial_exp *x, const ks_trial *t, const cJSON *obj,
                          const char *key, const char *path, size_t *out)
{
    const char *name;
    ks_status st = need_str(ctx, obj, key, x->file, path, &name);
    if (st != KS_OK)
        return st;
    for (size_t a = 0; a < t->n_arms; a++)
        if (strcmp(t->arms[a].name, name) == 0) {
            *out = a;
            return KS_OK;
        }
    return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: trial '%s' has no arm '%s'", x->file, path, key,
                   t->name, name);
}

/* A visit given as {"min": x} | {"h": x} | {"day": x}; must be one of the trial's visits. */
static ks_status find_visit(ks_ctx *ctx, const ks_trial_exp *x, const ks_trial *t, const cJSON *obj,
                            const char *key, const char *path, size_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsObject(v) || !v->child || v->child->next || !cJSON_IsNumber(v->child))
        return ks_fail(ctx, KS_ERR_INPUT,
                       "%s: %s.%s: expected one of {\"min\": x}, {\"h\": x}, {\"day\": x}", x->file,
                       path, key);
    double f;
    if (strcmp(v->child->string, "min") == 0)
        f = 1.0 / 60.0;
    else if (strcmp(v->child->string, "h") == 0)
        f = 1.0;
    else if (strcmp(v->child->string, "day") == 0)
        f = 24.0;
    else
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s.%s: unknown unit (min, h or day)", x->file,
                       path, key, v->child->string);
    double th = f * v->child->valuedouble;
    for (size_t k = 0; k < t->n_visits; k++)
        if (fabs(t->visits[k].t_h - th) < MT_VISIT_EPS) {
            *out = k;
            return KS_OK;
        }
    return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: trial '%s' has no visit at %g h (got %s %g)",
                   x->file, path, key, t->name, th, v->child->string, v->child->valuedouble);
}

static mt_measure *parse_measure(ks_ctx *ctx, ks_trial_exp *x, const cJSON *j, const char *path);

static ks_status parse_items(ks_ctx *ctx, ks_trial_exp *x, const cJSON *arr, const char *path,
                             mt_measure *m, size_t min, size_t max)
{
    if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) < min ||
        (size_t)cJSON_GetArraySize(arr) > max)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.items: expected an array of %zu to %zu items",
                       x->file, path, min, max);
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (!(m->items = ks_calloc(ctx, n, sizeof *m->items)))
        return KS_ERR_NOMEM;
    size_t i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        char p[256];
        snprintf(p, sizeof p, "%s.items[%zu]", path, i);
        m->n_items = i + 1;
        if (!(m->items[i] = parse_measure(ctx, x, c, p)))
            return ctx->status;
    }
    return KS_OK;
}

static ks_status parse_sub(ks_ctx *ctx, ks_trial_exp *x, const cJSON *j, const char *key,
                           const char *path, mt_measure *m)
{
    char p[256];
    snprintf(p, sizeof p, "%s.%s", path, key);
    mt_measure **grow = ks_realloc(ctx, m->items, (m->n_items + 1) * sizeof *grow);
    if (!grow)
        return KS_ERR_NOMEM;
    m->items = grow;
    m->items[m->n_items] = parse_measure(ctx, x, cJSON_GetObjectItemCaseSensitive(j, key), p);
    if (!m->items[m->n_items])
        return ctx->status;
    m->n_items++;
    return KS_OK;
}

static mt_measure *parse_measure(ks_ctx *ctx, ks_trial_exp *x, const cJSON *j, const char *path)
{
    if (!cJSON_IsObject(j)) {
        ks_fail(ctx, KS_ERR_INPUT, "%s: %s: expected a measurement object", x->file, path);
        return NULL;
    }
    const char *kname = get_string(j, "kind");
    if (!kname) {
        ks_fail(ctx, KS_ERR_INPUT, "%s: %s.kind: expected a non-empty string", x->file, path);
        return NULL;
    }
    int kind = -1;
    for (int k = 0; k < MT_KIND_COUNT; k++)
        if (strcmp(mt_kinds[k].name, kname) == 0)
            kind = k;
    if (kind < 0) {
        ks_fail(ctx, KS_ERR_INPUT,
                "%s: %s.kind: unknown measurement of a trial (got '%s'; docs/VALIDATION.md, "
                "\"Trial experiments\")",
                x->file, path, kname);
        return NULL;
    }
    mt_measure *m = ks_calloc(ctx, 1, sizeof *m);
    if (!m)
        return NULL;
    m->kind = (mt_kind)kind;
    m->alpha = 0.05;
    m->fraction = 0.5;
    m->consecutive = 2;
    const char *keys[14] = {"kind", "note"};
    size_t nk = 2;
    for (size_t i = 0; i < 10 && mt_kinds[kind].keys[i]; i++)
        keys[nk++] = mt_kinds[kind].keys[i];
    ks_status st = keys_ok(ctx, j, keys, nk, x->file, path);
    if (st != KS_OK)
        goto fail;
    const ks_trial *t = NULL;
    if (kind <= MT_SEPARATION) {
        if ((st = find_trial(ctx, x, j, path, &m->trial)) != KS_OK)
            goto fail;
        t = x->trials[m->trial].trial;
        if ((st = find_arm(ctx, x, t, j, "arm", path, &m->arm)) != KS_OK)
            goto fail;
    }
    const char *conv = get_string(j, "convert");
    if (conv) {
        if (strcmp(conv, "hdrs25") != 0 || !t || t->scale != KS_SCALE_HDRS17) {
            st = ks_fail(ctx, KS_ERR_INPUT,
                         "%s: %s.convert: only \"hdrs25\", from a trial on the hdrs17 scale "
                         "(got '%s')",
                         x->file, path, conv);
            goto fail;
        }
        m->hdrs25 = 1;
    }
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(j, "exit_on_remission");
    if (ex) {
        if (!cJSON_IsBool(ex)) {
            st = ks_fail(ctx, KS_ERR_INPUT, "%s: %s.exit_on_remission: expected true or false",
                         x->file, path);
            goto fail;
        }
        m->exit_on_remission = cJSON_IsTrue(ex);
        if (m->exit_on_remission)
            x->trials[m->trial].need_patients = 1;
    }
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(j, "exit_rating");
    if (er) {
        const char *sv = cJSON_IsString(er) ? er->valuestring : NULL;
        if (!sv || (strcmp(sv, "independent") != 0 && strcmp(sv, "same") != 0) ||
            !m->exit_on_remission) {
            st = ks_fail(ctx, KS_ERR_INPUT,
                         "%s: %s.exit_rating: expected \"same\" or \"independent\" with "
                         "exit_on_remission true",
                         x->file, path);
            goto fail;
        }
        m->exit_independent = strcmp(sv, "independent") == 0;
        if (m->exit_independent)
            x->trials[m->trial].need_independent = 1;
    }
    switch (m->kind) {
    case MT_RESPONSE:
    case MT_REMISSION:
    case MT_MEAN_CHANGE:
    case MT_MEAN_FALL:
    case MT_MEAN_SCORE:
        st = find_visit(ctx, x, t, j, "visit", path, &m->visit);
        break;
    case MT_CHANGE_DIFF:
    case MT_FALL_DIFF:
        if ((st = find_arm(ctx, x, t, j, "reference", path, &m->ref)) == KS_OK)
            st = find_visit(ctx, x, t, j, "visit", path, &m->visit);
        break;
    case MT_FIRST_SIG:
        if ((st = find_arm(ctx, x, t, j, "reference", path, &m->ref)) == KS_OK)
            st = opt_num(ctx, j, "alpha", 1e-12, 0.5, x->file, path, &m->alpha);
        break;
    case MT_RELAPSE_MEDIAN:
        x->trials[m->trial].need_patients = 1;
        m->clock_h = NAN;
        if ((st = find_visit(ctx, x, t, j, "responder_visit", path, &m->visit)) == KS_OK &&
            (st = opt_num(ctx, j, "clock_start_h", 0.0, 1e6, x->file, path, &m->clock_h)) ==
                KS_OK &&
            (st = opt_num(ctx, j, "fraction", 0.0, 1.0, x->file, path, &m->fraction)) == KS_OK) {
            double c = 2.0;
            st = opt_num(ctx, j, "consecutive", 1.0, 100.0, x->file, path, &c);
            m->consecutive = (int)c;
        }
        if (st == KS_OK && !isfinite(m->clock_h))
            st = ks_fail(ctx, KS_ERR_INPUT,
                         "%s: %s.clock_start_h: required (hours from t = 0 at which the time to "
                         "relapse starts, e.g. the last infusion)",
                         x->file, path);
        break;
    case MT_REMITTED_BY:
        x->trials[m->trial].need_patients = 1;
        if ((st = find_visit(ctx, x, t, j, "by_visit", path, &m->visit)) == KS_OK)
            st = find_visit(ctx, x, t, j, "until_visit", path, &m->visit2);
        break;
    case MT_SEPARATION: {
        if ((st = find_arm(ctx, x, t, j, "reference", path, &m->ref)) != KS_OK ||
            (st = find_visit(ctx, x, t, j, "visit", path, &m->visit)) != KS_OK ||
            (st = opt_num(ctx, j, "alpha", 1e-12, 0.5, x->file, path, &m->alpha)) != KS_OK)
            break;
        const cJSON *fam = cJSON_GetObjectItemCaseSensitive(j, "family");
        if (!cJSON_IsArray(fam) || cJSON_GetArraySize(fam) < 1 ||
            cJSON_GetArraySize(fam) > MT_MAX_FAMILY) {
            st = ks_fail(ctx, KS_ERR_INPUT,
                         "%s: %s.family: expected an array of 1 to %d arm names (the arms "
                         "tested against the reference, adjusted together)",
                         x->file, path, MT_MAX_FAMILY);
            break;
        }
        int has_arm = 0;
        for (const cJSON *c = fam->child; c && st == KS_OK; c = c->next) {
            cJSON *tmp = cJSON_CreateObject();
            if (!tmp || !cJSON_AddItemToObject(tmp, "a", cJSON_Duplicate(c, 1))) {
                cJSON_Delete(tmp);
                st = ks_fail(ctx, KS_ERR_NOMEM, "out of memory");
                break;
            }
            char p[256];
            snprintf(p, sizeof p, "%s.family", path);
            st = find_arm(ctx, x, t, tmp, "a", p, &m->family[m->n_family]);
            cJSON_Delete(tmp);
            if (st == KS_OK)
                has_arm |= m->family[m->n_family++] == m->arm;
        }
        if (st == KS_OK && !has_arm)
            st = ks_fail(ctx, KS_ERR_INPUT, "%s: %s.family: must contain the arm", x->file, path);
        break;
    }
    case MT_RATIO:
        if ((st = parse_sub(ctx, x, j, "numerator", path, m)) == KS_OK)
            st = parse_sub(ctx, x, j, "denominator", path, m);
        break;
    case MT_DIFFERENCE:
        if ((st = parse_sub(ctx, x, j, "minuend", path, m)) == KS_OK)
            st = parse_sub(ctx, x, j, "subtrahend", path, m);
        break;
    case MT_COMPARE: {
        const char *op = get_string(j, "op");
        static const char *const ops[4] = {"<", "<=", ">", ">="};
        int o = -1;
        for (int k = 0; k < 4 && op; k++)
            if (strcmp(op, ops[k]) == 0)
                o = k;
        if (o < 0) {
            st = ks_fail(ctx, KS_ERR_INPUT, "%s: %s.op: expected <, <=, > or >=", x->file, path);
            break;
        }
        m->op = (mt_op)o;
        if ((st = parse_sub(ctx, x, j, "left", path, m)) != KS_OK)
            break;
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "right");
        if (cJSON_IsNumber(r)) {
            m->right_is_number = 1;
            m->number = r->valuedouble;
        } else {
            st = parse_sub(ctx, x, j, "right", path, m);
        }
        break;
    }
    case MT_ALL:
        st = parse_items(ctx, x, cJSON_GetObjectItemCaseSensitive(j, "items"), path, m, 1, 64);
        break;
    case MT_PAIR:
        st = parse_items(ctx, x, cJSON_GetObjectItemCaseSensitive(j, "items"), path, m, 2, 2);
        break;
    default:
        break;
    }
    if (st != KS_OK)
        goto fail;
    return m;
fail:
    measure_free(m);
    return NULL;
}

static ks_status parse_trial_entry(ks_ctx *ctx, ks_trial_exp *x, const cJSON *j,
                                   const char *base_dir, size_t i)
{
    static const char *const keys[] = {"name", "description", "trial", "replicates"};
    char path[64];
    snprintf(path, sizeof path, "$.trials[%zu]", i);
    if (!cJSON_IsObject(j))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: expected a trial entry object", x->file, path);
    ks_status st = keys_ok(ctx, j, keys, 4, x->file, path);
    const char *name;
    if (st != KS_OK || (st = need_str(ctx, j, "name", x->file, path, &name)) != KS_OK)
        return st;
    for (size_t k = 0; k < i; k++)
        if (strcmp(x->trials[k].name, name) == 0)
            return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.name: duplicate trial name '%s'", x->file,
                           path, name);
    mt_trial *t = &x->trials[i];
    if (!(t->name = ks_strdup(ctx, name)))
        return KS_ERR_NOMEM;
    double reps = 1.0;
    if ((st = opt_num(ctx, j, "replicates", 1.0, MT_MAX_REPLICATES, x->file, path, &reps)) != KS_OK)
        return st;
    if (reps != floor(reps))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.replicates: expected a whole number (got %g)",
                       x->file, path, reps);
    t->replicates = (long)reps;
    const cJSON *tj = cJSON_GetObjectItemCaseSensitive(j, "trial");
    if (!cJSON_IsObject(tj))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.trial: expected a trial object (docs/TRIAL.md)",
                       x->file, path);
    char *text = cJSON_PrintUnformatted(tj);
    if (!text)
        return ks_fail(ctx, KS_ERR_NOMEM, "%s: %s.trial: out of memory", x->file, path);
    char label[512];
    snprintf(label, sizeof label, "%s (%s.trial)", x->file, path);
    t->trial = ks_trial_parse(ctx, text, strlen(text), label, base_dir);
    cJSON_free(text);
    return t->trial ? KS_OK : ctx->status;
}

/* 1 when the measurement's value is a rate (for the items of a pair). */
static mt_dim measure_dim(const mt_measure *m)
{
    switch (m->kind) {
    case MT_RESPONSE:
    case MT_REMISSION:
    case MT_REMITTED_BY:
    case MT_SEPARATION:
    case MT_RATIO:
        return DIM_RATE;
    case MT_FIRST_SIG:
    case MT_RELAPSE_MEDIAN:
        return DIM_TIME;
    case MT_COMPARE:
    case MT_ALL:
        return DIM_BOOL;
    case MT_DIFFERENCE:
        return measure_dim(m->items[0]);
    default:
        return DIM_POINTS;
    }
}

ks_trial_exp *ks_trial_exp_parse(ks_ctx *ctx, const cJSON *root, const char *file,
                                 const char *base_dir, const ks_target_table *table)
{
    static const char *const keys[] = {"name", "description", "source", "trials", "targets"};
    ks_trial_exp *x = ks_calloc(ctx, 1, sizeof *x);
    if (!x)
        return NULL;
    if (!(x->file = ks_strdup(ctx, file)))
        goto fail;
    const char *s;
    if (keys_ok(ctx, root, keys, 5, file, "$") != KS_OK ||
        need_str(ctx, root, "name", file, "$", &s) != KS_OK ||
        need_str(ctx, root, "description", file, "$", &s) != KS_OK ||
        need_str(ctx, root, "source", file, "$", &s) != KS_OK)
        goto fail;
    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(root, "trials");
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(root, "targets");
    if (!cJSON_IsArray(trials) || cJSON_GetArraySize(trials) < 1) {
        ks_fail(ctx, KS_ERR_INPUT, "%s: $.trials: expected a non-empty array of trials", file);
        goto fail;
    }
    if (!cJSON_IsArray(targets) || cJSON_GetArraySize(targets) < 1) {
        ks_fail(ctx, KS_ERR_INPUT, "%s: $.targets: expected a non-empty array of targets", file);
        goto fail;
    }
    size_t nt = (size_t)cJSON_GetArraySize(trials), ng = (size_t)cJSON_GetArraySize(targets);
    if (!(x->trials = ks_calloc(ctx, nt, sizeof *x->trials)) ||
        !(x->targets = ks_calloc(ctx, ng, sizeof *x->targets)))
        goto fail;
    size_t i = 0;
    for (const cJSON *c = trials->child; c; c = c->next, i++) {
        x->n_trials = i + 1;
        if (parse_trial_entry(ctx, x, c, base_dir, i) != KS_OK)
            goto fail;
    }
    i = 0;
    for (const cJSON *c = targets->child; c; c = c->next, i++) {
        static const char *const tkeys[] = {"id", "measure", "note"};
        char path[64];
        snprintf(path, sizeof path, "$.targets[%zu]", i);
        x->n_targets = i + 1;
        mt_target *tg = &x->targets[i];
        const char *id;
        if (!cJSON_IsObject(c)) {
            ks_fail(ctx, KS_ERR_INPUT, "%s: %s: expected a target object", file, path);
            goto fail;
        }
        if (keys_ok(ctx, c, tkeys, 3, file, path) != KS_OK ||
            need_str(ctx, c, "id", file, path, &id) != KS_OK)
            goto fail;
        long row = ks_targets_find(table, id);
        if (row < 0) {
            ks_fail(ctx, KS_ERR_INPUT, "%s: %s.id: no target '%s' in targets.csv", file, path, id);
            goto fail;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(x->targets[k].id, id) == 0) {
                ks_fail(ctx, KS_ERR_INPUT, "%s: %s.id: target %s measured twice", file, path, id);
                goto fail;
            }
        tg->row = (size_t)row;
        if (!(tg->id = ks_strdup(ctx, id)))
            goto fail;
        char mpath[80];
        snprintf(mpath, sizeof mpath, "%s.measure", path);
        if (!(tg->m = parse_measure(ctx, x, cJSON_GetObjectItemCaseSensitive(c, "measure"), mpath)))
            goto fail;
        const ks_target *row_t = &table->rows[row];
        int compound = row_t->kind == KS_TARGET_COMPOUND;
        if (compound != (tg->m->kind == MT_PAIR)) {
            ks_fail(ctx, KS_ERR_INPUT, "%s: %s: target %s (\"%s\") needs %s", file, mpath, id,
                    row_t->target,
                    compound ? "a 'pair' of two rate measurements"
                             : "a single measurement (a 'pair' is only for 'a vs b' targets)");
            goto fail;
        }
        if (compound)
            for (int k = 0; k < 2; k++)
                if (measure_dim(tg->m->items[k]) != DIM_RATE) {
                    ks_fail(ctx, KS_ERR_INPUT,
                            "%s: %s.items[%d]: each item of a pair must be a rate", file, mpath, k);
                    goto fail;
                }
        if (row_t->kind == KS_TARGET_BOOL && measure_dim(tg->m) != DIM_BOOL) {
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: %s: target %s is a statement (unit bool): use "
                    "'compare' or 'all'",
                    file, mpath, id);
            goto fail;
        }
    }
    return x;
fail:
    ks_trial_exp_free(x);
    return NULL;
}

/* ------------------------------------------------------------------------------------------
 * Running
 * ---------------------------------------------------------------------------------------- */

void ks_mt_locf(double *o, size_t nv)
{
    for (size_t q = 1; q < nv; q++)
        if (isnan(o[q]))
            o[q] = o[q - 1];
}
/* Appends the per-patient rows of one replicate (the file written by ks_trial_run). With
 * need_independent, every attended visit also gets a second rating of the same noise-free score
 * with rater noise SD `sd`, from stream (seed, key, KS_RNG_RATER, KS_MT_OUTCOME_INDEX + v). */
static ks_status read_patient_rows(ks_ctx *ctx, mt_trial *mt, uint64_t seed, double sd,
                                   const ks_trial_result *r, const char *path)
{
    size_t len = 0;
    char *text = ks_read_file(ctx, path, "trial patient rows", MT_MAX_PATIENT_BYTES, &len);
    if (!text)
        return ctx->status;
    size_t nv = r->n_visits, na = r->n_arms;
    ks_status st = KS_OK;
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save); /* header */
    size_t k = 0, v = 0;
    uint64_t key = 0;
    mt_arm_rows *cur = NULL;
    char who[64] = "";
    /* Rows come grouped by patient in visit order; a patient who dropped out has no rows for
     * the visits he missed (docs/TRIAL.md "dropout"): those take the last observation carried
     * forward, the trial's main analysis (LOCF). */
    for (line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save), k++) {
        /* arm,patient,key,visit,time_h,true,observed */
        char *f[7];
        size_t nf = 0;
        char *p = line;
        f[nf++] = p;
        while (*p && nf < 7) {
            if (*p == ',') {
                *p = '\0';
                f[nf++] = p + 1;
            }
            p++;
        }
        if (nf != 7) {
            st = ks_fail(ctx, KS_ERR_INTERNAL, "%s: malformed patient row %zu", path, k + 2);
            break;
        }
        char id[64];
        snprintf(id, sizeof id, "%s,%s", f[0], f[1]);
        if (!cur || strcmp(id, who) != 0) {
            if (cur)
                ks_mt_locf(cur->obs + (cur->n - 1) * nv, nv);
            snprintf(who, sizeof who, "%s", id);
            cur = NULL;
            for (size_t a = 0; a < na; a++)
                if (strcmp(r->arm_names[a], f[0]) == 0)
                    cur = &mt->rows[a];
            if (!cur) {
                st = ks_fail(ctx, KS_ERR_INTERNAL, "%s: unknown arm '%s'", path, f[0]);
                break;
            }
            if (cur->n == cur->cap) {
                size_t nc = cur->cap ? 2 * cur->cap : 256;
                double *g = ks_realloc(ctx, cur->obs, nc * nv * sizeof *g);
                if (g)
                    cur->obs = g;
                double *h = g && mt->need_independent
                                ? ks_realloc(ctx, cur->ind, nc * nv * sizeof *h)
                                : NULL;
                if (h)
                    cur->ind = h;
                if (!g || (mt->need_independent && !h)) {
                    st = KS_ERR_NOMEM;
                    break;
                }
                cur->cap = nc;
            }
            cur->n++;
            for (size_t q = 0; q < nv; q++) {
                cur->obs[(cur->n - 1) * nv + q] = NAN;
                if (cur->ind)
                    cur->ind[(cur->n - 1) * nv + q] = NAN;
            }
            key = (uint64_t)strtoull(f[2], NULL, 10);
            v = 0;
        }
        double th = strtod(f[4], NULL);
        while (v < nv && fabs(th - r->visits[v].t_h) > 1e-6 * (1.0 + fabs(th)))
            v++;
        if (v == nv) {
            st = ks_fail(ctx, KS_ERR_INTERNAL,
                         "%s: row %zu: visit time %g is no visit of the trial", path, k + 2, th);
            break;
        }
        cur->obs[(cur->n - 1) * nv + v] = strtod(f[6], NULL);
        if (cur->ind)
            cur->ind[(cur->n - 1) * nv + v] =
                ks_rate(strtod(f[5], NULL), sd, ks_scale_max(mt->trial->scale), seed, key,
                        KS_MT_OUTCOME_INDEX + (uint64_t)v);
        v++;
    }
    if (st == KS_OK && cur)
        ks_mt_locf(cur->obs + (cur->n - 1) * nv, nv);
    free(text);
    return st;
}

static void mt_fail_message(ks_ctx *ctx, mt_trial *mt, const char *what, long rep)
{
    char msg[KS_MSG_MAX + 200];
    snprintf(msg, sizeof msg, "trial '%s' replicate %ld: %s: %s (%s)", mt->name, rep + 1, what,
             ks_ctx_message(ctx), ks_strerror(ks_ctx_status(ctx)));
    free(mt->error);
    mt->error = strdup(msg);
}

/* Rater noise SD on the trial's scale (MODEL.md 8: clin.rater_sd MADRS points, divided by
 * clin.madrs_per_hamd for HDRS-17). */
static ks_status rater_sd(ks_ctx *ctx, const ks_params *params, const ks_trial *tr, double *sd)
{
    ks_ctx local = {KS_OK, ""};
    double f = 1.0;
    if (ks_params_get(&local, params, "clin.rater_sd", sd) != KS_OK ||
        (tr->scale == KS_SCALE_HDRS17 &&
         ks_params_get(&local, params, "clin.madrs_per_hamd", &f) != KS_OK))
        return ks_fail(ctx, KS_ERR_INPUT, "%s", local.message);
    *sd /= f;
    return KS_OK;
}

/* Runs every replicate of trial mt (once). A failure is recorded in mt->error (a miss);
 * only running out of memory is returned. */
static ks_status run_trial(ks_ctx *ctx, const ks_params *params, mt_trial *mt, int threads)
{
    if (mt->ran)
        return KS_OK;
    mt->ran = 1;
    if (!(mt->res = ks_calloc(ctx, (size_t)mt->replicates, sizeof *mt->res)))
        return KS_ERR_NOMEM;
    if (mt->need_patients && !(mt->rows = ks_calloc(ctx, mt->trial->n_arms, sizeof *mt->rows)))
        return KS_ERR_NOMEM;
    double sd = 0.0;
    ks_status st;
    if (mt->need_independent && (st = rater_sd(ctx, params, mt->trial, &sd)) != KS_OK)
        return st;
    char path[512] = "";
    if (mt->need_patients) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/ketasim_trial_XXXXXX", dir && *dir ? dir : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0) {
            char msg[600];
            snprintf(msg, sizeof msg, "trial '%s': cannot create a temporary file %s: %s", mt->name,
                     path, strerror(errno));
            mt->error = strdup(msg);
            return mt->error ? KS_OK : ks_fail(ctx, KS_ERR_NOMEM, "out of memory");
        }
        close(fd);
    }
    for (long r = 0; r < mt->replicates; r++) {
        ks_trial_options opt;
        ks_trial_options_init(&opt);
        opt.threads = threads;
        opt.override_seed = 1;
        opt.seed = (unsigned long long)(ks_trial_seed(mt->trial) + (unsigned long long)r);
        opt.sim.fast_rtol = MT_RTOL;
        opt.sim.fast_atol = MT_ATOL;
        opt.patients_csv = mt->need_patients ? path : NULL;
        ks_ctx *local = ks_ctx_create();
        if (!local)
            return ks_fail(ctx, KS_ERR_NOMEM, "out of memory");
        mt->res[r] = ks_trial_run(local, params, mt->trial, &opt);
        if (!mt->res[r]) {
            if (ks_ctx_status(local) == KS_ERR_NOMEM) {
                ks_ctx_free(local);
                return ks_fail(ctx, KS_ERR_NOMEM, "out of memory running trial %s", mt->name);
            }
            mt_fail_message(local, mt, "simulation failed", r);
            ks_ctx_free(local);
            break;
        }
        if (mt->need_patients &&
            read_patient_rows(local, mt, (uint64_t)opt.seed, sd, mt->res[r], path) != KS_OK) {
            mt_fail_message(local, mt, "patient rows", r);
            ks_ctx_free(local);
            break;
        }
        ks_ctx_free(local);
    }
    if (path[0])
        unlink(path);
    return KS_OK;
}

/* ------------------------------------------------------------------------------------------
 * Evaluation
 * ---------------------------------------------------------------------------------------- */

typedef struct {
    double value;
    mt_dim dim;
} mt_value;

typedef struct {
    ks_ctx *ctx;
    const ks_params *params;
    ks_trial_exp *x;
    int threads;
    char *detail;
    size_t dsize;
    char miss[KS_MSG_MAX]; /* set when the measurement cannot be taken */
} mt_eval;

static const char *scale_label(const mt_trial *t, int hdrs25)
{
    if (hdrs25)
        return "HDRS-25";
    return t->trial->scale == KS_SCALE_HDRS17 ? "HDRS-17" : "MADRS";
}

static ks_status need_run(mt_eval *ev, mt_trial *t)
{
    ks_status st = run_trial(ev->ctx, ev->params, t, ev->threads);
    if (st != KS_OK)
        return st;
    if (t->error) {
        snprintf(ev->miss, sizeof ev->miss, "%s", t->error);
        return KS_ERR_VALIDATION;
    }
    return KS_OK;
}

/* Factor from the trial's scale to the reported scale (HDRS-25 conversion when asked). */
static ks_status points_factor(mt_eval *ev, const mt_measure *m, double *f)
{
    *f = 1.0;
    if (!m->hdrs25)
        return KS_OK;
    ks_ctx local = {KS_OK, ""};
    if (ks_params_get(&local, ev->params, "clin.hdrs25_per_hdrs17", f) != KS_OK)
        return ks_fail(ev->ctx, KS_ERR_INPUT, "%s", local.message);
    return KS_OK;
}

/* Response (from baseline rating b) and remission of a rating x (trial definitions). */
static int responded_x(const ks_trial *t, double b, double x)
{
    return b > 0.0 && b - x >= t->response_fraction * b;
}

static int remitted_x(const ks_trial *t, double x)
{
    return x <= t->remission_max;
}

/* The same for one patient's ratings at visit v. */
static int responded(const ks_trial *t, const double *obs, size_t v)
{
    return responded_x(t, obs[0], obs[v]);
}

static int remitted(const ks_trial *t, const double *obs, size_t v)
{
    return remitted_x(t, obs[v]);
}

/* The visit at which the patient's outcome is read: the first remission at or before v when
 * exit_on_remission (the patient leaves the study then), else v. */
static size_t exit_visit(const ks_trial *t, const double *obs, size_t v, int exit_on_remission)
{
    if (exit_on_remission)
        for (size_t k = 1; k <= v; k++)
            if (remitted(t, obs, k))
                return k;
    return v;
}

static ks_status eval(mt_eval *ev, const mt_measure *m, mt_value *out);

static ks_status eval_rate(mt_eval *ev, mt_trial *t, const mt_measure *m, mt_value *out)
{
    ks_status st;
    const ks_trial *tr = t->trial;
    size_t k = 0, n = 0;
    int resp = m->kind == MT_RESPONSE;
    if (m->exit_on_remission) {
        const mt_arm_rows *rw = &t->rows[m->arm];
        const size_t nv = tr->n_visits;
        for (size_t i = 0; i < rw->n; i++) {
            const double *o = rw->obs + i * nv;
            size_t v = exit_visit(tr, o, m->visit, 1);
            /* the outcome at exit: the visit's rating, or a second, independent rating of the
             * same state (blinded outcome assessors; the exit decision stands on the visit's
             * clinic rating); a missed exit visit keeps the carried rating */
            double x = o[v];
            if (m->exit_independent && !isnan(rw->ind[i * nv + v]))
                x = rw->ind[i * nv + v];
            k += (size_t)(resp ? responded_x(tr, o[0], x) : remitted_x(tr, x));
        }
        n = rw->n;
    } else {
        for (long r = 0; r < t->replicates; r++) {
            ks_trial_visit_stats s;
            if ((st = ks_trial_result_visit_stats(ev->ctx, t->res[r], m->arm, m->visit, &s)) !=
                KS_OK)
                return st;
            k += resp ? s.responders : s.remitters;
            n += s.n;
        }
    }
    if (n == 0) {
        snprintf(ev->miss, sizeof ev->miss, "trial '%s': no patient in arm %s", t->name,
                 tr->arms[m->arm].name);
        return KS_ERR_VALIDATION;
    }
    double p = (double)k / (double)n;
    out->value = p;
    out->dim = DIM_RATE;
    if (resp)
        ks_detail_append(ev->detail, ev->dsize, "response (fall >= %g%% of baseline %s)",
                         100.0 * tr->response_fraction, scale_label(t, 0));
    else
        ks_detail_append(ev->detail, ev->dsize, "remission (%s <= %g)", scale_label(t, 0),
                         tr->remission_max);
    ks_detail_append(
        ev->detail, ev->dsize,
        " of arm %s at %s%s%s in trial %s: %zu/%zu = %.1f%% (binomial SE %.1f)",
        tr->arms[m->arm].name, m->exit_on_remission ? "exit (first remission, else " : "",
        tr->visits[m->visit].label,
        m->exit_on_remission
            ? (m->exit_independent ? "; outcome from an independent rating at exit)" : ")")
            : "",
        t->name, k, n, 100.0 * p, 100.0 * sqrt(p * (1.0 - p) / (double)n));
    return KS_OK;
}

static ks_status eval_mean(mt_eval *ev, mt_trial *t, const mt_measure *m, mt_value *out)
{
    ks_status st;
    double f;
    if ((st = points_factor(ev, m, &f)) != KS_OK)
        return st;
    const ks_trial *tr = t->trial;
    double sum = 0.0, var = 0.0;
    size_t n = 0;
    for (long r = 0; r < t->replicates; r++) {
        ks_trial_visit_stats s;
        if ((st = ks_trial_result_visit_stats(ev->ctx, t->res[r], m->arm, m->visit, &s)) != KS_OK)
            return st;
        double mu = m->kind == MT_MEAN_SCORE ? s.mean : s.change_mean;
        double sd = m->kind == MT_MEAN_SCORE ? s.sd : s.change_sd;
        sum += mu * (double)s.n;
        if (isfinite(sd))
            var += sd * sd * (double)s.n;
        n += s.n;
    }
    if (n == 0) {
        snprintf(ev->miss, sizeof ev->miss, "trial '%s': no patient", t->name);
        return KS_ERR_VALIDATION;
    }
    double mean = f * sum / (double)n, se = f * sqrt(var / (double)n / (double)n);
    const char *what = m->kind == MT_MEAN_SCORE  ? "mean score"
                       : m->kind == MT_MEAN_FALL ? "mean fall from baseline"
                                                 : "mean change from baseline";
    if (m->kind == MT_MEAN_FALL)
        mean = -mean;
    out->value = mean;
    out->dim = DIM_POINTS;
    ks_detail_append(ev->detail, ev->dsize,
                     "%s (%s) of arm %s at %s in trial %s: %.2f (SE %.2f, n %zu)", what,
                     scale_label(t, m->hdrs25), tr->arms[m->arm].name, tr->visits[m->visit].label,
                     t->name, mean, se, n);
    return KS_OK;
}

static ks_status eval_diff(mt_eval *ev, mt_trial *t, const mt_measure *m, mt_value *out)
{
    ks_status st;
    double f;
    if ((st = points_factor(ev, m, &f)) != KS_OK)
        return st;
    const ks_trial *tr = t->trial;
    double sum = 0.0, se2 = 0.0;
    size_t n = 0;
    for (long r = 0; r < t->replicates; r++) {
        ks_trial_visit_stats a, b;
        ks_trial_contrast c;
        if ((st = ks_trial_result_visit_stats(ev->ctx, t->res[r], m->arm, m->visit, &a)) != KS_OK ||
            (st = ks_trial_result_visit_stats(ev->ctx, t->res[r], m->ref, m->visit, &b)) != KS_OK)
            return st;
        if (tr->design == KS_DESIGN_CROSSOVER && m->ref == tr->reference_arm &&
            ks_trial_result_contrast(ev->ctx, t->res[r], m->arm, m->visit, &c) == KS_OK &&
            isfinite(c.se)) {
            sum += c.diff;
            se2 += c.se * c.se;
        } else {
            sum += a.change_mean - b.change_mean;
            double va = isfinite(a.change_sd) ? a.change_sd * a.change_sd / (double)a.n : 0.0;
            double vb = isfinite(b.change_sd) ? b.change_sd * b.change_sd / (double)b.n : 0.0;
            se2 += va + vb;
        }
        n++;
    }
    double d = f * sum / (double)n, se = f * sqrt(se2) / (double)n;
    if (m->kind == MT_FALL_DIFF)
        d = -d;
    out->value = d;
    out->dim = DIM_POINTS;
    ks_detail_append(ev->detail, ev->dsize, "%s (%s) %s minus %s at %s in trial %s: %.2f (SE %.2f)",
                     m->kind == MT_FALL_DIFF ? "fall from baseline" : "change from baseline",
                     scale_label(t, m->hdrs25), tr->arms[m->arm].name, tr->arms[m->ref].name,
                     tr->visits[m->visit].label, t->name, d, se);
    return KS_OK;
}

static ks_status eval_first_sig(mt_eval *ev, mt_trial *t, const mt_measure *m, mt_value *out)
{
    ks_status st;
    const ks_trial *tr = t->trial;
    double *first = ks_malloc(ev->ctx, (size_t)t->replicates * sizeof *first);
    if (!first)
        return KS_ERR_NOMEM;
    size_t never = 0;
    for (long r = 0; r < t->replicates; r++) {
        first[r] = INFINITY;
        for (size_t v = 1; v < tr->n_visits; v++) {
            ks_trial_contrast c;
            if (m->ref != tr->reference_arm) {
                free(first);
                return ks_fail(ev->ctx, KS_ERR_INPUT,
                               "first_significant_visit: the reference must be the trial's "
                               "reference arm");
            }
            if ((st = ks_trial_result_contrast(ev->ctx, t->res[r], m->arm, v, &c)) != KS_OK) {
                free(first);
                return st;
            }
            /* the drug lowers the score: a negative difference with two-sided p < alpha */
            if (isfinite(c.p_value) && c.p_value < m->alpha && c.diff < 0.0) {
                first[r] = tr->visits[v].t_h;
                break;
            }
        }
        never += (size_t)isinf(first[r]);
    }
    double med = ks_mt_median(first, (size_t)t->replicates);
    free(first);
    out->value = med;
    out->dim = DIM_TIME;
    ks_detail_append(
        ev->detail, ev->dsize,
        "first visit with %s minus %s change significant (two-sided p < %g, lower) in trial %s: "
        "median over %ld replicates of n = %ld: %.3g h (never significant in %zu)",
        tr->arms[m->arm].name, tr->arms[m->ref].name, m->alpha, t->name, t->replicates,
        tr->n_per_arm, med, never);
    return KS_OK;
}

static ks_status eval_relapse(mt_eval *ev, mt_trial *t, const mt_measure *m, mt_value *out)
{
    const ks_trial *tr = t->trial;
    const mt_arm_rows *rw = &t->rows[m->arm];
    size_t nv = tr->n_visits;
    double *th = ks_malloc(ev->ctx, nv * sizeof *th);
    double *time = ks_malloc(ev->ctx, (rw->n ? rw->n : 1) * sizeof *time);
    int *event = ks_malloc(ev->ctx, (rw->n ? rw->n : 1) * sizeof *event);
    if (!th || !time || !event) {
        free(th);
        free(time);
        free(event);
        return KS_ERR_NOMEM;
    }
    for (size_t v = 0; v < nv; v++)
        th[v] = tr->visits[v].t_h;
    size_t nr = 0, nev = 0;
    for (size_t i = 0; i < rw->n; i++) {
        const double *o = rw->obs + i * nv;
        if (!responded(tr, o, m->visit))
            continue;
        int e;
        double tt =
            ks_mt_relapse_time(o, th, nv, m->visit + 1, o[0], m->fraction, m->consecutive, &e);
        time[nr] = tt - m->clock_h;
        event[nr] = e;
        nev += (size_t)e;
        nr++;
    }
    free(th);
    if (nr == 0) {
        free(time);
        free(event);
        snprintf(ev->miss, sizeof ev->miss, "trial '%s': no responder at %s", t->name,
                 tr->visits[m->visit].label);
        return KS_ERR_VALIDATION;
    }
    double med = ks_mt_km_median(time, event, nr);
    free(time);
    free(event);
    out->value = med;
    out->dim = DIM_TIME;
    ks_detail_append(
        ev->detail, ev->dsize,
        "Kaplan-Meier median time to relapse (score > %g x baseline on %d consecutive visits) "
        "from %g h among the %zu responders at %s of %zu patients (arm %s, trial %s): %.3g days "
        "(%zu relapsed, %zu censored)",
        m->fraction, m->consecutive, m->clock_h, nr, tr->visits[m->visit].label, rw->n,
        tr->arms[m->arm].name, t->name, med / 24.0, nev, nr - nev);
    return KS_OK;
}

static ks_status eval_remitted_by(mt_eval *ev, mt_trial *t, const mt_measure *m, mt_value *out)
{
    const ks_trial *tr = t->trial;
    const mt_arm_rows *rw = &t->rows[m->arm];
    size_t eventual = 0, early = 0;
    for (size_t i = 0; i < rw->n; i++) {
        const double *o = rw->obs + i * tr->n_visits;
        for (size_t v = 1; v <= m->visit2; v++)
            if (remitted(tr, o, v)) {
                eventual++;
                early += (size_t)(v <= m->visit);
                break;
            }
    }
    if (eventual == 0) {
        snprintf(ev->miss, sizeof ev->miss, "trial '%s': no remitter by %s", t->name,
                 tr->visits[m->visit2].label);
        return KS_ERR_VALIDATION;
    }
    double p = (double)early / (double)eventual;
    out->value = p;
    out->dim = DIM_RATE;
    ks_detail_append(
        ev->detail, ev->dsize,
        "of the %zu patients (of %zu, arm %s, trial %s) first remitted by %s, %zu first remitted "
        "by %s: %.3f (binomial SE %.3f)",
        eventual, rw->n, tr->arms[m->arm].name, t->name, tr->visits[m->visit2].label, early,
        tr->visits[m->visit].label, p, sqrt(p * (1.0 - p) / (double)eventual));
    return KS_OK;
}

static ks_status eval_separation(mt_eval *ev, mt_trial *t, const mt_measure *m, mt_value *out)
{
    ks_status st;
    const ks_trial *tr = t->trial;
    if (m->ref != tr->reference_arm)
        return ks_fail(ev->ctx, KS_ERR_INPUT,
                       "separation_fraction: the reference must be the trial's reference arm");
    size_t sep = 0, self = 0;
    for (size_t k = 0; k < m->n_family; k++)
        if (m->family[k] == m->arm)
            self = k;
    for (long r = 0; r < t->replicates; r++) {
        double p[MT_MAX_FAMILY];
        int rej[MT_MAX_FAMILY];
        for (size_t k = 0; k < m->n_family; k++) {
            ks_trial_contrast c;
            if ((st = ks_trial_result_contrast(ev->ctx, t->res[r], m->family[k], m->visit, &c)) !=
                KS_OK)
                return st;
            /* a separation in the direction of benefit only */
            p[k] = c.diff < 0.0 ? c.p_value : 1.0;
        }
        ks_mt_holm(p, m->n_family, m->alpha, rej);
        sep += (size_t)rej[self];
    }
    double f = (double)sep / (double)t->replicates;
    out->value = f;
    out->dim = DIM_RATE;
    ks_detail_append(
        ev->detail, ev->dsize,
        "%s separates from %s at %s (Holm over %zu arms, alpha %g) in %zu of %ld replicate "
        "trials of n = %ld per arm (%.2f)",
        tr->arms[m->arm].name, tr->arms[m->ref].name, tr->visits[m->visit].label, m->n_family,
        m->alpha, sep, t->replicates, tr->n_per_arm, f);
    return KS_OK;
}

/* A measurement read from the runs of one trial. */
typedef ks_status (*mt_trial_eval)(mt_eval *ev, mt_trial *t, const mt_measure *m, mt_value *out);

/* The reader of a measurement kind that reads one trial; NULL for the other kinds. */
static mt_trial_eval trial_eval_of(mt_kind kind)
{
    switch (kind) {
    case MT_RESPONSE:
    case MT_REMISSION:
        return eval_rate;
    case MT_MEAN_CHANGE:
    case MT_MEAN_FALL:
    case MT_MEAN_SCORE:
        return eval_mean;
    case MT_CHANGE_DIFF:
    case MT_FALL_DIFF:
        return eval_diff;
    case MT_FIRST_SIG:
        return eval_first_sig;
    case MT_RELAPSE_MEDIAN:
        return eval_relapse;
    case MT_REMITTED_BY:
        return eval_remitted_by;
    case MT_SEPARATION:
        return eval_separation;
    default:
        return NULL;
    }
}

static ks_status eval(mt_eval *ev, const mt_measure *m, mt_value *out)
{
    ks_status st;
    mt_value a, b;
    mt_trial_eval one = trial_eval_of(m->kind);
    if (one) {
        /* the trial is run once, on the first measurement that reads it */
        mt_trial *t = &ev->x->trials[m->trial];
        if ((st = need_run(ev, t)) != KS_OK)
            return st;
        return one(ev, t, m, out);
    }
    switch (m->kind) {
    case MT_RATIO:
    case MT_DIFFERENCE:
        ks_detail_append(ev->detail, ev->dsize, "%s of [",
                         m->kind == MT_RATIO ? "ratio" : "difference");
        if ((st = eval(ev, m->items[0], &a)) != KS_OK)
            return st;
        ks_detail_append(ev->detail, ev->dsize, "] %s [", m->kind == MT_RATIO ? "over" : "minus");
        if ((st = eval(ev, m->items[1], &b)) != KS_OK)
            return st;
        if (a.dim != b.dim)
            return ks_fail(ev->ctx, KS_ERR_INPUT, "%s of measurements of different dimensions",
                           m->kind == MT_RATIO ? "ratio" : "difference");
        out->dim = m->kind == MT_RATIO ? DIM_RATE : a.dim;
        out->value = m->kind == MT_RATIO ? a.value / b.value : a.value - b.value;
        ks_detail_append(ev->detail, ev->dsize, "] = %.4g", out->value);
        return KS_OK;
    case MT_COMPARE: {
        if ((st = eval(ev, m->items[0], &a)) != KS_OK)
            return st;
        if (m->right_is_number) {
            b.value = m->number;
            b.dim = a.dim;
        } else {
            ks_detail_append(ev->detail, ev->dsize, " vs ");
            if ((st = eval(ev, m->items[1], &b)) != KS_OK)
                return st;
        }
        if (a.dim != b.dim)
            return ks_fail(ev->ctx, KS_ERR_INPUT, "compare: measurements of different dimensions");
        int h = m->op == OP_LT   ? a.value < b.value
                : m->op == OP_LE ? a.value <= b.value
                : m->op == OP_GT ? a.value > b.value
                                 : a.value >= b.value;
        static const char *const ops[4] = {"<", "<=", ">", ">="};
        ks_detail_append(ev->detail, ev->dsize, " [%.4g %s %.4g: %s]", a.value, ops[m->op], b.value,
                         h ? "holds" : "fails");
        out->value = h;
        out->dim = DIM_BOOL;
        return KS_OK;
    }
    case MT_ALL: {
        int all = 1;
        for (size_t i = 0; i < m->n_items; i++) {
            if (i)
                ks_detail_append(ev->detail, ev->dsize, "; ");
            if ((st = eval(ev, m->items[i], &a)) != KS_OK)
                return st;
            if (a.dim != DIM_BOOL)
                return ks_fail(ev->ctx, KS_ERR_INPUT, "all: every item must be a statement");
            all = all && a.value != 0.0;
        }
        out->value = all;
        out->dim = DIM_BOOL;
        return KS_OK;
    }
    default:
        return ks_fail(ev->ctx, KS_ERR_INTERNAL, "measurement kind %d cannot be evaluated alone",
                       (int)m->kind);
    }
}

/* Converts a value to the row's unit. */
static ks_status convert(ks_ctx *ctx, const mt_value *v, const char *unit, double *out)
{
    int ok = 1;
    switch (v->dim) {
    case DIM_RATE:
        if (strcmp(unit, "%") == 0)
            *out = 100.0 * v->value;
        else if (strcmp(unit, "fraction") == 0 || strcmp(unit, "ratio") == 0)
            *out = v->value;
        else
            ok = 0;
        break;
    case DIM_POINTS:
        ok = strcmp(unit, "points") == 0;
        *out = v->value;
        break;
    case DIM_TIME:
        if (strcmp(unit, "h") == 0)
            *out = v->value;
        else if (strcmp(unit, "min") == 0)
            *out = 60.0 * v->value;
        else if (strcmp(unit, "days") == 0)
            *out = v->value / 24.0;
        else
            ok = 0;
        break;
    case DIM_BOOL:
        ok = strcmp(unit, "bool") == 0;
        *out = v->value;
        break;
    }
    if (!ok) {
        static const char *const dims[4] = {"rate", "points", "time", "statement"};
        return ks_fail(ctx, KS_ERR_INPUT, "a %s cannot be given in unit '%s'", dims[v->dim], unit);
    }
    return KS_OK;
}

ks_status ks_trial_exp_measure(ks_ctx *ctx, const ks_params *params, ks_trial_exp *x, size_t i,
                               const ks_target *t, int threads, ks_trial_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->simulated = NAN;
    if (!x || i >= x->n_targets)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_trial_exp_measure: no target %zu", i);
    const mt_measure *m = x->targets[i].m;
    mt_eval ev;
    memset(&ev, 0, sizeof ev);
    ev.ctx = ctx;
    ev.params = params;
    ev.x = x;
    ev.threads = threads;
    ev.detail = out->detail;
    ev.dsize = sizeof out->detail;
    ks_status st;
    if (t->kind == KS_TARGET_COMPOUND) {
        double pct[2];
        for (int k = 0; k < 2; k++) {
            mt_value v;
            if (k)
                ks_detail_append(out->detail, sizeof out->detail, " vs ");
            st = eval(&ev, m->items[k], &v);
            if (st == KS_ERR_VALIDATION)
                goto miss;
            if (st != KS_OK)
                return st;
            pct[k] = 100.0 * v.value;
        }
        char why[160];
        out->pass = ks_target_compound_pass(t, pct, why, sizeof why);
        if (t->denominator[0] > 0)
            snprintf(out->text, sizeof out->text, "%.1f/%d vs %.1f/%d",
                     pct[0] / 100.0 * t->denominator[0], t->denominator[0],
                     pct[1] / 100.0 * t->denominator[1], t->denominator[1]);
        else
            snprintf(out->text, sizeof out->text, "%.1f vs %.1f", pct[0], pct[1]);
        if (!out->pass)
            ks_detail_append(out->detail, sizeof out->detail, "; miss: %s", why);
        return KS_OK;
    }
    mt_value v;
    st = eval(&ev, m, &v);
    if (st == KS_ERR_VALIDATION)
        goto miss;
    if (st != KS_OK)
        return st;
    double val = NAN;
    if ((st = convert(ctx, &v, t->unit, &val)) != KS_OK)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: target %s: %s", x->file, t->id, ks_ctx_message(ctx));
    if (t->kind == KS_TARGET_BOOL) {
        out->pass = val != 0.0;
        snprintf(out->text, sizeof out->text, "%s", out->pass ? "true" : "false");
    } else {
        out->pass = isfinite(val) && val >= t->low && val <= t->high;
        snprintf(out->text, sizeof out->text, "%.4g", val);
    }
    out->simulated = val;
    return KS_OK;
miss:
    out->pass = 0;
    out->simulated = NAN;
    snprintf(out->text, sizeof out->text, "n/a");
    snprintf(out->detail, sizeof out->detail, "%s", ev.miss);
    return KS_OK;
}
