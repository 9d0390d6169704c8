/*
 * test_population.c -- virtual patients: reproducible per (seed, key) and independent of the
 * order in which patients are drawn; moments of each covariate and random effect against the
 * distributions of docs/MODEL.md section 12 (tolerance 5 standard errors, fixed seed); the
 * inclusion rule on the observed screening score and the regression to the mean it causes;
 * rater noise.
 */
#include "ks_test.h"

#include "population/population.h"

#include <math.h>
#include <string.h>

#define N_PAT 20000

static ks_population_params pp;

static void test_reproducible(const ks_population_spec *spec)
{
    ks_virtual_patient a, b, c;
    ks_population_sample(&pp, spec, 7, 123, &a);
    /* drawing other patients in between changes nothing: streams are keyed */
    for (uint64_t k = 0; k < 50; k++)
        ks_population_sample(&pp, spec, 7, k, &c);
    ks_population_sample(&pp, spec, 7, 123, &b);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    /* another key or another seed gives another patient */
    ks_population_sample(&pp, spec, 7, 124, &c);
    CHECK(c.cov.severity_madrs != a.cov.severity_madrs);
    ks_population_sample(&pp, spec, 8, 123, &c);
    CHECK(c.cov.severity_madrs != a.cov.severity_madrs);
    CHECK(a.patient.id == 124);
}

