/*
 * population.c -- sampling of virtual patients from (seed, patient key) with the
 * distributions of docs/MODEL.md section 12 (contracts in population.h).
 */
#include "population/population.h"

#include "core/internal.h"
#include "core/rng.h"

#include <math.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Stream index of each covariate inside KS_RNG_COVARIATES. */
enum {
    COV_SEVERITY = 0,
    COV_NFAIL = 1,
    COV_STRESS = 2,
    COV_DURATION = 3,
    COV_SEX = 4,
    COV_AGE = 5,
    COV_WEIGHT = 6,
    COV_ANCESTRY = 7,
    COV_BDNF = 8,
    COV_CYP2B6 = 9,
    COV_ETA0 = 16 /* eta k uses COV_ETA0 + k */
};

/* Truncations beyond which a draw is clamped rather than redrawn (guards a pathological spec:
 * rejection of a truncated normal needs on average 1 / P(inside) draws). */
#define MAX_REJECTIONS 1000

static const char *const own_names[] = {
    "pop.cyp2b6_6_freq_eur",  "pop.cyp2b6_6_freq_eas",  "pop.female_fraction",
    "pop.age_mean_y",         "pop.age_sd_y",           "pop.age_min_y",
    "pop.age_max_y",          "pop.weight_median_kg",   "pop.weight_omega",
    "pop.weight_min_kg",      "pop.weight_max_kg",      "pop.east_asian_fraction",
    "pop.baseline_madrs_trd", "pop.baseline_madrs_mdd", "pop.inclusion_madrs_min"};

const char *const *ks_population_param_names(size_t *count)
{
    *count = ARRAY_LEN(own_names);
    return own_names;
}

typedef struct {
    const char *name;
    size_t offset;
} field_map;

#define FIELD(name, member)                                                                        \
    {                                                                                              \
        name, offsetof(ks_population_params, member)                                               \
    }

static const field_map fields[] = {
    FIELD("pop.severity_offset", severity_offset),
    FIELD("pop.severity_sd", severity_sd),
    FIELD("pop.sigma_median", sigma_median),
    FIELD("pop.sigma_omega", sigma_omega),
    FIELD("pop.duration_median_y", duration_median_y),
    FIELD("pop.duration_omega", duration_omega),
    FIELD("pop.met_freq_eur", met_freq_eur),
    FIELD("pop.met_freq_eas", met_freq_eas),
    FIELD("pop.cyp2b6_6_freq_eur", cyp2b6_6_freq_eur),
    FIELD("pop.cyp2b6_6_freq_eas", cyp2b6_6_freq_eas),
    FIELD("pop.trd_p2", trd_p2),
    FIELD("pop.trd_p3", trd_p3),
    FIELD("pop.female_fraction", female_fraction),
    FIELD("pop.age_mean_y", age_mean_y),
    FIELD("pop.age_sd_y", age_sd_y),
    FIELD("pop.age_min_y", age_min_y),
    FIELD("pop.age_max_y", age_max_y),
    FIELD("pop.weight_median_kg", weight_median_kg),
    FIELD("pop.weight_omega", weight_omega),
    FIELD("pop.weight_min_kg", weight_min_kg),
    FIELD("pop.weight_max_kg", weight_max_kg),
    FIELD("pop.east_asian_fraction", east_asian_fraction),
    FIELD("pop.baseline_madrs_trd", baseline_madrs_trd),
    FIELD("pop.baseline_madrs_mdd", baseline_madrs_mdd),
    FIELD("pop.inclusion_madrs_min", inclusion_madrs_min),
    FIELD("pop.omega_t0", omega[KS_PD_ETA_T0]),
    FIELD("pop.omega_kl", omega[KS_PD_ETA_KL]),
    FIELD("pop.omega_gf", omega[KS_PD_ETA_GF]),
    FIELD("pop.omega_kc", omega[KS_PD_ETA_KC]),
    FIELD("pop.omega_sigma_nu", omega[KS_PD_ETA_SIGMA_NU]),
    FIELD("pop.omega_mg_i", omega[KS_PD_ETA_MG_I]),
    FIELD("pop.omega_delta_v", omega[KS_PD_ETA_DELTA_V]),
    FIELD("pop.omega_s", omega[KS_PD_ETA_S]),
    FIELD("clin.madrs_per_hamd", madrs_per_hamd),
    FIELD("clin.rater_sd", rater_sd_madrs),
};

