/*
 * svg.c -- renders ks_svg_figure as SVG text: axes, nice ticks, log option, legends, bands,
 * thresholds, spans, markers, step curves; every coordinate finite, all text escaped.
 */
#include "report/svg.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Okabe & Ito (2008), "Color universal design": the eight-colour palette minus yellow (kept
 * for fills, too light for lines on white), black last. */
static const char *const k_colours[KS_SVG_NSTYLES] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                      "#E69F00", "#56B4E9", "#000000", "#7F6000"};
/* Dash patterns (px), distinct by rhythm so that lines differ in grey-scale print too. */
static const char *const k_dashes[KS_SVG_NSTYLES] = {
    "", "8 4", "2 3", "10 3 2 3", "5 2 5 2 1 2", "1 2", "12 5", "4 4 1 4"};

static const char *const k_font = "'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";
#define SPAN_FILL     "#F0E442" /* Okabe-Ito yellow, as a light fill */
#define GRID_COLOUR   "#e3e3e3"
#define AXIS_COLOUR   "#444444"
#define MARKER_COLOUR "#8a8a8a"

const char *ks_svg_colour(int style)
{
    int i = style < 0 ? -style : style;
    return k_colours[i % KS_SVG_NSTYLES];
}

const char *ks_svg_dash(int style)
{
    int i = style < 0 ? -style : style;
    return k_dashes[i % KS_SVG_NSTYLES];
}

void ks_svg_figure_init(ks_svg_figure *f)
{
    memset(f, 0, sizeof *f);
    f->x_scale = 1.0;
    f->xmin = NAN;
    f->xmax = NAN;
}

ks_svg_panel *ks_svg_add_panel(ks_svg_figure *f, const char *title, const char *ylabel)
{
    if (f->n_panels >= KS_SVG_MAX_PANELS)
        return NULL;
    ks_svg_panel *p = &f->panels[f->n_panels++];
    memset(p, 0, sizeof *p);
    p->title = title;
    p->ylabel = ylabel;
    p->ymin = NAN;
    p->ymax = NAN;
    return p;
}

ks_svg_series *ks_svg_add_series(ks_svg_panel *p, const char *label, const double *x,
                                 const double *y, size_t n, int style)
{
    if (p->n_series >= KS_SVG_MAX_SERIES)
        return NULL;
    ks_svg_series *s = &p->series[p->n_series++];
    memset(s, 0, sizeof *s);
    s->label = label;
    s->x = x;
    s->y = y;
    s->n = n;
    s->style = style;
    s->y_scale = 1.0;
    return s;
}

void ks_svg_add_hline(ks_svg_panel *p, double y, const char *label)
{
    if (p->n_hlines >= KS_SVG_MAX_HLINES || !isfinite(y))
        return;
    p->hlines[p->n_hlines].y = y;
    p->hlines[p->n_hlines].label = label;
    p->n_hlines++;
}

/* Heckbert's nice number: the 1, 2, 5 x 10^k closest to x (round) or not below x. */
static double nice_num(double x, int round)
{
    double e = floor(log10(x));
    double f = x / pow(10.0, e), nf;
    if (round)
        nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else
        nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * pow(10.0, e);
}

size_t ks_svg_nice_ticks(double *lo, double *hi, int target, int widen, double *ticks, size_t max,
                         double *step)
{
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0;
        *hi = 1;
    }
    if (*hi < *lo) {
        double t = *lo;
        *lo = *hi;
        *hi = t;
    }
    if (*hi - *lo < 1e-12 * fmax(1.0, fabs(*hi))) {
        double d = fabs(*hi) > 0 ? 0.1 * fabs(*hi) : 1.0;
        *lo -= d;
        *hi += d;
    }
    if (target < 2)
        target = 2;
    /* Heckbert takes the step as nice(nice(range) / (n - 1)); rounding the raw step directly
     * keeps more ticks on ranges just above a nice number (28 days: step 5, not 10). */
    double d = nice_num((*hi - *lo) / (target - 1), 1);
    if (widen) {
        *lo = floor(*lo / d + 1e-9) * d;
        *hi = ceil(*hi / d - 1e-9) * d;
    }
    *step = d;
    size_t n = 0;
    double first = ceil(*lo / d - 1e-9) * d;
    for (int k = 0; n < max; k++) {
        double v = first + k * d;
        if (v > *hi + 1e-9 * d)
            break;
        if (fabs(v) < 1e-9 * d)
            v = 0;
        ticks[n++] = v;
    }
    return n;
}

