/*
 * test_pk.c -- checks of the pharmacokinetic layer against independent reasons: conservation
 * of mass, the analytic one-compartment solution, allometric algebra, the covariate effects as
 * published, dose input vectors, the drug-route matrix, and bioavailabilities computed from
 * the matrix algebraically (AUC = -A^{-1} b) against the closed-form expressions of the
 * well-stirred first-pass model.
 */
#include "ks_test_util.h"

#include "ketasim.h"
#include "model/pk.h"

#include <string.h>

#define N KS_PK_NSTATE

static int is_effect_state(int i)
{
    const char *s = ks_pk_state_name(i);
    size_t n = strlen(s);
    return n > 7 && strcmp(s + n - 7, "_effect") == 0;
}

/* Solves a x = b (n x n, row-major) by Gaussian elimination with partial pivoting. */
static int solve(int n, const double *a_in, const double *b, double *x)
{
    static double a[N * N];
    double r[N];
    memcpy(a, a_in, sizeof(double) * (size_t)(n * n));
    memcpy(r, b, sizeof(double) * (size_t)n);
    for (int k = 0; k < n; k++) {
        int p = k;
        for (int i = k + 1; i < n; i++) {
            if (fabs(a[i * n + k]) > fabs(a[p * n + k])) {
                p = i;
            }
        }
        if (a[p * n + k] == 0.0) {
            return -1;
        }
        if (p != k) {
            for (int j = 0; j < n; j++) {
                double t = a[k * n + j];
                a[k * n + j] = a[p * n + j];
                a[p * n + j] = t;
            }
            double t = r[k];
            r[k] = r[p];
            r[p] = t;
        }
        for (int i = k + 1; i < n; i++) {
            double f = a[i * n + k] / a[k * n + k];
            for (int j = k; j < n; j++) {
                a[i * n + j] -= f * a[k * n + j];
            }
            r[i] -= f * r[k];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = r[i];
        for (int j = i + 1; j < n; j++) {
            s -= a[i * n + j] * x[j];
        }
        x[i] = s / a[i * n + i];
    }
    return 0;
}

/* Integral over [0, inf) of x(t) for x' = A x, x(0) = b: z with A z = -b. */
static void auc_vector(const ks_pk_system *sys, const double *b, double *z)
{
    static double a[N * N];
    double nb[N];
    ks_pk_dense(sys, a);
    for (int i = 0; i < N; i++) {
        nb[i] = -b[i];
    }
    CHECK(solve(N, a, nb, z) == 0);
}

/* x(t) = exp(A t) x0 by a Taylor series with scaling and squaring (test's own, independent
 * of the library's Pade implementation). */
static void propagate(const ks_pk_system *sys, double t, const double *x0, double *x)
{
    static double a[N * N], e[N * N], term[N * N], tmp[N * N];
    ks_pk_dense(sys, a);
    double norm = 0.0;
    for (int i = 0; i < N; i++) {
        double s = 0.0;
        for (int j = 0; j < N; j++) {
            s += fabs(a[i * N + j]) * t;
        }
        norm = fmax(norm, s);
    }
    int sq = 0;
    while (norm > 0.1) {
        norm /= 2.0;
        sq++;
    }
    double h = t / pow(2.0, sq);
    for (int i = 0; i < N * N; i++) {
        a[i] *= h;
        e[i] = (i % (N + 1) == 0) ? 1.0 : 0.0;
        term[i] = e[i];
    }
    for (int k = 1; k <= 20; k++) {
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                double s = 0.0;
                for (int l = 0; l < N; l++) {
                    s += term[i * N + l] * a[l * N + j];
                }
                tmp[i * N + j] = s / k;
            }
        }
        memcpy(term, tmp, sizeof term);
        for (int i = 0; i < N * N; i++) {
            e[i] += term[i];
        }
    }
    for (int s = 0; s < sq; s++) {
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                double v = 0.0;
                for (int l = 0; l < N; l++) {
                    v += e[i * N + l] * e[l * N + j];
                }
                tmp[i * N + j] = v;
            }
        }
        memcpy(e, tmp, sizeof e);
    }
    for (int i = 0; i < N; i++) {
        double s = 0.0;
        for (int j = 0; j < N; j++) {
            s += e[i * N + j] * x0[j];
        }
        x[i] = s;
    }
}

