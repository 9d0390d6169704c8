/*
 * ketasim_desolve.c -- the ketasim model written again as a compiled right-hand side for R's
 * deSolve (compiled-code interface: initmod + derivs, built with R CMD SHLIB), for bench/run.
 * It never links ketasim's library: the equations are written here from docs/PK.md and
 * docs/MODEL.md (section numbers beside them), as the C sources implement them (src/model/pk.c,
 * receptors.c, circuit.c, signalling.c, plasticity.c, systems.c, mood.c, clinical.c, ssri.c,
 * placebo.c), including the range guards of docs/MODEL.md section 18. Terms of drugs and
 * interventions absent from the benchmark course (naltrexone, SSRIs, midazolam, rapamycin, NBQX,
 * anti-BDNF, stress episodes) are identically zero and omitted (opioid gate 1).
 *
 * State (48): S-ketamine block [c p1 p2 liv nc np hc ke ne he], R-ketamine block, then the 28
 * mechanism states in the order of src/model/pd.h.
 * parms: the NP named values of enum par (same order as PARNAMES in ketasim_desolve.R), then
 * P_COUNT (= NP, a layout check), the infusion rates u_S, u_R (umol/h), n_nu, and the hourly
 * mood-noise samples padded to NU_MAX.
 * Outputs (nout = 2): madrs_true, CADSS (points).
 */
#include <R.h>
#include <math.h>

#define NU_MAX 4096

/* X(name): the parameter names, in the order of PARNAMES in ketasim_desolve.R. */
/* clang-format off */
#define PARS(X)                                                                                    \
    X(s_k_c_p1) X(s_k_p1_c) X(s_k_c_p2) X(s_k_p2_c) X(s_k_c_liv) X(s_k_liv_c) X(s_k_met)           \
    X(s_k_el) X(s_k_n_np) X(s_k_np_n) X(s_k_n_h) X(s_k_n_out) X(s_k_h_out) X(s_ke0_ket)            \
    X(s_ke0_nor) X(s_ke0_hnk) X(s_v_c) X(s_v_n) X(s_v_h)                                           \
    X(r_k_c_p1) X(r_k_p1_c) X(r_k_c_p2) X(r_k_p2_c) X(r_k_c_liv) X(r_k_liv_c) X(r_k_met)           \
    X(r_k_el) X(r_k_n_np) X(r_k_np_n) X(r_k_n_h) X(r_k_n_out) X(r_k_h_out) X(r_ke0_ket)            \
    X(r_ke0_nor) X(r_ke0_hnk) X(r_v_c) X(r_v_n) X(r_v_h)                                           \
    X(fu_ket) X(ki_sket) X(ki_rket) X(ki_snorket) X(ki_rnorket) X(ki_hnk) X(mg_i) X(mg_p)          \
    X(kb_i) X(kb_p) X(dmax) X(b50) X(hill_dis) X(a_p) X(g_fb) X(tau_fb) X(tau_glx) X(raw_floor)    \
    X(x50) X(gamma) X(cadss_max) X(k_tol) X(tau_tol) X(k_rel) X(k_pd) X(k_cl) X(a_e) X(q_g)        \
    X(k_trkb) X(tau_ad) X(k_m) X(e_m) X(k_p0) X(tau_p0) X(k_pout) X(w50) X(n_transit) X(mtt)       \
    X(g_f) X(v0) X(k_c) X(k_fade) X(k_h) X(k_nc0) X(k_nc_s) X(l_s) X(r_self) X(phi_a) X(s_min)     \
    X(rum_max) X(c_pfc) X(kappa_dmn) X(tau_s) X(rho_rum) X(tau_i) X(a_si) X(sigma_i) X(a_well)     \
    X(b0) X(lambda_w)                                                                              \
    X(t0) X(tau_m) X(k_l) X(tau_l) X(w_l) X(w_s) X(w_a) X(w_e) X(w_th) X(w_rum) X(w_i) X(w_hab)    \
    X(tau_hab) X(s_i) X(m_res) X(m_dep) X(tau_a) X(tau_e) X(ther_tau) X(k_res) X(r_l) X(r_a)    \
    X(r_e)
