#!/usr/bin/env bash
# cli_trial.sh -- `ketasim trial`: the default trial runs and its JSON parses; 1 and 2 threads
# give byte-identical JSON; the built-in default equals examples/trials/default.json; --out
# writes the summary, the tidy visit table and the per-patient rows atomically; patients do not
# depend on N (the rows of --n 2 are rows of --n 3); the crossover example runs; every example
# trial satisfies schema/trial.schema.json (when python3 has jsonschema); bad input exits 2
# with one message naming the file and the JSON path.
set -u
KETASIM=${KETASIM:?KETASIM must point to the ketasim command}
KS_SRC=${KS_SRC:?KS_SRC must point to the source tree}
S=$(mktemp -d "${TMPDIR:-/tmp}/ks_trial.XXXXXX")
trap 'rm -rf "$S"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# 1. determinism across threads; the JSON parses
"$KETASIM" trial --n 3 --threads 1 --json --quiet >"$S/t1.json" 2>"$S/err1" || bad "threads 1 exit $? $(cat "$S/err1")"
"$KETASIM" trial --n 3 --threads 2 --json --quiet >"$S/t2.json" 2>"$S/err2" || bad "threads 2 exit $? $(cat "$S/err2")"
if cmp -s "$S/t1.json" "$S/t2.json"; then ok; else bad "--threads 1 and 2 differ"; fi
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["n_per_arm"]==3 and len(d["arms"])==2 and len(d["visits"])==8 and d["arms"][0]["visits"][3]["n"]==3' "$S/t1.json"; then ok; else bad "JSON content"; fi

# 2. the built-in default trial is examples/trials/default.json
"$KETASIM" trial "$KS_SRC/examples/trials/default.json" --n 3 --threads 2 --json --quiet >"$S/ex.json" 2>/dev/null || bad "example default exit $?"
if cmp -s "$S/t1.json" "$S/ex.json"; then ok; else bad "built-in default differs from examples/trials/default.json"; fi

# 3. --out: summary (same as --json), tidy visits, patients; no temporary files left
"$KETASIM" trial --n 3 --threads 2 --out "$S/o3" --patients --quiet 2>/dev/null || bad "--out exit $?"
if cmp -s "$S/o3/trial_summary.json" "$S/t1.json"; then ok; else bad "trial_summary.json differs from --json"; fi
if [ "$(head -1 "$S/o3/trial_visits.csv")" = "arm,visit,time_h,statistic,value" ]; then ok; else bad "visits header"; fi
rows=$(($(wc -l <"$S/o3/trial_patients.csv") - 1))
if [ "$rows" -eq 48 ]; then ok; else bad "patients rows $rows (want 2 arms x 3 x 8 visits = 48)"; fi
if ls "$S/o3" | grep -q tmp; then bad "temporary file left: $(ls "$S/o3")"; else ok; fi

# 4. patients do not depend on N
"$KETASIM" trial --n 2 --threads 1 --out "$S/o2" --patients --quiet 2>/dev/null || bad "--n 2 exit $?"
missing=$(grep -v -x -F -f "$S/o3/trial_patients.csv" "$S/o2/trial_patients.csv" | wc -l)
if [ "$missing" -eq 0 ]; then ok; else bad "$missing rows of --n 2 are not rows of --n 3"; fi

# 5. text table and the crossover design
out=$("$KETASIM" trial "$KS_SRC/examples/trials/zarate2006_crossover.json" --n 2 --threads 2 2>/dev/null)
if [ "$(printf '%s\n' "$out" | tail -1)" = "For research and education; not medical advice." ]; then ok; else bad "table ending"; fi
"$KETASIM" trial "$KS_SRC/examples/trials/zarate2006_crossover.json" --n 2 --json --quiet >"$S/x.json" 2>/dev/null || bad "crossover exit $?"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["design"]=="crossover" and d["contrast"]=="paired t" and d["scale"]=="hdrs17" and d["included"]==2' "$S/x.json"; then ok; else bad "crossover JSON"; fi

# 6. schema
if python3 -c 'import jsonschema, referencing' 2>/dev/null; then
    if python3 - "$KS_SRC" <<'PY'
import glob, json, os, sys
import jsonschema
from referencing import Registry, Resource
src = sys.argv[1]
sc = json.load(open(os.path.join(src, "schema/scenario.schema.json")))
tr = json.load(open(os.path.join(src, "schema/trial.schema.json")))
jsonschema.Draft202012Validator.check_schema(tr)
reg = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s in (sc, tr)])
v = jsonschema.Draft202012Validator(tr, registry=reg)
bad = 0
for f in sorted(glob.glob(os.path.join(src, "examples/trials/*.json"))):
    for e in v.iter_errors(json.load(open(f))):
        print("schema rejects %s: %s" % (os.path.basename(f), e.message)); bad += 1
sys.exit(1 if bad else 0)
PY
    then ok; else bad "schema"; fi
fi

# 7. bad input: exit 2, one stderr line naming the file and the JSON path
check_bad() { # NAME JSON SUBSTRING
    printf '%s' "$2" >"$S/$1"
    "$KETASIM" trial "$S/$1" --n 1 --quiet >/dev/null 2>"$S/err"
    local code=$? lines msg
    lines=$(wc -l <"$S/err")
    msg=$(cat "$S/err")
    if [ $code -eq 2 ] && [ "$lines" -eq 1 ] && [[ "$msg" == *"$1"* ]] && [[ "$msg" == *"$3"* ]]; then ok; else bad "$1: exit $code, $lines lines: $msg"; fi
}
base='"span": {"days": 2}, "visits": [{"h": 2}]'
check_bad unknown_key.json "{$base, \"arms\": [{\"name\": \"a\", \"doses\": []}], \"colour\": 1}" 'unknown key "colour"'
check_bad bad_dose.json "{$base, \"arms\": [{\"name\": \"a\", \"doses\": [{\"drug\": \"ketamine\", \"route\": \"iv_infusion\", \"mg\": -5, \"duration_min\": 40}]}]}" '$.arms[0]'
check_bad bad_visit.json "{\"span\": {\"days\": 2}, \"visits\": [{\"day\": 3}], \"arms\": [{\"name\": \"a\", \"doses\": []}]}" '$.visits[0].day'
check_bad bad_pop.json "{$base, \"arms\": [{\"name\": \"a\", \"doses\": []}], \"population\": {\"failed_trials\": [0.5, 0.2]}}" '$.population.failed_trials'
check_bad bad_json.json "{$base, " 'malformed JSON'
check_bad no_one.json "{$base, \"arms\": [{\"name\": \"a\", \"doses\": []}], \"population\": {\"baseline_madrs\": {\"mean\": 5, \"sd\": 1}, \"inclusion\": {\"min\": 40}}}" '$.population.inclusion'
"$KETASIM" trial "$S/does_not_exist.json" --quiet >/dev/null 2>"$S/err"
if [ $? -eq 2 ] && grep -q does_not_exist "$S/err"; then ok; else bad "missing file"; fi
for args in "--n 0" "--n x" "--threads 0" "--seed -1" "--patients" "--bogus" "--replicates 0" "--alpha 2"; do
    # shellcheck disable=SC2086
    "$KETASIM" trial $args >/dev/null 2>&1
    if [ $? -eq 2 ]; then ok; else bad "option '$args' not rejected with exit 2"; fi
done

echo "cli_trial: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
