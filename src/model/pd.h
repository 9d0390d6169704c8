/*
 * pd.h -- the mechanism (pharmacodynamic) model: from effect-site concentrations to NMDA block,
 * glutamate, BDNF/TrkB/mTORC1, synaptic proteins, spines, stress systems, mood and clinical
 * scores. One patient's mechanism state is a plain array of KS_PD_N doubles (layout below); its
 * parameters are one fixed-size plain struct (ks_pd_patient), so patients can be stepped
 * together without allocation.
 *
 * Equations and sources: docs/MODEL.md (section numbers are cited in each layer's .c file).
 * Parameters: data/parameters.csv, prefixes rec. circ. diss. sig. spine. sys. mood. clin. ssri.
 * plc. ther. int. trans. pop.
 *
 * Layers (one module each, wired in this order by pd.c):
 *   receptors.c  (MODEL.md 2)   circuit.c (3)   signalling.c (4)   plasticity.c (5)
 *   systems.c    (6)            mood.c    (7)   clinical.c   (8)   ssri.c, placebo.c (9)
 *
 * Time is in hours everywhere; concentrations in uM (total, plasma-equivalent effect site).
 */
#ifndef KS_PD_H
#define KS_PD_H

#include "ketasim.h"
#include "patient.h"
#include "pk.h"

#include <stddef.h>

/* ---------------------------------------------------------------------------------------------
 * State layout (MODEL.md section 0 table; 28 ODE states). Units: fractions or "x baseline".
 * Drug-free healthy baseline: B_I = B_P = Fb = Glx = Tol = 0, Bp = Bx = Rk = M = P = 1, P0 = 0,
 * Z = 0, S_new = S_nc = 0, S_st = set point, L = 0, m = +-1 basin, E = A = R_th = 0.
 */
enum {
    KS_PD_BI = 0, /* B_I interneuron NMDAR blocked fraction [0,1) */
    KS_PD_BP,     /* B_P pyramidal NMDAR blocked fraction (trapped) [0,1) */
    KS_PD_FB,     /* Fb presynaptic feedback on release (may be < 0) */
    KS_PD_GLX,    /* Glx prefrontal glutamate, fractional change from baseline (>= -1) */
    KS_PD_TOL,    /* Tol tolerance of the dissociative response [0,1) */
    KS_PD_BPOOL,  /* Bp intracellular BDNF pool, x baseline */
    KS_PD_BX,     /* Bx released (extracellular) BDNF, x baseline */
    KS_PD_RK,     /* Rk TrkB-pathway adaptation reference, x baseline */
    KS_PD_M,      /* M mTORC1 activity, x baseline */
    KS_PD_P0,     /* P0 nascent synaptic protein (excess over baseline) */
    KS_PD_P,      /* P synaptic proteins, x baseline */
    KS_PD_Z1,     /* Z1..Z6 spinogenic programme, transit chain */
    KS_PD_Z2,
    KS_PD_Z3,
    KS_PD_Z4,
    KS_PD_Z5,
    KS_PD_Z6,
    KS_PD_SNEW, /* S_new labile new spines, fraction of healthy density */
    KS_PD_SST,  /* S_st stable spines, fraction of healthy density */
    KS_PD_SNC,  /* S_nc consolidated new spines, fraction of healthy density */
    KS_PD_L,    /* L acute synaptic lift */
    KS_PD_MOOD, /* m mood coordinate (depressed well near -1, healthy near +1) */
    KS_PD_HAB,  /* Hab depressive habit [0,1] */
    KS_PD_SX,   /* Sx stress load */
    KS_PD_INFL, /* Infl inflammatory tone, x stress-free value */
    KS_PD_E,    /* E expectation [0,1) */
    KS_PD_A,    /* A SSRI slow adaptation [0,1] */
    KS_PD_RTH,  /* R_th therapy/integration reinforcement */
    KS_PD_N
};
#define KS_PD_NTRANSIT 6 /* transit compartments Z1..Z6 (spine.n_transit must be 1..6) */

/* Name of state i ("B_I", "mood", ...), static; "?" when out of range. */
const char *ks_pd_state_name(int i);
/* 1 if state i must stay >= 0 (all but Fb, Glx and m), 0 otherwise (also out of range). */
int ks_pd_state_nonneg(int i);

/* ---------------------------------------------------------------------------------------------
 * Algebraic outputs, computed by ks_pd_outputs from (state, input).
 */
