/*
 * test_fast.c -- the fast path (KS_SOLVER_FAST) against the reference path (CVODE, rtol 1e-8)
 * on the same walk of events, and the Rosenbrock-W stepper against an analytic solution.
 *
 * 1. ROS34PW2 (rosw.h) on y' = lambda (y - sin t) + cos t, y(0) = 0, whose solution is sin t:
 *    halving h divides the error at t = 1 by about 2^3 (order 3).
 * 2. Agreement with CVODE (stated tolerance, docs/API.md "Fast path"): madrs_true within
 *    MADRS_TOL points, every other mechanism output within PD_TOL of its range over the run,
 *    PK outputs within PK_TOL of their peak, on: the default 28-day course of six infusions with
 *    noise; a single infusion; esketamine intranasal twice weekly; escitalopram daily for
 *    6 weeks; interventions (anti-BDNF, AMPA block, mTOR block, spine ablation, a stress
 *    episode); a PK-only run (also against the closed-form PK).
 * 3. Every output finite; the same run twice gives bitwise identical outputs.
 * 4. The sparse Jacobian (sparse_jac.h) on random patterns of f_i(z) = sum_j c_ij sin(z_j + i/10)
 *    over the pattern (analytic J_ij = c_ij cos(z_j + i/10)): probing finds exactly the pattern;
 *    column groups are structurally orthogonal; the grouped forward differences equal the
 *    column-by-column ones bitwise and the analytic J to 1e-6; the block order is block lower
 *    triangular; the block-triangular solve of (d I - J) x = b leaves a residual at rounding
 *    level (1e-13 of |M| |x|) against the dense matrix.
 * 5. The mechanism's inputs: the concentration map of ks_model_pd_input equals
 *    ks_pd_input_from_pk on the full PK state bitwise, for several carried subsets.
 */
#include "ks_test.h"

#include "core/internal.h"
#include "model/model.h"
#include "sim/patient_sim.h"
#include "sim/simulate.h"
#include "solve/rosw.h"
#include "solve/sparse_jac.h"

#include <float.h>
#include <stdint.h>
#include <string.h>

#define NT_MAX    1200
#define MADRS_TOL 0.1
#define PD_TOL    3e-3
#define PK_TOL    1e-6

static double g_ref[KS_SIM_OUT_AMOUNT * NT_MAX];
static double g_fast[KS_SIM_OUT_AMOUNT * NT_MAX];
static double g_fast2[KS_SIM_OUT_AMOUNT * NT_MAX];

/* ---- 1. order of the stepper ---- */

static const double lambda_ = -2.0;

static int lin_rhs(double c, const double *y, double *f, void *user)
{
    const double *t0h = user; /* t0, h */
    double t = t0h[0] + c * t0h[1];
    f[0] = lambda_ * (y[0] - sin(t)) + cos(t);
    return 0;
}

static double rosw_error(int nsteps)
{
    ks_rosw r;
    ks_rosw_init(&r);
    const double h = 1.0 / nsteps;
    double y = 0.0, jac = lambda_, lu[1];
    int piv[1];
    double work[(KS_ROSW_STAGES + 1)], y1, err;
    ks_rosw_factor(&r, 1, &jac, h, lu, piv);
    for (int k = 0; k < nsteps; k++) {
        double t0h[2] = {k * h, h};
        double f0, ft;
        lin_rhs(0.0, &y, &f0, t0h);
        ft = -lambda_ * cos(t0h[0]) - sin(t0h[0]); /* df/dt at fixed y */
        ks_rosw_step(&r, 1, &y, &f0, &ft, h, lu, piv, lin_rhs, t0h, &y1, &err, work);
        y = y1;
    }
    return fabs(y - sin(1.0));
}

static void test_order(void)
{
    double e1 = rosw_error(10), e2 = rosw_error(20), e3 = rosw_error(40);
    printf("  ROS34PW2 errors at t = 1: %.3g %.3g %.3g (ratios %.2f %.2f)\n", e1, e2, e3, e1 / e2,
           e2 / e3);
    CHECK(e1 / e2 > 6.0 && e1 / e2 < 11.0);
    CHECK(e2 / e3 > 6.0 && e2 / e3 < 11.0);
}

