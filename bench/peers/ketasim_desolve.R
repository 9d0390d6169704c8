# ketasim_desolve.R -- the benchmark population through R's deSolve (lsoda) with the compiled
# right-hand side ketasim_desolve.c (R CMD SHLIB), for bench/run.
#
# Usage: Rscript ketasim_desolve.R DIR N RTOL ATOL OUT.csv LIB.so
# Reads DIR/meta.csv, params.csv, doses.csv, events.csv, noise.csv (bench/export_population),
# integrates the first N patients and writes their noise-free MADRS on the hourly grid to
# OUT.csv. Prints one line "tool=desolve-lsoda patients=N wall_s=W cpu_s=C" (C: CPU time).
#
# The driver reproduces the timeline of src/sim/patient_sim.c exactly as ketasim_scipy.py does:
# lsoda restarts at every discontinuity (infusion start and end, visit, therapy session, close
# of a treatment session 2 h after its start); at one time infusions end, a session closes,
# events apply, doses start, then outputs are recorded; CADSS is sampled every minute of a
# session (and at every stop and output inside it) for the belief update (docs/MODEL.md 9).
# Timed: the loop over patients. Not timed: reading the CSV files, writing the output.

suppressMessages(library(deSolve))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 6) {
  stop("usage: Rscript ketasim_desolve.R DIR N RTOL ATOL OUT.csv LIB.so")
}
dir <- args[1]
n_req <- as.integer(args[2])
rtol <- as.numeric(args[3])
atol <- as.numeric(args[4])
out_path <- args[5]
lib <- args[6]
dyn.load(lib)
dll <- sub("\\.[^.]*$", "", basename(lib))

# Same order as PARS in ketasim_desolve.c.
PK_FIELDS <- c("k_c_p1", "k_p1_c", "k_c_p2", "k_p2_c", "k_c_liv", "k_liv_c", "k_met", "k_el",
               "k_n_np", "k_np_n", "k_n_h", "k_n_out", "k_h_out", "ke0_ket", "ke0_nor",
               "ke0_hnk", "v_c", "v_n", "v_h")
PARNAMES <- c(paste0("s_", PK_FIELDS), paste0("r_", PK_FIELDS),
  "fu_ket", "ki_sket", "ki_rket", "ki_snorket", "ki_rnorket", "ki_hnk", "mg_i", "mg_p",
  "kb_i", "kb_p", "dmax", "b50", "hill_dis", "a_p", "g_fb", "tau_fb", "tau_glx", "raw_floor",
  "x50", "gamma", "cadss_max", "k_tol", "tau_tol", "k_rel", "k_pd", "k_cl", "a_e", "q_g",
  "k_trkb", "tau_ad", "k_m", "e_m", "k_p0", "tau_p0", "k_pout", "w50", "n_transit", "mtt",
  "g_f", "v0", "k_c", "k_fade", "k_h", "k_nc0", "k_nc_s", "l_s", "r_self", "phi_a", "s_min",
  "rum_max", "c_pfc", "kappa_dmn", "tau_s", "rho_rum", "tau_i", "a_si", "sigma_i", "a_well", "b0",
  "lambda_w",
  "t0", "tau_m", "k_l", "tau_l", "w_l", "w_s", "w_a", "w_e", "w_th", "w_rum", "w_i", "w_hab",
  "tau_hab", "s_i", "m_res", "m_dep", "tau_a", "tau_e", "ther_tau", "k_res", "r_l", "r_a",
  "r_e")
NP <- length(PARNAMES)
NU_MAX <- 4096
PD_STATES <- c("B_I", "B_P", "Fb", "Glx", "Tol", "Bp", "Bx", "Rk", "M", "P0", "P", "Z1", "Z2",
               "Z3", "Z4", "Z5", "Z6", "S_new", "S_st", "S_nc", "L", "mood", "Hab", "Sx", "Infl",
               "E", "A", "R_th")
NPK <- 20
NSTATE <- NPK + length(PD_STATES)
# Indices (1-based) of the mechanism states the driver reads, by name.
I_PD <- function(name) NPK + match(name, PD_STATES)
I_TOL <- I_PD("Tol")
I_SNEW <- I_PD("S_new")
I_SST <- I_PD("S_st")
I_SNC <- I_PD("S_nc")
I_L <- I_PD("L")
I_MOOD <- I_PD("mood")
I_E <- I_PD("E")
I_A <- I_PD("A")
I_RTH <- I_PD("R_th")

