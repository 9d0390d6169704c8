/*
 * nonmem.c -- NONMEM-style dosing and observation records (docs/SCENARIO.md, "NONMEM
 * records"): CSV with ID, TIME, EVID, AMT, CMT and optional RATE, II, ADDL, SS, D and
 * covariate columns, read into subjects with dose events and output times.
 */
#include "core/csvline.h"
#include "core/internal.h"
#include "dose/schedule.h"
#include "nonmem.h"
#include "scenario_build.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_COLUMNS  256

/* Known columns. */
enum {
    COL_ID,
    COL_TIME,
    COL_EVID,
    COL_AMT,
    COL_CMT,
    COL_RATE,
    COL_II,
    COL_ADDL,
    COL_SS,
    COL_D,
    COL_WT,
    COL_AGE,
    COL_SEX,
    COL_CYP2B6,
    COL_BDNF,
    COL_ASIAN,
    COL_C,
    COL_COUNT
};

static const char *const col_names[COL_COUNT] = {"ID",  "TIME",   "EVID", "AMT",   "CMT", "RATE",
                                                 "II",  "ADDL",   "SS",   "D",     "WT",  "AGE",
                                                 "SEX", "CYP2B6", "BDNF", "ASIAN", "C"};

static const int required_cols[] = {COL_ID, COL_TIME, COL_EVID, COL_AMT, COL_CMT};

/* Columns read and ignored (NONMEM data items without meaning for a simulation). Any
 * column whose name starts with "X_" is ignored too. */
static const char *const ignored_cols[] = {"DV", "MDV", "BLQ", "LLOQ", "OCC", "TAD", "NAME"};

/* CMT numbers: tens digit = drug (ks_drug order), units digit = route code. */
enum { RC_IV = 1, RC_ORAL = 2, RC_NASAL = 3, RC_IM = 4, RC_SUBLINGUAL = 5 };

/* Drug and route of a dosing compartment; 0 on success, -1 when the number is not in the
 * table (docs/SCENARIO.md, "Compartments"). IV compartments give iv_bolus here; a RATE turns
 * the dose into an iv_infusion. */
