/*
 * export_population.c -- writes the benchmark population (bench_common.h) for the peer tools:
 * each patient's parameters (PK micro-constants of docs/PK.md section 1, mechanism parameters
 * of docs/MODEL.md), its initial mechanism state, its dose list and its mood-noise path, so that
 * SciPy and deSolve integrate exactly the problem ketasim integrates, with the equations written
 * again in each tool (bench/peers/).
 *
 * Usage: export_population N DAYS SEED DIR
 * Writes DIR/meta.csv, DIR/params.csv, DIR/doses.csv, DIR/events.csv, DIR/noise.csv.
 *
 * The PK block of each patient is read out of the matrix A that ks_pk_build assembled (the
 * rates are the off-diagonal entries, each elimination the rest of a diagonal), and A is then
 * rebuilt from these micro-constants with the equations of docs/PK.md section 1 and compared
 * entry by entry: if the library's PK structure ever departs from the equations the peers
 * implement, the export fails instead of benchmarking two different models.
 */
#include "bench_common.h"

#include "core/rng.h"
#include "model/pd.h"
#include "model/pk.h"

#include <inttypes.h>
#include <math.h>

/* Micro-constants of one ketamine enantiomer block (docs/PK.md section 1), 1/h, and the
 * volumes that turn amounts into concentrations, L. */
#define PK_FIELDS(X)                                                                               \
    X(k_c_p1)                                                                                      \
    X(k_p1_c)                                                                                      \
    X(k_c_p2)                                                                                      \
    X(k_p2_c)                                                                                      \
    X(k_c_liv)                                                                                     \
    X(k_liv_c)                                                                                     \
    X(k_met)                                                                                       \
    X(k_el)                                                                                        \
    X(k_n_np)                                                                                      \
    X(k_np_n)                                                                                      \
    X(k_n_h)                                                                                       \
    X(k_n_out)                                                                                     \
    X(k_h_out)                                                                                     \
    X(ke0_ket)                                                                                     \
    X(ke0_nor)                                                                                     \
    X(ke0_hnk)                                                                                     \
    X(v_c)                                                                                         \
    X(v_n)                                                                                         \
    X(v_h)

typedef struct {
#define PK_DECL(f) double f;
    PK_FIELDS(PK_DECL)
#undef PK_DECL
} pk_block;

/* Mechanism parameters the peers read (ks_pd_patient after ks_pd_build). Terms of drugs and
 * interventions absent from this course (naltrexone, SSRIs, midazolam, rapamycin, NBQX,
 * anti-BDNF, stress episodes) are identically zero and not exported. */
