/*
 * targets.c -- reading the published-results table and the pass rules of its rows (rules from
 * the reference README: numeric band, bool statement, compound two-arm comparison).
 */
#include "targets.h"

#include "../core/csvline.h"
#include "../core/internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KS_TARGET_COLS 10

static const char *const ks_target_header[KS_TARGET_COLS] = {
    "id",  "layer", "experiment", "quantity", "target",
    "low", "high",  "unit",       "source",   "confidence"};

/* Percentage-point margins of the compound rule (reference README). */
#define KS_COMPOUND_PP_RATE        10.0
#define KS_COMPOUND_PP_SMALL_COUNT 15.0
#define KS_COMPOUND_SMALL_N        12

void ks_targets_clear(ks_target_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        ks_target *r = &t->rows[i];
        free(r->id);
        free(r->layer);
        free(r->experiment);
        free(r->quantity);
        free(r->target);
        free(r->unit);
        free(r->source);
        free(r->confidence);
    }
    free(t->rows);
    t->rows = NULL;
    t->n = 0;
}

long ks_targets_find(const ks_target_table *t, const char *id)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->rows[i].id, id) == 0)
            return (long)i;
    return -1;
}

int ks_target_selected(const char *id, const char *only)
{
    if (!only || !*only)
        return 1;
    /* a comma-separated list selects the union of its items */
    for (const char *p = only;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len > 0 && strncmp(id, p, len) == 0)
            return 1;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* Parses a whole string as a finite double; 0 on success. */
static int parse_double(const char *s, double *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end))
        end++;
    if (*end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* One side of a compound target: "52.5" (percent) or "7/12" (count). */
static int parse_compound_side(const char *s, double *pct, int *denom)
{
    char buf[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        double k, d;
        if (parse_double(buf, &k) || parse_double(slash + 1, &d))
            return -1;
        if (d < 1.0 || d > 1e9 || floor(d) != d || k < 0.0 || k > d || floor(k) != k)
            return -1;
        *pct = 100.0 * k / d;
        *denom = (int)d;
        return 0;
    }
    if (parse_double(buf, pct) || *pct < 0.0 || *pct > 100.0)
        return -1;
    *denom = 0;
    return 0;
}

int ks_target_parse_compound(const char *text, double published[2], int denominator[2])
{
    const char *vs = strstr(text, " vs ");
    if (!vs || strstr(vs + 4, " vs "))
        return -1;
    char left[64];
    size_t nl = (size_t)(vs - text);
    if (nl >= sizeof left)
        return -1;
    memcpy(left, text, nl);
    left[nl] = '\0';
    if (parse_compound_side(left, &published[0], &denominator[0]) ||
        parse_compound_side(vs + 4, &published[1], &denominator[1]))
        return -1;
    /* both sides must be of the same kind: two rates or two counts */
    if ((denominator[0] == 0) != (denominator[1] == 0))
        return -1;
    return 0;
}

int ks_target_compound_pass(const ks_target *t, const double simulated_pct[2], char *why,
                            size_t why_size)
{
    why[0] = '\0';
    for (int i = 0; i < 2; i++) {
        double margin = (t->denominator[i] > 0 && t->denominator[i] <= KS_COMPOUND_SMALL_N)
                            ? KS_COMPOUND_PP_SMALL_COUNT
                            : KS_COMPOUND_PP_RATE;
        if (!isfinite(simulated_pct[i])) {
            snprintf(why, why_size, "arm %d: no simulated value", i + 1);
            return 0;
        }
        if (fabs(simulated_pct[i] - t->published[i]) > margin) {
            snprintf(why, why_size, "arm %d: %.1f%% is more than %.0f points from %.1f%%", i + 1,
                     simulated_pct[i], margin, t->published[i]);
            return 0;
        }
    }
    double dp = t->published[0] - t->published[1], ds = simulated_pct[0] - simulated_pct[1];
    if (dp != 0.0 && !(dp * ds > 0.0)) {
        snprintf(why, why_size, "arms in the wrong order (%.1f%% vs %.1f%%)", simulated_pct[0],
                 simulated_pct[1]);
        return 0;
    }
    return 1;
}

/* Fills one row from its CSV fields; reports errors as "<name>: line L, column C: ...". */
static ks_status target_from_fields(ks_ctx *ctx, char **f, const char *name, size_t line,
                                    ks_target *r)
{
    char **dst[8] = {&r->id,     &r->layer, &r->experiment, &r->quantity,
                     &r->target, &r->unit,  &r->source,     &r->confidence};
    const int col[8] = {0, 1, 2, 3, 4, 7, 8, 9};
    for (int i = 0; i < 8; i++)
        if (!(*dst[i] = ks_strdup(ctx, f[col[i]])))
            return KS_ERR_NOMEM;
    if (!r->id[0])
        return ks_fail(ctx, KS_ERR_INPUT, "%s: line %zu, column id: empty id", name, line);
    if (!r->unit[0])
        return ks_fail(ctx, KS_ERR_INPUT, "%s: line %zu, column unit: empty unit (id %s)", name,
                       line, r->id);
    int has_low = f[5][0] != '\0', has_high = f[6][0] != '\0';
    r->low = r->high = NAN;
    if (has_low != has_high)
        return ks_fail(ctx, KS_ERR_INPUT,
                       "%s: line %zu, columns low/high: give both bounds or neither (id %s)", name,
                       line, r->id);
    if (!has_low) {
        if (ks_target_parse_compound(r->target, r->published, r->denominator) != 0)
            return ks_fail(ctx, KS_ERR_INPUT,
                           "%s: line %zu, column target: a row without a band must compare two "
                           "arms as 'a vs b' or 'k/n vs k/n' (id %s, got '%s')",
                           name, line, r->id, r->target);
        r->kind = KS_TARGET_COMPOUND;
        return KS_OK;
    }
    if (parse_double(f[5], &r->low))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: line %zu, column low: not a number (got '%s')", name,
                       line, f[5]);
    if (parse_double(f[6], &r->high))
        return ks_fail(ctx, KS_ERR_INPUT, "%s: line %zu, column high: not a number (got '%s')",
                       name, line, f[6]);
    if (r->low > r->high)
        return ks_fail(ctx, KS_ERR_INPUT,
                       "%s: line %zu, columns low/high: low above high (id %s, got %g > %g)", name,
                       line, r->id, r->low, r->high);
    r->kind = strcmp(r->unit, "bool") == 0 ? KS_TARGET_BOOL : KS_TARGET_NUMBER;
    return KS_OK;
}

