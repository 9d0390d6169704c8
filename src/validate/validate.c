/*
 * validate.c -- `ketasim validate`: loads the published targets (experiments/targets.csv) and
 * the experiment files (every .json file under experiments/, built in or from a directory),
 * simulates the arms of every experiment that answers a selected target, measures, and reports one
 * row per selected target in the order of targets.csv. Format of experiment files:
 * docs/VALIDATION.md.
 *
 * Arms may be virtual animals (docs/MODEL.md 11.4) and may have solved doses: the amounts of one
 * drug scaled by the factor that makes a measurement equal a value or another measurement (the
 * animal-equivalent dose, a clamped plasma level), found by safeguarded secant steps in log dose
 * before the arm's targets are measured ("Solved doses" in docs/VALIDATION.md).
 */
#define _POSIX_C_SOURCE 200809L

#include "measure.h"
#include "measure_trial.h"
#include "targets.h"

#include "../core/internal.h"
#include "../io/scenario_internal.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KS_EXPERIMENT_MAX_BYTES (4u << 20)
#define KS_DETAIL_MAX           2048
#define KS_DIR_DEPTH_MAX        8

/* Relative tolerance of the reference solver for validation runs (absolute: state units). */
#define KS_VALIDATE_RTOL 1e-9
#define KS_VALIDATE_ATOL 1e-12

static const char *const ks_no_experiment = "no experiment yet: the layer is not modelled";

typedef struct {
    char *id;
    size_t row; /* index in the targets table */
    ks_measure *measure;
} ks_exp_target;

typedef struct {
    char *file;     /* name shown in messages: relative embedded name or path */
    char *base_dir; /* directory for relative paths inside scenarios; NULL when embedded */
    ks_arm *arms;
    size_t n_arms;
    ks_exp_target *targets;
    size_t n_targets;
    ks_trial_exp *trials; /* experiments whose arms are virtual trials (measure_trial.c) */
} ks_experiment;

/* What was measured for one target. */
typedef struct {
    int done;
    int pass;
    double simulated;
    char *text;   /* owned */
    char *detail; /* owned */
} ks_outcome;

struct ks_validation {
    ks_target_table table;
    ks_validation_row *rows;
    ks_outcome *outcomes; /* per row of `rows` */
    size_t n;
    size_t n_pass;
};

/* ------------------------------------------------------------------------------------------
 * Experiment files
 * ---------------------------------------------------------------------------------------- */

static void experiment_clear(ks_experiment *e)
{
    for (size_t i = 0; i < e->n_arms; i++) {
        free(e->arms[i].name);
        ks_scenario_free(e->arms[i].scenario);
        ks_result_free(e->arms[i].result);
        free(e->arms[i].sim_error);
        ks_measure_free(e->arms[i].solve_measure);
        ks_measure_free(e->arms[i].solve_equals);
        free(e->arms[i].base_mg);
        free(e->arms[i].solve_note);
    }
    for (size_t i = 0; i < e->n_targets; i++) {
        free(e->targets[i].id);
        ks_measure_free(e->targets[i].measure);
    }
    ks_trial_exp_free(e->trials);
    free(e->arms);
    free(e->targets);
    free(e->file);
    free(e->base_dir);
    memset(e, 0, sizeof *e);
}

static ks_status check_keys(ks_ctx *ctx, const cJSON *obj, const char *const *keys,
                            const char *file, const char *path)
{
    for (const cJSON *c = obj->child; c; c = c->next) {
        int ok = 0;
        for (size_t i = 0; keys[i] && !ok; i++)
            ok = strcmp(c->string, keys[i]) == 0;
        if (!ok)
            return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: unknown key", file, path, c->string);
    }
    return KS_OK;
}

static ks_status need_string(ks_ctx *ctx, const cJSON *obj, const char *key, const char *file,
                             const char *path, int required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v && !required)
        return KS_OK;
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.%s: expected a non-empty string", file, path,
                       key);
    return KS_OK;
}

static ks_status parse_arm(ks_ctx *ctx, const cJSON *a, ks_experiment *e, size_t i)
{
    static const char *const keys[] = {"name",     "description",    "scenario", "solve",
                                       "scale_as", "virtual_animal", NULL};
    char path[64];
    snprintf(path, sizeof path, "$.arms[%zu]", i);
    e->arms[i].solve_drug = -1;
    e->arms[i].scale_as = -1;
    e->arms[i].factor = NAN;
    if (!cJSON_IsObject(a))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: expected an arm object", e->file, path);
    ks_status st = check_keys(ctx, a, keys, e->file, path);
    if (st == KS_OK)
        st = need_string(ctx, a, "name", e->file, path, 1);
    if (st == KS_OK)
        st = need_string(ctx, a, "description", e->file, path, 0);
    if (st != KS_OK)
        return st;
    const char *name = cJSON_GetObjectItemCaseSensitive(a, "name")->valuestring;
    for (size_t k = 0; k < i; k++)
        if (strcmp(e->arms[k].name, name) == 0)
            return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.name: duplicate arm name '%s'", e->file, path,
                           name);
    if (!(e->arms[i].name = ks_strdup(ctx, name)))
        return KS_ERR_NOMEM;
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(a, "scenario");
    if (!cJSON_IsObject(sc))
        return ks_fail(ctx, KS_ERR_INPUT,
                       "%s: %s.scenario: expected a scenario object "
                       "(docs/SCENARIO.md)",
                       e->file, path);
    char *text = cJSON_PrintUnformatted(sc);
    if (!text)
        return ks_fail(ctx, KS_ERR_NOMEM, "%s: %s.scenario: out of memory", e->file, path);
    char label[512];
    snprintf(label, sizeof label, "%s (%s.scenario)", e->file, path);
    e->arms[i].scenario = ks_scenario_parse(ctx, text, strlen(text), label, e->base_dir);
    cJSON_free(text);
    if (!e->arms[i].scenario)
        return ctx ? ctx->status : KS_ERR_INPUT;
    if (e->arms[i].scenario->n_subjects < 1)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.scenario: no subject", e->file, path);
    const cJSON *animal = cJSON_GetObjectItemCaseSensitive(a, "virtual_animal");
    if (animal && !cJSON_IsBool(animal))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.virtual_animal: expected true or false", e->file,
                       path);
    if (cJSON_IsTrue(animal)) {
        /* the virtual animal of docs/MODEL.md 11.4: no failed trials, no habit, no chronic
         * stress load, started in the healthy basin (stress comes from scenario events) */
        for (size_t s = 0; s < e->arms[i].scenario->n_subjects; s++) {
            ks_subject *sub = &e->arms[i].scenario->subjects[s];
            if (sub->has_cov)
                return ks_fail(ctx, KS_ERR_INPUT,
                               "%s: %s: a virtual animal takes no patient mechanism covariates "
                               "(baseline_madrs, failed_trials, stress_load, episode_years)",
                               e->file, path);
            ks_pd_covariates_animal(&sub->cov);
            sub->has_cov = 1;
        }
    }
    return KS_OK;
}

