/*
 * trial_parse.c -- the JSON trial format (docs/TRIAL.md, schema/trial.schema.json): strict
 * parsing (unknown and duplicate keys rejected, one message naming file, JSON path and value),
 * the arms' doses through the scenario parser, events, visits, population and endpoints.
 */
#include "trial/trial_internal.h"

#include "core/internal.h"
#include "io/scenario_internal.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define JPATH_MAX    256

/* Reference weights of the two dose expansions that tell weight-based doses from fixed ones:
 * an amount that doubles from 70 to 140 kg is mg_per_kg x weight. */
#define REF_WEIGHT_KG 70.0
#define ALT_WEIGHT_KG 140.0

typedef struct {
    ks_ctx *ctx;
    const char *file;
    const char *base_dir;
    char path[JPATH_MAX];
    size_t plen;
} jp;

/* ---------------------------------------------------------------------------------------
 * Paths, messages, typed getters (1 present and valid, 0 absent, -1 error recorded)
 * ------------------------------------------------------------------------------------- */

static size_t push(jp *j, const char *fmt, ...) KS_PRINTF(2, 3);
static size_t push(jp *j, const char *fmt, ...)
{
    size_t saved = j->plen;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->path + j->plen, sizeof j->path - j->plen, fmt, ap);
    va_end(ap);
    if (n > 0) {
        size_t room = sizeof j->path - j->plen - 1;
        j->plen += (size_t)n < room ? (size_t)n : room;
    }
    return saved;
}

static void pop(jp *j, size_t saved)
{
    j->plen = saved;
    j->path[saved] = '\0';
}

static const char *describe(const cJSON *v, char *buf, size_t size)
{
    if (!v)
        snprintf(buf, size, "nothing");
    else if (cJSON_IsNumber(v))
        ks_fmt_double(buf, size, v->valuedouble);
    else if (cJSON_IsString(v)) {
        size_t len = strlen(v->valuestring);
        snprintf(buf, size, "\"%.*s%s\"", len > 60 ? 60 : (int)len, v->valuestring,
                 len > 60 ? "..." : "");
        for (char *c = buf; *c; c++)
            if ((unsigned char)*c < 0x20)
                *c = '?';
    } else if (cJSON_IsBool(v))
        snprintf(buf, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v))
        snprintf(buf, size, "null");
    else if (cJSON_IsArray(v))
        snprintf(buf, size, "an array of %d items", cJSON_GetArraySize(v));
    else
        snprintf(buf, size, "an object");
    return buf;
}

