#!/usr/bin/env python3
"""calibrate.py -- stage-wise calibration of the mechanism parameters (docs/MODEL.md section 13,
docs/CALIBRATION.md).

Each stage frees a fixed list of parameters (STAGES below) and minimises

    J = sum_k ((sim_k - target_k) / half_width_k)^2          numeric training targets
      + sum_k hinge_k                                         bool training targets
      + ridge * sum_i (ln(theta_i / theta_prior_i))^2          weak pull to the draft values

over that stage's TRAINING targets only (held-out targets never enter J), with half_width =
(high - low) / 2. A bool target that holds costs 0; one that does not costs 10 x the share of its
statements that fail, each weighted by (1 + min(1, |relative margin|)) so that the search sees
which way to go. The simulated values come from `ketasim validate --json --only IDS --params FILE
--dir experiments`, run on a copy of data/parameters.csv with the trial values; the stages
simulate one deterministic virtual patient or animal, so J is a smooth deterministic function.

Search: Nelder-Mead (Nelder & Mead 1965; standard coefficients 1, 2, 0.5, 0.5) on the logarithms
of the free parameters, every trial point projected into the stage's bounds; an initial simplex
of +25 % steps; restarts from the best point until a restart no longer improves J by 1e-4.

The fitted values are written back into data/parameters.csv (value, confidence "calibrated",
note "fitted to <ids> by tools/calibrate.py stage N"); comment lines and every other row are
kept as they are. Pure Python 3 standard library.

usage: tools/calibrate.py [--stage N ...] [--ketasim PATH] [--params FILE] [--dir DIR]
                          [--max-evals N] [--ridge X] [--dry-run]
"""

import argparse
import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Stages of docs/MODEL.md section 13: the free parameters with their search bounds, the training
# targets (in J) and the held-out targets of the same layers (reported, never fitted).
STAGES = {
    1: {
        "name": "receptors, circuit, dissociation (typical patient)",
        "free": {
            "circ.dmax": (0.3, 5.0),
            "circ.b50": (0.03, 0.5),
            "circ.a_p": (0.5, 6.0),
            "circ.g_fb": (0.1, 0.95),
            "circ.tau_fb": (0.03, 1.0),
            "rec.mg_i": (2.4, 6.1),  # inside the GluN2C-2D range of Kotermanski & Johnson 2009
            "diss.x50": (0.05, 0.8),
            "diss.gamma": (1.0, 8.0),
            "diss.k_tol": (0.03, 3.0),
        },
        "train": ["AC-02", "AC-04", "GL-01", "GL-02", "GL-04"],
        "test": ["AC-01", "AC-03", "GL-03"],
    },
    2: {
        "name": "signalling (virtual animal)",
        "free": {
            "sig.k_cl": (0.3, 30.0),
            "sig.tau_ad": (0.1, 5.0),
            "sig.e_m": (1.0, 30.0),
            "sig.k_p0": (0.05, 5.0),
        },
        "train": ["MO-01", "MO-03", "MO-04"],
        "test": ["MO-02"],
    },
    3: {
        "name": "structure (virtual animal)",
        "free": {
            "spine.l_s": (0.1, 0.6),
            "spine.g_f": (0.05, 10.0),
            "spine.mtt": (4.0, 48.0),
        },
        "train": ["MO-09", "MO-11", "MO-13"],
        "test": ["MO-05", "MO-12"],
    },
}

BOOL_FAIL = 10.0  # hinge penalty of a bool target that does not hold (docs/MODEL.md 13)
MISSING = 100.0   # a target that could not be measured (simulation or measurement failed)


# --------------------------------------------------------------------------------------------
# The parameter table
# --------------------------------------------------------------------------------------------

def read_table(path):
    """Lines of the table and {name: (line index, fields)} of its data rows."""
    with open(path, newline="") as f:
        lines = f.read().splitlines(keepends=True)
    rows = {}
    for i, line in enumerate(lines):
        if i == 0 or not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = next(csv.reader([line]))
        rows[fields[0]] = (i, fields)
    return lines, rows


def format_row(fields):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()


def fmt_value(v):
    return format(v, ".4g")


def table_with(lines, rows, values, notes=None):
    """The table text with `values` (and optionally confidence and notes) replaced."""
    out = list(lines)
    for name, v in values.items():
        i, fields = rows[name]
        fields = list(fields)
        fields[1] = fmt_value(v)
        if notes is not None:
            fields[4] = "calibrated"
            fields[5] = notes[name]
        eol = "\r\n" if lines[i].endswith("\r\n") else "\n"
        out[i] = format_row(fields).rstrip("\n") + eol
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Running the validation
# --------------------------------------------------------------------------------------------