static ks_status parse_target(ks_ctx *ctx, const cJSON *t, ks_experiment *e, size_t i,
                              const ks_target_table *table)
{
    static const char *const keys[] = {"id", "measure", "note", NULL};
    char path[64];
    snprintf(path, sizeof path, "$.targets[%zu]", i);
    if (!cJSON_IsObject(t))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: expected a target object", e->file, path);
    ks_status st = check_keys(ctx, t, keys, e->file, path);
    if (st == KS_OK)
        st = need_string(ctx, t, "id", e->file, path, 1);
    if (st == KS_OK)
        st = need_string(ctx, t, "note", e->file, path, 0);
    if (st != KS_OK)
        return st;
    const char *id = cJSON_GetObjectItemCaseSensitive(t, "id")->valuestring;
    long row = ks_targets_find(table, id);
    if (row < 0)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.id: no target '%s' in targets.csv", e->file, path,
                       id);
    for (size_t k = 0; k < i; k++)
        if (strcmp(e->targets[k].id, id) == 0)
            return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.id: target %s measured twice", e->file, path,
                           id);
    ks_exp_target *et = &e->targets[i];
    et->row = (size_t)row;
    if (!(et->id = ks_strdup(ctx, id)))
        return KS_ERR_NOMEM;
    char mpath[80];
    snprintf(mpath, sizeof mpath, "%s.measure", path);
    et->measure = ks_measure_parse(ctx, cJSON_GetObjectItemCaseSensitive(t, "measure"), e->file,
                                   mpath, e->arms, e->n_arms);
    if (!et->measure)
        return ctx ? ctx->status : KS_ERR_INPUT;
    const ks_measure *pa, *pb;
    int is_pair = ks_measure_pair(et->measure, &pa, &pb);
    int compound = table->rows[row].kind == KS_TARGET_COMPOUND;
    if (is_pair != compound)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.measure: target %s (\"%s\") needs %s", e->file,
                       path, id, table->rows[row].target,
                       compound ? "a 'pair' of two rate measurements"
                                : "a single measurement (a 'pair' is only for 'a vs b' targets)");
    return KS_OK;
}

/* The hook for trial experiments: measure_trial.c parses them; the ids and rows are copied
 * here for the checks common to all experiments. */
static ks_status trial_experiment_parse(ks_ctx *ctx, const cJSON *root, const char *file,
                                        const char *base_dir, const ks_target_table *table,
                                        ks_experiment *e)
{
    if (!(e->trials = ks_trial_exp_parse(ctx, root, file, base_dir, table)))
        return ctx ? ctx->status : KS_ERR_INPUT;
    size_t n = ks_trial_exp_target_count(e->trials);
    if (!(e->targets = ks_calloc(ctx, n, sizeof *e->targets)))
        return KS_ERR_NOMEM;
    for (size_t i = 0; i < n; i++, e->n_targets++) {
        e->targets[i].row = ks_trial_exp_target_row(e->trials, i);
        if (!(e->targets[i].id = ks_strdup(ctx, ks_trial_exp_target_id(e->trials, i))))
            return KS_ERR_NOMEM;
    }
    return KS_OK;
}

/* Measures the selected targets of a trial experiment. */
static ks_status measure_trial_targets(ks_ctx *ctx, const ks_params *params, ks_experiment *e,
                                       const char *only, const ks_target_table *table,
                                       ks_outcome *by_row);

/* The written dose amounts of every subject of arm i (the base of a solved factor). */
static ks_status arm_keep_doses(ks_ctx *ctx, ks_arm *arm)
{
    size_t n = 0;
    for (size_t s = 0; s < arm->scenario->n_subjects; s++)
        n += arm->scenario->subjects[s].n_doses;
    if (!(arm->base_mg = ks_calloc(ctx, n ? n : 1, sizeof *arm->base_mg)))
        return KS_ERR_NOMEM;
    size_t k = 0;
    for (size_t s = 0; s < arm->scenario->n_subjects; s++)
        for (size_t j = 0; j < arm->scenario->subjects[s].n_doses; j++)
            arm->base_mg[k++] = arm->scenario->subjects[s].doses[j].amount_mg;
    return KS_OK;
}

/* "solve" and "scale_as" of arm i (docs/VALIDATION.md, "Solved doses"); every arm is named
 * by now. */
