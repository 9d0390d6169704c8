/*
 * test_svg.c -- structural tests of the SVG figures and the report text: well-formed XML-ish
 * markup, axis labels with units, legend entries, escaped text, finite coordinates, nice tick
 * values (Heckbert 1990), step curves, the colour-blind palette, and a narrative whose times
 * come from the time courses (synthetic courses with analytically known peaks and crossings).
 */
#include "ks_test.h"

#include "dose/dose.h"
#include "io/scenario_internal.h"
#include "report/report_internal.h"
#include "report/svg.h"
#include "sim/result_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small XML-ish checker ---------------------------------------------------------- */

static int is_numeric_attr(const char *name, size_t len)
{
    static const char *const names[] = {"x",  "y",     "x1",     "x2", "y1",
                                        "y2", "width", "height", "d",  "viewBox"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
            return 1;
    return 0;
}

/* Returns the number of problems: unbalanced tags, raw '&', attribute values of coordinates
 * with anything but digits, signs, dots, spaces and path commands (so no NaN or inf). */
static int check_markup(const char *s, int *n_elements)
{
    const char *stack[256];
    size_t stack_len[256];
    int depth = 0, bad = 0;
    *n_elements = 0;
    for (const char *p = s; *p;) {
        if (*p == '&') {
            const char *q = p + 1;
            while (isalnum((unsigned char)*q) || *q == '#')
                q++;
            if (*q != ';' || q == p + 1) {
                fprintf(stderr, "raw '&' at offset %ld\n", (long)(p - s));
                bad++;
            }
            p = q;
            continue;
        }
        if (*p != '<') {
            p++;
            continue;
        }
        if (p[1] == '?') {
            const char *e = strstr(p, "?>");
            p = e ? e + 2 : p + strlen(p);
            continue;
        }
        const char *e = strchr(p, '>');
        if (!e) {
            bad++;
            break;
        }
        if (p[1] == '/') {
            const char *name = p + 2;
            size_t len = (size_t)(e - name);
            if (depth == 0 || stack_len[depth - 1] != len ||
                strncmp(stack[depth - 1], name, len) != 0) {
                fprintf(stderr, "unbalanced </%.*s>\n", (int)len, name);
                bad++;
            } else {
                depth--;
            }
            p = e + 1;
            continue;
        }
        const char *name = p + 1;
        size_t len = 0;
        while (name[len] && !isspace((unsigned char)name[len]) && name[len] != '>' &&
               name[len] != '/')
            len++;
        (*n_elements)++;
        /* attributes */
        for (const char *a = name + len; a < e;) {
            while (a < e && isspace((unsigned char)*a))
                a++;
            const char *an = a;
            while (a < e && *a != '=' && !isspace((unsigned char)*a) && *a != '/')
                a++;
            size_t alen = (size_t)(a - an);
            if (a < e && *a == '=' && a[1] == '"') {
                const char *v = a + 2, *ve = strchr(v, '"');
                if (!ve || ve > e) {
                    bad++;
                    break;
                }
                if (is_numeric_attr(an, alen)) {
                    for (const char *c = v; c < ve; c++)
                        if (!(isdigit((unsigned char)*c) || strchr(" .-MLHVZ", *c))) {
                            fprintf(stderr, "attribute %.*s has '%c': %.*s\n", (int)alen, an, *c,
                                    (int)(ve - v) > 60 ? 60 : (int)(ve - v), v);
                            bad++;
                            break;
                        }
                }
                a = ve + 1;
            } else {
                a++;
            }
        }
        if (e[-1] != '/') {
            if (depth >= 256) {
                bad++;
                break;
            }
            stack[depth] = name;
            stack_len[depth] = len;
            depth++;
        }
        p = e + 1;
    }
    if (depth != 0) {
        fprintf(stderr, "%d unclosed elements\n", depth);
        bad++;
    }
    return bad;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Text of the <text> element that contains `needle`. */
static int has_text(const char *svg, const char *needle)
{
    for (const char *p = strstr(svg, "<text"); p; p = strstr(p + 1, "<text")) {
        const char *b = strchr(p, '>'), *e = strstr(p, "</text>");
        if (!b || !e)
            return 0;
        size_t n = strlen(needle);
        for (const char *q = b + 1; q + n <= e; q++)
            if (strncmp(q, needle, n) == 0)
                return 1;
    }
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_nice_ticks(void)
{
    /* Heckbert (1990): range 0..9.3 with ~6 ticks -> nice range 10, step 2, 0..10. */
    double lo = 0, hi = 9.3, t[32], step;
    size_t n = ks_svg_nice_ticks(&lo, &hi, 6, 1, t, 32, &step);
    CHECK_CLOSE(step, 2.0, 0, 1e-12);
    CHECK(n == 6);
    CHECK_CLOSE(t[0], 0.0, 0, 1e-12);
    CHECK_CLOSE(t[n - 1], 10.0, 0, 1e-12);
    /* 0.013..0.089: range nice(0.076) = 0.1, step nice(0.025, rounded) = 0.02. */
    lo = 0.013;
    hi = 0.089;
    n = ks_svg_nice_ticks(&lo, &hi, 5, 1, t, 32, &step);
    CHECK_CLOSE(step, 0.02, 1e-9, 0);
    CHECK_CLOSE(lo, 0.0, 0, 1e-12);
    CHECK_CLOSE(hi, 0.1, 1e-9, 0);
    CHECK(n == 6);
    /* not widened: ticks stay inside [lo, hi] */
    lo = 0.3;
    hi = 7.0;
    n = ks_svg_nice_ticks(&lo, &hi, 8, 0, t, 32, &step);
    CHECK(n > 0 && t[0] >= 0.3 && t[n - 1] <= 7.0);
    CHECK_CLOSE(step, 1.0, 0, 1e-12);
    /* degenerate range does not divide by zero */
    lo = hi = 5;
    n = ks_svg_nice_ticks(&lo, &hi, 5, 1, t, 32, &step);
    CHECK(n >= 2 && lo < 5 && hi > 5);
}

static void test_palette(void)
{
    for (int i = 0; i < KS_SVG_NSTYLES; i++)
        for (int j = i + 1; j < KS_SVG_NSTYLES; j++) {
            CHECK(strcmp(ks_svg_colour(i), ks_svg_colour(j)) != 0);
            CHECK(strcmp(ks_svg_dash(i), ks_svg_dash(j)) != 0);
        }
    /* Okabe & Ito (2008) blue and vermillion lead the palette. */
    CHECK(strcmp(ks_svg_colour(0), "#0072B2") == 0);
    CHECK(strcmp(ks_svg_colour(1), "#D55E00") == 0);
}

static void test_render(void)
{
    enum { N = 401 };
    static double x[N], y1[N], y2[N], lo[N], hi[N], km_x[5], km_y[5];
    for (int i = 0; i < N; i++) {
        x[i] = 0.1 * i; /* 0..40 h */
        y1[i] = 100.0 * exp(-0.2 * x[i]) * (1 - exp(-3 * x[i]));
        y2[i] = i == 200 ? NAN : 50.0 + 10.0 * sin(x[i]);
        lo[i] = y2[i] - 5;
        hi[i] = y2[i] + 5;
    }
    const double kx[5] = {0, 5, 10, 20, 40}, ky[5] = {1, 0.8, 0.6, 0.55, 0.4};
    memcpy(km_x, kx, sizeof kx);
    memcpy(km_y, ky, sizeof ky);
    ks_svg_figure f;
    ks_svg_figure_init(&f);
    f.id = "t1";
    f.title = "Test <figure> & more";
    f.desc = "structural test";
    f.xlabel = "Time (h)";
    f.xmin = 0;
    f.xmax = 40;
    const double doses[2] = {0, 24};
    f.vlines = doses;
    f.n_vlines = 2;
    f.vline_label = "dose";
    ks_svg_panel *p = ks_svg_add_panel(&f, "Concentrations", "Concentration (ng/mL)");
    ks_svg_add_series(p, "drug A", x, y1, N, 0);
    ks_svg_series *s2 = ks_svg_add_series(p, "metabolite \"B\" <1>", x, y2, N, 1);
    s2->lo = lo;
    s2->hi = hi;
    ks_svg_add_hline(p, 75.0, "threshold");
    ks_svg_span span = {10, 20};
    p->spans = &span;
    p->n_spans = 1;
    p->span_label = "window open";
    ks_svg_panel *q = ks_svg_add_panel(&f, "Log axis", "Concentration (ng/mL)");
    q->log_y = 1;
    ks_svg_add_series(q, "drug A (log)", x, y1, N, 0); /* y1[0] = 0: not drawable on log */
    ks_svg_panel *k = ks_svg_add_panel(&f, "Kaplan-Meier", "Fraction without relapse");
    ks_svg_series *ks = ks_svg_add_series(k, "arm 1", km_x, km_y, 5, 2);
    ks->step = 1;

    ks_tb tb;
    ks_tb_init(&tb);
    ks_svg_render(&f, &tb);
    CHECK(!tb.oom);
    const char *svg = ks_tb_str(&tb);
    int n_el = 0;
    CHECK(check_markup(svg, &n_el) == 0);
    CHECK(n_el > 50);
    CHECK(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
    CHECK(count(svg, "<svg") == 1 && count(svg, "</svg>") == 1);
    CHECK(strstr(svg, "<title>Test &lt;figure&gt; &amp; more</title>") != NULL);
    CHECK(strstr(svg, "<desc>structural test</desc>") != NULL);
    /* axis labels with units, legend entries (escaped), threshold and span labels */
    CHECK(has_text(svg, "Concentration (ng/mL)"));
    CHECK(has_text(svg, "Time (h)"));
    CHECK(has_text(svg, "Fraction without relapse"));
    CHECK(has_text(svg, "drug A"));
    CHECK(has_text(svg, "metabolite &quot;B&quot; &lt;1&gt;"));
    CHECK(has_text(svg, "drug A (log)"));
    CHECK(has_text(svg, "arm 1"));
    CHECK(has_text(svg, "threshold"));
    CHECK(has_text(svg, "window open"));
    CHECK(has_text(svg, "dose"));
    CHECK(count(svg, "class=\"legend-entry\"") == 4 + 1 + 3); /* series, span, doses x 3 */
    CHECK(count(svg, "class=\"series\"") == 4);
    CHECK(count(svg, "class=\"band\"") == 2); /* split at the NaN */
    CHECK(count(svg, "class=\"threshold\"") == 1);
    CHECK(count(svg, "class=\"span\"") == 1);
    CHECK(count(svg, "class=\"marker\"") == 2 * 3); /* two doses in three panels */
    CHECK(count(svg, "clip-path=\"url(#ks-t1-clip") == 3);
    /* x tick labels of 0..40 h: 0, 5, ..., 40 (Heckbert step 5 for ~8 ticks) */
    CHECK(has_text(svg, ">40<") || strstr(svg, ">40</text>") != NULL);
    /* log axis: decade labels */
    CHECK(strstr(svg, ">100</text>") != NULL && strstr(svg, ">10</text>") != NULL);
    /* step curve: 5 points -> M + 4 x (horizontal, vertical) = 9 points */
    const char *km = strstr(svg, "<title>arm 1</title>");
    CHECK(km != NULL);
    if (km) {
        const char *d = km;
        while (d > svg && strncmp(d, " d=\"", 4) != 0)
            d--;
        int pts = 0;
        for (const char *c = d + 4; *c && *c != '"'; c++)
            if (*c == 'M' || *c == 'L')
                pts++;
        CHECK(pts == 9);
    }
    /* the NaN splits the second series into two subpaths */
    const char *m2 = strstr(svg, "<title>metabolite");
    if (m2) {
        const char *d = m2;
        while (d > svg && strncmp(d, " d=\"", 4) != 0)
            d--;
        int moves = 0;
        for (const char *c = d + 4; *c && *c != '"'; c++)
            if (*c == 'M')
                moves++;
        CHECK(moves == 2);
    }
    ks_tb_free(&tb);

    /* an empty time range gives a valid SVG with a message, not garbage */
    ks_svg_figure g;
    ks_svg_figure_init(&g);
    g.title = "empty";
    ks_tb_init(&tb);
    ks_svg_render(&g, &tb);
    CHECK(check_markup(ks_tb_str(&tb), &n_el) == 0);
    CHECK(strstr(ks_tb_str(&tb), "no time range") != NULL);
    ks_tb_free(&tb);
}

/* A synthetic run: one 40-min infusion at t_dose, glutamate a Gaussian peaking 25 min into the
 * infusion at +30 %, the plasticity window a Gaussian of height 0.8 centred 20 h after the
 * dose with width 8 h (open above half height, i.e. |t - t_dose - 20| <= 8 sqrt(ln 2) = 6.66 h:
 * opens 13.3 h and closes 26.7 h after the dose), MADRS falling from 30 to 12 and back. */
static ks_result *synthetic(ks_ctx *ctx, double t_dose, int with_mechanism, ks_scenario **scen)
{
    enum { NT = 72 * 60 + 1 };
    static double t[NT];
    for (int i = 0; i < NT; i++)
        t[i] = i / 60.0;
    const char *names[] = {"plasma_ketamine_total", "glutamate_change_pct", "plasticity_window",
                           "madrs_true", "mood"};
    const char *units[] = {"ng/mL", "%", "0-1", "points", "1"};
    size_t n_out = with_mechanism ? 5 : 1;
    ks_result *r = ks_result_alloc(ctx, 1, n_out, names, units);
    if (!r || ks_result_set_subject(ctx, r, 0, 1, t, NT) != KS_OK)
        return NULL;
    double *c = ks_result_values_mut(r, 0, 0);
    for (int i = 0; i < NT; i++) {
        double u = t[i] - t_dose;
        c[i] = u < 0 ? 0 : u <= 2.0 / 3.0 ? 240 * u : 160 * exp(-0.3 * (u - 2.0 / 3.0));
    }
    if (with_mechanism) {
        double *g = ks_result_values_mut(r, 0, 1), *w = ks_result_values_mut(r, 0, 2);
        double *m = ks_result_values_mut(r, 0, 3), *mo = ks_result_values_mut(r, 0, 4);
        for (int i = 0; i < NT; i++) {
            double u = t[i] - t_dose;
            g[i] = 30.0 * exp(-pow((u - 25.0 / 60.0) / 0.2, 2));
            w[i] = 0.8 * exp(-pow((u - 20.0) / 8.0, 2));
            m[i] = 30.0 - 18.0 * exp(-pow((u - 24.0) / 12.0, 2));
            mo[i] = -1.0 + 1.8 * exp(-pow((u - 24.0) / 12.0, 2));
        }
    }
    ks_scenario *s = ks_scenario_alloc(ctx, "synthetic", "<test>");
    ks_patient p;
    ks_patient_init(&p);
    ks_dose d;
    memset(&d, 0, sizeof d);
    d.t_h = t_dose;
    d.amount_mg = 35;
    d.duration_h = 40.0 / 60.0;
    d.drug = KS_DRUG_KETAMINE;
    d.route = KS_ROUTE_IV_INFUSION;
    if (!s || ks_scenario_add_subject(ctx, s, &p, &d, 1, t, NT) != KS_OK) {
        ks_result_free(r);
        ks_scenario_free(s);
        return NULL;
    }
    *scen = s;
    return r;
}

static void test_narrative(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_scenario *s1 = NULL, *s2 = NULL, *s3 = NULL;
    ks_result *r1 = synthetic(ctx, 1.0, 1, &s1);
    ks_result *r2 = synthetic(ctx, 7.5, 1, &s2);
    ks_result *r3 = synthetic(ctx, 1.0, 0, &s3);
    CHECK(r1 && r2 && r3);
    if (!(r1 && r2 && r3))
        goto done;
    ks_report_options o;
    ks_report_options_init(&o);
    o.scenario = s1;
    char *n1 = ks_report_narrative(ctx, r1, &o);
    o.scenario = s2;
    char *n2 = ks_report_narrative(ctx, r2, &o);
    o.scenario = s3;
    char *n3 = ks_report_narrative(ctx, r3, &o);
    CHECK(n1 && n2 && n3);
    if (n1 && n2 && n3) {
        /* times measured from the courses, relative to the infusion */
        CHECK(strstr(n1, "glutamate peaked 30% above its usual level 25 minutes into the "
                         "infusion") != NULL);
        CHECK(strstr(n1, "opened 13 hours after the infusion and closed 27 hours after the "
                         "infusion") != NULL);
        /* MADRS 30 -> 12 at 24 h after the dose: response (<= 15) and no remission (> 10) */
        CHECK(strstr(n1, "It was lowest, 12, 24 hours after the infusion") != NULL);
        CHECK(strstr(n1, "did not reach remission") != NULL);
        CHECK(strstr(n1, "the response was lost again") != NULL);
        /* the dose at another time changes the clock times in the text */
        CHECK(strstr(n1, "starting day 0 at 01:00") != NULL);
        CHECK(strstr(n2, "starting day 0 at 07:30") != NULL);
        CHECK(strcmp(n1, n2) != 0);
        /* absent outputs: said, not invented */
        CHECK(strstr(n3, "could not describe") != NULL);
        CHECK(strstr(n3, "nmda_block_interneuron") != NULL);
        CHECK(strstr(n3, "glutamate peaked") == NULL);
        CHECK(strstr(n1, "@figure") == NULL);
    }
    free(n1);
    free(n2);
    free(n3);
    /* a figure without any of its outputs is an input error naming the outputs */
    o.scenario = s3;
    CHECK(ks_plot_write_svg(ctx, r3, "cascade", "test_svg_cascade.svg", &o) == KS_ERR_INPUT);
    CHECK(strstr(ks_ctx_message(ctx), "glutamate_change_pct") != NULL);
    ks_ctx_clear(ctx);
    CHECK(ks_plot_write_svg(ctx, r3, "nope", "x.svg", &o) == KS_ERR_INPUT);
    ks_ctx_clear(ctx);
    o.subject = 3;
    CHECK(ks_plot_write_svg(ctx, r3, "pk", "x.svg", &o) == KS_ERR_USAGE);
    ks_ctx_clear(ctx);
    /* the full report into the current directory */
    o.subject = 0;
    o.scenario = s1;
    CHECK(ks_report_write_html(ctx, r1, ".", &o) == KS_OK);
    size_t len = 0;
    char *html = ks_read_file(ctx, "report.html", "report", 1u << 26, &len);
    CHECK(html != NULL);
    if (html) {
        int n_el = 0;
        CHECK(check_markup(strstr(html, "<html"), &n_el) == 0);
        CHECK(strstr(html, "not medical advice") != NULL);
        CHECK(strstr(html, "<script") == NULL);
        CHECK(strstr(html, "http://") == NULL ||
              count(html, "http://") == count(html, "http://www.w3.org/2000/svg"));
        CHECK(count(html, "<svg") == 4); /* pk, cascade (glutamate), spines (window), mood */
        CHECK(strstr(html, "25 minutes into the infusion") != NULL);
    }
    free(html);
done:
    ks_result_free(r1);
    ks_result_free(r2);
    ks_result_free(r3);
    ks_scenario_free(s1);
    ks_scenario_free(s2);
    ks_scenario_free(s3);
    ks_ctx_free(ctx);
}

int main(void)
{
    test_nice_ticks();
    test_palette();
    test_render();
    test_narrative();
    return ks_test_finish("test_svg");
}