/* Formats a tick value with as many decimals as the step needs. */
static void fmt_tick(char *buf, size_t size, double v, double step, int log_axis)
{
    if (log_axis) {
        snprintf(buf, size, "%g", v);
        return;
    }
    int dec = 0;
    if (step < 1)
        dec = (int)ceil(-log10(step) - 1e-9);
    if (dec > 6)
        dec = 6;
    snprintf(buf, size, "%.*f", dec, v);
}

/* Geometry of one panel's plot area and its axis mapping. */
typedef struct {
    double left, right, top, bottom; /* px */
    double x0, x1;                   /* displayed x range */
    double y0, y1;                   /* displayed y range (log10 of it for log axes) */
    int log_y;
} frame;

static double map_x(const frame *fr, double xd)
{
    double px = fr->left + (xd - fr->x0) / (fr->x1 - fr->x0) * (fr->right - fr->left);
    return fmax(-1e5, fmin(1e5, px));
}

/* Returns NAN when the value cannot be drawn (non-finite, or <= 0 on a log axis). */
static double map_y(const frame *fr, double yd)
{
    if (!isfinite(yd))
        return NAN;
    if (fr->log_y) {
        if (yd <= 0)
            return NAN;
        yd = log10(yd);
    }
    double py = fr->bottom - (yd - fr->y0) / (fr->y1 - fr->y0) * (fr->bottom - fr->top);
    return fmax(-1e5, fmin(1e5, py));
}

static double scale_of(const ks_svg_series *s)
{
    return s->y_scale != 0 ? s->y_scale : 1.0;
}

/* Index range [*a, *b) of the points of s to draw: those inside [x0, x1] (displayed) plus one
 * neighbour on each side so that lines reach the clipped edge. */
static void visible_range(const ks_svg_series *s, double xs, double x0, double x1, size_t *a,
                          size_t *b)
{
    size_t i = 0;
    while (i < s->n && !(s->x[i] * xs >= x0))
        i++;
    size_t j = i;
    while (j < s->n && s->x[j] * xs <= x1)
        j++;
    *a = i > 0 ? i - 1 : 0;
    *b = j < s->n ? j + 1 : s->n;
}

/* Data range of a panel in displayed units over the visible x range. */
static void panel_range(const ks_svg_figure *f, const ks_svg_panel *p, double x0, double x1,
                        double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t k = 0; k < p->n_series; k++) {
        const ks_svg_series *s = &p->series[k];
        double sc = scale_of(s);
        for (size_t i = 0; i < s->n; i++) {
            double xd = s->x[i] * f->x_scale;
            if (!(xd >= x0 && xd <= x1))
                continue;
            const double *arrs[3] = {s->y, s->lo, s->hi};
            for (int q = 0; q < 3; q++) {
                if (!arrs[q])
                    continue;
                double v = arrs[q][i] * sc;
                if (!isfinite(v) || (p->log_y && v <= 0))
                    continue;
                *lo = fmin(*lo, v);
                *hi = fmax(*hi, v);
            }
        }
    }
    for (size_t k = 0; k < p->n_hlines; k++) {
        double v = p->hlines[k].y;
        if (p->log_y && v <= 0)
            continue;
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
    }
}

static void put_text(ks_tb *out, double x, double y, const char *anchor, int size,
                     const char *extra, const char *text)
{
    ks_tb_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\"%s%s>", x, y,
                 anchor, size, extra ? " " : "", extra ? extra : "");
    ks_tb_escape(out, text);
    ks_tb_puts(out, "</text>\n");
}

static void stroke_attrs(ks_tb *out, int style, double width)
{
    const char *dash = ks_svg_dash(style);
    ks_tb_printf(out, " fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"", ks_svg_colour(style),
                 width);
    if (*dash)
        ks_tb_printf(out, " stroke-dasharray=\"%s\"", dash);
    ks_tb_puts(out, " stroke-linejoin=\"round\" stroke-linecap=\"butt\"");
}