ks_status ks_population_params_read(ks_ctx *ctx, const ks_params *params, ks_population_params *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
        double v;
        ks_status st = ks_params_get(ctx, params, fields[i].name, &v);
        if (st != KS_OK)
            return st;
        if (!isfinite(v) || v < 0.0)
            return ks_fail(ctx, KS_ERR_INPUT, "parameter %s: must be finite and >= 0 (got %g)",
                           fields[i].name, v);
        *(double *)(void *)((char *)out + fields[i].offset) = v;
    }
    if (!(out->madrs_per_hamd > 0.0))
        return ks_fail(ctx, KS_ERR_INPUT, "parameter clin.madrs_per_hamd: must be > 0 (got %g)",
                       out->madrs_per_hamd);
    return KS_OK;
}

void ks_population_spec_init(ks_population_spec *spec, ks_diagnosis dx)
{
    spec->diagnosis = dx;
    spec->baseline_mean_madrs = NAN;
    spec->baseline_sd_madrs = NAN;
    spec->inclusion_scale = KS_SCALE_MADRS;
    spec->inclusion_min = NAN;
    spec->inclusion_max = INFINITY;
    for (size_t k = 0; k <= KS_POP_MAX_FAIL; k++)
        spec->p_fail[k] = 0.0;
    spec->n_fail_p = 0;
    spec->female_fraction = NAN;
    spec->age_mean_y = spec->age_sd_y = spec->age_min_y = spec->age_max_y = NAN;
    spec->weight_median_kg = spec->weight_omega = NAN;
    spec->weight_min_kg = spec->weight_max_kg = NAN;
    spec->east_asian_fraction = NAN;
    spec->bdnf_met_freq = NAN;
    spec->cyp2b6_6_freq = NAN;
    spec->ssri_adaptation_init = 0.0;
}

static void fill(double *x, double v)
{
    if (isnan(*x))
        *x = v;
}

static ks_status check_fraction(ks_ctx *ctx, const char *what, const char *field, double v)
{
    if (!(v >= 0.0 && v <= 1.0))
        return ks_fail(ctx, KS_ERR_INPUT, "%s.%s: must be a fraction from 0 to 1 (got %g)", what,
                       field, v);
    return KS_OK;
}

static ks_status check_range(ks_ctx *ctx, const char *what, const char *field, double lo, double hi)
{
    if (!(lo <= hi))
        return ks_fail(ctx, KS_ERR_INPUT, "%s.%s: min must not exceed max (got min %g, max %g)",
                       what, field, lo, hi);
    return KS_OK;
}

ks_status ks_population_resolve(ks_ctx *ctx, const ks_population_params *pp, const char *what,
                                ks_population_spec *s)
{
    int trd = s->diagnosis == KS_DX_TRD;
    fill(&s->baseline_mean_madrs, trd ? pp->baseline_madrs_trd : pp->baseline_madrs_mdd);
    fill(&s->baseline_sd_madrs, pp->severity_sd);
    /* Default inclusion: the table's MADRS threshold, converted to the chosen scale. */
    fill(&s->inclusion_min, ks_scale_from_madrs(pp, s->inclusion_scale, pp->inclusion_madrs_min));
    if (s->n_fail_p == 0) {
        /* MODEL.md 12: MDD n_fail = 0; TRD P(2) = pop.trd_p2, P(3) = pop.trd_p3, P(4) = rest. */
        if (trd) {
            s->p_fail[2] = pp->trd_p2;
            s->p_fail[3] = pp->trd_p3;
            s->p_fail[4] = 1.0 - pp->trd_p2 - pp->trd_p3;
            s->n_fail_p = 5;
        } else {
            s->p_fail[0] = 1.0;
            s->n_fail_p = 1;
        }
    }
    fill(&s->female_fraction, pp->female_fraction);
    fill(&s->age_mean_y, pp->age_mean_y);
    fill(&s->age_sd_y, pp->age_sd_y);
    fill(&s->age_min_y, pp->age_min_y);
    fill(&s->age_max_y, pp->age_max_y);
    fill(&s->weight_median_kg, pp->weight_median_kg);
    fill(&s->weight_omega, pp->weight_omega);
    fill(&s->weight_min_kg, pp->weight_min_kg);
    fill(&s->weight_max_kg, pp->weight_max_kg);
    fill(&s->east_asian_fraction, pp->east_asian_fraction);

    double sum = 0.0;
    for (size_t k = 0; k < s->n_fail_p; k++) {
        if (!(s->p_fail[k] >= 0.0 && s->p_fail[k] <= 1.0))
            return ks_fail(ctx, KS_ERR_INPUT,
                           "%s.failed_trials[%zu]: must be a probability from 0 to 1 (got %g)",
                           what, k, s->p_fail[k]);
        sum += s->p_fail[k];
    }
    if (fabs(sum - 1.0) > 1e-6)
        return ks_fail(ctx, KS_ERR_INPUT,
                       "%s.failed_trials: the probabilities must sum to 1 (got a sum of %g)", what,
                       sum);
    ks_status st;
    if ((st = check_fraction(ctx, what, "female_fraction", s->female_fraction)) != KS_OK ||
        (st = check_fraction(ctx, what, "east_asian_fraction", s->east_asian_fraction)) != KS_OK ||
        (st = check_fraction(ctx, what, "ssri_adaptation_init", s->ssri_adaptation_init)) != KS_OK)
        return st;
    if (!isnan(s->bdnf_met_freq) &&
        (st = check_fraction(ctx, what, "genotypes.bdnf_met_freq", s->bdnf_met_freq)) != KS_OK)
        return st;
    if (!isnan(s->cyp2b6_6_freq) &&
        (st = check_fraction(ctx, what, "genotypes.cyp2b6_6_freq", s->cyp2b6_6_freq)) != KS_OK)
        return st;
    if ((st = check_range(ctx, what, "age_y", s->age_min_y, s->age_max_y)) != KS_OK ||
        (st = check_range(ctx, what, "weight_kg", s->weight_min_kg, s->weight_max_kg)) != KS_OK ||
        (st = check_range(ctx, what, "inclusion", s->inclusion_min, s->inclusion_max)) != KS_OK)
        return st;
    if (!(s->baseline_mean_madrs >= 0.0 && s->baseline_mean_madrs <= 60.0) ||
        !(s->baseline_sd_madrs >= 0.0 && s->baseline_sd_madrs <= 30.0))
        return ks_fail(ctx, KS_ERR_INPUT,
                       "%s.baseline_madrs: mean must be 0-60 and sd 0-30 (got mean %g, sd %g)",
                       what, s->baseline_mean_madrs, s->baseline_sd_madrs);
    if (!(s->age_sd_y >= 0.0) || !(s->weight_omega >= 0.0) || !(s->weight_median_kg > 0.0))
        return ks_fail(ctx, KS_ERR_INPUT,
                       "%s: age sd, weight omega must be >= 0 and weight median > 0 (got %g, "
                       "%g, %g)",
                       what, s->age_sd_y, s->weight_omega, s->weight_median_kg);
    return KS_OK;
}

