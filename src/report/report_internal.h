/*
 * report_internal.h -- what the figure builders, the narrative and the HTML writer share: one
 * subject's time courses looked up by output name, the dose sessions of the scenario, and
 * small measurements on time courses (peaks, crossings, intervals above a level).
 */
#ifndef KS_REPORT_INTERNAL_H
#define KS_REPORT_INTERNAL_H

#include "ketasim.h"
#include "report/svg.h"
#include "report/textbuf.h"

#define RPT_MAX_SCRATCH  48
#define RPT_MAX_SESSIONS 256

/* One treatment session: dose events of the same drug starting within an hour of the first
 * (the devices of one intranasal session, or one infusion). */
typedef struct {
    double t_start, t_end; /* h; t_end = end of the last infusion, or t_start */
    double amount_mg;      /* sum over the events */
    int drug;              /* ks_drug */
    int route;             /* ks_route */
    int rapid;             /* 1: ketamine, esketamine or arketamine */
} rpt_session;

typedef struct {
    ks_ctx *ctx;
    const ks_result *r;
    size_t subject;
    const double *t; /* output times, h */
    size_t nt;
    double t_end;
    int log_conc;
    const ks_scenario *scenario;
    rpt_session sessions[RPT_MAX_SESSIONS];
    size_t n_sessions;                      /* all sessions (every drug) */
    size_t n_rapid;                         /* sessions of ketamine-family drugs */
    size_t n_truncated;                     /* sessions beyond RPT_MAX_SESSIONS, not stored */
    double dose_times[RPT_MAX_SESSIONS];    /* session start times, for markers */
    double therapy_times[RPT_MAX_SESSIONS]; /* therapy / integration session times, h */
    size_t n_therapy;
    ks_svg_span spans[64];            /* plasticity-window spans of the spines figure */
    double *scratch[RPT_MAX_SCRATCH]; /* derived series, freed by rpt_close */
    size_t n_scratch;
    int oom;
} rpt_run;

/* Prepares the run view of subject opt->subject (KS_ERR_USAGE when out of range). */
ks_status rpt_open(ks_ctx *ctx, const ks_result *r, const ks_report_options *opt, rpt_run *run);
void rpt_close(rpt_run *run);

/* Values of a named output for the subject, or NULL when the result does not have it. */
const double *rpt_series(const rpt_run *run, const char *name);
/* Unit of a named output ("" when absent). */
const char *rpt_unit(const rpt_run *run, const char *name);
/* 1 when the series is present and not zero everywhere. */
int rpt_nonzero(const rpt_run *run, const char *name);
/* A new array of nt doubles owned by the run (NULL after an allocation failure). */
double *rpt_scratch(rpt_run *run);

/* Index of the largest value of y over times in [t0, t1] (finite values only); returns 0 and
 * sets *found = 0 when none. */
size_t rpt_argmax(const rpt_run *run, const double *y, double t0, double t1, int *found);
size_t rpt_argmin(const rpt_run *run, const double *y, double t0, double t1, int *found);
/* First time >= t0 at which y crosses `level` upwards (above = 1: y >= level) or downwards
 * (above = 0: y <= level), linearly interpolated between output times; NaN when never. */
double rpt_cross(const rpt_run *run, const double *y, double t0, double level, int above);
/* Value of y at time t (linear interpolation, clamped to the output range). */
double rpt_at(const rpt_run *run, const double *y, double t);
/* The maximal intervals over which y >= level; writes at most `max` of them into a[], b[] and
 * returns the number found (all of them, even beyond max). */
size_t rpt_intervals(const rpt_run *run, const double *y, double level, double *a, double *b,
                     size_t max);

/* The last rapid-acting session started at or before t, or (when none is rapid) the last
 * session of any drug; NULL when none started by t. *index gets its number (0-based) among
 * the sessions of its kind. */
const rpt_session *rpt_session_before(const rpt_run *run, double t, size_t *index);
/* First rapid-acting session, or the first session of any drug; NULL when none. */
const rpt_session *rpt_first_session(const rpt_run *run);

/* Plain-language time of t relative to the doses: "25 minutes into the infusion", "13 hours
 * after the 2nd infusion", "on day 4". Writes into buf. */
void rpt_when(const rpt_run *run, double t, char *buf, size_t size);
/* The same without a leading preposition, to follow "from" or "until": "day 4 (3.2 days after
 * the infusion)", "the end of the infusion". */
void rpt_when_bare(const rpt_run *run, double t, char *buf, size_t size);
/* Noun of a session's route: "infusion", "nasal spray session", "injection", "dose". */
const char *rpt_session_noun(const rpt_session *s);

/* Figure builders: fill `fig` for the named figure from the run (panels whose outputs are
 * absent are left out). Returns the number of panels. */
size_t rpt_build_figure(rpt_run *run, const char *figure, ks_svg_figure *fig);

/* Thresholds used by both the figures and the narrative (docs/REPORT.md). */
#define RPT_WINDOW_REL      0.5 /* window "open": at least half of its largest openness in the run */
#define RPT_WINDOW_MIN      0.05 /* below this peak openness the window is said not to have opened */
#define RPT_REMISSION_MADRS 10.0 /* MADRS <= 10 (Zarate-group studies; docs/MODEL.md 8) */

/* Level at which the plasticity window counts as open in this run (NaN when it never opened). */
double rpt_window_level(const rpt_run *run);
/* MADRS before the first session (the value at the last output time <= its start), NaN when
 * the run has no MADRS output. */
double rpt_baseline_madrs(const rpt_run *run);

/* ---- HTML frame (html.c), shared by the run and trial reports ---- */

/* The disclaimer every report carries (static). */
const char *rpt_disclaimer(void);
/* Head with inline CSS, the heading (`heading` followed by `name`), a meta line and the
 * disclaimer box (id "disclaimer"). */
void rpt_html_begin(ks_tb *html, const char *heading, const char *name, const char *meta);
/* Footer with the disclaimer again; closes the page. */
void rpt_html_end(ks_tb *html);
/* One <figure> with the inline SVG and its caption. */
void rpt_html_figure(const ks_svg_figure *fig, const char *caption, ks_tb *out);
/* Draws the figure called `name` into out (nothing when it has no panel). */
typedef void (*rpt_figure_fn)(void *user, const char *name, ks_tb *out);
/* Narrative text to HTML: "## " sections, "- " list items, paragraphs; a line "@figure NAME"
 * calls figure(user, NAME, out) there. */
void rpt_html_text(const char *text, ks_tb *out, rpt_figure_fn figure, void *user);
/* Copies narrative text without the "@figure" lines (and the blank line after each). */
void rpt_strip_anchors(const char *s, ks_tb *out);
/* Writes a buffer to a file atomically. */
ks_status rpt_write_file(ks_ctx *ctx, const char *path, const ks_tb *tb);
/* Writes DIR/report.html and DIR/narrative.txt (disclaimer + text without anchors). */
ks_status rpt_write_report(ks_ctx *ctx, const char *dir, const ks_tb *html, const ks_tb *narr);

/* Appends the narrative (text format of ks_report_narrative) to out. */
void rpt_narrative(rpt_run *run, ks_tb *out);

#endif /* KS_REPORT_INTERNAL_H */