/* One series as a path; points closer than one pixel column are reduced to their first, lowest,
 * highest and last point so that peaks survive. */
static void render_series(ks_tb *out, const ks_svg_figure *f, const frame *fr,
                          const ks_svg_series *s)
{
    size_t a, b;
    visible_range(s, f->x_scale, fr->x0, fr->x1, &a, &b);
    double sc = scale_of(s);
    if (s->lo && s->hi && b > a) {
        /* Confidence band: upper edge forward, lower edge back, one polygon per finite run. */
        size_t i = a;
        while (i < b) {
            while (i < b && (isnan(map_y(fr, s->lo[i] * sc)) || isnan(map_y(fr, s->hi[i] * sc))))
                i++;
            size_t j = i;
            while (j < b && !isnan(map_y(fr, s->lo[j] * sc)) && !isnan(map_y(fr, s->hi[j] * sc)))
                j++;
            if (j > i + 1) {
                ks_tb_printf(out,
                             "<path class=\"band\" fill=\"%s\" fill-opacity=\"0.18\" "
                             "stroke=\"none\" d=\"",
                             ks_svg_colour(s->style));
                for (size_t k = i; k < j; k++)
                    ks_tb_printf(out, "%s%.1f %.1f", k == i ? "M" : "L",
                                 map_x(fr, s->x[k] * f->x_scale), map_y(fr, s->hi[k] * sc));
                for (size_t k = j; k-- > i;)
                    ks_tb_printf(out, "L%.1f %.1f", map_x(fr, s->x[k] * f->x_scale),
                                 map_y(fr, s->lo[k] * sc));
                ks_tb_puts(out, "Z\"/>\n");
            }
            i = j;
        }
    }
    ks_tb_puts(out, "<path class=\"series\"");
    stroke_attrs(out, s->style, 2.2);
    ks_tb_puts(out, " d=\"");
    int pen_down = 0;
    double prev_py = NAN;
    /* Pixel-column bucket of the pending points. */
    long col = 0;
    int have = 0;
    double bx[4], by[4];
    size_t nb = 0;
    size_t i_min = 0, i_max = 0, i_first = 0, i_last = 0;
    size_t written = 0;
    for (size_t i = a; i <= b; i++) {
        int flush = 0, brk = 0;
        double px = 0, py = NAN;
        if (i < b) {
            px = map_x(fr, s->x[i] * f->x_scale);
            py = map_y(fr, s->y[i] * sc);
            if (isnan(py))
                brk = 1;
        }
        if (s->step) {
            if (i == b || brk) {
                pen_down = 0;
                continue;
            }
            if (!pen_down)
                ks_tb_printf(out, "M%.1f %.1f", px, py);
            else
                ks_tb_printf(out, "L%.1f %.1fL%.1f %.1f", px, prev_py, px, py);
            written++;
            pen_down = 1;
            prev_py = py;
            continue;
        }
        long c = (long)floor(px);
        if (i == b || brk || (have && c != col))
            flush = 1;
        if (flush && have) {
            /* first, then min and max in time order, then last */
            size_t idx[4] = {i_first, i_min < i_max ? i_min : i_max, i_min < i_max ? i_max : i_min,
                             i_last};
            nb = 0;
            for (int q = 0; q < 4; q++) {
                if (q > 0 && idx[q] == idx[q - 1])
                    continue;
                bx[nb] = map_x(fr, s->x[idx[q]] * f->x_scale);
                by[nb] = map_y(fr, s->y[idx[q]] * sc);
                nb++;
            }
            for (size_t q = 0; q < nb; q++) {
                ks_tb_printf(out, "%s%.1f %.1f", pen_down ? "L" : "M", bx[q], by[q]);
                pen_down = 1;
                written++;
            }
            have = 0;
        }
        if (brk) {
            pen_down = 0;
            continue;
        }
        if (i == b)
            break;
        if (!have) {
            have = 1;
            col = c;
            i_first = i_min = i_max = i_last = i;
        } else {
            i_last = i;
            if (s->y[i] * sc < s->y[i_min] * sc)
                i_min = i;
            if (s->y[i] * sc > s->y[i_max] * sc)
                i_max = i;
        }
    }
    if (written == 0)
        ks_tb_puts(out, "M0 0");
    ks_tb_puts(out, "\"><title>");
    ks_tb_escape(out, s->label);
    ks_tb_puts(out, "</title></path>\n");
    if (s->markers) {
        /* shapes differ by style too: circle for even styles, square for odd ones */
        for (size_t i = a; i < b; i++) {
            double px = map_x(fr, s->x[i] * f->x_scale), py = map_y(fr, s->y[i] * sc);
            if (isnan(py))
                continue;
            if (s->style % 2 == 0)
                ks_tb_printf(out,
                             "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.6\" "
                             "fill=\"%s\" stroke=\"#ffffff\" stroke-width=\"1\"/>\n",
                             px, py, ks_svg_colour(s->style));
            else
                ks_tb_printf(out,
                             "<rect class=\"point\" x=\"%.1f\" y=\"%.1f\" width=\"7\" "
                             "height=\"7\" fill=\"%s\" stroke=\"#ffffff\" "
                             "stroke-width=\"1\"/>\n",
                             px - 3.5, py - 3.5, ks_svg_colour(s->style));
        }
    }
}

