/*
 * pk.c -- the pharmacokinetic layer: builds one patient's linear compartmental system
 * dx/dt = A x + u from the "pk.*" parameters and the patient's covariates, and turns dose
 * events into input vectors. Every equation is written out, with its source, in docs/PK.md;
 * the comments below name the section.
 */
#include "pk.h"

#include "../core/internal.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * Parameters. One X-macro lists every parameter: field, name, lower and upper bound of its
 * physically meaningful range. Units and sources are in data/parameters.csv.
 * ------------------------------------------------------------------------------------- */

#define KS_PK_PARAMS(X)                                                                            \
    X(wt_ref, "pk.cov.weight_ref", 1.0, 500.0)                                                     \
    X(exp_v, "pk.cov.allometric_v", 0.0, 2.0)                                                      \
    X(exp_cl, "pk.cov.allometric_cl", 0.0, 2.0)                                                    \
    X(female_cl, "pk.cov.female_cl_factor", 0.1, 10.0)                                             \
    X(cyp_im, "pk.cov.cyp2b6_intermediate_nmet", 0.0, 1.0)                                         \
    X(cyp_pm, "pk.cov.cyp2b6_poor_nmet", 0.0, 1.0)                                                 \
    X(asian_kel, "pk.cov.east_asian_kel", 0.0, 10.0)                                               \
    X(age_ref, "pk.cov.age_qh_threshold", 0.0, 150.0)                                              \
    X(age_qh, "pk.cov.age_qh_slope", 0.0, 100.0)                                                   \
    X(sket_cl, "pk.sket.cl", 1e-3, 1e4)                                                            \
    X(sket_vc, "pk.sket.vc", 1e-3, 1e5)                                                            \
    X(sket_q1, "pk.sket.q1", 0.0, 1e5)                                                             \
    X(sket_vp1, "pk.sket.vp1", 1e-3, 1e5)                                                          \
    X(sket_q2, "pk.sket.q2", 0.0, 1e5)                                                             \
    X(sket_vp2, "pk.sket.vp2", 1e-3, 1e5)                                                          \
    X(liver_e, "pk.liver.extraction", 1e-3, 0.999)                                                 \
    X(vh, "pk.liver.vh", 1e-3, 1e4)                                                                \
    X(fm_nor, "pk.liver.fm_nor", 0.0, 1.0)                                                         \
    X(rket_cl_ratio, "pk.rket.cl_ratio", 1e-3, 100.0)                                              \
    X(rket_v_ratio, "pk.rket.v_ratio", 1e-3, 100.0)                                                \
    X(ka_nasal, "pk.nasal.ka", 1e-3, 1e4)                                                          \
    X(frn_first, "pk.nasal.frn_first", 0.0, 1.0)                                                   \
    X(device_factor, "pk.nasal.device_factor", 0.0, 1.0)                                           \
    X(ka_gut, "pk.oral.ka", 1e-3, 1e4)                                                             \
    X(fgut, "pk.oral.fgut", 0.0, 1.0)                                                              \
    X(gut_to_nor, "pk.oral.gut_loss_to_nor", 0.0, 1.0)                                             \
    X(ka_im, "pk.im.ka", 1e-3, 1e4)                                                                \
    X(f_im, "pk.im.f", 0.0, 1.0)                                                                   \
    X(ka_sl, "pk.sl.ka", 1e-3, 1e4)                                                                \
    X(f_sl, "pk.sl.frac_mucosal", 0.0, 1.0)                                                        \
    X(nor_vc, "pk.nor.vc", 1e-3, 1e5)                                                              \
    X(nor_cl, "pk.nor.cl", 1e-3, 1e4)                                                              \
    X(nor_vp, "pk.nor.vp", 1e-3, 1e5)                                                              \
    X(nor_q, "pk.nor.q", 0.0, 1e5)                                                                 \
    X(nor_f_hnk, "pk.nor.f_hnk", 0.0, 1.0)                                                         \
    X(hnk_v, "pk.hnk.v", 1e-3, 1e5)                                                                \
    X(hnk_cl, "pk.hnk.cl", 1e-3, 1e4)                                                              \
    X(ke0_ket, "pk.ket.ke0", 1e-3, 1e4)                                                            \
    X(ke0_nor, "pk.nor.ke0", 1e-3, 1e4)                                                            \
    X(ke0_hnk, "pk.hnk.ke0", 1e-3, 1e4)                                                            \
    X(esc_ka, "pk.esc.ka", 1e-3, 1e4)                                                              \
    X(esc_f, "pk.esc.f", 0.0, 1.0)                                                                 \
    X(esc_cl, "pk.esc.cl", 1e-3, 1e4)                                                              \
    X(esc_v, "pk.esc.v", 1e-3, 1e5)                                                                \
    X(esc_ke0, "pk.esc.ke0", 1e-3, 1e4)                                                            \
    X(cit_ka, "pk.cit.ka", 1e-3, 1e4)                                                              \
    X(cit_f, "pk.cit.f", 0.0, 1.0)                                                                 \
    X(cit_cl, "pk.cit.cl", 1e-3, 1e4)                                                              \
    X(cit_v, "pk.cit.v", 1e-3, 1e5)                                                                \
    X(cit_ke0, "pk.cit.ke0", 1e-3, 1e4)                                                            \
    X(mdz_ka, "pk.mdz.ka", 1e-3, 1e4)                                                              \
    X(mdz_f, "pk.mdz.f", 0.0, 1.0)                                                                 \
    X(mdz_cl, "pk.mdz.cl", 1e-3, 1e4)                                                              \
    X(mdz_v1, "pk.mdz.v1", 1e-3, 1e5)                                                              \
    X(mdz_q, "pk.mdz.q", 0.0, 1e5)                                                                 \
    X(mdz_v2, "pk.mdz.v2", 1e-3, 1e5)                                                              \
    X(mdz_ke0, "pk.mdz.ke0", 1e-3, 1e4)                                                            \
    X(ntx_ka, "pk.ntx.ka", 1e-3, 1e4)                                                              \
    X(ntx_f, "pk.ntx.f", 0.0, 1.0)                                                                 \
    X(ntx_cl, "pk.ntx.cl", 1e-3, 1e4)                                                              \
    X(ntx_v, "pk.ntx.v", 1e-3, 1e5)                                                                \
    X(ntx_f_nol, "pk.ntx.f_nol", 0.0, 1.0)                                                         \
    X(ntx_ke0, "pk.ntx.ke0", 1e-3, 1e4)                                                            \
    X(nol_cl, "pk.nol.cl", 1e-3, 1e4)                                                              \
    X(nol_v, "pk.nol.v", 1e-3, 1e5)                                                                \
    X(nol_ke0, "pk.nol.ke0", 1e-3, 1e4)                                                            \
    X(rapa_ka, "pk.rapa.ka", 1e-3, 1e4)                                                            \
    X(rapa_f, "pk.rapa.f", 0.0, 1.0)                                                               \
    X(rapa_cl, "pk.rapa.cl", 1e-3, 1e4)                                                            \
    X(rapa_v, "pk.rapa.v", 1e-3, 1e5)                                                              \
    X(rapa_ke0, "pk.rapa.ke0", 1e-3, 1e4)

