/*
 * scenario.c -- the JSON scenario format (docs/SCENARIO.md, schema/scenario.schema.json):
 * parsing with cJSON, strict validation with one precise message per error, and expansion of
 * the dose specifications into the events of struct ks_scenario.
 */
#include "core/internal.h"
#include "dose/schedule.h"
#include "nonmem.h"
#include "scenario_build.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_MAX_LEN 256
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Parser state: the context, the file name for messages and the JSON path of the value being
 * read ("$.doses[2].repeat"). */
typedef struct {
    ks_ctx *ctx;
    const char *file;
    char path[PATH_MAX_LEN];
    size_t plen;
} jctx;

/* ---------------------------------------------------------------------------------------
 * Paths and messages
 * ------------------------------------------------------------------------------------- */

static size_t path_push_key(jctx *j, const char *key)
{
    size_t saved = j->plen;
    int n = snprintf(j->path + j->plen, sizeof j->path - j->plen, ".%s", key);
    if (n > 0)
        j->plen += (size_t)n < sizeof j->path - j->plen ? (size_t)n : sizeof j->path - j->plen - 1;
    return saved;
}

static size_t path_push_index(jctx *j, size_t i)
{
    size_t saved = j->plen;
    int n = snprintf(j->path + j->plen, sizeof j->path - j->plen, "[%zu]", i);
    if (n > 0)
        j->plen += (size_t)n < sizeof j->path - j->plen ? (size_t)n : sizeof j->path - j->plen - 1;
    return saved;
}

static void path_pop(jctx *j, size_t saved)
{
    j->plen = saved;
    j->path[saved] = '\0';
}

/* Writes a one-line, quoted and escaped rendering of string s (at most ~60 characters). */
static void quote_text(char *buf, size_t size, const char *s, size_t len)
{
    size_t o = 0;
    if (size < 8) {
        if (size)
            buf[0] = '\0';
        return;
    }
    buf[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 8 >= size || i >= 60) {
            buf[o++] = '.';
            buf[o++] = '.';
            buf[o++] = '.';
            break;
        }
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

/* A short description of a JSON value for the "(got ...)" part of a message. */
static const char *describe(const cJSON *v, char *buf, size_t size)
{
    if (!v)
        snprintf(buf, size, "nothing");
    else if (cJSON_IsNumber(v))
        ks_fmt_double(buf, size, v->valuedouble);
    else if (cJSON_IsString(v))
        quote_text(buf, size, v->valuestring, strlen(v->valuestring));
    else if (cJSON_IsTrue(v))
        snprintf(buf, size, "true");
    else if (cJSON_IsFalse(v))
        snprintf(buf, size, "false");
    else if (cJSON_IsNull(v))
        snprintf(buf, size, "null");
    else if (cJSON_IsArray(v))
        snprintf(buf, size, "an array of %d items", cJSON_GetArraySize(v));
    else if (cJSON_IsObject(v))
        snprintf(buf, size, "an object");
    else
        snprintf(buf, size, "an invalid value");
    return buf;
}

/* Fails with KS_ERR_INPUT: "<file>: <path>: <message> (got <value>)"; without a value when
 * `got` is NULL. */
static ks_status jfail(jctx *j, const cJSON *got, const char *fmt, ...) KS_PRINTF(3, 4);
static ks_status jfail(jctx *j, const cJSON *got, const char *fmt, ...)
{
    char msg[512], val[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (got)
        return ks_fail(j->ctx, KS_ERR_INPUT, "%s: %s: %s (got %s)", j->file, j->path, msg,
                       describe(got, val, sizeof val));
    return ks_fail(j->ctx, KS_ERR_INPUT, "%s: %s: %s", j->file, j->path, msg);
}

/* Same, at the child `key` of the current path. */
static ks_status jfail_at(jctx *j, const char *key, const cJSON *got, const char *fmt, ...)
    KS_PRINTF(4, 5);
static ks_status jfail_at(jctx *j, const char *key, const cJSON *got, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t saved = path_push_key(j, key);
    ks_status st = jfail(j, got, "%s", msg);
    path_pop(j, saved);
    return st;
}

/* ---------------------------------------------------------------------------------------
 * Typed getters. Each returns 1 when the key is present and valid, 0 when absent, -1 after
 * recording an error.
 * ------------------------------------------------------------------------------------- */

/* Rejects a non-object, unknown keys and duplicate keys. */
static int check_object(jctx *j, const cJSON *obj, const char *const *allowed, size_t n_allowed)
{
    if (!cJSON_IsObject(obj)) {
        jfail(j, obj, "expected an object");
        return -1;
    }
    for (const cJSON *c = obj->child; c; c = c->next) {
        const char *key = c->string ? c->string : "";
        int known = 0;
        for (size_t i = 0; i < n_allowed; i++)
            known |= strcmp(key, allowed[i]) == 0;
        if (!known) {
            char list[512] = "", kq[128];
            size_t o = 0;
            for (size_t i = 0; i < n_allowed && o < sizeof list; i++)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", allowed[i]);
            quote_text(kq, sizeof kq, key, strlen(key));
            ks_fail(j->ctx, KS_ERR_INPUT, "%s: %s: unknown key %s; allowed keys here: %s (got %s)",
                    j->file, j->plen ? j->path : "$", kq, list, kq);
            return -1;
        }
        for (const cJSON *p = obj->child; p != c; p = p->next) {
            if (p->string && strcmp(p->string, key) == 0) {
                char kq[128];
                quote_text(kq, sizeof kq, key, strlen(key));
                jfail_at(j, key, NULL, "duplicate key (got %s twice)", kq);
                return -1;
            }
        }
    }
    return 1;
}

static const cJSON *child(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* A finite number in [lo, hi] (lo excluded when lo_open). `what` is the unit text. */
static int get_number(jctx *j, const cJSON *obj, const char *key, double lo, int lo_open, double hi,
                      const char *unit, double *out)
{
    const cJSON *v = child(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v)) {
        jfail_at(j, key, v, "expected a number in %s", unit);
        return -1;
    }
    double x = v->valuedouble;
    if (!isfinite(x)) {
        jfail_at(j, key, v, "expected a finite number in %s", unit);
        return -1;
    }
    if ((lo_open ? !(x > lo) : !(x >= lo)) || !(x <= hi)) {
        jfail_at(j, key, v, "must be %s %g and <= %g %s", lo_open ? ">" : ">=", lo, hi, unit);
        return -1;
    }
    *out = x;
    return 1;
}

static int get_integer(jctx *j, const cJSON *obj, const char *key, long lo, long hi, long *out)
{
    const cJSON *v = child(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble)) {
        jfail_at(j, key, v, "expected a whole number from %ld to %ld", lo, hi);
        return -1;
    }
    double x = v->valuedouble;
    if (x < (double)lo || x > (double)hi) {
        jfail_at(j, key, v, "must be a whole number from %ld to %ld", lo, hi);
        return -1;
    }
    *out = (long)x;
    return 1;
}

static int get_string(jctx *j, const cJSON *obj, const char *key, const char **out)
{
    const cJSON *v = child(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring) {
        jfail_at(j, key, v, "expected a string");
        return -1;
    }
    *out = v->valuestring;
    return 1;
}

static int get_bool(jctx *j, const cJSON *obj, const char *key, int *out)
{
    const cJSON *v = child(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsBool(v)) {
        jfail_at(j, key, v, "expected true or false");
        return -1;
    }
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return 1;
}

/* A string that must be one of names[]; the index goes to *out. */
static int get_choice(jctx *j, const cJSON *obj, const char *key, const char *const *names,
                      const int *values, size_t n, int *out)
{
    const char *s = NULL;
    int r = get_string(j, obj, key, &s);
    if (r <= 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = values[i];
            return 1;
        }
    }
    char list[256] = "";
    size_t o = 0;
    for (size_t i = 0; i < n && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s\"%s\"", i ? ", " : "", names[i]);
    jfail_at(j, key, child(obj, key), "expected one of %s", list);
    return -1;
}