#define PD_FIELDS(X)                                                                               \
    X(fu_ket, rec.fu_ket)                                                                          \
    X(ki_sket, rec.ki_sket)                                                                        \
    X(ki_rket, rec.ki_rket)                                                                        \
    X(ki_snorket, rec.ki_snorket)                                                                  \
    X(ki_rnorket, rec.ki_rnorket)                                                                  \
    X(ki_hnk, rec.ki_hnk)                                                                          \
    X(mg_i, rec.mg_i)                                                                              \
    X(mg_p, rec.mg_p)                                                                              \
    X(kb_i, rec.kb_i)                                                                              \
    X(kb_p, rec.kb_p)                                                                              \
    X(dmax, circ.dmax)                                                                             \
    X(b50, circ.b50)                                                                               \
    X(hill_dis, circ.hill_dis)                                                                     \
    X(a_p, circ.a_p)                                                                               \
    X(g_fb, circ.g_fb)                                                                             \
    X(tau_fb, circ.tau_fb)                                                                         \
    X(tau_glx, circ.tau_glx)                                                                       \
    X(raw_floor, circ.raw_floor)                                                                   \
    X(x50, circ.x50)                                                                               \
    X(gamma, circ.gamma)                                                                           \
    X(cadss_max, circ.cadss_max)                                                                   \
    X(k_tol, circ.k_tol)                                                                           \
    X(tau_tol, circ.tau_tol)                                                                       \
    X(k_rel, sig.k_rel)                                                                            \
    X(k_pd, sig.k_pd)                                                                              \
    X(k_cl, sig.k_cl)                                                                              \
    X(a_e, sig.a_e)                                                                                \
    X(q_g, sig.q_g)                                                                                \
    X(k_trkb, sig.k_trkb)                                                                          \
    X(tau_ad, sig.tau_ad)                                                                          \
    X(k_m, sig.k_m)                                                                                \
    X(e_m, sig.e_m)                                                                                \
    X(k_p0, sig.k_p0)                                                                              \
    X(tau_p0, sig.tau_p0)                                                                          \
    X(k_pout, sig.k_pout)                                                                          \
    X(w50, spine.w50)                                                                              \
    X(n_transit, spine.n_transit)                                                                  \
    X(mtt, spine.mtt)                                                                              \
    X(g_f, spine.g_f)                                                                              \
    X(v0, spine.v0)                                                                                \
    X(k_c, spine.k_c)                                                                              \
    X(k_fade, spine.k_fade)                                                                        \
    X(k_h, spine.k_h)                                                                              \
    X(k_nc0, spine.k_nc0)                                                                          \
    X(k_nc_s, spine.k_nc_s)                                                                        \
    X(l_s, spine.l_s)                                                                              \
    X(r_self, spine.r_self)                                                                        \
    X(phi_a, spine.phi_a)                                                                          \
    X(s_min, sys.s_min)                                                                            \
    X(rum_max, sys.rum_max)                                                                        \
    X(c_pfc, sys.c_pfc)                                                                            \
    X(kappa_dmn, sys.kappa_dmn)                                                                    \
    X(tau_s, sys.tau_s)                                                                            \
    X(rho_rum, sys.rho_rum)                                                                        \
    X(tau_i, sys.tau_i)                                                                            \
    X(a_si, sys.a_si)                                                                              \
    X(sigma_i, sys.sigma_i)                                                                        \
    X(a_well, mood.a)                                                                              \
    X(b0, mood.b0)                                                                                 \
    X(lambda_w, mood.lambda_w)                                                                     \
    X(t0, mood.t0)                                                                                 \
    X(tau_m, mood.tau_m)                                                                           \
    X(k_l, mood.k_l)                                                                               \
    X(tau_l, mood.tau_l)                                                                           \
    X(w_l, mood.w_l)                                                                               \
    X(w_s, mood.w_s)                                                                               \
    X(w_a, mood.w_a)                                                                               \
    X(w_e, mood.w_e)                                                                               \
    X(w_th, mood.w_th)                                                                             \
    X(w_rum, mood.w_rum)                                                                           \
    X(w_i, mood.w_i)                                                                               \
    X(w_hab, mood.w_hab)                                                                           \
    X(tau_hab, mood.tau_hab)                                                                       \
    X(s_i, mood.s_i)                                                                               \
    X(m_res, clin.m_res)                                                                           \
    X(m_dep, clin.m_dep)                                                                           \
    X(tau_a, plc.tau_a)                                                                            \
    X(tau_e, plc.tau_e)                                                                            \
    X(delta_v, plc.delta_v)                                                                        \
    X(delta_s, plc.delta_s)                                                                        \
    X(kappa_b, plc.kappa_b)                                                                        \
    X(theta_b, plc.theta_b)                                                                        \
    X(beta_open, plc.beta_open)                                                                    \
    X(ther_pulse, plc.ther_pulse)                                                                  \
    X(ther_tau, plc.ther_tau)                                                                      \
    X(k_res, clin.k_res)                                                                           \
    X(r_l, clin.r_l)                                                                               \
    X(r_a, clin.r_a)                                                                               \
    X(r_e, clin.r_e)

/* A[r][c] of the system (0 when absent). */
static double entry(const ks_pk_system *s, int r, int c)
{
    for (int k = 0; k < s->nnz; k++) {
        if (s->row[k] == r && s->col[k] == c) {
            return s->val[k];
        }
    }
    return 0.0;
}

