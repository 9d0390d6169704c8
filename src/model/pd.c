/*
 * pd.c -- the mechanism model assembled: parameter table, per-patient build, initial state,
 * right-hand side (layers wired in order receptors -> circuit -> signalling -> plasticity ->
 * systems -> mood -> clinical), outputs and discrete events. Equations: docs/MODEL.md.
 */
#include "pd.h"
#include "../core/internal.h"
#include "pd_util.h"
#include "receptors.h"
#include "circuit.h"
#include "signalling.h"
#include "plasticity.h"
#include "systems.h"
#include "mood.h"
#include "clinical.h"
#include "ssri.h"
#include "placebo.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Molar masses used to convert the table's ng/mL potencies to uM (same values as the PK
 * layer; PubChem free bases). */
#define MW_ESCITALOPRAM 324.4
#define MW_MIDAZOLAM    325.8

struct ks_pd_typical {
    ks_pd_patient base; /* typical values, before covariates */
    double n_transit;   /* spine.n_transit as read (integer-valued) */
    double p_thalf;     /* sig.p_thalf, h */
    double q_act, q_valmet, q_metmet;
    double beta_s;
    double ec50_sert_esc_ngml, ec50_sert_cit_ngml, ec50_sed_mdz_ngml;
    ks_pd_population pop;
};

#define INF HUGE_VAL
#define POS 1e-12 /* smallest accepted value of a strictly positive parameter */