static int jfail(jp *j, const cJSON *got, const char *fmt, ...) KS_PRINTF(3, 4);
static int jfail(jp *j, const cJSON *got, const char *fmt, ...)
{
    char msg[512], val[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (got)
        ks_fail(j->ctx, KS_ERR_INPUT, "%s: %s: %s (got %s)", j->file, j->path, msg,
                describe(got, val, sizeof val));
    else
        ks_fail(j->ctx, KS_ERR_INPUT, "%s: %s: %s", j->file, j->path, msg);
    return -1;
}

static int check_object(jp *j, const cJSON *obj, const char *const *keys, size_t n)
{
    if (!cJSON_IsObject(obj))
        return jfail(j, obj, "expected an object");
    for (const cJSON *c = obj->child; c; c = c->next) {
        const char *key = c->string ? c->string : "";
        int known = 0;
        for (size_t i = 0; i < n; i++)
            known |= strcmp(key, keys[i]) == 0;
        if (!known) {
            char list[512] = "";
            size_t o = 0;
            for (size_t i = 0; i < n && o < sizeof list; i++)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", keys[i]);
            return jfail(j, c, "unknown key \"%.60s\"; allowed keys here: %s", key, list);
        }
        for (const cJSON *p = obj->child; p != c; p = p->next)
            if (p->string && strcmp(p->string, key) == 0) {
                size_t s = push(j, ".%s", key);
                jfail(j, NULL, "duplicate key (got \"%.60s\" twice)", key);
                pop(j, s);
                return -1;
            }
    }
    return 1;
}

static const cJSON *child(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int get_number(jp *j, const cJSON *obj, const char *key, double lo, int lo_open, double hi,
                      const char *unit, double *out)
{
    const cJSON *v = child(obj, key);
    if (!v)
        return 0;
    size_t s = push(j, ".%s", key);
    int r = 1;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        r = jfail(j, v, "expected a number (%s)", unit);
    else if ((lo_open ? !(v->valuedouble > lo) : !(v->valuedouble >= lo)) ||
             !(v->valuedouble <= hi))
        r = jfail(j, v, "must be %s %g and <= %g (%s)", lo_open ? ">" : ">=", lo, hi, unit);
    else
        *out = v->valuedouble;
    pop(j, s);
    return r;
}

static int get_integer(jp *j, const cJSON *obj, const char *key, double lo, double hi, double *out)
{
    const cJSON *v = child(obj, key);
    if (!v)
        return 0;
    size_t s = push(j, ".%s", key);
    int r = 1;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
        r = jfail(j, v, "expected a whole number from %.0f to %.0f", lo, hi);
    else
        *out = v->valuedouble;
    pop(j, s);
    return r;
}

static int get_string(jp *j, const cJSON *obj, const char *key, size_t max_len, const char **out)
{
    const cJSON *v = child(obj, key);
    if (!v)
        return 0;
    size_t s = push(j, ".%s", key);
    int r = 1;
    if (!cJSON_IsString(v) || !v->valuestring)
        r = jfail(j, v, "expected a string");
    else if (max_len && (v->valuestring[0] == '\0' || strlen(v->valuestring) > max_len))
        r = jfail(j, v, "expected 1 to %zu characters", max_len);
    else
        *out = v->valuestring;
    pop(j, s);
    return r;
}

static int get_bool(jp *j, const cJSON *obj, const char *key, int *out)
{
    const cJSON *v = child(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsBool(v)) {
        size_t s = push(j, ".%s", key);
        jfail(j, v, "expected true or false");
        pop(j, s);
        return -1;
    }
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return 1;
}

static int get_choice(jp *j, const cJSON *obj, const char *key, const char *const *names, size_t n,
                      int *out)
{
    const char *str = NULL;
    int r = get_string(j, obj, key, 0, &str);
    if (r <= 0)
        return r;
    for (size_t i = 0; i < n; i++)
        if (strcmp(str, names[i]) == 0) {
            *out = (int)i;
            return 1;
        }
    char list[256] = "";
    size_t o = 0;
    for (size_t i = 0; i < n && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s\"%s\"", i ? ", " : "", names[i]);
    size_t s = push(j, ".%s", key);
    jfail(j, child(obj, key), "expected one of %s", list);
    pop(j, s);
    return -1;
}

/* A time given by exactly one of the keys min/h/day (visits) or at_h/at_day (events). */
static int get_time(jp *j, const cJSON *obj, const char *const *keys, const double *hours_per,
                    size_t n, double span_h, double *t_h)
{
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        double x = 0.0;
        int r = get_number(j, obj, keys[i], 0.0, 0, span_h / hours_per[i], "within the span", &x);
        if (r < 0)
            return -1;
        if (r) {
            if (found)
                return jfail(j, obj, "give exactly one of the time keys (%s, %s%s%s)", keys[0],
                             keys[1], n > 2 ? ", " : "", n > 2 ? keys[2] : "");
            found = 1;
            *t_h = x * hours_per[i];
        }
    }
    if (!found)
        return jfail(j, obj, "a time is required: one of %s, %s%s%s", keys[0], keys[1],
                     n > 2 ? ", " : "", n > 2 ? keys[2] : "");
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * Sections
 * ------------------------------------------------------------------------------------- */

static int parse_span(jp *j, const cJSON *obj, double *span_h)
{
    static const char *const keys[] = {"days", "hours"};
    size_t s = push(j, ".span");
    int r = -1;
    double d = 0.0, h = 0.0;
    if (check_object(j, obj, keys, ARRAY_LEN(keys)) < 0)
        goto out;
    int rd = get_number(j, obj, "days", 0.0, 1, 5.0 * 365.25, "days", &d);
    int rh = get_number(j, obj, "hours", 0.0, 1, 5.0 * 365.25 * 24.0, "h", &h);
    if (rd < 0 || rh < 0)
        goto out;
    if (rd + rh != 1) {
        jfail(j, obj, "give exactly one of days and hours");
        goto out;
    }
    *span_h = rd ? d * 24.0 : h;
    r = 1;
out:
    pop(j, s);
    return r;
}

static int parse_population(jp *j, const cJSON *obj, ks_population_spec *p)
{
    static const char *const keys[] = {"diagnosis",           "baseline_madrs",      "inclusion",
                                       "failed_trials",       "female_fraction",     "age_y",
                                       "weight_kg",           "east_asian_fraction", "genotypes",
                                       "ssri_adaptation_init"};
    static const char *const dx_names[] = {"mdd", "trd"};
    static const char *const scale_names[] = {"madrs", "hdrs17"};
    size_t s = push(j, ".population");
    int r = -1, v;
    if (check_object(j, obj, keys, ARRAY_LEN(keys)) < 0)
        goto out;
    int rc = get_choice(j, obj, "diagnosis", dx_names, ARRAY_LEN(dx_names), &v);
    if (rc < 0)
        goto out;
    ks_population_spec_init(p, rc ? (ks_diagnosis)v : KS_DX_TRD);
    const cJSON *o;
    if ((o = child(obj, "baseline_madrs"))) {
        static const char *const k2[] = {"mean", "sd"};
        size_t s2 = push(j, ".baseline_madrs");
        int bad =
            check_object(j, o, k2, ARRAY_LEN(k2)) < 0 ||
            get_number(j, o, "mean", 0.0, 0, 60.0, "MADRS points", &p->baseline_mean_madrs) < 0 ||
            get_number(j, o, "sd", 0.0, 0, 30.0, "MADRS points", &p->baseline_sd_madrs) < 0;
        pop(j, s2);
        if (bad)
            goto out;
    }
    if ((o = child(obj, "inclusion"))) {
        static const char *const k2[] = {"scale", "min", "max"};
        size_t s2 = push(j, ".inclusion");
        int bad = check_object(j, o, k2, ARRAY_LEN(k2)) < 0;
        if (!bad) {
            int rs = get_choice(j, o, "scale", scale_names, ARRAY_LEN(scale_names), &v);
            bad = rs < 0;
            if (rs > 0)
                p->inclusion_scale = (ks_scale)v;
        }
        if (!bad) {
            double mx = ks_scale_max(p->inclusion_scale);
            bad = get_number(j, o, "min", 0.0, 0, mx, "score points", &p->inclusion_min) < 0 ||
                  get_number(j, o, "max", 0.0, 0, mx, "score points", &p->inclusion_max) < 0;
        }
        pop(j, s2);
        if (bad)
            goto out;
    }
    if ((o = child(obj, "failed_trials"))) {
        size_t s2 = push(j, ".failed_trials");
        int n = cJSON_GetArraySize(o);
        if (!cJSON_IsArray(o) || n < 1 || n > KS_POP_MAX_FAIL + 1) {
            jfail(j, o,
                  "expected an array of 1 to %d probabilities (P(0 failed trials), P(1), ...)",
                  KS_POP_MAX_FAIL + 1);
            pop(j, s2);
            goto out;
        }
        int k = 0;
        for (const cJSON *e = o->child; e; e = e->next, k++) {
            if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0.0 && e->valuedouble <= 1.0)) {
                size_t s3 = push(j, "[%d]", k);
                jfail(j, e, "expected a probability from 0 to 1");
                pop(j, s3);
                pop(j, s2);
                goto out;
            }
            p->p_fail[k] = e->valuedouble;
        }
        p->n_fail_p = (size_t)n;
        pop(j, s2);
    }
    if (get_number(j, obj, "female_fraction", 0.0, 0, 1.0, "fraction", &p->female_fraction) < 0 ||
        get_number(j, obj, "east_asian_fraction", 0.0, 0, 1.0, "fraction",
                   &p->east_asian_fraction) < 0 ||
        get_number(j, obj, "ssri_adaptation_init", 0.0, 0, 1.0, "fraction",
                   &p->ssri_adaptation_init) < 0)
        goto out;
    if ((o = child(obj, "age_y"))) {
        static const char *const k2[] = {"mean", "sd", "min", "max"};
        size_t s2 = push(j, ".age_y");
        int bad = check_object(j, o, k2, ARRAY_LEN(k2)) < 0 ||
                  get_number(j, o, "mean", 18.0, 0, 110.0, "years", &p->age_mean_y) < 0 ||
                  get_number(j, o, "sd", 0.0, 0, 50.0, "years", &p->age_sd_y) < 0 ||
                  get_number(j, o, "min", 18.0, 0, 110.0, "years", &p->age_min_y) < 0 ||
                  get_number(j, o, "max", 18.0, 0, 110.0, "years", &p->age_max_y) < 0;
        pop(j, s2);
        if (bad)
            goto out;
    }
    if ((o = child(obj, "weight_kg"))) {
        static const char *const k2[] = {"median", "omega", "min", "max"};
        size_t s2 = push(j, ".weight_kg");
        int bad = check_object(j, o, k2, ARRAY_LEN(k2)) < 0 ||
                  get_number(j, o, "median", 20.0, 0, 300.0, "kg", &p->weight_median_kg) < 0 ||
                  get_number(j, o, "omega", 0.0, 0, 2.0, "lognormal SD", &p->weight_omega) < 0 ||
                  get_number(j, o, "min", 20.0, 0, 300.0, "kg", &p->weight_min_kg) < 0 ||
                  get_number(j, o, "max", 20.0, 0, 300.0, "kg", &p->weight_max_kg) < 0;
        pop(j, s2);
        if (bad)
            goto out;
    }
    if ((o = child(obj, "genotypes"))) {
        static const char *const k2[] = {"bdnf_met_freq", "cyp2b6_6_freq"};
        size_t s2 = push(j, ".genotypes");
        int bad = check_object(j, o, k2, ARRAY_LEN(k2)) < 0 ||
                  get_number(j, o, "bdnf_met_freq", 0.0, 0, 1.0, "allele frequency",
                             &p->bdnf_met_freq) < 0 ||
                  get_number(j, o, "cyp2b6_6_freq", 0.0, 0, 1.0, "allele frequency",
                             &p->cyp2b6_6_freq) < 0;
        pop(j, s2);
        if (bad)
            goto out;
    }
    if (p->n_fail_p) {
        double sum = 0.0;
        for (size_t k = 0; k < p->n_fail_p; k++)
            sum += p->p_fail[k];
        if (fabs(sum - 1.0) > 1e-6) {
            size_t s2 = push(j, ".failed_trials");
            jfail(j, child(obj, "failed_trials"), "the probabilities must sum to 1 (sum %g)", sum);
            pop(j, s2);
            goto out;
        }
    }
    r = 1;
out:
    pop(j, s);
    return r;
}