/* ---------------------------------------------------------------------------------------
 * Sections
 * ------------------------------------------------------------------------------------- */

/* The patient: PK covariates into *p, mechanism covariates (docs/SCENARIO.md, "patient") into
 * *cov; *has_cov = 1 when any of those is given. */
static int parse_patient(jctx *j, const cJSON *obj, ks_patient *p, ks_pd_covariates *cov,
                         int *has_cov)
{
    static const char *const keys[] = {
        "weight_kg",  "age_y",          "sex",           "cyp2b6",      "bdnf",
        "east_asian", "baseline_madrs", "failed_trials", "stress_load", "episode_years"};
    static const char *const sex_names[] = {"male", "female"};
    static const int sex_values[] = {KS_SEX_MALE, KS_SEX_FEMALE};
    static const char *const cyp_names[] = {"normal", "intermediate", "poor",
                                            "*1/*1",  "*1/*6",        "*6/*6"};
    static const int cyp_values[] = {KS_CYP2B6_NORMAL, KS_CYP2B6_INTERMEDIATE, KS_CYP2B6_POOR,
                                     KS_CYP2B6_NORMAL, KS_CYP2B6_INTERMEDIATE, KS_CYP2B6_POOR};
    static const char *const bdnf_names[] = {"val/val", "val/met", "met/met"};
    static const int bdnf_values[] = {KS_BDNF_VALVAL, KS_BDNF_VALMET, KS_BDNF_METMET};
    if (check_object(j, obj, keys, ARRAY_LEN(keys)) < 0)
        return -1;
    int v;
    if (get_number(j, obj, "weight_kg", KS_MIN_WEIGHT_KG, 0, KS_MAX_WEIGHT_KG, "kg",
                   &p->weight_kg) < 0 ||
        get_number(j, obj, "age_y", KS_MIN_AGE_Y, 0, KS_MAX_AGE_Y, "years", &p->age_y) < 0)
        return -1;
    int r = get_choice(j, obj, "sex", sex_names, sex_values, ARRAY_LEN(sex_names), &v);
    if (r < 0)
        return -1;
    if (r)
        p->sex = (ks_sex)v;
    r = get_choice(j, obj, "cyp2b6", cyp_names, cyp_values, ARRAY_LEN(cyp_names), &v);
    if (r < 0)
        return -1;
    if (r)
        p->cyp2b6 = (ks_cyp2b6)v;
    r = get_choice(j, obj, "bdnf", bdnf_names, bdnf_values, ARRAY_LEN(bdnf_names), &v);
    if (r < 0)
        return -1;
    if (r)
        p->bdnf = (ks_bdnf)v;
    if (get_bool(j, obj, "east_asian", &p->east_asian) < 0)
        return -1;
    /* Mechanism covariates (src/model/pd.h, ks_pd_covariates). */
    long n_fail = 0;
    int rs = get_number(j, obj, "baseline_madrs", 0.0, 0, KS_MAX_MADRS, "MADRS points",
                        &cov->severity_madrs);
    int rf = rs < 0 ? -1 : get_integer(j, obj, "failed_trials", 0, KS_MAX_FAILED_TRIALS, &n_fail);
    int rl = rf < 0 ? -1
                    : get_number(j, obj, "stress_load", 0.0, 0, KS_MAX_STRESS_LOAD,
                                 "(1 = the standard chronic stress)", &cov->stress_load);
    int ry = rl < 0 ? -1
                    : get_number(j, obj, "episode_years", 0.0, 0, KS_MAX_EPISODE_Y, "years",
                                 &cov->episode_years);
    if (ry < 0)
        return -1;
    if (rf)
        cov->n_failed_trials = (int)n_fail;
    if (rs || rf || rl || ry)
        *has_cov = 1;
    return 1;
}

/* "HH:MM" -> hours since midnight; -1 when malformed. */
static double parse_clock(const char *s)
{
    int h = 0, m = 0, nd = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9' && nd < 2) {
        h = h * 10 + (*p++ - '0');
        nd++;
    }
    if (nd == 0 || *p++ != ':')
        return -1.0;
    if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9') || p[2] != '\0')
        return -1.0;
    m = (p[0] - '0') * 10 + (p[1] - '0');
    if (h > 23 || m > 59)
        return -1.0;
    return (double)h + (double)m / 60.0;
}

/* A dose specification and where its timing came from (for messages about the span). */
typedef struct {
    ks_dose_spec spec;
    const char *time_key; /* "at_h", "at_day", "at_time" or NULL (default 0) */
} dose_entry;

/* Reads the repeat keys every_h, every_days, count, weekdays, weeks of obj (other keys are the
 * caller's) into spec. Used for a dose's "repeat" object and, flat, for events. */
static int read_repeat(jctx *j, const cJSON *obj, ks_dose_spec *spec)
{
    const cJSON *every_h = child(obj, "every_h"), *every_days = child(obj, "every_days");
    const cJSON *count = child(obj, "count"), *weekdays = child(obj, "weekdays");
    const cJSON *weeks = child(obj, "weeks");
    int interval = every_h || every_days || count;
    int weekly = weekdays || weeks;
    if (interval && weekly) {
        const char *k = weekdays ? "weekdays" : "weeks";
        jfail_at(j, k, child(obj, k),
                 "a repeat is either every_h or every_days with count, or weekdays with weeks, "
                 "not both kinds");
        return -1;
    }
    if (!interval && !weekly) {
        jfail(j, obj, "give every_h or every_days with count, or weekdays with weeks");
        return -1;
    }
    if (interval) {
        if (every_h && every_days) {
            jfail_at(j, "every_days", every_days, "give exactly one of every_h, every_days");
            return -1;
        }
        if (!every_h && !every_days) {
            jfail_at(j, "every_h", NULL, "missing: count needs every_h or every_days");
            return -1;
        }
        if (!count) {
            jfail_at(j, "count", NULL,
                     "missing: the total number of administrations (a whole number >= 1)");
            return -1;
        }
        double every = 0.0;
        if (every_h) {
            if (get_number(j, obj, "every_h", 0.0, 1, KS_MAX_SPAN_H, "h", &every) < 0)
                return -1;
        } else {
            if (get_number(j, obj, "every_days", 0.0, 1, KS_MAX_SPAN_H / 24.0, "days", &every) < 0)
                return -1;
            every *= 24.0;
        }
        if (get_integer(j, obj, "count", 1, (long)KS_MAX_DOSE_EVENTS, &spec->count) < 0)
            return -1;
        spec->every_h = every;
        spec->repeat = spec->count > 1 ? KS_REPEAT_INTERVAL : KS_REPEAT_NONE;
        return 1;
    }
    if (!weekdays) {
        jfail_at(j, "weekdays", NULL, "missing: weeks needs weekdays, e.g. [\"mon\", \"thu\"]");
        return -1;
    }
    if (!weeks) {
        jfail_at(j, "weeks", NULL, "missing: the number of weeks (a whole number >= 1)");
        return -1;
    }
    size_t saved = path_push_key(j, "weekdays");
    if (!cJSON_IsArray(weekdays) || cJSON_GetArraySize(weekdays) == 0) {
        jfail(j, weekdays, "expected a non-empty array of weekdays (\"mon\" ... \"sun\")");
        return -1;
    }
    unsigned mask = 0;
    size_t i = 0;
    for (const cJSON *w = weekdays->child; w; w = w->next, i++) {
        size_t s2 = path_push_index(j, i);
        int wd;
        if (!cJSON_IsString(w) || ks_weekday_from_name(w->valuestring, &wd) != 0) {
            jfail(j, w,
                  "expected a weekday: \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", "
                  "\"sat\" or \"sun\"");
            return -1;
        }
        if (mask & (1u << wd)) {
            jfail(j, w, "weekday listed twice");
            return -1;
        }
        mask |= 1u << wd;
        path_pop(j, s2);
    }
    path_pop(j, saved);
    if (get_integer(j, obj, "weeks", 1, (long)(KS_MAX_SPAN_H / 24.0 / 7.0), &spec->weeks) < 0)
        return -1;
    spec->weekday_mask = mask;
    spec->repeat = KS_REPEAT_WEEKDAYS;
    return 1;
}