/* ---- 2. agreement ---- */

typedef struct {
    const char *name;
    ks_dose d[64];
    size_t nd;
    ks_event ev[32];
    size_t ne;
    double times[NT_MAX];
    size_t nt;
    int mech, noise;
} scen;

static void grid(scen *s, double t_end, double step)
{
    s->nt = 0;
    for (size_t k = 0; s->nt < NT_MAX && (double)k * step <= t_end + 1e-9; k++) {
        s->times[s->nt++] = (double)k * step;
    }
}

static void infusion(ks_dose *d, double t, double mg)
{
    memset(d, 0, sizeof *d);
    d->t_h = t;
    d->amount_mg = mg;
    d->duration_h = 40.0 / 60.0;
    d->drug = KS_DRUG_KETAMINE;
    d->route = KS_ROUTE_IV_INFUSION;
}

static ks_status run_path(ks_ctx *ctx, const ks_model_typical *typ, ks_sim_workspace *ws,
                          const scen *s, double *out, size_t *n_sel)
{
    static size_t sel[KS_SIM_OUT_AMOUNT];
    for (size_t j = 0; j < KS_SIM_OUT_AMOUNT; j++) {
        sel[j] = j;
    }
    *n_sel = s->mech ? KS_SIM_OUT_NOISE : KS_PK_NOUT;
    ks_patient p;
    ks_patient_init(&p);
    ks_patient_run run;
    memset(&run, 0, sizeof run);
    run.patient = &p;
    run.doses = s->d;
    run.n_doses = s->nd;
    run.events = s->ev;
    run.n_events = s->ne;
    run.times_h = s->times;
    run.n_times = s->nt;
    run.mechanism = s->mech;
    run.noise = s->noise;
    run.seed = 20240601;
    run.key = 42;
    ks_status st = ks_sim_patient(ctx, typ, ws, &run, sel, *n_sel, out, NULL);
    if (st != KS_OK) {
        fprintf(stderr, "%s: %s\n", s->name, ks_ctx_message(ctx));
    }
    return st;
}

static void compare(ks_ctx *ctx, const ks_model_typical *typ, ks_sim_workspace *wref,
                    ks_sim_workspace *wfast, const scen *s)
{
    size_t n_sel = 0;
    int ok = run_path(ctx, typ, wref, s, g_ref, &n_sel) == KS_OK &&
             run_path(ctx, typ, wfast, s, g_fast, &n_sel) == KS_OK &&
             run_path(ctx, typ, wfast, s, g_fast2, &n_sel) == KS_OK;
    CHECK(ok);
    if (!ok) {
        return;
    }
    const size_t nt = s->nt;
    double d_madrs = 0.0, d_pd = 0.0, d_pk = 0.0;
    size_t arg = 0;
    int finite = 1;
    for (size_t j = 0; j < n_sel; j++) {
        const double *a = g_ref + j * nt, *b = g_fast + j * nt;
        double lo = a[0], hi = a[0], dmax = 0.0;
        for (size_t k = 0; k < nt; k++) {
            lo = fmin(lo, a[k]);
            hi = fmax(hi, a[k]);
            dmax = fmax(dmax, fabs(a[k] - b[k]));
            finite &= isfinite(b[k]);
        }
        if (j < KS_SIM_OUT_PD) {
            double peak = fmax(fabs(lo), fabs(hi));
            d_pk = fmax(d_pk, peak > 0.0 ? dmax / peak : dmax);
        } else if (j == KS_SIM_OUT_PD + KS_PD_OUT_MADRS) {
            d_madrs = fmax(d_madrs, dmax);
        } else {
            /* relative to the range; an output constant over the run (range below 1e-9)
             * against an absolute 1e-6 */
            double rel = hi - lo > 1e-9 ? dmax / (hi - lo) : dmax / 1e-6 * PD_TOL;
            if (rel > d_pd) {
                d_pd = rel;
                arg = j;
            }
        }
    }
    int same = memcmp(g_fast, g_fast2, n_sel * nt * sizeof(double)) == 0;
    printf("  %-38s madrs %.3g points, mechanism %.3g of range (%s), PK %.3g of peak\n", s->name,
           d_madrs, d_pd, s->mech ? ks_sim_output_name(arg) : "-", d_pk);
    CHECK(finite);
    CHECK(same);
    CHECK(d_madrs <= MADRS_TOL);
    CHECK(d_pd <= PD_TOL);
    CHECK(d_pk <= PK_TOL);
}