static void render_panel(ks_tb *out, const ks_svg_figure *f, size_t ip, double top, double height,
                         double left, double right, int last)
{
    const ks_svg_panel *p = &f->panels[ip];
    const char *fid = f->id ? f->id : "fig";
    frame fr;
    fr.left = left;
    fr.right = right;
    fr.top = top + 24;
    fr.bottom = top + height - 30;
    fr.x0 = f->xmin * f->x_scale;
    fr.x1 = f->xmax * f->x_scale;
    fr.log_y = p->log_y;

    /* y range */
    double lo, hi;
    panel_range(f, p, fr.x0, fr.x1, &lo, &hi);
    int empty = !(lo <= hi);
    if (isfinite(p->ymin))
        lo = p->ymin;
    if (isfinite(p->ymax))
        hi = p->ymax;
    if (!(lo <= hi)) {
        lo = p->log_y ? 1 : 0;
        hi = p->log_y ? 10 : 1;
    }
    double yt[64], ystep = 1;
    size_t nyt = 0;
    if (p->log_y) {
        if (!(lo > 0))
            lo = hi > 0 ? hi / 100 : 1;
        double e0 = floor(log10(lo) + 1e-9), e1 = ceil(log10(hi) - 1e-9);
        if (e1 <= e0)
            e1 = e0 + 1;
        if (e1 - e0 > 12)
            e0 = e1 - 12;
        fr.y0 = e0;
        fr.y1 = e1;
        static const double sub[3] = {1, 2, 5};
        int with_sub = (e1 - e0) <= 3;
        for (double e = e0; e <= e1 + 1e-9 && nyt < 64; e++)
            for (int q = 0; q < (with_sub ? 3 : 1) && nyt < 64; q++) {
                double v = sub[q] * pow(10.0, e);
                if (log10(v) <= e1 + 1e-9)
                    yt[nyt++] = v;
            }
    } else {
        if (p->y_include_zero && !isfinite(p->ymin))
            lo = fmin(lo, 0);
        if (p->y_include_zero && !isfinite(p->ymax))
            hi = fmax(hi, 0);
        nyt = ks_svg_nice_ticks(&lo, &hi, 6, !(isfinite(p->ymin) && isfinite(p->ymax)), yt, 64,
                                &ystep);
        fr.y0 = lo;
        fr.y1 = hi;
    }

    /* title */
    if (p->title)
        put_text(out, left, top + 15, "start", 14, "font-weight=\"bold\"", p->title);

    /* spans (shaded), grid, axes */
    ks_tb_printf(out,
                 "<clipPath id=\"ks-%s-clip%zu\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                 "height=\"%.1f\"/></clipPath>\n",
                 fid, ip, fr.left, fr.top, fr.right - fr.left, fr.bottom - fr.top);
    for (size_t k = 0; k < p->n_spans; k++) {
        double a = fmax(p->spans[k].x0 * f->x_scale, fr.x0);
        double b = fmin(p->spans[k].x1 * f->x_scale, fr.x1);
        if (!(b > a))
            continue;
        double pa = map_x(&fr, a), pb = map_x(&fr, b);
        ks_tb_printf(out,
                     "<rect class=\"span\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                     "height=\"%.1f\" fill=\"" SPAN_FILL "\" fill-opacity=\"0.45\"/>\n",
                     pa, fr.top, fmax(0.5, pb - pa), fr.bottom - fr.top);
    }
    for (size_t k = 0; k < nyt; k++) {
        double py = map_y(&fr, yt[k]);
        if (isnan(py))
            continue;
        char lab[32];
        fmt_tick(lab, sizeof lab, yt[k], ystep, p->log_y);
        ks_tb_printf(out,
                     "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"" GRID_COLOUR
                     "\"/>\n",
                     fr.left, fr.right, py, py);
        put_text(out, fr.left - 6, py + 4, "end", 12, NULL, lab);
    }
    double xt[64], xstep;
    double xa = fr.x0, xb = fr.x1;
    size_t nxt = ks_svg_nice_ticks(&xa, &xb, 8, 0, xt, 64, &xstep);
    for (size_t k = 0; k < nxt; k++) {
        double px = map_x(&fr, xt[k]);
        char lab[32];
        fmt_tick(lab, sizeof lab, xt[k], xstep, 0);
        ks_tb_printf(out,
                     "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"" GRID_COLOUR
                     "\"/>\n",
                     px, px, fr.top, fr.bottom);
        ks_tb_printf(out,
                     "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"" AXIS_COLOUR
                     "\"/>\n",
                     px, px, fr.bottom, fr.bottom + 4);
        put_text(out, px, fr.bottom + 17, "middle", 12, NULL, lab);
    }
    ks_tb_printf(out,
                 "<path class=\"axes\" d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1f\" fill=\"none\" "
                 "stroke=\"" AXIS_COLOUR "\"/>\n",
                 fr.left, fr.top, fr.left, fr.bottom, fr.right, fr.bottom);
    if (p->ylabel) {
        double cy = 0.5 * (fr.top + fr.bottom);
        char rot[96];
        snprintf(rot, sizeof rot, "transform=\"rotate(-90 %.1f %.1f)\" class=\"ylabel\"", left - 52,
                 cy);
        put_text(out, left - 52, cy, "middle", 12, rot, p->ylabel);
    }
    if (last && f->xlabel)
        put_text(out, 0.5 * (fr.left + fr.right), fr.bottom + 36, "middle", 13, "class=\"xlabel\"",
                 f->xlabel);

    /* markers, thresholds, series (clipped) */
    ks_tb_printf(out, "<g clip-path=\"url(#ks-%s-clip%zu)\">\n", fid, ip);
    for (size_t k = 0; k < f->n_vlines; k++) {
        double xd = f->vlines[k] * f->x_scale;
        if (!(xd >= fr.x0 && xd <= fr.x1))
            continue;
        double px = map_x(&fr, xd);
        ks_tb_printf(out,
                     "<line class=\"marker\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                     "stroke=\"" MARKER_COLOUR "\" stroke-width=\"1.2\" "
                     "stroke-dasharray=\"3 3\"/>\n",
                     px, px, fr.top, fr.bottom);
    }
    for (size_t k = 0; k < p->n_hlines; k++) {
        double py = map_y(&fr, p->hlines[k].y);
        if (isnan(py))
            continue;
        ks_tb_printf(out,
                     "<line class=\"threshold\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
                     "y2=\"%.1f\" stroke=\"#333333\" stroke-width=\"1.3\" "
                     "stroke-dasharray=\"9 3 1 3 1 3\"/>\n",
                     fr.left, fr.right, py, py);
        /* label above the line, below it when too close to the top */
        double ly = py - 5 < fr.top + 12 ? py + 14 : py - 5;
        put_text(out, fr.right - 4, ly, "end", 11,
                 "fill=\"#222222\" paint-order=\"stroke\" stroke=\"#ffffff\" stroke-width=\"3\"",
                 p->hlines[k].label);
    }
    for (size_t k = 0; k < p->n_series; k++)
        render_series(out, f, &fr, &p->series[k]);
    ks_tb_puts(out, "</g>\n");
    if (empty && p->n_series > 0)
        put_text(out, 0.5 * (fr.left + fr.right), 0.5 * (fr.top + fr.bottom), "middle", 13, NULL,
                 "no values in this time range");

    /* legend, right of the plot area */
    double lx = fr.right + 18, ly = fr.top + 8;
    ks_tb_puts(out, "<g class=\"legend\">\n");
    for (size_t k = 0; k < p->n_series; k++, ly += 19) {
        ks_tb_printf(out, "<path d=\"M%.1f %.1fH%.1f\"", lx, ly, lx + 34);
        stroke_attrs(out, p->series[k].style, 2.6);
        ks_tb_puts(out, "/>\n");
        put_text(out, lx + 42, ly + 4, "start", 12, "class=\"legend-entry\"", p->series[k].label);
    }
    if (p->n_spans > 0 && p->span_label) {
        ks_tb_printf(out,
                     "<rect x=\"%.1f\" y=\"%.1f\" width=\"34\" height=\"12\" fill=\"" SPAN_FILL
                     "\" fill-opacity=\"0.45\" stroke=\"#b8a800\" stroke-width=\"0.6\"/>\n",
                     lx, ly - 6);
        put_text(out, lx + 42, ly + 4, "start", 12, "class=\"legend-entry\"", p->span_label);
        ly += 19;
    }
    if (f->n_vlines > 0 && f->vline_label) {
        ks_tb_printf(out,
                     "<path d=\"M%.1f %.1fV%.1f\" stroke=\"" MARKER_COLOUR "\" "
                     "stroke-width=\"1.2\" stroke-dasharray=\"3 3\"/>\n",
                     lx + 17, ly - 7, ly + 7);
        put_text(out, lx + 42, ly + 4, "start", 12, "class=\"legend-entry\"", f->vline_label);
    }
    ks_tb_puts(out, "</g>\n");
}