static int parse_events(jp *j, const cJSON *arr, double span_h, ks_event **out, size_t *n_out)
{
    static const char *const keys[] = {"type",       "at_h",    "at_day",     "magnitude",
                                       "duration_h", "every_h", "every_days", "count"};
    static const char *const tkeys[] = {"at_h", "at_day"};
    static const double tmult[] = {1.0, 24.0};
    const char *event_names[KS_EV_COUNT]; /* the scenario format's names (sim/event.h) */
    for (int k = 0; k < KS_EV_COUNT; k++)
        event_names[k] = ks_event_name((ks_event_kind)k);
    size_t s = push(j, ".events");
    int r = -1;
    if (!cJSON_IsArray(arr)) {
        jfail(j, arr, "expected an array of events");
        goto out;
    }
    size_t cap = 0, n = 0, i = 0;
    ks_event *ev = NULL;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t s2 = push(j, "[%zu]", i);
        int kind = 0;
        double t = 0, mag = 1.0, dur = 0.0, every = 0.0, every_d = 0.0, count = 1.0;
        int bad = check_object(j, e, keys, ARRAY_LEN(keys)) < 0;
        if (!bad) {
            int rk = get_choice(j, e, "type", event_names, KS_EV_COUNT, &kind);
            if (rk == 0)
                jfail(j, e, "\"type\" is required");
            bad = rk <= 0;
        }
        if (!bad)
            bad = get_time(j, e, tkeys, tmult, 2, span_h, &t) < 0 ||
                  get_number(j, e, "magnitude", 0.0, 0, 1e6, "event units", &mag) < 0 ||
                  get_number(j, e, "duration_h", 0.0, 0, span_h, "h", &dur) < 0 ||
                  get_number(j, e, "every_h", 0.0, 1, span_h, "h", &every) < 0 ||
                  get_number(j, e, "every_days", 0.0, 1, span_h / 24.0, "days", &every_d) < 0 ||
                  get_integer(j, e, "count", 1.0, (double)KS_TRIAL_MAX_EVENTS, &count) < 0;
        if (!bad && every > 0.0 && every_d > 0.0)
            bad = jfail(j, e, "give at most one of every_h and every_days") < 0;
        if (!bad && ks_event_is_interval((ks_event_kind)kind) && !(dur > 0.0))
            bad = jfail(j, e, "a %s event needs duration_h > 0", event_names[kind]) < 0;
        if (!bad && count > 1.0 && every <= 0.0 && every_d <= 0.0)
            bad = jfail(j, e, "count > 1 needs every_h or every_days") < 0;
        if (bad) {
            pop(j, s2);
            free(ev);
            goto out;
        }
        double step = every > 0.0 ? every : every_d * 24.0;
        for (long k = 0; k < (long)count; k++) {
            double tk = t + (double)k * step;
            if (tk > span_h)
                break;
            if (n == cap) {
                size_t nc = cap ? 2 * cap : 16;
                if (nc > KS_TRIAL_MAX_EVENTS) {
                    jfail(j, e, "more than %d events in one arm", KS_TRIAL_MAX_EVENTS);
                    pop(j, s2);
                    free(ev);
                    goto out;
                }
                ks_event *g = ks_realloc(j->ctx, ev, nc * sizeof *ev);
                if (!g) {
                    pop(j, s2);
                    free(ev);
                    goto out;
                }
                ev = g;
                cap = nc;
            }
            ev[n].t_h = tk;
            ev[n].duration_h = dur;
            ev[n].magnitude = mag;
            ev[n].kind = (ks_event_kind)kind;
            n++;
        }
        pop(j, s2);
    }
    *out = ev;
    *n_out = n;
    r = 1;
out:
    pop(j, s);
    return r;
}

/* Expands the arm's doses with the scenario parser, once for a 70-kg and once for a 140-kg
 * patient: doses whose amount doubles are weight-based (mg_per_kg). */