ks_status ks_targets_parse(ks_ctx *ctx, const char *text, size_t len, const char *name,
                           ks_target_table *out)
{
    out->rows = NULL;
    out->n = 0;
    ks_target_table t = {NULL, 0};
    size_t cap = 0, line = 0, pos = 0;
    char *buf = NULL;
    int header_seen = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        size_t n = end - pos;
        line++;
        char *nb = ks_realloc(ctx, buf, n + 1);
        if (!nb)
            goto fail;
        buf = nb;
        memcpy(buf, text + pos, n);
        buf[n] = '\0';
        pos = end + 1;
        if (n > 0 && buf[n - 1] == '\r')
            buf[--n] = '\0';
        if (n == 0 || buf[0] == '#')
            continue;
        char *f[KS_TARGET_COLS + 1];
        int nf = ks_csv_split(buf, f, KS_TARGET_COLS + 1);
        if (nf < 0) {
            ks_fail(ctx, KS_ERR_INPUT, "%s: line %zu: malformed CSV (unbalanced quotes)", name,
                    line);
            goto fail;
        }
        if (nf != KS_TARGET_COLS) {
            ks_fail(ctx, KS_ERR_INPUT, "%s: line %zu: expected %d columns (got %d)", name, line,
                    KS_TARGET_COLS, nf);
            goto fail;
        }
        if (!header_seen) {
            for (int i = 0; i < KS_TARGET_COLS; i++)
                if (strcmp(f[i], ks_target_header[i]) != 0) {
                    ks_fail(ctx, KS_ERR_INPUT,
                            "%s: line %zu, column %d: expected header '%s' (got '%s')", name, line,
                            i + 1, ks_target_header[i], f[i]);
                    goto fail;
                }
            header_seen = 1;
            continue;
        }
        if (t.n == cap) {
            size_t nc = cap ? 2 * cap : 64;
            ks_target *nr = ks_realloc(ctx, t.rows, nc * sizeof *nr);
            if (!nr)
                goto fail;
            t.rows = nr;
            cap = nc;
        }
        ks_target *r = &t.rows[t.n++];
        memset(r, 0, sizeof *r);
        if (target_from_fields(ctx, f, name, line, r) != KS_OK)
            goto fail;
        for (size_t i = 0; i + 1 < t.n; i++)
            if (strcmp(t.rows[i].id, r->id) == 0) {
                ks_fail(ctx, KS_ERR_INPUT, "%s: line %zu, column id: duplicate id %s", name, line,
                        r->id);
                goto fail;
            }
    }
    if (!header_seen) {
        ks_fail(ctx, KS_ERR_INPUT, "%s: line 1: missing header", name);
        goto fail;
    }
    free(buf);
    *out = t;
    return KS_OK;
fail:
    free(buf);
    ks_targets_clear(&t);
    return ctx ? ctx->status : KS_ERR_INPUT;
}