static int parse_repeat(jctx *j, const cJSON *obj, ks_dose_spec *spec)
{
    static const char *const keys[] = {"every_h", "every_days", "count", "weekdays", "weeks"};
    if (check_object(j, obj, keys, ARRAY_LEN(keys)) < 0)
        return -1;
    return read_repeat(j, obj, spec);
}

/* The start of a dose or an event: at_h, or at_day and/or at_time (default 0). *time_key
 * names the key that gave it (NULL for the default). */
static int parse_start(jctx *j, const cJSON *obj, ks_dose_spec *spec, const char **time_key)
{
    const cJSON *at_h = child(obj, "at_h"), *at_day = child(obj, "at_day");
    const cJSON *at_time = child(obj, "at_time");
    const char *s = NULL;
    *time_key = NULL;
    if (at_h && (at_day || at_time)) {
        const char *k = at_day ? "at_day" : "at_time";
        jfail_at(j, k, child(obj, k), "give either at_h or at_day/at_time, not both");
        return -1;
    }
    if (at_h) {
        if (get_number(j, obj, "at_h", 0.0, 0, KS_MAX_SPAN_H, "h", &spec->start_h) < 0)
            return -1;
        *time_key = "at_h";
    } else if (at_day || at_time) {
        long day = 0;
        double clock = 0.0;
        if (get_integer(j, obj, "at_day", 0, (long)(KS_MAX_SPAN_H / 24.0), &day) < 0)
            return -1;
        if (at_time) {
            if (get_string(j, obj, "at_time", &s) < 0)
                return -1;
            clock = parse_clock(s);
            if (clock < 0.0) {
                jfail_at(j, "at_time", at_time, "expected a clock time \"HH:MM\" (00:00-23:59)");
                return -1;
            }
        }
        spec->start_h = 24.0 * (double)day + clock;
        *time_key = at_day ? "at_day" : "at_time";
    }
    return 1;
}

static int parse_dose(jctx *j, const cJSON *obj, const ks_patient *patient, int start_weekday,
                      dose_entry *e)
{
    static const char *const keys[] = {"drug",
                                       "route",
                                       "mg",
                                       "mg_per_kg",
                                       "at_h",
                                       "at_day",
                                       "at_time",
                                       "repeat",
                                       "duration_min",
                                       "rate_mg_per_h",
                                       "devices",
                                       "mg_per_device",
                                       "device_interval_min"};
    ks_dose_spec *spec = &e->spec;
    memset(e, 0, sizeof *e);
    spec->devices = 1;
    spec->start_weekday = start_weekday;
    if (check_object(j, obj, keys, ARRAY_LEN(keys)) < 0)
        return -1;

    /* Drug and route. */
    const char *s;
    int r = get_string(j, obj, "drug", &s);
    if (r < 0)
        return -1;
    if (r == 0) {
        jfail_at(j, "drug", NULL, "missing: the drug given (ketamine, esketamine, ...)");
        return -1;
    }
    if (ks_drug_from_name(s, &spec->drug) != 0) {
        char list[256] = "";
        size_t o = 0;
        for (int q = 0; q < (int)KS_DRUG_COUNT && o < sizeof list; q++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", q ? ", " : "",
                                  ks_drug_name((ks_drug)q));
        jfail_at(j, "drug", child(obj, "drug"), "unknown drug; expected one of %s", list);
        return -1;
    }
    r = get_string(j, obj, "route", &s);
    if (r < 0)
        return -1;
    if (r == 0) {
        jfail_at(j, "route", NULL,
                 "missing: the route (iv_bolus, iv_infusion, intranasal, "
                 "oral, im, sublingual)");
        return -1;
    }
    if (ks_route_from_name(s, &spec->route) != 0) {
        jfail_at(j, "route", child(obj, "route"),
                 "unknown route; expected one of iv_bolus, iv_infusion, intranasal, oral, im, "
                 "sublingual");
        return -1;
    }
    if (!ks_drug_route_supported(spec->drug, spec->route)) {
        char list[128] = "";
        size_t o = 0;
        for (int q = 0; q < (int)KS_ROUTE_COUNT; q++)
            if (ks_drug_route_supported(spec->drug, (ks_route)q))
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "",
                                      ks_route_name((ks_route)q));
        jfail_at(j, "route", child(obj, "route"),
                 "%s cannot be given by this route in the model; supported routes: %s",
                 ks_drug_name(spec->drug), list);
        return -1;
    }
    const int nasal = spec->route == KS_ROUTE_INTRANASAL;
    const int infusion = spec->route == KS_ROUTE_IV_INFUSION;

    /* Keys that belong to other routes. */
    static const char *const nasal_keys[] = {"devices", "mg_per_device", "device_interval_min"};
    static const char *const inf_keys[] = {"duration_min", "rate_mg_per_h"};
    for (size_t k = 0; k < ARRAY_LEN(nasal_keys) && !nasal; k++) {
        if (child(obj, nasal_keys[k])) {
            jfail_at(j, nasal_keys[k], child(obj, nasal_keys[k]),
                     "only for route intranasal (this dose is %s)", ks_route_name(spec->route));
            return -1;
        }
    }
    for (size_t k = 0; k < ARRAY_LEN(inf_keys) && !infusion; k++) {
        if (child(obj, inf_keys[k])) {
            jfail_at(j, inf_keys[k], child(obj, inf_keys[k]),
                     "only for route iv_infusion (this dose is %s)", ks_route_name(spec->route));
            return -1;
        }
    }

    /* Amount: exactly one of mg, mg_per_kg (and, intranasal, mg_per_device). */
    static const char *const amount_keys[] = {"mg", "mg_per_kg", "mg_per_device"};
    const char *amount_key = NULL;
    for (size_t k = 0; k < ARRAY_LEN(amount_keys); k++) {
        if (!child(obj, amount_keys[k]))
            continue;
        if (amount_key) {
            jfail_at(j, amount_keys[k], child(obj, amount_keys[k]),
                     "give exactly one amount: %s is already given", amount_key);
            return -1;
        }
        amount_key = amount_keys[k];
    }
    long devices = 1;
    if (nasal) {
        if (get_integer(j, obj, "devices", 1, KS_MAX_DEVICES, &devices) < 0)
            return -1;
        double interval_min = KS_DEFAULT_DEVICE_INTERVAL_MIN;
        if (get_number(j, obj, "device_interval_min", 0.0, 0, 240.0, "min", &interval_min) < 0)
            return -1;
        spec->devices = (int)devices;
        spec->device_interval_h = interval_min / 60.0;
    }
    double session_mg = 0.0, per_event_mg = 0.0;
    if (!amount_key) {
        if (nasal && child(obj, "devices")) {
            per_event_mg = KS_DEFAULT_MG_PER_DEVICE;
            session_mg = per_event_mg * (double)devices;
        } else {
            jfail(j, NULL, "missing amount: give exactly one of mg, mg_per_kg%s",
                  nasal ? ", mg_per_device, or devices alone (28 mg each)" : "");
            return -1;
        }
    } else if (strcmp(amount_key, "mg") == 0) {
        if (get_number(j, obj, "mg", 0.0, 1, KS_MAX_DOSE_MG, "mg", &session_mg) < 0)
            return -1;
        per_event_mg = session_mg / (double)devices;
    } else if (strcmp(amount_key, "mg_per_kg") == 0) {
        double per_kg = 0.0;
        if (get_number(j, obj, "mg_per_kg", 0.0, 1, KS_MAX_DOSE_MG / KS_MIN_WEIGHT_KG, "mg/kg",
                       &per_kg) < 0)
            return -1;
        session_mg = per_kg * patient->weight_kg;
        if (session_mg > KS_MAX_DOSE_MG) {
            jfail_at(j, "mg_per_kg", child(obj, "mg_per_kg"),
                     "gives %g mg for %g kg, above the limit of %g mg per dose", session_mg,
                     patient->weight_kg, KS_MAX_DOSE_MG);
            return -1;
        }
        per_event_mg = session_mg / (double)devices;
    } else {
        if (get_number(j, obj, "mg_per_device", 0.0, 1, KS_MAX_DOSE_MG, "mg", &per_event_mg) < 0)
            return -1;
        session_mg = per_event_mg * (double)devices;
        if (session_mg > KS_MAX_DOSE_MG) {
            jfail_at(j, "mg_per_device", child(obj, "mg_per_device"),
                     "gives %g mg over %ld devices, above the limit of %g mg per dose", session_mg,
                     devices, KS_MAX_DOSE_MG);
            return -1;
        }
    }
    spec->amount_mg = per_event_mg;

    /* Infusion: exactly one of duration_min, rate_mg_per_h. */
    if (infusion) {
        const cJSON *dur = child(obj, "duration_min"), *rate = child(obj, "rate_mg_per_h");
        if (dur && rate) {
            jfail_at(j, "rate_mg_per_h", rate,
                     "give exactly one of duration_min, rate_mg_per_h (duration_min is given)");
            return -1;
        }
        if (!dur && !rate) {
            jfail(j, NULL, "an iv_infusion needs duration_min or rate_mg_per_h (got neither)");
            return -1;
        }
        if (dur) {
            double minutes = 0.0;
            if (get_number(j, obj, "duration_min", 0.0, 1, KS_MAX_INFUSION_H * 60.0, "min",
                           &minutes) < 0)
                return -1;
            spec->duration_h = minutes / 60.0;
        } else {
            double rate_mg_h = 0.0;
            if (get_number(j, obj, "rate_mg_per_h", 0.0, 1, KS_MAX_DOSE_MG * 60.0, "mg/h",
                           &rate_mg_h) < 0)
                return -1;
            spec->duration_h = session_mg / rate_mg_h;
            if (spec->duration_h > KS_MAX_INFUSION_H) {
                jfail_at(j, "rate_mg_per_h", rate,
                         "gives an infusion of %g h for %g mg, above the limit of %g h",
                         spec->duration_h, session_mg, KS_MAX_INFUSION_H);
                return -1;
            }
        }
    }

    /* Start: at_h, or at_day with at_time. */
    if (parse_start(j, obj, spec, &e->time_key) < 0)
        return -1;

    const cJSON *rep = child(obj, "repeat");
    if (rep) {
        size_t saved = path_push_key(j, "repeat");
        int rr = parse_repeat(j, rep, spec);
        path_pop(j, saved);
        if (rr < 0)
            return -1;
    }
    return 1;
}