struct ks_pk_typical {
#define KS_X(field, name, lo, hi) double field;
    KS_PK_PARAMS(KS_X)
#undef KS_X
};

typedef struct {
    const char *name;
    size_t offset;
    double lo, hi;
} pk_param_spec;

static const pk_param_spec param_specs[] = {
#define KS_X(field, name, lo, hi) {name, offsetof(struct ks_pk_typical, field), lo, hi},
    KS_PK_PARAMS(KS_X)
#undef KS_X
};

static const char *const param_names[] = {
#define KS_X(field, name, lo, hi) name,
    KS_PK_PARAMS(KS_X)
#undef KS_X
};

#define N_PARAMS (sizeof param_specs / sizeof param_specs[0])

const char *const *ks_pk_param_names(size_t *count)
{
    if (count) {
        *count = N_PARAMS;
    }
    return param_names;
}

/* Molar masses of the free bases, g/mol (PubChem). Doses are in mg of base. */
#define MW_KETAMINE    237.7
#define MW_NORKETAMINE 223.7
#define MW_HNK         239.7
#define MW_CITALOPRAM  324.4
#define MW_MIDAZOLAM   325.8
#define MW_NALTREXONE  341.4
#define MW_NALTREXOL   343.4
#define MW_SIROLIMUS   914.2

ks_pk_typical *ks_pk_typical_create(ks_ctx *ctx, const ks_params *params)
{
    ks_pk_typical *typ = NULL;
    if (!params) {
        ks_fail(ctx, KS_ERR_USAGE, "ks_pk_typical_create: NULL parameter table");
        return NULL;
    }
    typ = ks_calloc(ctx, 1, sizeof *typ);
    if (!typ) {
        return NULL;
    }
    for (size_t i = 0; i < N_PARAMS; i++) {
        const pk_param_spec *sp = &param_specs[i];
        double v;
        if (ks_params_get(ctx, params, sp->name, &v) != KS_OK) {
            goto fail;
        }
        if (!isfinite(v) || v < sp->lo || v > sp->hi) {
            char b0[32], b1[32], b2[32];
            ks_fail(ctx, KS_ERR_INPUT, "parameters: %s: outside its range [%s, %s] (got %s)",
                    sp->name, ks_fmt_double(b1, sizeof b1, sp->lo),
                    ks_fmt_double(b2, sizeof b2, sp->hi), ks_fmt_double(b0, sizeof b0, v));
            goto fail;
        }
        memcpy((char *)typ + sp->offset, &v, sizeof v);
    }
    /* docs/PK.md "Hepatic extraction": the systemic clearance must stay below hepatic flow
     * Qh = CL / E for every covariate combination that raises it (female sex, R/S ratio). */
    if (typ->female_cl * fmax(1.0, typ->rket_cl_ratio) * typ->liver_e >= 1.0) {
        char b0[32], b1[32];
        ks_fail(ctx, KS_ERR_INPUT,
                "parameters: pk.liver.extraction: times pk.cov.female_cl_factor and "
                "pk.rket.cl_ratio must stay below 1 (got %s x %s)",
                ks_fmt_double(b0, sizeof b0, typ->liver_e),
                ks_fmt_double(b1, sizeof b1, typ->female_cl));
        goto fail;
    }
    return typ;
fail:
    free(typ);
    return NULL;
}

void ks_pk_typical_free(ks_pk_typical *typ)
{
    free(typ);
}

/* ---------------------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------------------- */

