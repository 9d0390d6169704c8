/*
 * measure.c -- the measurement vocabulary of experiment files: parsing of measurement objects
 * and their evaluation on simulated arms through non-compartmental analysis (sim/nca.h).
 *
 * Pharmacokinetic definitions (Gabrielsson & Weiner, Pharmacokinetic and Pharmacodynamic Data
 * Analysis, ch. 2): CL = dose / AUC0-inf after intravenous input; Vss = CL x (MRT - MIT), MIT
 * the mean input time (T/2 for a constant-rate infusion of duration T); absolute
 * bioavailability F = (AUC0-inf / dose)_test / (AUC0-inf / dose)_iv, written in experiment
 * files as a ratio of two dose_normalized_auc measurements.
 *
 * Mechanism outputs (docs/MODEL.md) are curves with a non-zero baseline and either sign; they
 * are read with the curve kinds (max_value, min_value, mean_value, time_of_max, time_of_min,
 * crossing_time), which interpolate linearly between output times and do no NCA. A leaf may
 * read the difference of its output from the same output of another arm ("vs_arm"), e.g.
 * drug minus vehicle, interpolated onto the first arm's times.
 */
#include "measure.h"

#include "../core/internal.h"
#include "../io/scenario_internal.h"
#include "../sim/nca.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    MK_CMAX = 0,
    MK_TMAX,
    MK_AUC,
    MK_HALF_LIFE,
    MK_CLEARANCE,
    MK_VSS,
    MK_DNAUC,
    MK_TIME_BELOW,
    MK_VALUE_AT,
    MK_MAX_VALUE,
    MK_MIN_VALUE,
    MK_MEAN_VALUE,
    MK_TIME_OF_MAX,
    MK_TIME_OF_MIN,
    MK_CROSSING,
    MK_RATIO,
    MK_DIFFERENCE,
    MK_RELDIFF,
    MK_MAX_OF,
    MK_MIN_OF,
    MK_COMPARE,
    MK_ALL,
    MK_PAIR,
    MK_COUNT
} mkind;

/* First kind that needs no NCA (and accepts curves of either sign). */
#define MK_FIRST_CURVE MK_VALUE_AT
#define MK_NKEYS       10

typedef enum { REF_FIRST_DOSE = 0, REF_LAST_DOSE, REF_ZERO, REF_DOSE, REF_EVENT } tref;
typedef enum { THR_NONE = 0, THR_FRACTION_OF_PEAK, THR_RELATIVE, THR_ABSOLUTE } thrkind;
typedef enum { OP_LT = 0, OP_LE, OP_GT, OP_GE } cmpop;

/* Keys allowed in each kind's object, besides "kind" and "note". */
static const struct {
    const char *name;
    int leaf;
    const char *keys[MK_NKEYS];
} ks_mkinds[MK_COUNT] = {
    [MK_CMAX] = {"cmax", 1, {"arm", "output"}},
    [MK_TMAX] = {"tmax", 1, {"arm", "output", "from"}},
    [MK_AUC] = {"auc", 1, {"arm", "output", "to"}},
    [MK_HALF_LIFE] = {"half_life", 1, {"arm", "output"}},
    [MK_CLEARANCE] = {"clearance", 1, {"arm", "output", "drugs"}},
    [MK_VSS] = {"vss", 1, {"arm", "output", "drugs"}},
    [MK_DNAUC] = {"dose_normalized_auc", 1, {"arm", "output", "drugs"}},
    [MK_TIME_BELOW] = {"time_below_fraction", 1, {"arm", "output", "fraction", "from"}},
    [MK_VALUE_AT] = {"value_at", 1, {"arm", "output", "time_h", "from", "vs_arm"}},
    [MK_MAX_VALUE] = {"max_value", 1, {"arm", "output", "from", "start_h", "end_h", "vs_arm"}},
    [MK_MIN_VALUE] = {"min_value", 1, {"arm", "output", "from", "start_h", "end_h", "vs_arm"}},
    [MK_MEAN_VALUE] = {"mean_value", 1, {"arm", "output", "from", "start_h", "end_h", "vs_arm"}},
    [MK_TIME_OF_MAX] = {"time_of_max", 1, {"arm", "output", "from", "start_h", "end_h", "vs_arm"}},
    [MK_TIME_OF_MIN] = {"time_of_min", 1, {"arm", "output", "from", "start_h", "end_h", "vs_arm"}},
    [MK_CROSSING] = {"crossing_time",
                     1,
                     {"arm", "output", "from", "end_h", "vs_arm", "direction", "fraction_of_peak",
                      "relative", "absolute"}},
    [MK_RATIO] = {"ratio", 0, {"numerator", "denominator"}},
    [MK_DIFFERENCE] = {"difference", 0, {"minuend", "subtrahend"}},
    [MK_RELDIFF] = {"relative_difference", 0, {"value", "reference"}},
    [MK_MAX_OF] = {"max_of", 0, {"items"}},
    [MK_MIN_OF] = {"min_of", 0, {"items"}},
    [MK_COMPARE] = {"compare", 0, {"left", "op", "right", "factor"}},
    [MK_ALL] = {"all", 0, {"items"}},
    [MK_PAIR] = {"pair", 0, {"items"}},
};

static const char *const ks_op_names[4] = {"<", "<=", ">", ">="};
static const char *const ks_ref_names[3] = {"first_dose", "last_dose", "time_zero"};