/* An event specification: kind, magnitude and duration, with its timing as a dose schedule
 * (start and repeat), so that events start and repeat exactly like doses. */
typedef struct {
    ks_dose_spec spec;    /* timing only (start_h, repeat) */
    const char *time_key; /* "at_h", "at_day", "at_time" or NULL (default 0) */
    ks_event_kind kind;
    double magnitude;
    double duration_h; /* > 0 for the interval events, else 0 */
} event_entry;

static int parse_event(jctx *j, const cJSON *obj, int start_weekday, event_entry *e)
{
    static const char *const keys[] = {"type",       "at_h",       "at_day",        "at_time",
                                       "magnitude",  "duration_h", "duration_days", "every_h",
                                       "every_days", "count",      "weekdays",      "weeks"};
    static const char *const repeat_keys[] = {"every_h", "every_days", "count", "weekdays",
                                              "weeks"};
    memset(e, 0, sizeof *e);
    e->spec.route = KS_ROUTE_IV_BOLUS; /* timing only: one event per administration */
    e->spec.devices = 1;
    e->spec.start_weekday = start_weekday;
    e->magnitude = 1.0;
    if (check_object(j, obj, keys, ARRAY_LEN(keys)) < 0)
        return -1;

    /* Type. */
    const char *type = NULL;
    int r = get_string(j, obj, "type", &type);
    if (r < 0)
        return -1;
    char list[256] = "";
    size_t o = 0;
    for (int q = 0; q < (int)KS_EV_COUNT && o < sizeof list; q++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", q ? ", " : "",
                              ks_event_name((ks_event_kind)q));
    if (r == 0) {
        jfail_at(j, "type", NULL, "missing: the event type, one of %s", list);
        return -1;
    }
    if (ks_event_from_name(type, &e->kind) != 0) {
        jfail_at(j, "type", child(obj, "type"), "unknown event type; expected one of %s", list);
        return -1;
    }
    const char *tname = ks_event_name(e->kind);
    const int interval = ks_event_is_interval(e->kind);

    /* Magnitude: none for a visit; a fraction for ablation and the blocks; an intensity or
     * amplitude (1 = standard, docs/MODEL.md 10) for therapy and stress. */
    const cJSON *mag = child(obj, "magnitude");
    switch (e->kind) {
    case KS_EV_VISIT:
        if (mag) {
            jfail_at(j, "magnitude", mag,
                     "a visit has no magnitude (its expectation increment is the parameter "
                     "plc.delta_v)");
            return -1;
        }
        break;
    case KS_EV_THERAPY:
        if (get_number(j, obj, "magnitude", 0.0, 0, KS_MAX_EVENT_INTENSITY,
                       "(therapy intensity; 1 = a standard session)", &e->magnitude) < 0)
            return -1;
        break;
    case KS_EV_STRESS:
        if (get_number(j, obj, "magnitude", 0.0, 0, KS_MAX_EVENT_INTENSITY,
                       "(stress amplitude; 1 = the standard 21-day chronic stress)",
                       &e->magnitude) < 0)
            return -1;
        break;
    default: /* spine_ablation, anti_bdnf, ampa_block, mtor_block */
        if (get_number(j, obj, "magnitude", 0.0, 0, 1.0, "(a fraction)", &e->magnitude) < 0)
            return -1;
        break;
    }

    /* Duration: required for the interval events, forbidden for the others. */
    const cJSON *dh = child(obj, "duration_h"), *dd = child(obj, "duration_days");
    if (!interval) {
        if (dh || dd) {
            const char *k = dh ? "duration_h" : "duration_days";
            jfail_at(j, k, child(obj, k),
                     "only for the interval events mtor_block and stress (this event is %s, "
                     "which acts at one time)",
                     tname);
            return -1;
        }
    } else if (dh && dd) {
        jfail_at(j, "duration_days", dd,
                 "give exactly one of duration_h, duration_days (duration_h is given)");
        return -1;
    } else if (!dh && !dd) {
        jfail_at(j, "duration_h", NULL,
                 "missing: a %s event lasts over an interval; give duration_h or duration_days "
                 "(> 0) (got neither)",
                 tname);
        return -1;
    } else if (dh) {
        if (get_number(j, obj, "duration_h", 0.0, 1, KS_MAX_SPAN_H, "h", &e->duration_h) < 0)
            return -1;
    } else {
        double days = 0.0;
        if (get_number(j, obj, "duration_days", 0.0, 1, KS_MAX_SPAN_H / 24.0, "days", &days) < 0)
            return -1;
        e->duration_h = 24.0 * days;
    }

    /* Start and repeats, as for doses (the repeat keys sit on the event itself). */
    if (parse_start(j, obj, &e->spec, &e->time_key) < 0)
        return -1;
    int repeated = 0;
    for (size_t k = 0; k < ARRAY_LEN(repeat_keys); k++)
        repeated |= child(obj, repeat_keys[k]) != NULL;
    if (repeated && read_repeat(j, obj, &e->spec) < 0)
        return -1;
    return 1;
}