static const char *const state_names[KS_PK_NSTATE] = {
    "S_ket_central", "S_ket_periph1", "S_ket_periph2", "S_ket_liver",   "S_ket_nasal",
    "S_ket_gut",     "S_ket_im",      "S_ket_sl",      "S_nor_central", "S_nor_periph",
    "S_hnk_central", "S_ket_effect",  "S_nor_effect",  "S_hnk_effect",  "R_ket_central",
    "R_ket_periph1", "R_ket_periph2", "R_ket_liver",   "R_ket_nasal",   "R_ket_gut",
    "R_ket_im",      "R_ket_sl",      "R_nor_central", "R_nor_periph",  "R_hnk_central",
    "R_ket_effect",  "R_nor_effect",  "R_hnk_effect",  "esc_gut",       "esc_central",
    "esc_effect",    "cit_gut",       "cit_central",   "cit_effect",    "mdz_gut",
    "mdz_central",   "mdz_periph",    "mdz_effect",    "ntx_gut",       "ntx_central",
    "ntx_effect",    "nol_central",   "nol_effect",    "rapa_gut",      "rapa_central",
    "rapa_effect",
};

const char *ks_pk_state_name(int i)
{
    if (i < 0 || i >= KS_PK_NSTATE) {
        return "?";
    }
    return state_names[i];
}

/* ---------------------------------------------------------------------------------------
 * Assembly helpers
 * ------------------------------------------------------------------------------------- */

/* Adds v to A[r][c], merging with an existing entry. Returns -1 when the capacity is full. */
static int add_entry(ks_pk_system *sys, int r, int c, double v)
{
    for (int k = 0; k < sys->nnz; k++) {
        if (sys->row[k] == r && sys->col[k] == c) {
            sys->val[k] += v;
            return 0;
        }
    }
    if (sys->nnz >= KS_PK_MAXNNZ) {
        return -1;
    }
    sys->row[sys->nnz] = r;
    sys->col[sys->nnz] = c;
    sys->val[sys->nnz] = v;
    sys->nnz++;
    return 0;
}

/* First-order transfer of amount from compartment `from` to `to` at rate k (1/h):
 * d(from)/dt -= k from, d(to)/dt += k from. Conserves mass. */
static int transfer(ks_pk_system *sys, int from, int to, double k)
{
    return add_entry(sys, from, from, -k) | add_entry(sys, to, from, k);
}

/* First-order loss from the system (elimination to species that are not modelled). */
static int eliminate(ks_pk_system *sys, int from, double k)
{
    return add_entry(sys, from, from, -k);
}

/* Effect-site link (docs/PK.md "Effect sites"): dCe/dt = ke0 (A_central / V - Ce), with Ce in
 * uM and A in umol. Not a mass flow: the effect site is a hypothetical compartment of
 * negligible volume (Sheiner 1979). */
static int effect_link(ks_pk_system *sys, int central, int effect, double v, double ke0)
{
    return add_entry(sys, effect, central, ke0 / v) | add_entry(sys, effect, effect, -ke0);
}

static void set_output(ks_pk_system *sys, int j, const char *name, int effect_site, double mw,
                       int n_terms, const int *states, const double *coefs)
{
    ks_pk_output *o = &sys->out[j];
    o->n_terms = n_terms;
    for (int k = 0; k < n_terms; k++) {
        o->state[k] = states[k];
        o->coef[k] = coefs[k];
    }
    o->name = name;
    o->unit = "ng/mL";
    o->effect_site = effect_site;
    o->mw_g_per_mol = mw;
}

/* One output from one state: concentration = amount / v (umol/L) times mw -> ng/mL. */
static void out1(ks_pk_system *sys, int j, const char *name, int effect_site, double mw, int state,
                 double v)
{
    double c = mw / v;
    set_output(sys, j, name, effect_site, mw, 1, &state, &c);
}

/* The sum of two states. */
static void out2(ks_pk_system *sys, int j, const char *name, int effect_site, double mw, int s1,
                 double v1, int s2, double v2)
{
    int st[2] = {s1, s2};
    double c[2] = {mw / v1, mw / v2};
    set_output(sys, j, name, effect_site, mw, 2, st, c);
}

/* ---------------------------------------------------------------------------------------
 * One ketamine enantiomer (docs/PK.md "Ketamine enantiomer block")
 * ------------------------------------------------------------------------------------- */

typedef struct {
    double vc, vp1, vp2, q1, q2; /* L, L/h */
    double qh, vh;               /* hepatic flow L/h, hepato-portal volume L */
    double kmet, kel;            /* 1/h: to norketamine, to other metabolites */
    double nor_vc, nor_vp, nor_q, nor_cl;
    double hnk_v, hnk_cl;
} enantiomer_params;