static ks_scenario *arm_scenario(jp *j, const cJSON *doses, double span_h, double weight,
                                 size_t arm)
{
    ks_scenario *sc = NULL;
    cJSON *root = cJSON_CreateObject(), *pt = NULL, *sp = NULL, *o = NULL, *d = NULL;
    char *text = NULL;
    if (!root)
        goto nomem;
    if (!(pt = cJSON_AddObjectToObject(root, "patient")) ||
        !cJSON_AddNumberToObject(pt, "weight_kg", weight) || !(d = cJSON_Duplicate(doses, 1)))
        goto nomem;
    cJSON_AddItemToObject(root, "doses", d);
    if (!(sp = cJSON_AddObjectToObject(root, "span")) ||
        !cJSON_AddNumberToObject(sp, "hours", span_h) ||
        !(o = cJSON_AddObjectToObject(root, "output")) ||
        !cJSON_AddNumberToObject(o, "step_min", span_h * 60.0) ||
        !cJSON_AddBoolToObject(o, "effect_site", 0))
        goto nomem;
    if (!(text = cJSON_PrintUnformatted(root)))
        goto nomem;
    sc = ks_scenario_parse(j->ctx, text, strlen(text), j->file, j->base_dir);
    cJSON_free(text);
    cJSON_Delete(root);
    if (!sc) {
        /* The scenario parser names paths from the root of the scenario it was given
         * ("<file>: $.doses[1].mg: ..."); give them from the root of the trial instead. */
        char msg[KS_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", ks_ctx_message(j->ctx));
        size_t fl = strlen(j->file);
        if (strncmp(msg, j->file, fl) == 0 && strncmp(msg + fl, ": $.", 4) == 0)
            ks_fail(j->ctx, ks_ctx_status(j->ctx), "%s: $.arms[%zu].%s", j->file, arm,
                    msg + fl + 4);
        else
            ks_fail(j->ctx, ks_ctx_status(j->ctx), "%s: $.arms[%zu].doses: %s", j->file, arm, msg);
    }
    return sc;
nomem:
    cJSON_Delete(root);
    ks_fail(j->ctx, KS_ERR_NOMEM, "out of memory while reading %s", j->file);
    return NULL;
}

/* A time object {"min"|"h"|"day": x} that must name one of the trial's visits; *visit is its
 * index. `key` is the member of obj holding the time object. */
static int get_visit(jp *j, const cJSON *obj, const char *key, const ks_trial *t,
                     int allow_baseline, size_t *visit)
{
    static const char *const keys[] = {"min", "h", "day"};
    static const double mult[] = {1.0 / 60.0, 1.0, 24.0};
    const cJSON *o = child(obj, key);
    if (!o)
        return 0;
    size_t s = push(j, ".%s", key);
    int r = -1;
    double th = 0.0;
    if (check_object(j, o, keys, ARRAY_LEN(keys)) < 0 ||
        get_time(j, o, keys, mult, 3, t->span_h, &th) < 0)
        goto out;
    for (size_t v = allow_baseline ? 0 : 1; v < t->n_visits; v++)
        if (fabs(t->visits[v].t_h - th) < 1e-9) {
            *visit = v;
            r = 1;
            goto out;
        }
    jfail(j, o, "must be one of the trial's visits%s", allow_baseline ? "" : " after baseline");
out:
    pop(j, s);
    return r;
}

static int parse_flex(jp *j, const cJSON *arr, const ks_trial *t, ks_trial_arm *arm)
{
    static const char *const keys[] = {
        "visit", "if_improvement_below", "if_improvement_points_below", "drug", "mg", "mg_per_kg",
        "factor"};
    size_t s = push(j, ".flex_dose");
    int r = -1;
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n > KS_TRIAL_MAX_FLEX) {
        jfail(j, arr, "expected an array of at most %d flexible-dose rules", KS_TRIAL_MAX_FLEX);
        goto out;
    }
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t s2 = push(j, "[%zu]", i);
        ks_trial_flex *f = &arm->flex[i];
        memset(f, 0, sizeof *f);
        f->drug = -1;
        double frac = -1.0, pts = -1.0;
        const char *drug = NULL;
        int rv = 0, rf = 0, rp = 0, rm = 0, rk = 0, rx = 0;
        int bad = check_object(j, e, keys, ARRAY_LEN(keys)) < 0 ||
                  (rv = get_visit(j, e, "visit", t, 0, &f->visit)) < 0 ||
                  (rf = get_number(j, e, "if_improvement_below", 0.0, 1, 1.0,
                                   "fraction of the baseline score", &frac)) < 0 ||
                  (rp = get_number(j, e, "if_improvement_points_below", -60.0, 0, 60.0,
                                   "score points", &pts)) < 0 ||
                  get_string(j, e, "drug", 64, &drug) < 0 ||
                  (rm = get_number(j, e, "mg", 0.0, 1, 1e5, "mg", &f->mg)) < 0 ||
                  (rk = get_number(j, e, "mg_per_kg", 0.0, 1, 100.0, "mg/kg", &f->mg_per_kg)) < 0 ||
                  (rx = get_number(j, e, "factor", 0.0, 1, 100.0, "multiple of the amount",
                                   &f->factor)) < 0;
        if (!bad && rv == 0)
            bad = jfail(j, e, "\"visit\" is required, e.g. {\"day\": 4}") < 0;
        if (!bad && rf + rp != 1)
            bad = jfail(j, e,
                        "give exactly one of if_improvement_below and "
                        "if_improvement_points_below") < 0;
        if (!bad && rm + rk + rx != 1)
            bad = jfail(j, e, "give exactly one of mg, mg_per_kg (the new amount) and factor") < 0;
        if (!bad && drug) {
            ks_drug d;
            if (ks_drug_from_name(drug, &d) != 0) {
                size_t s3 = push(j, ".drug");
                bad = jfail(j, child(e, "drug"), "unknown drug") < 0;
                pop(j, s3);
            } else {
                f->drug = (int)d;
            }
        }
        if (!bad && i > 0 && f->visit < arm->flex[i - 1].visit)
            bad = jfail(j, e, "flexible-dose rules must be in visit order") < 0;
        pop(j, s2);
        if (bad)
            goto out;
        f->by_fraction = rf == 1;
        f->threshold = rf == 1 ? frac : pts;
        arm->n_flex = i + 1;
    }
    r = 1;
out:
    pop(j, s);
    return r;
}

static int parse_arm(jp *j, const cJSON *obj, size_t i, const ks_trial *t, ks_trial_arm *arm)
{
    static const char *const keys[] = {"name",       "doses",       "events",
                                       "open_label", "description", "flex_dose"};
    double span_h = t->span_h;
    size_t s = push(j, ".arms[%zu]", i);
    int r = -1;
    const char *name = NULL, *desc = NULL;
    ks_scenario *a = NULL, *b = NULL;
    if (check_object(j, obj, keys, ARRAY_LEN(keys)) < 0)
        goto out;
    int rn = get_string(j, obj, "name", KS_TRIAL_MAX_NAME, &name);
    if (rn < 0 || get_string(j, obj, "description", 0, &desc) < 0)
        goto out;
    if (rn == 0) {
        jfail(j, obj, "\"name\" is required");
        goto out;
    }
    for (const char *c = name; *c; c++)
        if (*c == ',' || *c == '"' || (unsigned char)*c < 0x20) {
            size_t s2 = push(j, ".name");
            jfail(j, child(obj, "name"),
                  "an arm name may not contain commas, quotes or control "
                  "characters");
            pop(j, s2);
            goto out;
        }
    if (!(arm->name = ks_strdup(j->ctx, name)))
        goto out;
    if (get_bool(j, obj, "open_label", &arm->open_label) < 0)
        goto out;
    const cJSON *doses = child(obj, "doses");
    if (!doses) {
        jfail(j, obj, "\"doses\" is required (use [] for no drug)");
        goto out;
    }
    if (!cJSON_IsArray(doses)) {
        size_t s2 = push(j, ".doses");
        jfail(j, doses, "expected an array of dose objects (as in the scenario format)");
        pop(j, s2);
        goto out;
    }
    if (!(a = arm_scenario(j, doses, span_h, REF_WEIGHT_KG, i)) ||
        !(b = arm_scenario(j, doses, span_h, ALT_WEIGHT_KG, i)))
        goto out;
    const ks_subject *sa = &a->subjects[0], *sb = &b->subjects[0];
    if (a->n_subjects != 1 || b->n_subjects != 1 || sa->n_doses != sb->n_doses) {
        ks_fail(j->ctx, KS_ERR_INTERNAL, "%s: %s: the arm's doses expanded inconsistently", j->file,
                j->path);
        goto out;
    }
    arm->n_doses = sa->n_doses;
    if (arm->n_doses) {
        arm->doses = ks_malloc(j->ctx, arm->n_doses * sizeof *arm->doses);
        arm->mg_per_kg = ks_calloc(j->ctx, arm->n_doses, sizeof *arm->mg_per_kg);
        if (!arm->doses || !arm->mg_per_kg)
            goto out;
        for (size_t k = 0; k < arm->n_doses; k++) {
            arm->doses[k] = sa->doses[k];
            if (sb->doses[k].amount_mg != sa->doses[k].amount_mg)
                arm->mg_per_kg[k] = sa->doses[k].amount_mg / REF_WEIGHT_KG;
        }
    }
    const cJSON *ev = child(obj, "events");
    if (ev && parse_events(j, ev, span_h, &arm->events, &arm->n_events) < 0)
        goto out;
    const cJSON *fx = child(obj, "flex_dose");
    if (fx && parse_flex(j, fx, t, arm) < 0)
        goto out;
    r = 1;
out:
    ks_scenario_free(a);
    ks_scenario_free(b);
    pop(j, s);
    return r;
}