meta <- read.csv(file.path(dir, "meta.csv"))
P <- read.csv(file.path(dir, "params.csv"))
D <- read.csv(file.path(dir, "doses.csv"))
EV <- read.csv(file.path(dir, "events.csv"), stringsAsFactors = FALSE)
NU <- as.matrix(read.csv(file.path(dir, "noise.csv")))[, -1, drop = FALSE]
n_times <- meta$n_times
t_last <- n_times - 1
sess_h <- meta$session_h
samp_h <- meta$session_sample_h
open_label <- meta$open_label
n_nu <- meta$n_nu
if (n_nu > NU_MAX) stop("noise path longer than NU_MAX")
n <- min(n_req, nrow(P))

clamp <- function(v, lo, hi) if (!(v >= lo)) lo else if (v > hi) hi else v

# CADSS at state y (MODEL.md 1, 3.2), for the belief update at a stop.
cadss_of <- function(p, y) {
  cs <- clamp(y[8], 0, 1e6); cr <- clamp(y[18], 0, 1e6)
  xc <- clamp(p[["fu_ket"]] * (cs / p[["ki_sket"]] + cr / p[["ki_rket"]]) / p[["mg_i"]], 0, 1e12)
  bc <- xc / (1 + xc)
  bg <- bc^p[["gamma"]]
  p[["cadss_max"]] * bg / (bg + p[["x50"]]^p[["gamma"]]) * (1 - clamp(y[I_TOL], 0, 1))
}

# MODEL.md 8: MADRS_true at state y (S_tot = S_st + S_nc + S_new, MODEL.md 5).
madrs_of <- function(p, y) {
  mm <- clamp(y[I_MOOD], -1e3, 1e3)
  s_tot <- clamp(y[I_SST], 0, 1e6) + clamp(y[I_SNC], 0, 1e6) + clamp(y[I_SNEW], 0, 1e6)
  cp <- clamp((s_tot - p[["s_min"]]) / (1 - p[["s_min"]]), 0, 1.2)
  def <- clamp(1 - cp, 0, 1)
  # graded relief rho = 1 - exp(-(r_L max(L, 0) + r_A s_i max(A, 0) + r_E max(E, 0)))
  xr <- p[["r_l"]] * max(y[I_L], 0) + p[["r_a"]] * max(p[["s_i"]], 0) * max(y[I_A], 0) +
    p[["r_e"]] * max(y[I_E], 0)
  keep <- exp(-clamp(xr, 0, 700))
  clamp(p[["m_res"]] + (p[["m_dep"]] - p[["m_res"]]) *
          (clamp(0.5 * (1 - mm), 0, 1) + p[["k_res"]] * def * clamp(0.5 * (1 + mm), 0, 1)) * keep,
        0, 60)
}