/* Stable sort of events by time: (event, original position) pairs through qsort. */
typedef struct {
    ks_event ev;
    size_t pos;
} event_pos;

static int cmp_event_pos(const void *a, const void *b)
{
    const event_pos *x = a, *y = b;
    if (x->ev.t_h != y->ev.t_h)
        return (x->ev.t_h > y->ev.t_h) - (x->ev.t_h < y->ev.t_h);
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Expands the event specifications into *out (sorted by time, stable), *n_out events. */
static ks_status expand_events(ks_ctx *ctx, const event_entry *entries, size_t n_entries,
                               ks_event **out, size_t *n_out)
{
    size_t total = 0, cap_one = 1;
    *out = NULL;
    *n_out = 0;
    for (size_t i = 0; i < n_entries; i++) {
        size_t c = (size_t)ks_schedule_event_count(&entries[i].spec);
        total += c;
        if (c > cap_one)
            cap_one = c;
    }
    if (total == 0)
        return KS_OK;
    ks_dose *tmp = ks_malloc(ctx, cap_one * sizeof *tmp);
    event_pos *ep = ks_malloc(ctx, total * sizeof *ep);
    ks_event *ev = ks_malloc(ctx, total * sizeof *ev);
    if (!tmp || !ep || !ev) {
        free(tmp);
        free(ep);
        free(ev);
        return ctx ? ctx->status : KS_ERR_NOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < n_entries; i++) {
        size_t m = ks_schedule_expand(&entries[i].spec, tmp);
        for (size_t k = 0; k < m && n < total; k++, n++) {
            ep[n].ev.t_h = tmp[k].t_h;
            ep[n].ev.duration_h = entries[i].duration_h;
            ep[n].ev.magnitude = entries[i].magnitude;
            ep[n].ev.kind = entries[i].kind;
            ep[n].pos = n;
        }
    }
    qsort(ep, n, sizeof *ep, cmp_event_pos);
    for (size_t k = 0; k < n; k++)
        ev[k] = ep[k].ev;
    free(tmp);
    free(ep);
    *out = ev;
    *n_out = n;
    return KS_OK;
}

/* Gives subject `sub` its events (copied) and mechanism covariates. */
static ks_status subject_set_mechanism(ks_ctx *ctx, ks_subject *sub, const ks_event *events,
                                       size_t n_events, const ks_pd_covariates *cov, int has_cov)
{
    if (n_events) {
        sub->events = ks_malloc(ctx, n_events * sizeof *sub->events);
        if (!sub->events)
            return ctx ? ctx->status : KS_ERR_NOMEM;
        memcpy(sub->events, events, n_events * sizeof *events);
    }
    sub->n_events = n_events;
    sub->cov = *cov;
    sub->has_cov = has_cov;
    return KS_OK;
}

static int parse_span(jctx *j, const cJSON *obj, double *span_h)
{
    static const char *const keys[] = {"days", "hours"};
    if (check_object(j, obj, keys, ARRAY_LEN(keys)) < 0)
        return -1;
    const cJSON *days = child(obj, "days"), *hours = child(obj, "hours");
    if (days && hours) {
        jfail_at(j, "hours", hours, "give exactly one of days, hours (days is given)");
        return -1;
    }
    if (!days && !hours) {
        jfail(j, obj, "give the span as days or hours");
        return -1;
    }
    if (days) {
        double d = 0.0;
        if (get_number(j, obj, "days", 0.0, 1, KS_MAX_SPAN_H / 24.0, "days (at most 5 years)", &d) <
            0)
            return -1;
        *span_h = 24.0 * d;
    } else if (get_number(j, obj, "hours", 0.0, 1, KS_MAX_SPAN_H, "h (at most 5 years)", span_h) <
               0) {
        return -1;
    }
    return 1;
}

typedef struct {
    double step_min; /* 0: default */
    const cJSON *times;
    unsigned flags;
    const char *csv;
} output_spec;

static int parse_output(jctx *j, const cJSON *obj, output_spec *o)
{
    static const char *const keys[] = {"step_min",    "times_h", "plasma",
                                       "effect_site", "amounts", "csv"};
    if (check_object(j, obj, keys, ARRAY_LEN(keys)) < 0)
        return -1;
    if (get_number(j, obj, "step_min", KS_MIN_STEP_H * 60.0, 0, KS_MAX_SPAN_H * 60.0,
                   "min (at least 1 s = 0.0166667 min)", &o->step_min) < 0)
        return -1;
    int plasma = 1, effect = 1, amounts = 0;
    if (get_bool(j, obj, "plasma", &plasma) < 0 || get_bool(j, obj, "effect_site", &effect) < 0 ||
        get_bool(j, obj, "amounts", &amounts) < 0)
        return -1;
    o->flags = (plasma ? (unsigned)KS_OUT_PLASMA : 0u) |
               (effect ? (unsigned)KS_OUT_EFFECT_SITE : 0u) |
               (amounts ? (unsigned)KS_OUT_AMOUNTS : 0u);
    if (!o->flags) {
        jfail(j, NULL, "at least one of plasma, effect_site, amounts must be true (got all false)");
        return -1;
    }
    const cJSON *t = child(obj, "times_h");
    if (t) {
        size_t saved = path_push_key(j, "times_h");
        if (!cJSON_IsArray(t)) {
            jfail(j, t, "expected an array of times in h");
            return -1;
        }
        size_t i = 0;
        for (const cJSON *v = t->child; v; v = v->next, i++) {
            if ((double)i >= KS_MAX_OUTPUT_TIMES) {
                jfail(j, NULL, "more than %.0f output times", KS_MAX_OUTPUT_TIMES);
                return -1;
            }
            if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0.0) {
                path_push_index(j, i);
                jfail(j, v, "expected a time in h, >= 0");
                return -1;
            }
        }
        path_pop(j, saved);
        o->times = t;
    }
    const char *csv = NULL;
    if (get_string(j, obj, "csv", &csv) < 0)
        return -1;
    if (csv) {
        size_t n = strlen(csv);
        int bad = n == 0 || n > 200 || strcmp(csv, ".") == 0 || strcmp(csv, "..") == 0;
        for (size_t i = 0; i < n; i++)
            bad |= csv[i] == '/' || csv[i] == '\\' || (unsigned char)csv[i] < 0x20;
        if (bad) {
            jfail_at(j, "csv", child(obj, "csv"),
                     "expected a plain file name (no directory), e.g. \"timecourse.csv\"");
            return -1;
        }
        o->csv = csv;
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * The whole document
 * ------------------------------------------------------------------------------------- */

/* Default name: the file name without directory and ".json". */
static void default_name(const char *file, char *buf, size_t size)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".json") == 0)
        n -= 5;
    if (n == 0) {
        base = "scenario";
        n = strlen(base);
    }
    if (n >= size)
        n = size - 1;
    memcpy(buf, base, n);
    buf[n] = '\0';
}

