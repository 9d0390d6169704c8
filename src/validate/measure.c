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

#include "detail.h"

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
    MK_FRACTION,
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
    [MK_FRACTION] = {"effect_fraction", 0, {"blocked", "unblocked"}},
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
    int ref_index;  /* REF_DOSE: k-th dose (1-based; -1 the last); REF_EVENT: k-th event */
    int ref_drug;   /* REF_DOSE: only doses of this ks_drug count; -1 every dose */
    int ref_event;  /* REF_EVENT: ks_event_kind */
    int ref_end;    /* REF_EVENT: 1 = the end of an interval event */
    double start_h; /* window start after the reference (curve kinds); NaN: the reference */
    double end_h;   /* window end after the reference; NaN: the end of the output */
    int rise;       /* crossing_time: 1 rise, 0 return */
    thrkind thr;    /* crossing_time threshold kind */
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
                    return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.from.drug: unknown drug", file, path);
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
                return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: expected a number > 0%s", file, path,
                               tk[i], i == 0 ? " and < 1" : "");
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
    } else if (k == MK_RATIO || k == MK_DIFFERENCE || k == MK_RELDIFF || k == MK_FRACTION ||
               k == MK_COMPARE) {
        m->n_items = 2;
        m->factor = 1.0;
        if (!(m->items = ks_calloc(ctx, 2, sizeof *m->items))) {
            st = KS_ERR_NOMEM;
            goto done;
        }
        const char *a = k == MK_RATIO        ? "numerator"
                        : k == MK_DIFFERENCE ? "minuend"
                        : k == MK_RELDIFF    ? "value"
                        : k == MK_FRACTION   ? "blocked"
                                             : "left";
        const char *b = k == MK_RATIO        ? "denominator"
                        : k == MK_DIFFERENCE ? "subtrahend"
                        : k == MK_FRACTION   ? "unblocked"
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
    if (ks_mkinds[m->kind].leaf) {
        mask |= 1ull << m->arm;
        if (m->has_vs)
            mask |= 1ull << m->vs_arm;
    }
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

void ks_detail_append(char *buf, size_t size, const char *fmt, ...)
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

/* ------------------------------------------------------------------------------------------
 * Curve primitives (linear interpolation between output times)
 * ---------------------------------------------------------------------------------------- */

/* Index i with t[i] <= ta < t[i+1] (clamped to [0, n-2]); n >= 2. */
static size_t seg_index(const double *t, size_t n, double ta)
{
    size_t lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid] <= ta)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

double ks_curve_value_at(const double *t, const double *c, size_t n, double ta)
{
    if (n == 0)
        return NAN;
    if (n == 1 || ta <= t[0])
        return c[0];
    if (ta >= t[n - 1])
        return c[n - 1];
    size_t i = seg_index(t, n, ta);
    return c[i] + (c[i + 1] - c[i]) * (ta - t[i]) / (t[i + 1] - t[i]);
}

double ks_curve_extreme(const double *t, const double *c, size_t n, double ta, double tb, int sign,
                        double *t_ext)
{
    double best = NAN, tbest = NAN;
    if (n == 0 || tb < ta || tb < t[0] - 1e-9 || ta > t[n - 1] + 1e-9) {
        if (t_ext)
            *t_ext = NAN;
        return NAN;
    }
    ta = fmax(ta, t[0]);
    tb = fmin(tb, t[n - 1]);
    /* the interpolated window start, the samples inside, the interpolated window end */
    best = ks_curve_value_at(t, c, n, ta);
    tbest = ta;
    for (size_t i = 0; i < n; i++) {
        if (t[i] <= ta || t[i] > tb)
            continue;
        if (sign * c[i] > sign * best) {
            best = c[i];
            tbest = t[i];
        }
    }
    double ve = ks_curve_value_at(t, c, n, tb);
    if (sign * ve > sign * best) {
        best = ve;
        tbest = tb;
    }
    if (t_ext)
        *t_ext = tbest;
    return best;
}