/* clang-format on */

#define PAR_ENUM(name) P_##name,
enum par { PARS(PAR_ENUM) NP };
#undef PAR_ENUM

enum { P_COUNT = NP, P_US, P_UR, P_NNU, P_NU, NPARMS = P_NU + NU_MAX };

/* PK block offsets and mechanism states (src/model/pd.h order). */
enum { C, P1, P2, LIV, NC, NPR, HC, KE, NE, HE, NBLK };
enum {
    BI = 2 * NBLK,
    BP,
    FB,
    GLX,
    TOL,
    BPOOL,
    BX,
    RK,
    MT,
    P0,
    PR,
    Z1,
    Z2,
    Z3,
    Z4,
    Z5,
    Z6,
    SNEW,
    SST,
    SNC,
    LIFT,
    MOOD,
    HAB,
    SX,
    INFL,
    EXP_,
    ADAPT,
    RTH,
    NSTATE
};

static double parms[NPARMS];
static double nu_m2[NU_MAX];

#define PV(name) parms[P_##name]

static double clamp(double v, double lo, double hi)
{
    if (!(v >= lo))
        return lo;
    return v > hi ? hi : v;
}

static double pos(double v)
{
    return v > 0.0 ? v : 0.0;
}

/* Second derivatives of the natural cubic spline through the noise samples (step 1 h):
 * M[i-1] + 4 M[i] + M[i+1] = 6 (nu[i+1] - 2 nu[i] + nu[i-1]), M[0] = M[n-1] = 0 (de Boor, A
 * Practical Guide to Splines, ch. IV); Gaussian elimination of the tridiagonal system. */
static void spline_m2(const double *y, int n, double *m)
{
    static double diag[NU_MAX], rhs[NU_MAX];
    for (int i = 0; i < n; i++)
        m[i] = 0.0;
    if (n < 3)
        return;
    for (int i = 1; i < n - 1; i++) {
        diag[i] = 4.0;
        rhs[i] = 6.0 * (y[i + 1] - 2.0 * y[i] + y[i - 1]);
    }
    for (int i = 2; i < n - 1; i++) {
        double w = 1.0 / diag[i - 1];
        diag[i] -= w;
        rhs[i] -= w * rhs[i - 1];
    }
    for (int i = n - 2; i >= 1; i--)
        m[i] = (rhs[i] - m[i + 1]) / diag[i];
}

/* deSolve calls this before each integration with the parms vector. */
void initmod(void (*odeparms)(int *, double *))
{
    int n = NPARMS;
    odeparms(&n, parms);
    if ((int)parms[P_COUNT] != NP)
        error("ketasim_desolve: parms layout mismatch (%d named values expected)", NP);
    int n_nu = (int)parms[P_NNU];
    if (n_nu < 1 || n_nu > NU_MAX)
        error("ketasim_desolve: n_nu out of range");
    spline_m2(parms + P_NU, n_nu, nu_m2);
}

/* model.c ks_model_nu: the hourly samples joined by their natural cubic spline (docs/MODEL.md
 * 7 and 15 say "linearly interpolated"; the C code uses the C2 spline, followed here). */
static double noise(double t)
{
    const double *nu = parms + P_NU;
    int n = (int)parms[P_NNU];
    if (!(t > 0.0))
        return nu[0];
    if (t >= (double)(n - 1))
        return nu[n - 1];
    int k = (int)t;
    double f = t - (double)k, g = 1.0 - f;
    return g * nu[k] + f * nu[k + 1] +
           ((g * g * g - g) * nu_m2[k] + (f * f * f - f) * nu_m2[k + 1]) / 6.0;
}

/* docs/PK.md section 1 (one enantiomer block) and section 3 (effect sites). k points at the
 * block's 19 parameters in PARS order. */