struct ks_measure {
    mkind kind;
    size_t arm;
    int has_vs; /* 1: the curve is this arm's output minus vs_arm's */
    size_t vs_arm;
    char *output;
    tref from;
    int ref_index;   /* REF_DOSE: k-th dose (1-based; -1 the last); REF_EVENT: k-th event */
    int ref_drug;    /* REF_DOSE: only doses of this ks_drug count; -1 every dose */
    int ref_event;   /* REF_EVENT: ks_event_kind */
    int ref_end;     /* REF_EVENT: 1 = the end of an interval event */
    double start_h;  /* window start after the reference (curve kinds); NaN: the reference */
    double end_h;    /* window end after the reference; NaN: the end of the output */
    int rise;        /* crossing_time: 1 rise, 0 return */
    thrkind thr;     /* crossing_time threshold kind */
    double thr_value;
    double factor; /* compare: the right side is multiplied by it (1 by default) */
    double fraction;
    double time_h;
    double auc_to_h;    /* INFINITY: to infinity; NAN: to the last positive sample */
    unsigned drug_mask; /* bit d set: doses of drug d count; 0: every dose */
    cmpop op;
    int has_constant;
    double constant;
    ks_measure **items;
    size_t n_items;
};

/* ------------------------------------------------------------------------------------------
 * Parsing
 * ---------------------------------------------------------------------------------------- */

void ks_measure_free(ks_measure *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_items; i++)
        ks_measure_free(m->items[i]);
    free(m->items);
    free(m->output);
    free(m);
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static ks_status parse_rec(ks_ctx *ctx, const cJSON *json, const char *file, const char *path,
                           const ks_arm *arms, size_t n_arms, int depth, ks_measure **out);

/* Parses child `key` of json as a measurement into m->items[i]. */
static ks_status parse_child(ks_ctx *ctx, const cJSON *json, const char *key, const char *file,
                             const char *path, const ks_arm *arms, size_t n_arms, int depth,
                             ks_measure *m, size_t i)
{
    char sub[512];
    snprintf(sub, sizeof sub, "%s.%s", path, key);
    const cJSON *c = member(json, key);
    if (!c)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: missing measurement", file, sub);
    return parse_rec(ctx, c, file, sub, arms, n_arms, depth + 1, &m->items[i]);
}

/* Index of the arm named by the string `j`, or a failure naming path.key. */
static ks_status arm_index(ks_ctx *ctx, const cJSON *j, const char *file, const char *path,
                           const char *key, const ks_arm *arms, size_t n_arms, size_t *out)
{
    if (!cJSON_IsString(j))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: expected the name of an arm", file, path,
                       key);
    size_t a = 0;
    while (a < n_arms && strcmp(arms[a].name, j->valuestring) != 0)
        a++;
    if (a == n_arms)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: no arm named '%s' in this experiment", file,
                       path, key, j->valuestring);
    if (a >= 64)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: at most 64 arms per experiment (got %zu)",
                       file, path, key, a + 1);
    *out = a;
    return KS_OK;
}

/* Optional finite number `key` of json into *out (left unchanged when absent). */
static ks_status opt_number(ks_ctx *ctx, const cJSON *json, const char *key, const char *file,
                            const char *path, double *out)
{
    const cJSON *v = member(json, key);
    if (!v)
        return KS_OK;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: expected a number", file, path, key);
    *out = v->valuedouble;
    return KS_OK;
}

/* "from": "first_dose" | "last_dose" | "time_zero" | {"dose": k, "drug": name} |
 * {"event": kind, "index": k, "edge": "start" | "end"}. */
static ks_status parse_from(ks_ctx *ctx, const cJSON *from, const char *file, const char *path,
                            ks_measure *m)
{
    m->from = REF_FIRST_DOSE;
    m->ref_index = 1;
    m->ref_drug = -1;
    m->ref_event = -1;
    if (!from)
        return KS_OK;
    if (cJSON_IsString(from)) {
        for (int i = 0; i < 3; i++)
            if (strcmp(from->valuestring, ks_ref_names[i]) == 0) {
                m->from = (tref)i;
                return KS_OK;
            }
    } else if (cJSON_IsObject(from)) {
        const cJSON *dose = member(from, "dose"), *drug = member(from, "drug");
        const cJSON *ev = member(from, "event"), *idx = member(from, "index");
        const cJSON *edge = member(from, "edge");
        for (const cJSON *c = from->child; c; c = c->next)
            if (strcmp(c->string, "dose") != 0 && strcmp(c->string, "drug") != 0 &&
                strcmp(c->string, "event") != 0 && strcmp(c->string, "index") != 0 &&
                strcmp(c->string, "edge") != 0)
                return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.from.%s: unknown key", file, path,
                               c->string);
        if (ev) {
            ks_event_kind k;
            if (dose || drug || !cJSON_IsString(ev) || ks_event_from_name(ev->valuestring, &k))
                return ks_fail(ctx, KS_ERR_INPUT,
                               "%s: %s.from.event: expected an event name (visit, therapy, "
                               "spine_ablation, anti_bdnf, ampa_block, mtor_block, stress) and no "
                               "dose or drug",
                               file, path);
            m->from = REF_EVENT;
            m->ref_event = (int)k;
            if (edge) {
                if (!cJSON_IsString(edge) || (strcmp(edge->valuestring, "start") != 0 &&
                                              strcmp(edge->valuestring, "end") != 0))
                    return ks_fail(ctx, KS_ERR_INPUT,
                                   "%s: %s.from.edge: expected \"start\" or \"end\"", file, path);
                m->ref_end = strcmp(edge->valuestring, "end") == 0;
            }
        } else {
            if (edge || idx)
                return ks_fail(ctx, KS_ERR_INPUT,
                               "%s: %s.from: \"index\" and \"edge\" belong to an event reference",
                               file, path);
            m->from = REF_DOSE;
            idx = dose;
            if (drug) {
                ks_drug dr;
                if (!cJSON_IsString(drug) || ks_drug_from_name(drug->valuestring, &dr) != 0)
                    return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.from.drug: unknown drug", file,
                                   path);
                m->ref_drug = (int)dr;
            } else if (!dose) {
                return ks_fail(ctx, KS_ERR_INPUT,
                               "%s: %s.from: expected \"dose\", \"drug\" or \"event\"", file, path);
            }
        }
        if (idx) {
            double k = cJSON_IsNumber(idx) ? idx->valuedouble : 0.0;
            if (!(k == floor(k) && k != 0.0 && fabs(k) <= 1e6))
                return ks_fail(ctx, KS_ERR_INPUT,
                               "%s: %s.from: the index is a whole number: 1 the first, 2 the "
                               "second, -1 the last",
                               file, path);
            m->ref_index = (int)k;
        }
        return KS_OK;
    }
    return ks_fail(ctx, KS_ERR_INPUT,
                   "%s: %s.from: expected \"first_dose\", \"last_dose\", \"time_zero\", "
                   "{\"dose\": k, \"drug\": name} or {\"event\": name, \"index\": k}",
                   file, path);
}

