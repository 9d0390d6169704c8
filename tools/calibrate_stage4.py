#!/usr/bin/env python3
"""calibrate_stage4.py -- stage 4 of the calibration (docs/MODEL.md section 13, docs/CALIBRATION.md):
the population-level mood, clinical, SSRI and placebo parameters, fitted to the TRAINING clinical
and SSRI targets only, with the helpers of tools/calibrate.py (objective, bounded Nelder-Mead on
log parameters, ridge pull to the draft values, writing the table).

The targets are measured on virtual trials (experiments/clinical, experiments/ssri). To keep one
evaluation affordable the script copies those experiment files into a temporary directory with
every n_per_arm and replicate count multiplied by --scale (default 0.25); seeds are fixed, so the
objective uses common random numbers and is a deterministic function of the parameters. The
fitted values are then checked at full size (the experiment files as they are) and, with
--check-seed, at a second seed.

usage: tools/calibrate_stage4.py [--ketasim PATH] [--params FILE] [--dir DIR] [--scale X]
                                 [--max-evals N] [--ridge X] [--dry-run]
"""

import argparse
import glob
import json
import math
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calibrate  # noqa: E402  (shared helpers: Runner, run_stage, table_with)

STAGE4 = {
    "name": "mood, clinical, SSRI, placebo (virtual populations)",
    "free": {
        # the graded-relief weights of the score map (MODEL.md 8) and the parameters that
        # share their targets: expectation, visits, SSRI route, noise, acute lift, residual
        "clin.r_lift": (0.05, 5.0),
        "clin.r_expect": (0.01, 3.0),
        "clin.r_ssri": (0.01, 3.0),
        "mood.w_e": (0.02, 3.0),
        "plc.delta_v": (0.01, 0.6),
        "mood.w_a": (0.005, 1.0),
        "spine.phi_a": (0.003, 0.3),
        "ssri.beta_s": (0.05, 2.0),
        "mood.sigma_nu": (0.05, 0.6),
        "mood.w_l": (0.1, 5.0),
        "clin.k_res": (0.1, 1.0),
    },
    # docs/MODEL.md section 13: role "train"
    "train": ["CL-02", "CL-04", "CL-05", "CL-06", "CL-10", "CL-11", "CL-12", "CL-14",
              "SS-01", "SS-02", "SS-03", "SS-04", "SS-05", "SS-06", "SS-07"],
    "test": ["CL-01", "CL-03", "CL-07", "CL-08", "CL-09", "CL-13", "CL-15", "CL-16", "CL-17",
             "CL-18"],
}
# A free parameter that may be negative (e.g. mood.t0) needs a shift for the log search:
# {"mood.t0": 1.0}. Only free parameters may be listed.
SHIFT = {}


def scaled_copy(src_dir, scale, seed_offset=0):
    """A temporary experiments directory: targets.csv and the trial experiments with n and
    replicates multiplied by `scale` (at least 2 and 5) and seeds shifted by seed_offset."""
    tmp = tempfile.mkdtemp(prefix="ketasim-stage4-")
    shutil.copy(os.path.join(src_dir, "targets.csv"), tmp)
    for sub in ("clinical", "ssri"):
        os.makedirs(os.path.join(tmp, sub), exist_ok=True)
        for path in glob.glob(os.path.join(src_dir, sub, "*.json")):
            with open(path) as f:
                exp = json.load(f)
            for t in exp.get("trials", []):
                tr = t["trial"]
                tr["n_per_arm"] = max(2, int(round(tr.get("n_per_arm", 100) * scale)))
                tr["seed"] = tr.get("seed", 1) + seed_offset
                if "replicates" in t:
                    t["replicates"] = max(5, int(round(t["replicates"] * scale)))
            with open(os.path.join(tmp, sub, os.path.basename(path)), "w") as f:
                json.dump(exp, f)
    return tmp


class ShiftedRunner(calibrate.Runner):
    """Runner whose values for SHIFT parameters are offset (search space -> table)."""

    def validate(self, values, ids):
        v = {k: (x - SHIFT[k] if k in SHIFT else x) for k, x in values.items()}
        return super().validate(v, ids)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ketasim", default=os.path.join(calibrate.ROOT, "build", "ketasim"))
    ap.add_argument("--params", default=os.path.join(calibrate.ROOT, "data", "parameters.csv"))
    ap.add_argument("--dir", default=os.path.join(calibrate.ROOT, "experiments"))
    ap.add_argument("--scale", type=float, default=0.25,
                    help="factor on every trial's n and replicates during the search")
    ap.add_argument("--max-evals", type=int, default=150)
    ap.add_argument("--ridge", type=float, default=0.05)
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args(argv)
    if not os.path.exists(a.ketasim):
        sys.exit("calibrate_stage4.py: %s not found" % a.ketasim)

    def log(msg):
        print(msg, flush=True)

    stage = dict(STAGE4)
    stage["free"] = {k: ((lo + SHIFT.get(k, 0.0)), (hi + SHIFT.get(k, 0.0)))
                     for k, (lo, hi) in STAGE4["free"].items()}
    calibrate.STAGES[4] = stage
    tmp = scaled_copy(a.dir, a.scale)
    runner = ShiftedRunner(a.ketasim, a.params, tmp)
    # the prior of a shifted parameter, in search space
    for k, s in SHIFT.items():
        i, fields = runner.rows[k]
        fields = list(fields)
        fields[1] = calibrate.fmt_value(float(fields[1]) + s)
        runner.rows[k] = (i, fields)
    try:
        fitted, _ = calibrate.run_stage(runner, 4, a.max_evals, a.ridge, log)
    finally:
        runner.close()
        shutil.rmtree(tmp, ignore_errors=True)
    fitted = {k: float(calibrate.fmt_value(v - SHIFT.get(k, 0.0))) for k, v in fitted.items()}
    full = calibrate.Runner(a.ketasim, a.params, a.dir)
    try:
        rows = full.validate(fitted, stage["train"] + stage["test"])
    finally:
        full.close()
    log("  at full size:")
    log(calibrate.describe(rows, stage["train"] + stage["test"]))
    if a.dry_run:
        return
    lines, table = calibrate.read_table(a.params)
    note = "fitted to %s by tools/calibrate_stage4.py" % ", ".join(stage["train"])
    notes = {k: "%s (value before fitting %s)" % (note, table[k][1][1]) for k in fitted}
    with open(a.params, "w", newline="") as f:
        f.write(calibrate.table_with(lines, table, fitted, notes))
    log("  written to %s" % a.params)


if __name__ == "__main__":
    main(sys.argv[1:])