static void pk_block(const double *k, const double *x, double u, double *d)
{
    const double kcp1 = k[0], kp1c = k[1], kcp2 = k[2], kp2c = k[3], kcl = k[4], klc = k[5];
    const double kmet = k[6], kel = k[7], knnp = k[8], knpn = k[9], knh = k[10], knout = k[11];
    const double khout = k[12], ke0k = k[13], ke0n = k[14], ke0h = k[15], vc = k[16];
    const double vn = k[17], vh = k[18];
    d[C] = -(kcp1 + kcp2 + kcl) * x[C] + kp1c * x[P1] + kp2c * x[P2] + klc * x[LIV] + u;
    d[P1] = kcp1 * x[C] - kp1c * x[P1];
    d[P2] = kcp2 * x[C] - kp2c * x[P2];
    d[LIV] = kcl * x[C] - (klc + kmet + kel) * x[LIV];
    d[NC] = kmet * x[LIV] - (knnp + knh + knout) * x[NC] + knpn * x[NPR];
    d[NPR] = knnp * x[NC] - knpn * x[NPR];
    d[HC] = knh * x[NC] - khout * x[HC];
    d[KE] = ke0k * (x[C] / vc - x[KE]);
    d[NE] = ke0n * (x[NC] / vn - x[NE]);
    d[HE] = ke0h * (x[HC] / vh - x[HE]);
}

/* Parent-drug cortical ratio and NMDA occupancy ratios (MODEL.md 1, 2.1, 3.2). */
static void receptor_ratios(const double *y, double *x_i, double *x_p, double *x_c)
{
    double cs = clamp(y[KE], 0.0, 1e6), cr = clamp(y[NBLK + KE], 0.0, 1e6);
    double csn = clamp(y[NE], 0.0, 1e6), crn = clamp(y[NBLK + NE], 0.0, 1e6);
    double ch = clamp(y[HE], 0.0, 1e6) + clamp(y[NBLK + HE], 0.0, 1e6);
    double fu = PV(fu_ket);
    double sum = fu * (cs / PV(ki_sket) + cr / PV(ki_rket) + csn / PV(ki_snorket) +
                       crn / PV(ki_rnorket) + ch / PV(ki_hnk));
    *x_i = sum / PV(mg_i);
    *x_p = sum / PV(mg_p);
    *x_c = fu * (cs / PV(ki_sket) + cr / PV(ki_rket)) / PV(mg_i);
}

/* MODEL.md 3.2: Bc = xc/(1 + xc); CADSS_rel = Bc^g/(Bc^g + X50^g)(1 - Tol). */
static double cadss_rel(double xc, double tol)
{
    double x = clamp(xc, 0.0, 1e12);
    double bc = x / (1.0 + x);
    double bg = pow(bc, PV(gamma));
    return bg / (bg + pow(PV(x50), PV(gamma))) * (1.0 - clamp(tol, 0.0, 1.0));
}