static ks_status parse_leaf(ks_ctx *ctx, const cJSON *json, const char *file, const char *path,
                            const ks_arm *arms, size_t n_arms, ks_measure *m)
{
    const cJSON *out = member(json, "output");
    ks_status st = arm_index(ctx, member(json, "arm"), file, path, "arm", arms, n_arms, &m->arm);
    if (st != KS_OK)
        return st;
    const cJSON *vs = member(json, "vs_arm");
    if (vs) {
        if ((st = arm_index(ctx, vs, file, path, "vs_arm", arms, n_arms, &m->vs_arm)) != KS_OK)
            return st;
        m->has_vs = 1;
    }
    if (!cJSON_IsString(out) || !out->valuestring[0])
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.output: expected the name of a model output",
                       file, path);
    if (!(m->output = ks_strdup(ctx, out->valuestring)))
        return KS_ERR_NOMEM;
    if ((st = parse_from(ctx, member(json, "from"), file, path, m)) != KS_OK)
        return st;
    m->start_h = NAN;
    m->end_h = NAN;
    if ((st = opt_number(ctx, json, "start_h", file, path, &m->start_h)) != KS_OK ||
        (st = opt_number(ctx, json, "end_h", file, path, &m->end_h)) != KS_OK)
        return st;
    if (m->kind == MK_MEAN_VALUE && !(isfinite(m->start_h) && isfinite(m->end_h)))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: a mean_value needs start_h and end_h", file,
                       path);
    if (isfinite(m->start_h) && isfinite(m->end_h) && !(m->end_h > m->start_h))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.end_h: must be after start_h (got %g <= %g)",
                       file, path, m->end_h, m->start_h);

    if (m->kind == MK_TIME_BELOW) {
        const cJSON *f = member(json, "fraction");
        if (!cJSON_IsNumber(f) || !(f->valuedouble > 0.0 && f->valuedouble < 1.0))
            return ks_fail(ctx, KS_ERR_INPUT,
                           "%s: %s.fraction: expected a number between 0 and 1 (exclusive)", file,
                           path);
        m->fraction = f->valuedouble;
    }
    if (m->kind == MK_VALUE_AT) {
        const cJSON *t = member(json, "time_h");
        if (!cJSON_IsNumber(t) || !isfinite(t->valuedouble))
            return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.time_h: expected a number of hours", file,
                           path);
        m->time_h = t->valuedouble;
    }
    if (m->kind == MK_CROSSING) {
        const cJSON *d = member(json, "direction");
        if (!cJSON_IsString(d) ||
            (strcmp(d->valuestring, "rise") != 0 && strcmp(d->valuestring, "return") != 0))
            return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.direction: expected \"rise\" or \"return\"",
                           file, path);
        m->rise = strcmp(d->valuestring, "rise") == 0;
        static const char *const tk[3] = {"fraction_of_peak", "relative", "absolute"};
        int found = 0;
        for (int i = 0; i < 3; i++) {
            const cJSON *v = member(json, tk[i]);
            if (!v)
                continue;
            found++;
            if (!cJSON_IsNumber(v) || !(v->valuedouble > 0.0) || !isfinite(v->valuedouble) ||
                (i == 0 && !(v->valuedouble < 1.0)))
                return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: expected a number > 0%s", file,
                               path, tk[i], i == 0 ? " and < 1" : "");
            m->thr = (thrkind)(i + 1);
            m->thr_value = v->valuedouble;
        }
        if (found != 1)
            return ks_fail(ctx, KS_ERR_INPUT,
                           "%s: %s: a crossing_time needs exactly one of fraction_of_peak, "
                           "relative, absolute",
                           file, path);
    }
    m->auc_to_h = INFINITY;
    if (m->kind == MK_AUC) {
        const cJSON *to = member(json, "to");
        if (!to || (cJSON_IsString(to) && strcmp(to->valuestring, "inf") == 0))
            m->auc_to_h = INFINITY;
        else if (cJSON_IsString(to) && strcmp(to->valuestring, "last") == 0)
            m->auc_to_h = NAN;
        else if (cJSON_IsNumber(to) && to->valuedouble > 0.0 && isfinite(to->valuedouble))
            m->auc_to_h = to->valuedouble;
        else
            return ks_fail(ctx, KS_ERR_INPUT,
                           "%s: %s.to: expected \"inf\", \"last\" or a positive number of hours "
                           "after the first dose",
                           file, path);
    }
    const cJSON *drugs = member(json, "drugs");
    if (drugs) {
        if (!cJSON_IsArray(drugs) || cJSON_GetArraySize(drugs) == 0)
            return ks_fail(ctx, KS_ERR_INPUT,
                           "%s: %s.drugs: expected a non-empty array of drug "
                           "names",
                           file, path);
        int i = 0;
        for (const cJSON *d = drugs->child; d; d = d->next, i++) {
            ks_drug dr;
            if (!cJSON_IsString(d) || ks_drug_from_name(d->valuestring, &dr) != 0)
                return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.drugs[%d]: unknown drug (got %s)", file,
                               path, i, cJSON_IsString(d) ? d->valuestring : "a non-string");
            m->drug_mask |= 1u << (unsigned)dr;
        }
    }
    return KS_OK;
}