static void visit_label(double t_h, char *buf, size_t size)
{
    if (t_h == 0.0)
        snprintf(buf, size, "baseline");
    else if (t_h < 1.0 || fmod(t_h * 60.0, 60.0) != 0.0)
        snprintf(buf, size, t_h < 24.0 ? "%g min" : "%g h", t_h < 24.0 ? t_h * 60.0 : t_h);
    else if (t_h < 24.0 || fmod(t_h, 24.0) != 0.0)
        snprintf(buf, size, "%g h", t_h);
    else
        snprintf(buf, size, "day %g", t_h / 24.0);
}

static int cmp_visit(const void *a, const void *b)
{
    double x = ((const ks_trial_visit *)a)->t_h, y = ((const ks_trial_visit *)b)->t_h;
    return (x > y) - (x < y);
}

static int parse_visits(jp *j, const cJSON *arr, ks_trial *t)
{
    static const char *const keys[] = {"min", "h", "day"};
    static const double mult[] = {1.0 / 60.0, 1.0, 24.0};
    size_t s = push(j, ".visits");
    int r = -1;
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n < 1 || n > KS_TRIAL_MAX_VISITS) {
        jfail(j, arr,
              "expected an array of 1 to %d visits such as {\"min\": 40}, {\"h\": 2}, "
              "{\"day\": 1}",
              KS_TRIAL_MAX_VISITS);
        goto out;
    }
    t->visits = ks_calloc(j->ctx, (size_t)n + 1, sizeof *t->visits);
    if (!t->visits)
        goto out;
    t->visits[0].t_h = 0.0;
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t s2 = push(j, "[%zu]", i);
        double th = 0.0;
        int bad = check_object(j, e, keys, ARRAY_LEN(keys)) < 0 ||
                  get_time(j, e, keys, mult, 3, t->span_h, &th) < 0;
        if (!bad && !(th > 0.0))
            bad = jfail(j, e, "a visit must be after the baseline rating at t = 0") < 0;
        pop(j, s2);
        if (bad)
            goto out;
        t->visits[i + 1].t_h = th;
    }
    t->n_visits = (size_t)n + 1;
    qsort(t->visits + 1, (size_t)n, sizeof *t->visits, cmp_visit);
    for (size_t k = 2; k < t->n_visits; k++)
        if (fabs(t->visits[k].t_h - t->visits[k - 1].t_h) < 1e-9) {
            jfail(j, arr, "two visits at the same time (%g h)", t->visits[k].t_h);
            goto out;
        }
    for (size_t k = 0; k < t->n_visits; k++)
        visit_label(t->visits[k].t_h, t->visits[k].label, sizeof t->visits[k].label);
    r = 1;
out:
    pop(j, s);
    return r;
}

/* An arm named by the string e (array item or member); *arm is its index. */
static int arm_by_name(jp *j, const cJSON *e, const ks_trial *t, size_t *arm)
{
    if (!cJSON_IsString(e) || !e->valuestring)
        return jfail(j, e, "expected an arm name");
    for (size_t a = 0; a < t->n_arms; a++)
        if (strcmp(t->arms[a].name, e->valuestring) == 0) {
            *arm = a;
            return 1;
        }
    return jfail(j, e, "no arm has this name");
}

/* A non-empty array of distinct arm names. */
static int arm_list(jp *j, const cJSON *arr, const ks_trial *t, size_t *out, size_t *n_out)
{
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n < 1 || (size_t)n > t->n_arms)
        return jfail(j, arr, "expected an array of 1 to %zu arm names", t->n_arms);
    size_t i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t s = push(j, "[%zu]", i);
        int r = arm_by_name(j, e, t, &out[i]);
        for (size_t k = 0; r > 0 && k < i; k++)
            if (out[k] == out[i])
                r = jfail(j, e, "an arm may be named only once");
        pop(j, s);
        if (r < 0)
            return -1;
    }
    *n_out = i;
    return 1;
}