static void test_moments(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_population_spec spec;
    ks_population_spec_init(&spec, KS_DX_TRD);
    spec.baseline_mean_madrs = 30.0;
    spec.inclusion_min = 0.0; /* everybody: moments of the unselected population */
    CHECK(ks_population_resolve(ctx, &pp, "test", &spec) == KS_OK);

    double s_sev = 0, s2_sev = 0, s_lsig = 0, s2_lsig = 0, s_ldur = 0, n_fem = 0, n_metmet = 0;
    double n_val = 0, n_cyp_poor = 0, s_age = 0, s_lw = 0, s2_lw = 0, nf[6] = {0};
    double s_eta[KS_PD_NETA] = {0}, s2_eta[KS_PD_NETA] = {0};
    double s_noise = 0, s2_noise = 0;
    int in_range = 1;
    for (uint64_t k = 0; k < N_PAT; k++) {
        ks_virtual_patient v;
        ks_population_sample(&pp, &spec, 2024, k, &v);
        double sev = v.cov.severity_madrs;
        s_sev += sev;
        s2_sev += sev * sev;
        double ls = log(v.cov.stress_load);
        s_lsig += ls;
        s2_lsig += ls * ls;
        s_ldur += log(v.cov.episode_years);
        n_fem += v.patient.sex == KS_SEX_FEMALE;
        n_metmet += v.patient.bdnf == KS_BDNF_METMET;
        n_val += v.patient.bdnf == KS_BDNF_VALVAL;
        n_cyp_poor += v.patient.cyp2b6 == KS_CYP2B6_POOR;
        s_age += v.patient.age_y;
        double lw = log(v.patient.weight_kg);
        s_lw += lw;
        s2_lw += lw * lw;
        if (v.cov.n_failed_trials >= 0 && v.cov.n_failed_trials < 6)
            nf[v.cov.n_failed_trials]++;
        for (int e = 0; e < KS_PD_NETA; e++) {
            s_eta[e] += v.cov.eta[e];
            s2_eta[e] += v.cov.eta[e] * v.cov.eta[e];
        }
        double d = v.screening_observed - v.screening_true;
        s_noise += d;
        s2_noise += d * d;
        in_range &= sev >= 0 && sev <= 60 && v.patient.age_y >= spec.age_min_y &&
                    v.patient.age_y <= spec.age_max_y &&
                    v.patient.weight_kg >= spec.weight_min_kg &&
                    v.patient.weight_kg <= spec.weight_max_kg && v.included;
    }
    double n = N_PAT;
    CHECK(in_range);
    /* severity ~ N(30 + offset, sd^2) (truncation at 0 and 60 is > 4 SD away) */
    double mu = 30.0 + pp.severity_offset, sd = pp.severity_sd;
    CHECK(fabs(s_sev / n - mu) < 5 * sd / sqrt(n));
    double var = s2_sev / n - (s_sev / n) * (s_sev / n);
    CHECK(fabs(sqrt(var) - sd) < 5 * sd / sqrt(2 * n));
    /* stress load lognormal: log has mean log(median), sd omega */
    CHECK(fabs(s_lsig / n - log(pp.sigma_median)) < 5 * pp.sigma_omega / sqrt(n));
    double lv = s2_lsig / n - (s_lsig / n) * (s_lsig / n);
    CHECK(fabs(sqrt(lv) - pp.sigma_omega) < 5 * pp.sigma_omega / sqrt(2 * n));
    CHECK(fabs(s_ldur / n - log(pp.duration_median_y)) < 5 * pp.duration_omega / sqrt(n));
    /* binomial proportions: 5 SE */
    double f = spec.female_fraction;
    CHECK(fabs(n_fem / n - f) < 5 * sqrt(f * (1 - f) / n));
    /* Hardy-Weinberg: P(met/met) = q^2, P(val/val) = (1-q)^2, P(poor, two *6 alleles) = q^2 */
    double q = pp.met_freq_eur, pm = q * q, pv = (1 - q) * (1 - q);
    CHECK(fabs(n_metmet / n - pm) < 5 * sqrt(pm * (1 - pm) / n));
    CHECK(fabs(n_val / n - pv) < 5 * sqrt(pv * (1 - pv) / n));
    double qc = pp.cyp2b6_6_freq_eur, pc = qc * qc;
    CHECK(fabs(n_cyp_poor / n - pc) < 5 * sqrt(pc * (1 - pc) / n));
    /* TRD failed trials: P(2), P(3), P(4) from the table; never 0 or 1 */
    CHECK(nf[0] == 0 && nf[1] == 0 && nf[5] == 0);
    CHECK(fabs(nf[2] / n - pp.trd_p2) < 5 * sqrt(pp.trd_p2 * (1 - pp.trd_p2) / n));
    CHECK(fabs(nf[3] / n - pp.trd_p3) < 5 * sqrt(pp.trd_p3 * (1 - pp.trd_p3) / n));
    /* etas ~ N(0, omega^2) */
    for (int e = 0; e < KS_PD_NETA; e++) {
        double om = pp.omega[e];
        CHECK(fabs(s_eta[e] / n) < 5 * om / sqrt(n) + 1e-300);
        double ev = s2_eta[e] / n - (s_eta[e] / n) * (s_eta[e] / n);
        CHECK(fabs(sqrt(ev) - om) < 5 * om / sqrt(2 * n) + 1e-300);
    }
    /* log weight: mean log(median) (the truncation 45-150 kg at median 80, omega 0.2 is at
     * -2.9 and +3.1 SD, shifting the mean by < 0.01 SD) */
    CHECK(fabs(s_lw / n - log(spec.weight_median_kg)) < 5 * spec.weight_omega / sqrt(n));
    /* Truncation can only narrow the lognormal: the SD of log weight is at most omega (plus
     * sampling error) and not zero. */
    double sd_lw = sqrt(fmax(0.0, s2_lw / n - (s_lw / n) * (s_lw / n)));
    CHECK(sd_lw <= spec.weight_omega * (1.0 + 5.0 / sqrt(2.0 * n)));
    CHECK(sd_lw > 0.0);
    (void)s_age;
    /* rater noise: round(true + N(0, sd^2)) - true has mean 0 and variance sd^2 + 1/12
     * (Sheppard's correction for rounding to integers) */
    double rs = pp.rater_sd_madrs;
    CHECK(fabs(s_noise / n) < 5 * rs / sqrt(n));
    double nv = s2_noise / n - (s_noise / n) * (s_noise / n);
    CHECK(fabs(nv - (rs * rs + 1.0 / 12.0)) < 5 * rs * rs * sqrt(2.0 / n));
    ks_ctx_free(ctx);
}