static void scenarios(ks_ctx *ctx, const ks_model_typical *typ)
{
    ks_sim_options oref, ofast;
    ks_sim_options_init(&oref);
    ks_sim_options_init(&ofast);
    ofast.solver = KS_SOLVER_FAST;
    ks_sim_workspace *wref = ks_sim_workspace_create(ctx, &oref);
    ks_sim_workspace *wfast = ks_sim_workspace_create(ctx, &ofast);
    static scen s;
    CHECK(wref && wfast);
    if (!wref || !wfast) {
        return;
    }

    /* the default course: six infusions M/W/F, therapy the day after, weekly visits, noise */
    memset(&s, 0, sizeof s);
    s.name = "default 28-day course, noise";
    const double days[6] = {0, 2, 4, 7, 9, 11};
    for (int i = 0; i < 6; i++) {
        infusion(&s.d[s.nd++], 24.0 * days[i] + 9.0, 35.0);
        s.ev[s.ne++] = (ks_event){24.0 * days[i] + 33.0, 0.0, 1.0, KS_EV_THERAPY};
    }
    for (int w = 0; w < 4; w++) {
        s.ev[s.ne++] = (ks_event){168.0 * w + 8.0, 0.0, 1.0, KS_EV_VISIT};
    }
    ks_events_sort(s.ev, s.ne);
    grid(&s, 672.0, 1.0);
    s.mech = 1;
    s.noise = 1;
    compare(ctx, typ, wref, wfast, &s);

    /* a single infusion, fine output grid */
    memset(&s, 0, sizeof s);
    s.name = "single infusion, 10-min grid";
    infusion(&s.d[s.nd++], 1.0, 35.0);
    grid(&s, 7 * 24.0, 1.0 / 6.0);
    s.mech = 1;
    compare(ctx, typ, wref, wfast, &s);

    /* esketamine 56 mg intranasal (two devices 5 min apart) twice weekly for 4 weeks */
    memset(&s, 0, sizeof s);
    s.name = "esketamine intranasal twice weekly";
    for (int w = 0; w < 4; w++) {
        for (int k = 0; k < 2; k++) {
            double t0 = 168.0 * w + 72.0 * k + 10.0;
            for (int dev = 1; dev <= 2; dev++) {
                ks_dose *d = &s.d[s.nd++];
                memset(d, 0, sizeof *d);
                d->t_h = t0 + (dev - 1) * 5.0 / 60.0;
                d->amount_mg = 28.0;
                d->drug = KS_DRUG_ESKETAMINE;
                d->route = KS_ROUTE_INTRANASAL;
                d->device = dev;
            }
        }
    }
    grid(&s, 28 * 24.0, 1.0);
    s.mech = 1;
    s.noise = 1;
    compare(ctx, typ, wref, wfast, &s);

    /* escitalopram 10 mg orally every morning for 6 weeks */
    memset(&s, 0, sizeof s);
    s.name = "escitalopram daily, 6 weeks";
    for (int k = 0; k < 42; k++) {
        ks_dose *d = &s.d[s.nd++];
        memset(d, 0, sizeof *d);
        d->t_h = 24.0 * k + 8.0;
        d->amount_mg = 10.0;
        d->drug = KS_DRUG_ESCITALOPRAM;
        d->route = KS_ROUTE_ORAL;
    }
    grid(&s, 42 * 24.0, 2.0);
    s.mech = 1;
    s.noise = 1;
    compare(ctx, typ, wref, wfast, &s);

    /* interventions around single infusions */
    memset(&s, 0, sizeof s);
    s.name = "interventions (anti-BDNF, AMPA, mTOR...)";
    infusion(&s.d[s.nd++], 2.0, 35.0);
    infusion(&s.d[s.nd++], 74.0, 35.0);
    infusion(&s.d[s.nd++], 146.0, 35.0);
    s.ev[s.ne++] = (ks_event){1.5, 0.0, 0.8, KS_EV_ANTI_BDNF};
    s.ev[s.ne++] = (ks_event){73.5, 0.0, 0.9, KS_EV_AMPA_BLOCK};
    s.ev[s.ne++] = (ks_event){145.0, 6.0, 0.7, KS_EV_MTOR_BLOCK};
    s.ev[s.ne++] = (ks_event){170.0, 0.0, 0.5, KS_EV_SPINE_ABLATION};
    s.ev[s.ne++] = (ks_event){200.0, 72.0, 1.0, KS_EV_STRESS};
    grid(&s, 12 * 24.0, 0.5);
    s.mech = 1;
    compare(ctx, typ, wref, wfast, &s);

    /* PK only */
    memset(&s, 0, sizeof s);
    s.name = "PK only: infusion and bolus";
    infusion(&s.d[s.nd++], 1.0, 35.0);
    memset(&s.d[s.nd], 0, sizeof s.d[0]);
    s.d[s.nd].t_h = 30.0;
    s.d[s.nd].amount_mg = 20.0;
    s.d[s.nd].drug = KS_DRUG_KETAMINE;
    s.d[s.nd++].route = KS_ROUTE_IV_BOLUS;
    grid(&s, 72.0, 0.25);
    compare(ctx, typ, wref, wfast, &s);

    /* the PK-only fast path against the closed form (the exact superposition) */
    ks_pk_system *sys = calloc(1, sizeof *sys);
    double *xcf = calloc(s.nt * KS_PK_MAXN, sizeof(double));
    ks_patient p;
    ks_patient_init(&p);
    size_t n_sel = 0;
    CHECK(sys && xcf && ks_pk_build(ctx, typ->pk, &p, sys) == KS_OK &&
          ks_pk_closed_form(ctx, sys, s.d, s.nd, s.times, s.nt, xcf) == KS_OK &&
          run_path(ctx, typ, wfast, &s, g_fast, &n_sel) == KS_OK);
    if (sys && xcf) {
        double worst = 0.0;
        for (size_t j = 0; j < KS_PK_NOUT; j++) {
            double peak = 0.0;
            for (size_t k = 0; k < s.nt; k++) {
                peak = fmax(peak, fabs(ks_pk_output_value(sys, (int)j, xcf + k * (size_t)sys->n)));
            }
            for (size_t k = 0; k < s.nt && peak > 0.0; k++) {
                double ref = ks_pk_output_value(sys, (int)j, xcf + k * (size_t)sys->n);
                worst = fmax(worst, fabs(g_fast[j * s.nt + k] - ref) / peak);
            }
        }
        printf("  PK only vs closed form: %.3g of peak\n", worst);
        CHECK(worst <= 1e-9);
    }
    free(sys);
    free(xcf);
    ks_sim_workspace_free(wref);
    ks_sim_workspace_free(wfast);
}