void derivs(int *neq, double *t, double *y, double *d, double *yout, int *ip)
{
    (void)neq;
    pk_block(parms + P_s_k_c_p1, y, parms[P_US], d);
    pk_block(parms + P_r_k_c_p1, y + NBLK, parms[P_UR], d + NBLK);
    double x_i, x_p, xc;
    receptor_ratios(y, &x_i, &x_p, &xc);
    /* MODEL.md 2.1: dB/dt = kb (x (1 - B) - B) */
    double bir = clamp(y[BI], -1.0, 2.0), bpr = clamp(y[BP], -1.0, 2.0);
    d[BI] = PV(kb_i) * (x_i * (1.0 - bir) - bir);
    d[BP] = PV(kb_p) * (x_p * (1.0 - bpr) - bpr);
    /* MODEL.md 3.1: disinhibition, pyramidal drive, feedback, glutamate, AMPA drive */
    double bi = clamp(y[BI], 0.0, 1.0), bp = clamp(y[BP], 0.0, 1.0);
    double fb = clamp(y[FB], -0.95, 1e6);
    double bh = pow(bi, PV(hill_dis));
    double dis = PV(dmax) * bh / (pow(PV(b50), PV(hill_dis)) + bh);
    double raw = fmax(PV(raw_floor), (1.0 - PV(a_p) * bp) * (1.0 + dis));
    double r_p = raw / (1.0 + fb);
    double ampa = r_p; /* no AMPA blocker in this course */
    double crel = cadss_rel(xc, y[TOL]);
    double tolr = clamp(y[TOL], -1.0, 2.0);
    d[FB] = (PV(g_fb) * (raw - 1.0) - clamp(y[FB], -1e6, 1e6)) / PV(tau_fb);
    d[GLX] = ((r_p - 1.0) - clamp(y[GLX], -1e6, 1e6)) / PV(tau_glx);
    /* MODEL.md 3.2: dTol/dt = k_tol CADSS_rel (1 - Tol) - Tol/tau_tol */
    d[TOL] = PV(k_tol) * crel * (1.0 - tolr) - tolr / PV(tau_tol);
    /* MODEL.md 4: BDNF translation and release, TrkB, adapting mTORC1, synaptic proteins */
    double jrel = clamp(y[BPOOL], 0.0, 1e6) * pos(1.0 + PV(q_g) * (clamp(ampa, 0.0, 1e6) - 1.0));
    double bf = clamp(y[BX], 0.0, 1e6);
    double tk = bf * (1.0 + PV(k_trkb)) / (bf + PV(k_trkb));
    double drive = PV(e_m) * pos(tk - clamp(y[RK], 0.0, 1e6));
    double m_r = clamp(y[MT], -1e6, 1e6), p0 = clamp(y[P0], -1e6, 1e6);
    d[BPOOL] = (PV(k_rel) + PV(k_pd)) * (1.0 + PV(a_e) * bp) - PV(k_rel) * jrel -
               PV(k_pd) * clamp(y[BPOOL], -1e6, 1e6);
    d[BX] = PV(k_cl) * (jrel - clamp(y[BX], -1e6, 1e6));
    d[RK] = (fmax(tk, 1.0) - clamp(y[RK], -1e6, 1e6)) / PV(tau_ad);
    d[MT] = PV(k_m) * (1.0 + drive - m_r);
    d[P0] = PV(k_p0) * pos(m_r - 1.0) - p0 / PV(tau_p0);
    d[PR] = p0 / PV(tau_p0) - PV(k_pout) * (clamp(y[PR], -1e6, 1e6) - 1.0);
    /* MODEL.md 5: window, transit chain (k_tr = n/MTT), spine pools (labile S_new, consolidated
     * new S_nc, stable S_st) */
    double ex = clamp(y[PR] - 1.0, 0.0, 1e6);
    double window = ex / (PV(w50) + ex);
    int n_tr = (int)PV(n_transit);
    double k_tr = (double)n_tr / PV(mtt);
    double in = clamp(y[MT] - 1.0, 0.0, 1e6);
    for (int i = 0; i < 6; i++) {
        double zi = clamp(y[Z1 + i], -1e6, 1e6);
        d[Z1 + i] = i < n_tr ? k_tr * (in - zi) : 0.0;
        in = zi;
    }
    double zlast = clamp(y[Z1 + n_tr - 1], 0.0, 1e6);
    double snew = clamp(y[SNEW], 0.0, 1e6), sst = clamp(y[SST], 0.0, 1e6);
    double snc = clamp(y[SNC], 0.0, 1e6), sx_e = clamp(y[SX], 0.0, 1e6);
    double mm = clamp(y[MOOD], -1e3, 1e3), rth = clamp(y[RTH], 0.0, 1e6);
    double reinf = PV(r_self) * pos(0.5 * (1.0 + mm)) + rth;
    double set_point = pos(1.0 - PV(l_s) * sx_e + PV(phi_a) * clamp(y[ADAPT], 0.0, 1.0));
    /* F = g_F Z_n max(0, 1 + v0 - S_st - S_nc): formation on vacant sites */
    double formation = PV(g_f) * zlast * pos(1.0 + PV(v0) - sst - snc);
    double consol = PV(k_c) * reinf * window * snew;
    /* dS_new/dt = F - k_c Rf W S_new - k_fade S_new;
     * dS_nc/dt = k_c Rf W S_new - (k_nc0 + k_nc_s Sx) S_nc; dS_st/dt = k_h (S_set - S_st) */
    d[SNEW] = formation - consol - PV(k_fade) * snew;
    d[SNC] = consol - (PV(k_nc0) + PV(k_nc_s) * sx_e) * snc;
    d[SST] = PV(k_h) * (set_point - sst);
    /* MODEL.md 7: acute lift (opioid gate 1) */
    double lift = clamp(y[LIFT], -1e6, 1e6);
    d[LIFT] = PV(k_l) * pos(clamp(y[MT] - 1.0, 0.0, 1e6)) - lift / PV(tau_l);
    /* MODEL.md 6: prefrontal control (S_tot = S_st + S_nc + S_new, MODEL.md 5), rumination */
    double s_tot = sst + snc + snew;
    double cp = clamp((s_tot - PV(s_min)) / (1.0 - PV(s_min)), 0.0, 1.2);
    double rum = PV(rum_max) * pos(0.5 * (1.0 - mm)) * pos(1.0 - PV(c_pfc) * cp) *
                 pos(1.0 - PV(kappa_dmn) * clamp(crel, 0.0, 1.0));
    /* MODEL.md 7: tilt, double well, ridge lowered by the window, noise */
    double infl = clamp(y[INFL], -1e6, 1e6), hab = clamp(y[HAB], -1e6, 1e6);
    double tilt = PV(t0) + PV(w_s) * (s_tot - 1.0) + PV(w_l) * lift +
                  PV(w_a) * PV(s_i) * clamp(y[ADAPT], 0.0, 1.0) +
                  PV(w_e) * clamp(y[EXP_], 0.0, 1.0) + PV(w_th) * rth - PV(w_rum) * rum -
                  PV(w_i) * (infl - 1.0) - PV(w_hab) * hab;
    /* the window lowers the landscape height h, the wells stay at +-sqrt(b0/a) */
    double h = clamp(1.0 - PV(lambda_w) * clamp(window, 0.0, 1.0), 1e-6, 1.0);
    double drift = h * (-PV(a_well) * mm * mm * mm + PV(b0) * mm) + tilt;
    d[MOOD] = (drift + clamp(noise(*t), -1e6, 1e6)) / PV(tau_m);
    /* dHab/dt = (H(-m) - Hab)/tau_hab, H(-m) = 1/(1 + exp(m/0.1)) */
    d[HAB] = (1.0 / (1.0 + exp(clamp(mm / 0.1, -700.0, 700.0))) - hab) / PV(tau_hab);
    /* MODEL.md 6: stress and inflammation */
    double sx = clamp(y[SX], -1e6, 1e6);
    d[SX] = (PV(sigma_i) + PV(rho_rum) * rum - sx) / PV(tau_s);
    d[INFL] = (1.0 + PV(a_si) * pos(sx) - infl) / PV(tau_i);
    /* MODEL.md 9: expectation decays, SSRI adaptation to zero occupancy, therapy decays */
    d[EXP_] = -clamp(y[EXP_], -1e6, 1e6) / PV(tau_e);
    d[ADAPT] = -clamp(y[ADAPT], -1e6, 1e6) / PV(tau_a);
    d[RTH] = -clamp(y[RTH], -1e6, 1e6) / PV(ther_tau);
    if (ip[0] >= 2) {
        /* MODEL.md 8: MADRS_true = M_res + (M_dep - M_res)((1 - m)/2 + k_res (1 - C_pfc)
         * (1 + m)/2)(1 - rho), clamped to [0, 60]; graded relief rho = 1 - exp(-(r_L max(L, 0)
         * + r_A s_i max(A, 0) + r_E max(E, 0))) */
        double def = clamp(1.0 - cp, 0.0, 1.0), hi = clamp(0.5 * (1.0 + mm), 0.0, 1.0);
        double xr = PV(r_l) * pos(y[LIFT]) + PV(r_a) * pos(PV(s_i)) * pos(y[ADAPT]) +
                    PV(r_e) * pos(y[EXP_]);
        double keep = exp(-clamp(xr, 0.0, 700.0));
        yout[0] =
            clamp(PV(m_res) + (PV(m_dep) - PV(m_res)) *
                                  (clamp(0.5 * (1.0 - mm), 0.0, 1.0) + PV(k_res) * def * hi) * keep,
                  0.0, 60.0);
        yout[1] = PV(cadss_max) * crel;
    }
}