static int build_enantiomer(ks_pk_system *sys, const ks_pk_typical *t, int base,
                            const enantiomer_params *e)
{
    const int c = base + KS_PK_SKET_C, p1 = base + KS_PK_SKET_P1, p2 = base + KS_PK_SKET_P2;
    const int liv = base + KS_PK_SKET_LIVER, nas = base + KS_PK_SKET_NASAL;
    const int gut = base + KS_PK_SKET_GUT, im = base + KS_PK_SKET_IM, sl = base + KS_PK_SKET_SL;
    const int nc = base + KS_PK_SNOR_C, np = base + KS_PK_SNOR_P, hc = base + KS_PK_SHNK_C;
    const int ke = base + KS_PK_SKET_E, ne = base + KS_PK_SNOR_E, he = base + KS_PK_SHNK_E;
    int err = 0;
    /* Disposition: three compartments (Fanta 2015 / Otto 2021 Table 3). */
    err |= transfer(sys, c, p1, e->q1 / e->vc);
    err |= transfer(sys, p1, c, e->q1 / e->vp1);
    err |= transfer(sys, c, p2, e->q2 / e->vc);
    err |= transfer(sys, p2, c, e->q2 / e->vp2);
    /* Hepato-portal compartment exchanging with central at hepatic flow; elimination from it
     * (Perez-Ruixo 2021 Fig. 1). */
    err |= transfer(sys, c, liv, e->qh / e->vc);
    err |= transfer(sys, liv, c, e->qh / e->vh);
    err |= transfer(sys, liv, nc, e->kmet);
    err |= eliminate(sys, liv, e->kel);
    /* Absorption depots. Nasal -> central (ka nasal, Perez-Ruixo 2021). */
    err |= transfer(sys, nas, c, t->ka_nasal);
    /* Gut -> portal vein -> hepato-portal compartment: the fraction Fgut escapes the gut wall
     * (Perez-Ruixo 2021); the gut-wall loss forms norketamine (fraction gut_to_nor). */
    err |= transfer(sys, gut, liv, t->ka_gut * t->fgut);
    err |= transfer(sys, gut, nc, t->ka_gut * (1.0 - t->fgut) * t->gut_to_nor);
    err |= eliminate(sys, gut, t->ka_gut * (1.0 - t->fgut) * (1.0 - t->gut_to_nor));
    err |= transfer(sys, im, c, t->ka_im);
    err |= transfer(sys, sl, c, t->ka_sl);
    /* Norketamine: two compartments (Perez-Ruixo 2021 Table 3); a fraction of its clearance
     * forms 2,6-HNK, one compartment. */
    err |= transfer(sys, nc, np, e->nor_q / e->nor_vc);
    err |= transfer(sys, np, nc, e->nor_q / e->nor_vp);
    err |= transfer(sys, nc, hc, e->nor_cl / e->nor_vc * t->nor_f_hnk);
    err |= eliminate(sys, nc, e->nor_cl / e->nor_vc * (1.0 - t->nor_f_hnk));
    err |= eliminate(sys, hc, e->hnk_cl / e->hnk_v);
    /* Effect sites (Olofsen 2012). */
    err |= effect_link(sys, c, ke, e->vc, t->ke0_ket);
    err |= effect_link(sys, nc, ne, e->nor_vc, t->ke0_nor);
    err |= effect_link(sys, hc, he, e->hnk_v, t->ke0_hnk);
    return err;
}

/* Covariate model for one enantiomer (docs/PK.md "Covariates"). cl_ref is the systemic
 * clearance of the reference patient (70 kg man) for this enantiomer, L/h. */
static ks_status enantiomer_covariates(ks_ctx *ctx, const ks_pk_typical *t, const ks_patient *pt,
                                       double cl_ref, double v_ratio, enantiomer_params *e)
{
    const double fv = pow(pt->weight_kg / t->wt_ref, t->exp_v);
    const double fcl = pow(pt->weight_kg / t->wt_ref, t->exp_cl);
    const int female = pt->sex == KS_SEX_FEMALE;
    /* Sex on systemic clearance, at reference flow (Sigtermans 2009). */
    double cl = cl_ref * (female ? t->female_cl : 1.0);
    /* Reference hepatic flow from the S-ketamine clearance and the first-pass extraction ratio
     * of Perez-Ruixo 2021: Qh = CL / E. */
    const double qh_ref = t->sket_cl / t->liver_e;
    if (cl >= qh_ref) {
        return ks_fail(ctx, KS_ERR_INPUT, "patient %ld: ketamine clearance reaches hepatic flow",
                       pt->id);
    }
    /* Well-stirred liver: CLint = CL Qh / (Qh - CL) (Rowland 1973; Perez-Ruixo 2021). */
    double clint = cl * qh_ref / (qh_ref - cl);
    double clint_met = t->fm_nor * clint;         /* N-demethylation to norketamine */
    double clint_oth = (1.0 - t->fm_nor) * clint; /* other routes */
    if (pt->cyp2b6 == KS_CYP2B6_INTERMEDIATE) {
        clint_met *= t->cyp_im;
    } else if (pt->cyp2b6 == KS_CYP2B6_POOR) {
        clint_met *= t->cyp_pm;
    }
    if (pt->east_asian) {
        clint_oth *= t->asian_kel; /* Perez-Ruixo 2021: kel x 0.36 */
    }
    /* Weight: allometry on flows and volumes; age: Qh falls above the threshold
     * (Perez-Ruixo 2021), never below 10% of its weight-scaled value. */
    double qh = qh_ref * fcl;
    double age_excess = pt->age_y > t->age_ref ? pt->age_y - t->age_ref : 0.0;
    qh = fmax(qh - t->age_qh * age_excess, 0.1 * qh);
    e->qh = qh;
    e->vh = t->vh * fv;
    e->kmet = clint_met * fcl / e->vh;
    e->kel = clint_oth * fcl / e->vh;
    e->vc = t->sket_vc * v_ratio * fv;
    e->vp1 = t->sket_vp1 * v_ratio * fv;
    e->vp2 = t->sket_vp2 * v_ratio * fv;
    e->q1 = t->sket_q1 * fcl;
    e->q2 = t->sket_q2 * fcl;
    e->nor_vc = t->nor_vc * fv;
    e->nor_vp = t->nor_vp * fv;
    e->nor_q = t->nor_q * fcl;
    e->nor_cl = t->nor_cl * fcl * (female ? t->female_cl : 1.0); /* Sigtermans 2009 */
    e->hnk_v = t->hnk_v * fv;
    e->hnk_cl = t->hnk_cl * fcl;
    return KS_OK;
}