/* Line and column (1-based) of byte offset `off` in text. */
static void line_col(const char *text, size_t off, size_t *line, size_t *col)
{
    size_t l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static ks_status json_syntax_error(ks_ctx *ctx, const char *file, const char *text, size_t len,
                                   size_t off, const char *what)
{
    size_t line, col;
    if (off > len)
        off = len;
    line_col(text, off, &line, &col);
    char got[96];
    if (off >= len) {
        snprintf(got, sizeof got, "end of file");
    } else {
        size_t n = len - off < 24 ? len - off : 24;
        const char *nl = memchr(text + off, '\n', n);
        if (nl)
            n = (size_t)(nl - (text + off));
        quote_text(got, sizeof got, text + off, n);
    }
    return ks_fail(ctx, KS_ERR_INPUT, "%s: line %zu, column %zu: %s (got %s)", file, line, col,
                   what, got);
}

/* Reads the dosing file of a scenario into subjects. */
static int load_dosing_file(jctx *j, const char *rel, const char *base_dir,
                            const ks_patient *defaults, ks_nm_data *nm)
{
    size_t rl = strlen(rel), bl = base_dir ? strlen(base_dir) : 0;
    char *full = ks_malloc(j->ctx, rl + bl + 2);
    if (!full)
        return -1;
    if (rel[0] == '/' || bl == 0)
        memcpy(full, rel, rl + 1);
    else
        snprintf(full, rl + bl + 2, "%s/%s", base_dir, rel);
    struct stat st;
    int rc = -1;
    if (stat(full, &st) != 0) {
        jfail_at(j, "dosing_file", NULL, "cannot open dosing file %s: %s", full, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        jfail_at(j, "dosing_file", NULL, "%s is not a regular file", full);
        goto done;
    }
    size_t len = 0;
    char *text = ks_read_file(j->ctx, full, "dosing file", KS_MAX_DOSING_BYTES, &len);
    if (!text) {
        char inner[KS_MSG_MAX];
        snprintf(inner, sizeof inner, "%s", ks_ctx_message(j->ctx));
        ks_status st0 = ks_ctx_status(j->ctx);
        size_t saved = path_push_key(j, "dosing_file");
        ks_fail(j->ctx, st0, "%s: %s: %s", j->file, j->path, inner);
        path_pop(j, saved);
        goto done;
    }
    if (ks_nonmem_read(j->ctx, text, len, full, defaults, nm) == KS_OK)
        rc = 1;
    free(text);
done:
    free(full);
    return rc;
}

ks_scenario *ks_scenario_parse_ex(ks_ctx *ctx, const char *text, size_t len, const char *name,
                                  const char *base_dir, unsigned flags)
{
    static const char *const keys[] = {
        "$schema", "name", "description", "start_weekday", "patient",    "doses", "dosing_file",
        "events",  "span", "output",      "mechanism",     "open_label", "noise", "seed"};
    static const char *const wd_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    static const int wd_values[] = {0, 1, 2, 3, 4, 5, 6};
    jctx jc, *j = &jc;
    char *copy = NULL;
    cJSON *root = NULL;
    dose_entry *entries = NULL;
    event_entry *ev_entries = NULL;
    ks_event *sevents = NULL; /* the expanded scenario events */
    ks_dose *events = NULL;
    double *extra = NULL, *times = NULL;
    ks_scenario *s = NULL;
    ks_nm_data nm = {NULL, 0};
    size_t n_entries = 0, n_events = 0, n_extra = 0, n_times = 0;
    size_t n_ev_entries = 0, n_sevents = 0;
    ks_pd_covariates cov;
    int has_cov = 0;
    ks_pd_covariates_init(&cov);

    if (!text && len)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_scenario_parse: NULL text"), NULL;
    if (!name)
        name = "<memory>";
    memset(j, 0, sizeof *j);
    j->ctx = ctx;
    j->file = name;
    strcpy(j->path, "$");
    j->plen = 1;

    /* Parse: a NUL-terminated copy, the end position from cJSON without its global. */
    copy = ks_malloc(ctx, len + 1);
    if (!copy)
        goto fail;
    if (len)
        memcpy(copy, text, len);
    copy[len] = '\0';
    {
        size_t ws = 0;
        while (ws < len &&
               (copy[ws] == ' ' || copy[ws] == '\t' || copy[ws] == '\n' || copy[ws] == '\r'))
            ws++;
        if (ws == len) {
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: line 1, column 1: empty file, expected a JSON object "
                    "(got %zu bytes of white space)",
                    name, len);
            goto fail;
        }
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(copy, len, &end, 0);
    if (!root) {
        size_t off = end && end >= copy && end <= copy + len ? (size_t)(end - copy) : 0;
        json_syntax_error(ctx, name, copy, len, off, "malformed JSON");
        goto fail;
    }
    {
        size_t off = end && end >= copy && end <= copy + len ? (size_t)(end - copy) : len;
        while (off < len &&
               (copy[off] == ' ' || copy[off] == '\t' || copy[off] == '\n' || copy[off] == '\r'))
            off++;
        if (off < len) {
            json_syntax_error(ctx, name, copy, len, off,
                              "unexpected text after the end of the JSON object");
            goto fail;
        }
    }
    if (check_object(j, root, keys, ARRAY_LEN(keys)) < 0)
        goto fail;

    /* Name and free text. */
    const char *str = NULL;
    char name_buf[256];
    default_name(name, name_buf, sizeof name_buf);
    int r = get_string(j, root, "name", &str);
    if (r < 0)
        goto fail;
    if (r) {
        size_t n = strlen(str);
        if (n == 0 || n > 200) {
            jfail_at(j, "name", child(root, "name"), "expected a name of 1 to 200 characters");
            goto fail;
        }
        for (size_t i = 0; i < n; i++) {
            if ((unsigned char)str[i] < 0x20) {
                jfail_at(j, "name", child(root, "name"), "control characters are not allowed");
                goto fail;
            }
        }
        snprintf(name_buf, sizeof name_buf, "%s", str);
    }
    if (get_string(j, root, "description", &str) < 0 || get_string(j, root, "$schema", &str) < 0)
        goto fail;
    int start_weekday = 0;
    if (get_choice(j, root, "start_weekday", wd_names, wd_values, ARRAY_LEN(wd_names),
                   &start_weekday) < 0)
        goto fail;

    /* Patient. */
    ks_patient patient;
    ks_patient_init(&patient);
    patient.id = 1;
    const cJSON *pobj = child(root, "patient");
    if (pobj) {
        size_t saved = path_push_key(j, "patient");
        r = parse_patient(j, pobj, &patient, &cov, &has_cov);
        path_pop(j, saved);
        if (r < 0)
            goto fail;
    }

    /* Simulation switches (docs/SCENARIO.md, "Top level"). open_label's default depends on
     * the subjects and is settled below. */
    int mechanism = 1, open_label = -1, noise = 0;
    double seed = 1.0;
    if (get_bool(j, root, "mechanism", &mechanism) < 0 ||
        get_bool(j, root, "open_label", &open_label) < 0 || get_bool(j, root, "noise", &noise) < 0)
        goto fail;
    {
        const cJSON *v = child(root, "seed");
        if (v && (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
                  v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0.0 ||
                  v->valuedouble > KS_MAX_SEED)) {
            jfail_at(j, "seed", v, "expected a whole number from 0 to 2^53 (9007199254740992)");
            goto fail;
        }
        if (v)
            seed = v->valuedouble;
    }

    /* Span (explicit) and output options, before the doses that they bound. */
    double span_h = 0.0;
    const cJSON *sobj = child(root, "span");
    if (sobj) {
        size_t saved = path_push_key(j, "span");
        r = parse_span(j, sobj, &span_h);
        path_pop(j, saved);
        if (r < 0)
            goto fail;
    }
    output_spec out;
    memset(&out, 0, sizeof out);
    out.flags = KS_OUT_PLASMA | KS_OUT_EFFECT_SITE;
    const cJSON *oobj = child(root, "output");
    if (oobj) {
        size_t saved = path_push_key(j, "output");
        r = parse_output(j, oobj, &out);
        path_pop(j, saved);
        if (r < 0)
            goto fail;
    }

    /* Doses, or a dosing file. */
    const cJSON *dobj = child(root, "doses");
    const cJSON *fobj = child(root, "dosing_file");
    if (dobj && fobj) {
        jfail_at(j, "dosing_file", fobj,
                 "give either doses or dosing_file, not both (doses is given)");
        goto fail;
    }
    if (!dobj && !fobj) {
        jfail_at(j, "doses", NULL,
                 "missing: give doses (an array, [] for none) or dosing_file (a NONMEM CSV)");
        goto fail;
    }
    double last_event_h = 0.0;
    if (dobj) {
        size_t saved = path_push_key(j, "doses");
        if (!cJSON_IsArray(dobj)) {
            jfail(j, dobj, "expected an array of doses");
            goto fail;
        }
        size_t n = (size_t)cJSON_GetArraySize(dobj);
        if ((double)n > KS_MAX_DOSE_EVENTS) {
            jfail(j, NULL, "more than %.0f doses (got %zu)", KS_MAX_DOSE_EVENTS, n);
            goto fail;
        }
        entries = ks_calloc(ctx, n ? n : 1, sizeof *entries);
        if (!entries)
            goto fail;
        double total_events = 0.0;
        for (const cJSON *d = dobj->child; d; d = d->next) {
            size_t s2 = path_push_index(j, n_entries);
            if (parse_dose(j, d, &patient, start_weekday, &entries[n_entries]) < 0)
                goto fail;
            const ks_dose_spec *sp = &entries[n_entries].spec;
            double ne = ks_schedule_event_count(sp);
            total_events += ne;
            if (total_events > KS_MAX_DOSE_EVENTS) {
                if (sp->repeat != KS_REPEAT_NONE)
                    path_push_key(j, "repeat");
                jfail(j, NULL,
                      "the scenario expands to more than %.0f dose events (this dose adds %.0f)",
                      KS_MAX_DOSE_EVENTS, ne);
                goto fail;
            }
            double end_h = ks_schedule_last_time(sp) + sp->duration_h;
            if (end_h > last_event_h)
                last_event_h = end_h;
            n_entries++;
            path_pop(j, s2);
        }
        path_pop(j, saved);
    } else {
        if (flags & KS_PARSE_NO_FILES) {
            jfail_at(j, "dosing_file", fobj, "dosing files are not allowed here");
            goto fail;
        }
        const char *rel = NULL;
        if (get_string(j, root, "dosing_file", &rel) < 0)
            goto fail;
        if (rel[0] == '\0') {
            jfail_at(j, "dosing_file", fobj, "expected a path to a NONMEM CSV file");
            goto fail;
        }
        if (load_dosing_file(j, rel, base_dir, &patient, &nm) < 0)
            goto fail;
        for (size_t i = 0; i < nm.n_subjects; i++)
            if (nm.subjects[i].last_time_h > last_event_h)
                last_event_h = nm.subjects[i].last_time_h;
    }

    /* Events. */
    const cJSON *eobj = child(root, "events");
    if (eobj) {
        size_t saved = path_push_key(j, "events");
        if (!cJSON_IsArray(eobj)) {
            jfail(j, eobj, "expected an array of events");
            goto fail;
        }
        size_t n = (size_t)cJSON_GetArraySize(eobj);
        if ((double)n > KS_MAX_EVENTS) {
            jfail(j, NULL, "more than %.0f events (got %zu)", KS_MAX_EVENTS, n);
            goto fail;
        }
        ev_entries = ks_calloc(ctx, n ? n : 1, sizeof *ev_entries);
        if (!ev_entries)
            goto fail;
        double total_events = 0.0;
        for (const cJSON *ev = eobj->child; ev; ev = ev->next) {
            size_t s2 = path_push_index(j, n_ev_entries);
            event_entry *ee = &ev_entries[n_ev_entries];
            if (parse_event(j, ev, start_weekday, ee) < 0)
                goto fail;
            double ne = ks_schedule_event_count(&ee->spec);
            total_events += ne;
            if (total_events > KS_MAX_EVENTS) {
                jfail(j, NULL,
                      "the scenario expands to more than %.0f events (this event adds %.0f)",
                      KS_MAX_EVENTS, ne);
                goto fail;
            }
            double end_h = ks_schedule_last_time(&ee->spec) + ee->duration_h;
            if (end_h > last_event_h)
                last_event_h = end_h;
            n_ev_entries++;
            path_pop(j, s2);
        }
        path_pop(j, saved);
    }

    /* The span: given, or 7 days past the last event (at least 7 days). */
    double extra_max = 0.0;
    if (out.times)
        for (const cJSON *v = out.times->child; v; v = v->next)
            if (v->valuedouble > extra_max)
                extra_max = v->valuedouble;
    if (!sobj) {
        span_h = fmax(7.0 * 24.0, last_event_h + 7.0 * 24.0);
        span_h = fmax(span_h, extra_max);
        if (span_h > KS_MAX_SPAN_H)
            span_h = KS_MAX_SPAN_H;
    }

    /* Every dose inside the span. */
    for (size_t i = 0; i < n_entries; i++) {
        const dose_entry *e = &entries[i];
        double first = e->spec.start_h, last = ks_schedule_last_time(&e->spec);
        char p2[64];
        snprintf(p2, sizeof p2, "$.doses[%zu]", i);
        char num[32];
        if (!(first < span_h)) {
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: %s.%s: the dose starts at %g h, not before the end of the span (%g h); "
                    "lengthen span or move the dose (got %s)",
                    name, p2, e->time_key ? e->time_key : "at_h", first, span_h,
                    e->time_key ? ks_fmt_double(num, sizeof num, first) : "the default 0");
            goto fail;
        }
        if (!(last < span_h)) {
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: %s.%s: the last administration at %g h is not before the end of the "
                    "span (%g h); lengthen span or shorten the repeat (got %s)",
                    name, p2, e->spec.repeat != KS_REPEAT_NONE ? "repeat" : "devices", last, span_h,
                    ks_fmt_double(num, sizeof num, last));
            goto fail;
        }
    }
    /* Every event inside the span: a point event at or before its end, an interval event
     * starting before it (it may run past the end, like an infusion). */
    for (size_t i = 0; i < n_ev_entries; i++) {
        const event_entry *e = &ev_entries[i];
        const int interval = ks_event_is_interval(e->kind);
        double first = e->spec.start_h, last = ks_schedule_last_time(&e->spec);
        int first_out = interval ? !(first < span_h) : !(first <= span_h);
        int last_out = interval ? !(last < span_h) : !(last <= span_h);
        char num[32];
        if (first_out) {
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: $.events[%zu].%s: the %s event at %g h is %s the end of the span (%g "
                    "h); lengthen span or move the event (got %s)",
                    name, i, e->time_key ? e->time_key : "at_h", ks_event_name(e->kind), first,
                    interval ? "not before" : "after", span_h,
                    e->time_key ? ks_fmt_double(num, sizeof num, first) : "the default 0");
            goto fail;
        }
        if (last_out) {
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: $.events[%zu].%s: the last repeat at %g h is %s the end of the span (%g "
                    "h); lengthen span or lower the count (got %s)",
                    name, i, e->spec.repeat == KS_REPEAT_WEEKDAYS ? "weeks" : "count", last,
                    interval ? "not before" : "after", span_h,
                    ks_fmt_double(num, sizeof num, last));
            goto fail;
        }
    }
    if (expand_events(ctx, ev_entries, n_ev_entries, &sevents, &n_sevents) != KS_OK)
        goto fail;
    for (size_t i = 0; i < nm.n_subjects; i++) {
        if (nm.subjects[i].last_time_h > span_h) {
            char num[32];
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: $.span: the dosing file has events or records up to %g h (ID %ld), "
                    "beyond the span of %g h (got %s)",
                    name, nm.subjects[i].last_time_h, nm.subjects[i].patient.id, span_h,
                    ks_fmt_double(num, sizeof num, span_h));
            goto fail;
        }
    }

    /* Output grid step and extra times against the span. */
    double step_h = out.step_min > 0.0 ? out.step_min / 60.0 : fmin(5.0 / 60.0, span_h);
    if (step_h > span_h) {
        char num[32];
        ks_fail(ctx, KS_ERR_INPUT,
                "%s: $.output.step_min: the output step must not exceed the span of %g min "
                "(got %s)",
                name, span_h * 60.0, ks_fmt_double(num, sizeof num, out.step_min));
        goto fail;
    }
    double n_subj = nm.n_subjects ? (double)nm.n_subjects : 1.0;
    double n_grid = (floor(span_h / step_h) + 2.0) * n_subj;
    if (n_grid > KS_MAX_OUTPUT_TIMES) {
        char num[32];
        ks_fail(ctx, KS_ERR_INPUT,
                "%s: $.output.step_min: gives %.0f output times over the span of %g h, above "
                "the limit of %.0f (got %s)",
                name, n_grid, span_h, KS_MAX_OUTPUT_TIMES,
                ks_fmt_double(num, sizeof num, step_h * 60.0));
        goto fail;
    }
    if (out.times) {
        n_extra = (size_t)cJSON_GetArraySize(out.times);
        if (n_grid + (double)n_extra * n_subj > KS_MAX_OUTPUT_TIMES) {
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: $.output.times_h: %zu extra times and %.0f grid times exceed the "
                    "limit of %.0f output times (got %zu times)",
                    name, n_extra, n_grid, KS_MAX_OUTPUT_TIMES, n_extra);
            goto fail;
        }
        extra = ks_malloc(ctx, (n_extra ? n_extra : 1) * sizeof *extra);
        if (!extra)
            goto fail;
        size_t i = 0;
        for (const cJSON *v = out.times->child; v; v = v->next, i++) {
            if (v->valuedouble > span_h) {
                char num[32];
                ks_fail(ctx, KS_ERR_INPUT,
                        "%s: $.output.times_h[%zu]: the time is after the end of the span (%g "
                        "h) (got %s)",
                        name, i, span_h, ks_fmt_double(num, sizeof num, v->valuedouble));
                goto fail;
            }
            extra[i] = v->valuedouble;
        }
    }
    if (n_sevents) {
        /* Event times and the ends of interval events (within the span) are output times. */
        double *grown = ks_realloc(ctx, extra, (n_extra + 2 * n_sevents) * sizeof *extra);
        if (!grown)
            goto fail;
        extra = grown;
        for (size_t i = 0; i < n_sevents; i++) {
            extra[n_extra++] = sevents[i].t_h;
            double t1 = sevents[i].t_h + sevents[i].duration_h;
            if (sevents[i].duration_h > 0.0 && t1 <= span_h)
                extra[n_extra++] = t1;
        }
    }
    {
        /* Dose times, infusion ends and record times are output times too. */
        double n_more = 0.0;
        for (size_t i = 0; i < n_entries; i++)
            n_more += 2.0 * ks_schedule_event_count(&entries[i].spec);
        for (size_t i = 0; i < nm.n_subjects; i++)
            n_more += 2.0 * (double)nm.subjects[i].n_doses + (double)nm.subjects[i].n_record_times;
        double total = n_grid + (double)n_extra * n_subj + n_more;
        if (total > KS_MAX_OUTPUT_TIMES) {
            char num[32];
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: $.output.step_min: with %.0f dose and record times the scenario asks "
                    "for %.0f output times, above the limit of %.0f (got %s)",
                    name, n_more, total, KS_MAX_OUTPUT_TIMES,
                    ks_fmt_double(num, sizeof num, step_h * 60.0));
            goto fail;
        }
    }

    /* Build. */
    s = ks_scenario_alloc(ctx, name_buf, name);
    if (!s)
        goto fail;
    s->t_end_h = span_h;
    s->outputs = out.flags;
    s->mechanism = mechanism;
    /* open_label default: a scenario with doses is one patient, who knows what they receive;
     * the subjects of a dosing file are a study's, blinded unless said otherwise. */
    s->open_label = open_label >= 0 ? open_label : !fobj;
    s->noise = noise;
    s->seed = (uint64_t)seed;
    if (out.csv) {
        char *c = ks_strdup(ctx, out.csv);
        if (!c)
            goto fail;
        free(s->output_csv);
        s->output_csv = c;
    }
    if (!fobj) {
        double total = 0.0;
        for (size_t i = 0; i < n_entries; i++)
            total += ks_schedule_event_count(&entries[i].spec);
        events = ks_calloc(ctx, total > 0.0 ? (size_t)total : 1, sizeof *events);
        if (!events)
            goto fail;
        for (size_t i = 0; i < n_entries; i++)
            n_events += ks_schedule_expand(&entries[i].spec, events + n_events);
        ks_doses_sort(events, n_events);
        if (ks_output_times_build(ctx, span_h, step_h, events, n_events, extra, n_extra, &times,
                                  &n_times) != KS_OK)
            goto fail;
        if (ks_scenario_add_subject(ctx, s, &patient, events, n_events, times, n_times) != KS_OK ||
            subject_set_mechanism(ctx, &s->subjects[s->n_subjects - 1], sevents, n_sevents, &cov,
                                  has_cov) != KS_OK)
            goto fail;
    } else {
        for (size_t i = 0; i < nm.n_subjects; i++) {
            const ks_nm_subject *sub = &nm.subjects[i];
            double *more = NULL;
            size_t n_more = n_extra + sub->n_record_times;
            if (n_more) {
                more = ks_malloc(ctx, n_more * sizeof *more);
                if (!more)
                    goto fail;
                if (n_extra)
                    memcpy(more, extra, n_extra * sizeof *more);
                if (sub->n_record_times)
                    memcpy(more + n_extra, sub->record_times, sub->n_record_times * sizeof *more);
            }
            ks_status st = ks_output_times_build(ctx, span_h, step_h, sub->doses, sub->n_doses,
                                                 more, n_more, &times, &n_times);
            free(more);
            if (st != KS_OK)
                goto fail;
            if (ks_scenario_add_subject(ctx, s, &sub->patient, sub->doses, sub->n_doses, times,
                                        n_times) != KS_OK ||
                subject_set_mechanism(ctx, &s->subjects[s->n_subjects - 1], sevents, n_sevents,
                                      &cov, has_cov) != KS_OK)
                goto fail;
            free(times);
            times = NULL;
        }
    }
    free(times);
    free(extra);
    free(events);
    free(entries);
    free(sevents);
    free(ev_entries);
    ks_nm_data_free(&nm);
    cJSON_Delete(root);
    free(copy);
    return s;