/* The fast path's own tolerances (ks_sim_options.fast_rtol/fast_atol): rejected when not
 * positive and finite; tightened, the default course completes (at atol 1e-10 the start of an
 * infusion needs steps below the smallest ladder rung of fast_pk.h) and comes closer to the
 * reference, whose tolerances (1e-8, 1e-12) are tighter than both. */
static void tolerances(ks_ctx *ctx, const ks_model_typical *typ)
{
    const double bad[][2] = {{0.0, 1e-6}, {-1e-6, 1e-6}, {1.5, 1e-6}, {1e-5, 0.0}, {1e-5, NAN}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ks_sim_options o;
        ks_sim_options_init(&o);
        o.solver = KS_SOLVER_FAST;
        o.fast_rtol = bad[k][0];
        o.fast_atol = bad[k][1];
        ks_sim_workspace *w = ks_sim_workspace_create(ctx, &o);
        CHECK(w == NULL && ks_ctx_status(ctx) == KS_ERR_USAGE);
        ks_sim_workspace_free(w);
    }
    ks_sim_options oref, odef, otight;
    ks_sim_options_init(&oref);
    ks_sim_options_init(&odef);
    odef.solver = KS_SOLVER_FAST;
    CHECK(odef.fast_rtol == 1e-5 && odef.fast_atol == 1e-6);
    otight = odef;
    otight.fast_rtol = 1e-7;
    otight.fast_atol = 1e-10;
    ks_sim_workspace *wref = ks_sim_workspace_create(ctx, &oref);
    ks_sim_workspace *wdef = ks_sim_workspace_create(ctx, &odef);
    ks_sim_workspace *wtight = ks_sim_workspace_create(ctx, &otight);
    static scen s;
    memset(&s, 0, sizeof s);
    s.name = "default course, fast path at rtol 1e-7, atol 1e-10";
    const double days[6] = {0, 2, 4, 7, 9, 11};
    for (int i = 0; i < 6; i++) {
        infusion(&s.d[s.nd++], 24.0 * days[i] + 9.0, 35.0);
    }
    grid(&s, 336.0, 1.0);
    s.mech = 1;
    s.noise = 1;
    size_t n_sel = 0;
    int ok = wref && wdef && wtight && run_path(ctx, typ, wref, &s, g_ref, &n_sel) == KS_OK &&
             run_path(ctx, typ, wdef, &s, g_fast, &n_sel) == KS_OK &&
             run_path(ctx, typ, wtight, &s, g_fast2, &n_sel) == KS_OK;
    CHECK(ok);
    if (ok) {
        const double *a = g_ref + (KS_SIM_OUT_PD + KS_PD_OUT_MADRS) * s.nt;
        const double *b = g_fast + (KS_SIM_OUT_PD + KS_PD_OUT_MADRS) * s.nt;
        const double *c = g_fast2 + (KS_SIM_OUT_PD + KS_PD_OUT_MADRS) * s.nt;
        double d_def = 0.0, d_tight = 0.0;
        for (size_t k = 0; k < s.nt; k++) {
            d_def = fmax(d_def, fabs(b[k] - a[k]));
            d_tight = fmax(d_tight, fabs(c[k] - a[k]));
        }
        printf("  %s: madrs %.3g points (defaults: %.3g)\n", s.name, d_tight, d_def);
        CHECK(d_tight < d_def);
        CHECK(d_tight <= 1e-3);
    }
    ks_sim_workspace_free(wref);
    ks_sim_workspace_free(wdef);
    ks_sim_workspace_free(wtight);
}