simulate <- function(i) {
  p <- unlist(P[i, ])
  nu <- as.numeric(NU[i, ])
  pv <- numeric(NP + 4 + NU_MAX)
  pv[1:NP] <- p[PARNAMES]
  pv[NP + 1] <- NP
  pv[NP + 4] <- n_nu
  pv[(NP + 5):(NP + 4 + NU_MAX)] <- c(nu, rep(nu[n_nu], NU_MAX - n_nu))
  dd <- D[D$id == i - 1, ]
  # docs/PK.md section 2: racemate split 50/50 by mass, mg -> umol with the molar mass
  dt <- dd$t_h; ddur <- dd$duration_h
  drate <- 0.5 * dd$amount_mg / p[["mw_ketamine"]] * 1000 / ddur
  nd <- length(dt); ne <- nrow(EV)
  y <- numeric(NSTATE)
  y[(NPK + 1):NSTATE] <- p[paste0("init_", PD_STATES)]
  out <- numeric(n_times)
  di <- 1; ei <- 1; k <- 0; active <- integer(0)
  sess_open <- FALSE; sess_t0 <- 0; sess_j <- 0; peak <- 0
  t <- 0
  repeat {
    # ---- discontinuities at t (order of src/sim/patient_sim.c) ----
    active <- active[!(dt[active] + ddur[active] <= t)]
    if (sess_open && sess_t0 + sess_h <= t) {
      peak <- max(peak, cadss_of(p, y))
      ex <- clamp(peak, 0, 1e6) / p[["cadss_max"]] +
        (if (open_label != 0) p[["beta_open"]] else 0) - p[["theta_b"]]
      b <- 1 / (1 + exp(clamp(-p[["kappa_b"]] * ex, -700, 700)))
      ee <- clamp(y[I_E], 0, 1)
      y[I_E] <- clamp(ee + p[["delta_s"]] * (2 * b - 1) * (1 - ee), 0, 1)
      sess_open <- FALSE
    }
    while (ei <= ne && EV$t_h[ei] <= t) {
      if (EV$kind[ei] == "visit") {
        ee <- clamp(y[I_E], 0, 1)
        y[I_E] <- ee + p[["delta_v"]] * (1 - ee)
      } else if (EV$kind[ei] == "therapy") {
        y[I_RTH] <- y[I_RTH] + clamp(EV$magnitude[ei], 0, 1e6) * p[["ther_pulse"]]
      } else {
        stop("event kind not in the benchmark course: ", EV$kind[ei])
      }
      ei <- ei + 1
    }
    while (di <= nd && dt[di] <= t) {
      active <- c(active, di)
      if (!sess_open) {
        sess_open <- TRUE; sess_t0 <- t; sess_j <- 1; peak <- 0
      }
      di <- di + 1
    }
    u <- sum(drate[active])
    pv[NP + 2] <- u
    pv[NP + 3] <- u
    if (sess_open) peak <- max(peak, cadss_of(p, y))
    while (k < n_times && k <= t) {
      out[k + 1] <- madrs_of(p, y)
      k <- k + 1
    }
    if (k >= n_times) break
    # ---- next break and the evaluation points before it ----
    tn <- Inf
    if (di <= nd) tn <- dt[di]
    if (length(active)) tn <- min(tn, dt[active] + ddur[active])
    if (ei <= ne) tn <- min(tn, EV$t_h[ei])
    if (sess_open) tn <- min(tn, sess_t0 + sess_h)
    te <- min(tn, t_last)
    kk <- k:(n_times - 1)
    outs <- kk[kk < tn]
    samp <- numeric(0)
    if (sess_open) {
      js <- sess_j:(sess_j + ceiling((te - t) / samp_h) + 2)
      s <- sess_t0 + js * samp_h
      samp <- s[s < te]
      sess_j <- sess_j + length(samp)
    }
    pts <- sort(unique(c(outs, samp)))
    inner <- pts[pts < te]
    tv <- c(t, inner, te)
    res <- lsoda(y = y, times = tv, func = "derivs", parms = pv, dllname = dll,
                 initfunc = "initmod", nout = 2, rtol = rtol, atol = atol, maxsteps = 100000)
    if (nrow(res) != length(tv)) stop("lsoda failed at t = ", t)
    m_col <- NSTATE + 2
    if (length(inner)) {
      rows <- 1 + seq_along(inner)
      is_out <- inner %in% outs
      if (any(is_out)) {
        out[k + seq_len(sum(is_out))] <- res[rows[is_out], m_col]
        k <- k + sum(is_out)
      }
      if (sess_open) peak <- max(peak, res[rows, m_col + 1])
    }
    y <- as.numeric(res[nrow(res), 2:(NSTATE + 1)])
    if (k < n_times && k <= te && te == t_last && tn > t_last) {
      out[k + 1] <- res[nrow(res), m_col]
      k <- k + 1
    }
    if (k >= n_times || !is.finite(tn)) break
    t <- tn
  }
  out
}

res <- matrix(0, n, n_times)
t0 <- proc.time()
for (i in 1:n) res[i, ] <- simulate(i)
dt <- proc.time() - t0
wall <- dt[["elapsed"]]
cpu <- dt[["user.self"]] + dt[["sys.self"]]
df <- data.frame(id = 0:(n - 1), res)
names(df) <- c("id", paste0("t", 0:(n_times - 1)))
write.csv(df, out_path, row.names = FALSE)
cat(sprintf("tool=desolve-lsoda patients=%d wall_s=%.6f cpu_s=%.6f\n", n, wall, cpu))
