/*
 * model.c -- the combined PK + mechanism system, its inputs and its Jacobian (model.h).
 *
 * Intervention levels (docs/MODEL.md section 10): anti-BDNF and the AMPA blocker decay
 * exponentially after their event, level(t) = level(t0) exp(-(t - t0)/tau) with tau =
 * int.antibdnf_tau and int.nbqx_tau (the superposition of several events is one exponential with
 * the summed level at the segment start, clamped to [0, 1] where it is used); the mTOR block and
 * the stress episode are constant over a segment (the driver restarts at their edges).
 * Mood noise: the OU path sampled exactly on a grid and joined by its natural cubic spline
 * (MODEL.md section 15: every integrator sees the same smooth path).
 * Concentrations: ks_pd_input_from_pk's sums evaluated directly over the carried states by a
 * map built (and checked bitwise against it) once per patient in ks_model_setup.
 */
#include "model/model.h"

#include "core/internal.h"
#include "core/rng.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

void ks_model_reachable(const ks_pk_system *pk, const unsigned char *seed, unsigned char *out)
{
    const int n = pk->n;
    if (out != seed) {
        memcpy(out, seed, (size_t)n);
    }
    /* Fixed point of "i is reached when some reached j feeds it": at most n sweeps. */
    for (int sweep = 0; sweep < n; sweep++) {
        int changed = 0;
        for (int k = 0; k < pk->nnz; k++) {
            int i = pk->row[k], j = pk->col[k];
            if (i != j && out[j] && !out[i] && pk->val[k] != 0.0) {
                out[i] = 1;
                changed = 1;
            }
        }
        if (!changed) {
            break;
        }
    }
}

void ks_model_clear_inputs(ks_model *m)
{
    memset(m->u, 0, sizeof m->u);
    m->anti_bdnf0 = 0.0;
    m->anti_bdnf_t0 = 0.0;
    m->ampa0 = 0.0;
    m->ampa_t0 = 0.0;
    m->mtor_block = 0.0;
    m->stress_episode = 0.0;
    m->nu = NULL;
    m->nu_m2 = NULL;
    m->n_nu = 0;
    m->nu_dt = 1.0;
}

/* The concentration fields of ks_pd_input, in the order of pd.h. */
static const size_t conc_offsets[KS_MODEL_NCONC] = {
    offsetof(ks_pd_input, sket),         offsetof(ks_pd_input, rket),
    offsetof(ks_pd_input, snorket),      offsetof(ks_pd_input, rnorket),
    offsetof(ks_pd_input, hnk_2s6s),     offsetof(ks_pd_input, hnk_2r6r),
    offsetof(ks_pd_input, escitalopram), offsetof(ks_pd_input, citalopram),
    offsetof(ks_pd_input, midazolam),    offsetof(ks_pd_input, naltrexone),
    offsetof(ks_pd_input, naltrexol),    offsetof(ks_pd_input, rapamycin)};

static double conc_field(const ks_pd_input *in, size_t q)
{
    double v;
    memcpy(&v, (const char *)in + conc_offsets[q], sizeof v);
    return v;
}

/* Output j of the PK system at the unit vector of full state s, in uM, evaluated as
 * ks_pd_input_from_pk evaluates it (the terms summed from 0 in order, then divided by the
 * molar mass). */
static double output_unit_um(const ks_pk_system *pk, int j, int s)
{
    const ks_pk_output *o = &pk->out[j];
    double v = 0.0;
    for (int k = 0; k < o->n_terms; k++) {
        v += o->coef[k] * (o->state[k] == s ? 1.0 : 0.0);
    }
    return v / o->mw_g_per_mol;
}

/* Concentrations by the map of conc_map_setup (ks_pd_input zeroed first). Skipping the terms
 * of states that are not carried (exactly 0) leaves every sum bitwise unchanged. */
static void conc_map_eval(const ks_model *m, const double *y, ks_pd_input *in)
{
    static const ks_pd_input zero_input;
    *in = zero_input;
    for (int q = 0; q < m->n_conc; q++) {
        double v = 0.0;
        for (int k = 0; k < m->conc[q].n_terms; k++) {
            v += m->conc[q].coef[k] * y[m->conc[q].idx[k]];
        }
        v /= m->conc[q].mw;
        memcpy((char *)in + m->conc[q].off, &v, sizeof v);
    }
}

