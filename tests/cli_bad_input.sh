#!/usr/bin/env bash
# cli_bad_input.sh -- the catalogue of bad inputs: every file under tests/bad_input/ is run
# through `ketasim run` (JSON) or `ketasim run --nonmem` (CSV); each must exit 2 with exactly
# one stderr line naming the file, the field and the offending value, and write nothing.
# The unwritable output directory is bad input too: like every bad input it exits 2 and
# leaves nothing.
set -u

KETASIM=${KETASIM:?KETASIM must point to the ketasim command}
KS_SRC=${KS_SRC:?KS_SRC must point to the source tree}
CASES="$KS_SRC/tests/bad_input"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/ks_bad_input.XXXXXX")
trap 'chmod -R u+rwx "$SCRATCH" 2>/dev/null; rm -rf "$SCRATCH"' EXIT

pass=0
fail=0
skip=0

# check MODE FILE EXIT SUBSTRING...
#   MODE json | nonmem; FILE a path; EXIT the expected exit code; every SUBSTRING must occur in
#   the single stderr line (the file's base name is always required).
check() {
    local mode=$1 file=$2 want_exit=$3
    shift 3
    local name out err code msg lines problems=""
    name=$(basename "$file")
    out="$SCRATCH/out.$name"
    err="$SCRATCH/err.$name"
    mkdir -p "$out"
    if [ "$mode" = nonmem ]; then
        "$KETASIM" run --nonmem "$file" --out "$out" --quiet >/dev/null 2>"$err"
    else
        "$KETASIM" run "$file" --out "$out" --quiet >/dev/null 2>"$err"
    fi
    code=$?
    lines=$(wc -l <"$err")
    msg=$(cat "$err")
    [ "$code" -eq "$want_exit" ] || problems+=" exit $code (want $want_exit);"
    [ "$lines" -eq 1 ] || problems+=" $lines stderr lines (want 1);"
    case "$msg" in
    "ketasim: "*) ;;
    *) problems+=" message does not start with 'ketasim: ';" ;;
    esac
    for s in "$name" "$@"; do
        case "$msg" in
        *"$s"*) ;;
        *) problems+=" missing \"$s\";" ;;
        esac
    done
    if [ -n "$(ls -A "$out")" ]; then
        problems+=" output directory not empty: $(ls -A "$out" | tr '\n' ' ');"
    fi
    if [ -z "$problems" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name:$problems"
        echo "     stderr: $msg"
    fi
}

J=json
N=nonmem
C=$CASES

# --- scenario JSON: syntax -----------------------------------------------------------------
check $J "$C/malformed.json" 2 'line 3, column 34' 'malformed JSON' 'got " \"route'
check $J "$C/trailing_garbage.json" 2 'line 2, column 1' 'unexpected text' 'got "}"'
check $J "$C/empty.json" 2 'line 1, column 1' 'empty file' 'got 0 bytes'
check $J "$C/not_object.json" 2 '$: expected an object' 'got an array'
# --- keys ---------------------------------------------------------------------------------
check $J "$C/unknown_key_top.json" 2 '$: unknown key "colour"' 'got "colour"'
check $J "$C/unknown_key_patient.json" 2 '$.patient: unknown key "wieght_kg"' 'got "wieght_kg"'
check $J "$C/unknown_key_dose.json" 2 '$.doses[0]: unknown key "amount"' 'got "amount"'
check $J "$C/duplicate_key.json" 2 '$.span: duplicate key' 'got "span" twice'
# --- types and values ----------------------------------------------------------------------
check $J "$C/wrong_type_weight.json" 2 '$.patient.weight_kg: expected a number' 'got "70"'
check $J "$C/wrong_type_doses.json" 2 '$.doses: expected an array' 'got an object'
check $J "$C/wrong_type_bool.json" 2 '$.patient.east_asian: expected true or false' 'got "yes"'
check $J "$C/negative_dose.json" 2 '$.doses[0].mg: must be > 0' 'got -5)'
check $J "$C/nan_string_dose.json" 2 '$.doses[0].mg: expected a number' 'got "NaN"'
check $J "$C/absurd_dose.json" 2 '$.doses[0].mg' '10000 mg' 'got 50000)'
check $J "$C/infinite_dose.json" 2 '$.doses[0].mg: expected a finite number' 'got Infinity)'
check $J "$C/absurd_mg_per_kg.json" 2 '$.doses[0].mg_per_kg' 'got 200)'
check $J "$C/zero_weight.json" 2 '$.patient.weight_kg: must be >= 20' 'got 0)'
check $J "$C/negative_weight.json" 2 '$.patient.weight_kg: must be >= 20' 'got -70)'
check $J "$C/young_age.json" 2 '$.patient.age_y: must be >= 18' 'got 12)'
check $J "$C/bad_sex.json" 2 '$.patient.sex: expected one of "male", "female"' 'got "m"'
check $J "$C/bad_genotype.json" 2 '$.patient.cyp2b6: expected one of' 'got "*2/*6"'
check $J "$C/unknown_drug.json" 2 '$.doses[0].drug: unknown drug' 'got "ketamin"'
check $J "$C/unknown_route.json" 2 '$.doses[0].route: unknown route' 'got "nasal"'
check $J "$C/unsupported_route.json" 2 '$.doses[0].route: escitalopram cannot be given' \
    'supported routes: oral' 'got "iv_bolus"'