/* Reads the block of the enantiomer whose central state is `base` (docs/PK.md section 1). */
static void read_block(const ks_pk_system *s, int base, pk_block *b)
{
    const int c = base + KS_PK_SKET_C, p1 = base + KS_PK_SKET_P1, p2 = base + KS_PK_SKET_P2;
    const int liv = base + KS_PK_SKET_LIVER, nc = base + KS_PK_SNOR_C, np = base + KS_PK_SNOR_P;
    const int hc = base + KS_PK_SHNK_C, ke = base + KS_PK_SKET_E, ne = base + KS_PK_SNOR_E;
    const int he = base + KS_PK_SHNK_E;
    b->k_c_p1 = entry(s, p1, c);
    b->k_p1_c = entry(s, c, p1);
    b->k_c_p2 = entry(s, p2, c);
    b->k_p2_c = entry(s, c, p2);
    b->k_c_liv = entry(s, liv, c);
    b->k_liv_c = entry(s, c, liv);
    b->k_met = entry(s, nc, liv);
    b->k_el = -entry(s, liv, liv) - b->k_liv_c - b->k_met;
    b->k_n_np = entry(s, np, nc);
    b->k_np_n = entry(s, nc, np);
    b->k_n_h = entry(s, hc, nc);
    b->k_n_out = -entry(s, nc, nc) - b->k_n_np - b->k_n_h;
    b->k_h_out = -entry(s, hc, hc);
    b->ke0_ket = -entry(s, ke, ke);
    b->ke0_nor = -entry(s, ne, ne);
    b->ke0_hnk = -entry(s, he, he);
    b->v_c = b->ke0_ket / entry(s, ke, c);
    b->v_n = b->ke0_nor / entry(s, ne, nc);
    b->v_h = b->ke0_hnk / entry(s, he, hc);
}

/* Rebuilds the block's entries from the micro-constants with the equations of docs/PK.md
 * section 1 and compares them with A, over every (row, column) of the block's ten carried
 * states. Returns the largest relative mismatch. */
static double check_block(const ks_pk_system *s, int base, const pk_block *b)
{
    enum { C, P1, P2, LIV, NC, NP, HC, KE, NE, HE, NB };
    const int st[NB] = {base + KS_PK_SKET_C,     base + KS_PK_SKET_P1, base + KS_PK_SKET_P2,
                        base + KS_PK_SKET_LIVER, base + KS_PK_SNOR_C,  base + KS_PK_SNOR_P,
                        base + KS_PK_SHNK_C,     base + KS_PK_SKET_E,  base + KS_PK_SNOR_E,
                        base + KS_PK_SHNK_E};
    double e[NB][NB];
    memset(e, 0, sizeof e);
    /* dA_c/dt = -(Q1 + Q2 + Qh)/Vc A_c + Q1/Vp1 A_p1 + Q2/Vp2 A_p2 + Qh/Vh A_liv */
    e[C][C] = -(b->k_c_p1 + b->k_c_p2 + b->k_c_liv);
    e[C][P1] = b->k_p1_c;
    e[C][P2] = b->k_p2_c;
    e[C][LIV] = b->k_liv_c;
    e[P1][C] = b->k_c_p1;
    e[P1][P1] = -b->k_p1_c;
    e[P2][C] = b->k_c_p2;
    e[P2][P2] = -b->k_p2_c;
    /* dA_liv/dt = Qh/Vc A_c - (Qh/Vh + kmet + kel) A_liv */
    e[LIV][C] = b->k_c_liv;
    e[LIV][LIV] = -(b->k_liv_c + b->k_met + b->k_el);
    /* dN_c/dt = kmet A_liv - (CLn + Qn)/Vn N_c + Qn/Vnp N_p; dN_p/dt = Qn/Vn N_c - Qn/Vnp N_p */
    e[NC][LIV] = b->k_met;
    e[NC][NC] = -(b->k_n_np + b->k_n_h + b->k_n_out);
    e[NC][NP] = b->k_np_n;
    e[NP][NC] = b->k_n_np;
    e[NP][NP] = -b->k_np_n;
    /* dH/dt = f_hnk CLn/Vn N_c - CL_hnk/V_hnk H */
    e[HC][NC] = b->k_n_h;
    e[HC][HC] = -b->k_h_out;
    /* dCe/dt = ke0 (A/V - Ce) (docs/PK.md section 3) */
    e[KE][C] = b->ke0_ket / b->v_c;
    e[KE][KE] = -b->ke0_ket;
    e[NE][NC] = b->ke0_nor / b->v_n;
    e[NE][NE] = -b->ke0_nor;
    e[HE][HC] = b->ke0_hnk / b->v_h;
    e[HE][HE] = -b->ke0_hnk;
    double worst = 0.0;
    for (int i = 0; i < NB; i++) {
        for (int j = 0; j < NB; j++) {
            double a = entry(s, st[i], st[j]);
            double d = fabs(a - e[i][j]) / fmax(fabs(a), 1e-300);
            if (a == 0.0 && e[i][j] == 0.0) {
                d = 0.0;
            }
            worst = fmax(worst, d);
        }
    }
    return worst;
}