static double entry(const ks_pk_system *sys, int r, int c)
{
    double v = 0.0;
    for (int k = 0; k < sys->nnz; k++) {
        if (sys->row[k] == r && sys->col[k] == c) {
            v += sys->val[k];
        }
    }
    return v;
}

/* Systemic clearance of one enantiomer (L/h): dose / AUC of concentration after an IV bolus. */
static double systemic_cl(const ks_pk_system *sys, int central, int out)
{
    double b[N] = {0}, z[N], x[N] = {0};
    b[central] = 1.0;
    auc_vector(sys, b, z);
    x[central] = 1.0;
    double conc_per_umol = ks_pk_output_value(sys, out, x) / sys->mw_g_per_mol[0]; /* 1/V */
    return 1.0 / (z[central] * conc_per_umol);
}

static void test_mass_balance(const ks_pk_system *sys, const ks_pk_typical *typ, ks_ctx *ctx,
                              const ks_params *p)
{
    (void)typ;
    for (int c = 0; c < N; c++) {
        double colsum = 0.0;
        for (int r = 0; r < N; r++) {
            double a = entry(sys, r, c);
            if (r != c) {
                CHECK(a >= 0.0); /* no flow out of a compartment into negative amounts */
            }
            if (!is_effect_state(r)) {
                colsum += a;
            }
            if (is_effect_state(c) && r != c) {
                CHECK(a == 0.0); /* an effect site feeds nothing */
            }
        }
        if (!is_effect_state(c)) {
            CHECK(colsum <= 1e-12); /* no flow creates mass */
        }
        CHECK(entry(sys, c, c) < 0.0);
    }
    /* Pure distribution compartments lose nothing. */
    const int pure[] = {KS_PK_SKET_P1, KS_PK_SKET_P2, KS_PK_SKET_NASAL, KS_PK_SKET_IM,
                        KS_PK_SKET_SL, KS_PK_SNOR_P,  KS_PK_RKET_P1,    KS_PK_RKET_P2,
                        KS_PK_MDZ_P,   KS_PK_SKET_C,  KS_PK_RKET_C};
    for (size_t i = 0; i < sizeof pure / sizeof pure[0]; i++) {
        double s = 0.0;
        for (int r = 0; r < N; r++) {
            if (!is_effect_state(r)) {
                s += entry(sys, r, pure[i]);
            }
        }
        CHECK_CLOSE(s, 0.0, 0.0, 1e-12);
    }
    /* Liver column sum = -kel with kel = (1 - fm) CLint / Vh and CLint = CL / (1 - E). */
    double cl = ks_test_par(ctx, p, "pk.sket.cl"), e = ks_test_par(ctx, p, "pk.liver.extraction");
    double fm = ks_test_par(ctx, p, "pk.liver.fm_nor"), vh = ks_test_par(ctx, p, "pk.liver.vh");
    double s = 0.0;
    for (int r = 0; r < N; r++) {
        if (!is_effect_state(r)) {
            s += entry(sys, r, KS_PK_SKET_LIVER);
        }
    }
    CHECK_CLOSE(s, -(1.0 - fm) * cl / (1.0 - e) / vh, 1e-12, 0.0);
    CHECK_CLOSE(entry(sys, KS_PK_SNOR_C, KS_PK_SKET_LIVER), fm * cl / (1.0 - e) / vh, 1e-12, 0.0);
}

static void test_one_compartment(const ks_pk_system *sys, ks_ctx *ctx, const ks_params *p)
{
    double cl = ks_test_par(ctx, p, "pk.esc.cl"), v = ks_test_par(ctx, p, "pk.esc.v");
    double ka = ks_test_par(ctx, p, "pk.esc.ka"), f = ks_test_par(ctx, p, "pk.esc.f");
    double ke0 = ks_test_par(ctx, p, "pk.esc.ke0"), k = cl / v;
    double x0[N] = {0}, x[N];
    x0[KS_PK_ESC_C] = 10.0; /* umol */
    x0[KS_PK_ESC_GUT] = 20.0;
    const double ts[] = {0.5, 3.0, 24.0, 100.0};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        double t = ts[i];
        propagate(sys, t, x0, x);
        /* IV part exp(-k t) plus Bateman oral part. */
        double iv = 10.0 * exp(-k * t);
        double oral = 20.0 * f * ka / (ka - k) * (exp(-k * t) - exp(-ka * t));
        CHECK_CLOSE(x[KS_PK_ESC_C], iv + oral, 1e-9, 1e-12);
        CHECK_CLOSE(x[KS_PK_ESC_GUT], 20.0 * exp(-ka * t), 1e-9, 1e-12);
        /* Effect site of the IV part alone has its own analytic form; check the sum by
         * superposition of the two inputs into the link dCe/dt = ke0 (A/V - Ce). */
        double ce_iv = 10.0 / v * ke0 / (ke0 - k) * (exp(-k * t) - exp(-ke0 * t));
        double c1 = 20.0 * f * ka / (v * (ka - k));
        double ce_or = c1 * ke0 *
                       ((exp(-k * t) - exp(-ke0 * t)) / (ke0 - k) -
                        (exp(-ka * t) - exp(-ke0 * t)) / (ke0 - ka));
        CHECK_CLOSE(x[KS_PK_ESC_E], ce_iv + ce_or, 1e-8, 1e-14);
        double ng = ks_pk_output_value(sys, KS_PK_OUT_PLASMA_ESC, x);
        CHECK_CLOSE(ng, (iv + oral) / v * 324.4, 1e-9, 1e-12);
    }
}