/* unit[q][s]: concentration q of ks_pd_input_from_pk at the unit vector of full PK state s (a
 * linear map, so the unit vectors give it exactly). */
static void conc_unit_responses(const ks_pk_system *pk, double unit[KS_MODEL_NCONC][KS_PK_MAXN])
{
    double xs[KS_PK_MAXN];
    memset(xs, 0, sizeof xs);
    for (int s = 0; s < pk->n; s++) {
        ks_pd_input in;
        ks_pd_input_init(&in);
        xs[s] = 1.0;
        ks_pd_input_from_pk(pk, xs, &in);
        xs[s] = 0.0;
        for (size_t q = 0; q < KS_MODEL_NCONC; q++) {
            unit[q][s] = conc_field(&in, q);
        }
    }
}

/* Builds the concentration map: each concentration of ks_pd_input_from_pk is matched, by its
 * values at every unit vector of the PK state (`unit`), to the effect-site output that
 * produces it; then the map is checked bitwise against ks_pd_input_from_pk at pseudo-random PK
 * states. On any mismatch conc_ok stays 0 (the generic evaluation is used). */
static void conc_map_setup(ks_model *m, double unit[KS_MODEL_NCONC][KS_PK_MAXN])
{
    const ks_pk_system *pk = m->pk;
    m->conc_ok = 0;
    m->n_conc = 0;
    for (size_t q = 0; q < KS_MODEL_NCONC; q++) {
        const double *val = unit[q];
        int any = 0;
        for (int s = 0; s < pk->n; s++) {
            any |= val[s] != 0.0;
        }
        if (!any) {
            continue; /* identically zero for this PK system */
        }
        int match = -1;
        for (int j = 0; j < pk->n_out && match < 0; j++) {
            if (!(pk->out[j].mw_g_per_mol > 0.0) || pk->out[j].n_terms > KS_PK_MAXTERM) {
                continue;
            }
            int same = 1;
            for (int s = 0; s < pk->n && same; s++) {
                same = output_unit_um(pk, j, s) == val[s];
            }
            if (same) {
                match = j;
            }
        }
        if (match < 0) {
            return;
        }
        const ks_pk_output *o = &pk->out[match];
        int c = m->n_conc++;
        m->conc[c].off = conc_offsets[q];
        m->conc[c].mw = o->mw_g_per_mol;
        m->conc[c].n_terms = 0;
        for (int k = 0; k < o->n_terms; k++) {
            if (o->state[k] >= 0 && o->state[k] < pk->n && m->pk_compact[o->state[k]] >= 0) {
                int t = m->conc[c].n_terms++;
                m->conc[c].idx[t] = m->pk_compact[o->state[k]];
                m->conc[c].coef[t] = o->coef[k];
            }
        }
    }
    /* bitwise check at pseudo-random carried states (one fixed stream of core/rng.h) */
    ks_rng r;
    ks_rng_init(&r, 0x636f6e63ULL, 0, 0, 0);
    double y[KS_PK_MAXN];
    for (int trial = 0; trial < 4; trial++) {
        for (int c = 0; c < m->n_pk; c++) {
            y[c] = 10.0 * ks_rng_uniform(&r);
            m->xfull[m->pk_full[c]] = y[c];
        }
        ks_pd_input a, b;
        ks_pd_input_init(&a);
        ks_pd_input_from_pk(pk, m->xfull, &a);
        conc_map_eval(m, y, &b);
        for (int c = 0; c < m->n_pk; c++) {
            m->xfull[m->pk_full[c]] = 0.0;
        }
        if (memcmp(&a, &b, sizeof a) != 0) {
            m->n_conc = 0;
            return;
        }
    }
    m->conc_ok = 1;
}