static void test_mdd(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_population_spec spec;
    ks_population_spec_init(&spec, KS_DX_MDD);
    CHECK(ks_population_resolve(ctx, &pp, "test", &spec) == KS_OK);
    int all_zero = 1;
    for (uint64_t k = 0; k < 1000; k++) {
        ks_virtual_patient v;
        ks_population_sample(&pp, &spec, 3, k, &v);
        all_zero &= v.cov.n_failed_trials == 0;
    }
    CHECK(all_zero);
    ks_ctx_free(ctx);
}

/* Inclusion on the observed score: included exactly when observed >= min; the included have
 * a true score below their observed one on average (regression to the mean). */
static void test_inclusion(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_population_spec spec;
    ks_population_spec_init(&spec, KS_DX_TRD);
    spec.baseline_mean_madrs = 26.0;
    spec.inclusion_scale = KS_SCALE_HDRS17;
    spec.inclusion_min = 22.0;
    CHECK(ks_population_resolve(ctx, &pp, "test", &spec) == KS_OK);
    int rule_ok = 1;
    size_t inc = 0;
    double s_obs = 0, s_true = 0;
    for (uint64_t k = 0; k < N_PAT; k++) {
        ks_virtual_patient v;
        ks_population_sample(&pp, &spec, 11, k, &v);
        rule_ok &= v.included == (v.screening_observed >= 22.0);
        rule_ok &= v.screening_observed == floor(v.screening_observed);
        rule_ok &= fabs(v.screening_true - v.cov.severity_madrs / pp.madrs_per_hamd) < 1e-12;
        if (v.included) {
            inc++;
            s_obs += v.screening_observed;
            s_true += v.screening_true;
        }
    }
    CHECK(rule_ok);
    CHECK(inc > 100 && inc < N_PAT);
    CHECK(s_obs / (double)inc > s_true / (double)inc + 0.3);
    /* a spec that makes no sense is rejected */
    ks_population_spec bad;
    ks_population_spec_init(&bad, KS_DX_TRD);
    bad.female_fraction = 1.5;
    CHECK(ks_population_resolve(ctx, &pp, "test", &bad) == KS_ERR_INPUT);
    ks_population_spec_init(&bad, KS_DX_TRD);
    bad.p_fail[0] = 0.5;
    bad.n_fail_p = 1;
    CHECK(ks_population_resolve(ctx, &pp, "test", &bad) == KS_ERR_INPUT);
    CHECK(strstr(ks_ctx_message(ctx), "sum to 1") != NULL);
    ks_ctx_free(ctx);
}

static void test_rate(void)
{
    /* sd 0: plain rounding and clamping */
    CHECK(ks_rate(12.4, 0.0, 60.0, 1, 1, 0) == 12.0);
    CHECK(ks_rate(12.5, 0.0, 60.0, 1, 1, 0) == 13.0);
    CHECK(ks_rate(-3.0, 0.0, 60.0, 1, 1, 0) == 0.0);
    CHECK(ks_rate(75.0, 0.0, 52.0, 1, 1, 0) == 52.0);
    /* same (seed, key, index): same rating; another visit index: another draw */
    double a = ks_rate(30.0, 5.0, 60.0, 9, 4, 3), b = ks_rate(30.0, 5.0, 60.0, 9, 4, 3);
    CHECK(a == b);
    int differs = 0;
    for (uint64_t v = 4; v < 20; v++)
        differs |= ks_rate(30.0, 5.0, 60.0, 9, 4, v) != a;
    CHECK(differs);
}

int main(void)
{
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ks_params_create_default(ctx);
    if (!params || ks_population_params_read(ctx, params, &pp) != KS_OK) {
        fprintf(stderr, "parameters: %s\n", ks_ctx_message(ctx));
        return 1;
    }
    ks_population_spec spec;
    ks_population_spec_init(&spec, KS_DX_TRD);
    CHECK(ks_population_resolve(ctx, &pp, "test", &spec) == KS_OK);
    test_reproducible(&spec);
    test_moments();
    test_mdd();
    test_inclusion();
    test_rate();
    ks_params_free(params);
    ks_ctx_free(ctx);
    return ks_test_finish("test_population");
}
