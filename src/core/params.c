/*
 * params.c -- the parameter table: named values with unit, source and confidence, read from
 * data/parameters.csv (built into the library) or from a user file of the same format.
 *
 * Format: CSV, header "name,value,unit,source,confidence,note", '#' lines are comments, blank
 * lines ignored. A file is accepted only when every name is read by some model layer, every
 * name a layer reads is present, no name repeats, every value is finite and every row has a
 * unit, a source and a known confidence tag.
 */
#include "internal.h"
#include "csvline.h"
#include "model/registry.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KS_PARAMS_MAX_BYTES (8u << 20)

typedef struct {
    char *name, *unit, *source, *confidence, *note;
    double value;
} ks_param_row;

struct ks_params {
    ks_param_row *rows;
    size_t n, cap;
    char *origin; /* file name for messages */
};

static const char *const confidence_tags[] = {
    "retrieved", "retrieved-secondary", "computed", "calibrated", "memory", "assumed",
};

static int known_confidence(const char *s)
{
    for (size_t i = 0; i < sizeof confidence_tags / sizeof confidence_tags[0]; i++)
        if (strcmp(s, confidence_tags[i]) == 0)
            return 1;
    return 0;
}

void ks_params_free(ks_params *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->rows[i].name);
        free(p->rows[i].unit);
        free(p->rows[i].source);
        free(p->rows[i].confidence);
        free(p->rows[i].note);
    }
    free(p->rows);
    free(p->origin);
    free(p);
}

static long find_row(const ks_params *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->rows[i].name, name) == 0)
            return (long)i;
    return -1;
}

typedef struct {
    const ks_params *p;
    const char *missing;
} missing_check;

static void check_present(const char *name, void *user)
{
    missing_check *mc = user;
    if (!mc->missing && find_row(mc->p, name) < 0)
        mc->missing = name;
}

/* Parses `text` (modified in place) into a new table. */
static ks_params *params_parse(ks_ctx *ctx, char *text, const char *origin)
{
    ks_params *p = ks_calloc(ctx, 1, sizeof *p);
    if (!p)
        return NULL;
    p->origin = ks_strdup(ctx, origin);
    if (!p->origin)
        goto fail;
    static const char *const header[] = {"name", "value", "unit", "source", "confidence", "note"};
    int have_header = 0;
    long lineno = 0;
    char *line = text;
    /* Skip a UTF-8 byte order mark. */
    if ((unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
        (unsigned char)line[2] == 0xBF)
        line += 3;
    while (line && *line) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *s = line;
        line = next;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '#' || *s == '\0' || (*s == '\r' && s[1] == '\0'))
            continue;
        char *f[8];
        int nf = ks_csv_split(s, f, 8);
        if (nf < 0) {
            ks_fail(ctx, KS_ERR_INPUT, "%s: line %ld: malformed CSV (%s)", origin, lineno,
                    nf == -1 ? "unbalanced quotes" : "more than 6 fields");
            goto fail;
        }
        if (!have_header) {
            if (nf != 6) {
                ks_fail(ctx, KS_ERR_INPUT,
                        "%s: line %ld: header must be name,value,unit,source,confidence,note "
                        "(got %d fields)",
                        origin, lineno, nf);
                goto fail;
            }
            for (int i = 0; i < 6; i++) {
                if (strcmp(f[i], header[i]) != 0) {
                    ks_fail(ctx, KS_ERR_INPUT,
                            "%s: line %ld, column %d: header must be '%s' (got '%s')", origin,
                            lineno, i + 1, header[i], f[i]);
                    goto fail;
                }
            }
            have_header = 1;
            continue;
        }
        if (nf != 6) {
            ks_fail(ctx, KS_ERR_INPUT, "%s: line %ld: expected 6 fields (got %d)", origin, lineno,
                    nf);
            goto fail;
        }
        if (!ks_model_param_known(f[0])) {
            ks_fail(ctx, KS_ERR_INPUT, "%s: line %ld, column name: unknown parameter (got '%s')",
                    origin, lineno, f[0]);
            goto fail;
        }
        if (find_row(p, f[0]) >= 0) {
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: line %ld, column name: parameter given twice (got '%s')", origin, lineno,
                    f[0]);
            goto fail;
        }
        char *end;
        errno = 0;
        double v = strtod(f[1], &end);
        if (end == f[1] || *end != '\0' || !isfinite(v) || errno == ERANGE) {
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: line %ld, column value: parameter %s needs a finite number (got '%s')",
                    origin, lineno, f[0], f[1]);
            goto fail;
        }
        if (f[2][0] == '\0' || f[3][0] == '\0') {
            ks_fail(ctx, KS_ERR_INPUT, "%s: line %ld, column %s: parameter %s needs a %s (got '')",
                    origin, lineno, f[2][0] ? "source" : "unit", f[0], f[2][0] ? "source" : "unit");
            goto fail;
        }
        if (!known_confidence(f[4])) {
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: line %ld, column confidence: parameter %s: expected retrieved, "
                    "retrieved-secondary, computed, calibrated, memory or assumed (got '%s')",
                    origin, lineno, f[0], f[4]);
            goto fail;
        }
        if (p->n == p->cap) {
            size_t nc = p->cap ? p->cap * 2 : 64;
            ks_param_row *nr = ks_realloc(ctx, p->rows, nc * sizeof *nr);
            if (!nr)
                goto fail;
            p->rows = nr;
            p->cap = nc;
        }
        ks_param_row *r = &p->rows[p->n];
        memset(r, 0, sizeof *r);
        p->n++;
        r->value = v;
        if (!(r->name = ks_strdup(ctx, f[0])) || !(r->unit = ks_strdup(ctx, f[2])) ||
            !(r->source = ks_strdup(ctx, f[3])) || !(r->confidence = ks_strdup(ctx, f[4])) ||
            !(r->note = ks_strdup(ctx, f[5])))
            goto fail;
    }
    if (!have_header) {
        ks_fail(ctx, KS_ERR_INPUT,
                "%s: line 1: empty parameter file (expected the header "
                "name,value,unit,source,confidence,note)",
                origin);
        goto fail;
    }
    missing_check mc = {p, NULL};
    ks_model_param_each(check_present, &mc);
    if (mc.missing) {
        ks_fail(ctx, KS_ERR_INPUT,
                "%s: parameter %s is missing (every model parameter must be given)", origin,
                mc.missing);
        goto fail;
    }
    return p;