/* name, field of struct ks_pd_typical, lower and upper bound (inclusive). */
#define KS_PD_PARAM_LIST(X)                                                                        \
    X("rec.fu_ket", base.rec.fu_ket, POS, 1.0)                                                     \
    X("rec.ki_sket", base.rec.ki_sket, POS, INF)                                                   \
    X("rec.ki_rket", base.rec.ki_rket, POS, INF)                                                   \
    X("rec.ki_snorket", base.rec.ki_snorket, POS, INF)                                             \
    X("rec.ki_rnorket", base.rec.ki_rnorket, POS, INF)                                             \
    X("rec.ki_hnk", base.rec.ki_hnk, POS, INF)                                                     \
    X("rec.mg_p", base.rec.mg_p, POS, INF)                                                         \
    X("rec.mg_i", base.rec.mg_i, POS, INF)                                                         \
    X("rec.kb_i", base.rec.kb_i, POS, INF)                                                         \
    X("rec.kb_p", base.rec.kb_p, POS, INF)                                                         \
    X("rec.ki_ntx", base.rec.ki_ntx, POS, INF)                                                     \
    X("rec.ki_nol", base.rec.ki_nol, POS, INF)                                                     \
    X("rec.fu_ntx", base.rec.fu_ntx, POS, 1.0)                                                     \
    X("rec.ec50_sert_esc", ec50_sert_esc_ngml, POS, INF)                                           \
    X("rec.ec50_sert_cit", ec50_sert_cit_ngml, POS, INF)                                           \
    X("rec.ec50_sed_mdz", ec50_sed_mdz_ngml, POS, INF)                                             \
    X("circ.dmax", base.circ.dmax, 0.0, INF)                                                       \
    X("circ.b50", base.circ.b50, POS, 1.0)                                                         \
    X("circ.hill_dis", base.circ.hill_dis, POS, 20.0)                                              \
    X("circ.a_p", base.circ.a_p, 0.0, INF)                                                         \
    X("circ.g_fb", base.circ.g_fb, 0.0, 0.99)                                                      \
    X("circ.tau_fb", base.circ.tau_fb, POS, INF)                                                   \
    X("circ.tau_glx", base.circ.tau_glx, POS, INF)                                                 \
    X("circ.raw_floor", base.circ.raw_floor, POS, 1.0)                                             \
    X("diss.x50", base.circ.x50, POS, 1.0)                                                         \
    X("diss.gamma", base.circ.gamma, POS, 20.0)                                                    \
    X("diss.cadss_max", base.circ.cadss_max, POS, 92.0)                                            \
    X("diss.k_tol", base.circ.k_tol, 0.0, INF)                                                     \
    X("diss.tau_tol", base.circ.tau_tol, POS, INF)                                                 \
    X("sig.k_rel", base.sig.k_rel, POS, INF)                                                       \
    X("sig.k_pd", base.sig.k_pd, POS, INF)                                                         \
    X("sig.k_cl", base.sig.k_cl, POS, INF)                                                         \
    X("sig.a_e", base.sig.a_e, 0.0, INF)                                                           \
    X("sig.q_act", q_act, 0.0, 1.0)                                                                \
    X("sig.q_valmet", q_valmet, 0.0, 1.0)                                                          \
    X("sig.q_metmet", q_metmet, 0.0, 1.0)                                                          \
    X("sig.k_trkb", base.sig.k_trkb, POS, INF)                                                     \
    X("sig.tau_ad", base.sig.tau_ad, POS, INF)                                                     \
    X("sig.k_m", base.sig.k_m, POS, INF)                                                           \
    X("sig.e_m", base.sig.e_m, 0.0, INF)                                                           \
    X("sig.k_p0", base.sig.k_p0, 0.0, INF)                                                         \
    X("sig.tau_p0", base.sig.tau_p0, POS, INF)                                                     \
    X("sig.p_thalf", p_thalf, POS, INF)                                                            \
    X("spine.w50", base.spine.w50, POS, INF)                                                       \
    X("spine.n_transit", n_transit, 1.0, (double)KS_PD_NTRANSIT)                                   \
    X("spine.mtt", base.spine.mtt, POS, INF)                                                       \
    X("spine.g_f", base.spine.g_f, 0.0, INF)                                                       \
    X("spine.v0", base.spine.v0, 0.0, 1.0)                                                         \
    X("spine.k_c", base.spine.k_c, 0.0, INF)                                                       \
    X("spine.k_fade", base.spine.k_fade, 0.0, INF)                                                 \
    X("spine.k_h", base.spine.k_h, 0.0, INF)                                                       \
    X("spine.k_nc0", base.spine.k_nc0, 0.0, INF)                                                   \
    X("spine.k_nc_s", base.spine.k_nc_s, 0.0, INF)                                                 \
    X("spine.l_s", base.spine.l_s, 0.0, 1.0)                                                       \
    X("spine.s_min", base.sys.s_min, 0.0, 0.99)                                                    \
    X("spine.r_self", base.spine.r_self, 0.0, INF)                                                 \
    X("spine.phi_a", base.spine.phi_a, 0.0, 1.0)                                                   \
    X("sys.rum_max", base.sys.rum_max, 0.0, INF)                                                   \
    X("sys.c_pfc", base.sys.c_pfc, 0.0, 1.0 / 1.2)                                                 \
    X("sys.kappa_dmn", base.sys.kappa_dmn, 0.0, 1.0)                                               \
    X("sys.tau_s", base.sys.tau_s, POS, INF)                                                       \
    X("sys.rho_rum", base.sys.rho_rum, 0.0, INF)                                                   \
    X("sys.tau_i", base.sys.tau_i, POS, INF)                                                       \
    X("sys.a_si", base.sys.a_si, 0.0, INF)                                                         \
    X("sys.phi_op", base.sys.phi_op, 0.0, 1.0)                                                     \
    X("mood.a", base.mood.a, POS, INF)                                                             \
    X("mood.b0", base.mood.b0, 0.0, INF)                                                           \
    X("mood.lambda_w", base.mood.lambda_w, 0.0, 1.0)                                               \
    X("mood.t0", base.mood.t0, -INF, INF)                                                          \
    X("mood.tau_m", base.mood.tau_m, POS, INF)                                                     \
    X("mood.k_l", base.mood.k_l, 0.0, INF)                                                         \
    X("mood.tau_l", base.mood.tau_l, POS, INF)                                                     \
    X("mood.w_l", base.mood.w_l, 0.0, INF)                                                         \
    X("mood.w_s", base.mood.w_s, 0.0, INF)                                                         \
    X("mood.w_a", base.mood.w_a, 0.0, INF)                                                         \
    X("mood.w_e", base.mood.w_e, 0.0, INF)                                                         \
    X("mood.w_th", base.mood.w_th, 0.0, INF)                                                       \
    X("mood.w_rum", base.mood.w_rum, 0.0, INF)                                                     \
    X("mood.w_i", base.mood.w_i, 0.0, INF)                                                         \
    X("mood.w_hab", base.mood.w_hab, 0.0, INF)                                                     \
    X("mood.tau_hab", base.mood.tau_hab, POS, INF)                                                 \
    X("mood.tau_nu", base.mood.tau_nu, POS, INF)                                                   \
    X("mood.sigma_nu", base.mood.sigma_nu, 0.0, INF)                                               \
    X("clin.madrs_per_hamd", base.clin.madrs_per_hamd, POS, INF)                                   \
    X("clin.hdrs25_per_hdrs17", base.clin.hdrs25_per_hdrs17, POS, INF)                             \
    X("clin.hamd6_per_hamd17", base.clin.hamd6_per_hamd17, POS, INF)                               \
    X("clin.m_res", base.clin.m_res, 0.0, 60.0)                                                    \
    X("clin.k_res", base.clin.k_res, 0.0, 1.0)                                                     \
    X("clin.rater_sd", base.clin.rater_sd, 0.0, INF)                                               \
    X("clin.r_lift", base.clin.r_l, 0.0, INF)                                                      \
    X("clin.r_ssri", base.clin.r_a, 0.0, INF)                                                      \
    X("clin.r_expect", base.clin.r_e, 0.0, INF)                                                    \
    X("ssri.tau_a", base.plc.tau_a, POS, INF)                                                      \
    X("ssri.beta_s", beta_s, 0.0, INF)                                                             \
    X("plc.tau_e", base.plc.tau_e, POS, INF)                                                       \
    X("plc.delta_v", base.plc.delta_v, 0.0, 1.0)                                                   \
    X("plc.delta_s", base.plc.delta_s, 0.0, 1.0)                                                   \
    X("plc.kappa_b", base.plc.kappa_b, 0.0, INF)                                                   \
    X("plc.theta_b", base.plc.theta_b, -INF, INF)                                                  \
    X("plc.eps_mdz", base.plc.eps_mdz, 0.0, INF)                                                   \
    X("plc.beta_open", base.plc.beta_open, 0.0, INF)                                               \
    X("ther.pulse", base.plc.ther_pulse, 0.0, INF)                                                 \
    X("ther.tau", base.plc.ther_tau, POS, INF)                                                     \
    X("int.rapa_ic50", base.rec.rapa_ic50, POS, INF)                                               \
    X("int.rapa_brain_ratio", base.rec.rapa_brain_ratio, 0.0, INF)                                 \
    X("int.antibdnf_tau", base.intv.antibdnf_tau_h, POS, INF)                                      \
    X("int.nbqx_tau", base.intv.nbqx_tau_h, POS, INF)                                              \
    X("trans.ref_dose", pop.ref_dose_mg_per_kg, POS, INF)                                          \
    X("trans.ref_duration", pop.ref_duration_h, POS, INF)                                          \
    X("pop.severity_offset", pop.severity_offset, -60.0, 60.0)                                     \
    X("pop.severity_sd", pop.severity_sd, 0.0, INF)                                                \
    X("pop.sigma_median", pop.sigma_median, 0.0, INF)                                              \
    X("pop.sigma_omega", pop.sigma_omega, 0.0, INF)                                                \
    X("pop.met_freq_eur", pop.met_freq_eur, 0.0, 1.0)                                              \
    X("pop.met_freq_eas", pop.met_freq_eas, 0.0, 1.0)                                              \
    X("pop.hab_per_fail", pop.hab_per_fail, 0.0, INF)                                              \
    X("pop.hab_per_year", pop.hab_per_year, 0.0, INF)                                              \
    X("pop.duration_median_y", pop.duration_median_y, POS, INF)                                    \
    X("pop.duration_omega", pop.duration_omega, 0.0, INF)                                          \
    X("pop.trd_p2", pop.trd_p2, 0.0, 1.0)                                                          \
    X("pop.trd_p3", pop.trd_p3, 0.0, 1.0)                                                          \
    X("pop.omega_s", pop.omega[KS_PD_ETA_S], 0.0, INF)                                             \
    X("pop.omega_t0", pop.omega[KS_PD_ETA_T0], 0.0, INF)                                           \
    X("pop.omega_kl", pop.omega[KS_PD_ETA_KL], 0.0, INF)                                           \
    X("pop.omega_gf", pop.omega[KS_PD_ETA_GF], 0.0, INF)                                           \
    X("pop.omega_kc", pop.omega[KS_PD_ETA_KC], 0.0, INF)                                           \
    X("pop.omega_sigma_nu", pop.omega[KS_PD_ETA_SIGMA_NU], 0.0, INF)                               \
    X("pop.omega_mg_i", pop.omega[KS_PD_ETA_MG_I], 0.0, INF)                                       \
    X("pop.omega_delta_v", pop.omega[KS_PD_ETA_DELTA_V], 0.0, INF)