static int parse_phases(jp *j, const cJSON *arr, ks_trial *t)
{
    static const char *const keys[] = {"name", "until", "arms", "randomise"};
    static const char *const tkeys[] = {"min", "h", "day"};
    static const double tmult[] = {1.0 / 60.0, 1.0, 24.0};
    static const char *const sel_names[] = {"all", "responders", "remitters"};
    size_t s = push(j, ".phases");
    int r = -1;
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n < 1 || n > KS_TRIAL_MAX_PHASES) {
        jfail(j, arr, "expected an array of 1 to %d phases", KS_TRIAL_MAX_PHASES);
        goto out;
    }
    if (t->design != KS_DESIGN_PARALLEL) {
        jfail(j, arr, "phases need the parallel design");
        goto out;
    }
    size_t i = 0;
    double start = 0.0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        size_t s2 = push(j, "[%zu]", i);
        ks_trial_phase *ph = &t->phases[i];
        const char *name = NULL;
        const cJSON *u = child(e, "until"), *ar = child(e, "arms"), *rz = child(e, "randomise");
        int bad = check_object(j, e, keys, ARRAY_LEN(keys)) < 0 ||
                  get_string(j, e, "name", KS_TRIAL_MAX_NAME, &name) < 0;
        if (!bad && !name)
            bad = jfail(j, e, "\"name\" is required (e.g. \"induction\")") < 0;
        if (!bad)
            snprintf(ph->name, sizeof ph->name, "%s", name);
        ph->start_h = start;
        ph->end_h = t->span_h;
        if (!bad && u) {
            size_t s3 = push(j, ".until");
            bad = check_object(j, u, tkeys, ARRAY_LEN(tkeys)) < 0 ||
                  get_time(j, u, tkeys, tmult, 3, t->span_h, &ph->end_h) < 0;
            if (!bad && !(ph->end_h > start))
                bad = jfail(j, u, "a phase must end after it starts (%g h)", start) < 0;
            pop(j, s3);
        } else if (!bad && e->next) {
            bad = jfail(j, e, "\"until\" is required in every phase but the last") < 0;
        }
        if (!bad && !e->next && fabs(ph->end_h - t->span_h) > 1e-9) {
            size_t s3 = push(j, ".until");
            bad =
                jfail(j, u, "the last phase must end at the end of the span (%g h)", t->span_h) < 0;
            pop(j, s3);
        }
        if (!bad && ar) {
            size_t s3 = push(j, ".arms");
            if (i > 0)
                bad = jfail(j, ar,
                            "only the first phase allocates arms (later phases keep them "
                            "or re-randomise)") < 0;
            else
                bad = arm_list(j, ar, t, t->initial_arms, &t->n_initial_arms) < 0;
            pop(j, s3);
        }
        if (!bad && rz) {
            static const char *const rkeys[] = {"select", "arms"};
            size_t s3 = push(j, ".randomise");
            int v = 0;
            if (i == 0)
                bad = jfail(j, rz, "the first phase cannot re-randomise (use \"arms\")") < 0;
            else if (t->withdrawal)
                bad = jfail(j, rz, "only one phase may re-randomise") < 0;
            if (!bad)
                bad = check_object(j, rz, rkeys, ARRAY_LEN(rkeys)) < 0 ||
                      get_choice(j, rz, "select", sel_names, ARRAY_LEN(sel_names), &v) < 0;
            if (!bad) {
                const cJSON *wa = child(rz, "arms");
                size_t s4 = push(j, ".arms");
                if (!wa)
                    bad = jfail(j, rz, "\"arms\" is required: the arms to randomise to") < 0;
                else
                    bad = arm_list(j, wa, t, t->withdrawal_arms, &t->n_withdrawal_arms) < 0;
                pop(j, s4);
            }
            if (!bad) {
                /* the selection is made at the last visit at or before the boundary */
                size_t dv = 0;
                for (size_t k = 1; k < t->n_visits; k++)
                    if (t->visits[k].t_h <= start + 1e-9)
                        dv = k;
                if (dv == 0)
                    bad = jfail(j, rz,
                                "re-randomisation at %g h needs a rating visit after "
                                "baseline and at or before it",
                                start) < 0;
                t->withdrawal = 1;
                t->withdrawal_phase = i;
                t->withdrawal_visit = dv;
                t->withdrawal_h = start;
                t->withdrawal_select = (ks_select)v;
            }
            pop(j, s3);
        }
        pop(j, s2);
        if (bad)
            goto out;
        start = ph->end_h;
        t->n_phases = i + 1;
    }
    r = 1;
out:
    pop(j, s);
    return r;
}

static int parse_dropout(jp *j, const cJSON *obj, ks_trial *t)
{
    static const char *const keys[] = {"per_visit", "lack_of_efficacy"};
    size_t s = push(j, ".dropout");
    int r = -1;
    if (check_object(j, obj, keys, ARRAY_LEN(keys)) < 0 ||
        get_number(j, obj, "per_visit", 0.0, 0, 1.0, "probability per visit",
                   &t->dropout_per_visit) < 0)
        goto out;
    const cJSON *o = child(obj, "lack_of_efficacy");
    if (o) {
        static const char *const k2[] = {"from", "improvement_below"};
        static const char *const tkeys[] = {"min", "h", "day"};
        static const double tmult[] = {1.0 / 60.0, 1.0, 24.0};
        size_t s2 = push(j, ".lack_of_efficacy");
        int rb = 0;
        int bad = check_object(j, o, k2, ARRAY_LEN(k2)) < 0 ||
                  (rb = get_number(j, o, "improvement_below", 0.0, 1, 1.0,
                                   "fraction of the baseline score", &t->dropout_loe_below)) < 0;
        if (!bad && rb == 0)
            bad = jfail(j, o, "\"improvement_below\" is required") < 0;
        const cJSON *f = child(o, "from");
        if (!bad && f) {
            size_t s3 = push(j, ".from");
            bad = check_object(j, f, tkeys, ARRAY_LEN(tkeys)) < 0 ||
                  get_time(j, f, tkeys, tmult, 3, t->span_h, &t->dropout_loe_from_h) < 0;
            pop(j, s3);
        }
        pop(j, s2);
        if (bad)
            goto out;
        t->dropout_loe = 1;
    }
    r = 1;
out:
    pop(j, s);
    return r;
}

/* endpoints.relapse and endpoints.primary (after the arms, visits and phases). */
static int parse_endpoints_late(jp *j, const cJSON *obj, ks_trial *t)
{
    static const char *const measures[] = {"change", "response", "remission", "relapse"};
    static const char *const analyses[] = {"locf", "observed_case"};
    size_t s = push(j, ".endpoints");
    int r = -1;
    const cJSON *o = child(obj, "relapse");
    if (o) {
        static const char *const k2[] = {"min_score", "consecutive"};
        size_t s2 = push(j, ".relapse");
        double c = 1.0;
        int rm = 0;
        int bad = check_object(j, o, k2, ARRAY_LEN(k2)) < 0 ||
                  (rm = get_number(j, o, "min_score", 0.0, 0, ks_scale_max(t->scale),
                                   "score points", &t->relapse_min)) < 0 ||
                  get_integer(j, o, "consecutive", 1.0, 10.0, &c) < 0;
        if (!bad && rm == 0)
            bad = jfail(j, o, "\"min_score\" is required (e.g. 22 on the MADRS)") < 0;
        pop(j, s2);
        if (bad)
            goto out;
        t->relapse = 1;
        t->relapse_consecutive = (size_t)c;
    }
    if ((o = child(obj, "primary"))) {
        static const char *const k2[] = {"measure", "visit", "arm", "analysis", "alpha"};
        size_t s2 = push(j, ".primary");
        int m = 0, ana = 0;
        const cJSON *arm = NULL;
        int bad = check_object(j, o, k2, ARRAY_LEN(k2)) < 0 ||
                  get_choice(j, o, "measure", measures, ARRAY_LEN(measures), &m) < 0 ||
                  get_visit(j, o, "visit", t, 0, &t->primary_visit) < 0 ||
                  get_choice(j, o, "analysis", analyses, ARRAY_LEN(analyses), &ana) < 0 ||
                  get_number(j, o, "alpha", 0.0, 1, 0.5, "two-sided level", &t->alpha) < 0;
        if (!bad && (arm = child(o, "arm"))) {
            size_t s3 = push(j, ".arm");
            bad = arm_by_name(j, arm, t, &t->primary_arm) < 0;
            const size_t *an = t->withdrawal ? t->withdrawal_arms : t->initial_arms;
            size_t nan_ = t->withdrawal ? t->n_withdrawal_arms : t->n_initial_arms;
            int in = 0;
            for (size_t k = 0; k < nan_; k++)
                in |= an[k] == t->primary_arm;
            if (!bad && !in)
                bad = jfail(j, arm, "the primary arm must be one of the analysed arms") < 0;
            if (!bad && t->primary_arm == t->reference_arm)
                bad = jfail(j, arm, "the primary arm must differ from the reference arm") < 0;
            pop(j, s3);
        }
        if (!bad && m == KS_MEASURE_RELAPSE && !t->relapse)
            bad = jfail(j, o, "the relapse measure needs endpoints.relapse") < 0;
        pop(j, s2);
        if (bad)
            goto out;
        t->primary_measure = (ks_measure)m;
        t->primary_oc = ana;
    }
    r = 1;
out:
    pop(j, s);
    return r;
}