static void test_allometry(ks_ctx *ctx, const ks_pk_typical *typ, const ks_params *p)
{
    ks_patient a, b;
    ks_patient_init(&a);
    ks_patient_init(&b);
    b.weight_kg = 2.0 * a.weight_kg;
    static ks_pk_system sa, sb;
    CHECK(ks_pk_build(ctx, typ, &a, &sa) == KS_OK);
    CHECK(ks_pk_build(ctx, typ, &b, &sb) == KS_OK);
    double ev = ks_test_par(ctx, p, "pk.cov.allometric_v"),
           ec = ks_test_par(ctx, p, "pk.cov.allometric_cl");
    /* Volume: output coefficient mw/V halves for exponent 1. */
    CHECK_CLOSE(sa.out[KS_PK_OUT_PLASMA_SKET].coef[0] / sb.out[KS_PK_OUT_PLASMA_SKET].coef[0],
                pow(2.0, ev), 1e-12, 0.0);
    CHECK_CLOSE(sa.out[KS_PK_OUT_PLASMA_ESC].coef[0] / sb.out[KS_PK_OUT_PLASMA_ESC].coef[0],
                pow(2.0, ev), 1e-12, 0.0);
    /* Rate constant CL/V scales as 2^(0.75 - 1). */
    CHECK_CLOSE(entry(&sb, KS_PK_ESC_C, KS_PK_ESC_C) / entry(&sa, KS_PK_ESC_C, KS_PK_ESC_C),
                pow(2.0, ec - ev), 1e-12, 0.0);
    CHECK_CLOSE(entry(&sb, KS_PK_SKET_P1, KS_PK_SKET_C) / entry(&sa, KS_PK_SKET_P1, KS_PK_SKET_C),
                pow(2.0, ec - ev), 1e-12, 0.0);
    /* Systemic clearance scales as 2^0.75 (flow and intrinsic clearance scale alike). */
    double cla = systemic_cl(&sa, KS_PK_SKET_C, KS_PK_OUT_PLASMA_SKET);
    double clb = systemic_cl(&sb, KS_PK_SKET_C, KS_PK_OUT_PLASMA_SKET);
    CHECK_CLOSE(clb / cla, pow(2.0, ec), 1e-9, 0.0);
    /* And the reference patient has the tabulated clearance. */
    CHECK_CLOSE(cla, ks_test_par(ctx, p, "pk.sket.cl"), 1e-9, 0.0);
    double clr = systemic_cl(&sa, KS_PK_RKET_C, KS_PK_OUT_PLASMA_RKET);
    CHECK_CLOSE(clr, ks_test_par(ctx, p, "pk.sket.cl") * ks_test_par(ctx, p, "pk.rket.cl_ratio"),
                1e-9, 0.0);
}