static ks_status parse_rec(ks_ctx *ctx, const cJSON *json, const char *file, const char *path,
                           const ks_arm *arms, size_t n_arms, int depth, ks_measure **out)
{
    *out = NULL;
    if (!cJSON_IsObject(json))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: expected a measurement object", file, path);
    if (depth > 16)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: measurements nested too deeply", file, path);
    const cJSON *kind = member(json, "kind");
    if (!cJSON_IsString(kind))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.kind: expected the kind of measurement", file,
                       path);
    int k = -1;
    for (int i = 0; i < MK_COUNT; i++)
        if (strcmp(kind->valuestring, ks_mkinds[i].name) == 0)
            k = i;
    if (k < 0)
        return ks_fail(ctx, KS_ERR_INPUT,
                       "%s: %s.kind: unknown measurement (got '%s'; see docs/VALIDATION.md)", file,
                       path, kind->valuestring);
    for (const cJSON *c = json->child; c; c = c->next) {
        int ok = strcmp(c->string, "kind") == 0 || strcmp(c->string, "note") == 0;
        for (int i = 0; i < MK_NKEYS && !ok && ks_mkinds[k].keys[i]; i++)
            ok = strcmp(c->string, ks_mkinds[k].keys[i]) == 0;
        if (!ok)
            return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: unknown key for a '%s' measurement", file,
                           path, c->string, ks_mkinds[k].name);
    }
    const cJSON *note = member(json, "note");
    if (note && !cJSON_IsString(note))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.note: expected a string", file, path);
    if (k == MK_PAIR && depth > 0)
        return ks_fail(ctx, KS_ERR_INPUT,
                       "%s: %s: a 'pair' may only be the whole measurement of a compound target",
                       file, path);

    ks_measure *m = ks_calloc(ctx, 1, sizeof *m);
    if (!m)
        return KS_ERR_NOMEM;
    m->kind = (mkind)k;
    ks_status st = KS_OK;
    if (ks_mkinds[k].leaf) {
        st = parse_leaf(ctx, json, file, path, arms, n_arms, m);
    } else if (k == MK_RATIO || k == MK_DIFFERENCE || k == MK_RELDIFF || k == MK_COMPARE) {
        m->n_items = 2;
        m->factor = 1.0;
        if (!(m->items = ks_calloc(ctx, 2, sizeof *m->items))) {
            st = KS_ERR_NOMEM;
            goto done;
        }
        const char *a = k == MK_RATIO        ? "numerator"
                        : k == MK_DIFFERENCE ? "minuend"
                        : k == MK_RELDIFF    ? "value"
                                             : "left";
        const char *b = k == MK_RATIO        ? "denominator"
                        : k == MK_DIFFERENCE ? "subtrahend"
                                             : "reference";
        if ((st = parse_child(ctx, json, a, file, path, arms, n_arms, depth, m, 0)) != KS_OK)
            goto done;
        if (k != MK_COMPARE) {
            st = parse_child(ctx, json, b, file, path, arms, n_arms, depth, m, 1);
            goto done;
        }
        const cJSON *op = member(json, "op"), *right = member(json, "right");
        int o = -1;
        for (int i = 0; i < 4 && cJSON_IsString(op); i++)
            if (strcmp(op->valuestring, ks_op_names[i]) == 0)
                o = i;
        if (o < 0) {
            st = ks_fail(ctx, KS_ERR_INPUT, "%s: %s.op: expected \"<\", \"<=\", \">\" or \">=\"",
                         file, path);
            goto done;
        }
        m->op = (cmpop)o;
        if ((st = opt_number(ctx, json, "factor", file, path, &m->factor)) != KS_OK)
            goto done;
        if (cJSON_IsNumber(right)) {
            m->has_constant = 1;
            m->constant = right->valuedouble;
            m->n_items = 1;
        } else {
            st = parse_child(ctx, json, "right", file, path, arms, n_arms, depth, m, 1);
        }
    } else { /* all, pair, max_of, min_of */
        const cJSON *items = member(json, "items");
        int n = cJSON_IsArray(items) ? cJSON_GetArraySize(items) : -1;
        if (n < 1 || (k == MK_PAIR && n != 2)) {
            st = ks_fail(ctx, KS_ERR_INPUT, "%s: %s.items: expected an array of %s measurements",
                         file, path, k == MK_PAIR ? "exactly 2" : "one or more");
            goto done;
        }
        if (!(m->items = ks_calloc(ctx, (size_t)n, sizeof *m->items))) {
            st = KS_ERR_NOMEM;
            goto done;
        }
        m->n_items = (size_t)n;
        int i = 0;
        for (const cJSON *c = items->child; c; c = c->next, i++) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s.items[%d]", path, i);
            st = parse_rec(ctx, c, file, sub, arms, n_arms, depth + 1, &m->items[i]);
            if (st != KS_OK)
                goto done;
        }
    }
done:
    if (st != KS_OK) {
        ks_measure_free(m);
        return st;
    }
    *out = m;
    return KS_OK;
}

ks_measure *ks_measure_parse(ks_ctx *ctx, const cJSON *json, const char *file, const char *path,
                             const ks_arm *arms, size_t n_arms)
{
    ks_measure *m = NULL;
    if (parse_rec(ctx, json, file, path, arms, n_arms, 0, &m) != KS_OK)
        return NULL;
    return m;
}

int ks_measure_pair(const ks_measure *m, const ks_measure **a, const ks_measure **b)
{
    if (!m || m->kind != MK_PAIR)
        return 0;
    *a = m->items[0];
    *b = m->items[1];
    return 1;
}

unsigned long long ks_measure_arm_mask(const ks_measure *m)
{
    unsigned long long mask = 0;
    if (ks_mkinds[m->kind].leaf)
        mask |= 1ull << m->arm;
    for (size_t i = 0; i < m->n_items; i++)
        if (m->items[i])
            mask |= ks_measure_arm_mask(m->items[i]);
    return mask;
}