static int parse_endpoints(jp *j, const cJSON *obj, ks_trial *t, const char **ref)
{
    static const char *const keys[] = {"scale",         "response_fraction", "remission_max",
                                       "reference_arm", "relapse",           "primary"};
    static const char *const scale_names[] = {"madrs", "hdrs17"};
    size_t s = push(j, ".endpoints");
    int r = -1, v;
    if (check_object(j, obj, keys, ARRAY_LEN(keys)) < 0)
        goto out;
    int rs = get_choice(j, obj, "scale", scale_names, ARRAY_LEN(scale_names), &v);
    if (rs < 0)
        goto out;
    if (rs)
        t->scale = (ks_scale)v;
    if (t->scale == KS_SCALE_HDRS17)
        t->remission_max = 7.0; /* HDRS-17 <= 7 (MODEL.md 8) */
    if (get_number(j, obj, "response_fraction", 0.0, 1, 1.0, "fraction of the baseline score",
                   &t->response_fraction) < 0 ||
        get_number(j, obj, "remission_max", 0.0, 0, ks_scale_max(t->scale), "score points",
                   &t->remission_max) < 0 ||
        get_string(j, obj, "reference_arm", KS_TRIAL_MAX_NAME, ref) < 0)
        goto out;
    r = 1;
out:
    pop(j, s);
    return r;
}

static void arms_free(ks_trial_arm *arms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(arms[i].name);
        free(arms[i].doses);
        free(arms[i].mg_per_kg);
        free(arms[i].events);
    }
    free(arms);
}

void ks_trial_free(ks_trial *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->description);
    free(t->source);
    arms_free(t->arms, t->n_arms);
    free(t->visits);
    free(t);
}

static int cmp_event(const void *a, const void *b)
{
    const ks_event *x = a, *y = b;
    if (x->t_h != y->t_h)
        return (x->t_h > y->t_h) - (x->t_h < y->t_h);
    return (x->kind > y->kind) - (x->kind < y->kind);
}

/* Adds a KS_EV_VISIT event at every rating visit after baseline to each arm, and sorts. */
static ks_status add_visit_events(ks_ctx *ctx, ks_trial *t)
{
    for (size_t a = 0; a < t->n_arms; a++) {
        ks_trial_arm *arm = &t->arms[a];
        size_t n = arm->n_events + t->n_visits - 1;
        ks_event *ev = ks_realloc(ctx, arm->events, (n ? n : 1) * sizeof *ev);
        if (!ev)
            return KS_ERR_NOMEM;
        for (size_t v = 1; v < t->n_visits; v++) {
            ks_event *e = &ev[arm->n_events + v - 1];
            e->t_h = t->visits[v].t_h;
            e->duration_h = 0.0;
            e->magnitude = 1.0;
            e->kind = KS_EV_VISIT;
        }
        arm->events = ev;
        arm->n_events = n;
        /* qsort is not stable, but events of equal time and kind are interchangeable. */
        qsort(arm->events, arm->n_events, sizeof *arm->events, cmp_event);
    }
    return KS_OK;
}