static void test_covariates(ks_ctx *ctx, const ks_pk_typical *typ, const ks_params *p)
{
    ks_patient m, w, pm, im, old, asian;
    ks_patient_init(&m);
    w = pm = im = old = asian = m;
    w.sex = KS_SEX_FEMALE;
    pm.cyp2b6 = KS_CYP2B6_POOR;
    im.cyp2b6 = KS_CYP2B6_INTERMEDIATE;
    old.age_y = 80.0;
    asian.east_asian = 1;
    static ks_pk_system sm, sw, spm, sim, sold, sas;
    CHECK(ks_pk_build(ctx, typ, &m, &sm) == KS_OK);
    CHECK(ks_pk_build(ctx, typ, &w, &sw) == KS_OK);
    CHECK(ks_pk_build(ctx, typ, &pm, &spm) == KS_OK);
    CHECK(ks_pk_build(ctx, typ, &im, &sim) == KS_OK);
    CHECK(ks_pk_build(ctx, typ, &old, &sold) == KS_OK);
    CHECK(ks_pk_build(ctx, typ, &asian, &sas) == KS_OK);
    double f = ks_test_par(ctx, p, "pk.cov.female_cl_factor");
    /* Sigtermans 2009: clearance 20% higher in women, both enantiomers. */
    CHECK_CLOSE(systemic_cl(&sw, KS_PK_SKET_C, KS_PK_OUT_PLASMA_SKET) /
                    systemic_cl(&sm, KS_PK_SKET_C, KS_PK_OUT_PLASMA_SKET),
                f, 1e-9, 0.0);
    CHECK_CLOSE(systemic_cl(&sw, KS_PK_RKET_C, KS_PK_OUT_PLASMA_RKET) /
                    systemic_cl(&sm, KS_PK_RKET_C, KS_PK_OUT_PLASMA_RKET),
                f, 1e-9, 0.0);
    CHECK(f >= 1.1 && f <= 1.3); /* target PK-16 band */
    /* CYP2B6*6: N-demethylation rate scaled by the tabulated factors; clearance lower. */
    double k0 = entry(&sm, KS_PK_SNOR_C, KS_PK_SKET_LIVER);
    CHECK_CLOSE(entry(&spm, KS_PK_SNOR_C, KS_PK_SKET_LIVER) / k0,
                ks_test_par(ctx, p, "pk.cov.cyp2b6_poor_nmet"), 1e-12, 0.0);
    CHECK_CLOSE(entry(&sim, KS_PK_SNOR_C, KS_PK_SKET_LIVER) / k0,
                ks_test_par(ctx, p, "pk.cov.cyp2b6_intermediate_nmet"), 1e-12, 0.0);
    double clm = systemic_cl(&sm, KS_PK_SKET_C, KS_PK_OUT_PLASMA_SKET);
    double clpm = systemic_cl(&spm, KS_PK_SKET_C, KS_PK_OUT_PLASMA_SKET);
    double clim = systemic_cl(&sim, KS_PK_SKET_C, KS_PK_OUT_PLASMA_SKET);
    CHECK(clpm < clim && clim < clm);
    /* Age: Qh falls 2.19 L/h per year above 60 (Perez-Ruixo 2021) -> liver->central rate. */
    double vh = ks_test_par(ctx, p, "pk.liver.vh");
    double dq = (entry(&sm, KS_PK_SKET_C, KS_PK_SKET_LIVER) -
                 entry(&sold, KS_PK_SKET_C, KS_PK_SKET_LIVER)) *
                vh;
    CHECK_CLOSE(dq, ks_test_par(ctx, p, "pk.cov.age_qh_slope") * 20.0, 1e-9, 0.0);
    CHECK(systemic_cl(&sold, KS_PK_SKET_C, KS_PK_OUT_PLASMA_SKET) < clm);
    /* East Asian: other-metabolite rate x 0.36; norketamine-forming rate unchanged. */
    double kel_m = -(entry(&sm, KS_PK_SKET_LIVER, KS_PK_SKET_LIVER) +
                     entry(&sm, KS_PK_SKET_C, KS_PK_SKET_LIVER) + k0);
    double kel_a = -(entry(&sas, KS_PK_SKET_LIVER, KS_PK_SKET_LIVER) +
                     entry(&sas, KS_PK_SKET_C, KS_PK_SKET_LIVER) +
                     entry(&sas, KS_PK_SNOR_C, KS_PK_SKET_LIVER));
    CHECK_CLOSE(kel_a / kel_m, ks_test_par(ctx, p, "pk.cov.east_asian_kel"), 1e-9, 0.0);
    CHECK_CLOSE(entry(&sas, KS_PK_SNOR_C, KS_PK_SKET_LIVER), k0, 1e-12, 0.0);
}