/* ---------------------------------------------------------------------------------------
 * Build
 * ------------------------------------------------------------------------------------- */

ks_status ks_pk_build(ks_ctx *ctx, const ks_pk_typical *t, const ks_patient *pt, ks_pk_system *sys)
{
    if (!t || !pt || !sys) {
        return ks_fail(ctx, KS_ERR_USAGE, "ks_pk_build: NULL argument");
    }
    if (!(pt->weight_kg > 0.0) || !isfinite(pt->weight_kg) || pt->weight_kg > 1000.0) {
        char b[32];
        return ks_fail(ctx, KS_ERR_INPUT, "patient %ld: weight_kg must be in (0, 1000] (got %s)",
                       pt->id, ks_fmt_double(b, sizeof b, pt->weight_kg));
    }
    if (!isfinite(pt->age_y) || pt->age_y < 0.0 || pt->age_y > 130.0) {
        char b[32];
        return ks_fail(ctx, KS_ERR_INPUT, "patient %ld: age_y must be in [0, 130] (got %s)", pt->id,
                       ks_fmt_double(b, sizeof b, pt->age_y));
    }
    memset(sys, 0, sizeof *sys);
    sys->n = KS_PK_NSTATE;

    enantiomer_params es, er;
    ks_status st = enantiomer_covariates(ctx, t, pt, t->sket_cl, 1.0, &es);
    if (st != KS_OK) {
        return st;
    }
    st = enantiomer_covariates(ctx, t, pt, t->sket_cl * t->rket_cl_ratio, t->rket_v_ratio, &er);
    if (st != KS_OK) {
        return st;
    }
    int err = build_enantiomer(sys, t, 0, &es);
    err |= build_enantiomer(sys, t, KS_PK_R_OFFSET, &er);

    /* Other drugs: weight allometry only (docs/PK.md "Other drugs"). */
    const double fv = pow(pt->weight_kg / t->wt_ref, t->exp_v);
    const double fcl = pow(pt->weight_kg / t->wt_ref, t->exp_cl);
    const double esc_v = t->esc_v * fv, cit_v = t->cit_v * fv, mdz_v1 = t->mdz_v1 * fv;
    const double mdz_v2 = t->mdz_v2 * fv, ntx_v = t->ntx_v * fv, nol_v = t->nol_v * fv;
    const double rapa_v = t->rapa_v * fv;
    /* One compartment with first-order absorption; the non-bioavailable fraction is lost
     * before the central compartment. */
    err |= transfer(sys, KS_PK_ESC_GUT, KS_PK_ESC_C, t->esc_ka * t->esc_f);
    err |= eliminate(sys, KS_PK_ESC_GUT, t->esc_ka * (1.0 - t->esc_f));
    err |= eliminate(sys, KS_PK_ESC_C, t->esc_cl * fcl / esc_v);
    err |= effect_link(sys, KS_PK_ESC_C, KS_PK_ESC_E, esc_v, t->esc_ke0);
    err |= transfer(sys, KS_PK_CIT_GUT, KS_PK_CIT_C, t->cit_ka * t->cit_f);
    err |= eliminate(sys, KS_PK_CIT_GUT, t->cit_ka * (1.0 - t->cit_f));
    err |= eliminate(sys, KS_PK_CIT_C, t->cit_cl * fcl / cit_v);
    err |= effect_link(sys, KS_PK_CIT_C, KS_PK_CIT_E, cit_v, t->cit_ke0);
    /* Midazolam: two compartments (Heizmann 1983). */
    err |= transfer(sys, KS_PK_MDZ_GUT, KS_PK_MDZ_C, t->mdz_ka * t->mdz_f);
    err |= eliminate(sys, KS_PK_MDZ_GUT, t->mdz_ka * (1.0 - t->mdz_f));
    err |= eliminate(sys, KS_PK_MDZ_C, t->mdz_cl * fcl / mdz_v1);
    err |= transfer(sys, KS_PK_MDZ_C, KS_PK_MDZ_P, t->mdz_q * fcl / mdz_v1);
    err |= transfer(sys, KS_PK_MDZ_P, KS_PK_MDZ_C, t->mdz_q * fcl / mdz_v2);
    err |= effect_link(sys, KS_PK_MDZ_C, KS_PK_MDZ_E, mdz_v1, t->mdz_ke0);
    /* Naltrexone: first-pass and systemic metabolism both form 6-beta-naltrexol. */
    err |= transfer(sys, KS_PK_NTX_GUT, KS_PK_NTX_C, t->ntx_ka * t->ntx_f);
    err |= transfer(sys, KS_PK_NTX_GUT, KS_PK_NOL_C, t->ntx_ka * (1.0 - t->ntx_f) * t->ntx_f_nol);
    err |= eliminate(sys, KS_PK_NTX_GUT, t->ntx_ka * (1.0 - t->ntx_f) * (1.0 - t->ntx_f_nol));
    err |= transfer(sys, KS_PK_NTX_C, KS_PK_NOL_C, t->ntx_cl * fcl / ntx_v * t->ntx_f_nol);
    err |= eliminate(sys, KS_PK_NTX_C, t->ntx_cl * fcl / ntx_v * (1.0 - t->ntx_f_nol));
    err |= eliminate(sys, KS_PK_NOL_C, t->nol_cl * fcl / nol_v);
    err |= effect_link(sys, KS_PK_NTX_C, KS_PK_NTX_E, ntx_v, t->ntx_ke0);
    err |= effect_link(sys, KS_PK_NOL_C, KS_PK_NOL_E, nol_v, t->nol_ke0);
    /* Rapamycin (whole-blood parameters). */
    err |= transfer(sys, KS_PK_RAPA_GUT, KS_PK_RAPA_C, t->rapa_ka * t->rapa_f);
    err |= eliminate(sys, KS_PK_RAPA_GUT, t->rapa_ka * (1.0 - t->rapa_f));
    err |= eliminate(sys, KS_PK_RAPA_C, t->rapa_cl * fcl / rapa_v);
    err |= effect_link(sys, KS_PK_RAPA_C, KS_PK_RAPA_E, rapa_v, t->rapa_ke0);
    if (err) {
        return ks_fail(ctx, KS_ERR_INTERNAL, "ks_pk_build: more than %d nonzero entries",
                       KS_PK_MAXNNZ);
    }

    /* Outputs (ng/mL). Effect-site states are uM, so their coefficient is the molar mass
     * (volume 1 L per uM). */
    const int R = KS_PK_R_OFFSET;
    out2(sys, KS_PK_OUT_PLASMA_KET, "plasma_ketamine_total", 0, MW_KETAMINE, KS_PK_SKET_C, es.vc,
         KS_PK_RKET_C, er.vc);
    out1(sys, KS_PK_OUT_PLASMA_SKET, "plasma_s_ketamine", 0, MW_KETAMINE, KS_PK_SKET_C, es.vc);
    out1(sys, KS_PK_OUT_PLASMA_RKET, "plasma_r_ketamine", 0, MW_KETAMINE, KS_PK_RKET_C, er.vc);
    out2(sys, KS_PK_OUT_PLASMA_NOR, "plasma_norketamine_total", 0, MW_NORKETAMINE, KS_PK_SNOR_C,
         es.nor_vc, KS_PK_RNOR_C, er.nor_vc);
    out1(sys, KS_PK_OUT_PLASMA_SNOR, "plasma_s_norketamine", 0, MW_NORKETAMINE, KS_PK_SNOR_C,
         es.nor_vc);
    out1(sys, KS_PK_OUT_PLASMA_RNOR, "plasma_r_norketamine", 0, MW_NORKETAMINE, KS_PK_RNOR_C,
         er.nor_vc);
    out2(sys, KS_PK_OUT_PLASMA_HNK, "plasma_hnk_total", 0, MW_HNK, KS_PK_SHNK_C, es.hnk_v,
         KS_PK_RHNK_C, er.hnk_v);
    out1(sys, KS_PK_OUT_PLASMA_SHNK, "plasma_hnk_2s6s", 0, MW_HNK, KS_PK_SHNK_C, es.hnk_v);
    out1(sys, KS_PK_OUT_PLASMA_RHNK, "plasma_hnk_2r6r", 0, MW_HNK, KS_PK_RHNK_C, er.hnk_v);
    out2(sys, KS_PK_OUT_BRAIN_KET, "brain_ketamine_total", 1, MW_KETAMINE, KS_PK_SKET_E, 1.0,
         KS_PK_SKET_E + R, 1.0);
    out1(sys, KS_PK_OUT_BRAIN_SKET, "brain_s_ketamine", 1, MW_KETAMINE, KS_PK_SKET_E, 1.0);
    out1(sys, KS_PK_OUT_BRAIN_RKET, "brain_r_ketamine", 1, MW_KETAMINE, KS_PK_RKET_E, 1.0);
    out2(sys, KS_PK_OUT_BRAIN_NOR, "brain_norketamine_total", 1, MW_NORKETAMINE, KS_PK_SNOR_E, 1.0,
         KS_PK_RNOR_E, 1.0);
    out1(sys, KS_PK_OUT_BRAIN_SNOR, "brain_s_norketamine", 1, MW_NORKETAMINE, KS_PK_SNOR_E, 1.0);
    out1(sys, KS_PK_OUT_BRAIN_RNOR, "brain_r_norketamine", 1, MW_NORKETAMINE, KS_PK_RNOR_E, 1.0);
    out1(sys, KS_PK_OUT_BRAIN_SHNK, "brain_hnk_2s6s", 1, MW_HNK, KS_PK_SHNK_E, 1.0);
    out1(sys, KS_PK_OUT_BRAIN_RHNK, "brain_hnk_2r6r", 1, MW_HNK, KS_PK_RHNK_E, 1.0);
    out1(sys, KS_PK_OUT_PLASMA_ESC, "plasma_escitalopram", 0, MW_CITALOPRAM, KS_PK_ESC_C, esc_v);
    out1(sys, KS_PK_OUT_BRAIN_ESC, "brain_escitalopram", 1, MW_CITALOPRAM, KS_PK_ESC_E, 1.0);
    out1(sys, KS_PK_OUT_PLASMA_CIT, "plasma_citalopram", 0, MW_CITALOPRAM, KS_PK_CIT_C, cit_v);
    out1(sys, KS_PK_OUT_BRAIN_CIT, "brain_citalopram", 1, MW_CITALOPRAM, KS_PK_CIT_E, 1.0);
    out1(sys, KS_PK_OUT_PLASMA_MDZ, "plasma_midazolam", 0, MW_MIDAZOLAM, KS_PK_MDZ_C, mdz_v1);
    out1(sys, KS_PK_OUT_BRAIN_MDZ, "brain_midazolam", 1, MW_MIDAZOLAM, KS_PK_MDZ_E, 1.0);
    out1(sys, KS_PK_OUT_PLASMA_NTX, "plasma_naltrexone", 0, MW_NALTREXONE, KS_PK_NTX_C, ntx_v);
    out1(sys, KS_PK_OUT_BRAIN_NTX, "brain_naltrexone", 1, MW_NALTREXONE, KS_PK_NTX_E, 1.0);
    out1(sys, KS_PK_OUT_PLASMA_NOL, "plasma_6b_naltrexol", 0, MW_NALTREXOL, KS_PK_NOL_C, nol_v);
    out1(sys, KS_PK_OUT_BRAIN_NOL, "brain_6b_naltrexol", 1, MW_NALTREXOL, KS_PK_NOL_E, 1.0);
    out1(sys, KS_PK_OUT_BLOOD_RAPA, "blood_rapamycin", 0, MW_SIROLIMUS, KS_PK_RAPA_C, rapa_v);
    out1(sys, KS_PK_OUT_BRAIN_RAPA, "brain_rapamycin", 1, MW_SIROLIMUS, KS_PK_RAPA_E, 1.0);
    sys->n_out = KS_PK_NOUT;

    sys->mw_g_per_mol[KS_DRUG_KETAMINE] = MW_KETAMINE;
    sys->mw_g_per_mol[KS_DRUG_ESKETAMINE] = MW_KETAMINE;
    sys->mw_g_per_mol[KS_DRUG_ARKETAMINE] = MW_KETAMINE;
    sys->mw_g_per_mol[KS_DRUG_ESCITALOPRAM] = MW_CITALOPRAM;
    sys->mw_g_per_mol[KS_DRUG_CITALOPRAM] = MW_CITALOPRAM;
    sys->mw_g_per_mol[KS_DRUG_MIDAZOLAM] = MW_MIDAZOLAM;
    sys->mw_g_per_mol[KS_DRUG_NALTREXONE] = MW_NALTREXONE;
    sys->mw_g_per_mol[KS_DRUG_RAPAMYCIN] = MW_SIROLIMUS;
    sys->frac_nasal_first = t->frn_first;
    sys->device_decrement = t->device_factor;
    sys->frac_sublingual = t->f_sl;
    sys->f_im = t->f_im;
    return KS_OK;
}