typedef struct {
    const char *name;
    size_t offset;
    double lo, hi;
} pd_param_spec;

#define KS_PD_SPEC(name, field, lo, hi) {name, offsetof(struct ks_pd_typical, field), lo, hi},
#define KS_PD_NAME(name, field, lo, hi) name,

static const pd_param_spec param_specs[] = {KS_PD_PARAM_LIST(KS_PD_SPEC)};
static const char *const param_names[] = {KS_PD_PARAM_LIST(KS_PD_NAME)};
#define N_PARAMS (sizeof param_specs / sizeof param_specs[0])

const char *const *ks_pd_param_names(size_t *count)
{
    if (count)
        *count = N_PARAMS;
    return param_names;
}

/* ------------------------------------------------------------------------------------------ */
/* Names. */

static const char *const state_names[KS_PD_N] = {
    "B_I", "B_P",  "Fb",  "Glx", "Tol",  "Bp", "Bx", "Rk",    "M",    "P0",
    "P",   "Z1",   "Z2",  "Z3",  "Z4",   "Z5", "Z6", "S_new", "S_st", "S_nc",
    "L",   "mood", "Hab", "Sx",  "Infl", "E",  "A",  "R_th",
};

const char *ks_pd_state_name(int i)
{
    return i >= 0 && i < KS_PD_N ? state_names[i] : "?";
}