static ks_status parse_arm_solve(ks_ctx *ctx, const cJSON *a, ks_experiment *e, size_t i)
{
    static const char *const keys[] = {"drug", "measure", "equals", "note", NULL};
    ks_arm *arm = &e->arms[i];
    char path[96];
    snprintf(path, sizeof path, "$.arms[%zu]", i);
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(a, "solve");
    const cJSON *sa = cJSON_GetObjectItemCaseSensitive(a, "scale_as");
    if (!sv && !sa)
        return KS_OK;
    if (sv && sa)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: an arm has \"solve\" or \"scale_as\", not both",
                       e->file, path);
    ks_status st = arm_keep_doses(ctx, arm);
    if (st != KS_OK)
        return st;
    if (sa) {
        size_t k = 0;
        while (cJSON_IsString(sa) && k < e->n_arms && strcmp(e->arms[k].name, sa->valuestring))
            k++;
        if (!cJSON_IsString(sa) || k == e->n_arms || k == i)
            return ks_fail(ctx, KS_ERR_INPUT,
                           "%s: %s.scale_as: expected the name of another arm that has "
                           "\"solve\"",
                           e->file, path);
        arm->scale_as = (long)k;
        return KS_OK;
    }
    char sub[128];
    snprintf(sub, sizeof sub, "%s.solve", path);
    if (!cJSON_IsObject(sv))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: expected an object", e->file, sub);
    if ((st = check_keys(ctx, sv, keys, e->file, sub)) != KS_OK ||
        (st = need_string(ctx, sv, "note", e->file, sub, 0)) != KS_OK)
        return st;
    const cJSON *drug = cJSON_GetObjectItemCaseSensitive(sv, "drug");
    ks_drug d;
    if (!cJSON_IsString(drug) || ks_drug_from_name(drug->valuestring, &d) != 0)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.drug: expected the drug whose doses are scaled",
                       e->file, sub);
    int has = 0;
    for (size_t s = 0; s < arm->scenario->n_subjects; s++)
        for (size_t j = 0; j < arm->scenario->subjects[s].n_doses; j++)
            has |= arm->scenario->subjects[s].doses[j].drug == d;
    if (!has)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s.drug: the arm has no dose of %s", e->file, sub,
                       drug->valuestring);
    arm->solve_drug = (int)d;
    char mpath[160];
    snprintf(mpath, sizeof mpath, "%s.measure", sub);
    arm->solve_measure = ks_measure_parse(ctx, cJSON_GetObjectItemCaseSensitive(sv, "measure"),
                                          e->file, mpath, e->arms, e->n_arms);
    if (!arm->solve_measure)
        return ctx ? ctx->status : KS_ERR_INPUT;
    if (ks_measure_arm_mask(arm->solve_measure) != (1ull << i))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: the solved measurement reads this arm only",
                       e->file, mpath);
    const cJSON *eq = cJSON_GetObjectItemCaseSensitive(sv, "equals");
    snprintf(mpath, sizeof mpath, "%s.equals", sub);
    if (cJSON_IsNumber(eq)) {
        if (!(eq->valuedouble > 0.0) || !isfinite(eq->valuedouble))
            return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: expected a value > 0", e->file, mpath);
        arm->solve_value = eq->valuedouble;
        return KS_OK;
    }
    if (!eq)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: expected a number or a measurement", e->file,
                       mpath);
    arm->solve_equals = ks_measure_parse(ctx, eq, e->file, mpath, e->arms, e->n_arms);
    if (!arm->solve_equals)
        return ctx ? ctx->status : KS_ERR_INPUT;
    if (ks_measure_arm_mask(arm->solve_equals) & (1ull << i))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: %s: must not read the arm being solved", e->file,
                       mpath);
    return KS_OK;
}

/* Parses one experiment file (text of `len` bytes). On failure *e is cleared. */
static ks_status experiment_parse(ks_ctx *ctx, const char *text, size_t len, const char *file,
                                  const char *base_dir, const ks_target_table *table,
                                  ks_experiment *e)
{
    static const char *const keys[] = {"name", "description", "source", "arms", "targets", NULL};
    memset(e, 0, sizeof *e);
    ks_status st = KS_OK;
    cJSON *root = NULL;
    if (!(e->file = ks_strdup(ctx, file)) ||
        (base_dir && !(e->base_dir = ks_strdup(ctx, base_dir)))) {
        st = KS_ERR_NOMEM;
        goto done;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        size_t line = 1;
        for (size_t k = 0; k < off && k < len; k++)
            line += text[k] == '\n';
        st = ks_fail(ctx, KS_ERR_INPUT, "%s: line %zu: malformed JSON", file, line);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        st = ks_fail(ctx, KS_ERR_INPUT, "%s: $: expected an experiment object", file);
        goto done;
    }
    if (ks_trial_exp_detect(root)) { /* arms are virtual trials: measure_trial.c */
        st = trial_experiment_parse(ctx, root, file, base_dir, table, e);
        goto done;
    }
    if ((st = check_keys(ctx, root, keys, file, "$")) != KS_OK ||
        (st = need_string(ctx, root, "name", file, "$", 1)) != KS_OK ||
        (st = need_string(ctx, root, "description", file, "$", 1)) != KS_OK ||
        (st = need_string(ctx, root, "source", file, "$", 1)) != KS_OK)
        goto done;
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(root, "arms");
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(root, "targets");
    if (!cJSON_IsArray(arms) || cJSON_GetArraySize(arms) < 1) {
        st = ks_fail(ctx, KS_ERR_INPUT, "%s: $.arms: expected a non-empty array of arms", file);
        goto done;
    }
    if (!cJSON_IsArray(targets) || cJSON_GetArraySize(targets) < 1) {
        st = ks_fail(ctx, KS_ERR_INPUT, "%s: $.targets: expected a non-empty array of targets",
                     file);
        goto done;
    }
    size_t na = (size_t)cJSON_GetArraySize(arms), nt = (size_t)cJSON_GetArraySize(targets);
    if (!(e->arms = ks_calloc(ctx, na, sizeof *e->arms)) ||
        !(e->targets = ks_calloc(ctx, nt, sizeof *e->targets))) {
        st = KS_ERR_NOMEM;
        goto done;
    }
    size_t i = 0;
    for (const cJSON *a = arms->child; a; a = a->next, i++) {
        e->n_arms = i + 1;
        if ((st = parse_arm(ctx, a, e, i)) != KS_OK)
            goto done;
    }
    i = 0;
    for (const cJSON *a = arms->child; a; a = a->next, i++)
        if ((st = parse_arm_solve(ctx, a, e, i)) != KS_OK)
            goto done;
    for (i = 0; i < e->n_arms; i++)
        if (e->arms[i].scale_as >= 0 && !e->arms[e->arms[i].scale_as].solve_measure) {
            st = ks_fail(ctx, KS_ERR_INPUT, "%s: $.arms[%zu].scale_as: arm '%s' has no \"solve\"",
                         file, i, e->arms[e->arms[i].scale_as].name);
            goto done;
        }
    i = 0;
    for (const cJSON *t = targets->child; t; t = t->next, i++) {
        e->n_targets = i + 1;
        if ((st = parse_target(ctx, t, e, i, table)) != KS_OK)
            goto done;
    }
done:
    cJSON_Delete(root);
    if (st != KS_OK)
        experiment_clear(e);
    return st;
}