enum {
    KS_PD_OUT_BLOCK_I = 0,     /* nmda_block_interneuron, fraction */
    KS_PD_OUT_BLOCK_P,         /* nmda_block_pyramidal, fraction */
    KS_PD_OUT_GLX_PCT,         /* glutamate_change_pct: Glx x 100, % over baseline */
    KS_PD_OUT_AMPA,            /* ampa_drive, x baseline */
    KS_PD_OUT_CADSS,           /* cadss, CADSS points (noise-free) */
    KS_PD_OUT_CADSS_REL,       /* cadss_rel, fraction of diss.cadss_max */
    KS_PD_OUT_SEDATION,        /* sedation, midazolam Emax fraction */
    KS_PD_OUT_BDNF_POOL,       /* bdnf_pool, x baseline */
    KS_PD_OUT_BDNF_RELEASED,   /* bdnf_released, x baseline */
    KS_PD_OUT_TRKB,            /* trkb_activation, x baseline */
    KS_PD_OUT_MTOR,            /* mtorc1_activity, x baseline */
    KS_PD_OUT_PROTEIN,         /* synaptic_protein, x baseline */
    KS_PD_OUT_WINDOW,          /* plasticity_window, 0-1 */
    KS_PD_OUT_SPINES_LABILE,   /* spines_labile, fraction of healthy density */
    KS_PD_OUT_SPINES_STABLE,   /* spines_stable: all consolidated spines, S_st + S_nc */
    KS_PD_OUT_SPINES_NEW_CONS, /* spines_new_consolidated: S_nc, the part formed after a drug */
    KS_PD_OUT_SPINES_TOTAL,    /* spines_total */
    KS_PD_OUT_SPINE_FORMATION, /* spine_formation_rate, fraction of healthy density per h */
    KS_PD_OUT_LIFT,            /* acute_lift */
    KS_PD_OUT_MOOD,            /* mood, m */
    KS_PD_OUT_TILT,            /* tilt T of the double well */
    KS_PD_OUT_HABIT,           /* habit */
    KS_PD_OUT_STRESS,          /* stress */
    KS_PD_OUT_INFLAMMATION,    /* inflammation, x stress-free value */
    KS_PD_OUT_RUMINATION,      /* rumination */
    KS_PD_OUT_PFC,             /* prefrontal_control, 0-1.2 */
    KS_PD_OUT_EXPECTATION,     /* expectation */
    KS_PD_OUT_SSRI_ADAPTATION, /* ssri_adaptation */
    KS_PD_OUT_THERAPY,         /* therapy_reinforcement */
    KS_PD_OUT_MU_OCC,          /* mu_opioid_occupancy (naltrexone + 6b-naltrexol), fraction */
    KS_PD_OUT_SERT_OCC,        /* sert_occupancy, fraction */
    KS_PD_OUT_MTOR_INHIBITION, /* mtor_inhibition, fraction (rapamycin or block event) */
    KS_PD_OUT_MADRS,           /* madrs_true, noise-free MADRS 0-60 */
    KS_PD_OUT_HDRS17,          /* hdrs17_true, noise-free HDRS-17 0-52 */
    KS_PD_NOUT
};
/* Output name (lower case, as in the comments above) and unit, static; "?" when out of range. */
const char *ks_pd_output_name(int j);
const char *ks_pd_output_unit(int j);

/* ---------------------------------------------------------------------------------------------
 * Inputs at time t from outside the mechanism.
 */
typedef struct {
    /* Brain (effect-site, plasma-equivalent total) concentrations, uM. Negative values are
     * treated as 0. */
    double sket, rket;         /* S- and R-ketamine (esketamine = S) */
    double snorket, rnorket;   /* S- and R-norketamine */
    double hnk_2s6s, hnk_2r6r; /* hydroxynorketamines */
    double escitalopram, citalopram;
    double midazolam;
    double naltrexone, naltrexol; /* naltrexone and 6-beta-naltrexol */
    double rapamycin;             /* blood-equivalent; brain penetration int.rapa_brain_ratio */
    /* Intervention levels active at t (scenario events; the driver evaluates them, e.g.
     * amplitude * exp(-(t - t0) / tau) with tau from ks_pd_patient.intv). */
    double anti_bdnf;      /* fraction of released BDNF scavenged, 0-1 */
    double ampa_block;     /* AMPA receptor block fraction (NBQX), 0-1 */
    double mtor_block;     /* mTORC1 block fraction (i.c.v. rapamycin), 0-1; combined with the
                              PK rapamycin inhibition as 1 - (1-a)(1-b) */
    double stress_episode; /* sigma_ep: amplitude 1 = standard 21-day chronic stress */
    double nu;             /* mood noise nu(t) (OU path sampled by the driver) */
} ks_pd_input;