/* ---------------------------------------------------------------------------------------
 * Dose input (docs/PK.md "Routes")
 * ------------------------------------------------------------------------------------- */

/* Puts `umol` of one ketamine enantiomer (block offset `base`) where the route delivers it. */
static void ketamine_input(const ks_pk_system *sys, const ks_dose *d, int base, double umol,
                           double *amount)
{
    switch (d->route) {
    case KS_ROUTE_IV_BOLUS:
    case KS_ROUTE_IV_INFUSION:
        amount[base + KS_PK_SKET_C] += umol;
        break;
    case KS_ROUTE_INTRANASAL: {
        /* Perez-Ruixo 2021: FRn for the first 28-mg device of a session, FRn x 0.62 for
         * every later one; the rest is swallowed. */
        double frn = sys->frac_nasal_first * (d->device > 1 ? sys->device_decrement : 1.0);
        amount[base + KS_PK_SKET_NASAL] += frn * umol;
        amount[base + KS_PK_SKET_GUT] += (1.0 - frn) * umol;
        break;
    }
    case KS_ROUTE_ORAL:
        amount[base + KS_PK_SKET_GUT] += umol;
        break;
    case KS_ROUTE_IM:
        amount[base + KS_PK_SKET_IM] += sys->f_im * umol;
        break;
    case KS_ROUTE_SUBLINGUAL:
        amount[base + KS_PK_SKET_SL] += sys->frac_sublingual * umol;
        amount[base + KS_PK_SKET_GUT] += (1.0 - sys->frac_sublingual) * umol;
        break;
    default:
        break;
    }
}