fail:
    ks_params_free(p);
    return NULL;
}

ks_params *ks_params_create_default(ks_ctx *ctx)
{
    const ks_embedded_file *f = ks_embedded_find("data/parameters.csv");
    if (!f) {
        ks_fail(ctx, KS_ERR_INTERNAL, "data/parameters.csv was not built into the library");
        return NULL;
    }
    char *copy = ks_malloc(ctx, f->len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, f->text, f->len);
    copy[f->len] = '\0';
    ks_params *p = params_parse(ctx, copy, "data/parameters.csv");
    free(copy);
    return p;
}

ks_params *ks_params_load(ks_ctx *ctx, const char *path)
{
    if (!path) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_params_load: path is NULL");
        return NULL;
    }
    char *text = ks_read_file(ctx, path, "parameter file", KS_PARAMS_MAX_BYTES, NULL);
    if (!text)
        return NULL;
    ks_params *p = params_parse(ctx, text, path);
    free(text);
    return p;
}

size_t ks_params_count(const ks_params *p)
{
    return p ? p->n : 0;
}

ks_status ks_params_get_info(ks_ctx *ctx, const ks_params *p, size_t i, ks_param_info *out)
{
    if (!p || !out || i >= p->n)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_params_get_info: index %zu out of range", i);
    const ks_param_row *r = &p->rows[i];
    out->name = r->name;
    out->value = r->value;
    out->unit = r->unit;
    out->source = r->source;
    out->confidence = r->confidence;
    out->note = r->note;
    return KS_OK;
}

ks_status ks_params_get(ks_ctx *ctx, const ks_params *p, const char *name, double *value)
{
    if (!p || !name || !value)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_params_get: NULL argument");
    long i = find_row(p, name);
    if (i < 0)
        return ks_fail(ctx, KS_ERR_INPUT, "%s: parameter %s is missing", p->origin, name);
    *value = p->rows[i].value;
    return KS_OK;
}

ks_status ks_params_set(ks_ctx *ctx, ks_params *p, const char *name, double value)
{
    if (!p || !name)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_params_set: NULL argument");
    long i = find_row(p, name);
    if (i < 0)
        return ks_fail(ctx, KS_ERR_INPUT, "parameter %s: unknown parameter", name);
    if (!isfinite(value))
        return ks_fail(ctx, KS_ERR_INPUT, "parameter %s: value must be finite (got %g)", name,
                       value);
    p->rows[i].value = value;
    return KS_OK;
}