double ks_curve_mean(const double *t, const double *c, size_t n, double ta, double tb)
{
    if (n < 2 || !(tb > ta) || ta < t[0] - 1e-9 || tb > t[n - 1] + 1e-9)
        return NAN;
    ta = fmax(ta, t[0]);
    tb = fmin(tb, t[n - 1]);
    /* trapezoids over the pieces [ta, t_i], [t_i, t_i+1], ..., [t_k, tb] */
    double prev_t = ta, prev_c = ks_curve_value_at(t, c, n, ta), area = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] <= ta || t[i] >= tb)
            continue;
        area += 0.5 * (prev_c + c[i]) * (t[i] - prev_t);
        prev_t = t[i];
        prev_c = c[i];
    }
    area += 0.5 * (prev_c + ks_curve_value_at(t, c, n, tb)) * (tb - prev_t);
    return area / (tb - ta);
}

double ks_curve_crossing(const double *t, const double *c, size_t n, double t_ref, double t_end,
                         double thr, int rise, double *peak_exc, double *baseline)
{
    double b = ks_curve_value_at(t, c, n, t_ref);
    if (baseline)
        *baseline = b;
    if (peak_exc)
        *peak_exc = NAN;
    if (n < 2 || !(t_end > t_ref) || !(thr >= 0.0))
        return NAN;
    t_end = fmin(t_end, t[n - 1]);
    /* samples of the excursion in [t_ref, t_end]: the reference itself, then the samples */
    size_t first = 0;
    while (first < n && t[first] <= t_ref)
        first++;
    double tp = t_ref, ep = 0.0; /* peak */
    for (size_t i = first; i < n && t[i] <= t_end; i++)
        if (fabs(c[i] - b) > fabs(ep)) {
            ep = c[i] - b;
            tp = t[i];
        }
    if (peak_exc)
        *peak_exc = ep;
    double t0 = t_ref, e0 = 0.0;
    if (rise) {
        for (size_t i = first; i < n && t[i] <= t_end; i++) {
            double e1 = c[i] - b;
            if (fabs(e1) >= thr) {
                double s = e1 > 0.0 ? thr : -thr; /* the band edge crossed */
                return t0 + (s - e0) * (t[i] - t0) / (e1 - e0);
            }
            t0 = t[i];
            e0 = e1;
        }
        return NAN;
    }
    if (fabs(ep) <= thr)
        return tp; /* never left the band */
    t0 = tp;
    e0 = ep;
    for (size_t i = first; i < n && t[i] <= t_end; i++) {
        if (t[i] <= tp)
            continue;
        double e1 = c[i] - b;
        if (fabs(e1) <= thr || (e1 > 0.0) != (e0 > 0.0)) {
            double s = e0 > 0.0 ? thr : -thr; /* the edge on the side it comes from */
            return t0 + (s - e0) * (t[i] - t0) / (e1 - e0);
        }
        t0 = t[i];
        e0 = e1;
    }
    return NAN;
}

/* ------------------------------------------------------------------------------------------
 * Leaf measurements
 * ---------------------------------------------------------------------------------------- */

/* Everything a leaf measurement reads of its arm. */
typedef struct {
    const ks_arm *arm;
    const ks_subject *subj;
    const double *t, *c;
    size_t n;
    const char *unit;
    double t_first_dose; /* first dose of any drug (0 when none) */
    double *own;         /* cleaned copy of the values when some were negative, else NULL */
    double *own_t;       /* times of a difference curve (vs_arm), else NULL */
} leaf_view;

/* Relative size of a negative value that is integrator round-off, not a wrong model: below
 * this fraction of the curve's peak it is read as 0 (as a sample below the limit of
 * quantification would be). */
#define KS_NEG_ROUNDOFF 1e-6

/* One output curve of one arm (subject 0). */
static ks_status arm_curve(ks_ctx *ctx, const ks_arm *arm, const char *output, const double **t,
                           const double **c, size_t *n, const char **unit)
{
    if (!arm->result)
        return ks_fail(ctx, KS_ERR_VALIDATION, "arm '%s' was not simulated: %s", arm->name,
                       arm->sim_error ? arm->sim_error : "unknown reason");
    long j = ks_result_output_index(arm->result, output);
    if (j < 0)
        return ks_fail(ctx, KS_ERR_VALIDATION, "the model has no output '%s' (arm '%s')", output,
                       arm->name);
    if (ks_result_subject_count(arm->result) < 1 || arm->scenario->n_subjects < 1)
        return ks_fail(ctx, KS_ERR_VALIDATION, "arm '%s' has no subject", arm->name);
    *n = ks_result_time_count(arm->result, 0);
    *t = ks_result_times(arm->result, 0);
    *c = ks_result_values(arm->result, 0, (size_t)j);
    *unit = ks_result_output_unit(arm->result, (size_t)j);
    if (*n < 2)
        return ks_fail(ctx, KS_ERR_VALIDATION, "arm '%s': fewer than 2 output times", arm->name);
    return KS_OK;
}