int ks_pd_state_nonneg(int i)
{
    if (i < 0 || i >= KS_PD_N)
        return 0;
    return !(i == KS_PD_FB || i == KS_PD_GLX || i == KS_PD_MOOD);
}

static const struct {
    const char *name, *unit;
} out_info[KS_PD_NOUT] = {
    {"nmda_block_interneuron", "fraction"},
    {"nmda_block_pyramidal", "fraction"},
    {"glutamate_change_pct", "%"},
    {"ampa_drive", "x baseline"},
    {"cadss", "CADSS points"},
    {"cadss_rel", "fraction"},
    {"sedation", "fraction"},
    {"bdnf_pool", "x baseline"},
    {"bdnf_released", "x baseline"},
    {"trkb_activation", "x baseline"},
    {"mtorc1_activity", "x baseline"},
    {"synaptic_protein", "x baseline"},
    {"plasticity_window", "fraction"},
    {"spines_labile", "fraction of healthy density"},
    {"spines_stable", "fraction of healthy density"},
    {"spines_new_consolidated", "fraction of healthy density"},
    {"spines_total", "fraction of healthy density"},
    {"spine_formation_rate", "fraction of healthy density per h"},
    {"acute_lift", "-"},
    {"mood", "-"},
    {"tilt", "-"},
    {"habit", "-"},
    {"stress", "-"},
    {"inflammation", "x stress-free"},
    {"rumination", "-"},
    {"prefrontal_control", "-"},
    {"expectation", "-"},
    {"ssri_adaptation", "-"},
    {"therapy_reinforcement", "-"},
    {"mu_opioid_occupancy", "fraction"},
    {"sert_occupancy", "fraction"},
    {"mtor_inhibition", "fraction"},
    {"madrs_true", "MADRS points"},
    {"hdrs17_true", "HDRS-17 points"},
};

const char *ks_pd_output_name(int j)
{
    return j >= 0 && j < KS_PD_NOUT ? out_info[j].name : "?";
}

const char *ks_pd_output_unit(int j)
{
    return j >= 0 && j < KS_PD_NOUT ? out_info[j].unit : "?";
}

/* ------------------------------------------------------------------------------------------ */
/* Inputs and covariates. */

void ks_pd_input_init(ks_pd_input *in)
{
    memset(in, 0, sizeof *in);
}

/* Effect-site output j of the PK system in uM (ng/mL divided by the molar mass). */
static double brain_um(const ks_pk_system *sys, int j, const double *x)
{
    if (j >= sys->n_out || sys->out[j].mw_g_per_mol <= 0.0)
        return 0.0;
    return ks_pk_output_value(sys, j, x) / sys->out[j].mw_g_per_mol;
}

void ks_pd_input_from_pk(const ks_pk_system *sys, const double *x_pk, ks_pd_input *in)
{
    in->sket = brain_um(sys, KS_PK_OUT_BRAIN_SKET, x_pk);
    in->rket = brain_um(sys, KS_PK_OUT_BRAIN_RKET, x_pk);
    in->snorket = brain_um(sys, KS_PK_OUT_BRAIN_SNOR, x_pk);
    in->rnorket = brain_um(sys, KS_PK_OUT_BRAIN_RNOR, x_pk);
    in->hnk_2s6s = brain_um(sys, KS_PK_OUT_BRAIN_SHNK, x_pk);
    in->hnk_2r6r = brain_um(sys, KS_PK_OUT_BRAIN_RHNK, x_pk);
    in->escitalopram = brain_um(sys, KS_PK_OUT_BRAIN_ESC, x_pk);
    in->citalopram = brain_um(sys, KS_PK_OUT_BRAIN_CIT, x_pk);
    in->midazolam = brain_um(sys, KS_PK_OUT_BRAIN_MDZ, x_pk);
    in->naltrexone = brain_um(sys, KS_PK_OUT_BRAIN_NTX, x_pk);
    in->naltrexol = brain_um(sys, KS_PK_OUT_BRAIN_NOL, x_pk);
    in->rapamycin = brain_um(sys, KS_PK_OUT_BRAIN_RAPA, x_pk);
}

void ks_pd_covariates_init(ks_pd_covariates *cov)
{
    memset(cov, 0, sizeof *cov);
    cov->severity_madrs = 34.0; /* TRD trial baseline ~30 + pop.severity_offset 4 */
    cov->n_failed_trials = 0;
    cov->stress_load = 0.7;   /* pop.sigma_median */
    cov->episode_years = 1.5; /* pop.duration_median_y */
    cov->ssri_adaptation_init = 0.0;
    cov->start_healthy = 0;
}