fail:
    free(times);
    free(extra);
    free(events);
    free(entries);
    free(sevents);
    free(ev_entries);
    ks_nm_data_free(&nm);
    ks_scenario_free(s);
    cJSON_Delete(root);
    free(copy);
    return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------------------- */

ks_scenario *ks_scenario_parse(ks_ctx *ctx, const char *text, size_t len, const char *name,
                               const char *base_dir)
{
    return ks_scenario_parse_ex(ctx, text, len, name, base_dir, 0);
}

ks_scenario *ks_scenario_load(ks_ctx *ctx, const char *path)
{
    if (!path)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_scenario_load: NULL path"), NULL;
    size_t len = 0;
    char *text = ks_read_file(ctx, path, "scenario", KS_MAX_SCENARIO_BYTES, &len);
    if (!text)
        return NULL;
    /* Relative paths inside resolve against the scenario's directory. */
    char *dir = ks_strdup(ctx, path);
    if (!dir) {
        free(text);
        return NULL;
    }
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    ks_scenario *s = ks_scenario_parse_ex(ctx, text, len, path, dir, 0);
    free(dir);
    free(text);
    return s;
}

void ks_scenario_free(ks_scenario *scenario)
{
    if (!scenario)
        return;
    for (size_t i = 0; i < scenario->n_subjects; i++) {
        free(scenario->subjects[i].doses);
        free(scenario->subjects[i].times_h);
        free(scenario->subjects[i].events);
    }
    free(scenario->subjects);
    free(scenario->name);
    free(scenario->source_path);
    free(scenario->output_csv);
    free(scenario);
}

size_t ks_scenario_subject_count(const ks_scenario *scenario)
{
    return scenario ? scenario->n_subjects : 0;
}

const char *ks_scenario_name(const ks_scenario *scenario)
{
    return scenario && scenario->name ? scenario->name : "";
}
