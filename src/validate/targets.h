/*
 * targets.h -- the table of published results (experiments/targets.csv, a copy of the project's
 * reference targets): parsing, id matching, and the pass rules for numeric, boolean and
 * compound ("52.5 vs 31.0", "1/12 vs 7/12") targets.
 */
#ifndef KS_TARGETS_H
#define KS_TARGETS_H

#include "ketasim.h"

#include <stddef.h>

/* Kinds of target rows. */
typedef enum {
    KS_TARGET_NUMBER = 0, /* passes when low <= simulated <= high */
    KS_TARGET_BOOL,       /* unit "bool": the statement must hold (simulated 1) */
    KS_TARGET_COMPOUND    /* two arms compared: "a vs b" rates or "k/n vs k/n" counts */
} ks_target_kind;

typedef struct {
    char *id, *layer, *experiment, *quantity, *target, *unit, *source, *confidence; /* owned */
    ks_target_kind kind;
    double low, high;    /* band; NaN for compound rows */
    double published[2]; /* compound: the two published rates in percent */
    int denominator[2];  /* compound counts: n of "k/n"; 0 for percentages */
} ks_target;

typedef struct {
    ks_target *rows;
    size_t n;
} ks_target_table;

/* Parses the CSV text of a targets file (header "id,layer,experiment,quantity,target,low,high,
 * unit,source,confidence"). Every id must be unique, every numeric row have low <= high, every
 * compound row an empty band. `name` is used in messages. On failure *out is left empty. */
ks_status ks_targets_parse(ks_ctx *ctx, const char *text, size_t len, const char *name,
                           ks_target_table *out);
void ks_targets_clear(ks_target_table *t);
/* Index of the row with this id, or -1. */
long ks_targets_find(const ks_target_table *t, const char *id);

/* 1 when `id` is selected by `only`: NULL or "" selects all; otherwise an exact match or a
 * prefix ("PK" selects PK-01 ... PK-16, "PK-1" selects PK-1x), or any item of a
 * comma-separated list of those ("AC-02,GL"). */
int ks_target_selected(const char *id, const char *only);

/* Parses "a vs b" (two percentages) or "k/n vs k/n" (two counts). Returns 0 and fills
 * published[] (percent) and denominator[] (0 for percentages), or -1 when `text` is not a
 * compound target. */
int ks_target_parse_compound(const char *text, double published[2], int denominator[2]);

/* The compound rule of the reference README: each simulated rate (percent) within 10
 * percentage points of its published value -- 15 for a count out of 12 or fewer -- and the
 * arms in the same order as published (no order required when the published values tie).
 * Returns 1 on pass; writes the reason of a miss (or "") into why. */
int ks_target_compound_pass(const ks_target *t, const double simulated_pct[2], char *why,
                            size_t why_size);

#endif /* KS_TARGETS_H */