/* All fields zero: no drug, no intervention, no noise. */
void ks_pd_input_init(ks_pd_input *in);

/* Fills the 12 concentrations of `in` (uM) from the PK effect-site ("brain_*") outputs of the
 * PK state x_pk (each output in ng/mL divided by its mw_g_per_mol). Other fields of `in` are
 * left untouched. */
void ks_pd_input_from_pk(const ks_pk_system *sys, const double *x_pk, ks_pd_input *in);

/* ---------------------------------------------------------------------------------------------
 * Patient-level covariates beyond ks_patient, and between-patient random effects.
 */
enum {
    KS_PD_ETA_T0 = 0,   /* baseline tilt mood.t0: additive, sd pop.omega_t0 */
    KS_PD_ETA_KL,       /* acute lift gain mood.k_l: lognormal, sd pop.omega_kl */
    KS_PD_ETA_GF,       /* spine formation gain spine.g_f: lognormal, sd pop.omega_gf */
    KS_PD_ETA_KC,       /* consolidation rate spine.k_c: lognormal, sd pop.omega_kc */
    KS_PD_ETA_SIGMA_NU, /* mood noise mood.sigma_nu: lognormal, sd pop.omega_sigma_nu */
    KS_PD_ETA_MG_I,     /* interneuron Mg shift rec.mg_i: lognormal, sd pop.omega_mg_i */
    KS_PD_ETA_DELTA_V,  /* visit expectation increment plc.delta_v: lognormal, sd
                           pop.omega_delta_v */
    KS_PD_ETA_S,        /* SSRI sensitivity s_i = exp(eta_s - ssri.beta_s n_fail), sd
                           pop.omega_s */
    KS_PD_NETA
};

typedef struct {
    double severity_madrs;       /* M_dep,i: MADRS at m = -1 (MODEL.md 8), 0-60 */
    int n_failed_trials;         /* failed adequate antidepressant trials, >= 0 */
    double stress_load;          /* sigma_i chronic exogenous stress load, >= 0 */
    double episode_years;        /* current episode duration, years, >= 0 */
    double ssri_adaptation_init; /* A at t = 0 (patients on a stable antidepressant), 0-1 */
    int start_healthy;           /* 1: start in the healthy basin (virtual animal, controls);
                                    0: start in the depressed basin (patients) */
    double eta[KS_PD_NETA];      /* random effects, order KS_PD_ETA_*; 0 = typical patient */
} ks_pd_covariates;

/* The typical patient: severity 34 MADRS (a TRD trial baseline ~30 plus pop.severity_offset
 * 4), n_fail 0, stress load 0.7 (pop.sigma_median), episode 1.5 y (pop.duration_median_y),
 * A0 = 0, depressed start, all etas 0. */
void ks_pd_covariates_init(ks_pd_covariates *cov);

/* The virtual animal of MODEL.md 11.4: like the typical patient but n_fail 0, episode 0 (Hab 0),
 * stress load 0, healthy start. (Noise off is the driver's choice: nu = 0.) */
void ks_pd_covariates_animal(ks_pd_covariates *cov);

/* ---------------------------------------------------------------------------------------------
 * Parameters. Each layer has its own plain struct (filled from the table, then adjusted per
 * patient by ks_pd_build); ks_pd_patient aggregates them. Units in docs/MODEL.md and the table.
 */
typedef struct {   /* receptors.c, MODEL.md 2 */
    double fu_ket; /* unbound fraction, ketamine and metabolites */
    double ki_sket, ki_rket, ki_snorket, ki_rnorket, ki_hnk; /* uM, Mg-free */
    double mg_i, mg_p;     /* Mg2+ potency shift, interneurons (patient) / pyramidal */
    double kb_i, kb_p;     /* block kinetics, 1/h */
    double ki_ntx, ki_nol; /* uM */
    double fu_ntx;         /* unbound fraction of naltrexone and naltrexol */
    double ec50_sert_esc, ec50_sert_cit; /* uM (table in ng/mL, converted) */
    double ec50_sed_mdz;                 /* uM (table in ng/mL, converted) */
    double rapa_ic50;                    /* uM */
    double rapa_brain_ratio;
} ks_pd_rec_params;