void ks_pd_covariates_animal(ks_pd_covariates *cov)
{
    ks_pd_covariates_init(cov);
    cov->stress_load = 0.0;
    cov->episode_years = 0.0;
    cov->start_healthy = 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Typical values and the per-patient build. */

ks_pd_typical *ks_pd_typical_create(ks_ctx *ctx, const ks_params *params)
{
    ks_pd_typical *typ = NULL;
    if (!params) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_pd_typical_create: NULL parameter table");
        return NULL;
    }
    typ = ks_calloc(ctx, 1, sizeof *typ);
    if (!typ)
        return NULL;
    for (size_t i = 0; i < N_PARAMS; i++) {
        const pd_param_spec *sp = &param_specs[i];
        double v;
        if (ks_params_get(ctx, params, sp->name, &v) != KS_OK)
            goto fail;
        if (!isfinite(v) || v < sp->lo || v > sp->hi) {
            char b0[32], b1[32], b2[32];
            ks_fail(ctx, KS_ERR_INPUT, "parameters: %s: outside its range [%s, %s] (got %s)",
                    sp->name, ks_fmt_double(b1, sizeof b1, sp->lo),
                    ks_fmt_double(b2, sizeof b2, sp->hi), ks_fmt_double(b0, sizeof b0, v));
            goto fail;
        }
        memcpy((char *)typ + sp->offset, &v, sizeof v);
    }
    if (typ->n_transit != floor(typ->n_transit)) {
        char b0[32];
        ks_fail(ctx, KS_ERR_INPUT, "parameters: spine.n_transit: must be an integer 1-%d (got %s)",
                KS_PD_NTRANSIT, ks_fmt_double(b0, sizeof b0, typ->n_transit));
        goto fail;
    }
    if (typ->pop.trd_p2 + typ->pop.trd_p3 > 1.0) {
        ks_fail(ctx, KS_ERR_INPUT,
                "parameters: pop.trd_p2: pop.trd_p2 + pop.trd_p3 must not "
                "exceed 1");
        goto fail;
    }
    typ->base.spine.n_transit = (int)typ->n_transit;
    /* MODEL.md 4: first-order protein turnover from its half-life. */
    typ->base.sig.k_pout = log(2.0) / typ->p_thalf;
    typ->base.sig.q_g = typ->q_act;
    /* ng/mL -> uM (MODEL.md 2.2). */
    typ->base.rec.ec50_sert_esc = typ->ec50_sert_esc_ngml / MW_ESCITALOPRAM;
    typ->base.rec.ec50_sert_cit = typ->ec50_sert_cit_ngml / MW_ESCITALOPRAM;
    typ->base.rec.ec50_sed_mdz = typ->ec50_sed_mdz_ngml / MW_MIDAZOLAM;
    typ->base.mood.s_i = 1.0;
    typ->base.clin.m_dep = 34.0;
    return typ;
fail:
    free(typ);
    return NULL;
}

void ks_pd_typical_free(ks_pd_typical *typ)
{
    free(typ);
}

void ks_pd_typical_population(const ks_pd_typical *typ, ks_pd_population *out)
{
    *out = typ->pop;
}