/* ------------------------------------------------------------------------------------------
 * Evaluation
 * ---------------------------------------------------------------------------------------- */

const char *ks_dim_name(ks_dim d)
{
    switch (d) {
    case KS_DIM_TIME:
        return "time";
    case KS_DIM_CONC:
        return "concentration";
    case KS_DIM_AUC:
        return "AUC";
    case KS_DIM_CLEARANCE:
        return "clearance";
    case KS_DIM_VOLUME:
        return "volume";
    case KS_DIM_DNAUC:
        return "dose-normalised AUC";
    case KS_DIM_RATIO:
        return "ratio";
    case KS_DIM_BOOL:
        return "statement";
    }
    return "unknown";
}

static void dappend(char *buf, size_t size, const char *fmt, ...) KS_PRINTF(3, 4);
static void dappend(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

/* Factor turning an AUC in `unit` x h into mg x h / L; 0 when the unit is not a mass
 * concentration. */
static double mass_conc_to_mg_per_l(const char *unit)
{
    if (strcmp(unit, "ng/mL") == 0 || strcmp(unit, "ug/L") == 0 || strcmp(unit, "µg/L") == 0)
        return 1e-3;
    if (strcmp(unit, "mg/L") == 0 || strcmp(unit, "ug/mL") == 0)
        return 1.0;
    if (strcmp(unit, "ng/L") == 0 || strcmp(unit, "pg/mL") == 0)
        return 1e-6;
    return 0.0;
}

/* Everything a leaf measurement reads of its arm. */
typedef struct {
    const ks_arm *arm;
    const ks_subject *subj;
    const double *t, *c;
    size_t n;
    const char *unit;
    double t_first_dose; /* first dose of any drug (0 when none) */
    double *own;         /* cleaned copy of the values when some were negative, else NULL */
} leaf_view;

/* Relative size of a negative value that is integrator round-off, not a wrong model: below
 * this fraction of the curve's peak it is read as 0 (as a sample below the limit of
 * quantification would be). */
#define KS_NEG_ROUNDOFF 1e-6

static ks_status leaf_open(ks_ctx *ctx, const ks_measure *m, const ks_arm *arms, leaf_view *v)
{
    const ks_arm *arm = &arms[m->arm];
    v->arm = arm;
    if (!arm->result)
        return ks_fail(ctx, KS_ERR_VALIDATION, "arm '%s' was not simulated: %s", arm->name,
                       arm->sim_error ? arm->sim_error : "unknown reason");
    long j = ks_result_output_index(arm->result, m->output);
    if (j < 0)
        return ks_fail(ctx, KS_ERR_VALIDATION, "the model has no output '%s' (arm '%s')", m->output,
                       arm->name);
    if (ks_result_subject_count(arm->result) < 1 || arm->scenario->n_subjects < 1)
        return ks_fail(ctx, KS_ERR_VALIDATION, "arm '%s' has no subject", arm->name);
    v->subj = &arm->scenario->subjects[0];
    v->n = ks_result_time_count(arm->result, 0);
    v->t = ks_result_times(arm->result, 0);
    v->c = ks_result_values(arm->result, 0, (size_t)j);
    v->unit = ks_result_output_unit(arm->result, (size_t)j);
    v->t_first_dose = v->subj->n_doses > 0 ? v->subj->doses[0].t_h : 0.0;
    if (v->n < 2)
        return ks_fail(ctx, KS_ERR_VALIDATION, "arm '%s': fewer than 2 output times", arm->name);
    double peak = 0.0, low = 0.0;
    for (size_t i = 0; i < v->n; i++) {
        peak = fmax(peak, v->c[i]);
        low = fmin(low, v->c[i]);
    }
    if (low < 0.0) {
        if (-low > KS_NEG_ROUNDOFF * peak)
            return ks_fail(ctx, KS_ERR_VALIDATION,
                           "%s in arm '%s' goes negative (%.4g %s, peak %.4g): not a "
                           "concentration curve",
                           m->output, arm->name, low, v->unit, peak);
        if (!(v->own = ks_malloc(ctx, v->n * sizeof *v->own)))
            return KS_ERR_NOMEM;
        for (size_t i = 0; i < v->n; i++)
            v->own[i] = fmax(v->c[i], 0.0);
        v->c = v->own;
    }
    return KS_OK;
}

/* Sum of the doses counted by the measurement, mg; fails when none or when a steady-state
 * dose (whose history is not in the scenario) is among them. iv_only: every counted dose must
 * be intravenous (clearance and Vss). Also returns the mean input time from t0. */
static ks_status leaf_dose(ks_ctx *ctx, const ks_measure *m, const leaf_view *v, int iv_only,
                           double t0, double *dose_mg, double *mit_h)
{
    double total = 0.0, moment = 0.0;
    for (size_t i = 0; i < v->subj->n_doses; i++) {
        const ks_dose *d = &v->subj->doses[i];
        if (m->drug_mask && !(m->drug_mask & (1u << (unsigned)d->drug)))
            continue;
        if (d->ss)
            return ks_fail(ctx, KS_ERR_VALIDATION,
                           "arm '%s': a steady-state dose cannot be dose-normalised", v->arm->name);
        if (iv_only && d->route != KS_ROUTE_IV_BOLUS && d->route != KS_ROUTE_IV_INFUSION)
            return ks_fail(ctx, KS_ERR_VALIDATION,
                           "arm '%s': %s of a %s dose is not a systemic clearance or volume "
                           "(intravenous doses only)",
                           v->arm->name, ks_mkinds[m->kind].name, ks_route_name(d->route));
        double dur = d->route == KS_ROUTE_IV_INFUSION ? d->duration_h : 0.0;
        total += d->amount_mg;
        /* mean input time: sum D_i (t_i - t0 + T_i/2) / sum D_i (nca.h) */
        moment += d->amount_mg * (d->t_h - t0 + 0.5 * dur);
    }
    if (!(total > 0.0))
        return ks_fail(ctx, KS_ERR_VALIDATION, "arm '%s': no dose of the measured drug(s)",
                       v->arm->name);
    *dose_mg = total;
    *mit_h = moment / total;
    return KS_OK;
}

/* Time reference of tmax / time_below / value_at. */
static double leaf_ref_time(const ks_measure *m, const leaf_view *v, double tmax)
{
    switch (m->from) {
    case REF_ZERO:
        return 0.0;
    case REF_LAST_DOSE: {
        double r = v->t_first_dose;
        for (size_t i = 0; i < v->subj->n_doses; i++)
            if (v->subj->doses[i].t_h <= tmax)
                r = v->subj->doses[i].t_h;
        return r;
    }
    case REF_FIRST_DOSE:
        break;
    }
    return v->t_first_dose;
}

static ks_status leaf_nca(ks_ctx *ctx, const leaf_view *v, const char *output, ks_nca_ext *e)
{
    ks_ctx tmp = {KS_OK, ""};
    if (ks_nca_compute(&tmp, v->t, v->c, v->n, v->t_first_dose, e) != KS_OK)
        return ks_fail(ctx, KS_ERR_VALIDATION, "%s in arm '%s': %s", output, v->arm->name,
                       tmp.message);
    return KS_OK;
}

static ks_status need_terminal(ks_ctx *ctx, const ks_nca_ext *e, const ks_measure *m,
                               const leaf_view *v)
{
    if (!isfinite(e->lambda_z))
        return ks_fail(ctx, KS_ERR_VALIDATION,
                       "%s in arm '%s': no declining terminal phase of >= 3 samples after Tmax",
                       m->output, v->arm->name);
    return KS_OK;
}

static void set_q(ks_quantity *q, double value, ks_dim dim, const char *unit, double w)
{
    q->value = value;
    q->dim = dim;
    snprintf(q->unit, sizeof q->unit, "%s", unit ? unit : "");
    q->weight_kg = w;
}

static ks_status eval_leaf_view(ks_ctx *ctx, const ks_measure *m, const leaf_view *vp,
                                ks_quantity *q, char *detail, size_t ds);

static ks_status eval_leaf(ks_ctx *ctx, const ks_measure *m, const ks_arm *arms, ks_quantity *q,
                           char *detail, size_t ds)
{
    leaf_view v;
    memset(&v, 0, sizeof v);
    ks_status st = leaf_open(ctx, m, arms, &v);
    if (st == KS_OK)
        st = eval_leaf_view(ctx, m, &v, q, detail, ds);
    free(v.own);
    return st;
}

static ks_status eval_leaf_view(ks_ctx *ctx, const ks_measure *m, const leaf_view *vp,
                                ks_quantity *q, char *detail, size_t ds)
{
    const leaf_view v = *vp;
    ks_status st;
    double w = v.subj->patient.weight_kg;
    const char *an = v.arm->name, *on = m->output;
    ks_nca_ext e;
    if ((st = leaf_nca(ctx, &v, on, &e)) != KS_OK)
        return st;
    char fit[160];
    snprintf(fit, sizeof fit, "terminal fit: %zu samples from %.4g h, adj. R^2 %.5f",
             e.lambda_z_points, e.lambda_z_start_h, e.r2_adj);

    switch (m->kind) {
    case MK_CMAX:
        set_q(q, e.cmax, KS_DIM_CONC, v.unit, w);
        dappend(detail, ds, "Cmax of %s in arm '%s' = %.4g %s", on, an, e.cmax, v.unit);
        return KS_OK;
    case MK_TMAX: {
        double ref = leaf_ref_time(m, &v, e.tmax_h);
        set_q(q, e.tmax_h - ref, KS_DIM_TIME, NULL, w);
        dappend(detail, ds, "Tmax of %s in arm '%s' = %.4g h after the %s (%.4g h)", on, an,
                e.tmax_h - ref,
                m->from == REF_ZERO        ? "time origin"
                : m->from == REF_LAST_DOSE ? "last dose before Tmax"
                                           : "first dose",
                ref);
        return KS_OK;
    }
    case MK_AUC: {
        double auc;
        const char *what;
        if (isinf(m->auc_to_h)) {
            if ((st = need_terminal(ctx, &e, m, &v)) != KS_OK)
                return st;
            auc = e.auc_inf;
            what = "AUC0-inf";
        } else if (isnan(m->auc_to_h)) {
            auc = e.auc_last;
            what = "AUC0-last";
        } else {
            double tb = v.t_first_dose + m->auc_to_h;
            if (tb > v.t[v.n - 1] + 1e-9)
                return ks_fail(ctx, KS_ERR_VALIDATION,
                               "AUC of %s in arm '%s' to %.4g h: beyond the last output time", on,
                               an, m->auc_to_h);
            auc = ks_nca_auc_between(v.t, v.c, v.n, v.t_first_dose, fmin(tb, v.t[v.n - 1]));
            what = "AUC0-t";
        }
        set_q(q, auc, KS_DIM_AUC, v.unit, w);
        dappend(detail, ds, "%s of %s in arm '%s' = %.4g %s*h", what, on, an, auc, v.unit);
        if (isinf(m->auc_to_h))
            dappend(detail, ds, " (%s; extrapolated %.1f%%)", fit, 100.0 * e.auc_extrap_frac);
        return KS_OK;
    }
    case MK_HALF_LIFE:
        if ((st = need_terminal(ctx, &e, m, &v)) != KS_OK)
            return st;
        set_q(q, e.half_life_h, KS_DIM_TIME, NULL, w);
        dappend(detail, ds, "terminal half-life of %s in arm '%s' = %.4g h (%s)", on, an,
                e.half_life_h, fit);
        return KS_OK;
    case MK_CLEARANCE:
    case MK_VSS:
    case MK_DNAUC: {
        if ((st = need_terminal(ctx, &e, m, &v)) != KS_OK)
            return st;
        double dose = NAN, mit = NAN;
        st = leaf_dose(ctx, m, &v, m->kind != MK_DNAUC, v.t_first_dose, &dose, &mit);
        if (st != KS_OK)
            return st;
        if (m->kind == MK_DNAUC) {
            double dn = e.auc_inf / dose;
            set_q(q, dn, KS_DIM_DNAUC, v.unit, w);
            dappend(detail, ds, "AUC0-inf/dose of %s in arm '%s' = %.4g %s*h / %.4g mg = %.4g (%s)",
                    on, an, e.auc_inf, v.unit, dose, dn, fit);
            return KS_OK;
        }
        double f = mass_conc_to_mg_per_l(v.unit);
        if (f == 0.0)
            return ks_fail(ctx, KS_ERR_VALIDATION,
                           "%s of %s: output unit '%s' is not a mass concentration",
                           ks_mkinds[m->kind].name, on, v.unit);
        /* CL = dose / AUC0-inf, in L/h from mg and mg*h/L (Gabrielsson & Weiner ch. 2) */
        double cl = dose / (e.auc_inf * f);
        if (m->kind == MK_CLEARANCE) {
            set_q(q, cl, KS_DIM_CLEARANCE, NULL, w);
            dappend(detail, ds,
                    "CL = dose/AUC0-inf of %s in arm '%s' = %.4g mg / %.4g %s*h = %.4g L/h "
                    "(%s)",
                    on, an, dose, e.auc_inf, v.unit, cl, fit);
            return KS_OK;
        }
        /* Vss = CL (MRT - MIT); MIT = T/2 for one infusion of duration T */
        double vss = cl * (e.mrt_h - mit);
        set_q(q, vss, KS_DIM_VOLUME, NULL, w);
        dappend(detail, ds,
                "Vss = CL x (MRT - MIT) of %s in arm '%s' = %.4g L/h x (%.4g h - %.4g h) = %.4g "
                "L (%s)",
                on, an, cl, e.mrt_h, mit, vss, fit);
        return KS_OK;
    }
    case MK_TIME_BELOW: {
        double tb = ks_nca_time_below_fraction(v.t, v.c, v.n, m->fraction);
        if (!isfinite(tb))
            return ks_fail(ctx, KS_ERR_VALIDATION,
                           "%s in arm '%s' never falls below %.3g of its peak within the "
                           "simulated time",
                           on, an, m->fraction);
        double ref = leaf_ref_time(m, &v, e.tmax_h);
        set_q(q, tb - ref, KS_DIM_TIME, NULL, w);
        dappend(detail, ds, "%s in arm '%s' below %.3g x its peak from %.4g h after %s", on, an,
                m->fraction, tb - ref, ks_ref_names[m->from]);
        return KS_OK;
    }
    case MK_VALUE_AT: {
        double ref = leaf_ref_time(m, &v, e.tmax_h), ta = ref + m->time_h;
        if (ta < v.t[0] - 1e-9 || ta > v.t[v.n - 1] + 1e-9)
            return ks_fail(ctx, KS_ERR_VALIDATION,
                           "value of %s in arm '%s' at %.4g h: outside the output times", on, an,
                           ta);
        size_t i = 0;
        while (i + 1 < v.n && v.t[i + 1] < ta)
            i++;
        double val = v.c[i];
        if (i + 1 < v.n && ta > v.t[i]) /* linear interpolation between samples */
            val = v.c[i] + (v.c[i + 1] - v.c[i]) * (ta - v.t[i]) / (v.t[i + 1] - v.t[i]);
        set_q(q, val, KS_DIM_CONC, v.unit, w);
        dappend(detail, ds, "%s in arm '%s' at %.4g h after %s = %.4g %s", on, an, m->time_h,
                ks_ref_names[m->from], val, v.unit);
        return KS_OK;
    }
    default:
        break;
    }
    return ks_fail(ctx, KS_ERR_INTERNAL, "measurement kind %d is not a leaf", (int)m->kind);
}

static int same_dim(const ks_quantity *a, const ks_quantity *b)
{
    return a->dim == b->dim && strcmp(a->unit, b->unit) == 0;
}

ks_status ks_measure_eval(ks_ctx *ctx, const ks_measure *m, const ks_arm *arms, ks_quantity *out,
                          char *detail, size_t detail_size)
{
    if (ks_mkinds[m->kind].leaf)
        return eval_leaf(ctx, m, arms, out, detail, detail_size);
    ks_quantity a, b;
    ks_status st;
    switch (m->kind) {
    case MK_RATIO:
    case MK_DIFFERENCE:
        dappend(detail, detail_size, "%s of [", m->kind == MK_RATIO ? "ratio" : "difference");
        if ((st = ks_measure_eval(ctx, m->items[0], arms, &a, detail, detail_size)) != KS_OK)
            return st;
        dappend(detail, detail_size, "] %s [", m->kind == MK_RATIO ? "over" : "minus");
        if ((st = ks_measure_eval(ctx, m->items[1], arms, &b, detail, detail_size)) != KS_OK)
            return st;
        if (!same_dim(&a, &b))
            return ks_fail(ctx, KS_ERR_INPUT,
                           "a %s needs two quantities of the same kind (got %s %s and %s %s)",
                           ks_mkinds[m->kind].name, ks_dim_name(a.dim), a.unit, ks_dim_name(b.dim),
                           b.unit);
        if (m->kind == MK_RATIO) {
            if (!(b.value != 0.0))
                return ks_fail(ctx, KS_ERR_VALIDATION, "ratio with a zero denominator");
            set_q(out, a.value / b.value, KS_DIM_RATIO, NULL,
                  a.weight_kg == b.weight_kg ? a.weight_kg : NAN);
        } else {
            set_q(out, a.value - b.value, a.dim, a.unit,
                  a.weight_kg == b.weight_kg ? a.weight_kg : NAN);
        }
        dappend(detail, detail_size, "] = %.4g", out->value);
        return KS_OK;
    case MK_COMPARE: {
        dappend(detail, detail_size, "[");
        if ((st = ks_measure_eval(ctx, m->items[0], arms, &a, detail, detail_size)) != KS_OK)
            return st;
        dappend(detail, detail_size, "] %s ", ks_op_names[m->op]);
        double rv;
        if (m->has_constant) {
            rv = m->constant;
            dappend(detail, detail_size, "%.4g", rv);
        } else {
            dappend(detail, detail_size, "[");
            if ((st = ks_measure_eval(ctx, m->items[1], arms, &b, detail, detail_size)) != KS_OK)
                return st;
            dappend(detail, detail_size, "]");
            if (!same_dim(&a, &b))
                return ks_fail(ctx, KS_ERR_INPUT,
                               "a comparison needs two quantities of the same kind (got %s and "
                               "%s)",
                               ks_dim_name(a.dim), ks_dim_name(b.dim));
            rv = b.value;
        }
        int r = m->op == OP_LT   ? a.value < rv
                : m->op == OP_LE ? a.value <= rv
                : m->op == OP_GT ? a.value > rv
                                 : a.value >= rv;
        set_q(out, r ? 1.0 : 0.0, KS_DIM_BOOL, NULL, a.weight_kg);
        dappend(detail, detail_size, ": %s", r ? "holds" : "does not hold");
        return KS_OK;
    }
    case MK_ALL: {
        int all = 1;
        for (size_t i = 0; i < m->n_items; i++) {
            dappend(detail, detail_size, "%s(", i ? "; " : "");
            if ((st = ks_measure_eval(ctx, m->items[i], arms, &a, detail, detail_size)) != KS_OK)
                return st;
            dappend(detail, detail_size, ")");
            if (a.dim != KS_DIM_BOOL)
                return ks_fail(ctx, KS_ERR_INPUT,
                               "every item of 'all' must be a statement (item %zu is a %s)", i,
                               ks_dim_name(a.dim));
            all = all && a.value != 0.0;
        }
        set_q(out, all ? 1.0 : 0.0, KS_DIM_BOOL, NULL, NAN);
        return KS_OK;
    }
    case MK_PAIR:
        return ks_fail(ctx, KS_ERR_INPUT,
                       "a 'pair' measures a compound target ('a vs b'); evaluate its items");
    default:
        break;
    }
    return ks_fail(ctx, KS_ERR_INTERNAL, "unknown measurement kind %d", (int)m->kind);
}

ks_status ks_quantity_convert(ks_ctx *ctx, const ks_quantity *q, const char *unit, double *value)
{
    double v = q->value, w = q->weight_kg;
    int need_w = 0;
    int ok = 1;
    switch (q->dim) {
    case KS_DIM_TIME:
        if (strcmp(unit, "h") == 0)
            *value = v;
        else if (strcmp(unit, "min") == 0)
            *value = 60.0 * v;
        else if (strcmp(unit, "days") == 0 || strcmp(unit, "d") == 0)
            *value = v / 24.0;
        else
            ok = 0;
        break;
    case KS_DIM_RATIO:
        if (strcmp(unit, "ratio") == 0 || strcmp(unit, "fraction") == 0)
            *value = v;
        else if (strcmp(unit, "%") == 0)
            *value = 100.0 * v;
        else
            ok = 0;
        break;
    case KS_DIM_CLEARANCE:
        if (strcmp(unit, "L/h") == 0) {
            *value = v;
        } else if (strcmp(unit, "mL/min") == 0) {
            *value = v * 1000.0 / 60.0;
        } else if (strcmp(unit, "L/h per 70 kg") == 0) {
            /* allometric standardisation CL_70 = CL (70/W)^0.75 (Anderson & Holford 2008) */
            need_w = 1;
            *value = v * pow(70.0 / w, 0.75);
        } else if (strcmp(unit, "L/h/kg") == 0) {
            need_w = 1;
            *value = v / w;
        } else if (strcmp(unit, "mL/min/kg") == 0) {
            need_w = 1;
            *value = v * 1000.0 / 60.0 / w;
        } else {
            ok = 0;
        }
        break;
    case KS_DIM_VOLUME:
        if (strcmp(unit, "L") == 0) {
            *value = v;
        } else if (strcmp(unit, "L/kg") == 0) {
            need_w = 1;
            *value = v / w;
        } else if (strcmp(unit, "L per 70 kg") == 0) {
            need_w = 1;
            *value = v * 70.0 / w;
        } else {
            ok = 0;
        }
        break;
    case KS_DIM_CONC:
        ok = strcmp(unit, q->unit) == 0;
        *value = v;
        break;
    case KS_DIM_AUC:
    case KS_DIM_DNAUC: {
        char a[96], b[128];
        snprintf(a, sizeof a, "%s*h%s", q->unit, q->dim == KS_DIM_DNAUC ? "/mg" : "");
        snprintf(b, sizeof b, "%s%s", strcmp(q->unit, "ng/mL") == 0 ? "ng*h/mL" : a,
                 strcmp(q->unit, "ng/mL") == 0 && q->dim == KS_DIM_DNAUC ? "/mg" : "");
        ok = strcmp(unit, a) == 0 || strcmp(unit, b) == 0;
        *value = v;
        break;
    }
    case KS_DIM_BOOL:
        ok = strcmp(unit, "bool") == 0;
        *value = v;
        break;
    }
    if (!ok)
        return ks_fail(ctx, KS_ERR_INPUT, "cannot express a %s%s%s in '%s'", ks_dim_name(q->dim),
                       q->unit[0] ? " in " : "", q->unit, unit);
    if (need_w && !(w > 0.0 && isfinite(w)))
        return ks_fail(ctx, KS_ERR_INPUT,
                       "'%s' needs the body weight of one subject (arms of different weights "
                       "were combined)",
                       unit);
    return KS_OK;
}