typedef struct { /* circuit.c, MODEL.md 3 */
    double dmax, b50, hill_dis, a_p, g_fb, tau_fb, tau_glx, raw_floor;
    double x50, gamma, cadss_max, k_tol, tau_tol; /* dissociation (diss.*) */
} ks_pd_circ_params;

typedef struct { /* signalling.c, MODEL.md 4 */
    double k_rel, k_pd, k_cl, a_e;
    double q_g; /* activity dependence of release for this patient's BDNF genotype */
    double k_trkb, tau_ad, k_m, e_m, k_p0, tau_p0;
    double k_pout; /* ln 2 / sig.p_thalf, 1/h */
} ks_pd_sig_params;

typedef struct { /* plasticity.c, MODEL.md 5 */
    double w50;
    int n_transit;
    double mtt, g_f, v0, k_c, k_fade, k_h, k_nc0, k_nc_s, l_s, r_self, phi_a;
} ks_pd_spine_params;

typedef struct { /* systems.c, MODEL.md 6 */
    double s_min, rum_max, c_pfc, kappa_dmn, tau_s, rho_rum, tau_i, a_si, phi_op;
    double sigma_i; /* this patient's chronic stress load */
} ks_pd_sys_params;

typedef struct { /* mood.c, MODEL.md 7 */
    double a, b0, lambda_w, t0, tau_m, k_l, tau_l;
    double w_l, w_s, w_a, w_e, w_th, w_rum, w_i, w_hab;
    double tau_hab, tau_nu, sigma_nu;
    double s_i; /* SSRI sensitivity of this patient */
} ks_pd_mood_params;

typedef struct { /* clinical.c, MODEL.md 8 */
    double madrs_per_hamd, hdrs25_per_hdrs17, hamd6_per_hamd17, m_res, k_res, rater_sd;
    double r_l, r_a, r_e; /* graded relief per unit lift, per unit s_i A, per unit E */
    double m_dep;         /* this patient's MADRS at m = -1 */
} ks_pd_clin_params;

typedef struct { /* ssri.c and placebo.c, MODEL.md 9 */
    double tau_a;
    double tau_e, delta_v, delta_s, kappa_b, theta_b, eps_mdz, beta_open;
    double ther_pulse, ther_tau;
} ks_pd_plc_params;

typedef struct {           /* intervention time constants, MODEL.md 10 (used by the driver) */
    double antibdnf_tau_h; /* anti_bdnf level = fraction * exp(-(t - t0)/tau) */
    double nbqx_tau_h;     /* ampa_block level = fraction * exp(-(t - t0)/tau) */
} ks_pd_intv_params;

/* One patient's mechanism parameters. Plain data: copy freely. */
typedef struct {
    ks_pd_rec_params rec;
    ks_pd_circ_params circ;
    ks_pd_sig_params sig;
    ks_pd_spine_params spine;
    ks_pd_sys_params sys;
    ks_pd_mood_params mood;
    ks_pd_clin_params clin;
    ks_pd_plc_params plc;
    ks_pd_intv_params intv;
    double hab0;       /* initial habit (MODEL.md 12), 0-1 */
    double a0;         /* initial SSRI adaptation */
    int start_healthy; /* basin of the initial state */
} ks_pd_patient;

/* Population-level (pop.*) and translation (trans.*) values, for the virtual-population
 * sampler and the animal-equivalent dose (MODEL.md 11-12). */
typedef struct {
    double severity_offset, severity_sd; /* MADRS points */
    double sigma_median, sigma_omega;    /* lognormal stress load */
    double met_freq_eur, met_freq_eas;   /* BDNF Met allele frequency */
    double hab_per_fail, hab_per_year;   /* initial habit */
    double duration_median_y, duration_omega;
    double trd_p2, trd_p3;                     /* P(n_fail = 2), P(n_fail = 3); rest 4 */
    double omega[KS_PD_NETA];                  /* SD of each eta, order KS_PD_ETA_* */
    double ref_dose_mg_per_kg, ref_duration_h; /* trans.ref_dose, trans.ref_duration */
} ks_pd_population;

/* Typical (population) mechanism parameters, read from the table once per run. */
typedef struct ks_pd_typical ks_pd_typical;

/* Reads every mechanism parameter (names: ks_pd_param_names) into a new ks_pd_typical (caller
 * frees with ks_pd_typical_free). Fails with KS_ERR_INPUT when a value is missing or outside
 * its physical range. */
ks_pd_typical *ks_pd_typical_create(ks_ctx *ctx, const ks_params *params);
void ks_pd_typical_free(ks_pd_typical *typ);