static int write_all(const char *dir, const bench_pop *bp, const ks_model_typical *typ, ks_ctx *ctx)
{
    char path[4096];
    FILE *fp = NULL, *fn = NULL, *fd = NULL;
    int rc = 1;
    const size_t n_nu = (size_t)floor(bp->times[bp->n_times - 1] / KS_NOISE_GRID_H) + 2;
    double *nu = malloc(n_nu * sizeof *nu);
    if (!nu) {
        fprintf(stderr, "export_population: out of memory\n");
        return 1;
    }
    snprintf(path, sizeof path, "%s/meta.csv", dir);
    FILE *fm = fopen(path, "w");
    if (!fm) {
        perror(path);
        goto done;
    }
    fprintf(fm, "n,days,seed,n_times,n_nu,nu_dt_h,open_label,session_h,session_sample_h\n");
    fprintf(fm, "%zu,%d,%" PRIu64 ",%zu,%zu,%.17g,%d,%.17g,%.17g\n", bp->n, bp->days, bp->seed,
            bp->n_times, n_nu, (double)KS_NOISE_GRID_H, BENCH_OPEN_LABEL, (double)KS_SESSION_H,
            (double)KS_SESSION_SAMPLE_H);
    fclose(fm);
    snprintf(path, sizeof path, "%s/events.csv", dir);
    FILE *fe = fopen(path, "w");
    if (!fe) {
        perror(path);
        goto done;
    }
    fprintf(fe, "t_h,kind,magnitude\n");
    for (size_t k = 0; k < bp->n_ev; k++) {
        fprintf(fe, "%.17g,%s,%.17g\n", bp->ev[k].t_h, ks_event_name(bp->ev[k].kind),
                bp->ev[k].magnitude);
    }
    fclose(fe);
    snprintf(path, sizeof path, "%s/params.csv", dir);
    fp = fopen(path, "w");
    snprintf(path, sizeof path, "%s/noise.csv", dir);
    fn = fopen(path, "w");
    snprintf(path, sizeof path, "%s/doses.csv", dir);
    fd = fopen(path, "w");
    if (!fp || !fn || !fd) {
        perror(path);
        goto done;
    }
    /* header */
    fprintf(fp, "id,key,mw_ketamine");
#define PK_HEAD(f) fprintf(fp, ",s_" #f);
    PK_FIELDS(PK_HEAD)
#undef PK_HEAD
#define PK_HEAD(f) fprintf(fp, ",r_" #f);
    PK_FIELDS(PK_HEAD)
#undef PK_HEAD
#define PD_HEAD(name, field) fprintf(fp, "," #name);
    PD_FIELDS(PD_HEAD)
#undef PD_HEAD
    for (int i = 0; i < KS_PD_N; i++) {
        fprintf(fp, ",init_%s", ks_pd_state_name(i));
    }
    fprintf(fp, "\n");
    fprintf(fd, "id,t_h,duration_h,amount_mg\n");
    fprintf(fn, "id");
    for (size_t k = 0; k < n_nu; k++) {
        fprintf(fn, ",nu%zu", k);
    }
    fprintf(fn, "\n");
    for (size_t i = 0; i < bp->n; i++) {
        ks_pk_system sys;
        ks_pd_patient pd;
        const ks_virtual_patient *vp = &bp->vp[i];
        if (ks_pk_build(ctx, typ->pk, &vp->patient, &sys) != KS_OK ||
            ks_pd_build(ctx, typ->pd, &vp->patient, &vp->cov, &pd) != KS_OK) {
            fprintf(stderr, "export_population: patient %zu: %s\n", i, ks_ctx_message(ctx));
            goto done;
        }
        pk_block bs, br;
        read_block(&sys, 0, &bs);
        read_block(&sys, KS_PK_R_OFFSET, &br);
        double mis = fmax(check_block(&sys, 0, &bs), check_block(&sys, KS_PK_R_OFFSET, &br));
        if (mis > 1e-12) {
            fprintf(stderr,
                    "export_population: patient %zu: the PK matrix no longer has the structure "
                    "of docs/PK.md section 1 (relative mismatch %g); update bench/peers\n",
                    i, mis);
            goto done;
        }
        /* The mechanism reads the effect-site states directly as uM (pk.c outputs; pd.c
         * ks_pd_input_from_pk): check it. */
        double x[KS_PK_MAXN];
        memset(x, 0, sizeof x);
        x[KS_PK_SKET_E] = 1.0;
        x[KS_PK_RNOR_E] = 2.0;
        x[KS_PK_SHNK_E] = 3.0;
        ks_pd_input in;
        ks_pd_input_init(&in);
        ks_pd_input_from_pk(&sys, x, &in);
        if (fabs(in.sket - 1.0) > 1e-12 || fabs(in.rnorket - 2.0) > 1e-12 ||
            fabs(in.hnk_2s6s - 3.0) > 1e-12) {
            fprintf(stderr, "export_population: effect-site states are no longer uM inputs\n");
            goto done;
        }
        fprintf(fp, "%zu,%" PRIu64 ",%.17g", i, bp->key[i], sys.mw_g_per_mol[KS_DRUG_KETAMINE]);
#define PK_VAL(f) fprintf(fp, ",%.17g", bs.f);
        PK_FIELDS(PK_VAL)
#undef PK_VAL
#define PK_VAL(f) fprintf(fp, ",%.17g", br.f);
        PK_FIELDS(PK_VAL)
#undef PK_VAL
#define PD_VAL(name, field) fprintf(fp, ",%.17g", (double)pd.field);
        PD_FIELDS(PD_VAL)
#undef PD_VAL
        double z0[KS_PD_N];
        ks_pd_initial_state(&pd, z0);
        for (int k = 0; k < KS_PD_N; k++) {
            fprintf(fp, ",%.17g", z0[k]);
        }
        fprintf(fp, "\n");
        ks_dose d[BENCH_MAX_DOSES];
        bench_doses(bp, i, d);
        for (size_t k = 0; k < bp->n_dose; k++) {
            fprintf(fd, "%zu,%.17g,%.17g,%.17g\n", i, d[k].t_h, d[k].duration_h, d[k].amount_mg);
        }
        /* The mood-noise path exactly as ks_sim_patient draws it (patient_sim.c). */
        double tau = 0.0, sigma = 0.0;
        ks_pd_noise_params(&pd, &tau, &sigma);
        ks_rng rng;
        ks_rng_init(&rng, bp->seed, bp->key[i], KS_RNG_MOOD_NOISE, 0);
        ks_rng_ou_path(&rng, tau, sigma, KS_NOISE_GRID_H, n_nu, nu);
        fprintf(fn, "%zu", i);
        for (size_t k = 0; k < n_nu; k++) {
            fprintf(fn, ",%.17g", nu[k]);
        }
        fprintf(fn, "\n");
    }
    rc = 0;
done:
    if (fp && fclose(fp) != 0) {
        rc = 1;
    }
    if (fn && fclose(fn) != 0) {
        rc = 1;
    }
    if (fd && fclose(fd) != 0) {
        rc = 1;
    }
    free(nu);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: export_population N DAYS SEED DIR\n");
        return 2;
    }
    size_t n = (size_t)bench_arg(argv[1], "N", 1, 10000000);
    int days = (int)bench_arg(argv[2], "DAYS", 1, 3650);
    uint64_t seed = (uint64_t)bench_arg(argv[3], "SEED", 0, (unsigned long)-1);
    ks_ctx *ctx = ks_ctx_create();
    ks_params *params = ctx ? ks_params_create_default(ctx) : NULL;
    ks_model_typical typ = {NULL, NULL};
    bench_pop bp;
    memset(&bp, 0, sizeof bp);
    int rc = 1;
    if (!params || ks_model_typical_init(ctx, params, &typ) != KS_OK ||
        bench_pop_init(ctx, params, n, days, seed, &bp) != KS_OK) {
        fprintf(stderr, "export_population: %s\n", ctx ? ks_ctx_message(ctx) : "no memory");
        goto done;
    }
    rc = write_all(argv[4], &bp, &typ, ctx);
done:
    bench_pop_free(&bp);
    ks_model_typical_clear(&typ);
    ks_params_free(params);
    ks_ctx_free(ctx);
    return rc;
}