class Runner:
    def __init__(self, ketasim, table, exp_dir):
        self.ketasim = ketasim
        self.lines, self.rows = read_table(table)
        self.evals = 0
        # a snapshot of the experiments, so that the whole stage sees the same files
        self.workdir = tempfile.mkdtemp(prefix="ketasim-cal-")
        self.exp_dir = os.path.join(self.workdir, "experiments")
        shutil.copytree(exp_dir, self.exp_dir)
        self.tmp = os.path.join(self.workdir, "parameters.csv")

    def close(self):
        shutil.rmtree(self.workdir, ignore_errors=True)

    def validate(self, values, ids):
        """{id: row} of `ketasim validate --json` for the given parameter values."""
        with open(self.tmp, "w", newline="") as f:
            f.write(table_with(self.lines, self.rows, values))
        cmd = [self.ketasim, "validate", "--json", "--only", ",".join(ids), "--params",
               self.tmp, "--dir", self.exp_dir]
        p = subprocess.run(cmd, capture_output=True, text=True)
        self.evals += 1
        if p.returncode not in (0, 1):
            raise RuntimeError("ketasim validate failed (%d): %s" % (p.returncode,
                                                                     p.stderr.strip()))
        return {r["id"]: r for r in json.loads(p.stdout)}


def row_cost(r):
    """Contribution of one training target to J."""
    if r["unit"] == "bool":
        if r["pass"]:
            return 0.0
        det = r.get("detail", "")
        held = det.count(": holds (")
        failed = det.split(": does not hold (relative margin ")[1:]
        if not failed:  # no statement was evaluated: the measurement itself failed
            return MISSING
        cost = 0.0
        for part in failed:
            try:
                m = abs(float(part.split(")")[0]))
            except ValueError:
                m = 1.0
            cost += 1.0 + min(1.0, m)
        return BOOL_FAIL * cost / (2.0 * (held + len(failed)))
    sim = r.get("simulated")
    if not isinstance(sim, (int, float)) or not math.isfinite(sim):
        return MISSING
    half = (r["high"] - r["low"]) / 2.0
    centre = (r["high"] + r["low"]) / 2.0
    if half <= 0:
        return 0.0 if sim == centre else MISSING
    # the published value when it lies in the band, else the band centre
    try:
        target = float(r["target"])
    except (TypeError, ValueError):
        target = centre
    if not (r["low"] <= target <= r["high"]):
        target = centre
    return ((sim - target) / half) ** 2


# --------------------------------------------------------------------------------------------
# Bounded Nelder-Mead on log parameters
# --------------------------------------------------------------------------------------------

def nelder_mead(f, x0, lo, hi, max_evals, step=math.log(1.25), tol=1e-4):
    n = len(x0)
    clip = lambda x: [min(max(x[i], lo[i]), hi[i]) for i in range(n)]
    simplex = [clip(x0)]
    for i in range(n):
        x = list(x0)
        x[i] = x[i] + step if x[i] + step <= hi[i] else x[i] - step
        simplex.append(clip(x))
    fs = [f(x) for x in simplex]
    evals = n + 1
    while evals < max_evals:
        order = sorted(range(n + 1), key=lambda k: fs[k])
        simplex = [simplex[k] for k in order]
        fs = [fs[k] for k in order]
        if fs[-1] - fs[0] <= tol * (abs(fs[0]) + 1e-3):
            break
        centroid = [sum(simplex[k][i] for k in range(n)) / n for i in range(n)]
        worst = simplex[-1]
        xr = clip([centroid[i] + (centroid[i] - worst[i]) for i in range(n)])
        fr = f(xr)
        evals += 1
        if fr < fs[0]:
            xe = clip([centroid[i] + 2.0 * (centroid[i] - worst[i]) for i in range(n)])
            fe = f(xe)
            evals += 1
            if fe < fr:
                simplex[-1], fs[-1] = xe, fe
            else:
                simplex[-1], fs[-1] = xr, fr
        elif fr < fs[-2]:
            simplex[-1], fs[-1] = xr, fr
        else:
            if fr < fs[-1]:
                xc = clip([centroid[i] + 0.5 * (xr[i] - centroid[i]) for i in range(n)])
            else:
                xc = clip([centroid[i] + 0.5 * (worst[i] - centroid[i]) for i in range(n)])
            fc = f(xc)
            evals += 1
            if fc < min(fr, fs[-1]):
                simplex[-1], fs[-1] = xc, fc
            else:  # shrink toward the best point
                for k in range(1, n + 1):
                    simplex[k] = clip([simplex[0][i] + 0.5 * (simplex[k][i] - simplex[0][i])
                                       for i in range(n)])
                    fs[k] = f(simplex[k])
                    evals += 1
    k = min(range(n + 1), key=lambda j: fs[j])
    return simplex[k], fs[k], evals


# --------------------------------------------------------------------------------------------
# Stages
# --------------------------------------------------------------------------------------------

def describe(rows, ids):
    out = []
    for i in ids:
        r = rows.get(i)
        if r is None:
            out.append("  %-6s  (not reported)" % i)
            continue
        sim = r.get("simulated")
        txt = ("%.4g" % sim) if isinstance(sim, (int, float)) else str(sim)
        if r["unit"] == "bool":
            txt = "true" if r["pass"] else "false"
        if r["unit"] == "bool":
            band = "bool"
        elif r.get("low") is None or r.get("high") is None:
            band = "(compare arms) %s" % r["unit"]
        else:
            band = "[%g, %g] %s" % (r["low"], r["high"], r["unit"])
        out.append("  %-6s  %-5s  %-10s  %s" % (i, "PASS" if r["pass"] else "MISS", txt, band))
    return "\n".join(out)


