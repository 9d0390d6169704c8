#!/usr/bin/python3
"""compare.py -- the table and the ratios line of bench/run.

Usage: compare.py WORKDIR N DAYS
WORKDIR holds results.txt (one "tool=T patients=N wall_s=W cpu_s=C" line per tool run, or
"path=fast unavailable") and madrs_<T>.csv (id, MADRS on the hourly grid) for each tool; T is
one of reference, fast, fast-default, desolve-lsoda, scipy-lsoda, scipy-bdf. N and DAYS are the population
size and course length the timings are scaled to (a tool run on a subsample is timed per
patient and scaled linearly, which the table says).

Every tool runs in one single-threaded process, so its CPU time is its time on one core; the
per-patient figures and the ratios use CPU time, which other work on a shared machine does not
inflate (on an idle machine it equals the wall time, which the table also shows).

maxreldiff of a tool: the largest |MADRS_tool - MADRS_reference| over its patients and the
hourly grid, divided by the range of the MADRS scale (60 points), so that it reads as a
fraction of the score range whatever the patient's own excursion. err(tight): the same
difference from a tight solution (madrs_tight.csv, when present), i.e. each tool's own error.

The ratios compare the faster of ketasim's two paths at the benchmark's tolerances (reference
and fast; every tool gets the same rtol and atol) with the fastest SciPy method and deSolve, and
the ratios line's maxreldiff is the largest of the peers' and of that ketasim path's own: the
agreement of every trajectory the ratios time. The fast path at its default tolerances
(fast-default) is printed for information and enters neither.
"""
import math
import sys

import numpy as np

SCALE_RANGE = 60.0  # MADRS 0-60 (docs/MODEL.md section 8)

ROWS = [
    ("reference", "ketasim reference (CVODE)"),
    ("fast", "ketasim fast path"),
    ("fast-default", "ketasim fast, own tolerances"),
    ("desolve-lsoda", "deSolve lsoda, compiled C rhs"),
    ("scipy-lsoda", "SciPy solve_ivp LSODA"),
    ("scipy-bdf", "SciPy solve_ivp BDF"),
]
PEERS = ("desolve-lsoda", "scipy-lsoda", "scipy-bdf")


def load(path):
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)[:, 1:]


def fmt(x, spec):
    return "n/a" if x is None or not math.isfinite(x) else format(x, spec)


def main():
    work, n_all, days = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    runs = {}
    for line in open(work + "/results.txt"):
        f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        tool = f.get("tool", f.get("path"))
        if tool and "wall_s" in f:
            runs[tool] = (int(f["patients"]), float(f["wall_s"]),
                          float(f.get("cpu_s", f["wall_s"])))
    ref = load(work + "/madrs_reference.csv")
    try:
        tight = load(work + "/madrs_tight.csv")
    except OSError:
        tight = None
    res = {}
    for tool, _ in ROWS:
        if tool not in runs:
            res[tool] = None
            continue
        n, wall, cpu = runs[tool]
        per = cpu / n
        diff = err = None
        m = load(work + "/madrs_%s.csv" % tool)
        if tool != "reference":
            diff = float(np.max(np.abs(m - ref[: m.shape[0], :]))) / SCALE_RANGE
        if tight is not None:
            err = float(np.max(np.abs(m - tight[: m.shape[0], :]))) / SCALE_RANGE
        res[tool] = {"n": n, "wall": wall, "per": per, "cpu_all": per * n_all, "diff": diff,
                     "err": err}
    head = "%-30s %8s %10s %11s %11s %12s %11s %11s"
    print(head % ("tool", "patients", "wall_s", "cpu_s@%d" % n_all, "ms/patient",
                  "pat-days/s/core", "maxreldiff", "err(tight)"))
    for tool, label in ROWS:
        r = res[tool]
        if r is None:
            print(head % (label, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a"))
            continue
        scaled = "" if r["n"] == n_all else "  (timed on %d, scaled)" % r["n"]
        print("%-30s %8d %10.2f %11s %11s %15s %11s %11s%s" % (
            label, r["n"], r["wall"], fmt(r["cpu_all"], ".2f"), fmt(1e3 * r["per"], ".2f"),
            fmt(days / r["per"], ".1f"), "(reference)" if tool == "reference"
            else fmt(r["diff"], ".2e"), fmt(r["err"], ".2e"), scaled))
    ket = [(res[t]["per"], t) for t in ("reference", "fast") if res[t]]
    ket_best, ket_tool = min(ket)
    scipy = [res[t]["per"] for t in ("scipy-lsoda", "scipy-bdf") if res[t]]
    desolve = res["desolve-lsoda"]["per"] if res["desolve-lsoda"] else float("nan")
    diffs = [res[t]["diff"] for t in PEERS if res[t]]
    if ket_tool != "reference":
        diffs.append(res[ket_tool]["diff"])
    with open(work + "/ratios.txt", "w") as f:
        f.write("ratios: desolve/ketasim=%s scipy/ketasim=%s maxreldiff=%s\n" % (
            fmt(desolve / ket_best, ".3g"), fmt(min(scipy) / ket_best if scipy else math.nan,
                                                  ".3g"),
            fmt(max(diffs) if diffs else math.nan, ".3g")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
