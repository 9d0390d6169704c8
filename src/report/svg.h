/*
 * svg.h -- line charts as SVG: one figure of up to KS_SVG_MAX_PANELS panels stacked on a
 * shared time axis, each with its own y axis (linear or log), ticks at nice numbers, unit
 * labels, a legend, shaded bands, horizontal threshold lines, shaded x-spans and vertical
 * markers. Colours follow the colour-blind safe palette of Okabe & Ito (2008, "Color universal
 * design"), and every series also has its own dash pattern, so lines differ without colour.
 * Plain data in, text out: no allocation besides the output buffer.
 */
#ifndef KS_SVG_H
#define KS_SVG_H

#include <stddef.h>

#include "report/textbuf.h"

#define KS_SVG_MAX_PANELS 4
#define KS_SVG_MAX_SERIES 10
#define KS_SVG_MAX_HLINES 4
#define KS_SVG_NSTYLES    8 /* distinct colour + dash combinations */

typedef struct {
    const double *x;  /* [n] x values in data units (hours), ascending */
    const double *y;  /* [n]; non-finite values break the line */
    const double *lo; /* optional lower and upper band edges [n] (confidence band); NULL */
    const double *hi;
    size_t n;
    double y_scale; /* displayed y = y * y_scale (0 means 1): fraction -> % */
    const char *label;
    int style;   /* 0..KS_SVG_NSTYLES-1: colour and dash pattern */
    int step;    /* 1: step curve (Kaplan-Meier): horizontal then vertical */
    int markers; /* 1: a marker at every point (visits) */
} ks_svg_series;

typedef struct {
    double y; /* displayed units */
    const char *label;
} ks_svg_hline;

typedef struct {
    double x0, x1; /* data units */
} ks_svg_span;

typedef struct {
    const char *title;  /* panel heading, may be NULL */
    const char *ylabel; /* axis label with unit, e.g. "Concentration (ng/mL)" */
    int log_y;          /* 1: logarithmic y axis (values <= 0 are not drawn) */
    double ymin, ymax;  /* fixed range in displayed units; NaN = from the data */
    int y_include_zero; /* linear axes: extend the automatic range to 0 */
    ks_svg_series series[KS_SVG_MAX_SERIES];
    size_t n_series;
    ks_svg_hline hlines[KS_SVG_MAX_HLINES];
    size_t n_hlines;
    const ks_svg_span *spans; /* shaded x-spans (e.g. plasticity window open); NULL */
    size_t n_spans;
    const char *span_label; /* legend entry of the spans */
} ks_svg_panel;

typedef struct {
    const char *id;       /* short identifier, unique within an HTML page ("pk"); prefixes ids */
    const char *title;    /* figure title */
    const char *desc;     /* one-sentence description (SVG <desc>, for screen readers) */
    const char *xlabel;   /* with unit, e.g. "Time (days)" */
    double x_scale;       /* displayed x = x * x_scale (1/24: hours -> days) */
    double xmin, xmax;    /* data units (hours); the displayed axis is [xmin, xmax] * x_scale */
    const double *vlines; /* marker times (doses), data units; NULL */
    size_t n_vlines;
    const char *vline_label; /* legend entry of the markers */
    ks_svg_panel panels[KS_SVG_MAX_PANELS];
    size_t n_panels;
    int width;        /* px; 0 = 860 */
    int panel_height; /* px; 0 = 230 */
} ks_svg_figure;

/* Empties a figure: no panels, NaN ranges, defaults. */
void ks_svg_figure_init(ks_svg_figure *f);
/* Adds a panel (NULL when KS_SVG_MAX_PANELS are in use). */
ks_svg_panel *ks_svg_add_panel(ks_svg_figure *f, const char *title, const char *ylabel);
/* Adds a series (NULL when the panel is full). */
ks_svg_series *ks_svg_add_series(ks_svg_panel *p, const char *label, const double *x,
                                 const double *y, size_t n, int style);
/* Adds a horizontal line at displayed value y (ignored when full). */
void ks_svg_add_hline(ks_svg_panel *p, double y, const char *label);

/* Appends the figure as one <svg> element (with xmlns, viewBox, <title>, <desc>) to `out`.
 * Every coordinate written is finite. Text is XML-escaped. */
void ks_svg_render(const ks_svg_figure *f, ks_tb *out);

/* Nice tick positions for [lo, hi] (Heckbert 1990, "Nice numbers for graph labels", Graphics
 * Gems I): steps of 1, 2 or 5 x 10^k and about `target` ticks. Writes at most `max` ticks into
 * ticks[], the step into *step, and returns the count. Also widens [lo, hi] to whole steps
 * when `widen` is 1. */
size_t ks_svg_nice_ticks(double *lo, double *hi, int target, int widen, double *ticks, size_t max,
                         double *step);

/* Colour (hex, static) and dash pattern (SVG stroke-dasharray, "" for solid) of a style. */
const char *ks_svg_colour(int style);
const char *ks_svg_dash(int style);

#endif /* KS_SVG_H */