/* ---- 4. sparse Jacobian ---- */

#define SPN 24

typedef struct {
    int n;
    unsigned char pat[SPN * SPN];
    double c[SPN * SPN];
} sp_fun;

static void sp_f(const double *z, double *f, void *user)
{
    const sp_fun *p = user;
    for (int i = 0; i < p->n; i++) {
        double s = 0.0;
        for (int j = 0; j < p->n; j++) {
            if (p->pat[i * p->n + j]) {
                s += p->c[i * p->n + j] * sin(z[j] + 0.1 * i);
            }
        }
        f[i] = s;
    }
}

static double sp_unif(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
}

/* kind 0: random pattern of density 0.2; kind 1: lower triangular of density 0.3 with three
 * entries above the diagonal (several blocks, some larger than 1). */
static void test_sparse_one(uint64_t seed, int kind)
{
    static sp_fun p;
    static ks_spj s;
    static ks_spj_lu lu;
    static double jval[KS_SPJ_MAXNNZ], jcol[KS_SPJ_MAXNNZ], jdense[SPN * SPN], m[SPN * SPN];
    const int n = SPN;
    p.n = n;
    memset(p.pat, 0, sizeof p.pat);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            double u = sp_unif(&seed);
            int on = kind == 0 ? u < 0.2 : (j < i && u < 0.3);
            p.pat[i * n + j] = (unsigned char)(i == j || on);
            p.c[i * n + j] = p.pat[i * n + j] ? 0.5 + sp_unif(&seed) : 0.0;
        }
    }
    if (kind == 1) {
        for (int k = 0; k < 3; k++) {
            int i = (int)(sp_unif(&seed) * (n - 1)), j = i + 1 + (int)(sp_unif(&seed) * 3);
            j = j < n ? j : n - 1;
            p.pat[i * n + j] = 1;
            p.c[i * n + j] = 0.5 + sp_unif(&seed);
        }
    }
    double z[SPN], zw[SPN], f0[SPN], f1[SPN];
    for (int i = 0; i < n; i++) {
        z[i] = 2.0 * sp_unif(&seed) - 1.0;
    }
    /* probing recovers the pattern */
    unsigned char found[SPN * SPN];
    memset(found, 0, sizeof found);
    ks_spj_probe(n, z, sp_f, &p, zw, f0, f1, found);
    CHECK(memcmp(found, p.pat, sizeof found) == 0);
    CHECK(ks_spj_build(&s, n, found) == 0);
    /* structurally orthogonal groups covering every column once */
    int seen[SPN] = {0}, ok_groups = 1;
    for (int g = 0; g < s.ngroup; g++) {
        int rows[SPN] = {0};
        for (int q = s.gptr[g]; q < s.gptr[g + 1]; q++) {
            int j = s.gcol[q];
            seen[j]++;
            for (int e = s.colptr[j]; e < s.colptr[j + 1]; e++) {
                ok_groups &= rows[s.rowind[e]]++ == 0;
            }
        }
    }
    for (int j = 0; j < n; j++) {
        ok_groups &= seen[j] == 1;
    }
    CHECK(ok_groups);
    CHECK(s.ngroup <= n);
    /* grouped = column by column (bitwise), both close to the analytic J */
    sp_f(z, f0, &p);
    CHECK(ks_spj_jacobian(&s, z, f0, sp_f, &p, zw, f1, jval) == s.ngroup);
    double worst_col = 0.0, worst_an = 0.0;
    for (int j = 0; j < n; j++) {
        memcpy(zw, z, sizeof zw);
        double h = sqrt(DBL_EPSILON) * fmax(fabs(z[j]), 1.0);
        volatile double zj = z[j] + h;
        zw[j] = zj;
        sp_f(zw, f1, &p);
        for (int e = s.colptr[j]; e < s.colptr[j + 1]; e++) {
            int i = s.rowind[e];
            jcol[e] = (f1[i] - f0[i]) / (zj - z[j]);
            worst_col = fmax(worst_col, fabs(jcol[e] - jval[e]));
            double an = p.c[i * n + j] * cos(z[j] + 0.1 * i);
            worst_an = fmax(worst_an, fabs(jval[e] - an));
        }
    }
    CHECK(worst_col == 0.0);
    CHECK(worst_an <= 1e-6);
    /* block lower triangular in solve order */
    int block_of[SPN], tri = 1;
    for (int b = 0; b < s.nblock; b++) {
        for (int q = s.bptr[b]; q < s.bptr[b + 1]; q++) {
            block_of[s.bidx[q]] = b;
        }
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            tri &= !p.pat[i * n + j] || block_of[j] <= block_of[i];
        }
    }
    CHECK(tri);
    if (kind == 1) {
        CHECK(s.nblock > 1);
    }
    /* (d I - J) x = b against the dense matrix */
    const double d = 3.0;
    CHECK(ks_spj_factor(&s, jval, d, &lu) == 0);
    ks_spj_to_dense(&s, jval, jdense);
    double b[SPN], x[SPN], mnorm = 0.0, xnorm = 0.0, res = 0.0;
    for (int i = 0; i < n; i++) {
        b[i] = x[i] = 2.0 * sp_unif(&seed) - 1.0;
    }
    ks_spj_solve(&s, &lu, x);
    for (int i = 0; i < n; i++) {
        double r = -b[i];
        for (int j = 0; j < n; j++) {
            m[i * n + j] = (i == j ? d : 0.0) - jdense[j * n + i];
            r += m[i * n + j] * x[j];
            mnorm = fmax(mnorm, fabs(m[i * n + j]));
        }
        xnorm = fmax(xnorm, fabs(x[i]));
        res = fmax(res, fabs(r));
    }
    CHECK(res <= 1e-13 * n * mnorm * xnorm);
}

