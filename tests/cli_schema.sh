#!/usr/bin/env bash
# cli_schema.sh -- schema/scenario.schema.json agrees with the parser: it is a valid draft
# 2020-12 schema, every example scenario satisfies it, and every bad scenario of
# tests/bad_input/ violates it, except the cases that need arithmetic or files (listed below),
# which only ketasim can judge. Skipped when python3 with jsonschema is not installed.
set -u
KS_SRC=${KS_SRC:?KS_SRC must point to the source tree}
if ! python3 -c 'import jsonschema' 2>/dev/null; then
    echo "SKIP: python3 jsonschema not installed"
    exit 0
fi
python3 - "$KS_SRC" <<'PY'
import glob, json, os, sys
import jsonschema

src = sys.argv[1]
schema = json.load(open(os.path.join(src, "schema/scenario.schema.json")))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
# Errors the schema cannot express: products and sums (mg/kg x weight, event and output-time
# counts), comparisons with the span, duplicate keys (lost by JSON readers), files.
arithmetic = {"absurd_mg_per_kg.json", "dose_after_span.json", "dosing_file_missing.json",
              "duplicate_key.json", "step_above_span.json", "time_after_span.json",
              "too_many_events.json", "too_many_times.json", "valid.json",
              "event_after_span.json"}
fail = 0
for f in sorted(glob.glob(os.path.join(src, "examples/scenarios/*.json"))):
    errs = list(v.iter_errors(json.load(open(f))))
    if errs:
        print("FAIL example %s: %s" % (os.path.basename(f), errs[0].message)); fail += 1
for f in sorted(glob.glob(os.path.join(src, "tests/bad_input/*.json"))):
    name = os.path.basename(f)
    try:
        doc = json.load(open(f))
    except ValueError:
        continue  # not JSON at all
    accepted = not list(v.iter_errors(doc))
    if accepted != (name in arithmetic):
        print("FAIL %s: schema %s it" % (name, "accepts" if accepted else "rejects")); fail += 1
print("cli_schema: %s" % ("ok" if fail == 0 else "%d failed" % fail))
sys.exit(1 if fail else 0)
PY