def run_stage(runner, n, max_evals, ridge, log):
    st = STAGES[n]
    names = list(st["free"])
    prior = {k: float(runner.rows[k][1][1]) for k in names}
    lo = [math.log(st["free"][k][0]) for k in names]
    hi = [math.log(st["free"][k][1]) for k in names]
    x0 = [min(max(math.log(prior[k]), lo[i]), hi[i]) for i, k in enumerate(names)]
    train = st["train"]
    cache = {}

    def J(x):
        key = tuple(round(v, 12) for v in x)
        if key in cache:
            return cache[key]
        vals = {k: math.exp(x[i]) for i, k in enumerate(names)}
        rows = runner.validate(vals, train)
        j = sum(row_cost(rows[t]) if t in rows else MISSING for t in train)
        j += ridge * sum((x[i] - math.log(prior[k])) ** 2 for i, k in enumerate(names))
        cache[key] = j
        log("    evaluation %d: J = %.4g, %d of %d training targets pass" %
            (len(cache), j, sum(1 for t in train if t in rows and rows[t]["pass"]), len(train)))
        return j

    log("stage %d: %s" % (n, st["name"]))
    log("  free: " + ", ".join("%s=%s" % (k, fmt_value(prior[k])) for k in names))
    log("  training targets: " + ", ".join(train) + "; held out: " + ", ".join(st["test"]))
    before = runner.validate(prior, train + st["test"])
    log("  before (J = %.4g):" % J(x0))
    log(describe(before, train + st["test"]))
    best_x, best_j = x0, J(x0)
    used = 0
    while used < max_evals:
        x, j, e = nelder_mead(J, best_x, lo, hi, max_evals - used)
        used += e
        improved = best_j - j > 1e-4 * (abs(best_j) + 1e-3)
        if j < best_j:
            best_x, best_j = x, j
        if not improved:
            break
    fitted = {k: float(fmt_value(math.exp(best_x[i]))) for i, k in enumerate(names)}
    after = runner.validate(fitted, train + st["test"])
    log("  after %d evaluations (J = %.4g):" % (len(cache), best_j))
    log("  fitted: " + ", ".join("%s=%s" % (k, fmt_value(fitted[k])) for k in names))
    log(describe(after, train + st["test"]))
    at_bound = [k for i, k in enumerate(names)
                if abs(best_x[i] - lo[i]) < 1e-3 or abs(best_x[i] - hi[i]) < 1e-3]
    if at_bound:
        log("  at a bound: " + ", ".join(at_bound))
    missed = [t for t in train if t in after and not after[t]["pass"]]
    if missed:
        log("  stage %d cannot meet its training targets %s with its free parameters"
            % (n, ", ".join(missed)))
    return fitted, after


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", type=int, action="append", choices=sorted(STAGES),
                    help="stage to run (repeatable; default 1 2 3 in order)")
    ap.add_argument("--ketasim", default=os.path.join(ROOT, "build", "ketasim"),
                    help="the ketasim command (default: build/ketasim)")
    ap.add_argument("--params", default=os.path.join(ROOT, "data", "parameters.csv"),
                    help="parameter table read and updated (default: data/parameters.csv)")
    ap.add_argument("--dir", default=os.path.join(ROOT, "experiments"),
                    help="experiments directory (default: experiments/)")
    ap.add_argument("--max-evals", type=int, default=400,
                    help="largest number of objective evaluations per stage (default 400)")
    ap.add_argument("--ridge", type=float, default=0.05,
                    help="weight of the pull toward the draft values (default 0.05)")
    ap.add_argument("--dry-run", action="store_true", help="do not write the table")
    a = ap.parse_args(argv)
    stages = a.stage or [1, 2, 3]
    if not os.path.exists(a.ketasim):
        sys.exit("calibrate.py: %s not found (build first or pass --ketasim)" % a.ketasim)

    def log(msg):
        print(msg, flush=True)

    for n in stages:
        runner = Runner(a.ketasim, a.params, a.dir)  # reads the table as left by earlier stages
        try:
            fitted, _ = run_stage(runner, n, a.max_evals, a.ridge, log)
        finally:
            runner.close()
        if a.dry_run:
            continue
        note = "fitted to %s by tools/calibrate.py stage %d" % (", ".join(STAGES[n]["train"]), n)
        notes = {k: "%s (value before fitting %s)" % (note, runner.rows[k][1][1]) for k in fitted}
        lines, rows = read_table(a.params)  # the table as it is now: only our rows change
        text = table_with(lines, rows, fitted, notes)
        with open(a.params, "w", newline="") as f:
            f.write(text)
        log("  written to %s" % a.params)


if __name__ == "__main__":
    main(sys.argv[1:])
