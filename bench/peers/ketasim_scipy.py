#!/usr/bin/python3
"""ketasim_scipy.py -- the ketasim model written again for SciPy (solve_ivp), for bench/run.

Reads the population that bench/export_population wrote (DIR/meta.csv, params.csv, doses.csv,
events.csv, noise.csv), integrates the first N patients with solve_ivp (LSODA or BDF) and writes
their noise-free MADRS (madrs_true) on the hourly grid to OUT.csv. Prints one line
"tool=scipy-<method> patients=N wall_s=W cpu_s=C" (C: CPU time of the process).

Usage: ketasim_scipy.py DIR METHOD N RTOL ATOL OUT.csv

The equations are those of the C sources (src/model/pk.c, receptors.c, circuit.c, signalling.c,
plasticity.c, systems.c, mood.c, clinical.c, ssri.c, placebo.c), written here from docs/PK.md
and docs/MODEL.md with the section numbers beside them; where the C code adds a range guard the
text does not state (docs/MODEL.md section 18), the guard is written here too. Terms of drugs and
interventions absent from this course (naltrexone, SSRIs, midazolam, rapamycin, NBQX, anti-BDNF,
stress episodes) are identically zero and omitted: the opioid gate g_op is 1, SERT occupancy,
sedation, AMPA block and mTORC1 inhibition are 0.

The driver reproduces the timeline of src/sim/patient_sim.c: the integration restarts at every
discontinuity (infusion start and end, visit, therapy session, close of a treatment session
2 h after its start); at one time, infusions end, a session closes, events apply, doses start,
then outputs are recorded; CADSS is sampled every minute of a session (and at every stop and
output inside it) for the belief update; the mood noise is the exported hourly path, linearly
interpolated.

Timed: the loop over patients (building each patient's right-hand side and integrating). Not
timed: reading the CSV files, writing the output.
"""
import csv
import math
import sys
import time

import numpy as np
from scipy.integrate import solve_ivp

# State layout: PK of S-ketamine (10 states), of R-ketamine (10), then the 28 mechanism states
# in the order of src/model/pd.h (KS_PD_*).
PK_BLOCK = ["c", "p1", "p2", "liv", "nc", "np", "hc", "ke", "ne", "he"]
NPK = 2 * len(PK_BLOCK)
PD_STATES = ["B_I", "B_P", "Fb", "Glx", "Tol", "Bp", "Bx", "Rk", "M", "P0", "P", "Z1", "Z2",
             "Z3", "Z4", "Z5", "Z6", "S_new", "S_st", "S_nc", "L", "mood", "Hab", "Sx", "Infl", "E",
             "A", "R_th"]
PD = {name: NPK + i for i, name in enumerate(PD_STATES)}
N = NPK + len(PD_STATES)


def clamp(v, lo, hi):
    """v clamped to [lo, hi] (pd_util.h ks_pd_clamp)."""
    return lo if not v >= lo else (hi if v > hi else v)


def pos(v):
    """max(0, v) (pd_util.h ks_pd_pos)."""
    return v if v > 0.0 else 0.0


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def natural_spline_m2(y, h):
    """Second derivatives of the natural cubic spline through y on a uniform grid of step h:
    M[i-1] + 4 M[i] + M[i+1] = 6 (y[i+1] - 2 y[i] + y[i-1]) / h^2, M[0] = M[n-1] = 0 (de Boor,
    A Practical Guide to Splines, ch. IV), solved by Gaussian elimination of the tridiagonal
    system."""
    n = len(y)
    m = [0.0] * n
    if n < 3:
        return m
    diag = [4.0] * n
    rhs = [0.0] * n
    for i in range(1, n - 1):
        rhs[i] = 6.0 * (y[i + 1] - 2.0 * y[i] + y[i - 1]) / (h * h)
    for i in range(2, n - 1):
        w = 1.0 / diag[i - 1]
        diag[i] -= w
        rhs[i] -= w * rhs[i - 1]
    for i in range(n - 2, 0, -1):
        m[i] = (rhs[i] - (m[i + 1] if i + 1 < n - 1 else 0.0)) / diag[i]
    return m