static void test_dose_inputs(ks_ctx *ctx, const ks_pk_system *sys, const ks_params *p)
{
    double amt[N];
    int is_rate = -1;
    ks_dose d;
    memset(&d, 0, sizeof d);
    d.drug = KS_DRUG_KETAMINE;
    d.route = KS_ROUTE_IV_BOLUS;
    d.amount_mg = 35.0;
    CHECK(ks_pk_dose_input(ctx, sys, &d, amt, &is_rate) == KS_OK);
    double umol = 35.0 / 237.7 * 1000.0;
    CHECK(is_rate == 0);
    CHECK_CLOSE(amt[KS_PK_SKET_C], umol / 2.0, 1e-12, 0.0);
    CHECK_CLOSE(amt[KS_PK_RKET_C], umol / 2.0, 1e-12, 0.0);
    double total = 0.0;
    for (int i = 0; i < N; i++) {
        total += amt[i];
    }
    CHECK_CLOSE(total, umol, 1e-12, 0.0);
    /* Infusion: rate = amount / duration, umol/h. */
    d.route = KS_ROUTE_IV_INFUSION;
    d.duration_h = 40.0 / 60.0;
    CHECK(ks_pk_dose_input(ctx, sys, &d, amt, &is_rate) == KS_OK);
    CHECK(is_rate == 1);
    CHECK_CLOSE(amt[KS_PK_SKET_C] + amt[KS_PK_RKET_C], umol / (40.0 / 60.0), 1e-12, 0.0);
    d.duration_h = 0.0;
    CHECK(ks_pk_dose_input(ctx, sys, &d, amt, &is_rate) == KS_ERR_INPUT);
    /* Intranasal esketamine: device 1 FRn, later devices FRn x 0.62, rest swallowed. */
    double frn = ks_test_par(ctx, p, "pk.nasal.frn_first"),
           dev = ks_test_par(ctx, p, "pk.nasal.device_factor");
    d.drug = KS_DRUG_ESKETAMINE;
    d.route = KS_ROUTE_INTRANASAL;
    d.duration_h = 0.0;
    d.amount_mg = 28.0;
    umol = 28.0 / 237.7 * 1000.0;
    for (int dv = 1; dv <= 3; dv++) {
        d.device = dv;
        CHECK(ks_pk_dose_input(ctx, sys, &d, amt, &is_rate) == KS_OK);
        double fr = dv == 1 ? frn : frn * dev;
        CHECK_CLOSE(amt[KS_PK_SKET_NASAL], fr * umol, 1e-12, 0.0);
        CHECK_CLOSE(amt[KS_PK_SKET_GUT], (1.0 - fr) * umol, 1e-12, 0.0);
        CHECK(amt[KS_PK_RKET_NASAL] == 0.0);
    }
    /* Arketamine goes to the R block only. */
    d.drug = KS_DRUG_ARKETAMINE;
    d.route = KS_ROUTE_IM;
    CHECK(ks_pk_dose_input(ctx, sys, &d, amt, &is_rate) == KS_OK);
    CHECK_CLOSE(amt[KS_PK_RKET_IM], ks_test_par(ctx, p, "pk.im.f") * umol, 1e-12, 0.0);
    CHECK(amt[KS_PK_SKET_IM] == 0.0);
    d.amount_mg = -1.0;
    CHECK(ks_pk_dose_input(ctx, sys, &d, amt, &is_rate) == KS_ERR_INPUT);
}

static void test_route_matrix(ks_ctx *ctx, const ks_pk_system *sys)
{
    /* The support matrix as documented (docs/SCENARIO.md), independent of the code under test. */
    static const int ok[KS_DRUG_COUNT][KS_ROUTE_COUNT] = {
        /* iv_bolus iv_inf in oral im sl */
        {1, 1, 1, 1, 1, 1}, /* ketamine */
        {1, 1, 1, 1, 1, 1}, /* esketamine */
        {1, 1, 1, 1, 1, 1}, /* arketamine */
        {0, 0, 0, 1, 0, 0}, /* escitalopram */
        {0, 0, 0, 1, 0, 0}, /* citalopram */
        {1, 1, 0, 1, 0, 0}, /* midazolam */
        {0, 0, 0, 1, 0, 0}, /* naltrexone */
        {0, 0, 0, 1, 0, 0}, /* rapamycin */
        {1, 1, 1, 1, 1, 1}, /* saline: placebo vehicle, a zero input */
    };
    double amt[N];
    for (int dr = 0; dr < KS_DRUG_COUNT; dr++) {
        for (int ro = 0; ro < KS_ROUTE_COUNT; ro++) {
            ks_dose d;
            memset(&d, 0, sizeof d);
            d.drug = (ks_drug)dr;
            d.route = (ks_route)ro;
            d.amount_mg = 10.0;
            d.duration_h = ro == KS_ROUTE_IV_INFUSION ? 1.0 : 0.0;
            d.device = ro == KS_ROUTE_INTRANASAL ? 1 : 0;
            int is_rate = -1;
            ks_status st = ks_pk_dose_input(ctx, sys, &d, amt, &is_rate);
            CHECK(st == (ok[dr][ro] ? KS_OK : KS_ERR_INPUT));
            if (st == KS_OK) {
                double s = 0.0;
                for (int i = 0; i < N; i++) {
                    CHECK(amt[i] >= 0.0);
                    s += amt[i];
                }
                CHECK(dr == KS_DRUG_SALINE ? s == 0.0 : s > 0.0);
                CHECK(is_rate == (ro == KS_ROUTE_IV_INFUSION));
            }
            CHECK(ks_drug_route_supported((ks_drug)dr, (ks_route)ro) == ok[dr][ro]);
        }
    }
}