check $J "$C/infusion_neither.json" 2 '$.doses[0]: an iv_infusion needs duration_min or rate_mg_per_h' \
    'got neither'
check $J "$C/infusion_both.json" 2 '$.doses[0].rate_mg_per_h: give exactly one of duration_min, rate_mg_per_h' \
    'got 52.5)'
check $J "$C/two_amounts.json" 2 '$.doses[0].mg_per_kg: give exactly one amount' 'got 0.1)'
check $J "$C/devices_not_nasal.json" 2 '$.doses[0].devices: only for route intranasal' 'got 2)'
check $J "$C/bad_clock.json" 2 '$.doses[0].at_time: expected a clock time' 'got "8am"'
check $J "$C/bad_weekday.json" 2 '$.doses[0].repeat.weekdays[1]: expected a weekday' 'got "fun"'
check $J "$C/repeat_without_count.json" 2 '$.doses[0].repeat.count: missing'
check $J "$C/too_many_events.json" 2 '$.doses[1]: the scenario expands to more than 100000 dose events'
check $J "$C/dose_after_span.json" 2 '$.doses[0].at_h: the dose starts at 100 h' 'got 100)'
check $J "$C/absurd_span.json" 2 '$.span.days' 'at most 5 years' 'got 5000)'
check $J "$C/zero_span.json" 2 '$.span.hours: must be > 0' 'got 0)'
check $J "$C/step_too_small.json" 2 '$.output.step_min' 'at least 1 s' 'got 0.001)'
check $J "$C/step_above_span.json" 2 '$.output.step_min: the output step must not exceed' 'got 3000)'
check $J "$C/too_many_times.json" 2 '$.output.step_min: gives' 'limit of 1000000' 'got 0.5)'
check $J "$C/time_after_span.json" 2 '$.output.times_h[1]: the time is after the end' 'got 30)'
check $J "$C/dosing_file_missing.json" 2 '$.dosing_file: cannot open dosing file' \
    'no_such_records.csv' 'No such file'
check $J "$C/doses_and_file.json" 2 '$.dosing_file: give either doses or dosing_file' \
    'got "nm_time_backwards.csv"'
# --- events, mechanism covariates and switches ----------------------------------------------
check $J "$C/event_unknown_type.json" 2 '$.events[0].type: unknown event type' \
    'visit, therapy, spine_ablation' 'got "psychotherapy"'
check $J "$C/event_interval_no_duration.json" 2 '$.events[0].duration_h: missing' \
    'stress event' 'got neither'
check $J "$C/event_duration_on_point.json" 2 '$.events[0].duration_h: only for the interval events' \
    'this event is therapy' 'got 1.5)'
check $J "$C/event_magnitude_range.json" 2 '$.events[0].magnitude: must be >= 0 and <= 1' \
    'fraction' 'got 1.2)'
check $J "$C/event_after_span.json" 2 '$.events[0].count: the last repeat at 344 h' \
    'after the end of the span (168 h)' 'got 344)'
check $J "$C/failed_trials_fraction.json" 2 '$.patient.failed_trials: expected a whole number' \
    'from 0 to 10' 'got 2.5)'
check $J "$C/baseline_madrs_high.json" 2 '$.patient.baseline_madrs: must be >= 0 and <= 60' \
    'got 64)'
check $J "$C/negative_stress_load.json" 2 '$.patient.stress_load: must be >= 0 and <= 5' \
    'got -0.5)'
check $J "$C/seed_fraction.json" 2 '$.seed: expected a whole number' 'got 3.5)'
check $J "$C/open_label_string.json" 2 '$.open_label: expected true or false' 'got "no"'
# --- files ---------------------------------------------------------------------------------
check $J "$SCRATCH/no_such_scenario.json" 2 'cannot open scenario' 'No such file'
if [ "$(id -u)" -eq 0 ]; then
    echo "SKIP unreadable file: running as root, which reads every file"
    skip=$((skip + 1))