/* Every parameter name the mechanism reads (static strings). */
const char *const *ks_pd_param_names(size_t *count);

/* Copies the pop.* and trans.* values. */
void ks_pd_typical_population(const ks_pd_typical *typ, ks_pd_population *out);

/* Builds one patient's parameters from the typical values, the patient (BDNF genotype) and the
 * covariates (etas applied as documented at KS_PD_ETA_*; Hab0 = min(1, pop.hab_per_fail n_fail
 * + pop.hab_per_year episode_years); s_i = exp(eta_s - ssri.beta_s n_fail)). No allocation.
 * Fails with KS_ERR_INPUT on out-of-range covariates. */
ks_status ks_pd_build(ks_ctx *ctx, const ks_pd_typical *typ, const ks_patient *pt,
                      const ks_pd_covariates *cov, ks_pd_patient *out);

/* ---------------------------------------------------------------------------------------------
 * Dynamics.
 */

/* Pre-treatment state: the patient's drug-free steady state (no drug, no intervention, nu = 0)
 * with Hab fixed at hab0 and A at a0 (its slow relaxation is left to the run). The fast and
 * signalling states take their baseline values; stress, spines, inflammation, rumination and m
 * are solved jointly (fixed-point iteration). The basin: m is the stable root of the double
 * well in the basin pp->start_healthy selects (m > 0 healthy, m < 0 depressed); when the tilt
 * is so large that this basin does not exist, the only (opposite) stable root is taken. */
void ks_pd_initial_state(const ks_pd_patient *pp, double *z);

/* zdot = f(t, z, in). No allocation, no I/O; finite for any finite z and in. */
void ks_pd_rhs(const ks_pd_patient *pp, double t, const double *z, const ks_pd_input *in,
               double *zdot);

/* out[KS_PD_NOUT] = algebraic outputs at (z, in). */
void ks_pd_outputs(const ks_pd_patient *pp, const double *z, const ks_pd_input *in, double *out);

/* ---------------------------------------------------------------------------------------------
 * Discrete events (applied by the driver to the state at an integrator stop; MODEL.md 5, 9).
 * `in` gives the mu-opioid occupancy for the opioid gate (MODEL.md 6.1); NULL = no antagonist.
 */

/* Clinical visit: E += delta_v g_op (1 - E). */
void ks_pd_visit(const ks_pd_patient *pp, double *z, const ks_pd_input *in);

/* Belief update after a treatment session (the driver calls it at session start + 2 h with the
 * peaks it tracked over the session: cadss_peak in CADSS points, sedation_peak as the
 * KS_PD_OUT_SEDATION fraction): b = logistic(kappa_b (cadss_peak/cadss_max + eps_mdz
 * sedation_peak + beta_open open_label - theta_b)); E += delta_s g_op (2b - 1)(1 - E), E kept
 * >= 0. */
void ks_pd_session(const ks_pd_patient *pp, double *z, double cadss_peak, double sedation_peak,
                   int open_label, const ks_pd_input *in);
/* The belief b of the formula above (for reports and tests). */
double ks_pd_belief(const ks_pd_patient *pp, double cadss_peak, double sedation_peak,
                    int open_label);

/* Therapy / integration session of intensity q >= 0: R_th += q ther.pulse. */
void ks_pd_therapy(const ks_pd_patient *pp, double *z, double intensity);

/* Photo-ablation of new spines: S_new := (1 - fraction) S_new, fraction clamped to [0, 1]. */
void ks_pd_ablate_new_spines(const ks_pd_patient *pp, double *z, double fraction);

/* Mood noise: Ornstein-Uhlenbeck correlation time (h) and stationary SD, so that the driver
 * samples nu exactly on its grid: nu(t+h) = nu(t) e^{-h/tau} + sigma sqrt(1 - e^{-2h/tau}) N. */
void ks_pd_noise_params(const ks_pd_patient *pp, double *tau_h, double *sigma);

/* Clinical conversions (MODEL.md 8): noise-free MADRS at mood m with no prefrontal deficit
 * (the simulation output madrs_true adds the deficit term; clamped 0-60), HDRS-17 from
 * MADRS (clamped 0-52), and the rater noise SD (MADRS points) the driver adds per rating. */
double ks_pd_madrs(const ks_pd_patient *pp, double m);
double ks_pd_hdrs17_from_madrs(const ks_pd_patient *pp, double madrs);
double ks_pd_rater_sd(const ks_pd_patient *pp);

#endif /* KS_PD_H */