ks_status ks_model_setup(ks_ctx *ctx, ks_model *m, const ks_pk_system *pk, const ks_pd_patient *pd,
                         const unsigned char *carry)
{
    if (!m || !pk || pk->n < 1 || pk->n > KS_PK_MAXN || pk->nnz < 0 || pk->nnz > KS_PK_MAXNNZ) {
        return ks_fail(ctx, KS_ERR_USAGE, "ks_model_setup: missing or oversized PK system");
    }
    m->pk = pk;
    m->pd = pd;
    m->n_pk = 0;
    for (int i = 0; i < pk->n; i++) {
        if (!carry || carry[i]) {
            m->pk_compact[i] = m->n_pk;
            m->pk_full[m->n_pk++] = i;
        } else {
            m->pk_compact[i] = -1;
        }
    }
    m->nnz = 0;
    for (int k = 0; k < pk->nnz; k++) {
        int i = m->pk_compact[pk->row[k]], j = m->pk_compact[pk->col[k]];
        if (i >= 0 && j >= 0) {
            m->row[m->nnz] = i;
            m->col[m->nnz] = j;
            m->val[m->nnz] = pk->val[k];
            m->nnz++;
        }
    }
    m->n = m->n_pk + (pd ? KS_PD_N : 0);
    memset(m->xfull, 0, sizeof m->xfull);
    /* The PK states the mechanism reads: those whose unit vector changes a concentration of
     * ks_pd_input_from_pk (a linear map, so probing with unit vectors is exact). */
    m->n_read = 0;
    m->conc_ok = 0;
    m->n_conc = 0;
    if (pd) {
        double unit[KS_MODEL_NCONC][KS_PK_MAXN];
        conc_unit_responses(pk, unit);
        for (int c = 0; c < m->n_pk; c++) {
            int reads = 0;
            for (size_t q = 0; q < KS_MODEL_NCONC; q++) {
                reads |= unit[q][m->pk_full[c]] != 0.0;
            }
            if (reads) {
                m->read[m->n_read++] = c;
            }
        }
        conc_map_setup(m, unit);
    }
    ks_model_clear_inputs(m);
    return KS_OK;
}

void ks_model_noise_spline(const double *nu, size_t n, double dt, double *m2, double *scratch)
{
    for (size_t i = 0; i < n; i++) {
        m2[i] = 0.0;
    }
    if (n < 3) {
        return;
    }
    /* Rows i = 1..n-2: m2[i-1] + 4 m2[i] + m2[i+1] = 6 (nu[i+1] - 2 nu[i] + nu[i-1]) / dt^2,
     * with m2[0] = m2[n-1] = 0 (natural end conditions). Forward sweep in scratch (c'),
     * right-hand side in m2 (d'), then back substitution. */
    const double k6 = 6.0 / (dt * dt);
    scratch[0] = 0.0;
    for (size_t i = 1; i + 1 < n; i++) {
        double rhs = k6 * (nu[i + 1] - 2.0 * nu[i] + nu[i - 1]);
        double denom = 4.0 - scratch[i - 1];
        scratch[i] = 1.0 / denom;
        m2[i] = (rhs - m2[i - 1]) / denom;
    }
    for (size_t i = n - 2; i >= 1; i--) {
        m2[i] -= scratch[i] * m2[i + 1];
    }
}

double ks_model_nu(const ks_model *m, double t)
{
    if (!m->nu || m->n_nu == 0) {
        return 0.0;
    }
    double s = t / m->nu_dt;
    if (!(s > 0.0)) {
        return m->nu[0];
    }
    if (s >= (double)(m->n_nu - 1)) {
        return m->nu[m->n_nu - 1];
    }
    size_t k = (size_t)s;
    double f = s - (double)k, g = 1.0 - f;
    double lin = g * m->nu[k] + f * m->nu[k + 1];
    if (!m->nu_m2) {
        return lin;
    }
    /* Natural cubic spline between grid points k and k+1. */
    double h2 = m->nu_dt * m->nu_dt / 6.0;
    return lin + h2 * ((g * g * g - g) * m->nu_m2[k] + (f * f * f - f) * m->nu_m2[k + 1]);
}

void ks_model_pk_state(const ks_model *m, const double *y, double *x_full)
{
    for (int i = 0; i < m->pk->n; i++) {
        x_full[i] = 0.0;
    }
    for (int c = 0; c < m->n_pk; c++) {
        x_full[m->pk_full[c]] = y[c];
    }
}

/* Intervention levels and noise at t (everything of the input but the concentrations). */
static void fill_levels(const ks_model *m, double t, ks_pd_input *in)
{
    const ks_pd_patient *pp = m->pd;
    in->anti_bdnf = 0.0;
    in->ampa_block = 0.0;
    if (m->anti_bdnf0 > 0.0) {
        /* MODEL.md 10: f_antiBDNF = fraction exp(-(t - t0)/tau_ab) */
        in->anti_bdnf =
            fmin(1.0, m->anti_bdnf0 * exp(-(t - m->anti_bdnf_t0) / pp->intv.antibdnf_tau_h));
    }
    if (m->ampa0 > 0.0) {
        /* MODEL.md 10: occ_AMPA = fraction exp(-(t - t0)/tau_nbqx) */
        in->ampa_block = fmin(1.0, m->ampa0 * exp(-(t - m->ampa_t0) / pp->intv.nbqx_tau_h));
    }
    in->mtor_block = m->mtor_block;
    in->stress_episode = m->stress_episode;
    in->nu = ks_model_nu(m, t);
}