/* ------------------------------------------------------------------------------------------
 * Finding the files
 * ---------------------------------------------------------------------------------------- */

typedef struct {
    char **paths;
    size_t n, cap;
} ks_pathlist;

static void pathlist_clear(ks_pathlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof *l);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static ks_status pathlist_add(ks_ctx *ctx, ks_pathlist *l, const char *p)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 32;
        char **np = ks_realloc(ctx, l->paths, nc * sizeof *np);
        if (!np)
            return KS_ERR_NOMEM;
        l->paths = np;
        l->cap = nc;
    }
    if (!(l->paths[l->n] = ks_strdup(ctx, p)))
        return KS_ERR_NOMEM;
    l->n++;
    return KS_OK;
}

/* Every *.json below dir (recursively; hidden entries skipped). */
static ks_status list_json(ks_ctx *ctx, const char *dir, ks_pathlist *l, int depth)
{
    if (depth > KS_DIR_DEPTH_MAX)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: directories nested too deeply", dir);
    DIR *d = opendir(dir);
    if (!d)
        return ks_fail(ctx, KS_ERR_IO, "%s: cannot open experiments directory: %s", dir,
                       strerror(errno));
    ks_status st = KS_OK;
    struct dirent *ent;
    while (st == KS_OK && (ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        size_t n = strlen(dir) + strlen(ent->d_name) + 2;
        char *p = ks_malloc(ctx, n);
        if (!p) {
            st = KS_ERR_NOMEM;
            break;
        }
        snprintf(p, n, "%s/%s", dir, ent->d_name);
        struct stat sb;
        if (stat(p, &sb) == 0) {
            if (S_ISDIR(sb.st_mode))
                st = list_json(ctx, p, l, depth + 1);
            else if (S_ISREG(sb.st_mode) && ends_with(ent->d_name, ".json"))
                st = pathlist_add(ctx, l, p);
        }
        free(p);
    }
    closedir(d);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ------------------------------------------------------------------------------------------
 * Running
 * ---------------------------------------------------------------------------------------- */

static void outcome_clear(ks_outcome *o)
{
    free(o->text);
    free(o->detail);
    memset(o, 0, sizeof *o);
}

static ks_status outcome_set(ks_ctx *ctx, ks_outcome *o, int pass, double sim, const char *text,
                             const char *detail, const char *file)
{
    outcome_clear(o);
    size_t n = strlen(detail) + strlen(file) + 8;
    o->detail = ks_malloc(ctx, n);
    o->text = ks_strdup(ctx, text);
    if (!o->detail || !o->text)
        return KS_ERR_NOMEM;
    snprintf(o->detail, n, "%s [%s]", detail, file);
    o->done = 1;
    o->pass = pass;
    o->simulated = sim;
    return KS_OK;
}

static void simulate_arm(ks_ctx *ctx, const ks_params *params, ks_arm *arm)
{
    if (arm->result || arm->sim_error)
        return;
    ks_sim_options opt;
    ks_sim_options_init(&opt);
    opt.solver = KS_SOLVER_CVODE;
    opt.rtol = KS_VALIDATE_RTOL;
    opt.atol = KS_VALIDATE_ATOL;
    ks_ctx local = {KS_OK, ""};
    arm->result = ks_simulate(&local, params, arm->scenario, &opt);
    if (!arm->result) {
        char msg[KS_MSG_MAX + 64];
        snprintf(msg, sizeof msg, "%s (%s)", local.message, ks_strerror(local.status));
        arm->sim_error = ks_strdup(ctx, msg);
    }
}

/* ------------------------------------------------------------------------------------------
 * Solved doses (docs/VALIDATION.md, "Solved doses")
 * ---------------------------------------------------------------------------------------- */

/* Largest number of simulations spent solving one arm's dose, and the relative tolerance on the
 * solved measurement. */
#define KS_SOLVE_MAXIT 60
#define KS_SOLVE_RTOL  1e-7

/* Scales the doses of the arm's solved drug (or of its scale_as arm's drug) to factor x the
 * written amounts, and drops any earlier result. */
static void arm_set_factor(ks_arm *arm, int drug, double factor)
{
    size_t k = 0;
    for (size_t s = 0; s < arm->scenario->n_subjects; s++)
        for (size_t j = 0; j < arm->scenario->subjects[s].n_doses; j++, k++)
            if ((int)arm->scenario->subjects[s].doses[j].drug == drug)
                arm->scenario->subjects[s].doses[j].amount_mg = factor * arm->base_mg[k];
    arm->factor = factor;
    ks_result_free(arm->result);
    arm->result = NULL;
    free(arm->sim_error);
    arm->sim_error = NULL;
}

/* Total amount of `drug` given to the arm's first subject, mg. */
static double arm_drug_mg(const ks_arm *arm, int drug)
{
    double mg = 0.0;
    const ks_subject *s = &arm->scenario->subjects[0];
    for (size_t j = 0; j < s->n_doses; j++)
        if ((int)s->doses[j].drug == drug)
            mg += s->doses[j].amount_mg;
    return mg;
}

/* Records a miss of the arm (its targets become misses with this reason). */
static ks_status arm_miss(ks_ctx *ctx, ks_arm *arm, const char *what, const char *why)
{
    ks_result_free(arm->result);
    arm->result = NULL;
    free(arm->sim_error);
    size_t n = strlen(what) + strlen(why) + 4;
    if (!(arm->sim_error = ks_malloc(ctx, n)))
        return KS_ERR_NOMEM;
    snprintf(arm->sim_error, n, "%s: %s", what, why);
    return KS_OK;
}

static ks_status prepare_arm(ks_ctx *ctx, const ks_params *params, ks_experiment *e, size_t a,
                             int depth);

/* Simulates every arm of the mask. */
static ks_status prepare_arms(ks_ctx *ctx, const ks_params *params, ks_experiment *e,
                              unsigned long long mask, int depth)
{
    for (size_t k = 0; k < e->n_arms; k++)
        if (mask & (1ull << k)) {
            ks_status st = prepare_arm(ctx, params, e, k, depth + 1);
            if (st != KS_OK)
                return st;
        }
    return KS_OK;
}

/* Solves the dose factor of arm a: log f is driven to log target by secant steps in log
 * (factor), kept inside a bracket once one is known (bisection otherwise), from the guess
 * that the measurement is proportional to the dose (exact for linear PK outputs). */
static ks_status solve_arm(ks_ctx *ctx, const ks_params *params, ks_experiment *e, size_t a,
                           int depth)
{
    ks_arm *arm = &e->arms[a];
    ks_ctx local = {KS_OK, ""};
    char tdet[KS_DETAIL_MAX] = "", mdet[KS_DETAIL_MAX] = "";
    ks_quantity tq, mq;
    double target = arm->solve_value;
    ks_status st;
    if (arm->solve_equals) {
        if ((st = prepare_arms(ctx, params, e, ks_measure_arm_mask(arm->solve_equals), depth)) !=
            KS_OK)
            return st;
        st = ks_measure_eval(&local, arm->solve_equals, e->arms, &tq, tdet, sizeof tdet);
        if (st == KS_ERR_VALIDATION)
            return arm_miss(ctx, arm, "the dose could not be solved", local.message);
        if (st != KS_OK)
            return ks_fail(ctx, st, "%s: arm '%s': solve: %s", e->file, arm->name, local.message);
        target = tq.value;
    }
    if (!(target > 0.0) || !isfinite(target)) {
        char why[160];
        snprintf(why, sizeof why, "the value to reach is %.4g, not > 0", target);
        return arm_miss(ctx, arm, "the dose could not be solved", why);
    }
    double u = 0.0, u_prev = NAN, g_prev = NAN;
    double u_lo = NAN, u_hi = NAN; /* bracket: g < 0 at u_lo, g > 0 at u_hi */
    int done = 0;
    for (int it = 0; it < KS_SOLVE_MAXIT && !done; it++) {
        arm_set_factor(arm, arm->solve_drug, exp(u));
        simulate_arm(ctx, params, arm);
        if (!arm->result)
            return arm->sim_error ? KS_OK : KS_ERR_NOMEM;
        mdet[0] = '\0';
        local.status = KS_OK;
        st = ks_measure_eval(&local, arm->solve_measure, e->arms, &mq, mdet, sizeof mdet);
        if (st == KS_ERR_VALIDATION)
            return arm_miss(ctx, arm, "the dose could not be solved", local.message);
        if (st != KS_OK)
            return ks_fail(ctx, st, "%s: arm '%s': solve: %s", e->file, arm->name, local.message);
        if (arm->solve_equals && (mq.dim != tq.dim || strcmp(mq.unit, tq.unit) != 0))
            return ks_fail(ctx, KS_ERR_INPUT,
                           "%s: arm '%s': solve: the measurement (%s %s) and its value (%s %s) "
                           "differ in kind",
                           e->file, arm->name, ks_dim_name(mq.dim), mq.unit, ks_dim_name(tq.dim),
                           tq.unit);
        if (!(mq.value > 0.0) || !isfinite(mq.value)) {
            char why[200];
            snprintf(why, sizeof why, "the measurement is %.4g (not > 0) at dose factor %.4g",
                     mq.value, exp(u));
            return arm_miss(ctx, arm, "the dose could not be solved", why);
        }
        double g = log(mq.value / target);
        if (fabs(g) <= KS_SOLVE_RTOL) {
            done = 1;
            break;
        }
        if (g < 0.0)
            u_lo = u;
        else
            u_hi = u;
        double slope = it == 0 ? 1.0 : (g - g_prev) / (u - u_prev);
        double un = isfinite(slope) && slope != 0.0 ? u - g / slope : u - g;
        if (un - u > 3.0) /* at most a factor e^3 per step */
            un = u + 3.0;
        if (un - u < -3.0)
            un = u - 3.0;
        if (isfinite(u_lo) && isfinite(u_hi) && !(un > fmin(u_lo, u_hi) && un < fmax(u_lo, u_hi)))
            un = 0.5 * (u_lo + u_hi);
        u_prev = u;
        g_prev = g;
        u = un;
    }
    if (!done) {
        char why[200];
        snprintf(why, sizeof why,
                 "no dose factor brings the measurement to %.6g within %d simulations", target,
                 KS_SOLVE_MAXIT);
        return arm_miss(ctx, arm, "the dose could not be solved", why);
    }
    char note[2 * KS_DETAIL_MAX + 256];
    int len = snprintf(
        note, sizeof note,
        "solved dose: arm '%s' %s doses x %.5g = %.5g mg in all, so that [%s] = %.5g%s%s%s",
        arm->name, ks_drug_name((ks_drug)arm->solve_drug), arm->factor,
        arm_drug_mg(arm, arm->solve_drug), mdet, target, arm->solve_equals ? " [" : "",
        arm->solve_equals ? tdet : "", arm->solve_equals ? "]" : "");
    if (len < 0)
        return ks_fail(ctx, KS_ERR_INTERNAL, "formatting the solved-dose note failed");
    /* A note longer than the buffer is cut: it is a description, not data. */
    free(arm->solve_note);
    if (!(arm->solve_note = ks_strdup(ctx, note)))
        return KS_ERR_NOMEM;
    return KS_OK;
}

/* Simulates arm a, first solving its dose or taking the factor of its scale_as arm. Misses
 * (failed simulations, doses that cannot be solved) are recorded on the arm; only input,
 * internal and memory errors are returned. */
static ks_status prepare_arm(ks_ctx *ctx, const ks_params *params, ks_experiment *e, size_t a,
                             int depth)
{
    ks_arm *arm = &e->arms[a];
    if (arm->result || arm->sim_error)
        return KS_OK;
    if (arm->busy || depth > 64)
        return ks_fail(ctx, KS_ERR_INPUT,
                       "%s: arm '%s': solved doses depend on each other in a circle", e->file,
                       arm->name);
    arm->busy = 1;
    ks_status st = KS_OK;
    if (arm->scale_as >= 0) {
        ks_arm *p = &e->arms[arm->scale_as];
        if ((st = prepare_arm(ctx, params, e, (size_t)arm->scale_as, depth + 1)) != KS_OK)
            goto done;
        if (!isfinite(p->factor) || !p->result) {
            st = arm_miss(ctx, arm, "the dose of the arm it is scaled as was not solved",
                          p->sim_error ? p->sim_error : "unknown reason");
            goto done;
        }
        arm_set_factor(arm, p->solve_drug, p->factor);
        char note[256];
        snprintf(note, sizeof note,
                 "arm '%s': %s doses x %.5g = %.5g mg in all (the factor of arm '%s')", arm->name,
                 ks_drug_name((ks_drug)p->solve_drug), p->factor, arm_drug_mg(arm, p->solve_drug),
                 p->name);
        free(arm->solve_note);
        if (!(arm->solve_note = ks_strdup(ctx, note))) {
            st = KS_ERR_NOMEM;
            goto done;
        }
        simulate_arm(ctx, params, arm);
    } else if (arm->solve_measure) {
        st = solve_arm(ctx, params, e, a, depth);
    } else {
        simulate_arm(ctx, params, arm);
    }
    if (st == KS_OK && !arm->result && !arm->sim_error)
        st = KS_ERR_NOMEM; /* out of memory recording the failure */
done:
    arm->busy = 0;
    return st;
}

/* Appends "; <note>" for every solved arm the mask reads (and the arms their factors come
 * from). */
static void append_solve_notes(const ks_experiment *e, unsigned long long mask, char *detail,
                               size_t size)
{
    unsigned long long shown = 0;
    for (size_t k = 0; k < e->n_arms; k++) {
        if (!(mask & (1ull << k)))
            continue;
        size_t chain[2] = {k, e->arms[k].scale_as >= 0 ? (size_t)e->arms[k].scale_as : k};
        for (int c = 1; c >= 0; c--) {
            size_t j = chain[c];
            if ((shown & (1ull << j)) || !e->arms[j].solve_note)
                continue;
            shown |= 1ull << j;
            size_t used = strlen(detail);
            if (used + 3 < size)
                snprintf(detail + used, size - used, "; %s", e->arms[j].solve_note);
        }
    }
}

/* Measures target et of experiment e and records the outcome. Misses (KS_ERR_VALIDATION from
 * the measurement) become failed rows; other errors are returned. */
static ks_status measure_target(ks_ctx *ctx, const ks_experiment *e, const ks_exp_target *et,
                                const ks_target *t, ks_outcome *o)
{
    char detail[KS_DETAIL_MAX] = "";
    char text[96];
    ks_ctx local = {KS_OK, ""};
    ks_status st;
    if (t->kind == KS_TARGET_COMPOUND) {
        const ks_measure *m[2];
        ks_measure_pair(et->measure, &m[0], &m[1]);
        double pct[2];
        for (int k = 0; k < 2; k++) {
            ks_quantity q;
            snprintf(detail + strlen(detail), sizeof detail - strlen(detail), "%s",
                     k ? " vs " : "");
            st = ks_measure_eval(&local, m[k], e->arms, &q, detail, sizeof detail);
            if (st == KS_ERR_VALIDATION)
                return outcome_set(ctx, o, 0, NAN, "n/a", local.message, e->file);
            if (st != KS_OK)
                return ks_fail(ctx, st, "%s: target %s: %s", e->file, t->id, local.message);
            if (q.dim != KS_DIM_RATIO)
                return ks_fail(ctx, KS_ERR_INPUT,
                               "%s: target %s: each item of the pair must be a rate (a ratio), "
                               "got a %s",
                               e->file, t->id, ks_dim_name(q.dim));
            pct[k] = 100.0 * q.value;
        }
        char why[160];
        int pass = ks_target_compound_pass(t, pct, why, sizeof why);
        if (t->denominator[0] > 0)
            snprintf(text, sizeof text, "%.1f/%d vs %.1f/%d", pct[0] / 100.0 * t->denominator[0],
                     t->denominator[0], pct[1] / 100.0 * t->denominator[1], t->denominator[1]);
        else
            snprintf(text, sizeof text, "%.1f vs %.1f", pct[0], pct[1]);
        if (!pass) {
            size_t used = strlen(detail);
            snprintf(detail + used, sizeof detail - used, "; miss: %s", why);
        }
        return outcome_set(ctx, o, pass, NAN, text, detail, e->file);
    }
    ks_quantity q;
    st = ks_measure_eval(&local, et->measure, e->arms, &q, detail, sizeof detail);
    if (st == KS_ERR_VALIDATION)
        return outcome_set(ctx, o, 0, NAN, "n/a", local.message, e->file);
    if (st != KS_OK)
        return ks_fail(ctx, st, "%s: target %s: %s", e->file, t->id, local.message);
    append_solve_notes(e, ks_measure_arm_mask(et->measure), detail, sizeof detail);
    double v;
    if (ks_quantity_convert(&local, &q, t->unit, &v) != KS_OK)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: target %s: %s", e->file, t->id, local.message);
    int pass;
    if (t->kind == KS_TARGET_BOOL) {
        pass = v != 0.0;
        snprintf(text, sizeof text, "%s", pass ? "true" : "false");
    } else {
        pass = isfinite(v) && v >= t->low && v <= t->high;
        snprintf(text, sizeof text, "%.4g", v);
    }
    return outcome_set(ctx, o, pass, v, text, detail, e->file);
}

static ks_status measure_trial_targets(ks_ctx *ctx, const ks_params *params, ks_experiment *e,
                                       const char *only, const ks_target_table *table,
                                       ks_outcome *by_row)
{
    for (size_t i = 0; i < e->n_targets; i++) {
        const ks_exp_target *et = &e->targets[i];
        if (!ks_target_selected(et->id, only))
            continue;
        ks_trial_outcome to;
        ks_ctx local = {KS_OK, ""};
        if (ks_trial_exp_measure(&local, params, e->trials, i, &table->rows[et->row], 0, &to) !=
            KS_OK)
            return ks_fail(ctx, local.status, "%s: target %s: %s", e->file, et->id, local.message);
        if (outcome_set(ctx, &by_row[et->row], to.pass, to.simulated, to.text, to.detail,
                        e->file) != KS_OK)
            return KS_ERR_NOMEM;
    }
    return KS_OK;
}

static ks_status load_targets(ks_ctx *ctx, const char *dir, ks_target_table *table)
{
    if (!dir) {
        const ks_embedded_file *f = ks_embedded_find("experiments/targets.csv");
        if (!f)
            return ks_fail(ctx, KS_ERR_INTERNAL,
                           "experiments/targets.csv is not built into the library");
        return ks_targets_parse(ctx, f->text, f->len, f->name, table);
    }
    size_t n = strlen(dir) + 16;
    char *p = ks_malloc(ctx, n);
    if (!p)
        return KS_ERR_NOMEM;
    snprintf(p, n, "%s/targets.csv", dir);
    size_t len = 0;
    char *text = ks_read_file(ctx, p, "targets table", KS_EXPERIMENT_MAX_BYTES, &len);
    ks_status st = text ? ks_targets_parse(ctx, text, len, p, table) : ctx->status;
    free(text);
    free(p);
    return st;
}

/* Loads every experiment (all of them, so that a broken file is reported even when its
 * targets are not selected). */
static ks_status load_experiments(ks_ctx *ctx, const char *dir, const ks_target_table *table,
                                  ks_experiment **out, size_t *n_out)
{
    ks_pathlist files = {NULL, 0, 0};
    ks_experiment *ex = NULL;
    size_t n = 0;
    ks_status st = KS_OK;
    if (dir) {
        if ((st = list_json(ctx, dir, &files, 0)) != KS_OK)
            goto fail;
    } else {
        size_t ne;
        const ks_embedded_file *f = ks_embedded_files(&ne);
        for (size_t i = 0; i < ne; i++)
            if (strncmp(f[i].name, "experiments/", 12) == 0 && ends_with(f[i].name, ".json"))
                if ((st = pathlist_add(ctx, &files, f[i].name)) != KS_OK)
                    goto fail;
    }
    if (files.n > 1)
        qsort(files.paths, files.n, sizeof *files.paths, cmp_str);
    if (!(ex = ks_calloc(ctx, files.n ? files.n : 1, sizeof *ex))) {
        st = KS_ERR_NOMEM;
        goto fail;
    }
    for (size_t i = 0; i < files.n; i++) {
        const char *name = files.paths[i];
        char *text = NULL;
        const char *body;
        size_t len;
        char *base = NULL;
        if (dir) {
            text = ks_read_file(ctx, name, "experiment file", KS_EXPERIMENT_MAX_BYTES, &len);
            if (!text) {
                st = ctx->status;
                goto fail;
            }
            body = text;
            if (!(base = ks_strdup(ctx, name))) {
                free(text);
                st = KS_ERR_NOMEM;
                goto fail;
            }
            char *slash = strrchr(base, '/');
            if (slash)
                *slash = '\0';
        } else {
            const ks_embedded_file *f = ks_embedded_find(name);
            body = f->text;
            len = f->len;
        }
        st = experiment_parse(ctx, body, len, name, base, table, &ex[n]);
        free(text);
        free(base);
        if (st != KS_OK)
            goto fail;
        n++;
    }
    /* every target is measured by one experiment only */
    for (size_t a = 0; a < n; a++)
        for (size_t i = 0; i < ex[a].n_targets; i++)
            for (size_t b = a; b < n; b++)
                for (size_t j = (b == a ? i + 1 : 0); j < ex[b].n_targets; j++)
                    if (ex[a].targets[i].row == ex[b].targets[j].row) {
                        st = ks_fail(ctx, KS_ERR_INPUT,
                                     "%s and %s: target %s is measured by two experiments",
                                     ex[a].file, ex[b].file, ex[a].targets[i].id);
                        goto fail;
                    }
    pathlist_clear(&files);
    *out = ex;
    *n_out = n;
    return KS_OK;
fail:
    for (size_t i = 0; i < n; i++)
        experiment_clear(&ex[i]);
    free(ex);
    pathlist_clear(&files);
    return st;
}

void ks_validation_free(ks_validation *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        outcome_clear(&v->outcomes[i]);
    free(v->outcomes);
    free(v->rows);
    ks_targets_clear(&v->table);
    free(v);
}

ks_validation *ks_validate(ks_ctx *ctx, const ks_params *params, const char *experiments_dir,
                           const char *only)
{
    if (!params) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_validate: NULL parameter table");
        return NULL;
    }
    ks_validation *v = ks_calloc(ctx, 1, sizeof *v);
    ks_experiment *ex = NULL;
    size_t n_ex = 0;
    ks_outcome *by_row = NULL;
    if (!v)
        return NULL;
    if (load_targets(ctx, experiments_dir, &v->table) != KS_OK)
        goto fail;
    size_t n_sel = 0;
    for (size_t i = 0; i < v->table.n; i++)
        n_sel += (size_t)ks_target_selected(v->table.rows[i].id, only);
    if (n_sel == 0) {
        if (only && *only)
            ks_fail(ctx, KS_ERR_USAGE,
                    "--only %s: no target id is or starts with '%s' (ids are listed in "
                    "experiments/targets.csv, e.g. PK-01; a prefix such as PK selects a layer)",
                    only, only);
        else
            ks_fail(ctx, KS_ERR_INPUT, "the targets table has no rows");
        goto fail;
    }
    if (load_experiments(ctx, experiments_dir, &v->table, &ex, &n_ex) != KS_OK)
        goto fail;
    if (!(by_row = ks_calloc(ctx, v->table.n, sizeof *by_row)))
        goto fail;

    for (size_t k = 0; k < n_ex; k++) {
        ks_experiment *e = &ex[k];
        if (e->trials) {
            if (measure_trial_targets(ctx, params, e, only, &v->table, by_row) != KS_OK)
                goto fail;
            continue;
        }
        unsigned long long arms = 0;
        for (size_t i = 0; i < e->n_targets; i++)
            if (ks_target_selected(e->targets[i].id, only))
                arms |= ks_measure_arm_mask(e->targets[i].measure);
        if (prepare_arms(ctx, params, e, arms, 0) != KS_OK)
            goto fail;
        for (size_t i = 0; i < e->n_targets; i++) {
            const ks_exp_target *et = &e->targets[i];
            if (!ks_target_selected(et->id, only))
                continue;
            if (measure_target(ctx, e, et, &v->table.rows[et->row], &by_row[et->row]) != KS_OK)
                goto fail;
        }
        /* results are not needed once the experiment's targets are measured */
        for (size_t a = 0; a < e->n_arms; a++) {
            ks_result_free(e->arms[a].result);
            e->arms[a].result = NULL;
        }
    }

    if (!(v->rows = ks_calloc(ctx, n_sel, sizeof *v->rows)) ||
        !(v->outcomes = ks_calloc(ctx, n_sel, sizeof *v->outcomes)))
        goto fail;
    for (size_t i = 0; i < v->table.n; i++) {
        const ks_target *t = &v->table.rows[i];
        if (!ks_target_selected(t->id, only))
            continue;
        ks_outcome *o = &v->outcomes[v->n];
        if (by_row[i].done) {
            *o = by_row[i];
            memset(&by_row[i], 0, sizeof by_row[i]);
        } else {
            o->simulated = NAN;
            o->pass = 0;
            if (!(o->text = ks_strdup(ctx, "n/a")) ||
                !(o->detail = ks_strdup(ctx, ks_no_experiment))) {
                outcome_clear(o);
                goto fail;
            }
        }
        ks_validation_row *r = &v->rows[v->n];
        r->id = t->id;
        r->quantity = t->quantity;
        r->target = t->target;
        r->low = t->low;
        r->high = t->high;
        r->unit = t->unit;
        r->simulated = o->simulated;
        r->simulated_text = o->text;
        r->detail = o->detail;
        r->source = t->source;
        r->pass = o->pass;
        v->n_pass += (size_t)(o->pass != 0);
        v->n++;
    }
    for (size_t i = 0; i < v->table.n; i++)
        outcome_clear(&by_row[i]);
    free(by_row);
    for (size_t k = 0; k < n_ex; k++)
        experiment_clear(&ex[k]);
    free(ex);
    return v;
fail:
    if (by_row)
        for (size_t i = 0; i < v->table.n; i++)
            outcome_clear(&by_row[i]);
    free(by_row);
    for (size_t k = 0; k < n_ex; k++)
        experiment_clear(&ex[k]);
    free(ex);
    ks_validation_free(v);
    return NULL;
}

size_t ks_validation_count(const ks_validation *v)
{
    return v ? v->n : 0;
}

size_t ks_validation_pass_count(const ks_validation *v)
{
    return v ? v->n_pass : 0;
}

ks_status ks_validation_row_get(ks_ctx *ctx, const ks_validation *v, size_t i,
                                ks_validation_row *out)
{
    if (!v || !out)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_validation_row_get: NULL argument");
    if (i >= v->n)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_validation_row_get: row %zu out of range (%zu rows)",
                       i, v->n);
    *out = v->rows[i];
    return KS_OK;
}