static ks_status leaf_open(ks_ctx *ctx, const ks_measure *m, const ks_arm *arms, leaf_view *v)
{
    const ks_arm *arm = &arms[m->arm];
    v->arm = arm;
    ks_status st = arm_curve(ctx, arm, m->output, &v->t, &v->c, &v->n, &v->unit);
    if (st != KS_OK)
        return st;
    v->subj = &arm->scenario->subjects[0];
    v->t_first_dose = v->subj->n_doses > 0 ? v->subj->doses[0].t_h : 0.0;
    if (m->has_vs) {
        /* this arm's output minus the other arm's, at this arm's times inside the other's */
        const ks_arm *o = &arms[m->vs_arm];
        const double *ot, *oc;
        size_t on;
        const char *ou;
        if ((st = arm_curve(ctx, o, m->output, &ot, &oc, &on, &ou)) != KS_OK)
            return st;
        if (!(v->own = ks_malloc(ctx, v->n * sizeof *v->own)) ||
            !(v->own_t = ks_malloc(ctx, v->n * sizeof *v->own_t)))
            return KS_ERR_NOMEM;
        size_t k = 0;
        for (size_t i = 0; i < v->n; i++) {
            if (v->t[i] < ot[0] - 1e-9 || v->t[i] > ot[on - 1] + 1e-9)
                continue;
            v->own_t[k] = v->t[i];
            v->own[k] = v->c[i] - ks_curve_value_at(ot, oc, on, v->t[i]);
            k++;
        }
        if (k < 2)
            return ks_fail(ctx, KS_ERR_VALIDATION,
                           "arms '%s' and '%s' share fewer than 2 output times", arm->name,
                           o->name);
        v->t = v->own_t;
        v->c = v->own;
        v->n = k;
        return KS_OK;
    }
    if (m->kind >= MK_FIRST_CURVE)
        return KS_OK; /* curve kinds read values of either sign */
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

/* Time reference of a leaf (docs/VALIDATION.md, "from"). `tmax` is the time of the peak, used
 * by "last_dose" (the last dose at or before it). Fails when the named dose or event does
 * not exist. */
static ks_status leaf_ref_time(ks_ctx *ctx, const ks_measure *m, const leaf_view *v, double tmax,
                               double *ref)
{
    const ks_subject *s = v->subj;
    switch (m->from) {
    case REF_ZERO:
        *ref = 0.0;
        return KS_OK;
    case REF_LAST_DOSE: {
        double r = v->t_first_dose;
        for (size_t i = 0; i < s->n_doses; i++)
            if (s->doses[i].t_h <= tmax)
                r = s->doses[i].t_h;
        *ref = r;
        return KS_OK;
    }
    case REF_FIRST_DOSE:
        *ref = v->t_first_dose;
        return KS_OK;
    case REF_DOSE: {
        size_t count = 0;
        for (size_t i = 0; i < s->n_doses; i++)
            count += m->ref_drug < 0 || (int)s->doses[i].drug == m->ref_drug;
        long want = m->ref_index > 0 ? m->ref_index - 1 : (long)count + m->ref_index;
        long k = 0;
        for (size_t i = 0; i < s->n_doses; i++) {
            if (!(m->ref_drug < 0 || (int)s->doses[i].drug == m->ref_drug))
                continue;
            if (k++ == want) {
                *ref = s->doses[i].t_h;
                return KS_OK;
            }
        }
        return ks_fail(ctx, KS_ERR_VALIDATION, "arm '%s': no dose %d%s%s (the subject has %zu)",
                       v->arm->name, m->ref_index, m->ref_drug < 0 ? "" : " of ",
                       m->ref_drug < 0 ? "" : ks_drug_name((ks_drug)m->ref_drug), count);
    }
    case REF_EVENT: {
        size_t count = 0;
        for (size_t i = 0; i < s->n_events; i++)
            count += (int)s->events[i].kind == m->ref_event;
        long want = m->ref_index > 0 ? m->ref_index - 1 : (long)count + m->ref_index;
        long k = 0;
        for (size_t i = 0; i < s->n_events; i++) {
            if ((int)s->events[i].kind != m->ref_event)
                continue;
            if (k++ == want) {
                *ref = s->events[i].t_h + (m->ref_end ? s->events[i].duration_h : 0.0);
                return KS_OK;
            }
        }
        return ks_fail(ctx, KS_ERR_VALIDATION, "arm '%s': no %s event %d (the subject has %zu)",
                       v->arm->name, ks_event_name((ks_event_kind)m->ref_event), m->ref_index,
                       count);
    }
    }
    *ref = 0.0;
    return KS_OK;
}

/* Words for the reference of a leaf, for the detail column. */
static void ref_words(const ks_measure *m, char *buf, size_t size)
{
    switch (m->from) {
    case REF_DOSE:
        if (m->ref_drug >= 0)
            snprintf(buf, size, "%s dose %d", ks_drug_name((ks_drug)m->ref_drug), m->ref_index);
        else
            snprintf(buf, size, "dose %d", m->ref_index);
        return;
    case REF_EVENT:
        snprintf(buf, size, "%s of %s event %d", m->ref_end ? "end" : "start",
                 ks_event_name((ks_event_kind)m->ref_event), m->ref_index);
        return;
    default:
        snprintf(buf, size, "%s", ks_ref_names[m->from]);
        return;
    }
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

static ks_status eval_curve(ks_ctx *ctx, const ks_measure *m, const leaf_view *v,
                            const ks_arm *arms, ks_quantity *q, char *detail, size_t ds);

static ks_status eval_leaf(ks_ctx *ctx, const ks_measure *m, const ks_arm *arms, ks_quantity *q,
                           char *detail, size_t ds)
{
    leaf_view v;
    memset(&v, 0, sizeof v);
    ks_status st = leaf_open(ctx, m, arms, &v);
    if (st == KS_OK)
        st = m->kind >= MK_FIRST_CURVE ? eval_curve(ctx, m, &v, arms, q, detail, ds)
                                       : eval_leaf_view(ctx, m, &v, q, detail, ds);
    free(v.own);
    free(v.own_t);
    return st;
}

static ks_status eval_curve(ks_ctx *ctx, const ks_measure *m, const leaf_view *v,
                            const ks_arm *arms, ks_quantity *q, char *detail, size_t ds)
{
    const double *t = v->t, *c = v->c;
    size_t n = v->n;
    double w = v->subj->patient.weight_kg;
    double t_hi;
    ks_curve_extreme(t, c, n, t[0], t[n - 1], +1, &t_hi);
    double ref;
    ks_status st = leaf_ref_time(ctx, m, v, t_hi, &ref);
    if (st != KS_OK)
        return st;
    char rw[96], what[256];
    ref_words(m, rw, sizeof rw);
    if (m->has_vs)
        snprintf(what, sizeof what, "%s in arm '%s' minus arm '%s'", m->output, v->arm->name,
                 arms[m->vs_arm].name);
    else
        snprintf(what, sizeof what, "%s in arm '%s'", m->output, v->arm->name);
    double ta = ref + (isfinite(m->start_h) ? m->start_h : 0.0);
    double tb = isfinite(m->end_h) ? ref + m->end_h : t[n - 1];
    if (m->kind != MK_VALUE_AT && (ta > t[n - 1] + 1e-9 || tb < t[0] - 1e-9 || tb < ta))
        return ks_fail(ctx, KS_ERR_VALIDATION,
                       "%s: the window %.4g-%.4g h is outside the output times %.4g-%.4g h", what,
                       ta, tb, t[0], t[n - 1]);
    switch (m->kind) {
    case MK_VALUE_AT: {
        double tv = ref + m->time_h;
        if (tv < t[0] - 1e-9 || tv > t[n - 1] + 1e-9)
            return ks_fail(ctx, KS_ERR_VALIDATION,
                           "value of %s at %.4g h: outside the output times", what, tv);
        double val = ks_curve_value_at(t, c, n, tv);
        set_q(q, val, KS_DIM_CONC, v->unit, w);
        ks_detail_append(detail, ds, "%s at %.4g h after %s = %.4g %s", what, m->time_h, rw, val,
                         v->unit);
        return KS_OK;
    }
    case MK_MAX_VALUE:
    case MK_MIN_VALUE:
    case MK_TIME_OF_MAX:
    case MK_TIME_OF_MIN: {
        int sign = m->kind == MK_MAX_VALUE || m->kind == MK_TIME_OF_MAX ? 1 : -1;
        double te, val = ks_curve_extreme(t, c, n, ta, tb, sign, &te);
        const char *ext = sign > 0 ? "largest" : "smallest";
        if (m->kind == MK_MAX_VALUE || m->kind == MK_MIN_VALUE) {
            set_q(q, val, KS_DIM_CONC, v->unit, w);
            ks_detail_append(detail, ds,
                             "%s value of %s over %.4g-%.4g h after %s = %.4g %s (at %.4g h)", ext,
                             what, ta - ref, tb - ref, rw, val, v->unit, te - ref);
        } else {
            set_q(q, te - ref, KS_DIM_TIME, NULL, w);
            ks_detail_append(detail, ds, "%s value of %s (%.4g %s) at %.4g h after %s", ext, what,
                             val, v->unit, te - ref, rw);
        }
        return KS_OK;
    }
    case MK_MEAN_VALUE: {
        double val = ks_curve_mean(t, c, n, ta, tb);
        if (!isfinite(val))
            return ks_fail(ctx, KS_ERR_VALIDATION,
                           "mean of %s over %.4g-%.4g h after %s: outside the output times", what,
                           m->start_h, m->end_h, rw);
        set_q(q, val, KS_DIM_CONC, v->unit, w);
        ks_detail_append(detail, ds, "mean of %s over %.4g-%.4g h after %s = %.4g %s", what,
                         m->start_h, m->end_h, rw, val, v->unit);
        return KS_OK;
    }
    case MK_CROSSING: {
        double ep, b;
        ks_curve_crossing(t, c, n, ref, tb, INFINITY, 1, &ep, &b);
        double thr = m->thr == THR_FRACTION_OF_PEAK ? m->thr_value * fabs(ep)
                     : m->thr == THR_RELATIVE       ? m->thr_value * fabs(b)
                                                    : m->thr_value;
        if (!(thr > 0.0))
            return ks_fail(ctx, KS_ERR_VALIDATION,
                           "%s: the threshold is 0 (baseline %.4g, peak excursion %.4g)", what, b,
                           ep);
        double tc = ks_curve_crossing(t, c, n, ref, tb, thr, m->rise, NULL, NULL);
        if (!isfinite(tc))
            return ks_fail(ctx, KS_ERR_VALIDATION,
                           "%s %s %.4g %s of its baseline %.4g within the simulated time "
                           "(peak excursion %+.4g)",
                           what, m->rise ? "never moves" : "never comes back within", thr, v->unit,
                           b, ep);
        set_q(q, tc - ref, KS_DIM_TIME, NULL, w);
        ks_detail_append(
            detail, ds,
            "%s: baseline %.4g %s at %s, peak excursion %+.4g; %s %.4g %s of baseline at "
            "%.4g h after %s",
            what, b, v->unit, rw, ep, m->rise ? "moves" : "back within", thr, v->unit, tc - ref,
            rw);
        return KS_OK;
    }
    default:
        break;
    }
    return ks_fail(ctx, KS_ERR_INTERNAL, "measurement kind %d is not a curve kind", (int)m->kind);
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
        ks_detail_append(detail, ds, "Cmax of %s in arm '%s' = %.4g %s", on, an, e.cmax, v.unit);
        return KS_OK;
    case MK_TMAX: {
        double ref;
        if ((st = leaf_ref_time(ctx, m, &v, e.tmax_h, &ref)) != KS_OK)
            return st;
        set_q(q, e.tmax_h - ref, KS_DIM_TIME, NULL, w);
        char rw[96];
        ref_words(m, rw, sizeof rw);
        ks_detail_append(detail, ds, "Tmax of %s in arm '%s' = %.4g h after the %s (%.4g h)", on,
                         an, e.tmax_h - ref,
                         m->from == REF_ZERO         ? "time origin"
                         : m->from == REF_LAST_DOSE  ? "last dose before Tmax"
                         : m->from == REF_FIRST_DOSE ? "first dose"
                                                     : rw,
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
        ks_detail_append(detail, ds, "%s of %s in arm '%s' = %.4g %s*h", what, on, an, auc, v.unit);
        if (isinf(m->auc_to_h))
            ks_detail_append(detail, ds, " (%s; extrapolated %.1f%%)", fit,
                             100.0 * e.auc_extrap_frac);
        return KS_OK;
    }
    case MK_HALF_LIFE:
        if ((st = need_terminal(ctx, &e, m, &v)) != KS_OK)
            return st;
        set_q(q, e.half_life_h, KS_DIM_TIME, NULL, w);
        ks_detail_append(detail, ds, "terminal half-life of %s in arm '%s' = %.4g h (%s)", on, an,
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
            ks_detail_append(detail, ds,
                             "AUC0-inf/dose of %s in arm '%s' = %.4g %s*h / %.4g mg = %.4g (%s)",
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
            ks_detail_append(
                detail, ds,
                "CL = dose/AUC0-inf of %s in arm '%s' = %.4g mg / %.4g %s*h = %.4g L/h "
                "(%s)",
                on, an, dose, e.auc_inf, v.unit, cl, fit);
            return KS_OK;
        }
        /* Vss = CL (MRT - MIT); MIT = T/2 for one infusion of duration T */
        double vss = cl * (e.mrt_h - mit);
        set_q(q, vss, KS_DIM_VOLUME, NULL, w);
        ks_detail_append(
            detail, ds,
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
        double ref;
        if ((st = leaf_ref_time(ctx, m, &v, e.tmax_h, &ref)) != KS_OK)
            return st;
        set_q(q, tb - ref, KS_DIM_TIME, NULL, w);
        ks_detail_append(detail, ds, "%s in arm '%s' below %.3g x its peak from %.4g h after %s",
                         on, an, m->fraction, tb - ref, ks_ref_names[m->from]);
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
        ks_detail_append(detail, detail_size, "%s of [",
                         m->kind == MK_RATIO ? "ratio" : "difference");
        if ((st = ks_measure_eval(ctx, m->items[0], arms, &a, detail, detail_size)) != KS_OK)
            return st;
        ks_detail_append(detail, detail_size, "] %s [", m->kind == MK_RATIO ? "over" : "minus");
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
        ks_detail_append(detail, detail_size, "] = %.4g", out->value);
        return KS_OK;
    case MK_RELDIFF:
        ks_detail_append(detail, detail_size, "relative difference of [");
        if ((st = ks_measure_eval(ctx, m->items[0], arms, &a, detail, detail_size)) != KS_OK)
            return st;
        ks_detail_append(detail, detail_size, "] from [");
        if ((st = ks_measure_eval(ctx, m->items[1], arms, &b, detail, detail_size)) != KS_OK)
            return st;
        if (!same_dim(&a, &b))
            return ks_fail(ctx, KS_ERR_INPUT,
                           "a relative_difference needs two quantities of the same kind (got %s "
                           "%s and %s %s)",
                           ks_dim_name(a.dim), a.unit, ks_dim_name(b.dim), b.unit);
        if (!(b.value != 0.0))
            return ks_fail(ctx, KS_ERR_VALIDATION, "relative difference from a zero reference");
        /* (value - reference) / reference */
        set_q(out, (a.value - b.value) / b.value, KS_DIM_RATIO, NULL,
              a.weight_kg == b.weight_kg ? a.weight_kg : NAN);
        ks_detail_append(detail, detail_size, "] = %.4g", out->value);
        return KS_OK;
    case MK_FRACTION:
        ks_detail_append(detail, detail_size, "effect fraction [blocked: ");
        if ((st = ks_measure_eval(ctx, m->items[0], arms, &a, detail, detail_size)) != KS_OK)
            return st;
        ks_detail_append(detail, detail_size, "] over [unblocked: ");
        if ((st = ks_measure_eval(ctx, m->items[1], arms, &b, detail, detail_size)) != KS_OK)
            return st;
        if (!same_dim(&a, &b))
            return ks_fail(ctx, KS_ERR_INPUT,
                           "an effect_fraction needs two quantities of the same kind (got %s %s "
                           "and %s %s)",
                           ks_dim_name(a.dim), a.unit, ks_dim_name(b.dim), b.unit);
        /* a fraction of an effect needs an effect: the unblocked response must be a rise */
        if (!(b.value > 0.0))
            return ks_fail(ctx, KS_ERR_VALIDATION,
                           "no unblocked effect to block: the unblocked response is %.4g %s (not "
                           "> 0): %s",
                           b.value, b.unit, detail);
        set_q(out, a.value / b.value, KS_DIM_RATIO, NULL,
              a.weight_kg == b.weight_kg ? a.weight_kg : NAN);
        ks_detail_append(detail, detail_size, "] = %.4g", out->value);
        return KS_OK;
    case MK_MAX_OF:
    case MK_MIN_OF: {
        int sign = m->kind == MK_MAX_OF ? 1 : -1;
        ks_detail_append(detail, detail_size, "%s of (", sign > 0 ? "largest" : "smallest");
        for (size_t i = 0; i < m->n_items; i++) {
            ks_detail_append(detail, detail_size, "%s[", i ? "; " : "");
            if ((st = ks_measure_eval(ctx, m->items[i], arms, &b, detail, detail_size)) != KS_OK)
                return st;
            ks_detail_append(detail, detail_size, "]");
            if (i == 0) {
                a = b;
                continue;
            }
            if (!same_dim(&a, &b))
                return ks_fail(ctx, KS_ERR_INPUT,
                               "every item of '%s' must be of the same kind (item %zu is a %s)",
                               ks_mkinds[m->kind].name, i, ks_dim_name(b.dim));
            if (sign * b.value > sign * a.value)
                a.value = b.value;
        }
        set_q(out, a.value, a.dim, a.unit, a.weight_kg);
        ks_detail_append(detail, detail_size, ") = %.4g", out->value);
        return KS_OK;
    }
    case MK_COMPARE: {
        ks_detail_append(detail, detail_size, "[");
        if ((st = ks_measure_eval(ctx, m->items[0], arms, &a, detail, detail_size)) != KS_OK)
            return st;
        ks_detail_append(detail, detail_size, "] %s ", ks_op_names[m->op]);
        double rv;
        if (m->has_constant) {
            rv = m->factor * m->constant;
            ks_detail_append(detail, detail_size, "%.4g", rv);
        } else {
            if (m->factor != 1.0)
                ks_detail_append(detail, detail_size, "%.4g x ", m->factor);
            ks_detail_append(detail, detail_size, "[");
            if ((st = ks_measure_eval(ctx, m->items[1], arms, &b, detail, detail_size)) != KS_OK)
                return st;
            ks_detail_append(detail, detail_size, "]");
            if (!same_dim(&a, &b))
                return ks_fail(ctx, KS_ERR_INPUT,
                               "a comparison needs two quantities of the same kind (got %s and "
                               "%s)",
                               ks_dim_name(a.dim), ks_dim_name(b.dim));
            rv = m->factor * b.value;
        }
        int r = m->op == OP_LT   ? a.value < rv
                : m->op == OP_LE ? a.value <= rv
                : m->op == OP_GT ? a.value > rv
                                 : a.value >= rv;
        set_q(out, r ? 1.0 : 0.0, KS_DIM_BOOL, NULL, a.weight_kg);
        /* signed distance from the boundary, relative to the larger side (> 0 when it holds
         * strictly); lets a calibration grade a statement that does not hold */
        double d = m->op == OP_GT || m->op == OP_GE ? a.value - rv : rv - a.value;
        double scale = fmax(fabs(a.value), fabs(rv));
        ks_detail_append(detail, detail_size, ": %s (relative margin %+.3g)",
                         r ? "holds" : "does not hold", scale > 0.0 ? d / scale : 0.0);
        return KS_OK;
    }
    case MK_ALL: {
        int all = 1;
        for (size_t i = 0; i < m->n_items; i++) {
            ks_detail_append(detail, detail_size, "%s(", i ? "; " : "");
            if ((st = ks_measure_eval(ctx, m->items[i], arms, &a, detail, detail_size)) != KS_OK)
                return st;
            ks_detail_append(detail, detail_size, ")");
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