static void test_sparse(void)
{
    for (int k = 0; k < 6; k++) {
        test_sparse_one((uint64_t)(0x5eed + 7919 * k), k % 2);
    }
}

/* ---- 5. the mechanism's inputs from the PK state ---- */

/* ks_model_pd_input evaluates the concentrations by a map over the carried states built in
 * ks_model_setup; by construction (same terms, same order, same division) it must equal the
 * library's definition ks_pd_input_from_pk on the full PK state bitwise, for every carried
 * subset and any state. */
static void test_inputs(ks_ctx *ctx, const ks_model_typical *typ)
{
    static ks_pk_system sys;
    static ks_pd_patient pd;
    static ks_model m;
    ks_patient p;
    ks_patient_init(&p);
    ks_pd_covariates cov;
    ks_pd_covariates_init(&cov);
    CHECK(ks_pk_build(ctx, typ->pk, &p, &sys) == KS_OK);
    CHECK(ks_pd_build(ctx, typ->pd, &p, &cov, &pd) == KS_OK);
    uint64_t seed = 12345;
    int mismatches = 0, mapped = 0;
    for (int subset = 0; subset < 3; subset++) {
        unsigned char carry[KS_PK_MAXN];
        for (int i = 0; i < sys.n; i++) {
            /* all states; every other state; a random half */
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            carry[i] = (unsigned char)(subset == 0 ? 1 : subset == 1 ? i % 2 : (int)(seed >> 63));
        }
        CHECK(ks_model_setup(ctx, &m, &sys, &pd, carry) == KS_OK);
        mapped += m.conc_ok;
        for (int trial = 0; trial < 50; trial++) {
            double y[KS_PK_MAXN], xfull[KS_PK_MAXN];
            memset(xfull, 0, sizeof xfull);
            for (int c = 0; c < m.n_pk; c++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                y[c] = ((double)(seed >> 11) / 9007199254740992.0 - 0.1) * 50.0;
                xfull[m.pk_full[c]] = y[c];
            }
            ks_pd_input a, b;
            ks_pd_input_init(&a);
            ks_pd_input_from_pk(&sys, xfull, &a);
            ks_model_pd_input(&m, 3.0, y, &b);
            const double ca[] = {a.sket,      a.rket,       a.snorket,      a.rnorket,
                                 a.hnk_2s6s,  a.hnk_2r6r,   a.escitalopram, a.citalopram,
                                 a.midazolam, a.naltrexone, a.naltrexol,    a.rapamycin};
            const double cb[] = {b.sket,      b.rket,       b.snorket,      b.rnorket,
                                 b.hnk_2s6s,  b.hnk_2r6r,   b.escitalopram, b.citalopram,
                                 b.midazolam, b.naltrexone, b.naltrexol,    b.rapamycin};
            for (size_t q = 0; q < sizeof ca / sizeof ca[0]; q++) {
                mismatches += memcmp(&ca[q], &cb[q], sizeof ca[q]) != 0;
            }
        }
    }
    printf("  input map: %d of 3 carried subsets mapped, %d bitwise mismatches\n", mapped,
           mismatches);
    CHECK(mapped == 3);
    CHECK(mismatches == 0);
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ks_params_create_default(ctx);
    ks_model_typical typ = {NULL, NULL};
    CHECK(params && ks_model_typical_init(ctx, params, &typ) == KS_OK);
    test_order();
    test_sparse();
    if (typ.pk) {
        scenarios(ctx, &typ);
    }
    if (typ.pk && typ.pd) {
        tolerances(ctx, &typ);
    }
    if (typ.pk && typ.pd) {
        test_inputs(ctx, &typ);
    }
    ks_model_typical_clear(&typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return ks_test_finish("test_fast");
}