def make_rhs(p, nu):
    """The right-hand side of one patient: p holds its parameters (export_population.c names),
    nu the hourly noise path. Returns (rhs, madrs, cadss, rates) where rates is a 2-list of the
    current infusion rates (umol/h into S and R central) that the driver sets per segment."""
    rates = [0.0, 0.0]
    blk = []
    for e in ("s", "r"):
        blk.append(tuple(p[e + "_" + k] for k in (
            "k_c_p1", "k_p1_c", "k_c_p2", "k_p2_c", "k_c_liv", "k_liv_c", "k_met", "k_el",
            "k_n_np", "k_np_n", "k_n_h", "k_n_out", "k_h_out", "ke0_ket", "ke0_nor", "ke0_hnk",
            "v_c", "v_n", "v_h")))
    g = p  # short alias
    fu, ki_s, ki_r, ki_sn, ki_rn, ki_h = (g["fu_ket"], g["ki_sket"], g["ki_rket"],
                                          g["ki_snorket"], g["ki_rnorket"], g["ki_hnk"])
    mg_i, mg_p, kb_i, kb_p = g["mg_i"], g["mg_p"], g["kb_i"], g["kb_p"]
    dmax, b50, hill, a_p = g["dmax"], g["b50"], g["hill_dis"], g["a_p"]
    g_fb, tau_fb, tau_glx, raw_floor = g["g_fb"], g["tau_fb"], g["tau_glx"], g["raw_floor"]
    x50, gam, cadss_max, k_tol, tau_tol = (g["x50"], g["gamma"], g["cadss_max"], g["k_tol"],
                                           g["tau_tol"])
    b50h, x50g = b50 ** hill, x50 ** gam
    k_rel, k_pd, k_cl, a_e, q_g = g["k_rel"], g["k_pd"], g["k_cl"], g["a_e"], g["q_g"]
    k_trkb, tau_ad, k_m, e_m = g["k_trkb"], g["tau_ad"], g["k_m"], g["e_m"]
    k_p0, tau_p0, k_pout = g["k_p0"], g["tau_p0"], g["k_pout"]
    k_tl = k_rel + k_pd
    w50, n_tr, mtt, g_f, v0 = g["w50"], int(g["n_transit"]), g["mtt"], g["g_f"], g["v0"]
    k_c, k_fade, k_h, l_s, r_self, phi_a = (g["k_c"], g["k_fade"], g["k_h"], g["l_s"],
                                            g["r_self"], g["phi_a"])
    k_nc0, k_nc_s = g["k_nc0"], g["k_nc_s"]
    k_tr = n_tr / mtt
    s_min, rum_max, c_pfc, kappa_dmn = g["s_min"], g["rum_max"], g["c_pfc"], g["kappa_dmn"]
    tau_s, rho_rum, tau_i, a_si, sigma_i = (g["tau_s"], g["rho_rum"], g["tau_i"], g["a_si"],
                                            g["sigma_i"])
    a_w, b0, lam_w, t0, tau_m = g["a_well"], g["b0"], g["lambda_w"], g["t0"], g["tau_m"]
    k_l, tau_l, w_l, w_s, w_a, w_e = (g["k_l"], g["tau_l"], g["w_l"], g["w_s"], g["w_a"],
                                      g["w_e"])
    w_th, w_rum, w_i, w_hab, tau_hab, s_i = (g["w_th"], g["w_rum"], g["w_i"], g["w_hab"],
                                             g["tau_hab"], g["s_i"])
    m_res, m_dep, k_res = g["m_res"], g["m_dep"], g["k_res"]
    r_l, r_a, r_e = g["r_l"], g["r_a"], g["r_e"]
    tau_a, tau_e, ther_tau = g["tau_a"], g["tau_e"], g["ther_tau"]
    nu_list = list(nu)
    n_nu = len(nu_list)
    nu_m2 = natural_spline_m2(nu_list, 1.0)
    exp = math.exp

    def pk_block(x, k, u, d):
        (kcp1, kp1c, kcp2, kp2c, kcl, klc, kmet, kel, knnp, knpn, knh, knout, khout,
         ke0k, ke0n, ke0h, vc, vn, vh) = k
        ac, ap1, ap2, al, nc, npp, h, ce, cne, che = x
        # docs/PK.md section 1 (equations of one enantiomer block)
        d.append(-(kcp1 + kcp2 + kcl) * ac + kp1c * ap1 + kp2c * ap2 + klc * al + u)
        d.append(kcp1 * ac - kp1c * ap1)
        d.append(kcp2 * ac - kp2c * ap2)
        d.append(kcl * ac - (klc + kmet + kel) * al)
        d.append(kmet * al - (knnp + knh + knout) * nc + knpn * npp)
        d.append(knnp * nc - knpn * npp)
        d.append(knh * nc - khout * h)
        # docs/PK.md section 3: dCe/dt = ke0 (A/V - Ce)
        d.append(ke0k * (ac / vc - ce))
        d.append(ke0n * (nc / vn - cne))
        d.append(ke0h * (h / vh - che))

    def noise(t):
        # model.c ks_model_nu: the hourly samples joined by their natural cubic spline
        # (docs/MODEL.md 7 and 15 say "linearly interpolated"; the C code uses the C2 spline,
        # which is followed here), constant beyond the ends of the grid
        if not t > 0.0:
            return nu_list[0]
        if t >= n_nu - 1:
            return nu_list[n_nu - 1]
        k = int(t)
        f = t - k
        g = 1.0 - f
        return (g * nu_list[k] + f * nu_list[k + 1] +
                ((g * g * g - g) * nu_m2[k] + (f * f * f - f) * nu_m2[k + 1]) / 6.0)

    def algebra(y):
        """Receptor and circuit algebra: x_i, x_p, cadss_rel, raw, r_p (MODEL.md 2.1, 3)."""
        cs = clamp(y[7], 0.0, 1e6)
        cr = clamp(y[17], 0.0, 1e6)
        csn = clamp(y[8], 0.0, 1e6)
        crn = clamp(y[18], 0.0, 1e6)
        ch = clamp(y[9], 0.0, 1e6) + clamp(y[19], 0.0, 1e6)
        # MODEL.md 1: unbound = fu x total; 2.1: Gaddum sum over species / Mg shift
        ssum = fu * (cs / ki_s + cr / ki_r + csn / ki_sn + crn / ki_rn + ch / ki_h)
        xc = fu * (cs / ki_s + cr / ki_r) / mg_i  # MODEL.md 3.2: parent drug only
        return ssum / mg_i, ssum / mg_p, xc

    def cadss_rel_of(xc, tol):
        # MODEL.md 3.2: Bc = xc/(1+xc); CADSS_rel = Bc^g/(Bc^g + X50^g) (1 - Tol)
        xc = clamp(xc, 0.0, 1e12)
        bc = xc / (1.0 + xc)
        bg = bc ** gam
        return bg / (bg + x50g) * (1.0 - clamp(tol, 0.0, 1.0))

    def rhs(t, yarr):
        y = yarr.tolist()
        d = []
        pk_block(y[0:10], blk[0], rates[0], d)
        pk_block(y[10:20], blk[1], rates[1], d)
        (bi_, bp_, fb_, glx, tol_, bpool_, bx_, rk_, m_, p0, pr, z1, z2, z3, z4, z5, z6, snew_,
         sst_, snc_, lift, mood, hab, sx, infl, e_, a_, rth_) = y[20:]
        zs = (z1, z2, z3, z4, z5, z6)
        x_i, x_p, xc = algebra(y)
        # MODEL.md 2.1: dB/dt = kb (x (1 - B) - B)
        bi_r = clamp(bi_, -1.0, 2.0)
        bp_r = clamp(bp_, -1.0, 2.0)
        d.append(kb_i * (x_i * (1.0 - bi_r) - bi_r))
        d.append(kb_p * (x_p * (1.0 - bp_r) - bp_r))
        # MODEL.md 3.1: disinhibition, pyramidal drive, feedback, released glutamate
        bi = clamp(bi_, 0.0, 1.0)
        bp = clamp(bp_, 0.0, 1.0)
        fb = clamp(fb_, -0.95, 1e6)
        bh = bi ** hill
        dis = dmax * bh / (b50h + bh)
        raw = max(raw_floor, (1.0 - a_p * bp) * (1.0 + dis))
        r_p = raw / (1.0 + fb)
        ampa = r_p  # AMPA = r_P (1 - occ_AMPA), no blocker in this course
        crel = cadss_rel_of(xc, tol_)
        tol_r = clamp(tol_, -1.0, 2.0)
        d.append((g_fb * (raw - 1.0) - clamp(fb_, -1e6, 1e6)) / tau_fb)
        d.append(((r_p - 1.0) - clamp(glx, -1e6, 1e6)) / tau_glx)
        # MODEL.md 3.2: dTol/dt = k_tol CADSS_rel (1 - Tol) - Tol/tau_tol
        d.append(k_tol * crel * (1.0 - tol_r) - tol_r / tau_tol)
        # MODEL.md 4: BDNF pool and release, TrkB, adapting mTORC1, synaptic proteins
        jrel = clamp(bpool_, 0.0, 1e6) * pos(1.0 + q_g * (clamp(ampa, 0.0, 1e6) - 1.0))
        bf = clamp(bx_, 0.0, 1e6)
        tk = bf * (1.0 + k_trkb) / (bf + k_trkb)
        drive = e_m * pos(tk - clamp(rk_, 0.0, 1e6))
        m_r = clamp(m_, -1e6, 1e6)
        d.append(k_tl * (1.0 + a_e * bp) - k_rel * jrel - k_pd * clamp(bpool_, -1e6, 1e6))
        d.append(k_cl * (jrel - clamp(bx_, -1e6, 1e6)))
        d.append((max(tk, 1.0) - clamp(rk_, -1e6, 1e6)) / tau_ad)
        d.append(k_m * (1.0 + drive - m_r))
        d.append(k_p0 * pos(m_r - 1.0) - clamp(p0, -1e6, 1e6) / tau_p0)
        d.append(clamp(p0, -1e6, 1e6) / tau_p0 - k_pout * (clamp(pr, -1e6, 1e6) - 1.0))
        # MODEL.md 5: window, transit chain, formation, consolidation, fading, elimination of
        # consolidated new spines, homeostasis
        ex = clamp(pr - 1.0, 0.0, 1e6)
        window = ex / (w50 + ex)
        inp = clamp(m_ - 1.0, 0.0, 1e6)
        for i in range(6):
            zi = clamp(zs[i], -1e6, 1e6)
            d.append(k_tr * (inp - zi) if i < n_tr else 0.0)
            inp = zi
        zlast = clamp(zs[n_tr - 1], 0.0, 1e6)
        snew = clamp(snew_, 0.0, 1e6)
        sst = clamp(sst_, 0.0, 1e6)
        snc = clamp(snc_, 0.0, 1e6)
        sx_e = clamp(sx, 0.0, 1e6)
        mm = clamp(mood, -1e3, 1e3)
        rth = clamp(rth_, 0.0, 1e6)
        reinf = r_self * pos(0.5 * (1.0 + mm)) + rth
        set_point = pos(1.0 - l_s * sx_e + phi_a * clamp(a_, 0.0, 1.0))
        # F = g_F Z_n max(0, 1 + v0 - S_st - S_nc): formation on vacant sites
        formation = g_f * zlast * pos(1.0 + v0 - sst - snc)
        consol = k_c * reinf * window * snew
        # dS_new/dt = F - k_c Rf W S_new - k_fade S_new; dS_st/dt = k_h (S_set - S_st);
        # dS_nc/dt = k_c Rf W S_new - (k_nc0 + k_nc_s Sx) S_nc (appended in state order)
        d.append(formation - consol - k_fade * snew)
        d.append(k_h * (set_point - sst))
        d.append(consol - (k_nc0 + k_nc_s * sx_e) * snc)
        # MODEL.md 7: acute lift (opioid gate 1 without naltrexone)
        d.append(k_l * pos(clamp(m_ - 1.0, 0.0, 1e6)) - clamp(lift, -1e6, 1e6) / tau_l)
        # MODEL.md 6: prefrontal control (S_tot = S_st + S_nc + S_new, MODEL.md 5) and rumination
        s_tot = sst + snc + snew
        cp = clamp((s_tot - s_min) / (1.0 - s_min), 0.0, 1.2)
        rum = (rum_max * pos(0.5 * (1.0 - mm)) * pos(1.0 - c_pfc * cp) *
               pos(1.0 - kappa_dmn * clamp(crel, 0.0, 1.0)))
        # MODEL.md 7: tilt, double well with the ridge lowered by the window, noise
        infl_c = clamp(infl, -1e6, 1e6)
        hab_c = clamp(hab, -1e6, 1e6)
        tilt = (t0 + w_s * (s_tot - 1.0) + w_l * clamp(lift, -1e6, 1e6) +
                w_a * s_i * clamp(a_, 0.0, 1.0) + w_e * clamp(e_, 0.0, 1.0) + w_th * rth -
                w_rum * rum - w_i * (infl_c - 1.0) - w_hab * hab_c)
        # the window lowers the landscape height h; the wells stay at +-sqrt(b0/a)
        h = clamp(1.0 - lam_w * clamp(window, 0.0, 1.0), 1e-6, 1.0)
        drift = h * (-a_w * mm * mm * mm + b0 * mm) + tilt
        d.append((drift + clamp(noise(t), -1e6, 1e6)) / tau_m)
        # dHab/dt = (H(-m) - Hab)/tau_hab, H(-m) = 1/(1 + exp(m/0.1))
        d.append((1.0 / (1.0 + exp(clamp(mm / 0.1, -700.0, 700.0))) - hab_c) / tau_hab)
        # MODEL.md 6: stress and inflammation
        sx_c = clamp(sx, -1e6, 1e6)
        d.append((sigma_i + rho_rum * rum - sx_c) / tau_s)
        d.append((1.0 + a_si * pos(sx_c) - infl_c) / tau_i)
        # MODEL.md 9: expectation decays; SSRI adaptation to zero occupancy; therapy decays
        d.append(-clamp(e_, -1e6, 1e6) / tau_e)
        d.append(-clamp(a_, -1e6, 1e6) / tau_a)
        d.append(-clamp(rth_, -1e6, 1e6) / ther_tau)
        return np.array(d)

    def madrs(y):
        # MODEL.md 8: MADRS_true = M_res + (M_dep - M_res)((1 - m)/2 + k_res D (1 + m)/2)(1 - rho),
        # D = 1 - C_pfc, clamped to [0, 60]; graded relief
        # rho = 1 - exp(-(r_L max(L, 0) + r_A s_i max(A, 0) + r_E max(E, 0)))
        mm = clamp(y[PD["mood"]], -1e3, 1e3)
        s_tot = (clamp(y[PD["S_st"]], 0.0, 1e6) + clamp(y[PD["S_nc"]], 0.0, 1e6) +
                 clamp(y[PD["S_new"]], 0.0, 1e6))
        cp = clamp((s_tot - s_min) / (1.0 - s_min), 0.0, 1.2)
        hi = clamp(0.5 * (1.0 + mm), 0.0, 1.0)
        xr = r_l * pos(y[PD["L"]]) + r_a * pos(s_i) * pos(y[PD["A"]]) + r_e * pos(y[PD["E"]])
        keep = exp(-clamp(xr, 0.0, 700.0))
        return clamp(m_res + (m_dep - m_res) * (clamp(0.5 * (1.0 - mm), 0.0, 1.0) + k_res * clamp(1.0 - cp, 0.0, 1.0) * hi) * keep,
                     0.0, 60.0)

    def cadss(y):
        _, _, xc = algebra(y)
        return cadss_max * cadss_rel_of(xc, y[PD["Tol"]])

    return rhs, madrs, cadss, rates


