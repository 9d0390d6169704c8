#!/usr/bin/env bash
# cli_trial_mpi.sh -- `mpirun -np K ketasim trial`: 1 and 2 ranks (and 2 ranks x 2 threads) give
# byte-identical JSON for the default trial and for a randomised-withdrawal trial with dropout,
# flexible dosing and relapse; the patient rows written by rank 0 are the same too. Skipped
# (0 passed, 0 failed, 1 skipped) only when mpirun is absent.
set -u
KETASIM=${KETASIM:?KETASIM must point to the ketasim command}
KS_SRC=${KS_SRC:?KS_SRC must point to the source tree}
if ! command -v mpirun >/dev/null 2>&1; then
    echo "cli_trial_mpi: 0 passed, 0 failed, 1 skipped (no mpirun)"
    exit 0
fi
S=$(mktemp -d "${TMPDIR:-/tmp}/ks_trial_mpi.XXXXXX")
trap 'rm -rf "$S"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# Open MPI refuses root without --allow-run-as-root; two ranks on a small machine need
# --oversubscribe.
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
# Under the sanitizer build, LeakSanitizer reports Open MPI's own allocations (its plugins are
# unloaded before the report, so they cannot be suppressed by name); leak checking stays on for
# every other test, including the same trials run without MPI (cli_trial, test_trial).
mpi() {
    local np=$1
    shift
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        mpirun -x ASAN_OPTIONS "${flags[@]}" -np "$np" "$KETASIM" "$@"
}

# 1. default trial: 1 process, 1 rank under mpirun, 2 ranks, 2 ranks x 2 threads
"$KETASIM" trial --n 3 --threads 1 --json --quiet >"$S/p.json" 2>"$S/e" || bad "plain exit $? $(cat "$S/e")"
mpi 1 trial --n 3 --threads 1 --json --quiet >"$S/r1.json" 2>"$S/e1" || bad "1 rank exit $? $(cat "$S/e1")"
mpi 2 trial --n 3 --threads 1 --json --quiet >"$S/r2.json" 2>"$S/e2" || bad "2 ranks exit $? $(cat "$S/e2")"
mpi 2 trial --n 3 --threads 2 --json --quiet >"$S/r22.json" 2>/dev/null || bad "2 ranks x 2 threads exit $?"
if [ -s "$S/p.json" ] && cmp -s "$S/p.json" "$S/r1.json"; then ok; else bad "1 rank differs from one process"; fi
if [ -s "$S/r1.json" ] && cmp -s "$S/r1.json" "$S/r2.json"; then ok; else bad "1 and 2 ranks differ"; fi
if cmp -s "$S/r1.json" "$S/r22.json"; then ok; else bad "2 ranks x 2 threads differ"; fi

# 2. a randomised-withdrawal trial with dropout, a flexible-dose step and relapse; rows too
cat >"$S/rw.json" <<'JSON'
{"name": "rw", "seed": 3, "n_per_arm": 5, "span": {"days": 4},
 "arms": [{"name": "ketamine", "doses": [{"drug": "ketamine", "route": "iv_infusion", "mg_per_kg": 0.5,
            "duration_min": 40, "repeat": {"every_days": 2, "count": 2}}],
           "flex_dose": [{"visit": {"day": 1}, "if_improvement_below": 0.3, "factor": 1.5}]},
          {"name": "saline", "doses": []}],
 "phases": [{"name": "induction", "until": {"day": 2}, "arms": ["ketamine"]},
            {"name": "maintenance", "randomise": {"select": "all", "arms": ["ketamine", "saline"]}}],
 "visits": [{"day": 1}, {"day": 2}, {"day": 3}, {"day": 4}],
 "dropout": {"per_visit": 0.1},
 "endpoints": {"reference_arm": "saline", "relapse": {"min_score": 20}}}
JSON
"$KETASIM" trial "$S/rw.json" --threads 1 --json --quiet --out "$S/o1" --patients >"$S/w1.json" 2>"$S/e" || bad "rw plain exit $? $(cat "$S/e")"
mpi 2 trial "$S/rw.json" --threads 1 --json --quiet --out "$S/o2" --patients >"$S/w2.json" 2>/dev/null || bad "rw 2 ranks exit $?"
if [ -s "$S/w1.json" ] && cmp -s "$S/w1.json" "$S/w2.json"; then ok; else bad "rw: 1 process and 2 ranks differ"; fi
if cmp -s "$S/o1/trial_patients.csv" "$S/o2/trial_patients.csv"; then ok; else bad "rw: patient rows differ"; fi
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); w=d["randomised_withdrawal"]; assert w["selected"]+w["not_selected"]<=5 and sum(a["n"] for a in d["arms"])==w["selected"] and "relapse" in d' "$S/w1.json"; then ok; else bad "rw JSON content"; fi

echo "cli_trial_mpi: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