static void test_outputs_nonnegative(const ks_pk_system *sys)
{
    CHECK(sys->n == N);
    CHECK(sys->n_out == KS_PK_NOUT);
    unsigned long seed = 12345;
    double x[N];
    for (int rep = 0; rep < 100; rep++) {
        for (int i = 0; i < N; i++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            x[i] = (double)(seed >> 11) / 9007199254740992.0 * 100.0;
        }
        for (int j = 0; j < sys->n_out; j++) {
            CHECK(ks_pk_output_value(sys, j, x) >= 0.0);
        }
    }
    for (int j = 0; j < sys->n_out; j++) {
        CHECK(sys->out[j].name != NULL && strcmp(sys->out[j].unit, "ng/mL") == 0);
        CHECK(sys->out[j].mw_g_per_mol > 0.0);
        for (int k = 0; k < sys->out[j].n_terms; k++) {
            CHECK(sys->out[j].coef[k] > 0.0);
            CHECK(sys->out[j].effect_site == is_effect_state(sys->out[j].state[k]));
        }
    }
}

/* Fraction of a dose that reaches the S-ketamine central compartment: AUC ratio vs IV. */
static double bioavail(ks_ctx *ctx, const ks_pk_system *sys, ks_drug drug, ks_route route,
                       int device, int central)
{
    ks_dose d;
    memset(&d, 0, sizeof d);
    d.drug = drug;
    d.route = route;
    d.amount_mg = 28.0;
    d.device = device;
    double b[N], z[N], biv[N], ziv[N];
    int is_rate;
    CHECK(ks_pk_dose_input(ctx, sys, &d, b, &is_rate) == KS_OK);
    d.route = KS_ROUTE_IV_BOLUS;
    CHECK(ks_pk_dose_input(ctx, sys, &d, biv, &is_rate) == KS_OK);
    auc_vector(sys, b, z);
    auc_vector(sys, biv, ziv);
    return z[central] / ziv[central];
}