def simulate(p, doses, events, nu, meta, method, rtol, atol):
    """One patient through the timeline of src/sim/patient_sim.c; returns MADRS on the grid."""
    rhs, madrs, cadss, rates = make_rhs(p, nu)
    n_times = int(meta["n_times"])
    t_last = float(n_times - 1)
    sess_h, samp_h = meta["session_h"], meta["session_sample_h"]
    open_label = int(meta["open_label"])
    mw = p["mw_ketamine"]
    # docs/PK.md section 2: racemate split 50/50 by mass, mg -> umol with the molar mass
    dl = [(t, dur, 0.5 * mg / mw * 1000.0 / dur) for (t, dur, mg) in doses]
    y = np.zeros(N)
    for i, name in enumerate(PD_STATES):
        y[NPK + i] = p["init_" + name]
    out = np.empty(n_times)
    st = {"di": 0, "ei": 0, "k": 0, "active": [], "open": False, "t0": 0.0, "j": 0,
          "next": 0.0, "peak": 0.0}

    def apply(t):
        st["active"] = [d for d in st["active"] if not d[0] + d[1] <= t]
        if st["open"] and st["t0"] + sess_h <= t:
            st["peak"] = max(st["peak"], cadss(y))
            # MODEL.md 9 belief update (placebo.c): b = logistic(kappa_b (peak/cadss_max +
            # beta_open open - theta_b)); E += delta_s g_op (2b - 1)(1 - E), E in [0, 1]
            ex = (clamp(st["peak"], 0.0, 1e6) / p["cadss_max"] +
                  (p["beta_open"] if open_label else 0.0) - p["theta_b"])
            b = 1.0 / (1.0 + math.exp(clamp(-p["kappa_b"] * ex, -700.0, 700.0)))
            ee = clamp(y[PD["E"]], 0.0, 1.0)
            y[PD["E"]] = clamp(ee + p["delta_s"] * (2.0 * b - 1.0) * (1.0 - ee), 0.0, 1.0)
            st["open"] = False
        while st["ei"] < len(events) and events[st["ei"]][0] <= t:
            _, kind, mag = events[st["ei"]]
            if kind == "visit":  # MODEL.md 9: E += delta_v g_op (1 - E)
                ee = clamp(y[PD["E"]], 0.0, 1.0)
                y[PD["E"]] = ee + p["delta_v"] * (1.0 - ee)
            elif kind == "therapy":  # MODEL.md 9: R_th += q ther.pulse
                y[PD["R_th"]] += clamp(mag, 0.0, 1e6) * p["ther_pulse"]
            else:
                raise ValueError("event kind not in the benchmark course: " + kind)
            st["ei"] += 1
        while st["di"] < len(dl) and dl[st["di"]][0] <= t:
            st["active"].append(dl[st["di"]])
            st["di"] += 1
            if not st["open"]:  # every ketamine dose starts a session unless one is open
                st.update(open=True, t0=t, j=1, next=t + samp_h, peak=0.0)
        r = sum(d[2] for d in st["active"])
        rates[0] = r
        rates[1] = r
        if st["open"]:
            st["peak"] = max(st["peak"], cadss(y))

    t = 0.0
    while True:
        apply(t)
        while st["k"] < n_times and float(st["k"]) <= t:
            out[st["k"]] = madrs(y)
            st["k"] += 1
        if st["k"] >= n_times:
            break
        tn = math.inf
        if st["di"] < len(dl):
            tn = dl[st["di"]][0]
        for d in st["active"]:
            tn = min(tn, d[0] + d[1])
        if st["ei"] < len(events):
            tn = min(tn, events[st["ei"]][0])
        if st["open"]:
            tn = min(tn, st["t0"] + sess_h)
        te = min(tn, t_last)
        # evaluation points inside (t, te): output times before tn, session samples before te
        pts = []
        k = st["k"]
        while k < n_times and float(k) < tn:
            pts.append((float(k), 1))
            k += 1
        if st["open"]:
            j = st["j"]
            s = st["t0"] + j * samp_h
            while s < te:
                pts.append((s, 2))
                j += 1
                s = st["t0"] + j * samp_h
            st["j"] = j
        merged = {}
        for tq, kind in pts:
            merged[tq] = merged.get(tq, 0) | kind
        pts = sorted(merged.items())
        teval = [q[0] for q in pts if q[0] < te] + [te]
        if te > t:
            sol = solve_ivp(rhs, (t, te), y, method=method, t_eval=teval, rtol=rtol, atol=atol)
            if sol.status != 0:
                raise RuntimeError("solve_ivp failed at t = %g: %s" % (t, sol.message))
            ys = sol.y
        else:
            ys = np.tile(y[:, None], (1, len(teval)))
        for col, (tq, kind) in enumerate([q for q in pts if q[0] < te]):
            yq = ys[:, col]
            if kind & 1:
                out[st["k"]] = madrs(yq)
                st["k"] += 1
            if st["open"]:
                st["peak"] = max(st["peak"], cadss(yq))
        y[:] = ys[:, -1]
        if st["k"] < n_times and float(st["k"]) <= te and te == t_last and tn > t_last:
            out[st["k"]] = madrs(y)  # the last output when no break follows it
            st["k"] += 1
        if st["k"] >= n_times or not math.isfinite(tn):
            break
        t = tn
    return out