/* ---------------------------------------------------------------------------------------
 * Draws
 * ------------------------------------------------------------------------------------- */

static void stream(ks_rng *r, uint64_t seed, uint64_t key, uint64_t index)
{
    ks_rng_init(r, seed, key, KS_RNG_COVARIATES, index);
}

/* N(mean, sd^2) truncated to [lo, hi] by rejection (exact truncated normal). */
static double truncated_normal(ks_rng *r, double mean, double sd, double lo, double hi)
{
    double x = mean;
    for (int i = 0; i < MAX_REJECTIONS; i++) {
        x = mean + sd * ks_rng_normal(r);
        if (x >= lo && x <= hi)
            return x;
    }
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Lognormal with the given median: median exp(omega z), truncated to [lo, hi]. */
static double truncated_lognormal(ks_rng *r, double median, double omega, double lo, double hi)
{
    double x = median;
    for (int i = 0; i < MAX_REJECTIONS; i++) {
        x = median * exp(omega * ks_rng_normal(r));
        if (x >= lo && x <= hi)
            return x;
    }
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Number of variant alleles of a biallelic locus in Hardy-Weinberg equilibrium: two
 * independent alleles, each variant with probability q (genotype frequencies (1-q)^2, 2q(1-q),
 * q^2; Hardy 1908 Science 28:49). */
static int alleles(ks_rng *r, double q)
{
    int n = 0;
    n += ks_rng_uniform(r) < q;
    n += ks_rng_uniform(r) < q;
    return n;
}

double ks_scale_max(ks_scale s)
{
    return s == KS_SCALE_HDRS17 ? 52.0 : 60.0;
}

/* Leucht et al. 2018 J Affect Disord 226:326: HDRS-17 = MADRS / 1.30 (clin.madrs_per_hamd). */
double ks_scale_from_madrs(const ks_population_params *pp, ks_scale s, double madrs)
{
    if (s == KS_SCALE_HDRS17) {
        double h = madrs / pp->madrs_per_hamd;
        return h > 52.0 ? 52.0 : h;
    }
    return madrs;
}

double ks_scale_rater_sd(const ks_population_params *pp, ks_scale s)
{
    return s == KS_SCALE_HDRS17 ? pp->rater_sd_madrs / pp->madrs_per_hamd : pp->rater_sd_madrs;
}

/* MODEL.md 8: observed = round(true + eps), eps ~ N(0, sd^2), clamped to the scale. */
double ks_rate(double true_score, double sd, double scale_max, uint64_t seed, uint64_t key,
               uint64_t index)
{
    double x = true_score;
    if (sd > 0.0) {
        ks_rng r;
        ks_rng_init(&r, seed, key, KS_RNG_RATER, index);
        x += sd * ks_rng_normal(&r);
    }
    x = round(x);
    if (x < 0.0)
        x = 0.0;
    if (x > scale_max)
        x = scale_max;
    return x;
}

void ks_population_sample(const ks_population_params *pp, const ks_population_spec *spec,
                          uint64_t seed, uint64_t key, ks_virtual_patient *out)
{
    ks_rng r;
    memset(out, 0, sizeof *out);
    ks_patient_init(&out->patient);
    ks_pd_covariates_init(&out->cov);
    out->patient.id = (long)(key + 1);

    /* Baseline severity M_dep,i ~ N(study mean + pop.severity_offset, sd^2), truncated 0-60
     * (MODEL.md 12). */
    stream(&r, seed, key, COV_SEVERITY);
    out->cov.severity_madrs = truncated_normal(&r, spec->baseline_mean_madrs + pp->severity_offset,
                                               spec->baseline_sd_madrs, 0.0, 60.0);

    /* Failed adequate trials: categorical P(n_fail = k) = p_fail[k]. */
    stream(&r, seed, key, COV_NFAIL);
    double u = ks_rng_uniform(&r), cum = 0.0;
    int nf = (int)spec->n_fail_p - 1;
    for (size_t k = 0; k < spec->n_fail_p; k++) {
        cum += spec->p_fail[k];
        if (u < cum) {
            nf = (int)k;
            break;
        }
    }
    while (nf > 0 && spec->p_fail[nf] == 0.0) /* rounding of the cumulative sum */
        nf--;
    out->cov.n_failed_trials = nf;

    /* Chronic stress load: lognormal, median pop.sigma_median, omega pop.sigma_omega. */
    stream(&r, seed, key, COV_STRESS);
    out->cov.stress_load = pp->sigma_median * exp(pp->sigma_omega * ks_rng_normal(&r));

    /* Current episode duration: lognormal, median pop.duration_median_y. */
    stream(&r, seed, key, COV_DURATION);
    out->cov.episode_years = pp->duration_median_y * exp(pp->duration_omega * ks_rng_normal(&r));

    stream(&r, seed, key, COV_SEX);
    out->patient.sex = ks_rng_uniform(&r) < spec->female_fraction ? KS_SEX_FEMALE : KS_SEX_MALE;

    stream(&r, seed, key, COV_AGE);
    out->patient.age_y =
        truncated_normal(&r, spec->age_mean_y, spec->age_sd_y, spec->age_min_y, spec->age_max_y);

    stream(&r, seed, key, COV_WEIGHT);
    out->patient.weight_kg = truncated_lognormal(&r, spec->weight_median_kg, spec->weight_omega,
                                                 spec->weight_min_kg, spec->weight_max_kg);

    stream(&r, seed, key, COV_ANCESTRY);
    out->patient.east_asian = ks_rng_uniform(&r) < spec->east_asian_fraction ? 1 : 0;

    /* Genotypes in Hardy-Weinberg equilibrium with ancestry-specific allele frequencies. */
    double met = !isnan(spec->bdnf_met_freq)
                     ? spec->bdnf_met_freq
                     : (out->patient.east_asian ? pp->met_freq_eas : pp->met_freq_eur);
    double cyp = !isnan(spec->cyp2b6_6_freq)
                     ? spec->cyp2b6_6_freq
                     : (out->patient.east_asian ? pp->cyp2b6_6_freq_eas : pp->cyp2b6_6_freq_eur);
    stream(&r, seed, key, COV_BDNF);
    out->patient.bdnf = (ks_bdnf)alleles(&r, met);
    stream(&r, seed, key, COV_CYP2B6);
    out->patient.cyp2b6 = (ks_cyp2b6)alleles(&r, cyp);

    /* Between-patient random effects eta_k ~ N(0, omega_k^2) (MODEL.md 12; how each eta acts
     * is documented at KS_PD_ETA_* in model/pd.h). */
    for (int k = 0; k < KS_PD_NETA; k++) {
        stream(&r, seed, key, (uint64_t)(COV_ETA0 + k));
        out->cov.eta[k] = pp->omega[k] * ks_rng_normal(&r);
    }
    out->cov.ssri_adaptation_init = spec->ssri_adaptation_init;
    out->cov.start_healthy = 0;

    /* Screening: the patient's severity, rated with noise on the inclusion scale; the
     * inclusion rule applies to the observed score (MODEL.md 8). */
    ks_scale sc = spec->inclusion_scale;
    out->screening_true = ks_scale_from_madrs(pp, sc, out->cov.severity_madrs);
    out->screening_observed = ks_rate(out->screening_true, ks_scale_rater_sd(pp, sc),
                                      ks_scale_max(sc), seed, key, KS_POP_SCREENING_INDEX);
    out->included = out->screening_observed >= spec->inclusion_min &&
                    out->screening_observed <= spec->inclusion_max;
}