static void test_bioavailability(ks_ctx *ctx, const ks_pk_system *sys, const ks_params *p)
{
    /* Well-stirred first pass: F_oral = Fgut (1 - E) (Perez-Ruixo 2021, Methods). */
    double fgut = ks_test_par(ctx, p, "pk.oral.fgut"),
           e = ks_test_par(ctx, p, "pk.liver.extraction");
    double frn = ks_test_par(ctx, p, "pk.nasal.frn_first"),
           fsl = ks_test_par(ctx, p, "pk.sl.frac_mucosal");
    double foral = fgut * (1.0 - e);
    CHECK_CLOSE(bioavail(ctx, sys, KS_DRUG_ESKETAMINE, KS_ROUTE_ORAL, 0, KS_PK_SKET_C), foral, 1e-9,
                0.0);
    CHECK_CLOSE(bioavail(ctx, sys, KS_DRUG_ESKETAMINE, KS_ROUTE_INTRANASAL, 1, KS_PK_SKET_C),
                frn + (1.0 - frn) * foral, 1e-9, 0.0);
    CHECK_CLOSE(bioavail(ctx, sys, KS_DRUG_ESKETAMINE, KS_ROUTE_SUBLINGUAL, 0, KS_PK_SKET_C),
                fsl + (1.0 - fsl) * foral, 1e-9, 0.0);
    CHECK_CLOSE(bioavail(ctx, sys, KS_DRUG_ESKETAMINE, KS_ROUTE_IM, 0, KS_PK_SKET_C),
                ks_test_par(ctx, p, "pk.im.f"), 1e-9, 0.0);
    /* Published values the model should land near (Perez-Ruixo 2021: 56 mg IN F 54%). */
    double f56 =
        0.5 * (bioavail(ctx, sys, KS_DRUG_ESKETAMINE, KS_ROUTE_INTRANASAL, 1, KS_PK_SKET_C) +
               bioavail(ctx, sys, KS_DRUG_ESKETAMINE, KS_ROUTE_INTRANASAL, 2, KS_PK_SKET_C));
    CHECK(f56 > 0.44 && f56 < 0.56);
    /* R-ketamine: lower clearance, same flow -> lower extraction -> higher F. */
    double fr = bioavail(ctx, sys, KS_DRUG_ARKETAMINE, KS_ROUTE_ORAL, 0, KS_PK_RKET_C);
    double er = e * ks_test_par(ctx, p, "pk.rket.cl_ratio");
    CHECK_CLOSE(fr, fgut * (1.0 - er), 1e-9, 0.0);
    /* Other drugs: F as tabulated. */
    double b[N] = {0}, z[N], b2[N] = {0}, z2[N];
    b[KS_PK_MDZ_GUT] = 1.0;
    b2[KS_PK_MDZ_C] = 1.0;
    auc_vector(sys, b, z);
    auc_vector(sys, b2, z2);
    CHECK_CLOSE(z[KS_PK_MDZ_C] / z2[KS_PK_MDZ_C], ks_test_par(ctx, p, "pk.mdz.f"), 1e-9, 0.0);
}

static void test_params(ks_ctx *ctx, ks_params *p)
{
    size_t n = 0;
    const char *const *names = ks_pk_param_names(&n);
    CHECK(n > 0);
    for (size_t i = 0; i < n; i++) {
        double v;
        CHECK(strncmp(names[i], "pk.", 3) == 0);
        CHECK(ks_params_get(ctx, p, names[i], &v) == KS_OK);
    }
    /* A value outside its physical range is rejected. */
    double old = ks_test_par(ctx, p, "pk.oral.fgut");
    CHECK(ks_params_set(ctx, p, "pk.oral.fgut", 1.5) == KS_OK);
    ks_pk_typical *bad = ks_pk_typical_create(ctx, p);
    CHECK(bad == NULL && ks_ctx_status(ctx) == KS_ERR_INPUT);
    ks_pk_typical_free(bad);
    ks_ctx_clear(ctx);
    CHECK(ks_params_set(ctx, p, "pk.oral.fgut", old) == KS_OK);
    ks_pk_typical_free(NULL);
    CHECK(strcmp(ks_pk_state_name(KS_PK_SKET_C), "S_ket_central") == 0);
    CHECK(strcmp(ks_pk_state_name(-1), "?") == 0);
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *p = ks_params_create_default(ctx);
    if (!p) {
        fprintf(stderr, "%s\n", ks_ctx_message(ctx));
        return 1;
    }
    ks_pk_typical *typ = ks_pk_typical_create(ctx, p);
    if (!typ) {
        fprintf(stderr, "%s\n", ks_ctx_message(ctx));
        return 1;
    }
    ks_patient pt;
    ks_patient_init(&pt);
    CHECK(pt.weight_kg == 70.0 && pt.sex == KS_SEX_MALE && pt.cyp2b6 == KS_CYP2B6_NORMAL);
    static ks_pk_system sys;
    CHECK(ks_pk_build(ctx, typ, &pt, &sys) == KS_OK);
    test_mass_balance(&sys, typ, ctx, p);
    test_one_compartment(&sys, ctx, p);
    test_allometry(ctx, typ, p);
    test_covariates(ctx, typ, p);
    test_dose_inputs(ctx, &sys, p);
    test_route_matrix(ctx, &sys);
    test_outputs_nonnegative(&sys);
    test_bioavailability(ctx, &sys, p);
    test_params(ctx, p);
    pt.weight_kg = -1.0;
    CHECK(ks_pk_build(ctx, typ, &pt, &sys) == KS_ERR_INPUT);
    ks_pk_typical_free(typ);
    ks_params_free(p);
    ks_ctx_free(ctx);
    return ks_test_finish("test_pk");
}