ks_status ks_pd_build(ks_ctx *ctx, const ks_pd_typical *typ, const ks_patient *pt,
                      const ks_pd_covariates *cov, ks_pd_patient *out)
{
    char b0[32];
    if (!typ || !pt || !cov || !out)
        return ks_fail(ctx, KS_ERR_USAGE, "ks_pd_build: NULL argument");
    if (!(cov->severity_madrs >= 0.0 && cov->severity_madrs <= 60.0))
        return ks_fail(ctx, KS_ERR_INPUT, "patient: severity_madrs: must be 0-60 (got %s)",
                       ks_fmt_double(b0, sizeof b0, cov->severity_madrs));
    if (cov->n_failed_trials < 0 || cov->n_failed_trials > 100)
        return ks_fail(ctx, KS_ERR_INPUT, "patient: n_failed_trials: must be 0-100 (got %d)",
                       cov->n_failed_trials);
    if (!(cov->stress_load >= 0.0 && cov->stress_load <= 100.0))
        return ks_fail(ctx, KS_ERR_INPUT, "patient: stress_load: must be 0-100 (got %s)",
                       ks_fmt_double(b0, sizeof b0, cov->stress_load));
    if (!(cov->episode_years >= 0.0 && cov->episode_years <= 100.0))
        return ks_fail(ctx, KS_ERR_INPUT, "patient: episode_years: must be 0-100 (got %s)",
                       ks_fmt_double(b0, sizeof b0, cov->episode_years));
    if (!(cov->ssri_adaptation_init >= 0.0 && cov->ssri_adaptation_init <= 1.0))
        return ks_fail(ctx, KS_ERR_INPUT, "patient: ssri_adaptation_init: must be 0-1 (got %s)",
                       ks_fmt_double(b0, sizeof b0, cov->ssri_adaptation_init));
    for (int k = 0; k < KS_PD_NETA; k++) {
        if (!(fabs(cov->eta[k]) <= 20.0))
            return ks_fail(ctx, KS_ERR_INPUT,
                           "patient: eta[%d]: must be finite, |eta| <= 20 "
                           "(got %s)",
                           k, ks_fmt_double(b0, sizeof b0, cov->eta[k]));
    }

    ks_pd_patient *pp = out;
    *pp = typ->base;
    const double *eta = cov->eta;
    /* MODEL.md 12: between-patient variability (additive on T0, lognormal elsewhere). */
    pp->mood.t0 = typ->base.mood.t0 + eta[KS_PD_ETA_T0];
    pp->mood.k_l = typ->base.mood.k_l * exp(eta[KS_PD_ETA_KL]);
    pp->spine.g_f = typ->base.spine.g_f * exp(eta[KS_PD_ETA_GF]);
    pp->spine.k_c = typ->base.spine.k_c * exp(eta[KS_PD_ETA_KC]);
    pp->mood.sigma_nu = typ->base.mood.sigma_nu * exp(eta[KS_PD_ETA_SIGMA_NU]);
    pp->rec.mg_i = typ->base.rec.mg_i * exp(eta[KS_PD_ETA_MG_I]);
    pp->plc.delta_v = fmin(1.0, typ->base.plc.delta_v * exp(eta[KS_PD_ETA_DELTA_V]));
    /* MODEL.md 12: s_i = exp(eta_s - beta_s n_fail). */
    pp->mood.s_i = exp(eta[KS_PD_ETA_S] - typ->beta_s * (double)cov->n_failed_trials);
    /* MODEL.md 4: Val66Met lowers activity-dependent release (Egan 2003; Chen 2004). */
    double qg = typ->q_act;
    if (pt->bdnf == KS_BDNF_VALMET)
        qg *= typ->q_valmet;
    else if (pt->bdnf == KS_BDNF_METMET)
        qg *= typ->q_metmet;
    pp->sig.q_g = qg;
    /* MODEL.md 12: Hab0 = hab_per_fail n_fail + hab_per_year duration, capped at 1. */
    pp->hab0 = fmin(1.0, typ->pop.hab_per_fail * (double)cov->n_failed_trials +
                             typ->pop.hab_per_year * cov->episode_years);
    pp->a0 = cov->ssri_adaptation_init;
    pp->sys.sigma_i = cov->stress_load;
    pp->clin.m_dep = cov->severity_madrs;
    pp->start_healthy = cov->start_healthy ? 1 : 0;
    return KS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Dynamics. */

/* Everything algebraic at (z, in), computed once per right-hand-side call. */
typedef struct {
    ks_pd_rec_out rec;
    ks_pd_circ_out circ;
    ks_pd_sig_out sig;
    ks_pd_spine_flows spine;
    ks_pd_sys_out sys;
    double s_tot, tilt;
} pd_algebra;

static void algebra(const ks_pd_patient *pp, const double *z, const ks_pd_input *in, pd_algebra *g)
{
    ks_pd_rec_algebra(&pp->rec, in, &g->rec);
    ks_pd_circ_algebra(&pp->circ, z, g->rec.x_c, g->rec.occ_ampa, &g->circ);
    ks_pd_sig_algebra(&pp->sig, z, g->circ.ampa, in->anti_bdnf, g->rec.i_mtor, &g->sig);
    ks_pd_spine_flows_at(&pp->spine, z, &g->spine);
    ks_pd_sys_algebra(&pp->sys, z, g->circ.cadss_rel, g->rec.occ_mu, &g->sys);
    g->s_tot = ks_pd_spines_total(z);
    ks_pd_tilt_terms tt = {
        .s_tot = g->s_tot,
        .lift = ks_pd_clamp(z[KS_PD_L], -1e6, 1e6),
        .a = ks_pd_clamp(z[KS_PD_A], 0.0, 1.0),
        .e = ks_pd_clamp(z[KS_PD_E], 0.0, 1.0),
        .r_th = ks_pd_clamp(z[KS_PD_RTH], 0.0, 1e6),
        .rum = g->sys.rum,
        .infl = ks_pd_clamp(z[KS_PD_INFL], -1e6, 1e6),
        .hab = ks_pd_clamp(z[KS_PD_HAB], -1e6, 1e6),
    };
    g->tilt = ks_pd_tilt(&pp->mood, &tt);
}

void ks_pd_rhs(const ks_pd_patient *pp, double t, const double *z, const ks_pd_input *in,
               double *zdot)
{
    (void)t; /* autonomous given the inputs */
    pd_algebra g;
    algebra(pp, z, in, &g);
    ks_pd_rec_rhs(&pp->rec, &g.rec, z, zdot);
    ks_pd_circ_rhs(&pp->circ, &g.circ, z, zdot);
    ks_pd_sig_rhs(&pp->sig, &g.sig, z, zdot);
    ks_pd_spine_rhs(&pp->spine, &g.spine, z, zdot);
    ks_pd_sys_rhs(&pp->sys, &g.sys, z, in->stress_episode, zdot);
    ks_pd_mood_rhs(&pp->mood, z, ks_pd_clamp(z[KS_PD_M] - 1.0, 0.0, 1e6), g.sys.g_op,
                   g.spine.window, g.tilt, in->nu, zdot);
    ks_pd_ssri_rhs(&pp->plc, z, g.rec.occ_sert, zdot);
    ks_pd_plc_rhs(&pp->plc, z, zdot);
}

void ks_pd_outputs(const ks_pd_patient *pp, const double *z, const ks_pd_input *in, double *out)
{
    pd_algebra g;
    algebra(pp, z, in, &g);
    out[KS_PD_OUT_BLOCK_I] = z[KS_PD_BI];
    out[KS_PD_OUT_BLOCK_P] = z[KS_PD_BP];
    out[KS_PD_OUT_GLX_PCT] = 100.0 * z[KS_PD_GLX];
    out[KS_PD_OUT_AMPA] = g.circ.ampa;
    out[KS_PD_OUT_CADSS] = g.circ.cadss;
    out[KS_PD_OUT_CADSS_REL] = g.circ.cadss_rel;
    out[KS_PD_OUT_SEDATION] = g.rec.sedation;
    out[KS_PD_OUT_BDNF_POOL] = z[KS_PD_BPOOL];
    out[KS_PD_OUT_BDNF_RELEASED] = z[KS_PD_BX];
    out[KS_PD_OUT_TRKB] = g.sig.tk;
    out[KS_PD_OUT_MTOR] = z[KS_PD_M];
    out[KS_PD_OUT_PROTEIN] = z[KS_PD_P];
    out[KS_PD_OUT_WINDOW] = g.spine.window;
    out[KS_PD_OUT_SPINES_LABILE] = z[KS_PD_SNEW];
    /* consolidated spines: the stable pool and the consolidated new spines (MODEL.md 5) */
    out[KS_PD_OUT_SPINES_STABLE] =
        ks_pd_clamp(z[KS_PD_SST], 0.0, 1e6) + ks_pd_clamp(z[KS_PD_SNC], 0.0, 1e6);
    out[KS_PD_OUT_SPINES_NEW_CONS] = z[KS_PD_SNC];
    out[KS_PD_OUT_SPINES_TOTAL] = g.s_tot;
    out[KS_PD_OUT_SPINE_FORMATION] = g.spine.formation;
    out[KS_PD_OUT_LIFT] = z[KS_PD_L];
    out[KS_PD_OUT_MOOD] = z[KS_PD_MOOD];
    out[KS_PD_OUT_TILT] = g.tilt;
    out[KS_PD_OUT_HABIT] = z[KS_PD_HAB];
    out[KS_PD_OUT_STRESS] = z[KS_PD_SX];
    out[KS_PD_OUT_INFLAMMATION] = z[KS_PD_INFL];
    out[KS_PD_OUT_RUMINATION] = g.sys.rum;
    out[KS_PD_OUT_PFC] = g.sys.c_pfc;
    out[KS_PD_OUT_EXPECTATION] = z[KS_PD_E];
    out[KS_PD_OUT_SSRI_ADAPTATION] = z[KS_PD_A];
    out[KS_PD_OUT_THERAPY] = z[KS_PD_RTH];
    out[KS_PD_OUT_MU_OCC] = g.rec.occ_mu;
    out[KS_PD_OUT_SERT_OCC] = g.rec.occ_sert;
    out[KS_PD_OUT_MTOR_INHIBITION] = g.rec.i_mtor;
    double relief = ks_pd_clin_relief(&pp->clin, z[KS_PD_L], pp->mood.s_i, z[KS_PD_A], z[KS_PD_E]);
    double madrs = ks_pd_clin_madrs(&pp->clin, z[KS_PD_MOOD], 1.0 - g.sys.c_pfc, relief);
    out[KS_PD_OUT_MADRS] = madrs;
    out[KS_PD_OUT_HDRS17] = ks_pd_clin_hdrs17(&pp->clin, madrs);
}

void ks_pd_initial_state(const ks_pd_patient *pp, double *z)
{
    for (int i = 0; i < KS_PD_N; i++)
        z[i] = 0.0;
    /* Drug-free fixed point of the fast and signalling layers (MODEL.md 4: normalised so that
     * Bp = Bx = Tk = Rk = M = P = 1, P0 = 0). */
    z[KS_PD_BPOOL] = 1.0;
    z[KS_PD_BX] = 1.0;
    z[KS_PD_RK] = 1.0;
    z[KS_PD_M] = 1.0;
    z[KS_PD_P] = 1.0;
    z[KS_PD_HAB] = pp->hab0;
    z[KS_PD_A] = pp->a0;
    /* Slow systems: Sx = sigma_i + rho Rum(m, C_pfc(S_set(Sx))), S_st = S_set, Infl = 1 + a_SI
     * Sx, m = stable root of the well in the chosen basin. Damped fixed-point iteration (the
     * loop gain rho_rum * ... is small for any physical parameter set). */
    double m = pp->start_healthy ? 1.0 : -1.0;
    double sx = pp->sys.sigma_i;
    for (int it = 0; it < 500; it++) {
        double s_st = ks_pd_spine_set_point(&pp->spine, sx, pp->a0);
        double c = ks_pd_pfc(&pp->sys, s_st);
        double rum = ks_pd_rumination(&pp->sys, m, c, 0.0);
        double sx_new = pp->sys.sigma_i + pp->sys.rho_rum * rum;
        ks_pd_tilt_terms tt = {.s_tot = s_st,
                               .lift = 0.0,
                               .a = pp->a0,
                               .e = 0.0,
                               .r_th = 0.0,
                               .rum = rum,
                               .infl = 1.0 + pp->sys.a_si * sx,
                               .hab = pp->hab0};
        double m_new =
            ks_pd_well_root(&pp->mood, 0.0, ks_pd_tilt(&pp->mood, &tt), pp->start_healthy);
        double d = fabs(sx_new - sx) + fabs(m_new - m);
        sx = 0.5 * (sx + sx_new);
        m = 0.5 * (m + m_new);
        if (d < 1e-13)
            break;
    }
    z[KS_PD_SX] = sx;
    z[KS_PD_SST] = ks_pd_spine_set_point(&pp->spine, sx, pp->a0);
    z[KS_PD_INFL] = 1.0 + pp->sys.a_si * sx;
    z[KS_PD_MOOD] = m;
}

/* ------------------------------------------------------------------------------------------ */
/* Events. */

static double gate_of(const ks_pd_patient *pp, const ks_pd_input *in)
{
    if (!in)
        return 1.0;
    ks_pd_rec_out r;
    ks_pd_rec_algebra(&pp->rec, in, &r);
    return ks_pd_opioid_gate(&pp->sys, r.occ_mu);
}

void ks_pd_visit(const ks_pd_patient *pp, double *z, const ks_pd_input *in)
{
    z[KS_PD_E] = ks_pd_plc_after_visit(&pp->plc, z[KS_PD_E], gate_of(pp, in));
}

double ks_pd_belief(const ks_pd_patient *pp, double cadss_peak, double sedation_peak,
                    int open_label)
{
    return ks_pd_plc_belief(&pp->plc, pp->circ.cadss_max, cadss_peak, sedation_peak, open_label);
}

void ks_pd_session(const ks_pd_patient *pp, double *z, double cadss_peak, double sedation_peak,
                   int open_label, const ks_pd_input *in)
{
    double b = ks_pd_belief(pp, cadss_peak, sedation_peak, open_label);
    z[KS_PD_E] = ks_pd_plc_after_session(&pp->plc, z[KS_PD_E], gate_of(pp, in), b);
}

void ks_pd_therapy(const ks_pd_patient *pp, double *z, double intensity)
{
    /* MODEL.md 9: R_th += q ther.pulse. */
    z[KS_PD_RTH] += ks_pd_clamp(intensity, 0.0, 1e6) * pp->plc.ther_pulse;
}

void ks_pd_ablate_new_spines(const ks_pd_patient *pp, double *z, double fraction)
{
    (void)pp;
    /* MODEL.md 5: S_new := (1 - f) S_new, S_nc := (1 - f) S_nc (Moda-Sava 2019 photo-ablation
     * of the spines formed after the drug, whether or not they have been consolidated). */
    double keep = 1.0 - ks_pd_clamp(fraction, 0.0, 1.0);
    z[KS_PD_SNEW] *= keep;
    z[KS_PD_SNC] *= keep;
}

void ks_pd_noise_params(const ks_pd_patient *pp, double *tau_h, double *sigma)
{
    *tau_h = pp->mood.tau_nu;
    *sigma = pp->mood.sigma_nu;
}

double ks_pd_madrs(const ks_pd_patient *pp, double m)
{
    return ks_pd_clin_madrs(&pp->clin, m, 0.0, 0.0);
}

double ks_pd_hdrs17_from_madrs(const ks_pd_patient *pp, double madrs)
{
    return ks_pd_clin_hdrs17(&pp->clin, madrs);
}

double ks_pd_rater_sd(const ks_pd_patient *pp)
{
    return pp->clin.rater_sd;
}