/* 1 when the PK layer can take `drug` by `route` (the same matrix as ks_drug_route_supported). */
static int route_ok(ks_drug drug, ks_route route)
{
    switch (drug) {
    case KS_DRUG_KETAMINE:
    case KS_DRUG_ESKETAMINE:
    case KS_DRUG_ARKETAMINE:
        return route >= KS_ROUTE_IV_BOLUS && route < KS_ROUTE_COUNT;
    case KS_DRUG_ESCITALOPRAM:
    case KS_DRUG_CITALOPRAM:
    case KS_DRUG_NALTREXONE:
    case KS_DRUG_RAPAMYCIN:
        return route == KS_ROUTE_ORAL;
    case KS_DRUG_MIDAZOLAM:
        return route == KS_ROUTE_IV_BOLUS || route == KS_ROUTE_IV_INFUSION ||
               route == KS_ROUTE_ORAL;
    case KS_DRUG_SALINE:
        return route >= KS_ROUTE_IV_BOLUS && route < KS_ROUTE_COUNT;
    default:
        return 0;
    }
}

ks_status ks_pk_dose_input(ks_ctx *ctx, const ks_pk_system *sys, const ks_dose *dose,
                           double *amount, int *is_rate)
{
    if (!sys || !dose || !amount || !is_rate) {
        return ks_fail(ctx, KS_ERR_USAGE, "ks_pk_dose_input: NULL argument");
    }
    if ((int)dose->drug < 0 || dose->drug >= KS_DRUG_COUNT || (int)dose->route < 0 ||
        dose->route >= KS_ROUTE_COUNT) {
        return ks_fail(ctx, KS_ERR_INPUT, "dose at t = %g h: unknown drug or route (got %d, %d)",
                       dose->t_h, (int)dose->drug, (int)dose->route);
    }
    if (!route_ok(dose->drug, dose->route)) {
        return ks_fail(ctx, KS_ERR_INPUT, "dose at t = %g h: %s cannot be given by route %s",
                       dose->t_h, ks_drug_name(dose->drug), ks_route_name(dose->route));
    }
    if (!(dose->amount_mg > 0.0) || !isfinite(dose->amount_mg)) {
        char b[32];
        return ks_fail(ctx, KS_ERR_INPUT, "dose at t = %g h: amount_mg must be > 0 (got %s)",
                       dose->t_h, ks_fmt_double(b, sizeof b, dose->amount_mg));
    }
    const int infusion = dose->route == KS_ROUTE_IV_INFUSION;
    if (infusion && (!(dose->duration_h > 0.0) || !isfinite(dose->duration_h))) {
        char b[32];
        return ks_fail(ctx, KS_ERR_INPUT,
                       "dose at t = %g h: an infusion needs duration_h > 0 (got %s)", dose->t_h,
                       ks_fmt_double(b, sizeof b, dose->duration_h));
    }
    for (int i = 0; i < sys->n; i++) {
        amount[i] = 0.0;
    }
    if (dose->drug == KS_DRUG_SALINE) { /* placebo vehicle: no drug enters any state */
        *is_rate = infusion;
        return KS_OK;
    }
    /* mg / (g/mol) = mmol; x 1000 = umol. */
    double umol = dose->amount_mg / sys->mw_g_per_mol[dose->drug] * 1000.0;
    if (infusion) {
        umol /= dose->duration_h; /* zero-order rate, umol/h */
    }
    switch (dose->drug) {
    case KS_DRUG_KETAMINE: /* racemate: half of each enantiomer by mass */
        ketamine_input(sys, dose, 0, 0.5 * umol, amount);
        ketamine_input(sys, dose, KS_PK_R_OFFSET, 0.5 * umol, amount);
        break;
    case KS_DRUG_ESKETAMINE:
        ketamine_input(sys, dose, 0, umol, amount);
        break;
    case KS_DRUG_ARKETAMINE:
        ketamine_input(sys, dose, KS_PK_R_OFFSET, umol, amount);
        break;
    case KS_DRUG_ESCITALOPRAM:
        amount[KS_PK_ESC_GUT] = umol;
        break;
    case KS_DRUG_CITALOPRAM:
        amount[KS_PK_CIT_GUT] = umol;
        break;
    case KS_DRUG_MIDAZOLAM:
        amount[dose->route == KS_ROUTE_ORAL ? KS_PK_MDZ_GUT : KS_PK_MDZ_C] = umol;
        break;
    case KS_DRUG_NALTREXONE:
        amount[KS_PK_NTX_GUT] = umol;
        break;
    case KS_DRUG_RAPAMYCIN:
        amount[KS_PK_RAPA_GUT] = umol;
        break;
    default:
        return ks_fail(ctx, KS_ERR_INTERNAL, "ks_pk_dose_input: unhandled drug %d",
                       (int)dose->drug);
    }
    *is_rate = infusion;
    return KS_OK;
}

/* ---------------------------------------------------------------------------------------
 * Evaluation
 * ------------------------------------------------------------------------------------- */

void ks_pk_apply(const ks_pk_system *sys, const double *x, double *y)
{
    for (int i = 0; i < sys->n; i++) {
        y[i] = 0.0;
    }
    for (int k = 0; k < sys->nnz; k++) {
        y[sys->row[k]] += sys->val[k] * x[sys->col[k]];
    }
}

void ks_pk_dense(const ks_pk_system *sys, double *a)
{
    const size_t n = (size_t)sys->n;
    for (size_t i = 0; i < n * n; i++) {
        a[i] = 0.0;
    }
    for (int k = 0; k < sys->nnz; k++) {
        a[(size_t)sys->row[k] * n + (size_t)sys->col[k]] += sys->val[k];
    }
}

double ks_pk_output_value(const ks_pk_system *sys, int j, const double *x)
{
    if (j < 0 || j >= sys->n_out) {
        return NAN;
    }
    const ks_pk_output *o = &sys->out[j];
    double v = 0.0;
    for (int k = 0; k < o->n_terms; k++) {
        v += o->coef[k] * x[o->state[k]];
    }
    return v;
}