else
    cp "$C/valid.json" "$SCRATCH/unreadable.json"
    chmod 000 "$SCRATCH/unreadable.json"
    check $J "$SCRATCH/unreadable.json" 2 'cannot open scenario' 'Permission denied'
fi

# --- NONMEM records ------------------------------------------------------------------------
check $N "$C/nm_empty.csv" 2 'line 1: empty file' 'got 0 bytes'
check $N "$C/nm_header_only.csv" 2 'line 1: no data rows' 'got 0 rows'
check $N "$C/nm_missing_column.csv" 2 'line 1, column AMT: required column missing'
check $N "$C/nm_unknown_column.csv" 2 'line 1, column DOSEGRP: unknown column' 'got "DOSEGRP"'
check $N "$C/nm_wrong_field_count.csv" 2 'line 3: wrong number of fields' 'got 4)'
check $N "$C/nm_bad_evid.csv" 2 'line 3, column EVID: expected EVID' 'got 7)'
check $N "$C/nm_time_backwards.csv" 2 'line 4, column TIME: time goes backwards within ID 1' \
    'line 3 has TIME 2' 'got 1.5)'
check $N "$C/nm_nonnumeric_amt.csv" 2 'line 2, column AMT: expected a number' 'got "35mg"'
check $N "$C/nm_negative_amt.csv" 2 'line 2, column AMT: dose amount must be > 0' 'got -35)'
check $N "$C/nm_bad_cmt.csv" 2 'line 2, column CMT: not a dosing compartment' 'got 9)'
check $N "$C/nm_unsupported_cmt.csv" 2 'line 2, column CMT: not a dosing compartment' 'got 31)'
check $N "$C/nm_addl_without_ii.csv" 2 'line 2, column II: ADDL 6 additional doses need' 'got 0)'
check $N "$C/nm_ss_without_ii.csv" 2 'line 2, column II: SS 1 needs' 'got no value)'
check $N "$C/nm_rate_oral.csv" 2 'line 2, column RATE: RATE applies only to IV' 'got 5)'
check $N "$C/nm_rate_without_duration.csv" 2 'line 2, column D: RATE -2' 'got no value)'
check $N "$C/nm_id_not_contiguous.csv" 2 'line 4, column ID: rows of one ID must be contiguous' \
    'got 1)'
check $N "$C/nm_covariate_change.csv" 2 'line 3, column WT: covariates must be constant' 'got 75)'
check $N "$C/nm_bad_weight.csv" 2 'line 2, column WT: body weight' 'got 0)'
check $N "$C/nm_unterminated_quote.csv" 2 'line 2: unterminated quote'

# --- unwritable output directory: exit 2, nothing left ------------------------------------
unwritable() {
    local target err code lines msg problems=""
    err="$SCRATCH/err.unwritable"
    if [ "$(id -u)" -eq 0 ]; then
        # root writes everywhere: use a directory below a regular file instead.
        : >"$SCRATCH/plainfile"
        target="$SCRATCH/plainfile/out"
    else
        mkdir -p "$SCRATCH/readonly"
        chmod 555 "$SCRATCH/readonly"
        target="$SCRATCH/readonly"
    fi
    "$KETASIM" run "$C/valid.json" --out "$target" --quiet >/dev/null 2>"$err"
    code=$?
    lines=$(wc -l <"$err")
    msg=$(cat "$err")
    [ "$code" -eq 2 ] || problems+=" exit $code (want 2);"
    [ "$lines" -eq 1 ] || problems+=" $lines stderr lines (want 1);"
    case "$msg" in *"$target"*) ;; *) problems+=" message does not name $target;" ;; esac
    if [ "$(id -u)" -eq 0 ]; then
        [ ! -s "$SCRATCH/plainfile" ] || problems+=" the file below the target was written;"
    else
        [ -z "$(ls -A "$SCRATCH/readonly")" ] || problems+=" files left in $target;"
    fi
    if [ -n "$(find "$SCRATCH" -name '*.tmp.*' -print -quit)" ]; then
        problems+=" temporary file left;"
    fi
    if [ -z "$problems" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL unwritable output directory:$problems"
        echo "     stderr: $msg"
    fi
}
unwritable

# Every file of the catalogue is used above (a new file without a case is a mistake).
for f in "$CASES"/*; do
    b=$(basename "$f")
    [ "$b" = valid.json ] && continue
    grep -q "/$b\"" "$0" || {
        echo "FAIL $b: no case in $(basename "$0")"
        fail=$((fail + 1))
    }
done

echo "cli_bad_input: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