def main():
    if len(sys.argv) != 7:
        sys.stderr.write("usage: ketasim_scipy.py DIR METHOD N RTOL ATOL OUT.csv\n")
        return 2
    d, method, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rtol, atol, out_path = float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    hm, rm = read_csv(d + "/meta.csv")
    meta = {k: float(v) for k, v in zip(hm, rm[0])}
    hp, rows = read_csv(d + "/params.csv")
    params = [{k: float(v) for k, v in zip(hp, r)} for r in rows]
    _, drows = read_csv(d + "/doses.csv")
    doses = [[] for _ in params]
    for r in drows:
        doses[int(r[0])].append((float(r[1]), float(r[2]), float(r[3])))
    _, erows = read_csv(d + "/events.csv")
    events = [(float(r[0]), r[1], float(r[2])) for r in erows]
    _, nrows = read_csv(d + "/noise.csv")
    noise = {int(r[0]): [float(v) for v in r[1:]] for r in nrows}
    n = min(n, len(params))
    res = []
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(n):
        res.append(simulate(params[i], doses[i], events, noise[i], meta, method, rtol, atol))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    with open(out_path, "w") as f:
        f.write("id," + ",".join("t%d" % k for k in range(len(res[0]))) + "\n")
        for i, r in enumerate(res):
            f.write("%d," % i + ",".join(repr(float(v)) for v in r) + "\n")
    print("tool=scipy-%s patients=%d wall_s=%.6f cpu_s=%.6f" % (method.lower(), n, wall, cpu))
    return 0


if __name__ == "__main__":
    sys.exit(main())