static int cmt_lookup(long cmt, ks_drug *drug, ks_route *route)
{
    if (cmt < 1 || cmt >= 10L * (long)KS_DRUG_COUNT)
        return -1;
    long d = cmt / 10, rc = cmt % 10;
    ks_route r;
    switch (rc) {
    case RC_IV:
        r = KS_ROUTE_IV_BOLUS;
        break;
    case RC_ORAL:
        r = KS_ROUTE_ORAL;
        break;
    case RC_NASAL:
        r = KS_ROUTE_INTRANASAL;
        break;
    case RC_IM:
        r = KS_ROUTE_IM;
        break;
    case RC_SUBLINGUAL:
        r = KS_ROUTE_SUBLINGUAL;
        break;
    default:
        return -1;
    }
    if (!ks_drug_route_supported((ks_drug)d, r))
        return -1;
    *drug = (ks_drug)d;
    *route = r;
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Messages and cells
 * ------------------------------------------------------------------------------------- */

typedef struct {
    ks_ctx *ctx;
    const char *file;
    size_t line;
} nctx;

/* Strict decimal number: [sign] digits [. digits] [e [sign] digits]. */
static int looks_numeric(const char *s)
{
    const char *p = s;
    int digits = 0;
    if (*p == '+' || *p == '-')
        p++;
    while (isdigit((unsigned char)*p)) {
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            digits++;
        }
    }
    if (!digits)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

/* The cell as it appears in messages: numbers as written, other text quoted. */
static void show_cell(char *buf, size_t size, const char *cell)
{
    if (!cell) {
        snprintf(buf, size, "no value");
        return;
    }
    if (looks_numeric(cell) && strlen(cell) < 40) {
        snprintf(buf, size, "%s", cell);
        return;
    }
    size_t o = 0;
    buf[o++] = '"';
    for (const char *p = cell; *p && o + 8 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (p - cell >= 40) {
            o += (size_t)snprintf(buf + o, size - o, "...");
            break;
        }
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

/* "<file>: line L, column NAME: <message> (got <cell>)". */
static ks_status cfail(nctx *n, const char *col, const char *cell, const char *fmt, ...)
    KS_PRINTF(4, 5);
static ks_status cfail(nctx *n, const char *col, const char *cell, const char *fmt, ...)
{
    char msg[512], got[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    show_cell(got, sizeof got, cell);
    if (col)
        return ks_fail(n->ctx, KS_ERR_INPUT, "%s: line %zu, column %s: %s (got %s)", n->file,
                       n->line, col, msg, got);
    return ks_fail(n->ctx, KS_ERR_INPUT, "%s: line %zu: %s (got %s)", n->file, n->line, msg, got);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int is_missing(const char *cell)
{
    return !cell || cell[0] == '\0' || strcmp(cell, ".") == 0;
}

/* Reads a numeric cell: 1 value, 0 missing ("" or "."), -1 error recorded. */
static int cell_number(nctx *n, int col, const char *cell, double *out)
{
    if (is_missing(cell))
        return 0;
    if (!looks_numeric(cell)) {
        cfail(n, col_names[col], cell, "expected a number");
        return -1;
    }
    double x = strtod(cell, NULL);
    if (!isfinite(x)) {
        cfail(n, col_names[col], cell, "number out of range");
        return -1;
    }
    *out = x;
    return 1;
}

/* A whole number cell in [lo, hi]: 1, 0 missing, -1 error. */
static int cell_whole(nctx *n, int col, const char *cell, double lo, double hi, long *out)
{
    double x = 0.0;
    int r = cell_number(n, col, cell, &x);
    if (r <= 0)
        return r;
    if (x != floor(x) || x < lo || x > hi) {
        cfail(n, col_names[col], cell, "expected a whole number from %.0f to %.0f", lo, hi);
        return -1;
    }
    *out = (long)x;
    return 1;
}

/* ---------------------------------------------------------------------------------------
 * Subjects under construction
 * ------------------------------------------------------------------------------------- */

typedef struct {
    ks_nm_subject s;
    size_t cap_doses, cap_times;
    size_t first_line, last_line;
    double last_row_time;
    size_t last_row_line;
    unsigned cov_set; /* bit c: covariate column c fixed by the first row that had it */
    double cov_value[COL_COUNT];
} builder;

static ks_status push_dose(ks_ctx *ctx, builder *b, const ks_dose *d)
{
    if (b->s.n_doses == b->cap_doses) {
        size_t cap = b->cap_doses ? 2 * b->cap_doses : 16;
        ks_dose *g = ks_realloc(ctx, b->s.doses, cap * sizeof *g);
        if (!g)
            return KS_ERR_NOMEM;
        b->s.doses = g;
        b->cap_doses = cap;
    }
    b->s.doses[b->s.n_doses++] = *d;
    return KS_OK;
}

static ks_status push_time(ks_ctx *ctx, builder *b, double t)
{
    if (b->s.n_record_times == b->cap_times) {
        size_t cap = b->cap_times ? 2 * b->cap_times : 16;
        double *g = ks_realloc(ctx, b->s.record_times, cap * sizeof *g);
        if (!g)
            return KS_ERR_NOMEM;
        b->s.record_times = g;
        b->cap_times = cap;
    }
    b->s.record_times[b->s.n_record_times++] = t;
    return KS_OK;
}

static void subject_free(ks_nm_subject *s)
{
    free(s->doses);
    free(s->record_times);
    s->doses = NULL;
    s->record_times = NULL;
}

void ks_nm_data_free(ks_nm_data *data)
{
    if (!data)
        return;
    for (size_t i = 0; i < data->n_subjects; i++)
        subject_free(&data->subjects[i]);
    free(data->subjects);
    data->subjects = NULL;
    data->n_subjects = 0;
}

/* Covariate columns: the value range and how it sets the patient. */
static int apply_covariate(nctx *n, int col, const char *cell, double x, ks_patient *p)
{
    switch (col) {
    case COL_WT:
        if (!(x >= KS_MIN_WEIGHT_KG && x <= KS_MAX_WEIGHT_KG))
            return cfail(n, "WT", cell, "body weight must be from %g to %g kg", KS_MIN_WEIGHT_KG,
                         KS_MAX_WEIGHT_KG),
                   -1;
        p->weight_kg = x;
        return 0;
    case COL_AGE:
        if (!(x >= KS_MIN_AGE_Y && x <= KS_MAX_AGE_Y))
            return cfail(n, "AGE", cell, "age must be from %g to %g years", KS_MIN_AGE_Y,
                         KS_MAX_AGE_Y),
                   -1;
        p->age_y = x;
        return 0;
    case COL_SEX:
        if (x != 0.0 && x != 1.0)
            return cfail(n, "SEX", cell, "expected 0 (male) or 1 (female)"), -1;
        p->sex = x == 1.0 ? KS_SEX_FEMALE : KS_SEX_MALE;
        return 0;
    case COL_CYP2B6:
        if (x != 0.0 && x != 1.0 && x != 2.0)
            return cfail(n, "CYP2B6", cell,
                         "expected the number of CYP2B6*6 alleles: 0 (*1/*1), 1 (*1/*6) or 2 "
                         "(*6/*6)"),
                   -1;
        p->cyp2b6 = (ks_cyp2b6)(int)x;
        return 0;
    case COL_BDNF:
        if (x != 0.0 && x != 1.0 && x != 2.0)
            return cfail(n, "BDNF", cell,
                         "expected the number of BDNF Met66 alleles: 0 (Val/Val), 1 (Val/Met) or "
                         "2 (Met/Met)"),
                   -1;
        p->bdnf = (ks_bdnf)(int)x;
        return 0;
    case COL_ASIAN:
        if (x != 0.0 && x != 1.0)
            return cfail(n, "ASIAN", cell, "expected 0 or 1 (East Asian ancestry)"), -1;
        p->east_asian = (int)x;
        return 0;
    default:
        return 0;
    }
}

/* Closes a subject: sorts its events, numbers intranasal devices, sorts record times. */
static void builder_finish(builder *b)
{
    ks_doses_sort(b->s.doses, b->s.n_doses);
    ks_schedule_number_devices(b->s.doses, b->s.n_doses, KS_NONMEM_SESSION_GAP_H);
    b->s.n_record_times = ks_times_sort_unique(b->s.record_times, b->s.n_record_times);
}

/* ---------------------------------------------------------------------------------------
 * The reader
 * ------------------------------------------------------------------------------------- */

typedef struct {
    long id;
    size_t first_line, last_line;
} id_span;

static int cmp_id_span(const void *a, const void *b)
{
    const id_span *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->first_line > y->first_line) - (x->first_line < y->first_line);
}

/* Grows the subject and span arrays together. */
static ks_status grow_subjects(ks_ctx *ctx, ks_nm_data *data, id_span **spans, size_t *cap)
{
    size_t nc = *cap ? 2 * *cap : 8;
    ks_nm_subject *g = ks_realloc(ctx, data->subjects, nc * sizeof *g);
    if (!g)
        return KS_ERR_NOMEM;
    data->subjects = g;
    id_span *h = ks_realloc(ctx, *spans, nc * sizeof *h);
    if (!h)
        return KS_ERR_NOMEM;
    *spans = h;
    *cap = nc;
    return KS_OK;
}

static int upper_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
            return 0;
    return *a == *b;
}

ks_status ks_nonmem_read(ks_ctx *ctx, const char *text, size_t len, const char *name,
                         const ks_patient *defaults, ks_nm_data *out)
{
    nctx nc = {ctx, name ? name : "<memory>", 0}, *n = &nc;
    char *buf = NULL;
    char **fields = NULL;
    builder cur;
    int have_cur = 0;
    ks_nm_data data = {NULL, 0};
    id_span *spans = NULL;
    size_t cap_subjects = 0;
    int col_of[COL_COUNT]; /* field index of each known column, -1 absent */
    int n_cols = 0, have_header = 0;
    size_t n_rows = 0;
    double total_events = 0.0;
    ks_patient base;
    ks_status st = KS_OK;

    if (!out || (!text && len))
        return ks_fail(ctx, KS_ERR_USAGE, "ks_nonmem_read: NULL argument");
    memset(out, 0, sizeof *out);
    memset(&cur, 0, sizeof cur);
    if (defaults) {
        base = *defaults;
    } else {
        ks_patient_init(&base);
    }
    for (int c = 0; c < COL_COUNT; c++)
        col_of[c] = -1;

    buf = ks_malloc(ctx, len + 1);
    fields = ks_calloc(ctx, MAX_COLUMNS + 1, sizeof *fields);
    if (!buf || !fields)
        goto fail;
    if (len)
        memcpy(buf, text, len);
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        size_t off = (size_t)((char *)memchr(buf, '\0', len) - buf), line = 1;
        for (size_t i = 0; i < off; i++)
            line += buf[i] == '\n';
        n->line = line;
        st = cfail(n, NULL, NULL, "NUL byte in a text file");
        goto fail;
    }
    char *p = buf;
    /* UTF-8 byte order mark (spreadsheet exports): skipped. */
    if (len >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
        (unsigned char)p[2] == 0xBF)
        p += 3;

    while (p && *p) {
        char *line = p;
        char *nl = strchr(p, '\n');
        if (nl) {
            *nl = '\0';
            p = nl + 1;
        } else {
            p = NULL;
        }
        n->line++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        const char *q = line;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '\0' || *q == '#')
            continue; /* blank line or comment */

        if (!have_header) {
            int nf = ks_csv_split(line, fields, MAX_COLUMNS);
            if (nf == -1) {
                st = cfail(n, NULL, line, "unterminated quote in the header");
                goto fail;
            }
            if (nf == -2) {
                st = cfail(n, NULL, NULL, "more than %d columns in the header", MAX_COLUMNS);
                goto fail;
            }
            for (int f = 0; f < nf; f++) {
                char *h = trim(fields[f]);
                int known = -1;
                for (int c = 0; c < COL_COUNT; c++)
                    if (upper_eq(h, col_names[c]))
                        known = c;
                if (known >= 0) {
                    if (col_of[known] >= 0) {
                        st = cfail(n, col_names[known], h, "column appears twice in the header");
                        goto fail;
                    }
                    col_of[known] = f;
                    continue;
                }
                int ignored = (toupper((unsigned char)h[0]) == 'X' && h[1] == '_');
                for (size_t k = 0; k < ARRAY_LEN(ignored_cols); k++)
                    ignored |= upper_eq(h, ignored_cols[k]);
                if (!ignored) {
                    char colname[48];
                    snprintf(colname, sizeof colname, "%s", h[0] ? h : "(empty)");
                    st = cfail(n, colname, h,
                               "unknown column; known columns are ID, TIME, EVID, AMT, CMT, "
                               "RATE, II, ADDL, SS, D, WT, AGE, SEX, CYP2B6, BDNF, ASIAN; ignored "
                               "are DV, MDV, C, BLQ, LLOQ, OCC, TAD, NAME and any X_ column");
                    goto fail;
                }
            }
            for (size_t k = 0; k < ARRAY_LEN(required_cols); k++) {
                int c = required_cols[k];
                if (col_of[c] < 0) {
                    st = ks_fail(ctx, KS_ERR_INPUT,
                                 "%s: line %zu, column %s: required column missing; the header "
                                 "needs ID, TIME, EVID, AMT and CMT (got %d columns without %s)",
                                 n->file, n->line, col_names[c], nf, col_names[c]);
                    goto fail;
                }
            }
            n_cols = nf;
            have_header = 1;
            continue;
        }

        /* A data row. */
        int nf = ks_csv_split(line, fields, n_cols);
        if (nf == -1) {
            st = cfail(n, NULL, line, "unterminated quote or text after a closing quote");
            goto fail;
        }
        if (nf != n_cols) {
            char got[32];
            if (nf == -2)
                snprintf(got, sizeof got, "more than %d", n_cols);
            else
                snprintf(got, sizeof got, "%d", nf);
            st = ks_fail(ctx, KS_ERR_INPUT,
                         "%s: line %zu: wrong number of fields: the header has %d columns (got "
                         "%s)",
                         n->file, n->line, n_cols, got);
            goto fail;
        }
        for (int f = 0; f < nf; f++)
            fields[f] = trim(fields[f]);
        const char *cell[COL_COUNT];
        for (int c = 0; c < COL_COUNT; c++)
            cell[c] = col_of[c] >= 0 ? fields[col_of[c]] : NULL;
        /* NONMEM IGNORE=C: a row whose C item is set is commented out. */
        if (cell[COL_C] && !is_missing(cell[COL_C]) && strcmp(cell[COL_C], "0") != 0)
            continue;
        n_rows++;

        /* ID: a new subject when it changes. */
        long id = 0;
        int r = cell_whole(n, COL_ID, cell[COL_ID], 0.0, 1e15, &id);
        if (r < 0)
            goto fail_status;
        if (r == 0) {
            st = cfail(n, "ID", cell[COL_ID], "missing subject ID");
            goto fail;
        }
        if (!have_cur || id != cur.s.patient.id) {
            if (have_cur) {
                builder_finish(&cur);
                if (data.n_subjects == cap_subjects &&
                    grow_subjects(ctx, &data, &spans, &cap_subjects) != KS_OK)
                    goto fail_status;
                spans[data.n_subjects].id = cur.s.patient.id;
                spans[data.n_subjects].first_line = cur.first_line;
                spans[data.n_subjects].last_line = cur.last_line;
                data.subjects[data.n_subjects++] = cur.s;
            }
            memset(&cur, 0, sizeof cur);
            cur.s.patient = base;
            cur.s.patient.id = id;
            cur.first_line = n->line;
            cur.last_row_time = 0.0;
            have_cur = 1;
        }
        cur.last_line = n->line;

        /* TIME: >= 0 and never backwards within an ID. */
        double t = 0.0;
        r = cell_number(n, COL_TIME, cell[COL_TIME], &t);
        if (r < 0)
            goto fail_status;
        if (r == 0) {
            st = cfail(n, "TIME", cell[COL_TIME], "missing time (h)");
            goto fail;
        }
        if (t < 0.0 || t > KS_MAX_SPAN_H) {
            st = cfail(n, "TIME", cell[COL_TIME], "time must be from 0 to %g h (5 years)",
                       KS_MAX_SPAN_H);
            goto fail;
        }
        if (cur.last_row_line && t < cur.last_row_time) {
            char prev[32];
            st = cfail(n, "TIME", cell[COL_TIME],
                       "time goes backwards within ID %ld: line %zu has TIME %s", id,
                       cur.last_row_line, ks_fmt_double(prev, sizeof prev, cur.last_row_time));
            goto fail;
        }
        cur.last_row_time = t;
        cur.last_row_line = n->line;
        if (t > cur.s.last_time_h)
            cur.s.last_time_h = t;

        /* EVID. */
        long evid = 0;
        r = cell_whole(n, COL_EVID, cell[COL_EVID], -1e15, 1e15, &evid);
        if (r < 0)
            goto fail_status;
        if (r == 0 || evid < 0 || evid > 4) {
            st = cfail(n, "EVID", cell[COL_EVID],
                       "expected EVID 0 (observation), 1 (dose), 2 (other), 3 (reset) or 4 "
                       "(reset and dose)");
            goto fail;
        }

        /* Covariates: fixed by the first row of the ID that gives them. */
        static const int cov_cols[] = {COL_WT, COL_AGE, COL_SEX, COL_CYP2B6, COL_BDNF, COL_ASIAN};
        for (size_t k = 0; k < ARRAY_LEN(cov_cols); k++) {
            int c = cov_cols[k];
            double x = 0.0;
            r = cell_number(n, c, cell[c], &x);
            if (r < 0)
                goto fail_status;
            if (r == 0)
                continue;
            if (cur.cov_set & (1u << c)) {
                if (x != cur.cov_value[c]) {
                    char first[32];
                    st = cfail(n, col_names[c], cell[c],
                               "covariates must be constant within an ID; ID %ld has %s from "
                               "its first row",
                               id, ks_fmt_double(first, sizeof first, cur.cov_value[c]));
                    goto fail;
                }
                continue;
            }
            if (apply_covariate(n, c, cell[c], x, &cur.s.patient) < 0)
                goto fail_status;
            cur.cov_set |= 1u << c;
            cur.cov_value[c] = x;
        }

        /* The numeric dosing items: validated on every row. */
        double amt = 0.0, rate = 0.0, ii = 0.0, dcol = 0.0;
        long cmt = 0, addl = 0, ss = 0;
        int has_amt, has_cmt, has_rate, has_ii, has_addl, has_ss, has_d;
        if ((has_amt = cell_number(n, COL_AMT, cell[COL_AMT], &amt)) < 0 ||
            (has_cmt = cell_whole(n, COL_CMT, cell[COL_CMT], -1e15, 1e15, &cmt)) < 0 ||
            (has_rate = cell_number(n, COL_RATE, cell[COL_RATE], &rate)) < 0 ||
            (has_ii = cell_number(n, COL_II, cell[COL_II], &ii)) < 0 ||
            (has_addl = cell_whole(n, COL_ADDL, cell[COL_ADDL], -1e15, 1e15, &addl)) < 0 ||
            (has_ss = cell_whole(n, COL_SS, cell[COL_SS], -1e15, 1e15, &ss)) < 0 ||
            (has_d = cell_number(n, COL_D, cell[COL_D], &dcol)) < 0)
            goto fail_status;

        if (evid == 0 || evid == 2) {
            if (evid == 0)
                cur.s.has_observations = 1;
            if (push_time(ctx, &cur, t) != KS_OK)
                goto fail_status;
            continue;
        }
        if (evid == 3) {
            if (has_amt && amt != 0.0) {
                st = cfail(n, "AMT", cell[COL_AMT],
                           "EVID 3 (reset) carries no dose; use EVID 4 to reset and dose");
                goto fail;
            }
            ks_dose d;
            memset(&d, 0, sizeof d);
            d.t_h = t;
            d.drug = KS_DRUG_KETAMINE;
            d.route = KS_ROUTE_IV_BOLUS;
            d.reset = 1;
            total_events += 1.0;
            if (push_dose(ctx, &cur, &d) != KS_OK)
                goto fail_status;
            continue;
        }

        /* EVID 1 or 4: a dose. */
        if (!has_amt) {
            st =
                cfail(n, "AMT", cell[COL_AMT], "a dose row (EVID %ld) needs an amount in mg", evid);
            goto fail;
        }
        if (!(amt > 0.0) || amt > KS_MAX_DOSE_MG) {
            st = cfail(n, "AMT", cell[COL_AMT], "dose amount must be > 0 and <= %g mg",
                       KS_MAX_DOSE_MG);
            goto fail;
        }
        ks_dose d;
        memset(&d, 0, sizeof d);
        d.t_h = t;
        d.amount_mg = amt;
        d.reset = evid == 4;
        if (!has_cmt || cmt_lookup(cmt, &d.drug, &d.route) != 0) {
            char drugs[256] = "";
            size_t o = 0;
            for (int di = 0; di < (int)KS_DRUG_COUNT && o < sizeof drugs; di++)
                o += (size_t)snprintf(drugs + o, sizeof drugs - o, "%s%d %s", di ? ", " : "", di,
                                      ks_drug_name((ks_drug)di));
            st = cfail(n, "CMT", cell[COL_CMT],
                       "not a dosing compartment; CMT = 10 x drug + route: drugs %s; routes 1 "
                       "IV, 2 oral, 3 intranasal, 4 IM, 5 sublingual, as supported by the drug",
                       drugs);
            goto fail;
        }
        int iv = d.route == KS_ROUTE_IV_BOLUS;
        if (has_rate && rate != 0.0) {
            if (!iv) {
                st = cfail(n, "RATE", cell[COL_RATE],
                           "RATE applies only to IV compartments (CMT %ld is %s %s)", cmt,
                           ks_drug_name(d.drug), ks_route_name(d.route));
                goto fail;
            }
            if (rate > 0.0) {
                d.duration_h = amt / rate;
            } else if (rate == -2.0) {
                if (!has_d || !(dcol > 0.0)) {
                    st = cfail(n, "D", cell[COL_D],
                               "RATE -2 (modelled duration) needs the infusion duration in h in "
                               "column D, > 0");
                    goto fail;
                }
                d.duration_h = dcol;
            } else if (rate == -1.0) {
                st = cfail(n, "RATE", cell[COL_RATE],
                           "RATE -1 (modelled rate) is not supported; give the rate in mg/h or "
                           "RATE -2 with a duration in column D");
                goto fail;
            } else {
                st = cfail(n, "RATE", cell[COL_RATE],
                           "expected a rate in mg/h (> 0), 0 for a bolus, or -2 with column D");
                goto fail;
            }
            if (!(d.duration_h <= KS_MAX_INFUSION_H)) {
                st = cfail(n, "RATE", cell[COL_RATE],
                           "gives an infusion of %g h, above the limit of %g h", d.duration_h,
                           KS_MAX_INFUSION_H);
                goto fail;
            }
            d.route = KS_ROUTE_IV_INFUSION;
        }
        if (has_ii && (ii < 0.0 || ii > KS_MAX_SPAN_H)) {
            st = cfail(n, "II", cell[COL_II], "interdose interval must be from 0 to %g h",
                       KS_MAX_SPAN_H);
            goto fail;
        }
        if (has_addl && (addl < 0 || (double)addl > KS_MAX_DOSE_EVENTS)) {
            st = cfail(n, "ADDL", cell[COL_ADDL], "expected a whole number from 0 to %.0f",
                       KS_MAX_DOSE_EVENTS);
            goto fail;
        }
        if (addl > 0 && !(ii > 0.0)) {
            st = cfail(n, "II", has_ii ? cell[COL_II] : NULL,
                       "ADDL %ld additional doses need an interdose interval II > 0 h", addl);
            goto fail;
        }
        if (has_ss && ss != 0 && ss != 1 && ss != 2) {
            st = cfail(n, "SS", cell[COL_SS],
                       "expected SS 0 (none), 1 (steady state, reset) or 2 (steady state, "
                       "added)");
            goto fail;
        }
        if (ss != 0 && !(ii > 0.0)) {
            st = cfail(n, "II", has_ii ? cell[COL_II] : NULL,
                       "SS %ld needs the dosing interval II > 0 h", ss);
            goto fail;
        }
        d.ss = (int)ss;
        d.ii_h = ss ? ii : 0.0;
        total_events += 1.0 + (double)addl;
        if (total_events > KS_MAX_DOSE_EVENTS) {
            st = cfail(n, "ADDL", cell[COL_ADDL], "the file expands to more than %.0f dose events",
                       KS_MAX_DOSE_EVENTS);
            goto fail;
        }
        double t_last = t + (double)addl * ii;
        if (t_last > KS_MAX_SPAN_H) {
            st = cfail(n, "ADDL", cell[COL_ADDL],
                       "the last additional dose at %g h is beyond 5 years", t_last);
            goto fail;
        }
        if (push_dose(ctx, &cur, &d) != KS_OK)
            goto fail_status;
        ks_dose extra = d;
        extra.ss = 0;
        extra.ii_h = 0.0;
        extra.reset = 0;
        for (long k = 1; k <= addl; k++) {
            extra.t_h = t + (double)k * ii;
            if (push_dose(ctx, &cur, &extra) != KS_OK)
                goto fail_status;
        }
        double end = t_last + d.duration_h;
        if (end > cur.s.last_time_h)
            cur.s.last_time_h = end;
    }

    if (!have_header) {
        n->line = n->line ? n->line : 1;
        st = ks_fail(ctx, KS_ERR_INPUT,
                     "%s: line %zu: empty file: expected a header line with ID, TIME, EVID, "
                     "AMT, CMT (got %zu bytes)",
                     n->file, n->line, len);
        goto fail;
    }
    if (!have_cur) {
        st =
            ks_fail(ctx, KS_ERR_INPUT, "%s: line %zu: no data rows after the header (got %zu rows)",
                    n->file, n->line, n_rows);
        goto fail;
    }
    builder_finish(&cur);
    if (data.n_subjects == cap_subjects &&
        grow_subjects(ctx, &data, &spans, &cap_subjects) != KS_OK)
        goto fail_status;
    spans[data.n_subjects].id = cur.s.patient.id;
    spans[data.n_subjects].first_line = cur.first_line;
    spans[data.n_subjects].last_line = cur.last_line;
    data.subjects[data.n_subjects++] = cur.s;
    memset(&cur, 0, sizeof cur);
    have_cur = 0;

    /* Rows of one ID must be contiguous: no ID may start a second block. */
    qsort(spans, data.n_subjects, sizeof *spans, cmp_id_span);
    for (size_t i = 1; i < data.n_subjects; i++) {
        if (spans[i].id == spans[i - 1].id) {
            char idtxt[32];
            snprintf(idtxt, sizeof idtxt, "%ld", spans[i].id);
            n->line = spans[i].first_line;
            st = cfail(n, "ID", idtxt,
                       "rows of one ID must be contiguous; ID %ld already appeared at lines "
                       "%zu-%zu",
                       spans[i].id, spans[i - 1].first_line, spans[i - 1].last_line);
            goto fail;
        }
    }
    free(spans);
    free(buf);
    free(fields);
    *out = data;
    return KS_OK;

fail_status:
    st = ctx ? ctx->status : KS_ERR_INPUT;
fail:
    if (have_cur)
        subject_free(&cur.s);
    ks_nm_data_free(&data);
    free(spans);
    free(buf);
    free(fields);
    return st == KS_OK ? KS_ERR_INTERNAL : st;
}

ks_scenario *ks_scenario_parse_nonmem_text(ks_ctx *ctx, const char *text, size_t len,
                                           const char *name)
{
    ks_nm_data nm = {NULL, 0};
    ks_scenario *s = NULL;
    double *times = NULL;
    size_t n_times = 0;
    if (!name)
        name = "<memory>";
    if (ks_nonmem_read(ctx, text, len, name, NULL, &nm) != KS_OK)
        return NULL;

    /* Name: the file name without directory and extension. */
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    char stem[256];
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem)
        *dot = '\0';
    s = ks_scenario_alloc(ctx, stem, name);
    if (!s)
        goto fail;
    double total_times = 0.0;
    for (size_t i = 0; i < nm.n_subjects; i++) {
        const ks_nm_subject *sub = &nm.subjects[i];
        if (sub->has_observations) {
            /* Outputs at the records, as NONMEM predicts at its records. */
            times = ks_malloc(ctx, sub->n_record_times * sizeof *times);
            if (!times)
                goto fail;
            memcpy(times, sub->record_times, sub->n_record_times * sizeof *times);
            n_times = sub->n_record_times;
        } else {
            double t_end = sub->last_time_h + KS_NONMEM_TAIL_H;
            double grid = floor(t_end / KS_NONMEM_GRID_STEP_H) + 2.0;
            if (total_times + grid > KS_MAX_OUTPUT_TIMES) {
                ks_fail(ctx, KS_ERR_INPUT,
                        "%s: line %zu, column EVID: without EVID 0 rows every ID gets a 5-min "
                        "output grid to its last event + 24 h, which exceeds %.0f output "
                        "times in all; add EVID 0 rows for the wanted times (got ID %ld)",
                        name, (size_t)1, KS_MAX_OUTPUT_TIMES, sub->patient.id);
                goto fail;
            }
            if (ks_output_times_build(ctx, t_end, KS_NONMEM_GRID_STEP_H, sub->doses, sub->n_doses,
                                      sub->record_times, sub->n_record_times, &times,
                                      &n_times) != KS_OK)
                goto fail;
        }
        total_times += (double)n_times;
        if (total_times > KS_MAX_OUTPUT_TIMES) {
            ks_fail(ctx, KS_ERR_INPUT,
                    "%s: line %zu, column EVID: the records ask for more than %.0f output "
                    "times in all (got %.0f)",
                    name, (size_t)1, KS_MAX_OUTPUT_TIMES, total_times);
            goto fail;
        }
        if (n_times && times[n_times - 1] > s->t_end_h)
            s->t_end_h = times[n_times - 1];
        if (ks_scenario_add_subject(ctx, s, &sub->patient, sub->doses, sub->n_doses, times,
                                    n_times) != KS_OK)
            goto fail;
        free(times);
        times = NULL;
    }
    ks_nm_data_free(&nm);
    return s;
fail:
    free(times);
    ks_scenario_free(s);
    ks_nm_data_free(&nm);
    return NULL;
}

ks_scenario *ks_scenario_load_nonmem(ks_ctx *ctx, const char *path)
{
    if (!path)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_scenario_load_nonmem: NULL path"), NULL;
    size_t len = 0;
    char *text = ks_read_file(ctx, path, "dosing file", KS_MAX_DOSING_BYTES, &len);
    if (!text)
        return NULL;
    ks_scenario *s = ks_scenario_parse_nonmem_text(ctx, text, len, path);
    free(text);
    return s;
}