ks_trial *ks_trial_parse_internal(ks_ctx *ctx, const char *text, size_t len, const char *name,
                                  const char *base_dir)
{
    static const char *const keys[] = {"$schema",   "name",   "description", "seed", "n_per_arm",
                                       "span",      "design", "population",  "arms", "visits",
                                       "endpoints", "phases", "dropout"};
    static const char *const design_names[] = {"parallel", "crossover"};
    jp j = {ctx, name ? name : "<trial>", base_dir, "$", 1};
    ks_trial *t = NULL;
    cJSON *root = NULL;
    const char *ref = NULL;
    if (!text) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_trial_parse: text is NULL");
        return NULL;
    }
    if (len > KS_TRIAL_MAX_BYTES) {
        ks_fail(ctx, KS_ERR_INPUT, "%s: the trial file is larger than 16 MiB", j.file);
        return NULL;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0, line = 1, col = 1;
        for (size_t k = 0; k < off && k < len; k++) {
            if (text[k] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        ks_fail(ctx, KS_ERR_INPUT, "%s: line %zu, column %zu: malformed JSON", j.file, line, col);
        return NULL;
    }
    if (!(t = ks_calloc(ctx, 1, sizeof *t)))
        goto fail;
    t->seed = 1;
    t->n_per_arm = 100;
    t->span_h = NAN;
    t->scale = KS_SCALE_MADRS;
    t->response_fraction = 0.5;
    t->remission_max = 10.0;
    ks_population_spec_init(&t->population, KS_DX_TRD);
    if (check_object(&j, root, keys, ARRAY_LEN(keys)) < 0)
        goto fail;
    const char *nm = NULL, *desc = NULL;
    double seed = 1.0, n = 100.0;
    int v = 0;
    if (get_string(&j, root, "name", 200, &nm) < 0 ||
        get_string(&j, root, "description", 0, &desc) < 0 ||
        get_integer(&j, root, "seed", 0.0, 9007199254740992.0, &seed) < 0 ||
        get_integer(&j, root, "n_per_arm", 1.0, (double)KS_TRIAL_MAX_N_PER_ARM, &n) < 0 ||
        get_choice(&j, root, "design", design_names, ARRAY_LEN(design_names), &v) < 0)
        goto fail;
    t->seed = (uint64_t)seed;
    t->n_per_arm = (long)n;
    t->design = (ks_trial_design)v;
    if (!(t->name = ks_strdup(ctx, nm ? nm : "trial")) ||
        !(t->description = ks_strdup(ctx, desc ? desc : "")) ||
        !(t->source = ks_strdup(ctx, j.file)))
        goto fail;
    const cJSON *o;
    if (!(o = child(root, "span"))) {
        jfail(&j, NULL, "\"span\" is required, e.g. {\"days\": 14}");
        goto fail;
    }
    if (parse_span(&j, o, &t->span_h) < 0)
        goto fail;
    if ((o = child(root, "population")) && parse_population(&j, o, &t->population) < 0)
        goto fail;
    if (!(o = child(root, "visits"))) {
        jfail(&j, NULL, "\"visits\" is required, e.g. [{\"h\": 2}, {\"day\": 1}]");
        goto fail;
    }
    if (parse_visits(&j, o, t) < 0)
        goto fail;
    o = child(root, "arms");
    int na = cJSON_GetArraySize(o);
    if (!cJSON_IsArray(o) || na < 1 || na > KS_TRIAL_MAX_ARMS) {
        size_t s = push(&j, ".arms");
        jfail(&j, o, "expected an array of 1 to %d arms", KS_TRIAL_MAX_ARMS);
        pop(&j, s);
        goto fail;
    }
    if (!(t->arms = ks_calloc(ctx, (size_t)na, sizeof *t->arms)))
        goto fail;
    size_t i = 0;
    for (const cJSON *e = o->child; e; e = e->next, i++) {
        t->n_arms = i + 1;
        if (parse_arm(&j, e, i, t, &t->arms[i]) < 0)
            goto fail;
        for (size_t k = 0; k < i; k++)
            if (strcmp(t->arms[k].name, t->arms[i].name) == 0) {
                size_t s = push(&j, ".arms[%zu].name", i);
                jfail(&j, child(e, "name"), "arm names must be unique");
                pop(&j, s);
                goto fail;
            }
    }
    if ((o = child(root, "endpoints")) && parse_endpoints(&j, o, t, &ref) < 0)
        goto fail;
    t->reference_arm = 0;
    if (ref) {
        size_t k = 0;
        while (k < t->n_arms && strcmp(t->arms[k].name, ref) != 0)
            k++;
        if (k == t->n_arms) {
            size_t s = push(&j, ".endpoints.reference_arm");
            jfail(&j, child(child(root, "endpoints"), "reference_arm"), "no arm has this name");
            pop(&j, s);
            goto fail;
        }
        t->reference_arm = k;
    }
    /* phases (default: one phase over the span, every arm allocated) */
    for (size_t a = 0; a < t->n_arms; a++)
        t->initial_arms[a] = a;
    t->n_initial_arms = t->n_arms;
    snprintf(t->phases[0].name, sizeof t->phases[0].name, "trial");
    t->phases[0].start_h = 0.0;
    t->phases[0].end_h = t->span_h;
    t->n_phases = 1;
    if ((o = child(root, "phases")) && parse_phases(&j, o, t) < 0)
        goto fail;
    if ((o = child(root, "dropout")) && parse_dropout(&j, o, t) < 0)
        goto fail;
    {
        /* the reference arm must be analysed: an arm of the first allocation, or of the
         * re-randomisation in a withdrawal design */
        const size_t *an = t->withdrawal ? t->withdrawal_arms : t->initial_arms;
        size_t nan_ = t->withdrawal ? t->n_withdrawal_arms : t->n_initial_arms;
        int in = 0;
        for (size_t k = 0; k < nan_; k++)
            in |= an[k] == t->reference_arm;
        if (!in && ref) {
            size_t s = push(&j, ".endpoints.reference_arm");
            jfail(&j, child(child(root, "endpoints"), "reference_arm"),
                  "the reference arm must be one of the arms patients are %s to",
                  t->withdrawal ? "re-randomised" : "allocated");
            pop(&j, s);
            goto fail;
        }
        if (!in)
            t->reference_arm = an[0];
    }
    /* primary endpoint defaults: change from baseline at the last visit, the first arm that is
     * not the reference (analysis arms: the withdrawal arms when there are) */
    t->alpha = 0.05;
    t->primary_measure = KS_MEASURE_CHANGE;
    t->primary_visit = t->n_visits - 1;
    t->primary_arm = t->reference_arm;
    {
        const size_t *an = t->withdrawal ? t->withdrawal_arms : t->initial_arms;
        size_t nan_ = t->withdrawal ? t->n_withdrawal_arms : t->n_initial_arms;
        for (size_t k = 0; k < nan_ && t->primary_arm == t->reference_arm; k++)
            t->primary_arm = an[k];
    }
    if ((o = child(root, "endpoints")) && parse_endpoints_late(&j, o, t) < 0)
        goto fail;
    if (add_visit_events(ctx, t) != KS_OK)
        goto fail;
    cJSON_Delete(root);
    return t;
fail:
    cJSON_Delete(root);
    ks_trial_free(t);
    return NULL;
}

ks_trial *ks_trial_parse(ks_ctx *ctx, const char *text, size_t len, const char *name,
                         const char *base_dir)
{
    return ks_trial_parse_internal(ctx, text, len, name, base_dir);
}

ks_trial *ks_trial_load(ks_ctx *ctx, const char *path)
{
    if (!path) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_trial_load: path is NULL");
        return NULL;
    }
    size_t len = 0;
    char *text = ks_read_file(ctx, path, "trial", KS_TRIAL_MAX_BYTES, &len);
    if (!text)
        return NULL;
    char *dir = ks_strdup(ctx, path);
    ks_trial *t = NULL;
    if (dir) {
        char *slash = strrchr(dir, '/');
        if (slash)
            slash[slash == dir ? 1 : 0] = '\0';
        t = ks_trial_parse_internal(ctx, text, len, path, slash ? dir : ".");
    }
    free(dir);
    free(text);
    return t;
}

/* The default trial (docs/TRIAL.md, "Default trial"); the same text is
 * examples/trials/default.json. */
static const char default_trial[] =
    "{\"name\": \"default\","
    " \"description\": \"Treatment-resistant depression: one racemic ketamine infusion "
    "(0.5 mg/kg over 40 min) vs saline\","
    " \"seed\": 1, \"n_per_arm\": 100, \"design\": \"parallel\", \"span\": {\"days\": 14},"
    " \"population\": {\"diagnosis\": \"trd\"},"
    " \"arms\": ["
    "  {\"name\": \"ketamine\", \"doses\": [{\"drug\": \"ketamine\", \"route\": "
    "\"iv_infusion\", \"mg_per_kg\": 0.5, \"duration_min\": 40}]},"
    "  {\"name\": \"saline\", \"doses\": []}],"
    " \"visits\": [{\"min\": 40}, {\"h\": 2}, {\"h\": 4}, {\"day\": 1}, {\"day\": 3}, {\"day\": 7},"
    " {\"day\": 14}],"
    " \"endpoints\": {\"scale\": \"madrs\", \"response_fraction\": 0.5, \"remission_max\": 10,"
    " \"reference_arm\": \"saline\"}}";

ks_trial *ks_trial_create_default(ks_ctx *ctx)
{
    return ks_trial_parse_internal(ctx, default_trial, strlen(default_trial), "<default trial>",
                                   NULL);
}

const char *ks_trial_name(const ks_trial *t)
{
    return t ? t->name : "";
}

long ks_trial_n_per_arm(const ks_trial *t)
{
    return t ? t->n_per_arm : 0;
}

unsigned long long ks_trial_seed(const ks_trial *t)
{
    return t ? (unsigned long long)t->seed : 0ULL;
}

const char *ks_scale_name(ks_scale s)
{
    return s == KS_SCALE_HDRS17 ? "hdrs17" : "madrs";
}

const char *ks_design_name(ks_trial_design d)
{
    return d == KS_DESIGN_CROSSOVER ? "crossover" : "parallel";
}