void ks_model_pd_input(ks_model *m, double t, const double *y, ks_pd_input *in)
{
    if (m->conc_ok) {
        conc_map_eval(m, y, in);
    } else {
        ks_pd_input_init(in);
        for (int c = 0; c < m->n_pk; c++) {
            m->xfull[m->pk_full[c]] = y[c];
        }
        ks_pd_input_from_pk(m->pk, m->xfull, in);
    }
    if (m->pd) {
        fill_levels(m, t, in);
    }
}

int ks_model_rhs(double t, const double *y, double *ydot, void *user)
{
    ks_model *m = user;
    const int np = m->n_pk;
    /* PK: dx/dt = A x + u (docs/PK.md), A in triplets restricted to the carried states. */
    for (int i = 0; i < np; i++) {
        ydot[i] = m->u[i];
    }
    for (int k = 0; k < m->nnz; k++) {
        ydot[m->row[k]] += m->val[k] * y[m->col[k]];
    }
    if (m->pd) {
        ks_pd_input in;
        ks_model_pd_input(m, t, y, &in);
        ks_pd_rhs(m->pd, t, y + np, &in, ydot + np);
    }
    return 0;
}

int ks_model_jac(double t, const double *y, const double *f, double *jac, void *user)
{
    ks_model *m = user;
    const int n = m->n, np = m->n_pk;
    const size_t un = (size_t)n;
    memset(jac, 0, un * un * sizeof(double));
    /* PK block: A exactly. */
    for (int k = 0; k < m->nnz; k++) {
        jac[(size_t)m->col[k] * un + (size_t)m->row[k]] += m->val[k];
    }
    if (!m->pd) {
        return 0;
    }
    /* PD rows by forward differences, increment sqrt(eps) max(|y_j|, scale_j) (Dennis &
     * Schnabel 1996, section 5.4), scale 1 for the mechanism states (O(1) by construction) and
     * 1e-2 uM for the concentrations (below every Ki and EC50 of the table). */
    const double srur = sqrt(DBL_EPSILON);
    const double *z = y + np;
    const double *f0 = f + np;
    ks_pd_input in;
    ks_model_pd_input(m, t, y, &in);
    memcpy(m->zp, z, sizeof m->zp);
    for (int j = 0; j < KS_PD_N; j++) {
        double inc = srur * fmax(fabs(z[j]), 1.0);
        volatile double zj = z[j] + inc; /* the increment actually represented */
        inc = zj - z[j];
        m->zp[j] = zj;
        ks_pd_rhs(m->pd, t, m->zp, &in, m->f1);
        m->zp[j] = z[j];
        double *col = jac + (size_t)(np + j) * un + (size_t)np;
        for (int i = 0; i < KS_PD_N; i++) {
            col[i] = (m->f1[i] - f0[i]) / inc;
        }
    }
    /* Columns of the PK states the mechanism reads: only the concentrations change. */
    for (int q = 0; q < m->n_read; q++) {
        int c = m->read[q];
        int full = m->pk_full[c];
        double inc = srur * fmax(fabs(y[c]), 1e-2);
        volatile double xc = y[c] + inc;
        inc = xc - y[c];
        for (int cc = 0; cc < np; cc++) {
            m->xfull[m->pk_full[cc]] = y[cc];
        }
        m->xfull[full] = xc;
        ks_pd_input ip;
        ks_pd_input_init(&ip);
        ks_pd_input_from_pk(m->pk, m->xfull, &ip);
        m->xfull[full] = y[c];
        fill_levels(m, t, &ip);
        ks_pd_rhs(m->pd, t, z, &ip, m->f1);
        double *col = jac + (size_t)c * un + (size_t)np;
        for (int i = 0; i < KS_PD_N; i++) {
            col[i] = (m->f1[i] - f0[i]) / inc;
        }
    }
    return 0;
}