void ks_svg_render(const ks_svg_figure *f, ks_tb *out)
{
    int width = f->width > 0 ? f->width : 860;
    int ph = f->panel_height > 0 ? f->panel_height : 230;
    double title_h = f->title ? 34 : 8;
    double left = 84, right = width - 250.0;
    double height = title_h + (double)f->n_panels * ph + 26;
    ks_tb_printf(out,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ks-figure\" "
                 "viewBox=\"0 0 %d %.0f\" width=\"%d\" height=\"%.0f\" role=\"img\" "
                 "font-family=\"%s\" fill=\"#222222\"",
                 width, height, width, height, k_font);
    if (f->id) {
        ks_tb_puts(out, " id=\"fig-");
        ks_tb_escape(out, f->id);
        ks_tb_puts(out, "\"");
    }
    ks_tb_puts(out, ">\n<title>");
    ks_tb_escape(out, f->title ? f->title : "figure");
    ks_tb_puts(out, "</title>\n<desc>");
    ks_tb_escape(out, f->desc ? f->desc : "");
    ks_tb_puts(out, "</desc>\n");
    ks_tb_printf(out, "<rect width=\"%d\" height=\"%.0f\" fill=\"#ffffff\"/>\n", width, height);
    if (f->title)
        put_text(out, 12, 23, "start", 16, "font-weight=\"bold\" class=\"figure-title\"", f->title);
    if (!(isfinite(f->xmin) && isfinite(f->xmax) && f->xmax > f->xmin) || f->x_scale <= 0 ||
        !isfinite(f->x_scale)) {
        put_text(out, width / 2.0, height / 2.0, "middle", 13, NULL, "no time range to plot");
        ks_tb_puts(out, "</svg>\n");
        return;
    }
    for (size_t ip = 0; ip < f->n_panels; ip++)
        render_panel(out, f, ip, title_h + (double)ip * ph, ph, left, right, ip + 1 == f->n_panels);
    ks_tb_puts(out, "</svg>\n");
}
